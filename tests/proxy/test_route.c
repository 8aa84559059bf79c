/* SPDX-License-Identifier: BSD-3-Clause */
/* §16.4 route preprocessing, §16.6 steps 4-8: Route, Record-Route, Path, Via. */
#include "proxy_fixture.h"

TestSuite(proxy_route, .init = fxp_setup, .fini = fxp_teardown);

static const struct spl_txn_peer *dst(int i)
{
	cr_assert_geq(i, 0);
	return &fx.sent[i].dst;
}

/* The previous hop was a strict router: it put our Record-Route URI in the
 * Request-URI and the real target at the end of the Route set. */
Test(proxy_route, strict_router_request_uri_replaced)
{
	fxp_rx(fxp_req(&(struct fx_req){
		       .method = "BYE", .ruri = "sip:192.0.2.1:5060;lr", .to_tag = "b1",
		       .extra = "Route: <sip:198.51.100.50;lr>, <sip:bob@192.0.2.200:5060>\n" }),
	       FX_UAC);
	int f = fxp_find(0, "BYE sip:bob@192.0.2.200:5060 SIP/2.0");
	cr_assert_geq(f, 0, "Request-URI restored from the last Route value");
	cr_assert_str_eq(fxp_hdr((unsigned)f, "Route"), "<sip:198.51.100.50;lr>");
	cr_assert_eq(dst(f)->addr[0], 198);
	cr_assert_eq(dst(f)->addr[3], 50);
}

Test(proxy_route, own_top_route_removed_next_route_followed)
{
	fxp_rx(fxp_req(&(struct fx_req){
		       .method = "BYE", .ruri = "sip:bob@192.0.2.200:5060", .to_tag = "b1",
		       .extra = "Route: <sip:192.0.2.1;lr>\nRoute: <sip:198.51.100.50;lr>\n" }),
	       FX_UAC);
	int f = fxp_find(0, "BYE sip:bob@192.0.2.200:5060 SIP/2.0");
	cr_assert_geq(f, 0);
	cr_assert_eq(fxp_msg((unsigned)f)->count[SPL_SIP_HDR_ROUTE], 1);
	cr_assert_str_eq(fxp_hdr((unsigned)f, "Route"), "<sip:198.51.100.50;lr>");
	cr_assert_eq(dst(f)->addr[3], 50, "sent to the next Route, not the Request-URI");
}

Test(proxy_route, only_route_was_us_request_uri_used)
{
	fxp_rx(fxp_req(&(struct fx_req){
		       .method = "BYE", .ruri = "sip:bob@192.0.2.200:5060", .to_tag = "b1",
		       .extra = "Route: <sip:192.0.2.1:5060;lr>\n" }),
	       FX_UAC);
	int f = fxp_find(0, "BYE sip:bob@192.0.2.200:5060 SIP/2.0");
	cr_assert_geq(f, 0);
	cr_assert_null(fxp_hdr((unsigned)f, "Route"));
	cr_assert_eq(dst(f)->addr[3], 200);
}

Test(proxy_route, route_to_our_domain_is_us)
{
	fxp_rx(fxp_req(&(struct fx_req){
		       .method = "BYE", .ruri = "sip:bob@192.0.2.200:5060", .to_tag = "b1",
		       .extra = "Route: <sip:example.com;lr>, <sip:198.51.100.50;lr>\n" }),
	       FX_UAC);
	int f = fxp_find(0, "BYE ");
	cr_assert_geq(f, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)f, "Route"), "<sip:198.51.100.50;lr>");
}

/* §16.6 step 6: the next Route has no lr: the Request-URI goes to the end
 * of the Route set and the strict router's URI into the Request-URI. */
Test(proxy_route, strict_next_hop_gets_route_rotation)
{
	fxp_rx(fxp_req(&(struct fx_req){
		       .method = "BYE", .ruri = "sip:bob@192.0.2.200:5060", .to_tag = "b1",
		       .extra = "Route: <sip:192.0.2.1;lr>, <sip:198.51.100.60>, <sip:198.51.100.61;lr>\n" }),
	       FX_UAC);
	int f = fxp_find(0, "BYE sip:198.51.100.60 SIP/2.0");
	cr_assert_geq(f, 0, "strict router's URI in the Request-URI");
	cr_assert_str_eq(fxp_hdr((unsigned)f, "Route"),
			 "<sip:198.51.100.61;lr>, <sip:bob@192.0.2.200:5060>");
	cr_assert_eq(dst(f)->addr[3], 60, "sent to the strict router");
}

