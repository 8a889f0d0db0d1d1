// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>
#include <xdp/libxdp.h>
#include "lib/log.h"

static enum xb_log_level log_level = XB_LOG_INFO;

void xb_log_set_level(enum xb_log_level level)
{
	log_level = level;
}

enum xb_log_level xb_log_get_level(void)
{
	return log_level;
}

/* stderr is the journal when JOURNAL_STREAM names its device and inode
 * ("DEV:INO", decimal): a descriptor systemd connected, not one a child
 * inherited after a redirection. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st))
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

static const char *priority_prefix(enum xb_log_level level)
{
	switch (level) {
	case XB_LOG_ERR:
		return SD_ERR;
	case XB_LOG_WARN:
		return SD_WARNING;
	case XB_LOG_INFO:
		return SD_INFO;
	default:
		return SD_DEBUG;
	}
}

/* Each line with its priority, in one write: the metrics thread logs too. */
static void journal_write(enum xb_log_level level, const char *msg)
{
	/* the libraries may write a line in parts: no prefix mid-line */
	static bool mid_line;
	const char *prefix = priority_prefix(level), *nl;
	char out[2048];
	size_t used = 0, n;

	while (*msg && used < sizeof(out) - 1) {
		nl = strchr(msg, '\n');
		n = nl ? (size_t)(nl - msg + 1) : strlen(msg);
		used += snprintf(out + used, sizeof(out) - used, "%s%.*s", mid_line ? "" : prefix,
				 (int)n, msg);
		mid_line = !nl;
		msg += n;
	}
	if (used >= sizeof(out)) {
		used = sizeof(out) - 1;
		out[used - 1] = '\n';
		mid_line = false;
	}
	fwrite(out, 1, used, stderr);
}

static void xb_vlog(enum xb_log_level level, const char *fmt, va_list ap)
{
	/* -1: not looked at yet; stderr does not change while we run */
	static int journal = -1;
	char msg[1024];

	if (level > log_level)
		return;
	if (journal < 0)
		journal = stderr_is_journal();
	if (!journal) {
		vfprintf(stderr, fmt, ap);
		return;
	}
	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg))
		msg[sizeof(msg) - 2] = '\n';	/* cut, but a whole line */
	journal_write(level, msg);
}

void xb_log(enum xb_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xb_vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf and libxdp narrate every fallback they try (libxdp's dispatcher
 * probe fails loudly on kernels that refuse freplace): while quiet, their
 * warnings are debug output and the caller says in one line what happened. */
static int libs_quiet_depth;

/* The libraries' info lines are as verbose as their debug lines. */
static enum xb_log_level lib_level(bool warning)
{
	if (!warning)
		return XB_LOG_LIB_DEBUG;
	return libs_quiet_depth ? XB_LOG_DEBUG : XB_LOG_WARN;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	xb_vlog(lib_level(level == LIBBPF_WARN), fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	xb_vlog(lib_level(level == LIBXDP_WARN), fmt, ap);
	return 0;
}

void xb_log_libs_quiet(void)
{
	libs_quiet_depth++;
}

void xb_log_libs_loud(void)
{
	if (libs_quiet_depth)
		libs_quiet_depth--;
}

void xb_log_hook_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
