/* SPDX-License-Identifier: BSD-3-Clause */
#include "bench_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median_ns(bench_fn fn, void *arg, uint64_t iters, int reps)
{
	double samples[64];
	if (reps < 1) reps = 1;
	if (reps > 64) reps = 64;
	if (iters == 0) iters = 1;
	fn(arg, iters);  /* warm caches and branch predictors */
	for (int r = 0; r < reps; r++) {
		uint64_t t0 = bench_now_ns();
		fn(arg, iters);
		uint64_t t1 = bench_now_ns();
		samples[r] = (double)(t1 - t0) / (double)iters;
	}
	qsort(samples, (size_t)reps, sizeof(samples[0]), cmp_double);
	return reps % 2 ? samples[reps / 2] : (samples[reps / 2 - 1] + samples[reps / 2]) / 2.0;
}

bool bench_has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], flag) == 0)
			return true;
	return false;
}
