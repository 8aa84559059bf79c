/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: the per-shard L2/L3/L4 stack of a worker lcore.
 *
 * One context per shard (port + queue pair), touched only by the owning
 * lcore: no locks, no allocation and no system calls after
 * spl_net_create(). It speaks Ethernet (untagged, or 802.1Q with one
 * configured VLAN), ARP, IPv4, IPv6 with Neighbor Discovery, ICMP and
 * ICMPv6 echo, and UDP; reassembles fragmented datagrams with rte_ip_frag
 * and fragments outgoing datagrams above the MTU. doc/net.md has the
 * policies (what is answered, what goes to the exception path, drops).
 *
 * One loop turn of a worker:
 *
 *     n = rte_eth_rx_burst(port, queue, pkts, 32);
 *     spl_net_rx_burst(net, pkts, n, now, &res);
 *     for (i = 0; i < res.n_sip; i++) sip(res.sip[i]);   // caller frees mbuf
 *     exception(res.exc, res.n_exc);                      // to the TAP port
 *     ... spl_net_udp_send(net, ...) ...
 *     spl_net_tick(net, now);                             // any period <= 100 ms
 *     spl_net_tx_flush(net);
 *
 * Time is an argument everywhere (a TSC value, or any counter whose rate
 * is config.tsc_hz), so tests drive a virtual clock. Send functions use
 * the time last passed to spl_net_rx_burst or spl_net_tick.
 *
 * Ownership: every mbuf given to the stack is consumed (sent, held for
 * ARP/ND, handed out in the RX result, or freed and counted). mbufs handed
 * out in the RX result belong to the caller.
 */
#ifndef SPL_NET_H
#define SPL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <rte_common.h>
#include <rte_ethdev.h>   /* RTE_ETH_{RX,TX}_OFFLOAD_* in the config */
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

struct spl_net;

/* ------------------------------------------------------------------ */
/* Limits                                                              */

#define SPL_NET_BURST_MAX      64   /* packets per spl_net_rx_burst call */
#define SPL_NET_TX_BUF         128  /* TX buffer; auto-flushed when full */
#define SPL_NET_MAX_ADDRS      8    /* own addresses per family */
#define SPL_NET_MAX_SIP_PORTS  8
#define SPL_NET_NEIGH_HOLD     4    /* packets held per unresolved next hop */
#define SPL_NET_NEIGH_EVENTS   16   /* neighbor events per RX burst */
#define SPL_NET_MAX_FRAGS      64   /* fragments per outgoing datagram */
/* Headroom spl_net_udp_send_mbuf needs in front of the payload:
 * Ethernet + VLAN + IPv6 + UDP. */
#define SPL_NET_HDR_ROOM       (RTE_ETHER_HDR_LEN + 4 + 40 + 8)

/* ------------------------------------------------------------------ */
/* Addresses                                                           */

/*
 * An IP address. family is AF_INET or AF_INET6 (0: none); IPv4 lives in
 * addr[0..3] in network order, the rest zero. Same layout as the family
 * and addr fields of struct spl_txn_peer (lib/txn), see the helpers below.
 */
struct spl_net_addr {
	uint8_t family;
	uint8_t addr[16];
};

static inline void
spl_net_addr_set_v4(struct spl_net_addr *a, const void *be4)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	memcpy(a->addr, be4, 4);
}

static inline void
spl_net_addr_set_v6(struct spl_net_addr *a, const void *a16)
{
	a->family = AF_INET6;
	memcpy(a->addr, a16, 16);
}

static inline bool
spl_net_addr_eq(const struct spl_net_addr *a, const struct spl_net_addr *b)
{
	if (a->family != b->family)
		return false;
	return memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

/* Text forms (slow path: config, control socket). 0 or -EINVAL. */
int spl_net_addr_parse(struct spl_net_addr *a, const char *text);
/* Writes a NUL-terminated string; returns its length or -ENOSPC/-EINVAL. */
int spl_net_addr_format(const struct spl_net_addr *a, char *buf, size_t size);

/*
 * Conversion to and from anything with `family`, `addr[16]` and a host
 * order `port`, i.e. struct spl_txn_peer. Macros so that lib/net does not
 * depend on lib/txn; typed inline versions follow when spl_txn.h was
 * included before this header.
 */
#define SPL_NET_ADDR_FROM_PEER(na, peer) do {                         \
		(na)->family = (peer)->family;                          \
		memcpy((na)->addr, (peer)->addr, sizeof((na)->addr));   \
	} while (0)
