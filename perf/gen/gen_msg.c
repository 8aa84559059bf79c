/* SPDX-License-Identifier: BSD-3-Clause */
#include "gen_msg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "gen_buf.h"

#define CALLID_HOST "@sipline-gen"

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

static bool hex_field(const char *p, unsigned digits, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < digits; i++) {
		int h = hexval(p[i]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return true;
}

bool gen_callid_decode(struct spl_str v, uint32_t *slot, uint16_t *gen, uint32_t *run)
{
	uint64_t s, g, r;
	if (v.len < 21 || v.p[12] != '-')
		return false;
	if (!hex_field(v.p, 8, &s) || !hex_field(v.p + 8, 4, &g) || !hex_field(v.p + 13, 8, &r))
		return false;
	*slot = (uint32_t)s;
	*gen = (uint16_t)g;
	*run = (uint32_t)r;
	return true;
}

static void put_hp(char *out, uint8_t *len, const struct gen_addr *a)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
	*len = (uint8_t)snprintf(out, 24, "%s:%u", ip, a->port);
}

static uint16_t render_sdp(char *out, uint32_t cap, const struct gen_addr *a, unsigned port)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
	int n = snprintf(out, cap,
			 "v=0\r\n"
			 "o=sipline-gen 1 1 IN IP4 %s\r\n"
			 "s=-\r\n"
			 "c=IN IP4 %s\r\n"
			 "t=0 0\r\n"
			 "m=audio %u RTP/AVP 0 8 101\r\n"
			 "a=rtpmap:0 PCMU/8000\r\n"
			 "a=rtpmap:8 PCMA/8000\r\n"
			 "a=rtpmap:101 telephone-event/8000\r\n"
			 "a=sendrecv\r\n", ip, ip, port);
	return (uint16_t)(n > 0 && (uint32_t)n < cap ? n : 0);
}

void gen_msg_prepare(struct gen *g)
{
	put_hp(g->uac_hp, &g->uac_hp_len, &g->conf->uac);
	put_hp(g->uas_hp, &g->uas_hp_len, &g->conf->uas);
	g->sdp_uac_len = render_sdp(g->sdp_uac, sizeof(g->sdp_uac), &g->conf->uac, 40000);
	g->sdp_uas_len = render_sdp(g->sdp_uas, sizeof(g->sdp_uas), &g->conf->uas, 50000);
}

int gen_reg_user(const struct gen_conf *conf, uint32_t i, char *out, uint32_t cap)
{
	struct gbuf b;
	gb_init(&b, out, cap);
	if (conf->auth && !conf->auth_prefix) {
		gb_mem(&b, conf->auth_user, (uint32_t)strlen(conf->auth_user));
	} else {
		const char *pfx = conf->auth ? conf->auth_user : "u";
		gb_mem(&b, pfx, (uint32_t)strlen(pfx));
		gb_u32(&b, i);
	}
	return gb_len(&b);
}

/* ------------------------------------------------------------------ */
/* UAC requests                                                        */

static void put_str(struct gbuf *b, const char *s)
{
	gb_mem(b, s, (uint32_t)strlen(s));
}

static void put_id(struct gbuf *b, uint32_t slot, uint16_t gen)
{
	gb_hex(b, slot, 8);
	gb_hex(b, gen, 4);
}

static void put_via(struct gbuf *b, const struct gen *g, uint32_t slot, uint16_t gen, char kind)
{
	gb_lit(b, "Via: SIP/2.0/UDP ");
	gb_mem(b, g->uac_hp, g->uac_hp_len);
	/* The run id first: slots and generations restart with every run and
	 * every process, and a branch must never repeat while a stateful
	 * proxy may still hold the transaction of its earlier use (§17.1.3;
	 * up to 64*T1), or the new request is absorbed as a retransmission. */
	gb_lit(b, ";branch=z9hG4bK");
	gb_hex(b, g->run_id, 8);
	put_id(b, slot, gen);
	gb_mem(b, &kind, 1);
	gb_lit(b, ";rport\r\n");
}

