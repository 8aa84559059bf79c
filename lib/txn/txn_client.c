/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client transactions (RFC 3261 §17.1, RFC 6026 §7.2): the INVITE machine
 * (Calling, Proceeding, Completed, Accepted; timers A, B, D, M) and the
 * non-INVITE machine (Trying, Proceeding, Completed; timers E, F, K), and
 * response matching by decoding our branch (§17.1.3).
 */
#include "txn_priv.h"

static uint64_t t64(const struct spl_txn_table *tbl) { return 64 * tbl->t1; }

int spl_txn_client_reserve(struct spl_txn_table *tbl, enum spl_sip_method method,
			   const struct spl_txn_peer *dst, void *user, uint32_t user32,
			   uint64_t *handle, char branch[SPL_SIPMSG_BRANCH_LEN])
{
	if (method == SPL_SIP_METHOD_ACK || (unsigned)method >= SPL_SIP_METHOD__COUNT || dst == NULL)
		return -EINVAL;
	struct txn *t = txn_alloc(tbl);
	if (t == NULL) {
		tbl->stats.table_full++;
		return -ENOSPC;
	}
	txn_init(tbl, t, method == SPL_SIP_METHOD_INVITE ? SPL_TXN_KIND_CLIENT_INVITE
						       : SPL_TXN_KIND_CLIENT_NON_INVITE,
		 SPL_TXN_STATE_RESERVED);
	t->method = t->mclass = (uint8_t)method;
	t->peer = *dst;
	t->reliable = dst->reliable;
	t->user = user;
	t->user32 = user32;
	if (branch != NULL)
		spl_sipmsg_branch_encode(branch, tbl->shard, txn_slot(tbl, t), t->gen);
	*handle = txn_handle(tbl, t);
	return 0;
}

int spl_txn_client_reserve_cancel(struct spl_txn_table *tbl, uint64_t invite,
				  void *user, uint32_t user32, uint64_t *handle)
{
	struct txn *inv = txn_get(tbl, invite);
	if (inv == NULL)
		return -ESTALE;
	if (inv->kind != SPL_TXN_KIND_CLIENT_INVITE ||
	    (inv->state != SPL_TXN_STATE_CALLING && inv->state != SPL_TXN_STATE_PROCEEDING))
		return -EINVAL;
	if (inv->link != TXN_NIL)
		return -EEXIST;
	int rc = spl_txn_client_reserve(tbl, SPL_SIP_METHOD_CANCEL, &inv->peer, user, user32,
					handle, NULL);
	if (rc != 0)
		return rc;
	struct txn *c = &tbl->slots[(uint32_t)*handle];
	c->link = txn_slot(tbl, inv);
	inv->link = txn_slot(tbl, c);
	return 0;
}

int spl_txn_branch(const struct spl_txn_table *tbl, uint64_t handle, char branch[SPL_SIPMSG_BRANCH_LEN])
{
	const struct txn *t = txn_get(tbl, handle);
	if (t == NULL)
		return -ESTALE;
	if (!txn_is_client(t))
		return -EINVAL;
	if (t->method == SPL_SIP_METHOD_CANCEL && t->link != TXN_NIL)
		t = &tbl->slots[t->link];  /* §9.1: the INVITE's branch */
	spl_sipmsg_branch_encode(branch, tbl->shard, txn_slot(tbl, t), t->gen);
	return 0;
}

int spl_txn_client_abandon(struct spl_txn_table *tbl, uint64_t handle)
{
	struct txn *t = txn_get(tbl, handle);
	if (t == NULL)
		return -ESTALE;
	if (t->state != SPL_TXN_STATE_RESERVED)
		return -EINVAL;
	txn_end(tbl, t);
	return 0;
}

