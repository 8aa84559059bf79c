/* SPDX-License-Identifier: BSD-3-Clause */
/* The config loader: every problem is named with its line, nothing half-loads. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "profile.h"
#include <stdlib.h>

static struct spl_config c;
static char err[512];

static const char good[] =
	"eal = { cores = \"0-2\"; memory_mb = 256; no_huge = true; profile = \"tap\"; };\n"
	"ports = ( { name = \"net0\"; addresses = [\"192.0.2.1/24\", \"2001:db8::1/64\"];\n"
	"            gateway4 = \"192.0.2.254\"; mtu = 1500; } );\n"
	"sip = { udp_ports = [5060, 5080]; domains = [\"example.test\"]; record_route = true; };\n"
	"registrar = { enabled = true; min_expires = 30; durability = \"sync\"; };\n"
	"routes = ( { domain = \"carrier.test\"; next_hops = [\"192.0.2.50:5070\", \"[2001:db8::50]\",\n"
	"             \"gw.carrier.test;transport=tcp\"]; stateless = true; } );\n"
	"timers = { t1_ms = 250; timer_c_s = 200; };\n"
	"worker = { idle = \"poll\"; };\n"
	"control = { socket = \"/tmp/spl.sock\"; group = \"sipline\"; };\n";

Test(app_config, good_file_loads_every_kind_of_key)
{
	cr_assert_eq(spl_config_parse("good.conf", good, &c, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.lcores, "0-2");
	cr_expect_eq(c.memory_mb, 256);
	cr_expect_eq(c.nports, 1);
	cr_expect_eq(c.ports[0].naddrs, 2);
	cr_expect_eq(c.ports[0].addrs[0].family, AF_INET);
	cr_expect_eq(c.ports[0].addrs[0].prefix, 24);
	cr_expect_eq(c.ports[0].addrs[1].family, AF_INET6);
	cr_expect_eq(c.ports[0].gateway4.family, AF_INET);
	cr_expect_eq(c.nsip_ports, 2);
	cr_expect_eq(c.sip_ports[1], 5080);
	cr_expect_str_eq(c.domains[0], "example.test");
	cr_expect_eq(c.durability, SPL_CFG_DURABLE_SYNC);
	cr_expect_eq(c.min_expires, 30);
	cr_expect_eq(c.nroutes, 1);
	cr_expect(c.routes[0].stateless);
	cr_expect_eq(c.routes[0].nhops, 3);
	cr_expect_eq(c.routes[0].hops[0].port, 5070);
	cr_expect_eq(c.routes[0].hops[1].ip.family, AF_INET6);
	cr_expect_eq(c.routes[0].hops[1].port, 5060);
	cr_expect_str_eq(c.routes[0].hops[2].host, "gw.carrier.test");
	cr_expect_eq(c.t1_ms, 250);
	cr_expect_eq(c.t2_ms, 4000, "untouched keys keep their defaults");
	cr_expect_eq(c.idle, SPL_CFG_IDLE_POLL);
	char out[4096];
	cr_expect_gt(spl_config_format(&c, out, sizeof(out)), 0);
	cr_expect_not_null(strstr(out, "timers.t1_ms:250\n"));
	cr_expect_not_null(strstr(out, "routes[0]:domain=carrier.test"));
}

/* Replace one line of the good file and expect an error naming `want` at `line`. */
static void expect_error(const char *text, const char *want, int line)
{
	cr_expect_neq(spl_config_parse("t.conf", text, &c, err, sizeof(err)), 0, "accepted: %s", text);
	cr_expect_not_null(strstr(err, want), "error '%s' lacks '%s'", err, want);
	if (line > 0) {
		char at[32];
		snprintf(at, sizeof(at), "t.conf:%d:", line);
		cr_expect_eq(strncmp(err, at, strlen(at)), 0, "error '%s' not at line %d", err, line);
	}
}

static const char ports[] = "ports = ( { addresses = [\"192.0.2.1/24\"]; } );\n";

Test(app_config, problems_are_named_with_line_numbers)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%ssip = {\n  recrod_route = true;\n};\n", ports);
	expect_error(buf, "unknown key 'sip.recrod_route'", 3);
	snprintf(buf, sizeof(buf), "%s\ntimers = { t1_ms = 5; };\n", ports);
	expect_error(buf, "timers.t1_ms = 5 is out of range", 3);
	snprintf(buf, sizeof(buf), "%sworker = { idle = \"spin\"; };\n", ports);
	expect_error(buf, "not one of: poll, adaptive", 2);
	snprintf(buf, sizeof(buf), "%ssip = { record_route = \"yes\"; };\n", ports);
	expect_error(buf, "must be true or false", 2);
	snprintf(buf, sizeof(buf), "%sfoo = { a = 1; };\n", ports);
	expect_error(buf, "unknown section 'foo'", 2);
	snprintf(buf, sizeof(buf), "%sroutes = ( { next_hops = [\"2001:db8::1:5060\"]; } );\n", ports);
	expect_error(buf, "is not HOST[:PORT]", 2);
	snprintf(buf, sizeof(buf), "%ssip = { domains = [\"example.test\"]; }\nregistrar = { min_expires = 900; max_expires = 600; };\n", ports);
	expect_error(buf, "min_expires (900) is above max_expires (600)", 3);
	snprintf(buf, sizeof(buf), "%sauth = { register = true; };\nsip = { domains = [\"a.test\"]; };\n", ports);
	expect_error(buf, "auth needs auth.users_file", 2);
	expect_error(ports, "registrar.enabled needs at least one entry in sip.domains", 0);
	expect_error("ports = ( { addresses = [\"192.0.2.1/33\"]; } );\n", "is not ADDRESS/PREFIX", 1);
	expect_error("sip = { domains = [\"a.test\"]; };\n", "no ports", 0);
	expect_error("ports = ( { addresses = [\"192.0.2.1/24\"]; } )\nsip = {\n", "syntax error", 0);
}

