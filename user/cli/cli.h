/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The xfrmbpf command line: global options, commands, exit codes. */
#ifndef XFRMBPF_CLI_H
#define XFRMBPF_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "cli/options.h"

/* Exit codes, documented in README.md and `xfrmbpf --help`. */
enum xb_exit {
	XB_EXIT_OK = 0,
	XB_EXIT_FAIL = 1,	/* operation failed; `check`: drift */
	XB_EXIT_USAGE = 2,	/* unknown command or option, bad argument */
	XB_EXIT_ENV = 3,	/* not root, no bpffs, no maps, already running */
};

struct xb_global {
	const char *pin_dir;
	/* by --pin-dir or XFRMBPF_PIN_DIR: a config file's pin-dir yields */
	bool pin_dir_given;
	bool json;
	const char *prog;
	/* The options of the last xb_parse_options() given on the command
	 * line: bit i for table[i]. */
	unsigned long long given;
};

/* A command: its options (options.h) go into a struct of opts_size bytes,
 * which starts as defaults (or zero); fn gets it and the arguments after
 * the options. */
struct xb_cmd {
	const char *name;
	int (*fn)(void *opts, int argc, char **argv, struct xb_global *g);
	const char *summary;
	const struct xb_option *options;
	size_t opts_size;
	const void *defaults;
	const char *args;	/* the arguments after the options, for usage */
	int max_args;		/* how many; -1: any */
	const char *notes;	/* --help: after the options */
};

extern const struct xb_cmd xb_cmd_run, xb_cmd_status, xb_cmd_policy, xb_cmd_sa,
	xb_cmd_check, xb_cmd_stats, xb_cmd_metrics, xb_cmd_classify, xb_cmd_unload;
extern const struct xb_cmd *const xb_commands[];
extern const size_t xb_n_commands;
/* -j and -h: the options of a command that has no others. */
extern const struct xb_option xb_common_options[];

const struct xb_cmd *xb_find_command(const char *name);
void xb_print_version(void);

/* Print an error (one line on stderr, or {"error": ...} with -j) and
 * return code. */
int xb_error(const struct xb_global *g, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print usage of the current command and return XB_EXIT_USAGE. */
int xb_usage_error(const struct xb_global *g, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* True with the capabilities the daemon needs (else explains, once). */
bool xb_have_privileges(const struct xb_global *g);

#endif
