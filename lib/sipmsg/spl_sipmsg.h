/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sipmsg: zero-copy SIP message scanner, lazy parser, validator and
 * editor (RFC 3261 §7, §19, §20, §25; RFC 4475 and RFC 5118 torture cases).
 *
 * Every field is a slice (struct spl_str) into the caller's buffer: the
 * buffer must outlive the parsed message. Nothing here allocates; all work
 * is linear in the input and nothing recurses on input structure.
 *
 * Levels:
 *   1. spl_sipmsg_scan()      start line, header lines (index by id),
 *                              Content-Length framing. Always done.
 *   2. spl_sipmsg_parse()     on demand, cached: Request-URI, Via list,
 *                              From/To, Call-ID, CSeq, Max-Forwards, ...
 *      spl_sip_*_parse()      the same grammars on any slice.
 *   3. spl_sipmsg_shard_key() the data path's key without a full parse.
 *   4. spl_sipmsg_validate()  ok / reject STATUS / drop, for a UDP datagram.
 *   5. spl_sipmsg_serialize() a new message from a parsed one plus edits;
 *      spl_sipmsg_build_response() a response to a request.
 */
#ifndef SPL_SIPMSG_H
#define SPL_SIPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A view into a buffer. p == NULL means absent; len == 0 with p != NULL
 * means present but empty (e.g. "rport" with no value). */
struct spl_str {
	const char *p;
	uint32_t len;
};

#define SPL_STR_NULL ((struct spl_str){ NULL, 0 })
#define SPL_STR_LIT(s) ((struct spl_str){ (s), sizeof(s) - 1 })

static inline bool spl_str_present(struct spl_str s) { return s.p != NULL; }
bool spl_str_eq(struct spl_str a, const char *lit);      /* case-sensitive */
bool spl_str_ieq(struct spl_str a, const char *lit);     /* ASCII case-insensitive */
bool spl_str_ieq_str(struct spl_str a, struct spl_str b);

/* ------------------------------------------------------------------ */
/* Tables                                                              */

enum spl_sip_hdr_id {
#define SPL_SIP_HDR(id, name, compact) SPL_SIP_HDR_##id,
#include "spl_sipmsg_hdrs.def"
#undef SPL_SIP_HDR
	SPL_SIP_HDR__COUNT
};

/* Header id for a name (long or compact form, any case); OTHER if unknown. */
enum spl_sip_hdr_id spl_sip_hdr_lookup(const char *name, uint32_t len);
const char *spl_sip_hdr_name(enum spl_sip_hdr_id id);  /* canonical long form */
char spl_sip_hdr_compact(enum spl_sip_hdr_id id);      /* 0 when none */

enum spl_sipmsg_err {
#define SPL_SIPMSG_ERR(id, status, reason) SPL_SIPMSG_E_##id,
#include "spl_sipmsg_errs.def"
#undef SPL_SIPMSG_ERR
	SPL_SIPMSG_E__COUNT
};
const char *spl_sipmsg_err_reason(enum spl_sipmsg_err e);
uint16_t spl_sipmsg_err_status(enum spl_sipmsg_err e);   /* 0: drop */

/* Methods are case-sensitive (RFC 3261 §7.1): "invite" is an unknown
 * extension method, not INVITE. */
enum spl_sip_method {
	SPL_SIP_METHOD_OTHER = 0,
	SPL_SIP_METHOD_INVITE,
	SPL_SIP_METHOD_ACK,
	SPL_SIP_METHOD_BYE,
	SPL_SIP_METHOD_CANCEL,
	SPL_SIP_METHOD_REGISTER,
	SPL_SIP_METHOD_OPTIONS,
	SPL_SIP_METHOD_INFO,
	SPL_SIP_METHOD_PRACK,
	SPL_SIP_METHOD_UPDATE,
	SPL_SIP_METHOD_SUBSCRIBE,
	SPL_SIP_METHOD_NOTIFY,
	SPL_SIP_METHOD_REFER,
	SPL_SIP_METHOD_MESSAGE,
	SPL_SIP_METHOD_PUBLISH,
	SPL_SIP_METHOD__COUNT
};
enum spl_sip_method spl_sip_method_lookup(const char *p, uint32_t len);
const char *spl_sip_method_name(enum spl_sip_method m); /* "" for OTHER */

