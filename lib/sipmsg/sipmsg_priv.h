/* SPDX-License-Identifier: BSD-3-Clause */
/* Private helpers shared by the lib/sipmsg grammars. */
#ifndef SIPMSG_PRIV_H
#define SIPMSG_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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
 * Shared grammar pieces (defined in sip_host.c and sip_param.c). Hidden:
 * they are library-internal and their contracts may change.
 */
#define SIP_PRIV __attribute__((visibility("hidden")))
/* Exactly [p, end) as dotted-quad IPv4 (each part 1-3 digits, <= 255). */
SIP_PRIV int spl_sip_ip4_parse(const char *p, const char *end, uint8_t out[4]);
/* Exactly [p, end) as an IPv6 address without brackets; tolerates the
 * RFC 5118 §4.10 "x:::a.b.c.d" form. */
SIP_PRIV int spl_sip_ip6_parse(const char *p, const char *end, uint8_t out[16]);
/* p points at '"': the first byte after the closing quote, or NULL when the
 * quoted-string is unterminated or holds a bare CTL (folds are allowed). */
SIP_PRIV const char *spl_sip_quoted_end(const char *p, const char *end);
/* First byte at or after p that is `stop` outside any quoted-string, or end;
 * NULL on an unterminated quote. */
SIP_PRIV const char *spl_sip_scan_to(const char *p, const char *end, char stop);

#endif /* SIPMSG_PRIV_H */
