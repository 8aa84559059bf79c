/* SPDX-License-Identifier: BSD-3-Clause */
/* §16.3 request validation: one test per check. */
#include "proxy_fixture.h"

TestSuite(proxy_validate, .init = fxp_setup, .fini = fxp_teardown);

static void bob_located(void)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
}

Test(proxy_validate, syntax_error_answered_400_statelessly)
{
	const char *bad =
		"INVITE sip:bob@example.com SIP/2.0\n"
		"Via: SIP/2.0/UDP 192.0.2.100:5060;branch=z9hG4bKuac1\n"
		"Max-Forwards: 70\n"
		"From: <sip:alice@example.com>;tag=1\n"
		"To: <sip:bob@example.com>\n"
		"CSeq: 1 INVITE\n"
		"Content-Length: 0\n\n";
	cr_assert_eq(fxp_rx(bad, FX_UAC), SPL_SIPMSG_REJECT);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 400 ", 12) == 0, "%s", fxp_text(0));
	cr_assert_eq(fx.sent[0].dst.port, 5060);
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_VERDICT], 1);
	cr_assert_eq(spl_txn_live(spl_proxy_txn(fx.p)), 0, "stateless");
}

/* An ACK is never answered, however malformed: a 400 to it would be
 * ACKed again by a peer that copies the bad start line, for ever. */
Test(proxy_validate, malformed_ack_dropped_not_answered)
{
	const char *bad =
		"ACK <sip:bob@example.com> SIP/2.0\n"
		"Via: SIP/2.0/UDP 192.0.2.100:5060;branch=z9hG4bKuac1\n"
		"Max-Forwards: 70\n"
		"From: <sip:alice@example.com>;tag=1\n"
		"To: <sip:bob@example.com>;tag=spl1\n"
		"Call-ID: ack1@192.0.2.100\n"
		"CSeq: 1 ACK\n"
		"Content-Length: 0\n\n";
	cr_assert_eq(fxp_rx(bad, FX_UAC), SPL_SIPMSG_REJECT);
	cr_assert_eq(fx.nsent, 0, "%s", fx.nsent ? fxp_text(0) : "");
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_VERDICT], 0);
	cr_assert_eq(fxp_stats()->drops[SPL_PROXY_DROP_VERDICT], 1);
	/* The same defect in an INVITE is answered. */
	const char *inv =
		"INVITE <sip:bob@example.com> SIP/2.0\n"
		"Via: SIP/2.0/UDP 192.0.2.100:5060;branch=z9hG4bKuac2\n"
		"Max-Forwards: 70\n"
		"From: <sip:alice@example.com>;tag=1\n"
		"To: <sip:bob@example.com>\n"
		"Call-ID: inv1@192.0.2.100\n"
		"CSeq: 1 INVITE\n"
		"Content-Length: 0\n\n";
	cr_assert_eq(fxp_rx(inv, FX_UAC), SPL_SIPMSG_REJECT);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 400 ", 12) == 0, "%s", fxp_text(0));
}

Test(proxy_validate, unknown_scheme_416)
{
	fxp_rx(fxp_invite("mailto:bob@example.com", 1, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 416 ", 12) == 0, "%s", fxp_text(0));
	cr_assert(fxp_has(0, ";tag=spl"), "our To tag on a final of our own");
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_URI_SCHEME], 1);
	cr_assert_eq(fxp_stats()->rejects[4], 1);
}

Test(proxy_validate, tel_uri_without_route_416_with_route_forwarded)
{
	fxp_rx(fxp_invite("tel:+15551234567", 1, NULL), FX_UAC);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 416 ", 12) == 0);

	static const char *hops[] = { "sip:192.0.2.50:5060" };
	static struct spl_proxy_route rt = { NULL, "+1", hops, 1, false };
	fx.conf.routes = &rt;
	fx.conf.nroutes = 1;
	fxp_restart();
	fxp_rx(fxp_invite("tel:+15551234567", 2, NULL), FX_UAC);
	int inv = fxp_find(0, "INVITE tel:+15551234567 SIP/2.0");
	cr_assert_geq(inv, 0, "tel: forwarded to the gateway");
	cr_assert_eq(fx.sent[inv].dst.addr[3], 50);
}

Test(proxy_validate, max_forwards_zero_483)
{
	bob_located();
	fxp_rx(fxp_req(&(struct fx_req){ .max_forwards = "0" }), FX_UAC);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 483 ", 12) == 0, "%s", fxp_text(0));
	cr_assert_eq(fxp_count("INVITE"), 0);
}

