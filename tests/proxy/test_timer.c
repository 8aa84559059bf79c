/* SPDX-License-Identifier: BSD-3-Clause */
/* §16.8 Timer C, §16.9 transport errors, failover across next hops. */
#include "proxy_fixture.h"

TestSuite(proxy_timer, .init = fxp_setup, .fini = fxp_teardown);

static unsigned invite_bob(void)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int i = fxp_find(0, "INVITE sip:bob@192.0.2.200");
	cr_assert_geq(i, 0);
	return (unsigned)i;
}

static int to_uac(unsigned from, const char *prefix)
{
	for (int i = fxp_find(from, prefix); i >= 0; i = fxp_find((unsigned)i + 1, prefix))
		if (fx.sent[i].dst.addr[3] == 100)
			return i;
	return -1;
}

Test(proxy_timer, timer_c_below_three_minutes_refused)
{
	struct spl_proxy_conf c = fx.conf;
	c.timer_c_ns = 120 * SEC;
	errno = 0;
	cr_assert_null(spl_proxy_create(&c));
	cr_assert_eq(errno, EINVAL);
}

Test(proxy_timer, timer_c_with_provisional_cancels)
{
	unsigned inv = invite_bob();
	fxp_run_to(1 * SEC);
	fxp_reply(inv, 180, "b1", NULL);
	fxp_run_to(180 * SEC);
	cr_assert_eq(fxp_count("CANCEL "), 0, "reset by the 180 at 1 s");
	fxp_run_to(182 * SEC);
	int c = fxp_find(0, "CANCEL sip:bob@192.0.2.200");
	cr_assert_geq(c, 0, "Timer C fired: the branch is cancelled");
	cr_assert_eq(fx.sent[c].at, 181 * SEC);
	cr_assert_eq(fxp_stats()->timer_c, 1);
	fxp_reply(inv, 487, "b1", NULL);
	int r = to_uac(0, "SIP/2.0 487 ");
	cr_assert_geq(r, 0);
}

Test(proxy_timer, timer_c_reset_by_provisional_not_by_100)
{
	unsigned inv = invite_bob();
	fxp_run_to(1 * SEC);
	fxp_reply(inv, 100, NULL, NULL);
	fxp_run_to(100 * SEC);
	fxp_reply(inv, 100, NULL, NULL);
	fxp_run_to(181 * SEC);
	int c = fxp_find(0, "CANCEL ");
	cr_assert_geq(c, 0, "100 does not reset Timer C");
	cr_assert_eq(fx.sent[c].at, 180 * SEC);
}

Test(proxy_timer, timer_c_reset_by_second_provisional)
{
	unsigned inv = invite_bob();
	fxp_reply(inv, 180, "b1", NULL);
	fxp_run_to(100 * SEC);
	fxp_reply(inv, 183, "b1", NULL);
	fxp_run_to(250 * SEC);
	cr_assert_eq(fxp_count("CANCEL "), 0);
	fxp_run_to(281 * SEC);
	int c = fxp_find(0, "CANCEL ");
	cr_assert_geq(c, 0);
	cr_assert_eq(fx.sent[c].at, 280 * SEC);
}

Test(proxy_timer, timer_c_cancel_unanswered_branch_ends_408)
{
	unsigned inv = invite_bob();
	fxp_reply(inv, 180, "b1", NULL);
	fxp_run_to(181 * SEC);
	cr_assert_geq(fxp_find(0, "CANCEL "), 0);
	fxp_run_to(181 * SEC + 33 * SEC);   /* 64*T1 after our CANCEL */
	int r = to_uac(0, "SIP/2.0 408 ");
	cr_assert_geq(r, 0, "§9.1: gave up on the branch");
	fxp_run_to(400 * SEC);
	cr_assert_eq(spl_txn_live(spl_proxy_txn(fx.p)), 0);
	cr_assert_eq(fxp_stats()->ctx_live, 0);
}

/* Timer C before Timer B needs a long T1 (B = 64*T1 = 256 s). */
Test(proxy_timer, timer_c_without_provisional_is_408)
{
	fx.conf.t1_ns = 4 * SEC;
	fx.conf.t2_ns = 8 * SEC;
	fxp_restart();
	(void)invite_bob();
	fxp_run_to(181 * SEC);
	int r = to_uac(0, "SIP/2.0 408 ");
	cr_assert_geq(r, 0);
	cr_assert_eq(fx.sent[r].at, 180 * SEC);
	cr_assert_eq(fxp_count("CANCEL "), 0, "no CANCEL without a provisional");
	int n = fxp_count("INVITE sip:bob");
	fxp_run_to(300 * SEC);
	cr_assert_eq(fxp_count("INVITE sip:bob"), n, "retransmissions stopped");
}

