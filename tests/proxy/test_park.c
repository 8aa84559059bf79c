/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parking: requests whose next hop is a name the (asynchronous) resolver
 * does not know yet wait for spl_proxy_resume() instead of a 503; names
 * that do not exist are answered 404 (or 604).
 *
 * The fixture's resolve hook answers from a table the tests flip: a name
 * starts at -EAGAIN and becomes resolvable (fxp_resolve_rc), as the
 * appliance's resolver thread would make it.
 */
#include "proxy_fixture.h"

#define SLOW "slow.example.net"
#define SLOW_URI "sip:carol@" SLOW

static struct spl_txn_peer slow_peer(void)
{
	return fxp_peer(203, 0, 113, 7, 5060, SPL_SIP_TRANSPORT_UDP);
}

static void park_restart(uint32_t cap)
{
	fx.conf.park_capacity = cap;
	fxp_restart();
}

static void park_init(void)
{
	fxp_setup();
	park_restart(4);
	fxp_resolve(SLOW, -EAGAIN, slow_peer());
}

TestSuite(proxy_park, .init = park_init, .fini = fxp_teardown);

static bool sent_to(unsigned i, struct spl_txn_peer want)
{
	const struct spl_txn_peer *d = &fx.sent[i].dst;
	return d->port == want.port && memcmp(d->addr, want.addr, 4) == 0;
}

/* First datagram from `from` on that starts with prefix and goes to the UAC. */
static int to_uac(unsigned from, const char *prefix)
{
	for (int i = fxp_find(from, prefix); i >= 0; i = fxp_find((unsigned)i + 1, prefix))
		if (sent_to((unsigned)i, FX_UAC))
			return i;
	return -1;
}

static void invite(int id)
{
	fxp_rx(fxp_invite(SLOW_URI, id, NULL), FX_UAC);
}

/* The forwarded INVITE (asserted to go to the resolved peer). */
static unsigned forwarded(const char *start_line)
{
	int i = fxp_find(0, start_line);
	cr_assert_geq(i, 0, "not forwarded: %s", start_line);
	cr_assert(sent_to((unsigned)i, slow_peer()));
	return (unsigned)i;
}

Test(proxy_park, invite_waits_with_100_not_503)
{
	invite(1);
	int t = to_uac(0, "SIP/2.0 100 ");
	cr_assert_geq(t, 0, "100 Trying while it waits");
	cr_assert_str_eq(fxp_hdr((unsigned)t, "CSeq"), "1 INVITE");
	cr_assert_eq(fxp_count("SIP/2.0 503 "), 0);
	cr_assert_eq(fxp_count("INVITE "), 0);
	cr_assert_eq(spl_proxy_parked(fx.p), 1);
	cr_assert_eq(fxp_stats()->parked, 1);
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_RESOLVING], 0);
}

