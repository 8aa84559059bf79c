/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipline-bench proxy: the proxy's whole work per call, on one core,
 * through the real libraries and an in-memory transport (no NIC).
 *
 * A call is INVITE (with SDP), 100, 180, 200 (with SDP), ACK, BYE, 200,
 * record-routed, the callee found through lib/registrar's location
 * service. For every message that reaches the proxy the clock covers what
 * the shard would do: scan, validate, spl_proxy_recv (transaction
 * matching, proxy logic, serialising the output into a transport buffer,
 * the send hook) plus the wheel advance that retires the transactions.
 * What the far ends do (building the UAS's responses from the forwarded
 * INVITE, copying bytes into a receive buffer: the NIC's DMA) is outside
 * the clock, and reported separately as the whole loop's CPU time.
 *
 * Calls run in rounds of BATCH (1024 calls in flight), phase by phase
 * (all INVITEs, all 100/180/200, all ACK+BYE, all 200s to BYE); the
 * virtual clock moves 4 s per round, so about 8 rounds of transactions
 * (Timers L, M, J: 32 s) are live in the table while the rest run. Each
 * phase's shard work is timed as a whole in thread CPU time, so a shared
 * host that deschedules us does not count; the split between scan+validate
 * and the rest is the TSC share of the two inside the same phases.
 *
 * REGISTER: through the proxy (server transaction) into lib/registrar,
 * without and with digest authentication (MD5, qop=auth; the client's
 * Authorization lines are computed before the clock starts).
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <x86intrin.h>

#include "bench_util.h"
#include "spl_proxy.h"
#include "spl_registrar.h"

#define BATCH        1024u   /* calls in flight */
#define ROUNDS_WARM  16u
#define ROUNDS       96u
#define STEP_NS      (4 * 1000000000ull)
#define NUSERS       1000u
#define OBJ_DATA     2032u
#define NOBJ         (96u * 1024u)
#define REG_ITERS    20000u
#define KAMAILIO_US  340.0

/* ---- in-memory transport: refcounted fixed-size buffers ---- */

struct obj {
	uint32_t refs;
	uint32_t next;
	uint32_t len;
	uint32_t pad;
	char data[OBJ_DATA];
};

struct sent {
	struct obj *o;
	struct spl_txn_peer dst;
};

struct bench {
	struct obj *objs;
	uint32_t free_head;
	uint32_t in_use;
	uint32_t alloc_fail;
	struct sent out[8 * BATCH];
	unsigned nout;

	struct spl_timerwheel *tw;
	struct spl_proxy *p;
	struct spl_location *loc;
	struct spl_registrar *reg;
	struct spl_auth *auth;
	struct spl_auth_creds *creds;
	int reader;
	uint64_t now;

	struct spl_sipmsg rx;      /* what the shard parses (timed) */
	struct spl_sipmsg far;     /* what the far ends parse (not timed) */
	uint64_t cpu_ns;           /* thread CPU inside the shard's work */
	uint64_t parse_ticks;      /* TSC inside scan + validate ... */
	uint64_t all_ticks;        /* ... of the TSC of the whole timed work: the split */
	uint64_t msgs;
	uint64_t rejects;
};

static struct bench B;

static struct obj *obj_get(void)
{
	if (B.free_head == UINT32_MAX)
		return NULL;
	struct obj *o = &B.objs[B.free_head];
	B.free_head = o->next;
	o->refs = 1;
	o->len = 0;
	B.in_use++;
	return o;
}

static void obj_put(struct obj *o)
{
	if (--o->refs == 0) {
		o->next = B.free_head;
		B.free_head = (uint32_t)(o - B.objs);
		B.in_use--;
	}
}

static int t_send(void *ctx, const struct spl_txn_peer *dst, const struct spl_txn_buf *buf)
{
	(void)ctx;
	struct obj *o = buf->owner;
	o->len = buf->len;
	if (B.nout < sizeof(B.out) / sizeof(B.out[0])) {
		o->refs++;
		B.out[B.nout++] = (struct sent){ o, *dst };
	}
	return 0;
}

static void t_release(void *ctx, void *owner)
{
	(void)ctx;
	obj_put(owner);
}

static void t_retain(void *ctx, void *owner)
{
	(void)ctx;
	((struct obj *)owner)->refs++;
}

static int t_alloc(void *ctx, uint32_t len, struct spl_txn_buf *out)
{
	(void)ctx;
	struct obj *o = len <= OBJ_DATA ? obj_get() : NULL;
	if (o == NULL) {
		B.alloc_fail++;
		return -1;
	}
	*out = (struct spl_txn_buf){ o->data, len, o };
	return 0;
}

static void out_clear(void)
{
	for (unsigned i = 0; i < B.nout; i++)
		obj_put(B.out[i].o);
	B.nout = 0;
}

/* ---- hooks: lib/registrar behind the proxy ---- */

static int h_locate(void *ctx, const struct spl_sip_uri *aor, struct spl_proxy_binding *out,
		    unsigned max, uint64_t now)
{
	(void)ctx;
	char canon[SPL_REGISTRAR_AOR_MAX];
	int n = spl_registrar_aor_canon(aor, canon, sizeof(canon));
	if (n < 0)
		return SPL_PROXY_LOCATE_UNKNOWN;
	struct spl_binding b[8];
	int nb = spl_location_lookup(B.loc, (struct spl_str){ canon, (uint32_t)n }, b,
				     max < 8 ? max : 8, now);
	if (nb <= 0)
		return SPL_PROXY_LOCATE_UNKNOWN;
	for (int i = 0; i < nb; i++)
		out[i] = (struct spl_proxy_binding){ .contact = b[i].contact, .path = b[i].path,
						     .q = b[i].q, .local = -1 };
	return nb;
}

static int h_register(void *ctx, struct spl_sipmsg *msg, const struct spl_txn_peer *src,
		      uint64_t now, struct spl_proxy_reply *out)
{
	(void)ctx;
	struct spl_registrar_src s = { .family = 4, .transport = src->transport, .port = src->port };
	memcpy(s.addr, src->addr, 4);
	struct spl_registrar_result res;
	if (spl_registrar_process(B.reg, msg, &s, now, out->buf, out->cap, &res) != 0)
		return -1;
	if (res.action == SPL_REGISTRAR_FORWARD)
		return 1;
	out->len = res.len;
	out->status = res.status;
	return 0;
}

static void h_other(void *ctx, uint64_t data, uint64_t now)
{
	(void)ctx;
	if ((data & SPL_REGISTRAR_TIMER_TAG_MASK) == SPL_REGISTRAR_TIMER_TAG && B.reg)
		spl_registrar_timer_fire(B.reg, data, now);
}

/* ---- the timed part: what the shard does with queued datagrams ---- */

struct queued {
	struct obj *o;
	uint32_t len;
	struct spl_txn_peer src;
};
static struct queued rxq[4 * BATCH];
static unsigned nrxq;

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}


