/* SPDX-License-Identifier: BSD-3-Clause */
/* §16.5 targets: location service, static routes, 404/480, next hops. */
#include "proxy_fixture.h"

TestSuite(proxy_target, .init = fxp_setup, .fini = fxp_teardown);

Test(proxy_target, unknown_user_404)
{
	fxp_rx(fxp_invite("sip:nobody@example.com", 1, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 404 ", 12) == 0, "%s", fxp_text(0));
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_NOT_FOUND], 1);
}

Test(proxy_target, known_user_without_binding_480)
{
	fxp_locate("bob", 0);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	cr_assert_eq(fx.nsent, 1);
	cr_assert(strncmp(fxp_text(0), "SIP/2.0 480 ", 12) == 0, "%s", fxp_text(0));
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_UNAVAILABLE], 1);
}

Test(proxy_target, foreign_domain_forwarded_as_is_resolved)
{
	fxp_resolve("foreign.example.net", 0, fxp_peer(203, 0, 113, 5, 5070, SPL_SIP_TRANSPORT_UDP));
	fxp_rx(fxp_invite("sip:carol@foreign.example.net", 1, NULL), FX_UAC);
	int f = fxp_find(0, "INVITE sip:carol@foreign.example.net SIP/2.0");
	cr_assert_geq(f, 0);
	cr_assert_eq(fx.sent[f].dst.addr[0], 203);
	cr_assert_eq(fx.sent[f].dst.port, 5070);
}

Test(proxy_target, numeric_host_sent_directly)
{
	fxp_rx(fxp_invite("sip:carol@203.0.113.8:5080;transport=tcp", 1, NULL), FX_UAC);
	int f = fxp_find(0, "INVITE ");
	cr_assert_geq(f, 0);
	cr_assert_eq(fx.sent[f].dst.addr[3], 8);
	cr_assert_eq(fx.sent[f].dst.port, 5080);
	cr_assert_eq(fx.sent[f].dst.transport, SPL_SIP_TRANSPORT_TCP);
	cr_assert_eq(fx.sent[f].dst.reliable, 1);
}

Test(proxy_target, static_route_by_user_prefix_and_domain)
{
	static const char *gw[] = { "sip:192.0.2.50:5060" };
	static const char *carrier[] = { "sip:192.0.2.60:5060;transport=tcp" };
	static const struct spl_proxy_route rt[] = {
		{ "example.com", "+1", gw, 1, false },
		{ "carrier.example.net", NULL, carrier, 1, false },
	};
	fx.conf.routes = rt;
	fx.conf.nroutes = 2;
	fxp_restart();
	/* No binding for +1555...: the prefix route, Request-URI unchanged. */
	fxp_rx(fxp_invite("sip:+15551234@example.com", 1, NULL), FX_UAC);
	int f = fxp_find(0, "INVITE sip:+15551234@example.com SIP/2.0");
	cr_assert_geq(f, 0);
	cr_assert_eq(fx.sent[f].dst.addr[3], 50);
	/* A foreign domain with a route: its next hop. */
	fxp_rx(fxp_invite("sip:dave@carrier.example.net", 2, NULL), FX_UAC);
	int g = fxp_find(0, "INVITE sip:dave@carrier.example.net SIP/2.0");
	cr_assert_geq(g, 0);
	cr_assert_eq(fx.sent[g].dst.addr[3], 60);
	cr_assert_eq(fx.sent[g].dst.transport, SPL_SIP_TRANSPORT_TCP);
	/* No prefix match in our domain: 404. */
	fxp_rx(fxp_invite("sip:+44123@example.com", 3, NULL), FX_UAC);
	cr_assert_geq(fxp_find(0, "SIP/2.0 404"), 0);
}

Test(proxy_target, binding_beats_static_route)
{
	static const char *gw[] = { "sip:192.0.2.50:5060" };
	static const struct spl_proxy_route rt = { "example.com", NULL, gw, 1, false };
	fx.conf.routes = &rt;
	fx.conf.nroutes = 1;
	fxp_restart();
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	cr_assert_geq(fxp_find(0, "INVITE sip:bob@192.0.2.200:5060 "), 0);
	fxp_rx(fxp_invite("sip:zed@example.com", 2, NULL), FX_UAC);
	int g = fxp_find(0, "INVITE sip:zed@example.com ");
	cr_assert_geq(g, 0, "no binding: the domain route");
	cr_assert_eq(fx.sent[g].dst.addr[3], 50);
}

