/* SPDX-License-Identifier: BSD-3-Clause */
#include "proxy_fixture.h"

#include <sys/socket.h>

struct fxp fx;

/* ---- refcounted buffers ---- */

struct fx_obj {
	long refs;
	uint32_t len;
	char data[];
};

static struct spl_txn_buf buf_new(const char *text, uint32_t len)
{
	struct fx_obj *o = malloc(sizeof(*o) + len + 1);
	cr_assert_not_null(o);
	o->refs = 1;
	o->len = len;
	if (text)
		memcpy(o->data, text, len);
	o->data[len] = 0;
	fx.live_bufs++;
	return (struct spl_txn_buf){ o->data, len, o };
}

static void obj_put(struct fx_obj *o)
{
	cr_assert_gt(o->refs, 0, "buffer released more often than referenced");
	if (--o->refs == 0) {
		fx.live_bufs--;
		free(o);
	}
}

/* ---- transport ---- */

static int tp_send(void *ctx, const struct spl_txn_peer *dst, const struct spl_txn_buf *buf)
{
	cr_assert_eq(ctx, &fx);
	cr_assert_not_null(buf->data);
	if (fx.fail_sends > 0 && (fx.fail_port == 0 || fx.fail_port == dst->port)) {
		fx.fail_sends--;
		return -ECONNREFUSED;
	}
	cr_assert_lt(fx.nsent, sizeof(fx.sent) / sizeof(fx.sent[0]));
	struct fx_sent *s = &fx.sent[fx.nsent++];
	s->at = spl_timerwheel_now(fx.tw) - T0;   /* the expiry tick inside timers */
	s->dst = *dst;
	cr_assert_lt(buf->len, sizeof(s->data));
	memcpy(s->data, buf->data, buf->len);
	s->data[buf->len] = 0;
	s->len = buf->len;
	return 0;
}

static void tp_release(void *ctx, void *owner)
{
	(void)ctx;
	cr_assert_not_null(owner);
	obj_put(owner);
}

static void tp_retain(void *ctx, void *owner)
{
	(void)ctx;
	((struct fx_obj *)owner)->refs++;
}

static int tp_alloc(void *ctx, uint32_t len, struct spl_txn_buf *out)
{
	(void)ctx;
	if (fx.alloc_fail >= 0 && fx.allocs >= (unsigned)fx.alloc_fail)
		return -1;
	fx.allocs++;
	*out = buf_new(NULL, len);
	return 0;
}

/* ---- hooks ---- */

static int h_locate(void *ctx, const struct spl_sip_uri *aor, struct spl_proxy_binding *out,
		    unsigned max, uint64_t now)
{
	(void)ctx;
	(void)now;
	for (unsigned i = 0; i < fx.nloc; i++) {
		struct fx_loc *l = &fx.loc[i];
		if (!spl_str_eq(aor->user, l->user))
			continue;
		if (l->n < 0)
			return l->n;
		unsigned n = (unsigned)l->n < max ? (unsigned)l->n : max;
		memcpy(out, l->b, n * sizeof(*out));
		return (int)n;
	}
	return SPL_PROXY_LOCATE_UNKNOWN;
}

static int h_resolve(void *ctx, struct spl_str host, uint16_t port, uint8_t transport,
		     struct spl_txn_peer *peers, unsigned max, unsigned *n)
{
	(void)ctx;
	(void)max;
	for (unsigned i = 0; i < fx.nres; i++) {
		struct fx_res *r = &fx.res[i];
		if (!spl_str_ieq(host, r->name))
			continue;
		if (r->rc != 0)
			return r->rc;
		*n = r->n < max ? r->n : max;
		for (unsigned k = 0; k < *n; k++) {
			peers[k] = r->peers[k];
			if (port)
				peers[k].port = port;
			/* No transport asked: the resolver chooses (NAPTR), as
			 * the record says, UDP when it says nothing. */
			if (transport)
				peers[k].transport = transport;
			else if (!peers[k].transport)
				peers[k].transport = SPL_SIP_TRANSPORT_UDP;
			peers[k].reliable = peers[k].transport != SPL_SIP_TRANSPORT_UDP;
			fx.res_asked_transport = transport;
		}
		return 0;
	}
	return -ENOENT;
}

