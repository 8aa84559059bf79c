/* SPDX-License-Identifier: BSD-3-Clause */
/* Level 1: start line, header index, folding, line ends, framing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "spl_sipmsg.h"

static struct spl_sipmsg m;

static enum spl_sipmsg_err scan(const char *s)
{
	return spl_sipmsg_scan(&m, s, (uint32_t)strlen(s));
}

static void expect_str(struct spl_str s, const char *want)
{
	cr_expect_not_null(s.p, "expected '%s', got absent", want);
	if (!s.p)
		return;
	cr_expect(s.len == strlen(want) && memcmp(s.p, want, s.len) == 0, "expected '%s', got '%.*s'",
		  want, (int)s.len, s.p);
}

Test(sipmsg_scan, request_line_and_headers)
{
	static const char msg[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
				  "To: <sip:bob@example.com>\r\n"
				  "Content-Length: 4\r\n"
				  "\r\n"
				  "abcd";
	cr_assert_eq(scan(msg), SPL_SIPMSG_E_NONE);
	cr_expect(m.request);
	expect_str(m.method, "INVITE");
	cr_expect_eq(m.method_id, SPL_SIP_METHOD_INVITE);
	expect_str(m.ruri, "sip:bob@example.com");
	expect_str(m.version, "SIP/2.0");
	cr_expect_eq(m.nhdrs, 3);
	cr_expect_eq(m.hdrs[0].id, SPL_SIP_HDR_VIA);
	expect_str(m.hdrs[1].value, "<sip:bob@example.com>");
	expect_str(m.body, "abcd");
	cr_expect_eq(m.content_length, 4);
	cr_expect_eq(m.len, strlen(msg));
}

Test(sipmsg_scan, status_line_forms)
{
	cr_assert_eq(scan("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h\r\n\r\n"), SPL_SIPMSG_E_NONE);
	cr_expect(!m.request);
	cr_expect_eq(m.status, 180);
	expect_str(m.reason, "Ringing");
	/* Empty reason phrase, with and without the SP (RFC 4475 §3.1.1.13). */
	cr_assert_eq(scan("SIP/2.0 100 \r\nVia: SIP/2.0/UDP h\r\n\r\n"), SPL_SIPMSG_E_NONE);
	cr_expect_eq(m.reason.len, 0);
	cr_assert_eq(scan("SIP/2.0 100\r\nVia: SIP/2.0/UDP h\r\n\r\n"), SPL_SIPMSG_E_NONE);
	/* UTF-8 reason phrase is kept whole. */
	cr_assert_eq(scan("SIP/2.0 200 \xe2\x80\x9c\xc3\xa9t\xc3\xa9\xe2\x80\x9d OK\r\n\r\n"), SPL_SIPMSG_E_NONE);
	expect_str(m.reason, "\xe2\x80\x9c\xc3\xa9t\xc3\xa9\xe2\x80\x9d OK");
}

Test(sipmsg_scan, bad_status_codes)
{
	cr_expect_eq(scan("SIP/2.0 4294967301 big\r\n\r\n"), SPL_SIPMSG_E_BAD_STATUS);
	cr_expect_eq(scan("SIP/2.0 099 low\r\n\r\n"), SPL_SIPMSG_E_BAD_STATUS);
	cr_expect_eq(scan("SIP/2.0 700 high\r\n\r\n"), SPL_SIPMSG_E_BAD_STATUS);
	cr_expect_eq(scan("SIP/2.0 20 short\r\n\r\n"), SPL_SIPMSG_E_BAD_STATUS);
	cr_expect_eq(scan("SIP/2.0 2x0 alpha\r\n\r\n"), SPL_SIPMSG_E_BAD_STATUS);
	cr_expect_eq(scan("SIP/3.0 200 OK\r\n\r\n"), SPL_SIPMSG_E_START_LINE);
}

