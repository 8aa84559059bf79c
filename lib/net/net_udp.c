/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: UDP (RFC 768, RFC 8200 8.1) and the Internet checksum.
 *
 * Receive: datagrams to a SIP port are checked (length, checksum unless
 * the NIC vouched for it on an unfragmented packet; a zero checksum is
 * "none" over IPv4 and invalid over IPv6), made contiguous, and handed
 * out with the mbuf trimmed to the payload. Other ports go to the kernel
 * unchecked: it checks its own.
 *
 * Send: the checksum is left to the NIC (pseudo-header sum in the field,
 * RTE_MBUF_F_TX_UDP_CKSUM) when the port offers it and the datagram will
 * not be fragmented; otherwise it is computed here, over the caller's
 * bytes when they are at hand.
 */
#include <rte_udp.h>

#include "net_priv.h"

/* ------------------------------------------------------------------ */
/* Checksums                                                           */

uint32_t
net_cksum_phdr4(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len)
{
	uint8_t ph[12];

	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return __rte_raw_cksum(ph, sizeof(ph), 0);
}

uint32_t
net_cksum_phdr6(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len)
{
	uint8_t tail[8] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			    (uint8_t)len, 0, 0, 0, proto };
	uint32_t sum = __rte_raw_cksum(src, 16, 0);

	sum = __rte_raw_cksum(dst, 16, sum);
	return __rte_raw_cksum(tail, sizeof(tail), sum);
}

/*
 * Sum over [off, off + len) of a segment chain. A segment starting at an
 * odd position of the covered range contributes its folded sum byte
 * swapped. (rte_raw_cksum_mbuf in 22.11 truncates the unfolded sum before
 * swapping, which loses carries on long segments.)
 */
uint32_t
net_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint32_t sum)
{
	uint32_t done = 0;

	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (m != NULL && done < len) {
		uint32_t n = RTE_MIN((uint32_t)m->data_len - off, len - done);
		uint16_t s = net_cksum_fold(__rte_raw_cksum(
			rte_pktmbuf_mtod_offset(m, const char *, off), n, 0));
		if (done & 1)
			s = rte_bswap16(s);
		sum = net_cksum_fold(sum) + s;
		done += n;
		off = 0;
		m = m->next;
	}
	return sum;
}

/* ------------------------------------------------------------------ */
/* Receive                                                             */

static inline bool
udp_is_sip_port(const struct spl_net *net, uint16_t port)
{
	return net->sip_port[port >> 3] & (1u << (port & 7));
}

void
net_udp_input(struct spl_net *net, struct net_rx *rx, const struct net_l3 *l3)
{
	struct rte_mbuf *m = rx->m;
	struct rte_udp_hdr *uh;
	struct spl_net_dgram *d;
	uint32_t ulen, off, len;
	uint16_t sport, dport;

	NET_STAT(net, RX_UDP);
	if (unlikely(l3->l4_len < sizeof(*uh) || m->data_len < l3->l4_off + sizeof(*uh))) {
		NET_DROP(net, m, UDP_BAD_LEN);
		return;
	}
	uh = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, l3->l4_off);
	ulen = rte_be_to_cpu_16(uh->dgram_len);
	if (unlikely(ulen < sizeof(*uh) || ulen > l3->l4_len)) {
		NET_DROP(net, m, UDP_BAD_LEN);
		return;
	}
	dport = rte_be_to_cpu_16(uh->dst_port);
	if (!udp_is_sip_port(net, dport) || l3->dst_mcast) {
		net_exception(net, rx);
		return;
	}
	sport = rte_be_to_cpu_16(uh->src_port);

	if (uh->dgram_cksum == 0) {
		if (l3->src.family == AF_INET6) {
			NET_DROP(net, m, UDP_BAD_CKSUM);
			return;
		}
	} else {
		uint64_t ck = rx->reasm ? RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN
					: (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK);
		bool bad;

		if (ck == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN) {
			uint32_t sum = l3->src.family == AF_INET
				? net_cksum_phdr4(l3->src.addr, l3->dst.addr, IPPROTO_UDP, ulen)
				: net_cksum_phdr6(l3->src.addr, l3->dst.addr, IPPROTO_UDP, ulen);
			bad = net_cksum_fold(net_cksum_mbuf(m, l3->l4_off, ulen, sum)) != 0xffff;
		} else {
			bad = ck == RTE_MBUF_F_RX_L4_CKSUM_BAD;
		}
		if (unlikely(bad)) {
			NET_DROP(net, m, UDP_BAD_CKSUM);
			return;
		}
	}

	off = l3->l4_off + sizeof(*uh);
	len = ulen - sizeof(*uh);
	if (m->nb_segs > 1) {
		m = net_frag_linearise(net, m, off, len);
		if (m == NULL)
			return;
	} else {
		rte_pktmbuf_adj(m, (uint16_t)off);
		net_trim_to(m, len);
	}
	NET_STAT(net, RX_SIP);
	d = &rx->out->sip[rx->out->n_sip++];
	d->m = m;
	d->payload = rte_pktmbuf_mtod(m, const char *);
	d->len = len;
	d->src_port = sport;
	d->dst_port = dport;
	d->src = l3->src;
	d->dst = l3->dst;
}

