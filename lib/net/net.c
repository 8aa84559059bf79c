/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: the shard context, its configuration, the receive dispatch,
 * housekeeping, addresses and counter names.
 */
#include <arpa/inet.h>
#include <errno.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "net_priv.h"

/* ------------------------------------------------------------------ */
/* Configuration and lifetime                                          */

void
spl_net_config_init(struct spl_net_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = RTE_ETHER_MTU;
	cfg->n_sip_ports = 1;
	cfg->sip_ports[0] = 5060;
	cfg->neigh_entries = 256;
	cfg->neigh_reachable_ms = 60000;
	cfg->neigh_retry_ms = 1000;
	cfg->neigh_retries = 3;
	cfg->neigh_fail_ms = 3000;
	cfg->frag_entries = 256;
	cfg->frag_timeout_ms = 2000;
	cfg->shard_count = 1;
	cfg->socket_id = SOCKET_ID_ANY;
	cfg->ttl = 64;
	cfg->hop_limit = 64;
}

static int
net_check_config(const struct spl_net_config *c)
{
	if (c->pool == NULL || c->pool_indirect == NULL)
		return -EINVAL;
	if (c->mtu < 1280 || c->mtu > 9600)   /* IPv6 minimum; jumbo */
		return -EINVAL;
	if (c->n_ip4 > SPL_NET_MAX_ADDRS || c->n_ip6 > SPL_NET_MAX_ADDRS ||
	    c->n_ip4 + c->n_ip6 == 0)
		return -EINVAL;
	if (c->n_sip_ports > SPL_NET_MAX_SIP_PORTS)
		return -EINVAL;
	if (c->vlan_id > 4094)
		return -EINVAL;
	if (c->neigh_entries < NET_NEIGH_WAYS || !rte_is_power_of_2(c->neigh_entries))
		return -EINVAL;
	if (c->neigh_retries > 16 || c->frag_entries == 0 || c->shard_count == 0 ||
	    c->shard_index >= c->shard_count)
		return -EINVAL;
	if (!rte_is_unicast_ether_addr(&c->mac))
		return -EINVAL;
	for (unsigned i = 0; i < c->n_ip4; i++)
		if (c->ip4[i].prefix_len > 32)
			return -EINVAL;
	for (unsigned i = 0; i < c->n_ip6; i++)
		if (c->ip6[i].prefix_len > 128)
			return -EINVAL;
	return 0;
}

static void
net_setup_addrs(struct spl_net *net)
{
	const struct spl_net_config *c = &net->cfg;
	static const uint8_t zero[16];
	bool have_ll = false;

	for (unsigned i = 0; i < c->n_ip4; i++) {
		uint32_t plen = c->ip4[i].prefix_len;
		memcpy(&net->ip4[i].addr, c->ip4[i].addr, 4);
		net->ip4[i].mask = rte_cpu_to_be_32(plen ? ~0u << (32 - plen) : 0);
	}
	net->n_ip4 = c->n_ip4;
	for (unsigned i = 0; i < c->n_ip6; i++) {
		memcpy(net->ip6[i].addr, c->ip6[i].addr, 16);
		net->ip6[i].plen = c->ip6[i].prefix_len;
		have_ll |= net_ip6_is_linklocal(c->ip6[i].addr);
	}
	net->n_ip6 = c->n_ip6;
	if (c->n_ip6 > 0 && !have_ll) {
		/* RFC 4291 appendix A: EUI-64 from the MAC, U/L bit flipped. */
		struct net_ip6 *ll = &net->ip6[net->n_ip6++];
		const uint8_t *mac = c->mac.addr_bytes;
		memset(ll->addr, 0, 16);
		ll->addr[0] = 0xfe;
		ll->addr[1] = 0x80;
		ll->addr[8] = mac[0] ^ 0x02;
		ll->addr[9] = mac[1];
		ll->addr[10] = mac[2];
		ll->addr[11] = 0xff;
		ll->addr[12] = 0xfe;
		ll->addr[13] = mac[3];
		ll->addr[14] = mac[4];
		ll->addr[15] = mac[5];
		ll->plen = 64;
	}
	memcpy(&net->gw4, c->gw4, 4);
	net->has_gw4 = net->gw4 != 0;
	memcpy(net->gw6, c->gw6, 16);
	net->has_gw6 = memcmp(c->gw6, zero, 16) != 0;
}

