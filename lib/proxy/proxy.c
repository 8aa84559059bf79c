/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The proxy as the shard's transaction user: create (configuration parsed
 * once, pools and the transaction table allocated and touched), receive
 * (requests and responses through the transaction layer), routing a new
 * request once its server transaction exists (px_route, also the way on
 * for a request that waited for a name: proxy_park.c), the transaction
 * callbacks and the timer dispatcher. Responses of our own: proxy_reply.c.
 */
#include <stdlib.h>

#include "proxy_priv.h"

/* ---- counter names ---- */

static const struct {
	const char *name;
	uint16_t status;
} local_tab[] = {
#define SPL_PROXY_LOCAL(id, status, reason) { reason, status },
#include "spl_proxy_counters.def"
#undef SPL_PROXY_LOCAL
};
static const char *const drop_tab[] = {
#define SPL_PROXY_DROP(id, text) text,
#include "spl_proxy_counters.def"
#undef SPL_PROXY_DROP
};

const char *spl_proxy_local_name(enum spl_proxy_local r)
{
	return (unsigned)r < SPL_PROXY_LOCAL__COUNT ? local_tab[r].name : "?";
}
uint16_t spl_proxy_local_status(enum spl_proxy_local r)
{
	return (unsigned)r < SPL_PROXY_LOCAL__COUNT ? local_tab[r].status : 500;
}
const char *spl_proxy_drop_name(enum spl_proxy_drop d)
{
	return (unsigned)d < SPL_PROXY_DROP__COUNT ? drop_tab[d] : "?";
}

const struct spl_proxy_stats *spl_proxy_stats(const struct spl_proxy *p) { return &p->stats; }
struct spl_txn_table *spl_proxy_txn(struct spl_proxy *p) { return p->tbl; }

/* ---- requests ---- */

static void overload(struct spl_proxy *p, struct spl_sipmsg *msg, const struct spl_txn_peer *dst,
		     uint64_t now)
{
	p->stats.overload_503++;
	px_local_reply(p, msg, SPL_TXN_NONE, dst, SPL_PROXY_LOCAL_OVERLOAD, 503, NULL, NULL, 0, now);
}

static bool want_ext(const struct spl_proxy *p, const struct px_req *r, unsigned n)
{
	if (p->tset[n - 1].group > 0 || (p->recurse_3xx && r->ours &&
					 r->msg->method_id == SPL_SIP_METHOD_INVITE))
		return true;
	for (unsigned i = 0; i < n; i++)
		if (p->tset[i].nhops > 1)
			return true;
	return false;
}

/* No response of ours: the request goes on. */
#define PX_LOCAL_NONE SPL_PROXY_LOCAL__COUNT

static uint16_t local_status(const struct spl_proxy *p, enum spl_proxy_local why)
{
	return why == SPL_PROXY_LOCAL_UNRESOLVABLE ? p->unresolvable_status
						    : spl_proxy_local_status(why);
}

/*
 * A target set none of whose targets has a next hop. While a name is
 * still being resolved the request may wait for it (RESOLVING: parked, or
 * 503 with Retry-After). When every name does not exist, no retry can help:
 * the configured 404/604 (UNRESOLVABLE). Otherwise, as when any target has
 * a hop, it is forwarded and a branch without a hop fails as a 503 would.
 */
static enum spl_proxy_local no_hop_verdict(const struct spl_proxy *p, unsigned n)
{
	bool resolving = false, nxname = true;
	for (unsigned i = 0; i < n; i++) {
		const struct px_target *t = &p->tset[i];
		if (t->nhops > 0)
			return PX_LOCAL_NONE;
		resolving = resolving || (t->flags & PX_T_RESOLVING);
		nxname = nxname && (t->flags & PX_T_NXNAME);
	}
	if (resolving)
		return SPL_PROXY_LOCAL_RESOLVING;
	return nxname ? SPL_PROXY_LOCAL_UNRESOLVABLE : PX_LOCAL_NONE;
}

