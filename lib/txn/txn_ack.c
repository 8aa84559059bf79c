/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ACK an INVITE client transaction sends for a non-2xx final response
 * (RFC 3261 §17.1.1.3), built from the bytes of the INVITE it sent (the
 * "original request") and the response being acknowledged:
 *
 *   ACK <Request-URI of the INVITE> SIP/2.0
 *   Via: <top via-parm of the INVITE>          (the only Via)
 *   Max-Forwards: 70
 *   Route: ...                                 (every Route of the INVITE)
 *   From: <INVITE's From>
 *   To: <response's To, with its tag>
 *   Call-ID: <INVITE's Call-ID>
 *   CSeq: <INVITE's number> ACK
 *   Content-Length: 0
 *
 * This is the slow path (one per failed INVITE), so it re-scans the stored
 * INVITE rather than keeping its fields in the slot.
 */
#include <stdio.h>

#include "txn_priv.h"

struct wr {
	char *p;       /* NULL: only measure */
	uint32_t n;
};

static void put(struct wr *w, const char *s, uint32_t n)
{
	if (w->p != NULL)
		memcpy(w->p + w->n, s, n);
	w->n += n;
}
#define PUT_LIT(w, lit) put((w), (lit), sizeof(lit) - 1)

static void put_hdr(struct wr *w, const char *name, uint32_t nlen, struct spl_str v)
{
	put(w, name, nlen);
	put(w, v.p, v.len);
	PUT_LIT(w, "\r\n");
}
#define PUT_HDR(w, lit, v) put_hdr((w), (lit), sizeof(lit) - 1, (v))

/* Two passes: the first (w.p == NULL) measures, the second writes. */
static void ack_write(struct wr *w, const struct spl_sipmsg *inv, const struct spl_sipmsg *rsp,
		      const char *cseq, uint32_t cseq_len)
{
	PUT_LIT(w, "ACK ");
	put(w, inv->ruri.p, inv->ruri.len);
	PUT_LIT(w, " SIP/2.0\r\n");
	PUT_HDR(w, "Via: ", inv->vias[0].raw);
	PUT_LIT(w, "Max-Forwards: 70\r\n");
	for (const struct spl_sip_hdr *h = spl_sipmsg_hdr(inv, SPL_SIP_HDR_ROUTE); h != NULL;
	     h = h->next == SPL_SIPMSG_NONE ? NULL : &inv->hdrs[h->next])
		PUT_HDR(w, "Route: ", h->value);
	PUT_HDR(w, "From: ", spl_sipmsg_hdr(inv, SPL_SIP_HDR_FROM)->value);
	const struct spl_sip_hdr *to = spl_sipmsg_hdr(rsp, SPL_SIP_HDR_TO);
	if (to == NULL)
		to = spl_sipmsg_hdr(inv, SPL_SIP_HDR_TO);
	PUT_HDR(w, "To: ", to->value);
	PUT_HDR(w, "Call-ID: ", spl_sipmsg_hdr(inv, SPL_SIP_HDR_CALL_ID)->value);
	PUT_LIT(w, "CSeq: ");
	put(w, cseq, cseq_len);
	PUT_LIT(w, " ACK\r\nContent-Length: 0\r\n\r\n");
}

int txn_build_ack(struct spl_txn_table *tbl, struct txn *t, const struct spl_sipmsg *rsp,
		  struct spl_txn_buf *out)
{
	struct spl_sipmsg *inv = &tbl->scratch;

	if (t->sent.data == NULL ||
	    spl_sipmsg_scan(inv, t->sent.data, t->sent.len) != SPL_SIPMSG_E_NONE ||
	    spl_sipmsg_parse(inv, SPL_SIPMSG_P_VIA | SPL_SIPMSG_P_CSEQ) != SPL_SIPMSG_E_NONE ||
	    inv->nvias == 0 || spl_sipmsg_hdr(inv, SPL_SIP_HDR_FROM) == NULL ||
	    spl_sipmsg_hdr(inv, SPL_SIP_HDR_CALL_ID) == NULL ||
	    (spl_sipmsg_hdr(rsp, SPL_SIP_HDR_TO) == NULL && spl_sipmsg_hdr(inv, SPL_SIP_HDR_TO) == NULL))
		return -1;
	char cseq[12];
	int cl = snprintf(cseq, sizeof(cseq), "%u", inv->cseq.num);

	struct wr w = { NULL, 0 };
	ack_write(&w, inv, rsp, cseq, (uint32_t)cl);
	uint32_t len = w.n;
	if (tbl->ops->alloc == NULL || tbl->ops->alloc(tbl->ctx, len, out) != 0)
		return -1;
	w = (struct wr){ (char *)(uintptr_t)out->data, 0 };
	ack_write(&w, inv, rsp, cseq, (uint32_t)cl);
	out->len = len;
	return 0;
}
