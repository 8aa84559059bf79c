/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 3263 resolution through the control thread (dnsres.h, doc/dns.md).
 *
 *   shard: resolve hook → published table (lock-free) → hit: peers
 *                                                     → miss: ask ring, park
 *   control: ask rings → spl_dns_lookup (coalesced) → answer → publish,
 *            dns_generation++ → workers resume parked requests
 *
 * Shard side: per shard an SP/SC ring of questions (bounded; full is a
 * counted drop, the name is asked again later) and a small direct-mapped
 * memory of names asked, so a flood of requests for one name asks once per
 * ASK_INTERVAL_NS. Control side: one job per lookup in flight; a question
 * for a name already in flight joins it.
 *
 * Expiry: every entry carries an absolute expiry on the shard clock, and
 * lib/dns runs on the same clock (conf.clock), so its cache and the table
 * agree: after the TTL a shard misses, asks, and the lookup goes to DNS.
 * TTL 0 is published as ASK_MIN_TTL_S, or a shard could never use it.
 */
#include "dnsres.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "app.h"
#include "control.h"
#include "log.h"
#include "shard.h"
#include "spl_dns.h"
#include "spl_dns_pub.h"
#include "spl_registrar.h"

#define ASK_RING        256                    /* questions queued per shard */
#define ASK_MEMO        256                    /* names remembered per shard (power of two) */
#define ASK_INTERVAL_NS 1000000000ull          /* a name is asked once per second per shard */
#define ASK_MIN_TTL_S   1
#define MAX_JOBS        256                    /* lookups in flight */
#define TURN_ASKS       64                     /* questions taken per shard per turn */
#define SWEEP_BUCKETS   64                     /* table buckets swept per turn */
#define PAGE            50

/* A question on a ring (element size: a multiple of 4 bytes). */
struct dns_ask {
	uint16_t port;
	uint8_t transport;
	uint8_t len;
	char name[SPL_DNS_NAME_MAX + 1];
};
_Static_assert(sizeof(struct dns_ask) % 4 == 0, "ring elements are multiples of 4 bytes");

struct ask_memo {
	uint64_t hash;
	uint64_t at;
};

/* What one shard owns: written by its worker only. */
struct dns_shard {
	struct rte_ring *ask;
	uint64_t rng;        /* SRV weighted draw (spl_dns_pub_lookup) */
	uint64_t hits, negative, misses, asked, deduped, ring_full;
	struct ask_memo memo[ASK_MEMO];
} __attribute__((aligned(64)));

struct dns_wait {      /* `dns lookup`: the handler waits for this */
	bool done;
	struct spl_dns_result r;
};

struct dns_job {
	struct spl_dnsres *res;
	bool used;
	uint16_t port;
	uint8_t transport;
	struct dns_wait *wait;
	char name[SPL_DNS_NAME_MAX + 1];
};

struct spl_dnsres {
	struct spl_app *app;
	struct spl_dns *dns;
	struct spl_dns_pub *pub;
	struct spl_qsbr *qsbr;
	struct dns_shard *sh[SPL_MAX_SHARDS];
	struct dns_job jobs[MAX_JOBS];
	unsigned inflight;
	/* control-thread counters */
	uint64_t questions, lookups, coalesced, published, negative, timeouts, failures, jobs_full,
		publish_errors, bad_names;
};

static uint64_t now_ns(const struct spl_app *app) { return spl_shard_now_ns(app->shards[0], rte_rdtsc()); }
static uint64_t dns_clock(void *arg) { return now_ns(arg); }
static uint64_t grace_retire(void *q) { return spl_qsbr_retire(q); }
static bool grace_check(void *q, uint64_t tok) { return spl_qsbr_check(q, tok); }

