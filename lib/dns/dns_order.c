/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 2782 target selection, shared by the resolver's cache and the
 * shards' published table (spl_dns_pub_lookup): priority groups in order,
 * inside a group the weighted draw, redone on every read so that load
 * spreads by weight across requests, not across TTL periods.
 *
 * The draw is the RFC's: weight-0 targets first, r uniform in [0, sum of
 * weights], take the first target whose running sum reaches r, repeat
 * without it. One departure: while a group has no weight-0 target left, r
 * is drawn in [1, sum]. Taken literally, r = 0 then picks the first target
 * listed, which gets 1/(sum+1) more than its weight (weights 1:1 would go
 * 2:1, and the proportions would depend on the order the server listed
 * them in). With a weight-0 target present, r = 0 is exactly the RFC's
 * "very small chance" for it, and stays.
 */
#include "dns_priv.h"

/* xorshift64* (Vigna): three shifts and a multiply; the high bits are the
 * good ones. */
static inline uint32_t rng32(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

unsigned dns_order(const struct spl_dns_target *t, unsigned nt, uint64_t *rng, uint8_t *perm,
		   unsigned enough)
{
	if (*rng == 0)
		*rng = 0x9e3779b97f4a7c15ull;   /* xorshift stays at 0 forever */
	unsigned np = 0, have = 0;
	for (unsigned g = 0; g < nt && have < enough;) {
		unsigned end = g + 1;
		while (end < nt && t[end].rank == t[g].rank && t[end].prio == t[g].prio)
			end++;
		if (end - g == 1) {   /* the common case: one target per priority */
			perm[np++] = (uint8_t)g;
			have += t[g].n;
			g = end;
			continue;
		}
		uint8_t idx[SPL_DNS_MAX_TARGETS];
		unsigned k = 0, zeros;
		uint32_t sum = 0;
		for (unsigned i = g; i < end; i++)
			if (t[i].weight == 0)
				idx[k++] = (uint8_t)i;
		zeros = k;
		for (unsigned i = g; i < end; i++)
			if (t[i].weight != 0) {
				idx[k++] = (uint8_t)i;
				sum += t[i].weight;
			}
		while (k > 0 && have < enough) {
			unsigned pick = 0;
			if (k > 1 && sum > 0) {
				uint32_t lo = zeros ? 0 : 1;
				/* [lo, sum] by multiply-shift: sum < 2^21, no division */
				uint32_t r = lo + (uint32_t)(((uint64_t)rng32(rng) * (sum + 1 - lo)) >> 32);
				uint32_t run = t[idx[0]].weight;
				while (run < r)   /* ends: the last running sum is sum >= r */
					run += t[idx[++pick]].weight;
			}
			const struct spl_dns_target *x = &t[idx[pick]];
			perm[np++] = idx[pick];
			have += x->n;
			sum -= x->weight;
			if (x->weight == 0)
				zeros--;
			for (unsigned i = pick; i + 1 < k; i++)
				idx[i] = idx[i + 1];
			k--;
		}
		g = end;
	}
	return np;
}

unsigned dns_answer_order(const struct dns_answer *a, uint64_t *rng, struct spl_txn_peer *out,
			  unsigned max, struct spl_dns_target *tout, unsigned *ntout)
{
	uint8_t perm[SPL_DNS_MAX_TARGETS];
	unsigned k = dns_order(a->t, a->ntargets, rng, perm, max);
	unsigned n = 0, nt = 0;
	for (unsigned i = 0; i < k && n < max; i++) {
		const struct spl_dns_target *x = &a->t[perm[i]];
		unsigned first = n;
		for (unsigned c = 0; c < x->n && n < max; c++)
			out[n++] = a->recs[x->first + c];
		if (tout) {
			tout[nt] = *x;
			tout[nt].first = (uint8_t)first;
			tout[nt].n = (uint8_t)(n - first);
		}
		nt++;
	}
	if (ntout)
		*ntout = nt;
	return n;
}
