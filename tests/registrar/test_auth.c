/* SPDX-License-Identifier: BSD-3-Clause */
/* Digest authentication: REGISTER scenarios (401) and the generic check
 * the proxy uses (407), credentials file, nonces, replay table. */
#include <criterion/criterion.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reg_util.h"

/* An independent digest computation (RFC 7616 §3.4.1, qop=auth). */
static void hex_digest(const char *alg, const char *in, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	const EVP_MD *md = strcmp(alg, "SHA-256") == 0 ? EVP_sha256() : EVP_md5();
	cr_assert(EVP_Digest(in, strlen(in), d, &len, md, NULL));
	for (unsigned i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void response(const char *alg, const char *user, const char *pass, const char *method,
		     const char *uri, const char *nonce, const char *nc, const char *cnonce, char *out)
{
	char a1[256], a2[256], ha1[65], ha2[65], kd[512];
	snprintf(a1, sizeof(a1), "%s:example.com:%s", user, pass);
	snprintf(a2, sizeof(a2), "%s:%s", method, uri);
	hex_digest(alg, a1, ha1);
	hex_digest(alg, a2, ha2);
	snprintf(kd, sizeof(kd), "%s:%s:%s:%s:auth:%s", ha1, nonce, nc, cnonce, ha2);
	hex_digest(alg, kd, out);
}

/* nonce="..." out of the n-th challenge line */
static void challenge_nonce(const char *resp, const char *hdr, unsigned n, char *nonce, bool *stale,
			    char *alg)
{
	char v[512];
	cr_assert(line_value(resp, hdr, n, v, sizeof(v)), "no %s in\n%s", hdr, resp);
	const char *p = strstr(v, "nonce=\"");
	cr_assert_not_null(p);
	p += 7;
	const char *e = strchr(p, '"');
	memcpy(nonce, p, (size_t)(e - p));
	nonce[e - p] = 0;
	if (stale)
		*stale = strstr(v, "stale=true") != NULL;
	if (alg) {
		const char *a = strstr(v, "algorithm=");
		cr_assert_not_null(a);
		sscanf(a + 10, "%15[^,]", alg);
	}
	cr_assert_not_null(strstr(v, "realm=\"example.com\""));
	cr_assert_not_null(strstr(v, "qop=\"auth\""));
}

static void authorization(char *hdr, size_t cap, const char *alg, const char *user, const char *pass,
			  const char *nonce, const char *nc)
{
	char resp[65];
	const char *uri = "sip:example.com";
	response(alg, user, pass, "REGISTER", uri, nonce, nc, "0a4f113b", resp);
	snprintf(hdr, cap,
		 "Authorization: Digest username=\"%s\", realm=\"example.com\", nonce=\"%s\", "
		 "uri=\"%s\", response=\"%s\", algorithm=%s, qop=auth, nc=%s, cnonce=\"0a4f113b\"\r\n"
		 "Contact: <sip:a@10.0.0.1>\r\n",
		 user, nonce, uri, resp, alg, nc);
}

static void get_challenge(struct fx *f, struct rsp *r, char *nonce)
{
	do_reg(f, "c1", 1, "Contact: <sip:a@10.0.0.1>\r\n", r);
	cr_assert_eq(r->res.status, 401, "%s", r->out);
	challenge_nonce(r->out, "WWW-Authenticate:", 0, nonce, NULL, NULL);
}

Test(registrar_auth, missing_credentials_get_a_challenge_sha256_first)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .with_auth = true };
	fx_init(&f, &o);
	do_reg(&f, "c1", 1, "Contact: <sip:a@10.0.0.1>\r\n", &r);
	cr_assert_eq(r.res.status, 401);
	cr_assert_eq(r.res.reason, SPL_REGISTRAR_R_AUTH_CHALLENGE);
	cr_assert_eq(count_lines(r.out, "WWW-Authenticate:"), 2);
	char nonce[64], alg[16];
	challenge_nonce(r.out, "WWW-Authenticate:", 0, nonce, NULL, alg);
	cr_assert_str_eq(alg, "SHA-256");
	challenge_nonce(r.out, "WWW-Authenticate:", 1, nonce, NULL, alg);
	cr_assert_str_eq(alg, "MD5");
	cr_assert_eq(strlen(nonce), 38);
	struct spl_binding b[2];
	cr_assert_eq(lookup(&f, "sip:alice@example.com", b, 2), 0);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.auth.challenges, 1);
	cr_assert_eq(st.auth.by_why[SPL_AUTH_WHY_MISSING], 1);
	cr_assert_eq(st.auth.failures, 0);
	fx_fini(&f);
}

