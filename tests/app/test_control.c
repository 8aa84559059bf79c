/* SPDX-License-Identifier: BSD-3-Clause */
/* The control socket: framing, command matching, text vs JSON, peer checks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"

static struct spl_ctl *ctl;
static char path[108];
static pthread_t server;
static atomic_bool stop;

static int cmd_stats(struct spl_ctl_req *req, json_t **out)
{
	(void)req;
	*out = json_pack("{s:{s:i,s:i},s:{s:i}}", "totals", "requests", 12, "responses", 7, "shard0", "busy_cycles", 99);
	return 0;
}

static int cmd_echo(struct spl_ctl_req *req, json_t **out)
{
	json_t *a = json_array();
	for (int i = 0; i < req->argc; i++)
		json_array_append_new(a, json_string(req->argv[i]));
	*out = json_pack("{s:o,s:i}", "argv", a, "page", (int)spl_ctl_page(req));
	return 0;
}

static int cmd_config_reload(struct spl_ctl_req *req, json_t **out)
{
	(void)req;
	return spl_ctl_error(out, "reload refused: %s", "bad.conf:3: unknown key 'x.y'");
}

static const struct spl_ctl_cmd cmds[] = {
	{ "stats", "", "counters", cmd_stats },
	{ "config", "show", "config", cmd_echo },
	{ "config reload", "", "reload", cmd_config_reload },
	{ "echo", "ARGS", "echo", cmd_echo },
};

static void *serve(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		spl_ctl_poll(ctl, 20);
	return NULL;
}

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/spl-ctl-test-%d/sub/control.sock", getpid());
	char err[256];
	struct spl_ctl_conf conf = { path, NULL, NULL };
	ctl = spl_ctl_create(&conf, err, sizeof(err));
	cr_assert_not_null(ctl, "%s", err);
	cr_assert_eq(spl_ctl_register(ctl, cmds, sizeof(cmds) / sizeof(cmds[0])), 0);
	atomic_store(&stop, false);
	pthread_create(&server, NULL, serve, NULL);
}

static void teardown(void)
{
	atomic_store(&stop, true);
	pthread_join(server, NULL);
	spl_ctl_free(ctl);
	char dir[128];
	snprintf(dir, sizeof(dir), "/tmp/spl-ctl-test-%d/sub", getpid());
	rmdir(dir);
	snprintf(dir, sizeof(dir), "/tmp/spl-ctl-test-%d", getpid());
	rmdir(dir);
}

static int dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	return fd;
}

/* Send one line; return the reply body (static) and whether it was OK. */
static const char *ask(int fd, const char *line, bool *ok)
{
	static char body[8192];
	cr_assert_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	char head[32];
	size_t h = 0;
	while (h < sizeof(head) - 1 && read(fd, head + h, 1) == 1 && head[h++] != '\n')
		;
	head[h] = '\0';
	unsigned long n = 0;
	if (sscanf(head, "OK %lu", &n) == 1)
		*ok = true;
	else if (sscanf(head, "ERR %lu", &n) == 1)
		*ok = false;
	else
		cr_assert_fail("bad header '%s'", head);
	cr_assert_lt(n, sizeof(body));
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, body + got, n - got);
		cr_assert_gt(r, 0);
		got += (size_t)r;
	}
	body[n] = '\0';
	return body;
}

TestSuite(app_control, .init = setup, .fini = teardown);

Test(app_control, text_and_json_from_one_handler)
{
	int fd = dial();
	bool ok;
	const char *b = ask(fd, "stats\n", &ok);
	cr_expect(ok);
	cr_expect_not_null(strstr(b, "# totals\nrequests:12\nresponses:7\n"), "%s", b);
	cr_expect_not_null(strstr(b, "# shard0\nbusy_cycles:99\n"), "%s", b);
	/* Same connection, next command: framing holds. */
	b = ask(fd, "--json stats\n", &ok);
	cr_expect(ok);
	json_error_t je;
	json_t *j = json_loads(b, 0, &je);
	cr_assert_not_null(j, "not JSON: %s", b);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(j, "totals"), "requests")), 12);
	json_decref(j);
	close(fd);
}

Test(app_control, longest_command_name_wins_and_args_pass)
{
	int fd = dial();
	bool ok;
	const char *b = ask(fd, "config reload\n", &ok);
	cr_expect(!ok);
	cr_expect_not_null(strstr(b, "reload refused: bad.conf:3"), "%s", b);
	b = ask(fd, "--json echo a \"b c\" --page 3\n", &ok);
	cr_expect(ok);
	cr_expect_not_null(strstr(b, "\"argv\":[\"echo\",\"a\",\"b c\",\"--page\",\"3\"]"), "%s", b);
	cr_expect_not_null(strstr(b, "\"page\":3"), "%s", b);
	b = ask(fd, "echo --page x\n", &ok);
	cr_expect_not_null(strstr(b, "page:0"), "%s", b);
	close(fd);
}

Test(app_control, help_and_unknown_commands)
{
	int fd = dial();
	bool ok;
	const char *b = ask(fd, "help\n", &ok);
	cr_expect(ok);
	cr_expect_not_null(strstr(b, "config reload"), "%s", b);
	cr_expect_not_null(strstr(b, "echo ARGS"), "%s", b);
	b = ask(fd, "frobnicate now\n", &ok);
	cr_expect(!ok);
	cr_expect_not_null(strstr(b, "unknown command 'frobnicate'"), "%s", b);
	b = ask(fd, "\n", &ok);
	cr_expect(!ok);
	b = ask(fd, "echo \"unbalanced\n", &ok);
	cr_expect(!ok);
	close(fd);
}

Test(app_control, overlong_line_closes_the_connection)
{
	int fd = dial();
	char big[6000];
	memset(big, 'x', sizeof(big));
	cr_assert_eq(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	char buf[256];
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	cr_expect_not_null(strstr(buf, "ERR"), "%s", buf);
	cr_expect_not_null(strstr(buf, "too long"), "%s", buf);
	close(fd);
}

Test(app_control, second_instance_refuses_a_live_socket)
{
	char err[256];
	struct spl_ctl_conf conf = { path, NULL, NULL };
	struct spl_ctl *other = spl_ctl_create(&conf, err, sizeof(err));
	cr_expect_null(other);
	cr_expect_not_null(strstr(err, "in use"), "%s", err);
}

Test(app_control, peer_outside_the_group_is_refused)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to switch to an unprivileged uid");
	/* Open the file mode so that the credential check is what refuses. */
	cr_assert_eq(chmod(path, 0666), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* nobody: not root, not our uid, and no group is configured. */
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(4);
		char buf[256];
		size_t got = 0;
		ssize_t n;
		while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
			got += (size_t)n;
		buf[got] = '\0';
		_exit(strstr(buf, "ERR") && strstr(buf, "permission denied") ? 0 : 5);
	}
	int st;
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", WEXITSTATUS(st));
}
