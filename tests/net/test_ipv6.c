/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv6: validation, neighbor discovery, ICMPv6 echo, UDP. */
#include <errno.h>
#include <string.h>

#include "net_test.h"

TestSuite(ipv6, .init = tn_setup, .fini = tn_teardown);

static const char SIP[] = "OPTIONS sip:a@[2001:db8::1] SIP/2.0\r\n\r\n";
static const uint8_t OUR_LL[16] = { 0xfe, 0x80, [11] = 0xff, [12] = 0xfe, [15] = 0x01 };
static const uint8_t ALL_NODES[16] = { 0xff, 0x02, [15] = 0x01 };

static void
sol_node(uint8_t out[16], const uint8_t *a)
{
	memset(out, 0, 16);
	out[0] = 0xff;
	out[1] = 0x02;
	out[11] = 0x01;
	out[12] = 0xff;
	memcpy(out + 13, a + 13, 3);
}

static void
mcast_mac(uint8_t out[6], const uint8_t *a)
{
	out[0] = 0x33;
	out[1] = 0x33;
	memcpy(out + 2, a + 12, 4);
}

static void
ns_frame(struct pkt *p, const uint8_t *src, const uint8_t *target, bool to_group,
	 const uint8_t *slla, uint8_t hop)
{
	uint8_t dst[16], dmac[6];

	if (to_group) {
		sol_node(dst, target);
		mcast_mac(dmac, dst);
	} else {
		memcpy(dst, target, 16);
		memcpy(dmac, OUR_MAC, 6);
	}
	pk_eth(p, dmac, PEER_MAC, 0x86dd, 0);
	pk_ip6(p, src, dst, 58, hop);
	pk_ns(p, target, slla);
	pk_fin(p);
}

static void
udp6(struct pkt *p, const uint8_t *src, const uint8_t *dst, uint16_t dport)
{
	pk_eth(p, OUR_MAC, PEER_MAC, 0x86dd, 0);
	pk_ip6(p, src, dst, 17, 64);
	pk_udp(p, 40001, dport);
	pk_put(p, SIP, sizeof(SIP) - 1);
	pk_fin(p);
}

/* Checks captured frame i is an NA for target; returns its flags. */
static uint8_t
check_na(unsigned i, const uint8_t *eth_dst, const uint8_t *ip_dst, const uint8_t *target)
{
	uint8_t f[2048];
	size_t n = tn_tx_bytes(i, f, sizeof(f));
	const uint8_t *ip = f + 14, *na = f + 54;

	cr_assert_eq(n, 14 + 40 + 32);
	cr_assert_arr_eq(f, eth_dst, 6);
	cr_assert_arr_eq(f + 6, OUR_MAC, 6);
	cr_assert_eq(rd16(f + 12), 0x86dd);
	cr_assert_eq(ip[0] >> 4, 6);
	cr_assert_eq(rd16(ip + 4), 32);
	cr_assert_eq(ip[6], 58);
	cr_assert_eq(ip[7], 255);
	cr_assert_arr_eq(ip + 8, target, 16);
	cr_assert_arr_eq(ip + 24, ip_dst, 16);
	cr_assert_eq(na[0], 136);
	cr_assert_eq(na[1], 0);
	cr_assert_arr_eq(na + 8, target, 16);
	cr_assert_eq(na[24], 2, "target link-layer address option");
	cr_assert_eq(na[25], 1);
	cr_assert_arr_eq(na + 26, OUR_MAC, 6);
	cr_assert(ref_l4_ok(6, ip, na, 32, 58), "ICMPv6 checksum");
	return na[4];
}

static enum spl_net_neigh_state
state6(const uint8_t *ip, struct rte_ether_addr *mac)
{
	struct spl_net_addr a;
	spl_net_addr_set_v6(&a, ip);
	return spl_net_neigh_lookup(T.net, &a, mac);
}

