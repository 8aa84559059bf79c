/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Quiescent-state-based reclamation, in the manner of liburcu's QSBR
 * flavour and DPDK's rte_rcu_qsbr: readers pay one relaxed load and one
 * release store per loop turn and nothing per read.
 *
 * A global epoch starts at 1. Each reader slot holds the epoch it last
 * saw at a quiescent point, or 0 while offline (or unused). A writer that
 * has unlinked something bumps the epoch and keeps the new value as the
 * token; the thing may be freed once every slot is 0 or >= token, i.e.
 * every online reader has been quiescent after the unlink.
 *
 * Ordering: the writer's fetch_add (acq_rel) follows its unlink, so a
 * reader whose acquire load of the epoch returns >= token sees the unlink
 * in every later read. A reader coming online stores its slot and then
 * issues a full fence before reading; the writer issues one before
 * scanning the slots: of the two stores (slot, unlink) at least one is
 * seen by the other side (store-buffer pattern), so the writer either
 * waits for the reader or the reader cannot find the old pointer.
 */
#include <errno.h>
#include <stdlib.h>

#include "registrar_priv.h"

struct qsbr_slot {
	_Atomic uint64_t seen;       /* 0: offline or unused */
	_Atomic uint32_t used;
} __attribute__((aligned(SPL_CACHE_LINE)));

struct spl_qsbr {
	_Atomic uint64_t epoch __attribute__((aligned(SPL_CACHE_LINE)));
	unsigned max;
	struct qsbr_slot *slots;
};

struct spl_qsbr *spl_qsbr_create(unsigned max_readers)
{
	if (max_readers == 0 || max_readers > 4096) {
		errno = EINVAL;
		return NULL;
	}
	struct spl_qsbr *q = aligned_alloc(SPL_CACHE_LINE, sizeof(*q));
	if (q == NULL)
		return NULL;
	memset(q, 0, sizeof(*q));
	q->slots = aligned_alloc(SPL_CACHE_LINE, sizeof(*q->slots) * max_readers);
	if (q->slots == NULL) {
		free(q);
		return NULL;
	}
	memset(q->slots, 0, sizeof(*q->slots) * max_readers);
	q->max = max_readers;
	atomic_init(&q->epoch, 1);
	return q;
}

void spl_qsbr_free(struct spl_qsbr *q)
{
	if (q == NULL)
		return;
	free(q->slots);
	free(q);
}

static void go_online(struct spl_qsbr *q, struct qsbr_slot *s)
{
	atomic_store_explicit(&s->seen, atomic_load_explicit(&q->epoch, memory_order_acquire),
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
}

int spl_qsbr_register(struct spl_qsbr *q)
{
	for (unsigned i = 0; i < q->max; i++) {
		uint32_t expect = 0;
		if (atomic_compare_exchange_strong(&q->slots[i].used, &expect, 1)) {
			go_online(q, &q->slots[i]);
			return (int)i;
		}
	}
	return -ENOSPC;
}

void spl_qsbr_unregister(struct spl_qsbr *q, int id)
{
	if (id < 0 || (unsigned)id >= q->max)
		return;
	atomic_store_explicit(&q->slots[id].seen, 0, memory_order_release);
	atomic_store_explicit(&q->slots[id].used, 0, memory_order_release);
}

void spl_qsbr_quiescent(struct spl_qsbr *q, int id)
{
	/* The release store orders every read of this turn before it; the
	 * acquire load orders every read of the next turn after the epoch. */
	struct qsbr_slot *s = &q->slots[id];
	atomic_store_explicit(&s->seen, atomic_load_explicit(&q->epoch, memory_order_acquire),
			      memory_order_release);
}

void spl_qsbr_offline(struct spl_qsbr *q, int id)
{
	atomic_store_explicit(&q->slots[id].seen, 0, memory_order_release);
}

void spl_qsbr_online(struct spl_qsbr *q, int id)
{
	go_online(q, &q->slots[id]);
}

uint64_t spl_qsbr_retire(struct spl_qsbr *q)
{
	return atomic_fetch_add_explicit(&q->epoch, 1, memory_order_acq_rel) + 1;
}

uint64_t qsbr_horizon(const struct spl_qsbr *q)
{
	uint64_t h = UINT64_MAX;
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned i = 0; i < q->max; i++) {
		uint64_t s = atomic_load_explicit(&q->slots[i].seen, memory_order_acquire);
		if (s != 0 && s < h)
			h = s;
	}
	return h;
}

bool spl_qsbr_check(const struct spl_qsbr *q, uint64_t token)
{
	return qsbr_horizon(q) >= token;
}