/*
 * The response context of a request about to be forwarded or parked: the
 * server transaction, the request bytes (by reference) and where they came
 * from. An INVITE gets its 100 Trying now, so that retransmissions are
 * answered with it while the request is forwarded or waits. Returned held;
 * NULL when the pool is dry (answered 503 statelessly: no state is kept
 * for a refused request).
 */
static struct px_ctx *ctx_open(struct spl_proxy *p, struct px_req *r, uint64_t h, uint64_t now)
{
	struct spl_sipmsg *msg = r->msg;
	struct px_ctx *c = px_ctx_alloc(p);
	if (c == NULL) {
		struct spl_txn_peer dst = *spl_txn_peer_get(p->tbl, h);
		spl_txn_terminate(p->tbl, h);
		overload(p, msg, &dst, now);
		return NULL;
	}
	c->server = h;
	c->refs = 1;
	c->method = msg->method_id;
	c->in_local = r->in_local;
	c->src = *r->src;
	if (r->ours)
		c->flags |= PX_C_OURS;
	if (r->ruri_uri.scheme_id == SPL_SIP_SCHEME_SIPS)
		c->flags |= PX_C_SIPS;
	if (p->cur_owner != NULL) {
		p->tp.retain(p->tp.ctx, p->cur_owner);
		c->req = (struct spl_txn_buf){ msg->buf, msg->buf_len, p->cur_owner };
	}
	spl_txn_user_set(p->tbl, h, c, 0);
	px_ctx_hold(c);
	if (msg->method_id == SPL_SIP_METHOD_INVITE)
		px_local_reply(p, msg, h, NULL, SPL_PROXY_LOCAL_TRYING, 100, NULL, NULL, 0, now);
	return c;
}

/* §16.6 to every target of the first group, from a context without branches. */
static void forward(struct spl_proxy *p, struct px_ctx *c, struct px_req *r, unsigned n,
		    uint64_t now)
{
	c->ngroups = (uint8_t)(p->tset[n - 1].group + 1);
	bool stored = want_ext(p, r, n) && px_targets_store(p, c, p->tset, n);
	p->stats.forwards++;

	struct px_ext *x = stored ? px_ext_get(p, c, false) : NULL;
	c->flags |= PX_C_STARTING;
	for (unsigned i = 0; i < n; i++) {
		struct px_target *t = &p->tset[i];
		if (t->group != 0)
			continue;
		bool keep = x != NULL && i < x->ntargets;
		px_branch_start(p, c, r, t, keep ? (uint8_t)i : 0xff, now);
		if (keep) {
			x->t[i].started = 1;
			x->t[i].hop = t->hop;
		}
	}
	c->flags &= (uint8_t)~PX_C_STARTING;
	if (c->ngroups > 1 && c->method == SPL_SIP_METHOD_INVITE)
		px_seq_timer(p, c, now);
	px_evaluate(p, c, now);
}

/* Park a request just received while its name resolves. True when that is
 * taken care of (it waits, or the context pool was dry and it was answered
 * 503); false when it cannot wait: the caller answers 503 RESOLVING. */
static bool park_new(struct spl_proxy *p, struct px_req *r, uint64_t h, uint64_t now)
{
	if (!px_park_room(p))
		return false;
	struct px_ctx *c = ctx_open(p, r, h, now);
	if (c == NULL)
		return true;
	bool parked = px_park(p, c, now);
	if (!parked) {
		/* The caller answers; nothing needs the request any more. */
		c->flags |= PX_C_FINAL_SENT;
		px_ctx_release_req(p, c);
	}
	px_ctx_unhold(p, c);
	return parked;
}

