/* SPDX-License-Identifier: BSD-3-Clause */
/* sipline-gen: see gen.h and perf/README.md. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "gen_io.h"

volatile int gen_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	gen_interrupted++;
}

int main(int argc, char **argv)
{
	static struct gen_conf conf;
	int rc = gen_opts_parse(&conf, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (conf.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(conf.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			perror("sipline-gen: sched_setaffinity");
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	struct gen_io *io = NULL;
	if (conf.mode == GEN_MODE_KERNEL) {
		io = gen_io_kernel_open(&conf);
	} else if (conf.mode == GEN_MODE_NULL) {
		io = gen_io_null_open(&conf);
	} else {
#ifdef GEN_HAVE_DPDK
		io = gen_io_dpdk_open(&conf, argv[0]);
#else
		fprintf(stderr, "sipline-gen: built without DPDK: only --mode kernel\n");
#endif
	}
	if (!io)
		return 2;
	struct gen_relay *relay = NULL;
	if (conf.loopback_proxy) {
		relay = gen_relay_start(&conf, &conf.proxy);
		if (!relay) {
			io->ops->close(io);
			return 2;
		}
	}

	static struct gen g;
	if (gen_init(&g, &conf, io) != 0) {
		gen_relay_stop(relay);
		io->ops->close(io);
		return 2;
	}
	if (!conf.quiet) {
		char p[32], a[32], b[32];
		gen_addr_format(&conf.proxy, p, sizeof(p));
		gen_addr_format(&conf.uac, a, sizeof(a));
		gen_addr_format(&conf.uas, b, sizeof(b));
		fprintf(stderr, "[gen] %s mode: proxy %s, UAC %s, UAS %s%s\n",
			conf.mode == GEN_MODE_DPDK ? "dpdk" : conf.mode == GEN_MODE_NULL ? "null" : "kernel", p, a, b,
			relay ? " (loopback relay)" : "");
	}

	int exit_code = 0;
	if (conf.ramp) {
		static struct gen_ramp ramp;
		gen_ramp_run(&g, &ramp);
		const struct gen_result *res = NULL;
		if (ramp.best >= 0)
			res = &ramp.steps[ramp.best].res;
		else if (ramp.nsteps > 0)
			res = &ramp.steps[ramp.nsteps - 1].res;
		gen_report(&conf, res, &ramp);
		exit_code = ramp.best >= 0 ? 0 : 1;
	} else {
		static struct gen_result res;
		gen_run(&g, conf.rate, conf.reg_rate, &res);
		gen_report(&conf, &res, NULL);
		exit_code = (res.st.calls_failed || res.st.regs_failed) ? 1 : 0;
	}
	gen_relay_stop(relay);
	gen_fini(&g);
	io->ops->close(io);
	return gen_interrupted ? 130 : exit_code;
}
