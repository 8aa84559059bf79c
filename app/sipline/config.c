/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loading with libconfig. Scalars are described by one table (group,
 * key, type, place, range), so a new key is one line; unknown groups and
 * keys are refused by name and line, because a misspelt key silently
 * falling back to its default is how outages start.
 */
#include "config.h"

#include <arpa/inet.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spl_sipmsg.h"

enum key_type { K_BOOL, K_U32, K_STR, K_ENUM };

struct key {
	const char *group;
	const char *name;
	enum key_type type;
	size_t off;
	size_t size;        /* K_STR: buffer size */
	int64_t min, max;   /* K_U32 range */
	const char *const *names;  /* K_ENUM: values by index */
};

static const char *const idle_names[] = { "poll", "adaptive", NULL };
static const char *const durability_names[] = { "async", "sync", NULL };
static const char *const level_names[] = { "error", "warning", "notice", "info", "debug", NULL };

#define OFF(f) offsetof(struct spl_config, f)
#define U32(g, n, f, lo, hi) { g, n, K_U32, OFF(f), 0, lo, hi, NULL }
#define BOOL(g, n, f) { g, n, K_BOOL, OFF(f), 0, 0, 0, NULL }
#define STR(g, n, f) { g, n, K_STR, OFF(f), sizeof(((struct spl_config *)0)->f), 0, 0, NULL }
#define ENUM(g, n, f, names) { g, n, K_ENUM, OFF(f), 0, 0, 0, names }

static const struct key keys[] = {
	STR("eal", "profile", profile),
	STR("eal", "profile_dir", profile_dir),
	STR("eal", "cores", lcores),
	U32("eal", "memory_mb", memory_mb, 64, 1 << 20),
	BOOL("eal", "no_huge", no_huge),
	STR("eal", "file_prefix", file_prefix),
	STR("eal", "extra_args", eal_extra),
	BOOL("sip", "record_route", record_route),
	U32("sip", "max_branches", max_branches, 1, 32),
	BOOL("sip", "recurse_3xx", recurse_3xx),
	BOOL("registrar", "enabled", registrar),
	U32("registrar", "max_contacts_per_aor", max_contacts_per_aor, 1, 1024),
	U32("registrar", "max_aors", max_aors, 1, 100000000),
	U32("registrar", "default_expires", default_expires, 1, 86400 * 7),
	U32("registrar", "min_expires", min_expires, 1, 86400),
	U32("registrar", "max_expires", max_expires, 1, 86400 * 7),
	ENUM("registrar", "durability", durability, durability_names),
	STR("registrar", "journal", journal),
	U32("registrar", "snapshot_every", snapshot_every, 1, 100000000),
	STR("auth", "users_file", users_file),
	STR("auth", "realm", realm),
	BOOL("auth", "register", auth_register),
	BOOL("auth", "invite", auth_invite),
	U32("auth", "nonce_lifetime_s", nonce_lifetime_s, 10, 86400),
	U32("timers", "t1_ms", t1_ms, 50, 10000),
	U32("timers", "t2_ms", t2_ms, 500, 60000),
	U32("timers", "t4_ms", t4_ms, 500, 60000),
	U32("timers", "timer_c_s", timer_c_s, 180, 3600),
	U32("timers", "fork_timeout_s", fork_timeout_s, 1, 600),
	U32("pools", "transactions", transactions, 64, 16u << 20),
	U32("pools", "contexts", contexts, 64, 16u << 20),
	U32("pools", "mbufs", mbufs, 1023, 16u << 20),
	U32("pools", "ring_size", ring_size, 64, 1u << 20),
	ENUM("worker", "idle", idle, idle_names),
	U32("worker", "idle_sleep_us", idle_sleep_us, 1, 100000),
	BOOL("tcp", "enabled", tcp),
	U32("tcp", "port", tcp_port, 1, 65535),
	U32("tcp", "max_connections", max_connections, 1, 1000000),
	U32("tcp", "max_per_ip", max_per_ip, 1, 1000000),
	U32("tcp", "idle_timeout_s", idle_timeout_s, 1, 86400),
	U32("tcp", "max_message", max_message, 1024, 65000),
	U32("tcp", "stall_timeout_s", stall_timeout_s, 1, 3600),
	U32("tcp", "write_queue_kb", write_queue_kb, 16, 1 << 20),
	U32("tcp", "connect_timeout_ms", connect_timeout_ms, 100, 60000),
	BOOL("tls", "enabled", tls),
	U32("tls", "port", tls_port, 1, 65535),
	STR("tls", "certificate", tls_cert),
	STR("tls", "private_key", tls_key),
	STR("tls", "ca_file", tls_ca),
	BOOL("tls", "verify_client", tls_verify_client),
	BOOL("tls", "verify_server", tls_verify_server),
	U32("tls", "handshake_timeout_ms", tls_handshake_timeout_ms, 100, 60000),
	STR("dns", "servers", dns_servers),
	U32("dns", "cache_size", dns_cache_size, 16, 1 << 20),
	U32("dns", "timeout_ms", dns_timeout_ms, 50, 30000),
	U32("dns", "tries", dns_tries, 1, 10),
	BOOL("dns", "ipv6", dns_ipv6),
	U32("dns", "min_ttl", dns_min_ttl, 0, 86400),
	U32("dns", "max_ttl", dns_max_ttl, 1, 7 * 86400),
	U32("dns", "negative_ttl", dns_neg_ttl, 0, 86400),
	U32("dns", "park", dns_park, 0, 1 << 16),
	U32("dns", "park_timeout_ms", dns_park_timeout_ms, 10, 60000),
	U32("dns", "unresolvable_status", dns_unresolvable_status, 404, 604),
	STR("control", "socket", control_socket),
	STR("control", "group", control_group),
	STR("log", "level", log_level),
};

