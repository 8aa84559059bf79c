/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Digest authentication (RFC 3261 §22.4, RFC 7616, RFC 8760): policy,
 * credential check, challenges. qop=auth only; MD5 and SHA-256 (no -sess,
 * no userhash). The digests run through OpenSSL EVP with the algorithms
 * fetched once and one digest context per shard reused for every request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "registrar_priv.h"

unsigned auth_hash(struct spl_auth *a, unsigned alg, const struct spl_str *parts, unsigned n,
		   uint8_t *out)
{
	EVP_MD *md = alg == SPL_AUTH_ALG_MD5 ? a->md5 : a->sha256;
	unsigned len = 0;
	if (!EVP_DigestInit_ex2(a->ctx, md, NULL))
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (parts[i].len && !EVP_DigestUpdate(a->ctx, parts[i].p, parts[i].len))
			return 0;
	if (!EVP_DigestFinal_ex(a->ctx, out, &len))
		return 0;
	return len;
}

static void to_hex(const uint8_t *in, unsigned n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = 0;
}

int spl_auth_ha1_hex(enum spl_auth_alg alg, const char *user, const char *realm,
		     const char *password, char *out)
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	const EVP_MD *md = alg == SPL_AUTH_ALG_MD5 ? EVP_md5() : alg == SPL_AUTH_ALG_SHA256 ? EVP_sha256() : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = md && ctx && EVP_DigestInit_ex(ctx, md, NULL) &&
		 EVP_DigestUpdate(ctx, user, strlen(user)) && EVP_DigestUpdate(ctx, ":", 1) &&
		 EVP_DigestUpdate(ctx, realm, strlen(realm)) && EVP_DigestUpdate(ctx, ":", 1) &&
		 EVP_DigestUpdate(ctx, password, strlen(password)) &&
		 EVP_DigestFinal_ex(ctx, d, &len);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	to_hex(d, len, out);
	return 0;
}

static char *dup_or_null(const char *s)
{
	if (s == NULL || strcmp(s, "*") == 0)
		return NULL;
	return strdup(s);
}

