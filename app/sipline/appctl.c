/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-socket commands of the appliance. Each builds one JSON value;
 * control.c renders it as text or JSON. Counters are read from the shards
 * without locks (plain aligned 64-bit loads of per-shard increments);
 * anything that must touch shard-owned state is sent to the shard as a
 * request (spl_shard_call) and runs there.
 */
#include "appctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_version.h>

#include "app.h"
#include "conn.h"
#include "control.h"
#include "dnsres.h"
#include "log.h"
#include "shard.h"
#include "spl_net.h"
#include "spl_proxy.h"
#include "spl_registrar.h"
#include "spl_txn.h"

#ifndef SIPLINE_VERSION
#define SIPLINE_VERSION "0.0.0"
#endif

#define PAGE 50

static struct spl_app *app_of(struct spl_ctl_req *r) { return r->app; }

static const char *shard_drop_names[] = {
#define X(n, h) #n,
	SPL_SHARD_DROPS(X)
#undef X
};

const char *spl_shard_drop_name(enum spl_shard_drop d)
{
	return (unsigned)d < SPL_SHARD_DROP__COUNT ? shard_drop_names[d] : "?";
}

/* Counter keys from the proxy's .def identifiers (the descriptions are
 * for help text; keys must be stable identifiers). */
static const char *const proxy_local_ids[] = {
#define SPL_PROXY_LOCAL(id, status, reason) #id,
#include "spl_proxy_counters.def"
#undef SPL_PROXY_LOCAL
};
static const char *const proxy_drop_ids[] = {
#define SPL_PROXY_DROP(id, text) #id,
#include "spl_proxy_counters.def"
#undef SPL_PROXY_DROP
};

static const char *const sipmsg_err_ids[] = {
#define SPL_SIPMSG_ERR(id, status, reason) #id,
#include "spl_sipmsg_errs.def"
#undef SPL_SIPMSG_ERR
};

