/* SPDX-License-Identifier: BSD-3-Clause */
/* Forking: parallel for equal q, sequential across q groups, 3xx recursion. */
#include "proxy_fixture.h"

TestSuite(proxy_fork, .init = fxp_setup, .fini = fxp_teardown);

static int finals_to_uac(uint16_t *status)
{
	int n = 0;
	const char *prev = NULL;
	for (unsigned i = 0; i < fx.nsent; i++) {
		const char *t = fx.sent[i].data;
		if (fx.sent[i].dst.addr[3] != 100 || strncmp(t, "SIP/2.0 ", 8) != 0 || t[8] == '1')
			continue;
		if (prev && strcmp(prev, t) == 0)
			continue;
		prev = t;
		n++;
		*status = (uint16_t)atoi(t + 8);
	}
	return n;
}

Test(proxy_fork, parallel_for_equal_q)
{
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.202:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int a = fxp_find(0, "INVITE sip:bob@192.0.2.201");
	int b = fxp_find(0, "INVITE sip:bob@192.0.2.202");
	cr_assert_geq(a, 0);
	cr_assert_geq(b, 0);
	cr_assert_str_neq(fxp_branch((unsigned)a), fxp_branch((unsigned)b), "a branch per target");
	cr_assert_eq(fxp_stats()->branches, 2);
	fxp_reply((unsigned)b, 200, "tb", NULL);
	uint16_t st;
	cr_assert_eq(finals_to_uac(&st), 1);
	cr_assert_eq(st, 200);
}

Test(proxy_fork, sequential_next_group_on_failure)
{
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.202:5060", 500, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.203:5060", 500, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int a = fxp_find(0, "INVITE sip:bob@192.0.2.201");
	cr_assert_geq(a, 0);
	cr_assert_eq(fxp_count("INVITE "), 1, "only the highest q first");
	fxp_reply((unsigned)a, 486, "ta", NULL);
	uint16_t st;
	cr_assert_eq(finals_to_uac(&st), 0, "the 486 waits: more groups to try");
	int b = fxp_find(0, "INVITE sip:bob@192.0.2.202");
	int c = fxp_find(0, "INVITE sip:bob@192.0.2.203");
	cr_assert_geq(b, 0, "next group started");
	cr_assert_geq(c, 0, "in parallel within the group");
	fxp_reply((unsigned)b, 480, "tb", NULL);
	fxp_reply((unsigned)c, 404, "tc", NULL);
	cr_assert_eq(finals_to_uac(&st), 1);
	cr_assert_eq(st, 486, "best over all groups: first of the equal 4xx");
}

Test(proxy_fork, sequential_group_timeout_cancels_and_moves_on)
{
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.202:5060", 500, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int a = fxp_find(0, "INVITE sip:bob@192.0.2.201");
	fxp_reply((unsigned)a, 180, "ta", NULL);
	fxp_run_to(29 * SEC);
	cr_assert_eq(fxp_count("INVITE sip:bob@192.0.2.202"), 0);
	fxp_run_to(31 * SEC);
	int c = fxp_find(0, "CANCEL sip:bob@192.0.2.201");
	int b = fxp_find(0, "INVITE sip:bob@192.0.2.202");
	cr_assert_geq(c, 0, "the ringing branch is cancelled after the fork timeout");
	cr_assert_geq(b, 0, "the next group starts");
	cr_assert_eq(fxp_stats()->seq_timeouts, 1);
	fxp_reply((unsigned)a, 487, "ta", NULL);
	fxp_reply((unsigned)b, 200, "tb", NULL);
	uint16_t st;
	cr_assert_eq(finals_to_uac(&st), 1);
	cr_assert_eq(st, 200);
}

Test(proxy_fork, sequential_group_timeout_without_provisional)
{
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.202:5060", 500, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	fxp_run_to(31 * SEC);
	cr_assert_eq(fxp_count("CANCEL "), 0, "no CANCEL without a provisional (§9.1)");
	int b = fxp_find(0, "INVITE sip:bob@192.0.2.202");
	cr_assert_geq(b, 0);
	unsigned n = fxp_count("INVITE sip:bob@192.0.2.201");
	fxp_run_to(40 * SEC);
	cr_assert_eq((unsigned)fxp_count("INVITE sip:bob@192.0.2.201"), n,
		     "the abandoned branch stops retransmitting");
	fxp_reply((unsigned)b, 486, "tb", NULL);
	uint16_t st;
	cr_assert_eq(finals_to_uac(&st), 1);
	cr_assert_eq(st, 486, "a real response beats the timed-out branch");
}

Test(proxy_fork, six_hundred_stops_further_groups)
{
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.202:5060", 500, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int a = fxp_find(0, "INVITE sip:bob@192.0.2.201");
	fxp_reply((unsigned)a, 603, "ta", NULL);
	cr_assert_eq(fxp_count("INVITE sip:bob@192.0.2.202"), 0);
	uint16_t st;
	cr_assert_eq(finals_to_uac(&st), 1);
	cr_assert_eq(st, 603);
}

Test(proxy_fork, max_branches_caps_targets)
{
	fx.conf.max_branches = 2;
	fxp_restart();
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.202:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.203:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	cr_assert_eq(fxp_count("INVITE "), 2);
	cr_assert_eq(fxp_stats()->targets_truncated, 1);
}

Test(proxy_fork, redirect_forwarded_when_recursion_off)
{
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int a = fxp_find(0, "INVITE sip:bob@192.0.2.201");
	fxp_reply((unsigned)a, 302, "ta", "Contact: <sip:bob@192.0.2.210:5060>");
	uint16_t st;
	cr_assert_eq(finals_to_uac(&st), 1);
	cr_assert_eq(st, 302);
	cr_assert_eq(fxp_count("INVITE sip:bob@192.0.2.210"), 0);
}

Test(proxy_fork, redirect_recursed_when_enabled)
{
	fx.conf.recurse_3xx = true;
	fxp_restart();
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int a = fxp_find(0, "INVITE sip:bob@192.0.2.201");
	fxp_reply((unsigned)a, 302, "ta",
		  "Contact: <sip:bob@192.0.2.210:5060>, <sip:bob@192.0.2.201:5060>, <mailto:bob@example.com>");
	int r = fxp_find(0, "INVITE sip:bob@192.0.2.210:5060");
	cr_assert_geq(r, 0, "recursed on the new Contact");
	cr_assert_eq(fxp_count("INVITE sip:bob@192.0.2.201"), 1, "a target is tried once");
	cr_assert_eq(fxp_stats()->recursed, 1);
	fxp_reply((unsigned)r, 486, "tr", NULL);
	uint16_t st;
	cr_assert_eq(finals_to_uac(&st), 1);
	cr_assert_eq(st, 486, "the recursed 3xx is not a candidate");
}
