/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "This is me" (own addresses and domains in URIs and Vias), next-hop
 * peers of a URI (numeric hosts directly, names through the resolve hook),
 * the §18.2.2 / RFC 3581 destination of a response, and the keyed hash
 * used for loop detection and stateless branches.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "proxy_priv.h"

static const char *const tp_upper[] = { "UDP", "UDP", "TCP", "TLS", "SCTP", "WS", "WSS" };
static const char *const tp_lower[] = { "udp", "udp", "tcp", "tls", "sctp", "ws", "wss" };

const char *px_transport_name(uint8_t t) { return t < 7 ? tp_upper[t] : "UDP"; }
const char *px_transport_lower(uint8_t t) { return t < 7 ? tp_lower[t] : "udp"; }

void px_put_uint(struct px_wr *w, uint32_t v)
{
	char tmp[10];
	int i = (int)sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	px_put(w, tmp + i, (uint32_t)(sizeof(tmp) - (unsigned)i));
}

/* ---- hashing: keyed, the same on every shard (loop detection must
 * recognise a branch another shard made) ---- */

#define HK1 UINT64_C(0x9e3779b97f4a7c15)
#define HK2 UINT64_C(0xc2b2ae3d27d4eb4f)

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t px_hash_u64(uint64_t h, uint64_t v)
{
	return rotl((h ^ v) * HK1, 31) * HK2;
}

uint64_t px_hash(uint64_t h, const void *p, uint32_t n)
{
	const unsigned char *s = p;
	h = px_hash_u64(h, n);
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, s, 8);
		h = px_hash_u64(h, v);
		s += 8;
		n -= 8;
	}
	uint64_t v = 0;
	for (uint32_t i = 0; i < n; i++)
		v |= (uint64_t)s[i] << (8 * i);
	h = px_hash_u64(h, v);
	h ^= h >> 29;
	return h;
}

void px_hex16(char out[16], uint64_t v)
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--) {
		out[i] = hx[v & 15];
		v >>= 4;
	}
}

bool px_hex16_parse(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	for (int i = 0; i < 16; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return false;
		x = (x << 4) | d;
	}
	*v = x;
	return true;
}

/* ---- me ---- */

static bool host_eq(const struct spl_sip_host *a, const struct spl_sip_host *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == SPL_SIP_HOST_IPV4)
		return memcmp(a->ip, b->ip, 4) == 0;
	if (a->kind == SPL_SIP_HOST_IPV6)
		return memcmp(a->ip, b->ip, 16) == 0;
	return spl_str_ieq_str(a->text, b->text);
}

int px_addr_match(const struct spl_proxy *p, const struct spl_sip_host *h, uint16_t port)
{
	for (unsigned i = 0; i < p->naddrs; i++)
		if (p->addrs[i].port == port && host_eq(&p->addrs[i].host, h))
			return (int)i;
	return -1;
}

uint8_t px_uri_transport(const struct spl_sip_uri *u)
{
	if (spl_str_present(u->transport) && u->transport.len)
		return spl_sip_transport_lookup(u->transport.p, u->transport.len);
	return u->scheme_id == SPL_SIP_SCHEME_SIPS ? SPL_SIP_TRANSPORT_TLS : SPL_SIP_TRANSPORT_UDP;
}

uint16_t px_uri_port(const struct spl_sip_uri *u)
{
	if (u->port)
		return u->port;
	return px_default_port(px_uri_transport(u));
}

static bool name_in_domains(const struct spl_proxy *p, struct spl_str name)
{
	for (unsigned i = 0; i < p->ndomains; i++)
		if (name.len == p->domains[i].len &&
		    spl_str_ieq_str(name, (struct spl_str){ p->domains[i].name, p->domains[i].len }))
			return true;
	return false;
}

bool px_uri_is_me(const struct spl_proxy *p, const struct spl_sip_uri *u, bool domains_too)
{
	if (u->scheme_id != SPL_SIP_SCHEME_SIP && u->scheme_id != SPL_SIP_SCHEME_SIPS)
		return false;
	if (px_addr_match(p, &u->host, px_uri_port(u)) >= 0)
		return true;
	/* A domain we serve names us only without an explicit port (a
	 * port names one listener, and that was checked above). */
	return domains_too && u->port == 0 && u->host.kind == SPL_SIP_HOST_NAME &&
	       name_in_domains(p, u->host.text);
}

bool px_via_is_me(const struct spl_proxy *p, const struct spl_sip_via *v)
{
	uint16_t port = v->port ? v->port : px_default_port(v->transport_id);
	return px_addr_match(p, &v->host, port) >= 0;
}

bool px_domain_ours(const struct spl_proxy *p, const struct spl_sip_uri *u)
{
	if (u->scheme_id != SPL_SIP_SCHEME_SIP && u->scheme_id != SPL_SIP_SCHEME_SIPS)
		return false;
	if (u->host.kind == SPL_SIP_HOST_NAME && name_in_domains(p, u->host.text))
		return true;
	return px_addr_match(p, &u->host, px_uri_port(u)) >= 0;
}

int px_local_for(const struct spl_proxy *p, uint8_t transport, int8_t want)
{
	if (want >= 0 && (unsigned)want < p->naddrs)
		return want;
	for (unsigned i = 0; i < p->naddrs; i++)
		if (p->addrs[i].transport == transport)
			return (int)i;
	return 0;
}

/* ---- peers ---- */

static void peer_from_host(const struct spl_sip_host *h, uint16_t port, uint8_t transport,
			   struct spl_txn_peer *out)
{
	memset(out, 0, sizeof(*out));
	out->transport = transport;
	out->reliable = px_reliable(transport);
	out->port = port;
	if (h->kind == SPL_SIP_HOST_IPV4) {
		out->family = AF_INET;
		memcpy(out->addr, h->ip, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->addr, h->ip, 16);
	}
}

