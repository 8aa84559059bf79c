/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP over TCP and TLS on the control thread (see conn.h).
 *
 * A connection is a slot of a fixed table, found by id (slot and a
 * generation, so a stale id never reaches a new connection) or by flow
 * key (transport, remote address, port) through a chained hash: the
 * remote of the socket, and the Via sent-by of a request carrying
 * `alias` (RFC 5923). Sockets are non-blocking and polled with epoll
 * each turn with a zero timeout: the control loop already wakes every
 * millisecond for the exception path.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "app.h"
#include "control.h"
#include "dnsres.h"
#include "excns.h"
#include "log.h"
#include "shard.h"
#include "spl_sipmsg.h"
#include "spl_stream.h"
#include "tls.h"

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
static const char *const close_keys[] = {
#define X(id, key, text) "closed_" key,
	CONN_CLOSES(X)
#undef X
};
static const char *const close_text[] = {
#define X(id, key, text) text,
	CONN_CLOSES(X)
#undef X
};
/* lib/stream's reasons, by enum spl_stream_close, as counter names. */
static const char *const stream_close_keys[SPL_STREAM_CLOSE__COUNT] = {
	[SPL_STREAM_CLOSE_OVERSIZE] = "closed_oversize", [SPL_STREAM_CLOSE_NO_CL] = "closed_no_cl",
	[SPL_STREAM_CLOSE_BAD_CL] = "closed_bad_cl", [SPL_STREAM_CLOSE_START_LINE] = "closed_start_line",
	[SPL_STREAM_CLOSE_TOO_MANY_HDRS] = "closed_too_many_hdrs", [SPL_STREAM_CLOSE_STALL] = "closed_stall",
	[SPL_STREAM_CLOSE_EOF_PARTIAL] = "closed_eof_partial",
};

struct conn_stats {
	uint64_t accepted, connected, connect_failed, refused_limit, refused_per_ip;
	uint64_t msgs_in, msgs_out, bytes_in, bytes_out, pings, pongs;
	uint64_t tls_handshakes, tls_failed, send_drops, ring_drops, send_failed;
	uint64_t closes[CONN_CLOSE__COUNT];
	struct spl_stream_stats framing;   /* lib/stream's totals, closes by framing reason */
};

enum conn_state { C_FREE = 0, C_CONNECTING, C_HANDSHAKE, C_OPEN };
static const char *const state_names[] = { "free", "connecting", "handshake", "open" };

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

static struct {
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
} S = { .epfd = -1, .lfd_tcp = -1, .lfd_tls = -1 };

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Peer-caused failures (handshake garbage, refused connects) are logged
 * at most 10 a second: a flood must not become a log flood. The rest are
 * counted and summed up in the next line that gets through. */
static bool log_allowed(uint64_t now)
{
	static uint64_t window;
	static unsigned n, suppressed;
	if (now - window >= 1000000000ull) {
		if (suppressed)
			spl_log(SPL_LOG_NOTICE, "streams: %u similar messages suppressed", suppressed);
		window = now;
		n = suppressed = 0;
	}
	if (n < 10) {
		n++;
		return true;
	}
	suppressed++;
	return false;
}

/* ---- flow hash ---- */

static uint32_t key_hash(const struct flow_key *k)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = (const uint8_t *)k;
	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 32)) & (S.nbuckets - 1);
}

static void key_of_peer(struct flow_key *k, const struct spl_txn_peer *p)
{
	memset(k, 0, sizeof(*k));
	k->transport = p->transport;
	k->family = p->family;
	k->port = p->port;
	memcpy(k->addr, p->addr, p->family == AF_INET6 ? 16 : 4);
}

/* Hash nodes: each slot has two (its remote, its alias); a bucket and a
 * node's next hold node numbers, slot * 2 + which + 1 (0 ends a chain). */
static uint32_t node_of(const struct conn *c, unsigned which) { return (uint32_t)(c - S.c) * 2 + which + 1; }

static void key_add(struct conn *c, unsigned which, const struct flow_key *k)
{
	if (c->keyed[which])
		return;
	c->key[which] = *k;
	c->keyed[which] = true;
	uint32_t b = key_hash(k);
	c->hnext[which] = S.buckets[b];
	S.buckets[b] = node_of(c, which);
}

static void key_del(struct conn *c, unsigned which)
{
	if (!c->keyed[which])
		return;
	uint32_t me = node_of(c, which);
	for (uint32_t *pp = &S.buckets[key_hash(&c->key[which])]; *pp;) {
		if (*pp == me) {
			*pp = c->hnext[which];
			break;
		}
		pp = &S.c[(*pp - 1) / 2].hnext[(*pp - 1) % 2];
	}
	c->keyed[which] = false;
}

static struct conn *key_find(const struct flow_key *k)
{
	for (uint32_t i = S.buckets[key_hash(k)]; i;) {
		struct conn *c = &S.c[(i - 1) / 2];
		unsigned w = (i - 1) % 2;
		/* Only open connections carry traffic for others; one still
		 * connecting queues it (it is the one we opened for them). */
		if (c->id && c->keyed[w] && memcmp(&c->key[w], k, sizeof(*k)) == 0)
			return c;
		i = c->hnext[w];
	}
	return NULL;
}