static inline char lc(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static const char *tp_name(uint8_t tp)
{
	switch (tp) {
	case SPL_SIP_TRANSPORT_UDP: return "udp";
	case SPL_SIP_TRANSPORT_TCP: return "tcp";
	case SPL_SIP_TRANSPORT_TLS: return "tls";
	case SPL_SIP_TRANSPORT_SCTP: return "sctp";
	case SPL_SIP_TRANSPORT_WS: return "ws";
	case SPL_SIP_TRANSPORT_WSS: return "wss";
	default: return "any";
	}
}

/* ---------------------------------------------------------------- */
/* Shard side                                                        */

static void ask(struct dns_shard *ss, struct spl_str host, uint16_t port, uint8_t transport, uint64_t now)
{
	uint32_t len = host.len;
	if (len && host.p[len - 1] == '.')
		len--;
	if (len == 0 || len > SPL_DNS_NAME_MAX)
		return;
	uint64_t h = 0xcbf29ce484222325ull;
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)lc(host.p[i])) * 0x100000001b3ull;
	h = (h ^ ((uint64_t)port << 8 | transport)) * 0x100000001b3ull;
	struct ask_memo *m = &ss->memo[(h ^ h >> 32) & (ASK_MEMO - 1)];
	if (m->hash == h && now - m->at < ASK_INTERVAL_NS) {
		ss->deduped++;
		return;
	}
	struct dns_ask a;
	a.port = port;
	a.transport = transport;
	a.len = (uint8_t)len;
	for (uint32_t i = 0; i < len; i++)
		a.name[i] = lc(host.p[i]);
	a.name[len] = '\0';
	if (rte_ring_sp_enqueue_elem(ss->ask, &a, sizeof(a)) != 0) {
		ss->ring_full++;   /* not remembered: the next miss asks again */
		return;
	}
	m->hash = h;
	m->at = now;
	ss->asked++;
}

int spl_dnsres_resolve(void *ctx, struct spl_str host, uint16_t port, uint8_t transport,
		       struct spl_txn_peer *peers, unsigned max, unsigned *n)
{
	struct spl_shard *s = ctx;
	struct spl_dnsres *res = s->app->dnsres;
	struct dns_shard *ss = res->sh[s->id];
	uint64_t now = spl_shard_now_ns(s, rte_rdtsc());
	int rc = spl_dns_pub_lookup(res->pub, host.p, host.len, port, transport, now, &ss->rng, peers, max);
	if (rc > 0) {
		ss->hits++;
		*n = (unsigned)rc;
		return 0;
	}
	if (rc == -ENOENT) {
		ss->negative++;
		return -ENOENT;
	}
	ss->misses++;
	ask(ss, host, port, transport, now);
	return -EAGAIN;
}

/* ---------------------------------------------------------------- */
/* Control side                                                      */

static void publish(struct spl_dnsres *res, const struct dns_job *j, const struct spl_dns_result *r)
{
	uint64_t now = now_ns(res->app);
	uint32_t ttl = r->ttl < ASK_MIN_TTL_S ? ASK_MIN_TTL_S : r->ttl;
	/* With the targets, each shard redraws the SRV weights per request. */
	int rc = spl_dns_pub_put(res->pub, j->name, j->port, j->transport, r->status, r->peers, r->n,
				 r->ntargets ? r->targets : NULL, r->ntargets,
				 now + (uint64_t)ttl * 1000000000ull, now);
	if (rc != 0) {
		res->publish_errors++;
		return;
	}
	if (r->status == 0)
		res->published++;
	else
		res->negative++;
	/* Release: a worker that sees the new generation sees the entry. */
	atomic_fetch_add_explicit(&res->app->dns_generation, 1, memory_order_release);
}

static void on_answer(void *arg, const struct spl_dns_result *r)
{
	struct dns_job *j = arg;
	struct spl_dnsres *res = j->res;
	switch (r->status) {
	case 0:
	case -ENOENT:
		publish(res, j, r);
		break;
	case -ETIMEDOUT:
		/* Not published: parked requests get their 503 at the park
		 * deadline, and the next miss after it asks again. */
		res->timeouts++;
		break;
	case -ECANCELED:
		break;
	case -ENOMEM:
		res->jobs_full++;
		break;
	default:
		res->failures++;
		break;
	}
	if (j->wait) {
		j->wait->r = *r;
		j->wait->done = true;
	}
	j->used = false;
	res->inflight--;
}

/* Start a lookup, or join one in flight (questions from shards only).
 * Returns the job while it is in flight, NULL when it is over already. */
