// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <bpf/bpf.h>
#include "loader/attach.h"
#include "loader/sync_record.h"

int xb_bypass_write(const struct xb_maps *maps, const struct xb_bypass_key *keys, int n)
{
	struct xb_bypass_key k, next;
	__u8 one = 1;
	int fd = maps->fd[XB_MAP_BYPASS], i;

	/* Delete first: a stale entry would keep a port open. */
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		if (bpf_map_delete_elem(fd, &k))
			return -errno;
	}
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &keys[i], &one, BPF_ANY))
			return -errno;
	xb_sync_flows_stale(maps);
	return 0;
}
