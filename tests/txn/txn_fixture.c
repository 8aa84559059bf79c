/* SPDX-License-Identifier: BSD-3-Clause */
#include "txn_fixture.h"

struct fx fx;

/* ---- refcounted buffers ---- */

struct fx_obj {
	long refs;
	uint32_t len;
	char data[];
};

struct spl_txn_buf fx_buf(const char *text, uint32_t len)
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

/* ---- callbacks ---- */

static struct fx_ev *ev_add(enum fx_ev_kind k, uint64_t h)
{
	cr_assert_lt(fx.nev, sizeof(fx.ev) / sizeof(fx.ev[0]));
	struct fx_ev *e = &fx.ev[fx.nev++];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->handle = h;
	e->at = spl_timerwheel_now(fx.tw) - T0;
	return e;
}

static int cb_send(void *ctx, const struct spl_txn_peer *dst, const struct spl_txn_buf *buf)
{
	cr_assert_eq(ctx, &fx);
	cr_assert_not_null(buf->data);
	if (fx.fail_send != 0) {
		if (fx.fail_after == 0)
			return fx.fail_send;
		fx.fail_after--;
	}
	cr_assert_lt(fx.nsent, sizeof(fx.sent) / sizeof(fx.sent[0]));
	struct fx_sent *s = &fx.sent[fx.nsent++];
	/* The wheel's time: the expiry tick inside timer callbacks, the
	 * clock itself otherwise (fx_run_to advances both together). */
	s->at = spl_timerwheel_now(fx.tw) - T0;
	s->dst = *dst;
	cr_assert_lt(buf->len, sizeof(s->data));
	memcpy(s->data, buf->data, buf->len);
	s->data[buf->len] = 0;
	s->len = buf->len;
	return 0;
}

static void cb_release(void *ctx, void *owner)
{
	(void)ctx;
	cr_assert_not_null(owner);
	obj_put(owner);
}

static void cb_retain(void *ctx, void *owner)
{
	(void)ctx;
	((struct fx_obj *)owner)->refs++;
	fx.retains++;
}

static int cb_alloc(void *ctx, uint32_t len, struct spl_txn_buf *out)
{
	(void)ctx;
	if (fx.fail_alloc > 0) {
		fx.fail_alloc--;
		return -1;
	}
	*out = fx_buf(NULL, len);
	return 0;
}

static void cb_request(void *ctx, uint64_t h, enum spl_txn_req_kind kind,
		       struct spl_sipmsg *msg, const struct spl_txn_peer *src, uint64_t now)
{
	(void)ctx;
	(void)src;
	cr_assert_eq(now, fx.now);
	struct fx_ev *e = ev_add(FX_REQ, h);
	e->req_kind = kind;
	e->method = msg->method_id;
	if (fx.on_req_hook)
		fx.on_req_hook(h, msg);
}

static void cb_response(void *ctx, uint64_t h, struct spl_sipmsg *msg,
			const struct spl_txn_peer *src, uint64_t now)
{
	(void)ctx;
	(void)src;
	(void)now;
	struct fx_ev *e = ev_add(FX_RSP, h);
	e->status = msg->status;
	if (fx.on_rsp_hook)
		fx.on_rsp_hook(h, msg);
}

static void cb_timeout(void *ctx, uint64_t h, enum spl_txn_timer which, uint64_t now)
{
	(void)ctx;
	struct fx_ev *e = ev_add(FX_TIMEOUT, h);
	e->timer = which;
	cr_assert_eq(now - T0, e->at);
}

static void cb_terr(void *ctx, uint64_t h, int err, uint64_t now)
{
	(void)ctx;
	(void)now;
	ev_add(FX_TERR, h)->err = err;
}

static void cb_term(void *ctx, uint64_t h, void *user, uint32_t user32)
{
	(void)ctx;
	cr_assert_eq(spl_txn_state(fx.tbl, h), -1, "handle is stale in on_terminated");
	struct fx_ev *e = ev_add(FX_TERM, h);
	e->user = user;
	e->user32 = user32;
}

/* ---- setup ---- */

void fx_setup_conf(uint32_t capacity, uint64_t t1, bool with_retain)
{
	fx_setup_wheel(capacity, t1, with_retain, 2 * capacity + 16);
}