static struct dns_job *start(struct spl_dnsres *res, const char *name, uint16_t port, uint8_t transport,
			     struct dns_wait *wait)
{
	struct dns_job *j = NULL;
	for (unsigned i = 0; i < MAX_JOBS; i++) {
		struct dns_job *x = &res->jobs[i];
		if (!x->used) {
			if (!j)
				j = x;
		} else if (!wait && x->port == port && x->transport == transport && strcmp(x->name, name) == 0) {
			res->coalesced++;
			return x;
		}
	}
	if (!j) {
		res->jobs_full++;
		if (wait) {
			wait->r.status = -ENOMEM;
			wait->done = true;
		}
		return NULL;
	}
	j->res = res;
	j->used = true;
	j->port = port;
	j->transport = transport;
	j->wait = wait;
	snprintf(j->name, sizeof(j->name), "%s", name);
	res->inflight++;
	res->lookups++;
	/* The callback may run inside (cache, static host), freeing j. */
	int rc = spl_dns_lookup(res->dns, name, port, transport, on_answer, j);
	if (rc != 0) {
		/* Not a name any server would take: the shards get "no such
		 * name" rather than asking again and again. */
		res->bad_names++;
		struct spl_dns_result neg = { .status = -ENOENT, .ttl = res->app->cfg->dns_neg_ttl };
		if (!wait) {
			publish(res, j, &neg);
		} else {
			wait->r.status = rc;
			wait->done = true;
		}
		j->used = false;
		res->inflight--;
		return NULL;
	}
	return j->used && j->wait == wait ? j : NULL;
}

void spl_dnsres_turn(struct spl_app *app)
{
	struct spl_dnsres *res = app->dnsres;
	if (!res)
		return;
	for (unsigned i = 0; i < app->nshards; i++) {
		struct dns_ask a[8];
		unsigned taken = 0, n;
		while (taken < TURN_ASKS &&
		       (n = rte_ring_sc_dequeue_burst_elem(res->sh[i]->ask, a, sizeof(a[0]), 8, NULL)) > 0) {
			for (unsigned k = 0; k < n; k++) {
				res->questions++;
				start(res, a[k].name, a[k].port, a[k].transport, NULL);
			}
			taken += n;
		}
	}
	uint64_t now = now_ns(app);
	spl_dns_process(res->dns, now);
	spl_dns_pub_expire(res->pub, now, SWEEP_BUCKETS);
	spl_dns_pub_reclaim(res->pub);
}

bool spl_dnsres_busy(const struct spl_app *app) { return app->dnsres && app->dnsres->inflight > 0; }

int spl_dnsres_start(struct spl_app *app, char *err, unsigned errlen)
{
	const struct spl_config *c = app->cfg;
	struct spl_dnsres *res = calloc(1, sizeof(*res));
	if (!res) {
		snprintf(err, errlen, "dns: out of memory");
		return -1;
	}
	app->dnsres = res;
	res->app = app;
	struct spl_dns_host hosts[SPL_CFG_MAX_DNS_HOSTS];
	for (unsigned i = 0; i < c->ndns_hosts; i++)
		hosts[i] = (struct spl_dns_host){ c->dns_hosts[i].name, c->dns_hosts[i].addr };
	struct spl_dns_conf dc = {
		.servers = c->dns_servers[0] ? c->dns_servers : NULL,
		.hosts = hosts,
		.nhosts = c->ndns_hosts,
		.cache_entries = c->dns_cache_size,
		.max_jobs = MAX_JOBS,
		.min_ttl = c->dns_min_ttl,
		.max_ttl = c->dns_max_ttl,
		.neg_ttl = c->dns_neg_ttl,
		.timeout_ms = c->dns_timeout_ms,
		.tries = c->dns_tries,
		.ipv6 = c->dns_ipv6,
		.clock = dns_clock,
		.clock_arg = app,
	};
	res->dns = spl_dns_create(&dc);
	if (!res->dns) {
		snprintf(err, errlen, "dns: cannot create the resolver (servers \"%s\"): %s", c->dns_servers,
			 strerror(errno));
		return -1;
	}
	res->qsbr = spl_location_qsbr(app->location);
	struct spl_dns_pub_conf pc = { .capacity = c->dns_cache_size, .retire = grace_retire, .check = grace_check,
				       .grace_arg = res->qsbr };
	res->pub = spl_dns_pub_create(&pc);
	if (!res->pub) {
		snprintf(err, errlen, "dns: cannot create the answer table: %s", strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < app->nshards; i++) {
		int sock = (int)rte_lcore_to_socket_id(app->shards[i]->lcore);
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), "spl_dns%u", i);
		res->sh[i] = rte_zmalloc_socket("spl_dns_shard", sizeof(struct dns_shard), 64, sock);
		if (!res->sh[i]) {
			snprintf(err, errlen, "dns: out of memory for shard %u", i);
			return -1;
		}
		/* Shards must not draw in step: splitmix64 of the TSC and the index. */
		uint64_t z = rte_rdtsc() + (i + 1) * 0x9e3779b97f4a7c15ull;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		res->sh[i]->rng = (z ^ (z >> 31)) | 1;
		res->sh[i]->ask = rte_ring_create_elem(name, sizeof(struct dns_ask), ASK_RING, sock,
						       RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!res->sh[i]->ask) {
			snprintf(err, errlen, "dns: cannot create ring %s: %s", name, rte_strerror(rte_errno));
			return -1;
		}
	}
	spl_log(SPL_LOG_INFO, "dns: resolver %s, %u static host(s), cache %u, park %u for %u ms, unresolvable %u",
		c->dns_servers[0] ? c->dns_servers : "from /etc/resolv.conf", c->ndns_hosts, c->dns_cache_size,
		c->dns_park, c->dns_park_timeout_ms, c->dns_unresolvable_status);
	return 0;
}

