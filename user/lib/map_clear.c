// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/map_clear.h"

/* The kernel's "operation not supported" for a map without batch
 * operations (not in userspace's errno.h). */
#ifndef ENOTSUPP
#define ENOTSUPP	524
#endif

/* Keys a batch: one system call deletes up to this many. */
#define DELETE_BATCH	65536

int xb_map_keys_collect(int fd, size_t key_size, struct xb_map_keys *keys)
{
	char *prev = NULL, *grown;
	size_t cap = 0;

	memset(keys, 0, sizeof(*keys));
	keys->key_size = key_size;
	for (;;) {
		if (keys->n == cap) {
			cap = cap ? 2 * cap : 1024;
			grown = realloc(keys->keys, cap * key_size);
			if (!grown)
				return -ENOMEM;
			keys->keys = grown;
			prev = keys->n ? keys->keys + (keys->n - 1) * key_size : NULL;
		}
		if (bpf_map_get_next_key(fd, prev, keys->keys + keys->n * key_size))
			break;
		prev = keys->keys + keys->n++ * key_size;
	}
	return errno == ENOENT ? 0 : -errno;
}

/* One delete a call, for kernels or maps without batch operations. */
static int delete_each(int fd, const struct xb_map_keys *keys, size_t from)
{
	size_t i;

	for (i = from; i < keys->n; i++)
		if (bpf_map_delete_elem(fd, keys->keys + i * keys->key_size) && errno != ENOENT)
			return -errno;
	return 0;
}

int xb_map_keys_delete(int fd, const struct xb_map_keys *keys)
{
	size_t done = 0;
	__u32 count;
	int ret;

	while (done < keys->n) {
		count = keys->n - done > DELETE_BATCH ? DELETE_BATCH : (__u32)(keys->n - done);
		ret = bpf_map_delete_batch(fd, keys->keys + done * keys->key_size, &count, NULL);
		/* deleted: count, also when the batch stopped at a key it
		 * could not delete */
		done += count;
		if (!ret)
			continue;
		if (errno == ENOENT)
			done++;
		else if (errno == EINVAL || errno == ENOTSUPP || errno == EOPNOTSUPP)
			return delete_each(fd, keys, done);
		else
			return -errno;
	}
	return 0;
}

void xb_map_keys_free(struct xb_map_keys *keys)
{
	free(keys->keys);
	memset(keys, 0, sizeof(*keys));
}

int xb_map_clear(int fd, size_t key_size)
{
	struct xb_map_keys keys;
	int err = xb_map_keys_collect(fd, key_size, &keys);

	if (!err)
		err = xb_map_keys_delete(fd, &keys);
	xb_map_keys_free(&keys);
	return err;
}
