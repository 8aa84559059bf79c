/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --ramp: the highest offered rate at which at most max_fail_pct of the
 * calls fail. Rates grow geometrically (x ramp_factor) from --rate until a
 * step fails, then bisection narrows the gap between the last passing and
 * the first failing rate to ramp_precision. Each step is a bounded run
 * (warm-up + duration + drain), followed by a pause in which late
 * messages of the step are still answered. Calls and REGISTERs scale by
 * the same factor, so a REGISTER-only ramp works the same way.
 */
#include <stdio.h>

#include "gen.h"

bool gen_step_pass(const struct gen *g, const struct gen_result *res)
{
	uint64_t attempted = res->offered_cps > 0 ? res->st.calls_attempted : res->st.regs_attempted;
	return attempted > 0 && !res->gen_limited && gen_fail_pct(res) <= g->conf->max_fail_pct;
}

static bool step(struct gen *g, struct gen_ramp *r, double k)
{
	const struct gen_conf *cf = g->conf;
	struct gen_ramp_step *s = &r->steps[r->nsteps];
	s->offered_cps = cf->rate * k;
	if (!cf->quiet)
		fprintf(stderr, "[gen] ramp step %d: %.0f calls/s, %.0f REGISTERs/s\n", r->nsteps + 1,
			cf->rate * k, cf->reg_rate * k);
	gen_run(g, cf->rate * k, cf->reg_rate * k, &s->res);
	s->pass = gen_step_pass(g, &s->res);
	if (!cf->quiet)
		fprintf(stderr, "[gen] ramp step %d: %s (failed %.3f%%%s)\n", r->nsteps + 1,
			s->pass ? "pass" : "FAIL", gen_fail_pct(&s->res),
			s->res.gen_limited ? ", generator fell behind" : "");
	if (s->pass)
		r->best = r->nsteps;
	r->nsteps++;
	/* A failed step leaves the proxy with state it keeps for a while
	 * (transactions linger up to 64*T1): the next step waits it out. */
	double pause = !s->pass && cf->ramp_settle_s >= 0 ? cf->ramp_settle_s : cf->ramp_pause_s;
	if (pause > 0 && !gen_interrupted)
		gen_idle(g, pause);
	return s->pass;
}

void gen_ramp_run(struct gen *g, struct gen_ramp *r)
{
	const struct gen_conf *cf = g->conf;
	int max_steps = cf->ramp_steps < GEN_RAMP_MAX_STEPS ? cf->ramp_steps : GEN_RAMP_MAX_STEPS;
	double base = cf->rate > 0 ? cf->rate : cf->reg_rate;
	double kmax = cf->ramp_max > 0 ? cf->ramp_max / base : 1e9;
	double good = 0, bad = 0, k = 1.0;
	r->nsteps = 0;
	r->best = -1;

	/* Up until something fails (or the ceiling passes). */
	while (r->nsteps < max_steps && !gen_interrupted) {
		if (step(g, r, k)) {
			good = k;
			if (k >= kmax)
				break;
			k = k * cf->ramp_factor < kmax ? k * cf->ramp_factor : kmax;
		} else {
			bad = k;
			break;
		}
	}
	/* The starting rate already failed: come down. */
	while (good == 0 && bad > 0 && r->nsteps < max_steps && !gen_interrupted && base * bad / cf->ramp_factor >= 1.0) {
		k = bad / cf->ramp_factor;
		if (step(g, r, k))
			good = k;
		else
			bad = k;
	}
	/* Bisect between the last pass and the first failure. */
	while (good > 0 && bad > 0 && (bad - good) > good * cf->ramp_precision && r->nsteps < max_steps &&
	       !gen_interrupted) {
		k = (good + bad) / 2;
		if (step(g, r, k))
			good = k;
		else
			bad = k;
	}
	r->max_cps = good * cf->rate;
}
