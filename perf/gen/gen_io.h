/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The generator's I/O: kernel UDP sockets (gen_io_kernel.c) or a DPDK port
 * with lib/net (gen_io_dpdk.c). A message is built in place: tx_begin
 * hands out the buffer of the next outgoing datagram, tx_commit queues it,
 * flush sends what is queued (also done automatically when a batch fills).
 */
#ifndef SPL_GEN_IO_H
#define SPL_GEN_IO_H

#include <stdint.h>

#include "gen.h"

struct gen_io_ops {
	/* Receives one batch per side and hands every datagram to gen_rx.
	 * Returns the number of datagrams. */
	unsigned (*poll)(struct gen_io *io, struct gen *g);
	/* Buffer for the next datagram from `side` (NULL: none available). */
	char *(*tx_begin)(struct gen_io *io, enum gen_side side, uint32_t *cap);
	void (*tx_commit)(struct gen_io *io, enum gen_side side, const struct gen_addr *dst,
			  uint32_t len);
	void (*flush)(struct gen_io *io);
	/* Sleep until input arrives or max_ns passed (may return early). */
	void (*wait)(struct gen_io *io, uint64_t max_ns);
	void (*close)(struct gen_io *io);
};

struct gen_io {
	const struct gen_io_ops *ops;
	uint64_t tx_drop;         /* datagrams the device or socket refused */
};

/* Binds the UAC and UAS sockets; a port of 0 in conf is replaced by the
 * port the kernel chose. NULL with a message on stderr. */
struct gen_io *gen_io_kernel_open(struct gen_conf *conf);
/* No network: UAC and UAS talk to each other directly (the generator's
 * own cost per call). */
struct gen_io *gen_io_null_open(struct gen_conf *conf);
#ifdef GEN_HAVE_DPDK
/* Starts DPDK's EAL and the port named by the profile. */
struct gen_io *gen_io_dpdk_open(struct gen_conf *conf, const char *argv0);
#endif

#endif
