/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The published answer table (spl_dns_pub.h): copy-on-write buckets.
 *
 * Each bucket is an _Atomic pointer to a small immutable vector of entry
 * pointers; entries are immutable too. Any change to a bucket builds a new
 * vector, stores it with release order and retires the old vector (and a
 * replaced or removed entry) under one grace-period token. A reader's
 * acquire load of the bucket therefore sees complete vectors and entries,
 * and nothing it can reach is freed before its next quiescent point.
 *
 * Why copy-on-write buckets rather than open addressing: removal needs no
 * tombstones and no rehash under readers, and a write copies a handful of
 * pointers. Chains are kept short by the load factor (buckets >= capacity)
 * and by a hard cap per bucket (the oldest entry of a full bucket goes),
 * with a seeded hash so names chosen by a caller cannot pile into one.
 *
 * Why the caller's QSBR and not an epoch scheme of our own: the shards
 * already report a quiescent state once per loop turn for the location
 * service; sharing it costs the data path nothing more (doc/dns.md).
 *
 * SRV weights: an entry keeps its targets (struct spl_dns_target: priority
 * group, weight, which peers) after the peers, in (rank, prio) order, and
 * the reader draws the order within each priority group afresh on every
 * lookup with the caller's random state (dns_order.c, shared with the
 * resolver's cache). An entry with one target per group (A/AAAA only, one
 * SRV target per priority) is flagged at write time and read as a plain
 * copy, as before.
 *
 * Writer-only bookkeeping (a list by write time for eviction and listing,
 * the retire queue) lives beside the reader-visible fields but is never
 * read by readers.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns_priv.h"
#include "spl_dns_pub.h"

#define MAX_CHAIN 16   /* entries in one bucket; beyond it the oldest goes */

/* Header of everything that can be retired. */
struct pub_obj {
	struct pub_obj *rnext;
	uint64_t token;
};

struct pub_entry {
	struct pub_obj hdr;
	struct pub_entry *newer, *older;   /* writer's list; head is the newest */
	uint64_t written;
	/* what readers look at */
	uint64_t hash;
	uint64_t expires;
	int32_t status;
	uint16_t port;
	uint8_t transport;
	uint8_t namelen;
	uint8_t npeers;
	uint8_t ntargets;
	bool draw;                         /* a priority group has several targets */
	char name[SPL_DNS_NAME_MAX + 1];
	struct spl_txn_peer peers[];       /* then struct spl_dns_target[ntargets] */
};

/* peers[] is 4-aligned, a target needs 2. */
static inline const struct spl_dns_target *entry_targets(const struct pub_entry *e)
{
	return (const struct spl_dns_target *)(const void *)(e->peers + e->npeers);
}

struct pub_vec {
	struct pub_obj hdr;
	uint32_t n;
	struct pub_entry *e[];
};

struct spl_dns_pub {
	struct spl_dns_pub_conf conf;
	uint64_t seed;
	unsigned mask;
	_Atomic(struct pub_vec *) *b;
	struct pub_entry *head, *tail;
	struct pub_obj *rhead, *rtail;
	unsigned sweep;
	struct spl_dns_pub_stats st;
};

static inline char lc(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static inline uint64_t key_hash(uint64_t seed, const char *name, uint32_t len, uint16_t port, uint8_t tp)
{
	uint64_t h = seed ^ 0xcbf29ce484222325ull;
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)lc(name[i])) * 0x100000001b3ull;
	h = (h ^ ((uint64_t)port << 8 | tp)) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static inline uint32_t trim_len(const char *name, uint32_t len)
{
	return len && name[len - 1] == '.' ? len - 1 : len;
}

static inline bool entry_is(const struct pub_entry *e, uint64_t h, const char *name, uint32_t len,
			    uint16_t port, uint8_t tp)
{
	if (e->hash != h || e->port != port || e->transport != tp || e->namelen != len)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (lc(name[i]) != e->name[i])
			return false;
	return true;
}

