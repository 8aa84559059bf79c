/* SPDX-License-Identifier: BSD-3-Clause */
/* Journal file format, shared by the codec/replay and the writer. */
#ifndef SPL_JOURNAL_PRIV_H
#define SPL_JOURNAL_PRIV_H

#include "registrar_priv.h"

/*
 * File header (32 bytes, little-endian):
 *   0  magic "SPLREGJ\x1a"
 *   8  u16 version (1)
 *  10  u16 kind (1 journal, 2 snapshot)
 *  12  u32 header length (32)
 *  16  u64 base seq (snapshot: covers every record up to it; journal: 0)
 *  24  u32 reserved (0)
 *  28  u32 CRC32C of bytes 0..27
 * Record: u32 payload length | u32 CRC32C(payload) | payload
 * Payload:
 *   0  u8 type (1 PUT: the AOR's whole state, 2 DEL)
 *   1  u8 reserved
 *   2  u16 bindings
 *   4  u16 AOR length
 *   6  u16 reserved
 *   8  u64 seq
 *  16  AOR bytes
 *      then per binding: u64 expires_at, u64 registered_at, u32 cseq,
 *      u16 q, u8 family, u8 transport, u16 port, 16 address bytes,
 *      u16 contact, params, path, call-id lengths; then those texts.
 */
#define JNL_MAGIC "SPLREGJ\x1a"
#define JNL_VERSION 1
#define JNL_HDR_LEN 32u
#define JNL_REC_HDR 8u
#define JNL_PAYLOAD_FIXED 16u
#define JNL_BIND_FIXED 50u
#define JNL_MAX_PAYLOAD (1u << 22)

enum { JNL_KIND_JOURNAL = 1, JNL_KIND_SNAPSHOT = 2 };
enum { JNL_PUT = 1, JNL_DEL = 2 };

void jnl_header_encode(unsigned char *out, unsigned kind, uint64_t base_seq);

/* Payload bytes of a record for these bindings. */
uint32_t jnl_payload_bytes(struct spl_str aor, const struct spl_binding *b, unsigned nb);
/* Encode a whole record (length, CRC, payload) into out, which has room
 * for JNL_REC_HDR + jnl_payload_bytes(). Returns the bytes written. */
uint32_t jnl_encode(unsigned char *out, unsigned type, uint64_t seq, struct spl_str aor,
		    const struct spl_binding *b, unsigned nb);

/* The live bindings of a record as views (at most MAX_BINDINGS). */
unsigned jnl_rec_views(const struct loc_rec *r, struct spl_binding *out);

/* Replay one file already read into memory. kind_expected: JNL_KIND_*.
 * Applies records with seq > min_seq. */
int jnl_replay_buf(struct spl_location *loc, const unsigned char *buf, size_t len,
		   unsigned kind_expected, uint64_t now, uint64_t min_seq,
		   struct spl_journal_report *rep, uint64_t *base_seq, uint64_t *good_bytes,
		   bool *torn, bool *corrupt, uint64_t *bad_off);

/* Snapshot then journal (spl_journal_replay); *snap_bad when the
 * snapshot is the damaged one. */
int jnl_replay_all(struct spl_location *loc, const char *path, uint64_t now,
		   struct spl_journal_report *rep, bool *snap_bad);

/* Read a whole file: 0, -ENOENT, or -errno. *buf is malloc'd. */
int jnl_read_file(const char *path, unsigned char **buf, size_t *len);

#endif /* SPL_JOURNAL_PRIV_H */
