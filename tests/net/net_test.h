/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/net: fixture and frame builders shared by the suites.
 *
 * Each test runs in its own Criterion process; the fixture initialises
 * EAL there (--no-huge --in-memory --no-shconf, no PCI), creates the
 * mempools and one spl_net context whose TX goes to a capture array. The
 * clock is virtual: tsc_hz = 1000, so `now` is in milliseconds. Teardown
 * frees everything and checks that every mbuf went back to its pool.
 *
 * Frames are built byte by byte with our own reference checksum (not the
 * library's) so that a checksum bug cannot hide behind itself.
 */
#ifndef SPL_NET_TEST_H
#define SPL_NET_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <criterion/criterion.h>

#include "spl_net.h"

#define TN_POOL_SIZE   1023
#define TN_TX_MAX      512

struct tn {
	struct spl_net_config cfg;
	struct spl_net *net;
	struct rte_mempool *pool, *ind, *large;
	uint64_t now;
	struct spl_net_rx_result res;
	struct rte_mbuf *tx[TN_TX_MAX];
	unsigned n_tx;
	unsigned tx_accept;        /* tx_fn takes at most this many per call */
};
extern struct tn T;

/* Addresses of the test link. */
extern const uint8_t OUR_MAC[6], PEER_MAC[6], PEER2_MAC[6], GW_MAC[6], BCAST_MAC[6];
extern const uint8_t OUR_IP[4], OUR_IP_B[4], PEER_IP[4], PEER2_IP[4], OTHER_IP[4], GW_IP[4], FAR_IP[4];
extern const uint8_t OUR_IP6[16], PEER_IP6[16], PEER2_IP6[16], GW_IP6[16], FAR_IP6[16];

void tn_setup(void);
void tn_teardown(void);
/* Recreate the context with a modified config (call at test start). */
void tn_reconfig(void (*tweak)(struct spl_net_config *cfg));
/* Feed frames, flush TX into the capture array. */
void tn_rx(struct rte_mbuf **pkts, unsigned n);
void tn_rx1(struct rte_mbuf *m);
void tn_tick(uint64_t now);
void tn_flush(void);
void tn_tx_clear(void);
/* Frees the SIP and exception mbufs of the last RX result. */
void tn_res_free(void);
/* Copy of captured frame i (all segments); returns its length. */
size_t tn_tx_bytes(unsigned i, uint8_t *buf, size_t size);
uint64_t tn_drop(enum spl_net_drop d);
uint64_t tn_stat(enum spl_net_stat s);
/* Make PEER_IP / PEER_IP6 resolved without traffic. */
void tn_learn_peer(void);

/* ---- reference checksums (host-order arithmetic, big-endian words) ---- */
uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t sum);
uint16_t ref_fold(uint32_t sum);   /* ~folded, host order */
bool ref_ip4_ok(const uint8_t *ip);
bool ref_l4_ok(int fam, const uint8_t *l3, const uint8_t *l4, size_t l4_len, uint8_t proto);

/* ---- frame builder ---- */
struct pkt {
	uint8_t b[20000];
	size_t len;
	size_t l3, l4;
	int fam;          /* 4 or 6 */
	uint8_t proto;
};

void pk_eth(struct pkt *p, const uint8_t *dst, const uint8_t *src, uint16_t type, uint16_t vlan);
void pk_ip4(struct pkt *p, const uint8_t *src, const uint8_t *dst, uint8_t proto);
void pk_ip4_opts(struct pkt *p, const uint8_t *src, const uint8_t *dst, uint8_t proto, unsigned ihl);
void pk_ip6(struct pkt *p, const uint8_t *src, const uint8_t *dst, uint8_t nh, uint8_t hop);
void pk_udp(struct pkt *p, uint16_t sport, uint16_t dport);
void pk_put(struct pkt *p, const void *d, size_t n);
void pk_fill(struct pkt *p, size_t n);   /* n bytes of a known pattern */
void pk_icmp_echo(struct pkt *p, uint8_t type, uint16_t id, uint16_t seq, size_t payload);
void pk_arp(struct pkt *p, uint16_t op, const uint8_t *sha, const uint8_t *sip,
	    const uint8_t *tha, const uint8_t *tip);
void pk_ns(struct pkt *p, const uint8_t *target, const uint8_t *slla);
void pk_na(struct pkt *p, uint8_t flags, const uint8_t *target, const uint8_t *tlla);
/* Lengths and checksums of everything built so far. */
void pk_fin(struct pkt *p);
void pk_ip4_recsum(struct pkt *p);
struct rte_mbuf *pk_mbuf(const struct pkt *p);

/* Fragments of a finished IPv4/IPv6 datagram: payload bytes [off, off+n)
 * after the IP header, with MF as given. */
void pk_frag4(const struct pkt *whole, size_t off, size_t n, bool mf, struct pkt *out);
void pk_frag6(const struct pkt *whole, size_t off, size_t n, bool mf, uint32_t id, struct pkt *out);

/* Byte pattern used by pk_fill, to check delivered payloads. */
static inline uint8_t pk_pattern(size_t i) { return (uint8_t)(i * 7 + 3); }

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

#endif
