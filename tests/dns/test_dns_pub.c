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
	return spl_dns_pub_lookup(t, name, (uint32_t)strlen(name), port, tp, now, out, 8);
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
	cr_assert_eq(spl_dns_pub_put(t, "Example.NET.", 0, UDP, 0, p, 2, 10 * NS, 1 * NS), 0);
	cr_assert_eq(look(t, "example.net", 0, UDP, 2 * NS, out), 2);
	cr_assert_eq(memcmp(out, p, sizeof(p)), 0, "peers in the order published");
	cr_assert_eq(look(t, "EXAMPLE.net.", 0, UDP, 2 * NS, out), 2, "any case, trailing dot");
	cr_assert_eq(look(t, "example.net", 5060, UDP, 2 * NS, out), -EAGAIN, "other port");
	cr_assert_eq(look(t, "example.net", 0, TCP, 2 * NS, out), -EAGAIN, "other transport");
	cr_assert_eq(look(t, "example.ne", 0, UDP, 2 * NS, out), -EAGAIN);
	/* max bounds the copy, not the answer */
	cr_assert_eq(spl_dns_pub_lookup(t, "example.net", 11, 0, UDP, 2 * NS, out, 1), 1);
	/* a slice of a longer buffer */
	cr_assert_eq(spl_dns_pub_lookup(t, "example.net;transport=udp", 11, 0, UDP, 2 * NS, out, 8), 2);
	cr_assert_eq(look(t, "", 0, UDP, 2 * NS, out), -ENOENT, "empty name: never resolvable");
	cr_assert_eq(spl_dns_pub_put(t, "", 0, UDP, 0, p, 1, 10 * NS, 1 * NS), -EINVAL);
	cr_assert_eq(spl_dns_pub_put(t, "x.test", 0, UDP, -EIO, p, 1, 10 * NS, 1 * NS), -EINVAL);
	cr_assert_eq(spl_dns_pub_put(t, "x.test", 0, UDP, 0, p, 0, 10 * NS, 1 * NS), -EINVAL);
	done(t);
}

