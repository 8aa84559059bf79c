/* SPDX-License-Identifier: BSD-3-Clause */
/* The table: capacity, handles and generations, counters, timers in the
 * shared wheel, buffer ownership. */
#include "txn_fixture.h"
#include "txn_priv.h"

TestSuite(txn_table, .init = fx_setup, .fini = fx_teardown);

Test(txn_table, create_validates_conf)
{
	struct spl_txn_conf c = { 0 };
	errno = 0;
	cr_assert_null(spl_txn_table_create(NULL));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(spl_txn_table_create(&c));
	c.capacity = 4;
	cr_assert_null(spl_txn_table_create(&c), "no wheel, no ops");
	c.wheel = fx.tw;
	struct spl_txn_ops ops = { 0 };
	c.ops = &ops;
	cr_assert_null(spl_txn_table_create(&c), "callbacks are required");
}

Test(txn_table, bytes_per_transaction_within_budget)
{
	cr_assert_leq(spl_txn_bytes_per_txn(fx.tbl), 512);
	cr_assert_eq(spl_txn_capacity(fx.tbl), 64);
}

Test(txn_table, full_table_is_reported_never_grown)
{
	fx_teardown();
	fx_setup_conf(4, 0, true);
	struct spl_txn_peer udp = fx_udp();
	char b[4][32];
	for (int i = 0; i < 4; i++) {
		snprintf(b[i], sizeof(b[i]), "z9hG4bKfill%d", i);
		cr_assert_eq(fx_rx_req(&(struct fx_req){ .method = "OPTIONS", .branch = b[i] }, &udp),
			     SPL_TXN_RX_NEW);
	}
	uint32_t nreq = fx_count(FX_REQ);
	cr_assert_eq(fx_rx_req(&(struct fx_req){ .method = "OPTIONS", .branch = "z9hG4bKmore" }, &udp),
		     -ENOSPC);
	cr_assert_eq(fx_count(FX_REQ), nreq, "nothing passed up: the caller answers 503");
	cr_assert_eq(fx_rx_req(&(struct fx_req){ .method = "OPTIONS", .branch = b[2] }, &udp),
		     SPL_TXN_RX_ABSORBED, "retransmissions still match when full");
	uint64_t h;
	char br[SPL_SIPMSG_BRANCH_LEN];
	cr_assert_eq(spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_INVITE, &udp, NULL, 0, &h, br), -ENOSPC);
	cr_assert_eq(spl_txn_stats(fx.tbl)->table_full, 2);
	cr_assert_eq(spl_txn_live(fx.tbl), 4);
	/* One ends, one fits again. */
	spl_txn_terminate(fx.tbl, fx.ev[0].handle);
	cr_assert_eq(fx_rx_req(&(struct fx_req){ .method = "OPTIONS", .branch = "z9hG4bKmore" }, &udp),
		     SPL_TXN_RX_NEW);
}

Test(txn_table, handles_go_stale_when_the_slot_is_reused)
{
	fx_teardown();
	fx_setup_conf(1, 0, true);
	struct spl_txn_peer udp = fx_udp();
	uint64_t h;
	char br[SPL_SIPMSG_BRANCH_LEN];
	cr_assert_eq(spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_OPTIONS, &udp, NULL, 0, &h, br), 0);
	cr_assert_neq(h, SPL_TXN_NONE);
	cr_assert_eq(spl_txn_state(fx.tbl, h), SPL_TXN_STATE_RESERVED);
	cr_assert_eq(spl_txn_client_abandon(fx.tbl, h), 0);
	uint64_t h2;
	cr_assert_eq(spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_OPTIONS, &udp, NULL, 0, &h2, br), 0);
	cr_assert_eq((uint32_t)h2, (uint32_t)h);
	cr_assert_neq(h2, h);
	cr_assert_eq(spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_OPTIONS, &udp, NULL, 0, &h, br), -ENOSPC);
	h = h2 - (UINT64_C(1) << 32);  /* the first handle again */
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1);
	cr_assert_eq(spl_txn_terminate(fx.tbl, h), -ESTALE);
	cr_assert_eq(spl_txn_client_abandon(fx.tbl, h), -ESTALE);
	struct spl_txn_buf b = fx_buf("x", 1);
	cr_assert_eq(spl_txn_client_start(fx.tbl, h, &b, fx.now), -ESTALE, "buffer released anyway");
	cr_assert_null(spl_txn_peer_get(fx.tbl, h));
	cr_assert_eq(spl_txn_state(fx.tbl, h2), SPL_TXN_STATE_RESERVED);
	cr_assert_eq(spl_txn_state(fx.tbl, UINT64_MAX), -1);
	spl_txn_client_abandon(fx.tbl, h2);
}

