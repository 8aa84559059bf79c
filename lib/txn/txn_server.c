/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Server transactions (RFC 3261 §17.2, RFC 6026 §7.1): the INVITE machine
 * (Proceeding, Completed, Confirmed, Accepted; timers G, H, I, L) and the
 * non-INVITE machine (Trying, Proceeding, Completed; timer J).
 *
 * The TU is expected to send 100 Trying for an INVITE itself (a stateful
 * proxy does so at once, §16.2); the layer does not build responses.
 */
#include "txn_priv.h"

struct txn *txn_server_create(struct spl_txn_table *tbl, const struct txn_key *k,
			      struct spl_sipmsg *msg, void *rx_owner,
			      const struct spl_txn_peer *src, uint64_t now, int *rc)
{
	struct txn *t = txn_alloc(tbl);
	if (t == NULL) {
		tbl->stats.table_full++;
		*rc = -ENOSPC;
		return NULL;
	}
	bool inv = msg->method_id == SPL_SIP_METHOD_INVITE;
	/* Reserved until it is in the hash, so that failing costs nothing. */
	txn_init(tbl, t, inv ? SPL_TXN_KIND_SERVER_INVITE : SPL_TXN_KIND_SERVER_NON_INVITE,
		 SPL_TXN_STATE_RESERVED);
	t->fp = k->fp;
	if (TXN_UNLIKELY(!txn_hash_insert(tbl, t))) {
		/* Probing bound reached: as good as full (never seen at the
		 * sized load, but the hash is never grown either). */
		txn_end(tbl, t);
		tbl->stats.table_full++;
		*rc = -ENOSPC;
		return NULL;
	}
	txn_set_state(tbl, t, inv ? SPL_TXN_STATE_PROCEEDING : SPL_TXN_STATE_TRYING);
	t->method = msg->method_id;
	t->mclass = k->mclass;
	t->peer = *src;
	t->reliable = src->reliable;
	if (k->rfc2543) {
		t->flags |= TXN_F_2543;
		memcpy(t->key, &k->fp2, 8);
		memcpy(t->key + 8, &k->totag, 8);
	} else if (k->inline_ok) {
		const struct spl_sip_via *v = k->via;
		t->flags |= TXN_F_INLINE;
		t->key_branch = (uint8_t)v->branch.len;
		t->key_host = k->host_len;
		t->key_port = v->port;
		memcpy(t->key, v->branch.p, v->branch.len);
		txn_canon_host(&v->host, t->key + v->branch.len, TXN_KEY_INLINE - v->branch.len);
	}
	if ((k->rfc2543 || !k->inline_ok) && rx_owner != NULL && tbl->ops->retain != NULL) {
		tbl->ops->retain(tbl->ctx, rx_owner);
		t->req = (struct spl_txn_buf){ msg->buf, msg->buf_len, rx_owner };
		t->flags |= TXN_F_RETAINED;
		tbl->stats.retained++;
	}
	tbl->stats.created[t->kind]++;
	*rc = SPL_TXN_RX_NEW;
	tbl->ops->on_request(tbl->ctx, txn_handle(tbl, t), SPL_TXN_REQ_NEW, msg, src, now);
	return t;
}

/* Resend the last response for a retransmitted request. */
static int resend(struct spl_txn_table *tbl, struct txn *t, uint64_t now)
{
	tbl->stats.absorbed++;
	if (t->sent.data != NULL) {
		tbl->stats.resent++;
		txn_send_stored(tbl, t, now);
	}
	return SPL_TXN_RX_ABSORBED;
}

static int absorb(struct spl_txn_table *tbl)
{
	tbl->stats.absorbed++;
	return SPL_TXN_RX_ABSORBED;
}

static void linger(struct spl_txn_table *tbl, struct txn *t, enum spl_txn_timer id,
		   uint64_t delay, uint64_t now)
{
	if (delay == 0 || !txn_timer_start(tbl, t, id, delay, now))
		txn_end(tbl, t);
}

int txn_server_request(struct spl_txn_table *tbl, struct txn *t, struct spl_sipmsg *msg,
		       const struct spl_txn_peer *src, uint64_t now)
{
	if (t->kind == SPL_TXN_KIND_SERVER_NON_INVITE)
		return t->state == SPL_TXN_STATE_TRYING ? absorb(tbl) : resend(tbl, t, now);

	if (msg->method_id != SPL_SIP_METHOD_ACK) {
		/* INVITE retransmission: Proceeding and Completed answer it
		 * with the last response; Confirmed and Accepted (RFC 6026)
		 * just absorb it — 2xx retransmission is the TU's job. */
		if (t->state == SPL_TXN_STATE_PROCEEDING || t->state == SPL_TXN_STATE_COMPLETED)
			return resend(tbl, t, now);
		return absorb(tbl);
	}
	switch (t->state) {
	case SPL_TXN_STATE_COMPLETED:
		/* ACK for our non-2xx: stop retransmitting, absorb the rest. */
		txn_timers_stop(tbl, t);
		txn_set_state(tbl, t, SPL_TXN_STATE_CONFIRMED);
		linger(tbl, t, SPL_TXN_TIMER_I, t->reliable ? 0 : tbl->t4, now);
		return SPL_TXN_RX_ABSORBED;
	case SPL_TXN_STATE_ACCEPTED:
		/* RFC 6026 §7.1: an ACK in Accepted is for the 2xx: to the TU. */
		tbl->stats.stateless_requests++;
		tbl->ops->on_request(tbl->ctx, SPL_TXN_NONE, SPL_TXN_REQ_STATELESS, msg, src, now);
		return SPL_TXN_RX_STATELESS;
	default:  /* Confirmed: retransmitted ACK; Proceeding: stray */
		return absorb(tbl);
	}
}

