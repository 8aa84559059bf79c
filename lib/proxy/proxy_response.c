/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Response processing (RFC 3261 §16.7):
 *   1 context        the client transaction's user (context, branch index)
 *   2 Timer C        restarted on 101-199 (not on 100)
 *   3 Via            our Via removed by the serializer; none left: for us
 *   4 store          non-2xx finals retained in the context (their buffers)
 *   5 forward now    1xx but 100 and 2xx until a final went out; then only
 *                    2xx to an INVITE; a 6xx cancels the others, no new branches
 *   6 best           when every branch is done: 6xx, else the lowest class
 *                    (2xx, 3xx, 4xx, 5xx; in 4xx 401/407/415/420/484 first,
 *                    real responses before ones we made up); 503 becomes
 *                    500; nothing at all: 408 (487 once the UAC cancelled)
 *   7 aggregate      WWW-/Proxy-Authenticate of every other 401/407
 *   8 Record-Route   nothing to rewrite: see px_rr_lines()
 *   9 forward        through the server transaction (statelessly by the
 *                    next Via when it is gone)
 *  10 CANCEL         pending branches after a final went out
 * plus failover to the next hop of a target (503, timeout, transport
 * error: RFC 3263 §4.3) and sequential forking (next q group).
 */
#include "proxy_priv.h"

static bool may_branch(const struct px_ctx *c)
{
	return !(c->flags & (PX_C_FINAL_SENT | PX_C_CANCELLED | PX_C_6XX));
}

static inline unsigned sclass(uint16_t st) { return st / 100; }

/* ---- sending a response upstream ---- */

/* Challenges of every other stored 401/407 as lines appended to e. */
static void aggregate(struct spl_proxy *p, struct px_ctx *c, const struct spl_sipmsg *best,
		      struct spl_sipmsg_edits *e)
{
	struct px_wr w = { p->agg, sizeof(p->agg), 0, false };
	for (unsigned bi = 0; bi < c->nbr; bi++) {
		struct px_branch *b = &c->br[bi];
		if (b->rsp.data == NULL || (b->status != 401 && b->status != 407) ||
		    b->rsp.data == best->buf)
			continue;
		struct spl_sipmsg *o = &p->scratch3;
		if (spl_sipmsg_scan(o, b->rsp.data, b->rsp.len) != SPL_SIPMSG_E_NONE)
			continue;
		static const enum spl_sip_hdr_id ids[2] = { SPL_SIP_HDR_WWW_AUTHENTICATE,
							    SPL_SIP_HDR_PROXY_AUTHENTICATE };
		for (unsigned k = 0; k < 2; k++) {
			for (uint16_t i = o->first[ids[k]]; i != SPL_SIPMSG_NONE; i = o->hdrs[i].next) {
				if (e->n_append >= SPL_SIPMSG_MAX_EDIT_LINES) {
					px_drop(p, SPL_PROXY_DROP_AUTH_LINES);
					continue;
				}
				uint32_t start = w.len;
				px_puts(&w, spl_sip_hdr_name(ids[k]));
				px_put(&w, ": ", 2);
				px_put_str(&w, o->hdrs[i].value);
				if (w.fail)
					return;
				e->append[e->n_append++] = (struct spl_str){ w.p + start, w.len - start };
				p->stats.auth_aggregated++;
			}
		}
	}
}

void px_forward_response(struct spl_proxy *p, struct px_ctx *c, struct spl_sipmsg *msg,
			 uint64_t now)
{
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.remove_top_via = true;
	uint16_t st = msg->status;
	if (st >= 200 && (st == 401 || st == 407))
		aggregate(p, c, msg, &e);
	uint32_t cap = msg->len + 64;
	for (unsigned k = 0; k < e.n_append; k++)
		cap += e.append[k].len + 2;
	struct spl_txn_buf b = { 0 };
	int n = -1;
	if (cap > p->max_msg) {
		px_drop(p, SPL_PROXY_DROP_TOO_BIG);
	} else if (px_alloc(p, cap, &b)) {
		n = spl_sipmsg_serialize(msg, &e, (char *)(uintptr_t)b.data, cap);
		if (n < 0) {
			px_release(p, &b);
			px_drop(p, SPL_PROXY_DROP_TOO_BIG);
		}
	}
	if (n < 0) {
		/* A final that cannot go out: the server transaction would
		 * wait for it forever. */
		if (st >= 200 && !(c->flags & PX_C_FINAL_SENT)) {
			c->flags |= PX_C_FINAL_SENT;
			px_abandon_server(p, c->server, st);
		}
		return;
	}
	b.len = (uint32_t)n;
	if (st >= 200)
		c->flags |= PX_C_FINAL_SENT;
	if (c->server != SPL_TXN_NONE) {
		px_respond(p, c->server, st, &b, now);
		return;
	}
	/* §16.7 step 9: the server transaction is gone; statelessly to the
	 * next Via. */
	struct spl_txn_peer dst;
	if (msg->nvias < 2 || px_via_peer(p, &msg->vias[1], NULL, &dst) != 0) {
		px_release(p, &b);
		px_drop(p, SPL_PROXY_DROP_RSP_UNROUTABLE);
		return;
	}
	p->stats.rsp_out[sclass(st)]++;
	px_send_release(p, &dst, &b);
}

