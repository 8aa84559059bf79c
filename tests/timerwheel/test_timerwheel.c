/* SPDX-License-Identifier: BSD-3-Clause */
/* Suite timerwheel: the contract of lib/timerwheel/spl_timerwheel.h, driven
 * by a virtual clock. Work bounds are asserted on the wheel's own counters
 * (slots visited, timers cascaded), never on wall time. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spl_timerwheel.h"
#include "timerwheel_priv.h"

#define MS 1000000ull
#define T0 (5000 * MS)  /* arbitrary origin: the wheel must not assume 0 */

struct fired {
	uint32_t handle;
	uint64_t data;
	uint64_t at_ns;  /* wheel time seen by the callback */
};

struct rec {
	struct spl_timerwheel *tw;
	struct fired ev[4096];
	uint32_t n;
};

static void record(void *ctx, uint32_t handle, uint64_t data)
{
	struct rec *r = ctx;

	cr_assert_lt(r->n, 4096);
	cr_assert_eq(spl_timerwheel_pending(r->tw, handle), 0, "handle is free in its callback");
	r->ev[r->n++] = (struct fired){ handle, data, spl_timerwheel_now(r->tw) };
}

static struct spl_timerwheel *mk(uint32_t capacity, uint64_t tick_ns)
{
	struct spl_timerwheel_conf conf = { .capacity = capacity, .tick_ns = tick_ns, .now_ns = T0 };
	struct spl_timerwheel *tw = spl_timerwheel_create(&conf);

	cr_assert_not_null(tw);
	return tw;
}

static struct spl_timerwheel_stats stats(const struct spl_timerwheel *tw)
{
	struct spl_timerwheel_stats st;

	spl_timerwheel_get_stats(tw, &st);
	return st;
}

static uint32_t start_ok(struct spl_timerwheel *tw, uint64_t delay_ns, uint64_t data)
{
	uint32_t h = spl_timerwheel_start(tw, delay_ns, data);

	cr_assert_neq(h, SPL_TIMER_NONE);
	return h;
}

Test(timerwheel, create_validates_conf)
{
	struct spl_timerwheel_conf conf = { 0 };

	errno = 0;
	cr_assert_null(spl_timerwheel_create(NULL));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(spl_timerwheel_create(&conf));
	cr_assert_eq(errno, EINVAL);
	conf.capacity = SPL_TIMERWHEEL_MAX_CAPACITY + 1;
	errno = 0;
	cr_assert_null(spl_timerwheel_create(&conf));
	cr_assert_eq(errno, EINVAL);

	conf.capacity = 10;
	conf.now_ns = 123;
	struct spl_timerwheel *tw = spl_timerwheel_create(&conf);
	cr_assert_not_null(tw);
	cr_assert_eq(spl_timerwheel_capacity(tw), 10);
	cr_assert_eq(spl_timerwheel_count(tw), 0);
	cr_assert_eq(spl_timerwheel_now(tw), 123);
	spl_timerwheel_free(tw);
	spl_timerwheel_free(NULL);
}

