/* SPDX-License-Identifier: BSD-3-Clause */
/* Client non-INVITE transaction: RFC 3261 §17.1.2 (timers E, F, K). */
#include "txn_fixture.h"

TestSuite(txn_client_non_invite, .init = fx_setup, .fini = fx_teardown);

static struct fx_rsp rsp(uint16_t status, const char *branch)
{
	return (struct fx_rsp){ .status = status, .branch = branch, .cseq_method = "OPTIONS",
				.to_tag = status > 100 ? "a6c85cf" : NULL };
}

static const struct fx_req options = { .method = "OPTIONS" };

Test(txn_client_non_invite, udp_retransmissions_cap_at_t2_until_timer_f)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = fx_client(&options, &udp, NULL);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_TRYING);
	fx_run_to(31999 * MS);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
	fx_run_to(40 * SEC);
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 11500, 15500, 19500,
				       23500, 27500, 31500 };
	fx_assert_send_times_ms(at, 11);
	cr_assert_eq(fx_last(FX_TIMEOUT)->timer, SPL_TXN_TIMER_F);
	cr_assert_eq(fx_last(FX_TIMEOUT)->at, 32 * SEC);
	cr_assert_eq(fx_last(FX_TERM)->handle, h);
	cr_assert_eq(spl_txn_stats(fx.tbl)->timeouts[SPL_TXN_TIMER_F], 1);
}

Test(txn_client_non_invite, proceeding_retransmits_at_t2)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t h = fx_client(&options, &udp, br);
	fx_run_to(600 * MS);
	struct fx_rsp r = rsp(100, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_PROCEEDING);
	fx_run_to(40 * SEC);
	/* E pending at 1.5 s fires in Proceeding and is reset to T2. */
	static const uint64_t at[] = { 0, 500, 1500, 5500, 9500, 13500, 17500, 21500,
				       25500, 29500 };
	fx_assert_send_times_ms(at, 10);
	cr_assert_eq(fx_last(FX_TIMEOUT)->timer, SPL_TXN_TIMER_F, "Timer F also ends Proceeding");
	cr_assert_eq(fx_last(FX_TIMEOUT)->at, 32 * SEC);
}

Test(txn_client_non_invite, final_enters_completed_absorbs_retransmissions_until_timer_k)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t h = fx_client(&options, &udp, br);
	fx_run_to(1 * SEC);
	struct fx_rsp r = rsp(100, br);
	fx_rx_rsp(&r, &udp);
	r = rsp(180, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED, "every provisional is passed up");
	r = rsp(200, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	cr_assert_eq(fx_count(FX_RSP), 3);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_ABSORBED);
	r = rsp(404, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx_count(FX_RSP), 3);
	cr_assert_eq(spl_txn_stats(fx.tbl)->absorbed, 2);
	fx_run_to(5999 * MS);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	fx_run_to(6 * SEC);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1, "Timer K = T4");
	static const uint64_t at[] = { 0, 500 };
	fx_assert_send_times_ms(at, 2);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
}

Test(txn_client_non_invite, final_from_trying_skips_proceeding)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t h = fx_client(&options, &udp, br);
	struct fx_rsp r = rsp(404, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	cr_assert_null(spl_txn_sent(fx.tbl, h), "request bytes released in Completed");
}

Test(txn_client_non_invite, reliable_transport_no_timer_e_and_timer_k_is_zero)
{
	struct spl_txn_peer tcp = fx_tcp();
	char br[32];
	uint64_t h = fx_client(&options, &tcp, br);
	fx_run_to(10 * SEC);
	cr_assert_eq(fx.nsent, 1);
	struct fx_rsp r = rsp(200, br);
	cr_assert_eq(fx_rx_rsp(&r, &tcp), SPL_TXN_RX_PASSED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	cr_assert_eq(fx.ev[fx.nev - 2].kind, FX_RSP);
	cr_assert_eq(fx.ev[fx.nev - 1].kind, FX_TERM);
}

Test(txn_client_non_invite, reliable_transport_timer_f)
{
	struct spl_txn_peer tcp = fx_tcp();
	fx_client(&options, &tcp, NULL);
	fx_run_to(40 * SEC);
	cr_assert_eq(fx.nsent, 1);
	cr_assert_eq(fx_last(FX_TIMEOUT)->timer, SPL_TXN_TIMER_F);
	cr_assert_eq(fx_last(FX_TIMEOUT)->at, 32 * SEC);
}

Test(txn_client_non_invite, ack_is_never_a_client_transaction)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h;
	char br[SPL_SIPMSG_BRANCH_LEN];
	cr_assert_eq(spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_ACK, &udp, NULL, 0, &h, br), -EINVAL);
}

static uint64_t victim;
static void terminate_hook(uint64_t h, struct spl_sipmsg *m)
{
	(void)m;
	cr_assert_eq(h, victim);
	cr_assert_eq(spl_txn_terminate(fx.tbl, h), 0);
}

Test(txn_client_non_invite, tu_may_terminate_inside_on_response)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	victim = fx_client(&options, &udp, br);
	fx.on_rsp_hook = terminate_hook;
	struct fx_rsp r = rsp(200, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(fx_count(FX_TERM), 1);
	fx_run_to(40 * SEC);
	cr_assert_eq(spl_txn_live(fx.tbl), 0);
	cr_assert_eq(spl_txn_stats(fx.tbl)->stale_timers, 0);
}

Test(txn_client_non_invite, transport_error_on_timer_e_is_reported)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = fx_client(&options, &udp, NULL);
	fx.fail_send = -ENOBUFS;
	fx_run_to(1 * SEC);
	cr_assert_eq(fx_last(FX_TERR)->handle, h);
	cr_assert_eq(fx_last(FX_TERR)->err, -ENOBUFS);
	cr_assert_eq(fx_last(FX_TERR)->at, 500 * MS);
	cr_assert_eq(fx_last(FX_TERM)->handle, h);
	fx_run_to(40 * SEC);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
	cr_assert_eq(spl_txn_live(fx.tbl), 0);
}

Test(txn_client_non_invite, custom_t1_caps_at_t2)
{
	fx_teardown();
	fx_setup_conf(8, 1000 * MS, true);  /* T1 = 1 s, T2 = 4 s */
	struct spl_txn_peer udp = fx_udp();
	fx_client(&options, &udp, NULL);
	fx_run_to(70 * SEC);
	static const uint64_t at[] = { 0, 1000, 3000, 7000, 11000, 15000, 19000, 23000, 27000,
				       31000, 35000, 39000, 43000, 47000, 51000, 55000, 59000, 63000 };
	fx_assert_send_times_ms(at, 18);
	cr_assert_eq(fx_last(FX_TIMEOUT)->at, 64 * SEC);
}