/* ---- the best response ---- */

static bool preferred_4xx(uint16_t st)
{
	return st == 401 || st == 407 || st == 415 || st == 420 || st == 484;
}

/* Lower is better. */
static unsigned rank(const struct px_branch *b)
{
	unsigned cl = sclass(b->status);
	unsigned r = cl == 6 ? 0 : cl * 8;
	if (b->flags & PX_B_SYNTH)
		r += 4;
	else if (cl == 4 && preferred_4xx(b->status))
		r += 0;
	else
		r += 2;
	return r;
}

static void send_best(struct spl_proxy *p, struct px_ctx *c, uint64_t now)
{
	int best = -1;
	for (unsigned bi = 0; bi < c->nbr; bi++) {
		const struct px_branch *b = &c->br[bi];
		if (!(b->flags & PX_B_FINAL) || (b->flags & PX_B_REPLACED))
			continue;
		if (best < 0 || rank(b) < rank(&c->br[best]))
			best = (int)bi;
	}
	uint16_t st = best < 0 ? 408 : c->br[best].status;
	bool synth = best < 0 || (c->br[best].flags & PX_B_SYNTH);
	struct spl_sipmsg *msg = NULL;

	if (!synth && st != 503) {
		if (p->cur_rsp != NULL && p->cur_rsp_ctx == c && p->cur_rsp_bi == (unsigned)best) {
			msg = p->cur_rsp;
		} else {
			const struct px_branch *b = &c->br[best];
			msg = &p->scratch2;
			if (b->rsp.data == NULL ||
			    spl_sipmsg_scan(msg, b->rsp.data, b->rsp.len) != SPL_SIPMSG_E_NONE ||
			    spl_sipmsg_parse(msg, SPL_SIPMSG_P_VIA) != SPL_SIPMSG_E_NONE)
				msg = NULL;
		}
	}
	if (msg != NULL) {
		p->stats.best[sclass(st)]++;
		px_forward_response(p, c, msg, now);
	} else {
		/* A response of our own, to the stored request. */
		enum spl_proxy_local why;
		if (st == 408 || best < 0) {
			why = (c->flags & PX_C_CANCELLED) ? SPL_PROXY_LOCAL_TERMINATED : SPL_PROXY_LOCAL_TIMEOUT;
			if (why == SPL_PROXY_LOCAL_TERMINATED)
				p->stats.best_487_cancelled++;
			else
				p->stats.best_408_none++;
		} else {
			why = SPL_PROXY_LOCAL_SERVER_ERROR;   /* 503 (real or not) and failures */
			if (st == 503)
				p->stats.best_500_for_503++;
		}
		uint16_t out = spl_proxy_local_status(why);
		p->stats.best[sclass(out)]++;
		c->flags |= PX_C_FINAL_SENT;
		struct spl_sipmsg *req = NULL;
		if (c->req.data != NULL) {
			req = &p->scratch;
			if (spl_sipmsg_scan(req, c->req.data, c->req.len) != SPL_SIPMSG_E_NONE ||
			    spl_sipmsg_parse(req, SPL_SIPMSG_P_PROXY) != SPL_SIPMSG_E_NONE)
				req = NULL;
		}
		if (req != NULL) {
			/* Without a server transaction: statelessly by its Via. */
			struct spl_txn_peer dst = c->src;
			if (c->server == SPL_TXN_NONE && req->nvias > 0)
				px_via_peer(p, &req->vias[0], &c->src, &dst);
			px_local_reply(p, req, c->server, &dst, why, out, NULL, NULL, 0, now);
		} else {
			px_abandon_server(p, c->server, out);   /* no request bytes kept */
		}
	}
	/* Nothing is built from the request or the stored responses any more. */
	px_ctx_release_req(p, c);
}