Test(ipv6, ns_for_our_address_gets_na)
{
	struct pkt p;
	struct rte_ether_addr mac;

	ns_frame(&p, PEER_IP6, OUR_IP6, true, PEER_MAC, 255);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(check_na(0, PEER_MAC, PEER_IP6, OUR_IP6), 0x60, "solicited + override");
	cr_assert_eq(tn_stat(SPL_NET_STAT_ND_NS_IN), 1);
	cr_assert_eq(tn_stat(SPL_NET_STAT_ND_NA_OUT), 1);
	cr_assert_eq(state6(PEER_IP6, &mac), SPL_NET_NEIGH_REACHABLE);
	cr_assert_arr_eq(mac.addr_bytes, PEER_MAC, 6);
}

Test(ipv6, unicast_ns_for_link_local_gets_na)
{
	struct pkt p;

	/* Our EUI-64 link-local is derived from 02:00:00:00:00:01. */
	ns_frame(&p, PEER_IP6, OUR_LL, false, NULL, 255);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	/* No SLLA: answer to the Ethernet source. */
	cr_assert_eq(check_na(0, PEER_MAC, PEER_IP6, OUR_LL), 0x60);
}

Test(ipv6, dad_probe_answered_to_all_nodes)
{
	struct pkt p;
	static const uint8_t unspec[16];

	ns_frame(&p, unspec, OUR_IP6, true, NULL, 255);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(check_na(0, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, ALL_NODES, OUR_IP6),
		     0x20, "override only");
}

Test(ipv6, ns_for_other_target_not_answered)
{
	struct pkt p;

	/* To another node's solicited-node group: not a group we are in. */
	ns_frame(&p, PEER_IP6, PEER2_IP6, true, PEER_MAC, 255);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(T.n_tx, 0);

	/* To us, but asking for someone else. */
	ns_frame(&p, PEER_IP6, PEER2_IP6, false, PEER_MAC, 255);
	memcpy(p.b + p.l3 + 24, OUR_IP6, 16);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 0);
	cr_assert_eq(tn_drop(SPL_NET_DROP_ND_NOT_FOR_US), 1);
}

Test(ipv6, nd_with_wrong_hop_limit_or_options_dropped)
{
	struct pkt p;

	ns_frame(&p, PEER_IP6, OUR_IP6, true, PEER_MAC, 64);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_ND_BAD), 1);

	ns_frame(&p, PEER_IP6, OUR_IP6, true, PEER_MAC, 255);
	p.b[p.l4 + 25] = 0;    /* option length 0 */
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_ND_BAD), 2);
	cr_assert_eq(T.n_tx, 0);
}

Test(ipv6, ns_with_bad_checksum_dropped)
{
	struct pkt p;
	ns_frame(&p, PEER_IP6, OUR_IP6, true, PEER_MAC, 255);
	p.b[p.l4 + 2] ^= 0x10;
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_ICMP6_BAD), 1);
	cr_assert_eq(T.n_tx, 0);
}

