/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 3263 §4 over c-ares. A lookup is a job that runs in stages —
 * NAPTR, then SRV for each usable NAPTR (or each transport), then A/AAAA
 * for each SRV target — with the queries of a stage in parallel. c-ares
 * parses every record; only the TTL of NAPTR/SRV answers is read here
 * from the fixed RR header, because c-ares 1.18 does not return it.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns_priv.h"
#include "spl_sipmsg.h"

enum { ST_NAPTR, ST_SRV, ST_ADDR };

#define MAX_SRV    4
#define TGT_ADDRS  8
#define MAX_Q      (SPL_DNS_MAX_TARGETS * 2)

struct dns_job;
struct dns_q {
	struct dns_job *job;
	uint8_t idx;         /* srv slot or target */
	uint8_t v6;
};

struct dns_job {
	struct spl_dns *dns;
	bool used;
	uint8_t stage;
	unsigned pending;
	int err;             /* first error worth reporting */
	uint32_t ttl;        /* s, min over records used */
	struct dns_key key;
	spl_dns_cb cb;
	void *arg;
	unsigned nsrv;
	struct {
		char name[SPL_DNS_NAME_MAX + 16];
		uint8_t transport, rank;
	} srv[MAX_SRV];
	unsigned ntgt;
	struct {
		char name[SPL_DNS_NAME_MAX + 1];
		uint16_t port, prio, weight;
		uint8_t transport, rank, naddr;
		struct spl_txn_peer addr[TGT_ADDRS];
	} tgt[SPL_DNS_MAX_TARGETS];
	struct dns_q q[MAX_Q];
};

struct static_host {
	char name[SPL_DNS_NAME_MAX + 1];
	uint8_t family;
	uint8_t addr[16];
};

struct spl_dns {
	ares_channel ch;
	struct spl_dns_conf conf;
	struct dns_cache *cache;
	struct dns_job *jobs;
	unsigned njobs;
	struct static_host *hosts;
	unsigned nhosts;
	uint64_t rng;
	uint64_t last_sweep;
	struct spl_dns_stats st;
};