/* Groups whose members are not in the table but parsed by hand. */
static const char *const special[][2] = {
	{ "sip", "udp_ports" }, { "sip", "domains" }, { "dns", "hosts" },
};

void spl_config_defaults(struct spl_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->profile, sizeof(c->profile), "tap");
	snprintf(c->lcores, sizeof(c->lcores), "0-1");
	c->memory_mb = 512;
	c->no_huge = true;
	snprintf(c->file_prefix, sizeof(c->file_prefix), "sipline");
	c->nsip_ports = 1;
	c->sip_ports[0] = 5060;
	c->record_route = true;
	c->max_branches = 8;
	c->registrar = true;
	c->max_contacts_per_aor = 10;
	c->max_aors = 20000;
	c->default_expires = 3600;
	c->min_expires = 60;
	c->max_expires = 7200;
	c->durability = SPL_CFG_DURABLE_ASYNC;
	snprintf(c->journal, sizeof(c->journal), "/var/lib/sipline/registrar.journal");
	c->snapshot_every = 100000;
	snprintf(c->realm, sizeof(c->realm), "sipline");
	c->nonce_lifetime_s = 300;
	c->t1_ms = 500;
	c->t2_ms = 4000;
	c->t4_ms = 5000;
	c->timer_c_s = 180;  /* RFC 3261 §16.6 step 11 asks for more than 3 minutes: set 181+ to be strict */
	c->fork_timeout_s = 20;
	c->transactions = 65536;
	c->contexts = 32768;
	c->mbufs = 16383;
	c->ring_size = 4096;
	c->idle = SPL_CFG_IDLE_ADAPTIVE;
	c->idle_sleep_us = 200;
	c->tcp = true;
	c->tcp_port = 5060;
	c->max_connections = 4096;
	c->max_per_ip = 64;
	c->idle_timeout_s = 600;
	c->max_message = 65000;
	c->stall_timeout_s = 32;   /* 64*T1: a message that takes longer is not coming */
	c->write_queue_kb = 1024;
	c->connect_timeout_ms = 5000;
	c->tls_port = 5061;
	c->tls_verify_server = true;
	c->tls_handshake_timeout_ms = 5000;
	c->dns_cache_size = 1024;
	c->dns_timeout_ms = 2000;
	c->dns_tries = 2;
	c->dns_max_ttl = 3600;
	c->dns_neg_ttl = 30;
	c->dns_park = 256;
	c->dns_park_timeout_ms = 4000;
	c->dns_unresolvable_status = 404;
	snprintf(c->control_socket, sizeof(c->control_socket), "/run/sipline/control.sock");
	snprintf(c->log_level, sizeof(c->log_level), "info");
}

