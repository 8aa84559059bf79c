/* SPDX-License-Identifier: BSD-3-Clause */
/* RFC 3261 §10.3 scenarios: real SIP text through lib/sipmsg, a virtual clock. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reg_util.h"

#define ALICE "sip:alice@example.com"

Test(registrar_reg, register_one_contact_200_lists_it_with_expires)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1@host", 1, "Contact: <sip:alice@192.0.2.10:5060>\r\nExpires: 1800\r\n", &r);
	cr_assert_eq(r.rc, 0);
	cr_assert_eq(r.res.status, 200, "%s", r.out);
	cr_assert_eq(count_lines(r.out, "Contact:"), 1);
	char v[512];
	cr_assert(line_value(r.out, "Contact:", 0, v, sizeof(v)));
	cr_assert_str_eq(v, "<sip:alice@192.0.2.10:5060>;expires=1800");
	/* the registrar is a UAS: its response carries a To tag */
	cr_assert(line_value(r.out, "To:", 0, v, sizeof(v)));
	cr_assert_not_null(strstr(v, ";tag="));

	struct spl_binding b[4];
	cr_assert_eq(lookup(&f, ALICE, b, 4), 1);
	cr_assert_eq(b[0].contact.len, strlen("sip:alice@192.0.2.10:5060"));
	cr_assert_eq(memcmp(b[0].contact.p, "sip:alice@192.0.2.10:5060", b[0].contact.len), 0);
	cr_assert_eq(b[0].expires_at, f.now + SEC(1800));
	cr_assert_eq(b[0].cseq, 1);
	cr_assert_eq(b[0].q, 1000);
	cr_assert_eq(b[0].call_id.len, strlen("c1@host"));
	/* the source address is kept for NAT traversal */
	cr_assert_eq(b[0].received.port, 40000);
	cr_assert_eq(b[0].received.addr[0], 198);

	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.by_reason[SPL_REGISTRAR_R_OK], 1);
	cr_assert_eq(st.bindings_added, 1);
	cr_assert_eq(st.bindings_live, 1);
	cr_assert_eq(st.aors_live, 1);
	fx_fini(&f);
}

Test(registrar_reg, remaining_expires_shrinks_and_refresh_restores)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Contact: <sip:alice@192.0.2.10>;expires=600\r\n", &r);
	fx_advance(&f, SEC(100));
	do_reg(&f, "c1", 2, NULL, &r);   /* fetch */
	char v[256];
	cr_assert(line_value(r.out, "Contact:", 0, v, sizeof(v)));
	cr_assert_str_eq(v, "<sip:alice@192.0.2.10>;expires=500");
	do_reg(&f, "c1", 3, "Contact: <sip:alice@192.0.2.10>;expires=600\r\n", &r);
	cr_assert(line_value(r.out, "Contact:", 0, v, sizeof(v)));
	cr_assert_str_eq(v, "<sip:alice@192.0.2.10>;expires=600");
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.bindings_refreshed, 1);
	cr_assert_eq(st.fetches, 1);
	fx_fini(&f);
}

Test(registrar_reg, wildcard_with_expires_0_removes_all)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Contact: <sip:a@192.0.2.10>, <sip:b@192.0.2.11>\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	cr_assert_eq(count_lines(r.out, "Contact:"), 2);
	do_reg(&f, "other-ua", 1, "Contact: <sip:c@192.0.2.12>\r\n", &r);
	cr_assert_eq(count_lines(r.out, "Contact:"), 3);

	do_reg(&f, "c1", 2, "Contact: *\r\nExpires: 0\r\n", &r);
	cr_assert_eq(r.res.status, 200, "%s", r.out);
	cr_assert_eq(count_lines(r.out, "Contact:"), 0);
	struct spl_binding b[4];
	cr_assert_eq(lookup(&f, ALICE, b, 4), 0);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.aors_live, 0);
	cr_assert_eq(st.bindings_live, 0);
	cr_assert_eq(st.bindings_removed, 3);
	fx_fini(&f);
}