static struct conn *by_id(uint32_t id)
{
	uint32_t slot = (id & 0xfffff) - 1;
	if (id == 0 || slot >= S.cap || S.c[slot].id != id)
		return NULL;
	return &S.c[slot];
}

/* ---- what failed or was closed on purpose, for a while ---- */

/* A connection we closed on purpose (its peer misbehaved, or admin) is
 * remembered by id so that answers still on their way to it are dropped,
 * not sent on a new connection (§18.2.2's reconnect is for connections
 * that failed, not for peers we threw out). A flow whose connect failed is
 * remembered so that a burst of messages to a dead peer fails fast
 * instead of opening a connection each. Direct-mapped, forgetful by
 * design: a collision only means one more connect attempt. */
#define RECENT_SLOTS 256
#define RECENT_NS (2ull * 1000000000ull)

static struct recent {
	uint32_t conn_id;
	struct flow_key key;
	uint64_t until;
} recent_ids[RECENT_SLOTS], recent_flows[RECENT_SLOTS];

static void remember_conn(uint32_t id, uint64_t now)
{
	struct recent *r = &recent_ids[(id * 2654435761u) % RECENT_SLOTS];
	r->conn_id = id;
	r->until = now + RECENT_NS;
}

static bool recently_dropped_conn(uint32_t id, uint64_t now)
{
	const struct recent *r = &recent_ids[(id * 2654435761u) % RECENT_SLOTS];
	return r->conn_id == id && now < r->until;
}

static void remember_flow(const struct flow_key *k, uint64_t now)
{
	struct recent *r = &recent_flows[key_hash(k) % RECENT_SLOTS];
	r->key = *k;
	r->until = now + RECENT_NS;
}

static bool recently_failed_flow(const struct spl_txn_peer *p, uint64_t now)
{
	struct flow_key k;
	key_of_peer(&k, p);
	const struct recent *r = &recent_flows[key_hash(&k) % RECENT_SLOTS];
	return now < r->until && memcmp(&r->key, &k, sizeof(k)) == 0;
}

/* ---- slots ---- */

static struct conn *slot_alloc(void)
{
	for (uint32_t i = 0; i < S.cap; i++) {
		/* Round robin from the generation so ids spread over slots. */
		uint32_t s = (S.gen + i) % S.cap;
		if (S.c[s].id == 0) {
			S.gen++;
			struct conn *c = &S.c[s];
			memset(c, 0, sizeof(*c));
			c->id = ((S.gen & 0xfff) << 20) | (s + 1);
			c->fd = -1;
			return c;
		}
	}
	return NULL;
}

static void set_events(struct conn *c, bool out)
{
	if (c->want_out == out)
		return;
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.u32 = (uint32_t)(c - S.c) };
	if (epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = out;
}

static void report_failed(uint32_t shard, const char *data, uint32_t len);

/* Queued requests that will never leave are reported to their shards:
 * the client transaction fails over now instead of timing out (§17.1.4,
 * RFC 3263 §4.3). A partly written one was delivered as far as we know. */
static void wq_clear(struct conn *c)
{
	while (c->wq_n) {
		struct wq_ent *e = &c->wq[c->wq_head];
		if (e->m && c->wq_off == 0)
			report_failed(e->shard, e->data, e->len);
		c->wq_off = 0;
		if (c->wq[c->wq_head].m)
			rte_pktmbuf_free(c->wq[c->wq_head].m);
		c->wq_head = (c->wq_head + 1) % WQ_MAX;
		c->wq_n--;
	}
	c->wq_bytes = 0;
	c->wq_off = 0;
}

static void addr_text(const struct spl_txn_peer *p, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(p->family == AF_INET6 ? AF_INET6 : AF_INET, p->addr, ip, sizeof(ip));
	snprintf(buf, len, p->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, p->port);
}

