/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipline-gen: a SIP load generator that plays both ends of every call
 * (UAC and UAS) and REGISTER clients, so that a proxy under test sits
 * between its two sides. perf/README.md describes the options and output.
 *
 * One thread, one loop: receive a batch, handle each datagram, fire due
 * timers, start the calls the pacer allows, flush what was queued. Call
 * state lives in a preallocated table; the slot index and a generation
 * travel in the Call-ID, so a message finds its call by decoding, and a
 * late message for a slot that was reused is recognised and dropped.
 * IPv4 only.
 */
#ifndef SPL_GEN_H
#define SPL_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "gen_hist.h"
#include "spl_sipmsg.h"

struct spl_timerwheel;
struct gen_io;

#define GEN_MAX_MSG   1400   /* a message we build or keep for retransmission */
#define GEN_RX_MAX    4096   /* largest datagram received */
#define GEN_START_BURST 64   /* calls started per loop turn at most */

/* IPv4 address (network order) and port (host order). */
struct gen_addr {
	uint32_t ip;
	uint16_t port;
};

enum gen_mode { GEN_MODE_KERNEL = 0, GEN_MODE_DPDK, GEN_MODE_NULL };
enum gen_side { GEN_UAC = 0, GEN_UAS = 1 };

struct gen_conf {
	enum gen_mode mode;
	struct gen_addr proxy, uac, uas;
	double rate;              /* calls/s offered */
	double reg_rate;          /* REGISTERs/s offered */
	uint64_t max_calls;       /* 0: bounded by duration only */
	uint64_t max_regs;
	double duration_s;        /* window in which calls are started */
	double warmup_s;          /* excluded from the figures */
	uint32_t max_inflight;    /* calls + registrations in progress */
	uint32_t hold_ms;         /* ACK → BYE */
	uint32_t answer_ms;       /* 180 → 200 at the UAS */
	uint32_t t1_ms, t2_ms;
	uint32_t call_timeout_ms; /* Timer B/F/H equivalent; default 64*T1 */
	char domain[64];
	char caller[32], callee[32];
	bool auth;
	bool auth_prefix;         /* user ends in '*': the index follows */
	char auth_user[64], auth_pass[64];
	uint32_t reg_users;       /* distinct AORs registered, round robin */
	uint32_t reg_expires;
	/* ramp */
	bool ramp;
	double ramp_max, ramp_factor, ramp_precision, ramp_pause_s;
	double ramp_settle_s;     /* pause after a failing step (-1: ramp_pause_s) */
	double max_fail_pct;
	int ramp_steps;           /* cap on steps */
	/* output and scheduling */
	bool json, quiet, busy_poll;
	int cpu;                  /* -1: no pinning */
	bool loopback_proxy;
	/* DPDK mode */
	char profile[64];
	char profile_dir[256];
	char dpdk_vdev[256];      /* overrides the profile's devices */
	char eal_extra[256];      /* more EAL arguments, space separated */
	uint8_t prefix_len;       /* on-link prefix of the generator addresses */
	uint32_t gateway;         /* IPv4 next hop for off-link proxies, 0: none */
	uint32_t mbufs;
	bool no_huge;
};

/* Failure reasons, by the leg that failed. */
#define GEN_FAILS(X) \
	X(INVITE_TIMEOUT, "invite_timeout", "no final response to INVITE in time") \
	X(INVITE_REJECTED, "invite_rejected", "INVITE answered with a non-2xx final") \
	X(BYE_TIMEOUT, "bye_timeout", "no final response to BYE in time") \
	X(BYE_REJECTED, "bye_rejected", "BYE answered with a non-2xx final") \
	X(NO_ACK, "no_ack", "UAS sent 200 but neither ACK nor BYE arrived") \
	X(REG_TIMEOUT, "register_timeout", "no final response to REGISTER in time") \
	X(REG_REJECTED, "register_rejected", "REGISTER answered with a non-2xx final") \
	X(AUTH, "auth_failed", "challenge not answerable or answered twice") \
	X(SEND, "send_error", "a message could not be built or queued") \
	X(DRAIN, "unfinished", "still in progress when the run ended")

enum gen_fail {
#define X(e, n, h) GEN_FAIL_##e,
	GEN_FAILS(X)
#undef X
	GEN_FAIL__COUNT
};
const char *gen_fail_name(enum gen_fail f);

/* Figures of one run (one ramp step). Only calls started after the
 * warm-up are counted; message counters count everything. */
struct gen_stats {
	uint64_t calls_attempted, calls_ok, calls_failed;
	uint64_t calls_blocked;   /* offered while max_inflight calls were up */
	uint64_t calls_lagged;    /* offered but the generator fell behind */
	uint64_t regs_attempted, regs_ok, regs_failed, regs_blocked, regs_lagged;
	uint64_t retx_uac, retx_uas;
	uint64_t fail[GEN_FAIL__COUNT];
	uint64_t msgs_in, msgs_out;
	uint64_t rx_bad;          /* unparseable or not ours */
	uint64_t rx_stale;        /* for a finished call (late retransmission) */
	uint64_t tx_drop;         /* refused by the I/O layer */
	struct gen_hist h_180, h_200, h_bye, h_reg;
};

enum gen_kind { GEN_KIND_FREE = 0, GEN_KIND_CALL, GEN_KIND_REG };

/* UAC side of a slot. */
enum gen_uac_state {
	GEN_UAC_IDLE = 0,
	GEN_UAC_INVITING,       /* INVITE sent, nothing back */
	GEN_UAC_PROCEEDING,     /* a provisional came back */
	GEN_UAC_HOLD,           /* 2xx acknowledged, waiting to hang up */
	GEN_UAC_BYE,            /* BYE sent */
	GEN_UAC_REG,            /* REGISTER sent */
	GEN_UAC_REG_AUTH,       /* REGISTER with credentials sent */
};

