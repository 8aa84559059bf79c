/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture start FILE [sip|all] / capture stop: a pcapng file of the data
 * port's traffic, written with DPDK's pcapng library.
 *
 * RX and TX callbacks are installed once at start-up and cost one relaxed
 * load per burst while no capture runs. While one runs, matching frames
 * are copied (rte_pcapng_copy, with the queue and direction) into a ring;
 * the control thread writes them out, so workers never touch the file.
 * A full ring drops the copy and counts it: capture never slows the data
 * path down to the disk's pace. `sip` (default) keeps UDP to or from a SIP
 * port and IP fragments (a fragmented INVITE); `all` keeps every frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_pcapng.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "app.h"
#include "appctl.h"
#include "control.h"
#include "log.h"

enum { FILTER_SIP = 0, FILTER_ALL = 1 };
#define SNAPLEN 2000  /* bytes kept of each frame (jumbo frames are cut) */

static struct {
	struct spl_app *app;
	atomic_int active;          /* 0 off, 1 on */
	int filter;
	struct rte_ring *ring;
	struct rte_mempool *pool;
	rte_pcapng_t *pcap;
	int fd;
	char path[256];
	uint64_t captured, dropped, written;
	uint16_t sip_ports[SPL_CFG_MAX_SIPPORTS];
	unsigned nsip;
} cap = { .fd = -1 };

static bool is_sip_port(uint16_t be_port)
{
	uint16_t p = rte_be_to_cpu_16(be_port);
	for (unsigned i = 0; i < cap.nsip; i++)
		if (cap.sip_ports[i] == p)
			return true;
	return false;
}

/* UDP to/from a SIP port, or an IP fragment that may belong to one. */
static bool match_sip(const struct rte_mbuf *m)
{
	if (rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr))
		return false;
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t type = eh->ether_type;
	uint32_t off = sizeof(*eh);
	if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
		if (rte_pktmbuf_data_len(m) < off + 4)
			return false;
		type = *rte_pktmbuf_mtod_offset(m, const uint16_t *, off + 2);
		off += 4;
	}
	const struct rte_udp_hdr *uh;
	if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		if (rte_pktmbuf_data_len(m) < off + sizeof(struct rte_ipv4_hdr))
			return false;
		const struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, off);
		if (ih->next_proto_id != IPPROTO_UDP)
			return false;
		if (rte_ipv4_frag_pkt_is_fragmented(ih))
			return true;
		off += rte_ipv4_hdr_len(ih);
	} else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		if (rte_pktmbuf_data_len(m) < off + sizeof(struct rte_ipv6_hdr))
			return false;
		const struct rte_ipv6_hdr *ih = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, off);
		if (ih->proto == IPPROTO_FRAGMENT)
			return true;
		if (ih->proto != IPPROTO_UDP)
			return false;
		off += sizeof(*ih);
	} else {
		return false;
	}
	if (rte_pktmbuf_data_len(m) < off + sizeof(*uh))
		return false;
	uh = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, off);
	return is_sip_port(uh->src_port) || is_sip_port(uh->dst_port);
}

