/* SPDX-License-Identifier: BSD-3-Clause */
/* sipline-msg: private interface between the CLI and its JSON renderer. */
#ifndef SIPLINE_MSG_H
#define SIPLINE_MSG_H

#include <stdint.h>
#include <stdio.h>

#include "spl_sipmsg.h"

/* Outcome of one file, as printed on the text line. */
struct msg_result {
	const char *file;
	const char *buf;          /* the datagram */
	uint32_t size;            /* bytes read (capped) */
	int64_t file_size;        /* from fstat, -1 when unknown */
	bool too_large;           /* > 65535 bytes: not scanned */
	enum spl_sipmsg_err scan_err;
	struct spl_sipmsg_verdict verdict;
};

/* Prints one compact JSON document (one line) describing the file. `m` is
 * NULL when the datagram was too large to be scanned. Returns 0, or -1 when
 * the document could not be built (out of memory). */
int msg_json_print(FILE *out, const struct msg_result *r, const struct spl_sipmsg *m);

/* Name of an error enumerator ("BAD_VIA"), "?" when out of range. */
const char *msg_err_name(unsigned err);

#endif
