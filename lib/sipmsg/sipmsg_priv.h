/* SPDX-License-Identifier: BSD-3-Clause */
/* Private helpers shared by the lib/sipmsg grammars. */
#ifndef SIPMSG_PRIV_H
#define SIPMSG_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "spl_sipmsg.h"

#define SPL_LIKELY(x) __builtin_expect(!!(x), 1)
#define SPL_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Character classes of the RFC 3261 §25.1 ABNF, one bit each, looked up
 * in a 256-entry table (sipmsg_tables.c) so the hot loops do one load. */
enum {
	SIP_C_TOKEN      = 1u << 0,  /* token: alphanum / "-.!%*_+`'~" */
	SIP_C_WS         = 1u << 1,  /* SP / HTAB */
	SIP_C_DIGIT      = 1u << 2,
	SIP_C_ALPHA      = 1u << 3,
	SIP_C_HEX        = 1u << 4,
	SIP_C_UNRESERVED = 1u << 5,  /* alphanum / mark */
	SIP_C_USER_UNR   = 1u << 6,  /* user-unreserved "&=+$,;?/" */
	SIP_C_PARAM_UNR  = 1u << 7,  /* param-unreserved "[]/:&+$" */
	SIP_C_HNV_UNR    = 1u << 8,  /* hnv-unreserved "[]/?:+$" */
	SIP_C_PASSWD     = 1u << 9,  /* "&=+$," */
	SIP_C_HOST       = 1u << 10, /* alphanum / "-." (hostname chars) */
	SIP_C_WORD       = 1u << 11, /* word (Call-ID): token chars plus "()<>:\\\"/[]?{}" */
	SIP_C_RESERVED   = 1u << 12, /* ";/?:@&=+$," */
	SIP_C_UTF8       = 1u << 13, /* 0x80..0xFF */
	SIP_C_CTL        = 1u << 14, /* 0x00..0x1F, 0x7F */
};
extern const uint16_t spl_sip_cclass[256];

static inline bool sip_is(unsigned char c, uint16_t cls) { return (spl_sip_cclass[c] & cls) != 0; }
static inline bool sip_is_ws(char c) { return c == ' ' || c == '\t'; }
static inline bool sip_is_digit(char c) { return (unsigned)(c - '0') < 10u; }
static inline char sip_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }
static inline int sip_hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	c = sip_lower(c);
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

/*
 * LWS = [*WSP (CRLF / LF)] 1*WSP. Header values handed to the grammars may
 * contain folded line breaks; these skip SP/HTAB and any CR/LF that is
 * followed by whitespace (a fold). They never step past `end`.
 */
