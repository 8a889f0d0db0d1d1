// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The command table, help, and the error and option helpers of every command. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include <xdp/libxdp.h>
#include "cli/cli.h"
#include "xfrmbpf/limits.h"

const struct xb_cmd xb_commands[] = {
	{ "run", cmd_run, "mirror the kernel SPD/SAD; with -i also attach the datapath (daemon)",
	  "[-i IFACE ...] [--mode native|skb] [--steer] [--bypass-port PROTO/PORT ...] "
	  "[--no-default-bypass] [--rcvbuf BYTES] [--heartbeat-ms MS] [--heartbeat-timeout-ms MS]" },
	{ "status", cmd_status, "sync state, generation, heartbeat age, counts", "[-j]" },
	{ "policy", cmd_policy, "the mirrored SPD with per-policy packets/bytes", "[-j]" },
	{ "sa", cmd_sa, "the mirrored SA identities (never keys)", "[-j]" },
	{ "check", cmd_check, "compare the mirror with the kernel now; exit 1 on drift", "[-j]" },
	{ "stats", cmd_stats, "per-reason and per-interface datapath counters",
	  "[-j] [--watch SECONDS]" },
	{ "classify", cmd_classify, "what the attached datapath does with a described packet",
	  "[-j] -i IFACE [--vlan ID ...] PROTO SRC DST [KEYWORD VALUE ...]" },
	{ "unload", cmd_unload, "remove what a crashed daemon left attached (and --all: the pins)",
	  "[-j] IFACE | --all" },
};

const size_t xb_n_commands = sizeof(xb_commands) / sizeof(xb_commands[0]);

void xb_print_version(void)
{
	/* libxdp 1.3 has no run-time version query: the one built against. */
	printf("xfrmbpf %s (%s), libbpf %s, libxdp %s\n", XB_VERSION, XB_GIT_REV,
	       libbpf_version_string(), XB_LIBXDP_VERSION);
}

void xb_print_help(FILE *f, const char *prog)
{
	size_t i;

	fprintf(f,
		"Usage: %s [OPTIONS] COMMAND [COMMAND OPTIONS]\n"
		"\n"
		"Options:\n"
		"  --pin-dir DIR   maps pinned under DIR (default %s; env XFRMBPF_PIN_DIR)\n"
		"  -j, --json      JSON output (errors as {\"error\": ...})\n"
		"  -v, --verbose   more messages (twice: libbpf debug)\n"
		"  -V, --version   versions of xfrmbpf, libbpf and libxdp\n"
		"  -h, --help      this help; COMMAND --help for a command\n"
		"\n"
		"Commands:\n", prog, XB_PIN_DIR_DEFAULT);
	for (i = 0; i < xb_n_commands; i++)
		fprintf(f, "  %-8s %s\n", xb_commands[i].name, xb_commands[i].summary);
	fprintf(f,
		"\n"
		"Exit codes: 0 ok, 1 failure (check: drift), 2 usage error,\n"
		"            3 environment (privileges, bpffs, no maps, already running).\n");
}

const struct xb_cmd *xb_find_command(const char *name)
{
	size_t i;

	for (i = 0; i < xb_n_commands; i++)
		if (!strcmp(xb_commands[i].name, name))
			return &xb_commands[i];
	return NULL;
}

static void vprint_error(const struct xb_global *g, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (g->json) {
		json_t *o = json_pack("{s:s}", "error", msg);

		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else {
		fprintf(stderr, "%s: %s\n", g->prog, msg);
	}
}

int xb_error(const struct xb_global *g, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(g, fmt, ap);
	va_end(ap);
	return code;
}

/* One line, as the issue asks: the problem, then where the usage is. */
int xb_usage_error(const struct xb_global *g, const char *cmd, const char *fmt, ...)
{
	const struct xb_cmd *c = cmd ? xb_find_command(cmd) : NULL;
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c)
		return xb_error(g, XB_EXIT_USAGE, "%s (usage: %s %s %s)", msg, g->prog,
				c->name, c->usage);
	return xb_error(g, XB_EXIT_USAGE, "%s (see '%s --help')", msg, g->prog);
}

int xb_parse_common_opts(int argc, char **argv, struct xb_global *g, const char *cmd)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const struct xb_cmd *c = xb_find_command(cmd);
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			g->json = true;
			break;
		case 'h':
			printf("Usage: %s %s %s\n  %s\n", g->prog, c->name, c->usage, c->summary);
			return XB_EXIT_OK;
		default:
			return xb_usage_error(g, cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return xb_usage_error(g, cmd, "unexpected argument '%s'", argv[optind]);
	return -1;
}

bool xb_have_privileges(const struct xb_global *g)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	__u32 eff0, eff1;

	if (syscall(SYS_capget, &hdr, data))
		return true;	/* can't tell: let the kernel say */
	eff0 = data[0].effective;
	eff1 = data[1].effective;
	if ((eff0 & (1u << CAP_SYS_ADMIN)) && (eff0 & (1u << CAP_NET_ADMIN)))
		return true;
	if ((eff1 & (1u << (CAP_BPF - 32))) && (eff0 & (1u << CAP_NET_ADMIN)) &&
	    (eff1 & (1u << (CAP_PERFMON - 32))))
		return true;
	xb_error(g, XB_EXIT_ENV, "needs root (CAP_SYS_ADMIN or CAP_BPF+CAP_PERFMON, and CAP_NET_ADMIN)");
	return false;
}