static uint64_t mono_ns(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(const struct spl_dns *dns) { return dns->conf.clock(dns->conf.clock_arg); }

static bool reliable(uint8_t t)
{
	return t == SPL_SIP_TRANSPORT_TCP || t == SPL_SIP_TRANSPORT_TLS ||
	       t == SPL_SIP_TRANSPORT_SCTP || t == SPL_SIP_TRANSPORT_WS ||
	       t == SPL_SIP_TRANSPORT_WSS;
}

static uint16_t default_port(uint8_t t) { return t == SPL_SIP_TRANSPORT_TLS ? 5061 : 5060; }

static struct spl_txn_peer make_peer(uint8_t transport, uint16_t port, int family, const void *addr)
{
	struct spl_txn_peer p;
	memset(&p, 0, sizeof(p));
	p.transport = transport;
	p.reliable = reliable(transport);
	p.family = (uint8_t)family;
	p.port = port;
	memcpy(p.addr, addr, family == AF_INET ? 4 : 16);
	return p;
}

/* "192.0.2.1", "2001:db8::1" or "[2001:db8::1]" → family + address. */
static int parse_numeric(const char *s, uint8_t *family, uint8_t addr[16])
{
	char buf[64];
	size_t n = strlen(s);
	if (n >= sizeof(buf))
		return -1;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
	} else {
		memcpy(buf, s, n + 1);
	}
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

static int make_key(struct dns_key *k, const char *name, uint16_t port, uint8_t transport)
{
	size_t n = name ? strlen(name) : 0;
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > SPL_DNS_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		k->name[i] = (char)tolower((unsigned char)name[i]);
	k->name[n] = '\0';
	k->port = port;
	k->transport = transport;
	return 0;
}

struct spl_dns *spl_dns_create(const struct spl_dns_conf *conf)
{
	static bool lib_init;
	if (!lib_init) {
		if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
			errno = EIO;
			return NULL;
		}
		lib_init = true;
	}
	struct spl_dns *dns = calloc(1, sizeof(*dns));
	if (!dns)
		return NULL;
	if (conf)
		dns->conf = *conf;
	struct spl_dns_conf *c = &dns->conf;
	if (!c->cache_entries) c->cache_entries = 1024;
	if (!c->max_jobs) c->max_jobs = 256;
	if (!c->max_ttl) c->max_ttl = 3600;
	if (!c->neg_ttl) c->neg_ttl = 30;
	if (!c->timeout_ms) c->timeout_ms = 2000;
	if (!c->tries) c->tries = 2;
	if (!c->clock) c->clock = mono_ns;
	c->hosts = NULL;   /* copied below */
	dns->rng = c->seed ? c->seed : (now_ns(dns) | 1);

	dns->cache = dns_cache_create(c->cache_entries);
	dns->jobs = calloc(c->max_jobs, sizeof(*dns->jobs));
	dns->hosts = calloc(conf && conf->nhosts ? conf->nhosts : 1, sizeof(*dns->hosts));
	if (!dns->cache || !dns->jobs || !dns->hosts)
		goto nomem;
	for (unsigned i = 0; conf && i < conf->nhosts; i++) {
		struct static_host *h = &dns->hosts[dns->nhosts];
		struct dns_key k;
		if (make_key(&k, conf->hosts[i].name, 0, 0) != 0 ||
		    parse_numeric(conf->hosts[i].addr, &h->family, h->addr) != 0) {
			errno = EINVAL;
			goto fail;
		}
		memcpy(h->name, k.name, sizeof(h->name));
		dns->nhosts++;
	}

	struct ares_options opt;
	memset(&opt, 0, sizeof(opt));
	opt.timeout = (int)c->timeout_ms;
	opt.tries = (int)c->tries;
	opt.flags = ARES_FLAG_NOCHECKRESP;  /* REFUSED/SERVFAIL are answers, not retries */
	int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
	if (ares_init_options(&dns->ch, &opt, mask) != ARES_SUCCESS) {
		errno = EIO;
		goto fail;
	}
	if (c->servers && ares_set_servers_ports_csv(dns->ch, c->servers) != ARES_SUCCESS) {
		errno = EINVAL;
		goto fail;
	}
	c->servers = NULL;
	return dns;
nomem:
	errno = ENOMEM;
fail:;
	int e = errno;
	spl_dns_free(dns);
	errno = e;
	return NULL;
}

void spl_dns_free(struct spl_dns *dns)
{
	if (!dns)
		return;
	if (dns->ch)
		ares_destroy(dns->ch);   /* pending queries: callbacks with EDESTRUCTION */
	dns_cache_free(dns->cache);
	free(dns->jobs);
	free(dns->hosts);
	free(dns);
}

/* ------------------------------------------------------------------ */

static int ares_err(int status)
{
	switch (status) {
	case ARES_SUCCESS: return 0;
	case ARES_ENOTFOUND: return -ENOENT;
	case ARES_ENODATA: return -ENODATA;
	case ARES_ETIMEOUT: return -ETIMEDOUT;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED: return -ECANCELED;
	case ARES_ENOMEM: return -ENOMEM;
	default: return -EIO;
	}
}

/* Smallest TTL in the answer section (c-ares 1.18 parses NAPTR and SRV
 * without their TTL). Only the fixed RR header is read; names are walked
 * with c-ares' own expander. */
static uint32_t answer_min_ttl(const unsigned char *abuf, int alen)
{
	uint32_t ttl = UINT32_MAX;
	if (alen < 12)
		return ttl;
	unsigned qd = (unsigned)(abuf[4] << 8 | abuf[5]), an = (unsigned)(abuf[6] << 8 | abuf[7]);
	const unsigned char *p = abuf + 12, *end = abuf + alen;
	for (unsigned i = 0; i < qd + an; i++) {
		char *s;
		long enc;
		if (p >= end || ares_expand_name(p, abuf, alen, &s, &enc) != ARES_SUCCESS)
			return ttl;
		ares_free_string(s);
		p += enc;
		if (i < qd) {
			p += 4;
			continue;
		}
		if (end - p < 10)
			return ttl;
		uint32_t t = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
		unsigned rdlen = (unsigned)(p[8] << 8 | p[9]);
		if (t < ttl)
			ttl = t;
		p += 10 + rdlen;
	}
	return ttl;
}

