/* SPDX-License-Identifier: BSD-3-Clause */
/* Matching: responses by our branch (§17.1.3), requests per §17.2.3 incl.
 * the RFC 2543 fallback, ACK and CANCEL. */
#include "txn_fixture.h"

TestSuite(txn_match, .init = fx_setup, .fini = fx_teardown);

static uint64_t rx_new(const struct fx_req *r)
{
	struct spl_txn_peer udp = fx_udp();
	cr_assert_eq(fx_rx_req(r, &udp), SPL_TXN_RX_NEW);
	return fx_last(FX_REQ)->handle;
}

static int rx(const struct fx_req *r)
{
	struct spl_txn_peer udp = fx_udp();
	return fx_rx_req(r, &udp);
}

/* ---- requests, RFC 3261 ---- */

Test(txn_match, ack_for_2xx_is_new_transaction)
{
	uint64_t h = rx_new(&(struct fx_req){ 0 });
	fx_respond(h, 200, "a6c85cf");
	/* The ACK for a 2xx has its own branch: it matches nothing. */
	cr_assert_eq(rx(&(struct fx_req){ .method = "ACK", .branch = "z9hG4bKnewack1",
					  .to_tag = "a6c85cf" }), SPL_TXN_RX_STATELESS);
	const struct fx_ev *e = fx_last(FX_REQ);
	cr_assert_eq(e->req_kind, SPL_TXN_REQ_STATELESS);
	cr_assert_eq(e->handle, SPL_TXN_NONE);
	cr_assert_eq(e->method, SPL_SIP_METHOD_ACK);
	cr_assert_eq(spl_txn_live(fx.tbl), 1, "no transaction for the ACK");
	cr_assert_eq(spl_txn_stats(fx.tbl)->stateless_requests, 1);
}

Test(txn_match, ack_for_non2xx_matches_the_invite_transaction)
{
	uint64_t h = rx_new(&(struct fx_req){ 0 });
	fx_respond(h, 486, "a6c85cf");
	cr_assert_eq(rx(&(struct fx_req){ .method = "ACK", .to_tag = "a6c85cf" }), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_CONFIRMED);
}

Test(txn_match, cancel_is_its_own_transaction_and_finds_the_invite)
{
	uint64_t inv = rx_new(&(struct fx_req){ 0 });
	fx_respond(inv, 180, "a6c85cf");
	struct fx_req cancel = { .method = "CANCEL" };
	uint64_t c = rx_new(&cancel);
	cr_assert_neq(c, inv);
	cr_assert_eq(spl_txn_kind(fx.tbl, c), SPL_TXN_KIND_SERVER_NON_INVITE);
	cr_assert_eq(spl_txn_method(fx.tbl, c), SPL_SIP_METHOD_CANCEL);
	cr_assert_eq(spl_txn_state(fx.tbl, inv), SPL_TXN_STATE_PROCEEDING, "the INVITE is untouched");
	char text[1024];
	int n = fx_req_text(&cancel, text, sizeof(text));
	cr_assert_eq(spl_txn_find_invite_for_cancel(fx.tbl, fx_msg(text, (uint32_t)n)), inv);
	cr_assert_eq(rx(&cancel), SPL_TXN_RX_ABSORBED, "CANCEL retransmission");
}

Test(txn_match, cancel_without_invite_finds_none)
{
	rx_new(&(struct fx_req){ 0 });
	char text[1024];
	int n = fx_req_text(&(struct fx_req){ .method = "CANCEL", .branch = "z9hG4bKother" }, text, sizeof(text));
	cr_assert_eq(spl_txn_find_invite_for_cancel(fx.tbl, fx_msg(text, (uint32_t)n)), SPL_TXN_NONE);
	n = fx_req_text(&(struct fx_req){ .method = "CANCEL", .via_host = "elsewhere.example.com" }, text, sizeof(text));
	cr_assert_eq(spl_txn_find_invite_for_cancel(fx.tbl, fx_msg(text, (uint32_t)n)), SPL_TXN_NONE,
		     "same branch, other sent-by");
}

Test(txn_match, sent_by_is_part_of_the_key)
{
	rx_new(&(struct fx_req){ 0 });
	rx_new(&(struct fx_req){ .via_host = "pc34.atlanta.example.com" });
	rx_new(&(struct fx_req){ .via_host = "pc33.atlanta.example.com:5062" });
	cr_assert_eq(rx(&(struct fx_req){ .via_host = "PC33.Atlanta.Example.COM" }), SPL_TXN_RX_ABSORBED,
		     "host compared case-insensitively");
	cr_assert_eq(spl_txn_live(fx.tbl), 3);
}

