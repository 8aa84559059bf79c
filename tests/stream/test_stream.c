/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/stream: framing over any split of the input, keep-alives, and every
 * reason a connection is closed. The corpus case feeds each RFC 4475 valid
 * message that carries a Content-Length one byte at a time and in random
 * cuts, and checks the framing equals the whole-buffer framing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_util.h"
#include "spl_stream.h"

#define NS 1000000000ull

/* What a run saw: events in order, message bytes concatenated. */
struct trace {
	unsigned n;
	uint8_t kind[256];
	uint8_t reason[256];
	uint32_t off[256];      /* into .bytes */
	uint32_t len[256];
	uint32_t body_off[256];
	char bytes[1 << 18];
	uint32_t used;
	unsigned copied_msgs;
};

static void drain(struct spl_stream *s, struct trace *t)
{
	struct spl_stream_event ev;
	enum spl_stream_ev k;
	while ((k = spl_stream_next(s, &ev)) != SPL_STREAM_EV_NONE) {
		cr_assert_lt(t->n, 256);
		t->kind[t->n] = (uint8_t)k;
		t->reason[t->n] = ev.reason;
		if (k == SPL_STREAM_EV_MSG) {
			cr_assert_leq(t->used + ev.len, sizeof(t->bytes));
			memcpy(t->bytes + t->used, ev.msg, ev.len);
			t->off[t->n] = t->used;
			t->len[t->n] = ev.len;
			t->body_off[t->n] = ev.body_off;
			cr_assert_eq(ev.body_off + ev.content_length, ev.len);
			t->used += ev.len;
			t->copied_msgs += ev.copied;
		}
		t->n++;
		if (k == SPL_STREAM_EV_CLOSE)
			return;
	}
}

/* Feed `data` cut at the given chunk sizes (cycled; 0 = whole). Each
 * chunk is fed from a fresh heap copy that is freed after draining, so a
 * slice kept past its lifetime shows up under ASan. */
static void run(const struct spl_stream_conf *conf, const char *data, uint32_t len,
		const uint32_t *cuts, unsigned ncuts, struct trace *t, struct spl_stream_stats *st)
{
	struct spl_stream *s = spl_stream_create(conf);
	cr_assert_not_null(s);
	memset(t, 0, sizeof(*t));
	uint32_t pos = 0;
	unsigned ci = 0;
	while (pos < len) {
		uint32_t n = ncuts && cuts[ci % ncuts] ? cuts[ci % ncuts] : len - pos;
		ci++;
		if (n > len - pos)
			n = len - pos;
		char *chunk = malloc(n);
		memcpy(chunk, data + pos, n);
		if (spl_stream_feed(s, chunk, n, 0) == 0)
			drain(s, t);
		free(chunk);
		pos += n;
		if (spl_stream_closed(s, NULL))
			break;
	}
	if (st)
		*st = *spl_stream_stats(s);
	spl_stream_free(s);
}

static void same_trace(const struct trace *a, const struct trace *b, const char *what)
{
	cr_assert_eq(a->n, b->n, "%s: %u vs %u events", what, a->n, b->n);
	for (unsigned i = 0; i < a->n; i++) {
		cr_assert_eq(a->kind[i], b->kind[i], "%s: event %u", what, i);
		cr_assert_eq(a->reason[i], b->reason[i], "%s: event %u", what, i);
		cr_assert_eq(a->len[i], b->len[i], "%s: event %u", what, i);
		cr_assert_eq(a->body_off[i], b->body_off[i], "%s: event %u", what, i);
	}
	cr_assert_eq(a->used, b->used);
	cr_assert(memcmp(a->bytes, b->bytes, a->used) == 0, "%s: message bytes differ", what);
}

static const char INV[] =
	"INVITE sip:bob@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK776asdhds\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:bob@example.com>\r\n"
	"From: <sip:alice@example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 19\r\n"
	"\r\n"
	"v=0\r\n\r\no=x\r\n\r\ns=-\r\n";   /* 19 bytes, with CRLFCRLF inside */

static const char OPT[] =
	"OPTIONS sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKopt1\r\n"
	"To: <sip:example.com>\r\n"
	"From: <sip:alice@example.com>;tag=x\r\n"
	"Call-ID: opt1\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"l: 0\r\n"
	"\r\n";

