/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One proxy hop applied to any valid message, for the corpus tests
 * (test_edit.c, test_rfc3665.c): a request gets a Via, Max-Forwards
 * decremented, a Record-Route and its top Route removed (§16.6); a
 * response loses its top via-parm (§16.7 step 3). The result must
 * validate, carry exactly the intended changes, and never be written past a
 * smaller capacity.
 */
#ifndef TESTS_SIPMSG_EDIT_CHECK_H
#define TESTS_SIPMSG_EDIT_CHECK_H

#include <criterion/criterion.h>
#include <string.h>

#include "spl_sipmsg.h"

#define EDIT_CHECK_BRANCH "z9hG4bKspl0100000007beef"

static inline bool edit_check_same(struct spl_str a, struct spl_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Equal once CR and LF are dropped: build_response joins folded lines. */
static inline bool edit_check_same_unfolded(struct spl_str a, struct spl_str b)
{
	uint32_t i = 0, j = 0;
	for (;;) {
		while (i < a.len && (a.p[i] == '\r' || a.p[i] == '\n'))
			i++;
		while (j < b.len && (b.p[j] == '\r' || b.p[j] == '\n'))
			j++;
		if (i == a.len || j == b.len)
			return i == a.len && j == b.len;
		if (a.p[i++] != b.p[j++])
			return false;
	}
}

/* Capacities to try: dense while small, then sparser, always n - 1. */
static inline uint32_t edit_check_next_cap(uint32_t cap, uint32_t n)
{
	uint32_t next = cap + 1 + cap / 8;
	return (next >= n && cap < n - 1) ? n - 1 : next;
}

/* Returns false when the message is not valid to begin with (nothing to
 * check); asserts on everything else. */
static inline bool edit_check_hop(const char *buf, uint32_t len, const char *what)
{
	static struct spl_sipmsg m, r;
	static char out[65536], small[65536 + 64];
	struct spl_sipmsg_verdict v;

	spl_sipmsg_validate(&m, spl_sipmsg_scan(&m, buf, len), &v);
	if (v.kind != SPL_SIPMSG_OK)
		return false;

	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	if (m.request) {
		if (m.max_forwards == 0)
			return false;  /* answered 483, never forwarded */
		e.via = SPL_STR_LIT("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" EDIT_CHECK_BRANCH);
		e.max_forwards = SPL_SIPMSG_MF_DECREMENT;
		e.remove_top_route = m.nroutes > 0;
		e.n_rr = 1;
		e.rr[0] = SPL_STR_LIT("Record-Route: <sip:192.0.2.1;lr>");
	} else {
		if (m.via_total < 2)
			return false;  /* the response is for us: not forwarded */
		e.remove_top_via = true;
	}
	int n = spl_sipmsg_serialize(&m, &e, out, sizeof(out));
	cr_assert_gt(n, 0, "%s: serialize failed", what);

	spl_sipmsg_validate(&r, spl_sipmsg_scan(&r, out, (uint32_t)n), &v);
	cr_assert_eq(v.kind, SPL_SIPMSG_OK, "%s: edited message invalid (%s)\n%.*s", what,
		     spl_sipmsg_err_reason(v.err), n, out);
	cr_assert_eq(r.len, (uint32_t)n, "%s: framing", what);
	cr_assert(edit_check_same(r.body, m.body), "%s: body changed", what);
	cr_assert_eq(r.count[SPL_SIP_HDR_CONTENT_LENGTH], 1, "%s: Content-Length lines", what);

	if (m.request) {
		cr_assert_eq(r.via_total, m.via_total + 1, "%s", what);
		cr_assert(r.vias[0].branch.len == strlen(EDIT_CHECK_BRANCH) &&
			  memcmp(r.vias[0].branch.p, EDIT_CHECK_BRANCH, r.vias[0].branch.len) == 0, "%s", what);
		for (uint16_t i = 0; i + 1 < r.nvias; i++)
			cr_assert(edit_check_same(r.vias[i + 1].raw, m.vias[i].raw), "%s: via %u", what, i);
		cr_assert_eq(r.max_forwards, m.max_forwards < 0 ? 70 : m.max_forwards - 1, "%s", what);
		cr_assert_eq(r.nroutes, m.nroutes ? m.nroutes - 1 : 0, "%s", what);
		cr_assert_eq(r.count[SPL_SIP_HDR_RECORD_ROUTE], m.count[SPL_SIP_HDR_RECORD_ROUTE] + 1, "%s", what);
		cr_assert(edit_check_same(r.ruri, m.ruri), "%s", what);
	} else {
		cr_assert_eq(r.via_total, m.via_total - 1, "%s", what);
		for (uint16_t i = 0; i < r.nvias && i + 1 < m.nvias; i++)
			cr_assert(edit_check_same(r.vias[i].raw, m.vias[i + 1].raw), "%s: via %u", what, i);
	}

	/* Capacity: every size short of n fails and writes nothing past it. */
	for (uint32_t cap = 0; cap < (uint32_t)n; cap = edit_check_next_cap(cap, (uint32_t)n)) {
		memset(small, 0x5A, (size_t)n + 64);
		cr_assert_eq(spl_sipmsg_serialize(&m, &e, small, cap), -1, "%s: cap %u", what, cap);
		for (uint32_t k = cap; k < (uint32_t)n + 64; k++)
			cr_assert_eq((unsigned char)small[k], 0x5A, "%s: cap %u, byte %u written", what, cap, k);
	}
	return true;
}

#endif /* TESTS_SIPMSG_EDIT_CHECK_H */
