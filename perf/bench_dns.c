/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipline-bench dns [--json]
 *
 * The shard side of RFC 3263 resolution: spl_dns_pub_lookup() on a table
 * of 1024 published answers (4 peers each, the proxy's SPL_PROXY_MAX_HOPS),
 * names drawn at random from the set ("hostNNNN.Example.NET", mixed case
 * as in Request-URIs):
 *
 *   hit      answer found, 4 peers copied out (A/AAAA, or one SRV target
 *            per priority: no draw)
 *   hit srv  the same 4 peers as 2 SRV targets of one priority, weights
 *            60/40: the RFC 2782 draw made on every lookup (a second
 *            table of the same size, so the two hits compare)
 *   negative a cached NXDOMAIN
 *   miss     a name not in the table (-EAGAIN: the shard would ask)
 *
 * The resolve hook adds an rte_rdtsc() and a counter increment to these.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench_util.h"
#include "spl_dns_pub.h"
#include "spl_sipmsg.h"

#define NAMES 1024u
#define ITERS 200000u
#define REPS  31

static uint64_t no_retire(void *arg) { (void)arg; return 1; }
static bool always(void *arg, uint64_t tok) { (void)arg; (void)tok; return true; }

struct ctx {
	struct spl_dns_pub *t;
	uint64_t rng;
	char names[NAMES][32];
	uint32_t lens[NAMES];
	uint16_t order[4096];
	int expect;
};

static void run(void *arg, uint64_t iters)
{
	struct ctx *c = arg;
	struct spl_txn_peer out[4];
	int sum = 0;
	for (uint64_t i = 0; i < iters; i++) {
		unsigned k = c->order[i & 4095];
		sum += spl_dns_pub_lookup(c->t, c->names[k], c->lens[k], 0, SPL_SIP_TRANSPORT_UDP, 1000, &c->rng, out,
					  4);
	}
	BENCH_KEEP(sum);
}

static void fill(struct ctx *c, const char *fmt)
{
	for (unsigned i = 0; i < NAMES; i++) {
		snprintf(c->names[i], sizeof(c->names[i]), fmt, i);
		c->lens[i] = (uint32_t)strlen(c->names[i]);
	}
}

int bench_dns_main(int argc, char **argv)
{
	bool json = bench_has_flag(argc, argv, "--json");
	struct spl_dns_pub_conf pc = { .capacity = NAMES * 2, .seed = 7, .retire = no_retire, .check = always };
	struct ctx *c = calloc(1, sizeof(*c));
	struct spl_dns_pub *srv = spl_dns_pub_create(&pc);
	if (!c || !srv || !(c->t = spl_dns_pub_create(&pc))) {
		fprintf(stderr, "sipline-bench dns: out of memory\n");
		return 1;
	}
	c->rng = 0x2545f4914f6cdd1dull;
	struct spl_txn_peer p[4];
	memset(p, 0, sizeof(p));
	for (unsigned k = 0; k < 4; k++) {
		p[k].transport = SPL_SIP_TRANSPORT_UDP;
		p[k].family = AF_INET;
		p[k].port = 5060;
		p[k].addr[0] = 192, p[k].addr[3] = (uint8_t)k;
	}
	srand(1);
	for (unsigned i = 0; i < 4096; i++)
		c->order[i] = (uint16_t)(rand() % NAMES);
	fill(c, "host%04u.example.net");
	for (unsigned i = 0; i < NAMES; i++)
		spl_dns_pub_put(c->t, c->names[i], 0, SPL_SIP_TRANSPORT_UDP, 0, p, 4, NULL, 0, 1000000, 0);
	fill(c, "nx%04u.example.net");
	for (unsigned i = 0; i < NAMES; i++)
		spl_dns_pub_put(c->t, c->names[i], 0, SPL_SIP_TRANSPORT_UDP, -ENOENT, NULL, 0, NULL, 0, 1000000, 0);
	const struct spl_dns_target tg[2] = { { .prio = 10, .weight = 60, .first = 0, .n = 2 },
					      { .prio = 10, .weight = 40, .first = 2, .n = 2 } };
	fill(c, "srv%04u.example.net");
	for (unsigned i = 0; i < NAMES; i++)
		spl_dns_pub_put(srv, c->names[i], 0, SPL_SIP_TRANSPORT_UDP, 0, p, 4, tg, 2, 1000000, 0);
	fill(c, "nx%04u.example.net");   /* the same table shape as the first */
	for (unsigned i = 0; i < NAMES; i++)
		spl_dns_pub_put(srv, c->names[i], 0, SPL_SIP_TRANSPORT_UDP, -ENOENT, NULL, 0, NULL, 0, 1000000, 0);

	fill(c, "Host%04u.Example.NET");
	double hit = bench_median_ns(run, c, ITERS, REPS);
	struct spl_dns_pub *plain = c->t;
	c->t = srv;
	fill(c, "Srv%04u.Example.NET");
	double hit_srv = bench_median_ns(run, c, ITERS, REPS);
	c->t = plain;
	fill(c, "NX%04u.example.net");
	double neg = bench_median_ns(run, c, ITERS, REPS);
	fill(c, "other%04u.example.net");
	double miss = bench_median_ns(run, c, ITERS, REPS);

	if (json) {
		json_t *o = json_pack("{s:s,s:i,s:f,s:f,s:f,s:f}", "bench", "dns", "entries", (int)(2 * NAMES), "hit_ns",
				      hit, "hit_srv_ns", hit_srv, "negative_ns", neg, "miss_ns", miss);
		char *s = json_dumps(o, JSON_INDENT(2));
		puts(s);
		free(s);
		json_decref(o);
	} else {
		printf("dns published table, %u entries, medians of %d runs of %u lookups\n", 2 * NAMES, REPS, ITERS);
		printf("  hit (4 peers copied) %6.1f ns\n", hit);
		printf("  hit srv (2 targets)  %6.1f ns\n", hit_srv);
		printf("  negative             %6.1f ns\n", neg);
		printf("  miss                 %6.1f ns\n", miss);
	}
	spl_dns_pub_free(c->t);
	spl_dns_pub_free(srv);
	free(c);
	return 0;
}