void px_route(struct spl_proxy *p, struct px_req *r, uint64_t h, struct px_ctx *parked,
	      uint64_t now)
{
	int n = px_targets(p, r, now);
	bool stateless = n == 1 && (p->tset[0].flags & PX_T_STATELESS);
	enum spl_proxy_local why = n <= 0     ? (enum spl_proxy_local)-n
				   : stateless ? PX_LOCAL_NONE
					       : no_hop_verdict(p, (unsigned)n);
	/* Still waiting keeps the deadline it was parked with. */
	if (why == SPL_PROXY_LOCAL_RESOLVING && (parked != NULL || park_new(p, r, h, now)))
		return;
	if (parked != NULL)
		px_unpark(p, parked);
	if (why != PX_LOCAL_NONE) {
		if (why == SPL_PROXY_LOCAL_UNRESOLVABLE)
			p->stats.unresolvable++;
		if (parked != NULL)
			px_ctx_answer(p, parked, r->msg, why, local_status(p, why), now);
		else
			px_local_reply(p, r->msg, h, NULL, why, local_status(p, why), NULL, NULL, 0, now);
		return;
	}
	if (parked != NULL)
		p->stats.park_resumed++;
	if (stateless) {
		/* §16.1: nothing but a 100 was sent on it, so the state can be
		 * dropped. A parked context goes with it once its holder lets
		 * go; until then it keeps the request bytes forwarded here. */
		spl_txn_terminate(p->tbl, h);
		px_stateless_request(p, r, &p->tset[0], r->src, now);
		return;
	}
	if (parked != NULL) {
		forward(p, parked, r, (unsigned)n, now);
		return;
	}
	struct px_ctx *c = ctx_open(p, r, h, now);
	if (c == NULL)
		return;
	forward(p, c, r, (unsigned)n, now);
	px_ctx_unhold(p, c);
}

static void request_new(struct spl_proxy *p, uint64_t h, struct spl_sipmsg *msg,
			const struct spl_txn_peer *src, uint64_t now)
{
	struct spl_txn_peer rdst;
	px_via_peer(p, &msg->vias[0], src, &rdst);
	spl_txn_peer_set(p->tbl, h, &rdst);

	if (msg->method_id == SPL_SIP_METHOD_CANCEL) {
		px_cancel_in(p, h, msg, src, now);
		return;
	}
	/* Draining: nothing new starts, but dialogs in progress may still end
	 * (in-dialog requests carry a To tag), so calls are not left hanging. */
	if (p->draining && msg->method_id != SPL_SIP_METHOD_ACK && !spl_str_present(msg->to.tag)) {
		px_local_reply(p, msg, h, NULL, SPL_PROXY_LOCAL_DRAINING, 503, NULL, NULL, 0, now);
		return;
	}
	struct px_req *r = &p->req;
	int rc = px_req_prepare(p, r, msg, p->cur_local);
	r->src = src;
	if (rc != 0) {
		px_local_reply(p, msg, h, NULL, (enum spl_proxy_local)rc,
			       spl_proxy_local_status((enum spl_proxy_local)rc), NULL, NULL, 0, now);
		return;
	}
	if (px_validate(p, r, h, src, now))
		return;

	/* A REGISTER for one of our domains: the registrar answers. */
	if (msg->method_id == SPL_SIP_METHOD_REGISTER && r->ours && p->hooks.register_req != NULL &&
	    r->rfirst == r->rend) {
		struct spl_txn_buf b;
		if (!px_alloc(p, p->max_msg, &b)) {
			px_abandon_server(p, h, 500);
			return;
		}
		struct spl_proxy_reply out = { (char *)(uintptr_t)b.data, p->max_msg, 0, 0 };
		rc = p->hooks.register_req(p->hooks.ctx, msg, src, now, &out);
		if (rc == 1) {
			px_release(p, &b);   /* not the registrar's: proxied below */
		} else if (rc != 0 || out.len == 0 || out.len > out.cap || out.status < 100 ||
			   out.status > 699) {
			px_release(p, &b);
			px_local_reply(p, msg, h, NULL, SPL_PROXY_LOCAL_SERVER_ERROR, 500, NULL, NULL, 0, now);
			return;
		} else {
			b.len = out.len;
			p->stats.registers++;
			p->stats.local[SPL_PROXY_LOCAL_REGISTRAR]++;
			px_respond(p, h, out.status, &b, now);
			return;
		}
	}
	px_route(p, r, h, NULL, now);
}

/* ---- transaction callbacks ---- */

static int op_send(void *ctx, const struct spl_txn_peer *dst, const struct spl_txn_buf *buf)
{
	struct spl_proxy *p = ctx;
	return p->tp.send(p->tp.ctx, dst, buf);
}

