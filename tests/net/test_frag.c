/* SPDX-License-Identifier: BSD-3-Clause */
/* Reassembly of incoming fragments, fragmentation of outgoing datagrams. */
#include <errno.h>
#include <string.h>

#include "net_test.h"

TestSuite(frag, .init = tn_setup, .fini = tn_teardown);

#define BIG 3000   /* UDP payload of the fragmented SIP datagram */

static const char HEAD[] = "MESSAGE sip:bob@example.com SIP/2.0\r\nContent-Length: 2900\r\n\r\n";

/* A whole UDP datagram to a SIP port, BIG bytes of payload. */
static void
big_dgram(struct pkt *p, int fam, uint16_t dport)
{
	if (fam == 4) {
		pk_eth(p, OUR_MAC, PEER_MAC, 0x0800, 0);
		pk_ip4(p, PEER_IP, OUR_IP, 17);
	} else {
		pk_eth(p, OUR_MAC, PEER_MAC, 0x86dd, 0);
		pk_ip6(p, PEER_IP6, OUR_IP6, 17, 64);
	}
	pk_udp(p, 40000, dport);
	pk_put(p, HEAD, sizeof(HEAD) - 1);
	pk_fill(p, BIG - (sizeof(HEAD) - 1));
	pk_fin(p);
}

/* Three fragments of the datagram's IP payload (UDP header + BIG). */
static void
three_frags(const struct pkt *w, int fam, struct rte_mbuf *m[3], size_t chunk)
{
	size_t total = w->len - w->l4;
	struct pkt f;

	for (unsigned i = 0; i < 3; i++) {
		size_t off = i * chunk, n = i < 2 ? chunk : total - 2 * chunk;
		if (fam == 4)
			pk_frag4(w, off, n, i < 2, &f);
		else
			pk_frag6(w, off, n, i < 2, 0xabcd, &f);
		m[i] = pk_mbuf(&f);
	}
}

static void
check_big_delivered(const struct pkt *w, int fam)
{
	const struct spl_net_dgram *d;

	cr_assert_eq(T.res.n_sip, 1);
	d = &T.res.sip[0];
	cr_assert_eq(d->len, BIG);
	cr_assert_eq(d->m->nb_segs, 1, "contiguous for the SIP parser");
	cr_assert_eq(d->m->pkt_len, BIG);
	cr_assert_arr_eq(d->payload, w->b + w->l4 + 8, BIG);
	cr_assert_eq(d->src.family, fam == 4 ? AF_INET : AF_INET6);
	cr_assert_eq(d->src_port, 40000);
	cr_assert_eq(tn_stat(SPL_NET_STAT_FRAG_REASSEMBLED), 1);
	cr_assert_eq(tn_stat(SPL_NET_STAT_FRAG_IN), 3);
	cr_assert_eq(spl_net_drops_total(spl_net_stats(T.net)), 0);
}

static void
feed_one_by_one(struct rte_mbuf **m, const unsigned *order)
{
	for (unsigned i = 0; i < 3; i++) {
		tn_rx1(m[order[i]]);
		if (i < 2)
			cr_assert_eq(T.res.n_sip, 0, "not before the last fragment");
	}
}

Test(frag, ipv4_three_fragments_in_order)
{
	struct pkt w;
	struct rte_mbuf *m[3];

	big_dgram(&w, 4, 5060);
	three_frags(&w, 4, m, 1480);
	feed_one_by_one(m, (const unsigned[]){ 0, 1, 2 });
	check_big_delivered(&w, 4);
	cr_assert_eq(tn_stat(SPL_NET_STAT_FRAG_LINEARISED), 1);
}

Test(frag, ipv4_three_fragments_out_of_order)
{
	struct pkt w;
	struct rte_mbuf *m[3];

	big_dgram(&w, 4, 5060);
	three_frags(&w, 4, m, 1480);
	feed_one_by_one(m, (const unsigned[]){ 2, 0, 1 });
	check_big_delivered(&w, 4);
}

Test(frag, ipv4_fragments_in_one_burst_reversed)
{
	struct pkt w;
	struct rte_mbuf *m[3], *r[3];

	big_dgram(&w, 4, 5060);
	three_frags(&w, 4, m, 1480);
	r[0] = m[2];
	r[1] = m[1];
	r[2] = m[0];
	tn_rx(r, 3);
	check_big_delivered(&w, 4);
}

