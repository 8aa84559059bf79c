/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One bounded run: an open-loop token-bucket pacer offers calls and
 * REGISTERs at fixed rates for warm-up + duration, then the loop drains
 * what is in progress (at most call_timeout more) and gives up on the
 * rest. Time spent is bounded whatever the peer does.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "gen.h"
#include "gen_io.h"

#define NS 1000000000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
/* The loop reads the time several times per turn; on some virtual
 * machines clock_gettime costs more than the rest of the turn. The TSC is
 * invariant on anything that runs DPDK (constant_tsc, nonstop_tsc), so
 * time is the TSC scaled by a rate calibrated against CLOCK_MONOTONIC. */
static struct {
	uint64_t tsc0, ns0;
	double ns_per_tick;
} clk;

static void clock_init(void)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	uint64_t n0 = mono_ns(), c0 = __rdtsc();
	nanosleep(&pause, NULL);
	uint64_t n1 = mono_ns(), c1 = __rdtsc();
	clk.tsc0 = c1;
	clk.ns0 = n1;
	clk.ns_per_tick = c1 > c0 ? (double)(n1 - n0) / (double)(c1 - c0) : 0;
}

uint64_t gen_now_ns(void)
{
	if (clk.ns_per_tick == 0) {
		clock_init();
		if (clk.ns_per_tick == 0)
			return mono_ns();
	}
	return clk.ns0 + (uint64_t)((double)(__rdtsc() - clk.tsc0) * clk.ns_per_tick);
}
#else
uint64_t gen_now_ns(void)
{
	return mono_ns();
}
#endif

/* User + system time of the calling thread (the generator's loop; a
 * --loopback-proxy relay thread is not counted). */
static double thread_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

struct pacer {
	double rate;      /* per second */
	double tokens;
	double cap;       /* burst: 50 ms worth, at least 8 */
	uint64_t lagged;  /* tokens lost to the cap: the loop fell behind */
};

static void pacer_init(struct pacer *p, double rate)
{
	p->rate = rate;
	p->tokens = 0;
	/* Calls due while the loop was held up (a burst of input, or the
	 * scheduler giving the CPU to someone else for a few ms) are still
	 * offered, late; only beyond 50 ms worth does the pacer count them as
	 * lost and the run as generator-limited. */
	p->cap = rate * 0.05 > 8.0 ? rate * 0.05 : 8.0;
	p->lagged = 0;
}

static void pacer_fill(struct pacer *p, uint64_t dt_ns, bool count)
{
	if (p->rate <= 0)
		return;
	p->tokens += (double)dt_ns * p->rate / 1e9;
	if (p->tokens > p->cap + 1.0) {
		if (count)
			p->lagged += (uint64_t)(p->tokens - p->cap);
		p->tokens = p->cap;
	}
}

/* Nanoseconds until the next whole token (for the idle wait). */
static uint64_t pacer_next_ns(const struct pacer *p)
{
	if (p->rate <= 0)
		return UINT64_MAX;
	double need = 1.0 - p->tokens;
	return need <= 0 ? 0 : (uint64_t)(need / p->rate * 1e9) + 1;
}

double gen_fail_pct(const struct gen_result *r)
{
	const struct gen_stats *s = &r->st;
	uint64_t bad, all;
	if (r->offered_cps > 0) {
		bad = s->calls_failed + s->calls_blocked;
		all = s->calls_attempted + s->calls_blocked;
	} else {
		bad = s->regs_failed + s->regs_blocked;
		all = s->regs_attempted + s->regs_blocked;
	}
	return all ? 100.0 * (double)bad / (double)all : 0.0;
}

/* Receive a batch, then fire due timers; true when nothing happened. */
static bool loop_turn(struct gen *g)
{
	g->now = gen_now_ns();
	unsigned work = g->io->ops->poll(g->io, g);
	g->now = gen_now_ns();
	work += gen_timers(g);
	return work == 0;
}

void gen_idle(struct gen *g, double seconds)
{
	uint64_t end = gen_now_ns() + (uint64_t)(seconds * 1e9);
	do {
		if (loop_turn(g))
			g->io->ops->wait(g->io, 1000000);
		g->io->ops->flush(g->io);
	} while (g->now < end);
}

