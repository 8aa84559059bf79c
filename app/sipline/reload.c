/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live reload: a new config, already validated whole, is swapped into
 * every shard through its request ring; each shard switches between two
 * messages, so no message sees half of each. Transactions in flight keep
 * what they were started with: the proxy copies its routing decision into
 * the transaction's context, and the strings an old configuration points
 * at are kept until every transaction that could use them has ended.
 *
 * What a running appliance cannot change (cores, ports, addresses,
 * pools, the journal, credentials) is refused with the reason; restart
 * for those. The running config then stays as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "app.h"
#include "appctl.h"
#include "log.h"
#include "proxyconf.h"
#include "shard.h"

/* Older configs, kept for the transactions that started under them. */
#define RETIRED_MAX 8
static struct {
	struct spl_config *cfg;
	struct spl_proxy_strings *ps;
	uint64_t retired_tsc;
} retired[RETIRED_MAX];

static const char *restart_needed(const struct spl_config *a, const struct spl_config *b)
{
#define SAME_STR(f) (strcmp(a->f, b->f) == 0)
#define SAME(f) (a->f == b->f)
	if (!SAME_STR(lcores) || !SAME(memory_mb) || !SAME(no_huge) || !SAME_STR(file_prefix) || !SAME_STR(eal_extra))
		return "eal settings";
	if (!SAME_STR(profile) || !SAME_STR(profile_dir))
		return "eal.profile";
	if (!SAME(nports) || memcmp(a->ports, b->ports, sizeof(a->ports[0]) * a->nports) != 0)
		return "ports";
	if (!SAME(nsip_ports) || memcmp(a->sip_ports, b->sip_ports, sizeof(a->sip_ports)) != 0)
		return "sip.udp_ports";
	if (!SAME(transactions) || !SAME(contexts) || !SAME(mbufs) || !SAME(ring_size))
		return "pools";
	if (b->max_branches > a->max_branches)
		return "sip.max_branches above its value at start (contexts are sized for it)";
	if (!SAME(t1_ms) || !SAME(t2_ms) || !SAME(t4_ms))
		return "timers.t1_ms/t2_ms/t4_ms (the transaction layer's)";
	if (!SAME(registrar) || !SAME(max_contacts_per_aor) || !SAME(max_aors) || !SAME_STR(journal) ||
	    !SAME(durability) || !SAME(default_expires) || !SAME(min_expires) || !SAME(max_expires))
		return "registrar settings";
	if (!SAME_STR(users_file) || !SAME_STR(realm) || !SAME(auth_register) || !SAME(nonce_lifetime_s))
		return "auth settings";
	if (!SAME(tcp) || !SAME(tcp_port) || !SAME(tls) || !SAME(tls_port) || !SAME_STR(tls_cert) ||
	    !SAME_STR(tls_key) || !SAME_STR(tls_ca) || !SAME(tls_verify_client) || !SAME(tls_verify_server) ||
	    !SAME(max_connections) || !SAME(max_message))
		return "tcp/tls listeners, certificates or limits";
	if (!SAME_STR(dns_servers) || !SAME(dns_cache_size) || !SAME(dns_park) || !SAME(ndns_hosts) ||
	    memcmp(a->dns_hosts, b->dns_hosts, sizeof(a->dns_hosts)) != 0 || !SAME(dns_timeout_ms) ||
	    !SAME(dns_tries) || !SAME(dns_ipv6) || !SAME(dns_min_ttl) || !SAME(dns_max_ttl) || !SAME(dns_neg_ttl))
		return "dns resolver settings";
	if (!SAME_STR(control_socket) || !SAME_STR(control_group))
		return "control socket";
	return NULL;
#undef SAME
#undef SAME_STR
}

/* Free generations no transaction can still use: older than the longest
 * transaction life (Timer C plus 64*T1 for the final's retransmissions). */
static void collect(const struct spl_app *app)
{
	uint64_t now = rte_rdtsc();
	uint64_t life = ((uint64_t)app->cfg->timer_c_s + 64ull * app->cfg->t1_ms / 1000 + 64) * app->tsc_hz;
	for (int i = 0; i < RETIRED_MAX; i++)
		if (retired[i].cfg && now - retired[i].retired_tsc > life) {
			free(retired[i].ps);
			free(retired[i].cfg);
			retired[i].cfg = NULL;
			retired[i].ps = NULL;
		}
}

int spl_app_reload(struct spl_app *app, struct spl_config *nc, char *err, unsigned errlen)
{
	const char *what = restart_needed(app->cfg, nc);
	if (what) {
		snprintf(err, errlen, "%s changed: restart sipline to apply it", what);
		return -1;
	}
	collect(app);
	int slot = -1;
	for (int i = 0; i < RETIRED_MAX && slot < 0; i++)
		if (!retired[i].cfg)
			slot = i;
	if (slot < 0) {
		snprintf(err, errlen, "too many reloads within one transaction lifetime; try again later");
		return -1;
	}
	struct spl_proxy_strings *ps = spl_proxyconf_strings(nc);
	if (!ps) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Every shard gets the new proxy configuration through its ring. A
	 * shard that fails to apply it keeps the old one; the others are
	 * rolled back so that all shards route alike. */
	struct spl_shard_req *reqs[SPL_MAX_SHARDS] = { 0 };
	unsigned applied = 0;
	int rc = 0;
	for (unsigned i = 0; i < app->nshards; i++) {
		struct spl_shard_req *q = rte_zmalloc(NULL, sizeof(*q) + sizeof(struct spl_proxy_conf), 0);
		if (!q) {
			rc = -ENOMEM;
			break;
		}
		struct spl_proxy_conf *pc = (struct spl_proxy_conf *)(q + 1);
		spl_proxyconf_fill(pc, nc, ps, i);
		q->kind = SPL_SHARD_REQ_CONFIG;
		q->out = pc;
		reqs[i] = q;
		rc = spl_shard_call(app, i, q);
		if (rc == 0)
			rc = q->rc;
		if (rc != 0)
			break;
		applied++;
	}
	if (rc != 0) {
		for (unsigned i = 0; i < applied; i++) {
			struct spl_proxy_conf *pc = (struct spl_proxy_conf *)(reqs[i] + 1);
			spl_proxyconf_fill(pc, app->cfg, app->pstr, i);
			spl_shard_call(app, i, reqs[i]);
		}
		snprintf(err, errlen, "a shard refused the new configuration: %s", strerror(-rc));
	}
	for (unsigned i = 0; i < app->nshards; i++)
		if (reqs[i] && (rc == 0 || i <= applied))
			rte_free(reqs[i]);
	if (rc != 0) {
		free(ps);
		return -1;
	}
	retired[slot].cfg = app->cfg;
	retired[slot].ps = app->pstr;
	retired[slot].retired_tsc = rte_rdtsc();
	app->cfg = nc;
	app->pstr = ps;
	app->config_generation++;
	spl_log_set_level(nc->log_level);
	spl_log(SPL_LOG_NOTICE, "config %s reloaded (generation %llu)", nc->path,
		(unsigned long long)app->config_generation);
	return 0;
}