struct ctx {
	const char *file;
	char *err;
	unsigned errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	unsigned line = s ? config_setting_source_line(s) : 0;
	if (line)
		snprintf(x->err, x->errlen, "%s:%u: %s", x->file, line, msg);
	else
		snprintf(x->err, x->errlen, "%s: %s", x->file, msg);
	return -1;
}

static int set_scalar(struct ctx *x, const struct key *k, config_setting_t *s, struct spl_config *c)
{
	char *base = (char *)c + k->off;
	int t = config_setting_type(s);
	switch (k->type) {
	case K_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			return fail(x, s, "%s.%s must be true or false", k->group, k->name);
		*(bool *)base = config_setting_get_bool(s);
		return 0;
	case K_U32: {
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return fail(x, s, "%s.%s must be an integer", k->group, k->name);
		long long v = config_setting_get_int64(s);
		if (v < k->min || v > k->max)
			return fail(x, s, "%s.%s = %lld is out of range [%lld, %lld]", k->group, k->name, v,
				    (long long)k->min, (long long)k->max);
		*(uint32_t *)base = (uint32_t)v;
		return 0;
	}
	case K_STR: {
		if (t != CONFIG_TYPE_STRING)
			return fail(x, s, "%s.%s must be a string", k->group, k->name);
		const char *v = config_setting_get_string(s);
		if (strlen(v) >= k->size)
			return fail(x, s, "%s.%s is longer than %zu characters", k->group, k->name, k->size - 1);
		memcpy(base, v, strlen(v) + 1);
		return 0;
	}
	case K_ENUM: {
		if (t != CONFIG_TYPE_STRING)
			return fail(x, s, "%s.%s must be a string", k->group, k->name);
		const char *v = config_setting_get_string(s);
		for (int i = 0; k->names[i]; i++)
			if (strcmp(v, k->names[i]) == 0) {
				*(int *)base = i;
				return 0;
			}
		char allowed[128] = "";
		for (int i = 0; k->names[i]; i++)
			snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
				 i ? ", " : "", k->names[i]);
		return fail(x, s, "%s.%s = \"%s\" is not one of: %s", k->group, k->name, v, allowed);
	}
	}
	return -1;
}

/* "192.0.2.1/24", "2001:db8::1/64", "192.0.2.1" (prefix defaults to host). */
static int parse_ip(const char *text, struct spl_cfg_ip *ip, bool allow_prefix)
{
	char buf[80];
	if (strlen(text) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", text);
	char *slash = strchr(buf, '/');
	long prefix = -1;
	if (slash) {
		if (!allow_prefix)
			return -1;
		*slash = '\0';
		char *end;
		prefix = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || prefix < 0)
			return -1;
	}
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, buf, ip->addr) == 1) {
		ip->family = AF_INET;
		if (prefix > 32)
			return -1;
		ip->prefix = (uint8_t)(prefix < 0 ? 32 : prefix);
	} else if (inet_pton(AF_INET6, buf, ip->addr) == 1) {
		ip->family = AF_INET6;
		if (prefix > 128)
			return -1;
		ip->prefix = (uint8_t)(prefix < 0 ? 128 : prefix);
	} else {
		return -1;
	}
	snprintf(ip->text, sizeof(ip->text), "%s", buf);
	return 0;
}

