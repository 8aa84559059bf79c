/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The proxy core's configuration from sipline's config. The proxy keeps
 * pointers to strings (addresses, domains, next hops), so they live in a
 * block per config generation that outlives every transaction started
 * under it (reload.c frees old generations late).
 */
#include "proxyconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct spl_proxy_strings *spl_proxyconf_strings(const struct spl_config *c)
{
	struct spl_proxy_strings *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return NULL;

	unsigned n = 0;
	const struct spl_cfg_port *p = &c->ports[0];
	for (unsigned a = 0; a < p->naddrs && n < SPL_PROXY_MAX_ADDRS; a++)
		for (unsigned k = 0; k < c->nsip_ports && n < SPL_PROXY_MAX_ADDRS; k++) {
			if (p->addrs[a].family == AF_INET6)
				snprintf(ps->addr_text[n], sizeof(ps->addr_text[n]), "[%s]", p->addrs[a].text);
			else
				snprintf(ps->addr_text[n], sizeof(ps->addr_text[n]), "%s", p->addrs[a].text);
			ps->addrs[n] = (struct spl_proxy_addr){ ps->addr_text[n], c->sip_ports[k], SPL_SIP_TRANSPORT_UDP };
			n++;
		}
	/* TCP and TLS on the same addresses (served by the control thread):
	 * a request changing transport gets a Record-Route for each side. */
	for (unsigned t = 0; t < 2; t++) {
		bool on = t == 0 ? c->tcp : c->tls;
		for (unsigned a = 0; on && a < p->naddrs && n < SPL_PROXY_MAX_ADDRS; a++) {
			snprintf(ps->addr_text[n], sizeof(ps->addr_text[n]), p->addrs[a].family == AF_INET6 ? "[%s]" : "%s",
				 p->addrs[a].text);
			ps->addrs[n] = (struct spl_proxy_addr){ ps->addr_text[n],
								(uint16_t)(t == 0 ? c->tcp_port : c->tls_port),
								t == 0 ? SPL_SIP_TRANSPORT_TCP : SPL_SIP_TRANSPORT_TLS };
			n++;
		}
	}
	for (unsigned i = 0; i < c->ndomains; i++)
		ps->domains[i] = c->domains[i];
	for (unsigned r = 0; r < c->nroutes; r++) {
		const struct spl_cfg_route *cr = &c->routes[r];
		for (unsigned h = 0; h < cr->nhops; h++) {
			const struct spl_cfg_hop *hp = &cr->hops[h];
			const char *host = hp->host[0] ? hp->host : hp->ip.text;
			bool v6 = !hp->host[0] && hp->ip.family == AF_INET6;
			const char *tp = hp->transport == SPL_SIP_TRANSPORT_TCP ? ";transport=tcp"
					 : hp->transport == SPL_SIP_TRANSPORT_TLS ? ";transport=tls" : "";
			snprintf(ps->hop_text[r][h], sizeof(ps->hop_text[r][h]), "sip:%s%s%s:%u%s", v6 ? "[" : "", host,
				 v6 ? "]" : "", hp->port, tp);
			ps->hops[r][h] = ps->hop_text[r][h];
		}
		ps->routes[r] = (struct spl_proxy_route){ cr->domain[0] ? cr->domain : NULL,
							   cr->prefix[0] ? cr->prefix : NULL, ps->hops[r],
							   cr->nhops, cr->stateless };
	}
	return ps;
}

void spl_proxyconf_fill(struct spl_proxy_conf *pc, const struct spl_config *c, const struct spl_proxy_strings *ps,
			unsigned shard)
{
	memset(pc, 0, sizeof(*pc));
	pc->shard = (uint8_t)shard;
	pc->txn_capacity = c->transactions;
	pc->ctx_capacity = c->contexts;
	pc->t1_ns = (uint64_t)c->t1_ms * 1000000;
	pc->t2_ns = (uint64_t)c->t2_ms * 1000000;
	pc->t4_ns = (uint64_t)c->t4_ms * 1000000;
	pc->timer_c_ns = (uint64_t)c->timer_c_s * 1000000000;
	pc->fork_timeout_ns = (uint64_t)c->fork_timeout_s * 1000000000;
	pc->loop_seed = 0x5a17u;
	pc->addrs = ps->addrs;
	pc->naddrs = 0;
	while (pc->naddrs < SPL_PROXY_MAX_ADDRS && ps->addrs[pc->naddrs].host)
		pc->naddrs++;
	pc->domains = ps->domains;
	pc->ndomains = c->ndomains;
	pc->routes = ps->routes;
	pc->nroutes = c->nroutes;
	pc->record_route = c->record_route;
	pc->recurse_3xx = c->recurse_3xx;
	pc->max_branches = c->max_branches;
	pc->auth_methods = c->auth_invite ? (1u << SPL_SIP_METHOD_INVITE) : 0;
	/* Requests waiting for a name the resolver does not know yet. */
	pc->park_capacity = c->dns_park;
	pc->park_timeout_ns = (uint64_t)c->dns_park_timeout_ms * 1000000;
	pc->unresolvable_status = (uint16_t)c->dns_unresolvable_status;
}
