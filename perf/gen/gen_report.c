/* SPDX-License-Identifier: BSD-3-Clause */
/* The live progress line (stderr, once a second) and the summary at the
 * end (stdout: JSON with --json, a short text otherwise). */
#include <stdio.h>

#include "gen.h"

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

void gen_progress(const struct gen *g, double t_s, double offered_cps, double cps_now)
{
	const struct gen_stats *s = &g->st;
	fprintf(stderr,
		"[gen] %6.1fs %s offered %.0f/s now %.0f/s | calls ok %llu fail %llu blocked %llu "
		"inflight %u | regs ok %llu fail %llu | retx %llu | inv->200 p50 %.0fus p99 %.0fus\n",
		t_s, g->measuring ? "" : "(warm-up)", offered_cps, cps_now,
		(unsigned long long)s->calls_ok, (unsigned long long)s->calls_failed,
		(unsigned long long)s->calls_blocked, g->inflight, (unsigned long long)s->regs_ok,
		(unsigned long long)s->regs_failed, (unsigned long long)(s->retx_uac + s->retx_uas),
		us(gen_hist_percentile(&g->tick_200, 50)), us(gen_hist_percentile(&g->tick_200, 99)));
}

static void json_hist(FILE *f, const char *name, const struct gen_hist *h, bool comma)
{
	fprintf(f, "\"%s\":{\"count\":%llu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
		   "\"max\":%.1f,\"mean\":%.1f}%s",
		name, (unsigned long long)h->count, us(gen_hist_percentile(h, 50)),
		us(gen_hist_percentile(h, 90)), us(gen_hist_percentile(h, 99)),
		us(gen_hist_percentile(h, 99.9)), us(h->max),
		h->count ? us(h->sum / h->count) : 0.0, comma ? "," : "");
}

