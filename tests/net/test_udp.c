/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP receive classification and the send path (IPv4 mostly). */
#include <errno.h>
#include <string.h>

#include "net_test.h"

TestSuite(udp, .init = tn_setup, .fini = tn_teardown);

static const char SIP[] = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2\r\n\r\n";

static void
udp4(struct pkt *p, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	pk_eth(p, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(p, src, dst, 17);
	pk_udp(p, sport, dport);
	pk_put(p, SIP, sizeof(SIP) - 1);
	pk_fin(p);
}

Test(udp, sip_datagram_delivered_with_payload_and_addresses)
{
	struct pkt p;
	const struct spl_net_dgram *d;

	udp4(&p, PEER_IP, OUR_IP_B, 40000, 5060);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 1);
	cr_assert_eq(T.res.n_exc, 0);
	d = &T.res.sip[0];
	cr_assert_eq(d->len, sizeof(SIP) - 1);
	cr_assert_arr_eq(d->payload, SIP, sizeof(SIP) - 1);
	/* The mbuf is trimmed to the payload, one segment. */
	cr_assert_eq(d->m->nb_segs, 1);
	cr_assert_eq(d->m->pkt_len, d->len);
	cr_assert_eq((const void *)rte_pktmbuf_mtod(d->m, char *), (const void *)d->payload);
	cr_assert_eq(d->src.family, AF_INET);
	cr_assert_arr_eq(d->src.addr, PEER_IP, 4);
	cr_assert_arr_eq(d->dst.addr, OUR_IP_B, 4);
	cr_assert_eq(d->src_port, 40000);
	cr_assert_eq(d->dst_port, 5060);
	cr_assert_eq(tn_stat(SPL_NET_STAT_RX_SIP), 1);
	cr_assert_eq(T.n_tx, 0);
}

static void two_ports(struct spl_net_config *c)
{
	c->n_sip_ports = 2;
	c->sip_ports[1] = 5080;
}

Test(udp, every_configured_sip_port_delivers)
{
	struct pkt p;

	tn_reconfig(two_ports);
	udp4(&p, PEER_IP, OUR_IP, 1, 5080);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 1);
	udp4(&p, PEER_IP, OUR_IP, 1, 5081);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 0);
	cr_assert_eq(T.res.n_exc, 1);
}

Test(udp, other_port_goes_to_kernel_unchanged)
{
	struct pkt p;

	udp4(&p, PEER_IP, OUR_IP, 40000, 53);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 0);
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(T.res.exc[0]->pkt_len, p.len);
	cr_assert_arr_eq(rte_pktmbuf_mtod(T.res.exc[0], uint8_t *), p.b, p.len);
	cr_assert_eq(tn_stat(SPL_NET_STAT_RX_EXCEPTION), 1);
}

Test(udp, bad_checksum_dropped)
{
	struct pkt p;

	udp4(&p, PEER_IP, OUR_IP, 40000, 5060);
	p.b[p.len - 3] ^= 0x20;
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 0);
	cr_assert_eq(tn_drop(SPL_NET_DROP_UDP_BAD_CKSUM), 1);
}

Test(udp, zero_checksum_over_ipv4_accepted)
{
	struct pkt p;

	udp4(&p, PEER_IP, OUR_IP, 40000, 5060);
	wr16(p.b + p.l4 + 6, 0);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 1);
}

Test(udp, rx_l4_checksum_flags_are_trusted)
{
	struct pkt p;
	struct rte_mbuf *m;

	udp4(&p, PEER_IP, OUR_IP, 40000, 5060);
	p.b[p.len - 3] ^= 0x20;
	m = pk_mbuf(&p);
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	tn_rx1(m);
	cr_assert_eq(T.res.n_sip, 1);

	udp4(&p, PEER_IP, OUR_IP, 40000, 5060);
	m = pk_mbuf(&p);
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
	tn_rx1(m);
	cr_assert_eq(T.res.n_sip, 0);
	cr_assert_eq(tn_drop(SPL_NET_DROP_UDP_BAD_CKSUM), 1);
}

