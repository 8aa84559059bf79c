/* SPDX-License-Identifier: BSD-3-Clause */
/* URI and host grammar: RFC 3261 §19.1.1/§25.1, RFC 4475, RFC 5118. */
#include <criterion/criterion.h>

#include "elem_guard.h"

static int parse(const char *s, struct spl_sip_uri *u)
{
	return spl_sip_uri_parse(G(s), GLEN(s), u);
}

static const uint8_t *ip6(const char *s)
{
	static uint8_t out[16];
	struct spl_sip_host h;
	cr_assert(spl_sip_host_parse(G(s), GLEN(s), &h) == 0, "host %s", s);
	cr_assert(h.kind == SPL_SIP_HOST_IPV6);
	memcpy(out, h.ip, 16);
	return out;
}

Test(sipmsg_uri, basic_user_host)
{
	struct spl_sip_uri u;
	cr_assert(parse("sip:alice@atlanta.com", &u) == 0);
	cr_expect(u.scheme_id == SPL_SIP_SCHEME_SIP);
	EXPECT_STR(u.raw, "sip:alice@atlanta.com");
	EXPECT_STR(u.scheme, "sip");
	EXPECT_STR(u.user, "alice");
	EXPECT_STR(u.password, NULL);
	EXPECT_STR(u.host.text, "atlanta.com");
	cr_expect(u.host.kind == SPL_SIP_HOST_NAME);
	EXPECT_STR(u.port_str, NULL);
	cr_expect(u.port == 0);
	EXPECT_STR(u.params, NULL);
	EXPECT_STR(u.headers, NULL);
	cr_expect(!u.lr);
}

Test(sipmsg_uri, all_components)
{
	struct spl_sip_uri u;
	cr_assert(parse("sips:alice:secret@gw.example.com:5061;transport=tcp;lr;maddr=239.255.255.1;"
			"ttl=15;user=phone;method=INVITE;x=y?subject=hi&priority=urgent", &u) == 0);
	cr_expect(u.scheme_id == SPL_SIP_SCHEME_SIPS);
	EXPECT_STR(u.user, "alice");
	EXPECT_STR(u.password, "secret");
	EXPECT_STR(u.host.text, "gw.example.com");
	EXPECT_STR(u.port_str, "5061");
	cr_expect(u.port == 5061);
	EXPECT_STR(u.params, "transport=tcp;lr;maddr=239.255.255.1;ttl=15;user=phone;method=INVITE;x=y");
	EXPECT_STR(u.headers, "subject=hi&priority=urgent");
	EXPECT_STR(u.transport, "tcp");
	EXPECT_STR(u.maddr, "239.255.255.1");
	EXPECT_STR(u.ttl, "15");
	EXPECT_STR(u.user_param, "phone");
	EXPECT_STR(u.method, "INVITE");
	cr_expect(u.lr);
}

Test(sipmsg_uri, host_only_with_port_and_empty_password)
{
	struct spl_sip_uri u;
	cr_assert(parse("sip:registrar.example.com:5060", &u) == 0);
	EXPECT_STR(u.user, NULL);
	EXPECT_STR(u.host.text, "registrar.example.com");
	cr_expect(u.port == 5060);
	cr_assert(parse("sip:bob:@example.com", &u) == 0);
	EXPECT_STR(u.user, "bob");
	EXPECT_STR(u.password, "");
	cr_assert(parse("sip:h.example.com:65535", &u) == 0);
	cr_expect(u.port == 65535);
	cr_assert(parse("sip:h.example.com:05060", &u) == 0, "leading zeros in a port are digits");
	cr_expect(u.port == 5060);
}

Test(sipmsg_uri, scheme_and_param_names_any_case)
{
	struct spl_sip_uri u;
	cr_assert(parse("SIP:ALICE@AtLanTa.CoM;Transport=udp", &u) == 0);
	cr_expect(u.scheme_id == SPL_SIP_SCHEME_SIP);
	EXPECT_STR(u.scheme, "SIP");
	EXPECT_STR(u.user, "ALICE");
	EXPECT_STR(u.transport, "udp");
	cr_assert(parse("sIpS:b@c.example.org;LR", &u) == 0);
	cr_expect(u.scheme_id == SPL_SIP_SCHEME_SIPS);
	cr_expect(u.lr);
}

