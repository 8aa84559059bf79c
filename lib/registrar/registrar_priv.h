/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/registrar internals shared between its files. */
#ifndef SPL_REGISTRAR_PRIV_H
#define SPL_REGISTRAR_PRIV_H

#include <stdatomic.h>
#include <string.h>

#include "spl_registrar.h"

#define SPL_CACHE_LINE 64

static inline struct spl_str reg_str(const char *p, size_t len)
{
	return (struct spl_str){ p, (uint32_t)len };
}

/* Smallest epoch an online reader has seen (UINT64_MAX: none online):
 * every token <= it has passed. */
uint64_t qsbr_horizon(const struct spl_qsbr *q);

/* ------------------------------------------------------------------ */
/* Location records                                                    */

/* A binding inside a record: fixed part; its texts follow the bindings
 * array, back to back, starting at `off` from the record start:
 * contact, params, path, call-id. */
struct loc_bind {
	uint64_t expires_at;
	uint64_t registered_at;
	uint32_t cseq;
	uint32_t off;
	uint16_t contact_len, params_len, path_len, callid_len;
	uint16_t q;
	struct spl_registrar_src src;
};

/*
 * An AOR's record: immutable once published, except `next` (the hash
 * chain link), which the partition's writer updates with release stores.
 * Layout: header, nb loc_bind, the AOR text, the bindings' texts.
 */
struct loc_rec {
	_Atomic(struct loc_rec *) next;
	uint64_t hash;
	uint64_t first_expiry;       /* min expires_at of the bindings */
	uint32_t idx;                /* slot in the partition pool */
	uint32_t size;               /* bytes used */
	uint16_t nb;
	uint16_t aor_len;
	uint32_t aor_off;
	/* writer-private: never read by readers */
	struct loc_rec *limbo_next;
	uint64_t retire_token;
	struct loc_bind b[];
};

static inline struct spl_str loc_rec_aor(const struct loc_rec *r)
{
	return reg_str((const char *)r + r->aor_off, r->aor_len);
}

/* Reader view of binding i. */
void loc_rec_binding(const struct loc_rec *r, unsigned i, struct spl_binding *out);

enum { LOC_SLOT_FREE = 0, LOC_SLOT_BUILDING, LOC_SLOT_LIVE, LOC_SLOT_GRACE };

/* One partition: written by its shard only, read by anyone. */
struct loc_part {
	/* read side */
	_Atomic(struct loc_rec *) *buckets;
	uint64_t mask;
	/* writer side */
	unsigned char *arena;
	uint32_t *free_stack;
	uint32_t nfree;
	uint32_t *gen;               /* per slot, bumped on every allocation */
	uint8_t *state;              /* LOC_SLOT_* */
	uint32_t rec_bytes;
	uint32_t nrec;
	struct loc_rec *limbo_head, *limbo_tail;
	uint32_t nlimbo;
	/* counters: written by the owner, read relaxed by anyone */
	_Atomic uint64_t aors, bindings, free_count, grace_count;
} __attribute__((aligned(SPL_CACHE_LINE)));

struct spl_location {
	struct spl_location_conf conf;
	struct spl_qsbr *qsbr;
	uint32_t nparts;
	uint32_t record_bytes;
	uint32_t pool_records;
	uint32_t max_bindings;
	_Atomic uint64_t aors_total __attribute__((aligned(SPL_CACHE_LINE)));
	struct loc_part *parts;
};

/* Partition of an AOR hash: multiply-shift over the high half, so the
 * low half stays independent for the bucket index. */
static inline unsigned reg_part_of_hash(uint64_t h, unsigned n)
{
	return n <= 1 ? 0 : (unsigned)(((h >> 32) * (uint64_t)n) >> 32);
}

static inline struct loc_part *loc_part_of(struct spl_location *loc, unsigned part)
{
	return &loc->parts[part];
}

