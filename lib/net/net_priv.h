/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net internals: the shard context and the functions the per-protocol
 * files call on each other. Nothing here is exported.
 *
 * Mbuf conventions inside the stack:
 *   receive: data starts at L2; l2_len/l3_len are set as headers are
 *            validated; a function handed a struct net_rx consumes rx->m.
 *   send:    each layer prepends its header: UDP/ICMP payload -> L4 ->
 *            net_ipv{4,6}_output (L3) -> neighbor -> net_eth_output (L2).
 *            A packet held for resolution is kept at L3, unfragmented.
 */
#ifndef SPL_NET_PRIV_H
#define SPL_NET_PRIV_H

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>

#include "spl_net.h"

#define NET_ETHER_TYPE_VLAN  0x8100
#define NET_ETHER_TYPE_QINQ  0x88a8
#define NET_IPPROTO_ICMPV6   58
#define NET_IPPROTO_FRAG6    44

#define NET_ICMP6_ECHO_REQUEST 128
#define NET_ICMP6_ECHO_REPLY   129
#define NET_ND_NS              135
#define NET_ND_NA              136
#define NET_ND_OPT_SLLA        1
#define NET_ND_OPT_TLLA        2
#define NET_ND_NA_FLAG_R       0x80
#define NET_ND_NA_FLAG_S       0x40
#define NET_ND_NA_FLAG_O       0x20

/* ------------------------------------------------------------------ */
/* Neighbor cache                                                      */

#define NET_NEIGH_WAYS 4   /* entries per bucket */

struct net_neigh {
	uint8_t family;
	uint8_t state;            /* enum spl_net_neigh_state */
	uint8_t retries;
	uint8_t n_held;
	uint8_t used;             /* a packet went to it since the last confirmation */
	uint8_t addr[16];
	struct rte_ether_addr mac;
	uint64_t deadline;        /* expiry, next retry or end of FAILED */
	uint64_t updated;         /* last state change, for eviction */
	struct rte_mbuf *held[SPL_NET_NEIGH_HOLD];   /* at L3 */
};

/* ------------------------------------------------------------------ */
/* Context                                                             */

struct net_ip4 {
	rte_be32_t addr;
	rte_be32_t mask;
};

struct net_ip6 {
	uint8_t addr[16];
	uint8_t plen;
};

struct spl_net {
	struct spl_net_stats st;
	struct spl_net_config cfg;
	uint64_t now;
	uint64_t reach_cyc, retry_cyc, fail_cyc;

	uint8_t n_ip4, n_ip6;
	bool has_gw4, has_gw6;
	bool announce;             /* announce at the next tick */
	struct net_ip4 ip4[SPL_NET_MAX_ADDRS];
	struct net_ip6 ip6[SPL_NET_MAX_ADDRS + 1];   /* + EUI-64 link-local */
	rte_be32_t gw4;
	uint8_t gw6[16];
	uint16_t ip4_id;
	uint32_t ip6_id;

	struct net_neigh *neigh;
	uint32_t neigh_n;          /* entries (power of two) */
	uint32_t neigh_cursor;     /* tick scans from here */

	struct rte_ip_frag_tbl *frag_tbl;

	uint16_t n_tx;
	struct rte_mbuf *tx[SPL_NET_TX_BUF];

	uint8_t sip_port[65536 / 8];

	struct rte_ip_frag_death_row dr;
};

/* A frame on its way up. */
struct net_rx {
	struct rte_mbuf *m;
	struct spl_net_rx_result *out;
	struct rte_ether_addr src_mac;
	bool tagged;               /* arrived in our VLAN: the reply is tagged too */
	bool reasm;                /* reassembled: RX L4 checksum flags mean nothing */
};

/* What L3 found, for L4. Offsets from the mbuf data start (L2). */
struct net_l3 {
	struct spl_net_addr src, dst;
	uint32_t l4_off;
	uint32_t l4_len;           /* IP payload after extension headers */
	uint8_t proto;
	uint8_t hop;               /* TTL or hop limit as received */
	bool dst_mcast;            /* multicast destination we listen to */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

#define NET_STAT(net, e)       ((net)->st.stat[SPL_NET_STAT_##e]++)
#define NET_STAT_ADD(net, e, v) ((net)->st.stat[SPL_NET_STAT_##e] += (v))
#define NET_DROPS(net, e, v)   ((net)->st.drop[SPL_NET_DROP_##e] += (v))

static inline void
net_drop(struct spl_net *net, struct rte_mbuf *m, enum spl_net_drop why)
{
	net->st.drop[why]++;
	rte_pktmbuf_free(m);
}
#define NET_DROP(net, m, e) net_drop((net), (m), SPL_NET_DROP_##e)

/* A received frame becomes something we send: forget RX offload flags
 * but keep the ones describing the buffer itself. */
static inline void
net_reuse_for_tx(struct rte_mbuf *m)
{
	m->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
	m->vlan_tci = 0;
	m->packet_type = 0;
}

static inline uint64_t
net_ms_to_cyc(const struct spl_net *net, uint64_t ms)
{
	return ms * net->cfg.tsc_hz / 1000;
}

static inline bool
net_ip6_is_mcast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static inline bool
net_ip6_is_unspec(const uint8_t *a)
{
	static const uint8_t zero[16];
	return memcmp(a, zero, 16) == 0;
}

static inline bool
net_ip6_is_linklocal(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static inline bool
net_ip4_is_mcast(rte_be32_t a)
{
	return (rte_be_to_cpu_32(a) & 0xf0000000u) == 0xe0000000u;
}

/* ff02::1:ffXX:XXXX for a */
static inline void
net_ip6_solicited_node(uint8_t out[16], const uint8_t *a)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
	memcpy(out, pfx, 13);
	memcpy(out + 13, a + 13, 3);
}

/* ------------------------------------------------------------------ */
/* Checksums (net_udp.c)                                               */

/* Sums are unreduced 32-bit sums of 16-bit words as they lie in memory,
 * so the folded result is stored without byte swapping. */
uint32_t net_cksum_phdr4(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len);
uint32_t net_cksum_phdr6(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len);
uint32_t net_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint32_t sum);

