/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/registrar: RFC 3261 §10 registrar, location service, digest
 * authentication (RFC 7616 / RFC 8760 over RFC 3261 §22) and a journal
 * with snapshots for persistence.
 *
 * One object per shard (struct spl_registrar, struct spl_auth, struct
 * spl_journal) plus one location service shared by every shard:
 *
 *   - The location service is split into one partition per shard. A
 *     partition is written only by its shard: the appliance hands a
 *     REGISTER to spl_registrar_aor_shard(aor, nshards), so every change to
 *     one AOR has exactly one writer and REGISTERs for it are processed in
 *     arrival order (§10.3) without a lock.
 *   - Any thread reads any partition without a lock. An AOR's bindings
 *     live in one immutable record; a change builds a new record and
 *     publishes it by a pointer store (C11 release). Replaced records are
 *     freed once every registered reader has passed a quiescent point
 *     (QSBR, below), so a reader never sees a half-written binding set
 *     and never touches freed memory.
 *   - Nothing allocates after create: records come from per-partition
 *     pools, and a pool or limit that runs out is an answer (403/503),
 *     counted, never a crash.
 *
 * Time is always an argument: `now` is nanoseconds on the caller's clock,
 * the same clock its timer wheel runs on. Expiry times are stored as
 * absolute values of that clock, including in the journal, so for the
 * journal to mean anything after a restart the clock must be anchored to
 * wall time (e.g. CLOCK_REALTIME at start + TSC elapsed). See
 * doc/registrar.md.
 */
#ifndef SPL_REGISTRAR_H
#define SPL_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spl_sipmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

struct spl_timerwheel;
struct spl_registrar;
struct spl_location;
struct spl_auth;
struct spl_journal;

#define SPL_NS_PER_S UINT64_C(1000000000)

/* ------------------------------------------------------------------ */
/* Address-of-record                                                   */

/* Longest canonical AOR kept (bytes). */
#define SPL_REGISTRAR_AOR_MAX 256

/*
 * Canonical AOR of a SIP/SIPS URI (RFC 3261 §10.3 step 5): "sip:" (sips
 * folds to sip), the user part unescaped and case-sensitive, "@", the host
 * in lower case, then ":port" only when the port is present and not the
 * scheme's default (5060 for sip, 5061 for sips). Parameters, headers and
 * the password are dropped. A URI without a user part gives "sip:host".
 * Returns the length written into out (no NUL), or -1 when the URI is not
 * sip/sips, the unescaped user holds a NUL, or cap is too small.
 */
int spl_registrar_aor_canon(const struct spl_sip_uri *uri, char *out, uint32_t cap);

/* Hash of a canonical AOR; the same on every thread and every run. */
uint64_t spl_registrar_aor_hash(struct spl_str aor);

/* The shard that owns (writes) an AOR: the appliance hands every REGISTER
 * for `aor` (and every operator change) to this shard. */
unsigned spl_registrar_aor_shard(struct spl_str aor, unsigned nshards);

/* ------------------------------------------------------------------ */
/* QSBR: quiescent-state-based reclamation                             */

/*
 * Each thread that reads the location service registers once and then
 * calls spl_qsbr_quiescent() at a point where it holds no pointer into
 * it, typically once per loop turn. A thread that stops reading for a
 * while (blocks, sleeps) goes offline so it does not hold up reclamation.
 * Writers retire memory with a token and free it once
 * spl_qsbr_check(token) is true: every online reader has been quiescent
 * since the retirement.
 */
struct spl_qsbr;
struct spl_qsbr *spl_qsbr_create(unsigned max_readers);  /* NULL + errno */
void spl_qsbr_free(struct spl_qsbr *q);
int spl_qsbr_register(struct spl_qsbr *q);        /* reader id >= 0 (online), or -ENOSPC */
void spl_qsbr_unregister(struct spl_qsbr *q, int id);
void spl_qsbr_quiescent(struct spl_qsbr *q, int id);
void spl_qsbr_offline(struct spl_qsbr *q, int id);
void spl_qsbr_online(struct spl_qsbr *q, int id);
uint64_t spl_qsbr_retire(struct spl_qsbr *q);     /* after unlinking: the token */
bool spl_qsbr_check(const struct spl_qsbr *q, uint64_t token);

/* ------------------------------------------------------------------ */
/* Location service                                                    */

