/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SPL_APP_PORT_H
#define SPL_APP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "config.h"
#include "profile.h"

struct spl_port_info {
	char driver[64];
	struct rte_ether_addr mac;
	bool rss;
	uint64_t rx_offloads, tx_offloads;
};

/* EAL argv from config + profile (strings live in `store`). With
 * `exception`, a kernel TAP port "spl-exc0" is added for the exception
 * path. Returns argc, or -1 when the arguments do not fit. */
int spl_eal_args(const struct spl_config *c, const struct spl_profile *p,
		 char **argv, int max, char *store, size_t store_len);

/* The data port: one RX/TX queue pair per worker (one pool each).
 * Returns 0 or -1 with err. */
int spl_port_setup(uint16_t port, unsigned nworkers, const struct spl_profile *p,
		   struct rte_mempool **worker_pools, struct spl_port_info *info, char *err, unsigned errlen);

/* The exception TAP port: one queue pair, served by the control thread. */
int spl_port_setup_exception(uint16_t port, struct rte_mempool *pool, char *err, unsigned errlen);

#endif