static void job_ttl(struct dns_job *j, uint32_t ttl)
{
	if (ttl < j->ttl)
		j->ttl = ttl;
}

static void job_note_err(struct dns_job *j, int err)
{
	struct spl_dns *dns = j->dns;
	if (err == -ETIMEDOUT) dns->st.timeouts++;
	else if (err == -ENOENT) dns->st.nxdomain++;
	else if (err && err != -ENODATA) dns->st.failures++;
	if (err && err != -ENODATA && err != -ENOENT && !j->err)
		j->err = err;
}

static uint32_t clamp_ttl(const struct spl_dns *dns, uint32_t ttl)
{
	if (ttl > dns->conf.max_ttl) ttl = dns->conf.max_ttl;
	if (ttl < dns->conf.min_ttl) ttl = dns->conf.min_ttl;
	return ttl;
}

/* ttl_left: what is left of a cached answer's TTL (0: the answer's own),
 * so that a consumer keeping the result expires it when the cache does. */
static void deliver(struct spl_dns *dns, spl_dns_cb cb, void *arg, const struct dns_answer *a,
		    int status, uint32_t ttl_left)
{
	struct spl_dns_result r;
	r.status = status;
	r.ttl = ttl_left ? ttl_left : a ? a->ttl : 0;
	r.n = 0;
	r.ntargets = 0;
	if (status == 0 && a) {
		r.n = dns_answer_order(a, &dns->rng, r.peers, SPL_DNS_MAX_PEERS, r.targets, &r.ntargets);
		if (r.n == 0)
			r.status = -ENOENT;
	}
	cb(arg, &r);
}

/* The job's stage is over and it has its answer (or its error). */
static void job_finish(struct dns_job *j, bool cancelled)
{
	struct spl_dns *dns = j->dns;
	struct dns_answer a;
	memset(&a, 0, sizeof(a));
	/* targets in (rank, prio) order, stable: insertion sort */
	uint8_t ord[SPL_DNS_MAX_TARGETS];
	for (unsigned i = 0; i < j->ntgt; i++) {
		unsigned k = i;
		while (k > 0 && (j->tgt[ord[k - 1]].rank > j->tgt[i].rank ||
				 (j->tgt[ord[k - 1]].rank == j->tgt[i].rank &&
				  j->tgt[ord[k - 1]].prio > j->tgt[i].prio))) {
			ord[k] = ord[k - 1];
			k--;
		}
		ord[k] = (uint8_t)i;
	}
	for (unsigned i = 0; i < j->ntgt; i++) {
		const __typeof__(j->tgt[0]) *t = &j->tgt[ord[i]];
		if (t->naddr == 0 || a.nrecs == SPL_DNS_MAX_PEERS)
			continue;
		struct spl_dns_target *dt = &a.t[a.ntargets++];
		dt->prio = t->prio;
		dt->weight = t->weight;
		dt->rank = t->rank;
		dt->first = a.nrecs;
		for (unsigned k = 0; k < t->naddr && a.nrecs < SPL_DNS_MAX_PEERS; k++)
			a.recs[a.nrecs++] = t->addr[k];
		dt->n = (uint8_t)(a.nrecs - dt->first);
	}
	int status;
	if (cancelled)
		status = -ECANCELED;
	else if (a.nrecs > 0)
		status = 0;
	else
		status = j->err ? j->err : -ENOENT;
	a.status = status;
	if (status == 0 || status == -ENOENT) {
		a.ttl = status == 0 ? clamp_ttl(dns, j->ttl) : dns->conf.neg_ttl;
		if (dns_cache_put(dns->cache, &j->key, &a, now_ns(dns)))
			dns->st.evictions++;
	}
	spl_dns_cb cb = j->cb;
	void *arg = j->arg;
	j->used = false;
	deliver(dns, cb, arg, &a, status, 0);
}

