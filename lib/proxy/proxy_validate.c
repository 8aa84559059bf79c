/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Request validation (RFC 3261 §16.3). Syntax (item 1) was judged by
 * spl_sipmsg_validate before the message reached us; here: URI scheme
 * (416), Max-Forwards (483, or 200 for an OPTIONS to us), loop detection
 * (482, with the §16.6 step 8 hash telling loops from spirals),
 * Proxy-Require (420 with Unsupported) and Proxy-Authorization (407/403
 * through the authorize hook, for the requests the policy covers).
 */
#include "proxy_priv.h"

/* ---- the loop-detection hash (§16.6 step 8) ---- */

static uint64_t hash_lines(uint64_t h, const struct spl_sipmsg *m, enum spl_sip_hdr_id id)
{
	for (uint16_t i = m->first[id]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next)
		h = px_hash(h, m->hdrs[i].value.p, m->hdrs[i].value.len);
	return h;
}

/*
 * Everything that decides how this proxy processes the request, as
 * received: Request-URI, From tag, Call-ID, CSeq number, the Route set,
 * and (stateful only) To tag, Proxy-Require and Proxy-Authorization. Not
 * the top Via: a looped request comes back under another hop's Via, so a
 * hash over it would never match. Not the method (§16.6 step 8: CANCEL
 * and ACK share the INVITE's branch). The stateless variant leaves out
 * what a CANCEL or a non-2xx ACK does not copy from its INVITE (To tag,
 * Proxy-Require, Proxy-Authorization), since a stateless proxy must give
 * them the INVITE's branch.
 */
uint64_t px_loop_hash(const struct spl_proxy *p, const struct spl_sipmsg *m, bool stateless)
{
	uint64_t h = p->loop_seed;
	h = px_hash(h, m->ruri.p, m->ruri.len);
	h = px_hash(h, m->from.tag.p, m->from.tag.len);
	h = px_hash(h, m->call_id.p, m->call_id.len);
	h = px_hash_u64(h, m->cseq.num);
	h = hash_lines(h, m, SPL_SIP_HDR_ROUTE);
	if (!stateless) {
		h = px_hash(h, m->to.tag.p, m->to.tag.len);
		h = hash_lines(h, m, SPL_SIP_HDR_PROXY_REQUIRE);
		h = hash_lines(h, m, SPL_SIP_HDR_PROXY_AUTHORIZATION);
	}
	return px_hash_u64(h, 0x10f);
}

uint64_t px_req_loop(const struct spl_proxy *p, struct px_req *r, bool stateless)
{
	unsigned k = stateless ? 1 : 0;
	if (!(r->loop_have & (1u << k))) {
		r->loop[k] = px_loop_hash(p, r->msg, stateless);
		r->loop_have |= (uint8_t)(1u << k);
	}
	return r->loop[k];
}

/*
 * §16.3 item 4: a Via of ours whose loop part equals this request's hash
 * is a loop; a different one a spiral. Branches: stateful
 * "z9hG4bKspl<shard><slot><gen>.<hash>", stateless "z9hG4bKsl<16 hex>.<hash>".
 * The hashes are computed only when a Via of ours is there.
 */
bool px_is_loop(struct spl_proxy *p, struct px_req *r)
{
	const struct spl_sipmsg *m = r->msg;
	bool spiral = false;
	for (unsigned i = 0; i < m->nvias; i++) {
		const struct spl_sip_via *v = &m->vias[i];
		struct spl_str b = v->branch;
		if (b.len < 7 + 2 + 1 + PX_LOOP_HEX || memcmp(b.p, SPL_SIPMSG_BRANCH_MAGIC, 7) != 0 ||
		    !px_via_is_me(p, v))
			continue;
		const char *dot = b.p + b.len - PX_LOOP_HEX - 1;
		uint64_t got, want;
		if (*dot != '.' || !px_hex16_parse(dot + 1, &got))
			continue;
		if (b.len == PX_BRANCH_MAX && memcmp(b.p + 7, SPL_SIPMSG_BRANCH_TAG, 3) == 0)
			want = px_req_loop(p, r, false);
		else if (b.len == 7 + 2 + 16 + 1 + PX_LOOP_HEX && b.p[7] == 's' && b.p[8] == 'l')
			want = px_req_loop(p, r, true);
		else
			continue;
		if (got == want)
			return true;
		spiral = true;
	}
	if (spiral)
		p->stats.spirals++;
	return false;
}

/* An OPTIONS whose Request-URI is this proxy (address or domain, no user
 * part) and that has no Route left to follow: answered here (§11, and
 * §16.3 item 3 for Max-Forwards 0), as Kamailio's options module does. */
bool px_options_to_me(const struct spl_proxy *p, const struct px_req *r)
{
	if (r->msg->method_id != SPL_SIP_METHOD_OPTIONS)
		return false;
	const struct spl_sip_uri *u = &r->ruri_uri;
	return !spl_str_present(u->user) && px_uri_is_me(p, u, true) && r->rfirst == r->rend;
}

static bool reply(struct spl_proxy *p, struct px_req *r, uint64_t server,
		  const struct spl_txn_peer *src, enum spl_proxy_local why,
		  const struct spl_str *extra, unsigned n, uint64_t now)
{
	px_local_reply(p, r->msg, server, src, why, spl_proxy_local_status(why), NULL, extra, n, now);
	return true;
}

