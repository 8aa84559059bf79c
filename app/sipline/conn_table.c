/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection table (conn_priv.h): slots found by id (slot and a
 * generation, so a stale id never reaches a new connection) or by flow key
 * (transport, remote address, port) through a chained hash holding two keys
 * per slot: the remote of the socket, and the Via sent-by of a request that
 * carried `alias` (RFC 5923). Also what failed or was closed on purpose
 * lately, and opening and closing a slot with its counters and log lines.
 */
#include "conn_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
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

const char *const close_keys[] = {
#define X(id, key, text) "closed_" key,
	CONN_CLOSES(X)
#undef X
};

const char *const close_text[] = {
#define X(id, key, text) text,
	CONN_CLOSES(X)
#undef X
};

const char *const stream_close_keys[SPL_STREAM_CLOSE__COUNT] = {
	[SPL_STREAM_CLOSE_OVERSIZE] = "closed_oversize", [SPL_STREAM_CLOSE_NO_CL] = "closed_no_cl",
	[SPL_STREAM_CLOSE_BAD_CL] = "closed_bad_cl", [SPL_STREAM_CLOSE_START_LINE] = "closed_start_line",
	[SPL_STREAM_CLOSE_TOO_MANY_HDRS] = "closed_too_many_hdrs", [SPL_STREAM_CLOSE_STALL] = "closed_stall",
	[SPL_STREAM_CLOSE_EOF_PARTIAL] = "closed_eof_partial",
};

const char *const state_names[] = { "free", "connecting", "handshake", "open" };

uint64_t conn_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Peer-caused failures (handshake garbage, refused connects) are logged
 * at most 10 a second: a flood must not become a log flood. The rest are
 * counted and summed up in the next line that gets through. */
bool conn_log_allowed(uint64_t now)
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
	return (uint32_t)(h ^ (h >> 32)) & (CS.nbuckets - 1);
}

void conn_key_of_peer(struct flow_key *k, const struct spl_txn_peer *p)
{
	memset(k, 0, sizeof(*k));
	k->transport = p->transport;
	k->family = p->family;
	k->port = p->port;
	memcpy(k->addr, p->addr, p->family == AF_INET6 ? 16 : 4);
}

/* Hash nodes: each slot has two (its remote, its alias); a bucket and a
 * node's next hold node numbers, slot * 2 + which + 1 (0 ends a chain). */
static uint32_t node_of(const struct conn *c, unsigned which) { return (uint32_t)(c - CS.c) * 2 + which + 1; }

void conn_key_add(struct conn *c, unsigned which, const struct flow_key *k)
{
	if (c->keyed[which])
		return;
	c->key[which] = *k;
	c->keyed[which] = true;
	uint32_t b = key_hash(k);
	c->hnext[which] = CS.buckets[b];
	CS.buckets[b] = node_of(c, which);
}

static void key_del(struct conn *c, unsigned which)
{
	if (!c->keyed[which])
		return;
	uint32_t me = node_of(c, which);
	for (uint32_t *pp = &CS.buckets[key_hash(&c->key[which])]; *pp;) {
		if (*pp == me) {
			*pp = c->hnext[which];
			break;
		}
		pp = &CS.c[(*pp - 1) / 2].hnext[(*pp - 1) % 2];
	}
	c->keyed[which] = false;
}

struct conn *conn_key_find(const struct flow_key *k)
{
	for (uint32_t i = CS.buckets[key_hash(k)]; i;) {
		struct conn *c = &CS.c[(i - 1) / 2];
		unsigned w = (i - 1) % 2;
		/* Only open connections carry traffic for others; one still
		 * connecting queues it (it is the one we opened for them). */
		if (c->id && c->keyed[w] && memcmp(&c->key[w], k, sizeof(*k)) == 0)
			return c;
		i = c->hnext[w];
	}
	return NULL;
}