static void lower(char *d, const char *s, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		d[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	d[i] = '\0';
}

int spl_shard_call(struct spl_app *app, unsigned id, struct spl_shard_req *r)
{
	atomic_store(&r->done, 0);
	if (id >= app->nshards || rte_ring_mp_enqueue(app->shards[id]->req_in, r) != 0)
		return -EBUSY;
	for (int i = 0; i < 20000; i++) {  /* 2 s */
		if (atomic_load_explicit(&r->done, memory_order_acquire))
			return 0;
		usleep(100);
	}
	return -ETIMEDOUT;
}

/* ---------------------------------------------------------------- */

static int cmd_version(struct spl_ctl_req *r, json_t **out)
{
	(void)r;
	*out = json_pack("{s:s,s:s}", "version", SIPLINE_VERSION, "dpdk", rte_version());
	return 0;
}

static int cmd_uptime(struct spl_ctl_req *r, json_t **out)
{
	struct spl_app *app = app_of(r);
	uint64_t s = (rte_rdtsc() - app->start_tsc) / app->tsc_hz;
	*out = json_pack("{s:I,s:b}", "uptime_s", (json_int_t)s, "draining", atomic_load(&app->draining));
	return 0;
}

static void add_u64(json_t *o, const char *k, uint64_t v) { json_object_set_new(o, k, json_integer((json_int_t)v)); }

/* Counters of one shard, as a JSON object; `sum` accumulates totals. */
static json_t *shard_json(const struct spl_shard *s, json_t *sum)
{
	json_t *o = json_object();
	const struct spl_shard_stats *st = &s->stats;
	add_u64(o, "lcore", s->lcore);
	add_u64(o, "busy_cycles", st->busy_cycles);
	add_u64(o, "idle_cycles", st->idle_cycles);
	add_u64(o, "loops", st->loops);
	add_u64(o, "idle_loops", st->idle_loops);
	add_u64(o, "rx_packets", st->rx_pkts);
	add_u64(o, "sip_in", st->sip_in);
	add_u64(o, "handoff_out", st->handoff_out);
	add_u64(o, "handoff_in", st->handoff_in);
	add_u64(o, "rejected", st->rejects);
	add_u64(o, "journal_waits_timed_out", st->journal_waits_timed_out);
	add_u64(o, "config_generation", st->config_generation);
	for (int d = 0; d < SPL_SHARD_DROP__COUNT; d++) {
		char k[64];
		char l[48];
		lower(l, shard_drop_names[d], sizeof(l));
		snprintf(k, sizeof(k), "drop_%s", l);
		add_u64(o, k, st->drops[d]);
	}
	for (int e = 1; e < SPL_SIPMSG_E__COUNT && e < 64; e++)
		if (st->sip_drop_by_err[e]) {
			char k[96], id[48];
			lower(id, sipmsg_err_ids[e], sizeof(id));
			snprintf(k, sizeof(k), "sip_drop_%s", id);
			add_u64(o, k, st->sip_drop_by_err[e]);
		}

	const struct spl_proxy_stats *ps = spl_proxy_stats(s->proxy);
	for (int m = 1; m < SPL_SIP_METHOD__COUNT; m++) {
		char k[64];
		char l[32];
		lower(l, spl_sip_method_name((enum spl_sip_method)m), sizeof(l));
		snprintf(k, sizeof(k), "req_in_%s", l);
		add_u64(o, k, ps->req_in[m]);
		snprintf(k, sizeof(k), "req_out_%s", l);
		add_u64(o, k, ps->req_out[m]);
	}
	for (int c = 1; c <= 6; c++) {
		char k[32];
		snprintf(k, sizeof(k), "rsp_in_%dxx", c);
		add_u64(o, k, ps->rsp_in[c]);
		snprintf(k, sizeof(k), "rsp_out_%dxx", c);
		add_u64(o, k, ps->rsp_out[c]);
	}
	for (int l = 0; l < SPL_PROXY_LOCAL__COUNT; l++) {
		char k[80], id[48];
		lower(id, proxy_local_ids[l], sizeof(id));
		snprintf(k, sizeof(k), "local_%u_%s", spl_proxy_local_status((enum spl_proxy_local)l), id);
		add_u64(o, k, ps->local[l]);
	}
	for (int d = 0; d < SPL_PROXY_DROP__COUNT; d++) {
		char k[80], id[48];
		lower(id, proxy_drop_ids[d], sizeof(id));
		snprintf(k, sizeof(k), "proxy_drop_%s", id);
		add_u64(o, k, ps->drops[d]);
	}
	add_u64(o, "forwards", ps->forwards);
	add_u64(o, "branches", ps->branches);
	add_u64(o, "stateless_requests", ps->stateless_requests);
	add_u64(o, "stateless_responses", ps->stateless_responses);
	add_u64(o, "overload_503", ps->overload_503);
	add_u64(o, "loops_detected", ps->loops);
	add_u64(o, "cancels_in", ps->cancels_in);
	add_u64(o, "cancels_out", ps->cancels_out);
	add_u64(o, "timer_c", ps->timer_c);
	add_u64(o, "fork_group_timeouts", ps->seq_timeouts);
	add_u64(o, "failovers", ps->failovers);
	add_u64(o, "spirals", ps->spirals);
	add_u64(o, "best_408_no_response", ps->best_408_none);
	add_u64(o, "best_487_cancelled", ps->best_487_cancelled);
	add_u64(o, "registers", ps->registers);
	add_u64(o, "contexts_live", ps->ctx_live);
	add_u64(o, "parked", ps->parked);
	add_u64(o, "park_resumed", ps->park_resumed);
	add_u64(o, "park_timeouts", ps->park_timeouts);
	add_u64(o, "park_full", ps->park_full);
	add_u64(o, "parked_live", spl_proxy_parked(s->proxy));
	add_u64(o, "unresolvable", ps->unresolvable);

	const struct spl_txn_table *tt = spl_proxy_txn(s->proxy);
	const struct spl_txn_stats *ts = spl_txn_stats(tt);
	add_u64(o, "txn_live", spl_txn_live(tt));
	add_u64(o, "txn_capacity", spl_txn_capacity(tt));
	for (int k = 1; k < SPL_TXN_KIND__COUNT; k++)
		for (int stt = 0; stt < SPL_TXN_STATE__COUNT; stt++)
			if (ts->live[k][stt]) {
				char key[96];
				snprintf(key, sizeof(key), "txn_%s_%s", spl_txn_kind_name((enum spl_txn_kind)k),
					 spl_txn_state_name((enum spl_txn_state)stt));
				add_u64(o, key, ts->live[k][stt]);
			}
	add_u64(o, "retransmissions", ts->retransmitted);
	add_u64(o, "retransmissions_absorbed", ts->absorbed);
	add_u64(o, "txn_table_full", ts->table_full);
	uint64_t to = 0;
	for (int t = 0; t < SPL_TXN_TIMER__COUNT; t++)
		to += ts->timeouts[t];
	add_u64(o, "txn_timeouts", to);

	const struct spl_net_stats *ns = spl_net_stats(s->net);
	for (int k = 0; k < SPL_NET_STAT__COUNT; k++)
		add_u64(o, spl_net_stat_name((enum spl_net_stat)k), ns->stat[k]);
	for (int d = 0; d < SPL_NET_DROP__COUNT; d++) {
		char k[80];
		snprintf(k, sizeof(k), "net_drop_%s", spl_net_drop_name((enum spl_net_drop)d));
		add_u64(o, k, ns->drop[d]);
	}
	if (s->registrar) {
		struct spl_registrar_stats rs;
		spl_registrar_get_stats(s->registrar, &rs);
		add_u64(o, "registers_processed", rs.registers);
		add_u64(o, "registers_failed", rs.failed);
		add_u64(o, "bindings_live", rs.bindings_live);
		add_u64(o, "aors_live", rs.aors_live);
		add_u64(o, "journal_records", rs.journal_records);
		add_u64(o, "auth_challenges", rs.auth.challenges);
		add_u64(o, "auth_failures", rs.auth.failures);
	}
	add_u64(o, "mbufs_free", rte_mempool_avail_count(s->pool));
	add_u64(o, "mbufs_in_use", rte_mempool_in_use_count(s->pool));

	/* Totals: every integer field summed. */
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (!json_is_integer(v) || strcmp(k, "lcore") == 0)
			continue;
		json_t *t = json_object_get(sum, k);
		json_object_set_new(sum, k, json_integer((t ? json_integer_value(t) : 0) + json_integer_value(v)));
	}
	return o;
}

