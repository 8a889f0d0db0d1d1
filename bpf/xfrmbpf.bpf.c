// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The xfrmbpf datapath: an XDP program that drops early what the kernel's
 * XFRM would drop late (unknown SPIs, plaintext that a policy blocks or
 * wants protected, the default block), and TC programs that steer
 * forwarded flows into the XFRM interface of their OUT policy. Every map
 * is the pinned one of maps.bpf.h, shared with the mirror.
 */
#include "maps.bpf.h"
#include "parse.bpf.h"
#include "sync.bpf.h"
#include "decision.bpf.h"
#include "flow.bpf.h"
#include "route.bpf.h"
#include "spi.bpf.h"
#include "stats.bpf.h"
#include "steer.bpf.h"
#include "spread.bpf.h"
#include "md_egress.bpf.h"

/*
 * `xfrmbpf classify` loads an instance of its own with xb_dry_run set: the
 * decision goes to xb_trace (not pinned: the instance's own) instead of the
 * counters, and the flow cache is read but not written, so a test packet
 * leaves the live datapath's state alone. The attached instance has it
 * clear, and the verifier prunes those branches.
 */
const volatile bool xb_dry_run = false;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xb_trace);
} xb_trace SEC(".maps");

/* IKE and other configured local ports are never dropped inbound: their
 * sockets carry bypass policies the mirror cannot see. */
static __always_inline bool xb_bypassed(const struct xb_pkt *pkt)
{
	struct xb_bypass_key k = {};

	if (pkt->proto != IPPROTO_UDP && pkt->proto != IPPROTO_TCP)
		return false;
	k.proto = pkt->proto;
	k.port = pkt->dport;
	return bpf_map_lookup_elem(&xb_bypass, &k) != NULL;
}

/* ESP in UDP to this host is ESP only where a socket decapsulates it. */
static __always_inline bool xb_natt_decapsulated(const struct xb_pkt *pkt)
{
	struct xb_bypass_key k = {};

	k.proto = IPPROTO_UDP;
	k.kind = XB_BYPASS_ENCAP_SOCKET;
	k.port = pkt->dport;
	return bpf_map_lookup_elem(&xb_bypass, &k) != NULL;
}

static __always_inline bool xb_policy_disabled(__u32 flags,
					       const struct xb_pkt *pkt)
{
	if (pkt->family == AF_INET)
		return flags & XB_IF_DISABLE_POLICY4;
	return flags & XB_IF_DISABLE_POLICY6;
}

/* The position in cfg->vlans of the VLAN device with this tag, or
 * XB_MAX_IF_VLANS. Global: verified once, not once per position the
 * caller goes on with. */
__noinline __u32 xb_vlan_find(const struct xb_iface_cfg *cfg, __u32 tag)
{
	__u32 i, n;

	if (!cfg)
		return XB_MAX_IF_VLANS;
	n = cfg->n_vlans;
	for (i = 0; i < XB_MAX_IF_VLANS; i++) {
		if (i >= n)
			break;
		if (cfg->vlans[i].tag == tag)
			return i;
	}
	return XB_MAX_IF_VLANS;
}

/*
 * The device the kernel receives a tagged frame on, as vlan_do_receive()
 * finds it: the attached device's VLAN device of that tag (into
 * pkt->ifindex and pkt->vlan_dev). A priority tag (VID 0) with no VLAN
 * device of its own is cleared and the frame received on the attached
 * device (__netif_receive_skb_core). Any other tag: false, the kernel
 * decides (it drops the frame as PACKET_OTHERHOST, or a bridge or a
 * device the daemon did not publish takes it).
 */
static __always_inline bool xb_vlan_dev(const struct xb_iface_cfg *cfg,
					struct xb_pkt *pkt)
{
	__u32 i = xb_vlan_find(cfg, pkt->vlan);

	if (i < XB_MAX_IF_VLANS) {
		/* the verifier's bound, whatever clang makes of the test */
		i &= XB_MAX_IF_VLANS - 1;
		pkt->ifindex = cfg->vlans[i].ifindex;
		pkt->vlan_dev = (__u8)(i + 1);
		return true;
	}
	return (pkt->vlan & XB_VLAN_VID_MASK) == 0;
}

/* The settings the packet meets: the attached device's, or for a frame of
 * a VLAN device that device's own with the attached device's hooks. */
static __always_inline __u32 xb_in_flags(const struct xb_iface_cfg *cfg,
					 const struct xb_pkt *pkt)
{
	__u32 i = pkt->vlan_dev;

	if (!i)
		return cfg->flags;
	i = (i - 1) & (XB_MAX_IF_VLANS - 1);
	return (cfg->flags & XB_IF_VLAN_PARENT) | (cfg->vlans[i].flags & XB_IF_VLAN_OWN);
}

