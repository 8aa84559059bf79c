/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spl_sipmsg_serialize() and spl_sipmsg_build_response(): an unedited
 * message comes back byte for byte (hand-written cases, the RFC 4475 and
 * RFC 5118 torture files), each edit re-parses to what was intended, and
 * nothing is ever written past the capacity.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_util.h"
#include "edit_check.h"
#include "spl_sipmsg.h"

#define OUTCAP 8192

/* Criterion runs each test in its own process: a small static pool of
 * messages keeps them off the stack and needs no freeing. */
static struct spl_sipmsg pool[4];
static unsigned pool_next;

static struct spl_sipmsg *scan_n(const char *buf, uint32_t len)
{
	struct spl_sipmsg *m = &pool[pool_next++ % 4];
	enum spl_sipmsg_err err = spl_sipmsg_scan(m, buf, len);
	cr_assert_eq(err, SPL_SIPMSG_E_NONE, "scan: %s\n%.*s", spl_sipmsg_err_reason(err), (int)len, buf);
	return m;
}

static struct spl_sipmsg *scan(const char *s) { return scan_n(s, (uint32_t)strlen(s)); }

/* Serialize into a NUL-terminated buffer; asserts success. */
static int ser(const struct spl_sipmsg *m, const struct spl_sipmsg_edits *e, char *out)
{
	int n = spl_sipmsg_serialize(m, e, out, OUTCAP - 1);
	cr_assert_gt(n, 0, "serialize failed");
	out[n] = '\0';
	return n;
}

static void parse_ok(struct spl_sipmsg *m, uint32_t what)
{
	enum spl_sipmsg_err err = spl_sipmsg_parse(m, what);
	cr_assert_eq(err, SPL_SIPMSG_E_NONE, "parse: %s", spl_sipmsg_err_reason(err));
}

static bool str_is(struct spl_str s, const char *lit)
{
	return s.p && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

#define assert_str(s, lit) \
	cr_assert(str_is((s), (lit)), "got \"%.*s\", want \"%s\"", (int)(s).len, (s).p ? (s).p : "", (lit))

static const char INVITE[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
	"Max-Forwards: 70\r\n"
	"To: Bob <sip:bob@biloxi.example.com>\r\n"
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 5\r\n"
	"\r\n"
	"v=0\r\n";

/* ------------------------------------------------------------------ */
/* Round trip */

static void assert_round_trip(const char *buf, uint32_t len, const char *what)
{
	static char out[65536];
	struct spl_sipmsg *m = &pool[pool_next++ % 4];
	enum spl_sipmsg_err err = spl_sipmsg_scan(m, buf, len);
	cr_assert_eq(err, SPL_SIPMSG_E_NONE, "%s: scan: %s", what, spl_sipmsg_err_reason(err));

	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	int n = spl_sipmsg_serialize(m, &e, out, sizeof(out));
	cr_assert_eq(n, (int)m->len, "%s: %d bytes out, framed %u", what, n, m->len);
	cr_assert(memcmp(out, m->buf, m->len) == 0, "%s: not byte-identical", what);

	n = spl_sipmsg_serialize(m, NULL, out, sizeof(out));
	cr_assert_eq(n, (int)m->len, "%s: NULL edits", what);
	cr_assert(memcmp(out, m->buf, m->len) == 0, "%s: NULL edits not identical", what);

	/* Exactly the framed size is enough; one byte less is not. */
	cr_assert_eq(spl_sipmsg_serialize(m, NULL, out, m->len), (int)m->len, "%s", what);
	cr_assert_eq(spl_sipmsg_serialize(m, NULL, out, m->len - 1), -1, "%s", what);
}

Test(sipmsg_edit, round_trip_hand_written)
{
	static const char *const msgs[] = {
		INVITE,
		/* bare LF, compact forms, folding, no Content-Length (UDP) */
		"OPTIONS sip:carol@chicago.example.com SIP/2.0\n"
		"v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877,\n"
		"  SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKnashds8\n"
		"Max-Forwards:   0070\n"
		"t: <sip:carol@chicago.example.com>\n"
		"f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"
		"i: a84b4c76e66710\n"
		"CSeq: 63104 OPTIONS\n"
		"\n",
		/* a response with a body and trailing datagram octets ignored */
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP server10.biloxi.example.com;branch=z9hG4bK4b43c2ff8.1\r\n"
		"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1\r\n"
		"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
		"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		"Call-ID: a84b4c76e66710\r\n"
		"CSeq: 314159 INVITE\r\n"
		"l: 3\r\n"
		"\r\n"
		"abcTRAILING-GARBAGE",
		/* two equal Content-Length lines are kept as they are */
		"MESSAGE sip:a@b SIP/2.0\r\n"
		"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		"Content-Length: 2\r\n"
		"Content-Length: 2\r\n"
		"\r\n"
		"hi",
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		char what[32];
		snprintf(what, sizeof(what), "message %zu", i);
		assert_round_trip(msgs[i], (uint32_t)strlen(msgs[i]), what);
	}
	/* the framed message excludes the trailing octets */
	struct spl_sipmsg *m = scan(msgs[2]);
	char out[OUTCAP];
	int n = ser(m, NULL, out);
	cr_assert_eq(n, (int)(strlen(msgs[2]) - strlen("TRAILING-GARBAGE")));
}

/* Every .dat in a corpus directory that scans cleanly round-trips. */
static unsigned round_trip_dir(const char *sub, unsigned *nfiles, unsigned *nhops)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/corpus/%s", corpus_shared_dir(), sub);
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s (set SPL_SHARED_DIR)", dir);
	unsigned ok = 0;
	*nfiles = 0;
	*nhops = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		if (nl < 5 || strcmp(de->d_name + nl - 4, ".dat") != 0)
			continue;
		char rel[1024];
		snprintf(rel, sizeof(rel), "corpus/%s/%s", sub, de->d_name);
		uint32_t len;
		char *buf = corpus_read(rel, &len);
		(*nfiles)++;
		struct spl_sipmsg *m = &pool[0];
		if (spl_sipmsg_scan(m, buf, len) == SPL_SIPMSG_E_NONE) {
			assert_round_trip(buf, len, de->d_name);
			ok++;
		}
		*nhops += edit_check_hop(buf, len, de->d_name);
		free(buf);
	}
	closedir(d);
	return ok;
}

