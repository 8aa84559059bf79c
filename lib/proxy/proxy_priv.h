/* SPDX-License-Identifier: BSD-3-Clause */
/* Private layout and helpers shared by the lib/proxy files. */
#ifndef PROXY_PRIV_H
#define PROXY_PRIV_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "spl_proxy.h"

#define PX_LIKELY(x) __builtin_expect(!!(x), 1)
#define PX_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define PX_NIL UINT32_MAX
#define PX_MAX_ROUTES 32          /* Route values of one request we can rewrite */
#define PX_MAX_PUSH 8             /* Route values pushed for one target (Path) */
#define PX_EXT_ARENA 2048         /* bytes of target text kept per forking context */
#define PX_LOOP_HEX 16            /* hex digits of the loop-detection hash */
#define PX_BRANCH_MAX (SPL_SIPMSG_BRANCH_LEN + 1 + PX_LOOP_HEX)
#define PX_LINE_MAX 2048          /* a composed header line (Route, Path, Via) */
#define PX_TAG_LEN 19             /* "spl" + 16 hex: To tag of our own responses */

/* Default ports by transport (RFC 3261 §19.1.2, §18). */
static inline uint16_t px_default_port(uint8_t transport)
{
	return (transport == SPL_SIP_TRANSPORT_TLS || transport == SPL_SIP_TRANSPORT_WSS) ? 5061 : 5060;
}
static inline bool px_reliable(uint8_t transport)
{
	return transport != SPL_SIP_TRANSPORT_UDP && transport != SPL_SIP_TRANSPORT_OTHER;
}
const char *px_transport_name(uint8_t transport);   /* "UDP", "TCP", ... */
const char *px_transport_lower(uint8_t transport);  /* "udp", "tcp", ... */

/* ------------------------------------------------------------------ */
/* Configuration, parsed at create                                     */

struct px_addr {
	struct spl_sip_host host;      /* text points into hostport */
	uint16_t port;                 /* effective */
	uint8_t transport;
	uint8_t hostport_len;
	char hostport[80];             /* "192.0.2.10:5060" */
};

struct px_domain {
	uint16_t len;
	char name[128];
};

struct px_hop {
	struct spl_sip_uri uri;        /* slices into the proxy's text arena */
};

struct px_route {
	struct spl_str domain;         /* absent: any */
	struct spl_str prefix;         /* absent: any */
	uint8_t nhops;
	bool stateless;
	struct px_hop hops[SPL_PROXY_MAX_HOPS];
};

/* ------------------------------------------------------------------ */
/* Targets                                                             */

enum {
	PX_T_FIXED = 1u << 0,          /* hops[] given by policy (static route, flow) */
	PX_T_STATELESS = 1u << 1,      /* forward statelessly */
	PX_T_RESOLVING = 1u << 2,      /* resolver said -EAGAIN */
	PX_T_UNRESOLVED = 1u << 3,     /* no hop at all */
	PX_T_NXNAME = 1u << 4,         /* ... because the resolver said the name does not exist */
};

/* One target of the target set, ready to forward. Slices point into the
 * request, the locate output or the context's ext arena. */
struct px_target {
	struct spl_str uri;            /* Request-URI for this target */
	struct spl_str push;           /* Route values pushed ahead of the set (Path) */
	uint16_t q;
	int8_t local;                  /* own address to send from, -1: by transport */
	uint8_t flags;                 /* PX_T_* */
	uint8_t nhops;
	uint8_t hop;                   /* next hop to try */
	uint8_t group;
	bool has_puri;                 /* puri is uri, parsed */
	struct spl_txn_peer hops[SPL_PROXY_MAX_HOPS];
	struct spl_sip_uri puri;
};

/* A target kept for later (sequential groups, failover, recursion). */
struct px_stored {
	uint16_t uri_off, uri_len;
	uint16_t push_off, push_len;
	uint16_t q;
	int8_t local;
	uint8_t flags, nhops, hop, group, started;
	struct spl_txn_peer hops[SPL_PROXY_MAX_HOPS];
};