static void start_addr(struct dns_job *j);
static void start_srv(struct dns_job *j);

static void add_target(struct dns_job *j, const char *name, uint16_t port, uint8_t transport,
		       uint8_t rank, uint16_t prio, uint16_t weight)
{
	if (j->ntgt == SPL_DNS_MAX_TARGETS || strlen(name) > SPL_DNS_NAME_MAX)
		return;
	__typeof__(j->tgt[0]) *t = &j->tgt[j->ntgt++];
	strcpy(t->name, name);
	t->port = port;
	t->transport = transport;
	t->rank = rank;
	t->prio = prio;
	t->weight = weight;
	t->naddr = 0;
}

/* One query of the current stage is over; the last one moves on. */
static void stage_step(struct dns_job *j, bool cancelled)
{
	if (--j->pending > 0)
		return;
	if (cancelled) {
		job_finish(j, true);
		return;
	}
	switch (j->stage) {
	case ST_NAPTR:
		start_srv(j);
		break;
	case ST_SRV:
		if (j->ntgt == 0) {
			if (j->err == -ETIMEDOUT) {
				job_finish(j, false);
				return;
			}
			/* §4.2: no SRV, so A/AAAA of the name itself; the
			 * transport is the one asked for, else UDP */
			uint8_t tp = j->key.transport ? j->key.transport : SPL_SIP_TRANSPORT_UDP;
			j->err = 0;
			add_target(j, j->key.name, default_port(tp), tp, 0, 0, 0);
		}
		start_addr(j);
		break;
	default:
		job_finish(j, false);
	}
}

static void query(struct dns_job *j, const char *name, int type, uint8_t idx, uint8_t v6,
		  ares_callback cb)
{
	unsigned slot = idx * 2u + v6;
	j->q[slot] = (struct dns_q){ .job = j, .idx = idx, .v6 = v6 };
	j->dns->st.queries++;
	ares_query(j->dns->ch, name, ns_c_in, type, cb, &j->q[slot]);
}

static void addr_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct dns_q *q = arg;
	struct dns_job *j = q->job;
	int err = ares_err(status);
	if (err == -ECANCELED) {
		stage_step(j, true);
		return;
	}
	__typeof__(j->tgt[0]) *t = &j->tgt[q->idx];
	if (err == 0) {
		j->dns->st.answers++;
		if (!q->v6) {
			struct ares_addrttl at[TGT_ADDRS];
			int n = TGT_ADDRS;
			if (ares_parse_a_reply(abuf, alen, NULL, at, &n) == ARES_SUCCESS)
				for (int i = 0; i < n && t->naddr < TGT_ADDRS; i++) {
					t->addr[t->naddr++] = make_peer(t->transport, t->port, AF_INET,
									 &at[i].ipaddr);
					job_ttl(j, (uint32_t)at[i].ttl);
				}
		} else {
			struct ares_addr6ttl at[TGT_ADDRS];
			int n = TGT_ADDRS;
			if (ares_parse_aaaa_reply(abuf, alen, NULL, at, &n) == ARES_SUCCESS)
				for (int i = 0; i < n && t->naddr < TGT_ADDRS; i++) {
					t->addr[t->naddr++] = make_peer(t->transport, t->port, AF_INET6,
									 &at[i].ip6addr);
					job_ttl(j, (uint32_t)at[i].ttl);
				}
		}
	} else {
		job_note_err(j, err);
	}
	stage_step(j, false);
}

/* A then AAAA of every target, in parallel. With both, a target's IPv4
 * addresses come before its IPv6 ones only if A answers first; the
 * order within a target is not significant for failover. */