/* UAS side of a slot. */
enum gen_uas_state {
	GEN_UAS_IDLE = 0,
	GEN_UAS_RINGING,        /* 180 sent, 200 due after answer_ms */
	GEN_UAS_ANSWERED,       /* 200 sent, retransmitted until ACK */
	GEN_UAS_CONFIRMED,      /* ACK (or BYE) arrived */
};

enum {
	GEN_F_MEASURED = 1u << 0,
	GEN_F_GOT_180 = 1u << 1,
};

/* One call (both halves) or one registration. */
struct gen_call {
	uint16_t gen;
	uint8_t kind;
	uint8_t uac;
	uint8_t uas;
	uint8_t flags;
	uint32_t uac_timer, uas_timer;
	uint32_t uac_ivl_ms, uas_ivl_ms;
	uint64_t t_start;         /* INVITE / first REGISTER sent */
	uint64_t t_bye;
	uint64_t uac_deadline, uas_deadline;
	struct gen_addr hop;      /* where ACK and BYE go */
	struct gen_addr uas_peer; /* where the UAS's 200 goes */
	uint32_t user;            /* REGISTER: AOR index */
	uint16_t uac_len, uas_len;
	uint16_t tag_len, route_len, target_len;
	char tag[64];             /* To tag of the callee */
	char target[128];         /* remote target (Contact of the 200) */
	char route[384];          /* Route lines, ready to emit */
	char uac_buf[GEN_MAX_MSG];  /* last request, for retransmission */
	char uas_buf[GEN_MAX_MSG];  /* last response to INVITE */
};

struct gen {
	const struct gen_conf *conf;
	struct gen_io *io;
	struct gen_call *calls;
	uint32_t ncalls;
	uint32_t *free_stack;
	uint32_t nfree;
	struct spl_timerwheel *tw;
	uint64_t now;             /* ns, CLOCK_MONOTONIC */
	uint32_t run_id;          /* carried in the Call-ID; a new one per step */
	bool measuring;           /* past the warm-up of this run */
	uint32_t inflight;
	uint64_t reg_seq;
	uint64_t call_timeout_ns;
	struct gen_stats st;
	struct gen_hist tick_200; /* INVITE→200 since the last progress line */
	struct spl_sipmsg msg;    /* scratch for the parser */
	/* pre-rendered text */
	char uac_hp[24], uas_hp[24];   /* "ip:port" */
	uint8_t uac_hp_len, uas_hp_len;
	char sdp_uac[256], sdp_uas[256];
	uint16_t sdp_uac_len, sdp_uas_len;
	uint64_t cnonce;
};

/* gen_call.c: the state machines. */
int gen_init(struct gen *g, const struct gen_conf *conf, struct gen_io *io);
void gen_fini(struct gen *g);
/* Starts one call / one registration; false when no slot is free. */
bool gen_start_call(struct gen *g);
bool gen_start_reg(struct gen *g);
/* One received datagram. */
void gen_rx(struct gen *g, enum gen_side side, const char *buf, uint32_t len,
	    const struct gen_addr *src);
/* Fires due timers; returns how many. */
uint32_t gen_timers(struct gen *g);
/* Ends every call still in progress (counted as DRAIN when measured). */
void gen_abort_all(struct gen *g);

/* gen_run.c */
struct gen_result {
	double offered_cps, achieved_cps;
	double offered_rps, achieved_rps;
	double measured_s;
	double cpu_s;             /* generator thread user+system in the window */
	double busy_s;            /* loop turns that had work (DPDK mode polls) */
	bool gen_limited;         /* the pacer fell behind by more than 1% */
	struct gen_stats st;
};
/* One bounded run at the configured rates. */
void gen_run(struct gen *g, double cps, double rps, struct gen_result *res);
double gen_fail_pct(const struct gen_result *r);
/* Keeps answering (late messages of a previous step) for `seconds`. */
void gen_idle(struct gen *g, double seconds);

/* gen_ramp.c */
struct gen_ramp_step {
	double offered_cps;
	struct gen_result res;
	bool pass;
};
#define GEN_RAMP_MAX_STEPS 32
struct gen_ramp {
	int nsteps;
	struct gen_ramp_step steps[GEN_RAMP_MAX_STEPS];
	double max_cps;           /* highest passing rate, 0 if none */
	int best;                 /* index of that step, -1 if none */
};
void gen_ramp_run(struct gen *g, struct gen_ramp *r);
bool gen_step_pass(const struct gen *g, const struct gen_result *res);

/* gen_report.c */
void gen_progress(const struct gen *g, double t_s, double offered_cps, double cps_now);
void gen_report(const struct gen_conf *conf, const struct gen_result *res,
		const struct gen_ramp *ramp);

/* gen_opts.c */
int gen_opts_parse(struct gen_conf *c, int argc, char **argv);
int gen_addr_parse(struct gen_addr *a, const char *text);
int gen_addr_format(const struct gen_addr *a, char *out, unsigned cap);

/* gen_relay.c: --loopback-proxy, a stateless record-routing relay on a
 * loopback socket in a thread of its own. */
struct gen_relay;
struct gen_relay *gen_relay_start(const struct gen_conf *conf, struct gen_addr *bound);
void gen_relay_stop(struct gen_relay *r);

/* Monotonic nanoseconds. */
uint64_t gen_now_ns(void);

/* Set by SIGINT/SIGTERM: runs stop offering and end. */
extern volatile int gen_interrupted;

#endif