int px_uri_peers(struct spl_proxy *p, const struct spl_sip_uri *u, bool sips,
		 struct spl_txn_peer *peers, unsigned max, unsigned *n)
{
	uint8_t tp = px_uri_transport(u);
	if (sips && tp == SPL_SIP_TRANSPORT_UDP)
		tp = SPL_SIP_TRANSPORT_TLS;    /* §16.6 step 7: as if the URI were SIPS */
	struct spl_sip_host mh;
	const struct spl_sip_host *h = &u->host;
	if (spl_str_present(u->maddr) && u->maddr.len &&
	    spl_sip_host_parse(u->maddr.p, u->maddr.len, &mh) == 0)
		h = &mh;
	*n = 0;
	if (h->kind == SPL_SIP_HOST_IPV4 || h->kind == SPL_SIP_HOST_IPV6) {
		peer_from_host(h, u->port ? u->port : px_default_port(tp), tp, &peers[0]);
		*n = 1;
		return 0;
	}
	if (h->kind != SPL_SIP_HOST_NAME || p->hooks.resolve == NULL)
		return -EHOSTUNREACH;
	/* RFC 3263 §4.1: a name with neither transport nor port is the
	 * resolver's to choose (NAPTR, then SRV per transport): ask with no
	 * transport. sips: keeps TLS (§4.1: only TLS-capable records). */
	bool chosen = (spl_str_present(u->transport) && u->transport.len) || u->port ||
		      sips || u->scheme_id == SPL_SIP_SCHEME_SIPS;
	unsigned got = 0;
	int rc = p->hooks.resolve(p->hooks.resolve_ctx, h->text, u->port, chosen ? tp : 0, peers, max, &got);
	if (rc == 0 && got == 0)
		rc = -ENOENT;   /* a name with no usable record is as good as none */
	if (rc == 0)
		*n = got < max ? got : max;
	for (unsigned i = 0; rc == 0 && i < *n; i++)
		if (peers[i].transport == 0) {   /* a resolver that left it open: UDP (§4.1) */
			peers[i].transport = SPL_SIP_TRANSPORT_UDP;
			peers[i].reliable = 0;
		}
	/* Only the resolver's "no such name" may become a 404/604: a failure
	 * of the resolver itself says nothing about the request. */
	return rc == 0 || rc == -EAGAIN || rc == -ENOENT ? rc : -EHOSTUNREACH;
}

uint32_t px_peer_ip_text(const struct spl_txn_peer *peer, char *out, uint32_t cap, bool brackets)
{
	char tmp[INET6_ADDRSTRLEN];
	if (peer->family == AF_INET6) {
		if (inet_ntop(AF_INET6, peer->addr, tmp, sizeof(tmp)) == NULL)
			return 0;
	} else if (inet_ntop(AF_INET, peer->addr, tmp, sizeof(tmp)) == NULL) {
		return 0;
	}
	struct px_wr w = { out, cap, 0, false };
	bool br = brackets && peer->family == AF_INET6;
	if (br)
		px_put(&w, "[", 1);
	px_puts(&w, tmp);
	if (br)
		px_put(&w, "]", 1);
	return w.fail ? 0 : w.len;
}

int px_via_peer(struct spl_proxy *p, const struct spl_sip_via *v, const struct spl_txn_peer *src,
		struct spl_txn_peer *out)
{
	uint8_t tp = v->transport_id ? v->transport_id : SPL_SIP_TRANSPORT_UDP;
	uint16_t port = v->port ? v->port : px_default_port(tp);

	if (src != NULL) {
		/* The request's own top Via: the source is authoritative for
		 * the address (what "received" would say); a stream answers
		 * on its connection (§18.2.2); rport asks for the source port
		 * (RFC 3581 §4). */
		*out = *src;
		if (src->reliable)
			return 0;
		/* Sent-by without a port: the default of the transport the
		 * answer goes on (5060 for UDP, §18.2.2), not of the one the
		 * Via claims (a "TLS" Via that came over UDP is not answered
		 * on 5061). */
		if (!v->port)
			port = px_default_port(src->transport ? src->transport : SPL_SIP_TRANSPORT_UDP);
		out->port = spl_str_present(v->rport) ? src->port : port;
		return 0;
	}
	/* A Via further down: received (and rport=) as the proxy that
	 * handled the request wrote them, else sent-by. */
	uint16_t rport = 0;
	if (spl_str_present(v->rport) && v->rport.len) {
		uint32_t x;
		if (spl_sip_uint_parse(v->rport.p, v->rport.len, 65535, &x) == 0)
			rport = (uint16_t)x;
	}
	struct spl_sip_host h;
	if (spl_str_present(v->received) && v->received.len &&
	    spl_sip_host_parse(v->received.p, v->received.len, &h) == 0 &&
	    h.kind != SPL_SIP_HOST_NAME) {
		peer_from_host(&h, rport ? rport : port, tp, out);
		return 0;
	}
	if (v->host.kind == SPL_SIP_HOST_IPV4 || v->host.kind == SPL_SIP_HOST_IPV6) {
		peer_from_host(&v->host, rport ? rport : port, tp, out);
		return 0;
	}
	if (p->hooks.resolve == NULL)
		return -ENOENT;
	unsigned n = 0;
	int rc = p->hooks.resolve(p->hooks.resolve_ctx, v->host.text, v->port, tp, out, 1, &n);
	return rc == 0 && n > 0 ? 0 : -ENOENT;
}