Test(proxy_park, resumed_invite_forwarded_and_call_completes)
{
	invite(1);
	fxp_run_to(300 * MS);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 0, "nothing new: still waiting");

	fxp_resolve_rc(SLOW, 0);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 1);
	cr_assert_eq(spl_proxy_parked(fx.p), 0);
	cr_assert_eq(fxp_count("SIP/2.0 100 "), 1, "the 100 went out when it parked, not again");

	unsigned inv = forwarded("INVITE " SLOW_URI " SIP/2.0");
	struct spl_sipmsg *m = fxp_msg(inv);
	cr_assert_eq(m->nvias, 2);
	cr_assert(spl_str_eq(m->vias[0].host.text, "192.0.2.1"));
	cr_assert(strncmp(fxp_branch(inv), "z9hG4bK", 7) == 0);
	cr_assert(spl_str_eq(m->vias[1].branch, "z9hG4bKuac1"));
	cr_assert_eq(m->max_forwards, 69);
	cr_assert_str_eq(fxp_hdr(inv, "Record-Route"), "<sip:192.0.2.1:5060;lr>");
	cr_assert_eq(fxp_stats()->park_resumed, 1);
	cr_assert_eq(fxp_stats()->forwards, 1);

	unsigned n = fx.nsent;
	fxp_reply(inv, 180, "c1", NULL);
	cr_assert_geq(to_uac(n, "SIP/2.0 180 "), 0);
	fxp_reply(inv, 200, "c1", "Contact: <sip:carol@203.0.113.7:5060>");
	int ok = to_uac(n, "SIP/2.0 200 ");
	cr_assert_geq(ok, 0, "200 relayed to the caller");
	cr_assert_eq(fxp_msg((unsigned)ok)->nvias, 1);

	unsigned n1 = fx.nsent;
	fxp_rx(fxp_request("ACK", "sip:carol@203.0.113.7:5060", 1, "c1",
			   "Route: <sip:192.0.2.1:5060;lr>\n"), FX_UAC);
	int ack = fxp_find(n1, "ACK sip:carol@203.0.113.7:5060 SIP/2.0");
	cr_assert_geq(ack, 0, "ACK for the 2xx routed on");
	cr_assert(sent_to((unsigned)ack, slow_peer()));

	/* The deadline was stopped: nothing more goes to the caller. */
	unsigned n2 = fx.nsent;
	fxp_run_to(100 * SEC);
	cr_assert_eq(to_uac(n2, "SIP/2.0 503 "), -1);
	cr_assert_eq(fxp_stats()->park_timeouts, 0);
	cr_assert_eq(fxp_stats()->ctx_live, 0);
}

Test(proxy_park, still_unresolved_waits_until_its_deadline)
{
	invite(1);
	fxp_run_to(1500 * MS);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 0);
	cr_assert_eq(spl_proxy_parked(fx.p), 1, "still waiting");
	cr_assert_eq(fxp_count("INVITE "), 0);

	fxp_run_to(1990 * MS);
	cr_assert_eq(fxp_count("SIP/2.0 503 "), 0, "the resume did not move the deadline ...");
	fxp_run_to(2100 * MS);
	int r = to_uac(0, "SIP/2.0 503 ");
	cr_assert_geq(r, 0, "... which is park_timeout_ns (default 2 s) after arrival");
	cr_assert_geq(fx.sent[r].at, 2000 * MS);
	cr_assert_leq(fx.sent[r].at, 2010 * MS);
	cr_assert_str_eq(fxp_hdr((unsigned)r, "Retry-After"), "5");
	cr_assert_str_eq(fxp_hdr((unsigned)r, "CSeq"), "1 INVITE");
	cr_assert_eq(spl_proxy_parked(fx.p), 0);
	cr_assert_eq(fxp_stats()->park_timeouts, 1);
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_RESOLVING], 1);

	/* Too late now: the name resolving changes nothing. */
	fxp_resolve_rc(SLOW, 0);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 0);
	cr_assert_eq(fxp_count("INVITE "), 0);
}

Test(proxy_park, park_timeout_configurable)
{
	fx.conf.park_timeout_ns = 700 * MS;
	park_restart(4);
	invite(1);
	fxp_run_to(650 * MS);
	cr_assert_eq(fxp_count("SIP/2.0 503 "), 0);
	fxp_run_to(800 * MS);
	cr_assert_geq(to_uac(0, "SIP/2.0 503 "), 0);
}

Test(proxy_park, full_park_answers_503_at_once)
{
	park_restart(2);
	invite(1);
	invite(2);
	cr_assert_eq(spl_proxy_parked(fx.p), 2);
	cr_assert_eq(fxp_count("SIP/2.0 503 "), 0);

	invite(3);
	int r = to_uac(0, "SIP/2.0 503 ");
	cr_assert_geq(r, 0, "no slot: 503 at once");
	cr_assert(strstr(fxp_hdr((unsigned)r, "Call-ID"), "call3@") != NULL);
	cr_assert_str_eq(fxp_hdr((unsigned)r, "Retry-After"), "5");
	cr_assert_eq(fxp_stats()->park_full, 1);
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_RESOLVING], 1);
	cr_assert_eq(spl_proxy_parked(fx.p), 2);

	fxp_resolve_rc(SLOW, 0);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 2, "the two that waited go on");
	cr_assert_eq(fxp_count("INVITE "), 2);
}

