/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --loopback-proxy: a minimal stateless, record-routing relay on a
 * loopback socket, in a thread, so that sipline-gen can test itself
 * without a real proxy (the meson test does exactly that). It is not a
 * proxy to measure: no transactions, no retransmission absorption.
 *
 *   initial request   Via pushed, Max-Forwards decremented, Record-Route
 *                     added to INVITEs, sent to the UAS address
 *   in-dialog request the top Route (ours) popped, sent to the
 *                     Request-URI's host:port
 *   REGISTER          answered here: 200 echoing the Contact, or with
 *                     --auth a 401 digest challenge first, the answer
 *                     checked (403 when wrong)
 *   response          top Via (ours) popped, sent to the next Via's
 *                     received/rport or sent-by
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gen.h"
#include "gen_msg.h"

struct gen_relay {
	pthread_t th;
	int fd;
	atomic_bool stop;
	const struct gen_conf *conf;
	struct gen_addr self, uas;
	char self_hp[32];
	uint64_t nonce_seq;
	uint64_t relayed, answered, dropped;
	struct spl_sipmsg msg;
	char out[8192];
};

static bool addr_of_host(const struct spl_sip_host *h, uint16_t port, struct gen_addr *a)
{
	if (h->kind != SPL_SIP_HOST_IPV4)
		return false;
	memcpy(&a->ip, h->ip, 4);
	a->port = port ? port : 5060;
	return true;
}

static bool is_self(const struct gen_relay *r, const struct spl_sip_host *h, uint16_t port)
{
	struct gen_addr a;
	return addr_of_host(h, port, &a) && a.ip == r->self.ip && a.port == r->self.port;
}