/* Next hop: HOST[:PORT][;transport=udp|tcp|tls], HOST an address, [v6] or a name. */
static int parse_hop(const char *text, struct spl_cfg_hop *h)
{
	char buf[SPL_CFG_STR];
	if (strlen(text) >= sizeof(buf) || !*text)
		return -1;
	snprintf(buf, sizeof(buf), "%s", text);
	memset(h, 0, sizeof(*h));
	h->port = 5060;
	h->transport = SPL_SIP_TRANSPORT_UDP;
	char *semi = strchr(buf, ';');
	if (semi) {
		*semi++ = '\0';
		if (strncmp(semi, "transport=", 10) != 0)
			return -1;
		h->transport = (uint8_t)spl_sip_transport_lookup(semi + 10, (uint32_t)strlen(semi + 10));
		if (h->transport != SPL_SIP_TRANSPORT_UDP && h->transport != SPL_SIP_TRANSPORT_TCP &&
		    h->transport != SPL_SIP_TRANSPORT_TLS)
			return -1;
		if (h->transport == SPL_SIP_TRANSPORT_TLS)
			h->port = 5061;
	}
	char *host = buf, *port = NULL;
	if (*host == '[') {
		char *close = strchr(host, ']');
		if (!close)
			return -1;
		*close = '\0';
		host++;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return -1;
	} else {
		char *colon = strchr(host, ':');
		if (colon) {
			if (strchr(colon + 1, ':'))
				return -1;  /* bare IPv6 needs brackets */
			*colon = '\0';
			port = colon + 1;
		}
	}
	if (port) {
		char *end;
		long p = strtol(port, &end, 10);
		if (*end || end == port || p < 1 || p > 65535)
			return -1;
		h->port = (uint16_t)p;
	}
	if (!*host)
		return -1;
	if (parse_ip(host, &h->ip, false) != 0) {
		struct spl_sip_host sh;
		if (spl_sip_host_parse(host, (uint32_t)strlen(host), &sh) != 0 || sh.kind != SPL_SIP_HOST_NAME)
			return -1;
		snprintf(h->host, sizeof(h->host), "%s", host);
	}
	return 0;
}

static int get_str_array(struct ctx *x, config_setting_t *s, const char *what, char *dst, size_t stride,
			 size_t size, unsigned max, uint8_t *count)
{
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
		return fail(x, s, "%s must be a list of strings [\"a\", \"b\"]", what);
	unsigned n = (unsigned)config_setting_length(s);
	if (n > max)
		return fail(x, s, "%s has %u entries; at most %u", what, n, max);
	for (unsigned i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(x, e, "%s[%u] must be a string", what, i);
		const char *v = config_setting_get_string(e);
		if (strlen(v) >= size || !*v)
			return fail(x, e, "%s[%u] is empty or too long", what, i);
		memcpy(dst + i * stride, v, strlen(v) + 1);
	}
	*count = (uint8_t)n;
	return 0;
}

