/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP-URI / SIPS-URI (RFC 3261 §19.1.1, §25.1), tel: (RFC 3966, kept
 * coarse) and any other absoluteURI. Escapes stay in the slices: a proxy
 * forwards URIs byte-exact, and only comparison needs them decoded.
 */
#include "sipmsg_priv.h"

/* Every byte of [p, end) is in cls, in `extra`, or starts a valid %HH. */
static int check_chars(const char *p, const char *end, uint16_t cls, const char *extra)
{
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (sip_is(c, cls))
			continue;
		if (c == '%') {
			if (end - p < 3 || sip_hexval(p[1]) < 0 || sip_hexval(p[2]) < 0)
				return -1;
			p += 2;
			continue;
		}
		if (c == 0 || strchr(extra, c) == NULL)
			return -1;
	}
	return 0;
}

/* Unescaped, case-insensitive compare of a name against a lowercase
 * literal: "%6C%72" is "lr" (RFC 4475 esc01). */
static bool esc_ieq(struct spl_str s, const char *lit)
{
	const char *p = s.p, *end = s.p + s.len;
	for (; p < end; p++, lit++) {
		char c = *p;
		if (c == '%' && end - p >= 3) {
			c = (char)(sip_hexval(p[1]) << 4 | sip_hexval(p[2]));
			p += 2;
		}
		if (*lit == 0 || sip_lower(c) != *lit)
			return false;
	}
	return *lit == 0;
}

#define URI_PARAM_CHARS (SIP_C_UNRESERVED | SIP_C_PARAM_UNR)

/* uri-parameters: validate and pick out the ones §19.1.1 gives meaning. */
static int uri_params(struct spl_sip_uri *u, bool sip)
{
	struct spl_sip_param_iter it;
	struct spl_str n, v;
	int r;

	if (u->params.len == 0 ||
	    check_chars(u->params.p, u->params.p + u->params.len, URI_PARAM_CHARS, ";=") != 0)
		return -1;
	spl_sip_param_iter_init(&it, u->params, ';');
	while ((r = spl_sip_param_next(&it, &n, &v)) == 1) {
		if (!sip)
			continue;
		struct spl_str *dst = NULL;
		if (esc_ieq(n, "transport")) dst = &u->transport;
		else if (esc_ieq(n, "user")) dst = &u->user_param;
		else if (esc_ieq(n, "method")) dst = &u->method;
		else if (esc_ieq(n, "ttl")) dst = &u->ttl;
		else if (esc_ieq(n, "maddr")) dst = &u->maddr;
		else if (esc_ieq(n, "lr")) u->lr = true;
		if (dst == NULL)
			continue;
		/* The well-known ones are name=value in the ABNF; a bare
		 * "transport" would silently mean something else. */
		if (v.p == NULL)
			return -1;
		if (dst->p == NULL)
			*dst = v;
	}
	if (r != 0)
		return -1;
	if (u->ttl.p != NULL) {
		unsigned t = 0;
		if (u->ttl.len > 3)
			return -1;
		for (uint32_t i = 0; i < u->ttl.len; i++) {
			if (!sip_is_digit(u->ttl.p[i]))
				return -1;
			t = t * 10 + (unsigned)(u->ttl.p[i] - '0');
		}
		if (t > 255)
			return -1;
	}
	if (u->maddr.p != NULL) {
		struct spl_sip_host mh;
		if (spl_sip_host_parse(u->maddr.p, u->maddr.len, &mh) != 0)
			return -1;
	}
	return 0;
}

static int uri_headers(struct spl_sip_uri *u)
{
	struct spl_sip_param_iter it;
	struct spl_str n, v;
	int r;

	if (u->headers.len == 0 ||
	    check_chars(u->headers.p, u->headers.p + u->headers.len,
			SIP_C_UNRESERVED | SIP_C_HNV_UNR, "&=") != 0)
		return -1;
	spl_sip_param_iter_init(&it, u->headers, '&');
	while ((r = spl_sip_param_next(&it, &n, &v)) == 1)
		if (v.p == NULL)
			return -1;   /* header = hname "=" hvalue */
	return r == 0 ? 0 : -1;
}