json_t *spl_appctl_stats(struct spl_app *app)
{
	json_t *root = json_object();
	json_t *sum = json_object();
	json_object_set_new(root, "totals", sum);
	for (unsigned i = 0; i < app->nshards; i++) {
		char k[32];
		snprintf(k, sizeof(k), "shard%u", i);
		json_object_set_new(root, k, shard_json(app->shards[i], sum));
	}
	/* CPU per SIP message from busy cycles, the figure operators size by. */
	json_int_t busy = json_integer_value(json_object_get(sum, "busy_cycles"));
	json_int_t msgs = json_integer_value(json_object_get(sum, "sip_in"));
	json_object_set_new(sum, "tsc_hz", json_integer((json_int_t)app->tsc_hz));
	json_object_set_new(root, "streams", spl_conn_stats_json());
	json_object_set_new(root, "dns", spl_dnsres_stats_json(app));
	json_object_set_new(sum, "busy_ns_per_sip_message",
			    json_integer(msgs ? (json_int_t)((double)busy * 1e9 / (double)app->tsc_hz / (double)msgs) : 0));
	return root;
}

static int cmd_stats(struct spl_ctl_req *r, json_t **out)
{
	*out = spl_appctl_stats(app_of(r));
	return 0;
}

static int cmd_ports(struct spl_ctl_req *r, json_t **out)
{
	struct spl_app *app = app_of(r);
	json_t *root = json_object();
	uint16_t ports[2] = { app->port_id, (uint16_t)app->exc_port };
	for (int i = 0; i < (app->exc_port >= 0 ? 2 : 1); i++) {
		struct rte_eth_stats st;
		struct rte_eth_link link;
		char name[RTE_ETH_NAME_MAX_LEN] = "";
		rte_eth_dev_get_name_by_port(ports[i], name);
		rte_eth_stats_get(ports[i], &st);
		rte_eth_link_get_nowait(ports[i], &link);
		json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "name", name, "link",
				      link.link_status ? "up" : "down", "speed_mbps", (json_int_t)link.link_speed,
				      "rx_packets", (json_int_t)st.ipackets, "tx_packets", (json_int_t)st.opackets,
				      "rx_bytes", (json_int_t)st.ibytes, "tx_bytes", (json_int_t)st.obytes, "rx_missed",
				      (json_int_t)st.imissed, "rx_errors", (json_int_t)st.ierrors, "tx_errors",
				      (json_int_t)st.oerrors);
		json_object_set_new(o, "role", json_string(i == 0 ? "data" : "exception"));
		if (i == 0) {
			json_object_set_new(o, "driver", json_string(app->port_info.driver));
			json_object_set_new(o, "rss", json_boolean(app->port_info.rss));
		}
		char k[32];
		snprintf(k, sizeof(k), "port%u", ports[i]);
		json_object_set_new(root, k, o);
	}
	*out = root;
	return 0;
}

