/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address-of-record canonical form (RFC 3261 §10.3 step 5) and the hash
 * that both places an AOR on its writer shard and in its hash bucket.
 */
#include "registrar_priv.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

int spl_registrar_aor_canon(const struct spl_sip_uri *uri, char *out, uint32_t cap)
{
	uint32_t n = 0;
#define PUT(c) do { if (n >= cap) return -1; out[n++] = (c); } while (0)

	if (uri->scheme_id != SPL_SIP_SCHEME_SIP && uri->scheme_id != SPL_SIP_SCHEME_SIPS)
		return -1;
	if (uri->host.text.p == NULL || uri->host.text.len == 0)
		return -1;
	PUT('s'); PUT('i'); PUT('p'); PUT(':');
	if (uri->user.p != NULL) {
		const char *p = uri->user.p, *end = p + uri->user.len;
		for (; p < end; p++) {
			char c = *p;
			if (c == '%' && end - p >= 3 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				c = (char)(hexval(p[1]) << 4 | hexval(p[2]));
				p += 2;
				if (c == 0)
					return -1;
			}
			PUT(c);
		}
		PUT('@');
	}
	for (uint32_t i = 0; i < uri->host.text.len; i++)
		PUT(lower(uri->host.text.p[i]));
	uint16_t dflt = uri->scheme_id == SPL_SIP_SCHEME_SIPS ? 5061 : 5060;
	if (uri->port_str.p != NULL && uri->port != dflt) {
		char d[6];
		int k = 0;
		for (uint32_t v = uri->port; v; v /= 10)
			d[k++] = (char)('0' + v % 10);
		if (k == 0)
			d[k++] = '0';
		PUT(':');
		while (k)
			PUT(d[--k]);
	}
#undef PUT
	return (int)n;
}

/* FNV-1a with a murmur3 finaliser: AORs are short, and the finaliser
 * spreads them over both the high bits (shard) and the low bits (bucket). */
uint64_t reg_hash64(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= UINT64_C(0x100000001b3);
	}
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

uint64_t spl_registrar_aor_hash(struct spl_str aor)
{
	return reg_hash64(aor.p, aor.len);
}

unsigned spl_registrar_aor_shard(struct spl_str aor, unsigned nshards)
{
	return reg_part_of_hash(spl_registrar_aor_hash(aor), nshards);
}