static inline uint16_t
net_cksum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* RFC 1624 eqn. 3: one 16-bit word of the covered data changed. */
static inline uint16_t
net_cksum_adjust(uint16_t cksum, uint16_t old_word, uint16_t new_word)
{
	uint32_t s = (uint16_t)~cksum + (uint16_t)~old_word + (uint32_t)new_word;
	return (uint16_t)~net_cksum_fold(s);
}

/* ------------------------------------------------------------------ */
/* Per-file entry points                                               */

/* net.c */
bool net_ip4_is_ours(const struct spl_net *net, rte_be32_t a);
bool net_ip6_is_ours(const struct spl_net *net, const uint8_t *a);
void net_exception(struct spl_net *net, struct net_rx *rx);

/* net_eth.c */
void net_eth_input(struct spl_net *net, struct net_rx *rx);
int net_eth_output(struct spl_net *net, struct rte_mbuf *m, uint16_t ether_type,
		   const struct rte_ether_addr *dst, bool tagged);
void net_eth_mcast_mac4(struct rte_ether_addr *mac, rte_be32_t ip);
void net_eth_mcast_mac6(struct rte_ether_addr *mac, const uint8_t *ip6);

/* net_arp.c */
void net_arp_input(struct spl_net *net, struct net_rx *rx);
void net_arp_request(struct spl_net *net, rte_be32_t target, const struct rte_ether_addr *dst);
void net_arp_announce(struct spl_net *net);

/* net_nd.c */
void net_nd_ns_input(struct spl_net *net, struct net_rx *rx, const struct net_l3 *l3);
void net_nd_na_input(struct spl_net *net, struct net_rx *rx, const struct net_l3 *l3);
void net_nd_solicit(struct spl_net *net, const uint8_t *target, const struct rte_ether_addr *dst);
void net_nd_announce(struct spl_net *net);

/* net_neigh.c */
int net_neigh_init(struct spl_net *net);
void net_neigh_fini(struct spl_net *net);
int net_neigh_output(struct spl_net *net, struct rte_mbuf *m, uint8_t family,
		     const uint8_t *next_hop);
/* A reply or solicitation from `addr` carried `mac`. create: add an
 * entry if there is none (the peer talks to us). */
void net_neigh_confirm(struct spl_net *net, uint8_t family, const uint8_t *addr,
		       const struct rte_ether_addr *mac, bool create);
void net_neigh_event(struct spl_net *net, struct net_rx *rx, uint8_t family,
		     const uint8_t *addr, const struct rte_ether_addr *mac);
void net_neigh_tick(struct spl_net *net, uint64_t now);

/* net_ipv4.c */
void net_ipv4_input(struct spl_net *net, struct net_rx *rx);
int net_ipv4_output(struct spl_net *net, struct rte_mbuf *m, rte_be32_t src, rte_be32_t dst,
		    uint8_t proto, const struct rte_ether_addr *mac, bool tagged);
rte_be32_t net_ipv4_select_src(const struct spl_net *net, rte_be32_t dst);

/* net_ipv6.c */
void net_ipv6_input(struct spl_net *net, struct net_rx *rx);
int net_ipv6_output(struct spl_net *net, struct rte_mbuf *m, const uint8_t *src,
		    const uint8_t *dst, uint8_t proto, uint8_t hop_limit,
		    const struct rte_ether_addr *mac, bool tagged);
const uint8_t *net_ipv6_select_src(const struct spl_net *net, const uint8_t *dst);

/* net_icmp.c */
void net_icmp4_input(struct spl_net *net, struct net_rx *rx, const struct net_l3 *l3);
void net_icmp6_input(struct spl_net *net, struct net_rx *rx, const struct net_l3 *l3);

/* net_udp.c */
void net_udp_input(struct spl_net *net, struct net_rx *rx, const struct net_l3 *l3);

/* net_frag.c */
int net_frag_init(struct spl_net *net);
void net_frag_fini(struct spl_net *net);
struct rte_mbuf *net_frag_reassemble4(struct spl_net *net, struct rte_mbuf *m,
				      struct rte_ipv4_hdr *ip);
struct rte_mbuf *net_frag_reassemble6(struct spl_net *net, struct rte_mbuf *m,
				      struct rte_ipv6_hdr *ip, struct rte_ipv6_fragment_ext *fh);
void net_frag_expire(struct spl_net *net, uint64_t now);
void net_frag_free_dr(struct spl_net *net);
struct rte_mbuf *net_frag_linearise(struct spl_net *net, struct rte_mbuf *m,
				    uint32_t off, uint32_t len);
int net_frag_output(struct spl_net *net, struct rte_mbuf *m, uint8_t family,
		    const struct rte_ether_addr *mac, bool tagged);

/* net_tx.c */
void net_tx_enqueue(struct spl_net *net, struct rte_mbuf *m);
/* m at L3: fragment if above the MTU, then Ethernet. */
int net_l3_xmit(struct spl_net *net, struct rte_mbuf *m, uint8_t family,
		const struct rte_ether_addr *mac, bool tagged);
/* Set the length of m to len bytes, freeing segments past it. */
void net_trim_to(struct rte_mbuf *m, uint32_t len);

#endif /* SPL_NET_PRIV_H */
