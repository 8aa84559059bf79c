/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP: answering, resolving, holding, aging, announcing. */
#include <errno.h>
#include <string.h>

#include "net_test.h"

TestSuite(arp, .init = tn_setup, .fini = tn_teardown);

static const uint8_t ZERO6[6];

static void
rx_arp(uint16_t op, const uint8_t *eth_dst, const uint8_t *sha, const uint8_t *sip,
       const uint8_t *tha, const uint8_t *tip)
{
	struct pkt p;
	pk_eth(&p, eth_dst, sha, 0x0806, 0);
	pk_arp(&p, op, sha, sip, tha, tip);
	tn_rx1(pk_mbuf(&p));
}

/* Checks an ARP frame (untagged) and returns its opcode. */
static uint16_t
check_arp(unsigned i, const uint8_t *eth_dst, const uint8_t *sip, const uint8_t *tha,
	  const uint8_t *tip)
{
	uint8_t f[2048];
	size_t n = tn_tx_bytes(i, f, sizeof(f));

	cr_assert_geq(n, 42);
	cr_assert_arr_eq(f, eth_dst, 6);
	cr_assert_arr_eq(f + 6, OUR_MAC, 6);
	cr_assert_eq(rd16(f + 12), 0x0806);
	cr_assert_eq(rd16(f + 14), 1);
	cr_assert_eq(rd16(f + 16), 0x0800);
	cr_assert_eq(f[18], 6);
	cr_assert_eq(f[19], 4);
	cr_assert_arr_eq(f + 22, OUR_MAC, 6);
	cr_assert_arr_eq(f + 28, sip, 4);
	cr_assert_arr_eq(f + 32, tha, 6);
	cr_assert_arr_eq(f + 38, tip, 4);
	return rd16(f + 20);
}

static int
send_udp4(const uint8_t *ip, const char *text)
{
	struct spl_net_addr dst;
	spl_net_addr_set_v4(&dst, ip);
	return spl_net_udp_send(T.net, NULL, &dst, 5060, 5080, text, (uint32_t)strlen(text));
}

static enum spl_net_neigh_state
state4(const uint8_t *ip, struct rte_ether_addr *mac)
{
	struct spl_net_addr a;
	spl_net_addr_set_v4(&a, ip);
	return spl_net_neigh_lookup(T.net, &a, mac);
}

Test(arp, request_for_our_ip_gets_reply)
{
	struct rte_ether_addr mac;

	/* For the second address, to check the reply names the one asked. */
	rx_arp(1, BCAST_MAC, PEER_MAC, PEER_IP, ZERO6, OUR_IP_B);
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(check_arp(0, PEER_MAC, OUR_IP_B, PEER_MAC, PEER_IP), 2);
	cr_assert_eq(T.tx[0]->pkt_len, 42);
	cr_assert_eq(tn_stat(SPL_NET_STAT_ARP_REQ_IN), 1);
	cr_assert_eq(tn_stat(SPL_NET_STAT_ARP_REP_OUT), 1);
	cr_assert_eq(T.res.n_exc, 0);
	/* The requester is learned (it is about to talk to us). */
	cr_assert_eq(state4(PEER_IP, &mac), SPL_NET_NEIGH_REACHABLE);
	cr_assert_arr_eq(mac.addr_bytes, PEER_MAC, 6);
	cr_assert_eq(T.res.n_neigh, 1);
	cr_assert_eq(spl_net_drops_total(spl_net_stats(T.net)), 0);
}

Test(arp, request_for_other_ip_ignored)
{
	rx_arp(1, BCAST_MAC, PEER_MAC, PEER_IP, ZERO6, OTHER_IP);
	cr_assert_eq(T.n_tx, 0);
	cr_assert_eq(T.res.n_exc, 0);
	cr_assert_eq(tn_drop(SPL_NET_DROP_ARP_NOT_FOR_US), 1);
	cr_assert_eq(tn_stat(SPL_NET_STAT_ARP_REQ_IN), 0);
	/* Not for us and unknown: nothing learned. */
	cr_assert_eq(state4(PEER_IP, NULL), SPL_NET_NEIGH_FREE);
}

static void foreign_exc(struct spl_net_config *c) { c->foreign_to_exception = true; }
static void neigh_exc(struct spl_net_config *c) { c->neigh_to_exception = true; }

Test(arp, request_for_other_ip_to_kernel_when_foreign_to_exception)
{
	tn_reconfig(foreign_exc);
	rx_arp(1, BCAST_MAC, PEER_MAC, PEER_IP, ZERO6, OTHER_IP);
	cr_assert_eq(T.n_tx, 0);
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(T.res.exc[0]->pkt_len, 42);
}