int spl_txn_client_start(struct spl_txn_table *tbl, uint64_t handle,
			 const struct spl_txn_buf *req, uint64_t now)
{
	struct txn *t = txn_get(tbl, handle);
	if (t == NULL || !txn_is_client(t) || t->state != SPL_TXN_STATE_RESERVED ||
	    req->data == NULL || req->len == 0) {
		struct spl_txn_buf b = *req;
		txn_release_buf(tbl, &b);
		return t == NULL ? -ESTALE : -EINVAL;
	}
	bool inv = t->kind == SPL_TXN_KIND_CLIENT_INVITE;
	txn_store(tbl, t, req);
	/* A transaction that could never time out would leak its slot: without
	 * a lifetime timer it does not start (the TU sees the same as a full
	 * table). */
	if (!txn_timer_start(tbl, t, inv ? SPL_TXN_TIMER_B : SPL_TXN_TIMER_F, t64(tbl), now)) {
		txn_end(tbl, t);  /* still RESERVED: no callbacks */
		return -ENOSPC;
	}
	txn_set_state(tbl, t, inv ? SPL_TXN_STATE_CALLING : SPL_TXN_STATE_TRYING);
	tbl->stats.created[t->kind]++;
	if (!t->reliable) {
		t->rtx_ns = tbl->t1;
		txn_timer_start(tbl, t, inv ? SPL_TXN_TIMER_A : SPL_TXN_TIMER_E, t->rtx_ns, now);
	}
	return txn_send_stored(tbl, t, now);
}

/* ---- responses ---- */

static int pass_up(struct spl_txn_table *tbl, struct txn *t, struct spl_sipmsg *msg,
		   const struct spl_txn_peer *src, uint64_t now)
{
	t->status = msg->status;
	tbl->ops->on_response(tbl->ctx, txn_handle(tbl, t), msg, src, now);
	return SPL_TXN_RX_PASSED;
}

static int absorb(struct spl_txn_table *tbl)
{
	tbl->stats.absorbed++;
	return SPL_TXN_RX_ABSORBED;
}

/* Enter a "linger" state (Completed/Accepted) with its timer, or end at
 * once when the timer is zero (reliable transport) or cannot start. */
static void linger(struct spl_txn_table *tbl, struct txn *t, enum spl_txn_timer id,
		   uint64_t delay, uint64_t now)
{
	if (delay == 0 || !txn_timer_start(tbl, t, id, delay, now))
		txn_end(tbl, t);
}

/* Build and send the ACK for the non-2xx final `msg` (§17.1.1.3); the ACK
 * replaces the INVITE as the stored bytes. Without a buffer the INVITE is
 * kept and the next retransmitted final tries again. Returns the send
 * error, 0 otherwise. */
static int send_ack(struct spl_txn_table *tbl, struct txn *t, const struct spl_sipmsg *msg)
{
	struct spl_txn_buf ack;
	if (txn_build_ack(tbl, t, msg, &ack) != 0) {
		tbl->stats.ack_failures++;
		t->flags |= TXN_F_NOACK;
		return 0;
	}
	t->flags &= (uint8_t)~TXN_F_NOACK;
	txn_store(tbl, t, &ack);
	int err = tbl->ops->send(tbl->ctx, &t->peer, &t->sent);
	return err > 0 ? -err : err;
}

static int invite_final_non2xx(struct spl_txn_table *tbl, struct txn *t, struct spl_sipmsg *msg,
			       const struct spl_txn_peer *src, uint64_t now)
{
	uint16_t gen = t->gen;
	txn_timers_stop(tbl, t);
	txn_set_state(tbl, t, SPL_TXN_STATE_COMPLETED);
	/* The ACK goes out even over a reliable transport (§17.1.1.2), and
	 * before the TU hears of the final (it might end the transaction). */
	int err = send_ack(tbl, t, msg);
	pass_up(tbl, t, msg, src, now);
	if (!txn_alive(t, gen))
		return SPL_TXN_RX_PASSED;
	if (err != 0)
		txn_fail_transport(tbl, t, err, now);
	else
		linger(tbl, t, SPL_TXN_TIMER_D, t->reliable ? 0 : tbl->td, now);
	return SPL_TXN_RX_PASSED;
}