Test(sipmsg_edit, round_trip_rfc4475_corpus)
{
	unsigned nfiles, nhops;
	unsigned ok = round_trip_dir("rfc4475", &nfiles, &nhops);
	cr_assert_eq(nfiles, 50);
	cr_log_info("rfc4475: %u valid files forwarded through one proxy hop", nhops);
	cr_assert_geq(nhops, 15);
	/* Most of the torture messages scan: only start-line, framing and
	 * header-line faults stop the scan. */
	cr_log_info("rfc4475: %u of %u files scan and round-trip", ok, nfiles);
	cr_assert_geq(ok, 35, "only %u of %u scanned", ok, nfiles);
}

Test(sipmsg_edit, round_trip_rfc5118_corpus)
{
	unsigned nfiles, nhops;
	unsigned ok = round_trip_dir("rfc5118", &nfiles, &nhops);
	cr_log_info("rfc5118: %u valid files forwarded through one proxy hop", nhops);
	cr_assert_geq(nhops, 8);
	cr_assert_eq(nfiles, 12);
	cr_log_info("rfc5118: %u of %u files scan and round-trip", ok, nfiles);
	cr_assert_geq(ok, 10, "only %u of %u scanned", ok, nfiles);
}

/* ------------------------------------------------------------------ */
/* Via */

Test(sipmsg_edit, prepend_via)
{
	struct spl_sipmsg *m = scan(INVITE);
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.via = SPL_STR_LIT("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKspl0100000001abcd");
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert(strstr(out, "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKspl0100000001abcd\r\n"
			      "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n") == out,
		  "%s", out);

	struct spl_sipmsg *r = scan(out);
	parse_ok(r, SPL_SIPMSG_P_VIA);
	cr_assert_eq(r->nvias, 2);
	assert_str(r->vias[0].branch, "z9hG4bKspl0100000001abcd");
	assert_str(r->vias[1].branch, "z9hG4bK776asdhds");
	cr_assert_eq(r->content_length, 5);
	assert_str(r->body, "v=0\r\n");
}

