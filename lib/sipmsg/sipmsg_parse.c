/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Level 2: parse message parts on demand and cache the result, in the
 * spirit of Kamailio's parse_headers(msg, FLAGS): a proxy hop asks only for
 * what it needs, and asking twice costs a bit test.
 */
#include "sipmsg_priv.h"

static uint32_t bit_index(uint32_t bit) { return (uint32_t)__builtin_ctz(bit); }

/*
 * How far back the grammars' 16-byte loads may start for a slice of m: the
 * datagram start, for slices inside it (all of them after a scan), else
 * the slice itself.
 */
static inline const char *msg_lim(const struct spl_sipmsg *m, const char *p)
{
	return (p >= m->buf && p <= m->buf + m->buf_len) ? m->buf : p;
}

/* Exactly one line and one value for single-value headers (RFC 4475 §3.3.8). */
static enum spl_sipmsg_err single(const struct spl_sipmsg *m, enum spl_sip_hdr_id id,
				  enum spl_sipmsg_err missing, enum spl_sipmsg_err multi,
				  const struct spl_sip_hdr **out)
{
	if (m->count[id] == 0)
		return missing;
	if (m->count[id] > 1)
		return multi;
	*out = &m->hdrs[m->first[id]];
	return SPL_SIPMSG_E_NONE;
}

/* Every via-parm is checked; the first MAX_VIAS are kept, which covers
 * what a proxy reads (its own and the next hop's) with room to spare. */
static enum spl_sipmsg_err parse_vias(struct spl_sipmsg *m)
{
	struct spl_sip_via spare;
	uint32_t n = 0;
	for (uint16_t i = m->first[SPL_SIP_HDR_VIA]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		struct spl_str rest = m->hdrs[i].value;
		int rc;
		if (rest.len == 0)
			return SPL_SIPMSG_E_BAD_VIA;
		for (;;) {
			struct spl_sip_via *v = n < SPL_SIPMSG_MAX_VIAS ? &m->vias[n] : &spare;
			rc = sip_via_next_in(&rest, v, msg_lim(m, rest.p));
			if (rc <= 0)
				break;
			v->hdr = (uint8_t)i;
			n++;
			if (rest.len == 0)
				break;   /* what a further call would say (rc stays 1) */
		}
		if (rc < 0)
			return SPL_SIPMSG_E_BAD_VIA;
	}
	m->via_total = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
	m->nvias = (uint16_t)(n < SPL_SIPMSG_MAX_VIAS ? n : SPL_SIPMSG_MAX_VIAS);
	return n ? SPL_SIPMSG_E_NONE : SPL_SIPMSG_E_NO_VIA;
}

static enum spl_sipmsg_err parse_addr(struct spl_sipmsg *m, enum spl_sip_hdr_id id,
				      struct spl_sip_nameaddr *na, enum spl_sipmsg_err missing,
				      enum spl_sipmsg_err multi, enum spl_sipmsg_err bad)
{
	const struct spl_sip_hdr *h;
	enum spl_sipmsg_err e = single(m, id, missing, multi, &h);
	if (e)
		return e;
	/* spl_sip_nameaddr_parse(), with loads allowed back to the buffer start */
	struct spl_str rest = h->value;
	if (rest.p == NULL || sip_nameaddr_next_in(&rest, na, msg_lim(m, rest.p)) != 1 || rest.len != 0)
		return bad;
	return SPL_SIPMSG_E_NONE;
}

/* callid = word [ "@" word ] */
static enum spl_sipmsg_err parse_callid(struct spl_sipmsg *m)
{
	const struct spl_sip_hdr *h;
	enum spl_sipmsg_err e = single(m, SPL_SIP_HDR_CALL_ID, SPL_SIPMSG_E_MISSING_CALLID,
				       SPL_SIPMSG_E_MULTI_CALLID, &h);
	if (e)
		return e;
	/* one or two non-empty words, '@' between them */
	const char *p = h->value.p, *end = p + h->value.len;
	const char *const lim = msg_lim(m, p);
	const char *w = sip_span(p, end, lim, &sip_nib_word);
	if (w == p)
		return SPL_SIPMSG_E_BAD_CALLID;
	if (w < end) {
		if (*w != '@')
			return SPL_SIPMSG_E_BAD_CALLID;
		p = w + 1;
		w = sip_span(p, end, lim, &sip_nib_word);
		if (w == p || w != end)
			return SPL_SIPMSG_E_BAD_CALLID;
	}
	m->call_id = h->value;
	return SPL_SIPMSG_E_NONE;
}

