/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-shard transaction table: preallocated slots on a FIFO free list,
 * slot lifecycle (gauges, termination, CANCEL links) and the accessors of
 * the public API. The server hash is in txn_hash.c.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "txn_priv.h"

static const char *const kind_names[SPL_TXN_KIND__COUNT] = {
	"none", "client-invite", "client-non-invite", "server-invite", "server-non-invite",
};
static const char *const state_names[SPL_TXN_STATE__COUNT] = {
	"reserved", "calling", "trying", "proceeding", "completed", "confirmed",
	"accepted", "terminated",
};
static const char *const timer_names[SPL_TXN_TIMER__COUNT] = {
	"A", "B", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M",
};

const char *spl_txn_kind_name(enum spl_txn_kind k)
{
	return (unsigned)k < SPL_TXN_KIND__COUNT ? kind_names[k] : "?";
}
const char *spl_txn_state_name(enum spl_txn_state s)
{
	return (unsigned)s < SPL_TXN_STATE__COUNT ? state_names[s] : "?";
}
const char *spl_txn_timer_name(enum spl_txn_timer t)
{
	return (unsigned)t < SPL_TXN_TIMER__COUNT ? timer_names[t] : "?";
}

/*
 * The slot array and the hash are large (256 MB for 1M slots) and read at
 * random: anonymous mappings with transparent huge pages where the kernel
 * allows it, so that a lookup costs a cache miss and not also a TLB walk.
 */
static void *big_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
	return p;
}

static void big_free(void *p, size_t bytes)
{
	if (p != NULL)
		munmap(p, bytes);
}

