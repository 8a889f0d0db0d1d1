/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TC steering: a forwarded flow whose best OUT policy names an XFRM
 * interface (if_id) is redirected into that interface. XDP cannot do this
 * (redirect to an L3 device is EOPNOTSUPP there). bpf_redirect() to a
 * device without a MAC header (xfrm, TUN in L3 mode: ARPHRD_NONE) pulls
 * the Ethernet header itself (__bpf_redirect_no_mac), so only the
 * forwarding duties are ours: TTL, MTU, local destinations.
 *
 * An if_id without an interface of its own may go through the collect_md
 * device instead (IPv4 only, kernels with bpf_skb_set_xfrm_info, see
 * xb_steer_md_dev()): that device transmits only a routed packet whose
 * if_id the kfunc set on top of its route, which tc ingress has neither
 * of. So the packet is redirected with bpf_redirect_neigh(), which routes
 * it through the device, and the device's tc egress program
 * (bpf/md_egress.bpf.h), handed the if_id through xb_md_handoff, sets it.
 */
#ifndef XFRMBPF_STEER_BPF_H
#define XFRMBPF_STEER_BPF_H

#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <stddef.h>
#include "sync.bpf.h"
#include "search.bpf.h"
#include "decision.bpf.h"
#include "route.bpf.h"
#include "stats.bpf.h"

/* Headers the parser needs in the linear area. */
#define XB_TC_PULL	128

/*
 * The collect_md device whose tc egress runs our xb_tc_md_egress, 0 when
 * none does (6.1: never). Written by the loader (user/loader/md_egress.c)
 * only while that program is attached there: without it a packet
 * redirected into the device would have no if_id and be lost.
 */
__u32 xb_md_egress_ifindex SEC(".data.md_egress") = 0;

/* The packet handed to the collect_md device's egress (struct
 * xb_md_handoff says why per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xb_md_handoff);
} xb_md_handoff SEC(".maps");

/* Where a candidate goes. */
struct xb_steer_target {
	__u32 ifindex;		/* xfrm device */
	__u32 if_id;
	__u32 policy_id;	/* the OUT policy that names it */
	bool collect_md;	/* ifindex is the collect_md device */
};

/* The best OUT policy (sub first, as xfrm_policy_lookup does; the same
 * as the tested reader's xb_tss_lookup_steer()). Returns 1 when there is
 * one that steering may act on. Global: verified once (see
 * xb_decide_policy). */
__noinline int xb_steer_policy(const struct xb_pkt *pkt, struct xb_match *m)
{
	if (!pkt || !m)
		return 0;
	xb_search_list(pkt, XB_VIEW_OUT, XB_PTYPE_SUB, m);
	if (xb_match_undecidable(m))
		return 0;
	if (!m->found) {
		xb_search_list(pkt, XB_VIEW_OUT, XB_PTYPE_MAIN, m);
		if (xb_match_undecidable(m) || !m->found)
			return 0;
	}
	return m->if_id != 0 && (m->verdict == XB_V_ALLOW ||
				 m->verdict == XB_V_REQUIRES_IPSEC);
}

/* The xfrm interface of if_id itself. */
static __always_inline bool xb_steer_dev(__u32 if_id,
					 struct xb_steer_target *t)
{
	struct xb_xfrm_link *link;
	__u32 key = if_id;

	link = bpf_map_lookup_elem(&xb_xfrm_links, &key);
	if (!link || !link->ifindex || link->collect_md)
		return false;
	t->ifindex = link->ifindex;
	t->if_id = if_id;
	return true;
}

/*
 * The collect_md device (key 0) for an if_id without an interface of its
 * own, when the packet can get there and leave with its if_id:
 * - our egress program runs on that device (xb_md_egress_ifindex), which
 *   sets the if_id once the packet is routed;
 * - IPv4: bpf_redirect_neigh() routes with the device as oif, and IPv4
 *   takes a destination without a route through that device as on-link
 *   there; IPv6 has no such fallback and would drop the packet;
 * - the default OUT action is accept: that route lookup also runs the
 *   XFRM lookup, with if_id 0, which a default block turns into a drop.
 * Everything else goes to the kernel (its encap xfrm routes).
 */