Test(proxy_route, record_route_single_value)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, "Record-Route: <sip:upstream.example.org;lr>\n"),
	       FX_UAC);
	int f = fxp_find(0, "INVITE ");
	struct spl_sipmsg *m = fxp_msg((unsigned)f);
	cr_assert_eq(m->count[SPL_SIP_HDR_RECORD_ROUTE], 2);
	cr_assert_str_eq(fxp_hdr((unsigned)f, "Record-Route"), "<sip:192.0.2.1:5060;lr>",
			 "ours before the existing one");
}

Test(proxy_route, record_route_off)
{
	fx.conf.record_route = false;
	fxp_restart();
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int f = fxp_find(0, "INVITE ");
	cr_assert_geq(f, 0);
	cr_assert_null(fxp_hdr((unsigned)f, "Record-Route"));
}

/* UDP in, TCP out: two values, each naming the side it faces; an in-dialog
 * request carrying both pops both. */
Test(proxy_route, double_record_route_on_transport_change)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060;transport=tcp", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int f = fxp_find(0, "INVITE ");
	cr_assert_geq(f, 0);
	cr_assert_eq(dst(f)->transport, SPL_SIP_TRANSPORT_TCP);
	cr_assert(fxp_has((unsigned)f, "Via: SIP/2.0/TCP 192.0.2.1:5060;branch="));
	cr_assert(!fxp_has((unsigned)f, ";rport\r\n"), "no rport on a TCP Via of ours");
	cr_assert(fxp_has((unsigned)f,
			  "Record-Route: <sip:192.0.2.1:5060;transport=tcp;lr;r2=on>\r\n"
			  "Record-Route: <sip:192.0.2.1:5060;lr;r2=on>\r\n"),
		  "%s", fxp_text((unsigned)f));

	/* The caller's BYE: its route set is the Record-Route reversed. */
	unsigned n = fx.nsent;
	fxp_rx(fxp_request("BYE", "sip:bob@192.0.2.200:5060;transport=tcp", 2, "b1",
			   "Route: <sip:192.0.2.1:5060;lr;r2=on>, "
			   "<sip:192.0.2.1:5060;transport=tcp;lr;r2=on>\n"), FX_UAC);
	int b = fxp_find(n, "BYE ");
	cr_assert_geq(b, 0);
	cr_assert_null(fxp_hdr((unsigned)b, "Route"), "both values of ours popped");
	cr_assert_eq(dst(b)->transport, SPL_SIP_TRANSPORT_TCP);
}

Test(proxy_route, double_record_route_on_interface_change)
{
	fx.conf.record_route = true;
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fx.loc[0].b[0].local = 2;   /* bob registered through the other interface */
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int f = fxp_find(0, "INVITE ");
	cr_assert_geq(f, 0);
	cr_assert(fxp_has((unsigned)f, "Via: SIP/2.0/UDP 198.51.100.1:5060;branch="));
	cr_assert(fxp_has((unsigned)f,
			  "Record-Route: <sip:198.51.100.1:5060;lr;r2=on>\r\n"
			  "Record-Route: <sip:192.0.2.1:5060;lr;r2=on>\r\n"));
}

Test(proxy_route, received_and_rport_added_to_upstream_via)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	struct spl_txn_peer nat = fxp_peer(192, 0, 2, 100, 40000, SPL_SIP_TRANSPORT_UDP);
	fxp_rx(fxp_req(&(struct fx_req){ .via = "SIP/2.0/UDP uac.example.org;rport;branch=z9hG4bKnat1" }),
	       nat);
	cr_assert_eq(fx.sent[0].dst.port, 40000, "100 Trying to the source port (rport)");
	int f = fxp_find(0, "INVITE ");
	cr_assert_geq(f, 0);
	cr_assert(fxp_has((unsigned)f,
			  ", SIP/2.0/UDP uac.example.org;branch=z9hG4bKnat1;received=192.0.2.100;rport=40000\r\n"),
		  "%s", fxp_text((unsigned)f));
	unsigned n = fx.nsent;
	fxp_reply((unsigned)f, 180, "b1", NULL);
	int r = fxp_find(n, "SIP/2.0 180");
	cr_assert_geq(r, 0);
	cr_assert_eq(fx.sent[r].dst.port, 40000);
	cr_assert(fxp_has((unsigned)r, "received=192.0.2.100;rport=40000"), "the UAC sees where it was seen from");
}

Test(proxy_route, via_without_rport_port_from_sent_by)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	struct spl_txn_peer src = fxp_peer(192, 0, 2, 100, 40000, SPL_SIP_TRANSPORT_UDP);
	fxp_rx(fxp_req(&(struct fx_req){ .via = "SIP/2.0/UDP 192.0.2.100:5062;branch=z9hG4bKp1" }), src);
	cr_assert_eq(fx.sent[0].dst.port, 5062, "§18.2.2: sent-by port without rport");
}