Test(registrar_reg, wildcard_with_nonzero_or_missing_expires_is_400)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Contact: <sip:a@192.0.2.10>\r\n", &r);
	do_reg(&f, "c1", 2, "Contact: *\r\nExpires: 3600\r\n", &r);
	cr_assert_eq(r.res.status, 400);
	cr_assert_eq(r.res.reason, SPL_REGISTRAR_R_BAD_WILDCARD);
	do_reg(&f, "c1", 3, "Contact: *\r\n", &r);
	cr_assert_eq(r.res.status, 400);
	struct spl_binding b[4];
	cr_assert_eq(lookup(&f, ALICE, b, 4), 1, "a failed request changes nothing");
	fx_fini(&f);
}

Test(registrar_reg, wildcard_same_callid_old_cseq_is_500)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 5, "Contact: <sip:a@192.0.2.10>\r\n", &r);
	do_reg(&f, "c1", 5, "Contact: *\r\nExpires: 0\r\n", &r);
	cr_assert_eq(r.res.status, 500);
	struct spl_binding b[4];
	cr_assert_eq(lookup(&f, ALICE, b, 4), 1);
	fx_fini(&f);
}

Test(registrar_reg, interval_too_brief_is_423_with_min_expires)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Contact: <sip:a@192.0.2.10>;expires=30\r\n", &r);
	cr_assert_eq(r.res.status, 423);
	char v[64];
	cr_assert(line_value(r.out, "Min-Expires:", 0, v, sizeof(v)));
	cr_assert_str_eq(v, "60");
	/* the header applies when the contact has no param */
	do_reg(&f, "c1", 2, "Contact: <sip:a@192.0.2.10>\r\nExpires: 59\r\n", &r);
	cr_assert_eq(r.res.status, 423);
	/* one brief contact fails the whole request */
	do_reg(&f, "c1", 3, "Contact: <sip:a@192.0.2.10>, <sip:b@192.0.2.10>;expires=10\r\n", &r);
	cr_assert_eq(r.res.status, 423);
	struct spl_binding b[4];
	cr_assert_eq(lookup(&f, ALICE, b, 4), 0);
	/* 0 is a removal, never too brief */
	do_reg(&f, "c1", 4, "Contact: <sip:a@192.0.2.10>;expires=0\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	fx_fini(&f);
}

Test(registrar_reg, expiry_above_max_is_clamped)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Contact: <sip:a@192.0.2.10>;expires=4000000\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	char v[256];
	cr_assert(line_value(r.out, "Contact:", 0, v, sizeof(v)));
	cr_assert_str_eq(v, "<sip:a@192.0.2.10>;expires=86400");
	/* beyond 2^32-1 counts as 2^32-1 (§10.2.1.1), then clamped */
	do_reg(&f, "c1", 2, "Contact: <sip:a@192.0.2.10>;expires=99999999999999999999\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	cr_assert(line_value(r.out, "Contact:", 0, v, sizeof(v)));
	cr_assert_str_eq(v, "<sip:a@192.0.2.10>;expires=86400");
	fx_fini(&f);
}

Test(registrar_reg, expiry_param_then_header_then_default)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1,
	       "Contact: <sip:a@192.0.2.10>;expires=120, <sip:b@192.0.2.10>\r\nExpires: 300\r\n", &r);
	struct spl_binding b[4];
	cr_assert_eq(lookup(&f, ALICE, b, 4), 2);
	for (int i = 0; i < 2; i++) {
		uint64_t want = b[i].contact.p[4] == 'a' ? SEC(120) : SEC(300);
		cr_assert_eq(b[i].expires_at - f.now, want);
	}
	do_reg(&f, "c2", 1, "Contact: <sip:c@192.0.2.10>\r\n", &r);
	char v[256];
	cr_assert(line_value(r.out, "Contact:", 0, v, sizeof(v)));
	cr_assert_not_null(strstr(r.out, "<sip:c@192.0.2.10>;expires=3600"), "%s", r.out);
	fx_fini(&f);
}

