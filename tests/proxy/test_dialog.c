/* SPDX-License-Identifier: BSD-3-Clause */
/* Dialogs through the proxy, non-INVITE forking, and the remaining §16.7 steps. */
#include "proxy_fixture.h"

TestSuite(proxy_dialog, .init = fxp_setup, .fini = fxp_teardown);

static int to_uac(unsigned from, const char *prefix)
{
	for (int i = fxp_find(from, prefix); i >= 0; i = fxp_find((unsigned)i + 1, prefix))
		if (fx.sent[i].dst.addr[3] == 100)
			return i;
	return -1;
}

/* §16.7 step 8: with both values of a double Record-Route in the response
 * nothing needs rewriting; the 2xx reaches the caller with both. */
Test(proxy_dialog, double_record_route_echoed_unchanged_in_2xx)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060;transport=tcp", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int inv = fxp_find(0, "INVITE ");
	fxp_reply((unsigned)inv, 200, "b1", NULL);
	int ok = to_uac(0, "SIP/2.0 200 ");
	cr_assert_geq(ok, 0);
	cr_assert(fxp_has((unsigned)ok,
			  "Record-Route: <sip:192.0.2.1:5060;transport=tcp;lr;r2=on>\r\n"
			  "Record-Route: <sip:192.0.2.1:5060;lr;r2=on>\r\n"));
}

/* The callee's BYE comes back over TCP carrying the set in its order. */
Test(proxy_dialog, callee_bye_pops_double_record_route)
{
	const char *bye =
		"BYE sip:alice@192.0.2.100:5060 SIP/2.0\n"
		"Via: SIP/2.0/TCP 192.0.2.200:5060;branch=z9hG4bKuasbye\n"
		"Max-Forwards: 70\n"
		"Route: <sip:192.0.2.1:5060;transport=tcp;lr;r2=on>, <sip:192.0.2.1:5060;lr;r2=on>\n"
		"From: Bob <sip:bob@example.com>;tag=b1\n"
		"To: Alice <sip:alice@example.com>;tag=1928301774\n"
		"Call-ID: call1@192.0.2.100\n"
		"CSeq: 7 BYE\n"
		"Content-Length: 0\n\n";
	fxp_rx(bye, fxp_peer(192, 0, 2, 200, 40001, SPL_SIP_TRANSPORT_TCP));
	int f = fxp_find(0, "BYE sip:alice@192.0.2.100:5060 ");
	cr_assert_geq(f, 0);
	cr_assert_null(fxp_hdr((unsigned)f, "Route"));
	cr_assert_eq(fx.sent[f].dst.transport, SPL_SIP_TRANSPORT_UDP);
	cr_assert(fxp_has((unsigned)f, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch="));
	fxp_reply((unsigned)f, 200, NULL, NULL);
	int r = fxp_find(0, "SIP/2.0 200");
	cr_assert_geq(r, 0);
	cr_assert_eq(fx.sent[r].dst.transport, SPL_SIP_TRANSPORT_TCP, "the response on the stream");
	cr_assert_eq(fx.sent[r].dst.port, 40001);
}

Test(proxy_dialog, reinvite_record_routed_ack_stateless)
{
	fxp_rx(fxp_request("INVITE", "sip:bob@192.0.2.200:5060", 5, "b1",
			   "Route: <sip:192.0.2.1:5060;lr>\n"), FX_UAC);
	int f = fxp_find(0, "INVITE sip:bob@192.0.2.200:5060 ");
	cr_assert_geq(f, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)f, "Record-Route"), "<sip:192.0.2.1:5060;lr>");
	cr_assert_null(fxp_hdr((unsigned)f, "Route"));
	cr_assert_eq(fxp_stats()->forwards, 1);
}

Test(proxy_dialog, non_invite_forked_one_final_upstream)
{
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.202:5060", 1000, NULL);
	fxp_rx(fxp_request("MESSAGE", "sip:bob@example.com", 1, NULL, NULL), FX_UAC);
	int a = fxp_find(0, "MESSAGE sip:bob@192.0.2.201");
	int b = fxp_find(0, "MESSAGE sip:bob@192.0.2.202");
	cr_assert_geq(a, 0);
	cr_assert_geq(b, 0);
	cr_assert_eq(to_uac(0, "SIP/2.0 100"), -1, "no 100 for a non-INVITE");
	fxp_reply((unsigned)b, 200, "tb", NULL);
	fxp_reply((unsigned)a, 200, "ta", NULL);
	cr_assert_eq(fxp_count("SIP/2.0 200"), 1, "exactly one final to a non-INVITE");
	cr_assert_eq(fxp_count("CANCEL "), 0, "non-INVITEs are not cancelled");
	cr_assert_eq(fxp_stats()->drops[SPL_PROXY_DROP_RSP_LATE], 1);
}