/* A datagram arrives (the NIC's DMA into a buffer): not timed. */
static int queue_rx(const char *text, uint32_t len, struct spl_txn_peer src)
{
	struct obj *o = obj_get();
	if (o == NULL || nrxq == sizeof(rxq) / sizeof(rxq[0])) {
		B.alloc_fail++;
		return -1;
	}
	memcpy(o->data, text, len);
	rxq[nrxq++] = (struct queued){ o, len, src };
	return 0;
}

/* The shard's work on every queued datagram, then the wheel: timed in
 * thread CPU time (a shared host deschedules us; that is not our cost). */
static void deliver(uint64_t advance_ns)
{
	uint64_t t0 = thread_cpu_ns(), c0 = __rdtsc();
	for (unsigned i = 0; i < nrxq; i++) {
		struct queued *q = &rxq[i];
		uint64_t p0 = __rdtsc();
		enum spl_sipmsg_err e = spl_sipmsg_scan(&B.rx, q->o->data, q->len);
		struct spl_sipmsg_verdict v;
		spl_sipmsg_validate(&B.rx, e, &v);
		B.parse_ticks += __rdtsc() - p0;
		if (v.kind == SPL_SIPMSG_OK)
			spl_proxy_recv(B.p, &B.rx, q->o, &q->src, B.now);
		else
			B.rejects++;
		obj_put(q->o);
	}
	if (advance_ns) {
		B.now += advance_ns;
		spl_proxy_advance(B.p, B.now);
	}
	B.all_ticks += __rdtsc() - c0;
	B.cpu_ns += thread_cpu_ns() - t0;
	B.msgs += nrxq;
	nrxq = 0;
	if (B.loc)
		spl_location_quiescent(B.loc, B.reader);
}

/* ---- set-up ---- */