/* ------------------------------------------------------------------ */
/* Send                                                                */

/* Source address for dst, or NULL (counted) when we have none. */
static int
udp_pick_src(struct spl_net *net, const struct spl_net_addr *src,
	     const struct spl_net_addr *dst, uint8_t out[16])
{
	if (src != NULL) {
		if (src->family != dst->family)
			return -EINVAL;
		memcpy(out, src->addr, 16);
		return 0;
	}
	if (dst->family == AF_INET) {
		rte_be32_t a, d;
		if (net->n_ip4 == 0)
			return -EADDRNOTAVAIL;
		memcpy(&d, dst->addr, 4);
		a = net_ipv4_select_src(net, d);
		memset(out, 0, 16);
		memcpy(out, &a, 4);
		return 0;
	}
	if (net->n_ip6 == 0)
		return -EADDRNOTAVAIL;
	memcpy(out, net_ipv6_select_src(net, dst->addr), 16);
	return 0;
}

static int
udp_check(struct spl_net *net, const struct spl_net_addr *src,
	  const struct spl_net_addr *dst, uint32_t len, uint8_t saddr[16])
{
	int rc;

	if (dst == NULL || (dst->family != AF_INET && dst->family != AF_INET6))
		return -EINVAL;
	/* IPv4 total length and IPv6 payload length are 16 bits. */
	if (len > (dst->family == AF_INET ? 65535u - 20 - 8 : 65535u - 8)) {
		NET_DROPS(net, TOO_BIG, 1);
		return -EMSGSIZE;
	}
	rc = udp_pick_src(net, src, dst, saddr);
	if (rc == -EADDRNOTAVAIL)
		NET_DROPS(net, NO_SRC_ADDR, 1);
	return rc;
}

/* m holds the payload; prepend UDP and pass to IP. payload_sum is the
 * unfolded sum of the payload, or UINT32_MAX to compute it from m. */