/* Writer-side primitives (the partition's owner only). */
struct loc_rec *loc_find(const struct loc_part *p, struct spl_str aor, uint64_t hash);
struct loc_rec *loc_slot(const struct loc_part *p, uint32_t idx);

/* Build a record from bindings already sorted by loc_sort(). Returns NULL
 * with *err = -E2BIG (does not fit record_bytes) or -ENOMEM (pool empty
 * after reclaiming). Not yet visible: publish with loc_replace(), or drop
 * with loc_rec_discard(). */
struct loc_rec *loc_rec_build(struct spl_location *loc, struct loc_part *p, struct spl_str aor,
			      uint64_t hash, const struct spl_binding *b, unsigned nb, int *err);
void loc_rec_discard(struct loc_part *p, struct loc_rec *r);
/* Bytes a record with these bindings needs. */
uint64_t loc_rec_bytes(struct spl_str aor, const struct spl_binding *b, unsigned nb);

/* Publish neu in place of old (either may be NULL), retire old. */
void loc_replace(struct spl_location *loc, struct loc_part *p, struct loc_rec *old,
		 struct loc_rec *neu);
/* Reserve / release one AOR against max_aors (new AORs only). */
bool loc_aor_reserve(struct spl_location *loc);
void loc_aor_release(struct spl_location *loc);
unsigned loc_reclaim(struct spl_location *loc, struct loc_part *p);

/* q desc, then registered_at desc; stable; n <= MAX_BINDINGS. */
void loc_sort(struct spl_binding *b, unsigned n);

/* Apply a whole-AOR state (replay, operator tools): drops bindings
 * expired at now, deletes the AOR when none remain. 0 or -errno. */
int loc_apply(struct spl_location *loc, struct spl_str aor, const struct spl_binding *b,
	      unsigned nb, uint64_t now);

/* ------------------------------------------------------------------ */
/* Registrar                                                           */

/* A REGISTER may name more contacts than an AOR may keep; the limit is
 * checked on the result, so the draft has room for both. */
#define REG_DRAFT_MAX (2 * SPL_LOCATION_MAX_BINDINGS)

struct reg_draft_b {
	struct spl_binding b;
	struct spl_sip_uri uri;      /* parsed contact, for §19.1.4 comparison */
	bool uri_ok;
	bool existed;                /* in the AOR's record before this request */
	bool touched;                /* changed by this request already */
	bool removed;
	uint32_t orig_cseq;
	struct spl_str orig_callid;
};

struct spl_registrar {
	struct spl_registrar_conf conf;
	char **domains;
	unsigned ndomains;
	struct spl_location *loc;
	struct loc_part *part;
	struct spl_timerwheel *tw;
	struct spl_auth *auth;
	struct spl_journal *jnl;
	uint32_t *timer;             /* per pool slot: its expiry timer handle */
	uint32_t tag_ctr;
	struct spl_registrar_stats st;

	/* scratch, reused by every request (no allocation per request) */
	char aor[SPL_REGISTRAR_AOR_MAX];
	char tag[20];
	unsigned ndraft;
	struct reg_draft_b draft[REG_DRAFT_MAX];
	struct spl_binding flat[REG_DRAFT_MAX];
	char *pbuf;                  /* texts of new bindings: params, path */
	uint32_t pbuf_cap, pbuf_len;
	char *text;                  /* response header lines */
	uint32_t text_cap;
	struct spl_str *lines;
	unsigned max_lines;
};

/* bindings.c: the draft of an AOR's next state, its commit, timers. */
void reg_draft_load(struct spl_registrar *reg, const struct loc_rec *old, uint64_t now);
int reg_draft_find(const struct spl_registrar *reg, const struct spl_sip_uri *u, bool uri_ok,
		   struct spl_str raw);
/* Publish the draft as the AOR's state (journal, timers, counters).
 * *seq: the journal record's seq, 0 when none. Returns OK or the
 * reason it could not be done (nothing changed then). */