static inline const char *sip_skip_lws(const char *p, const char *end)
{
	while (p < end) {
		if (sip_is_ws(*p)) { p++; continue; }
		if (*p == '\r' && p + 1 < end && p[1] == '\n' && p + 2 < end && sip_is_ws(p[2])) { p += 3; continue; }
		if (*p == '\n' && p + 1 < end && sip_is_ws(p[1])) { p += 2; continue; }
		break;
	}
	return p;
}
/* Trim LWS (incl. folds) from the end of [p, end). */
static inline const char *sip_rtrim_lws(const char *p, const char *end)
{
	while (end > p && (sip_is_ws(end[-1]) || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	return end;
}

static inline struct spl_str sip_str(const char *b, const char *e)
{
	return (struct spl_str){ b, (uint32_t)(e - b) };
}

/* Case-insensitive compare of a slice against a lowercase literal. */
static inline bool sip_ieq_lit(const char *p, uint32_t len, const char *lit, uint32_t litlen)
{
	if (len != litlen) return false;
	for (uint32_t i = 0; i < len; i++)
		if (sip_lower(p[i]) != lit[i]) return false;
	return true;
}
#define SIP_IEQ(p, len, lit) sip_ieq_lit((p), (len), (lit), sizeof(lit) - 1)

/* True when every byte of s is in class cls (and s is non-empty). */
static inline bool sip_all(struct spl_str s, uint16_t cls)
{
	if (s.len == 0) return false;
	for (uint32_t i = 0; i < s.len; i++)
		if (!sip_is((unsigned char)s.p[i], cls)) return false;
	return true;
}

/*
 * Byte sets for the hot scans, as nibble tables: a byte c is in the set
 * when lo[c & 15] & hi[c >> 4] is non-zero. Bits 0..5 stand for the high
 * nibbles 2..7 (printable ASCII), bit 6 for 8..15 (UTF-8 octets, all in
 * or all out) and bit 7 for 0 (HTAB is the only CTL any set holds), so
 * any set of printable ASCII is exact. With SSSE3 (x86-64-v2) one
 * PSHUFB pair classifies 16 bytes; one byte at a time, sip_set8[] (built
 * from the same ABNF predicates, one bit per set) answers.
 */
struct sip_nib {
	uint8_t lo[16];
	uint8_t hi[16];
	uint8_t set;          /* this set's bit in sip_set8[] */
} __attribute__((aligned(16)));

/* Library-internal symbols: hidden, their contracts may change. */
#define SIP_PRIV __attribute__((visibility("hidden")))

/* The same sets one byte at a time: bit `set` of sip_set8[c]. */
SIP_PRIV extern const uint8_t sip_set8[256];

SIP_PRIV extern const struct sip_nib sip_nib_token;   /* token */
SIP_PRIV extern const struct sip_nib sip_nib_host;    /* alphanum / "-" / "." */
SIP_PRIV extern const struct sip_nib sip_nib_user;    /* unreserved / "&=+$," (user, no escapes) */
SIP_PRIV extern const struct sip_nib sip_nib_uparam;  /* unreserved / param-unreserved, no escapes */
SIP_PRIV extern const struct sip_nib sip_nib_uvalue;  /* the same plus "=" */
SIP_PRIV extern const struct sip_nib sip_nib_pvalue;  /* a bare header-param value: paramchar / "=" */
SIP_PRIV extern const struct sip_nib sip_nib_word;    /* Call-ID word */
SIP_PRIV extern const struct sip_nib sip_nib_qdtext;  /* quoted-string bytes that need no attention */
/* Not a set but a classifier (SSSE3 only): lo[c & 15] & hi[c >> 4] is the
 * kinds of byte c, bit 0 digit, 1 '.', 2 '-', 3..6 letters, 7 '@'. */
SIP_PRIV extern const struct sip_nib sip_nib_hostkind;

static inline bool sip_nib_has(const struct sip_nib *t, unsigned char c)
{
	return (sip_set8[c] & t->set) != 0;
}

#if defined(__SSSE3__)
#include <tmmintrin.h>
#define SIP_SIMD 1

static inline unsigned sip_nib_miss16(__m128i v, __m128i lo, __m128i hi)
{
	const __m128i m = _mm_set1_epi8(0x0f);
	__m128i l = _mm_shuffle_epi8(lo, _mm_and_si128(v, m));
	__m128i h = _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi16(v, 4), m));
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(l, h), _mm_setzero_si128()));
}
#endif

/*
 * First byte at or after p that is not in set t, or end. Loads are 16
 * bytes wide only where 16 bytes lie inside [lim, end): lim is the start
 * of the slice the caller was given, so nothing outside it is read (the
 * guard-page tests put `end` right before a PROT_NONE page). A short tail
 * is read as the last 16 bytes of the slice when the slice is that long.
 */
static inline const char *sip_span(const char *p, const char *end, const char *lim,
				   const struct sip_nib *t)
{
#ifdef SIP_SIMD
	const __m128i lo = _mm_load_si128((const __m128i *)t->lo);
	const __m128i hi = _mm_load_si128((const __m128i *)t->hi);
	while (end - p >= 16) {
		unsigned miss = sip_nib_miss16(_mm_loadu_si128((const __m128i *)p), lo, hi);
		if (miss)
			return p + __builtin_ctz(miss);
		p += 16;
	}
	if (p < end && end - lim >= 16) {
		unsigned miss = sip_nib_miss16(_mm_loadu_si128((const __m128i *)(end - 16)), lo, hi);
		miss >>= 16 - (unsigned)(end - p);
		return miss ? p + __builtin_ctz(miss) : end;
	}
#else
	(void)lim;
#endif
	while (p < end && sip_nib_has(t, (unsigned char)*p))
		p++;
	return p;
}

/*
 * Zero a result struct (n constant, <= 512) with straight 16-byte stores:
 * GCC turns memset() of a few hundred bytes into REP STOSQ, whose start-up
 * costs more than the stores for the structs a fast path fills.
 */