/* A Via naming TLS (or TCP) without a port that arrived over UDP is
 * answered over UDP: on 5060, the port of the transport actually used,
 * not TLS's 5061 (RFC 4475 bext01.dat is such a message). */
Test(proxy_route, via_of_another_transport_over_udp_answered_on_5060)
{
	struct spl_txn_peer src = fxp_peer(192, 0, 2, 100, 40000, SPL_SIP_TRANSPORT_UDP);
	fxp_rx(fxp_req(&(struct fx_req){ .method = "OPTIONS", .via = "SIP/2.0/TLS uac.example.org;branch=z9hG4bKtls1",
					 .extra = "Proxy-Require: nothing-known\n" }),
	       src);
	int r = fxp_find(0, "SIP/2.0 420");
	cr_assert_geq(r, 0);
	cr_assert_eq(fx.sent[r].dst.port, 5060, "port %u", fx.sent[r].dst.port);
	cr_assert_eq(fx.sent[r].dst.transport, SPL_SIP_TRANSPORT_UDP);
	fxp_rx(fxp_req(&(struct fx_req){ .method = "OPTIONS", .branch = "z9hG4bKtcp1",
					 .via = "SIP/2.0/TCP uac.example.org;branch=z9hG4bKtcp1",
					 .extra = "Proxy-Require: nothing-known\n" }),
	       src);
	int r2 = fxp_find((unsigned)r + 1, "SIP/2.0 420");
	cr_assert_geq(r2, 0);
	cr_assert_eq(fx.sent[r2].dst.port, 5060);
}

Test(proxy_route, register_forwarded_with_path)
{
	fx.conf.add_path = true;
	fxp_restart();
	fxp_resolve("registrar.example.net", 0, fxp_peer(203, 0, 113, 9, 5060, SPL_SIP_TRANSPORT_UDP));
	fxp_rx(fxp_req(&(struct fx_req){ .method = "REGISTER", .ruri = "sip:registrar.example.net" }),
	       FX_UAC);
	int f = fxp_find(0, "REGISTER sip:registrar.example.net SIP/2.0");
	cr_assert_geq(f, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)f, "Path"), "<sip:192.0.2.1:5060;lr>");
	cr_assert_null(fxp_hdr((unsigned)f, "Record-Route"), "REGISTER is not record-routed");

	fxp_rx(fxp_req(&(struct fx_req){ .method = "REGISTER", .ruri = "sip:registrar.example.net",
					 .branch = "z9hG4bKreg2", .cseq = 2,
					 .extra = "Path: <sip:edge.example.org;lr>\n" }), FX_UAC);
	int g = fxp_find((unsigned)f + 1, "REGISTER ");
	cr_assert_geq(g, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)g, "Path"), "<sip:192.0.2.1:5060;lr>, <sip:edge.example.org;lr>");
	cr_assert_eq(fxp_msg((unsigned)g)->count[SPL_SIP_HDR_PATH], 1);
}

Test(proxy_route, register_for_our_domain_answered_by_registrar)
{
	fxp_rx(fxp_req(&(struct fx_req){ .method = "REGISTER", .ruri = "sip:example.com" }), FX_UAC);
	cr_assert_eq(fx.register_calls, 1);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 200 ", 12) == 0);
	cr_assert_not_null(fxp_hdr(0, "Contact"));
	cr_assert_eq(fxp_stats()->registers, 1);
	/* A retransmission is answered by the server transaction. */
	fxp_rx(fxp_req(&(struct fx_req){ .method = "REGISTER", .ruri = "sip:example.com" }), FX_UAC);
	cr_assert_eq(fx.register_calls, 1);
	cr_assert_eq(fx.nsent, 2);
}

Test(proxy_route, maddr_naming_us_stripped)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com;maddr=192.0.2.1", 1, NULL), FX_UAC);
	int f = fxp_find(0, "INVITE sip:bob@192.0.2.200:5060 ");
	cr_assert_geq(f, 0, "maddr stripped, then located as usual");
}

Test(proxy_route, path_of_binding_pushed_as_route)
{
	fxp_bind("bob", "sip:bob@10.0.0.7:5060", 1000, "<sip:198.51.100.70;lr>");
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int f = fxp_find(0, "INVITE sip:bob@10.0.0.7:5060 ");
	cr_assert_geq(f, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)f, "Route"), "<sip:198.51.100.70;lr>");
	cr_assert_eq(dst(f)->addr[3], 70, "sent to the edge proxy of the Path");
}