void gen_run(struct gen *g, double cps, double rps, struct gen_result *res)
{
	const struct gen_conf *cf = g->conf;
	struct gen_io *io = g->io;
	memset(&g->st, 0, sizeof(g->st));
	gen_hist_reset(&g->tick_200);
	g->run_id++;
	g->now = gen_now_ns();
	g->measuring = cf->warmup_s <= 0;

	const uint64_t t0 = g->now;
	const uint64_t t_meas = t0 + (uint64_t)(cf->warmup_s * 1e9);
	const uint64_t t_end = t_meas + (uint64_t)(cf->duration_s * 1e9);
	const uint64_t drain_ns = g->call_timeout_ns + (uint64_t)cf->hold_ms * 1000000ull +
				  (uint64_t)cf->answer_ms * 1000000ull + NS;
	uint64_t t_stop = 0, t_meas_start = g->measuring ? t0 : 0;
	double cpu0 = g->measuring ? thread_cpu_s() : 0;
	uint64_t io_drop0 = io->tx_drop;

	struct pacer pc, pr;
	pacer_init(&pc, cps);
	pacer_init(&pr, rps);
	bool placing = true;
	uint64_t busy_ns = 0;
	uint64_t last = t0, next_progress = t0 + NS, last_attempted = 0, last_progress = t0;

	for (;;) {
		uint64_t turn0 = gen_now_ns();
		bool idle = loop_turn(g);
		uint64_t now = g->now;
		unsigned started = 0;
		if (placing) {
			if (!g->measuring && now >= t_meas) {
				g->measuring = true;
				t_meas_start = now;
				cpu0 = thread_cpu_s();
				io_drop0 = io->tx_drop;
			}
			bool calls_done = cps <= 0 || (cf->max_calls && g->st.calls_attempted >= cf->max_calls);
			bool regs_done = rps <= 0 || (cf->max_regs && g->st.regs_attempted >= cf->max_regs);
			/* A finished stream stops filling: its idle tokens are not lag. */
			if (!calls_done)
				pacer_fill(&pc, now - last, g->measuring);
			if (!regs_done)
				pacer_fill(&pr, now - last, g->measuring);
			last = now;
			while (!calls_done && pc.tokens >= 1.0 && started < GEN_START_BURST &&
			       (!cf->max_calls || g->st.calls_attempted < cf->max_calls)) {
				pc.tokens -= 1.0;
				started++;
				if (!gen_start_call(g) && g->measuring)
					g->st.calls_blocked++;
			}
			while (!regs_done && pr.tokens >= 1.0 && started < GEN_START_BURST &&
			       (!cf->max_regs || g->st.regs_attempted < cf->max_regs)) {
				pr.tokens -= 1.0;
				started++;
				if (!gen_start_reg(g) && g->measuring)
					g->st.regs_blocked++;
			}
			if (now >= t_end || gen_interrupted || (g->measuring && calls_done && regs_done)) {
				placing = false;
				t_stop = now;
			}
		} else if (g->inflight == 0 || now >= t_stop + drain_ns || gen_interrupted > 1) {
			break;
		}
		io->ops->flush(io);
		if ((!idle || started) && g->measuring)
			busy_ns += gen_now_ns() - turn0;

		if (now >= next_progress) {
			if (!cf->quiet) {
				double dt = (double)(now - last_progress) / 1e9;
				double cur = dt > 0 ? (double)(g->st.calls_attempted - last_attempted) / dt : 0;
				gen_progress(g, (double)(now - t0) / 1e9, cps, cur);
			}
			last_attempted = g->st.calls_attempted;
			last_progress = now;
			gen_hist_reset(&g->tick_200);
			next_progress += NS;
		}
		if (idle && started == 0 && !cf->busy_poll) {
			uint64_t w = 1000000;   /* the timer wheel's tick */
			if (placing) {
				uint64_t a = pacer_next_ns(&pc), b = pacer_next_ns(&pr);
				if (a < w) w = a;
				if (b < w) w = b;
			}
			if (w > 0)
				io->ops->wait(io, w);
		}
	}
	gen_abort_all(g);
	io->ops->flush(io);

	uint64_t t_done = gen_now_ns();
	if (!t_meas_start)
		t_meas_start = t_stop ? t_stop : t_done;   /* ended inside the warm-up */
	memset(res, 0, sizeof(*res));
	res->offered_cps = cps;
	res->offered_rps = rps;
	res->measured_s = (double)(t_stop - t_meas_start) / 1e9;
	if (res->measured_s > 0) {
		res->achieved_cps = (double)g->st.calls_attempted / res->measured_s;
		res->achieved_rps = (double)g->st.regs_attempted / res->measured_s;
	}
	res->cpu_s = thread_cpu_s() - cpu0;
	res->busy_s = (double)busy_ns / 1e9;
	g->st.calls_lagged = pc.lagged;
	g->st.regs_lagged = pr.lagged;
	g->st.tx_drop += io->tx_drop - io_drop0;
	double offered = cps * res->measured_s + rps * res->measured_s;
	res->gen_limited = pc.lagged + pr.lagged >= 3 && (double)(pc.lagged + pr.lagged) > 0.01 * offered;
	res->st = g->st;
}
