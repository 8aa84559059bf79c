/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals shared by the control thread's TCP/TLS files (conn.h is the
 * interface): conn_table.c (slots, flow hash, what was closed or failed
 * lately, opening and closing), conn_io.c (reading, framing, hand-off to
 * the shards, writing, connecting, accepting, timeouts), conn.c (start,
 * stop, control commands). One thread uses all of it: no locks.
 */
#ifndef SPL_APP_CONN_PRIV_H
#define SPL_APP_CONN_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conn.h"
#include "spl_stream.h"
#include "spl_txn.h"
#include "tls.h"

struct rte_mempool;

/* Why a connection closed, besides lib/stream's framing reasons. */
#define CONN_CLOSES(X) \
	X(PEER, "peer", "peer closed") \
	X(IDLE, "idle", "idle timeout") \
	X(TLS, "tls", "TLS handshake or record failure") \
	X(BACKPRESSURE, "backpressure", "peer reads slower than it is sent to") \
	X(ADMIN, "admin", "conn close") \
	X(ERROR, "error", "socket error") \
	X(CONNECT, "connect", "connect failed or timed out") \
	X(SHUTDOWN, "shutdown", "sipline stopping")

enum conn_close {
#define X(id, key, text) CONN_CLOSE_##id,
	CONN_CLOSES(X)
#undef X
	CONN_CLOSE__COUNT
};
extern const char *const close_keys[];
extern const char *const close_text[];
/* lib/stream's reasons, by enum spl_stream_close, as counter names. */
extern const char *const stream_close_keys[SPL_STREAM_CLOSE__COUNT];

struct conn_stats {
	uint64_t accepted, connected, connect_failed, refused_limit, refused_per_ip;
	uint64_t msgs_in, msgs_out, bytes_in, bytes_out, pings, pongs;
	uint64_t tls_handshakes, tls_failed, send_drops, ring_drops, send_failed;
	uint64_t closes[CONN_CLOSE__COUNT];
	struct spl_stream_stats framing;   /* lib/stream's totals, closes by framing reason */
};

enum conn_state { C_FREE = 0, C_CONNECTING, C_HANDSHAKE, C_OPEN };
extern const char *const state_names[];

#define WQ_MAX 64   /* queued messages per connection */

struct wq_ent {
	struct rte_mbuf *m;
	const char *data;
	uint32_t len;
	uint32_t shard;          /* who sent it (told when it cannot be delivered) */
};

struct flow_key {
	uint8_t transport, family;
	uint16_t port;
	uint8_t addr[16];
};

struct conn {
	uint32_t id;             /* 0 when free */
	int fd;
	uint8_t state;
	uint8_t transport;       /* SPL_SIP_TRANSPORT_TCP / _TLS */
	bool inbound;
	bool want_out;           /* EPOLLOUT registered */
	bool tls_wants_write;    /* the handshake or a read is waiting to write */
	SSL *ssl;
	struct spl_stream *st;
	struct spl_txn_peer peer;      /* the remote, as shards name it */
	struct spl_txn_peer local;     /* our end (conn list) */
	uint16_t local_port;
	struct flow_key key[2];        /* [0] remote, [1] Via alias */
	bool keyed[2];
	uint32_t hnext[2];             /* hash chains, node numbers (node_of) */
	uint64_t created, last_io, deadline;
	uint64_t rx_bytes, tx_bytes, rx_msgs, tx_msgs;
	struct wq_ent wq[WQ_MAX];
	unsigned wq_head, wq_n;
	uint32_t wq_off;               /* bytes of wq[wq_head] already written */
	uint64_t wq_bytes;
};

#define LISTEN_TCP 0xfffffff0u
#define LISTEN_TLS 0xfffffff1u

struct conn_global {
	struct spl_app *app;
	struct conn *c;
	uint32_t cap;
	uint32_t live, live_in, live_tls;
	uint32_t gen;
	uint32_t *buckets;       /* slot+1 */
	uint32_t nbuckets;       /* power of two */
	int epfd;
	int lfd_tcp, lfd_tls;
	struct spl_tls *tls;
	struct rte_mempool *pool, *pool_large;
	uint32_t small_room;
	struct spl_stream_conf sconf;
	uint64_t last_sweep;
	struct conn_stats st;
	char rbuf[65536];
};
extern struct conn_global CS;   /* the control thread's, defined in conn.c */

/* conn_table.c */
uint64_t conn_now_ns(void);                 /* CLOCK_MONOTONIC, ns */
bool conn_log_allowed(uint64_t now);        /* peer-caused log lines: at most 10 a second */
void conn_key_of_peer(struct flow_key *k, const struct spl_txn_peer *p);
void conn_key_add(struct conn *c, unsigned which, const struct flow_key *k);   /* which: 0 remote, 1 alias */
struct conn *conn_key_find(const struct flow_key *k);   /* a live connection of that flow, or NULL */
struct conn *conn_by_id(uint32_t id);                   /* NULL for a closed or stale id */
/* Closed on purpose / connect failed, remembered for 2 s (conn_table.c). */
void conn_remember_conn(uint32_t id, uint64_t now);
bool conn_recently_dropped(uint32_t id, uint64_t now);
void conn_remember_flow(const struct flow_key *k, uint64_t now);
bool conn_recently_failed_flow(const struct spl_txn_peer *p, uint64_t now);
void conn_set_events(struct conn *c, bool out);         /* EPOLLOUT on or off */
void conn_addr_text(const struct spl_txn_peer *p, char *buf, size_t len);   /* "ip:port", "[v6]:port" */
/* Count, log, forget the flow keys, free the socket, the stream and the
 * queue (queued requests are reported to their shards); stream_why > 0:
 * a lib/stream reason, counted by lib/stream. */
void conn_close(struct conn *c, enum conn_close why, int stream_why);
void conn_peer_from_sa(struct spl_txn_peer *p, const struct sockaddr_storage *sa, uint8_t transport);
/* A slot for a connected or connecting socket, registered with epoll and
 * keyed by its remote; NULL when the table is full. */
struct conn *conn_new(int fd, uint8_t transport, bool inbound, const struct spl_txn_peer *peer, uint64_t now);

/* conn_io.c: a request of shard `shard` that will not be delivered: its
 * client transaction is told (spl_txn_client_send_failed). */
void conn_report_failed(uint32_t shard, const char *data, uint32_t len);

#endif