#define SPL_NET_ADDR_TO_PEER(peer, na, port_) do {                    \
		(peer)->family = (na)->family;                          \
		memcpy((peer)->addr, (na)->addr, sizeof((na)->addr));   \
		(peer)->port = (port_);                                 \
	} while (0)

#ifdef SPL_TXN_H
static inline void
spl_net_addr_from_txn_peer(struct spl_net_addr *na, const struct spl_txn_peer *p)
{
	SPL_NET_ADDR_FROM_PEER(na, p);
}
static inline void
spl_net_addr_to_txn_peer(struct spl_txn_peer *p, const struct spl_net_addr *na,
			 uint16_t port)
{
	SPL_NET_ADDR_TO_PEER(p, na, port);
}
#endif

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

struct spl_net_ip4 {
	uint8_t addr[4];      /* network order */
	uint8_t prefix_len;   /* on-link prefix, 0..32 */
};

struct spl_net_ip6 {
	uint8_t addr[16];
	uint8_t prefix_len;   /* on-link prefix, 0..128 */
};

/*
 * Sends a burst; returns how many the device took (the rest is freed and
 * counted as tx_full). NULL means rte_eth_tx_burst(port_id, queue_id).
 * Tests and the perf harness capture output this way.
 */
typedef uint16_t (*spl_net_tx_fn)(void *arg, struct rte_mbuf **pkts, uint16_t n);

struct spl_net_config {
	uint16_t port_id;
	uint16_t queue_id;            /* this shard's TX queue */
	struct rte_ether_addr mac;
	uint16_t vlan_id;             /* 1..4094; 0 = untagged only */
	uint16_t mtu;                 /* L3 MTU, default 1500 */

	uint8_t n_ip4;
	uint8_t n_ip6;
	struct spl_net_ip4 ip4[SPL_NET_MAX_ADDRS];
	/* Global or link-local; an EUI-64 link-local address (fe80::/64 from
	 * the MAC) is added when none is configured and n_ip6 > 0. */
	struct spl_net_ip6 ip6[SPL_NET_MAX_ADDRS];
	uint8_t gw4[4];               /* 0.0.0.0: no IPv4 gateway */
	uint8_t gw6[16];              /* ::: no IPv6 gateway (usually link-local) */

	uint8_t n_sip_ports;
	uint16_t sip_ports[SPL_NET_MAX_SIP_PORTS];   /* host order, default 5060 */

	/* Offloads enabled on the port (RTE_ETH_RX_OFFLOAD_*, RTE_ETH_TX_OFFLOAD_*).
	 * RX checksum flags in ol_flags are honoured whenever a PMD sets them;
	 * TX uses IPV4_CKSUM, UDP_CKSUM, VLAN_INSERT and MULTI_SEGS (without it
	 * fragments are linearised). */
	uint64_t rx_offloads;
	uint64_t tx_offloads;

	/* Neighbor cache (ARP + ND, one table). Times in milliseconds. */
	uint32_t neigh_entries;       /* power of two >= 4, default 256 */
	uint32_t neigh_reachable_ms;  /* entry lifetime after a confirmation, default 60000 */
	uint32_t neigh_retry_ms;      /* first retry, doubled each time, default 1000 */
	uint32_t neigh_retries;       /* re-requests before failing, default 3 */
	uint32_t neigh_fail_ms;       /* failed entry refuses sends this long, default 3000 */
	/* Hand ARP replies and neighbor advertisements to the exception path
	 * too (after learning from them), so the kernel behind the TAP port
	 * can resolve its own next hops on a shared MAC. */
	bool neigh_to_exception;
	/* ARP requests, NS and unicast IP for addresses that are not ours go
	 * to the exception path instead of being dropped: for a kernel with
	 * its own management address on the shared NIC. */
	bool foreign_to_exception;

