/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: ARP (RFC 826) for Ethernet/IPv4.
 *
 * Requests for our addresses are answered in place. The sender of a
 * request for us, and of a reply addressed to us, is entered in the cache
 * (RFC 826 "merge": an existing entry is refreshed by any ARP from its
 * address, e.g. a gratuitous one). Replies are also reported as neighbor
 * events for the other shards, and with neigh_to_exception handed on to
 * the kernel, which may have asked.
 */
#include <rte_arp.h>

#include "net_priv.h"

void
net_arp_input(struct spl_net *net, struct net_rx *rx)
{
	struct rte_mbuf *m = rx->m;
	struct rte_arp_hdr *ah;
	struct rte_arp_ipv4 *a;
	struct rte_ether_addr sha;
	rte_be32_t sip, tip;
	uint16_t op;
	bool for_us;

	NET_STAT(net, RX_ARP);
	if (unlikely(m->data_len < m->l2_len + sizeof(*ah))) {
		NET_DROP(net, m, ARP_BAD);
		return;
	}
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, m->l2_len);
	if (ah->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4) {
		NET_DROP(net, m, ARP_BAD);
		return;
	}
	a = &ah->arp_data;
	rte_ether_addr_copy(&a->arp_sha, &sha);
	memcpy(&sip, &a->arp_sip, 4);
	memcpy(&tip, &a->arp_tip, 4);
	op = rte_be_to_cpu_16(ah->arp_opcode);
	if (!rte_is_unicast_ether_addr(&sha) || rte_is_zero_ether_addr(&sha)) {
		NET_DROP(net, m, ARP_BAD);
		return;
	}
	if (sip != 0 && net_ip4_is_ours(net, sip)) {
		/* Someone else claims our address (or a loop). Never learn it. */
		if (!rte_is_same_ether_addr(&sha, &net->cfg.mac))
			NET_DROP(net, m, ADDR_CONFLICT);
		else
			rte_pktmbuf_free(m);
		return;
	}
	for_us = net_ip4_is_ours(net, tip);

	/* Sender 0.0.0.0 is an RFC 5227 probe: answer, learn nothing. */
	if (sip != 0) {
		net_neigh_confirm(net, AF_INET, (const uint8_t *)&sip, &sha, for_us);
		if (for_us)
			net_neigh_event(net, rx, AF_INET, (const uint8_t *)&sip, &sha);
	}

	if (op == RTE_ARP_OP_REQUEST) {
		if (!for_us) {
			if (net->cfg.foreign_to_exception)
				net_exception(net, rx);
			else
				NET_DROP(net, m, ARP_NOT_FOR_US);
			return;
		}
		NET_STAT(net, ARP_REQ_IN);
		rte_pktmbuf_adj(m, m->l2_len);
		net_trim_to(m, sizeof(*ah));
		net_reuse_for_tx(m);
		ah = rte_pktmbuf_mtod(m, struct rte_arp_hdr *);
		a = &ah->arp_data;
		ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
		rte_ether_addr_copy(&sha, &a->arp_tha);
		memcpy(&a->arp_tip, &sip, 4);
		rte_ether_addr_copy(&net->cfg.mac, &a->arp_sha);
		memcpy(&a->arp_sip, &tip, 4);
		NET_STAT(net, ARP_REP_OUT);
		net_eth_output(net, m, RTE_ETHER_TYPE_ARP, &sha, rx->tagged);
		return;
	}
	if (op == RTE_ARP_OP_REPLY) {
		NET_STAT(net, ARP_REP_IN);
		if (net->cfg.neigh_to_exception)
			net_exception(net, rx);
		else
			rte_pktmbuf_free(m);
		return;
	}
	NET_DROP(net, m, ARP_BAD);
}

static void
arp_send(struct spl_net *net, uint16_t op, rte_be32_t sip, rte_be32_t tip,
	 const struct rte_ether_addr *dst)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	struct rte_mbuf *m = rte_pktmbuf_alloc(net->cfg.pool);
	struct rte_arp_hdr *ah;

	if (unlikely(m == NULL)) {
		NET_DROPS(net, NO_MBUF, 1);
		return;
	}
	ah = (struct rte_arp_hdr *)rte_pktmbuf_append(m, sizeof(*ah));
	if (unlikely(ah == NULL)) {
		NET_DROP(net, m, NO_HEADROOM);
		return;
	}
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&net->cfg.mac, &ah->arp_data.arp_sha);
	memcpy(&ah->arp_data.arp_sip, &sip, 4);
	/* Target MAC is ignored in a request; zero as RFC 5227 asks. */
	memset(&ah->arp_data.arp_tha, 0, sizeof(ah->arp_data.arp_tha));
	memcpy(&ah->arp_data.arp_tip, &tip, 4);
	net_eth_output(net, m, RTE_ETHER_TYPE_ARP, dst != NULL ? dst : &bcast,
		       net->cfg.vlan_id != 0);
}

void
net_arp_request(struct spl_net *net, rte_be32_t target, const struct rte_ether_addr *dst)
{
	NET_STAT(net, ARP_REQ_OUT);
	arp_send(net, RTE_ARP_OP_REQUEST, net_ipv4_select_src(net, target), target, dst);
}

/* RFC 5227 2.3 announcement: a request with sender = target = ours. */
void
net_arp_announce(struct spl_net *net)
{
	for (unsigned i = 0; i < net->n_ip4; i++) {
		NET_STAT(net, ARP_GARP_OUT);
		arp_send(net, RTE_ARP_OP_REQUEST, net->ip4[i].addr, net->ip4[i].addr, NULL);
	}
}
