/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Emptying a BPF hash map from userspace. */
#ifndef XFRMBPF_MAP_CLEAR_H
#define XFRMBPF_MAP_CLEAR_H

#include <stddef.h>

/* The keys of a hash map, key_size bytes each, in one walk. */
struct xb_map_keys {
	char *keys;
	size_t n;
	size_t key_size;
};

/*
 * Collects every key of the hash map fd into keys (freed with
 * xb_map_keys_free(), also after a failure). Collected first and deleted
 * after: restarting the walk from the first key after each delete scans
 * the emptied buckets again every time, quadratic, and with a map sized
 * for a million entries minutes for ten thousand. Returns 0 or -errno.
 */
int xb_map_keys_collect(int fd, size_t key_size, struct xb_map_keys *keys);
/* Deletes the collected keys from fd, many to a system call; a key gone
 * meanwhile is as good as deleted. Returns 0 or -errno. */
int xb_map_keys_delete(int fd, const struct xb_map_keys *keys);
void xb_map_keys_free(struct xb_map_keys *keys);

/* Deletes every entry of the hash map fd: collect, then delete. */
int xb_map_clear(int fd, size_t key_size);

#endif
