/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/dns against a real DNS server: each test starts dnsmasq on
 * 127.0.0.1 (a free port) with the zone below, in a child process killed
 * at teardown, and skips when dnsmasq is not installed. Time for the cache
 * is injected through conf.clock.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spl_dns.h"
#include "spl_sipmsg.h"

#define DNSMASQ "/usr/sbin/dnsmasq"
#define NS 1000000000ull

static pid_t dm_pid;
static int dm_port;
static char servers[64];
static uint64_t fake_now = 1000 * NS;

static uint64_t fake_clock(void *arg) { (void)arg; return fake_now; }

static const char *const zone[] = {
	"--local=/sip.test/",
	"--local-ttl=300",
	/* NAPTR: TCP first (order 10), then UDP (order 20); one unusable */
	"--naptr-record=sip.test,20,50,s,SIP+D2U,,_sip._udp.sip.test",
	"--naptr-record=sip.test,10,50,s,SIP+D2T,,_sip._tcp.sip.test",
	"--naptr-record=sip.test,5,50,s,E2U+sip,,_foo.sip.test",
	"--srv-host=_sip._tcp.sip.test,a.sip.test,5070,10,0",
	"--srv-host=_sip._udp.sip.test,b.sip.test,5080,10,0",
	/* SRV priorities (no NAPTR for this name): 10 before 20 */
	"--srv-host=_sip._udp.prio.sip.test,p20.sip.test,5060,20,0",
	"--srv-host=_sip._udp.prio.sip.test,p10.sip.test,5061,10,0",
	"--srv-host=_sip._tcp.prio.sip.test,t1.sip.test,5062,10,0",
	/* weights 10 : 30 inside one priority */
	"--srv-host=_sip._udp.w.sip.test,w1.sip.test,5060,10,10",
	"--srv-host=_sip._udp.w.sip.test,w3.sip.test,5060,10,30",
	"--host-record=a.sip.test,10.0.0.1",
	"--host-record=b.sip.test,10.0.0.2",
	"--host-record=p10.sip.test,10.0.1.10",
	"--host-record=p20.sip.test,10.0.1.20",
	"--host-record=t1.sip.test,10.0.1.30",
	"--host-record=w1.sip.test,10.0.2.1",
	"--host-record=w3.sip.test,10.0.2.3",
	"--host-record=plain.sip.test,10.0.3.1,2001:db8::31",
	"--host-record=short.sip.test,10.0.4.1,2",
};

static int free_udp_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

static void dm_start(void)
{
	if (access(DNSMASQ, X_OK) != 0)
		return;
	dm_port = free_udp_port();
	char port_arg[32];
	snprintf(port_arg, sizeof(port_arg), "--port=%d", dm_port);
	const char *argv[64];
	unsigned n = 0;
	argv[n++] = DNSMASQ;
	argv[n++] = "--no-daemon";
	argv[n++] = port_arg;
	argv[n++] = "--listen-address=127.0.0.1";
	argv[n++] = "--bind-interfaces";
	argv[n++] = "--no-resolv";
	argv[n++] = "--no-hosts";
	argv[n++] = "--pid-file=";
	argv[n++] = "--user=";
	argv[n++] = "--conf-file=/dev/null";
	for (unsigned i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		argv[n++] = zone[i];
	argv[n] = NULL;
	dm_pid = fork();
	cr_assert_geq(dm_pid, 0);
	if (dm_pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execv(DNSMASQ, (char *const *)argv);
		_exit(127);
	}
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", dm_port);
}

static void dm_stop(void)
{
	if (dm_pid > 0) {
		kill(dm_pid, SIGTERM);
		waitpid(dm_pid, NULL, 0);
		dm_pid = 0;
	}
}

static void need_dnsmasq(void)
{
	if (dm_pid <= 0)
		cr_skip_test("dnsmasq not installed (apt-get install dnsmasq-base)");
}

TestSuite(dns, .init = dm_start, .fini = dm_stop, .timeout = 30);

struct res {
	bool done;
	struct spl_dns_result r;
};

static void on_result(void *arg, const struct spl_dns_result *r)
{
	struct res *x = arg;
	cr_assert(!x->done, "callback ran twice");
	x->done = true;
	x->r = *r;
}

static void wait_for(struct spl_dns *dns, struct res *x)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!x->done) {
		struct pollfd fds[16];
		int tmo;
		unsigned n = spl_dns_fds(dns, fds, 16, &tmo);
		if (tmo < 0 || tmo > 50)
			tmo = 50;
		poll(fds, n, tmo);
		spl_dns_process(dns, fake_now);
		clock_gettime(CLOCK_MONOTONIC, &t);
		cr_assert_lt(t.tv_sec - t0.tv_sec, 10, "lookup did not finish");
	}
}

