/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: the shard's TX buffer. Everything the stack sends is appended
 * here and handed to the device once per loop turn (spl_net_tx_flush), or
 * earlier when the buffer fills.
 */
#include <rte_ethdev.h>

#include "net_priv.h"

uint16_t
spl_net_tx_flush(struct spl_net *net)
{
	uint16_t n = net->n_tx, sent;

	if (n == 0)
		return 0;
	net->n_tx = 0;
	if (net->cfg.tx_fn != NULL)
		sent = net->cfg.tx_fn(net->cfg.tx_arg, net->tx, n);
	else
		sent = rte_eth_tx_burst(net->cfg.port_id, net->cfg.queue_id, net->tx, n);
	for (uint16_t i = 0; i < sent; i++)
		NET_STAT_ADD(net, TX_BYTES, net->tx[i]->pkt_len);
	NET_STAT_ADD(net, TX_PKTS, sent);
	if (unlikely(sent < n)) {
		/* Like rte_eth_tx_buffer's default: a full ring drops, counted. */
		NET_DROPS(net, TX_FULL, n - sent);
		rte_pktmbuf_free_bulk(&net->tx[sent], n - sent);
	}
	return sent;
}

void
net_tx_enqueue(struct spl_net *net, struct rte_mbuf *m)
{
	if (unlikely(net->n_tx == SPL_NET_TX_BUF))
		spl_net_tx_flush(net);
	if (m->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM))
		NET_STAT(net, TX_CKSUM_OFFLOAD);
	net->tx[net->n_tx++] = m;
}

uint16_t
spl_net_exception_tx(struct spl_net *net, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		net_tx_enqueue(net, pkts[i]);
		NET_STAT(net, TX_EXCEPTION);
	}
	return n;
}

int
net_l3_xmit(struct spl_net *net, struct rte_mbuf *m, uint8_t family,
	    const struct rte_ether_addr *mac, bool tagged)
{
	if (m->pkt_len > net->cfg.mtu)
		return net_frag_output(net, m, family, mac, tagged);
	return net_eth_output(net, m,
			      family == AF_INET ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6,
			      mac, tagged);
}

void
net_trim_to(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *seg = m;
	uint32_t left = len;

	if (m->pkt_len <= len)
		return;
	while (seg->data_len < left) {
		left -= seg->data_len;
		seg = seg->next;
	}
	seg->data_len = (uint16_t)left;
	if (seg->next != NULL) {
		struct rte_mbuf *rest = seg->next;
		uint16_t nseg = 0;
		for (struct rte_mbuf *s = rest; s != NULL; s = s->next)
			nseg++;
		seg->next = NULL;
		m->nb_segs -= nseg;
		/* rest is a tail of segments, not a packet: free one by one. */
		while (rest != NULL) {
			struct rte_mbuf *next = rest->next;
			rest->next = NULL;
			rte_pktmbuf_free_seg(rest);
			rest = next;
		}
	}
	m->pkt_len = len;
}