static void put_callid(struct gbuf *b, const struct gen *g, uint32_t slot, uint16_t gen)
{
	gb_lit(b, "Call-ID: ");
	put_id(b, slot, gen);
	gb_lit(b, "-");
	gb_hex(b, g->run_id, 8);
	gb_lit(b, CALLID_HOST "\r\n");
}

static void put_from_to(struct gbuf *b, const struct gen *g, const struct gen_call *c, uint32_t slot)
{
	const struct gen_conf *cf = g->conf;
	gb_lit(b, "From: <sip:");
	put_str(b, cf->caller);
	gb_lit(b, "@");
	put_str(b, cf->domain);
	gb_lit(b, ">;tag=");
	put_id(b, slot, c->gen);
	gb_lit(b, "a\r\nTo: <sip:");
	put_str(b, cf->callee);
	gb_lit(b, "@");
	put_str(b, cf->domain);
	gb_lit(b, ">");
	if (c->tag_len) {
		gb_lit(b, ";tag=");
		gb_mem(b, c->tag, c->tag_len);
	}
	gb_lit(b, "\r\n");
}

int gen_msg_invite(const struct gen *g, const struct gen_call *c, uint32_t slot, char *out, uint32_t cap)
{
	const struct gen_conf *cf = g->conf;
	struct gbuf b;
	gb_init(&b, out, cap);
	gb_lit(&b, "INVITE sip:");
	put_str(&b, cf->callee);
	gb_lit(&b, "@");
	put_str(&b, cf->domain);
	gb_lit(&b, " SIP/2.0\r\n");
	put_via(&b, g, slot, c->gen, 'i');
	gb_lit(&b, "Max-Forwards: 70\r\n");
	put_from_to(&b, g, c, slot);
	put_callid(&b, g, slot, c->gen);
	gb_lit(&b, "CSeq: 1 INVITE\r\nContact: <sip:");
	put_str(&b, cf->caller);
	gb_lit(&b, "@");
	gb_mem(&b, g->uac_hp, g->uac_hp_len);
	gb_lit(&b, ">\r\nContent-Type: application/sdp\r\nContent-Length: ");
	gb_u32(&b, g->sdp_uac_len);
	gb_lit(&b, "\r\n\r\n");
	gb_mem(&b, g->sdp_uac, g->sdp_uac_len);
	return gb_len(&b);
}

static int in_dialog(const struct gen *g, const struct gen_call *c, uint32_t slot, char *out,
		     uint32_t cap, bool bye)
{
	struct gbuf b;
	gb_init(&b, out, cap);
	if (bye)
		gb_lit(&b, "BYE ");
	else
		gb_lit(&b, "ACK ");
	gb_mem(&b, c->target, c->target_len);
	gb_lit(&b, " SIP/2.0\r\n");
	put_via(&b, g, slot, c->gen, bye ? 'b' : 'k');
	gb_mem(&b, c->route, c->route_len);
	gb_lit(&b, "Max-Forwards: 70\r\n");
	put_from_to(&b, g, c, slot);
	put_callid(&b, g, slot, c->gen);
	if (bye)
		gb_lit(&b, "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n");
	else
		gb_lit(&b, "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n");
	return gb_len(&b);
}

int gen_msg_ack(const struct gen *g, const struct gen_call *c, uint32_t slot, char *out, uint32_t cap)
{
	return in_dialog(g, c, slot, out, cap, false);
}

int gen_msg_bye(const struct gen *g, const struct gen_call *c, uint32_t slot, char *out, uint32_t cap)
{
	return in_dialog(g, c, slot, out, cap, true);
}

static void copy_line(struct gbuf *b, const struct spl_sipmsg *m, const struct spl_sip_hdr *h)
{
	gb_mem(b, m->buf + h->off, h->len);
	/* A last header line without terminator cannot happen in a scanned
	 * message (the empty line follows), but be safe for bare-LF peers. */
}

static void copy_all(struct gbuf *b, const struct spl_sipmsg *m, enum spl_sip_hdr_id id)
{
	for (uint16_t i = m->first[id]; i != SPL_SIPMSG_NONE; i = m->hdrs[i].next)
		copy_line(b, m, &m->hdrs[i]);
}