struct spl_dns_pub *spl_dns_pub_create(const struct spl_dns_pub_conf *conf)
{
	if (!conf || !conf->retire || !conf->check) {
		errno = EINVAL;
		return NULL;
	}
	struct spl_dns_pub *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->conf = *conf;
	if (!t->conf.capacity)
		t->conf.capacity = 1024;
	unsigned nb = 16;
	while (nb < t->conf.capacity && nb < (1u << 30))
		nb <<= 1;
	t->mask = nb - 1;
	t->seed = conf->seed;
	if (!t->seed) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t->seed = ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) * 0x9e3779b97f4a7c15ull;
	}
	t->b = calloc(nb, sizeof(*t->b));
	if (!t->b) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned i = 0; i < nb; i++)
		atomic_init(&t->b[i], NULL);
	return t;
}

void spl_dns_pub_free(struct spl_dns_pub *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i <= t->mask; i++)
		free(atomic_load_explicit(&t->b[i], memory_order_relaxed));
	for (struct pub_entry *e = t->head, *n; e; e = n) {
		n = e->older;
		free(e);
	}
	for (struct pub_obj *o = t->rhead, *n; o; o = n) {
		n = o->rnext;
		free(o);
	}
	free(t->b);
	free(t);
}

/* ---------------------------------------------------------------- */
/* Readers                                                           */

/* Kept out of line: the plain copy below is the common hit. */
static __attribute__((noinline)) int copy_drawn(const struct pub_entry *e, uint64_t *rng,
						struct spl_txn_peer *out, unsigned max)
{
	const struct spl_dns_target *tg = entry_targets(e);
	uint8_t perm[SPL_DNS_MAX_TARGETS];
	unsigned k = dns_order(tg, e->ntargets, rng, perm, max), n = 0;
	for (unsigned i = 0; i < k && n < max; i++) {
		const struct spl_dns_target *x = &tg[perm[i]];
		for (unsigned c = 0; c < x->n && n < max; c++)
			out[n++] = e->peers[x->first + c];
	}
	return n ? (int)n : -ENOENT;
}

int spl_dns_pub_lookup(const struct spl_dns_pub *t, const char *name, uint32_t len, uint16_t port,
		       uint8_t transport, uint64_t now, uint64_t *rng, struct spl_txn_peer *out, unsigned max)
{
	len = trim_len(name, len);
	if (len == 0 || len > SPL_DNS_NAME_MAX)
		return -ENOENT;   /* no resolver would take it either */
	uint64_t h = key_hash(t->seed, name, len, port, transport);
	const struct pub_vec *v = atomic_load_explicit(&t->b[h & t->mask], memory_order_acquire);
	if (!v)
		return -EAGAIN;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct pub_entry *e = v->e[i];
		if (!entry_is(e, h, name, len, port, transport))
			continue;
		if (now >= e->expires)
			return -EAGAIN;
		if (e->status != 0)
			return -ENOENT;
		if (e->draw)
			return copy_drawn(e, rng, out, max);
		unsigned n = e->npeers < max ? e->npeers : max;
		/* Struct copies, not memcpy: a few peers, and a variable-size
		 * memcpy here became `rep movsq` (its start-up cost doubled
		 * the lookup, sipline-bench dns). */
		for (unsigned i = 0; i < n; i++)
			out[i] = e->peers[i];
		return n ? (int)n : -ENOENT;
	}
	return -EAGAIN;
}

/* ---------------------------------------------------------------- */
/* Writer                                                            */

static void retire_push(struct spl_dns_pub *t, void *p, uint64_t token)
{
	struct pub_obj *o = p;
	if (!o)
		return;
	o->token = token;
	o->rnext = NULL;
	if (t->rtail)
		t->rtail->rnext = o;
	else
		t->rhead = o;
	t->rtail = o;
	t->st.retired_pending++;
}

unsigned spl_dns_pub_reclaim(struct spl_dns_pub *t)
{
	unsigned n = 0;
	/* Tokens grow along the queue: stop at the first not yet safe. */
	while (t->rhead && t->conf.check(t->conf.grace_arg, t->rhead->token)) {
		struct pub_obj *o = t->rhead;
		t->rhead = o->rnext;
		if (!t->rhead)
			t->rtail = NULL;
		free(o);
		n++;
	}
	t->st.retired_pending -= n;
	t->st.freed += n;
	return n;
}

