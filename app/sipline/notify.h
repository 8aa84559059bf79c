/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Service-manager readiness (systemd's sd_notify protocol, no libsystemd):
 * datagrams of "KEY=VALUE\n" lines to the socket named by $NOTIFY_SOCKET
 * (a path, or an abstract name when it starts with '@'). Without
 * $NOTIFY_SOCKET every call is a no-op. Control thread only.
 *
 *   spl_notify_ready()  READY=1 once the ports are up (after "running")
 *   spl_notify_turn()   each control-thread turn: STOPPING=1 when the
 *                       process starts draining to exit, RELOADING=1 then
 *                       READY=1 when a reload made a new config generation,
 *                       WATCHDOG=1 every WATCHDOG_USEC/2 when systemd asks
 */
#ifndef SPL_APP_NOTIFY_H
#define SPL_APP_NOTIFY_H

struct spl_app;

/* Sends `state` (newline-separated assignments). Returns 1 when sent, 0
 * when $NOTIFY_SOCKET is unset, -1 on an error (logged once). */
int spl_notify(const char *state);

void spl_notify_ready(const struct spl_app *app);
void spl_notify_turn(const struct spl_app *app);

#endif