Test(timerwheel, default_tick_is_1ms)
{
	struct rec r = { 0 };

	r.tw = mk(4, 0);
	start_ok(r.tw, 1, 7);  /* rounds up to the first 1 ms boundary */
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + MS - 1, record, &r), 0);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + MS, record, &r), 1);
	cr_assert_eq(r.ev[0].data, 7);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, never_fires_early_off_tick_boundary)
{
	struct rec r = { 0 };

	r.tw = mk(4, 0);
	/* Wheel at 0.5 ms; 1 ms from now is 1.5 ms, rounded up to 2 ms. */
	spl_timerwheel_advance(r.tw, T0 + MS / 2, record, &r);
	start_ok(r.tw, MS, 1);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 2 * MS - 1, record, &r), 0);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 2 * MS, record, &r), 1);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, ordering_by_expiry)
{
	static const uint64_t delays_ms[] = { 70, 3, 5000, 64, 1, 4096, 65, 300000, 63, 2 };
	const size_t n = sizeof(delays_ms) / sizeof(delays_ms[0]);
	struct rec r = { 0 };

	r.tw = mk(64, MS);
	for (size_t i = 0; i < n; i++)
		start_ok(r.tw, delays_ms[i] * MS, delays_ms[i]);
	cr_assert_eq(spl_timerwheel_count(r.tw), n);
	/* Advance in uneven steps; the order must not depend on them. */
	for (uint64_t t = 0; t <= 300000; t += 7)
		spl_timerwheel_advance(r.tw, T0 + t * MS, record, &r);
	spl_timerwheel_advance(r.tw, T0 + 300000 * MS, record, &r);
	cr_assert_eq(r.n, n);
	for (uint32_t i = 0; i < r.n; i++) {
		if (i > 0)
			cr_assert_lt(r.ev[i - 1].data, r.ev[i].data);
		/* The callback sees the expiry tick as the wheel's time. */
		cr_assert_eq(r.ev[i].at_ns, T0 + r.ev[i].data * MS, "timer %lu", (unsigned long)r.ev[i].data);
	}
	cr_assert_eq(spl_timerwheel_count(r.tw), 0);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, same_tick_batch_fires_in_start_order)
{
	struct rec r = { 0 };

	r.tw = mk(64, MS);
	/* Ten timers due at 100 ms, started at different times, so they were
	 * placed on different levels (100 ms crosses a 64-tick block). */
	for (uint64_t i = 0; i < 10; i++) {
		spl_timerwheel_advance(r.tw, T0 + i * 10 * MS, record, &r);
		start_ok(r.tw, (100 - i * 10) * MS, i);
	}
	start_ok(r.tw, 1 * MS, 100);  /* due at 91 ms: before the batch */
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 1000 * MS, record, &r), 11);
	cr_assert_eq(r.ev[0].data, 100);
	for (uint32_t i = 1; i < 11; i++) {
		cr_assert_eq(r.ev[i].data, i - 1);
		cr_assert_eq(r.ev[i].at_ns, T0 + 100 * MS);
	}
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, same_tick_start_order_across_all_levels)
{
	struct rec r = { 0 };
	const uint64_t due = (1ull << 30) + 12345;  /* level 5 when started at 0 */

	r.tw = mk(64, 1);  /* 1 ns ticks keep the arithmetic readable */
	/* Each later start is closer to `due`, so it lands on the same level
	 * or a lower one (5, 5, 5, 2, 2, 2, 0) and meets the others in cascades. */
	static const uint64_t at[] = { 0, 1ull << 25, 1ull << 29, (1ull << 30) + 1, due - 4096, due - 63, due - 1 };
	for (uint64_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		spl_timerwheel_advance(r.tw, T0 + at[i], record, &r);
		start_ok(r.tw, due - at[i], i);
	}
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + due - 1, record, &r), 0);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + due, record, &r), 7);
	for (uint32_t i = 0; i < 7; i++)
		cr_assert_eq(r.ev[i].data, i);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, cascade_across_levels)
{
	struct rec r = { 0 };
	uint64_t dues[3 * TW_LEVELS];
	uint32_t n = 0;

	r.tw = mk(64, MS);
	/* Around every level boundary 64^k: the last tick of a level, the first
	 * of the next, and one more; each must fire at exactly its tick. */
	for (uint32_t k = 1; k <= TW_LEVELS; k++) {
		uint64_t b = 1ull << (TW_LEVEL_BITS * k);
		dues[n++] = b - 1;
		dues[n++] = b;
		dues[n++] = b + 1;
	}
	/* Start off a block boundary so cascades meet unaligned times. */
	spl_timerwheel_advance(r.tw, T0 + 5 * MS, record, &r);
	for (uint32_t i = 0; i < n; i++)
		start_ok(r.tw, dues[i] * MS, i);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t at = T0 + (5 + dues[i]) * MS;

		cr_assert_eq(spl_timerwheel_advance(r.tw, at - 1, record, &r), 0, "due %lu early", (unsigned long)dues[i]);
		cr_assert_eq(spl_timerwheel_advance(r.tw, at, record, &r), 1, "due %lu", (unsigned long)dues[i]);
		cr_assert_eq(r.ev[r.n - 1].data, i);
		cr_assert_eq(r.ev[r.n - 1].at_ns, at);
	}
	struct spl_timerwheel_stats st = stats(r.tw);
	cr_assert_gt(st.cascaded, 0);
	/* A timer moves at most once per level, plus once out of overflow. */
	cr_assert_leq(st.cascaded, (uint64_t)n * TW_LEVELS);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, stop_pending_expired_and_stale)
{
	struct rec r = { 0 };

	r.tw = mk(8, MS);
	uint32_t a = start_ok(r.tw, 10 * MS, 1);
	uint32_t b = start_ok(r.tw, 10 * MS, 2);
	uint32_t c = start_ok(r.tw, 5 * MS, 3);

	cr_assert_eq(spl_timerwheel_pending(r.tw, a), 1);
	cr_assert_eq(spl_timerwheel_stop(r.tw, a), 0);
	cr_assert_eq(spl_timerwheel_pending(r.tw, a), 0);
	cr_assert_eq(spl_timerwheel_stop(r.tw, a), -ENOENT, "stopping twice");
	cr_assert_eq(spl_timerwheel_count(r.tw), 2);

	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 5 * MS, record, &r), 1);
	cr_assert_eq(spl_timerwheel_stop(r.tw, c), -ENOENT, "stopping a fired timer");

	cr_assert_eq(spl_timerwheel_stop(r.tw, SPL_TIMER_NONE), -ENOENT);
	cr_assert_eq(spl_timerwheel_stop(r.tw, 0xffffffffu), -ENOENT, "index beyond capacity");
	cr_assert_eq(spl_timerwheel_stop(r.tw, b ^ (1u << 31)), -ENOENT, "wrong generation");
	cr_assert_eq(spl_timerwheel_pending(r.tw, b), 1, "forged handles do not touch b");

	/* a's slot reused: the old handle still names nothing. */
	for (int i = 0; i < 8; i++)
		spl_timerwheel_start(r.tw, 50 * MS, 100 + i);
	cr_assert_eq(spl_timerwheel_stop(r.tw, a), -ENOENT);
	cr_assert_eq(spl_timerwheel_stop(r.tw, c), -ENOENT);

	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 10 * MS, record, &r), 1);
	cr_assert_eq(r.ev[1].data, 2, "stopped timer a never fires");
	cr_assert_geq(stats(r.tw).stale, 6);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, restart_moves_timer)
{
	struct rec r = { 0 };

	r.tw = mk(8, MS);
	uint32_t a = start_ok(r.tw, 10 * MS, 1);
	uint32_t b = start_ok(r.tw, 20 * MS, 2);
	uint32_t c = start_ok(r.tw, 20 * MS, 3);

	cr_assert_eq(spl_timerwheel_restart(r.tw, a, 100000 * MS), 0, "later, onto a high level");
	cr_assert_eq(spl_timerwheel_restart(r.tw, b, 20 * MS), 0, "same tick: now behind c");
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 20 * MS, record, &r), 2);
	cr_assert_eq(r.ev[0].handle, c);
	cr_assert_eq(r.ev[1].handle, b);
	cr_assert_eq(r.ev[1].data, 2, "restart keeps data");

	cr_assert_eq(spl_timerwheel_restart(r.tw, a, 1 * MS), 0, "earlier again");
	cr_assert_eq(spl_timerwheel_pending(r.tw, a), 1);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 21 * MS, record, &r), 1);
	cr_assert_eq(r.ev[2].handle, a, "same handle");
	cr_assert_eq(r.ev[2].data, 1);
	cr_assert_eq(spl_timerwheel_restart(r.tw, a, MS), -ENOENT, "fired: stale");

	uint32_t d = start_ok(r.tw, 5 * MS, 4);
	cr_assert_eq(spl_timerwheel_restart(r.tw, d, 0), 0, "restart to 0 fires on the next advance");
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 21 * MS, record, &r), 1);
	cr_assert_eq(r.ev[3].handle, d);
	cr_assert_eq(stats(r.tw).restarted, 4);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, zero_delay_fires_on_next_advance)
{
	struct rec r = { 0 };

	r.tw = mk(8, MS);
	spl_timerwheel_advance(r.tw, T0 + 3 * MS + 7, record, &r);
	uint32_t h1 = start_ok(r.tw, 0, 1);
	uint32_t h2 = start_ok(r.tw, 0, 2);
	cr_assert_eq(spl_timerwheel_pending(r.tw, h1), 1);
	/* Same time, or even an earlier one: still fires, in start order. */
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0, record, &r), 2);
	cr_assert_eq(r.ev[0].handle, h1);
	cr_assert_eq(r.ev[1].handle, h2);
	cr_assert_eq(r.ev[0].at_ns, T0 + 3 * MS + 7, "time did not move");
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 4 * MS, record, &r), 0);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, huge_delays_and_overflow)
{
	struct rec r = { 0 };
	const uint64_t range = 1ull << TW_RANGE_BITS;

	r.tw = mk(8, 1);  /* 1 ns ticks: the wheel's range is only ~69 s */
	uint32_t never = start_ok(r.tw, UINT64_MAX, 1);
	start_ok(r.tw, range + 5, 2);            /* just beyond the range */
	start_ok(r.tw, 3 * range + 17, 3);       /* several top-level wraps away */
	start_ok(r.tw, range - 1, 4);            /* last tick inside the range */

	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + range - 2, record, &r), 0);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + range - 1, record, &r), 1);
	cr_assert_eq(r.ev[0].data, 4);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + range + 4, record, &r), 0);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + range + 5, record, &r), 1);
	cr_assert_eq(r.ev[1].data, 2);
	/* One jump across two empty top-level wraps. */
	uint64_t visited = stats(r.tw).slots_visited;
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 3 * range + 16, record, &r), 0);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 3 * range + 17, record, &r), 1);
	cr_assert_eq(r.ev[2].data, 3);
	cr_assert_eq(r.ev[2].at_ns, T0 + 3 * range + 17);
	/* Rescan, then at most one cascade per level, then the fire. */
	cr_assert_leq(stats(r.tw).slots_visited - visited, TW_LEVELS + 2);

	/* The far end of time: advancing there is bounded, never wraps. */
	visited = stats(r.tw).slots_visited;
	cr_assert_eq(spl_timerwheel_advance(r.tw, UINT64_MAX - 1, record, &r), 0);
	cr_assert_leq(stats(r.tw).slots_visited - visited, TW_LEVELS + 2);
	cr_assert_eq(spl_timerwheel_pending(r.tw, never), 1);
	cr_assert_eq(spl_timerwheel_stop(r.tw, never), 0);
	cr_assert_eq(spl_timerwheel_count(r.tw), 0);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, huge_delay_at_default_tick)
{
	struct rec r = { 0 };

	r.tw = mk(8, 0);
	start_ok(r.tw, 3600ull * 1000 * MS, 1);           /* a registration: 1 h */
	start_ok(r.tw, 800ull * 24 * 3600 * 1000 * MS, 2); /* 800 days: beyond 2^36 ms */
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 3600ull * 1000 * MS, record, &r), 1);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 800ull * 24 * 3600 * 1000 * MS - 1, record, &r), 0);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + 800ull * 24 * 3600 * 1000 * MS, record, &r), 1);
	cr_assert_eq(r.ev[1].data, 2);
	cr_assert_lt(stats(r.tw).slots_visited, 30);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, idle_gap_is_skipped_in_bounded_work)
{
	struct rec r = { 0 };

	r.tw = mk(1024, MS);
	/* Empty wheel over ~2 years of ticks: nothing to visit at all. */
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + (1ull << 35) * MS, record, &r), 0);
	cr_assert_eq(stats(r.tw).slots_visited, 0);

	/* 100 timers spread over 2^34 ticks, crossed in one advance: the work
	 * is at most one visit per level per timer, not per tick. */
	uint64_t base = spl_timerwheel_now(r.tw);
	srand(42);
	for (int i = 0; i < 100; i++) {
		uint64_t d = ((uint64_t)rand() << 31 ^ (uint64_t)rand()) % (1ull << 34);
		start_ok(r.tw, (d + 1) * MS, i);
	}
	cr_assert_eq(spl_timerwheel_advance(r.tw, base + (1ull << 34) * MS, record, &r), 100);
	struct spl_timerwheel_stats st = stats(r.tw);
	cr_assert_leq(st.slots_visited, 100 * TW_LEVELS);
	cr_assert_leq(st.cascaded, 100 * (TW_LEVELS - 1));
	for (uint32_t i = 1; i < r.n; i++)
		cr_assert_leq(r.ev[i - 1].at_ns, r.ev[i].at_ns);

	/* Small steps through an idle stretch cost nothing per step. */
	uint64_t v = st.slots_visited;
	uint64_t now = spl_timerwheel_now(r.tw);
	for (int i = 1; i <= 10000; i++)
		spl_timerwheel_advance(r.tw, now + (uint64_t)i * 3 * MS, record, &r);
	cr_assert_eq(stats(r.tw).slots_visited, v);
	spl_timerwheel_free(r.tw);
}

