/* SPDX-License-Identifier: BSD-3-Clause */
/* URI equivalence, RFC 3261 §19.1.4: every example of the section, then
 * the rules one by one. */
#include <criterion/criterion.h>

#include "elem_guard.h"

static bool eq(const char *a, const char *b)
{
	struct spl_sip_uri ua, ub;
	cr_assert(spl_sip_uri_parse(G(a), GLEN(a), &ua) == 0, "parse %s", a);
	cr_assert(spl_sip_uri_parse(G(b), GLEN(b), &ub) == 0, "parse %s", b);
	bool ab = spl_sip_uri_equal(&ua, &ub), ba = spl_sip_uri_equal(&ub, &ua);
	cr_expect(ab == ba, "comparison must be symmetric: %s / %s", a, b);
	return ab;
}

#define EXPECT_EQ(a, b) cr_expect(eq((a), (b)), "expected equal:\n  %s\n  %s", (a), (b))
#define EXPECT_NE(a, b) cr_expect(!eq((a), (b)), "expected different:\n  %s\n  %s", (a), (b))

/* "The URIs within each of the following sets are equivalent:" */
Test(sipmsg_uri_cmp, rfc3261_equivalent_set1)
{
	EXPECT_EQ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp");
}

Test(sipmsg_uri_cmp, rfc3261_equivalent_set2)
{
	EXPECT_EQ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5");
	EXPECT_EQ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on");
	EXPECT_EQ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on");
}

Test(sipmsg_uri_cmp, rfc3261_equivalent_set3)
{
	EXPECT_EQ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		  "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com");
}

Test(sipmsg_uri_cmp, rfc3261_equivalent_set4)
{
	EXPECT_EQ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		  "sip:alice@atlanta.com?priority=urgent&subject=project%20x");
}

/* "The URIs within each of the following sets are not equivalent:" */
Test(sipmsg_uri_cmp, rfc3261_not_equivalent_usernames)
{
	EXPECT_NE("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP");
}

Test(sipmsg_uri_cmp, rfc3261_not_equivalent_ports)
{
	EXPECT_NE("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060");
}

Test(sipmsg_uri_cmp, rfc3261_not_equivalent_transports)
{
	EXPECT_NE("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp");
}

Test(sipmsg_uri_cmp, rfc3261_not_equivalent_port_and_transport)
{
	EXPECT_NE("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp");
}

Test(sipmsg_uri_cmp, rfc3261_not_equivalent_header_component)
{
	EXPECT_NE("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting");
}

Test(sipmsg_uri_cmp, rfc3261_not_equivalent_resolved_host)
{
	EXPECT_NE("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4");
}

/* "Note that equality is not transitive" */
Test(sipmsg_uri_cmp, rfc3261_not_transitive)
{
	EXPECT_EQ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on");
	EXPECT_EQ("sip:carol@chicago.com", "sip:carol@chicago.com;security=off");
	EXPECT_NE("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off");
}

Test(sipmsg_uri_cmp, sip_never_equals_sips)
{
	EXPECT_NE("sip:alice@atlanta.com", "sips:alice@atlanta.com");
	EXPECT_EQ("SIPS:alice@atlanta.com", "sips:alice@atlanta.com");
}

Test(sipmsg_uri_cmp, userinfo_case_sensitive_and_escapes)
{
	EXPECT_NE("sip:Alice@atlanta.com", "sip:alice@atlanta.com");
	EXPECT_NE("sip:alice:Secret@atlanta.com", "sip:alice:secret@atlanta.com");
	EXPECT_NE("sip:alice:secret@atlanta.com", "sip:alice@atlanta.com");
	EXPECT_NE("sip:alice:@atlanta.com", "sip:alice@atlanta.com");
	EXPECT_NE("sip:atlanta.com", "sip:alice@atlanta.com");
	EXPECT_EQ("sip:%61%6c%69%63%65@atlanta.com", "sip:alice@atlanta.com");
	EXPECT_EQ("sip:%61%6C%69%63%65@atlanta.com", "sip:%61%6c%69%63%65@atlanta.com");
	EXPECT_NE("sip:%41lice@atlanta.com", "sip:alice@atlanta.com");
	EXPECT_EQ("sip:alice:s%65cret@atlanta.com", "sip:alice:secret@atlanta.com");
	/* esc01: the From user is "user" */
	EXPECT_EQ("sip:%75se%72@example.com", "sip:user@example.com");
}

/* An escaped reserved character is not the delimiter it spells. */
Test(sipmsg_uri_cmp, escaped_reserved_differs)
{
	EXPECT_NE("sip:user%3Bpar@example.com", "sip:user;par@example.com");
	EXPECT_NE("sip:a%2Cb@example.com", "sip:a,b@example.com");
	EXPECT_EQ("sip:user%3Bpar@example.com", "sip:user%3bpar@example.com");
	EXPECT_EQ("sip:carol@chicago.com?Subject=a%3Db", "sip:carol@chicago.com?subject=a%3db");
}

