/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: Ethernet and 802.1Q. We accept untagged frames and frames of
 * our one VLAN (tag in the frame, or stripped by the NIC into vlan_tci);
 * a reply leaves tagged exactly when its request arrived tagged, and what
 * we originate is tagged whenever a VLAN is configured.
 */
#include "net_priv.h"

void
net_eth_input(struct spl_net *net, struct net_rx *rx)
{
	struct rte_mbuf *m = rx->m;
	const struct rte_ether_hdr *eh;
	uint16_t type, l2_len = RTE_ETHER_HDR_LEN;

	if (unlikely(m->data_len < RTE_ETHER_HDR_LEN)) {
		NET_DROP(net, m, L2_SHORT);
		return;
	}
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (rte_is_unicast_ether_addr(&eh->dst_addr) &&
	    !rte_is_same_ether_addr(&eh->dst_addr, &net->cfg.mac)) {
		NET_DROP(net, m, L2_NOT_FOR_US);
		return;
	}
	rte_ether_addr_copy(&eh->src_addr, &rx->src_mac);
	type = rte_be_to_cpu_16(eh->ether_type);

	if (type == NET_ETHER_TYPE_VLAN) {
		const struct rte_vlan_hdr *vh;
		uint16_t vid;

		if (unlikely(m->data_len < RTE_ETHER_HDR_LEN + sizeof(*vh))) {
			NET_DROP(net, m, L2_SHORT);
			return;
		}
		vh = (const struct rte_vlan_hdr *)(eh + 1);
		vid = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		/* VID 0 is a priority tag: the frame is untagged for us. */
		if (vid != 0) {
			if (vid != net->cfg.vlan_id) {
				NET_DROP(net, m, VLAN_MISMATCH);
				return;
			}
			rx->tagged = true;
		}
		type = rte_be_to_cpu_16(vh->eth_proto);
		l2_len += sizeof(*vh);
		if (type == NET_ETHER_TYPE_VLAN || type == NET_ETHER_TYPE_QINQ) {
			NET_DROP(net, m, VLAN_MISMATCH);
			return;
		}
	} else if (type == NET_ETHER_TYPE_QINQ) {
		NET_DROP(net, m, VLAN_MISMATCH);
		return;
	} else if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		uint16_t vid = m->vlan_tci & 0xfff;
		if (vid != 0) {
			if (vid != net->cfg.vlan_id) {
				NET_DROP(net, m, VLAN_MISMATCH);
				return;
			}
			rx->tagged = true;
		}
	}
	if (rx->tagged)
		NET_STAT(net, RX_VLAN);
	m->l2_len = l2_len;

	switch (type) {
	case RTE_ETHER_TYPE_ARP:
		net_arp_input(net, rx);
		break;
	case RTE_ETHER_TYPE_IPV4:
		net_ipv4_input(net, rx);
		break;
	case RTE_ETHER_TYPE_IPV6:
		net_ipv6_input(net, rx);
		break;
	default:
		/* LLDP, LACP, whatever the kernel makes of it. */
		net_exception(net, rx);
		break;
	}
}

int
net_eth_output(struct spl_net *net, struct rte_mbuf *m, uint16_t ether_type,
	       const struct rte_ether_addr *dst, bool tagged)
{
	struct rte_ether_hdr *eh;
	bool insert_tag = tagged &&
		!(net->cfg.tx_offloads & RTE_ETH_TX_OFFLOAD_VLAN_INSERT);
	uint16_t len = RTE_ETHER_HDR_LEN + (insert_tag ? sizeof(struct rte_vlan_hdr) : 0);

	eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, len);
	if (unlikely(eh == NULL)) {
		NET_DROP(net, m, NO_HEADROOM);
		return -ENOBUFS;
	}
	rte_ether_addr_copy(dst, &eh->dst_addr);
	rte_ether_addr_copy(&net->cfg.mac, &eh->src_addr);
	if (insert_tag) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eh + 1);
		eh->ether_type = rte_cpu_to_be_16(NET_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(net->cfg.vlan_id);
		vh->eth_proto = rte_cpu_to_be_16(ether_type);
	} else {
		eh->ether_type = rte_cpu_to_be_16(ether_type);
		if (tagged) {
			m->ol_flags |= RTE_MBUF_F_TX_VLAN;
			m->vlan_tci = net->cfg.vlan_id;
		}
	}
	m->l2_len = len;
	net_tx_enqueue(net, m);
	return 0;
}

/* RFC 1112 6.4: 01:00:5e + low 23 bits. */
void
net_eth_mcast_mac4(struct rte_ether_addr *mac, rte_be32_t ip)
{
	const uint8_t *b = (const uint8_t *)&ip;
	mac->addr_bytes[0] = 0x01;
	mac->addr_bytes[1] = 0x00;
	mac->addr_bytes[2] = 0x5e;
	mac->addr_bytes[3] = b[1] & 0x7f;
	mac->addr_bytes[4] = b[2];
	mac->addr_bytes[5] = b[3];
}

/* RFC 2464 7: 33:33 + low 32 bits. */
void
net_eth_mcast_mac6(struct rte_ether_addr *mac, const uint8_t *ip6)
{
	mac->addr_bytes[0] = 0x33;
	mac->addr_bytes[1] = 0x33;
	memcpy(&mac->addr_bytes[2], ip6 + 12, 4);
}
