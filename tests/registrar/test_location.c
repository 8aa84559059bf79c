/* SPDX-License-Identifier: BSD-3-Clause */
/* Location service: lookup order, expiry by the timer wheel, operator
 * changes, paged listing, pool reuse through QSBR. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reg_util.h"

#define ALICE "sip:alice@example.com"

static bool contact_is(const struct spl_binding *b, const char *uri)
{
	return b->contact.len == strlen(uri) && memcmp(b->contact.p, uri, b->contact.len) == 0;
}

Test(registrar_loc, lookup_orders_by_q_then_most_recent)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Contact: <sip:low@10.0.0.1>;q=0.1\r\n", &r);
	fx_advance(&f, SEC(1));
	do_reg(&f, "c2", 1, "Contact: <sip:old@10.0.0.2>;q=0.7\r\n", &r);
	fx_advance(&f, SEC(1));
	do_reg(&f, "c3", 1, "Contact: <sip:top@10.0.0.3>\r\n", &r);
	fx_advance(&f, SEC(1));
	do_reg(&f, "c4", 1, "Contact: <sip:new@10.0.0.4>;q=0.7\r\n", &r);
	cr_assert_eq(r.res.status, 200);

	struct spl_binding b[8];
	cr_assert_eq(lookup(&f, ALICE, b, 8), 4);
	cr_assert(contact_is(&b[0], "sip:top@10.0.0.3"));
	cr_assert(contact_is(&b[1], "sip:new@10.0.0.4"), "same q: most recent first");
	cr_assert(contact_is(&b[2], "sip:old@10.0.0.2"));
	cr_assert(contact_is(&b[3], "sip:low@10.0.0.1"));
	cr_assert_eq(b[3].q, 100);
	/* the 200 lists them in the same order */
	char v[128];
	cr_assert(line_value(r.out, "Contact:", 0, v, sizeof(v)));
	cr_assert_not_null(strstr(v, "sip:top@"));
	/* max bounds what is written */
	cr_assert_eq(lookup(&f, ALICE, b, 2), 2);
	cr_assert(contact_is(&b[0], "sip:top@10.0.0.3"));
	/* a refresh moves a binding ahead of its equal-q peer */
	fx_advance(&f, SEC(1));
	do_reg(&f, "c2", 2, "Contact: <sip:old@10.0.0.2>;q=0.7\r\n", &r);
	cr_assert_eq(lookup(&f, ALICE, b, 8), 4);
	cr_assert(contact_is(&b[1], "sip:old@10.0.0.2"));
	cr_assert_eq(lookup(&f, "sip:nobody@example.com", b, 8), 0);
	fx_fini(&f);
}

Test(registrar_loc, expiry_by_timer_wheel_removes_bindings)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Contact: <sip:a@10.0.0.1>;expires=60, <sip:b@10.0.0.1>;expires=120\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	struct spl_binding b[4];
	fx_advance(&f, SEC(59));
	cr_assert_eq(lookup(&f, ALICE, b, 4), 2);
	fx_advance(&f, SEC(2));
	cr_assert_eq(lookup(&f, ALICE, b, 4), 1);
	cr_assert(contact_is(&b[0], "sip:b@10.0.0.1"));
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.bindings_expired, 1);
	cr_assert_eq(st.bindings_live, 1, "the timer rebuilt the record without it");
	fx_advance(&f, SEC(60));
	cr_assert_eq(lookup(&f, ALICE, b, 4), 0);
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.bindings_expired, 2);
	cr_assert_eq(st.aors_live, 0);
	cr_assert_eq(spl_timerwheel_count(f.tw), 0);
	fx_fini(&f);
}

Test(registrar_loc, refresh_moves_the_expiry_timer)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Contact: <sip:a@10.0.0.1>;expires=60\r\n", &r);
	fx_advance(&f, SEC(50));
	do_reg(&f, "c1", 2, "Contact: <sip:a@10.0.0.1>;expires=60\r\n", &r);
	cr_assert_eq(spl_timerwheel_count(f.tw), 1, "one timer per AOR");
	fx_advance(&f, SEC(30));
	struct spl_binding b[2];
	cr_assert_eq(lookup(&f, ALICE, b, 2), 1, "the old timer must not remove the refreshed binding");
	fx_advance(&f, SEC(31));
	cr_assert_eq(lookup(&f, ALICE, b, 2), 0);
	fx_fini(&f);
}

Test(registrar_loc, expired_binding_hidden_even_without_timer)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Contact: <sip:a@10.0.0.1>;expires=60\r\n", &r);
	f.now += SEC(61);   /* clock moves, wheel not advanced */
	struct spl_binding b[2];
	cr_assert_eq(lookup(&f, ALICE, b, 2), 0);
	do_reg(&f, "c1", 2, NULL, &r);
	cr_assert_eq(count_lines(r.out, "Contact:"), 0);
	fx_fini(&f);
}

