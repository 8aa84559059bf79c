/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Level 5: write a scanned message back out with a proxy's edits (RFC 3261
 * §16.6 steps 2-8, §16.7 step 3), and build a response to a request
 * (§8.2.6). Both write into a caller buffer and never allocate.
 *
 * spl_sipmsg_serialize() makes one pass over the framed message. Every edit
 * sits at a known offset (start line, a header line, the end of the header
 * section, the body), so the pass keeps a cursor into the input and copies
 * the bytes up to the next edit point as one run: an unedited message is a
 * single memcpy.
 *
 * What the serializer needs from the message: only spl_sipmsg_scan() with
 * E_NONE. The two list edits (remove the top via-parm, remove the top Route
 * value) re-parse one value of the first Via / Route line locally with
 * spl_sip_via_next() / spl_sip_nameaddr_next() instead of reading
 * m->vias / m->route: the message is const, the caller need not have asked
 * for P_VIA or P_ROUTE, and parsing one value is cheap.
 *
 * Lines we copy keep their terminators (a bare-LF message stays LF for its
 * copied lines) and a value we rewrite keeps its name and spacing ("l: 0"
 * stays compact): an unedited message must round-trip byte for byte, and
 * an edited one should differ only where edited. The Content-Length rules
 * (identity without edits, normalised with any) are in spl_sipmsg.h.
 */
#include <limits.h>

#include "sipmsg_priv.h"

/* ------------------------------------------------------------------ */
/* Bounded writer: once anything does not fit, nothing more is written and
 * the result is -1. The same flag carries "an edit cannot apply". */

struct wr {
	char *p;
	uint32_t cap;
	uint32_t len;
	bool fail;
};

static inline void wr_put(struct wr *w, const char *s, uint32_t n)
{
	if (SPL_UNLIKELY(w->fail || n > w->cap - w->len)) {
		w->fail = true;
		return;
	}
	if (n) {
		memcpy(w->p + w->len, s, n);
		w->len += n;
	}
}

static inline void wr_lit(struct wr *w, const char *s) { wr_put(w, s, (uint32_t)strlen(s)); }

static void wr_uint(struct wr *w, uint32_t v)
{
	char tmp[10];
	int i = (int)sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	wr_put(w, tmp + i, (uint32_t)(sizeof(tmp) - (unsigned)i));
}

/* A caller-supplied header line plus CRLF. An empty line would end the
 * header section early, so it is refused. */
static void wr_line(struct wr *w, struct spl_str line)
{
	if (!line.p || line.len == 0) {
		w->fail = true;
		return;
	}
	wr_put(w, line.p, line.len);
	wr_put(w, "\r\n", 2);
}

/* Bytes with CR and LF left out: a folded value comes out on one line, the
 * whitespace that followed each fold keeping it LWS. */
static void wr_unfolded(struct wr *w, const char *p, const char *end)
{
	while (p < end) {
		const char *q = p;
		while (q < end && *q != '\r' && *q != '\n')
			q++;
		wr_put(w, p, (uint32_t)(q - p));
		while (q < end && (*q == '\r' || *q == '\n'))
			q++;
		p = q;
	}
}

static inline bool wr_at_line_start(const struct wr *w)
{
	return w->len == 0 || w->p[w->len - 1] == '\n';
}

/* ------------------------------------------------------------------ */
/* Serialisation */

struct ser {
	struct wr w;
	const char *base;   /* m->buf */
	uint32_t cur;       /* input copied (or skipped) up to here */
};

static inline void copy_to(struct ser *s, uint32_t off)
{
	if (SPL_UNLIKELY(off < s->cur)) {  /* overlapping edits */
		s->w.fail = true;
		return;
	}
	wr_put(&s->w, s->base + s->cur, off - s->cur);
	s->cur = off;
}

static inline void skip_to(struct ser *s, uint32_t off)
{
	if (SPL_UNLIKELY(off < s->cur))
		s->w.fail = true;
	else
		s->cur = off;
}

static inline uint32_t off_of(const struct ser *s, const char *p) { return (uint32_t)(p - s->base); }

static inline bool edit_removes(const struct spl_sipmsg_edits *e, uint16_t i)
{
	return (e->remove[i / 64] >> (i % 64)) & 1u;
}

static bool edits_any(const struct spl_sipmsg_edits *e)
{
	if (e->ruri.p || e->via.p || e->remove_top_via || e->remove_top_route ||
	    e->max_forwards != SPL_SIPMSG_MF_KEEP || e->n_rr || e->n_append || e->replace_body)
		return true;
	for (size_t k = 0; k < sizeof(e->remove) / sizeof(e->remove[0]); k++)
		if (e->remove[k])
			return true;
	return false;
}

