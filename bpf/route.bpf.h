/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Local delivery or forwarding: which XFRM direction (IN or FWD) the kernel
 * will check a plaintext packet against, decided by the FIB as the kernel's
 * input route lookup would.
 */
#ifndef XFRMBPF_ROUTE_BPF_H
#define XFRMBPF_ROUTE_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "parse.bpf.h"

enum xb_route {
	XB_RT_UNKNOWN = 0,	/* pass: the kernel decides */
	XB_RT_LOCAL,		/* local delivery: XFRM_POLICY_IN */
	XB_RT_FORWARD,		/* forwarding: XFRM_POLICY_FWD */
};

/* Multicast, broadcast, unspecified, loopback and IPv6 link-local
 * destinations take paths (multicast routing, martian drops, scoped
 * routes) the FIB helper does not describe. */
static __always_inline bool xb_plain_unicast(const struct xb_pkt *pkt)
{
	if (pkt->family == AF_INET) {
		__u32 d = bpf_ntohl(pkt->daddr.a[0]);

		return d != 0 && (d >> 28) < 0xe && (d >> 24) != 127;
	}
	if (pkt->daddr.b[0] == 0xff)
		return false;
	/* link-local: scoped to the ingress link, which the FIB helper
	 * does not take into account the way input routing does */
	if (pkt->daddr.b[0] == 0xfe && (pkt->daddr.b[1] & 0xc0) == 0x80)
		return false;
	if (!(pkt->daddr.a[0] | pkt->daddr.a[1] | pkt->daddr.a[2]) &&
	    (pkt->daddr.a[3] == 0 || pkt->daddr.a[3] == bpf_htonl(1)))
		return false;
	return true;
}

/* An IPv6 link-local source: input routing and forwarding treat such
 * packets by scope, which the FIB helper does not describe either. */
static __always_inline bool xb_link_local_source(const struct xb_pkt *pkt)
{
	return pkt->family == AF_INET6 && pkt->saddr.b[0] == 0xfe &&
	       (pkt->saddr.b[1] & 0xc0) == 0x80;
}

/* Why the kernel's routing of a parsed packet is not the FIB helper's to
 * tell (XB_U_*), or XB_U_MAX when it is. Fragments have no ports. */
static __always_inline __u8 xb_route_undecidable(const struct xb_pkt *pkt)
{
	if (pkt->frag)
		return XB_U_FRAGMENT;
	if (!xb_plain_unicast(pkt))
		return XB_U_NOT_UNICAST;
	if (xb_link_local_source(pkt))
		return XB_U_LINK_LOCAL_SRC;
	return XB_U_MAX;
}

/*
 * bpf_fib_lookup() from the ingress device as the kernel has it (for a
 * tagged frame the VLAN device, xb_vlan_dev(): ip rules by iif, and its
 * addresses and routes), as ip_route_input would:
 * SUCCESS, NO_NEIGH and FRAG_NEEDED are unicast routes out of the box
 * (the kernel checks the FWD policy before TTL and MTU). NOT_FWDED is a
 * local or broadcast route (local delivery, IN policy) or no route at all;
 * FWD_DISABLED means the kernel can only deliver locally. In the last two
 * cases a non-local packet is dropped by the kernel's routing anyway, so
 * treating them as IN never makes a packet's fate differ. Blackhole,
 * unreachable, prohibit and errors: the kernel decides.
 */
static __always_inline int xb_route(void *ctx, const struct xb_pkt *pkt,
				    __u32 ifindex)
{
	struct bpf_fib_lookup p = {};
	long rc;

	p.family = pkt->family;
	p.l4_protocol = pkt->proto;
	/* ip rules and routes by TOS / traffic class and flow label */
	if (pkt->family == AF_INET)
		p.tos = (__u8)pkt->flowinfo;
	else
		p.flowinfo = pkt->flowinfo;
	if (pkt->proto == IPPROTO_TCP || pkt->proto == IPPROTO_UDP ||
	    pkt->proto == IPPROTO_SCTP || pkt->proto == IPPROTO_UDPLITE) {
		p.sport = pkt->sport;
		p.dport = pkt->dport;
	}
	p.ifindex = ifindex;
	if (pkt->family == AF_INET) {
		p.ipv4_src = pkt->saddr.a[0];
		p.ipv4_dst = pkt->daddr.a[0];
	} else {
		__builtin_memcpy(p.ipv6_src, pkt->saddr.a, 16);
		__builtin_memcpy(p.ipv6_dst, pkt->daddr.a, 16);
	}
	rc = bpf_fib_lookup(ctx, &p, sizeof(p), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
	case BPF_FIB_LKUP_RET_NO_NEIGH:
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return XB_RT_FORWARD;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return XB_RT_LOCAL;
	default:
		return XB_RT_UNKNOWN;
	}
}

#endif