/*
 * The verdict of a packet the flow cache does not know, on an attached
 * device: the direction from the FIB, then IPsec for this host -> SPI
 * lookup (xfrm_input drops an SPI that no SA has, disable_policy or not);
 * anything else, ESP in transit included, is plaintext to the FWD or IN
 * policy check.
 */
static __always_inline void
xb_xdp_decide_uncached(struct xdp_md *ctx, const struct xb_pkt *pkt,
		       const struct xb_iface_cfg *cfg,
		       const struct xb_sync_snap *snap, struct xb_decision *d)
{
	__u32 view, dir, flags = xb_in_flags(cfg, pkt);
	int rt;

	/* What runs between XDP and the XFRM lookup, in the kernel's order:
	 * tc ingress, netfilter ingress, the rx handler of an upper device,
	 * prerouting. Any of it may rewrite, redirect or drop the packet.
	 * flags: the ingress device's, or for a tagged frame its VLAN
	 * device's with the attached device's hooks (xb_in_flags()). */
	if (flags & XB_IF_TC_INGRESS) {
		xb_decision_undecidable(d, XB_U_TC_INGRESS);
		return;
	}
	if (flags & XB_IF_NF_INGRESS) {
		xb_decision_undecidable(d, XB_U_NF_INGRESS);
		return;
	}
	if (flags & XB_IF_STACKED) {
		xb_decision_undecidable(d, XB_U_STACKED_DEV);
		return;
	}
	if (flags & XB_IF_VLAN_BLIND) {
		xb_decision_undecidable(d, XB_U_VLAN);
		return;
	}
	if (flags & (pkt->family == AF_INET ? XB_IF_NF_PREROUTING4 :
					      XB_IF_NF_PREROUTING6)) {
		xb_decision_undecidable(d, XB_U_NETFILTER);
		return;
	}
	rt = xb_route(ctx, pkt, pkt->ifindex);
	if (rt == XB_RT_UNKNOWN) {
		xb_decision_undecidable(d, XB_U_ROUTE);
		return;
	}
	if (rt == XB_RT_LOCAL && pkt->kind == XB_PK_IPSEC &&
	    (pkt->proto != IPPROTO_UDP || xb_natt_decapsulated(pkt))) {
		d->reason = xb_spi_verdict(ctx, pkt, !xb_dry_run);
		return;
	}
	if (xb_policy_disabled(flags, pkt)) {
		d->reason = XB_R_PASS_DISABLED_DEV;
		return;
	}
	view = rt == XB_RT_LOCAL ? XB_VIEW_IN : XB_VIEW_FWD;
	dir = rt == XB_RT_LOCAL ? XB_DIR_IN : XB_DIR_FWD;
	if (view == XB_VIEW_IN && xb_bypassed(pkt)) {
		d->reason = XB_R_PASS_BYPASS;
		return;
	}
	xb_decide_policy(pkt, view, dir, xb_sync_default(snap, dir), d);
	if ((flags & XB_IF_GENERIC) && d->reason == XB_R_DROP_REQUIRES_IPSEC)
		xb_decision_undecidable(d, XB_U_GENERIC_XDP);
}

/*
 * A drop the SPD decides, while the kernel's SPD may be ahead of the maps
 * (a block policy deleted a moment ago, its event not read yet): the
 * kernel decides by the SPD it has. Applied to cached verdicts too, and
 * after the cache store: the cache keeps the maps' own verdict.
 */
static __always_inline void xb_spd_settle(const struct xb_sync_snap *snap,
					  struct xb_decision *d)
{
	if (snap->spd_changing && xb_reason_spd_drop(d->reason)) {
		d->reason = XB_R_PASS_SPD_CHANGING;
		d->policy_id = XB_NO_POLICY;
	}
}

/* Counter slot of an attached device, -1 for any other. */
static __always_inline int xb_iface_slot(__u32 ifindex)
{
	struct xb_iface_cfg *cfg = bpf_map_lookup_elem(&xb_ifaces, &ifindex);

	return cfg ? (int)cfg->stats_slot : -1;
}

/*
 * Parse, then the flow cache; on a miss the full decision, cached when it
 * ran inside one publication. Fragments (no ports, no reassembly) and
 * destinations the FIB helper does not describe go to the kernel before
 * the cache: their verdict depends on no state. Returns the counter slot
 * of the ingress device, or -1 when it is not attached. Only a cache hit
 * skips the device lookup: the other early exits are rare.
 *
 * A cached verdict was computed entirely within its generation (the seq
 * count was checked before storing it), so it is the verdict of that
 * complete SPD: it may be used while the next publication runs, or while
 * it starts during the lookup, as the packet then sees the old SPD. Only
 * a miss needs a quiet seq count.
 *
 * A tagged frame is the VLAN device's: its device lookup comes before the
 * cache, whose key then has the VLAN device (pkt.ifindex).
 */