Test(txn_table, free_slots_are_reused_oldest_first)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t a, b, c;
	char br[SPL_SIPMSG_BRANCH_LEN];
	spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_OPTIONS, &udp, NULL, 0, &a, br);
	spl_txn_client_abandon(fx.tbl, a);
	spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_OPTIONS, &udp, NULL, 0, &b, br);
	cr_assert_neq((uint32_t)b, (uint32_t)a, "a freed slot waits behind the other free ones");
	for (int i = 0; i < 63; i++)
		spl_txn_client_reserve(fx.tbl, SPL_SIP_METHOD_OPTIONS, &udp, NULL, 0, &c, br);
	cr_assert_eq((uint32_t)c, (uint32_t)a, "... and comes back last");
}

Test(txn_table, counters_track_live_by_kind_and_state)
{
	struct spl_txn_peer udp = fx_udp();
	const struct spl_txn_stats *st = spl_txn_stats(fx.tbl);
	fx_client(&(struct fx_req){ 0 }, &udp, NULL);
	fx_client(&(struct fx_req){ .method = "OPTIONS" }, &udp, NULL);
	fx_rx_req(&(struct fx_req){ 0 }, &udp);
	fx_rx_req(&(struct fx_req){ .method = "BYE" }, &udp);
	cr_assert_eq(st->live[SPL_TXN_KIND_CLIENT_INVITE][SPL_TXN_STATE_CALLING], 1);
	cr_assert_eq(st->live[SPL_TXN_KIND_CLIENT_NON_INVITE][SPL_TXN_STATE_TRYING], 1);
	cr_assert_eq(st->live[SPL_TXN_KIND_SERVER_INVITE][SPL_TXN_STATE_PROCEEDING], 1);
	cr_assert_eq(st->live[SPL_TXN_KIND_SERVER_NON_INVITE][SPL_TXN_STATE_TRYING], 1);
	for (int k = 1; k < SPL_TXN_KIND__COUNT; k++)
		cr_assert_eq(st->created[k], 1);
	fx_run_to(60 * SEC);
	cr_assert_eq(st->live[SPL_TXN_KIND_CLIENT_INVITE][SPL_TXN_STATE_CALLING], 0);
	cr_assert_eq(st->live[SPL_TXN_KIND_CLIENT_NON_INVITE][SPL_TXN_STATE_TRYING], 0);
	cr_assert_eq(st->terminated[SPL_TXN_KIND_CLIENT_INVITE], 1);
	cr_assert_eq(st->terminated[SPL_TXN_KIND_CLIENT_NON_INVITE], 1);
	cr_assert_eq(st->timeouts[SPL_TXN_TIMER_B] + st->timeouts[SPL_TXN_TIMER_F], 2);
	cr_assert_eq(spl_txn_live(fx.tbl), 2);
	uint64_t sum = 0;
	for (int k = 0; k < SPL_TXN_KIND__COUNT; k++)
		for (int s = 0; s < SPL_TXN_STATE__COUNT; s++)
			sum += st->live[k][s];
	cr_assert_eq(sum, 2);
}

Test(txn_table, timer_data_is_tagged_and_stale_timers_are_ignored)
{
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = fx_client(&(struct fx_req){ .method = "OPTIONS" }, &udp, NULL);
	cr_assert_eq(spl_timerwheel_count(fx.tw), 2, "one retransmit and one lifetime timer");
	/* Forge timer data: wrong tag, wrong generation, out of range. */
	spl_txn_timer_fire(fx.tbl, 0x1234, fx.now);
	uint64_t tag = (uint64_t)SPL_TXN_TIMER_TAG << SPL_TIMER_TAG_SHIFT;
	uint64_t e_id = (uint64_t)SPL_TXN_TIMER_E << 52;
	uint64_t gen = (h >> 32) & 0xffff;
	spl_txn_timer_fire(fx.tbl, tag | e_id | ((gen + 1) << 32) | (uint32_t)h, fx.now);
	spl_txn_timer_fire(fx.tbl, tag | e_id | (gen << 32) | 100000u, fx.now);
	spl_txn_timer_fire(fx.tbl, tag | ((uint64_t)SPL_TXN_TIMER_G << 52) | (gen << 32) | (uint32_t)h, fx.now);
	cr_assert_eq(spl_txn_stats(fx.tbl)->stale_timers, 4);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(spl_txn_timer_is_ours(tag | 5));
	cr_assert(!spl_txn_timer_is_ours(UINT64_C(0x0100000000000005)));
	spl_txn_terminate(fx.tbl, h);
	cr_assert_eq(spl_timerwheel_count(fx.tw), 0, "timers stopped with the transaction");
}

Test(txn_table, names_for_logs)
{
	cr_assert_str_eq(spl_txn_state_name(SPL_TXN_STATE_ACCEPTED), "accepted");
	cr_assert_str_eq(spl_txn_kind_name(SPL_TXN_KIND_SERVER_INVITE), "server-invite");
	cr_assert_str_eq(spl_txn_timer_name(SPL_TXN_TIMER_M), "M");
	cr_assert_str_eq(spl_txn_timer_name(SPL_TXN_TIMER_D), "D");
	cr_assert_str_eq(spl_txn_state_name((enum spl_txn_state)99), "?");
}

