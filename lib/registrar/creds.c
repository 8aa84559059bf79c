/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Credentials file: "user:realm:HA1" per line. Loaded once on the control
 * thread into an immutable open-addressing table that every shard reads.
 */
#include <errno.h>
#include <stdlib.h>

#include "journal_priv.h"   /* jnl_read_file */

struct spl_auth_creds {
	struct auth_cred *v;
	unsigned n;
	uint32_t *slot;              /* index + 1, 0: empty */
	uint32_t mask;
	uint8_t algs;                /* SPL_AUTH_ALG_* of every HA1 held */
	char *text;                  /* user and realm strings, NUL-terminated */
};

static uint64_t key_hash(struct spl_str user, struct spl_str realm)
{
	return reg_hash64(user.p, user.len) ^ (reg_hash64(realm.p, realm.len) * UINT64_C(0x9E3779B97F4A7C15));
}

static struct auth_cred *find_mut(const struct spl_auth_creds *c, struct spl_str user,
				  struct spl_str realm)
{
	if (c == NULL || c->slot == NULL)
		return NULL;
	for (uint64_t h = key_hash(user, realm);; h++) {
		uint32_t s = c->slot[h & c->mask];
		if (s == 0)
			return NULL;
		struct auth_cred *x = &c->v[s - 1];
		if (x->user_len == user.len && x->realm_len == realm.len &&
		    memcmp(x->user, user.p, user.len) == 0 && memcmp(x->realm, realm.p, realm.len) == 0)
			return x;
	}
}

const struct auth_cred *auth_creds_find(const struct spl_auth_creds *c, struct spl_str user,
					struct spl_str realm)
{
	return find_mut(c, user, realm);
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static bool hex_lower(const char *p, uint32_t n, char *out)
{
	for (uint32_t i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c + 32);
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	out[n] = 0;
	return true;
}

/* One line, trimmed, not a comment: add it. false: malformed/duplicate. */
static bool add_line(struct spl_auth_creds *c, const char *p, uint32_t len, char **text)
{
	const char *end = p + len;
	const char *c1 = memchr(p, ':', len);
	const char *c2 = end;
	while (c2 > p && c2[-1] != ':')
		c2--;
	if (c1 == NULL || c2 - 1 <= c1)
		return false;   /* needs two separators */
	struct spl_str user = reg_str(p, (size_t)(c1 - p));
	struct spl_str realm = reg_str(c1 + 1, (size_t)(c2 - 1 - (c1 + 1)));
	struct spl_str ha1 = reg_str(c2, (size_t)(end - c2));
	if (user.len == 0 || realm.len == 0 || user.len > UINT16_MAX || realm.len > UINT16_MAX)
		return false;
	unsigned kind = ha1.len == 32 ? SPL_AUTH_ALG_MD5 : ha1.len == 64 ? SPL_AUTH_ALG_SHA256 : 0;
	if (kind == 0)
		return false;

	struct auth_cred *x = find_mut(c, user, realm);
	if (x == NULL) {
		x = &c->v[c->n];
		memset(x, 0, sizeof(*x));
		memcpy(*text, user.p, user.len);
		x->user = *text;
		*text += user.len + 1;
		memcpy(*text, realm.p, realm.len);
		x->realm = *text;
		*text += realm.len + 1;
		x->user_len = (uint16_t)user.len;
		x->realm_len = (uint16_t)realm.len;
		for (uint64_t h = key_hash(user, realm);; h++)
			if (c->slot[h & c->mask] == 0) {
				c->slot[h & c->mask] = ++c->n;
				break;
			}
	} else if (x->has & kind) {
		return false;   /* the same kind twice for one user: which one is meant? */
	}
	if (!hex_lower(ha1.p, ha1.len, kind == SPL_AUTH_ALG_MD5 ? x->ha1_md5 : x->ha1_sha256))
		return false;
	x->has |= (uint8_t)kind;
	c->algs |= (uint8_t)kind;
	return true;
}

struct spl_auth_creds *spl_auth_creds_parse(const char *text, size_t len, unsigned *bad_line)
{
	unsigned lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (bad_line)
		*bad_line = 0;

	struct spl_auth_creds *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	uint64_t ns = 16;
	while (ns < (uint64_t)lines * 2)
		ns <<= 1;
	c->mask = (uint32_t)(ns - 1);
	c->v = calloc(lines, sizeof(*c->v));
	c->slot = calloc(ns, sizeof(*c->slot));
	c->text = malloc(len + 2 * (size_t)lines + 1);
	if (!c->v || !c->slot || !c->text) {
		spl_auth_creds_free(c);
		errno = ENOMEM;
		return NULL;
	}
	char *t = c->text;
	const char *p = text, *end = text + len;
	for (unsigned ln = 1; p < end; ln++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *a = p, *b = le;
		while (a < b && is_ws(*a))
			a++;
		while (b > a && is_ws(b[-1]))
			b--;
		if (a < b && *a != '#' && !add_line(c, a, (uint32_t)(b - a), &t)) {
			if (bad_line)
				*bad_line = ln;
			spl_auth_creds_free(c);
			errno = EINVAL;
			return NULL;
		}
		p = nl ? nl + 1 : end;
	}
	return c;
}

struct spl_auth_creds *spl_auth_creds_load(const char *path, unsigned *bad_line)
{
	unsigned char *buf;
	size_t len;
	if (bad_line)
		*bad_line = 0;
	int rc = jnl_read_file(path, &buf, &len);
	if (rc != 0) {
		errno = -rc;
		return NULL;
	}
	struct spl_auth_creds *c = spl_auth_creds_parse((const char *)buf, len, bad_line);
	int e = errno;
	free(buf);
	errno = e;
	return c;
}

void spl_auth_creds_free(struct spl_auth_creds *c)
{
	if (c == NULL)
		return;
	free(c->v);
	free(c->slot);
	free(c->text);
	free(c);
}

unsigned spl_auth_creds_count(const struct spl_auth_creds *c)
{
	return c ? c->n : 0;
}

uint8_t spl_auth_creds_algorithms(const struct spl_auth_creds *c)
{
	return c ? c->algs : 0;
}
