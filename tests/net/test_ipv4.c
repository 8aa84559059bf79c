/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 validation, ICMP echo, Ethernet and VLAN handling. */
#include <errno.h>
#include <string.h>

#include "net_test.h"

TestSuite(ipv4, .init = tn_setup, .fini = tn_teardown);
TestSuite(icmp, .init = tn_setup, .fini = tn_teardown);
TestSuite(vlan, .init = tn_setup, .fini = tn_teardown);

static const char SIP[] = "OPTIONS sip:a@b SIP/2.0\r\n\r\n";

static void
udp4(struct pkt *p, const uint8_t *src, const uint8_t *dst, uint16_t dport)
{
	pk_eth(p, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(p, src, dst, 17);
	pk_udp(p, 40000, dport);
	pk_put(p, SIP, sizeof(SIP) - 1);
	pk_fin(p);
}

static void
expect_delivered(void)
{
	cr_assert_eq(T.res.n_sip, 1);
	cr_assert_eq(T.res.sip[0].len, sizeof(SIP) - 1);
	cr_assert_arr_eq(T.res.sip[0].payload, SIP, sizeof(SIP) - 1);
}

static void
expect_dropped(enum spl_net_drop why)
{
	cr_assert_eq(T.res.n_sip, 0);
	cr_assert_eq(T.res.n_exc, 0);
	cr_assert_eq(T.n_tx, 0);
	cr_assert_eq(tn_drop(why), 1, "%s: %lu", spl_net_drop_name(why),
		     (unsigned long)tn_drop(why));
	cr_assert_eq(spl_net_drops_total(spl_net_stats(T.net)), 1);
}

Test(ipv4, bad_header_checksum_dropped)
{
	struct pkt p;
	udp4(&p, PEER_IP, OUR_IP, 5060);
	p.b[p.l3 + 10] ^= 0x40;
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_IP4_BAD_CKSUM);
}

Test(ipv4, rx_checksum_offload_flags_are_trusted)
{
	struct pkt p;
	struct rte_mbuf *m;

	/* The NIC says good: no software check (the field is wrong here). */
	udp4(&p, PEER_IP, OUR_IP, 5060);
	p.b[p.l3 + 10] ^= 0x40;
	m = pk_mbuf(&p);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	tn_rx1(m);
	expect_delivered();

	/* The NIC says bad: dropped although the field is right. */
	udp4(&p, PEER_IP, OUR_IP, 5060);
	m = pk_mbuf(&p);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	tn_rx1(m);
	cr_assert_eq(T.res.n_sip, 0);
	cr_assert_eq(tn_drop(SPL_NET_DROP_IP4_BAD_CKSUM), 1);
}

Test(ipv4, bad_ihl_dropped)
{
	struct pkt p;
	udp4(&p, PEER_IP, OUR_IP, 5060);
	p.b[p.l3] = 0x44;
	pk_ip4_recsum(&p);
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_IP4_BAD_IHL);
}

Test(ipv4, bad_version_dropped)
{
	struct pkt p;
	udp4(&p, PEER_IP, OUR_IP, 5060);
	p.b[p.l3] = 0x65;
	pk_ip4_recsum(&p);
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_IP4_BAD_VERSION);
}

Test(ipv4, total_length_beyond_frame_dropped)
{
	struct pkt p;
	udp4(&p, PEER_IP, OUR_IP, 5060);
	p.len -= 4;          /* frame cut short, header claims more */
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_IP4_TRUNCATED);
}

Test(ipv4, frame_shorter_than_header_dropped)
{
	struct pkt p;
	udp4(&p, PEER_IP, OUR_IP, 5060);
	p.len = p.l3 + 12;
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_IP4_TRUNCATED);
}

