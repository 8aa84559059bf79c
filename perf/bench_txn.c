/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipline-bench txn: the full cycle of a server non-INVITE transaction
 * over UDP with 1M other transactions live in the same table:
 *
 *   request -> new transaction (hash miss, slot, insert, TU callback)
 *   same request again -> absorbed retransmission (hash hit, compare)
 *   TU final response -> sent, Completed, Timer J started
 *   wheel advance -> Timer J of a transaction ~2000 cycles older fires,
 *                    which terminates it (unlink, release, TU callback)
 *
 * Requests are parsed before the clock starts (a pool of 4096 messages
 * with distinct branches, reused once their transactions have ended), so
 * the figure is transaction-layer work only; parsing is measured by
 * `sipline-bench parse`. The clock is virtual: each cycle advances it by
 * 16 ms, so Timer J (64*T1 = 32 s) ends each transaction 2000 cycles later
 * and about 2000 cycling transactions are live on top of the prefill.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "spl_sipmsg.h"
#include "spl_timerwheel.h"
#include "spl_txn.h"

#define PREFILL     (1u << 20)
#define POOL        4096u
#define STEP_NS     (16 * 1000000ull)
#define ITERS       200000u
#define REPS        7

struct bctx {
	struct spl_timerwheel *tw;
	struct spl_txn_table *tbl;
	uint64_t now;
	struct spl_sipmsg *pool;
	char (*text)[512];
	uint32_t next;
	uint64_t last_handle;
	uint64_t requests, terminated, sends;
	struct spl_txn_buf rsp;
};

static int b_send(void *ctx, const struct spl_txn_peer *dst, const struct spl_txn_buf *buf)
{
	struct bctx *b = ctx;
	(void)dst;
	BENCH_KEEP(buf->data);
	b->sends++;
	return 0;
}
static void b_release(void *ctx, void *owner) { (void)ctx; (void)owner; }
static void b_request(void *ctx, uint64_t h, enum spl_txn_req_kind kind, struct spl_sipmsg *msg,
		      const struct spl_txn_peer *src, uint64_t now)
{
	struct bctx *b = ctx;
	(void)kind; (void)msg; (void)src; (void)now;
	b->last_handle = h;
	b->requests++;
}
static void b_response(void *ctx, uint64_t h, struct spl_sipmsg *msg,
		       const struct spl_txn_peer *src, uint64_t now)
{
	(void)ctx; (void)h; (void)msg; (void)src; (void)now;
}
static void b_timeout(void *ctx, uint64_t h, enum spl_txn_timer which, uint64_t now)
{
	(void)ctx; (void)h; (void)which; (void)now;
}
static void b_terr(void *ctx, uint64_t h, int err, uint64_t now)
{
	(void)ctx; (void)h; (void)err; (void)now;
}
static void b_term(void *ctx, uint64_t h, void *user, uint32_t user32)
{
	struct bctx *b = ctx;
	(void)h; (void)user; (void)user32;
	b->terminated++;
}

static const struct spl_txn_ops bench_ops = {
	.send = b_send, .release = b_release, .on_request = b_request,
	.on_response = b_response, .on_timeout = b_timeout,
	.on_transport_error = b_terr, .on_terminated = b_term,
};

static int req_text(char *out, size_t cap, const char *tag, uint32_t n)
{
	return snprintf(out, cap,
		"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK%s%08x\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:carol@chicago.example.com>\r\n"
		"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		"Call-ID: %s%08x@pc33.atlanta.example.com\r\n"
		"CSeq: 63104 OPTIONS\r\n"
		"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
		"Accept: application/sdp\r\n"
		"Content-Length: 0\r\n\r\n", tag, n, tag, n);
}

static void tick(void *ctx, uint32_t handle, uint64_t data)
{
	struct bctx *b = ctx;
	(void)handle;
	if (spl_txn_timer_is_ours(data))
		spl_txn_timer_fire(b->tbl, data, spl_timerwheel_now(b->tw));
}

static const struct spl_txn_peer peer = { .transport = SPL_SIP_TRANSPORT_UDP, .family = 2,
					  .port = 5060, .addr = { 192, 0, 2, 10 } };

static void cycle(void *arg, uint64_t iters)
{
	struct bctx *b = arg;
	for (uint64_t i = 0; i < iters; i++) {
		struct spl_sipmsg *m = &b->pool[b->next];
		b->next = (b->next + 1) % POOL;
		b->now += STEP_NS;
		spl_timerwheel_advance(b->tw, b->now, tick, b);
		spl_txn_recv_request(b->tbl, m, NULL, &peer, b->now);      /* new */
		spl_txn_recv_request(b->tbl, m, NULL, &peer, b->now);      /* retransmission */
		spl_txn_server_respond(b->tbl, b->last_handle, 200, &b->rsp, b->now);
	}
}

/* Thread CPU time: the host may be shared, and preemption is not the
 * transaction layer's cost (ARCHITECTURE: CPU cost per call). */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median per-cycle CPU ns over REPS timed runs after one warm-up run; the
 * wall-clock median (bench_median_ns) is reported beside it. */
