/* SPDX-License-Identifier: BSD-3-Clause */
/* Client INVITE transaction: RFC 3261 §17.1.1 with RFC 6026 (Accepted, Timer M). */
#include "txn_fixture.h"

TestSuite(txn_client_invite, .init = fx_setup, .fini = fx_teardown);

static struct fx_rsp rsp(uint16_t status, const char *branch)
{
	return (struct fx_rsp){ .status = status, .branch = branch,
				.to_tag = status > 100 ? "a6c85cf" : NULL };
}

Test(txn_client_invite, udp_retransmits_at_t1_doubling_until_timer_b)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &udp, NULL);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_CALLING);
	cr_assert_eq(spl_txn_kind(fx.tbl, h), SPL_TXN_KIND_CLIENT_INVITE);

	fx_run_to(31999 * MS);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
	fx_run_to(32 * SEC);
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 15500, 31500 };
	fx_assert_send_times_ms(at, 7);
	for (uint32_t i = 1; i < 7; i++)
		cr_assert_str_eq(fx_sent_text(i), fx_sent_text(0), "retransmission resends the same bytes");
	const struct fx_ev *e = fx_last(FX_TIMEOUT);
	cr_assert_not_null(e);
	cr_assert_eq(e->timer, SPL_TXN_TIMER_B);
	cr_assert_eq(e->at, 32 * SEC);
	cr_assert_eq(e->handle, h);
	cr_assert_eq(fx_count(FX_TERM), 1);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	fx_run_to(100 * SEC);
	cr_assert_eq(fx.nsent, 7, "nothing after Timer B");
	const struct spl_txn_stats *st = spl_txn_stats(fx.tbl);
	cr_assert_eq(st->retransmitted, 6);
	cr_assert_eq(st->timeouts[SPL_TXN_TIMER_B], 1);
	cr_assert_eq(st->live[SPL_TXN_KIND_CLIENT_INVITE][SPL_TXN_STATE_CALLING], 0);
	cr_assert_eq(spl_txn_live(fx.tbl), 0);
}

Test(txn_client_invite, configurable_t1_scales_a_and_b)
{
	fx_teardown();
	fx_setup_conf(16, 100 * MS, true);
	struct spl_txn_peer udp = fx_udp();
	fx_client(&(struct fx_req){ 0 }, &udp, NULL);
	fx_run_to(7 * SEC);
	static const uint64_t at[] = { 0, 100, 300, 700, 1500, 3100, 6300 };
	fx_assert_send_times_ms(at, 7);
	cr_assert_eq(fx_last(FX_TIMEOUT)->at, 6400 * MS);
}

Test(txn_client_invite, reliable_transport_sends_once_then_timer_b)
{
	struct spl_txn_peer tcp = fx_tcp();
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &tcp, NULL);
	fx_run_to(40 * SEC);
	static const uint64_t at[] = { 0 };
	fx_assert_send_times_ms(at, 1);
	cr_assert_eq(fx.sent[0].dst.conn_id, 7);
	cr_assert_eq(fx_last(FX_TIMEOUT)->timer, SPL_TXN_TIMER_B);
	cr_assert_eq(fx_last(FX_TIMEOUT)->at, 32 * SEC);
	cr_assert_eq(fx_last(FX_TERM)->handle, h);
}

Test(txn_client_invite, provisional_moves_to_proceeding_and_stops_retransmissions)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &udp, br);
	fx_run_to(1 * SEC);
	struct fx_rsp r = rsp(100, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_PROCEEDING);
	r = rsp(180, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED, "further provisionals are passed up");
	cr_assert_eq(fx_count(FX_RSP), 2);
	cr_assert_eq(fx_last(FX_RSP)->status, 180);
	cr_assert_eq(fx_last(FX_RSP)->handle, h);
	cr_assert_eq(spl_txn_status(fx.tbl, h), 180);
	fx_run_to(60 * SEC);
	static const uint64_t at[] = { 0, 500 };
	fx_assert_send_times_ms(at, 2);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0, "Timer B does not apply in Proceeding");
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_PROCEEDING);
	cr_assert_eq(spl_txn_terminate(fx.tbl, h), 0);
	cr_assert_eq(fx_count(FX_TERM), 1);
}

