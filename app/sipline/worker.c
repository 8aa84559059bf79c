/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: one per lcore, run to completion, nothing shared but rings.
 *
 *   rx_burst → lib/net (L2/L3/L4, ARP/ND/ICMP answered, reassembly)
 *     → SIP datagram → shard key → mine? process : ring to its owner
 *   drain the rings from the other shards → process
 *   advance the timer wheel from the TSC → proxy/txn/registrar timers
 *   flush TX; count busy and idle cycles
 *
 * Processing a datagram: scan, validate, then the proxy (or a stateless
 * reject, or a counted drop). REGISTERs are sharded by their AOR instead
 * of their branch, so that every change to one AOR has a single writer.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "app.h"
#include "shard.h"
#include "spl_net.h"
#include "spl_proxy.h"
#include "spl_registrar.h"
#include "spl_sipmsg.h"
#include "spl_timerwheel.h"

/* A multiply, not a divide: ns_per_tsc is 10^9/hz in 32.32 fixed point
 * (relative error < 10^-9, some µs per day of uptime). */
uint64_t spl_shard_now_ns(const struct spl_shard *s, uint64_t tsc)
{
	uint64_t d = tsc - s->tsc_base;
	return s->ns_base_wall + (uint64_t)(((unsigned __int128)d * s->ns_per_tsc) >> 32);
}

static void peer_from(struct spl_txn_peer *p, uint8_t family, const uint8_t *addr, uint16_t port,
		      uint8_t transport, uint32_t conn_id)
{
	memset(p, 0, sizeof(*p));
	p->transport = transport ? transport : SPL_SIP_TRANSPORT_UDP;
	p->reliable = conn_id != 0;
	p->conn_id = conn_id;
	p->family = family;
	memcpy(p->addr, addr, family == AF_INET ? 4 : 16);
	p->port = port;
}

/* The shard that must process a message, or -1 when it has no key. The
 * control thread asks too, for messages that came over TCP/TLS. */
int spl_shard_owner(const struct spl_app *app, const char *p, uint32_t len)
{
	unsigned n = app->nshards;
	if (n == 1)
		return 0;
	/* REGISTER: by AOR (To URI), the registrar's single-writer rule. */
	if (len > 9 && memcmp(p, "REGISTER ", 9) == 0) {
		static __thread struct spl_sipmsg m;
		if (spl_sipmsg_scan(&m, p, len) == SPL_SIPMSG_E_NONE &&
		    spl_sipmsg_parse(&m, SPL_SIPMSG_P_TO) == SPL_SIPMSG_E_NONE) {
			char canon[SPL_REGISTRAR_AOR_MAX];
			int cn = spl_registrar_aor_canon(&m.to.uri, canon, sizeof(canon));
			if (cn > 0)
				return (int)spl_registrar_aor_shard((struct spl_str){ canon, (uint32_t)cn }, n);
		}
		/* Unparseable: any shard answers the 400. */
	}
	struct spl_sipmsg_key k;
	if (spl_sipmsg_shard_key(p, len, &k) != 0)
		return -1;
	if (k.shard >= 0 && (unsigned)k.shard < n)
		return k.shard;
	return (int)(k.hash % n);
}

void spl_shard_sip(struct spl_shard *s, struct rte_mbuf *m, const char *payload, uint32_t len, uint8_t family,
		   const uint8_t *src, uint16_t src_port, uint8_t transport, uint32_t conn_id, uint64_t now)
{
	/* One message struct per worker: big (the header index), never on
	 * the stack of a hot loop. */
	static __thread struct spl_sipmsg msg;
	struct spl_sipmsg_verdict v;
	struct spl_txn_peer peer;

	s->stats.sip_in++;
	peer_from(&peer, family, src, src_port, transport, conn_id);
	spl_sipmsg_validate(&msg, spl_sipmsg_scan(&msg, payload, len), &v);
	if (v.kind == SPL_SIPMSG_OK) {
		spl_proxy_recv(s->proxy, &msg, m, &peer, now);
	} else if (v.kind == SPL_SIPMSG_REJECT) {
		s->stats.rejects++;
		spl_proxy_reject(s->proxy, &msg, &v, &peer, now);
	} else {
		s->stats.drops[SPL_SHARD_DROP_SIP_DROP]++;
		if (v.err < 64)
			s->stats.sip_drop_by_err[v.err]++;
	}
	rte_pktmbuf_free(m);  /* the proxy took its own reference if it keeps the bytes */
}

