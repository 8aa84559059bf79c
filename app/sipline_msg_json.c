/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON rendering for sipline-msg --json: one compact document per file.
 *
 *   { "file", "size", "verdict": {kind, status, reason, error},
 *     "scan_error", "start_line": {...}, "request_uri": {...},
 *     "headers": [ {index, name, id, compact, value, parsed | error} ],
 *     "parts": {ruri: "ok" | reason, ...}, "shard_key": {...},
 *     "message_length", "trailing_octets", "content_length", "body_length" }
 *
 * Header values are re-parsed here with the element grammars one header
 * line at a time, so a line the message-level parse never looks at (a
 * second From, an Authorization) is still shown field by field.
 *
 * Strings: slices are arbitrary bytes. JSON needs UTF-8, so every byte that
 * is not part of a well-formed UTF-8 sequence is written as the four
 * characters \xHH (NUL and other controls stay as JSON escapes). Absent
 * slices are null; present but empty slices are "".
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sipline_msg.h"

static const char *const err_names[] = {
#define SPL_SIPMSG_ERR(id, status, reason) [SPL_SIPMSG_E_##id] = #id,
#include "spl_sipmsg_errs.def"
#undef SPL_SIPMSG_ERR
};

const char *msg_err_name(unsigned err)
{
	if (err < sizeof(err_names) / sizeof(err_names[0]) && err_names[err])
		return err_names[err];
	return "?";
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0) lo = 0xa0;
		if (c == 0xed) hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0) lo = 0x90;
		if (c == 0xf4) hi = 0x8f;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static json_t *jbytes(const char *p, size_t n)
{
	char *out = malloc(n * 4 + 1);
	size_t o = 0;
	static const char hex[] = "0123456789abcdef";

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		const unsigned char *u = (const unsigned char *)p + i;
		size_t l = utf8_seq(u, n - i);
		if (l == 0) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[u[0] >> 4];
			out[o++] = hex[u[0] & 15];
			i++;
		} else {
			memcpy(out + o, u, l);
			o += l;
			i += l;
		}
	}
	out[o] = '\0';
	json_t *s = json_stringn(out, o);
	free(out);
	return s;
}

static json_t *jstr(struct spl_str s)
{
	return s.p ? jbytes(s.p, s.len) : json_null();
}

static json_t *jcstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v ? v : json_null());
}

/* A slice key only when the slice is present: keeps documents short. */
static void set_opt(json_t *o, const char *key, struct spl_str s)
{
	if (s.p)
		set(o, key, jstr(s));
}

/* The iterators below come from the library; a bug there must not hang
 * this tool, so every loop is bounded by the input length. */
#define ITER_BOUND(len) ((size_t)(len) + 2)

static json_t *jparams(struct spl_str params, char sep, bool *err)
{
	json_t *a = json_array();
	struct spl_sip_param_iter it;
	struct spl_str name, value;
	size_t guard = ITER_BOUND(params.len);
	int rc = 0;

	*err = false;
	if (!params.p)
		return a;
	spl_sip_param_iter_init(&it, params, sep);
	while (guard-- && (rc = spl_sip_param_next(&it, &name, &value)) == 1) {
		json_t *pv = json_object();
		set(pv, "name", jstr(name));
		set(pv, "value", jstr(value));
		json_array_append_new(a, pv);
	}
	if (rc < 0 || guard == (size_t)-1)
		*err = true;
	return a;
}

static void set_params(json_t *o, const char *key, struct spl_str params, char sep)
{
	bool err;
	if (!params.p)
		return;
	set(o, key, jparams(params, sep, &err));
	if (err) {
		char ek[64];
		snprintf(ek, sizeof(ek), "%s_error", key);
		set(o, ek, json_true());
	}
}

static const char *host_kind(uint8_t k)
{
	switch (k) {
	case SPL_SIP_HOST_NAME: return "name";
	case SPL_SIP_HOST_IPV4: return "ipv4";
	case SPL_SIP_HOST_IPV6: return "ipv6";
	default: return "none";
	}
}