Test(txn_match, ip_sent_by_compared_as_address)
{
	rx_new(&(struct fx_req){ .via_host = "[2001:db8::1]:5060" });
	cr_assert_eq(rx(&(struct fx_req){ .via_host = "[2001:DB8:0::1]:5060" }), SPL_TXN_RX_ABSORBED);
	rx_new(&(struct fx_req){ .via_host = "192.0.2.1" });
	cr_assert_eq(rx(&(struct fx_req){ .via_host = "192.0.2.1" }), SPL_TXN_RX_ABSORBED);
	rx_new(&(struct fx_req){ .via_host = "192.0.2.2" });
}

Test(txn_match, branch_is_compared_exactly)
{
	rx_new(&(struct fx_req){ .branch = "z9hG4bKabc" });
	rx_new(&(struct fx_req){ .branch = "z9hG4bKABC" });
	rx_new(&(struct fx_req){ .branch = "z9hG4bKabcd" });
	cr_assert_eq(rx(&(struct fx_req){ .branch = "z9hG4bKabc" }), SPL_TXN_RX_ABSORBED);
}

Test(txn_match, method_is_part_of_the_key)
{
	uint64_t a = rx_new(&(struct fx_req){ .method = "OPTIONS" });
	uint64_t b = rx_new(&(struct fx_req){ .method = "INFO" });
	uint64_t c = rx_new(&(struct fx_req){ .method = "FOO" });
	uint64_t d = rx_new(&(struct fx_req){ .method = "BAR" });
	cr_assert(a != b && c != d);
	cr_assert_eq(rx(&(struct fx_req){ .method = "FOO" }), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(rx(&(struct fx_req){ .method = "ACK" }), SPL_TXN_RX_STATELESS,
		     "ACK matches only an INVITE transaction");
}

Test(txn_match, long_branch_is_matched_exactly_via_the_retained_request)
{
	char b1[300], b2[300];
	memset(b1, 'x', sizeof(b1));
	memcpy(b1, "z9hG4bK", 7);
	b1[250] = 0;
	memcpy(b2, b1, sizeof(b2));
	b2[249] = 'y';
	rx_new(&(struct fx_req){ .branch = b1 });
	cr_assert_eq(spl_txn_stats(fx.tbl)->retained, 1);
	cr_assert_eq(rx(&(struct fx_req){ .branch = b1 }), SPL_TXN_RX_ABSORBED);
	rx_new(&(struct fx_req){ .branch = b2 });
	cr_assert_eq(spl_txn_live(fx.tbl), 2);
}

/* ---- requests, RFC 2543 ---- */

static const struct fx_req inv2543 = { .branch = "", .via_params = ";received=192.0.2.7" };

Test(txn_match, rfc2543_invite_retransmission_matches)
{
	uint64_t h = rx_new(&inv2543);
	cr_assert_eq(spl_txn_stats(fx.tbl)->retained, 1);
	fx_respond(h, 180, "a6c85cf");
	cr_assert_eq(rx(&inv2543), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(fx.nsent, 2);
	struct fx_req r = inv2543;
	r.cseq = 314160;
	rx_new(&r);
	r = inv2543;
	r.from_tag = "other";
	rx_new(&r);
	r = inv2543;
	r.call_id = "other@x";
	rx_new(&r);
	r = inv2543;
	r.via_params = ";received=192.0.2.8";
	rx_new(&r);
	r = inv2543;
	r.to_tag = "sometag";
	rx_new(&r);
	cr_assert_eq(spl_txn_live(fx.tbl), 6);
}

Test(txn_match, rfc2543_request_uri_compared_per_rfc)
{
	rx_new(&(struct fx_req){ .branch = "", .ruri = "sip:bob@biloxi.example.com;transport=udp" });
	/* §19.1.4: host and parameter names/values case-insensitive, user not. */
	cr_assert_eq(rx(&(struct fx_req){ .branch = "", .ruri = "sip:bob@BILOXI.example.com;Transport=UDP" }),
		     SPL_TXN_RX_ABSORBED);
	cr_assert_eq(rx(&(struct fx_req){ .branch = "", .ruri = "sip:%62ob@biloxi.example.com;transport=udp" }),
		     SPL_TXN_RX_ABSORBED, "escaped unreserved character equals itself");
	rx_new(&(struct fx_req){ .branch = "", .ruri = "sip:BOB@biloxi.example.com;transport=udp" });
	rx_new(&(struct fx_req){ .branch = "", .ruri = "sip:bob@biloxi.example.com" });
}

Test(txn_match, rfc2543_via_parameters_compared_as_a_set)
{
	rx_new(&(struct fx_req){ .branch = "", .via_params = ";received=192.0.2.7;ttl=1" });
	cr_assert_eq(rx(&(struct fx_req){ .branch = "", .via_params = ";ttl=1;received=192.0.2.7" }),
		     SPL_TXN_RX_ABSORBED);
	rx_new(&(struct fx_req){ .branch = "", .via_params = ";ttl=1" });
	rx_new(&(struct fx_req){ .branch = "", .via_params = ";ttl=1;received=192.0.2.7;maddr=x" });
}

Test(txn_match, rfc2543_ack_matches_by_the_to_tag_of_the_response_sent)
{
	uint64_t h = rx_new(&inv2543);
	fx_respond(h, 486, "resp-tag");
	struct fx_req a = inv2543;
	a.method = "ACK";
	a.to_tag = "other-tag";
	cr_assert_eq(rx(&a), SPL_TXN_RX_STATELESS, "To tag not the one we sent");
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_COMPLETED);
	a.to_tag = "resp-tag";
	cr_assert_eq(rx(&a), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_CONFIRMED);
}

Test(txn_match, rfc2543_ack_for_2xx_in_accepted_goes_to_the_tu)
{
	uint64_t h = rx_new(&inv2543);
	fx_respond(h, 200, "resp-tag");
	struct fx_req a = inv2543;
	a.method = "ACK";
	a.to_tag = "resp-tag";
	cr_assert_eq(rx(&a), SPL_TXN_RX_STATELESS);
	cr_assert_eq(fx_last(FX_REQ)->method, SPL_SIP_METHOD_ACK);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_ACCEPTED);
}

