/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: the neighbor cache shared by ARP (IPv4) and ND (IPv6).
 *
 * A fixed table of buckets of NET_NEIGH_WAYS entries, sized at create;
 * an entry that finds its bucket full evicts the least recently updated
 * one. States (enum spl_net_neigh_state):
 *
 *   FREE --send--> INCOMPLETE --reply--> REACHABLE --timeout, used--> STALE
 *                   |  retry with backoff        ^                     |
 *                   v                            +------reply----------+
 *                 FAILED --fail time--> FREE     REACHABLE unused --> FREE
 *
 * INCOMPLETE holds up to SPL_NET_NEIGH_HOLD packets (at L3) and sends them
 * when the reply arrives; STALE keeps using the old MAC while it probes
 * (unicast, RFC 1122 2.3.2.1 / RFC 4861 7.3.3). Retries double the
 * interval: retry, 2*retry, 4*retry, ... for neigh_retries times.
 */
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "net_priv.h"

static inline uint32_t
neigh_bucket(const struct spl_net *net, uint8_t family, const uint8_t *addr)
{
	uint32_t w[4], h;

	/* Addresses sit at odd offsets (struct spl_net_addr): copy to words
	 * rather than let jhash load them unaligned. */
	if (family == AF_INET) {
		memcpy(w, addr, 4);
		h = rte_jhash_1word(w[0], AF_INET);
	} else {
		memcpy(w, addr, 16);
		h = rte_jhash_32b(w, 4, AF_INET6);
	}
	return (h & (net->neigh_n / NET_NEIGH_WAYS - 1)) * NET_NEIGH_WAYS;
}

static inline bool
neigh_match(const struct net_neigh *e, uint8_t family, const uint8_t *addr)
{
	return e->state != SPL_NET_NEIGH_FREE && e->family == family &&
	       memcmp(e->addr, addr, family == AF_INET ? 4 : 16) == 0;
}

static struct net_neigh *
neigh_find(const struct spl_net *net, uint8_t family, const uint8_t *addr)
{
	struct net_neigh *b = &net->neigh[neigh_bucket(net, family, addr)];

	for (unsigned i = 0; i < NET_NEIGH_WAYS; i++)
		if (neigh_match(&b[i], family, addr))
			return &b[i];
	return NULL;
}

static void
neigh_drop_held(struct spl_net *net, struct net_neigh *e, enum spl_net_drop why)
{
	for (unsigned i = 0; i < e->n_held; i++)
		net_drop(net, e->held[i], why);
	e->n_held = 0;
}

static struct net_neigh *
neigh_add(struct spl_net *net, uint8_t family, const uint8_t *addr)
{
	struct net_neigh *b = &net->neigh[neigh_bucket(net, family, addr)];
	struct net_neigh *e = NULL;

	for (unsigned i = 0; i < NET_NEIGH_WAYS; i++) {
		if (b[i].state == SPL_NET_NEIGH_FREE) {
			e = &b[i];
			break;
		}
		if (e == NULL || b[i].updated < e->updated)
			e = &b[i];
	}
	if (e->state != SPL_NET_NEIGH_FREE) {
		NET_STAT(net, NEIGH_EVICTED);
		neigh_drop_held(net, e, SPL_NET_DROP_NEIGH_FAILED);
	}
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->addr, addr, family == AF_INET ? 4 : 16);
	e->updated = net->now;
	NET_STAT(net, NEIGH_ADDED);
	return e;
}

int
net_neigh_init(struct spl_net *net)
{
	net->neigh_n = net->cfg.neigh_entries;
	net->neigh = rte_zmalloc_socket("spl_net_neigh", net->neigh_n * sizeof(*net->neigh),
					RTE_CACHE_LINE_SIZE, net->cfg.socket_id);
	return net->neigh == NULL ? -ENOMEM : 0;
}

void
net_neigh_fini(struct spl_net *net)
{
	if (net->neigh == NULL)
		return;
	for (uint32_t i = 0; i < net->neigh_n; i++)
		rte_pktmbuf_free_bulk(net->neigh[i].held, net->neigh[i].n_held);
	rte_free(net->neigh);
	net->neigh = NULL;
}

static void
neigh_solicit(struct spl_net *net, const struct net_neigh *e, bool unicast)
{
	const struct rte_ether_addr *dst = unicast ? &e->mac : NULL;

	if (e->family == AF_INET) {
		rte_be32_t a;
		memcpy(&a, e->addr, 4);
		net_arp_request(net, a, dst);
	} else {
		net_nd_solicit(net, e->addr, dst);
	}
}

static inline bool
neigh_tagged(const struct spl_net *net)
{
	return net->cfg.vlan_id != 0;
}

int
net_neigh_output(struct spl_net *net, struct rte_mbuf *m, uint8_t family,
		 const uint8_t *next_hop)
{
	struct net_neigh *e = neigh_find(net, family, next_hop);

	if (likely(e != NULL)) {
		switch (e->state) {
		case SPL_NET_NEIGH_REACHABLE:
		case SPL_NET_NEIGH_STALE:
			e->used = 1;
			return net_l3_xmit(net, m, family, &e->mac, neigh_tagged(net));
		case SPL_NET_NEIGH_FAILED:
			NET_DROP(net, m, NEIGH_FAILED);
			return -EHOSTUNREACH;
		default:   /* INCOMPLETE */
			break;
		}
	} else {
		e = neigh_add(net, family, next_hop);
		e->state = SPL_NET_NEIGH_INCOMPLETE;
		e->deadline = net->now + net->retry_cyc;
		neigh_solicit(net, e, false);
	}
	if (e->n_held == SPL_NET_NEIGH_HOLD) {
		NET_DROP(net, m, NEIGH_HOLD_FULL);
		return -ENOBUFS;
	}
	e->held[e->n_held++] = m;
	NET_STAT(net, NEIGH_HELD);
	return -EAGAIN;
}

