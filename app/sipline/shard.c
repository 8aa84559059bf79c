/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bringing the appliance up: pools, the data port, the location service
 * (replayed from the journal), one shard per worker lcore (wheel, net,
 * auth, registrar, proxy, rings), the control socket; and down again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pdump.h>
#include <rte_ring.h>

#include "app.h"
#include "appctl.h"
#include "control.h"
#include "log.h"
#include "port.h"
#include "proxyconf.h"
#include "shard.h"
#include "conn.h"
#include "dnsres.h"
#include "excns.h"
#include "spl_net.h"
#include "spl_proxy.h"
#include "spl_registrar.h"
#include "spl_timerwheel.h"

_Static_assert(sizeof(struct spl_net_neigh_event) % 4 == 0, "ring elements are multiples of 4 bytes");

#define LARGE_DATA_ROOM (9216 + RTE_PKTMBUF_HEADROOM)

static struct spl_auth_creds *creds;
static uint8_t auth_secret[32];

static int make_pools(struct spl_shard *s, const struct spl_config *c, char *err, unsigned errlen)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	int sock = (int)rte_lcore_to_socket_id(s->lcore);
	snprintf(name, sizeof(name), "spl_mb%u", s->id);
	/* Private area: the hand-off record travels inside the mbuf. */
	uint16_t priv = (uint16_t)RTE_ALIGN(sizeof(struct spl_handoff), RTE_MBUF_PRIV_ALIGN);
	s->pool = rte_pktmbuf_pool_create(name, c->mbufs, 256, priv, RTE_MBUF_DEFAULT_BUF_SIZE, sock);
	snprintf(name, sizeof(name), "spl_lg%u", s->id);
	s->pool_large = rte_pktmbuf_pool_create(name, 511, 32, priv, LARGE_DATA_ROOM, sock);
	snprintf(name, sizeof(name), "spl_in%u", s->id);
	s->pool_indirect = rte_pktmbuf_pool_create(name, 4095, 64, 0, 0, sock);
	if (!s->pool || !s->pool_large || !s->pool_indirect) {
		snprintf(err, errlen, "shard %u: cannot create mbuf pools (%u mbufs): %s; raise eal.memory_mb", s->id,
			 c->mbufs, rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int make_net(struct spl_shard *s, const struct spl_config *c, const struct spl_port_info *pi, char *err,
		    unsigned errlen)
{
	struct spl_net_config nc;
	spl_net_config_init(&nc);
	const struct spl_cfg_port *p = &c->ports[0];
	nc.port_id = s->app->port_id;
	nc.queue_id = s->tx_queue;
	nc.mac = pi->mac;
	nc.vlan_id = p->vlan;
	nc.mtu = p->mtu;
	for (unsigned a = 0; a < p->naddrs; a++) {
		if (p->addrs[a].family == AF_INET && nc.n_ip4 < SPL_NET_MAX_ADDRS) {
			memcpy(nc.ip4[nc.n_ip4].addr, p->addrs[a].addr, 4);
			nc.ip4[nc.n_ip4++].prefix_len = p->addrs[a].prefix;
		} else if (p->addrs[a].family == AF_INET6 && nc.n_ip6 < SPL_NET_MAX_ADDRS) {
			memcpy(nc.ip6[nc.n_ip6].addr, p->addrs[a].addr, 16);
			nc.ip6[nc.n_ip6++].prefix_len = p->addrs[a].prefix;
		}
	}
	if (p->gateway4.family)
		memcpy(nc.gw4, p->gateway4.addr, 4);
	if (p->gateway6.family)
		memcpy(nc.gw6, p->gateway6.addr, 16);
	nc.n_sip_ports = c->nsip_ports;
	for (unsigned i = 0; i < c->nsip_ports; i++)
		nc.sip_ports[i] = c->sip_ports[i];
	nc.rx_offloads = pi->rx_offloads;
	nc.tx_offloads = pi->tx_offloads;
	nc.pool = s->pool;
	nc.pool_indirect = s->pool_indirect;
	nc.pool_large = s->pool_large;
	nc.tsc_hz = s->tsc_hz;
	nc.shard_index = (uint16_t)s->id;
	nc.shard_count = (uint16_t)s->app->nshards;
	nc.socket_id = (int)rte_lcore_to_socket_id(s->lcore);
	nc.neigh_to_exception = s->app->exc_port >= 0;
	s->net = spl_net_create(&nc);
	if (!s->net) {
		snprintf(err, errlen, "shard %u: network stack: %s", s->id, rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int make_sip(struct spl_shard *s, const struct spl_config *c, uint64_t now, char *err, unsigned errlen)
{
	struct spl_timerwheel_conf wc = {
		.capacity = c->transactions * 2 + c->contexts * 2 + c->max_aors / s->app->nshards + 1024,
		.tick_ns = 1000000,
		.now_ns = now,
	};
	s->wheel = spl_timerwheel_create(&wc);
	if (!s->wheel) {
		snprintf(err, errlen, "shard %u: timer wheel: %s", s->id, strerror(errno));
		return -1;
	}
	if (creds) {
		struct spl_auth_rule rules[2];
		unsigned nr = 0;
		uint32_t reg = c->auth_register ? SPL_AUTH_METHOD(SPL_SIP_METHOD_REGISTER) : 0;
		if (reg)
			rules[nr++] = (struct spl_auth_rule){ "*", c->realm[0] ? c->realm : NULL, reg };
		struct spl_auth_conf ac = { .creds = creds, .nonce_lifetime_s = c->nonce_lifetime_s,
					    .shard = (uint8_t)s->id, .rules = rules, .nrules = nr };
		memcpy(ac.secret, auth_secret, sizeof(ac.secret));
		s->auth = spl_auth_create(&ac);
		if (!s->auth) {
			snprintf(err, errlen, "shard %u: digest auth: %s", s->id, strerror(errno));
			return -1;
		}
	}
	if (c->registrar) {
		struct spl_registrar_conf rc = {
			.shard = s->id,
			.domains = s->app->pstr->domains,
			.ndomains = c->ndomains,
			.forward_foreign = true,
			.default_expires = c->default_expires,
			.min_expires = c->min_expires,
			.max_expires = c->max_expires,
		};
		struct spl_journal *j = s->app->journals[s->id];
		s->registrar = spl_registrar_create(&rc, s->app->location, s->wheel, s->auth, j, now);
		if (!s->registrar) {
			snprintf(err, errlen, "shard %u: registrar: %s", s->id, strerror(errno));
			return -1;
		}
	}
	struct spl_proxy_conf pc;
	spl_proxyconf_fill(&pc, c, s->app->pstr, s->id);
	pc.wheel = s->wheel;
	spl_glue_fill(s, &pc);
	s->proxy = spl_proxy_create(&pc);
	if (!s->proxy) {
		snprintf(err, errlen, "shard %u: proxy: %s", s->id, strerror(errno));
		return -1;
	}
	return 0;
}

static int make_rings(struct spl_app *app, char *err, unsigned errlen)
{
	const struct spl_config *c = app->cfg;
	char name[RTE_RING_NAMESIZE];
	for (unsigned i = 0; i < app->nshards; i++) {
		struct spl_shard *s = app->shards[i];
		int sock = (int)rte_lcore_to_socket_id(s->lcore);
		for (unsigned j = 0; j < app->nshards; j++) {
			if (i == j)
				continue;
			snprintf(name, sizeof(name), "spl_h%u_%u", j, i);
			s->in[j] = rte_ring_create(name, c->ring_size, sock, RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!s->in[j])
				goto fail;
		}
		snprintf(name, sizeof(name), "spl_exc%u", i);
		s->exc_out = rte_ring_create(name, 1024, sock, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "spl_nb%u", i);
		s->neigh_in = rte_ring_create_elem(name, sizeof(struct spl_net_neigh_event), 256, sock, RING_F_SC_DEQ);
		if (i == 0) {
			s->exc_in = rte_ring_create("spl_excin", 1024, sock, RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!s->exc_in)
				goto fail;
		}
		snprintf(name, sizeof(name), "spl_req%u", i);
		s->req_in = rte_ring_create(name, 64, sock, RING_F_SC_DEQ);
		if (!s->exc_out || !s->neigh_in || !s->req_in)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot create rings: %s", rte_strerror(rte_errno));
	return -1;
}

static int open_location(struct spl_app *app, uint64_t now, char *err, unsigned errlen)
{
	const struct spl_config *c = app->cfg;
	/* 2 KiB per AOR record holds ~10 contacts with Path and Call-ID; the
	 * pools are allocated and touched at start (doc/config.md: sizing). */
	struct spl_location_conf lc = { .nshards = app->nshards, .max_aors = c->max_aors,
					.max_bindings = c->max_contacts_per_aor, .record_bytes = 2048 };
	app->location = spl_location_create(&lc);
	if (!app->location) {
		snprintf(err, errlen, "location service: %s", strerror(errno));
		return -1;
	}
	app->ctl_reader = spl_location_reader_register(app->location);
	if (!c->journal[0])
		return 0;
	for (unsigned i = 0; i < app->nshards; i++) {
		char path[SPL_CFG_STR + 16];
		snprintf(path, sizeof(path), "%s.%u", c->journal, i);
		struct spl_journal_conf jc = { .path = path, .truncate_corrupt = true };
		struct spl_journal_report rep;
		/* The journal directory is created like the control socket's. */
		char dir[SPL_CFG_STR];
		snprintf(dir, sizeof(dir), "%s", c->journal);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			char cmd[SPL_CFG_STR + 16];
			snprintf(cmd, sizeof(cmd), "%s", dir);
			for (char *q = cmd + 1; *q; q++)
				if (*q == '/') {
					*q = '\0';
					mkdir(cmd, 0750);
					*q = '/';
				}
			mkdir(cmd, 0750);
		}
		app->journals[i] = spl_journal_open(&jc, app->location, now, &rep);
		if (!app->journals[i]) {
			snprintf(err, errlen, "registrar journal %s: %s", path, strerror(errno));
			return -1;
		}
		spl_log(SPL_LOG_NOTICE, "journal %s: %llu snapshot + %llu journal records replayed%s%s", path,
			(unsigned long long)rep.snapshot_records, (unsigned long long)rep.records,
			rep.torn_tail ? ", torn tail skipped" : "", rep.corrupt ? ", corrupt record cut" : "");
	}
	return 0;
}

struct exc_setup {
	uint16_t port;
	struct rte_mempool *pool;
	char *err;
	unsigned errlen;
};

static int exc_setup_inside(void *arg)
{
	struct exc_setup *e = arg;
	return spl_port_setup_exception(e->port, e->pool, e->err, e->errlen);
}

int spl_app_start(struct spl_app *app, char *err, unsigned errlen)
{
	const struct spl_config *c = app->cfg;
	app->exc_port = -1;
	app->port_id = 0;
	unsigned nworkers = rte_lcore_count() - 1;
	if (nworkers == 0 || nworkers > SPL_MAX_SHARDS) {
		snprintf(err, errlen, "eal.cores = \"%s\" gives %u worker lcore(s); need 1..%d besides the control lcore",
			 c->lcores, nworkers, SPL_MAX_SHARDS);
		return -1;
	}
	uint16_t nports = rte_eth_dev_count_avail();
	if (nports == 0) {
		snprintf(err, errlen, "no port: profile '%s' opened no device", app->profile.name);
		return -1;
	}
	if (app->want_exception) {
		uint16_t exc;
		if (spl_excns_open(c, &exc, err, errlen) != 0)
			return -1;
		app->exc_port = exc;
	}
	app->nshards = nworkers;
	app->pstr = spl_proxyconf_strings(c);
	if (!app->pstr) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}

	if (c->auth_register || c->auth_invite) {
		unsigned bad = 0;
		creds = spl_auth_creds_load(c->users_file, &bad);
		if (!creds) {
			snprintf(err, errlen, "%s:%u: cannot load credentials: %s", c->users_file, bad, strerror(errno));
			return -1;
		}
		if (getrandom(auth_secret, sizeof(auth_secret), 0) != sizeof(auth_secret)) {
			snprintf(err, errlen, "no randomness for the nonce secret");
			return -1;
		}
	}

	unsigned lcore, i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct spl_shard *s = rte_zmalloc_socket("spl_shard", sizeof(*s), RTE_CACHE_LINE_SIZE,
							 (int)rte_lcore_to_socket_id(lcore));
		if (!s) {
			snprintf(err, errlen, "out of memory for shard %u", i);
			return -1;
		}
		s->id = i;
		s->lcore = lcore;
		s->app = app;
		s->rx_queue = s->tx_queue = (uint16_t)i;
		s->tsc_hz = app->tsc_hz;
		s->ns_per_tsc = (uint64_t)(((unsigned __int128)1000000000u << 32) / app->tsc_hz);
		s->tsc_base = app->start_tsc;
		s->ns_base_wall = app->start_wall_ns;
		app->shards[i++] = s;
		if (make_pools(s, c, err, errlen))
			return -1;
	}
	struct rte_mempool *pools[SPL_MAX_SHARDS];
	for (i = 0; i < app->nshards; i++)
		pools[i] = app->shards[i]->pool;
	struct spl_port_info pi;
	if (spl_port_setup(app->port_id, app->nshards, &app->profile, pools, &pi, err, errlen))
		return -1;
	app->port_info = pi;
	if (app->exc_port >= 0) {
		app->exc_pool = rte_pktmbuf_pool_create("spl_exc", 4095, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
							(int)rte_socket_id());
		struct exc_setup es = { (uint16_t)app->exc_port, app->exc_pool, err, errlen };
		if (!app->exc_pool || spl_excns_run(exc_setup_inside, &es) != 0) {
			spl_log(SPL_LOG_WARNING, "exception path disabled: %s", app->exc_pool ? err : "no pool");
			app->exc_port = -1;
		} else {
			/* The kernel side answers with the appliance's MAC so that
			 * its frames pass the NIC unchanged. */
			rte_eth_dev_default_mac_addr_set((uint16_t)app->exc_port, &pi.mac);
			if (spl_excns_configure(c, &pi.mac, err, errlen) != 0)
				return -1;
		}
	}
	uint64_t now = spl_shard_now_ns(app->shards[0], rte_rdtsc());
	if (open_location(app, now, err, errlen))
		return -1;
	/* The resolver: host namespace, before the proxies take its hook. */
	if (spl_dnsres_start(app, err, errlen) != 0)
		return -1;
	if (make_rings(app, err, errlen))
		return -1;
	for (i = 0; i < app->nshards; i++) {
		struct spl_shard *s = app->shards[i];
		if (make_net(s, c, &pi, err, errlen) || make_sip(s, c, now, err, errlen))
			return -1;
	}
	struct spl_ctl_conf cc = { c->control_socket, c->control_group, app };
	app->ctl = spl_ctl_create(&cc, err, errlen);
	if (!app->ctl)
		return -1;
	spl_appctl_register(app);
	spl_dnsres_register_commands(app);
	if (spl_capture_setup(app, err, errlen) != 0)
		return -1;
	spl_telemetry_register(app);
	if (spl_conn_start(app, err, errlen) != 0)
		return -1;
	spl_conn_register_commands(app);
	/* dpdk-dumpcap (a secondary process) needs the shared config that
	 * production runs have; with no_huge (--no-shconf) it cannot attach. */
	if (rte_pdump_init() != 0)
		spl_log(SPL_LOG_WARNING, "rte_pdump_init failed (%s): dpdk-dumpcap will not attach; "
			"'capture start' still works", rte_strerror(rte_errno));
	for (i = 0; i < app->nshards; i++) {
		int rc = rte_eal_remote_launch(spl_worker_main, app->shards[i], app->shards[i]->lcore);
		if (rc != 0) {
			snprintf(err, errlen, "cannot launch worker on lcore %u: %s", app->shards[i]->lcore,
				 rte_strerror(-rc));
			return -1;
		}
	}
	app->running = true;
	return 0;
}

void spl_app_stop(struct spl_app *app)
{
	atomic_store(&app->stop, true);
	if (app->running)
		rte_eal_mp_wait_lcore();
	app->running = false;
	spl_capture_shutdown(app);
	spl_conn_stop(app);
	spl_ctl_free(app->ctl);
	app->ctl = NULL;
	for (unsigned i = 0; i < app->nshards; i++) {
		struct spl_shard *s = app->shards[i];
		if (!s)
			continue;
		spl_proxy_free(s->proxy);
		spl_registrar_free(s->registrar);
		spl_auth_free(s->auth);
		spl_timerwheel_free(s->wheel);
		spl_net_free(s->net);
	}
	spl_dnsres_stop(app);
	for (unsigned i = 0; i < app->nshards; i++)
		if (app->journals[i]) {
			spl_journal_close(app->journals[i]);  /* commits, writes and syncs what is pending */
			app->journals[i] = NULL;
		}
	if (app->port_id < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port(app->port_id)) {
		rte_eth_dev_stop(app->port_id);
		rte_eth_dev_close(app->port_id);
	}
	if (app->exc_port >= 0) {
		rte_eth_dev_stop((uint16_t)app->exc_port);
		rte_eth_dev_close((uint16_t)app->exc_port);
	}
	spl_excns_close();
}

void spl_app_set_draining(struct spl_app *app, bool on)
{
	for (unsigned i = 0; i < app->nshards; i++)
		atomic_store(&app->shards[i]->draining, on);
}

uint64_t spl_app_live_transactions(const struct spl_app *app)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < app->nshards; i++)
		n += spl_txn_live(spl_proxy_txn(app->shards[i]->proxy));
	return n;
}

void spl_app_control_turn(struct spl_app *app)
{
	/* Exception path: NIC → kernel (from the shards' rings) and
	 * kernel → NIC (on the control thread's own TX queue). */
	if (app->exc_port >= 0) {
		for (unsigned i = 0; i < app->nshards; i++) {
			struct rte_mbuf *ms[SPL_BURST];
			unsigned n = rte_ring_sc_dequeue_burst(app->shards[i]->exc_out, (void **)ms, SPL_BURST, NULL);
			if (!n)
				continue;
			uint16_t sent = rte_eth_tx_burst((uint16_t)app->exc_port, 0, ms, (uint16_t)n);
			for (unsigned k = sent; k < n; k++)
				rte_pktmbuf_free(ms[k]);
		}
		struct rte_mbuf *ms[SPL_BURST];
		uint16_t n = rte_eth_rx_burst((uint16_t)app->exc_port, 0, ms, SPL_BURST);
		if (n) {
			unsigned q = rte_ring_sp_enqueue_burst(app->shards[0]->exc_in, (void **)ms, n, NULL);
			for (unsigned k = q; k < n; k++)
				rte_pktmbuf_free(ms[k]);
		}
	}
	/* Journal: write what the shards committed; fsync by policy. */
	uint64_t now = rte_rdtsc();
	for (unsigned i = 0; i < app->nshards; i++) {
		struct spl_journal *j = app->journals[i];
		if (!j)
			continue;
		if (app->cfg->durability == SPL_CFG_DURABLE_SYNC)
			spl_journal_sync(j);
		else if (now - app->last_sync > app->tsc_hz)
			spl_journal_sync(j);
		else
			spl_journal_flush(j);
	}
	if (now - app->last_sync > app->tsc_hz)
		app->last_sync = now;
	spl_capture_turn(app);
	if (app->ctl_reader >= 0)
		spl_location_quiescent(app->location, app->ctl_reader);
}