static int invite_response(struct spl_txn_table *tbl, struct txn *t, struct spl_sipmsg *msg,
			   const struct spl_txn_peer *src, uint64_t now)
{
	uint16_t st = msg->status;
	uint16_t gen = t->gen;

	switch (t->state) {
	case SPL_TXN_STATE_CALLING:
	case SPL_TXN_STATE_PROCEEDING:
		if (st < 200) {
			if (t->state == SPL_TXN_STATE_CALLING) {
				/* No retransmissions and no Timer B once a
				 * provisional arrived; Timer C is the TU's. */
				txn_timers_stop(tbl, t);
				txn_set_state(tbl, t, SPL_TXN_STATE_PROCEEDING);
			}
			return pass_up(tbl, t, msg, src, now);
		}
		if (st < 300) {
			/* RFC 6026: Accepted, so that further 2xx (retransmitted
			 * or from other forks downstream) still reach the TU. */
			txn_timers_stop(tbl, t);
			txn_set_state(tbl, t, SPL_TXN_STATE_ACCEPTED);
			txn_release_buf(tbl, &t->sent);  /* never resent from here */
			pass_up(tbl, t, msg, src, now);
			if (txn_alive(t, gen))
				linger(tbl, t, SPL_TXN_TIMER_M, 64 * tbl->t1, now);
			return SPL_TXN_RX_PASSED;
		}
		return invite_final_non2xx(tbl, t, msg, src, now);
	case SPL_TXN_STATE_COMPLETED:
		if (st >= 300) {
			/* A retransmitted final: ACK it again, do not pass it up. */
			tbl->stats.resent++;
			if (t->flags & TXN_F_NOACK) {
				int err = send_ack(tbl, t, msg);
				if (err != 0)
					txn_fail_transport(tbl, t, err, now);
			} else if (t->sent.data != NULL) {
				txn_send_stored(tbl, t, now);
			}
		}
		return absorb(tbl);
	case SPL_TXN_STATE_ACCEPTED:
		if (st >= 200 && st < 300)
			return pass_up(tbl, t, msg, src, now);
		return absorb(tbl);
	default:
		return absorb(tbl);
	}
}

static int non_invite_response(struct spl_txn_table *tbl, struct txn *t, struct spl_sipmsg *msg,
			       const struct spl_txn_peer *src, uint64_t now)
{
	uint16_t gen = t->gen;

	switch (t->state) {
	case SPL_TXN_STATE_TRYING:
	case SPL_TXN_STATE_PROCEEDING:
		if (msg->status < 200) {
			/* Timer E keeps running; it switches to T2 in Proceeding. */
			if (t->state == SPL_TXN_STATE_TRYING)
				txn_set_state(tbl, t, SPL_TXN_STATE_PROCEEDING);
			return pass_up(tbl, t, msg, src, now);
		}
		txn_timers_stop(tbl, t);
		txn_set_state(tbl, t, SPL_TXN_STATE_COMPLETED);
		/* The request bytes are not needed any more. */
		txn_release_buf(tbl, &t->sent);
		pass_up(tbl, t, msg, src, now);
		if (txn_alive(t, gen))
			linger(tbl, t, SPL_TXN_TIMER_K, t->reliable ? 0 : tbl->t4, now);
		return SPL_TXN_RX_PASSED;
	default:
		return absorb(tbl);
	}
}

int txn_client_response(struct spl_txn_table *tbl, struct txn *t, struct spl_sipmsg *msg,
			const struct spl_txn_peer *src, uint64_t now)
{
	if (t->kind == SPL_TXN_KIND_CLIENT_INVITE)
		return invite_response(tbl, t, msg, src, now);
	return non_invite_response(tbl, t, msg, src, now);
}

static int stateless_response(struct spl_txn_table *tbl, struct spl_sipmsg *msg,
			      const struct spl_txn_peer *src, uint64_t now, bool stale)
{
	if (stale)
		tbl->stats.stale_responses++;
	tbl->stats.stateless_responses++;
	tbl->ops->on_response(tbl->ctx, SPL_TXN_NONE, msg, src, now);
	return SPL_TXN_RX_STATELESS;
}

