/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/timerwheel: hierarchical hashed timing wheel (Varghese & Lauck) for
 * one shard. O(1) start, stop and restart; expiries delivered in a batch by
 * spl_timerwheel_advance(). Time is an argument (nanoseconds from any
 * origin), so tests drive it with a virtual clock.
 *
 * Timers are 32-bit handles (slot index + generation) into a pool
 * preallocated at create; a stale handle (timer already fired, stopped, or
 * the slot reused) is detected and refused, never dereferenced blindly.
 * Nothing allocates after spl_timerwheel_create(). Not thread-safe by
 * design: only the owning shard touches its wheel.
 *
 * Design, ranges and cost bounds: doc/timerwheel.md.
 */
#ifndef SPL_TIMERWHEEL_H
#define SPL_TIMERWHEEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct spl_timerwheel;

/* 0 is never a valid handle, so it can mean "no timer". */
#define SPL_TIMER_NONE 0u

/*
 * Called for each expired timer during spl_timerwheel_advance(), in
 * expiry-time order (same-tick timers in start order). `data` is what was
 * given at start. The callback may start, stop or restart any timer,
 * including starting a new one in the handle that just fired; the handle
 * passed here is already free when the callback runs. While a callback
 * runs, the wheel's time is the expiry tick being delivered, so a timer
 * started from it counts its delay from that tick (and, if due by the
 * advance's target, fires in the same advance). A callback must not call
 * spl_timerwheel_advance() or spl_timerwheel_free() on the same wheel
 * (a nested advance returns 0 and does nothing).
 */
typedef void (*spl_timer_cb)(void *ctx, uint32_t handle, uint64_t data);

struct spl_timerwheel_conf {
	uint32_t capacity;    /* timers live at once, 1..SPL_TIMERWHEEL_MAX_CAPACITY */
	uint64_t tick_ns;     /* resolution; 0 = 1 ms */
	uint64_t now_ns;      /* the wheel's time at create */
};

/* Handles keep at least 8 bits of generation: see doc/timerwheel.md. */
#define SPL_TIMERWHEEL_MAX_CAPACITY (1u << 24)

/* Returns NULL with errno set (EINVAL, ENOMEM). */
struct spl_timerwheel *spl_timerwheel_create(const struct spl_timerwheel_conf *conf);
void spl_timerwheel_free(struct spl_timerwheel *tw);  /* NULL is a no-op */

/*
 * Start a timer firing `delay_ns` from the wheel's current time, rounded
 * up to a tick boundary, so it never fires early: it fires in the first
 * advance whose now_ns reaches that boundary. 0 fires on the next call of
 * spl_timerwheel_advance() whatever its now_ns (when started from a
 * callback, on the next call, not the one running, so a callback that
 * re-arms with 0 cannot spin). Delays beyond the wheel's range, up to
 * UINT64_MAX, are kept in an overflow list. Returns a handle, or
 * SPL_TIMER_NONE when the pool is full.
 */
uint32_t spl_timerwheel_start(struct spl_timerwheel *tw, uint64_t delay_ns, uint64_t data);
/* Stop a pending timer. 0 when stopped, -ENOENT when the handle is stale. */
int spl_timerwheel_stop(struct spl_timerwheel *tw, uint32_t handle);
/* Re-arm a pending timer with a new delay counted from now (same handle,
 * same data); within its new tick it orders as if started now.
 * 0, or -ENOENT when stale (a fired timer is stale: start a new one). */
int spl_timerwheel_restart(struct spl_timerwheel *tw, uint32_t handle, uint64_t delay_ns);
/* 1 when the handle names a pending timer. */
int spl_timerwheel_pending(const struct spl_timerwheel *tw, uint32_t handle);

/*
 * Advance the wheel to now_ns, calling cb for every timer due. Work is
 * bounded by the non-empty slots reached (each found with one ctz on a
 * level's occupancy bitmap) plus O(1) per timer fired or moved down a
 * level: a long idle gap is skipped level by level, never tick by tick,
 * and an advance within the current tick is a compare. Returns the number
 * of timers fired. now_ns earlier than the wheel's time does not move it
 * (timers started with delay 0 still fire). cb may be NULL to drop expiries.
 */
uint32_t spl_timerwheel_advance(struct spl_timerwheel *tw, uint64_t now_ns,
				spl_timer_cb cb, void *ctx);

uint64_t spl_timerwheel_now(const struct spl_timerwheel *tw);
uint32_t spl_timerwheel_count(const struct spl_timerwheel *tw);   /* pending */
uint32_t spl_timerwheel_capacity(const struct spl_timerwheel *tw);

/* Per-wheel counters: plain increments, read by the owning shard or summed
 * by a reader that tolerates torn values. */
struct spl_timerwheel_stats {
	uint64_t started;          /* starts that returned a handle */
	uint64_t stopped;
	uint64_t restarted;
	uint64_t fired;
	uint64_t pool_full;        /* starts refused: SPL_TIMER_NONE */
	uint64_t stale;            /* stop/restart refused: -ENOENT */
	uint64_t slots_visited;    /* non-empty slots advance fired, cascaded or rescanned */
	uint64_t cascaded;         /* timers moved down a level (or out of overflow) */
	uint64_t overflow_rescans; /* passes over the overflow list */
};
void spl_timerwheel_get_stats(const struct spl_timerwheel *tw,
			      struct spl_timerwheel_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* SPL_TIMERWHEEL_H */