static void good_alg(const char *alg)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .with_auth = true };
	fx_init(&f, &o);
	char nonce[64], hdr[1024];
	get_challenge(&f, &r, nonce);
	fx_advance(&f, SEC(1));
	authorization(hdr, sizeof(hdr), alg, "alice", "secret", nonce, "00000001");
	do_reg(&f, "c1", 2, hdr, &r);
	cr_assert_eq(r.res.status, 200, "%s\n%s", alg, r.out);
	struct spl_binding b[2];
	cr_assert_eq(lookup(&f, "sip:alice@example.com", b, 2), 1);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.auth.ok, 1);
	/* the same nonce with the next nc keeps working */
	authorization(hdr, sizeof(hdr), alg, "alice", "secret", nonce, "00000002");
	do_reg(&f, "c1", 3, hdr, &r);
	cr_assert_eq(r.res.status, 200);
	fx_fini(&f);
}

Test(registrar_auth, good_md5) { good_alg("MD5"); }
Test(registrar_auth, good_sha256) { good_alg("SHA-256"); }

Test(registrar_auth, wrong_password_is_challenged_again_and_counted)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .with_auth = true };
	fx_init(&f, &o);
	char nonce[64], hdr[1024];
	get_challenge(&f, &r, nonce);
	authorization(hdr, sizeof(hdr), "MD5", "alice", "wrong", nonce, "00000001");
	do_reg(&f, "c1", 2, hdr, &r);
	cr_assert_eq(r.res.status, 401);
	bool stale;
	challenge_nonce(r.out, "WWW-Authenticate:", 0, nonce, &stale, NULL);
	cr_assert(!stale);
	/* an unknown user looks the same from outside */
	authorization(hdr, sizeof(hdr), "MD5", "mallory", "secret", nonce, "00000001");
	do_reg(&f, "c1", 3, hdr, &r);
	cr_assert_eq(r.res.status, 401);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.auth.failures, 2);
	cr_assert_eq(st.auth.by_why[SPL_AUTH_WHY_BAD_RESPONSE], 1);
	cr_assert_eq(st.auth.by_why[SPL_AUTH_WHY_UNKNOWN_USER], 1);
	cr_assert_eq(st.by_reason[SPL_REGISTRAR_R_AUTH_CHALLENGE], 3);
	fx_fini(&f);
}

Test(registrar_auth, stale_nonce_gets_stale_true)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .with_auth = true, .nonce_lifetime_s = 30 };
	fx_init(&f, &o);
	char nonce[64], hdr[1024];
	get_challenge(&f, &r, nonce);
	fx_advance(&f, SEC(31));
	authorization(hdr, sizeof(hdr), "SHA-256", "alice", "secret", nonce, "00000001");
	do_reg(&f, "c1", 2, hdr, &r);
	cr_assert_eq(r.res.status, 401);
	bool stale;
	char fresh[64];
	challenge_nonce(r.out, "WWW-Authenticate:", 0, fresh, &stale, NULL);
	cr_assert(stale, "%s", r.out);
	cr_assert_str_neq(fresh, nonce);
	/* a wrong password with an old nonce is a failure, not stale */
	authorization(hdr, sizeof(hdr), "SHA-256", "alice", "bad", nonce, "00000002");
	do_reg(&f, "c1", 3, hdr, &r);
	challenge_nonce(r.out, "WWW-Authenticate:", 0, fresh, &stale, NULL);
	cr_assert(!stale);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.auth.stale, 1);
	fx_fini(&f);
}

Test(registrar_auth, replayed_nc_is_rejected)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .with_auth = true };
	fx_init(&f, &o);
	char nonce[64], hdr[1024];
	get_challenge(&f, &r, nonce);
	authorization(hdr, sizeof(hdr), "MD5", "alice", "secret", nonce, "00000003");
	do_reg(&f, "c1", 2, hdr, &r);
	cr_assert_eq(r.res.status, 200);
	do_reg(&f, "c1", 3, hdr, &r);   /* the very same credentials again */
	cr_assert_eq(r.res.status, 401);
	authorization(hdr, sizeof(hdr), "MD5", "alice", "secret", nonce, "00000002");
	do_reg(&f, "c1", 4, hdr, &r);
	cr_assert_eq(r.res.status, 401, "a lower nc is a replay too");
	authorization(hdr, sizeof(hdr), "MD5", "alice", "secret", nonce, "00000004");
	do_reg(&f, "c1", 5, hdr, &r);
	cr_assert_eq(r.res.status, 200);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.auth.by_why[SPL_AUTH_WHY_REPLAY], 2);
	fx_fini(&f);
}

