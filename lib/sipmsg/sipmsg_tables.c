/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tables: character classes, header names (with compact forms), error
 * reasons, methods, transports and status phrases.
 */
#include "sipmsg_priv.h"

/* ------------------------------------------------------------------ */
/* Character classes (RFC 3261 §25.1), computed by the compiler from the
 * ABNF sets below so the table cannot drift from the grammar text. */

#define CC_IN(c, set) ((c) != 0 && __builtin_strchr((set), (c)) != NULL)
#define CC_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define CC_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define CC_ALNUM(c) (CC_ALPHA(c) || CC_DIGIT(c))
#define CC_HEX(c) (CC_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define CC_MARK "-_.!~*'()"

#define CC(c) ((uint16_t)(                                                        \
	((CC_ALNUM(c) || CC_IN(c, "-.!%*_+`'~")) ? SIP_C_TOKEN : 0) |             \
	(((c) == ' ' || (c) == '\t') ? SIP_C_WS : 0) |                            \
	(CC_DIGIT(c) ? SIP_C_DIGIT : 0) |                                         \
	(CC_ALPHA(c) ? SIP_C_ALPHA : 0) |                                         \
	(CC_HEX(c) ? SIP_C_HEX : 0) |                                             \
	((CC_ALNUM(c) || CC_IN(c, CC_MARK)) ? SIP_C_UNRESERVED : 0) |             \
	(CC_IN(c, "&=+$,;?/") ? SIP_C_USER_UNR : 0) |                             \
	(CC_IN(c, "[]/:&+$") ? SIP_C_PARAM_UNR : 0) |                             \
	(CC_IN(c, "[]/?:+$") ? SIP_C_HNV_UNR : 0) |                               \
	(CC_IN(c, "&=+$,") ? SIP_C_PASSWD : 0) |                                  \
	((CC_ALNUM(c) || CC_IN(c, "-.")) ? SIP_C_HOST : 0) |                      \
	((CC_ALNUM(c) || CC_IN(c, "-.!%*_+`'~()<>:\\\"/[]?{}")) ? SIP_C_WORD : 0) | \
	(CC_IN(c, ";/?:@&=+$,") ? SIP_C_RESERVED : 0) |                           \
	((c) >= 0x80 ? SIP_C_UTF8 : 0) |                                          \
	(((c) < 0x20 || (c) == 0x7f) ? SIP_C_CTL : 0)))

#define CC4(c) CC(c), CC((c) + 1), CC((c) + 2), CC((c) + 3)
#define CC16(c) CC4(c), CC4((c) + 4), CC4((c) + 8), CC4((c) + 12)
#define CC64(c) CC16(c), CC16((c) + 16), CC16((c) + 32), CC16((c) + 48)

const uint16_t spl_sip_cclass[256] = {
	CC64(0), CC64(64), CC64(128), CC64(192),
};

/* Nibble tables (see struct sip_nib), also computed from the ABNF sets. */
#define NIB_LO1(P, l) ((uint8_t)(                                                  \
	(P(0x20 + (l)) ? 1 : 0) | (P(0x30 + (l)) ? 2 : 0) | (P(0x40 + (l)) ? 4 : 0) | \
	(P(0x50 + (l)) ? 8 : 0) | (P(0x60 + (l)) ? 16 : 0) | (P(0x70 + (l)) ? 32 : 0) | \
	(P(0x80 + (l)) ? 64 : 0) | (P(l) ? 128 : 0)))
#define NIB_LO4(P, l) NIB_LO1(P, l), NIB_LO1(P, (l) + 1), NIB_LO1(P, (l) + 2), NIB_LO1(P, (l) + 3)
#define NIB(P, bit) { { NIB_LO4(P, 0), NIB_LO4(P, 4), NIB_LO4(P, 8), NIB_LO4(P, 12) }, \
		      { 128, 0, 1, 2, 4, 8, 16, 32, 64, 64, 64, 64, 64, 64, 64, 64 }, (bit) }

