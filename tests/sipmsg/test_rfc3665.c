/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every SIP message of the RFC 3665 call flows, extracted from the RFC
 * text: each validates as a UDP datagram would (except the few the RFC
 * itself gets wrong, listed below with the reason) and round-trips through
 * spl_sipmsg_serialize() byte for byte.
 *
 * Extraction. Messages are blocks indented by three spaces that start with
 * a request line "METHOD uri SIP/2.0" or a status line "SIP/2.0 NNN ...".
 * Page breaks ("Johnston, et al. ... [Page N]", form feed, "RFC 3665 ..."
 * header, with the blank lines around them) are cut out first, since they
 * fall inside header sections and bodies; the text on either side is
 * joined. A header section is the run of lines that look like
 * "Name: value" or like a folded continuation (indented further); it ends
 * at a blank line or at anything else (a flow label such as "F5 ...",
 * a C-style comment line, prose). All the bodies are SDP, so the body is
 * the run of "x=..." lines that follows. Lines are dedented by three and
 * end in CRLF. The RFC computed its Content-Length values over CRLF line
 * ends; each is checked against the body extracted and any mismatch would
 * be fixed and counted (there are none).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_util.h"
#include "edit_check.h"
#include "spl_sipmsg.h"

/* Counted in the RFC text: 89 request lines and 92 status lines (three of
 * them "SIP/2.0  486 Busy Here", with two spaces), 52 SDP bodies. */
#define RFC3665_MESSAGES  181
#define RFC3665_REQUESTS  89
#define RFC3665_BODIES    52
#define RFC3665_CL_FIXED  0

#define MAX_MSGS 256
#define MAX_LINES 8192

struct line {
	const char *p;
	uint32_t len;
	uint32_t no;         /* 1-based line number in the RFC */
};

struct rfc_msg {
	char *buf;
	uint32_t len;
	uint32_t line;       /* line number of the start line in the RFC */
	bool request;
	bool body;
};

static struct {
	char *text;
	struct line lines[MAX_LINES];
	unsigned nlines;
	struct rfc_msg msgs[MAX_MSGS];
	unsigned nmsgs;
	unsigned cl_fixed;
} rfc;

/*
 * Messages the RFC itself gets wrong, with what our validator must say.
 * Keyed by the RFC line number of the start line.
 */
static const struct {
	uint32_t line;
	uint8_t verdict;         /* enum spl_sipmsg_verdict_kind */
	uint8_t err;             /* enum spl_sipmsg_err */
	const char *why;
} known_bad[] = {
	{ 4307, SPL_SIPMSG_DROP, SPL_SIPMSG_E_BAD_STATUS,
	  "§3.9 F6: \"SIP/2.0  486 Busy Here\" has two SP after the version (Status-Line needs one)" },
	{ 4343, SPL_SIPMSG_DROP, SPL_SIPMSG_E_BAD_STATUS,
	  "§3.9 F8: \"SIP/2.0  486 Busy Here\", same typo" },
	{ 4377, SPL_SIPMSG_DROP, SPL_SIPMSG_E_BAD_STATUS,
	  "§3.9 F10: \"SIP/2.0  486 Busy Here\", same typo" },
	{ 4552, SPL_SIPMSG_REJECT, SPL_SIPMSG_E_HDR_SYNTAX,
	  "§3.10 F4: the Record-Route continuation \"<sip:ss1.atlanta.example.com;lr>\" is not "
	  "indented, so it is a header line without a name" },
};

static int known_bad_index(uint32_t line)
{
	for (size_t i = 0; i < sizeof(known_bad) / sizeof(known_bad[0]); i++)
		if (known_bad[i].line == line)
			return (int)i;
	return -1;
}

static bool starts(const struct line *l, const char *lit)
{
	size_t n = strlen(lit);
	return l->len >= n && memcmp(l->p, lit, n) == 0;
}

static bool blank(const struct line *l)
{
	for (uint32_t i = 0; i < l->len; i++)
		if (l->p[i] != ' ' && l->p[i] != '\t' && l->p[i] != '\r')
			return false;
	return true;
}

