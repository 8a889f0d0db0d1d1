// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "lib/log.h"
#include "loader/spread.h"
#include "xfrmbpf/sad.h"

void xb_spread_cpus_clear(const struct xb_maps *maps)
{
	int fd = maps->fd[XB_MAP_SPREAD_CPUS];
	__u32 cpu, n = xb_spread_map_entries();

	for (cpu = 0; cpu < n; cpu++)
		bpf_map_delete_elem(fd, &cpu);
}

int xb_spread_cpus_set(const struct xb_maps *maps, const struct xb_cpu_list *cpus,
		       char *why, size_t len)
{
	struct bpf_cpumap_val val = { .qsize = XB_SPREAD_QSIZE };
	int fd = maps->fd[XB_MAP_SPREAD_CPUS], err;
	__u32 i;

	xb_spread_cpus_clear(maps);
	for (i = 0; i < cpus->n; i++) {
		if (!bpf_map_update_elem(fd, &cpus->cpus[i], &val, BPF_ANY))
			continue;
		err = -errno;
		snprintf(why, len, "Couldn't add CPU %u to xb_spread_cpus: %s", cpus->cpus[i],
			 strerror(errno));
		xb_spread_cpus_clear(maps);
		return err;
	}
	return 0;
}

int xb_spread_cpus_read(const struct xb_maps *maps, struct xb_cpu_list *cpus)
{
	int fd = maps->fd[XB_MAP_SPREAD_CPUS];
	__u32 cpu, n = xb_spread_map_entries();
	struct bpf_cpumap_val val;

	cpus->n = 0;
	for (cpu = 0; cpu < n; cpu++)
		if (!bpf_map_lookup_elem(fd, &cpu, &val))
			cpus->cpus[cpus->n++] = cpu;
	return 0;
}

void xb_cpu_list_format(const struct xb_cpu_list *l, char *buf, size_t len)
{
	size_t used = 0;
	__u32 i, j;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < l->n && used < len; i = j + 1) {
		int w;

		for (j = i; j + 1 < l->n && l->cpus[j + 1] == l->cpus[j] + 1; j++)
			;
		if (j == i)
			w = snprintf(buf + used, len - used, "%s%u", i ? "," : "", l->cpus[i]);
		else
			w = snprintf(buf + used, len - used, "%s%u-%u", i ? "," : "",
				     l->cpus[i], l->cpus[j]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}
