// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xfrmbpf: an eBPF fast path in front of the kernel's XFRM (IPsec). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "xfrmbpf/limits.h"

/* The options before the command; the rest are in struct xb_global. */
struct main_opts {
	unsigned int verbose;
};

static int print_help(const struct xb_cmd *cmd, const struct xb_global *g);
static int print_version(const struct xb_cmd *cmd, const struct xb_global *g);

static const struct xb_option main_options[] = {
	{ .name = "pin-dir", .kind = XB_OPT_STRING, .global = true,
	  XB_OPT_AT(struct xb_global, pin_dir), .metavar = "DIR",
	  .help = "maps pinned under DIR (default " XB_PIN_DIR_DEFAULT ";\nenv XFRMBPF_PIN_DIR)" },
	XB_OPT_JSON,
	{ .name = "verbose", .short_name = 'v', .kind = XB_OPT_COUNT,
	  XB_OPT_AT(struct main_opts, verbose),
	  .help = "more messages (twice: libbpf debug)" },
	{ .name = "version", .short_name = 'V', .kind = XB_OPT_ACTION, .act = print_version,
	  .help = "versions of xfrmbpf, libbpf and libxdp" },
	{ .name = "help", .short_name = 'h', .kind = XB_OPT_ACTION, .act = print_help,
	  .help = "this help; COMMAND --help for a command" },
	{}
};

/* Errors about these options point to --help (xb_usage_error without a
 * command name). */
static const struct xb_cmd main_cmd = {
	.options = main_options,
	.max_args = -1,
};

static void print_main_help(FILE *f, const char *prog)
{
	size_t i;

	fprintf(f, "Usage: %s [OPTIONS] COMMAND [COMMAND OPTIONS]\n\nOptions:\n", prog);
	xb_print_options(f, main_options);
	fprintf(f, "\nCommands:\n");
	for (i = 0; i < xb_n_commands; i++)
		fprintf(f, "  %-8s %s\n", xb_commands[i]->name, xb_commands[i]->summary);
	fprintf(f,
		"\n"
		"Exit codes: 0 ok, 1 failure (check: drift), 2 usage error,\n"
		"            3 environment (privileges, bpffs, no maps, already running).\n");
}

static int print_help(const struct xb_cmd *cmd, const struct xb_global *g)
{
	(void)cmd;
	print_main_help(stdout, g->prog);
	return XB_EXIT_OK;
}

static int print_version(const struct xb_cmd *cmd, const struct xb_global *g)
{
	(void)cmd;
	(void)g;
	xb_print_version();
	return XB_EXIT_OK;
}

static int run_command(const struct xb_cmd *cmd, int argc, char **argv, struct xb_global *g)
{
	void *opts = calloc(1, cmd->opts_size ? cmd->opts_size : 1);
	int ret;

	if (!opts)
		return xb_error(g, XB_EXIT_FAIL, "out of memory");
	if (cmd->defaults)
		memcpy(opts, cmd->defaults, cmd->opts_size);
	ret = xb_parse_options(cmd, argc, argv, g, opts);
	if (ret < 0)
		ret = cmd->fn(opts, argc - optind, argv + optind, g);
	free(opts);
	return ret;
}

int main(int argc, char **argv)
{
	struct xb_global g = { .prog = "xfrmbpf" };
	struct main_opts o = {};
	const char *env_pin_dir = getenv("XFRMBPF_PIN_DIR");
	const struct xb_cmd *cmd;
	int ret;

	ret = xb_parse_options(&main_cmd, argc, argv, &g, &o);
	if (ret >= 0)
		return ret;
	if (!g.pin_dir && env_pin_dir && *env_pin_dir)
		g.pin_dir = env_pin_dir;
	g.pin_dir_given = g.pin_dir;
	if (!g.pin_dir)
		g.pin_dir = XB_PIN_DIR_DEFAULT;
	xb_log_set_level(o.verbose > 1 ? XB_LOG_LIB_DEBUG : o.verbose ? XB_LOG_DEBUG :
			 XB_LOG_INFO);
	xb_log_hook_libs();
	if (optind >= argc) {
		print_main_help(stderr, g.prog);
		return XB_EXIT_USAGE;
	}
	cmd = xb_find_command(argv[optind]);
	if (!cmd)
		return xb_usage_error(&g, NULL, "unknown command '%s'", argv[optind]);
	return run_command(cmd, argc - optind, argv + optind, &g);
}
