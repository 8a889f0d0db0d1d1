// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Options from a file (user/cli/config_file.c): `key = value` lines,
 * comments, blanks and whitespace; values checked by the command line's
 * own code (options.c), flags as yes/no; what the command line gave wins
 * while lists take both; errors say FILE:LINE; `run`'s own table.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "cli/cli.h"
#include "cli/config_file.h"

struct t_opts {
	unsigned int count;
	bool flag;
	const char *names[3];
	int n_names;
	int mode;
	const char *str;
	int custom;		/* a sum of what the custom option was given */
};

static const struct xb_opt_choice modes[] = { { "a", 1 }, { "b", 2 }, {} };

/* custom: a number from 1 to 9, or "big" with its own message */
static int parse_digit(const char *arg, void *opts, char *why, size_t len)
{
	struct t_opts *o = opts;

	if (!strcmp(arg, "big")) {
		snprintf(why, len, "too big");
		return -E2BIG;
	}
	if (strlen(arg) != 1 || arg[0] < '1' || arg[0] > '9')
		return -EINVAL;
	o->custom += arg[0] - '0';
	return 0;
}

static const struct xb_option t_table[] = {
	XB_OPT_JSON,
	{ .name = "count", .kind = XB_OPT_UINT, XB_OPT_AT(struct t_opts, count),
	  .min = 1, .max = 100 },
	{ .name = "flag", .kind = XB_OPT_FLAG, XB_OPT_AT(struct t_opts, flag) },
	{ .name = "name", .kind = XB_OPT_STRINGS, XB_OPT_AT(struct t_opts, names),
	  XB_OPT_COUNT_AT(struct t_opts, n_names), .max = 3, .items = "names" },
	{ .name = "mode", .kind = XB_OPT_ENUM, XB_OPT_AT(struct t_opts, mode), .choices = modes },
	{ .name = "str", .kind = XB_OPT_STRING, XB_OPT_AT(struct t_opts, str) },
	{ .name = "digit", .kind = XB_OPT_CUSTOM, .parse = parse_digit, .repeat = true },
	XB_OPT_HELP,
	{}
};

static const struct t_opts t_defaults = { .count = 7 };

static const struct xb_cmd t_cmd = {
	.name = "t",
	.options = t_table,
	.opts_size = sizeof(struct t_opts),
	.defaults = &t_defaults,
};

/* Bits of t_table's entries, for keep. */
#define BIT_COUNT	(1ULL << 1)
#define BIT_FLAG	(1ULL << 2)
#define BIT_NAME	(1ULL << 3)
#define BIT_DIGIT	(1ULL << 6)

static char err[320];

static int parse(struct xb_config *cf, const char *text, struct t_opts *o,
		 unsigned long long keep)
{
	char *copy = strdup(text);

	assert_non_null(copy);
	err[0] = '\0';
	return xb_config_parse(cf, copy, "t.conf", &t_cmd, o, keep, err, sizeof(err));
}

static void test_lines_comments_whitespace(void **state)
{
	struct t_opts o = t_defaults;
	struct xb_config cf;

	(void)state;
	assert_int_equal(parse(&cf,
			       "# a comment\n"
			       "\n"
			       "   \t\n"
			       "  count   =   42  \n"
			       "flag=yes\n"
			       "name = eth0 # the uplink\n"
			       "name = eth#1\n"
			       "\tmode = b\r\n"
			       "str = x = y\n"
			       "pin-dir = /run/bpf/x\n"
			       "digit = 2\n"
			       "digit = 3", &o, 0), 0);
	assert_int_equal(o.count, 42);
	assert_true(o.flag);
	assert_int_equal(o.n_names, 2);
	assert_string_equal(o.names[0], "eth0");
	/* '#' starts a comment only at the start or after whitespace */
	assert_string_equal(o.names[1], "eth#1");
	assert_int_equal(o.mode, 2);
	/* the first '=' splits */
	assert_string_equal(o.str, "x = y");
	assert_string_equal(cf.pin_dir, "/run/bpf/x");
	assert_int_equal(o.custom, 5);
	xb_config_free(&cf);
	assert_null(cf.text);
}