Test(udp, bad_length_dropped)
{
	struct pkt p;

	udp4(&p, PEER_IP, OUR_IP, 40000, 5060);
	wr16(p.b + p.l4 + 4, (uint16_t)(p.len - p.l4 + 1));
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_UDP_BAD_LEN), 1);

	udp4(&p, PEER_IP, OUR_IP, 40000, 5060);
	wr16(p.b + p.l4 + 4, 7);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_UDP_BAD_LEN), 2);
}

Test(udp, bytes_after_udp_length_ignored)
{
	struct pkt p;
	const size_t extra = 5;

	/* UDP says 8 + 10 bytes; IP carries 5 more (allowed, RFC 768). */
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(&p, PEER_IP, OUR_IP, 17);
	pk_udp(&p, 40000, 5060);
	pk_put(&p, "0123456789", 10);
	pk_fin(&p);
	pk_fill(&p, extra);
	wr16(p.b + p.l3 + 2, (uint16_t)(p.len - p.l3));
	pk_ip4_recsum(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 1);
	cr_assert_eq(T.res.sip[0].len, 10);
	cr_assert_arr_eq(T.res.sip[0].payload, "0123456789", 10);
}

Test(udp, mixed_burst_is_classified)
{
	struct pkt p;
	struct rte_mbuf *m[5];

	udp4(&p, PEER_IP, OUR_IP, 1, 5060);
	m[0] = pk_mbuf(&p);
	udp4(&p, PEER_IP, OUR_IP, 1, 22);
	m[1] = pk_mbuf(&p);
	udp4(&p, PEER_IP, OTHER_IP, 1, 5060);
	m[2] = pk_mbuf(&p);
	pk_eth(&p, BCAST_MAC, PEER_MAC, 0x0806, 0);
	pk_arp(&p, 1, PEER_MAC, PEER_IP, (const uint8_t[6]){ 0 }, OUR_IP);
	m[3] = pk_mbuf(&p);
	udp4(&p, PEER_IP, OUR_IP, 2, 5060);
	m[4] = pk_mbuf(&p);
	tn_rx(m, 5);
	cr_assert_eq(T.res.n_sip, 2);
	cr_assert_eq(T.res.sip[0].src_port, 1);
	cr_assert_eq(T.res.sip[1].src_port, 2);
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(tn_drop(SPL_NET_DROP_IP_NOT_FOR_US), 1);
	cr_assert_eq(T.n_tx, 1, "ARP reply");
	cr_assert_eq(tn_stat(SPL_NET_STAT_RX_PKTS), 5);
}

/* ------------------------------------------------------------------ */
/* Send                                                                */

static int
send4(const uint8_t *ip, const char *text)
{
	struct spl_net_addr dst;
	spl_net_addr_set_v4(&dst, ip);
	return spl_net_udp_send(T.net, NULL, &dst, 5060, 5070, text, (uint32_t)strlen(text));
}

/* Checks frame i is our UDP/IPv4 datagram to dst_mac/dst_ip with text. */
static void
check_udp4(unsigned i, const uint8_t *dst_mac, const uint8_t *src_ip, const uint8_t *dst_ip,
	   const char *text)
{
	uint8_t f[2048];
	size_t n = tn_tx_bytes(i, f, sizeof(f)), len = strlen(text);
	const uint8_t *ip = f + 14, *u = f + 34;

	cr_assert_eq(n, 14 + 20 + 8 + len);
	cr_assert_arr_eq(f, dst_mac, 6);
	cr_assert_arr_eq(f + 6, OUR_MAC, 6);
	cr_assert_eq(rd16(f + 12), 0x0800);
	cr_assert_eq(ip[0], 0x45);
	cr_assert_eq(rd16(ip + 2), 20 + 8 + len);
	cr_assert_eq(rd16(ip + 6), 0, "no DF, no fragment");
	cr_assert_eq(ip[8], 64);
	cr_assert_eq(ip[9], 17);
	cr_assert_arr_eq(ip + 12, src_ip, 4);
	cr_assert_arr_eq(ip + 16, dst_ip, 4);
	cr_assert(ref_ip4_ok(ip), "IPv4 header checksum");
	cr_assert_eq(rd16(u), 5060);
	cr_assert_eq(rd16(u + 2), 5070);
	cr_assert_eq(rd16(u + 4), 8 + len);
	cr_assert_neq(rd16(u + 6), 0);
	cr_assert(ref_l4_ok(4, ip, u, 8 + len, 17), "UDP checksum");
	cr_assert_arr_eq(u + 8, text, len);
}

