/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixture of suite txn: one table over one wheel driven by a virtual
 * clock, a fake transport that records what was sent and when, TU
 * callbacks that record events, refcounted buffers that catch leaks, and
 * SIP text templates parsed with lib/sipmsg.
 */
#ifndef TXN_FIXTURE_H
#define TXN_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spl_sipmsg.h"
#include "spl_timerwheel.h"
#include "spl_txn.h"

#define MS UINT64_C(1000000)
#define SEC (1000 * MS)
#define T0 (1000 * SEC)   /* arbitrary clock origin: nothing may assume 0 */

/* What the fake transport saw. */
struct fx_sent {
	uint64_t at;              /* relative to T0 */
	struct spl_txn_peer dst;
	char data[2048];
	uint32_t len;
};

enum fx_ev_kind { FX_REQ, FX_RSP, FX_TIMEOUT, FX_TERR, FX_TERM };
struct fx_ev {
	enum fx_ev_kind kind;
	uint64_t at;              /* relative to T0 */
	uint64_t handle;
	int req_kind;             /* FX_REQ: enum spl_txn_req_kind */
	int method;               /* FX_REQ: method id */
	uint16_t status;          /* FX_RSP */
	int timer;                /* FX_TIMEOUT */
	int err;                  /* FX_TERR */
	void *user;               /* FX_TERM */
	uint32_t user32;
};

/* Hook run inside on_request / on_response (re-entrancy tests). */
typedef void (*fx_hook)(uint64_t handle, struct spl_sipmsg *msg);

struct fx {
	struct spl_timerwheel *tw;
	struct spl_txn_table *tbl;
	struct spl_txn_ops ops;
	uint64_t now;             /* absolute */
	struct fx_sent sent[512];
	uint32_t nsent;
	struct fx_ev ev[512];
	uint32_t nev;
	int fail_send;            /* next sends return this (0: succeed) */
	int fail_after;           /* ... after this many successful sends */
	int fail_alloc;           /* next ops->alloc calls that fail */
	long live_bufs;           /* refcounted buffers not yet freed */
	long retains;
	fx_hook on_req_hook;
	fx_hook on_rsp_hook;
};
extern struct fx fx;

/* Set up with capacity slots and T1/T2/T4 (0: defaults); reliable-less. */
void fx_setup_conf(uint32_t capacity, uint64_t t1, bool with_retain);
void fx_setup_wheel(uint32_t capacity, uint64_t t1, bool with_retain, uint32_t wheel_cap);
void fx_setup(void);      /* 64 slots, defaults, with retain */
void fx_teardown(void);   /* frees; asserts every buffer was released */

/* Advance the virtual clock to T0 + rel, firing timers on the way. */
void fx_run_to(uint64_t rel);
static inline uint64_t fx_rel(void) { return fx.now - T0; }

/* Peers. */
struct spl_txn_peer fx_udp(void);
struct spl_txn_peer fx_tcp(void);

/* A refcounted buffer holding a copy of text. */
struct spl_txn_buf fx_buf(const char *text, uint32_t len);

/* Request / response templates. NULL fields take defaults. */
struct fx_req {
	const char *method;       /* "INVITE" */
	const char *ruri;         /* "sip:bob@biloxi.example.com" */
	const char *via_host;     /* "pc33.atlanta.example.com" */
	const char *via_transport;/* "UDP" */
	const char *branch;       /* "z9hG4bK776asdhds"; "" for none */
	const char *via_params;   /* extra ";x=y" after the branch */
	const char *from_tag;     /* "1928301774" */
	const char *to_tag;       /* none */
	const char *call_id;      /* "a84b4c76e66710@pc33.atlanta.example.com" */
	uint32_t cseq;            /* 314159 */
	const char *cseq_method;  /* = method */
	const char *route;        /* optional Route value */
	bool second_via;          /* add a second Via below the top one */
};
int fx_req_text(const struct fx_req *r, char *out, size_t cap);

struct fx_rsp {
	uint16_t status;
	const char *branch;       /* top Via branch */
	const char *via_host;     /* "proxy.example.com" */
	const char *cseq_method;  /* "INVITE" */
	uint32_t cseq;            /* 314159 */
	const char *to_tag;       /* "a6c85cf" (none for 100) */
	const char *from_tag;
	const char *call_id;
};
int fx_rsp_text(const struct fx_rsp *r, char *out, size_t cap);

/* Scan text into a fresh message (pool of a few, rotating). */
struct spl_sipmsg *fx_msg(const char *data, uint32_t len);

/* Receive a request / response: builds the text, wraps it in a refcounted
 * buffer, scans it and hands it to the layer; the test's own reference is
 * dropped afterwards. Returns the layer's result. */
int fx_rx_req(const struct fx_req *r, const struct spl_txn_peer *src);
int fx_rx_rsp(const struct fx_rsp *r, const struct spl_txn_peer *src);

/* Start a client transaction with the request template (branch taken
 * from the reservation; r->branch is ignored). */
uint64_t fx_client(const struct fx_req *r, const struct spl_txn_peer *dst, char *branch_out);
/* Respond on a server transaction with a template response. */
int fx_respond(uint64_t h, uint16_t status, const char *to_tag);

/* Event helpers. */
uint32_t fx_count(enum fx_ev_kind k);
const struct fx_ev *fx_last(enum fx_ev_kind k);
/* Times (relative, ms) of every send, for schedule assertions. */
void fx_assert_send_times_ms(const uint64_t *ms, uint32_t n);
/* The n-th send's text as a NUL-terminated string. */
const char *fx_sent_text(uint32_t i);

#endif