Test(sipmsg_edit, prepend_via_without_any_via_goes_first)
{
	struct spl_sipmsg *m = scan("OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.via = SPL_STR_LIT("Via: SIP/2.0/UDP h;branch=z9hG4bKx");
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out, "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
			      "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
}

static const char RESPONSE_MULTI_VIA[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKa, SIP/2.0/UDP pc33.example.com;branch=z9hG4bKb\r\n"
	"Via: SIP/2.0/UDP old.example.com;branch=z9hG4bKc\r\n"
	"To: <sip:bob@example.com>;tag=t\r\n"
	"From: <sip:alice@example.com>;tag=f\r\n"
	"Call-ID: c1\r\n"
	"CSeq: 1 INVITE\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

Test(sipmsg_edit, remove_top_via_of_multi_value_line)
{
	struct spl_sipmsg *m = scan(RESPONSE_MULTI_VIA);
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.remove_top_via = true;
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert(strstr(out, "SIP/2.0 200 OK\r\n"
			      "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKb\r\n"
			      "Via: SIP/2.0/UDP old.example.com;branch=z9hG4bKc\r\n") == out, "%s", out);
	struct spl_sipmsg *r = scan(out);
	parse_ok(r, SPL_SIPMSG_P_VIA);
	cr_assert_eq(r->nvias, 2);
	assert_str(r->vias[0].branch, "z9hG4bKb");
	assert_str(r->vias[1].branch, "z9hG4bKc");

	/* and again: now the line holds one value and goes entirely */
	struct spl_sipmsg *m2 = scan(out);
	char out2[OUTCAP];
	ser(m2, &e, out2);
	cr_assert(strstr(out2, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP old.example.com;branch=z9hG4bKc\r\nTo:") == out2,
		  "%s", out2);
}

Test(sipmsg_edit, remove_top_via_folded_multi_value_line)
{
	struct spl_sipmsg *m = scan("SIP/2.0 180 Ringing\r\n"
				    "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa ,\r\n"
				    "     SIP/2.0/UDP b.example.com;branch=z9hG4bKb\r\n"
				    "CSeq: 1 INVITE\r\n"
				    "Content-Length: 0\r\n\r\n");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.remove_top_via = true;
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out, "SIP/2.0 180 Ringing\r\n"
			      "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bKb\r\n"
			      "CSeq: 1 INVITE\r\n"
			      "Content-Length: 0\r\n\r\n");
}

Test(sipmsg_edit, remove_top_via_needs_a_via)
{
	struct spl_sipmsg *m = scan("SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.remove_top_via = true;
	char out[OUTCAP];
	cr_assert_eq(spl_sipmsg_serialize(m, &e, out, sizeof(out)), -1);
	e.remove_top_via = false;
	e.remove_top_route = true;
	cr_assert_eq(spl_sipmsg_serialize(m, &e, out, sizeof(out)), -1);
}

/* ------------------------------------------------------------------ */
/* Request-URI, Max-Forwards */

Test(sipmsg_edit, replace_request_uri)
{
	struct spl_sipmsg *m = scan(INVITE);
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.ruri = SPL_STR_LIT("sip:bob@192.0.2.4:5062;transport=udp");
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert(strncmp(out, "INVITE sip:bob@192.0.2.4:5062;transport=udp SIP/2.0\r\nVia:", 57) == 0, "%s", out);
	struct spl_sipmsg *r = scan(out);
	parse_ok(r, SPL_SIPMSG_P_RURI);
	assert_str(r->ruri_uri.host.text, "192.0.2.4");
	cr_assert_eq(r->ruri_uri.port, 5062);

	/* a response has no Request-URI to replace */
	struct spl_sipmsg *resp = scan(RESPONSE_MULTI_VIA);
	cr_assert_eq(spl_sipmsg_serialize(resp, &e, out, sizeof(out)), -1);
}

Test(sipmsg_edit, max_forwards_decrement)
{
	struct spl_sipmsg *m = scan(INVITE);
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.max_forwards = SPL_SIPMSG_MF_DECREMENT;
	char out[OUTCAP];
	int n = ser(m, &e, out);
	cr_assert_eq(n, (int)strlen(INVITE));
	cr_assert_not_null(strstr(out, "\r\nMax-Forwards: 69\r\n"));
	struct spl_sipmsg *r = scan(out);
	parse_ok(r, SPL_SIPMSG_P_MAXFWD);
	cr_assert_eq(r->max_forwards, 69);
}

Test(sipmsg_edit, max_forwards_leading_zeros_and_spacing)
{
	struct spl_sipmsg *m = scan("OPTIONS sip:a@b SIP/2.0\nMax-Forwards:\t0068 \nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.max_forwards = SPL_SIPMSG_MF_DECREMENT;
	char out[OUTCAP];
	ser(m, &e, out);
	/* the value is rewritten in place; copied lines keep their LF */
	cr_assert_str_eq(out, "OPTIONS sip:a@b SIP/2.0\nMax-Forwards:\t67 \nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
}

Test(sipmsg_edit, max_forwards_inserted_when_absent)
{
	struct spl_sipmsg *m = scan("OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.max_forwards = SPL_SIPMSG_MF_DECREMENT;
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out, "OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n"
			      "Max-Forwards: 70\r\n\r\n");
	struct spl_sipmsg *r = scan(out);
	parse_ok(r, SPL_SIPMSG_P_MAXFWD);
	cr_assert_eq(r->max_forwards, 70);
}

Test(sipmsg_edit, max_forwards_set)
{
	struct spl_sipmsg *m = scan(INVITE);
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.max_forwards = 5;
	char out[OUTCAP];
	ser(m, &e, out);
	struct spl_sipmsg *r = scan(out);
	parse_ok(r, SPL_SIPMSG_P_MAXFWD);
	cr_assert_eq(r->max_forwards, 5);
	cr_assert_eq(r->count[SPL_SIP_HDR_MAX_FORWARDS], 1);

	e.max_forwards = 256;
	cr_assert_eq(spl_sipmsg_serialize(m, &e, out, sizeof(out)), -1);
	e.max_forwards = -3;
	cr_assert_eq(spl_sipmsg_serialize(m, &e, out, sizeof(out)), -1);
}

Test(sipmsg_edit, max_forwards_zero_cannot_be_decremented)
{
	/* §16.3 step 3: the proxy answers 483 instead of forwarding */
	struct spl_sipmsg *m = scan("OPTIONS sip:a@b SIP/2.0\r\nMax-Forwards: 0\r\nContent-Length: 0\r\n\r\n");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.max_forwards = SPL_SIPMSG_MF_DECREMENT;
	char out[OUTCAP];
	cr_assert_eq(spl_sipmsg_serialize(m, &e, out, sizeof(out)), -1);
}

/* ------------------------------------------------------------------ */
/* Record-Route and Route */

Test(sipmsg_edit, record_route_prepended_twice_in_order)
{
	struct spl_sipmsg *m = scan("INVITE sip:bob@example.com SIP/2.0\r\n"
				    "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1\r\n"
				    "Via: SIP/2.0/UDP ua.example.com;branch=z9hG4bK0\r\n"
				    "Record-Route: <sip:p1.example.com;lr>\r\n"
				    "CSeq: 1 INVITE\r\n"
				    "Content-Length: 0\r\n\r\n");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.n_rr = 2;
	e.rr[0] = SPL_STR_LIT("Record-Route: <sip:192.0.2.1;lr>");
	e.rr[1] = SPL_STR_LIT("Record-Route: <sip:10.0.0.1;lr>");
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out, "INVITE sip:bob@example.com SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1\r\n"
			      "Via: SIP/2.0/UDP ua.example.com;branch=z9hG4bK0\r\n"
			      "Record-Route: <sip:192.0.2.1;lr>\r\n"
			      "Record-Route: <sip:10.0.0.1;lr>\r\n"
			      "Record-Route: <sip:p1.example.com;lr>\r\n"
			      "CSeq: 1 INVITE\r\n"
			      "Content-Length: 0\r\n\r\n");
	struct spl_sipmsg *r = scan(out);
	cr_assert_eq(r->count[SPL_SIP_HDR_RECORD_ROUTE], 3);
	const struct spl_sip_hdr *h = spl_sipmsg_hdr(r, SPL_SIP_HDR_RECORD_ROUTE);
	assert_str(h->value, "<sip:192.0.2.1;lr>");
	h = &r->hdrs[h->next];
	assert_str(h->value, "<sip:10.0.0.1;lr>");
	h = &r->hdrs[h->next];
	assert_str(h->value, "<sip:p1.example.com;lr>");
}

Test(sipmsg_edit, record_route_without_one_goes_after_the_vias)
{
	struct spl_sipmsg *m = scan(INVITE);
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.via = SPL_STR_LIT("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnew");
	e.n_rr = 1;
	e.rr[0] = SPL_STR_LIT("Record-Route: <sip:192.0.2.1;lr>");
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert(strstr(out, "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnew\r\n"
			      "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
			      "Record-Route: <sip:192.0.2.1;lr>\r\n"
			      "Max-Forwards: 70\r\n") == out, "%s", out);
}

Test(sipmsg_edit, record_route_too_many)
{
	struct spl_sipmsg *m = scan(INVITE);
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.n_rr = 3;
	char out[OUTCAP];
	cr_assert_eq(spl_sipmsg_serialize(m, &e, out, sizeof(out)), -1);
}

Test(sipmsg_edit, remove_top_route_of_multi_value_line)
{
	struct spl_sipmsg *m = scan("BYE sip:alice@client.example.com SIP/2.0\r\n"
				    "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bK1\r\n"
				    "Route: <sip:p1.example.com;lr>, \"P, two\" <sip:p2.example.com;lr>\r\n"
				    "Route: <sip:p3.example.com;lr>\r\n"
				    "CSeq: 2 BYE\r\n"
				    "Content-Length: 0\r\n\r\n");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.remove_top_route = true;
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert(strstr(out, "\r\nRoute: \"P, two\" <sip:p2.example.com;lr>\r\n"
			      "Route: <sip:p3.example.com;lr>\r\n") != NULL, "%s", out);
	struct spl_sipmsg *r = scan(out);
	parse_ok(r, SPL_SIPMSG_P_ROUTE);
	cr_assert_eq(r->nroutes, 2);
	assert_str(r->route.uri_str, "sip:p2.example.com;lr");
}

Test(sipmsg_edit, remove_top_route_separate_lines)
{
	struct spl_sipmsg *m = scan("BYE sip:alice@client.example.com SIP/2.0\r\n"
				    "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bK1\r\n"
				    "Route: <sip:p1.example.com;lr>\r\n"
				    "Route: <sip:p2.example.com;lr>\r\n"
				    "CSeq: 2 BYE\r\n"
				    "Content-Length: 0\r\n\r\n");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.remove_top_route = true;
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out, "BYE sip:alice@client.example.com SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bK1\r\n"
			      "Route: <sip:p2.example.com;lr>\r\n"
			      "CSeq: 2 BYE\r\n"
			      "Content-Length: 0\r\n\r\n");
	struct spl_sipmsg *r = scan(out);
	parse_ok(r, SPL_SIPMSG_P_ROUTE);
	cr_assert_eq(r->nroutes, 1);
	assert_str(r->route.uri_str, "sip:p2.example.com;lr");
}

/* ------------------------------------------------------------------ */
/* Header lines, body, Content-Length */

Test(sipmsg_edit, remove_header_lines_by_index_and_append)
{
	struct spl_sipmsg *m = scan(INVITE);
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	spl_sipmsg_edits_remove(&e, m->first[SPL_SIP_HDR_CONTACT]);
	spl_sipmsg_edits_remove(&e, m->first[SPL_SIP_HDR_MAX_FORWARDS]);
	e.n_append = 2;
	e.append[0] = SPL_STR_LIT("X-Shard: 3");
	e.append[1] = SPL_STR_LIT("P-Hint: foo");
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out,
		"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
		"To: Bob <sip:bob@biloxi.example.com>\r\n"
		"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
		"CSeq: 314159 INVITE\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 5\r\n"
		"X-Shard: 3\r\n"
		"P-Hint: foo\r\n"
		"\r\n"
		"v=0\r\n");
	struct spl_sipmsg *r = scan(out);
	cr_assert_eq(r->count[SPL_SIP_HDR_CONTACT], 0);
	cr_assert_not_null(spl_sipmsg_hdr_by_name(r, "x-shard"));

	/* an empty line would end the headers early: refused */
	e.append[1] = SPL_STR_LIT("");
	cr_assert_eq(spl_sipmsg_serialize(m, &e, out, sizeof(out)), -1);
	e.n_append = SPL_SIPMSG_MAX_EDIT_LINES + 1;
	cr_assert_eq(spl_sipmsg_serialize(m, &e, out, sizeof(out)), -1);
}

Test(sipmsg_edit, replace_body_fixes_content_length)
{
	struct spl_sipmsg *m = scan(INVITE);
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.replace_body = true;
	e.body = SPL_STR_LIT("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n");
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert(strstr(out, "\r\nContent-Length: 31\r\n\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n") != NULL, "%s", out);
	struct spl_sipmsg *r = scan(out);
	cr_assert_eq(r->content_length, 31);
	cr_assert_eq(r->body.len, 31);
	cr_assert_eq(r->len, strlen(out));

	/* empty body */
	e.body = SPL_STR_LIT("");
	ser(m, &e, out);
	cr_assert(strstr(out, "\r\nContent-Length: 0\r\n\r\n") != NULL, "%s", out);
	r = scan(out);
	cr_assert_eq(r->body.len, 0);
	cr_assert_eq(r->len, strlen(out));
}

Test(sipmsg_edit, content_length_inserted_when_absent_with_edits)
{
	/* UDP without Content-Length: body runs to the end of the datagram */
	static const char msg[] = "MESSAGE sip:a@b SIP/2.0\r\nMax-Forwards: 9\r\nCSeq: 1 MESSAGE\r\n\r\nhello";
	struct spl_sipmsg *m = scan(msg);
	char out[OUTCAP];
	ser(m, NULL, out);
	cr_assert_str_eq(out, msg);  /* no edits: untouched, still no Content-Length */

	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.max_forwards = SPL_SIPMSG_MF_DECREMENT;
	ser(m, &e, out);
	cr_assert_str_eq(out, "MESSAGE sip:a@b SIP/2.0\r\nMax-Forwards: 8\r\nCSeq: 1 MESSAGE\r\n"
			      "Content-Length: 5\r\n\r\nhello");
}

Test(sipmsg_edit, duplicate_content_length_lines_become_one)
{
	struct spl_sipmsg *m = scan("MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\nCSeq: 1 MESSAGE\r\nContent-Length: 2\r\n\r\nhi");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.replace_body = true;
	e.body = SPL_STR_LIT("hello");
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out, "MESSAGE sip:a@b SIP/2.0\r\nl: 5\r\nCSeq: 1 MESSAGE\r\n\r\nhello");

	/* removing the first by index keeps the second */
	spl_sipmsg_edits_init(&e);
	spl_sipmsg_edits_remove(&e, 0);
	ser(m, &e, out);
	cr_assert_str_eq(out, "MESSAGE sip:a@b SIP/2.0\r\nCSeq: 1 MESSAGE\r\nContent-Length: 2\r\n\r\nhi");
}

Test(sipmsg_edit, missing_final_empty_line_is_written_when_edited)
{
	/* tolerated by the scanner (RFC 5118 archive files); we emit it */
	struct spl_sipmsg *m = scan("OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 3");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.max_forwards = SPL_SIPMSG_MF_DECREMENT;
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out, "OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 2\r\n"
			      "Content-Length: 0\r\n\r\n");
}