/* Control-socket work that must run here (see struct spl_shard_req). */
static void serve_requests(struct spl_shard *s, uint64_t now)
{
	struct spl_shard_req *r;
	while (rte_ring_sc_dequeue(s->req_in, (void **)&r) == 0) {
		struct spl_str aor = { r->aor, (uint32_t)strlen(r->aor) };
		struct spl_str contact = { r->contact[0] ? r->contact : NULL, (uint32_t)strlen(r->contact) };
		switch (r->kind) {
		case SPL_SHARD_REQ_LOCATION_ADD:
			r->rc = s->registrar ? spl_location_add(s->registrar, aor, contact, r->expires, now) : -ENOTSUP;
			break;
		case SPL_SHARD_REQ_LOCATION_DEL:
			r->rc = s->registrar ? spl_location_del(s->registrar, aor, contact, now) : -ENOTSUP;
			break;
		case SPL_SHARD_REQ_CONFIG: {
			struct spl_proxy_conf *pc = r->out;
			pc->wheel = s->wheel;
			spl_glue_fill(s, pc);
			r->rc = spl_proxy_reconfigure(s->proxy, pc);
			if (r->rc == 0)
				s->stats.config_generation++;
			break;
		}
		default:
			r->rc = spl_shard_txn_list(s, r);
			break;
		}
		atomic_store_explicit(&r->done, 1, memory_order_release);
	}
}