Test(sipmsg_uri, ipv4_host)
{
	struct spl_sip_uri u;
	cr_assert(parse("sip:bob@192.0.2.4:5080", &u) == 0);
	cr_expect(u.host.kind == SPL_SIP_HOST_IPV4);
	cr_expect(u.host.ip[0] == 192 && u.host.ip[1] == 0 && u.host.ip[2] == 2 && u.host.ip[3] == 4);
	EXPECT_STR(u.host.text, "192.0.2.4");
	cr_expect(u.port == 5080);
	cr_expect(parse("sip:bob@192.0.2.256", &u) == -1, "octet > 255 and not a hostname");
	cr_expect(parse("sip:bob@1.2.3", &u) == -1, "numeric top label");
}

/* RFC 5118 §4.1 ipv6-good */
Test(sipmsg_uri, ipv6_reference)
{
	struct spl_sip_uri u;
	static const uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
	cr_assert(parse("sip:[2001:db8::10]", &u) == 0);
	cr_expect(u.host.kind == SPL_SIP_HOST_IPV6);
	EXPECT_STR(u.host.text, "[2001:db8::10]");
	cr_expect(memcmp(u.host.ip, want, 16) == 0);
	EXPECT_STR(u.port_str, NULL);
	cr_assert(parse("sip:caller@[2001:db8::1]", &u) == 0);
	EXPECT_STR(u.user, "caller");
	EXPECT_STR(u.host.text, "[2001:db8::1]");
}

/* RFC 5118 §4.3: the 5070 is the last group of the address, not a port. */
Test(sipmsg_uri, ipv6_port_ambiguous)
{
	struct spl_sip_uri u;
	static const uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x50, 0x70 };
	cr_assert(parse("sip:[2001:db8::10:5070]", &u) == 0);
	EXPECT_STR(u.host.text, "[2001:db8::10:5070]");
	EXPECT_STR(u.port_str, NULL);
	cr_expect(u.port == 0);
	cr_expect(memcmp(u.host.ip, want, 16) == 0);
}

/* RFC 5118 §4.4 */
Test(sipmsg_uri, ipv6_port_unambiguous)
{
	struct spl_sip_uri u;
	cr_assert(parse("sip:[2001:db8::10]:5070", &u) == 0);
	EXPECT_STR(u.host.text, "[2001:db8::10]");
	EXPECT_STR(u.port_str, "5070");
	cr_expect(u.port == 5070);
}

/* RFC 5118 §4.2 ipv6-bad: an IPv6 host must be bracketed. */
Test(sipmsg_uri, ipv6_without_brackets_rejected)
{
	struct spl_sip_uri u;
	cr_expect(parse("sip:2001:db8::10", &u) == -1);
	cr_expect(parse("sip:user@2001:db8::10", &u) == -1);
	cr_expect(parse("sip:user@::1", &u) == -1);
	cr_expect(parse("sip:user@[2001:db8::10", &u) == -1);
	cr_expect(parse("sip:user@[2001:db8::10]x", &u) == -1);
	cr_expect(parse("sip:user@[]", &u) == -1);
	cr_expect(parse("sip:user@[2001:db8::g]", &u) == -1);
	cr_expect(parse("sip:user@[1:2:3:4:5:6:7:8:9]", &u) == -1);
	cr_expect(parse("sip:user@[1::2::3]", &u) == -1);
}

/* RFC 5118 §4.10: three colons tolerated, same address as two. */
Test(sipmsg_uri, ipv6_three_colons_tolerated)
{
	struct spl_sip_uri u3, u2;
	static const uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1 };
	cr_assert(parse("sip:user@[2001:db8:::192.0.2.1]", &u3) == 0);
	cr_assert(parse("sip:user@[2001:db8::192.0.2.1]", &u2) == 0);
	EXPECT_STR(u3.host.text, "[2001:db8:::192.0.2.1]");
	cr_expect(memcmp(u3.host.ip, want, 16) == 0);
	cr_expect(memcmp(u2.host.ip, want, 16) == 0);
}

/* RFC 5118 §4.9 */
Test(sipmsg_uri, ipv4_mapped_ipv6)
{
	struct spl_sip_uri u;
	static const uint8_t want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 2 };
	cr_assert(parse("sip:ted@[::ffff:192.0.2.2]", &u) == 0);
	cr_expect(memcmp(u.host.ip, want, 16) == 0);
}

