/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Policy classification: the sync record (fail open, seq count), the
 * tuple-space search over the published shape lists, the kernel's way of
 * combining sub and main policies, and the exact-flow cache in front.
 */
#ifndef XFRMBPF_CLASSIFY_BPF_H
#define XFRMBPF_CLASSIFY_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"

#define XB_DIR_IN	0	/* XFRM_POLICY_IN */
#define XB_DIR_OUT	1	/* XFRM_POLICY_OUT */
#define XB_DIR_FWD	2	/* XFRM_POLICY_FWD */

/* What the packet saw of xb_sync when its lookups started. */
struct xb_sync_snap {
	__u64 seq;
	__u64 generation;
	__u32 flow_epoch;
	/* default_action[] per direction, as scalars: a variable index into
	 * a stack array becomes pointer arithmetic the verifier refuses. */
	__u8 default_in;
	__u8 default_fwd;
};

/* Returns XB_PARSE_OK when the mirror may be trusted, else the reason:
 * XB_R_PASS_PUBLISHING while a publication runs. */
static __always_inline int xb_sync_begin(struct xb_sync_snap *snap)
{
	__u32 zero = 0;
	struct xb_sync *s;

	s = bpf_map_lookup_elem(&xb_sync, &zero);
	if (!s)
		return XB_R_PASS_UNSYNCED;
	snap->seq = XB_READ_ONCE(s->seq);
	/* A dead daemon's heartbeat goes stale: the watchdog timer
	 * (bpf/watchdog.bpf.h) raises the flag, so no packet reads a
	 * clock. */
	if (!XB_READ_ONCE(s->synced) || XB_READ_ONCE(s->heartbeat_stale))
		return XB_R_PASS_UNSYNCED;
	snap->generation = XB_READ_ONCE(s->generation);
	snap->flow_epoch = XB_READ_ONCE(s->flow_epoch);
	snap->default_in = XB_READ_ONCE(s->default_action[XB_DIR_IN]);
	snap->default_fwd = XB_READ_ONCE(s->default_action[XB_DIR_FWD]);
	/* The snapshot is filled anyway: a cached verdict of the generation
	 * read here may still be used (see xb_xdp_decide). */
	if (snap->seq & 1)
		return XB_R_PASS_PUBLISHING;
	return XB_PARSE_OK;
}

/* True when no publication started or ran since xb_sync_begin(). */
static __always_inline bool xb_sync_end(const struct xb_sync_snap *snap)
{
	__u32 zero = 0;
	struct xb_sync *s;

	s = bpf_map_lookup_elem(&xb_sync, &zero);
	return s && XB_READ_ONCE(s->seq) == snap->seq;
}

/* The best policy of one shape list for one flow. */
struct xb_match {
	__u32 policy_id;
	__u32 priority;
	__u32 pos;
	__u32 if_id;
	__u8 verdict;
	__u8 found;
	/* the best priority is shared by hits with different outcomes: which
	 * one the kernel picks is not visible from netlink (user/classifier/tss.h) */
	__u8 conflict;
	__u8 overflow;
};

/* Overflowed list, conflicting tie or an undecidable winner. */
static __always_inline bool xb_match_undecidable(const struct xb_match *m)
{
	return m->overflow || (m->found && (m->conflict ||
					    m->verdict == XB_V_UNDECIDABLE));
}

/* bpf_loop() context of the tuple-space search: the flow is copied in, so
 * the callback touches only its own stack and maps. */
struct xb_tss_walk {
	union xb_addr saddr;
	union xb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 v6;
	__u16 pad;
	__u32 list_idx;
	struct xb_match best;
};

/* Network-order mask of 32-bit word `word` of a prefix of plen bits. */
static __always_inline __u32 xb_word_mask(__u32 plen, __u32 word)
{
	__u32 lo = word * 32;

	if (plen <= lo)
		return 0;
	if (plen >= lo + 32)
		return 0xffffffff;
	return bpf_htonl(~0U << (32 - (plen - lo)));
}

static __always_inline void xb_mask_addr(union xb_addr *dst,
					 const union xb_addr *src,
					 __u32 plen, bool v6)
{
	dst->a[0] = src->a[0] & xb_word_mask(plen, 0);
	if (!v6)
		return;
	dst->a[1] = src->a[1] & xb_word_mask(plen, 1);
	dst->a[2] = src->a[2] & xb_word_mask(plen, 2);
	dst->a[3] = src->a[3] & xb_word_mask(plen, 3);
}