#define SPL_LOCATION_MAX_SHARDS   256
#define SPL_LOCATION_MAX_BINDINGS 64     /* hard ceiling of max_bindings */

struct spl_location_conf {
	uint32_t nshards;        /* partitions = writer shards, 1..MAX_SHARDS */
	uint32_t max_aors;       /* AORs across all partitions (limit → 503) */
	uint32_t max_bindings;   /* contacts per AOR (limit → 403); 0: 10 */
	uint32_t record_bytes;   /* bytes of one AOR record with its text; 0: 4096 */
	uint32_t pool_records;   /* per partition, incl. records in grace;
				  * 0: max_aors/nshards * 5/4 + 64 */
	uint32_t max_readers;    /* QSBR reader slots; 0: 64 */
};

/* Where a REGISTER came from: kept with the binding for NAT traversal
 * (send to the source, not to the Contact, when they differ). */
struct spl_registrar_src {
	uint8_t family;          /* 0: unknown, 4 or 6 */
	uint8_t transport;       /* enum spl_sip_transport */
	uint16_t port;
	uint8_t addr[16];        /* IPv4 in addr[0..3] */
};

/*
 * One binding as a reader sees it. The slices point into the AOR's
 * record, which the location service owns: they stay valid until the
 * reading thread's next spl_qsbr_quiescent() (or offline).
 */
struct spl_binding {
	struct spl_str contact;  /* Contact URI, without <> */
	struct spl_str params;   /* the contact's other params ("+sip.instance=..;reg-id=1"), no leading ';' */
	struct spl_str path;     /* Path values as received, comma-separated (RFC 3327); len 0: none */
	struct spl_str call_id;
	uint64_t expires_at;     /* ns; UINT64_MAX: permanent (operator) */
	uint64_t registered_at;  /* ns of the REGISTER that last refreshed it */
	uint32_t cseq;
	uint16_t q;              /* thousandths, 0..1000 */
	struct spl_registrar_src received;
};

struct spl_location *spl_location_create(const struct spl_location_conf *conf);  /* NULL + errno */
/* Only when no reader or writer uses it any more. */
void spl_location_free(struct spl_location *loc);
unsigned spl_location_nshards(const struct spl_location *loc);
struct spl_qsbr *spl_location_qsbr(struct spl_location *loc);

/* Shorthands for the location's QSBR. */
int spl_location_reader_register(struct spl_location *loc);
void spl_location_quiescent(struct spl_location *loc, int reader);

/*
 * Bindings of a canonical AOR that are live at `now`, ordered by q
 * (highest first), then by most recent registration. Fills up to max and
 * returns how many; 0 when the AOR has no live binding. Lock-free, from
 * any registered reader thread; the set returned is always one committed
 * state of the AOR, never a mix of two.
 */
int spl_location_lookup(const struct spl_location *loc, struct spl_str aor,
			struct spl_binding *out, unsigned max, uint64_t now);

/*
 * Paged listing ("location list"): start with a zeroed cursor; each call
 * fills up to max AORs and advances the cursor; returns the count, 0 at
 * the end. Each AOR is a consistent record; the listing as a whole is not
 * a snapshot (AORs changed between pages may appear in either state, an
 * AOR moved in its hash chain may be skipped or repeated once).
 */
struct spl_location_cursor {
	uint32_t part;
	uint32_t bucket;
	uint32_t skip;           /* entries of the bucket's chain already listed */
};
struct spl_location_aor {
	struct spl_str aor;
	const void *rec;         /* for spl_location_aor_bindings() */
	unsigned nbindings;      /* live at `now` */
};
int spl_location_list(const struct spl_location *loc, struct spl_location_cursor *cur,
		      struct spl_location_aor *out, unsigned max, uint64_t now);
int spl_location_aor_bindings(const struct spl_location_aor *a, struct spl_binding *out,
			      unsigned max, uint64_t now);

struct spl_location_stats {
	uint64_t aors;           /* live records (incl. ones whose bindings expired but whose timer has not run) */
	uint64_t bindings;
	uint64_t pool_free;      /* record slots free */
	uint64_t pool_grace;     /* replaced records waiting for readers */
	uint64_t aors_total;     /* across every partition */
};
/* Counters of one partition; relaxed reads from any thread. */
void spl_location_get_stats(const struct spl_location *loc, unsigned part,
			    struct spl_location_stats *st);