Test(sipmsg_scan, request_line_faults)
{
	cr_expect_eq(scan("INVITE sip:a@b SIP/7.0\r\n\r\n"), SPL_SIPMSG_E_VERSION);
	cr_expect_eq(scan("INVITE sip:a@b SIP/2.0 \r\n\r\n"), SPL_SIPMSG_E_BAD_VERSION);
	cr_expect_eq(scan("INVITE sip:a@b HTTP/1.1\r\n\r\n"), SPL_SIPMSG_E_BAD_VERSION);
	cr_expect_eq(scan("INVITE  sip:a@b SIP/2.0\r\n\r\n"), SPL_SIPMSG_E_BAD_RURI);
	cr_expect_eq(scan("INVITE sip:a@b; lr SIP/2.0\r\n\r\n"), SPL_SIPMSG_E_BAD_RURI);
	cr_expect_eq(scan("INVITE sip:a@b\r\n\r\n"), SPL_SIPMSG_E_BAD_VERSION);
	cr_expect_eq(scan("\x01\x02\x03\r\n\r\n"), SPL_SIPMSG_E_START_LINE);
	cr_expect_eq(scan(""), SPL_SIPMSG_E_EMPTY);
	cr_expect_eq(scan("\r\n\r\n"), SPL_SIPMSG_E_EMPTY);
}

Test(sipmsg_scan, lowercase_method_is_another_method)
{
	cr_assert_eq(scan("invite sip:a@b SIP/2.0\r\n\r\n"), SPL_SIPMSG_E_NONE);
	cr_expect_eq(m.method_id, SPL_SIP_METHOD_OTHER);
}

Test(sipmsg_scan, leading_crlf_ignored)
{
	cr_assert_eq(scan("\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n"), SPL_SIPMSG_E_NONE);
	cr_expect_eq(m.method_id, SPL_SIP_METHOD_OPTIONS);
	cr_expect_eq(m.buf[0], 'O');
}

Test(sipmsg_scan, folding_and_lf_line_ends)
{
	cr_assert_eq(scan("OPTIONS sip:a@b SIP/2.0\n"
			  "Subject: first\n"
			  "   second\r\n"
			  "\tthird\n"
			  "Route:\r\n"
			  " <sip:p.example.com;lr>\r\n"
			  "\n"),
		     SPL_SIPMSG_E_NONE);
	cr_assert_eq(m.nhdrs, 2);
	cr_expect_eq(m.hdrs[0].id, SPL_SIP_HDR_SUBJECT);
	expect_str(m.hdrs[0].value, "first\n   second\r\n\tthird");
	cr_expect_eq(m.hdrs[0].len, strlen("Subject: first\n   second\r\n\tthird\n"));
	expect_str(m.hdrs[1].value, "<sip:p.example.com;lr>");
	cr_expect_eq(m.body.len, 0);
}

Test(sipmsg_scan, compact_and_mixed_case_names)
{
	cr_assert_eq(scan("OPTIONS sip:a@b SIP/2.0\r\n"
			  "v: SIP/2.0/UDP h\r\n"
			  "VIA : SIP/2.0/UDP g\r\n"
			  "i: abc\r\n"
			  "cALL-iD: abc\r\n"
			  "l: 0\r\n"
			  "X-Custom: keep me\r\n"
			  "\r\n"),
		     SPL_SIPMSG_E_NONE);
	cr_expect_eq(m.count[SPL_SIP_HDR_VIA], 2);
	cr_expect_eq(m.count[SPL_SIP_HDR_CALL_ID], 2);
	cr_expect_eq(m.count[SPL_SIP_HDR_CONTENT_LENGTH], 1);
	const struct spl_sip_hdr *h = spl_sipmsg_hdr(&m, SPL_SIP_HDR_VIA);
	cr_assert_not_null(h);
	expect_str(h->value, "SIP/2.0/UDP h");
	cr_assert_neq(h->next, SPL_SIPMSG_NONE);
	expect_str(m.hdrs[h->next].value, "SIP/2.0/UDP g");
	const struct spl_sip_hdr *x = spl_sipmsg_hdr_by_name(&m, "x-custom");
	cr_assert_not_null(x);
	cr_expect_eq(x->id, SPL_SIP_HDR_OTHER);
	expect_str(x->value, "keep me");
}

