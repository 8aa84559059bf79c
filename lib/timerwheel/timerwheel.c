/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hierarchical hashed timing wheel: 6 levels of 64 slots over 2^36 ticks,
 * plus an overflow list. See doc/timerwheel.md for the design.
 *
 * Placement invariant: a pending timer due at tick d, while the wheel is at
 * tick t < d, sits at level L = (index of the highest bit of d ^ t) / 6, in
 * slot (d >> 6L) & 63 of that level, or in the overflow list when d and t
 * differ above bit 35. So every occupied slot of level L lies strictly
 * after t's own digit at L, no level ever wraps around t, and the next
 * thing to do is always the lowest set bit of the lowest non-empty level:
 * level 0 fires that tick, a higher level is cascaded down when the wheel
 * enters the block that slot stands for. Cascading appends in list order,
 * and a timer started later for the same tick can never sit at a higher
 * level than an earlier one, so each tick's batch stays in start order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "spl_timerwheel.h"
#include "timerwheel_priv.h"

#define TW_DEFAULT_TICK_NS 1000000u
#define TW_HUGE_PAGE       (2u << 20)

static inline uint32_t list_head(const struct spl_timerwheel *tw, uint32_t list)
{
	return tw->capacity + list;
}

static inline int list_empty(const struct spl_timerwheel *tw, uint32_t list)
{
	uint32_t s = list_head(tw, list);
	return tw->nodes[s].next == s;
}

static inline void list_reset(struct spl_timerwheel *tw, uint32_t list)
{
	uint32_t s = list_head(tw, list);
	tw->nodes[s].next = tw->nodes[s].prev = s;
}

static inline void link_tail(struct tw_node *n, uint32_t s, uint32_t i)
{
	uint32_t t = n[s].prev;
	n[i].prev = t;
	n[i].next = s;
	n[t].next = i;
	n[s].prev = i;
}

static inline void unlink_node(struct spl_timerwheel *tw, uint32_t i)
{
	struct tw_node *n = tw->nodes;
	uint32_t p = n[i].prev, q = n[i].next;

	n[p].next = q;
	n[q].prev = p;
	if (p == q) {  /* only the sentinel is left */
		uint32_t list = p - tw->capacity;
		if (list < TW_SLOT_LISTS)
			tw->bitmap[list / TW_SLOTS] &= ~(UINT64_C(1) << (list % TW_SLOTS));
	}
}

/* Moves every node of list `from` to the tail of list `to` (empty). */
static void list_splice(struct spl_timerwheel *tw, uint32_t from, uint32_t to)
{
	struct tw_node *n = tw->nodes;
	uint32_t f = list_head(tw, from), t = list_head(tw, to);
	uint32_t first = n[f].next, last = n[f].prev;

	if (first == f)
		return;
	n[t].next = first;
	n[first].prev = t;
	n[t].prev = last;
	n[last].next = t;
	n[f].next = n[f].prev = f;
}

/* floor(x / tick_ns) without a divide: the reciprocal estimate is at most
 * one short (see doc/timerwheel.md). */
static inline uint64_t div_tick(const struct spl_timerwheel *tw, uint64_t x, uint64_t *rem)
{
	uint64_t q = (uint64_t)(((unsigned __int128)x * tw->tick_recip) >> 64);
	uint64_t r = x - q * tw->tick_ns;

	if (r >= tw->tick_ns) {
		q++;
		r -= tw->tick_ns;
	}
	*rem = r;
	return q;
}

static inline void set_tick(struct spl_timerwheel *tw, uint64_t tick, uint64_t now_rel)
{
	tw->tick = tick;
	tw->now_rel = now_rel;
	tw->next_tick_rel = tick + 1 <= UINT64_MAX / tw->tick_ns ?
		(tick + 1) * tw->tick_ns : UINT64_MAX;
}