static bool options_reply(struct spl_proxy *p, struct px_req *r, uint64_t server,
			  const struct spl_txn_peer *src, uint64_t now)
{
	struct spl_str extra[3];
	struct px_wr w = { p->line[0], PX_LINE_MAX, 0, false };
	px_puts(&w, "Supported:");
	for (unsigned i = 0; i < p->nreq_ok; i++) {
		px_puts(&w, i ? ", " : " ");
		px_put_str(&w, p->req_ok[i]);
	}
	extra[0] = SPL_STR_LIT("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, PRACK, "
			       "UPDATE, SUBSCRIBE, NOTIFY, REFER, MESSAGE, PUBLISH");
	extra[1] = (struct spl_str){ w.p, w.len };
	extra[2] = SPL_STR_LIT("Accept: */*");
	return reply(p, r, server, src, SPL_PROXY_LOCAL_OPTIONS_OK, extra, 3, now);
}

/* Option tags of every Proxy-Require line we do not support, as an
 * Unsupported line in p->line[0]. Returns true when there is any. */
static bool unsupported(struct spl_proxy *p, const struct spl_sipmsg *m, struct spl_str *line)
{
	struct px_wr w = { p->line[0], PX_LINE_MAX, 0, false };
	unsigned n = 0;
	px_puts(&w, "Unsupported: ");
	for (uint16_t i = m->first[SPL_SIP_HDR_PROXY_REQUIRE]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		struct spl_str rest = m->hdrs[i].value, tok;
		while (spl_sip_token_next(&rest, &tok) == 1) {
			bool ok = false;
			for (unsigned k = 0; k < p->nreq_ok && !ok; k++)
				ok = spl_str_ieq_str(tok, p->req_ok[k]);
			if (ok)
				continue;
			if (n++)
				px_puts(&w, ", ");
			px_put_str(&w, tok);
		}
	}
	*line = (struct spl_str){ w.p, w.len };
	return n > 0 && !w.fail;
}

static bool auth_required(const struct spl_proxy *p, const struct px_req *r)
{
	const struct spl_sipmsg *m = r->msg;
	if (p->hooks.authorize == NULL || !(p->auth_methods & (1u << m->method_id)) || r->indialog ||
	    m->method_id == SPL_SIP_METHOD_ACK || m->method_id == SPL_SIP_METHOD_CANCEL)
		return false;
	/* The registrar challenges its own REGISTERs (401). */
	if (m->method_id == SPL_SIP_METHOD_REGISTER && p->hooks.register_req != NULL && r->ours)
		return false;
	if (p->auth_any_from)
		return true;
	return px_domain_ours(p, &m->from.uri);
}

static bool route_matches_tel(const struct spl_proxy *p, const struct spl_sip_uri *u)
{
	for (unsigned i = 0; i < p->nroutes; i++) {
		const struct px_route *rt = &p->routes[i];
		if (spl_str_present(rt->domain) || !spl_str_present(rt->prefix))
			continue;
		if (u->user.len >= rt->prefix.len && memcmp(u->user.p, rt->prefix.p, rt->prefix.len) == 0)
			return true;
	}
	return false;
}

bool px_validate(struct spl_proxy *p, struct px_req *r, uint64_t server,
		 const struct spl_txn_peer *src, uint64_t now)
{
	struct spl_sipmsg *m = r->msg;

	/* 2. URI scheme */
	uint8_t sch = r->ruri_uri.scheme_id;
	if (sch != SPL_SIP_SCHEME_SIP && sch != SPL_SIP_SCHEME_SIPS &&
	    !(sch == SPL_SIP_SCHEME_TEL && route_matches_tel(p, &r->ruri_uri)))
		return reply(p, r, server, src, SPL_PROXY_LOCAL_URI_SCHEME, NULL, 0, now);

	/* 3. Max-Forwards (and OPTIONS for us, whatever its Max-Forwards) */
	if (px_options_to_me(p, r))
		return options_reply(p, r, server, src, now);
	if (m->max_forwards == 0)
		return reply(p, r, server, src, SPL_PROXY_LOCAL_TOO_MANY_HOPS, NULL, 0, now);

	/* 4. Loops */
	if (px_is_loop(p, r)) {
		p->stats.loops++;
		return reply(p, r, server, src, SPL_PROXY_LOCAL_LOOP, NULL, 0, now);
	}

	/* 5. Proxy-Require */
	struct spl_str line;
	if (m->count[SPL_SIP_HDR_PROXY_REQUIRE] && unsupported(p, m, &line))
		return reply(p, r, server, src, SPL_PROXY_LOCAL_BAD_EXTENSION, &line, 1, now);

	/* 6. Proxy-Authorization */
	if (auth_required(p, r)) {
		struct spl_proxy_reply ch = { p->line[1], PX_LINE_MAX, 0, 0 };
		int rc = p->hooks.authorize(p->hooks.ctx, m, now, &ch);
		if (rc == SPL_PROXY_AUTH_CHALLENGE) {
			struct spl_str l = { ch.buf, ch.len < ch.cap ? ch.len : ch.cap };
			return reply(p, r, server, src, SPL_PROXY_LOCAL_PROXY_AUTH, &l, l.len ? 1 : 0, now);
		}
		if (rc != SPL_PROXY_AUTH_OK)
			return reply(p, r, server, src, SPL_PROXY_LOCAL_FORBIDDEN, NULL, 0, now);
	}
	return false;
}
