/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `run --spread-esp`: the cpumap the datapath redirects inbound ESP into
 * (xb_spread_cpus: an entry, and with it a kernel thread, per listed CPU)
 * and the packets redirected per target CPU (xb_spread_stats). The CPU
 * of each SA is the mirror's (user/mirror/spread.h).
 */
#ifndef XFRMBPF_LOADER_SPREAD_H
#define XFRMBPF_LOADER_SPREAD_H

#include <stdbool.h>
#include "loader/maps.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/limits.h"

/* A set of CPUs, ascending, each once (user/cli/cpu_list.h parses one). */
struct xb_cpu_list {
	__u32 n;
	__u32 cpus[XB_MAX_SPREAD_CPUS];
};

/* "0-3,6" of a list, into buf. */
void xb_cpu_list_format(const struct xb_cpu_list *l, char *buf, size_t len);

/* The cpumap holds exactly the listed CPUs. 0, or -errno with the CPU
 * that was refused in why. */
int xb_spread_cpus_set(const struct xb_maps *maps, const struct xb_cpu_list *cpus,
		       char *why, size_t len);
/* Empty the cpumap (its threads stop): no packet is redirected. */
void xb_spread_cpus_clear(const struct xb_maps *maps);
/* The CPUs the daemon listed (cpumap entries), into *cpus. */
int xb_spread_cpus_read(const struct xb_maps *maps, struct xb_cpu_list *cpus);

#endif