/*
 * The first value of a comma-separated header line ends at `first_end`.
 * Returns where the second value starts, NULL when the first is the only
 * one, or sets *bad when something other than a comma follows or the list
 * has an empty element (RFC 4475 §3.1.2.1 shapes such lines as invalid).
 */
static const char *next_value(const char *first_end, const char *end, bool *bad)
{
	const char *p = sip_skip_lws(first_end, end);
	if (p == end)
		return NULL;
	if (*p != ',') {
		*bad = true;
		return NULL;
	}
	p = sip_skip_lws(p + 1, end);
	if (p == end || *p == ',')
		*bad = true;
	return p;
}

/*
 * Drop the first value of header line h: the whole line when it holds one
 * value, else the value, its comma and the LWS after it ("Via: a, b" →
 * "Via: b"). `first_end` is where the parsed first value ends.
 */
static void cut_first_value(struct ser *s, const struct spl_sip_hdr *h, const char *first_end)
{
	const char *vend = h->value.p + h->value.len;
	bool bad = false;
	const char *next;

	if (first_end < h->value.p || first_end > vend) {
		s->w.fail = true;
		return;
	}
	next = next_value(first_end, vend, &bad);
	if (bad) {
		s->w.fail = true;
		return;
	}
	if (!next) {
		copy_to(s, h->off);
		skip_to(s, h->off + h->len);
	} else {
		copy_to(s, off_of(s, h->value.p));
		skip_to(s, off_of(s, next));
	}
}

static void cut_top_via(struct ser *s, const struct spl_sip_hdr *h)
{
	struct spl_str rest = h->value;
	struct spl_sip_via v;
	if (spl_sip_via_next(&rest, &v) != 1 || !v.raw.p) {
		s->w.fail = true;
		return;
	}
	cut_first_value(s, h, v.raw.p + v.raw.len);
}

static void cut_top_route(struct ser *s, const struct spl_sip_hdr *h)
{
	struct spl_str rest = h->value;
	struct spl_sip_nameaddr na;
	if (spl_sip_nameaddr_next(&rest, &na) != 1 || !na.raw.p) {
		s->w.fail = true;
		return;
	}
	cut_first_value(s, h, na.raw.p + na.raw.len);
}

