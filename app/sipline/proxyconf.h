/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SPL_APP_PROXYCONF_H
#define SPL_APP_PROXYCONF_H

#include "config.h"
#include "spl_proxy.h"

/* Strings the proxy configuration points at (one block per generation). */
struct spl_proxy_strings {
	struct spl_proxy_addr addrs[SPL_PROXY_MAX_ADDRS];
	char addr_text[SPL_PROXY_MAX_ADDRS][96];
	const char *domains[SPL_CFG_MAX_DOMAINS];
	struct spl_proxy_route routes[SPL_CFG_MAX_ROUTES];
	char hop_text[SPL_CFG_MAX_ROUTES][SPL_CFG_MAX_HOPS][300];
	const char *hops[SPL_CFG_MAX_ROUTES][SPL_CFG_MAX_HOPS];
};

/* malloc'd; NULL when out of memory. The domains point into c, which must
 * live as long as the block. */
struct spl_proxy_strings *spl_proxyconf_strings(const struct spl_config *c);

/* Everything but the wheel, the transport and the hooks. */
void spl_proxyconf_fill(struct spl_proxy_conf *pc, const struct spl_config *c, const struct spl_proxy_strings *ps,
			unsigned shard);

#endif
