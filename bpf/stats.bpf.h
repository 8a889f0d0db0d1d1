/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Counters: per (row, reason) in xb_stats, a row per attached interface,
 * and per policy (per-CPU). One lookup counts a packet's reason and its
 * device; userspace derives the totals and the interface view.
 */
#ifndef XFRMBPF_STATS_BPF_H
#define XFRMBPF_STATS_BPF_H

#include "maps.bpf.h"

/*
 * Count a packet of this reason in row slot (xb_iface_cfg.stats_slot),
 * or in the row of devices without a slot when slot is not one: the
 * datapath never writes the retired row, which userspace folds into
 * without racing it. A reason out of range would land in the next row.
 */
static __always_inline void xb_count(__u32 slot, __u32 reason, __u64 bytes)
{
	struct xb_counter *c;
	__u32 key;

	if (reason >= XB_R_MAX)
		return;
	if (slot >= XB_MAX_IFACES)
		slot = XB_STATS_ROW_OTHER;
	key = XB_STATS_KEY(slot, reason);
	c = bpf_map_lookup_elem(&xb_stats, &key);
	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
}

static __always_inline void xb_count_policy(__u32 policy_id, __u64 bytes)
{
	struct xb_counter *c;

	/* Ids past the pinned map's size (`run --max-policies`) find
	 * nothing: an array lookup beyond max_entries returns NULL. */
	c = bpf_map_lookup_elem(&xb_policy_stats, &policy_id);
	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
}

static __always_inline void xb_count_undecidable(__u32 reason, __u32 cause)
{
	struct xb_undecidable_stats *u;
	__u32 zero = 0;

	if (reason != XB_R_PASS_UNDECIDABLE || cause >= XB_U_MAX)
		return;
	u = bpf_map_lookup_elem(&xb_undecidable_stats, &zero);
	if (u)
		u->packets[cause]++;
}

#endif