Test(sipmsg_edit, start_line_without_terminator_and_no_headers)
{
	struct spl_sipmsg *m = scan("OPTIONS sip:a@b SIP/2.0");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.via = SPL_STR_LIT("Via: SIP/2.0/UDP h;branch=z9hG4bKx");
	e.n_rr = 1;
	e.rr[0] = SPL_STR_LIT("Record-Route: <sip:h;lr>");
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out, "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
			      "Record-Route: <sip:h;lr>\r\nContent-Length: 0\r\n\r\n");
}

Test(sipmsg_edit, lf_only_message_keeps_lf_on_copied_lines)
{
	struct spl_sipmsg *m = scan("INVITE sip:b@example.com SIP/2.0\n"
				    "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa\n"
				    "Max-Forwards: 10\n"
				    "CSeq: 1 INVITE\n"
				    "\n");
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.via = SPL_STR_LIT("Via: SIP/2.0/UDP p.example.com;branch=z9hG4bKp");
	e.max_forwards = SPL_SIPMSG_MF_DECREMENT;
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out, "INVITE sip:b@example.com SIP/2.0\n"
			      "Via: SIP/2.0/UDP p.example.com;branch=z9hG4bKp\r\n"
			      "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa\n"
			      "Max-Forwards: 9\n"
			      "CSeq: 1 INVITE\n"
			      "Content-Length: 0\r\n"
			      "\n");
	struct spl_sipmsg *r = scan(out);
	parse_ok(r, SPL_SIPMSG_P_VIA | SPL_SIPMSG_P_MAXFWD);
	cr_assert_eq(r->nvias, 2);
	cr_assert_eq(r->max_forwards, 9);
}