static int h_authorize(void *ctx, struct spl_sipmsg *msg, uint64_t now,
		       struct spl_proxy_reply *ch)
{
	(void)ctx;
	(void)now;
	fx.auth_calls++;
	if (fx.auth == FX_AUTH_FORBID)
		return SPL_PROXY_AUTH_FORBIDDEN;
	if (spl_sipmsg_hdr(msg, SPL_SIP_HDR_PROXY_AUTHORIZATION) != NULL)
		return SPL_PROXY_AUTH_OK;
	ch->len = (uint32_t)snprintf(ch->buf, ch->cap,
				     "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"abc\"");
	return SPL_PROXY_AUTH_CHALLENGE;
}

static int h_register(void *ctx, struct spl_sipmsg *msg, const struct spl_txn_peer *src,
		      uint64_t now, struct spl_proxy_reply *out)
{
	(void)ctx;
	(void)src;
	(void)now;
	fx.register_calls++;
	if (fx.register_decline)
		return 1;
	struct spl_str extra = SPL_STR_LIT("Contact: <sip:alice@192.0.2.100>;expires=3600");
	int n = spl_sipmsg_build_response(msg, 200, NULL, SPL_STR_LIT("reg1"), &extra, 1, out->buf,
					  out->cap);
	if (n < 0)
		return -1;
	out->len = (uint32_t)n;
	out->status = 200;
	return 0;
}

static void h_other(void *ctx, uint64_t data, uint64_t now)
{
	(void)ctx;
	(void)data;
	(void)now;
	fx.other_timers++;
}

/* ---- setup ---- */

struct spl_txn_peer fxp_peer(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port,
			     uint8_t transport)
{
	return (struct spl_txn_peer){ .transport = transport,
				      .reliable = transport != SPL_SIP_TRANSPORT_UDP,
				      .family = AF_INET, .port = port, .addr = { a, b, c, d } };
}

static void start(void)
{
	fx.tw = spl_timerwheel_create(&(struct spl_timerwheel_conf){
		.capacity = 8192, .tick_ns = MS, .now_ns = fx.now });
	cr_assert_not_null(fx.tw);
	fx.conf.wheel = fx.tw;
	fx.p = spl_proxy_create(&fx.conf);
	cr_assert_not_null(fx.p, "spl_proxy_create: %s", strerror(errno));
}

static void stop(void)
{
	spl_proxy_free(fx.p);
	spl_timerwheel_free(fx.tw);
	fx.p = NULL;
	fx.tw = NULL;
}

void fxp_setup(void)
{
	memset(&fx, 0, sizeof(fx));
	fx.now = T0;
	fx.alloc_fail = -1;
	fx.addrs[0] = (struct spl_proxy_addr){ "192.0.2.1", 5060, SPL_SIP_TRANSPORT_UDP };
	fx.addrs[1] = (struct spl_proxy_addr){ "192.0.2.1", 5060, SPL_SIP_TRANSPORT_TCP };
	fx.addrs[2] = (struct spl_proxy_addr){ "198.51.100.1", 5060, SPL_SIP_TRANSPORT_UDP };
	fx.domains[0] = "example.com";
	fx.conf = (struct spl_proxy_conf){
		.shard = 1,
		.txn_capacity = 256,
		.ctx_capacity = 64,
		.ext_capacity = 16,
		.hash_seed = 42,
		.addrs = fx.addrs,
		.naddrs = 3,
		.domains = fx.domains,
		.ndomains = 1,
		.record_route = true,
		.tp = { tp_send, tp_release, tp_retain, tp_alloc, &fx },
		.hooks = { .locate = h_locate, .register_req = h_register, .authorize = h_authorize,
			   .resolve = h_resolve, .timer_other = h_other, .ctx = &fx,
			   .resolve_ctx = &fx },
	};
	start();
}

