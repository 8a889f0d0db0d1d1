// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xfrmbpf: an eBPF fast path in front of the kernel's XFRM (IPsec). */
#include <getopt.h>
#include <stdlib.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "xfrmbpf/limits.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct xb_global g = { .prog = "xfrmbpf" };
	const struct xb_cmd *cmd;
	int opt, verbose = 0;

	g.pin_dir = getenv("XFRMBPF_PIN_DIR");
	if (!g.pin_dir || !*g.pin_dir)
		g.pin_dir = XB_PIN_DIR_DEFAULT;
	opterr = 0;
	/* '+': stop at the command; its options are its own. */
	while ((opt = getopt_long(argc, argv, "+jvVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			g.pin_dir = optarg;
			break;
		case 'j':
			g.json = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			xb_print_version();
			return XB_EXIT_OK;
		case 'h':
			xb_print_help(stdout, g.prog);
			return XB_EXIT_OK;
		default:
			return xb_usage_error(&g, NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	xb_log_set_level(verbose > 1 ? XB_LOG_LIB_DEBUG : verbose ? XB_LOG_DEBUG : XB_LOG_INFO);
	xb_log_hook_libs();
	if (optind >= argc) {
		xb_print_help(stderr, g.prog);
		return XB_EXIT_USAGE;
	}
	cmd = xb_find_command(argv[optind]);
	if (!cmd)
		return xb_usage_error(&g, NULL, "unknown command '%s'", argv[optind]);
	return cmd->fn(argc - optind, argv + optind, &g);
}
