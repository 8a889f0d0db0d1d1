/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where the pins and libxdp's dispatcher state live: a bpffs. The pin
 * directory is a directory on a bpffs; it is trusted only when no other
 * user can have made it or can swap it (xb_pin_dir_safe()).
 */
#ifndef XFRMBPF_BPFFS_H
#define XFRMBPF_BPFFS_H

#include <stdbool.h>
#include <stddef.h>

#define XB_SYS_BPFFS	"/sys/fs/bpf"
/* What the hints propose when the pin dir's own place is no good for a
 * bpffs, and under `ip netns exec` (which hides /sys/fs/bpf). */
#define XB_RUN_BPFFS	"/run/xfrmbpf/bpffs"

bool xb_is_bpffs(const char *path);
/* path without its trailing slashes, then without its last component:
 * "/a/b/" -> "/a", "/a" -> "/", "a" -> ".". */
void xb_path_parent(const char *path, char *out, size_t len);
/* libxdp keeps its dispatcher state on a bpffs: when /sys/fs/bpf is none
 * (e.g. under `ip netns exec`), use the one holding pin_dir. */
void xb_libxdp_use_bpffs(const char *pin_dir);

/* Under `ip netns exec NAME`? It unshares the mount namespace and mounts
 * a fresh sysfs on /sys, with NAME as its source: /sys/fs/bpf is then an
 * empty sysfs directory, not the host's bpffs, and whatever is mounted
 * there vanishes with the command. NAME into name when true. */
bool xb_under_ip_netns_exec(char *name, size_t len);

/* How to get a bpffs for pin_dir, whose parent is none: one line for a
 * message ("mount one with: mount -t bpf -o mode=0700 bpf DIR", naming a
 * directory that is fit to become one, never / or a directory holding
 * other files, and what to do under `ip netns exec`). */
void xb_bpffs_hint(const char *pin_dir, char *buf, size_t len);

/*
 * Can the pin directory be trusted? It (when it exists) must be a
 * directory owned by root or by this user and writable by nobody else,
 * and so must every directory above it up to the root of its bpffs,
 * where a directory writable by others is allowed when it is sticky (as
 * a bpffs mounted without mode= is): nobody else can then rename or
 * remove what is ours. Above the bpffs nothing can be swapped: a mount
 * point cannot be renamed or removed. 0, or -EPERM with why (one line).
 */
int xb_pin_dir_safe(const char *pin_dir, char *why, size_t len);

#endif