struct spl_net *
spl_net_create(const struct spl_net_config *cfg)
{
	struct spl_net *net;
	int rc = net_check_config(cfg);

	if (rc < 0)
		goto fail;
	net = rte_zmalloc_socket("spl_net", sizeof(*net), RTE_CACHE_LINE_SIZE,
				 cfg->socket_id);
	if (net == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	net->cfg = *cfg;
	if (net->cfg.tsc_hz == 0)
		net->cfg.tsc_hz = rte_get_tsc_hz();
	net->reach_cyc = net_ms_to_cyc(net, cfg->neigh_reachable_ms);
	net->retry_cyc = net_ms_to_cyc(net, cfg->neigh_retry_ms);
	net->fail_cyc = net_ms_to_cyc(net, cfg->neigh_fail_ms);
	net_setup_addrs(net);
	for (unsigned i = 0; i < cfg->n_sip_ports; i++)
		net->sip_port[cfg->sip_ports[i] >> 3] |= 1u << (cfg->sip_ports[i] & 7);
	net->ip4_id = cfg->shard_index;
	net->ip6_id = cfg->shard_index;
	net->announce = true;

	rc = net_neigh_init(net);
	if (rc == 0) {
		rc = net_frag_init(net);
		if (rc < 0)
			net_neigh_fini(net);
	}
	if (rc < 0) {
		rte_free(net);
		goto fail;
	}
	return net;
fail:
	rte_errno = -rc;
	errno = -rc;
	return NULL;
}

void
spl_net_free(struct spl_net *net)
{
	if (net == NULL)
		return;
	rte_pktmbuf_free_bulk(net->tx, net->n_tx);
	net->n_tx = 0;
	net_neigh_fini(net);
	net_frag_fini(net);
	rte_free(net);
}

/* ------------------------------------------------------------------ */
/* Own addresses                                                       */

bool
net_ip4_is_ours(const struct spl_net *net, rte_be32_t a)
{
	for (unsigned i = 0; i < net->n_ip4; i++)
		if (net->ip4[i].addr == a)
			return true;
	return false;
}

bool
net_ip6_is_ours(const struct spl_net *net, const uint8_t *a)
{
	for (unsigned i = 0; i < net->n_ip6; i++)
		if (memcmp(net->ip6[i].addr, a, 16) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Receive                                                             */

void
net_exception(struct spl_net *net, struct net_rx *rx)
{
	/* One output per input at most, so this never overflows. */
	rx->out->exc[rx->out->n_exc++] = rx->m;
	NET_STAT(net, RX_EXCEPTION);
}

uint16_t
spl_net_rx_burst(struct spl_net *net, struct rte_mbuf **pkts, uint16_t n,
		 uint64_t now, struct spl_net_rx_result *out)
{
	struct net_rx rx = { .out = out };

	out->n_sip = 0;
	out->n_exc = 0;
	out->n_neigh = 0;
	if (n > SPL_NET_BURST_MAX)
		n = SPL_NET_BURST_MAX;
	net->now = now;
	/* Expire first, with this burst's clock: no entry can then turn stale
	 * inside the burst, so what reassembly puts on the death row below
	 * is attributable to the fragment at hand (net_frag.c). */
	net_frag_expire(net, now);

	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		rx.m = pkts[i];
		rx.tagged = false;
		rx.reasm = false;
		NET_STAT(net, RX_PKTS);
		NET_STAT_ADD(net, RX_BYTES, rx.m->pkt_len);
		net_eth_input(net, &rx);
	}
	net_frag_free_dr(net);
	return n;
}

/* ------------------------------------------------------------------ */
/* Housekeeping                                                        */

void
spl_net_announce(struct spl_net *net)
{
	net->announce = true;
}

void
spl_net_tick(struct spl_net *net, uint64_t now)
{
	net->now = now;
	if (net->announce) {
		net->announce = false;
		net_arp_announce(net);
		net_nd_announce(net);
	}
	net_frag_expire(net, now);
	net_frag_free_dr(net);
	net_neigh_tick(net, now);
}

/* ------------------------------------------------------------------ */
/* Addresses in text                                                   */

int
spl_net_addr_parse(struct spl_net_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->addr) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, a->addr) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int
spl_net_addr_format(const struct spl_net_addr *a, char *buf, size_t size)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return -EINVAL;
	if (inet_ntop(a->family, a->addr, buf, size) == NULL)
		return -ENOSPC;
	return (int)strlen(buf);
}

/* ------------------------------------------------------------------ */
/* Counters                                                            */

static const char *const stat_names[] = {
#define SPL_NET_STAT(e, name, help) name,
#include "spl_net_stats.def"
#undef SPL_NET_STAT
};
static const char *const stat_helps[] = {
#define SPL_NET_STAT(e, name, help) help,
#include "spl_net_stats.def"
#undef SPL_NET_STAT
};
static const char *const drop_names[] = {
#define SPL_NET_DROP(e, name, help) name,
#include "spl_net_drops.def"
#undef SPL_NET_DROP
};
static const char *const drop_helps[] = {
#define SPL_NET_DROP(e, name, help) help,
#include "spl_net_drops.def"
#undef SPL_NET_DROP
};

const struct spl_net_stats *
spl_net_stats(const struct spl_net *net)
{
	return &net->st;
}

void
spl_net_stats_add(struct spl_net_stats *acc, const struct spl_net_stats *s)
{
	for (unsigned i = 0; i < SPL_NET_STAT__COUNT; i++)
		acc->stat[i] += s->stat[i];
	for (unsigned i = 0; i < SPL_NET_DROP__COUNT; i++)
		acc->drop[i] += s->drop[i];
}

uint64_t
spl_net_drops_total(const struct spl_net_stats *s)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < SPL_NET_DROP__COUNT; i++)
		t += s->drop[i];
	return t;
}

const char *
spl_net_stat_name(enum spl_net_stat s)
{
	return (unsigned)s < SPL_NET_STAT__COUNT ? stat_names[s] : NULL;
}

const char *
spl_net_stat_help(enum spl_net_stat s)
{
	return (unsigned)s < SPL_NET_STAT__COUNT ? stat_helps[s] : NULL;
}

const char *
spl_net_drop_name(enum spl_net_drop d)
{
	return (unsigned)d < SPL_NET_DROP__COUNT ? drop_names[d] : NULL;
}

const char *
spl_net_drop_help(enum spl_net_drop d)
{
	return (unsigned)d < SPL_NET_DROP__COUNT ? drop_helps[d] : NULL;
}