Test(proxy_park, cancel_of_parked_invite_200_and_487)
{
	invite(1);
	unsigned n = fx.nsent;
	fxp_rx(fxp_request("CANCEL", SLOW_URI, 1, NULL, NULL), FX_UAC);
	int ok = to_uac(n, "SIP/2.0 200 ");
	cr_assert_geq(ok, 0, "200 to the CANCEL");
	cr_assert_str_eq(fxp_hdr((unsigned)ok, "CSeq"), "1 CANCEL");
	int t = to_uac(n, "SIP/2.0 487 ");
	cr_assert_geq(t, 0, "487 to the INVITE");
	cr_assert_str_eq(fxp_hdr((unsigned)t, "CSeq"), "1 INVITE");
	cr_assert_eq(spl_proxy_parked(fx.p), 0, "slot freed");
	cr_assert_eq(fxp_count("CANCEL "), 0, "nothing downstream to cancel");

	/* Neither a later answer nor the old deadline does anything. */
	fxp_resolve_rc(SLOW, 0);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 0);
	cr_assert_eq(fxp_count("INVITE "), 0);
	fxp_run_to(40 * SEC);   /* no ACK: Timer H ends the INVITE transaction */
	cr_assert_eq(fxp_count("SIP/2.0 503 "), 0);
	cr_assert_eq(fxp_stats()->park_timeouts, 0);
	cr_assert_eq(fxp_stats()->ctx_live, 0);
}

Test(proxy_park, cancel_frees_the_slot_for_the_next_request)
{
	park_restart(1);
	invite(1);
	fxp_rx(fxp_request("CANCEL", SLOW_URI, 1, NULL, NULL), FX_UAC);
	cr_assert_eq(spl_proxy_parked(fx.p), 0);
	invite(2);
	cr_assert_eq(spl_proxy_parked(fx.p), 1, "the freed slot is taken again");
	cr_assert_eq(fxp_stats()->park_full, 0);
}

Test(proxy_park, retransmission_while_parked_absorbed)
{
	invite(1);
	fxp_run_to(500 * MS);
	invite(1);   /* the UAC retransmits (Timer A) */
	cr_assert_eq(spl_proxy_parked(fx.p), 1);
	cr_assert_eq(fxp_stats()->parked, 1, "not parked twice");
	cr_assert_eq(fxp_count("SIP/2.0 100 "), 2, "the 100 is resent by the transaction");

	fxp_resolve_rc(SLOW, 0);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 1);
	cr_assert_eq(fxp_count("INVITE "), 1, "forwarded once");
}

Test(proxy_park, message_parks_and_resumes)
{
	fxp_rx(fxp_request("MESSAGE", SLOW_URI, 1, NULL, NULL), FX_UAC);
	cr_assert_eq(spl_proxy_parked(fx.p), 1);
	cr_assert_eq(fx.nsent, 0, "no 100 for a non-INVITE (RFC 4320)");
	fxp_run_to(500 * MS);
	fxp_rx(fxp_request("MESSAGE", SLOW_URI, 1, NULL, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, 0, "retransmission absorbed silently");

	fxp_resolve_rc(SLOW, 0);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 1);
	unsigned msg = forwarded("MESSAGE " SLOW_URI " SIP/2.0");
	cr_assert_null(fxp_hdr(msg, "Record-Route"), "MESSAGE is not record-routed");
	fxp_reply(msg, 202, "c1", NULL);
	int ok = to_uac(0, "SIP/2.0 202 ");
	cr_assert_geq(ok, 0, "final relayed");
	cr_assert_str_eq(fxp_hdr((unsigned)ok, "CSeq"), "1 MESSAGE");
	cr_assert_eq(fxp_stats()->park_resumed, 1);
}