/* Callback that re-arms, starts and stops timers while the wheel runs. */
struct chain {
	struct rec r;
	uint32_t victim;     /* stopped by the first callback */
	uint32_t restarted;  /* pushed 10 ms out by the first callback */
	int periodic_left;
};

static void chain_cb(void *ctx, uint32_t handle, uint64_t data)
{
	struct chain *c = ctx;

	record(&c->r, handle, data);
	if (data == 1) {
		cr_assert_eq(spl_timerwheel_stop(c->r.tw, c->victim), 0, "stop one of the same batch");
		cr_assert_eq(spl_timerwheel_restart(c->r.tw, c->restarted, 10 * MS), 0);
		cr_assert_eq(spl_timerwheel_restart(c->r.tw, handle, MS), -ENOENT, "own handle is free");
		start_ok(c->r.tw, 0, 50);         /* next advance, not this one */
		start_ok(c->r.tw, 2 * MS, 51);    /* due inside this advance */
	} else if (data == 9 && c->periodic_left-- > 0) {
		start_ok(c->r.tw, 5 * MS, 9);
	}
}

Test(timerwheel, callback_starts_and_stops_timers)
{
	struct chain c = { 0 };

	c.r.tw = mk(16, MS);
	c.periodic_left = 3;
	start_ok(c.r.tw, 4 * MS, 1);
	c.victim = start_ok(c.r.tw, 4 * MS, 2);
	c.restarted = start_ok(c.r.tw, 4 * MS, 3);
	start_ok(c.r.tw, 4 * MS, 4);
	start_ok(c.r.tw, 5 * MS, 9);

	cr_assert_eq(spl_timerwheel_advance(c.r.tw, T0 + 100 * MS, chain_cb, &c), 8);
	/* 4ms: 1, 4 (2 stopped, 3 moved); 5ms: 9; 6ms: 51; 10ms: 9;
	 * 14ms: 3; 15ms: 9; 20ms: 9 */
	static const uint64_t want[] = { 1, 4, 9, 51, 9, 3, 9, 9 };
	static const uint64_t at_ms[] = { 4, 4, 5, 6, 10, 14, 15, 20 };
	for (uint32_t i = 0; i < 8; i++) {
		cr_assert_eq(c.r.ev[i].data, want[i], "event %u", i);
		cr_assert_eq(c.r.ev[i].at_ns, T0 + at_ms[i] * MS, "event %u", i);
	}
	cr_assert_eq(spl_timerwheel_count(c.r.tw), 1, "the zero-delay timer waits");
	cr_assert_eq(spl_timerwheel_advance(c.r.tw, T0 + 100 * MS, chain_cb, &c), 1);
	cr_assert_eq(c.r.ev[8].data, 50);
	spl_timerwheel_free(c.r.tw);
}

