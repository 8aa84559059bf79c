/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipline-msg [--json] FILE...
 *
 * Treats each file as one UDP datagram and says what the proxy's message
 * layer would do with it: one line per file,
 *
 *   FILE: ok request METHOD URI
 *   FILE: ok response CODE
 *   FILE: reject CODE REASON
 *   FILE: drop REASON
 *
 * With --json each file gives one compact JSON document on one line
 * (JSON Lines) with the verdict, the start line, the parsed Request-URI and
 * every header with its parsed fields; see sipline_msg_json.c.
 *
 * Exit status: 0 all ok, 1 some reject or drop, 2 usage or I/O error (an
 * unreadable file is reported on stderr and the others are still done).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sipline_msg.h"

#define MAX_DATAGRAM 65535u

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sipline-msg [--json] FILE...\n"
		"Parse each FILE as one SIP/UDP datagram and print the message layer's verdict:\n"
		"  FILE: ok request METHOD URI | ok response CODE | reject CODE REASON | drop REASON\n"
		"  --json   one JSON document per file, one per line: verdict, start line,\n"
		"           Request-URI, every header with its parsed fields, body length\n"
		"  -        read a datagram from standard input\n"
		"Exit status: 0 all ok, 1 any reject or drop, 2 usage or I/O error.\n");
}

/* The start line and reason phrases come from the datagram: keep the output
 * one line per file whatever they contain. */
static void put_text(FILE *out, const char *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void print_line(FILE *out, const struct msg_result *r, const struct spl_sipmsg *m)
{
	fputs(r->file, out);
	fputs(": ", out);
	if (r->too_large) {
		fputs("drop datagram too large\n", out);
		return;
	}
	const struct spl_sipmsg_verdict *v = &r->verdict;
	const char *reason = v->reason ? v->reason : spl_sipmsg_err_reason((enum spl_sipmsg_err)v->err);
	switch (v->kind) {
	case SPL_SIPMSG_OK:
		if (m->request) {
			fputs("ok request ", out);
			put_text(out, m->method.p, m->method.len);
			fputc(' ', out);
			put_text(out, m->ruri.p, m->ruri.len);
		} else {
			fprintf(out, "ok response %u", (unsigned)m->status);
		}
		break;
	case SPL_SIPMSG_REJECT:
		fprintf(out, "reject %u %s", (unsigned)v->status, reason ? reason : "");
		break;
	default:
		fprintf(out, "drop %s", reason ? reason : "");
		break;
	}
	fputc('\n', out);
}

/*
 * Reads at most MAX_DATAGRAM + 1 bytes into an exactly sized heap buffer
 * (so that a sanitizer build catches any read past the datagram). Returns
 * 0, or -1 with errno set.
 */
static int read_datagram(const char *path, char **bufp, struct msg_result *r)
{
	static char tmp[MAX_DATAGRAM + 1];
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	r->file_size = (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ? (int64_t)st.st_size : -1;
	size_t got = 0;
	while (got < sizeof(tmp)) {
		ssize_t n = read(fd, tmp + got, sizeof(tmp) - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			if (fd != STDIN_FILENO)
				close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	r->too_large = got > MAX_DATAGRAM;
	r->size = (uint32_t)got;
	char *buf = malloc(got ? got : 1);
	if (!buf)
		return -1;
	memcpy(buf, tmp, got);
	*bufp = buf;
	return 0;
}

int main(int argc, char **argv)
{
	bool json = false, opts = true;
	int nfiles = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!opts || a[0] != '-' || strcmp(a, "-") == 0) {
			nfiles++;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			opts = false;
		} else if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "sipline-msg: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (nfiles == 0) {
		usage(stderr);
		return 2;
	}

	/* One message struct reused for every file: it is large (the header
	 * index and Via cache are fixed arrays). */
	struct spl_sipmsg *m = malloc(sizeof(*m));
	if (!m) {
		perror("sipline-msg");
		return 2;
	}
	bool io_error = false, not_ok = false;
	opts = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (opts && a[0] == '-' && strcmp(a, "-") != 0) {
			if (strcmp(a, "--") == 0)
				opts = false;
			continue;
		}
		struct msg_result r = { .file = a };
		char *buf = NULL;
		if (read_datagram(a, &buf, &r) < 0) {
			fprintf(stderr, "sipline-msg: %s: %s\n", a, strerror(errno));
			io_error = true;
			continue;
		}
		memset(m, 0, sizeof(*m));
		r.buf = buf;
		if (r.too_large) {
			r.verdict = (struct spl_sipmsg_verdict){ .kind = SPL_SIPMSG_DROP,
								 .reason = "datagram too large" };
		} else {
			r.scan_err = spl_sipmsg_scan(m, buf, r.size);
			spl_sipmsg_validate(m, r.scan_err, &r.verdict);
		}
		if (r.verdict.kind != SPL_SIPMSG_OK)
			not_ok = true;
		if (json) {
			if (msg_json_print(stdout, &r, r.too_large ? NULL : m) < 0) {
				fprintf(stderr, "sipline-msg: %s: cannot render JSON\n", a);
				io_error = true;
			}
		} else {
			print_line(stdout, &r, m);
		}
		free(buf);
	}
	free(m);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("sipline-msg: stdout");
		return 2;
	}
	return io_error ? 2 : not_ok ? 1 : 0;
}
