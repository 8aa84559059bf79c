/* SPDX-License-Identifier: BSD-3-Clause */
/* Via lists: RFC 3261 §20.42, RFC 3581 rport, RFC 4475, RFC 5118. */
#include <criterion/criterion.h>

#include "elem_guard.h"

/* Parse a whole Via value; returns the number of via-parms or -1. */
static int vias(const char *s, struct spl_sip_via *out, int max)
{
	struct spl_str rest = { G(s), GLEN(s) };
	int n = 0, r;
	struct spl_sip_via v;
	while ((r = spl_sip_via_next(&rest, &v)) == 1) {
		if (n < max)
			out[n] = v;
		n++;
	}
	return r < 0 ? -1 : n;
}

static int one(const char *s, struct spl_sip_via *v)
{
	return vias(s, v, 1);
}

Test(sipmsg_via, basic_fields)
{
	struct spl_sip_via v;
	cr_assert(one("SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;"
		      "rport=5066;maddr=239.255.255.1;ttl=16;x=y", &v) == 1);
	EXPECT_STR(v.raw, "SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;"
		   "rport=5066;maddr=239.255.255.1;ttl=16;x=y");
	EXPECT_STR(v.proto_name, "SIP");
	EXPECT_STR(v.proto_version, "2.0");
	EXPECT_STR(v.transport, "UDP");
	cr_expect(v.transport_id == SPL_SIP_TRANSPORT_UDP);
	EXPECT_STR(v.host.text, "pc33.atlanta.com");
	cr_expect(v.host.kind == SPL_SIP_HOST_NAME);
	EXPECT_STR(v.port_str, "5066");
	cr_expect(v.port == 5066);
	EXPECT_STR(v.params, "branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5066;maddr=239.255.255.1;ttl=16;x=y");
	EXPECT_STR(v.branch, "z9hG4bK776asdhds");
	EXPECT_STR(v.received, "192.0.2.1");
	EXPECT_STR(v.rport, "5066");
	EXPECT_STR(v.maddr, "239.255.255.1");
	EXPECT_STR(v.ttl, "16");
	cr_expect(v.hdr == 0);
}

Test(sipmsg_via, no_port_no_params)
{
	struct spl_sip_via v;
	cr_assert(one("SIP/2.0/TCP sip33.example.com", &v) == 1);
	EXPECT_STR(v.host.text, "sip33.example.com");
	EXPECT_STR(v.port_str, NULL);
	cr_expect(v.port == 0);
	EXPECT_STR(v.params, NULL);
	EXPECT_STR(v.branch, NULL);
	EXPECT_STR(v.rport, NULL);
	cr_expect(v.transport_id == SPL_SIP_TRANSPORT_TCP);
}

Test(sipmsg_via, rport_valueless)
{
	struct spl_sip_via v;
	cr_assert(one("SIP/2.0/UDP 192.0.2.1;rport;branch=z9hG4bKx", &v) == 1);
	cr_expect(v.rport.p != NULL && v.rport.len == 0, "rport present, empty");
	EXPECT_STR(v.branch, "z9hG4bKx");
	cr_expect(v.host.kind == SPL_SIP_HOST_IPV4);
	cr_expect(one("SIP/2.0/UDP 192.0.2.1;rport=70000", &v) == -1);
	cr_expect(one("SIP/2.0/UDP 192.0.2.1;rport=x", &v) == -1);
}

/* RFC 4475 3.1.1.1 wsinv: Via split over three lines with LWS around '/' */
Test(sipmsg_via, wsinv_folded_via)
{
	struct spl_sip_via v;
	cr_assert(one("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw", &v) == 1);
	EXPECT_STR(v.proto_name, "SIP");
	EXPECT_STR(v.proto_version, "2.0");
	EXPECT_STR(v.transport, "UDP");
	EXPECT_STR(v.host.text, "192.0.2.2");
	EXPECT_STR(v.branch, "390skdjuw");
}

/* wsinv's "v:" header: two via-parms, LWS around ';', '=' and ',' */
Test(sipmsg_via, wsinv_compact_list)
{
	struct spl_sip_via v[3];
	cr_assert(vias("SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n"
		       " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239", v, 3) == 2);
	EXPECT_STR(v[0].transport, "TCP");
	EXPECT_STR(v[0].host.text, "spindle.example.com");
	EXPECT_STR(v[0].branch, "z9hG4bK9ikj8");
	EXPECT_STR(v[0].raw, "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8");
	EXPECT_STR(v[1].transport, "UDP");
	EXPECT_STR(v[1].host.text, "192.168.255.111");
	EXPECT_STR(v[1].branch, "z9hG4bK30239");
	EXPECT_STR(v[1].params, "branch=\r\n z9hG4bK30239");
}

