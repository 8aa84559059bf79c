/* SPDX-License-Identifier: BSD-3-Clause */
/* Configuration, counters, addresses, TX buffer, exception path. */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>

#include "spl_txn.h"   /* before spl_net.h: enables the typed peer helpers */
#include "net_test.h"

TestSuite(net_misc, .init = tn_setup, .fini = tn_teardown);

Test(net_misc, counter_names_complete_and_unique)
{
	for (int i = 0; i < SPL_NET_STAT__COUNT; i++) {
		cr_assert_not_null(spl_net_stat_name(i));
		cr_assert_not_null(spl_net_stat_help(i));
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(spl_net_stat_name(i), spl_net_stat_name(j));
	}
	for (int i = 0; i < SPL_NET_DROP__COUNT; i++) {
		cr_assert_not_null(spl_net_drop_name(i));
		cr_assert_not_null(spl_net_drop_help(i));
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(spl_net_drop_name(i), spl_net_drop_name(j));
	}
	cr_assert_null(spl_net_stat_name(SPL_NET_STAT__COUNT));
	cr_assert_null(spl_net_drop_name(SPL_NET_DROP__COUNT));
	cr_assert_str_eq(spl_net_drop_name(SPL_NET_DROP_IP4_BAD_CKSUM), "ip4_bad_cksum");
	cr_assert_eq(sizeof(struct spl_net_stats) % RTE_CACHE_LINE_SIZE, 0);
}

Test(net_misc, stats_sum_over_shards)
{
	struct spl_net_stats acc;
	struct pkt p;

	pk_eth(&p, OUR_MAC, PEER_MAC, 0x0800, 0);
	p.len = 10;
	tn_rx1(pk_mbuf(&p));
	memset(&acc, 0, sizeof(acc));
	spl_net_stats_add(&acc, spl_net_stats(T.net));
	spl_net_stats_add(&acc, spl_net_stats(T.net));
	cr_assert_eq(acc.drop[SPL_NET_DROP_L2_SHORT], 2);
	cr_assert_eq(acc.stat[SPL_NET_STAT_RX_PKTS], 2);
	cr_assert_eq(spl_net_drops_total(&acc), 2);
}

Test(net_misc, addresses_text_and_txn_peer)
{
	struct spl_net_addr a, b;
	struct spl_txn_peer peer;
	char buf[64];

	cr_assert_eq(spl_net_addr_parse(&a, "192.0.2.1"), 0);
	cr_assert_eq(a.family, AF_INET);
	cr_assert_arr_eq(a.addr, OUR_IP, 4);
	cr_assert_eq(a.addr[4], 0);
	cr_assert_eq(spl_net_addr_format(&a, buf, sizeof(buf)), 9);
	cr_assert_str_eq(buf, "192.0.2.1");
	cr_assert_eq(spl_net_addr_parse(&b, "2001:db8::1"), 0);
	cr_assert_eq(b.family, AF_INET6);
	cr_assert_arr_eq(b.addr, OUR_IP6, 16);
	cr_assert_eq(spl_net_addr_format(&b, buf, 4), -ENOSPC);
	cr_assert_eq(spl_net_addr_parse(&b, "sip.example.com"), -EINVAL);
	cr_assert_not(spl_net_addr_eq(&a, &b));

	memset(&peer, 0, sizeof(peer));
	spl_net_addr_to_txn_peer(&peer, &a, 5060);
	cr_assert_eq(peer.family, AF_INET);
	cr_assert_eq(peer.port, 5060);
	cr_assert_arr_eq(peer.addr, OUR_IP, 4);
	spl_net_addr_from_txn_peer(&b, &peer);
	cr_assert(spl_net_addr_eq(&a, &b));
}

