/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data path's shard key: computed by the receiving worker before any
 * full parse, so it must stay cheap (target ≤ 50 ns). It reads the start
 * line's first bytes, walks header lines 16 bytes at a time until the top
 * Via and picks the branch with a direct scan for ';' and ','; only
 * unusual layouts (folded top Via, LWS around '=') fall back to the full
 * via-parm grammar.
 *
 * Our own branches carry shard, slot and generation in fixed-width hex, so
 * a response finds its shard (and the transaction layer its slot) by
 * decoding, not by a lookup (CRAFT: "put ownership into what you emit").
 */
#include "sipmsg_priv.h"

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

/* CRC32C where the CPU has it (x86-64-v2 does), FNV-1a otherwise. The
 * value only has to be stable within one process. */
static uint32_t key_hash(const char *p, uint32_t len, uint32_t seed)
{
#if defined(__SSE4_2__)
	uint64_t h = seed;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = _mm_crc32_u64(h, w);
		p += 8;
		len -= 8;
	}
	uint32_t h32 = (uint32_t)h;
	while (len--)
		h32 = _mm_crc32_u8(h32, (unsigned char)*p++);
	/* CRC is linear: fold once more so close inputs spread over shards. */
	return h32 ^ (h32 >> 15) ^ (h32 << 7);
#else
	uint32_t h = 2166136261u ^ seed;
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
#endif
}

static const char hexdig[] = "0123456789abcdef";

void spl_sipmsg_branch_encode(char *out, uint8_t shard, uint32_t slot, uint16_t gen)
{
	memcpy(out, SPL_SIPMSG_BRANCH_MAGIC SPL_SIPMSG_BRANCH_TAG, 10);
	out[10] = hexdig[shard >> 4];
	out[11] = hexdig[shard & 15];
	for (int i = 0; i < 8; i++)
		out[12 + i] = hexdig[(slot >> (28 - 4 * i)) & 15];
	for (int i = 0; i < 4; i++)
		out[20 + i] = hexdig[(gen >> (12 - 4 * i)) & 15];
}

static bool hex_field(const char *p, int n, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < n; i++) {
		int d = sip_hexval(p[i]);
		/* We emit lowercase only; anything else is not ours. */
		if (d < 0 || (p[i] >= 'A' && p[i] <= 'F'))
			return false;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return true;
}

bool spl_sipmsg_branch_decode(struct spl_str b, uint8_t *shard, uint32_t *slot, uint16_t *gen)
{
	uint32_t s, sl, g;
	if (b.len < SPL_SIPMSG_BRANCH_LEN ||
	    memcmp(b.p, SPL_SIPMSG_BRANCH_MAGIC SPL_SIPMSG_BRANCH_TAG, 10) != 0)
		return false;
	/* Anything after the fixed part must be the loop-detection suffix. */
	if (b.len > SPL_SIPMSG_BRANCH_LEN && b.p[SPL_SIPMSG_BRANCH_LEN] != '.')
		return false;
	if (!hex_field(b.p + 10, 2, &s) || !hex_field(b.p + 12, 8, &sl) || !hex_field(b.p + 20, 4, &g))
		return false;
	*shard = (uint8_t)s;
	*slot = sl;
	*gen = (uint16_t)g;
	return true;
}

/* Is [p, ce) a header line named Via/v (any case)? Returns the value start. */
static const char *via_value(const char *p, const char *ce)
{
	const char *n = p;
	if (n < ce && (*n == 'v' || *n == 'V')) {
		n++;
		if (ce - n >= 2 && (n[0] | 0x20) == 'i' && (n[1] | 0x20) == 'a')
			n += 2;
		while (n < ce && sip_is_ws(*n))
			n++;
		if (n < ce && *n == ':')
			return n + 1;
	}
	return NULL;
}

static const char *callid_value(const char *p, const char *ce)
{
	const char *n = p;
	if (n < ce && (*n == 'i' || *n == 'I'))
		n++;
	else if (ce - n >= 7 && SIP_IEQ(n, 7, "call-id"))
		n += 7;
	else
		return NULL;
	while (n < ce && sip_is_ws(*n))
		n++;
	return (n < ce && *n == ':') ? n + 1 : NULL;
}

/* Branch within the first via-parm of [v, ve): direct scan for
 * ";branch=". Returns 1 found, 0 absent, -1 when the layout needs the
 * full grammar (LWS around '=' or ';'). */
