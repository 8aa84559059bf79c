/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipline-bench timer [--json]
 *
 * lib/timerwheel against DPDK's rte_timer (a skiplist), each holding the
 * same 1M live timers with random delays of 2 s to 10 min, measured in the
 * same run:
 *
 *   start+stop    a window of 4096 outstanding timers: stop the oldest and
 *                 start a new one in its place (random delay from the same
 *                 distribution); ns per stop+start pair.
 *   start+expire  start a batch of 10k timers due within a short span,
 *                 then run time through them; ns per timer including the
 *                 callback. The wheel runs on a virtual clock (delays 1 to
 *                 10 ms, then one advance); rte_timer runs on the TSC, so
 *                 its batch is due within 10 us of each start and the loop
 *                 spins on rte_timer_manage() until every callback ran (the
 *                 last timer is due at most 10 us after the batch is in, so
 *                 the spin adds at most 1 ns per timer of a 10k batch).
 *
 * rte_timer needs the EAL: it is initialised in-process with --no-huge and
 * a file prefix of our own; the main thread's CPU affinity is restored
 * afterwards so both implementations run under the same scheduling. Live
 * rte_timer timers that come due while the benchmark runs re-arm
 * themselves (the count is reported); the wheel's virtual clock never
 * reaches its live timers.
 *
 * Timed loops are short (a few milliseconds, of similar length for both)
 * so that on a busy host most of them run without being preempted and the
 * median is a clean one. Each phase also reports its CPU share (thread CPU
 * time / wall time): well below 1 means the host was busy and the medians
 * may still carry preemption.
 */
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_timer.h>

#include "bench_util.h"
#include "spl_timerwheel.h"

#define LIVE         1000000u
#define WINDOW       4096u
#define SS_ITERS     100000u            /* wheel: ~1 ms per timed loop */
#define RTE_SS_ITERS 64u                /* rte_timer: ~1 ms per timed loop */
#define RTE_SS_REPS  63
#define EXP_BATCH    10000u
#define REPS         31
#define NDELAYS      65536u              /* power of two: indexed with a mask */
#define LIVE_MIN_NS  (2ull * 1000000000)
#define LIVE_SPAN_NS (598ull * 1000000000)
#define EXP_MIN_NS   1000000ull          /* wheel batch: 1 ms .. */
#define EXP_SPAN_NS  9000000ull          /* .. 10 ms */
#define RTE_EXP_SPAN_NS 10000ull         /* rte_timer batch: within 10 us */
#define TICK_NS      1000000ull
#define GOAL_RATIO   5.0

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: fixed seed, so every run draws the same delays. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* ---- lib/timerwheel ---------------------------------------------------- */

struct wheel_bench {
	struct spl_timerwheel *tw;
	uint64_t delays[NDELAYS];      /* live distribution, ns */
	uint64_t exp_delays[NDELAYS];  /* expire batch, ns */
	uint32_t window[WINDOW];
	uint32_t wi, di;
	uint64_t now;
	uint64_t fired;
	uint64_t failures;
};

static void wheel_cb(void *ctx, uint32_t handle, uint64_t data)
{
	struct wheel_bench *b = ctx;

	(void)handle;
	b->fired += data | 1;  /* touch the data like a real handler would */
}

static void wheel_start_stop(void *arg, uint64_t iters)
{
	struct wheel_bench *b = arg;

	for (uint64_t i = 0; i < iters; i++) {
		uint32_t k = b->wi++ & (WINDOW - 1);

		if (spl_timerwheel_stop(b->tw, b->window[k]) != 0)
			b->failures++;
		b->window[k] = spl_timerwheel_start(b->tw, b->delays[b->di++ & (NDELAYS - 1)], i);
	}
}

static void wheel_expire(void *arg, uint64_t iters)
{
	struct wheel_bench *b = arg;
	uint64_t before = b->fired;

	for (uint64_t i = 0; i < iters; i++)
		if (spl_timerwheel_start(b->tw, b->exp_delays[b->di++ & (NDELAYS - 1)], 0) == SPL_TIMER_NONE)
			b->failures++;
	b->now += EXP_MIN_NS + EXP_SPAN_NS;
	spl_timerwheel_advance(b->tw, b->now, wheel_cb, b);
	if (b->fired - before != iters)
		b->failures++;
}

/* One advance per loop turn with nothing due: the poll loop's fixed cost. */
static void wheel_idle_advance(void *arg, uint64_t iters)
{
	struct wheel_bench *b = arg;

	for (uint64_t i = 0; i < iters; i++) {
		b->now += 137;  /* a loop turn of a few hundred cycles */
		BENCH_KEEP(spl_timerwheel_advance(b->tw, b->now, wheel_cb, b));
	}
}

/* ---- rte_timer ---------------------------------------------------------- */