static void list_unlink(struct spl_dns_pub *t, struct pub_entry *e)
{
	if (e->newer) e->newer->older = e->older; else t->head = e->older;
	if (e->older) e->older->newer = e->newer; else t->tail = e->newer;
	e->newer = e->older = NULL;
	t->st.entries--;
}

static void list_push(struct spl_dns_pub *t, struct pub_entry *e)
{
	e->newer = NULL;
	e->older = t->head;
	if (t->head) t->head->newer = e; else t->tail = e;
	t->head = e;
	t->st.entries++;
}

static struct pub_vec *vec_new(uint32_t n)
{
	struct pub_vec *v = malloc(sizeof(*v) + n * sizeof(v->e[0]));
	if (v)
		v->n = n;
	return v;
}

static inline struct pub_vec *bucket_get(const struct spl_dns_pub *t, unsigned bi)
{
	return atomic_load_explicit(&t->b[bi], memory_order_relaxed);   /* the writer's own */
}

/* Publish nv in bucket bi; the old vector and the entries in gone[] are
 * retired under one token. */
static void bucket_set(struct spl_dns_pub *t, unsigned bi, struct pub_vec *nv, struct pub_entry **gone,
		       unsigned ngone)
{
	struct pub_vec *old = bucket_get(t, bi);
	atomic_store_explicit(&t->b[bi], nv, memory_order_release);
	uint64_t tok = t->conf.retire(t->conf.grace_arg);
	retire_push(t, old, tok);
	for (unsigned i = 0; i < ngone; i++) {
		list_unlink(t, gone[i]);
		retire_push(t, gone[i], tok);
	}
}

/* Remove entry i of bucket bi. -ENOMEM leaves it in place. */
static int bucket_remove(struct spl_dns_pub *t, unsigned bi, uint32_t i)
{
	struct pub_vec *v = bucket_get(t, bi);
	struct pub_entry *gone = v->e[i];
	struct pub_vec *nv = NULL;
	if (v->n > 1) {
		nv = vec_new(v->n - 1);
		if (!nv)
			return -ENOMEM;
		for (uint32_t k = 0, j = 0; k < v->n; k++)
			if (k != i)
				nv->e[j++] = v->e[k];
	}
	bucket_set(t, bi, nv, &gone, 1);
	return 0;
}

static int remove_entry(struct spl_dns_pub *t, struct pub_entry *e)
{
	unsigned bi = (unsigned)(e->hash & t->mask);
	struct pub_vec *v = bucket_get(t, bi);
	for (uint32_t i = 0; v && i < v->n; i++)
		if (v->e[i] == e)
			return bucket_remove(t, bi, i);
	return -ENOENT;
}

/* Lower-case, no trailing dot, 1..NAME_MAX. */
static int norm_name(const char *name, char *out, uint32_t *len)
{
	if (!name)
		return -EINVAL;
	uint32_t n = trim_len(name, (uint32_t)strnlen(name, SPL_DNS_NAME_MAX + 2));
	if (n == 0 || n > SPL_DNS_NAME_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++)
		out[i] = lc(name[i]);
	out[n] = '\0';
	*len = n;
	return 0;
}

/* The entry's targets: tg[] (a contiguous partition of peers[0..n)) sorted
 * stably by (rank, prio), or one target of weight 0 for all peers; *keep:
 * how many peers fit (SPL_DNS_MAX_PEERS), with the targets cut to match.
 * -EINVAL when tg[] does not partition the peers. */
