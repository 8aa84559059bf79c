/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel side of the exception path, in a network namespace of its
 * own (doc/streams.md).
 *
 * Traffic the workers do not handle (TCP for SIP over TCP/TLS, and
 * everything that is not SIP over UDP) goes to a TAP interface whose
 * kernel side carries sipline's own addresses and MAC, so the kernel
 * terminates it as if it were sipline, and its answers go back out through
 * the NIC. That interface lives in a private namespace: in the host's
 * namespace the kernel would also own sipline's addresses and deliver local
 * tools' packets for them to itself instead of through the wire.
 *
 * The control thread creates the namespace (unshare), probes the TAP in it
 * (DPDK's TAP PMD creates its kernel interface in the caller's namespace),
 * configures the interface, and returns to the host namespace; its kernel
 * sockets for TCP/TLS are created inside with spl_excns_socket().
 */
#ifndef SPL_APP_EXCNS_H
#define SPL_APP_EXCNS_H

#include <stdint.h>

#include <rte_ether.h>

#include "config.h"

#define SPL_EXC_IFNAME "spl-exc0"

/* Create the namespace, probe the exception TAP in it and configure its
 * kernel interface (addresses, MTU, gateways of ports[0], MAC). Sets
 * *port_id. Returns 0, or -1 with err. */
int spl_excns_open(const struct spl_config *c, uint16_t *port_id, char *err, unsigned errlen);
/* After the port is started with `mac`: give the kernel interface the
 * appliance's MAC and addresses and bring it up. */
int spl_excns_configure(const struct spl_config *c, const struct rte_ether_addr *mac, char *err, unsigned errlen);
/* Run fn(arg) inside the namespace (the TAP PMD opens a queue's tun fd
 * by interface name at queue setup: outside, it would create a second
 * interface of that name). Returns fn's result, or -1 with no namespace. */
int spl_excns_run(int (*fn)(void *arg), void *arg);
/* socket(2) inside the namespace; -1 + errno. */
int spl_excns_socket(int domain, int type, int protocol);
/* The namespace's fd (for `nsenter --net=/proc/PID/fd/N`), -1 when none. */
int spl_excns_fd(void);
void spl_excns_close(void);

#endif