static void
neigh_set_reachable(struct spl_net *net, struct net_neigh *e,
		    const struct rte_ether_addr *mac)
{
	rte_ether_addr_copy(mac, &e->mac);
	e->state = SPL_NET_NEIGH_REACHABLE;
	e->retries = 0;
	e->used = 0;
	e->deadline = net->now + net->reach_cyc;
	e->updated = net->now;
	NET_STAT(net, NEIGH_CONFIRMED);
	for (unsigned i = 0; i < e->n_held; i++) {
		NET_STAT(net, NEIGH_RELEASED);
		e->used = 1;
		net_l3_xmit(net, e->held[i], e->family, &e->mac, neigh_tagged(net));
	}
	e->n_held = 0;
}

void
net_neigh_confirm(struct spl_net *net, uint8_t family, const uint8_t *addr,
		  const struct rte_ether_addr *mac, bool create)
{
	struct net_neigh *e = neigh_find(net, family, addr);

	if (e == NULL) {
		if (!create)
			return;
		e = neigh_add(net, family, addr);
	}
	neigh_set_reachable(net, e, mac);
}

void
net_neigh_event(struct spl_net *net, struct net_rx *rx, uint8_t family,
		const uint8_t *addr, const struct rte_ether_addr *mac)
{
	struct spl_net_rx_result *out = rx->out;
	struct spl_net_neigh_event *ev;

	/* Lossy by design: a shard that misses one re-requests. */
	if (out->n_neigh == SPL_NET_NEIGH_EVENTS)
		return;
	ev = &out->neigh[out->n_neigh++];
	memset(&ev->addr, 0, sizeof(ev->addr));
	ev->addr.family = family;
	memcpy(ev->addr.addr, addr, family == AF_INET ? 4 : 16);
	rte_ether_addr_copy(mac, &ev->mac);
	NET_STAT(net, NEIGH_EVENTS);
}

void
spl_net_neigh_update(struct spl_net *net, const struct spl_net_addr *addr,
		     const struct rte_ether_addr *mac)
{
	if (addr->family != AF_INET && addr->family != AF_INET6)
		return;
	net_neigh_confirm(net, addr->family, addr->addr, mac, false);
}

enum spl_net_neigh_state
spl_net_neigh_lookup(const struct spl_net *net, const struct spl_net_addr *addr,
		     struct rte_ether_addr *mac)
{
	const struct net_neigh *e;

	if (addr->family != AF_INET && addr->family != AF_INET6)
		return SPL_NET_NEIGH_FREE;
	e = neigh_find(net, addr->family, addr->addr);
	if (e == NULL)
		return SPL_NET_NEIGH_FREE;
	if (mac != NULL && (e->state == SPL_NET_NEIGH_REACHABLE || e->state == SPL_NET_NEIGH_STALE))
		rte_ether_addr_copy(&e->mac, mac);
	return (enum spl_net_neigh_state)e->state;
}

static void
neigh_free(struct spl_net *net, struct net_neigh *e)
{
	NET_STAT(net, NEIGH_EXPIRED);
	e->state = SPL_NET_NEIGH_FREE;
}

static void
neigh_age(struct spl_net *net, struct net_neigh *e, uint64_t now)
{
	switch (e->state) {
	case SPL_NET_NEIGH_INCOMPLETE:
		if (e->retries < net->cfg.neigh_retries) {
			e->retries++;
			e->deadline = now + (net->retry_cyc << e->retries);
			neigh_solicit(net, e, false);
			return;
		}
		neigh_drop_held(net, e, SPL_NET_DROP_NEIGH_FAILED);
		e->state = SPL_NET_NEIGH_FAILED;
		e->deadline = now + net->fail_cyc;
		e->updated = now;
		return;
	case SPL_NET_NEIGH_REACHABLE:
		if (!e->used) {
			neigh_free(net, e);
			return;
		}
		e->state = SPL_NET_NEIGH_STALE;
		e->retries = 0;
		e->deadline = now + net->retry_cyc;
		neigh_solicit(net, e, true);
		return;
	case SPL_NET_NEIGH_STALE:
		if (e->retries < net->cfg.neigh_retries) {
			e->retries++;
			e->deadline = now + (net->retry_cyc << e->retries);
			neigh_solicit(net, e, true);
			return;
		}
		neigh_free(net, e);
		return;
	case SPL_NET_NEIGH_FAILED:
		neigh_free(net, e);
		return;
	default:
		return;
	}
}

/* A bounded slice per call so that a big table never stalls a loop turn:
 * at 256 entries a tick every millisecond visits each entry every
 * neigh_entries/256 ms, far below the retry interval. */
#define NEIGH_SCAN_PER_TICK 256

void
net_neigh_tick(struct spl_net *net, uint64_t now)
{
	uint32_t n = RTE_MIN(net->neigh_n, (uint32_t)NEIGH_SCAN_PER_TICK);
	uint32_t mask = net->neigh_n - 1;
	uint32_t i = net->neigh_cursor;

	for (; n > 0; n--, i = (i + 1) & mask) {
		struct net_neigh *e = &net->neigh[i];
		if (e->state != SPL_NET_NEIGH_FREE && e->deadline <= now)
			neigh_age(net, e, now);
	}
	net->neigh_cursor = i;
}