Test(arp, malformed_dropped)
{
	struct pkt p;

	pk_eth(&p, BCAST_MAC, PEER_MAC, 0x0806, 0);
	pk_arp(&p, 1, PEER_MAC, PEER_IP, ZERO6, OUR_IP);
	p.b[p.l3 + 5] = 16;   /* protocol address length */
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_ARP_BAD), 1);

	pk_eth(&p, BCAST_MAC, PEER_MAC, 0x0806, 0);
	pk_arp(&p, 1, PEER_MAC, PEER_IP, ZERO6, OUR_IP);
	p.len -= 10;          /* truncated */
	tn_rx1(pk_mbuf(&p));
	cr_assert_eq(tn_drop(SPL_NET_DROP_ARP_BAD), 2);
	cr_assert_eq(T.n_tx, 0);
}

Test(arp, conflict_for_our_address_counted_not_learned)
{
	rx_arp(2, OUR_MAC, PEER_MAC, OUR_IP, OUR_MAC, OUR_IP);
	cr_assert_eq(tn_drop(SPL_NET_DROP_ADDR_CONFLICT), 1);
	cr_assert_eq(state4(OUR_IP, NULL), SPL_NET_NEIGH_FREE);
}

Test(arp, reply_fills_cache_and_releases_held)
{
	uint8_t f[2048];
	struct rte_ether_addr mac;

	cr_assert_eq(send_udp4(PEER2_IP, "hello"), -EAGAIN);
	cr_assert_eq(send_udp4(PEER2_IP, "again"), -EAGAIN);
	tn_flush();
	/* One broadcast request from the address on the peer's subnet. */
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(check_arp(0, BCAST_MAC, OUR_IP, ZERO6, PEER2_IP), 1);
	cr_assert_eq(state4(PEER2_IP, NULL), SPL_NET_NEIGH_INCOMPLETE);
	cr_assert_eq(tn_stat(SPL_NET_STAT_NEIGH_HELD), 2);
	tn_tx_clear();

	rx_arp(2, OUR_MAC, PEER2_MAC, PEER2_IP, OUR_MAC, OUR_IP);
	cr_assert_eq(state4(PEER2_IP, &mac), SPL_NET_NEIGH_REACHABLE);
	cr_assert_arr_eq(mac.addr_bytes, PEER2_MAC, 6);
	cr_assert_eq(T.n_tx, 2, "held packets sent on reply");
	for (unsigned i = 0; i < 2; i++) {
		size_t n = tn_tx_bytes(i, f, sizeof(f));
		cr_assert_eq(n, 14 + 20 + 8 + 5);
		cr_assert_arr_eq(f, PEER2_MAC, 6);
		cr_assert_eq(rd16(f + 12), 0x0800);
		cr_assert_arr_eq(f + 14 + 12, OUR_IP, 4);
		cr_assert_arr_eq(f + 14 + 16, PEER2_IP, 4);
		cr_assert(ref_ip4_ok(f + 14));
		cr_assert(ref_l4_ok(4, f + 14, f + 34, 13, 17));
		cr_assert_arr_eq(f + 42, i == 0 ? "hello" : "again", 5);
	}
	cr_assert_eq(tn_stat(SPL_NET_STAT_NEIGH_RELEASED), 2);
	cr_assert_eq(tn_stat(SPL_NET_STAT_ARP_REP_IN), 1);
	cr_assert_eq(T.res.n_exc, 0);
	cr_assert_eq(T.res.n_neigh, 1);
	cr_assert_arr_eq(T.res.neigh[0].mac.addr_bytes, PEER2_MAC, 6);
	tn_tx_clear();

	/* Resolved now: straight out. */
	cr_assert_eq(send_udp4(PEER2_IP, "third"), 0);
	tn_flush();
	cr_assert_eq(T.n_tx, 1);
}

Test(arp, hold_queue_is_bounded)
{
	for (int i = 0; i < SPL_NET_NEIGH_HOLD; i++)
		cr_assert_eq(send_udp4(PEER2_IP, "x"), -EAGAIN);
	cr_assert_eq(send_udp4(PEER2_IP, "x"), -ENOBUFS);
	cr_assert_eq(tn_drop(SPL_NET_DROP_NEIGH_HOLD_FULL), 1);
	cr_assert_eq(tn_stat(SPL_NET_STAT_NEIGH_HELD), SPL_NET_NEIGH_HOLD);
}

