/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Location service: one partition per writer shard, each a chained hash
 * table of immutable AOR records read without locks (RCU-style list:
 * records are published with release stores and retired through QSBR).
 *
 * Records live in a fixed pool per partition (record_bytes each). A
 * change to an AOR takes a new slot, so the pool holds the live AORs plus
 * the replaced records still in their grace period; create sizes it with
 * slack for that, and running out is answered 503 by the registrar.
 */
#include <errno.h>
#include <stdlib.h>

#include "registrar_priv.h"

#if defined(__SANITIZE_ADDRESS__)
#define LOC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOC_ASAN 1
#endif
#endif
#ifdef LOC_ASAN
#include <sanitizer/asan_interface.h>
/* A free slot is poisoned, so a reader that outlives its grace period
 * (a QSBR bug) is an ASan report, not a silent wrong answer. */
#define LOC_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define LOC_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define LOC_POISON(p, n)   ((void)(p), (void)(n))
#define LOC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct loc_rec *loc_slot(const struct loc_part *p, uint32_t idx)
{
	return (struct loc_rec *)(void *)(p->arena + (size_t)idx * p->rec_bytes);
}

static int part_init(struct loc_part *p, uint32_t nrec, uint32_t rec_bytes)
{
	uint64_t nb = 1;
	while (nb < nrec)
		nb <<= 1;
	p->mask = nb - 1;
	p->rec_bytes = rec_bytes;
	p->nrec = nrec;
	p->buckets = calloc(nb, sizeof(*p->buckets));
	p->arena = aligned_alloc(SPL_CACHE_LINE, (size_t)nrec * rec_bytes);
	p->free_stack = malloc(sizeof(*p->free_stack) * nrec);
	p->gen = calloc(nrec, sizeof(*p->gen));
	p->state = calloc(nrec, sizeof(*p->state));
	if (!p->buckets || !p->arena || !p->free_stack || !p->gen || !p->state)
		return -ENOMEM;
	for (uint32_t i = 0; i < nrec; i++)
		p->free_stack[i] = nrec - 1 - i;   /* slot 0 first */
	p->nfree = nrec;
	atomic_init(&p->free_count, nrec);
	LOC_POISON(p->arena, (size_t)nrec * rec_bytes);
	return 0;
}

static void part_fini(struct loc_part *p)
{
	if (p->arena)
		LOC_UNPOISON(p->arena, (size_t)p->nrec * p->rec_bytes);
	free(p->buckets);
	free(p->arena);
	free(p->free_stack);
	free(p->gen);
	free(p->state);
}

struct spl_location *spl_location_create(const struct spl_location_conf *conf)
{
	if (conf == NULL || conf->nshards == 0 || conf->nshards > SPL_LOCATION_MAX_SHARDS ||
	    conf->max_aors == 0 || conf->max_bindings > SPL_LOCATION_MAX_BINDINGS) {
		errno = EINVAL;
		return NULL;
	}
	struct spl_location *loc = aligned_alloc(SPL_CACHE_LINE, sizeof(*loc));
	if (loc == NULL)
		return NULL;
	memset(loc, 0, sizeof(*loc));
	loc->conf = *conf;
	loc->nparts = conf->nshards;
	loc->max_bindings = conf->max_bindings ? conf->max_bindings : 10;
	uint64_t rb = conf->record_bytes ? conf->record_bytes : 4096;
	rb = (rb + SPL_CACHE_LINE - 1) & ~(uint64_t)(SPL_CACHE_LINE - 1);
	uint64_t min_rb = sizeof(struct loc_rec) + sizeof(struct loc_bind) + 64;
	if (rb < min_rb || rb > (1u << 20)) {
		free(loc);
		errno = EINVAL;
		return NULL;
	}
	loc->record_bytes = (uint32_t)rb;
	uint64_t pr = conf->pool_records;
	if (pr == 0)
		pr = (uint64_t)(conf->max_aors + conf->nshards - 1) / conf->nshards * 5 / 4 + 64;
	if (pr > (1u << 26)) {
		free(loc);
		errno = EINVAL;
		return NULL;
	}
	loc->pool_records = (uint32_t)pr;
	loc->qsbr = spl_qsbr_create(conf->max_readers ? conf->max_readers : 64);
	loc->parts = aligned_alloc(SPL_CACHE_LINE, sizeof(*loc->parts) * loc->nparts);
	if (loc->qsbr == NULL || loc->parts == NULL) {
		spl_qsbr_free(loc->qsbr);
		free(loc->parts);
		free(loc);
		errno = ENOMEM;
		return NULL;
	}
	memset(loc->parts, 0, sizeof(*loc->parts) * loc->nparts);
	for (unsigned i = 0; i < loc->nparts; i++) {
		if (part_init(&loc->parts[i], loc->pool_records, loc->record_bytes) != 0) {
			spl_location_free(loc);
			errno = ENOMEM;
			return NULL;
		}
	}
	return loc;
}

