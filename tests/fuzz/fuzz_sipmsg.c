/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for lib/sipmsg: every entry point on one input.
 *
 *   scan, parse (all parts), validate, shard key; every element grammar on
 *   every header value (whatever the header is, so grammars also see values
 *   they were not written for); every param / name-addr / Via / token list
 *   walked to its end; serialize without and with edits into exactly sized
 *   heap buffers; build_response; and a re-scan of what was produced.
 *
 * The input is copied into a malloc'd buffer of exactly its size so that
 * AddressSanitizer reports any read past the datagram.
 *
 * Besides crashes, a few contract checks from spl_sipmsg.h abort (they are
 * findings too): serialize never claims more than its capacity, no-edit
 * serialization reproduces the framed message, branch encode/decode round
 * trips, the shard key is deterministic, header ids agree with the table,
 * header chains by id are consistent with the counts.
 *
 * Build and run: tests/fuzz/run.sh [SECONDS].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spl_sipmsg.h"

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "fuzz_sipmsg: contract violated: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);                      \
			abort();                                                 \
		}                                                                \
	} while (0)

/* Iterators must end; a bound well above any legitimate count turns a
 * library loop that stops advancing into a finding instead of a timeout. */
#define ITER_BOUND(len) ((size_t)(len) + 2)

static volatile uint32_t sink;

static void touch(struct spl_str s)
{
	/* read every byte so that a slice outside the buffer trips ASan */
	uint32_t h = 0;
	for (uint32_t i = 0; i < s.len; i++)
		h = h * 31 + (uint8_t)s.p[i];
	sink += h;
}

