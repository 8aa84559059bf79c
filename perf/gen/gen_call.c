/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The call and registration state machines, both halves of a call in one
 * slot. UDP retransmissions follow RFC 3261 §17: an INVITE is resent
 * after T1, 2*T1, 4*T1 ... until a provisional or a final arrives; BYE and
 * REGISTER likewise but capped at T2 (and at T2 after a provisional); the
 * UAS resends its 200 (capped at T2) until the ACK or the BYE. Each leg
 * gives up at call_timeout (64*T1 by default, Timers B, F and H).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gen.h"
#include "gen_io.h"
#include "gen_msg.h"
#include "spl_timerwheel.h"

#define MS 1000000ull

enum { TIMER_UAC = 0, TIMER_UAS = 1 };

static const char *const fail_names[] = {
#define X(e, n, h) n,
	GEN_FAILS(X)
#undef X
};

const char *gen_fail_name(enum gen_fail f)
{
	return (unsigned)f < GEN_FAIL__COUNT ? fail_names[f] : "?";
}

static inline uint32_t slot_of(const struct gen *g, const struct gen_call *c)
{
	return (uint32_t)(c - g->calls);
}

static inline uint64_t timer_data(uint32_t slot, uint16_t gen, unsigned which)
{
	return (uint64_t)slot << 32 | (uint64_t)gen << 16 | which;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */

static void xmit(struct gen *g, enum gen_side side, const struct gen_addr *dst, const char *data,
		 uint32_t len)
{
	uint32_t cap;
	char *p = g->io->ops->tx_begin(g->io, side, &cap);
	if (!p || cap < len) {
		g->st.tx_drop++;
		return;
	}
	memcpy(p, data, len);
	g->io->ops->tx_commit(g->io, side, dst, len);
	g->st.msgs_out++;
}

/* Builds straight into the outgoing buffer (messages not kept). */
typedef int (*build_fn)(struct gen *g, void *arg, char *out, uint32_t cap);

static bool xmit_built(struct gen *g, enum gen_side side, const struct gen_addr *dst, build_fn fn,
		       void *arg)
{
	uint32_t cap;
	char *p = g->io->ops->tx_begin(g->io, side, &cap);
	if (!p) {
		g->st.tx_drop++;
		return false;
	}
	int n = fn(g, arg, p, cap);
	if (n < 0)
		return false;   /* nothing committed: the buffer is reused */
	g->io->ops->tx_commit(g->io, side, dst, (uint32_t)n);
	g->st.msgs_out++;
	return true;
}

static void arm(struct gen *g, struct gen_call *c, unsigned which, uint64_t delay_ns)
{
	uint32_t *h = which == TIMER_UAC ? &c->uac_timer : &c->uas_timer;
	if (*h != SPL_TIMER_NONE)
		spl_timerwheel_stop(g->tw, *h);
	*h = spl_timerwheel_start(g->tw, delay_ns, timer_data(slot_of(g, c), c->gen, which));
}

static void disarm(struct gen *g, uint32_t *h)
{
	if (*h != SPL_TIMER_NONE) {
		spl_timerwheel_stop(g->tw, *h);
		*h = SPL_TIMER_NONE;
	}
}

/* ------------------------------------------------------------------ */
/* Slots                                                               */

int gen_init(struct gen *g, const struct gen_conf *conf, struct gen_io *io)
{
	memset(g, 0, sizeof(*g));
	g->conf = conf;
	g->io = io;
	g->ncalls = conf->max_inflight;
	/* Lazily backed: only slots in use are touched, and the LIFO free
	 * stack keeps reusing the hottest ones. */
	size_t bytes = (size_t)g->ncalls * sizeof(struct gen_call);
	g->calls = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			-1, 0);
	g->free_stack = calloc(g->ncalls, sizeof(uint32_t));
	if (g->calls == MAP_FAILED || !g->free_stack) {
		fprintf(stderr, "sipline-gen: cannot allocate %u call slots\n", g->ncalls);
		return -1;
	}
	for (uint32_t i = 0; i < g->ncalls; i++)
		g->free_stack[i] = g->ncalls - 1 - i;
	g->nfree = g->ncalls;
	g->now = gen_now_ns();
	struct spl_timerwheel_conf tc = { .capacity = 2 * g->ncalls + 16, .tick_ns = MS, .now_ns = g->now };
	g->tw = spl_timerwheel_create(&tc);
	if (!g->tw) {
		fprintf(stderr, "sipline-gen: timer wheel: %s\n", strerror(errno));
		return -1;
	}
	g->call_timeout_ns = (uint64_t)conf->call_timeout_ms * MS;
	/* Differs between processes (time, pid) and then counts runs. */
	uint64_t seed = (g->now ^ ((uint64_t)getpid() << 32)) * 0x9e3779b97f4a7c15ull;
	g->run_id = (uint32_t)(seed >> 32);
	gen_msg_prepare(g);
	return 0;
}

