/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path's private network namespace (see excns.h). The
 * interface is configured with ioctl(2), which covers what it needs
 * (addresses, MTU, flags, default routes) without a netlink library.
 */
#include "excns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "log.h"

#define EXC_VDEV "net_tap_exc0"

static int host_ns = -1;   /* the namespace the process started in */
static int exc_ns = -1;

/* struct in6_ifreq is in <linux/ipv6.h>, which clashes with glibc's
 * headers; its layout is fixed ABI. */
struct exc_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static int enter(int ns)
{
	return setns(ns, CLONE_NEWNET);
}

/* Back to the host namespace. Cannot fail with a valid fd; staying in
 * the wrong namespace would be worse than stopping. */
static void leave(void)
{
	if (enter(host_ns) != 0) {
		spl_log(SPL_LOG_ERR, "cannot return to the host network namespace: %s", strerror(errno));
		abort();
	}
}

int spl_excns_fd(void) { return exc_ns; }

int spl_excns_socket(int domain, int type, int protocol)
{
	if (exc_ns < 0) {
		errno = ENODEV;
		return -1;
	}
	if (enter(exc_ns) != 0)
		return -1;
	int fd = socket(domain, type, protocol);
	int e = errno;
	leave();
	errno = e;
	return fd;
}

int spl_excns_run(int (*fn)(void *arg), void *arg)
{
	if (exc_ns < 0)
		return fn(arg);   /* no namespace of its own: here */
	if (enter(exc_ns) != 0)
		return -1;
	int rc = fn(arg);
	leave();
	return rc;
}

static int write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

int spl_excns_open(const struct spl_config *c, uint16_t *port_id, char *err, unsigned errlen)
{
	(void)c;
	host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_ns < 0) {
		snprintf(err, errlen, "exception path: cannot open own network namespace: %s", strerror(errno));
		return -1;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		/* E.g. a container with NET_ADMIN only. The exception TAP then
		 * stays in this namespace, unconfigured (non-SIP traffic is not
		 * answered by a kernel), and SIP over TCP/TLS is off. */
		spl_log(SPL_LOG_WARNING, "exception path: no network namespace of its own (%s; needs CAP_SYS_ADMIN): "
			"SIP over TCP/TLS is off", strerror(errno));
		close(host_ns);
		host_ns = -1;
		int rc = rte_dev_probe(EXC_VDEV ",iface=" SPL_EXC_IFNAME);
		if (rc < 0 || rte_eth_dev_get_port_by_name(EXC_VDEV, port_id) != 0) {
			snprintf(err, errlen, "exception path: cannot create TAP %s: %s", SPL_EXC_IFNAME, rte_strerror(-rc));
			return -1;
		}
		return 0;
	}
	exc_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int rc = exc_ns < 0 ? -1 : rte_dev_probe(EXC_VDEV ",iface=" SPL_EXC_IFNAME);
	if (exc_ns < 0)
		snprintf(err, errlen, "exception path: cannot open the new namespace: %s", strerror(errno));
	else if (rc < 0)
		snprintf(err, errlen, "exception path: cannot create TAP %s: %s", SPL_EXC_IFNAME, rte_strerror(-rc));
	else if (rte_eth_dev_get_port_by_name(EXC_VDEV, port_id) != 0)
		snprintf(err, errlen, "exception path: TAP %s has no port", EXC_VDEV), rc = -1;
	/* The loopback of the namespace, for the kernel's own use. */
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s >= 0) {
		struct ifreq ifr = { 0 };
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags |= IFF_UP;
			ioctl(s, SIOCSIFFLAGS, &ifr);
		}
		close(s);
	}
	leave();
	if (rc < 0) {
		spl_excns_close();
		return -1;
	}
	return 0;
}

static int if_ioctl(int s, unsigned long req, struct ifreq *ifr, const char *what, char *err, unsigned errlen)
{
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", SPL_EXC_IFNAME);
	if (ioctl(s, req, ifr) == 0)
		return 0;
	snprintf(err, errlen, "exception interface %s: %s: %s", SPL_EXC_IFNAME, what, strerror(errno));
	return -1;
}

static int add_ipv4(int s, const struct spl_cfg_ip *ip, unsigned alias, char *err, unsigned errlen)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, ip->addr, 4);
	/* A second IPv4 address is an alias interface (spl-exc0:1). */
	char name[IFNAMSIZ];
	if (alias)
		snprintf(name, sizeof(name), SPL_EXC_IFNAME ":%u", alias % 100);
	else
		snprintf(name, sizeof(name), SPL_EXC_IFNAME);
	memcpy(ifr.ifr_name, name, sizeof(name));
	if (ioctl(s, SIOCSIFADDR, &ifr) != 0)
		goto fail;
	sin->sin_addr.s_addr = ip->prefix ? htonl(~0u << (32 - ip->prefix)) : 0;
	if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "exception interface %s: address %s/%u: %s", name, ip->text, ip->prefix, strerror(errno));
	return -1;
}

