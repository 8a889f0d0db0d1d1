// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
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

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	/* The libraries' info lines are as verbose as their debug lines. */
	xb_vlog(level == LIBBPF_WARN ? XB_LOG_WARN : XB_LOG_LIB_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	xb_vlog(level == LIBXDP_WARN ? XB_LOG_WARN : XB_LOG_LIB_DEBUG, fmt, ap);
	return 0;
}

void xb_log_hook_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