Test(proxy_target, flow_of_binding_used_as_next_hop)
{
	fxp_bind("bob", "sip:bob@10.1.1.1:5060", 1000, NULL);
	fx.loc[0].b[0].has_flow = true;
	fx.loc[0].b[0].flow = fxp_peer(203, 0, 113, 77, 34567, SPL_SIP_TRANSPORT_UDP);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int f = fxp_find(0, "INVITE sip:bob@10.1.1.1:5060 ");
	cr_assert_geq(f, 0);
	cr_assert_eq(fx.sent[f].dst.addr[3], 77);
	cr_assert_eq(fx.sent[f].dst.port, 34567);
}

/* A resolver that fails (not "no such name": that is test_park.c's 404)
 * says nothing about the request: the branch fails as a 503 would. */
Test(proxy_target, resolver_failure_next_hop_500)
{
	fxp_resolve("broken.example.net", -EIO, fxp_peer(0, 0, 0, 0, 0, 0));
	fxp_rx(fxp_invite("sip:carol@broken.example.net", 1, NULL), FX_UAC);
	int r = fxp_find(0, "SIP/2.0 500 ");
	cr_assert_geq(r, 0, "a branch that cannot be sent is a 503, forwarded as 500");
	cr_assert_eq(fxp_count("INVITE "), 0);
	cr_assert_eq(fxp_stats()->best_500_for_503, 1);
	cr_assert_eq(fxp_stats()->unresolvable, 0);
}

Test(proxy_target, resolver_busy_503_retry_after)
{
	fxp_resolve("slow.example.net", -EAGAIN, fxp_peer(0, 0, 0, 0, 0, 0));
	fxp_rx(fxp_invite("sip:carol@slow.example.net", 1, NULL), FX_UAC);
	int r = fxp_find(0, "SIP/2.0 503 ");
	cr_assert_geq(r, 0);
	cr_assert_str_eq(fxp_hdr((unsigned)r, "Retry-After"), "5");
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_RESOLVING], 1);
}

Test(proxy_target, duplicate_bindings_forked_once)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.200", 1000, NULL);   /* same URI per §19.1.4? no: port differs */
	fxp_bind("bob", "sip:BOB@192.0.2.200:5060", 1000, NULL); /* user part is case-sensitive */
	fxp_bind("bob", "sip:bob@192.0.2.200:5060;transport=udp", 900, NULL);
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 800, NULL);  /* duplicate */
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	cr_assert_eq(fxp_count("INVITE "), 3, "the q=1.0 group: three distinct URIs");
}

/* config reload: the new routes apply to the next request, the call in
 * progress keeps the next hop it was given. */
Test(proxy_target, reconfigure_swaps_routes_between_messages)
{
	static const char *old_hop[] = { "sip:192.0.2.50:5060" };
	static const char *new_hop[] = { "sip:192.0.2.70:5060" };
	static const struct spl_proxy_route old_rt = { "carrier.example.net", NULL, old_hop, 1, false };
	static const struct spl_proxy_route new_rt = { "carrier.example.net", NULL, new_hop, 1, false };
	fx.conf.routes = &old_rt;
	fx.conf.nroutes = 1;
	fxp_restart();
	fxp_rx(fxp_invite("sip:dave@carrier.example.net", 1, NULL), FX_UAC);
	int f = fxp_find(0, "INVITE sip:dave@carrier.example.net");
	cr_assert_geq(f, 0);
	cr_assert_eq(fx.sent[f].dst.addr[3], 50);

	struct spl_proxy_conf c = fx.conf;
	c.routes = &new_rt;
	cr_assert_eq(spl_proxy_reconfigure(fx.p, &c), 0);
	fxp_rx(fxp_invite("sip:erin@carrier.example.net", 2, NULL), FX_UAC);
	int g = fxp_find(0, "INVITE sip:erin@carrier.example.net");
	cr_assert_geq(g, 0);
	cr_expect_eq(fx.sent[g].dst.addr[3], 70, "new requests follow the new route");
	/* The first call's INVITE is still retransmitted to its own hop. */
	fxp_run_to(600 * MS);
	int r = fxp_find((unsigned)g + 1, "INVITE sip:dave@carrier.example.net");
	cr_assert_geq(r, 0);
	cr_expect_eq(fx.sent[r].dst.addr[3], 50);

	/* A bad configuration is refused and the running one stays. */
	struct spl_proxy_conf bad = c;
	bad.timer_c_ns = 10 * SEC;
	cr_expect_eq(spl_proxy_reconfigure(fx.p, &bad), -EINVAL);
	fxp_rx(fxp_invite("sip:fred@carrier.example.net", 3, NULL), FX_UAC);
	int h = fxp_find(0, "INVITE sip:fred@carrier.example.net");
	cr_assert_geq(h, 0);
	cr_expect_eq(fx.sent[h].dst.addr[3], 70);

	/* Contexts were sized for max_branches at create: more is refused
	 * (it would write past a context's branches), fewer is fine. */
	struct spl_proxy_conf more = c;
	more.max_branches = (fx.conf.max_branches ? fx.conf.max_branches : 8) + 1;
	cr_expect_eq(spl_proxy_reconfigure(fx.p, &more), -EINVAL);
	struct spl_proxy_conf fewer = c;
	fewer.max_branches = 2;
	cr_expect_eq(spl_proxy_reconfigure(fx.p, &fewer), 0);
}