Test(registrar_reg, out_of_order_cseq_same_callid_is_500)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 10, "Contact: <sip:a@192.0.2.10>;expires=600\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	do_reg(&f, "c1", 10, "Contact: <sip:a@192.0.2.10>;expires=900\r\n", &r);
	cr_assert_eq(r.res.status, 500);
	cr_assert_eq(r.res.reason, SPL_REGISTRAR_R_OUT_OF_ORDER);
	do_reg(&f, "c1", 9, "Contact: <sip:a@192.0.2.10>;expires=0\r\n", &r);
	cr_assert_eq(r.res.status, 500);
	struct spl_binding b[2];
	cr_assert_eq(lookup(&f, ALICE, b, 2), 1);
	cr_assert_eq(b[0].expires_at - f.now, SEC(600), "the stale request changed nothing");
	/* a different Call-ID replaces, whatever its CSeq */
	do_reg(&f, "c2", 1, "Contact: <sip:a@192.0.2.10>;expires=900\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	cr_assert_eq(lookup(&f, ALICE, b, 2), 1);
	cr_assert_eq(b[0].expires_at - f.now, SEC(900));
	cr_assert_eq(b[0].cseq, 1);
	/* and a higher CSeq on the same Call-ID is fine */
	do_reg(&f, "c2", 2, "Contact: <sip:a@192.0.2.10>;expires=0\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	cr_assert_eq(lookup(&f, ALICE, b, 2), 0);
	fx_fini(&f);
}

Test(registrar_reg, contact_uri_equality_per_19_1_4)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Contact: <sip:alice@HOST.example.net;transport=udp>\r\n", &r);
	do_reg(&f, "c1", 2, "Contact: <sip:alice@host.example.net;transport=UDP>;expires=120\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	cr_assert_eq(count_lines(r.out, "Contact:"), 1, "same URI: refreshed, not added\n%s", r.out);
	/* user part is case-sensitive: a different binding */
	do_reg(&f, "c1", 3, "Contact: <sip:ALICE@host.example.net;transport=udp>\r\n", &r);
	cr_assert_eq(count_lines(r.out, "Contact:"), 2);
	fx_fini(&f);
}

Test(registrar_reg, q_values_and_params_in_200)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1,
	       "Contact: <sip:a@192.0.2.10>;q=0.5;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	char v[256];
	cr_assert(line_value(r.out, "Contact:", 0, v, sizeof(v)));
	cr_assert_str_eq(v, "<sip:a@192.0.2.10>;expires=3600;q=0.5;+sip.instance=\"<urn:uuid:1>\";reg-id=1");
	do_reg(&f, "c1", 2, "Contact: <sip:a@192.0.2.10>;q=2\r\n", &r);
	cr_assert_eq(r.res.status, 400, "q above 1 is malformed");
	fx_fini(&f);
}

Test(registrar_reg, path_stored_returned_and_echoed_when_supported)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1,
	       "Path: <sip:edge1.example.net;lr>\r\nPath: <sip:edge2.example.net;lr>\r\n"
	       "Supported: path\r\nContact: <sip:a@10.0.0.1:5060>\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	cr_assert_eq(count_lines(r.out, "Path:"), 2, "%s", r.out);
	char v[256];
	cr_assert(line_value(r.out, "Path:", 0, v, sizeof(v)));
	cr_assert_str_eq(v, "<sip:edge1.example.net;lr>");
	struct spl_binding b[2];
	cr_assert_eq(lookup(&f, ALICE, b, 2), 1);
	const char *want = "<sip:edge1.example.net;lr>,<sip:edge2.example.net;lr>";
	cr_assert_eq(b[0].path.len, strlen(want));
	cr_assert_eq(memcmp(b[0].path.p, want, b[0].path.len), 0);
	/* the stored route set parses back into the two hops */
	struct spl_str rest = b[0].path;
	struct spl_sip_nameaddr na;
	int hops = 0;
	while (spl_sip_nameaddr_next(&rest, &na) == 1)
		hops++;
	cr_assert_eq(hops, 2);

	/* without Supported: path the route set is kept but not echoed */
	do_reg(&f, "c2", 1, "Path: <sip:edge3.example.net;lr>\r\nContact: <sip:b@10.0.0.2>\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	cr_assert_eq(count_lines(r.out, "Path:"), 0);
	cr_assert_eq(lookup(&f, ALICE, b, 2), 2);
	fx_fini(&f);
}

