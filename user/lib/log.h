/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Logging to stderr; libbpf and libxdp messages go through the same path.
 * When stderr is the journal (systemd's JOURNAL_STREAM), each line starts
 * with its syslog priority ("<3>" ... "<7>", sd-daemon(3)) for journald.
 */
#ifndef XFRMBPF_LOG_H
#define XFRMBPF_LOG_H

#include <stdio.h>

enum xb_log_level {
	XB_LOG_ERR = 0,		/* always shown */
	XB_LOG_WARN,
	XB_LOG_INFO,
	XB_LOG_DEBUG,
	XB_LOG_LIB_DEBUG,	/* also libbpf's and libxdp's own info and debug */
};

void xb_log_set_level(enum xb_log_level level);
enum xb_log_level xb_log_get_level(void);
/* Route libbpf's and libxdp's messages into xb_log(). */
void xb_log_hook_libs(void);
/* Between these (nested), the libraries' warnings show only with -v: for
 * calls whose failure is expected or explained by the caller. */
void xb_log_libs_quiet(void);
void xb_log_libs_loud(void);
void xb_log(enum xb_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)	xb_log(XB_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	xb_log(XB_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	xb_log(XB_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	xb_log(XB_LOG_DEBUG, __VA_ARGS__)

#endif