#define P_TOKEN(c) (CC_ALNUM(c) || CC_IN(c, "-.!%*_+`'~"))
#define P_HOST(c) (CC_ALNUM(c) || (c) == '-' || (c) == '.')
#define P_USER(c) (CC_ALNUM(c) || CC_IN(c, CC_MARK) || CC_IN(c, "&=+$,"))
#define P_UPARAM(c) (CC_ALNUM(c) || CC_IN(c, CC_MARK) || CC_IN(c, "[]/:&+$"))
#define P_UVALUE(c) (P_UPARAM(c) || (c) == '=')
#define P_PVALUE(c) (P_TOKEN(c) || CC_IN(c, CC_MARK) || CC_IN(c, "[]/:&+$?="))
#define P_WORD(c) (CC_ALNUM(c) || CC_IN(c, "-.!%*_+`'~()<>:\\\"/[]?{}"))
#define P_QDTEXT(c) ((((c) >= 0x20 && (c) != 0x7f) || (c) == '\t') && (c) != '"' && (c) != '\\')

const struct sip_nib sip_nib_token = NIB(P_TOKEN, 1);
const struct sip_nib sip_nib_host = NIB(P_HOST, 2);
const struct sip_nib sip_nib_user = NIB(P_USER, 4);
const struct sip_nib sip_nib_uparam = NIB(P_UPARAM, 8);
const struct sip_nib sip_nib_uvalue = NIB(P_UVALUE, 16);
const struct sip_nib sip_nib_pvalue = NIB(P_PVALUE, 32);
const struct sip_nib sip_nib_word = NIB(P_WORD, 64);
const struct sip_nib sip_nib_qdtext = NIB(P_QDTEXT, 128);

/*
 * Host bytes by kind, one bit each, in a single nibble-table pair: each
 * kind is a product of a set of low nibbles and a set of high nibbles,
 * so LO[c & 15] & HI[c >> 4] has exactly the kinds byte c belongs to.
 */
#define HK_IN(c, b) (                                                          \
	(b) == 0 ? CC_DIGIT(c) :                                               \
	(b) == 1 ? (c) == '.' :                                                \
	(b) == 2 ? (c) == '-' :                                                \
	(b) == 3 ? ((c) >= 'A' && (c) <= 'O') :                                \
	(b) == 4 ? ((c) >= 'P' && (c) <= 'Z') :                                \
	(b) == 5 ? ((c) >= 'a' && (c) <= 'o') :                                \
	(b) == 6 ? ((c) >= 'p' && (c) <= 'z') : (c) == '@')
/* bit b is in LO[l] when some high nibble h gives a member (h << 4 | l) */
#define HK_LOB(l, b) ((HK_IN(0x20 + (l), b) || HK_IN(0x30 + (l), b) || HK_IN(0x40 + (l), b) || \
		       HK_IN(0x50 + (l), b) || HK_IN(0x60 + (l), b) || HK_IN(0x70 + (l), b)) ? 1 << (b) : 0)
#define HK_HIB(h, b) ((HK_IN(((h) << 4) + 0, b) || HK_IN(((h) << 4) + 1, b) || HK_IN(((h) << 4) + 2, b) ||   \
		       HK_IN(((h) << 4) + 3, b) || HK_IN(((h) << 4) + 4, b) || HK_IN(((h) << 4) + 5, b) ||   \
		       HK_IN(((h) << 4) + 6, b) || HK_IN(((h) << 4) + 7, b) || HK_IN(((h) << 4) + 8, b) ||   \
		       HK_IN(((h) << 4) + 9, b) || HK_IN(((h) << 4) + 10, b) || HK_IN(((h) << 4) + 11, b) || \
		       HK_IN(((h) << 4) + 12, b) || HK_IN(((h) << 4) + 13, b) || HK_IN(((h) << 4) + 14, b) || \
		       HK_IN(((h) << 4) + 15, b)) ? 1 << (b) : 0)
