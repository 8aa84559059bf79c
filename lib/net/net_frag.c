/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: IP reassembly and fragmentation with rte_ip_frag.
 *
 * Reassembly: one rte_ip_frag table per shard, frag_entries datagrams at
 * most, each at most RTE_LIBRTE_IP_FRAG_MAX_FRAG (8) fragments, dropped
 * frag_timeout_ms after its first fragment. Refused and expired mbufs go
 * to the death row, which is freed once per burst (and per tick).
 *
 * rte_ip_frag does not say why it refused a fragment, so the drop reason
 * is read off the death row: the table is expired at the start of each
 * burst with that burst's clock, after which the only ways onto the row
 * are "table full" (just our fragment) and "invalid set" (the entry's
 * fragments and ours). Lengths are validated before the call so that the
 * library's own zero-length check never fires.
 *
 * Fragmentation: the datagram (at L3) is split with direct headers from
 * pool and indirect references into the payload from pool_indirect; the
 * original is released once the fragments hold their references. The
 * fragments' headers get checksums (or the offload flag), IPv6 ones the
 * shard's next fragment ID, and are linearised when the port cannot send
 * multi-segment mbufs.
 */
#include <rte_ip_frag.h>

#include "net_priv.h"

#define FRAG_BUCKET_ENTRIES 8
#define FRAG_MAX_PER_CALL   (RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1)

int
net_frag_init(struct spl_net *net)
{
	uint32_t buckets = RTE_MAX(net->cfg.frag_entries / 4, 1u);

	net->frag_tbl = rte_ip_frag_table_create(buckets, FRAG_BUCKET_ENTRIES,
						 net->cfg.frag_entries,
						 net_ms_to_cyc(net, net->cfg.frag_timeout_ms),
						 net->cfg.socket_id);
	return net->frag_tbl == NULL ? -ENOMEM : 0;
}

void
net_frag_fini(struct spl_net *net)
{
	net_frag_free_dr(net);
	if (net->frag_tbl != NULL)
		rte_ip_frag_table_destroy(net->frag_tbl);
	net->frag_tbl = NULL;
}

void
net_frag_free_dr(struct spl_net *net)
{
	if (net->dr.cnt != 0)
		rte_ip_frag_free_death_row(&net->dr, 3);
}

void
net_frag_expire(struct spl_net *net, uint64_t now)
{
	uint32_t before = net->dr.cnt;

	/* del_expired stops when the row cannot take a whole entry; free
	 * the row first so that a burst starts with room. */
	if (before > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN / 2) {
		net_frag_free_dr(net);
		before = 0;
	}
	rte_ip_frag_table_del_expired_entries(net->frag_tbl, &net->dr, now);
	NET_DROPS(net, FRAG_TIMEOUT, net->dr.cnt - before);
}

/* Accounting after a reassembly call that returned NULL. */
static void
frag_account(struct spl_net *net, struct rte_mbuf *m, uint32_t before)
{
	uint32_t added = net->dr.cnt - before;

	if (added == 0)
		return;   /* kept, waiting for the rest */
	if (added == 1 && net->dr.row[before] == m)
		NET_DROPS(net, FRAG_TABLE_FULL, 1);
	else
		NET_DROPS(net, FRAG_INVALID, added);
}

static inline void
frag_room(struct spl_net *net)
{
	if (net->dr.cnt + FRAG_MAX_PER_CALL > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN)
		net_frag_free_dr(net);
}

struct rte_mbuf *
net_frag_reassemble4(struct spl_net *net, struct rte_mbuf *m, struct rte_ipv4_hdr *ip)
{
	struct rte_mbuf *r;
	uint32_t before;

	NET_STAT(net, FRAG_IN);
	/* A fragment with no payload would be refused by rte_ip_frag with
	 * no trace; it is invalid anyway. */
	if (unlikely(rte_be_to_cpu_16(ip->total_length) <= m->l3_len)) {
		NET_DROP(net, m, FRAG_INVALID);
		return NULL;
	}
	frag_room(net);
	before = net->dr.cnt;
	r = rte_ipv4_frag_reassemble_packet(net->frag_tbl, &net->dr, m, net->now, ip);
	if (r == NULL) {
		frag_account(net, m, before);
		return NULL;
	}
	NET_STAT(net, FRAG_REASSEMBLED);
	return r;
}

struct rte_mbuf *
net_frag_reassemble6(struct spl_net *net, struct rte_mbuf *m, struct rte_ipv6_hdr *ip,
		     struct rte_ipv6_fragment_ext *fh)
{
	struct rte_mbuf *r;
	uint32_t before;