static struct spl_txn_peer peer(uint8_t c, uint8_t d, uint16_t port)
{
	return (struct spl_txn_peer){ .transport = SPL_SIP_TRANSPORT_UDP, .family = AF_INET,
				      .port = port, .addr = { 10, 0, c, d } };
}

static int setup_proxy(uint32_t txn_cap)
{
	static const struct spl_proxy_addr addr = { "10.0.0.1", 5060, SPL_SIP_TRANSPORT_UDP };
	static const char *domains[] = { "example.com" };
	B.tw = spl_timerwheel_create(&(struct spl_timerwheel_conf){
		.capacity = 3 * txn_cap, .tick_ns = 1000000, .now_ns = B.now });
	if (B.tw == NULL)
		return -1;
	struct spl_proxy_conf c = {
		.shard = 0, .wheel = B.tw, .txn_capacity = txn_cap, .ctx_capacity = txn_cap / 2,
		.hash_seed = 1, .addrs = &addr, .naddrs = 1, .domains = domains, .ndomains = 1,
		.record_route = true, .max_msg = OBJ_DATA,
		.tp = { t_send, t_release, t_retain, t_alloc, NULL },
		.hooks = { .locate = h_locate, .register_req = h_register, .timer_other = h_other },
	};
	B.p = spl_proxy_create(&c);
	return B.p ? 0 : -1;
}

static int setup_registrar(bool with_auth)
{
	B.loc = spl_location_create(&(struct spl_location_conf){ .nshards = 1, .max_aors = 4 * NUSERS });
	if (B.loc == NULL)
		return -1;
	B.reader = spl_location_reader_register(B.loc);
	static const char *domains[] = { "example.com" };
	struct spl_registrar_conf rc = { .shard = 0, .domains = domains, .ndomains = 1 };
	if (with_auth) {
		static char text[NUSERS * 96];
		size_t off = 0;
		for (unsigned i = 0; i < NUSERS; i++) {
			char user[32], ha1[65];
			snprintf(user, sizeof(user), "u%u", i);
			spl_auth_ha1_hex(SPL_AUTH_ALG_MD5, user, "example.com", "secret", ha1);
			off += (size_t)snprintf(text + off, sizeof(text) - off, "%s:example.com:%s\n",
						user, ha1);
		}
		unsigned bad = 0;
		B.creds = spl_auth_creds_parse(text, off, &bad);
		static const struct spl_auth_rule rule = { "*", NULL, SPL_AUTH_METHOD(SPL_SIP_METHOD_REGISTER) };
		struct spl_auth_conf ac = { .creds = B.creds, .algorithms = SPL_AUTH_ALG_MD5,
					    .rules = &rule, .nrules = 1 };
		memset(ac.secret, 7, sizeof(ac.secret));
		B.auth = B.creds ? spl_auth_create(&ac) : NULL;
		if (B.auth == NULL) {
			fprintf(stderr, "bench proxy: auth set-up failed (line %u): %s\n", bad,
				strerror(errno));
			return -1;
		}
	}
	B.reg = spl_registrar_create(&rc, B.loc, B.tw, B.auth, NULL, B.now);
	return B.reg ? 0 : -1;
}

static void teardown(void)
{
	out_clear();
	spl_proxy_free(B.p);
	spl_registrar_free(B.reg);
	spl_auth_free(B.auth);
	spl_auth_creds_free(B.creds);
	spl_location_free(B.loc);
	spl_timerwheel_free(B.tw);
	B.p = NULL;
	B.reg = NULL;
	B.auth = NULL;
	B.creds = NULL;
	B.loc = NULL;
	B.tw = NULL;
}

/* ---- the far ends (not timed) ---- */

static const char sdp[] =
	"v=0\r\n"
	"o=alice 2890844526 2890844526 IN IP4 10.0.0.100\r\n"
	"s=-\r\n"
	"c=IN IP4 10.0.0.100\r\n"
	"t=0 0\r\n"
	"m=audio 49170 RTP/AVP 0 8 97\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:97 iLBC/8000\r\n"
	"a=sendrecv\r\n";