struct conn *conn_by_id(uint32_t id)
{
	uint32_t slot = (id & 0xfffff) - 1;
	if (id == 0 || slot >= CS.cap || CS.c[slot].id != id)
		return NULL;
	return &CS.c[slot];
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

void conn_remember_conn(uint32_t id, uint64_t now)
{
	struct recent *r = &recent_ids[(id * 2654435761u) % RECENT_SLOTS];
	r->conn_id = id;
	r->until = now + RECENT_NS;
}

bool conn_recently_dropped(uint32_t id, uint64_t now)
{
	const struct recent *r = &recent_ids[(id * 2654435761u) % RECENT_SLOTS];
	return r->conn_id == id && now < r->until;
}

void conn_remember_flow(const struct flow_key *k, uint64_t now)
{
	struct recent *r = &recent_flows[key_hash(k) % RECENT_SLOTS];
	r->key = *k;
	r->until = now + RECENT_NS;
}

bool conn_recently_failed_flow(const struct spl_txn_peer *p, uint64_t now)
{
	struct flow_key k;
	conn_key_of_peer(&k, p);
	const struct recent *r = &recent_flows[key_hash(&k) % RECENT_SLOTS];
	return now < r->until && memcmp(&r->key, &k, sizeof(k)) == 0;
}

/* ---- slots ---- */

static struct conn *slot_alloc(void)
{
	for (uint32_t i = 0; i < CS.cap; i++) {
		/* Round robin from the generation so ids spread over slots. */
		uint32_t s = (CS.gen + i) % CS.cap;
		if (CS.c[s].id == 0) {
			CS.gen++;
			struct conn *c = &CS.c[s];
			memset(c, 0, sizeof(*c));
			c->id = ((CS.gen & 0xfff) << 20) | (s + 1);
			c->fd = -1;
			return c;
		}
	}
	return NULL;
}

void conn_set_events(struct conn *c, bool out)
{
	if (c->want_out == out)
		return;
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.u32 = (uint32_t)(c - CS.c) };
	if (epoll_ctl(CS.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = out;
}


/* Queued requests that will never leave are reported to their shards:
 * the client transaction fails over now instead of timing out (§17.1.4,
 * RFC 3263 §4.3). A partly written one was delivered as far as we know. */
static void wq_clear(struct conn *c)
{
	while (c->wq_n) {
		struct wq_ent *e = &c->wq[c->wq_head];
		if (e->m && c->wq_off == 0)
			conn_report_failed(e->shard, e->data, e->len);
		c->wq_off = 0;
		if (c->wq[c->wq_head].m)
			rte_pktmbuf_free(c->wq[c->wq_head].m);
		c->wq_head = (c->wq_head + 1) % WQ_MAX;
		c->wq_n--;
	}
	c->wq_bytes = 0;
	c->wq_off = 0;
}

void conn_addr_text(const struct spl_txn_peer *p, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(p->family == AF_INET6 ? AF_INET6 : AF_INET, p->addr, ip, sizeof(ip));
	snprintf(buf, len, p->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, p->port);
}

void conn_close(struct conn *c, enum conn_close why, int stream_why)
{
	char r[64];
	conn_addr_text(&c->peer, r, sizeof(r));
	const char *tp = c->transport == SPL_SIP_TRANSPORT_TLS ? "tls" : "tcp";
	bool normal = stream_why <= 0 && (why == CONN_CLOSE_PEER || why == CONN_CLOSE_SHUTDOWN);
	if (normal)
		spl_log(SPL_LOG_DEBUG, "conn %u %s %s closed: %s", c->id, tp, r, close_text[why]);
	else if (conn_log_allowed(conn_now_ns()))
		spl_log(SPL_LOG_INFO, "conn %u %s %s closed: %s", c->id, tp, r,
			stream_why > 0 ? spl_stream_close_reason((enum spl_stream_close)stream_why) : close_text[why]);
	if (stream_why <= 0)
		CS.st.closes[why]++;
	uint64_t t = conn_now_ns();
	if (stream_why > 0 || why == CONN_CLOSE_BACKPRESSURE || why == CONN_CLOSE_ADMIN || why == CONN_CLOSE_TLS)
		conn_remember_conn(c->id, t);
	if (!c->inbound && (why == CONN_CLOSE_CONNECT || (why == CONN_CLOSE_TLS && c->state != C_OPEN)))
		conn_remember_flow(&c->key[0], t);
	key_del(c, 1);
	key_del(c, 0);
	spl_tls_close(c->ssl);
	if (c->fd >= 0) {
		epoll_ctl(CS.epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	spl_stream_free(c->st);
	wq_clear(c);
	CS.live--;
	if (c->inbound)
		CS.live_in--;
	if (c->transport == SPL_SIP_TRANSPORT_TLS)
		CS.live_tls--;
	c->id = 0;
	c->state = C_FREE;
}

void conn_peer_from_sa(struct spl_txn_peer *p, const struct sockaddr_storage *sa, uint8_t transport)
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

struct conn *conn_new(int fd, uint8_t transport, bool inbound, const struct spl_txn_peer *peer, uint64_t now)
{
	struct conn *c = slot_alloc();
	if (!c)
		return NULL;
	c->st = spl_stream_create(&CS.sconf);
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
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(c - CS.c) };
	if (epoll_ctl(CS.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		spl_stream_free(c->st);
		c->id = 0;
		return NULL;
	}
	struct sockaddr_storage la;
	socklen_t ll = sizeof(la);
	if (getsockname(fd, (struct sockaddr *)&la, &ll) == 0) {
		conn_peer_from_sa(&c->local, &la, transport);
		c->local_port = c->local.port;
	}
	struct flow_key k;
	conn_key_of_peer(&k, peer);
	conn_key_add(c, 0, &k);
	CS.live++;
	if (inbound)
		CS.live_in++;
	if (transport == SPL_SIP_TRANSPORT_TLS)
		CS.live_tls++;
	return c;
}
