/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket server. It runs on the control thread, never on a
 * worker: poll() on a handful of descriptors, bounded buffers per client,
 * and replies whose size the handlers bound by paging.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_MAX_CLIENTS 16
#define CTL_LINE_MAX    4096
#define CTL_MAX_ARGS    32
#define CTL_MAX_CMDS    128

struct client {
	int fd;
	uid_t uid;
	gid_t gid;
	unsigned len;
	char buf[CTL_LINE_MAX];
};

struct spl_ctl {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool has_group;
	gid_t group;
	char group_name[64];
	void *app;
	unsigned ncmds;
	struct spl_ctl_cmd cmds[CTL_MAX_CMDS];
	struct client clients[CTL_MAX_CLIENTS];
};

int spl_ctl_error(json_t **out, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*out = json_string(msg);
	return -1;
}

unsigned spl_ctl_page(const struct spl_ctl_req *req)
{
	for (int i = 1; i < req->argc; i++)
		if (strcmp(req->argv[i], "--page") == 0) {
			if (i + 1 >= req->argc)
				return 0;
			char *end;
			long p = strtol(req->argv[i + 1], &end, 10);
			return (*end || p < 1 || p > 1000000) ? 0 : (unsigned)p;
		}
	return 1;
}

/* ---------------------------------------------------------------- */
/* Text rendering                                                    */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void render_scalar(struct sbuf *b, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: sb_add(b, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
	case JSON_REAL: sb_printf(b, "%.3f", json_real_value(v)); break;
	case JSON_TRUE: sb_add(b, "true", 4); break;
	case JSON_FALSE: sb_add(b, "false", 5); break;
	case JSON_NULL: sb_add(b, "-", 1); break;
	default: {
		char *s = json_dumps(v, JSON_COMPACT);
		if (s) {
			sb_add(b, s, strlen(s));
			free(s);
		}
	}
	}
}

/* One line per scalar, "prefix.key:value"; arrays of objects become one
 * line per element with space-separated key=value pairs. */
static void render_fields(struct sbuf *b, const char *prefix, const json_t *obj)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v) {
		char name[256];
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (json_is_object(v)) {
			render_fields(b, name, v);
		} else if (json_is_array(v)) {
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e) {
				sb_printf(b, "%s[%zu]:", name, i);
				if (json_is_object(e)) {
					const char *k2;
					json_t *v2;
					bool first = true;
					json_object_foreach(e, k2, v2) {
						sb_printf(b, "%s%s=", first ? "" : " ", k2);
						render_scalar(b, v2);
						first = false;
					}
				} else {
					render_scalar(b, e);
				}
				sb_add(b, "\n", 1);
			}
		} else {
			sb_printf(b, "%s:", name);
			render_scalar(b, v);
			sb_add(b, "\n", 1);
		}
	}
}

char *spl_ctl_render_text(const json_t *v)
{
	struct sbuf b = { 0 };
	if (json_is_object(v)) {
		const char *k;
		json_t *sec;
		json_t *scalars = json_object();
		json_object_foreach((json_t *)v, k, sec) {
			if (json_is_object(sec)) {
				sb_printf(&b, "# %s\n", k);
				render_fields(&b, "", sec);
			} else {
				json_object_set(scalars, k, sec);
			}
		}
		/* Top-level scalars and lists first read better; they are few. */
		struct sbuf head = { 0 };
		render_fields(&head, "", scalars);
		json_decref(scalars);
		if (head.len) {
			sb_add(&head, b.p ? b.p : "", b.len);
			free(b.p);
			b = head;
		}
	} else if (json_is_string(v)) {
		sb_add(&b, json_string_value(v), json_string_length(v));
		if (b.len && b.p[b.len - 1] != '\n')
			sb_add(&b, "\n", 1);
	} else {
		render_scalar(&b, v);
		sb_add(&b, "\n", 1);
	}
	if (!b.p)
		sb_add(&b, "", 0);
	return b.p;
}

/* ---------------------------------------------------------------- */
/* Registry                                                          */

static int cmd_words(const char *name)
{
	int n = 1;
	for (const char *p = name; *p; p++)
		n += *p == ' ';
	return n;
}

int spl_ctl_register(struct spl_ctl *ctl, const struct spl_ctl_cmd *cmds, unsigned n)
{
	if (ctl->ncmds + n > CTL_MAX_CMDS)
		return -ENOSPC;
	for (unsigned i = 0; i < n; i++)
		ctl->cmds[ctl->ncmds++] = cmds[i];
	return 0;
}

static int cmd_help(struct spl_ctl *ctl, json_t **out)
{
	json_t *list = json_array();
	for (unsigned i = 0; i < ctl->ncmds; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "command", json_string(ctl->cmds[i].name));
		json_object_set_new(e, "args", json_string(ctl->cmds[i].args));
		json_object_set_new(e, "help", json_string(ctl->cmds[i].help));
		json_array_append_new(list, e);
	}
	json_t *o = json_object();
	json_object_set_new(o, "commands", list);
	*out = o;
	return 0;
}

