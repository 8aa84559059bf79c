/* SPDX-License-Identifier: BSD-3-Clause */
#include "gen_hist.h"

#include <string.h>

void gen_hist_reset(struct gen_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void gen_hist_add(struct gen_hist *acc, const struct gen_hist *h)
{
	if (h->count == 0)
		return;
	for (unsigned i = 0; i < GEN_HIST_BUCKETS; i++)
		acc->n[i] += h->n[i];
	if (acc->count == 0 || h->min < acc->min)
		acc->min = h->min;
	if (h->max > acc->max)
		acc->max = h->max;
	acc->count += h->count;
	acc->sum += h->sum;
}

uint64_t gen_hist_bucket_low(unsigned i)
{
	if (i < 2 * GEN_HIST_SUB)
		return i;
	unsigned shift = i / GEN_HIST_SUB - 1;
	uint64_t top = i - shift * GEN_HIST_SUB;  /* in [SUB, 2*SUB) */
	return top << shift;
}

uint64_t gen_hist_bucket_high(unsigned i)
{
	if (i < 2 * GEN_HIST_SUB)
		return i;
	unsigned shift = i / GEN_HIST_SUB - 1;
	return gen_hist_bucket_low(i) + (1ull << shift) - 1;
}

uint64_t gen_hist_percentile(const struct gen_hist *h, double p)
{
	if (h->count == 0)
		return 0;
	if (p >= 100.0)
		return h->max;
	uint64_t want = (uint64_t)((p / 100.0) * (double)h->count + 0.5);
	if (want < 1)
		want = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < GEN_HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen >= want) {
			uint64_t v = gen_hist_bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}
