/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XFRMBPF_CLOCK_H
#define XFRMBPF_CLOCK_H

#include <time.h>
#include <linux/types.h>

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(), so the daemon's
 * heartbeat and the datapath's watchdog compare directly. */
static inline __u64 xb_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#endif