Test(registrar_auth, forged_nonce_and_other_user_aor)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .with_auth = true };
	fx_init(&f, &o);
	char nonce[64], hdr[1024];
	get_challenge(&f, &r, nonce);
	nonce[5] = nonce[5] == 'A' ? 'B' : 'A';
	authorization(hdr, sizeof(hdr), "MD5", "alice", "secret", nonce, "00000001");
	do_reg(&f, "c1", 2, hdr, &r);
	cr_assert_eq(r.res.status, 401);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_eq(st.auth.by_why[SPL_AUTH_WHY_BAD_NONCE], 1);

	/* bob authenticates fine but may not touch alice's bindings (§10.3 step 4) */
	get_challenge(&f, &r, nonce);
	authorization(hdr, sizeof(hdr), "MD5", "bob", "secret", nonce, "00000001");
	do_reg(&f, "c1", 3, hdr, &r);
	cr_assert_eq(r.res.status, 403, "%s", r.out);
	cr_assert_eq(r.res.reason, SPL_REGISTRAR_R_AUTH_FORBIDDEN);
	fx_fini(&f);
}

Test(registrar_auth, proxy_check_uses_407_headers_and_policy)
{
	struct fx f;
	struct fx_opts o = { .with_auth = true };
	fx_init(&f, &o);
	static char invite[] =
		"INVITE sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-77\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:alice@example.com>;tag=9\r\nTo: <sip:bob@example.com>\r\n"
		"Call-ID: inv1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@10.0.0.1>\r\n"
		"Content-Length: 0\r\n\r\n";
	struct spl_sipmsg *m = malloc(sizeof(*m));
	cr_assert_eq(spl_sipmsg_scan(m, invite, sizeof(invite) - 1), SPL_SIPMSG_E_NONE);
	struct spl_auth_result ar;
	cr_assert_eq(spl_auth_check(f.auth, m, SPL_AUTH_PROXY, SPL_STR_NULL, f.now, &ar), 0);
	cr_assert_eq(ar.verdict, SPL_AUTH_CHALLENGE);
	char buf[1024];
	struct spl_str lines[4];
	int n = spl_auth_challenge(f.auth, &ar, SPL_AUTH_PROXY, f.now, buf, sizeof(buf), lines, 4);
	cr_assert_eq(n, 2);
	cr_assert_eq(strncmp(lines[0].p, "Proxy-Authenticate: Digest realm=\"example.com\"", 46), 0);
	char resp[2048];
	int len = spl_sipmsg_build_response(m, 407, NULL, SPL_STR_LIT("t1"), lines, (unsigned)n, resp,
					    sizeof(resp) - 1);
	cr_assert_gt(len, 0);
	resp[len] = 0;
	cr_assert_eq(count_lines(resp, "Proxy-Authenticate:"), 2);
	free(m);

	/* a method the policy does not name needs nothing */
	static char options[] =
		"OPTIONS sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-78\r\n"
		"From: <sip:alice@example.com>;tag=9\r\nTo: <sip:bob@example.com>\r\n"
		"Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	m = malloc(sizeof(*m));
	cr_assert_eq(spl_sipmsg_scan(m, options, sizeof(options) - 1), SPL_SIPMSG_E_NONE);
	cr_assert_eq(spl_auth_check(f.auth, m, SPL_AUTH_PROXY, SPL_STR_NULL, f.now, &ar), 0);
	cr_assert_eq(ar.verdict, SPL_AUTH_NOT_REQUIRED);
	free(m);
	fx_fini(&f);
}