void gen_fini(struct gen *g)
{
	spl_timerwheel_free(g->tw);
	if (g->calls && g->calls != MAP_FAILED)
		munmap(g->calls, (size_t)g->ncalls * sizeof(struct gen_call));
	free(g->free_stack);
}

static struct gen_call *slot_alloc(struct gen *g, enum gen_kind kind)
{
	if (g->nfree == 0)
		return NULL;
	struct gen_call *c = &g->calls[g->free_stack[--g->nfree]];
	uint16_t gen = c->gen;
	/* Only the fixed part is reset; the buffers are written before use. */
	memset(c, 0, offsetof(struct gen_call, tag));
	c->gen = gen;
	c->kind = (uint8_t)kind;
	c->flags = g->measuring ? GEN_F_MEASURED : 0;
	c->t_start = g->now;
	g->inflight++;
	return c;
}

static void finish(struct gen *g, struct gen_call *c, bool ok, enum gen_fail why)
{
	disarm(g, &c->uac_timer);
	disarm(g, &c->uas_timer);
	if (c->flags & GEN_F_MEASURED) {
		if (c->kind == GEN_KIND_CALL) {
			if (ok)
				g->st.calls_ok++;
			else
				g->st.calls_failed++;
		} else {
			if (ok)
				g->st.regs_ok++;
			else
				g->st.regs_failed++;
		}
		if (!ok)
			g->st.fail[why]++;
	}
	c->kind = GEN_KIND_FREE;
	c->uac = GEN_UAC_IDLE;
	c->uas = GEN_UAS_IDLE;
	c->gen++;
	g->free_stack[g->nfree++] = slot_of(g, c);
	g->inflight--;
}

void gen_abort_all(struct gen *g)
{
	for (uint32_t i = 0; i < g->ncalls && g->inflight; i++)
		if (g->calls[i].kind != GEN_KIND_FREE)
			finish(g, &g->calls[i], false, GEN_FAIL_DRAIN);
}

/* ------------------------------------------------------------------ */
/* UAC                                                                 */

static void uac_send_request(struct gen *g, struct gen_call *c, int len)
{
	c->uac_len = (uint16_t)len;
	c->uac_ivl_ms = g->conf->t1_ms;
	c->uac_deadline = g->now + g->call_timeout_ns;
	xmit(g, GEN_UAC, c->uac == GEN_UAC_BYE ? &c->hop : &g->conf->proxy, c->uac_buf, (uint32_t)len);
	arm(g, c, TIMER_UAC, (uint64_t)c->uac_ivl_ms * MS);
}

bool gen_start_call(struct gen *g)
{
	struct gen_call *c = slot_alloc(g, GEN_KIND_CALL);
	if (!c)
		return false;
	if (c->flags & GEN_F_MEASURED)
		g->st.calls_attempted++;
	c->uac = GEN_UAC_INVITING;
	int n = gen_msg_invite(g, c, slot_of(g, c), c->uac_buf, GEN_MAX_MSG);
	if (n < 0) {
		finish(g, c, false, GEN_FAIL_SEND);
		return true;
	}
	uac_send_request(g, c, n);
	return true;
}

bool gen_start_reg(struct gen *g)
{
	struct gen_call *c = slot_alloc(g, GEN_KIND_REG);
	if (!c)
		return false;
	if (c->flags & GEN_F_MEASURED)
		g->st.regs_attempted++;
	c->uac = GEN_UAC_REG;
	c->user = (uint32_t)(g->reg_seq++ % (g->conf->reg_users ? g->conf->reg_users : 1));
	int n = gen_msg_register(g, c, slot_of(g, c), NULL, c->uac_buf, GEN_MAX_MSG);
	if (n < 0) {
		finish(g, c, false, GEN_FAIL_SEND);
		return true;
	}
	uac_send_request(g, c, n);
	return true;
}

static void send_bye(struct gen *g, struct gen_call *c)
{
	c->uac = GEN_UAC_BYE;
	c->t_bye = g->now;
	int n = gen_msg_bye(g, c, slot_of(g, c), c->uac_buf, GEN_MAX_MSG);
	if (n < 0) {
		finish(g, c, false, GEN_FAIL_SEND);
		return;
	}
	uac_send_request(g, c, n);
}

