/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipline's configuration: one libconfig file (doc/config.md lists every
 * key and default). A loaded config is immutable; a reload builds a new
 * one, validates it whole, and only then swaps it in, so a bad file never
 * leaves a half-configured appliance.
 */
#ifndef SPL_APP_CONFIG_H
#define SPL_APP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define SPL_CFG_MAX_PORTS    4
#define SPL_CFG_MAX_ADDRS    4
#define SPL_CFG_MAX_SIPPORTS 4
#define SPL_CFG_MAX_DOMAINS  16
#define SPL_CFG_MAX_ROUTES   64
#define SPL_CFG_MAX_HOPS     8
#define SPL_CFG_STR          256
#define SPL_CFG_MAX_DNS_HOSTS 64

struct spl_cfg_ip {
	uint8_t family;          /* AF_INET or AF_INET6 */
	uint8_t prefix;          /* subnet prefix length */
	uint8_t addr[16];
	char text[80];           /* as written, without the prefix */
};

struct spl_cfg_hop {
	struct spl_cfg_ip ip;    /* numeric next hop ... */
	char host[SPL_CFG_STR];  /* ... or a name (resolved by the slow path) */
	uint16_t port;
	uint8_t transport;       /* enum spl_sip_transport */
};

struct spl_cfg_route {
	char domain[SPL_CFG_STR];  /* "" = any domain */
	char prefix[64];           /* user-part prefix; "" = any user */
	bool stateless;
	uint8_t nhops;
	struct spl_cfg_hop hops[SPL_CFG_MAX_HOPS];
};

struct spl_cfg_port {
	char name[32];
	uint8_t naddrs;
	struct spl_cfg_ip addrs[SPL_CFG_MAX_ADDRS];
	struct spl_cfg_ip gateway4;   /* family 0 when none */
	struct spl_cfg_ip gateway6;
	uint16_t mtu;
	uint16_t vlan;                /* 0 = untagged */
};

/* A static DNS entry (labs, overrides): answered before DNS. */
struct spl_cfg_dns_host {
	char name[SPL_CFG_STR];
	char addr[80];
};

enum spl_cfg_idle { SPL_CFG_IDLE_POLL = 0, SPL_CFG_IDLE_ADAPTIVE };
enum spl_cfg_durability { SPL_CFG_DURABLE_ASYNC = 0, SPL_CFG_DURABLE_SYNC };

struct spl_config {
	char path[SPL_CFG_STR];

	/* eal */
	char profile[64];            /* drivers-cfg/<profile>.conf */
	char profile_dir[SPL_CFG_STR];
	char lcores[64];             /* "0-2": first is the control thread */
	uint32_t memory_mb;
	bool no_huge;
	char file_prefix[64];
	char eal_extra[SPL_CFG_STR]; /* appended to the EAL arguments */

	uint8_t nports;
	struct spl_cfg_port ports[SPL_CFG_MAX_PORTS];

	/* sip */
	uint8_t nsip_ports;
	uint16_t sip_ports[SPL_CFG_MAX_SIPPORTS];
	uint8_t ndomains;
	char domains[SPL_CFG_MAX_DOMAINS][SPL_CFG_STR];
	bool record_route;
	uint32_t max_branches;
	bool recurse_3xx;

	/* registrar */
	bool registrar;
	uint32_t max_contacts_per_aor;
	uint32_t max_aors;
	uint32_t default_expires, min_expires, max_expires;
	enum spl_cfg_durability durability;
	char journal[SPL_CFG_STR];
	uint32_t snapshot_every;     /* journal records between snapshots */

	/* auth */
	char users_file[SPL_CFG_STR];
	char realm[SPL_CFG_STR];
	bool auth_register;
	bool auth_invite;            /* 407 for requests we route to a target */
	uint32_t nonce_lifetime_s;

	uint8_t nroutes;
	struct spl_cfg_route routes[SPL_CFG_MAX_ROUTES];

	/* timers */
	uint32_t t1_ms, t2_ms, t4_ms;
	uint32_t timer_c_s;
	uint32_t fork_timeout_s;     /* per branch, sequential forking */

	/* pools, per shard */
	uint32_t transactions;
	uint32_t contexts;
	uint32_t mbufs;
	uint32_t ring_size;

	/* workers */
	enum spl_cfg_idle idle;
	uint32_t idle_sleep_us;      /* adaptive: longest back-off sleep */

	/* tcp: SIP over TCP, served by the control thread (doc/streams.md) */
	bool tcp;
	uint32_t tcp_port;
	uint32_t max_connections;    /* TCP + TLS, in and out */
	uint32_t max_per_ip;         /* incoming, per source address */
	uint32_t idle_timeout_s;
	uint32_t max_message;        /* bytes; larger closes the connection */
	uint32_t stall_timeout_s;    /* a partial message older than this closes */
	uint32_t write_queue_kb;     /* per connection; a peer that reads slower is closed */
	uint32_t connect_timeout_ms;

	/* tls */
	bool tls;
	uint32_t tls_port;
	char tls_cert[SPL_CFG_STR];
	char tls_key[SPL_CFG_STR];
	char tls_ca[SPL_CFG_STR];    /* verifies client certificates and servers we connect to */
	bool tls_verify_client;
	bool tls_verify_server;
	uint32_t tls_handshake_timeout_ms;

	/* dns (RFC 3263) */
	char dns_servers[SPL_CFG_STR];   /* "" = /etc/resolv.conf */
	uint32_t dns_cache_size;
	uint32_t dns_timeout_ms;
	uint32_t dns_tries;
	bool dns_ipv6;
	uint32_t dns_min_ttl, dns_max_ttl, dns_neg_ttl;
	uint32_t dns_park;               /* requests per shard waiting for an answer */
	uint32_t dns_park_timeout_ms;
	uint32_t dns_unresolvable_status;   /* 404 or 604 */
	uint8_t ndns_hosts;
	struct spl_cfg_dns_host dns_hosts[SPL_CFG_MAX_DNS_HOSTS];

	/* control */
	char control_socket[SPL_CFG_STR];
	char control_group[64];      /* "" = root only */
	char log_level[16];
};

/* The defaults every key starts from. */
void spl_config_defaults(struct spl_config *c);

/*
 * Load and validate `path`. Returns 0, or -1 with `err` holding one line
 * naming the first problem and its line number ("FILE:LINE: ...").
 */
int spl_config_load(const char *path, struct spl_config *c, char *err, unsigned errlen);

/* The same, from a string (tests); `name` appears in messages. */
int spl_config_parse(const char *name, const char *text, struct spl_config *c, char *err,
		     unsigned errlen);

/* Human-readable dump, one "key: value" per line (config show). */
int spl_config_format(const struct spl_config *c, char *out, unsigned cap);

#endif