struct px_ext {
	uint32_t next_free;
	uint16_t arena_used;
	uint8_t ntargets;
	uint8_t pad;
	struct px_stored t[SPL_PROXY_MAX_BRANCHES];
	char arena[PX_EXT_ARENA];
};

/* ------------------------------------------------------------------ */
/* Response contexts                                                   */

enum {
	PX_B_LIVE = 1u << 0,           /* client transaction not terminated yet */
	PX_B_PROV = 1u << 1,           /* a provisional (101-199 or 100) arrived */
	PX_B_FINAL = 1u << 2,          /* done: status holds the final (real or synthetic) */
	PX_B_SYNTH = 1u << 3,          /* status synthesised (timeout, transport error) */
	PX_B_CANCEL_SENT = 1u << 4,
	PX_B_CANCEL_WANTED = 1u << 5,  /* cancel once a provisional arrives (§9.1) */
	PX_B_REPLACED = 1u << 6,       /* failed over to another branch */
};

enum px_timer_kind {
	PX_TK_NONE = 0,
	PX_TK_C = 1,                   /* Timer C of a branch */
	PX_TK_CANCEL = 2,              /* waiting for the final after our CANCEL */
	PX_TK_SEQ = 3,                 /* sequential-forking group timeout (context) */
	PX_TK_PARK = 4,                /* park deadline (context) */
};

struct px_branch {
	uint64_t client;               /* client transaction, NONE once terminated */
	struct spl_txn_buf rsp;        /* retained final response (non-2xx), if kept */
	uint32_t timer;
	uint16_t status;
	uint8_t flags;                 /* PX_B_* */
	uint8_t group;
	uint8_t target;                /* ext target index, 0xff: none */
	uint8_t timer_kind;
	uint8_t pad[2];
};

enum {
	PX_C_FINAL_SENT = 1u << 0,     /* a final went out on the server transaction */
	PX_C_CANCELLED = 1u << 1,      /* the UAC cancelled */
	PX_C_6XX = 1u << 2,            /* a 6xx arrived: no new branches */
	PX_C_STARTING = 1u << 3,       /* branches being started: defer the verdict */
	PX_C_OURS = 1u << 4,           /* Request-URI was our resource (recursion allowed) */
	PX_C_SIPS = 1u << 5,           /* Request-URI was SIPS (no recursion to sip:) */
	PX_C_PARKED = 1u << 6,         /* waiting for a name to resolve: no branch yet */
};

struct px_ctx {
	uint64_t server;               /* server transaction, NONE once terminated */
	struct spl_txn_buf req;        /* retained request bytes */
	struct spl_txn_peer src;       /* where the request came from */
	uint32_t next_free;
	uint32_t ext;                  /* ext block index or PX_NIL */
	uint32_t timer;                /* the context's own: park deadline while parked,
					  then the sequential-forking group timeout */
	uint16_t gen;
	uint16_t refs;                 /* live transactions referring to it */
	uint16_t busy;                 /* nesting of proxy code working on it */
	uint8_t method;
	uint8_t flags;                 /* PX_C_* */
	uint8_t nbr;
	uint8_t cur_group;
	uint8_t ngroups;
	int8_t in_local;
	struct px_branch br[];
};

/* ------------------------------------------------------------------ */
/* A request prepared for forwarding (§16.3 hash, §16.4 done)          */

struct px_req {
	struct spl_sipmsg *msg;
	const struct spl_txn_peer *src;/* where it came from (received/rport) */
	struct spl_str ruri;           /* after §16.4 */
	struct spl_sip_uri ruri_uri;
	bool ruri_changed;
	bool indialog;                 /* To tag present */
	bool ours;                     /* Request-URI names a resource of ours */
	int8_t in_local;
	uint16_t nroutes;              /* Route values of the message (all, in order) */
	uint16_t rfirst;               /* first value still in the set */
	uint16_t rend;                 /* one past the last value still in the set */
	struct spl_str routes[PX_MAX_ROUTES];
	uint64_t loop[2];              /* §16.6 step 8 hash: [0] stateful, [1] stateless */
	uint8_t loop_have;             /* bit i: loop[i] computed (lazily) */
	char ruri_buf[512];            /* rebuilt Request-URI (maddr stripped) */
};