static void start_addr(struct dns_job *j)
{
	j->stage = ST_ADDR;
	j->pending = 1;   /* guard: no stage end while issuing */
	unsigned n = j->ntgt;
	for (unsigned i = 0; i < n; i++) {
		j->pending++;
		query(j, j->tgt[i].name, ns_t_a, (uint8_t)i, 0, addr_cb);
		if (j->dns->conf.ipv6) {
			j->pending++;
			query(j, j->tgt[i].name, ns_t_aaaa, (uint8_t)i, 1, addr_cb);
		}
	}
	stage_step(j, false);
}

static void srv_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct dns_q *q = arg;
	struct dns_job *j = q->job;
	int err = ares_err(status);
	if (err == -ECANCELED) {
		stage_step(j, true);
		return;
	}
	struct ares_srv_reply *srv = NULL;
	if (err == 0 && ares_parse_srv_reply(abuf, alen, &srv) == ARES_SUCCESS) {
		j->dns->st.answers++;
		job_ttl(j, answer_min_ttl(abuf, alen));
		for (struct ares_srv_reply *r = srv; r; r = r->next) {
			if (r->host[0] == '\0' || strcmp(r->host, ".") == 0)
				continue;   /* RFC 2782: "." = service not offered here */
			add_target(j, r->host, r->port, j->srv[q->idx].transport, j->srv[q->idx].rank,
				   r->priority, r->weight);
		}
		ares_free_data(srv);
	} else {
		job_note_err(j, err);
	}
	stage_step(j, false);
}

static const char *srv_prefix(uint8_t t)
{
	switch (t) {
	case SPL_SIP_TRANSPORT_TCP: return "_sip._tcp.";
	case SPL_SIP_TRANSPORT_TLS: return "_sips._tcp.";
	case SPL_SIP_TRANSPORT_UDP: return "_sip._udp.";
	default: return NULL;
	}
}

static void add_srv(struct dns_job *j, const char *name, uint8_t transport, uint8_t rank)
{
	if (j->nsrv == MAX_SRV)
		return;
	for (unsigned i = 0; i < j->nsrv; i++)
		if (j->srv[i].transport == transport && strcmp(j->srv[i].name, name) == 0)
			return;
	j->srv[j->nsrv].transport = transport;
	j->srv[j->nsrv].rank = rank;
	snprintf(j->srv[j->nsrv].name, sizeof(j->srv[0].name), "%s", name);
	j->nsrv++;
}

static void start_srv(struct dns_job *j)
{
	if (j->nsrv == 0) {
		if (j->err == -ETIMEDOUT) {   /* NAPTR timed out: the server is gone */
			job_finish(j, false);
			return;
		}
		/* §4.1: no NAPTR: SRV for each transport we support, UDP first */
		static const uint8_t tps[] = { SPL_SIP_TRANSPORT_UDP, SPL_SIP_TRANSPORT_TCP,
					       SPL_SIP_TRANSPORT_TLS };
		for (unsigned i = 0; i < 3; i++) {
			char n[SPL_DNS_NAME_MAX + 16];
			snprintf(n, sizeof(n), "%s%s", srv_prefix(tps[i]), j->key.name);
			add_srv(j, n, tps[i], (uint8_t)i);
		}
		j->err = 0;
	}
	j->stage = ST_SRV;
	j->pending = 1;
	for (unsigned i = 0; i < j->nsrv; i++) {
		j->pending++;
		query(j, j->srv[i].name, ns_t_srv, (uint8_t)i, 0, srv_cb);
	}
	stage_step(j, false);
}

static uint8_t naptr_transport(const unsigned char *service)
{
	if (strcasecmp((const char *)service, "SIP+D2U") == 0) return SPL_SIP_TRANSPORT_UDP;
	if (strcasecmp((const char *)service, "SIP+D2T") == 0) return SPL_SIP_TRANSPORT_TCP;
	if (strcasecmp((const char *)service, "SIPS+D2T") == 0) return SPL_SIP_TRANSPORT_TLS;
	return 0;
}