#if defined(__SSE2__)
#define SIP_Z1(c, n, k) do { if ((k) * 16 + 16 <= (n)) _mm_storeu_si128((__m128i *)((c) + (k) * 16), z); } while (0)
#define SIP_Z4(c, n, k) SIP_Z1(c, n, k); SIP_Z1(c, n, (k) + 1); SIP_Z1(c, n, (k) + 2); SIP_Z1(c, n, (k) + 3)
#define SIP_Z16(c, n, k) SIP_Z4(c, n, k); SIP_Z4(c, n, (k) + 4); SIP_Z4(c, n, (k) + 8); SIP_Z4(c, n, (k) + 12)
static inline __attribute__((always_inline)) void sip_zero(void *p, size_t n)
{
	char *c = p;
	const __m128i z = _mm_setzero_si128();
	SIP_Z16(c, n, 0);
	SIP_Z16(c, n, 16);
	if (n % 16)
		memset(c + n - n % 16, 0, n % 16);
}
#define SIP_ZERO(x) do { _Static_assert(sizeof(*(x)) <= 512, "sip_zero: too big"); sip_zero((x), sizeof(*(x))); } while (0)
#else
#define SIP_ZERO(x) memset((x), 0, sizeof(*(x)))
#endif

/* First '\n' in [p, end) or NULL; same load rule as sip_span(). */
static inline const char *sip_find_nl(const char *p, const char *end, const char *lim)
{
#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n');
	while (end - p >= 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), nl));
		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
	if (p < end && end - lim >= 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(end - 16)), nl));
		m >>= 16 - (unsigned)(end - p);
		return m ? p + __builtin_ctz(m) : NULL;
	}
#else
	(void)lim;
#endif
	return p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
}

/*
 * Shared grammar pieces (defined in sip_host.c, sip_param.c and the other
 * grammar files).
 */
/* Exactly [p, end) as dotted-quad IPv4 (each part 1-3 digits, <= 255). */
SIP_PRIV int spl_sip_ip4_parse(const char *p, const char *end, uint8_t out[4]);
/* hostname = *( domainlabel "." ) toplabel [ "." ], exactly [p, end). */
SIP_PRIV int spl_sip_hostname_check(const char *p, const char *end);
/* The run of host characters at p and whether it is a valid host (then *h
 * is what spl_sip_host_parse() gives for it). Returns the run's end. */
SIP_PRIV const char *sip_host_run(const char *p, const char *end, const char *lim,
				  struct spl_sip_host *h, bool *ok);
/* The one-pass URI reader (sip_uri_fast(), at the end of this file):
 * where the URI may end. */
enum { SIP_URI_PLAIN, SIP_URI_ANGLE, SIP_URI_ADDRSPEC };
/* spl_sip_nameaddr_next() where 16-byte loads may start at lim (<= rest->p):
 * for values inside a scanned message, whose buffer is readable. */
SIP_PRIV int sip_nameaddr_next_in(struct spl_str *rest, struct spl_sip_nameaddr *na,
				  const char *lim);
/* The same for spl_sip_via_next(). */
SIP_PRIV int sip_via_next_in(struct spl_str *rest, struct spl_sip_via *v, const char *lim);
/* The same for spl_sip_uri_parse(). */
SIP_PRIV int sip_uri_parse_in(const char *p, uint32_t len, struct spl_sip_uri *u, const char *lim);
/* The same for spl_sip_cseq_parse(). */
SIP_PRIV int sip_cseq_parse_in(const char *p, uint32_t len, struct spl_sip_cseq *c, const char *lim);
/* spl_sip_uri_parse() without the fast path (it zeroes *u itself). */
SIP_PRIV int sip_uri_parse_full(const char *p, uint32_t len, struct spl_sip_uri *u);
#ifdef SIP_SIMD
/*
 * The fast paths' view of a host (and of a user part before it): the
 * facts about up to 32 bytes at p as bit masks, bit i for p[i], taken from
 * two 16-byte loads. Bits at or past `end` count as misses. Needs p < end
 * and 16 readable bytes before end (end - lim >= 16).
 */
struct sip_win {
	uint64_t user;    /* not unreserved / "&=+$," */
	uint64_t host;    /* not alphanum / "-" / "." */
	uint64_t dot, dash, digit;
};

