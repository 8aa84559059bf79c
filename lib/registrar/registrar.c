/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * REGISTER processing, RFC 3261 §10.3 steps 1–8, with Path (RFC 3327).
 * The steps run in the RFC's order; the AOR is canonicalised early only
 * to refuse a REGISTER that reached the wrong shard before it touches any
 * state (the nonce-count table included).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "journal_priv.h"
#include "spl_timerwheel.h"

static const struct {
	const char *name;
	uint16_t status;
	const char *phrase;
} reasons[SPL_REGISTRAR_R__COUNT] = {
#define SPL_REGISTRAR_REASON(id, st, ph) [SPL_REGISTRAR_R_##id] = { #id, st, ph },
#include "spl_registrar_reasons.def"
#undef SPL_REGISTRAR_REASON
};

const char *spl_registrar_reason_name(enum spl_registrar_reason r)
{
	return (unsigned)r < SPL_REGISTRAR_R__COUNT ? reasons[r].name : "?";
}

/* ------------------------------------------------------------------ */
/* Create / free                                                       */

void spl_registrar_free(struct spl_registrar *reg)
{
	if (reg == NULL)
		return;
	if (reg->tw && reg->timer)
		for (uint32_t i = 0; i < reg->part->nrec; i++)
			if (reg->timer[i] != SPL_TIMER_NONE)
				spl_timerwheel_stop(reg->tw, reg->timer[i]);
	if (reg->domains)
		for (unsigned i = 0; i < reg->ndomains; i++)
			free(reg->domains[i]);
	free(reg->domains);
	free(reg->timer);
	free(reg->pbuf);
	free(reg->text);
	free(reg->lines);
	free(reg);
}