Test(registrar_auth, proxy_authorization_verifies)
{
	struct fx f;
	struct fx_opts o = { .with_auth = true };
	fx_init(&f, &o);
	struct spl_auth_result ar = { .realm_len = 11 };
	memcpy(ar.realm, "example.com", 12);
	char buf[1024], nonce[64];
	struct spl_str lines[4];
	int n = spl_auth_challenge(f.auth, &ar, SPL_AUTH_PROXY, f.now, buf, sizeof(buf), lines, 4);
	cr_assert_eq(n, 2);
	char l0[512];
	snprintf(l0, sizeof(l0), "\r\n%.*s\r\n", (int)lines[0].len, lines[0].p);
	challenge_nonce(l0, "Proxy-Authenticate:", 0, nonce, NULL, NULL);
	char rsp[65], msg[2048];
	response("SHA-256", "alice", "secret", "INVITE", "sip:bob@example.com", nonce, "00000001",
		 "xyz", rsp);
	snprintf(msg, sizeof(msg),
		 "INVITE sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-79\r\n"
		 "From: <sip:alice@example.com>;tag=9\r\nTo: <sip:bob@example.com>\r\n"
		 "Call-ID: inv2\r\nCSeq: 2 INVITE\r\n"
		 "Proxy-Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"%s\", "
		 "uri=\"sip:bob@example.com\", response=\"%s\", algorithm=SHA-256, qop=auth, "
		 "nc=00000001, cnonce=\"xyz\"\r\n"
		 "Content-Length: 0\r\n\r\n", nonce, rsp);
	struct spl_sipmsg *m = malloc(sizeof(*m));
	cr_assert_eq(spl_sipmsg_scan(m, msg, (uint32_t)strlen(msg)), SPL_SIPMSG_E_NONE);
	cr_assert_eq(spl_auth_check(f.auth, m, SPL_AUTH_PROXY, SPL_STR_NULL, f.now, &ar), 0);
	cr_assert_eq(ar.verdict, SPL_AUTH_OK, "why %u", ar.why);
	cr_assert_eq(ar.alg, SPL_AUTH_ALG_SHA256);
	cr_assert_eq(ar.username.len, 5);
	/* Authorization (not Proxy-) is not looked at for a proxy check */
	cr_assert_eq(spl_auth_check(f.auth, m, SPL_AUTH_WWW, SPL_STR_NULL, f.now, &ar), 0);
	cr_assert_eq(ar.verdict, SPL_AUTH_CHALLENGE);
	cr_assert_eq(ar.why, SPL_AUTH_WHY_MISSING);
	free(m);
	fx_fini(&f);
}

Test(registrar_auth, full_nc_table_forgets_safely_with_stale)
{
	struct fx f;
	struct rsp r;
	struct fx_opts o = { .with_auth = true, .nc_table = 4 };   /* one set of 4 */
	fx_init(&f, &o);
	char nonces[6][64], hdr[1024];
	for (int i = 0; i < 6; i++) {
		get_challenge(&f, &r, nonces[i]);
		fx_advance(&f, SEC(1));
	}
	for (int i = 1; i < 6; i++) {   /* use 5 fresh nonces: the first of them is evicted */
		authorization(hdr, sizeof(hdr), "MD5", "alice", "secret", nonces[i], "00000001");
		do_reg(&f, "c1", 10 + (unsigned)i, hdr, &r);
		cr_assert_eq(r.res.status, 200, "nonce %d", i);
	}
	/* nonce 1 was pushed out while fresh: its replay must not pass */
	authorization(hdr, sizeof(hdr), "MD5", "alice", "secret", nonces[1], "00000001");
	do_reg(&f, "c1", 20, hdr, &r);
	cr_assert_eq(r.res.status, 401);
	bool stale;
	char fresh[64];
	challenge_nonce(r.out, "WWW-Authenticate:", 0, fresh, &stale, NULL);
	cr_assert(stale, "forgotten nonces are refreshed, not trusted");
	/* nonce 0, older than the watermark, never used: also refreshed */
	authorization(hdr, sizeof(hdr), "MD5", "alice", "secret", nonces[0], "00000001");
	do_reg(&f, "c1", 21, hdr, &r);
	cr_assert_eq(r.res.status, 401);
	struct spl_registrar_stats st;
	spl_registrar_get_stats(f.reg, &st);
	cr_assert_geq(st.auth.nc_evictions, 1);
	fx_fini(&f);
}

