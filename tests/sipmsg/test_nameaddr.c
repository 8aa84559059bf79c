/* SPDX-License-Identifier: BSD-3-Clause */
/* name-addr / addr-spec values and lists: RFC 3261 §20.10, §25.1, RFC 4475. */
#include <criterion/criterion.h>

#include "elem_guard.h"

static int parse1(const char *s, struct spl_sip_nameaddr *na)
{
	return spl_sip_nameaddr_parse(G(s), GLEN(s), na);
}

/* Parse a whole list; returns the count or -1. */
static int list(const char *s, struct spl_sip_nameaddr *out, int max)
{
	struct spl_str rest = { G(s), GLEN(s) };
	struct spl_sip_nameaddr na;
	int n = 0, r;
	while ((r = spl_sip_nameaddr_next(&rest, &na)) == 1) {
		if (n < max)
			out[n] = na;
		n++;
	}
	return r < 0 ? -1 : n;
}

Test(sipmsg_nameaddr, quoted_display_and_tag)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("\"Bob\" <sips:bob@biloxi.com> ;tag=a48s", &na) == 0);
	EXPECT_STR(na.raw, "\"Bob\" <sips:bob@biloxi.com> ;tag=a48s");
	EXPECT_STR(na.display, "\"Bob\"");
	EXPECT_STR(na.uri_str, "sips:bob@biloxi.com");
	cr_expect(na.uri.scheme_id == SPL_SIP_SCHEME_SIPS);
	EXPECT_STR(na.uri.user, "bob");
	EXPECT_STR(na.params, "tag=a48s");
	EXPECT_STR(na.tag, "a48s");
	cr_expect(na.angle);
	cr_expect(!na.star);
}

Test(sipmsg_nameaddr, token_display)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8", &na) == 0);
	EXPECT_STR(na.display, "Anonymous");
	EXPECT_STR(na.uri_str, "sip:c8oqz84zk7z@privacy.org");
	EXPECT_STR(na.tag, "hyh8");
	cr_assert(parse1("Mr. J. User  <sip:j.user@example.com>", &na) == 0);
	EXPECT_STR(na.display, "Mr. J. User");
	cr_assert(parse1("<sip:j.user@example.com>", &na) == 0);
	EXPECT_STR(na.display, NULL);
	cr_expect(na.angle);
	EXPECT_STR(na.params, NULL);
	EXPECT_STR(na.tag, NULL);
}

/* RFC 4475 3.1.1.1 wsinv: escaped quote and backslash, folded params */
Test(sipmsg_nameaddr, wsinv_from)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8", &na) == 0);
	EXPECT_STR(na.display, "\"J Rosenberg \\\\\\\"\"");
	EXPECT_STR(na.uri_str, "sip:jdrosen@example.com");
	EXPECT_STR(na.params, "tag = 98asjd8");
	EXPECT_STR(na.tag, "98asjd8");
}

/* wsinv's To: an addr-spec, LWS before ';', spaces around '=' */
Test(sipmsg_nameaddr, wsinv_to_addr_spec)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n", &na) == 0);
	cr_expect(!na.angle);
	EXPECT_STR(na.display, NULL);
	EXPECT_STR(na.uri_str, "sip:vivekg@chair-dnrc.example.com");
	EXPECT_STR(na.uri.host.text, "chair-dnrc.example.com");
	EXPECT_STR(na.tag, "1918181833n");
}

/* wsinv's "m:" Contact: escaped quotes, folded params, q */
Test(sipmsg_nameaddr, wsinv_contact)
{
	struct spl_sip_nameaddr na[2];
	cr_assert(list("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n"
		       "  secondparam ; q = 0.33", na, 2) == 1);
	EXPECT_STR(na[0].display, "\"Quoted string \\\"\\\"\"");
	EXPECT_STR(na[0].uri_str, "sip:jdrosen@example.com");
	EXPECT_STR(na[0].q, "0.33");
	cr_expect(spl_sip_q_parse(na[0].q) == 330);
	struct spl_str v;
	cr_assert(spl_sip_param_find(na[0].params, ';', "newparam", &v));
	EXPECT_STR(v, "newvalue");
	cr_assert(spl_sip_param_find(na[0].params, ';', "secondparam", &v));
	EXPECT_STR(v, NULL);
}

