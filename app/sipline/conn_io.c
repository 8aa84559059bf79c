/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bytes on the control thread's TCP/TLS connections (conn_priv.h): read,
 * framed by lib/stream (RFC 3261 §18.3), copied into an mbuf and handed to
 * the owning shard; the shards' messages written to the right connection
 * (§18.2.2), opened when needed; accepts, TLS handshakes and the timeouts.
 * Sockets are non-blocking and polled with epoll each turn with a zero
 * timeout: the control loop already wakes every millisecond for the
 * exception path.
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

/* ---- to the shards ---- */

void conn_report_failed(uint32_t shard, const char *data, uint32_t len)
{
	/* Responses have no client transaction to tell. */
	if (len < 8 || memcmp(data, "SIP/2.0 ", 8) == 0 || shard >= CS.app->nshards || len > CS.small_room)
		return;
	struct rte_mbuf *m = rte_pktmbuf_alloc(CS.pool);
	if (!m)
		return;
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), data, len);
	struct spl_handoff *h = rte_mbuf_to_priv(m);
	memset(h, 0, sizeof(*h));
	h->m = m;
	h->len = len;
	h->send_failed = 1;
	if (rte_ring_sp_enqueue(CS.app->shards[shard]->stream_in, m) != 0) {
		rte_pktmbuf_free(m);
		CS.st.ring_drops++;
		return;
	}
	CS.st.send_failed++;
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
	if (!spl_sip_param_find(v->params, ';', "alias", NULL) ||
	    (v->host.kind != SPL_SIP_HOST_IPV4 && v->host.kind != SPL_SIP_HOST_IPV6))
		return;
	struct spl_txn_peer ap = c->peer;
	ap.family = v->host.kind == SPL_SIP_HOST_IPV4 ? AF_INET : AF_INET6;
	memset(ap.addr, 0, 16);
	memcpy(ap.addr, v->host.ip, ap.family == AF_INET ? 4 : 16);
	ap.port = v->port ? v->port : (c->transport == SPL_SIP_TRANSPORT_TLS ? 5061 : 5060);
	struct flow_key k;
	conn_key_of_peer(&k, &ap);
	if (memcmp(&k, &c->key[0], sizeof(k)) != 0 && !conn_key_find(&k))
		conn_key_add(c, 1, &k);
}

static void deliver(struct conn *c, const char *msg, uint32_t len)
{
	struct spl_app *app = CS.app;
	struct rte_mempool *mp = len <= CS.small_room ? CS.pool : CS.pool_large;
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (!m || rte_pktmbuf_tailroom(m) < len) {
		if (m)
			rte_pktmbuf_free(m);
		CS.st.ring_drops++;
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
		CS.st.ring_drops++;
		return;
	}
	learn_alias(c, d, len);
	c->rx_msgs++;
	CS.st.msgs_in++;
}

static bool queue_bytes(struct conn *c, struct rte_mbuf *m, const char *data, uint32_t len, uint32_t shard);

/* Frame what was read; false when the connection was closed. */
static bool consume(struct conn *c, const char *buf, size_t n, uint64_t now)
{
	c->rx_bytes += n;
	CS.st.bytes_in += n;
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
			CS.st.pings++;
			if (queue_bytes(c, NULL, "\r\n", 2, 0))
				CS.st.pongs++;
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
	uint64_t limit = (uint64_t)CS.app->cfg->write_queue_kb * 1024;
	if (c->wq_n == WQ_MAX || c->wq_bytes + len > limit) {
		if (m) {
			conn_report_failed(shard, data, len);
			rte_pktmbuf_free(m);
		}
		CS.st.send_drops++;
		conn_close(c, CONN_CLOSE_BACKPRESSURE, 0);
		return false;
	}
	c->wq[(c->wq_head + c->wq_n) % WQ_MAX] = (struct wq_ent){ m, data, len, shard };
	c->wq_n++;
	c->wq_bytes += len;
	if (c->state == C_OPEN)
		flush(c, conn_now_ns());
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
				conn_set_events(c, true);
				return;
			}
			if (r != SPL_TLS_DONE) {
				if (conn_log_allowed(now))
					spl_log(SPL_LOG_INFO, "conn %u: %s", c->id, spl_tls_error());
				conn_close(c, r == SPL_TLS_EOF ? CONN_CLOSE_PEER : CONN_CLOSE_TLS, 0);
				return;
			}
		} else {
			ssize_t w = send(c->fd, p, left, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				conn_set_events(c, true);
				return;
			}
			if (w < 0) {
				conn_close(c, errno == EPIPE || errno == ECONNRESET ? CONN_CLOSE_PEER : CONN_CLOSE_ERROR, 0);
				return;
			}
			n = (size_t)w;
		}
		c->tx_bytes += n;
		CS.st.bytes_out += n;
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
	conn_set_events(c, c->tls_wants_write);
}