static int cmd_shards(struct spl_ctl_req *r, json_t **out)
{
	struct spl_app *app = app_of(r);
	json_t *root = json_object();
	for (unsigned i = 0; i < app->nshards; i++) {
		const struct spl_shard *s = app->shards[i];
		json_t *o = json_object();
		add_u64(o, "lcore", s->lcore);
		add_u64(o, "handoff_out", s->stats.handoff_out);
		add_u64(o, "handoff_in", s->stats.handoff_in);
		add_u64(o, "ring_full_drops", s->stats.drops[SPL_SHARD_DROP_RING_FULL]);
		uint64_t occ = 0;
		for (unsigned j = 0; j < app->nshards; j++)
			if (s->in[j])
				occ += rte_ring_count(s->in[j]);
		add_u64(o, "ring_occupancy", occ);
		add_u64(o, "exception_queued", rte_ring_count(s->exc_out));
		add_u64(o, "busy_cycles", s->stats.busy_cycles);
		add_u64(o, "idle_cycles", s->stats.idle_cycles);
		char k[32];
		snprintf(k, sizeof(k), "shard%u", i);
		json_object_set_new(root, k, o);
	}
	*out = root;
	return 0;
}

static int cmd_txn_count(struct spl_ctl_req *r, json_t **out)
{
	struct spl_app *app = app_of(r);
	json_t *o = json_object();
	uint64_t total = 0;
	for (unsigned i = 0; i < app->nshards; i++) {
		uint32_t n = spl_txn_live(spl_proxy_txn(app->shards[i]->proxy));
		char k[32];
		snprintf(k, sizeof(k), "shard%u", i);
		add_u64(o, k, n);
		total += n;
	}
	add_u64(o, "total", total);
	*out = o;
	return 0;
}

static int cmd_txn_list(struct spl_ctl_req *r, json_t **out)
{
	struct spl_app *app = app_of(r);
	unsigned page = spl_ctl_page(r);
	if (!page)
		return spl_ctl_error(out, "usage: txn list [--page N]");
	json_t *list = json_array();
	unsigned skip = (page - 1) * PAGE;
	for (unsigned i = 0; i < app->nshards && json_array_size(list) < PAGE; i++) {
		struct spl_shard_req *q = rte_zmalloc(NULL, sizeof(*q), 0);
		if (!q)
			break;
		q->kind = SPL_SHARD_REQ_TXN_LIST;
		q->skip = skip;
		q->max = PAGE - (unsigned)json_array_size(list);
		q->out = list;
		if (spl_shard_call(app, i, q) != 0) {
			/* The shard may still write into q and list: leak both. */
			json_incref(list);
			return spl_ctl_error(out, "shard %u did not answer", i);
		}
		skip = q->rc >= 0 && (unsigned)q->rc < skip ? skip - (unsigned)q->rc : 0;
		rte_free(q);
	}
	*out = json_pack("{s:i,s:o}", "page", (int)page, "transactions", list);
	return 0;
}