Test(registrar_reg, contacts_per_aor_limit_is_403)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .max_bindings = 3 };
	fx_init(&f, &o);
	do_reg(&f, "c1", 1, "Contact: <sip:a@10.0.0.1>, <sip:b@10.0.0.1>, <sip:c@10.0.0.1>\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	do_reg(&f, "c2", 1, "Contact: <sip:d@10.0.0.1>\r\n", &r);
	cr_assert_eq(r.res.status, 403);
	cr_assert_eq(r.res.reason, SPL_REGISTRAR_R_LIMIT_CONTACTS);
	/* replacing one within the limit is fine */
	do_reg(&f, "c1", 2, "Contact: <sip:a@10.0.0.1>;expires=0, <sip:d@10.0.0.1>\r\n", &r);
	cr_assert_eq(r.res.status, 200, "%s", r.out);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.limit_hits, 1);
	cr_assert_eq(st.by_reason[SPL_REGISTRAR_R_LIMIT_CONTACTS], 1);
	fx_fini(&f);
}

Test(registrar_reg, total_aor_limit_is_503_with_retry_after)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .max_aors = 2 };
	char text[2048];
	fx_init(&f, &o);
	const char *users[] = { "u1", "u2", "u3" };
	for (int i = 0; i < 3; i++) {
		mk_register(text, sizeof(text), "example.com", users[i], "cid", 1,
			    "Contact: <sip:x@10.0.0.1>\r\n");
		do_process(&f, text, &r);
		cr_assert_eq(r.res.status, i < 2 ? 200 : 503, "%s", r.out);
	}
	cr_assert_eq(r.res.reason, SPL_REGISTRAR_R_LIMIT_AORS);
	cr_assert_eq(count_lines(r.out, "Retry-After:"), 1);
	/* an existing AOR can still refresh; a freed slot can be taken */
	mk_register(text, sizeof(text), "example.com", "u1", "cid", 2, "Contact: *\r\nExpires: 0\r\n");
	do_process(&f, text, &r);
	cr_assert_eq(r.res.status, 200);
	mk_register(text, sizeof(text), "example.com", "u3", "cid", 2, "Contact: <sip:x@10.0.0.1>\r\n");
	do_process(&f, text, &r);
	cr_assert_eq(r.res.status, 200);
	fx_fini(&f);
}

Test(registrar_reg, foreign_domain_forward_or_403_by_config)
{
	struct fx f;
	struct rsp r;
	char text[2048];
	mk_register(text, sizeof(text), "elsewhere.org", "bob", "c1", 1, "Contact: <sip:b@10.0.0.1>\r\n");

	struct fx_opts o = { .forward_foreign = true };
	fx_init(&f, &o);
	do_process(&f, text, &r);
	cr_assert_eq(r.rc, 0);
	cr_assert_eq(r.res.action, SPL_REGISTRAR_FORWARD);
	cr_assert_eq(r.res.len, 0);
	fx_fini(&f);

	fx_init(&f, NULL);
	do_process(&f, text, &r);
	cr_assert_eq(r.res.action, SPL_REGISTRAR_RESPOND);
	cr_assert_eq(r.res.status, 403);
	cr_assert_eq(r.res.reason, SPL_REGISTRAR_R_FOREIGN_DOMAIN);
	fx_fini(&f);
}

Test(registrar_reg, to_not_in_our_domains_is_404)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_process(&f,
		   "REGISTER sip:example.com SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\r\n"
		   "From: <sip:carol@other.net>;tag=1\r\nTo: <sip:carol@other.net>\r\n"
		   "Call-ID: x1\r\nCSeq: 1 REGISTER\r\nContact: <sip:c@10.0.0.1>\r\n"
		   "Content-Length: 0\r\n\r\n", &r);
	cr_assert_eq(r.res.status, 404);
	fx_fini(&f);
}

Test(registrar_reg, unknown_require_is_420_with_unsupported)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_reg(&f, "c1", 1, "Require: path, foo\r\nContact: <sip:a@10.0.0.1>\r\n", &r);
	cr_assert_eq(r.res.status, 420);
	char v[64];
	cr_assert(line_value(r.out, "Unsupported:", 0, v, sizeof(v)));
	cr_assert_str_eq(v, "foo");
	do_reg(&f, "c1", 2, "Require: path\r\nContact: <sip:a@10.0.0.1>\r\n", &r);
	cr_assert_eq(r.res.status, 200);
	fx_fini(&f);
}

