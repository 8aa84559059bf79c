/* SPDX-License-Identifier: BSD-3-Clause */
#include "corpus_util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const char *corpus_shared_dir(void)
{
	const char *d = getenv("SPL_SHARED_DIR");
	return d && *d ? d : "../shared";
}

char *corpus_read(const char *rel, uint32_t *len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", corpus_shared_dir(), rel);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	cr_assert(n >= 0 && n < (1 << 24));
	char *buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (uint32_t)n;
	return buf;
}

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static size_t guard_span(uint32_t len)
{
	size_t pg = page_size();
	return ((len + pg - 1) / pg) * pg + pg;
}

char *guard_copy(const char *p, uint32_t len)
{
	size_t span = guard_span(len), pg = page_size();
	char *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(base != MAP_FAILED);
	cr_assert_eq(mprotect(base + span - pg, pg, PROT_NONE), 0);
	char *start = base + span - pg - len;
	memcpy(start, p, len);
	return start;
}

void guard_free(char *p, uint32_t len)
{
	size_t span = guard_span(len), pg = page_size();
	char *base = p + len + pg - span;
	munmap(base, span);
}

int corpus_index(const char *name, void (*fn)(const char *file, const char *verdict, void *arg),
		 void *arg)
{
	char rel[256];
	uint32_t len;
	snprintf(rel, sizeof(rel), "corpus/%s/INDEX.tsv", name);
	char *txt = corpus_read(rel, &len);
	int rows = 0;
	char *save = NULL;
	bool header = true;
	for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (header) { header = false; continue; }
		char *tab1 = strchr(line, '\t');
		if (!tab1) continue;
		char *tab2 = strchr(tab1 + 1, '\t');
		if (!tab2) continue;
		char *tab3 = strchr(tab2 + 1, '\t');
		*tab1 = '\0';
		if (tab3) *tab3 = '\0';
		fn(line, tab2 + 1, arg);
		rows++;
	}
	free(txt);
	return rows;
}