Test(txn_client_invite, non2xx_final_generates_ack_and_completed_absorbs_retransmissions)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t h = fx_client(&(struct fx_req){ .route = "<sip:p2.example.com;lr>" }, &udp, br);
	fx_run_to(200 * MS);
	struct fx_rsp r = rsp(486, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(fx_last(FX_RSP)->status, 486);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	cr_assert_eq(fx.nsent, 2);

	/* §17.1.1.3: R-URI, the one top Via, From, Call-ID and Route of the
	 * INVITE; To of the response; CSeq number with method ACK. */
	char want[1024];
	snprintf(want, sizeof(want),
		 "ACK sip:bob@biloxi.example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP proxy.example.com;branch=%s\r\n"
		 "Max-Forwards: 70\r\n"
		 "Route: <sip:p2.example.com;lr>\r\n"
		 "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		 "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
		 "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
		 "CSeq: 314159 ACK\r\n"
		 "Content-Length: 0\r\n\r\n", br);
	cr_assert_str_eq(fx_sent_text(1), want);
	struct spl_sipmsg *ack = fx_msg(fx_sent_text(1), fx.sent[1].len);
	cr_assert_eq(spl_sipmsg_parse(ack, SPL_SIPMSG_P_PROXY), SPL_SIPMSG_E_NONE);
	cr_assert_eq(ack->nvias, 1);
	cr_assert_eq(ack->method_id, SPL_SIP_METHOD_ACK);

	/* A retransmitted final is ACKed again and not passed up. */
	fx_run_to(1 * SEC);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx.nsent, 3);
	cr_assert_str_eq(fx_sent_text(2), want);
	cr_assert_eq(fx_count(FX_RSP), 1);
	r = rsp(180, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_ABSORBED, "late provisional dropped");
	cr_assert_eq(fx.nsent, 3);

	/* No retransmissions of the INVITE after the final; Timer D = 32 s. */
	fx_run_to(32199 * MS);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	fx_run_to(32200 * MS);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1, "Timer D ended it");
	cr_assert_eq(fx_last(FX_TERM)->at, 32200 * MS);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
	cr_assert_eq(fx.nsent, 3);
	cr_assert_eq(spl_txn_stats(fx.tbl)->resent, 1);
}

Test(txn_client_invite, non2xx_final_from_proceeding_over_tcp_acks_and_timer_d_is_zero)
{
	struct spl_txn_peer tcp = fx_tcp();
	char br[32];
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &tcp, br);
	struct fx_rsp r = rsp(180, br);
	fx_rx_rsp(&r, &tcp);
	r = rsp(603, br);
	cr_assert_eq(fx_rx_rsp(&r, &tcp), SPL_TXN_RX_PASSED);
	cr_assert_eq(fx.nsent, 2, "the ACK is sent over reliable transports too");
	cr_assert(strncmp(fx_sent_text(1), "ACK ", 4) == 0);
	cr_assert_eq(fx.sent[1].dst.conn_id, 7, "ACK goes where the INVITE went");
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	cr_assert_eq(fx_count(FX_TERM), 1);
	/* The order the TU sees: the final, then the end. */
	cr_assert_eq(fx.ev[fx.nev - 2].kind, FX_RSP);
	cr_assert_eq(fx.ev[fx.nev - 1].kind, FX_TERM);
}

