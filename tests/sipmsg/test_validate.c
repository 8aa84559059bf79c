/* SPDX-License-Identifier: BSD-3-Clause */
/* Level 4: the verdict for a datagram, one fault at a time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "spl_sipmsg.h"

static struct spl_sipmsg m;

/* A good INVITE with one header replaced (or dropped when with == ""). */
static struct spl_sipmsg_verdict verdict_with(const char *name, const char *with)
{
	static const char *lines[][2] = {
		{ "Via", "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds" },
		{ "Max-Forwards", "Max-Forwards: 70" },
		{ "To", "To: Bob <sip:bob@biloxi.example.com>" },
		{ "From", "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" },
		{ "Call-ID", "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" },
		{ "CSeq", "CSeq: 314159 INVITE" },
		{ "Contact", "Contact: <sip:alice@pc33.atlanta.example.com>" },
		{ "Content-Length", "Content-Length: 0" },
	};
	static char buf[2048];
	int n = snprintf(buf, sizeof(buf), "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const char *l = lines[i][1];
		if (name && strcmp(name, lines[i][0]) == 0) {
			if (!*with)
				continue;
			l = with;
		}
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\r\n", l);
	}
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n");
	struct spl_sipmsg_verdict v;
	spl_sipmsg_validate(&m, spl_sipmsg_scan(&m, buf, (uint32_t)n), &v);
	return v;
}

static struct spl_sipmsg_verdict verdict_of(const char *s)
{
	struct spl_sipmsg_verdict v;
	spl_sipmsg_validate(&m, spl_sipmsg_scan(&m, s, (uint32_t)strlen(s)), &v);
	return v;
}

#define EXPECT_REJECT(v, st) \
	do { \
		struct spl_sipmsg_verdict v_ = (v); \
		cr_expect_eq(v_.kind, SPL_SIPMSG_REJECT, "kind %d (%s)", v_.kind, v_.reason); \
		cr_expect_eq(v_.status, (st), "status %u (%s)", v_.status, v_.reason); \
	} while (0)

Test(sipmsg_validate, good_invite_is_ok)
{
	struct spl_sipmsg_verdict v = verdict_with(NULL, NULL);
	cr_expect_eq(v.kind, SPL_SIPMSG_OK, "%s", v.reason);
	cr_expect_eq(m.nvias, 1);
	cr_expect_eq(m.max_forwards, 70);
	cr_expect_eq(m.cseq.num, 314159);
}

Test(sipmsg_validate, missing_mandatory_headers)
{
	EXPECT_REJECT(verdict_with("From", ""), 400);
	cr_expect_eq(verdict_with("From", "").err, SPL_SIPMSG_E_MISSING_FROM);
	cr_expect_eq(verdict_with("To", "").err, SPL_SIPMSG_E_MISSING_TO);
	cr_expect_eq(verdict_with("Call-ID", "").err, SPL_SIPMSG_E_MISSING_CALLID);
	cr_expect_eq(verdict_with("CSeq", "").err, SPL_SIPMSG_E_MISSING_CSEQ);
	/* Max-Forwards may be absent (RFC 2543 peers). */
	cr_expect_eq(verdict_with("Max-Forwards", "").kind, SPL_SIPMSG_OK);
	cr_expect_eq(m.max_forwards, -1);
}

Test(sipmsg_validate, no_via_is_dropped)
{
	struct spl_sipmsg_verdict v = verdict_with("Via", "");
	cr_expect_eq(v.kind, SPL_SIPMSG_DROP);
	cr_expect_eq(v.err, SPL_SIPMSG_E_NO_VIA);
}

Test(sipmsg_validate, malformed_values)
{
	EXPECT_REJECT(verdict_with("Via", "Via: SIP/2.0/UDP ;;,;"), 400);
	EXPECT_REJECT(verdict_with("CSeq", "CSeq: 4294967296 INVITE"), 400);
	EXPECT_REJECT(verdict_with("CSeq", "CSeq: x INVITE"), 400);
	EXPECT_REJECT(verdict_with("Max-Forwards", "Max-Forwards: 256"), 400);
	EXPECT_REJECT(verdict_with("Max-Forwards", "Max-Forwards: -1"), 400);
	EXPECT_REJECT(verdict_with("Call-ID", "Call-ID: a b"), 400);
	EXPECT_REJECT(verdict_with("Call-ID", "Call-ID: @x"), 400);
	EXPECT_REJECT(verdict_with("To", "To: \"Bob <sip:bob@biloxi.example.com>"), 400);
	EXPECT_REJECT(verdict_with("Contact", "Contact: <sip:a@b>, *"), 400);
}

