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
 * passed here is already free when the callback runs.
 */
typedef void (*spl_timer_cb)(void *ctx, uint32_t handle, uint64_t data);

struct spl_timerwheel_conf {
	uint32_t capacity;    /* timers live at once */
	uint64_t tick_ns;     /* resolution; 0 = 1 ms */
	uint64_t now_ns;      /* the wheel's time at create */
};

/* Returns NULL with errno set (EINVAL, ENOMEM). */
struct spl_timerwheel *spl_timerwheel_create(const struct spl_timerwheel_conf *conf);
void spl_timerwheel_free(struct spl_timerwheel *tw);

/*
 * Start a timer firing `delay_ns` from the wheel's current time (rounded
 * up to a tick; 0 fires on the next advance). Returns a handle, or
 * SPL_TIMER_NONE when the pool is full.
 */
uint32_t spl_timerwheel_start(struct spl_timerwheel *tw, uint64_t delay_ns, uint64_t data);
/* Stop a pending timer. 0 when stopped, -ENOENT when the handle is stale. */
int spl_timerwheel_stop(struct spl_timerwheel *tw, uint32_t handle);
/* Re-arm a pending timer with a new delay (same handle, same data).
 * 0, or -ENOENT when stale. */
int spl_timerwheel_restart(struct spl_timerwheel *tw, uint32_t handle, uint64_t delay_ns);
/* 1 when the handle names a pending timer. */
int spl_timerwheel_pending(const struct spl_timerwheel *tw, uint32_t handle);

/*
 * Advance the wheel to now_ns, calling cb for every timer due. Work is
 * bounded by the ticks crossed on the lowest level that hold timers plus
 * the timers fired: a long idle gap is skipped level by level, not tick by
 * tick. Returns the number of timers fired. now_ns earlier than the
 * wheel's time is ignored.
 */
uint32_t spl_timerwheel_advance(struct spl_timerwheel *tw, uint64_t now_ns,
				spl_timer_cb cb, void *ctx);

uint64_t spl_timerwheel_now(const struct spl_timerwheel *tw);
uint32_t spl_timerwheel_count(const struct spl_timerwheel *tw);   /* pending */
uint32_t spl_timerwheel_capacity(const struct spl_timerwheel *tw);

#ifdef __cplusplus
}
#endif
#endif /* SPL_TIMERWHEEL_H */
