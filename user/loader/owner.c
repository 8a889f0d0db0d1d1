// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "loader/attach.h"
#include "loader/owner.h"

static __u32 map_id_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* Name of program id, and whether it uses map id want (0: don't care). */
bool xb_prog_is_ours(__u32 prog_id, const char *prefix, __u32 want_map)
{
	__u32 map_ids[64], len, i;
	struct bpf_prog_info info = {};
	bool ok = false;
	int fd;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	len = sizeof(info);
	info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		goto out;
	if (strncmp(info.name, prefix, strlen(prefix)))
		goto out;
	if (!want_map) {
		ok = true;
		goto out;
	}
	for (i = 0; i < info.nr_map_ids && i < sizeof(map_ids) / sizeof(map_ids[0]); i++)
		if (map_ids[i] == want_map)
			ok = true;
out:
	close(fd);
	return ok;
}

__u32 xb_our_map_id(const struct xb_maps *maps)
{
	return maps ? map_id_of(maps->fd[XB_MAP_SYNC]) : 0;
}