Test(ipv6, na_fills_cache_and_releases_held)
{
	struct spl_net_addr dst;
	struct pkt p;
	uint8_t f[2048], sn[16], smac[6];
	const uint8_t *ip = f + 14, *ns = f + 54;

	spl_net_addr_set_v6(&dst, PEER2_IP6);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 5060, 5062, "hello6", 6), -EAGAIN);
	tn_flush();
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(tn_tx_bytes(0, f, sizeof(f)), 14 + 40 + 32);
	sol_node(sn, PEER2_IP6);
	mcast_mac(smac, sn);
	cr_assert_arr_eq(f, smac, 6, "to the solicited-node group");
	cr_assert_arr_eq(ip + 8, OUR_IP6, 16, "from our address on that prefix");
	cr_assert_arr_eq(ip + 24, sn, 16);
	cr_assert_eq(ip[7], 255);
	cr_assert_eq(ns[0], 135);
	cr_assert_arr_eq(ns + 8, PEER2_IP6, 16);
	cr_assert_eq(ns[24], 1, "source link-layer address option");
	cr_assert_arr_eq(ns + 26, OUR_MAC, 6);
	cr_assert(ref_l4_ok(6, ip, ns, 32, 58));
	cr_assert_eq(tn_stat(SPL_NET_STAT_ND_NS_OUT), 1);
	tn_tx_clear();

	pk_eth(&p, OUR_MAC, PEER2_MAC, 0x86dd, 0);
	pk_ip6(&p, PEER2_IP6, OUR_IP6, 58, 255);
	pk_na(&p, 0x60, PEER2_IP6, PEER2_MAC);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(state6(PEER2_IP6, NULL), SPL_NET_NEIGH_REACHABLE);
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(tn_tx_bytes(0, f, sizeof(f)), 14 + 40 + 8 + 6);
	cr_assert_arr_eq(f, PEER2_MAC, 6);
	cr_assert_eq(ip[6], 17);
	cr_assert_eq(ip[7], 64);
	cr_assert_arr_eq(ip + 8, OUR_IP6, 16);
	cr_assert_arr_eq(ip + 24, PEER2_IP6, 16);
	cr_assert_eq(rd16(f + 54), 5060);
	cr_assert_eq(rd16(f + 56), 5062);
	cr_assert(ref_l4_ok(6, ip, f + 54, 14, 17), "UDP checksum");
	cr_assert_arr_eq(f + 62, "hello6", 6);
	cr_assert_eq(T.res.n_neigh, 1);
	cr_assert_eq(T.res.n_exc, 0);
}

Test(ipv6, off_link_destination_resolves_gateway_from_link_local)
{
	struct spl_net_addr dst;
	uint8_t f[2048];

	spl_net_addr_set_v6(&dst, FAR_IP6);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 5060, 5060, "x", 1), -EAGAIN);
	tn_flush();
	cr_assert_eq(T.n_tx, 1);
	tn_tx_bytes(0, f, sizeof(f));
	cr_assert_arr_eq(f + 54 + 8, GW_IP6, 16, "NS for the gateway");
	cr_assert_arr_eq(f + 14 + 8, OUR_LL, 16, "from our link-local");
}

Test(ipv6, echo_request_gets_reply)
{
	struct pkt p;
	uint8_t f[2048];
	const uint8_t *ip = f + 14, *ic = f + 54;

	pk_eth(&p, OUR_MAC, PEER_MAC, 0x86dd, 0);
	pk_ip6(&p, PEER_IP6, OUR_IP6, 58, 64);
	pk_icmp_echo(&p, 128, 0x99, 3, 57);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(tn_tx_bytes(0, f, sizeof(f)), 14 + 40 + 8 + 57);
	cr_assert_arr_eq(f, PEER_MAC, 6);
	cr_assert_arr_eq(ip + 8, OUR_IP6, 16);
	cr_assert_arr_eq(ip + 24, PEER_IP6, 16);
	cr_assert_eq(ip[6], 58);
	cr_assert_eq(ic[0], 129);
	cr_assert_arr_eq(ic + 4, p.b + p.l4 + 4, 4 + 57);
	cr_assert(ref_l4_ok(6, ip, ic, 8 + 57, 58), "ICMPv6 checksum");
	cr_assert_eq(tn_stat(SPL_NET_STAT_ICMP6_ECHO_IN), 1);
}

Test(ipv6, echo_to_all_nodes_and_router_advert_go_to_kernel)
{
	struct pkt p;

	pk_eth(&p, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, PEER_MAC, 0x86dd, 0);
	pk_ip6(&p, PEER_IP6, ALL_NODES, 58, 64);
	pk_icmp_echo(&p, 128, 1, 1, 8);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_exc, 1);

	pk_eth(&p, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, GW_MAC, 0x86dd, 0);
	pk_ip6(&p, GW_IP6, ALL_NODES, 58, 255);
	pk_icmp_echo(&p, 134, 0, 0, 8);   /* shape of an RA is enough */
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(T.n_tx, 0);
}

