/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP over TCP and TLS on the control thread (see conn.h): start and stop
 * (listeners in the exception namespace, pools, rings, TLS contexts), and
 * the control socket's view (conn count, list, close; the streams
 * counters). The table is conn_table.c, the I/O conn_io.c.
 */
#include "conn_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "app.h"
#include "control.h"
#include "dnsres.h"
#include "excns.h"
#include "log.h"
#include "shard.h"
#include "spl_sipmsg.h"
#include "spl_stream.h"
#include "tls.h"

struct conn_global CS = { .epfd = -1, .lfd_tcp = -1, .lfd_tls = -1 };

/* ---- start / stop ---- */

static int listen_on(uint16_t port, uint32_t tag, char *err, unsigned errlen)
{
	int fd = spl_excns_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "tcp/tls listener: socket: %s", strerror(errno));
		return -1;
	}
	int zero = 0, one = 1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));   /* IPv4 too, as mapped */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "%s listener on port %u: %s", tag == LISTEN_TLS ? "tls" : "tcp", port, strerror(errno));
		close(fd);
		return -1;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
	epoll_ctl(CS.epfd, EPOLL_CTL_ADD, fd, &ev);
	return fd;
}

int spl_conn_start(struct spl_app *app, char *err, unsigned errlen)
{
	const struct spl_config *c = app->cfg;
	CS.app = app;
	if (!c->tcp && !c->tls)
		return 0;
	if (app->exc_port < 0 || spl_excns_fd() < 0) {
		spl_log(SPL_LOG_WARNING, "no isolated exception path: SIP over TCP/TLS is off");
		return 0;
	}
	if (c->tls) {
		CS.tls = spl_tls_create(c, err, errlen);
		if (!CS.tls)
			return -1;
	}
	CS.cap = c->max_connections;
	CS.c = calloc(CS.cap, sizeof(*CS.c));
	CS.nbuckets = 64;
	while (CS.nbuckets < CS.cap * 4)
		CS.nbuckets <<= 1;
	CS.buckets = calloc(CS.nbuckets, sizeof(*CS.buckets));
	CS.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!CS.c || !CS.buckets || CS.epfd < 0) {
		snprintf(err, errlen, "tcp/tls: out of memory");
		return -1;
	}
	CS.sconf = (struct spl_stream_conf){ c->max_message, (uint64_t)c->stall_timeout_s * 1000000000ull, &CS.st.framing };
	/* Messages to the shards: most fit a standard mbuf, the rest a
	 * max_message one (few: large messages are rare). */
	CS.pool = rte_pktmbuf_pool_create("spl_strm", 4095, 64, RTE_ALIGN(sizeof(struct spl_handoff), RTE_MBUF_PRIV_ALIGN), RTE_MBUF_DEFAULT_BUF_SIZE,
					 (int)rte_socket_id());
	CS.pool_large = rte_pktmbuf_pool_create("spl_strm_l", 127, 8, RTE_ALIGN(sizeof(struct spl_handoff), RTE_MBUF_PRIV_ALIGN),
					       (uint16_t)(RTE_PKTMBUF_HEADROOM + c->max_message), (int)rte_socket_id());
	if (!CS.pool || !CS.pool_large) {
		snprintf(err, errlen, "tcp/tls: no mbuf pool: %s", rte_strerror(rte_errno));
		return -1;
	}
	CS.small_room = RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM;
	for (unsigned i = 0; i < app->nshards; i++) {
		char name[32];
		snprintf(name, sizeof(name), "spl_sin%u", i);
		app->shards[i]->stream_in = rte_ring_create(name, 1024, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "spl_sout%u", i);
		app->shards[i]->stream_out = rte_ring_create_elem(name, sizeof(struct spl_stream_tx), 1024,
								  (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!app->shards[i]->stream_in || !app->shards[i]->stream_out) {
			snprintf(err, errlen, "tcp/tls: no ring: %s", rte_strerror(rte_errno));
			return -1;
		}
	}
	if (c->tcp && (CS.lfd_tcp = listen_on((uint16_t)c->tcp_port, LISTEN_TCP, err, errlen)) < 0)
		return -1;
	if (c->tls && (CS.lfd_tls = listen_on((uint16_t)c->tls_port, LISTEN_TLS, err, errlen)) < 0)
		return -1;
	spl_log(SPL_LOG_NOTICE, "streams: %s%s%s (kernel in the exception namespace, fd %d)",
		c->tcp ? "tcp " : "", c->tcp ? "" : "", c->tls ? "tls" : "", spl_excns_fd());
	return 0;
}

void spl_conn_stop(struct spl_app *app)
{
	(void)app;
	for (uint32_t i = 0; CS.c && i < CS.cap; i++)
		if (CS.c[i].id)
			conn_close(&CS.c[i], CONN_CLOSE_SHUTDOWN, 0);
	if (CS.lfd_tcp >= 0)
		close(CS.lfd_tcp);
	if (CS.lfd_tls >= 0)
		close(CS.lfd_tls);
	if (CS.epfd >= 0)
		close(CS.epfd);
	CS.lfd_tcp = CS.lfd_tls = CS.epfd = -1;
	free(CS.c);
	free(CS.buckets);
	CS.c = NULL;
	CS.buckets = NULL;
	spl_tls_free(CS.tls);
	CS.tls = NULL;
}