Test(frag, ipv6_three_fragments_in_order)
{
	struct pkt w;
	struct rte_mbuf *m[3];

	big_dgram(&w, 6, 5060);
	three_frags(&w, 6, m, 1232);
	feed_one_by_one(m, (const unsigned[]){ 0, 1, 2 });
	check_big_delivered(&w, 6);
	cr_assert_arr_eq(T.res.sip[0].src.addr, PEER_IP6, 16);
}

Test(frag, ipv6_three_fragments_out_of_order)
{
	struct pkt w;
	struct rte_mbuf *m[3];

	big_dgram(&w, 6, 5060);
	three_frags(&w, 6, m, 1232);
	feed_one_by_one(m, (const unsigned[]){ 1, 2, 0 });
	check_big_delivered(&w, 6);
}

Test(frag, small_reassembly_linearised_in_place)
{
	struct pkt w, f;
	struct rte_mbuf *m[2];

	pk_eth(&w, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(&w, PEER_IP, OUR_IP, 17);
	pk_udp(&w, 40000, 5060);
	pk_fill(&w, 300);
	pk_fin(&w);
	pk_frag4(&w, 0, 160, true, &f);
	m[0] = pk_mbuf(&f);
	pk_frag4(&w, 160, 308 - 160, false, &f);
	m[1] = pk_mbuf(&f);
	tn_rx(m, 2);
	cr_assert_eq(T.res.n_sip, 1);
	cr_assert_eq(T.res.sip[0].len, 300);
	cr_assert_eq(T.res.sip[0].m->nb_segs, 1);
	cr_assert_arr_eq(T.res.sip[0].payload, w.b + w.l4 + 8, 300);
	cr_assert_eq(tn_stat(SPL_NET_STAT_FRAG_LINEARISED), 0, "first segment had room");
}

Test(frag, reassembled_datagram_checksum_verified)
{
	struct pkt w;
	struct rte_mbuf *m[3];

	big_dgram(&w, 4, 5060);
	w.b[w.len - 100] ^= 0x55;   /* corrupt payload, keep the UDP checksum */
	three_frags(&w, 4, m, 1480);
	tn_rx(m, 3);
	cr_assert_eq(T.res.n_sip, 0);
	cr_assert_eq(tn_drop(SPL_NET_DROP_UDP_BAD_CKSUM), 1);
}

Test(frag, reassembled_non_sip_goes_to_kernel_whole)
{
	struct pkt w;
	struct rte_mbuf *m[3];

	big_dgram(&w, 4, 9999);
	three_frags(&w, 4, m, 1480);
	tn_rx(m, 3);
	cr_assert_eq(T.res.n_sip, 0);
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(T.res.exc[0]->pkt_len, w.len);
}

Test(frag, non_udp_fragments_go_to_kernel_as_they_are)
{
	struct pkt w, f;

	pk_eth(&w, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(&w, PEER_IP, OUR_IP, 1);
	pk_icmp_echo(&w, 8, 1, 1, 2000);
	pk_fin(&w);
	pk_frag4(&w, 0, 1480, true, &f);
	tn_rx1(pk_mbuf(&f));
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(tn_stat(SPL_NET_STAT_FRAG_IN), 0);
}

Test(frag, duplicate_first_fragment_invalidates_the_set)
{
	struct pkt w;
	struct rte_mbuf *m[3], *dup;

	big_dgram(&w, 4, 5060);
	three_frags(&w, 4, m, 1480);
	dup = rte_pktmbuf_copy(m[0], T.pool, 0, UINT32_MAX);
	tn_rx1(m[0]);
	tn_rx1(dup);
	cr_assert_eq(tn_drop(SPL_NET_DROP_FRAG_INVALID), 2, "both firsts freed");
	/* The rest starts a new entry that never completes. */
	tn_rx1(m[1]);
	tn_rx1(m[2]);
	cr_assert_eq(T.res.n_sip, 0);
	tn_tick(T.now + 5000);
	cr_assert_eq(tn_drop(SPL_NET_DROP_FRAG_TIMEOUT), 2);
}

Test(frag, timeout_frees_and_counts)
{
	struct pkt w;
	struct rte_mbuf *m[3];
	unsigned avail;

	big_dgram(&w, 4, 5060);
	three_frags(&w, 4, m, 1480);
	avail = rte_mempool_avail_count(T.pool);
	tn_rx1(m[0]);
	tn_rx1(m[1]);
	tn_tick(T.now + 2000);           /* not yet: expiry is strictly after */
	cr_assert_eq(tn_drop(SPL_NET_DROP_FRAG_TIMEOUT), 0);
	tn_tx_clear();                    /* announcements */
	tn_tick(T.now + 1);
	cr_assert_eq(tn_drop(SPL_NET_DROP_FRAG_TIMEOUT), 2);
	cr_assert_eq(rte_mempool_avail_count(T.pool), avail + 2, "both fragments freed");
	/* The straggler alone never completes anything. */
	tn_rx1(m[2]);
	cr_assert_eq(T.res.n_sip, 0);
	tn_tick(T.now + 3000);
	cr_assert_eq(tn_drop(SPL_NET_DROP_FRAG_TIMEOUT), 3);
}

Test(frag, timeout_also_expires_on_rx)
{
	struct pkt w, u;
	struct rte_mbuf *m[3];

	big_dgram(&w, 4, 5060);
	three_frags(&w, 4, m, 1480);
	tn_rx1(m[0]);
	rte_pktmbuf_free(m[1]);
	rte_pktmbuf_free(m[2]);
	T.now += 2001;
	pk_eth(&u, OUR_MAC, PEER_MAC, 0x0800, 0);
	pk_ip4(&u, PEER_IP, OUR_IP, 17);
	pk_udp(&u, 1, 5060);
	pk_fin(&u);
	tn_rx1(pk_mbuf(&u));
	cr_assert_eq(tn_drop(SPL_NET_DROP_FRAG_TIMEOUT), 1);
}

Test(frag, table_full_counted)
{
	struct pkt w, f;
	const unsigned n = 40;   /* the fixture's table takes 16 */
	uint64_t full, held;

	big_dgram(&w, 4, 5060);
	for (unsigned i = 0; i < n; i++) {
		wr16(w.b + w.l3 + 4, (uint16_t)(0x100 + i));   /* IP ID */
		pk_frag4(&w, 0, 1480, true, &f);
		tn_rx1(pk_mbuf(&f));
	}
	full = tn_drop(SPL_NET_DROP_FRAG_TABLE_FULL);
	cr_assert_geq(full, n - 16);
	held = n - full;
	cr_assert_leq(held, 16);
	tn_tick(T.now + 10000);
	cr_assert_eq(tn_drop(SPL_NET_DROP_FRAG_TIMEOUT), held);
}

/* ------------------------------------------------------------------ */
/* Fragmentation                                                       */

static char payload4k[4000];

static void
fill4k(void)
{
	for (size_t i = 0; i < sizeof(payload4k); i++)
		payload4k[i] = (char)pk_pattern(i);
}

/* Checks the captured IPv4 fragments and returns the reassembled
 * IP payload (UDP header + data) in out. */
static size_t
check_frags4(unsigned nfrag, const size_t *lens, uint8_t *out)
{
	uint8_t f[2048];
	uint16_t id = 0;
	size_t total = 0;

	cr_assert_eq(T.n_tx, nfrag);
	for (unsigned i = 0; i < nfrag; i++) {
		size_t n = tn_tx_bytes(i, f, sizeof(f));
		const uint8_t *ip = f + 14;
		uint16_t fo = rd16(ip + 6);

		cr_assert_eq(n, 14 + 20 + lens[i], "fragment %u length", i);
		cr_assert_arr_eq(f, PEER_MAC, 6);
		cr_assert_eq(rd16(ip + 2), 20 + lens[i]);
		cr_assert(ref_ip4_ok(ip), "fragment %u header checksum", i);
		cr_assert_eq(fo & 0x1fff, total / 8, "fragment %u offset", i);
		cr_assert_eq(!!(fo & 0x2000), i + 1 < nfrag, "fragment %u MF", i);
		cr_assert_eq(fo & 0x4000, 0, "no DF");
		if (i == 0)
			id = rd16(ip + 4);
		cr_assert_eq(rd16(ip + 4), id, "one ID for all fragments");
		memcpy(out + total, ip + 20, lens[i]);
		total += lens[i];
	}
	return total;
}

/* A context that plays the peer, to take our fragments back in. */
static struct spl_net *
peer_net(struct spl_net_rx_result *res)
{
	struct spl_net_config c = T.cfg;
	struct spl_net *n;

	memcpy(c.mac.addr_bytes, PEER_MAC, 6);
	c.n_ip4 = 1;
	memcpy(c.ip4[0].addr, PEER_IP, 4);
	memcpy(c.ip6[0].addr, PEER_IP6, 16);
	c.n_sip_ports = 1;
	c.sip_ports[0] = 5070;
	n = spl_net_create(&c);
	cr_assert_not_null(n);
	spl_net_rx_burst(n, NULL, 0, T.now, res);
	return n;
}

/* Feeds copies of the captured frames to the peer context. */
static void
loop_to_peer(struct spl_net *peer, struct spl_net_rx_result *res)
{
	struct rte_mbuf *m[TN_TX_MAX];

	for (unsigned i = 0; i < T.n_tx; i++) {
		m[i] = rte_pktmbuf_copy(T.tx[i], T.pool, 0, UINT32_MAX);
		cr_assert_not_null(m[i]);
	}
	spl_net_rx_burst(peer, m, (uint16_t)T.n_tx, T.now, res);
}

static void
check_peer_got_4k(struct spl_net *peer, struct spl_net_rx_result *res)
{
	cr_assert_eq(res->n_sip, 1);
	cr_assert_eq(res->sip[0].len, sizeof(payload4k));
	cr_assert_arr_eq(res->sip[0].payload, payload4k, sizeof(payload4k));
	cr_assert_eq(res->sip[0].dst_port, 5070);
	rte_pktmbuf_free(res->sip[0].m);
	cr_assert_eq(spl_net_drops_total(spl_net_stats(peer)), 0);
	spl_net_free(peer);
}

Test(frag, tx_4000_bytes_become_three_fragments)
{
	static const size_t lens[3] = { 1480, 1480, 4008 - 2960 };
	static struct spl_net_rx_result res;
	uint8_t whole[4100], ip0[20];
	struct spl_net_addr dst;
	struct spl_net *peer;

	fill4k();
	tn_learn_peer();
	spl_net_addr_set_v4(&dst, PEER_IP);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 5060, 5070, payload4k,
				      sizeof(payload4k)), 0);
	tn_flush();
	cr_assert_eq(check_frags4(3, lens, whole), 4008);
	for (unsigned i = 0; i < 3; i++)
		cr_assert_eq(T.tx[i]->nb_segs, 1, "linearised: no MULTI_SEGS offload");
	/* The UDP header and checksum cover the whole datagram. */
	cr_assert_eq(rd16(whole), 5060);
	cr_assert_eq(rd16(whole + 2), 5070);
	cr_assert_eq(rd16(whole + 4), 4008);
	{
		uint8_t f[2048];
		tn_tx_bytes(0, f, sizeof(f));
		memcpy(ip0, f + 14, 20);
	}
	cr_assert(ref_l4_ok(4, ip0, whole, 4008, 17), "UDP checksum over all fragments");
	cr_assert_arr_eq(whole + 8, payload4k, sizeof(payload4k));
	cr_assert_eq(tn_stat(SPL_NET_STAT_FRAG_TX_DGRAMS), 1);
	cr_assert_eq(tn_stat(SPL_NET_STAT_FRAG_TX_CREATED), 3);

	/* And our own reassembly takes them back. */
	peer = peer_net(&res);
	loop_to_peer(peer, &res);
	check_peer_got_4k(peer, &res);
}