static void copy_out(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n,
		     enum rte_pcapng_direction dir)
{
	uint64_t ts = rte_rdtsc();
	for (uint16_t i = 0; i < n; i++) {
		if (cap.filter == FILTER_SIP && !match_sip(pkts[i]))
			continue;
		struct rte_mbuf *c = rte_pcapng_copy(port, queue, pkts[i], cap.pool, SNAPLEN, ts, dir);
		if (!c || rte_ring_mp_enqueue(cap.ring, c) != 0) {
			if (c)
				rte_pktmbuf_free(c);
			__atomic_fetch_add(&cap.dropped, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_fetch_add(&cap.captured, 1, __ATOMIC_RELAXED);
	}
}

static uint16_t rx_cb(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n, uint16_t max, void *u)
{
	(void)max;
	(void)u;
	if (n && atomic_load_explicit(&cap.active, memory_order_acquire))
		copy_out(port, queue, pkts, n, RTE_PCAPNG_DIRECTION_IN);
	return n;
}

static uint16_t tx_cb(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n, void *u)
{
	(void)u;
	if (n && atomic_load_explicit(&cap.active, memory_order_acquire))
		copy_out(port, queue, pkts, n, RTE_PCAPNG_DIRECTION_OUT);
	return n;
}

static void write_queued(void)
{
	struct rte_mbuf *ms[64];
	unsigned n;
	while ((n = rte_ring_sc_dequeue_burst(cap.ring, (void **)ms, 64, NULL)) > 0) {
		if (rte_pcapng_write_packets(cap.pcap, ms, (uint16_t)n) < 0)
			spl_log(SPL_LOG_WARNING, "capture %s: write failed: %s", cap.path, strerror(errno));
		cap.written += n;
	}
}

void spl_capture_turn(struct spl_app *app)
{
	(void)app;
	if (cap.pcap)
		write_queued();
}

static int cmd_capture(struct spl_ctl_req *r, json_t **out)
{
	const char *sub = r->argc > 1 ? r->argv[1] : "";
	if (strcmp(sub, "start") == 0) {
		if (r->argc < 3 || r->argc > 4)
			return spl_ctl_error(out, "usage: capture start FILE [sip|all]");
		if (cap.pcap)
			return spl_ctl_error(out, "a capture to %s is running; 'capture stop' first", cap.path);
		int filter = FILTER_SIP;
		if (r->argc == 4) {
			if (strcmp(r->argv[3], "all") == 0)
				filter = FILTER_ALL;
			else if (strcmp(r->argv[3], "sip") != 0)
				return spl_ctl_error(out, "filter '%s' is not one of: sip, all", r->argv[3]);
		}
		int fd = open(r->argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
		if (fd < 0)
			return spl_ctl_error(out, "cannot open %s: %s", r->argv[2], strerror(errno));
		rte_pcapng_t *pc = rte_pcapng_fdopen(fd, NULL, NULL, "sipline", "sipline capture");
		if (!pc) {
			close(fd);
			return spl_ctl_error(out, "cannot start pcapng on %s: %s", r->argv[2], rte_strerror(rte_errno));
		}
		cap.fd = fd;
		cap.pcap = pc;
		cap.filter = filter;
		cap.captured = cap.dropped = cap.written = 0;
		snprintf(cap.path, sizeof(cap.path), "%s", r->argv[2]);
		atomic_store_explicit(&cap.active, 1, memory_order_release);
		*out = json_pack("{s:s,s:s}", "capturing", cap.path, "filter", filter == FILTER_ALL ? "all" : "sip");
		return 0;
	}
	if (strcmp(sub, "stop") == 0) {
		if (!cap.pcap)
			return spl_ctl_error(out, "no capture is running");
		atomic_store_explicit(&cap.active, 0, memory_order_release);
		/* Let callbacks already past the flag finish their enqueue. */
		usleep(2000);
		write_queued();
		rte_pcapng_close(cap.pcap);  /* closes the fd too */
		cap.pcap = NULL;
		cap.fd = -1;
		*out = json_pack("{s:s,s:I,s:I,s:I}", "file", cap.path, "captured", (json_int_t)cap.captured, "written",
				 (json_int_t)cap.written, "dropped", (json_int_t)cap.dropped);
		return 0;
	}
	if (strcmp(sub, "status") == 0 || r->argc == 1) {
		*out = json_pack("{s:b,s:s,s:I,s:I}", "running", cap.pcap != NULL, "file", cap.path, "captured",
				 (json_int_t)cap.captured, "dropped", (json_int_t)cap.dropped);
		return 0;
	}
	return spl_ctl_error(out, "usage: capture start FILE [sip|all] | stop | status");
}

static const struct spl_ctl_cmd capture_cmds[] = {
	{ "capture", "start FILE [sip|all] | stop | status", "pcapng capture of the data port (SIP only by default)",
	  cmd_capture },
};

int spl_capture_setup(struct spl_app *app, char *err, unsigned errlen)
{
	cap.app = app;
	cap.nsip = app->cfg->nsip_ports;
	memcpy(cap.sip_ports, app->cfg->sip_ports, sizeof(cap.sip_ports));
	cap.ring = rte_ring_create("spl_cap", 4096, (int)rte_socket_id(), RING_F_SC_DEQ);
	cap.pool = rte_pktmbuf_pool_create("spl_cap", 4095, 64, 0, (uint16_t)(RTE_PKTMBUF_HEADROOM + rte_pcapng_mbuf_size(SNAPLEN)),
					   (int)rte_socket_id());
	if (!cap.ring || !cap.pool) {
		snprintf(err, errlen, "capture: cannot create ring/pool: %s", rte_strerror(rte_errno));
		return -1;
	}
	for (unsigned q = 0; q < app->nshards; q++) {
		if (!rte_eth_add_rx_callback(app->port_id, (uint16_t)q, rx_cb, NULL) ||
		    !rte_eth_add_tx_callback(app->port_id, (uint16_t)q, tx_cb, NULL)) {
			snprintf(err, errlen, "capture: cannot add RX/TX callbacks: %s", rte_strerror(rte_errno));
			return -1;
		}
	}
	spl_ctl_register(app->ctl, capture_cmds, 1);
	return 0;
}

void spl_capture_shutdown(struct spl_app *app)
{
	(void)app;
	if (!cap.pcap)
		return;
	atomic_store(&cap.active, 0);
	write_queued();
	rte_pcapng_close(cap.pcap);
	cap.pcap = NULL;
}
