/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Request forwarding (RFC 3261 §16.6), one copy per target:
 *   1 copy          spl_sipmsg_serialize() writes the copy with the edits
 *   2 Request-URI   the target's URI (or, step 6, the strict router's)
 *   3 Max-Forwards  decremented, or 70 inserted
 *   4 Record-Route  px_rr_lines(), doubled on a change of transport/interface
 *   5 other fields  Path for a REGISTER forwarded to a registrar behind us
 *   6 Route         pushed values, strict-routing rotation (px_routeset_*)
 *   7 next hop      the target's hops (numeric, resolved, or by policy)
 *   8 Via           our branch: spl_txn_client_reserve() + "." + loop hash;
 *                   rport for UDP; the received Via gets received/rport
 *   9 Content-Length  rewritten or inserted by the serializer
 *  10 forward       spl_txn_client_start()
 *  11 Timer C       INVITE only
 */
#include "proxy_priv.h"

/* The upstream Via with received (and rport) as the receiving transport
 * adds them (§18.2.1, RFC 3581 §4); false when it needs neither. */
static bool upstream_via(const struct spl_sip_via *v, const struct spl_txn_peer *src,
			 struct px_wr *w)
{
	bool want_rport = spl_str_present(v->rport) && v->rport.len == 0;
	bool same_ip = (v->host.kind == SPL_SIP_HOST_IPV4 && src->family != 10 &&
			memcmp(v->host.ip, src->addr, 4) == 0) ||
		       (v->host.kind == SPL_SIP_HOST_IPV6 && src->family == 10 &&
			memcmp(v->host.ip, src->addr, 16) == 0);
	if (same_ip && !want_rport)
		return false;
	px_put_str(w, v->proto_name);
	px_put(w, "/", 1);
	px_put_str(w, v->proto_version);
	px_put(w, "/", 1);
	px_put_str(w, v->transport);
	px_put(w, " ", 1);
	px_put_str(w, v->host.text);
	if (spl_str_present(v->port_str)) {
		px_put(w, ":", 1);
		px_put_str(w, v->port_str);
	}
	struct spl_sip_param_iter it;
	struct spl_str n, val;
	spl_sip_param_iter_init(&it, v->params, ';');
	while (spl_sip_param_next(&it, &n, &val) == 1) {
		if (spl_str_ieq(n, "received") || (want_rport && spl_str_ieq(n, "rport")))
			continue;
		px_put(w, ";", 1);
		px_put_str(w, n);
		if (val.p) {
			px_put(w, "=", 1);
			px_put_str(w, val);
		}
	}
	char ip[64];
	uint32_t il = px_peer_ip_text(src, ip, sizeof(ip), false);
	px_puts(w, ";received=");
	px_put(w, ip, il);
	if (want_rport) {
		px_puts(w, ";rport=");
		px_put_uint(w, src->port);
	}
	return true;
}

static struct spl_str via_line(struct spl_proxy *p, const struct px_addr *a, uint8_t transport,
			       const char *branch, uint32_t blen, const struct spl_sipmsg *m,
			       const struct spl_txn_peer *src, struct spl_sipmsg_edits *e)
{
	struct px_wr w = { p->line[2], PX_LINE_MAX, 0, false };
	px_puts(&w, "Via: SIP/2.0/");
	px_puts(&w, px_transport_name(transport));
	px_put(&w, " ", 1);
	px_put(&w, a->hostport, a->hostport_len);
	px_puts(&w, ";branch=");
	px_put(&w, branch, blen);
	if (transport == SPL_SIP_TRANSPORT_UDP)
		px_puts(&w, ";rport");
	if (src != NULL && m->nvias > 0) {
		uint32_t mark = w.len;
		px_put(&w, ", ", 2);
		if (upstream_via(&m->vias[0], src, &w))
			e->remove_top_via = true;
		else
			w.len = mark;
	}
	return (struct spl_str){ w.p, w.fail ? 0 : w.len };
}

int px_build_request(struct spl_proxy *p, const struct px_req *r, const struct px_target *t,
		     const struct spl_txn_peer *hop, const char *branch, uint32_t branch_len,
		     struct spl_txn_buf *b)
{
	const struct spl_sipmsg *m = r->msg;
	struct spl_sipmsg_edits e;
	struct px_routeset rs;

	spl_sipmsg_edits_init(&e);
	if (px_routeset_build(r, t, &rs, p->line[3], PX_LINE_MAX) != 0)
		return -EINVAL;
	if (rs.ruri.p != m->ruri.p || rs.ruri.len != m->ruri.len)
		e.ruri = rs.ruri;
	e.max_forwards = SPL_SIPMSG_MF_DECREMENT;

