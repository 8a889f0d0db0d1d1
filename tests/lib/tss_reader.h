/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The datapath's search of a published tuple-space search, in userspace:
 * what bpf/ does with xb_shape_lists and xb_tss, step for step, on a
 * published state held in the maps (tss_sink_maps.h) or in memory
 * (tss_mem.h). The tests check it against the reference classifier
 * (classify_ref.h), and the datapath against both.
 *
 * What it must do besides the plain search is listed in
 * user/classifier/tss.h (equal priorities, sub policies, ICMP errors on
 * FWD, overflowed lists).
 */
#ifndef XFRMBPF_TESTS_TSS_READER_H
#define XFRMBPF_TESTS_TSS_READER_H

#include <stdbool.h>
#include "classifier/tss.h"
#include "flow_decision.h"

/* The best policy of one shape list for one flow. */
struct xb_list_result {
	bool found;
	bool undecidable;	/* overflow, full bucket, conflicting tie,
				 * undecidable verdict */
	bool overflow;
	bool full;
	struct xb_tss_rule val;	/* the (priority, pos, id)-least hit */
};

/* Read access to a published state (maps, or struct xb_tss_mem). Both
 * return 0, or -ENOENT for a missing entry. */
struct xb_tss_source {
	int (*get_entry)(void *ctx, const struct xb_tss_key *key,
			 struct xb_tss_val *val);
	int (*get_list)(void *ctx, __u32 list_idx, struct xb_shape_list *list);
	/* xb_tss_index; NULL where none is kept (every list unindexed) */
	int (*get_index)(void *ctx, const struct xb_tss_idx_key *key,
			 struct xb_tss_idx_val *val);
	/* The datapath's priority gate (include/xfrmbpf/tss.h): whether the
	 * gates of a chunk-0 key's filter word, of the classes the filter
	 * lets through, are worse than priority (the key is then not looked
	 * up); NULL where none is kept (every key is looked up) */
	bool (*gated)(void *ctx, const struct xb_tss_key *key, __u32 priority);
	void *ctx;
};

/* The datapath's search of one list: tables in order, stop when a table's
 * best priority is above the best found; for an indexed list, the flow's
 * candidate tables by id, passing over those that cannot beat the best.
 * The datapath probes the present keys in another order (bpf/search.bpf.h,
 * best first): the result does not depend on it, a full bucket included
 * (either walk meets one only when nothing better can come after it). */
int xb_tss_search_list(const struct xb_tss_source *src, __u32 list_idx,
		       const struct xb_flow *fl, struct xb_list_result *res);

/* Plaintext arriving on a NIC (mark 0, if_id 0), dir XFRM_POLICY_IN or
 * XFRM_POLICY_FWD; default_action[] indexed by dir (XB_DEFAULT_*). */
int xb_tss_lookup(const struct xb_tss_source *src, __u8 dir,
		  const struct xb_flow *fl, const __u8 default_action[4],
		  struct xb_ref_decision *d);

/* OUT steering: sub before main, mark 0, any if_id. */
int xb_tss_lookup_steer(const struct xb_tss_source *src,
			const struct xb_flow *fl, struct xb_ref_steer *s);

/* Does a bucket's policy match the flow in full? What the key of its table
 * left unchecked: the last prefix word of each address, ports, proto. */
bool xb_tss_rule_matches(const struct xb_tss_rule *r, const struct xb_flow *fl);

/* Masks a flow into the key of one table: what the datapath looks up. */
void xb_tss_flow_key(struct xb_tss_key *key, __u32 list_idx,
		     const struct xb_shape *shape, const struct xb_flow *fl);

#endif
