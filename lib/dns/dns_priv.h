/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/dns internals: the answer shape shared by resolver and cache. */
#ifndef SPL_DNS_PRIV_H
#define SPL_DNS_PRIV_H

#include "spl_dns.h"

/* A resolved (or negative) answer, as cached. Targets (struct
 * spl_dns_target, addresses in recs[first .. first+n)) are kept sorted by
 * (rank, prio). */
struct dns_answer {
	int status;          /* 0 or -ENOENT */
	uint32_t ttl;        /* s, clamped */
	uint8_t ntargets;
	uint8_t nrecs;
	struct spl_dns_target t[SPL_DNS_MAX_TARGETS];
	struct spl_txn_peer recs[SPL_DNS_MAX_PEERS];
};

struct dns_key {
	char name[SPL_DNS_NAME_MAX + 1];   /* lower case, no trailing dot */
	uint16_t port;
	uint8_t transport;
};

struct dns_cache;
struct dns_cache *dns_cache_create(unsigned entries);
void dns_cache_free(struct dns_cache *c);
/* NULL when absent or expired (an expired entry is dropped). *ttl_left
 * (if given): seconds it stays valid, rounded up. */
const struct dns_answer *dns_cache_get(struct dns_cache *c, const struct dns_key *k, uint64_t now,
				       uint32_t *ttl_left);
/* Returns true when an older entry had to be evicted for room. */
bool dns_cache_put(struct dns_cache *c, const struct dns_key *k, const struct dns_answer *a,
		   uint64_t now);
void dns_cache_flush(struct dns_cache *c);
void dns_cache_expire(struct dns_cache *c, uint64_t now);
unsigned dns_cache_dump(struct dns_cache *c, FILE *out, uint64_t now);

/*
 * RFC 2782 order of targets t[0..nt) sorted by (rank, prio): each
 * (rank, prio) group in turn, inside it the weighted draw (dns_order.c).
 * Writes target indices to perm; stops once the targets ordered hold
 * `enough` addresses. Returns how many it wrote. *rng: xorshift64* state
 * (0 is replaced by a constant). Used by the cache (dns_answer_order) and
 * by the shards' reader (spl_dns_pub_lookup).
 */
unsigned dns_order(const struct spl_dns_target *t, unsigned nt, uint64_t *rng, uint8_t *perm,
		   unsigned enough);

/* Failover order of an answer: up to max addresses in out. When tout is
 * given it gets the targets in that order, first/n relative to out, and
 * *ntout their count. */
unsigned dns_answer_order(const struct dns_answer *a, uint64_t *rng, struct spl_txn_peer *out,
			  unsigned max, struct spl_dns_target *tout, unsigned *ntout);

#endif