Test(sipmsg_host, ipv6_forms)
{
	static const uint8_t loop[16] = { [15] = 1 };
	static const uint8_t any[16] = { 0 };
	static const uint8_t full[16] = { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 };
	static const uint8_t tail0[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	cr_expect(memcmp(ip6("[::1]"), loop, 16) == 0);
	cr_expect(memcmp(ip6("[::]"), any, 16) == 0);
	cr_expect(memcmp(ip6("[1:2:3:4:5:6:7:8]"), full, 16) == 0);
	cr_expect(memcmp(ip6("[2001:DB8::]"), tail0, 16) == 0);
	struct spl_sip_host h;
	cr_expect(spl_sip_host_parse(G("[1:2:3:4:5:6:7:8::]"), 19, &h) == -1);
	cr_expect(spl_sip_host_parse(G("[1:]"), 4, &h) == -1);
	cr_expect(spl_sip_host_parse(G("[:1]"), 4, &h) == -1);
	cr_expect(spl_sip_host_parse(G("[12345::]"), 9, &h) == -1);
	cr_expect(spl_sip_host_parse(G("[::1.2.3]"), 9, &h) == -1);
}

Test(sipmsg_host, hostnames)
{
	struct spl_sip_host h;
	const char *good[] = { "example.com", "example.com.", "a-b.c-d.example", "x", "h5.example.net",
			       "chair-dnrc.example.com", "EXAMPLE.COM" };
	const char *bad[] = { "", "-a.com", "a-.com", "a..b", ".a", "a.1com", "a_b.com", "a.b.c.1",
			      "a b", "a.com..", "1.2.3.4.5" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_expect(spl_sip_host_parse(G(good[i]), GLEN(good[i]), &h) == 0, "%s", good[i]);
		cr_expect(h.kind == SPL_SIP_HOST_NAME, "%s", good[i]);
		EXPECT_STR(h.text, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(spl_sip_host_parse(G(bad[i]), GLEN(bad[i]), &h) == -1, "'%s'", bad[i]);
}

/* RFC 4475 3.1.1.3 esc01: escapes kept in place in the slices. */
Test(sipmsg_uri, esc01_escapes_kept)
{
	struct spl_sip_uri u;
	cr_assert(parse("sip:sips%3Auser%40example.com@example.net", &u) == 0);
	EXPECT_STR(u.user, "sips%3Auser%40example.com");
	EXPECT_STR(u.host.text, "example.net");
	cr_assert(parse("sip:%75se%72@example.com", &u) == 0);
	EXPECT_STR(u.user, "%75se%72");
	cr_assert(parse("sip:I%20have%20spaces@example.net", &u) == 0);
	EXPECT_STR(u.user, "I%20have%20spaces");
}

/* esc01's Contact: an escaped "lr" is lr, and the param slice is as sent. */
Test(sipmsg_uri, esc01_escaped_param_names)
{
	struct spl_sip_uri u;
	cr_assert(parse("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", &u) == 0);
	EXPECT_STR(u.user, "cal%6Cer");
	EXPECT_STR(u.params, "%6C%72;n%61me=v%61lue%25%34%31");
	cr_expect(u.lr);
	struct spl_str v;
	cr_assert(spl_sip_param_find(u.params, ';', "n%61me", &v));
	EXPECT_STR(v, "v%61lue%25%34%31");
}

/* RFC 4475 3.1.1.4 escnull: %00 is data, never a terminator. */
Test(sipmsg_uri, escnull_kept)
{
	struct spl_sip_uri u;
	cr_assert(parse("sip:null-%00-null@example.com", &u) == 0);
	EXPECT_STR(u.user, "null-%00-null");
	cr_assert(parse("sip:%00%00@host5.example.com", &u) == 0);
	EXPECT_STR(u.user, "%00%00");
	EXPECT_STR(u.host.text, "host5.example.com");
}

Test(sipmsg_uri, invalid_escapes_rejected)
{
	struct spl_sip_uri u;
	cr_expect(parse("sip:user%2@example.com", &u) == -1);
	cr_expect(parse("sip:user%zz@example.com", &u) == -1);
	cr_expect(parse("sip:user@example.com;a=%4", &u) == -1);
	cr_expect(parse("sip:user@example.com;a=%", &u) == -1);
	cr_expect(parse("sip:user@example.com?h=%g0", &u) == -1);
	cr_expect(parse("sip:user:pa%ss@example.com", &u) == -1);
}

/* RFC 4475 3.1.1.9 semiuri: ';' inside the user part. */
Test(sipmsg_uri, semiuri_user_with_semicolon)
{
	struct spl_sip_uri u;
	cr_assert(parse("sip:user;par=u%40example.net@example.com", &u) == 0);
	EXPECT_STR(u.user, "user;par=u%40example.net");
	EXPECT_STR(u.host.text, "example.com");
	EXPECT_STR(u.params, NULL);
}

/* RFC 4475 3.1.1.2 intmeth: every unusual user and password character. */
Test(sipmsg_uri, intmeth_unusual_userinfo)
{
	struct spl_sip_uri u;
	cr_assert(parse("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
			"(doesn't-it)@example.com", &u) == 0);
	EXPECT_STR(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	EXPECT_STR(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	EXPECT_STR(u.host.text, "example.com");
	EXPECT_STR(u.params, NULL);
	EXPECT_STR(u.headers, NULL);
}

/* RFC 4475 3.1.2.11 escruri / 3.3.14 regescrt: headers component */
Test(sipmsg_uri, headers_component)
{
	struct spl_sip_uri u;
	cr_assert(parse("sip:user@example.com?Route=%3Csip:sip.example.com%3E", &u) == 0);
	EXPECT_STR(u.host.text, "example.com");
	EXPECT_STR(u.headers, "Route=%3Csip:sip.example.com%3E");
	cr_assert(parse("sip:sip.example.com;transport=tcp?subject=&to=sip:bob%40biloxi.com", &u) == 0);
	EXPECT_STR(u.params, "transport=tcp");
	EXPECT_STR(u.headers, "subject=&to=sip:bob%40biloxi.com");
	cr_expect(parse("sip:a@b.com?", &u) == -1);
	cr_expect(parse("sip:a@b.com?x", &u) == -1, "a header needs '='");
	cr_expect(parse("sip:a@b.com?x=1&", &u) == -1);
}

/* wsinv's Route and longreq's To: unknown and valueless params */
Test(sipmsg_uri, unknown_params)
{
	struct spl_sip_uri u;
	struct spl_str v;
	cr_assert(parse("sip:services.example.com;lr;unknownwith=value;unknown-no-value", &u) == 0);
	cr_expect(u.lr);
	EXPECT_STR(u.params, "lr;unknownwith=value;unknown-no-value");
	cr_assert(spl_sip_param_find(u.params, ';', "UNKNOWNWITH", &v));
	EXPECT_STR(v, "value");
	cr_assert(spl_sip_param_find(u.params, ';', "unknown-no-value", &v));
	EXPECT_STR(v, NULL);
	cr_expect(!spl_sip_param_find(u.params, ';', "unknown", &v));
	cr_assert(parse("sip:vivekg@chair-dnrc.example.com;unknownparam", &u) == 0);
	EXPECT_STR(u.params, "unknownparam");
	cr_expect(!u.lr);
}

Test(sipmsg_uri, tel_uri)
{
	struct spl_sip_uri u;
	cr_assert(parse("tel:+1-201-555-0123;phone-context=example.com", &u) == 0);
	cr_expect(u.scheme_id == SPL_SIP_SCHEME_TEL);
	EXPECT_STR(u.user, "+1-201-555-0123");
	EXPECT_STR(u.params, "phone-context=example.com");
	cr_expect(u.host.kind == SPL_SIP_HOST_NONE);
	cr_assert(parse("TEL:7042", &u) == 0);
	EXPECT_STR(u.user, "7042");
	EXPECT_STR(u.params, NULL);
	cr_expect(parse("tel:", &u) == -1);
	cr_expect(parse("tel:;x=1", &u) == -1);
}

/* RFC 4475 3.3.2 unkscm, 3.3.3 novelsc, 3.3.4 unksm2 */
Test(sipmsg_uri, other_schemes_are_absolute_uris)
{
	struct spl_sip_uri u;
	const char *ok[][2] = {
		{ "nobodyKnowsThisScheme:totallyopaquecontent", "totallyopaquecontent" },
		{ "soap.beep://192.0.2.103:3002", "//192.0.2.103:3002" },
		{ "isbn:2983792873", "2983792873" },
		{ "http://www.example.com", "//www.example.com" },
		{ "name:John_Smith", "John_Smith" },
		{ "im:alice%40example.com", "alice%40example.com" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert(parse(ok[i][0], &u) == 0, "%s", ok[i][0]);
		cr_expect(u.scheme_id == SPL_SIP_SCHEME_OTHER);
		EXPECT_STR(u.opaque, ok[i][1]);
		EXPECT_STR(u.user, NULL);
	}
	cr_assert(parse("soap.beep://192.0.2.103:3002", &u) == 0);
	EXPECT_STR(u.scheme, "soap.beep");
	cr_expect(parse("x:", &u) == -1);
	cr_expect(parse("1x:abc", &u) == -1);
	cr_expect(parse("x:a%zz", &u) == -1);
	cr_expect(parse("noscheme", &u) == -1);
	cr_expect(parse(":opaque", &u) == -1);
}

/* RFC 4475 3.1.2.8 lwsruri, 3.1.2.14 badaspec, 3.1.2.7 ltgtruri */
Test(sipmsg_uri, whitespace_and_brackets_rejected)
{
	struct spl_sip_uri u;
	const char *bad[] = {
		"sip:user@example.com;lr ;x=1", "sip:us er@example.com", " sip:a@b.com", "sip:a@b.com ",
		"sip:a@b.com\t", "sip:a@b.com\r\n", "<sip:a@b.com>", "sip:a@b.com>", "sip:\"a\"@b.com",
		"sip:a\x01@b.com", "sip:\xc3\xa9@b.com",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(parse(bad[i], &u) == -1, "'%s'", bad[i]);
}

Test(sipmsg_uri, structural_errors_rejected)
{
	struct spl_sip_uri u;
	const char *bad[] = {
		"sip:", "sip:user@", "sip:@example.com", "sip:user:pw@", "sip:example.com:",
		"sip:example.com:65536", "sip:example.com:99999999999", "sip:example.com:50a",
		"sip:example.com;", "sip:example.com;;lr", "sip:example.com;lr;", "sip:example.com;=x",
		"sip:example.com;a=", "sip:example.com;transport", "sip:example.com;ttl=256",
		"sip:example.com;ttl=1x", "sip:example.com;maddr=-bad-", "sip:a:b:c@example.com",
		"sip:a#b@example.com", "sip:a@b@c.com", "sip", "sip:user@host.com:5060:5061",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(parse(bad[i], &u) == -1, "'%s'", bad[i]);
}

Test(sipmsg_uri, length_is_respected)
{
	/* The parser sees only len bytes even if more follow in memory. */
	const char *s = G("sip:a@example.com;lr>trailing");
	struct spl_sip_uri u;
	cr_assert(spl_sip_uri_parse(s, 17, &u) == 0);
	EXPECT_STR(u.raw, "sip:a@example.com");
	cr_expect(!u.lr);
	cr_expect(spl_sip_uri_parse(s, 18, &u) == -1, "a dangling ';'");
	cr_assert(spl_sip_uri_parse(s, 20, &u) == 0);
	cr_expect(u.lr);
	EXPECT_STR(u.params, "lr");
	cr_expect(spl_sip_uri_parse(s, 0, &u) == -1);
	cr_expect(spl_sip_uri_parse(NULL, 0, &u) == -1);
}

Test(sipmsg_param, iterator_lws_quotes_and_errors)
{
	struct spl_sip_param_iter it;
	struct spl_str n, v;
	const char *s = "tag = 98asjd8 ;\r\n  x=\"a;b\\\"c\"\t; novalue ;\n y =\r\n [2001:db8::1]";
	spl_sip_param_iter_init(&it, (struct spl_str){ G(s), GLEN(s) }, ';');
	cr_assert(spl_sip_param_next(&it, &n, &v) == 1);
	EXPECT_STR(n, "tag");
	EXPECT_STR(v, "98asjd8");
	cr_assert(spl_sip_param_next(&it, &n, &v) == 1);
	EXPECT_STR(n, "x");
	EXPECT_STR(v, "\"a;b\\\"c\"");
	cr_assert(spl_sip_param_next(&it, &n, &v) == 1);
	EXPECT_STR(n, "novalue");
	EXPECT_STR(v, NULL);
	cr_assert(spl_sip_param_next(&it, &n, &v) == 1);
	EXPECT_STR(n, "y");
	EXPECT_STR(v, "[2001:db8::1]");
	cr_expect(spl_sip_param_next(&it, &n, &v) == 0);
	cr_expect(spl_sip_param_next(&it, &n, &v) == 0);

	const char *bad[] = { ";a", "a;;b", "a;", "a; ", "=x", "a=", "a=\"x", "a b", "a=b c", "a=\"x\"y", "a==b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;
		spl_sip_param_iter_init(&it, (struct spl_str){ G(bad[i]), GLEN(bad[i]) }, ';');
		while ((r = spl_sip_param_next(&it, &n, &v)) == 1)
			;
		cr_expect(r == -1, "'%s'", bad[i]);
	}
	spl_sip_param_iter_init(&it, SPL_STR_NULL, ';');
	cr_expect(spl_sip_param_next(&it, &n, &v) == 0);
}
