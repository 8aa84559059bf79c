/* SPDX-License-Identifier: BSD-3-Clause */
/* Small header grammars (CSeq, numbers, token lists, q, auth, Retry-After,
 * Content-Type) and the name tables. */
#include <criterion/criterion.h>

#include "elem_guard.h"
#include "sipmsg_priv.h"

static int cseq(const char *s, struct spl_sip_cseq *c)
{
	return spl_sip_cseq_parse(G(s), GLEN(s), c);
}

static int uint_(const char *s, uint32_t max, uint32_t *out)
{
	return spl_sip_uint_parse(G(s), GLEN(s), max, out);
}

Test(sipmsg_fields, cseq_basic)
{
	struct spl_sip_cseq c;
	cr_assert(cseq("4711 INVITE", &c) == 0);
	cr_expect(c.num == 4711);
	EXPECT_STR(c.method, "INVITE");
	cr_expect(c.method_id == SPL_SIP_METHOD_INVITE);
	cr_assert(cseq("1 REGISTER", &c) == 0);
	cr_expect(c.method_id == SPL_SIP_METHOD_REGISTER);
}

/* RFC 4475 wsinv: "cseq: 0009\r\n  INVITE" */
Test(sipmsg_fields, cseq_wsinv_leading_zeros_and_fold)
{
	struct spl_sip_cseq c;
	cr_assert(cseq("0009\r\n  INVITE", &c) == 0);
	cr_expect(c.num == 9);
	EXPECT_STR(c.method, "INVITE");
	cr_assert(cseq("  00000000000000000000000000042\t ACK  ", &c) == 0);
	cr_expect(c.num == 42);
	cr_expect(c.method_id == SPL_SIP_METHOD_ACK);
}

/* RFC 4475 scalar02 / scalarlg: 32 bits and no more */
Test(sipmsg_fields, cseq_32_bit_limit)
{
	struct spl_sip_cseq c;
	cr_assert(cseq("4294967295 OPTIONS", &c) == 0);
	cr_expect(c.num == 4294967295u);
	cr_expect(cseq("4294967296 INVITE", &c) == -1);
	cr_expect(cseq("36893488147419103232 INVITE", &c) == -1);
	cr_expect(cseq("9292394834772304023312 OPTIONS", &c) == -1);
}

/* intmeth, esc02, case-sensitivity of methods */
Test(sipmsg_fields, cseq_extension_methods)
{
	struct spl_sip_cseq c;
	cr_assert(cseq("139122385 !interesting-Method0123456789_*+`.%indeed'~", &c) == 0);
	EXPECT_STR(c.method, "!interesting-Method0123456789_*+`.%indeed'~");
	cr_expect(c.method_id == SPL_SIP_METHOD_OTHER);
	cr_assert(cseq("29344 RE%47IST%45R", &c) == 0);
	cr_expect(c.method_id == SPL_SIP_METHOD_OTHER);
	cr_assert(cseq("1 invite", &c) == 0);
	cr_expect(c.method_id == SPL_SIP_METHOD_OTHER);
}