static void multiseg(struct spl_net_config *c)
{
	c->tx_offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
			 RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
}

Test(frag, tx_fragments_multi_segment_with_offloads)
{
	static const size_t lens[3] = { 1480, 1480, 4008 - 2960 };
	uint8_t whole[4100];
	struct rte_mbuf *m;
	struct spl_net_addr dst;
	char *d;

	tn_reconfig(multiseg);
	fill4k();
	tn_learn_peer();
	/* The mbuf variant, payload in a two-segment chain. */
	m = rte_pktmbuf_alloc(T.pool);
	d = rte_pktmbuf_append(m, 2000);
	memcpy(d, payload4k, 2000);
	m->next = rte_pktmbuf_alloc(T.pool);
	m->next->data_off = 0;
	d = rte_pktmbuf_append(m->next, 2000);
	cr_assert_not_null(d);
	memcpy(d, payload4k + 2000, 2000);
	m->nb_segs = 2;
	m->pkt_len = 4000;
	spl_net_addr_set_v4(&dst, PEER_IP);
	cr_assert_eq(spl_net_udp_send_mbuf(T.net, NULL, &dst, 5060, 5070, m), 0);
	tn_flush();
	cr_assert_eq(T.n_tx, 3);
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_gt(T.tx[i]->nb_segs, 1, "indirect segments kept");
		/* Header checksum offloaded per fragment, never the UDP one. */
		cr_assert(T.tx[i]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
		cr_assert_eq(T.tx[i]->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM, 0);
		cr_assert_eq(T.tx[i]->l3_len, 20);
		/* Fill in what the NIC would, so the checker can verify. */
		uint8_t *ip = rte_pktmbuf_mtod_offset(T.tx[i], uint8_t *, 14);
		wr16(ip + 10, 0);
		wr16(ip + 10, ref_fold(ref_sum(ip, 20, 0)));
	}
	cr_assert_eq(check_frags4(3, lens, whole), 4008);
	cr_assert_arr_eq(whole + 8, payload4k, sizeof(payload4k));
	{
		uint8_t f[2048];
		tn_tx_bytes(0, f, sizeof(f));
		cr_assert(ref_l4_ok(4, f + 14, whole, 4008, 17));
	}
}