Test(proxy_timer, transport_error_treated_as_503_answered_500)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5062", 1000, NULL);
	fx.fail_sends = 1;
	fx.fail_port = 5062;
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	cr_assert_eq(fxp_count("INVITE "), 0, "the send failed");
	int r = to_uac(0, "SIP/2.0 500 ");
	cr_assert_geq(r, 0, "§16.9: as a 503, which goes out as 500");
	cr_assert_eq(fxp_stats()->best_500_for_503, 1);
}

static void two_hop_route(void)
{
	static const char *hops[] = { "sip:192.0.2.51:5062", "sip:192.0.2.52:5060" };
	static const struct spl_proxy_route rt = { "pstn.example.com", NULL, hops, 2, false };
	fx.conf.routes = &rt;
	fx.conf.nroutes = 1;
	fxp_restart();
}

Test(proxy_timer, failover_on_transport_error)
{
	two_hop_route();
	fx.fail_sends = 1;
	fx.fail_port = 5062;
	fxp_rx(fxp_invite("sip:+1555@pstn.example.com", 1, NULL), FX_UAC);
	int b = fxp_find(0, "INVITE sip:+1555@pstn.example.com");
	cr_assert_geq(b, 0);
	cr_assert_eq(fx.sent[b].dst.addr[3], 52, "second hop");
	cr_assert_eq(fxp_stats()->failovers, 1);
	fxp_reply((unsigned)b, 200, "g2", NULL);
	cr_assert_geq(to_uac(0, "SIP/2.0 200 "), 0);
}

Test(proxy_timer, failover_on_503)
{
	two_hop_route();
	fxp_rx(fxp_invite("sip:+1555@pstn.example.com", 1, NULL), FX_UAC);
	int a = fxp_find(0, "INVITE sip:+1555@pstn.example.com");
	cr_assert_eq(fx.sent[a].dst.addr[3], 51);
	fxp_reply((unsigned)a, 503, "g1", NULL);
	int b = fxp_find((unsigned)a + 1, "INVITE sip:+1555@pstn.example.com");
	cr_assert_geq(b, 0);
	cr_assert_eq(fx.sent[b].dst.addr[3], 52);
	cr_assert_str_neq(fxp_branch((unsigned)a), fxp_branch((unsigned)b), "a new branch per attempt");
	fxp_reply((unsigned)b, 486, "g2", NULL);
	int r = to_uac(0, "SIP/2.0 486 ");
	cr_assert_geq(r, 0);
}

Test(proxy_timer, failover_on_timeout)
{
	two_hop_route();
	fxp_rx(fxp_invite("sip:+1555@pstn.example.com", 1, NULL), FX_UAC);
	fxp_run_to(33 * SEC);
	int b = -1;
	for (int i = fxp_find(0, "INVITE "); i >= 0; i = fxp_find((unsigned)i + 1, "INVITE "))
		if (fx.sent[i].dst.addr[3] == 52)
			b = i;
	cr_assert_geq(b, 0, "next hop after Timer B");
	fxp_reply((unsigned)b, 200, "g2", NULL);
	cr_assert_geq(to_uac(0, "SIP/2.0 200 "), 0);
}

Test(proxy_timer, all_hops_fail_500)
{
	static const char *hops[] = { "sip:192.0.2.51:5062", "sip:192.0.2.52:5062" };
	static const struct spl_proxy_route rt = { "pstn.example.com", NULL, hops, 2, false };
	fx.conf.routes = &rt;
	fx.conf.nroutes = 1;
	fxp_restart();
	fx.fail_sends = 2;
	fx.fail_port = 5062;
	fxp_rx(fxp_invite("sip:+1555@pstn.example.com", 1, NULL), FX_UAC);
	cr_assert_eq(fxp_count("INVITE "), 0);
	cr_assert_eq(fxp_stats()->failovers, 1);
	cr_assert_geq(to_uac(0, "SIP/2.0 500 "), 0);
}

Test(proxy_timer, other_timers_go_to_the_hook)
{
	spl_timerwheel_start(fx.tw, 10 * MS, UINT64_C(0x52) << 56);
	fxp_run_to(20 * MS);
	cr_assert_eq(fx.other_timers, 1);
}