Test(registrar_auth, credentials_file_loader)
{
	char md5[65], sha[65];
	cr_assert_eq(spl_auth_ha1_hex(SPL_AUTH_ALG_MD5, "u", "r", "p", md5), 0);
	cr_assert_eq(strlen(md5), 32);
	cr_assert_eq(spl_auth_ha1_hex(SPL_AUTH_ALG_SHA256, "u", "r", "p", sha), 0);
	cr_assert_eq(strlen(sha), 64);
	/* RFC 2617 §3.5's example HA1 (Mufasa / Circle Of Life) */
	cr_assert_eq(spl_auth_ha1_hex(SPL_AUTH_ALG_MD5, "Mufasa", "testrealm@host.com",
				      "Circle Of Life", md5), 0);
	cr_assert_str_eq(md5, "939e7578ed9e3c518a452acee763bce9");

	char path[] = "/tmp/spl-creds-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	char text[1024];
	int n = snprintf(text, sizeof(text),
			 "# comment\n\n  alice:example.com:%s  \r\nalice:example.com:%s\n"
			 "bob:other.realm:%s\n", md5, sha, md5);
	cr_assert_eq(write(fd, text, (size_t)n), n);
	close(fd);
	unsigned bad = 99;
	struct spl_auth_creds *c = spl_auth_creds_load(path, &bad);
	cr_assert_not_null(c);
	cr_assert_eq(bad, 0);
	cr_assert_eq(spl_auth_creds_count(c), 2, "two kinds for alice are one user");
	spl_auth_creds_free(c);
	unlink(path);

	const char *bad_texts[] = {
		"alice:example.com:0123\n",                      /* short HA1 */
		"ok:r:939e7578ed9e3c518a452acee763bce9\nnocolons\n",
		"a:r:939e7578ed9e3c518a452acee763bce9\na:r:939e7578ed9e3c518a452acee763bce9\n",
		"# x\n\n:r:939e7578ed9e3c518a452acee763bce9\n",  /* empty user */
		"a:r:zz9e7578ed9e3c518a452acee763bce9\n",        /* not hex */
	};
	const unsigned bad_lines[] = { 1, 2, 2, 3, 1 };
	for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
		bad = 0;
		errno = 0;
		c = spl_auth_creds_parse(bad_texts[i], strlen(bad_texts[i]), &bad);
		cr_assert_null(c, "case %zu", i);
		cr_assert_eq(errno, EINVAL);
		cr_assert_eq(bad, bad_lines[i], "case %zu: line %u", i, bad);
	}
	cr_assert_null(spl_auth_creds_load("/nonexistent/creds", &bad));
	cr_assert_eq(errno, ENOENT);
}

/* Without an explicit algorithm list, the challenge offers only what the
 * credentials can verify: a SHA-256 challenge (taken first by RFC 8760
 * clients) to users holding only an MD5 HA1 could never succeed. */
static int challenge_lines_for(const char *creds_text, uint8_t want_algs, char *buf, size_t cap,
			       struct spl_str *lines)
{
	unsigned bad;
	struct spl_auth_creds *c = spl_auth_creds_parse(creds_text, strlen(creds_text), &bad);
	cr_assert_not_null(c, "bad line %u", bad);
	cr_assert_eq(spl_auth_creds_algorithms(c), want_algs);
	static const struct spl_auth_rule rules[] = {
		{ .domain = "*", .methods = SPL_AUTH_METHOD(SPL_SIP_METHOD_REGISTER) },
	};
	struct spl_auth_conf ac = { .creds = c, .secret = "0123456789abcdef0123456789abcdef",
				    .rules = rules, .nrules = 1 };
	struct spl_auth *a = spl_auth_create(&ac);
	cr_assert_not_null(a);
	struct spl_auth_result ar = { .realm_len = 11 };
	memcpy(ar.realm, "example.com", 12);
	int n = spl_auth_challenge(a, &ar, SPL_AUTH_WWW, T0, buf, (uint32_t)cap, lines, 4);
	spl_auth_free(a);
	spl_auth_creds_free(c);
	return n;
}

Test(registrar_auth, challenge_offers_only_algorithms_the_credentials_hold)
{
	char md5[65], sha[65], text[512], buf[1024];
	struct spl_str lines[4];
	cr_assert_eq(spl_auth_ha1_hex(SPL_AUTH_ALG_MD5, "alice", "example.com", "secret", md5), 0);
	cr_assert_eq(spl_auth_ha1_hex(SPL_AUTH_ALG_SHA256, "alice", "example.com", "secret", sha), 0);

	snprintf(text, sizeof(text), "alice:example.com:%s\nbob:example.com:%s\n", md5, md5);
	int n = challenge_lines_for(text, SPL_AUTH_ALG_MD5, buf, sizeof(buf), lines);
	cr_assert_eq(n, 1);
	cr_assert_not_null(memmem(lines[0].p, lines[0].len, "algorithm=MD5", 13));

	snprintf(text, sizeof(text), "alice:example.com:%s\n", sha);
	n = challenge_lines_for(text, SPL_AUTH_ALG_SHA256, buf, sizeof(buf), lines);
	cr_assert_eq(n, 1);
	cr_assert_not_null(memmem(lines[0].p, lines[0].len, "algorithm=SHA-256", 17));

	snprintf(text, sizeof(text), "alice:example.com:%s\nalice:example.com:%s\n", md5, sha);
	n = challenge_lines_for(text, SPL_AUTH_ALG_MD5 | SPL_AUTH_ALG_SHA256, buf, sizeof(buf), lines);
	cr_assert_eq(n, 2);
	cr_assert_not_null(memmem(lines[0].p, lines[0].len, "algorithm=SHA-256", 17));
	cr_assert_not_null(memmem(lines[1].p, lines[1].len, "algorithm=MD5", 13));
}