void spl_location_free(struct spl_location *loc)
{
	if (loc == NULL)
		return;
	for (unsigned i = 0; i < loc->nparts; i++)
		part_fini(&loc->parts[i]);
	free(loc->parts);
	spl_qsbr_free(loc->qsbr);
	free(loc);
}

unsigned spl_location_nshards(const struct spl_location *loc) { return loc->nparts; }
struct spl_qsbr *spl_location_qsbr(struct spl_location *loc) { return loc->qsbr; }
int spl_location_reader_register(struct spl_location *loc) { return spl_qsbr_register(loc->qsbr); }
void spl_location_quiescent(struct spl_location *loc, int reader)
{
	spl_qsbr_quiescent(loc->qsbr, reader);
}

/* ------------------------------------------------------------------ */
/* Read side                                                           */

static const struct loc_rec *find_rd(const struct loc_part *p, struct spl_str aor, uint64_t h)
{
	const struct loc_rec *r =
		atomic_load_explicit(&p->buckets[h & p->mask], memory_order_acquire);
	while (r != NULL) {
		if (r->hash == h && r->aor_len == aor.len &&
		    memcmp((const char *)r + r->aor_off, aor.p, aor.len) == 0)
			return r;
		r = atomic_load_explicit(&r->next, memory_order_acquire);
	}
	return NULL;
}

void loc_rec_binding(const struct loc_rec *r, unsigned i, struct spl_binding *out)
{
	const struct loc_bind *lb = &r->b[i];
	const char *t = (const char *)r + lb->off;
	out->contact = reg_str(t, lb->contact_len);
	t += lb->contact_len;
	out->params = reg_str(t, lb->params_len);
	t += lb->params_len;
	out->path = reg_str(t, lb->path_len);
	t += lb->path_len;
	out->call_id = reg_str(t, lb->callid_len);
	out->expires_at = lb->expires_at;
	out->registered_at = lb->registered_at;
	out->cseq = lb->cseq;
	out->q = lb->q;
	out->received = lb->src;
}

static int rec_live(const struct loc_rec *r, struct spl_binding *out, unsigned max, uint64_t now)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->nb; i++) {
		if (r->b[i].expires_at <= now)
			continue;
		if (n < max && out != NULL)
			loc_rec_binding(r, i, &out[n]);
		n++;
	}
	return (int)n;
}

int spl_location_lookup(const struct spl_location *loc, struct spl_str aor,
			struct spl_binding *out, unsigned max, uint64_t now)
{
	if (aor.p == NULL)
		return 0;
	uint64_t h = reg_hash64(aor.p, aor.len);
	const struct loc_rec *r = find_rd(&loc->parts[reg_part_of_hash(h, loc->nparts)], aor, h);
	if (r == NULL)
		return 0;
	int n = rec_live(r, out, max, now);
	return n < (int)max ? n : (int)max;
}

int spl_location_list(const struct spl_location *loc, struct spl_location_cursor *cur,
		      struct spl_location_aor *out, unsigned max, uint64_t now)
{
	unsigned n = 0;
	while (n < max && cur->part < loc->nparts) {
		const struct loc_part *p = &loc->parts[cur->part];
		if (cur->bucket > p->mask) {
			cur->part++;
			cur->bucket = 0;
			cur->skip = 0;
			continue;
		}
		const struct loc_rec *r =
			atomic_load_explicit(&p->buckets[cur->bucket], memory_order_acquire);
		uint32_t k = 0;
		for (; r != NULL && n < max; r = atomic_load_explicit(&r->next, memory_order_acquire), k++) {
			if (k < cur->skip)
				continue;
			out[n].aor = loc_rec_aor(r);
			out[n].rec = r;
			out[n].nbindings = (unsigned)rec_live(r, NULL, 0, now);
			n++;
			cur->skip = k + 1;
		}
		if (r == NULL) {
			cur->bucket++;
			cur->skip = 0;
		}
	}
	return (int)n;
}

int spl_location_aor_bindings(const struct spl_location_aor *a, struct spl_binding *out,
			      unsigned max, uint64_t now)
{
	int n = rec_live((const struct loc_rec *)a->rec, out, max, now);
	return n < (int)max ? n : (int)max;
}