Test(txn_client_invite, ok_2xx_enters_accepted_passes_further_2xx_until_timer_m)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &udp, br);
	fx_run_to(700 * MS);
	struct fx_rsp r = rsp(200, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_ACCEPTED);
	cr_assert_eq(fx.nsent, 2, "no ACK for a 2xx from the transaction");
	fx_run_to(5 * SEC);
	cr_assert_eq(fx.nsent, 2, "no retransmissions in Accepted");
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED, "RFC 6026: 2xx retransmission passed up");
	r.to_tag = "otherfork";
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED, "2xx of another fork passed up");
	cr_assert_eq(fx_count(FX_RSP), 3);
	r = rsp(486, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx_count(FX_RSP), 3);
	fx_run_to(32699 * MS);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_ACCEPTED);
	fx_run_to(32700 * MS);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1, "Timer M = 64*T1");
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
	/* After termination a 2xx matches nothing and goes up statelessly. */
	r = rsp(200, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_STATELESS);
	cr_assert_eq(fx_last(FX_RSP)->handle, SPL_TXN_NONE);
}

Test(txn_client_invite, ok_2xx_in_calling_over_tcp_still_accepted_for_timer_m)
{
	struct spl_txn_peer tcp = fx_tcp();
	char br[32];
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &tcp, br);
	struct fx_rsp r = rsp(200, br);
	fx_rx_rsp(&r, &tcp);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_ACCEPTED);
	fx_run_to(32 * SEC);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
}

Test(txn_client_invite, transport_error_on_first_send_is_reported)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = SPL_TXN_NONE;
	char br[SPL_SIPMSG_BRANCH_LEN];
	cr_assert_eq(spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_INVITE, &udp, (void *)&fx, 9, &h, br), 0);
	fx.fail_send = -ENETUNREACH;
	struct spl_txn_buf b = fx_buf("INVITE x", 8);
	cr_assert_eq(spl_txn_client_start(fx.tbl, h, &b, fx.now), -ENETUNREACH);
	cr_assert_eq(fx_last(FX_TERR)->err, -ENETUNREACH);
	cr_assert_eq(fx_last(FX_TERM)->user, (void *)&fx);
	cr_assert_eq(fx_last(FX_TERM)->user32, 9);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	cr_assert_eq(spl_txn_stats(fx.tbl)->transport_errors, 1);
}

Test(txn_client_invite, transport_error_on_retransmission_is_reported)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &udp, NULL);
	fx.fail_send = -EHOSTUNREACH;
	fx.fail_after = 1;  /* the retransmission at 0.5 s goes, 1.5 s fails */
	fx_run_to(2 * SEC);
	cr_assert_eq(fx.nsent, 2);
	cr_assert_eq(fx_last(FX_TERR)->handle, h);
	cr_assert_eq(fx_last(FX_TERR)->at, 1500 * MS);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	fx_run_to(40 * SEC);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0);
}

Test(txn_client_invite, cancel_is_its_own_transaction_on_the_invite_branch)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32], cbr[SPL_SIPMSG_BRANCH_LEN + 1] = { 0 };
	uint64_t inv = fx_client(&(struct fx_req){ 0 }, &udp, br);
	struct fx_rsp r = rsp(180, br);
	fx_rx_rsp(&r, &udp);

	uint64_t c = SPL_TXN_NONE, c2;
	cr_assert_eq(spl_txn_client_reserve_cancel(fx.tbl, inv, NULL, 0, &c), 0);
	cr_assert_neq(c, inv);
	cr_assert_eq(spl_txn_client_reserve_cancel(fx.tbl, inv, NULL, 0, &c2), -EEXIST);
	cr_assert_eq(spl_txn_branch(fx.tbl, c, cbr), 0);
	cr_assert_str_eq(cbr, br, "§9.1: the CANCEL carries the INVITE's branch");
	cr_assert_eq(spl_txn_kind(fx.tbl, c), SPL_TXN_KIND_CLIENT_NON_INVITE);
	cr_assert_eq(spl_txn_method(fx.tbl, c), SPL_SIP_METHOD_CANCEL);
	cr_assert_not_null(spl_txn_sent(fx.tbl, inv), "the TU builds the CANCEL from the INVITE's bytes");

	char text[1024];
	int n = fx_req_text(&(struct fx_req){ .method = "CANCEL", .branch = br,
					      .via_host = "proxy.example.com" }, text, sizeof(text));
	struct spl_txn_buf b = fx_buf(text, (uint32_t)n);
	cr_assert_eq(spl_txn_client_start(fx.tbl, c, &b, fx.now), 0);
	cr_assert_eq(spl_txn_state(fx.tbl, c), SPL_TXN_STATE_TRYING);

	r = rsp(200, br);
	r.cseq_method = "CANCEL";
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(fx_last(FX_RSP)->handle, c);
	cr_assert_eq(spl_txn_state(fx.tbl, c), SPL_TXN_STATE_COMPLETED);
	cr_assert_eq(spl_txn_state(fx.tbl, inv), SPL_TXN_STATE_PROCEEDING);

	r = rsp(487, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(fx_last(FX_RSP)->handle, inv);
	cr_assert_eq(spl_txn_state(fx.tbl, inv), SPL_TXN_STATE_COMPLETED);
	fx_run_to(40 * SEC);
	cr_assert_eq(spl_txn_live(fx.tbl), 0);
	cr_assert_eq(fx_count(FX_TERM), 2);
}

