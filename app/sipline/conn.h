/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP over TCP and TLS: the control thread's connections (doc/streams.md).
 *
 * The kernel of the exception namespace (excns.h) terminates TCP; the
 * control thread owns every connection's socket, frames messages with
 * lib/stream (RFC 3261 §18.3), and hands each message to its owning shard
 * through the shard's stream_in ring (the same shard key as UDP), tagged
 * with the transport and the connection id. A shard that sends over a
 * stream puts a reference to the bytes on its stream_out ring; the control
 * thread writes them to the connection named by the peer's conn_id (a
 * response, §18.2.2), else to an open connection to that address (the
 * flow, or a Via `alias`, RFC 5923), else opens one.
 *
 * Bounds: max_connections in total, max_per_ip per source address, a
 * write queue per connection (a peer that reads slower than it is sent to
 * is closed, never buffered without limit), idle, connect, handshake and
 * stalled-message timeouts. Every close is counted by reason.
 */
#ifndef SPL_APP_CONN_H
#define SPL_APP_CONN_H

#include <jansson.h>
#include <stdint.h>

#include "spl_txn.h"

struct spl_app;
struct rte_mbuf;

/* A message a shard sends over a stream: one element of stream_out. The
 * shard took a reference on `m` (NULL: `data` is static). */
struct spl_stream_tx {
	struct rte_mbuf *m;
	const char *data;
	uint32_t len;
	uint32_t shard;
	struct spl_txn_peer peer;
};

/* Open the listeners in the exception namespace. 0, or -1 with err. */
int spl_conn_start(struct spl_app *app, char *err, unsigned errlen);
void spl_conn_stop(struct spl_app *app);
/* One control-thread turn: accept, read, frame, hand to shards; drain
 * the shards' stream_out rings and write; run the timeouts. */
void spl_conn_turn(struct spl_app *app);
/* The "streams" section of `stats`. */
json_t *spl_conn_stats_json(void);
/* conn list / count / close. */
void spl_conn_register_commands(struct spl_app *app);

#endif