static inline void sip_win32(const char *p, const char *end, struct sip_win *w)
{
	const __m128i ulo = _mm_load_si128((const __m128i *)sip_nib_user.lo);
	const __m128i uhi = _mm_load_si128((const __m128i *)sip_nib_user.hi);
	const __m128i klo = _mm_load_si128((const __m128i *)sip_nib_hostkind.lo);
	const __m128i khi = _mm_load_si128((const __m128i *)sip_nib_hostkind.hi);
	const __m128i m0f = _mm_set1_epi8(0x0f), zero = _mm_setzero_si128();
	w->user = w->host = w->dot = w->dash = w->digit = 0;
	for (unsigned k = 0; k < 32; k += 16) {
		const char *q = p + k;
		unsigned sh = 0;
		__m128i v;
		if (q >= end)
			break;
		if (end - q >= 16) {
			v = _mm_loadu_si128((const __m128i *)q);
		} else {
			sh = 16 - (unsigned)(end - q);
			v = _mm_loadu_si128((const __m128i *)(end - 16));
		}
		const __m128i li = _mm_and_si128(v, m0f);
		const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), m0f);
		/* kinds: bit 0 digit, 1 '.', 2 '-', 3..6 letters, 7 '@' */
		const __m128i kd = _mm_and_si128(_mm_shuffle_epi8(klo, li), _mm_shuffle_epi8(khi, hi));
		const __m128i us = _mm_and_si128(_mm_shuffle_epi8(ulo, li), _mm_shuffle_epi8(uhi, hi));
		w->user |= (uint64_t)((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(us, zero)) >> sh) << k;
		w->host |= (uint64_t)((unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_and_si128(kd, _mm_set1_epi8(0x7f)), zero)) >> sh) << k;
		/* move kind bit b to the top of its byte for PMOVMSKB */
		w->digit |= (uint64_t)((unsigned)_mm_movemask_epi8(_mm_slli_epi16(kd, 7)) >> sh) << k;
		w->dot |= (uint64_t)((unsigned)_mm_movemask_epi8(_mm_slli_epi16(kd, 6)) >> sh) << k;
		w->dash |= (uint64_t)((unsigned)_mm_movemask_epi8(_mm_slli_epi16(kd, 5)) >> sh) << k;
	}
	if (end - p < 64) {
		uint64_t past = ~0ull << (end - p);
		w->user |= past;
		w->host |= past;
	}
}

/* A dotted quad in [p, p+n) (digits and dots only) given its dots. */
SIP_PRIV int sip_ip4_from_dots(const char *p, uint32_t n, uint32_t dot, uint8_t out[4]);

/*
 * Judge the host run [p, p+n) (n < 32) as spl_sip_host_parse() would,
 * from the masks of its dots, dashes and digits; fills *h the same way.
 *   - only digits and dots: a dotted quad or nothing (a hostname's top
 *     label must start with a letter): three dots, four groups of 1-3
 *     digits, each <= 255;
 *   - otherwise a hostname: an empty label is a dot at the start or two
 *     dots in a row (a single trailing dot is allowed); a label neither
 *     starts nor ends with '-'; the top label (the last non-empty one)
 *     starts with a letter.
 */
static inline bool sip_host_judge(const char *p, uint32_t n, uint32_t dot, uint32_t dash,
				  uint32_t digit, struct spl_sip_host *h)
{
	h->text = (struct spl_str){ p, n };
	h->kind = SPL_SIP_HOST_NONE;
	memset(h->ip, 0, sizeof(h->ip));
	if (n == 0)
		return false;
	uint32_t run = (1u << n) - 1;
	dot &= run;
	dash &= run;
	digit &= run;
	if ((digit | dot) == run) {
		if (sip_is_digit(*p) && sip_ip4_from_dots(p, n, dot, h->ip) == 0) {
			h->kind = SPL_SIP_HOST_IPV4;
			return true;
		}
		memset(h->ip, 0, 4);
		return false;
	}
	uint32_t last = 1u << (n - 1);
	if ((dot & 1) || (dot & (dot >> 1)) || (dash & (1 | last | (dot << 1) | (dot >> 1))))
		return false;
	uint32_t inner = dot & ~last;   /* a trailing dot ends no label */
	uint32_t top = inner ? 32 - (uint32_t)__builtin_clz(inner) : 0;
	uint32_t alpha = run & ~(dot | dash | digit);
	if (!((alpha >> top) & 1))
		return false;
	h->kind = SPL_SIP_HOST_NAME;
	return true;
}
#endif