static void walk_params(struct spl_str params, char sep)
{
	struct spl_sip_param_iter it;
	struct spl_str name, value;
	size_t guard = ITER_BOUND(params.len);
	int rc;

	if (!params.p)
		return;
	touch(params);
	spl_sip_param_iter_init(&it, params, sep);
	while ((rc = spl_sip_param_next(&it, &name, &value)) == 1) {
		CHECK(guard-- > 0);
		touch(name);
		touch(value);
	}
	CHECK(rc == 0 || rc == -1);
	struct spl_str v;
	static const char *const names[] = { "branch", "tag", "lr", "transport", "received",
					     "rport", "q", "expires", "maddr", "nonce" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (spl_sip_param_find(params, sep, names[i], &v))
			touch(v);
}

static void walk_host(const struct spl_sip_host *h)
{
	touch(h->text);
	CHECK(h->kind <= SPL_SIP_HOST_IPV6);
}

static void walk_uri(const struct spl_sip_uri *u)
{
	touch(u->raw);
	touch(u->scheme);
	touch(u->opaque);
	if (u->scheme_id == SPL_SIP_SCHEME_OTHER)
		return;  /* only .scheme and .opaque are set */
	touch(u->user);
	touch(u->password);
	walk_host(&u->host);
	touch(u->port_str);
	touch(u->transport);
	touch(u->maddr);
	touch(u->ttl);
	touch(u->user_param);
	touch(u->method);
	walk_params(u->params, ';');
	walk_params(u->headers, '&');
	if (u->user.p) {
		struct spl_sip_uri uu;
		if (spl_sip_uri_parse(u->user.p, u->user.len, &uu) == 0)
			touch(uu.raw);
	}
	if (u->transport.p)
		sink += spl_sip_transport_lookup(u->transport.p, u->transport.len);
	if (u->method.p)
		sink += spl_sip_method_lookup(u->method.p, u->method.len);
	sink += spl_sip_uri_equal(u, u);
}

static void walk_nameaddr(const struct spl_sip_nameaddr *na)
{
	touch(na->raw);
	touch(na->display);
	touch(na->uri_str);
	touch(na->tag);
	touch(na->expires);
	touch(na->q);
	walk_params(na->params, ';');
	if (na->q.p) {
		int q = spl_sip_q_parse(na->q);
		CHECK(q >= -1 && q <= 1000);
	}
	if (!na->star)
		walk_uri(&na->uri);
}

static void walk_via(const struct spl_sip_via *v)
{
	touch(v->raw);
	touch(v->proto_name);
	touch(v->proto_version);
	touch(v->transport);
	walk_host(&v->host);
	touch(v->port_str);
	touch(v->branch);
	touch(v->received);
	touch(v->rport);
	touch(v->maddr);
	touch(v->ttl);
	walk_params(v->params, ';');
	uint8_t shard;
	uint32_t slot;
	uint16_t gen;
	if (v->branch.p && spl_sipmsg_branch_decode(v->branch, &shard, &slot, &gen))
		sink += shard + slot + gen;
	if (v->received.p) {
		struct spl_sip_host h;
		if (spl_sip_host_parse(v->received.p, v->received.len, &h) == 0)
			walk_host(&h);
	}
}

/* Every grammar on one slice, copied to its own exactly sized heap block
 * so that a grammar reading past the end of its slice (not only past the
 * datagram) is caught. */
static void all_grammars_in(struct spl_str s);

static void all_grammars(struct spl_str in)
{
	char *copy = malloc(in.len ? in.len : 1);
	if (!copy)
		return;
	memcpy(copy, in.p, in.len);
	all_grammars_in((struct spl_str){ copy, in.len });
	free(copy);
}

static void all_grammars_in(struct spl_str s)
{
	struct spl_str rest;
	size_t guard;
	int rc;

	struct spl_sip_host h;
	if (spl_sip_host_parse(s.p, s.len, &h) == 0)
		walk_host(&h);

	struct spl_sip_uri u;
	if (spl_sip_uri_parse(s.p, s.len, &u) == 0)
		walk_uri(&u);

	struct spl_sip_nameaddr na;
	if (spl_sip_nameaddr_parse(s.p, s.len, &na) == 0)
		walk_nameaddr(&na);

	rest = s;
	guard = ITER_BOUND(s.len);
	while ((rc = spl_sip_nameaddr_next(&rest, &na)) == 1) {
		CHECK(guard-- > 0);
		walk_nameaddr(&na);
	}
	CHECK(rc == 0 || rc == -1);

	struct spl_sip_via v;
	rest = s;
	guard = ITER_BOUND(s.len);
	while ((rc = spl_sip_via_next(&rest, &v)) == 1) {
		CHECK(guard-- > 0);
		walk_via(&v);
	}
	CHECK(rc == 0 || rc == -1);

	struct spl_sip_cseq c;
	if (spl_sip_cseq_parse(s.p, s.len, &c) == 0)
		touch(c.method);

	uint32_t n;
	if (spl_sip_uint_parse(s.p, s.len, UINT32_MAX, &n) == 0)
		sink += n;
	if (spl_sip_uint_parse(s.p, s.len, 255, &n) == 0)
		CHECK(n <= 255);

	struct spl_str tok;
	rest = s;
	guard = ITER_BOUND(s.len);
	while ((rc = spl_sip_token_next(&rest, &tok)) == 1) {
		CHECK(guard-- > 0);
		touch(tok);
	}
	CHECK(rc == 0 || rc == -1);

	struct spl_sip_auth a;
	if (spl_sip_auth_parse(s.p, s.len, &a) == 0) {
		touch(a.scheme);
		walk_params(a.params, ',');
		touch(a.username); touch(a.realm); touch(a.nonce); touch(a.uri);
		touch(a.response); touch(a.algorithm); touch(a.cnonce); touch(a.opaque);
		touch(a.qop); touch(a.nc); touch(a.stale); touch(a.domain);
	}

	struct spl_sip_retry_after ra;
	if (spl_sip_retry_after_parse(s.p, s.len, &ra) == 0) {
		touch(ra.comment);
		touch(ra.duration);
		walk_params(ra.params, ';');
	}

	struct spl_sip_ctype ct;
	if (spl_sip_ctype_parse(s.p, s.len, &ct) == 0) {
		touch(ct.type);
		touch(ct.subtype);
		walk_params(ct.params, ';');
	}

	walk_params(s, ';');
	walk_params(s, '&');
	walk_params(s, ',');
	sink += spl_sip_hdr_lookup(s.p, s.len);
	sink += spl_sip_method_lookup(s.p, s.len);
	sink += spl_sip_transport_lookup(s.p, s.len);
	sink += spl_str_ieq(s, "INVITE") + spl_str_eq(s, "INVITE");
}

/* Only parts that were parsed, and parsed cleanly, hold valid slices. */
static bool part_ok(const struct spl_sipmsg *m, uint32_t bit)
{
	return (m->parsed & bit) && !(m->parse_failed & bit);
}

static void walk_message(const struct spl_sipmsg *m)
{
	if (m->request && part_ok(m, SPL_SIPMSG_P_RURI))
		walk_uri(&m->ruri_uri);
	if (part_ok(m, SPL_SIPMSG_P_VIA)) {
		CHECK(m->nvias <= SPL_SIPMSG_MAX_VIAS);
		for (unsigned i = 0; i < m->nvias; i++)
			walk_via(&m->vias[i]);
	}
	if (part_ok(m, SPL_SIPMSG_P_FROM))
		walk_nameaddr(&m->from);
	if (part_ok(m, SPL_SIPMSG_P_TO))
		walk_nameaddr(&m->to);
	if (part_ok(m, SPL_SIPMSG_P_CONTACT) && m->ncontacts > 0)
		walk_nameaddr(&m->contact);
	if (part_ok(m, SPL_SIPMSG_P_ROUTE) && m->nroutes > 0)
		walk_nameaddr(&m->route);
	if (part_ok(m, SPL_SIPMSG_P_CALLID))
		touch(m->call_id);
	if (part_ok(m, SPL_SIPMSG_P_CSEQ))
		touch(m->cseq.method);
	if (m->request && part_ok(m, SPL_SIPMSG_P_RURI) && part_ok(m, SPL_SIPMSG_P_TO) &&
	    !m->to.star)
		sink += spl_sip_uri_equal(&m->ruri_uri, &m->to.uri);
}

enum { NO_RESCAN, RESCAN, RESCAN_EXPECT_OK };

/* Serialize into a heap buffer of exactly `cap` bytes; with RESCAN the
 * output is scanned and validated again, and with RESCAN_EXPECT_OK (edits
 * a proxy makes to a message that validated) it must validate too. */
static void serialize(const struct spl_sipmsg *m, const struct spl_sipmsg_edits *e, uint32_t cap,
		      int rescan)
{
	char *out = malloc(cap ? cap : 1);
	if (!out)
		return;
	int n = spl_sipmsg_serialize(m, e, out, cap);
	CHECK(n >= -1 && (n < 0 || (uint32_t)n <= cap));
	if (n > 0 && rescan) {
		struct spl_sipmsg *m2 = malloc(sizeof(*m2));
		char *copy = malloc((size_t)n);
		if (m2 && copy) {
			memcpy(copy, out, (size_t)n);
			enum spl_sipmsg_err err = spl_sipmsg_scan(m2, copy, (uint32_t)n);
			struct spl_sipmsg_verdict v;
			spl_sipmsg_validate(m2, err, &v);
			walk_message(m2);
			if (rescan == RESCAN_EXPECT_OK && v.kind != SPL_SIPMSG_OK) {
				fprintf(stderr, "fuzz_sipmsg: edited output: %s\n--\n%.*s\n--\n",
					v.reason ? v.reason : "?", n, out);
				CHECK(v.kind == SPL_SIPMSG_OK);
			}
		}
		free(copy);
		free(m2);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65535)
		return 0;
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	uint32_t len = (uint32_t)size;
	struct spl_sipmsg *m = malloc(sizeof(*m));
	if (!m) {
		free(buf);
		return 0;
	}

	/* shard key: cheap path, deterministic */
	struct spl_sipmsg_key k1, k2;
	int kr1 = spl_sipmsg_shard_key(buf, len, &k1);
	int kr2 = spl_sipmsg_shard_key(buf, len, &k2);
	CHECK(kr1 == kr2);
	CHECK(kr1 != 0 || (k1.hash == k2.hash && k1.shard == k2.shard && k1.magic == k2.magic));

	/* branch round trip with input-derived fields */
	{
		uint8_t shard = size > 0 ? data[0] : 0;
		uint32_t slot = 0;
		uint16_t gen = size > 2 ? (uint16_t)(data[1] << 8 | data[2]) : 0;
		for (size_t i = 3; i < 7 && i < size; i++)
			slot = slot << 8 | data[i];
		char br[SPL_SIPMSG_BRANCH_LEN];
		spl_sipmsg_branch_encode(br, shard, slot, gen);
		uint8_t s2;
		uint32_t sl2;
		uint16_t g2;
		CHECK(spl_sipmsg_branch_decode((struct spl_str){ br, SPL_SIPMSG_BRANCH_LEN }, &s2, &sl2, &g2));
		CHECK(s2 == shard && sl2 == slot && g2 == gen);
	}

	enum spl_sipmsg_err err = spl_sipmsg_scan(m, buf, len);
	CHECK(err < SPL_SIPMSG_E__COUNT);
	CHECK(m->nhdrs <= SPL_SIPMSG_MAX_HDRS);

	/* header lines found before any fault are valid */
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct spl_sip_hdr *h = &m->hdrs[i];
		touch(h->name);
		touch(h->value);
		CHECK(h->id < SPL_SIP_HDR__COUNT);
		CHECK((uint64_t)h->off + h->len <= m->buf_len);
		if (h->name.p)
			CHECK(h->id == spl_sip_hdr_lookup(h->name.p, h->name.len));
		if (h->value.p)
			all_grammars(h->value);
	}
	if (m->request) {
		touch(m->method);
		touch(m->ruri);
		if (m->ruri.p)
			all_grammars(m->ruri);
	}
	touch(m->version);
	touch(m->reason);

	if (err == SPL_SIPMSG_E_NONE) {
		/* offsets are from m->buf, which skips a leading CRLF run */
		CHECK(m->buf >= buf && m->buf + m->buf_len == buf + len);
		CHECK(m->len <= m->buf_len);
		CHECK((uint64_t)m->body_off + m->body.len <= m->buf_len);
		touch(m->body);
		for (int id = 0; id < SPL_SIP_HDR__COUNT; id++) {
			unsigned cnt = 0;
			size_t guard = SPL_SIPMSG_MAX_HDRS + 1;
			for (uint16_t i = m->first[id]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next) {
				CHECK(guard-- > 0);
				CHECK(i < m->nhdrs);
				CHECK(m->hdrs[i].id == id);
				cnt++;
			}
			CHECK(cnt == m->count[id]);
		}
		const struct spl_sip_hdr *o = spl_sipmsg_hdr_by_name(m, "X-Unknown");
		if (o)
			touch(o->value);

		/* every part, one at a time then all; the cache must hold */
		for (unsigned b = 0; b < 10; b++)
			(void)spl_sipmsg_parse(m, 1u << b);
		enum spl_sipmsg_err pe = spl_sipmsg_parse(m, SPL_SIPMSG_P_PROXY);
		CHECK(pe < SPL_SIPMSG_E__COUNT);
		CHECK((m->parsed & SPL_SIPMSG_P_PROXY) == SPL_SIPMSG_P_PROXY);
		CHECK((pe == SPL_SIPMSG_E_NONE) == !(m->parse_failed & SPL_SIPMSG_P_PROXY));
		walk_message(m);
	}

	struct spl_sipmsg_verdict v;
	spl_sipmsg_validate(m, err, &v);
	CHECK(v.kind <= SPL_SIPMSG_DROP);
	if (v.kind == SPL_SIPMSG_REJECT)
		CHECK(v.status >= 400 && v.status <= 699);

	/* the cheap key path and the full parse agree on the top Via */
	if (v.kind == SPL_SIPMSG_OK && m->nvias > 0) {
		struct spl_str b = m->vias[0].branch;
		bool magic = b.p && b.len > 7 && memcmp(b.p, SPL_SIPMSG_BRANCH_MAGIC, 7) == 0;
		uint8_t shard;
		uint32_t slot;
		uint16_t gen;
		if (magic) {
			CHECK(kr1 == 0 && k1.magic);
			if (spl_sipmsg_branch_decode(b, &shard, &slot, &gen))
				CHECK(k1.shard == shard);
			else
				CHECK(k1.shard == -1);
		} else if (kr1 == 0) {
			CHECK(!k1.magic);
		}
		if (kr1 == 0)
			CHECK(k1.response == !m->request);
	}

	if (err == SPL_SIPMSG_E_NONE) {
		struct spl_sipmsg_edits e;
		spl_sipmsg_edits_init(&e);

		/* no edits (or NULL): the framed message, byte for byte */
		for (int pass = 0; pass < 2; pass++) {
			char *out = malloc(m->len ? m->len : 1);
			if (!out)
				break;
			int n = spl_sipmsg_serialize(m, pass ? NULL : &e, out, m->len);
			CHECK(n == (int)m->len);
			CHECK(memcmp(out, m->buf, m->len) == 0);
			free(out);
		}
		serialize(m, &e, len / 2, NO_RESCAN);

		/* the proxy's forwarding edits */
		char via[80];
		char br[SPL_SIPMSG_BRANCH_LEN];
		spl_sipmsg_branch_encode(br, 3, 0x1a2b, 7);
		int vl = snprintf(via, sizeof(via), "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%.*s",
				  SPL_SIPMSG_BRANCH_LEN, br);
		/* room left for the lines the edits add */
		bool roomy = v.kind == SPL_SIPMSG_OK && m->nhdrs + 4 <= SPL_SIPMSG_MAX_HDRS &&
			     m->nvias + 1 < SPL_SIPMSG_MAX_VIAS;
		e.via = (struct spl_str){ via, (uint32_t)vl };
		e.max_forwards = SPL_SIPMSG_MF_DECREMENT;
		e.n_rr = 2;
		e.rr[0] = SPL_STR_LIT("Record-Route: <sip:192.0.2.1;lr>");
		e.rr[1] = SPL_STR_LIT("Record-Route: <sip:[2001:db8::1];lr;transport=tcp>");
		serialize(m, &e, len + 512, m->request && roomy ? RESCAN_EXPECT_OK : RESCAN);
		e.remove_top_route = true;
		serialize(m, &e, len + 512, m->request && roomy ? RESCAN_EXPECT_OK : RESCAN);
		serialize(m, &e, len / 3 + 40, NO_RESCAN);

		/* the response path */
		spl_sipmsg_edits_init(&e);
		e.remove_top_via = true;
		serialize(m, &e, len + 64, !m->request && roomy && m->nvias >= 2 ? RESCAN_EXPECT_OK : RESCAN);

		/* everything at once */
		spl_sipmsg_edits_init(&e);
		e.ruri = SPL_STR_LIT("sip:bob@192.0.2.9:5062;transport=udp");
		e.via = (struct spl_str){ via, (uint32_t)vl };
		e.remove_top_via = true;
		e.remove_top_route = true;
		e.max_forwards = size > 0 ? data[size - 1] : 0;
		e.n_rr = 1;
		e.rr[0] = SPL_STR_LIT("Record-Route: <sip:p.example.com;lr>");
		e.n_append = 2;
		e.append[0] = SPL_STR_LIT("X-Fuzz: 1");
		e.append[1] = SPL_STR_LIT("Supported: path");
		if (m->nhdrs > 0) {
			spl_sipmsg_edits_remove(&e, 0);
			spl_sipmsg_edits_remove(&e, (uint16_t)(m->nhdrs - 1));
		}
		e.replace_body = true;
		e.body = SPL_STR_LIT("v=0\r\no=- 0 0 IN IP4 192.0.2.1\r\n");
		serialize(m, &e, len + 1024, RESCAN);
		serialize(m, &e, 16, NO_RESCAN);

		e.replace_body = true;
		e.body = SPL_STR_NULL;
		e.max_forwards = SPL_SIPMSG_MF_KEEP;
		serialize(m, &e, len + 1024, RESCAN);
	}

	if (m->request && err == SPL_SIPMSG_E_NONE) {
		static const uint16_t codes[] = { 100, 180, 200, 400, 404, 483, 503, 699 };
		uint16_t st = codes[size % (sizeof(codes) / sizeof(codes[0]))];
		struct spl_str extra[2] = { SPL_STR_LIT("Retry-After: 5"), SPL_STR_LIT("Server: fuzz") };
		uint32_t caps[] = { 4096 + 2 * len, 32 };
		for (size_t i = 0; i < 2; i++) {
			char *out = malloc(caps[i]);
			if (!out)
				break;
			int n = spl_sipmsg_build_response(m, st, i ? "Odd" : NULL, SPL_STR_LIT("fz1"), extra,
							  2, out, caps[i]);
			CHECK(n >= -1 && (n < 0 || (uint32_t)n <= caps[i]));
			if (n > 0) {
				struct spl_sipmsg *r = malloc(sizeof(*r));
				char *copy = malloc((size_t)n);
				if (r && copy) {
					memcpy(copy, out, (size_t)n);
					(void)spl_sipmsg_scan(r, copy, (uint32_t)n);
					(void)spl_sipmsg_parse(r, SPL_SIPMSG_P_PROXY);
				}
				free(copy);
				free(r);
			}
			free(out);
		}
	}
	const char *phrase = spl_sip_status_phrase((uint16_t)(size % 700));
	if (phrase)
		sink += (uint8_t)phrase[0];

	free(m);
	free(buf);
	return 0;
}