struct spl_auth *spl_auth_create(const struct spl_auth_conf *conf)
{
	if (conf == NULL || (conf->nrules && conf->rules == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	struct spl_auth *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->creds = conf->creds;
	a->lifetime_ns = (uint64_t)(conf->nonce_lifetime_s ? conf->nonce_lifetime_s : 300) * SPL_NS_PER_S;
	/* By default offer what the credentials can verify: a SHA-256
	 * challenge to users who only have an MD5 HA1 would make every
	 * RFC 8760 client (which takes the first, SHA-256) fail. */
	uint8_t algs = conf->algorithms ? conf->algorithms : spl_auth_creds_algorithms(conf->creds);
	a->algs = algs ? algs & (SPL_AUTH_ALG_MD5 | SPL_AUTH_ALG_SHA256) : (SPL_AUTH_ALG_MD5 | SPL_AUTH_ALG_SHA256);
	a->shard = conf->shard;
	for (unsigned i = 0; i < 32; i++) {
		a->ipad[i] = conf->secret[i] ^ 0x36;
		a->opad[i] = conf->secret[i] ^ 0x5c;
	}
	memset(a->ipad + 32, 0x36, 32);
	memset(a->opad + 32, 0x5c, 32);

	uint32_t entries = conf->nc_table ? conf->nc_table : 4096;
	uint32_t sets = 1;
	while (sets * 4 < entries && sets < (1u << 24))
		sets <<= 1;
	a->nc.mask = sets - 1;
	a->nc.e = calloc((size_t)sets * 4, sizeof(*a->nc.e));
	a->rules = calloc(conf->nrules ? conf->nrules : 1, sizeof(*a->rules));
	a->nrules = conf->nrules;
	a->md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	a->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	a->ctx = EVP_MD_CTX_new();
	if (a->nc.e == NULL || a->rules == NULL || a->ctx == NULL) {
		spl_auth_free(a);
		errno = ENOMEM;
		return NULL;
	}
	if (a->sha256 == NULL || ((a->algs & SPL_AUTH_ALG_MD5) && a->md5 == NULL)) {
		spl_auth_free(a);
		errno = ENOSYS;
		return NULL;
	}
	for (unsigned i = 0; i < conf->nrules; i++) {
		const struct spl_auth_rule *r = &conf->rules[i];
		a->rules[i].methods = r->methods;
		a->rules[i].domain = dup_or_null(r->domain);
		a->rules[i].realm = r->realm ? strdup(r->realm) : NULL;
		if ((r->domain && strcmp(r->domain, "*") && !a->rules[i].domain) ||
		    (r->realm && !a->rules[i].realm) ||
		    (r->realm && strlen(r->realm) >= SPL_REGISTRAR_AOR_MAX)) {
			spl_auth_free(a);
			errno = r->realm && strlen(r->realm) >= SPL_REGISTRAR_AOR_MAX ? EINVAL : ENOMEM;
			return NULL;
		}
	}
	return a;
}

void spl_auth_free(struct spl_auth *a)
{
	if (a == NULL)
		return;
	if (a->rules)
		for (unsigned i = 0; i < a->nrules; i++) {
			free(a->rules[i].domain);
			free(a->rules[i].realm);
		}
	free(a->rules);
	free(a->nc.e);
	EVP_MD_free(a->md5);
	EVP_MD_free(a->sha256);
	EVP_MD_CTX_free(a->ctx);
	free(a);
}

void spl_auth_get_stats(const struct spl_auth *a, struct spl_auth_stats *st)
{
	*st = a->st;
}

/* ------------------------------------------------------------------ */
/* Check                                                               */

static bool ieq(struct spl_str s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s.p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		char d = lit[i];
		if (d >= 'A' && d <= 'Z')
			d = (char)(d + 32);
		if (c != d)
			return false;
	}
	return true;
}

static const struct auth_rule *policy(const struct spl_auth *a, struct spl_str domain)
{
	for (unsigned i = 0; i < a->nrules; i++)
		if (a->rules[i].domain == NULL || ieq(domain, a->rules[i].domain))
			return &a->rules[i];
	return NULL;
}

/* 8 hex digits (RFC 7616 §3.4: nc-value = 8LHEX), not zero. */
static int parse_nc(struct spl_str s, uint32_t *nc)
{
	uint32_t v = 0;
	if (s.len != 8)
		return -1;
	for (unsigned i = 0; i < 8; i++) {
		char c = s.p[i];
		int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
			: (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*nc = v;
	return v ? 0 : -1;
}

static uint8_t verdict(struct spl_auth *a, struct spl_auth_result *res, enum spl_auth_why why)
{
	res->verdict = SPL_AUTH_CHALLENGE;
	res->why = (uint8_t)why;
	res->stale = why == SPL_AUTH_WHY_STALE;
	a->st.by_why[why]++;
	if (why == SPL_AUTH_WHY_STALE)
		a->st.stale++;
	else if (why != SPL_AUTH_WHY_MISSING)
		a->st.failures++;
	return res->verdict;
}

/* The digest uri names the Request-URI (RFC 7616 §3.4.6). */
static bool uri_matches(const struct spl_sipmsg *m, struct spl_str du)
{
	if (du.len == m->ruri.len && memcmp(du.p, m->ruri.p, du.len) == 0)
		return true;
	struct spl_sip_uri u;
	return spl_sip_uri_parse(du.p, du.len, &u) == 0 && spl_sip_uri_equal(&u, &m->ruri_uri);
}

static bool expected_response(struct spl_auth *a, unsigned alg, const struct auth_cred *cr,
			      struct spl_str method, const struct spl_sip_auth *cred, char *out)
{
	uint8_t d[32];
	char ha2[65];
	struct spl_str a2[3] = { method, SPL_STR_LIT(":"), cred->uri };
	unsigned n = auth_hash(a, alg, a2, 3, d);
	if (n == 0)
		return false;
	to_hex(d, n, ha2);
	const char *ha1 = alg == SPL_AUTH_ALG_MD5 ? cr->ha1_md5 : cr->ha1_sha256;
	struct spl_str col = SPL_STR_LIT(":");
	struct spl_str kd[11] = {
		reg_str(ha1, 2 * n), col, cred->nonce, col, cred->nc, col, cred->cnonce, col,
		cred->qop, col, reg_str(ha2, 2 * n),
	};
	if (auth_hash(a, alg, kd, 11, d) != n)
		return false;
	to_hex(d, n, out);
	return true;
}

int spl_auth_check(struct spl_auth *a, struct spl_sipmsg *msg, enum spl_auth_hdr_kind kind,
		   struct spl_str method, uint64_t now, struct spl_auth_result *res)
{
	memset(res, 0, offsetof(struct spl_auth_result, realm));
	res->realm[0] = 0;
	if (!msg->request)
		return -EINVAL;
	if (method.p == NULL)
		method = msg->method;

	/* the domain the policy looks at */
	struct spl_str domain;
	if (kind == SPL_AUTH_WWW) {
		if (spl_sipmsg_parse(msg, SPL_SIPMSG_P_RURI) != SPL_SIPMSG_E_NONE)
			return -EINVAL;
		domain = msg->ruri_uri.host.text;
	} else {
		if (spl_sipmsg_parse(msg, SPL_SIPMSG_P_FROM | SPL_SIPMSG_P_RURI) != SPL_SIPMSG_E_NONE)
			return -EINVAL;
		domain = msg->from.uri.host.text;
	}
	const struct auth_rule *rule = policy(a, domain);
	if (rule == NULL || !(rule->methods & SPL_AUTH_METHOD(msg->method_id))) {
		res->verdict = SPL_AUTH_NOT_REQUIRED;
		return 0;
	}
	a->st.checks++;

	/* realm: the rule's, or the domain in lower case */
	if (rule->realm) {
		size_t n = strlen(rule->realm);
		memcpy(res->realm, rule->realm, n + 1);
		res->realm_len = (uint16_t)n;
	} else {
		uint32_t n = domain.len < SPL_REGISTRAR_AOR_MAX - 1 ? domain.len : SPL_REGISTRAR_AOR_MAX - 1;
		for (uint32_t i = 0; i < n; i++) {
			char c = domain.p[i];
			res->realm[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		res->realm[n] = 0;
		res->realm_len = (uint16_t)n;
	}
	struct spl_str realm = reg_str(res->realm, res->realm_len);

	/* the credentials for our realm (a request may carry several) */
	enum spl_sip_hdr_id hid = kind == SPL_AUTH_WWW ? SPL_SIP_HDR_AUTHORIZATION
						       : SPL_SIP_HDR_PROXY_AUTHORIZATION;
	struct spl_sip_auth cred;
	bool found = false, garbled = false;
	for (uint16_t i = msg->first[hid]; i != SPL_SIPMSG_NONE; i = msg->hdrs[i].next) {
		const struct spl_sip_hdr *h = &msg->hdrs[i];
		if (spl_sip_auth_parse(h->value.p, h->value.len, &cred) != 0) {
			garbled = true;
			continue;
		}
		if (ieq(cred.scheme, "Digest") && cred.realm.len == realm.len &&
		    memcmp(cred.realm.p, realm.p, realm.len) == 0) {
			found = true;
			break;
		}
	}
	if (!found)
		return verdict(a, res, garbled ? SPL_AUTH_WHY_MALFORMED : SPL_AUTH_WHY_MISSING), 0;

	unsigned alg;
	if (!spl_str_present(cred.algorithm) || ieq(cred.algorithm, "MD5"))
		alg = SPL_AUTH_ALG_MD5;
	else if (ieq(cred.algorithm, "SHA-256"))
		alg = SPL_AUTH_ALG_SHA256;
	else
		alg = 0;
	uint32_t nc;
	if (!(alg & a->algs) || !spl_str_present(cred.username) || !spl_str_present(cred.nonce) ||
	    !spl_str_present(cred.uri) || !spl_str_present(cred.response) ||
	    !spl_str_present(cred.cnonce) || cred.cnonce.len == 0 || !ieq(cred.qop, "auth") ||
	    parse_nc(cred.nc, &nc) != 0)
		return verdict(a, res, SPL_AUTH_WHY_MALFORMED), 0;

	struct auth_nonce nonce;
	if (nonce_open(a, cred.nonce, realm, &nonce) != 0 || nonce.ts > now + SPL_NS_PER_S)
		return verdict(a, res, SPL_AUTH_WHY_BAD_NONCE), 0;
	if (!uri_matches(msg, cred.uri))
		return verdict(a, res, SPL_AUTH_WHY_URI_MISMATCH), 0;

	const struct auth_cred *cr = auth_creds_find(a->creds, cred.username, realm);
	if (cr == NULL || !(cr->has & alg))
		return verdict(a, res, SPL_AUTH_WHY_UNKNOWN_USER), 0;

	char want[65];
	if (!expected_response(a, alg, cr, method, &cred, want))
		return verdict(a, res, SPL_AUTH_WHY_BAD_RESPONSE), 0;
	size_t wl = strlen(want);
	char got[65];
	if (cred.response.len != wl)
		return verdict(a, res, SPL_AUTH_WHY_BAD_RESPONSE), 0;
	for (size_t i = 0; i < wl; i++) {
		char c = cred.response.p[i];
		got[i] = (c >= 'A' && c <= 'F') ? (char)(c + 32) : c;
	}
	if (CRYPTO_memcmp(got, want, wl) != 0)
		return verdict(a, res, SPL_AUTH_WHY_BAD_RESPONSE), 0;

	/* Right password. Old nonce → stale=true (RFC 7616 §3.3), so the UA
	 * retries at once with the new nonce instead of asking its user. */
	if (now > nonce.ts && now - nonce.ts > a->lifetime_ns)
		return verdict(a, res, SPL_AUTH_WHY_STALE), 0;
	switch (nc_check(&a->nc, &nonce, nc, now, a->lifetime_ns, &a->st.nc_evictions)) {
	case NC_REPLAY:
		return verdict(a, res, SPL_AUTH_WHY_REPLAY), 0;
	case NC_FORGOTTEN:
		return verdict(a, res, SPL_AUTH_WHY_STALE), 0;
	case NC_OK:
		break;
	}
	res->verdict = SPL_AUTH_OK;
	res->alg = (uint8_t)alg;
	res->username = cred.username;
	a->st.ok++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Challenge                                                           */

int spl_auth_challenge(struct spl_auth *a, const struct spl_auth_result *res,
		       enum spl_auth_hdr_kind kind, uint64_t now, char *buf, uint32_t cap,
		       struct spl_str *lines, unsigned max_lines)
{
	static const unsigned order[2] = { SPL_AUTH_ALG_SHA256, SPL_AUTH_ALG_MD5 };
	char nonce[NONCE_TEXT_LEN + 1];
	struct spl_str realm = reg_str(res->realm, res->realm_len);
	nonce_make(a, realm, now, nonce);
	nonce[NONCE_TEXT_LEN] = 0;

	unsigned n = 0;
	uint32_t off = 0;
	for (unsigned k = 0; k < 2; k++) {
		if (!(a->algs & order[k]))
			continue;
		if (n >= max_lines)
			return -1;
		int w = snprintf(buf + off, cap - off,
				 "%s: Digest realm=\"%.*s\", nonce=\"%s\", algorithm=%s, qop=\"auth\"%s",
				 kind == SPL_AUTH_WWW ? "WWW-Authenticate" : "Proxy-Authenticate",
				 (int)realm.len, realm.p, nonce,
				 order[k] == SPL_AUTH_ALG_SHA256 ? "SHA-256" : "MD5",
				 res->stale ? ", stale=true" : "");
		if (w < 0 || (uint32_t)w >= cap - off)
			return -1;
		lines[n++] = reg_str(buf + off, (size_t)w);
		off += (uint32_t)w;
	}
	a->st.challenges++;
	return (int)n;
}