void fxp_restart(void)
{
	stop();
	cr_assert_eq(fx.live_bufs, 0);
	fx.nsent = 0;
	start();
}

void fxp_teardown(void)
{
	if (getenv("FX_DUMP"))
		for (unsigned i = 0; i < fx.nsent; i++)
			fprintf(stderr, "---- #%u at %llu ms to %u.%u.%u.%u:%u/%u\n%s", i,
				(unsigned long long)(fx.sent[i].at / MS), fx.sent[i].dst.addr[0],
				fx.sent[i].dst.addr[1], fx.sent[i].dst.addr[2], fx.sent[i].dst.addr[3],
				fx.sent[i].dst.port, fx.sent[i].dst.transport, fx.sent[i].data);
	stop();
	cr_expect_eq(fx.live_bufs, 0, "%ld buffers never released", fx.live_bufs);
}

void fxp_run_to(uint64_t rel)
{
	cr_assert_geq(T0 + rel, fx.now);
	fx.now = T0 + rel;
	spl_proxy_advance(fx.p, fx.now);
}

const struct spl_proxy_stats *fxp_stats(void) { return spl_proxy_stats(fx.p); }

/* ---- tables ---- */

static struct fx_loc *loc_get(const char *user)
{
	for (unsigned i = 0; i < fx.nloc; i++)
		if (strcmp(fx.loc[i].user, user) == 0)
			return &fx.loc[i];
	cr_assert_lt(fx.nloc, 8);
	struct fx_loc *l = &fx.loc[fx.nloc++];
	memset(l, 0, sizeof(*l));
	l->user = user;
	return l;
}

void fxp_locate(const char *user, int n)
{
	loc_get(user)->n = n;
}

void fxp_bind(const char *user, const char *contact, uint16_t q, const char *path)
{
	struct fx_loc *l = loc_get(user);
	cr_assert_lt(l->n, 6);
	struct spl_proxy_binding *b = &l->b[l->n++];
	memset(b, 0, sizeof(*b));
	b->contact = (struct spl_str){ contact, (uint32_t)strlen(contact) };
	if (path)
		b->path = (struct spl_str){ path, (uint32_t)strlen(path) };
	b->q = q;
	b->local = -1;
}

void fxp_resolve(const char *name, int rc, struct spl_txn_peer peer)
{
	for (unsigned i = 0; i < fx.nres; i++)
		if (strcmp(fx.res[i].name, name) == 0) {
			if (fx.res[i].n < 3)
				fx.res[i].peers[fx.res[i].n++] = peer;
			return;
		}
	cr_assert_lt(fx.nres, 8);
	struct fx_res *r = &fx.res[fx.nres++];
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->rc = rc;
	r->peers[0] = peer;
	r->n = 1;
}

void fxp_resolve_rc(const char *name, int rc)
{
	for (unsigned i = 0; i < fx.nres; i++)
		if (strcmp(fx.res[i].name, name) == 0) {
			fx.res[i].rc = rc;
			return;
		}
	cr_assert_fail("no resolver entry for %s", name);
}

/* ---- text ---- */

static char text_pool[8][8192];
static unsigned text_next;

const char *fxp_crlf(const char *lf)
{
	char *out = text_pool[text_next++ % 8];
	size_t o = 0;
	for (const char *s = lf; *s; s++) {
		cr_assert_lt(o + 2, sizeof(text_pool[0]));
		if (*s == '\n' && (s == lf || s[-1] != '\r'))
			out[o++] = '\r';
		out[o++] = *s;
	}
	out[o] = 0;
	return out;
}

static struct spl_sipmsg rx_msg;

