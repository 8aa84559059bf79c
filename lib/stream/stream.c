/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stream framing. The parse position is either in the caller's buffer
 * (direct: the connection buffer is empty) or in the connection buffer
 * (a message was cut by the end of a read). See spl_stream.h for the
 * copy rules and doc/stream.md for the reasoning.
 */
#include "spl_stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spl_sipmsg.h"

/* Keep-alive recogniser between messages (RFC 5626 §3.5.1): how much of
 * CR LF CR LF has been seen. */
enum { KA_IDLE = 0, KA_CR, KA_CRLF, KA_CRLFCR };

/* Bytes copied per step while the headers of a cut message are still
 * open: bounds what is copied past its end and then handed back. */
#define COPY_STEP 512u

struct spl_stream {
	/* input handed over by the last feed, parsed up to in_pos */
	const char *in;
	uint32_t in_len;
	uint32_t in_pos;

	/* connection buffer: the head of a cut message, always starting at
	 * its first byte (keep-alive CRLFs are never stored) */
	char *buf;
	uint32_t len;
	uint32_t cap;             /* == max_msg */

	/* framing of the message at the parse position, kept across feeds
	 * so that a message arriving a byte at a time is searched once */
	uint32_t hdr_scan;        /* the empty-line search resumes here */
	uint32_t msg_len;         /* 0: headers not complete yet */
	uint32_t body_off;

	uint8_t ka;               /* KA_* */
	uint8_t closed;           /* enum spl_stream_close; NONE: open */
	uint64_t partial_since;   /* ns when the pending message began */
	uint64_t stall_ns;

	struct spl_stream_stats st;
	struct spl_stream_stats *total;
};

static const char *const close_reason[] = {
#define SPL_STREAM_CLOSE(id, reason) reason,
#include "spl_stream_close.def"
#undef SPL_STREAM_CLOSE
};
static const char *const close_name[] = {
#define SPL_STREAM_CLOSE(id, reason) #id,
#include "spl_stream_close.def"
#undef SPL_STREAM_CLOSE
};

const char *spl_stream_close_reason(enum spl_stream_close r)
{
	return (unsigned)r < SPL_STREAM_CLOSE__COUNT ? close_reason[r] : "?";
}

const char *spl_stream_close_name(enum spl_stream_close r)
{
	return (unsigned)r < SPL_STREAM_CLOSE__COUNT ? close_name[r] : "?";
}

#define COUNT(s, field, n) do { (s)->st.field += (n); \
	if ((s)->total) (s)->total->field += (n); } while (0)

struct spl_stream *spl_stream_create(const struct spl_stream_conf *conf)
{
	uint32_t max = conf && conf->max_msg ? conf->max_msg : SPL_STREAM_DEFAULT_MAX_MSG;
	if (max < 16) {
		errno = EINVAL;
		return NULL;
	}
	struct spl_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->buf = malloc(max);
	if (!s->buf) {
		free(s);
		return NULL;
	}
	s->cap = max;
	s->stall_ns = conf && conf->stall_ns ? conf->stall_ns : SPL_STREAM_DEFAULT_STALL_NS;
	s->total = conf ? conf->total : NULL;
	return s;
}

void spl_stream_free(struct spl_stream *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s);
}

void spl_stream_reset(struct spl_stream *s)
{
	s->in = NULL;
	s->in_len = s->in_pos = 0;
	s->len = 0;
	s->hdr_scan = s->msg_len = s->body_off = 0;
	s->ka = KA_IDLE;
	s->closed = SPL_STREAM_CLOSE_NONE;
	s->partial_since = 0;
}

static enum spl_stream_ev do_close(struct spl_stream *s, enum spl_stream_close why,
				   struct spl_stream_event *ev)
{
	if (!s->closed) {
		s->closed = (uint8_t)why;
		COUNT(s, closes[why], 1);
	}
	s->len = 0;
	s->in_pos = s->in_len;
	*ev = (struct spl_stream_event){
		.kind = SPL_STREAM_EV_CLOSE,
		.reason = s->closed == SPL_STREAM_CLOSE__COUNT ? SPL_STREAM_CLOSE_NONE : s->closed,
	};
	return SPL_STREAM_EV_CLOSE;
}

int spl_stream_feed(struct spl_stream *s, const char *data, uint32_t len, uint64_t now)
{
	if (s->closed)
		return -EPIPE;
	s->in = data;
	s->in_len = len;
	s->in_pos = 0;
	if (spl_stream_check(s, now) != SPL_STREAM_CLOSE_NONE)
		return -EPIPE;
	if (s->len == 0)
		s->partial_since = now;   /* a message cut by this read began now */
	return 0;
}