/* Exactly [p, end) as an IPv6 address without brackets; tolerates the
 * RFC 5118 §4.10 "x:::a.b.c.d" form. */
SIP_PRIV int spl_sip_ip6_parse(const char *p, const char *end, uint8_t out[16]);
/* p points at '"': the first byte after the closing quote, or NULL when the
 * quoted-string is unterminated or holds a bare CTL (folds are allowed). */
SIP_PRIV const char *spl_sip_quoted_end(const char *p, const char *end);
/* First byte at or after p that is `stop` outside any quoted-string, or end;
 * NULL on an unterminated quote. */
SIP_PRIV const char *spl_sip_scan_to(const char *p, const char *end, char stop);

/*
 * Header-name lookup (tables in sipmsg_tables.c): the scanner inlines the
 * first probe; the rest (compact forms, long names, collisions, misses
 * that land on a used slot) is sip_hdr_lookup_slow().
 */
static inline uint64_t sip_ld8_lc(const char *p) { uint64_t w; memcpy(&w, p, 8); return w | 0x2020202020202020ull; }
static inline uint32_t sip_ld4_lc(const char *p) { uint32_t w; memcpy(&w, p, 4); return w | 0x20202020u; }
static inline uint16_t sip_ld2_lc(const char *p) { uint16_t w; memcpy(&w, p, 2); return (uint16_t)(w | 0x2020u); }

#define SIP_HDR_HASH_SIZE 256u
struct sip_hdr_key {
	uint64_t head, tail;   /* lowered first and last 8 (4, 2) bytes */
	uint32_t len;
};
SIP_PRIV extern uint8_t sip_hdr_hash[SIP_HDR_HASH_SIZE];
SIP_PRIV extern struct sip_hdr_key sip_hdr_keys[SPL_SIP_HDR__COUNT];
SIP_PRIV enum spl_sip_hdr_id sip_hdr_lookup_slow(const char *name, uint32_t len);

/* Key of a name: up to 8 bytes, lowered and zero-padded, or the first
 * and last 8 of a longer one (which cover names up to 16 bytes). */
static inline void sip_hdr_key_of(const char *n, uint32_t len, uint64_t *head, uint64_t *tail)
{
	if (len > 8) {
		*head = sip_ld8_lc(n);
		*tail = sip_ld8_lc(n + len - 8);
	} else {
		uint64_t w = 0;
		memcpy(&w, n, len);
		*head = (w | 0x2020202020202020ull) & (~0ull >> (64 - 8 * len));
		*tail = 0;
	}
}

static inline uint32_t sip_hdr_hash_of(uint64_t head, uint64_t tail, uint32_t len)
{
	return (uint32_t)((head * 0x165871a78718b3d5ull + tail * 0x2e8f5371307aaed1ull + len) >> 56);
}

/* The first probe, given the key; 0 when the slow path must decide. */
static inline unsigned sip_hdr_probe(uint64_t head, uint64_t tail, uint32_t len)
{
	unsigned id = sip_hdr_hash[sip_hdr_hash_of(head, tail, len)];
	const struct sip_hdr_key *k = &sip_hdr_keys[id];
	return (k->head == head && k->tail == tail && k->len == len) ? id : 0;
}

static inline enum spl_sip_hdr_id sip_hdr_lookup(const char *name, uint32_t len)
{
	if (SPL_LIKELY(len - 2u < 15u)) {   /* 2..16: the key covers the name */
		uint64_t head, tail;
		sip_hdr_key_of(name, len, &head, &tail);
		unsigned id = sip_hdr_probe(head, tail, len);
		if (SPL_LIKELY(id != 0))
			return (enum spl_sip_hdr_id)id;
	}
	return sip_hdr_lookup_slow(name, len);
}

/* The same for a name of 1..15 bytes with 16 readable bytes at name
 * (the scanner's case): whole 8-byte loads, no copy. */