Test(txn_match, rfc2543_cancel_finds_the_invite)
{
	uint64_t inv = rx_new(&inv2543);
	struct fx_req c = inv2543;
	c.method = "CANCEL";
	uint64_t ch = rx_new(&c);
	cr_assert_neq(ch, inv);
	char text[1024];
	int n = fx_req_text(&c, text, sizeof(text));
	cr_assert_eq(spl_txn_find_invite_for_cancel(fx.tbl, fx_msg(text, (uint32_t)n)), inv);
	c.cseq = 1;
	n = fx_req_text(&c, text, sizeof(text));
	cr_assert_eq(spl_txn_find_invite_for_cancel(fx.tbl, fx_msg(text, (uint32_t)n)), SPL_TXN_NONE);
}

Test(txn_match, rfc2543_non_invite_cseq_method_must_match)
{
	struct fx_req o = inv2543;
	o.method = "OPTIONS";
	rx_new(&o);
	cr_assert_eq(rx(&o), SPL_TXN_RX_ABSORBED);
	o.method = "INFO";
	rx_new(&o);
}

Test(txn_match, rfc2543_without_retain_uses_fingerprints)
{
	fx_teardown();
	fx_setup_conf(64, 0, false);
	uint64_t h = rx_new(&inv2543);
	cr_assert_eq(spl_txn_stats(fx.tbl)->retained, 0);
	cr_assert_eq(rx(&inv2543), SPL_TXN_RX_ABSORBED);
	struct fx_req r = inv2543;
	r.ruri = "sip:carol@biloxi.example.com";
	rx_new(&r);
	fx_respond(h, 486, "resp-tag");
	struct fx_req a = inv2543;
	a.method = "ACK";
	a.to_tag = "resp-tag";
	cr_assert_eq(rx(&a), SPL_TXN_RX_ABSORBED);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_CONFIRMED);

	/* A 3261 key too long for the slot: keyed fingerprint. */
	char b1[200];
	memset(b1, 'q', sizeof(b1));
	memcpy(b1, "z9hG4bK", 7);
	b1[180] = 0;
	rx_new(&(struct fx_req){ .method = "OPTIONS", .branch = b1 });
	cr_assert_eq(rx(&(struct fx_req){ .method = "OPTIONS", .branch = b1 }), SPL_TXN_RX_ABSORBED);
	b1[100] = 'r';
	rx_new(&(struct fx_req){ .method = "OPTIONS", .branch = b1 });
}

