/* SPDX-License-Identifier: BSD-3-Clause */
/* §16.11 stateless routes, and pool exhaustion (503 with Retry-After). */
#include "proxy_fixture.h"

TestSuite(proxy_stateless, .init = fxp_setup, .fini = fxp_teardown);
TestSuite(proxy_overload, .init = fxp_setup, .fini = fxp_teardown);

static void stateless_route(void)
{
	static const char *hops[] = { "sip:192.0.2.50:5060" };
	static const struct spl_proxy_route rt = { "sl.example.net", NULL, hops, 1, true };
	fx.conf.routes = &rt;
	fx.conf.nroutes = 1;
	fxp_restart();
}

Test(proxy_stateless, forwarded_without_transaction_or_100)
{
	stateless_route();
	fxp_rx(fxp_invite("sip:carol@sl.example.net", 1, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, 1, "no 100 Trying when stateless (§16.11)");
	cr_assert(strncmp(fxp_text(0), "INVITE sip:carol@sl.example.net SIP/2.0", 39) == 0);
	cr_assert_eq(fx.sent[0].dst.addr[3], 50);
	const char *br = fxp_branch(0);
	cr_assert(strncmp(br, "z9hG4bKsl", 9) == 0, "%s", br);
	cr_assert_eq(strlen(br), 42);
	cr_assert_eq(spl_txn_live(spl_proxy_txn(fx.p)), 0);
	cr_assert_eq(fxp_stats()->ctx_live, 0);
	cr_assert_eq(fxp_stats()->stateless_requests, 1);
	cr_assert_str_eq(fxp_hdr(0, "Record-Route"), "<sip:192.0.2.1:5060;lr>",
			 "the same Record-Route on every retransmission");
}

Test(proxy_stateless, retransmission_gets_the_same_branch)
{
	stateless_route();
	fxp_rx(fxp_invite("sip:carol@sl.example.net", 1, NULL), FX_UAC);
	fxp_rx(fxp_invite("sip:carol@sl.example.net", 1, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, 2, "both forwarded: a stateless proxy cannot tell");
	cr_assert_str_eq(fxp_text(0), fxp_text(1), "byte for byte the same");
	fxp_rx(fxp_invite("sip:carol@sl.example.net", 2, NULL), FX_UAC);
	cr_assert_str_neq(fxp_branch(2), fxp_branch(0), "another transaction, another branch");
}

Test(proxy_stateless, cancel_and_ack_get_the_invite_branch)
{
	stateless_route();
	fxp_rx(fxp_invite("sip:carol@sl.example.net", 1, "Proxy-Authorization: Digest username=\"a\"\n"),
	       FX_UAC);
	fxp_rx(fxp_req(&(struct fx_req){ .method = "CANCEL", .ruri = "sip:carol@sl.example.net" }),
	       FX_UAC);
	int c = fxp_find(0, "CANCEL ");
	cr_assert_geq(c, 0);
	cr_assert_str_eq(fxp_branch((unsigned)c), fxp_branch(0));
	fxp_rx(fxp_req(&(struct fx_req){ .method = "ACK", .ruri = "sip:carol@sl.example.net",
					 .to_tag = "x9" }), FX_UAC);
	int a = fxp_find(0, "ACK ");
	cr_assert_geq(a, 0);
	cr_assert_str_eq(fxp_branch((unsigned)a), fxp_branch(0), "ACK for a non-2xx");
}

Test(proxy_stateless, responses_forwarded_by_via)
{
	stateless_route();
	fxp_rx(fxp_invite("sip:carol@sl.example.net", 1, NULL), FX_UAC);
	fxp_reply(0, 180, "c1", NULL);
	fxp_reply(0, 200, "c1", NULL);
	cr_assert_eq(fx.nsent, 3);
	cr_assert(strncmp(fxp_text(1), "SIP/2.0 180", 11) == 0);
	cr_assert(strncmp(fxp_text(2), "SIP/2.0 200", 11) == 0);
	cr_assert_eq(fx.sent[2].dst.addr[3], 100);
	cr_assert_eq(fxp_msg(2)->nvias, 1);
	cr_assert_eq(fxp_stats()->stateless_responses, 2);
}

Test(proxy_overload, transaction_table_full_503_retry_after)
{
	fx.conf.txn_capacity = 4;
	fxp_restart();
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	/* Two calls take four transactions (server + client each). */
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	fxp_rx(fxp_invite("sip:bob@example.com", 2, NULL), FX_UAC);
	unsigned n = fx.nsent;
	fxp_rx(fxp_invite("sip:bob@example.com", 3, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, n + 1);
	cr_assert(strncmp(fxp_text(n), "SIP/2.0 503 ", 12) == 0, "%s", fxp_text(n));
	cr_assert_str_eq(fxp_hdr(n, "Retry-After"), "5");
	cr_assert_eq(fxp_stats()->overload_503, 1);
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_OVERLOAD], 1);
	/* Its ACK is recognised as ours and dropped. */
	char tag[64];
	struct spl_sipmsg *m = fxp_msg(n);
	snprintf(tag, sizeof(tag), "%.*s", (int)m->to.tag.len, m->to.tag.p);
	fxp_rx(fxp_req(&(struct fx_req){ .method = "ACK", .branch = "z9hG4bKuac3",
					 .call_id = "call3@192.0.2.100", .to_tag = tag }), FX_UAC);
	cr_assert_eq(fx.nsent, n + 1);
}

Test(proxy_overload, context_pool_exhausted_503)
{
	fx.conf.ctx_capacity = 1;
	fxp_restart();
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	unsigned n = fx.nsent;
	fxp_rx(fxp_invite("sip:bob@example.com", 2, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, n + 1);
	cr_assert(strncmp(fxp_text(n), "SIP/2.0 503 ", 12) == 0);
	cr_assert_not_null(fxp_hdr(n, "Retry-After"));
	cr_assert_eq(fxp_stats()->overload_503, 1);
	cr_assert_eq(spl_txn_live(spl_proxy_txn(fx.p)), 2, "the refused request keeps no state");
}

Test(proxy_overload, no_buffer_counted)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fx.alloc_fail = 0;
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, 0);
	cr_assert_gt(fxp_stats()->drops[SPL_PROXY_DROP_NO_BUFFER], 0);
	fx.alloc_fail = -1;
	fxp_run_to(100 * SEC);
	cr_assert_eq(spl_txn_live(spl_proxy_txn(fx.p)), 0);
	cr_assert_eq(fxp_stats()->ctx_live, 0);
}
