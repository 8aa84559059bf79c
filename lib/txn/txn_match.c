/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Matching requests to server transactions (RFC 3261 §17.2.3).
 *
 * With the magic cookie: the key is (top Via branch, sent-by, method), ACK
 * counting as INVITE. Branch and canonical sent-by (lowercased host or the
 * binary address, port) are stored inline in the slot and compared
 * exactly; a key too long for the slot is compared against the retained
 * request (or, without ops->retain, by its 64-bit keyed fingerprint).
 *
 * Without it (RFC 2543): Request-URI (§19.1.4 equality), To tag, From tag,
 * Call-ID, CSeq (number, and method except for ACK) and top Via; an ACK's
 * To tag is compared with the tag of the response the transaction sent.
 * The bucket is chosen by (method class, Call-ID, CSeq number, From tag),
 * which all of those share; the rest is compared against the retained
 * creating request, re-parsed on a bucket hit only.
 */
#include "txn_priv.h"

#define TXN_SEED_2543 UINT64_C(0x2543254325432543)

static inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static bool ieq(const char *a, const char *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

static bool str_eq(struct spl_str a, struct spl_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0) &&
	       (a.p == NULL) == (b.p == NULL);
}

int txn_canon_host(const struct spl_sip_host *h, char *out, uint32_t cap)
{
	if (h->kind == SPL_SIP_HOST_IPV4 || h->kind == SPL_SIP_HOST_IPV6) {
		uint32_t n = h->kind == SPL_SIP_HOST_IPV4 ? 4 : 16;
		if (n + 1 > cap)
			return -1;
		out[0] = (char)h->kind;  /* byte 2 or 3: never the first of a hostname */
		memcpy(out + 1, h->ip, n);
		return (int)n + 1;
	}
	if (h->text.len > cap || h->text.len > 255)
		return -1;
	for (uint32_t i = 0; i < h->text.len; i++)
		out[i] = lower(h->text.p[i]);
	return (int)h->text.len;
}

static uint64_t hash_host(uint64_t h, const struct spl_sip_host *host)
{
	if (host->kind == SPL_SIP_HOST_IPV4)
		return txn_hash_bytes(txn_hash_u64(h, 4), host->ip, 4);
	if (host->kind == SPL_SIP_HOST_IPV6)
		return txn_hash_bytes(txn_hash_u64(h, 6), host->ip, 16);
	char buf[64];
	const char *p = host->text.p;
	uint32_t n = host->text.len;
	h = txn_hash_u64(h, n);
	while (n > 0) {
		uint32_t c = n < sizeof(buf) ? n : (uint32_t)sizeof(buf);
		for (uint32_t i = 0; i < c; i++)
			buf[i] = lower(p[i]);
		h = txn_hash_bytes(h, buf, c);
		p += c;
		n -= c;
	}
	return h;
}

static bool host_equal(const struct spl_sip_host *a, const struct spl_sip_host *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == SPL_SIP_HOST_IPV4)
		return memcmp(a->ip, b->ip, 4) == 0;
	if (a->kind == SPL_SIP_HOST_IPV6)
		return memcmp(a->ip, b->ip, 16) == 0;
	return a->text.len == b->text.len && ieq(a->text.p, b->text.p, a->text.len);
}

static bool sentby_equal(const struct spl_sip_via *a, const struct spl_sip_via *b)
{
	return a->port == b->port && host_equal(&a->host, &b->host);
}

/* Every parameter of a is in b with the same value (names and values
 * case-insensitive: Via params are hosts, numbers and tokens). */
static bool params_in(struct spl_str a, struct spl_str b, uint32_t *count)
{
	struct spl_sip_param_iter it;
	struct spl_str n, v, bv;
	uint32_t c = 0;
	spl_sip_param_iter_init(&it, a, ';');
	int r;
	while ((r = spl_sip_param_next(&it, &n, &v)) == 1) {
		char name[32];
		if (n.len >= sizeof(name))
			return false;
		memcpy(name, n.p, n.len);
		name[n.len] = 0;
		if (!spl_sip_param_find(b, ';', name, &bv))
			return false;
		if ((v.p == NULL) != (bv.p == NULL) || v.len != bv.len ||
		    (v.len && !ieq(v.p, bv.p, v.len)))
			return false;
		c++;
	}
	*count = c;
	return r == 0;
}

/* Top Via equality for RFC 2543 matching: protocol, transport, sent-by
 * and the same set of parameters. */
static bool via_equal(const struct spl_sip_via *a, const struct spl_sip_via *b)
{
	uint32_t ca = 0, cb = 0;
	if (a->transport.len != b->transport.len ||
	    !ieq(a->transport.p, b->transport.p, a->transport.len) ||
	    !sentby_equal(a, b))
		return false;
	if (spl_str_present(a->params) != spl_str_present(b->params))
		return false;
	if (!spl_str_present(a->params))
		return true;
	return params_in(a->params, b->params, &ca) && params_in(b->params, a->params, &cb) && ca == cb;
}