static int build_ack(struct gen *g, void *arg, char *out, uint32_t cap)
{
	struct gen_call *c = arg;
	return gen_msg_ack(g, c, slot_of(g, c), out, cap);
}

static int build_ack_rsp(struct gen *g, void *arg, char *out, uint32_t cap)
{
	return gen_msg_ack_from_response(g, arg, out, cap);
}

static void uac_timer(struct gen *g, struct gen_call *c)
{
	const struct gen_conf *cf = g->conf;
	if (c->uac == GEN_UAC_HOLD) {
		send_bye(g, c);
		return;
	}
	if (g->now >= c->uac_deadline) {
		enum gen_fail why = c->uac == GEN_UAC_BYE ? GEN_FAIL_BYE_TIMEOUT :
				    (c->uac == GEN_UAC_REG || c->uac == GEN_UAC_REG_AUTH) ? GEN_FAIL_REG_TIMEOUT :
				    GEN_FAIL_INVITE_TIMEOUT;
		finish(g, c, false, why);
		return;
	}
	bool invite = c->uac == GEN_UAC_INVITING || c->uac == GEN_UAC_PROCEEDING;
	if (c->uac != GEN_UAC_PROCEEDING) {
		xmit(g, GEN_UAC, c->uac == GEN_UAC_BYE ? &c->hop : &cf->proxy, c->uac_buf, c->uac_len);
		if (c->flags & GEN_F_MEASURED)
			g->st.retx_uac++;
		c->uac_ivl_ms *= 2;
		if (!invite && c->uac_ivl_ms > cf->t2_ms)
			c->uac_ivl_ms = cf->t2_ms;
	}
	uint64_t left = c->uac_deadline - g->now;
	uint64_t ivl = c->uac == GEN_UAC_PROCEEDING ? left : (uint64_t)c->uac_ivl_ms * MS;
	arm(g, c, TIMER_UAC, ivl < left ? ivl : left);
}

/* Route set (Record-Route reversed), remote target and next hop from a
 * 2xx to INVITE. */
static bool learn_dialog(struct gen *g, struct gen_call *c, struct spl_sipmsg *m)
{
	const struct spl_sip_hdr *to = spl_sipmsg_hdr(m, SPL_SIP_HDR_TO);
	const struct spl_sip_hdr *ct = spl_sipmsg_hdr(m, SPL_SIP_HDR_CONTACT);
	struct spl_sip_nameaddr na;
	if (!to || !ct || spl_sip_nameaddr_parse(to->value.p, to->value.len, &na) != 0 ||
	    !spl_str_present(na.tag) || na.tag.len > sizeof(c->tag))
		return false;
	memcpy(c->tag, na.tag.p, na.tag.len);
	c->tag_len = (uint16_t)na.tag.len;

	struct spl_str rest = ct->value;
	if (spl_sip_nameaddr_next(&rest, &na) != 1 || na.uri_str.len > sizeof(c->target))
		return false;
	memcpy(c->target, na.uri_str.p, na.uri_str.len);
	c->target_len = (uint16_t)na.uri_str.len;
	struct gen_addr hop = { 0, 0 };
	if (na.uri.host.kind == SPL_SIP_HOST_IPV4) {
		memcpy(&hop.ip, na.uri.host.ip, 4);
		hop.port = na.uri.port ? na.uri.port : 5060;
	}

	/* Record-Route values in order, then emitted last to first. */
	struct spl_str rr[16];
	bool lr = false;
	struct gen_addr first = { 0, 0 };
	unsigned nrr = 0;
	for (uint16_t i = m->first[SPL_SIP_HDR_RECORD_ROUTE]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		rest = m->hdrs[i].value;
		int r;
		while ((r = spl_sip_nameaddr_next(&rest, &na)) == 1) {
			if (nrr == 16)
				return false;
			rr[nrr++] = na.raw;
			/* the last Record-Route is our first Route */
			lr = na.uri.lr;
			first.ip = 0;
			if (na.uri.host.kind == SPL_SIP_HOST_IPV4) {
				memcpy(&first.ip, na.uri.host.ip, 4);
				first.port = na.uri.port ? na.uri.port : 5060;
			}
		}
		if (r < 0)
			return false;
	}
	char *p = c->route, *end = c->route + sizeof(c->route);
	for (unsigned i = nrr; i-- > 0;) {
		if ((size_t)(end - p) < rr[i].len + 9)
			return false;
		memcpy(p, "Route: ", 7);
		memcpy(p + 7, rr[i].p, rr[i].len);
		p += 7 + rr[i].len;
		*p++ = '\r';
		*p++ = '\n';
	}
	c->route_len = (uint16_t)(p - c->route);
	if (nrr) {
		/* Loose routing only: strict routing (no ;lr) would need the
		 * target moved into the Route set. */
		if (!lr)
			return false;
		hop = first.ip ? first : g->conf->proxy;   /* a name: assume it is the proxy */
	}
	if (hop.ip == 0)
		hop = g->conf->proxy;
	c->hop = hop;
	return true;
}

