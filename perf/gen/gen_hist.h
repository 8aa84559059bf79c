/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Latency histogram in the HdrHistogram style: a fixed array of counters,
 * 64 linear sub-buckets per power of two, so a value is placed in O(1)
 * (one count-leading-zeros) with at most 1/64 (1.6 %) relative error and
 * percentiles are a walk over the array. Values are nanoseconds; anything
 * above GEN_HIST_MAX_NS lands in the last bucket (max is kept exactly).
 */
#ifndef SPL_GEN_HIST_H
#define SPL_GEN_HIST_H

#include <stdint.h>

#define GEN_HIST_SUB_BITS 6
#define GEN_HIST_SUB (1u << GEN_HIST_SUB_BITS)
#define GEN_HIST_MAX_BIT 40                        /* 2^40 ns ~ 18 minutes */
#define GEN_HIST_MAX_NS ((1ull << GEN_HIST_MAX_BIT) - 1)
#define GEN_HIST_BUCKETS ((GEN_HIST_MAX_BIT - GEN_HIST_SUB_BITS) * GEN_HIST_SUB + GEN_HIST_SUB)

struct gen_hist {
	uint64_t count;
	uint64_t max;
	uint64_t min;
	uint64_t sum;
	uint64_t n[GEN_HIST_BUCKETS];
};

static inline unsigned gen_hist_index(uint64_t v)
{
	if (v > GEN_HIST_MAX_NS)
		v = GEN_HIST_MAX_NS;
	if (v < GEN_HIST_SUB)
		return (unsigned)v;
	unsigned m = 63u - (unsigned)__builtin_clzll(v);      /* >= SUB_BITS */
	unsigned shift = m - GEN_HIST_SUB_BITS;
	return shift * GEN_HIST_SUB + (unsigned)(v >> shift);
}

static inline void gen_hist_record(struct gen_hist *h, uint64_t v)
{
	h->n[gen_hist_index(v)]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
}

void gen_hist_reset(struct gen_hist *h);
void gen_hist_add(struct gen_hist *acc, const struct gen_hist *h);
/* Highest value equivalent to the bucket holding percentile p (0..100);
 * 0 when empty. Never more than max. */
uint64_t gen_hist_percentile(const struct gen_hist *h, double p);
/* Lowest and highest value of bucket i. */
uint64_t gen_hist_bucket_low(unsigned i);
uint64_t gen_hist_bucket_high(unsigned i);

#endif
