/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The xfrmbpf command line: global options, commands, exit codes. */
#ifndef XFRMBPF_CLI_H
#define XFRMBPF_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes, documented in README.md and `xfrmbpf --help`. */
enum xb_exit {
	XB_EXIT_OK = 0,
	XB_EXIT_FAIL = 1,	/* operation failed; `check`: drift */
	XB_EXIT_USAGE = 2,	/* unknown command or option, bad argument */
	XB_EXIT_ENV = 3,	/* not root, no bpffs, no maps, already running */
};

struct xb_global {
	const char *pin_dir;
	bool json;
	const char *prog;
};

struct xb_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct xb_global *g);
	const char *summary;
	const char *usage;	/* options after the command name */
};

extern const struct xb_cmd xb_commands[];
extern const size_t xb_n_commands;
const struct xb_cmd *xb_find_command(const char *name);
void xb_print_help(FILE *f, const char *prog);
void xb_print_version(void);

int cmd_run(int argc, char **argv, struct xb_global *g);
int cmd_status(int argc, char **argv, struct xb_global *g);
int cmd_policy(int argc, char **argv, struct xb_global *g);
int cmd_sa(int argc, char **argv, struct xb_global *g);
int cmd_check(int argc, char **argv, struct xb_global *g);
int cmd_stats(int argc, char **argv, struct xb_global *g);
int cmd_classify(int argc, char **argv, struct xb_global *g);
int cmd_unload(int argc, char **argv, struct xb_global *g);

/* Print an error (one line on stderr, or {"error": ...} with -j) and
 * return code. */
int xb_error(const struct xb_global *g, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print usage of the current command and return XB_EXIT_USAGE. */
int xb_usage_error(const struct xb_global *g, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Parse the options every read-only command takes (-j, -h). Returns -1 to
 * go on, or an exit code. */
int xb_parse_common_opts(int argc, char **argv, struct xb_global *g, const char *cmd);
/* True with the capabilities the daemon needs (else explains, once). */
bool xb_have_privileges(const struct xb_global *g);

#endif
