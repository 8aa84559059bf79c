/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipline: the appliance. The main lcore is the control thread (config,
 * control socket, exception path, registrar journal); every other lcore in
 * eal.cores runs one shard's poll-mode worker (worker.c).
 *
 *   sipline --config FILE          run
 *   sipline --check-config FILE    validate and exit (0 ok, 1 bad)
 *   sipline --version
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include "app.h"
#include "appctl.h"
#include "control.h"
#include "log.h"
#include "port.h"
#include "shard.h"
#include "conn.h"
#include "dnsres.h"
#include "notify.h"

#ifndef SIPLINE_VERSION
#define SIPLINE_VERSION "0.0.0"
#endif

static struct spl_app app;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		atomic_store(&app.draining, true);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sipline --config FILE | --check-config FILE | --version\n"
		   "  --config FILE        run the appliance with FILE (libconfig syntax, doc/config.md)\n"
		   "  --check-config FILE  validate FILE and its driver profile, print the first problem\n"
		   "  --version            print the version\n");
}

static const char *default_profile_dir(void)
{
	/* Installed layout first, then the source tree (for ./build/app/...). */
	static const char *const dirs[] = { "/usr/share/sipline/drivers-cfg", "/etc/sipline/drivers-cfg",
					    "drivers-cfg", "../drivers-cfg" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (access(dirs[i], R_OK) == 0)
			return dirs[i];
	return "drivers-cfg";
}

int spl_app_check(const char *path, struct spl_config *c, struct spl_profile *p, char *err, unsigned errlen)
{
	if (spl_config_load(path, c, err, errlen) != 0)
		return -1;
	const char *dir = c->profile_dir[0] ? c->profile_dir : default_profile_dir();
	return spl_profile_load(dir, c->profile, p, err, errlen);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	bool check = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("sipline %s (%s)\n", SIPLINE_VERSION, rte_version());
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "--check-config") == 0) && i + 1 < argc) {
			check = strcmp(argv[i], "--check-config") == 0;
			config = argv[++i];
		} else {
			fprintf(stderr, "sipline: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!config) {
		usage(stderr);
		return 2;
	}

	/* Heap, not static: a reload retires it like any later config. */
	struct spl_config *cfgp = calloc(1, sizeof(*cfgp));
	char err[512];
	if (!cfgp) {
		fprintf(stderr, "sipline: out of memory\n");
		return 2;
	}
	if (spl_app_check(config, cfgp, &app.profile, err, sizeof(err)) != 0) {
		fprintf(stderr, "sipline: %s\n", err);
		return check ? 1 : 2;
	}
	if (check) {
		printf("%s: ok (profile %s: %s)\n", config, app.profile.name, app.profile.description);
		return 0;
	}
	app.cfg = cfgp;
	spl_log_set_level(cfgp->log_level);

	char *eal_argv[64];
	char store[8192];
	/* The exception TAP is probed later, inside its own namespace
	 * (excns.c), not from the EAL arguments. */
	app.want_exception = app.profile.nvdevs > 0 || app.profile.npci > 0;
	int eal_argc = spl_eal_args(cfgp, &app.profile, eal_argv, 64, store, sizeof(store));
	if (eal_argc < 0) {
		fprintf(stderr, "sipline: EAL arguments too long\n");
		return 2;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "sipline: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	app.tsc_hz = rte_get_tsc_hz();
	app.start_tsc = rte_rdtsc();
	app.start_wall_ns = wall_ns();
	if (spl_app_start(&app, err, sizeof(err)) != 0) {
		spl_log(SPL_LOG_ERR, "start failed: %s", err);
		spl_app_stop(&app);
		rte_eal_cleanup();
		return 2;
	}
	spl_log(SPL_LOG_NOTICE, "sipline %s running: %u worker(s), profile %s, control socket %s", SIPLINE_VERSION,
		app.nshards, app.profile.name, cfgp->control_socket);
	spl_notify_ready(&app);   /* READY=1 to $NOTIFY_SOCKET (systemd Type=notify) */

	/* The control thread: control socket, exception path, journal. */
	uint64_t drain_deadline = 0;
	while (!atomic_load(&app.stop)) {
		/* 1 ms turns when the control thread carries traffic (exception
		 * path) or group-commits the journal for sync durability. */
		bool busy = app.exc_port >= 0 || app.cfg->durability == SPL_CFG_DURABLE_SYNC ||
			    spl_dnsres_busy(&app);   /* DNS lookups in flight: answers wait at most 1 ms */
		spl_ctl_poll(app.ctl, busy ? 1 : 10);
		spl_app_control_turn(&app);
		spl_dnsres_turn(&app);    /* RFC 3263 DNS: shards' questions, answers published */
		spl_conn_turn(&app);      /* SIP over TCP/TLS */
		spl_notify_turn(&app);    /* STOPPING=1, RELOADING=1/READY=1, WATCHDOG=1 */
		if (atomic_load(&app.draining)) {
			uint64_t now = rte_rdtsc();
			if (!drain_deadline) {
				spl_log(SPL_LOG_NOTICE, "draining: new transactions get 503, finishing the rest");
				spl_app_set_draining(&app, true);
				drain_deadline = now + app.tsc_hz * SPL_DRAIN_TIMEOUT_S;
			}
			if (spl_app_live_transactions(&app) == 0 || now > drain_deadline)
				atomic_store(&app.stop, true);
		}
	}
	spl_log(SPL_LOG_NOTICE, "stopping");
	spl_app_stop(&app);
	rte_eal_cleanup();
	return 0;
}