static void op_release(void *ctx, void *owner)
{
	struct spl_proxy *p = ctx;
	p->tp.release(p->tp.ctx, owner);
}

static void op_retain(void *ctx, void *owner)
{
	struct spl_proxy *p = ctx;
	p->tp.retain(p->tp.ctx, owner);
}

static int op_alloc(void *ctx, uint32_t len, struct spl_txn_buf *out)
{
	struct spl_proxy *p = ctx;
	return p->tp.alloc(p->tp.ctx, len, out);
}

static void op_request(void *ctx, uint64_t h, enum spl_txn_req_kind kind, struct spl_sipmsg *msg,
		       const struct spl_txn_peer *src, uint64_t now)
{
	struct spl_proxy *p = ctx;
	if (kind == SPL_TXN_REQ_STATELESS)
		px_ack(p, msg, src, now);
	else
		request_new(p, h, msg, src, now);
}

static void op_response(void *ctx, uint64_t h, struct spl_sipmsg *msg,
			const struct spl_txn_peer *src, uint64_t now)
{
	px_on_response(ctx, h, msg, src, now);
}

/* The client branch of a transaction, held; NULL when it is not one. */
static struct px_ctx *branch_of(struct spl_proxy *p, uint64_t h, uint32_t *bi)
{
	struct px_ctx *c = spl_txn_user_get(p->tbl, h, bi);
	if (c == NULL || h == c->server || *bi >= c->nbr || c->br[*bi].client != h)
		return NULL;
	return c;
}

static void op_timeout(void *ctx, uint64_t h, enum spl_txn_timer which, uint64_t now)
{
	struct spl_proxy *p = ctx;
	uint32_t bi;
	(void)which;
	struct px_ctx *c = branch_of(p, h, &bi);
	if (c == NULL)
		return;   /* Timer H: the ACK never came; nothing to do (§16.9) */
	px_ctx_hold(c);
	px_branch_done(p, c, bi, 408, true, now);   /* §16.6 step 7, §16.8 */
	px_ctx_unhold(p, c);
}

static void op_transport_error(void *ctx, uint64_t h, int err, uint64_t now)
{
	struct spl_proxy *p = ctx;
	uint32_t bi;
	(void)err;
	struct px_ctx *c = branch_of(p, h, &bi);
	if (c == NULL) {
		px_drop(p, SPL_PROXY_DROP_RSP_SEND_ERROR);   /* §16.9: dropped */
		return;
	}
	px_ctx_hold(c);
	px_branch_done(p, c, bi, 503, true, now);   /* §16.9: as a 503 */
	px_ctx_unhold(p, c);
}

static void op_terminated(void *ctx, uint64_t h, void *user, uint32_t user32)
{
	struct spl_proxy *p = ctx;
	struct px_ctx *c = user;
	if (c == NULL)
		return;   /* a CANCEL of ours */
	if (h == c->server) {
		c->server = SPL_TXN_NONE;
	} else if (user32 < c->nbr && c->br[user32].client == h) {
		struct px_branch *b = &c->br[user32];
		b->client = SPL_TXN_NONE;
		b->flags &= (uint8_t)~PX_B_LIVE;
		if (!(b->flags & PX_B_FINAL)) {
			px_ctx_hold(c);
			px_branch_done(p, c, user32, 408, true, spl_timerwheel_now(p->tw));
			px_ctx_unhold(p, c);
		}
	} else {
		return;
	}
	px_ctx_put(p, c);
}

/* ---- data path ---- */

