/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The reference classifier: a linear scan over the policies, written
 * straight from the kernel's rules (net/xfrm/xfrm_policy.c; see the
 * comments in classify_ref.c). It is the test oracle every faster
 * structure (the tuple-space search, the BPF datapath) is checked against,
 * so it stays plain: no indexes, no caching.
 *
 * "Undecidable" means the kernel may decide either way from what the
 * mirror knows; the datapath must then pass the packet to the kernel.
 */
#ifndef XFRMBPF_CLASSIFY_REF_H
#define XFRMBPF_CLASSIFY_REF_H

#include <stdbool.h>
#include <stddef.h>
#include "flow_decision.h"

/* The winner of one (dir, type) lookup. */
struct xb_ref_pick {
	const struct xb_policy *pol;	/* (priority, pos, id)-least match */
	bool undecidable;		/* the kernel may pick another one */
};

/* xfrm_policy_match() without dir and type: family, if_id (unless
 * any_if_id), mark, selector. A selector ifindex is taken as matching (the
 * flow's output device is unknown); such a policy is undecidable. */
bool xb_ref_policy_match(const struct xb_policy *pol, const struct xb_flow *fl,
			 bool any_if_id);

/* xfrm_policy_lookup_bytype(): the best policy of (dir, type) for fl. */
void xb_ref_lookup(const struct xb_policy *pols, size_t n, __u8 dir,
		   __u8 type, const struct xb_flow *fl, bool any_if_id,
		   struct xb_ref_pick *pick);

/* __xfrm_policy_check() for plaintext (no secpath) of dir IN or FWD, with
 * the flow's own mark and if_id; default_action[] by dir (XB_DEFAULT_*). */
void xb_ref_classify_input(const struct xb_policy *pols, size_t n, __u8 dir,
			   const struct xb_flow *fl,
			   const __u8 default_action[4], struct xb_ref_decision *d);

/* OUT steering: the best OUT policy (sub before main) for the flow's mark,
 * any if_id. */
void xb_ref_steer(const struct xb_policy *pols, size_t n,
		  const struct xb_flow *fl, struct xb_ref_steer *s);

#endif