static void conn_close(struct conn *c, enum conn_close why, int stream_why)
{
	char r[64];
	addr_text(&c->peer, r, sizeof(r));
	const char *tp = c->transport == SPL_SIP_TRANSPORT_TLS ? "tls" : "tcp";
	bool normal = stream_why <= 0 && (why == CONN_CLOSE_PEER || why == CONN_CLOSE_SHUTDOWN);
	if (normal)
		spl_log(SPL_LOG_DEBUG, "conn %u %s %s closed: %s", c->id, tp, r, close_text[why]);
	else if (log_allowed(now_ns()))
		spl_log(SPL_LOG_INFO, "conn %u %s %s closed: %s", c->id, tp, r,
			stream_why > 0 ? spl_stream_close_reason((enum spl_stream_close)stream_why) : close_text[why]);
	if (stream_why <= 0)
		S.st.closes[why]++;
	uint64_t t = now_ns();
	if (stream_why > 0 || why == CONN_CLOSE_BACKPRESSURE || why == CONN_CLOSE_ADMIN || why == CONN_CLOSE_TLS)
		remember_conn(c->id, t);
	if (!c->inbound && (why == CONN_CLOSE_CONNECT || (why == CONN_CLOSE_TLS && c->state != C_OPEN)))
		remember_flow(&c->key[0], t);
	key_del(c, 1);
	key_del(c, 0);
	spl_tls_close(c->ssl);
	if (c->fd >= 0) {
		epoll_ctl(S.epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	spl_stream_free(c->st);
	wq_clear(c);
	S.live--;
	if (c->inbound)
		S.live_in--;
	if (c->transport == SPL_SIP_TRANSPORT_TLS)
		S.live_tls--;
	c->id = 0;
	c->state = C_FREE;
}

static void peer_from_sa(struct spl_txn_peer *p, const struct sockaddr_storage *sa, uint8_t transport)
{
	memset(p, 0, sizeof(*p));
	p->transport = transport;
	p->reliable = 1;
	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			p->family = AF_INET;
			memcpy(p->addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			p->family = AF_INET6;
			memcpy(p->addr, &s6->sin6_addr, 16);
		}
		p->port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		p->family = AF_INET;
		memcpy(p->addr, &s4->sin_addr, 4);
		p->port = ntohs(s4->sin_port);
	}
}

static struct conn *conn_new(int fd, uint8_t transport, bool inbound, const struct spl_txn_peer *peer, uint64_t now)
{
	struct conn *c = slot_alloc();
	if (!c)
		return NULL;
	c->st = spl_stream_create(&S.sconf);
	if (!c->st) {
		c->id = 0;
		return NULL;
	}
	c->fd = fd;
	c->transport = transport;
	c->inbound = inbound;
	c->peer = *peer;
	c->peer.conn_id = c->id;
	c->created = c->last_io = now;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(c - S.c) };
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		spl_stream_free(c->st);
		c->id = 0;
		return NULL;
	}
	struct sockaddr_storage la;
	socklen_t ll = sizeof(la);
	if (getsockname(fd, (struct sockaddr *)&la, &ll) == 0) {
		peer_from_sa(&c->local, &la, transport);
		c->local_port = c->local.port;
	}
	struct flow_key k;
	key_of_peer(&k, peer);
	key_add(c, 0, &k);
	S.live++;
	if (inbound)
		S.live_in++;
	if (transport == SPL_SIP_TRANSPORT_TLS)
		S.live_tls++;
	return c;
}

/* ---- to the shards ---- */

static void report_failed(uint32_t shard, const char *data, uint32_t len)
{
	/* Responses have no client transaction to tell. */
	if (len < 8 || memcmp(data, "SIP/2.0 ", 8) == 0 || shard >= S.app->nshards || len > S.small_room)
		return;
	struct rte_mbuf *m = rte_pktmbuf_alloc(S.pool);
	if (!m)
		return;
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), data, len);
	struct spl_handoff *h = rte_mbuf_to_priv(m);
	memset(h, 0, sizeof(*h));
	h->m = m;
	h->len = len;
	h->send_failed = 1;
	if (rte_ring_sp_enqueue(S.app->shards[shard]->stream_in, m) != 0) {
		rte_pktmbuf_free(m);
		S.st.ring_drops++;
		return;
	}
	S.st.send_failed++;
}

/* RFC 5923: a request whose top Via has `alias` lets us reuse this
 * connection for requests to its sent-by. */
static void learn_alias(struct conn *c, const char *p, uint32_t len)
{
	static struct spl_sipmsg m;
	if (c->keyed[1] || len < 8 || memcmp(p, "SIP/2.0 ", 8) == 0)
		return;
	if (spl_sipmsg_scan(&m, p, len) != SPL_SIPMSG_E_NONE || spl_sipmsg_parse(&m, SPL_SIPMSG_P_VIA) != 0 ||
	    m.nvias == 0)
		return;
	const struct spl_sip_via *v = &m.vias[0];
	struct spl_str ps = v->params;
	bool alias = false;
	for (uint32_t i = 0; ps.p && i + 5 <= ps.len; i++)
		if (strncasecmp(ps.p + i, "alias", 5) == 0 && (i == 0 || ps.p[i - 1] == ';' || ps.p[i - 1] == ' ') &&
		    (i + 5 == ps.len || ps.p[i + 5] == ';' || ps.p[i + 5] == ' ' || ps.p[i + 5] == '='))
			alias = true;
	if (!alias || (v->host.kind != SPL_SIP_HOST_IPV4 && v->host.kind != SPL_SIP_HOST_IPV6))
		return;
	struct spl_txn_peer ap = c->peer;
	ap.family = v->host.kind == SPL_SIP_HOST_IPV4 ? AF_INET : AF_INET6;
	memset(ap.addr, 0, 16);
	memcpy(ap.addr, v->host.ip, ap.family == AF_INET ? 4 : 16);
	ap.port = v->port ? v->port : (c->transport == SPL_SIP_TRANSPORT_TLS ? 5061 : 5060);
	struct flow_key k;
	key_of_peer(&k, &ap);
	if (memcmp(&k, &c->key[0], sizeof(k)) != 0 && !key_find(&k))
		key_add(c, 1, &k);
}

