/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Counters: per reason, per policy, per attached interface (per-CPU). */
#ifndef XFRMBPF_STATS_BPF_H
#define XFRMBPF_STATS_BPF_H

#include "maps.bpf.h"

static __always_inline bool xb_reason_drops(__u32 reason)
{
	return reason == XB_R_DROP_UNKNOWN_SPI ||
	       reason == XB_R_DROP_POLICY_BLOCK ||
	       reason == XB_R_DROP_REQUIRES_IPSEC ||
	       reason == XB_R_DROP_DEFAULT_BLOCK;
}

static __always_inline void xb_count_reason(__u32 reason, __u64 bytes)
{
	struct xb_counter *c;

	c = bpf_map_lookup_elem(&xb_reason_stats, &reason);
	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
}

static __always_inline void xb_count_policy(__u32 policy_id, __u64 bytes)
{
	struct xb_counter *c;

	if (policy_id >= XB_MAX_POLICIES)
		return;
	c = bpf_map_lookup_elem(&xb_policy_stats, &policy_id);
	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
}

/* Counters of an attached interface, by its xb_iface_cfg.stats_slot. */
static __always_inline struct xb_iface_stats *xb_iface_counters(__u32 slot)
{
	return bpf_map_lookup_elem(&xb_iface_stats, &slot);
}

#endif