/* RFC 4475 escnull: %00 is a character like any other */
Test(sipmsg_uri_cmp, escnull_contacts_distinct)
{
	EXPECT_NE("sip:%00@host5.example.com", "sip:%00%00@host5.example.com");
	EXPECT_NE("sip:null-%00-null@example.com", "sip:null-@example.com");
	EXPECT_EQ("sip:null-%00-null@example.com", "sip:null-%00-null@EXAMPLE.com");
}

Test(sipmsg_uri_cmp, host_case_and_addresses)
{
	EXPECT_EQ("sip:bob@BILOXI.com", "sip:bob@biloxi.COM");
	EXPECT_NE("sip:bob@biloxi.com", "sip:bob@biloxi.org");
	EXPECT_EQ("sip:[2001:db8::1]", "sip:[2001:DB8:0:0:0:0:0:1]");
	EXPECT_NE("sip:[2001:db8::1]", "sip:[2001:db8::2]");
	EXPECT_EQ("sip:user@[2001:db8:::192.0.2.1]", "sip:user@[2001:db8::c000:201]");
	EXPECT_EQ("sip:192.0.2.4", "sip:192.0.2.4");
	EXPECT_NE("sip:192.0.2.4", "sip:192.0.2.5");
}

Test(sipmsg_uri_cmp, ports)
{
	EXPECT_EQ("sip:bob@biloxi.com:5060", "sip:bob@biloxi.com:5060");
	EXPECT_EQ("sip:bob@biloxi.com:05060", "sip:bob@biloxi.com:5060");
	EXPECT_NE("sip:bob@biloxi.com:5060", "sip:bob@biloxi.com:5061");
	EXPECT_NE("sip:[2001:db8::10:5070]", "sip:[2001:db8::10]:5070");
}

/* transport, user, ttl, method, maddr: on one side only never matches */
Test(sipmsg_uri_cmp, significant_params_one_side)
{
	EXPECT_NE("sip:bob@biloxi.com;user=phone", "sip:bob@biloxi.com");
	EXPECT_NE("sip:bob@biloxi.com;ttl=1", "sip:bob@biloxi.com");
	EXPECT_NE("sip:bob@biloxi.com;method=INVITE", "sip:bob@biloxi.com");
	EXPECT_NE("sip:bob@biloxi.com;maddr=239.255.255.1", "sip:bob@biloxi.com");
	EXPECT_NE("sip:bob@biloxi.com;transport=udp", "sip:bob@biloxi.com;x=1");
	EXPECT_EQ("sip:bob@biloxi.com;USER=Phone", "sip:bob@biloxi.com;user=phone");
	EXPECT_NE("sip:bob@biloxi.com;user=ip", "sip:bob@biloxi.com;user=phone");
	EXPECT_NE("sip:bob@biloxi.com;ttl=15", "sip:bob@biloxi.com;ttl=16");
	EXPECT_NE("sip:bob@biloxi.com;method=INVITE", "sip:bob@biloxi.com;method=BYE");
	EXPECT_NE("sip:bob@biloxi.com;maddr=192.0.2.1", "sip:bob@biloxi.com;maddr=192.0.2.2");
	EXPECT_EQ("sip:bob@biloxi.com;%74ransport=tcp", "sip:bob@biloxi.com;transport=TCP");
}

Test(sipmsg_uri_cmp, other_params_only_when_on_both)
{
	EXPECT_EQ("sip:proxy.example.com;lr", "sip:proxy.example.com");
	EXPECT_EQ("sip:proxy.example.com;lr;foo=Bar", "sip:proxy.example.com;FOO=bar;lr");
	EXPECT_NE("sip:proxy.example.com;foo=1", "sip:proxy.example.com;foo=2");
	EXPECT_NE("sip:proxy.example.com;foo", "sip:proxy.example.com;foo=2");
	EXPECT_EQ("sip:proxy.example.com;foo", "sip:proxy.example.com;foo");
	EXPECT_EQ("sip:p.example.com;n%61me=v%61lue", "sip:p.example.com;name=value");
}

Test(sipmsg_uri_cmp, headers_compared_as_sets)
{
	EXPECT_EQ("sip:a@b.com?X=1&Y=2", "sip:a@b.com?y=2&x=1");
	EXPECT_NE("sip:a@b.com?x=1&y=2", "sip:a@b.com?x=1");
	EXPECT_NE("sip:a@b.com?x=1", "sip:a@b.com?x=1&y=2");
	EXPECT_NE("sip:a@b.com?x=1", "sip:a@b.com?x=2");
	EXPECT_EQ("sip:a@b.com?x=", "sip:a@b.com?X=");
	EXPECT_NE("sip:a@b.com?x=", "sip:a@b.com?x=1");
	EXPECT_EQ("sip:a@b.com?subject=%70roject", "sip:a@b.com?subject=project");
}

Test(sipmsg_uri_cmp, other_schemes_byte_exact)
{
	EXPECT_EQ("TEL:+1-201-555-0123", "tel:+1-201-555-0123");
	EXPECT_NE("tel:+1-201-555-0123", "tel:+12015550123");
	EXPECT_EQ("HTTP://www.example.com", "http://www.example.com");
	EXPECT_NE("http://www.example.com", "http://WWW.example.com");
	EXPECT_NE("isbn:2983792873", "issn:2983792873");
	EXPECT_NE("tel:7042", "sip:7042@example.com");
}