Test(app_config, missing_file_is_named)
{
	cr_expect_neq(spl_config_load("/nonexistent/sipline.conf", &c, err, sizeof(err)), 0);
	cr_expect_not_null(strstr(err, "/nonexistent/sipline.conf: cannot open"), "%s", err);
}

/* The configs we ship (demo, production template) and every driver
 * profile must load: an operator starts from them. */
Test(app_config, shipped_configs_and_profiles_load)
{
	const char *src = getenv("SPL_SOURCE_DIR");
	cr_assert_not_null(src, "SPL_SOURCE_DIR not set by the test runner");
	const char *confs[] = { "app/conf/demo.conf", "app/conf/sipline.conf" };
	for (size_t i = 0; i < 2; i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", src, confs[i]);
		cr_expect_eq(spl_config_load(path, &c, err, sizeof(err)), 0, "%s: %s", confs[i], err);
	}
	const char *profiles[] = { "tap", "af_packet", "af_xdp", "pcap", "memif", "virtio", "mlx5", "i40e", "ixgbe" };
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/drivers-cfg", src);
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		struct spl_profile p;
		cr_expect_eq(spl_profile_load(dir, profiles[i], &p, err, sizeof(err)), 0, "%s: %s", profiles[i], err);
		cr_expect_gt(p.nvdevs + p.npci, 0, "%s names no device", profiles[i]);
	}
	struct spl_profile p;
	cr_expect_neq(spl_profile_load(dir, "nosuch", &p, err, sizeof(err)), 0);
	cr_expect_not_null(strstr(err, "cannot read driver profile 'nosuch'"), "%s", err);
	cr_expect_neq(spl_profile_load(dir, "../etc/passwd", &p, err, sizeof(err)), 0);
}

/* tcp / tls / dns groups: keys, defaults, cross-field rules. */
Test(app_config, streams_and_dns_keys)
{
	static const char text[] =
		"ports = ( { addresses = [\"192.0.2.1/24\"]; } );\n"
		"sip = { domains = [\"a.test\"]; };\n"
		"tcp = { port = 5070; max_connections = 100; max_per_ip = 5; max_message = 4096; };\n"
		"tls = { enabled = true; certificate = \"/c.pem\"; private_key = \"/k.pem\"; ca_file = \"/ca.pem\";\n"
		"        verify_client = true; };\n"
		"dns = { servers = \"127.0.0.1:5353\"; unresolvable_status = 604;\n"
		"        hosts = ( { name = \"pbx.lab\"; address = \"192.0.2.20\"; } ); };\n";
	cr_assert_eq(spl_config_parse("s.conf", text, &c, err, sizeof(err)), 0, "%s", err);
	cr_expect(c.tcp, "TCP is on by default");
	cr_expect_eq(c.tcp_port, 5070);
	cr_expect_eq(c.max_connections, 100);
	cr_expect_eq(c.max_per_ip, 5);
	cr_expect_eq(c.max_message, 4096);
	cr_expect_eq(c.idle_timeout_s, 600, "default");
	cr_expect(c.tls);
	cr_expect_eq(c.tls_port, 5061, "default");
	cr_expect(c.tls_verify_client);
	cr_expect(c.tls_verify_server, "verify_server defaults to on");
	cr_expect_str_eq(c.dns_servers, "127.0.0.1:5353");
	cr_expect_eq(c.dns_unresolvable_status, 604);
	cr_expect_eq(c.ndns_hosts, 1);
	cr_expect_str_eq(c.dns_hosts[0].name, "pbx.lab");
	cr_expect_str_eq(c.dns_hosts[0].addr, "192.0.2.20");

	/* The registrar (which needs domains) is off so that only the
	 * group under test can be at fault. */
	static const char pr[] = "ports = ( { addresses = [\"192.0.2.1/24\"]; } );\nregistrar = { enabled = false; };\n";
	char buf[1024];
	snprintf(buf, sizeof(buf), "%stls = { enabled = true; };\n", pr);
	expect_error(buf, "tls.enabled needs tls.certificate and tls.private_key", 3);
	snprintf(buf, sizeof(buf), "%stls = { enabled = true; certificate = \"/c\"; private_key = \"/k\"; };\n", pr);
	expect_error(buf, "need tls.ca_file", 3);
	snprintf(buf, sizeof(buf),
		 "%stls = { enabled = true; port = 5060; certificate = \"/c\"; private_key = \"/k\"; verify_server = false; };\n",
		 pr);
	expect_error(buf, "tls.port (5060) is the same as tcp.port", 3);
	snprintf(buf, sizeof(buf), "%sdns = { unresolvable_status = 500; };\n", pr);
	expect_error(buf, "dns.unresolvable_status must be 404 or 604", 3);
	snprintf(buf, sizeof(buf), "%sdns = {\n hosts = ( { name = \"x\"; address = \"nope\"; } ); };\n", pr);
	expect_error(buf, "dns.hosts[0].address 'nope' is not an IP address", 4);
	snprintf(buf, sizeof(buf), "%stcp = { max_message = 100; };\n", pr);
	expect_error(buf, "tcp.max_message = 100 is out of range", 3);
}