/* drain: new calls get 503 + Retry-After, in-dialog requests still pass. */
Test(proxy_target, draining_refuses_only_new_transactions)
{
	static const char *gw[] = { "sip:192.0.2.50:5060" };
	static const struct spl_proxy_route rt = { "carrier.example.net", NULL, gw, 1, false };
	fx.conf.routes = &rt;
	fx.conf.nroutes = 1;
	fxp_restart();
	spl_proxy_set_draining(fx.p, true);
	fxp_rx(fxp_invite("sip:dave@carrier.example.net", 1, NULL), FX_UAC);
	int f = fxp_find(0, "SIP/2.0 503");
	cr_assert_geq(f, 0);
	cr_expect(fxp_has((unsigned)f, "Retry-After:"));
	cr_expect_lt(fxp_find(0, "INVITE sip:dave@"), 0, "nothing forwarded");
	fxp_rx(fxp_request("BYE", "sip:dave@192.0.2.50", 2, "totag1", NULL), FX_UAC);
	cr_expect_geq(fxp_find(0, "BYE sip:dave@192.0.2.50"), 0, "in-dialog BYE still forwarded");
	spl_proxy_set_draining(fx.p, false);
	fxp_rx(fxp_invite("sip:erin@carrier.example.net", 3, NULL), FX_UAC);
	cr_expect_geq(fxp_find(0, "INVITE sip:erin@"), 0);
}

/* RFC 3263 §4.1: a name with no transport and no port leaves the choice
 * to the resolver (NAPTR); the transport it picked is used, Via included.
 * An explicit transport or a port is passed on as given. */
Test(proxy_target, name_without_transport_lets_the_resolver_choose)
{
	fxp_resolve("gw.naptr.example.net", 0, fxp_peer(203, 0, 113, 7, 5060, SPL_SIP_TRANSPORT_TCP));
	fxp_rx(fxp_invite("sip:alice@gw.naptr.example.net", 1, NULL), FX_UAC);
	cr_assert_eq(fx.res_asked_transport, 0, "no transport asked for");
	int f = fxp_find(0, "INVITE sip:alice@gw.naptr.example.net");
	cr_assert_geq(f, 0);
	cr_expect_eq(fx.sent[f].dst.transport, SPL_SIP_TRANSPORT_TCP);
	cr_expect_eq(fx.sent[f].dst.reliable, 1);
	cr_expect_not_null(strstr(fx.sent[f].data, "Via: SIP/2.0/TCP "), "%s", fx.sent[f].data);

	fxp_rx(fxp_invite("sip:bob@gw.naptr.example.net;transport=udp", 2, NULL), FX_UAC);
	cr_expect_eq(fx.res_asked_transport, SPL_SIP_TRANSPORT_UDP);
	fxp_rx(fxp_invite("sip:carol@gw.naptr.example.net:5070", 3, NULL), FX_UAC);
	cr_expect_eq(fx.res_asked_transport, SPL_SIP_TRANSPORT_UDP, "a port given: UDP (§4.1)");
	int g = fxp_find(0, "INVITE sip:carol@gw.naptr.example.net:5070");
	cr_assert_geq(g, 0);
	cr_expect_eq(fx.sent[g].dst.port, 5070);
}