static int layout(unsigned n, const struct spl_dns_target *tg, unsigned ntg, struct spl_dns_target *lay,
		  unsigned *nlay, unsigned *keep)
{
	unsigned nl = 0, np = 0;
	if (!tg) {
		unsigned k = n < SPL_DNS_MAX_PEERS ? n : SPL_DNS_MAX_PEERS;
		lay[nl++] = (struct spl_dns_target){ .first = 0, .n = (uint8_t)k };
	} else {
		if (ntg == 0 || ntg > SPL_DNS_MAX_TARGETS)
			return -EINVAL;
		unsigned run = 0;
		for (unsigned i = 0; i < ntg; i++) {
			if (tg[i].n == 0 || tg[i].first != run)
				return -EINVAL;
			run += tg[i].n;
			unsigned k = nl++;
			while (k > 0 && (lay[k - 1].rank > tg[i].rank ||
					 (lay[k - 1].rank == tg[i].rank && lay[k - 1].prio > tg[i].prio))) {
				lay[k] = lay[k - 1];
				k--;
			}
			lay[k] = tg[i];
		}
		if (run != n)
			return -EINVAL;
	}
	/* Cut at SPL_DNS_MAX_PEERS; first still points into the caller's
	 * peers here, the caller rewrites it as it copies. */
	unsigned k = 0;
	for (; k < nl && np < SPL_DNS_MAX_PEERS; k++) {
		unsigned room = SPL_DNS_MAX_PEERS - np;
		if (lay[k].n > room)
			lay[k].n = (uint8_t)room;
		np += lay[k].n;
	}
	*nlay = k;
	*keep = np;
	return 0;
}

int spl_dns_pub_put(struct spl_dns_pub *t, const char *name, uint16_t port, uint8_t transport, int status,
		    const struct spl_txn_peer *peers, unsigned n, const struct spl_dns_target *targets,
		    unsigned ntargets, uint64_t expires, uint64_t now)
{
	char key[SPL_DNS_NAME_MAX + 1];
	uint32_t len;
	if (norm_name(name, key, &len) != 0 || (status != 0 && status != -ENOENT) ||
	    (status == 0 && (n == 0 || !peers)))
		return -EINVAL;
	struct spl_dns_target lay[SPL_DNS_MAX_TARGETS];
	unsigned nl = 0;
	if (status != 0)
		n = 0;
	else if (layout(n, targets, ntargets, lay, &nl, &n) != 0)
		return -EINVAL;
	uint64_t h = key_hash(t->seed, key, len, port, transport);
	unsigned bi = (unsigned)(h & t->mask);

	struct pub_vec *v = bucket_get(t, bi);
	int at = -1;
	for (uint32_t i = 0; v && i < v->n; i++)
		if (entry_is(v->e[i], h, key, len, port, transport))
			at = (int)i;
	if (at < 0) {
		/* Room first: the oldest entry of the table, or of this
		 * bucket when the bucket is full. Either may be in bi. */
		if (t->st.entries >= t->conf.capacity && t->tail) {
			if (remove_entry(t, t->tail) != 0)
				return -ENOMEM;
			t->st.evicted++;
		}
		v = bucket_get(t, bi);
		if (v && v->n >= MAX_CHAIN) {
			uint32_t old = 0;
			for (uint32_t i = 1; i < v->n; i++)
				if (v->e[i]->written < v->e[old]->written)
					old = i;
			if (bucket_remove(t, bi, old) != 0)
				return -ENOMEM;
			t->st.evicted++;
			v = bucket_get(t, bi);
		}
	}

	struct pub_entry *e = malloc(sizeof(*e) + n * sizeof(e->peers[0]) + nl * sizeof(lay[0]));
	uint32_t vn = v ? v->n : 0;
	struct pub_vec *nv = vec_new(at < 0 ? vn + 1 : vn);
	if (!e || !nv) {
		free(e);
		free(nv);
		return -ENOMEM;
	}
	memset(e, 0, sizeof(*e));
	e->written = now;
	e->hash = h;
	e->expires = expires;
	e->status = status;
	e->port = port;
	e->transport = transport;
	e->namelen = (uint8_t)len;
	e->npeers = (uint8_t)n;
	e->ntargets = (uint8_t)nl;
	memcpy(e->name, key, len + 1);
	struct spl_dns_target *etg = (struct spl_dns_target *)(void *)(e->peers + n);
	for (unsigned i = 0, np = 0; i < nl; i++) {
		memcpy(e->peers + np, peers + lay[i].first, lay[i].n * sizeof(*peers));
		etg[i] = lay[i];
		etg[i].first = (uint8_t)np;
		np += lay[i].n;
		if (i > 0 && lay[i].rank == lay[i - 1].rank && lay[i].prio == lay[i - 1].prio)
			e->draw = true;
	}
	/* The newest first: the next lookup of a hot name finds it at once. */
	nv->e[0] = e;
	for (uint32_t i = 0, j = 1; i < vn; i++)
		if ((int)i != at)
			nv->e[j++] = v->e[i];
	struct pub_entry *gone = at >= 0 ? v->e[at] : NULL;
	list_push(t, e);
	bucket_set(t, bi, nv, &gone, gone ? 1 : 0);
	t->st.puts++;
	if (gone)
		t->st.replaced++;
	spl_dns_pub_reclaim(t);
	return 0;
}