void spl_dnsres_stop(struct spl_app *app)
{
	struct spl_dnsres *res = app->dnsres;
	if (!res)
		return;
	spl_dns_free(res->dns);   /* jobs in flight: -ECANCELED */
	spl_dns_pub_free(res->pub);
	for (unsigned i = 0; i < SPL_MAX_SHARDS; i++)
		if (res->sh[i]) {
			rte_ring_free(res->sh[i]->ask);
			rte_free(res->sh[i]);
		}
	free(res);
	app->dnsres = NULL;
}

/* ---------------------------------------------------------------- */
/* TLS: which name gave this address                                 */

struct name_for {
	const struct spl_txn_peer *peer;
	const char *name;
};

static int match_peer(void *arg, const struct spl_dns_pub_info *e)
{
	struct name_for *f = arg;
	const struct spl_txn_peer *p = f->peer;
	unsigned alen = p->family == AF_INET ? 4 : 16;
	for (unsigned i = 0; i < e->npeers; i++)
		if (e->peers[i].family == p->family && e->peers[i].port == p->port &&
		    memcmp(e->peers[i].addr, p->addr, alen) == 0) {
			f->name = e->name;
			return 1;
		}
	return 0;
}

const char *spl_dnsres_name_for(struct spl_app *app, const struct spl_txn_peer *peer)
{
	if (!app->dnsres || !peer)
		return NULL;
	/* Most recent first; O(entries), once per outgoing TLS connection. */
	struct name_for f = { peer, NULL };
	spl_dns_pub_foreach(app->dnsres->pub, match_peer, &f);
	return f.name;
}

/* ---------------------------------------------------------------- */
/* Control socket                                                    */

static json_t *peers_json(const struct spl_txn_peer *p, unsigned n)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < n; i++) {
		char ip[INET6_ADDRSTRLEN], t[INET6_ADDRSTRLEN + 32];
		inet_ntop(p[i].family, p[i].addr, ip, sizeof(ip));
		snprintf(t, sizeof(t), p[i].family == AF_INET6 ? "%s:[%s]:%u" : "%s:%s:%u", tp_name(p[i].transport), ip,
			 p[i].port);
		json_array_append_new(a, json_string(t));
	}
	return a;
}

/* SRV targets as "prio/weight:first+n" over the peers list, so an
 * operator sees which addresses share a weighted draw. */
static json_t *targets_json(const struct spl_dns_target *t, unsigned n)
{
	json_t *a = json_array();
	for (unsigned i = 0; t && i < n; i++)
		json_array_append_new(a, json_pack("{s:i,s:i,s:i,s:i}", "priority", (int)t[i].prio, "weight",
						   (int)t[i].weight, "first_peer", (int)t[i].first, "peers",
						   (int)t[i].n));
	return a;
}

struct listing {
	uint64_t now;
	unsigned skip, total;
	json_t *list;
};