/* A proxy forwarding a request, §16.6: every edit at once. */
static void forward_edits(struct spl_sipmsg_edits *e)
{
	spl_sipmsg_edits_init(e);
	e->ruri = SPL_STR_LIT("sip:bob@192.0.2.4");
	e->via = SPL_STR_LIT("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKspl01000000020003");
	e->remove_top_route = true;
	e->max_forwards = SPL_SIPMSG_MF_DECREMENT;
	e->n_rr = 1;
	e->rr[0] = SPL_STR_LIT("Record-Route: <sip:192.0.2.1;lr>");
	e->n_append = 1;
	e->append[0] = SPL_STR_LIT("X-Forwarded: 1");
}

static const char ROUTED_INVITE[] =
	"INVITE sip:bob@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP ua.example.com;branch=z9hG4bK0\r\n"
	"Route: <sip:192.0.2.1;lr>,<sip:next.example.com;lr>\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:bob@example.com>\r\n"
	"From: <sip:alice@example.com>;tag=1\r\n"
	"Call-ID: x\r\n"
	"CSeq: 1 INVITE\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

Test(sipmsg_edit, forward_with_every_edit)
{
	struct spl_sipmsg *m = scan(ROUTED_INVITE);
	struct spl_sipmsg_edits e;
	forward_edits(&e);
	char out[OUTCAP];
	ser(m, &e, out);
	cr_assert_str_eq(out,
		"INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKspl01000000020003\r\n"
		"Via: SIP/2.0/UDP ua.example.com;branch=z9hG4bK0\r\n"
		"Record-Route: <sip:192.0.2.1;lr>\r\n"
		"Route: <sip:next.example.com;lr>\r\n"
		"Max-Forwards: 69\r\n"
		"To: <sip:bob@example.com>\r\n"
		"From: <sip:alice@example.com>;tag=1\r\n"
		"Call-ID: x\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n"
		"X-Forwarded: 1\r\n"
		"\r\n");
}