/* RFC 4475 3.1.1.6 lwsdisp: no LWS between display name and '<' */
Test(sipmsg_nameaddr, lwsdisp_token_touching_laquot)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("caller<sip:caller@example.com>;tag=323", &na) == 0);
	EXPECT_STR(na.display, "caller");
	EXPECT_STR(na.uri_str, "sip:caller@example.com");
	EXPECT_STR(na.tag, "323");
	cr_assert(parse1("\"caller\"<sip:caller@example.com>", &na) == 0);
	EXPECT_STR(na.display, "\"caller\"");
}

/* RFC 4475 3.1.1.2 intmeth: control characters as quoted-pairs, token
 * display names made of unusual characters, UTF-8 in a quoted param */
Test(sipmsg_nameaddr, intmeth_values)
{
	struct spl_sip_nameaddr na;
	static const char to[] = "\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" "
				 "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>";
	cr_assert(spl_sip_nameaddr_parse(GN(to), sizeof(to) - 1, &na) == 0);
	cr_expect(na.display.len == 22);
	EXPECT_STR(na.uri_str, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
	EXPECT_STR(na.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");

	cr_assert(parse1("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
			 "\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9\""
			 ";tag=_token~1'+`*%!-.", &na) == 0);
	EXPECT_STR(na.display, "token1~` token2'+_ token3*%!.-");
	EXPECT_STR(na.tag, "_token~1'+`*%!-.");
	struct spl_str v;
	cr_assert(spl_sip_param_find(na.params, ';', "fromparam''~+*_!.-%", &v));
	cr_expect(v.len == 22 && v.p[0] == '"' && v.p[21] == '"');
}

/* RFC 4475 3.1.1.3 esc01 and 3.1.1.5 esc02 */
Test(sipmsg_nameaddr, escapes)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("sip:%75se%72@example.com", &na) == 0);
	EXPECT_STR(na.uri.user, "%75se%72");
	cr_assert(parse1("<sip:I%20have%20spaces@example.net>;tag=938", &na) == 0);
	EXPECT_STR(na.uri.user, "I%20have%20spaces");
	EXPECT_STR(na.tag, "938");
	cr_assert(parse1("<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>", &na) == 0);
	cr_expect(na.uri.lr);
	EXPECT_STR(na.params, NULL);
	cr_assert(parse1("\"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23", &na) == 0);
	EXPECT_STR(na.display, "\"%Z%45\"");
}

/* RFC 4475 3.3.12 cparam01 / 3.3.13 cparam02: where the ';' params go */
Test(sipmsg_nameaddr, cparam_header_vs_uri_params)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("sip:+19725552222@gw1.example.net;unknownparam", &na) == 0);
	EXPECT_STR(na.uri_str, "sip:+19725552222@gw1.example.net");
	EXPECT_STR(na.uri.params, NULL);
	EXPECT_STR(na.params, "unknownparam");
	cr_assert(parse1("<sip:+19725552222@gw1.example.net;unknownparam>", &na) == 0);
	EXPECT_STR(na.uri_str, "sip:+19725552222@gw1.example.net;unknownparam");
	EXPECT_STR(na.uri.params, "unknownparam");
	EXPECT_STR(na.params, NULL);
}

/* RFC 4475 3.1.2.13 regbadct vs 3.3.14 regescrt */
Test(sipmsg_nameaddr, addr_spec_may_not_hold_headers_or_commas)
{
	struct spl_sip_nameaddr na;
	cr_expect(parse1("sip:user@example.com?Route=%3Csip:sip.example.com%3E", &na) == -1);
	cr_assert(parse1("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>", &na) == 0);
	EXPECT_STR(na.uri.headers, "Route=%3Csip:sip.example.com%3E");
}

/* RFC 4475 3.1.2.15 baddn */
Test(sipmsg_nameaddr, baddn_unquoted_non_token_display)
{
	struct spl_sip_nameaddr na;
	cr_expect(parse1("Bell, Alexander <sip:a.g.bell@example.com>;tag=43", &na) == -1);
	cr_expect(parse1("Watson, Thomas <sip:t.watson@example.org>", &na) == -1);
	cr_expect(parse1("Joe@Home <sip:joe@example.org>", &na) == -1);
	cr_expect(parse1("J:oe <sip:joe@example.org>", &na) == -1);
	/* quoted, the same text is fine */
	cr_assert(parse1("\"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423", &na) == 0);
	EXPECT_STR(na.display, "\"Bell, Alexander\"");
	EXPECT_STR(na.tag, "433423");
}

