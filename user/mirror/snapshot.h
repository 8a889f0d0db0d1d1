/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A consistent copy of the published mirror, read back from the pinned
 * maps (for `policy`, `sa`, `status` and `check`): the read is retried
 * until no publication overlapped it.
 */
#ifndef XFRMBPF_SNAPSHOT_H
#define XFRMBPF_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include "loader/maps.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/limits.h"
#include "xfrmbpf/sad.h"
#include "xfrmbpf/spd.h"

struct xb_snap_policy {
	struct xb_policy pol;
	struct xb_tmpl tmpls[XB_MAX_TMPLS];
	struct xb_counter hits;		/* summed over CPUs */
};

struct xb_snap_sa {
	struct xb_sa_key key;
	struct xb_sa sa;
};

struct xb_snapshot {
	struct xb_sync sync;
	struct xb_snap_policy *policies;	/* sorted by (dir, type, priority, pos) */
	size_t n_policies;
	struct xb_snap_sa *sas;
	size_t n_sas;
	struct xb_xfrm_link *links;
	size_t n_links;
	bool consistent;	/* no publication overlapped the read */
};

int xb_snapshot_read(const struct xb_maps *maps, struct xb_snapshot *snap);
void xb_snapshot_free(struct xb_snapshot *snap);
/* One published policy (its page of xb_policies) and its templates (the
 * first in xb_tmpl_pages, the others in xb_tmpls); tmpls has room for XB_MAX_TMPLS. A missing
 * template reads as zero. Returns 0 or -errno of the policy lookup. */
int xb_snapshot_policy(const struct xb_maps *maps, __u32 id, struct xb_policy *pol,
		       struct xb_tmpl *tmpls);

#endif