Test(sipmsg_edit, cap_too_small_never_overflows)
{
	struct spl_sipmsg *m = scan(ROUTED_INVITE);
	struct spl_sipmsg_edits e;
	forward_edits(&e);
	char ref[OUTCAP];
	int need = ser(m, &e, ref);

	char buf[OUTCAP];
	for (int cap = 0; cap < need; cap++) {
		memset(buf, 0xA5, sizeof(buf));
		int n = spl_sipmsg_serialize(m, &e, buf, (uint32_t)cap);
		cr_assert_eq(n, -1, "cap %d gave %d", cap, n);
		for (int k = cap; k < need + 16; k++)
			cr_assert_eq((unsigned char)buf[k], 0xA5, "cap %d: byte %d written", cap, k);
	}
	memset(buf, 0xA5, sizeof(buf));
	cr_assert_eq(spl_sipmsg_serialize(m, &e, buf, (uint32_t)need), need);
	cr_assert(memcmp(buf, ref, (size_t)need) == 0);
	cr_assert_eq((unsigned char)buf[need], 0xA5);
}

/* The input ends flush against a PROT_NONE page (no Content-Length, no
 * final empty line, so framing runs to the very last byte), and the output
 * buffer too: any read or write past either end faults. */
Test(sipmsg_edit, guard_pages_on_input_and_output)
{
	static const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKg\r\nMax-Forwards: 7";
	char *in = guard_copy(msg, sizeof(msg) - 1);
	struct spl_sipmsg *m = scan_n(in, sizeof(msg) - 1);
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.via = SPL_STR_LIT("Via: SIP/2.0/UDP p;branch=z9hG4bKp");
	e.remove_top_via = true;  /* the old top goes, the new one stays */
	e.max_forwards = SPL_SIPMSG_MF_DECREMENT;

	static const char want[] = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP p;branch=z9hG4bKp\r\n"
				   "Max-Forwards: 6\r\nContent-Length: 0\r\n\r\n";
	const uint32_t need = sizeof(want) - 1;
	for (uint32_t cap = 0; cap <= need; cap++) {
		char *out = guard_copy(want, cap);  /* contents irrelevant: cap bytes before the guard */
		memset(out, 0, cap);
		int n = spl_sipmsg_serialize(m, &e, out, cap);
		if (cap < need) {
			cr_assert_eq(n, -1, "cap %u", cap);
		} else {
			cr_assert_eq(n, (int)need);
			cr_assert(memcmp(out, want, need) == 0, "%.*s", n, out);
		}
		guard_free(out, cap);
	}
	guard_free(in, sizeof(msg) - 1);
}

/* ------------------------------------------------------------------ */
/* build_response */