static struct spl_dns *mk(const struct spl_dns_host *hosts, unsigned nhosts)
{
	struct spl_dns_conf c = {
		.servers = servers, .hosts = hosts, .nhosts = nhosts,
		.timeout_ms = 300, .tries = 3, .seed = 12345,
		.clock = fake_clock,
	};
	struct spl_dns *dns = spl_dns_create(&c);
	cr_assert_not_null(dns, "create: %s", strerror(errno));
	return dns;
}

static struct res look(struct spl_dns *dns, const char *name, uint16_t port, uint8_t tp)
{
	struct res x = { 0 };
	cr_assert_eq(spl_dns_lookup(dns, name, port, tp, on_result, &x), 0);
	wait_for(dns, &x);
	return x;
}

/* dnsmasq may need a moment to bind: retry the first query. */
static struct spl_dns *ready(void)
{
	need_dnsmasq();
	struct spl_dns *dns = mk(NULL, 0);
	for (int i = 0; i < 50; i++) {
		struct res x = look(dns, "a.sip.test", 5060, 0);
		if (x.r.status == 0) {
			spl_dns_flush(dns);
			return dns;
		}
		usleep(100000);
	}
	cr_assert_fail("dnsmasq did not answer");
	return NULL;
}

static void expect_peer(const struct spl_txn_peer *p, const char *ip, uint16_t port, uint8_t tp)
{
	char a[64];
	inet_ntop(p->family, p->addr, a, sizeof(a));
	cr_assert_str_eq(a, ip);
	cr_assert_eq(p->port, port, "%s: port %u want %u", ip, p->port, port);
	cr_assert_eq(p->transport, tp, "%s: transport %u want %u", ip, p->transport, tp);
	cr_assert_eq(p->reliable, tp == SPL_SIP_TRANSPORT_TCP || tp == SPL_SIP_TRANSPORT_TLS);
}

Test(dns, naptr_srv_a_ordering)
{
	struct spl_dns *dns = ready();
	struct res x = look(dns, "sip.test", 0, 0);
	cr_assert_eq(x.r.status, 0, "status %d", x.r.status);
	cr_assert_eq(x.r.n, 2);
	/* order 10 (TCP) before order 20 (UDP); E2U+sip ignored */
	expect_peer(&x.r.peers[0], "10.0.0.1", 5070, SPL_SIP_TRANSPORT_TCP);
	expect_peer(&x.r.peers[1], "10.0.0.2", 5080, SPL_SIP_TRANSPORT_UDP);
	cr_assert_gt(x.r.ttl, 0);
	/* now cached: the synchronous read gives the same list */
	struct spl_txn_peer p[8];
	cr_assert_eq(spl_dns_cache_lookup(dns, "SIP.test.", 0, 0, p, 8), 2);
	expect_peer(&p[0], "10.0.0.1", 5070, SPL_SIP_TRANSPORT_TCP);
	uint64_t q = spl_dns_stats(dns)->queries;
	x = look(dns, "sip.test", 0, 0);
	cr_assert_eq(spl_dns_stats(dns)->queries, q, "served from the cache");
	cr_assert_eq(x.r.n, 2);
	spl_dns_free(dns);
}