/* Links node i, due at tick `due` >= tw->tick, where the invariant puts it. */
static inline void place(struct spl_timerwheel *tw, uint32_t i, uint64_t due)
{
	uint64_t x = due ^ tw->tick;
	uint32_t list;

	if (x >> TW_RANGE_BITS) {
		list = TW_LIST_OVERFLOW;
		if (due < tw->ovf_min)
			tw->ovf_min = due;
	} else {
		uint32_t level = x ? (uint32_t)(63 - __builtin_clzll(x)) / TW_LEVEL_BITS : 0;
		uint32_t slot = (uint32_t)(due >> (level * TW_LEVEL_BITS)) & (TW_SLOTS - 1);

		tw->bitmap[level] |= UINT64_C(1) << slot;
		list = level * TW_SLOTS + slot;
	}
	link_tail(tw->nodes, list_head(tw, list), i);
}

/* Computes the due tick of a timer started now with `delay_ns` and links it. */
static inline void arm(struct spl_timerwheel *tw, uint32_t i, uint64_t delay_ns)
{
	struct tw_node *n = &tw->nodes[i];
	uint64_t rel, rem, due;

	if (delay_ns == 0) {
		n->due = tw->tick;
		link_tail(tw->nodes, list_head(tw, TW_LIST_DUE), i);
		return;
	}
	rel = tw->now_rel + delay_ns;
	if (rel < delay_ns)
		rel = UINT64_MAX;  /* saturate: "never", in practice */
	due = div_tick(tw, rel, &rem);
	due += rem != 0;
	n->due = due;
	if (due <= tw->tick)  /* only when time itself has run out */
		link_tail(tw->nodes, list_head(tw, TW_LIST_DUE), i);
	else
		place(tw, i, due);
}

static inline struct tw_node *lookup(const struct spl_timerwheel *tw, uint32_t handle)
{
	uint32_t i = handle & tw->idx_mask;

	if (handle == SPL_TIMER_NONE || i >= tw->capacity || tw->nodes[i].handle != handle)
		return NULL;
	return &tw->nodes[i];
}

/* Returns an unlinked node to the free list and retires its handle. */
static inline void release(struct spl_timerwheel *tw, uint32_t i)
{
	struct tw_node *n = &tw->nodes[i];

	n->handle = 0;
	n->gen = n->gen == tw->gen_max ? 1 : n->gen + 1;
	n->next = tw->free_head;  /* LIFO: the next start gets a node still in cache */
	tw->free_head = i;
	tw->pending--;
}

struct spl_timerwheel *spl_timerwheel_create(const struct spl_timerwheel_conf *conf)
{
	struct spl_timerwheel *tw;
	size_t bytes;
	uint32_t cap;