Test(sipmsg_fields, cseq_malformed)
{
	struct spl_sip_cseq c;
	const char *bad[] = { "", " ", "INVITE", "1", "1 ", "1INVITE", "-1 INVITE", "1 INVITE x",
			      "1 INV;ITE", "1.0 INVITE", "0x10 INVITE", "1 INVITE,", "1 \"INVITE\"" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(cseq(bad[i], &c) == -1, "'%s'", bad[i]);
}

Test(sipmsg_fields, uint_parse)
{
	uint32_t v = 12345;
	cr_assert(uint_(" 0068 ", 255, &v) == 0);
	cr_expect(v == 68);
	cr_assert(uint_("0", 255, &v) == 0);
	cr_expect(v == 0);
	cr_assert(uint_("\r\n 255", 255, &v) == 0);
	cr_expect(v == 255);
	cr_assert(uint_("4294967295", UINT32_MAX, &v) == 0);
	cr_expect(v == UINT32_MAX);
	cr_expect(uint_("256", 255, &v) == -1);
	cr_expect(uint_("4294967296", UINT32_MAX, &v) == -1);
	cr_expect(uint_("949302838503028349304023988", UINT32_MAX, &v) == -1);
	cr_expect(uint_("", 255, &v) == -1);
	cr_expect(uint_("  ", 255, &v) == -1);
	cr_expect(uint_("-1", 255, &v) == -1);
	cr_expect(uint_("1 2", 255, &v) == -1);
	cr_expect(uint_("+1", 255, &v) == -1);
	cr_expect(uint_("12a", 255, &v) == -1);
}

Test(sipmsg_fields, token_list)
{
	const char *s = "100rel, timer ,\r\n path,replaces";
	struct spl_str rest = { G(s), GLEN(s) }, t;
	cr_assert(spl_sip_token_next(&rest, &t) == 1);
	EXPECT_STR(t, "100rel");
	cr_assert(spl_sip_token_next(&rest, &t) == 1);
	EXPECT_STR(t, "timer");
	cr_assert(spl_sip_token_next(&rest, &t) == 1);
	EXPECT_STR(t, "path");
	cr_assert(spl_sip_token_next(&rest, &t) == 1);
	EXPECT_STR(t, "replaces");
	cr_expect(spl_sip_token_next(&rest, &t) == 0);

	const char *bad[] = { "a,,b", "a,", ",a", "a b", "a;b", "a, ,b", "\"a\"" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spl_str r = { G(bad[i]), GLEN(bad[i]) };
		int rc;
		while ((rc = spl_sip_token_next(&r, &t)) == 1)
			;
		cr_expect(rc == -1, "'%s'", bad[i]);
	}
	struct spl_str empty = { G(" "), 1 };
	cr_expect(spl_sip_token_next(&empty, &t) == 0);
}

Test(sipmsg_fields, q_values)
{
	struct { const char *s; int q; } c[] = {
		{ "0", 0 }, { "0.", 0 }, { "0.5", 500 }, { "0.33", 330 }, { "0.001", 1 }, { "0.999", 999 },
		{ "1", 1000 }, { "1.", 1000 }, { "1.0", 1000 }, { "1.000", 1000 },
		{ "1.001", -1 }, { "0.1234", -1 }, { "2", -1 }, { "", -1 }, { ".5", -1 }, { "0,5", -1 },
		{ "00.5", -1 }, { "0.5a", -1 }, { "-0", -1 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct spl_str q = { G(c[i].s), GLEN(c[i].s) };
		cr_expect(spl_sip_q_parse(q) == c[i].q, "q '%s': got %d want %d", c[i].s, spl_sip_q_parse(q), c[i].q);
	}
	cr_expect(spl_sip_q_parse(SPL_STR_NULL) == 1000);
}

/* RFC 3261 §22.4 / §25.1 credentials */
Test(sipmsg_fields, auth_digest_credentials)
{
	struct spl_sip_auth a;
	const char *s = "Digest username=\"bob\", realm=\"biloxi.com\",\r\n nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\","
			" uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\","
			" response=\"6629fae49393a05397450978507c4ef1\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\","
			" algorithm=MD5";
	cr_assert(spl_sip_auth_parse(G(s), GLEN(s), &a) == 0);
	EXPECT_STR(a.scheme, "Digest");
	EXPECT_STR(a.username, "bob");
	EXPECT_STR(a.realm, "biloxi.com");
	EXPECT_STR(a.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	EXPECT_STR(a.uri, "sip:bob@biloxi.com");
	EXPECT_STR(a.qop, "auth");
	EXPECT_STR(a.nc, "00000001");
	EXPECT_STR(a.cnonce, "0a4f113b");
	EXPECT_STR(a.response, "6629fae49393a05397450978507c4ef1");
	EXPECT_STR(a.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
	EXPECT_STR(a.algorithm, "MD5");
	EXPECT_STR(a.stale, NULL);
	EXPECT_STR(a.domain, NULL);
	cr_expect(a.params.len > 0 && memcmp(a.params.p, "username=\"bob\"", 14) == 0);
}

Test(sipmsg_fields, auth_digest_challenge)
{
	struct spl_sip_auth a;
	const char *s = "DIGEST realm=\"atlanta.com\",\n\tdomain=\"sip:ss1.carrier.com\", qop=\"auth,auth-int\","
			"nonce=\"f84f1cec41e6cbe5aea9c8e88d359\",opaque=\"\", stale=FALSE, algorithm=MD5";
	cr_assert(spl_sip_auth_parse(G(s), GLEN(s), &a) == 0);
	EXPECT_STR(a.scheme, "DIGEST");
	EXPECT_STR(a.realm, "atlanta.com");
	EXPECT_STR(a.domain, "sip:ss1.carrier.com");
	EXPECT_STR(a.qop, "auth,auth-int");
	EXPECT_STR(a.opaque, "");
	EXPECT_STR(a.stale, "FALSE");
}

/* RFC 4475 3.3.7 regaut01 */
Test(sipmsg_fields, auth_unknown_scheme)
{
	struct spl_sip_auth a;
	const char *s = "NoOneKnowsThisScheme opaque-data=here";
	cr_assert(spl_sip_auth_parse(G(s), GLEN(s), &a) == 0);
	EXPECT_STR(a.scheme, "NoOneKnowsThisScheme");
	EXPECT_STR(a.params, "opaque-data=here");
	EXPECT_STR(a.username, NULL);
}

Test(sipmsg_fields, auth_malformed)
{
	struct spl_sip_auth a;
	const char *bad[] = { "", "Digest", "Digest ", "Digest realm", "Digest realm=\"x", "Digest a=b,,c=d",
			      "Digest a=b,", "Digest ,a=b", "Digest=x", "Digest a=", "Digest a b=c" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(spl_sip_auth_parse(G(bad[i]), GLEN(bad[i]), &a) == -1, "'%s'", bad[i]);
}

Test(sipmsg_fields, retry_after)
{
	struct spl_sip_retry_after r;
	const char *s1 = "18000;duration=3600";
	cr_assert(spl_sip_retry_after_parse(G(s1), GLEN(s1), &r) == 0);
	cr_expect(r.seconds == 18000);
	EXPECT_STR(r.duration, "3600");
	EXPECT_STR(r.comment, NULL);
	EXPECT_STR(r.params, "duration=3600");
	const char *s2 = "120 (I'm in a meeting)";
	cr_assert(spl_sip_retry_after_parse(G(s2), GLEN(s2), &r) == 0);
	cr_expect(r.seconds == 120);
	EXPECT_STR(r.comment, "(I'm in a meeting)");
	EXPECT_STR(r.params, NULL);
	const char *s3 = " 5 (nested (comment \\) here)) ; duration = 60 ;x";
	cr_assert(spl_sip_retry_after_parse(G(s3), GLEN(s3), &r) == 0);
	cr_expect(r.seconds == 5);
	EXPECT_STR(r.comment, "(nested (comment \\) here))");
	EXPECT_STR(r.duration, "60");

	/* RFC 4475 scalarlg: huge Retry-After */
	const char *bad[] = { "949302838503028349304023988", "", "(x)", "5 (unterminated", "5 (a (b)",
			      "5;", "5;duration", "5;duration=x", "5 x", "5 (c) x", "-5" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(spl_sip_retry_after_parse(G(bad[i]), GLEN(bad[i]), &r) == -1, "'%s'", bad[i]);
}

Test(sipmsg_fields, content_type)
{
	struct spl_sip_ctype c;
	const char *s1 = "application/sdp";
	cr_assert(spl_sip_ctype_parse(G(s1), GLEN(s1), &c) == 0);
	EXPECT_STR(c.type, "application");
	EXPECT_STR(c.subtype, "sdp");
	EXPECT_STR(c.params, NULL);
	const char *s2 = "multipart/signed;\r\n protocol=\"application/pkcs7-signature\";micalg=sha1;boundary=boundary42";
	cr_assert(spl_sip_ctype_parse(G(s2), GLEN(s2), &c) == 0);
	EXPECT_STR(c.subtype, "signed");
	EXPECT_STR(c.params, "protocol=\"application/pkcs7-signature\";micalg=sha1;boundary=boundary42");
	struct spl_str v;
	cr_assert(spl_sip_param_find(c.params, ';', "BOUNDARY", &v));
	EXPECT_STR(v, "boundary42");
	const char *s3 = "text / plain ; charset = utf-8";
	cr_assert(spl_sip_ctype_parse(G(s3), GLEN(s3), &c) == 0);
	EXPECT_STR(c.type, "text");
	EXPECT_STR(c.subtype, "plain");

	const char *bad[] = { "application", "application/", "/sdp", "a/b;", "a/b;c", "a/b c", "a/b/c", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(spl_sip_ctype_parse(G(bad[i]), GLEN(bad[i]), &c) == -1, "'%s'", bad[i]);
}

/* ------------------------------------------------------------------ */

static enum spl_sip_hdr_id hl(const char *s)
{
	return spl_sip_hdr_lookup(G(s), GLEN(s));
}

Test(sipmsg_tables, header_names_round_trip_any_case)
{
	for (unsigned id = 1; id < SPL_SIP_HDR__COUNT; id++) {
		const char *n = spl_sip_hdr_name((enum spl_sip_hdr_id)id);
		char lo[64], up[64];
		size_t l = strlen(n);
		cr_assert(l > 0 && l < sizeof(lo));
		for (size_t i = 0; i <= l; i++) {
			lo[i] = (char)((n[i] >= 'A' && n[i] <= 'Z') ? n[i] + 32 : n[i]);
			up[i] = (char)((n[i] >= 'a' && n[i] <= 'z') ? n[i] - 32 : n[i]);
		}
		cr_expect(hl(n) == id, "%s", n);
		cr_expect(hl(lo) == id, "%s", lo);
		cr_expect(hl(up) == id, "%s", up);
		char c = spl_sip_hdr_compact((enum spl_sip_hdr_id)id);
		if (c != 0) {
			char s[2] = { c, 0 };
			cr_expect(hl(s) == id, "compact %c", c);
			s[0] = (char)(c - 32);
			cr_expect(hl(s) == id, "compact %c", s[0]);
		}
	}
}

Test(sipmsg_tables, header_lookup_examples)
{
	cr_expect(hl("Via") == SPL_SIP_HDR_VIA);
	cr_expect(hl("v") == SPL_SIP_HDR_VIA);
	cr_expect(hl("V") == SPL_SIP_HDR_VIA);
	cr_expect(hl("MaX-fOrWaRdS") == SPL_SIP_HDR_MAX_FORWARDS);
	cr_expect(hl("i") == SPL_SIP_HDR_CALL_ID);
	cr_expect(hl("m") == SPL_SIP_HDR_CONTACT);
	cr_expect(hl("l") == SPL_SIP_HDR_CONTENT_LENGTH);
	cr_expect(hl("c") == SPL_SIP_HDR_CONTENT_TYPE);
	cr_expect(hl("s") == SPL_SIP_HDR_SUBJECT);
	cr_expect(hl("WWW-Authenticate") == SPL_SIP_HDR_WWW_AUTHENTICATE);
	/* esc02: an escaped name is some other header */
	cr_expect(hl("C%6Fntact") == SPL_SIP_HDR_OTHER);
	cr_expect(hl("Contac") == SPL_SIP_HDR_OTHER);
	cr_expect(hl("Contacts") == SPL_SIP_HDR_OTHER);
	cr_expect(hl("NewFangledHeader") == SPL_SIP_HDR_OTHER);
	cr_expect(hl("q") == SPL_SIP_HDR_OTHER);
	cr_expect(hl("1") == SPL_SIP_HDR_OTHER);
	cr_expect(hl("") == SPL_SIP_HDR_OTHER);
	cr_expect(spl_sip_hdr_compact(SPL_SIP_HDR_VIA) == 'v');
	cr_expect(spl_sip_hdr_compact(SPL_SIP_HDR_CSEQ) == 0);
	cr_expect(strcmp(spl_sip_hdr_name(SPL_SIP_HDR_CALL_ID), "Call-ID") == 0);
}

Test(sipmsg_tables, methods_case_sensitive)
{
	for (unsigned m = 1; m < SPL_SIP_METHOD__COUNT; m++) {
		const char *n = spl_sip_method_name((enum spl_sip_method)m);
		cr_expect(spl_sip_method_lookup(G(n), GLEN(n)) == m, "%s", n);
	}
	cr_expect(spl_sip_method_lookup(G("invite"), 6) == SPL_SIP_METHOD_OTHER);
	cr_expect(spl_sip_method_lookup(G("RE%47IST%45R"), 12) == SPL_SIP_METHOD_OTHER);
	cr_expect(spl_sip_method_lookup(G("INVITEX"), 7) == SPL_SIP_METHOD_OTHER);
	cr_expect(spl_sip_method_lookup(G("NEWMETHOD"), 9) == SPL_SIP_METHOD_OTHER);
	cr_expect(spl_sip_method_lookup(G("AC"), 2) == SPL_SIP_METHOD_OTHER);
	cr_expect(strcmp(spl_sip_method_name(SPL_SIP_METHOD_OTHER), "") == 0);
}

Test(sipmsg_tables, transports_any_case)
{
	cr_expect(spl_sip_transport_lookup(G("udp"), 3) == SPL_SIP_TRANSPORT_UDP);
	cr_expect(spl_sip_transport_lookup(G("Tcp"), 3) == SPL_SIP_TRANSPORT_TCP);
	cr_expect(spl_sip_transport_lookup(G("TLS"), 3) == SPL_SIP_TRANSPORT_TLS);
	cr_expect(spl_sip_transport_lookup(G("sctp"), 4) == SPL_SIP_TRANSPORT_SCTP);
	cr_expect(spl_sip_transport_lookup(G("WS"), 2) == SPL_SIP_TRANSPORT_WS);
	cr_expect(spl_sip_transport_lookup(G("wss"), 3) == SPL_SIP_TRANSPORT_WSS);
	cr_expect(spl_sip_transport_lookup(G("UNKNOWN"), 7) == SPL_SIP_TRANSPORT_OTHER);
	cr_expect(spl_sip_transport_lookup(G("UD"), 2) == SPL_SIP_TRANSPORT_OTHER);
}

Test(sipmsg_tables, status_phrases)
{
	cr_expect(strcmp(spl_sip_status_phrase(100), "Trying") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(200), "OK") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(400), "Bad Request") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(416), "Unsupported URI Scheme") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(420), "Bad Extension") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(483), "Too Many Hops") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(505), "Version Not Supported") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(603), "Decline") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(422), "Session Interval Too Small") == 0);
	/* unknown codes fall back to the class (§8.1.3.2: x00 of the class) */
	cr_expect(strcmp(spl_sip_status_phrase(499), "Bad Request") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(299), "OK") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(99), "Unknown") == 0);
	cr_expect(strcmp(spl_sip_status_phrase(700), "Unknown") == 0);
}

