/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route processing: preprocessing of a received request (§16.4: the
 * strict-router Request-URI fix, maddr, popping our own Route values),
 * the Route set as forwarded to one target with the strict-routing
 * post-processing of §16.6 step 6, and the lines this proxy inserts:
 * Record-Route (§16.6 step 4, doubled when the request changes transport
 * or interface) and Path (RFC 3327) for REGISTERs.
 *
 * The serializer can remove the top Route value itself; any other change
 * of the Route set (values pushed, several popped, the last one removed,
 * the strict-routing rotation) removes every Route line and writes the
 * new set as one line after the last header: the order of Route values
 * is what counts (§7.3.1), not where the header sits.
 */
#include "proxy_priv.h"

static int parse_value(struct spl_str raw, struct spl_sip_nameaddr *na)
{
	return spl_sip_nameaddr_parse(raw.p, raw.len, na);
}


/* Request-URI without maddr, port and transport (§16.4, maddr naming us). */
static void strip_maddr(struct px_req *r)
{
	const struct spl_sip_uri *u = &r->ruri_uri;
	struct px_wr w = { r->ruri_buf, sizeof(r->ruri_buf), 0, false };
	px_put_str(&w, u->scheme);
	px_put(&w, ":", 1);
	if (spl_str_present(u->user)) {
		px_put_str(&w, u->user);
		if (spl_str_present(u->password)) {
			px_put(&w, ":", 1);
			px_put_str(&w, u->password);
		}
		px_put(&w, "@", 1);
	}
	px_put_str(&w, u->host.text);
	struct spl_sip_param_iter it;
	struct spl_str n, v;
	spl_sip_param_iter_init(&it, u->params, ';');
	while (spl_sip_param_next(&it, &n, &v) == 1) {
		if (spl_str_ieq(n, "maddr") || spl_str_ieq(n, "transport"))
			continue;
		px_put(&w, ";", 1);
		px_put_str(&w, n);
		if (v.p) {
			px_put(&w, "=", 1);
			px_put_str(&w, v);
		}
	}
	if (spl_str_present(u->headers)) {
		px_put(&w, "?", 1);
		px_put_str(&w, u->headers);
	}
	struct spl_sip_uri nu;
	if (w.fail || spl_sip_uri_parse(w.p, w.len, &nu) != 0)
		return;
	r->ruri = (struct spl_str){ w.p, w.len };
	r->ruri_uri = nu;
	r->ruri_changed = true;
}

