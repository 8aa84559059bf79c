/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The published answer table: one writer, lock-free readers, retired
 * memory freed after a QSBR grace period (lib/registrar's spl_qsbr, as in
 * the appliance). The hammer test runs readers against a writer that
 * replaces, deletes, expires and flushes; under ASan a reader touching
 * freed memory aborts it.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "spl_dns_pub.h"
#include "spl_registrar.h"
#include "spl_sipmsg.h"

#define NS 1000000000ull
#define UDP SPL_SIP_TRANSPORT_UDP
#define TCP SPL_SIP_TRANSPORT_TCP

static uint64_t g_retire(void *q) { return spl_qsbr_retire(q); }
static bool g_check(void *q, uint64_t tok) { return spl_qsbr_check(q, tok); }

static struct spl_qsbr *q;
static uint64_t g_rng = 0x853c49e6748fea9bull;   /* the readers' random state (a shard's) */

static struct spl_dns_pub *mk(unsigned cap)
{
	q = spl_qsbr_create(8);
	cr_assert_not_null(q);
	struct spl_dns_pub_conf c = { .capacity = cap, .seed = 42, .retire = g_retire, .check = g_check,
				      .grace_arg = q };
	struct spl_dns_pub *t = spl_dns_pub_create(&c);
	cr_assert_not_null(t);
	return t;
}

static void done(struct spl_dns_pub *t)
{
	spl_dns_pub_free(t);
	spl_qsbr_free(q);
}

static struct spl_txn_peer peer(const char *ip, uint16_t port, uint8_t tp)
{
	struct spl_txn_peer p;
	memset(&p, 0, sizeof(p));
	p.transport = tp;
	p.family = AF_INET;
	p.port = port;
	inet_pton(AF_INET, ip, p.addr);
	return p;
}

static int look(struct spl_dns_pub *t, const char *name, uint16_t port, uint8_t tp, uint64_t now,
		struct spl_txn_peer *out)
{
	return spl_dns_pub_lookup(t, name, (uint32_t)strlen(name), port, tp, now, &g_rng, out, 8);
}

Test(dns_pub, create_needs_grace_hooks)
{
	struct spl_dns_pub_conf c = { .capacity = 16 };
	errno = 0;
	cr_assert_null(spl_dns_pub_create(&c));
	cr_assert_eq(errno, EINVAL);
}

Test(dns_pub, put_lookup_key_is_name_port_transport)
{
	struct spl_dns_pub *t = mk(64);
	struct spl_txn_peer p[2] = { peer("192.0.2.11", 5080, UDP), peer("192.0.2.12", 5080, UDP) };
	struct spl_txn_peer out[8];
	cr_assert_eq(look(t, "example.net", 0, UDP, 1 * NS, out), -EAGAIN);
	cr_assert_eq(spl_dns_pub_put(t, "Example.NET.", 0, UDP, 0, p, 2, NULL, 0, 10 * NS, 1 * NS), 0);
	cr_assert_eq(look(t, "example.net", 0, UDP, 2 * NS, out), 2);
	cr_assert_eq(memcmp(out, p, sizeof(p)), 0, "peers in the order published");
	cr_assert_eq(look(t, "EXAMPLE.net.", 0, UDP, 2 * NS, out), 2, "any case, trailing dot");
	cr_assert_eq(look(t, "example.net", 5060, UDP, 2 * NS, out), -EAGAIN, "other port");
	cr_assert_eq(look(t, "example.net", 0, TCP, 2 * NS, out), -EAGAIN, "other transport");
	cr_assert_eq(look(t, "example.ne", 0, UDP, 2 * NS, out), -EAGAIN);
	/* max bounds the copy, not the answer */
	cr_assert_eq(spl_dns_pub_lookup(t, "example.net", 11, 0, UDP, 2 * NS, &g_rng, out, 1), 1);
	/* a slice of a longer buffer */
	cr_assert_eq(spl_dns_pub_lookup(t, "example.net;transport=udp", 11, 0, UDP, 2 * NS, &g_rng, out, 8), 2);
	cr_assert_eq(look(t, "", 0, UDP, 2 * NS, out), -ENOENT, "empty name: never resolvable");
	cr_assert_eq(spl_dns_pub_put(t, "", 0, UDP, 0, p, 1, NULL, 0, 10 * NS, 1 * NS), -EINVAL);
	cr_assert_eq(spl_dns_pub_put(t, "x.test", 0, UDP, -EIO, p, 1, NULL, 0, 10 * NS, 1 * NS), -EINVAL);
	cr_assert_eq(spl_dns_pub_put(t, "x.test", 0, UDP, 0, p, 0, NULL, 0, 10 * NS, 1 * NS), -EINVAL);
	done(t);
}