Test(arp, retries_back_off_then_fail)
{
	uint64_t t0 = T.now;

	cr_assert_eq(send_udp4(PEER2_IP, "x"), -EAGAIN);
	tn_flush();
	cr_assert_eq(T.n_tx, 1);
	tn_tick(t0 + 999);
	cr_assert_eq(T.n_tx, 1 + 4, "first tick announces (2 GARP + 2 NA), no retry yet: %u", T.n_tx);
	tn_tx_clear();
	tn_tick(t0 + 1000);          /* retry 1, next after 2 s */
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(check_arp(0, BCAST_MAC, OUR_IP, ZERO6, PEER2_IP), 1);
	tn_tick(t0 + 2999);
	cr_assert_eq(T.n_tx, 1);
	tn_tick(t0 + 3000);          /* retry 2, next after 4 s */
	cr_assert_eq(T.n_tx, 2);
	tn_tick(t0 + 7000);          /* retry 3, next after 8 s */
	cr_assert_eq(T.n_tx, 3);
	cr_assert_eq(state4(PEER2_IP, NULL), SPL_NET_NEIGH_INCOMPLETE);
	tn_tick(t0 + 15000);         /* out of retries */
	cr_assert_eq(T.n_tx, 3);
	cr_assert_eq(state4(PEER2_IP, NULL), SPL_NET_NEIGH_FAILED);
	cr_assert_eq(tn_drop(SPL_NET_DROP_NEIGH_FAILED), 1, "held packet dropped");
	cr_assert_eq(tn_stat(SPL_NET_STAT_ARP_REQ_OUT), 4);

	/* Failed: refuse at once, no new request. */
	cr_assert_eq(send_udp4(PEER2_IP, "x"), -EHOSTUNREACH);
	cr_assert_eq(tn_drop(SPL_NET_DROP_NEIGH_FAILED), 2);
	/* After neigh_fail_ms the entry goes and resolution starts over. */
	tn_tick(t0 + 18000);
	cr_assert_eq(state4(PEER2_IP, NULL), SPL_NET_NEIGH_FREE);
	cr_assert_eq(send_udp4(PEER2_IP, "x"), -EAGAIN);
	cr_assert_eq(tn_stat(SPL_NET_STAT_ARP_REQ_OUT), 5);
}

Test(arp, unused_entry_ages_out)
{
	tn_learn_peer();
	tn_tick(T.now + 60000 - 1);
	cr_assert_eq(state4(PEER_IP, NULL), SPL_NET_NEIGH_REACHABLE);
	tn_tick(T.now + 1);
	cr_assert_eq(state4(PEER_IP, NULL), SPL_NET_NEIGH_FREE);
	cr_assert_geq(tn_stat(SPL_NET_STAT_NEIGH_EXPIRED), 1);
}

Test(arp, used_entry_goes_stale_and_is_probed_unicast)
{
	uint64_t t0 = T.now;

	tn_learn_peer();
	tn_tick(t0);                  /* announcements out of the way */
	tn_tx_clear();
	cr_assert_eq(send_udp4(PEER_IP, "x"), 0);
	tn_flush();
	tn_tx_clear();
	tn_tick(t0 + 60000);
	cr_assert_eq(state4(PEER_IP, NULL), SPL_NET_NEIGH_STALE);
	/* The probe goes to the MAC we know; traffic keeps flowing. */
	cr_assert_eq(T.n_tx, 1);
	cr_assert_eq(check_arp(0, PEER_MAC, OUR_IP, ZERO6, PEER_IP), 1);
	cr_assert_eq(send_udp4(PEER_IP, "x"), 0);
	tn_flush();
	cr_assert_eq(T.n_tx, 2);
	/* The answer makes it reachable again. */
	rx_arp(2, OUR_MAC, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);
	cr_assert_eq(state4(PEER_IP, NULL), SPL_NET_NEIGH_REACHABLE);
}

Test(arp, stale_entry_without_answer_is_removed)
{
	uint64_t t0 = T.now;

	tn_learn_peer();
	cr_assert_eq(send_udp4(PEER_IP, "x"), 0);
	tn_tick(t0 + 60000);          /* stale, probe 1 */
	tn_tick(t0 + 62000);          /* probe 2 */
	tn_tick(t0 + 64000);          /* probe 3 */
	tn_tick(t0 + 68000);          /* probe 4 */
	cr_assert_eq(state4(PEER_IP, NULL), SPL_NET_NEIGH_STALE);
	tn_tick(t0 + 76000);
	cr_assert_eq(state4(PEER_IP, NULL), SPL_NET_NEIGH_FREE);
}

