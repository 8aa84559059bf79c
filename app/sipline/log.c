/* SPDX-License-Identifier: BSD-3-Clause */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const names[] = { "error", "warning", "notice", "info", "debug" };
static int level = SPL_LOG_INFO;

int spl_log_set_level(const char *name)
{
	for (int i = 0; i < 5; i++)
		if (strcmp(name, names[i]) == 0) {
			level = i;
			return 0;
		}
	return -1;
}

const char *spl_log_level_name(void) { return names[level]; }

void spl_log(enum spl_log_level lvl, const char *fmt, ...)
{
	if ((int)lvl > level)
		return;
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* syslog-style priority prefix: journald maps <N> to the level. */
	static const int prio[] = { 3, 4, 5, 6, 7 };
	fprintf(stderr, "<%d>%s sipline %s: ", prio[lvl], ts, names[lvl]);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}