static void deliver(struct conn *c, const char *msg, uint32_t len)
{
	struct spl_app *app = S.app;
	struct rte_mempool *mp = len <= S.small_room ? S.pool : S.pool_large;
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (!m || rte_pktmbuf_tailroom(m) < len) {
		if (m)
			rte_pktmbuf_free(m);
		S.st.ring_drops++;
		return;
	}
	char *d = rte_pktmbuf_append(m, (uint16_t)len);
	memcpy(d, msg, len);
	struct spl_handoff *h = rte_mbuf_to_priv(m);
	memset(h, 0, sizeof(*h));
	h->m = m;
	h->off = 0;
	h->len = len;
	h->family = c->peer.family;
	memcpy(h->src, c->peer.addr, 16);
	h->src_port = c->peer.port;
	h->dst_port = c->local_port;
	h->transport = c->transport;
	h->conn_id = c->id;
	int owner = spl_shard_owner(app, d, len);
	if (owner < 0)
		owner = 0;
	if (rte_ring_sp_enqueue(app->shards[owner]->stream_in, m) != 0) {
		rte_pktmbuf_free(m);
		S.st.ring_drops++;
		return;
	}
	learn_alias(c, d, len);
	c->rx_msgs++;
	S.st.msgs_in++;
}

static bool queue_bytes(struct conn *c, struct rte_mbuf *m, const char *data, uint32_t len, uint32_t shard);

/* Frame what was read; false when the connection was closed. */
static bool consume(struct conn *c, const char *buf, size_t n, uint64_t now)
{
	c->rx_bytes += n;
	S.st.bytes_in += n;
	c->last_io = now;
	spl_stream_feed(c->st, buf, (uint32_t)n, now);
	struct spl_stream_event ev;
	for (;;) {
		enum spl_stream_ev k = spl_stream_next(c->st, &ev);
		if (k == SPL_STREAM_EV_NONE)
			return true;
		if (k == SPL_STREAM_EV_MSG) {
			deliver(c, ev.msg, ev.len);
		} else if (k == SPL_STREAM_EV_PING) {
			/* RFC 5626 §3.5.1: a double CRLF ping gets one CRLF pong. */
			S.st.pings++;
			if (queue_bytes(c, NULL, "\r\n", 2, 0))
				S.st.pongs++;
			if (!c->id)
				return false;
		} else {
			conn_close(c, CONN_CLOSE_ERROR, ev.reason);
			return false;
		}
	}
}

/* ---- writing ---- */

static void flush(struct conn *c, uint64_t now);

static bool queue_bytes(struct conn *c, struct rte_mbuf *m, const char *data, uint32_t len, uint32_t shard)
{
	uint64_t limit = (uint64_t)S.app->cfg->write_queue_kb * 1024;
	if (c->wq_n == WQ_MAX || c->wq_bytes + len > limit) {
		if (m) {
			report_failed(shard, data, len);
			rte_pktmbuf_free(m);
		}
		S.st.send_drops++;
		conn_close(c, CONN_CLOSE_BACKPRESSURE, 0);
		return false;
	}
	c->wq[(c->wq_head + c->wq_n) % WQ_MAX] = (struct wq_ent){ m, data, len, shard };
	c->wq_n++;
	c->wq_bytes += len;
	if (c->state == C_OPEN)
		flush(c, now_ns());
	return c->id != 0;
}

static void flush(struct conn *c, uint64_t now)
{
	while (c->wq_n) {
		struct wq_ent *e = &c->wq[c->wq_head];
		const char *p = e->data + c->wq_off;
		size_t left = e->len - c->wq_off, n = 0;
		if (c->ssl) {
			enum spl_tls_io r = spl_tls_write(c->ssl, p, left, &n);
			if (r == SPL_TLS_WANT_READ || r == SPL_TLS_WANT_WRITE) {
				set_events(c, true);
				return;
			}
			if (r != SPL_TLS_DONE) {
				if (log_allowed(now))
					spl_log(SPL_LOG_INFO, "conn %u: %s", c->id, spl_tls_error());
				conn_close(c, r == SPL_TLS_EOF ? CONN_CLOSE_PEER : CONN_CLOSE_TLS, 0);
				return;
			}
		} else {
			ssize_t w = send(c->fd, p, left, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				set_events(c, true);
				return;
			}
			if (w < 0) {
				conn_close(c, errno == EPIPE || errno == ECONNRESET ? CONN_CLOSE_PEER : CONN_CLOSE_ERROR, 0);
				return;
			}
			n = (size_t)w;
		}
		c->tx_bytes += n;
		S.st.bytes_out += n;
		c->last_io = now;
		c->wq_off += (uint32_t)n;
		if (c->wq_off == e->len) {
			if (e->m)
				rte_pktmbuf_free(e->m);
			c->wq_bytes -= e->len;
			c->wq_head = (c->wq_head + 1) % WQ_MAX;
			c->wq_n--;
			c->wq_off = 0;
		}
	}
	set_events(c, c->tls_wants_write);
}

/* ---- connecting out ---- */

