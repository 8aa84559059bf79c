/* SPDX-License-Identifier: BSD-3-Clause */
/* Bringing the appliance up and down, and what the control thread does
 * between control-socket commands. */
#ifndef SPL_APP_SHARD_H
#define SPL_APP_SHARD_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"

#define SPL_DRAIN_TIMEOUT_S 32   /* Timer B/F: everything in flight has ended by then */

/* Pools, port, location service, shards, control socket; then launch the
 * workers. Returns 0 or -1 with err. */
int spl_app_start(struct spl_app *app, char *err, unsigned errlen);
/* Stop the workers and free everything (safe after a failed start). */
void spl_app_stop(struct spl_app *app);

/* One turn of the control thread's housekeeping: exception path both
 * ways, journal flush/sync, registrar reclamation. */
void spl_app_control_turn(struct spl_app *app);

void spl_app_set_draining(struct spl_app *app, bool on);
uint64_t spl_app_live_transactions(const struct spl_app *app);

/* ns on the appliance clock (wall-anchored) from a TSC reading. */
uint64_t spl_shard_now_ns(const struct spl_shard *s, uint64_t tsc);

/* The worker's main loop (rte_eal_remote_launch). */
int spl_worker_main(void *shard);

/* Proxy hooks and transport for a shard (glue.c). */
struct spl_proxy_conf;
void spl_glue_fill(struct spl_shard *s, struct spl_proxy_conf *pc);
/* Process one SIP datagram held in m on this shard; now: the turn's clock (ns). */
struct spl_net_dgram;
void spl_shard_sip(struct spl_shard *s, struct rte_mbuf *m, const char *payload, uint32_t len,
		   uint8_t family, const uint8_t *src, uint16_t src_port, uint8_t transport, uint32_t conn_id,
		   uint64_t now);
int spl_shard_owner(const struct spl_app *app, const char *p, uint32_t len);

/* TXN_LIST request, run on the shard (appctl.c). */
struct spl_shard_req;
int spl_shard_txn_list(struct spl_shard *s, struct spl_shard_req *r);
/* Run a request on shard `id` and wait for it (control thread). 0, or
 * -ETIMEDOUT when the shard did not answer in time. */
int spl_shard_call(struct spl_app *app, unsigned id, struct spl_shard_req *r);

/* Validate a config against the running appliance and check the profile. */
int spl_app_check(const char *path, struct spl_config *c, struct spl_profile *p, char *err, unsigned errlen);

#endif
