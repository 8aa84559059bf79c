/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: IPv4 (RFC 791, host requirements of RFC 1122 3.2.1).
 *
 * Receive validates in this order: length for a header, version, IHL,
 * total length against the frame (Ethernet padding is trimmed), header
 * checksum (unless the NIC vouched for it), destination, source, TTL.
 * Options are skipped, not interpreted. We are a host, not a router:
 * unicast for other addresses is dropped (or given to the kernel with
 * foreign_to_exception), broadcast and multicast go to the kernel.
 * Fragments of UDP datagrams are reassembled here; fragments of anything
 * else go to the kernel as they are, since we would only hand the whole
 * to the kernel anyway.
 */
#include "net_priv.h"

static bool
ip4_is_bcast(const struct spl_net *net, rte_be32_t a)
{
	if (a == RTE_BE32(0xffffffff))
		return true;
	for (unsigned i = 0; i < net->n_ip4; i++) {
		rte_be32_t mask = net->ip4[i].mask;
		if (mask != RTE_BE32(0xffffffff) && (a & ~mask) == ~mask &&
		    (a & mask) == (net->ip4[i].addr & mask))
			return true;
	}
	return false;
}

void
net_ipv4_input(struct spl_net *net, struct net_rx *rx)
{
	struct rte_mbuf *m = rx->m;
	struct rte_ipv4_hdr *ip;
	struct net_l3 l3;
	uint32_t l2 = m->l2_len, ihl, tot;
	uint64_t ck;
	rte_be32_t src, dst;

	NET_STAT(net, RX_IPV4);
	if (unlikely(m->data_len < l2 + sizeof(*ip))) {
		NET_DROP(net, m, IP4_TRUNCATED);
		return;
	}
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2);
	if (unlikely((ip->version_ihl >> 4) != 4)) {
		NET_DROP(net, m, IP4_BAD_VERSION);
		return;
	}
	ihl = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(ihl < sizeof(*ip) || tot < ihl)) {
		NET_DROP(net, m, IP4_BAD_IHL);
		return;
	}
	if (unlikely(m->data_len < l2 + ihl || m->pkt_len < l2 + tot)) {
		NET_DROP(net, m, IP4_TRUNCATED);
		return;
	}
	net_trim_to(m, l2 + tot);

	ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    (ck == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN && rte_raw_cksum(ip, ihl) != 0xffff)) {
		NET_DROP(net, m, IP4_BAD_CKSUM);
		return;
	}

	src = ip->src_addr;
	dst = ip->dst_addr;
	if (!net_ip4_is_ours(net, dst)) {
		if (net_ip4_is_mcast(dst) || ip4_is_bcast(net, dst) ||
		    net->cfg.foreign_to_exception)
			net_exception(net, rx);
		else
			NET_DROP(net, m, IP_NOT_FOR_US);
		return;
	}
	if (unlikely(net_ip4_is_mcast(src) || ip4_is_bcast(net, src) ||
		     net_ip4_is_ours(net, src))) {
		NET_DROP(net, m, IP4_BAD_SRC);
		return;
	}
	if (unlikely(ip->time_to_live == 0)) {
		NET_DROP(net, m, IP4_TTL);
		return;
	}
	m->l3_len = ihl;

	if (rte_ipv4_frag_pkt_is_fragmented(ip)) {
		if (ip->next_proto_id != IPPROTO_UDP) {
			net_exception(net, rx);
			return;
		}
		m = net_frag_reassemble4(net, m, ip);
		if (m == NULL)
			return;   /* kept for later, or dropped and counted */
		rx->m = m;
		rx->reasm = true;
		ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
		tot = rte_be_to_cpu_16(ip->total_length);
	}

	spl_net_addr_set_v4(&l3.src, &src);
	spl_net_addr_set_v4(&l3.dst, &dst);
	l3.l4_off = m->l2_len + ihl;
	l3.l4_len = tot - ihl;
	l3.proto = ip->next_proto_id;
	l3.hop = ip->time_to_live;
	l3.dst_mcast = false;

	switch (l3.proto) {
	case IPPROTO_UDP:
		net_udp_input(net, rx, &l3);
		break;
	case IPPROTO_ICMP:
		net_icmp4_input(net, rx, &l3);
		break;
	default:
		net_exception(net, rx);
		break;
	}
}

/* Our address on dst's subnet, else the first one. */
rte_be32_t
net_ipv4_select_src(const struct spl_net *net, rte_be32_t dst)
{
	for (unsigned i = 0; i < net->n_ip4; i++)
		if (((dst ^ net->ip4[i].addr) & net->ip4[i].mask) == 0)
			return net->ip4[i].addr;
	return net->n_ip4 > 0 ? net->ip4[0].addr : 0;
}

static bool
ip4_on_link(const struct spl_net *net, rte_be32_t dst)
{
	for (unsigned i = 0; i < net->n_ip4; i++)
		if (((dst ^ net->ip4[i].addr) & net->ip4[i].mask) == 0)
			return true;
	return false;
}

int
net_ipv4_output(struct spl_net *net, struct rte_mbuf *m, rte_be32_t src, rte_be32_t dst,
		uint8_t proto, const struct rte_ether_addr *mac, bool tagged)
{
	struct rte_ipv4_hdr *ip;
	uint32_t tot = m->pkt_len + sizeof(*ip);
	struct rte_ether_addr mmac;
	rte_be32_t nh;

	if (unlikely(tot > UINT16_MAX)) {
		NET_DROP(net, m, TOO_BIG);
		return -EMSGSIZE;
	}
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));
	if (unlikely(ip == NULL)) {
		NET_DROP(net, m, NO_HEADROOM);
		return -ENOBUFS;
	}
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)tot);
	ip->packet_id = rte_cpu_to_be_16(net->ip4_id);
	net->ip4_id += net->cfg.shard_count;
	/* DF clear: we fragment ourselves and do not do PMTU discovery. */
	ip->fragment_offset = 0;
	ip->time_to_live = net->cfg.ttl;
	ip->next_proto_id = proto;
	ip->hdr_checksum = 0;
	ip->src_addr = src;
	ip->dst_addr = dst;
	m->l3_len = sizeof(*ip);
	if (tot <= net->cfg.mtu) {
		/* Fragments get their own checksums in net_frag_output. */
		if (net->cfg.tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
			m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		else
			ip->hdr_checksum = rte_ipv4_cksum(ip);
	}

	if (mac != NULL)
		return net_l3_xmit(net, m, AF_INET, mac, tagged);

	if (net_ip4_is_mcast(dst)) {
		net_eth_mcast_mac4(&mmac, dst);
		return net_l3_xmit(net, m, AF_INET, &mmac, net->cfg.vlan_id != 0);
	}
	if (ip4_is_bcast(net, dst)) {
		memset(&mmac, 0xff, sizeof(mmac));
		return net_l3_xmit(net, m, AF_INET, &mmac, net->cfg.vlan_id != 0);
	}
	if (ip4_on_link(net, dst)) {
		nh = dst;
	} else if (net->has_gw4) {
		nh = net->gw4;
	} else {
		NET_DROP(net, m, NO_ROUTE);
		return -ENETUNREACH;
	}
	return net_neigh_output(net, m, AF_INET, (const uint8_t *)&nh);
}