Test(proxy_dialog, non_invite_all_fail_best_of_them)
{
	fxp_bind("bob", "sip:bob@192.0.2.201:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.202:5060", 1000, NULL);
	fxp_rx(fxp_request("MESSAGE", "sip:bob@example.com", 1, NULL, NULL), FX_UAC);
	int a = fxp_find(0, "MESSAGE sip:bob@192.0.2.201");
	int b = fxp_find(0, "MESSAGE sip:bob@192.0.2.202");
	fxp_reply((unsigned)a, 486, "ta", NULL);
	fxp_run_to(40 * SEC);   /* b never answers: Timer F */
	(void)b;
	int r = to_uac(0, "SIP/2.0 486");
	cr_assert_geq(r, 0);
}

/* §16.7 step 9: the server transaction is gone (its send failed), a 2xx
 * retransmission still reaches the caller, by Via. */
Test(proxy_dialog, response_without_server_transaction_forwarded_by_via)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int inv = fxp_find(0, "INVITE ");
	fx.fail_sends = 1;
	fx.fail_port = 5060;
	unsigned n = fx.nsent;
	fxp_reply((unsigned)inv, 200, "b1", NULL);   /* to the UAC: fails */
	cr_assert_eq(fx.nsent, n);
	fxp_reply((unsigned)inv, 200, "b1", NULL);   /* the UAS retransmits */
	int r = to_uac(n, "SIP/2.0 200");
	cr_assert_geq(r, 0, "forwarded statelessly");
	cr_assert_eq(fxp_msg((unsigned)r)->nvias, 1);
}

Test(proxy_dialog, registrar_declines_register_is_proxied)
{
	static const char *hops[] = { "sip:192.0.2.60:5060" };
	static const struct spl_proxy_route rt = { "example.com", NULL, hops, 1, false };
	fx.conf.routes = &rt;
	fx.conf.nroutes = 1;
	fxp_restart();
	/* lib/registrar's FORWARD: the hook says "not mine". */
	fx.register_decline = true;
	fxp_rx(fxp_req(&(struct fx_req){ .method = "REGISTER", .ruri = "sip:example.com" }), FX_UAC);
	cr_assert_eq(fx.register_calls, 1);
	int f = fxp_find(0, "REGISTER sip:example.com ");
	cr_assert_geq(f, 0, "proxied to the domain's static route");
	cr_assert_eq(fx.sent[f].dst.addr[3], 60);
}

Test(proxy_dialog, counters_by_method_and_class)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int inv = fxp_find(0, "INVITE ");
	fxp_reply((unsigned)inv, 180, "b1", NULL);
	fxp_reply((unsigned)inv, 200, "b1", NULL);
	const struct spl_proxy_stats *st = fxp_stats();
	cr_assert_eq(st->req_in[SPL_SIP_METHOD_INVITE], 1);
	cr_assert_eq(st->req_out[SPL_SIP_METHOD_INVITE], 1);
	cr_assert_eq(st->rsp_in[1], 1);
	cr_assert_eq(st->rsp_in[2], 1);
	cr_assert_eq(st->rsp_out[1], 2, "100 Trying and the 180");
	cr_assert_eq(st->rsp_out[2], 1);
	cr_assert_eq(st->best[2], 1);
	cr_assert_eq(st->ctx_live, 1, "kept until its transactions end");
	fxp_run_to(40 * SEC);
	cr_assert_eq(fxp_stats()->ctx_live, 0);
	cr_assert_str_eq(spl_proxy_local_name(SPL_PROXY_LOCAL_LOOP), "loop detected");
	cr_assert_eq(spl_proxy_local_status(SPL_PROXY_LOCAL_LOOP), 482);
	cr_assert_str_eq(spl_proxy_drop_name(SPL_PROXY_DROP_RSP_NOT_OURS),
			 "response whose top Via is not ours");
}

Test(proxy_dialog, unmatched_cancel_max_forwards_zero_483)
{
	fxp_rx(fxp_req(&(struct fx_req){ .method = "CANCEL", .ruri = "sip:carol@198.51.100.9",
					 .max_forwards = "0" }), FX_UAC);
	cr_assert_geq(fxp_find(0, "SIP/2.0 483"), 0);
	cr_assert_eq(fxp_count("CANCEL "), 0);
}
