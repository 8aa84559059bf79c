/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: ICMP and ICMPv6 echo. An echo request to one of our unicast
 * addresses is turned around in place: only the type changes, so the
 * checksum is adjusted incrementally (RFC 1624) rather than recomputed
 * over the payload. The reply goes back to the MAC the request came from,
 * without a neighbor lookup. Every other ICMP message (errors, router
 * advertisements, MLD, ...) is the kernel's business; NS and NA go to
 * net_nd.c.
 */
#include <rte_icmp.h>

#include "net_priv.h"

/* The first 16-bit word of an ICMP header, type and code, as in memory. */
static inline uint16_t
icmp_word(uint8_t type, uint8_t code)
{
	uint8_t b[2] = { type, code };
	uint16_t w;
	memcpy(&w, b, 2);
	return w;
}

void
net_icmp4_input(struct spl_net *net, struct net_rx *rx, const struct net_l3 *l3)
{
	struct rte_mbuf *m = rx->m;
	struct rte_icmp_hdr *ih;
	rte_be32_t src, dst;

	NET_STAT(net, RX_ICMP);
	if (unlikely(l3->l4_len < sizeof(*ih) || m->data_len < l3->l4_off + sizeof(*ih))) {
		NET_DROP(net, m, ICMP_BAD);
		return;
	}
	ih = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, l3->l4_off);
	if (ih->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ih->icmp_code != 0) {
		net_exception(net, rx);
		return;
	}
	if (net_cksum_fold(net_cksum_mbuf(m, l3->l4_off, l3->l4_len, 0)) != 0xffff) {
		NET_DROP(net, m, ICMP_BAD);
		return;
	}
	NET_STAT(net, ICMP_ECHO_IN);
	ih->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ih->icmp_cksum = net_cksum_adjust(ih->icmp_cksum, icmp_word(RTE_IP_ICMP_ECHO_REQUEST, 0),
					  icmp_word(RTE_IP_ICMP_ECHO_REPLY, 0));
	memcpy(&src, l3->dst.addr, 4);
	memcpy(&dst, l3->src.addr, 4);
	rte_pktmbuf_adj(m, l3->l4_off);
	net_reuse_for_tx(m);
	net_ipv4_output(net, m, src, dst, IPPROTO_ICMP, &rx->src_mac, rx->tagged);
}

void
net_icmp6_input(struct spl_net *net, struct net_rx *rx, const struct net_l3 *l3)
{
	struct rte_mbuf *m = rx->m;
	struct rte_icmp_hdr *ih;   /* same first 8 bytes as an ICMPv6 echo */
	uint8_t type;

	NET_STAT(net, RX_ICMP6);
	if (unlikely(l3->l4_len < 4 || m->data_len < l3->l4_off + 4)) {
		NET_DROP(net, m, ICMP6_BAD);
		return;
	}
	type = *rte_pktmbuf_mtod_offset(m, const uint8_t *, l3->l4_off);
	if (type != NET_ICMP6_ECHO_REQUEST && type != NET_ND_NS && type != NET_ND_NA) {
		net_exception(net, rx);
		return;
	}
	if (type == NET_ICMP6_ECHO_REQUEST && l3->dst_mcast) {
		/* Ping to all-nodes: the kernel answers that one. */
		net_exception(net, rx);
		return;
	}
	if (net_cksum_fold(net_cksum_mbuf(m, l3->l4_off, l3->l4_len,
					  net_cksum_phdr6(l3->src.addr, l3->dst.addr,
							  NET_IPPROTO_ICMPV6, l3->l4_len))) != 0xffff) {
		NET_DROP(net, m, ICMP6_BAD);
		return;
	}
	if (type == NET_ND_NS) {
		net_nd_ns_input(net, rx, l3);
		return;
	}
	if (type == NET_ND_NA) {
		net_nd_na_input(net, rx, l3);
		return;
	}
	if (unlikely(l3->l4_len < sizeof(*ih) || m->data_len < l3->l4_off + sizeof(*ih))) {
		NET_DROP(net, m, ICMP6_BAD);
		return;
	}
	ih = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, l3->l4_off);
	if (ih->icmp_code != 0) {
		NET_DROP(net, m, ICMP6_BAD);
		return;
	}
	NET_STAT(net, ICMP6_ECHO_IN);
	/* Source and destination swap: the pseudo-header sum is unchanged. */
	ih->icmp_type = NET_ICMP6_ECHO_REPLY;
	ih->icmp_cksum = net_cksum_adjust(ih->icmp_cksum, icmp_word(NET_ICMP6_ECHO_REQUEST, 0),
					  icmp_word(NET_ICMP6_ECHO_REPLY, 0));
	rte_pktmbuf_adj(m, l3->l4_off);
	net_reuse_for_tx(m);
	net_ipv6_output(net, m, l3->dst.addr, l3->src.addr, NET_IPPROTO_ICMPV6,
			net->cfg.hop_limit, &rx->src_mac, rx->tagged);
}
