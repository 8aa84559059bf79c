/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's counters, also as DPDK telemetry commands, so that
 * dpdk-telemetry.py and collectors that speak it see sipline like any
 * other DPDK application:
 *   /sipline/stats          totals
 *   /sipline/shard,N        one shard
 * The callbacks run on DPDK's telemetry thread and only read counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "app.h"
#include "appctl.h"

static struct spl_app *tel_app;

static int dict_from(json_t *obj, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	const char *k;
	json_t *v;
	unsigned n = 0;
	json_object_foreach(obj, k, v) {
		if (!json_is_integer(v) || n >= RTE_TEL_MAX_DICT_ENTRIES)
			continue;
		/* Telemetry names are limited; our keys are short enough, and a
		 * longer one is skipped rather than truncated into a collision. */
		if (strlen(k) >= RTE_TEL_MAX_STRING_LEN)
			continue;
		rte_tel_data_add_dict_u64(d, k, (uint64_t)json_integer_value(v));
		n++;
	}
	return 0;
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	json_t *st = spl_appctl_stats(tel_app);
	int rc = dict_from(json_object_get(st, "totals"), d);
	json_decref(st);
	return rc;
}

static int tel_shard(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (!params || !*params)
		return -1;
	char *end;
	long id = strtol(params, &end, 10);
	if (*end || id < 0 || (unsigned long)id >= tel_app->nshards)
		return -1;
	char key[32];
	snprintf(key, sizeof(key), "shard%ld", id);
	json_t *st = spl_appctl_stats(tel_app);
	int rc = dict_from(json_object_get(st, key), d);
	json_decref(st);
	return rc;
}

void spl_telemetry_register(struct spl_app *app)
{
	tel_app = app;
	rte_telemetry_register_cmd("/sipline/stats", tel_stats, "sipline totals: messages, transactions, drops, cycles");
	rte_telemetry_register_cmd("/sipline/shard", tel_shard, "one shard's counters. Parameters: int shard_id");
}