static inline enum spl_sip_hdr_id sip_hdr_lookup16(const char *name, uint32_t len)
{
	if (SPL_LIKELY(len >= 2)) {
		uint64_t head, tail = 0;
		memcpy(&head, name, 8);
		head |= 0x2020202020202020ull;
		if (len > 8)
			tail = sip_ld8_lc(name + len - 8);
		else
			head &= ~0ull >> (64 - 8 * len);
		unsigned id = sip_hdr_probe(head, tail, len);
		if (SPL_LIKELY(id != 0))
			return (enum spl_sip_hdr_id)id;
	}
	return sip_hdr_lookup_slow(name, len);
}

/* ------------------------------------------------------------------ */
/* The one-pass SIP URI reader, inlined into its three callers (plain
 * URIs, name-addr <URI>, addr-spec), each with a constant mode. */

/*
 * The fast path: a sip:/sips: URI made of the characters nearly every URI
 * uses, read left to right in one pass with 16-byte class scans:
 *   user "@" (unreserved / "&=+$,", no escapes, no password)
 *   host (hostname or dotted quad), ":" port, ";" params (no escapes)
 * and, where it stops, one of the bytes `mode` allows to end it. For what
 * it accepts it fills *u exactly as parse_sip() does; anything else
 * (escapes, a password, IPv6, URI headers, odd parameters, any byte it
 * is not sure of) returns NULL and the caller runs the full grammar
 * (sip_uri_parse_full()) on a zeroed struct. *u must be zeroed on entry.
 * Returns where the URI stopped: the end, or '>' (ANGLE), or ';' / ','
 * (ADDRSPEC: a URI without <> holds no parameters and ends the list
 * element at ','). `lim` is the start of the caller's slice: 16-byte
 * loads stay in [lim, end).
 */
static inline bool sip_uri_stop_ok(const char *q, const char *end, int mode)
{
	if (q == end)
		return mode != SIP_URI_ANGLE;
	if (mode == SIP_URI_ANGLE)
		return *q == '>';
	if (mode == SIP_URI_ADDRSPEC)
		return *q == ';' || *q == ',';
	return false;
}

/* Lowered 4-byte literal, for the parameter names below. */
#define SIP_LC4(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

