/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Request targets (RFC 3261 §16.5) and forking sets.
 *
 * A Request-URI outside our domains (or with maddr, or in a dialog) is the
 * only target, forwarded as is; a static route by domain may name its next
 * hops. Inside our domains the locate hook gives the bindings; without any
 * binding the static routes (by user prefix, then by domain) apply; then
 * 404 (unknown user) or 480 (known, no binding now).
 *
 * Bindings are ordered by q (highest first, stable for equal q) and
 * grouped: equal q forks in parallel, groups are tried in sequence
 * (§16.6, "a common ordering mechanism"). Targets that may be needed later
 * (further groups, further next hops for failover) are copied into the
 * context's ext block.
 */
#include "proxy_priv.h"

/* ---- static routes ---- */

static bool prefix_of(struct spl_str prefix, struct spl_str user)
{
	return user.p != NULL && user.len >= prefix.len && memcmp(user.p, prefix.p, prefix.len) == 0;
}

/* The most specific route for a URI: longest user prefix, then a route
 * naming the domain over one for any domain, then configuration order. */
static int route_match(const struct spl_proxy *p, const struct spl_sip_uri *u)
{
	int best = -1;
	uint32_t best_score = 0;
	bool tel = u->scheme_id == SPL_SIP_SCHEME_TEL;
	for (unsigned i = 0; i < p->nroutes; i++) {
		const struct px_route *rt = &p->routes[i];
		if (spl_str_present(rt->domain)) {
			if (tel || u->host.kind == SPL_SIP_HOST_NONE ||
			    !spl_str_ieq_str(rt->domain, u->host.text))
				continue;
		} else if (tel && !spl_str_present(rt->prefix)) {
			continue;
		}
		if (spl_str_present(rt->prefix) && !prefix_of(rt->prefix, u->user))
			continue;
		uint32_t score = 1 + (spl_str_present(rt->prefix) ? 2 * (rt->prefix.len + 1) : 0) +
				 (spl_str_present(rt->domain) ? 1 : 0);
		if (score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

static void target_init(struct px_target *t, struct spl_str uri)
{
	memset(t, 0, offsetof(struct px_target, puri));
	t->uri = uri;
	t->q = 1000;
	t->local = -1;
}

/* The request's own Request-URI as the target: already parsed. */
static void target_ruri(struct px_target *t, const struct px_req *r)
{
	target_init(t, r->ruri);
	t->puri = r->ruri_uri;
	t->has_puri = true;
}

static void target_static(struct spl_proxy *p, const struct px_route *rt, struct px_target *t)
{
	bool nxname = true;   /* every hop's name does not exist */
	t->flags |= PX_T_FIXED | (rt->stateless ? PX_T_STATELESS : 0);
	for (unsigned h = 0; h < rt->nhops && t->nhops < SPL_PROXY_MAX_HOPS; h++) {
		unsigned n = 0;
		int rc = px_uri_peers(p, &rt->hops[h].uri, false, &t->hops[t->nhops],
				      SPL_PROXY_MAX_HOPS - t->nhops, &n);
		if (rc == 0)
			t->nhops = (uint8_t)(t->nhops + n);
		else if (rc == -EAGAIN && t->nhops == 0)
			t->flags |= PX_T_RESOLVING;
		nxname = nxname && rc == -ENOENT;
	}
	if (t->nhops == 0 && !(t->flags & PX_T_RESOLVING))
		t->flags |= PX_T_UNRESOLVED | (nxname ? PX_T_NXNAME : 0);
}

void px_target_resolve(struct spl_proxy *p, const struct px_req *r, struct px_target *t)
{
	if (t->flags & PX_T_FIXED)
		return;
	struct px_routeset rs;
	char tmp[600];
	unsigned n = 0;
	t->nhops = 0;
	if (px_routeset_build(r, t, &rs, tmp, sizeof(tmp)) != 0) {
		t->flags |= PX_T_UNRESOLVED;
		return;
	}
	bool sips = r->ruri_uri.scheme_id == SPL_SIP_SCHEME_SIPS;
	int rc = px_uri_peers(p, &rs.next, sips, t->hops, SPL_PROXY_MAX_HOPS, &n);
	if (rc == 0)
		t->nhops = (uint8_t)n;
	else if (rc == -EAGAIN)
		t->flags |= PX_T_RESOLVING;
	else
		t->flags |= PX_T_UNRESOLVED | (rc == -ENOENT ? PX_T_NXNAME : 0);
}

/* ---- bindings ---- */

static unsigned add_bindings(struct spl_proxy *p, struct px_req *r, unsigned nb)
{
	struct spl_proxy_binding *b = p->bind;
	/* Stable insertion sort by q, highest first. */
	for (unsigned i = 1; i < nb; i++) {
		struct spl_proxy_binding x = b[i];
		unsigned j = i;
		while (j > 0 && b[j - 1].q < x.q) {
			b[j] = b[j - 1];
			j--;
		}
		b[j] = x;
	}
	unsigned n = 0;
	uint8_t group = 0;
	for (unsigned i = 0; i < nb; i++) {
		if (n == p->max_branches) {
			p->stats.targets_truncated += nb - i;
			break;
		}
		struct px_target *t = &p->tset[n];
		if (b[i].contact.p == NULL ||
		    spl_sip_uri_parse(b[i].contact.p, b[i].contact.len, &t->puri) != 0)
			continue;
		/* §16.5: a URI is in the target set once. */
		bool dup = false;
		for (unsigned k = 0; k < n && !dup; k++)
			dup = spl_sip_uri_equal(&p->tset[k].puri, &t->puri);
		if (dup)
			continue;
		uint16_t q = b[i].q > 1000 ? 1000 : b[i].q;
		if (n > 0 && q != p->tset[n - 1].q)
			group++;
		target_init(t, b[i].contact);
		t->has_puri = true;
		t->q = q;
		t->group = group;
		t->local = b[i].local;
		if (b[i].path.p != NULL && b[i].path.len)
			t->push = b[i].path;
		if (b[i].has_flow) {
			t->flags |= PX_T_FIXED;
			t->hops[0] = b[i].flow;
			t->nhops = 1;
		} else {
			px_target_resolve(p, r, t);
		}
		n++;
	}
	return n;
}

int px_targets(struct spl_proxy *p, struct px_req *r, uint64_t now)
{
	const struct spl_sip_uri *u = &r->ruri_uri;
	struct px_target *t = &p->tset[0];
	int rt;

	if (u->scheme_id == SPL_SIP_SCHEME_TEL) {
		rt = route_match(p, u);
		if (rt < 0)
			return -SPL_PROXY_LOCAL_URI_SCHEME;
		target_ruri(t, r);
		target_static(p, &p->routes[rt], t);
		return 1;
	}
	/* Predetermined: maddr, not ours, in a dialog, or an ACK. */
	if (!r->ours || r->indialog || spl_str_present(u->maddr) ||
	    r->msg->method_id == SPL_SIP_METHOD_ACK) {
		target_ruri(t, r);
		/* Local policy may pick the next hop only when no Route is
		 * left to follow (§16.6 step 7). */
		if (r->rfirst == r->rend && !spl_str_present(u->maddr) && (rt = route_match(p, u)) >= 0)
			target_static(p, &p->routes[rt], t);
		else
			px_target_resolve(p, r, t);
		return 1;
	}

	bool unknown = true;
	if (p->hooks.locate != NULL) {
		/* Asked for more than max_branches: the best q are kept. */
		int nb = p->hooks.locate(p->hooks.ctx, u, p->bind, SPL_PROXY_MAX_BRANCHES, now);
		if (nb > 0) {
			unsigned n = add_bindings(p, r, (unsigned)nb < SPL_PROXY_MAX_BRANCHES
								? (unsigned)nb : SPL_PROXY_MAX_BRANCHES);
			if (n > 0)
				return (int)n;
		}
		unknown = nb == SPL_PROXY_LOCATE_UNKNOWN;
	}
	rt = route_match(p, u);
	if (rt >= 0) {
		target_ruri(t, r);
		target_static(p, &p->routes[rt], t);
		return 1;
	}
	return unknown ? -SPL_PROXY_LOCAL_NOT_FOUND : -SPL_PROXY_LOCAL_UNAVAILABLE;
}

/* ---- keeping targets for later ---- */

static bool arena_put(struct px_ext *x, struct spl_str s, uint16_t *off, uint16_t *len)
{
	*off = x->arena_used;
	*len = 0;
	if (s.p == NULL || s.len == 0)
		return true;
	if (s.len > (uint32_t)PX_EXT_ARENA - x->arena_used)
		return false;
	memcpy(x->arena + x->arena_used, s.p, s.len);
	x->arena_used = (uint16_t)(x->arena_used + s.len);
	*len = (uint16_t)s.len;
	return true;
}

bool px_targets_store(struct spl_proxy *p, struct px_ctx *c, const struct px_target *t, unsigned n)
{
	struct px_ext *x = px_ext_get(p, c, true);
	if (x == NULL)
		return false;
	for (unsigned i = 0; i < n && x->ntargets < SPL_PROXY_MAX_BRANCHES; i++) {
		struct px_stored *s = &x->t[x->ntargets];
		if (!arena_put(x, t[i].uri, &s->uri_off, &s->uri_len) ||
		    !arena_put(x, t[i].push, &s->push_off, &s->push_len)) {
			p->stats.ext_exhausted++;
			return x->ntargets > 0;
		}
		s->q = t[i].q;
		s->local = t[i].local;
		s->flags = t[i].flags;
		s->nhops = t[i].nhops;
		s->hop = t[i].hop;
		s->group = t[i].group;
		s->started = 0;
		memcpy(s->hops, t[i].hops, sizeof(s->hops));
		x->ntargets++;
	}
	return true;
}

void px_stored_view(struct px_ext *x, unsigned i, struct px_target *t)
{
	const struct px_stored *s = &x->t[i];
	memset(t, 0, sizeof(*t));
	t->uri = (struct spl_str){ x->arena + s->uri_off, s->uri_len };
	t->push = s->push_len ? (struct spl_str){ x->arena + s->push_off, s->push_len } : SPL_STR_NULL;
	t->q = s->q;
	t->local = s->local;
	t->flags = s->flags;
	t->nhops = s->nhops;
	t->hop = s->hop;
	t->group = s->group;
	memcpy(t->hops, s->hops, sizeof(t->hops));
}

unsigned px_start_group(struct spl_proxy *p, struct px_ctx *c, struct px_req *r, uint64_t now)
{
	struct px_ext *x = px_ext_get(p, c, false);
	if (x == NULL)
		return 0;
	unsigned started = 0;
	c->flags |= PX_C_STARTING;
	for (unsigned i = 0; i < x->ntargets; i++) {
		struct px_stored *s = &x->t[i];
		if (s->group != c->cur_group || s->started)
			continue;
		struct px_target t;
		px_stored_view(x, i, &t);
		s->started = 1;
		if (px_branch_start(p, c, r, &t, (uint8_t)i, now) != -ENOSPC)
			started++;
		s->hop = t.hop;
	}
	c->flags &= (uint8_t)~PX_C_STARTING;
	if (c->method == SPL_SIP_METHOD_INVITE && c->cur_group + 1 < c->ngroups)
		px_seq_timer(p, c, now);
	return started;
}