enum spl_stream_close spl_stream_check(struct spl_stream *s, uint64_t now)
{
	if (s->closed)
		return s->closed == SPL_STREAM_CLOSE__COUNT ? SPL_STREAM_CLOSE_NONE
							    : (enum spl_stream_close)s->closed;
	if (s->len > 0 && now - s->partial_since > s->stall_ns) {
		struct spl_stream_event ev;
		do_close(s, SPL_STREAM_CLOSE_STALL, &ev);
		return SPL_STREAM_CLOSE_STALL;
	}
	return SPL_STREAM_CLOSE_NONE;
}

enum spl_stream_close spl_stream_eof(struct spl_stream *s)
{
	if (s->closed)
		return SPL_STREAM_CLOSE_NONE;
	bool partial = s->len > 0 || s->in_pos < s->in_len;
	struct spl_stream_event ev;
	if (partial) {
		do_close(s, SPL_STREAM_CLOSE_EOF_PARTIAL, &ev);
		return SPL_STREAM_CLOSE_EOF_PARTIAL;
	}
	s->closed = SPL_STREAM_CLOSE__COUNT;   /* closed, not counted as a fault */
	return SPL_STREAM_CLOSE_NONE;
}

bool spl_stream_closed(const struct spl_stream *s, enum spl_stream_close *why)
{
	if (why)
		*why = s->closed == SPL_STREAM_CLOSE__COUNT ? SPL_STREAM_CLOSE_NONE
							  : (enum spl_stream_close)s->closed;
	return s->closed != SPL_STREAM_CLOSE_NONE;
}

uint32_t spl_stream_pending(const struct spl_stream *s) { return s->len; }
const struct spl_stream_stats *spl_stream_stats(const struct spl_stream *s) { return &s->st; }

/* Framing results. */
enum { F_MORE = 0, F_DONE, F_CLOSE };

/*
 * Frame the message that starts at p[0] (never a CR or LF) with n bytes
 * available. Remembers progress in s->hdr_scan / msg_len so a growing
 * buffer is searched once. On F_CLOSE *why is set.
 */
static int frame(struct spl_stream *s, const char *p, uint32_t n, enum spl_stream_close *why)
{
	if (s->msg_len == 0) {
		/* The empty line: LF followed by LF or CR LF (bare LF line ends
		 * are tolerated as lib/sipmsg tolerates them). */
		uint32_t i = s->hdr_scan, hdr_len = 0;
		while (i < n) {
			const char *nl = memchr(p + i, '\n', n - i);
			if (!nl) {
				i = n;
				break;
			}
			i = (uint32_t)(nl - p);
			if (i + 1 >= n)
				break;  /* need the next byte */
			if (p[i + 1] == '\n') {
				hdr_len = i + 2;
				break;
			}
			if (p[i + 1] == '\r') {
				if (i + 2 >= n)
					break;
				if (p[i + 2] == '\n') {
					hdr_len = i + 3;
					break;
				}
			}
			i++;
		}
		if (hdr_len == 0) {
			s->hdr_scan = i < n ? i : n;
			if (n >= s->cap) {
				*why = SPL_STREAM_CLOSE_OVERSIZE;
				return F_CLOSE;
			}
			return F_MORE;
		}
		if (hdr_len > s->cap) {
			*why = SPL_STREAM_CLOSE_OVERSIZE;
			return F_CLOSE;
		}
		/* The header section alone: scan reports CL_TOO_BIG for any
		 * body, which is expected here; the value is what we need. */
		struct spl_sipmsg m;
		enum spl_sipmsg_err err = spl_sipmsg_scan(&m, p, hdr_len);
		if (err == SPL_SIPMSG_E_TOO_MANY_HDRS) {
			*why = SPL_STREAM_CLOSE_TOO_MANY_HDRS;
			return F_CLOSE;
		}
		if (m.body_off != hdr_len) {  /* start line refused before the headers */
			*why = SPL_STREAM_CLOSE_START_LINE;
			return F_CLOSE;
		}
		if (err == SPL_SIPMSG_E_CL_BAD || err == SPL_SIPMSG_E_CL_MULTI ||
		    (!m.has_content_length && m.first[SPL_SIP_HDR_CONTENT_LENGTH] != SPL_SIPMSG_NONE)) {
			*why = SPL_STREAM_CLOSE_BAD_CL;
			return F_CLOSE;
		}
		if (!m.has_content_length) {
			*why = SPL_STREAM_CLOSE_NO_CL;
			return F_CLOSE;
		}
		/* Other faults (a bad Via, a folded start line...) leave the
		 * framing intact: the message is delivered and the consumer's
		 * validation answers it (400), as over UDP. */
		if ((uint64_t)hdr_len + m.content_length > s->cap) {
			*why = SPL_STREAM_CLOSE_OVERSIZE;
			return F_CLOSE;
		}
		s->body_off = hdr_len;
		s->msg_len = hdr_len + m.content_length;
	}
	return n >= s->msg_len ? F_DONE : F_MORE;
}