/* Zeroed memory on transparent huge pages where the host allows, as the
 * wheel's pool gets: in a DPDK application timers would sit in hugepage
 * memory, and the comparison should not charge rte_timer for TLB misses. */
static void *huge_zalloc(size_t bytes)
{
	const size_t huge = 2u << 20;
	void *p;

	bytes = (bytes + huge - 1) & ~(huge - 1);
	p = aligned_alloc(huge, bytes);
	if (p != NULL) {
		(void)madvise(p, bytes, MADV_HUGEPAGE);
		memset(p, 0, bytes);
	}
	return p;
}

struct rte_bench {
	struct rte_timer *live;
	struct rte_timer window[WINDOW];
	struct rte_timer *batch;
	uint64_t delays[NDELAYS];      /* live distribution, TSC cycles */
	uint64_t exp_delays[NDELAYS];  /* expire batch, TSC cycles */
	uint32_t wi, di;
	unsigned lcore;
	uint64_t fired;
	uint64_t live_refired;
	uint64_t failures;
};

static struct rte_bench *rte_b;

static void rte_cb(struct rte_timer *t, void *arg)
{
	(void)t;
	rte_b->fired += (uintptr_t)arg | 1;
}

static void rte_live_cb(struct rte_timer *t, void *arg)
{
	(void)arg;
	rte_b->live_refired++;
	rte_timer_reset(t, rte_b->delays[rte_b->di++ & (NDELAYS - 1)], SINGLE, rte_b->lcore, rte_live_cb, NULL);
}

static void rte_start_stop(void *arg, uint64_t iters)
{
	struct rte_bench *b = arg;

	for (uint64_t i = 0; i < iters; i++) {
		struct rte_timer *t = &b->window[b->wi++ & (WINDOW - 1)];

		if (rte_timer_stop(t) != 0)
			b->failures++;
		if (rte_timer_reset(t, b->delays[b->di++ & (NDELAYS - 1)], SINGLE, b->lcore,
				    rte_live_cb, NULL) != 0)
			b->failures++;
	}
}

static void rte_expire(void *arg, uint64_t iters)
{
	struct rte_bench *b = arg;
	uint64_t before = b->fired;

	for (uint64_t i = 0; i < iters; i++)
		if (rte_timer_reset(&b->batch[i], b->exp_delays[b->di++ & (NDELAYS - 1)], SINGLE,
				    b->lcore, rte_cb, NULL) != 0)
			b->failures++;
	while (b->fired - before < iters)
		rte_timer_manage();
	if (b->fired - before != iters)
		b->failures++;
}