static void send_to(struct gen_relay *r, const struct gen_addr *dst, const char *data, int len)
{
	if (len < 0) {
		r->dropped++;
		return;
	}
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = dst->ip, .sin_port = htons(dst->port) };
	if (sendto(r->fd, data, (size_t)len, 0, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		r->dropped++;
}

static void reply(struct gen_relay *r, struct spl_sipmsg *m, const struct gen_addr *src, uint16_t status,
		  const struct spl_str *extra, unsigned n_extra)
{
	int n = spl_sipmsg_build_response(m, status, NULL, SPL_STR_LIT("relay"), extra, n_extra, r->out,
					  sizeof(r->out));
	send_to(r, src, r->out, n);
	r->answered++;
}

static bool check_credentials(struct gen_relay *r, struct spl_sipmsg *m)
{
	const struct spl_sip_hdr *h = spl_sipmsg_hdr(m, SPL_SIP_HDR_AUTHORIZATION);
	struct spl_sip_auth a;
	if (!h || spl_sip_auth_parse(h->value.p, h->value.len, &a) != 0 || !spl_str_present(a.username) ||
	    !spl_str_present(a.response) || !spl_str_present(a.uri) || !spl_str_present(a.nonce))
		return false;
	char user[96], uri[128], nc[16] = "", cnonce[64] = "", want[65];
	if (a.username.len >= sizeof(user) || a.uri.len >= sizeof(uri) || a.nc.len >= sizeof(nc) ||
	    a.cnonce.len >= sizeof(cnonce))
		return false;
	memcpy(user, a.username.p, a.username.len);
	user[a.username.len] = 0;
	memcpy(uri, a.uri.p, a.uri.len);
	uri[a.uri.len] = 0;
	if (a.nc.p) {
		memcpy(nc, a.nc.p, a.nc.len);
		nc[a.nc.len] = 0;
	}
	if (a.cnonce.p) {
		memcpy(cnonce, a.cnonce.p, a.cnonce.len);
		cnonce[a.cnonce.len] = 0;
	}
	bool sha = spl_str_present(a.algorithm) && spl_str_ieq(a.algorithm, "SHA-256");
	if (gen_digest_response(sha, user, r->conf->auth_pass, a.realm, "REGISTER", uri, a.nonce, nc, cnonce,
				spl_str_present(a.qop), want) != 0)
		return false;
	return strlen(want) == a.response.len && memcmp(want, a.response.p, a.response.len) == 0;
}

static void on_register(struct gen_relay *r, struct spl_sipmsg *m, const struct gen_addr *src)
{
	char line[600];
	if (r->conf->auth && !spl_sipmsg_hdr(m, SPL_SIP_HDR_AUTHORIZATION)) {
		int n = snprintf(line, sizeof(line),
				 "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%016llx\", qop=\"auth\", algorithm=MD5",
				 r->conf->domain, (unsigned long long)(++r->nonce_seq * 0x9e3779b97f4a7c15ull));
		struct spl_str ex = { line, (uint32_t)n };
		reply(r, m, src, 401, &ex, 1);
		return;
	}
	if (r->conf->auth && !check_credentials(r, m)) {
		reply(r, m, src, 403, NULL, 0);
		return;
	}
	const struct spl_sip_hdr *ct = spl_sipmsg_hdr(m, SPL_SIP_HDR_CONTACT);
	if (!ct) {
		reply(r, m, src, 200, NULL, 0);
		return;
	}
	int n = snprintf(line, sizeof(line), "Contact: %.*s;expires=%u", (int)ct->value.len, ct->value.p,
			 r->conf->reg_expires);
	struct spl_str ex = { line, (uint32_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1) };
	reply(r, m, src, 200, &ex, 1);
}

static uint32_t fnv(const char *p, uint32_t n, uint32_t h)
{
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h;
}

static void on_request(struct gen_relay *r, struct spl_sipmsg *m, const struct gen_addr *src)
{
	if (spl_sipmsg_parse(m, SPL_SIPMSG_P_VIA | SPL_SIPMSG_P_RURI | SPL_SIPMSG_P_ROUTE | SPL_SIPMSG_P_MAXFWD) !=
	    SPL_SIPMSG_E_NONE || m->nvias == 0) {
		r->dropped++;
		return;
	}
	if (m->method_id == SPL_SIP_METHOD_REGISTER) {
		on_register(r, m, src);
		return;
	}
	if (m->max_forwards == 0) {
		reply(r, m, src, 483, NULL, 0);
		return;
	}
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.max_forwards = SPL_SIPMSG_MF_DECREMENT;
	struct gen_addr dst = r->uas;
	if (m->nroutes > 0 && is_self(r, &m->route.uri.host, m->route.uri.port)) {
		e.remove_top_route = true;
		/* One Route of ours is all this relay ever puts in a route set. */
		if (!addr_of_host(&m->ruri_uri.host, m->ruri_uri.port, &dst)) {
			reply(r, m, src, 416, NULL, 0);
			return;
		}
	} else if (m->method_id == SPL_SIP_METHOD_INVITE) {
		char *rr = r->out + sizeof(r->out) - 128;
		int n = snprintf(rr, 128, "Record-Route: <sip:%s;lr>", r->self_hp);
		e.n_rr = 1;
		e.rr[0] = (struct spl_str){ rr, (uint32_t)n };
	}
	/* Stateless branch: a function of the incoming one (§16.11), the
	 * method folded in so that an ACK for a 2xx gets its own. */
	char via[160];
	uint32_t h = fnv(m->vias[0].branch.p, m->vias[0].branch.len, 2166136261u);
	h = fnv(m->method.p, m->method.len, h);
	int vn = snprintf(via, sizeof(via), "Via: SIP/2.0/UDP %s;branch=z9hG4bKrl%08x", r->self_hp, h);
	e.via = (struct spl_str){ via, (uint32_t)vn };
	int n = spl_sipmsg_serialize(m, &e, r->out, sizeof(r->out) - 128);
	send_to(r, &dst, r->out, n);
	r->relayed++;
}

static void on_response(struct gen_relay *r, struct spl_sipmsg *m)
{
	if (spl_sipmsg_parse(m, SPL_SIPMSG_P_VIA) != SPL_SIPMSG_E_NONE || m->nvias < 2 ||
	    !is_self(r, &m->vias[0].host, m->vias[0].port)) {
		r->dropped++;
		return;
	}
	const struct spl_sip_via *v = &m->vias[1];
	struct gen_addr dst;
	if (!addr_of_host(&v->host, v->port, &dst)) {
		r->dropped++;
		return;
	}
	if (spl_str_present(v->received)) {
		struct spl_sip_host h;
		if (spl_sip_host_parse(v->received.p, v->received.len, &h) == 0 && h.kind == SPL_SIP_HOST_IPV4)
			memcpy(&dst.ip, h.ip, 4);
	}
	uint32_t rport;
	if (spl_str_present(v->rport) && v->rport.len && spl_sip_uint_parse(v->rport.p, v->rport.len, 65535, &rport) == 0)
		dst.port = (uint16_t)rport;
	struct spl_sipmsg_edits e;
	spl_sipmsg_edits_init(&e);
	e.remove_top_via = true;
	int n = spl_sipmsg_serialize(m, &e, r->out, sizeof(r->out));
	send_to(r, &dst, r->out, n);
	r->relayed++;
}

static void *relay_main(void *arg)
{
	struct gen_relay *r = arg;
	char buf[GEN_RX_MAX];
	if (r->conf->cpu >= 0) {
		/* Keep off the generator's pinned CPU (we inherited its mask). */
		cpu_set_t set;
		CPU_ZERO(&set);
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		for (long i = 0; i < n && i < CPU_SETSIZE; i++)
			if (i != r->conf->cpu)
				CPU_SET(i, &set);
		if (CPU_COUNT(&set) > 0)
			pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!atomic_load(&r->stop)) {
		struct pollfd p = { r->fd, POLLIN, 0 };
		if (poll(&p, 1, 100) <= 0)
			continue;
		for (int i = 0; i < 256; i++) {
			struct sockaddr_in sin;
			socklen_t sl = sizeof(sin);
			ssize_t n = recvfrom(r->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sin, &sl);
			if (n <= 0)
				break;
			struct gen_addr src = { sin.sin_addr.s_addr, ntohs(sin.sin_port) };
			if (spl_sipmsg_scan(&r->msg, buf, (uint32_t)n) != SPL_SIPMSG_E_NONE) {
				r->dropped++;
				continue;
			}
			if (r->msg.request)
				on_request(r, &r->msg, &src);
			else
				on_response(r, &r->msg);
		}
	}
	return NULL;
}

struct gen_relay *gen_relay_start(const struct gen_conf *conf, struct gen_addr *bound)
{
	struct gen_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->conf = conf;
	r->uas = conf->uas;
	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = bound->ip, .sin_port = htons(bound->port) };
	int sz = 8 << 20;
	setsockopt(r->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		fprintf(stderr, "sipline-gen: loopback proxy: bind: %s\n", strerror(errno));
		if (r->fd >= 0)
			close(r->fd);
		free(r);
		return NULL;
	}
	socklen_t sl = sizeof(sin);
	getsockname(r->fd, (struct sockaddr *)&sin, &sl);
	bound->port = ntohs(sin.sin_port);
	r->self = *bound;
	gen_addr_format(&r->self, r->self_hp, sizeof(r->self_hp));
	if (pthread_create(&r->th, NULL, relay_main, r) != 0) {
		close(r->fd);
		free(r);
		return NULL;
	}
	return r;
}

void gen_relay_stop(struct gen_relay *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	pthread_join(r->th, NULL);
	close(r->fd);
	free(r);
}