Test(udp, send_to_resolved_peer)
{
	uint64_t sent;

	tn_learn_peer();
	sent = tn_stat(SPL_NET_STAT_TX_PKTS);
	cr_assert_eq(send4(PEER_IP, SIP), 0);
	tn_flush();
	cr_assert_eq(T.n_tx, 1);
	check_udp4(0, PEER_MAC, OUR_IP, PEER_IP, SIP);
	cr_assert_eq(T.tx[0]->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM), 0);
	cr_assert_eq(tn_stat(SPL_NET_STAT_TX_UDP4), 1);
	cr_assert_eq(tn_stat(SPL_NET_STAT_TX_PKTS), sent + 1);
}

Test(udp, send_odd_and_empty_payloads)
{
	tn_learn_peer();
	cr_assert_eq(send4(PEER_IP, "abc"), 0);
	cr_assert_eq(send4(PEER_IP, ""), 0);
	tn_flush();
	cr_assert_eq(T.n_tx, 2);
	check_udp4(0, PEER_MAC, OUR_IP, PEER_IP, "abc");
	check_udp4(1, PEER_MAC, OUR_IP, PEER_IP, "");
}

Test(udp, source_address_follows_destination_subnet)
{
	static const uint8_t on_b[4] = { 198, 51, 100, 7 };
	struct spl_net_addr dst, src;
	uint8_t f[2048];

	spl_net_addr_set_v4(&dst, on_b);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 1, 2, "x", 1), -EAGAIN);
	tn_flush();
	tn_tx_bytes(0, f, sizeof(f));
	cr_assert_arr_eq(f + 28, OUR_IP_B, 4, "ARP from the address on that subnet");
	tn_tx_clear();

	/* An explicit source wins; a source of the wrong family is refused. */
	tn_learn_peer();
	spl_net_addr_set_v4(&src, OUR_IP_B);
	spl_net_addr_set_v4(&dst, PEER_IP);
	cr_assert_eq(spl_net_udp_send(T.net, &src, &dst, 5060, 5070, "y", 1), 0);
	tn_flush();
	check_udp4(0, PEER_MAC, OUR_IP_B, PEER_IP, "y");
	spl_net_addr_set_v6(&src, OUR_IP6);
	cr_assert_eq(spl_net_udp_send(T.net, &src, &dst, 5060, 5070, "y", 1), -EINVAL);
}

static void offloads(struct spl_net_config *c)
{
	c->tx_offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
}

Test(udp, tx_checksum_offload_flags)
{
	struct spl_net_addr dst;
	struct rte_mbuf *m;
	uint8_t f[2048];
	uint32_t ph;

	tn_reconfig(offloads);
	tn_learn_peer();
	cr_assert_eq(send4(PEER_IP, "offload"), 0);
	tn_flush();
	cr_assert_eq(T.n_tx, 1);
	m = T.tx[0];
	cr_assert_eq(m->ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM),
		     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
	cr_assert_eq(m->l2_len, 14);
	cr_assert_eq(m->l3_len, 20);
	cr_assert_eq(m->l4_len, 8);
	tn_tx_bytes(0, f, sizeof(f));
	cr_assert_eq(rd16(f + 14 + 10), 0, "IP checksum left to the NIC");
	/* The UDP field holds the pseudo-header sum (not complemented). */
	ph = ref_sum(f + 14 + 12, 8, 0) + 17 + 15;
	cr_assert_eq(rd16(f + 34 + 6), (uint16_t)~ref_fold(ph));
	cr_assert_eq(tn_stat(SPL_NET_STAT_TX_CKSUM_OFFLOAD), 1);
	tn_tx_clear();

	spl_net_addr_set_v6(&dst, PEER_IP6);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 5060, 5070, "v6", 2), 0);
	tn_flush();
	m = T.tx[0];
	cr_assert_eq(m->ol_flags & (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_IP_CKSUM),
		     RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM);
	cr_assert_eq(m->l3_len, 40);
}