enum spl_sip_transport {
	SPL_SIP_TRANSPORT_OTHER = 0,
	SPL_SIP_TRANSPORT_UDP,
	SPL_SIP_TRANSPORT_TCP,
	SPL_SIP_TRANSPORT_TLS,
	SPL_SIP_TRANSPORT_SCTP,
	SPL_SIP_TRANSPORT_WS,
	SPL_SIP_TRANSPORT_WSS,
};
enum spl_sip_transport spl_sip_transport_lookup(const char *p, uint32_t len); /* any case */

/* ------------------------------------------------------------------ */
/* Element grammars: each parses one value from a slice, no allocation. */

enum spl_sip_host_kind {
	SPL_SIP_HOST_NONE = 0,
	SPL_SIP_HOST_NAME,
	SPL_SIP_HOST_IPV4,
	SPL_SIP_HOST_IPV6,   /* host slice includes the brackets */
};

/*
 * Host (hostname | IPv4address | IPv6reference). Fills kind and, for IP
 * addresses, the binary address (IPv4 in ip[0..3]). RFC 5118 §4.10: an
 * IPv6 reference with a run of three colons before an embedded IPv4 is
 * tolerated as the 3261 ABNF allows it. Returns 0 or -1.
 */
struct spl_sip_host {
	struct spl_str text;
	uint8_t kind;         /* enum spl_sip_host_kind */
	uint8_t ip[16];
};
int spl_sip_host_parse(const char *p, uint32_t len, struct spl_sip_host *h);

/*
 * Generic ";name=value" parameter lists (URI params, header params, Via
 * params). A params slice starts at the first parameter name (after the
 * first ';') and may contain LWS around ';' and '=' (header params). The
 * iterator yields name and value (value.p == NULL when there is no '=';
 * a quoted value keeps its quotes). Returns 1 while a parameter was
 * produced, 0 at the end, -1 on a syntax error (e.g. an empty name).
 */
struct spl_sip_param_iter {
	const char *p;
	const char *end;
	char sep;             /* ';' for params, '&' for URI headers */
};
void spl_sip_param_iter_init(struct spl_sip_param_iter *it, struct spl_str params, char sep);
int spl_sip_param_next(struct spl_sip_param_iter *it, struct spl_str *name, struct spl_str *value);
/* Find a parameter by name (case-insensitive). Returns true when present. */
bool spl_sip_param_find(struct spl_str params, char sep, const char *name, struct spl_str *value);

enum spl_sip_scheme {
	SPL_SIP_SCHEME_OTHER = 0,  /* any other absoluteURI; only .scheme and .opaque set */
	SPL_SIP_SCHEME_SIP,
	SPL_SIP_SCHEME_SIPS,
	SPL_SIP_SCHEME_TEL,        /* tel: (RFC 3966); .user holds the number, .params the rest */
};

/*
 * SIP/SIPS URI (RFC 3261 §19.1.1, §25.1), tel: recognised, other schemes
 * accepted as absoluteURI. Escapes are left in place in the slices; the
 * comparison unescapes.
 */
struct spl_sip_uri {
	struct spl_str raw;        /* the whole URI */
	struct spl_str scheme;
	struct spl_str user;       /* absent when no '@' */
	struct spl_str password;
	struct spl_sip_host host;
	struct spl_str port_str;
	struct spl_str params;     /* after the first ';', up to '?' or end */
	struct spl_str headers;    /* after '?' */
	struct spl_str opaque;     /* for OTHER: everything after "scheme:" */
	/* well-known uri-parameters, extracted from params */
	struct spl_str transport;
	struct spl_str maddr;
	struct spl_str ttl;
	struct spl_str user_param; /* user=phone|ip */
	struct spl_str method;
	uint16_t port;             /* 0 when absent */
	uint8_t scheme_id;         /* enum spl_sip_scheme */
	bool lr;
};
int spl_sip_uri_parse(const char *p, uint32_t len, struct spl_sip_uri *u);
/* RFC 3261 §19.1.4 equivalence. Only meaningful for SIP/SIPS; other
 * schemes compare byte-exact after scheme case folding. */
bool spl_sip_uri_equal(const struct spl_sip_uri *a, const struct spl_sip_uri *b);