/* The (priority, pos, id)-least hit wins, as user/classifier/tss.c's reader. */
static __always_inline void xb_match_consider(struct xb_match *m,
					      const struct xb_tss_val *v)
{
	if (m->found && v->priority > m->priority)
		return;
	if (!m->found || v->priority < m->priority) {
		m->conflict = 0;
	} else {
		if (v->verdict != m->verdict || v->if_id != m->if_id)
			m->conflict = 1;
		if (v->pos > m->pos ||
		    (v->pos == m->pos && v->policy_id >= m->policy_id))
			return;
	}
	m->found = 1;
	m->policy_id = v->policy_id;
	m->priority = v->priority;
	m->pos = v->pos;
	m->if_id = v->if_id;
	m->verdict = v->verdict;
}

/* False when the presence filter proves the key absent from xb_tss. */
static __always_inline bool xb_tss_maybe(const struct xb_tss_key *key)
{
	__u64 mask, *word;
	__u32 idx;

	idx = xb_tss_filter_word(key, &mask);
	word = bpf_map_lookup_elem(&xb_tss_filter, &idx);
	return !word || (*word & mask);
}

/* One shape: mask the flow, look it up, keep the better policy. Returns 1
 * (stop) past the last shape, or when this shape's best priority cannot
 * beat what was found (equal priority may still win by position). */
static long xb_tss_step(__u32 i, void *data)
{
	struct xb_tss_walk *w = data;
	struct xb_shape_list *list;
	struct xb_tss_key key = {};
	struct xb_tss_val *v;
	struct xb_shape *sh;
	__u64 idx = i;

	list = bpf_map_lookup_elem(&xb_shape_lists, &w->list_idx);
	if (!list || i >= list->count)
		return 1;
	/* A 64-bit index the compiler cannot see through: the bound check
	 * and the access then use the same register, as the verifier
	 * needs. */
	asm volatile("" : "+r"(idx));
	if (idx >= XB_MAX_SHAPES)
		return 1;
	sh = &list->shapes[idx];
	if (w->best.found && sh->best_priority > w->best.priority)
		return 1;

	key.list = w->list_idx;
	key.shape_id = sh->id;
	key.proto = w->proto & sh->proto_mask;
	key.sport = w->sport & sh->sport_mask;
	key.dport = w->dport & sh->dport_mask;
	xb_mask_addr(&key.saddr, &w->saddr, sh->prefixlen_s, w->v6);
	xb_mask_addr(&key.daddr, &w->daddr, sh->prefixlen_d, w->v6);

	if (!xb_tss_maybe(&key))
		return 0;
	v = bpf_map_lookup_elem(&xb_tss, &key);
	if (!v)
		return 0;
	xb_match_consider(&w->best, v);
	return 0;
}

/* "Nothing found yet", as values the verifier does not know: the best
 * match is carried across the callback's iterations (xb_opaque_zero). */
static __always_inline void xb_match_opaque(struct xb_match *m)
{
	__u64 z = xb_opaque_zero();

	m->policy_id = z;
	m->priority = z;
	m->pos = z;
	m->if_id = z;
	m->verdict = z;
	m->found = z;
	m->conflict = z;
}

/* Best policy of one (view, type, family) shape list. */
static __always_inline void xb_tss_search(const struct xb_pkt *pkt,
					  __u32 view, __u32 ptype,
					  struct xb_match *m)
{
	struct xb_tss_walk w = {};
	struct xb_shape_list *list;
	bool v6 = pkt->family == AF_INET6;

	__builtin_memset(m, 0, sizeof(*m));
	w.list_idx = XB_SHAPE_LIST_IDX(view, ptype, v6 ? XB_FAM_V6 : XB_FAM_V4);
	list = bpf_map_lookup_elem(&xb_shape_lists, &w.list_idx);
	if (!list)
		return;
	if (list->overflow) {
		m->overflow = 1;
		return;
	}
	w.saddr = pkt->saddr;
	w.daddr = pkt->daddr;
	w.sport = pkt->sport;
	w.dport = pkt->dport;
	w.proto = pkt->proto;
	w.v6 = v6;
	xb_match_opaque(&w.best);
	bpf_loop(XB_MAX_SHAPES, xb_tss_step, &w, 0);
	*m = w.best;
	m->overflow = 0;
}

/* What the flow cache did for a packet, counted in xb_flow_stats once the
 * verdict is in (xb_xdp): counting inside the lookup keeps more values
 * alive across a helper call, and the spills push xb_xdp's stack past the
 * 6.1 verifier's combined limit (see xb_flow_store()). */
enum xb_flow_outcome {
	XB_FLOW_NOT_LOOKED = 0,	/* decided before the cache */
	XB_FLOW_HIT,
	XB_FLOW_MISS,
};