#define HK_LO(l) ((uint8_t)(HK_LOB(l, 0) | HK_LOB(l, 1) | HK_LOB(l, 2) | HK_LOB(l, 3) | \
			    HK_LOB(l, 4) | HK_LOB(l, 5) | HK_LOB(l, 6) | HK_LOB(l, 7)))
#define HK_HI(h) ((uint8_t)(HK_HIB(h, 0) | HK_HIB(h, 1) | HK_HIB(h, 2) | HK_HIB(h, 3) | \
			    HK_HIB(h, 4) | HK_HIB(h, 5) | HK_HIB(h, 6) | HK_HIB(h, 7)))
#define HK_4(M, x) M(x), M((x) + 1), M((x) + 2), M((x) + 3)
const struct sip_nib sip_nib_hostkind = {
	{ HK_4(HK_LO, 0), HK_4(HK_LO, 4), HK_4(HK_LO, 8), HK_4(HK_LO, 12) },
	{ HK_4(HK_HI, 0), HK_4(HK_HI, 4), HK_4(HK_HI, 8), HK_4(HK_HI, 12) },
	0,
};

#define SET8(c) ((uint8_t)((P_TOKEN(c) ? 1 : 0) | (P_HOST(c) ? 2 : 0) | (P_USER(c) ? 4 : 0) |   \
			   (P_UPARAM(c) ? 8 : 0) | (P_UVALUE(c) ? 16 : 0) | (P_PVALUE(c) ? 32 : 0) | \
			   (P_WORD(c) ? 64 : 0) | (P_QDTEXT(c) ? 128 : 0)))
#define SET8_4(c) SET8(c), SET8((c) + 1), SET8((c) + 2), SET8((c) + 3)
#define SET8_16(c) SET8_4(c), SET8_4((c) + 4), SET8_4((c) + 8), SET8_4((c) + 12)
#define SET8_64(c) SET8_16(c), SET8_16((c) + 16), SET8_16((c) + 32), SET8_16((c) + 48)
const uint8_t sip_set8[256] = { SET8_64(0), SET8_64(64), SET8_64(128), SET8_64(192) };

/* ------------------------------------------------------------------ */
/* Slices */

bool spl_str_eq(struct spl_str a, const char *lit)
{
	size_t n = strlen(lit);
	return a.p != NULL && a.len == n && memcmp(a.p, lit, n) == 0;
}

bool spl_str_ieq(struct spl_str a, const char *lit)
{
	size_t n = strlen(lit);
	if (a.p == NULL || a.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sip_lower(a.p[i]) != sip_lower(lit[i]))
			return false;
	return true;
}