/*
 * One name-addr or addr-spec with header parameters, as in From, To,
 * Contact, Route, Record-Route, Reply-To, Path. The parser takes a
 * comma-separated list and yields one value per call: spl_sip_nameaddr_next()
 * parses the value at *rest, advances *rest past it and the following
 * comma, and returns 1, 0 at the end of the list, or -1 on a syntax error.
 * For a single-value header (From/To) call spl_sip_nameaddr_parse(), which
 * fails if more than one value is present.
 */
struct spl_sip_nameaddr {
	struct spl_str raw;        /* whole value, trimmed */
	struct spl_str display;    /* as written: quoted (with quotes) or tokens; may be absent */
	struct spl_str uri_str;    /* inside <> or the bare addr-spec */
	struct spl_str params;     /* header params after the URI */
	struct spl_str tag;        /* tag param value */
	struct spl_str expires;    /* Contact expires param */
	struct spl_str q;          /* Contact q param */
	struct spl_sip_uri uri;
	bool star;                 /* Contact: * */
	bool angle;                /* URI was inside <> */
};
int spl_sip_nameaddr_next(struct spl_str *rest, struct spl_sip_nameaddr *na);
int spl_sip_nameaddr_parse(const char *p, uint32_t len, struct spl_sip_nameaddr *na);
/* q as thousandths (0..1000); 1000 when absent; -1 when malformed. */
int spl_sip_q_parse(struct spl_str q);

/*
 * One via-parm (RFC 3261 §20.42, RFC 3581 rport, RFC 5118 §4.5 received
 * with brackets). spl_sip_via_next() iterates a (comma-separated) Via
 * header value like spl_sip_nameaddr_next().
 */
struct spl_sip_via {
	struct spl_str raw;        /* this via-parm, trimmed */
	struct spl_str proto_name; /* "SIP" */
	struct spl_str proto_version;
	struct spl_str transport;
	struct spl_sip_host host;  /* sent-by host */
	struct spl_str port_str;
	struct spl_str params;
	struct spl_str branch;
	struct spl_str received;
	struct spl_str rport;      /* .p != NULL when present; len 0 when valueless */
	struct spl_str maddr;
	struct spl_str ttl;
	uint16_t port;             /* 0 when absent */
	uint8_t transport_id;      /* enum spl_sip_transport */
	uint8_t hdr;               /* index of the header line it came from */
};
int spl_sip_via_next(struct spl_str *rest, struct spl_sip_via *v);

struct spl_sip_cseq {
	uint32_t num;
	struct spl_str method;
	uint8_t method_id;         /* enum spl_sip_method */
};
int spl_sip_cseq_parse(const char *p, uint32_t len, struct spl_sip_cseq *c);

/* Unsigned decimal with LWS trimmed; fails on empty, non-digit or > max. */
int spl_sip_uint_parse(const char *p, uint32_t len, uint32_t max, uint32_t *out);

/* Comma-separated tokens (Require, Proxy-Require, Supported, Unsupported,
 * Allow): returns 1 with *tok set, 0 at end, -1 on syntax error. */
int spl_sip_token_next(struct spl_str *rest, struct spl_str *tok);

/*
 * Authorization / Proxy-Authorization credentials and WWW-/Proxy-
 * Authenticate challenges: scheme plus comma-separated auth-params.
 * Values keep their quotes in .params iteration; the well-known Digest
 * fields are extracted unquoted (the slice excludes the quotes; escapes,
 * which Digest values never need, are left in place).
 */
struct spl_sip_auth {
	struct spl_str scheme;     /* "Digest" or another scheme */
	struct spl_str params;     /* the auth-param list */
	struct spl_str username, realm, nonce, uri, response, algorithm;
	struct spl_str cnonce, opaque, qop, nc, stale, domain;
};
int spl_sip_auth_parse(const char *p, uint32_t len, struct spl_sip_auth *a);

/* Retry-After: delta-seconds [comment] *(;params). */
struct spl_sip_retry_after {
	uint32_t seconds;
	struct spl_str comment;
	struct spl_str params;
	struct spl_str duration;
};
int spl_sip_retry_after_parse(const char *p, uint32_t len, struct spl_sip_retry_after *r);