int spl_txn_recv_response(struct spl_txn_table *tbl, struct spl_sipmsg *msg,
			  const struct spl_txn_peer *src, uint64_t now)
{
	if (msg->request || msg->status < 100 || msg->status > 699 ||
	    spl_sipmsg_parse(msg, SPL_SIPMSG_P_VIA | SPL_SIPMSG_P_CSEQ) != SPL_SIPMSG_E_NONE ||
	    msg->nvias == 0) {
		tbl->stats.bad_messages++;
		return -EINVAL;
	}
	uint8_t shard;
	uint32_t slot;
	uint16_t gen;
	if (!spl_sipmsg_branch_decode(msg->vias[0].branch, &shard, &slot, &gen))
		return stateless_response(tbl, msg, src, now, false);
	if (shard != tbl->shard || slot >= tbl->capacity)
		return stateless_response(tbl, msg, src, now, true);

	struct txn *t = &tbl->slots[slot];
	uint8_t cm = msg->cseq.method_id;
	if (t->gen != gen || !txn_is_client(t))
		return stateless_response(tbl, msg, src, now, true);
	if (cm == SPL_SIP_METHOD_CANCEL && t->method == SPL_SIP_METHOD_INVITE) {
		/* §17.1.3: same branch, CSeq method tells the CANCEL apart. */
		if (t->link == TXN_NIL)
			return stateless_response(tbl, msg, src, now, true);
		t = &tbl->slots[t->link];
	} else if (cm != t->method || (t->flags & TXN_F_ZOMBIE)) {
		return stateless_response(tbl, msg, src, now, true);
	}
	if (t->state == SPL_TXN_STATE_RESERVED || t->state == SPL_TXN_STATE_TERMINATED)
		return stateless_response(tbl, msg, src, now, true);
	return txn_client_response(tbl, t, msg, src, now);
}

/*
 * A request we sent could not be delivered after all (a stream that
 * failed to connect, or closed with it queued): §17.1.4, as a send error
 * would have been. The request names its transaction by its top Via
 * branch and CSeq method, as a response would.
 */
int spl_txn_client_send_failed(struct spl_txn_table *tbl, struct spl_sipmsg *req, int err, uint64_t now)
{
	if (!req->request || spl_sipmsg_parse(req, SPL_SIPMSG_P_VIA | SPL_SIPMSG_P_CSEQ) != SPL_SIPMSG_E_NONE ||
	    req->nvias == 0)
		return -EINVAL;
	uint8_t shard;
	uint32_t slot;
	uint16_t gen;
	if (!spl_sipmsg_branch_decode(req->vias[0].branch, &shard, &slot, &gen) || shard != tbl->shard ||
	    slot >= tbl->capacity)
		return -ENOENT;
	struct txn *t = &tbl->slots[slot];
	uint8_t cm = req->cseq.method_id;
	if (t->gen != gen || !txn_is_client(t))
		return -ENOENT;
	if (cm == SPL_SIP_METHOD_CANCEL && t->method == SPL_SIP_METHOD_INVITE) {
		if (t->link == TXN_NIL)
			return -ENOENT;
		t = &tbl->slots[t->link];
	} else if (cm != t->method) {
		return -ENOENT;   /* an ACK: no transaction to tell */
	}
	if (t->state == SPL_TXN_STATE_RESERVED || t->state == SPL_TXN_STATE_TERMINATED ||
	    (t->flags & TXN_F_ZOMBIE) || t->state == SPL_TXN_STATE_COMPLETED)
		return -ENOENT;
	txn_fail_transport(tbl, t, err, now);
	return 0;
}

/* ---- timers ---- */

void txn_client_timer(struct spl_txn_table *tbl, struct txn *t, enum spl_txn_timer id, uint64_t now)
{
	uint16_t gen = t->gen;

	switch (id) {
	case SPL_TXN_TIMER_A:
	case SPL_TXN_TIMER_E:
		tbl->stats.retransmitted++;
		if (txn_send_stored(tbl, t, now) != 0)
			return;
		if (id == SPL_TXN_TIMER_A)
			t->rtx_ns *= 2;  /* Timer A doubles without a cap */
		else if (t->state == SPL_TXN_STATE_PROCEEDING)
			t->rtx_ns = tbl->t2;
		else
			t->rtx_ns = t->rtx_ns * 2 < tbl->t2 ? t->rtx_ns * 2 : tbl->t2;
		txn_timer_start(tbl, t, id, t->rtx_ns, now);
		return;
	case SPL_TXN_TIMER_B:
	case SPL_TXN_TIMER_F:
		tbl->stats.timeouts[id]++;
		tbl->ops->on_timeout(tbl->ctx, txn_handle(tbl, t), id, now);
		if (txn_alive(t, gen))
			txn_end(tbl, t);
		return;
	default:  /* D, K, M: the linger is over */
		txn_end(tbl, t);
		return;
	}
}