int spl_shard_txn_list(struct spl_shard *s, struct spl_shard_req *r)
{
	/* Returns how many live transactions this shard skipped. */
	const struct spl_txn_table *t = spl_proxy_txn(s->proxy);
	json_t *list = r->out;
	uint32_t cursor = 0;
	unsigned skipped = 0;
	struct spl_txn_info info[16];
	int n;
	while (json_array_size(list) < r->max && (n = spl_txn_list(t, &cursor, info, 16)) > 0) {
		for (int i = 0; i < n && json_array_size(list) < r->max; i++) {
			if (skipped < r->skip) {
				skipped++;
				continue;
			}
			char peer[64] = "";
			if (info[i].peer.family)
				inet_ntop(info[i].peer.family, info[i].peer.addr, peer, sizeof(peer));
			json_array_append_new(list, json_pack("{s:i,s:s,s:s,s:s,s:i,s:s,s:i}", "shard", (int)s->id, "kind",
							      spl_txn_kind_name(info[i].kind), "state",
							      spl_txn_state_name(info[i].state), "method",
							      spl_sip_method_name(info[i].method), "status", info[i].status,
							      "peer", peer, "port", info[i].peer.port));
		}
	}
	return (int)skipped;
}

static int location_show(struct spl_app *app, const char *aor_text, json_t **out)
{
	struct spl_sip_uri u;
	char canon[SPL_REGISTRAR_AOR_MAX];
	int n;
	if (spl_sip_uri_parse(aor_text, (uint32_t)strlen(aor_text), &u) != 0 ||
	    (n = spl_registrar_aor_canon(&u, canon, sizeof(canon))) < 0)
		return spl_ctl_error(out, "'%s' is not a sip: or sips: URI", aor_text);
	struct spl_binding b[SPL_LOCATION_MAX_BINDINGS];
	uint64_t now = spl_shard_now_ns(app->shards[0], rte_rdtsc());
	int nb = spl_location_lookup(app->location, (struct spl_str){ canon, (uint32_t)n }, b,
				     SPL_LOCATION_MAX_BINDINGS, now);
	json_t *list = json_array();
	for (int i = 0; i < nb; i++)
		json_array_append_new(list, json_pack("{s:s%,s:i,s:I,s:s%}", "contact", b[i].contact.p,
						      (size_t)b[i].contact.len, "q", b[i].q, "expires_s",
						      b[i].expires_at == UINT64_MAX ? (json_int_t)-1
										    : (json_int_t)((b[i].expires_at - now) / 1000000000),
						      "path", b[i].path.p ? b[i].path.p : "", (size_t)b[i].path.len));
	*out = json_pack("{s:s%,s:o}", "aor", canon, (size_t)n, "bindings", list);
	return 0;
}