static int parse_ports(struct ctx *x, config_setting_t *list, struct spl_config *c)
{
	if (!config_setting_is_list(list))
		return fail(x, list, "ports must be a list of groups: ports = ( { ... } )");
	unsigned n = (unsigned)config_setting_length(list);
	if (n == 0 || n > SPL_CFG_MAX_PORTS)
		return fail(x, list, "ports must have 1 to %d entries", SPL_CFG_MAX_PORTS);
	c->nports = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, i);
		struct spl_cfg_port *p = &c->ports[i];
		memset(p, 0, sizeof(*p));
		p->mtu = 1500;
		snprintf(p->name, sizeof(p->name), "port%u", i);
		if (!config_setting_is_group(g))
			return fail(x, g, "ports[%u] must be a group { ... }", i);
		for (int k = 0; k < config_setting_length(g); k++) {
			config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
			const char *name = config_setting_name(s);
			int t = config_setting_type(s);
			if (strcmp(name, "name") == 0 && t == CONFIG_TYPE_STRING) {
				snprintf(p->name, sizeof(p->name), "%s", config_setting_get_string(s));
			} else if (strcmp(name, "addresses") == 0) {
				char tmp[SPL_CFG_MAX_ADDRS][80];
				uint8_t cnt;
				if (get_str_array(x, s, "ports.addresses", &tmp[0][0], 80, 80, SPL_CFG_MAX_ADDRS, &cnt))
					return -1;
				for (unsigned a = 0; a < cnt; a++)
					if (parse_ip(tmp[a], &p->addrs[a], true) != 0)
						return fail(x, s, "ports[%u].addresses: '%s' is not ADDRESS/PREFIX", i, tmp[a]);
				p->naddrs = cnt;
			} else if ((strcmp(name, "gateway4") == 0 || strcmp(name, "gateway6") == 0) &&
				   t == CONFIG_TYPE_STRING) {
				struct spl_cfg_ip *gw = name[7] == '4' ? &p->gateway4 : &p->gateway6;
				const char *v = config_setting_get_string(s);
				if (*v && (parse_ip(v, gw, false) != 0 || gw->family != (name[7] == '4' ? AF_INET : AF_INET6)))
					return fail(x, s, "ports[%u].%s: '%s' is not an %s address", i, name, v,
						    name[7] == '4' ? "IPv4" : "IPv6");
			} else if (strcmp(name, "mtu") == 0 && t == CONFIG_TYPE_INT) {
				int v = config_setting_get_int(s);
				if (v < 576 || v > 9000)
					return fail(x, s, "ports[%u].mtu = %d is out of range [576, 9000]", i, v);
				p->mtu = (uint16_t)v;
			} else if (strcmp(name, "vlan") == 0 && t == CONFIG_TYPE_INT) {
				int v = config_setting_get_int(s);
				if (v < 0 || v > 4094)
					return fail(x, s, "ports[%u].vlan = %d is out of range [0, 4094]", i, v);
				p->vlan = (uint16_t)v;
			} else {
				return fail(x, s, "ports[%u]: unknown key or wrong type '%s'", i, name);
			}
		}
		if (p->naddrs == 0)
			return fail(x, g, "ports[%u] has no addresses", i);
	}
	return 0;
}

static int parse_routes(struct ctx *x, config_setting_t *list, struct spl_config *c)
{
	if (!config_setting_is_list(list))
		return fail(x, list, "routes must be a list of groups: routes = ( { ... } )");
	unsigned n = (unsigned)config_setting_length(list);
	if (n > SPL_CFG_MAX_ROUTES)
		return fail(x, list, "routes has %u entries; at most %d", n, SPL_CFG_MAX_ROUTES);
	c->nroutes = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, i);
		struct spl_cfg_route *r = &c->routes[i];
		memset(r, 0, sizeof(*r));
		if (!config_setting_is_group(g))
			return fail(x, g, "routes[%u] must be a group { ... }", i);
		for (int k = 0; k < config_setting_length(g); k++) {
			config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
			const char *name = config_setting_name(s);
			int t = config_setting_type(s);
			if (strcmp(name, "domain") == 0 && t == CONFIG_TYPE_STRING) {
				snprintf(r->domain, sizeof(r->domain), "%s", config_setting_get_string(s));
			} else if (strcmp(name, "prefix") == 0 && t == CONFIG_TYPE_STRING) {
				snprintf(r->prefix, sizeof(r->prefix), "%s", config_setting_get_string(s));
			} else if (strcmp(name, "stateless") == 0 && t == CONFIG_TYPE_BOOL) {
				r->stateless = config_setting_get_bool(s);
			} else if (strcmp(name, "next_hops") == 0) {
				char tmp[SPL_CFG_MAX_HOPS][SPL_CFG_STR];
				uint8_t cnt;
				if (get_str_array(x, s, "routes.next_hops", &tmp[0][0], SPL_CFG_STR, SPL_CFG_STR,
						  SPL_CFG_MAX_HOPS, &cnt))
					return -1;
				for (unsigned h = 0; h < cnt; h++)
					if (parse_hop(tmp[h], &r->hops[h]) != 0)
						return fail(x, s, "routes[%u].next_hops: '%s' is not HOST[:PORT][;transport=udp|tcp|tls]",
							    i, tmp[h]);
				r->nhops = cnt;
			} else {
				return fail(x, s, "routes[%u]: unknown key or wrong type '%s'", i, name);
			}
		}
		if (r->nhops == 0)
			return fail(x, g, "routes[%u] has no next_hops", i);
	}
	return 0;
}