Test(proxy_park, options_to_a_static_route_name_parks)
{
	static const char *hops[] = { "sip:gw.slow.example.net:5070" };
	static const struct spl_proxy_route rt[] = {
		{ .domain = "pstn.example.org", .hops = hops, .nhops = 1 },
	};
	fx.conf.routes = rt;
	fx.conf.nroutes = 1;
	park_restart(4);
	fxp_resolve("gw.slow.example.net", -EAGAIN, fxp_peer(203, 0, 113, 9, 0, 0));
	fxp_rx(fxp_request("OPTIONS", "sip:+15551234@pstn.example.org", 1, NULL, NULL), FX_UAC);
	cr_assert_eq(spl_proxy_parked(fx.p), 1);

	fxp_resolve_rc("gw.slow.example.net", 0);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 1);
	int o = fxp_find(0, "OPTIONS sip:+15551234@pstn.example.org SIP/2.0");
	cr_assert_geq(o, 0, "Request-URI unchanged, sent to the route's hop");
	cr_assert_eq(fx.sent[o].dst.addr[3], 9);
	cr_assert_eq(fx.sent[o].dst.port, 5070);
}

Test(proxy_park, draining_still_resumes_what_was_parked)
{
	invite(1);
	spl_proxy_set_draining(fx.p, true);
	fxp_resolve_rc(SLOW, 0);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 1);
	forwarded("INVITE " SLOW_URI " SIP/2.0");
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_DRAINING], 0);
}

/* A reload in between may make the route stateless: the request goes on
 * statelessly and its transaction and context are dropped (§16.1). */
Test(proxy_park, resumed_onto_a_stateless_route)
{
	invite(1);
	static const char *hops[] = { "sip:203.0.113.8:5060" };
	static const struct spl_proxy_route rt[] = {
		{ .domain = SLOW, .hops = hops, .nhops = 1, .stateless = true },
	};
	fx.conf.routes = rt;
	fx.conf.nroutes = 1;
	cr_assert_eq(spl_proxy_reconfigure(fx.p, &fx.conf), 0);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 1);
	int i = fxp_find(0, "INVITE " SLOW_URI " SIP/2.0");
	cr_assert_geq(i, 0);
	cr_assert_eq(fx.sent[i].dst.addr[3], 8);
	cr_assert(strncmp(fxp_branch((unsigned)i), "z9hG4bKsl", 9) == 0);
	cr_assert_eq(spl_proxy_parked(fx.p), 0);
	cr_assert_eq(fxp_stats()->ctx_live, 0);
	cr_assert_eq(spl_txn_live(spl_proxy_txn(fx.p)), 0);
}

Test(proxy_park, name_found_missing_while_parked_404)
{
	invite(1);
	fxp_resolve_rc(SLOW, -ENOENT);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 1, "answered");
	int r = to_uac(0, "SIP/2.0 404 ");
	cr_assert_geq(r, 0);
	cr_assert_eq(spl_proxy_parked(fx.p), 0);
	cr_assert_eq(fxp_stats()->unresolvable, 1);
	cr_assert_eq(fxp_stats()->park_resumed, 0, "answered, not forwarded");
	fxp_run_to(5 * SEC);
	cr_assert_eq(fxp_count("SIP/2.0 503 "), 0, "no deadline left behind");
}

Test(proxy_park, unresolvable_name_404)
{
	fxp_rx(fxp_invite("sip:carol@nowhere.example.net", 1, NULL), FX_UAC);
	int r = to_uac(0, "SIP/2.0 404 ");
	cr_assert_geq(r, 0, "no such domain: 404");
	cr_assert_neq(strstr(fxp_hdr((unsigned)r, "To"), ";tag=spl"), NULL, "a final of ours");
	cr_assert_eq(fxp_count("INVITE "), 0);
	cr_assert_eq(fxp_count("SIP/2.0 100 "), 0);
	cr_assert_eq(spl_proxy_parked(fx.p), 0);
	cr_assert_eq(fxp_stats()->unresolvable, 1);
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_UNRESOLVABLE], 1);
	cr_assert_eq(fxp_stats()->best_500_for_503, 0);
}