static enum spl_stream_ev emit(struct spl_stream *s, const char *p, bool copied,
			       struct spl_stream_event *ev)
{
	*ev = (struct spl_stream_event){
		.kind = SPL_STREAM_EV_MSG,
		.copied = copied,
		.msg = p,
		.len = s->msg_len,
		.body_off = s->body_off,
		.content_length = s->msg_len - s->body_off,
	};
	COUNT(s, messages, 1);
	COUNT(s, bytes, s->msg_len);
	s->hdr_scan = s->msg_len = s->body_off = 0;
	return SPL_STREAM_EV_MSG;
}

/*
 * Between messages: consume CR/LF bytes. Returns true with a PING when
 * CRLFCRLF completes; leaves in_pos at the first byte of a message or at
 * the end of the input.
 */
static bool keepalive(struct spl_stream *s)
{
	while (s->in_pos < s->in_len) {
		char c = s->in[s->in_pos];
		if (c != '\r' && c != '\n') {
			if (s->ka >= KA_CRLF)
				COUNT(s, lone_crlf, 1);
			s->ka = KA_IDLE;
			return false;
		}
		s->in_pos++;
		switch (s->ka) {
		case KA_IDLE:
			s->ka = c == '\r' ? KA_CR : KA_IDLE;
			break;
		case KA_CR:
			s->ka = c == '\n' ? KA_CRLF : KA_CR;
			break;
		case KA_CRLF:
			if (c == '\r') {
				s->ka = KA_CRLFCR;
			} else {
				COUNT(s, lone_crlf, 1);
				s->ka = KA_IDLE;
			}
			break;
		case KA_CRLFCR:
			if (c == '\n') {
				s->ka = KA_IDLE;
				COUNT(s, pings, 1);
				return true;
			}
			COUNT(s, lone_crlf, 1);
			s->ka = KA_CR;
			break;
		}
	}
	return false;
}

enum spl_stream_ev spl_stream_next(struct spl_stream *s, struct spl_stream_event *ev)
{
	enum spl_stream_close why = SPL_STREAM_CLOSE_NONE;
	if (s->closed)
		return do_close(s, (enum spl_stream_close)s->closed, ev);

	if (s->len > 0) {
		/* Complete the cut message from the new input: while its
		 * headers are open, copy a small step at a time; once it is
		 * framed, copy exactly the rest. What overshoots its end (at
		 * most one step) is handed back to the direct path. */
		for (;;) {
			uint32_t n = s->in_len - s->in_pos;
			uint32_t want = s->msg_len ? s->msg_len - s->len : COPY_STEP;
			if (n > want)
				n = want;
			if (n > s->cap - s->len)
				n = s->cap - s->len;
			if (n == 0) {
				if (s->len == s->cap)
					return do_close(s, SPL_STREAM_CLOSE_OVERSIZE, ev);
				*ev = (struct spl_stream_event){ .kind = SPL_STREAM_EV_NONE };
				return SPL_STREAM_EV_NONE;
			}
			memcpy(s->buf + s->len, s->in + s->in_pos, n);
			s->len += n;
			s->in_pos += n;
			int r = frame(s, s->buf, s->len, &why);
			if (r == F_CLOSE)
				return do_close(s, why, ev);
			if (r == F_DONE)
				break;
		}
		uint32_t extra = s->len - s->msg_len;
		s->in_pos -= extra;
		COUNT(s, copied, s->msg_len);
		s->len = 0;
		return emit(s, s->buf, true, ev);
	}

	if (keepalive(s)) {
		*ev = (struct spl_stream_event){ .kind = SPL_STREAM_EV_PING };
		return SPL_STREAM_EV_PING;
	}
	uint32_t n = s->in_len - s->in_pos;
	if (n == 0) {
		*ev = (struct spl_stream_event){ .kind = SPL_STREAM_EV_NONE };
		return SPL_STREAM_EV_NONE;
	}
	const char *p = s->in + s->in_pos;
	int r = frame(s, p, n, &why);
	if (r == F_CLOSE)
		return do_close(s, why, ev);
	if (r == F_DONE) {
		s->in_pos += s->msg_len;
		return emit(s, p, false, ev);
	}
	/* Cut by the end of this read: keep the head (n < cap, or frame()
	 * would have closed for size). The stall clock runs from the feed
	 * that brought its first byte. */
	memcpy(s->buf, p, n);
	s->len = n;
	s->in_pos = s->in_len;
	*ev = (struct spl_stream_event){ .kind = SPL_STREAM_EV_NONE };
	return SPL_STREAM_EV_NONE;
}