static enum spl_sipmsg_err parse_cseq(struct spl_sipmsg *m)
{
	const struct spl_sip_hdr *h;
	enum spl_sipmsg_err e = single(m, SPL_SIP_HDR_CSEQ, SPL_SIPMSG_E_MISSING_CSEQ,
				       SPL_SIPMSG_E_MULTI_CSEQ, &h);
	if (e)
		return e;
	if (sip_cseq_parse_in(h->value.p, h->value.len, &m->cseq, msg_lim(m, h->value.p)) != 0)
		return SPL_SIPMSG_E_BAD_CSEQ;
	return SPL_SIPMSG_E_NONE;
}

static enum spl_sipmsg_err parse_maxfwd(struct spl_sipmsg *m)
{
	m->max_forwards = -1;
	if (m->count[SPL_SIP_HDR_MAX_FORWARDS] == 0)
		return SPL_SIPMSG_E_NONE;  /* tolerated when absent (RFC 2543 peers) */
	if (m->count[SPL_SIP_HDR_MAX_FORWARDS] > 1)
		return SPL_SIPMSG_E_MULTI_MAXFWD;
	const struct spl_sip_hdr *h = &m->hdrs[m->first[SPL_SIP_HDR_MAX_FORWARDS]];
	const char *d = h->value.p;
	uint32_t v;
	if (h->value.len - 1u < 3u && sip_is_digit(d[0]) &&
	    (h->value.len < 2 || sip_is_digit(d[1])) && (h->value.len < 3 || sip_is_digit(d[2]))) {
		/* 1-3 digits and nothing else, the usual "70" */
		v = (uint32_t)(d[0] - '0');
		for (uint32_t i = 1; i < h->value.len; i++)
			v = v * 10 + (uint32_t)(d[i] - '0');
		if (v > 255)
			return SPL_SIPMSG_E_BAD_MAXFWD;
	} else if (spl_sip_uint_parse(h->value.p, h->value.len, 255, &v) != 0) {
		return SPL_SIPMSG_E_BAD_MAXFWD;
	}
	m->max_forwards = (int16_t)v;
	return SPL_SIPMSG_E_NONE;
}

static enum spl_sipmsg_err parse_expires(struct spl_sipmsg *m)
{
	const struct spl_sip_hdr *h;
	if ((h = spl_sipmsg_hdr(m, SPL_SIP_HDR_EXPIRES)) != NULL) {
		if (m->count[SPL_SIP_HDR_EXPIRES] > 1 ||
		    spl_sip_uint_parse(h->value.p, h->value.len, UINT32_MAX, &m->expires) != 0)
			return SPL_SIPMSG_E_BAD_EXPIRES;
		m->has_expires = true;
	}
	if ((h = spl_sipmsg_hdr(m, SPL_SIP_HDR_MIN_EXPIRES)) != NULL) {
		if (m->count[SPL_SIP_HDR_MIN_EXPIRES] > 1 ||
		    spl_sip_uint_parse(h->value.p, h->value.len, UINT32_MAX, &m->min_expires) != 0)
			return SPL_SIPMSG_E_BAD_EXPIRES;
		m->has_min_expires = true;
	}
	return SPL_SIPMSG_E_NONE;
}

/* Walk every value of a name-addr list header for syntax; cache the
 * first, count them, and count "*" values wherever they stand. */
static int parse_list(const struct spl_sipmsg *m, enum spl_sip_hdr_id id,
		      struct spl_sip_nameaddr *first, uint16_t *count, uint16_t *stars)
{
	struct spl_sip_nameaddr tmp;
	uint32_t n = 0, s = 0;
	for (uint16_t i = m->first[id]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		struct spl_str rest = m->hdrs[i].value;
		int rc;
		if (rest.len == 0)
			return -1;
		for (;;) {
			struct spl_sip_nameaddr *na = (n == 0 && first) ? first : &tmp;
			rc = sip_nameaddr_next_in(&rest, na, msg_lim(m, rest.p));
			if (rc <= 0)
				break;
			s += na->star;
			n++;
			if (rest.len == 0)
				break;   /* what a further call would say (rc stays 1) */
		}
		if (rc < 0)
			return -1;
	}
	if (count)
		*count = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
	if (stars)
		*stars = (uint16_t)(s > UINT16_MAX ? UINT16_MAX : s);
	return 0;
}

static enum spl_sipmsg_err parse_contacts(struct spl_sipmsg *m)
{
	uint16_t stars;
	if (parse_list(m, SPL_SIP_HDR_CONTACT, &m->contact, &m->ncontacts, &stars) != 0)
		return SPL_SIPMSG_E_BAD_CONTACT;
	/* "*" is only meaningful alone (RFC 3261 §10.2.2); the registrar
	 * checks Expires: 0, here we only refuse it mixed with addresses. */
	if (stars && m->ncontacts > 1)
		return SPL_SIPMSG_E_BAD_CONTACT;
	/* The message struct is reused: with no Contact, the cache must not
	 * show the previous message's first value. */
	if (m->ncontacts == 0)
		memset(&m->contact, 0, sizeof(m->contact));
	return SPL_SIPMSG_E_NONE;
}

