/* SPDX-License-Identifier: BSD-3-Clause */
/* Digest answers for REGISTER challenges (RFC 2617 / RFC 7616 with
 * qop=auth, or the RFC 2069 form without qop), MD5 or SHA-256. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "gen_msg.h"

/* hex(H(parts joined by ':')); parts given as slices. */
static int hash_hex(bool sha256, const struct spl_str *parts, unsigned n, char *out_hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -1;
	int ok = EVP_DigestInit_ex(ctx, sha256 ? EVP_sha256() : EVP_md5(), NULL);
	for (unsigned i = 0; ok && i < n; i++) {
		if (i)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok && parts[i].len)
			ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].len);
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < mdlen; i++) {
		out_hex[2 * i] = hx[md[i] >> 4];
		out_hex[2 * i + 1] = hx[md[i] & 15];
	}
	out_hex[2 * mdlen] = 0;
	return 0;
}

static struct spl_str S(const char *s)
{
	return (struct spl_str){ s, (uint32_t)strlen(s) };
}

int gen_digest_response(bool sha256, const char *user, const char *pass, struct spl_str realm,
			const char *method, const char *uri, struct spl_str nonce,
			const char *nc, const char *cnonce, bool qop_auth, char *out_hex)
{
	char ha1[65], ha2[65];
	struct spl_str p1[3] = { S(user), realm, S(pass) };
	struct spl_str p2[2] = { S(method), S(uri) };
	if (hash_hex(sha256, p1, 3, ha1) != 0 || hash_hex(sha256, p2, 2, ha2) != 0)
		return -1;
	if (qop_auth) {
		struct spl_str p[6] = { S(ha1), nonce, S(nc), S(cnonce), S("auth"), S(ha2) };
		return hash_hex(sha256, p, 6, out_hex);
	}
	struct spl_str p[3] = { S(ha1), nonce, S(ha2) };
	return hash_hex(sha256, p, 3, out_hex);
}