static const char RESP[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKopt1\r\n"
	"To: <sip:example.com>;tag=9\r\n"
	"From: <sip:alice@example.com>;tag=x\r\n"
	"Call-ID: opt1\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

Test(stream, body_with_crlfcrlf_in_one_read)
{
	struct trace t;
	run(NULL, INV, sizeof(INV) - 1, NULL, 0, &t, NULL);
	cr_assert_eq(t.n, 1);
	cr_assert_eq(t.kind[0], SPL_STREAM_EV_MSG);
	cr_assert_eq(t.len[0], sizeof(INV) - 1);
	cr_assert_eq(t.len[0] - t.body_off[0], 19);
	cr_assert_eq(t.copied_msgs, 0, "a whole message in one read is not copied");
}

Test(stream, split_across_many_segments)
{
	struct trace whole, t;
	run(NULL, INV, sizeof(INV) - 1, NULL, 0, &whole, NULL);
	static const uint32_t cuts[][4] = {
		{ 1 }, { 2 }, { 3, 7 }, { 13, 1, 5 }, { 40, 1 }, { 100, 50 }, { 330, 1 },
	};
	for (unsigned i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		unsigned nc = 0;
		while (nc < 4 && cuts[i][nc]) nc++;
		struct spl_stream_stats st;
		run(NULL, INV, sizeof(INV) - 1, cuts[i], nc, &t, &st);
		same_trace(&whole, &t, "split");
		cr_assert_eq(st.messages, 1);
	}
}

Test(stream, several_messages_in_one_segment)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%s%s%s%s", OPT, INV, RESP, OPT);
	struct trace t;
	struct spl_stream_stats st;
	run(NULL, buf, (uint32_t)n, NULL, 0, &t, &st);
	cr_assert_eq(t.n, 4);
	uint32_t lens[4] = { sizeof(OPT) - 1, sizeof(INV) - 1, sizeof(RESP) - 1, sizeof(OPT) - 1 };
	uint32_t off = 0;
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(t.kind[i], SPL_STREAM_EV_MSG);
		cr_assert_eq(t.len[i], lens[i]);
		cr_assert(memcmp(t.bytes + t.off[i], buf + off, lens[i]) == 0);
		off += lens[i];
	}
	cr_assert_eq(t.copied_msgs, 0);
	cr_assert_eq(st.copied, 0);
	cr_assert_eq(st.messages, 4);
	cr_assert_eq(st.bytes, (uint64_t)n);

	/* Cut in the middle of the second: only that one is copied, and only
	 * the bytes up to its end. */
	uint32_t cut = lens[0] + 100;
	uint32_t cuts[2] = { cut, (uint32_t)n - cut };
	run(NULL, buf, (uint32_t)n, cuts, 2, &t, &st);
	cr_assert_eq(t.n, 4);
	cr_assert_eq(t.copied_msgs, 1);
	cr_assert_eq(st.copied, lens[1]);
}

Test(stream, ping_pong_and_leading_crlf)
{
	char buf[4096];
	/* ping, message, lone CRLF (a pong), message, ping, ping */
	int n = snprintf(buf, sizeof(buf), "\r\n\r\n%s\r\n%s\r\n\r\n\r\n\r\n", OPT, RESP);
	struct trace whole, t;
	struct spl_stream_stats st;
	run(NULL, buf, (uint32_t)n, NULL, 0, &whole, &st);
	cr_assert_eq(whole.n, 5);
	cr_assert_eq(whole.kind[0], SPL_STREAM_EV_PING);
	cr_assert_eq(whole.kind[1], SPL_STREAM_EV_MSG);
	cr_assert_eq(whole.kind[2], SPL_STREAM_EV_MSG);
	cr_assert_eq(whole.kind[3], SPL_STREAM_EV_PING);
	cr_assert_eq(whole.kind[4], SPL_STREAM_EV_PING);
	cr_assert_eq(st.pings, 3);
	cr_assert_eq(st.lone_crlf, 1);
	cr_assert_eq(whole.len[1], sizeof(OPT) - 1, "leading CRLFs are not part of the message");
	uint32_t one = 1;
	run(NULL, buf, (uint32_t)n, &one, 1, &t, &st);
	same_trace(&whole, &t, "byte at a time");
	cr_assert_eq(st.pings, 3);
	cr_assert_eq(st.lone_crlf, 1);

	/* several leading CRLFs that are not a clean ping pair */
	n = snprintf(buf, sizeof(buf), "\r\n\r\n\r\n%s", OPT);
	run(NULL, buf, (uint32_t)n, NULL, 0, &t, &st);
	cr_assert_eq(t.n, 2);
	cr_assert_eq(t.kind[0], SPL_STREAM_EV_PING);
	cr_assert_eq(t.kind[1], SPL_STREAM_EV_MSG);
	cr_assert_eq(st.lone_crlf, 1);
}