Test(ipv4, ethernet_padding_is_trimmed)
{
	struct pkt p;
	static const char ka[] = "\r\n\r\n";

	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(&p, PEER_IP, OUR_IP, 17);
	pk_udp(&p, 40000, 5060);
	pk_put(&p, ka, 4);
	pk_fin(&p);
	memset(p.b + p.len, 0xee, 60 - p.len);   /* pad to the minimum frame */
	p.len = 60;
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 1);
	cr_assert_eq(T.res.sip[0].len, 4);
	cr_assert_eq(T.res.sip[0].m->pkt_len, 4);
	cr_assert_arr_eq(T.res.sip[0].payload, ka, 4);
}

Test(ipv4, ttl_zero_dropped_ttl_one_accepted)
{
	struct pkt p;

	udp4(&p, PEER_IP, OUR_IP, 5060);
	p.b[p.l3 + 8] = 0;
	pk_ip4_recsum(&p);
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_IP4_TTL);

	/* A host does not discard for TTL < 2 (RFC 1122 3.2.1.7). */
	udp4(&p, PEER_IP, OUR_IP, 5060);
	p.b[p.l3 + 8] = 1;
	pk_ip4_recsum(&p);
	tn_rx1(pk_mbuf(&p));
	expect_delivered();
}

Test(ipv4, options_are_skipped)
{
	struct pkt p;

	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4_opts(&p, PEER_IP, OUR_IP, 17, 7);
	pk_udp(&p, 40000, 5060);
	pk_put(&p, SIP, sizeof(SIP) - 1);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	expect_delivered();
	cr_assert_eq(T.res.sip[0].src_port, 40000);
}

Test(ipv4, unicast_for_another_host_dropped)
{
	struct pkt p;
	udp4(&p, PEER_IP, OTHER_IP, 5060);
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_IP_NOT_FOR_US);
}

Test(ipv4, broadcast_and_multicast_go_to_kernel)
{
	static const uint8_t dsts[][4] = {
		{ 192, 0, 2, 255 }, { 255, 255, 255, 255 }, { 224, 0, 0, 251 },
	};
	struct pkt p;

	for (unsigned i = 0; i < 3; i++) {
		udp4(&p, PEER_IP, dsts[i], 5060);
		tn_rx1(pk_mbuf(&p));
		cr_assert_eq(T.res.n_exc, 1, "dst %u", i);
		cr_assert_eq(T.res.n_sip, 0);
	}
}

Test(ipv4, frame_for_another_mac_dropped)
{
	struct pkt p;
	udp4(&p, PEER_IP, OUR_IP, 5060);
	memcpy(p.b, PEER2_MAC, 6);
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_L2_NOT_FOR_US);
}

Test(ipv4, martian_source_dropped)
{
	struct pkt p;
	udp4(&p, OUR_IP_B, OUR_IP, 5060);
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_IP4_BAD_SRC);
}

Test(ipv4, unknown_ethertype_to_kernel_unchanged)
{
	struct pkt p;
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x88cc, 0);   /* LLDP */
	pk_fill(&p, 46);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(T.res.exc[0]->pkt_len, p.len);
	cr_assert_arr_eq(rte_pktmbuf_mtod(T.res.exc[0], uint8_t *), p.b, p.len);
}

Test(ipv4, runt_frame_dropped)
{
	struct pkt p;
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 0);
	p.len = 10;
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_L2_SHORT);
}

/* ------------------------------------------------------------------ */
/* ICMP                                                                */

