/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 3263 name resolution for the appliance (doc/dns.md): lib/dns's
 * resolver runs on the control thread and publishes its answers into a
 * lock-free table (lib/dns spl_dns_pub) that the shards' resolve hook
 * reads. A shard that finds no answer asks the control thread through a
 * bounded ring and the proxy parks the request; each publication moves
 * app->dns_generation, and a worker that sees it move resumes its parked
 * requests.
 */
#ifndef SPL_APP_DNSRES_H
#define SPL_APP_DNSRES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "spl_sipmsg.h"
#include "spl_txn.h"

struct spl_app;

/* Control thread, from spl_app_start in the host network namespace (the
 * resolver's sockets live there), after the location service (its QSBR
 * reclaims replaced answers) and before the shards' proxies. 0 or -1 with
 * err. */
int spl_dnsres_start(struct spl_app *app, char *err, unsigned errlen);
void spl_dnsres_register_commands(struct spl_app *app);   /* dns cache|flush|lookup */
/* After the workers stopped. Lookups in flight are cancelled. */
void spl_dnsres_stop(struct spl_app *app);

/* Every control-loop turn: take the shards' questions, start lookups,
 * read answers, publish, sweep and reclaim. */
void spl_dnsres_turn(struct spl_app *app);
/* Lookups in flight (the control loop then polls in short turns). */
bool spl_dnsres_busy(const struct spl_app *app);

/* The proxy's resolve hook (ctx: the struct spl_shard). Shard side: no
 * lock, no allocation, no syscall. 0 with *n peers, -ENOENT (the name
 * does not exist), -EAGAIN (asked; park the request). */
int spl_dnsres_resolve(void *ctx, struct spl_str host, uint16_t port, uint8_t transport,
		       struct spl_txn_peer *peers, unsigned max, unsigned *n);

/* The host name whose lookup most recently produced this address and port
 * (TLS: the name to verify the server's certificate against), or NULL.
 * Control thread only; the string is valid until the next control turn. */
const char *spl_dnsres_name_for(struct spl_app *app, const struct spl_txn_peer *peer);

/* The "dns" section of `stats`. */
json_t *spl_dnsres_stats_json(struct spl_app *app);

#endif