Test(registrar_loc, operator_add_and_del)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	cr_assert_eq(spl_location_add(f.reg, SPL_STR_LIT("sip:bob@example.com"),
				      SPL_STR_LIT("<sip:bob@10.1.1.1:5060>"), 0, f.now), 0);
	cr_assert_eq(spl_location_add(f.reg, SPL_STR_LIT("sip:bob@EXAMPLE.com;user=phone"),
				      SPL_STR_LIT("sip:bob@10.1.1.2"), 120, f.now), 0);
	struct spl_binding b[4];
	cr_assert_eq(lookup(&f, "sip:bob@example.com", b, 4), 2);
	fx_advance(&f, SEC(121));
	cr_assert_eq(lookup(&f, "sip:bob@example.com", b, 4), 1, "0 means permanent");
	cr_assert_eq(b[0].expires_at, UINT64_MAX);

	/* a REGISTER from the UA for the same contact replaces the static one */
	char text[2048];
	mk_register(text, sizeof(text), "example.com", "bob", "ua", 1,
		    "Contact: <sip:bob@10.1.1.1:5060>;expires=300\r\n");
	do_process(&f, text, &r);
	cr_assert_eq(r.res.status, 200);
	cr_assert_eq(lookup(&f, "sip:bob@example.com", b, 4), 1);
	cr_assert_eq(b[0].expires_at, f.now + SEC(300));

	cr_assert_eq(spl_location_del(f.reg, SPL_STR_LIT("sip:bob@example.com"),
				      SPL_STR_LIT("sip:bob@10.9.9.9"), f.now), -ENOENT);
	cr_assert_eq(spl_location_add(f.reg, SPL_STR_LIT("sip:bob@example.com"),
				      SPL_STR_LIT("sip:bob@10.1.1.3"), 0, f.now), 0);
	cr_assert_eq(spl_location_del(f.reg, SPL_STR_LIT("sip:bob@example.com"),
				      SPL_STR_LIT("<sip:bob@10.1.1.3>"), f.now), 0);
	cr_assert_eq(lookup(&f, "sip:bob@example.com", b, 4), 1);
	cr_assert_eq(spl_location_del(f.reg, SPL_STR_LIT("sip:bob@example.com"), SPL_STR_NULL, f.now), 0);
	cr_assert_eq(lookup(&f, "sip:bob@example.com", b, 4), 0);
	cr_assert_eq(spl_location_del(f.reg, SPL_STR_LIT("sip:bob@example.com"), SPL_STR_NULL, f.now),
		     -ENOENT);
	cr_assert_eq(spl_location_add(f.reg, SPL_STR_LIT("not a uri"), SPL_STR_LIT("sip:x@y"), 0, f.now),
		     -EINVAL);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.ops_add, 3);
	cr_assert_eq(st.ops_del, 2);
	fx_fini(&f);
}

Test(registrar_loc, operator_change_on_wrong_shard_is_exdev)
{
	struct fx f;
	char buf[SPL_REGISTRAR_AOR_MAX];
	unsigned owner = spl_registrar_aor_shard(aor_of("sip:bob@example.com", buf, sizeof(buf)), 2);
	struct fx_opts o = { .nshards = 2, .shard = owner ^ 1 };
	fx_init(&f, &o);
	cr_assert_eq(spl_location_add(f.reg, SPL_STR_LIT("sip:bob@example.com"),
				      SPL_STR_LIT("sip:bob@10.1.1.1"), 0, f.now), -EXDEV);
	fx_fini(&f);
}

Test(registrar_loc, paged_listing_covers_every_aor_once)
{
	struct fx f;
	fx_init(&f, NULL);
	char aor[64];
	for (int i = 0; i < 25; i++) {
		snprintf(aor, sizeof(aor), "sip:user%02d@example.com", i);
		cr_assert_eq(spl_location_add(f.reg, (struct spl_str){ aor, (uint32_t)strlen(aor) },
					      SPL_STR_LIT("sip:dev@10.0.0.1"), 0, f.now), 0);
	}
	cr_assert_eq(spl_location_add(f.reg, SPL_STR_LIT("sip:user00@example.com"),
				      SPL_STR_LIT("sip:dev2@10.0.0.1"), 0, f.now), 0);
	struct spl_location_cursor cur = { 0 };
	struct spl_location_aor page[10];
	bool seen[25] = { false };
	int pages = 0, total = 0, n;
	while ((n = spl_location_list(f.loc, &cur, page, 10, f.now)) > 0) {
		pages++;
		cr_assert_leq(n, 10);
		for (int i = 0; i < n; i++) {
			int k;
			cr_assert_eq(sscanf(page[i].aor.p, "sip:user%02d@", &k), 1);
			cr_assert(!seen[k], "listed twice: %d", k);
			seen[k] = true;
			cr_assert_eq(page[i].nbindings, k == 0 ? 2u : 1u);
			struct spl_binding b[4];
			cr_assert_eq(spl_location_aor_bindings(&page[i], b, 4, f.now), (int)page[i].nbindings);
			total++;
		}
	}
	cr_assert_eq(total, 25);
	cr_assert_eq(pages, 3);
	struct spl_location_stats ls;
	spl_location_get_stats(f.loc, 0, &ls);
	cr_assert_eq(ls.aors, 25);
	cr_assert_eq(ls.bindings, 26);
	cr_assert_eq(ls.aors_total, 25);
	fx_fini(&f);
}