static double cpu_median_ns(struct bctx *b, uint64_t iters)
{
	double s[REPS];
	cycle(b, iters);
	for (int r = 0; r < REPS; r++) {
		uint64_t t0 = cpu_ns();
		cycle(b, iters);
		s[r] = (double)(cpu_ns() - t0) / (double)iters;
	}
	qsort(s, REPS, sizeof(s[0]), cmp_double);
	return s[REPS / 2];
}

int bench_txn_main(int argc, char **argv)
{
	bool json = bench_has_flag(argc, argv, "--json");
	struct bctx b = { .now = 1000000000ull };
	uint32_t cap = PREFILL + 2 * POOL;

	struct spl_timerwheel_conf wc = { .capacity = 2 * cap, .tick_ns = 1000000, .now_ns = b.now };
	b.tw = spl_timerwheel_create(&wc);
	struct spl_txn_conf tc = { .capacity = cap, .shard = 0, .wheel = b.tw,
				   .ops = &bench_ops, .ctx = &b };
	b.tbl = b.tw ? spl_txn_table_create(&tc) : NULL;
	b.pool = calloc(POOL, sizeof(*b.pool));
	b.text = calloc(POOL, sizeof(*b.text));
	if (!b.tbl || !b.pool || !b.text) {
		fprintf(stderr, "bench txn: setup failed: %s\n", strerror(errno));
		return 1;
	}

	/* Prefill: 1M live server transactions (Trying, waiting for the TU). */
	static struct spl_sipmsg scratch;
	char text[512];
	for (uint32_t i = 0; i < PREFILL; i++) {
		int n = req_text(text, sizeof(text), "fill", i);
		if (spl_sipmsg_scan(&scratch, text, (uint32_t)n) != SPL_SIPMSG_E_NONE ||
		    spl_txn_recv_request(b.tbl, &scratch, NULL, &peer, b.now) != SPL_TXN_RX_NEW) {
			fprintf(stderr, "bench txn: prefill failed at %u\n", i);
			return 1;
		}
	}
	/* The measured requests, parsed up front. */
	for (uint32_t i = 0; i < POOL; i++) {
		int n = req_text(b.text[i], sizeof(b.text[i]), "cyc", i);
		if (spl_sipmsg_scan(&b.pool[i], b.text[i], (uint32_t)n) != SPL_SIPMSG_E_NONE ||
		    spl_sipmsg_parse(&b.pool[i], SPL_SIPMSG_P_PROXY) != SPL_SIPMSG_E_NONE) {
			fprintf(stderr, "bench txn: bad request template\n");
			return 1;
		}
	}
	static const char rsp[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKcyc00000000\r\n"
		"To: <sip:carol@chicago.example.com>;tag=93810874\r\n"
		"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		"Call-ID: cyc00000000@pc33.atlanta.example.com\r\n"
		"CSeq: 63104 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n";
	b.rsp = (struct spl_txn_buf){ rsp, sizeof(rsp) - 1, NULL };

	uint64_t live_before = spl_txn_live(b.tbl);
	double ns = cpu_median_ns(&b, ITERS);
	double wall = bench_median_ns(cycle, &b, ITERS, REPS);
	uint64_t cycles = 2 * (uint64_t)ITERS * (REPS + 1);
	uint32_t live = spl_txn_live(b.tbl);
	const struct spl_txn_stats *st = spl_txn_stats(b.tbl);

	/* The cycle must have done what it claims. */
	bool ok = b.requests == PREFILL + cycles && st->absorbed == cycles &&
		  b.sends == cycles && live >= PREFILL && live < PREFILL + POOL &&
		  b.terminated + (live - PREFILL) == cycles && st->table_full == 0;
	uint32_t bpt = spl_txn_bytes_per_txn(b.tbl);

	if (json) {
		printf("{\"bench\":\"txn\",\"server_txn_cycle_ns\":%.1f,\"wall_cycle_ns\":%.1f,"
		       "\"bytes_per_txn\":%u,\"live_txns\":%u,\"prefill\":%u,\"capacity\":%u,\"cycles\":%llu,"
		       "\"parse_included\":false,\"transport\":\"udp\",\"ok\":%s}\n",
		       ns, wall, bpt, live, PREFILL, cap, (unsigned long long)cycles, ok ? "true" : "false");
	} else {
		printf("# txn: server non-INVITE transaction cycle over UDP\n");
		printf("cycle: new from a pre-parsed request + absorb 1 retransmission + final"
		       " response + Timer J termination (parse excluded)\n");
		printf("server_txn_cycle_ns:%.1f   (thread CPU time, median of %d x %u)\n", ns, REPS, ITERS);
		printf("wall_cycle_ns:%.1f\n", wall);
		printf("bytes_per_txn:%u   (slot %u + hash buckets; stored messages and wheel"
		       " entries excluded)\n", bpt, 256u);
		printf("live_txns:%u   (prefill %u, before %llu)\n", live, PREFILL,
		       (unsigned long long)live_before);
		printf("cycles:%llu  terminated:%llu  absorbed:%llu  check:%s\n",
		       (unsigned long long)cycles, (unsigned long long)b.terminated,
		       (unsigned long long)st->absorbed, ok ? "ok" : "FAILED");
	}
	spl_txn_table_free(b.tbl);
	spl_timerwheel_free(b.tw);
	free(b.pool);
	free(b.text);
	return ok ? 0 : 1;
}