/* ------------------------------------------------------------------ */
/* Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760)            */

enum spl_auth_alg {
	SPL_AUTH_ALG_MD5    = 1u << 0,
	SPL_AUTH_ALG_SHA256 = 1u << 1,
};

/*
 * Credentials: a file of "user:realm:HA1" lines, HA1 being 32 hex digits
 * (MD5(user:realm:password)) or 64 (SHA-256 of the same). A user may have
 * one line of each kind. '#' starts a comment line; blank lines are
 * skipped. Loaded by the control thread, then read-only and shared by
 * every shard (swap whole to reload).
 */
struct spl_auth_creds;
/* NULL + errno: EINVAL with *bad_line set (1-based) for a malformed or
 * duplicate line, or the errno of open/read. */
struct spl_auth_creds *spl_auth_creds_load(const char *path, unsigned *bad_line);
struct spl_auth_creds *spl_auth_creds_parse(const char *text, size_t len, unsigned *bad_line);
void spl_auth_creds_free(struct spl_auth_creds *c);
unsigned spl_auth_creds_count(const struct spl_auth_creds *c);
/* SPL_AUTH_ALG_* bits of the HA1s the file holds (0: none, or c NULL). */
uint8_t spl_auth_creds_algorithms(const struct spl_auth_creds *c);

/*
 * Policy: the first rule whose domain matches (case-insensitive; "*"
 * matches any) decides; no matching rule means no authentication.
 * `methods` holds SPL_AUTH_METHOD(m) bits of the methods that must
 * authenticate. The domain of a request is the Request-URI host for
 * SPL_AUTH_WWW (a registrar or UAS) and the From host for SPL_AUTH_PROXY
 * (a proxy authenticating its users).
 */
#define SPL_AUTH_METHOD(m) (1u << (m))           /* m: enum spl_sip_method */
#define SPL_AUTH_METHODS_ALL 0xffffffffu
struct spl_auth_rule {
	const char *domain;      /* "*" for any */
	const char *realm;       /* NULL: the request's domain */
	uint32_t methods;
};

struct spl_auth_conf {
	const struct spl_auth_creds *creds;  /* shared, must outlive the auth */
	uint8_t secret[32];      /* nonce HMAC key: the same on every shard */
	uint32_t nonce_lifetime_s;  /* 0: 300 */
	uint32_t nc_table;       /* per-shard replay table entries; 0: 4096 */
	uint8_t algorithms;      /* SPL_AUTH_ALG_* offered; 0: those creds holds an HA1 of
				  * (spl_auth_creds_algorithms), both when it holds none */
	uint8_t shard;           /* mixed into nonces so shards never mint the same one */
	const struct spl_auth_rule *rules;   /* copied at create */
	unsigned nrules;
};

enum spl_auth_hdr_kind {
	SPL_AUTH_WWW = 0,        /* Authorization → 401 + WWW-Authenticate */
	SPL_AUTH_PROXY,          /* Proxy-Authorization → 407 + Proxy-Authenticate */
};

enum spl_auth_verdict {
	SPL_AUTH_NOT_REQUIRED = 0,  /* policy: go ahead */
	SPL_AUTH_OK,                /* credentials verified */
	SPL_AUTH_CHALLENGE,         /* answer 401/407 with spl_auth_challenge() */
};

enum spl_auth_why {
	SPL_AUTH_WHY_NONE = 0,
	SPL_AUTH_WHY_MISSING,       /* no credentials for our realm */
	SPL_AUTH_WHY_MALFORMED,     /* unparseable, missing fields, unsupported qop/algorithm */
	SPL_AUTH_WHY_UNKNOWN_USER,
	SPL_AUTH_WHY_BAD_NONCE,     /* not ours (MAC), or from the future */
	SPL_AUTH_WHY_BAD_RESPONSE,  /* wrong password */
	SPL_AUTH_WHY_STALE,         /* correct, but the nonce is too old: stale=true */
	SPL_AUTH_WHY_REPLAY,        /* nc not above the highest seen for this nonce */
	SPL_AUTH_WHY_URI_MISMATCH,  /* digest uri is not the Request-URI */
	SPL_AUTH_WHY__COUNT
};