static int list_entry(void *arg, const struct spl_dns_pub_info *e)
{
	struct listing *l = arg;
	l->total++;
	if (l->skip) {
		l->skip--;
		return 0;
	}
	if (json_array_size(l->list) >= PAGE)
		return 0;   /* keep counting */
	uint64_t left = e->expires > l->now ? (e->expires - l->now + 999999999ull) / 1000000000ull : 0;
	json_array_append_new(l->list, json_pack("{s:s,s:i,s:s,s:s,s:I,s:o,s:o}", "name", e->name, "port",
						 (int)e->port, "transport", tp_name(e->transport), "status",
						 e->status ? "nxdomain" : "ok", "ttl_s", (json_int_t)left, "peers",
						 peers_json(e->peers, e->npeers), "targets",
						 targets_json(e->targets, e->ntargets)));
	return 0;
}

static int cmd_cache(struct spl_dnsres *res, struct spl_ctl_req *r, json_t **out)
{
	unsigned page = spl_ctl_page(r);
	if (!page)
		return spl_ctl_error(out, "usage: dns cache [--page N]");
	struct listing l = { now_ns(res->app), (page - 1) * PAGE, 0, json_array() };
	spl_dns_pub_foreach(res->pub, list_entry, &l);
	*out = json_pack("{s:i,s:i,s:o}", "page", (int)page, "entries", (int)l.total, "names", l.list);
	return 0;
}

static const char *status_text(int st)
{
	switch (st) {
	case 0: return "ok";
	case -ENOENT: return "no such name (NXDOMAIN or no usable record)";
	case -ETIMEDOUT: return "no DNS server answered";
	case -EIO: return "server failure";
	case -ENOMEM: return "too many lookups in flight";
	case -EINVAL: return "not a valid name";
	default: return strerror(-st);
	}
}

static int cmd_lookup(struct spl_dnsres *res, struct spl_ctl_req *r, json_t **out)
{
	if (r->argc < 3 || r->argc > 5)
		return spl_ctl_error(out, "usage: dns lookup NAME [PORT] [udp|tcp|tls]");
	const char *name = r->argv[2];
	uint16_t port = 0;
	uint8_t tp = 0;
	for (int i = 3; i < r->argc; i++) {
		const char *a = r->argv[i];
		char *end;
		long p = strtol(a, &end, 10);
		if (*a && !*end && p > 0 && p < 65536)
			port = (uint16_t)p;
		else if (strcmp(a, "udp") == 0)
			tp = SPL_SIP_TRANSPORT_UDP;
		else if (strcmp(a, "tcp") == 0)
			tp = SPL_SIP_TRANSPORT_TCP;
		else if (strcmp(a, "tls") == 0)
			tp = SPL_SIP_TRANSPORT_TLS;
		else
			return spl_ctl_error(out, "'%s' is neither a port nor one of udp, tcp, tls", a);
	}
	const struct spl_config *c = res->app->cfg;
	struct dns_wait w = { 0 };
	struct dns_job *j = start(res, name, port, tp, &w);
	/* One stage's worth of retries; the control thread does nothing
	 * else meanwhile, so a slow server does not hold it for longer. */
	uint64_t limit = (uint64_t)c->dns_timeout_ms * c->dns_tries;
	if (limit > 10000)
		limit = 10000;
	uint64_t deadline = now_ns(res->app) + limit * 1000000ull + 100000000ull;
	while (!w.done && now_ns(res->app) < deadline) {
		struct pollfd fds[16];
		int tmo;
		unsigned n = spl_dns_fds(res->dns, fds, 16, &tmo);
		if (tmo < 0 || tmo > 10)
			tmo = 10;
		poll(fds, n, tmo);
		spl_dns_process(res->dns, now_ns(res->app));
	}
	if (!w.done) {
		if (j && j->used && j->wait == &w)
			j->wait = NULL;   /* it finishes (and publishes) later */
		return spl_ctl_error(out, "%s: no answer within %llu ms; still resolving (see 'dns cache')", name,
				     (unsigned long long)limit);
	}
	if (w.r.status != 0)
		return spl_ctl_error(out, "%s: %s", name, status_text(w.r.status));
	*out = json_pack("{s:s,s:i,s:s,s:I,s:o}", "name", name, "port", (int)port, "transport", tp_name(tp), "ttl_s",
			 (json_int_t)w.r.ttl, "peers", peers_json(w.r.peers, w.r.n));
	return 0;
}