static char *help_text(struct spl_ctl *ctl)
{
	struct sbuf b = { 0 };
	sb_printf(&b, "%-28s %s\n", "help", "list the commands");
	for (unsigned i = 0; i < ctl->ncmds; i++) {
		char usage[128];
		snprintf(usage, sizeof(usage), "%s%s%s", ctl->cmds[i].name, *ctl->cmds[i].args ? " " : "",
			 ctl->cmds[i].args);
		sb_printf(&b, "%-28s %s\n", usage, ctl->cmds[i].help);
	}
	return b.p;
}

/* Split a line into words; "double quotes" group words. */
static int tokenize(char *line, char **argv, int max)
{
	int n = 0;
	char *p = line;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == max)
			return -1;
		if (*p == '"') {
			argv[n++] = ++p;
			while (*p && *p != '"')
				p++;
			if (*p != '"')
				return -1;
			*p++ = '\0';
		} else {
			argv[n++] = p;
			while (*p && *p != ' ' && *p != '\t')
				p++;
			if (*p)
				*p++ = '\0';
		}
	}
	return n;
}

static void reply(int fd, bool ok, const char *body)
{
	char head[32];
	size_t blen = strlen(body);
	int hn = snprintf(head, sizeof(head), "%s %zu\n", ok ? "OK" : "ERR", blen);
	struct { const char *p; size_t n; } parts[2] = { { head, (size_t)hn }, { body, blen } };
	for (int i = 0; i < 2; i++) {
		const char *p = parts[i].p;
		size_t n = parts[i].n;
		while (n) {
			ssize_t w = write(fd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN) {
				/* A slow reader: wait a little, then give up on it. */
				struct pollfd pf = { fd, POLLOUT, 0 };
				if (poll(&pf, 1, 1000) <= 0)
					return;
				continue;
			}
			if (w <= 0)
				return;
			p += w;
			n -= (size_t)w;
		}
	}
}

static void run_line(struct spl_ctl *ctl, struct client *c, char *line)
{
	char *argv[CTL_MAX_ARGS];
	int argc = tokenize(line, argv, CTL_MAX_ARGS);
	if (argc < 0) {
		reply(c->fd, false, "too many arguments or unbalanced quotes\n");
		return;
	}
	bool json = false;
	while (argc > 0 && strcmp(argv[0], "--json") == 0) {
		json = true;
		memmove(argv, argv + 1, sizeof(argv[0]) * (size_t)--argc);
	}
	if (argc == 0) {
		reply(c->fd, false, "empty command; try 'help'\n");
		return;
	}
	json_t *out = NULL;
	int rc;
	if (strcmp(argv[0], "help") == 0 && argc == 1) {
		if (!json) {
			char *t = help_text(ctl);
			reply(c->fd, true, t ? t : "");
			free(t);
			return;
		}
		rc = cmd_help(ctl, &out);
	} else {
		const struct spl_ctl_cmd *best = NULL;
		int best_words = 0;
		for (unsigned i = 0; i < ctl->ncmds; i++) {
			int w = cmd_words(ctl->cmds[i].name);
			if (w > argc || w <= best_words)
				continue;
			char joined[256] = "";
			for (int k = 0; k < w; k++)
				snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s", k ? " " : "",
					 argv[k]);
			if (strcmp(joined, ctl->cmds[i].name) == 0) {
				best = &ctl->cmds[i];
				best_words = w;
			}
		}
		if (!best) {
			char msg[300];
			snprintf(msg, sizeof(msg), "unknown command '%s'; try 'help'\n", argv[0]);
			reply(c->fd, false, msg);
			return;
		}
		/* argv[0] becomes the full command name, then its arguments. */
		argv[best_words - 1] = (char *)best->name;
		struct spl_ctl_req req = { argc - best_words + 1, argv + best_words - 1, json, c->uid, c->gid, ctl->app };
		rc = best->fn(&req, &out);
	}
	if (!out)
		out = json_string(rc == 0 ? "" : "failed");
	char *body;
	if (json) {
		body = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
		if (body) {
			size_t n = strlen(body);
			char *nb = realloc(body, n + 2);
			if (nb) {
				body = nb;
				body[n] = '\n';
				body[n + 1] = '\0';
			}
		}
	} else {
		body = spl_ctl_render_text(out);
	}
	reply(c->fd, rc == 0, body ? body : "");
	free(body);
	json_decref(out);
}

/* ---------------------------------------------------------------- */
/* Sockets                                                           */

/*
 * Root, our own uid, or a process holding the configured group. The
 * groups are the peer process's own (SO_PEERGROUPS, as the kernel saw them
 * at connect), so a group gained with sg/newgrp or dropped by setgroups
 * counts as it really is; /etc/group is only the fallback on kernels
 * without SO_PEERGROUPS.
 */