static int parse_sip_special(struct ctx *x, const char *name, config_setting_t *s, struct spl_config *c)
{
	if (strcmp(name, "udp_ports") == 0) {
		if (!config_setting_is_array(s) || config_setting_length(s) < 1 ||
		    config_setting_length(s) > SPL_CFG_MAX_SIPPORTS)
			return fail(x, s, "sip.udp_ports must be an array of 1 to %d ports [5060]", SPL_CFG_MAX_SIPPORTS);
		c->nsip_ports = (uint8_t)config_setting_length(s);
		for (unsigned i = 0; i < c->nsip_ports; i++) {
			config_setting_t *e = config_setting_get_elem(s, i);
			int v = config_setting_get_int(e);
			if (config_setting_type(e) != CONFIG_TYPE_INT || v < 1 || v > 65535)
				return fail(x, e, "sip.udp_ports[%u] is not a port number", i);
			c->sip_ports[i] = (uint16_t)v;
		}
		return 0;
	}
	/* domains */
	if (get_str_array(x, s, "sip.domains", &c->domains[0][0], SPL_CFG_STR, SPL_CFG_STR, SPL_CFG_MAX_DOMAINS,
			  &c->ndomains))
		return -1;
	for (unsigned i = 0; i < c->ndomains; i++) {
		struct spl_sip_host h;
		if (spl_sip_host_parse(c->domains[i], (uint32_t)strlen(c->domains[i]), &h) != 0)
			return fail(x, s, "sip.domains: '%s' is not a host name or address", c->domains[i]);
	}
	return 0;
}

/* dns.hosts = ( { name = "pbx.lab"; address = "192.0.2.20"; }, ... ) */
static int parse_dns_hosts(struct ctx *x, config_setting_t *list, struct spl_config *c)
{
	if (!config_setting_is_list(list))
		return fail(x, list, "dns.hosts must be a list of groups: hosts = ( { name = \"...\"; address = \"...\"; } )");
	unsigned n = (unsigned)config_setting_length(list);
	if (n > SPL_CFG_MAX_DNS_HOSTS)
		return fail(x, list, "dns.hosts has %u entries; at most %d", n, SPL_CFG_MAX_DNS_HOSTS);
	for (unsigned i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, i);
		struct spl_cfg_dns_host *h = &c->dns_hosts[i];
		const char *name = NULL, *addr = NULL;
		if (!config_setting_is_group(g) || config_setting_length(g) != 2 ||
		    !config_setting_lookup_string(g, "name", &name) || !config_setting_lookup_string(g, "address", &addr))
			return fail(x, g, "dns.hosts[%u] must be { name = \"NAME\"; address = \"IP\"; }", i);
		struct spl_cfg_ip ip;
		if (!*name || strlen(name) >= sizeof(h->name))
			return fail(x, g, "dns.hosts[%u].name is empty or too long", i);
		if (parse_ip(addr, &ip, false) != 0)
			return fail(x, g, "dns.hosts[%u].address '%s' is not an IP address", i, addr);
		snprintf(h->name, sizeof(h->name), "%s", name);
		snprintf(h->addr, sizeof(h->addr), "%s", addr);
	}
	c->ndns_hosts = (uint8_t)n;
	return 0;
}

static bool is_special(const char *group, const char *name)
{
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcmp(special[i][0], group) == 0 && strcmp(special[i][1], name) == 0)
			return true;
	return false;
}

static bool group_known(const char *g)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].group, g) == 0)
			return true;
	return false;
}