Test(txn_client_invite, cancel_response_after_the_invite_ended_still_reaches_the_cancel)
{
	struct spl_txn_peer tcp = fx_tcp();
	char br[32];
	uint64_t inv = fx_client(&(struct fx_req){ 0 }, &tcp, br);
	struct fx_rsp r = rsp(180, br);
	fx_rx_rsp(&r, &tcp);
	uint64_t c;
	cr_assert_eq(spl_txn_client_reserve_cancel(fx.tbl, inv, NULL, 0, &c), 0);
	struct spl_txn_buf b = fx_buf("CANCEL", 6);
	cr_assert_eq(spl_txn_client_start(fx.tbl, c, &b, fx.now), 0);

	r = rsp(487, br);
	fx_rx_rsp(&r, &tcp);  /* TCP: Timer D = 0, the INVITE ends now */
	cr_assert_eq(spl_txn_state(fx.tbl, inv), -1);
	cr_assert_eq(spl_txn_live(fx.tbl), 2, "INVITE slot kept while its CANCEL lives");

	r = rsp(200, br);
	r.cseq_method = "CANCEL";
	cr_assert_eq(fx_rx_rsp(&r, &tcp), SPL_TXN_RX_PASSED);
	cr_assert_eq(fx_last(FX_RSP)->handle, c);
	cr_assert_eq(spl_txn_live(fx.tbl), 0, "TCP: Timer K = 0 ends the CANCEL and frees both");

	r = rsp(487, br);
	cr_assert_eq(fx_rx_rsp(&r, &tcp), SPL_TXN_RX_STATELESS);
}

Test(txn_client_invite, cancel_needs_a_live_started_invite)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h, c;
	char br[SPL_SIPMSG_BRANCH_LEN];
	cr_assert_eq(spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_INVITE, &udp, NULL, 0, &h, br), 0);
	cr_assert_eq(spl_txn_client_reserve_cancel(fx.tbl, h, NULL, 0, &c), -EINVAL, "not sent yet");
	cr_assert_eq(spl_txn_client_abandon(fx.tbl, h), 0);
	cr_assert_eq(spl_txn_client_reserve_cancel(fx.tbl, h, NULL, 0, &c), -ESTALE);
	uint64_t o;
	cr_assert_eq(spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_OPTIONS, &udp, NULL, 0, &o, br), 0);
	struct spl_txn_buf b = fx_buf("OPTIONS", 7);
	spl_txn_client_start(fx.tbl, o, &b, fx.now);
	cr_assert_eq(spl_txn_client_reserve_cancel(fx.tbl, o, NULL, 0, &c), -EINVAL);
	cr_assert_eq(fx_count(FX_TERM), 0, "abandoning a reservation calls nothing");
}

Test(txn_client_invite, ok_2xx_from_proceeding_enters_accepted)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &udp, br);
	struct fx_rsp r = rsp(183, br);
	fx_rx_rsp(&r, &udp);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_PROCEEDING);
	fx_run_to(10 * SEC);
	r = rsp(200, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_ACCEPTED);
	r = rsp(180, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_ABSORBED, "late provisional in Accepted");
	fx_run_to(42 * SEC);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	cr_assert_eq(fx_last(FX_TERM)->at, 42 * SEC, "Timer M runs from entering Accepted");
}

