/* SPDX-License-Identifier: BSD-3-Clause */
/* Private layout and helpers shared by the lib/txn files. */
#ifndef TXN_PRIV_H
#define TXN_PRIV_H

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "spl_txn.h"

#define TXN_LIKELY(x) __builtin_expect(!!(x), 1)
#define TXN_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define TXN_NIL UINT32_MAX          /* end of a chain / no link */
#define TXN_KEY_INLINE 116          /* bytes of matching key stored in the slot */
#define TXN_MAX_CAPACITY (1u << 28)

enum {
	TXN_F_2543      = 1u << 0,  /* keyed by the RFC 2543 fields */
	TXN_F_RETAINED  = 1u << 1,  /* req holds a reference to the creating request */
	TXN_F_INLINE    = 1u << 2,  /* 3261 key stored inline in key[] */
	TXN_F_HASHED    = 1u << 3,  /* linked in the server hash */
	TXN_F_ZOMBIE    = 1u << 4,  /* client INVITE ended, slot kept for its CANCEL */
	TXN_F_NOACK     = 1u << 5,  /* client INVITE Completed, ACK not built yet (sent = INVITE) */
};

/*
 * One transaction: 256 bytes, four cache lines; the first line holds what
 * matching and the state machines touch on every message.
 */
struct txn {
	uint64_t fp;               /* keyed hash of the matching key (server) */
	uint32_t next;             /* free list */
	uint16_t gen;              /* never 0 */
	uint8_t kind;              /* enum spl_txn_kind; NONE when free */
	uint8_t state;             /* enum spl_txn_state */
	uint8_t method;            /* enum spl_sip_method of the creating request */
	uint8_t mclass;            /* matching class: method, ACK counted as INVITE */
	uint8_t flags;             /* TXN_F_* */
	uint8_t reliable;          /* copy of peer.reliable at creation */
	uint16_t status;           /* last status sent (server) / received (client) */
	uint8_t key_branch;        /* inline key: branch length */
	uint8_t key_host;          /* inline key: canonical sent-by host length */
	uint32_t link;             /* client INVITE <-> its CANCEL (slot), TXN_NIL */
	uint32_t t_rtx;            /* timer A/E/G handle */
	uint32_t t_life;           /* timer B/D/F/H/I/J/K/L/M handle */
	uint32_t user32;
	uint64_t rtx_ns;           /* current retransmit interval */
	void *user;
	struct spl_txn_buf sent;   /* bytes last sent */
	/* second line */
	struct spl_txn_peer peer;
	uint16_t key_port;         /* sent-by port, 0 when absent */
	uint16_t pad;
	struct spl_txn_buf req;    /* retained creating request (TXN_F_RETAINED) */
	uint32_t hpos;             /* bucket * 8 + way in the server hash */
	char key[TXN_KEY_INLINE];  /* 3261: branch then host; 2543: fp of URI/Via, To tag */
};
static_assert(sizeof(struct txn) <= 512, "a transaction must fit the 512-byte budget");
static_assert(sizeof(struct txn) == 256, "keep the slot at four cache lines");

/*
 * Server hash: open addressing over 64-byte buckets of 7 (signature, slot)
 * pairs, so a lookup reads one cache line and touches a slot only when its
 * 32-bit signature matches. An entry that finds its home bucket full goes
 * to the next one (at most TXN_MAX_PROBE); `ovf` counts the entries that
 * passed a bucket, so a lookup stops at the first bucket with ovf == 0 and
 * deletion needs no tombstones.
 */
#define TXN_WAYS 7
#define TXN_MAX_PROBE 32
#define TXN_SLOTS_PER_BUCKET 5     /* sizing: load <= 5/7 when the table is full */
struct txn_bucket {
	uint32_t sig[TXN_WAYS];
	uint32_t slot[TXN_WAYS];   /* TXN_NIL: empty */
	uint32_t ovf;
	uint32_t pad;
};
static_assert(sizeof(struct txn_bucket) == 64, "one cache line per bucket");