static int eal_start(void)
{
	char prefix[64];
	cpu_set_t saved;
	int have_saved = sched_getaffinity(0, sizeof(saved), &saved) == 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=sipline-bench-timer-%ld", (long)getpid());
	char *argv[] = { "sipline-bench-timer", "-l", "0", "--no-huge", "-m", "512", "--no-pci",
			 "--no-telemetry", "--log-level=lib.eal:error", prefix, NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "sipline-bench timer: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (have_saved)  /* EAL pinned us to lcore 0's CPU; float like the wheel's run did */
		sched_setaffinity(0, sizeof(saved), &saved);
	if (rte_timer_subsystem_init() < 0) {
		fprintf(stderr, "sipline-bench timer: rte_timer_subsystem_init failed\n");
		rte_eal_cleanup();
		return -1;
	}
	return 0;
}

/* ---- report ------------------------------------------------------------ */

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* bench_median_ns, plus the share of the phase's wall time we had a CPU. */
static double measure(bench_fn fn, void *arg, uint64_t iters, int reps, double *cpu_share)
{
	uint64_t w0 = bench_now_ns(), c0 = thread_cpu_ns();
	double ns = bench_median_ns(fn, arg, iters, reps);
	uint64_t c1 = thread_cpu_ns(), w1 = bench_now_ns();

	*cpu_share = w1 > w0 ? (double)(c1 - c0) / (double)(w1 - w0) : 1.0;
	return ns;
}

enum { PH_WHEEL_SS, PH_RTE_SS, PH_WHEEL_EXP, PH_RTE_EXP, PH_WHEEL_IDLE, PH_N };
static const char *const phase_key[PH_N] = {
	"wheel_start_stop", "rte_timer_start_stop", "wheel_expire", "rte_timer_expire", "wheel_idle_advance",
};

struct results {
	double wheel_ss, rte_ss, wheel_exp, rte_exp, wheel_idle;
	double cpu_share[PH_N];
	uint64_t tsc_hz, live_refired, failures;
	double loadavg;
	long cpus;
	struct spl_timerwheel_stats st;
};

static double round1(double x)
{
	return (double)(int64_t)(x * 10.0 + (x >= 0 ? 0.5 : -0.5)) / 10.0;
}

static void print_json(const struct results *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "live_timers", json_integer(LIVE));
	json_object_set_new(o, "wheel_start_stop_ns", json_real(round1(r->wheel_ss)));
	json_object_set_new(o, "rte_timer_start_stop_ns", json_real(round1(r->rte_ss)));
	json_object_set_new(o, "start_stop_ratio", json_real(round1(r->rte_ss / r->wheel_ss)));
	json_object_set_new(o, "wheel_expire_ns", json_real(round1(r->wheel_exp)));
	json_object_set_new(o, "rte_timer_expire_ns", json_real(round1(r->rte_exp)));
	json_object_set_new(o, "expire_ratio", json_real(round1(r->rte_exp / r->wheel_exp)));
	json_object_set_new(o, "wheel_idle_advance_ns", json_real(round1(r->wheel_idle)));
	json_object_set_new(o, "goal_ratio", json_real(GOAL_RATIO));
	json_object_set_new(o, "goal_start_stop_met", json_boolean(r->rte_ss / r->wheel_ss >= GOAL_RATIO));
	json_object_set_new(o, "goal_expire_met", json_boolean(r->rte_exp / r->wheel_exp >= GOAL_RATIO));
	json_object_set_new(o, "window", json_integer(WINDOW));
	json_object_set_new(o, "expire_batch", json_integer(EXP_BATCH));
	json_object_set_new(o, "tick_ns", json_integer(TICK_NS));
	json_object_set_new(o, "reps", json_integer(REPS));
	json_object_set_new(o, "tsc_hz", json_integer((json_int_t)r->tsc_hz));
	json_object_set_new(o, "wheel_cascaded", json_integer((json_int_t)r->st.cascaded));
	json_object_set_new(o, "wheel_slots_visited", json_integer((json_int_t)r->st.slots_visited));
	json_object_set_new(o, "rte_live_refired", json_integer((json_int_t)r->live_refired));
	json_object_set_new(o, "failures", json_integer((json_int_t)r->failures));
	json_object_set_new(o, "loadavg_1m", json_real(round1(r->loadavg)));
	json_object_set_new(o, "cpus", json_integer(r->cpus));
	for (int i = 0; i < PH_N; i++) {
		char k[64];

		snprintf(k, sizeof(k), "%s_cpu_share", phase_key[i]);
		json_object_set_new(o, k, json_real((double)(int64_t)(r->cpu_share[i] * 100 + 0.5) / 100));
	}
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (s != NULL) {
		puts(s);
		free(s);
	}
}

static void print_human(const struct results *r)
{
	printf("# sipline-bench timer: %u live timers (delays 2 s .. 10 min), tick %llu ms, "
	       "median of %d timed loops\n", LIVE, TICK_NS / 1000000, REPS);
	printf("%-28s %10s %10s %8s\n", "ns per timer", "wheel", "rte_timer", "ratio");
	printf("%-28s %10.1f %10.1f %7.1fx\n", "start+stop (window 4096)", r->wheel_ss, r->rte_ss,
	       r->rte_ss / r->wheel_ss);
	printf("%-28s %10.1f %10.1f %7.1fx\n", "start+expire (batch 10k)", r->wheel_exp, r->rte_exp,
	       r->rte_exp / r->wheel_exp);
	printf("%-28s %10.1f %10s\n", "idle advance (per call)", r->wheel_idle, "-");
	printf("goal: wheel >= %.0fx cheaper: start+stop %s, start+expire %s\n", GOAL_RATIO,
	       r->rte_ss / r->wheel_ss >= GOAL_RATIO ? "met" : "NOT met",
	       r->rte_exp / r->wheel_exp >= GOAL_RATIO ? "met" : "NOT met");
	printf("wheel: %llu timers cascaded, %llu slots visited; rte_timer: %llu live timers re-armed "
	       "during the run; tsc %llu Hz\n", (unsigned long long)r->st.cascaded,
	       (unsigned long long)r->st.slots_visited, (unsigned long long)r->live_refired,
	       (unsigned long long)r->tsc_hz);
	double min_share = 1.0;

	for (int i = 0; i < PH_N; i++)
		if (r->cpu_share[i] < min_share)
			min_share = r->cpu_share[i];
	printf("load average %.1f on %ld CPUs; CPU share of the phases: wheel %.2f/%.2f, rte_timer %.2f/%.2f%s\n",
	       r->loadavg, r->cpus, r->cpu_share[PH_WHEEL_SS], r->cpu_share[PH_WHEEL_EXP],
	       r->cpu_share[PH_RTE_SS], r->cpu_share[PH_RTE_EXP],
	       min_share < 0.9 ? " (host busy: medians may carry preemption)" : "");
	if (r->failures)
		printf("WARNING: %llu failed operations: figures are not valid\n",
		       (unsigned long long)r->failures);
}