static void expect_close(const char *msg, const struct spl_stream_conf *conf,
			 enum spl_stream_close why)
{
	struct trace t;
	struct spl_stream_stats st;
	uint32_t len = (uint32_t)strlen(msg);
	for (uint32_t cut = 0; cut <= 1; cut++) {   /* whole, then a byte at a time */
		run(conf, msg, len, &cut, 1, &t, &st);
		cr_assert_geq(t.n, 1);
		cr_assert_eq(t.kind[t.n - 1], SPL_STREAM_EV_CLOSE, "expected a close (%s)",
			     spl_stream_close_name(why));
		cr_assert_eq(t.reason[t.n - 1], why, "got %s, want %s",
			     spl_stream_close_name(t.reason[t.n - 1]), spl_stream_close_name(why));
		cr_assert_eq(st.closes[why], 1);
	}
}

Test(stream, missing_content_length_closes)
{
	expect_close("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
		     "Call-ID: x\r\n\r\n", NULL, SPL_STREAM_CLOSE_NO_CL);
}

Test(stream, bad_content_length_closes)
{
	expect_close("OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\nContent-Length: -5\r\n\r\n", NULL,
		     SPL_STREAM_CLOSE_BAD_CL);
	expect_close("OPTIONS sip:a SIP/2.0\r\nContent-Length: abc\r\n\r\n", NULL,
		     SPL_STREAM_CLOSE_BAD_CL);
	expect_close("OPTIONS sip:a SIP/2.0\r\nContent-Length: 3\r\nl: 4\r\n\r\nabcd", NULL,
		     SPL_STREAM_CLOSE_BAD_CL);
	/* with another fault before it, still a framing fault */
	expect_close("OPTIONS sip:a SIP/2.0\r\n bad fold\r\nContent-Length: x1\r\n\r\n", NULL,
		     SPL_STREAM_CLOSE_BAD_CL);
}

Test(stream, unreadable_start_line_closes)
{
	expect_close("SIP/2.0 2000 OK\r\nContent-Length: 0\r\n\r\n", NULL,
		     SPL_STREAM_CLOSE_START_LINE);
	expect_close("\x01\x02garbage\r\n\r\n", NULL, SPL_STREAM_CLOSE_START_LINE);
}

Test(stream, other_faults_are_delivered)
{
	/* a bad Via is the consumer's 400, not a framing fault */
	const char *m = "OPTIONS sip:a SIP/2.0\r\nVia: nonsense\r\nContent-Length: 2\r\n\r\nhi";
	struct trace t;
	run(NULL, m, (uint32_t)strlen(m), NULL, 0, &t, NULL);
	cr_assert_eq(t.n, 1);
	cr_assert_eq(t.kind[0], SPL_STREAM_EV_MSG);
	cr_assert_eq(t.len[0], strlen(m));
}

Test(stream, oversize_closes)
{
	struct spl_stream_conf conf = { .max_msg = 256 };
	/* headers that never end */
	char big[1024];
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "OPTIONS sip:a SIP/2.0\r\nX: ", 26);
	big[sizeof(big) - 1] = '\0';
	expect_close(big, &conf, SPL_STREAM_CLOSE_OVERSIZE);
	/* a Content-Length beyond the limit closes before the body arrives */
	expect_close("OPTIONS sip:a SIP/2.0\r\nContent-Length: 1000\r\n\r\n", &conf,
		     SPL_STREAM_CLOSE_OVERSIZE);
	/* exactly at the limit is fine */
	char exact[257];
	const char *hdr = "OPTIONS sip:a SIP/2.0\r\nContent-Length: 210\r\n\r\n";
	size_t hl = strlen(hdr);
	cr_assert_eq(hl, 46);
	memcpy(exact, hdr, hl);
	memset(exact + hl, 'b', 256 - hl);
	exact[256] = '\0';
	struct trace t;
	uint32_t one = 1;
	run(&conf, exact, 256, &one, 1, &t, NULL);
	cr_assert_eq(t.n, 1);
	cr_assert_eq(t.kind[0], SPL_STREAM_EV_MSG);
	cr_assert_eq(t.len[0], 256);
}