int spl_txn_server_respond(struct spl_txn_table *tbl, uint64_t handle, uint16_t status,
			   const struct spl_txn_buf *rsp, uint64_t now)
{
	struct txn *t = txn_get(tbl, handle);
	struct spl_txn_buf b = *rsp;
	if (t == NULL || txn_is_client(t)) {
		txn_release_buf(tbl, &b);
		return t == NULL ? -ESTALE : -EINVAL;
	}
	if (status < 100 || status > 699) {
		txn_release_buf(tbl, &b);
		return -EINVAL;
	}
	uint16_t gen = t->gen;
	int rc;

	if (t->kind == SPL_TXN_KIND_SERVER_INVITE) {
		if (t->state == SPL_TXN_STATE_ACCEPTED && status >= 200 && status < 300) {
			/* The TU retransmits its 2xx through us (RFC 6026). */
			txn_store(tbl, t, &b);
			rc = txn_send_stored(tbl, t, now);
			if (txn_alive(t, gen))
				txn_release_buf(tbl, &t->sent);
			return rc;
		}
		if (t->state != SPL_TXN_STATE_PROCEEDING) {
			txn_release_buf(tbl, &b);
			return -EALREADY;
		}
		txn_store(tbl, t, &b);
		t->status = status;
		if (status < 200)
			return txn_send_stored(tbl, t, now);
		if (status < 300) {
			txn_set_state(tbl, t, SPL_TXN_STATE_ACCEPTED);
			rc = txn_send_stored(tbl, t, now);
			if (txn_alive(t, gen)) {
				/* Accepted never resends (retransmitted INVITEs are
				 * absorbed, 2xx retransmission is the TU's): give the
				 * bytes back now rather than holding them 64*T1. */
				txn_release_buf(tbl, &t->sent);
				linger(tbl, t, SPL_TXN_TIMER_L, 64 * tbl->t1, now);
			}
			return rc;
		}
		txn_set_state(tbl, t, SPL_TXN_STATE_COMPLETED);
		if (!txn_timer_start(tbl, t, SPL_TXN_TIMER_H, 64 * tbl->t1, now)) {
			/* Cannot wait for the ACK: send once and end. */
			rc = txn_send_stored(tbl, t, now);
			if (txn_alive(t, gen))
				txn_end(tbl, t);
			return rc;
		}
		if (!t->reliable) {
			t->rtx_ns = tbl->t1;
			txn_timer_start(tbl, t, SPL_TXN_TIMER_G, t->rtx_ns, now);
		}
		return txn_send_stored(tbl, t, now);
	}

	if (t->state == SPL_TXN_STATE_COMPLETED) {
		txn_release_buf(tbl, &b);
		return -EALREADY;
	}
	txn_store(tbl, t, &b);
	t->status = status;
	if (status < 200) {
		if (t->state == SPL_TXN_STATE_TRYING)
			txn_set_state(tbl, t, SPL_TXN_STATE_PROCEEDING);
		return txn_send_stored(tbl, t, now);
	}
	txn_set_state(tbl, t, SPL_TXN_STATE_COMPLETED);
	rc = txn_send_stored(tbl, t, now);
	if (txn_alive(t, gen))
		linger(tbl, t, SPL_TXN_TIMER_J, t->reliable ? 0 : 64 * tbl->t1, now);
	return rc;
}

void txn_server_timer(struct spl_txn_table *tbl, struct txn *t, enum spl_txn_timer id, uint64_t now)
{
	uint16_t gen = t->gen;

	switch (id) {
	case SPL_TXN_TIMER_G:
		tbl->stats.retransmitted++;
		if (txn_send_stored(tbl, t, now) != 0)
			return;
		t->rtx_ns = t->rtx_ns * 2 < tbl->t2 ? t->rtx_ns * 2 : tbl->t2;
		txn_timer_start(tbl, t, SPL_TXN_TIMER_G, t->rtx_ns, now);
		return;
	case SPL_TXN_TIMER_H:
		/* No ACK: the transaction failed (§17.2.1). */
		tbl->stats.timeouts[id]++;
		tbl->ops->on_timeout(tbl->ctx, txn_handle(tbl, t), id, now);
		if (txn_alive(t, gen))
			txn_end(tbl, t);
		return;
	default:  /* I, J, L */
		txn_end(tbl, t);
		return;
	}
}