Test(dns, srv_when_transport_known)
{
	struct spl_dns *dns = ready();
	struct res x = look(dns, "sip.test", 0, SPL_SIP_TRANSPORT_UDP);
	cr_assert_eq(x.r.status, 0);
	cr_assert_eq(x.r.n, 1);
	expect_peer(&x.r.peers[0], "10.0.0.2", 5080, SPL_SIP_TRANSPORT_UDP);
	/* no _sips._tcp SRV: A of the name itself, default TLS port... none */
	x = look(dns, "a.sip.test", 0, SPL_SIP_TRANSPORT_TLS);
	cr_assert_eq(x.r.status, 0);
	expect_peer(&x.r.peers[0], "10.0.0.1", 5061, SPL_SIP_TRANSPORT_TLS);
	spl_dns_free(dns);
}

Test(dns, srv_priority_and_failover_order)
{
	struct spl_dns *dns = ready();
	/* no NAPTR: SRV for UDP, TCP, TLS in that order (§4.1) */
	struct res x = look(dns, "prio.sip.test", 0, 0);
	cr_assert_eq(x.r.status, 0, "status %d", x.r.status);
	cr_assert_eq(x.r.n, 3);
	expect_peer(&x.r.peers[0], "10.0.1.10", 5061, SPL_SIP_TRANSPORT_UDP);  /* prio 10 */
	expect_peer(&x.r.peers[1], "10.0.1.20", 5060, SPL_SIP_TRANSPORT_UDP);  /* prio 20 */
	expect_peer(&x.r.peers[2], "10.0.1.30", 5062, SPL_SIP_TRANSPORT_TCP);  /* next transport */
	for (int i = 0; i < 50; i++) {   /* the order never changes: one target per priority */
		struct spl_txn_peer p[8];
		cr_assert_eq(spl_dns_cache_lookup(dns, "prio.sip.test", 0, 0, p, 8), 3);
		expect_peer(&p[0], "10.0.1.10", 5061, SPL_SIP_TRANSPORT_UDP);
		expect_peer(&p[2], "10.0.1.30", 5062, SPL_SIP_TRANSPORT_TCP);
	}
	/* max bounds the list: the first hops only */
	struct spl_txn_peer one;
	cr_assert_eq(spl_dns_cache_lookup(dns, "prio.sip.test", 0, 0, &one, 1), 1);
	expect_peer(&one, "10.0.1.10", 5061, SPL_SIP_TRANSPORT_UDP);
	spl_dns_free(dns);
}

Test(dns, srv_weight_distribution)
{
	struct spl_dns *dns = ready();
	struct res x = look(dns, "w.sip.test", 0, SPL_SIP_TRANSPORT_UDP);
	cr_assert_eq(x.r.status, 0);
	cr_assert_eq(x.r.n, 2);
	unsigned first_w3 = 0, rounds = 4000;
	for (unsigned i = 0; i < rounds; i++) {
		struct spl_txn_peer p[4];
		cr_assert_eq(spl_dns_cache_lookup(dns, "w.sip.test", 0, SPL_SIP_TRANSPORT_UDP, p, 4), 2);
		cr_assert(memcmp(p[0].addr, p[1].addr, 4) != 0, "both targets, once each");
		if (p[0].addr[3] == 3)
			first_w3++;
	}
	/* weight 30 of 40 → first 75% of the time (with no weight 0 in the
	 * group r is drawn in [1, sum], dns_order.c); ±5 points is > 7 sigma
	 * at n = 4000 */
	double f = (double)first_w3 / rounds;
	cr_assert(f > 0.68 && f < 0.80, "weight 30 target first %.3f of the time", f);
	spl_dns_free(dns);
}

Test(dns, a_when_port_given_and_aaaa)
{
	struct spl_dns *dns = ready();
	struct res x = look(dns, "plain.sip.test", 5099, SPL_SIP_TRANSPORT_TCP);
	cr_assert_eq(x.r.status, 0);
	cr_assert_eq(x.r.n, 1);
	expect_peer(&x.r.peers[0], "10.0.3.1", 5099, SPL_SIP_TRANSPORT_TCP);
	spl_dns_free(dns);

	struct spl_dns_conf c = { .servers = servers, .ipv6 = true, .clock = fake_clock };
	dns = spl_dns_create(&c);
	x = look(dns, "plain.sip.test", 5099, 0);
	cr_assert_eq(x.r.status, 0);
	cr_assert_eq(x.r.n, 2);
	unsigned v6 = x.r.peers[0].family == AF_INET6 ? 0 : 1;
	expect_peer(&x.r.peers[v6], "2001:db8::31", 5099, SPL_SIP_TRANSPORT_UDP);
	spl_dns_free(dns);
}

