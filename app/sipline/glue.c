/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the proxy core needs from the appliance, per shard: a transport
 * (bytes in mbufs, sent through lib/net), the location service and the
 * registrar, digest authentication, and timers that are not its own.
 *
 * Buffers: every buffer the transaction layer holds is an mbuf (received
 * datagrams, and messages the proxy builds), so retain/release are mbuf
 * reference counts. Sending copies the bytes into a fresh frame
 * (spl_net_udp_send): the stored copy must stay intact for
 * retransmissions, and a ~1 KB copy costs less than chaining an indirect
 * segment on the ports we target (measured in perf/).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "app.h"
#include "conn.h"
#include "dnsres.h"
#include "shard.h"
#include "spl_net.h"
#include "spl_proxy.h"
#include "spl_registrar.h"

static int tp_alloc(void *ctx, uint32_t len, struct spl_txn_buf *out);

/* TCP/TLS: the control thread writes it (conn.c). It gets a reference to
 * the stored bytes, not a copy: they are immutable while referenced. */
static int stream_send(struct spl_shard *s, const struct spl_txn_peer *dst, const struct spl_txn_buf *buf)
{
	if (!s->stream_out)
		return -EPROTONOSUPPORT;   /* no exception path, or tcp/tls off */
	struct spl_stream_tx tx = { .m = buf->owner, .data = buf->data, .len = buf->len, .shard = s->id,
				    .peer = *dst };
	if (tx.m) {
		rte_mbuf_refcnt_update(tx.m, 1);
	} else {
		/* Bytes without an owner may live on the caller's stack. */
		struct spl_txn_buf copy;
		if (tp_alloc(s, buf->len, &copy) != 0)
			return -ENOBUFS;
		memcpy((char *)(uintptr_t)copy.data, buf->data, buf->len);
		tx.m = copy.owner;
		tx.data = copy.data;
	}
	if (rte_ring_sp_enqueue_elem(s->stream_out, &tx, sizeof(tx)) != 0) {
		rte_pktmbuf_free(tx.m);
		s->stats.drops[SPL_SHARD_DROP_STREAM_RING_FULL]++;
		return -ENOBUFS;
	}
	return 0;
}

static int tp_send(void *ctx, const struct spl_txn_peer *dst, const struct spl_txn_buf *buf)
{
	struct spl_shard *s = ctx;
	if (dst->transport == SPL_SIP_TRANSPORT_TCP || dst->transport == SPL_SIP_TRANSPORT_TLS)
		return stream_send(s, dst, buf);
	if (dst->transport != SPL_SIP_TRANSPORT_UDP && dst->transport != 0)
		return -EPROTONOSUPPORT;  /* SCTP, WS: not served */
	struct spl_net_addr to;
	SPL_NET_ADDR_FROM_PEER(&to, dst);
	int rc = spl_net_udp_send(s->net, NULL, &to, s->app->cfg->sip_ports[0], dst->port, buf->data, buf->len);
	/* Held for ARP/ND counts as sent: it leaves when the neighbor answers. */
	return rc == -EAGAIN ? 0 : rc;
}

static void tp_release(void *ctx, void *owner)
{
	(void)ctx;
	rte_pktmbuf_free(owner);
}

static void tp_retain(void *ctx, void *owner)
{
	(void)ctx;
	rte_mbuf_refcnt_update(owner, 1);
}

static int tp_alloc(void *ctx, uint32_t len, struct spl_txn_buf *out)
{
	struct spl_shard *s = ctx;
	uint32_t room = (uint32_t)rte_pktmbuf_data_room_size(s->pool) - RTE_PKTMBUF_HEADROOM;
	struct rte_mempool *mp = len <= room ? s->pool : s->pool_large;
	struct rte_mbuf *m = mp ? rte_pktmbuf_alloc(mp) : NULL;
	if (!m || len > rte_pktmbuf_tailroom(m)) {
		if (m)
			rte_pktmbuf_free(m);
		s->stats.drops[SPL_SHARD_DROP_NO_MBUF]++;
		return -1;
	}
	char *p = rte_pktmbuf_append(m, (uint16_t)len);
	out->data = p;
	out->len = len;
	out->owner = m;
	return 0;
}

/* Location lookups come from the registrar's lock-free partitions. */
static int hook_locate(void *ctx, const struct spl_sip_uri *aor, struct spl_proxy_binding *out, unsigned max,
		       uint64_t now)
{
	struct spl_shard *s = ctx;
	char canon[SPL_REGISTRAR_AOR_MAX];
	int n = spl_registrar_aor_canon(aor, canon, sizeof(canon));
	if (n < 0)
		return SPL_PROXY_LOCATE_UNKNOWN;
	struct spl_binding b[SPL_PROXY_MAX_BRANCHES];
	if (max > SPL_PROXY_MAX_BRANCHES)
		max = SPL_PROXY_MAX_BRANCHES;
	int found = spl_location_lookup(s->app->location, (struct spl_str){ canon, (uint32_t)n }, b, max, now);
	if (found <= 0) {
		/* Without a user database, "known but not registered" cannot be
		 * told from "unknown": a static route may still match, and the
		 * proxy answers 404 when none does. */
		return SPL_PROXY_LOCATE_UNKNOWN;
	}
	for (int i = 0; i < found; i++) {
		out[i] = (struct spl_proxy_binding){ .contact = b[i].contact, .path = b[i].path, .q = b[i].q,
						     .local = -1 };
		/* NAT: a binding registered from an address other than its
		 * Contact's is reached at the source (RFC 5626 flow-like). */
		if (b[i].received.family) {
			struct spl_txn_peer *f = &out[i].flow;
			memset(f, 0, sizeof(*f));
			f->family = b[i].received.family == 6 ? AF_INET6 : AF_INET;
			memcpy(f->addr, b[i].received.addr, 16);
			f->port = b[i].received.port;
			f->transport = b[i].received.transport ? b[i].received.transport : SPL_SIP_TRANSPORT_UDP;
			struct spl_sip_uri cu;
			if (spl_sip_uri_parse(b[i].contact.p, b[i].contact.len, &cu) == 0) {
				bool same = cu.host.kind == (f->family == AF_INET ? SPL_SIP_HOST_IPV4 : SPL_SIP_HOST_IPV6) &&
					    memcmp(cu.host.ip, f->addr, f->family == AF_INET ? 4 : 16) == 0 &&
					    (cu.port ? cu.port : 5060) == f->port;
				out[i].has_flow = !same;
			}
		}
	}
	return found;
}