struct spl_auth_result {
	uint8_t verdict;         /* enum spl_auth_verdict */
	uint8_t why;             /* enum spl_auth_why */
	uint8_t alg;             /* OK: the algorithm used */
	bool stale;              /* challenge with stale=true */
	uint16_t realm_len;
	struct spl_str username; /* OK: slice into the message */
	char realm[SPL_REGISTRAR_AOR_MAX];  /* the realm checked / to challenge with */
};

struct spl_auth_stats {
	uint64_t checks;         /* requests the policy required to authenticate */
	uint64_t ok;
	uint64_t challenges;     /* challenges built */
	uint64_t failures;       /* credentials present but wrong (why != MISSING, STALE) */
	uint64_t stale;
	uint64_t by_why[SPL_AUTH_WHY__COUNT];
	uint64_t nc_evictions;   /* replay-table entries pushed out while still fresh */
};

/* One per shard. NULL + errno (EINVAL, ENOMEM, ENOSYS when OpenSSL lacks a digest). */
struct spl_auth *spl_auth_create(const struct spl_auth_conf *conf);
void spl_auth_free(struct spl_auth *a);

/*
 * Check the request's credentials against the policy. `method` is the
 * method for the digest's A2 (normally msg->method). Never allocates;
 * the replay table is this shard's. Returns 0, or -EINVAL when the
 * message lacks what the check needs (parse P_RURI/P_FROM first).
 */
int spl_auth_check(struct spl_auth *a, struct spl_sipmsg *msg, enum spl_auth_hdr_kind kind,
		   struct spl_str method, uint64_t now, struct spl_auth_result *res);

/*
 * Challenge header lines for res (one per algorithm offered, SHA-256
 * first as RFC 8760 §3 asks), each "WWW-Authenticate: Digest ..." or
 * "Proxy-Authenticate: ...", written into buf (cap bytes) and described by
 * lines[]. Pass them as extra lines to spl_sipmsg_build_response() with
 * status 401 or 407. Returns the number of lines, or -1 when buf or
 * max_lines is too small.
 */
int spl_auth_challenge(struct spl_auth *a, const struct spl_auth_result *res,
		       enum spl_auth_hdr_kind kind, uint64_t now, char *buf, uint32_t cap,
		       struct spl_str *lines, unsigned max_lines);

void spl_auth_get_stats(const struct spl_auth *a, struct spl_auth_stats *st);

/* Lowercase-hex HA1 for a password, for tools and tests: alg one of
 * SPL_AUTH_ALG_*; out holds 65 bytes. Returns 0 or -1. */
int spl_auth_ha1_hex(enum spl_auth_alg alg, const char *user, const char *realm,
		     const char *password, char *out);

/* ------------------------------------------------------------------ */
/* Journal and snapshot                                                */

/*
 * One journal file per shard, recording every change to the shard's
 * partition as the AOR's whole new state (idempotent, so replay order
 * within one AOR is all that matters). The producer side (append, commit,
 * durable_seq) runs on the owning shard; the consumer side (flush, sync,
 * compact) on one other thread (the control thread) or on the shard
 * itself. Between them is a ring of buffers (single producer, single
 * consumer); when it is full the REGISTER is answered 503.
 *
 * Durability modes (the caller's choice, see doc/registrar.md):
 *   sync   hold each REGISTER's 200 until spl_journal_durable_seq() has
 *          reached the result's journal_seq; the consumer group-commits
 *          with one spl_journal_sync() for everything committed since the
 *          last one.
 *   async  send the 200 at once; call spl_journal_sync() periodically.
 *          A crash loses at most the changes since the last sync.
 *
 * File format (little-endian): a 32-byte header, then records of
 *   u32 payload length | u32 CRC32C(payload) | payload.
 */
struct spl_journal_conf {
	const char *path;        /* journal file; the snapshot is path + ".snap" */
	uint32_t buf_bytes;      /* each ring buffer; 0: 256 KiB (must hold a record) */
	uint32_t nbufs;          /* ring buffers; 0: 4 */
	bool truncate_corrupt;   /* at open, cut the file at a bad record instead of failing */
};

