/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transaction timers in the shard's shared wheel. Each transaction has at
 * most two pending: a retransmit timer (A, E, G) and a lifetime timer (B,
 * D, F, H, I, J, K, L, M). The wheel's data names the owner (tag), the
 * timer, the slot and its generation, so a timer that outlives its
 * transaction is recognised and ignored.
 */
#include "txn_priv.h"

#define TD_ID_SHIFT 52
#define TD_GEN_SHIFT 32

static inline bool is_rtx(enum spl_txn_timer id)
{
	return id == SPL_TXN_TIMER_A || id == SPL_TXN_TIMER_E || id == SPL_TXN_TIMER_G;
}

static inline uint64_t timer_data(const struct spl_txn_table *tbl, const struct txn *t,
				  enum spl_txn_timer id)
{
	return ((uint64_t)SPL_TXN_TIMER_TAG << SPL_TIMER_TAG_SHIFT) |
	       ((uint64_t)id << TD_ID_SHIFT) | ((uint64_t)t->gen << TD_GEN_SHIFT) |
	       txn_slot(tbl, t);
}

bool txn_timer_start(struct spl_txn_table *tbl, struct txn *t, enum spl_txn_timer id,
		     uint64_t delay, uint64_t now)
{
	/* The wheel counts from its own time, which lags `now` between
	 * advances (it is advanced once per loop turn); inside a wheel
	 * callback the two agree. Either way the timer is due at now+delay. */
	uint64_t wnow = spl_timerwheel_now(tbl->tw);
	if (now > wnow)
		delay += now - wnow;
	uint32_t *slot = is_rtx(id) ? &t->t_rtx : &t->t_life;
	if (*slot != SPL_TIMER_NONE)
		spl_timerwheel_stop(tbl->tw, *slot);
	*slot = spl_timerwheel_start(tbl->tw, delay, timer_data(tbl, t, id));
	if (TXN_UNLIKELY(*slot == SPL_TIMER_NONE)) {
		tbl->stats.timer_failures++;
		return false;
	}
	return true;
}

void txn_timer_stop_rtx(struct spl_txn_table *tbl, struct txn *t)
{
	if (t->t_rtx != SPL_TIMER_NONE) {
		spl_timerwheel_stop(tbl->tw, t->t_rtx);
		t->t_rtx = SPL_TIMER_NONE;
	}
}

void txn_timer_stop_life(struct spl_txn_table *tbl, struct txn *t)
{
	if (t->t_life != SPL_TIMER_NONE) {
		spl_timerwheel_stop(tbl->tw, t->t_life);
		t->t_life = SPL_TIMER_NONE;
	}
}

/* Which timers may run in which state (RFC 3261 §17 figures 5-8, RFC 6026
 * figures 5 and 7): anything else is stale. */
static bool timer_valid(const struct txn *t, enum spl_txn_timer id)
{
	switch (t->kind) {
	case SPL_TXN_KIND_CLIENT_INVITE:
		return (t->state == SPL_TXN_STATE_CALLING && (id == SPL_TXN_TIMER_A || id == SPL_TXN_TIMER_B)) ||
		       (t->state == SPL_TXN_STATE_COMPLETED && id == SPL_TXN_TIMER_D) ||
		       (t->state == SPL_TXN_STATE_ACCEPTED && id == SPL_TXN_TIMER_M);
	case SPL_TXN_KIND_CLIENT_NON_INVITE:
		return ((t->state == SPL_TXN_STATE_TRYING || t->state == SPL_TXN_STATE_PROCEEDING) &&
			(id == SPL_TXN_TIMER_E || id == SPL_TXN_TIMER_F)) ||
		       (t->state == SPL_TXN_STATE_COMPLETED && id == SPL_TXN_TIMER_K);
	case SPL_TXN_KIND_SERVER_INVITE:
		return (t->state == SPL_TXN_STATE_COMPLETED && (id == SPL_TXN_TIMER_G || id == SPL_TXN_TIMER_H)) ||
		       (t->state == SPL_TXN_STATE_CONFIRMED && id == SPL_TXN_TIMER_I) ||
		       (t->state == SPL_TXN_STATE_ACCEPTED && id == SPL_TXN_TIMER_L);
	case SPL_TXN_KIND_SERVER_NON_INVITE:
		return t->state == SPL_TXN_STATE_COMPLETED && id == SPL_TXN_TIMER_J;
	default:
		return false;
	}
}

void spl_txn_timer_fire(struct spl_txn_table *tbl, uint64_t data, uint64_t now)
{
	uint32_t slot = (uint32_t)data;
	uint16_t gen = (uint16_t)(data >> TD_GEN_SHIFT);
	unsigned id = (unsigned)(data >> TD_ID_SHIFT) & 15u;

	if (TXN_UNLIKELY(!spl_txn_timer_is_ours(data) || slot >= tbl->capacity ||
			 id >= SPL_TXN_TIMER__COUNT)) {
		tbl->stats.stale_timers++;
		return;
	}
	/* Inside the wheel's callback its time is the expiry tick: schedule
	 * the next retransmission from there, not from a later `now` the
	 * dispatcher may hold, so intervals do not drift. */
	uint64_t wnow = spl_timerwheel_now(tbl->tw);
	if (now > wnow)
		now = wnow;
	struct txn *t = &tbl->slots[slot];
	uint32_t *h = is_rtx((enum spl_txn_timer)id) ? &t->t_rtx : &t->t_life;
	if (TXN_UNLIKELY(!txn_alive(t, gen) || *h == SPL_TIMER_NONE ||
			 !timer_valid(t, (enum spl_txn_timer)id))) {
		tbl->stats.stale_timers++;
		return;
	}
	*h = SPL_TIMER_NONE;  /* the wheel already freed it */
	if (txn_is_client(t))
		txn_client_timer(tbl, t, (enum spl_txn_timer)id, now);
	else
		txn_server_timer(tbl, t, (enum spl_txn_timer)id, now);
}