Test(proxy_validate, max_forwards_one_forwarded_with_zero)
{
	bob_located();
	fxp_rx(fxp_req(&(struct fx_req){ .max_forwards = "1" }), FX_UAC);
	int inv = fxp_find(0, "INVITE ");
	cr_assert_geq(inv, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)inv, "Max-Forwards"), "0");
}

Test(proxy_validate, missing_max_forwards_inserted_70)
{
	bob_located();
	fxp_rx(fxp_req(&(struct fx_req){ .max_forwards = "" }), FX_UAC);
	int inv = fxp_find(0, "INVITE ");
	cr_assert_geq(inv, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)inv, "Max-Forwards"), "70");
}

Test(proxy_validate, options_max_forwards_zero_to_proxy_200)
{
	fxp_rx(fxp_req(&(struct fx_req){ .method = "OPTIONS", .ruri = "sip:192.0.2.1",
					 .max_forwards = "0" }), FX_UAC);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 200 ", 12) == 0, "%s", fxp_text(0));
	cr_assert_not_null(fxp_hdr(0, "Allow"));
	cr_assert(strstr(fxp_hdr(0, "Allow"), "INVITE") != NULL);
	cr_assert_not_null(fxp_hdr(0, "Supported"));
	cr_assert_str_eq(fxp_hdr(0, "Accept"), "*/*");
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_OPTIONS_OK], 1);
}

Test(proxy_validate, options_to_domain_answered_options_to_user_483)
{
	fxp_rx(fxp_req(&(struct fx_req){ .method = "OPTIONS", .ruri = "sip:example.com" }), FX_UAC);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 200 ", 12) == 0);
	bob_located();
	fxp_rx(fxp_req(&(struct fx_req){ .method = "OPTIONS", .ruri = "sip:bob@example.com",
					 .branch = "z9hG4bKopt2", .max_forwards = "0" }), FX_UAC);
	cr_assert(strncmp(fxp_text(1), "SIP/2.0 483 ", 12) == 0, "%s", fxp_text(1));
}

/* A request to a foreign domain is forwarded as is; fed back to us
 * unchanged it carries our Via with the same loop hash: a loop. */
Test(proxy_validate, loop_detected_482)
{
	fxp_resolve("foreign.example.net", 0, fxp_peer(203, 0, 113, 5, 5060, SPL_SIP_TRANSPORT_UDP));
	fxp_rx(fxp_invite("sip:carol@foreign.example.net", 1, NULL), FX_UAC);
	int inv = fxp_find(0, "INVITE sip:carol@foreign.example.net");
	cr_assert_geq(inv, 0);
	unsigned n = fx.nsent;
	fxp_rx_raw(fx.sent[inv].data, fx.sent[inv].len, fx.sent[inv].dst);
	int r = fxp_find(n, "SIP/2.0 482 ");
	cr_assert_geq(r, 0, "loop not detected");
	cr_assert_eq(fxp_stats()->loops, 1);
	cr_assert_eq(fxp_count("INVITE "), 1);
}

/* The same request back with another Request-URI is a spiral. */
Test(proxy_validate, spiral_allowed)
{
	bob_located();
	fxp_resolve("foreign.example.net", 0, fxp_peer(203, 0, 113, 5, 5060, SPL_SIP_TRANSPORT_UDP));
	fxp_rx(fxp_invite("sip:carol@foreign.example.net", 1, NULL), FX_UAC);
	int inv = fxp_find(0, "INVITE sip:carol@foreign.example.net");
	cr_assert_geq(inv, 0);
	char back[4096];
	const char *t = fx.sent[inv].data;
	const char *sp = strstr(t, " SIP/2.0\r\n");
	snprintf(back, sizeof(back), "INVITE sip:bob@example.com%s", sp);
	unsigned n = fx.nsent;
	fxp_rx_raw(back, (uint32_t)strlen(back), fx.sent[inv].dst);
	cr_assert_eq(fxp_find(n, "SIP/2.0 482"), -1);
	int f = fxp_find(n, "INVITE sip:bob@192.0.2.200:5060 ");
	cr_assert_geq(f, 0, "spiral forwarded");
	cr_assert_eq(fxp_msg((unsigned)f)->nvias, 3, "two Vias of ours plus the UAC's");
	cr_assert_eq(fxp_stats()->spirals, 1);
	cr_assert_eq(fxp_stats()->loops, 0);
}

