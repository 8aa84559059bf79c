/* SPDX-License-Identifier: BSD-3-Clause */
/* The appliance's control-socket commands (appctl.c). */
#ifndef SPL_APP_APPCTL_H
#define SPL_APP_APPCTL_H

struct spl_app;
struct spl_config;

void spl_appctl_register(struct spl_app *app);

/* Swap a validated config into every shard (reload.c). Refuses changes
 * that need a restart (cores, ports, pools, profile). 0 or -1 with err;
 * on success the app owns nc. */
int spl_app_reload(struct spl_app *app, struct spl_config *nc, char *err, unsigned errlen);

#endif