int spl_dns_pub_del(struct spl_dns_pub *t, const char *name, uint16_t port, uint8_t transport)
{
	char key[SPL_DNS_NAME_MAX + 1];
	uint32_t len;
	if (norm_name(name, key, &len) != 0)
		return -ENOENT;
	uint64_t h = key_hash(t->seed, key, len, port, transport);
	unsigned bi = (unsigned)(h & t->mask);
	struct pub_vec *v = bucket_get(t, bi);
	for (uint32_t i = 0; v && i < v->n; i++)
		if (entry_is(v->e[i], h, key, len, port, transport))
			return bucket_remove(t, bi, i);
	return -ENOENT;
}

unsigned spl_dns_pub_flush(struct spl_dns_pub *t)
{
	/* Unlink every bucket first, then one token for all of it. */
	struct pub_obj *old = NULL;
	for (unsigned bi = 0; bi <= t->mask; bi++) {
		struct pub_vec *v = bucket_get(t, bi);
		if (!v)
			continue;
		atomic_store_explicit(&t->b[bi], NULL, memory_order_release);
		v->hdr.rnext = old;
		old = &v->hdr;
	}
	uint64_t tok = t->conf.retire(t->conf.grace_arg);
	for (struct pub_obj *o = old, *n; o; o = n) {
		n = o->rnext;
		retire_push(t, o, tok);
	}
	unsigned count = 0;
	while (t->head) {
		struct pub_entry *e = t->head;
		list_unlink(t, e);
		retire_push(t, e, tok);
		count++;
	}
	t->st.flushed += count;
	return count;
}

unsigned spl_dns_pub_expire(struct spl_dns_pub *t, uint64_t now, unsigned buckets)
{
	unsigned removed = 0;
	if (buckets > t->mask + 1)
		buckets = t->mask + 1;
	for (unsigned k = 0; k < buckets; k++) {
		unsigned bi = t->sweep;
		t->sweep = (t->sweep + 1) & t->mask;
		struct pub_vec *v = bucket_get(t, bi);
		if (!v)
			continue;
		struct pub_entry *gone[MAX_CHAIN + 1];
		unsigned ng = 0;
		for (uint32_t i = 0; i < v->n && ng < MAX_CHAIN + 1; i++)
			if (now >= v->e[i]->expires)
				gone[ng++] = v->e[i];
		if (!ng)
			continue;
		struct pub_vec *nv = NULL;
		if (ng < v->n) {
			nv = vec_new(v->n - ng);
			if (!nv)
				break;
			for (uint32_t i = 0, j = 0; i < v->n; i++)
				if (now < v->e[i]->expires)
					nv->e[j++] = v->e[i];
		}
		bucket_set(t, bi, nv, gone, ng);
		removed += ng;
	}
	t->st.expired += removed;
	if (removed)
		spl_dns_pub_reclaim(t);
	return removed;
}

int spl_dns_pub_foreach(const struct spl_dns_pub *t, int (*fn)(void *arg, const struct spl_dns_pub_info *e),
			void *arg)
{
	for (const struct pub_entry *e = t->head; e; e = e->older) {
		struct spl_dns_pub_info i = {
			.name = e->name, .port = e->port, .transport = e->transport, .status = e->status,
			.expires = e->expires, .written = e->written, .npeers = e->npeers, .peers = e->peers,
			.ntargets = e->ntargets, .targets = entry_targets(e),
		};
		int rc = fn(arg, &i);
		if (rc)
			return rc;
	}
	return 0;
}

const struct spl_dns_pub_stats *spl_dns_pub_stats(const struct spl_dns_pub *t) { return &t->st; }