struct spl_registrar *spl_registrar_create(const struct spl_registrar_conf *conf,
					   struct spl_location *loc, struct spl_timerwheel *tw,
					   struct spl_auth *auth, struct spl_journal *journal,
					   uint64_t now)
{
	(void)now;
	if (conf == NULL || loc == NULL || conf->shard >= loc->nparts ||
	    (conf->ndomains && conf->domains == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	struct spl_registrar *reg = calloc(1, sizeof(*reg));
	if (reg == NULL)
		return NULL;
	reg->conf = *conf;
	reg->conf.domains = NULL;
	if (!reg->conf.default_expires) reg->conf.default_expires = 3600;
	if (!reg->conf.min_expires) reg->conf.min_expires = 60;
	if (!reg->conf.max_expires) reg->conf.max_expires = 86400;
	if (!reg->conf.retry_after) reg->conf.retry_after = 5;
	reg->loc = loc;
	reg->part = loc_part_of(loc, conf->shard);
	reg->tw = tw;
	reg->auth = auth;
	reg->jnl = journal;
	reg->ndomains = conf->ndomains;
	reg->domains = calloc(conf->ndomains ? conf->ndomains : 1, sizeof(char *));
	reg->timer = calloc(reg->part->nrec, sizeof(*reg->timer));
	reg->pbuf_cap = loc->record_bytes;
	reg->pbuf = malloc(reg->pbuf_cap);
	reg->text_cap = 2 * loc->record_bytes + 8192;
	reg->text = malloc(reg->text_cap);
	reg->max_lines = SPL_LOCATION_MAX_BINDINGS + SPL_SIPMSG_MAX_HDRS + 8;
	reg->lines = calloc(reg->max_lines, sizeof(*reg->lines));
	if (!reg->domains || !reg->timer || !reg->pbuf || !reg->text || !reg->lines)
		goto nomem;
	for (unsigned i = 0; i < conf->ndomains; i++)
		if ((reg->domains[i] = strdup(conf->domains[i])) == NULL)
			goto nomem;
	if (reg->conf.min_expires > reg->conf.max_expires) {
		spl_registrar_free(reg);
		errno = EINVAL;
		return NULL;
	}
	/* What the partition already holds (a replayed journal) expires too. */
	for (uint64_t k = 0; k <= reg->part->mask; k++)
		for (struct loc_rec *r = atomic_load_explicit(&reg->part->buckets[k], memory_order_relaxed);
		     r != NULL; r = atomic_load_explicit(&r->next, memory_order_relaxed))
			reg_arm(reg, r);
	return reg;
nomem:
	spl_registrar_free(reg);
	errno = ENOMEM;
	return NULL;
}

void spl_registrar_get_stats(const struct spl_registrar *reg, struct spl_registrar_stats *st)
{
	*st = reg->st;
	st->aors_live = atomic_load_explicit(&reg->part->aors, memory_order_relaxed);
	st->bindings_live = atomic_load_explicit(&reg->part->bindings, memory_order_relaxed);
	if (reg->jnl) {
		struct spl_journal_stats js;
		spl_journal_get_stats(reg->jnl, &js);
		st->journal_records = js.records;
		st->journal_bytes = js.bytes;
		st->journal_full = js.full;
	}
	if (reg->auth)
		spl_auth_get_stats(reg->auth, &st->auth);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static bool served(const struct spl_registrar *reg, struct spl_str host)
{
	for (unsigned i = 0; i < reg->ndomains; i++)
		if (spl_str_ieq(host, reg->domains[i]))
			return true;
	return false;
}

/* Appends to the response text; lines point into it. */
struct out_text {
	struct spl_registrar *reg;
	uint32_t len;
	unsigned nlines;
	bool fail;
};

static void line_printf(struct out_text *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void line_printf(struct out_text *o, const char *fmt, ...)
{
	struct spl_registrar *reg = o->reg;
	if (o->fail || o->nlines >= reg->max_lines) {
		o->fail = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(reg->text + o->len, reg->text_cap - o->len, fmt, ap);
	va_end(ap);
	if (w < 0 || (uint32_t)w >= reg->text_cap - o->len) {
		o->fail = true;
		return;
	}
	reg->lines[o->nlines++] = reg_str(reg->text + o->len, (size_t)w);
	o->len += (uint32_t)w;
}

static void make_tag(struct spl_registrar *reg, const struct spl_sipmsg *m)
{
	uint64_t h = reg_hash64(m->call_id.p, m->call_id.len) ^
		     ((uint64_t)reg->conf.shard << 56) ^ reg->tag_ctr++;
	snprintf(reg->tag, sizeof(reg->tag), "%016llx", (unsigned long long)h);
}

static int answer(struct spl_registrar *reg, struct spl_sipmsg *m, enum spl_registrar_reason r,
		  unsigned nlines, char *out, uint32_t cap, struct spl_registrar_result *res)
{
	uint16_t status = reasons[r].status;
	make_tag(reg, m);
	int len = spl_sipmsg_build_response(m, status, reasons[r].phrase,
					    reg_str(reg->tag, strlen(reg->tag)),
					    reg->lines, nlines, out, cap);
	if (len < 0 && r == SPL_REGISTRAR_R_OK) {
		/* the bindings changed; the UA will refresh and learn them */
		r = SPL_REGISTRAR_R_NO_SPACE;
		status = reasons[r].status;
		len = spl_sipmsg_build_response(m, status, reasons[r].phrase,
						reg_str(reg->tag, strlen(reg->tag)), NULL, 0, out, cap);
	}
	if (len < 0)
		return -ENOSPC;
	res->action = SPL_REGISTRAR_RESPOND;
	res->reason = (uint8_t)r;
	res->status = status;
	res->len = (uint32_t)len;
	reg->st.registers++;
	reg->st.by_reason[r]++;
	if (status >= 300)
		reg->st.failed++;
	if (r == SPL_REGISTRAR_R_LIMIT_CONTACTS || r == SPL_REGISTRAR_R_LIMIT_RECORD ||
	    r == SPL_REGISTRAR_R_LIMIT_AORS || r == SPL_REGISTRAR_R_POOL_FULL)
		reg->st.limit_hits++;
	return 0;
}

static int fail(struct spl_registrar *reg, struct spl_sipmsg *m, enum spl_registrar_reason r,
		char *out, uint32_t cap, struct spl_registrar_result *res)
{
	struct out_text o = { .reg = reg };
	if (reasons[r].status == 503)
		line_printf(&o, "Retry-After: %u", reg->conf.retry_after);
	return answer(reg, m, r, o.nlines, out, cap, res);
}

/* Copy s into pbuf with folding turned into spaces; NULL when full. */
static const char *pbuf_put(struct spl_registrar *reg, const char *p, uint32_t n)
{
	if (reg->pbuf_len + n > reg->pbuf_cap)
		return NULL;
	char *d = reg->pbuf + reg->pbuf_len;
	for (uint32_t i = 0; i < n; i++)
		d[i] = (p[i] == '\r' || p[i] == '\n') ? ' ' : p[i];
	reg->pbuf_len += n;
	return d;
}

/* The contact's params other than q and expires, ';'-joined, in pbuf. */
static int contact_params(struct spl_registrar *reg, const struct spl_sip_nameaddr *na,
			  struct spl_str *out)
{
	struct spl_sip_param_iter it;
	struct spl_str n, v;
	uint32_t start = reg->pbuf_len;
	*out = reg_str(reg->pbuf + start, 0);
	if (na->params.p == NULL)
		return 0;
	spl_sip_param_iter_init(&it, na->params, ';');
	while (spl_sip_param_next(&it, &n, &v) == 1) {
		if (spl_str_ieq(n, "q") || spl_str_ieq(n, "expires"))
			continue;
		if ((reg->pbuf_len > start && !pbuf_put(reg, ";", 1)) || !pbuf_put(reg, n.p, n.len) ||
		    (v.p && (!pbuf_put(reg, "=", 1) || !pbuf_put(reg, v.p, v.len))))
			return -1;
	}
	*out = reg_str(reg->pbuf + start, reg->pbuf_len - start);
	return 0;
}

/* Every Path value, comma-joined, in pbuf. */
static int path_text(struct spl_registrar *reg, const struct spl_sipmsg *m, struct spl_str *out)
{
	uint32_t start = reg->pbuf_len;
	for (uint16_t i = m->first[SPL_SIP_HDR_PATH]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		const struct spl_sip_hdr *h = &m->hdrs[i];
		if ((reg->pbuf_len > start && !pbuf_put(reg, ",", 1)) ||
		    !pbuf_put(reg, h->value.p, h->value.len))
			return -1;
	}
	*out = reg_str(reg->pbuf + start, reg->pbuf_len - start);
	return 0;
}

static bool has_token(const struct spl_sipmsg *m, enum spl_sip_hdr_id id, const char *tok)
{
	for (uint16_t i = m->first[id]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		struct spl_str rest = m->hdrs[i].value, t;
		while (spl_sip_token_next(&rest, &t) == 1)
			if (spl_str_ieq(t, tok))
				return true;
	}
	return false;
}

/* "0.5" for 500, "0.05" for 50, "1" for 1000. */
static void q_text(uint16_t q, char *buf)
{
	if (q >= 1000) {
		strcpy(buf, "1");
		return;
	}
	snprintf(buf, 8, "0.%03u", q);
	size_t n = strlen(buf);
	while (n > 3 && buf[n - 1] == '0')
		buf[--n] = 0;
	if (n == 2)
		strcpy(buf, "0");
}

/* §10.3 step 8: every current binding with its remaining time. */
static int ok_200(struct spl_registrar *reg, struct spl_sipmsg *m, struct spl_str aor,
		  uint64_t hash, uint64_t now, char *out, uint32_t cap,
		  struct spl_registrar_result *res)
{
	struct out_text o = { .reg = reg };
	const struct loc_rec *r = loc_find(reg->part, aor, hash);
	for (unsigned i = 0; r != NULL && i < r->nb; i++) {
		struct spl_binding b;
		loc_rec_binding(r, i, &b);
		if (b.expires_at <= now)
			continue;
		uint64_t left = (b.expires_at - now + SPL_NS_PER_S - 1) / SPL_NS_PER_S;
		char q[8] = "";
		if (b.q != 1000)
			q_text(b.q, q);
		line_printf(&o, "Contact: <%.*s>;expires=%llu%s%s%s%.*s", (int)b.contact.len,
			    b.contact.p, (unsigned long long)(left > UINT32_MAX ? UINT32_MAX : left),
			    q[0] ? ";q=" : "", q, b.params.len ? ";" : "", (int)b.params.len,
			    b.params.p);
	}
	/* RFC 3327 §5.3: echo Path to a UA that supports it */
	if (m->count[SPL_SIP_HDR_PATH] && has_token(m, SPL_SIP_HDR_SUPPORTED, "path")) {
		for (uint16_t i = m->first[SPL_SIP_HDR_PATH]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
			reg->pbuf_len = 0;
			const char *v = pbuf_put(reg, m->hdrs[i].value.p, m->hdrs[i].value.len);
			if (v)
				line_printf(&o, "Path: %.*s", (int)m->hdrs[i].value.len, v);
		}
	}
	if (o.fail)
		return answer(reg, m, SPL_REGISTRAR_R_NO_SPACE, 0, out, cap, res);
	return answer(reg, m, SPL_REGISTRAR_R_OK, o.nlines, out, cap, res);
}

/* ------------------------------------------------------------------ */
/* §10.3                                                               */

/* delta-seconds; above 2^32-1 counts as 2^32-1 (§10.2.1.1 allows it,
 * and the maximum clamps it anyway). -1 when absent or not digits. */
static int delta_seconds(struct spl_str v, uint32_t *out)
{
	uint64_t x = 0;
	if (v.p == NULL || v.len == 0)
		return -1;
	for (uint32_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v.p[i] - '0');
		if (x > UINT32_MAX)
			x = UINT32_MAX;
	}
	*out = (uint32_t)x;
	return 0;
}

/* Steps 6 and 7 on the draft. OK, or why the request fails. */
static enum spl_registrar_reason apply_contacts(struct spl_registrar *reg, struct spl_sipmsg *m,
						const struct spl_registrar_src *src, uint64_t now,
						unsigned *added, unsigned *refreshed, unsigned *removed)
{
	const struct spl_registrar_conf *c = &reg->conf;
	struct spl_str path = SPL_STR_NULL;

	if (m->contact.star) {
		/* step 6: the parser has ensured "*" stands alone */
		if (!m->has_expires || m->expires != 0)
			return SPL_REGISTRAR_R_BAD_WILDCARD;
		for (unsigned i = 0; i < reg->ndraft; i++) {
			struct reg_draft_b *d = &reg->draft[i];
			if (spl_str_present(d->orig_callid) && d->orig_callid.len == m->call_id.len &&
			    memcmp(d->orig_callid.p, m->call_id.p, m->call_id.len) == 0 &&
			    m->cseq.num <= d->orig_cseq)
				return SPL_REGISTRAR_R_OUT_OF_ORDER;
			d->removed = true;
			(*removed)++;
		}
		return SPL_REGISTRAR_R_OK;
	}

	reg->pbuf_len = 0;
	if (path_text(reg, m, &path) != 0)
		return SPL_REGISTRAR_R_LIMIT_RECORD;
	for (uint16_t hi = m->first[SPL_SIP_HDR_CONTACT]; hi != SPL_SIPMSG_NONE; hi = m->hdrs[hi].next) {
		struct spl_str rest = m->hdrs[hi].value;
		struct spl_sip_nameaddr na;
		int rc;
		while ((rc = spl_sip_nameaddr_next(&rest, &na)) == 1) {
			int q = spl_sip_q_parse(na.q);
			if (q < 0 || na.star)
				return SPL_REGISTRAR_R_BAD_CONTACT;
			/* step 7: contact param, else Expires, else default;
			 * an unreadable param counts as absent */
			uint32_t e;
			if (delta_seconds(na.expires, &e) != 0)
				e = m->has_expires ? m->expires : c->default_expires;
			if (e > 0 && e < c->min_expires && e < 3600)
				return SPL_REGISTRAR_R_INTERVAL_TOO_BRIEF;
			if (e > c->max_expires)
				e = c->max_expires;

			int k = reg_draft_find(reg, &na.uri, true, na.uri_str);
			struct reg_draft_b *d = k >= 0 ? &reg->draft[k] : NULL;
			if (d && d->existed && !d->touched && spl_str_present(d->orig_callid) &&
			    d->orig_callid.len == m->call_id.len &&
			    memcmp(d->orig_callid.p, m->call_id.p, m->call_id.len) == 0 &&
			    m->cseq.num <= d->orig_cseq)
				return SPL_REGISTRAR_R_OUT_OF_ORDER;
			if (e == 0) {
				if (d && !d->removed) {
					d->removed = d->touched = true;
					(*removed) += d->existed;
				}
				continue;
			}
			if (d == NULL) {
				if (reg->ndraft >= REG_DRAFT_MAX)
					return SPL_REGISTRAR_R_LIMIT_CONTACTS;
				d = &reg->draft[reg->ndraft++];
				memset(d, 0, sizeof(*d));
				d->uri = na.uri;
				d->uri_ok = true;
				(*added)++;
			} else if (d->existed && !d->touched) {
				(*refreshed)++;
			}
			struct spl_str params;
			if (contact_params(reg, &na, &params) != 0)
				return SPL_REGISTRAR_R_LIMIT_RECORD;
			d->touched = true;
			d->removed = false;
			d->b = (struct spl_binding){
				.contact = na.uri_str,
				.params = params,
				.path = path,
				.call_id = m->call_id,
				.expires_at = now + (uint64_t)e * SPL_NS_PER_S,
				.registered_at = now,
				.cseq = m->cseq.num,
				.q = (uint16_t)q,
			};
			if (src)
				d->b.received = *src;
		}
		if (rc < 0)
			return SPL_REGISTRAR_R_BAD_CONTACT;
	}
	return SPL_REGISTRAR_R_OK;
}

/* The user part of a canonical AOR ("sip:user@host"), unescaped. */
static struct spl_str aor_user(struct spl_str aor)
{
	const char *at = NULL;
	for (uint32_t i = 4; i < aor.len; i++)
		if (aor.p[i] == '@')
			at = aor.p + i;
	return at ? reg_str(aor.p + 4, (size_t)(at - aor.p - 4)) : SPL_STR_NULL;
}

int spl_registrar_process(struct spl_registrar *reg, struct spl_sipmsg *m,
			  const struct spl_registrar_src *src, uint64_t now,
			  char *out, uint32_t cap, struct spl_registrar_result *res)
{
	memset(res, 0, sizeof(*res));
	if (!m->request || m->method_id != SPL_SIP_METHOD_REGISTER)
		return -EINVAL;
	if (reg->part->nlimbo >= 32)
		loc_reclaim(reg->loc, reg->part);

	if (spl_sipmsg_parse(m, SPL_SIPMSG_P_VIA | SPL_SIPMSG_P_FROM | SPL_SIPMSG_P_TO |
				 SPL_SIPMSG_P_CALLID | SPL_SIPMSG_P_CSEQ | SPL_SIPMSG_P_RURI |
				 SPL_SIPMSG_P_CONTACT | SPL_SIPMSG_P_EXPIRES) != SPL_SIPMSG_E_NONE)
		return fail(reg, m, SPL_REGISTRAR_R_BAD_REQUEST, out, cap, res);

	/* 1. the Request-URI's domain */
	const struct spl_sip_uri *ru = &m->ruri_uri;
	if (ru->scheme_id != SPL_SIP_SCHEME_SIP && ru->scheme_id != SPL_SIP_SCHEME_SIPS)
		return fail(reg, m, SPL_REGISTRAR_R_BAD_SCHEME, out, cap, res);
	if (!served(reg, ru->host.text)) {
		if (reg->conf.forward_foreign) {
			res->action = SPL_REGISTRAR_FORWARD;
			res->reason = SPL_REGISTRAR_R_FORWARD;
			reg->st.registers++;
			reg->st.by_reason[SPL_REGISTRAR_R_FORWARD]++;
			return 0;
		}
		return fail(reg, m, SPL_REGISTRAR_R_FOREIGN_DOMAIN, out, cap, res);
	}

	/* the AOR decides the writer: refuse a mis-routed request untouched */
	int alen = spl_registrar_aor_canon(&m->to.uri, reg->aor, sizeof(reg->aor));
	struct spl_str aor = reg_str(reg->aor, alen > 0 ? (size_t)alen : 0);
	uint64_t hash = spl_registrar_aor_hash(aor);
	if (alen > 0 && reg_part_of_hash(hash, reg->loc->nparts) != reg->conf.shard) {
		reg->st.not_owner++;
		return -EXDEV;
	}

	/* 2. Require: we implement path (RFC 3327) and nothing else */
	struct out_text o = { .reg = reg };
	for (uint16_t i = m->first[SPL_SIP_HDR_REQUIRE]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
		struct spl_str rest = m->hdrs[i].value, t;
		while (spl_sip_token_next(&rest, &t) == 1)
			if (!spl_str_ieq(t, "path"))
				line_printf(&o, "Unsupported: %.*s", (int)t.len, t.p);
	}
	if (o.nlines)
		return answer(reg, m, SPL_REGISTRAR_R_BAD_EXTENSION, o.nlines, out, cap, res);

	/* 3. authentication */
	struct spl_auth_result ar = { .verdict = SPL_AUTH_NOT_REQUIRED };
	if (reg->auth != NULL) {
		if (spl_auth_check(reg->auth, m, SPL_AUTH_WWW, m->method, now, &ar) != 0)
			return fail(reg, m, SPL_REGISTRAR_R_BAD_REQUEST, out, cap, res);
		if (ar.verdict == SPL_AUTH_CHALLENGE) {
			int n = spl_auth_challenge(reg->auth, &ar, SPL_AUTH_WWW, now, reg->text,
						   reg->text_cap, reg->lines, reg->max_lines);
			return answer(reg, m, SPL_REGISTRAR_R_AUTH_CHALLENGE, n > 0 ? (unsigned)n : 0,
				      out, cap, res);
		}
	}

	/* 5. the AOR must be one of ours (before 4, which needs it) */
	if (alen <= 0 || !served(reg, m->to.uri.host.text))
		return fail(reg, m, SPL_REGISTRAR_R_NOT_FOUND, out, cap, res);

	/* 4. may this user change this AOR's bindings? */
	if (ar.verdict == SPL_AUTH_OK && !reg->conf.authz_any_user) {
		struct spl_str u = aor_user(aor);
		if (!u.p || u.len != ar.username.len || memcmp(u.p, ar.username.p, u.len) != 0)
			return fail(reg, m, SPL_REGISTRAR_R_AUTH_FORBIDDEN, out, cap, res);
	}

	/* 6, 7 on a draft; commit all or nothing */
	struct loc_rec *old = loc_find(reg->part, aor, hash);
	if (m->ncontacts == 0) {
		reg->st.fetches++;
	} else {
		unsigned added = 0, refreshed = 0, removed = 0;
		uint64_t seq = 0;
		reg_draft_load(reg, old, now);
		enum spl_registrar_reason r = apply_contacts(reg, m, src, now, &added, &refreshed, &removed);
		if (r == SPL_REGISTRAR_R_INTERVAL_TOO_BRIEF) {
			line_printf(&o, "Min-Expires: %u", reg->conf.min_expires);
			return answer(reg, m, r, o.nlines, out, cap, res);
		}
		if (r == SPL_REGISTRAR_R_OK)
			r = reg_commit(reg, aor, hash, old, &seq);
		if (r != SPL_REGISTRAR_R_OK)
			return fail(reg, m, r, out, cap, res);
		reg->st.bindings_added += added;
		reg->st.bindings_refreshed += refreshed;
		reg->st.bindings_removed += removed;
		res->journal_seq = seq;
	}
	/* A 200 that only shows state (a fetch, a no-op) must not get ahead
	 * of the journal either in sync mode. */
	if (reg->jnl && res->journal_seq == 0 &&
	    spl_journal_last_seq(reg->jnl) > spl_journal_durable_seq(reg->jnl))
		res->journal_seq = spl_journal_last_seq(reg->jnl);

	/* 8. */
	return ok_200(reg, m, aor, hash, now, out, cap, res);
}