int fxp_rx_raw(const char *text, uint32_t len, struct spl_txn_peer src)
{
	struct spl_txn_buf b = buf_new(text, len);
	enum spl_sipmsg_err e = spl_sipmsg_scan(&rx_msg, b.data, b.len);
	struct spl_sipmsg_verdict v;
	spl_sipmsg_validate(&rx_msg, e, &v);
	if (v.kind == SPL_SIPMSG_OK)
		spl_proxy_recv(fx.p, &rx_msg, b.owner, &src, fx.now);
	else
		spl_proxy_reject(fx.p, &rx_msg, &v, &src, fx.now);
	obj_put(b.owner);
	return v.kind;
}

int fxp_rx(const char *lf_text, struct spl_txn_peer src)
{
	const char *t = fxp_crlf(lf_text);
	return fxp_rx_raw(t, (uint32_t)strlen(t), src);
}

const char *fxp_text(unsigned i)
{
	cr_assert_lt(i, fx.nsent, "sent #%u does not exist (%u sent)", i, fx.nsent);
	return fx.sent[i].data;
}

static struct spl_sipmsg msg_pool[4];
static unsigned msg_next;

struct spl_sipmsg *fxp_msg(unsigned i)
{
	struct spl_sipmsg *m = &msg_pool[msg_next++ % 4];
	const char *t = fxp_text(i);
	cr_assert_eq(spl_sipmsg_scan(m, t, fx.sent[i].len), SPL_SIPMSG_E_NONE, "sent #%u: %s", i, t);
	cr_assert_eq(spl_sipmsg_parse(m, SPL_SIPMSG_P_PROXY), SPL_SIPMSG_E_NONE, "sent #%u: %s", i, t);
	return m;
}

int fxp_find(unsigned from, const char *prefix)
{
	size_t n = strlen(prefix);
	for (unsigned i = from; i < fx.nsent; i++)
		if (strncmp(fx.sent[i].data, prefix, n) == 0)
			return (int)i;
	return -1;
}

int fxp_count(const char *prefix)
{
	int c = 0;
	size_t n = strlen(prefix);
	for (unsigned i = 0; i < fx.nsent; i++)
		c += strncmp(fx.sent[i].data, prefix, n) == 0;
	return c;
}

bool fxp_has(unsigned i, const char *needle)
{
	return strstr(fxp_text(i), needle) != NULL;
}

const char *fxp_hdr(unsigned i, const char *name)
{
	static char out[4][1024];
	static unsigned k;
	struct spl_sipmsg *m = fxp_msg(i);
	enum spl_sip_hdr_id id = spl_sip_hdr_lookup(name, (uint32_t)strlen(name));
	const struct spl_sip_hdr *h = id == SPL_SIP_HDR_OTHER ? spl_sipmsg_hdr_by_name(m, name)
							     : spl_sipmsg_hdr(m, id);
	if (h == NULL)
		return NULL;
	char *o = out[k++ % 4];
	snprintf(o, sizeof(out[0]), "%.*s", (int)h->value.len, h->value.p);
	return o;
}

const char *fxp_branch(unsigned i)
{
	static char out[4][128];
	static unsigned k;
	struct spl_sipmsg *m = fxp_msg(i);
	char *o = out[k++ % 4];
	snprintf(o, sizeof(out[0]), "%.*s", (int)m->vias[0].branch.len, m->vias[0].branch.p);
	return o;
}

