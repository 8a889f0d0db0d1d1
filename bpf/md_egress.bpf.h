/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The collect_md device's half of steering (bpf/steer.bpf.h has the
 * other): on its tc egress, the packet tc ingress redirected there with
 * bpf_redirect_neigh() arrives routed, and gets the if_id of its OUT
 * policy with bpf_skb_set_xfrm_info(). That kfunc keeps the route as the
 * metadata's dst_orig, which xfrmi_xmit() transmits by (at tc ingress
 * there was none to keep: why the if_id cannot be set there). Every other
 * packet (the kernel's own, routed with `encap xfrm if_id N`) passes
 * untouched; nothing is dropped here.
 */
#ifndef XFRMBPF_MD_EGRESS_BPF_H
#define XFRMBPF_MD_EGRESS_BPF_H

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include "steer.bpf.h"

/* The kfunc (6.2+, in the xfrm_interface module's BTF where that is a
 * module) that sets the if_id and link a collect_md xfrm device uses.
 * Weak: only xb_tc_md_egress calls it, and the loader loads that program
 * only where the kfunc exists; everything else still loads on 6.1. */
struct bpf_xfrm_info {
	__u32 if_id;
	int link;
};
extern int
bpf_skb_set_xfrm_info(struct __sk_buff *skb_ctx,
		      const struct bpf_xfrm_info *from) __ksym __weak;

/* Is skb the packet h describes? The header copy tells it from a packet of
 * the same length from the same device. */
static __always_inline bool xb_md_handoff_matches(struct __sk_buff *skb,
						  const struct xb_md_handoff *h)
{
	__u32 iph[5];
	int i;

	if (skb->protocol != bpf_htons(ETH_P_IP) || skb->len != h->len ||
	    skb->ingress_ifindex != h->ingress_ifindex)
		return false;
	/* an xfrm device has no link-layer header: offset 0 is the IP one */
	if (bpf_skb_load_bytes(skb, 0, iph, sizeof(iph)))
		return false;
	for (i = 0; i < 5; i++)
		if (iph[i] != h->iph[i])
			return false;
	return true;
}

static __always_inline int xb_md_egress(struct __sk_buff *skb)
{
	struct bpf_xfrm_info info = { .link = 0 };
	struct xb_md_handoff *h;
	__u32 zero = 0;

	/* Nothing here needs the sync record, but the loader tells our
	 * filters from another instance's by the xb_sync they use
	 * (user/loader/owner.c): this lookup makes it one of the
	 * program's maps. */
	bpf_map_lookup_elem(&xb_sync, &zero);
	h = bpf_map_lookup_elem(&xb_md_handoff, &zero);
	if (!h || !h->pending || !xb_md_handoff_matches(skb, h))
		return TC_ACT_OK;
	h->pending = 0;
	info.if_id = h->if_id;
	/* Fails only when the packet already carries metadata; it then
	 * meets the fate it would have had without us. */
	bpf_skb_set_xfrm_info(skb, &info);
	return TC_ACT_OK;
}

#endif
