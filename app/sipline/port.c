/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL arguments from the config and the driver profile, and port setup:
 * one RX/TX queue pair per worker on the data port (RSS on IP+UDP when the
 * profile asks for it and the port can), one extra TX queue for the
 * control thread (kernel traffic going out), and the exception TAP port.
 */
#include "port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

int spl_eal_args(const struct spl_config *c, const struct spl_profile *p,
		 char **argv, int max, char *store, size_t store_len)
{
	int n = 0;
	size_t used = 0;
#define ARG(...) \
	do { \
		int w_ = snprintf(store + used, store_len - used, __VA_ARGS__); \
		if (n >= max - 1 || w_ < 0 || (size_t)w_ >= store_len - used) \
			return -1; \
		argv[n++] = store + used; \
		used += (size_t)w_ + 1; \
	} while (0)
	ARG("sipline");
	/* A plain list ("0-2") is DPDK's -l: lcore N on CPU N. A map with
	 * '@' or groups ("0@0,1@1,2@0") is --lcores: more lcores than CPUs,
	 * e.g. two workers and the control thread on a 2-CPU test box. */
	if (strpbrk(c->lcores, "@()")) {
		ARG("--lcores=%s", c->lcores);
	} else {
		ARG("-l");
		ARG("%s", c->lcores);
	}
	ARG("--file-prefix=%s", c->file_prefix);
	if (c->no_huge) {
		ARG("--no-huge");
		ARG("--no-shconf");
	}
	ARG("-m");
	ARG("%u", c->memory_mb);
	for (unsigned i = 0; i < p->nvdevs; i++)
		ARG("--vdev=%s", p->vdevs[i]);
	if (p->npci == 0)
		ARG("--no-pci");
	for (unsigned i = 0; i < p->npci; i++)
		ARG("-a%s", p->pci[i]);
	ARG("--log-level=lib.eal:%s", strcmp(c->log_level, "debug") == 0 ? "debug" : "error");
	ARG("--log-level=pmd.net.tap:error");
	/* Extra arguments, split on spaces (no quoting: EAL options need none). */
	char extra[sizeof(c->eal_extra)];
	snprintf(extra, sizeof(extra), "%s", c->eal_extra);
	for (char *save = NULL, *t = strtok_r(extra, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		ARG("%s", t);
#undef ARG
	argv[n] = NULL;
	return n;
}

static int setup_one(uint16_t port, uint16_t nrxq, uint16_t ntxq, const struct spl_profile *p,
		     struct rte_mempool **pools, struct spl_port_info *info, char *err, unsigned errlen)
{
	struct rte_eth_dev_info di;
	int rc = rte_eth_dev_info_get(port, &di);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: cannot read device info: %s", port, rte_strerror(-rc));
		return -1;
	}
	if (nrxq > di.max_rx_queues || ntxq > di.max_tx_queues) {
		snprintf(err, errlen, "port %u (%s): needs %u RX / %u TX queues, has %u / %u", port,
			 di.driver_name, nrxq, ntxq, di.max_rx_queues, di.max_tx_queues);
		return -1;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	info->rss = false;
	if (p->rss && nrxq > 1 && (di.flow_type_rss_offloads & RTE_ETH_RSS_UDP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & di.flow_type_rss_offloads;
		info->rss = true;
	}
	uint64_t rx_want = p->rx_checksum ? (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM) : 0;
	uint64_t tx_want = (p->tx_checksum ? (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM) : 0) |
			   RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	conf.rxmode.offloads = rx_want & di.rx_offload_capa;
	conf.txmode.offloads = tx_want & di.tx_offload_capa;
	info->rx_offloads = conf.rxmode.offloads;
	info->tx_offloads = conf.txmode.offloads;
	rc = rte_eth_dev_configure(port, nrxq, ntxq, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): configure failed: %s", port, di.driver_name, rte_strerror(-rc));
		return -1;
	}
	uint16_t rxd = p->rx_desc, txd = p->tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	int socket = rte_eth_dev_socket_id(port);
	for (uint16_t q = 0; q < nrxq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, rxd, (unsigned)(socket < 0 ? 0 : socket), NULL, pools[q]);
		if (rc != 0) {
			snprintf(err, errlen, "port %u: RX queue %u setup failed: %s", port, q, rte_strerror(-rc));
			return -1;
		}
	}
	for (uint16_t q = 0; q < ntxq; q++) {
		struct rte_eth_txconf txc = di.default_txconf;
		txc.offloads = conf.txmode.offloads;
		rc = rte_eth_tx_queue_setup(port, q, txd, (unsigned)(socket < 0 ? 0 : socket), &txc);
		if (rc != 0) {
			snprintf(err, errlen, "port %u: TX queue %u setup failed: %s", port, q, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: start failed: %s", port, rte_strerror(-rc));
		return -1;
	}
	rte_eth_promiscuous_disable(port);
	rte_eth_macaddr_get(port, &info->mac);
	snprintf(info->driver, sizeof(info->driver), "%s", di.driver_name);
	return 0;
}

int spl_port_setup(uint16_t port, unsigned nworkers, const struct spl_profile *p,
		   struct rte_mempool **worker_pools, struct spl_port_info *info, char *err, unsigned errlen)
{
	/* One queue pair per worker. Frames the kernel sends out through the
	 * exception path reach the NIC through worker 0 (some PMDs, TAP among
	 * them, need as many TX queues as RX queues, so the control thread
	 * gets no queue of its own). */
	return setup_one(port, (uint16_t)nworkers, (uint16_t)nworkers, p, worker_pools, info, err, errlen);
}

int spl_port_setup_exception(uint16_t port, struct rte_mempool *pool, char *err, unsigned errlen)
{
	struct spl_profile p;
	memset(&p, 0, sizeof(p));
	p.rx_desc = p.tx_desc = 512;
	struct spl_port_info info;
	return setup_one(port, 1, 1, &p, &pool, &info, err, errlen);
}