/* A 401/407: pick a challenge we can answer (SHA-256 or MD5, qop auth or
 * none) and send the REGISTER again with credentials. */
static bool answer_challenge(struct gen *g, struct gen_call *c, struct spl_sipmsg *m)
{
	enum spl_sip_hdr_id id = m->status == 407 ? SPL_SIP_HDR_PROXY_AUTHENTICATE : SPL_SIP_HDR_WWW_AUTHENTICATE;
	struct gen_digest_chal best = { .realm = SPL_STR_NULL };
	bool found = false;
	for (uint16_t i = m->first[id]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		struct spl_sip_auth a;
		if (spl_sip_auth_parse(m->hdrs[i].value.p, m->hdrs[i].value.len, &a) != 0 ||
		    !spl_str_ieq(a.scheme, "Digest") || !spl_str_present(a.nonce) || !spl_str_present(a.realm))
			continue;
		bool sha = spl_str_present(a.algorithm) && spl_str_ieq(a.algorithm, "SHA-256");
		if (spl_str_present(a.algorithm) && !sha && !spl_str_ieq(a.algorithm, "MD5"))
			continue;
		struct gen_digest_chal ch = { .realm = a.realm, .nonce = a.nonce, .opaque = a.opaque,
					      .sha256 = sha, .proxy = m->status == 407 };
		if (spl_str_present(a.qop)) {
			struct spl_str rest = a.qop, tok;
			while (spl_sip_token_next(&rest, &tok) == 1)
				if (spl_str_ieq(tok, "auth"))
					ch.qop_auth = true;
			if (!ch.qop_auth)
				continue;   /* auth-int only */
		}
		if (!found || (sha && !best.sha256)) {
			best = ch;
			found = true;
		}
	}
	if (!found)
		return false;
	int n = gen_msg_register(g, c, slot_of(g, c), &best, c->uac_buf, GEN_MAX_MSG);
	if (n < 0)
		return false;
	c->uac = GEN_UAC_REG_AUTH;
	uac_send_request(g, c, n);
	return true;
}