struct spl_txn_table {
	struct txn *slots;
	struct txn_bucket *buckets;
	uint32_t nbuckets;
	uint32_t capacity;
	uint32_t free_head;        /* FIFO of free slots: see txn_free() */
	uint32_t free_tail;
	uint32_t used;
	uint8_t shard;
	uint64_t t1, t2, t4, td;
	uint64_t seed;
	struct spl_timerwheel *tw;
	const struct spl_txn_ops *ops;
	void *ctx;
	struct spl_txn_stats stats;
	struct spl_sipmsg scratch; /* re-parse of stored bytes (ACK build, 2543 compare) */
};

/* ---- handles ---- */

static inline uint64_t txn_handle(const struct spl_txn_table *tbl, const struct txn *t)
{
	return ((uint64_t)t->gen << 32) | (uint32_t)(t - tbl->slots);
}
static inline uint32_t txn_slot(const struct spl_txn_table *tbl, const struct txn *t)
{
	return (uint32_t)(t - tbl->slots);
}
/* Live transaction for a handle, or NULL (stale, free, terminated). */
static inline struct txn *txn_get(const struct spl_txn_table *tbl, uint64_t h)
{
	uint32_t slot = (uint32_t)h;
	uint16_t gen = (uint16_t)(h >> 32);
	if (TXN_UNLIKELY(slot >= tbl->capacity || (h >> 48) != 0))
		return NULL;
	struct txn *t = &tbl->slots[slot];
	if (t->gen != gen || t->kind == SPL_TXN_KIND_NONE || t->state == SPL_TXN_STATE_TERMINATED)
		return NULL;
	return t;
}
/* Still the same live transaction after a callback? */
static inline bool txn_alive(const struct txn *t, uint16_t gen)
{
	return t->gen == gen && t->kind != SPL_TXN_KIND_NONE && t->state != SPL_TXN_STATE_TERMINATED;
}

static inline bool txn_is_client(const struct txn *t)
{
	return t->kind == SPL_TXN_KIND_CLIENT_INVITE || t->kind == SPL_TXN_KIND_CLIENT_NON_INVITE;
}

/* ---- hashing (keyed; the seed is per table) ---- */

#define TXN_HK1 UINT64_C(0x9e3779b97f4a7c15)
#define TXN_HK2 UINT64_C(0xbf58476d1ce4e5b9)

