/* SPDX-License-Identifier: BSD-3-Clause */
/* §16.7 response processing: each step, and a table of best-response cases. */
#include "proxy_fixture.h"

TestSuite(proxy_response, .init = fxp_setup, .fini = fxp_teardown);

static bool to_uac(unsigned i)
{
	return fx.sent[i].dst.addr[3] == 100 && fx.sent[i].dst.port == 5060;
}

/* n bindings of bob (UAS .201 ... .20n, equal q: parallel); returns the
 * forwarded INVITEs' indices in idx[]. */
static void fork_n(unsigned n, int idx[])
{
	static const char *contacts[] = { "sip:bob@192.0.2.201:5060", "sip:bob@192.0.2.202:5060",
					  "sip:bob@192.0.2.203:5060", "sip:bob@192.0.2.204:5060" };
	for (unsigned i = 0; i < n; i++)
		fxp_bind("bob", contacts[i], 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	for (unsigned i = 0; i < n; i++) {
		char pfx[64];
		snprintf(pfx, sizeof(pfx), "INVITE %s ", contacts[i]);
		idx[i] = fxp_find(0, pfx);
		cr_assert_geq(idx[i], 0, "branch %u not forwarded", i);
	}
}

/* Final responses to the UAC (anything but 1xx); retransmissions of the
 * same final (Timer G) count once. */
static int finals_to_uac(int *last)
{
	int n = 0;
	for (unsigned i = 0; i < fx.nsent; i++) {
		if (!to_uac(i) || strncmp(fx.sent[i].data, "SIP/2.0 ", 8) != 0 ||
		    fx.sent[i].data[8] == '1')
			continue;
		if (n > 0 && strcmp(fx.sent[i].data, fx.sent[*last].data) == 0)
			continue;
		n++;
		*last = (int)i;
	}
	return n;
}

static uint16_t status_of(int i)
{
	return (uint16_t)atoi(fx.sent[i].data + 8);
}

/* ---- step by step ---- */

Test(proxy_response, step5_100_absorbed_180_and_200_forwarded)
{
	int b[1];
	fork_n(1, b);
	unsigned n = fx.nsent;
	fxp_reply((unsigned)b[0], 100, NULL, NULL);
	cr_assert_eq(fx.nsent, n);
	fxp_reply((unsigned)b[0], 183, "t1", NULL);
	cr_assert_eq(fx.nsent, n + 1);
	cr_assert(to_uac(n));
	fxp_reply((unsigned)b[0], 200, "t1", NULL);
	cr_assert_eq(fx.nsent, n + 2);
	cr_assert(strncmp(fxp_text(n + 1), "SIP/2.0 200", 11) == 0);
	/* A 2xx retransmission from the UAS goes through too (RFC 6026). */
	fxp_reply((unsigned)b[0], 200, "t1", NULL);
	cr_assert_eq(fx.nsent, n + 3);
}

Test(proxy_response, step3_response_without_further_via_consumed)
{
	int b[1];
	fork_n(1, b);
	/* A response carrying only our Via (as to a request of ours). */
	char rsp[2048];
	snprintf(rsp, sizeof(rsp),
		 "SIP/2.0 180 Ringing\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\n"
		 "From: Alice <sip:alice@example.com>;tag=1928301774\n"
		 "To: Bob <sip:bob@example.com>;tag=x\n"
		 "Call-ID: call1@192.0.2.100\n"
		 "CSeq: 1 INVITE\n"
		 "Content-Length: 0\n\n", fxp_branch((unsigned)b[0]));
	unsigned n = fx.nsent;
	fxp_rx(rsp, FX_UAS(201));
	cr_assert_eq(fx.nsent, n);
	cr_assert_eq(fxp_stats()->drops[SPL_PROXY_DROP_RSP_FOR_US], 1);
}

Test(proxy_response, step5_second_2xx_after_final_forwarded)
{
	int b[2];
	fork_n(2, b);
	fxp_reply((unsigned)b[0], 200, "t1", NULL);
	fxp_reply((unsigned)b[1], 200, "t2", NULL);
	int last;
	cr_assert_eq(finals_to_uac(&last), 2, "both 2xx reach the UAC");
	cr_assert(fxp_has((unsigned)last, "tag=t2"));
}

Test(proxy_response, step10_cancel_pending_after_2xx)
{
	int b[2];
	fork_n(2, b);
	fxp_reply((unsigned)b[1], 180, "t2", NULL);
	unsigned n = fx.nsent;
	fxp_reply((unsigned)b[0], 200, "t1", NULL);
	int c = fxp_find(n, "CANCEL sip:bob@192.0.2.202:5060 SIP/2.0");
	cr_assert_geq(c, 0, "pending branch cancelled");
	cr_assert_str_eq(fxp_branch((unsigned)c), fxp_branch((unsigned)b[1]), "CANCEL has the INVITE's branch");
	cr_assert_str_eq(fxp_hdr((unsigned)c, "CSeq"), "1 CANCEL");
	cr_assert_eq(fxp_msg((unsigned)c)->nvias, 1);
	/* The 487 that follows is not forwarded: a final went out already. */
	unsigned m = fx.nsent;
	fxp_reply((unsigned)c, 200, "t2", NULL);   /* 200 to our CANCEL: for us */
	fxp_reply((unsigned)b[1], 487, "t2", NULL);
	for (unsigned i = m; i < fx.nsent; i++)
		cr_assert(!to_uac(i) || strncmp(fxp_text(i), "SIP/2.0 487", 11) != 0);
	int last;
	cr_assert_eq(finals_to_uac(&last), 1);
	cr_assert_eq(status_of(last), 200);
	cr_assert_geq(fxp_find(m, "ACK sip:bob@192.0.2.202"), 0, "the 487 is ACKed hop by hop");
}

Test(proxy_response, step5_6xx_cancels_others_and_waits)
{
	int b[2];
	fork_n(2, b);
	fxp_reply((unsigned)b[1], 180, "t2", NULL);
	unsigned n = fx.nsent;
	fxp_reply((unsigned)b[0], 603, "t1", NULL);
	int last;
	cr_assert_eq(finals_to_uac(&last), 0, "the 6xx waits for the other branches");
	cr_assert_geq(fxp_find(n, "CANCEL sip:bob@192.0.2.202"), 0);
	fxp_reply((unsigned)b[1], 487, "t2", NULL);
	cr_assert_eq(finals_to_uac(&last), 1);
	cr_assert_eq(status_of(last), 603);
	cr_assert(fxp_has((unsigned)last, "tag=t1"));
}

Test(proxy_response, step7_challenges_aggregated)
{
	int b[3];
	fork_n(3, b);
	fxp_reply((unsigned)b[0], 401, "t1", "WWW-Authenticate: Digest realm=\"a.example\", nonce=\"1\"");
	fxp_reply((unsigned)b[1], 407, "t2", "Proxy-Authenticate: Digest realm=\"b.example\", nonce=\"2\"");
	fxp_reply((unsigned)b[2], 404, "t3", NULL);
	int last;
	cr_assert_eq(finals_to_uac(&last), 1);
	cr_assert_eq(status_of(last), 401);
	cr_assert(fxp_has((unsigned)last, "WWW-Authenticate: Digest realm=\"a.example\", nonce=\"1\""));
	cr_assert(fxp_has((unsigned)last, "Proxy-Authenticate: Digest realm=\"b.example\", nonce=\"2\""),
		  "%s", fxp_text((unsigned)last));
	cr_assert_eq(fxp_msg((unsigned)last)->nvias, 1);
	cr_assert_eq(fxp_stats()->auth_aggregated, 1);
}

Test(proxy_response, no_transaction_top_via_ours_forwarded_by_second_via)
{
	const char *rsp =
		"SIP/2.0 200 OK\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsl0123456789abcdef.0123456789abcdef\n"
		"Via: SIP/2.0/UDP 192.0.2.100:5062;branch=z9hG4bKuac9;received=192.0.2.100;rport=41000\n"
		"From: <sip:alice@example.com>;tag=1\n"
		"To: <sip:bob@example.com>;tag=2\n"
		"Call-ID: late\n"
		"CSeq: 1 INVITE\n"
		"Content-Length: 0\n\n";
	fxp_rx(rsp, FX_UAS(200));
	cr_assert_eq(fx.nsent, 1);
	cr_assert_eq(fx.sent[0].dst.port, 41000, "rport of the next Via");
	cr_assert_eq(fxp_msg(0)->nvias, 1);
	cr_assert_eq(fxp_stats()->stateless_responses, 1);
}

Test(proxy_response, no_transaction_top_via_not_ours_dropped)
{
	const char *rsp =
		"SIP/2.0 200 OK\n"
		"Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKother\n"
		"Via: SIP/2.0/UDP 192.0.2.100:5060;branch=z9hG4bKuac9\n"
		"From: <sip:alice@example.com>;tag=1\n"
		"To: <sip:bob@example.com>;tag=2\n"
		"Call-ID: stray\n"
		"CSeq: 1 INVITE\n"
		"Content-Length: 0\n\n";
	fxp_rx(rsp, FX_UAS(200));
	cr_assert_eq(fx.nsent, 0);
	cr_assert_eq(fxp_stats()->drops[SPL_PROXY_DROP_RSP_NOT_OURS], 1);
}

/* ---- best response (step 6) ---- */

struct best_case {
	unsigned n;
	uint16_t st[4];         /* replies in branch order; 0: never answers */
	uint16_t want;
};

static void run_best(const struct best_case *c)
{
	int b[4];
	fork_n(c->n, b);
	for (unsigned i = 0; i < c->n; i++)
		if (c->st[i])
			fxp_reply((unsigned)b[i], c->st[i], i == 0 ? "t0" : i == 1 ? "t1" : "t2", NULL);
	fxp_run_to(40 * SEC);   /* Timer B (64*T1) for the silent ones */
	int last = -1;
	cr_assert_eq(finals_to_uac(&last), 1);
	cr_assert_eq(status_of(last), c->want, "got %u, want %u", status_of(last), c->want);
}

#define BEST(name, want_, n_, ...) \
	Test(proxy_response, best_##name) \
	{ \
		run_best(&(struct best_case){ .n = (n_), .st = { __VA_ARGS__ }, .want = (want_) }); \
	}

BEST(first_of_equal_4xx, 486, 2, 486, 404)
BEST(preferred_4xx_401, 401, 2, 404, 401)
BEST(preferred_4xx_484, 484, 3, 480, 484, 486)
BEST(lone_503_becomes_500, 500, 1, 503)
BEST(503_loses_to_404, 404, 2, 503, 404)
BEST(lowest_class_4xx_over_5xx, 486, 2, 500, 486)
BEST(3xx_over_4xx, 302, 2, 486, 302)
BEST(6xx_over_all, 600, 3, 302, 600, 486)
BEST(6xx_over_3xx_late, 603, 2, 302, 603)
BEST(all_timeouts_408, 408, 2, 0, 0)
BEST(timeout_with_404, 404, 2, 0, 404)
BEST(timeout_beats_503, 408, 2, 0, 503)
BEST(lone_500_forwarded, 500, 1, 500)

Test(proxy_response, best_6xx_then_2xx_race)
{
	int b[2];
	fork_n(2, b);
	fxp_reply((unsigned)b[0], 603, "t0", NULL);
	fxp_reply((unsigned)b[1], 200, "t1", NULL);
	int last;
	cr_assert_eq(finals_to_uac(&last), 1, "the 2xx goes, the 6xx never does");
	cr_assert_eq(status_of(last), 200);
}

Test(proxy_response, best_2xx_then_6xx_race)
{
	int b[2];
	fork_n(2, b);
	fxp_reply((unsigned)b[0], 200, "t0", NULL);
	fxp_reply((unsigned)b[1], 603, "t1", NULL);
	int last;
	cr_assert_eq(finals_to_uac(&last), 1);
	cr_assert_eq(status_of(last), 200);
	cr_assert_eq(fxp_stats()->drops[SPL_PROXY_DROP_RSP_LATE], 1);
}

Test(proxy_response, best_local_response_has_our_tag_and_uac_via)
{
	int b[1];
	fork_n(1, b);
	fxp_reply((unsigned)b[0], 503, "t0", NULL);
	int last;
	cr_assert_eq(finals_to_uac(&last), 1);
	cr_assert_eq(status_of(last), 500);
	struct spl_sipmsg *m = fxp_msg((unsigned)last);
	cr_assert_eq(m->nvias, 1);
	cr_assert(spl_str_eq(m->vias[0].branch, "z9hG4bKuac1"));
	cr_assert(m->to.tag.len > 3 && memcmp(m->to.tag.p, "spl", 3) == 0);
	/* ACKed by the UAC: absorbed by our server transaction. */
	unsigned n = fx.nsent;
	char tag[64];
	snprintf(tag, sizeof(tag), "%.*s", (int)m->to.tag.len, m->to.tag.p);
	fxp_rx(fxp_req(&(struct fx_req){ .method = "ACK", .to_tag = tag }), FX_UAC);
	cr_assert_eq(fx.nsent, n);
}