static const char REQ_INVITE[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP bigbox3.site3.atlanta.example.com;branch=z9hG4bK77ef4c2312983.1,\r\n"
	" SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
	"v: SIP/2.0/TCP client.example.com;branch=z9hG4bKbottom\r\n"
	"Max-Forwards: 70\r\n"
	"To: Bob <sip:bob@biloxi.example.com>\r\n"
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Timestamp: 54.2 0.3\r\n"
	"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 5\r\n"
	"\r\n"
	"v=0\r\n";

/* The response re-parses and echoes the request's Vias, From, To (modulo
 * the tag), Call-ID and CSeq (§8.2.6.2). */
static struct spl_sipmsg *check_response(struct spl_sipmsg *req, const char *out, int n,
					 uint16_t status, const char *want_tag)
{
	struct spl_sipmsg *r = scan_n(out, (uint32_t)n);
	cr_assert_not(r->request);
	cr_assert_eq(r->status, status);
	cr_assert_eq(r->len, (uint32_t)n);
	cr_assert(r->has_content_length && r->content_length == 0);

	struct spl_sipmsg_verdict v;
	spl_sipmsg_validate(r, SPL_SIPMSG_E_NONE, &v);
	cr_assert_eq(v.kind, SPL_SIPMSG_OK, "verdict %d err %d", v.kind, v.err);

	parse_ok(req, SPL_SIPMSG_P_PROXY);
	parse_ok(r, SPL_SIPMSG_P_VIA | SPL_SIPMSG_P_FROM | SPL_SIPMSG_P_TO | SPL_SIPMSG_P_CALLID | SPL_SIPMSG_P_CSEQ);
	cr_assert_eq(r->nvias, req->nvias);
	for (uint16_t i = 0; i < r->nvias; i++)
		cr_assert(r->vias[i].raw.len == req->vias[i].raw.len &&
			  memcmp(r->vias[i].raw.p, req->vias[i].raw.p, r->vias[i].raw.len) == 0, "via %u", i);
	cr_assert(spl_str_ieq_str(r->from.raw, req->from.raw));
	cr_assert(spl_str_ieq_str(r->from.tag, req->from.tag));
	cr_assert(spl_str_ieq_str(r->to.uri_str, req->to.uri_str));
	cr_assert(spl_str_ieq_str(r->call_id, req->call_id));
	cr_assert_eq(r->cseq.num, req->cseq.num);
	cr_assert(spl_str_ieq_str(r->cseq.method, req->cseq.method));
	if (want_tag)
		assert_str(r->to.tag, want_tag);
	else
		cr_assert_null(r->to.tag.p);
	return r;
}

Test(sipmsg_edit, build_100_trying_copies_timestamp)
{
	struct spl_sipmsg *req = scan(REQ_INVITE);
	char out[OUTCAP];
	int n = spl_sipmsg_build_response(req, 100, NULL, SPL_STR_NULL, NULL, 0, out, sizeof(out) - 1);
	cr_assert_gt(n, 0);
	out[n] = '\0';
	cr_assert_str_eq(out,
		"SIP/2.0 100 Trying\r\n"
		"Via: SIP/2.0/UDP bigbox3.site3.atlanta.example.com;branch=z9hG4bK77ef4c2312983.1,"
		" SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
		"v: SIP/2.0/TCP client.example.com;branch=z9hG4bKbottom\r\n"
		"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		"To: Bob <sip:bob@biloxi.example.com>\r\n"
		"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
		"CSeq: 314159 INVITE\r\n"
		"Timestamp: 54.2 0.3\r\n"
		"Content-Length: 0\r\n"
		"\r\n");
	struct spl_sipmsg *r = check_response(req, out, n, 100, NULL);
	cr_assert_eq(r->nvias, 3);
}

Test(sipmsg_edit, build_180_adds_to_tag)
{
	struct spl_sipmsg *req = scan(REQ_INVITE);
	char out[OUTCAP];
	int n = spl_sipmsg_build_response(req, 180, NULL, SPL_STR_LIT("a6c85cf"), NULL, 0, out, sizeof(out) - 1);
	cr_assert_gt(n, 0);
	out[n] = '\0';
	cr_assert(strncmp(out, "SIP/2.0 180 Ringing\r\n", 21) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "\r\nTo: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"));
	cr_assert_null(strstr(out, "Timestamp"));  /* only 100 copies it */
	check_response(req, out, n, 180, "a6c85cf");
}

Test(sipmsg_edit, build_486_keeps_existing_to_tag_and_adds_extra_lines)
{
	static const char req_txt[] =
		"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
		"Max-Forwards: 70\r\n"
		"t: Bob <sip:bob@biloxi.example.com>;tag=existing\r\n"
		"f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		"i: a84b4c76e66710@pc33.atlanta.example.com\r\n"
		"CSeq: 2 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	struct spl_sipmsg *req = scan(req_txt);
	parse_ok(req, SPL_SIPMSG_P_TO);  /* the cached To is used */
	const struct spl_str extra[] = {
		SPL_STR_LIT("Unsupported: foo, bar"),
		SPL_STR_LIT("Retry-After: 30"),
		SPL_STR_LIT("Min-Expires: 3600"),
		SPL_STR_LIT("Warning: 399 sipline \"busy everywhere\""),
	};
	char out[OUTCAP];
	int n = spl_sipmsg_build_response(req, 486, NULL, SPL_STR_LIT("mine"), extra, 4, out, sizeof(out) - 1);
	cr_assert_gt(n, 0);
	out[n] = '\0';
	cr_assert_str_eq(out,
		"SIP/2.0 486 Busy Here\r\n"
		"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
		"f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		"t: Bob <sip:bob@biloxi.example.com>;tag=existing\r\n"
		"i: a84b4c76e66710@pc33.atlanta.example.com\r\n"
		"CSeq: 2 INVITE\r\n"
		"Unsupported: foo, bar\r\n"
		"Retry-After: 30\r\n"
		"Min-Expires: 3600\r\n"
		"Warning: 399 sipline \"busy everywhere\"\r\n"
		"Content-Length: 0\r\n"
		"\r\n");
	struct spl_sipmsg *r = check_response(req, out, n, 486, "existing");
	cr_assert_not_null(spl_sipmsg_hdr(r, SPL_SIP_HDR_RETRY_AFTER));
	cr_assert_not_null(spl_sipmsg_hdr(r, SPL_SIP_HDR_MIN_EXPIRES));
	cr_assert_not_null(spl_sipmsg_hdr(r, SPL_SIP_HDR_WARNING));
	cr_assert_not_null(spl_sipmsg_hdr(r, SPL_SIP_HDR_UNSUPPORTED));
}

