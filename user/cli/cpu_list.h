/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * CPU lists as `run --spread-esp` takes them and /sys/devices/system/cpu/
 * online writes them: "all", or "0-3,6" (numbers and ranges, commas
 * between).
 */
#ifndef XFRMBPF_CLI_CPU_LIST_H
#define XFRMBPF_CLI_CPU_LIST_H

#include <stddef.h>
#include "loader/spread.h"

/* Parse text into *out (ascending, each CPU once). "all" is online;
 * every CPU listed must be in online. 0, or -EINVAL with why ("CPU 7 is
 * offline (online: 0-3)"). */
int xb_cpu_list_parse(const char *text, const struct xb_cpu_list *online,
		      struct xb_cpu_list *out, char *why, size_t len);
/* The online CPUs (/sys/devices/system/cpu/online). 0 or -errno. */
int xb_cpus_online(struct xb_cpu_list *out);

#endif
