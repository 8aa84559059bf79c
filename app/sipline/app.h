/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance's shared types: the application (one per process, owned by
 * the control thread) and the shards (one per worker lcore, each touched
 * only by its own worker except through rings and read-only counters).
 */
#ifndef SPL_APP_H
#define SPL_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "config.h"
#include "port.h"
#include "profile.h"

struct spl_ctl;
struct spl_net;
struct spl_proxy;
struct spl_timerwheel;
struct spl_registrar;
struct spl_location;
struct spl_auth;
struct spl_journal;
struct spl_qsbr;
struct spl_dnsres;
struct spl_app;

#define SPL_MAX_SHARDS 16
#define SPL_BURST 32

/* Why a shard dropped a packet or message (beyond lib/net's own reasons). */
#define SPL_SHARD_DROPS(X) \
	X(RING_FULL, "hand-off ring to another shard was full") \
	X(EXC_RING_FULL, "exception ring to the control thread was full") \
	X(NO_KEY, "SIP datagram without a usable shard key") \
	X(SIP_DROP, "malformed SIP answered by nothing (sipmsg drop verdict)") \
	X(NO_MBUF, "mbuf pool empty") \
	X(CONFIG_RING_FULL, "config ring full") \
	X(NEIGH_RING_FULL, "neighbor-event ring to another shard was full") \
	X(STREAM_RING_FULL, "TCP/TLS send ring to the control thread was full")

enum spl_shard_drop {
#define X(n, h) SPL_SHARD_DROP_##n,
	SPL_SHARD_DROPS(X)
#undef X
	SPL_SHARD_DROP__COUNT
};

/* Per-shard counters: plain increments by the owner, summed by readers. */
struct spl_shard_stats {
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t loops;
	uint64_t idle_loops;
	uint64_t rx_pkts;
	uint64_t sip_in;
	uint64_t handoff_out;     /* messages given to another shard */
	uint64_t handoff_in;      /* messages received from another shard */
	uint64_t rejects;         /* answered statelessly with the sipmsg verdict */
	uint64_t drops[SPL_SHARD_DROP__COUNT];
	uint64_t sip_drop_by_err[64];
	uint64_t config_generation;
	uint64_t journal_waits_timed_out;   /* sync durability: disk too slow */
} __attribute__((aligned(64)));

/* A message handed between shards: the mbuf plus what the receiver needs. */
struct spl_handoff {
	struct rte_mbuf *m;
	uint32_t off;             /* SIP payload offset in the mbuf data */
	uint32_t len;
	uint8_t family;
	uint8_t src[16];
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t transport;        /* enum spl_sip_transport; 0: UDP */
	uint8_t send_failed;      /* stream_in: a request of this shard's that could not be sent */
	uint32_t conn_id;         /* TCP/TLS: the connection it came on */
};

/* A control-socket request that must run on a shard (it touches state
 * only the shard may touch). The control thread enqueues it on the
 * shard's req_in ring and waits for `done`; the shard fills the result. */
enum spl_shard_req_kind {
	SPL_SHARD_REQ_LOCATION_ADD = 0,
	SPL_SHARD_REQ_LOCATION_DEL,
	SPL_SHARD_REQ_TXN_LIST,
	SPL_SHARD_REQ_CONFIG,        /* out: a struct spl_proxy_conf to apply */
};
struct spl_shard_req {
	int kind;
	char aor[256];
	char contact[512];
	uint32_t expires;
	unsigned skip, max;          /* TXN_LIST: entries to skip, to return */
	void *out;                   /* TXN_LIST: a json_t array the shard fills */
	int rc;
	atomic_int done;             /* 1: finished; set last, with release order */
};

struct spl_shard {
	unsigned id;
	unsigned lcore;
	struct spl_app *app;
	struct spl_net *net;
	struct spl_timerwheel *wheel;
	struct spl_proxy *proxy;
	struct spl_registrar *registrar;
	struct spl_auth *auth;
	struct rte_mempool *pool;
	struct rte_mempool *pool_large;   /* messages above a standard mbuf */
	struct rte_mempool *pool_indirect;
	uint16_t rx_queue, tx_queue;
	/* in[j]: SPSC ring written by shard j, read by this shard. */
	struct rte_ring *in[SPL_MAX_SHARDS];
	struct rte_ring *exc_out;     /* exception packets to the control thread */
	struct rte_ring *exc_in;      /* shard 0: kernel frames to send out on the NIC */
	struct rte_ring *req_in;      /* spl_shard_req from the control thread */
	struct rte_ring *neigh_in;    /* ARP/ND answers other shards received (MP/SC) */
	struct rte_ring *stream_in;   /* TCP/TLS messages from the control thread (conn.c) */
	struct rte_ring *stream_out;  /* struct spl_stream_tx to send over TCP/TLS */
	uint64_t tsc_hz;
	uint64_t ns_per_tsc;          /* 10^9 / tsc_hz, 32.32 fixed point */
	uint64_t ns_base_wall;        /* wall-clock ns at tsc_base */
	uint64_t tsc_base;
	atomic_bool draining;         /* set by the control thread */
	bool proxy_draining;          /* what this shard's proxy was told */
	struct spl_shard_stats stats;
};

struct spl_proxy_strings;

struct spl_app {
	struct spl_config *cfg;       /* current config (control thread's view) */
	struct spl_proxy_strings *pstr;   /* strings of the current proxy configuration */
	uint64_t config_generation;
	struct spl_profile profile;
	unsigned nshards;
	struct spl_shard *shards[SPL_MAX_SHARDS];
	uint16_t port_id;
	int exc_port;                 /* kernel exception TAP port, -1 when none */
	bool want_exception;          /* the profile has a device: give it an exception path */
	struct spl_ctl *ctl;
	struct spl_location *location;
	struct spl_qsbr *qsbr;
	struct spl_journal *journals[SPL_MAX_SHARDS];
	int ctl_reader;               /* the control thread's QSBR reader id */
	struct rte_mempool *exc_pool;
	struct spl_port_info port_info;
	bool running;
	uint64_t last_sync;
	uint64_t start_tsc, tsc_hz;
	uint64_t start_wall_ns;
	atomic_bool stop;
	atomic_bool draining;
	int log_level;
	/* RFC 3263 DNS (dnsres.c): the resolver and the published answers;
	 * the generation moves on each publication, and a worker that sees
	 * it move retries its parked requests. */
	struct spl_dnsres *dnsres;
	atomic_uint_fast64_t dns_generation;
};

const char *spl_shard_drop_name(enum spl_shard_drop d);

#endif
