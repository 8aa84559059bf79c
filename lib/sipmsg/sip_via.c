/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Via (RFC 3261 §20.42, §25.1):
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 * SLASH, COLON and SEMI allow LWS on both sides, and header values reach
 * us with folds still in them (RFC 4475 wsinv), so every gap is skipped
 * with sip_skip_lws().
 */
#include "sipmsg_priv.h"

static const char *token_end(const char *p, const char *end)
{
	while (p < end && sip_is((unsigned char)*p, SIP_C_TOKEN))
		p++;
	return p;
}

/* received = IPv4address / IPv6address; RFC 5118 §4.5 asks receivers to
 * accept the bracketed IPv6reference too. */
static inline bool sip_received_ok(struct spl_str v)
{
	uint8_t ip[16];
	const char *p = v.p, *end = v.p + v.len;
	if (v.len == 0)
		return false;
	if (*p == '[')
		return v.len > 2 && end[-1] == ']' && spl_sip_ip6_parse(p + 1, end - 1, ip) == 0;
	return spl_sip_ip4_parse(p, end, ip) == 0 || spl_sip_ip6_parse(p, end, ip) == 0;
}

static inline bool sip_digits_le(struct spl_str v, uint32_t max_len, uint32_t max)
{
	uint32_t x = 0;
	if (v.len == 0 || v.len > max_len)
		return false;
	for (uint32_t i = 0; i < v.len; i++) {
		if (!sip_is_digit(v.p[i]))
			return false;
		x = x * 10 + (uint32_t)(v.p[i] - '0');
	}
	return x <= max;
}

static int via_params(struct spl_sip_via *v)
{
	struct spl_sip_param_iter it;
	struct spl_str n, val;
	int r;

	spl_sip_param_iter_init(&it, v->params, ';');
	while ((r = spl_sip_param_next(&it, &n, &val)) == 1) {
		if (!sip_all(n, SIP_C_TOKEN))
			return -1;
		struct spl_str *dst = NULL;
		switch (sip_lower(n.p[0])) {
		case 'b': if (SIP_IEQ(n.p, n.len, "branch")) dst = &v->branch; break;
		case 'm': if (SIP_IEQ(n.p, n.len, "maddr")) dst = &v->maddr; break;
		case 'r':
			if (SIP_IEQ(n.p, n.len, "received")) dst = &v->received;
			else if (SIP_IEQ(n.p, n.len, "rport")) dst = &v->rport;
			break;
		case 't': if (SIP_IEQ(n.p, n.len, "ttl")) dst = &v->ttl; break;
		}
		if (dst == NULL || dst->p != NULL)
			continue;
		if (dst == &v->rport) {
			/* RFC 3581: "rport" alone in a request, "rport=N" after */
			if (val.p == NULL) {
				v->rport = (struct spl_str){ n.p + n.len, 0 };
				continue;
			}
			if (!sip_digits_le(val, 5, 65535))
				return -1;
		} else if (val.p == NULL) {
			return -1;
		} else if (dst == &v->branch) {
			if (!sip_all(val, SIP_C_TOKEN))
				return -1;
		} else if (dst == &v->received) {
			if (!sip_received_ok(val))
				return -1;
		} else if (dst == &v->ttl) {
			if (!sip_digits_le(val, 3, 255))
				return -1;
		} else if (dst == &v->maddr) {
			struct spl_sip_host h;
			if (spl_sip_host_parse(val.p, val.len, &h) != 0)
				return -1;
		}
		*dst = val;
	}
	return r == 0 ? 0 : -1;
}