/* ------------------------------------------------------------------ */
/* The proxy                                                           */

struct spl_proxy {
	struct spl_txn_table *tbl;
	struct spl_timerwheel *tw;
	struct spl_txn_ops ops;
	struct spl_proxy_transport tp;
	struct spl_proxy_hooks hooks;

	uint8_t shard;
	bool draining;                 /* new out-of-dialog transactions get 503 */
	bool record_route, add_path, recurse_3xx, auth_any_from;
	uint32_t auth_methods;
	uint32_t retry_after_s;
	uint32_t max_msg;
	unsigned max_branches;
	unsigned branch_cap;           /* branches a context has room for (fixed at create) */
	uint64_t t1;
	uint64_t timer_c;
	uint64_t fork_timeout;
	uint64_t loop_seed;

	unsigned naddrs, ndomains, nroutes, nreq_ok;
	struct px_addr addrs[SPL_PROXY_MAX_ADDRS];
	struct px_domain *domains;
	struct px_route *routes;
	struct spl_str *req_ok;        /* Proxy-Require tags we support */
	char *text;                    /* arena for copied configuration text */

	/* requests parked until a name resolves: contexts without branches */
	struct {
		uint32_t *slot;        /* their context indices, oldest first */
		uint32_t *walk;        /* copy of slot walked by spl_proxy_resume() */
		uint32_t n, cap;
		uint64_t timeout;
	} park;
	uint16_t unresolvable_status;

	/* pools */
	uint8_t *ctx_mem;
	uint32_t ctx_stride;
	uint32_t ctx_cap;
	uint32_t ctx_free;
	struct px_ext *ext_mem;
	uint32_t ext_cap;
	uint32_t ext_free;

	/* the message being received (on_request has no owner argument) */
	void *cur_owner;
	int8_t cur_local;

	/* scratch, one message at a time */
	struct px_req req;             /* the request being routed */
	struct px_req creq;            /* a context's request, restored */
	struct spl_sipmsg scratch;     /* re-scan of stored bytes (request) */
	struct spl_sipmsg scratch2;    /* re-scan of stored bytes (best response) */
	struct spl_sipmsg scratch3;    /* re-scan: INVITE sent (CANCEL), other responses */
	struct spl_sipmsg parked_msg;  /* re-scan of a parked request */
	struct px_target *tset;        /* max_branches targets */
	struct spl_proxy_binding *bind;/* max_branches bindings */
	char line[4][PX_LINE_MAX];     /* composed lines */
	char rline[2][256];            /* Record-Route lines */
	char agg[8192];                /* challenges aggregated from other branches */

	/* the response being processed (used as is when it is the best) */
	struct spl_sipmsg *cur_rsp;
	struct px_ctx *cur_rsp_ctx;
	unsigned cur_rsp_bi;

	struct spl_proxy_stats stats;
};

/* ---- proxy_ctx.c: pools ---- */
struct px_ctx *px_ctx_alloc(struct spl_proxy *p);
void px_ctx_put(struct spl_proxy *p, struct px_ctx *c);         /* drop a ref; free at 0 */
static inline void px_ctx_hold(struct px_ctx *c) { c->busy++; }
void px_ctx_unhold(struct spl_proxy *p, struct px_ctx *c);      /* free when idle and unreferenced */
uint32_t px_ctx_index(const struct spl_proxy *p, const struct px_ctx *c);
struct px_ctx *px_ctx_at(struct spl_proxy *p, uint32_t idx);
struct px_ext *px_ext_get(struct spl_proxy *p, struct px_ctx *c, bool create);
void px_ctx_release_req(struct spl_proxy *p, struct px_ctx *c);    /* request + stored responses */
int px_pools_create(struct spl_proxy *p, uint32_t ctx_cap, uint32_t ext_cap);
void px_pools_free(struct spl_proxy *p);