/* [latency_us, percentile] pairs: every percent, then the tail. */
static void json_cdf(FILE *f, const struct gen_hist *h)
{
	static const double tail[] = { 99.5, 99.9, 99.95, 99.99, 100 };
	fputc('[', f);
	if (h->count) {
		for (int p = 0; p < 100; p++)
			fprintf(f, "[%.1f,%d],", us(gen_hist_percentile(h, p ? p : 0.0001)), p);
		for (unsigned i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
			fprintf(f, "[%.1f,%g]%s", us(gen_hist_percentile(h, tail[i])), tail[i],
				i + 1 < sizeof(tail) / sizeof(tail[0]) ? "," : "");
	}
	fputc(']', f);
}

/* CPU per completed call or registration: the thread's CPU time in
 * kernel mode; in DPDK mode, where the loop polls and CPU time is wall
 * time, the time of loop turns that had work. */
static bool busy_based;

static double per_call_us(const struct gen_result *r)
{
	uint64_t done = r->st.calls_ok + r->st.regs_ok;
	double t = busy_based ? r->busy_s : r->cpu_s;
	return done ? t * 1e6 / (double)done : 0.0;
}

static void json_result(FILE *f, const struct gen_result *r)
{
	const struct gen_stats *s = &r->st;
	fprintf(f, "\"offered_cps\":%.1f,\"achieved_cps\":%.1f,\"offered_rps\":%.1f,\"achieved_rps\":%.1f,"
		   "\"measured_s\":%.3f,",
		r->offered_cps, r->achieved_cps, r->offered_rps, r->achieved_rps, r->measured_s);
	fprintf(f, "\"calls_attempted\":%llu,\"calls_ok\":%llu,\"calls_failed\":%llu,\"calls_blocked\":%llu,"
		   "\"calls_lagged\":%llu,\"failed_pct\":%.4f,",
		(unsigned long long)s->calls_attempted, (unsigned long long)s->calls_ok,
		(unsigned long long)s->calls_failed, (unsigned long long)s->calls_blocked,
		(unsigned long long)s->calls_lagged, gen_fail_pct(r));
	fprintf(f, "\"registers_attempted\":%llu,\"registers_ok\":%llu,\"registers_failed\":%llu,"
		   "\"registers_blocked\":%llu,",
		(unsigned long long)s->regs_attempted, (unsigned long long)s->regs_ok,
		(unsigned long long)s->regs_failed, (unsigned long long)s->regs_blocked);
	fprintf(f, "\"retransmissions\":%llu,\"retransmissions_uac\":%llu,\"retransmissions_uas\":%llu,",
		(unsigned long long)(s->retx_uac + s->retx_uas), (unsigned long long)s->retx_uac,
		(unsigned long long)s->retx_uas);
	fputs("\"fail_reasons\":{", f);
	for (int i = 0; i < GEN_FAIL__COUNT; i++)
		fprintf(f, "\"%s\":%llu%s", gen_fail_name((enum gen_fail)i), (unsigned long long)s->fail[i],
			i + 1 < GEN_FAIL__COUNT ? "," : "");
	fputs("},\"latency_us\":{", f);
	json_hist(f, "invite_to_180", &s->h_180, true);
	json_hist(f, "invite_to_200", &s->h_200, true);
	json_hist(f, "bye_to_200", &s->h_bye, true);
	json_hist(f, "register_to_200", &s->h_reg, false);
	fputs("},\"cdf_invite_to_200_us\":", f);
	json_cdf(f, &s->h_200);
	fprintf(f, ",\"gen_cpu_s\":%.4f,\"gen_busy_s\":%.4f,\"gen_cpu_us_per_call\":%.3f,"
		   "\"generator_limited\":%s,",
		r->cpu_s, r->busy_s, per_call_us(r), r->gen_limited ? "true" : "false");
	fprintf(f, "\"msgs_in\":%llu,\"msgs_out\":%llu,\"rx_bad\":%llu,\"rx_stale\":%llu,\"tx_drop\":%llu",
		(unsigned long long)s->msgs_in, (unsigned long long)s->msgs_out,
		(unsigned long long)s->rx_bad, (unsigned long long)s->rx_stale,
		(unsigned long long)s->tx_drop);
}

static void text_hist(FILE *f, const char *name, const struct gen_hist *h)
{
	if (!h->count)
		return;
	fprintf(f, "  %-16s n=%-9llu p50 %8.1f  p90 %8.1f  p99 %8.1f  max %9.1f us\n", name,
		(unsigned long long)h->count, us(gen_hist_percentile(h, 50)), us(gen_hist_percentile(h, 90)),
		us(gen_hist_percentile(h, 99)), us(h->max));
}

static void text_result(FILE *f, const struct gen_result *r)
{
	const struct gen_stats *s = &r->st;
	fprintf(f, "offered %.1f calls/s, achieved %.1f calls/s over %.2f s%s\n", r->offered_cps,
		r->achieved_cps, r->measured_s, r->gen_limited ? " (GENERATOR FELL BEHIND)" : "");
	fprintf(f, "calls: attempted %llu ok %llu failed %llu blocked %llu (%.3f%% failed)\n",
		(unsigned long long)s->calls_attempted, (unsigned long long)s->calls_ok,
		(unsigned long long)s->calls_failed, (unsigned long long)s->calls_blocked, gen_fail_pct(r));
	if (r->offered_rps > 0)
		fprintf(f, "registers: offered %.1f/s attempted %llu ok %llu failed %llu\n", r->offered_rps,
			(unsigned long long)s->regs_attempted, (unsigned long long)s->regs_ok,
			(unsigned long long)s->regs_failed);
	fprintf(f, "retransmissions: %llu (uac %llu, uas %llu)\n",
		(unsigned long long)(s->retx_uac + s->retx_uas), (unsigned long long)s->retx_uac,
		(unsigned long long)s->retx_uas);
	for (int i = 0; i < GEN_FAIL__COUNT; i++)
		if (s->fail[i])
			fprintf(f, "  failed: %-18s %llu\n", gen_fail_name((enum gen_fail)i),
				(unsigned long long)s->fail[i]);
	text_hist(f, "INVITE->180", &s->h_180);
	text_hist(f, "INVITE->200", &s->h_200);
	text_hist(f, "BYE->200", &s->h_bye);
	text_hist(f, "REGISTER->200", &s->h_reg);
	fprintf(f, "generator CPU %.3f s, busy %.3f s (%.2f us per completed call/registration)\n",
		r->cpu_s, r->busy_s, per_call_us(r));
}

void gen_report(const struct gen_conf *conf, const struct gen_result *res, const struct gen_ramp *ramp)
{
	char proxy[32];
	gen_addr_format(&conf->proxy, proxy, sizeof(proxy));
	busy_based = conf->mode != GEN_MODE_KERNEL;
	if (!conf->json) {
		if (ramp) {
			for (int i = 0; i < ramp->nsteps; i++)
				printf("step %2d: offered %9.1f/s achieved %9.1f/s failed %7.3f%% %s\n", i + 1,
				       ramp->steps[i].offered_cps, ramp->steps[i].res.achieved_cps,
				       gen_fail_pct(&ramp->steps[i].res), ramp->steps[i].pass ? "pass" : "FAIL");
			printf("max: %.1f calls/s with <= %.3f%% failed\n", ramp->max_cps, conf->max_fail_pct);
		}
		if (res)
			text_result(stdout, res);
		return;
	}
	printf("{\"tool\":\"sipline-gen\",\"mode\":\"%s\",\"proxy\":\"%s\",\"hold_ms\":%u,\"t1_ms\":%u,"
	       "\"max_fail_pct\":%g,\"warmup_s\":%g,",
	       conf->mode == GEN_MODE_DPDK ? "dpdk" : conf->mode == GEN_MODE_NULL ? "null" : "kernel", proxy,
	       conf->hold_ms, conf->t1_ms,
	       conf->max_fail_pct, conf->warmup_s);
	if (ramp) {
		printf("\"max_cps\":%.1f,\"ramp\":{\"max_cps\":%.1f,\"steps\":[", ramp->max_cps, ramp->max_cps);
		for (int i = 0; i < ramp->nsteps; i++) {
			const struct gen_result *r = &ramp->steps[i].res;
			printf("{\"offered_cps\":%.1f,\"offered_rps\":%.1f,\"achieved_cps\":%.1f,\"failed_pct\":%.4f,"
			       "\"pass\":%s,\"generator_limited\":%s,\"p99_invite_to_200_us\":%.1f,"
			       "\"gen_cpu_us_per_call\":%.3f,\"retransmissions\":%llu}%s",
			       r->offered_cps, r->offered_rps, r->achieved_cps, gen_fail_pct(r),
			       ramp->steps[i].pass ? "true" : "false", r->gen_limited ? "true" : "false",
			       us(gen_hist_percentile(&r->st.h_200, 99)), per_call_us(r),
			       (unsigned long long)(r->st.retx_uac + r->st.retx_uas),
			       i + 1 < ramp->nsteps ? "," : "");
		}
		printf("]},");
	}
	if (res)
		json_result(stdout, res);
	else
		printf("\"no_passing_step\":true");
	printf("}\n");
	fflush(stdout);
}