Test(stream, stall_timeout_closes)
{
	struct spl_stream_conf conf = { .stall_ns = 5 * NS };
	struct spl_stream *s = spl_stream_create(&conf);
	struct spl_stream_event ev;
	uint32_t half = 60;
	cr_assert_eq(spl_stream_feed(s, INV, half, 100 * NS), 0);
	cr_assert_eq(spl_stream_next(s, &ev), SPL_STREAM_EV_NONE);
	cr_assert_eq(spl_stream_pending(s), half);
	cr_assert_eq(spl_stream_check(s, 104 * NS), SPL_STREAM_CLOSE_NONE);
	/* a trickle does not reset the clock: it runs from the first byte */
	cr_assert_eq(spl_stream_feed(s, INV + half, 1, 104 * NS), 0);
	cr_assert_eq(spl_stream_next(s, &ev), SPL_STREAM_EV_NONE);
	cr_assert_eq(spl_stream_check(s, 106 * NS), SPL_STREAM_CLOSE_STALL);
	cr_assert_eq(spl_stream_next(s, &ev), SPL_STREAM_EV_CLOSE);
	cr_assert_eq(ev.reason, SPL_STREAM_CLOSE_STALL);
	cr_assert_eq(spl_stream_feed(s, INV, 1, 107 * NS), -EPIPE);
	cr_assert_eq(spl_stream_stats(s)->closes[SPL_STREAM_CLOSE_STALL], 1);

	/* idle (nothing pending) never stalls; a pending keep-alive half
	 * is not a message */
	spl_stream_reset(s);
	cr_assert_eq(spl_stream_feed(s, "\r\n", 2, 0), 0);
	cr_assert_eq(spl_stream_next(s, &ev), SPL_STREAM_EV_NONE);
	cr_assert_eq(spl_stream_check(s, 1000 * NS), SPL_STREAM_CLOSE_NONE);
	/* the other half arrives much later: still a ping */
	cr_assert_eq(spl_stream_feed(s, "\r\n", 2, 1000 * NS), 0);
	cr_assert_eq(spl_stream_next(s, &ev), SPL_STREAM_EV_PING);

	/* the stall check at feed time */
	cr_assert_eq(spl_stream_feed(s, OPT, 10, 2000 * NS), 0);
	cr_assert_eq(spl_stream_next(s, &ev), SPL_STREAM_EV_NONE);
	cr_assert_eq(spl_stream_feed(s, OPT + 10, 10, 2006 * NS), -EPIPE);
	cr_assert_eq(spl_stream_next(s, &ev), SPL_STREAM_EV_CLOSE);
	cr_assert_eq(ev.reason, SPL_STREAM_CLOSE_STALL);
	spl_stream_free(s);
}

Test(stream, eof_mid_message)
{
	struct spl_stream *s = spl_stream_create(NULL);
	struct spl_stream_event ev;
	cr_assert_eq(spl_stream_feed(s, OPT, sizeof(OPT) - 1, 0), 0);
	cr_assert_eq(spl_stream_next(s, &ev), SPL_STREAM_EV_MSG);
	cr_assert_eq(spl_stream_next(s, &ev), SPL_STREAM_EV_NONE);
	cr_assert_eq(spl_stream_eof(s), SPL_STREAM_CLOSE_NONE);
	spl_stream_reset(s);
	cr_assert_eq(spl_stream_feed(s, OPT, 10, 0), 0);
	cr_assert_eq(spl_stream_next(s, &ev), SPL_STREAM_EV_NONE);
	cr_assert_eq(spl_stream_eof(s), SPL_STREAM_CLOSE_EOF_PARTIAL);
	spl_stream_free(s);
}

Test(stream, bare_lf_line_ends)
{
	const char *m = "OPTIONS sip:a SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nl: 4\n\n\r\n\r\nNEXT";
	struct trace whole, t;
	run(NULL, m, (uint32_t)strlen(m), NULL, 0, &whole, NULL);
	cr_assert_eq(whole.n, 1);
	cr_assert_eq(whole.len[0], strlen(m) - 4);  /* "NEXT" is pending */
	uint32_t one = 1;
	run(NULL, m, (uint32_t)strlen(m), &one, 1, &t, NULL);
	same_trace(&whole, &t, "bare LF");
}

