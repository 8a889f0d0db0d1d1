/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every benchmark program needs: dying with a reason, and clocks. */
#ifndef XBB_TOOL_H
#define XBB_TOOL_H

#include <time.h>

/* "PROGRAM: what: strerror(err)" on stderr, then exit(1). */
void bench_die(const char *what, int err) __attribute__((noreturn));

/* Clock c in ns. */
unsigned long long bench_clock_ns(clockid_t c);

#endif
