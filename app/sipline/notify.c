/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sd_notify without libsystemd (notify.h). The protocol is one datagram
 * per state change on an AF_UNIX SOCK_DGRAM socket; systemd learns the
 * sender from the socket credentials, so the datagrams must come from the
 * main process (any of its threads: the credentials carry the tgid).
 *
 * A reload runs synchronously inside one control-socket request (reload.c),
 * so the appliance reports it after the fact: when the control thread sees
 * a new config generation it sends RELOADING=1 and READY=1 back to back.
 * systemd (Type=notify with ExecReload=siplinectl config reload) then
 * finishes the reload job when both siplinectl has exited and READY=1 has
 * arrived, in either order.
 */
#include "notify.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "log.h"

static struct {
	int state;                /* 0: not looked at yet, 1: usable, -1: no socket */
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
	bool error_logged;
	bool ready;               /* READY=1 sent (after start) */
	bool stopping;            /* STOPPING=1 sent */
	uint64_t generation;      /* config generation last reported */
	uint64_t watchdog_us;     /* 0: no watchdog */
	uint64_t watchdog_last_us;
} nt = { .fd = -1 };

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int setup(void)
{
	if (nt.state)
		return nt.state;
	nt.state = -1;
	const char *e = getenv("NOTIFY_SOCKET");
	if (!e || !*e)
		return nt.state;
	size_t n = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || n < 2 || n >= sizeof(nt.addr.sun_path)) {
		spl_log(SPL_LOG_WARNING, "NOTIFY_SOCKET '%s' is not a socket path or abstract name: not notifying", e);
		return nt.state;
	}
	memset(&nt.addr, 0, sizeof(nt.addr));
	nt.addr.sun_family = AF_UNIX;
	memcpy(nt.addr.sun_path, e, n);
	if (e[0] == '@')
		nt.addr.sun_path[0] = '\0';           /* abstract namespace: no trailing NUL */
	nt.addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/'));
	nt.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (nt.fd < 0) {
		spl_log(SPL_LOG_WARNING, "notify socket: %s: not notifying", strerror(errno));
		return nt.state;
	}
	/* The watchdog, when systemd asks for one (WatchdogSec=) and meant us. */
	const char *wu = getenv("WATCHDOG_USEC"), *wp = getenv("WATCHDOG_PID");
	if (wu && (!wp || strtoul(wp, NULL, 10) == (unsigned long)getpid())) {
		char *end;
		unsigned long long us = strtoull(wu, &end, 10);
		if (*end == '\0' && us > 0)
			nt.watchdog_us = us;
	}
	nt.state = 1;
	return nt.state;
}

static int send_state(const char *state, int flags)
{
	if (setup() < 0)
		return 0;
	for (;;) {
		ssize_t w = sendto(nt.fd, state, strlen(state), MSG_NOSIGNAL | flags, (const struct sockaddr *)&nt.addr,
				   nt.addrlen);
		if (w >= 0)
			return 1;
		if (errno == EINTR)
			continue;
		if (!nt.error_logged) {
			nt.error_logged = true;
			spl_log(SPL_LOG_WARNING, "notify: cannot send to NOTIFY_SOCKET: %s", strerror(errno));
		}
		return -1;
	}
}

int spl_notify(const char *state)
{
	return send_state(state, 0);
}

static void send_ready(const struct spl_app *app)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "READY=1\nSTATUS=running: %u worker(s), profile %s, config generation %llu",
		 app->nshards, app->profile.name, (unsigned long long)app->config_generation);
	spl_notify(buf);
	nt.generation = app->config_generation;
}

void spl_notify_ready(const struct spl_app *app)
{
	if (setup() < 0)
		return;
	send_ready(app);
	nt.ready = true;
	nt.watchdog_last_us = mono_us();
}

void spl_notify_turn(const struct spl_app *app)
{
	if (nt.state < 0 || !nt.ready)
		return;
	if (!nt.stopping && atomic_load((atomic_bool *)&app->draining)) {
		nt.stopping = true;
		spl_notify("STOPPING=1\nSTATUS=draining: new transactions get 503, finishing the rest");
	}
	if (!nt.stopping && app->config_generation != nt.generation) {
		char buf[64];
		snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)mono_us());
		spl_notify(buf);
		send_ready(app);
	}
	if (nt.watchdog_us) {
		uint64_t now = mono_us();
		if (now - nt.watchdog_last_us >= nt.watchdog_us / 2) {
			nt.watchdog_last_us = now;
			send_state("WATCHDOG=1", MSG_DONTWAIT);
		}
	}
}
