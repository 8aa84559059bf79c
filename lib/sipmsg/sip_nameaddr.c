/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1):
 *   value        = ( name-addr / addr-spec ) *( SEMI param )
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 * Two readings the ABNF leaves open are settled as RFC 4475 asks: a token
 * display name may touch the '<' (lwsdisp), and without <> the URI ends at
 * the first ';', what follows being header params (cparam01).
 */
#include "sipmsg_priv.h"

static int header_params(struct spl_sip_nameaddr *na)
{
	struct spl_sip_param_iter it;
	struct spl_str n, v;
	int r;

	spl_sip_param_iter_init(&it, na->params, ';');
	while ((r = spl_sip_param_next(&it, &n, &v)) == 1) {
		/* generic-param = token [ EQUAL gen-value ] */
		if (!sip_all(n, SIP_C_TOKEN))
			return -1;
		struct spl_str *dst = NULL;
		if (SIP_IEQ(n.p, n.len, "tag")) dst = &na->tag;
		else if (SIP_IEQ(n.p, n.len, "q")) dst = &na->q;
		else if (SIP_IEQ(n.p, n.len, "expires")) dst = &na->expires;
		if (dst == NULL || dst->p != NULL)
			continue;
		if (v.p == NULL)
			return -1;   /* tag, q and expires always carry a value */
		*dst = v;
	}
	return r == 0 ? 0 : -1;
}

/* Parse one value in [p, end) (already trimmed, no top-level comma). */
static int nameaddr_value(const char *p, const char *end, struct spl_sip_nameaddr *na)
{
	const char *q;

	na->raw = sip_str(p, end);
	if (*p == '*' && sip_skip_lws(p + 1, end) == end) {
		na->star = true;   /* Contact: *; the caller decides if it is allowed */
		return 0;
	}

	if (*p == '"') {
		q = spl_sip_quoted_end(p, end);
		if (q == NULL)
			return -1;   /* RFC 4475 quotbal */
		na->display = sip_str(p, q);
		q = sip_skip_lws(q, end);
		if (q >= end || *q != '<')
			return -1;
	} else {
		/* *(token LWS): stop at the first byte that is neither. Only
		 * '<' makes this a display name; anything else means there was
		 * none and the value is an addr-spec (or garbage, as the comma
		 * in RFC 4475 baddn's "Bell, Alexander <...>" turns out to be). */
		q = p;
		for (;;) {
			while (q < end && sip_is((unsigned char)*q, SIP_C_TOKEN))
				q++;
			const char *w = sip_skip_lws(q, end);
			if (w == q)
				break;
			q = w;
		}
		if (q < end && *q == '<') {
			const char *de = sip_rtrim_lws(p, q);
			if (de > p)
				na->display = sip_str(p, de);
		} else {
			q = NULL;
		}
	}

	const char *after;
	if (q != NULL) {
		/* name-addr: the URI runs to '>', which no URI may hold
		 * unescaped; the URI parser rejects the spaces of RFC 4475
		 * badaspec's "< sip:... >". */
		const char *u = q + 1;
		const char *ra = memchr(u, '>', (size_t)(end - u));
		if (ra == NULL)
			return -1;
		na->angle = true;
		na->uri_str = sip_str(u, ra);
		after = ra + 1;
	} else {
		/* addr-spec: up to the first ';' or LWS. It may not hold ',', '?'
		 * (§20: such URIs need <>; RFC 4475 regbadct) or ';' (which is
		 * where the header params begin). */
		const char *u = p;
		while (u < end && *u != ';' && !sip_is_ws(*u) && *u != '\r' && *u != '\n') {
			if (*u == '?' || *u == ',')
				return -1;
			u++;
		}
		na->uri_str = sip_str(p, u);
		after = u;
	}
	if (spl_sip_uri_parse(na->uri_str.p, na->uri_str.len, &na->uri) != 0)
		return -1;

	after = sip_skip_lws(after, end);
	if (after == end)
		return 0;
	if (*after != ';')
		return -1;
	after = sip_skip_lws(after + 1, end);
	if (after >= end)
		return -1;   /* a trailing ';' (RFC 4475 badinv01) */
	na->params = sip_str(after, end);
	return header_params(na);
}

/*
 * The end of one list element: the first ',' that is outside a
 * quoted-string and outside <>. A quoted display name may hold commas
 * ("Bell, Alexander"), and a URI in <> may too (RFC 4475 intmeth).
 */
static const char *element_end(const char *p, const char *end)
{
	while (p < end) {
		char c = *p;
		if (c == ',')
			return p;
		if (c == '"') {
			p = spl_sip_quoted_end(p, end);
			if (p == NULL)
				return NULL;
			continue;
		}
		if (c == '<') {
			const char *ra = memchr(p, '>', (size_t)(end - p));
			if (ra == NULL)
				return NULL;
			p = ra + 1;
			continue;
		}
		p++;
	}
	return p;
}

/*
 * The fast path: one element in the shapes headers nearly always have,
 *   ["quoted" SP* / token *(SP token) SP*] "<" URI ">" *(";" param)
 *   or URI *(";" param), with single-byte separators,
 * read left to right once, the URI by sip_uri_fast(). It returns the
 * element's end (its ',' or the list end) with *na filled as the full
 * grammar would fill it, or NULL to hand the element over unchanged:
 * any LWS other than SP runs in the display name, folds, quoted or
 * unusual parameter values, "*", and whatever sip_uri_fast() declines.
 */
