/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared fixture for the registrar tests: a location service, one
 * registrar with its timer wheel, a virtual clock, and helpers that turn
 * SIP text into parsed messages and responses. */
#ifndef REG_UTIL_H
#define REG_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "spl_registrar.h"
#include "spl_sipmsg.h"
#include "spl_timerwheel.h"

/* A realistic wall-clock origin (2024) in ns, so journal times look real. */
#define T0 (UINT64_C(1700000000) * SPL_NS_PER_S)
#define SEC(x) ((uint64_t)(x) * SPL_NS_PER_S)

struct fx_opts {
	unsigned nshards;
	unsigned shard;
	uint32_t max_aors;
	uint32_t max_bindings;
	uint32_t record_bytes;
	uint32_t pool_records;
	bool forward_foreign;
	bool with_auth;
	uint32_t nonce_lifetime_s;
	uint32_t nc_table;
	const char *journal_path;   /* open a journal when set */
	uint32_t jnl_buf_bytes, jnl_nbufs;
};

struct fx {
	struct spl_location *loc;
	struct spl_timerwheel *tw;
	struct spl_registrar *reg;
	struct spl_auth *auth;
	struct spl_auth_creds *creds;
	struct spl_journal *jnl;
	struct spl_journal_report rep;
	uint64_t now;
	int reader;
};

struct rsp {
	int rc;
	struct spl_registrar_result res;
	char req[4096];
	struct spl_sipmsg m;
	char out[16384];
};

void fx_init(struct fx *f, const struct fx_opts *o);
void fx_fini(struct fx *f);
/* Advance the virtual clock and the wheel (firing registrar timers). */
void fx_advance(struct fx *f, uint64_t ns);
/* Reader quiescent point (lets replaced records be freed). */
void fx_quiesce(struct fx *f);

/* "REGISTER sip:<domain> ..." for <user>@<domain> with the given Call-ID,
 * CSeq and extra header lines (each ending in \r\n). */
int mk_register(char *buf, size_t cap, const char *domain, const char *user,
		const char *callid, unsigned cseq, const char *extra);

/* Scan, validate (must pass) and process text; fills r. */
void do_process(struct fx *f, const char *text, struct rsp *r);
/* Convenience: REGISTER for alice@example.com. */
void do_reg(struct fx *f, const char *callid, unsigned cseq, const char *extra, struct rsp *r);

/* Number of header lines in the response starting with name ("Contact:"). */
unsigned count_lines(const char *resp, const char *name);
/* The value of the n-th (0-based) header line named name, copied into buf. */
bool line_value(const char *resp, const char *name, unsigned n, char *buf, size_t cap);

/* The AOR canonical text for a URI string. */
struct spl_str aor_of(const char *uri, char *buf, size_t cap);
int lookup(struct fx *f, const char *aor, struct spl_binding *b, unsigned max);

#endif