	if (conf == NULL || conf->capacity == 0 || conf->capacity > SPL_TIMERWHEEL_MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}
	cap = conf->capacity;
	tw = aligned_alloc(64, (sizeof(*tw) + 63) & ~(size_t)63);
	if (tw == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(tw, 0, sizeof(*tw));
	bytes = ((size_t)cap + TW_NLISTS) * sizeof(struct tw_node);
	if (bytes >= TW_HUGE_PAGE) {
		/* A large pool is touched at random: ask for transparent huge
		 * pages to spare the TLB (best effort, once, at create). */
		bytes = (bytes + TW_HUGE_PAGE - 1) & ~(size_t)(TW_HUGE_PAGE - 1);
		tw->nodes = aligned_alloc(TW_HUGE_PAGE, bytes);
		if (tw->nodes != NULL)
			(void)madvise(tw->nodes, bytes, MADV_HUGEPAGE);
	} else {
		tw->nodes = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	}
	if (tw->nodes == NULL) {
		free(tw);
		errno = ENOMEM;
		return NULL;
	}
	tw->capacity = cap;
	tw->tick_ns = conf->tick_ns ? conf->tick_ns : TW_DEFAULT_TICK_NS;
	tw->tick_recip = UINT64_MAX / tw->tick_ns;
	tw->idx_bits = cap == 1 ? 1 : 32 - (uint32_t)__builtin_clz(cap - 1);
	tw->idx_mask = (UINT32_C(1) << tw->idx_bits) - 1;
	tw->gen_max = (UINT32_C(1) << (32 - tw->idx_bits)) - 1;
	tw->origin_ns = conf->now_ns;
	tw->ovf_min = UINT64_MAX;
	set_tick(tw, 0, 0);

	for (uint32_t i = 0; i < cap; i++) {
		tw->nodes[i] = (struct tw_node){ .next = i + 1 < cap ? i + 1 : TW_NIL, .gen = 1 };
	}
	tw->free_head = 0;
	for (uint32_t l = 0; l < TW_NLISTS; l++) {
		tw->nodes[cap + l] = (struct tw_node){ 0 };
		list_reset(tw, l);
	}
	return tw;
}

void spl_timerwheel_free(struct spl_timerwheel *tw)
{
	if (tw == NULL)
		return;
	free(tw->nodes);
	free(tw);
}

uint32_t spl_timerwheel_start(struct spl_timerwheel *tw, uint64_t delay_ns, uint64_t data)
{
	uint32_t i = tw->free_head;
	struct tw_node *n;

	if (i == TW_NIL) {
		tw->stats.pool_full++;
		return SPL_TIMER_NONE;
	}
	n = &tw->nodes[i];
	tw->free_head = n->next;
	n->handle = (n->gen << tw->idx_bits) | i;
	n->data = data;
	arm(tw, i, delay_ns);
	tw->pending++;
	tw->stats.started++;
	return n->handle;
}

int spl_timerwheel_stop(struct spl_timerwheel *tw, uint32_t handle)
{
	struct tw_node *n = lookup(tw, handle);
	uint32_t i;

	if (n == NULL) {
		tw->stats.stale++;
		return -ENOENT;
	}
	i = (uint32_t)(n - tw->nodes);
	unlink_node(tw, i);
	release(tw, i);
	tw->stats.stopped++;
	return 0;
}

int spl_timerwheel_restart(struct spl_timerwheel *tw, uint32_t handle, uint64_t delay_ns)
{
	struct tw_node *n = lookup(tw, handle);
	uint32_t i;

	if (n == NULL) {
		tw->stats.stale++;
		return -ENOENT;
	}
	i = (uint32_t)(n - tw->nodes);
	unlink_node(tw, i);
	arm(tw, i, delay_ns);
	tw->stats.restarted++;
	return 0;
}

int spl_timerwheel_pending(const struct spl_timerwheel *tw, uint32_t handle)
{
	return lookup(tw, handle) != NULL;
}

/* Fires list `list` head first until it is empty. Callbacks may stop or
 * restart nodes still on it; nothing new can be linked to it meanwhile
 * (a callback's timers are due after the tick being fired, or go to
 * TW_LIST_DUE while TW_LIST_FIRING is drained). */
static uint32_t fire_list(struct spl_timerwheel *tw, uint32_t list, spl_timer_cb cb, void *ctx)
{
	struct tw_node *n = tw->nodes;
	uint32_t s = list_head(tw, list), i, fired = 0;

	while ((i = n[s].next) != s) {
		uint32_t handle = n[i].handle;
		uint64_t data = n[i].data;

		__builtin_prefetch(&n[n[i].next]);
		unlink_node(tw, i);
		release(tw, i);
		fired++;
		tw->stats.fired++;
		if (cb != NULL)
			cb(ctx, handle, data);
	}
	return fired;
}

/* Redistributes a slot of level >= 1 whose block the wheel just entered. */
static void cascade(struct spl_timerwheel *tw, uint32_t list)
{
	struct tw_node *n = tw->nodes;
	uint32_t s = list_head(tw, list), i = n[s].next;

	tw->bitmap[list / TW_SLOTS] &= ~(UINT64_C(1) << (list % TW_SLOTS));
	list_reset(tw, list);
	while (i != s) {
		uint32_t next = n[i].next;

		__builtin_prefetch(&n[next]);
		place(tw, i, n[i].due);
		tw->stats.cascaded++;
		i = next;
	}
}

/* The wheel entered the top-level block holding ovf_min: pull what is now
 * in range into the wheel, keep the rest and recompute its minimum. */
static void rescan_overflow(struct spl_timerwheel *tw)
{
	struct tw_node *n = tw->nodes;
	uint32_t s = list_head(tw, TW_LIST_OVERFLOW), i = n[s].next;

	tw->ovf_min = UINT64_MAX;
	tw->stats.overflow_rescans++;
	while (i != s) {
		uint32_t next = n[i].next;

		if (((n[i].due ^ tw->tick) >> TW_RANGE_BITS) == 0) {
			unlink_node(tw, i);
			place(tw, i, n[i].due);
			tw->stats.cascaded++;
		} else if (n[i].due < tw->ovf_min) {
			tw->ovf_min = n[i].due;
		}
		i = next;
	}
}

/* Walks the wheel from tw->tick to `target`, visiting only non-empty slots. */
static uint32_t run_to(struct spl_timerwheel *tw, uint64_t target, uint64_t target_rel,
		       spl_timer_cb cb, void *ctx)
{
	uint32_t fired = 0;

	for (;;) {
		uint32_t level = 0, slot = 0;
		uint64_t e;

		while (level < TW_LEVELS && tw->bitmap[level] == 0)
			level++;
		if (level < TW_LEVELS) {
			uint32_t shift = level * TW_LEVEL_BITS;

			slot = (uint32_t)__builtin_ctzll(tw->bitmap[level]);
			e = (tw->tick & ~((UINT64_C(1) << (shift + TW_LEVEL_BITS)) - 1)) |
			    ((uint64_t)slot << shift);
		} else if (!list_empty(tw, TW_LIST_OVERFLOW)) {
			e = tw->ovf_min & ~((UINT64_C(1) << TW_RANGE_BITS) - 1);
			if (e < tw->tick)  /* defensive: a rescan always precedes that block */
				e = tw->tick;
		} else {
			break;
		}
		if (e > target)
			break;
		/* Callbacks see the expiry tick as the wheel's time. */
		set_tick(tw, e, e * tw->tick_ns);
		tw->stats.slots_visited++;
		if (level == TW_LEVELS)
			rescan_overflow(tw);
		else if (level > 0)
			cascade(tw, level * TW_SLOTS + slot);
		else
			fired += fire_list(tw, slot, cb, ctx);
	}
	set_tick(tw, target, target_rel);
	return fired;
}

uint32_t spl_timerwheel_advance(struct spl_timerwheel *tw, uint64_t now_ns,
				spl_timer_cb cb, void *ctx)
{
	uint32_t fired = 0;
	uint64_t rel, rem, target;

	if (tw->in_advance)
		return 0;
	tw->in_advance = 1;
	if (!list_empty(tw, TW_LIST_DUE)) {
		list_splice(tw, TW_LIST_DUE, TW_LIST_FIRING);
		fired += fire_list(tw, TW_LIST_FIRING, cb, ctx);
	}
	rel = now_ns > tw->origin_ns ? now_ns - tw->origin_ns : 0;
	if (rel > tw->now_rel) {
		if (rel < tw->next_tick_rel) {
			tw->now_rel = rel;
		} else {
			target = div_tick(tw, rel, &rem);
			fired += run_to(tw, target, rel, cb, ctx);
		}
	}
	tw->in_advance = 0;
	return fired;
}

uint64_t spl_timerwheel_now(const struct spl_timerwheel *tw)
{
	return tw->origin_ns + tw->now_rel;
}

uint32_t spl_timerwheel_count(const struct spl_timerwheel *tw)
{
	return tw->pending;
}

uint32_t spl_timerwheel_capacity(const struct spl_timerwheel *tw)
{
	return tw->capacity;
}

void spl_timerwheel_get_stats(const struct spl_timerwheel *tw, struct spl_timerwheel_stats *st)
{
	*st = tw->stats;
}

int spl_timerwheel_priv_set_gen(struct spl_timerwheel *tw, uint32_t idx, uint32_t gen)
{
	if (idx >= tw->capacity || tw->nodes[idx].handle != 0 || gen == 0 || gen > tw->gen_max)
		return -EINVAL;
	tw->nodes[idx].gen = gen;
	return 0;
}

uint32_t spl_timerwheel_priv_gen_max(const struct spl_timerwheel *tw)
{
	return tw->gen_max;
}