static int via_parm(const char *p, const char *end, struct spl_sip_via *v)
{
	const char *t;

	t = p;
	p = token_end(p, end);
	if (p == t)
		return -1;
	v->proto_name = sip_str(t, p);
	p = sip_skip_lws(p, end);
	if (p >= end || *p != '/')
		return -1;
	p = sip_skip_lws(p + 1, end);
	t = p;
	p = token_end(p, end);
	if (p == t)
		return -1;
	v->proto_version = sip_str(t, p);
	p = sip_skip_lws(p, end);
	if (p >= end || *p != '/')
		return -1;
	p = sip_skip_lws(p + 1, end);
	t = p;
	p = token_end(p, end);
	if (p == t)
		return -1;
	v->transport = sip_str(t, p);
	v->transport_id = (uint8_t)spl_sip_transport_lookup(t, (uint32_t)(p - t));

	t = sip_skip_lws(p, end);
	if (t == p)
		return -1;   /* LWS between sent-protocol and sent-by */
	p = t;
	if (p < end && *p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (rb == NULL)
			return -1;
		p = rb + 1;
	} else {
		while (p < end && sip_is((unsigned char)*p, SIP_C_HOST))
			p++;
	}
	if (spl_sip_host_parse(t, (uint32_t)(p - t), &v->host) != 0)
		return -1;
	p = sip_skip_lws(p, end);
	if (p < end && *p == ':') {
		p = sip_skip_lws(p + 1, end);
		t = p;
		uint32_t port = 0;
		while (p < end && sip_is_digit(*p)) {
			port = port * 10 + (uint32_t)(*p - '0');
			if (port > 65535)
				return -1;
			p++;
		}
		if (p == t)
			return -1;
		v->port_str = sip_str(t, p);
		v->port = (uint16_t)port;
		p = sip_skip_lws(p, end);
	}
	if (p < end) {
		if (*p != ';')
			return -1;
		p = sip_skip_lws(p + 1, end);
		if (p >= end)
			return -1;   /* ";" with nothing after it (RFC 4475 badinv01) */
		v->params = sip_str(p, sip_rtrim_lws(p, end));
		return via_params(v);
	}
	return 0;
}

/*
 * The fast path: "SIP/2.0/UDP host[:port]*(;name[=token])" with one SP
 * and no other whitespace, read left to right once. It returns the
 * via-parm's end (its ',' or the list end) with *v filled as via_parm()
 * fills it, or NULL to hand the value to the full grammar unchanged: any
 * other LWS, quoted or non-token parameter values, IPv6 sent-by, and
 * values of branch/received/rport/ttl/maddr that would be refused.
 */