Test(udp, send_mbuf_prepends_in_place)
{
	struct spl_net_addr dst;
	struct rte_mbuf *m;
	char *d;

	tn_learn_peer();
	spl_net_addr_set_v4(&dst, PEER_IP);
	m = rte_pktmbuf_alloc(T.pool);
	d = rte_pktmbuf_append(m, 7);
	memcpy(d, "payload", 7);
	cr_assert_eq(spl_net_udp_send_mbuf(T.net, NULL, &dst, 5060, 5070, m), 0);
	tn_flush();
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(T.tx[0], m, "same mbuf, headers in its headroom");
	check_udp4(0, PEER_MAC, OUR_IP, PEER_IP, "payload");

	/* Not enough headroom: refused, consumed, counted. */
	m = rte_pktmbuf_alloc(T.pool);
	rte_pktmbuf_prepend(m, RTE_PKTMBUF_HEADROOM - 10);
	cr_assert_eq(spl_net_udp_send_mbuf(T.net, NULL, &dst, 5060, 5070, m), -ENOBUFS);
	cr_assert_eq(tn_drop(SPL_NET_DROP_NO_HEADROOM), 1);
}

Test(udp, off_subnet_goes_through_gateway)
{
	struct pkt p;
	uint8_t f[2048];

	cr_assert_eq(send4(FAR_IP, "far"), -EAGAIN);
	tn_flush();
	cr_assert_eq(T.n_tx, 1);
	tn_tx_bytes(0, f, sizeof(f));
	cr_assert_eq(rd16(f + 12), 0x0806);
	cr_assert_arr_eq(f + 38, GW_IP, 4, "ARP for the gateway");
	tn_tx_clear();
	pk_eth(&p, OUR_MAC, GW_MAC, 0x0806, 0);
	pk_arp(&p, 2, GW_MAC, GW_IP, OUR_MAC, OUR_IP);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	check_udp4(0, GW_MAC, OUR_IP, FAR_IP, "far");
}

static void no_gateway(struct spl_net_config *c)
{
	memset(c->gw4, 0, 4);
	memset(c->gw6, 0, 16);
}

Test(udp, no_route_without_gateway)
{
	struct spl_net_addr dst;

	tn_reconfig(no_gateway);
	cr_assert_eq(send4(FAR_IP, "x"), -ENETUNREACH);
	spl_net_addr_set_v6(&dst, FAR_IP6);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 1, 2, "x", 1), -ENETUNREACH);
	cr_assert_eq(tn_drop(SPL_NET_DROP_NO_ROUTE), 2);
	tn_flush();
	cr_assert_eq(T.n_tx, 0);
}

static void v4_only(struct spl_net_config *c) { c->n_ip6 = 0; }

Test(udp, no_source_address_for_family)
{
	struct spl_net_addr dst;

	tn_reconfig(v4_only);
	spl_net_addr_set_v6(&dst, PEER_IP6);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 1, 2, "x", 1), -EADDRNOTAVAIL);
	cr_assert_eq(tn_drop(SPL_NET_DROP_NO_SRC_ADDR), 1);
}

Test(udp, oversized_datagram_refused)
{
	static char big[65508];
	struct spl_net_addr dst;

	spl_net_addr_set_v4(&dst, PEER_IP);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 1, 2, big, sizeof(big)), -EMSGSIZE);
	cr_assert_eq(tn_drop(SPL_NET_DROP_TOO_BIG), 1);
}

Test(udp, broadcast_needs_no_resolution)
{
	static const uint8_t bc[4] = { 192, 0, 2, 255 };

	cr_assert_eq(send4(bc, "hi all"), 0);
	tn_flush();
	cr_assert_eq(T.n_tx, 1);
	check_udp4(0, BCAST_MAC, OUR_IP, bc, "hi all");
}