Test(sipmsg_via, lws_around_port_colon)
{
	struct spl_sip_via v;
	cr_assert(one("SIP/2.0/UDP host.example.com : 5070 ;branch=z9hG4bK1", &v) == 1);
	EXPECT_STR(v.host.text, "host.example.com");
	cr_expect(v.port == 5070);
	EXPECT_STR(v.branch, "z9hG4bK1");
	cr_assert(one("SIP/2.0/UDP h.example.com\n\t:\n 5071", &v) == 1);
	cr_expect(v.port == 5071);
}

/* RFC 4475 3.1.1.10 transports */
Test(sipmsg_via, transports)
{
	struct spl_sip_via v;
	struct { const char *s; uint8_t id; const char *t; } c[] = {
		{ "SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw", SPL_SIP_TRANSPORT_UDP, "UDP" },
		{ "SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf", SPL_SIP_TRANSPORT_SCTP, "SCTP" },
		{ "SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj", SPL_SIP_TRANSPORT_TLS, "TLS" },
		{ "SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en", SPL_SIP_TRANSPORT_OTHER, "UNKNOWN" },
		{ "SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee", SPL_SIP_TRANSPORT_TCP, "TCP" },
		{ "SIP/2.0/udp t6.example.com", SPL_SIP_TRANSPORT_UDP, "udp" },
		{ "SIP/2.0/WSS t7.example.com", SPL_SIP_TRANSPORT_WSS, "WSS" },
		{ "SIP/2.0/ws t8.example.com", SPL_SIP_TRANSPORT_WS, "ws" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cr_assert(one(c[i].s, &v) == 1, "%s", c[i].s);
		cr_expect(v.transport_id == c[i].id, "%s", c[i].s);
		EXPECT_STR(v.transport, c[i].t);
	}
}

/* RFC 4475 3.1.1.2 intmeth: every token character in a branch */
Test(sipmsg_via, intmeth_branch_token_chars)
{
	struct spl_sip_via v;
	cr_assert(one("SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~", &v) == 1);
	EXPECT_STR(v.branch, "z9hG4bK-.!%66*_+`'~");
}

/* RFC 4475 3.2.1 badbranch: the bare cookie still parses */
Test(sipmsg_via, bare_magic_cookie_branch)
{
	struct spl_sip_via v;
	cr_assert(one("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK", &v) == 1);
	EXPECT_STR(v.branch, "z9hG4bK");
}

/* RFC 5118 §4.1, §4.7: IPv6 sent-by with and without a port */
Test(sipmsg_via, ipv6_sent_by)
{
	struct spl_sip_via v[3];
	cr_assert(one("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111", v) == 1);
	EXPECT_STR(v[0].host.text, "[2001:db8::9:1]");
	cr_expect(v[0].host.kind == SPL_SIP_HOST_IPV6);
	EXPECT_STR(v[0].port_str, NULL);
	cr_assert(one("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111", v) == 1);
	EXPECT_STR(v[0].host.text, "[2001:db8::9:1]");
	cr_expect(v[0].port == 6050);
	cr_assert(vias("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111,"
		       "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKjhja8781hjuaij65144,"
		       "SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200", v, 3) == 3);
	cr_expect(v[1].host.kind == SPL_SIP_HOST_IPV4);
	EXPECT_STR(v[1].branch, "z9hG4bKjhja8781hjuaij65144");
	EXPECT_STR(v[2].host.text, "[2001:db8::9:255]");
	EXPECT_STR(v[2].received, "192.0.2.200");
	cr_assert(one("SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19", v) == 1);
	cr_expect(v[0].port == 19823);
	cr_expect(v[0].host.ip[12] == 192 && v[0].host.ip[15] == 10);
	cr_expect(one("SIP/2.0/UDP 2001:db8::9:1;branch=z9hG4bKx", v) == -1, "unbracketed IPv6 sent-by");
}

/* RFC 5118 §4.5: received with and without brackets */
Test(sipmsg_via, received_ipv6_with_and_without_brackets)
{
	struct spl_sip_via v;
	cr_assert(one("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111", &v) == 1);
	EXPECT_STR(v.received, "[2001:db8::9:255]");
	EXPECT_STR(v.branch, "z9hG4bKas3-111");
	cr_assert(one("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3", &v) == 1);
	EXPECT_STR(v.received, "2001:db8::9:255");
	EXPECT_STR(v.branch, "z9hG4bKas3");
	cr_expect(one("SIP/2.0/UDP h.example.com;received=host.example.com", &v) == -1);
	cr_expect(one("SIP/2.0/UDP h.example.com;received=[192.0.2.1]", &v) == -1);
	cr_expect(one("SIP/2.0/UDP h.example.com;received=2001:db8::9:255]", &v) == -1);
}

/* RFC 4475 3.1.2.1 badinv01: empty ';' and ',' separators */
Test(sipmsg_via, badinv01_empty_separators)
{
	struct spl_sip_via v[4];
	cr_expect(vias("SIP/2.0/UDP 192.0.2.15;;,;,,", v, 4) == -1);
	cr_expect(vias("SIP/2.0/UDP a.example.com,,SIP/2.0/UDP b.example.com", v, 4) == -1);
	cr_expect(vias("SIP/2.0/UDP a.example.com,", v, 4) == -1);
	cr_expect(vias("SIP/2.0/UDP a.example.com, ", v, 4) == -1);
	cr_expect(vias(",SIP/2.0/UDP a.example.com", v, 4) == -1);
	cr_expect(vias("SIP/2.0/UDP a.example.com;", v, 4) == -1);
	cr_expect(vias("SIP/2.0/UDP a.example.com;branch=x;", v, 4) == -1);
	cr_expect(vias("SIP/2.0/UDP a.example.com;branch=", v, 4) == -1);
}

Test(sipmsg_via, malformed_rejected)
{
	struct spl_sip_via v;
	const char *bad[] = {
		"SIP/2.0/UDP", "SIP/2.0/UDP ", "SIP/2.0 host.example.com", "SIP/2.0/ host.example.com",
		"SIP//UDP host.example.com", "/2.0/UDP host.example.com", "SIP/2.0/UDPhost.example.com;branch=x",
		"SIP/2.0/UDP host.example.com:", "SIP/2.0/UDP host.example.com:65536",
		"SIP/2.0/UDP host.example.com:50x", "SIP/2.0/UDP -host.example.com",
		"SIP/2.0/UDP host.example.com junk", "SIP/2.0/UDP [2001:db8::1",
		"SIP/2.0/UDP host.example.com;ttl=256", "SIP/2.0/UDP host.example.com;maddr=bad..host",
		"SIP/2.0/UDP host.example.com;branch", "SIP/2.0/UDP host.example.com;branch=\"q\"",
		"SIP/2.0/UDP host.example.com;x=\"unterminated", "SIP/2.0/UDP host.example.com;a b",
		"SIP/2.0/UDP ;branch=x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(one(bad[i], &v) == -1, "'%s'", bad[i]);
}

Test(sipmsg_via, quoted_param_with_comma_does_not_split)
{
	struct spl_sip_via v[2];
	cr_assert(vias("SIP/2.0/UDP a.example.com;x=\"1,2\";branch=z9hG4bKa , SIP/2.0/UDP b.example.com", v, 2) == 2);
	EXPECT_STR(v[0].params, "x=\"1,2\";branch=z9hG4bKa");
	EXPECT_STR(v[0].branch, "z9hG4bKa");
	EXPECT_STR(v[1].host.text, "b.example.com");
}

/* RFC 4475 3.1.1.7 longreq: a long branch value */
Test(sipmsg_via, longreq_long_branch)
{
	struct spl_sip_via v;
	const char *s = "SIP/2.0/TCP host.example.com;received=192.0.2.5;branch=verylonglonglonglonglonglonglonglong"
			"longlonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglong"
			"longlonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglongbranchvalue";
	cr_assert(one(s, &v) == 1);
	EXPECT_STR(v.received, "192.0.2.5");
	cr_expect(v.branch.len == strlen(s) - (size_t)(strstr(s, "branch=") + 7 - s));
}

Test(sipmsg_via, list_iteration_state)
{
	struct spl_str rest = { G("SIP/2.0/UDP a.example.com , SIP/2.0/TCP b.example.com:5061"), 0 };
	rest.len = GLEN("SIP/2.0/UDP a.example.com , SIP/2.0/TCP b.example.com:5061");
	struct spl_sip_via v;
	cr_assert(spl_sip_via_next(&rest, &v) == 1);
	EXPECT_STR(v.raw, "SIP/2.0/UDP a.example.com");
	EXPECT_STR(rest, "SIP/2.0/TCP b.example.com:5061");
	cr_assert(spl_sip_via_next(&rest, &v) == 1);
	EXPECT_STR(v.host.text, "b.example.com");
	cr_expect(rest.len == 0);
	cr_expect(spl_sip_via_next(&rest, &v) == 0);
	struct spl_str none = SPL_STR_NULL;
	cr_expect(spl_sip_via_next(&none, &v) == 0);
}