/* 1*DIGIT (leading zeros allowed, RFC 4475 §3.1.1.1); -1 when malformed. */
static int64_t parse_digits(struct spl_str v)
{
	int64_t n = 0;
	if (v.len == 0)
		return -1;
	for (uint32_t i = 0; i < v.len; i++) {
		if (!sip_is_digit(v.p[i]))
			return -1;
		n = n * 10 + (v.p[i] - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	return n;
}

/* Replace the (trimmed) value of line h, keeping its name, spacing and
 * terminator. */
static void replace_value_uint(struct ser *s, const struct spl_sip_hdr *h, uint32_t v)
{
	copy_to(s, off_of(s, h->value.p));
	wr_uint(&s->w, v);
	skip_to(s, off_of(s, h->value.p) + h->value.len);
}

/* Where Record-Route lines go when the message has none: after the run of
 * Via lines at the top (or first when there is no Via). */
static uint16_t rr_insert_at(const struct spl_sipmsg *m)
{
	uint16_t i = m->first[SPL_SIP_HDR_RECORD_ROUTE];
	if (i != SPL_SIPMSG_NONE)
		return i;
	i = m->first[SPL_SIP_HDR_VIA];
	if (i == SPL_SIPMSG_NONE)
		return 0;
	while (i < m->nhdrs && m->hdrs[i].id == SPL_SIP_HDR_VIA)
		i++;
	return i;
}

static void insert_before(struct ser *s, const struct spl_sipmsg *m, uint16_t i,
			  const struct spl_sipmsg_edits *e, uint16_t via_at, uint16_t rr_at)
{
	uint32_t at = i < m->nhdrs ? m->hdrs[i].off : m->hdr_end;
	if (i == via_at && e->via.p) {
		copy_to(s, at);
		wr_line(&s->w, e->via);
	}
	if (i == rr_at && e->n_rr) {
		if (e->n_rr > 2) {
			s->w.fail = true;
			return;
		}
		copy_to(s, at);
		for (uint8_t k = 0; k < e->n_rr; k++)
			wr_line(&s->w, e->rr[k]);
	}
}

int spl_sipmsg_serialize(const struct spl_sipmsg *m, const struct spl_sipmsg_edits *e,
			 char *out, uint32_t cap)
{
	static const struct spl_sipmsg_edits none = { .max_forwards = SPL_SIPMSG_MF_KEEP };
	struct ser s = {
		.w = { .p = out, .cap = cap > INT_MAX ? INT_MAX : cap },
		.base = m->buf,
	};
	if (!e)
		e = &none;
	const bool edited = edits_any(e);

	/* Check every edit can apply before writing anything. */
	if (e->n_append > SPL_SIPMSG_MAX_EDIT_LINES || e->n_rr > 2)
		return -1;
	if (e->ruri.p && (!m->request || !m->ruri.p || e->ruri.len == 0 || m->ruri.p < m->buf ||
			  m->ruri.p + m->ruri.len > m->buf + m->start_len))
		return -1;
	if (e->remove_top_via && m->first[SPL_SIP_HDR_VIA] == SPL_SIPMSG_NONE)
		return -1;
	if (e->remove_top_route && m->first[SPL_SIP_HDR_ROUTE] == SPL_SIPMSG_NONE)
		return -1;
	if (m->hdr_end > m->body_off || m->body_off > m->len || m->len > m->buf_len)
		return -1;

	/* Max-Forwards (RFC 3261 §16.6 step 3). */
	const uint16_t mf_line = m->first[SPL_SIP_HDR_MAX_FORWARDS];
	const bool mf_present = mf_line != SPL_SIPMSG_NONE && !edit_removes(e, mf_line);
	int64_t mf_new = -1;    /* value to write, -1: leave alone */
	if (e->max_forwards == SPL_SIPMSG_MF_DECREMENT) {
		if (mf_present) {
			int64_t v = parse_digits(m->hdrs[mf_line].value);
			if (v <= 0)
				return -1;  /* 0 must be answered 483, not forwarded */
			mf_new = v - 1;
		} else {
			mf_new = 70;
		}
	} else if (e->max_forwards >= 0 && e->max_forwards <= 255) {
		mf_new = e->max_forwards;
	} else if (e->max_forwards != SPL_SIPMSG_MF_KEEP) {
		return -1;
	}

	/* Content-Length: the first line not removed by index is the one kept. */
	uint16_t cl_keep = SPL_SIPMSG_NONE;
	for (uint16_t i = m->first[SPL_SIP_HDR_CONTENT_LENGTH]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next)
		if (!edit_removes(e, i)) {
			cl_keep = i;
			break;
		}
	const uint32_t body_len = e->replace_body ? e->body.len : m->body.len;
	if (e->replace_body && e->body.len && !e->body.p)
		return -1;

	const uint16_t via_line = m->first[SPL_SIP_HDR_VIA];
	const uint16_t route_line = m->first[SPL_SIP_HDR_ROUTE];
	const uint16_t via_at = via_line != SPL_SIPMSG_NONE ? via_line : 0;
	const uint16_t rr_at = rr_insert_at(m);

	/* Start line (§16.6 step 6 rewrites the Request-URI). */
	if (e->ruri.p) {
		copy_to(&s, off_of(&s, m->ruri.p));
		wr_put(&s.w, e->ruri.p, e->ruri.len);
		skip_to(&s, off_of(&s, m->ruri.p) + m->ruri.len);
	}

	for (uint16_t i = 0; i < m->nhdrs && !s.w.fail; i++) {
		const struct spl_sip_hdr *h = &m->hdrs[i];
		insert_before(&s, m, i, e, via_at, rr_at);

		if (edit_removes(e, i) ||
		    (edited && h->id == SPL_SIP_HDR_CONTENT_LENGTH && i != cl_keep)) {
			copy_to(&s, h->off);
			skip_to(&s, h->off + h->len);
		} else if (i == via_line && e->remove_top_via) {
			cut_top_via(&s, h);
		} else if (i == route_line && e->remove_top_route) {
			cut_top_route(&s, h);
		} else if (i == mf_line && mf_new >= 0) {
			replace_value_uint(&s, h, (uint32_t)mf_new);
		} else if (i == cl_keep && (!m->has_content_length || body_len != m->content_length)) {
			replace_value_uint(&s, h, body_len);
		}
	}

	/* End of the header section: inserted lines go after the last header.
	 * The scanner tolerates a datagram that ends without even a line end;
	 * nothing may be appended to such a line. */
	copy_to(&s, m->hdr_end);
	if (edited && !s.w.fail && !wr_at_line_start(&s.w))
		wr_put(&s.w, "\r\n", 2);
	insert_before(&s, m, m->nhdrs, e, via_at, rr_at);
	if (!mf_present && mf_new >= 0) {
		wr_lit(&s.w, "Max-Forwards: ");
		wr_uint(&s.w, (uint32_t)mf_new);
		wr_put(&s.w, "\r\n", 2);
	}
	for (uint8_t k = 0; k < e->n_append; k++)
		wr_line(&s.w, e->append[k]);
	if (edited && cl_keep == SPL_SIPMSG_NONE) {
		wr_lit(&s.w, "Content-Length: ");
		wr_uint(&s.w, body_len);
		wr_put(&s.w, "\r\n", 2);
	}

	/* The empty line, then the body. */
	if (m->body_off > m->hdr_end)
		copy_to(&s, m->body_off);
	else if (edited)
		wr_put(&s.w, "\r\n", 2);
	if (e->replace_body) {
		skip_to(&s, m->len);
		wr_put(&s.w, e->body.p, e->body.len);
	} else {
		copy_to(&s, m->len);
	}
	return s.w.fail ? -1 : (int)s.w.len;
}

/* ------------------------------------------------------------------ */
/* Responses (RFC 3261 §8.2.6) */

/* Header line h as "name: value" on one physical line plus CRLF; nothing
 * else of the request is trusted to be well-formed here (we may be
 * answering 400 to it). */
static void wr_hdr_line(struct wr *w, const struct spl_sipmsg *m, const struct spl_sip_hdr *h,
			struct spl_str append_tag)
{
	const char *b = m->buf + h->off;
	const char *line_end = b + h->len;
	const char *vend = h->value.p + h->value.len;
	if (vend < b || vend > line_end) {  /* defensive: fall back to the line */
		vend = line_end;
		while (vend > b && (vend[-1] == '\r' || vend[-1] == '\n'))
			vend--;
	}
	wr_unfolded(w, b, vend);
	if (append_tag.p) {
		wr_lit(w, ";tag=");
		wr_put(w, append_tag.p, append_tag.len);
	}
	wr_put(w, "\r\n", 2);
}

/* Does the request's To carry a tag? Uses the parse cache when the caller
 * parsed P_TO, else parses the one value. An unparseable To is left as it
 * is (we are probably answering 400 to it). */
static bool to_has_tag_or_unknown(const struct spl_sipmsg *m, const struct spl_sip_hdr *h)
{
	if ((m->parsed & SPL_SIPMSG_P_TO) && !(m->parse_failed & SPL_SIPMSG_P_TO))
		return m->to.tag.p != NULL;
	struct spl_sip_nameaddr na;
	if (spl_sip_nameaddr_parse(h->value.p, h->value.len, &na) != 0)
		return true;
	return na.tag.p != NULL;
}

static void wr_first(struct wr *w, const struct spl_sipmsg *m, enum spl_sip_hdr_id id)
{
	const struct spl_sip_hdr *h = spl_sipmsg_hdr(m, id);
	if (h)
		wr_hdr_line(w, m, h, SPL_STR_NULL);
}

int spl_sipmsg_build_response(const struct spl_sipmsg *req, uint16_t status,
			      const char *reason, struct spl_str to_tag,
			      const struct spl_str *extra, unsigned n_extra,
			      char *out, uint32_t cap)
{
	struct wr w = { .p = out, .cap = cap > INT_MAX ? INT_MAX : cap };

	if (!req->request || status < 100 || status > 699 || (n_extra && !extra))
		return -1;
	if (!reason)
		reason = spl_sip_status_phrase(status);
	if (!reason)
		reason = "";

	char code[4] = { (char)('0' + status / 100), (char)('0' + status / 10 % 10),
			 (char)('0' + status % 10), ' ' };
	wr_lit(&w, "SIP/2.0 ");
	wr_put(&w, code, 4);
	wr_lit(&w, reason);
	wr_put(&w, "\r\n", 2);

	/* §8.2.6.2: Via values in order, as received (the lines, so that a
	 * multi-value line stays one line). */
	for (uint16_t i = req->first[SPL_SIP_HDR_VIA]; i != SPL_SIPMSG_NONE; i = req->hdrs[i].next)
		wr_hdr_line(&w, req, &req->hdrs[i], SPL_STR_NULL);

	/* A missing header is left out rather than refusing to answer: a 400
	 * to RFC 4475 §3.3.1 (no From/To/Call-ID) still needs writing. Of
	 * repeated lines only the first is copied. */
	wr_first(&w, req, SPL_SIP_HDR_FROM);
	const struct spl_sip_hdr *to = spl_sipmsg_hdr(req, SPL_SIP_HDR_TO);
	if (to) {
		bool add = to_tag.p && to_tag.len && !to_has_tag_or_unknown(req, to);
		wr_hdr_line(&w, req, to, add ? to_tag : SPL_STR_NULL);
	}
	wr_first(&w, req, SPL_SIP_HDR_CALL_ID);
	wr_first(&w, req, SPL_SIP_HDR_CSEQ);
	if (status == 100)  /* §8.2.6.1 */
		wr_first(&w, req, SPL_SIP_HDR_TIMESTAMP);

	for (unsigned k = 0; k < n_extra; k++)
		wr_line(&w, extra[k]);
	wr_lit(&w, "Content-Length: 0\r\n\r\n");
	return w.fail ? -1 : (int)w.len;
}