static void naptr_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct dns_q *q = arg;
	struct dns_job *j = q->job;
	int err = ares_err(status);
	if (err == -ECANCELED) {
		stage_step(j, true);
		return;
	}
	if (err == -ENOENT) {   /* NXDOMAIN: no SRV or A either */
		job_note_err(j, err);
		j->pending = 1;
		j->stage = ST_ADDR;
		stage_step(j, false);
		return;
	}
	struct ares_naptr_reply *nr = NULL;
	if (err == 0 && ares_parse_naptr_reply(abuf, alen, &nr) == ARES_SUCCESS) {
		j->dns->st.answers++;
		job_ttl(j, answer_min_ttl(abuf, alen));
		/* usable records sorted by (order, preference) */
		struct ares_naptr_reply *use[16];
		unsigned n = 0;
		for (struct ares_naptr_reply *r = nr; r && n < 16; r = r->next) {
			if (!naptr_transport(r->service) ||
			    (!strchr((const char *)r->flags, 's') && !strchr((const char *)r->flags, 'S')))
				continue;
			unsigned k = n++;
			while (k > 0 && (use[k - 1]->order > r->order ||
					 (use[k - 1]->order == r->order &&
					  use[k - 1]->preference > r->preference))) {
				use[k] = use[k - 1];
				k--;
			}
			use[k] = r;
		}
		for (unsigned i = 0; i < n; i++)
			add_srv(j, use[i]->replacement, naptr_transport(use[i]->service), (uint8_t)i);
		ares_free_data(nr);
	} else {
		job_note_err(j, err);
	}
	stage_step(j, false);
}

/* ------------------------------------------------------------------ */

static int answer_now(struct spl_dns *dns, const struct dns_key *k, struct dns_answer *a)
{
	uint8_t tp = k->transport ? k->transport : SPL_SIP_TRANSPORT_UDP;
	uint16_t port = k->port ? k->port : default_port(tp);
	uint8_t fam, addr[16];
	memset(a, 0, sizeof(*a));
	a->ttl = dns->conf.max_ttl;
	if (parse_numeric(k->name, &fam, addr) == 0) {
		dns->st.numeric++;
		a->recs[a->nrecs++] = make_peer(tp, port, fam, addr);
	} else {
		for (unsigned i = 0; i < dns->nhosts && a->nrecs < SPL_DNS_MAX_PEERS; i++)
			if (strcmp(dns->hosts[i].name, k->name) == 0)
				a->recs[a->nrecs++] = make_peer(tp, port, dns->hosts[i].family,
								 dns->hosts[i].addr);
		if (a->nrecs == 0)
			return -1;
		dns->st.static_hits++;
	}
	a->ntargets = 1;
	a->t[0] = (struct spl_dns_target){ .first = 0, .n = a->nrecs };
	return 0;
}

int spl_dns_lookup(struct spl_dns *dns, const char *name, uint16_t port, uint8_t transport,
		   spl_dns_cb cb, void *arg)
{
	struct dns_key k;
	if (make_key(&k, name, port, transport) != 0 || !cb)
		return -EINVAL;
	dns->st.lookups++;
	struct dns_answer a;
	if (answer_now(dns, &k, &a) == 0) {
		deliver(dns, cb, arg, &a, 0, 0);
		return 0;
	}
	uint32_t left = 0;
	const struct dns_answer *c = dns_cache_get(dns->cache, &k, now_ns(dns), &left);
	if (c) {
		dns->st.cache_hits++;
		deliver(dns, cb, arg, c, c->status, left);
		return 0;
	}
	dns->st.cache_misses++;
	struct dns_job *j = NULL;
	for (unsigned i = 0; i < dns->conf.max_jobs; i++)
		if (!dns->jobs[i].used) {
			j = &dns->jobs[i];
			break;
		}
	if (!j) {
		deliver(dns, cb, arg, NULL, -ENOMEM, 0);
		return 0;
	}
	memset(j, 0, sizeof(*j));
	j->used = true;
	j->dns = dns;
	j->key = k;
	j->cb = cb;
	j->arg = arg;
	j->ttl = UINT32_MAX;
	if (port) {
		add_target(j, k.name, port, transport ? transport : SPL_SIP_TRANSPORT_UDP, 0, 0, 0);
		start_addr(j);
	} else if (transport) {
		const char *pre = srv_prefix(transport);
		if (!pre) {   /* SCTP, WS: no SRV here; A with the default port */
			add_target(j, k.name, default_port(transport), transport, 0, 0, 0);
			start_addr(j);
		} else {
			char n[SPL_DNS_NAME_MAX + 16];
			snprintf(n, sizeof(n), "%s%s", pre, k.name);
			add_srv(j, n, transport, 0);
			start_srv(j);
		}
	} else {
		j->stage = ST_NAPTR;
		j->pending = 1;
		j->q[0] = (struct dns_q){ .job = j };
		dns->st.queries++;
		ares_query(dns->ch, k.name, ns_c_in, ns_t_naptr, naptr_cb, &j->q[0]);
	}
	return 0;
}