const char *fxp_reply_text(unsigned i, uint16_t status, const char *to_tag, const char *extra,
			   uint32_t *len)
{
	static char out[8192];
	struct spl_sipmsg *m = fxp_msg(i);
	struct spl_str lines[12];
	unsigned n = 0;
	if (status < 300)
		for (uint16_t k = m->first[SPL_SIP_HDR_RECORD_ROUTE]; k != SPL_SIPMSG_NONE;
		     k = m->hdrs[k].next)
			lines[n++] = (struct spl_str){ m->buf + m->hdrs[k].off,
						       m->hdrs[k].len - 2 };
	static char ex[2048];
	if (extra) {
		snprintf(ex, sizeof(ex), "%s", extra);
		for (char *s = strtok(ex, "\n"); s && n < 12; s = strtok(NULL, "\n"))
			lines[n++] = (struct spl_str){ s, (uint32_t)strlen(s) };
	}
	struct spl_str tag = to_tag ? (struct spl_str){ to_tag, (uint32_t)strlen(to_tag) } : SPL_STR_NULL;
	int r = spl_sipmsg_build_response(m, status, NULL, tag, lines, n, out, sizeof(out));
	cr_assert_gt(r, 0);
	*len = (uint32_t)r;
	return out;
}

void fxp_reply(unsigned i, uint16_t status, const char *to_tag, const char *extra)
{
	uint32_t len;
	const char *t = fxp_reply_text(i, status, to_tag, extra, &len);
	struct spl_txn_peer src = fx.sent[i].dst;
	fxp_rx_raw(t, len, src);
}

const char *fxp_request(const char *method, const char *ruri, int id, const char *to_tag,
			const char *extra)
{
	static char out[4][4096];
	static unsigned k;
	char *o = out[k++ % 4];
	char tt[64] = "";
	if (to_tag)
		snprintf(tt, sizeof(tt), ";tag=%s", to_tag);
	snprintf(o, sizeof(out[0]),
		 "%s %s SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.100:5060;branch=z9hG4bKuac%d%s\n"
		 "Max-Forwards: 70\n"
		 "From: Alice <sip:alice@example.com>;tag=1928301774\n"
		 "To: Bob <%s>%s\n"
		 "Call-ID: call%d@192.0.2.100\n"
		 "CSeq: 1 %s\n"
		 "Contact: <sip:alice@192.0.2.100:5060>\n"
		 "%s"
		 "Content-Length: 0\n"
		 "\n",
		 method, ruri, id, strcmp(method, "ACK") == 0 ? "ack" : "", ruri, tt, id, method,
		 extra ? extra : "");
	return o;
}

const char *fxp_invite(const char *ruri, int id, const char *extra)
{
	return fxp_request("INVITE", ruri, id, NULL, extra);
}

const char *fxp_req(const struct fx_req *r)
{
	static char out[4][4096];
	static unsigned k;
	char *o = out[k++ % 4];
	const char *method = r->method ? r->method : "INVITE";
	const char *ruri = r->ruri ? r->ruri : "sip:bob@example.com";
	char via[512];
	if (r->via)
		snprintf(via, sizeof(via), "%s", r->via);
	else
		snprintf(via, sizeof(via), "SIP/2.0/UDP 192.0.2.100:5060;branch=%s",
			 r->branch ? r->branch : "z9hG4bKuac1");
	char tt[64] = "";
	if (r->to_tag)
		snprintf(tt, sizeof(tt), ";tag=%s", r->to_tag);
	char mf[64] = "Max-Forwards: 70\n";
	if (r->max_forwards)
		snprintf(mf, sizeof(mf), r->max_forwards[0] ? "Max-Forwards: %s\n" : "%s", r->max_forwards);
	snprintf(o, sizeof(out[0]),
		 "%s %s SIP/2.0\n"
		 "Via: %s\n"
		 "%s"
		 "From: Alice <sip:alice@example.com>;tag=1928301774\n"
		 "To: Bob <sip:bob@example.com>%s\n"
		 "Call-ID: %s\n"
		 "CSeq: %u %s\n"
		 "Contact: <sip:alice@192.0.2.100:5060>\n"
		 "%s"
		 "Content-Length: 0\n"
		 "\n",
		 method, ruri, via, mf, tt, r->call_id ? r->call_id : "call1@192.0.2.100",
		 r->cseq ? r->cseq : 1, r->cseq_method ? r->cseq_method : method,
		 r->extra ? r->extra : "");
	return o;
}