/* RFC 4475 3.1.2.14 badaspec */
Test(sipmsg_nameaddr, badaspec_spaces_inside_angle_brackets)
{
	struct spl_sip_nameaddr na;
	cr_expect(parse1("\"Watson, Thomas\" < sip:t.watson@example.org >", &na) == -1);
	cr_expect(parse1("<sip:t.watson@example.org >", &na) == -1);
	cr_expect(parse1("< sip:t.watson@example.org>", &na) == -1);
}

/* RFC 4475 3.1.2.6 quotbal */
Test(sipmsg_nameaddr, quotbal_unterminated_quote)
{
	struct spl_sip_nameaddr na;
	cr_expect(parse1("\"Mr. J. User <sip:j.user@example.com>", &na) == -1);
	cr_expect(parse1("\"Mr. J. User\\\" <sip:j.user@example.com>", &na) == -1);
	cr_expect(parse1("<sip:j.user@example.com>;x=\"open", &na) == -1);
}

/* RFC 4475 3.1.2.1 badinv01 */
Test(sipmsg_nameaddr, badinv01_extra_separators)
{
	struct spl_sip_nameaddr na[4];
	cr_expect(list("\"Joe\" <sip:joe@example.org>;;;;", na, 4) == -1);
	cr_expect(list("\"Joe\" <sip:joe@example.org>;", na, 4) == -1);
	cr_expect(list("<sip:a@example.org>,,<sip:b@example.org>", na, 4) == -1);
	cr_expect(list("<sip:a@example.org>,", na, 4) == -1);
	cr_expect(list(", <sip:a@example.org>", na, 4) == -1);
	cr_expect(list("<sip:a@example.org>;;tag=1", na, 4) == -1);
}

Test(sipmsg_nameaddr, list_respects_quotes_and_angles)
{
	struct spl_sip_nameaddr na[4];
	cr_assert(list("\"A, B\" <sip:a@x.example;lr>;q=0.5 ,<sip:b,c@y.example>,\r\n sip:c@z.example;expires=60",
		       na, 4) == 3);
	EXPECT_STR(na[0].display, "\"A, B\"");
	EXPECT_STR(na[0].q, "0.5");
	cr_expect(na[0].uri.lr);
	EXPECT_STR(na[1].uri.user, "b,c");
	EXPECT_STR(na[2].uri_str, "sip:c@z.example");
	EXPECT_STR(na[2].expires, "60");
	EXPECT_STR(na[2].raw, "sip:c@z.example;expires=60");
	cr_expect(list("", na, 4) == 0);
	cr_expect(list("  ", na, 4) == 0);
}

Test(sipmsg_nameaddr, list_iteration_advances_rest)
{
	const char *s = "<sip:a@x.example>, <sip:b@y.example>";
	struct spl_str rest = { G(s), GLEN(s) };
	struct spl_sip_nameaddr na;
	cr_assert(spl_sip_nameaddr_next(&rest, &na) == 1);
	EXPECT_STR(na.uri_str, "sip:a@x.example");
	EXPECT_STR(rest, "<sip:b@y.example>");
	cr_assert(spl_sip_nameaddr_next(&rest, &na) == 1);
	cr_expect(rest.len == 0);
	cr_expect(spl_sip_nameaddr_next(&rest, &na) == 0);
}

Test(sipmsg_nameaddr, parse_rejects_more_than_one_value)
{
	struct spl_sip_nameaddr na;
	cr_expect(parse1("<sip:a@x.example>, <sip:b@y.example>", &na) == -1);
	cr_expect(parse1("sip:a@x.example, sip:b@y.example", &na) == -1);
	cr_expect(parse1("", &na) == -1);
}

Test(sipmsg_nameaddr, contact_star)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("*", &na) == 0);
	cr_expect(na.star);
	EXPECT_STR(na.raw, "*");
	cr_assert(parse1("  *  ", &na) == 0);
	cr_expect(na.star);
	cr_expect(parse1("*;expires=0", &na) == -1, "'*' takes no params");
}

