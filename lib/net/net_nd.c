/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: IPv6 Neighbor Discovery (RFC 4861), the address resolution
 * part: NS for our addresses (unicast or to their solicited-node group)
 * is answered with a solicited NA carrying our MAC; next hops are
 * resolved with NS to their solicited-node group and learned from NA.
 * Router discovery, redirects and DAD of our own addresses are left to
 * the kernel (RA and the rest reach it on the exception path).
 */
#include "net_priv.h"

#define ND_HDR_LEN  24   /* type, code, cksum, flags/reserved, target */
#define ND_OPT_LEN  8    /* one link-layer address option for Ethernet */

static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };

/* Walks the options after the fixed part; finds the link-layer address
 * option of `want`. Returns -1 for a malformed option list. */
static int
nd_find_lla(const uint8_t *opt, uint32_t len, uint8_t want, const struct rte_ether_addr **lla)
{
	*lla = NULL;
	while (len > 0) {
		uint32_t olen;
		if (len < 2 || opt[1] == 0)
			return -1;
		olen = (uint32_t)opt[1] * 8;
		if (olen > len)
			return -1;
		if (opt[0] == want && olen >= ND_OPT_LEN)
			*lla = (const struct rte_ether_addr *)(opt + 2);
		opt += olen;
		len -= olen;
	}
	return 0;
}

/* Builds an NS or NA with one link-layer option in a fresh mbuf. */
static void
nd_send(struct spl_net *net, uint8_t type, uint8_t flags, const uint8_t *target,
	const uint8_t *src, const uint8_t *dst, const struct rte_ether_addr *mac, bool tagged)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(net->cfg.pool);
	uint8_t *p;

	if (unlikely(m == NULL)) {
		NET_DROPS(net, NO_MBUF, 1);
		return;
	}
	p = (uint8_t *)rte_pktmbuf_append(m, ND_HDR_LEN + ND_OPT_LEN);
	if (unlikely(p == NULL)) {
		NET_DROP(net, m, NO_HEADROOM);
		return;
	}
	memset(p, 0, ND_HDR_LEN + ND_OPT_LEN);
	p[0] = type;
	p[4] = flags;
	memcpy(p + 8, target, 16);
	p[24] = type == NET_ND_NS ? NET_ND_OPT_SLLA : NET_ND_OPT_TLLA;
	p[25] = 1;
	memcpy(p + 26, &net->cfg.mac, RTE_ETHER_ADDR_LEN);
	uint16_t ck = (uint16_t)~net_cksum_fold(
		__rte_raw_cksum(p, ND_HDR_LEN + ND_OPT_LEN,
				net_cksum_phdr6(src, dst, NET_IPPROTO_ICMPV6, ND_HDR_LEN + ND_OPT_LEN)));
	memcpy(p + 2, &ck, 2);
	if (type == NET_ND_NS)
		NET_STAT(net, ND_NS_OUT);
	else
		NET_STAT(net, ND_NA_OUT);
	/* RFC 4861 7.1: ND is only valid with hop limit 255. */
	net_ipv6_output(net, m, src, dst, NET_IPPROTO_ICMPV6, 255, mac, tagged);
}

void
net_nd_ns_input(struct spl_net *net, struct net_rx *rx, const struct net_l3 *l3)
{
	struct rte_mbuf *m = rx->m;
	const uint8_t *p, *target;
	const struct rte_ether_addr *slla, *reply_mac;
	struct rte_ether_addr mac, mmac;
	uint8_t tgt[16];
	bool unspec;

	if (unlikely(l3->hop != 255 || l3->l4_len < ND_HDR_LEN ||
		     m->data_len < l3->l4_off + l3->l4_len)) {
		NET_DROP(net, m, ND_BAD);
		return;
	}
	p = rte_pktmbuf_mtod_offset(m, const uint8_t *, l3->l4_off);
	target = p + 8;
	unspec = net_ip6_is_unspec(l3->src.addr);
	if (p[1] != 0 || net_ip6_is_mcast(target) ||
	    nd_find_lla(p + ND_HDR_LEN, l3->l4_len - ND_HDR_LEN, NET_ND_OPT_SLLA, &slla) < 0 ||
	    (unspec && (slla != NULL || !l3->dst_mcast))) {
		NET_DROP(net, m, ND_BAD);
		return;
	}
	if (!net_ip6_is_ours(net, target)) {
		if (net->cfg.foreign_to_exception)
			net_exception(net, rx);
		else
			NET_DROP(net, m, ND_NOT_FOR_US);
		return;
	}
	NET_STAT(net, ND_NS_IN);
	memcpy(tgt, target, 16);
	if (slla != NULL) {
		rte_ether_addr_copy(slla, &mac);
		net_neigh_confirm(net, AF_INET6, l3->src.addr, &mac, true);
		net_neigh_event(net, rx, AF_INET6, l3->src.addr, &mac);
		reply_mac = &mac;
	} else {
		reply_mac = &rx->src_mac;
	}
	if (unspec) {
		/* A DAD probe for our address: tell all nodes (RFC 4861 7.2.4). */
		net_eth_mcast_mac6(&mmac, all_nodes);
		nd_send(net, NET_ND_NA, NET_ND_NA_FLAG_O, tgt, tgt, all_nodes, &mmac, rx->tagged);
	} else {
		nd_send(net, NET_ND_NA, NET_ND_NA_FLAG_S | NET_ND_NA_FLAG_O, tgt, tgt,
			l3->src.addr, reply_mac, rx->tagged);
	}
	rte_pktmbuf_free(m);
}