Test(sipmsg_tables, errors)
{
	cr_expect(spl_sipmsg_err_status(SPL_SIPMSG_E_NONE) == 0);
	cr_expect(strcmp(spl_sipmsg_err_reason(SPL_SIPMSG_E_NONE), "ok") == 0);
	cr_expect(spl_sipmsg_err_status(SPL_SIPMSG_E_VERSION) == 505);
	cr_expect(strcmp(spl_sipmsg_err_reason(SPL_SIPMSG_E_BAD_VIA), "Bad Via") == 0);
	cr_expect(spl_sipmsg_err_status(SPL_SIPMSG_E_CSEQ_METHOD_UNK) == 501);
	cr_expect(spl_sipmsg_err_status(SPL_SIPMSG_E_NO_VIA) == 0);
	for (int e = 0; e < SPL_SIPMSG_E__COUNT; e++)
		cr_expect(spl_sipmsg_err_reason((enum spl_sipmsg_err)e)[0] != 0);
}

Test(sipmsg_tables, str_helpers)
{
	struct spl_str a = { G("Hello"), 5 };
	cr_expect(spl_str_eq(a, "Hello"));
	cr_expect(!spl_str_eq(a, "hello"));
	cr_expect(!spl_str_eq(a, "Hell"));
	cr_expect(spl_str_ieq(a, "hELLO"));
	cr_expect(!spl_str_ieq(a, "hELLO!"));
	cr_expect(!spl_str_eq(SPL_STR_NULL, ""));
	struct spl_str b = { G("HELLO"), 5 };
	cr_expect(spl_str_ieq_str(a, b));
	cr_expect(!spl_str_ieq_str(a, SPL_STR_NULL));
	cr_expect(spl_str_ieq_str(SPL_STR_NULL, SPL_STR_NULL));
}

