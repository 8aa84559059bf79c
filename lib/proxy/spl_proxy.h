/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/proxy: the RFC 3261 §16 proxy core for one shard.
 *
 * The proxy is the shard's transaction user: spl_proxy_create() makes and
 * owns the shard's spl_txn_table (over the shard's shared wheel) and
 * implements its callbacks. The data path hands it every validated message
 * (spl_proxy_recv) and every wheel timer (spl_proxy_timer_fire); the proxy
 * validates (§16.3), preprocesses routes (§16.4), determines targets
 * (§16.5, through the locate hook and static routes), forwards per target
 * through client transactions (§16.6), gathers responses in a response
 * context and picks the best (§16.7), runs Timer C (§16.8), handles
 * transport errors (§16.9) and CANCEL (§16.10), and forwards statelessly
 * where a route says so, for ACKs, for unmatched CANCELs and for responses
 * without a transaction (§16.11). A request whose next hop is a name the
 * resolver does not know yet waits (parked: bounded, with a deadline) until
 * spl_proxy_resume() says new answers are in.
 *
 * Nothing allocates after spl_proxy_create(): response contexts come from
 * fixed pools; a pool that runs dry answers 503 with Retry-After
 * statelessly and counts it. No locks: one proxy per shard, touched only by
 * its core. Time is an argument (ns, the wheel's origin). No DPDK here:
 * bytes go out through the transport hooks of the configuration.
 *
 * Decisions where the RFC leaves a choice: doc/proxy.md.
 */
#ifndef SPL_PROXY_H
#define SPL_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "spl_sipmsg.h"
#include "spl_timerwheel.h"
#include "spl_txn.h"

#ifdef __cplusplus
extern "C" {
#endif

struct spl_proxy;

/* Timer data of the proxy's own timers (Timer C, the sequential-forking
 * timer) carries this tag in its top 8 bits (see spl_txn.h). */
#define SPL_PROXY_TIMER_TAG 0x50u   /* 'P' */

#define SPL_PROXY_MAX_ADDRS   8     /* own addresses */
#define SPL_PROXY_MAX_HOPS    4     /* next hops of one target (failover) */
#define SPL_PROXY_MAX_BRANCHES 32   /* upper bound of conf.max_branches */

/* ------------------------------------------------------------------ */
/* Hooks                                                               */

/* Transport: the same contract as the spl_txn_ops of the same names
 * (send never takes the buffer's reference; release drops one; retain
 * takes one on a received buffer; alloc gives a writable buffer with one
 * reference). All four are required. */
struct spl_proxy_transport {
	int (*send)(void *ctx, const struct spl_txn_peer *dst, const struct spl_txn_buf *buf);
	void (*release)(void *ctx, void *owner);
	void (*retain)(void *ctx, void *owner);
	int (*alloc)(void *ctx, uint32_t len, struct spl_txn_buf *out);
	void *ctx;
};

/* One binding of an address-of-record, as the location service knows it.
 * The slices need only stay valid until the hook is called again. */
struct spl_proxy_binding {
	struct spl_str contact;      /* the Contact URI (becomes the Request-URI) */
	struct spl_str path;         /* RFC 3327 Path values ("<sip:a;lr>, <sip:b;lr>"), or absent */
	uint16_t q;                  /* 0..1000 */
	bool has_flow;               /* send to `flow` whatever the URI says (NAT, outbound) */
	int8_t local;                /* own address to send from (index), -1: by transport */
	struct spl_txn_peer flow;
};

/* locate(): bindings found (>= 0; 0: the AOR exists but has no binding now,
 * answered 480), or SPL_PROXY_LOCATE_UNKNOWN (no such user: 404). */
#define SPL_PROXY_LOCATE_UNKNOWN (-2)

/* A response written by a hook into a buffer the proxy owns. */
struct spl_proxy_reply {
	char *buf;
	uint32_t cap;
	uint32_t len;                /* bytes written */
	uint16_t status;             /* status of the response written */
};

enum spl_proxy_auth {
	SPL_PROXY_AUTH_OK = 0,       /* forward */
	SPL_PROXY_AUTH_CHALLENGE,    /* 407 with the header lines written to the reply */
	SPL_PROXY_AUTH_FORBIDDEN,    /* 403 */
};

struct spl_proxy_hooks {
	/* Location service for a Request-URI in one of our domains (§16.5).
	 * Bindings in any order; the proxy orders them by q. */
	int (*locate)(void *ctx, const struct spl_sip_uri *aor, struct spl_proxy_binding *out,
		      unsigned max, uint64_t now);
	/* A REGISTER for one of our domains: the registrar writes its whole
	 * response (any status) into out and returns 0; 1: not the
	 * registrar's (proxy it on); negative: 500. The proxy sends the
	 * response through the server transaction. NULL: REGISTERs are
	 * proxied like any other request. */
	int (*register_req)(void *ctx, struct spl_sipmsg *msg, const struct spl_txn_peer *src,
			    uint64_t now, struct spl_proxy_reply *out);
	/* Proxy-Authorization check (§16.3 step 6, §22.3) for requests the
	 * policy covers. CHALLENGE: write the header line(s)
	 * ("Proxy-Authenticate: Digest ...", several separated by CRLF, no
	 * trailing CRLF) into challenge->buf and set challenge->len. */
	int (*authorize)(void *ctx, struct spl_sipmsg *msg, uint64_t now,
			 struct spl_proxy_reply *challenge);
	/* Next hops for a host name (RFC 3263). 0 with *n >= 1 peers;
	 * -ENOENT: no such name (when that holds for every target, answered
	 * conf.unresolvable_status; else that branch fails as a 503 would);
	 * -EAGAIN: not known yet (an asynchronous resolver was asked): when no
	 * target has a next hop, the request waits in a park slot for
	 * spl_proxy_resume(), or is answered 503 with Retry-After when none is
	 * free. Any other error: the branch fails as a 503 would. NULL: names
	 * fail. */
	int (*resolve)(void *ctx, struct spl_str host, uint16_t port, uint8_t transport,
		       struct spl_txn_peer *peers, unsigned max, unsigned *n);
	/* Wheel timers that belong neither to the transactions nor to the
	 * proxy (e.g. the registrar's expiry timers). */
	void (*timer_other)(void *ctx, uint64_t data, uint64_t now);
	void *ctx;                   /* locate, register_req, authorize, timer_other */
	void *resolve_ctx;
};

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

/* An address of this proxy: recognises "this is me" in Route and
 * Request-URI, and builds Via and Record-Route. */
struct spl_proxy_addr {
	const char *host;            /* "192.0.2.10", "[2001:db8::1]" or a name */
	uint16_t port;               /* 0: 5060 (5061 for TLS) */
	uint8_t transport;           /* enum spl_sip_transport; 0: UDP */
};

/* A static route: requests whose Request-URI matches go to the next hops
 * (tried in order on 503, timeout or transport error), the Request-URI
 * unchanged. tel: URIs match routes with a user prefix and no domain. */
struct spl_proxy_route {
	const char *domain;          /* Request-URI host, any case; NULL: any */
	const char *user_prefix;     /* Request-URI user (tel: number) prefix; NULL: any */
	const char *const *hops;     /* next hops as SIP URIs: "sip:10.0.0.5:5060;transport=tcp" */
	unsigned nhops;              /* 1..SPL_PROXY_MAX_HOPS */
	bool stateless;              /* forward statelessly (§16.11) to hops[0] */
};

struct spl_proxy_conf {
	uint8_t shard;
	struct spl_timerwheel *wheel;    /* the shard's wheel, shared with others */
	uint32_t txn_capacity;           /* transactions (slots) */
	uint32_t ctx_capacity;           /* response contexts; 0: txn_capacity / 2 */
	uint32_t ext_capacity;           /* contexts with stored targets (forking,
					    failover); 0: ctx_capacity / 8 + 1 */
	uint64_t t1_ns, t2_ns, t4_ns;    /* 0: 500 ms, 4 s, 5 s */
	uint64_t timer_c_ns;             /* 0: 180 s; less than 180 s is refused */
	uint64_t fork_timeout_ns;        /* sequential forking: per-group timeout; 0: 30 s */
	uint64_t hash_seed;              /* transaction table seed; 0: random */
	uint64_t loop_seed;              /* loop-detection hash key; the same on
					    every shard of the host; 0: a constant */

	const struct spl_proxy_addr *addrs;   /* 1..SPL_PROXY_MAX_ADDRS */
	unsigned naddrs;
	const char *const *domains;           /* domains served (any case) */
	unsigned ndomains;
	const struct spl_proxy_route *routes;
	unsigned nroutes;
	const char *const *proxy_require_ok;  /* option tags supported in Proxy-Require */
	unsigned nproxy_require_ok;

	bool record_route;               /* Record-Route dialog-creating requests */
	bool add_path;                   /* add Path to REGISTERs forwarded (RFC 3327) */
	bool recurse_3xx;                /* recurse on 3xx Contacts (our domains only) */
	unsigned max_branches;           /* per response context; 0: 8 */
	uint32_t auth_methods;           /* bit (1u << spl_sip_method) per method that needs
					    authorization; 0: none */
	bool auth_any_from;              /* false: only requests From one of our domains */
	uint32_t retry_after_s;          /* in 503 on overload; 0: 5 */
	uint32_t max_msg;                /* largest message built; 0: 8192 */
	uint32_t park_capacity;          /* requests that may wait for a name to resolve
					    (resolve hook said -EAGAIN); 0: none, 503 at once */
	uint64_t park_timeout_ns;        /* how long one may wait; 0: 2 s */
	uint16_t unresolvable_status;    /* final status when every target's host name does not
					    exist (resolve -ENOENT): 404 or 604; 0: 404 */

	struct spl_proxy_transport tp;
	struct spl_proxy_hooks hooks;
};

/* Returns NULL with errno set (EINVAL for a bad configuration, ENOMEM). */
struct spl_proxy *spl_proxy_create(const struct spl_proxy_conf *conf);
/* Frees the proxy and its transaction table; releases every buffer it
 * holds and stops its timers (free it before the wheel). */
void spl_proxy_free(struct spl_proxy *p);

struct spl_txn_table *spl_proxy_txn(struct spl_proxy *p);

/*
 * Apply a new configuration between two messages (config reload): own
 * addresses, domains, static routes, record_route, add_path, recurse_3xx,
 * max_branches, auth policy, Timer C, fork timeout, park timeout (for
 * requests parked from now on), unresolvable_status, hooks and transport.
 * Contexts in flight keep the targets they were given. Not changed here:
 * shard, capacities (park_capacity included), T1/T2/T4, seeds (they need a
 * new proxy). 0, or -EINVAL / -ENOMEM with the running configuration
 * unchanged.
 */
int spl_proxy_reconfigure(struct spl_proxy *p, const struct spl_proxy_conf *conf);

/* Draining: out-of-dialog requests that would start a transaction are
 * answered 503 (Retry-After); in-dialog requests, ACKs, CANCELs and
 * responses are still served so that what is in progress can finish. */
void spl_proxy_set_draining(struct spl_proxy *p, bool on);

/* ------------------------------------------------------------------ */
/* Data path                                                           */

/*
 * A message from the network that passed spl_sipmsg_validate() (verdict
 * OK). `rx_owner` owns msg->buf (the proxy retains it when it keeps the
 * bytes: without an owner a request forwarded statefully cannot get a
 * response of ours later, e.g. a 408); `src` is where it came from. spl_proxy_recv_on() also names the
 * own address (index into conf.addrs) it arrived on; spl_proxy_recv()
 * takes the first address with src's transport.
 */
void spl_proxy_recv(struct spl_proxy *p, struct spl_sipmsg *msg, void *rx_owner,
		    const struct spl_txn_peer *src, uint64_t now);
void spl_proxy_recv_on(struct spl_proxy *p, struct spl_sipmsg *msg, void *rx_owner,
		       const struct spl_txn_peer *src, int local, uint64_t now);

/* New resolver answers are visible to the resolve hook: retry every parked
 * request. One that resolves now is forwarded as if it had just arrived; one
 * still -EAGAIN keeps waiting until its own deadline. Returns how many were
 * forwarded or answered. */
unsigned spl_proxy_resume(struct spl_proxy *p, uint64_t now);   /* between messages */
unsigned spl_proxy_parked(const struct spl_proxy *p);   /* gauge */

/* Answer a REJECT verdict statelessly with its status and reason (a DROP
 * or OK verdict, a response, or an ACK, which is never answered, is only
 * counted). */
void spl_proxy_reject(struct spl_proxy *p, struct spl_sipmsg *msg,
		      const struct spl_sipmsg_verdict *v, const struct spl_txn_peer *src,
		      uint64_t now);

/* One wheel timer: the transaction layer's, the proxy's, or timer_other. */
void spl_proxy_timer_fire(struct spl_proxy *p, uint64_t data, uint64_t now);
/* Advance the wheel to now, dispatching through spl_proxy_timer_fire (for
 * a shard whose wheel serves only the proxy and its hooks). */
uint32_t spl_proxy_advance(struct spl_proxy *p, uint64_t now);
/* The wheel callback behind spl_proxy_advance (ctx: the proxy). */
void spl_proxy_wheel_cb(void *ctx, uint32_t handle, uint64_t data);

/* ------------------------------------------------------------------ */
/* Counters                                                            */

enum spl_proxy_local {
#define SPL_PROXY_LOCAL(id, status, reason) SPL_PROXY_LOCAL_##id,
#include "spl_proxy_counters.def"
#undef SPL_PROXY_LOCAL
	SPL_PROXY_LOCAL__COUNT
};
enum spl_proxy_drop {
#define SPL_PROXY_DROP(id, text) SPL_PROXY_DROP_##id,
#include "spl_proxy_counters.def"
#undef SPL_PROXY_DROP
	SPL_PROXY_DROP__COUNT
};
const char *spl_proxy_local_name(enum spl_proxy_local r);
uint16_t spl_proxy_local_status(enum spl_proxy_local r);
const char *spl_proxy_drop_name(enum spl_proxy_drop d);

/* Per shard, plain increments by the owner, summed by the reader. */
struct spl_proxy_stats {
	uint64_t req_in[SPL_SIP_METHOD__COUNT];
	uint64_t req_out[SPL_SIP_METHOD__COUNT];    /* incl. CANCELs we generate */
	uint64_t rsp_in[7];                         /* by class, [1]..[6] */
	uint64_t rsp_out[7];                        /* forwarded and local */
	uint64_t local[SPL_PROXY_LOCAL__COUNT];     /* responses the proxy generated, by cause */
	uint64_t rejects[7];                        /* ... of which finals >= 300, by class */
	uint64_t drops[SPL_PROXY_DROP__COUNT];
	uint64_t forwards;                          /* requests forwarded statefully */
	uint64_t branches;                          /* client transactions started */
	uint64_t failovers;                         /* branches to the next hop of a target */
	uint64_t best[7];                           /* best final response by class */
	uint64_t best_408_none;                     /* no final from any branch */
	uint64_t best_500_for_503;
	uint64_t best_487_cancelled;
	uint64_t auth_aggregated;                   /* challenges added from other branches */
	uint64_t overload_503;                      /* pool exhausted */
	uint64_t loops;
	uint64_t spirals;
	uint64_t stateless_requests;                /* forwarded statelessly (incl. ACK) */
	uint64_t stateless_responses;               /* forwarded by Via, no transaction */
	uint64_t cancels_in;
	uint64_t cancels_out;
	uint64_t timer_c;                           /* Timer C fired */
	uint64_t seq_timeouts;                      /* sequential-forking group timed out */
	uint64_t recursed;                          /* targets added from 3xx */
	uint64_t ext_exhausted;                     /* forking/failover state not kept */
	uint64_t targets_truncated;                 /* targets over max_branches */
	uint64_t registers;                         /* REGISTERs answered by the registrar */
	uint64_t parked;                            /* requests parked (resolve said -EAGAIN) */
	uint64_t park_resumed;                      /* ... forwarded after waiting */
	uint64_t park_timeouts;                     /* ... answered 503 at their deadline */
	uint64_t park_full;                         /* 503 at once: every park slot taken */
	uint64_t unresolvable;                      /* answered unresolvable_status */
	uint64_t ctx_live;                          /* gauge */
} __attribute__((aligned(64)));

const struct spl_proxy_stats *spl_proxy_stats(const struct spl_proxy *p);

#ifdef __cplusplus
}
#endif
#endif /* SPL_PROXY_H */