Test(dns_pub, negative_and_expiry)
{
	struct spl_dns_pub *t = mk(64);
	struct spl_txn_peer p = peer("192.0.2.11", 5060, UDP), out[8];
	cr_assert_eq(spl_dns_pub_put(t, "nx.test", 0, UDP, -ENOENT, NULL, 0, NULL, 0, 30 * NS, 0), 0);
	cr_assert_eq(look(t, "nx.test", 0, UDP, 29 * NS, out), -ENOENT);
	cr_assert_eq(look(t, "nx.test", 0, UDP, 30 * NS, out), -EAGAIN, "expired: ask again");
	cr_assert_eq(spl_dns_pub_put(t, "ok.test", 0, UDP, 0, &p, 1, NULL, 0, 5 * NS, 0), 0);
	cr_assert_eq(look(t, "ok.test", 0, UDP, 4 * NS, out), 1);
	cr_assert_eq(look(t, "ok.test", 0, UDP, 5 * NS, out), -EAGAIN);
	/* the sweep removes what expired, and only that */
	cr_assert_eq(spl_dns_pub_stats(t)->entries, 2);
	cr_assert_eq(spl_dns_pub_expire(t, 10 * NS, 1u << 20), 1);
	cr_assert_eq(spl_dns_pub_stats(t)->entries, 1);
	cr_assert_eq(look(t, "nx.test", 0, UDP, 10 * NS, out), -ENOENT);
	/* a new answer replaces the negative one */
	cr_assert_eq(spl_dns_pub_put(t, "nx.test", 0, UDP, 0, &p, 1, NULL, 0, 60 * NS, 11 * NS), 0);
	cr_assert_eq(look(t, "nx.test", 0, UDP, 12 * NS, out), 1);
	cr_assert_eq(spl_dns_pub_stats(t)->replaced, 1);
	done(t);
}

static int collect(void *arg, const struct spl_dns_pub_info *e)
{
	char *s = arg;
	strcat(s, e->name);
	strcat(s, e->status ? "(-) " : " ");
	return 0;
}

Test(dns_pub, bounded_oldest_goes_and_listing)
{
	struct spl_dns_pub *t = mk(4);
	struct spl_txn_peer p = peer("192.0.2.1", 5060, UDP), out[8];
	const char *names[] = { "a.test", "b.test", "c.test", "d.test", "e.test", "f.test" };
	for (unsigned i = 0; i < 6; i++)
		cr_assert_eq(spl_dns_pub_put(t, names[i], 0, UDP, i == 5 ? -ENOENT : 0, &p, 1, NULL, 0, 100 * NS,
					     i * NS), 0);
	cr_assert_eq(spl_dns_pub_stats(t)->entries, 4);
	cr_assert_eq(spl_dns_pub_stats(t)->evicted, 2);
	cr_assert_eq(look(t, "a.test", 0, UDP, 7 * NS, out), -EAGAIN);
	cr_assert_eq(look(t, "b.test", 0, UDP, 7 * NS, out), -EAGAIN);
	cr_assert_eq(look(t, "c.test", 0, UDP, 7 * NS, out), 1);
	/* rewriting c makes it the newest: d goes next */
	cr_assert_eq(spl_dns_pub_put(t, "c.test", 0, UDP, 0, &p, 1, NULL, 0, 100 * NS, 7 * NS), 0);
	cr_assert_eq(spl_dns_pub_put(t, "g.test", 0, UDP, 0, &p, 1, NULL, 0, 100 * NS, 8 * NS), 0);
	cr_assert_eq(look(t, "d.test", 0, UDP, 9 * NS, out), -EAGAIN);
	char s[256] = "";
	spl_dns_pub_foreach(t, collect, s);
	cr_assert_str_eq(s, "g.test c.test f.test(-) e.test ");
	cr_assert_eq(spl_dns_pub_del(t, "C.TEST", 0, UDP), 0);
	cr_assert_eq(spl_dns_pub_del(t, "c.test", 0, UDP), -ENOENT);
	cr_assert_eq(spl_dns_pub_flush(t), 3);
	cr_assert_eq(spl_dns_pub_stats(t)->entries, 0);
	cr_assert_eq(look(t, "g.test", 0, UDP, 9 * NS, out), -EAGAIN);
	s[0] = '\0';
	spl_dns_pub_foreach(t, collect, s);
	cr_assert_str_eq(s, "");
	done(t);
}

