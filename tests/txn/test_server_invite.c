/* SPDX-License-Identifier: BSD-3-Clause */
/* Server INVITE transaction: RFC 3261 §17.2.1 with RFC 6026 (Accepted, Timer L). */
#include "txn_fixture.h"

TestSuite(txn_server_invite, .init = fx_setup, .fini = fx_teardown);

static const struct fx_req invite = { .method = "INVITE" };
static const struct fx_req ack = { .method = "ACK", .to_tag = "a6c85cf" };

static uint64_t new_invite(const struct spl_txn_peer *src)
{
	cr_assert_eq(fx_rx_req(&invite, src), SPL_TXN_RX_NEW);
	const struct fx_ev *e = fx_last(FX_REQ);
	cr_assert_eq(e->req_kind, SPL_TXN_REQ_NEW);
	cr_assert_eq(e->method, SPL_SIP_METHOD_INVITE);
	cr_assert_neq(e->handle, SPL_TXN_NONE);
	return e->handle;
}

Test(txn_server_invite, new_invite_is_passed_up_in_proceeding)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_invite(&udp);
	cr_assert_eq(spl_txn_kind(fx.tbl, h), SPL_TXN_KIND_SERVER_INVITE);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_PROCEEDING);
	cr_assert_eq(spl_txn_stats(fx.tbl)->live[SPL_TXN_KIND_SERVER_INVITE][SPL_TXN_STATE_PROCEEDING], 1);
	cr_assert_eq(fx.nsent, 0);
	fx_run_to(100 * SEC);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_PROCEEDING, "no timer in Proceeding");
}

Test(txn_server_invite, retransmitted_invite_is_absorbed_and_answered_with_last_provisional)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_invite(&udp);
	cr_assert_eq(fx_rx_req(&invite, &udp), SPL_TXN_RX_ABSORBED, "nothing sent yet: silent");
	cr_assert_eq(fx.nsent, 0);
	cr_assert_eq(fx_respond(h, 100, NULL), 0);
	cr_assert_eq(fx_respond(h, 180, "a6c85cf"), 0);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_PROCEEDING);
	cr_assert_eq(fx.nsent, 2);
	cr_assert_eq(fx_rx_req(&invite, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx.nsent, 3);
	cr_assert(strncmp(fx_sent_text(2), "SIP/2.0 180 ", 12) == 0);
	cr_assert_eq(fx.sent[2].dst.port, 5060, "to the request's source");
	cr_assert_eq(fx_count(FX_REQ), 1, "the TU never sees a retransmission");
	cr_assert_eq(spl_txn_stats(fx.tbl)->absorbed, 2);
	cr_assert_eq(spl_txn_stats(fx.tbl)->resent, 1);
}

Test(txn_server_invite, non2xx_final_retransmitted_on_timer_g_until_ack_then_timer_i)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_invite(&udp);
	cr_assert_eq(fx_respond(h, 486, "a6c85cf"), 0);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	fx_run_to(5 * SEC);
	cr_assert_eq(fx_rx_req(&invite, &udp), SPL_TXN_RX_ABSORBED, "INVITE in Completed: resend final");
	cr_assert_eq(fx_rx_req(&ack, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_CONFIRMED);
	cr_assert_eq(fx_count(FX_REQ), 1, "the ACK for a non-2xx stays in the transaction");
	cr_assert_eq(fx_rx_req(&ack, &udp), SPL_TXN_RX_ABSORBED, "ACK retransmission absorbed");
	cr_assert_eq(fx_rx_req(&invite, &udp), SPL_TXN_RX_ABSORBED);
	fx_run_to(9999 * MS);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_CONFIRMED);
	fx_run_to(10 * SEC);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1, "Timer I = T4");
	static const uint64_t at[] = { 0, 500, 1500, 3500, 5000 };
	fx_assert_send_times_ms(at, 5);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
}

Test(txn_server_invite, timer_h_without_ack_is_a_failure)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_invite(&udp);
	cr_assert_eq(fx_respond(h, 500, "a6c85cf"), 0);
	fx_run_to(31999 * MS);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
	fx_run_to(40 * SEC);
	/* Timer G doubles from T1 and caps at T2. */
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 11500, 15500, 19500,
				       23500, 27500, 31500 };
	fx_assert_send_times_ms(at, 11);
	cr_assert_eq(fx_last(FX_TIMEOUT)->timer, SPL_TXN_TIMER_H);
	cr_assert_eq(fx_last(FX_TIMEOUT)->at, 32 * SEC);
	cr_assert_eq(fx_last(FX_TERM)->handle, h);
	cr_assert_eq(spl_txn_stats(fx.tbl)->retransmitted, 10);
}