static struct conn *open_out(const struct spl_txn_peer *to, uint64_t now)
{
	if (S.live >= S.cap) {
		S.st.refused_limit++;
		return NULL;
	}
	if (to->transport == SPL_SIP_TRANSPORT_TLS && !S.tls)
		return NULL;
	int fam = to->family == AF_INET6 ? AF_INET6 : AF_INET;
	int fd = spl_excns_socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_storage sa = { 0 };
	socklen_t sl;
	if (fam == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, to->addr, 16);
		s6->sin6_port = htons(to->port);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, to->addr, 4);
		s4->sin_port = htons(to->port);
		sl = sizeof(*s4);
	}
	if (connect(fd, (struct sockaddr *)&sa, sl) != 0 && errno != EINPROGRESS) {
		close(fd);
		S.st.connect_failed++;
		struct flow_key k;
		key_of_peer(&k, to);
		remember_flow(&k, now);
		return NULL;
	}
	struct spl_txn_peer p = *to;
	p.reliable = 1;
	p.conn_id = 0;
	struct conn *c = conn_new(fd, to->transport, false, &p, now);
	if (!c) {
		close(fd);
		S.st.refused_limit++;
		return NULL;
	}
	c->state = C_CONNECTING;
	c->deadline = now + (uint64_t)S.app->cfg->connect_timeout_ms * 1000000ull;
	set_events(c, true);
	if (to->transport == SPL_SIP_TRANSPORT_TLS) {
		const char *name = spl_dnsres_name_for(S.app, to);   /* the RFC 3263 name, if any */
		c->ssl = spl_tls_connect(S.tls, fd, name, fam, to->addr);
		if (!c->ssl) {
			S.st.tls_failed++;
			conn_close(c, CONN_CLOSE_TLS, 0);
			return NULL;
		}
	}
	return c;
}

/* §18.2.2: a response whose connection is gone goes to the address it
 * came from (received) and the port of the top Via's sent-by. */
static void response_target(struct spl_stream_tx *tx)
{
	static struct spl_sipmsg m;
	if (tx->len < 8 || memcmp(tx->data, "SIP/2.0 ", 8) != 0)
		return;
	if (spl_sipmsg_scan(&m, tx->data, tx->len) != SPL_SIPMSG_E_NONE ||
	    spl_sipmsg_parse(&m, SPL_SIPMSG_P_VIA) != SPL_SIPMSG_E_NONE || m.nvias == 0)
		return;
	tx->peer.port = m.vias[0].port ? m.vias[0].port
				       : (tx->peer.transport == SPL_SIP_TRANSPORT_TLS ? 5061 : 5060);
	tx->peer.conn_id = 0;
}

/* A shard's message for a stream peer. */
static void send_one(struct spl_stream_tx *tx, uint64_t now)
{
	struct conn *c = by_id(tx->peer.conn_id);
	if (!c && tx->peer.conn_id && recently_dropped_conn(tx->peer.conn_id, now)) {
		/* We closed it on purpose (slow reader, framing error, admin):
		 * what was still on its way to it goes nowhere else. */
		S.st.send_drops++;
		if (tx->m)
			rte_pktmbuf_free(tx->m);
		return;
	}
	if (!c && tx->peer.conn_id) {
		/* The connection it came on closed: try the one it came from
		 * (same address and port), then the Via's sent-by port. */
		struct flow_key k;
		key_of_peer(&k, &tx->peer);
		c = key_find(&k);
		if (!c)
			response_target(tx);
	}
	if (!c) {
		struct flow_key k;
		key_of_peer(&k, &tx->peer);
		c = key_find(&k);
	}
	if (!c && tx->peer.transport != SPL_SIP_TRANSPORT_TCP && tx->peer.transport != SPL_SIP_TRANSPORT_TLS)
		c = NULL;
	else if (!c && !recently_failed_flow(&tx->peer, now))
		c = open_out(&tx->peer, now);
	if (!c) {
		S.st.send_drops++;
		report_failed(tx->shard, tx->data, tx->len);
		if (tx->m)
			rte_pktmbuf_free(tx->m);
		return;
	}
	if (queue_bytes(c, tx->m, tx->data, tx->len, tx->shard)) {
		c->tx_msgs++;
		S.st.msgs_out++;
	}
}

/* ---- reading ---- */

static void on_readable(struct conn *c, uint64_t now);

static void tls_progress(struct conn *c, uint64_t now)
{
	enum spl_tls_io r = spl_tls_handshake(c->ssl);
	if (r == SPL_TLS_DONE) {
		c->state = C_OPEN;
		c->deadline = 0;
		c->tls_wants_write = false;
		S.st.tls_handshakes++;
		c->last_io = now;
		flush(c, now);
		/* Records that came with the handshake's last flight may wait
		 * in OpenSSL's buffer, where epoll cannot see them. */
		if (c->id)
			on_readable(c, now);
		return;
	}
	if (r == SPL_TLS_WANT_READ || r == SPL_TLS_WANT_WRITE) {
		c->tls_wants_write = r == SPL_TLS_WANT_WRITE;
		set_events(c, c->tls_wants_write);
		return;
	}
	char ra[64];
	addr_text(&c->peer, ra, sizeof(ra));
	if (log_allowed(now))
		spl_log(SPL_LOG_NOTICE, "conn %u tls %s: handshake failed: %s", c->id, ra, spl_tls_error());
	S.st.tls_failed++;
	conn_close(c, CONN_CLOSE_TLS, 0);
}