static bool peer_allowed(struct spl_ctl *ctl, int fd, uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	if (!ctl->has_group)
		return false;
	if (gid == ctl->group)
		return true;
	gid_t groups[256];
#ifdef SO_PEERGROUPS
	socklen_t glen = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0) {
		for (socklen_t i = 0; i < glen / sizeof(gid_t); i++)
			if (groups[i] == ctl->group)
				return true;
		return false;
	}
#endif
	(void)fd;
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	int ng = 256;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ng) < 0)
		return false;
	for (int i = 0; i < ng; i++)
		if (groups[i] == ctl->group)
			return true;
	return false;
}

static void accept_client(struct spl_ctl *ctl)
{
	int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0) {
		close(fd);
		return;
	}
	if (!peer_allowed(ctl, fd, cred.uid, cred.gid)) {
		char msg[200];
		snprintf(msg, sizeof(msg), "permission denied: uid %u is not root and not in group '%s'\n",
			 (unsigned)cred.uid, ctl->has_group ? ctl->group_name : "(none configured)");
		reply(fd, false, msg);
		close(fd);
		return;
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd < 0) {
			ctl->clients[i] = (struct client){ .fd = fd, .uid = cred.uid, .gid = cred.gid };
			return;
		}
	reply(fd, false, "too many control clients\n");
	close(fd);
}

/* Returns commands run; closes the client on EOF, error or overlong line. */
static int serve_client(struct spl_ctl *ctl, struct client *c)
{
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		return 0;
	}
	c->len += (unsigned)n;
	int ran = 0;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (!nl) {
			if (c->len >= sizeof(c->buf) - 1) {
				reply(c->fd, false, "command line too long\n");
				close(c->fd);
				c->fd = -1;
			}
			return ran;
		}
		*nl = '\0';
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		run_line(ctl, c, c->buf);
		ran++;
		unsigned used = (unsigned)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len - used);
		c->len -= used;
	}
}

int spl_ctl_poll(struct spl_ctl *ctl, int timeout_ms)
{
	struct pollfd pfd[CTL_MAX_CLIENTS + 1];
	int idx[CTL_MAX_CLIENTS + 1];
	int n = 0;
	pfd[n] = (struct pollfd){ ctl->listen_fd, POLLIN, 0 };
	idx[n++] = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd >= 0) {
			pfd[n] = (struct pollfd){ ctl->clients[i].fd, POLLIN, 0 };
			idx[n++] = i;
		}
	if (poll(pfd, (nfds_t)n, timeout_ms) <= 0)
		return 0;
	int ran = 0;
	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (idx[i] < 0)
			accept_client(ctl);
		else
			ran += serve_client(ctl, &ctl->clients[idx[i]]);
	}
	return ran;
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(dir, 0755) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return (mkdir(dir, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}

struct spl_ctl *spl_ctl_create(const struct spl_ctl_conf *conf, char *err, unsigned errlen)
{
	struct spl_ctl *ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		ctl->clients[i].fd = -1;
	ctl->listen_fd = -1;
	ctl->app = conf->app;
	if (strlen(conf->path) >= sizeof(ctl->path)) {
		snprintf(err, errlen, "control socket path too long: %s", conf->path);
		goto fail;
	}
	snprintf(ctl->path, sizeof(ctl->path), "%s", conf->path);
	if (conf->group && *conf->group) {
		struct group gr, *res = NULL;
		char buf[4096];
		if (getgrnam_r(conf->group, &gr, buf, sizeof(buf), &res) != 0 || !res) {
			snprintf(err, errlen, "control group '%s' does not exist", conf->group);
			goto fail;
		}
		ctl->has_group = true;
		ctl->group = gr.gr_gid;
		snprintf(ctl->group_name, sizeof(ctl->group_name), "%s", conf->group);
	}
	if (mkdir_parent(ctl->path) != 0) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", ctl->path, strerror(errno));
		goto fail;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctl->path);
	/* A socket file left by a crash is removed; a live one means another
	 * sipline owns it, and we refuse rather than steal its path. */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			snprintf(err, errlen, "%s is in use by a running process", ctl->path);
			goto fail;
		}
		close(probe);
	}
	unlink(ctl->path);
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0 || bind(ctl->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(ctl->listen_fd, 16) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", ctl->path, strerror(errno));
		goto fail;
	}
	if (chmod(ctl->path, 0660) != 0 || (ctl->has_group && chown(ctl->path, (uid_t)-1, ctl->group) != 0)) {
		snprintf(err, errlen, "cannot set mode/group of %s: %s", ctl->path, strerror(errno));
		goto fail;
	}
	return ctl;
fail:
	spl_ctl_free(ctl);
	return NULL;
}

void spl_ctl_free(struct spl_ctl *ctl)
{
	if (!ctl)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd >= 0)
			close(ctl->clients[i].fd);
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		unlink(ctl->path);
	}
	free(ctl);
}
