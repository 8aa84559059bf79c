/* SPDX-License-Identifier: BSD-3-Clause */
/* Command line of sipline-gen (perf/README.md has the long form). */
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

static const char usage_text[] =
	"usage: sipline-gen [OPTIONS]\n"
	"Plays UACs and UASs (and REGISTER clients) on both sides of a SIP proxy.\n"
	"\n"
	"I/O\n"
	"  --mode kernel|dpdk|null  kernel UDP sockets (default), a DPDK port, or no\n"
	"                         network at all (UAC and UAS wired together: the\n"
	"                         generator's own cost per call)\n"
	"  --proxy IP:PORT        the proxy under test (default 127.0.0.1:5060)\n"
	"  --uac-bind IP:PORT     callers and REGISTER clients (default 127.0.0.1:5070)\n"
	"  --uas-bind IP:PORT     callees; the proxy must route the callee here\n"
	"                         (default 127.0.0.1:5080). Port 0: any free port\n"
	"  --loopback-proxy       self-test: run a stateless record-routing relay at\n"
	"                         --proxy in a thread (kernel mode)\n"
	"Load (every run is bounded in count and time)\n"
	"  --rate N               calls/s offered, open loop (default 100)\n"
	"  --calls N              stop after N measured calls\n"
	"  --register N           REGISTERs/s offered (default 0)\n"
	"  --registers N          stop after N measured REGISTERs\n"
	"  --duration S           seconds of calls after the warm-up (default 10)\n"
	"  --warmup S             seconds excluded from the figures (default 0)\n"
	"  --max-inflight N       cap on calls + registrations in progress (default 50000)\n"
	"  --hold-ms N            ACK to BYE (default 100)\n"
	"  --answer-ms N          180 to 200 at the UAS (default 0)\n"
	"  --t1-ms N, --t2-ms N   RFC 3261 T1/T2 (default 500/4000)\n"
	"  --call-timeout-ms N    a leg with no final after this fails (default 64*T1)\n"
	"SIP\n"
	"  --domain D             (default example.test)\n"
	"  --caller U, --callee U user parts (default caller, callee)\n"
	"  --auth USER:PASS       answer REGISTER challenges; USER ending in '*' is a\n"
	"                         prefix, the AOR index follows (u* -> u0, u1, ...)\n"
	"  --reg-users N          AORs registered round robin (default 1000)\n"
	"  --reg-expires S        (default 3600)\n"
	"Ramp (search the max rate)\n"
	"  --ramp                 x factor from --rate until a step fails, then bisect\n"
	"  --ramp-max N           ceiling in calls/s (default 1000000)\n"
	"  --ramp-factor F        (default 2)   --ramp-precision P (default 0.05)\n"
	"  --ramp-steps N         (default 16)  --ramp-pause S (default 1)\n"
	"  --ramp-settle S        pause after a failing step (default: --ramp-pause)\n"
	"  --max-fail-pct P       a step passes with at most P % failed (default 0.1)\n"
	"Output and scheduling\n"
	"  --json                 JSON summary on stdout\n"
	"  --quiet                no progress line\n"
	"  --cpu N                pin the generator to CPU N\n"
	"  --busy-poll            never sleep when idle\n"
	"DPDK mode\n"
	"  --profile NAME         drivers-cfg profile (default memif; memif joins as client)\n"
	"  --profile-dir DIR      (default drivers-cfg)\n"
	"  --vdev ARGS            a --vdev string replacing the profile's devices\n"
	"  --eal 'ARGS'           more EAL arguments\n"
	"  --prefix-len N         on-link prefix of the UAC/UAS addresses (default 24)\n"
	"  --gateway IP           IPv4 next hop for an off-link proxy\n"
	"  --mbufs N              (default 16383)   --no-huge\n";

int gen_addr_parse(struct gen_addr *a, const char *text)
{
	char ip[64];
	const char *colon = strrchr(text, ':');
	if (!colon || (size_t)(colon - text) >= sizeof(ip))
		return -1;
	memcpy(ip, text, (size_t)(colon - text));
	ip[colon - text] = 0;
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	struct in_addr in;
	if (*end || port > 65535 || colon[1] == 0 || inet_pton(AF_INET, ip, &in) != 1)
		return -1;
	a->ip = in.s_addr;
	a->port = (uint16_t)port;
	return 0;
}