static uint32_t invite_text(char *out, uint32_t cap, unsigned call)
{
	return (uint32_t)snprintf(out, cap,
		"INVITE sip:bob%u@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKc%ui\r\n"
		"Max-Forwards: 70\r\n"
		"To: Bob <sip:bob%u@example.com>\r\n"
		"From: Alice <sip:alice@example.com>;tag=a%u\r\n"
		"Call-ID: %u-3848276298220188511@10.0.0.100\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:alice@10.0.0.100:5060>\r\n"
		"User-Agent: bench\r\n"
		"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: %u\r\n\r\n%s",
		call % NUSERS, call, call % NUSERS, call, call, (unsigned)(sizeof(sdp) - 1), sdp);
}

static uint32_t in_dialog_text(char *out, uint32_t cap, const char *method, unsigned cseq,
			       unsigned call)
{
	return (uint32_t)snprintf(out, cap,
		"%s sip:bob%u@10.0.1.%u:5060 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKc%u%s\r\n"
		"Max-Forwards: 70\r\n"
		"Route: <sip:10.0.0.1:5060;lr>\r\n"
		"To: Bob <sip:bob%u@example.com>;tag=b%u\r\n"
		"From: Alice <sip:alice@example.com>;tag=a%u\r\n"
		"Call-ID: %u-3848276298220188511@10.0.0.100\r\n"
		"CSeq: %u %s\r\n"
		"Content-Length: 0\r\n\r\n",
		method, call % NUSERS, (call % NUSERS) % 200, call, method, call % NUSERS, call,
		call, call, cseq, method);
}

/* A response of the UAS to the request in o (as forwarded to it). */
static uint32_t uas_reply(const struct obj *o, uint16_t status, unsigned call, bool body,
			  char *out, uint32_t cap)
{
	struct spl_sipmsg *m = &B.far;
	if (spl_sipmsg_scan(m, o->data, o->len) != SPL_SIPMSG_E_NONE ||
	    spl_sipmsg_parse(m, SPL_SIPMSG_P_PROXY) != SPL_SIPMSG_E_NONE)
		return 0;
	struct spl_str extra[4];
	unsigned n = 0;
	char contact[96];
	if (status >= 101 && status < 300 && m->method_id == SPL_SIP_METHOD_INVITE) {
		for (uint16_t k = m->first[SPL_SIP_HDR_RECORD_ROUTE]; k != SPL_SIPMSG_NONE && n < 2;
		     k = m->hdrs[k].next)
			extra[n++] = (struct spl_str){ m->buf + m->hdrs[k].off, m->hdrs[k].len - 2 };
		int cl = snprintf(contact, sizeof(contact), "Contact: <sip:bob%u@10.0.1.%u:5060>",
				  call % NUSERS, (call % NUSERS) % 200);
		extra[n++] = (struct spl_str){ contact, (uint32_t)cl };
	}
	char tag[16];
	int tl = snprintf(tag, sizeof(tag), "b%u", call);
	struct spl_str to_tag = status > 100 ? (struct spl_str){ tag, (uint32_t)tl } : SPL_STR_NULL;
	int len = spl_sipmsg_build_response(m, status, NULL, to_tag, extra, n, out, cap);
	if (len <= 0)
		return 0;
	if (body) {
		/* Replace the trailing "Content-Length: 0\r\n\r\n" with an SDP answer. */
		len -= (int)sizeof("Content-Length: 0\r\n\r\n") - 1;
		len += snprintf(out + len, cap - (uint32_t)len,
				"Content-Type: application/sdp\r\nContent-Length: %u\r\n\r\n%s",
				(unsigned)(sizeof(sdp) - 1), sdp);
	}
	return (uint32_t)len;
}

/* The call a request sent to a UAS belongs to (its Call-ID). */
static int call_of(const struct obj *o, unsigned base)
{
	const char *p = memmem(o->data, o->len, "\r\nCall-ID: ", 11);
	if (p == NULL)
		return -1;
	unsigned c = (unsigned)strtoul(p + 11, NULL, 10);
	return c >= base && c < base + BATCH ? (int)(c - base) : -1;
}

/* Keep what was sent to the UASes (10.0.1.x), by call; drop the rest. */
static int collect_to_uas(struct obj **slot, unsigned base)
{
	unsigned n = 0;
	for (unsigned i = 0; i < B.nout; i++) {
		struct obj *o = B.out[i].o;
		if (B.out[i].dst.addr[2] != 1)
			continue;
		int c = call_of(o, base);
		if (c < 0)
			return -1;
		o->refs++;
		slot[c] = o;
		n++;
	}
	out_clear();
	return n == BATCH ? 0 : -1;
}