Test(dns_pub, retired_memory_waits_for_readers)
{
	struct spl_dns_pub *t = mk(16);
	int r = spl_qsbr_register(q);
	struct spl_txn_peer p = peer("192.0.2.1", 5060, UDP), out[8];
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, &p, 1, NULL, 0, 100 * NS, 0), 0);
	/* a reader in its turn: it may hold what the writer replaces */
	cr_assert_eq(look(t, "a.test", 0, UDP, 1, out), 1);
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, &p, 1, NULL, 0, 100 * NS, 1), 0);
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, &p, 1, NULL, 0, 100 * NS, 2), 0);
	cr_assert_eq(spl_dns_pub_flush(t), 1);
	spl_dns_pub_reclaim(t);
	const struct spl_dns_pub_stats *st = spl_dns_pub_stats(t);
	cr_assert_eq(st->freed, 0, "nothing freed while the reader is in its turn");
	cr_assert_gt(st->retired_pending, 0);
	spl_qsbr_quiescent(q, r);
	cr_assert_gt(spl_dns_pub_reclaim(t), 0);
	cr_assert_eq(st->retired_pending, 0);
	/* an offline reader holds nothing up */
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, &p, 1, NULL, 0, 100 * NS, 3), 0);
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, &p, 1, NULL, 0, 100 * NS, 4), 0);
	spl_qsbr_offline(q, r);
	spl_dns_pub_reclaim(t);
	cr_assert_eq(st->retired_pending, 0);
	spl_qsbr_unregister(q, r);
	done(t);
}

/* ---- SRV weights: the draw is made on every lookup (RFC 2782) ---- */

#define DRAWS 10000

/* Target k's addresses are 192.0.2.(16k + i), i < naddr[k]; targets given
 * in this order, contiguous. Returns the peer count. */
static unsigned srv_put(struct spl_dns_pub *t, const char *name, const uint16_t *prio, const uint16_t *weight,
			const uint8_t *naddr, unsigned nt, uint64_t expires)
{
	struct spl_txn_peer p[SPL_DNS_MAX_PEERS];
	struct spl_dns_target tg[SPL_DNS_MAX_TARGETS];
	unsigned n = 0;
	for (unsigned k = 0; k < nt; k++) {
		tg[k] = (struct spl_dns_target){ .prio = prio[k], .weight = weight[k], .first = (uint8_t)n,
						 .n = naddr[k] };
		for (unsigned i = 0; i < naddr[k]; i++) {
			char ip[32];
			snprintf(ip, sizeof(ip), "192.0.2.%u", 16 * k + i);
			p[n++] = peer(ip, (uint16_t)(5060 + k), UDP);
		}
	}
	cr_assert_eq(spl_dns_pub_put(t, name, 0, UDP, 0, p, n, tg, nt, expires, 0), 0);
	return n;
}

/* The targets in the order a lookup gave them (ord[]); fails the test
 * when a target's addresses are not together and in their order, or a
 * target comes twice. */