static void
ping4(struct pkt *p, const uint8_t *dst, size_t payload, unsigned ihl)
{
	pk_eth(p, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4_opts(p, PEER_IP, dst, 1, ihl);
	pk_icmp_echo(p, 8, 0x4242, 7, payload);
	pk_fin(p);
}

static void
check_echo_reply(const struct pkt *req, size_t eth_len)
{
	uint8_t f[2048];
	size_t n = tn_tx_bytes(0, f, sizeof(f));
	const uint8_t *ip = f + eth_len, *ic = ip + 20;
	size_t icmp_len = req->len - req->l4;

	cr_assert_eq(n, eth_len + 20 + icmp_len, "no IP options in the reply");
	cr_assert_arr_eq(f, PEER_MAC, 6);
	cr_assert_arr_eq(f + 6, OUR_MAC, 6);
	cr_assert_eq(ip[0], 0x45);
	cr_assert_eq(ip[8], 64);
	cr_assert_eq(ip[9], 1);
	cr_assert_arr_eq(ip + 12, req->b + req->l3 + 16, 4);   /* from the address pinged */
	cr_assert_arr_eq(ip + 16, PEER_IP, 4);
	cr_assert(ref_ip4_ok(ip));
	cr_assert_eq(ic[0], 0);
	cr_assert_eq(ic[1], 0);
	cr_assert_arr_eq(ic + 4, req->b + req->l4 + 4, icmp_len - 4, "id, seq, data echoed");
	cr_assert(ref_l4_ok(4, ip, ic, icmp_len, 1), "ICMP checksum");
}

Test(icmp, echo_request_gets_reply_with_valid_checksums)
{
	struct pkt p;

	ping4(&p, OUR_IP, 56, 5);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	check_echo_reply(&p, 14);
	cr_assert_eq(tn_stat(SPL_NET_STAT_ICMP_ECHO_IN), 1);
}

Test(icmp, echo_with_options_and_odd_length)
{
	struct pkt p;

	ping4(&p, OUR_IP_B, 33, 6);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	check_echo_reply(&p, 14);
}

Test(icmp, echo_checksum_edge_values)
{
	struct pkt p;

	/* Vary the sequence so the reply checksum passes through 0x0000 and
	 * 0xffff territory; every reply must verify. */
	for (unsigned seq = 0; seq < 300; seq++) {
		pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 0);
		pk_ip4(&p, PEER_IP, OUR_IP, 1);
		pk_icmp_echo(&p, 8, 0xf7ff, (uint16_t)(seq * 0x101), 0);
		pk_fin(&p);
		tn_rx1(pk_mbuf(&p));
		cr_assert_eq(T.n_tx, 1);
		check_echo_reply(&p, 14);
		tn_tx_clear();
	}
}

Test(icmp, bad_checksum_dropped)
{
	struct pkt p;
	ping4(&p, OUR_IP, 8, 5);
	p.b[p.l4 + 9] ^= 1;
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_ICMP_BAD);
}

Test(icmp, other_types_to_kernel)
{
	struct pkt p;
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(&p, PEER_IP, OUR_IP, 1);
	pk_icmp_echo(&p, 3, 0, 0, 28);   /* destination unreachable */
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(T.n_tx, 0);
}

Test(icmp, tcp_to_kernel)
{
	struct pkt p;
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(&p, PEER_IP, OUR_IP, 6);
	pk_fill(&p, 20);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_arr_eq(rte_pktmbuf_mtod(T.res.exc[0], uint8_t *), p.b, p.len);
}

/* ------------------------------------------------------------------ */
/* VLAN                                                                */

static void vlan100(struct spl_net_config *c) { c->vlan_id = 100; }
static void vlan100_offload(struct spl_net_config *c)
{
	c->vlan_id = 100;
	c->tx_offloads = RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
	c->rx_offloads = RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
}

Test(vlan, tagged_arp_request_gets_tagged_reply)
{
	struct pkt p;
	uint8_t f[2048];

	tn_reconfig(vlan100);
	pk_eth(&p, BCAST_MAC, PEER_MAC, 0x0806, 100);
	pk_arp(&p, 1, PEER_MAC, PEER_IP, (const uint8_t[6]){ 0 }, OUR_IP);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(tn_tx_bytes(0, f, sizeof(f)), 46);
	cr_assert_eq(rd16(f + 12), 0x8100);
	cr_assert_eq(rd16(f + 14) & 0xfff, 100);
	cr_assert_eq(rd16(f + 16), 0x0806);
	cr_assert_eq(rd16(f + 18 + 6), 2);
	cr_assert_eq(tn_stat(SPL_NET_STAT_RX_VLAN), 1);
}

