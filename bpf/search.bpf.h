/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The tuple-space search of one published shape list (include/xfrmbpf/tss.h):
 * each shape masks the packet's flow into a key of xb_tss, and the best
 * policy of all hits wins. The lists are sorted by their shapes' best
 * priority, so the walk stops at the first shape that cannot beat what was
 * found.
 */
#ifndef XFRMBPF_SEARCH_BPF_H
#define XFRMBPF_SEARCH_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"

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

/* bpf_loop() context of the search: the flow is copied in, so the
 * callback touches only its own stack and maps. */
struct xb_search_walk {
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

/* The (priority, pos, id)-least hit wins, as in the tested reader
 * xb_tss_lookup(). */
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
static long xb_search_step(__u32 i, void *data)
{
	struct xb_search_walk *w = data;
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
static __always_inline void xb_search_list(const struct xb_pkt *pkt,
					   __u32 view, __u32 ptype,
					   struct xb_match *m)
{
	struct xb_search_walk w = {};
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
	bpf_loop(XB_MAX_SHAPES, xb_search_step, &w, 0);
	*m = w.best;
	m->overflow = 0;
}

#endif