Test(dns, ttl_expiry_with_injected_clock)
{
	struct spl_dns *dns = ready();
	struct res x = look(dns, "short.sip.test", 5060, 0);
	cr_assert_eq(x.r.status, 0);
	cr_assert_eq(x.r.ttl, 2);
	struct spl_txn_peer p[4];
	cr_assert_eq(spl_dns_cache_lookup(dns, "short.sip.test", 5060, 0, p, 4), 1);
	fake_now += 1 * NS;
	cr_assert_eq(spl_dns_cache_lookup(dns, "short.sip.test", 5060, 0, p, 4), 1);
	fake_now += 1 * NS;
	cr_assert_eq(spl_dns_cache_lookup(dns, "short.sip.test", 5060, 0, p, 4), -EAGAIN);
	/* a longer TTL survives the same time */
	x = look(dns, "a.sip.test", 5060, 0);
	cr_assert_eq(x.r.ttl, 300);
	/* from the cache: what is left of the TTL, so a copy kept elsewhere
	 * (the shards' published table) expires with the cache */
	fake_now += 100 * NS;
	x = look(dns, "a.sip.test", 5060, 0);
	cr_assert_eq(x.r.ttl, 200);
	fake_now += 199 * NS;
	cr_assert_eq(spl_dns_cache_lookup(dns, "a.sip.test", 5060, 0, p, 4), 1);
	fake_now += 1 * NS;
	spl_dns_process(dns, fake_now);   /* the sweep drops it */
	FILE *f = fopen("/dev/null", "w");
	cr_assert_eq(spl_dns_cache_dump(dns, f), 0);
	fclose(f);
	spl_dns_free(dns);
}

Test(dns, static_hosts_and_numeric)
{
	need_dnsmasq();
	static const struct spl_dns_host hosts[] = {
		{ "lab-pbx", "192.0.2.7" },
		{ "lab-pbx", "[2001:db8::7]" },
		{ "sip.test", "192.0.2.8" },   /* overrides DNS */
	};
	struct spl_dns *dns = mk(hosts, 3);
	struct res x = { 0 };
	cr_assert_eq(spl_dns_lookup(dns, "LAB-PBX", 0, SPL_SIP_TRANSPORT_TLS, on_result, &x), 0);
	cr_assert(x.done, "static hosts answer at once");
	cr_assert_eq(x.r.n, 2);
	expect_peer(&x.r.peers[0], "192.0.2.7", 5061, SPL_SIP_TRANSPORT_TLS);
	expect_peer(&x.r.peers[1], "2001:db8::7", 5061, SPL_SIP_TRANSPORT_TLS);
	x.done = false;
	cr_assert_eq(spl_dns_lookup(dns, "sip.test", 0, 0, on_result, &x), 0);
	cr_assert(x.done);
	expect_peer(&x.r.peers[0], "192.0.2.8", 5060, SPL_SIP_TRANSPORT_UDP);
	x.done = false;
	cr_assert_eq(spl_dns_lookup(dns, "[2001:db8::9]", 5070, 0, on_result, &x), 0);
	cr_assert(x.done);
	expect_peer(&x.r.peers[0], "2001:db8::9", 5070, SPL_SIP_TRANSPORT_UDP);
	struct spl_txn_peer p[2];
	cr_assert_eq(spl_dns_cache_lookup(dns, "198.51.100.1", 0, 0, p, 2), 1);
	expect_peer(&p[0], "198.51.100.1", 5060, SPL_SIP_TRANSPORT_UDP);
	cr_assert_eq(spl_dns_stats(dns)->queries, 0);
	cr_assert_eq(spl_dns_lookup(dns, "", 0, 0, on_result, &x), -EINVAL);
	spl_dns_free(dns);

	/* bad static address */
	struct spl_dns_host bad = { "x", "not-an-ip" };
	struct spl_dns_conf c = { .hosts = &bad, .nhosts = 1 };
	cr_assert_null(spl_dns_create(&c));
	cr_assert_eq(errno, EINVAL);
}

