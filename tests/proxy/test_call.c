/* SPDX-License-Identifier: BSD-3-Clause */
/* A whole record-routed call through the proxy, and in-dialog routing. */
#include "proxy_fixture.h"

TestSuite(proxy_call, .init = fxp_setup, .fini = fxp_teardown);

static bool peer_is(unsigned i, struct spl_txn_peer want)
{
	const struct spl_txn_peer *d = &fx.sent[i].dst;
	return d->port == want.port && memcmp(d->addr, want.addr, 4) == 0 &&
	       d->transport == want.transport;
}

/* INVITE to bob@example.com, located at UAS .200; returns the index of the
 * forwarded INVITE. */
static unsigned call_setup(void)
{
	fxp_bind("bob", "sip:bob@192.0.2.200:5060", 1000, NULL);
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	int trying = fxp_find(0, "SIP/2.0 100 ");
	int inv = fxp_find(0, "INVITE sip:bob@192.0.2.200:5060 SIP/2.0");
	cr_assert_geq(trying, 0, "no 100 Trying");
	cr_assert_geq(inv, 0, "INVITE not forwarded");
	cr_assert(peer_is((unsigned)trying, FX_UAC));
	cr_assert(peer_is((unsigned)inv, FX_UAS(200)));
	return (unsigned)inv;
}

Test(proxy_call, invite_forwarded_with_via_rr_and_max_forwards)
{
	unsigned inv = call_setup();
	struct spl_sipmsg *m = fxp_msg(inv);
	cr_assert_eq(m->nvias, 2);
	cr_assert(spl_str_eq(m->vias[0].host.text, "192.0.2.1"));
	cr_assert_eq(m->vias[0].port, 5060);
	cr_assert(spl_str_present(m->vias[0].rport), "rport on our UDP Via");
	uint8_t shard;
	uint32_t slot;
	uint16_t gen;
	struct spl_str b = m->vias[0].branch;
	cr_assert_eq(b.len, SPL_SIPMSG_BRANCH_LEN + 17, "branch %.*s", (int)b.len, b.p);
	cr_assert(spl_sipmsg_branch_decode((struct spl_str){ b.p, SPL_SIPMSG_BRANCH_LEN }, &shard, &slot, &gen));
	cr_assert_eq(shard, 1);
	cr_assert_eq(b.p[SPL_SIPMSG_BRANCH_LEN], '.');
	cr_assert(spl_str_eq(m->vias[1].branch, "z9hG4bKuac1"));
	cr_assert_eq(m->max_forwards, 69);
	cr_assert_str_eq(fxp_hdr(inv, "Record-Route"), "<sip:192.0.2.1:5060;lr>");
	cr_assert_str_eq(fxp_hdr(inv, "Content-Length"), "0");
	cr_assert_eq(fxp_stats()->forwards, 1);
	cr_assert_eq(fxp_stats()->local[SPL_PROXY_LOCAL_TRYING], 1);
}

