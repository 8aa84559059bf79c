/* SPDX-License-Identifier: BSD-3-Clause */
/* §16.10 CANCEL: before and after a provisional, after a 2xx, unmatched. */
#include "proxy_fixture.h"

TestSuite(proxy_cancel, .init = fxp_setup, .fini = fxp_teardown);

static unsigned invite_bob(void)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int i = fxp_find(0, "INVITE sip:bob@192.0.2.200");
	cr_assert_geq(i, 0);
	return (unsigned)i;
}

static void uac_cancel(void)
{
	fxp_rx(fxp_req(&(struct fx_req){ .method = "CANCEL" }), FX_UAC);
}

static int to_uac(unsigned from, const char *prefix)
{
	for (int i = fxp_find(from, prefix); i >= 0; i = fxp_find((unsigned)i + 1, prefix))
		if (fx.sent[i].dst.addr[3] == 100)
			return i;
	return -1;
}

Test(proxy_cancel, cancel_after_provisional)
{
	unsigned inv = invite_bob();
	fxp_reply(inv, 180, "b1", NULL);
	unsigned n = fx.nsent;
	uac_cancel();
	int ok = to_uac(n, "SIP/2.0 200 ");
	cr_assert_geq(ok, 0, "200 to the CANCEL");
	cr_assert_str_eq(fxp_hdr((unsigned)ok, "CSeq"), "1 CANCEL");
	int c = fxp_find(n, "CANCEL sip:bob@192.0.2.200:5060 SIP/2.0");
	cr_assert_geq(c, 0, "CANCEL downstream");
	cr_assert_str_eq(fxp_branch((unsigned)c), fxp_branch(inv));
	cr_assert_eq(fx.sent[c].dst.addr[3], 200);
	cr_assert_eq(fxp_stats()->cancels_in, 1);
	cr_assert_eq(fxp_stats()->cancels_out, 1);

	unsigned m = fx.nsent;
	fxp_reply((unsigned)c, 200, "b1", NULL);
	cr_assert_eq(fx.nsent, m, "the 200 to our CANCEL is ours");
	fxp_reply(inv, 487, "b1", NULL);
	int r = to_uac(m, "SIP/2.0 487 ");
	cr_assert_geq(r, 0, "the UAS's 487 is the best response");
	cr_assert(fxp_has((unsigned)r, "tag=b1"));
}

Test(proxy_cancel, cancel_before_provisional_waits_for_one)
{
	unsigned inv = invite_bob();
	unsigned n = fx.nsent;
	uac_cancel();
	cr_assert_geq(to_uac(n, "SIP/2.0 200 "), 0);
	cr_assert_eq(fxp_count("CANCEL "), 0, "§9.1: no CANCEL before a provisional");
	fxp_reply(inv, 180, "b1", NULL);
	int c = fxp_find(n, "CANCEL sip:bob@192.0.2.200");
	cr_assert_geq(c, 0, "sent once the provisional arrived");
	fxp_reply(inv, 487, "b1", NULL);
	cr_assert_geq(to_uac(n, "SIP/2.0 487 "), 0);
}

Test(proxy_cancel, cancel_before_provisional_branch_times_out_487)
{
	(void)invite_bob();
	uac_cancel();
	fxp_run_to(33 * SEC);   /* Timer B */
	int r = to_uac(0, "SIP/2.0 487 ");
	cr_assert_geq(r, 0, "cancelled, nothing heard: 487 of our own");
	cr_assert_eq(fxp_count("CANCEL "), 0);
	cr_assert_eq(fxp_stats()->best_487_cancelled, 1);
}

Test(proxy_cancel, cancel_after_2xx_changes_nothing)
{
	unsigned inv = invite_bob();
	fxp_reply(inv, 200, "b1", NULL);
	unsigned n = fx.nsent;
	uac_cancel();
	cr_assert_geq(to_uac(n, "SIP/2.0 200 "), 0, "CANCEL answered");
	cr_assert_eq(fxp_count("CANCEL "), 0, "nothing to cancel downstream");
}

Test(proxy_cancel, unmatched_cancel_forwarded_statelessly)
{
	fxp_resolve("foreign.example.net", 0, fxp_peer(203, 0, 113, 5, 5060, SPL_SIP_TRANSPORT_UDP));
	fxp_rx(fxp_req(&(struct fx_req){ .method = "CANCEL", .ruri = "sip:carol@foreign.example.net" }),
	       FX_UAC);
	int c = fxp_find(0, "CANCEL sip:carol@foreign.example.net SIP/2.0");
	cr_assert_geq(c, 0);
	cr_assert(strncmp(fxp_branch((unsigned)c), "z9hG4bKsl", 9) == 0);
	cr_assert_eq(to_uac(0, "SIP/2.0"), -1, "not answered by us");
	cr_assert_eq(spl_txn_live(spl_proxy_txn(fx.p)), 0);
}

Test(proxy_cancel, cancel_of_a_forked_invite_cancels_every_branch)
{
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.202:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int a = fxp_find(0, "INVITE sip:bob@192.0.2.201");
	int b = fxp_find(0, "INVITE sip:bob@192.0.2.202");
	fxp_reply((unsigned)a, 180, "ta", NULL);
	fxp_reply((unsigned)b, 183, "tb", NULL);
	uac_cancel();
	cr_assert_eq(fxp_count("CANCEL "), 2);
	fxp_reply((unsigned)a, 487, "ta", NULL);
	cr_assert_eq(to_uac(0, "SIP/2.0 487"), -1, "waits for every branch");
	fxp_reply((unsigned)b, 487, "tb", NULL);
	cr_assert_geq(to_uac(0, "SIP/2.0 487"), 0);
}