static __always_inline int xb_xdp_decide(struct xdp_md *ctx,
					 struct xb_decision *d)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xb_sync_snap snap = {};
	struct xb_iface_cfg *cfg = NULL;
	struct xb_pkt pkt = {};
	__u32 ifindex = ctx->ingress_ifindex, slot;
	int reason;

	reason = xb_parse(ctx, true, data, data_end, data_end - data, &pkt);
	if (reason == XB_R_NONE) {
		pkt.cause = xb_route_undecidable(&pkt);
		if (pkt.cause != XB_U_MAX)
			reason = XB_R_PASS_UNDECIDABLE;
	}
	if (reason == XB_R_NONE)
		reason = xb_sync_begin(&snap);
	if (reason != XB_R_NONE && reason != XB_R_PASS_PUBLISHING) {
		d->reason = reason;
		d->cause = pkt.cause;
		return xb_iface_slot(ifindex);
	}
	pkt.ifindex = ifindex;
	if (pkt.vlans) {
		cfg = bpf_map_lookup_elem(&xb_ifaces, &ifindex);
		if (!cfg) {
			d->reason = XB_R_PASS_NO_IFACE;
			return -1;
		}
		if (!xb_vlan_dev(cfg, &pkt)) {
			xb_decision_undecidable(d, XB_U_VLAN);
			return cfg->stats_slot;
		}
	}
	if (xb_flow_cached(&pkt, &snap, d, &slot)) {
		xb_spd_settle(&snap, d);
		return slot;
	}
	if (reason != XB_R_NONE) {
		d->reason = reason;
		return xb_iface_slot(ifindex);
	}
	if (!cfg) {
		cfg = bpf_map_lookup_elem(&xb_ifaces, &ifindex);
		if (!cfg) {
			d->reason = XB_R_PASS_NO_IFACE;
			return -1;
		}
	}
	slot = cfg->stats_slot;
	xb_xdp_decide_uncached(ctx, &pkt, cfg, &snap, d);
	if (!xb_sync_end(&snap)) {
		d->reason = XB_R_PASS_PUBLISHING;
		d->policy_id = XB_NO_POLICY;
		return slot;
	}
	if (!xb_dry_run && xb_spi_cacheable(d->reason))
		xb_flow_store(&pkt, &snap, d, slot);
	xb_spd_settle(&snap, d);
	return slot;
}

/* Counters of one XDP verdict; slot < 0: not an attached device, which
 * xb_count() puts in the row of other devices. Inline: a call costs a
 * cache hit ~1 ns of its ~50, and the verifier takes the few extra
 * states (the decision's tree is behind the global xb_decide_policy). */
static __always_inline int xb_xdp_account(int slot, const struct xb_decision *d,
					  __u64 bytes)
{
	__u32 reason = d->reason, policy_id = d->policy_id;

	xb_count((__u32)slot, reason, bytes);
	xb_count_undecidable(reason, d->cause);
	xb_count_policy(policy_id, bytes);
	return xb_reason_drops(reason);
}

/* The dry run's verdict: the decision into xb_trace, nothing counted. */
static __always_inline int xb_xdp_trace(const struct xb_decision *d)
{
	struct xb_trace *t;
	__u32 zero = 0;

	t = bpf_map_lookup_elem(&xb_trace, &zero);
	if (t) {
		t->policy_id = d->policy_id;
		t->reason = d->reason;
		t->cause = d->cause;
		t->flow = d->flow;
	}
	return xb_reason_drops(d->reason) ? XDP_DROP : XDP_PASS;
}

/* xdp.frags: multi-buffer aware (jumbo MTUs need it); the parser reads
 * the first buffer directly and knows the whole frame's length. */
SEC("xdp.frags")
int xb_xdp(struct xdp_md *ctx)
{
	struct xb_decision d = { .policy_id = XB_NO_POLICY };
	/* every buffer of a multi-buffer frame, not the first one only */
	__u64 bytes = bpf_xdp_get_buff_len(ctx);
	int slot = xb_xdp_decide(ctx, &d);

	if (xb_dry_run)
		return xb_xdp_trace(&d);
	xb_flow_count(d.flow);
	if (xb_xdp_account(slot, &d, bytes))
		return XDP_DROP;
	if (d.reason == XB_R_PASS_KNOWN_SPI)
		return xb_spread(ctx);
	return XDP_PASS;
}

/* TC ingress (clsact, direct action) on NICs with XB_IF_STEER. */
SEC("tc")
int xb_tc_steer(struct __sk_buff *skb)
{
	return xb_steer(skb);
}

/* On clsact egress of the collect_md device: the if_id of the packets
 * xb_tc_steer sent there (bpf/md_egress.bpf.h). The loader loads it only
 * with steering and where bpf_skb_set_xfrm_info exists (6.2+). */
SEC("tc")
int xb_tc_md_egress(struct __sk_buff *skb)
{
	return xb_md_egress(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
