/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The sync record as one packet sees it. The mirrored maps are trusted
 * only while the daemon is in sync and alive (else the datapath fails
 * open), and a verdict only when no publication ran while it was computed:
 * xb_sync.seq is a seq count, odd while the mirror writes.
 */
#ifndef XFRMBPF_SYNC_BPF_H
#define XFRMBPF_SYNC_BPF_H

#include <stdbool.h>
#include "maps.bpf.h"
#include "xfrmbpf/reasons.h"

/* XFRM directions: the index of xb_sync.default_action[]. */
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
	__u8 default_out;	/* steering to a collect_md device */
	/* the kernel's SPD may hold a change the maps do not yet */
	__u8 spd_changing;
};

/*
 * Has the kernel changed its SPD beyond what the maps hold? A writer runs,
 * or the last one returned after the daemon last started to read its
 * events (include/xfrmbpf/sync.h). The count is read before the stamp: a
 * writer that has gone left its stamp first. Without the watch, never.
 */
static __always_inline __u8 xb_sync_spd_changing(const struct xb_sync *s)
{
	__u64 written_ns;

	if (!XB_READ_ONCE(s->spd_watch))
		return 0;
	if (XB_READ_ONCE(s->spd_writers))
		return 1;
	XB_BARRIER();
	written_ns = XB_READ_ONCE(s->spd_written_ns);
	return written_ns >= XB_READ_ONCE(s->drained_ns);
}

/* Returns XB_R_NONE when the mirror may be trusted, else the reason to
 * pass with: XB_R_PASS_PUBLISHING while a publication runs. */
static __always_inline int xb_sync_begin(struct xb_sync_snap *snap)
{
	__u32 zero = 0;
	struct xb_sync *s;

	s = bpf_map_lookup_elem(&xb_sync, &zero);
	if (!s)
		return XB_R_PASS_UNSYNCED;
	/* Before the sequence count and the generation: a change that
	 * completed before this point is then either seen here, or was
	 * published (and drained_ns written) before them, so that the maps
	 * and a cached verdict of the generation read below hold it. */
	snap->spd_changing = xb_sync_spd_changing(s);
	XB_BARRIER();
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
	snap->default_out = XB_READ_ONCE(s->default_action[XB_DIR_OUT]);
	/* The snapshot is filled anyway: a cached verdict of the generation
	 * read here may still be used (see xb_xdp_decide). */
	if (snap->seq & 1)
		return XB_R_PASS_PUBLISHING;
	return XB_R_NONE;
}

/* True when no publication started or ran since xb_sync_begin(). */
static __always_inline bool xb_sync_end(const struct xb_sync_snap *snap)
{
	__u32 zero = 0;
	struct xb_sync *s;

	s = bpf_map_lookup_elem(&xb_sync, &zero);
	return s && XB_READ_ONCE(s->seq) == snap->seq;
}

/* The default action (XB_DEFAULT_*) of plaintext in direction dir,
 * XB_DIR_IN or XB_DIR_FWD, as the snapshot read it (XB_DIR_OUT: read
 * default_out, which only steering needs). */
static __always_inline __u32 xb_sync_default(const struct xb_sync_snap *snap,
					     __u32 dir)
{
	return dir == XB_DIR_FWD ? snap->default_fwd : snap->default_in;
}

#endif