static void on_readable(struct conn *c, uint64_t now)
{
	for (int rounds = 0; rounds < 16 && c->id; rounds++) {
		size_t n = 0;
		if (c->ssl) {
			enum spl_tls_io r = spl_tls_read(c->ssl, S.rbuf, sizeof(S.rbuf), &n);
			if (r == SPL_TLS_WANT_READ || r == SPL_TLS_WANT_WRITE) {
				c->tls_wants_write = r == SPL_TLS_WANT_WRITE;
				set_events(c, c->tls_wants_write || c->wq_n);
				return;
			}
			if (r == SPL_TLS_EOF) {
				enum spl_stream_close why = spl_stream_eof(c->st);
				conn_close(c, CONN_CLOSE_PEER, why);
				return;
			}
			if (r != SPL_TLS_DONE) {
				if (log_allowed(now))
					spl_log(SPL_LOG_INFO, "conn %u: %s", c->id, spl_tls_error());
				conn_close(c, CONN_CLOSE_TLS, 0);
				return;
			}
		} else {
			ssize_t r = recv(c->fd, S.rbuf, sizeof(S.rbuf), MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (r <= 0) {
				enum spl_stream_close why = r == 0 ? spl_stream_eof(c->st) : SPL_STREAM_CLOSE_NONE;
				conn_close(c, r == 0 || errno == ECONNRESET ? CONN_CLOSE_PEER : CONN_CLOSE_ERROR, why);
				return;
			}
			n = (size_t)r;
		}
		if (!consume(c, S.rbuf, n, now))
			return;
	}
}

static void on_connected(struct conn *c, uint64_t now)
{
	int e = 0;
	socklen_t l = sizeof(e);
	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l);
	if (e != 0) {
		char ra[64];
		addr_text(&c->peer, ra, sizeof(ra));
		if (log_allowed(now))
			spl_log(SPL_LOG_NOTICE, "conn %u: connect to %s failed: %s", c->id, ra, strerror(e));
		S.st.connect_failed++;
		conn_close(c, CONN_CLOSE_CONNECT, 0);
		return;
	}
	S.st.connected++;
	c->last_io = now;
	struct sockaddr_storage la;
	socklen_t ll = sizeof(la);
	if (getsockname(c->fd, (struct sockaddr *)&la, &ll) == 0) {
		peer_from_sa(&c->local, &la, c->transport);
		c->local_port = c->local.port;
	}
	if (c->ssl) {
		c->state = C_HANDSHAKE;
		c->deadline = now + (uint64_t)S.app->cfg->tls_handshake_timeout_ms * 1000000ull;
		tls_progress(c, now);
	} else {
		c->state = C_OPEN;
		c->deadline = 0;
		flush(c, now);
	}
}

static unsigned count_from(const struct spl_txn_peer *p)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < S.cap; i++)
		if (S.c[i].id && S.c[i].inbound && S.c[i].peer.family == p->family &&
		    memcmp(S.c[i].peer.addr, p->addr, 16) == 0)
			n++;
	return n;
}

static void accept_all(int lfd, uint8_t transport, uint64_t now)
{
	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct spl_txn_peer p;
		peer_from_sa(&p, &sa, transport);
		if (S.live >= S.cap) {
			S.st.refused_limit++;
			close(fd);
			continue;
		}
		if (count_from(&p) >= S.app->cfg->max_per_ip) {
			S.st.refused_per_ip++;
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = conn_new(fd, transport, true, &p, now);
		if (!c) {
			S.st.refused_limit++;
			close(fd);
			continue;
		}
		S.st.accepted++;
		if (transport == SPL_SIP_TRANSPORT_TLS) {
			c->ssl = spl_tls_accept(S.tls, fd);
			if (!c->ssl) {
				S.st.tls_failed++;
				conn_close(c, CONN_CLOSE_TLS, 0);
				continue;
			}
			c->state = C_HANDSHAKE;
			c->deadline = now + (uint64_t)S.app->cfg->tls_handshake_timeout_ms * 1000000ull;
		} else {
			c->state = C_OPEN;
		}
	}
}

/* Idle, connect/handshake and stalled-message timeouts, ten times a second. */
static void sweep(uint64_t now)
{
	if (now - S.last_sweep < 100000000ull)
		return;
	S.last_sweep = now;
	uint64_t idle = (uint64_t)S.app->cfg->idle_timeout_s * 1000000000ull;
	for (uint32_t i = 0; i < S.cap; i++) {
		struct conn *c = &S.c[i];
		if (!c->id)
			continue;
		if (c->deadline && now > c->deadline) {
			if (c->state == C_HANDSHAKE)
				S.st.tls_failed++;
			conn_close(c, c->state == C_HANDSHAKE ? CONN_CLOSE_TLS : CONN_CLOSE_CONNECT, 0);
		} else if (now > c->last_io && now - c->last_io > idle) {   /* last_io may be a later clock read */
			conn_close(c, CONN_CLOSE_IDLE, 0);
		} else if (spl_stream_check(c->st, now) != SPL_STREAM_CLOSE_NONE) {
			conn_close(c, CONN_CLOSE_ERROR, SPL_STREAM_CLOSE_STALL);
		}
	}
}