static void test_flags(void **state)
{
	static const char *const yes[] = { "yes", "true", "1", "YES", "True" };
	static const char *const no[] = { "no", "false", "0", "No" };
	char text[64];
	struct xb_config cf;
	struct t_opts o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		o = t_defaults;
		snprintf(text, sizeof(text), "flag = %s\n", yes[i]);
		assert_int_equal(parse(&cf, text, &o, 0), 0);
		assert_true(o.flag);
		xb_config_free(&cf);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		o = t_defaults;
		o.flag = true;
		snprintf(text, sizeof(text), "flag = %s\n", no[i]);
		assert_int_equal(parse(&cf, text, &o, 0), 0);
		assert_false(o.flag);
		xb_config_free(&cf);
	}
	o = t_defaults;
	assert_int_equal(parse(&cf, "\nflag = sometimes\n", &o, 0), -EINVAL);
	assert_string_equal(err, "t.conf:2: invalid flag 'sometimes' (yes or no)");
	xb_config_free(&cf);
}

/* One line, its error. */
static void expect_error(const char *text, const char *want)
{
	struct t_opts o = t_defaults;
	struct xb_config cf;

	assert_int_not_equal(parse(&cf, text, &o, 0), 0);
	assert_string_equal(err, want);
	xb_config_free(&cf);
}

static void test_errors_say_file_and_line(void **state)
{
	(void)state;
	expect_error("count = 5\n\n# x\ncolour = blue\n", "t.conf:4: unknown key 'colour'");
	expect_error("count = 0\n", "t.conf:1: invalid value '0' for count");
	expect_error("count = 101\n", "t.conf:1: invalid value '101' for count");
	expect_error("count = -1\n", "t.conf:1: invalid value '-1' for count");
	expect_error("count = 5x\n", "t.conf:1: invalid value '5x' for count");
	expect_error("mode = c\n", "t.conf:1: invalid mode 'c' (a or b)");
	expect_error("digit = 0\n", "t.conf:1: invalid value '0' for digit");
	expect_error("digit = big\n", "t.conf:1: too big");
	expect_error("name = a\nname = b\nname = c\nname = d\n", "t.conf:4: at most 3 names");
	expect_error("count 5\n", "t.conf:1: expected 'key = value', got 'count 5'");
	expect_error(" = 5\n", "t.conf:1: expected 'key = value'");
	expect_error("str =\n", "t.conf:1: 'str' needs a value");
	expect_error("str = # nothing\n", "t.conf:1: 'str' needs a value");
	/* global options and actions are not keys */
	expect_error("json = yes\n", "t.conf:1: unknown key 'json'");
	expect_error("help = yes\n", "t.conf:1: unknown key 'help'");
	expect_error("--count = 5\n", "t.conf:1: unknown key '--count'");
}

/* The command line's options keep their values, lists take both, and a
 * kept option's value in the file is checked all the same. */