Test(net_misc, received_datagram_to_txn_peer)
{
	struct pkt p;
	struct spl_txn_peer peer;

	pk_eth(&p, OUR_MAC, PEER_MAC, 0x86dd, 0);
	pk_ip6(&p, PEER_IP6, OUR_IP6, 17, 64);
	pk_udp(&p, 5062, 5060);
	pk_put(&p, "x", 1);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.res.n_sip, 1);
	SPL_NET_ADDR_TO_PEER(&peer, &T.res.sip[0].src, T.res.sip[0].src_port);
	cr_assert_eq(peer.family, AF_INET6);
	cr_assert_eq(peer.port, 5062);
	cr_assert_arr_eq(peer.addr, PEER_IP6, 16);
}

Test(net_misc, exception_frames_go_out_unchanged)
{
	struct pkt p;
	struct rte_mbuf *m[2];
	uint8_t f[2048];

	/* What the kernel sends: say a TCP segment and its own ARP. */
	pk_eth(&p, PEER_MAC, OUR_MAC, 0x0800, 0);
	pk_ip4(&p, OUR_IP, PEER_IP, 6);
	pk_fill(&p, 40);
	pk_fin(&p);
	m[0] = pk_mbuf(&p);
	m[1] = pk_mbuf(&p);
	cr_assert_eq(spl_net_exception_tx(T.net, m, 2), 2);
	tn_flush();
	cr_assert_eq(T.n_tx, 2);
	cr_assert_eq(tn_tx_bytes(0, f, sizeof(f)), p.len);
	cr_assert_arr_eq(f, p.b, p.len);
	cr_assert_eq(tn_stat(SPL_NET_STAT_TX_EXCEPTION), 2);
}

Test(net_misc, refused_frames_counted_and_freed)
{
	struct rte_mbuf *m[3];
	struct pkt p;

	pk_eth(&p, PEER_MAC, OUR_MAC, 0x0800, 0);
	pk_fill(&p, 50);
	for (int i = 0; i < 3; i++)
		m[i] = pk_mbuf(&p);
	spl_net_exception_tx(T.net, m, 3);
	T.tx_accept = 1;
	cr_assert_eq(spl_net_tx_flush(T.net), 1);
	cr_assert_eq(tn_drop(SPL_NET_DROP_TX_FULL), 2);
	cr_assert_eq(tn_stat(SPL_NET_STAT_TX_PKTS), 1);
	cr_assert_eq(spl_net_tx_flush(T.net), 0, "buffer empty after a flush");
}

Test(net_misc, tx_buffer_flushes_itself_when_full)
{
	struct pkt p;

	tn_learn_peer();
	pk_eth(&p, PEER_MAC, OUR_MAC, 0x0800, 0);
	pk_fill(&p, 50);
	for (int i = 0; i < SPL_NET_TX_BUF + 5; i++) {
		struct rte_mbuf *m = pk_mbuf(&p);
		spl_net_exception_tx(T.net, &m, 1);
	}
	cr_assert_eq(T.n_tx, SPL_NET_TX_BUF, "one automatic flush");
	tn_flush();
	cr_assert_eq(T.n_tx, SPL_NET_TX_BUF + 5);
	cr_assert_eq(spl_net_drops_total(spl_net_stats(T.net)), 0);
}

Test(net_misc, burst_is_capped)
{
	struct rte_mbuf *m[SPL_NET_BURST_MAX + 6];
	struct pkt p;
	uint16_t n;

	pk_eth(&p, OUR_MAC, PEER_MAC, 0x88cc, 0);
	pk_fill(&p, 50);
	for (unsigned i = 0; i < SPL_NET_BURST_MAX + 6; i++)
		m[i] = pk_mbuf(&p);
	n = spl_net_rx_burst(T.net, m, SPL_NET_BURST_MAX + 6, T.now, &T.res);
	cr_assert_eq(n, SPL_NET_BURST_MAX);
	cr_assert_eq(T.res.n_exc, SPL_NET_BURST_MAX);
	tn_res_free();
	n = spl_net_rx_burst(T.net, m + SPL_NET_BURST_MAX, 6, T.now, &T.res);
	cr_assert_eq(n, 6);
}

static void set_no_pool(struct spl_net_config *c) { c->pool = NULL; }

