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
static bool received_ok(struct spl_str v)
{
	uint8_t ip[16];
	const char *p = v.p, *end = v.p + v.len;
	if (v.len == 0)
		return false;
	if (*p == '[')
		return v.len > 2 && end[-1] == ']' && spl_sip_ip6_parse(p + 1, end - 1, ip) == 0;
	return spl_sip_ip4_parse(p, end, ip) == 0 || spl_sip_ip6_parse(p, end, ip) == 0;
}

static bool digits_le(struct spl_str v, uint32_t max_len, uint32_t max)
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
			if (!digits_le(val, 5, 65535))
				return -1;
		} else if (val.p == NULL) {
			return -1;
		} else if (dst == &v->branch) {
			if (!sip_all(val, SIP_C_TOKEN))
				return -1;
		} else if (dst == &v->received) {
			if (!received_ok(val))
				return -1;
		} else if (dst == &v->ttl) {
			if (!digits_le(val, 3, 255))
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

int spl_sip_via_next(struct spl_str *rest, struct spl_sip_via *v)
{
	memset(v, 0, sizeof(*v));
	if (rest->p == NULL)
		return 0;
	const char *p = rest->p, *end = p + rest->len;

	p = sip_skip_lws(p, end);
	if (p >= end) {
		*rest = (struct spl_str){ end, 0 };
		return 0;
	}
	/* This via-parm ends at the first comma outside a quoted param value. */
	const char *e = spl_sip_scan_to(p, end, ',');
	if (e == NULL)
		return -1;
	const char *ve = sip_rtrim_lws(p, e);
	if (ve == p)
		return -1;   /* ",," or a leading ',' */
	v->raw = sip_str(p, ve);
	if (via_parm(p, ve, v) != 0)
		return -1;
	if (e < end) {
		e = sip_skip_lws(e + 1, end);
		if (e >= end || *e == ',')
			return -1;   /* trailing or doubled comma */
	}
	*rest = sip_str(e, end);
	return 1;
}
