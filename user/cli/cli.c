// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The command table, and the error helpers of every command. */
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
#include "lib/log.h"
#include "xfrmbpf/limits.h"

/* In the order `--help` lists them. */
const struct xb_cmd *const xb_commands[] = {
	&xb_cmd_run, &xb_cmd_status, &xb_cmd_policy, &xb_cmd_sa, &xb_cmd_check,
	&xb_cmd_stats, &xb_cmd_metrics, &xb_cmd_classify, &xb_cmd_unload,
};

const size_t xb_n_commands = sizeof(xb_commands) / sizeof(xb_commands[0]);

const struct xb_option xb_common_options[] = {
	XB_OPT_JSON,
	XB_OPT_HELP,
	{}
};

void xb_print_version(void)
{
	/* libxdp 1.3 has no run-time version query: the one built against. */
	printf("xfrmbpf %s (%s), libbpf %s, libxdp %s\n", XB_VERSION, XB_GIT_REV,
	       libbpf_version_string(), XB_LIBXDP_VERSION);
}

const struct xb_cmd *xb_find_command(const char *name)
{
	size_t i;

	for (i = 0; i < xb_n_commands; i++)
		if (!strcmp(xb_commands[i]->name, name))
			return xb_commands[i];
	return NULL;
}

static void vprint_error(const struct xb_global *g, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (g->json) {
		json_t *o = json_pack("{s:s}", "error", msg);

		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else {
		xb_log(XB_LOG_ERR, "%s: %s\n", g->prog, msg);
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

/* One line: the problem, then where the usage is (scripts read stderr). */
int xb_usage_error(const struct xb_global *g, const char *cmd, const char *fmt, ...)
{
	const struct xb_cmd *c = cmd ? xb_find_command(cmd) : NULL;
	char msg[400], usage[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c) {
		xb_usage_line(c, usage, sizeof(usage));
		return xb_error(g, XB_EXIT_USAGE, "%s (usage: %s %s %s)", msg, g->prog,
				c->name, usage);
	}
	return xb_error(g, XB_EXIT_USAGE, "%s (see '%s --help')", msg, g->prog);
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