static void copy_first(struct gbuf *b, const struct spl_sipmsg *m, enum spl_sip_hdr_id id)
{
	const struct spl_sip_hdr *h = spl_sipmsg_hdr(m, id);
	if (h)
		copy_line(b, m, h);
	else
		b->overflow = true;   /* a mandatory header is missing: refuse */
}

int gen_msg_ack_from_response(const struct gen *g, const struct spl_sipmsg *rsp, char *out, uint32_t cap)
{
	(void)g;
	const struct spl_sip_hdr *to = spl_sipmsg_hdr(rsp, SPL_SIP_HDR_TO);
	const struct spl_sip_hdr *cseq = spl_sipmsg_hdr(rsp, SPL_SIP_HDR_CSEQ);
	struct spl_sip_nameaddr na;
	struct spl_sip_cseq cs;
	if (!to || !cseq || spl_sip_nameaddr_parse(to->value.p, to->value.len, &na) != 0 ||
	    spl_sip_cseq_parse(cseq->value.p, cseq->value.len, &cs) != 0)
		return -1;
	struct gbuf b;
	gb_init(&b, out, cap);
	gb_lit(&b, "ACK ");
	gb_mem(&b, na.uri_str.p, na.uri_str.len);
	gb_lit(&b, " SIP/2.0\r\n");
	copy_first(&b, rsp, SPL_SIP_HDR_VIA);
	gb_lit(&b, "Max-Forwards: 70\r\n");
	copy_first(&b, rsp, SPL_SIP_HDR_FROM);
	copy_line(&b, rsp, to);
	copy_first(&b, rsp, SPL_SIP_HDR_CALL_ID);
	gb_lit(&b, "CSeq: ");
	gb_u32(&b, cs.num);
	gb_lit(&b, " ACK\r\nContent-Length: 0\r\n\r\n");
	return gb_len(&b);
}

/* ------------------------------------------------------------------ */
/* REGISTER                                                            */

int gen_msg_register(struct gen *g, const struct gen_call *c, uint32_t slot,
		     const struct gen_digest_chal *chal, char *out, uint32_t cap)
{
	const struct gen_conf *cf = g->conf;
	char user[96];
	int ulen = gen_reg_user(cf, c->user, user, sizeof(user) - 1);
	if (ulen < 0)
		return -1;
	user[ulen] = 0;
	struct gbuf b;
	gb_init(&b, out, cap);
	gb_lit(&b, "REGISTER sip:");
	put_str(&b, cf->domain);
	gb_lit(&b, " SIP/2.0\r\n");
	put_via(&b, g, slot, c->gen, chal ? 's' : 'r');
	gb_lit(&b, "Max-Forwards: 70\r\nFrom: <sip:");
	gb_mem(&b, user, (uint32_t)ulen);
	gb_lit(&b, "@");
	put_str(&b, cf->domain);
	gb_lit(&b, ">;tag=");
	put_id(&b, slot, c->gen);
	gb_lit(&b, "a\r\nTo: <sip:");
	gb_mem(&b, user, (uint32_t)ulen);
	gb_lit(&b, "@");
	put_str(&b, cf->domain);
	gb_lit(&b, ">\r\n");
	put_callid(&b, g, slot, c->gen);
	gb_lit(&b, "CSeq: ");
	gb_u32(&b, chal ? 2 : 1);
	gb_lit(&b, " REGISTER\r\nContact: <sip:");
	gb_mem(&b, user, (uint32_t)ulen);
	gb_lit(&b, "@");
	gb_mem(&b, g->uac_hp, g->uac_hp_len);
	gb_lit(&b, ">\r\nExpires: ");
	gb_u32(&b, cf->reg_expires);
	gb_lit(&b, "\r\n");
	if (chal) {
		char uri[96], resp[65], cnonce[17];
		snprintf(uri, sizeof(uri), "sip:%s", cf->domain);
		snprintf(cnonce, sizeof(cnonce), "%016llx", (unsigned long long)(g->cnonce++ * 0x9e3779b97f4a7c15ull));
		if (gen_digest_response(chal->sha256, user, cf->auth_pass, chal->realm, "REGISTER", uri,
					chal->nonce, "00000001", cnonce, chal->qop_auth, resp) != 0)
			return -1;
		if (chal->proxy)
			gb_lit(&b, "Proxy-Authorization: Digest username=\"");
		else
			gb_lit(&b, "Authorization: Digest username=\"");
		gb_mem(&b, user, (uint32_t)ulen);
		gb_lit(&b, "\", realm=\"");
		gb_mem(&b, chal->realm.p, chal->realm.len);
		gb_lit(&b, "\", nonce=\"");
		gb_mem(&b, chal->nonce.p, chal->nonce.len);
		gb_lit(&b, "\", uri=\"");
		put_str(&b, uri);
		gb_lit(&b, "\", response=\"");
		put_str(&b, resp);
		gb_lit(&b, "\", algorithm=");
		if (chal->sha256)
			gb_lit(&b, "SHA-256");
		else
			gb_lit(&b, "MD5");
		if (chal->qop_auth) {
			gb_lit(&b, ", qop=auth, nc=00000001, cnonce=\"");
			put_str(&b, cnonce);
			gb_lit(&b, "\"");
		}
		if (spl_str_present(chal->opaque)) {
			gb_lit(&b, ", opaque=\"");
			gb_mem(&b, chal->opaque.p, chal->opaque.len);
			gb_lit(&b, "\"");
		}
		gb_lit(&b, "\r\n");
	}
	gb_lit(&b, "Content-Length: 0\r\n\r\n");
	return gb_len(&b);
}