void spl_conn_turn(struct spl_app *app)
{
	if (S.epfd < 0)
		return;
	uint64_t now = now_ns();
	/* Shards' messages first: responses for connections that are open. */
	for (unsigned i = 0; i < app->nshards; i++) {
		struct spl_stream_tx tx[32];
		unsigned n = rte_ring_sc_dequeue_burst_elem(app->shards[i]->stream_out, tx, sizeof(tx[0]), 32, NULL);
		for (unsigned k = 0; k < n; k++)
			send_one(&tx[k], now);
	}
	struct epoll_event evs[128];
	int n = epoll_wait(S.epfd, evs, 128, 0);
	for (int i = 0; i < n; i++) {
		uint32_t u = evs[i].data.u32;
		if (u == LISTEN_TCP || u == LISTEN_TLS) {
			accept_all(u == LISTEN_TCP ? S.lfd_tcp : S.lfd_tls,
				   u == LISTEN_TCP ? SPL_SIP_TRANSPORT_TCP : SPL_SIP_TRANSPORT_TLS, now);
			continue;
		}
		struct conn *c = &S.c[u];
		if (!c->id)
			continue;
		if (c->state == C_CONNECTING) {
			if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				on_connected(c, now);
			continue;
		}
		if (c->state == C_HANDSHAKE) {
			tls_progress(c, now);
			continue;
		}
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			on_readable(c, now);
		if (c->id && (evs[i].events & EPOLLOUT)) {
			c->tls_wants_write = false;
			flush(c, now);
		}
	}
	sweep(now);
}

/* ---- start / stop ---- */

static int listen_on(uint16_t port, uint32_t tag, char *err, unsigned errlen)
{
	int fd = spl_excns_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "tcp/tls listener: socket: %s", strerror(errno));
		return -1;
	}
	int zero = 0, one = 1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));   /* IPv4 too, as mapped */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "%s listener on port %u: %s", tag == LISTEN_TLS ? "tls" : "tcp", port, strerror(errno));
		close(fd);
		return -1;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
	epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev);
	return fd;
}

int spl_conn_start(struct spl_app *app, char *err, unsigned errlen)
{
	const struct spl_config *c = app->cfg;
	S.app = app;
	if (!c->tcp && !c->tls)
		return 0;
	if (app->exc_port < 0 || spl_excns_fd() < 0) {
		spl_log(SPL_LOG_WARNING, "no isolated exception path: SIP over TCP/TLS is off");
		return 0;
	}
	if (c->tls) {
		S.tls = spl_tls_create(c, err, errlen);
		if (!S.tls)
			return -1;
	}
	S.cap = c->max_connections;
	S.c = calloc(S.cap, sizeof(*S.c));
	S.nbuckets = 64;
	while (S.nbuckets < S.cap * 4)
		S.nbuckets <<= 1;
	S.buckets = calloc(S.nbuckets, sizeof(*S.buckets));
	S.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!S.c || !S.buckets || S.epfd < 0) {
		snprintf(err, errlen, "tcp/tls: out of memory");
		return -1;
	}
	S.sconf = (struct spl_stream_conf){ c->max_message, (uint64_t)c->stall_timeout_s * 1000000000ull, &S.st.framing };
	/* Messages to the shards: most fit a standard mbuf, the rest a
	 * max_message one (few: large messages are rare). */
	S.pool = rte_pktmbuf_pool_create("spl_strm", 4095, 64, RTE_ALIGN(sizeof(struct spl_handoff), RTE_MBUF_PRIV_ALIGN), RTE_MBUF_DEFAULT_BUF_SIZE,
					 (int)rte_socket_id());
	S.pool_large = rte_pktmbuf_pool_create("spl_strm_l", 127, 8, RTE_ALIGN(sizeof(struct spl_handoff), RTE_MBUF_PRIV_ALIGN),
					       (uint16_t)(RTE_PKTMBUF_HEADROOM + c->max_message), (int)rte_socket_id());
	if (!S.pool || !S.pool_large) {
		snprintf(err, errlen, "tcp/tls: no mbuf pool: %s", rte_strerror(rte_errno));
		return -1;
	}
	S.small_room = RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM;
	for (unsigned i = 0; i < app->nshards; i++) {
		char name[32];
		snprintf(name, sizeof(name), "spl_sin%u", i);
		app->shards[i]->stream_in = rte_ring_create(name, 1024, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "spl_sout%u", i);
		app->shards[i]->stream_out = rte_ring_create_elem(name, sizeof(struct spl_stream_tx), 1024,
								  (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!app->shards[i]->stream_in || !app->shards[i]->stream_out) {
			snprintf(err, errlen, "tcp/tls: no ring: %s", rte_strerror(rte_errno));
			return -1;
		}
	}
	if (c->tcp && (S.lfd_tcp = listen_on((uint16_t)c->tcp_port, LISTEN_TCP, err, errlen)) < 0)
		return -1;
	if (c->tls && (S.lfd_tls = listen_on((uint16_t)c->tls_port, LISTEN_TLS, err, errlen)) < 0)
		return -1;
	spl_log(SPL_LOG_NOTICE, "streams: %s%s%s (kernel in the exception namespace, fd %d)",
		c->tcp ? "tcp " : "", c->tcp ? "" : "", c->tls ? "tls" : "", spl_excns_fd());
	return 0;
}