Test(arp, gratuitous_arp_and_unsolicited_na_at_start)
{
	uint8_t f[2048];
	uint8_t ll[16] = { 0xfe, 0x80, [8] = 0x00, 0, 0, 0xff, 0xfe, 0, 0, 0x01 };

	tn_tick(T.now);
	cr_assert_eq(T.n_tx, 4);
	cr_assert_eq(check_arp(0, BCAST_MAC, OUR_IP, ZERO6, OUR_IP), 1);
	cr_assert_eq(check_arp(1, BCAST_MAC, OUR_IP_B, ZERO6, OUR_IP_B), 1);
	cr_assert_eq(tn_stat(SPL_NET_STAT_ARP_GARP_OUT), 2);
	/* Unsolicited NA to all-nodes for the global and the EUI-64 link-local. */
	for (unsigned i = 2; i < 4; i++) {
		size_t n = tn_tx_bytes(i, f, sizeof(f));
		const uint8_t *ip = f + 14, *na = f + 54;
		cr_assert_eq(n, 14 + 40 + 32);
		cr_assert_arr_eq(f, ((uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }), 6);
		cr_assert_eq(rd16(f + 12), 0x86dd);
		cr_assert_eq(ip[7], 255);
		cr_assert_eq(ip[24], 0xff);
		cr_assert_eq(ip[25], 0x02);
		cr_assert_eq(ip[39], 0x01);
		cr_assert_eq(na[0], 136);
		cr_assert_eq(na[4], 0x20, "override, not solicited");
		cr_assert_arr_eq(na + 8, i == 2 ? OUR_IP6 : ll, 16);
		cr_assert_arr_eq(ip + 8, na + 8, 16);
		cr_assert_eq(na[24], 2);
		cr_assert_arr_eq(na + 26, OUR_MAC, 6);
		cr_assert(ref_l4_ok(6, ip, na, 32, 58));
	}
	tn_tx_clear();
	tn_tick(T.now + 10);
	cr_assert_eq(T.n_tx, 0, "announced once");
	spl_net_announce(T.net);
	tn_tick(T.now + 10);
	cr_assert_eq(T.n_tx, 4);
}

Test(arp, events_update_other_shards)
{
	struct spl_net *other;
	struct spl_net_addr dst;
	struct rte_ether_addr mac;

	other = spl_net_create(&T.cfg);
	cr_assert_not_null(other);
	spl_net_addr_set_v4(&dst, PEER2_IP);
	cr_assert_eq(spl_net_udp_send(other, NULL, &dst, 5060, 5060, "x", 1), -EAGAIN);
	spl_net_tx_flush(other);
	cr_assert_eq(T.n_tx, 1);          /* its ARP request */
	tn_tx_clear();

	/* The reply lands on this shard (RSS), which reports it. */
	rx_arp(2, OUR_MAC, PEER2_MAC, PEER2_IP, OUR_MAC, OUR_IP);
	cr_assert_eq(T.res.n_neigh, 1);
	cr_assert_eq(T.res.neigh[0].addr.family, AF_INET);
	cr_assert_arr_eq(T.res.neigh[0].addr.addr, PEER2_IP, 4);
	spl_net_neigh_update(other, &T.res.neigh[0].addr, &T.res.neigh[0].mac);
	spl_net_tx_flush(other);
	cr_assert_eq(T.n_tx, 1, "held packet of the other shard sent");
	cr_assert_eq(spl_net_neigh_lookup(other, &dst, &mac), SPL_NET_NEIGH_REACHABLE);

	/* An update for an address a shard does not use adds nothing. */
	spl_net_addr_set_v4(&dst, FAR_IP);
	spl_net_neigh_update(other, &dst, &mac);
	cr_assert_eq(spl_net_neigh_lookup(other, &dst, NULL), SPL_NET_NEIGH_FREE);
	spl_net_free(other);
}

Test(arp, replies_to_kernel_when_neigh_to_exception)
{
	tn_reconfig(neigh_exc);
	rx_arp(2, OUR_MAC, PEER2_MAC, PEER2_IP, OUR_MAC, OUR_IP);
	cr_assert_eq(T.res.n_exc, 1);
	cr_assert_eq(T.res.exc[0]->pkt_len, 42);
	cr_assert_arr_eq(rte_pktmbuf_mtod(T.res.exc[0], uint8_t *), OUR_MAC, 6);
	cr_assert_eq(state4(PEER2_IP, NULL), SPL_NET_NEIGH_REACHABLE);
}