static int
udp_output(struct spl_net *net, struct rte_mbuf *m, const uint8_t *src,
	   const struct spl_net_addr *dst, uint16_t sport, uint16_t dport, uint32_t payload_sum)
{
	bool v4 = dst->family == AF_INET;
	uint32_t len = m->pkt_len, ulen = len + sizeof(struct rte_udp_hdr);
	uint32_t l3_len = v4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	struct rte_udp_hdr *uh;
	uint32_t ph;

	uh = (struct rte_udp_hdr *)rte_pktmbuf_prepend(m, sizeof(*uh));
	if (unlikely(uh == NULL)) {
		NET_DROP(net, m, NO_HEADROOM);
		return -ENOBUFS;
	}
	uh->src_port = rte_cpu_to_be_16(sport);
	uh->dst_port = rte_cpu_to_be_16(dport);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)ulen);
	uh->dgram_cksum = 0;
	m->l4_len = sizeof(*uh);
	ph = v4 ? net_cksum_phdr4(src, dst->addr, IPPROTO_UDP, ulen)
		: net_cksum_phdr6(src, dst->addr, IPPROTO_UDP, ulen);

	if (l3_len + ulen <= net->cfg.mtu &&
	    (net->cfg.tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) {
		uh->dgram_cksum = net_cksum_fold(ph);
		m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM |
			       (v4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6);
	} else {
		uint32_t ps = payload_sum != UINT32_MAX ? payload_sum
				: net_cksum_mbuf(m, sizeof(*uh), len, 0);
		uint32_t sum = net_cksum_fold(ph) + net_cksum_fold(ps) +
			       net_cksum_fold(__rte_raw_cksum(uh, sizeof(*uh), 0));
		uint16_t ck = (uint16_t)~net_cksum_fold(sum);
		uh->dgram_cksum = ck == 0 ? 0xffff : ck;
	}

	NET_STAT(net, TX_UDP);
	if (v4) {
		rte_be32_t s, d;
		NET_STAT(net, TX_UDP4);
		memcpy(&s, src, 4);
		memcpy(&d, dst->addr, 4);
		return net_ipv4_output(net, m, s, d, IPPROTO_UDP, NULL, false);
	}
	NET_STAT(net, TX_UDP6);
	return net_ipv6_output(net, m, src, dst->addr, IPPROTO_UDP, net->cfg.hop_limit,
			       NULL, false);
}

/* Copies len bytes into a chain from pool; later segments use their
 * whole buffer, the first keeps its headroom for the headers. */
static struct rte_mbuf *
udp_copy(struct spl_net *net, const void *data, uint32_t len)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(net->cfg.pool), *seg = head;
	const char *p = data;

	if (unlikely(head == NULL))
		return NULL;
	for (;;) {
		uint32_t n = RTE_MIN((uint32_t)rte_pktmbuf_tailroom(seg), len);
		memcpy(rte_pktmbuf_mtod_offset(seg, char *, seg->data_len), p, n);
		seg->data_len += n;
		head->pkt_len += n;
		p += n;
		len -= n;
		if (len == 0)
			return head;
		seg->next = rte_pktmbuf_alloc(net->cfg.pool);
		if (unlikely(seg->next == NULL)) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		seg = seg->next;
		seg->data_off = 0;
		head->nb_segs++;
	}
}

int
spl_net_udp_send(struct spl_net *net, const struct spl_net_addr *src,
		 const struct spl_net_addr *dst, uint16_t src_port, uint16_t dst_port,
		 const void *data, uint32_t len)
{
	uint8_t saddr[16];
	struct rte_mbuf *m;
	int rc;

	if (data == NULL && len > 0)
		return -EINVAL;
	rc = udp_check(net, src, dst, len, saddr);
	if (rc < 0)
		return rc;
	m = udp_copy(net, data, len);
	if (unlikely(m == NULL)) {
		NET_DROPS(net, NO_MBUF, 1);
		return -ENOBUFS;
	}
	return udp_output(net, m, saddr, dst, src_port, dst_port,
			  __rte_raw_cksum(data, len, 0));
}

int
spl_net_udp_send_mbuf(struct spl_net *net, const struct spl_net_addr *src,
		      const struct spl_net_addr *dst, uint16_t src_port,
		      uint16_t dst_port, struct rte_mbuf *m)
{
	uint8_t saddr[16];
	int rc;

	if (m == NULL)
		return -EINVAL;
	rc = udp_check(net, src, dst, m->pkt_len, saddr);
	if (rc < 0) {
		rte_pktmbuf_free(m);
		return rc;
	}
	if (unlikely(rte_pktmbuf_headroom(m) < SPL_NET_HDR_ROOM)) {
		NET_DROP(net, m, NO_HEADROOM);
		return -ENOBUFS;
	}
	m->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
	return udp_output(net, m, saddr, dst, src_port, dst_port, UINT32_MAX);
}
