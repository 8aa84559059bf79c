/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffers and the responses the proxy makes itself: allocate, send
 * statelessly, respond through a server transaction (counted), our To tag,
 * and px_local_reply() for every response of our own (100 Trying, §16.3
 * rejections, 404/480, the best response we synthesise, 503 on overload).
 */
#include "proxy_priv.h"

/* ---- buffers and sending ---- */

bool px_alloc(struct spl_proxy *p, uint32_t len, struct spl_txn_buf *b)
{
	if (PX_UNLIKELY(p->tp.alloc(p->tp.ctx, len, b) != 0)) {
		px_drop(p, SPL_PROXY_DROP_NO_BUFFER);
		return false;
	}
	return true;
}

void px_release(struct spl_proxy *p, struct spl_txn_buf *b)
{
	p->tp.release(p->tp.ctx, b->owner);
	*b = (struct spl_txn_buf){ 0 };
}

int px_send_release(struct spl_proxy *p, const struct spl_txn_peer *dst, struct spl_txn_buf *b)
{
	int rc = p->tp.send(p->tp.ctx, dst, b);
	if (rc != 0)
		px_drop(p, SPL_PROXY_DROP_SEND_ERROR);
	px_release(p, b);
	return rc;
}

int px_respond(struct spl_proxy *p, uint64_t server, uint16_t status, struct spl_txn_buf *b,
	       uint64_t now)
{
	int rc = spl_txn_server_respond(p->tbl, server, status, b, now);
	if (rc == 0)
		p->stats.rsp_out[status / 100]++;
	else if (rc != -EALREADY)
		px_drop(p, SPL_PROXY_DROP_RSP_SEND_ERROR);
	return rc;
}

/* A final that cannot be built: the server transaction would wait for it
 * forever (an INVITE server transaction in Proceeding has no timer), so
 * it ends; the client retransmits and may be luckier. */
void px_abandon_server(struct spl_proxy *p, uint64_t server, uint16_t status)
{
	if (server != SPL_TXN_NONE && status >= 200)
		spl_txn_terminate(p->tbl, server);
}

/* To tag of our own responses: a function of Call-ID and From tag, so
 * that retransmissions, the 200 to a CANCEL and its 487 agree, and an ACK
 * for a stateless reply of ours is recognised. */
void px_tag(const struct spl_sipmsg *req, uint64_t seed, char out[PX_TAG_LEN])
{
	uint64_t h = px_hash(seed ^ UINT64_C(0x7461677461677461), req->call_id.p, req->call_id.len);
	h = px_hash(h, req->from.tag.p, req->from.tag.len);
	memcpy(out, "spl", 3);
	px_hex16(out + 3, h);
}

int px_local_reply(struct spl_proxy *p, struct spl_sipmsg *req, uint64_t server,
		   const struct spl_txn_peer *dst, enum spl_proxy_local why, uint16_t status,
		   const char *reason, const struct spl_str *extra, unsigned n_extra, uint64_t now)
{
	struct spl_str lines[SPL_SIPMSG_MAX_EDIT_LINES + 1];
	char ra[40];
	unsigned n = 0;
	uint32_t cap = req->hdr_end + 160;
	for (unsigned i = 0; i < n_extra && n < SPL_SIPMSG_MAX_EDIT_LINES; i++) {
		lines[n++] = extra[i];
		cap += extra[i].len + 2;
	}
	if (status == 503) {
		struct px_wr w = { ra, sizeof(ra), 0, false };
		px_puts(&w, "Retry-After: ");
		px_put_uint(&w, p->retry_after_s);
		lines[n++] = (struct spl_str){ ra, w.len };
		cap += w.len + 2;
	}
	char tag[PX_TAG_LEN];
	struct spl_str to_tag = SPL_STR_NULL;
	if (status > 100) {
		px_tag(req, p->loop_seed, tag);
		to_tag = (struct spl_str){ tag, PX_TAG_LEN };
	}
	if (cap > p->max_msg)
		cap = p->max_msg;
	struct spl_txn_buf b;
	if (!px_alloc(p, cap, &b)) {
		px_abandon_server(p, server, status);
		return -ENOBUFS;
	}
	int len = spl_sipmsg_build_response(req, status, reason, to_tag, lines, n,
					    (char *)(uintptr_t)b.data, cap);
	if (len < 0) {
		px_release(p, &b);
		px_drop(p, SPL_PROXY_DROP_TOO_BIG);
		px_abandon_server(p, server, status);
		return -E2BIG;
	}
	b.len = (uint32_t)len;
	p->stats.local[why]++;
	if (status >= 300)
		p->stats.rejects[status / 100]++;
	if (server != SPL_TXN_NONE)
		return px_respond(p, server, status, &b, now);
	p->stats.rsp_out[status / 100]++;
	return px_send_release(p, dst, &b);
}