/* Outcome of a classification: a reason and the policy that decided. */
struct xb_decision {
	__u32 policy_id;
	__u32 if_id;
	__u8 reason;
	__u8 flow;		/* enum xb_flow_outcome */
	__u8 pad[2];
};

static __always_inline void xb_decide(struct xb_decision *d, __u8 reason,
				      __u32 policy_id)
{
	d->reason = reason;
	d->policy_id = policy_id;
}

static __always_inline void xb_decide_one(const struct xb_match *m,
					  struct xb_decision *d)
{
	d->if_id = m->if_id;
	switch (m->verdict) {
	case XB_V_ALLOW:
		xb_decide(d, XB_R_PASS_POLICY_ALLOW, m->policy_id);
		break;
	case XB_V_BLOCK:
		xb_decide(d, XB_R_DROP_POLICY_BLOCK, m->policy_id);
		break;
	case XB_V_REQUIRES_IPSEC:
		xb_decide(d, XB_R_DROP_REQUIRES_IPSEC, m->policy_id);
		break;
	default:
		xb_decide(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
		break;
	}
}

/* ICMP errors forwarded without any policy: newer kernels
 * (xfrm_in_fwd_icmp) look the policy up for the inner packet. */
static __always_inline bool xb_icmp_error(const struct xb_pkt *pkt)
{
	__u16 type = bpf_ntohs(pkt->sport);

	if (pkt->family == AF_INET && pkt->proto == IPPROTO_ICMP)
		return type == 3 || type == 11;
	if (pkt->family == AF_INET6 && pkt->proto == IPPROTO_ICMPV6)
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

	xb_tss_search(pkt, XB_VIEW_IN, XB_PTYPE_MAIN, &m);
	if (xb_match_undecidable(&m))
		xb_decide(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
	else if (!m.found)
		xb_decide_one(sub, d);
	else if (m.verdict == XB_V_BLOCK)
		xb_decide(d, XB_R_DROP_POLICY_BLOCK, m.policy_id);
	else if (sub->verdict == XB_V_REQUIRES_IPSEC)
		xb_decide(d, XB_R_DROP_REQUIRES_IPSEC, sub->policy_id);
	else if (m.verdict == XB_V_REQUIRES_IPSEC)
		xb_decide(d, XB_R_DROP_REQUIRES_IPSEC, m.policy_id);
	else
		xb_decide(d, XB_R_PASS_POLICY_ALLOW, sub->policy_id);
}

/*
 * Plaintext input as __xfrm_policy_check() treats it (the same decision
 * as xb_tss_lookup() in user/classifier/tss.c, the tested reader): sub policies
 * first, main when no sub policy matches; no policy at all: the
 * direction's default action (def, XB_DEFAULT_*).
 *
 * Global, not static: the verifier checks a global function once, on its
 * own, instead of once per caller state. The tree of outcomes here would
 * otherwise multiply the states of every path that reaches it (and the
 * 6.1 verifier of the kernel lab must take it too). Hence the scalar and
 * sized-pointer arguments, which may be NULL as far as it knows.
 */
__noinline int xb_classify(const struct xb_pkt *pkt, __u32 view, __u32 dir,
			   __u32 def, struct xb_decision *d)
{
	struct xb_match r;

	if (!pkt || !d)
		return 0;
	d->policy_id = XB_NO_POLICY;
	d->if_id = 0;
	xb_tss_search(pkt, view, XB_PTYPE_SUB, &r);
	if (xb_match_undecidable(&r)) {
		xb_decide(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
		return 0;
	}
	if (r.found) {
		if (r.verdict == XB_V_BLOCK)
			xb_decide_one(&r, d);
		else
			xb_decide_sub_allow(pkt, &r, d);
		return 0;
	}
	xb_tss_search(pkt, view, XB_PTYPE_MAIN, &r);
	if (xb_match_undecidable(&r)) {
		xb_decide(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
		return 0;
	}
	if (r.found) {
		xb_decide_one(&r, d);
		return 0;
	}
	if (dir == XB_DIR_FWD && xb_icmp_error(pkt)) {
		xb_decide(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
		return 0;
	}
	xb_decide(d, def == XB_DEFAULT_BLOCK ? XB_R_DROP_DEFAULT_BLOCK :
					       XB_R_PASS_NO_POLICY,
		  XB_NO_POLICY);
	return 0;
}

static __always_inline void xb_classify_tss(const struct xb_pkt *pkt,
					    __u32 view, __u32 dir,
					    const struct xb_sync_snap *snap,
					    struct xb_decision *d)
{
	__u32 def = dir == XB_DIR_FWD ? snap->default_fwd : snap->default_in;

	xb_classify(pkt, view, dir, def, d);
}

#endif