static __always_inline bool xb_steer_md_dev(const struct xb_pkt *pkt,
					    const struct xb_sync_snap *snap,
					    __u32 if_id,
					    struct xb_steer_target *t)
{
	__u32 md_ifindex = XB_READ_ONCE(xb_md_egress_ifindex);
	struct xb_xfrm_link *link;
	__u32 key = 0;

	if (!md_ifindex || pkt->family != AF_INET ||
	    snap->default_out != XB_DEFAULT_ACCEPT)
		return false;
	link = bpf_map_lookup_elem(&xb_xfrm_links, &key);
	if (!link || !link->collect_md || link->ifindex != md_ifindex)
		return false;
	t->ifindex = md_ifindex;
	t->if_id = if_id;
	t->collect_md = true;
	return true;
}

/*
 * Returns XB_R_STEER when the packet may be steered to t, another steer
 * reason when it is a candidate that must go to the kernel, XB_R_NONE
 * when steering does not concern it (not counted: XDP counts those).
 */
static __always_inline int xb_steer_decide(struct __sk_buff *skb,
					   const struct xb_pkt *pkt,
					   struct xb_steer_target *t)
{
	/* initialized: the 6.1 verifier wants every byte a global function
	 * may read to be written first */
	struct xb_sync_snap snap = {};
	struct xb_decision fwd = {};
	struct xb_match out = {};
	__u32 mtu_len = 0;
	int rt;

	/* While the kernel's SPD may be ahead of the maps, the OUT policy
	 * they name may be gone (its interface would drop the packet): the
	 * kernel routes it, as while the maps are not trusted at all. */
	if (xb_sync_begin(&snap) != XB_R_NONE || snap.spd_changing)
		return XB_R_NONE;
	if (!xb_steer_policy(pkt, &out))
		return XB_R_NONE;
	t->policy_id = out.policy_id;
	if (!xb_steer_dev(out.if_id, t) &&
	    !xb_steer_md_dev(pkt, &snap, out.if_id, t))
		return XB_R_STEER_SKIP_NO_DEV;
	/* Steering skips ip_forward: the FWD policy must let it through. */
	xb_decide_policy(pkt, XB_VIEW_FWD, XB_DIR_FWD,
			 xb_sync_default(&snap, XB_DIR_FWD), &fwd);
	if (fwd.reason != XB_R_PASS_NO_POLICY &&
	    fwd.reason != XB_R_PASS_POLICY_ALLOW)
		return XB_R_NONE;
	if (!xb_sync_end(&snap))
		return XB_R_NONE;

	rt = xb_route(skb, pkt, skb->ifindex);
	if (rt == XB_RT_LOCAL)
		return XB_R_STEER_SKIP_LOCAL;
	if (rt != XB_RT_FORWARD)
		return XB_R_NONE;
	if (pkt->ttl <= 1)
		return XB_R_STEER_SKIP_TTL;
	/* skb->len counts the Ethernet header the redirect removes. */
	if (bpf_check_mtu(skb, t->ifindex, &mtu_len, -(int)pkt->l3_off, 0))
		return XB_R_STEER_SKIP_MTU;
	return XB_R_STEER;
}

/* ip_forward's TTL decrement, with the IPv4 header checksum fixed. */
static __always_inline int xb_dec_ttl(struct __sk_buff *skb,
				      const struct xb_pkt *pkt)
{
	__u32 off = pkt->l3_off;
	__be16 old, new;
	__u8 hl;

	if (pkt->family == AF_INET6) {
		hl = pkt->ttl - 1;
		return bpf_skb_store_bytes(skb, off + offsetof(struct ipv6hdr,
							       hop_limit),
					   &hl, 1, 0);
	}
	/* TTL and protocol form one 16-bit word of the checksum. */
	if (bpf_skb_load_bytes(skb, off + offsetof(struct iphdr, ttl), &old, 2))
		return -1;
	new = old - bpf_htons(0x0100);
	if (bpf_l3_csum_replace(skb, off + offsetof(struct iphdr, check),
				old, new, 2))
		return -1;
	return bpf_skb_store_bytes(skb, off + offsetof(struct iphdr, ttl),
				   &new, 2, 0);
}