Test(txn_table, free_releases_every_stored_buffer)
{
	struct spl_txn_peer udp = fx_udp();
	for (int i = 0; i < 5; i++) {
		char b[32];
		snprintf(b, sizeof(b), "z9hG4bKfree%d", i);
		fx_rx_req(&(struct fx_req){ .branch = b }, &udp);
		fx_respond(fx_last(FX_REQ)->handle, 486, "x");
		fx_client(&(struct fx_req){ 0 }, &udp, NULL);
	}
	fx_rx_req(&(struct fx_req){ .branch = "" }, &udp);  /* retained request */
	cr_assert_gt(fx.live_bufs, 10);
	/* fx_teardown frees the table and checks that nothing leaked. */
}

Test(txn_table, wheel_full_does_not_leak_transactions)
{
	/* A wheel with room for one timer: the client cannot get Timer B
	 * and Timer A both, and must not start without its lifetime timer. */
	fx_teardown();
	fx_setup_wheel(8, 0, true, 1);
	struct spl_txn_peer udp = fx_udp();
	uint64_t h = fx_client(&(struct fx_req){ 0 }, &udp, NULL);  /* B ok, A fails */
	cr_assert_eq(spl_txn_stats(fx.tbl)->timer_failures, 1);
	fx_run_to(40 * SEC);
	cr_assert_eq(fx.nsent, 1, "no retransmissions without Timer A");
	cr_assert_eq(fx_last(FX_TIMEOUT)->handle, h);
	cr_assert_eq(spl_txn_live(fx.tbl), 0);
}

/* Random creates and ends against a model: every live transaction is
 * found by its request, no ended one is, and the hash (7-way buckets with
 * overflow counts) stays consistent through probing and removal. */
Test(txn_table, hash_stays_consistent_under_churn)
{
	enum { N = 700 };
	fx_teardown();
	fx_setup_conf(N, 0, true);
	struct spl_txn_peer tcp = fx_tcp();  /* no timers: only explicit ends */
	static uint64_t h[2 * N];
	static char br[2 * N][32];
	unsigned seed = 12345;
	uint32_t live = 0, max_ovf = 0;
	for (int i = 0; i < 2 * N; i++)
		snprintf(br[i], sizeof(br[i]), "z9hG4bKchurn%d", i);
	for (int round = 0; round < 6000; round++) {
		seed = seed * 1103515245u + 12345u;
		int i = (int)((seed >> 8) % (2 * N));
		struct fx_req r = { .method = "OPTIONS", .branch = br[i] };
		fx.nev = 0;
		int rc = fx_rx_req(&r, &tcp);
		if (h[i] == 0) {
			if (live == N) {
				cr_assert_eq(rc, -ENOSPC);
				continue;
			}
			cr_assert_eq(rc, SPL_TXN_RX_NEW, "round %d key %d", round, i);
			h[i] = fx_last(FX_REQ)->handle;
			live++;
		} else {
			cr_assert_eq(rc, SPL_TXN_RX_ABSORBED, "round %d key %d", round, i);
			if ((seed >> 20) & 1) {
				cr_assert_eq(spl_txn_terminate(fx.tbl, h[i]), 0);
				h[i] = 0;
				live--;
			}
		}
		cr_assert_eq(spl_txn_live(fx.tbl), live);
		for (uint32_t b = 0; b < fx.tbl->nbuckets; b++)
			if (fx.tbl->buckets[b].ovf > max_ovf)
				max_ovf = fx.tbl->buckets[b].ovf;
	}
	cr_assert_gt(max_ovf, 0, "probing past full buckets was exercised");
	cr_assert_gt(live, N / 4);
	cr_assert_eq(spl_txn_stats(fx.tbl)->table_full > 0, true, "the table filled up at times");
}

Test(txn_table, list_pages_through_live_transactions)
{
	struct spl_txn_peer udp = fx_udp();
	char b[5][32];
	for (int i = 0; i < 5; i++) {
		snprintf(b[i], sizeof(b[i]), "z9hG4bKlist%d", i);
		cr_assert_eq(fx_rx_req(&(struct fx_req){ .method = "OPTIONS", .branch = b[i] }, &udp),
			     SPL_TXN_RX_NEW);
	}
	spl_txn_terminate(fx.tbl, fx.ev[1].handle);
	struct spl_txn_info info[3];
	uint32_t cursor = 0;
	int n1 = spl_txn_list(fx.tbl, &cursor, info, 3);
	cr_assert_eq(n1, 3);
	for (int i = 0; i < n1; i++) {
		cr_expect_eq(info[i].kind, SPL_TXN_KIND_SERVER_NON_INVITE);
		cr_expect_eq(info[i].method, SPL_SIP_METHOD_OPTIONS);
		cr_expect_eq(spl_txn_state(fx.tbl, info[i].handle), info[i].state);
		cr_expect_neq(info[i].handle, fx.ev[1].handle, "a terminated transaction is not listed");
	}
	int n2 = spl_txn_list(fx.tbl, &cursor, info, 3);
	cr_expect_eq(n2, 1, "4 live in all");
	cr_expect_eq(spl_txn_list(fx.tbl, &cursor, info, 3), 0);
}