int bench_timer_main(int argc, char **argv)
{
	bool json = bench_has_flag(argc, argv, "--json");
	struct results res = { 0 };
	struct wheel_bench *wb = calloc(1, sizeof(*wb));
	struct rte_bench *rb = calloc(1, sizeof(*rb));
	int rc = 1;

	if (wb == NULL || rb == NULL) {
		fprintf(stderr, "sipline-bench timer: out of memory\n");
		goto out;
	}
	if (eal_start() < 0)
		goto out;
	res.tsc_hz = rte_get_timer_hz();
	rb->lcore = rte_lcore_id();
	rte_b = rb;

	for (uint32_t i = 0; i < NDELAYS; i++) {
		uint64_t live = LIVE_MIN_NS + rng() % LIVE_SPAN_NS;
		uint64_t exp = EXP_MIN_NS + rng() % EXP_SPAN_NS;

		wb->delays[i] = live;
		wb->exp_delays[i] = exp;
		rb->delays[i] = (uint64_t)((double)live * (double)res.tsc_hz / 1e9);
		rb->exp_delays[i] = (uint64_t)((double)(rng() % RTE_EXP_SPAN_NS) * (double)res.tsc_hz / 1e9);
	}

	/* Both hold LIVE timers, plus the window, plus room for a batch. */
	struct spl_timerwheel_conf conf = { .capacity = LIVE + WINDOW + 2 * EXP_BATCH, .tick_ns = TICK_NS };
	wb->tw = spl_timerwheel_create(&conf);
	rb->live = huge_zalloc((size_t)LIVE * sizeof(*rb->live));
	rb->batch = huge_zalloc((size_t)EXP_BATCH * sizeof(*rb->batch));
	if (wb->tw == NULL || rb->live == NULL || rb->batch == NULL) {
		fprintf(stderr, "sipline-bench timer: out of memory\n");
		goto out_eal;
	}
	for (uint32_t i = 0; i < LIVE; i++) {
		uint64_t d = LIVE_MIN_NS + rng() % LIVE_SPAN_NS;

		if (spl_timerwheel_start(wb->tw, d, i) == SPL_TIMER_NONE)
			res.failures++;
		rte_timer_init(&rb->live[i]);
		rte_timer_reset(&rb->live[i], (uint64_t)((double)d * (double)res.tsc_hz / 1e9), SINGLE,
				rb->lcore, rte_live_cb, NULL);
	}
	for (uint32_t i = 0; i < WINDOW; i++) {
		wb->window[i] = spl_timerwheel_start(wb->tw, wb->delays[i], i);
		rte_timer_init(&rb->window[i]);
		rte_timer_reset(&rb->window[i], rb->delays[i], SINGLE, rb->lcore, rte_live_cb, NULL);
	}
	for (uint32_t i = 0; i < EXP_BATCH; i++)
		rte_timer_init(&rb->batch[i]);

	res.wheel_ss = measure(wheel_start_stop, wb, SS_ITERS, REPS, &res.cpu_share[PH_WHEEL_SS]);
	res.rte_ss = measure(rte_start_stop, rb, RTE_SS_ITERS, RTE_SS_REPS, &res.cpu_share[PH_RTE_SS]);
	res.wheel_exp = measure(wheel_expire, wb, EXP_BATCH, REPS, &res.cpu_share[PH_WHEEL_EXP]);
	res.rte_exp = measure(rte_expire, rb, EXP_BATCH, REPS, &res.cpu_share[PH_RTE_EXP]);
	res.wheel_idle = measure(wheel_idle_advance, wb, 100000, REPS, &res.cpu_share[PH_WHEEL_IDLE]);

	if (spl_timerwheel_count(wb->tw) != LIVE + WINDOW)
		res.failures++;
	spl_timerwheel_get_stats(wb->tw, &res.st);
	res.live_refired = rb->live_refired;
	if (getloadavg(&res.loadavg, 1) != 1)
		res.loadavg = -1;
	res.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	res.failures += wb->failures + rb->failures;
	if (json)
		print_json(&res);
	else
		print_human(&res);
	rc = res.failures ? 1 : 0;

	for (uint32_t i = 0; i < LIVE; i++)
		rte_timer_stop(&rb->live[i]);
	for (uint32_t i = 0; i < WINDOW; i++)
		rte_timer_stop(&rb->window[i]);
out_eal:
	rte_timer_subsystem_finalize();
	rte_eal_cleanup();
out:
	if (wb != NULL)
		spl_timerwheel_free(wb->tw);
	if (rb != NULL) {
		free(rb->live);
		free(rb->batch);
	}
	free(wb);
	free(rb);
	return rc;
}