Test(txn_server_invite, reliable_transport_no_timer_g_timer_i_zero)
{
	struct spl_txn_peer tcp = fx_tcp();
	uint64_t h = new_invite(&tcp);
	cr_assert_eq(fx_respond(h, 404, "a6c85cf"), 0);
	fx_run_to(10 * SEC);
	cr_assert_eq(fx.nsent, 1);
	cr_assert_eq(fx_rx_req(&ack, &tcp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1, "Confirmed lasts 0 s over TCP");
}

Test(txn_server_invite, reliable_transport_still_waits_timer_h)
{
	struct spl_txn_peer tcp = fx_tcp();
	uint64_t h = new_invite(&tcp);
	cr_assert_eq(fx_respond(h, 404, "a6c85cf"), 0);
	fx_run_to(40 * SEC);
	cr_assert_eq(fx.nsent, 1);
	cr_assert_eq(fx_last(FX_TIMEOUT)->timer, SPL_TXN_TIMER_H);
	cr_assert_eq(fx_last(FX_TIMEOUT)->handle, h);
}

Test(txn_server_invite, ok_2xx_enters_accepted_absorbs_invites_sends_tu_2xx_until_timer_l)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_invite(&udp);
	cr_assert_eq(fx_respond(h, 180, "a6c85cf"), 0);
	fx_run_to(1 * SEC);
	cr_assert_eq(fx_respond(h, 200, "a6c85cf"), 0);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_ACCEPTED);
	cr_assert_null(spl_txn_sent(fx.tbl, h), "Accepted never resends: the 2xx bytes are released at once");
	fx_run_to(2 * SEC);
	cr_assert_eq(fx.nsent, 2, "the layer never retransmits a 2xx itself");
	cr_assert_eq(fx_rx_req(&invite, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx.nsent, 2, "INVITE retransmission in Accepted: absorbed, nothing sent");
	cr_assert_eq(fx_count(FX_REQ), 1);
	cr_assert_eq(fx_respond(h, 200, "a6c85cf"), 0, "the TU's 2xx retransmission goes out");
	cr_assert_eq(fx.nsent, 3);
	cr_assert_eq(fx_respond(h, 486, "a6c85cf"), -EALREADY);
	cr_assert_eq(fx_respond(h, 183, "a6c85cf"), -EALREADY);
	cr_assert_eq(fx.nsent, 3);
	/* An ACK matching the transaction in Accepted is the 2xx's: to the TU. */
	cr_assert_eq(fx_rx_req(&ack, &udp), SPL_TXN_RX_STATELESS);
	cr_assert_eq(fx_last(FX_REQ)->req_kind, SPL_TXN_REQ_STATELESS);
	cr_assert_eq(fx_last(FX_REQ)->handle, SPL_TXN_NONE);
	fx_run_to(32999 * MS);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_ACCEPTED);
	fx_run_to(33 * SEC);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1, "Timer L = 64*T1");
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
	/* Afterwards the INVITE is new again. */
	cr_assert_eq(fx_rx_req(&invite, &udp), SPL_TXN_RX_NEW);
}

Test(txn_server_invite, finals_after_the_final_are_discarded)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_invite(&udp);
	cr_assert_eq(fx_respond(h, 486, "a6c85cf"), 0);
	cr_assert_eq(fx_respond(h, 200, "a6c85cf"), -EALREADY);
	cr_assert_eq(fx_respond(h, 603, "a6c85cf"), -EALREADY);
	cr_assert_eq(fx.nsent, 1);
	cr_assert_eq(spl_txn_status(fx.tbl, h), 486);
}

Test(txn_server_invite, bad_status_and_stale_handle_are_refused)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_invite(&udp);
	cr_assert_eq(fx_respond(h, 99, NULL), -EINVAL);
	cr_assert_eq(fx_respond(h, 700, NULL), -EINVAL);
	cr_assert_eq(fx_respond(h + (UINT64_C(1) << 32), 200, NULL), -ESTALE);
	cr_assert_eq(fx_respond(SPL_TXN_NONE, 200, NULL), -ESTALE);
	cr_assert_eq(fx.nsent, 0);
}

Test(txn_server_invite, transport_error_on_response_terminates)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_invite(&udp);
	fx.fail_send = -EPIPE;
	cr_assert_eq(fx_respond(h, 180, "x"), -EPIPE);
	cr_assert_eq(fx_last(FX_TERR)->handle, h);
	cr_assert_eq(fx_last(FX_TERM)->handle, h);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
}

Test(txn_server_invite, transport_error_on_timer_g_terminates)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = new_invite(&udp);
	cr_assert_eq(fx_respond(h, 480, "x"), 0);
	fx.fail_send = -ECONNREFUSED;
	fx_run_to(1 * SEC);
	cr_assert_eq(fx_last(FX_TERR)->at, 500 * MS);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	fx_run_to(40 * SEC);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
}

static void answer_now(uint64_t h, struct spl_sipmsg *m)
{
	(void)m;
	if (h != SPL_TXN_NONE)
		cr_assert_eq(fx_respond(h, 100, NULL), 0);
}

Test(txn_server_invite, tu_may_respond_inside_on_request)
{
	struct spl_txn_peer udp = fx_udp();
	fx.on_req_hook = answer_now;
	uint64_t h = new_invite(&udp);
	cr_assert_eq(fx.nsent, 1);
	cr_assert_eq(spl_txn_status(fx.tbl, h), 100);
	cr_assert_eq(fx_rx_req(&invite, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx.nsent, 2, "100 resent for the retransmission");
}
