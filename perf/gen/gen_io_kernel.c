/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel UDP sockets, one for the UAC side and one for the UAS side,
 * batched with recvmmsg/sendmmsg (64 datagrams per system call at most).
 * Non-blocking: a datagram the kernel refuses is counted and dropped, as
 * a network would; the retransmission timers recover it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gen_io.h"

#define KBATCH 64
#define KTX_BUF 2048
#define SOCK_BUF (16 << 20)

struct kside {
	int fd;
	unsigned ntx;
	struct mmsghdr rx_msgs[KBATCH];
	struct iovec rx_iov[KBATCH];
	struct sockaddr_in rx_addr[KBATCH];
	struct mmsghdr tx_msgs[KBATCH];
	struct iovec tx_iov[KBATCH];
	struct sockaddr_in tx_addr[KBATCH];
	char rx_buf[KBATCH][GEN_RX_MAX];
	char tx_buf[KBATCH][KTX_BUF];
};

struct kio {
	struct gen_io io;
	struct kside side[2];
};

static void flush_side(struct kio *k, struct kside *s)
{
	unsigned off = 0;
	while (off < s->ntx) {
		int n = sendmmsg(s->fd, s->tx_msgs + off, s->ntx - off, MSG_DONTWAIT);
		if (n > 0) {
			off += (unsigned)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* EAGAIN (send buffer full), ECONNREFUSED, ...: drop one, go on. */
		k->io.tx_drop++;
		off++;
	}
	s->ntx = 0;
}

static void k_flush(struct gen_io *io)
{
	struct kio *k = (struct kio *)io;
	for (int i = 0; i < 2; i++)
		if (k->side[i].ntx)
			flush_side(k, &k->side[i]);
}

static char *k_tx_begin(struct gen_io *io, enum gen_side side, uint32_t *cap)
{
	struct kio *k = (struct kio *)io;
	struct kside *s = &k->side[side];
	*cap = KTX_BUF;
	return s->tx_buf[s->ntx];
}

static void k_tx_commit(struct gen_io *io, enum gen_side side, const struct gen_addr *dst, uint32_t len)
{
	struct kio *k = (struct kio *)io;
	struct kside *s = &k->side[side];
	unsigned i = s->ntx;
	s->tx_addr[i].sin_family = AF_INET;
	s->tx_addr[i].sin_addr.s_addr = dst->ip;
	s->tx_addr[i].sin_port = htons(dst->port);
	s->tx_iov[i].iov_len = len;
	if (++s->ntx == KBATCH)
		flush_side(k, s);
}

static unsigned k_poll(struct gen_io *io, struct gen *g)
{
	struct kio *k = (struct kio *)io;
	unsigned total = 0;
	for (int si = 0; si < 2; si++) {
		struct kside *s = &k->side[si];
		for (unsigned i = 0; i < KBATCH; i++)
			s->rx_msgs[i].msg_hdr.msg_namelen = sizeof(s->rx_addr[i]);
		int n = recvmmsg(s->fd, s->rx_msgs, KBATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			struct gen_addr src = { s->rx_addr[i].sin_addr.s_addr, ntohs(s->rx_addr[i].sin_port) };
			gen_rx(g, (enum gen_side)si, s->rx_buf[i], s->rx_msgs[i].msg_len, &src);
		}
		total += (unsigned)n;
	}
	return total;
}

static void k_wait(struct gen_io *io, uint64_t max_ns)
{
	struct kio *k = (struct kio *)io;
	struct pollfd p[2] = { { k->side[0].fd, POLLIN, 0 }, { k->side[1].fd, POLLIN, 0 } };
	struct timespec ts = { (time_t)(max_ns / 1000000000ull), (long)(max_ns % 1000000000ull) };
	ppoll(p, 2, &ts, NULL);
}

static void k_close(struct gen_io *io)
{
	struct kio *k = (struct kio *)io;
	k_flush(io);
	for (int i = 0; i < 2; i++)
		close(k->side[i].fd);
	free(k);
}

static const struct gen_io_ops kernel_ops = {
	.poll = k_poll,
	.tx_begin = k_tx_begin,
	.tx_commit = k_tx_commit,
	.flush = k_flush,
	.wait = k_wait,
	.close = k_close,
};

static int open_side(struct kside *s, struct gen_addr *a, const char *what)
{
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		perror("sipline-gen: socket");
		return -1;
	}
	int sz = SOCK_BUF;
	/* FORCE variants pass rmem_max/wmem_max as root; else best effort. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = a->ip, .sin_port = htons(a->port) };
	if (bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		char t[32];
		gen_addr_format(a, t, sizeof(t));
		fprintf(stderr, "sipline-gen: bind %s (%s): %s\n", what, t, strerror(errno));
		return -1;
	}
	socklen_t len = sizeof(sin);
	getsockname(s->fd, (struct sockaddr *)&sin, &len);
	a->port = ntohs(sin.sin_port);
	for (unsigned i = 0; i < KBATCH; i++) {
		s->rx_iov[i] = (struct iovec){ s->rx_buf[i], GEN_RX_MAX };
		s->rx_msgs[i].msg_hdr = (struct msghdr){ .msg_name = &s->rx_addr[i], .msg_namelen = sizeof(s->rx_addr[i]),
							 .msg_iov = &s->rx_iov[i], .msg_iovlen = 1 };
		s->tx_iov[i] = (struct iovec){ s->tx_buf[i], 0 };
		s->tx_msgs[i].msg_hdr = (struct msghdr){ .msg_name = &s->tx_addr[i], .msg_namelen = sizeof(s->tx_addr[i]),
							 .msg_iov = &s->tx_iov[i], .msg_iovlen = 1 };
	}
	return 0;
}

struct gen_io *gen_io_kernel_open(struct gen_conf *conf)
{
	struct kio *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->io.ops = &kernel_ops;
	k->side[0].fd = k->side[1].fd = -1;
	if (open_side(&k->side[GEN_UAC], &conf->uac, "--uac-bind") != 0 ||
	    open_side(&k->side[GEN_UAS], &conf->uas, "--uas-bind") != 0) {
		for (int i = 0; i < 2; i++)
			if (k->side[i].fd >= 0)
				close(k->side[i].fd);
		free(k);
		return NULL;
	}
	return &k->io;
}
