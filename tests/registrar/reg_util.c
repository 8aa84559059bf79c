/* SPDX-License-Identifier: BSD-3-Clause */
#include "reg_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static const char *const domains[] = { "example.com", "192.0.2.1" };

void fx_init(struct fx *f, const struct fx_opts *o)
{
	static const struct fx_opts dflt = { 0 };
	if (o == NULL)
		o = &dflt;
	memset(f, 0, sizeof(*f));
	f->now = T0;
	struct spl_location_conf lc = {
		.nshards = o->nshards ? o->nshards : 1,
		.max_aors = o->max_aors ? o->max_aors : 1000,
		.max_bindings = o->max_bindings,
		.record_bytes = o->record_bytes,
		.pool_records = o->pool_records,
	};
	f->loc = spl_location_create(&lc);
	cr_assert_not_null(f->loc);
	f->reader = spl_location_reader_register(f->loc);
	cr_assert_geq(f->reader, 0);
	struct spl_timerwheel_conf tc = { .capacity = 4096, .tick_ns = 1000000, .now_ns = f->now };
	f->tw = spl_timerwheel_create(&tc);
	cr_assert_not_null(f->tw);

	if (o->with_auth) {
		char md5[65], sha[65], bob[65], text[1024];
		cr_assert_eq(spl_auth_ha1_hex(SPL_AUTH_ALG_MD5, "alice", "example.com", "secret", md5), 0);
		cr_assert_eq(spl_auth_ha1_hex(SPL_AUTH_ALG_SHA256, "alice", "example.com", "secret", sha), 0);
		cr_assert_eq(spl_auth_ha1_hex(SPL_AUTH_ALG_MD5, "bob", "example.com", "secret", bob), 0);
		snprintf(text, sizeof(text),
			 "# test users\nalice:example.com:%s\nalice:example.com:%s\n"
			 "bob:example.com:%s\n", md5, sha, bob);
		unsigned bad;
		f->creds = spl_auth_creds_parse(text, strlen(text), &bad);
		cr_assert_not_null(f->creds, "bad line %u", bad);
		static const struct spl_auth_rule rules[] = {
			{ .domain = "example.com", .methods = SPL_AUTH_METHOD(SPL_SIP_METHOD_REGISTER) |
							     SPL_AUTH_METHOD(SPL_SIP_METHOD_INVITE) },
		};
		struct spl_auth_conf ac = {
			.creds = f->creds,
			.secret = "0123456789abcdef0123456789abcdef",
			.nonce_lifetime_s = o->nonce_lifetime_s,
			.nc_table = o->nc_table,
			.rules = rules,
			.nrules = 1,
		};
		f->auth = spl_auth_create(&ac);
		cr_assert_not_null(f->auth);
	}
	if (o->journal_path) {
		struct spl_journal_conf jc = {
			.path = o->journal_path,
			.buf_bytes = o->jnl_buf_bytes,
			.nbufs = o->jnl_nbufs,
		};
		f->jnl = spl_journal_open(&jc, f->loc, f->now, &f->rep);
		cr_assert_not_null(f->jnl);
	}
	struct spl_registrar_conf rc = {
		.shard = o->shard,
		.domains = domains,
		.ndomains = 2,
		.forward_foreign = o->forward_foreign,
		.min_expires = 60,
		.max_expires = 86400,
	};
	f->reg = spl_registrar_create(&rc, f->loc, f->tw, f->auth, f->jnl, f->now);
	cr_assert_not_null(f->reg);
}

void fx_fini(struct fx *f)
{
	spl_registrar_free(f->reg);
	spl_journal_close(f->jnl);
	spl_timerwheel_free(f->tw);
	spl_auth_free(f->auth);
	spl_auth_creds_free(f->creds);
	spl_location_free(f->loc);
}

static void tw_cb(void *ctx, uint32_t handle, uint64_t data)
{
	(void)handle;
	struct fx *f = ctx;
	if ((data & SPL_REGISTRAR_TIMER_TAG_MASK) == SPL_REGISTRAR_TIMER_TAG)
		spl_registrar_timer_fire(f->reg, data, spl_timerwheel_now(f->tw));
}

void fx_advance(struct fx *f, uint64_t ns)
{
	f->now += ns;
	spl_timerwheel_advance(f->tw, f->now, tw_cb, f);
	fx_quiesce(f);
}