Test(registrar_reg, misrouted_register_is_exdev_and_untouched)
{
	struct fx f;
	struct rsp r;
	char buf[SPL_REGISTRAR_AOR_MAX];
	unsigned owner = spl_registrar_aor_shard(aor_of(ALICE, buf, sizeof(buf)), 4);
	struct fx_opts o = { .nshards = 4, .shard = (owner + 1) % 4 };
	fx_init(&f, &o);
	do_reg(&f, "c1", 1, "Contact: <sip:a@10.0.0.1>\r\n", &r);
	cr_assert_eq(r.rc, -EXDEV);
	struct spl_binding b[2];
	cr_assert_eq(lookup(&f, ALICE, b, 2), 0);
	fx_fini(&f);

	o.shard = owner;
	fx_init(&f, &o);
	do_reg(&f, "c1", 1, "Contact: <sip:a@10.0.0.1>\r\n", &r);
	cr_assert_eq(r.rc, 0);
	cr_assert_eq(r.res.status, 200);
	fx_fini(&f);
}

Test(registrar_reg, non_register_is_einval)
{
	struct fx f;
	struct rsp r;
	fx_init(&f, NULL);
	do_process(&f,
		   "OPTIONS sip:example.com SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\r\n"
		   "From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n"
		   "Call-ID: x1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &r);
	cr_assert_eq(r.rc, -EINVAL);
	fx_fini(&f);
}

Test(registrar_aor, canonical_form)
{
	char buf[SPL_REGISTRAR_AOR_MAX];
	struct {
		const char *in, *out;
	} cases[] = {
		{ "sip:alice@example.com", "sip:alice@example.com" },
		{ "sip:%61lice@EXAMPLE.com;transport=udp?subject=x", "sip:alice@example.com" },
		{ "sips:alice@example.com", "sip:alice@example.com" },
		{ "sip:alice:pw@example.com:5060", "sip:alice@example.com" },
		{ "sips:alice@example.com:5061", "sip:alice@example.com" },
		{ "sip:alice@example.com:5070", "sip:alice@example.com:5070" },
		{ "sip:Alice@example.com", "sip:Alice@example.com" },
		{ "sip:example.com", "sip:example.com" },
		{ "sip:+1212555%20@[2001:DB8::1]", "sip:+1212555 @[2001:db8::1]" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spl_str a = aor_of(cases[i].in, buf, sizeof(buf));
		cr_assert_eq(a.len, strlen(cases[i].out), "%s", cases[i].in);
		cr_assert_eq(memcmp(a.p, cases[i].out, a.len), 0, "%s → %.*s", cases[i].in,
			     (int)a.len, a.p);
	}
	struct spl_sip_uri u;
	cr_assert_eq(spl_sip_uri_parse("tel:+12125551212", 16, &u), 0);
	cr_assert_eq(spl_registrar_aor_canon(&u, buf, sizeof(buf)), -1);
	cr_assert_eq(spl_sip_uri_parse("sip:a%00b@x", 11, &u), 0);
	cr_assert_eq(spl_registrar_aor_canon(&u, buf, sizeof(buf)), -1);
}

Test(registrar_aor, shard_is_stable_and_spread)
{
	unsigned hits[8] = { 0 };
	char aor[64];
	for (int i = 0; i < 8000; i++) {
		int n = snprintf(aor, sizeof(aor), "sip:user%d@example.com", i);
		struct spl_str s = { aor, (uint32_t)n };
		unsigned k = spl_registrar_aor_shard(s, 8);
		cr_assert_lt(k, 8);
		cr_assert_eq(k, spl_registrar_aor_shard(s, 8));
		hits[k]++;
	}
	for (int k = 0; k < 8; k++)
		cr_assert(hits[k] > 800 && hits[k] < 1200, "shard %d: %u", k, hits[k]);
	cr_assert_eq(spl_registrar_aor_shard(SPL_STR_LIT("sip:a@b"), 1), 0);
}