/* First ';' or ',' in [p, end), or end; 16-byte loads from lim on. */
static inline const char *semi_or_comma(const char *p, const char *end, const char *lim)
{
#if defined(__SSE2__)
	const __m128i semi = _mm_set1_epi8(';'), comma = _mm_set1_epi8(',');
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(v, semi), _mm_cmpeq_epi8(v, comma)));
		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
	if (p < end && end - lim >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(end - 16));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(v, semi), _mm_cmpeq_epi8(v, comma)));
		m >>= 16 - (unsigned)(end - p);
		return m ? p + __builtin_ctz(m) : end;
	}
#else
	(void)lim;
#endif
	while (p < end && *p != ';' && *p != ',')
		p++;
	return p;
}

static int quick_branch(const char *v, const char *ve, const char *lim, struct spl_str *br)
{
	for (const char *p = v; (p = semi_or_comma(p, ve, lim)) < ve; p++) {
		if (*p == ',')
			return 0;
		const char *q = p + 1;
		if (q < ve && sip_is_ws(*q))
			return -1;
		if (ve - q >= 7 && SIP_IEQ(q, 6, "branch") && q[6] == '=') {
			const char *b = q + 7, *e = sip_span(b, ve, lim, &sip_nib_token);
			if (e == b || (e < ve && *e != ';' && *e != ',' && !sip_is_ws(*e)))
				return -1;
			*br = sip_str(b, e);
			return 1;
		}
		if (ve - q >= 6 && SIP_IEQ(q, 6, "branch"))
			return -1;  /* "branch =" */
	}
	return 0;
}

int spl_sipmsg_shard_key(const char *buf, uint32_t len, struct spl_sipmsg_key *k)
{
	const char *p = buf, *end = buf + len;
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	k->hash = 0;
	k->shard = -1;
	k->magic = false;
	k->response = (end - p >= 4 && SIP_IEQ(p, 4, "sip/"));

	const char *nl = sip_find_nl(p, end, buf);
	if (!nl)
		return -1;
	p = nl + 1;

	struct spl_str branch = SPL_STR_NULL, callid = SPL_STR_NULL;
	bool via_seen = false;
	while (p < end) {
		nl = sip_find_nl(p, end, buf);
		const char *next = nl ? nl + 1 : end;
		const char *ce = (nl && nl > p && nl[-1] == '\r') ? nl - 1 : (nl ? nl : end);
		if (ce == p)
			break;  /* end of headers */
		const char *v;
		if (!via_seen && (v = via_value(p, ce)) != NULL) {
			via_seen = true;
			/* Extend over folded continuation lines. */
			const char *ve = ce, *q = next;
			bool folded = false;
			while (q < end && sip_is_ws(*q)) {
				const char *n2 = sip_find_nl(q, end, buf);
				ve = n2 ? ((n2 > q && n2[-1] == '\r') ? n2 - 1 : n2) : end;
				q = n2 ? n2 + 1 : end;
				folded = true;
			}
			int rc = folded ? -1 : quick_branch(v, ve, buf, &branch);
			if (rc < 0) {
				struct spl_sip_via via;
				struct spl_str rest = sip_str(v, ve);
				if (spl_sip_via_next(&rest, &via) != 1)
					return -1;
				branch = via.branch;
			}
			next = q;
			if (branch.p && branch.len > 7 && memcmp(branch.p, SPL_SIPMSG_BRANCH_MAGIC, 7) == 0)
				break;  /* RFC 3261 branch: nothing else needed */
		} else if (!callid.p && (v = callid_value(p, ce)) != NULL) {
			/* trim from the skipped start: a blank value must give an
			 * empty slice, not one that runs backwards */
			const char *cs = sip_skip_lws(v, ce);
			callid = sip_str(cs, sip_rtrim_lws(cs, ce));
		}
		p = next;
	}
	if (!via_seen)
		return -1;

	if (branch.p && branch.len > 7 && memcmp(branch.p, SPL_SIPMSG_BRANCH_MAGIC, 7) == 0) {
		uint8_t shard;
		uint32_t slot;
		uint16_t gen;
		k->magic = true;
		if (spl_sipmsg_branch_decode(branch, &shard, &slot, &gen))
			k->shard = (int16_t)shard;
		k->hash = key_hash(branch.p, branch.len, 0);
		return 0;
	}
	/* RFC 2543 peer: INVITE, its ACK and CANCEL share the Call-ID, which
	 * is the one §17.2.3 field that all of them carry unchanged. */
	if (!callid.p || callid.len == 0)
		return -1;
	k->hash = key_hash(callid.p, callid.len, 0x2543);
	return 0;
}