Test(frag, tx_ipv6_fragments)
{
	static struct spl_net_rx_result res;
	static const size_t lens[3] = { 1448, 1448, 4008 - 2896 };
	uint8_t f[2048], whole[4100], ip0[40];
	struct spl_net_addr dst;
	struct spl_net *peer;
	size_t total = 0;
	uint32_t id = 0;

	fill4k();
	tn_learn_peer();
	spl_net_addr_set_v6(&dst, PEER_IP6);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 5060, 5070, payload4k,
				      sizeof(payload4k)), 0);
	tn_flush();
	cr_assert_eq(T.n_tx, 3);
	for (unsigned i = 0; i < 3; i++) {
		size_t n = tn_tx_bytes(i, f, sizeof(f));
		const uint8_t *ip = f + 14, *fh = f + 54;
		uint16_t fd = rd16(fh + 2);
		uint32_t fid = (uint32_t)fh[4] << 24 | (uint32_t)fh[5] << 16 | fh[6] << 8 | fh[7];

		cr_assert_eq(n, 14 + 40 + 8 + lens[i]);
		cr_assert_leq(n - 14, 1500);
		cr_assert_eq(ip[6], 44);
		cr_assert_eq(rd16(ip + 4), 8 + lens[i]);
		cr_assert_eq(fh[0], 17);
		cr_assert_eq(fd & ~7u, total, "offset");
		cr_assert_eq(fd & 1, i < 2, "M flag");
		if (i == 0) {
			id = fid;
			memcpy(ip0, ip, 40);
		}
		cr_assert_eq(fid, id);
		memcpy(whole + total, fh + 8, lens[i]);
		total += lens[i];
	}
	cr_assert_eq(total, 4008);
	cr_assert(ref_l4_ok(6, ip0, whole, 4008, 17));
	cr_assert_arr_eq(whole + 8, payload4k, sizeof(payload4k));

	peer = peer_net(&res);
	loop_to_peer(peer, &res);
	check_peer_got_4k(peer, &res);
}

Test(frag, tx_fragments_held_then_sent_on_resolution)
{
	struct spl_net_addr dst;
	struct pkt p;

	fill4k();
	spl_net_addr_set_v4(&dst, PEER2_IP);
	cr_assert_eq(spl_net_udp_send(T.net, NULL, &dst, 5060, 5070, payload4k,
				      sizeof(payload4k)), -EAGAIN);
	tn_flush();
	cr_assert_eq(T.n_tx, 1, "only the ARP request");
	cr_assert_eq(tn_stat(SPL_NET_STAT_NEIGH_HELD), 1, "held whole, one slot");
	tn_tx_clear();
	pk_eth(&p, OUR_MAC, PEER2_MAC, 0x0806, 0);
	pk_arp(&p, 2, PEER2_MAC, PEER2_IP, OUR_MAC, OUR_IP);
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(T.n_tx, 3);
}
