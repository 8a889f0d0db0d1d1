// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "lib/map_clear.h"

int xb_map_clear(int fd, size_t key_size)
{
	char *keys = NULL, *prev = NULL, *grown;
	size_t n = 0, cap = 0, i;
	int err = 0;

	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			grown = realloc(keys, cap * key_size);
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
			prev = n ? keys + (n - 1) * key_size : NULL;
		}
		if (bpf_map_get_next_key(fd, prev, keys + n * key_size))
			break;
		prev = keys + n++ * key_size;
	}
	if (errno != ENOENT)
		err = -errno;
	/* a key gone meanwhile (ENOENT) is as good as deleted */
	for (i = 0; i < n && !err; i++)
		if (bpf_map_delete_elem(fd, keys + i * key_size) && errno != ENOENT)
			err = -errno;
	free(keys);
	return err;
}
