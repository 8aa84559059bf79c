/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * URI equivalence, RFC 3261 §19.1.4. Both URIs come from
 * spl_sip_uri_parse(), so every '%' starts a valid %HH escape.
 *
 * Parameters and headers are matched by name with a scan of the other
 * URI's list, O(n*m) in the number of parameters. Comparison runs on
 * registrar bindings and loop checks, not on every packet, and real URIs
 * carry a handful of parameters; sorting would need scratch memory.
 */
#include "sipmsg_priv.h"

/* Decoded characters: "%61" and "a" are the same character, but an escaped
 * reserved character is data, not the delimiter it would otherwise be, so
 * "%3B" and ";" differ. */
struct esc_rd {
	const char *p, *end;
};

/* Next character as (code << 1 | escaped-reserved); -1 at the end. */
static inline int esc_next(struct esc_rd *r, bool icase)
{
	if (r->p >= r->end)
		return -1;
	unsigned char c = (unsigned char)*r->p;
	if (c == '%' && r->end - r->p >= 3) {
		c = (unsigned char)(sip_hexval(r->p[1]) << 4 | sip_hexval(r->p[2]));
		r->p += 3;
		if (icase)
			c = (unsigned char)sip_lower((char)c);
		return c << 1 | (sip_is(c, SIP_C_RESERVED) ? 1 : 0);
	}
	r->p++;
	if (icase)
		c = (unsigned char)sip_lower((char)c);
	return c << 1;
}

static bool esc_eq(struct spl_str a, struct spl_str b, bool icase)
{
	struct esc_rd ra = { a.p, a.p + a.len }, rb = { b.p, b.p + b.len };
	if (a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0))
		return true;   /* byte-identical: the common case */
	for (;;) {
		int ca = esc_next(&ra, icase), cb = esc_next(&rb, icase);
		if (ca != cb)
			return false;
		if (ca < 0)
			return true;
	}
}

/* Both absent, or both present and equal. */
static bool opt_eq(struct spl_str a, struct spl_str b, bool icase)
{
	if ((a.p == NULL) != (b.p == NULL))
		return false;
	return a.p == NULL || esc_eq(a, b, icase);
}

static bool esc_ieq_lit(struct spl_str n, const char *lit)
{
	return esc_eq(n, (struct spl_str){ lit, (uint32_t)strlen(lit) }, true);
}

/* The parameters §19.1.4 makes significant even when only one URI has
 * them; they are compared through the parsed fields instead. */
static bool param_is_special(struct spl_str n)
{
	return esc_ieq_lit(n, "transport") || esc_ieq_lit(n, "user") ||
	       esc_ieq_lit(n, "ttl") || esc_ieq_lit(n, "method") ||
	       esc_ieq_lit(n, "maddr");
}

/* Look up a name in a list (case-insensitive, escape-aware). */
static bool list_find(struct spl_str list, char sep, struct spl_str name, struct spl_str *value)
{
	struct spl_sip_param_iter it;
	struct spl_str n, v;
	spl_sip_param_iter_init(&it, list, sep);
	while (spl_sip_param_next(&it, &n, &v) == 1) {
		if (esc_eq(n, name, true)) {
			*value = v;
			return true;
		}
	}
	return false;
}

/* Other uri-parameters: compared only where both URIs have them. */
static bool other_params_eq(const struct spl_sip_uri *a, const struct spl_sip_uri *b)
{
	struct spl_sip_param_iter it;
	struct spl_str n, v, w;

	if (a->params.p == NULL || b->params.p == NULL)
		return true;
	spl_sip_param_iter_init(&it, a->params, ';');
	while (spl_sip_param_next(&it, &n, &v) == 1) {
		if (param_is_special(n))
			continue;
		if (list_find(b->params, ';', n, &w) && !opt_eq(v, w, true))
			return false;
	}
	return true;
}

/* Every header of x is in y with an equal value. */
static bool headers_subset(struct spl_str x, struct spl_str y)
{
	struct spl_sip_param_iter it;
	struct spl_sip_param_iter jt;
	struct spl_str n, v, m, w;

	spl_sip_param_iter_init(&it, x, '&');
	while (spl_sip_param_next(&it, &n, &v) == 1) {
		bool found = false;
		spl_sip_param_iter_init(&jt, y, '&');
		while (!found && spl_sip_param_next(&jt, &m, &w) == 1)
			found = esc_eq(n, m, true) && opt_eq(v, w, true);
		if (!found)
			return false;
	}
	return true;
}

static bool host_eq(const struct spl_sip_host *a, const struct spl_sip_host *b)
{
	if (a->kind != b->kind)
		return false;   /* a name never equals the address it resolves to */
	if (a->kind == SPL_SIP_HOST_IPV4)
		return memcmp(a->ip, b->ip, 4) == 0;
	if (a->kind == SPL_SIP_HOST_IPV6)
		return memcmp(a->ip, b->ip, 16) == 0;
	return spl_str_ieq_str(a->text, b->text);
}

bool spl_sip_uri_equal(const struct spl_sip_uri *a, const struct spl_sip_uri *b)
{
	if (a->scheme_id != b->scheme_id)
		return false;   /* also: a SIP and a SIPS URI are never equivalent */

	if (a->scheme_id != SPL_SIP_SCHEME_SIP && a->scheme_id != SPL_SIP_SCHEME_SIPS) {
		/* Not ours to interpret: byte-exact after the scheme. */
		if (!spl_str_ieq_str(a->scheme, b->scheme))
			return false;
		uint32_t ao = a->scheme.len + 1, bo = b->scheme.len + 1;
		return a->raw.len - ao == b->raw.len - bo &&
		       memcmp(a->raw.p + ao, b->raw.p + bo, a->raw.len - ao) == 0;
	}

	/* userinfo is case-sensitive; a missing user or password never
	 * matches a present one */
	if (!opt_eq(a->user, b->user, false) || !opt_eq(a->password, b->password, false))
		return false;
	if (!host_eq(&a->host, &b->host))
		return false;
	/* an explicit port, even 5060, never matches an omitted one */
	if ((a->port_str.p == NULL) != (b->port_str.p == NULL) || a->port != b->port)
		return false;

	if (!opt_eq(a->transport, b->transport, true) || !opt_eq(a->user_param, b->user_param, true) ||
	    !opt_eq(a->ttl, b->ttl, true) || !opt_eq(a->method, b->method, true) ||
	    !opt_eq(a->maddr, b->maddr, true))
		return false;
	if (!other_params_eq(a, b))
		return false;

	/* header components are never ignored */
	if ((a->headers.p == NULL) != (b->headers.p == NULL))
		return false;
	if (a->headers.p != NULL &&
	    (!headers_subset(a->headers, b->headers) || !headers_subset(b->headers, a->headers)))
		return false;
	return true;
}
