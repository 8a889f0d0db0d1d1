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

/* Is any hook other than conntrack's and defrag's on prerouting of
 * nfproto (NFPROTO_IPV4 or NFPROTO_IPV6)? 1 yes, 0 no, or -errno (a
 * kernel that lists neither hooks nor nftables chains). */
int xb_nf_prerouting_hooked(__u8 nfproto);

#endif