/* ---- key ---- */

static uint8_t method_class(uint8_t m)
{
	return m == SPL_SIP_METHOD_ACK ? SPL_SIP_METHOD_INVITE : m;
}

static uint64_t hash_method(uint64_t h, uint8_t mclass, const struct spl_sipmsg *msg)
{
	h = txn_hash_u64(h, mclass);
	/* Extension methods share one id: keep them apart by their name. */
	if (mclass == SPL_SIP_METHOD_OTHER)
		h = txn_hash_bytes(h, msg->method.p, msg->method.len);
	return h;
}

#define P_2543 (SPL_SIPMSG_P_RURI | SPL_SIPMSG_P_FROM | SPL_SIPMSG_P_TO | \
		SPL_SIPMSG_P_CALLID | SPL_SIPMSG_P_CSEQ)

static int key_make(struct spl_txn_table *tbl, struct spl_sipmsg *msg, uint8_t mclass,
		    struct txn_key *k)
{
	if (spl_sipmsg_parse(msg, SPL_SIPMSG_P_VIA) != SPL_SIPMSG_E_NONE || msg->nvias == 0)
		return -1;
	const struct spl_sip_via *v = &msg->vias[0];
	k->via = v;
	k->mclass = mclass;
	k->ack = msg->method_id == SPL_SIP_METHOD_ACK;
	struct spl_str br = v->branch;
	k->rfc2543 = !(br.p != NULL && br.len >= 7 && memcmp(br.p, SPL_SIPMSG_BRANCH_MAGIC, 7) == 0);

	if (!k->rfc2543) {
		uint64_t h = hash_method(tbl->seed, mclass, msg);
		h = txn_hash_bytes(h, br.p, br.len);
		h = hash_host(h, &v->host);
		k->fp = txn_hash_final(txn_hash_u64(h, v->port));
		int hl = (v->host.kind == SPL_SIP_HOST_IPV4) ? 5 :
			 (v->host.kind == SPL_SIP_HOST_IPV6) ? 17 : (int)v->host.text.len;
		k->inline_ok = br.len <= 255 && hl <= 255 && br.len + (uint32_t)hl <= TXN_KEY_INLINE;
		k->host_len = (uint8_t)hl;
		return 0;
	}
	if (spl_sipmsg_parse(msg, P_2543) != SPL_SIPMSG_E_NONE)
		return -1;
	uint64_t h = hash_method(tbl->seed ^ TXN_SEED_2543, mclass, msg);
	h = txn_hash_bytes(h, msg->call_id.p, msg->call_id.len);
	h = txn_hash_u64(h, msg->cseq.num);
	h = txn_hash_bytes(h, msg->from.tag.p, msg->from.tag.len);
	k->fp = txn_hash_final(h);
	h = txn_hash_bytes(tbl->seed, msg->ruri.p, msg->ruri.len);
	k->fp2 = txn_hash_final(txn_hash_bytes(h, v->raw.p, v->raw.len));
	k->totag = txn_hash_final(txn_hash_bytes(txn_hash_u64(tbl->seed, msg->to.tag.p != NULL),
						 msg->to.tag.p, msg->to.tag.len));
	k->inline_ok = false;
	return 0;
}

/* ---- compare ---- */

bool txn_sent_to_tag(struct spl_txn_table *tbl, const struct txn *t, struct spl_str *tag)
{
	struct spl_sipmsg *o = &tbl->scratch;
	*tag = SPL_STR_NULL;
	if (t->sent.data == NULL)
		return false;
	if (spl_sipmsg_scan(o, t->sent.data, t->sent.len) != SPL_SIPMSG_E_NONE ||
	    spl_sipmsg_parse(o, SPL_SIPMSG_P_TO) != SPL_SIPMSG_E_NONE)
		return false;
	*tag = o->to.tag;
	return true;
}

/* Scan and parse the retained creating request into the scratch message. */
static struct spl_sipmsg *reparse_req(struct spl_txn_table *tbl, const struct txn *t, uint32_t what)
{
	struct spl_sipmsg *o = &tbl->scratch;
	if (spl_sipmsg_scan(o, t->req.data, t->req.len) != SPL_SIPMSG_E_NONE ||
	    spl_sipmsg_parse(o, what) != SPL_SIPMSG_E_NONE || o->nvias == 0)
		return NULL;
	return o;
}