/*
 * Tells the collect_md device's egress which packet comes and its if_id.
 * After the TTL decrement: the header is copied as the egress will see it.
 * Returns 0 when recorded.
 */
static __always_inline int xb_md_handoff_record(struct __sk_buff *skb,
						const struct xb_pkt *pkt,
						__u32 if_id)
{
	struct xb_md_handoff *h;
	__u32 zero = 0;

	h = bpf_map_lookup_elem(&xb_md_handoff, &zero);
	if (!h)
		return -1;
	if (bpf_skb_load_bytes(skb, pkt->l3_off, h->iph, sizeof(h->iph)))
		return -1;
	h->if_id = if_id;
	h->ingress_ifindex = skb->ingress_ifindex;
	h->len = skb->len - pkt->l3_off;
	h->pending = 1;
	return 0;
}

static __always_inline int xb_steer(struct __sk_buff *skb)
{
	struct xb_steer_target t = {};
	struct xb_iface_cfg *cfg;
	struct xb_pkt pkt = {};
	__u32 ifindex = skb->ifindex;
	void *data, *data_end;
	__u32 pull;
	int reason;

	cfg = bpf_map_lookup_elem(&xb_ifaces, &ifindex);
	if (!cfg || !(cfg->flags & XB_IF_STEER))
		return TC_ACT_OK;
	/* ip_forward() forwards only frames addressed to this host */
	if (skb->pkt_type != PACKET_HOST)
		return TC_ACT_OK;
	/* A tagged frame: at tc ingress the kernel has already taken the
	 * outer tag out of the frame (skb_vlan_untag(), or the NIC did), and
	 * it then receives the frame on the VLAN device of that tag (its ip
	 * rules, VRF, disable_policy), or drops it when there is none: not
	 * ours to forward. */
	if (skb->vlan_present)
		return TC_ACT_OK;
	pull = skb->len < XB_TC_PULL ? skb->len : XB_TC_PULL;
	if ((void *)(long)skb->data + pull > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, pull);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (xb_parse(skb, false, data, data_end, skb->len, &pkt) != XB_PARSE_OK)
		return TC_ACT_OK;
	/* An in-band tag (the inner one of QinQ) would survive the MAC
	 * header pull, and is another device's anyway (above). */
	if (pkt.frag || pkt.kind != XB_PK_PLAIN || pkt.l3_off != ETH_HLEN ||
	    !xb_plain_unicast(&pkt))
		return TC_ACT_OK;

	reason = xb_steer_decide(skb, &pkt, &t);
	if (reason == XB_R_NONE)
		return TC_ACT_OK;
	if (reason == XB_R_STEER && xb_dec_ttl(skb, &pkt))
		return TC_ACT_OK;
	/* cannot fail (a parsed IPv4 header, a one-entry array): checked
	 * for the verifier's sake and to never send a packet without it */
	if (reason == XB_R_STEER && t.collect_md &&
	    xb_md_handoff_record(skb, &pkt, t.if_id))
		return TC_ACT_OK;
	/* the device's row: its XB_R_STEER is its "steered" */
	xb_count(cfg->stats_slot, reason, skb->len);
	if (reason != XB_R_STEER)
		return TC_ACT_OK;
	xb_count_policy(t.policy_id, skb->len);
	/* No nexthop: the kernel routes it through the device (see
	 * xb_steer_md_dev()) and sends it there, to our egress program. */
	if (t.collect_md)
		return bpf_redirect_neigh(t.ifindex, NULL, 0, 0);
	return bpf_redirect(t.ifindex, 0);
}

#endif