Test(ipv6, udp_delivered_with_addresses)
{
	struct pkt p;
	const struct spl_net_dgram *d;

	udp6(&p, PEER_IP6, OUR_IP6, 5060);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 1);
	d = &T.res.sip[0];
	cr_assert_eq(d->len, sizeof(SIP) - 1);
	cr_assert_arr_eq(d->payload, SIP, sizeof(SIP) - 1);
	cr_assert_eq(d->m->data_len, d->len);
	cr_assert_eq((const void *)rte_pktmbuf_mtod(d->m, char *), (const void *)d->payload);
	cr_assert_eq(d->src.family, AF_INET6);
	cr_assert_arr_eq(d->src.addr, PEER_IP6, 16);
	cr_assert_arr_eq(d->dst.addr, OUR_IP6, 16);
	cr_assert_eq(d->src_port, 40001);
	cr_assert_eq(d->dst_port, 5060);
}

Test(ipv6, udp_zero_checksum_dropped)
{
	struct pkt p;
	udp6(&p, PEER_IP6, OUR_IP6, 5060);
	wr16(p.b + p.l4 + 6, 0);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 0);
	cr_assert_eq(tn_drop(SPL_NET_DROP_UDP_BAD_CKSUM), 1);
}

Test(ipv6, udp_bad_checksum_dropped)
{
	struct pkt p;
	udp6(&p, PEER_IP6, OUR_IP6, 5060);
	p.b[p.len - 1] ^= 0x01;
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_UDP_BAD_CKSUM), 1);
}

Test(ipv6, header_validation)
{
	struct pkt p;

	udp6(&p, PEER_IP6, OUR_IP6, 5060);
	p.b[p.l3] = 0x40;
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_IP6_BAD_VERSION), 1);

	udp6(&p, PEER_IP6, OUR_IP6, 5060);
	p.len -= 3;
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_IP6_TRUNCATED), 1);

	udp6(&p, PEER_IP6, OUR_IP6, 5060);
	p.b[p.l3 + 7] = 0;
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_IP6_HOP_LIMIT), 1);

	udp6(&p, PEER_IP6, PEER2_IP6, 5060);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_IP_NOT_FOR_US), 1);

	udp6(&p, ALL_NODES, OUR_IP6, 5060);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_IP6_BAD_SRC), 1);

	cr_assert_eq(spl_net_drops_total(spl_net_stats(T.net)), 5);
	cr_assert_eq(T.n_tx, 0);
}

Test(ipv6, other_groups_and_protocols_go_to_kernel)
{
	struct pkt p;
	static const uint8_t mdns[16] = { 0xff, 0x02, [15] = 0xfb };

	udp6(&p, PEER_IP6, mdns, 5353);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_exc, 1);

	pk_eth(&p, OUR_MAC, PEER_MAC, 0x86dd, 0);
	pk_ip6(&p, PEER_IP6, OUR_IP6, 6, 64);   /* TCP */
	pk_fill(&p, 20);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_exc, 1);

	udp6(&p, PEER_IP6, OUR_IP6, 5061);      /* not a SIP port */
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(spl_net_drops_total(spl_net_stats(T.net)), 0);
}

Test(ipv6, atomic_fragment_delivered)
{
	struct pkt w, f;

	udp6(&w, PEER_IP6, OUR_IP6, 5060);
	pk_frag6(&w, 0, w.len - w.l4, false, 77, &f);
	tn_rx1(pk_mbuf(&f));
	cr_assert_eq(T.res.n_sip, 1);
	cr_assert_arr_eq(T.res.sip[0].payload, SIP, sizeof(SIP) - 1);
	cr_assert_eq(tn_stat(SPL_NET_STAT_FRAG_IN), 0, "not through the table");
}