int gen_addr_format(const struct gen_addr *a, char *out, unsigned cap)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
	return snprintf(out, cap, "%s:%u", ip, a->port);
}

static int num(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;
	double d = strtod(v, &end);
	if (*end || end == v || !isfinite(d) || d < lo || d > hi) {
		fprintf(stderr, "sipline-gen: --%s: '%s' is not a number in [%g, %g]\n", opt, v, lo, hi);
		return -2;
	}
	*out = d;
	return 0;
}

static int copy(char *dst, size_t cap, const char *src, const char *opt)
{
	if (strlen(src) >= cap) {
		fprintf(stderr, "sipline-gen: %s: too long\n", opt);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

enum {
	O_MODE = 256, O_PROXY, O_UAC, O_UAS, O_LOOP, O_RATE, O_CALLS, O_REG, O_REGS, O_DUR, O_WARM,
	O_INFL, O_HOLD, O_ANS, O_T1, O_T2, O_CTO, O_DOMAIN, O_CALLER, O_CALLEE, O_AUTH, O_RUSERS,
	O_REXP, O_RAMP, O_RMAX, O_RFAC, O_RPREC, O_RSTEPS, O_RPAUSE, O_RSETTLE, O_FAILPCT, O_JSON, O_QUIET,
	O_CPU, O_BUSY, O_PROFILE, O_PDIR, O_VDEV, O_EAL, O_PLEN, O_GW, O_MBUFS, O_NOHUGE, O_HELP,
};

static const struct option longopts[] = {
	{ "mode", required_argument, 0, O_MODE },
	{ "proxy", required_argument, 0, O_PROXY },
	{ "uac-bind", required_argument, 0, O_UAC },
	{ "uas-bind", required_argument, 0, O_UAS },
	{ "loopback-proxy", no_argument, 0, O_LOOP },
	{ "rate", required_argument, 0, O_RATE },
	{ "calls", required_argument, 0, O_CALLS },
	{ "register", required_argument, 0, O_REG },
	{ "registers", required_argument, 0, O_REGS },
	{ "duration", required_argument, 0, O_DUR },
	{ "warmup", required_argument, 0, O_WARM },
	{ "max-inflight", required_argument, 0, O_INFL },
	{ "hold-ms", required_argument, 0, O_HOLD },
	{ "answer-ms", required_argument, 0, O_ANS },
	{ "t1-ms", required_argument, 0, O_T1 },
	{ "t2-ms", required_argument, 0, O_T2 },
	{ "call-timeout-ms", required_argument, 0, O_CTO },
	{ "domain", required_argument, 0, O_DOMAIN },
	{ "caller", required_argument, 0, O_CALLER },
	{ "callee", required_argument, 0, O_CALLEE },
	{ "auth", required_argument, 0, O_AUTH },
	{ "reg-users", required_argument, 0, O_RUSERS },
	{ "reg-expires", required_argument, 0, O_REXP },
	{ "ramp", no_argument, 0, O_RAMP },
	{ "ramp-max", required_argument, 0, O_RMAX },
	{ "ramp-factor", required_argument, 0, O_RFAC },
	{ "ramp-precision", required_argument, 0, O_RPREC },
	{ "ramp-steps", required_argument, 0, O_RSTEPS },
	{ "ramp-pause", required_argument, 0, O_RPAUSE },
	{ "ramp-settle", required_argument, 0, O_RSETTLE },
	{ "max-fail-pct", required_argument, 0, O_FAILPCT },
	{ "json", no_argument, 0, O_JSON },
	{ "quiet", no_argument, 0, O_QUIET },
	{ "cpu", required_argument, 0, O_CPU },
	{ "busy-poll", no_argument, 0, O_BUSY },
	{ "profile", required_argument, 0, O_PROFILE },
	{ "profile-dir", required_argument, 0, O_PDIR },
	{ "vdev", required_argument, 0, O_VDEV },
	{ "eal", required_argument, 0, O_EAL },
	{ "prefix-len", required_argument, 0, O_PLEN },
	{ "gateway", required_argument, 0, O_GW },
	{ "mbufs", required_argument, 0, O_MBUFS },
	{ "no-huge", no_argument, 0, O_NOHUGE },
	{ "help", no_argument, 0, O_HELP },
	{ 0, 0, 0, 0 },
};

static void defaults(struct gen_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = GEN_MODE_KERNEL;
	gen_addr_parse(&c->proxy, "127.0.0.1:5060");
	gen_addr_parse(&c->uac, "127.0.0.1:5070");
	gen_addr_parse(&c->uas, "127.0.0.1:5080");
	c->rate = 100;
	c->duration_s = 10;
	c->max_inflight = 50000;
	c->hold_ms = 100;
	c->t1_ms = 500;
	c->t2_ms = 4000;
	strcpy(c->domain, "example.test");
	strcpy(c->caller, "caller");
	strcpy(c->callee, "callee");
	c->reg_users = 1000;
	c->reg_expires = 3600;
	c->ramp_max = 1e6;
	c->ramp_factor = 2;
	c->ramp_precision = 0.05;
	c->ramp_steps = 16;
	c->ramp_pause_s = 1;
	c->ramp_settle_s = -1;
	c->max_fail_pct = 0.1;
	c->cpu = -1;
	strcpy(c->profile, "memif");
	strcpy(c->profile_dir, "drivers-cfg");
	c->prefix_len = 24;
	c->mbufs = 16383;
}

/* Returns 0 to run, 1 after --help, -1 on a usage error. */
int gen_opts_parse(struct gen_conf *c, int argc, char **argv)
{
	defaults(c);
	bool rate_given = false, dur_given = false;
	double d = 0;
	int o;
	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *v = optarg;
		const char *name = "?";
		for (const struct option *lo = longopts; lo->name; lo++)
			if (lo->val == o)
				name = lo->name;
		int rc = 0;
		switch (o) {
		case O_MODE:
			if (strcmp(v, "kernel") == 0)
				c->mode = GEN_MODE_KERNEL;
			else if (strcmp(v, "dpdk") == 0)
				c->mode = GEN_MODE_DPDK;
			else if (strcmp(v, "null") == 0)
				c->mode = GEN_MODE_NULL;
			else
				rc = -1;
			break;
		case O_PROXY: rc = gen_addr_parse(&c->proxy, v); break;
		case O_UAC: rc = gen_addr_parse(&c->uac, v); break;
		case O_UAS: rc = gen_addr_parse(&c->uas, v); break;
		case O_LOOP: c->loopback_proxy = true; break;
		case O_RATE: rc = num(name, v, 0, 1e8, &c->rate); rate_given = true; break;
		case O_CALLS: rc = num(name, v, 1, 1e12, &d); c->max_calls = (uint64_t)d; break;
		case O_REG: rc = num(name, v, 0, 1e8, &c->reg_rate); break;
		case O_REGS: rc = num(name, v, 1, 1e12, &d); c->max_regs = (uint64_t)d; break;
		case O_DUR: rc = num(name, v, 0.001, 86400, &c->duration_s); dur_given = true; break;
		case O_WARM: rc = num(name, v, 0, 3600, &c->warmup_s); break;
		case O_INFL: rc = num(name, v, 1, 1 << 23, &d); c->max_inflight = (uint32_t)d; break;
		case O_HOLD: rc = num(name, v, 0, 3600000, &d); c->hold_ms = (uint32_t)d; break;
		case O_ANS: rc = num(name, v, 0, 3600000, &d); c->answer_ms = (uint32_t)d; break;
		case O_T1: rc = num(name, v, 1, 60000, &d); c->t1_ms = (uint32_t)d; break;
		case O_T2: rc = num(name, v, 1, 600000, &d); c->t2_ms = (uint32_t)d; break;
		case O_CTO: rc = num(name, v, 1, 3600000, &d); c->call_timeout_ms = (uint32_t)d; break;
		case O_DOMAIN: rc = copy(c->domain, sizeof(c->domain), v, name); break;
		case O_CALLER: rc = copy(c->caller, sizeof(c->caller), v, name); break;
		case O_CALLEE: rc = copy(c->callee, sizeof(c->callee), v, name); break;
		case O_AUTH: {
			const char *colon = strchr(v, ':');
			if (!colon || colon == v || (size_t)(colon - v) >= sizeof(c->auth_user) ||
			    strlen(colon + 1) >= sizeof(c->auth_pass)) {
				rc = -1;
				break;
			}
			memcpy(c->auth_user, v, (size_t)(colon - v));
			c->auth_user[colon - v] = 0;
			strcpy(c->auth_pass, colon + 1);
			size_t ul = strlen(c->auth_user);
			if (c->auth_user[ul - 1] == '*') {
				c->auth_prefix = true;
				c->auth_user[ul - 1] = 0;
			}
			c->auth = true;
			break;
		}
		case O_RUSERS: rc = num(name, v, 1, 1e9, &d); c->reg_users = (uint32_t)d; break;
		case O_REXP: rc = num(name, v, 0, 1e7, &d); c->reg_expires = (uint32_t)d; break;
		case O_RAMP: c->ramp = true; break;
		case O_RMAX: rc = num(name, v, 1, 1e9, &c->ramp_max); break;
		case O_RFAC: rc = num(name, v, 1.05, 100, &c->ramp_factor); break;
		case O_RPREC: rc = num(name, v, 0.001, 1, &c->ramp_precision); break;
		case O_RSTEPS: rc = num(name, v, 1, GEN_RAMP_MAX_STEPS, &d); c->ramp_steps = (int)d; break;
		case O_RPAUSE: rc = num(name, v, 0, 600, &c->ramp_pause_s); break;
		case O_RSETTLE: rc = num(name, v, 0, 600, &c->ramp_settle_s); break;
		case O_FAILPCT: rc = num(name, v, 0, 100, &c->max_fail_pct); break;
		case O_JSON: c->json = true; break;
		case O_QUIET: c->quiet = true; break;
		case O_CPU: rc = num(name, v, 0, 4095, &d); c->cpu = (int)d; break;
		case O_BUSY: c->busy_poll = true; break;
		case O_PROFILE: rc = copy(c->profile, sizeof(c->profile), v, name); break;
		case O_PDIR: rc = copy(c->profile_dir, sizeof(c->profile_dir), v, name); break;
		case O_VDEV: rc = copy(c->dpdk_vdev, sizeof(c->dpdk_vdev), v, name); break;
		case O_EAL: rc = copy(c->eal_extra, sizeof(c->eal_extra), v, name); break;
		case O_PLEN: rc = num(name, v, 0, 32, &d); c->prefix_len = (uint8_t)d; break;
		case O_GW: {
			struct in_addr in;
			rc = inet_pton(AF_INET, v, &in) == 1 ? 0 : -1;
			c->gateway = in.s_addr;
			break;
		}
		case O_MBUFS: rc = num(name, v, 1023, 1 << 24, &d); c->mbufs = (uint32_t)d; break;
		case O_NOHUGE: c->no_huge = true; break;
		case O_HELP:
			fputs(usage_text, stdout);
			return 1;
		default:
			fputs(usage_text, stderr);
			return -1;
		}
		if (rc != 0) {
			if (rc != -2)
				fprintf(stderr, "sipline-gen: bad value for --%s: '%s'\n", name, v ? v : "");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sipline-gen: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!rate_given && c->reg_rate > 0)
		c->rate = 0;            /* --register alone: REGISTERs only */
	if (c->rate <= 0 && c->reg_rate <= 0) {
		fprintf(stderr, "sipline-gen: nothing to offer (--rate and --register are 0)\n");
		return -1;
	}
	/* --calls/--registers without --duration: the counts bound the run,
	 * the duration only guards against a rate that cannot be reached. */
	if (!dur_given && (c->max_calls || c->max_regs)) {
		double need = 0;
		if (c->max_calls && c->rate > 0)
			need = (double)c->max_calls / c->rate;
		if (c->max_regs && c->reg_rate > 0 && (double)c->max_regs / c->reg_rate > need)
			need = (double)c->max_regs / c->reg_rate;
		c->duration_s = need * 2 + 5;
	}
	if (c->call_timeout_ms == 0)
		c->call_timeout_ms = 64 * c->t1_ms;
	if (c->t2_ms < c->t1_ms)
		c->t2_ms = c->t1_ms;
	if (c->loopback_proxy && c->mode != GEN_MODE_KERNEL) {
		fprintf(stderr, "sipline-gen: --loopback-proxy needs --mode kernel\n");
		return -1;
	}
	return 0;
}
