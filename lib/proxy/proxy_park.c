/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parking (RFC 3263 with an asynchronous resolver): a request none of whose
 * targets has a next hop because a name is not resolved yet waits instead
 * of being answered 503 at once. The resolver runs in another thread; its
 * resolve hook asks it and says -EAGAIN, and once answers are in the
 * appliance calls spl_proxy_resume(), which routes every parked request
 * again (§16.5 onward, px_route()).
 *
 * A parked request is a response context without branches (PX_C_PARKED):
 * it already holds what forwarding needs later (server transaction, the
 * request bytes by reference, source, own address), it is what the CANCEL
 * and transaction-termination paths find through the server transaction,
 * and the context timer carries its deadline. The list of parked contexts
 * is a fixed array of park_capacity indices, oldest first; a full list
 * answers 503 at once.
 */
#include <stdlib.h>

#include "proxy_priv.h"

int px_park_create(struct spl_proxy *p, uint32_t cap)
{
	/* Each parked request holds a context: more slots could never fill. */
	if (cap > p->ctx_cap)
		cap = p->ctx_cap;
	p->park.cap = cap;
	p->park.n = 0;
	if (cap == 0)
		return 0;
	p->park.slot = calloc(cap, sizeof(*p->park.slot));
	p->park.walk = calloc(cap, sizeof(*p->park.walk));
	return p->park.slot != NULL && p->park.walk != NULL ? 0 : -ENOMEM;
}

void px_park_free(struct spl_proxy *p)
{
	free(p->park.slot);
	free(p->park.walk);
	p->park.slot = NULL;
	p->park.walk = NULL;
	p->park.n = p->park.cap = 0;
}

unsigned spl_proxy_parked(const struct spl_proxy *p) { return p->park.n; }

bool px_park_room(struct spl_proxy *p)
{
	/* Without an owner the request bytes cannot be kept for later. */
	if (p->park.cap == 0 || p->cur_owner == NULL)
		return false;
	if (p->park.n == p->park.cap) {
		p->stats.park_full++;
		return false;
	}
	return true;
}

bool px_park(struct spl_proxy *p, struct px_ctx *c, uint64_t now)
{
	if (c->server == SPL_TXN_NONE || c->req.data == NULL || p->park.n == p->park.cap ||
	    !px_ctx_timer(p, c, PX_TK_PARK, p->park.timeout, now))
		return false;
	c->flags |= PX_C_PARKED;
	p->park.slot[p->park.n++] = px_ctx_index(p, c);
	p->stats.parked++;
	return true;
}

void px_unpark(struct spl_proxy *p, struct px_ctx *c)
{
	if (!(c->flags & PX_C_PARKED))
		return;
	c->flags &= (uint8_t)~PX_C_PARKED;
	px_ctx_timer_stop(p, c);
	uint32_t idx = px_ctx_index(p, c);
	for (uint32_t i = 0; i < p->park.n; i++) {
		if (p->park.slot[i] != idx)
			continue;
		memmove(&p->park.slot[i], &p->park.slot[i + 1],
			(p->park.n - i - 1) * sizeof(*p->park.slot));
		p->park.n--;
		return;
	}
}

void px_ctx_answer(struct spl_proxy *p, struct px_ctx *c, struct spl_sipmsg *req,
		   enum spl_proxy_local why, uint16_t status, uint64_t now)
{
	if (c->server != SPL_TXN_NONE) {
		if (req != NULL)
			px_local_reply(p, req, c->server, NULL, why, status, NULL, NULL, 0, now);
		else
			px_abandon_server(p, c->server, status);
	}
	c->flags |= PX_C_FINAL_SENT;
	px_ctx_release_req(p, c);
}

/* The kept request, scanned and parsed again. It passed validation when it
 * arrived, so this does not fail on the same bytes; NULL if it ever did. */
static struct spl_sipmsg *parked_request(struct spl_proxy *p, struct px_ctx *c)
{
	struct spl_sipmsg *m = &p->parked_msg;
	if (c->req.data == NULL || spl_sipmsg_scan(m, c->req.data, c->req.len) != SPL_SIPMSG_E_NONE ||
	    spl_sipmsg_parse(m, SPL_SIPMSG_P_PROXY) != SPL_SIPMSG_E_NONE)
		return NULL;
	return m;
}

void px_park_expire(struct spl_proxy *p, struct px_ctx *c, uint64_t now)
{
	p->stats.park_timeouts++;
	px_unpark(p, c);
	px_ctx_answer(p, c, parked_request(p, c), SPL_PROXY_LOCAL_RESOLVING, 503, now);
}

/* Route one parked request again, as it was routed on arrival: §16.4 from
 * its bytes, then §16.5 onward. §16.3 is not repeated: it passed then (and
 * the authorize hook is not asked twice for the same credentials). */
static void resume_one(struct spl_proxy *p, struct px_ctx *c, uint64_t now)
{
	struct spl_sipmsg *m = parked_request(p, c);
	if (m == NULL) {
		px_unpark(p, c);
		px_ctx_answer(p, c, NULL, SPL_PROXY_LOCAL_SERVER_ERROR, 500, now);
		return;
	}
	struct px_req *r = &p->req;
	int rc = px_req_prepare(p, r, m, c->in_local);
	r->src = &c->src;
	if (rc != 0) {
		/* Only a reconfiguration in between can make §16.4 fail now. */
		px_unpark(p, c);
		px_ctx_answer(p, c, m, (enum spl_proxy_local)rc,
			      spl_proxy_local_status((enum spl_proxy_local)rc), now);
		return;
	}
	px_route(p, r, c->server, c, now);
}

unsigned spl_proxy_resume(struct spl_proxy *p, uint64_t now)
{
	/* Walk a copy: a request that goes on leaves the list under us.
	 * Nothing is parked meanwhile (only a request received parks), so
	 * an entry still flagged is the context that was copied. */
	uint32_t n = p->park.n;
	if (n == 0)
		return 0;
	memcpy(p->park.walk, p->park.slot, n * sizeof(*p->park.walk));
	unsigned done = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct px_ctx *c = px_ctx_at(p, p->park.walk[i]);
		if (!(c->flags & PX_C_PARKED))
			continue;
		px_ctx_hold(c);
		resume_one(p, c, now);
		done += !(c->flags & PX_C_PARKED);
		px_ctx_unhold(p, c);
	}
	return done;
}
