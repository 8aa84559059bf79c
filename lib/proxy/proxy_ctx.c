/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Response contexts (§16.6 "response context") and their extension blocks,
 * from two fixed pools on LIFO free lists. A context lives while any of
 * its transactions lives (§16.7 step 9) and while proxy code works on it
 * (busy), whichever is longer. The ext block holds what only forking and
 * failover need (targets kept for later), so the common one-target
 * context stays a few cache lines.
 */
#include <stdlib.h>

#include "proxy_priv.h"

int px_pools_create(struct spl_proxy *p, uint32_t ctx_cap, uint32_t ext_cap)
{
	size_t stride = sizeof(struct px_ctx) + (size_t)p->max_branches * sizeof(struct px_branch);
	stride = (stride + 63) & ~(size_t)63;
	p->ctx_stride = (uint32_t)stride;
	p->ctx_cap = ctx_cap;
	p->ctx_mem = aligned_alloc(64, stride * ctx_cap);
	p->ext_cap = ext_cap;
	p->ext_mem = ext_cap ? aligned_alloc(64, ((sizeof(struct px_ext) + 63) & ~(size_t)63) * ext_cap)
			     : NULL;
	if (p->ctx_mem == NULL || (ext_cap && p->ext_mem == NULL))
		return -ENOMEM;
	/* Touch everything now: no page faults on the fast path. */
	memset(p->ctx_mem, 0, stride * ctx_cap);
	for (uint32_t i = 0; i < ctx_cap; i++) {
		struct px_ctx *c = px_ctx_at(p, i);
		c->gen = 1;
		c->next_free = i + 1 < ctx_cap ? i + 1 : PX_NIL;
	}
	p->ctx_free = ctx_cap ? 0 : PX_NIL;
	if (ext_cap) {
		memset(p->ext_mem, 0, sizeof(struct px_ext) * ext_cap);
		for (uint32_t i = 0; i < ext_cap; i++)
			p->ext_mem[i].next_free = i + 1 < ext_cap ? i + 1 : PX_NIL;
	}
	p->ext_free = ext_cap ? 0 : PX_NIL;
	return 0;
}

void px_pools_free(struct spl_proxy *p)
{
	if (p->ctx_mem != NULL) {
		for (uint32_t i = 0; i < p->ctx_cap; i++) {
			struct px_ctx *c = px_ctx_at(p, i);
			if (c->refs == 0 && c->busy == 0 && c->req.owner == NULL && c->nbr == 0)
				continue;
			px_ctx_release_req(p, c);
			for (unsigned b = 0; b < c->nbr; b++)
				px_branch_timer_stop(p, &c->br[b]);
			px_ctx_timer_stop(p, c);
		}
	}
	free(p->ctx_mem);
	free(p->ext_mem);
	p->ctx_mem = NULL;
	p->ext_mem = NULL;
}

struct px_ctx *px_ctx_at(struct spl_proxy *p, uint32_t idx)
{
	return (struct px_ctx *)(void *)(p->ctx_mem + (size_t)idx * p->ctx_stride);
}

uint32_t px_ctx_index(const struct spl_proxy *p, const struct px_ctx *c)
{
	return (uint32_t)(((const uint8_t *)c - p->ctx_mem) / p->ctx_stride);
}

struct px_ctx *px_ctx_alloc(struct spl_proxy *p)
{
	uint32_t i = p->ctx_free;
	if (PX_UNLIKELY(i == PX_NIL))
		return NULL;
	struct px_ctx *c = px_ctx_at(p, i);
	p->ctx_free = c->next_free;
	uint16_t gen = c->gen;
	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->next_free = PX_NIL;
	c->ext = PX_NIL;
	c->server = SPL_TXN_NONE;
	c->timer = SPL_TIMER_NONE;
	c->in_local = -1;
	p->stats.ctx_live++;
	return c;
}

static void ctx_free(struct spl_proxy *p, struct px_ctx *c)
{
	/* A parked request whose server transaction ended: its slot goes
	 * with it. */
	px_unpark(p, c);
	px_ctx_release_req(p, c);
	for (unsigned b = 0; b < c->nbr; b++)
		px_branch_timer_stop(p, &c->br[b]);
	px_ctx_timer_stop(p, c);
	if (c->ext != PX_NIL) {
		struct px_ext *x = &p->ext_mem[c->ext];
		x->next_free = p->ext_free;
		p->ext_free = c->ext;
		c->ext = PX_NIL;
	}
	c->nbr = 0;
	if (++c->gen == 0)
		c->gen = 1;
	c->next_free = p->ctx_free;
	p->ctx_free = px_ctx_index(p, c);
	p->stats.ctx_live--;
}

void px_ctx_put(struct spl_proxy *p, struct px_ctx *c)
{
	if (c->refs > 0)
		c->refs--;
	if (c->refs == 0 && c->busy == 0)
		ctx_free(p, c);
}

void px_ctx_unhold(struct spl_proxy *p, struct px_ctx *c)
{
	if (c->busy > 0)
		c->busy--;
	if (c->refs == 0 && c->busy == 0)
		ctx_free(p, c);
}

struct px_ext *px_ext_get(struct spl_proxy *p, struct px_ctx *c, bool create)
{
	if (c->ext != PX_NIL)
		return &p->ext_mem[c->ext];
	if (!create)
		return NULL;
	uint32_t i = p->ext_free;
	if (i == PX_NIL) {
		p->stats.ext_exhausted++;
		return NULL;
	}
	struct px_ext *x = &p->ext_mem[i];
	p->ext_free = x->next_free;
	x->next_free = PX_NIL;
	x->arena_used = 0;
	x->ntargets = 0;
	c->ext = i;
	return x;
}

void px_ctx_release_req(struct spl_proxy *p, struct px_ctx *c)
{
	if (c->req.owner != NULL || c->req.data != NULL)
		p->tp.release(p->tp.ctx, c->req.owner);
	c->req = (struct spl_txn_buf){ 0 };
	for (unsigned b = 0; b < c->nbr; b++) {
		struct px_branch *br = &c->br[b];
		if (br->rsp.owner != NULL || br->rsp.data != NULL)
			p->tp.release(p->tp.ctx, br->rsp.owner);
		br->rsp = (struct spl_txn_buf){ 0 };
	}
}