/* ---- control socket ---- */

json_t *spl_conn_stats_json(void)
{
	json_t *o = json_object();
#define N(k) json_object_set_new(o, #k, json_integer((json_int_t)CS.st.k))
	N(accepted); N(connected); N(connect_failed); N(refused_limit); N(refused_per_ip);
	N(msgs_in); N(msgs_out); N(bytes_in); N(bytes_out); N(pings); N(pongs);
	N(tls_handshakes); N(tls_failed); N(send_drops); N(ring_drops); N(send_failed);
#undef N
	for (unsigned i = 0; i < CONN_CLOSE__COUNT; i++)
		json_object_set_new(o, close_keys[i], json_integer((json_int_t)CS.st.closes[i]));
	for (unsigned i = 1; i < SPL_STREAM_CLOSE__COUNT; i++)
		if (stream_close_keys[i])
			json_object_set_new(o, stream_close_keys[i], json_integer((json_int_t)CS.st.framing.closes[i]));
	json_object_set_new(o, "live", json_integer(CS.live));
	return o;
}

static int cmd_count(struct spl_ctl_req *r, json_t **out)
{
	(void)r;
	*out = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "total", (json_int_t)CS.live, "tcp",
			 (json_int_t)(CS.live - CS.live_tls), "tls", (json_int_t)CS.live_tls, "inbound",
			 (json_int_t)CS.live_in, "outbound", (json_int_t)(CS.live - CS.live_in), "max",
			 (json_int_t)CS.cap);
	return 0;
}

#define PAGE 50

static int cmd_list(struct spl_ctl_req *r, json_t **out)
{
	unsigned page = spl_ctl_page(r);
	if (page == 0)
		return spl_ctl_error(out, "usage: conn list [--page N]");
	uint64_t now = conn_now_ns();
	json_t *arr = json_array();
	unsigned seen = 0, skip = (page - 1) * PAGE;
	for (uint32_t i = 0; CS.c && i < CS.cap; i++) {
		struct conn *c = &CS.c[i];
		if (!c->id)
			continue;
		if (seen++ < skip || json_array_size(arr) >= PAGE)
			continue;
		char ra[64], la[64], tls[96];
		conn_addr_text(&c->peer, ra, sizeof(ra));
		conn_addr_text(&c->local, la, sizeof(la));
		json_t *e = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "id", (json_int_t)c->id,
				      "transport", c->transport == SPL_SIP_TRANSPORT_TLS ? "tls" : "tcp", "direction",
				      c->inbound ? "in" : "out", "state", state_names[c->state], "local", la, "remote", ra,
				      "age_s", (json_int_t)((now - c->created) / 1000000000ull), "idle_s",
				      (json_int_t)(now > c->last_io ? (now - c->last_io) / 1000000000ull : 0), "rx_bytes", (json_int_t)c->rx_bytes,
				      "tx_bytes", (json_int_t)c->tx_bytes, "rx_msgs", (json_int_t)c->rx_msgs, "tx_msgs",
				      (json_int_t)c->tx_msgs, "queued_bytes", (json_int_t)c->wq_bytes);
		if (c->ssl)
			json_object_set_new(e, "tls", json_string(spl_tls_describe(c->ssl, tls, sizeof(tls))));
		json_array_append_new(arr, e);
	}
	*out = json_pack("{s:o,s:i,s:i,s:i}", "connections", arr, "page", (json_int_t)page, "pages",
			 (json_int_t)((CS.live + PAGE - 1) / PAGE), "total", (json_int_t)CS.live);
	return 0;
}

static int cmd_close(struct spl_ctl_req *r, json_t **out)
{
	char *end = NULL;
	unsigned long id = r->argc == 2 ? strtoul(r->argv[1], &end, 10) : 0;
	if (r->argc != 2 || !end || *end || id == 0 || id > UINT32_MAX)
		return spl_ctl_error(out, "usage: conn close ID (an id from conn list)");
	struct conn *c = CS.c ? conn_by_id((uint32_t)id) : NULL;
	if (!c)
		return spl_ctl_error(out, "no connection %lu", id);
	conn_close(c, CONN_CLOSE_ADMIN, 0);
	*out = json_pack("{s:i}", "closed", (json_int_t)id);
	return 0;
}

static const struct spl_ctl_cmd conn_cmds[] = {
	{ "conn count", "", "live TCP/TLS connections, by transport and direction", cmd_count },
	{ "conn list", "[--page N]", "TCP/TLS connections: id, peer, state, bytes, messages", cmd_list },
	{ "conn close", "ID", "close one TCP/TLS connection", cmd_close },
};

void spl_conn_register_commands(struct spl_app *app)
{
	spl_ctl_register(app->ctl, conn_cmds, sizeof(conn_cmds) / sizeof(conn_cmds[0]));
}
