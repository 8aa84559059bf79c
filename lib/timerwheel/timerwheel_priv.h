/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/timerwheel internals, shared by timerwheel.c and the unit tests
 * (which inspect the layout and force generations). Not part of the API.
 */
#ifndef SPL_TIMERWHEEL_PRIV_H
#define SPL_TIMERWHEEL_PRIV_H

#include <stdint.h>

#include "spl_timerwheel.h"

#define TW_LEVEL_BITS  6u
#define TW_SLOTS       (1u << TW_LEVEL_BITS)           /* 64: one bitmap word per level */
#define TW_LEVELS      6u
#define TW_RANGE_BITS  (TW_LEVEL_BITS * TW_LEVELS)     /* 36: 2^36 ticks in the wheel */
#define TW_SLOT_LISTS  (TW_LEVELS * TW_SLOTS)          /* list id = level * 64 + slot */

/* Lists that are not wheel slots follow the slot lists. */
enum {
	TW_LIST_OVERFLOW = TW_SLOT_LISTS,  /* due beyond the wheel's range */
	TW_LIST_DUE,                       /* delay 0: fires on the next advance */
	TW_LIST_FIRING,                    /* TW_LIST_DUE detached by a running advance */
	TW_NLISTS,
};

#define TW_NIL UINT32_MAX

/*
 * One timer. Lists are circular and doubly linked by 32-bit index; each
 * list's head is a sentinel node stored after the `capacity` timers, so
 * linking never branches and an unlink that leaves prev == next has just
 * emptied the list whose sentinel that is. A free node uses `next` as the
 * free-list link.
 */
struct tw_node {
	uint64_t due;     /* expiry tick */
	uint64_t data;    /* caller's, returned to the callback */
	uint32_t next;
	uint32_t prev;
	uint32_t handle;  /* issued handle while pending; 0 when free */
	uint32_t gen;     /* generation of the handle in use or issued next */
};
_Static_assert(sizeof(struct tw_node) == 32, "a timer node must stay 32 bytes");

struct spl_timerwheel {
	/* Touched by every call. */
	struct tw_node *nodes;    /* capacity timers, then TW_NLISTS sentinels */
	uint64_t tick;            /* every timer due at or before this tick has fired */
	uint64_t now_rel;         /* wheel time in ns since origin_ns, >= tick * tick_ns */
	uint64_t next_tick_rel;   /* (tick + 1) * tick_ns, saturated: advance's fast path */
	uint64_t tick_ns;
	uint64_t tick_recip;      /* floor((2^64 - 1) / tick_ns): division by multiply */
	uint32_t capacity;
	uint32_t idx_bits;        /* handle = gen << idx_bits | index */
	uint32_t idx_mask;
	uint32_t gen_max;         /* generations run 1..gen_max, so no handle is 0 */
	uint32_t free_head;       /* LIFO free list, linked through next */
	uint32_t pending;
	uint32_t in_advance;
	uint64_t bitmap[TW_LEVELS];  /* bit s of word l: slot list l*64+s is non-empty */
	uint64_t ovf_min;         /* <= the smallest due in the overflow list */
	uint64_t origin_ns;
	struct spl_timerwheel_stats stats;
};

/* Test hook: set the generation that a free node's next handle will carry.
 * Returns 0, or -EINVAL when idx is out of range, the node is pending or
 * gen is not in 1..gen_max. */
int spl_timerwheel_priv_set_gen(struct spl_timerwheel *tw, uint32_t idx, uint32_t gen);
uint32_t spl_timerwheel_priv_gen_max(const struct spl_timerwheel *tw);

#endif /* SPL_TIMERWHEEL_PRIV_H */