static int location_change(struct spl_app *app, struct spl_ctl_req *r, bool add, json_t **out)
{
	if (r->argc < 3 || (add && r->argc < 4) || r->argc > 5)
		return spl_ctl_error(out, add ? "usage: location add AOR CONTACT [EXPIRES]" : "usage: location del AOR [CONTACT]");
	struct spl_sip_uri u;
	char canon[SPL_REGISTRAR_AOR_MAX];
	int n;
	if (spl_sip_uri_parse(r->argv[2], (uint32_t)strlen(r->argv[2]), &u) != 0 ||
	    (n = spl_registrar_aor_canon(&u, canon, sizeof(canon))) < 0)
		return spl_ctl_error(out, "'%s' is not a sip: or sips: URI", r->argv[2]);
	struct spl_shard_req *q = rte_zmalloc(NULL, sizeof(*q), 0);
	if (!q)
		return spl_ctl_error(out, "out of memory");
	q->kind = add ? SPL_SHARD_REQ_LOCATION_ADD : SPL_SHARD_REQ_LOCATION_DEL;
	snprintf(q->aor, sizeof(q->aor), "%s", r->argv[2]);
	if (r->argc >= 4)
		snprintf(q->contact, sizeof(q->contact), "%s", r->argv[3]);
	if (add && r->argc == 5) {
		char *end;
		long e = strtol(r->argv[4], &end, 10);
		if (*end || e < 0 || e > 86400 * 365) {
			rte_free(q);
			return spl_ctl_error(out, "expires '%s' is not a number of seconds (0 = permanent)", r->argv[4]);
		}
		q->expires = (uint32_t)e;
	} else if (add) {
		q->expires = app->cfg->default_expires;
	}
	unsigned owner = spl_registrar_aor_shard((struct spl_str){ canon, (uint32_t)n }, app->nshards);
	int rc = spl_shard_call(app, owner, q);
	if (rc != 0)
		return spl_ctl_error(out, "shard %u did not answer", owner);  /* q leaked on purpose */
	rc = q->rc;
	rte_free(q);
	if (rc == -ENOENT)
		return spl_ctl_error(out, "no such binding");
	if (rc == -EINVAL)
		return spl_ctl_error(out, "'%s' is not a valid contact URI", r->argc >= 4 ? r->argv[3] : "");
	if (rc == -ENOSPC)
		return spl_ctl_error(out, "limit reached (contacts per AOR, AORs, or pool)");
	if (rc != 0)
		return spl_ctl_error(out, "failed: %s", strerror(-rc));
	return location_show(app, r->argv[2], out);
}

static int cmd_location(struct spl_ctl_req *r, json_t **out)
{
	struct spl_app *app = app_of(r);
	if (!app->location || !app->cfg->registrar)
		return spl_ctl_error(out, "the registrar is disabled (registrar.enabled = false)");
	const char *sub = r->argc > 1 ? r->argv[1] : "list";
	if (strcmp(sub, "show") == 0) {
		if (r->argc != 3)
			return spl_ctl_error(out, "usage: location show AOR");
		return location_show(app, r->argv[2], out);
	}
	if (strcmp(sub, "add") == 0)
		return location_change(app, r, true, out);
	if (strcmp(sub, "del") == 0)
		return location_change(app, r, false, out);
	if (strcmp(sub, "list") != 0 && strcmp(sub, "--page") != 0)
		return spl_ctl_error(out, "usage: location list [--page N] | show AOR | add AOR CONTACT [EXPIRES] | del AOR [CONTACT]");
	unsigned page = spl_ctl_page(r);
	if (!page)
		return spl_ctl_error(out, "usage: location list [--page N]");
	struct spl_location_cursor cur = { 0 };
	struct spl_location_aor a[PAGE];
	uint64_t now = spl_shard_now_ns(app->shards[0], rte_rdtsc());
	json_t *list = json_array();
	unsigned skip = (page - 1) * PAGE;
	int n;
	while ((n = spl_location_list(app->location, &cur, a, PAGE, now)) > 0 && json_array_size(list) < PAGE) {
		for (int i = 0; i < n && json_array_size(list) < PAGE; i++) {
			if (skip) {
				skip--;
				continue;
			}
			json_array_append_new(list, json_pack("{s:s%,s:i}", "aor", a[i].aor.p, (size_t)a[i].aor.len,
							      "bindings", (int)a[i].nbindings));
		}
	}
	*out = json_pack("{s:i,s:o}", "page", (int)page, "aors", list);
	return 0;
}