Test(dns_pub, negative_and_expiry)
{
	struct spl_dns_pub *t = mk(64);
	struct spl_txn_peer p = peer("192.0.2.11", 5060, UDP), out[8];
	cr_assert_eq(spl_dns_pub_put(t, "nx.test", 0, UDP, -ENOENT, NULL, 0, 30 * NS, 0), 0);
	cr_assert_eq(look(t, "nx.test", 0, UDP, 29 * NS, out), -ENOENT);
	cr_assert_eq(look(t, "nx.test", 0, UDP, 30 * NS, out), -EAGAIN, "expired: ask again");
	cr_assert_eq(spl_dns_pub_put(t, "ok.test", 0, UDP, 0, &p, 1, 5 * NS, 0), 0);
	cr_assert_eq(look(t, "ok.test", 0, UDP, 4 * NS, out), 1);
	cr_assert_eq(look(t, "ok.test", 0, UDP, 5 * NS, out), -EAGAIN);
	/* the sweep removes what expired, and only that */
	cr_assert_eq(spl_dns_pub_stats(t)->entries, 2);
	cr_assert_eq(spl_dns_pub_expire(t, 10 * NS, 1u << 20), 1);
	cr_assert_eq(spl_dns_pub_stats(t)->entries, 1);
	cr_assert_eq(look(t, "nx.test", 0, UDP, 10 * NS, out), -ENOENT);
	/* a new answer replaces the negative one */
	cr_assert_eq(spl_dns_pub_put(t, "nx.test", 0, UDP, 0, &p, 1, 60 * NS, 11 * NS), 0);
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
		cr_assert_eq(spl_dns_pub_put(t, names[i], 0, UDP, i == 5 ? -ENOENT : 0, &p, 1, 100 * NS, i * NS), 0);
	cr_assert_eq(spl_dns_pub_stats(t)->entries, 4);
	cr_assert_eq(spl_dns_pub_stats(t)->evicted, 2);
	cr_assert_eq(look(t, "a.test", 0, UDP, 7 * NS, out), -EAGAIN);
	cr_assert_eq(look(t, "b.test", 0, UDP, 7 * NS, out), -EAGAIN);
	cr_assert_eq(look(t, "c.test", 0, UDP, 7 * NS, out), 1);
	/* rewriting c makes it the newest: d goes next */
	cr_assert_eq(spl_dns_pub_put(t, "c.test", 0, UDP, 0, &p, 1, 100 * NS, 7 * NS), 0);
	cr_assert_eq(spl_dns_pub_put(t, "g.test", 0, UDP, 0, &p, 1, 100 * NS, 8 * NS), 0);
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
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, &p, 1, 100 * NS, 0), 0);
	/* a reader in its turn: it may hold what the writer replaces */
	cr_assert_eq(look(t, "a.test", 0, UDP, 1, out), 1);
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, &p, 1, 100 * NS, 1), 0);
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, &p, 1, 100 * NS, 2), 0);
	cr_assert_eq(spl_dns_pub_flush(t), 1);
	spl_dns_pub_reclaim(t);
	const struct spl_dns_pub_stats *st = spl_dns_pub_stats(t);
	cr_assert_eq(st->freed, 0, "nothing freed while the reader is in its turn");
	cr_assert_gt(st->retired_pending, 0);
	spl_qsbr_quiescent(q, r);
	cr_assert_gt(spl_dns_pub_reclaim(t), 0);
	cr_assert_eq(st->retired_pending, 0);
	/* an offline reader holds nothing up */
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, &p, 1, 100 * NS, 3), 0);
	cr_assert_eq(spl_dns_pub_put(t, "a.test", 0, UDP, 0, &p, 1, 100 * NS, 4), 0);
	spl_qsbr_offline(q, r);
	spl_dns_pub_reclaim(t);
	cr_assert_eq(st->retired_pending, 0);
	spl_qsbr_unregister(q, r);
	done(t);
}

/* ---- hammer ---- */

#define KEYS 64
static struct spl_dns_pub *ht;
static atomic_bool stop;
static atomic_uint_fast64_t hits, misses, neg, bad;

static void keyname(char *b, unsigned k) { snprintf(b, 32, "Host%u.Example.NET", k); }

/* Version v of a key: 1 + v%4 identical peers, port v, address v. */
static unsigned fill(struct spl_txn_peer *p, uint32_t v)
{
	unsigned n = 1 + v % 4;
	for (unsigned i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].transport = UDP;
		p[i].family = AF_INET;
		p[i].port = (uint16_t)v;
		memcpy(p[i].addr, &v, 4);
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
	for (unsigned turn = 0; !atomic_load_explicit(&stop, memory_order_relaxed); turn++) {
		for (unsigned k = 0; k < KEYS; k++) {
			keyname(name, (k * 7 + turn) % KEYS);
			int rc = spl_dns_pub_lookup(ht, name, (uint32_t)strlen(name), 0, UDP, 1000, out, 8);
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
	char name[32];
	uint32_t v = 1;
	uint64_t writes = 0;
	do {
		for (unsigned i = 0; i < 1000; i++, v++) {
			unsigned k = (v * 2654435761u) % KEYS;
			keyname(name, k);
			unsigned n = fill(p, v);
			int op = (int)(v % 50);
			if (op == 0)
				spl_dns_pub_del(ht, name, 0, UDP);
			else if (op == 1)
				spl_dns_pub_put(ht, name, 0, UDP, -ENOENT, NULL, 0, 2000, v);
			else if (op == 2)
				spl_dns_pub_put(ht, name, 0, UDP, 0, p, n, 500, v);   /* already expired at 1000 */
			else
				cr_assert_eq(spl_dns_pub_put(ht, name, 0, UDP, 0, p, n, 2000, v), 0);
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