static bool is_token(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-.!%*_+`'~", c));
}

/* Exactly three spaces, then something. */
static bool indented3(const struct line *l)
{
	return l->len > 3 && memcmp(l->p, "   ", 3) == 0 && l->p[3] != ' ';
}

static bool is_start_line(const struct line *l, bool *request)
{
	if (!indented3(l))
		return false;
	const char *p = l->p + 3, *e = l->p + l->len;
	if (e - p > 8 && memcmp(p, "SIP/2.0 ", 8) == 0) {
		p += 8;
		while (p < e && *p == ' ')
			p++;
		*request = false;
		return e - p >= 3 && p[0] >= '1' && p[0] <= '6' && p[1] >= '0' && p[1] <= '9' &&
		       p[2] >= '0' && p[2] <= '9';
	}
	const char *m = p;
	while (p < e && *p >= 'A' && *p <= 'Z')
		p++;
	if (p == m || p >= e || *p != ' ')
		return false;
	*request = true;
	return e - p > 9 && memcmp(e - 8, " SIP/2.0", 8) == 0 && memchr(p + 1, ':', (size_t)(e - 8 - p)) != NULL;
}

/* "   Name: value" */
static bool is_header_line(const struct line *l)
{
	if (!indented3(l))
		return false;
	const char *p = l->p + 3, *e = l->p + l->len;
	const char *n = p;
	while (p < e && is_token(*p))
		p++;
	if (p == n)
		return false;
	while (p < e && *p == ' ')
		p++;
	return p < e && *p == ':';
}

/* A folded continuation: indented beyond three. The one RFC line that
 * should be a continuation but is indented by only three starts with '<'
 * (§3.10 F4); it is kept in the message, which then fails as listed. */
static bool is_continuation(const struct line *l)
{
	if (l->len > 4 && memcmp(l->p, "    ", 4) == 0)
		return true;
	return indented3(l) && l->p[3] == '<';
}

/* SDP: "   x=..." */
static bool is_body_line(const struct line *l)
{
	return indented3(l) && l->len > 4 && l->p[3] >= 'a' && l->p[3] <= 'z' && l->p[4] == '=';
}

static void put(char **w, const char *p, size_t n)
{
	memcpy(*w, p, n);
	*w += n;
}

static void read_rfc(void)
{
	uint32_t sz;
	rfc.text = corpus_read("rfc/rfc3665.txt", &sz);

	/* Split into lines, cutting out page breaks with their blank lines. */
	const char *p = rfc.text, *end = rfc.text + sz;
	uint32_t no = 0;
	bool skip_blank = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		struct line l = { p, (uint32_t)(e - p), ++no };
		if (l.len && p[l.len - 1] == '\r')
			l.len--;
		p = nl ? nl + 1 : end;

		if (starts(&l, "Johnston, et al.")) {
			while (rfc.nlines && blank(&rfc.lines[rfc.nlines - 1]))
				rfc.nlines--;
			skip_blank = true;
			continue;
		}
		if (skip_blank && (starts(&l, "\f") || starts(&l, "RFC 3665 ") || blank(&l)))
			continue;
		skip_blank = false;
		cr_assert_lt(rfc.nlines, MAX_LINES);
		rfc.lines[rfc.nlines++] = l;
	}

	/* Messages. */
	for (unsigned i = 0; i < rfc.nlines;) {
		bool request;
		if (!is_start_line(&rfc.lines[i], &request)) {
			i++;
			continue;
		}
		unsigned first = i++;
		while (i < rfc.nlines && (is_header_line(&rfc.lines[i]) || is_continuation(&rfc.lines[i])))
			i++;
		unsigned hdr_end = i;
		if (i < rfc.nlines && blank(&rfc.lines[i]))
			i++;
		unsigned body_first = i;
		while (i < rfc.nlines && is_body_line(&rfc.lines[i]))
			i++;
		unsigned body_end = i;

		size_t cap = 64;  /* room for a Content-Length value that grows */
		for (unsigned k = first; k < body_end; k++)
			cap += rfc.lines[k].len + 2;
		char *buf = malloc(cap);
		cr_assert_not_null(buf);
		char *w = buf;
		char *cl_val = NULL;
		size_t cl_val_len = 0;
		for (unsigned k = first; k < hdr_end; k++) {
			const struct line *l = &rfc.lines[k];
			if (starts(l, "   Content-Length:")) {
				const size_t nm = strlen("Content-Length:");
				put(&w, l->p + 3, nm);
				cl_val = w;
				cl_val_len = l->len - 3 - nm;
				put(&w, l->p + 3 + nm, cl_val_len);
			} else {
				put(&w, l->p + 3, l->len - 3);
			}
			put(&w, "\r\n", 2);
		}
		put(&w, "\r\n", 2);
		const char *body = w;
		for (unsigned k = body_first; k < body_end; k++) {
			put(&w, rfc.lines[k].p + 3, rfc.lines[k].len - 3);
			put(&w, "\r\n", 2);
		}
		size_t body_len = (size_t)(w - body);

		if (cl_val) {
			char want[16];
			int n = snprintf(want, sizeof(want), " %zu", body_len);
			if ((size_t)n != cl_val_len || memcmp(want, cl_val, cl_val_len) != 0) {
				/* rewrite the value and shift the rest */
				size_t tail = (size_t)(w - (cl_val + cl_val_len));
				memmove(cl_val + n, cl_val + cl_val_len, tail);
				memcpy(cl_val, want, (size_t)n);
				w = cl_val + n + tail;
				rfc.cl_fixed++;
			}
		} else {
			cr_assert_eq(body_len, 0, "line %u: body without Content-Length", rfc.lines[first].no);
		}

		cr_assert_lt(rfc.nmsgs, MAX_MSGS);
		rfc.msgs[rfc.nmsgs++] = (struct rfc_msg){
			.buf = buf, .len = (uint32_t)(w - buf), .line = rfc.lines[first].no,
			.request = request, .body = body_len > 0,
		};
	}
}

static void free_rfc(void)
{
	for (unsigned i = 0; i < rfc.nmsgs; i++)
		free(rfc.msgs[i].buf);
	free(rfc.text);
	memset(&rfc, 0, sizeof(rfc));
}

TestSuite(rfc3665, .init = read_rfc, .fini = free_rfc);

Test(rfc3665, extracts_every_message)
{
	unsigned req = 0, bodies = 0;
	for (unsigned i = 0; i < rfc.nmsgs; i++) {
		req += rfc.msgs[i].request;
		bodies += rfc.msgs[i].body;
	}
	cr_assert_eq(rfc.nmsgs, RFC3665_MESSAGES);
	cr_assert_eq(req, RFC3665_REQUESTS);
	cr_assert_eq(bodies, RFC3665_BODIES);
	cr_assert_eq(rfc.cl_fixed, RFC3665_CL_FIXED);

	/* The extraction is what the text says: spot-check the first message. */
	static const char f1[] =
		"REGISTER sips:ss2.biloxi.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/TLS client.biloxi.example.com:5061;branch=z9hG4bKnashds7\r\n"
		"Max-Forwards: 70\r\n"
		"From: Bob <sips:bob@biloxi.example.com>;tag=a73kszlfl\r\n"
		"To: Bob <sips:bob@biloxi.example.com>\r\n"
		"Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact: <sips:bob@client.biloxi.example.com>\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	cr_assert_eq(rfc.msgs[0].len, strlen(f1));
	cr_assert(memcmp(rfc.msgs[0].buf, f1, strlen(f1)) == 0);
}

Test(rfc3665, every_message_validates)
{
	static struct spl_sipmsg m;
	unsigned ok = 0, bad = 0;
	for (unsigned i = 0; i < rfc.nmsgs; i++) {
		const struct rfc_msg *r = &rfc.msgs[i];
		struct spl_sipmsg_verdict v;
		enum spl_sipmsg_err err = spl_sipmsg_scan(&m, r->buf, r->len);
		spl_sipmsg_validate(&m, err, &v);
		int kb = known_bad_index(r->line);
		if (kb >= 0) {
			cr_expect_eq(v.kind, known_bad[kb].verdict, "line %u (%s): verdict %d", r->line,
				     known_bad[kb].why, v.kind);
			cr_expect_eq(v.err, known_bad[kb].err, "line %u (%s): err %s", r->line,
				     known_bad[kb].why, spl_sipmsg_err_reason(v.err));
			bad++;
			continue;
		}
		cr_expect_eq(v.kind, SPL_SIPMSG_OK, "RFC line %u: %s\n%.*s", r->line,
			     spl_sipmsg_err_reason(v.err), (int)r->len, r->buf);
		cr_expect_eq(m.len, r->len, "RFC line %u: framed %u of %u", r->line, m.len, r->len);
		ok++;
	}
	cr_assert_eq(bad, sizeof(known_bad) / sizeof(known_bad[0]));
	cr_assert_eq(ok + bad, RFC3665_MESSAGES);
}

Test(rfc3665, every_message_round_trips)
{
	static struct spl_sipmsg m;
	static char out[16384];
	unsigned n_ok = 0;
	for (unsigned i = 0; i < rfc.nmsgs; i++) {
		const struct rfc_msg *r = &rfc.msgs[i];
		if (spl_sipmsg_scan(&m, r->buf, r->len) != SPL_SIPMSG_E_NONE) {
			cr_expect_geq(known_bad_index(r->line), 0, "RFC line %u does not scan", r->line);
			continue;
		}
		int n = spl_sipmsg_serialize(&m, NULL, out, sizeof(out));
		cr_expect_eq(n, (int)r->len, "RFC line %u: %d of %u bytes", r->line, n, r->len);
		cr_expect(n == (int)r->len && memcmp(out, r->buf, r->len) == 0, "RFC line %u differs", r->line);
		n_ok++;
	}
	cr_assert_geq(n_ok, RFC3665_MESSAGES - sizeof(known_bad) / sizeof(known_bad[0]));
}

/* One proxy hop on each valid message (see edit_check.h). Responses with a
 * single Via are the ones a UAC consumes and are not forwarded. */
Test(rfc3665, every_message_survives_a_proxy_hop)
{
	unsigned req = 0, resp = 0;
	for (unsigned i = 0; i < rfc.nmsgs; i++) {
		char what[32];
		snprintf(what, sizeof(what), "RFC line %u", rfc.msgs[i].line);
		if (!edit_check_hop(rfc.msgs[i].buf, rfc.msgs[i].len, what))
			continue;
		if (rfc.msgs[i].request)
			req++;
		else
			resp++;
	}
	/* every request but the malformed §3.10 F4; the responses that went
	 * through at least one proxy */
	cr_assert_eq(req, RFC3665_REQUESTS - 1);
	cr_assert_eq(resp, 38);
}

/* Each request that is not an ACK can be answered (§8.2.6): a 100 without
 * a tag and a 486 with one; both validate and echo the request. */
Test(rfc3665, every_request_can_be_answered)
{
	static struct spl_sipmsg req, r;
	static char out[16384];
	unsigned answered = 0;
	for (unsigned i = 0; i < rfc.nmsgs; i++) {
		struct spl_sipmsg_verdict v;
		spl_sipmsg_validate(&req, spl_sipmsg_scan(&req, rfc.msgs[i].buf, rfc.msgs[i].len), &v);
		if (!req.request || v.kind != SPL_SIPMSG_OK || req.method_id == SPL_SIP_METHOD_ACK)
			continue;
		for (int k = 0; k < 2; k++) {
			uint16_t status = k ? 486 : 100;
			struct spl_str tag = k ? SPL_STR_LIT("spl1") : SPL_STR_NULL;
			int n = spl_sipmsg_build_response(&req, status, NULL, tag, NULL, 0, out, sizeof(out));
			cr_assert_gt(n, 0, "RFC line %u", rfc.msgs[i].line);
			spl_sipmsg_validate(&r, spl_sipmsg_scan(&r, out, (uint32_t)n), &v);
			cr_assert_eq(v.kind, SPL_SIPMSG_OK, "RFC line %u: %s\n%.*s", rfc.msgs[i].line,
				     spl_sipmsg_err_reason(v.err), n, out);
			cr_assert_eq(r.status, status);
			cr_assert_eq(r.via_total, req.via_total);
			for (uint16_t j = 0; j < r.nvias; j++)
				cr_assert(edit_check_same_unfolded(r.vias[j].raw, req.vias[j].raw),
					  "RFC line %u: via %u", rfc.msgs[i].line, j);
			cr_assert(edit_check_same_unfolded(r.from.raw, req.from.raw));
			cr_assert(edit_check_same(r.to.uri_str, req.to.uri_str));
			cr_assert(edit_check_same(r.call_id, req.call_id));
			cr_assert_eq(r.cseq.num, req.cseq.num);
			cr_assert(edit_check_same(r.cseq.method, req.cseq.method));
			if (req.to.tag.p)
				cr_assert(edit_check_same(r.to.tag, req.to.tag), "RFC line %u", rfc.msgs[i].line);
			else if (k)
				cr_assert(edit_check_same(r.to.tag, (struct spl_str)SPL_STR_LIT("spl1")));
			else
				cr_assert_null(r.to.tag.p);
		}
		answered++;
	}
	/* 89 requests: 32 ACKs and the malformed §3.10 F4 are not answered */
	cr_assert_eq(answered, RFC3665_REQUESTS - 32 - 1);
}
