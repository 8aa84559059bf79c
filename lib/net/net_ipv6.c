/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: IPv6 (RFC 8200) for a host.
 *
 * We listen to our unicast addresses (including the link-local one), to
 * their solicited-node groups and to all-nodes (ff02::1); other multicast
 * goes to the kernel, unicast for others is dropped. UDP, ICMPv6 and a
 * Fragment header directly after the fixed header are handled (that is
 * what rte_ip_frag reassembles); any other extension header chain goes
 * to the kernel untouched.
 */
#include "net_priv.h"

static bool
ip6_is_our_group(const struct spl_net *net, const uint8_t *a)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	uint8_t sn[16];

	if (memcmp(a, all_nodes, 16) == 0)
		return true;
	for (unsigned i = 0; i < net->n_ip6; i++) {
		net_ip6_solicited_node(sn, net->ip6[i].addr);
		if (memcmp(a, sn, 16) == 0)
			return true;
	}
	return false;
}

/* RFC 6946: offset 0 and no more fragments is a whole datagram with a
 * Fragment header; rte_ip_frag would wait for the rest forever. */
static bool
ip6_is_atomic_fragment(const struct rte_ipv6_fragment_ext *fh)
{
	return (rte_be_to_cpu_16(fh->frag_data) & RTE_IPV6_FRAG_USED_MASK) == 0;
}

static void
ip6_strip_frag_hdr(struct rte_mbuf *m, struct rte_ipv6_hdr *ip)
{
	struct rte_ipv6_fragment_ext *fh = (struct rte_ipv6_fragment_ext *)(ip + 1);
	uint32_t move = m->l2_len + sizeof(*ip);

	ip->proto = fh->next_header;
	ip->payload_len = rte_cpu_to_be_16(rte_be_to_cpu_16(ip->payload_len) - sizeof(*fh));
	memmove(rte_pktmbuf_mtod_offset(m, char *, sizeof(*fh)), rte_pktmbuf_mtod(m, char *), move);
	rte_pktmbuf_adj(m, sizeof(*fh));
}

void
net_ipv6_input(struct spl_net *net, struct net_rx *rx)
{
	struct rte_mbuf *m = rx->m;
	struct rte_ipv6_hdr *ip;
	struct net_l3 l3;
	uint32_t l2 = m->l2_len, plen;
	bool mcast = false;

	NET_STAT(net, RX_IPV6);
	if (unlikely(m->data_len < l2 + sizeof(*ip))) {
		NET_DROP(net, m, IP6_TRUNCATED);
		return;
	}
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, l2);
	if (unlikely((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)) {
		NET_DROP(net, m, IP6_BAD_VERSION);
		return;
	}
	plen = rte_be_to_cpu_16(ip->payload_len);
	if (unlikely(m->pkt_len < l2 + sizeof(*ip) + plen)) {
		NET_DROP(net, m, IP6_TRUNCATED);
		return;
	}
	net_trim_to(m, l2 + sizeof(*ip) + plen);

	if (!net_ip6_is_ours(net, ip->dst_addr)) {
		if (net_ip6_is_mcast(ip->dst_addr)) {
			if (!ip6_is_our_group(net, ip->dst_addr)) {
				net_exception(net, rx);
				return;
			}
			mcast = true;
		} else if (net->cfg.foreign_to_exception) {
			net_exception(net, rx);
			return;
		} else {
			NET_DROP(net, m, IP_NOT_FOR_US);
			return;
		}
	}
	if (unlikely(net_ip6_is_mcast(ip->src_addr))) {
		NET_DROP(net, m, IP6_BAD_SRC);
		return;
	}
	if (unlikely(ip->hop_limits == 0)) {
		NET_DROP(net, m, IP6_HOP_LIMIT);
		return;
	}
	m->l3_len = sizeof(*ip);

	if (ip->proto == NET_IPPROTO_FRAG6) {
		struct rte_ipv6_fragment_ext *fh;

		if (unlikely(plen < sizeof(*fh) ||
			     m->data_len < l2 + sizeof(*ip) + sizeof(*fh))) {
			NET_DROP(net, m, IP6_TRUNCATED);
			return;
		}
		fh = (struct rte_ipv6_fragment_ext *)(ip + 1);
		if (ip6_is_atomic_fragment(fh)) {
			ip6_strip_frag_hdr(m, ip);
			ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, l2);
		} else {
			if (fh->next_header != IPPROTO_UDP || mcast) {
				net_exception(net, rx);
				return;
			}
			m->l3_len = sizeof(*ip) + sizeof(*fh);
			m = net_frag_reassemble6(net, m, ip, fh);
			if (m == NULL)
				return;
			rx->m = m;
			rx->reasm = true;
			m->l3_len = sizeof(*ip);   /* the Fragment header is gone */
			ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, m->l2_len);
		}
		plen = rte_be_to_cpu_16(ip->payload_len);
	}

	spl_net_addr_set_v6(&l3.src, ip->src_addr);
	spl_net_addr_set_v6(&l3.dst, ip->dst_addr);
	l3.l4_off = m->l2_len + sizeof(*ip);
	l3.l4_len = plen;
	l3.proto = ip->proto;
	l3.hop = ip->hop_limits;
	l3.dst_mcast = mcast;

	switch (l3.proto) {
	case IPPROTO_UDP:
		net_udp_input(net, rx, &l3);
		break;
	case NET_IPPROTO_ICMPV6:
		net_icmp6_input(net, rx, &l3);
		break;
	default:
		net_exception(net, rx);
		break;
	}
}