static int cmd_routes(struct spl_ctl_req *r, json_t **out)
{
	const struct spl_config *c = app_of(r)->cfg;
	json_t *list = json_array();
	for (unsigned i = 0; i < c->nroutes; i++) {
		const struct spl_cfg_route *rt = &c->routes[i];
		json_t *hops = json_array();
		for (unsigned h = 0; h < rt->nhops; h++) {
			char t[300];
			snprintf(t, sizeof(t), "%s:%u", rt->hops[h].host[0] ? rt->hops[h].host : rt->hops[h].ip.text,
				 rt->hops[h].port);
			json_array_append_new(hops, json_string(t));
		}
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:o}", "domain", rt->domain[0] ? rt->domain : "*",
						      "prefix", rt->prefix[0] ? rt->prefix : "*", "mode",
						      rt->stateless ? "stateless" : "stateful", "next_hops", hops));
	}
	json_t *doms = json_array();
	for (unsigned i = 0; i < c->ndomains; i++)
		json_array_append_new(doms, json_string(c->domains[i]));
	*out = json_pack("{s:o,s:o,s:b}", "domains", doms, "routes", list, "record_route", c->record_route);
	return 0;
}

static int cmd_config(struct spl_ctl_req *r, json_t **out)
{
	struct spl_app *app = app_of(r);
	const char *sub = r->argc > 1 ? r->argv[1] : "show";
	if (strcmp(sub, "show") == 0) {
		char *buf = malloc(65536);
		if (!buf)
			return spl_ctl_error(out, "out of memory");
		spl_config_format(app->cfg, buf, 65536);
		*out = json_string(buf);
		free(buf);
		return 0;
	}
	if (strcmp(sub, "check") == 0 || strcmp(sub, "reload") == 0) {
		bool reload = strcmp(sub, "reload") == 0;
		const char *path = r->argc > 2 ? r->argv[2] : app->cfg->path;
		struct spl_config *nc = malloc(sizeof(*nc));
		struct spl_profile np;
		char err[512];
		if (!nc)
			return spl_ctl_error(out, "out of memory");
		if (spl_app_check(path, nc, &np, err, sizeof(err)) != 0) {
			free(nc);
			return spl_ctl_error(out, "%s refused, running config kept: %s", reload ? "reload" : "check", err);
		}
		if (!reload) {
			free(nc);
			*out = json_pack("{s:s,s:s}", "config", path, "result", "ok");
			return 0;
		}
		int rc = spl_app_reload(app, nc, err, sizeof(err));
		if (rc != 0) {
			free(nc);
			return spl_ctl_error(out, "reload refused, running config kept: %s", err);
		}
		*out = json_pack("{s:s,s:s,s:I}", "config", path, "result", "reloaded", "generation",
				 (json_int_t)app->config_generation);
		return 0;
	}
	return spl_ctl_error(out, "usage: config show | check FILE | reload");
}

static int cmd_log(struct spl_ctl_req *r, json_t **out)
{
	if (r->argc == 3 && strcmp(r->argv[1], "level") == 0) {
		if (spl_log_set_level(r->argv[2]) != 0)
			return spl_ctl_error(out, "log level must be one of: error, warning, notice, info, debug");
		spl_log(SPL_LOG_NOTICE, "log level set to %s", r->argv[2]);
	} else if (r->argc != 1 && !(r->argc == 2 && strcmp(r->argv[1], "level") == 0)) {
		return spl_ctl_error(out, "usage: log level [LEVEL]");
	}
	*out = json_pack("{s:s}", "level", spl_log_level_name());
	return 0;
}