Test(proxy_call, full_record_routed_call)
{
	unsigned inv = call_setup();
	unsigned n0 = fx.nsent;

	fxp_reply(inv, 100, NULL, NULL);
	cr_assert_eq(fx.nsent, n0, "100 is never forwarded");

	fxp_reply(inv, 180, "b1", NULL);
	int r180 = fxp_find(n0, "SIP/2.0 180 ");
	cr_assert_geq(r180, 0);
	cr_assert(peer_is((unsigned)r180, FX_UAC));
	struct spl_sipmsg *m = fxp_msg((unsigned)r180);
	cr_assert_eq(m->nvias, 1, "our Via removed");
	cr_assert(spl_str_eq(m->vias[0].branch, "z9hG4bKuac1"));

	fxp_reply(inv, 200, "b1", "Contact: <sip:bob@192.0.2.200:5060>");
	int r200 = fxp_find(n0, "SIP/2.0 200 ");
	cr_assert_geq(r200, 0);
	cr_assert(peer_is((unsigned)r200, FX_UAC));
	cr_assert_str_eq(fxp_hdr((unsigned)r200, "Record-Route"), "<sip:192.0.2.1:5060;lr>");
	cr_assert_eq(fxp_msg((unsigned)r200)->nvias, 1);

	/* ACK for the 2xx: routed by the Route set, statelessly. */
	unsigned n1 = fx.nsent;
	fxp_rx(fxp_request("ACK", "sip:bob@192.0.2.200:5060", 1, "b1",
			   "Route: <sip:192.0.2.1:5060;lr>\n"), FX_UAC);
	int ack = fxp_find(n1, "ACK sip:bob@192.0.2.200:5060 SIP/2.0");
	cr_assert_geq(ack, 0, "ACK not forwarded");
	cr_assert(peer_is((unsigned)ack, FX_UAS(200)));
	cr_assert_null(fxp_hdr((unsigned)ack, "Route"), "our Route value popped");
	cr_assert(strncmp(fxp_branch((unsigned)ack), "z9hG4bKsl", 9) == 0);
	cr_assert_eq(fxp_stats()->stateless_requests, 1);

	/* BYE from the UAC, statefully. */
	unsigned n2 = fx.nsent;
	fxp_rx(fxp_request("BYE", "sip:bob@192.0.2.200:5060", 2, "b1",
			   "Route: <sip:192.0.2.1:5060;lr>\n"), FX_UAC);
	int bye = fxp_find(n2, "BYE sip:bob@192.0.2.200:5060 SIP/2.0");
	cr_assert_geq(bye, 0);
	cr_assert_null(fxp_hdr((unsigned)bye, "Route"));
	cr_assert_null(fxp_hdr((unsigned)bye, "Record-Route"), "BYE is not record-routed");
	cr_assert_eq(fxp_find(n2, "SIP/2.0 100"), -1, "no 100 for a non-INVITE");
	fxp_reply((unsigned)bye, 200, NULL, NULL);
	int b200 = fxp_find(n2, "SIP/2.0 200 ");
	cr_assert_geq(b200, 0);
	cr_assert(peer_is((unsigned)b200, FX_UAC));

	/* Everything winds down. */
	fxp_run_to(100 * SEC);
	cr_assert_eq(spl_txn_live(spl_proxy_txn(fx.p)), 0);
	cr_assert_eq(fxp_stats()->ctx_live, 0);
}

Test(proxy_call, bye_from_callee_routed_back_to_caller)
{
	unsigned inv = call_setup();
	fxp_reply(inv, 200, "b1", NULL);
	/* The UAS sends BYE to the UAC's contact through our Record-Route. */
	unsigned n = fx.nsent;
	const char *bye =
		"BYE sip:alice@192.0.2.100:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 192.0.2.200:5060;branch=z9hG4bKuasbye\n"
		"Max-Forwards: 70\n"
		"Route: <sip:192.0.2.1:5060;lr>\n"
		"From: Bob <sip:bob@example.com>;tag=b1\n"
		"To: Alice <sip:alice@example.com>;tag=1928301774\n"
		"Call-ID: call1@192.0.2.100\n"
		"CSeq: 1 BYE\n"
		"Content-Length: 0\n\n";
	fxp_rx(bye, FX_UAS(200));
	int f = fxp_find(n, "BYE sip:alice@192.0.2.100:5060 SIP/2.0");
	cr_assert_geq(f, 0);
	cr_assert(peer_is((unsigned)f, FX_UAC));
	fxp_reply((unsigned)f, 200, NULL, NULL);
	int r = fxp_find(n, "SIP/2.0 200");
	cr_assert_geq(r, 0);
	cr_assert(peer_is((unsigned)r, FX_UAS(200)));
}

Test(proxy_call, invite_retransmission_absorbed)
{
	unsigned inv = call_setup();
	unsigned n = fx.nsent;
	fxp_rx(fxp_invite("sip:bob@example.com", 1, NULL), FX_UAC);
	/* The server transaction answers with its last response (100). */
	cr_assert_eq(fx.nsent, n + 1);
	cr_assert(strncmp(fxp_text(n), "SIP/2.0 100", 11) == 0);
	cr_assert_eq(fxp_count("INVITE "), 1);
	(void)inv;
}