Test(dns, nxdomain_is_enoent_and_cached)
{
	struct spl_dns *dns = ready();
	struct res x = look(dns, "nope.sip.test", 0, 0);
	cr_assert_eq(x.r.status, -ENOENT, "status %d", x.r.status);
	cr_assert_eq(x.r.n, 0);
	struct spl_txn_peer p[2];
	cr_assert_eq(spl_dns_cache_lookup(dns, "nope.sip.test", 0, 0, p, 2), -ENOENT);
	x = look(dns, "nope.sip.test", 5060, SPL_SIP_TRANSPORT_TCP);
	cr_assert_eq(x.r.status, -ENOENT);
	fake_now += 31 * NS;   /* neg_ttl 30 s */
	cr_assert_eq(spl_dns_cache_lookup(dns, "nope.sip.test", 0, 0, p, 2), -EAGAIN);
	spl_dns_free(dns);
}

Test(dns, timeout_is_etimedout)
{
	/* a UDP socket that never answers */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &l);
	char srv[64];
	snprintf(srv, sizeof(srv), "127.0.0.1:%d", ntohs(a.sin_port));
	struct spl_dns_conf c = { .servers = srv, .timeout_ms = 100, .tries = 1, .clock = fake_clock };
	struct spl_dns *dns = spl_dns_create(&c);
	cr_assert_not_null(dns);
	struct res x = look(dns, "sip.test", 0, 0);
	cr_assert_eq(x.r.status, -ETIMEDOUT, "status %d", x.r.status);
	x = look(dns, "sip.test", 5060, 0);
	cr_assert_eq(x.r.status, -ETIMEDOUT);
	struct spl_txn_peer p[2];
	cr_assert_eq(spl_dns_cache_lookup(dns, "sip.test", 0, 0, p, 2), -EAGAIN, "errors are not cached");
	cr_assert_geq(spl_dns_stats(dns)->timeouts, 2);
	spl_dns_free(dns);
	close(fd);
}

Test(dns, free_with_lookups_in_flight)
{
	struct spl_dns *dns = ready();
	struct res x = { 0 };
	cr_assert_eq(spl_dns_lookup(dns, "sip.test", 0, 0, on_result, &x), 0);
	cr_assert(!x.done);
	spl_dns_free(dns);
	cr_assert(x.done);
	cr_assert_eq(x.r.status, -ECANCELED);
}

Test(dns, cache_is_bounded_lru)
{
	need_dnsmasq();
	struct spl_dns_conf c = { .servers = servers, .cache_entries = 2, .clock = fake_clock };
	struct spl_dns *dns = spl_dns_create(&c);
	struct res x;
	for (int i = 0; i < 50; i++) {
		x = look(dns, "a.sip.test", 5060, 0);
		if (x.r.status == 0) break;
		usleep(100000);
	}
	x = look(dns, "b.sip.test", 5060, 0);
	struct spl_txn_peer p[2];
	cr_assert_eq(spl_dns_cache_lookup(dns, "a.sip.test", 5060, 0, p, 2), 1);  /* a is recent */
	x = look(dns, "plain.sip.test", 5060, 0);                                  /* evicts b */
	cr_assert_eq(spl_dns_cache_lookup(dns, "b.sip.test", 5060, 0, p, 2), -EAGAIN);
	cr_assert_eq(spl_dns_cache_lookup(dns, "a.sip.test", 5060, 0, p, 2), 1);
	cr_assert_eq(spl_dns_stats(dns)->evictions, 1);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(spl_dns_cache_dump(dns, f), 2);
	fclose(f);
	cr_assert_not_null(strstr(buf, "a.sip.test port=5060 transport=- ttl=300 udp:10.0.0.1:5060"), "%s", buf);
	free(buf);
	spl_dns_flush(dns);
	cr_assert_eq(spl_dns_cache_lookup(dns, "a.sip.test", 5060, 0, p, 2), -EAGAIN);
	spl_dns_free(dns);
}
