// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdbool.h>
#include <bpf/libbpf.h>
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

static void xb_vlog(enum xb_log_level level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	vfprintf(stderr, fmt, ap);
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
