/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Level 1: the scan every message gets. One pass over the header section:
 * start line, one index entry per header line (folded continuation lines
 * belong to the entry), and framing by Content-Length. Names and line
 * ends are found 16 bytes at a time (SSE2/SSSE3, sipmsg_priv.h): a usual
 * header line costs one class scan for its name, a '\n' scan for its end
 * and one hash probe for its id. Nothing here looks inside a header value
 * except Content-Length, which framing needs.
 */
#include "sipmsg_priv.h"

/* Trim a line end: [b, nl) where nl points at '\n'; drops a preceding CR. */
static inline const char *line_content_end(const char *b, const char *nl)
{
	return (nl > b && nl[-1] == '\r') ? nl - 1 : nl;
}

/* "SIP/2.0" in any case (ABNF literals are case-insensitive): the three
 * letters folded by OR-ing 0x20 (exact for letters), the rest compared
 * as is. */
static bool is_sip20(const char *p, uint32_t len)
{
	uint32_t w;
	if (len != 7)
		return false;
	memcpy(&w, p, 4);
	return (w | 0x202020u) == ('s' | 'i' << 8 | 'p' << 16 | (uint32_t)'/' << 24) &&
	       p[4] == '2' && p[5] == '.' && p[6] == '0';
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT */
static bool is_sip_version(const char *p, uint32_t len)
{
	if (len < 7 || !SIP_IEQ(p, 4, "sip/"))
		return false;
	uint32_t i = 4, d1 = 0, d2 = 0;
	while (i < len && sip_is_digit(p[i])) { i++; d1++; }
	if (d1 == 0 || i >= len || p[i] != '.')
		return false;
	i++;
	while (i < len && sip_is_digit(p[i])) { i++; d2++; }
	return d2 > 0 && i == len;
}

static enum spl_sipmsg_err scan_status_line(struct spl_sipmsg *m, const char *b, const char *e)
{
	const char *sp = memchr(b, ' ', (size_t)(e - b));
	if (!sp)
		return SPL_SIPMSG_E_START_LINE;
	m->version = sip_str(b, sp);
	if (!is_sip20(b, m->version.len))
		return SPL_SIPMSG_E_START_LINE;  /* a response we cannot read: drop */
	const char *c = sp + 1;
	/* Exactly three digits, then SP or end of line (the reason phrase may
	 * be empty, RFC 4475 §3.1.1.13; we also tolerate a missing SP). */
	if (e - c < 3 || !sip_is_digit(c[0]) || !sip_is_digit(c[1]) || !sip_is_digit(c[2]))
		return SPL_SIPMSG_E_BAD_STATUS;
	if (c + 3 < e && c[3] != ' ')
		return SPL_SIPMSG_E_BAD_STATUS;  /* e.g. 4294967301 (RFC 4475 §3.1.2.19) */
	uint16_t st = (uint16_t)((c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0'));
	if (st < 100 || st > 699)
		return SPL_SIPMSG_E_BAD_STATUS;
	m->status = st;
	m->reason = c + 3 < e ? sip_str(c + 4, e) : sip_str(e, e);
	for (const char *r = m->reason.p; r < e; r++)
		if (*r == '\r' || *r == '\n')
			return SPL_SIPMSG_E_START_LINE;
	return SPL_SIPMSG_E_NONE;
}

/* Any SP or HTAB in [p, end)? (16-byte loads from lim on.) */
static inline bool has_sp_tab(const char *p, const char *end, const char *lim)
{
#if defined(__SSE2__)
	const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)p);
		if (_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab))))
			return true;
		p += 16;
	}
	if (p < end && end - lim >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(end - 16));
		unsigned mk = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab)));
		return (mk >> (16 - (unsigned)(end - p))) != 0;
	}
#else
	(void)lim;
#endif
	for (; p < end; p++)
		if (*p == ' ' || *p == '\t')
			return true;
	return false;
}

/*
 * Request-Line = Method SP Request-URI SP SIP-Version. Multiple SP between
 * the elements and trailing SP (RFC 4475 §3.1.2.9, §3.1.2.10) may be
 * rejected or tolerated; we reject them with 400 so that nothing we forward
 * carries them. The URI itself is validated by the lazy RURI parse.
 */