enum spl_registrar_reason reg_commit(struct spl_registrar *reg, struct spl_str aor,
				     uint64_t hash, struct loc_rec *old, uint64_t *seq);
void reg_arm(struct spl_registrar *reg, const struct loc_rec *r);
void reg_disarm(struct spl_registrar *reg, const struct loc_rec *r);

/* ------------------------------------------------------------------ */
/* Journal internals used by the registrar                             */

/* Room for a record of this many payload bytes? Producer side. */
bool jnl_can_append(struct spl_journal *j, uint32_t payload_bytes);
/* Append the AOR's new state (r) or its removal (r NULL). Returns the seq,
 * 0 when the ring is full (checked before with jnl_can_append). */
uint64_t jnl_append_rec(struct spl_journal *j, const struct loc_rec *r, struct spl_str aor);
uint32_t jnl_rec_payload_bytes(const struct loc_rec *r, struct spl_str aor);

uint32_t reg_crc32c(uint32_t crc, const void *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Auth internals                                                      */

struct auth_cred {
	const char *user;
	const char *realm;
	uint16_t user_len, realm_len;
	uint8_t has;                 /* SPL_AUTH_ALG_* present */
	char ha1_md5[33];
	char ha1_sha256[65];
};
const struct auth_cred *auth_creds_find(const struct spl_auth_creds *c, struct spl_str user,
					struct spl_str realm);

/* Nonces: see nonce.c. */
#define NONCE_PAYLOAD 12             /* ts_ns (8) | shard (1) | counter (3) */
#define NONCE_MAC 16                 /* truncated HMAC-SHA256 */
#define NONCE_TEXT_LEN 38            /* base64url of 28 bytes, no padding */

struct auth_nonce {
	uint64_t ts;
	uint8_t mac[NONCE_MAC];
};

struct nc_entry {
	uint64_t key;                /* first 8 MAC bytes; 0: empty */
	uint64_t ts;
	uint32_t nc;
};

struct nc_table {
	struct nc_entry *e;
	uint32_t mask;               /* bucket count - 1 */
	uint64_t watermark;          /* newest ts evicted while fresh */
};

struct auth_rule {
	char *domain;                /* NULL: any */
	char *realm;                 /* NULL: the request's domain */
	uint32_t methods;
};

/* One per shard. The OpenSSL objects are kept opaque here so that only
 * digest.c includes OpenSSL headers. */
struct spl_auth {
	const struct spl_auth_creds *creds;
	uint64_t lifetime_ns;
	uint8_t algs;
	uint8_t shard;
	uint32_t counter;
	struct auth_rule *rules;
	unsigned nrules;
	struct evp_md_st *md5, *sha256;
	struct evp_md_ctx_st *ctx;
	uint8_t ipad[64], opad[64];  /* HMAC key pads */
	struct nc_table nc;
	struct spl_auth_stats st;
};

/* Hash the concatenation of parts with alg (SPL_AUTH_ALG_*); returns
 * the digest length (16 or 32) or 0 on an OpenSSL failure. */
unsigned auth_hash(struct spl_auth *a, unsigned alg, const struct spl_str *parts, unsigned n,
		   uint8_t *out);

/* Mint a nonce for realm at now into out (NONCE_TEXT_LEN bytes). */
void nonce_make(struct spl_auth *a, struct spl_str realm, uint64_t now, char *out);
/* Decode and authenticate a nonce for realm. 0 or -1. */
int nonce_open(struct spl_auth *a, struct spl_str text, struct spl_str realm,
	       struct auth_nonce *n);

enum nc_verdict { NC_OK = 0, NC_REPLAY, NC_FORGOTTEN };
enum nc_verdict nc_check(struct nc_table *t, const struct auth_nonce *n, uint32_t nc,
			 uint64_t now, uint64_t lifetime_ns, uint64_t *evictions);

uint64_t reg_hash64(const void *p, size_t len);

#endif /* SPL_REGISTRAR_PRIV_H */
