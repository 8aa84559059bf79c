/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a Unix stream socket speaking one command per line.
 * A request is "[--json] COMMAND [ARGS...]\n"; the reply is a header line
 * "OK <bytes>\n" or "ERR <bytes>\n" followed by exactly <bytes> of body, so
 * one connection can carry many commands (siplinectl's interactive mode).
 *
 * Commands live beside the code they inspect and register themselves with
 * a help line. A handler builds one JSON value; the socket renders it as
 * JSON for machines (--json) or as "# Section" / "field:value" text for
 * people, so the two never disagree. Listings are paged by the handler.
 */
#ifndef SPL_APP_CONTROL_H
#define SPL_APP_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct spl_ctl;

struct spl_ctl_req {
	int argc;            /* argv[0] is the command name (after --json) */
	char **argv;
	bool json;
	uid_t uid;           /* peer credentials */
	gid_t gid;
	void *app;           /* the application context given at create */
};

/*
 * A handler returns 0 and sets *out to a JSON object (or string for plain
 * text), or -1 and sets *out to a JSON string with the error message. The
 * socket takes ownership of *out.
 */
typedef int (*spl_ctl_fn)(struct spl_ctl_req *req, json_t **out);

struct spl_ctl_cmd {
	const char *name;    /* may contain a space: "config reload" */
	const char *args;    /* usage of the arguments, "" when none */
	const char *help;
	spl_ctl_fn fn;
};

struct spl_ctl_conf {
	const char *path;    /* socket path; its directory is created */
	const char *group;   /* group allowed besides root; NULL or "" = root only */
	void *app;
};

/* Returns NULL with a message in err. */
struct spl_ctl *spl_ctl_create(const struct spl_ctl_conf *conf, char *err, unsigned errlen);
void spl_ctl_free(struct spl_ctl *ctl);

/* Commands are matched longest name first ("config reload" before "config"). */
int spl_ctl_register(struct spl_ctl *ctl, const struct spl_ctl_cmd *cmds, unsigned n);

/* Serve ready clients, waiting at most timeout_ms. Returns commands run. */
int spl_ctl_poll(struct spl_ctl *ctl, int timeout_ms);

/* Render a handler's JSON as text: "# Section" for objects at the top
 * level, "field:value" lines, arrays one element per line. Caller frees. */
char *spl_ctl_render_text(const json_t *v);

/* Helpers for handlers. */
int spl_ctl_error(json_t **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parse "--page N" (1-based) from argv; returns 1 when absent, 0 on error. */
unsigned spl_ctl_page(const struct spl_ctl_req *req);

#endif