	NET_STAT(net, FRAG_IN);
	if (unlikely(rte_be_to_cpu_16(ip->payload_len) <= sizeof(*fh))) {
		NET_DROP(net, m, FRAG_INVALID);
		return NULL;
	}
	frag_room(net);
	before = net->dr.cnt;
	r = rte_ipv6_frag_reassemble_packet(net->frag_tbl, &net->dr, m, net->now, ip, fh);
	if (r == NULL) {
		frag_account(net, m, before);
		return NULL;
	}
	NET_STAT(net, FRAG_REASSEMBLED);
	return r;
}

/*
 * SIP wants the payload in one piece. In place when the first segment has
 * the tailroom (rte_pktmbuf_linearize); otherwise copied into a fresh
 * mbuf from pool, or from pool_large when pool's buffers are too small.
 */
struct rte_mbuf *
net_frag_linearise(struct spl_net *net, struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	struct rte_mempool *mp = net->cfg.pool;
	struct rte_mbuf *n;
	const void *p;
	char *dst;

	if (rte_pktmbuf_linearize(m) == 0) {
		rte_pktmbuf_adj(m, (uint16_t)off);
		net_trim_to(m, len);
		return m;
	}
	if (len > (uint32_t)rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM) {
		mp = net->cfg.pool_large;
		if (mp == NULL ||
		    len > (uint32_t)rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM) {
			NET_DROP(net, m, FRAG_TOO_BIG);
			return NULL;
		}
	}
	n = rte_pktmbuf_alloc(mp);
	if (unlikely(n == NULL)) {
		NET_DROP(net, m, NO_MBUF);
		return NULL;
	}
	dst = rte_pktmbuf_append(n, (uint16_t)len);
	p = rte_pktmbuf_read(m, off, len, dst);
	if (p != dst)
		memcpy(dst, p, len);
	n->port = m->port;
	n->hash = m->hash;
	rte_pktmbuf_free(m);
	NET_STAT(net, FRAG_LINEARISED);
	return n;
}

static int
frag_finish(struct spl_net *net, struct rte_mbuf *f, uint8_t family, uint32_t id6)
{
	if (family == AF_INET) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(f, struct rte_ipv4_hdr *);
		f->l3_len = rte_ipv4_hdr_len(ip);
		if (net->cfg.tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
			ip->hdr_checksum = 0;
			f->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		} else {
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
	} else {
		struct rte_ipv6_fragment_ext *fh = rte_pktmbuf_mtod_offset(
			f, struct rte_ipv6_fragment_ext *, sizeof(struct rte_ipv6_hdr));
		fh->id = rte_cpu_to_be_32(id6);
		f->l3_len = sizeof(struct rte_ipv6_hdr) + sizeof(*fh);
	}
	if (!(net->cfg.tx_offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) &&
	    rte_pktmbuf_linearize(f) < 0)
		return -ENOBUFS;
	return 0;
}

int
net_frag_output(struct spl_net *net, struct rte_mbuf *m, uint8_t family,
		const struct rte_ether_addr *mac, bool tagged)
{
	struct rte_mbuf *frags[SPL_NET_MAX_FRAGS];
	uint16_t type = family == AF_INET ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6;
	uint32_t id6 = 0;
	int32_t n;
	int rc = 0;

	/* Offload flags on the whole datagram mean nothing for the pieces. */
	m->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
	if (family == AF_INET) {
		n = rte_ipv4_fragment_packet(m, frags, SPL_NET_MAX_FRAGS, net->cfg.mtu,
					     net->cfg.pool, net->cfg.pool_indirect);
	} else {
		n = rte_ipv6_fragment_packet(m, frags, SPL_NET_MAX_FRAGS, net->cfg.mtu,
					     net->cfg.pool, net->cfg.pool_indirect);
		id6 = net->ip6_id;
		net->ip6_id += net->cfg.shard_count;
	}
	rte_pktmbuf_free(m);   /* the fragments hold their own references */
	if (n < 0) {
		NET_DROPS(net, FRAG_TX_FAILED, 1);
		return n == -ENOMEM ? -ENOBUFS : n;
	}
	NET_STAT(net, FRAG_TX_DGRAMS);
	NET_STAT_ADD(net, FRAG_TX_CREATED, n);
	for (int32_t i = 0; i < n; i++) {
		if (unlikely(frag_finish(net, frags[i], family, id6) < 0)) {
			NET_DROP(net, frags[i], FRAG_TX_FAILED);
			rc = -ENOBUFS;
			continue;
		}
		if (net_eth_output(net, frags[i], type, mac, tagged) < 0)
			rc = -ENOBUFS;
	}
	return rc;
}