void fx_setup_wheel(uint32_t capacity, uint64_t t1, bool with_retain, uint32_t wheel_cap)
{
	memset(&fx, 0, sizeof(fx));
	fx.now = T0;
	struct spl_timerwheel_conf wc = { .capacity = wheel_cap, .tick_ns = MS, .now_ns = T0 };
	fx.tw = spl_timerwheel_create(&wc);
	cr_assert_not_null(fx.tw);
	fx.ops = (struct spl_txn_ops){
		.send = cb_send, .release = cb_release, .retain = with_retain ? cb_retain : NULL,
		.alloc = cb_alloc, .on_request = cb_request, .on_response = cb_response,
		.on_timeout = cb_timeout, .on_transport_error = cb_terr, .on_terminated = cb_term,
	};
	struct spl_txn_conf c = {
		.capacity = capacity, .shard = 3, .t1_ns = t1, .wheel = fx.tw,
		.ops = &fx.ops, .ctx = &fx, .hash_seed = 0,
	};
	fx.tbl = spl_txn_table_create(&c);
	cr_assert_not_null(fx.tbl);
}

void fx_setup(void) { fx_setup_conf(64, 0, true); }

void fx_teardown(void)
{
	spl_txn_table_free(fx.tbl);
	spl_timerwheel_free(fx.tw);
	cr_expect_eq(fx.live_bufs, 0, "%ld buffers never released", fx.live_bufs);
}

static void tick(void *ctx, uint32_t handle, uint64_t data)
{
	(void)ctx;
	(void)handle;
	if (spl_txn_timer_is_ours(data))
		spl_txn_timer_fire(fx.tbl, data, spl_timerwheel_now(fx.tw));
}

void fx_run_to(uint64_t rel)
{
	cr_assert_geq(T0 + rel, fx.now);
	spl_timerwheel_advance(fx.tw, T0 + rel, tick, NULL);
	fx.now = T0 + rel;
}

struct spl_txn_peer fx_udp(void)
{
	return (struct spl_txn_peer){ .transport = SPL_SIP_TRANSPORT_UDP, .family = 2,
				      .port = 5060, .addr = { 192, 0, 2, 10 } };
}

struct spl_txn_peer fx_tcp(void)
{
	return (struct spl_txn_peer){ .transport = SPL_SIP_TRANSPORT_TCP, .reliable = 1,
				      .family = 2, .port = 5060, .conn_id = 7,
				      .addr = { 192, 0, 2, 10 } };
}

/* ---- templates ---- */

#define D(x, d) ((x) ? (x) : (d))

int fx_req_text(const struct fx_req *r, char *out, size_t cap)
{
	const char *method = D(r->method, "INVITE");
	const char *branch = D(r->branch, "z9hG4bK776asdhds");
	char to_tag[80] = "", route[200] = "", via2[120] = "", br[400] = "";
	if (r->to_tag)
		snprintf(to_tag, sizeof(to_tag), ";tag=%s", r->to_tag);
	if (r->route)
		snprintf(route, sizeof(route), "Route: %s\r\n", r->route);
	if (r->second_via)
		snprintf(via2, sizeof(via2), "Via: SIP/2.0/UDP 192.0.2.99:5070;branch=z9hG4bKdeep1\r\n");
	if (branch[0])
		snprintf(br, sizeof(br), ";branch=%s", branch);
	int n = snprintf(out, cap,
		"%s %s SIP/2.0\r\n"
		"Via: SIP/2.0/%s %s%s%s\r\n"
		"%s"
		"Max-Forwards: 70\r\n"
		"%s"
		"To: Bob <sip:bob@biloxi.example.com>%s\r\n"
		"From: Alice <sip:alice@atlanta.example.com>;tag=%s\r\n"
		"Call-ID: %s\r\n"
		"CSeq: %u %s\r\n"
		"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
		"Content-Length: 0\r\n\r\n",
		method, D(r->ruri, "sip:bob@biloxi.example.com"),
		D(r->via_transport, "UDP"), D(r->via_host, "pc33.atlanta.example.com"), br,
		D(r->via_params, ""), via2, route, to_tag, D(r->from_tag, "1928301774"),
		D(r->call_id, "a84b4c76e66710@pc33.atlanta.example.com"),
		r->cseq ? r->cseq : 314159, D(r->cseq_method, method));
	cr_assert(n > 0 && (size_t)n < cap);
	return n;
}

int fx_rsp_text(const struct fx_rsp *r, char *out, size_t cap)
{
	char to_tag[80] = "";
	if (r->to_tag)
		snprintf(to_tag, sizeof(to_tag), ";tag=%s", r->to_tag);
	int n = snprintf(out, cap,
		"SIP/2.0 %u %s\r\n"
		"Via: SIP/2.0/UDP %s;branch=%s\r\n"
		"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
		"To: Bob <sip:bob@biloxi.example.com>%s\r\n"
		"From: Alice <sip:alice@atlanta.example.com>;tag=%s\r\n"
		"Call-ID: %s\r\n"
		"CSeq: %u %s\r\n"
		"Content-Length: 0\r\n\r\n",
		r->status, D(spl_sip_status_phrase(r->status), "Whatever"),
		D(r->via_host, "proxy.example.com"), D(r->branch, "z9hG4bKnone"), to_tag,
		D(r->from_tag, "1928301774"),
		D(r->call_id, "a84b4c76e66710@pc33.atlanta.example.com"),
		r->cseq ? r->cseq : 314159, D(r->cseq_method, "INVITE"));
	cr_assert(n > 0 && (size_t)n < cap);
	return n;
}

