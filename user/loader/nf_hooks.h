/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Netfilter hooks between XDP and the kernel's XFRM lookup, as
 * nfnetlink_hook lists them (`nft list hooks`), or where a kernel has no
 * such listing, the nftables base chains (and flowtables) and the
 * iptables tables that hook there: at prerouting of the current netns
 * (NAT, mangle, raw and filter chains), and at the ingress of one device
 * (netdev-family chains, inet-family ingress chains, flowtables), which
 * runs before IP receive. They may change a packet's addresses, ports,
 * mark or route, or drop it. Connection tracking and defragmentation
 * alone change none of that.
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
/* 1 when a hook sits on the ingress of device ifname, 0 when none does,
 * or -errno (a kernel that lists neither hooks nor nftables objects). */
int xb_nf_ingress_hooked(const char *ifname);

#endif