Test(stream, names_and_reasons)
{
	cr_assert_str_eq(spl_stream_close_name(SPL_STREAM_CLOSE_NO_CL), "NO_CL");
	cr_assert_str_eq(spl_stream_close_reason(SPL_STREAM_CLOSE_NO_CL), "missing Content-Length");
	cr_assert_str_eq(spl_stream_close_name(SPL_STREAM_CLOSE__COUNT), "?");
}

/* ------------------------------------------------------------------ */
/* RFC 4475 valid messages: byte-at-a-time and random cuts == whole     */

static char corpus_all[1 << 17];
static uint32_t corpus_all_len;
static unsigned corpus_files;

static bool has_cl(const char *p, uint32_t len)
{
	/* a Content-Length (or l) header line in the header section */
	for (uint32_t i = 0; i + 2 < len; i++) {
		if (i > 0 && p[i - 1] != '\n')
			continue;
		if (p[i] == '\r' || p[i] == '\n')
			return false;   /* the empty line */
		if (strncasecmp(p + i, "content-length", 14) == 0 ||
		    ((p[i] == 'l' || p[i] == 'L') && (p[i + 1] == ':' || p[i + 1] == ' ')))
			return true;
	}
	return false;
}

static void one_file(const char *file, const char *verdict, void *arg)
{
	(void)arg;
	if (strncmp(verdict, "valid", 5) != 0)
		return;
	char rel[256];
	uint32_t len;
	snprintf(rel, sizeof(rel), "corpus/rfc4475/%s", file);
	char *buf = corpus_read(rel, &len);
	if (!has_cl(buf, len)) {
		free(buf);
		return;
	}
	static struct trace whole, t;
	struct spl_stream_conf conf = { .max_msg = 1 << 16 };
	run(&conf, buf, len, NULL, 0, &whole, NULL);
	cr_assert_geq(whole.n, 1, "%s", file);
	cr_assert_eq(whole.kind[0], SPL_STREAM_EV_MSG, "%s: %s", file,
		     spl_stream_close_name(whole.reason[0]));
	uint32_t one = 1;
	run(&conf, buf, len, &one, 1, &t, NULL);
	same_trace(&whole, &t, file);
	uint32_t cuts[5];
	srand(len);
	for (int round = 0; round < 20; round++) {
		for (unsigned i = 0; i < 5; i++)
			cuts[i] = 1 + (uint32_t)rand() % 97;
		run(&conf, buf, len, cuts, 5, &t, NULL);
		same_trace(&whole, &t, file);
	}
	/* the framed part, concatenated, makes a stream of many messages */
	if (whole.kind[0] == SPL_STREAM_EV_MSG &&
	    corpus_all_len + whole.len[0] + 4 < sizeof(corpus_all)) {
		memcpy(corpus_all + corpus_all_len, whole.bytes, whole.len[0]);
		corpus_all_len += whole.len[0];
		if (corpus_files % 3 == 0) {   /* with keep-alives between some */
			memcpy(corpus_all + corpus_all_len, "\r\n\r\n", 4);
			corpus_all_len += 4;
		}
		corpus_files++;
	}
	free(buf);
}

Test(stream_corpus, rfc4475_byte_at_a_time_equals_whole)
{
	corpus_all_len = 0;
	corpus_files = 0;
	corpus_index("rfc4475", one_file, NULL);
	cr_assert_geq(corpus_files, 20, "only %u valid corpus messages with Content-Length", corpus_files);

	static struct trace whole, t;
	struct spl_stream_conf conf = { .max_msg = 1 << 16 };
	struct spl_stream_stats st;
	run(&conf, corpus_all, corpus_all_len, NULL, 0, &whole, &st);
	cr_assert_eq(st.messages, corpus_files);
	cr_assert_eq(st.pings, (corpus_files + 2) / 3);
	cr_assert_eq(whole.used + 4 * st.pings, corpus_all_len);
	uint32_t one = 1;
	run(&conf, corpus_all, corpus_all_len, &one, 1, &t, NULL);
	same_trace(&whole, &t, "all, byte at a time");
	uint32_t cuts[] = { 1400, 3, 1, 700, 29 };
	run(&conf, corpus_all, corpus_all_len, cuts, 5, &t, NULL);
	same_trace(&whole, &t, "all, mixed cuts");
}