Test(sipmsg_scan, content_length_framing)
{
	/* Absent: the body runs to the end of the datagram. */
	cr_assert_eq(scan("MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nhello"), SPL_SIPMSG_E_NONE);
	expect_str(m.body, "hello");
	cr_expect(!m.has_content_length);
	/* Shorter than what arrived: the rest is ignored. */
	cr_assert_eq(scan("MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhello"), SPL_SIPMSG_E_NONE);
	expect_str(m.body, "he");
	cr_expect_eq(m.len, strlen("MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhe"));
	cr_expect_eq(scan("MESSAGE sip:a@b SIP/2.0\r\nl: 9\r\n\r\nhello"), SPL_SIPMSG_E_CL_TOO_BIG);
	cr_expect_eq(scan("MESSAGE sip:a@b SIP/2.0\r\nl: -1\r\n\r\nhello"), SPL_SIPMSG_E_CL_BAD);
	cr_expect_eq(scan("MESSAGE sip:a@b SIP/2.0\r\nl: x\r\n\r\nhello"), SPL_SIPMSG_E_CL_BAD);
	cr_expect_eq(scan("MESSAGE sip:a@b SIP/2.0\r\nl: 99999999999\r\n\r\nhello"), SPL_SIPMSG_E_CL_BAD);
	cr_expect_eq(scan("MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\nContent-Length: 3\r\n\r\nhello"),
		     SPL_SIPMSG_E_CL_MULTI);
	cr_assert_eq(scan("MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\nContent-Length: 02\r\n\r\nhello"),
		     SPL_SIPMSG_E_NONE);
	expect_str(m.body, "he");
}

Test(sipmsg_scan, missing_blank_line_tolerated_without_body)
{
	cr_assert_eq(scan("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 0\r\n"),
		     SPL_SIPMSG_E_NONE);
	cr_expect_eq(m.nhdrs, 2);
	cr_expect_eq(m.body.len, 0);
	cr_expect_eq(scan("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5\r\n"), SPL_SIPMSG_E_CL_TOO_BIG);
}

Test(sipmsg_scan, malformed_header_line)
{
	cr_expect_eq(scan("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nno colon here\r\n\r\n"),
		     SPL_SIPMSG_E_HDR_SYNTAX);
	/* The good lines are still indexed so that a 400 can be sent. */
	cr_expect_eq(m.count[SPL_SIP_HDR_VIA], 1);
	cr_expect_eq(scan("OPTIONS sip:a@b SIP/2.0\r\n: empty name\r\n\r\n"), SPL_SIPMSG_E_HDR_SYNTAX);
	cr_expect_eq(scan("OPTIONS sip:a@b SIP/2.0\r\n continuation first\r\n\r\n"), SPL_SIPMSG_E_HDR_SYNTAX);
}

Test(sipmsg_scan, too_many_headers_is_bounded)
{
	static char buf[SPL_SIPMSG_MAX_HDRS * 16 + 256];
	int n = snprintf(buf, sizeof(buf), "OPTIONS sip:a@b SIP/2.0\r\n");
	for (int i = 0; i < SPL_SIPMSG_MAX_HDRS + 1; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "X-H%d: v\r\n", i);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n");
	cr_assert_lt((size_t)n, sizeof(buf));
	cr_expect_eq(spl_sipmsg_scan(&m, buf, (uint32_t)n), SPL_SIPMSG_E_TOO_MANY_HDRS);
	cr_expect_eq(m.nhdrs, SPL_SIPMSG_MAX_HDRS);
}

Test(sipmsg_scan, no_nul_termination_needed)
{
	/* The scanner must stop at len, not at a NUL. */
	const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nXYZ";
	cr_assert_eq(spl_sipmsg_scan(&m, msg, (uint32_t)(sizeof(msg) - 1 - 3)), SPL_SIPMSG_E_NONE);
	cr_expect_eq(m.body.len, 0);
}