Test(sipmsg_edit, build_response_custom_reason_and_unparsed_request)
{
	/* not parsed beforehand: the To tag check parses the one value */
	struct spl_sipmsg *req = scan(INVITE);
	char out[OUTCAP];
	int n = spl_sipmsg_build_response(req, 403, "Go Away", SPL_STR_LIT("z"), NULL, 0, out, sizeof(out) - 1);
	cr_assert_gt(n, 0);
	out[n] = '\0';
	cr_assert(strncmp(out, "SIP/2.0 403 Go Away\r\n", 21) == 0, "%s", out);
	check_response(req, out, n, 403, "z");
}

Test(sipmsg_edit, build_response_to_request_missing_headers)
{
	/* RFC 4475 §3.3.1 needs a 400 although From/To/Call-ID are absent */
	struct spl_sipmsg *req = scan("INVITE sip:user@example.com SIP/2.0\r\n"
				      "CSeq: 193942 INVITE\r\n"
				      "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n"
				      "Content-Type: application/sdp\r\n"
				      "l: 0\r\n\r\n");
	char out[OUTCAP];
	int n = spl_sipmsg_build_response(req, 400, "Missing Call-ID", SPL_STR_LIT("t"), NULL, 0, out,
					  sizeof(out) - 1);
	cr_assert_gt(n, 0);
	out[n] = '\0';
	cr_assert_str_eq(out, "SIP/2.0 400 Missing Call-ID\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n"
			      "CSeq: 193942 INVITE\r\n"
			      "Content-Length: 0\r\n\r\n");
}

Test(sipmsg_edit, build_response_lf_request_gets_crlf)
{
	struct spl_sipmsg *req = scan("OPTIONS sip:a@b SIP/2.0\n"
				      "Via: SIP/2.0/UDP h;branch=z9hG4bKq\n"
				      "To: <sip:a@b>\n"
				      "From: <sip:c@d>;tag=1\n"
				      "Call-ID: q\n"
				      "CSeq: 7 OPTIONS\n\n");
	char out[OUTCAP];
	int n = spl_sipmsg_build_response(req, 200, NULL, SPL_STR_LIT("x"), NULL, 0, out, sizeof(out) - 1);
	cr_assert_gt(n, 0);
	out[n] = '\0';
	cr_assert_str_eq(out, "SIP/2.0 200 OK\r\n"
			      "Via: SIP/2.0/UDP h;branch=z9hG4bKq\r\n"
			      "From: <sip:c@d>;tag=1\r\n"
			      "To: <sip:a@b>;tag=x\r\n"
			      "Call-ID: q\r\n"
			      "CSeq: 7 OPTIONS\r\n"
			      "Content-Length: 0\r\n\r\n");
}

Test(sipmsg_edit, build_response_refuses_bad_input_and_small_cap)
{
	struct spl_sipmsg *req = scan(REQ_INVITE);
	char out[OUTCAP];
	cr_assert_eq(spl_sipmsg_build_response(req, 99, NULL, SPL_STR_NULL, NULL, 0, out, sizeof(out)), -1);
	cr_assert_eq(spl_sipmsg_build_response(req, 700, NULL, SPL_STR_NULL, NULL, 0, out, sizeof(out)), -1);
	cr_assert_eq(spl_sipmsg_build_response(req, 200, NULL, SPL_STR_NULL, NULL, 1, out, sizeof(out)), -1);
	struct spl_sipmsg *resp = scan(RESPONSE_MULTI_VIA);
	cr_assert_eq(spl_sipmsg_build_response(resp, 200, NULL, SPL_STR_NULL, NULL, 0, out, sizeof(out)), -1);

	const struct spl_str extra[] = { SPL_STR_LIT("Retry-After: 5") };
	int need = spl_sipmsg_build_response(req, 503, NULL, SPL_STR_LIT("t"), extra, 1, out, sizeof(out));
	cr_assert_gt(need, 0);
	for (int cap = 0; cap < need; cap++) {
		memset(out, 0xA5, sizeof(out));
		cr_assert_eq(spl_sipmsg_build_response(req, 503, NULL, SPL_STR_LIT("t"), extra, 1, out,
						       (uint32_t)cap), -1, "cap %d", cap);
		for (int k = cap; k < need + 16; k++)
			cr_assert_eq((unsigned char)out[k], 0xA5, "cap %d: byte %d written", cap, k);
	}
	cr_assert_eq(spl_sipmsg_build_response(req, 503, NULL, SPL_STR_LIT("t"), extra, 1, out, (uint32_t)need),
		     need);
}
