/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The published answer table: what the control thread's resolver found,
 * readable by every shard without locks. doc/dns.md.
 *
 * One writer (the control thread), many readers (the shards). The table is
 * a fixed array of buckets; each bucket is an _Atomic pointer to an
 * immutable vector of pointers to immutable entries. A write builds a new
 * vector (and entry), publishes it with one release store and retires what
 * it replaced; readers load a bucket with acquire, copy what they need and
 * hold nothing across their quiescent point. Retired memory is freed after
 * a grace period given by the caller's QSBR (conf.retire / conf.check), so
 * the shards' existing once-a-turn quiescent call covers this table too.
 *
 * Keys are (name, port, transport): the name lower-cased without a
 * trailing dot, exactly what spl_dns_lookup() was asked.
 *
 * An answer keeps its SRV targets (priority group, weight, which peers),
 * and every lookup draws the order inside each priority group afresh
 * (RFC 2782) with the caller's random state, so requests spread by weight
 * while the answer is cached. Time is whatever
 * clock the caller uses for `expires` and `now` (the appliance: the shard
 * clock, wall-anchored ns).
 */
#ifndef SPL_DNS_PUB_H
#define SPL_DNS_PUB_H

#include <stdbool.h>
#include <stdint.h>

#include "spl_dns.h"

#ifdef __cplusplus
extern "C" {
#endif

struct spl_dns_pub;

struct spl_dns_pub_conf {
	unsigned capacity;            /* entries; the oldest written goes when full; 0: 1024 */
	uint64_t seed;                /* hash seed; 0: from the clock */
	/* Grace periods (required): retire() is called right after an unlink
	 * and returns a token; memory retired with it is freed once
	 * check(token) is true (lib/registrar's spl_qsbr_retire/_check). */
	uint64_t (*retire)(void *arg);
	bool (*check)(void *arg, uint64_t token);
	void *grace_arg;
};

/* An entry as the writer lists it (spl_dns_pub_foreach). The pointers stay
 * valid until the writer's next change to the table. */
struct spl_dns_pub_info {
	const char *name;
	uint16_t port;
	uint8_t transport;
	int status;                   /* 0 or -ENOENT */
	uint64_t expires;
	uint64_t written;             /* `now` given to spl_dns_pub_put */
	unsigned npeers;
	const struct spl_txn_peer *peers;   /* by (rank, prio), not drawn */
	unsigned ntargets;                  /* partition peers[] (0 when negative) */
	const struct spl_dns_target *targets;
};

struct spl_dns_pub_stats {
	uint64_t entries;             /* live (some may be expired, not yet swept) */
	uint64_t puts, replaced, evicted, expired, flushed;
	uint64_t retired_pending;     /* objects waiting for their grace period */
	uint64_t freed;
};

struct spl_dns_pub *spl_dns_pub_create(const struct spl_dns_pub_conf *conf);   /* NULL + errno */
/* Frees everything, retired or not: no reader may be left. */
void spl_dns_pub_free(struct spl_dns_pub *t);

/* ---- readers (any registered thread) ---- */

/*
 * Peers for (name, port, transport) at `now`, in RFC 3263 failover order:
 * priority groups as published, within a group the RFC 2782 weighted draw
 * made now with *rng (xorshift64* state, the caller's own: one per shard,
 * seeded differently; never shared between threads), each target's
 * addresses together in their order. `name` need not be lower case nor
 * NUL terminated; a trailing dot is ignored. Returns the count copied
 * (>= 1, at most max), -ENOENT (negative answer cached), or -EAGAIN
 * (absent, or expired at now: ask the writer). No lock, no allocation,
 * no syscall.
 */
int spl_dns_pub_lookup(const struct spl_dns_pub *t, const char *name, uint32_t len, uint16_t port,
		       uint8_t transport, uint64_t now, uint64_t *rng, struct spl_txn_peer *out,
		       unsigned max);

/* ---- writer (one thread) ---- */

/*
 * Publish an answer: status 0 with n >= 1 peers (at most
 * SPL_DNS_MAX_PEERS kept), or -ENOENT (negative, n ignored), valid until
 * `expires`. targets[0..ntargets) say which SRV target each peer came
 * from: a contiguous partition of peers[0..n) in any order (an
 * spl_dns_result's peers and targets); they are kept sorted (stably) by
 * (rank, prio). targets NULL: the peers are one target, always read in
 * the order given (A/AAAA only, static hosts). Replaces an entry of the
 * same key. 0, -EINVAL (bad name, status or partition), -ENOMEM.
 */
int spl_dns_pub_put(struct spl_dns_pub *t, const char *name, uint16_t port, uint8_t transport, int status,
		    const struct spl_txn_peer *peers, unsigned n, const struct spl_dns_target *targets,
		    unsigned ntargets, uint64_t expires, uint64_t now);
/* Remove one key; 0 or -ENOENT. */
int spl_dns_pub_del(struct spl_dns_pub *t, const char *name, uint16_t port, uint8_t transport);
/* Remove every entry; returns how many. */
unsigned spl_dns_pub_flush(struct spl_dns_pub *t);
/* Remove entries expired at now, looking at up to `buckets` buckets from
 * where the last call stopped (incremental sweep). Returns removed. */
unsigned spl_dns_pub_expire(struct spl_dns_pub *t, uint64_t now, unsigned buckets);
/* Free retired memory whose grace period is over; returns objects freed. */
unsigned spl_dns_pub_reclaim(struct spl_dns_pub *t);

/* Entries, most recently written first, until fn returns non-zero
 * (returned). */
int spl_dns_pub_foreach(const struct spl_dns_pub *t, int (*fn)(void *arg, const struct spl_dns_pub_info *e),
			void *arg);
const struct spl_dns_pub_stats *spl_dns_pub_stats(const struct spl_dns_pub *t);

#ifdef __cplusplus
}
#endif
#endif /* SPL_DNS_PUB_H */