static void test_command_line_wins(void **state)
{
	struct t_opts o = t_defaults;
	struct xb_config cf;

	(void)state;
	o.count = 3;
	o.names[o.n_names++] = "cli0";
	o.custom = 1;
	assert_int_equal(parse(&cf, "count = 50\nname = file0\ndigit = 4\nflag = yes\n", &o,
			       BIT_COUNT | BIT_NAME | BIT_DIGIT), 0);
	assert_int_equal(o.count, 3);
	assert_int_equal(o.n_names, 2);
	assert_string_equal(o.names[0], "cli0");
	assert_string_equal(o.names[1], "file0");
	assert_int_equal(o.custom, 5);
	assert_true(o.flag);
	xb_config_free(&cf);

	o = t_defaults;
	o.count = 3;
	assert_int_equal(parse(&cf, "count = many\n", &o, BIT_COUNT), -EINVAL);
	assert_string_equal(err, "t.conf:1: invalid value 'many' for count");
	assert_int_equal(o.count, 3);
	xb_config_free(&cf);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/xb-config-XXXXXX", *big;
	struct t_opts o = t_defaults;
	struct xb_config cf;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "count = 9\nname = n\n", 19), 19);
	close(fd);
	assert_int_equal(xb_config_load(&cf, path, &t_cmd, &o, 0, err, sizeof(err)), 0);
	assert_int_equal(o.count, 9);
	assert_string_equal(o.names[0], "n");
	xb_config_free(&cf);

	/* larger than a config can be */
	big = malloc(XB_CONFIG_MAX_SIZE + 2);
	assert_non_null(big);
	memset(big, '#', XB_CONFIG_MAX_SIZE + 1);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, big, XB_CONFIG_MAX_SIZE + 1), XB_CONFIG_MAX_SIZE + 1);
	close(fd);
	free(big);
	assert_int_equal(xb_config_load(&cf, path, &t_cmd, &o, 0, err, sizeof(err)), -EFBIG);
	xb_config_free(&cf);

	unlink(path);
	assert_int_equal(xb_config_load(&cf, path, &t_cmd, &o, 0, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "couldn't read it: No such file or directory"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	xb_config_free(&cf);
}

/* `run`'s table refuses text (one file, r.conf) with the message want. */
static void run_refuses(char *opts, const char *text, const char *want)
{
	struct xb_config cf;

	memcpy(opts, xb_cmd_run.defaults, xb_cmd_run.opts_size);
	assert_int_not_equal(xb_config_parse(&cf, strdup(text), "r.conf", &xb_cmd_run, opts, 0,
					     err, sizeof(err)), 0);
	assert_string_equal(err, want);
	xb_config_free(&cf);
}

/* `run`'s own table: the keys of the contract, its checks. */
static void test_run_table(void **state)
{
	static const char *const keys[] = {
		"interface", "mode", "steer", "bypass-port", "no-default-bypass", "rcvbuf",
		"max-policies", "heartbeat-ms", "heartbeat-timeout-ms", "metrics",
		"metrics-top-policies", "spread-esp",
	};
	char *opts = malloc(xb_cmd_run.opts_size), text[256];
	struct xb_config cf;
	size_t i;

	(void)state;
	assert_non_null(opts);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(xb_config_option(xb_cmd_run.options, keys[i]));
	assert_null(xb_config_option(xb_cmd_run.options, "json"));
	assert_null(xb_config_option(xb_cmd_run.options, "help"));
	/* the file names no other file */
	run_refuses(opts, "config = /etc/other\n", "r.conf:1: unknown key 'config'");

	memcpy(opts, xb_cmd_run.defaults, xb_cmd_run.opts_size);
	snprintf(text, sizeof(text),
		 "interface = eth0\ninterface = eth1\nmode = skb\nsteer = yes\n"
		 "bypass-port = tcp/179\nmetrics = 127.0.0.1:9571\nheartbeat-ms = 500\n"
		 "spread-esp = all\n");
	assert_int_equal(xb_config_parse(&cf, strdup(text), "r.conf", &xb_cmd_run, opts, 0,
					 err, sizeof(err)), 0);
	xb_config_free(&cf);

	run_refuses(opts, "rcvbuf = 1024\n",
		    "r.conf:1: invalid rcvbuf '1024' (262144 (256 KiB) to 1073741824 bytes)");
	run_refuses(opts, "\nbypass-port = sctp/9\n",
		    "r.conf:2: invalid bypass-port 'sctp/9' (udp/PORT or tcp/PORT)");
	run_refuses(opts, "metrics = localhost:80\n",
		    "r.conf:1: invalid metrics 'localhost:80' (IPV4:PORT or [IPV6]:PORT, numeric)");
	run_refuses(opts, "spread-esp = 2-1\n", "r.conf:1: the range 2-1 goes backwards");
	run_refuses(opts, "spread-esp = 5000\n", "r.conf:1: CPU numbers go up to 1023");
	free(opts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_comments_whitespace),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_errors_say_file_and_line),
		cmocka_unit_test(test_command_line_wins),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_run_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