Test(txn_match, request_without_via_is_refused)
{
	const char *t = "OPTIONS sip:x@y SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n"
			"From: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nContent-Length: 0\r\n\r\n";
	struct spl_txn_peer udp = fx_udp();
	cr_assert_eq(spl_txn_recv_request(fx.tbl, fx_msg(t, (uint32_t)strlen(t)), NULL, &udp, fx.now), -EINVAL);
	cr_assert_eq(spl_txn_stats(fx.tbl)->bad_messages, 1);
}

/* ---- responses ---- */

static struct fx_rsp rsp(uint16_t status, const char *branch)
{
	return (struct fx_rsp){ .status = status, .branch = branch, .to_tag = "t" };
}

Test(txn_match, stale_branch_matches_nothing)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &udp, br);
	uint8_t shard;
	uint32_t slot;
	uint16_t gen;
	cr_assert(spl_sipmsg_branch_decode((struct spl_str){ br, (uint32_t)strlen(br) }, &shard, &slot, &gen));
	cr_assert_eq(shard, 3);
	char stale[32];
	spl_sipmsg_branch_encode(stale, shard, slot, (uint16_t)(gen + 1));
	stale[SPL_SIPMSG_BRANCH_LEN] = 0;
	struct fx_rsp r = rsp(180, stale);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_STATELESS);
	cr_assert_eq(fx_last(FX_RSP)->handle, SPL_TXN_NONE);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_CALLING);
	cr_assert_eq(spl_txn_stats(fx.tbl)->stale_responses, 1);

}

Test(txn_match, branch_of_a_reused_slot_is_stale)
{
	fx_teardown();
	fx_setup_conf(1, 0, true);  /* one slot: the next transaction reuses it */
	struct spl_txn_peer udp = fx_udp();
	char br[32];
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &udp, br);
	spl_txn_terminate(fx.tbl, h);
	uint64_t h2 = fx_client(&(struct fx_req){ 0 }, &udp, NULL);
	cr_assert_eq((uint32_t)h2, (uint32_t)h);
	struct fx_rsp r = rsp(180, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_STATELESS);
	cr_assert_eq(spl_txn_state(fx.tbl, h2), SPL_TXN_STATE_CALLING);
}

Test(txn_match, response_needs_our_shard_slot_and_method)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32], other[32];
	fx_client(&(struct fx_req){ 0 }, &udp, br);
	uint8_t shard;
	uint32_t slot;
	uint16_t gen;
	spl_sipmsg_branch_decode((struct spl_str){ br, (uint32_t)strlen(br) }, &shard, &slot, &gen);
	spl_sipmsg_branch_encode(other, 4, slot, gen);
	other[SPL_SIPMSG_BRANCH_LEN] = 0;
	struct fx_rsp r = rsp(180, other);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_STATELESS, "other shard");
	spl_sipmsg_branch_encode(other, shard, 1000000, gen);
	r = rsp(180, other);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_STATELESS, "slot out of range");
	r = rsp(180, "z9hG4bKsomeoneelse");
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_STATELESS, "not our branch");
	r = rsp(180, br);
	r.cseq_method = "OPTIONS";
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_STATELESS, "CSeq method differs");
	r.cseq_method = "CANCEL";
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_STATELESS, "no CANCEL was sent");
	r.cseq_method = "INVITE";
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
}

Test(txn_match, branch_with_loop_detection_suffix_matches)
{
	struct spl_txn_peer udp = fx_udp();
	char br[32], sfx[64];
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &udp, br);
	snprintf(sfx, sizeof(sfx), "%s.7f3a9c01", br);
	struct fx_rsp r = rsp(180, sfx);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_PASSED);
	cr_assert_eq(fx_last(FX_RSP)->handle, h);
}

Test(txn_match, response_to_reserved_unsent_transaction_is_stale)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h;
	char br[SPL_SIPMSG_BRANCH_LEN + 1] = { 0 };
	cr_assert_eq(spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_INVITE, &udp, NULL, 0, &h, br), 0);
	struct fx_rsp r = rsp(180, br);
	cr_assert_eq(fx_rx_rsp(&r, &udp), SPL_TXN_RX_STATELESS);
	spl_txn_client_abandon(fx.tbl, h);
}