void fx_quiesce(struct fx *f)
{
	spl_location_quiescent(f->loc, f->reader);
}

int mk_register(char *buf, size_t cap, const char *domain, const char *user,
		const char *callid, unsigned cseq, const char *extra)
{
	return snprintf(buf, cap,
			"REGISTER sip:%s SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%08x-%u\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:%s@%s>;tag=f%u\r\n"
			"To: <sip:%s@%s>\r\n"
			"Call-ID: %s\r\n"
			"CSeq: %u REGISTER\r\n"
			"%s"
			"Content-Length: 0\r\n\r\n",
			domain,
			(unsigned)spl_registrar_aor_hash((struct spl_str){ callid, (uint32_t)strlen(callid) }),
			cseq, user, domain, cseq, user, domain, callid, cseq,
			extra ? extra : "");
}

void do_process(struct fx *f, const char *text, struct rsp *r)
{
	size_t n = strlen(text);
	cr_assert_lt(n, sizeof(r->req));
	memcpy(r->req, text, n + 1);
	enum spl_sipmsg_err e = spl_sipmsg_scan(&r->m, r->req, (uint32_t)n);
	struct spl_sipmsg_verdict v;
	spl_sipmsg_validate(&r->m, e, &v);
	cr_assert_eq(v.kind, SPL_SIPMSG_OK, "validate: %s\n%s", v.reason, text);
	static const struct spl_registrar_src src = {
		.family = 4, .transport = SPL_SIP_TRANSPORT_UDP, .port = 40000,
		.addr = { 198, 51, 100, 7 },
	};
	memset(&r->res, 0, sizeof(r->res));
	r->out[0] = 0;
	r->rc = spl_registrar_process(f->reg, &r->m, &src, f->now, r->out, sizeof(r->out) - 1, &r->res);
	if (r->rc == 0 && r->res.action == SPL_REGISTRAR_RESPOND) {
		r->out[r->res.len] = 0;
		/* every response we build must itself be a valid SIP message */
		struct spl_sipmsg *resp = malloc(sizeof(*resp));
		cr_assert_eq(spl_sipmsg_scan(resp, r->out, r->res.len), SPL_SIPMSG_E_NONE, "%s", r->out);
		cr_assert_eq(resp->status, r->res.status);
		free(resp);
	}
}

void do_reg(struct fx *f, const char *callid, unsigned cseq, const char *extra, struct rsp *r)
{
	char text[4096];
	mk_register(text, sizeof(text), "example.com", "alice", callid, cseq, extra);
	do_process(f, text, r);
}

unsigned count_lines(const char *resp, const char *name)
{
	unsigned n = 0;
	size_t l = strlen(name);
	for (const char *p = resp; (p = strstr(p, "\r\n")) != NULL; p += 2)
		if (strncmp(p + 2, name, l) == 0)
			n++;
	return n;
}

bool line_value(const char *resp, const char *name, unsigned n, char *buf, size_t cap)
{
	size_t l = strlen(name);
	for (const char *p = resp; (p = strstr(p, "\r\n")) != NULL; p += 2) {
		if (strncmp(p + 2, name, l) != 0)
			continue;
		if (n-- > 0)
			continue;
		const char *v = p + 2 + l;
		while (*v == ' ')
			v++;
		const char *e = strstr(v, "\r\n");
		size_t len = (size_t)(e - v);
		if (len >= cap)
			return false;
		memcpy(buf, v, len);
		buf[len] = 0;
		return true;
	}
	return false;
}

struct spl_str aor_of(const char *uri, char *buf, size_t cap)
{
	struct spl_sip_uri u;
	cr_assert_eq(spl_sip_uri_parse(uri, (uint32_t)strlen(uri), &u), 0, "%s", uri);
	int n = spl_registrar_aor_canon(&u, buf, (uint32_t)cap);
	cr_assert_gt(n, 0);
	return (struct spl_str){ buf, (uint32_t)n };
}

int lookup(struct fx *f, const char *aor, struct spl_binding *b, unsigned max)
{
	char buf[SPL_REGISTRAR_AOR_MAX];
	return spl_location_lookup(f->loc, aor_of(aor, buf, sizeof(buf)), b, max, f->now);
}