/* Content-Type: type "/" subtype *(;params). */
struct spl_sip_ctype {
	struct spl_str type;
	struct spl_str subtype;
	struct spl_str params;
};
int spl_sip_ctype_parse(const char *p, uint32_t len, struct spl_sip_ctype *c);

/* ------------------------------------------------------------------ */
/* Message                                                             */

#define SPL_SIPMSG_MAX_HDRS 128   /* header lines; more → 400 */
#define SPL_SIPMSG_MAX_VIAS 16    /* via-parms cached; the rest are checked and counted */
#define SPL_SIPMSG_NONE 0xffff    /* "no header" index */

struct spl_sip_hdr {
	struct spl_str name;       /* as written */
	struct spl_str value;      /* LWS-trimmed; may span folded lines */
	uint32_t off;              /* start of the line in the message */
	uint32_t len;              /* whole line(s) incl. the line terminator */
	uint8_t id;                /* enum spl_sip_hdr_id */
	uint8_t reserved;
	uint16_t next;             /* next line with the same id, or SPL_SIPMSG_NONE */
};

/* What spl_sipmsg_parse() can be asked for (bit mask). */
enum {
	SPL_SIPMSG_P_RURI    = 1u << 0,
	SPL_SIPMSG_P_VIA     = 1u << 1,
	SPL_SIPMSG_P_FROM    = 1u << 2,
	SPL_SIPMSG_P_TO      = 1u << 3,
	SPL_SIPMSG_P_CALLID  = 1u << 4,
	SPL_SIPMSG_P_CSEQ    = 1u << 5,
	SPL_SIPMSG_P_MAXFWD  = 1u << 6,
	SPL_SIPMSG_P_EXPIRES = 1u << 7,  /* Expires and Min-Expires */
	SPL_SIPMSG_P_CONTACT = 1u << 8,  /* syntax of every Contact value, first one cached */
	SPL_SIPMSG_P_ROUTE   = 1u << 9,  /* syntax of every Route/Record-Route value, first Route cached */
	/* what a proxy needs to forward a request or response */
	SPL_SIPMSG_P_PROXY   = (1u << 10) - 1,
};

struct spl_sipmsg {
	const char *buf;           /* the datagram as given */
	uint32_t buf_len;
	uint32_t len;              /* framed message: start line .. end of body */

	bool request;
	uint8_t method_id;         /* request: enum spl_sip_method */
	uint16_t status;           /* response: 100..699 */
	struct spl_str method;
	struct spl_str ruri;
	struct spl_str version;
	struct spl_str reason;     /* response; may be empty */
	uint32_t start_len;        /* start line incl. terminator */

	uint32_t hdr_end;          /* offset of the empty line ending the headers */
	uint32_t body_off;
	struct spl_str body;       /* framed by Content-Length (or to datagram end when absent) */
	bool has_content_length;
	uint32_t content_length;

	uint16_t nhdrs;
	uint16_t first[SPL_SIP_HDR__COUNT];  /* first line with this id, or NONE */
	uint16_t count[SPL_SIP_HDR__COUNT];  /* lines with this id */
	struct spl_sip_hdr hdrs[SPL_SIPMSG_MAX_HDRS];

	/* lazy cache, filled by spl_sipmsg_parse() */
	uint32_t parsed;           /* SPL_SIPMSG_P_* already attempted */
	uint32_t parse_failed;     /* ... and failed */
	uint8_t err_by_part[16];   /* enum spl_sipmsg_err per P_ bit index */
	struct spl_sip_uri ruri_uri;
	uint16_t nvias;            /* cached in vias[]: min(via_total, MAX_VIAS) */
	uint16_t via_total;        /* every via-parm in the message */
	struct spl_sip_via vias[SPL_SIPMSG_MAX_VIAS];
	struct spl_sip_nameaddr from;
	struct spl_sip_nameaddr to;
	struct spl_sip_nameaddr contact;   /* first Contact value */
	struct spl_sip_nameaddr route;     /* first Route value */
	uint16_t ncontacts;
	uint16_t nroutes;
	struct spl_str call_id;
	struct spl_sip_cseq cseq;
	int16_t max_forwards;      /* -1 when absent */
	bool has_expires;
	bool has_min_expires;
	uint32_t expires;
	uint32_t min_expires;
};