static void dispatch(struct spl_shard *s, const struct spl_net_dgram *d, uint64_t now)
{
	int owner = spl_shard_owner(s->app, d->payload, d->len);
	if (owner < 0) {
		/* No key: let this shard's validator answer or drop it. */
		owner = (int)s->id;
	}
	if ((unsigned)owner == s->id) {
		spl_shard_sip(s, d->m, d->payload, d->len, d->src.family, d->src.addr, d->src_port, 0, 0, now);
		return;
	}
	struct rte_mbuf *m = d->m;
	struct spl_handoff *h = rte_mbuf_to_priv(m);
	h->m = m;
	h->off = (uint32_t)(d->payload - rte_pktmbuf_mtod(m, const char *));
	h->len = d->len;
	h->family = d->src.family;
	memcpy(h->src, d->src.addr, 16);
	h->src_port = d->src_port;
	h->dst_port = d->dst_port;
	h->transport = 0;
	h->send_failed = 0;
	h->conn_id = 0;
	struct rte_ring *r = s->app->shards[owner]->in[s->id];
	if (rte_ring_sp_enqueue(r, m) != 0) {
		s->stats.drops[SPL_SHARD_DROP_RING_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	s->stats.handoff_out++;
}

/* The control thread could not deliver a request of ours over TCP/TLS. */
static void send_failed(struct spl_shard *s, struct rte_mbuf *m, const char *p, uint32_t len, uint64_t now)
{
	static __thread struct spl_sipmsg msg;
	if (spl_sipmsg_scan(&msg, p, len) == SPL_SIPMSG_E_NONE)
		spl_txn_client_send_failed(spl_proxy_txn(s->proxy), &msg, -ECONNREFUSED, now);
	rte_pktmbuf_free(m);
}

static unsigned drain_rings(struct spl_shard *s, uint64_t now)
{
	unsigned total = 0;
	for (unsigned j = 0; j < s->app->nshards; j++) {
		if (!s->in[j])
			continue;
		struct rte_mbuf *ms[SPL_BURST];
		unsigned n = rte_ring_sc_dequeue_burst(s->in[j], (void **)ms, SPL_BURST, NULL);
		for (unsigned i = 0; i < n; i++) {
			struct spl_handoff *h = rte_mbuf_to_priv(ms[i]);
			s->stats.handoff_in++;
			spl_shard_sip(s, ms[i], rte_pktmbuf_mtod(ms[i], const char *) + h->off, h->len, h->family, h->src,
				      h->src_port, h->transport, h->conn_id, now);
		}
		total += n;
	}
	/* Messages that came over TCP/TLS, framed by the control thread. */
	if (s->stream_in) {
		struct rte_mbuf *ms[SPL_BURST];
		unsigned n = rte_ring_sc_dequeue_burst(s->stream_in, (void **)ms, SPL_BURST, NULL);
		for (unsigned i = 0; i < n; i++) {
			struct spl_handoff *h = rte_mbuf_to_priv(ms[i]);
			const char *p = rte_pktmbuf_mtod(ms[i], const char *) + h->off;
			if (h->send_failed)
				send_failed(s, ms[i], p, h->len, now);
			else
				spl_shard_sip(s, ms[i], p, h->len, h->family, h->src, h->src_port, h->transport,
					      h->conn_id, now);
		}
		total += n;
	}
	return total;
}

/* Back off when idle (adaptive policy): spin a while, then sleep in
 * growing steps up to idle_sleep_us, so a 2-core demo box keeps a core
 * for SIPp; any traffic returns to full polling at once. */
static void idle_backoff(struct spl_shard *s, unsigned *empty)
{
	if (s->app->cfg->idle == SPL_CFG_IDLE_POLL)
		return;
	if (++*empty < 256)
		return;
	unsigned us = (*empty - 255) * 10;
	if (us > s->app->cfg->idle_sleep_us)
		us = s->app->cfg->idle_sleep_us;
	struct timespec ts = { 0, (long)us * 1000 };
	nanosleep(&ts, NULL);
}

int spl_worker_main(void *arg)
{
	struct spl_shard *s = arg;
	struct spl_app *app = s->app;
	static __thread struct spl_net_rx_result res;
	struct rte_mbuf *pkts[SPL_BURST];
	unsigned empty = 0;
	uint64_t last_tick = 0;
	uint64_t tick_every = s->tsc_hz / 1000;  /* net housekeeping each ms */
	int reader = app->location ? spl_location_reader_register(app->location) : -1;
	uint64_t dns_seen = 0;   /* app->dns_generation when the parked requests last retried */

	while (!atomic_load_explicit(&app->stop, memory_order_relaxed)) {
		uint64_t t0 = rte_rdtsc();
		uint64_t now = spl_shard_now_ns(s, t0);  /* once per turn: every message of it shares it */
		unsigned work = 0;
		uint16_t n = rte_eth_rx_burst(app->port_id, s->rx_queue, pkts, SPL_BURST);
		if (n) {
			s->stats.rx_pkts += n;
			uint16_t done = 0;
			while (done < n) {
				done += spl_net_rx_burst(s->net, pkts + done, (uint16_t)(n - done), t0, &res);
				for (unsigned i = 0; i < res.n_sip; i++)
					dispatch(s, &res.sip[i], now);
				if (res.n_exc) {
					unsigned q = s->exc_out ? rte_ring_sp_enqueue_burst(s->exc_out, (void **)res.exc,
											res.n_exc, NULL) : 0;
					for (unsigned i = q; i < res.n_exc; i++) {
						s->stats.drops[SPL_SHARD_DROP_EXC_RING_FULL]++;
						rte_pktmbuf_free(res.exc[i]);
					}
				}
				/* Neighbors learnt here may be awaited by other
				 * shards' held packets: tell them through their
				 * rings, never by touching their tables. */
				for (unsigned i = 0; i < res.n_neigh; i++)
					for (unsigned j = 0; j < app->nshards; j++)
						if (j != s->id &&
						    rte_ring_mp_enqueue_elem(app->shards[j]->neigh_in, &res.neigh[i],
									     sizeof(res.neigh[i])) != 0)
							s->stats.drops[SPL_SHARD_DROP_NEIGH_RING_FULL]++;
			}
			work += n;
		}
		work += drain_rings(s, now);
		if (s->exc_in && !rte_ring_empty(s->exc_in)) {
			struct rte_mbuf *ms[SPL_BURST];
			unsigned ne = rte_ring_sc_dequeue_burst(s->exc_in, (void **)ms, SPL_BURST, NULL);
			spl_net_exception_tx(s->net, ms, (uint16_t)ne);
			work += ne;
		}
		if (!rte_ring_empty(s->req_in))
			serve_requests(s, now);
		bool drain = atomic_load_explicit(&s->draining, memory_order_relaxed);
		if (drain != s->proxy_draining) {
			spl_proxy_set_draining(s->proxy, drain);
			s->proxy_draining = drain;
		}
		if (s->neigh_in) {
			struct spl_net_neigh_event ev[8];
			unsigned ne = rte_ring_sc_dequeue_burst_elem(s->neigh_in, ev, sizeof(ev[0]), 8, NULL);
			for (unsigned i = 0; i < ne; i++)
				spl_net_neigh_update(s->net, &ev[i].addr, &ev[i].mac);
		}
		/* New DNS answers: retry the requests parked for a name. The
		 * table they live in is reclaimed by the location's QSBR, so the
		 * quiescent call below covers it too. */
		uint64_t dg = atomic_load_explicit(&app->dns_generation, memory_order_acquire);
		if (dg != dns_seen) {
			dns_seen = dg;
			work += spl_proxy_resume(s->proxy, now);
		}
		spl_proxy_advance(s->proxy, now);
		if (t0 - last_tick >= tick_every) {
			spl_net_tick(s->net, t0);
			if (s->registrar)
				spl_registrar_reclaim(s->registrar);
			last_tick = t0;
		}
		if (app->journals[s->id])
			spl_journal_commit(app->journals[s->id]);
		if (reader >= 0)
			spl_location_quiescent(app->location, reader);
		spl_net_tx_flush(s->net);

		uint64_t t1 = rte_rdtsc();
		s->stats.loops++;
		if (work) {
			s->stats.busy_cycles += t1 - t0;
			empty = 0;
		} else {
			s->stats.idle_cycles += t1 - t0;
			s->stats.idle_loops++;
			uint64_t ts = rte_rdtsc();
			idle_backoff(s, &empty);
			s->stats.idle_cycles += rte_rdtsc() - ts;
		}
	}
	spl_net_tx_flush(s->net);
	return 0;
}