static inline __attribute__((always_inline)) const char *
nameaddr_fast(const char *p, const char *end, const char *lim, struct spl_sip_nameaddr *na)
{
	const char *q = p;

	if (*p == '"') {
		q = sip_span(p + 1, end, lim, &sip_nib_qdtext);
		if (q < end && *q == '"')
			q++;
		else if ((q = spl_sip_quoted_end(p, end)) == NULL)
			return NULL;
		na->display = sip_str(p, q);
		while (q < end && *q == ' ')
			q++;
		if (q >= end || *q != '<')
			return NULL;
	} else if (*p != '<') {
		const char *de = p;
		for (;;) {
			const char *t = sip_span(q, end, lim, &sip_nib_token);
			if (t > q)
				de = t;
			q = t;
			if (q < end && *q == ' ') {
				while (q < end && *q == ' ')
					q++;
				continue;
			}
			break;
		}
		if (q < end && *q == '<') {
			if (de > p)
				na->display = sip_str(p, de);
		} else if (q < end && (sip_is_ws(*q) || *q == '\r' || *q == '\n')) {
			return NULL;
		} else {
			q = NULL;   /* no '<': an addr-spec */
		}
	}

	const char *after;
	if (q != NULL) {
		const char *u = q + 1;
		const char *ra = sip_uri_fast(u, end, lim, &na->uri, SIP_URI_ANGLE);
		if (ra == NULL)
			return NULL;
		na->angle = true;
		na->uri_str = sip_str(u, ra);
		after = ra + 1;
	} else {
		if (*p == '*')
			return NULL;
		after = sip_uri_fast(p, end, lim, &na->uri, SIP_URI_ADDRSPEC);
		if (after == NULL)
			return NULL;
		na->uri_str = sip_str(p, after);
	}

	if (after < end && *after == ';') {
		const char *ps = ++after;
		q = ps;
		for (;;) {
			const char *n = q;
			q = sip_span(q, end, lim, &sip_nib_token);
			if (q == n)
				return NULL;
			const uint32_t nl = (uint32_t)(q - n);
			struct spl_str val = SPL_STR_NULL;
			if (q < end && *q == '=') {
				const char *v = ++q;
				q = sip_span(q, end, lim, &sip_nib_pvalue);
				if (q == v || *v == '=')
					return NULL;
				val = sip_str(v, q);
			}
			/* tag, q, expires: letters only, so OR-ing 0x20 folds case exactly */
			struct spl_str *dst = NULL;
			if (nl == 3 && sip_ld2_lc(n) == ('t' | 'a' << 8) && (n[2] | 0x20) == 'g')
				dst = &na->tag;
			else if (nl == 1 && (n[0] | 0x20) == 'q')
				dst = &na->q;
			else if (nl == 7 && sip_ld4_lc(n) == ('e' | 'x' << 8 | 'p' << 16 | (uint32_t)'i' << 24) &&
				 sip_ld4_lc(n + 3) == ('i' | 'r' << 8 | 'e' << 16 | (uint32_t)'s' << 24))
				dst = &na->expires;
			if (dst != NULL && dst->p == NULL) {
				if (val.p == NULL)
					return NULL;
				*dst = val;
			}
			if (q < end && *q == ';') {
				q++;
				continue;
			}
			break;
		}
		na->params = sip_str(ps, q);
		after = q;
	}
	if (after < end && *after != ',')
		return NULL;
	na->raw = sip_str(p, after);
	return after;
}

static int nameaddr_next(struct spl_str *rest, struct spl_sip_nameaddr *na, const char *lim)
{
	SIP_ZERO(na);
	if (rest->p == NULL)
		return 0;
	const char *p = rest->p, *end = p + rest->len;

	p = sip_skip_lws(p, end);
	if (p >= end) {
		*rest = (struct spl_str){ end, 0 };
		return 0;
	}
	const char *e = nameaddr_fast(p, end, lim, na);
	if (e != NULL)
		goto tail;
	memset(na, 0, sizeof(*na));
	e = element_end(p, end);
	if (e == NULL)
		return -1;
	const char *ve = sip_rtrim_lws(p, e);
	if (ve == p)
		return -1;   /* empty element: ",," or a leading ',' */
	if (nameaddr_value(p, ve, na) != 0)
		return -1;
tail:
	if (e < end) {
		e = sip_skip_lws(e + 1, end);
		if (e >= end || *e == ',')
			return -1;   /* trailing or doubled comma */
	}
	*rest = sip_str(e, end);
	return 1;
}

int spl_sip_nameaddr_next(struct spl_str *rest, struct spl_sip_nameaddr *na)
{
	return nameaddr_next(rest, na, rest->p);
}

int sip_nameaddr_next_in(struct spl_str *rest, struct spl_sip_nameaddr *na, const char *lim)
{
	return nameaddr_next(rest, na, lim);
}

int spl_sip_nameaddr_parse(const char *p, uint32_t len, struct spl_sip_nameaddr *na)
{
	struct spl_str rest = { p, len };

	if (p == NULL || spl_sip_nameaddr_next(&rest, na) != 1)
		return -1;
	return rest.len == 0 ? 0 : -1;
}