/*
 * Level 1: scan a datagram. Fills the start line, the header index and the
 * framing. Line ends may be CRLF or bare LF (tolerated); a header may be
 * folded over several lines. Returns SPL_SIPMSG_E_NONE (0) or the first
 * fault; on a fault the fields before it are valid.
 */
enum spl_sipmsg_err spl_sipmsg_scan(struct spl_sipmsg *m, const char *buf, uint32_t len);

/* Level 2: parse the parts in `what` (SPL_SIPMSG_P_*), each at most once.
 * Returns E_NONE or the first fault among the requested parts. */
enum spl_sipmsg_err spl_sipmsg_parse(struct spl_sipmsg *m, uint32_t what);

/* Header lines by id: first index, then hdrs[i].next. */
static inline const struct spl_sip_hdr *
spl_sipmsg_hdr(const struct spl_sipmsg *m, enum spl_sip_hdr_id id)
{
	uint16_t i = m->first[id];
	return i == SPL_SIPMSG_NONE ? NULL : &m->hdrs[i];
}
/* Find an unknown (OTHER) header by name, case-insensitive. */
const struct spl_sip_hdr *spl_sipmsg_hdr_by_name(const struct spl_sipmsg *m, const char *name);

/* ------------------------------------------------------------------ */
/* Shard key                                                           */

/*
 * Branches this proxy generates: "z9hG4bK" SPL_SIPMSG_BRANCH_TAG, then
 * shard (2 hex), slot (8 hex), generation (4 hex), then optionally "."
 * and the loop-detection hash added by the proxy (§16.6 step 8).
 */
#define SPL_SIPMSG_BRANCH_MAGIC "z9hG4bK"
#define SPL_SIPMSG_BRANCH_TAG   "spl"
#define SPL_SIPMSG_BRANCH_LEN   (7 + 3 + 2 + 8 + 4)
/* Writes SPL_SIPMSG_BRANCH_LEN bytes (no NUL). */
void spl_sipmsg_branch_encode(char *out, uint8_t shard, uint32_t slot, uint16_t gen);
/* True when the branch is one of ours; fills shard/slot/gen. */
bool spl_sipmsg_branch_decode(struct spl_str branch, uint8_t *shard, uint32_t *slot, uint16_t *gen);

struct spl_sipmsg_key {
	uint32_t hash;             /* of the top Via branch, or of the RFC 2543 fields */
	int16_t shard;             /* >= 0: decoded from a branch this proxy made */
	bool magic;                /* branch had the RFC 3261 magic cookie */
	bool response;
};
/* Cheap: looks only at the start line, the top Via and (without the
 * cookie) the 2543 matching fields. Returns 0, or -1 when there is no key
 * (the message is malformed: the full path will answer or drop it). */
int spl_sipmsg_shard_key(const char *buf, uint32_t len, struct spl_sipmsg_key *k);

/* ------------------------------------------------------------------ */
/* Validation                                                          */

enum spl_sipmsg_verdict_kind {
	SPL_SIPMSG_OK = 0,
	SPL_SIPMSG_REJECT,         /* answer with .status and .reason */
	SPL_SIPMSG_DROP,           /* answer nothing; count .err */
};
struct spl_sipmsg_verdict {
	uint8_t kind;              /* enum spl_sipmsg_verdict_kind */
	uint8_t err;               /* enum spl_sipmsg_err */
	uint16_t status;
	const char *reason;
};
/* Validate a message as received over UDP: scan (if `scan_err` is not
 * E_NONE it is the scan's result), parse what a proxy needs, and check the
 * mandatory headers. Responses with any fault are dropped. */
void spl_sipmsg_validate(struct spl_sipmsg *m, enum spl_sipmsg_err scan_err,
			 struct spl_sipmsg_verdict *v);

/* ------------------------------------------------------------------ */
/* Editing and serialisation                                           */

#define SPL_SIPMSG_MAX_EDIT_LINES 8

/*
 * A set of edits applied while copying a parsed message into a new buffer.
 * Header lines given here are complete lines without the terminator, e.g.
 * "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK..."; the serializer writes
 * CRLF after each. Unchanged parts are copied as they were.
 */