Test(net_misc, bad_config_refused)
{
	struct spl_net_config c = T.cfg;

	c.neigh_entries = 100;
	cr_assert_null(spl_net_create(&c));
	cr_assert_eq(rte_errno, EINVAL);
	c = T.cfg;
	c.n_ip4 = 0;
	c.n_ip6 = 0;
	cr_assert_null(spl_net_create(&c));
	c = T.cfg;
	c.mtu = 500;
	cr_assert_null(spl_net_create(&c));
	c = T.cfg;
	c.vlan_id = 4095;
	cr_assert_null(spl_net_create(&c));
	c = T.cfg;
	set_no_pool(&c);
	cr_assert_null(spl_net_create(&c));
	c = T.cfg;
	c.mac.addr_bytes[0] = 0x01;   /* multicast */
	cr_assert_null(spl_net_create(&c));
}

Test(net_misc, config_defaults)
{
	struct spl_net_config c;

	spl_net_config_init(&c);
	cr_assert_eq(c.mtu, 1500);
	cr_assert_eq(c.n_sip_ports, 1);
	cr_assert_eq(c.sip_ports[0], 5060);
	cr_assert_eq(c.shard_count, 1);
	cr_assert_eq(c.ttl, 64);
}

static void shard3of4(struct spl_net_config *c)
{
	c->shard_index = 3;
	c->shard_count = 4;
}

Test(net_misc, ip_ids_are_disjoint_between_shards)
{
	uint8_t f[2048];
	struct spl_net_addr dst;

	tn_reconfig(shard3of4);
	tn_learn_peer();
	spl_net_addr_set_v4(&dst, PEER_IP);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 1, 2, "x", 1), 0);
	tn_flush();
	for (unsigned i = 0; i < 3; i++) {
		tn_tx_bytes(i, f, sizeof(f));
		cr_assert_eq(rd16(f + 18) % 4, 3, "IPv4 ID in this shard's class");
	}
}

static void tiny_cache(struct spl_net_config *c) { c->neigh_entries = 4; }

Test(net_misc, full_neighbor_table_evicts_oldest)
{
	struct spl_net_addr dst;
	uint8_t ip[4] = { 192, 0, 2, 10 };

	tn_reconfig(tiny_cache);
	for (int i = 0; i < 5; i++) {
		ip[3] = (uint8_t)(10 + i);
		spl_net_addr_set_v4(&dst, ip);
		spl_net_rx_burst(T.net, NULL, 0, T.now + (uint64_t)i, &T.res);
		cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 1, 2, "x", 1), -EAGAIN);
	}
	cr_assert_eq(tn_stat(SPL_NET_STAT_NEIGH_EVICTED), 1);
	cr_assert_eq(tn_drop(SPL_NET_DROP_NEIGH_FAILED), 1, "the evicted entry's held packet");
	ip[3] = 10;
	spl_net_addr_set_v4(&dst, ip);
	cr_assert_eq(spl_net_neigh_lookup(T.net, &dst, NULL), SPL_NET_NEIGH_FREE, "oldest went");
	ip[3] = 14;
	spl_net_addr_set_v4(&dst, ip);
	cr_assert_eq(spl_net_neigh_lookup(T.net, &dst, NULL), SPL_NET_NEIGH_INCOMPLETE);
}

Test(net_misc, free_releases_held_buffered_and_pending_fragments)
{
	struct spl_net_addr dst;
	struct pkt w, f;

	/* Held for ARP, waiting in the TX buffer, and half a datagram in the
	 * reassembly table: spl_net_free gives all of it back (the fixture
	 * checks the pools after teardown). */
	spl_net_addr_set_v4(&dst, PEER2_IP);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 1, 2, "held", 4), -EAGAIN);
	pk_eth(&w, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(&w, PEER_IP, OUR_IP, 17);
	pk_udp(&w, 1, 5060);
	pk_fill(&w, 3000);
	pk_fin(&w);
	pk_frag4(&w, 0, 1480, true, &f);
	struct rte_mbuf *m = pk_mbuf(&f);
	spl_net_rx_burst(T.net, &m, 1, T.now, &T.res);
	cr_assert_eq(T.res.n_sip, 0);
}
