/* SPDX-License-Identifier: BSD-3-Clause */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "net_test.h"

struct tn T;

const uint8_t OUR_MAC[6]   = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t PEER_MAC[6]  = { 0x02, 0, 0, 0, 0, 0x02 };
const uint8_t PEER2_MAC[6] = { 0x02, 0, 0, 0, 0, 0x03 };
const uint8_t GW_MAC[6]    = { 0x02, 0, 0, 0, 0, 0xfe };
const uint8_t BCAST_MAC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
const uint8_t OUR_IP[4]    = { 192, 0, 2, 1 };
const uint8_t OUR_IP_B[4]  = { 198, 51, 100, 1 };
const uint8_t PEER_IP[4]   = { 192, 0, 2, 2 };
const uint8_t PEER2_IP[4]  = { 192, 0, 2, 3 };
const uint8_t OTHER_IP[4]  = { 192, 0, 2, 99 };
const uint8_t GW_IP[4]     = { 192, 0, 2, 254 };
const uint8_t FAR_IP[4]    = { 203, 0, 113, 7 };
const uint8_t OUR_IP6[16]  = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
const uint8_t PEER_IP6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x02 };
const uint8_t PEER2_IP6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x12, [15] = 0x34 };
const uint8_t GW_IP6[16]   = { 0xfe, 0x80, [15] = 0x01 };
const uint8_t FAR_IP6[16]  = { 0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 0x09 };

/* ------------------------------------------------------------------ */
/* EAL and fixture                                                     */

static void
eal_init_once(void)
{
	static bool done;
	char prefix[64];

	if (done)
		return;
	char lcore[16] = "0";
	cpu_set_t set;

	/* One lcore, the first CPU we may run on (CI may pin us). */
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (CPU_ISSET(c, &set)) {
				snprintf(lcore, sizeof(lcore), "%d", c);
				break;
			}
		}
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=splnet%d", (int)getpid());
	char *argv[] = {
		"test-net", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"--no-telemetry", "--log-level=lib.eal:error",
		"--log-level=user1:error", "-l", lcore, prefix, NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		abort();
	}
	done = true;
}

static uint16_t
capture(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	(void)arg;
	uint16_t take = n;
	if (take > T.tx_accept)
		take = (uint16_t)T.tx_accept;
	for (uint16_t i = 0; i < take; i++) {
		cr_assert(T.n_tx < TN_TX_MAX, "capture overflow");
		T.tx[T.n_tx++] = pkts[i];
	}
	return take;
}

static void
default_config(struct spl_net_config *c)
{
	spl_net_config_init(c);
	memcpy(c->mac.addr_bytes, OUR_MAC, 6);
	c->n_ip4 = 2;
	memcpy(c->ip4[0].addr, OUR_IP, 4);
	c->ip4[0].prefix_len = 24;
	memcpy(c->ip4[1].addr, OUR_IP_B, 4);
	c->ip4[1].prefix_len = 24;
	memcpy(c->gw4, GW_IP, 4);
	c->n_ip6 = 1;
	memcpy(c->ip6[0].addr, OUR_IP6, 16);
	c->ip6[0].prefix_len = 64;
	memcpy(c->gw6, GW_IP6, 16);
	c->neigh_entries = 64;
	c->frag_entries = 16;
	c->frag_timeout_ms = 2000;
	c->tsc_hz = 1000;
	c->pool = T.pool;
	c->pool_indirect = T.ind;
	c->pool_large = T.large;
	c->tx_fn = capture;
}