static enum spl_sipmsg_err scan_request_line(struct spl_sipmsg *m, const char *b, const char *e)
{
	const char *p = b;
	while (p < e && sip_is(*p, SIP_C_TOKEN))
		p++;
	if (p == b || p >= e || *p != ' ')
		return SPL_SIPMSG_E_START_LINE;
	m->request = true;
	m->method = sip_str(b, p);
	m->method_id = (uint8_t)spl_sip_method_lookup(b, m->method.len);

	const char *last_sp;
	if (e - p > 8 && e[-8] == ' ' && memcmp(e - 7, "SIP/2.0", 7) == 0) {
		last_sp = e - 8;  /* the usual version: no SP in it */
	} else {
		last_sp = e;
		while (last_sp > p && last_sp[-1] != ' ')
			last_sp--;
		last_sp--;  /* at the SP before the version */
	}
	if (last_sp <= p) {  /* no SP after the URI: no version */
		m->ruri = sip_str(p + 1, e);
		return SPL_SIPMSG_E_BAD_VERSION;
	}
	m->ruri = sip_str(p + 1, last_sp);
	m->version = sip_str(last_sp + 1, e);
	if (m->version.len == 0)
		return SPL_SIPMSG_E_BAD_VERSION;  /* trailing SP after the version */
	if (m->ruri.len == 0 || has_sp_tab(m->ruri.p, m->ruri.p + m->ruri.len, m->buf))
		return SPL_SIPMSG_E_BAD_RURI;
	if (!is_sip20(m->version.p, m->version.len))
		return is_sip_version(m->version.p, m->version.len) ? SPL_SIPMSG_E_VERSION
								     : SPL_SIPMSG_E_BAD_VERSION;
	return SPL_SIPMSG_E_NONE;
}

/*
 * Content-Length framing over a datagram (RFC 3261 §18.3, RFC 4475
 * §3.1.1.8, §3.1.2.2, §3.1.2.3, §3.3.9): absent → body runs to the end of
 * the datagram; repeated with different values, negative or non-numeric →
 * 400; larger than what arrived → 400; octets after the body are ignored.
 */
static enum spl_sipmsg_err frame_body(struct spl_sipmsg *m)
{
	uint32_t avail = m->buf_len - m->body_off;
	uint16_t i = m->first[SPL_SIP_HDR_CONTENT_LENGTH];
	if (i == SPL_SIPMSG_NONE) {
		m->body = (struct spl_str){ m->buf + m->body_off, avail };
		m->len = m->buf_len;
		return SPL_SIPMSG_E_NONE;
	}
	uint32_t cl = 0;
	bool seen = false;
	for (; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		const struct spl_str val = m->hdrs[i].value;
		uint32_t v = 0, k = 0;
		/* up to nine digits and nothing else cannot overflow */
		while (k < val.len && k < 9 && sip_is_digit(val.p[k]))
			v = v * 10 + (uint32_t)(val.p[k++] - '0');
		if ((k == 0 || k != val.len) &&
		    spl_sip_uint_parse(val.p, val.len, UINT32_MAX, &v) != 0)
			return SPL_SIPMSG_E_CL_BAD;
		if (seen && v != cl)
			return SPL_SIPMSG_E_CL_MULTI;
		cl = v;
		seen = true;
	}
	m->has_content_length = true;
	m->content_length = cl;
	if (cl > avail) {
		m->body = (struct spl_str){ m->buf + m->body_off, avail };
		m->len = m->buf_len;
		return SPL_SIPMSG_E_CL_TOO_BIG;
	}
	m->body = (struct spl_str){ m->buf + m->body_off, cl };
	m->len = m->body_off + cl;
	return SPL_SIPMSG_E_NONE;
}

/* Reset just what a scan reads back; the header array is filled, not cleared. */
static void msg_reset(struct spl_sipmsg *m, const char *buf, uint32_t len)
{
	m->buf = buf;
	m->buf_len = len;
	m->len = 0;
	m->request = false;
	m->method_id = SPL_SIP_METHOD_OTHER;
	m->status = 0;
	m->method = m->ruri = m->version = m->reason = SPL_STR_NULL;
	m->start_len = 0;
	m->hdr_end = m->body_off = 0;
	m->body = SPL_STR_NULL;
	m->has_content_length = false;
	m->content_length = 0;
	m->nhdrs = 0;
	memset(m->first, 0xff, sizeof(m->first));
	memset(m->count, 0, sizeof(m->count));
	m->parsed = m->parse_failed = 0;
	m->nvias = m->via_total = m->ncontacts = m->nroutes = 0;
	m->max_forwards = -1;
	m->has_expires = m->has_min_expires = false;
}