unsigned spl_dns_fds(struct spl_dns *dns, struct pollfd *fds, unsigned max, int *timeout_ms)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	int bits = ares_getsock(dns->ch, socks, ARES_GETSOCK_MAXNUM);
	unsigned n = 0;
	for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM && n < max; i++) {
		short ev = 0;
		/* the ARES_GETSOCK_* macros shift a signed 1 into bit 31 (UB) */
		if ((unsigned)bits & (1u << i)) ev |= POLLIN;
		if ((unsigned)bits & (1u << (i + ARES_GETSOCK_MAXNUM))) ev |= POLLOUT;
		if (!ev)
			continue;
		fds[n++] = (struct pollfd){ .fd = socks[i], .events = ev };
	}
	if (timeout_ms) {
		struct timeval tv, *t = ares_timeout(dns->ch, NULL, &tv);
		*timeout_ms = t ? (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000) : -1;
	}
	return n;
}

void spl_dns_process(struct spl_dns *dns, uint64_t now)
{
	struct pollfd fds[ARES_GETSOCK_MAXNUM];
	unsigned n = spl_dns_fds(dns, fds, ARES_GETSOCK_MAXNUM, NULL);
	if (n > 0 && poll(fds, n, 0) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			ares_socket_t r = fds[i].revents & (POLLIN | POLLERR | POLLHUP) ? fds[i].fd
											  : ARES_SOCKET_BAD;
			ares_socket_t w = fds[i].revents & POLLOUT ? fds[i].fd : ARES_SOCKET_BAD;
			ares_process_fd(dns->ch, r, w);
		}
	}
	ares_process_fd(dns->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);   /* timeouts */
	if (now - dns->last_sweep >= 1000000000ull) {
		dns_cache_expire(dns->cache, now);
		dns->last_sweep = now;
	}
}

int spl_dns_cache_lookup(struct spl_dns *dns, const char *name, uint16_t port, uint8_t transport,
			 struct spl_txn_peer *out, unsigned max)
{
	struct dns_key k;
	if (make_key(&k, name, port, transport) != 0)
		return -ENOENT;
	struct dns_answer tmp;
	const struct dns_answer *a = &tmp;
	if (answer_now(dns, &k, &tmp) != 0) {
		a = dns_cache_get(dns->cache, &k, now_ns(dns), NULL);
		if (!a)
			return -EAGAIN;
		if (a->status)
			return -ENOENT;
	}
	unsigned n = dns_answer_order(a, &dns->rng, out, max, NULL, NULL);
	return n ? (int)n : -ENOENT;
}

void spl_dns_flush(struct spl_dns *dns) { dns_cache_flush(dns->cache); }

unsigned spl_dns_cache_dump(struct spl_dns *dns, FILE *out)
{
	return dns_cache_dump(dns->cache, out, now_ns(dns));
}

const struct spl_dns_stats *spl_dns_stats(const struct spl_dns *dns) { return &dns->st; }