Test(txn_client_invite, abandoned_cancel_unlinks_from_the_invite)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t inv = fx_client(&(struct fx_req){ 0 }, &udp, br);
	uint64_t c;
	cr_assert_eq(spl_txn_client_reserve_cancel(fx.tbl, inv, NULL, 0, &c), 0);
	cr_assert_eq(spl_txn_client_abandon(fx.tbl, c), 0);
	cr_assert_eq(spl_txn_client_reserve_cancel(fx.tbl, inv, NULL, 0, &c), 0, "room for a new CANCEL");
	/* The INVITE ends first (Timer B), the reserved CANCEL keeps its slot... */
	fx_run_to(33 * SEC);
	cr_assert_eq(spl_txn_state(fx.tbl, inv), -1);
	cr_assert_eq(spl_txn_live(fx.tbl), 2);
	/* ... and abandoning the CANCEL frees both. */
	cr_assert_eq(spl_txn_client_abandon(fx.tbl, c), 0);
	cr_assert_eq(spl_txn_live(fx.tbl), 0);
	cr_assert_eq(spl_txn_stats(fx.tbl)->live[SPL_TXN_KIND_CLIENT_INVITE][SPL_TXN_STATE_TERMINATED], 0);
}

Test(txn_client_invite, ack_without_a_buffer_is_retried_on_the_retransmitted_final)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &udp, br);
	fx.fail_alloc = 1;
	struct fx_rsp r = rsp(480, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	cr_assert_eq(fx.nsent, 1, "no ACK, and certainly not the INVITE again");
	cr_assert_eq(spl_txn_stats(fx.tbl)->ack_failures, 1);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx.nsent, 2);
	cr_assert(strncmp(fx_sent_text(1), "ACK sip:bob@biloxi.example.com SIP/2.0\r\n", 40) == 0);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_ABSORBED);
	cr_assert_str_eq(fx_sent_text(2), fx_sent_text(1));
}

/* A stream that failed after the send was accepted (TCP connect refused):
 * the request itself names its transaction; it fails over at once. */
Test(txn_client_invite, send_failed_later_ends_the_transaction_as_a_transport_error)
{
	struct spl_txn_peer tcp = fx_tcp();
	char br[64];   /* fx_client copies the branch with its NUL */
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &tcp, br);
	cr_assert_eq(fx.nsent, 1);
	fx_run_to(2 * SEC);
	struct spl_sipmsg *m = fx_msg(fx_sent_text(0), (uint32_t)strlen(fx_sent_text(0)));
	cr_assert_eq(spl_txn_client_send_failed(fx.tbl, m, -ECONNREFUSED, fx.now), 0);
	cr_assert_eq(fx_last(FX_TERR)->handle, h);
	cr_assert_eq(fx_last(FX_TERR)->err, -ECONNREFUSED);
	cr_assert_eq(fx_last(FX_TERR)->at, 2 * SEC);
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	cr_assert_eq(spl_txn_stats(fx.tbl)->transport_errors, 1);
	/* Told again (a second queued copy): the transaction is gone. */
	m = fx_msg(fx_sent_text(0), (uint32_t)strlen(fx_sent_text(0)));
	cr_assert_eq(spl_txn_client_send_failed(fx.tbl, m, -ECONNREFUSED, fx.now), -ENOENT);
	fx_run_to(40 * SEC);
	cr_assert_eq(fx_count(FX_TIMEOUT), 0, "no Timer B after the transport error");
	/* A response is not a request: refused. */
	struct fx_rsp r = rsp(200, br);
	char text[1024];
	int n = fx_rsp_text(&r, text, sizeof(text));
	cr_assert_eq(spl_txn_client_send_failed(fx.tbl, fx_msg(text, (uint32_t)n), -EIO, fx.now), -EINVAL);
}
