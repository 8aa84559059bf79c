/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixture of suite proxy: one proxy (and its transaction table) over one
 * wheel driven by a virtual clock; a fake transport that records every
 * datagram (destination, time, text) and can fail sends; refcounted
 * buffers that catch leaks; table-driven hooks (locate, resolve,
 * authorize, register). Tests write SIP text with bare LF; the fixture
 * turns it into CRLF.
 *
 * Addresses: the proxy is 192.0.2.1:5060 (UDP, index 0; TCP, index 1) and
 * 198.51.100.1:5060 (UDP, index 2, a second interface); it serves
 * example.com. The UAC is 192.0.2.100:5060, UASes 192.0.2.2xx:5060.
 */
#ifndef PROXY_FIXTURE_H
#define PROXY_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spl_proxy.h"

#define MS UINT64_C(1000000)
#define SEC (1000 * MS)
#define T0 (1000 * SEC)

struct fx_sent {
	uint64_t at;                  /* relative to T0 */
	struct spl_txn_peer dst;
	char data[4096];
	uint32_t len;
};

struct fx_loc {
	const char *user;             /* AOR user in example.com */
	int n;                        /* bindings, or SPL_PROXY_LOCATE_UNKNOWN */
	struct spl_proxy_binding b[6];
};

struct fx_res {
	const char *name;
	unsigned n;
	int rc;                       /* 0, -ENOENT, -EAGAIN */
	struct spl_txn_peer peers[3];
};

enum fx_auth { FX_AUTH_CRED, FX_AUTH_FORBID };

struct fxp {
	struct spl_timerwheel *tw;
	struct spl_proxy *p;
	struct spl_proxy_conf conf;
	struct spl_proxy_addr addrs[3];
	const char *domains[2];
	uint64_t now;
	uint64_t t1;

	struct fx_sent sent[256];
	unsigned nsent;
	int fail_sends;               /* fail this many sends from now ... */
	int fail_port;                /* ... only to this port (0: any) */
	long live_bufs;
	unsigned allocs;
	int alloc_fail;               /* fail allocs after this many (-1: never) */

	struct fx_loc loc[8];
	unsigned nloc;
	struct fx_res res[8];
	uint8_t res_asked_transport;  /* transport the last resolve asked for (0: none) */
	unsigned nres;
	enum fx_auth auth;
	unsigned auth_calls;
	unsigned register_calls;
	bool register_decline;        /* the registrar hook answers 1: not mine */
	unsigned other_timers;
};
extern struct fxp fx;

/* Defaults into fx.conf and start; fxp_restart() after changing fx.conf. */
void fxp_setup(void);
void fxp_teardown(void);
void fxp_restart(void);

void fxp_run_to(uint64_t rel);
static inline uint64_t fxp_rel(void) { return fx.now - T0; }

struct spl_txn_peer fxp_peer(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port,
			     uint8_t transport);
#define FX_UAC fxp_peer(192, 0, 2, 100, 5060, SPL_SIP_TRANSPORT_UDP)
#define FX_UAS(n) fxp_peer(192, 0, 2, (n), 5060, SPL_SIP_TRANSPORT_UDP)

/* Table hooks. */
void fxp_locate(const char *user, int n);               /* n bindings follow via fxp_bind */
void fxp_bind(const char *user, const char *contact, uint16_t q, const char *path);
void fxp_resolve(const char *name, int rc, struct spl_txn_peer peer);
/* A name already in the table gets another answer (the asynchronous
 * resolver learnt it: -EAGAIN becomes 0 with the peers given before). */
void fxp_resolve_rc(const char *name, int rc);

/* Text: bare LF to CRLF, into a static rotating pool. */
const char *fxp_crlf(const char *lf);

/* Receive text from src (scan, validate, reject/recv). Returns the verdict kind. */
int fxp_rx(const char *lf_text, struct spl_txn_peer src);
/* Receive text already in CRLF form. */
int fxp_rx_raw(const char *text, uint32_t len, struct spl_txn_peer src);

/* Sent datagrams. */
const char *fxp_text(unsigned i);
struct spl_sipmsg *fxp_msg(unsigned i);                 /* parsed (P_PROXY), rotating pool */
/* First sent index >= from whose text starts with prefix; -1 when none. */
int fxp_find(unsigned from, const char *prefix);
int fxp_count(const char *prefix);                      /* sent datagrams starting with prefix */
bool fxp_has(unsigned i, const char *needle);           /* substring of the text */
/* Header value (first line with that name) of sent i, as a NUL-terminated copy. */
const char *fxp_hdr(unsigned i, const char *name);
/* Top Via branch of sent i. */
const char *fxp_branch(unsigned i);

/* A response to sent request i from its destination: status, To tag (NULL:
 * none), extra lines (LF-separated, may be NULL). Record-Route lines of the
 * request are echoed in 1xx/2xx. */
void fxp_reply(unsigned i, uint16_t status, const char *to_tag, const char *extra);
/* The same response text without sending it. */
const char *fxp_reply_text(unsigned i, uint16_t status, const char *to_tag, const char *extra,
			   uint32_t *len);

/* Any request, every field optional (defaults as fxp_request with id 1). */
struct fx_req {
	const char *method;           /* "INVITE" */
	const char *ruri;             /* "sip:bob@example.com" */
	const char *via;              /* whole top Via value; default UAC with branch */
	const char *branch;           /* "z9hG4bKuac1" */
	const char *call_id;          /* "call1@192.0.2.100" */
	uint32_t cseq;                /* 1 */
	const char *cseq_method;      /* = method */
	const char *to_tag;
	const char *max_forwards;     /* "70"; "" for none */
	const char *extra;            /* LF-terminated lines */
};
const char *fxp_req(const struct fx_req *r);

/* A standard INVITE from the UAC (Call-ID and branch vary with `id`). */
const char *fxp_invite(const char *ruri, int id, const char *extra);
/* Any request from the UAC. */
const char *fxp_request(const char *method, const char *ruri, int id, const char *to_tag,
			const char *extra);

const struct spl_proxy_stats *fxp_stats(void);

#endif