void
net_nd_na_input(struct spl_net *net, struct net_rx *rx, const struct net_l3 *l3)
{
	struct rte_mbuf *m = rx->m;
	const uint8_t *p, *target;
	const struct rte_ether_addr *tlla;
	struct rte_ether_addr mac;
	uint8_t flags;

	if (unlikely(l3->hop != 255 || l3->l4_len < ND_HDR_LEN ||
		     m->data_len < l3->l4_off + l3->l4_len)) {
		NET_DROP(net, m, ND_BAD);
		return;
	}
	p = rte_pktmbuf_mtod_offset(m, const uint8_t *, l3->l4_off);
	flags = p[4];
	target = p + 8;
	if (p[1] != 0 || net_ip6_is_mcast(target) ||
	    ((flags & NET_ND_NA_FLAG_S) && l3->dst_mcast) ||
	    nd_find_lla(p + ND_HDR_LEN, l3->l4_len - ND_HDR_LEN, NET_ND_OPT_TLLA, &tlla) < 0) {
		NET_DROP(net, m, ND_BAD);
		return;
	}
	if (net_ip6_is_ours(net, target)) {
		/* Our address defended by someone else, or our own echo. */
		if (tlla != NULL && !rte_is_same_ether_addr(tlla, &net->cfg.mac))
			NET_DROP(net, m, ADDR_CONFLICT);
		else
			rte_pktmbuf_free(m);
		return;
	}
	NET_STAT(net, ND_NA_IN);
	if (tlla != NULL) {
		/* A solicited NA to our unicast address answers one of us. */
		bool answer = (flags & NET_ND_NA_FLAG_S) && !l3->dst_mcast;
		rte_ether_addr_copy(tlla, &mac);
		net_neigh_confirm(net, AF_INET6, target, &mac, answer);
		if (answer)
			net_neigh_event(net, rx, AF_INET6, target, &mac);
	} else if (flags & NET_ND_NA_FLAG_S) {
		/* No option: confirms reachability of the MAC we already have. */
		struct spl_net_addr a;
		enum spl_net_neigh_state st;
		spl_net_addr_set_v6(&a, target);
		st = spl_net_neigh_lookup(net, &a, &mac);
		if (st == SPL_NET_NEIGH_REACHABLE || st == SPL_NET_NEIGH_STALE)
			net_neigh_confirm(net, AF_INET6, target, &mac, false);
	}
	if (net->cfg.neigh_to_exception)
		net_exception(net, rx);
	else
		rte_pktmbuf_free(m);
}

void
net_nd_solicit(struct spl_net *net, const uint8_t *target, const struct rte_ether_addr *dst)
{
	const uint8_t *src = net_ipv6_select_src(net, target);
	struct rte_ether_addr mmac;
	uint8_t sn[16];

	if (dst != NULL) {
		/* Probe of a stale entry: unicast to what we know. */
		nd_send(net, NET_ND_NS, 0, target, src, target, dst, net->cfg.vlan_id != 0);
		return;
	}
	net_ip6_solicited_node(sn, target);
	net_eth_mcast_mac6(&mmac, sn);
	nd_send(net, NET_ND_NS, 0, target, src, sn, &mmac, net->cfg.vlan_id != 0);
}

/* Unsolicited NA to all nodes for each of our addresses (RFC 4861 7.2.6). */
void
net_nd_announce(struct spl_net *net)
{
	struct rte_ether_addr mmac;

	net_eth_mcast_mac6(&mmac, all_nodes);
	for (unsigned i = 0; i < net->n_ip6; i++)
		nd_send(net, NET_ND_NA, NET_ND_NA_FLAG_O, net->ip6[i].addr, net->ip6[i].addr,
			all_nodes, &mmac, net->cfg.vlan_id != 0);
}