Test(sipmsg_scan, lazy_parse_is_cached)
{
	cr_assert_eq(scan("OPTIONS sip:a@b SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
			  "Max-Forwards: 70\r\n"
			  "CSeq: 1 OPTIONS\r\n\r\n"),
		     SPL_SIPMSG_E_NONE);
	cr_expect_eq(m.parsed, 0);
	cr_expect_eq(spl_sipmsg_parse(&m, SPL_SIPMSG_P_VIA | SPL_SIPMSG_P_MAXFWD), SPL_SIPMSG_E_NONE);
	cr_expect_eq(m.parsed, SPL_SIPMSG_P_VIA | SPL_SIPMSG_P_MAXFWD);
	cr_expect_eq(m.nvias, 1);
	cr_expect_eq(m.max_forwards, 70);
	/* A failing part keeps failing with the same fault, and does not
	 * hide the others. */
	cr_expect_eq(spl_sipmsg_parse(&m, SPL_SIPMSG_P_FROM), SPL_SIPMSG_E_MISSING_FROM);
	cr_expect_eq(spl_sipmsg_parse(&m, SPL_SIPMSG_P_FROM | SPL_SIPMSG_P_VIA), SPL_SIPMSG_E_MISSING_FROM);
	cr_expect_eq(spl_sipmsg_parse(&m, SPL_SIPMSG_P_CSEQ), SPL_SIPMSG_E_NONE);
	cr_expect_eq(m.cseq.num, 1);
}

Test(sipmsg_scan, header_table_long_and_compact)
{
	cr_expect_eq(spl_sip_hdr_lookup("Via", 3), SPL_SIP_HDR_VIA);
	cr_expect_eq(spl_sip_hdr_lookup("v", 1), SPL_SIP_HDR_VIA);
	cr_expect_eq(spl_sip_hdr_lookup("m", 1), SPL_SIP_HDR_CONTACT);
	cr_expect_eq(spl_sip_hdr_lookup("CONTENT-LENGTH", 14), SPL_SIP_HDR_CONTENT_LENGTH);
	cr_expect_eq(spl_sip_hdr_lookup("Content-Lengths", 15), SPL_SIP_HDR_OTHER);
	cr_expect_eq(spl_sip_hdr_lookup("C%6Fntact", 9), SPL_SIP_HDR_OTHER);
	/* Every table entry round-trips by long and compact form. */
	for (int id = 1; id < SPL_SIP_HDR__COUNT; id++) {
		const char *n = spl_sip_hdr_name((enum spl_sip_hdr_id)id);
		cr_expect_eq(spl_sip_hdr_lookup(n, (uint32_t)strlen(n)), id, "%s", n);
		char c = spl_sip_hdr_compact((enum spl_sip_hdr_id)id);
		if (c) {
			char up = (char)(c - 32);
			cr_expect_eq(spl_sip_hdr_lookup(&c, 1), id, "compact %c", c);
			cr_expect_eq(spl_sip_hdr_lookup(&up, 1), id, "compact %c", up);
		}
	}
}

/* A reused message struct must not show the previous message's Contact
 * or Route when the new message has none. */
Test(sipmsg_scan, reused_struct_forgets_contact_and_route)
{
	cr_assert_eq(scan("REGISTER sip:a.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			  "Contact: *\r\nRoute: <sip:p.test;lr>\r\n\r\n"), SPL_SIPMSG_E_NONE);
	cr_assert_eq(spl_sipmsg_parse(&m, SPL_SIPMSG_P_CONTACT | SPL_SIPMSG_P_ROUTE), SPL_SIPMSG_E_NONE);
	cr_assert(m.contact.star);
	cr_assert_not_null(m.route.uri_str.p);
	cr_assert_eq(scan("OPTIONS sip:a.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\n\r\n"),
		     SPL_SIPMSG_E_NONE);
	cr_assert_eq(spl_sipmsg_parse(&m, SPL_SIPMSG_P_CONTACT | SPL_SIPMSG_P_ROUTE), SPL_SIPMSG_E_NONE);
	cr_expect_eq(m.ncontacts, 0);
	cr_expect(!m.contact.star);
	cr_expect_null(m.contact.uri_str.p);
	cr_expect_eq(m.nroutes, 0);
	cr_expect_null(m.route.uri_str.p);
}