/* Prometheus text exposition: every counter of "stats", labelled by shard. */
/* "sipline_<section_><key>" in Prometheus' character set. */
static void metric_name(char *name, size_t cap, const char *section, const char *k)
{
	size_t j = (size_t)snprintf(name, cap, "sipline_%s%s", section, *section ? "_" : "");
	for (const char *p = k; *p && j + 1 < cap; p++)
		name[j++] = ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') ? *p
			    : (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : '_';
	name[j] = '\0';
}

static const char *metric_type(const char *k)
{
	static const char *const gauges[] = { "live", "occupancy", "free", "in_use", "capacity", "tsc_hz",
					      "per_sip", "in_flight", "entries", "pending" };
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		if (strstr(k, gauges[i]))
			return "gauge";
	return "counter";
}

static int cmd_metrics(struct spl_ctl_req *r, json_t **out)
{
	json_t *st = spl_appctl_stats(app_of(r));
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		json_decref(st);
		return spl_ctl_error(out, "out of memory");
	}
	char name[160];
	const char *k;
	json_t *v;
	/* Shard counters, one series per shard (totals when not per shard). */
	json_object_foreach(json_object_get(st, "totals"), k, v) {
		if (!json_is_integer(v) || len + 512 > cap)
			continue;
		metric_name(name, sizeof(name), "", k);
		len += (size_t)snprintf(buf + len, cap - len, "# TYPE %s %s\n", name, metric_type(k));
		for (unsigned s = 0; s < app_of(r)->nshards; s++) {
			char sk[32];
			snprintf(sk, sizeof(sk), "shard%u", s);
			json_t *sv = json_object_get(json_object_get(st, sk), k);
			if (sv && len + 256 < cap)
				len += (size_t)snprintf(buf + len, cap - len, "%s{shard=\"%u\"} %" JSON_INTEGER_FORMAT "\n",
							name, s, json_integer_value(sv));
		}
		if (!json_object_get(json_object_get(st, "shard0"), k) && len + 256 < cap)
			len += (size_t)snprintf(buf + len, cap - len, "%s %" JSON_INTEGER_FORMAT "\n", name,
						json_integer_value(v));
	}
	/* The control thread's: TCP/TLS connections and the resolver. */
	static const char *const sections[] = { "streams", "dns" };
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		json_object_foreach(json_object_get(st, sections[i]), k, v) {
			if (!json_is_integer(v) || len + 512 > cap)
				continue;
			metric_name(name, sizeof(name), sections[i], k);
			len += (size_t)snprintf(buf + len, cap - len, "# TYPE %s %s\n%s %" JSON_INTEGER_FORMAT "\n", name,
						metric_type(k), name, json_integer_value(v));
		}
	json_decref(st);
	*out = json_string(buf);
	free(buf);
	return 0;
}

static int cmd_drain(struct spl_ctl_req *r, json_t **out)
{
	struct spl_app *app = app_of(r);
	spl_app_set_draining(app, true);
	*out = json_pack("{s:s,s:I}", "result", "draining: new transactions get 503", "live_transactions",
			 (json_int_t)spl_app_live_transactions(app));
	return 0;
}

static int cmd_shutdown(struct spl_ctl_req *r, json_t **out)
{
	struct spl_app *app = app_of(r);
	atomic_store(&app->draining, true);
	*out = json_pack("{s:s}", "result", "shutting down after draining");
	return 0;
}

static const struct spl_ctl_cmd cmds[] = {
	{ "version", "", "sipline and DPDK versions", cmd_version },
	{ "uptime", "", "seconds since start", cmd_uptime },
	{ "stats", "", "counters: totals and per shard (messages, transactions, drops, pools, busy/idle cycles)", cmd_stats },
	{ "ports", "", "ports: link, rx/tx/missed/errors", cmd_ports },
	{ "shards", "", "hand-off rings: occupancy, hand-offs, drops", cmd_shards },
	{ "txn count", "", "live transactions per shard", cmd_txn_count },
	{ "txn list", "[--page N]", "live transactions, 50 per page", cmd_txn_list },
	{ "location", "list [--page N] | show AOR | add AOR CONTACT [EXPIRES] | del AOR [CONTACT]", "registrar bindings", cmd_location },
	{ "routes", "", "domains served and static routes", cmd_routes },
	{ "config", "show | check FILE | reload", "running config; validate a file; reload the config file", cmd_config },
	{ "log", "level [LEVEL]", "show or set the log level", cmd_log },
	{ "metrics", "", "counters in Prometheus text format", cmd_metrics },
	{ "drain", "", "answer new transactions 503, finish the rest", cmd_drain },
	{ "shutdown", "", "drain, then exit", cmd_shutdown },
};

void spl_appctl_register(struct spl_app *app)
{
	spl_ctl_register(app->ctl, cmds, sizeof(cmds) / sizeof(cmds[0]));
}
