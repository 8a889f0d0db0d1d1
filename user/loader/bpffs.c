// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "loader/bpffs.h"

bool xb_is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

void xb_libxdp_use_bpffs(const char *pin_dir)
{
	char parent[PATH_MAX], *slash;

	if (getenv("LIBXDP_BPFFS") || xb_is_bpffs(XB_SYS_BPFFS))
		return;
	snprintf(parent, sizeof(parent), "%s", pin_dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return;
	*slash = '\0';
	if (xb_is_bpffs(parent))
		setenv("LIBXDP_BPFFS", parent, 0);
}