static void uac_response(struct gen *g, struct gen_call *c, struct spl_sipmsg *m, const struct spl_sip_cseq *cs)
{
	uint16_t st = m->status;
	bool measured = c && (c->flags & GEN_F_MEASURED);
	switch (cs->method_id) {
	case SPL_SIP_METHOD_INVITE:
		if (!c || c->kind != GEN_KIND_CALL) {
			/* Late final for a finished call: still owe the ACK. */
			if (st >= 300)
				xmit_built(g, GEN_UAC, &g->conf->proxy, build_ack_rsp, m);
			g->st.rx_stale++;
			return;
		}
		if (st < 200) {
			if (c->uac == GEN_UAC_INVITING)
				c->uac = GEN_UAC_PROCEEDING;
			if (st != 100 && !(c->flags & GEN_F_GOT_180) &&
			    (c->uac == GEN_UAC_PROCEEDING)) {
				c->flags |= GEN_F_GOT_180;
				if (measured)
					gen_hist_record(&g->st.h_180, g->now - c->t_start);
			}
			return;
		}
		if (st < 300) {
			if (c->uac == GEN_UAC_HOLD || c->uac == GEN_UAC_BYE) {
				xmit_built(g, GEN_UAC, &c->hop, build_ack, c);   /* 2xx retransmitted */
				return;
			}
			if (c->uac != GEN_UAC_INVITING && c->uac != GEN_UAC_PROCEEDING)
				return;
			if (measured) {
				gen_hist_record(&g->st.h_200, g->now - c->t_start);
				gen_hist_record(&g->tick_200, g->now - c->t_start);
			}
			disarm(g, &c->uac_timer);
			if (!learn_dialog(g, c, m)) {
				finish(g, c, false, GEN_FAIL_INVITE_REJECTED);
				return;
			}
			xmit_built(g, GEN_UAC, &c->hop, build_ack, c);
			if (g->conf->hold_ms == 0) {
				send_bye(g, c);
			} else {
				c->uac = GEN_UAC_HOLD;
				arm(g, c, TIMER_UAC, (uint64_t)g->conf->hold_ms * MS);
			}
			return;
		}
		xmit_built(g, GEN_UAC, &g->conf->proxy, build_ack_rsp, m);
		if (c->uac == GEN_UAC_INVITING || c->uac == GEN_UAC_PROCEEDING)
			finish(g, c, false, GEN_FAIL_INVITE_REJECTED);
		return;
	case SPL_SIP_METHOD_BYE:
		if (!c || c->kind != GEN_KIND_CALL || c->uac != GEN_UAC_BYE) {
			g->st.rx_stale++;
			return;
		}
		if (st < 200) {
			c->uac_ivl_ms = g->conf->t2_ms;
			return;
		}
		if (st < 300) {
			if (measured)
				gen_hist_record(&g->st.h_bye, g->now - c->t_bye);
			finish(g, c, true, GEN_FAIL_DRAIN);
		} else {
			finish(g, c, false, GEN_FAIL_BYE_REJECTED);
		}
		return;
	case SPL_SIP_METHOD_REGISTER:
		if (!c || c->kind != GEN_KIND_REG || (c->uac != GEN_UAC_REG && c->uac != GEN_UAC_REG_AUTH)) {
			g->st.rx_stale++;
			return;
		}
		if (st < 200) {
			c->uac_ivl_ms = g->conf->t2_ms;
			return;
		}
		if (st < 300) {
			if (measured)
				gen_hist_record(&g->st.h_reg, g->now - c->t_start);
			finish(g, c, true, GEN_FAIL_DRAIN);
		} else if ((st == 401 || st == 407) && c->uac == GEN_UAC_REG) {
			if (!g->conf->auth || !answer_challenge(g, c, m))
				finish(g, c, false, GEN_FAIL_AUTH);
		} else {
			finish(g, c, false, (st == 401 || st == 407) ? GEN_FAIL_AUTH : GEN_FAIL_REG_REJECTED);
		}
		return;
	default:
		g->st.rx_bad++;
	}
}

/* ------------------------------------------------------------------ */
/* UAS                                                                 */

struct reply_arg {
	struct spl_sipmsg *req;
	uint16_t status;
	bool dialog;
	uint32_t slot;
	uint16_t gen;
};

static int build_reply(struct gen *g, void *arg, char *out, uint32_t cap)
{
	struct reply_arg *a = arg;
	return gen_msg_reply(g, a->req, a->status, a->dialog, a->slot, a->gen, out, cap);
}

static void uas_answer(struct gen *g, struct gen_call *c)
{
	c->uas = GEN_UAS_ANSWERED;
	c->uas_ivl_ms = g->conf->t1_ms;
	c->uas_deadline = g->now + g->call_timeout_ns;
	xmit(g, GEN_UAS, &c->uas_peer, c->uas_buf, c->uas_len);
	arm(g, c, TIMER_UAS, (uint64_t)c->uas_ivl_ms * MS);
}

static void uas_timer(struct gen *g, struct gen_call *c)
{
	if (c->uas == GEN_UAS_RINGING) {
		uas_answer(g, c);
		return;
	}
	if (c->uas != GEN_UAS_ANSWERED)
		return;
	if (g->now >= c->uas_deadline) {
		finish(g, c, false, GEN_FAIL_NO_ACK);
		return;
	}
	xmit(g, GEN_UAS, &c->uas_peer, c->uas_buf, c->uas_len);
	if (c->flags & GEN_F_MEASURED)
		g->st.retx_uas++;
	c->uas_ivl_ms *= 2;
	if (c->uas_ivl_ms > g->conf->t2_ms)
		c->uas_ivl_ms = g->conf->t2_ms;
	uint64_t left = c->uas_deadline - g->now, ivl = (uint64_t)c->uas_ivl_ms * MS;
	arm(g, c, TIMER_UAS, ivl < left ? ivl : left);
}

