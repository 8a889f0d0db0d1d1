// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cpu_list.h"

#define CPU_ONLINE_PATH	"/sys/devices/system/cpu/online"

/* A decimal CPU number at *p, below XB_MAX_SPREAD_CPUS; *p moves past it. */
static int cpu_number(const char **p, __u32 *cpu)
{
	unsigned long v = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (unsigned long)(*s++ - '0');
		if (v >= XB_MAX_SPREAD_CPUS)
			return -ERANGE;
	}
	*p = s;
	*cpu = (__u32)v;
	return 0;
}

/* The set as a bitmap, one byte per CPU; no check against online. */
static int parse_ranges(const char *text, unsigned char *set, char *why, size_t len)
{
	const char *p = text;
	__u32 lo, hi;
	int err;

	if (!*p) {
		snprintf(why, len, "an empty CPU list");
		return -EINVAL;
	}
	for (;;) {
		err = cpu_number(&p, &lo);
		hi = lo;
		if (!err && *p == '-') {
			p++;
			err = cpu_number(&p, &hi);
		}
		if (err == -ERANGE) {
			snprintf(why, len, "CPU numbers go up to %d", XB_MAX_SPREAD_CPUS - 1);
			return -EINVAL;
		}
		if (err || (*p && *p != ',')) {
			snprintf(why, len, "'%s' is no CPU list (all, or e.g. 0-3,6)", text);
			return -EINVAL;
		}
		if (hi < lo) {
			snprintf(why, len, "the range %u-%u goes backwards", lo, hi);
			return -EINVAL;
		}
		for (; lo <= hi; lo++)
			set[lo] = 1;
		if (!*p)
			return 0;
		p++;
	}
}

int xb_cpu_list_parse(const char *text, const struct xb_cpu_list *online,
		      struct xb_cpu_list *out, char *why, size_t len)
{
	static unsigned char set[XB_MAX_SPREAD_CPUS], on[XB_MAX_SPREAD_CPUS];
	char online_text[128];
	__u32 cpu, i;

	out->n = 0;
	if (!strcmp(text, "all")) {
		*out = *online;
		if (!out->n) {
			snprintf(why, len, "no CPU is online");
			return -EINVAL;
		}
		return 0;
	}
	memset(set, 0, sizeof(set));
	memset(on, 0, sizeof(on));
	if (parse_ranges(text, set, why, len))
		return -EINVAL;
	for (i = 0; i < online->n; i++)
		on[online->cpus[i]] = 1;
	for (cpu = 0; cpu < XB_MAX_SPREAD_CPUS; cpu++) {
		if (!set[cpu])
			continue;
		if (!on[cpu]) {
			xb_cpu_list_format(online, online_text, sizeof(online_text));
			snprintf(why, len, "CPU %u is not online (online: %s)", cpu, online_text);
			out->n = 0;
			return -EINVAL;
		}
		out->cpus[out->n++] = cpu;
	}
	return 0;
}

int xb_cpus_online(struct xb_cpu_list *out)
{
	static unsigned char set[XB_MAX_SPREAD_CPUS];
	char line[4096], why[128];
	__u32 cpu;
	FILE *f;

	out->n = 0;
	f = fopen(CPU_ONLINE_PATH, "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	memset(set, 0, sizeof(set));
	/* CPUs past XB_MAX_SPREAD_CPUS cannot be listed: leave them out */
	if (parse_ranges(line, set, why, sizeof(why)) && !strstr(why, "go up to"))
		return -EINVAL;
	for (cpu = 0; cpu < XB_MAX_SPREAD_CPUS; cpu++)
		if (set[cpu])
			out->cpus[out->n++] = cpu;
	return 0;
}
