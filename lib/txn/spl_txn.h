/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/txn: the SIP transaction layer (RFC 3261 §17 with the RFC 6026
 * "Accepted" states and Timers L and M) for one shard.
 *
 * One table per shard: a fixed array of transaction slots, a hash of the
 * server transactions, and timers in the shard's spl_timerwheel. Only the
 * owning core touches it: no locks, no allocation after
 * spl_txn_table_create(). Time is always an argument (nanoseconds, same
 * origin as the wheel), so tests drive a virtual clock.
 *
 * The four machines:
 *   client INVITE      Calling -> Proceeding -> Completed | Accepted -> Terminated
 *                      timers A (retransmit), B (timeout), D, M
 *   client non-INVITE  Trying -> Proceeding -> Completed -> Terminated
 *                      timers E (retransmit, capped at T2), F (timeout), K
 *   server INVITE      Proceeding -> Completed -> Confirmed | Accepted -> Terminated
 *                      timers G (retransmit), H (timeout), I, L
 *   server non-INVITE  Trying -> Proceeding -> Completed -> Terminated
 *                      timer J
 * Over a reliable transport A, E and G are never started and D, I, J, K
 * are zero: the transaction ends as soon as it enters the state.
 *
 * Messages and buffers. Incoming messages are struct spl_sipmsg already
 * scanned by the caller (spl_sipmsg_scan); the layer parses (cached) only
 * what matching needs. Outgoing messages are built by the TU into a buffer
 * it owns (struct spl_txn_buf: bytes plus an opaque owner, an mbuf in the
 * appliance). Handing a buffer to the layer (spl_txn_client_start,
 * spl_txn_server_respond) gives the layer one reference: it transmits the
 * bytes with ops->send, keeps them for retransmission, and calls
 * ops->release(owner) exactly once when they are replaced or the
 * transaction ends. ops->send never takes that reference; if the transport
 * needs the bytes after returning (an mbuf queued for tx_burst) it takes its
 * own (refcount). Retransmissions resend the stored bytes, never rebuild.
 *
 * Handles. A transaction is named by a 64-bit handle (slot + generation).
 * SPL_TXN_NONE (0) is never valid. A handle is stale once the transaction
 * has terminated (after ops->on_terminated); every function taking one
 * checks it and fails with -ESTALE (or returns NULL/NONE) instead of
 * touching a reused slot.
 *
 * Re-entrancy. Callbacks run synchronously inside spl_txn_recv_*,
 * spl_txn_timer_fire, spl_txn_client_start and spl_txn_server_respond. A
 * callback may call any function of this API on any transaction, including
 * responding to or terminating the one it is called for; the layer
 * re-checks the transaction after every callback.
 */
#ifndef SPL_TXN_H
#define SPL_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "spl_sipmsg.h"
#include "spl_timerwheel.h"