void spl_proxy_recv_on(struct spl_proxy *p, struct spl_sipmsg *msg, void *rx_owner,
		       const struct spl_txn_peer *src, int local, uint64_t now)
{
	p->cur_owner = rx_owner;
	p->cur_local = (int8_t)(local >= 0 && (unsigned)local < p->naddrs
					? local : px_local_for(p, src->transport, -1));
	if (!msg->request) {
		if (msg->status >= 100 && msg->status <= 699)
			p->stats.rsp_in[msg->status / 100]++;
		if (spl_txn_recv_response(p->tbl, msg, src, now) < 0)
			px_drop(p, SPL_PROXY_DROP_BAD_MESSAGE);
		p->cur_owner = NULL;
		return;
	}
	p->stats.req_in[msg->method_id]++;
	int rc = spl_txn_recv_request(p->tbl, msg, rx_owner, src, now);
	if (rc == -ENOSPC) {
		if (msg->method_id == SPL_SIP_METHOD_ACK) {
			px_drop(p, SPL_PROXY_DROP_TABLE_FULL_ACK);
		} else {
			struct spl_txn_peer dst;
			if (msg->nvias == 0 || px_via_peer(p, &msg->vias[0], src, &dst) != 0)
				dst = *src;
			overload(p, msg, &dst, now);
		}
	} else if (rc < 0) {
		px_drop(p, SPL_PROXY_DROP_BAD_MESSAGE);
	}
	p->cur_owner = NULL;
}

void spl_proxy_recv(struct spl_proxy *p, struct spl_sipmsg *msg, void *rx_owner,
		    const struct spl_txn_peer *src, uint64_t now)
{
	spl_proxy_recv_on(p, msg, rx_owner, src, -1, now);
}

void spl_proxy_reject(struct spl_proxy *p, struct spl_sipmsg *msg,
		      const struct spl_sipmsg_verdict *v, const struct spl_txn_peer *src,
		      uint64_t now)
{
	/* An ACK is never answered (RFC 3261 §17): a malformed one is
	 * dropped. Answering it would also loop with a peer that ACKs our
	 * 4xx with the same malformed start line. */
	if (v->kind != SPL_SIPMSG_REJECT || !msg->request || v->status < 300 ||
	    msg->method_id == SPL_SIP_METHOD_ACK) {
		px_drop(p, SPL_PROXY_DROP_VERDICT);
		return;
	}
	struct spl_txn_peer dst = *src;
	if ((msg->parsed & SPL_SIPMSG_P_VIA) && !(msg->parse_failed & SPL_SIPMSG_P_VIA) &&
	    msg->nvias > 0)
		px_via_peer(p, &msg->vias[0], src, &dst);
	p->stats.req_in[msg->method_id]++;
	px_local_reply(p, msg, SPL_TXN_NONE, &dst, SPL_PROXY_LOCAL_VERDICT, v->status, v->reason,
		       NULL, 0, now);
}

/* ---- timers ---- */

void spl_proxy_timer_fire(struct spl_proxy *p, uint64_t data, uint64_t now)
{
	unsigned tag = (unsigned)(data >> SPL_TIMER_TAG_SHIFT);
	if (tag == SPL_TXN_TIMER_TAG)
		spl_txn_timer_fire(p->tbl, data, now);
	else if (tag == SPL_PROXY_TIMER_TAG)
		px_timer_fire(p, data, now);
	else if (p->hooks.timer_other != NULL)
		p->hooks.timer_other(p->hooks.ctx, data, now);
	else
		px_drop(p, SPL_PROXY_DROP_OTHER_TIMER);
}

void spl_proxy_wheel_cb(void *ctx, uint32_t handle, uint64_t data)
{
	struct spl_proxy *p = ctx;
	(void)handle;
	spl_proxy_timer_fire(p, data, spl_timerwheel_now(p->tw));
}

uint32_t spl_proxy_advance(struct spl_proxy *p, uint64_t now)
{
	return spl_timerwheel_advance(p->tw, now, spl_proxy_wheel_cb, p);
}

/* ---- create ---- */

static char *arena_dup(char **cur, const char *s, uint32_t *len)
{
	size_t n = strlen(s);
	char *d = *cur;
	memcpy(d, s, n);
	d[n] = 0;
	*cur += n + 1;
	*len = (uint32_t)n;
	return d;
}

