/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * siplinectl: the control-socket client.
 *
 *   siplinectl [--socket PATH] [--json] COMMAND [ARGS...]   one shot
 *   siplinectl [--socket PATH] [--json]                     interactive
 *
 * Exit status: 0 when the command succeeded, 1 when sipline refused it
 * (the message is printed on stderr), 2 on usage or connection errors.
 */
#include <editline/readline.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/sipline/control.sock"
#define MAX_REPLY (64u << 20)

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "siplinectl: socket path too long: %s\n", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "siplinectl: cannot connect to %s: %s (is sipline running?)\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads "OK n\n" / "ERR n\n" and n bytes; prints the body. Returns 0 OK,
 * 1 ERR, 2 on a broken connection. */
static int read_reply(int fd)
{
	char head[32];
	size_t h = 0;
	while (h < sizeof(head) - 1) {
		ssize_t r = read(fd, head + h, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "siplinectl: connection closed by sipline\n");
			return 2;
		}
		if (head[h++] == '\n')
			break;
	}
	head[h] = '\0';
	bool ok;
	unsigned long n;
	if (sscanf(head, "OK %lu", &n) == 1)
		ok = true;
	else if (sscanf(head, "ERR %lu", &n) == 1)
		ok = false;
	else {
		fprintf(stderr, "siplinectl: malformed reply header\n");
		return 2;
	}
	if (n > MAX_REPLY) {
		fprintf(stderr, "siplinectl: reply too large (%lu bytes)\n", n);
		return 2;
	}
	char *body = malloc(n + 1);
	if (!body)
		return 2;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, body + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(body);
			fprintf(stderr, "siplinectl: reply truncated\n");
			return 2;
		}
		got += (size_t)r;
	}
	fwrite(body, 1, n, ok ? stdout : stderr);
	fflush(ok ? stdout : stderr);
	free(body);
	return ok ? 0 : 1;
}

static int send_line(int fd, bool json, const char *line)
{
	if (json && write_all(fd, "--json ", 7) != 0)
		return -1;
	if (write_all(fd, line, strlen(line)) != 0 || write_all(fd, "\n", 1) != 0)
		return -1;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: siplinectl [--socket PATH] [--json] [COMMAND [ARGS...]]\n"
		   "  Without a command: an interactive prompt with history.\n"
		   "  'siplinectl help' lists the commands. Socket: $SIPLINE_SOCKET or " DEFAULT_SOCKET ".\n");
}

static int interactive(int fd, bool json)
{
	char hist[512] = "";
	const char *home = getenv("HOME");
	if (home)
		snprintf(hist, sizeof(hist), "%s/.siplinectl_history", home);
	using_history();
	if (*hist)
		read_history(hist);
	int last = 0;
	for (;;) {
		char *line = readline("sipline> ");
		if (!line)
			break;
		char *p = line;
		while (*p == ' ')
			p++;
		if (!*p) {
			free(line);
			continue;
		}
		if (strcmp(p, "quit") == 0 || strcmp(p, "exit") == 0) {
			free(line);
			break;
		}
		add_history(p);
		/* A failed send may be a refusal sipline sent and closed on
		 * (permission denied): the reply is still there to read. */
		(void)send_line(fd, json, p);
		last = read_reply(fd);
		free(line);
		if (last == 2)
			return 2;
	}
	if (*hist)
		write_history(hist);
	return last;
}

int main(int argc, char **argv)
{
	const char *path = getenv("SIPLINE_SOCKET");
	bool json = false;
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else
			break;
	}
	if (!path || !*path)
		path = DEFAULT_SOCKET;
	signal(SIGPIPE, SIG_IGN);  /* a closed socket is an error to report, not a silent death */
	int fd = connect_to(path);
	if (fd < 0)
		return 2;
	int rc;
	if (i >= argc) {
		rc = interactive(fd, json);
	} else {
		char line[4096] = "";
		size_t len = 0;
		for (int k = i; k < argc; k++) {
			bool quote = strchr(argv[k], ' ') != NULL;
			int n = snprintf(line + len, sizeof(line) - len, "%s%s%s%s", k > i ? " " : "",
					 quote ? "\"" : "", argv[k], quote ? "\"" : "");
			if (n < 0 || (size_t)n >= sizeof(line) - len) {
				fprintf(stderr, "siplinectl: command too long\n");
				close(fd);
				return 2;
			}
			len += (size_t)n;
		}
		/* Read the reply even when the send failed: sipline refuses a
		 * peer (permission denied) by replying and closing, possibly
		 * before our command arrives. */
		(void)send_line(fd, json, line);
		rc = read_reply(fd);
	}
	close(fd);
	return rc;
}