Test(sipmsg_tables, char_classes)
{
	/* token per §25.1: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
	const char *tok = "-.!%*_+`'~aZ09";
	for (const char *p = tok; *p; p++)
		cr_expect(sip_is((unsigned char)*p, SIP_C_TOKEN), "token %c", *p);
	const char *nontok = "()<>@,;:\\\"/[]?={} \t";
	for (const char *p = nontok; *p; p++)
		cr_expect(!sip_is((unsigned char)*p, SIP_C_TOKEN), "non-token %c", *p);
	cr_expect(sip_is(0x80, SIP_C_UTF8) && sip_is(0xff, SIP_C_UTF8) && !sip_is(0x7e, SIP_C_UTF8));
	cr_expect(sip_is(0, SIP_C_CTL) && sip_is(0x1f, SIP_C_CTL) && sip_is(0x7f, SIP_C_CTL) && !sip_is(' ', SIP_C_CTL));
	cr_expect(sip_is('[', SIP_C_PARAM_UNR) && sip_is('?', SIP_C_HNV_UNR) && !sip_is('?', SIP_C_PARAM_UNR));
	cr_expect(sip_is('@', SIP_C_RESERVED) && !sip_is('%', SIP_C_RESERVED) && sip_is('F', SIP_C_HEX));
	cr_expect(sip_is('(', SIP_C_UNRESERVED) && !sip_is('(', SIP_C_TOKEN) && sip_is('{', SIP_C_WORD));
}

/* ------------------------------------------------------------------ */
/* Every grammar on pseudo-random inputs built from the characters that
 * steer them, each flush against the guard page: nothing may read past
 * the end, and what parses must be self-consistent. */

static bool inside(struct spl_str s, const char *b, uint32_t len)
{
	return s.p == NULL || (s.p >= b && s.p + s.len <= b + len);
}

Test(sipmsg_fields, random_inputs_stay_in_bounds)
{
	static const char alpha[] = "sip:@[]<>;,=?&%\"\\ \t\r\n/.:0123456789abcdefABCDEF*-_tagqlr2001db8";
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char buf[96];
	unsigned ok_uri = 0, ok_via = 0, ok_na = 0;

	for (int iter = 0; iter < 200000; iter++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint32_t len = (uint32_t)(x % sizeof(buf));
		for (uint32_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = alpha[x % (sizeof(alpha) - 1)];
		}
		if (iter % 2 == 0) {
			/* half the time: a valid value with a few bytes changed
			 * and a random cut, to get deep into each grammar */
			static const char *seeds[] = {
				"sip:alice:pw@[2001:db8::10]:5060;transport=tcp;lr;maddr=192.0.2.1?h=v&x=y",
				"\"J \\\"R\" <sips:%61@example.com;ttl=1>;tag=1;q=0.5, sip:b@c.d;expires=9",
				"SIP / 2.0 / UDP h.example.com : 5060 ; branch=z9hG4bK1;rport;received=[::1], SIP/2.0/TCP x",
				"Digest username=\"bob\", realm=\"b\",nonce=\"x\", qop=auth, nc=00000001",
				"120 (a (b) \\) c) ;duration=5", "tel:+1-201;phone-context=a.b",
				"multipart/mixed ; boundary=\"a;b\"", "0009\r\n INVITE",
			};
			const char *sd = seeds[x % (sizeof(seeds) / sizeof(seeds[0]))];
			uint32_t sl = (uint32_t)strlen(sd);
			len = (uint32_t)(x >> 20) % (sl + 1);
			memcpy(buf, sd, len);
			for (int k = 0; k < 3 && len > 0; k++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				buf[x % len] = alpha[(x >> 32) % (sizeof(alpha) - 1)];
			}
		}
		const char *p = eg_copy(buf, len);

		struct spl_sip_uri u;
		if (spl_sip_uri_parse(p, len, &u) == 0) {
			ok_uri++;
			cr_assert(inside(u.user, p, len) && inside(u.host.text, p, len) &&
				  inside(u.params, p, len) && inside(u.headers, p, len));
			if (u.scheme_id == SPL_SIP_SCHEME_SIP || u.scheme_id == SPL_SIP_SCHEME_SIPS)
				cr_assert(spl_sip_uri_equal(&u, &u), "reflexive: %.*s", (int)len, p);
		}
		struct spl_str rest = { p, len };
		struct spl_sip_via v;
		for (int n = 0; n < 64 && spl_sip_via_next(&rest, &v) == 1; n++, ok_via++)
			cr_assert(inside(v.raw, p, len) && inside(v.branch, p, len) && inside(rest, p, len));
		rest = (struct spl_str){ p, len };
		struct spl_sip_nameaddr na;
		for (int n = 0; n < 64 && spl_sip_nameaddr_next(&rest, &na) == 1; n++, ok_na++)
			cr_assert(inside(na.raw, p, len) && inside(na.uri_str, p, len) && inside(na.tag, p, len));
		struct spl_sip_host h;
		(void)spl_sip_host_parse(p, len, &h);
		struct spl_sip_cseq c;
		(void)spl_sip_cseq_parse(p, len, &c);
		uint32_t val;
		(void)spl_sip_uint_parse(p, len, UINT32_MAX, &val);
		struct spl_str t;
		rest = (struct spl_str){ p, len };
		for (int n = 0; n < 64 && spl_sip_token_next(&rest, &t) == 1; n++)
			cr_assert(inside(t, p, len));
		struct spl_sip_auth a;
		(void)spl_sip_auth_parse(p, len, &a);
		struct spl_sip_retry_after ra;
		(void)spl_sip_retry_after_parse(p, len, &ra);
		struct spl_sip_ctype ct;
		(void)spl_sip_ctype_parse(p, len, &ct);
		(void)spl_sip_q_parse((struct spl_str){ p, len });
		(void)spl_sip_hdr_lookup(p, len);
		(void)spl_sip_method_lookup(p, len);
		(void)spl_sip_transport_lookup(p, len);
	}
	/* the mutated seeds must reach the accepting paths, or this test
	 * only exercises the first byte of each grammar */
	cr_log_info("accepted: uri %u, via %u, nameaddr %u", ok_uri, ok_via, ok_na);
	cr_expect(ok_uri > 1000 && ok_via > 1000 && ok_na > 1000, "uri %u via %u na %u", ok_uri, ok_via, ok_na);
}
