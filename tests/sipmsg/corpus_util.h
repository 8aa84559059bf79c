/* SPDX-License-Identifier: BSD-3-Clause */
/* Test helpers: the shared corpus (read from ../shared, never copied) and
 * buffers that end flush against a PROT_NONE guard page. */
#ifndef CORPUS_UTIL_H
#define CORPUS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* $SPL_SHARED_DIR, or ../shared relative to the working directory. */
const char *corpus_shared_dir(void);

/* Reads SHARED/rel into a malloc'd buffer; aborts the test on failure. */
char *corpus_read(const char *rel, uint32_t *len);

/* A copy of [p, p+len) whose last byte is the last byte before a
 * PROT_NONE page: any read past the end faults. Free with guard_free. */
char *guard_copy(const char *p, uint32_t len);
void guard_free(char *p, uint32_t len);

/* Lines of SHARED/corpus/NAME/INDEX.tsv after the header: calls fn with
 * the file name and the expected_verdict column. Returns the row count. */
int corpus_index(const char *name, void (*fn)(const char *file, const char *verdict, void *arg),
		 void *arg);

#endif