bool spl_str_ieq_str(struct spl_str a, struct spl_str b)
{
	if (a.len != b.len || (a.p == NULL) != (b.p == NULL))
		return false;
	for (uint32_t i = 0; i < a.len; i++)
		if (sip_lower(a.p[i]) != sip_lower(b.p[i]))
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Header names */

static const char *const hdr_names[SPL_SIP_HDR__COUNT] = {
#define SPL_SIP_HDR(id, name, compact) [SPL_SIP_HDR_##id] = name,
#include "spl_sipmsg_hdrs.def"
#undef SPL_SIP_HDR
};

static const uint8_t hdr_name_len[SPL_SIP_HDR__COUNT] = {
#define SPL_SIP_HDR(id, name, compact) [SPL_SIP_HDR_##id] = sizeof(name) - 1,
#include "spl_sipmsg_hdrs.def"
#undef SPL_SIP_HDR
};

static const char hdr_compact[SPL_SIP_HDR__COUNT] = {
#define SPL_SIP_HDR(id, name, compact) [SPL_SIP_HDR_##id] = compact,
#include "spl_sipmsg_hdrs.def"
#undef SPL_SIP_HDR
};

/*
 * Name compare without a per-byte loop: OR-ing 0x20 into every byte lowers
 * ASCII letters and leaves '-' alone, and since known names hold only
 * letters and '-', no other input byte can alias one of theirs (the only
 * candidate, CR for '-', never occurs in a header name). Words overlap at
 * the tail so that nothing is read outside [name, name + len).
 */
#define ld8 sip_ld8_lc
#define ld4 sip_ld4_lc
#define ld2 sip_ld2_lc

__attribute__((noinline, cold)) static bool name_ieq(const char *in, const char *lname, uint32_t len)
{
	if (len >= 8) {
		uint32_t i = 0;
		for (; i + 8 <= len; i += 8)
			if (ld8(in + i) != ld8(lname + i))
				return false;
		return i == len || ld8(in + len - 8) == ld8(lname + len - 8);
	}
	if (len >= 4)
		return ld4(in) == ld4(lname) && ld4(in + len - 4) == ld4(lname + len - 4);
	return ld2(in) == ld2(lname) && ld2(in + len - 2) == ld2(lname + len - 2);
}

/*
 * Long names are found through a 256-slot table keyed by a hash of the
 * length and two words of the lowered name: up to 8 bytes zero-padded,
 * or the first and last 8 bytes, which between them cover every byte of
 * a name up to 16 long. The same two words, kept per id, are the compare,
 * so a lookup is two loads, two multiplies, one slot and two word
 * compares; only names over 16 bytes compare their middle as well. The
 * multipliers were searched so that every name in the .def file gets its
 * own slot; linear probing stays as the fallback should a new name
 * collide (sipmsg_priv.h has the inline first probe the scanner uses,
 * sip_hdr_lookup_slow() the rest). The .def file is an X-macro list, which the compiler cannot
 * sort into slots, so the table is filled once at load time by a
 * constructor; compact forms index a 26-entry array directly.
 */
uint8_t sip_hdr_hash[SIP_HDR_HASH_SIZE];
struct sip_hdr_key sip_hdr_keys[SPL_SIP_HDR__COUNT];
static uint8_t hdr_by_compact[26];

__attribute__((constructor)) static void hdr_tables_init(void)
{
	for (unsigned id = 1; id < SPL_SIP_HDR__COUNT; id++) {
		struct sip_hdr_key *k = &sip_hdr_keys[id];
		sip_hdr_key_of(hdr_names[id], hdr_name_len[id], &k->head, &k->tail);
		k->len = hdr_name_len[id];
		uint32_t h = sip_hdr_hash_of(k->head, k->tail, k->len);
		while (sip_hdr_hash[h] != 0)
			h = (h + 1) & (SIP_HDR_HASH_SIZE - 1);
		sip_hdr_hash[h] = (uint8_t)id;
		if (hdr_compact[id] != 0)
			hdr_by_compact[sip_lower(hdr_compact[id]) - 'a'] = (uint8_t)id;
	}
}

/* Everything but a known name of 2..16 bytes in its home slot. */
enum spl_sip_hdr_id sip_hdr_lookup_slow(const char *name, uint32_t len)
{
	if (len == 1) {
		unsigned c = (unsigned char)sip_lower(name[0]) - 'a';
		return c < 26 ? (enum spl_sip_hdr_id)hdr_by_compact[c] : SPL_SIP_HDR_OTHER;
	}
	if (len < 2 || len > 255)
		return SPL_SIP_HDR_OTHER;
	uint64_t head, tail;
	sip_hdr_key_of(name, len, &head, &tail);
	uint32_t h = sip_hdr_hash_of(head, tail, len);
	for (;;) {
		unsigned id = sip_hdr_hash[h];
		if (id == 0)
			return SPL_SIP_HDR_OTHER;
		const struct sip_hdr_key *k = &sip_hdr_keys[id];
		if (k->len == len && k->head == head && k->tail == tail &&
		    (len <= 16 || name_ieq(name, hdr_names[id], len)))
			return (enum spl_sip_hdr_id)id;
		h = (h + 1) & (SIP_HDR_HASH_SIZE - 1);
	}
}

enum spl_sip_hdr_id spl_sip_hdr_lookup(const char *name, uint32_t len)
{
	return sip_hdr_lookup(name, len);
}

const char *spl_sip_hdr_name(enum spl_sip_hdr_id id)
{
	return (unsigned)id < SPL_SIP_HDR__COUNT ? hdr_names[id] : "";
}

char spl_sip_hdr_compact(enum spl_sip_hdr_id id)
{
	return (unsigned)id < SPL_SIP_HDR__COUNT ? hdr_compact[id] : 0;
}

/* ------------------------------------------------------------------ */
/* Errors */

static const char *const err_reason[SPL_SIPMSG_E__COUNT] = {
#define SPL_SIPMSG_ERR(id, status, reason) [SPL_SIPMSG_E_##id] = reason,
#include "spl_sipmsg_errs.def"
#undef SPL_SIPMSG_ERR
};

static const uint16_t err_status[SPL_SIPMSG_E__COUNT] = {
#define SPL_SIPMSG_ERR(id, status, reason) [SPL_SIPMSG_E_##id] = status,
#include "spl_sipmsg_errs.def"
#undef SPL_SIPMSG_ERR
};

const char *spl_sipmsg_err_reason(enum spl_sipmsg_err e)
{
	return (unsigned)e < SPL_SIPMSG_E__COUNT ? err_reason[e] : "unknown error";
}

uint16_t spl_sipmsg_err_status(enum spl_sipmsg_err e)
{
	return (unsigned)e < SPL_SIPMSG_E__COUNT ? err_status[e] : 0;
}

/* ------------------------------------------------------------------ */
/* Methods (case-sensitive, §7.1) */

static const char *const method_names[SPL_SIP_METHOD__COUNT] = {
	[SPL_SIP_METHOD_OTHER] = "",
	[SPL_SIP_METHOD_INVITE] = "INVITE",
	[SPL_SIP_METHOD_ACK] = "ACK",
	[SPL_SIP_METHOD_BYE] = "BYE",
	[SPL_SIP_METHOD_CANCEL] = "CANCEL",
	[SPL_SIP_METHOD_REGISTER] = "REGISTER",
	[SPL_SIP_METHOD_OPTIONS] = "OPTIONS",
	[SPL_SIP_METHOD_INFO] = "INFO",
	[SPL_SIP_METHOD_PRACK] = "PRACK",
	[SPL_SIP_METHOD_UPDATE] = "UPDATE",
	[SPL_SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SPL_SIP_METHOD_NOTIFY] = "NOTIFY",
	[SPL_SIP_METHOD_REFER] = "REFER",
	[SPL_SIP_METHOD_MESSAGE] = "MESSAGE",
	[SPL_SIP_METHOD_PUBLISH] = "PUBLISH",
};

static inline enum spl_sip_method method_if(const char *p, uint32_t len, enum spl_sip_method m)
{
	return memcmp(p, method_names[m], len) == 0 ? m : SPL_SIP_METHOD_OTHER;
}

enum spl_sip_method spl_sip_method_lookup(const char *p, uint32_t len)
{
	/* Dispatch on length and first letter; one memcmp confirms. */
	if (len < 3)
		return SPL_SIP_METHOD_OTHER;
	switch (len) {
	case 3:
		if (p[0] == 'A') return method_if(p, len, SPL_SIP_METHOD_ACK);
		if (p[0] == 'B') return method_if(p, len, SPL_SIP_METHOD_BYE);
		break;
	case 4:
		if (p[0] == 'I') return method_if(p, len, SPL_SIP_METHOD_INFO);
		break;
	case 5:
		if (p[0] == 'P') return method_if(p, len, SPL_SIP_METHOD_PRACK);
		if (p[0] == 'R') return method_if(p, len, SPL_SIP_METHOD_REFER);
		break;
	case 6:
		if (p[0] == 'I') return method_if(p, len, SPL_SIP_METHOD_INVITE);
		if (p[0] == 'C') return method_if(p, len, SPL_SIP_METHOD_CANCEL);
		if (p[0] == 'U') return method_if(p, len, SPL_SIP_METHOD_UPDATE);
		if (p[0] == 'N') return method_if(p, len, SPL_SIP_METHOD_NOTIFY);
		break;
	case 7:
		if (p[0] == 'O') return method_if(p, len, SPL_SIP_METHOD_OPTIONS);
		if (p[0] == 'M') return method_if(p, len, SPL_SIP_METHOD_MESSAGE);
		if (p[0] == 'P') return method_if(p, len, SPL_SIP_METHOD_PUBLISH);
		break;
	case 8:
		if (p[0] == 'R') return method_if(p, len, SPL_SIP_METHOD_REGISTER);
		break;
	case 9:
		if (p[0] == 'S') return method_if(p, len, SPL_SIP_METHOD_SUBSCRIBE);
		break;
	}
	return SPL_SIP_METHOD_OTHER;
}

const char *spl_sip_method_name(enum spl_sip_method m)
{
	return (unsigned)m < SPL_SIP_METHOD__COUNT ? method_names[m] : "";
}

/* ------------------------------------------------------------------ */
/* Transports (case-insensitive: "udp" in a Via is still UDP) */

enum spl_sip_transport spl_sip_transport_lookup(const char *p, uint32_t len)
{
	switch (len) {
	case 2:
		if (SIP_IEQ(p, len, "ws")) return SPL_SIP_TRANSPORT_WS;
		break;
	case 3:
		if (SIP_IEQ(p, len, "udp")) return SPL_SIP_TRANSPORT_UDP;
		if (SIP_IEQ(p, len, "tcp")) return SPL_SIP_TRANSPORT_TCP;
		if (SIP_IEQ(p, len, "tls")) return SPL_SIP_TRANSPORT_TLS;
		if (SIP_IEQ(p, len, "wss")) return SPL_SIP_TRANSPORT_WSS;
		break;
	case 4:
		if (SIP_IEQ(p, len, "sctp")) return SPL_SIP_TRANSPORT_SCTP;
		break;
	}
	return SPL_SIP_TRANSPORT_OTHER;
}

/* ------------------------------------------------------------------ */
/* Status phrases: RFC 3261 §21 plus the common extensions (RFC 3262,
 * 3265, 3329, 3903, 4028, 4412, 5079, 5360, 5393, 6086, 6228, 8224). */

const char *spl_sip_status_phrase(uint16_t status)
{
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 199: return "Early Dialog Terminated";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Notification";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 412: return "Conditional Request Failed";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 417: return "Unknown Resource-Priority";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 422: return "Session Interval Too Small";
	case 423: return "Interval Too Brief";
	case 428: return "Use Identity Header";
	case 429: return "Provide Referrer Identity";
	case 433: return "Anonymity Disallowed";
	case 436: return "Bad Identity Info";
	case 437: return "Unsupported Credential";
	case 438: return "Invalid Identity Header";
	case 439: return "First Hop Lacks Outbound Support";
	case 440: return "Max-Breadth Exceeded";
	case 469: return "Bad Info Package";
	case 470: return "Consent Needed";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 494: return "Security Agreement Required";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 555: return "Push Notification Service Not Supported";
	case 580: return "Precondition Failure";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	case 607: return "Unwanted";
	case 608: return "Rejected";
	}
	/* §8.1.3.2: an unknown code is treated as x00 of its class. */
	switch (status / 100) {
	case 1: return "Trying";
	case 2: return "OK";
	case 3: return "Multiple Choices";
	case 4: return "Bad Request";
	case 5: return "Server Internal Error";
	case 6: return "Busy Everywhere";
	}
	return "Unknown";
}