/* ---- proxy.c: glue ---- */
/* §16.5 onward for a request that passed §16.3 and has its server
 * transaction h: answer, forward statelessly, park, or forward through a
 * response context. `parked` is its context when it waited for a name
 * (spl_proxy_resume, held by the caller); NULL for one just received. */
void px_route(struct spl_proxy *p, struct px_req *r, uint64_t h, struct px_ctx *parked,
	      uint64_t now);
/* Count and send a response through a server transaction. */
int px_respond(struct spl_proxy *p, uint64_t server, uint16_t status, struct spl_txn_buf *b,
	       uint64_t now);
/* A response the proxy generates to `req` (To tag added for non-100). Sent
 * through `server`, or statelessly to `dst` when server is NONE. */
int px_local_reply(struct spl_proxy *p, struct spl_sipmsg *req, uint64_t server,
		   const struct spl_txn_peer *dst, enum spl_proxy_local why, uint16_t status,
		   const char *reason, const struct spl_str *extra, unsigned n_extra, uint64_t now);
/* Writable buffer of up to max_msg bytes; false (counted) when none. */
bool px_alloc(struct spl_proxy *p, uint32_t len, struct spl_txn_buf *b);
void px_release(struct spl_proxy *p, struct spl_txn_buf *b);
/* Stateless send of an allocated buffer; releases it. */
int px_send_release(struct spl_proxy *p, const struct spl_txn_peer *dst, struct spl_txn_buf *b);
void px_abandon_server(struct spl_proxy *p, uint64_t server, uint16_t status);
void px_tag(const struct spl_sipmsg *req, uint64_t seed, char out[PX_TAG_LEN]);
static inline void px_drop(struct spl_proxy *p, enum spl_proxy_drop d) { p->stats.drops[d]++; }

/* ---- proxy_addr.c: "this is me", hashing, formatting ---- */
int px_addr_match(const struct spl_proxy *p, const struct spl_sip_host *h, uint16_t port);
bool px_uri_is_me(const struct spl_proxy *p, const struct spl_sip_uri *u, bool domains_too);
bool px_via_is_me(const struct spl_proxy *p, const struct spl_sip_via *v);
bool px_domain_ours(const struct spl_proxy *p, const struct spl_sip_uri *u);
uint16_t px_uri_port(const struct spl_sip_uri *u);
uint8_t px_uri_transport(const struct spl_sip_uri *u);
int px_local_for(const struct spl_proxy *p, uint8_t transport, int8_t want);
/* Hash helpers (keyed, portable: the same on every shard). */
uint64_t px_hash(uint64_t h, const void *p, uint32_t n);
uint64_t px_hash_u64(uint64_t h, uint64_t v);
void px_hex16(char out[16], uint64_t v);
bool px_hex16_parse(const char *s, uint64_t *v);
/* Peer of a numeric URI host, or resolve hook. 0 with *n peers; -ENOENT: the
 * name does not exist; -EAGAIN: not resolved yet; -EHOSTUNREACH: no peer
 * for another reason (no resolve hook, no host, a resolver failure). */
int px_uri_peers(struct spl_proxy *p, const struct spl_sip_uri *u, bool sips,
		 struct spl_txn_peer *peers, unsigned max, unsigned *n);
/* IP text of a peer address ("192.0.2.1", "[2001:db8::1]" with brackets). */
uint32_t px_peer_ip_text(const struct spl_txn_peer *peer, char *out, uint32_t cap, bool brackets);
/* Where a response goes for this Via (§18.2.2, RFC 3581). `src` is the
 * peer the Via came from, when known (top Via of a received request). */
int px_via_peer(struct spl_proxy *p, const struct spl_sip_via *v, const struct spl_txn_peer *src,
		struct spl_txn_peer *out);

/* ---- proxy_validate.c: §16.3 ---- */
/* Returns true when the request was answered (or dropped). */
bool px_validate(struct spl_proxy *p, struct px_req *r, uint64_t server,
		 const struct spl_txn_peer *src, uint64_t now);