static inline uint64_t txn_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t txn_hash_bytes(uint64_t h, const void *p, uint32_t n)
{
	const unsigned char *s = p;
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, s, 8);
		h = txn_rotl((h ^ v) * TXN_HK1, 29) * TXN_HK2;
		s += 8;
		n -= 8;
	}
	uint64_t v = (uint64_t)n << 56;
	for (uint32_t i = 0; i < n; i++)
		v |= (uint64_t)s[i] << (8 * i);
	return txn_rotl((h ^ v) * TXN_HK1, 29) * TXN_HK2;
}
static inline uint64_t txn_hash_u64(uint64_t h, uint64_t v)
{
	return txn_rotl((h ^ v) * TXN_HK1, 29) * TXN_HK2;
}
static inline uint64_t txn_hash_final(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/* ---- txn_hash.c ---- */
static inline uint32_t txn_home(const struct spl_txn_table *tbl, uint64_t fp)
{
	return (uint32_t)(((uint64_t)(uint32_t)fp * tbl->nbuckets) >> 32);
}
static inline uint32_t txn_sig(uint64_t fp) { return (uint32_t)(fp >> 32); }
static inline uint32_t txn_next_bucket(const struct spl_txn_table *tbl, uint32_t b)
{
	return b + 1 == tbl->nbuckets ? 0 : b + 1;
}
size_t txn_hash_bytes_for(uint32_t capacity, uint32_t *nbuckets);
void txn_hash_init(struct spl_txn_table *tbl);
/* false when no bucket within TXN_MAX_PROBE has room (counted as full). */
bool txn_hash_insert(struct spl_txn_table *tbl, struct txn *t);
void txn_hash_remove(struct spl_txn_table *tbl, struct txn *t);

/* ---- txn_table.c ---- */
struct txn *txn_alloc(struct spl_txn_table *tbl);
void txn_init(struct spl_txn_table *tbl, struct txn *t, uint8_t kind, uint8_t state);
void txn_set_state(struct spl_txn_table *tbl, struct txn *t, uint8_t state);
/* Terminate: timers, buffers, hash, on_terminated, free (or zombie). */
void txn_end(struct spl_txn_table *tbl, struct txn *t);
void txn_release_buf(struct spl_txn_table *tbl, struct spl_txn_buf *b);
/* Replace the stored bytes (releasing the old ones). */
void txn_store(struct spl_txn_table *tbl, struct txn *t, const struct spl_txn_buf *b);

/* ---- txn_timer.c ---- */
/* delay relative to `now`; `now` may be ahead of the wheel (between advances). */
bool txn_timer_start(struct spl_txn_table *tbl, struct txn *t, enum spl_txn_timer id,
		     uint64_t delay, uint64_t now);
void txn_timer_stop_rtx(struct spl_txn_table *tbl, struct txn *t);
void txn_timer_stop_life(struct spl_txn_table *tbl, struct txn *t);
static inline void txn_timers_stop(struct spl_txn_table *tbl, struct txn *t)
{
	txn_timer_stop_rtx(tbl, t);
	txn_timer_stop_life(tbl, t);
}

/* ---- send helpers (txn_table.c) ---- */
/* Send t->sent to t->peer. On error reports it and ends the transaction;
 * returns the error (the slot may then be gone). */
int txn_send_stored(struct spl_txn_table *tbl, struct txn *t, uint64_t now);
/* Report a transport error and end the transaction. */
void txn_fail_transport(struct spl_txn_table *tbl, struct txn *t, int err, uint64_t now);

/* ---- txn_ack.c ---- */
/* ACK for a non-2xx final to the INVITE in t->sent; 0 or -1. */
int txn_build_ack(struct spl_txn_table *tbl, struct txn *t, const struct spl_sipmsg *rsp,
		  struct spl_txn_buf *out);

/* ---- txn_client.c / txn_server.c ---- */
int txn_client_response(struct spl_txn_table *tbl, struct txn *t, struct spl_sipmsg *msg,
			const struct spl_txn_peer *src, uint64_t now);
void txn_client_timer(struct spl_txn_table *tbl, struct txn *t, enum spl_txn_timer id, uint64_t now);
/* A request matched server transaction t (retransmission or ACK). */
int txn_server_request(struct spl_txn_table *tbl, struct txn *t, struct spl_sipmsg *msg,
		       const struct spl_txn_peer *src, uint64_t now);
void txn_server_timer(struct spl_txn_table *tbl, struct txn *t, enum spl_txn_timer id, uint64_t now);

/* ---- txn_match.c ---- */
/* The §17.2.3 key of a request, computed once per received request. */
struct txn_key {
	uint64_t fp;               /* bucket and first compare */
	uint8_t mclass;            /* method, ACK (and CANCEL lookups) as INVITE */
	bool rfc2543;              /* no magic cookie in the top branch */
	bool ack;                  /* 2543: To tag compared with the response sent */
	bool inline_ok;            /* 3261: branch + host fit TXN_KEY_INLINE */
	const struct spl_sip_via *via;  /* top Via of the request */
	uint8_t host_len;          /* canonical sent-by host length (inline_ok) */
	uint64_t fp2;              /* 2543 without a retained request: R-URI, top Via */
	uint64_t totag;            /* 2543: the request's To tag */
};
/* Write the canonical sent-by host (lowercase name, or family + address)
 * to out (TXN_KEY_INLINE bytes); returns its length or -1 when too long. */
int txn_canon_host(const struct spl_sip_host *h, char *out, uint32_t cap);
struct txn *txn_server_create(struct spl_txn_table *tbl, const struct txn_key *k,
			      struct spl_sipmsg *msg, void *rx_owner,
			      const struct spl_txn_peer *src, uint64_t now, int *rc);
/* The ACK / retransmission rule for RFC 2543 server matching needs the
 * To tag of the final response sent. */
bool txn_sent_to_tag(struct spl_txn_table *tbl, const struct txn *t, struct spl_str *tag);

#endif /* TXN_PRIV_H */