/* ---- connecting out ---- */

static struct conn *open_out(const struct spl_txn_peer *to, uint64_t now)
{
	if (CS.live >= CS.cap) {
		CS.st.refused_limit++;
		return NULL;
	}
	if (to->transport == SPL_SIP_TRANSPORT_TLS && !CS.tls)
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
		CS.st.connect_failed++;
		struct flow_key k;
		conn_key_of_peer(&k, to);
		conn_remember_flow(&k, now);
		return NULL;
	}
	struct spl_txn_peer p = *to;
	p.reliable = 1;
	p.conn_id = 0;
	struct conn *c = conn_new(fd, to->transport, false, &p, now);
	if (!c) {
		close(fd);
		CS.st.refused_limit++;
		return NULL;
	}
	c->state = C_CONNECTING;
	c->deadline = now + (uint64_t)CS.app->cfg->connect_timeout_ms * 1000000ull;
	conn_set_events(c, true);
	if (to->transport == SPL_SIP_TRANSPORT_TLS) {
		const char *name = spl_dnsres_name_for(CS.app, to);   /* the RFC 3263 name, if any */
		c->ssl = spl_tls_connect(CS.tls, fd, name, fam, to->addr);
		if (!c->ssl) {
			CS.st.tls_failed++;
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
	struct conn *c = conn_by_id(tx->peer.conn_id);
	if (!c && tx->peer.conn_id && conn_recently_dropped(tx->peer.conn_id, now)) {
		/* We closed it on purpose (slow reader, framing error, admin):
		 * what was still on its way to it goes nowhere else. */
		CS.st.send_drops++;
		if (tx->m)
			rte_pktmbuf_free(tx->m);
		return;
	}
	if (!c && tx->peer.conn_id) {
		/* The connection it came on closed: try the one it came from
		 * (same address and port), then the Via's sent-by port. */
		struct flow_key k;
		conn_key_of_peer(&k, &tx->peer);
		c = conn_key_find(&k);
		if (!c)
			response_target(tx);
	}
	if (!c) {
		struct flow_key k;
		conn_key_of_peer(&k, &tx->peer);
		c = conn_key_find(&k);
	}
	if (!c && tx->peer.transport != SPL_SIP_TRANSPORT_TCP && tx->peer.transport != SPL_SIP_TRANSPORT_TLS)
		c = NULL;
	else if (!c && !conn_recently_failed_flow(&tx->peer, now))
		c = open_out(&tx->peer, now);
	if (!c) {
		CS.st.send_drops++;
		conn_report_failed(tx->shard, tx->data, tx->len);
		if (tx->m)
			rte_pktmbuf_free(tx->m);
		return;
	}
	if (queue_bytes(c, tx->m, tx->data, tx->len, tx->shard)) {
		c->tx_msgs++;
		CS.st.msgs_out++;
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
		CS.st.tls_handshakes++;
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
		conn_set_events(c, c->tls_wants_write);
		return;
	}
	char ra[64];
	conn_addr_text(&c->peer, ra, sizeof(ra));
	if (conn_log_allowed(now))
		spl_log(SPL_LOG_NOTICE, "conn %u tls %s: handshake failed: %s", c->id, ra, spl_tls_error());
	CS.st.tls_failed++;
	conn_close(c, CONN_CLOSE_TLS, 0);
}

static void on_readable(struct conn *c, uint64_t now)
{
	for (int rounds = 0; rounds < 16 && c->id; rounds++) {
		size_t n = 0;
		if (c->ssl) {
			enum spl_tls_io r = spl_tls_read(c->ssl, CS.rbuf, sizeof(CS.rbuf), &n);
			if (r == SPL_TLS_WANT_READ || r == SPL_TLS_WANT_WRITE) {
				c->tls_wants_write = r == SPL_TLS_WANT_WRITE;
				conn_set_events(c, c->tls_wants_write || c->wq_n);
				return;
			}
			if (r == SPL_TLS_EOF) {
				enum spl_stream_close why = spl_stream_eof(c->st);
				conn_close(c, CONN_CLOSE_PEER, why);
				return;
			}
			if (r != SPL_TLS_DONE) {
				if (conn_log_allowed(now))
					spl_log(SPL_LOG_INFO, "conn %u: %s", c->id, spl_tls_error());
				conn_close(c, CONN_CLOSE_TLS, 0);
				return;
			}
		} else {
			ssize_t r = recv(c->fd, CS.rbuf, sizeof(CS.rbuf), MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (r <= 0) {
				enum spl_stream_close why = r == 0 ? spl_stream_eof(c->st) : SPL_STREAM_CLOSE_NONE;
				conn_close(c, r == 0 || errno == ECONNRESET ? CONN_CLOSE_PEER : CONN_CLOSE_ERROR, why);
				return;
			}
			n = (size_t)r;
		}
		if (!consume(c, CS.rbuf, n, now))
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
		conn_addr_text(&c->peer, ra, sizeof(ra));
		if (conn_log_allowed(now))
			spl_log(SPL_LOG_NOTICE, "conn %u: connect to %s failed: %s", c->id, ra, strerror(e));
		CS.st.connect_failed++;
		conn_close(c, CONN_CLOSE_CONNECT, 0);
		return;
	}
	CS.st.connected++;
	c->last_io = now;
	struct sockaddr_storage la;
	socklen_t ll = sizeof(la);
	if (getsockname(c->fd, (struct sockaddr *)&la, &ll) == 0) {
		conn_peer_from_sa(&c->local, &la, c->transport);
		c->local_port = c->local.port;
	}
	if (c->ssl) {
		c->state = C_HANDSHAKE;
		c->deadline = now + (uint64_t)CS.app->cfg->tls_handshake_timeout_ms * 1000000ull;
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
	for (uint32_t i = 0; i < CS.cap; i++)
		if (CS.c[i].id && CS.c[i].inbound && CS.c[i].peer.family == p->family &&
		    memcmp(CS.c[i].peer.addr, p->addr, 16) == 0)
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
		conn_peer_from_sa(&p, &sa, transport);
		if (CS.live >= CS.cap) {
			CS.st.refused_limit++;
			close(fd);
			continue;
		}
		if (count_from(&p) >= CS.app->cfg->max_per_ip) {
			CS.st.refused_per_ip++;
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = conn_new(fd, transport, true, &p, now);
		if (!c) {
			CS.st.refused_limit++;
			close(fd);
			continue;
		}
		CS.st.accepted++;
		if (transport == SPL_SIP_TRANSPORT_TLS) {
			c->ssl = spl_tls_accept(CS.tls, fd);
			if (!c->ssl) {
				CS.st.tls_failed++;
				conn_close(c, CONN_CLOSE_TLS, 0);
				continue;
			}
			c->state = C_HANDSHAKE;
			c->deadline = now + (uint64_t)CS.app->cfg->tls_handshake_timeout_ms * 1000000ull;
		} else {
			c->state = C_OPEN;
		}
	}
}

/* Idle, connect/handshake and stalled-message timeouts, ten times a second. */
static void sweep(uint64_t now)
{
	if (now - CS.last_sweep < 100000000ull)
		return;
	CS.last_sweep = now;
	uint64_t idle = (uint64_t)CS.app->cfg->idle_timeout_s * 1000000000ull;
	for (uint32_t i = 0; i < CS.cap; i++) {
		struct conn *c = &CS.c[i];
		if (!c->id)
			continue;
		if (c->deadline && now > c->deadline) {
			if (c->state == C_HANDSHAKE)
				CS.st.tls_failed++;
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
	if (CS.epfd < 0)
		return;
	uint64_t now = conn_now_ns();
	/* Shards' messages first: responses for connections that are open. */
	for (unsigned i = 0; i < app->nshards; i++) {
		struct spl_stream_tx tx[32];
		unsigned n = rte_ring_sc_dequeue_burst_elem(app->shards[i]->stream_out, tx, sizeof(tx[0]), 32, NULL);
		for (unsigned k = 0; k < n; k++)
			send_one(&tx[k], now);
	}
	struct epoll_event evs[128];
	int n = epoll_wait(CS.epfd, evs, 128, 0);
	for (int i = 0; i < n; i++) {
		uint32_t u = evs[i].data.u32;
		if (u == LISTEN_TCP || u == LISTEN_TLS) {
			accept_all(u == LISTEN_TCP ? CS.lfd_tcp : CS.lfd_tls,
				   u == LISTEN_TCP ? SPL_SIP_TRANSPORT_TCP : SPL_SIP_TRANSPORT_TLS, now);
			continue;
		}
		struct conn *c = &CS.c[u];
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
