/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/dns: RFC 3263 server location over c-ares, for the control thread.
 * doc/dns.md.
 *
 *   - no port, no transport, a name: NAPTR (SIP+D2U, SIP+D2T, SIPS+D2T,
 *     by order then preference) → SRV → A/AAAA; no NAPTR: SRV for UDP,
 *     TCP, TLS in that order; no SRV: A/AAAA, UDP, port 5060 (§4.1, §4.2);
 *   - transport known, no port: SRV (_sip._udp, _sip._tcp, _sips._tcp),
 *     else A/AAAA with the transport's default port;
 *   - port given: A/AAAA; numeric host: no query at all;
 *   - static hosts from config answer before DNS (labs).
 *
 * Results are an ordered list of struct spl_txn_peer: the failover order
 * of RFC 3263 §4.3 (a transaction that gets a transport error, a 503 or a
 * timeout moves to the next). SRV records of one priority are ordered by
 * the RFC 2782 weighted random draw, drawn again on every read, so load
 * spreads by weight across lookups while the cache is warm. A result also
 * says which SRV target each address came from (struct spl_dns_target),
 * so that a copy kept elsewhere (spl_dns_pub.h) can draw again per read.
 *
 * Single-threaded: every call from the control thread. The shards will
 * read a published snapshot of the cache (doc/dns.md), never this object.
 */
#ifndef SPL_DNS_H
#define SPL_DNS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "spl_txn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SPL_DNS_MAX_PEERS   32   /* addresses in one result */
#define SPL_DNS_MAX_TARGETS 16   /* SRV targets in one result */
#define SPL_DNS_NAME_MAX    255

/* A static host (lab / override): `name` resolves to `addr` ("192.0.2.5"
 * or "2001:db8::5", brackets allowed), before and instead of DNS. A name
 * may appear several times: its addresses in order. */
struct spl_dns_host {
	const char *name;
	const char *addr;
};

struct spl_dns_conf {
	const char *servers;          /* "127.0.0.1:5353,[::1]:53"; NULL: /etc/resolv.conf */
	const struct spl_dns_host *hosts;
	unsigned nhosts;
	unsigned cache_entries;       /* 0: 1024 */
	unsigned max_jobs;            /* lookups in flight; 0: 256 */
	uint32_t min_ttl;             /* s; TTLs are clamped to [min_ttl, max_ttl]; 0: 0 */
	uint32_t max_ttl;             /* s; 0: 3600 */
	uint32_t neg_ttl;             /* s, NXDOMAIN / no records; 0: 30 */
	uint32_t timeout_ms;          /* per try; 0: 2000 */
	uint32_t tries;               /* 0: 2 */
	bool ipv6;                    /* also query AAAA (after A) */
	uint64_t seed;                /* weighted draw; 0: from the clock */
	/* ns, monotonic; NULL: CLOCK_MONOTONIC. Tests inject time here. */
	uint64_t (*clock)(void *arg);
	void *clock_arg;
};

/* One SRV target of an answer (or the one target of an A/AAAA-only,
 * static or numeric answer: prio 0, weight 0) and where its addresses are:
 * peers[first .. first+n). Targets of one (rank, prio) are one priority
 * group, drawn among by weight (RFC 2782); groups go in (rank, prio) order. */
struct spl_dns_target {
	uint16_t prio;                /* SRV priority */
	uint16_t weight;              /* SRV weight */
	uint8_t rank;                 /* NAPTR position (0: no NAPTR) */
	uint8_t first;
	uint8_t n;                    /* >= 1 */
};

/* What a lookup found. status: 0 (n >= 1), -ENOENT (NXDOMAIN, or no
 * usable record), -ETIMEDOUT (no server answered), -EIO (server failure,
 * refused, ...), -ENOMEM (too many lookups in flight). peers[] is in
 * failover order (one draw); targets[] in the same order partitions it. */
struct spl_dns_result {
	int status;
	unsigned n;
	uint32_t ttl;                 /* s the answer stays valid (cached: what is left) */
	unsigned ntargets;
	struct spl_txn_peer peers[SPL_DNS_MAX_PEERS];
	struct spl_dns_target targets[SPL_DNS_MAX_TARGETS];
};

typedef void (*spl_dns_cb)(void *arg, const struct spl_dns_result *r);

struct spl_dns_stats {
	uint64_t lookups, cache_hits, cache_misses, static_hits, numeric;
	uint64_t queries, answers, nxdomain, timeouts, failures, evictions;
};

struct spl_dns;

struct spl_dns *spl_dns_create(const struct spl_dns_conf *conf);   /* NULL + errno */
/* Pending lookups get their callback with -ECANCELED. */
void spl_dns_free(struct spl_dns *dns);

/*
 * Resolve (name, port, transport) — port 0: none given; transport an enum
 * spl_sip_transport, 0 (OTHER): none given; TLS means a sips: target.
 * The callback runs exactly once: before this returns when the answer is
 * known without a query (numeric, static, cached; also errors), else from
 * spl_dns_process(). Returns 0, or -EINVAL (bad name) with no callback.
 */
int spl_dns_lookup(struct spl_dns *dns, const char *name, uint16_t port, uint8_t transport,
		   spl_dns_cb cb, void *arg);

/* poll() integration: fills up to max pollfds (events set), returns the
 * count; *timeout_ms gets how long poll may wait (-1: no query pending). */
struct pollfd;
unsigned spl_dns_fds(struct spl_dns *dns, struct pollfd *fds, unsigned max, int *timeout_ms);
/* Read what arrived, run timeouts, deliver callbacks, drop expired cache
 * entries. `now` is conf.clock's time. */
void spl_dns_process(struct spl_dns *dns, uint64_t now);

/*
 * Cache (and static/numeric) only, synchronous: what a shard's resolve
 * hook will do against a published snapshot. Fills up to max peers in
 * failover order; returns the count (>= 1), -ENOENT (cached negative),
 * or -EAGAIN (not cached, or expired: start spl_dns_lookup()).
 */
int spl_dns_cache_lookup(struct spl_dns *dns, const char *name, uint16_t port, uint8_t transport,
			 struct spl_txn_peer *out, unsigned max);

void spl_dns_flush(struct spl_dns *dns);   /* whole cache */
/* "dns cache" on the control socket: one entry per line. Returns entries. */
unsigned spl_dns_cache_dump(struct spl_dns *dns, FILE *out);
const struct spl_dns_stats *spl_dns_stats(const struct spl_dns *dns);

#ifdef __cplusplus
}
#endif
#endif /* SPL_DNS_H */