/* Cross-field rules, checked after every key is read. */
static int validate(struct ctx *x, config_t *cfg, struct spl_config *c)
{
	config_setting_t *root = config_root_setting(cfg);
	if (c->min_expires > c->max_expires)
		return fail(x, config_setting_lookup(root, "registrar"),
			    "registrar.min_expires (%u) is above max_expires (%u)", c->min_expires, c->max_expires);
	if (c->default_expires < c->min_expires || c->default_expires > c->max_expires)
		return fail(x, config_setting_lookup(root, "registrar"),
			    "registrar.default_expires (%u) is outside [min_expires, max_expires]", c->default_expires);
	if (c->t2_ms < c->t1_ms)
		return fail(x, config_setting_lookup(root, "timers"), "timers.t2_ms (%u) is below t1_ms (%u)",
			    c->t2_ms, c->t1_ms);
	for (const char *const *l = level_names;; l++) {
		if (!*l)
			return fail(x, config_setting_lookup(root, "log"),
				    "log.level = \"%s\" is not one of: error, warning, notice, info, debug", c->log_level);
		if (strcmp(*l, c->log_level) == 0)
			break;
	}
	if (c->nports == 0)
		return fail(x, NULL, "no ports = ( { addresses = [\"ADDRESS/PREFIX\"]; } ) configured");
	if (!c->control_socket[0] || c->control_socket[0] != '/')
		return fail(x, config_setting_lookup(root, "control"), "control.socket must be an absolute path");
	if (c->registrar && c->ndomains == 0)
		return fail(x, config_setting_lookup(root, "sip"),
			    "registrar.enabled needs at least one entry in sip.domains");
	if ((c->auth_register || c->auth_invite) && !c->users_file[0])
		return fail(x, config_setting_lookup(root, "auth"), "auth needs auth.users_file");
	if (!c->lcores[0])
		return fail(x, config_setting_lookup(root, "eal"), "eal.cores is empty");
	config_setting_t *tls = config_setting_lookup(root, "tls");
	if (c->tls && (!c->tls_cert[0] || !c->tls_key[0]))
		return fail(x, tls, "tls.enabled needs tls.certificate and tls.private_key");
	if (c->tls && (c->tls_verify_client || c->tls_verify_server) && !c->tls_ca[0])
		return fail(x, tls, "tls.verify_client/verify_server need tls.ca_file (set verify_server = false "
			    "to connect without verifying)");
	if (c->tcp && c->tls && c->tcp_port == c->tls_port)
		return fail(x, tls, "tls.port (%u) is the same as tcp.port", c->tls_port);
	if (c->dns_unresolvable_status != 404 && c->dns_unresolvable_status != 604)
		return fail(x, config_setting_lookup(root, "dns"), "dns.unresolvable_status must be 404 or 604, not %u",
			    c->dns_unresolvable_status);
	if (c->dns_min_ttl > c->dns_max_ttl)
		return fail(x, config_setting_lookup(root, "dns"), "dns.min_ttl (%u) is above max_ttl (%u)",
			    c->dns_min_ttl, c->dns_max_ttl);
	return 0;
}

static int load(struct ctx *x, config_t *cfg, struct spl_config *c)
{
	config_setting_t *root = config_root_setting(cfg);
	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *g = config_setting_get_elem(root, (unsigned)i);
		const char *gname = config_setting_name(g);
		if (strcmp(gname, "ports") == 0) {
			if (parse_ports(x, g, c))
				return -1;
			continue;
		}
		if (strcmp(gname, "routes") == 0) {
			if (parse_routes(x, g, c))
				return -1;
			continue;
		}
		if (!group_known(gname))
			return fail(x, g, "unknown section '%s'", gname);
		if (!config_setting_is_group(g))
			return fail(x, g, "'%s' must be a group: %s = { ... };", gname, gname);
		for (int k = 0; k < config_setting_length(g); k++) {
			config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
			const char *name = config_setting_name(s);
			if (strcmp(gname, "sip") == 0 && is_special(gname, name)) {
				if (parse_sip_special(x, name, s, c))
					return -1;
				continue;
			}
			if (strcmp(gname, "dns") == 0 && is_special(gname, name)) {
				if (parse_dns_hosts(x, s, c))
					return -1;
				continue;
			}
			const struct key *found = NULL;
			for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
				if (strcmp(keys[j].group, gname) == 0 && strcmp(keys[j].name, name) == 0)
					found = &keys[j];
			if (!found)
				return fail(x, s, "unknown key '%s.%s'", gname, name);
			if (set_scalar(x, found, s, c))
				return -1;
		}
	}
	return validate(x, cfg, c);
}