static json_t *jhost(const struct spl_sip_host *h)
{
	json_t *o = json_object();
	char a[INET6_ADDRSTRLEN];

	set(o, "text", jstr(h->text));
	set(o, "kind", json_string(host_kind(h->kind)));
	if (h->kind == SPL_SIP_HOST_IPV4 && inet_ntop(AF_INET, h->ip, a, sizeof(a)))
		set(o, "address", json_string(a));
	else if (h->kind == SPL_SIP_HOST_IPV6 && inet_ntop(AF_INET6, h->ip, a, sizeof(a)))
		set(o, "address", json_string(a));
	return o;
}

static const char *scheme_name(uint8_t s)
{
	switch (s) {
	case SPL_SIP_SCHEME_SIP: return "sip";
	case SPL_SIP_SCHEME_SIPS: return "sips";
	case SPL_SIP_SCHEME_TEL: return "tel";
	default: return "other";
	}
}

static json_t *juri(const struct spl_sip_uri *u)
{
	json_t *o = json_object();

	set(o, "raw", jstr(u->raw));
	set(o, "scheme", jstr(u->scheme));
	set(o, "scheme_id", json_string(scheme_name(u->scheme_id)));
	if (u->scheme_id == SPL_SIP_SCHEME_OTHER) {
		set(o, "opaque", jstr(u->opaque));
		return o;
	}
	set_opt(o, "user", u->user);
	set_opt(o, "password", u->password);
	if (u->host.text.p)
		set(o, "host", jhost(&u->host));
	if (u->port_str.p) {
		set(o, "port_str", jstr(u->port_str));
		set(o, "port", json_integer(u->port));
	}
	set_params(o, "params", u->params, ';');
	set_params(o, "headers", u->headers, '&');
	set_opt(o, "transport", u->transport);
	set_opt(o, "maddr", u->maddr);
	set_opt(o, "ttl", u->ttl);
	set_opt(o, "user_param", u->user_param);
	set_opt(o, "method", u->method);
	set(o, "lr", json_boolean(u->lr));
	return o;
}

static json_t *jnameaddr(const struct spl_sip_nameaddr *na)
{
	json_t *o = json_object();

	set(o, "raw", jstr(na->raw));
	if (na->star) {
		set(o, "star", json_true());
		return o;
	}
	set(o, "display", jstr(na->display));
	set(o, "angle", json_boolean(na->angle));
	set(o, "uri", juri(&na->uri));
	set_params(o, "params", na->params, ';');
	set_opt(o, "tag", na->tag);
	if (na->q.p) {
		set(o, "q", jstr(na->q));
		set(o, "q_thousandths", json_integer(spl_sip_q_parse(na->q)));
	}
	set_opt(o, "expires", na->expires);
	return o;
}

static const char *transport_name(uint8_t t)
{
	switch (t) {
	case SPL_SIP_TRANSPORT_UDP: return "UDP";
	case SPL_SIP_TRANSPORT_TCP: return "TCP";
	case SPL_SIP_TRANSPORT_TLS: return "TLS";
	case SPL_SIP_TRANSPORT_SCTP: return "SCTP";
	case SPL_SIP_TRANSPORT_WS: return "WS";
	case SPL_SIP_TRANSPORT_WSS: return "WSS";
	default: return "other";
	}
}

static json_t *jvia(const struct spl_sip_via *v)
{
	json_t *o = json_object();

	set(o, "raw", jstr(v->raw));
	set(o, "protocol", jstr(v->proto_name));
	set(o, "version", jstr(v->proto_version));
	set(o, "transport", jstr(v->transport));
	set(o, "transport_id", json_string(transport_name(v->transport_id)));
	set(o, "host", jhost(&v->host));
	if (v->port_str.p) {
		set(o, "port_str", jstr(v->port_str));
		set(o, "port", json_integer(v->port));
	}
	set_params(o, "params", v->params, ';');
	set_opt(o, "branch", v->branch);
	set_opt(o, "received", v->received);
	set_opt(o, "rport", v->rport);
	set_opt(o, "maddr", v->maddr);
	set_opt(o, "ttl", v->ttl);

	uint8_t shard;
	uint32_t slot;
	uint16_t gen;
	if (v->branch.p && spl_sipmsg_branch_decode(v->branch, &shard, &slot, &gen)) {
		json_t *b = json_object();
		set(b, "shard", json_integer(shard));
		set(b, "slot", json_integer(slot));
		set(b, "generation", json_integer(gen));
		set(o, "sipline_branch", b);
	}
	return o;
}