#ifdef __cplusplus
extern "C" {
#endif

struct spl_txn_table;

/* ------------------------------------------------------------------ */
/* Kinds, states, timers                                               */

enum spl_txn_kind {
	SPL_TXN_KIND_NONE = 0,           /* free slot */
	SPL_TXN_KIND_CLIENT_INVITE,
	SPL_TXN_KIND_CLIENT_NON_INVITE,  /* includes CANCEL */
	SPL_TXN_KIND_SERVER_INVITE,
	SPL_TXN_KIND_SERVER_NON_INVITE,  /* includes CANCEL */
	SPL_TXN_KIND__COUNT
};

enum spl_txn_state {
	SPL_TXN_STATE_RESERVED = 0,  /* client slot reserved, request not sent yet */
	SPL_TXN_STATE_CALLING,       /* client INVITE */
	SPL_TXN_STATE_TRYING,        /* non-INVITE, client and server */
	SPL_TXN_STATE_PROCEEDING,
	SPL_TXN_STATE_COMPLETED,
	SPL_TXN_STATE_CONFIRMED,     /* server INVITE: ACK for the non-2xx received */
	SPL_TXN_STATE_ACCEPTED,      /* INVITE, 2xx passed (RFC 6026) */
	SPL_TXN_STATE_TERMINATED,
	SPL_TXN_STATE__COUNT
};

/* RFC 3261 Appendix A letters; C belongs to the proxy core. */
enum spl_txn_timer {
	SPL_TXN_TIMER_A = 0,  /* client INVITE retransmit (T1, doubling) */
	SPL_TXN_TIMER_B,      /* client INVITE timeout (64*T1) */
	SPL_TXN_TIMER_D,      /* client INVITE Completed (timer_d, 0 reliable) */
	SPL_TXN_TIMER_E,      /* client non-INVITE retransmit (T1 doubling, cap T2) */
	SPL_TXN_TIMER_F,      /* client non-INVITE timeout (64*T1) */
	SPL_TXN_TIMER_G,      /* server INVITE final retransmit (T1 doubling, cap T2) */
	SPL_TXN_TIMER_H,      /* server INVITE wait for ACK (64*T1) */
	SPL_TXN_TIMER_I,      /* server INVITE Confirmed (T4, 0 reliable) */
	SPL_TXN_TIMER_J,      /* server non-INVITE Completed (64*T1, 0 reliable) */
	SPL_TXN_TIMER_K,      /* client non-INVITE Completed (T4, 0 reliable) */
	SPL_TXN_TIMER_L,      /* server INVITE Accepted (64*T1), RFC 6026 */
	SPL_TXN_TIMER_M,      /* client INVITE Accepted (64*T1), RFC 6026 */
	SPL_TXN_TIMER__COUNT
};

const char *spl_txn_kind_name(enum spl_txn_kind k);
const char *spl_txn_state_name(enum spl_txn_state s);
const char *spl_txn_timer_name(enum spl_txn_timer t);   /* "A".."M" */

/*
 * Timer data in the shard's shared wheel. The wheel's 64-bit data carries
 * an owner tag in the top 8 bits so that one dispatcher can serve the
 * transaction layer, the proxy (Timer C) and the registrar:
 *
 *   63..56 SPL_TXN_TIMER_TAG | 55..52 timer | 51..48 0 | 47..32 gen | 31..0 slot
 *
 * The dispatcher calls spl_txn_timer_fire() for data whose tag is ours.
 */
#define SPL_TIMER_TAG_SHIFT 56
#define SPL_TXN_TIMER_TAG   0x54u   /* 'T' */
static inline bool spl_txn_timer_is_ours(uint64_t data)
{
	return (data >> SPL_TIMER_TAG_SHIFT) == SPL_TXN_TIMER_TAG;
}

/* ------------------------------------------------------------------ */
/* Peers and buffers                                                   */

/*
 * Where a message came from or goes to. The layer stores it and hands it
 * back to ops->send; it interprets only `reliable`. For a server
 * transaction it is the source of the request until the TU replaces it
 * (spl_txn_peer_set) with the §18.2.2 destination (received/rport are the
 * proxy's business).
 */
struct spl_txn_peer {
	uint8_t transport;   /* enum spl_sip_transport */
	uint8_t reliable;    /* 1: TCP/TLS/SCTP/WS: no retransmissions, D/I/J/K = 0 */
	uint8_t family;      /* AF_INET or AF_INET6, opaque here */
	uint8_t pad;
	uint16_t port;       /* host order */
	uint16_t pad2;
	uint32_t conn_id;    /* stream connection, 0 for datagrams */
	uint8_t addr[16];    /* IPv4 in addr[0..3] */
};

/* Bytes sent or to send; `owner` is passed back to ops->release. */
struct spl_txn_buf {
	const char *data;
	uint32_t len;
	void *owner;
};

/* ------------------------------------------------------------------ */
/* Callbacks to the transport and the TU                               */

#define SPL_TXN_NONE UINT64_C(0)

/* What a request passed to ops->on_request is. */
enum spl_txn_req_kind {
	SPL_TXN_REQ_NEW = 0,     /* a new server transaction (handle valid) */
	SPL_TXN_REQ_STATELESS,   /* no transaction: an ACK that matched none, or
				    matched an INVITE server transaction in
				    Accepted (ACK for a 2xx); handle is NONE */
};

struct spl_txn_ops {
	/* Transport. Returns 0, or a negative errno for a transport error
	 * (the transaction then reports it and terminates, §17.1.4/§17.2.4).
	 * Must not keep buf->owner past the call without its own reference. */
	int (*send)(void *ctx, const struct spl_txn_peer *dst, const struct spl_txn_buf *buf);
	/* Drop the layer's reference to a buffer (sent bytes, or a retained
	 * request). Called exactly once per reference. */
	void (*release)(void *ctx, void *owner);
	/* Take a reference to the buffer of a received request, which the
	 * layer then keeps for exact RFC 2543 matching (and for 3261 keys too
	 * long to store inline). Optional: without it those transactions are
	 * matched by a 64-bit keyed fingerprint of the same fields. */
	void (*retain)(void *ctx, void *owner);
	/* A writable buffer of at least `len` bytes for an ACK the layer
	 * builds (client INVITE, non-2xx final). Returns 0 with *out filled
	 * (out->data points to the writable bytes, out->len = len) or -1. */
	int (*alloc)(void *ctx, uint32_t len, struct spl_txn_buf *out);

	/* A request for the TU: a new server transaction (REQ_NEW, handle
	 * valid; the TU answers with spl_txn_server_respond and may store its
	 * context with spl_txn_user_set) or a stateless ACK (handle NONE).
	 * Retransmissions absorbed by a transaction are never passed up. */
	void (*on_request)(void *ctx, uint64_t handle, enum spl_txn_req_kind kind,
			   struct spl_sipmsg *msg, const struct spl_txn_peer *src, uint64_t now);
	/* A response for the TU: for a client transaction, every provisional
	 * and the first final; in Accepted (RFC 6026) every further 2xx. With
	 * handle NONE: a response that matched no client transaction (a §16.7
	 * proxy forwards it statelessly). */
	void (*on_response)(void *ctx, uint64_t handle, struct spl_sipmsg *msg,
			    const struct spl_txn_peer *src, uint64_t now);
	/* Timer B, F (client) or H (server) fired: the transaction failed.
	 * on_terminated follows. */
	void (*on_timeout)(void *ctx, uint64_t handle, enum spl_txn_timer which, uint64_t now);
	/* ops->send failed with `err`; on_terminated follows. */
	void (*on_transport_error)(void *ctx, uint64_t handle, int err, uint64_t now);
	/* The transaction is gone (any cause, including spl_txn_terminate):
	 * free the TU context. The handle is already stale while this runs.
	 * Called once for every transaction created by spl_txn_recv_request
	 * or started by spl_txn_client_start. */
	void (*on_terminated)(void *ctx, uint64_t handle, void *user, uint32_t user32);
};

/* ------------------------------------------------------------------ */
/* Table                                                               */

struct spl_txn_conf {
	uint32_t capacity;          /* transactions live at once (slots) */
	uint8_t shard;              /* carried in our branches */
	uint64_t t1_ns;             /* 0: 500 ms */
	uint64_t t2_ns;             /* 0: 4 s */
	uint64_t t4_ns;             /* 0: 5 s */
	uint64_t timer_d_ns;        /* 0: 32 s (RFC 3261: at least 32 s over UDP) */
	uint64_t hash_seed;         /* 0: random */
	struct spl_timerwheel *wheel;   /* the shard's wheel; needs 2 timers per transaction */
	const struct spl_txn_ops *ops;  /* all callbacks except retain/alloc are required */
	void *ctx;                  /* first argument of every callback */
};

/* Returns NULL with errno set (EINVAL, ENOMEM). Everything is allocated
 * and touched here. */
struct spl_txn_table *spl_txn_table_create(const struct spl_txn_conf *conf);
/* Releases every stored buffer and stops the table's timers (free the
 * table before its wheel). No TU callbacks. */
void spl_txn_table_free(struct spl_txn_table *tbl);

uint32_t spl_txn_capacity(const struct spl_txn_table *tbl);
uint32_t spl_txn_live(const struct spl_txn_table *tbl);       /* slots in use */
/* Bytes of the table (slots + hash buckets) per slot: what one transaction
 * costs, stored message bytes and wheel entries excluded. */
uint32_t spl_txn_bytes_per_txn(const struct spl_txn_table *tbl);

/* ------------------------------------------------------------------ */
/* Messages from the network                                           */

enum spl_txn_rx {
	SPL_TXN_RX_NEW = 0,     /* request: new server transaction, passed up (REQ_NEW) */
	SPL_TXN_RX_PASSED,      /* response: passed to its client transaction's TU */
	SPL_TXN_RX_ABSORBED,    /* retransmission (or stray) handled inside a transaction */
	SPL_TXN_RX_STATELESS,   /* matched no transaction; passed up with handle NONE */
};

/*
 * A request from the network (§17.2.3 matching): a retransmission is
 * absorbed (the last response is resent), an ACK drives its INVITE server
 * transaction, anything else that matches nothing creates a server
 * transaction and is passed to ops->on_request. `rx_owner` is the owner of
 * msg->buf, for ops->retain (may be NULL). Returns enum spl_txn_rx, or
 *   -ENOSPC  the table is full: nothing was created or called; the caller
 *            answers 503 statelessly (counted in stats.table_full)
 *   -EINVAL  the message lacks what matching needs (top Via, CSeq, ...).
 */
int spl_txn_recv_request(struct spl_txn_table *tbl, struct spl_sipmsg *msg, void *rx_owner,
			 const struct spl_txn_peer *src, uint64_t now);

/*
 * A response from the network (§17.1.3): the branch of the top Via is
 * decoded to shard, slot and generation and checked with the CSeq method
 * (a CANCEL's responses go to the CANCEL transaction linked to the
 * INVITE's slot). Returns enum spl_txn_rx or -EINVAL.
 */
int spl_txn_recv_response(struct spl_txn_table *tbl, struct spl_sipmsg *msg,
			  const struct spl_txn_peer *src, uint64_t now);

/* A timer tagged SPL_TXN_TIMER_TAG fired (call from the wheel callback,
 * with the wheel's time as `now`). Stale timers are ignored. */
void spl_txn_timer_fire(struct spl_txn_table *tbl, uint64_t data, uint64_t now);

/* ------------------------------------------------------------------ */
/* Client transactions                                                 */

/*
 * Reserve a client transaction for a request with `method` (not ACK) to
 * `dst`, and write its branch (SPL_SIPMSG_BRANCH_LEN bytes, no NUL) to
 * `branch` so the TU can build the Via (it may append ".<loop-hash>").
 * Then spl_txn_client_start() sends it, or spl_txn_client_abandon()
 * gives the slot back. Returns 0, -ENOSPC (table full) or -EINVAL.
 */
int spl_txn_client_reserve(struct spl_txn_table *tbl, enum spl_sip_method method,
			   const struct spl_txn_peer *dst, void *user, uint32_t user32,
			   uint64_t *handle, char branch[SPL_SIPMSG_BRANCH_LEN]);
/*
 * Reserve the CANCEL client transaction for a live INVITE client
 * transaction (§9.1): same destination, and the CANCEL's Via must be the
 * INVITE's top Via (same branch) — the TU builds it from
 * spl_txn_sent(invite). Responses with CSeq method CANCEL are routed to it.
 * Returns 0, -ESTALE, -EINVAL (not an INVITE client), -EEXIST (already
 * has a CANCEL), -ENOSPC.
 */
int spl_txn_client_reserve_cancel(struct spl_txn_table *tbl, uint64_t invite,
				  void *user, uint32_t user32, uint64_t *handle);
/*
 * Send the request of a reserved transaction and start it (Calling or
 * Trying; timers A/E and B/F). The layer takes the buffer reference (also
 * on failure). Returns 0, -ESTALE / -EINVAL (not reserved, empty buffer),
 * -ENOSPC (the wheel has no room for Timer B/F: the reservation is gone,
 * no callbacks), or the send error (after on_transport_error and
 * on_terminated were called).
 */
int spl_txn_client_start(struct spl_txn_table *tbl, uint64_t handle,
			 const struct spl_txn_buf *req, uint64_t now);
/* Give back a reserved, never-started slot. No callbacks. */
int spl_txn_client_abandon(struct spl_txn_table *tbl, uint64_t handle);
/* A request sent earlier could not be delivered after all (asynchronous
 * transports: a TCP connect refused, a TLS verification failure): the
 * client transaction named by its top Via branch and CSeq method gets
 * on_transport_error and ends (§17.1.4). 0, -ENOENT (no such live
 * transaction, e.g. it already ended), -EINVAL (not a request). */
int spl_txn_client_send_failed(struct spl_txn_table *tbl, struct spl_sipmsg *req, int err, uint64_t now);
/* Branch of a client transaction (for a CANCEL: the INVITE's). */
int spl_txn_branch(const struct spl_txn_table *tbl, uint64_t handle,
		   char branch[SPL_SIPMSG_BRANCH_LEN]);

/* ------------------------------------------------------------------ */
/* Server transactions                                                 */

/*
 * The TU's response (`status` is that of the bytes in `rsp`), sent to the
 * transaction's peer. 1xx: Proceeding; 2xx to an INVITE: Accepted (and
 * further 2xx in Accepted are sent too, RFC 6026); other finals:
 * Completed (INVITE: Timer G/H; non-INVITE: Timer J). The layer takes the
 * buffer reference (also on failure). Returns 0, -ESTALE, -EINVAL (bad
 * status), -EALREADY (a final was already sent; the response is discarded
 * as §17.2.1/§17.2.2 require) or the send error (after on_transport_error
 * and on_terminated).
 */
int spl_txn_server_respond(struct spl_txn_table *tbl, uint64_t handle, uint16_t status,
			   const struct spl_txn_buf *rsp, uint64_t now);

/*
 * The INVITE server transaction that a CANCEL (already received as its own
 * server transaction, or not) cancels (§9.2: §17.2.3 matching with the
 * method taken as INVITE). SPL_TXN_NONE when there is none.
 */
uint64_t spl_txn_find_invite_for_cancel(struct spl_txn_table *tbl, struct spl_sipmsg *cancel);

/* ------------------------------------------------------------------ */
/* Any transaction                                                     */

/* End a transaction now: stops its timers, releases its buffers, calls
 * on_terminated. Returns 0 or -ESTALE. */
int spl_txn_terminate(struct spl_txn_table *tbl, uint64_t handle);

/* The TU's per-transaction context. */
int spl_txn_user_set(struct spl_txn_table *tbl, uint64_t handle, void *user, uint32_t user32);
void *spl_txn_user_get(const struct spl_txn_table *tbl, uint64_t handle, uint32_t *user32);

/* Destination (client) or response destination (server). */
int spl_txn_peer_set(struct spl_txn_table *tbl, uint64_t handle, const struct spl_txn_peer *peer);
const struct spl_txn_peer *spl_txn_peer_get(const struct spl_txn_table *tbl, uint64_t handle);

/* The bytes last sent (request, ACK or last response); NULL when none. */
const struct spl_txn_buf *spl_txn_sent(const struct spl_txn_table *tbl, uint64_t handle);

/* -1 (as the enum's int) for a stale handle. */
int spl_txn_state(const struct spl_txn_table *tbl, uint64_t handle);
int spl_txn_kind(const struct spl_txn_table *tbl, uint64_t handle);
/* Method of the request that created the transaction. */
int spl_txn_method(const struct spl_txn_table *tbl, uint64_t handle);
/* Last status received (client) or sent (server); 0 when none. */
uint16_t spl_txn_status(const struct spl_txn_table *tbl, uint64_t handle);

/* One live transaction, for listings ("txn list" on the control socket). */
struct spl_txn_info {
	uint64_t handle;
	uint8_t kind;                /* enum spl_txn_kind */
	uint8_t state;               /* enum spl_txn_state */
	uint8_t method;              /* enum spl_sip_method */
	uint16_t status;
	struct spl_txn_peer peer;
};

/*
 * Live transactions in slot order, for paged listings: start with
 * *cursor = 0; fills up to max entries and advances *cursor; returns the
 * count, 0 at the end. Runs on the owning shard (it reads slots).
 */
int spl_txn_list(const struct spl_txn_table *tbl, uint32_t *cursor, struct spl_txn_info *out, unsigned max);

/* ------------------------------------------------------------------ */
/* Counters                                                            */

/* Per shard, plain increments by the owner, summed by the reader. */
struct spl_txn_stats {
	uint64_t live[SPL_TXN_KIND__COUNT][SPL_TXN_STATE__COUNT]; /* gauge */
	uint64_t created[SPL_TXN_KIND__COUNT];
	uint64_t terminated[SPL_TXN_KIND__COUNT];
	uint64_t retransmitted;      /* requests/responses resent on Timer A, E, G */
	uint64_t resent;             /* response/ACK resent for a received retransmission */
	uint64_t absorbed;           /* received retransmissions not passed up */
	uint64_t timeouts[SPL_TXN_TIMER__COUNT]; /* B, F, H */
	uint64_t table_full;
	uint64_t stateless_requests;
	uint64_t stateless_responses;
	uint64_t stale_responses;    /* our branch, but slot gone/regenerated or method mismatch */
	uint64_t stale_timers;
	uint64_t transport_errors;
	uint64_t timer_failures;     /* wheel full: transaction ended early */
	uint64_t ack_failures;       /* no buffer to build an ACK */
	uint64_t retained;           /* requests retained for exact matching */
	uint64_t bad_messages;
} __attribute__((aligned(64)));

const struct spl_txn_stats *spl_txn_stats(const struct spl_txn_table *tbl);

#ifdef __cplusplus
}
#endif
#endif /* SPL_TXN_H */