static int add_ipv6(int s6, int ifindex, const struct spl_cfg_ip *ip, char *err, unsigned errlen)
{
	struct exc_in6_ifreq r = { .prefixlen = ip->prefix, .ifindex = ifindex };
	memcpy(&r.addr, ip->addr, 16);
	if (ioctl(s6, SIOCSIFADDR, &r) == 0)
		return 0;
	snprintf(err, errlen, "exception interface: address %s/%u: %s", ip->text, ip->prefix, strerror(errno));
	return -1;
}

static int add_gateway4(int s, const struct spl_cfg_ip *gw, char *err, unsigned errlen)
{
	struct rtentry rt = { 0 };
	struct sockaddr_in *g = (struct sockaddr_in *)&rt.rt_gateway;
	g->sin_family = AF_INET;
	memcpy(&g->sin_addr, gw->addr, 4);
	((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = (char *)SPL_EXC_IFNAME;
	if (ioctl(s, SIOCADDRT, &rt) == 0)
		return 0;
	snprintf(err, errlen, "exception interface: default route via %s: %s", gw->text, strerror(errno));
	return -1;
}

static int add_gateway6(int s6, int ifindex, const struct spl_cfg_ip *gw, char *err, unsigned errlen)
{
	struct in6_rtmsg rt = { 0 };
	memcpy(&rt.rtmsg_gateway, gw->addr, 16);
	rt.rtmsg_flags = RTF_UP | RTF_GATEWAY;
	rt.rtmsg_metric = 1;
	rt.rtmsg_ifindex = ifindex;
	if (ioctl(s6, SIOCADDRT, &rt) == 0)
		return 0;
	snprintf(err, errlen, "exception interface: default route via %s: %s", gw->text, strerror(errno));
	return -1;
}

static int configure_inside(const struct spl_config *c, const struct rte_ether_addr *mac, char *err,
			    unsigned errlen)
{
	const struct spl_cfg_port *p = &c->ports[0];
	int rc = -1;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, errlen, "exception interface: socket: %s", strerror(errno));
		goto out;
	}
	int ifindex = (int)if_nametoindex(SPL_EXC_IFNAME);
	struct ifreq ifr = { 0 };
	/* The appliance's MAC: the kernel's frames then leave the NIC as
	 * sipline's, and frames for sipline's MAC are the kernel's too. */
	ifr.ifr_hwaddr.sa_family = 1;   /* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	if (if_ioctl(s, SIOCSIFHWADDR, &ifr, "set MAC", err, errlen))
		goto out;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = p->mtu;
	if (if_ioctl(s, SIOCSIFMTU, &ifr, "set MTU", err, errlen))
		goto out;
	/* No duplicate address detection: the address is sipline's by
	 * configuration, and lib/net would answer the probe for it. */
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", SPL_EXC_IFNAME);
	write_sysctl(path, "0");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", SPL_EXC_IFNAME);
	write_sysctl(path, "0");
	memset(&ifr, 0, sizeof(ifr));
	if (if_ioctl(s, SIOCGIFFLAGS, &ifr, "get flags", err, errlen))
		goto out;
	ifr.ifr_flags |= IFF_UP;
	if (if_ioctl(s, SIOCSIFFLAGS, &ifr, "bring up", err, errlen))
		goto out;
	unsigned v4 = 0;
	for (unsigned a = 0; a < p->naddrs; a++) {
		const struct spl_cfg_ip *ip = &p->addrs[a];
		if (ip->family == AF_INET ? add_ipv4(s, ip, v4++, err, errlen)
					  : (s6 < 0 ? (snprintf(err, errlen, "exception interface: no IPv6"), -1)
						    : add_ipv6(s6, ifindex, ip, err, errlen)))
			goto out;
	}
	if (p->gateway4.family && add_gateway4(s, &p->gateway4, err, errlen))
		goto out;
	if (p->gateway6.family && s6 >= 0 && add_gateway6(s6, ifindex, &p->gateway6, err, errlen))
		goto out;
	rc = 0;
out:
	if (s >= 0)
		close(s);
	if (s6 >= 0)
		close(s6);
	return rc;
}

int spl_excns_configure(const struct spl_config *c, const struct rte_ether_addr *mac, char *err, unsigned errlen)
{
	if (exc_ns < 0)
		return 0;   /* in the host's namespace: configuring it would steal sipline's addresses */
	if (enter(exc_ns) != 0) {
		snprintf(err, errlen, "exception path: no namespace");
		return -1;
	}
	int rc = configure_inside(c, mac, err, errlen);
	leave();
	return rc;
}

void spl_excns_close(void)
{
	if (exc_ns >= 0)
		close(exc_ns);
	if (host_ns >= 0)
		close(host_ns);
	exc_ns = host_ns = -1;
}
