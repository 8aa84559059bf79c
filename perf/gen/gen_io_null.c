/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --mode null: no network. What the UAC sends reaches the UAS side and
 * what the UAS answers reaches the UAC side on the next loop turn, as if
 * through a proxy that changes nothing (no Via, no Record-Route: ACK and
 * BYE then go straight to the callee's Contact, which is also delivered
 * here). It measures the generator's own cost per call — building,
 * parsing, state, timers — the bound on what it can offer through a
 * faster I/O path than the kernel's.
 */
#include <stdlib.h>
#include <string.h>

#include "gen_io.h"

#define NQ 8192u          /* power of two */
#define NBUF 2048u

struct nmsg {
	uint32_t len;
	enum gen_side from;
	char buf[NBUF];
};

struct nio {
	struct gen_io io;
	const struct gen_conf *conf;
	uint32_t head, tail;     /* tail: next to fill; head: next to deliver */
	struct nmsg q[NQ];
};

static char *n_tx_begin(struct gen_io *io, enum gen_side side, uint32_t *cap)
{
	struct nio *n = (struct nio *)io;
	(void)side;
	if (n->tail - n->head == NQ)
		return NULL;
	*cap = NBUF;
	return n->q[n->tail & (NQ - 1)].buf;
}

static void n_tx_commit(struct gen_io *io, enum gen_side side, const struct gen_addr *dst, uint32_t len)
{
	struct nio *n = (struct nio *)io;
	(void)dst;
	struct nmsg *m = &n->q[n->tail & (NQ - 1)];
	m->len = len;
	m->from = side;
	n->tail++;
}

static unsigned n_poll(struct gen_io *io, struct gen *g)
{
	struct nio *n = (struct nio *)io;
	uint32_t end = n->tail, cnt = 0;
	/* Only what was queued before this turn: answers wait for the next. */
	while (n->head != end && cnt < 512) {
		struct nmsg *m = &n->q[n->head & (NQ - 1)];
		struct gen_addr src = m->from == GEN_UAC ? n->conf->uac : n->conf->uas;
		bool response = m->len >= 8 && memcmp(m->buf, "SIP/2.0 ", 8) == 0;
		gen_rx(g, response ? GEN_UAC : GEN_UAS, m->buf, m->len, &src);
		n->head++;
		cnt++;
	}
	return cnt;
}

static void n_flush(struct gen_io *io) { (void)io; }
static void n_wait(struct gen_io *io, uint64_t max_ns) { (void)io; (void)max_ns; }
static void n_close(struct gen_io *io) { free(io); }

static const struct gen_io_ops null_ops = {
	.poll = n_poll,
	.tx_begin = n_tx_begin,
	.tx_commit = n_tx_commit,
	.flush = n_flush,
	.wait = n_wait,
	.close = n_close,
};

struct gen_io *gen_io_null_open(struct gen_conf *conf)
{
	struct nio *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->io.ops = &null_ops;
	n->conf = conf;
	return &n->io;
}