static int hook_register(void *ctx, struct spl_sipmsg *msg, const struct spl_txn_peer *src, uint64_t now,
			 struct spl_proxy_reply *out)
{
	struct spl_shard *s = ctx;
	if (!s->registrar)
		return -ENOTSUP;
	struct spl_registrar_src rs = { .family = src->family == AF_INET6 ? 6 : 4, .transport = src->transport,
					.port = src->port };
	memcpy(rs.addr, src->addr, 16);
	struct spl_registrar_result res;
	int rc = spl_registrar_process(s->registrar, msg, &rs, now, out->buf, out->cap, &res);
	if (rc != 0)
		return rc;
	/* durability = sync: the 200 leaves only once its journal record is
	 * on disk. The control thread fsyncs every turn (group commit); the
	 * worker waits for it, bounded, and answers 500 if the disk does not
	 * keep up. This trades this shard's REGISTER rate for durability. */
	struct spl_journal *j = s->app->journals[s->id];
	if (res.journal_seq && j && s->app->cfg->durability == SPL_CFG_DURABLE_SYNC) {
		spl_journal_commit(j);
		uint64_t deadline = rte_rdtsc() + s->tsc_hz / 10;
		while (spl_journal_durable_seq(j) < res.journal_seq) {
			if (rte_rdtsc() > deadline) {
				s->stats.journal_waits_timed_out++;
				return -ETIMEDOUT;
			}
			rte_pause();
		}
	}
	if (res.action == SPL_REGISTRAR_FORWARD)
		return 1;  /* not our domain: the proxy routes it like any request */
	out->len = res.len;
	out->status = res.status;
	return 0;
}

static int hook_authorize(void *ctx, struct spl_sipmsg *msg, uint64_t now, struct spl_proxy_reply *challenge)
{
	struct spl_shard *s = ctx;
	if (!s->auth)
		return SPL_PROXY_AUTH_OK;
	struct spl_auth_result res;
	if (spl_auth_check(s->auth, msg, SPL_AUTH_PROXY, msg->method, now, &res) != 0)
		return SPL_PROXY_AUTH_FORBIDDEN;
	if (res.verdict != SPL_AUTH_CHALLENGE)
		return SPL_PROXY_AUTH_OK;
	struct spl_str lines[4];
	int n = spl_auth_challenge(s->auth, &res, SPL_AUTH_PROXY, now, challenge->buf, challenge->cap, lines, 4);
	if (n <= 0)
		return SPL_PROXY_AUTH_FORBIDDEN;
	/* The lines were written back to back into buf; join with CRLF. */
	uint32_t len = 0;
	char tmp[2048];
	for (int i = 0; i < n; i++) {
		if (len + lines[i].len + 2 > sizeof(tmp))
			return SPL_PROXY_AUTH_FORBIDDEN;
		if (i) {
			tmp[len++] = '\r';
			tmp[len++] = '\n';
		}
		memcpy(tmp + len, lines[i].p, lines[i].len);
		len += lines[i].len;
	}
	if (len > challenge->cap)
		return SPL_PROXY_AUTH_FORBIDDEN;
	memcpy(challenge->buf, tmp, len);
	challenge->len = len;
	return SPL_PROXY_AUTH_CHALLENGE;
}

static void hook_timer_other(void *ctx, uint64_t data, uint64_t now)
{
	struct spl_shard *s = ctx;
	if ((data & SPL_REGISTRAR_TIMER_TAG_MASK) == SPL_REGISTRAR_TIMER_TAG && s->registrar)
		spl_registrar_timer_fire(s->registrar, data, now);
}

void spl_glue_fill(struct spl_shard *s, struct spl_proxy_conf *pc)
{
	pc->tp = (struct spl_proxy_transport){ tp_send, tp_release, tp_retain, tp_alloc, s };
	pc->hooks.locate = s->app->location ? hook_locate : NULL;
	pc->hooks.register_req = s->registrar ? hook_register : NULL;
	pc->hooks.authorize = s->auth ? hook_authorize : NULL;
	/* Names: RFC 3263 answers the control thread published (dnsres.c). */
	pc->hooks.resolve = s->app->dnsres ? spl_dnsres_resolve : NULL;
	pc->hooks.resolve_ctx = s;
	pc->hooks.timer_other = hook_timer_other;
	pc->hooks.ctx = s;
}