struct spl_sipmsg *fx_msg(const char *data, uint32_t len)
{
	static struct spl_sipmsg pool[4];
	static unsigned next;
	struct spl_sipmsg *m = &pool[next++ % 4];
	enum spl_sipmsg_err e = spl_sipmsg_scan(m, data, len);
	cr_assert_eq(e, SPL_SIPMSG_E_NONE, "scan: %s\n%.*s", spl_sipmsg_err_reason(e), (int)len, data);
	return m;
}

int fx_rx_req(const struct fx_req *r, const struct spl_txn_peer *src)
{
	char text[2048];
	int n = fx_req_text(r, text, sizeof(text));
	struct spl_txn_buf b = fx_buf(text, (uint32_t)n);
	struct spl_sipmsg *m = fx_msg(b.data, b.len);
	int rc = spl_txn_recv_request(fx.tbl, m, b.owner, src, fx.now);
	obj_put(b.owner);
	return rc;
}

int fx_rx_rsp(const struct fx_rsp *r, const struct spl_txn_peer *src)
{
	char text[2048];
	int n = fx_rsp_text(r, text, sizeof(text));
	struct spl_txn_buf b = fx_buf(text, (uint32_t)n);
	struct spl_sipmsg *m = fx_msg(b.data, b.len);
	int rc = spl_txn_recv_response(fx.tbl, m, src, fx.now);
	obj_put(b.owner);
	return rc;
}

uint64_t fx_client(const struct fx_req *r, const struct spl_txn_peer *dst, char *branch_out)
{
	struct fx_req q = *r;
	char branch[SPL_SIPMSG_BRANCH_LEN + 1];
	uint64_t h = SPL_TXN_NONE;
	enum spl_sip_method m = spl_sip_method_lookup(D(r->method, "INVITE"),
						      (uint32_t)strlen(D(r->method, "INVITE")));
	cr_assert_eq(spl_txn_client_reserve(fx.tbl, m, dst, NULL, 0, &h, branch), 0);
	branch[SPL_SIPMSG_BRANCH_LEN] = 0;
	if (branch_out)
		strcpy(branch_out, branch);
	q.branch = branch;
	q.via_host = "proxy.example.com";
	q.second_via = true;
	char text[2048];
	int n = fx_req_text(&q, text, sizeof(text));
	struct spl_txn_buf b = fx_buf(text, (uint32_t)n);
	int rc = spl_txn_client_start(fx.tbl, h, &b, fx.now);
	cr_assert_eq(rc, 0, "client_start: %d", rc);
	return h;
}

int fx_respond(uint64_t h, uint16_t status, const char *to_tag)
{
	struct fx_rsp r = { .status = status, .to_tag = to_tag, .branch = "z9hG4bK776asdhds",
			    .via_host = "pc33.atlanta.example.com" };
	char text[2048];
	int n = fx_rsp_text(&r, text, sizeof(text));
	struct spl_txn_buf b = fx_buf(text, (uint32_t)n);
	return spl_txn_server_respond(fx.tbl, h, status, &b, fx.now);
}

uint32_t fx_count(enum fx_ev_kind k)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < fx.nev; i++)
		n += fx.ev[i].kind == k;
	return n;
}

const struct fx_ev *fx_last(enum fx_ev_kind k)
{
	for (uint32_t i = fx.nev; i-- > 0;)
		if (fx.ev[i].kind == k)
			return &fx.ev[i];
	return NULL;
}

void fx_assert_send_times_ms(const uint64_t *ms, uint32_t n)
{
	char got[1024] = "";
	size_t o = 0;
	for (uint32_t i = 0; i < fx.nsent && o < sizeof(got) - 16; i++)
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%llu ",
				      (unsigned long long)(fx.sent[i].at / MS));
	cr_assert_eq(fx.nsent, n, "sent %u times, expected %u; at ms: %s", fx.nsent, n, got);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(fx.sent[i].at, ms[i] * MS, "send %u at %llu ms, expected %llu; all: %s", i,
			     (unsigned long long)(fx.sent[i].at / MS), (unsigned long long)ms[i], got);
}

const char *fx_sent_text(uint32_t i)
{
	cr_assert_lt(i, fx.nsent);
	return fx.sent[i].data;
}
