/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The published state as its readers (`status`, metrics) make sense of it:
 * the sync record as the datapath sees it, the classifier's shape lists and
 * the policy counts they give by direction and family, and the names of the
 * attached interfaces' flags.
 */
#ifndef XFRMBPF_MIRROR_STATE_H
#define XFRMBPF_MIRROR_STATE_H

#include <stdbool.h>
#include <linux/xfrm.h>
#include "loader/maps.h"
#include "xfrmbpf/sync.h"
#include "xfrmbpf/tss.h"

/* What one read of the sync record says. */
struct xb_sync_view {
	bool synced;		/* as the datapath sees it */
	bool daemon_running;	/* the recorded pid is alive */
	bool has_heartbeat;	/* heartbeat_age_ns is meaningful */
	__u64 heartbeat_age_ns;
	/* Why not synced, as a key (xb_unsynced_reasons); NULL when synced. */
	const char *unsynced_reason;
	/* The map found full ("map_full"), or NULL. */
	const char *full_map;
};

/* Every key unsynced_reason may take, NULL-terminated. */
extern const char *const xb_unsynced_reasons[];

/* Interpret s, read at now_ns (CLOCK_MONOTONIC). */
void xb_sync_view(const struct xb_sync *s, __u64 now_ns, struct xb_sync_view *v);

/* The shape lists as published; a list that cannot be read reads empty. */
void xb_shape_lists_read(const struct xb_maps *maps,
			 struct xb_shape_list lists[XB_SHAPE_LISTS]);

/* Policies per direction (XFRM_POLICY_IN/OUT/FWD) and family
 * (XB_FAM_*): every mirrored policy belongs to the shape list of its
 * direction's view, sub or main, searched or (marks, if_id) out of view. */
void xb_policy_counts(const struct xb_shape_list lists[XB_SHAPE_LISTS],
		      __u64 n[XFRM_POLICY_FWD + 1][XB_FAM_MAX]);

/* An interface flag (struct xb_iface_cfg.flags) readers show, by the name
 * `status -j` gives it. */
struct xb_iface_flag {
	__u32 mask;	/* any of these bits */
	const char *name;
};

/* NULL-name-terminated, in the order `status -j` lists them. */
extern const struct xb_iface_flag xb_iface_flags[];

#endif