uint64_t px_loop_hash(const struct spl_proxy *p, const struct spl_sipmsg *m, bool stateless);
uint64_t px_req_loop(const struct spl_proxy *p, struct px_req *r, bool stateless);
bool px_is_loop(struct spl_proxy *p, struct px_req *r);
bool px_options_to_me(const struct spl_proxy *p, const struct px_req *r);

/* ---- proxy_route.c: §16.4, §16.6 steps 4 and 6 ---- */
/* Prepare r from msg: Route values, §16.4. 0, or a local status (400). */
int px_req_prepare(struct spl_proxy *p, struct px_req *r, struct spl_sipmsg *msg, int8_t in_local);
/* The Route set as forwarded to one target, and the edits that write it. */
struct px_routeset {
	struct spl_str v[PX_MAX_ROUTES + PX_MAX_PUSH + 1];
	uint16_t n;
	uint16_t npush;                /* of which pushed for the target (Path) */
	bool strict;                   /* §16.6 step 6 rewrite applied */
	struct spl_str ruri;           /* Request-URI after step 6 */
	struct spl_sip_uri next;       /* URI the next hop comes from (first Route or R-URI) */
};
int px_routeset_build(const struct px_req *r, const struct px_target *t, struct px_routeset *rs,
		      char *ruri_buf, uint32_t cap);
/* Apply the Route set to edits (remove lines, compose one line in buf). */
int px_routeset_edit(const struct px_req *r, const struct px_routeset *rs,
		     struct spl_sipmsg_edits *e, char *buf, uint32_t cap);
/* Record-Route lines for a request going out on own address `out`. */
unsigned px_rr_lines(struct spl_proxy *p, int in_local, int out_local, bool sips,
		     struct spl_sipmsg_edits *e);
bool px_rr_wanted(const struct spl_proxy *p, const struct px_req *r);
/* Path for a forwarded REGISTER (RFC 3327): edit or compose. */
int px_path_edit(struct spl_proxy *p, const struct spl_sipmsg *m, int out_local,
		 struct spl_sipmsg_edits *e, char *buf, uint32_t cap);

/* ---- proxy_target.c: §16.5, forking ---- */
/* Fill p->tset; returns the number of targets (>= 1) or a negative
 * spl_proxy_local to answer (NOT_FOUND, UNAVAILABLE, URI_SCHEME, ...). */
int px_targets(struct spl_proxy *p, struct px_req *r, uint64_t now);
/* Next hops of a target whose hops are not fixed. */
void px_target_resolve(struct spl_proxy *p, const struct px_req *r, struct px_target *t);
/* Keep targets for later in the context's ext; false when no ext. */
bool px_targets_store(struct spl_proxy *p, struct px_ctx *c, const struct px_target *t, unsigned n);
void px_stored_view(struct px_ext *x, unsigned i, struct px_target *t);
/* Start the branches of the next group; returns branches started. */
unsigned px_start_group(struct spl_proxy *p, struct px_ctx *c, struct px_req *r, uint64_t now);

/* ---- proxy_forward.c: §16.6 ---- */
/* Build and send one branch; 0, or negative (branch recorded as failed). */
int px_branch_start(struct spl_proxy *p, struct px_ctx *c, struct px_req *r,
		    struct px_target *t, uint8_t target_idx, uint64_t now);
/* Build the forwarded request into b (stateful when branch given). */
int px_build_request(struct spl_proxy *p, const struct px_req *r, const struct px_target *t,
		     const struct spl_txn_peer *hop, const char *branch, uint32_t branch_len,
		     struct spl_txn_buf *b);
/* Restore the prepared request of a context (re-scan of its stored bytes). */
struct px_req *px_ctx_request(struct spl_proxy *p, struct px_ctx *c);

/* ---- proxy_response.c: §16.7 ---- */
void px_on_response(struct spl_proxy *p, uint64_t h, struct spl_sipmsg *msg,
		    const struct spl_txn_peer *src, uint64_t now);