Test(registrar_loc, replaced_records_are_reused_after_readers_quiesce)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .max_aors = 4, .pool_records = 8 };
	fx_init(&f, &o);
	/* 200 refreshes of one AOR through an 8-record pool: each retires one */
	for (unsigned i = 1; i <= 200; i++) {
		do_reg(&f, "c1", i, "Contact: <sip:a@10.0.0.1>\r\n", &r);
		cr_assert_eq(r.res.status, 200, "refresh %u: %s", i, r.out);
		fx_quiesce(&f);
	}
	struct spl_location_stats ls;
	spl_location_get_stats(f.loc, 0, &ls);
	cr_assert_eq(ls.aors, 1);

	/* A reader that never reaches a quiescent point pins every record
	 * retired after it: the pool runs dry and that is answered 503. */
	int stuck = spl_location_reader_register(f.loc);
	cr_assert_geq(stuck, 0);
	unsigned i = 201, got503 = 0;
	for (; i < 230 && !got503; i++) {
		do_reg(&f, "c1", i, "Contact: <sip:a@10.0.0.1>\r\n", &r);
		if (r.res.status == 503)
			got503 = i;
		fx_quiesce(&f);
	}
	cr_assert(got503, "pool exhaustion must be answered");
	cr_assert_eq(r.res.reason, SPL_REGISTRAR_R_POOL_FULL);
	struct spl_binding b[2];
	cr_assert_eq(lookup(&f, ALICE, b, 2), 1, "the last committed state stays");
	/* once the reader passes a quiescent point, records flow again */
	spl_qsbr_quiescent(spl_location_qsbr(f.loc), stuck);
	do_reg(&f, "c1", i + 1, "Contact: <sip:a@10.0.0.1>\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	spl_qsbr_offline(spl_location_qsbr(f.loc), stuck);
	spl_qsbr_unregister(spl_location_qsbr(f.loc), stuck);
	fx_fini(&f);
}

Test(registrar_loc, record_too_large_is_403)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .record_bytes = 512 };
	fx_init(&f, &o);
	char extra[2048];
	snprintf(extra, sizeof(extra), "Contact: <sip:%0300d@10.0.0.1>, <sip:%0300d@10.0.0.2>\r\n", 1, 2);
	do_reg(&f, "c1", 1, extra, &r);
	cr_assert_eq(r.res.status, 403);
	cr_assert_eq(r.res.reason, SPL_REGISTRAR_R_LIMIT_RECORD);
	fx_fini(&f);
}

Test(registrar_qsbr, token_passes_only_when_every_online_reader_quiesced)
{
	struct spl_qsbr *q = spl_qsbr_create(4);
	cr_assert_not_null(q);
	cr_assert(spl_qsbr_check(q, spl_qsbr_retire(q)), "no readers: immediate");
	int a = spl_qsbr_register(q), b = spl_qsbr_register(q);
	cr_assert(a >= 0 && b >= 0 && a != b);
	uint64_t t = spl_qsbr_retire(q);
	cr_assert(!spl_qsbr_check(q, t));
	spl_qsbr_quiescent(q, a);
	cr_assert(!spl_qsbr_check(q, t));
	spl_qsbr_offline(q, b);
	cr_assert(spl_qsbr_check(q, t), "offline readers hold nothing");
	spl_qsbr_online(q, b);
	uint64_t t2 = spl_qsbr_retire(q);
	cr_assert(!spl_qsbr_check(q, t2));
	spl_qsbr_quiescent(q, a);
	spl_qsbr_quiescent(q, b);
	cr_assert(spl_qsbr_check(q, t2));
	cr_assert_eq(spl_qsbr_register(q), 2);
	cr_assert_eq(spl_qsbr_register(q), 3);
	cr_assert_eq(spl_qsbr_register(q), -ENOSPC);
	spl_qsbr_free(q);
}