struct spl_journal_report {
	uint64_t snapshot_records;  /* applied from the snapshot */
	uint64_t records;        /* applied from the journal */
	uint64_t skipped;        /* journal records already in the snapshot */
	uint64_t dropped;        /* not applied: pool or limit exhausted */
	uint64_t base_seq;       /* the snapshot covers records up to here */
	uint64_t last_seq;       /* highest seq seen */
	uint64_t good_bytes;     /* journal: offset after the last good record */
	uint64_t bad_offset;     /* corrupt: where the bad record starts */
	bool torn_tail;          /* the journal ended in a partial record (skipped) */
	bool corrupt;            /* a record with a bad CRC/length before the end */
};

/*
 * Replay path + ".snap" (if present) then path into loc, dropping
 * bindings expired at `now`. Single writer: call before the shards run.
 * Returns 0 (also for a torn tail), -EBADMSG when corruption stopped the
 * replay (records before it are applied; rep says where), or -errno.
 * A missing journal is not an error.
 */
int spl_journal_replay(struct spl_location *loc, const char *path, uint64_t now,
		       struct spl_journal_report *rep);

/*
 * Start-up for one shard: replay as above, cut a torn tail, and open the
 * journal for appending (creating it with a header when absent). Records
 * continue the sequence after the highest one replayed. NULL + errno
 * (EBADMSG on corruption unless truncate_corrupt).
 */
struct spl_journal *spl_journal_open(const struct spl_journal_conf *conf,
				     struct spl_location *loc, uint64_t now,
				     struct spl_journal_report *rep);
/* Commit, write and sync what is pending, then close. */
void spl_journal_close(struct spl_journal *j);

/* Producer: hand the records appended so far to the consumer (once per
 * loop turn). Always 0: the buffer being filled is already the
 * producer's; a full ring is found (and answered 503) before a change. */
int spl_journal_commit(struct spl_journal *j);
/* Producer: highest seq durable on disk, and highest appended. */
uint64_t spl_journal_durable_seq(const struct spl_journal *j);
uint64_t spl_journal_last_seq(const struct spl_journal *j);

/* Consumer: write() committed buffers; 0 or -errno (retried next call). */
int spl_journal_flush(struct spl_journal *j);
/* Consumer: flush + fdatasync, then publish the durable seq. */
int spl_journal_sync(struct spl_journal *j);
/*
 * Consumer: write a snapshot of partition `part` of loc (path + ".snap",
 * via a temporary file and rename), then truncate the journal to its
 * header. The calling thread must be a registered reader of loc when
 * shards run. 0 or -errno.
 */
int spl_journal_compact(struct spl_journal *j, struct spl_location *loc, unsigned part,
			uint64_t now);

struct spl_journal_stats {
	uint64_t records;        /* appended */
	uint64_t bytes;
	uint64_t full;           /* appends refused: no free buffer */
	uint64_t writes;         /* write() calls by the consumer */
	uint64_t syncs;          /* fdatasync calls */
	uint64_t write_errors;
	uint64_t compactions;
};
/* Plain counters of both sides: a reader on a third thread may see torn values. */
void spl_journal_get_stats(const struct spl_journal *j, struct spl_journal_stats *st);

/* ------------------------------------------------------------------ */
/* Registrar (§10.3), one per shard                                    */

enum spl_registrar_reason {
#define SPL_REGISTRAR_REASON(id, status, phrase) SPL_REGISTRAR_R_##id,
#include "spl_registrar_reasons.def"
#undef SPL_REGISTRAR_REASON
	SPL_REGISTRAR_R__COUNT
};
const char *spl_registrar_reason_name(enum spl_registrar_reason r);

struct spl_registrar_conf {
	uint32_t shard;          /* the partition this registrar writes */
	const char *const *domains;  /* served domains (copied), compared case-insensitively */
	unsigned ndomains;
	bool forward_foreign;    /* REGISTER for another domain: FORWARD (true) or 403 */
	uint32_t default_expires;    /* s; 0: 3600 */
	uint32_t min_expires;        /* s; 0: 60 (below it, and not 0: 423) */
	uint32_t max_expires;        /* s; 0: 86400 (above it: clamped) */
	uint32_t retry_after;        /* s in 503s; 0: 5 */
	bool authz_any_user;     /* false: the authenticated user must be the AOR's user (§10.3 step 4) */
};

enum spl_registrar_action {
	SPL_REGISTRAR_RESPOND = 0,   /* send out[0..len) */
	SPL_REGISTRAR_FORWARD,       /* not our domain: proxy the request (§10.3 step 1) */
};