/* ---- verdict ---- */

static bool failover_due(const struct px_branch *b)
{
	if ((b->flags & (PX_B_FINAL | PX_B_REPLACED)) != PX_B_FINAL || b->target == 0xff)
		return false;
	return b->status == 503 || ((b->flags & PX_B_SYNTH) && b->status == 408);
}

static bool failover(struct spl_proxy *p, struct px_ctx *c, uint64_t now)
{
	struct px_ext *x = px_ext_get(p, c, false);
	if (x == NULL)
		return false;
	bool any = false;
	for (unsigned bi = 0; bi < c->nbr && may_branch(c); bi++) {
		struct px_branch *b = &c->br[bi];
		if (!failover_due(b) || b->target >= x->ntargets)
			continue;
		struct px_stored *s = &x->t[b->target];
		if (s->hop >= s->nhops)
			continue;
		struct px_req *r = px_ctx_request(p, c);
		if (r == NULL)
			return any;
		b->flags |= PX_B_REPLACED;
		struct px_target t;
		px_stored_view(x, b->target, &t);
		c->flags |= PX_C_STARTING;
		int rc = px_branch_start(p, c, r, &t, b->target, now);
		c->flags &= (uint8_t)~PX_C_STARTING;
		s->hop = t.hop;
		if (rc == -ENOSPC) {
			b->flags &= (uint8_t)~PX_B_REPLACED;
			return any;
		}
		p->stats.failovers++;
		any = true;
	}
	return any;
}

void px_evaluate(struct spl_proxy *p, struct px_ctx *c, uint64_t now)
{
	if (c->flags & (PX_C_STARTING | PX_C_FINAL_SENT))
		return;
	for (;;) {
		failover(p, c, now);
		if (c->flags & PX_C_FINAL_SENT)
			return;
		for (unsigned bi = 0; bi < c->nbr; bi++)
			if (c->br[bi].group == c->cur_group && !(c->br[bi].flags & PX_B_FINAL))
				return;
		if (!may_branch(c) || c->cur_group + 1 >= c->ngroups)
			break;
		/* The group failed: the next one (§16.6, sequential). */
		c->cur_group++;
		px_ctx_timer_stop(p, c);
		struct px_req *r = px_ctx_request(p, c);
		if (r != NULL)
			px_start_group(p, c, r, now);
	}
	for (unsigned bi = 0; bi < c->nbr; bi++)
		if (!(c->br[bi].flags & PX_B_FINAL))
			return;
	send_best(p, c, now);
}

void px_branch_done(struct spl_proxy *p, struct px_ctx *c, unsigned bi, uint16_t status,
		    bool synthetic, uint64_t now)
{
	struct px_branch *b = &c->br[bi];
	if (b->flags & PX_B_FINAL)
		return;
	b->flags |= PX_B_FINAL | (synthetic ? PX_B_SYNTH : 0);
	b->status = status;
	px_branch_timer_stop(p, b);
	px_evaluate(p, c, now);
}

/* ---- 3xx recursion (§16.5, §16.7 step 4) ---- */

static bool recurse(struct spl_proxy *p, struct px_ctx *c, struct spl_sipmsg *msg, uint64_t now)
{
	(void)now;
	if (!p->recurse_3xx || !(c->flags & PX_C_OURS) || !may_branch(c) ||
	    spl_sipmsg_parse(msg, SPL_SIPMSG_P_CONTACT) != SPL_SIPMSG_E_NONE)
		return false;
	struct px_req *r = px_ctx_request(p, c);
	struct px_ext *x = px_ext_get(p, c, true);
	if (r == NULL || x == NULL)
		return false;
	unsigned added = 0;
	uint8_t group = c->ngroups;
	for (uint16_t i = msg->first[SPL_SIP_HDR_CONTACT]; i != SPL_SIPMSG_NONE; i = msg->hdrs[i].next) {
		struct spl_str rest = msg->hdrs[i].value;
		struct spl_sip_nameaddr na;
		while (spl_sip_nameaddr_next(&rest, &na) == 1) {
			if (na.star || (na.uri.scheme_id != SPL_SIP_SCHEME_SIP &&
					na.uri.scheme_id != SPL_SIP_SCHEME_SIPS))
				continue;
			if ((c->flags & PX_C_SIPS) && na.uri.scheme_id != SPL_SIP_SCHEME_SIPS)
				continue;
			/* Once in the target set (§16.5). */
			bool dup = spl_sip_uri_equal(&na.uri, &r->ruri_uri);
			for (unsigned k = 0; k < x->ntargets && !dup; k++) {
				struct spl_sip_uri su;
				struct px_target t;
				px_stored_view(x, k, &t);
				dup = spl_sip_uri_parse(t.uri.p, t.uri.len, &su) == 0 &&
				      spl_sip_uri_equal(&su, &na.uri);
			}
			if (dup || x->ntargets >= p->max_branches)
				continue;
			struct px_target t;
			memset(&t, 0, sizeof(t));
			t.uri = na.uri_str;
			t.q = 1000;
			t.local = -1;
			t.group = group;
			px_target_resolve(p, r, &t);
			if (!px_targets_store(p, c, &t, 1))
				break;
			added++;
		}
	}
	if (added == 0)
		return false;
	c->ngroups++;
	p->stats.recursed += added;
	return true;
}

