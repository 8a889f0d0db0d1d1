/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Netfilter hooks at prerouting in the current netns, as nfnetlink_hook
 * lists them (`nft list hooks`), or where a kernel has no such listing,
 * the nftables base chains and the iptables tables that hook there: NAT,
 * mangle, raw and filter chains there
 * run between XDP and the kernel's XFRM lookup and may change a packet's
 * addresses, ports, mark or route, or drop it. Connection tracking and
 * defragmentation alone change none of that.
 */
#ifndef XFRMBPF_NF_HOOKS_H
#define XFRMBPF_NF_HOOKS_H

#include <linux/types.h>

enum {
	XB_NF_IPV4 = 1 << 0,
	XB_NF_IPV6 = 1 << 1,
};

/* The families (XB_NF_* bits) with a hook other than conntrack's and
 * defrag's on prerouting, or -errno (a kernel that lists neither hooks
 * nor nftables chains). */
int xb_nf_prerouting_families(void);

#endif