static void rearm_zero_cb(void *ctx, uint32_t handle, uint64_t data)
{
	struct rec *r = ctx;

	record(r, handle, data);
	start_ok(r->tw, 0, data + 1);
}

Test(timerwheel, zero_delay_rearm_in_callback_does_not_spin)
{
	struct rec r = { 0 };

	r.tw = mk(4, MS);
	start_ok(r.tw, 0, 0);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(spl_timerwheel_advance(r.tw, T0, rearm_zero_cb, &r), 1);
	cr_assert_eq(r.ev[4].data, 4);
	spl_timerwheel_free(r.tw);
}

static void nested_advance_cb(void *ctx, uint32_t handle, uint64_t data)
{
	struct rec *r = ctx;

	record(r, handle, data);
	cr_assert_eq(spl_timerwheel_advance(r->tw, T0 + 1000 * MS, record, r), 0, "nested advance refused");
}

Test(timerwheel, nested_advance_is_refused)
{
	struct rec r = { 0 };

	r.tw = mk(4, MS);
	start_ok(r.tw, MS, 1);
	start_ok(r.tw, 2 * MS, 2);
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + MS, nested_advance_cb, &r), 1);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(spl_timerwheel_now(r.tw), T0 + MS);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, pool_full_returns_none)
{
	struct rec r = { 0 };
	uint32_t h[4];

	r.tw = mk(4, MS);
	for (int i = 0; i < 4; i++)
		h[i] = start_ok(r.tw, (uint64_t)(i + 1) * MS, i);
	cr_assert_eq(spl_timerwheel_start(r.tw, MS, 9), SPL_TIMER_NONE);
	cr_assert_eq(spl_timerwheel_start(r.tw, 0, 9), SPL_TIMER_NONE);
	cr_assert_eq(stats(r.tw).pool_full, 2);
	cr_assert_eq(spl_timerwheel_count(r.tw), 4);
	cr_assert_eq(spl_timerwheel_stop(r.tw, h[2]), 0);
	uint32_t again = start_ok(r.tw, MS, 10);
	cr_assert_neq(again, h[2], "a reused slot gets a new generation");
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + MS, record, &r), 2);
	for (int i = 0; i < 4; i++)
		spl_timerwheel_start(r.tw, 100 * MS, 20);
	cr_assert_eq(spl_timerwheel_start(r.tw, MS, 9), SPL_TIMER_NONE);
	spl_timerwheel_free(r.tw);
}

