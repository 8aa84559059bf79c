/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless nonces and the per-shard nonce-count table.
 *
 * nonce = base64url( ts_ns:u64be | shard:u8 | counter:u24be |
 *                    HMAC-SHA256(secret, those 12 bytes | realm)[0..15] )
 * (28 bytes → 38 characters). Any shard holding the secret verifies a
 * nonce without shared state; the timestamp says how old it is; shard and
 * counter make every nonce distinct even when two shards mint one in the
 * same nanosecond.
 *
 * Replay: each shard keeps, per nonce it has seen, the highest nc, in a
 * 4-way set-associative table of fixed size. A nonce missing from the
 * table is accepted only if it is newer than every entry evicted while
 * still fresh (the watermark); otherwise it may have been forgotten, and
 * the client gets stale=true to fetch a new one. So a full table costs
 * clients a round trip, never opens a replay window.
 */
#include <openssl/crypto.h>

#include "registrar_priv.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url(const uint8_t *in, unsigned n, char *out)
{
	unsigned i = 0, o = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
	}
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '-') return 62;
	if (c == '_') return 63;
	return -1;
}

/* Exactly NONCE_TEXT_LEN characters → 28 bytes. */
static int unb64url(const char *in, uint8_t *out)
{
	uint32_t acc = 0;
	unsigned bits = 0, o = 0;
	for (unsigned i = 0; i < NONCE_TEXT_LEN; i++) {
		int v = b64val(in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* 38 chars carry 228 bits: 224 of data, 4 that must be zero */
	return (o == NONCE_PAYLOAD + NONCE_MAC && (acc & ((1u << bits) - 1)) == 0) ? 0 : -1;
}

static void mac(struct spl_auth *a, const uint8_t *payload, struct spl_str realm, uint8_t *out)
{
	uint8_t inner[32], full[32];
	struct spl_str in[3] = {
		reg_str((const char *)a->ipad, 64),
		reg_str((const char *)payload, NONCE_PAYLOAD),
		realm,
	};
	auth_hash(a, SPL_AUTH_ALG_SHA256, in, 3, inner);
	struct spl_str outer[2] = {
		reg_str((const char *)a->opad, 64),
		reg_str((const char *)inner, 32),
	};
	auth_hash(a, SPL_AUTH_ALG_SHA256, outer, 2, full);
	memcpy(out, full, NONCE_MAC);
}

void nonce_make(struct spl_auth *a, struct spl_str realm, uint64_t now, char *out)
{
	uint8_t raw[NONCE_PAYLOAD + NONCE_MAC];
	uint32_t ctr = a->counter++ & 0xffffff;
	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(now >> (56 - 8 * i));
	raw[8] = a->shard;
	raw[9] = (uint8_t)(ctr >> 16);
	raw[10] = (uint8_t)(ctr >> 8);
	raw[11] = (uint8_t)ctr;
	mac(a, raw, realm, raw + NONCE_PAYLOAD);
	b64url(raw, sizeof(raw), out);
}

int nonce_open(struct spl_auth *a, struct spl_str text, struct spl_str realm,
	       struct auth_nonce *n)
{
	uint8_t raw[NONCE_PAYLOAD + NONCE_MAC];
	uint8_t want[NONCE_MAC];
	if (text.len != NONCE_TEXT_LEN || unb64url(text.p, raw) != 0)
		return -1;
	mac(a, raw, realm, want);
	if (CRYPTO_memcmp(want, raw + NONCE_PAYLOAD, NONCE_MAC) != 0)
		return -1;
	n->ts = 0;
	for (int i = 0; i < 8; i++)
		n->ts = n->ts << 8 | raw[i];
	memcpy(n->mac, raw + NONCE_PAYLOAD, NONCE_MAC);
	return 0;
}

#define NC_WAYS 4

enum nc_verdict nc_check(struct nc_table *t, const struct auth_nonce *n, uint32_t nc,
			 uint64_t now, uint64_t lifetime_ns, uint64_t *evictions)
{
	uint64_t key;
	memcpy(&key, n->mac, sizeof(key));
	if (key == 0)
		key = 1;
	struct nc_entry *set = &t->e[(key & t->mask) * NC_WAYS];
	struct nc_entry *victim = NULL;
	for (unsigned w = 0; w < NC_WAYS; w++) {
		struct nc_entry *e = &set[w];
		if (e->key == key) {
			if (nc <= e->nc)
				return NC_REPLAY;
			e->nc = nc;
			return NC_OK;
		}
		if (victim == NULL || (victim->key != 0 && (e->key == 0 || e->ts < victim->ts)))
			victim = e;
	}
	if (n->ts <= t->watermark)
		return NC_FORGOTTEN;
	if (victim->key != 0 && victim->ts + lifetime_ns > now) {
		/* still fresh: a later use of it must not pass as new */
		if (victim->ts > t->watermark)
			t->watermark = victim->ts;
		(*evictions)++;
	}
	victim->key = key;
	victim->ts = n->ts;
	victim->nc = nc;
	return NC_OK;
}
