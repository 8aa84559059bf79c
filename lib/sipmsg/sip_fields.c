/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small header grammars: numbers, CSeq, token lists, q-values, auth
 * credentials and challenges, Retry-After, Content-Type.
 */
#include "sipmsg_priv.h"

static inline const char *token_end(const char *p, const char *end)
{
	while (p < end && sip_is((unsigned char)*p, SIP_C_TOKEN))
		p++;
	return p;
}

/* Digits only; leading zeros are fine (RFC 4475 wsinv "0009"), and the
 * running value is checked against max on every digit so no length of
 * input can overflow (RFC 4475 scalar02/scalarlg). */
static int digits_value(const char *p, const char *end, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (p >= end)
		return -1;
	for (; p < end; p++) {
		if (!sip_is_digit(*p))
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int spl_sip_uint_parse(const char *p, uint32_t len, uint32_t max, uint32_t *out)
{
	if (p == NULL)
		return -1;
	const char *end = p + len;
	p = sip_skip_lws(p, end);
	end = sip_rtrim_lws(p, end);
	return digits_value(p, end, max, out);
}

int spl_sip_cseq_parse(const char *p, uint32_t len, struct spl_sip_cseq *c)
{
	return sip_cseq_parse_in(p, len, c, p);
}

int sip_cseq_parse_in(const char *p, uint32_t len, struct spl_sip_cseq *c, const char *lim)
{
	const char *end = p + len;

	/* The usual "DIGITS SP Method", nothing else: read once. Nine digits
	 * cannot overflow; anything longer or spaced differently goes on. */
	if (len >= 3 && sip_is_digit(*p)) {
		const char *q = p;
		uint32_t v = 0;
		const char *const q9 = end - p > 9 ? p + 9 : end;
		while (q < q9 && sip_is_digit(*q)) {
			v = v * 10 + (uint32_t)(*q - '0');
			q++;
		}
		if (q < end && *q == ' ') {
			const char *m = q + 1;
			const char *t = sip_span(m, end, lim, &sip_nib_token);
			if (t == end && t > m) {
				c->num = v;
				c->method = sip_str(m, t);
				c->method_id = (uint8_t)spl_sip_method_lookup(m, (uint32_t)(t - m));
				return 0;
			}
		}
	}

	*c = (struct spl_sip_cseq){ 0 };
	p = sip_skip_lws(p, end);
	end = sip_rtrim_lws(p, end);
	const char *d = p;
	uint64_t v = 0;
	while (p < end && sip_is_digit(*p)) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -1;
		p++;
	}
	if (p == d)
		return -1;
	c->num = (uint32_t)v;
	const char *m = sip_skip_lws(p, end);
	if (m == p)
		return -1;   /* CSeq = 1*DIGIT LWS Method */
	p = sip_span(m, end, lim, &sip_nib_token);
	if (p == m || p != end)
		return -1;
	c->method = sip_str(m, p);
	c->method_id = (uint8_t)spl_sip_method_lookup(m, (uint32_t)(p - m));
	return 0;
}

int spl_sip_token_next(struct spl_str *rest, struct spl_str *tok)
{
	if (rest->p == NULL)
		return 0;
	const char *p = rest->p, *end = p + rest->len;

	p = sip_skip_lws(p, end);
	if (p >= end) {
		*rest = (struct spl_str){ end, 0 };
		return 0;
	}
	const char *t = p;
	p = token_end(p, end);
	if (p == t)
		return -1;
	*tok = sip_str(t, p);
	p = sip_skip_lws(p, end);
	if (p < end) {
		if (*p != ',')
			return -1;
		p = sip_skip_lws(p + 1, end);
		if (p >= end || *p == ',')
			return -1;   /* "a,", "a,,b": an empty element */
	}
	*rest = sip_str(p, end);
	return 1;
}

int spl_sip_q_parse(struct spl_str q)
{
	/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
	if (q.p == NULL)
		return 1000;
	if (q.len == 0 || q.len > 5 || (q.p[0] != '0' && q.p[0] != '1'))
		return -1;
	int v = q.p[0] == '1' ? 1000 : 0;
	if (q.len == 1)
		return v;
	if (q.p[1] != '.')
		return -1;
	static const int scale[3] = { 100, 10, 1 };
	for (uint32_t i = 2; i < q.len; i++) {
		if (!sip_is_digit(q.p[i]) || (v == 1000 && q.p[i] != '0'))
			return -1;
		v += (q.p[i] - '0') * scale[i - 2];
	}
	return v;
}

/* A quoted value's content without the quotes; a bare value as is. */
static struct spl_str unquote(struct spl_str v)
{
	if (v.len >= 2 && v.p[0] == '"')
		return (struct spl_str){ v.p + 1, v.len - 2 };
	return v;
}

int spl_sip_auth_parse(const char *p, uint32_t len, struct spl_sip_auth *a)
{
	const char *end = p + len;

	memset(a, 0, sizeof(*a));
	p = sip_skip_lws(p, end);
	end = sip_rtrim_lws(p, end);
	const char *s = p;
	p = token_end(p, end);
	if (p == s)
		return -1;
	a->scheme = sip_str(s, p);
	const char *q = sip_skip_lws(p, end);
	if (q == p || q >= end)
		return -1;   /* scheme LWS auth-param *(COMMA auth-param) */
	a->params = sip_str(q, end);

	struct spl_sip_param_iter it;
	struct spl_str n, v;
	int r;
	spl_sip_param_iter_init(&it, a->params, ',');
	while ((r = spl_sip_param_next(&it, &n, &v)) == 1) {
		if (v.p == NULL || !sip_all(n, SIP_C_TOKEN))
			return -1;   /* auth-param = token EQUAL ( token / quoted-string ) */
		struct spl_str u = unquote(v);
		struct spl_str *dst = NULL;
		switch (sip_lower(n.p[0])) {
		case 'a': if (SIP_IEQ(n.p, n.len, "algorithm")) dst = &a->algorithm; break;
		case 'c': if (SIP_IEQ(n.p, n.len, "cnonce")) dst = &a->cnonce; break;
		case 'd': if (SIP_IEQ(n.p, n.len, "domain")) dst = &a->domain; break;
		case 'n':
			if (SIP_IEQ(n.p, n.len, "nonce")) dst = &a->nonce;
			else if (SIP_IEQ(n.p, n.len, "nc")) dst = &a->nc;
			break;
		case 'o': if (SIP_IEQ(n.p, n.len, "opaque")) dst = &a->opaque; break;
		case 'q': if (SIP_IEQ(n.p, n.len, "qop")) dst = &a->qop; break;
		case 'r':
			if (SIP_IEQ(n.p, n.len, "realm")) dst = &a->realm;
			else if (SIP_IEQ(n.p, n.len, "response")) dst = &a->response;
			break;
		case 's': if (SIP_IEQ(n.p, n.len, "stale")) dst = &a->stale; break;
		case 'u':
			if (SIP_IEQ(n.p, n.len, "username")) dst = &a->username;
			else if (SIP_IEQ(n.p, n.len, "uri")) dst = &a->uri;
			break;
		}
		if (dst != NULL && dst->p == NULL)
			*dst = u;
	}
	return r == 0 ? 0 : -1;
}

/* comment = "(" *(ctext / quoted-pair / comment) ")": nesting is tracked
 * with a depth counter, not recursion. Returns the byte after ")". */
static const char *comment_end(const char *p, const char *end)
{
	unsigned depth = 0;
	for (; p < end; p++) {
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (--depth == 0)
				return p + 1;
		}
	}
	return NULL;
}