Test(sipmsg_validate, multiple_single_value_headers)
{
	EXPECT_REJECT(verdict_with("To", "To: <sip:a@b>\r\nTo: <sip:c@d>"), 400);
	cr_expect_eq(verdict_with("Call-ID", "Call-ID: a@b\r\ni: c@d").err, SPL_SIPMSG_E_MULTI_CALLID);
	cr_expect_eq(verdict_with("CSeq", "CSeq: 1 INVITE\r\nCSeq: 2 INVITE").err, SPL_SIPMSG_E_MULTI_CSEQ);
	cr_expect_eq(verdict_with("Max-Forwards", "Max-Forwards: 70\r\nMax-Forwards: 69").err,
		     SPL_SIPMSG_E_MULTI_MAXFWD);
	EXPECT_REJECT(verdict_with("From", "From: <sip:a@b>;tag=1, <sip:c@d>;tag=2"), 400);
}

Test(sipmsg_validate, cseq_method_mismatch)
{
	struct spl_sipmsg_verdict v = verdict_with("CSeq", "CSeq: 1 OPTIONS");
	EXPECT_REJECT(v, 400);
	cr_expect_eq(v.err, SPL_SIPMSG_E_CSEQ_METHOD);
	/* Case matters: methods are case-sensitive. */
	EXPECT_REJECT(verdict_with("CSeq", "CSeq: 1 invite"), 400);
	/* Unknown method with a mismatch: 501. */
	v = verdict_of("FOO sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
		       "From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n");
	EXPECT_REJECT(v, 501);
	/* Unknown method, matching CSeq: fine for the message layer. */
	v = verdict_of("FOO sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
		       "From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 FOO\r\n\r\n");
	cr_expect_eq(v.kind, SPL_SIPMSG_OK, "%s", v.reason);
}

Test(sipmsg_validate, request_uri_faults)
{
	struct spl_sipmsg_verdict v =
		verdict_of("INVITE sip:2001:db8::10 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			   "To: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n");
	EXPECT_REJECT(v, 400);
	cr_expect_eq(v.err, SPL_SIPMSG_E_BAD_RURI);
	v = verdict_of("INVITE sip:a@b?Route=%3Csip:x%3E SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		       "To: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n");
	EXPECT_REJECT(v, 400);
	/* An unknown scheme is a routing question (416), not a syntax one. */
	v = verdict_of("INVITE nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\n"
		       "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n");
	cr_expect_eq(v.kind, SPL_SIPMSG_OK, "%s", v.reason);
}

Test(sipmsg_validate, version_and_framing)
{
	struct spl_sipmsg_verdict v =
		verdict_of("INVITE sip:a@b SIP/7.0\r\nVia: SIP/7.0/UDP h;branch=z9hG4bK1\r\n\r\n");
	EXPECT_REJECT(v, 505);
	v = verdict_of("MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nl: 50\r\n\r\nshort");
	EXPECT_REJECT(v, 400);
	cr_expect_eq(v.err, SPL_SIPMSG_E_CL_TOO_BIG);
}

Test(sipmsg_validate, responses_are_dropped_not_answered)
{
	struct spl_sipmsg_verdict v =
		verdict_of("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>;tag=2\r\n"
			   "From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 4294967296 INVITE\r\n\r\n");
	cr_expect_eq(v.kind, SPL_SIPMSG_DROP);
	cr_expect_eq(v.err, SPL_SIPMSG_E_BAD_CSEQ);
	v = verdict_of("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>;tag=2\r\n"
		       "From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n");
	cr_expect_eq(v.kind, SPL_SIPMSG_OK, "%s", v.reason);
	/* A response's CSeq method is not compared with anything. */
	cr_expect_eq(m.cseq.method_id, SPL_SIP_METHOD_INVITE);
}

Test(sipmsg_validate, garbage_is_dropped)
{
	cr_expect_eq(verdict_of("").kind, SPL_SIPMSG_DROP);
	cr_expect_eq(verdict_of("\x16\x03\x01\x02\x00\x01").kind, SPL_SIPMSG_DROP);
	cr_expect_eq(verdict_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n").kind, SPL_SIPMSG_DROP);
}

Test(sipmsg_validate, err_table_is_consistent)
{
	for (int e = 0; e < SPL_SIPMSG_E__COUNT; e++) {
		const char *r = spl_sipmsg_err_reason((enum spl_sipmsg_err)e);
		cr_expect(r && *r, "err %d has no reason", e);
		uint16_t st = spl_sipmsg_err_status((enum spl_sipmsg_err)e);
		cr_expect(st == 0 || (st >= 400 && st <= 599), "err %d status %u", e, st);
	}
}