Test(vlan, tagged_echo_gets_tagged_reply)
{
	struct pkt p;
	uint8_t f[2048];

	tn_reconfig(vlan100);
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 100);
	pk_ip4(&p, PEER_IP, OUR_IP, 1);
	pk_icmp_echo(&p, 8, 1, 1, 20);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	tn_tx_bytes(0, f, sizeof(f));
	cr_assert_eq(rd16(f + 12), 0x8100);
	cr_assert_eq(rd16(f + 14) & 0xfff, 100);
	check_echo_reply(&p, 18);
}

Test(vlan, untagged_accepted_and_answered_untagged)
{
	struct pkt p;
	uint8_t f[2048];

	tn_reconfig(vlan100);
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(&p, PEER_IP, OUR_IP, 1);
	pk_icmp_echo(&p, 8, 1, 1, 20);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	tn_tx_bytes(0, f, sizeof(f));
	cr_assert_eq(rd16(f + 12), 0x0800);
}

Test(vlan, other_vlan_dropped)
{
	struct pkt p;

	tn_reconfig(vlan100);
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 101);
	pk_ip4(&p, PEER_IP, OUR_IP, 17);
	pk_udp(&p, 1, 5060);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_VLAN_MISMATCH);
}

Test(vlan, tagged_frame_dropped_without_vlan_configured)
{
	struct pkt p;

	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 100);
	pk_ip4(&p, PEER_IP, OUR_IP, 17);
	pk_udp(&p, 1, 5060);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	expect_dropped(SPL_NET_DROP_VLAN_MISMATCH);
}

Test(vlan, tagged_sip_delivered)
{
	struct pkt p;

	tn_reconfig(vlan100);
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 100);
	pk_ip4(&p, PEER_IP, OUR_IP, 17);
	pk_udp(&p, 40000, 5060);
	pk_put(&p, SIP, sizeof(SIP) - 1);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	expect_delivered();
}

Test(vlan, stripped_tag_honoured_and_insert_offload_used)
{
	struct pkt p;
	struct rte_mbuf *m;
	uint8_t f[2048];

	tn_reconfig(vlan100_offload);
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(&p, PEER_IP, OUR_IP, 1);
	pk_icmp_echo(&p, 8, 1, 1, 20);
	pk_fin(&p);
	m = pk_mbuf(&p);
	m->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 100;
	tn_rx1(m);
	cr_assert_eq(T.n_tx, 1);
	cr_assert(T.tx[0]->ol_flags & RTE_MBUF_F_TX_VLAN);
	cr_assert_eq(T.tx[0]->vlan_tci, 100);
	tn_tx_bytes(0, f, sizeof(f));
	cr_assert_eq(rd16(f + 12), 0x0800, "tag left to the NIC");
	check_echo_reply(&p, 14);

	/* A stripped tag of another VLAN is not ours. */
	m = pk_mbuf(&p);
	m->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 7;
	tn_rx1(m);
	cr_assert_eq(tn_drop(SPL_NET_DROP_VLAN_MISMATCH), 1);
}

Test(vlan, originated_traffic_is_tagged)
{
	struct spl_net_addr dst;
	uint8_t f[2048];

	tn_reconfig(vlan100);
	spl_net_addr_set_v4(&dst, PEER2_IP);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 5060, 5060, "x", 1), -EAGAIN);
	tn_flush();
	cr_assert_eq(T.n_tx, 1);
	tn_tx_bytes(0, f, sizeof(f));
	cr_assert_eq(rd16(f + 12), 0x8100);
	cr_assert_eq(rd16(f + 16), 0x0806);
	tn_tx_clear();
	/* The reply arrives untagged (NIC stripped it, say); held data still
	 * goes out tagged because that is our interface. */
	struct pkt p;
	pk_eth(&p, OUR_MAC, PEER2_MAC, 0x0806, 0);
	pk_arp(&p, 2, PEER2_MAC, PEER2_IP, OUR_MAC, OUR_IP);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	tn_tx_bytes(0, f, sizeof(f));
	cr_assert_eq(rd16(f + 12), 0x8100);
	cr_assert_eq(rd16(f + 16), 0x0800);
	cr_assert(ref_ip4_ok(f + 18));
}