static unsigned targets_of(const struct spl_txn_peer *out, int n, const uint8_t *naddr, unsigned nt, uint8_t *ord)
{
	bool seen[SPL_DNS_MAX_TARGETS] = { false };
	unsigned k = 0;
	for (int i = 0; i < n;) {
		unsigned tg = out[i].addr[3] / 16;
		cr_assert_lt(tg, nt);
		cr_assert(!seen[tg], "target %u comes twice: its addresses are apart", tg);
		seen[tg] = true;
		for (unsigned a = 0; a < naddr[tg] && i < n; a++, i++) {
			cr_assert_eq(out[i].addr[3], 16 * tg + a, "target %u: address %u out of place", tg, a);
			cr_assert_eq(out[i].port, 5060 + tg);
		}
		ord[k++] = (uint8_t)tg;
	}
	return k;
}

/* Share of DRAWS lookups whose first target is `which`; every lookup must
 * give all nt targets, each whole. */
static double first_share(struct spl_dns_pub *t, const char *name, const uint8_t *naddr, unsigned nt,
			  unsigned npeers, unsigned which)
{
	unsigned hits = 0;
	for (unsigned i = 0; i < DRAWS; i++) {
		struct spl_txn_peer out[SPL_DNS_MAX_PEERS];
		uint8_t ord[SPL_DNS_MAX_TARGETS];
		int rc = spl_dns_pub_lookup(t, name, (uint32_t)strlen(name), 0, UDP, 1, &g_rng, out,
					    SPL_DNS_MAX_PEERS);
		cr_assert_eq(rc, (int)npeers);
		cr_assert_eq(targets_of(out, rc, naddr, nt, ord), nt);
		hits += ord[0] == which;
	}
	cr_log_info("%s: target %u first in %u of %u lookups", name, which, hits, DRAWS);
	return (double)hits / DRAWS;
}

/* foreach: the newest entry */
static int last(void *arg, const struct spl_dns_pub_info *e)
{
	*(struct spl_dns_pub_info *)arg = *e;
	return 1;
}

Test(dns_pub, srv_weights_60_40_spread_per_lookup)
{
	struct spl_dns_pub *t = mk(64);
	/* sigma at n = 10,000 is 0.5 points: +-3 is 6 sigma */
	const uint16_t prio[] = { 10, 10 }, w[] = { 60, 40 }, w_rev[] = { 40, 60 };
	const uint8_t naddr[] = { 2, 1 };
	unsigned n = srv_put(t, "trunk.test", prio, w, naddr, 2, 100 * NS);
	double f = first_share(t, "trunk.test", naddr, 2, n, 0);
	cr_assert(f > 0.57 && f < 0.63, "weight 60 first %.3f of the lookups", f);
	/* the order the server listed them in does not matter */
	n = srv_put(t, "trunk.test", prio, w_rev, naddr, 2, 100 * NS);
	f = first_share(t, "trunk.test", naddr, 2, n, 1);
	cr_assert(f > 0.57 && f < 0.63, "weight 60 listed second: first %.3f of the lookups", f);
	/* the table keeps each target's group and weight */
	struct spl_dns_pub_info i;
	spl_dns_pub_foreach(t, last, &i);
	cr_assert_eq(i.npeers, 3);
	cr_assert_eq(i.ntargets, 2);
	cr_assert_eq(i.targets[0].prio, 10);
	cr_assert_eq(i.targets[0].weight, 40);
	cr_assert_eq(i.targets[0].first, 0);
	cr_assert_eq(i.targets[0].n, 2);
	cr_assert_eq(i.targets[1].weight, 60);
	cr_assert_eq(i.targets[1].first, 2);
	done(t);
}

