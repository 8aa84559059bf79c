/* SPDX-License-Identifier: BSD-3-Clause */
/* sipline-bench SUBCOMMAND [--json]: micro benchmarks of the libraries. */
#include <stdio.h>
#include <string.h>

#include "bench_util.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} subcommands[] = {
	{ "parse", bench_parse_main, "SIP parse: scan, proxy parse, shard key; vs sofia-sip and oSIP" },
	{ "timer", bench_timer_main, "timer wheel vs rte_timer with 1M timers live" },
	{ "txn",   bench_txn_main,   "server non-INVITE transaction cycle with 1M live" },
	{ "proxy", bench_proxy_main, "record-routed call through the proxy (CPU us/call), REGISTER with/without digest" },
	{ "dns",   bench_dns_main,   "published DNS answers: shard-side lookup hit, negative, miss" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sipline-bench SUBCOMMAND [--json]\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-6s %s\n", subcommands[i].name, subcommands[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sipline-bench: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
