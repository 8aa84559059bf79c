/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The verdict for a datagram: ok, reject with the status a server answers,
 * or drop. The order of the checks decides which fault is named when a
 * message has several, so it follows what a peer most needs to hear:
 * framing and version first, then the headers every transaction needs,
 * then the rest of what a proxy reads.
 */
#include "sipmsg_priv.h"

static void set(struct spl_sipmsg_verdict *v, enum spl_sipmsg_err e, bool response)
{
	uint16_t st = spl_sipmsg_err_status(e);
	v->err = (uint8_t)e;
	v->reason = spl_sipmsg_err_reason(e);
	if (e == SPL_SIPMSG_E_NONE) {
		v->kind = SPL_SIPMSG_OK;
		v->status = 0;
	} else if (response || st == 0) {
		/* A response is never answered (RFC 4475 §3.1.2.5, §3.1.2.19). */
		v->kind = SPL_SIPMSG_DROP;
		v->status = 0;
	} else {
		v->kind = SPL_SIPMSG_REJECT;
		v->status = st;
	}
}

/* Parts checked in order; the first fault is the verdict. Via comes first
 * because without one a request cannot be answered at all. */
static const uint32_t check_order[] = {
	SPL_SIPMSG_P_VIA,    SPL_SIPMSG_P_FROM,   SPL_SIPMSG_P_TO,
	SPL_SIPMSG_P_CALLID, SPL_SIPMSG_P_CSEQ,   SPL_SIPMSG_P_MAXFWD,
	SPL_SIPMSG_P_RURI,   SPL_SIPMSG_P_CONTACT, SPL_SIPMSG_P_ROUTE,
	SPL_SIPMSG_P_EXPIRES,
};

void spl_sipmsg_validate(struct spl_sipmsg *m, enum spl_sipmsg_err scan_err,
			 struct spl_sipmsg_verdict *v)
{
	bool response = !m->request;

	if (scan_err == SPL_SIPMSG_E_EMPTY || scan_err == SPL_SIPMSG_E_START_LINE ||
	    scan_err == SPL_SIPMSG_E_BAD_STATUS) {
		set(v, scan_err, true);
		return;
	}
	/* Nothing can be answered without a Via to send it along. */
	if (m->count[SPL_SIP_HDR_VIA] == 0) {
		set(v, SPL_SIPMSG_E_NO_VIA, true);
		return;
	}
	if (scan_err != SPL_SIPMSG_E_NONE) {
		set(v, scan_err, response);
		return;
	}
	for (size_t i = 0; i < sizeof(check_order) / sizeof(check_order[0]); i++) {
		enum spl_sipmsg_err e = spl_sipmsg_parse(m, check_order[i]);
		if (e == SPL_SIPMSG_E_NO_VIA) {
			set(v, e, true);
			return;
		}
		if (e != SPL_SIPMSG_E_NONE) {
			set(v, e, response);
			return;
		}
	}
	if (m->request) {
		/* CSeq method must be the request's, byte for byte (§8.1.1.5).
		 * For an unknown method the right answer is 501: a proxy that
		 * cannot interpret the method cannot judge the mismatch either
		 * (RFC 4475 §3.1.2.18). */
		if (m->cseq.method.len != m->method.len ||
		    memcmp(m->cseq.method.p, m->method.p, m->method.len) != 0) {
			set(v, m->method_id == SPL_SIP_METHOD_OTHER ? SPL_SIPMSG_E_CSEQ_METHOD_UNK
								    : SPL_SIPMSG_E_CSEQ_METHOD,
			    false);
			return;
		}
	}
	set(v, SPL_SIPMSG_E_NONE, response);
}