Test(dns_pub, srv_lower_priority_group_always_after)
{
	struct spl_dns_pub *t = mk(64);
	/* listed out of order: the table sorts by priority, stably */
	const uint16_t prio[] = { 20, 10, 20, 10 }, w[] = { 1, 50, 1, 50 };
	const uint8_t naddr[] = { 1, 2, 1, 1 };
	unsigned n = srv_put(t, "prio.test", prio, w, naddr, 4, 100 * NS);
	unsigned first1 = 0, first2 = 0;
	for (unsigned i = 0; i < DRAWS; i++) {
		struct spl_txn_peer out[8];
		uint8_t ord[4];
		cr_assert_eq(look(t, "prio.test", 0, UDP, 1, out), (int)n);
		cr_assert_eq(targets_of(out, (int)n, naddr, 4, ord), 4);
		cr_assert(prio[ord[0]] == 10 && prio[ord[1]] == 10, "priority 10 first");
		cr_assert(prio[ord[2]] == 20 && prio[ord[3]] == 20, "priority 20 after");
		first1 += ord[0] == 1;
		first2 += ord[2] == 0;
	}
	/* equal weights inside each group, even small ones: 1:1 is 50/50 */
	cr_assert(first1 > DRAWS * 47 / 100 && first1 < DRAWS * 53 / 100, "priority 10: %u", first1);
	cr_assert(first2 > DRAWS * 47 / 100 && first2 < DRAWS * 53 / 100, "priority 20: %u", first2);
	/* max bounds the copy: the first hops of the drawn order */
	struct spl_txn_peer out[2];
	cr_assert_eq(spl_dns_pub_lookup(t, "prio.test", 9, 0, UDP, 1, &g_rng, out, 1), 1);
	cr_assert_eq(prio[out[0].addr[3] / 16], 10);
	done(t);
}

Test(dns_pub, srv_weight_zero_per_rfc2782)
{
	struct spl_dns_pub *t = mk(64);
	/* weight 0 beside weight 10: first only when r = 0 of [0, 10], 1/11 */
	const uint16_t prio[] = { 5, 5, 5 }, w[] = { 10, 0, 0 }, zeros[] = { 0, 0, 0 };
	const uint8_t naddr[] = { 1, 2, 1 };
	unsigned n = srv_put(t, "z.test", prio, w, naddr, 2, 100 * NS);
	double f = first_share(t, "z.test", naddr, 2, n, 1);
	cr_assert(f > 0.075 && f < 0.107, "weight 0 first %.4f of the lookups (1/11 expected)", f);
	/* two of weight 0: they keep their listed order among themselves,
	 * and only the first of them can come first */
	n = srv_put(t, "z.test", prio, w, naddr, 3, 100 * NS);
	unsigned z1_first = 0;
	for (unsigned i = 0; i < DRAWS; i++) {
		struct spl_txn_peer out[8];
		uint8_t ord[3];
		cr_assert_eq(look(t, "z.test", 0, UDP, 1, out), (int)n);
		cr_assert_eq(targets_of(out, (int)n, naddr, 3, ord), 3);
		cr_assert_neq(ord[0], 2, "the second weight-0 target is never first");
		unsigned p1 = 0, p2 = 0;
		for (unsigned k = 0; k < 3; k++) {
			if (ord[k] == 1) p1 = k;
			if (ord[k] == 2) p2 = k;
		}
		cr_assert_lt(p1, p2);
		z1_first += ord[0] == 1;
	}
	f = (double)z1_first / DRAWS;
	cr_assert(f > 0.075 && f < 0.107, "weight 0 first %.4f of the lookups (1/11 expected)", f);
	/* all weights 0: r is always 0, the order listed (RFC 2782) */
	n = srv_put(t, "z.test", prio, zeros, naddr, 3, 100 * NS);
	for (unsigned i = 0; i < 1000; i++) {
		struct spl_txn_peer out[8];
		uint8_t ord[3];
		cr_assert_eq(look(t, "z.test", 0, UDP, 1, out), (int)n);
		cr_assert_eq(targets_of(out, (int)n, naddr, 3, ord), 3);
		cr_assert(ord[0] == 0 && ord[1] == 1 && ord[2] == 2);
	}
	done(t);
}