Test(timerwheel, handle_zero_never_issued)
{
	struct rec r = { 0 };

	/* Capacity 1 and 2 give the narrowest index fields; run each slot past
	 * a forced generation wrap many times. */
	for (uint32_t cap = 1; cap <= 3; cap++) {
		r.tw = mk(cap, MS);
		for (uint32_t i = 0; i < cap; i++)
			cr_assert_eq(spl_timerwheel_priv_set_gen(r.tw, i, spl_timerwheel_priv_gen_max(r.tw) - 100), 0);
		for (int i = 0; i < 1000; i++) {
			uint32_t h = start_ok(r.tw, (uint64_t)(i % 3) * MS, 0);
			cr_assert_neq(h, 0u);
			if (i % 2)
				cr_assert_eq(spl_timerwheel_stop(r.tw, h), 0);
			else
				cr_assert_eq(spl_timerwheel_advance(r.tw, spl_timerwheel_now(r.tw) + 2 * MS, NULL, NULL), 1);
		}
		spl_timerwheel_free(r.tw);
	}
}

Test(timerwheel, generation_wrap_keeps_stale_handles_stale)
{
	struct rec r = { 0 };

	r.tw = mk(1, MS);
	uint32_t gmax = spl_timerwheel_priv_gen_max(r.tw);
	cr_assert_eq(gmax, (1u << 31) - 1, "capacity 1: one index bit, 31 generation bits");
	cr_assert_eq(spl_timerwheel_priv_set_gen(r.tw, 0, gmax - 1), 0);

	uint32_t h1 = start_ok(r.tw, MS, 1);  /* gen max-1 */
	cr_assert_eq(spl_timerwheel_stop(r.tw, h1), 0);
	uint32_t h2 = start_ok(r.tw, MS, 2);  /* gen max */
	cr_assert_eq(h2, gmax << 1);
	cr_assert_eq(spl_timerwheel_priv_set_gen(r.tw, 0, 1), -EINVAL, "pending nodes are not forced");
	cr_assert_eq(spl_timerwheel_advance(r.tw, T0 + MS, record, &r), 1);
	uint32_t h3 = start_ok(r.tw, MS, 3);  /* wrapped: gen 1, not 0 */
	cr_assert_eq(h3, 1u << 1);
	cr_assert_eq(spl_timerwheel_stop(r.tw, h1), -ENOENT);
	cr_assert_eq(spl_timerwheel_stop(r.tw, h2), -ENOENT);
	cr_assert_eq(spl_timerwheel_pending(r.tw, h3), 1);
	cr_assert_eq(spl_timerwheel_stop(r.tw, h3), 0);
	cr_assert_eq(start_ok(r.tw, MS, 4), 2u << 1);
	spl_timerwheel_free(r.tw);

	/* The index field is as wide as the capacity needs, no wider:
	 * 2^16 + 1 timers take 17 bits and leave 15 of generation. */
	struct spl_timerwheel_conf conf = { .capacity = (1u << 16) + 1 };
	struct spl_timerwheel *big = spl_timerwheel_create(&conf);
	cr_assert_not_null(big);
	cr_assert_eq(spl_timerwheel_priv_gen_max(big), (1u << 15) - 1);
	spl_timerwheel_free(big);
}