/* Comma-separated list of via-parms or name-addrs: an array of parsed
 * values, and "error" when the list fails part way. */
static void list_vias(json_t *h, struct spl_str rest)
{
	json_t *a = json_array();
	struct spl_sip_via v;
	size_t guard = ITER_BOUND(rest.len);
	int rc = 0;

	while (guard-- && (rc = spl_sip_via_next(&rest, &v)) == 1)
		json_array_append_new(a, jvia(&v));
	set(h, "parsed", a);
	if (rc < 0 || guard == (size_t)-1)
		set(h, "error", json_string("Via syntax"));
}

static void list_nameaddrs(json_t *h, struct spl_str rest)
{
	json_t *a = json_array();
	struct spl_sip_nameaddr na;
	size_t guard = ITER_BOUND(rest.len);
	int rc = 0;

	while (guard-- && (rc = spl_sip_nameaddr_next(&rest, &na)) == 1)
		json_array_append_new(a, jnameaddr(&na));
	set(h, "parsed", a);
	if (rc < 0 || guard == (size_t)-1)
		set(h, "error", json_string("name-addr syntax"));
}

static void list_tokens(json_t *h, struct spl_str rest)
{
	json_t *a = json_array();
	struct spl_str tok;
	size_t guard = ITER_BOUND(rest.len);
	int rc = 0;

	while (guard-- && (rc = spl_sip_token_next(&rest, &tok)) == 1)
		json_array_append_new(a, jstr(tok));
	set(h, "parsed", a);
	if (rc < 0 || guard == (size_t)-1)
		set(h, "error", json_string("token list syntax"));
}

static void one_nameaddr(json_t *h, struct spl_str v)
{
	struct spl_sip_nameaddr na;
	if (spl_sip_nameaddr_parse(v.p, v.len, &na) == 0)
		set(h, "parsed", jnameaddr(&na));
	else
		set(h, "error", json_string("name-addr syntax"));
}

static void one_uint(json_t *h, struct spl_str v)
{
	uint32_t n;
	if (spl_sip_uint_parse(v.p, v.len, UINT32_MAX, &n) == 0)
		set(h, "parsed", json_integer(n));
	else
		set(h, "error", json_string("not a 32-bit decimal"));
}

static void one_cseq(json_t *h, struct spl_str v)
{
	struct spl_sip_cseq c;
	if (spl_sip_cseq_parse(v.p, v.len, &c) == 0) {
		json_t *o = json_object();
		set(o, "number", json_integer(c.num));
		set(o, "method", jstr(c.method));
		set(o, "method_known", json_boolean(c.method_id != SPL_SIP_METHOD_OTHER));
		set(h, "parsed", o);
	} else {
		set(h, "error", json_string("CSeq syntax"));
	}
}