int px_req_prepare(struct spl_proxy *p, struct px_req *r, struct spl_sipmsg *msg, int8_t in_local)
{
	r->msg = msg;
	r->ruri = msg->ruri;
	r->ruri_uri = msg->ruri_uri;
	r->ruri_changed = false;
	r->indialog = msg->to.tag.p != NULL;
	r->in_local = in_local;
	r->nroutes = 0;
	/* Whether the first two values are ours (and r2), judged while they
	 * are parsed anyway: §16.4 pops at most those two. */
	bool me[2] = { false, false }, r2[2] = { false, false };
	for (uint16_t i = msg->first[SPL_SIP_HDR_ROUTE]; i != SPL_SIPMSG_NONE; i = msg->hdrs[i].next) {
		struct spl_str rest = msg->hdrs[i].value;
		struct spl_sip_nameaddr na;
		int rc;
		while ((rc = spl_sip_nameaddr_next(&rest, &na)) == 1) {
			if (r->nroutes == PX_MAX_ROUTES)
				return SPL_PROXY_LOCAL_BAD_ROUTE;
			if (r->nroutes < 2 && px_uri_is_me(p, &na.uri, true)) {
				struct spl_str v;
				me[r->nroutes] = true;
				r2[r->nroutes] = spl_sip_param_find(na.uri.params, ';', "r2", &v);
			}
			r->routes[r->nroutes++] = na.raw;
		}
		if (rc < 0)
			return SPL_PROXY_LOCAL_BAD_ROUTE;
	}
	r->rfirst = 0;
	r->rend = r->nroutes;
	r->loop_have = 0;

	const struct spl_sip_uri *u = &r->ruri_uri;
	bool sip = u->scheme_id == SPL_SIP_SCHEME_SIP || u->scheme_id == SPL_SIP_SCHEME_SIPS;

	/* A Request-URI we put in a Record-Route (ours, no user, lr): the
	 * previous hop was a strict router. The real Request-URI is the last
	 * Route value. */
	if (sip && r->rend > 0 && u->lr && !spl_str_present(u->user) && px_uri_is_me(p, u, false)) {
		struct spl_sip_nameaddr na;
		if (parse_value(r->routes[r->rend - 1], &na) != 0)
			return SPL_PROXY_LOCAL_BAD_ROUTE;
		r->ruri = na.uri_str;
		r->ruri_uri = na.uri;
		r->ruri_changed = true;
		r->rend--;
		u = &r->ruri_uri;
		sip = u->scheme_id == SPL_SIP_SCHEME_SIP || u->scheme_id == SPL_SIP_SCHEME_SIPS;
	}

	/* maddr naming us, received on the port and transport the URI
	 * indicates: as if maddr, port and transport were not there. */
	if (sip && spl_str_present(u->maddr) && u->maddr.len) {
		struct spl_sip_host mh;
		if (spl_sip_host_parse(u->maddr.p, u->maddr.len, &mh) == 0 && in_local >= 0) {
			const struct px_addr *a = &p->addrs[in_local];
			bool me = px_addr_match(p, &mh, px_uri_port(u)) >= 0;
			if (!me && mh.kind == SPL_SIP_HOST_NAME)
				for (unsigned i = 0; i < p->ndomains && !me; i++)
					me = spl_str_ieq_str(mh.text, (struct spl_str){ p->domains[i].name,
											 p->domains[i].len });
			if (me && a->port == px_uri_port(u) && a->transport == px_uri_transport(u))
				strip_maddr(r);
		}
	}

	/* Our own value on top of the Route set: this route node is reached.
	 * A value we record-routed twice (r2) takes its twin with it. */
	if (r->rend > 0 && me[0]) {
		r->rfirst++;
		if (r2[0] && r->rend > 1 && me[1])
			r->rfirst++;
	}
	r->ours = px_domain_ours(p, &r->ruri_uri);
	return 0;
}

/* ---- the Route set of one forwarded copy ---- */

int px_routeset_build(const struct px_req *r, const struct px_target *t, struct px_routeset *rs,
		      char *ruri_buf, uint32_t cap)
{
	struct spl_str target_uri = t->uri, push = t->push;
	rs->n = 0;
	rs->strict = false;
	rs->ruri = target_uri;
	if (spl_str_present(push) && push.len) {
		struct spl_str rest = push;
		struct spl_sip_nameaddr na;
		int rc;
		while ((rc = spl_sip_nameaddr_next(&rest, &na)) == 1) {
			if (rs->n == PX_MAX_PUSH)
				return -1;
			rs->v[rs->n++] = na.raw;
		}
		if (rc < 0)
			return -1;
	}
	rs->npush = rs->n;
	for (uint16_t i = r->rfirst; i < r->rend; i++)
		rs->v[rs->n++] = r->routes[i];

	if (rs->n == 0) {
		if (t->has_puri) {
			rs->next = t->puri;
			return 0;
		}
		return spl_sip_uri_parse(target_uri.p, target_uri.len, &rs->next) == 0 ? 0 : -1;
	}

	struct spl_sip_nameaddr top;
	if (parse_value(rs->v[0], &top) != 0)
		return -1;
	if (top.uri.lr || (top.uri.scheme_id != SPL_SIP_SCHEME_SIP &&
			   top.uri.scheme_id != SPL_SIP_SCHEME_SIPS)) {
		rs->next = top.uri;
		return 0;
	}
	/* §16.6 step 6: a strict router next. The Request-URI goes to the end
	 * of the set; the first value becomes the Request-URI. */
	struct px_wr w = { ruri_buf, cap, 0, false };
	px_put(&w, "<", 1);
	px_put_str(&w, target_uri);
	px_put(&w, ">", 1);
	if (w.fail)
		return -1;
	memmove(&rs->v[0], &rs->v[1], (size_t)(rs->n - 1) * sizeof(rs->v[0]));
	rs->v[rs->n - 1] = (struct spl_str){ w.p, w.len };
	if (rs->npush)
		rs->npush--;
	rs->ruri = top.uri_str;
	rs->next = top.uri;
	rs->strict = true;
	return 0;
}