struct spl_txn_table *spl_txn_table_create(const struct spl_txn_conf *c)
{
	if (c == NULL || c->capacity == 0 || c->capacity > TXN_MAX_CAPACITY ||
	    c->wheel == NULL || c->ops == NULL || c->ops->send == NULL ||
	    c->ops->release == NULL || c->ops->on_request == NULL ||
	    c->ops->on_response == NULL || c->ops->on_timeout == NULL ||
	    c->ops->on_transport_error == NULL || c->ops->on_terminated == NULL) {
		errno = EINVAL;
		return NULL;
	}
	struct spl_txn_table *tbl = aligned_alloc(64, (sizeof(*tbl) + 63) & ~(size_t)63);
	if (tbl == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(tbl, 0, sizeof(*tbl));
	uint32_t nb;
	size_t hash_bytes = txn_hash_bytes_for(c->capacity, &nb);
	size_t slot_bytes = (size_t)c->capacity * sizeof(struct txn);
	tbl->slots = big_alloc(slot_bytes);
	tbl->buckets = big_alloc(hash_bytes);
	if (tbl->slots == NULL || tbl->buckets == NULL) {
		big_free(tbl->slots, slot_bytes);
		big_free(tbl->buckets, hash_bytes);
		free(tbl);
		errno = ENOMEM;
		return NULL;
	}
	/* Touch everything now: no page faults on the fast path. */
	memset(tbl->slots, 0, slot_bytes);
	tbl->nbuckets = nb;
	txn_hash_init(tbl);
	for (uint32_t i = 0; i < c->capacity; i++) {
		struct txn *t = &tbl->slots[i];
		t->gen = 1;
		t->link = TXN_NIL;
		t->next = i + 1 < c->capacity ? i + 1 : TXN_NIL;
	}
	tbl->capacity = c->capacity;
	tbl->free_head = 0;
	tbl->free_tail = c->capacity - 1;
	tbl->shard = c->shard;
	tbl->t1 = c->t1_ns ? c->t1_ns : UINT64_C(500000000);
	tbl->t2 = c->t2_ns ? c->t2_ns : UINT64_C(4000000000);
	tbl->t4 = c->t4_ns ? c->t4_ns : UINT64_C(5000000000);
	tbl->td = c->timer_d_ns ? c->timer_d_ns : UINT64_C(32000000000);
	tbl->seed = c->hash_seed;
	if (tbl->seed == 0 && getrandom(&tbl->seed, sizeof(tbl->seed), 0) != sizeof(tbl->seed))
		tbl->seed = (uint64_t)(uintptr_t)tbl ^ UINT64_C(0x5851f42d4c957f2d);
	tbl->seed |= 1;
	tbl->tw = c->wheel;
	tbl->ops = c->ops;
	tbl->ctx = c->ctx;
	return tbl;
}

void spl_txn_table_free(struct spl_txn_table *tbl)
{
	if (tbl == NULL)
		return;
	for (uint32_t i = 0; i < tbl->capacity; i++) {
		struct txn *t = &tbl->slots[i];
		if (t->kind == SPL_TXN_KIND_NONE)
			continue;
		txn_timers_stop(tbl, t);
		txn_release_buf(tbl, &t->sent);
		txn_release_buf(tbl, &t->req);
	}
	big_free(tbl->slots, (size_t)tbl->capacity * sizeof(struct txn));
	big_free(tbl->buckets, (size_t)tbl->nbuckets * sizeof(struct txn_bucket));
	free(tbl);
}

uint32_t spl_txn_capacity(const struct spl_txn_table *tbl) { return tbl->capacity; }
uint32_t spl_txn_live(const struct spl_txn_table *tbl) { return tbl->used; }
int spl_txn_list(const struct spl_txn_table *tbl, uint32_t *cursor, struct spl_txn_info *out, unsigned max)
{
	unsigned n = 0;
	uint32_t i = *cursor;
	for (; i < tbl->capacity && n < max; i++) {
		const struct txn *t = &tbl->slots[i];
		if (t->kind == SPL_TXN_KIND_NONE)
			continue;
		out[n++] = (struct spl_txn_info){ txn_handle(tbl, t), t->kind, t->state, t->method, t->status, t->peer };
	}
	*cursor = i;
	return (int)n;
}

uint32_t spl_txn_bytes_per_txn(const struct spl_txn_table *tbl)
{
	uint64_t b = (uint64_t)tbl->capacity * sizeof(struct txn) +
		     (uint64_t)tbl->nbuckets * sizeof(struct txn_bucket);
	return (uint32_t)((b + tbl->capacity - 1) / tbl->capacity);
}
const struct spl_txn_stats *spl_txn_stats(const struct spl_txn_table *tbl) { return &tbl->stats; }

/* ---- slot lifecycle ---- */

struct txn *txn_alloc(struct spl_txn_table *tbl)
{
	uint32_t i = tbl->free_head;
	if (TXN_UNLIKELY(i == TXN_NIL))
		return NULL;
	struct txn *t = &tbl->slots[i];
	tbl->free_head = t->next;
	if (i == tbl->free_tail)
		tbl->free_tail = TXN_NIL;
	tbl->used++;
	t->next = TXN_NIL;
	t->flags = 0;
	t->status = 0;
	t->link = TXN_NIL;
	t->t_rtx = SPL_TIMER_NONE;
	t->t_life = SPL_TIMER_NONE;
	t->user = NULL;
	t->user32 = 0;
	t->sent = (struct spl_txn_buf){ 0 };
	t->req = (struct spl_txn_buf){ 0 };
	return t;
}

/* Set kind and first state of a freshly allocated slot. */
static inline void gauge(struct spl_txn_table *tbl, const struct txn *t, int64_t d)
{
	tbl->stats.live[t->kind][t->state] += (uint64_t)d;
}

void txn_set_state(struct spl_txn_table *tbl, struct txn *t, uint8_t state)
{
	gauge(tbl, t, -1);
	t->state = state;
	gauge(tbl, t, 1);
}

void txn_init(struct spl_txn_table *tbl, struct txn *t, uint8_t kind, uint8_t state)
{
	t->kind = kind;
	t->state = state;
	gauge(tbl, t, 1);
}

static void txn_free(struct spl_txn_table *tbl, struct txn *t)
{
	gauge(tbl, t, -1);
	t->kind = SPL_TXN_KIND_NONE;
	t->flags = 0;
	t->link = TXN_NIL;
	if (++t->gen == 0)
		t->gen = 1;
	/*
	 * FIFO, not LIFO: a slot comes back only after every other free slot
	 * was used, so its 16-bit generation (carried in our branches) wraps
	 * only after 65536 x (free slots) allocations, and a late response
	 * to an ended transaction cannot match the slot's next user. LIFO
	 * would be warmer in cache but wrap within a second under load.
	 */
	uint32_t i = txn_slot(tbl, t);
	t->next = TXN_NIL;
	if (tbl->free_tail == TXN_NIL)
		tbl->free_head = i;
	else
		tbl->slots[tbl->free_tail].next = i;
	tbl->free_tail = i;
	tbl->used--;
}

void txn_release_buf(struct spl_txn_table *tbl, struct spl_txn_buf *b)
{
	if (b->data != NULL || b->owner != NULL)
		tbl->ops->release(tbl->ctx, b->owner);
	*b = (struct spl_txn_buf){ 0 };
}

void txn_store(struct spl_txn_table *tbl, struct txn *t, const struct spl_txn_buf *b)
{
	txn_release_buf(tbl, &t->sent);
	t->sent = *b;
}

void txn_end(struct spl_txn_table *tbl, struct txn *t)
{
	if (t->state == SPL_TXN_STATE_TERMINATED)
		return;
	uint8_t was = t->state;
	uint64_t h = txn_handle(tbl, t);
	txn_timers_stop(tbl, t);
	if (t->flags & TXN_F_HASHED)
		txn_hash_remove(tbl, t);
	txn_release_buf(tbl, &t->sent);
	txn_release_buf(tbl, &t->req);
	txn_set_state(tbl, t, SPL_TXN_STATE_TERMINATED);

	/*
	 * A CANCEL's responses carry its INVITE's branch, hence the INVITE's
	 * slot: while the CANCEL lives, an ended INVITE keeps its slot (and
	 * generation) as a zombie that only forwards CANCEL responses.
	 */
	bool keep = false;
	if (t->link != TXN_NIL) {
		struct txn *o = &tbl->slots[t->link];
		if (t->kind == SPL_TXN_KIND_CLIENT_INVITE) {
			keep = true;
			t->flags |= TXN_F_ZOMBIE;
		} else {
			if (o->flags & TXN_F_ZOMBIE)
				txn_free(tbl, o);
			else
				o->link = TXN_NIL;
			t->link = TXN_NIL;
		}
	}
	if (was != SPL_TXN_STATE_RESERVED) {
		tbl->stats.terminated[t->kind]++;
		tbl->ops->on_terminated(tbl->ctx, h, t->user, t->user32);
	}
	if (!keep)
		txn_free(tbl, t);
}

/* ---- sending ---- */

void txn_fail_transport(struct spl_txn_table *tbl, struct txn *t, int err, uint64_t now)
{
	uint16_t gen = t->gen;
	tbl->stats.transport_errors++;
	tbl->ops->on_transport_error(tbl->ctx, txn_handle(tbl, t), err, now);
	if (txn_alive(t, gen))
		txn_end(tbl, t);
}

int txn_send_stored(struct spl_txn_table *tbl, struct txn *t, uint64_t now)
{
	int err = tbl->ops->send(tbl->ctx, &t->peer, &t->sent);
	if (TXN_UNLIKELY(err != 0)) {
		if (err > 0)
			err = -err;
		txn_fail_transport(tbl, t, err, now);
	}
	return err;
}

/* ---- public accessors ---- */

int spl_txn_terminate(struct spl_txn_table *tbl, uint64_t handle)
{
	struct txn *t = txn_get(tbl, handle);
	if (t == NULL)
		return -ESTALE;
	txn_end(tbl, t);
	return 0;
}

int spl_txn_user_set(struct spl_txn_table *tbl, uint64_t handle, void *user, uint32_t user32)
{
	struct txn *t = txn_get(tbl, handle);
	if (t == NULL)
		return -ESTALE;
	t->user = user;
	t->user32 = user32;
	return 0;
}

void *spl_txn_user_get(const struct spl_txn_table *tbl, uint64_t handle, uint32_t *user32)
{
	struct txn *t = txn_get(tbl, handle);
	if (t == NULL) {
		if (user32)
			*user32 = 0;
		return NULL;
	}
	if (user32)
		*user32 = t->user32;
	return t->user;
}

int spl_txn_peer_set(struct spl_txn_table *tbl, uint64_t handle, const struct spl_txn_peer *peer)
{
	struct txn *t = txn_get(tbl, handle);
	if (t == NULL)
		return -ESTALE;
	t->peer = *peer;
	return 0;
}

const struct spl_txn_peer *spl_txn_peer_get(const struct spl_txn_table *tbl, uint64_t handle)
{
	struct txn *t = txn_get(tbl, handle);
	return t ? &t->peer : NULL;
}

const struct spl_txn_buf *spl_txn_sent(const struct spl_txn_table *tbl, uint64_t handle)
{
	struct txn *t = txn_get(tbl, handle);
	return (t && t->sent.data) ? &t->sent : NULL;
}

int spl_txn_state(const struct spl_txn_table *tbl, uint64_t handle)
{
	struct txn *t = txn_get(tbl, handle);
	return t ? t->state : -1;
}

int spl_txn_kind(const struct spl_txn_table *tbl, uint64_t handle)
{
	struct txn *t = txn_get(tbl, handle);
	return t ? t->kind : -1;
}

int spl_txn_method(const struct spl_txn_table *tbl, uint64_t handle)
{
	struct txn *t = txn_get(tbl, handle);
	return t ? t->method : -1;
}

uint16_t spl_txn_status(const struct spl_txn_table *tbl, uint64_t handle)
{
	struct txn *t = txn_get(tbl, handle);
	return t ? t->status : 0;
}