Test(dns_pub, srv_equal_weights_even)
{
	struct spl_dns_pub *t = mk(64);
	const uint16_t prio[] = { 0, 0, 0 }, w[] = { 10, 10, 10 };
	const uint8_t naddr[] = { 1, 3, 2 };
	unsigned n = srv_put(t, "eq.test", prio, w, naddr, 2, 100 * NS);
	double f = first_share(t, "eq.test", naddr, 2, n, 0);
	cr_assert(f > 0.47 && f < 0.53, "equal weights: first %.3f of the lookups", f);
	n = srv_put(t, "eq.test", prio, w, naddr, 3, 100 * NS);
	for (unsigned k = 0; k < 3; k++) {
		f = first_share(t, "eq.test", naddr, 3, n, k);
		cr_assert(f > 0.303 && f < 0.363, "three equal weights: target %u first %.3f", k, f);
	}
	done(t);
}

Test(dns_pub, srv_single_target_and_plain_answers_keep_their_order)
{
	struct spl_dns_pub *t = mk(64);
	/* one target per priority: nothing to draw */
	const uint16_t prio[] = { 10, 20 }, w[] = { 5, 50 };
	const uint8_t naddr[] = { 3, 2 };
	unsigned n = srv_put(t, "one.test", prio, w, naddr, 2, 100 * NS);
	for (unsigned i = 0; i < 1000; i++) {
		struct spl_txn_peer out[8];
		uint8_t ord[2];
		cr_assert_eq(look(t, "one.test", 0, UDP, 1, out), (int)n);
		cr_assert_eq(targets_of(out, (int)n, naddr, 2, ord), 2);
		cr_assert_eq(ord[0], 0, "the single target of priority 10 is always first");
	}
	n = srv_put(t, "one.test", prio, w, naddr, 1, 100 * NS);
	for (unsigned i = 0; i < 100; i++) {
		struct spl_txn_peer out[8];
		uint8_t ord[1];
		cr_assert_eq(look(t, "one.test", 0, UDP, 1, out), 3);
		cr_assert_eq(targets_of(out, 3, naddr, 1, ord), 1);
	}
	/* no targets (A/AAAA, static host): one group, the order given */
	struct spl_txn_peer p[3] = { peer("192.0.2.3", 5060, UDP), peer("192.0.2.1", 5060, UDP),
				     peer("192.0.2.2", 5060, UDP) };
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, p, 3, NULL, 0, 100 * NS, 0), 0);
	for (unsigned i = 0; i < 100; i++) {
		struct spl_txn_peer out[8];
		cr_assert_eq(look(t, "a.test", 0, UDP, 1, out), 3);
		cr_assert_eq(memcmp(out, p, sizeof(p)), 0);
	}
	done(t);
}