void
tn_setup(void)
{
	eal_init_once();
	memset(&T, 0, sizeof(T));
	T.pool = rte_pktmbuf_pool_create("tn_pool", TN_POOL_SIZE, 0, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	T.ind = rte_pktmbuf_pool_create("tn_ind", TN_POOL_SIZE, 0, 0, 0, SOCKET_ID_ANY);
	T.large = rte_pktmbuf_pool_create("tn_large", 63, 0, 0,
					  RTE_PKTMBUF_HEADROOM + 16384, SOCKET_ID_ANY);
	cr_assert(T.pool && T.ind && T.large, "mempools: %s", rte_strerror(rte_errno));
	T.tx_accept = TN_TX_MAX;
	T.now = 1000;
	default_config(&T.cfg);
	T.net = spl_net_create(&T.cfg);
	cr_assert(T.net != NULL, "spl_net_create: %s", rte_strerror(rte_errno));
	/* An empty burst sets the stack's clock, as a worker loop would. */
	spl_net_rx_burst(T.net, NULL, 0, T.now, &T.res);
}

void
tn_reconfig(void (*tweak)(struct spl_net_config *cfg))
{
	spl_net_free(T.net);
	default_config(&T.cfg);
	tweak(&T.cfg);
	T.net = spl_net_create(&T.cfg);
	cr_assert(T.net != NULL, "spl_net_create: %s", rte_strerror(rte_errno));
	/* An empty burst sets the stack's clock, as a worker loop would. */
	spl_net_rx_burst(T.net, NULL, 0, T.now, &T.res);
}

void
tn_tx_clear(void)
{
	rte_pktmbuf_free_bulk(T.tx, T.n_tx);
	T.n_tx = 0;
}

void
tn_res_free(void)
{
	for (unsigned i = 0; i < T.res.n_sip; i++)
		rte_pktmbuf_free(T.res.sip[i].m);
	rte_pktmbuf_free_bulk(T.res.exc, T.res.n_exc);
	T.res.n_sip = 0;
	T.res.n_exc = 0;
}

void
tn_teardown(void)
{
	tn_res_free();
	spl_net_free(T.net);
	T.net = NULL;
	tn_tx_clear();
	/* Every mbuf is back: nothing leaked, nothing freed twice. */
	cr_expect_eq(rte_mempool_avail_count(T.pool), TN_POOL_SIZE, "pool leak: %u of %u",
		     rte_mempool_avail_count(T.pool), TN_POOL_SIZE);
	cr_expect_eq(rte_mempool_avail_count(T.ind), TN_POOL_SIZE, "indirect pool leak");
	cr_expect_eq(rte_mempool_avail_count(T.large), 63, "large pool leak");
	rte_mempool_free(T.pool);
	rte_mempool_free(T.ind);
	rte_mempool_free(T.large);
	rte_eal_cleanup();
}

void
tn_flush(void)
{
	spl_net_tx_flush(T.net);
}

void
tn_rx(struct rte_mbuf **pkts, unsigned n)
{
	tn_res_free();
	cr_assert_eq(spl_net_rx_burst(T.net, pkts, (uint16_t)n, T.now, &T.res), n);
	tn_flush();
}

void
tn_rx1(struct rte_mbuf *m)
{
	tn_rx(&m, 1);
}

void
tn_tick(uint64_t now)
{
	T.now = now;
	spl_net_tick(T.net, now);
	tn_flush();
}

size_t
tn_tx_bytes(unsigned i, uint8_t *buf, size_t size)
{
	struct rte_mbuf *m;
	const void *p;

	cr_assert(i < T.n_tx, "no frame %u (have %u)", i, T.n_tx);
	m = T.tx[i];
	cr_assert(m->pkt_len <= size);
	p = rte_pktmbuf_read(m, 0, m->pkt_len, buf);
	if (p != buf)
		memcpy(buf, p, m->pkt_len);
	return m->pkt_len;
}

uint64_t
tn_drop(enum spl_net_drop d)
{
	return spl_net_stats(T.net)->drop[d];
}

uint64_t
tn_stat(enum spl_net_stat s)
{
	return spl_net_stats(T.net)->stat[s];
}

void
tn_learn_peer(void)
{
	struct spl_net_addr a;
	struct rte_ether_addr mac;
	struct pkt p;

	/* An ARP request from the peer for us teaches the peer's MAC. */
	pk_eth(&p, BCAST_MAC, PEER_MAC, 0x0806, 0);
	pk_arp(&p, 1, PEER_MAC, PEER_IP, (const uint8_t[6]){ 0 }, OUR_IP);
	tn_rx1(pk_mbuf(&p));
	/* An NS from the peer does the same for IPv6. */
	pk_eth(&p, OUR_MAC, PEER_MAC, 0x86dd, 0);
	pk_ip6(&p, PEER_IP6, OUR_IP6, 58, 255);
	pk_ns(&p, OUR_IP6, PEER_MAC);
	pk_fin(&p);
	tn_rx1(pk_mbuf(&p));
	tn_tx_clear();
	spl_net_addr_set_v4(&a, PEER_IP);
	cr_assert_eq(spl_net_neigh_lookup(T.net, &a, &mac), SPL_NET_NEIGH_REACHABLE);
	spl_net_addr_set_v6(&a, PEER_IP6);
	cr_assert_eq(spl_net_neigh_lookup(T.net, &a, &mac), SPL_NET_NEIGH_REACHABLE);
}

/* ------------------------------------------------------------------ */
/* Reference checksums                                                 */

uint32_t
ref_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

uint16_t
ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

bool
ref_ip4_ok(const uint8_t *ip)
{
	return ref_fold(ref_sum(ip, (size_t)(ip[0] & 0xf) * 4, 0)) == 0;
}

static uint32_t
ref_phdr(int fam, const uint8_t *l3, uint8_t proto, size_t l4_len)
{
	uint32_t sum;

	if (fam == 4) {
		sum = ref_sum(l3 + 12, 8, 0);
	} else {
		sum = ref_sum(l3 + 8, 32, 0);
	}
	return sum + proto + (uint32_t)(l4_len & 0xffff) + (uint32_t)(l4_len >> 16);
}

bool
ref_l4_ok(int fam, const uint8_t *l3, const uint8_t *l4, size_t l4_len, uint8_t proto)
{
	uint32_t sum = proto == 1 ? 0 : ref_phdr(fam, l3, proto, l4_len);
	return ref_fold(ref_sum(l4, l4_len, sum)) == 0;
}

/* ------------------------------------------------------------------ */
/* Builder                                                             */

void
pk_eth(struct pkt *p, const uint8_t *dst, const uint8_t *src, uint16_t type, uint16_t vlan)
{
	memset(p, 0, offsetof(struct pkt, len));
	p->len = 0;
	memcpy(p->b, dst, 6);
	memcpy(p->b + 6, src, 6);
	p->len = 12;
	if (vlan) {
		wr16(p->b + 12, 0x8100);
		wr16(p->b + 14, vlan);
		p->len = 16;
	}
	wr16(p->b + p->len, type);
	p->len += 2;
	p->l3 = p->len;
	p->l4 = 0;
	p->fam = 0;
	p->proto = 0;
}

void
pk_ip4_opts(struct pkt *p, const uint8_t *src, const uint8_t *dst, uint8_t proto, unsigned ihl)
{
	uint8_t *ip = p->b + p->l3;

	memset(ip, 0, ihl * 4);
	ip[0] = (uint8_t)(0x40 | ihl);
	wr16(ip + 4, 0x1234);   /* id */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	for (unsigned i = 20; i < ihl * 4; i++)
		ip[i] = 1;   /* NOP options */
	p->len = p->l3 + ihl * 4;
	p->l4 = p->len;
	p->fam = 4;
	p->proto = proto;
}

void
pk_ip4(struct pkt *p, const uint8_t *src, const uint8_t *dst, uint8_t proto)
{
	pk_ip4_opts(p, src, dst, proto, 5);
}

void
pk_ip6(struct pkt *p, const uint8_t *src, const uint8_t *dst, uint8_t nh, uint8_t hop)
{
	uint8_t *ip = p->b + p->l3;

	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[6] = nh;
	ip[7] = hop;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	p->len = p->l3 + 40;
	p->l4 = p->len;
	p->fam = 6;
	p->proto = nh;
}

void
pk_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	uint8_t *u = p->b + p->l4;
	memset(u, 0, 8);
	wr16(u, sport);
	wr16(u + 2, dport);
	p->len = p->l4 + 8;
}