	/* Reassembly. */
	uint32_t frag_entries;        /* datagrams in reassembly at once, default 256 */
	uint32_t frag_timeout_ms;     /* default 2000 */

	/* Mempools. pool: replies, requests, copies, fragment headers (direct);
	 * pool_indirect: fragment payload references (data room 0 is enough);
	 * pool_large (optional): linearisation of reassembled SIP datagrams
	 * larger than pool's data room. */
	struct rte_mempool *pool;
	struct rte_mempool *pool_indirect;
	struct rte_mempool *pool_large;

	uint64_t tsc_hz;              /* rate of the `now` arguments; 0: rte_get_tsc_hz() */
	/* IPv4 ID and IPv6 fragment ID are shard_index + k * shard_count so
	 * that shards never reuse each other's IDs towards one peer. */
	uint16_t shard_index;
	uint16_t shard_count;         /* default 1 */
	int socket_id;                /* for the tables; default SOCKET_ID_ANY */
	uint8_t ttl;                  /* IPv4 TTL, default 64 */
	uint8_t hop_limit;            /* IPv6 hop limit, default 64 */

	spl_net_tx_fn tx_fn;          /* NULL: rte_eth_tx_burst */
	void *tx_arg;
};

/* Fills defaults (everything else zero). */
void spl_net_config_init(struct spl_net_config *cfg);

/* Returns NULL with rte_errno (and errno) set: EINVAL, ENOMEM. */
struct spl_net *spl_net_create(const struct spl_net_config *cfg);
/* Frees held and buffered packets, the tables and the context. */
void spl_net_free(struct spl_net *net);

/* ------------------------------------------------------------------ */
/* Receive                                                             */

/* One SIP datagram. On return the mbuf is one segment whose data is
 * exactly the UDP payload (headers sit in its headroom); payload/len
 * repeat that for convenience. A reassembled datagram that did not fit
 * its first segment was copied into a fresh mbuf (from pool, or pool_large
 * when bigger than pool's data room). */
struct spl_net_dgram {
	struct rte_mbuf *m;
	const char *payload;
	uint32_t len;
	uint16_t src_port;            /* host order */
	uint16_t dst_port;
	struct spl_net_addr src;
	struct spl_net_addr dst;
};

/* A neighbor this shard learned from a reply. RSS puts ARP (and NA) on
 * whatever queue it likes, so the app forwards these to the other shards
 * (spl_net_neigh_update), whose held packets would otherwise wait for a
 * reply that another core received. */
struct spl_net_neigh_event {
	struct spl_net_addr addr;
	struct rte_ether_addr mac;
};

struct spl_net_rx_result {
	uint16_t n_sip;
	uint16_t n_exc;
	uint16_t n_neigh;
	struct spl_net_dgram sip[SPL_NET_BURST_MAX];
	/* Frames for the kernel, unchanged: other protocols (TCP, ...), UDP
	 * to non-SIP ports, ICMP other than echo, broadcast/multicast IP,
	 * unknown ethertypes. A reassembled datagram goes as one chained
	 * mbuf. */
	struct rte_mbuf *exc[SPL_NET_BURST_MAX];
	struct spl_net_neigh_event neigh[SPL_NET_NEIGH_EVENTS];
};

/*
 * Classifies up to SPL_NET_BURST_MAX packets; ARP, ND and echo are
 * answered into the TX buffer, fragments go into the reassembly table.
 * Returns how many of pkts were consumed (min(n, SPL_NET_BURST_MAX)).
 */
uint16_t spl_net_rx_burst(struct spl_net *net, struct rte_mbuf **pkts, uint16_t n,
			  uint64_t now, struct spl_net_rx_result *out);

/* ------------------------------------------------------------------ */
/* Send                                                                */

/*
 * Sends `len` bytes from `data` (copied into mbufs from pool, chained
 * when larger than one) as a UDP datagram. src NULL: pick our address of
 * the destination's family (same subnet, else the first; link-local for a
 * link-local destination). Fragments above the MTU.
 *
 * Returns 0 (queued on the TX buffer), -EAGAIN (held until ARP/ND
 * resolves the next hop; counts as sent later), or a drop: -ENOBUFS
 * (no mbuf, hold queue full), -EHOSTUNREACH (next hop failed to
 * resolve), -ENETUNREACH (no route), -EADDRNOTAVAIL (no source address),
 * -EMSGSIZE, -EINVAL.
 */
