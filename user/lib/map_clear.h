/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Emptying a BPF hash map from userspace. */
#ifndef XFRMBPF_MAP_CLEAR_H
#define XFRMBPF_MAP_CLEAR_H

#include <stddef.h>

/*
 * Deletes every entry of the hash map fd, whose keys are key_size bytes:
 * the keys are collected in one walk first, then deleted. Restarting the
 * walk from the first key after each delete scans the emptied buckets
 * again every time: quadratic, and with a map sized for a million
 * entries, minutes for ten thousand. Returns 0 or -errno.
 */
int xb_map_clear(int fd, size_t key_size);

#endif