void spl_location_get_stats(const struct spl_location *loc, unsigned part,
			    struct spl_location_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->aors_total = atomic_load_explicit(&loc->aors_total, memory_order_relaxed);
	if (part >= loc->nparts)
		return;
	const struct loc_part *p = &loc->parts[part];
	st->aors = atomic_load_explicit(&p->aors, memory_order_relaxed);
	st->bindings = atomic_load_explicit(&p->bindings, memory_order_relaxed);
	st->pool_free = atomic_load_explicit(&p->free_count, memory_order_relaxed);
	st->pool_grace = atomic_load_explicit(&p->grace_count, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* Write side: the partition's owner only                              */

struct loc_rec *loc_find(const struct loc_part *p, struct spl_str aor, uint64_t hash)
{
	return (struct loc_rec *)find_rd(p, aor, hash);
}

unsigned loc_reclaim(struct spl_location *loc, struct loc_part *p)
{
	if (p->limbo_head == NULL)
		return 0;
	uint64_t horizon = qsbr_horizon(loc->qsbr);
	unsigned n = 0;
	while (p->limbo_head != NULL && p->limbo_head->retire_token <= horizon) {
		struct loc_rec *r = p->limbo_head;
		p->limbo_head = r->limbo_next;
		uint32_t idx = r->idx;
		p->state[idx] = LOC_SLOT_FREE;
		LOC_POISON(r, p->rec_bytes);
		p->free_stack[p->nfree++] = idx;
		n++;
	}
	if (p->limbo_head == NULL)
		p->limbo_tail = NULL;
	p->nlimbo -= n;
	atomic_store_explicit(&p->free_count, p->nfree, memory_order_relaxed);
	atomic_store_explicit(&p->grace_count, p->nlimbo, memory_order_relaxed);
	return n;
}

uint64_t loc_rec_bytes(struct spl_str aor, const struct spl_binding *b, unsigned nb)
{
	uint64_t s = sizeof(struct loc_rec) + (uint64_t)nb * sizeof(struct loc_bind) + aor.len;
	for (unsigned i = 0; i < nb; i++)
		s += (uint64_t)b[i].contact.len + b[i].params.len + b[i].path.len + b[i].call_id.len;
	return s;
}

static bool fits16(const struct spl_binding *b)
{
	return b->contact.len <= UINT16_MAX && b->params.len <= UINT16_MAX &&
	       b->path.len <= UINT16_MAX && b->call_id.len <= UINT16_MAX;
}

static char *put(char *dst, struct spl_str s)
{
	if (s.len)
		memcpy(dst, s.p, s.len);
	return dst + s.len;
}

struct loc_rec *loc_rec_build(struct spl_location *loc, struct loc_part *p, struct spl_str aor,
			      uint64_t hash, const struct spl_binding *b, unsigned nb, int *err)
{
	if (nb > UINT16_MAX || aor.len > UINT16_MAX ||
	    loc_rec_bytes(aor, b, nb) > p->rec_bytes) {
		*err = -E2BIG;
		return NULL;
	}
	for (unsigned i = 0; i < nb; i++)
		if (!fits16(&b[i])) {
			*err = -E2BIG;
			return NULL;
		}
	if (p->nfree == 0)
		loc_reclaim(loc, p);
	if (p->nfree == 0) {
		*err = -ENOMEM;
		return NULL;
	}
	uint32_t idx = p->free_stack[--p->nfree];
	atomic_store_explicit(&p->free_count, p->nfree, memory_order_relaxed);
	p->gen[idx]++;
	p->state[idx] = LOC_SLOT_BUILDING;
	struct loc_rec *r = loc_slot(p, idx);
	LOC_UNPOISON(r, p->rec_bytes);

	atomic_init(&r->next, NULL);
	r->hash = hash;
	r->idx = idx;
	r->nb = (uint16_t)nb;
	r->aor_len = (uint16_t)aor.len;
	r->limbo_next = NULL;
	r->retire_token = 0;
	r->first_expiry = UINT64_MAX;
	char *t = (char *)&r->b[nb];
	r->aor_off = (uint32_t)(t - (char *)r);
	t = put(t, aor);
	for (unsigned i = 0; i < nb; i++) {
		struct loc_bind *lb = &r->b[i];
		lb->expires_at = b[i].expires_at;
		lb->registered_at = b[i].registered_at;
		lb->cseq = b[i].cseq;
		lb->q = b[i].q;
		lb->src = b[i].received;
		lb->off = (uint32_t)(t - (char *)r);
		lb->contact_len = (uint16_t)b[i].contact.len;
		lb->params_len = (uint16_t)b[i].params.len;
		lb->path_len = (uint16_t)b[i].path.len;
		lb->callid_len = (uint16_t)b[i].call_id.len;
		t = put(t, b[i].contact);
		t = put(t, b[i].params);
		t = put(t, b[i].path);
		t = put(t, b[i].call_id);
		if (b[i].expires_at < r->first_expiry)
			r->first_expiry = b[i].expires_at;
	}
	r->size = (uint32_t)(t - (char *)r);
	*err = 0;
	return r;
}

void loc_rec_discard(struct loc_part *p, struct loc_rec *r)
{
	p->state[r->idx] = LOC_SLOT_FREE;
	p->free_stack[p->nfree++] = r->idx;
	atomic_store_explicit(&p->free_count, p->nfree, memory_order_relaxed);
	LOC_POISON(r, p->rec_bytes);
}

bool loc_aor_reserve(struct spl_location *loc)
{
	uint64_t n = atomic_fetch_add_explicit(&loc->aors_total, 1, memory_order_relaxed);
	if (n >= loc->conf.max_aors) {
		atomic_fetch_sub_explicit(&loc->aors_total, 1, memory_order_relaxed);
		return false;
	}
	return true;
}

void loc_aor_release(struct spl_location *loc)
{
	atomic_fetch_sub_explicit(&loc->aors_total, 1, memory_order_relaxed);
}

/* The link that points at r: the bucket head or a predecessor's next. */
static _Atomic(struct loc_rec *) *link_to(struct loc_part *p, const struct loc_rec *r)
{
	_Atomic(struct loc_rec *) *link = &p->buckets[r->hash & p->mask];
	for (;;) {
		struct loc_rec *x = atomic_load_explicit(link, memory_order_relaxed);
		if (x == r || x == NULL)
			return link;
		link = &x->next;
	}
}

void loc_replace(struct spl_location *loc, struct loc_part *p, struct loc_rec *old,
		 struct loc_rec *neu)
{
	int64_t dn = (neu ? neu->nb : 0) - (old ? old->nb : 0);
	if (neu != NULL) {
		_Atomic(struct loc_rec *) *link;
		struct loc_rec *succ;
		if (old != NULL) {
			link = link_to(p, old);
			succ = atomic_load_explicit(&old->next, memory_order_relaxed);
		} else {
			link = &p->buckets[neu->hash & p->mask];
			succ = atomic_load_explicit(link, memory_order_relaxed);
		}
		atomic_store_explicit(&neu->next, succ, memory_order_relaxed);
		p->state[neu->idx] = LOC_SLOT_LIVE;
		/* publish: everything written into neu is visible before it */
		atomic_store_explicit(link, neu, memory_order_release);
		if (old == NULL)
			atomic_fetch_add_explicit(&p->aors, 1, memory_order_relaxed);
	} else if (old != NULL) {
		_Atomic(struct loc_rec *) *link = link_to(p, old);
		atomic_store_explicit(link, atomic_load_explicit(&old->next, memory_order_relaxed),
				      memory_order_release);
		atomic_fetch_sub_explicit(&p->aors, 1, memory_order_relaxed);
		loc_aor_release(loc);
	}
	if (dn)
		atomic_fetch_add_explicit(&p->bindings, (uint64_t)dn, memory_order_relaxed);
	if (old != NULL) {
		/* Readers that found old may still walk it, and through its
		 * next; it stays intact until they have all moved on. */
		p->state[old->idx] = LOC_SLOT_GRACE;
		old->retire_token = spl_qsbr_retire(loc->qsbr);
		old->limbo_next = NULL;
		if (p->limbo_tail)
			p->limbo_tail->limbo_next = old;
		else
			p->limbo_head = old;
		p->limbo_tail = old;
		p->nlimbo++;
		atomic_store_explicit(&p->grace_count, p->nlimbo, memory_order_relaxed);
	}
}

void loc_sort(struct spl_binding *b, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct spl_binding x = b[i];
		unsigned j = i;
		while (j > 0 && (b[j - 1].q < x.q ||
				 (b[j - 1].q == x.q && b[j - 1].registered_at < x.registered_at))) {
			b[j] = b[j - 1];
			j--;
		}
		b[j] = x;
	}
}

int loc_apply(struct spl_location *loc, struct spl_str aor, const struct spl_binding *b,
	      unsigned nb, uint64_t now)
{
	struct spl_binding live[SPL_LOCATION_MAX_BINDINGS];
	unsigned n = 0;
	uint64_t h = reg_hash64(aor.p, aor.len);
	struct loc_part *p = &loc->parts[reg_part_of_hash(h, loc->nparts)];
	struct loc_rec *old = loc_find(p, aor, h);

	for (unsigned i = 0; i < nb && n < SPL_LOCATION_MAX_BINDINGS; i++)
		if (b[i].expires_at > now)
			live[n++] = b[i];
	loc_sort(live, n);
	if (n > loc->max_bindings)
		n = loc->max_bindings;   /* the limit shrank since: keep the preferred ones */
	if (n == 0) {
		if (old != NULL)
			loc_replace(loc, p, old, NULL);
		return 0;
	}
	if (old == NULL && !loc_aor_reserve(loc))
		return -ENOSPC;
	int err;
	struct loc_rec *neu = loc_rec_build(loc, p, aor, h, live, n, &err);
	if (neu == NULL) {
		if (old == NULL)
			loc_aor_release(loc);
		return err;
	}
	loc_replace(loc, p, old, neu);
	return 0;
}