/*
 * Header lines. A line that starts with SP/HTAB continues the previous
 * header (folding, RFC 3261 §7.3.1). The section ends at an empty line, or
 * at the end of the datagram (tolerated: some captures lose the final
 * CRLF, RFC 5118 §4.10 archive files).
 *
 * The common line, "Name: value" on one physical line, is read in one
 * go: the name with a 16-byte class scan, the line end with a 16-byte
 * '\n' scan. Everything else (empty line, continuation, a malformed line)
 * goes through the general path below it.
 */
static enum spl_sipmsg_err scan_headers(struct spl_sipmsg *m, const char *p, const char *end,
					const char *lim)
{
	uint16_t last[SPL_SIP_HDR__COUNT];
	const char *const base = m->buf;
	struct spl_sip_hdr *h = NULL;
	enum spl_sipmsg_err err = SPL_SIPMSG_E_NONE;

#ifdef SIP_SIMD
	const __m128i tlo = _mm_load_si128((const __m128i *)sip_nib_token.lo);
	const __m128i thi = _mm_load_si128((const __m128i *)sip_nib_token.hi);
	const __m128i nlv = _mm_set1_epi8('\n');
#endif
	while (p < end) {
#ifdef SIP_SIMD
		/* The usual line: a name of 1..15 token bytes right before the
		 * colon. The same 16-byte load gives the name's end and the
		 * first '\n' candidates. */
		if (SPL_LIKELY(end - p >= 16 && m->nhdrs < SPL_SIPMSG_MAX_HDRS)) {
			const __m128i b = _mm_loadu_si128((const __m128i *)p);
			const unsigned nn = (unsigned)__builtin_ctz(sip_nib_miss16(b, tlo, thi) | 0x10000u);
			if (SPL_LIKELY(nn - 1u < 15u && p[nn] == ':')) {
				const char *v = p + nn + 1;
				unsigned nlm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, nlv)) >> (nn + 1);
				const char *nl = nlm ? v + __builtin_ctz(nlm) : sip_find_nl(p + 16, end, lim);
				if (SPL_LIKELY(v < end && *v == ' '))
					v++;  /* the usual single SP */
				while (v < end && sip_is_ws(*v))
					v++;
				const char *next = nl ? nl + 1 : end;
				const char *ce = nl ? line_content_end(v, nl) : end;
				const char *ve = ce;
				while (ve > v && sip_is_ws(ve[-1]))
					ve--;
				uint16_t idx = m->nhdrs++;
				h = &m->hdrs[idx];
				h->name = (struct spl_str){ p, nn };
				h->value = sip_str(v, ve);
				h->off = (uint32_t)(p - base);
				h->len = (uint32_t)(next - p);
				unsigned id = (unsigned)sip_hdr_lookup16(p, nn);
				h->id = (uint8_t)id;
				h->reserved = 0;
				h->next = SPL_SIPMSG_NONE;
				if (m->count[id]++ == 0)
					m->first[id] = idx;
				else
					m->hdrs[last[id]].next = idx;
				last[id] = idx;
				p = next;
				continue;
			}
		}
