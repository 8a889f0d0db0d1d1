// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reference classifier, from the kernel's rules (Linux 6.1 and 6.18,
 * net/xfrm/xfrm_policy.c):
 *
 * xfrm_policy_match(): pol->family == family, pol->if_id == if_id,
 *   (flowi_mark & mark.m) == mark.v, pol->type == type, then
 *   xfrm_selector_match() -> __xfrm4_selector_match/__xfrm6_selector_match:
 *   addr4_match/addr_match of daddr and saddr under prefixlen_d/_s,
 *   !((flow dport ^ sel dport) & dport_mask), same for sport,
 *   (flow proto == sel proto || !sel proto), (oif == ifindex || !ifindex).
 *   Ports are as xfrm_flowi_sport/dport give them: ICMP type/code as
 *   htons(type)/htons(code), 0 for protocols without ports.
 * xfrm_policy_lookup(): SUB first, MAIN only when no sub matched; within a
 *   type the lowest priority wins; ties are broken by pos and chain order,
 *   which the mirror cannot always reproduce (see tss.c), so a tie between
 *   matches with different outcomes is undecidable.
 * Packet-offload policies sit at the head of their chains out of priority
 *   order and can hide others: any in the (dir, type, family, if_id) makes
 *   the lookup undecidable.
 * __xfrm_policy_check(), plaintext: no policy -> default (BLOCK drops);
 *   FWD without policy for an ICMP error -> inner flow lookup in newer
 *   kernels (6.18, not 6.1: xfrm_in_fwd_icmp): undecidable; winner not
 *   ALLOW -> drop; a sub winner that allows -> also the main winner of
 *   XFRM_POLICY_IN, not ALLOW -> drop; any non-optional template
 *   (xfrm_policy_ok() with an empty secpath) -> drop (XfrmInTmplMismatch);
 *   else pass.
 */
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/xfrm.h>
#include "classify_ref.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf/sync.h"

/* What picking this policy leads to. */
enum ref_outcome {
	REF_ALLOW,
	REF_BLOCK,
	REF_REQUIRES,
	REF_UNKNOWN,
};

static enum ref_outcome ref_outcome(const struct xb_policy *p)
{
	if (p->sel.ifindex != 0 || (p->xb_flags & XB_POL_SEC_CTX) ||
	    (p->xb_flags & XB_POL_OFFLOAD))
		return REF_UNKNOWN;
	if (p->action != XFRM_POLICY_ALLOW)
		return REF_BLOCK;
	if (p->xb_flags & XB_POL_REQUIRES_IPSEC)
		return REF_REQUIRES;
	return REF_ALLOW;
}

