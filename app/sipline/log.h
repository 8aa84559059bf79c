/* SPDX-License-Identifier: BSD-3-Clause */
/* Logging to stderr (journald or the container runtime collects it).
 * Control thread only: workers count, they do not log per packet. */
#ifndef SPL_APP_LOG_H
#define SPL_APP_LOG_H

enum spl_log_level { SPL_LOG_ERR = 0, SPL_LOG_WARNING, SPL_LOG_NOTICE, SPL_LOG_INFO, SPL_LOG_DEBUG };

/* Returns 0, or -1 when `name` is not error|warning|notice|info|debug. */
int spl_log_set_level(const char *name);
const char *spl_log_level_name(void);
void spl_log(enum spl_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