Test(dns_pub, srv_negative_expiry_and_bad_partitions)
{
	struct spl_dns_pub *t = mk(64);
	const uint16_t prio[] = { 1, 1 }, w[] = { 60, 40 };
	const uint8_t naddr[] = { 1, 1 };
	struct spl_txn_peer out[8];
	srv_put(t, "e.test", prio, w, naddr, 2, 5 * NS);
	cr_assert_eq(look(t, "e.test", 0, UDP, 4 * NS, out), 2);
	cr_assert_eq(look(t, "e.test", 0, UDP, 5 * NS, out), -EAGAIN, "expired: ask again");
	/* a negative answer ignores targets */
	struct spl_dns_target tg[3] = { { .weight = 1, .first = 0, .n = 1 }, { .weight = 1, .first = 1, .n = 1 } };
	cr_assert_eq(spl_dns_pub_put(t, "e.test", 0, UDP, -ENOENT, NULL, 0, tg, 2, 30 * NS, 6 * NS), 0);
	cr_assert_eq(look(t, "e.test", 0, UDP, 7 * NS, out), -ENOENT);
	cr_assert_eq(look(t, "e.test", 0, UDP, 30 * NS, out), -EAGAIN);
	cr_assert_eq(spl_dns_pub_expire(t, 30 * NS, 1u << 20), 1);
	/* targets must partition the peers, in order, none empty */
	struct spl_txn_peer p[3] = { peer("192.0.2.1", 5060, UDP), peer("192.0.2.2", 5060, UDP),
				     peer("192.0.2.3", 5060, UDP) };
	cr_assert_eq(spl_dns_pub_put(t, "b.test", 0, UDP, 0, p, 3, tg, 2, 9 * NS, 0), -EINVAL,
		     "one peer left out");
	tg[1].first = 2;
	tg[1].n = 1;
	cr_assert_eq(spl_dns_pub_put(t, "b.test", 0, UDP, 0, p, 3, tg, 2, 9 * NS, 0), -EINVAL, "a gap");
	tg[1] = (struct spl_dns_target){ .first = 1, .n = 0 };
	tg[2] = (struct spl_dns_target){ .first = 1, .n = 2 };
	cr_assert_eq(spl_dns_pub_put(t, "b.test", 0, UDP, 0, p, 3, tg, 3, 9 * NS, 0), -EINVAL, "an empty target");
	cr_assert_eq(spl_dns_pub_put(t, "b.test", 0, UDP, 0, p, 3, tg, 0, 9 * NS, 0), -EINVAL, "no target");
	cr_assert_eq(spl_dns_pub_stats(t)->entries, 0);
	/* more than SPL_DNS_MAX_PEERS addresses: the last target is cut */
	const uint16_t prio3[] = { 1, 1, 2 }, w3[] = { 1, 1, 1 };
	const uint8_t naddr3[] = { 12, 12, 12 };
	struct spl_txn_peer big[SPL_DNS_MAX_PEERS + 4];
	struct spl_dns_target tg3[3];
	for (unsigned k = 0, n = 0; k < 3; k++) {
		tg3[k] = (struct spl_dns_target){ .prio = prio3[k], .weight = w3[k], .first = (uint8_t)n,
						  .n = naddr3[k] };
		for (unsigned i = 0; i < 12; i++, n++) {
			big[n] = peer("192.0.2.0", (uint16_t)(5060 + k), UDP);
			big[n].addr[3] = (uint8_t)(16 * k + i);
		}
	}
	cr_assert_eq(spl_dns_pub_put(t, "big.test", 0, UDP, 0, big, 36, tg3, 3, 9 * NS, 0), 0);
	struct spl_txn_peer all[SPL_DNS_MAX_PEERS];
	uint8_t ord[3];
	int rc = spl_dns_pub_lookup(t, "big.test", 8, 0, UDP, 1, &g_rng, all, SPL_DNS_MAX_PEERS);
	cr_assert_eq(rc, SPL_DNS_MAX_PEERS);
	cr_assert_eq(targets_of(all, rc, naddr3, 3, ord), 3);
	cr_assert_eq(ord[2], 2);
	struct spl_dns_pub_info i;
	spl_dns_pub_foreach(t, last, &i);
	cr_assert_eq(i.ntargets, 3);
	cr_assert_eq(i.targets[2].n, SPL_DNS_MAX_PEERS - 24);
	done(t);
}

/* ---- hammer ---- */

#define KEYS 64
static struct spl_dns_pub *ht;
static atomic_bool stop;
static atomic_uint_fast64_t hits, misses, neg, bad;

static void keyname(char *b, unsigned k) { snprintf(b, 32, "Host%u.Example.NET", k); }

/* Version v of a key: 1 + v%4 identical peers, port v, address v; from
 * 2 peers, every other version as 2 SRV targets of one priority, so the
 * readers draw too. */
static unsigned fill(struct spl_txn_peer *p, struct spl_dns_target *tg, unsigned *ntg, uint32_t v)
{
	unsigned n = 1 + v % 4;
	for (unsigned i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].transport = UDP;
		p[i].family = AF_INET;
		p[i].port = (uint16_t)v;
		memcpy(p[i].addr, &v, 4);
	}
	*ntg = 0;
	if (n >= 2 && v % 2) {
		tg[0] = (struct spl_dns_target){ .prio = 1, .weight = (uint16_t)(v % 3 * 10), .first = 0, .n = 1 };
		tg[1] = (struct spl_dns_target){ .prio = 1, .weight = 10, .first = 1, .n = (uint8_t)(n - 1) };
		*ntg = 2;
	}
	return n;
}