static inline __attribute__((always_inline)) const char *
via_fast(const char *p, const char *end, const char *lim, struct spl_sip_via *v)
{
	const char *t = p, *q;

	/* "SIP/2.0/" in one compare: letters any case, the rest exact */
	uint64_t w;
	if (end - p >= 8 && (memcpy(&w, p, 8), (w | 0x202020u) == 0x2f302e322f706973ull)) {
		v->proto_name = (struct spl_str){ p, 3 };
		v->proto_version = (struct spl_str){ p + 4, 3 };
		t = p + 8;
	} else {
		q = sip_span(t, end, lim, &sip_nib_token);
		if (q == t || q >= end || *q != '/')
			return NULL;
		v->proto_name = sip_str(t, q);
		t = q + 1;
		q = sip_span(t, end, lim, &sip_nib_token);
		if (q == t || q >= end || *q != '/')
			return NULL;
		v->proto_version = sip_str(t, q);
		t = q + 1;
	}
	q = sip_span(t, end, lim, &sip_nib_token);
	if (q == t || q >= end || *q != ' ')
		return NULL;
	v->transport = sip_str(t, q);
	v->transport_id = (uint8_t)spl_sip_transport_lookup(t, (uint32_t)(q - t));

	bool ok;
	q = sip_host_run(q + 1, end, lim, &v->host, &ok);
	if (!ok)
		return NULL;
	if (q < end && *q == ':') {
		/* 1-5 digits; more (leading zeros) are the full grammar's */
		const char *ps = ++q;
		const char *const q5 = end - q > 5 ? q + 5 : end;
		uint32_t port = 0;
		while (q < q5 && sip_is_digit(*q)) {
			port = port * 10 + (uint32_t)(*q - '0');
			q++;
		}
		if (q == ps || port > 65535 || (q < end && sip_is_digit(*q)))
			return NULL;
		v->port_str = sip_str(ps, q);
		v->port = (uint16_t)port;
	}
	if (q < end && *q == ';') {
		const char *ps = ++q;
		for (;;) {
			const char *n = q;
			q = sip_span(q, end, lim, &sip_nib_token);
			if (q == n)
				return NULL;
			const uint32_t nl = (uint32_t)(q - n);
			struct spl_str val = SPL_STR_NULL;
			if (q < end && *q == '=') {
				const char *vs = ++q;
				q = sip_span(q, end, lim, &sip_nib_token);
				if (q == vs)
					return NULL;
				val = sip_str(vs, q);
			}
			/* letters only: OR-ing 0x20 folds case exactly */
			struct spl_str *dst = NULL;
			switch (nl) {
			case 3:
				if (sip_ld2_lc(n) == ('t' | 't' << 8) && (n[2] | 0x20) == 'l')
					dst = &v->ttl;
				break;
			case 5:
				if (sip_ld4_lc(n) == ('r' | 'p' << 8 | 'o' << 16 | (uint32_t)'r' << 24) &&
				    (n[4] | 0x20) == 't')
					dst = &v->rport;
				else if (sip_ld4_lc(n) == ('m' | 'a' << 8 | 'd' << 16 | (uint32_t)'d' << 24) &&
					 (n[4] | 0x20) == 'r')
					dst = &v->maddr;
				break;
			case 6:
				if (sip_ld4_lc(n) == ('b' | 'r' << 8 | 'a' << 16 | (uint32_t)'n' << 24) &&
				    sip_ld2_lc(n + 4) == ('c' | 'h' << 8))
					dst = &v->branch;
				break;
			case 8:
				if (sip_ld8_lc(n) == ((uint64_t)('i' | 'v' << 8 | 'e' << 16 | (uint32_t)'d' << 24) << 32 |
						      ('r' | 'e' << 8 | 'c' << 16 | (uint32_t)'e' << 24)))
					dst = &v->received;
				break;
			}
			if (dst != NULL && dst->p == NULL) {
				if (dst == &v->rport) {
					if (val.p == NULL)
						val = (struct spl_str){ n + nl, 0 };
					else if (!sip_digits_le(val, 5, 65535))
						return NULL;
				} else if (val.p == NULL) {
					return NULL;
				} else if (dst == &v->received) {
					if (!sip_received_ok(val))
						return NULL;
				} else if (dst == &v->ttl) {
					if (!sip_digits_le(val, 3, 255))
						return NULL;
				} else if (dst == &v->maddr) {
					struct spl_sip_host h;
					if (spl_sip_host_parse(val.p, val.len, &h) != 0)
						return NULL;
				}
				*dst = val;
			}
			if (q < end && *q == ';') {
				q++;
				continue;
			}
			break;
		}
		v->params = sip_str(ps, q);
	}
	if (q < end && *q != ',')
		return NULL;
	v->raw = sip_str(p, q);
	return q;
}

static int via_next(struct spl_str *rest, struct spl_sip_via *v, const char *lim)
{
	SIP_ZERO(v);
	if (rest->p == NULL)
		return 0;
	const char *p = rest->p, *end = p + rest->len;

	p = sip_skip_lws(p, end);
	if (p >= end) {
		*rest = (struct spl_str){ end, 0 };
		return 0;
	}
	const char *e = via_fast(p, end, lim, v);
	if (e != NULL)
		goto tail;
	memset(v, 0, sizeof(*v));
	/* This via-parm ends at the first comma outside a quoted param value. */
	e = spl_sip_scan_to(p, end, ',');
	if (e == NULL)
		return -1;
	const char *ve = sip_rtrim_lws(p, e);
	if (ve == p)
		return -1;   /* ",," or a leading ',' */
	v->raw = sip_str(p, ve);
	if (via_parm(p, ve, v) != 0)
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

int spl_sip_via_next(struct spl_str *rest, struct spl_sip_via *v)
{
	return via_next(rest, v, rest->p);
}

int sip_via_next_in(struct spl_str *rest, struct spl_sip_via *v, const char *lim)
{
	return via_next(rest, v, lim);
}