/* ---- entry: a response from a client transaction ---- */

void px_on_response(struct spl_proxy *p, uint64_t h, struct spl_sipmsg *msg,
		    const struct spl_txn_peer *src, uint64_t now)
{
	(void)src;
	if (h == SPL_TXN_NONE) {
		px_stateless_response(p, msg, now);
		return;
	}
	uint32_t bi;
	struct px_ctx *c = spl_txn_user_get(p->tbl, h, &bi);
	if (c == NULL || bi >= c->nbr) {
		/* The response to a CANCEL of ours: §16.7 step 3, for us. */
		px_drop(p, SPL_PROXY_DROP_RSP_FOR_US);
		return;
	}
	struct px_branch *b = &c->br[bi];
	uint16_t st = msg->status;
	px_ctx_hold(c);

	if (c->method == SPL_SIP_METHOD_INVITE && st > 100 && st < 200 && b->timer_kind == PX_TK_C)
		px_branch_timer(p, c, bi, PX_TK_C, p->timer_c, now);
	if (msg->via_total < 2) {
		px_drop(p, SPL_PROXY_DROP_RSP_FOR_US);
		goto out;
	}
	if (st < 200) {
		b->flags |= PX_B_PROV;
		if ((b->flags & (PX_B_CANCEL_WANTED | PX_B_CANCEL_SENT)) == PX_B_CANCEL_WANTED)
			px_cancel_branch(p, c, bi, now);
		if (st != 100 && !(c->flags & PX_C_FINAL_SENT))
			px_forward_response(p, c, msg, now);
		goto out;
	}
	if (b->flags & PX_B_FINAL) {
		/* Further 2xx in Accepted (RFC 6026), e.g. from forks downstream. */
		if (st < 300 && c->method == SPL_SIP_METHOD_INVITE)
			px_forward_response(p, c, msg, now);
		goto out;
	}
	if (st < 300) {
		b->flags |= PX_B_FINAL;
		b->status = st;
		px_branch_timer_stop(p, b);
		bool first = !(c->flags & PX_C_FINAL_SENT);
		if (first || c->method == SPL_SIP_METHOD_INVITE) {
			if (first)
				p->stats.best[2]++;
			px_forward_response(p, c, msg, now);
		} else {
			px_drop(p, SPL_PROXY_DROP_RSP_LATE);
		}
		if (first) {
			px_cancel_pending(p, c, now);
			px_ctx_release_req(p, c);
		}
		goto out;
	}
	if (c->flags & PX_C_FINAL_SENT) {
		px_drop(p, SPL_PROXY_DROP_RSP_LATE);
		px_branch_done(p, c, bi, st, false, now);
		goto out;
	}
	if (sclass(st) == 6) {
		c->flags |= PX_C_6XX;
		px_cancel_pending(p, c, now);
	}
	if (sclass(st) == 3 && recurse(p, c, msg, now)) {
		b->flags |= PX_B_REPLACED;   /* the 3xx is not a candidate */
		px_branch_done(p, c, bi, st, false, now);
		goto out;
	}
	/* Keep the bytes: the response may be the best one later, or lend
	 * its challenges to another. */
	if (p->cur_owner != NULL) {
		p->tp.retain(p->tp.ctx, p->cur_owner);
		b->rsp = (struct spl_txn_buf){ msg->buf, msg->buf_len, p->cur_owner };
	}
	p->cur_rsp = msg;
	p->cur_rsp_ctx = c;
	p->cur_rsp_bi = bi;
	px_branch_done(p, c, bi, st, false, now);
	p->cur_rsp = NULL;
	p->cur_rsp_ctx = NULL;
out:
	px_ctx_unhold(p, c);
}