static int parse_addr(struct px_addr *a, const struct spl_proxy_addr *c)
{
	a->transport = c->transport ? c->transport : SPL_SIP_TRANSPORT_UDP;
	a->port = c->port ? c->port : px_default_port(a->transport);
	size_t hl = c->host ? strlen(c->host) : 0;
	if (hl == 0 || hl + 7 > sizeof(a->hostport))
		return -1;
	struct px_wr w = { a->hostport, sizeof(a->hostport), 0, false };
	px_put(&w, c->host, (uint32_t)hl);
	if (spl_sip_host_parse(a->hostport, (uint32_t)hl, &a->host) != 0)
		return -1;
	px_put(&w, ":", 1);
	px_put_uint(&w, a->port);
	a->hostport_len = (uint8_t)w.len;
	return w.fail ? -1 : 0;
}

static int parse_conf_text(struct spl_proxy *p, const struct spl_proxy_conf *c)
{
	size_t need = 1;
	for (unsigned i = 0; i < c->nroutes; i++) {
		const struct spl_proxy_route *r = &c->routes[i];
		need += (r->domain ? strlen(r->domain) : 0) + (r->user_prefix ? strlen(r->user_prefix) : 0) + 2;
		if (r->nhops == 0 || r->nhops > SPL_PROXY_MAX_HOPS || r->hops == NULL)
			return -EINVAL;
		for (unsigned h = 0; h < r->nhops; h++) {
			if (r->hops[h] == NULL)
				return -EINVAL;
			need += strlen(r->hops[h]) + 1;
		}
	}
	for (unsigned i = 0; i < c->nproxy_require_ok; i++)
		need += (c->proxy_require_ok[i] ? strlen(c->proxy_require_ok[i]) : 0) + 1;
	p->text = malloc(need);
	p->domains = calloc(c->ndomains + 1, sizeof(*p->domains));
	p->routes = calloc(c->nroutes + 1, sizeof(*p->routes));
	p->req_ok = calloc(c->nproxy_require_ok + 1, sizeof(*p->req_ok));
	if (!p->text || !p->domains || !p->routes || !p->req_ok)
		return -ENOMEM;
	char *cur = p->text;
	for (unsigned i = 0; i < c->ndomains; i++) {
		size_t n = c->domains[i] ? strlen(c->domains[i]) : 0;
		if (n == 0 || n >= sizeof(p->domains[i].name))
			return -EINVAL;
		memcpy(p->domains[i].name, c->domains[i], n);
		p->domains[i].len = (uint16_t)n;
	}
	p->ndomains = c->ndomains;
	for (unsigned i = 0; i < c->nroutes; i++) {
		const struct spl_proxy_route *r = &c->routes[i];
		struct px_route *pr = &p->routes[i];
		uint32_t len;
		pr->domain = SPL_STR_NULL;
		pr->prefix = SPL_STR_NULL;
		if (r->domain && strcmp(r->domain, "*") != 0) {
			char *d = arena_dup(&cur, r->domain, &len);
			pr->domain = (struct spl_str){ d, len };
		}
		if (r->user_prefix && r->user_prefix[0]) {
			char *d = arena_dup(&cur, r->user_prefix, &len);
			pr->prefix = (struct spl_str){ d, len };
		}
		pr->stateless = r->stateless;
		pr->nhops = (uint8_t)r->nhops;
		for (unsigned h = 0; h < r->nhops; h++) {
			char *d = arena_dup(&cur, r->hops[h], &len);
			if (spl_sip_uri_parse(d, len, &pr->hops[h].uri) != 0 ||
			    (pr->hops[h].uri.scheme_id != SPL_SIP_SCHEME_SIP &&
			     pr->hops[h].uri.scheme_id != SPL_SIP_SCHEME_SIPS))
				return -EINVAL;
		}
	}
	p->nroutes = c->nroutes;
	for (unsigned i = 0; i < c->nproxy_require_ok; i++) {
		uint32_t len;
		if (c->proxy_require_ok[i] == NULL)
			return -EINVAL;
		char *d = arena_dup(&cur, c->proxy_require_ok[i], &len);
		p->req_ok[i] = (struct spl_str){ d, len };
	}
	p->nreq_ok = c->nproxy_require_ok;
	return 0;
}

