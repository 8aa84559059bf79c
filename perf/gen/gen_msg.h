/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Messages the generator sends. Identifiers carry the slot: Call-ID
 * "SSSSSSSSGGGG-RRRRRRRR@sipline-gen" (slot, generation, run, in hex), the
 * From tag and the UAS's To tag repeat slot and generation, and branches
 * are "z9hG4bK" run slot gen plus a letter per transaction. Every builder
 * returns the length written into out, or -1 when it does not fit.
 */
#ifndef SPL_GEN_MSG_H
#define SPL_GEN_MSG_H

#include "gen.h"

/* Decodes a Call-ID value made by gen_msg_*; false when it is not ours. */
bool gen_callid_decode(struct spl_str v, uint32_t *slot, uint16_t *gen, uint32_t *run);

int gen_msg_invite(const struct gen *g, const struct gen_call *c, uint32_t slot, char *out, uint32_t cap);
/* ACK for a 2xx and BYE: along the route set to the remote target. */
int gen_msg_ack(const struct gen *g, const struct gen_call *c, uint32_t slot, char *out, uint32_t cap);
int gen_msg_bye(const struct gen *g, const struct gen_call *c, uint32_t slot, char *out, uint32_t cap);
/* ACK for a non-2xx final, built from the response alone (§17.1.1.3). */
int gen_msg_ack_from_response(const struct gen *g, const struct spl_sipmsg *rsp, char *out, uint32_t cap);

/* Digest answer to a challenge (already chosen and parsed). */
struct gen_digest_chal {
	struct spl_str realm, nonce, opaque;
	bool qop_auth;
	bool sha256;
	bool proxy;               /* 407: answer in Proxy-Authorization */
};
int gen_msg_register(struct gen *g, const struct gen_call *c, uint32_t slot,
		     const struct gen_digest_chal *chal, char *out, uint32_t cap);

/* UAS answers. A dialog response (180/200 to INVITE) copies the
 * Record-Route lines and adds the To tag, a Contact and, for 200, SDP. */
int gen_msg_reply(const struct gen *g, const struct spl_sipmsg *req, uint16_t status,
		  bool dialog, uint32_t slot, uint16_t gen, char *out, uint32_t cap);

/* Renders g->uac_hp, uas_hp and the SDP bodies from the configuration. */
void gen_msg_prepare(struct gen *g);

/* The AOR user of registration index i. */
int gen_reg_user(const struct gen_conf *conf, uint32_t i, char *out, uint32_t cap);

/* gen_digest.c: hex digest of "a:b:c..." with MD5 or SHA-256. */
int gen_digest_response(bool sha256, const char *user, const char *pass, struct spl_str realm,
			const char *method, const char *uri, struct spl_str nonce,
			const char *nc, const char *cnonce, bool qop_auth, char *out_hex);

#endif