struct spl_registrar_result {
	uint8_t action;          /* enum spl_registrar_action */
	uint8_t reason;          /* enum spl_registrar_reason */
	uint16_t status;
	uint32_t len;            /* response bytes in out */
	uint64_t journal_seq;    /* sync mode: hold the response until durable_seq >= this; 0: send now */
};

/*
 * Timer data: the registrar arms one timer per AOR in the shard's wheel,
 * for its earliest expiry, with data = SPL_REGISTRAR_TIMER_TAG | id. The
 * shard's wheel callback passes data with this tag to
 * spl_registrar_timer_fire(); other tags belong to other users.
 */
#define SPL_REGISTRAR_TIMER_TAG      (UINT64_C(0xA5) << 56)
#define SPL_REGISTRAR_TIMER_TAG_MASK (UINT64_C(0xFF) << 56)

/*
 * One per shard. loc must outlive it; tw, auth and journal are optional
 * (NULL: no expiry timers — expired bindings are hidden from lookups and
 * removed at the AOR's next change —, no authentication, no journal).
 * Arms expiry timers for what the partition already holds (after replay).
 * NULL + errno.
 */
struct spl_registrar *spl_registrar_create(const struct spl_registrar_conf *conf,
					   struct spl_location *loc, struct spl_timerwheel *tw,
					   struct spl_auth *auth, struct spl_journal *journal,
					   uint64_t now);
void spl_registrar_free(struct spl_registrar *reg);

/*
 * Process a REGISTER that passed spl_sipmsg_validate(), received from src
 * (may be NULL). Builds the response into out. Returns 0 with res filled,
 * -EINVAL when msg is not a REGISTER request, -EXDEV when the AOR belongs
 * to another shard (nothing changed, nothing answered: route by
 * spl_registrar_aor_shard()), -ENOSPC when not even an error response
 * fits in cap.
 */
int spl_registrar_process(struct spl_registrar *reg, struct spl_sipmsg *msg,
			  const struct spl_registrar_src *src, uint64_t now,
			  char *out, uint32_t cap, struct spl_registrar_result *res);

/* An expiry timer with SPL_REGISTRAR_TIMER_TAG fired (the handle is free). */
void spl_registrar_timer_fire(struct spl_registrar *reg, uint64_t data, uint64_t now);

/* Free replaced records that every reader has passed (also done on demand
 * when the pool runs low). Returns how many were freed. */
unsigned spl_registrar_reclaim(struct spl_registrar *reg);

/*
 * Operator changes ("location add AOR CONTACT [expires]", "location del
 * AOR [CONTACT]"), run on the shard that owns the AOR (-EXDEV otherwise).
 * aor is a SIP URI (canonicalised here), contact a URI (bare or in <>).
 * expires_s 0 makes the binding permanent. add: 0, -EINVAL (bad URI),
 * -ENOSPC (limit or pool), -ENOBUFS (journal full). del: 0 or -ENOENT;
 * contact.p NULL removes every binding of the AOR.
 */
int spl_location_add(struct spl_registrar *reg, struct spl_str aor, struct spl_str contact,
		     uint32_t expires_s, uint64_t now);
int spl_location_del(struct spl_registrar *reg, struct spl_str aor, struct spl_str contact,
		     uint64_t now);

struct spl_registrar_stats {
	uint64_t registers;      /* REGISTERs processed (answered or forwarded) */
	uint64_t by_reason[SPL_REGISTRAR_R__COUNT];
	uint64_t failed;         /* answered with a non-2xx */
	uint64_t fetches;        /* 200 to a REGISTER without Contact */
	uint64_t not_owner;      /* -EXDEV: mis-routed */
	uint64_t bindings_added, bindings_refreshed, bindings_removed, bindings_expired;
	uint64_t limit_hits;     /* LIMIT_CONTACTS + LIMIT_RECORD + LIMIT_AORS + POOL_FULL */
	uint64_t timer_full;     /* expiry timers the wheel refused */
	uint64_t ops_add, ops_del;
	/* filled from the partition and the journal at read time */
	uint64_t bindings_live, aors_live;
	uint64_t journal_records, journal_bytes, journal_full;
	struct spl_auth_stats auth;
};
void spl_registrar_get_stats(const struct spl_registrar *reg, struct spl_registrar_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* SPL_REGISTRAR_H */
