/* SPDX-License-Identifier: BSD-3-Clause */
/* Server non-INVITE transaction: RFC 3261 §17.2.2 (timer J). */
#include "txn_fixture.h"

TestSuite(txn_server_non_invite, .init = fx_setup, .fini = fx_teardown);

static const struct fx_req bye = { .method = "BYE", .to_tag = "a6c85cf" };

static uint64_t new_bye(const struct spl_txn_peer *src)
{
	cr_assert_eq(fx_rx_req(&bye, src), SPL_TXN_RX_NEW);
	cr_assert_eq(fx_last(FX_REQ)->method, SPL_SIP_METHOD_BYE);
	return fx_last(FX_REQ)->handle;
}

Test(txn_server_non_invite, trying_absorbs_retransmissions_silently)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_bye(&udp);
	cr_assert_eq(spl_txn_kind(fx.tbl, h), SPL_TXN_KIND_SERVER_NON_INVITE);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_TRYING);
	cr_assert_eq(fx_rx_req(&bye, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx_rx_req(&bye, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx.nsent, 0);
	cr_assert_eq(fx_count(FX_REQ), 1);
	cr_assert_eq(spl_txn_stats(fx.tbl)->absorbed, 2);
}

Test(txn_server_non_invite, proceeding_resends_last_provisional)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_bye(&udp);
	cr_assert_eq(fx_respond(h, 100, NULL), 0);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_PROCEEDING);
	cr_assert_eq(fx_respond(h, 183, "a6c85cf"), 0, "further provisionals are sent");
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_PROCEEDING);
	cr_assert_eq(fx_rx_req(&bye, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx.nsent, 3);
	cr_assert(strncmp(fx_sent_text(2), "SIP/2.0 183 ", 12) == 0);
}

Test(txn_server_non_invite, completed_resends_final_until_timer_j)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_bye(&udp);
	fx_run_to(1 * SEC);
	cr_assert_eq(fx_respond(h, 200, "a6c85cf"), 0);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	fx_run_to(3 * SEC);
	cr_assert_eq(fx_rx_req(&bye, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx.nsent, 2);
	cr_assert_str_eq(fx_sent_text(1), fx_sent_text(0), "the same bytes again");
	cr_assert_eq(fx_respond(h, 500, NULL), -EALREADY, "later finals discarded");
	fx_run_to(32999 * MS);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	fx_run_to(33 * SEC);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1, "Timer J = 64*T1");
	static const uint64_t at[] = { 1000, 3000 };
	fx_assert_send_times_ms(at, 2);
	cr_assert_eq(fx_rx_req(&bye, &udp), SPL_TXN_RX_NEW, "after J it is a new request");
}

Test(txn_server_non_invite, final_from_proceeding)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_bye(&udp);
	fx_respond(h, 100, NULL);
	cr_assert_eq(fx_respond(h, 481, "a6c85cf"), 0);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	cr_assert_eq(spl_txn_stats(fx.tbl)->live[SPL_TXN_KIND_SERVER_NON_INVITE][SPL_TXN_STATE_COMPLETED], 1);
	cr_assert_eq(spl_txn_stats(fx.tbl)->live[SPL_TXN_KIND_SERVER_NON_INVITE][SPL_TXN_STATE_PROCEEDING], 0);
}

Test(txn_server_non_invite, reliable_transport_timer_j_is_zero)
{
	struct spl_txn_peer tcp = fx_tcp();
	uint64_t h = new_bye(&tcp);
	cr_assert_eq(fx_respond(h, 200, "a6c85cf"), 0);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	cr_assert_eq(fx.sent[0].dst.conn_id, 7);
	cr_assert_eq(fx_count(FX_TERM), 1);
	cr_assert_eq(spl_txn_live(fx.tbl), 0);
}

static void final_now(uint64_t h, struct spl_sipmsg *m)
{
	(void)m;
	cr_assert_eq(fx_respond(h, 200, "a6c85cf"), 0);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
}

Test(txn_server_non_invite, tu_final_inside_on_request_over_tcp_ends_at_once)
{
	struct spl_txn_peer tcp = fx_tcp();
	fx.on_req_hook = final_now;
	cr_assert_eq(fx_rx_req(&bye, &tcp), SPL_TXN_RX_NEW);
	cr_assert_eq(fx.nsent, 1);
	cr_assert_eq(fx_count(FX_TERM), 1);
	cr_assert_eq(spl_txn_live(fx.tbl), 0);
}

Test(txn_server_non_invite, peer_set_redirects_responses)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_bye(&udp);
	cr_assert_eq(spl_txn_peer_get(fx.tbl, h)->port, 5060, "the request's source is stored");
	struct spl_txn_peer p = udp;
	p.port = 5099;
	cr_assert_eq(spl_txn_peer_set(fx.tbl, h, &p), 0);
	fx_respond(h, 200, "x");
	cr_assert_eq(fx.sent[0].dst.port, 5099);
}

Test(txn_server_non_invite, timer_j_then_terminated_callback_carries_user_data)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_bye(&udp);
	int ctx;
	cr_assert_eq(spl_txn_user_set(fx.tbl, h, &ctx, 77), 0);
	uint32_t u32;
	cr_assert_eq(spl_txn_user_get(fx.tbl, h, &u32), &ctx);
	cr_assert_eq(u32, 77);
	fx_respond(h, 200, "x");
	fx_run_to(40 * SEC);
	cr_assert_eq(fx_last(FX_TERM)->user, &ctx);
	cr_assert_eq(fx_last(FX_TERM)->user32, 77);
	cr_assert_eq(fx_last(FX_TERM)->at, 32 * SEC);
	cr_assert_null(spl_txn_user_get(fx.tbl, h, &u32));
	cr_assert_eq(spl_txn_user_set(fx.tbl, h, NULL, 0), -ESTALE);
}

Test(txn_server_non_invite, transport_error_on_resend_terminates)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_bye(&udp);
	fx_respond(h, 200, "x");
	fx.fail_send = -EMSGSIZE;
	cr_assert_eq(fx_rx_req(&bye, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx_last(FX_TERR)->err, -EMSGSIZE);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	fx.fail_send = 0;
	cr_assert_eq(fx_rx_req(&bye, &udp), SPL_TXN_RX_NEW);
}