int spl_sip_retry_after_parse(const char *p, uint32_t len, struct spl_sip_retry_after *r)
{
	const char *end = p + len;

	memset(r, 0, sizeof(*r));
	p = sip_skip_lws(p, end);
	end = sip_rtrim_lws(p, end);
	const char *d = p;
	while (p < end && sip_is_digit(*p))
		p++;
	if (digits_value(d, p, UINT32_MAX, &r->seconds) != 0)
		return -1;
	p = sip_skip_lws(p, end);
	if (p < end && *p == '(') {
		const char *c = p;
		p = comment_end(p, end);
		if (p == NULL)
			return -1;
		r->comment = sip_str(c, p);
		p = sip_skip_lws(p, end);
	}
	if (p == end)
		return 0;
	if (*p != ';')
		return -1;
	r->params = sip_str(sip_skip_lws(p + 1, end), end);
	if (r->params.len == 0)
		return -1;

	struct spl_sip_param_iter it;
	struct spl_str n, v;
	int rc;
	spl_sip_param_iter_init(&it, r->params, ';');
	while ((rc = spl_sip_param_next(&it, &n, &v)) == 1) {
		if (!sip_all(n, SIP_C_TOKEN))
			return -1;
		if (SIP_IEQ(n.p, n.len, "duration")) {
			uint32_t dur;
			if (v.p == NULL || digits_value(v.p, v.p + v.len, UINT32_MAX, &dur) != 0)
				return -1;
			r->duration = v;
		}
	}
	return rc == 0 ? 0 : -1;
}

int spl_sip_ctype_parse(const char *p, uint32_t len, struct spl_sip_ctype *c)
{
	const char *end = p + len;

	memset(c, 0, sizeof(*c));
	p = sip_skip_lws(p, end);
	end = sip_rtrim_lws(p, end);
	const char *t = p;
	p = token_end(p, end);
	if (p == t)
		return -1;
	c->type = sip_str(t, p);
	p = sip_skip_lws(p, end);
	if (p >= end || *p != '/')
		return -1;
	p = sip_skip_lws(p + 1, end);
	t = p;
	p = token_end(p, end);
	if (p == t)
		return -1;
	c->subtype = sip_str(t, p);
	p = sip_skip_lws(p, end);
	if (p == end)
		return 0;
	if (*p != ';')
		return -1;
	c->params = sip_str(sip_skip_lws(p + 1, end), end);
	if (c->params.len == 0)
		return -1;

	struct spl_sip_param_iter it;
	struct spl_str n, v;
	int rc;
	spl_sip_param_iter_init(&it, c->params, ';');
	while ((rc = spl_sip_param_next(&it, &n, &v)) == 1)
		if (v.p == NULL || !sip_all(n, SIP_C_TOKEN))
			return -1;   /* m-parameter = m-attribute EQUAL m-value */
	return rc == 0 ? 0 : -1;
}