void spl_conn_stop(struct spl_app *app)
{
	(void)app;
	for (uint32_t i = 0; S.c && i < S.cap; i++)
		if (S.c[i].id)
			conn_close(&S.c[i], CONN_CLOSE_SHUTDOWN, 0);
	if (S.lfd_tcp >= 0)
		close(S.lfd_tcp);
	if (S.lfd_tls >= 0)
		close(S.lfd_tls);
	if (S.epfd >= 0)
		close(S.epfd);
	S.lfd_tcp = S.lfd_tls = S.epfd = -1;
	free(S.c);
	free(S.buckets);
	S.c = NULL;
	S.buckets = NULL;
	spl_tls_free(S.tls);
	S.tls = NULL;
}

/* ---- control socket ---- */

json_t *spl_conn_stats_json(void)
{
	json_t *o = json_object();
#define N(k) json_object_set_new(o, #k, json_integer((json_int_t)S.st.k))
	N(accepted); N(connected); N(connect_failed); N(refused_limit); N(refused_per_ip);
	N(msgs_in); N(msgs_out); N(bytes_in); N(bytes_out); N(pings); N(pongs);
	N(tls_handshakes); N(tls_failed); N(send_drops); N(ring_drops); N(send_failed);
#undef N
	for (unsigned i = 0; i < CONN_CLOSE__COUNT; i++)
		json_object_set_new(o, close_keys[i], json_integer((json_int_t)S.st.closes[i]));
	for (unsigned i = 1; i < SPL_STREAM_CLOSE__COUNT; i++)
		if (stream_close_keys[i])
			json_object_set_new(o, stream_close_keys[i], json_integer((json_int_t)S.st.framing.closes[i]));
	json_object_set_new(o, "live", json_integer(S.live));
	return o;
}

static int cmd_count(struct spl_ctl_req *r, json_t **out)
{
	(void)r;
	*out = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "total", (json_int_t)S.live, "tcp",
			 (json_int_t)(S.live - S.live_tls), "tls", (json_int_t)S.live_tls, "inbound",
			 (json_int_t)S.live_in, "outbound", (json_int_t)(S.live - S.live_in), "max",
			 (json_int_t)S.cap);
	return 0;
}

#define PAGE 50

static int cmd_list(struct spl_ctl_req *r, json_t **out)
{
	unsigned page = spl_ctl_page(r);
	if (page == 0)
		return spl_ctl_error(out, "usage: conn list [--page N]");
	uint64_t now = now_ns();
	json_t *arr = json_array();
	unsigned seen = 0, skip = (page - 1) * PAGE;
	for (uint32_t i = 0; S.c && i < S.cap; i++) {
		struct conn *c = &S.c[i];
		if (!c->id)
			continue;
		if (seen++ < skip || json_array_size(arr) >= PAGE)
			continue;
		char ra[64], la[64], tls[96];
		addr_text(&c->peer, ra, sizeof(ra));
		addr_text(&c->local, la, sizeof(la));
		json_t *e = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "id", (json_int_t)c->id,
				      "transport", c->transport == SPL_SIP_TRANSPORT_TLS ? "tls" : "tcp", "direction",
				      c->inbound ? "in" : "out", "state", state_names[c->state], "local", la, "remote", ra,
				      "age_s", (json_int_t)((now - c->created) / 1000000000ull), "idle_s",
				      (json_int_t)(now > c->last_io ? (now - c->last_io) / 1000000000ull : 0), "rx_bytes", (json_int_t)c->rx_bytes,
				      "tx_bytes", (json_int_t)c->tx_bytes, "rx_msgs", (json_int_t)c->rx_msgs, "tx_msgs",
				      (json_int_t)c->tx_msgs, "queued_bytes", (json_int_t)c->wq_bytes);
		if (c->ssl)
			json_object_set_new(e, "tls", json_string(spl_tls_describe(c->ssl, tls, sizeof(tls))));
		json_array_append_new(arr, e);
	}
	*out = json_pack("{s:o,s:i,s:i,s:i}", "connections", arr, "page", (json_int_t)page, "pages",
			 (json_int_t)((S.live + PAGE - 1) / PAGE), "total", (json_int_t)S.live);
	return 0;
}

static int cmd_close(struct spl_ctl_req *r, json_t **out)
{
	char *end = NULL;
	unsigned long id = r->argc == 2 ? strtoul(r->argv[1], &end, 10) : 0;
	if (r->argc != 2 || !end || *end || id == 0 || id > UINT32_MAX)
		return spl_ctl_error(out, "usage: conn close ID (an id from conn list)");
	struct conn *c = S.c ? by_id((uint32_t)id) : NULL;
	if (!c)
		return spl_ctl_error(out, "no connection %lu", id);
	conn_close(c, CONN_CLOSE_ADMIN, 0);
	*out = json_pack("{s:i}", "closed", (json_int_t)id);
	return 0;
}

static const struct spl_ctl_cmd conn_cmds[] = {
	{ "conn count", "", "live TCP/TLS connections, by transport and direction", cmd_count },
	{ "conn list", "[--page N]", "TCP/TLS connections: id, peer, state, bytes, messages", cmd_list },
	{ "conn close", "ID", "close one TCP/TLS connection", cmd_close },
};

void spl_conn_register_commands(struct spl_app *app)
{
	spl_ctl_register(app->ctl, conn_cmds, sizeof(conn_cmds) / sizeof(conn_cmds[0]));
}