static int parse_sip(struct spl_sip_uri *u, const char *p, const char *end)
{
	/* userinfo: the longest run of userinfo characters, if an '@' ends
	 * it. The user part may itself hold ';', '?', '/' (RFC 4475 semiuri,
	 * intmeth), so the '@' decides, not the first delimiter. */
	const char *q = p;
	while (q < end && (sip_is((unsigned char)*q, SIP_C_UNRESERVED | SIP_C_USER_UNR | SIP_C_PASSWD) ||
			   *q == ':' || *q == '%'))
		q++;
	if (q < end && *q == '@') {
		const char *colon = memchr(p, ':', (size_t)(q - p));
		const char *ue = colon ? colon : q;
		if (ue == p || check_chars(p, ue, SIP_C_UNRESERVED | SIP_C_USER_UNR, "") != 0)
			return -1;
		u->user = sip_str(p, ue);
		if (colon) {
			if (check_chars(colon + 1, q, SIP_C_UNRESERVED | SIP_C_PASSWD, "") != 0)
				return -1;
			u->password = sip_str(colon + 1, q);
		}
		p = q + 1;
	}

	/* host: a bracketed IPv6 reference runs to ']', so in
	 * "[2001:db8::10:5070]" every colon is the address's (RFC 5118 §4.3). */
	const char *he;
	if (p < end && *p == '[') {
		he = memchr(p, ']', (size_t)(end - p));
		if (he == NULL)
			return -1;
		he++;
	} else {
		he = p;
		while (he < end && *he != ':' && *he != ';' && *he != '?')
			he++;
	}
	if (spl_sip_host_parse(p, (uint32_t)(he - p), &u->host) != 0)
		return -1;
	p = he;

	if (p < end && *p == ':') {
		const char *ps = ++p;
		uint32_t port = 0;
		while (p < end && sip_is_digit(*p)) {
			port = port * 10 + (uint32_t)(*p - '0');
			if (port > 65535)
				return -1;
			p++;
		}
		if (p == ps)
			return -1;
		u->port_str = sip_str(ps, p);
		u->port = (uint16_t)port;
	}
	if (p < end && *p == ';') {
		const char *ps = ++p;
		while (p < end && *p != '?')
			p++;
		u->params = sip_str(ps, p);
		if (uri_params(u, true) != 0)
			return -1;
	}
	if (p < end && *p == '?') {
		u->headers = sip_str(p + 1, end);
		if (uri_headers(u) != 0)
			return -1;
		p = end;
	}
	return p == end ? 0 : -1;
}

/* tel: number [;params]. Only the split matters to a proxy; the number's
 * own grammar (RFC 3966) is left to whoever routes on it. */
static int parse_tel(struct spl_sip_uri *u, const char *p, const char *end)
{
	const char *ne = memchr(p, ';', (size_t)(end - p));
	if (ne == NULL)
		ne = end;
	if (ne == p || check_chars(p, ne, SIP_C_UNRESERVED, "+") != 0)
		return -1;
	u->user = sip_str(p, ne);
	if (ne < end) {
		u->params = sip_str(ne + 1, end);
		if (uri_params(u, false) != 0)
			return -1;
	}
	return 0;
}

int sip_uri_parse_in(const char *p, uint32_t len, struct spl_sip_uri *u, const char *lim)
{
	if (p != NULL && len != 0) {
		SIP_ZERO(u);
		if (sip_uri_fast(p, p + len, lim, u, SIP_URI_PLAIN) != NULL)
			return 0;
	}
	return sip_uri_parse_full(p, len, u);
}

int spl_sip_uri_parse(const char *p, uint32_t len, struct spl_sip_uri *u)
{
	return sip_uri_parse_in(p, len, u, p);
}

int sip_uri_parse_full(const char *p, uint32_t len, struct spl_sip_uri *u)
{
	memset(u, 0, sizeof(*u));
	if (p == NULL || len == 0)
		return -1;
	const char *end = p + len;
	u->raw = sip_str(p, end);

	/* No URI holds whitespace, CTLs, raw UTF-8, '<', '>' or '"'
	 * (RFC 4475 lwsruri, badaspec, ltgtruri); checking once up front
	 * keeps the per-part scans simple. */
	for (const char *c = p; c < end; c++) {
		unsigned char b = (unsigned char)*c;
		if (b <= 0x20 || b >= 0x7f || b == '<' || b == '>' || b == '"')
			return -1;
	}

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	const char *s = p;
	if (!sip_is((unsigned char)*s, SIP_C_ALPHA))
		return -1;
	while (s < end && (sip_is((unsigned char)*s, SIP_C_ALPHA | SIP_C_DIGIT) ||
			   *s == '+' || *s == '-' || *s == '.'))
		s++;
	if (s >= end || *s != ':' || s + 1 >= end)
		return -1;
	u->scheme = sip_str(p, s);
	const char *r = s + 1;

	if (SIP_IEQ(p, (uint32_t)(s - p), "sip")) {
		u->scheme_id = SPL_SIP_SCHEME_SIP;
		return parse_sip(u, r, end);
	}
	if (SIP_IEQ(p, (uint32_t)(s - p), "sips")) {
		u->scheme_id = SPL_SIP_SCHEME_SIPS;
		return parse_sip(u, r, end);
	}
	if (SIP_IEQ(p, (uint32_t)(s - p), "tel")) {
		u->scheme_id = SPL_SIP_SCHEME_TEL;
		return parse_tel(u, r, end);
	}
	u->scheme_id = SPL_SIP_SCHEME_OTHER;
	u->opaque = sip_str(r, end);
	/* uric = reserved / unreserved / escaped ("[]" for IPv6 in URLs) */
	return check_chars(r, end, SIP_C_UNRESERVED | SIP_C_RESERVED, "[]") == 0 ? 0 : -1;
}
