/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CANCEL (§16.10, §9), Timer C (§16.8) and the sequential-forking timer.
 *
 * A CANCEL that matches an INVITE server transaction is answered 200 at
 * once; the context's pending branches are cancelled: a branch that had a
 * provisional gets a CANCEL (built from the INVITE we sent, §9.1), one
 * that had none is only marked, and is cancelled when its first
 * provisional arrives (§9.1 forbids a CANCEL before one; this is Kamailio
 * tm's default cancel_b_method=1). The UAS answers the INVITE 487, which
 * comes back as the best response. A CANCEL that matches nothing is
 * forwarded statelessly.
 *
 * Timer C per INVITE branch (restarted on 101-199): on expiry a branch
 * with a provisional is cancelled, one without is taken as a 408. After a
 * CANCEL of ours a branch waits 64*T1 for its final (§9.1) and is then
 * terminated as a 408.
 */
#include "proxy_priv.h"

/* ---- timers ---- */

#define TD_KIND_SHIFT 52
#define TD_BR_SHIFT 44
#define TD_GEN_SHIFT 28
#define TD_IDX_MASK ((UINT64_C(1) << 28) - 1)

static uint64_t tdata(const struct spl_proxy *p, const struct px_ctx *c, enum px_timer_kind k,
		      unsigned bi)
{
	return ((uint64_t)SPL_PROXY_TIMER_TAG << SPL_TIMER_TAG_SHIFT) |
	       ((uint64_t)k << TD_KIND_SHIFT) | ((uint64_t)(bi & 0xff) << TD_BR_SHIFT) |
	       ((uint64_t)c->gen << TD_GEN_SHIFT) | px_ctx_index(p, c);
}

static uint64_t wheel_delay(struct spl_proxy *p, uint64_t delay, uint64_t now)
{
	/* The wheel counts from its own time, which lags now between
	 * advances: the timer is due at now + delay either way. */
	uint64_t wnow = spl_timerwheel_now(p->tw);
	return now > wnow ? delay + (now - wnow) : delay;
}

void px_branch_timer(struct spl_proxy *p, struct px_ctx *c, unsigned bi, enum px_timer_kind k,
		     uint64_t delay, uint64_t now)
{
	struct px_branch *b = &c->br[bi];
	delay = wheel_delay(p, delay, now);
	if (b->timer != SPL_TIMER_NONE) {
		if (b->timer_kind == k && spl_timerwheel_restart(p->tw, b->timer, delay) == 0)
			return;
		spl_timerwheel_stop(p->tw, b->timer);
	}
	b->timer = spl_timerwheel_start(p->tw, delay, tdata(p, c, k, bi));
	b->timer_kind = b->timer != SPL_TIMER_NONE ? (uint8_t)k : PX_TK_NONE;
}

void px_branch_timer_stop(struct spl_proxy *p, struct px_branch *b)
{
	if (b->timer != SPL_TIMER_NONE)
		spl_timerwheel_stop(p->tw, b->timer);
	b->timer = SPL_TIMER_NONE;
	b->timer_kind = PX_TK_NONE;
}

bool px_ctx_timer(struct spl_proxy *p, struct px_ctx *c, enum px_timer_kind k, uint64_t delay,
		  uint64_t now)
{
	px_ctx_timer_stop(p, c);
	c->timer = spl_timerwheel_start(p->tw, wheel_delay(p, delay, now), tdata(p, c, k, 0));
	return c->timer != SPL_TIMER_NONE;
}

void px_ctx_timer_stop(struct spl_proxy *p, struct px_ctx *c)
{
	if (c->timer != SPL_TIMER_NONE)
		spl_timerwheel_stop(p->tw, c->timer);
	c->timer = SPL_TIMER_NONE;
}

void px_seq_timer(struct spl_proxy *p, struct px_ctx *c, uint64_t now)
{
	px_ctx_timer(p, c, PX_TK_SEQ, p->fork_timeout, now);
}

/* Give up on a branch now: a 408 (§16.8 without a provisional, §9.1 after
 * our CANCEL went unanswered), and its transaction ends. */
static void branch_abandon(struct spl_proxy *p, struct px_ctx *c, unsigned bi, uint64_t now)
{
	struct px_branch *b = &c->br[bi];
	uint64_t h = b->client;
	px_branch_done(p, c, bi, 408, true, now);
	if (h != SPL_TXN_NONE && (c->br[bi].flags & PX_B_LIVE))
		spl_txn_terminate(p->tbl, h);
}

static void seq_timeout(struct spl_proxy *p, struct px_ctx *c, uint64_t now)
{
	p->stats.seq_timeouts++;
	c->flags |= PX_C_STARTING;
	for (unsigned bi = 0; bi < c->nbr; bi++) {
		struct px_branch *b = &c->br[bi];
		if (b->group != c->cur_group || (b->flags & PX_B_FINAL))
			continue;
		if (b->flags & PX_B_PROV)
			px_cancel_branch(p, c, bi, now);
		else
			branch_abandon(p, c, bi, now);
	}
	c->flags &= (uint8_t)~PX_C_STARTING;
	if (!(c->flags & (PX_C_FINAL_SENT | PX_C_CANCELLED | PX_C_6XX)) &&
	    c->cur_group + 1 < c->ngroups) {
		c->cur_group++;
		struct px_req *r = px_ctx_request(p, c);
		if (r != NULL)
			px_start_group(p, c, r, now);
	}
	px_evaluate(p, c, now);
}

void px_timer_fire(struct spl_proxy *p, uint64_t data, uint64_t now)
{
	unsigned kind = (unsigned)(data >> TD_KIND_SHIFT) & 15u;
	unsigned bi = (unsigned)(data >> TD_BR_SHIFT) & 0xffu;
	uint16_t gen = (uint16_t)(data >> TD_GEN_SHIFT);
	uint32_t idx = (uint32_t)(data & TD_IDX_MASK);
	if (idx >= p->ctx_cap) {
		px_drop(p, SPL_PROXY_DROP_STALE_TIMER);
		return;
	}
	struct px_ctx *c = px_ctx_at(p, idx);
	if (c->gen != gen || (c->refs == 0 && c->busy == 0)) {
		px_drop(p, SPL_PROXY_DROP_STALE_TIMER);
		return;
	}
	if (kind == PX_TK_SEQ || kind == PX_TK_PARK) {
		/* One timer per context: the park deadline while parked, the
		 * group timeout after. One of the other kind is a leftover. */
		bool parked = (c->flags & PX_C_PARKED) != 0;
		if (c->timer == SPL_TIMER_NONE || parked != (kind == PX_TK_PARK)) {
			px_drop(p, SPL_PROXY_DROP_STALE_TIMER);
			return;
		}
		c->timer = SPL_TIMER_NONE;
		px_ctx_hold(c);
		if (parked)
			px_park_expire(p, c, now);
		else
			seq_timeout(p, c, now);
		px_ctx_unhold(p, c);
		return;
	}
	if (bi >= c->nbr || c->br[bi].timer == SPL_TIMER_NONE || c->br[bi].timer_kind != kind) {
		px_drop(p, SPL_PROXY_DROP_STALE_TIMER);
		return;
	}
	struct px_branch *b = &c->br[bi];
	b->timer = SPL_TIMER_NONE;
	b->timer_kind = PX_TK_NONE;
	if (b->flags & PX_B_FINAL)
		return;
	px_ctx_hold(c);
	if (kind == PX_TK_C) {
		p->stats.timer_c++;
		if ((b->flags & PX_B_PROV) && !(b->flags & PX_B_CANCEL_SENT)) {
			px_cancel_branch(p, c, bi, now);
			if (!(b->flags & PX_B_CANCEL_SENT))
				branch_abandon(p, c, bi, now);
		} else {
			branch_abandon(p, c, bi, now);
		}
	} else {
		branch_abandon(p, c, bi, now);
	}
	px_ctx_unhold(p, c);
}

/* ---- CANCEL requests of ours (§9.1) ---- */

struct cw {
	char *p;       /* NULL: measure */
	uint32_t n;
};

static void cw_put(struct cw *w, const char *s, uint32_t n)
{
	if (w->p != NULL)
		memcpy(w->p + w->n, s, n);
	w->n += n;
}
#define CW_LIT(w, s) cw_put((w), (s), sizeof(s) - 1)

static void cw_hdr(struct cw *w, const char *name, const struct spl_sipmsg *m, enum spl_sip_hdr_id id)
{
	for (uint16_t i = m->first[id]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		cw_put(w, name, (uint32_t)strlen(name));
		cw_put(w, m->hdrs[i].value.p, m->hdrs[i].value.len);
		CW_LIT(w, "\r\n");
	}
}

/* Request-URI, Call-ID, To, From, CSeq number and Route as in the
 * INVITE; its top Via as the only Via. */
static void cancel_write(struct cw *w, const struct spl_sipmsg *inv)
{
	char num[12];
	struct px_wr nw = { num, sizeof(num), 0, false };
	px_put_uint(&nw, inv->cseq.num);
	CW_LIT(w, "CANCEL ");
	cw_put(w, inv->ruri.p, inv->ruri.len);
	CW_LIT(w, " SIP/2.0\r\nVia: ");
	cw_put(w, inv->vias[0].raw.p, inv->vias[0].raw.len);
	CW_LIT(w, "\r\nMax-Forwards: 70\r\n");
	cw_hdr(w, "Route: ", inv, SPL_SIP_HDR_ROUTE);
	cw_hdr(w, "From: ", inv, SPL_SIP_HDR_FROM);
	cw_hdr(w, "To: ", inv, SPL_SIP_HDR_TO);
	cw_hdr(w, "Call-ID: ", inv, SPL_SIP_HDR_CALL_ID);
	CW_LIT(w, "CSeq: ");
	cw_put(w, num, nw.len);
	CW_LIT(w, " CANCEL\r\nContent-Length: 0\r\n\r\n");
}

void px_cancel_branch(struct spl_proxy *p, struct px_ctx *c, unsigned bi, uint64_t now)
{
	struct px_branch *b = &c->br[bi];
	if ((b->flags & (PX_B_FINAL | PX_B_CANCEL_SENT)) || !(b->flags & PX_B_LIVE))
		return;
	if (!(b->flags & PX_B_PROV)) {
		b->flags |= PX_B_CANCEL_WANTED;
		return;
	}
	const struct spl_txn_buf *sent = spl_txn_sent(p->tbl, b->client);
	struct spl_sipmsg *inv = &p->scratch3;
	if (sent == NULL || spl_sipmsg_scan(inv, sent->data, sent->len) != SPL_SIPMSG_E_NONE ||
	    spl_sipmsg_parse(inv, SPL_SIPMSG_P_VIA | SPL_SIPMSG_P_CSEQ) != SPL_SIPMSG_E_NONE ||
	    inv->nvias == 0) {
		px_drop(p, SPL_PROXY_DROP_CANCEL_FAILED);
		return;
	}
	struct cw w = { NULL, 0 };
	cancel_write(&w, inv);
	uint32_t len = w.n;
	struct spl_txn_buf buf;
	uint64_t ch;
	if (spl_txn_client_reserve_cancel(p->tbl, b->client, NULL, 0, &ch) != 0) {
		px_drop(p, SPL_PROXY_DROP_CANCEL_FAILED);
		return;
	}
	if (!px_alloc(p, len, &buf)) {
		spl_txn_client_abandon(p->tbl, ch);
		return;
	}
	w = (struct cw){ (char *)(uintptr_t)buf.data, 0 };
	cancel_write(&w, inv);
	buf.len = len;
	b->flags |= PX_B_CANCEL_SENT;
	p->stats.cancels_out++;
	p->stats.req_out[SPL_SIP_METHOD_CANCEL]++;
	px_branch_timer(p, c, bi, PX_TK_CANCEL, 64 * p->t1, now);
	spl_txn_client_start(p->tbl, ch, &buf, now);
}

void px_cancel_pending(struct spl_proxy *p, struct px_ctx *c, uint64_t now)
{
	if (c->method != SPL_SIP_METHOD_INVITE)
		return;
	for (unsigned bi = 0; bi < c->nbr; bi++)
		px_cancel_branch(p, c, bi, now);
}

/* ---- CANCEL received (§16.10) ---- */

void px_cancel_in(struct spl_proxy *p, uint64_t h, struct spl_sipmsg *msg,
		  const struct spl_txn_peer *src, uint64_t now)
{
	p->stats.cancels_in++;
	uint64_t inv = spl_txn_find_invite_for_cancel(p->tbl, msg);
	if (inv == SPL_TXN_NONE) {
		/* Nothing known about it: forward statelessly (it may follow
		 * an INVITE forwarded statelessly). */
		struct px_req *r = &p->req;
		int rc = px_req_prepare(p, r, msg, p->cur_local);
		r->src = src;
		if (rc != 0) {
			px_local_reply(p, msg, h, src, (enum spl_proxy_local)rc,
				       spl_proxy_local_status((enum spl_proxy_local)rc), NULL, NULL, 0, now);
			return;
		}
		if (px_validate(p, r, h, src, now))
			return;
		int n = px_targets(p, r, now);
		if (n <= 0) {
			enum spl_proxy_local why = (enum spl_proxy_local)-n;
			px_local_reply(p, msg, h, src, why, spl_proxy_local_status(why), NULL, NULL, 0, now);
			return;
		}
		spl_txn_terminate(p->tbl, h);
		px_stateless_request(p, r, &p->tset[0], src, now);
		return;
	}
	px_local_reply(p, msg, h, src, SPL_PROXY_LOCAL_CANCEL_OK, 200, NULL, NULL, 0, now);
	struct px_ctx *c = spl_txn_user_get(p->tbl, inv, NULL);
	if (c == NULL || (c->flags & (PX_C_FINAL_SENT | PX_C_CANCELLED)))
		return;
	px_ctx_hold(c);
	c->flags |= PX_C_CANCELLED;
	/* A parked INVITE has no branch: the verdict below is our 487 (no
	 * final from any branch once cancelled). */
	px_unpark(p, c);
	px_ctx_timer_stop(p, c);
	px_cancel_pending(p, c, now);
	px_evaluate(p, c, now);
	px_ctx_unhold(p, c);
}