static struct obj *inv_at_uas[BATCH], *bye_at_uas[BATCH];
static uint64_t call_outputs;
static uint64_t calls_done;

static struct spl_txn_peer uas_peer(unsigned call)
{
	return peer(1, (uint8_t)((call % NUSERS) % 200), 5060);
}

static int run_round(unsigned base)
{
	char text[2048];
	struct spl_txn_peer uac = peer(0, 100, 5060);

	for (unsigned i = 0; i < BATCH; i++)
		queue_rx(text, invite_text(text, sizeof(text), base + i), uac);
	deliver(0);
	call_outputs += B.nout;
	if (collect_to_uas(inv_at_uas, base) != 0)
		return -1;

	static const uint16_t st[3] = { 100, 180, 200 };
	for (unsigned k = 0; k < 3; k++)
		for (unsigned i = 0; i < BATCH; i++) {
			uint32_t n = uas_reply(inv_at_uas[i], st[k], base + i, st[k] == 200, text,
					       sizeof(text));
			if (n == 0 || queue_rx(text, n, uas_peer(base + i)) != 0)
				return -1;
		}
	for (unsigned i = 0; i < BATCH; i++)
		obj_put(inv_at_uas[i]);
	deliver(0);
	call_outputs += B.nout;
	out_clear();

	for (unsigned i = 0; i < BATCH; i++) {
		queue_rx(text, in_dialog_text(text, sizeof(text), "ACK", 1, base + i), uac);
		queue_rx(text, in_dialog_text(text, sizeof(text), "BYE", 2, base + i), uac);
	}
	deliver(0);
	call_outputs += B.nout;
	/* ACKs and BYEs both go to the UASes: keep the BYEs. */
	for (unsigned i = 0; i < B.nout; i++)
		if (memcmp(B.out[i].o->data, "ACK ", 4) == 0)
			B.out[i].dst.addr[2] = 0;
	if (collect_to_uas(bye_at_uas, base) != 0)
		return -1;

	for (unsigned i = 0; i < BATCH; i++) {
		uint32_t n = uas_reply(bye_at_uas[i], 200, base + i, false, text, sizeof(text));
		obj_put(bye_at_uas[i]);
		if (n == 0 || queue_rx(text, n, uas_peer(base + i)) != 0)
			return -1;
	}
	deliver(STEP_NS);
	call_outputs += B.nout;
	for (unsigned k = 0; k < B.nout; k++)
		calls_done += B.out[k].dst.addr[3] == 100 &&
			      memcmp(B.out[k].o->data, "SIP/2.0 200", 11) == 0;
	out_clear();
	return 0;
}

/* ---- REGISTER ---- */

static uint32_t register_text(char *out, uint32_t cap, unsigned i, const char *authz)
{
	unsigned u = i % NUSERS;
	return (uint32_t)snprintf(out, cap,
		"REGISTER sip:example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.2.%u:5060;branch=z9hG4bKr%u\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:u%u@example.com>\r\n"
		"From: <sip:u%u@example.com>;tag=r%u\r\n"
		"Call-ID: reg-%u@10.0.2.%u\r\n"
		"CSeq: %u REGISTER\r\n"
		"Contact: <sip:u%u@10.0.2.%u:5060>;expires=3600\r\n"
		"%s"
		"Content-Length: 0\r\n\r\n",
		u % 200, i, u, u, i, u, u % 200, 1 + i / NUSERS, u, u % 200, authz);
}

static void md5_hex(const char *in, char out[33])
{
	unsigned char d[16];
	unsigned int dl = 0;
	EVP_Digest(in, strlen(in), d, &dl, EVP_md5(), NULL);
	for (int k = 0; k < 16; k++)
		snprintf(out + 2 * k, 3, "%02x", d[k]);
}

/* Time REG_ITERS REGISTERs; auth: answer a challenge first, then send
 * precomputed credentials with an increasing nonce count. */