/* The first plen bits of a and b are equal. */
static bool prefix_equal(const union xb_addr *a, const union xb_addr *b,
			 unsigned int plen)
{
	unsigned int full = plen / 8, rest = plen % 8;
	__u8 mask;

	if (memcmp(a->b, b->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (__u8)(0xff << (8 - rest));
	return (a->b[full] & mask) == (b->b[full] & mask);
}

bool xb_ref_policy_match(const struct xb_policy *pol, const struct xb_flow *fl,
			 bool any_if_id)
{
	const struct xb_selector *sel = &pol->sel;

	if (sel->family != fl->family)
		return false;
	if (!any_if_id && pol->if_id != fl->if_id)
		return false;
	if ((fl->mark & pol->mark_m) != pol->mark_v)
		return false;
	if (!prefix_equal(&fl->daddr, &sel->daddr, sel->prefixlen_d))
		return false;
	if (!prefix_equal(&fl->saddr, &sel->saddr, sel->prefixlen_s))
		return false;
	if ((fl->dport ^ sel->dport) & sel->dport_mask)
		return false;
	if ((fl->sport ^ sel->sport) & sel->sport_mask)
		return false;
	if (sel->proto != 0 && sel->proto != fl->proto)
		return false;
	return true;
}

static bool ref_better(const struct xb_policy *a, const struct xb_policy *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	if (a->pos != b->pos)
		return a->pos < b->pos;
	return a->id < b->id;
}

static bool in_lookup(const struct xb_policy *p, __u8 dir, __u8 type)
{
	return p->dir == dir && p->type == type;
}

/* A packet-offload policy in the kernel's bins for this lookup. */
static bool offload_nearby(const struct xb_policy *p, const struct xb_flow *fl,
			   bool any_if_id)
{
	return (p->xb_flags & XB_POL_OFFLOAD) && p->sel.family == fl->family &&
	       (any_if_id || p->if_id == fl->if_id);
}

void xb_ref_lookup(const struct xb_policy *pols, size_t n, __u8 dir,
		   __u8 type, const struct xb_flow *fl, bool any_if_id,
		   struct xb_ref_pick *pick)
{
	const struct xb_policy *best = NULL;
	bool offload = false;
	size_t i;

	pick->pol = NULL;
	pick->undecidable = false;
	for (i = 0; i < n; i++) {
		const struct xb_policy *p = &pols[i];

		if (!in_lookup(p, dir, type))
			continue;
		if (offload_nearby(p, fl, any_if_id))
			offload = true;
		if (!xb_ref_policy_match(p, fl, any_if_id))
			continue;
		if (!best || ref_better(p, best))
			best = p;
	}
	pick->pol = best;
	if (offload) {
		pick->undecidable = true;
		return;
	}
	if (!best)
		return;
	if (ref_outcome(best) == REF_UNKNOWN)
		pick->undecidable = true;
	/* Another match of the same priority that leads elsewhere. */
	for (i = 0; i < n; i++) {
		const struct xb_policy *p = &pols[i];

		if (!in_lookup(p, dir, type) || p->priority != best->priority ||
		    !xb_ref_policy_match(p, fl, any_if_id))
			continue;
		if (ref_outcome(p) != ref_outcome(best) || p->if_id != best->if_id)
			pick->undecidable = true;
	}
}

static void set(struct xb_ref_decision *d, __u8 reason,
		const struct xb_policy *p)
{
	d->reason = reason;
	d->policy_id = p ? p->id : XB_NO_POLICY;
}

static bool icmp_error(const struct xb_flow *fl)
{
	unsigned int type = ntohs(fl->sport);

	if (fl->family == AF_INET && fl->proto == IPPROTO_ICMP)
		return type == 3 || type == 11;	/* DEST_UNREACH, TIME_EXCEEDED */
	if (fl->family == AF_INET6 && fl->proto == IPPROTO_ICMPV6)
		return type == 1 || type == 2 || type == 3;
	return false;
}

static void classify_no_policy(__u8 dir, const struct xb_flow *fl,
			       const __u8 default_action[4],
			       struct xb_ref_decision *d)
{
	if (dir == XFRM_POLICY_FWD && icmp_error(fl))
		set(d, XB_R_PASS_UNDECIDABLE, NULL);
	else if (default_action[dir] == XB_DEFAULT_BLOCK)
		set(d, XB_R_DROP_DEFAULT_BLOCK, NULL);
	else
		set(d, XB_R_PASS_NO_POLICY, NULL);
}

void xb_ref_classify_input(const struct xb_policy *pols, size_t n, __u8 dir,
			   const struct xb_flow *fl,
			   const __u8 default_action[4], struct xb_ref_decision *d)
{
	struct xb_ref_pick pick, main_in = { 0 };
	const struct xb_policy *pol, *other = NULL;

	memset(d, 0, sizeof(*d));
	xb_ref_lookup(pols, n, dir, XFRM_POLICY_TYPE_SUB, fl, false, &pick);
	if (!pick.undecidable && !pick.pol)
		xb_ref_lookup(pols, n, dir, XFRM_POLICY_TYPE_MAIN, fl, false,
			      &pick);
	if (pick.undecidable) {
		set(d, XB_R_PASS_UNDECIDABLE, NULL);
		return;
	}
	pol = pick.pol;
	if (!pol) {
		classify_no_policy(dir, fl, default_action, d);
		return;
	}
	if (pol->action != XFRM_POLICY_ALLOW) {
		set(d, XB_R_DROP_POLICY_BLOCK, pol);
		return;
	}
	if (pol->type == XFRM_POLICY_TYPE_SUB) {
		/* __xfrm_policy_check() passes XFRM_POLICY_IN here. */
		xb_ref_lookup(pols, n, XFRM_POLICY_IN, XFRM_POLICY_TYPE_MAIN,
			      fl, false, &main_in);
		if (main_in.undecidable) {
			set(d, XB_R_PASS_UNDECIDABLE, NULL);
			return;
		}
		other = main_in.pol;
		if (other && other->action != XFRM_POLICY_ALLOW) {
			set(d, XB_R_DROP_POLICY_BLOCK, other);
			return;
		}
	}
	if (pol->xb_flags & XB_POL_REQUIRES_IPSEC)
		set(d, XB_R_DROP_REQUIRES_IPSEC, pol);
	else if (other && (other->xb_flags & XB_POL_REQUIRES_IPSEC))
		set(d, XB_R_DROP_REQUIRES_IPSEC, other);
	else
		set(d, XB_R_PASS_POLICY_ALLOW, pol);
}

void xb_ref_steer(const struct xb_policy *pols, size_t n,
		  const struct xb_flow *fl, struct xb_ref_steer *s)
{
	struct xb_ref_pick pick;
	const struct xb_policy *p;

	memset(s, 0, sizeof(*s));
	s->policy_id = XB_NO_POLICY;
	xb_ref_lookup(pols, n, XFRM_POLICY_OUT, XFRM_POLICY_TYPE_SUB, fl, true,
		      &pick);
	if (!pick.undecidable && !pick.pol)
		xb_ref_lookup(pols, n, XFRM_POLICY_OUT, XFRM_POLICY_TYPE_MAIN,
			      fl, true, &pick);
	if (pick.undecidable) {
		s->undecidable = true;
		return;
	}
	p = pick.pol;
	if (!p)
		return;
	s->found = true;
	s->policy_id = p->id;
	s->if_id = p->if_id;
	switch (ref_outcome(p)) {
	case REF_ALLOW:
		s->verdict = XB_V_ALLOW;
		break;
	case REF_BLOCK:
		s->verdict = XB_V_BLOCK;
		break;
	case REF_REQUIRES:
		s->verdict = XB_V_REQUIRES_IPSEC;
		break;
	case REF_UNKNOWN:
		s->verdict = XB_V_UNDECIDABLE;
		break;
	}
}
