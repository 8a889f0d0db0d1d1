/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Where the pins and libxdp's dispatcher state live: a bpffs. */
#ifndef XFRMBPF_BPFFS_H
#define XFRMBPF_BPFFS_H

#include <stdbool.h>

#define XB_SYS_BPFFS	"/sys/fs/bpf"

bool xb_is_bpffs(const char *path);
/* libxdp keeps its dispatcher state on a bpffs: when /sys/fs/bpf is none
 * (e.g. under `ip netns exec`), use the one holding pin_dir. */
void xb_libxdp_use_bpffs(const char *pin_dir);

#endif
