/* SPDX-License-Identifier: BSD-3-Clause */
/* The appliance's control-socket commands (appctl.c). */
#ifndef SPL_APP_APPCTL_H
#define SPL_APP_APPCTL_H

struct spl_app;
struct spl_config;

void spl_appctl_register(struct spl_app *app);

/* The "stats" value (totals and per shard), for other outputs (telemetry). */
#include <jansson.h>
json_t *spl_appctl_stats(struct spl_app *app);

/* DPDK telemetry: /sipline/stats and /sipline/shard,N (telemetry.c). */
void spl_telemetry_register(struct spl_app *app);

/* capture start FILE [filter] | stop (capture.c): pcapng of SIP traffic. */
int spl_capture_setup(struct spl_app *app, char *err, unsigned errlen);
void spl_capture_turn(struct spl_app *app);   /* control thread: write queued packets */
void spl_capture_shutdown(struct spl_app *app);

/* Swap a validated config into every shard (reload.c). Refuses changes
 * that need a restart (cores, ports, pools, profile). 0 or -1 with err;
 * on success the app owns nc. */
int spl_app_reload(struct spl_app *app, struct spl_config *nc, char *err, unsigned errlen);

#endif