/* RFC 4475 3.3.4 unksm2: other schemes parse as absoluteURI */
Test(sipmsg_nameaddr, unknown_schemes)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("isbn:2983792873", &na) == 0);
	cr_expect(na.uri.scheme_id == SPL_SIP_SCHEME_OTHER);
	EXPECT_STR(na.uri.opaque, "2983792873");
	cr_assert(parse1("<http://www.example.com>;tag=3234233", &na) == 0);
	EXPECT_STR(na.uri.scheme, "http");
	EXPECT_STR(na.tag, "3234233");
	cr_assert(parse1("<name:John_Smith>", &na) == 0);
	EXPECT_STR(na.uri.opaque, "John_Smith");
}

/* RFC 5118: IPv6 in Contact */
Test(sipmsg_nameaddr, ipv6_contacts)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("\"Caller\" <sip:caller@[2001:db8::1]>", &na) == 0);
	EXPECT_STR(na.uri.host.text, "[2001:db8::1]");
	cr_assert(parse1("\"T. desk phone\" <sip:ted@[::ffff:192.0.2.2]>", &na) == 0);
	cr_expect(na.uri.host.kind == SPL_SIP_HOST_IPV6);
	cr_assert(parse1("sip:user@[2001:db8::10];tag=1", &na) == 0);
	EXPECT_STR(na.tag, "1");
	cr_expect(parse1("<sip:caller@2001:db8::1>", &na) == -1);
}

/* RFC 4475 3.1.1.7 longreq */
Test(sipmsg_nameaddr, longreq_values)
{
	struct spl_sip_nameaddr na;
	cr_assert(parse1("\"I have a user name of extremeextremeextremeextremeextremeextremeextremeextremeextremeextreme"
			 " proportion\"<sip:user@example.com:6000;unknownparam1=verylonglonglonglonglonglonglong"
			 "longlonglonglonglonglonglonglonglonglonglonglonglonglongvalue;longparamnamenamenamename"
			 "namenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamename="
			 "shortvalue;verylonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglong"
			 "longlonglonglonglonglonglonglongParameterNameWithNoValue>", &na) == 0);
	cr_expect(na.display.len == 105);
	cr_expect(na.uri.port == 6000);
	EXPECT_STR(na.uri.host.text, "example.com");
	struct spl_str v;
	cr_expect(spl_sip_param_find(na.uri.params, ';', "unknownparam1", &v) && v.len > 90);

	const char *from = "sip:amazinglylongcallernameamazinglylongcallernameamazinglylongcallername"
			   "amazinglylongcallernameamazinglylongcallername@example.net;tag=1298298298298298298"
			   "2982982982982982982982982982982982982982982982982982982982982982982982982982982982"
			   "982982982982982982982982982982982982982982424;unknownheaderparamnamenamenamename"
			   "namenamenamenamenamenamename=unknowheaderparamvaluevaluevaluevaluevalue;"
			   "unknownValuelessparamnameparamnameparamnameparamname";
	cr_assert(parse1(from, &na) == 0);
	const char *tag = strstr(from, "tag=") + 4;
	cr_expect(na.tag.len == (uint32_t)(strchr(tag, ';') - tag));
	cr_expect(na.tag.len > 100 && memcmp(na.tag.p, "129829", 6) == 0);
	EXPECT_STR(na.uri.host.text, "example.net");
	cr_expect(spl_sip_param_find(na.params, ';', "unknownvaluelessparamnameparamnameparamnameparamname", &v));
	EXPECT_STR(v, NULL);
}

Test(sipmsg_nameaddr, malformed_rejected)
{
	struct spl_sip_nameaddr na;
	const char *bad[] = {
		"<sip:a@example.com", "sip:a@example.com>", "<sip:a@example.com>junk", "<>", "\"x\"",
		"\"x\" sip:a@example.com", "<sip:a@example.com>;tag", "<sip:a@example.com>;tag=",
		"<sip:a@example.com>;=x", "<sip:a@example.com> <sip:b@example.com>", "sip:a@example.com junk",
		"<sip:a@example.com>;q=\"0.5", "noscheme", "\"a\" <sip:a@example.com>;x=<y>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(parse1(bad[i], &na) == -1, "'%s'", bad[i]);
}