Test(timerwheel, freed_slots_are_reused_newest_first)
{
	struct rec r = { 0 };
	uint32_t h[3];

	r.tw = mk(3, MS);
	for (int i = 0; i < 3; i++)
		h[i] = start_ok(r.tw, MS, i);
	spl_timerwheel_stop(r.tw, h[1]);
	spl_timerwheel_stop(r.tw, h[0]);
	/* LIFO reuse (the node is still in cache): slot 0, freed last, first;
	 * each reuse carries the next generation. */
	uint32_t a = start_ok(r.tw, MS, 5), b = start_ok(r.tw, MS, 6);
	cr_assert_eq(a & 3, h[0] & 3);
	cr_assert_eq(b & 3, h[1] & 3);
	cr_assert_eq(a >> 2, (h[0] >> 2) + 1);
	cr_assert_eq(b >> 2, (h[1] >> 2) + 1);
	spl_timerwheel_free(r.tw);
}

/* The layout invariants of timerwheel.c: a slot's bitmap bit is set exactly
 * when its list is non-empty, every timer sits where its due tick puts it
 * (level from the highest bit of due ^ tick), and the lists hold exactly
 * the pending timers. */
static void check_invariants(const struct spl_timerwheel *tw)
{
	const struct tw_node *n = tw->nodes;
	uint32_t linked = 0;

	for (uint32_t l = 0; l < TW_NLISTS; l++) {
		uint32_t s = tw->capacity + l, prev = s;

		if (l < TW_SLOT_LISTS)
			cr_assert_eq((tw->bitmap[l / TW_SLOTS] >> (l % TW_SLOTS)) & 1, n[s].next != s,
				     "bitmap of list %u", l);
		for (uint32_t i = n[s].next; i != s; prev = i, i = n[i].next) {
			uint64_t x = n[i].due ^ tw->tick;

			cr_assert_lt(i, tw->capacity);
			cr_assert_eq(n[i].prev, prev);
			cr_assert_neq(n[i].handle, 0);
			linked++;
			if (l == TW_LIST_DUE)
				continue;
			cr_assert_neq(l, TW_LIST_FIRING, "firing list is empty outside advance");
			cr_assert_gt(n[i].due, tw->tick);
			if (l == TW_LIST_OVERFLOW) {
				cr_assert_neq(x >> TW_RANGE_BITS, 0);
				cr_assert_geq(n[i].due, tw->ovf_min);
			} else {
				uint32_t level = (uint32_t)(63 - __builtin_clzll(x)) / TW_LEVEL_BITS;

				cr_assert_eq(l, level * TW_SLOTS + ((n[i].due >> (level * TW_LEVEL_BITS)) & (TW_SLOTS - 1)));
			}
		}
	}
	cr_assert_eq(linked, tw->pending);
}