static inline __attribute__((always_inline)) const char *
sip_uri_fast(const char *p, const char *end, const char *lim, struct spl_sip_uri *u, int mode)
{
	const char *const start = p;

	if (end - p < 5)
		return NULL;
	/* "sip:" / "sips:": letters any case, the colon exact */
	if ((sip_ld4_lc(p) & 0xffffffu) != SIP_LC4('s', 'i', 'p', 0))
		return NULL;
	if (p[3] == ':') {
		u->scheme_id = SPL_SIP_SCHEME_SIP;
		p += 4;
	} else if ((p[3] | 0x20) == 's' && p[4] == ':') {
		u->scheme_id = SPL_SIP_SCHEME_SIPS;
		p += 5;
	} else {
		return NULL;
	}
	u->scheme = sip_str(start, p - 1);
	if (p >= end)
		return NULL;

	/* user "@": the user characters hold every host character, so a run
	 * of them that stops at '@' is the user, and any other stop means
	 * the host starts right here. One window of masks usually covers
	 * both the user and the host. */
	const char *q;
#ifdef SIP_SIMD
	if (end - lim >= 16) {
		struct sip_win w;
		sip_win32(p, end, &w);
		if ((uint32_t)w.user == 0)
			goto bytewise;
		uint32_t ue = (uint32_t)__builtin_ctzll(w.user), hs = 0;
		if (p + ue < end && p[ue] == '@') {
			if (ue == 0)
				return NULL;
			if (mode == SIP_URI_ADDRSPEC && memchr(p, ',', ue) != NULL)
				return NULL;
			u->user = sip_str(p, p + ue);
			hs = ue + 1;
		}
		uint64_t hm = w.host >> hs;
		uint32_t n = hm ? (uint32_t)__builtin_ctzll(hm) : 32;
		if (hs + n >= 32) {   /* the host runs past the window */
			bool ok;
			q = sip_host_run(p + hs, end, lim, &u->host, &ok);
			if (!ok)
				return NULL;
		} else {
			if (!sip_host_judge(p + hs, n, (uint32_t)(w.dot >> hs), (uint32_t)(w.dash >> hs),
					    (uint32_t)(w.digit >> hs), &u->host))
				return NULL;
			q = p + hs + n;
		}
		goto host_done;
	}
bytewise:
#endif
	q = sip_span(p, end, lim, &sip_nib_user);
	if (q < end && *q == '@') {
		if (q == p)
			return NULL;
		/* without <>, a ',' ends the list element, user part or not */
		if (mode == SIP_URI_ADDRSPEC && memchr(p, ',', (size_t)(q - p)) != NULL)
			return NULL;
		u->user = sip_str(p, q);
		p = q + 1;
	}
	{
		bool ok;
		q = sip_host_run(p, end, lim, &u->host, &ok);
		if (!ok)
			return NULL;
	}
#ifdef SIP_SIMD
host_done:
#endif

	if (q < end && *q == ':') {
		/* 1-5 digits; more (leading zeros) are the full grammar's */
		const char *ps = ++q;
		const char *const q5 = end - q > 5 ? q + 5 : end;
		uint32_t port = 0;
		while (q < q5 && sip_is_digit(*q)) {
			port = port * 10 + (uint32_t)(*q - '0');
			q++;
		}
		if (q == ps || port > 65535 || (q < end && sip_is_digit(*q)))
			return NULL;
		u->port_str = sip_str(ps, q);
		u->port = (uint16_t)port;
	}

	if (q < end && *q == ';' && mode != SIP_URI_ADDRSPEC) {
		const char *ps = ++q;
		for (;;) {
			const char *n = q;
			q = sip_span(q, end, lim, &sip_nib_uparam);
			if (q == n)
				return NULL;
			struct spl_str name = sip_str(n, q), val = SPL_STR_NULL;
			if (q < end && *q == '=') {
				const char *v = ++q;
				q = sip_span(q, end, lim, &sip_nib_uvalue);
				if (q == v || *v == '=')
					return NULL;
				val = sip_str(v, q);
			}
			/* the names §19.1.1 gives meaning, letters only, so
			 * OR-ing 0x20 is an exact case fold */
			struct spl_str *dst = NULL;
			switch (name.len) {
			case 2:
				if ((sip_ld2_lc(n) == ('l' | 'r' << 8)))
					u->lr = true;
				break;
			case 3:
				if (sip_ld2_lc(n) == ('t' | 't' << 8) && (n[2] | 0x20) == 'l')
					dst = &u->ttl;
				break;
			case 4:
				if (sip_ld4_lc(n) == SIP_LC4('u', 's', 'e', 'r'))
					dst = &u->user_param;
				break;
			case 5:
				if (sip_ld4_lc(n) == SIP_LC4('m', 'a', 'd', 'd') && (n[4] | 0x20) == 'r')
					dst = &u->maddr;
				break;
			case 6:
				if (sip_ld4_lc(n) == SIP_LC4('m', 'e', 't', 'h') &&
				    sip_ld2_lc(n + 4) == ('o' | 'd' << 8))
					dst = &u->method;
				break;
			case 9:
				if (sip_ld8_lc(n) == ((uint64_t)SIP_LC4('s', 'p', 'o', 'r') << 32 | SIP_LC4('t', 'r', 'a', 'n')) &&
				    (n[8] | 0x20) == 't')
					dst = &u->transport;
				break;
			}
			if (dst != NULL) {
				if (val.p == NULL)
					return NULL;
				if (dst->p == NULL)
					*dst = val;
			}
			if (q < end && *q == ';') {
				q++;
				continue;
			}
			break;
		}
		u->params = sip_str(ps, q);
		if (u->ttl.p != NULL) {
			unsigned t = 0;
			if (u->ttl.len > 3)
				return NULL;
			for (uint32_t i = 0; i < u->ttl.len; i++) {
				if (!sip_is_digit(u->ttl.p[i]))
					return NULL;
				t = t * 10 + (unsigned)(u->ttl.p[i] - '0');
			}
			if (t > 255)
				return NULL;
		}
		if (u->maddr.p != NULL) {
			struct spl_sip_host mh;
			if (spl_sip_host_parse(u->maddr.p, u->maddr.len, &mh) != 0)
				return NULL;
		}
	}
	if (!sip_uri_stop_ok(q, end, mode))
		return NULL;
	u->raw = sip_str(start, q);
	return q;
}

#endif /* SIPMSG_PRIV_H */