static int
ip6_prefix_match(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, b, bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	return ((a[bytes] ^ b[bytes]) & (0xff00 >> bits)) == 0;
}

static bool
ip6_on_link(const struct spl_net *net, const uint8_t *dst)
{
	if (net_ip6_is_linklocal(dst))
		return true;
	for (unsigned i = 0; i < net->n_ip6; i++)
		if (!net_ip6_is_linklocal(net->ip6[i].addr) &&
		    ip6_prefix_match(dst, net->ip6[i].addr, net->ip6[i].plen))
			return true;
	return false;
}

/* Link-local for link-local and multicast destinations; else a global
 * address on dst's prefix, else the first global, else link-local. */
const uint8_t *
net_ipv6_select_src(const struct spl_net *net, const uint8_t *dst)
{
	const uint8_t *ll = NULL, *global = NULL;

	for (unsigned i = 0; i < net->n_ip6; i++) {
		const uint8_t *a = net->ip6[i].addr;
		if (net_ip6_is_linklocal(a)) {
			if (ll == NULL)
				ll = a;
			continue;
		}
		if (ip6_prefix_match(dst, a, net->ip6[i].plen))
			return a;
		if (global == NULL)
			global = a;
	}
	if (net_ip6_is_linklocal(dst) || (net_ip6_is_mcast(dst) && dst[1] == 0x02))
		return ll != NULL ? ll : global;
	return global != NULL ? global : ll;
}

int
net_ipv6_output(struct spl_net *net, struct rte_mbuf *m, const uint8_t *src,
		const uint8_t *dst, uint8_t proto, uint8_t hop_limit,
		const struct rte_ether_addr *mac, bool tagged)
{
	struct rte_ipv6_hdr *ip;
	uint32_t plen = m->pkt_len;
	struct rte_ether_addr mmac;
	const uint8_t *nh;

	if (unlikely(plen > UINT16_MAX)) {
		NET_DROP(net, m, TOO_BIG);
		return -EMSGSIZE;
	}
	ip = (struct rte_ipv6_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));
	if (unlikely(ip == NULL)) {
		NET_DROP(net, m, NO_HEADROOM);
		return -ENOBUFS;
	}
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)plen);
	ip->proto = proto;
	ip->hop_limits = hop_limit;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	m->l3_len = sizeof(*ip);
	if (m->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM)
		m->ol_flags |= RTE_MBUF_F_TX_IPV6;

	if (mac != NULL)
		return net_l3_xmit(net, m, AF_INET6, mac, tagged);

	if (net_ip6_is_mcast(dst)) {
		net_eth_mcast_mac6(&mmac, dst);
		return net_l3_xmit(net, m, AF_INET6, &mmac, net->cfg.vlan_id != 0);
	}
	if (ip6_on_link(net, dst)) {
		nh = dst;
	} else if (net->has_gw6) {
		nh = net->gw6;
	} else {
		NET_DROP(net, m, NO_ROUTE);
		return -ENETUNREACH;
	}
	return net_neigh_output(net, m, AF_INET6, nh);
}