int px_routeset_edit(const struct px_req *r, const struct px_routeset *rs,
		     struct spl_sipmsg_edits *e, char *buf, uint32_t cap)
{
	if (rs->npush == 0 && !rs->strict && r->rend == r->nroutes && r->rfirst <= 1) {
		e->remove_top_route = r->rfirst == 1;
		return 0;
	}
	const struct spl_sipmsg *m = r->msg;
	for (uint16_t i = m->first[SPL_SIP_HDR_ROUTE]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next)
		spl_sipmsg_edits_remove(e, i);
	if (rs->n == 0)
		return 0;
	struct px_wr w = { buf, cap, 0, false };
	px_puts(&w, "Route: ");
	for (uint16_t i = 0; i < rs->n; i++) {
		if (i)
			px_put(&w, ", ", 2);
		px_put_str(&w, rs->v[i]);
	}
	if (w.fail || e->n_append >= SPL_SIPMSG_MAX_EDIT_LINES)
		return -1;
	e->append[e->n_append++] = (struct spl_str){ w.p, w.len };
	return 0;
}

/* ---- Record-Route and Path ---- */

bool px_rr_wanted(const struct spl_proxy *p, const struct px_req *r)
{
	if (!p->record_route)
		return false;
	switch (r->msg->method_id) {
	case SPL_SIP_METHOD_INVITE:
	case SPL_SIP_METHOD_SUBSCRIBE:
	case SPL_SIP_METHOD_REFER:
	case SPL_SIP_METHOD_OTHER:   /* §16.6 step 4: may have dialog semantics */
		return true;
	default:
		return false;
	}
}

static void put_uri(struct px_wr *w, const struct px_addr *a, bool sips, bool r2)
{
	px_puts(w, sips ? "<sips:" : "<sip:");
	px_put(w, a->hostport, a->hostport_len);
	if (a->transport != SPL_SIP_TRANSPORT_UDP &&
	    !(sips && a->transport == SPL_SIP_TRANSPORT_TLS)) {
		px_puts(w, ";transport=");
		px_puts(w, px_transport_lower(a->transport));
	}
	px_puts(w, ";lr");
	if (r2)
		px_puts(w, ";r2=on");
	px_put(w, ">", 1);
}

static struct spl_str rr_line(struct spl_proxy *p, unsigned k, const struct px_addr *a, bool sips,
			      bool r2)
{
	struct px_wr w = { p->rline[k], sizeof(p->rline[k]), 0, false };
	px_puts(&w, "Record-Route: ");
	put_uri(&w, a, sips, r2);
	return (struct spl_str){ w.p, w.fail ? 0 : w.len };
}

/*
 * One value naming the address the request came in on, or two when it
 * leaves on another own address (transport or interface change): the top
 * one for the downstream side (the UAS routes to it), the other for the
 * upstream side (the UAC, reading the set backwards, meets it first). Both
 * carry r2=on so that §16.4 pops them together, as Kamailio's rr module
 * does; with both present, responses need no rewriting (§16.7 step 8).
 */
unsigned px_rr_lines(struct spl_proxy *p, int in_local, int out_local, bool sips,
		     struct spl_sipmsg_edits *e)
{
	int in = in_local >= 0 ? in_local : out_local;
	if (in == out_local) {
		e->rr[0] = rr_line(p, 0, &p->addrs[in], sips, false);
		e->n_rr = 1;
	} else {
		e->rr[0] = rr_line(p, 0, &p->addrs[out_local], sips, true);
		e->rr[1] = rr_line(p, 1, &p->addrs[in], sips, true);
		e->n_rr = 2;
	}
	return e->n_rr;
}

int px_path_edit(struct spl_proxy *p, const struct spl_sipmsg *m, int out_local,
		 struct spl_sipmsg_edits *e, char *buf, uint32_t cap)
{
	struct px_wr w = { buf, cap, 0, false };
	px_puts(&w, "Path: ");
	put_uri(&w, &p->addrs[out_local], false, false);
	/* Our value goes on top: the existing Path lines are folded into the
	 * one line, after it. */
	for (uint16_t i = m->first[SPL_SIP_HDR_PATH]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		px_put(&w, ", ", 2);
		px_put_str(&w, m->hdrs[i].value);
		spl_sipmsg_edits_remove(e, i);
	}
	if (w.fail || e->n_append >= SPL_SIPMSG_MAX_EDIT_LINES)
		return -1;
	e->append[e->n_append++] = (struct spl_str){ w.p, w.len };
	return 0;
}