static double bench_register(bool auth, unsigned *ok)
{
	B.now = 5000ull * 1000000000ull;
	if (setup_proxy(1u << 17) != 0 || setup_registrar(auth) != 0)
		return -1;
	char (*texts)[1024] = malloc((size_t)REG_ITERS * sizeof(*texts));
	uint32_t *lens = malloc(REG_ITERS * sizeof(*lens));
	if (texts == NULL || lens == NULL)
		return -1;
	char nonce[256] = "";
	if (auth) {
		char t[1024];
		uint32_t n = register_text(t, sizeof(t), REG_ITERS + 1, "");
		queue_rx(t, n, peer(2, 1, 5060));
		deliver(0);
		for (unsigned k = 0; k < B.nout && !nonce[0]; k++) {
			struct spl_sipmsg *m = &B.far;
			if (spl_sipmsg_scan(m, B.out[k].o->data, B.out[k].o->len) != SPL_SIPMSG_E_NONE)
				continue;
			const struct spl_sip_hdr *h = spl_sipmsg_hdr(m, SPL_SIP_HDR_WWW_AUTHENTICATE);
			struct spl_sip_auth a;
			if (h && spl_sip_auth_parse(h->value.p, h->value.len, &a) == 0)
				snprintf(nonce, sizeof(nonce), "%.*s", (int)a.nonce.len, a.nonce.p);
		}
		out_clear();
		if (!nonce[0])
			return -1;
	}
	char ha2[33];
	md5_hex("REGISTER:sip:example.com", ha2);
	for (unsigned i = 0; i < REG_ITERS; i++) {
		char authz[512] = "";
		if (auth) {
			char user[32], ha1[65], buf[512], resp[33];
			snprintf(user, sizeof(user), "u%u", i % NUSERS);
			spl_auth_ha1_hex(SPL_AUTH_ALG_MD5, user, "example.com", "secret", ha1);
			snprintf(buf, sizeof(buf), "%s:%s:%08x:c0ffee:auth:%s", ha1, nonce, i + 1, ha2);
			md5_hex(buf, resp);
			snprintf(authz, sizeof(authz),
				 "Authorization: Digest username=\"%s\", realm=\"example.com\", "
				 "nonce=\"%s\", uri=\"sip:example.com\", response=\"%s\", "
				 "algorithm=MD5, qop=auth, nc=%08x, cnonce=\"c0ffee\"\r\n",
				 user, nonce, resp, i + 1);
		}
		lens[i] = register_text(texts[i], sizeof(texts[i]), i, authz);
	}
	B.cpu_ns = 0;
	B.msgs = 0;
	*ok = 0;
	for (unsigned i = 0; i < REG_ITERS; i += BATCH) {
		unsigned end = i + BATCH < REG_ITERS ? i + BATCH : REG_ITERS;
		for (unsigned k = i; k < end; k++)
			queue_rx(texts[k], lens[k], peer(2, (uint8_t)((k % NUSERS) % 200), 5060));
		deliver(100 * 1000000ull);
		for (unsigned k = 0; k < B.nout; k++)
			*ok += memcmp(B.out[k].o->data, "SIP/2.0 200", 11) == 0;
		out_clear();
	}
	double ns = (double)B.cpu_ns / REG_ITERS;
	free(texts);
	free(lens);
	teardown();
	return ns;
}