/*
 * Model check: random starts, stops, restarts and advances against a
 * brute-force list of pending timers, with the wheel's own rounding rule
 * (due tick = ceil((now + delay) / tick), or "next advance" for 0).
 */
struct model_timer {
	uint32_t handle;
	uint64_t due;   /* tick; UINT64_MAX - 1 means "next advance" (delay 0) */
	uint64_t seq;   /* start order */
	uint64_t data;
	int live;
};

struct model {
	struct spl_timerwheel *tw;
	struct model_timer t[512];
	uint32_t n;
	uint64_t fired_data[512];
	uint32_t nfired;
};

static void model_cb(void *ctx, uint32_t handle, uint64_t data)
{
	struct model *m = ctx;

	(void)handle;
	cr_assert_lt(m->nfired, 512);
	m->fired_data[m->nfired++] = data;
}

static int cmp_due_seq(const void *a, const void *b)
{
	const struct model_timer *x = *(struct model_timer *const *)a, *y = *(struct model_timer *const *)b;
	uint64_t dx = x->due == UINT64_MAX - 1 ? 0 : x->due + 1, dy = y->due == UINT64_MAX - 1 ? 0 : y->due + 1;

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static uint64_t rnd64(void)
{
	return (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
}

static uint64_t random_delay(uint64_t tick)
{
	switch (rand() % 8) {
	case 0: return 0;
	case 1: return rnd64() % (tick * 4) + 1;                    /* sub-tick and a few ticks */
	case 2: return rnd64() % (tick * 64 * 64);                  /* levels 0-1 */
	case 3: return rnd64() % (tick << 20);                      /* levels 2-3 */
	case 4: return rnd64() % (tick << 37);                      /* to the edge of the range */
	case 5: return (tick << TW_RANGE_BITS) + rnd64() % (tick << 38); /* overflow */
	default: return rnd64() % (tick * 300);
	}
}

static void model_run(uint64_t tick_ns, unsigned seed)
{
	struct model m = { 0 };
	struct model_timer *order[512];
	uint64_t now = T0, seq = 0;

	srand(seed);
	m.tw = mk(512, tick_ns);
	for (int step = 0; step < 6000; step++) {
		int op = rand() % 10;

		if (op < 4 && m.n < 512) {
			uint64_t d = random_delay(tick_ns);
			uint32_t h = spl_timerwheel_start(m.tw, d, m.n);
			uint64_t rel = now - T0;

			cr_assert_neq(h, SPL_TIMER_NONE);
			m.t[m.n] = (struct model_timer){ h, d ? (rel + d + tick_ns - 1) / tick_ns : UINT64_MAX - 1,
							 seq++, m.n, 1 };
			m.n++;
		} else if (op < 6 && m.n > 0) {
			struct model_timer *t = &m.t[rand() % m.n];
			int rc = spl_timerwheel_stop(m.tw, t->handle);

			cr_assert_eq(rc, t->live ? 0 : -ENOENT);
			t->live = 0;
		} else if (op < 7 && m.n > 0) {
			struct model_timer *t = &m.t[rand() % m.n];
			uint64_t d = random_delay(tick_ns);
			int rc = spl_timerwheel_restart(m.tw, t->handle, d);

			cr_assert_eq(rc, t->live ? 0 : -ENOENT);
			if (t->live) {
				t->due = d ? (now - T0 + d + tick_ns - 1) / tick_ns : UINT64_MAX - 1;
				t->seq = seq++;
			}
		} else {
			uint64_t step_ns;

			switch (rand() % 4) {
			case 0: step_ns = rnd64() % tick_ns; break;
			case 1: step_ns = rnd64() % (tick_ns * 100); break;
			case 2: step_ns = rnd64() % (tick_ns << 24); break;
			default: step_ns = rnd64() % (tick_ns << 33); break;  /* crosses the top level */
			}
			now += step_ns;
			uint64_t target = (now - T0) / tick_ns;
			uint32_t k = 0;
			for (uint32_t i = 0; i < m.n; i++)
				if (m.t[i].live && (m.t[i].due == UINT64_MAX - 1 || m.t[i].due <= target))
					order[k++] = &m.t[i];
			qsort(order, k, sizeof(order[0]), cmp_due_seq);
			m.nfired = 0;
			cr_assert_eq(spl_timerwheel_advance(m.tw, now, model_cb, &m), k, "step %d", step);
			for (uint32_t i = 0; i < k; i++) {
				cr_assert_eq(m.fired_data[i], order[i]->data, "step %d, fire %u", step, i);
				order[i]->live = 0;
			}
		}
		uint32_t live = 0;
		for (uint32_t i = 0; i < m.n; i++)
			live += (uint32_t)m.t[i].live;
		cr_assert_eq(spl_timerwheel_count(m.tw), live);
		check_invariants(m.tw);
		if (m.n == 512) {  /* recycle the model's table: stop whatever is left */
			for (uint32_t i = 0; i < m.n; i++)
				if (m.t[i].live)
					cr_assert_eq(spl_timerwheel_stop(m.tw, m.t[i].handle), 0);
			m.n = 0;
		}
	}
	/* The run really went through cascades, overflow and stale handles. */
	struct spl_timerwheel_stats st = stats(m.tw);
	cr_log_info("tick %lu seed %u: fired %lu cascaded %lu rescans %lu stale %lu restarted %lu",
		    (unsigned long)tick_ns, seed, (unsigned long)st.fired, (unsigned long)st.cascaded,
		    (unsigned long)st.overflow_rescans, (unsigned long)st.stale, (unsigned long)st.restarted);
	cr_assert_gt(st.cascaded, 100);
	cr_assert_gt(st.overflow_rescans, 0);
	cr_assert_gt(st.stale, 100);
	spl_timerwheel_free(m.tw);
}

Test(timerwheel, model_check_1ms_tick)
{
	for (unsigned seed = 1; seed <= 4; seed++)
		model_run(MS, seed);
}

Test(timerwheel, model_check_odd_tick)
{
	/* A tick that is neither a power of two nor a divisor of the steps. */
	for (unsigned seed = 10; seed <= 13; seed++)
		model_run(7919, seed);
	model_run(1, 99);
}