static void *reader(void *arg)
{
	(void)arg;
	int r = spl_qsbr_register(q);
	if (r < 0) {
		atomic_fetch_add(&bad, 1);
		return NULL;
	}
	struct spl_txn_peer out[8];
	char name[32];
	uint64_t h = 0, m = 0, ng = 0, b = 0;
	uint64_t rng = (uint64_t)(uintptr_t)&name | 1;   /* a shard's own */
	for (unsigned turn = 0; !atomic_load_explicit(&stop, memory_order_relaxed); turn++) {
		for (unsigned k = 0; k < KEYS; k++) {
			keyname(name, (k * 7 + turn) % KEYS);
			int rc = spl_dns_pub_lookup(ht, name, (uint32_t)strlen(name), 0, UDP, 1000, &rng, out, 8);
			if (rc == -EAGAIN) {
				m++;
				continue;
			}
			if (rc == -ENOENT) {
				ng++;
				continue;
			}
			h++;
			uint32_t v;
			memcpy(&v, out[0].addr, 4);
			if ((uint16_t)v != out[0].port || (unsigned)rc != 1 + out[0].port % 4u)
				b++;
			for (int i = 1; i < rc; i++)
				if (memcmp(&out[i], &out[0], sizeof(out[0])) != 0)
					b++;
		}
		spl_qsbr_quiescent(q, r);
	}
	spl_qsbr_unregister(q, r);
	atomic_fetch_add(&hits, h);
	atomic_fetch_add(&misses, m);
	atomic_fetch_add(&neg, ng);
	atomic_fetch_add(&bad, b);
	return NULL;
}

Test(dns_pub, readers_hammer_while_writer_replaces, .timeout = 60)
{
	ht = mk(KEYS / 2);   /* smaller than the key set: evictions too */
	atomic_store(&stop, false);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, reader, NULL), 0);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct spl_txn_peer p[8];
	struct spl_dns_target tg[2];
	unsigned ntg;
	char name[32];
	uint32_t v = 1;
	uint64_t writes = 0;
	do {
		for (unsigned i = 0; i < 1000; i++, v++) {
			unsigned k = (v * 2654435761u) % KEYS;
			keyname(name, k);
			unsigned n = fill(p, tg, &ntg, v);
			const struct spl_dns_target *tp = ntg ? tg : NULL;
			int op = (int)(v % 50);
			if (op == 0)
				spl_dns_pub_del(ht, name, 0, UDP);
			else if (op == 1)
				spl_dns_pub_put(ht, name, 0, UDP, -ENOENT, NULL, 0, NULL, 0, 2000, v);
			else if (op == 2)
				spl_dns_pub_put(ht, name, 0, UDP, 0, p, n, tp, ntg, 500, v);   /* already expired at 1000 */
			else
				cr_assert_eq(spl_dns_pub_put(ht, name, 0, UDP, 0, p, n, tp, ntg, 2000, v), 0);
			writes++;
		}
		if (v % 20000 < 1000)
			spl_dns_pub_flush(ht);
		spl_dns_pub_expire(ht, 1000, 8);
		spl_dns_pub_reclaim(ht);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	spl_dns_pub_reclaim(ht);
	const struct spl_dns_pub_stats *st = spl_dns_pub_stats(ht);
	cr_log_info("writes %llu, hits %llu, misses %llu, negative %llu, freed %llu, pending %llu",
		    (unsigned long long)writes, (unsigned long long)hits, (unsigned long long)misses,
		    (unsigned long long)neg, (unsigned long long)st->freed, (unsigned long long)st->retired_pending);
	cr_assert_eq(atomic_load(&bad), 0, "a reader saw a torn or mixed entry");
	cr_assert_gt(atomic_load(&hits), 0);
	cr_assert_gt(st->freed, 0);
	cr_assert_eq(st->retired_pending, 0, "with every reader gone, everything retired is freed");
	cr_assert_leq(st->entries, KEYS / 2);
	done(ht);
}
