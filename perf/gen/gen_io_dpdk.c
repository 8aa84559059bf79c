/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK mode: one port, one queue pair, polled by the generator's loop on
 * its own lcore; lib/net does Ethernet, ARP, IPv4 and UDP, with the UAC
 * and UAS addresses both configured on the port. The port comes from a
 * drivers-cfg profile (memif joins sipline's memif as the client) or from
 * --vdev. Messages are built straight into mbufs.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "gen_io.h"
#include "profile.h"
#include "spl_net.h"

#define DBURST 32

struct dio {
	struct gen_io io;
	const struct gen_conf *conf;
	uint16_t port;
	struct spl_net *net;
	struct rte_mempool *pool, *pool_ind;
	struct rte_mbuf *pending;     /* handed out by tx_begin, not yet committed */
	struct spl_net_addr src[2];   /* UAC, UAS */
	uint64_t last_tick;
	uint64_t tick_cycles;
	uint64_t exc_dropped;
	uint64_t own_drops;           /* sends refused before reaching lib/net */
	struct spl_net_rx_result res;
};

static uint64_t tsc(void)
{
	return rte_rdtsc();
}

static void to_net_addr(struct spl_net_addr *na, uint32_t ip)
{
	spl_net_addr_set_v4(na, &ip);
}

/* What lib/net refused to send or the device did not take (tx_full). */
static uint64_t net_tx_drops(const struct spl_net *net)
{
	static const enum spl_net_drop tx[] = {
		SPL_NET_DROP_NO_MBUF, SPL_NET_DROP_NO_HEADROOM, SPL_NET_DROP_NO_ROUTE,
		SPL_NET_DROP_NO_SRC_ADDR, SPL_NET_DROP_TOO_BIG, SPL_NET_DROP_FRAG_TX_FAILED,
		SPL_NET_DROP_NEIGH_HOLD_FULL, SPL_NET_DROP_NEIGH_FAILED, SPL_NET_DROP_TX_FULL,
	};
	const struct spl_net_stats *st = spl_net_stats(net);
	uint64_t n = 0;
	for (unsigned i = 0; i < sizeof(tx) / sizeof(tx[0]); i++)
		n += st->drop[tx[i]];
	return n;
}

static unsigned d_poll(struct gen_io *io, struct gen *g)
{
	struct dio *d = (struct dio *)io;
	struct rte_mbuf *pkts[DBURST];
	uint64_t now = tsc();
	if (now - d->last_tick >= d->tick_cycles) {
		spl_net_tick(d->net, now);
		d->last_tick = now;
		io->tx_drop = d->own_drops + net_tx_drops(d->net);
	}
	uint16_t n = rte_eth_rx_burst(d->port, 0, pkts, DBURST);
	if (n == 0)
		return 0;
	spl_net_rx_burst(d->net, pkts, n, now, &d->res);
	const struct gen_conf *cf = d->conf;
	for (uint16_t i = 0; i < d->res.n_sip; i++) {
		struct spl_net_dgram *dg = &d->res.sip[i];
		struct gen_addr src = { 0, dg->src_port };
		memcpy(&src.ip, dg->src.addr, 4);
		uint32_t dst_ip;
		memcpy(&dst_ip, dg->dst.addr, 4);
		enum gen_side side = (dst_ip == cf->uas.ip && dg->dst_port == cf->uas.port) ? GEN_UAS : GEN_UAC;
		gen_rx(g, side, dg->payload, dg->len, &src);
		rte_pktmbuf_free(dg->m);
	}
	for (uint16_t i = 0; i < d->res.n_exc; i++)
		rte_pktmbuf_free(d->res.exc[i]);
	d->exc_dropped += d->res.n_exc;
	return n;
}

static char *d_tx_begin(struct gen_io *io, enum gen_side side, uint32_t *cap)
{
	(void)side;
	struct dio *d = (struct dio *)io;
	if (!d->pending) {
		d->pending = rte_pktmbuf_alloc(d->pool);
		if (!d->pending)
			return NULL;
	}
	*cap = rte_pktmbuf_tailroom(d->pending);
	return rte_pktmbuf_mtod(d->pending, char *);
}

static void d_tx_commit(struct gen_io *io, enum gen_side side, const struct gen_addr *dst, uint32_t len)
{
	struct dio *d = (struct dio *)io;
	struct rte_mbuf *m = d->pending;
	d->pending = NULL;
	if (!m || !rte_pktmbuf_append(m, (uint16_t)len)) {
		if (m)
			rte_pktmbuf_free(m);
		d->own_drops++;
		return;
	}
	struct spl_net_addr da;
	to_net_addr(&da, dst->ip);
	uint16_t sport = side == GEN_UAS ? d->conf->uas.port : d->conf->uac.port;
	/* Refusals are counted by lib/net (folded in by d_poll). */
	spl_net_udp_send_mbuf(d->net, &d->src[side], &da, sport, dst->port, m);
}

static void d_flush(struct gen_io *io)
{
	struct dio *d = (struct dio *)io;
	spl_net_tx_flush(d->net);
}

static void d_wait(struct gen_io *io, uint64_t max_ns)
{
	/* A poll-mode loop does not sleep; the caller polls again. Busy time
	 * is accounted by the run loop. */
	(void)io;
	(void)max_ns;
	rte_pause();
}

static void d_close(struct gen_io *io)
{
	struct dio *d = (struct dio *)io;
	spl_net_tx_flush(d->net);
	if (d->pending)
		rte_pktmbuf_free(d->pending);
	rte_eth_dev_stop(d->port);
	rte_eth_dev_close(d->port);
	spl_net_free(d->net);
	free(d);
	rte_eal_cleanup();
}

static const struct gen_io_ops dpdk_ops = {
	.poll = d_poll,
	.tx_begin = d_tx_begin,
	.tx_commit = d_tx_commit,
	.flush = d_flush,
	.wait = d_wait,
	.close = d_close,
};

/* The profile's devices, with memif turned into the client end. */
static int eal_args(const struct gen_conf *cf, char **argv, int max, char *store, size_t len)
{
	struct spl_profile p;
	memset(&p, 0, sizeof(p));
	if (cf->dpdk_vdev[0]) {
		p.nvdevs = 1;
		snprintf(p.vdevs[0], sizeof(p.vdevs[0]), "%s", cf->dpdk_vdev);
	} else {
		char err[256];
		if (spl_profile_load(cf->profile_dir, cf->profile, &p, err, sizeof(err)) != 0) {
			fprintf(stderr, "sipline-gen: %s\n", err);
			return -1;
		}
		for (unsigned i = 0; i < p.nvdevs; i++) {
			char *v = p.vdevs[i];
			char *r = strstr(v, "role=server");
			if (!r || strncmp(v, "net_memif", 9) != 0)
				continue;
			memcpy(r, "role=client", 11);
			/* The client owns memif's shared memory: rings of 8192 (not
			 * 1024) ride out a peer that was descheduled for a few ms. */
			if (!strstr(v, "rsize=") && strlen(v) + 9 < sizeof(p.vdevs[i]))
				strcat(v, ",rsize=13");
		}
	}
	int n = 0;
	size_t used = 0;
#define ARG(...) do { \
		int w_ = snprintf(store + used, len - used, __VA_ARGS__); \
		if (n >= max - 1 || w_ < 0 || (size_t)w_ >= len - used) \
			return -1; \
		argv[n++] = store + used; \
		used += (size_t)w_ + 1; \
	} while (0)
	ARG("sipline-gen");
	ARG("-l");
	ARG("%d", cf->cpu >= 0 ? cf->cpu : 0);
	ARG("--file-prefix=sipline-gen");
	/* No shared runtime files, so the generator never collides with the
	 * sipline it drives (or a previous run). */
	if (cf->no_huge) {
		ARG("--no-huge");
		ARG("--no-shconf");
	} else {
		ARG("--in-memory");
	}
	ARG("-m");
	ARG("%u", 64 + cf->mbufs / 256);
	for (unsigned i = 0; i < p.nvdevs; i++)
		ARG("--vdev=%s", p.vdevs[i]);
	if (p.npci == 0)
		ARG("--no-pci");
	for (unsigned i = 0; i < p.npci; i++)
		ARG("-a%s", p.pci[i]);
	ARG("--log-level=lib.eal:error");
	char extra[sizeof(cf->eal_extra)];
	snprintf(extra, sizeof(extra), "%s", cf->eal_extra);
	for (char *save = NULL, *t = strtok_r(extra, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		ARG("%s", t);
#undef ARG
	argv[n] = NULL;
	return n;
}

static int port_start(struct dio *d)
{
	struct rte_eth_conf ec;
	memset(&ec, 0, sizeof(ec));
	struct rte_eth_dev_info di;
	if (rte_eth_dev_info_get(d->port, &di) != 0)
		return -1;
	ec.txmode.offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS & di.tx_offload_capa;
	if (rte_eth_dev_configure(d->port, 1, 1, &ec) != 0)
		return -1;
	uint16_t rxd = 1024, txd = 1024;
	rte_eth_dev_adjust_nb_rx_tx_desc(d->port, &rxd, &txd);
	int sock = rte_eth_dev_socket_id(d->port);
	unsigned s = (unsigned)(sock < 0 ? 0 : sock);
	if (rte_eth_rx_queue_setup(d->port, 0, rxd, s, NULL, d->pool) != 0)
		return -1;
	struct rte_eth_txconf txc = di.default_txconf;
	txc.offloads = ec.txmode.offloads;
	if (rte_eth_tx_queue_setup(d->port, 0, txd, s, &txc) != 0)
		return -1;
	if (rte_eth_dev_start(d->port) != 0)
		return -1;
	return 0;
}

/* Waits for link up, then resolves the proxy's (or gateway's) MAC with a
 * CRLF keep-alive so the first calls are not held behind ARP. */
static int warm_up(struct dio *d)
{
	const struct gen_conf *cf = d->conf;
	uint64_t hz = rte_get_tsc_hz(), end = tsc() + 10 * hz;
	struct rte_eth_link link;
	do {
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(d->port, &link);
		if (link.link_status)
			break;
		rte_delay_ms(10);
	} while (tsc() < end);
	if (!link.link_status) {
		fprintf(stderr, "sipline-gen: port %u: link down after 10 s (is the peer up?)\n", d->port);
		return -1;
	}
	struct spl_net_addr hop;
	to_net_addr(&hop, cf->gateway ? cf->gateway : cf->proxy.ip);
	struct gen_addr proxy = cf->proxy;
	uint64_t next_ka = 0;
	end = tsc() + 10 * hz;
	while (tsc() < end) {
		uint64_t now = tsc();
		if (now >= next_ka) {
			uint32_t cap;
			char *p = d_tx_begin(&d->io, GEN_UAC, &cap);
			if (p) {
				memcpy(p, "\r\n\r\n", 4);
				d_tx_commit(&d->io, GEN_UAC, &proxy, 4);
			}
			next_ka = now + hz / 2;
		}
		spl_net_tick(d->net, now);
		struct rte_mbuf *pkts[DBURST];
		uint16_t n = rte_eth_rx_burst(d->port, 0, pkts, DBURST);
		if (n) {
			spl_net_rx_burst(d->net, pkts, n, now, &d->res);
			for (uint16_t i = 0; i < d->res.n_sip; i++)
				rte_pktmbuf_free(d->res.sip[i].m);
			for (uint16_t i = 0; i < d->res.n_exc; i++)
				rte_pktmbuf_free(d->res.exc[i]);
		}
		spl_net_tx_flush(d->net);
		enum spl_net_neigh_state st = spl_net_neigh_lookup(d->net, &hop, NULL);
		if (st == SPL_NET_NEIGH_REACHABLE || st == SPL_NET_NEIGH_STALE)
			return 0;
		rte_delay_us_block(100);
	}
	fprintf(stderr, "sipline-gen: no ARP answer from the proxy's next hop in 10 s\n");
	return -1;
}

struct gen_io *gen_io_dpdk_open(struct gen_conf *conf, const char *argv0)
{
	(void)argv0;
	char *argv[64], store[4096];
	int argc = eal_args(conf, argv, 64, store, sizeof(store));
	if (argc < 0) {
		fprintf(stderr, "sipline-gen: EAL arguments too long or profile unreadable\n");
		return NULL;
	}
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "sipline-gen: EAL init failed: %s\n", rte_strerror(rte_errno));
		return NULL;
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "sipline-gen: no DPDK port (profile %s)\n", conf->profile);
		rte_eal_cleanup();
		return NULL;
	}
	if (conf->uac.port == 0 || conf->uas.port == 0 || conf->uac.ip == conf->proxy.ip) {
		fprintf(stderr, "sipline-gen: DPDK mode needs fixed UAC/UAS ports and own addresses\n");
		rte_eal_cleanup();
		return NULL;
	}
	struct dio *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->io.ops = &dpdk_ops;
	d->conf = conf;
	uint16_t pid;
	RTE_ETH_FOREACH_DEV(pid) {
		d->port = pid;
		break;
	}
	d->pool = rte_pktmbuf_pool_create("gen_pool", conf->mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  rte_socket_id());
	d->pool_ind = rte_pktmbuf_pool_create("gen_ind", 1023, 32, 0, 0, rte_socket_id());
	if (!d->pool || !d->pool_ind || port_start(d) != 0) {
		fprintf(stderr, "sipline-gen: port %u: mempool or queue setup failed%s%s\n", d->port,
			rte_errno ? ": " : "", rte_errno ? rte_strerror(rte_errno) : "");
		free(d);
		rte_eal_cleanup();
		return NULL;
	}
	struct spl_net_config nc;
	spl_net_config_init(&nc);
	nc.port_id = d->port;
	nc.queue_id = 0;
	rte_eth_macaddr_get(d->port, &nc.mac);
	nc.n_ip4 = conf->uac.ip == conf->uas.ip ? 1 : 2;
	memcpy(nc.ip4[0].addr, &conf->uac.ip, 4);
	nc.ip4[0].prefix_len = conf->prefix_len;
	memcpy(nc.ip4[1].addr, &conf->uas.ip, 4);
	nc.ip4[1].prefix_len = conf->prefix_len;
	memcpy(nc.gw4, &conf->gateway, 4);
	nc.n_sip_ports = conf->uac.port == conf->uas.port ? 1 : 2;
	nc.sip_ports[0] = conf->uac.port;
	nc.sip_ports[1] = conf->uas.port;
	nc.pool = d->pool;
	nc.pool_indirect = d->pool_ind;
	nc.tsc_hz = rte_get_tsc_hz();
	d->net = spl_net_create(&nc);
	if (!d->net) {
		fprintf(stderr, "sipline-gen: lib/net: %s\n", rte_strerror(rte_errno));
		rte_eth_dev_stop(d->port);
		free(d);
		rte_eal_cleanup();
		return NULL;
	}
	to_net_addr(&d->src[GEN_UAC], conf->uac.ip);
	to_net_addr(&d->src[GEN_UAS], conf->uas.ip);
	d->tick_cycles = rte_get_tsc_hz() / 1000;
	if (warm_up(d) != 0) {
		d_close(&d->io);
		return NULL;
	}
	return &d->io;
}