static int finish(struct ctx *x, config_t *cfg, int read_ok, struct spl_config *c)
{
	int rc;
	if (read_ok != CONFIG_TRUE) {
		snprintf(x->err, x->errlen, "%s:%d: %s", x->file, config_error_line(cfg),
			 config_error_text(cfg) ? config_error_text(cfg) : "cannot read");
		rc = -1;
	} else {
		rc = load(x, cfg, c);
	}
	config_destroy(cfg);
	return rc;
}

int spl_config_load(const char *path, struct spl_config *c, char *err, unsigned errlen)
{
	struct ctx x = { path, err, errlen };
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %m", path);
		return -1;
	}
	spl_config_defaults(c);
	snprintf(c->path, sizeof(c->path), "%s", path);
	config_t cfg;
	config_init(&cfg);
	int ok = config_read(&cfg, f);
	fclose(f);
	return finish(&x, &cfg, ok, c);
}

int spl_config_parse(const char *name, const char *text, struct spl_config *c, char *err, unsigned errlen)
{
	struct ctx x = { name, err, errlen };
	spl_config_defaults(c);
	snprintf(c->path, sizeof(c->path), "%s", name);
	config_t cfg;
	config_init(&cfg);
	return finish(&x, &cfg, config_read_string(&cfg, text), c);
}

#define EMIT(...) \
	do { \
		int n_ = snprintf(out + len, len < cap ? cap - len : 0, __VA_ARGS__); \
		if (n_ > 0) len += (unsigned)n_; \
	} while (0)

int spl_config_format(const struct spl_config *c, char *out, unsigned cap)
{
	unsigned len = 0;
	EMIT("# config\nfile:%s\n", c->path);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		const char *base = (const char *)c + k->off;
		switch (k->type) {
		case K_BOOL: EMIT("%s.%s:%s\n", k->group, k->name, *(const bool *)base ? "true" : "false"); break;
		case K_U32: EMIT("%s.%s:%u\n", k->group, k->name, *(const uint32_t *)base); break;
		case K_STR: EMIT("%s.%s:%s\n", k->group, k->name, base); break;
		case K_ENUM: EMIT("%s.%s:%s\n", k->group, k->name, k->names[*(const int *)base]); break;
		}
	}
	EMIT("sip.udp_ports:");
	for (unsigned i = 0; i < c->nsip_ports; i++)
		EMIT("%s%u", i ? "," : "", c->sip_ports[i]);
	EMIT("\nsip.domains:");
	for (unsigned i = 0; i < c->ndomains; i++)
		EMIT("%s%s", i ? "," : "", c->domains[i]);
	EMIT("\n");
	for (unsigned i = 0; i < c->ndns_hosts; i++)
		EMIT("dns.hosts[%u]:%s=%s\n", i, c->dns_hosts[i].name, c->dns_hosts[i].addr);
	for (unsigned i = 0; i < c->nports; i++) {
		const struct spl_cfg_port *p = &c->ports[i];
		EMIT("ports[%u]:name=%s mtu=%u vlan=%u addresses=", i, p->name, p->mtu, p->vlan);
		for (unsigned a = 0; a < p->naddrs; a++)
			EMIT("%s%s/%u", a ? "," : "", p->addrs[a].text, p->addrs[a].prefix);
		if (p->gateway4.family)
			EMIT(" gateway4=%s", p->gateway4.text);
		if (p->gateway6.family)
			EMIT(" gateway6=%s", p->gateway6.text);
		EMIT("\n");
	}
	for (unsigned i = 0; i < c->nroutes; i++) {
		const struct spl_cfg_route *r = &c->routes[i];
		EMIT("routes[%u]:domain=%s prefix=%s %s next_hops=", i, r->domain[0] ? r->domain : "*",
		     r->prefix[0] ? r->prefix : "*", r->stateless ? "stateless" : "stateful");
		for (unsigned h = 0; h < r->nhops; h++)
			EMIT("%s%s:%u", h ? "," : "", r->hops[h].host[0] ? r->hops[h].host : r->hops[h].ip.text,
			     r->hops[h].port);
		EMIT("\n");
	}
	return (int)len;
}
