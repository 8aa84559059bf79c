/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for the element-grammar tests (test_uri.c, test_uri_cmp.c,
 * test_via.c, test_nameaddr.c, test_fields.c).
 *
 * Every input is copied so that its last byte sits right before a
 * PROT_NONE page: a parser that reads one byte past p+len faults instead
 * of passing by luck. A few slots rotate so a test can hold several
 * inputs at once (URI comparison, lists). Criterion forks per test, so the
 * static slots are per test.
 */
#ifndef ELEM_GUARD_H
#define ELEM_GUARD_H

#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spl_sipmsg.h"

#define EG_SLOTS 8
#define EG_CAP (64 * 1024)

static inline const char *eg_copy(const char *s, size_t n)
{
	static char *slot[EG_SLOTS];
	static unsigned next;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	unsigned i = next++ % EG_SLOTS;

	if (slot[i] == NULL) {
		char *m = mmap(NULL, EG_CAP + pg, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		cr_assert(m != MAP_FAILED);
		cr_assert(mprotect(m + EG_CAP, pg, PROT_NONE) == 0);
		slot[i] = m;
	}
	cr_assert(n <= EG_CAP);
	char *dst = slot[i] + EG_CAP - n;
	memcpy(dst, s, n);
	return dst;
}

/* G("text"): a guarded copy of a C string; GN(lit) keeps embedded NULs. */
#define G(s) eg_copy((s), strlen(s))
#define GN(lit) eg_copy((lit), sizeof(lit) - 1)
#define GLEN(s) ((uint32_t)strlen(s))

static inline void eg_expect_str(struct spl_str s, const char *exp, const char *what,
				 const char *file, int line)
{
	if (exp == NULL) {
		cr_expect(s.p == NULL, "%s:%d: %s: expected absent, got '%.*s'", file, line,
			  what, (int)s.len, s.p ? s.p : "");
		return;
	}
	size_t n = strlen(exp);
	cr_expect(s.p != NULL && s.len == n && memcmp(s.p, exp, n) == 0,
		  "%s:%d: %s: expected '%s', got %s'%.*s'", file, line, what, exp,
		  s.p ? "" : "(absent) ", (int)s.len, s.p ? s.p : "");
}

/* EXPECT_STR(slice, "expected") or EXPECT_STR(slice, NULL) for absent. */
#define EXPECT_STR(s, exp) eg_expect_str((s), (exp), #s, __FILE__, __LINE__)

#endif /* ELEM_GUARD_H */
