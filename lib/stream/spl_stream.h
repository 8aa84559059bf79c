/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/stream: SIP message framing on a byte stream (TCP, TLS) —
 * RFC 3261 §18.3 (Content-Length is mandatory on streams) and RFC 5626
 * §3.5.1 (CRLF keep-alives). doc/stream.md.
 *
 * One struct spl_stream per connection holds what is left of a message
 * that has not fully arrived. The caller reads into any buffer it likes
 * (typically one scratch buffer per thread), hands the bytes over with
 * spl_stream_feed() and drains events with spl_stream_next():
 *
 *     spl_stream_feed(s, buf, n, now);
 *     while ((k = spl_stream_next(s, &ev)) != SPL_STREAM_EV_NONE) {
 *         if (k == SPL_STREAM_EV_MSG)   deliver(ev.msg, ev.len);
 *         if (k == SPL_STREAM_EV_PING)  send(fd, "\r\n", 2);   // pong
 *         if (k == SPL_STREAM_EV_CLOSE) { close(fd); break; }
 *     }
 *
 * Copying: a message that lies whole inside the fed buffer is returned
 * as a slice of that buffer (no copy). Only a message cut by the end of a
 * read is copied, its head into the connection's buffer (capacity
 * max_msg, allocated once at create) and then just enough of the next
 * read to complete it; bytes after it are parsed in place again. So the
 * fed buffer must stay valid and unchanged until spl_stream_next()
 * returns SPL_STREAM_EV_NONE or _CLOSE.
 *
 * A message slice stays valid until the next spl_stream_next() or
 * spl_stream_feed() on the same stream.
 *
 * Nothing here allocates after create; nothing is locked: one stream is
 * used by one thread (the control thread).
 */
#ifndef SPL_STREAM_H
#define SPL_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum spl_stream_close {
#define SPL_STREAM_CLOSE(id, reason) SPL_STREAM_CLOSE_##id,
#include "spl_stream_close.def"
#undef SPL_STREAM_CLOSE
	SPL_STREAM_CLOSE__COUNT
};
const char *spl_stream_close_reason(enum spl_stream_close r);
const char *spl_stream_close_name(enum spl_stream_close r);   /* "OVERSIZE", ... */

/*
 * Counters. Each stream counts into its own copy and, when conf.total is
 * set, into that one too (e.g. one per control thread, summed by the
 * reader), so closed connections are not lost from the totals.
 */
struct spl_stream_stats {
	uint64_t messages;        /* framed messages delivered */
	uint64_t bytes;           /* bytes of delivered messages */
	uint64_t copied;          /* bytes of messages delivered from a connection buffer */
	uint64_t pings;           /* double CRLF received (pong owed) */
	uint64_t lone_crlf;       /* single CRLF between messages (pongs), skipped */
	uint64_t closes[SPL_STREAM_CLOSE__COUNT];  /* [NONE] unused */
};

struct spl_stream_conf {
	uint32_t max_msg;         /* largest message, start line .. end of body; 0: 65535 */
	uint64_t stall_ns;        /* a partial message older than this closes; 0: 32 s (64*T1) */
	struct spl_stream_stats *total;   /* optional shared counters */
};

#define SPL_STREAM_DEFAULT_MAX_MSG  65535u
#define SPL_STREAM_DEFAULT_STALL_NS (32ull * 1000000000ull)

enum spl_stream_ev {
	SPL_STREAM_EV_NONE = 0,   /* need more bytes */
	SPL_STREAM_EV_MSG,        /* one framed message */
	SPL_STREAM_EV_PING,       /* CRLFCRLF: send one CRLF back */
	SPL_STREAM_EV_CLOSE,      /* close the connection, .reason says why */
};

struct spl_stream_event {
	uint8_t kind;             /* enum spl_stream_ev */
	uint8_t reason;           /* CLOSE: enum spl_stream_close */
	uint8_t copied;           /* MSG: 1 when it came from the connection buffer */
	const char *msg;          /* MSG: first byte of the start line */
	uint32_t len;             /* MSG: through the end of the body */
	uint32_t body_off;        /* MSG: offset of the body in msg */
	uint32_t content_length;  /* MSG: == len - body_off */
};

struct spl_stream;

/* NULL + errno (EINVAL, ENOMEM). */
struct spl_stream *spl_stream_create(const struct spl_stream_conf *conf);
void spl_stream_free(struct spl_stream *s);
/* Forget all state and reopen, for reuse on a new connection; the
 * per-stream counters are kept. */
void spl_stream_reset(struct spl_stream *s);

/*
 * Hand over the next bytes read from the connection. `now` is the
 * caller's clock in ns (it times stalled messages). Bytes of a previous
 * feed that spl_stream_next() has not reached yet are dropped: drain
 * first. Returns 0, or -EPIPE when the stream is already closed.
 */
int spl_stream_feed(struct spl_stream *s, const char *data, uint32_t len, uint64_t now);

/* The next event; fills *ev and returns ev->kind. A CLOSE is sticky. */
enum spl_stream_ev spl_stream_next(struct spl_stream *s, struct spl_stream_event *ev);

/*
 * Timer check for a connection that sends nothing more: returns
 * SPL_STREAM_CLOSE_STALL (and closes the stream) when a partial message
 * has been waiting longer than stall_ns, else SPL_STREAM_CLOSE_NONE.
 * spl_stream_feed() does the same check.
 */
enum spl_stream_close spl_stream_check(struct spl_stream *s, uint64_t now);

/* The peer closed its side: SPL_STREAM_CLOSE_EOF_PARTIAL (counted) when
 * part of a message was pending, else SPL_STREAM_CLOSE_NONE. */
enum spl_stream_close spl_stream_eof(struct spl_stream *s);

/* State for the control socket ("conn list"). */
bool spl_stream_closed(const struct spl_stream *s, enum spl_stream_close *why);
uint32_t spl_stream_pending(const struct spl_stream *s);   /* bytes of a partial message */
const struct spl_stream_stats *spl_stream_stats(const struct spl_stream *s);

#ifdef __cplusplus
}
#endif
#endif /* SPL_STREAM_H */