void
pk_put(struct pkt *p, const void *d, size_t n)
{
	cr_assert(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

void
pk_fill(struct pkt *p, size_t n)
{
	cr_assert(p->len + n <= sizeof(p->b));
	for (size_t i = 0; i < n; i++)
		p->b[p->len + i] = pk_pattern(i);
	p->len += n;
}

void
pk_icmp_echo(struct pkt *p, uint8_t type, uint16_t id, uint16_t seq, size_t payload)
{
	uint8_t *h = p->b + p->l4;
	memset(h, 0, 8);
	h[0] = type;
	wr16(h + 4, id);
	wr16(h + 6, seq);
	p->len = p->l4 + 8;
	pk_fill(p, payload);
}

void
pk_arp(struct pkt *p, uint16_t op, const uint8_t *sha, const uint8_t *sip,
       const uint8_t *tha, const uint8_t *tip)
{
	uint8_t *a = p->b + p->l3;
	wr16(a, 1);
	wr16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, sip, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tip, 4);
	p->len = p->l3 + 28;
}

void
pk_ns(struct pkt *p, const uint8_t *target, const uint8_t *slla)
{
	uint8_t *h = p->b + p->l4;
	memset(h, 0, 24);
	h[0] = 135;
	memcpy(h + 8, target, 16);
	p->len = p->l4 + 24;
	if (slla) {
		uint8_t opt[8] = { 1, 1 };
		memcpy(opt + 2, slla, 6);
		pk_put(p, opt, 8);
	}
}

void
pk_na(struct pkt *p, uint8_t flags, const uint8_t *target, const uint8_t *tlla)
{
	uint8_t *h = p->b + p->l4;
	memset(h, 0, 24);
	h[0] = 136;
	h[4] = flags;
	memcpy(h + 8, target, 16);
	p->len = p->l4 + 24;
	if (tlla) {
		uint8_t opt[8] = { 2, 1 };
		memcpy(opt + 2, tlla, 6);
		pk_put(p, opt, 8);
	}
}

void
pk_ip4_recsum(struct pkt *p)
{
	uint8_t *ip = p->b + p->l3;
	wr16(ip + 10, 0);
	wr16(ip + 10, ref_fold(ref_sum(ip, (size_t)(ip[0] & 0xf) * 4, 0)));
}

void
pk_fin(struct pkt *p)
{
	uint8_t *l3 = p->b + p->l3, *l4 = p->b + p->l4;
	size_t l4_len = p->len - p->l4;
	uint8_t proto = p->proto;

	if (p->fam == 4)
		wr16(l3 + 2, (uint16_t)(p->len - p->l3));
	else
		wr16(l3 + 4, (uint16_t)(p->len - p->l3 - 40));
	if (proto == 17) {
		wr16(l4 + 4, (uint16_t)l4_len);
		wr16(l4 + 6, 0);
		uint16_t ck = ref_fold(ref_sum(l4, l4_len, ref_phdr(p->fam, l3, 17, l4_len)));
		wr16(l4 + 6, ck == 0 ? 0xffff : ck);
	} else if (proto == 1) {
		wr16(l4 + 2, 0);
		wr16(l4 + 2, ref_fold(ref_sum(l4, l4_len, 0)));
	} else if (proto == 58) {
		wr16(l4 + 2, 0);
		wr16(l4 + 2, ref_fold(ref_sum(l4, l4_len, ref_phdr(6, l3, 58, l4_len))));
	}
	if (p->fam == 4)
		pk_ip4_recsum(p);
}

struct rte_mbuf *
pk_mbuf(const struct pkt *p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(T.pool);
	char *d;

	cr_assert(m != NULL);
	d = rte_pktmbuf_append(m, (uint16_t)p->len);
	cr_assert(d != NULL, "frame of %zu bytes does not fit one mbuf", p->len);
	memcpy(d, p->b, p->len);
	return m;
}

void
pk_frag4(const struct pkt *w, size_t off, size_t n, bool mf, struct pkt *out)
{
	size_t hl = w->l4 - w->l3;
	uint8_t *ip;

	memcpy(out->b, w->b, w->l4);   /* Ethernet + IPv4 header */
	memcpy(out->b + w->l4, w->b + w->l4 + off, n);
	out->len = w->l4 + n;
	out->l3 = w->l3;
	out->l4 = w->l4;
	out->fam = 4;
	out->proto = w->proto;
	ip = out->b + out->l3;
	wr16(ip + 2, (uint16_t)(hl + n));
	wr16(ip + 6, (uint16_t)((off / 8) | (mf ? 0x2000 : 0)));
	pk_ip4_recsum(out);
}

void
pk_frag6(const struct pkt *w, size_t off, size_t n, bool mf, uint32_t id, struct pkt *out)
{
	uint8_t *ip, *fh;

	memcpy(out->b, w->b, w->l4);   /* Ethernet + IPv6 header */
	fh = out->b + w->l4;
	fh[0] = w->b[w->l3 + 6];
	fh[1] = 0;
	wr16(fh + 2, (uint16_t)(off | (mf ? 1 : 0)));
	fh[4] = (uint8_t)(id >> 24);
	fh[5] = (uint8_t)(id >> 16);
	fh[6] = (uint8_t)(id >> 8);
	fh[7] = (uint8_t)id;
	memcpy(fh + 8, w->b + w->l4 + off, n);
	out->len = w->l4 + 8 + n;
	out->l3 = w->l3;
	out->l4 = w->l4 + 8;
	out->fam = 6;
	out->proto = 44;
	ip = out->b + out->l3;
	ip[6] = 44;
	wr16(ip + 4, (uint16_t)(8 + n));
}
