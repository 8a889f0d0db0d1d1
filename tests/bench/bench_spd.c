// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prints policies FIRST..N-1 of the benchmark SPD (swan_spd.h) as an
 * `ip -batch` file:  bench_spd N [FIRST] | ip -batch -
 */
#include <stdio.h>
#include <stdlib.h>
#include "swan_spd.h"

int main(int argc, char **argv)
{
	unsigned long n, i;
	char line[512];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "Usage: %s N [FIRST]\n", argv[0]);
		return 2;
	}
	n = strtoul(argv[1], NULL, 0);
	for (i = argc == 3 ? strtoul(argv[2], NULL, 0) : 0; i < n; i++) {
		if (swan_ip_line((__u32)i, line, sizeof(line)) < 0) {
			fprintf(stderr, "bench_spd: policy %lu too long\n", i);
			return 1;
		}
		fputs(line, stdout);
	}
	return 0;
}