static void one_auth(json_t *h, struct spl_str v)
{
	struct spl_sip_auth a;
	if (spl_sip_auth_parse(v.p, v.len, &a) != 0) {
		set(h, "error", json_string("auth syntax"));
		return;
	}
	json_t *o = json_object();
	set(o, "scheme", jstr(a.scheme));
	set_params(o, "params", a.params, ',');
	static const struct { const char *k; size_t off; } f[] = {
#define F(x) { #x, offsetof(struct spl_sip_auth, x) }
		F(username), F(realm), F(nonce), F(uri), F(response), F(algorithm),
		F(cnonce), F(opaque), F(qop), F(nc), F(stale), F(domain),
#undef F
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		set_opt(o, f[i].k, *(const struct spl_str *)((const char *)&a + f[i].off));
	set(h, "parsed", o);
}

static void one_retry_after(json_t *h, struct spl_str v)
{
	struct spl_sip_retry_after r;
	if (spl_sip_retry_after_parse(v.p, v.len, &r) != 0) {
		set(h, "error", json_string("Retry-After syntax"));
		return;
	}
	json_t *o = json_object();
	set(o, "seconds", json_integer(r.seconds));
	set_opt(o, "comment", r.comment);
	set_params(o, "params", r.params, ';');
	set_opt(o, "duration", r.duration);
	set(h, "parsed", o);
}

static void one_ctype(json_t *h, struct spl_str v)
{
	struct spl_sip_ctype c;
	if (spl_sip_ctype_parse(v.p, v.len, &c) != 0) {
		set(h, "error", json_string("Content-Type syntax"));
		return;
	}
	json_t *o = json_object();
	set(o, "type", jstr(c.type));
	set(o, "subtype", jstr(c.subtype));
	set_params(o, "params", c.params, ';');
	set(h, "parsed", o);
}

static json_t *jheader(const struct spl_sipmsg *m, unsigned i)
{
	const struct spl_sip_hdr *hd = &m->hdrs[i];
	json_t *h = json_object();
	struct spl_str v = hd->value;

	set(h, "index", json_integer(i));
	set(h, "name", jstr(hd->name));
	set(h, "id", hd->id == SPL_SIP_HDR_OTHER || hd->id >= SPL_SIP_HDR__COUNT
		? json_null() : jcstr(spl_sip_hdr_name((enum spl_sip_hdr_id)hd->id)));
	set(h, "compact", json_boolean(hd->name.len == 1));
	set(h, "value", jstr(v));
	if (!v.p)
		return h;

	switch (hd->id) {
	case SPL_SIP_HDR_VIA:
		list_vias(h, v);
		break;
	case SPL_SIP_HDR_FROM:
	case SPL_SIP_HDR_TO:
	case SPL_SIP_HDR_REPLY_TO:
	case SPL_SIP_HDR_REFER_TO:
	case SPL_SIP_HDR_REFERRED_BY:
		one_nameaddr(h, v);
		break;
	case SPL_SIP_HDR_CONTACT:
	case SPL_SIP_HDR_ROUTE:
	case SPL_SIP_HDR_RECORD_ROUTE:
	case SPL_SIP_HDR_PATH:
	case SPL_SIP_HDR_SERVICE_ROUTE:
		list_nameaddrs(h, v);
		break;
	case SPL_SIP_HDR_CSEQ:
		one_cseq(h, v);
		break;
	case SPL_SIP_HDR_MAX_FORWARDS:
	case SPL_SIP_HDR_CONTENT_LENGTH:
	case SPL_SIP_HDR_EXPIRES:
	case SPL_SIP_HDR_MIN_EXPIRES:
	case SPL_SIP_HDR_RSEQ:
		one_uint(h, v);
		break;
	case SPL_SIP_HDR_CALL_ID:
		/* No element grammar: the message-level check applies to the
		 * first line only, so show the value as the proxy keys on it. */
		set(h, "parsed", jstr(v));
		break;
	case SPL_SIP_HDR_AUTHORIZATION:
	case SPL_SIP_HDR_PROXY_AUTHORIZATION:
	case SPL_SIP_HDR_WWW_AUTHENTICATE:
	case SPL_SIP_HDR_PROXY_AUTHENTICATE:
		one_auth(h, v);
		break;
	case SPL_SIP_HDR_REQUIRE:
	case SPL_SIP_HDR_PROXY_REQUIRE:
	case SPL_SIP_HDR_SUPPORTED:
	case SPL_SIP_HDR_UNSUPPORTED:
	case SPL_SIP_HDR_ALLOW:
		list_tokens(h, v);
		break;
	case SPL_SIP_HDR_RETRY_AFTER:
		one_retry_after(h, v);
		break;
	case SPL_SIP_HDR_CONTENT_TYPE:
		one_ctype(h, v);
		break;
	default:
		break;
	}
	return h;
}

static json_t *jverdict(const struct msg_result *r)
{
	const struct spl_sipmsg_verdict *v = &r->verdict;
	json_t *o = json_object();
	static const char *const kinds[] = { "ok", "reject", "drop" };

	set(o, "kind", json_string(v->kind < 3 ? kinds[v->kind] : "?"));
	if (v->kind == SPL_SIPMSG_OK)
		return o;
	if (v->kind == SPL_SIPMSG_REJECT)
		set(o, "status", json_integer(v->status));
	set(o, "reason", jcstr(v->reason ? v->reason
				: spl_sipmsg_err_reason((enum spl_sipmsg_err)v->err)));
	if (!r->too_large)
		set(o, "error", json_string(msg_err_name(v->err)));
	return o;
}

static json_t *jstart(const struct spl_sipmsg *m)
{
	json_t *o = json_object();
	if (m->request) {
		set(o, "type", json_string("request"));
		set(o, "method", jstr(m->method));
		set(o, "method_known", json_boolean(m->method_id != SPL_SIP_METHOD_OTHER));
		set(o, "uri", jstr(m->ruri));
		set(o, "version", jstr(m->version));
	} else {
		set(o, "type", json_string("response"));
		set(o, "version", jstr(m->version));
		set(o, "status", json_integer(m->status));
		set(o, "reason", jstr(m->reason));
	}
	return o;
}

/* What the validator's message-level parse found, part by part. */
static json_t *jparts(const struct spl_sipmsg *m)
{
	static const char *const names[] = {
		"ruri", "via", "from", "to", "call_id", "cseq", "max_forwards",
		"expires", "contact", "route",
	};
	json_t *o = json_object();
	for (unsigned b = 0; b < sizeof(names) / sizeof(names[0]); b++) {
		if (!(m->parsed & (1u << b)))
			continue;
		if (m->parse_failed & (1u << b))
			set(o, names[b], jcstr(spl_sipmsg_err_reason((enum spl_sipmsg_err)m->err_by_part[b])));
		else
			set(o, names[b], json_string("ok"));
	}
	return o;
}

int msg_json_print(FILE *out, const struct msg_result *r, const struct spl_sipmsg *m)
{
	json_t *d = json_object();
	if (!d)
		return -1;

	set(d, "file", jbytes(r->file, strlen(r->file)));
	set(d, "size", r->file_size >= 0 ? json_integer(r->file_size) : json_integer(r->size));
	set(d, "verdict", jverdict(r));
	if (!m)
		goto done;
	if (r->scan_err != SPL_SIPMSG_E_NONE) {
		json_t *se = json_object();
		set(se, "error", json_string(msg_err_name(r->scan_err)));
		set(se, "reason", jcstr(spl_sipmsg_err_reason(r->scan_err)));
		set(d, "scan_error", se);
	}
	if (m->request || m->status)
		set(d, "start_line", jstart(m));

	if (m->request && m->ruri.p) {
		struct spl_sip_uri u;
		if (spl_sip_uri_parse(m->ruri.p, m->ruri.len, &u) == 0)
			set(d, "request_uri", juri(&u));
		else
			set(d, "request_uri_error", json_string("URI syntax"));
	}

	json_t *hs = json_array();
	unsigned n = m->nhdrs < SPL_SIPMSG_MAX_HDRS ? m->nhdrs : SPL_SIPMSG_MAX_HDRS;
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(hs, jheader(m, i));
	set(d, "headers", hs);

	set(d, "parts", jparts(m));

	struct spl_sipmsg_key k;
	if (r->buf && r->size && spl_sipmsg_shard_key(r->buf, r->size, &k) == 0) {
		json_t *ko = json_object();
		char hex[16];
		snprintf(hex, sizeof(hex), "%08x", (unsigned)k.hash);
		set(ko, "hash", json_string(hex));
		set(ko, "shard", k.shard >= 0 ? json_integer(k.shard) : json_null());
		set(ko, "magic", json_boolean(k.magic));
		set(ko, "response", json_boolean(k.response));
		set(d, "shard_key", ko);
	} else {
		set(d, "shard_key", json_null());
	}

	if (r->scan_err == SPL_SIPMSG_E_NONE) {
		set(d, "message_length", json_integer(m->len));
		set(d, "trailing_octets", json_integer(m->buf_len - m->len));
		set(d, "content_length", m->has_content_length ? json_integer(m->content_length) : json_null());
		set(d, "body_length", json_integer(m->body.len));
	}
done:;
	char *s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(d);
	if (!s)
		return -1;
	fputs(s, out);
	fputc('\n', out);
	free(s);
	return 0;
}