int bench_proxy_main(int argc, char **argv)
{
	bool json = bench_has_flag(argc, argv, "--json");
	memset(&B, 0, sizeof(B));
	B.objs = calloc(NOBJ, sizeof(struct obj));
	if (B.objs == NULL)
		return 1;
	for (uint32_t i = 0; i < NOBJ; i++)
		B.objs[i].next = i + 1 < NOBJ ? i + 1 : UINT32_MAX;
	B.free_head = 0;

	/* Calls. */
	B.now = 1000ull * 1000000000ull;
	if (setup_proxy(1u << 18) != 0 || setup_registrar(false) != 0) {
		fprintf(stderr, "bench proxy: setup failed: %s\n", strerror(errno));
		return 1;
	}
	for (unsigned u = 0; u < NUSERS; u++) {
		char aor[64], contact[64];
		int al = snprintf(aor, sizeof(aor), "sip:bob%u@example.com", u);
		int cl = snprintf(contact, sizeof(contact), "sip:bob%u@10.0.1.%u:5060", u, u % 200);
		if (spl_location_add(B.reg, (struct spl_str){ aor, (uint32_t)al },
				     (struct spl_str){ contact, (uint32_t)cl }, 0, B.now) != 0) {
			fprintf(stderr, "bench proxy: location add failed\n");
			return 1;
		}
	}
	unsigned call = 0;
	for (unsigned r = 0; r < ROUNDS_WARM; r++, call += BATCH)
		if (run_round(call) != 0) {
			fprintf(stderr, "bench proxy: call flow broke in warm-up\n");
			return 1;
		}
	B.cpu_ns = 0;
	B.parse_ticks = 0;
	B.all_ticks = 0;
	B.msgs = 0;
	call_outputs = 0;
	calls_done = 0;
	uint64_t cpu0 = thread_cpu_ns();
	for (unsigned r = 0; r < ROUNDS; r++, call += BATCH)
		if (run_round(call) != 0) {
			fprintf(stderr, "bench proxy: call flow broke\n");
			return 1;
		}
	uint64_t cpu1 = thread_cpu_ns();
	double ncalls = (double)ROUNDS * BATCH;
	double proxy_us = (double)B.cpu_ns / ncalls / 1000.0;
	double loop_us = (double)(cpu1 - cpu0) / ncalls / 1000.0;
	double parse_us = proxy_us * (double)B.parse_ticks / (double)B.all_ticks;
	double msgs = (double)B.msgs / ncalls;
	double outs = (double)call_outputs / ncalls;
	const struct spl_proxy_stats *st = spl_proxy_stats(B.p);
	uint64_t drops = 0;
	for (unsigned d = 0; d < SPL_PROXY_DROP__COUNT; d++)
		drops += st->drops[d];
	uint32_t live = spl_txn_live(spl_proxy_txn(B.p));
	uint64_t ctx_live = st->ctx_live;
	bool good = calls_done == (uint64_t)ncalls && drops == 0 && B.alloc_fail == 0 && B.rejects == 0;
	teardown();

	unsigned ok_plain = 0, ok_auth = 0;
	double reg_ns = bench_register(false, &ok_plain);
	double reg_auth_ns = bench_register(true, &ok_auth);
	free(B.objs);

	if (json) {
		printf("{\"bench\":\"proxy\",\"cpu_us_per_call\":%.3f,\"loop_cpu_us_per_call\":%.3f,"
		       "\"msgs_in_per_call\":%.1f,\"msgs_out_per_call\":%.1f,\"calls\":%.0f,"
		       "\"parse_us_per_call\":%.3f,\"proxy_txn_us_per_call\":%.3f,"
		       "\"calls_in_flight\":%u,\"live_txns\":%u,\"live_contexts\":%llu,"
		       "\"calls_per_s_per_core\":%.0f,\"kamailio_us_per_call\":%.1f,"
		       "\"ratio_vs_kamailio\":%.1f,\"register_ns\":%.1f,\"register_auth_ns\":%.1f,"
		       "\"register_ok\":%u,\"register_auth_ok\":%u,\"check\":\"%s\"}\n",
		       proxy_us, loop_us, msgs, outs, ncalls, parse_us, proxy_us - parse_us, BATCH, live,
		       (unsigned long long)ctx_live,
		       1e6 / proxy_us, KAMAILIO_US, KAMAILIO_US / proxy_us, reg_ns, reg_auth_ns,
		       ok_plain, ok_auth, good ? "ok" : "FAILED");
	} else {
		printf("# proxy: record-routed call INVITE/100/180/200/ACK/BYE/200, callee from the location service\n");
		printf("cpu_us_per_call:%.3f   (scan + validate + spl_proxy_recv per message, + wheel; %.0f calls, %u in flight)\n",
		       proxy_us, ncalls, BATCH);
		printf("calls_per_s_per_core:%.0f   (Kamailio 5.6: ~%.0f us per call, %.1fx)\n",
		       1e6 / proxy_us, KAMAILIO_US, KAMAILIO_US / proxy_us);
		printf("  of which scan+validate:%.3f   proxy+txn+transport+wheel:%.3f\n", parse_us,
		       proxy_us - parse_us);
		printf("loop_cpu_us_per_call:%.3f   (thread CPU incl. the far ends' message building)\n", loop_us);
		printf("msgs_per_call: in %.1f out %.1f   live_txns:%u live_contexts:%llu\n", msgs, outs,
		       live, (unsigned long long)ctx_live);
		printf("register_ns:%.1f   (REGISTER through the proxy into lib/registrar, %u x, %u ok)\n",
		       reg_ns, REG_ITERS, ok_plain);
		printf("register_auth_ns:%.1f   (with digest MD5 qop=auth, %u ok)\n", reg_auth_ns, ok_auth);
		printf("check:%s   (every call's BYE answered, no drops, no buffer shortage)\n",
		       good ? "ok" : "FAILED");
	}
	return good ? 0 : 1;
}