Test(proxy_park, unresolvable_name_604_when_configured)
{
	fx.conf.unresolvable_status = 604;
	park_restart(4);
	fxp_rx(fxp_request("MESSAGE", "sip:carol@nowhere.example.net", 1, NULL, NULL), FX_UAC);
	cr_assert_geq(to_uac(0, "SIP/2.0 604 "), 0);
	cr_assert_eq(fxp_stats()->rejects[6], 1);
}

Test(proxy_park, unresolvable_status_other_than_404_604_refused)
{
	fx.conf.unresolvable_status = 503;
	cr_assert_null(spl_proxy_create(&fx.conf));
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(spl_proxy_reconfigure(fx.p, &fx.conf), -EINVAL);
	fx.conf.unresolvable_status = 604;
	cr_assert_eq(spl_proxy_reconfigure(fx.p, &fx.conf), 0, "taken by a reload");
	fxp_rx(fxp_invite("sip:carol@nowhere.example.net", 1, NULL), FX_UAC);
	cr_assert_geq(to_uac(0, "SIP/2.0 604 "), 0);
}

/* Mixed target sets keep today's behaviour: a target with a hop goes at
 * once; the one without fails as a 503 would. */
Test(proxy_park, fork_with_one_name_resolved_forwards_at_once)
{
	fxp_bind("bob", "sip:bob@" SLOW ":5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	cr_assert_eq(spl_proxy_parked(fx.p), 0);
	cr_assert_geq(fxp_find(0, "INVITE sip:bob@192.0.2.200:5060 SIP/2.0"), 0);
	cr_assert_eq(fxp_stats()->parked, 0);
}

Test(proxy_park, capacity_0_answers_503_at_once)
{
	park_restart(0);
	invite(1);
	int r = to_uac(0, "SIP/2.0 503 ");
	cr_assert_geq(r, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)r, "Retry-After"), "5");
	cr_assert_eq(fxp_count("SIP/2.0 100 "), 0);
	cr_assert_eq(spl_proxy_parked(fx.p), 0);
	cr_assert_eq(fxp_stats()->park_full, 0, "not a full park: there is none");
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_RESOLVING], 1);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 0);
}

/* The server transaction going away for any reason takes the slot along. */
Test(proxy_park, server_transaction_gone_frees_the_slot)
{
	invite(1);
	long bufs = fx.live_bufs;
	struct spl_txn_table *tt = spl_proxy_txn(fx.p);
	struct spl_txn_info info[4];
	uint32_t cursor = 0;
	cr_assert_eq(spl_txn_list(tt, &cursor, info, 4), 1);
	cr_assert_eq(spl_txn_terminate(tt, info[0].handle), 0);
	cr_assert_eq(spl_proxy_parked(fx.p), 0);
	cr_assert_eq(fxp_stats()->ctx_live, 0);
	cr_assert_lt(fx.live_bufs, bufs, "the request bytes were let go");

	fxp_resolve_rc(SLOW, 0);
	cr_assert_eq(spl_proxy_resume(fx.p, fx.now), 0);
	fxp_run_to(5 * SEC);
	cr_assert_eq(fxp_count("SIP/2.0 503 "), 0, "deadline stopped");
}

Test(proxy_park, free_with_parked_requests_releases_every_buffer)
{
	invite(1);
	invite(2);
	fxp_rx(fxp_request("MESSAGE", SLOW_URI, 3, NULL, NULL), FX_UAC);
	cr_assert_eq(spl_proxy_parked(fx.p), 3);
	cr_assert_gt(fx.live_bufs, 0, "the parked requests are kept by reference");
	fxp_restart();   /* asserts that spl_proxy_free left no buffer behind */
	cr_assert_eq(fx.live_bufs, 0);
}