Test(proxy_validate, proxy_require_unsupported_420)
{
	bob_located();
	fxp_rx(fxp_invite("sip:bob@example.com", 1, "Proxy-Require: foo, bar\nProxy-Require: baz\n"),
	       FX_UAC);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 420 ", 12) == 0, "%s", fxp_text(0));
	cr_assert_str_eq(fxp_hdr(0, "Unsupported"), "foo, bar, baz");
}

Test(proxy_validate, proxy_require_supported_forwarded)
{
	static const char *ok[] = { "foo" };
	fx.conf.proxy_require_ok = ok;
	fx.conf.nproxy_require_ok = 1;
	fxp_restart();
	bob_located();
	fxp_rx(fxp_invite("sip:bob@example.com", 1, "Proxy-Require: foo\n"), FX_UAC);
	int inv = fxp_find(0, "INVITE ");
	cr_assert_geq(inv, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)inv, "Proxy-Require"), "foo", "kept as is");
	fxp_rx(fxp_invite("sip:bob@example.com", 2, "Proxy-Require: foo, qux\n"), FX_UAC);
	int r = fxp_find(0, "SIP/2.0 420 ");
	cr_assert_geq(r, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)r, "Unsupported"), "qux");
}

Test(proxy_validate, proxy_authorization_challenge_407)
{
	fx.conf.auth_methods = 1u << SPL_SIP_METHOD_INVITE;
	fxp_restart();
	bob_located();
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 407 ", 12) == 0, "%s", fxp_text(0));
	cr_assert_str_eq(fxp_hdr(0, "Proxy-Authenticate"), "Digest realm=\"example.com\", nonce=\"abc\"");
	cr_assert_eq(fx.auth_calls, 1);

	/* With credentials (the fake hook accepts any) it is forwarded, and
	 * Proxy-Authorization is left in place (§16.3 item 6 allows removing
	 * only our own credentials; the hook decides nothing else). */
	fxp_rx(fxp_invite("sip:bob@example.com", 2, "Proxy-Authorization: Digest username=\"alice\"\n"),
	       FX_UAC);
	cr_assert_geq(fxp_find(0, "INVITE sip:bob@192.0.2.200"), 0);

	/* In-dialog requests and other methods are not challenged. */
	unsigned calls = fx.auth_calls;
	fxp_rx(fxp_request("BYE", "sip:bob@192.0.2.200:5060", 3, "b1", NULL), FX_UAC);
	fxp_rx(fxp_request("MESSAGE", "sip:bob@example.com", 4, NULL, NULL), FX_UAC);
	cr_assert_eq(fx.auth_calls, calls);
}

Test(proxy_validate, proxy_authorization_forbidden_403)
{
	fx.conf.auth_methods = 1u << SPL_SIP_METHOD_INVITE;
	fxp_restart();
	fx.auth = FX_AUTH_FORBID;
	bob_located();
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 403 ", 12) == 0, "%s", fxp_text(0));
}

Test(proxy_validate, auth_only_from_our_domains_by_default)
{
	fx.conf.auth_methods = 1u << SPL_SIP_METHOD_INVITE;
	fxp_restart();
	bob_located();
	const char *inv =
		"INVITE sip:bob@example.com SIP/2.0\n"
		"Via: SIP/2.0/UDP 192.0.2.100:5060;branch=z9hG4bKext1\n"
		"Max-Forwards: 70\n"
		"From: <sip:zed@elsewhere.example.org>;tag=9\n"
		"To: <sip:bob@example.com>\n"
		"Call-ID: ext1\n"
		"CSeq: 1 INVITE\n"
		"Content-Length: 0\n\n";
	fxp_rx(inv, FX_UAC);
	cr_assert_eq(fx.auth_calls, 0);
	cr_assert_geq(fxp_find(0, "INVITE sip:bob@192.0.2.200"), 0);
}

/* Our rejection of an INVITE is acknowledged hop by hop: the ACK is
 * absorbed by the server transaction, not forwarded. */
Test(proxy_validate, ack_for_local_rejection_absorbed)
{
	fxp_rx(fxp_invite("mailto:bob@example.com", 1, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, 1);
	char tag[64];
	struct spl_sipmsg *m = fxp_msg(0);
	snprintf(tag, sizeof(tag), "%.*s", (int)m->to.tag.len, m->to.tag.p);
	fxp_rx(fxp_req(&(struct fx_req){ .method = "ACK", .ruri = "mailto:bob@example.com",
					 .to_tag = tag }), FX_UAC);
	cr_assert_eq(fx.nsent, 1, "ACK neither forwarded nor answered");
}