#endif
		if (SPL_LIKELY(sip_nib_has(&sip_nib_token, (unsigned char)*p))) {
			if (SPL_UNLIKELY(m->nhdrs == SPL_SIPMSG_MAX_HDRS))
				return SPL_SIPMSG_E_TOO_MANY_HDRS;
			/* Neither CR nor LF is a token or whitespace byte, so
			 * these runs cannot leave the line. */
			const char *n = sip_span(p + 1, end, lim, &sip_nib_token);
			const char *colon = n;
			if (SPL_UNLIKELY(colon < end && *colon != ':'))
				while (colon < end && sip_is_ws(*colon))
					colon++;
			if (SPL_LIKELY(colon < end && *colon == ':')) {
				const char *v = colon + 1;
				if (SPL_LIKELY(v < end && *v == ' '))
					v++;  /* the usual single SP */
				while (v < end && sip_is_ws(*v))
					v++;
				const char *nl = sip_find_nl(v, end, lim);
				const char *next = nl ? nl + 1 : end;
				const char *ce = nl ? line_content_end(v, nl) : end;
				const char *ve = ce;
				while (ve > v && sip_is_ws(ve[-1]))
					ve--;
				uint16_t idx = m->nhdrs++;
				h = &m->hdrs[idx];
				h->name = sip_str(p, n);
				h->value = sip_str(v, ve);
				h->off = (uint32_t)(p - base);
				h->len = (uint32_t)(next - p);
				unsigned id = (unsigned)sip_hdr_lookup(p, h->name.len);
				h->id = (uint8_t)id;
				h->reserved = 0;
				h->next = SPL_SIPMSG_NONE;
				if (m->count[id]++ == 0)
					m->first[id] = idx;
				else
					m->hdrs[last[id]].next = idx;
				last[id] = idx;
				p = next;
				continue;
			}
			/* Not a header line: keep scanning so that a request can
			 * still be answered, but the message is rejected. */
			const char *nl = sip_find_nl(n, end, lim);
			if (!err) err = SPL_SIPMSG_E_HDR_SYNTAX;
			h = NULL;
			p = nl ? nl + 1 : end;
			continue;
		}

		const char *nl = sip_find_nl(p, end, lim);
		const char *next = nl ? nl + 1 : end;
		const char *ce = nl ? line_content_end(p, nl) : end;

		if (ce == p) {  /* empty line: end of headers */
			m->hdr_end = (uint32_t)(p - base);
			m->body_off = (uint32_t)(next - base);
			return err;
		}
		if (sip_is_ws(*p)) {  /* continuation of the previous header */
			if (!h) {
				if (!err) err = SPL_SIPMSG_E_HDR_SYNTAX;
			} else {
				const char *ve = sip_rtrim_lws(p, ce);
				if (ve > p) {
					if (h->value.len == 0)  /* value began on this line */
						h->value.p = sip_skip_lws(p, ve);
					h->value.len = (uint32_t)(ve - h->value.p);
				}
				h->len = (uint32_t)(next - base) - h->off;
			}
			p = next;
			continue;
		}
		if (SPL_UNLIKELY(m->nhdrs == SPL_SIPMSG_MAX_HDRS))
			return SPL_SIPMSG_E_TOO_MANY_HDRS;
		/* Starts with neither a token byte nor whitespace. */
		if (!err) err = SPL_SIPMSG_E_HDR_SYNTAX;
		h = NULL;
		p = next;
	}
	/* No empty line before the end of the datagram. */
	m->hdr_end = m->buf_len;
	m->body_off = m->buf_len;
	return err;
}

enum spl_sipmsg_err spl_sipmsg_scan(struct spl_sipmsg *m, const char *buf, uint32_t len)
{
	msg_reset(m, buf, len);
	const char *p = buf, *end = buf + len;

	/* RFC 3261 §7.5: ignore CRLFs before the start line (keep-alives). */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (p == end)
		return SPL_SIPMSG_E_EMPTY;

	const char *nl = sip_find_nl(p, end, buf);
	const char *ce = nl ? line_content_end(p, nl) : end;
	const char *next = nl ? nl + 1 : end;
	m->start_len = (uint32_t)(next - p);

	enum spl_sipmsg_err err;
	if (ce - p >= 4 && SIP_IEQ(p, 4, "sip/")) {
		err = scan_status_line(m, p, ce);
		if (err)
			return err;  /* a response we cannot read is dropped whole */
	} else {
		err = scan_request_line(m, p, ce);
		if (err == SPL_SIPMSG_E_START_LINE)
			return err;  /* not even a method: nothing to answer */
	}
	/* A leading CRLF run is not part of the message we would forward. */
	m->buf = p;
	m->buf_len = (uint32_t)(end - p);

	enum spl_sipmsg_err herr = scan_headers(m, next, end, buf);
	if (!err)
		err = herr;
	if (herr == SPL_SIPMSG_E_TOO_MANY_HDRS)
		return err;
	enum spl_sipmsg_err ferr = frame_body(m);
	return err ? err : ferr;
}

const struct spl_sip_hdr *spl_sipmsg_hdr_by_name(const struct spl_sipmsg *m, const char *name)
{
	size_t n = strlen(name);
	for (uint16_t i = 0; i < m->nhdrs; i++) {
		const struct spl_sip_hdr *h = &m->hdrs[i];
		if (h->name.len != n)
			continue;
		uint32_t k = 0;
		while (k < n && sip_lower(h->name.p[k]) == sip_lower(name[k]))
			k++;
		if (k == n)
			return h;
	}
	return NULL;
}
