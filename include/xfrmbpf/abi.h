/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ABI stamp of a pin directory: which layout of the pinned maps the
 * daemon that created them used. Every command compares it with its own
 * and refuses pins of another ABI (user/loader/maps.c).
 *
 * layout is a hash the binary computes from its own map definitions
 * (type, key and value sizes, flags, fixed sizes and the BTF shape of keys
 * and values), so a changed struct changes it by itself. XB_ABI_VERSION
 * is for what the hash cannot see: bump it by hand when a key or a value
 * keeps its shape but changes its meaning (fields swapped, a flag's bit
 * reused, an enum renumbered).
 */
#ifndef XFRMBPF_ABI_H
#define XFRMBPF_ABI_H

#include <linux/types.h>

#define XB_ABI_VERSION	1
/* "XBAB": tells our stamp from any other map named xb_abi. */
#define XB_ABI_MAGIC	0x58424142

/* The one value of xb_abi. Its own layout never changes: every version
 * of xfrmbpf must be able to read it. */
struct xb_abi_stamp {
	__u32 magic;
	__u32 version;
	__u32 layout;
	__u32 pad;
};

#endif