static int cmd_dns(struct spl_ctl_req *r, json_t **out)
{
	struct spl_app *app = r->app;
	struct spl_dnsres *res = app->dnsres;
	if (!res)
		return spl_ctl_error(out, "the resolver is not running");
	const char *sub = r->argc > 1 ? r->argv[1] : "";
	if (strcmp(sub, "cache") == 0)
		return cmd_cache(res, r, out);
	if (strcmp(sub, "lookup") == 0)
		return cmd_lookup(res, r, out);
	if (strcmp(sub, "flush") == 0 && r->argc == 2) {
		spl_dns_flush(res->dns);
		unsigned n = spl_dns_pub_flush(res->pub);
		spl_log(SPL_LOG_NOTICE, "dns: cache flushed (%u published answers)", n);
		*out = json_pack("{s:i}", "flushed", (int)n);
		return 0;
	}
	return spl_ctl_error(out, "usage: dns cache [--page N] | flush | lookup NAME [PORT] [udp|tcp|tls]");
}

static const struct spl_ctl_cmd dns_cmds[] = {
	{ "dns", "cache [--page N] | flush | lookup NAME [PORT] [udp|tcp|tls]",
	  "RFC 3263 resolver: answers the shards use, flush them, resolve a name now", cmd_dns },
};

void spl_dnsres_register_commands(struct spl_app *app)
{
	if (app->ctl)
		spl_ctl_register(app->ctl, dns_cmds, 1);
}

static void add(json_t *o, const char *k, uint64_t v) { json_object_set_new(o, k, json_integer((json_int_t)v)); }

json_t *spl_dnsres_stats_json(struct spl_app *app)
{
	json_t *o = json_object();
	struct spl_dnsres *res = app->dnsres;
	if (!res)
		return o;
	uint64_t hits = 0, neg = 0, miss = 0, asked = 0, dedup = 0, full = 0;
	for (unsigned i = 0; i < app->nshards; i++) {
		const struct dns_shard *ss = res->sh[i];
		hits += ss->hits;
		neg += ss->negative;
		miss += ss->misses;
		asked += ss->asked;
		dedup += ss->deduped;
		full += ss->ring_full;
	}
	add(o, "shard_hits", hits);
	add(o, "shard_negative_hits", neg);
	add(o, "shard_misses", miss);
	add(o, "shard_asked", asked);
	add(o, "shard_ask_deduplicated", dedup);
	add(o, "shard_ask_ring_full", full);
	add(o, "questions", res->questions);
	add(o, "lookups", res->lookups);
	add(o, "lookups_joined", res->coalesced);
	add(o, "lookups_in_flight", res->inflight);
	add(o, "answers_published", res->published);
	add(o, "negative_published", res->negative);
	add(o, "timeouts", res->timeouts);
	add(o, "failures", res->failures);
	add(o, "too_many_in_flight", res->jobs_full);
	add(o, "bad_names", res->bad_names);
	add(o, "publish_errors", res->publish_errors);
	const struct spl_dns_pub_stats *ps = spl_dns_pub_stats(res->pub);
	add(o, "table_entries", ps->entries);
	add(o, "table_replaced", ps->replaced);
	add(o, "table_evicted", ps->evicted);
	add(o, "table_expired", ps->expired);
	add(o, "table_flushed", ps->flushed);
	add(o, "table_retired_pending", ps->retired_pending);
	const struct spl_dns_stats *ds = spl_dns_stats(res->dns);
	add(o, "resolver_lookups", ds->lookups);
	add(o, "resolver_cache_hits", ds->cache_hits);
	add(o, "resolver_cache_misses", ds->cache_misses);
	add(o, "resolver_static_hits", ds->static_hits);
	add(o, "resolver_queries", ds->queries);
	add(o, "resolver_answers", ds->answers);
	add(o, "resolver_nxdomain", ds->nxdomain);
	add(o, "resolver_timeouts", ds->timeouts);
	add(o, "resolver_failures", ds->failures);
	add(o, "resolver_evictions", ds->evictions);
	return o;
}