static enum spl_sipmsg_err parse_routes(struct spl_sipmsg *m)
{
	if (parse_list(m, SPL_SIP_HDR_ROUTE, &m->route, &m->nroutes, NULL) != 0)
		return SPL_SIPMSG_E_BAD_ROUTE;
	if (m->nroutes == 0)
		memset(&m->route, 0, sizeof(m->route));
	if (parse_list(m, SPL_SIP_HDR_RECORD_ROUTE, NULL, NULL, NULL) != 0)
		return SPL_SIPMSG_E_BAD_RECORD_ROUTE;
	return SPL_SIPMSG_E_NONE;
}

static enum spl_sipmsg_err parse_part(struct spl_sipmsg *m, uint32_t bit)
{
	switch (bit) {
	case SPL_SIPMSG_P_RURI:
		if (!m->request)
			return SPL_SIPMSG_E_NONE;
		if (sip_uri_parse_in(m->ruri.p, m->ruri.len, &m->ruri_uri, msg_lim(m, m->ruri.p)) != 0)
			return SPL_SIPMSG_E_BAD_RURI;
		/* RFC 4475 §3.1.2.11: headers in a Request-URI must never be
		 * forwarded or turned into real headers; we refuse them. */
		if (spl_str_present(m->ruri_uri.headers))
			return SPL_SIPMSG_E_BAD_RURI;
		return SPL_SIPMSG_E_NONE;
	case SPL_SIPMSG_P_VIA:
		return parse_vias(m);
	case SPL_SIPMSG_P_FROM:
		return parse_addr(m, SPL_SIP_HDR_FROM, &m->from, SPL_SIPMSG_E_MISSING_FROM,
				  SPL_SIPMSG_E_MULTI_FROM, SPL_SIPMSG_E_BAD_FROM);
	case SPL_SIPMSG_P_TO:
		return parse_addr(m, SPL_SIP_HDR_TO, &m->to, SPL_SIPMSG_E_MISSING_TO,
				  SPL_SIPMSG_E_MULTI_TO, SPL_SIPMSG_E_BAD_TO);
	case SPL_SIPMSG_P_CALLID:
		return parse_callid(m);
	case SPL_SIPMSG_P_CSEQ:
		return parse_cseq(m);
	case SPL_SIPMSG_P_MAXFWD:
		return parse_maxfwd(m);
	case SPL_SIPMSG_P_EXPIRES:
		return parse_expires(m);
	case SPL_SIPMSG_P_CONTACT:
		return parse_contacts(m);
	case SPL_SIPMSG_P_ROUTE:
		return parse_routes(m);
	default:
		return SPL_SIPMSG_E_NONE;
	}
}

enum spl_sipmsg_err spl_sipmsg_parse(struct spl_sipmsg *m, uint32_t what)
{
	enum spl_sipmsg_err first_err = SPL_SIPMSG_E_NONE;
	uint32_t todo = what & ~m->parsed & SPL_SIPMSG_P_PROXY;
	if (todo) {
		/* The parts are independent; one test per part instead of a
		 * dispatch loop (a proxy asks for all of them at once). */
		uint32_t failed = 0;
#define PART(bit)                                                              \
		if (todo & (bit)) {                                            \
			enum spl_sipmsg_err e = parse_part(m, (bit));          \
			m->err_by_part[__builtin_ctz(bit)] = (uint8_t)e;       \
			if (e)                                                 \
				failed |= (bit);                               \
		}
		PART(SPL_SIPMSG_P_RURI)
		PART(SPL_SIPMSG_P_VIA)
		PART(SPL_SIPMSG_P_FROM)
		PART(SPL_SIPMSG_P_TO)
		PART(SPL_SIPMSG_P_CALLID)
		PART(SPL_SIPMSG_P_CSEQ)
		PART(SPL_SIPMSG_P_MAXFWD)
		PART(SPL_SIPMSG_P_EXPIRES)
		PART(SPL_SIPMSG_P_CONTACT)
		PART(SPL_SIPMSG_P_ROUTE)
#undef PART
		m->parsed |= todo;
		m->parse_failed |= failed;
	}
	/* Report the first failure among the asked parts, cached or not, in
	 * bit order so the verdict does not depend on call history. */
	uint32_t failed = what & m->parse_failed;
	if (failed)
		first_err = (enum spl_sipmsg_err)m->err_by_part[bit_index(failed & -failed)];
	return first_err;
}
