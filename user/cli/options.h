/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The options of the command line, declared as tables: each command has an
 * options struct with its defaults and a table saying, per option, its
 * names, what its argument is, where in the struct it goes and its help.
 * One parser (getopt_long, built from the table) fills the struct, and one
 * printer makes the usage line and `--help` from the same table.
 */
#ifndef XFRMBPF_CLI_OPTIONS_H
#define XFRMBPF_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct xb_cmd;
struct xb_global;

enum xb_opt_kind {
	XB_OPT_END = 0,		/* ends a table */
	XB_OPT_FLAG,		/* bool: true when given */
	XB_OPT_COUNT,		/* unsigned int: how often given (-vv) */
	XB_OPT_UINT,		/* unsigned integer in [min, max] */
	XB_OPT_STRING,		/* const char * */
	XB_OPT_STRINGS,		/* repeatable: const char *[max], int count */
	XB_OPT_ENUM,		/* int: the value of one of choices */
	XB_OPT_CUSTOM,		/* parse() stores it */
	XB_OPT_ACTION,		/* act() now and exit with what it returns */
};

struct xb_opt_choice {
	const char *name;
	int value;
};

struct xb_option {
	const char *name;	/* --name */
	char short_name;	/* -c, or 0 */
	enum xb_opt_kind kind;
	bool global;		/* the field is in struct xb_global */
	bool required;
	bool repeat;		/* CUSTOM: may be given again */
	size_t offset;		/* of the field, see XB_OPT_AT() */
	size_t size;
	const char *metavar;	/* the argument in usage and help */
	const char *help;	/* '\n' starts an indented line */
	/* What a valid argument is: "invalid --NAME 'ARG' (EXPECT)"; without
	 * it, "invalid value 'ARG' for --NAME". ENUM: the choices. */
	const char *expect;
	unsigned long min, max;	/* UINT: range; STRINGS: capacity */
	size_t count_offset;	/* STRINGS: of the int count */
	const char *items;	/* STRINGS: "at most MAX ITEMS" */
	const struct xb_opt_choice *choices;	/* ENUM: ends with a NULL name */
	/* CUSTOM: store arg into the options struct opts. On error return
	 * non-zero, with why empty for the "invalid" line, or saying why. */
	int (*parse)(const char *arg, void *opts, char *why, size_t why_len);
	int (*act)(const struct xb_cmd *cmd, const struct xb_global *g);
};

#define XB_OPT_FIELD_SIZE(type, member) sizeof(((type *)0)->member)
/* Where the option goes: member of the options struct type. */
#define XB_OPT_AT(type, member)						\
	.offset = offsetof(type, member), .size = XB_OPT_FIELD_SIZE(type, member)
#define XB_OPT_COUNT_AT(type, member)	.count_offset = offsetof(type, member)

/* Every command takes -j and -h. */
#define XB_OPT_JSON							\
	{ .name = "json", .short_name = 'j', .kind = XB_OPT_FLAG, .global = true, \
	  XB_OPT_AT(struct xb_global, json),					\
	  .help = "JSON output (errors as {\"error\": ...})" }
#define XB_OPT_HELP							\
	{ .name = "help", .short_name = 'h', .kind = XB_OPT_ACTION,	\
	  .act = xb_print_cmd_help, .help = "this help" }

/* Fill opts (holding its defaults) from argv[1..]; argv[0] is the command.
 * Stops at the first argument that is not an option, leaving optind on it.
 * g->given says which options were given (bit i: table[i], up to 64).
 * Returns -1 to go on, or the exit code (usage error, --help). */
int xb_parse_options(const struct xb_cmd *cmd, int argc, char **argv,
		     struct xb_global *g, void *opts);
/* The option `name = value` of a config file sets: not global, not an
 * action. NULL when there is none. */
const struct xb_option *xb_config_option(const struct xb_option *table, const char *name);
/* Store value as `--NAME VALUE` would, with the same checks; a FLAG takes
 * yes/no, true/false or 1/0. 0, or -errno with the message in why
 * ("invalid mode 'x' (native or skb)"). */
int xb_option_set(const struct xb_option *o, const char *value, void *opts, char *why,
		  size_t len);
/* "[-j] -i IFACE [--vlan ID ...] ARGS" of a command, into buf. */
void xb_usage_line(const struct xb_cmd *cmd, char *buf, size_t len);
/* One line per option: names, metavar, help. */
void xb_print_options(FILE *f, const struct xb_option *table);
/* `COMMAND --help`: usage, summary, options, then the command's notes. */
int xb_print_cmd_help(const struct xb_cmd *cmd, const struct xb_global *g);

#endif
