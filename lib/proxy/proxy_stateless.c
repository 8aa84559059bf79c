/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless forwarding (RFC 3261 §16.11): requests on a stateless route,
 * CANCELs that match nothing, ACKs (for 2xx, or that match no server
 * transaction), and responses that match no client transaction.
 *
 * The branch is a function of what a retransmission keeps (§16.11): a
 * hash of the received top branch when it has the magic cookie, else of
 * the RFC 2543 fields (top Via, From tag, Call-ID, CSeq number,
 * Request-URI; not the To tag, so that the ACK of a non-2xx and a CANCEL
 * map to their INVITE's branch), then "." and the loop hash of the fields
 * a CANCEL shares with its INVITE:
 *     z9hG4bKsl<16 hex>.<16 hex>
 * The "sl" tag never decodes as a stateful branch of ours, so responses to
 * it find no client transaction and come back here to be forwarded by Via.
 */
#include "proxy_priv.h"

#define SL_SEED UINT64_C(0x535441544c455353)

static uint32_t sl_branch(struct spl_proxy *p, struct px_req *r, char *out)
{
	const struct spl_sipmsg *m = r->msg;
	const struct spl_sip_via *v = &m->vias[0];
	uint64_t h = p->loop_seed ^ SL_SEED;
	if (v->branch.len >= 7 && memcmp(v->branch.p, SPL_SIPMSG_BRANCH_MAGIC, 7) == 0) {
		h = px_hash(h, v->branch.p, v->branch.len);
	} else {
		h = px_hash(h, v->raw.p, v->raw.len);
		h = px_hash(h, m->from.tag.p, m->from.tag.len);
		h = px_hash(h, m->call_id.p, m->call_id.len);
		h = px_hash_u64(h, m->cseq.num);
		h = px_hash(h, m->ruri.p, m->ruri.len);
	}
	memcpy(out, "z9hG4bKsl", 9);
	px_hex16(out + 9, h);
	out[25] = '.';
	px_hex16(out + 26, px_req_loop(p, r, true));
	return 26 + PX_LOOP_HEX;
}

void px_stateless_request(struct spl_proxy *p, struct px_req *r, struct px_target *t,
			  const struct spl_txn_peer *src, uint64_t now)
{
	(void)now;
	const struct spl_sipmsg *m = r->msg;
	r->src = src;
	if (t->hop >= t->nhops) {
		px_drop(p, m->method_id == SPL_SIP_METHOD_ACK ? SPL_PROXY_DROP_ACK_UNROUTABLE
							      : SPL_PROXY_DROP_SEND_ERROR);
		return;
	}
	/* §16.11: one target, and the same choice for every retransmission:
	 * the first hop, never a failover. */
	const struct spl_txn_peer *hop = &t->hops[0];
	char branch[64];
	uint32_t bl = sl_branch(p, r, branch);
	struct spl_txn_buf b;
	if (px_build_request(p, r, t, hop, branch, bl, &b) != 0)
		return;
	p->stats.stateless_requests++;
	p->stats.req_out[m->method_id]++;
	px_send_release(p, hop, &b);
}

void px_stateless_response(struct spl_proxy *p, struct spl_sipmsg *msg, uint64_t now)
{
	(void)now;
	if (msg->nvias == 0 || !px_via_is_me(p, &msg->vias[0])) {
		px_drop(p, SPL_PROXY_DROP_RSP_NOT_OURS);
		return;
	}
	if (msg->via_total < 2) {
		px_drop(p, SPL_PROXY_DROP_RSP_FOR_US);
		return;
	}
	struct spl_txn_peer dst;
	if (px_via_peer(p, &msg->vias[1], NULL, &dst) != 0) {
		px_drop(p, SPL_PROXY_DROP_RSP_UNROUTABLE);
		return;
	}
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.remove_top_via = true;
	struct spl_txn_buf b;
	if (!px_alloc(p, msg->len + 64, &b))
		return;
	int n = spl_sipmsg_serialize(msg, &e, (char *)(uintptr_t)b.data, msg->len + 64);
	if (n < 0) {
		px_release(p, &b);
		px_drop(p, SPL_PROXY_DROP_TOO_BIG);
		return;
	}
	b.len = (uint32_t)n;
	p->stats.stateless_responses++;
	p->stats.rsp_out[msg->status / 100]++;
	px_send_release(p, &dst, &b);
}

void px_ack(struct spl_proxy *p, struct spl_sipmsg *msg, const struct spl_txn_peer *src,
	    uint64_t now)
{
	/* The ACK for a response we generated statelessly (overload, a
	 * rejected verdict): ours by its To tag, as Kamailio's sl does. */
	if (msg->to.tag.len == PX_TAG_LEN && memcmp(msg->to.tag.p, "spl", 3) == 0) {
		char tag[PX_TAG_LEN];
		px_tag(msg, p->loop_seed, tag);
		if (memcmp(msg->to.tag.p, tag, PX_TAG_LEN) == 0) {
			px_drop(p, SPL_PROXY_DROP_ACK_LOCAL);
			return;
		}
	}
	if (msg->max_forwards == 0) {
		px_drop(p, SPL_PROXY_DROP_ACK_MAXFWD);
		return;
	}
	struct px_req *r = &p->req;
	if (px_req_prepare(p, r, msg, p->cur_local) != 0) {
		px_drop(p, SPL_PROXY_DROP_ACK_UNROUTABLE);
		return;
	}
	r->src = src;
	if (px_is_loop(p, r)) {
		p->stats.loops++;
		px_drop(p, SPL_PROXY_DROP_ACK_LOOP);
		return;
	}
	if (px_targets(p, r, now) <= 0) {
		px_drop(p, SPL_PROXY_DROP_ACK_UNROUTABLE);
		return;
	}
	px_stateless_request(p, r, &p->tset[0], src, now);
}