int spl_net_udp_send(struct spl_net *net, const struct spl_net_addr *src,
		     const struct spl_net_addr *dst, uint16_t src_port, uint16_t dst_port,
		     const void *data, uint32_t len);

/*
 * Same, with the payload already in `m` (data = payload, any number of
 * segments, at least SPL_NET_HDR_ROOM bytes of headroom). Headers are
 * prepended in place. m is always consumed, whatever the result.
 */
int spl_net_udp_send_mbuf(struct spl_net *net, const struct spl_net_addr *src,
			  const struct spl_net_addr *dst, uint16_t src_port,
			  uint16_t dst_port, struct rte_mbuf *m);

/* Frames from the exception (TAP) port: queued to the NIC unchanged.
 * Returns n (all consumed). */
uint16_t spl_net_exception_tx(struct spl_net *net, struct rte_mbuf **pkts, uint16_t n);

/* Hands the TX buffer to the device (config.tx_fn or rte_eth_tx_burst);
 * what the device refuses is freed and counted. Returns frames sent. */
uint16_t spl_net_tx_flush(struct spl_net *net);

/* ------------------------------------------------------------------ */
/* Time and neighbors                                                  */

/*
 * Housekeeping: the first call announces our addresses (gratuitous ARP,
 * unsolicited NA); every call expires reassembly entries and ages a slice
 * of the neighbor cache (retries with backoff, expiry, failure).
 */
void spl_net_tick(struct spl_net *net, uint64_t now);

/* Announce again at the next tick (link up, address change). */
void spl_net_announce(struct spl_net *net);

enum spl_net_neigh_state {
	SPL_NET_NEIGH_FREE = 0,
	SPL_NET_NEIGH_INCOMPLETE,   /* request sent, packets may be held */
	SPL_NET_NEIGH_REACHABLE,    /* confirmed, not yet aged */
	SPL_NET_NEIGH_STALE,        /* aged while in use: still used, re-probing */
	SPL_NET_NEIGH_FAILED,       /* no answer: sends fail until it times out */
};

/* State of the entry for `addr` (FREE if none), MAC copied when known. */
enum spl_net_neigh_state spl_net_neigh_lookup(const struct spl_net *net,
					      const struct spl_net_addr *addr,
					      struct rte_ether_addr *mac);

/* A neighbor learned by another shard (struct spl_net_neigh_event):
 * updates an existing entry only, releasing its held packets. */
void spl_net_neigh_update(struct spl_net *net, const struct spl_net_addr *addr,
			  const struct rte_ether_addr *mac);

/* ------------------------------------------------------------------ */
/* Counters                                                            */

enum spl_net_stat {
#define SPL_NET_STAT(e, name, help) SPL_NET_STAT_##e,
#include "spl_net_stats.def"
#undef SPL_NET_STAT
	SPL_NET_STAT__COUNT
};

enum spl_net_drop {
#define SPL_NET_DROP(e, name, help) SPL_NET_DROP_##e,
#include "spl_net_drops.def"
#undef SPL_NET_DROP
	SPL_NET_DROP__COUNT
};

/* Per shard, plain increments by the owner; readers sum over shards and
 * accept a torn view. */
struct spl_net_stats {
	uint64_t stat[SPL_NET_STAT__COUNT];
	uint64_t drop[SPL_NET_DROP__COUNT];
} __rte_cache_aligned;

const struct spl_net_stats *spl_net_stats(const struct spl_net *net);
void spl_net_stats_add(struct spl_net_stats *acc, const struct spl_net_stats *s);
uint64_t spl_net_drops_total(const struct spl_net_stats *s);
const char *spl_net_stat_name(enum spl_net_stat s);   /* NULL if out of range */
const char *spl_net_stat_help(enum spl_net_stat s);
const char *spl_net_drop_name(enum spl_net_drop d);
const char *spl_net_drop_help(enum spl_net_drop d);

#ifdef __cplusplus
}
#endif

#endif /* SPL_NET_H */