/* ------------------------------------------------------------------ */
/* UAS responses                                                       */

static bool has_tag(struct spl_str v)
{
	for (uint32_t i = 0; i + 4 <= v.len; i++)
		if (v.p[i] == ';') {
			uint32_t j = i + 1;
			while (j < v.len && (v.p[j] == ' ' || v.p[j] == '\t'))
				j++;
			if (j + 3 <= v.len && strncasecmp(v.p + j, "tag", 3) == 0)
				return true;
		}
	return false;
}

int gen_msg_reply(const struct gen *g, const struct spl_sipmsg *req, uint16_t status,
		  bool dialog, uint32_t slot, uint16_t gen, char *out, uint32_t cap)
{
	const struct spl_sip_hdr *to = spl_sipmsg_hdr(req, SPL_SIP_HDR_TO);
	if (!to)
		return -1;
	struct gbuf b;
	gb_init(&b, out, cap);
	gb_lit(&b, "SIP/2.0 ");
	gb_u32(&b, status);
	gb_lit(&b, " ");
	put_str(&b, spl_sip_status_phrase(status));
	gb_lit(&b, "\r\n");
	copy_all(&b, req, SPL_SIP_HDR_VIA);
	if (dialog)
		copy_all(&b, req, SPL_SIP_HDR_RECORD_ROUTE);
	copy_first(&b, req, SPL_SIP_HDR_FROM);
	if (has_tag(to->value)) {
		copy_line(&b, req, to);
	} else {
		gb_lit(&b, "To: ");
		gb_mem(&b, to->value.p, to->value.len);
		gb_lit(&b, ";tag=");
		put_id(&b, slot, gen);
		gb_lit(&b, "b\r\n");
	}
	copy_first(&b, req, SPL_SIP_HDR_CALL_ID);
	copy_first(&b, req, SPL_SIP_HDR_CSEQ);
	if (dialog) {
		gb_lit(&b, "Contact: <sip:");
		put_str(&b, g->conf->callee);
		gb_lit(&b, "@");
		gb_mem(&b, g->uas_hp, g->uas_hp_len);
		gb_lit(&b, ">\r\n");
	}
	if (dialog && status >= 200) {
		gb_lit(&b, "Content-Type: application/sdp\r\nContent-Length: ");
		gb_u32(&b, g->sdp_uas_len);
		gb_lit(&b, "\r\n\r\n");
		gb_mem(&b, g->sdp_uas, g->sdp_uas_len);
	} else {
		gb_lit(&b, "Content-Length: 0\r\n\r\n");
	}
	return gb_len(&b);
}
