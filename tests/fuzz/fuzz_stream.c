/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for lib/stream: RFC 3261 §18.3 framing of bytes that a
 * TCP or TLS peer sends, the input the control thread gets from anyone.
 *
 * The same bytes are framed twice: fed whole, and fed in pieces whose
 * sizes come from a generator seeded by the input (1 byte up to a few
 * KB). Framing must not depend on how the bytes were segmented, so the two
 * runs must deliver the same messages (same bytes, same body offsets), the
 * same number of pings, and end the same way (open, or closed for the same
 * reason). Each delivered message is also scanned by lib/sipmsg, as the
 * shards will. Every fed buffer is malloc'd to its exact size, so
 * AddressSanitizer reports a read past what the peer sent.
 *
 * Build and run: tests/fuzz/run.sh [SECONDS] (runs this one too).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spl_sipmsg.h"
#include "spl_stream.h"

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_stream: contract violated: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                     \
			abort();                                                         \
		}                                                                        \
	} while (0)

#define MAX_MSG 2048   /* small, so that the oversize path is reached */
#define MAX_EVENTS 4096

struct outcome {
	unsigned nmsg, pings;
	uint64_t digest;          /* over every message's bytes and body offset */
	int closed;               /* enum spl_stream_close, NONE when open */
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static void drain(struct spl_stream *s, struct outcome *o)
{
	static struct spl_sipmsg m;
	struct spl_stream_event ev;
	for (unsigned guard = 0; guard < MAX_EVENTS; guard++) {
		enum spl_stream_ev k = spl_stream_next(s, &ev);
		if (k == SPL_STREAM_EV_NONE)
			return;
		if (k == SPL_STREAM_EV_PING) {
			o->pings++;
			continue;
		}
		if (k == SPL_STREAM_EV_CLOSE) {
			CHECK(ev.reason != SPL_STREAM_CLOSE_NONE);
			o->closed = ev.reason;
			/* Sticky: nothing comes after a close. */
			CHECK(spl_stream_next(s, &ev) == SPL_STREAM_EV_CLOSE);
			return;
		}
		CHECK(k == SPL_STREAM_EV_MSG);
		CHECK(ev.len > 0 && ev.len <= MAX_MSG);
		CHECK(ev.body_off <= ev.len);
		CHECK(ev.content_length == ev.len - ev.body_off);
		/* Copy to an exact-size buffer: the shards get it so. */
		char *copy = malloc(ev.len);
		CHECK(copy != NULL);
		memcpy(copy, ev.msg, ev.len);
		(void)spl_sipmsg_scan(&m, copy, ev.len);
		free(copy);
		o->nmsg++;
		o->digest = mix(o->digest, ev.msg, ev.len);
		o->digest = mix(o->digest, &ev.body_off, sizeof(ev.body_off));
	}
	CHECK(!"an event loop that does not end");
}

static void feed(struct spl_stream *s, const uint8_t *data, size_t len, struct outcome *o)
{
	char *buf = malloc(len ? len : 1);
	CHECK(buf != NULL);
	memcpy(buf, data, len);
	if (spl_stream_feed(s, buf, (uint32_t)len, 0) == 0)
		drain(s, o);
	free(buf);
}

static void frame(const uint8_t *data, size_t size, uint64_t seed, struct outcome *o)
{
	struct spl_stream_conf conf = { .max_msg = MAX_MSG, .stall_ns = 0 };
	struct spl_stream *s = spl_stream_create(&conf);
	CHECK(s != NULL);
	memset(o, 0, sizeof(*o));
	size_t off = 0;
	while (off < size && !o->closed) {
		size_t n = size - off;
		if (seed) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			/* Mostly small pieces, sometimes large ones. */
			size_t piece = (seed & 7) == 0 ? 1 + (seed >> 8) % 4096 : 1 + (seed >> 8) % 16;
			if (piece < n)
				n = piece;
		}
		feed(s, data + off, n, o);
		off += n;
	}
	if (!o->closed) {
		uint32_t pending = spl_stream_pending(s);
		enum spl_stream_close why = spl_stream_eof(s);
		CHECK((why == SPL_STREAM_CLOSE_NONE) == (pending == 0));
		o->closed = why;
	}
	spl_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;
	frame(data, size, 0, &whole);
	uint64_t seed = mix(1469598103934665603ull, data, size < 16 ? size : 16) | 1;
	frame(data, size, seed, &pieces);
	CHECK(whole.nmsg == pieces.nmsg);
	CHECK(whole.digest == pieces.digest);
	CHECK(whole.pings == pieces.pings);
	CHECK(whole.closed == pieces.closed);
	return 0;
}
