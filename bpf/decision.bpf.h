/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The verdict on plaintext, as the kernel's policy check would give it:
 * sub policies before main ones, the IN view for the main policy a sub
 * policy's allow adds, the direction's default when no policy matches, and
 * the reason each outcome is counted under.
 */
#ifndef XFRMBPF_DECISION_BPF_H
#define XFRMBPF_DECISION_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"
#include "search.bpf.h"
#include "sync.bpf.h"

/* What the flow cache did for a packet, counted in xb_flow_stats once the
 * verdict is in (xb_xdp): counting inside the lookup keeps more values
 * alive across a helper call, and the spills push xb_xdp's stack past the
 * 6.1 verifier's combined limit (see struct xb_pkt). */
enum xb_flow_outcome {
	XB_FLOW_NOT_LOOKED = 0,	/* decided before the cache */
	XB_FLOW_HIT,
	XB_FLOW_MISS,
};

/* The verdict on a packet: a reason and the policy that decided. */
struct xb_decision {
	__u32 policy_id;
	__u32 if_id;
	__u8 reason;
	__u8 flow;		/* enum xb_flow_outcome */
	__u8 cause;		/* enum xb_undecidable_cause, when undecidable */
	__u8 pad;
};

static __always_inline void xb_decision_set(struct xb_decision *d,
					    __u8 reason, __u32 policy_id)
{
	d->reason = reason;
	d->policy_id = policy_id;
}

static __always_inline void xb_decision_undecidable(struct xb_decision *d,
						    __u8 cause)
{
	xb_decision_set(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
	d->cause = cause;
}

/* The verdict of one matching policy, as a reason. */
static __always_inline void xb_decide_match(const struct xb_match *m,
					    struct xb_decision *d)
{
	d->if_id = m->if_id;
	switch (m->verdict) {
	case XB_V_ALLOW:
		xb_decision_set(d, XB_R_PASS_POLICY_ALLOW, m->policy_id);
		break;
	case XB_V_BLOCK:
		xb_decision_set(d, XB_R_DROP_POLICY_BLOCK, m->policy_id);
		break;
	case XB_V_REQUIRES_IPSEC:
		xb_decision_set(d, XB_R_DROP_REQUIRES_IPSEC, m->policy_id);
		break;
	default:
		xb_decision_undecidable(d, XB_U_POLICY);
		break;
	}
}

/* ICMP errors forwarded without any policy: newer kernels
 * (xfrm_in_fwd_icmp) look the policy up for the inner packet. */
static __always_inline bool xb_icmp_error(const struct xb_pkt *pkt)
{
	__u16 type = bpf_ntohs(pkt->sport);

	if (pkt->family == AF_INET && pkt->proto == IPPROTO_ICMP)
		/* destination unreachable, time exceeded */
		return type == 3 || type == 11;
	if (pkt->family == AF_INET6 && pkt->proto == IPPROTO_ICMPV6)
		/* destination unreachable, packet too big, time exceeded */
		return type >= 1 && type <= 3;
	return false;
}

/*
 * A sub policy allowed: __xfrm_policy_check() adds the best main policy,
 * looked up in direction XFRM_POLICY_IN whatever the packet's direction
 * (so the IN view, also for forwarded packets); a block there rejects,
 * then every template of both must be satisfied, which plaintext (no
 * secpath) can only do with optional ones.
 */
static __always_inline void xb_decide_sub_allow(const struct xb_pkt *pkt,
						const struct xb_match *sub,
						struct xb_decision *d)
{
	struct xb_match m;

	xb_search_list(pkt, XB_VIEW_IN, XB_PTYPE_MAIN, &m);
	if (xb_match_undecidable(&m))
		xb_decision_undecidable(d, xb_match_cause(&m));
	else if (!m.found)
		xb_decide_match(sub, d);
	else if (m.verdict == XB_V_BLOCK)
		xb_decision_set(d, XB_R_DROP_POLICY_BLOCK, m.policy_id);
	else if (sub->verdict == XB_V_REQUIRES_IPSEC)
		xb_decision_set(d, XB_R_DROP_REQUIRES_IPSEC, sub->policy_id);
	else if (m.verdict == XB_V_REQUIRES_IPSEC)
		xb_decision_set(d, XB_R_DROP_REQUIRES_IPSEC, m.policy_id);
	else
		xb_decision_set(d, XB_R_PASS_POLICY_ALLOW, sub->policy_id);
}

/*
 * Plaintext input as __xfrm_policy_check() treats it (the same decision
 * as xb_tss_lookup(), the tested reader): sub policies first, main when
 * no sub policy matches; no policy at all: the direction's default action
 * (def, XB_DEFAULT_*, see xb_sync_default()).
 *
 * Global, not static: the verifier checks a global function once, on its
 * own, instead of once per caller state. The tree of outcomes here would
 * otherwise multiply the states of every path that reaches it (and the
 * 6.1 verifier of the kernel lab must take it too). Hence the scalar and
 * sized-pointer arguments, which may be NULL as far as it knows.
 */
__noinline int xb_decide_policy(const struct xb_pkt *pkt, __u32 view,
				__u32 dir, __u32 def, struct xb_decision *d)
{
	struct xb_match r;

	if (!pkt || !d)
		return 0;
	d->policy_id = XB_NO_POLICY;
	d->if_id = 0;
	xb_search_list(pkt, view, XB_PTYPE_SUB, &r);
	if (xb_match_undecidable(&r)) {
		xb_decision_undecidable(d, xb_match_cause(&r));
		return 0;
	}
	if (r.found) {
		if (r.verdict == XB_V_BLOCK)
			xb_decide_match(&r, d);
		else
			xb_decide_sub_allow(pkt, &r, d);
		return 0;
	}
	xb_search_list(pkt, view, XB_PTYPE_MAIN, &r);
	if (xb_match_undecidable(&r)) {
		xb_decision_undecidable(d, xb_match_cause(&r));
		return 0;
	}
	if (r.found) {
		xb_decide_match(&r, d);
		return 0;
	}
	if (dir == XB_DIR_FWD && xb_icmp_error(pkt)) {
		xb_decision_undecidable(d, XB_U_ICMP_ERROR);
		return 0;
	}
	xb_decision_set(d, def == XB_DEFAULT_BLOCK ? XB_R_DROP_DEFAULT_BLOCK :
						     XB_R_PASS_NO_POLICY,
			XB_NO_POLICY);
	return 0;
}

#endif