/* 404 (RFC 3261 §21.4.5) or 604 (§21.6.3: nowhere, which is what a
 * missing domain means); 0: 404. */
static bool unresolvable_ok(uint16_t st)
{
	return st == 0 || st == 404 || st == 604;
}

/* What spl_proxy_reconfigure() may change of the parking behaviour. */
static void park_conf(struct spl_proxy *p, const struct spl_proxy_conf *c)
{
	p->park.timeout = c->park_timeout_ns ? c->park_timeout_ns : UINT64_C(2000000000);
	p->unresolvable_status = c->unresolvable_status ? c->unresolvable_status : 404;
}

struct spl_proxy *spl_proxy_create(const struct spl_proxy_conf *c)
{
	const uint64_t sec = UINT64_C(1000000000);
	if (c == NULL || c->wheel == NULL || c->txn_capacity == 0 || c->naddrs == 0 ||
	    c->naddrs > SPL_PROXY_MAX_ADDRS || c->addrs == NULL ||
	    c->tp.send == NULL || c->tp.release == NULL || c->tp.retain == NULL || c->tp.alloc == NULL ||
	    (c->timer_c_ns != 0 && c->timer_c_ns < 180 * sec) ||
	    c->max_branches > SPL_PROXY_MAX_BRANCHES || !unresolvable_ok(c->unresolvable_status) ||
	    (c->ndomains && c->domains == NULL) || (c->nroutes && c->routes == NULL) ||
	    (c->nproxy_require_ok && c->proxy_require_ok == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	struct spl_proxy *p = aligned_alloc(64, (sizeof(*p) + 63) & ~(size_t)63);
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	p->tw = c->wheel;
	p->tp = c->tp;
	p->hooks = c->hooks;
	p->shard = c->shard;
	p->record_route = c->record_route;
	p->add_path = c->add_path;
	p->recurse_3xx = c->recurse_3xx;
	p->auth_any_from = c->auth_any_from;
	p->auth_methods = c->auth_methods;
	p->retry_after_s = c->retry_after_s ? c->retry_after_s : 5;
	p->max_msg = c->max_msg ? c->max_msg : 8192;
	p->max_branches = c->max_branches ? c->max_branches : 8;
	p->branch_cap = p->max_branches;
	p->t1 = c->t1_ns ? c->t1_ns : sec / 2;
	p->timer_c = c->timer_c_ns ? c->timer_c_ns : 180 * sec;
	p->fork_timeout = c->fork_timeout_ns ? c->fork_timeout_ns : 30 * sec;
	p->loop_seed = c->loop_seed ? c->loop_seed : UINT64_C(0x73706c6c6f6f7021);
	park_conf(p, c);

	int err = EINVAL;
	for (unsigned i = 0; i < c->naddrs; i++)
		if (parse_addr(&p->addrs[i], &c->addrs[i]) != 0)
			goto fail;
	p->naddrs = c->naddrs;
	int rc = parse_conf_text(p, c);
	if (rc != 0) {
		err = -rc;
		goto fail;
	}
	err = ENOMEM;
	p->tset = calloc(p->max_branches, sizeof(*p->tset));
	p->bind = calloc(SPL_PROXY_MAX_BRANCHES, sizeof(*p->bind));
	if (p->tset == NULL || p->bind == NULL)
		goto fail;
	uint32_t ctx_cap = c->ctx_capacity ? c->ctx_capacity : (c->txn_capacity + 1) / 2;
	if (ctx_cap > (UINT32_C(1) << 28)) {
		err = EINVAL;
		goto fail;
	}
	uint32_t ext_cap = c->ext_capacity ? c->ext_capacity : ctx_cap / 8 + 1;
	if (px_pools_create(p, ctx_cap, ext_cap) != 0 || px_park_create(p, c->park_capacity) != 0)
		goto fail;

	p->ops = (struct spl_txn_ops){
		.send = op_send, .release = op_release, .retain = op_retain, .alloc = op_alloc,
		.on_request = op_request, .on_response = op_response, .on_timeout = op_timeout,
		.on_transport_error = op_transport_error, .on_terminated = op_terminated,
	};
	struct spl_txn_conf tc = {
		.capacity = c->txn_capacity, .shard = c->shard, .t1_ns = c->t1_ns, .t2_ns = c->t2_ns,
		.t4_ns = c->t4_ns, .hash_seed = c->hash_seed, .wheel = c->wheel, .ops = &p->ops, .ctx = p,
	};
	p->tbl = spl_txn_table_create(&tc);
	if (p->tbl == NULL) {
		err = errno;
		goto fail;
	}
	return p;
fail:
	spl_proxy_free(p);
	errno = err;
	return NULL;
}

/*
 * Swap the routing configuration between two messages. Everything a
 * context needs later (targets, next hops, stored URIs) was copied into it
 * when it was created, so the old tables can go at once.
 */
int spl_proxy_reconfigure(struct spl_proxy *p, const struct spl_proxy_conf *c)
{
	const uint64_t sec = UINT64_C(1000000000);
	if (c == NULL || c->naddrs == 0 || c->naddrs > SPL_PROXY_MAX_ADDRS || c->addrs == NULL ||
	    (c->timer_c_ns != 0 && c->timer_c_ns < 180 * sec) || c->max_branches > SPL_PROXY_MAX_BRANCHES ||
	    !unresolvable_ok(c->unresolvable_status) ||
	    (c->ndomains && c->domains == NULL) || (c->nroutes && c->routes == NULL) ||
	    (c->nproxy_require_ok && c->proxy_require_ok == NULL))
		return -EINVAL;
	struct spl_proxy *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	int rc = 0;
	for (unsigned i = 0; i < c->naddrs && rc == 0; i++)
		if (parse_addr(&n->addrs[i], &c->addrs[i]) != 0)
			rc = -EINVAL;
	if (rc == 0)
		rc = parse_conf_text(n, c);
	unsigned maxb = c->max_branches ? c->max_branches : 8;
	if (maxb > p->branch_cap)
		rc = -EINVAL;   /* contexts were sized at create: more needs a new proxy */
	struct px_target *tset = NULL;
	if (rc == 0 && maxb != p->max_branches && (tset = calloc(maxb, sizeof(*tset))) == NULL)
		rc = -ENOMEM;
	if (rc != 0) {
		free(n->text);
		free(n->domains);
		free(n->routes);
		free(n->req_ok);
		free(n);
		return rc;
	}
	free(p->text);
	free(p->domains);
	free(p->routes);
	free(p->req_ok);
	p->text = n->text;
	p->domains = n->domains;
	p->routes = n->routes;
	p->req_ok = n->req_ok;
	p->ndomains = n->ndomains;
	p->nroutes = n->nroutes;
	p->nreq_ok = n->nreq_ok;
	memcpy(p->addrs, n->addrs, sizeof(p->addrs));
	p->naddrs = c->naddrs;
	if (tset) {
		free(p->tset);
		p->tset = tset;
	}
	p->max_branches = maxb;
	p->record_route = c->record_route;
	p->add_path = c->add_path;
	p->recurse_3xx = c->recurse_3xx;
	p->auth_any_from = c->auth_any_from;
	p->auth_methods = c->auth_methods;
	p->retry_after_s = c->retry_after_s ? c->retry_after_s : 5;
	p->timer_c = c->timer_c_ns ? c->timer_c_ns : 180 * sec;
	p->fork_timeout = c->fork_timeout_ns ? c->fork_timeout_ns : 30 * sec;
	park_conf(p, c);
	p->hooks = c->hooks;
	p->tp = c->tp;
	free(n);
	return 0;
}

void spl_proxy_set_draining(struct spl_proxy *p, bool on) { p->draining = on; }

void spl_proxy_free(struct spl_proxy *p)
{
	if (p == NULL)
		return;
	spl_txn_table_free(p->tbl);
	px_pools_free(p);   /* also the request bytes and deadlines of parked requests */
	px_park_free(p);
	free(p->tset);
	free(p->bind);
	free(p->text);
	free(p->domains);
	free(p->routes);
	free(p->req_ok);
	free(p);
}