static void uas_request(struct gen *g, struct gen_call *c, uint32_t slot, uint16_t gen,
			struct spl_sipmsg *m, const struct gen_addr *src)
{
	struct reply_arg ra = { .req = m, .slot = slot, .gen = gen };
	switch (m->method_id) {
	case SPL_SIP_METHOD_INVITE:
		if (!c) {
			g->st.rx_stale++;
			return;
		}
		if (c->uas == GEN_UAS_IDLE) {
			c->uas_peer = *src;
			ra.status = 180;
			ra.dialog = true;
			xmit_built(g, GEN_UAS, src, build_reply, &ra);
			int n = gen_msg_reply(g, m, 200, true, slot, gen, c->uas_buf, GEN_MAX_MSG);
			if (n < 0) {
				finish(g, c, false, GEN_FAIL_SEND);
				return;
			}
			c->uas_len = (uint16_t)n;
			if (g->conf->answer_ms == 0) {
				uas_answer(g, c);
			} else {
				c->uas = GEN_UAS_RINGING;
				arm(g, c, TIMER_UAS, (uint64_t)g->conf->answer_ms * MS);
			}
		} else if (c->uas == GEN_UAS_RINGING) {
			ra.status = 180;
			ra.dialog = true;
			xmit_built(g, GEN_UAS, src, build_reply, &ra);
		} else if (c->uas == GEN_UAS_ANSWERED) {
			xmit(g, GEN_UAS, src, c->uas_buf, c->uas_len);
		}
		return;
	case SPL_SIP_METHOD_ACK:
		if (c && c->uas == GEN_UAS_ANSWERED) {
			c->uas = GEN_UAS_CONFIRMED;
			disarm(g, &c->uas_timer);
		} else {
			g->st.rx_stale++;
		}
		return;
	case SPL_SIP_METHOD_BYE:
		/* Answered even for a finished call: the UAC may have missed
		 * our first 200. */
		ra.status = 200;
		xmit_built(g, GEN_UAS, src, build_reply, &ra);
		if (c && c->uas != GEN_UAS_CONFIRMED) {
			c->uas = GEN_UAS_CONFIRMED;
			disarm(g, &c->uas_timer);
		}
		return;
	default:
		/* A REGISTER only reaches the UAS without a registrar in between
		 * (--mode null): accept it, so registrations work there too. */
		ra.status = (m->method_id == SPL_SIP_METHOD_CANCEL || m->method_id == SPL_SIP_METHOD_REGISTER) ? 200 : 501;
		xmit_built(g, GEN_UAS, src, build_reply, &ra);
	}
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

void gen_rx(struct gen *g, enum gen_side side, const char *buf, uint32_t len, const struct gen_addr *src)
{
	(void)side;
	struct spl_sipmsg *m = &g->msg;
	g->st.msgs_in++;
	if (spl_sipmsg_scan(m, buf, len) != SPL_SIPMSG_E_NONE) {
		g->st.rx_bad++;
		return;
	}
	const struct spl_sip_hdr *cid = spl_sipmsg_hdr(m, SPL_SIP_HDR_CALL_ID);
	uint32_t slot, run;
	uint16_t gen;
	if (!cid || !gen_callid_decode(cid->value, &slot, &gen, &run) || slot >= g->ncalls) {
		g->st.rx_bad++;
		return;
	}
	struct gen_call *c = &g->calls[slot];
	if (run != g->run_id || c->gen != gen || c->kind == GEN_KIND_FREE)
		c = NULL;
	if (m->request) {
		if (c && c->kind != GEN_KIND_CALL)
			c = NULL;
		uas_request(g, c, slot, gen, m, src);
		return;
	}
	const struct spl_sip_hdr *cseq = spl_sipmsg_hdr(m, SPL_SIP_HDR_CSEQ);
	struct spl_sip_cseq cs;
	if (!cseq || spl_sip_cseq_parse(cseq->value.p, cseq->value.len, &cs) != 0) {
		g->st.rx_bad++;
		return;
	}
	uac_response(g, c, m, &cs);
}

static void on_timer(void *ctx, uint32_t handle, uint64_t data)
{
	(void)handle;
	struct gen *g = ctx;
	uint32_t slot = (uint32_t)(data >> 32);
	uint16_t gen = (uint16_t)(data >> 16);
	unsigned which = data & 0xff;
	struct gen_call *c = &g->calls[slot];
	if (c->gen != gen || c->kind == GEN_KIND_FREE)
		return;
	if (which == TIMER_UAC) {
		c->uac_timer = SPL_TIMER_NONE;
		uac_timer(g, c);
	} else {
		c->uas_timer = SPL_TIMER_NONE;
		uas_timer(g, c);
	}
}

uint32_t gen_timers(struct gen *g)
{
	return spl_timerwheel_advance(g->tw, g->now, on_timer, g);
}