static bool match_3261(struct spl_txn_table *tbl, const struct txn *t, const struct txn_key *k)
{
	const struct spl_sip_via *v = k->via;
	if (t->flags & TXN_F_INLINE) {
		if (t->key_branch != v->branch.len || t->key_host != k->host_len ||
		    t->key_port != v->port || memcmp(t->key, v->branch.p, v->branch.len) != 0)
			return false;
		const char *hk = t->key + t->key_branch;
		if (v->host.kind == SPL_SIP_HOST_IPV4 || v->host.kind == SPL_SIP_HOST_IPV6)
			return hk[0] == (char)v->host.kind && memcmp(hk + 1, v->host.ip, k->host_len - 1u) == 0;
		for (uint32_t i = 0; i < k->host_len; i++)
			if (hk[i] != lower(v->host.text.p[i]))
				return false;
		return true;
	}
	if (t->flags & TXN_F_RETAINED) {
		struct spl_sipmsg *o = reparse_req(tbl, t, SPL_SIPMSG_P_VIA);
		return o != NULL && str_eq(o->vias[0].branch, v->branch) && sentby_equal(&o->vias[0], v);
	}
	return true;  /* the 64-bit keyed fingerprint already matched */
}

static bool match_2543(struct spl_txn_table *tbl, const struct txn *t, const struct txn_key *k,
		       const struct spl_sipmsg *msg)
{
	if (t->flags & TXN_F_RETAINED) {
		const struct spl_sipmsg *o = reparse_req(tbl, t, P_2543 | SPL_SIPMSG_P_VIA);
		if (o == NULL || !spl_sip_uri_equal(&msg->ruri_uri, &o->ruri_uri) ||
		    !str_eq(msg->call_id, o->call_id) || msg->cseq.num != o->cseq.num ||
		    !str_eq(msg->from.tag, o->from.tag) || !via_equal(&msg->vias[0], &o->vias[0]))
			return false;
		if (!k->ack)
			return str_eq(msg->to.tag, o->to.tag);
	} else {
		uint64_t fp2, totag;
		memcpy(&fp2, t->key, 8);
		memcpy(&totag, t->key + 8, 8);
		if (fp2 != k->fp2)
			return false;
		if (!k->ack)
			return totag == k->totag;
	}
	struct spl_str sent_tag;
	txn_sent_to_tag(tbl, t, &sent_tag);
	return str_eq(msg->to.tag, sent_tag);
}

static struct txn *lookup(struct spl_txn_table *tbl, const struct txn_key *k,
			  const struct spl_sipmsg *msg)
{
	uint32_t sig = txn_sig(k->fp), b = txn_home(tbl, k->fp);
	uint32_t n = tbl->nbuckets < TXN_MAX_PROBE ? tbl->nbuckets : TXN_MAX_PROBE;
	for (uint32_t p = 0; p < n; p++) {
		const struct txn_bucket *bk = &tbl->buckets[b];
		for (int w = 0; w < TXN_WAYS; w++) {
			if (bk->sig[w] != sig || bk->slot[w] == TXN_NIL)
				continue;
			struct txn *t = &tbl->slots[bk->slot[w]];
			if (t->fp != k->fp || t->mclass != k->mclass ||
			    ((t->flags & TXN_F_2543) != 0) != k->rfc2543)
				continue;
			if (k->rfc2543 ? match_2543(tbl, t, k, msg) : match_3261(tbl, t, k))
				return t;
		}
		if (bk->ovf == 0)
			break;
		b = txn_next_bucket(tbl, b);
	}
	return NULL;
}

/* ---- entry points ---- */

int spl_txn_recv_request(struct spl_txn_table *tbl, struct spl_sipmsg *msg, void *rx_owner,
			 const struct spl_txn_peer *src, uint64_t now)
{
	struct txn_key k;
	if (!msg->request || key_make(tbl, msg, method_class(msg->method_id), &k) != 0) {
		tbl->stats.bad_messages++;
		return -EINVAL;
	}
	struct txn *t = lookup(tbl, &k, msg);
	if (t != NULL)
		return txn_server_request(tbl, t, msg, src, now);
	if (k.ack) {
		/* An ACK for a 2xx is its own (end-to-end) transaction. */
		tbl->stats.stateless_requests++;
		tbl->ops->on_request(tbl->ctx, SPL_TXN_NONE, SPL_TXN_REQ_STATELESS, msg, src, now);
		return SPL_TXN_RX_STATELESS;
	}
	int rc;
	txn_server_create(tbl, &k, msg, rx_owner, src, now, &rc);
	return rc;
}

uint64_t spl_txn_find_invite_for_cancel(struct spl_txn_table *tbl, struct spl_sipmsg *cancel)
{
	struct txn_key k;
	if (!cancel->request || key_make(tbl, cancel, SPL_SIP_METHOD_INVITE, &k) != 0)
		return SPL_TXN_NONE;
	/* §9.2: matched as the INVITE would be (To tag against the INVITE's). */
	k.ack = false;
	struct txn *t = lookup(tbl, &k, cancel);
	if (t == NULL || t->kind != SPL_TXN_KIND_SERVER_INVITE)
		return SPL_TXN_NONE;
	return txn_handle(tbl, t);
}