enum {
	SPL_SIPMSG_MF_KEEP = -1,          /* leave Max-Forwards alone */
	SPL_SIPMSG_MF_DECREMENT = -2,     /* decrement, or insert 70 when absent */
};
struct spl_sipmsg_edits {
	struct spl_str ruri;              /* replace the Request-URI when .p */
	struct spl_str via;               /* prepend this Via line when .p */
	bool remove_top_via;              /* remove the topmost via-parm */
	bool remove_top_route;            /* remove the topmost Route value */
	int max_forwards;                 /* MF_KEEP, MF_DECREMENT, or 0..255 to set */
	uint8_t n_rr;                     /* Record-Route lines to prepend, in order */
	struct spl_str rr[2];
	uint8_t n_append;                 /* lines appended after the last header */
	struct spl_str append[SPL_SIPMSG_MAX_EDIT_LINES];
	uint64_t remove[(SPL_SIPMSG_MAX_HDRS + 63) / 64]; /* header lines to drop, by index */
	bool replace_body;                /* body below replaces the message's */
	struct spl_str body;
};
static inline void spl_sipmsg_edits_init(struct spl_sipmsg_edits *e)
{
	*e = (struct spl_sipmsg_edits){ .max_forwards = SPL_SIPMSG_MF_KEEP };
}
static inline void spl_sipmsg_edits_remove(struct spl_sipmsg_edits *e, uint16_t hdr_idx)
{
	e->remove[hdr_idx / 64] |= 1ull << (hdr_idx % 64);
}

/*
 * Write m with edits e (NULL: none) into out (capacity cap). m needs only
 * spl_sipmsg_scan() with E_NONE: the top Via / Route value is re-parsed
 * locally, so P_VIA / P_ROUTE need not have been asked for.
 *   - via: before the first Via line (before the first header if none).
 *   - remove_top_via / remove_top_route: a first line holding one value is
 *     dropped; holding several, only its first value and comma go.
 *   - rr: before the first Record-Route line, else after the top run of
 *     Via lines.
 *   - max_forwards: the value is rewritten in place; when absent a
 *     "Max-Forwards:" line goes after the last header. Decrementing 0 fails
 *     (answer 483 instead).
 *   - remove: a line removed by index is gone whatever else targets it.
 *   - append lines, then an inserted Content-Length, follow the last header.
 * Generated lines end in CRLF; copied lines keep their own terminators.
 * Content-Length: the first line kept has its value rewritten when it
 * differs from the body written. With no edits at all the output is
 * byte-identical to the framed input m->buf[0 .. m->len), also when
 * Content-Length is absent (the UDP body then ran to the datagram end and
 * is copied as such). With any edit, Content-Length is normalised: one
 * line, inserted when absent, and a missing final empty line is written.
 * Returns the number of bytes written, or -1 when cap is too small or an
 * edit cannot apply (remove_top_via with no Via, remove_top_route with no
 * Route, ruri on a response, an empty line, a Max-Forwards value outside
 * 0..255); nothing is ever written at or past out[cap].
 */
int spl_sipmsg_serialize(const struct spl_sipmsg *m, const struct spl_sipmsg_edits *e,
			 char *out, uint32_t cap);

/*
 * Build a response to request `req` (scanned; its cached P_TO is used when
 * present, else the To value is parsed here for the tag): status line, every
 * Via in order, From, To (with `to_tag` added when To has no tag and
 * to_tag.p is set), Call-ID, CSeq, Timestamp for a 100 (§8.2.6.1), the
 * extra lines (without terminator), Content-Length: 0. Header lines are
 * copied as written (folds joined, CRLF); of a repeated single-value header
 * only the first line is copied and a missing one is left out, so a 400 can
 * still be built for a request that lacks them. The Vias are copied as
 * received: received/rport (§18.2.1, RFC 3581) are not added here.
 * A NULL reason uses the standard phrase. Returns bytes written or -1
 * (cap too small, status outside 100..699, req not a request).
 */
int spl_sipmsg_build_response(const struct spl_sipmsg *req, uint16_t status,
			      const char *reason, struct spl_str to_tag,
			      const struct spl_str *extra, unsigned n_extra,
			      char *out, uint32_t cap);
const char *spl_sip_status_phrase(uint16_t status);

#ifdef __cplusplus
}
#endif
#endif /* SPL_SIPMSG_H */
