/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1), with the
 * binary address for the IP forms so comparisons and routing need no
 * second pass.
 */
#include "sipmsg_priv.h"

int spl_sip_ip4_parse(const char *p, const char *end, uint8_t out[4])
{
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (p >= end || *p != '.')
				return -1;
			p++;
		}
		unsigned v = 0, nd = 0;
		while (p < end && sip_is_digit(*p) && nd < 3) {
			v = v * 10 + (unsigned)(*p - '0');
			p++;
			nd++;
		}
		if (nd == 0 || v > 255)
			return -1;
		out[part] = (uint8_t)v;
	}
	return p == end ? 0 : -1;
}

/* An IPv4 tail starts here when a run of digits is followed by '.'. */
static bool ip4_ahead(const char *p, const char *end)
{
	while (p < end && sip_is_digit(*p))
		p++;
	return p < end && *p == '.';
}

/*
 * IPv6address per RFC 4291 text form, which is what RFC 3261's hexpart /
 * IPv4 tail describes, plus one tolerance: the 3261 ABNF lets "::" be
 * followed by ":" IPv4address, giving "2001:db8:::192.0.2.1" (RFC 5118
 * §4.10 says to accept it). It means the same address as with two colons.
 */
int spl_sip_ip6_parse(const char *p, const char *end, uint8_t out[16])
{
	uint16_t g[8];
	int n = 0, dbl = -1;
	bool need_v4 = false;

	if (p >= end)
		return -1;
	if (*p == ':') {
		if (end - p < 2 || p[1] != ':')
			return -1;
		dbl = 0;
		p += 2;
		if (p < end && *p == ':') {   /* ":::a.b.c.d", same ABNF quirk */
			p++;
			need_v4 = true;
		}
	}
	while (p < end) {
		if (need_v4 || ip4_ahead(p, end)) {
			uint8_t v4[4];
			if (n > 6 || spl_sip_ip4_parse(p, end, v4) != 0)
				return -1;
			g[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
			g[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
			p = end;
			need_v4 = false;
			break;
		}
		unsigned v = 0, nd = 0;
		int h;
		while (p < end && nd < 4 && (h = sip_hexval(*p)) >= 0) {
			v = v << 4 | (unsigned)h;
			p++;
			nd++;
		}
		if (nd == 0 || n >= 8)
			return -1;
		g[n++] = (uint16_t)v;
		if (p == end)
			break;
		if (*p != ':')
			return -1;
		p++;
		if (p < end && *p == ':') {
			if (dbl >= 0)
				return -1;
			dbl = n;
			p++;
			if (p < end && *p == ':') {
				p++;
				need_v4 = true;
			}
		} else if (p == end) {
			return -1;   /* trailing single colon */
		}
	}
	if (need_v4)
		return -1;
	if (dbl < 0 ? n != 8 : n > 7)
		return -1;

	/* groups before "::" from the front, the rest against the back */
	uint16_t w[8] = { 0 };
	int head = dbl < 0 ? n : dbl;
	for (int i = 0; i < n && i < 8; i++)
		w[i < head ? i : 8 - (n - i)] = g[i];
	for (int k = 0; k < 8; k++) {
		out[2 * k] = (uint8_t)(w[k] >> 8);
		out[2 * k + 1] = (uint8_t)w[k];
	}
	return 0;
}

/*
 * hostname = *( domainlabel "." ) toplabel [ "." ]; labels are alphanum
 * with inner '-', and the top label starts with a letter, which is what
 * tells "1.2.3.400" (bad IPv4) apart from a name.
 */
int spl_sip_hostname_check(const char *p, const char *end)
{
	const char *label = p;
	const char *last_label = p;
	if (p >= end)
		return -1;
	for (; p <= end; p++) {
		if (p == end || *p == '.') {
			if (p == label) {
				/* empty label: only a single trailing dot is allowed */
				if (p != end || label == last_label)
					return -1;
				break;
			}
			if (label[0] == '-' || p[-1] == '-')
				return -1;
			last_label = label;
			label = p + 1;
			if (p == end)
				break;
			continue;
		}
		if (!(sip_is(*p, SIP_C_ALPHA | SIP_C_DIGIT) || *p == '-'))
			return -1;
	}
	return sip_is(*last_label, SIP_C_ALPHA) ? 0 : -1;
}

int spl_sip_host_parse(const char *p, uint32_t len, struct spl_sip_host *h)
{
	const char *end = p + len;

	h->text = (struct spl_str){ p, len };
	h->kind = SPL_SIP_HOST_NONE;
	memset(h->ip, 0, sizeof(h->ip));
	if (len == 0)
		return -1;
	if (*p == '[') {
		if (len < 3 || end[-1] != ']' || spl_sip_ip6_parse(p + 1, end - 1, h->ip) != 0)
			return -1;
		h->kind = SPL_SIP_HOST_IPV6;
		return 0;
	}
	if (sip_is_digit(*p) && spl_sip_ip4_parse(p, end, h->ip) == 0) {
		h->kind = SPL_SIP_HOST_IPV4;
		return 0;
	}
	memset(h->ip, 0, 4);
	if (spl_sip_hostname_check(p, end) != 0)
		return -1;
	h->kind = SPL_SIP_HOST_NAME;
	return 0;
}

#ifdef SIP_SIMD
int sip_ip4_from_dots(const char *p, uint32_t n, uint32_t dot, uint8_t out[4])
{
	if (__builtin_popcount(dot) != 3)
		return -1;
	uint32_t s = 0;
	for (int part = 0; part < 4; part++) {
		uint32_t e = part < 3 ? (uint32_t)__builtin_ctz(dot) : n;
		uint32_t len = e - s;
		const unsigned char *d = (const unsigned char *)p + s;
		unsigned v;
		if (len == 1)
			v = d[0] - '0';
		else if (len == 2)
			v = (d[0] - '0') * 10u + (d[1] - '0');
		else if (len == 3)
			v = (d[0] - '0') * 100u + (d[1] - '0') * 10u + (d[2] - '0');
		else
			return -1;
		if (v > 255)
			return -1;
		out[part] = (uint8_t)v;
		dot &= dot - 1;
		s = e + 1;
	}
	return 0;
}
#endif

const char *sip_host_run(const char *p, const char *end, const char *lim,
			 struct spl_sip_host *h, bool *ok)
{
#ifdef SIP_SIMD
	if (end - lim >= 16 && p < end) {
		struct sip_win w;
		sip_win32(p, end, &w);
		if ((uint32_t)w.host != 0) {
			uint32_t n = (uint32_t)__builtin_ctzll(w.host);
			*ok = sip_host_judge(p, n, (uint32_t)w.dot, (uint32_t)w.dash, (uint32_t)w.digit, h);
			return p + n;
		}
		/* 32 host bytes and more: rare */
	}
#endif
	const char *e = sip_span(p, end, lim, &sip_nib_host);
	uint32_t n = (uint32_t)(e - p);
	*ok = n > 0 && spl_sip_host_parse(p, n, h) == 0;
	if (n == 0) {
		h->text = (struct spl_str){ p, 0 };
		h->kind = SPL_SIP_HOST_NONE;
		memset(h->ip, 0, sizeof(h->ip));
	}
	return e;
}
