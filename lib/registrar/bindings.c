/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The writer side of a registrar: an AOR's next state is drafted in
 * scratch space, then committed whole (§10.3: "processed completely or not
 * at all") as a new record with its journal entry and expiry timer.
 * Also expiry timers and the operator's add/del.
 */
#include <errno.h>

#include "journal_priv.h"
#include "spl_timerwheel.h"

void reg_draft_load(struct spl_registrar *reg, const struct loc_rec *old, uint64_t now)
{
	reg->ndraft = 0;
	if (old == NULL)
		return;
	for (unsigned i = 0; i < old->nb && reg->ndraft < REG_DRAFT_MAX; i++) {
		if (old->b[i].expires_at <= now)
			continue;   /* expired: as if absent, the timer just has not run */
		struct reg_draft_b *d = &reg->draft[reg->ndraft++];
		loc_rec_binding(old, i, &d->b);
		d->uri_ok = spl_sip_uri_parse(d->b.contact.p, d->b.contact.len, &d->uri) == 0;
		d->existed = true;
		d->touched = d->removed = false;
		d->orig_cseq = d->b.cseq;
		d->orig_callid = d->b.call_id;
	}
}

int reg_draft_find(const struct spl_registrar *reg, const struct spl_sip_uri *u, bool uri_ok,
		   struct spl_str raw)
{
	for (unsigned i = 0; i < reg->ndraft; i++) {
		const struct reg_draft_b *d = &reg->draft[i];
		bool eq = (uri_ok && d->uri_ok)
			? spl_sip_uri_equal(u, &d->uri)
			: (raw.len == d->b.contact.len && memcmp(raw.p, d->b.contact.p, raw.len) == 0);
		if (eq)
			return (int)i;
	}
	return -1;
}

static uint64_t timer_data(const struct loc_part *p, uint32_t idx)
{
	return SPL_REGISTRAR_TIMER_TAG | (uint64_t)(p->gen[idx] & 0xffffff) << 32 | idx;
}

void reg_arm(struct spl_registrar *reg, const struct loc_rec *r)
{
	reg->timer[r->idx] = SPL_TIMER_NONE;
	if (reg->tw == NULL || r->first_expiry == UINT64_MAX)
		return;
	/* the wheel counts from its own time, which may trail `now` */
	uint64_t wn = spl_timerwheel_now(reg->tw);
	uint64_t delay = r->first_expiry > wn ? r->first_expiry - wn : 0;
	uint32_t h = spl_timerwheel_start(reg->tw, delay, timer_data(reg->part, r->idx));
	if (h == SPL_TIMER_NONE)
		reg->st.timer_full++;   /* lookups still hide it; the next change removes it */
	reg->timer[r->idx] = h;
}

void reg_disarm(struct spl_registrar *reg, const struct loc_rec *r)
{
	if (reg->tw != NULL && reg->timer[r->idx] != SPL_TIMER_NONE)
		spl_timerwheel_stop(reg->tw, reg->timer[r->idx]);
	reg->timer[r->idx] = SPL_TIMER_NONE;
}

enum spl_registrar_reason reg_commit(struct spl_registrar *reg, struct spl_str aor,
				     uint64_t hash, struct loc_rec *old, uint64_t *seq)
{
	struct spl_location *loc = reg->loc;
	struct loc_part *p = reg->part;
	unsigned n = 0;

	*seq = 0;
	for (unsigned i = 0; i < reg->ndraft; i++)
		if (!reg->draft[i].removed)
			reg->flat[n++] = reg->draft[i].b;
	if (n > loc->max_bindings)
		return SPL_REGISTRAR_R_LIMIT_CONTACTS;
	loc_sort(reg->flat, n);

	if (n == 0) {
		if (old == NULL)
			return SPL_REGISTRAR_R_OK;   /* nothing was there, nothing is */
		if (reg->jnl && !jnl_can_append(reg->jnl, jnl_rec_payload_bytes(NULL, aor)))
			return SPL_REGISTRAR_R_JOURNAL_FULL;
		reg_disarm(reg, old);
		loc_replace(loc, p, old, NULL);
		if (reg->jnl)
			*seq = jnl_append_rec(reg->jnl, NULL, aor);
		return SPL_REGISTRAR_R_OK;
	}

	if (loc_rec_bytes(aor, reg->flat, n) > p->rec_bytes)
		return SPL_REGISTRAR_R_LIMIT_RECORD;
	if (old == NULL && !loc_aor_reserve(loc))
		return SPL_REGISTRAR_R_LIMIT_AORS;
	int err;
	struct loc_rec *neu = loc_rec_build(loc, p, aor, hash, reg->flat, n, &err);
	if (neu == NULL) {
		if (old == NULL)
			loc_aor_release(loc);
		return err == -E2BIG ? SPL_REGISTRAR_R_LIMIT_RECORD : SPL_REGISTRAR_R_POOL_FULL;
	}
	if (reg->jnl && !jnl_can_append(reg->jnl, jnl_rec_payload_bytes(neu, aor))) {
		loc_rec_discard(p, neu);
		if (old == NULL)
			loc_aor_release(loc);
		return SPL_REGISTRAR_R_JOURNAL_FULL;
	}
	if (old != NULL)
		reg_disarm(reg, old);
	loc_replace(loc, p, old, neu);
	reg_arm(reg, neu);
	if (reg->jnl)
		*seq = jnl_append_rec(reg->jnl, neu, aor);
	return SPL_REGISTRAR_R_OK;
}

/* ------------------------------------------------------------------ */
/* Expiry                                                              */

void spl_registrar_timer_fire(struct spl_registrar *reg, uint64_t data, uint64_t now)
{
	struct loc_part *p = reg->part;
	if ((data & SPL_REGISTRAR_TIMER_TAG_MASK) != SPL_REGISTRAR_TIMER_TAG)
		return;
	uint32_t idx = (uint32_t)data;
	if (idx >= p->nrec || p->state[idx] != LOC_SLOT_LIVE ||
	    (p->gen[idx] & 0xffffff) != ((data >> 32) & 0xffffff))
		return;   /* the record was replaced since: its timer is not this one */
	struct loc_rec *r = loc_slot(p, idx);
	reg->timer[idx] = SPL_TIMER_NONE;

	unsigned n = 0;
	for (unsigned i = 0; i < r->nb; i++)
		if (r->b[i].expires_at > now)
			loc_rec_binding(r, i, &reg->flat[n++]);
	if (n == r->nb) {
		reg_arm(reg, r);   /* nothing due yet (a clock the wheel rounds differently) */
		return;
	}
	reg->st.bindings_expired += r->nb - n;
	/* Not journalled: the journal holds absolute expiry times and replay
	 * drops what has expired, so the record changes nothing on replay. */
	if (n == 0) {
		loc_replace(reg->loc, p, r, NULL);
		loc_reclaim(reg->loc, p);
		return;
	}
	int err;
	struct loc_rec *neu = loc_rec_build(reg->loc, p, loc_rec_aor(r), r->hash, reg->flat, n, &err);
	if (neu == NULL) {
		/* pool exhausted by records in grace: try again in a second */
		if (reg->tw) {
			reg->timer[idx] = spl_timerwheel_start(reg->tw, SPL_NS_PER_S, timer_data(p, idx));
			if (reg->timer[idx] == SPL_TIMER_NONE)
				reg->st.timer_full++;
		}
		return;
	}
	loc_replace(reg->loc, p, r, neu);
	reg_arm(reg, neu);
	loc_reclaim(reg->loc, p);
}

unsigned spl_registrar_reclaim(struct spl_registrar *reg)
{
	return loc_reclaim(reg->loc, reg->part);
}

/* ------------------------------------------------------------------ */
/* Operator changes                                                    */

static struct spl_str strip_angle(struct spl_str s)
{
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	if (s.len >= 2 && s.p[0] == '<' && s.p[s.len - 1] == '>') {
		s.p++;
		s.len -= 2;
	}
	return s;
}

/* Canonical AOR of an operator's text into reg->aor; 0, -EINVAL, -EXDEV. */
static int op_aor(struct spl_registrar *reg, struct spl_str text, struct spl_str *aor,
		  uint64_t *hash)
{
	struct spl_sip_uri u;
	text = strip_angle(text);
	if (text.p == NULL || spl_sip_uri_parse(text.p, text.len, &u) != 0)
		return -EINVAL;
	int n = spl_registrar_aor_canon(&u, reg->aor, sizeof(reg->aor));
	if (n < 0)
		return -EINVAL;
	*aor = reg_str(reg->aor, (size_t)n);
	*hash = spl_registrar_aor_hash(*aor);
	if (reg_part_of_hash(*hash, reg->loc->nparts) != reg->conf.shard)
		return -EXDEV;
	return 0;
}

static int op_errno(enum spl_registrar_reason r)
{
	switch (r) {
	case SPL_REGISTRAR_R_OK: return 0;
	case SPL_REGISTRAR_R_JOURNAL_FULL: return -ENOBUFS;
	default: return -ENOSPC;
	}
}

int spl_location_add(struct spl_registrar *reg, struct spl_str aor_text, struct spl_str contact,
		     uint32_t expires_s, uint64_t now)
{
	struct spl_str aor;
	uint64_t h, seq;
	int rc = op_aor(reg, aor_text, &aor, &h);
	if (rc != 0)
		return rc;
	contact = strip_angle(contact);
	struct spl_sip_uri u;
	if (contact.p == NULL || contact.len == 0 || spl_sip_uri_parse(contact.p, contact.len, &u) != 0)
		return -EINVAL;

	struct loc_rec *old = loc_find(reg->part, aor, h);
	reg_draft_load(reg, old, now);
	int k = reg_draft_find(reg, &u, true, contact);
	if (k < 0) {
		if (reg->ndraft >= REG_DRAFT_MAX)
			return -ENOSPC;
		k = (int)reg->ndraft++;
		memset(&reg->draft[k], 0, sizeof(reg->draft[k]));
	}
	struct spl_binding *b = &reg->draft[k].b;
	*b = (struct spl_binding){
		.contact = contact,
		.params = SPL_STR_LIT(""),
		.path = SPL_STR_LIT(""),
		.call_id = SPL_STR_LIT(""),   /* any REGISTER from the UA replaces it */
		.expires_at = expires_s ? now + (uint64_t)expires_s * SPL_NS_PER_S : UINT64_MAX,
		.registered_at = now,
		.q = 1000,
	};
	reg->draft[k].removed = false;
	rc = op_errno(reg_commit(reg, aor, h, old, &seq));
	if (rc == 0)
		reg->st.ops_add++;
	return rc;
}

int spl_location_del(struct spl_registrar *reg, struct spl_str aor_text, struct spl_str contact,
		     uint64_t now)
{
	struct spl_str aor;
	uint64_t h, seq;
	int rc = op_aor(reg, aor_text, &aor, &h);
	if (rc != 0)
		return rc;
	struct loc_rec *old = loc_find(reg->part, aor, h);
	if (old == NULL)
		return -ENOENT;
	reg_draft_load(reg, old, now);
	if (contact.p == NULL) {
		for (unsigned i = 0; i < reg->ndraft; i++)
			reg->draft[i].removed = true;
	} else {
		contact = strip_angle(contact);
		struct spl_sip_uri u;
		bool ok = spl_sip_uri_parse(contact.p, contact.len, &u) == 0;
		int k = reg_draft_find(reg, &u, ok, contact);
		if (k < 0)
			return -ENOENT;
		reg->draft[k].removed = true;
	}
	rc = op_errno(reg_commit(reg, aor, h, old, &seq));
	if (rc == 0)
		reg->st.ops_del++;
	return rc;
}
