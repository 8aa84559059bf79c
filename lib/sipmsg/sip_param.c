/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parameter lists: "name[=value]" items separated by ';' (URI and header
 * params), '&' (URI headers) or ',' (auth-params), with LWS (folds
 * included) allowed around the separator and '='. Values may be
 * quoted-strings. The iterator checks list structure; each grammar that
 * uses it checks what its own names and values may contain.
 */
#include "sipmsg_priv.h"

const char *spl_sip_quoted_end(const char *p, const char *end)
{
	/* quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE; qdtext allows
	 * LWS (so folds) and UTF-8, quoted-pair any octet but CR and LF. */
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c == '\\') {
			if (p + 1 >= end || p[1] == '\r' || p[1] == '\n')
				return NULL;
			p++;
			continue;
		}
		if (c == '\r' || c == '\n') {
			const char *q = sip_skip_lws(p, end);
			if (q == p)
				return NULL;   /* a line break that is not a fold */
			p = q - 1;
			continue;
		}
		if (c != '\t' && sip_is(c, SIP_C_CTL))
			return NULL;
	}
	return NULL;
}

const char *spl_sip_scan_to(const char *p, const char *end, char stop)
{
	while (p < end && *p != stop) {
		if (*p == '"') {
			p = spl_sip_quoted_end(p, end);
			if (p == NULL)
				return NULL;
			continue;
		}
		p++;
	}
	return p;
}

/* Bytes a bare name or value may hold: the union of token, paramchar and
 * hnv characters. Escapes are not decoded here ('%' is a token char too). */
#define PARAM_CHARS (SIP_C_TOKEN | SIP_C_UNRESERVED | SIP_C_PARAM_UNR | SIP_C_HNV_UNR)

static inline bool param_char(char c, char sep)
{
	return c != sep && sip_is((unsigned char)c, PARAM_CHARS);
}

void spl_sip_param_iter_init(struct spl_sip_param_iter *it, struct spl_str params, char sep)
{
	it->p = params.p;
	it->end = params.p ? params.p + params.len : params.p;
	it->sep = sep;
}

int spl_sip_param_next(struct spl_sip_param_iter *it, struct spl_str *name, struct spl_str *value)
{
	const char *p = it->p, *end = it->end;
	const char sep = it->sep;

	if (p == NULL || p >= end)
		return 0;
	p = sip_skip_lws(p, end);
	if (p >= end && p != it->p)
		return -1;   /* only LWS after a separator: an empty item */

	const char *n = p;
	while (p < end && param_char(*p, sep) && *p != '=')
		p++;
	if (p == n)
		return -1;   /* ";;", ";=x", a stray character */
	*name = sip_str(n, p);
	*value = SPL_STR_NULL;

	p = sip_skip_lws(p, end);
	if (p < end && *p == '=') {
		p = sip_skip_lws(p + 1, end);
		const char *v = p;
		if (p < end && *p == '"') {
			p = spl_sip_quoted_end(p, end);
			if (p == NULL)
				return -1;
		} else {
			/* '=' is tolerated inside a bare value after its first
			 * byte (base64-style padding seen in the wild); a value
			 * that starts with '=' is a doubled "==" and refused. */
			if (p < end && *p == '=')
				return -1;
			while (p < end && (param_char(*p, sep) || *p == '='))
				p++;
		}
		/* URI headers may have an empty hvalue ("?subject="); a
		 * parameter value, if '=' is written, may not. */
		if (p == v && sep != '&')
			return -1;
		*value = sip_str(v, p);
		p = sip_skip_lws(p, end);
	}
	if (p < end) {
		if (*p != sep)
			return -1;
		p++;
		if (p >= end)
			return -1;   /* trailing separator */
	}
	it->p = p;
	return 1;
}

bool spl_sip_param_find(struct spl_str params, char sep, const char *name, struct spl_str *value)
{
	struct spl_sip_param_iter it;
	struct spl_str n, v;
	size_t nl = strlen(name);

	spl_sip_param_iter_init(&it, params, sep);
	while (spl_sip_param_next(&it, &n, &v) == 1) {
		if (n.len != nl)
			continue;
		uint32_t i = 0;
		while (i < nl && sip_lower(n.p[i]) == sip_lower(name[i]))
			i++;
		if (i == nl) {
			if (value)
				*value = v;
			return true;
		}
	}
	return false;
}
