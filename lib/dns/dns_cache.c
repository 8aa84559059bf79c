/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The answer cache: a fixed array of entries, a chained hash over them
 * and an LRU list; nothing allocates after create. An entry lives until
 * its TTL passes (dropped on access or by the sweep in spl_dns_process)
 * or until it is the least recently used one and room is needed.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "dns_priv.h"

#define NIL UINT32_MAX

struct dns_entry {
	struct dns_key key;
	struct dns_answer ans;
	uint64_t expires;    /* ns */
	uint32_t hnext, prev, next;
	bool used;
};

struct dns_cache {
	unsigned n, mask;
	uint32_t *heads;
	uint32_t lru_head, lru_tail, free_head;  /* head: most recent; free list via next */
	struct dns_entry *e;
};

static uint32_t key_hash(const struct dns_key *k)
{
	uint32_t h = 2166136261u;
	for (const char *p = k->name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ k->port) * 16777619u;
	return (h ^ k->transport) * 16777619u;
}

static bool key_eq(const struct dns_key *a, const struct dns_key *b)
{
	return a->port == b->port && a->transport == b->transport && strcmp(a->name, b->name) == 0;
}

struct dns_cache *dns_cache_create(unsigned entries)
{
	struct dns_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	unsigned hs = 16;
	while (hs < entries * 2)
		hs <<= 1;
	c->n = entries;
	c->mask = hs - 1;
	c->heads = malloc(hs * sizeof(*c->heads));
	c->e = calloc(entries, sizeof(*c->e));
	if (!c->heads || !c->e) {
		dns_cache_free(c);
		return NULL;
	}
	dns_cache_flush(c);
	return c;
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	free(c->heads);
	free(c->e);
	free(c);
}

void dns_cache_flush(struct dns_cache *c)
{
	memset(c->heads, 0xff, (c->mask + 1) * sizeof(*c->heads));
	c->lru_head = c->lru_tail = NIL;
	for (unsigned i = 0; i < c->n; i++) {
		c->e[i].used = false;
		c->e[i].next = i + 1 < c->n ? i + 1 : NIL;
	}
	c->free_head = c->n ? 0 : NIL;
}

static void lru_unlink(struct dns_cache *c, uint32_t i)
{
	struct dns_entry *e = &c->e[i];
	if (e->prev != NIL) c->e[e->prev].next = e->next; else c->lru_head = e->next;
	if (e->next != NIL) c->e[e->next].prev = e->prev; else c->lru_tail = e->prev;
}

static void lru_push(struct dns_cache *c, uint32_t i)
{
	struct dns_entry *e = &c->e[i];
	e->prev = NIL;
	e->next = c->lru_head;
	if (c->lru_head != NIL) c->e[c->lru_head].prev = i; else c->lru_tail = i;
	c->lru_head = i;
}

static void drop(struct dns_cache *c, uint32_t i)
{
	struct dns_entry *e = &c->e[i];
	uint32_t *pp = &c->heads[key_hash(&e->key) & c->mask];
	while (*pp != i)
		pp = &c->e[*pp].hnext;
	*pp = e->hnext;
	lru_unlink(c, i);
	e->used = false;
	e->next = c->free_head;
	c->free_head = i;
}

static uint32_t find(struct dns_cache *c, const struct dns_key *k)
{
	for (uint32_t i = c->heads[key_hash(k) & c->mask]; i != NIL; i = c->e[i].hnext)
		if (key_eq(&c->e[i].key, k))
			return i;
	return NIL;
}

const struct dns_answer *dns_cache_get(struct dns_cache *c, const struct dns_key *k, uint64_t now,
				       uint32_t *ttl_left)
{
	uint32_t i = find(c, k);
	if (i == NIL)
		return NULL;
	if (now >= c->e[i].expires) {
		drop(c, i);
		return NULL;
	}
	lru_unlink(c, i);
	lru_push(c, i);
	if (ttl_left)
		*ttl_left = (uint32_t)((c->e[i].expires - now + 999999999ull) / 1000000000ull);
	return &c->e[i].ans;
}

bool dns_cache_put(struct dns_cache *c, const struct dns_key *k, const struct dns_answer *a,
		   uint64_t now)
{
	bool evicted = false;
	if (c->n == 0)
		return false;
	uint32_t i = find(c, k);
	if (i != NIL) {
		lru_unlink(c, i);
	} else {
		if (c->free_head == NIL) {
			drop(c, c->lru_tail);
			evicted = true;
		}
		i = c->free_head;
		c->free_head = c->e[i].next;
		c->e[i].key = *k;
		c->e[i].used = true;
		uint32_t *head = &c->heads[key_hash(k) & c->mask];
		c->e[i].hnext = *head;
		*head = i;
	}
	c->e[i].ans = *a;
	c->e[i].expires = now + (uint64_t)a->ttl * 1000000000ull;
	lru_push(c, i);
	return evicted;
}

void dns_cache_expire(struct dns_cache *c, uint64_t now)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->e[i].used && now >= c->e[i].expires)
			drop(c, i);
}

static const char *tp_name(uint8_t t)
{
	static const char *const n[] = { "-", "udp", "tcp", "tls", "sctp", "ws", "wss" };
	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}

unsigned dns_cache_dump(struct dns_cache *c, FILE *out, uint64_t now)
{
	unsigned count = 0;
	for (uint32_t i = c->lru_head; i != NIL; i = c->e[i].next) {
		const struct dns_entry *e = &c->e[i];
		if (now >= e->expires)
			continue;
		count++;
		fprintf(out, "%s port=%u transport=%s ttl=%llu", e->key.name, e->key.port,
			tp_name(e->key.transport),
			(unsigned long long)((e->expires - now) / 1000000000ull));
		if (e->ans.status) {
			fprintf(out, " negative\n");
			continue;
		}
		for (unsigned t = 0; t < e->ans.ntargets; t++) {
			const struct spl_dns_target *tg = &e->ans.t[t];
			for (unsigned r = 0; r < tg->n; r++) {
				const struct spl_txn_peer *p = &e->ans.recs[tg->first + r];
				char a[INET6_ADDRSTRLEN];
				inet_ntop(p->family, p->addr, a, sizeof(a));
				fprintf(out, " %s:%s%s%s:%u;prio=%u;weight=%u", tp_name(p->transport),
					p->family == AF_INET6 ? "[" : "", a,
					p->family == AF_INET6 ? "]" : "", p->port, tg->prio, tg->weight);
			}
		}
		fputc('\n', out);
	}
	return count;
}
