/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Append-only text builder for outgoing messages: memcpy of literals and
 * slices plus hand-rolled number formatting, because snprintf costs more
 * than the rest of a message build together. Overflow is sticky: the
 * builder stops writing and gb_len() reports -1.
 */
#ifndef SPL_GEN_BUF_H
#define SPL_GEN_BUF_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct gbuf {
	char *start, *p, *end;
	bool overflow;
};

static inline void gb_init(struct gbuf *b, char *out, uint32_t cap)
{
	b->start = b->p = out;
	b->end = out + cap;
	b->overflow = false;
}

static inline void gb_mem(struct gbuf *b, const void *s, uint32_t n)
{
	if (b->overflow || (uint32_t)(b->end - b->p) < n) {
		b->overflow = true;
		return;
	}
	memcpy(b->p, s, n);
	b->p += n;
}

#define gb_lit(b, s) gb_mem((b), (s), (uint32_t)sizeof(s) - 1)

static inline void gb_u32(struct gbuf *b, uint32_t v)
{
	char tmp[10];
	int n = 0;
	do {
		tmp[9 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	gb_mem(b, tmp + 10 - n, (uint32_t)n);
}

/* Exactly `digits` lower-case hex digits (most significant first). */
static inline void gb_hex(struct gbuf *b, uint64_t v, unsigned digits)
{
	static const char hx[] = "0123456789abcdef";
	char tmp[16];
	for (unsigned i = 0; i < digits; i++)
		tmp[digits - 1 - i] = hx[(v >> (4 * i)) & 15];
	gb_mem(b, tmp, digits);
}

static inline int gb_len(const struct gbuf *b)
{
	return b->overflow ? -1 : (int)(b->p - b->start);
}

#endif