/* A branch ended (final or synthetic); may fail over, start the next
 * group, or pick and send the best response. */
void px_branch_done(struct spl_proxy *p, struct px_ctx *c, unsigned bi, uint16_t status,
		    bool synthetic, uint64_t now);
void px_evaluate(struct spl_proxy *p, struct px_ctx *c, uint64_t now);
void px_forward_response(struct spl_proxy *p, struct px_ctx *c, struct spl_sipmsg *msg,
			 uint64_t now);

/* ---- proxy_cancel.c: §16.10, §16.8, §9.1 ---- */
void px_cancel_in(struct spl_proxy *p, uint64_t h, struct spl_sipmsg *msg,
		  const struct spl_txn_peer *src, uint64_t now);
void px_cancel_branch(struct spl_proxy *p, struct px_ctx *c, unsigned bi, uint64_t now);
void px_cancel_pending(struct spl_proxy *p, struct px_ctx *c, uint64_t now);
void px_timer_fire(struct spl_proxy *p, uint64_t data, uint64_t now);
void px_branch_timer(struct spl_proxy *p, struct px_ctx *c, unsigned bi, enum px_timer_kind k,
		     uint64_t delay, uint64_t now);
void px_branch_timer_stop(struct spl_proxy *p, struct px_branch *b);
void px_seq_timer(struct spl_proxy *p, struct px_ctx *c, uint64_t now);
/* The context's own timer (kind SEQ or PARK); false when the wheel is full. */
bool px_ctx_timer(struct spl_proxy *p, struct px_ctx *c, enum px_timer_kind k, uint64_t delay,
		  uint64_t now);
void px_ctx_timer_stop(struct spl_proxy *p, struct px_ctx *c);

/* ---- proxy_park.c: requests waiting for a name to resolve ---- */
int px_park_create(struct spl_proxy *p, uint32_t cap);
void px_park_free(struct spl_proxy *p);
/* Room for one more (counts park_full when there is none)? */
bool px_park_room(struct spl_proxy *p);
/* Park a context just opened (server transaction, request kept); false
 * when it cannot wait (no server transaction, no request, wheel full). */
bool px_park(struct spl_proxy *p, struct px_ctx *c, uint64_t now);
/* Off the park list and its deadline stopped (no-op when not parked). */
void px_unpark(struct spl_proxy *p, struct px_ctx *c);
/* The deadline fired (timer stopped already): 503 with Retry-After. */
void px_park_expire(struct spl_proxy *p, struct px_ctx *c, uint64_t now);
/* Final response of ours to a context's request (NULL: none can be built),
 * and the request bytes go. */
void px_ctx_answer(struct spl_proxy *p, struct px_ctx *c, struct spl_sipmsg *req,
		   enum spl_proxy_local why, uint16_t status, uint64_t now);

/* ---- proxy_stateless.c: §16.11 ---- */
void px_stateless_request(struct spl_proxy *p, struct px_req *r, struct px_target *t,
			  const struct spl_txn_peer *src, uint64_t now);
void px_stateless_response(struct spl_proxy *p, struct spl_sipmsg *msg, uint64_t now);
void px_ack(struct spl_proxy *p, struct spl_sipmsg *msg, const struct spl_txn_peer *src,
	    uint64_t now);

/* ---- small writer ---- */
struct px_wr {
	char *p;
	uint32_t cap;
	uint32_t len;
	bool fail;
};
static inline void px_put(struct px_wr *w, const char *s, uint32_t n)
{
	if (PX_UNLIKELY(w->fail || n > w->cap - w->len)) {
		w->fail = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}
static inline void px_puts(struct px_wr *w, const char *s) { px_put(w, s, (uint32_t)strlen(s)); }
static inline void px_put_str(struct px_wr *w, struct spl_str s) { px_put(w, s.p, s.len); }
void px_put_uint(struct px_wr *w, uint32_t v);

#endif /* PROXY_PRIV_H */
