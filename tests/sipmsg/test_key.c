/* SPDX-License-Identifier: BSD-3-Clause */
/* Level 3: the shard key and our branch format. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "spl_sipmsg.h"

static int key_of(const char *s, struct spl_sipmsg_key *k)
{
	return spl_sipmsg_shard_key(s, (uint32_t)strlen(s), k);
}

Test(sipmsg_key, branch_round_trip)
{
	char b[SPL_SIPMSG_BRANCH_LEN + 8];
	spl_sipmsg_branch_encode(b, 7, 0xdeadbeef, 0x1234);
	struct spl_str s = { b, SPL_SIPMSG_BRANCH_LEN };
	cr_expect(memcmp(b, "z9hG4bK", 7) == 0);
	uint8_t shard;
	uint32_t slot;
	uint16_t gen;
	cr_assert(spl_sipmsg_branch_decode(s, &shard, &slot, &gen));
	cr_expect_eq(shard, 7);
	cr_expect_eq(slot, 0xdeadbeef);
	cr_expect_eq(gen, 0x1234);
	/* The proxy's loop-detection suffix is allowed after a '.'. */
	memcpy(b + SPL_SIPMSG_BRANCH_LEN, ".ab12", 5);
	s.len += 5;
	cr_expect(spl_sipmsg_branch_decode(s, &shard, &slot, &gen));
	b[SPL_SIPMSG_BRANCH_LEN] = 'x';
	cr_expect(!spl_sipmsg_branch_decode(s, &shard, &slot, &gen));
	/* Not ours: other prefixes, short, uppercase hex. */
	cr_expect(!spl_sipmsg_branch_decode(SPL_STR_LIT("z9hG4bK776asdhds"), &shard, &slot, &gen));
	cr_expect(!spl_sipmsg_branch_decode(SPL_STR_LIT("z9hG4bKspl07"), &shard, &slot, &gen));
	cr_expect(!spl_sipmsg_branch_decode(SPL_STR_LIT("z9hG4bKspl07DEADBEEF1234"), &shard, &slot, &gen));
}

Test(sipmsg_key, request_key_is_branch_hash)
{
	struct spl_sipmsg_key a, b, c;
	cr_assert_eq(key_of("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKabc\r\nCSeq: 1 INVITE\r\n\r\n", &a), 0);
	cr_expect(a.magic);
	cr_expect(!a.response);
	cr_expect_eq(a.shard, -1);
	/* CANCEL and ACK for a non-2xx carry the INVITE's branch: same key. */
	cr_assert_eq(key_of("CANCEL sip:a@b SIP/2.0\r\nMax-Forwards: 70\r\nv: SIP/2.0/UDP h;rport;branch=z9hG4bKabc\r\n\r\n", &b), 0);
	cr_expect_eq(a.hash, b.hash);
	cr_assert_eq(key_of("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKabd\r\n\r\n", &c), 0);
	cr_expect_neq(a.hash, c.hash);
}

Test(sipmsg_key, folded_and_spaced_via_use_full_grammar)
{
	struct spl_sipmsg_key a, b;
	cr_assert_eq(key_of("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKabc\r\n\r\n", &a), 0);
	cr_assert_eq(key_of("INVITE sip:a@b SIP/2.0\r\nVia  : SIP / 2.0 / UDP h ;\r\n  branch = z9hG4bKabc\r\n\r\n", &b), 0);
	cr_expect_eq(a.hash, b.hash);
	cr_assert_eq(key_of("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h; BRANCH=z9hG4bKabc\r\n\r\n", &b), 0);
	cr_expect_eq(a.hash, b.hash);
}

Test(sipmsg_key, response_decodes_our_branch)
{
	char b[SPL_SIPMSG_BRANCH_LEN + 1] = { 0 };
	spl_sipmsg_branch_encode(b, 3, 42, 9);
	char msg[512];
	snprintf(msg, sizeof(msg), "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP proxy;branch=%s.x1\r\n"
		 "Via: SIP/2.0/UDP uac;branch=z9hG4bKuac\r\n\r\n", b);
	struct spl_sipmsg_key k;
	cr_assert_eq(key_of(msg, &k), 0);
	cr_expect(k.response);
	cr_expect_eq(k.shard, 3);
}

Test(sipmsg_key, rfc2543_uses_call_id)
{
	struct spl_sipmsg_key inv, ack, other;
	cr_assert_eq(key_of("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCall-ID: abc@h\r\n\r\n", &inv), 0);
	cr_assert_eq(key_of("ACK sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=old\r\ni: abc@h\r\n\r\n", &ack), 0);
	cr_assert_eq(key_of("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCall-ID: abd@h\r\n\r\n", &other), 0);
	cr_expect(!inv.magic);
	cr_expect_eq(inv.hash, ack.hash);
	cr_expect_neq(inv.hash, other.hash);
	/* A bare magic cookie is no transaction id (RFC 4475 §3.2.1). */
	cr_assert_eq(key_of("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK\r\nCall-ID: abc@h\r\n\r\n", &ack), 0);
	cr_expect(!ack.magic);
	cr_expect_eq(inv.hash, ack.hash);
}

Test(sipmsg_key, no_key_for_garbage)
{
	struct spl_sipmsg_key k;
	cr_expect_eq(key_of("", &k), -1);
	cr_expect_eq(key_of("INVITE sip:a@b SIP/2.0", &k), -1);
	cr_expect_eq(key_of("INVITE sip:a@b SIP/2.0\r\nTo: x\r\n\r\n", &k), -1);
	cr_expect_eq(key_of("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n", &k), -1);
}

/* The key agrees with the full parser on every corpus-like layout. */
Test(sipmsg_key, agrees_with_full_parse)
{
	const char *msgs[] = {
		"INVITE sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\nVia: SIP/2.0/TCP h:5060;received=1.2.3.4;branch=z9hG4bKq1, SIP/2.0/UDP g;branch=z9hG4bKq2\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\nVia: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111\n\n",
		"OPTIONS sip:a@b SIP/2.0\r\nvia: SIP/2.0/UDP h;rport;branch=z9hG4bK.x-_!%*+`'~;ttl=3\r\n\r\n",
	};
	static struct spl_sipmsg m;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct spl_sipmsg_key k;
		cr_assert_eq(key_of(msgs[i], &k), 0, "%zu", i);
		spl_sipmsg_scan(&m, msgs[i], (uint32_t)strlen(msgs[i]));
		cr_assert_eq(spl_sipmsg_parse(&m, SPL_SIPMSG_P_VIA), SPL_SIPMSG_E_NONE, "%zu", i);
		char alt[512];
		snprintf(alt, sizeof(alt), "INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP z;branch=%.*s\r\n\r\n",
			 (int)m.vias[0].branch.len, m.vias[0].branch.p);
		struct spl_sipmsg_key k2;
		cr_assert_eq(key_of(alt, &k2), 0);
		cr_expect_eq(k.hash, k2.hash, "msg %zu", i);
	}
}