	int out = px_local_for(p, hop->transport, t->local);
	if (px_rr_wanted(p, r)) {
		bool sips = r->ruri_uri.scheme_id == SPL_SIP_SCHEME_SIPS ||
			    rs.next.scheme_id == SPL_SIP_SCHEME_SIPS;
		px_rr_lines(p, r->in_local, out, sips, &e);
	}
	if (m->method_id == SPL_SIP_METHOD_REGISTER && p->add_path &&
	    px_path_edit(p, m, out, &e, p->line[1], PX_LINE_MAX) != 0)
		return -E2BIG;
	if (px_routeset_edit(r, &rs, &e, p->line[0], PX_LINE_MAX) != 0)
		return -E2BIG;
	e.via = via_line(p, &p->addrs[out], hop->transport, branch, branch_len, m, r->src, &e);
	if (e.via.len == 0)
		return -E2BIG;

	uint32_t extra = e.via.len + e.ruri.len + 64;
	for (unsigned k = 0; k < e.n_rr; k++)
		extra += e.rr[k].len + 2;
	for (unsigned k = 0; k < e.n_append; k++)
		extra += e.append[k].len + 2;
	uint32_t cap = m->len + extra;
	if (cap > p->max_msg) {
		px_drop(p, SPL_PROXY_DROP_TOO_BIG);
		return -E2BIG;
	}
	if (!px_alloc(p, cap, b))
		return -ENOBUFS;
	int n = spl_sipmsg_serialize(m, &e, (char *)(uintptr_t)b->data, cap);
	if (n < 0) {
		px_release(p, b);
		px_drop(p, SPL_PROXY_DROP_TOO_BIG);
		return -E2BIG;
	}
	b->len = (uint32_t)n;
	return 0;
}

static void branch_fail(struct px_branch *b, uint16_t status)
{
	b->flags |= PX_B_FINAL | PX_B_SYNTH;
	b->status = status;
}

int px_branch_start(struct spl_proxy *p, struct px_ctx *c, struct px_req *r,
		    struct px_target *t, uint8_t target_idx, uint64_t now)
{
	if (c->nbr >= p->max_branches)
		return -ENOSPC;
	unsigned bi = c->nbr++;
	struct px_branch *b = &c->br[bi];
	memset(b, 0, sizeof(*b));
	b->client = SPL_TXN_NONE;
	b->target = target_idx;
	b->group = t->group;

	if (t->hop >= t->nhops) {
		/* Nothing to send to: as a transport error would (§16.9). */
		branch_fail(b, 503);
		return -EHOSTUNREACH;
	}
	const struct spl_txn_peer *hop = &t->hops[t->hop++];
	char branch[PX_BRANCH_MAX];
	uint64_t h;
	int rc = spl_txn_client_reserve(p->tbl, (enum spl_sip_method)c->method, hop, c, bi, &h, branch);
	if (rc != 0) {
		if (rc == -ENOSPC)
			p->stats.overload_503++;
		branch_fail(b, 503);
		return rc;
	}
	branch[SPL_SIPMSG_BRANCH_LEN] = '.';
	px_hex16(branch + SPL_SIPMSG_BRANCH_LEN + 1, px_req_loop(p, r, false));

	struct spl_txn_buf buf;
	rc = px_build_request(p, r, t, hop, branch, PX_BRANCH_MAX, &buf);
	if (rc != 0) {
		spl_txn_client_abandon(p->tbl, h);
		branch_fail(b, rc == -ENOBUFS ? 503 : 500);
		return rc;
	}
	b->client = h;
	b->flags |= PX_B_LIVE;
	c->refs++;
	p->stats.branches++;
	p->stats.req_out[c->method]++;
	rc = spl_txn_client_start(p->tbl, h, &buf, now);
	if (rc != 0) {
		if (b->flags & PX_B_LIVE) {
			/* Refused before sending (no lifetime timer): no
			 * callbacks came, so the branch is ours to close. */
			b->flags &= (uint8_t)~PX_B_LIVE;
			b->client = SPL_TXN_NONE;
			branch_fail(b, 503);
			px_ctx_put(p, c);
		}
		return 0;
	}
	if (c->method == SPL_SIP_METHOD_INVITE && !(b->flags & PX_B_FINAL))
		px_branch_timer(p, c, bi, PX_TK_C, p->timer_c, now);
	return 0;
}

struct px_req *px_ctx_request(struct spl_proxy *p, struct px_ctx *c)
{
	struct spl_sipmsg *m = &p->scratch;
	if (c->req.data == NULL ||
	    spl_sipmsg_scan(m, c->req.data, c->req.len) != SPL_SIPMSG_E_NONE ||
	    spl_sipmsg_parse(m, SPL_SIPMSG_P_PROXY) != SPL_SIPMSG_E_NONE)
		return NULL;
	if (px_req_prepare(p, &p->creq, m, c->in_local) != 0)
		return NULL;
	p->creq.src = &c->src;
	return &p->creq;
}
