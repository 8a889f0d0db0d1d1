/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one writer of the sync record (xb_sync, include/xfrmbpf/sync.h),
 * which running BPF programs read while it changes: every store is a
 * single aligned atomic store, in program order.
 *
 * A publication is a window: xb_sync_window_open() makes the sequence
 * count odd (packets that overlap it go to the kernel), the caller writes
 * the maps, xb_sync_window_close() bumps the generation and makes the
 * count even again.
 */
#ifndef XFRMBPF_SYNC_RECORD_H
#define XFRMBPF_SYNC_RECORD_H

#include <stdbool.h>
#include "loader/maps.h"

/* Returns the count to give to xb_sync_window_close(). */
__u64 xb_sync_window_open(struct xb_maps *maps);
void xb_sync_window_close(struct xb_maps *maps, __u64 seq);

/* Inside a window. */
void xb_sync_set_defaults(struct xb_maps *maps, const __u8 default_action[4]);
void xb_sync_set_counts(struct xb_maps *maps, __u32 n_policies, __u32 n_sas,
			__u32 n_xfrm_links, __u32 shape_overflows);

/* Outside the window: each is one field the datapath reads on its own. */
void xb_sync_set_synced(struct xb_maps *maps, bool synced);
/* Why synced is 0 (XB_UNSYNCED_*), for `xfrmbpf status`. */
void xb_sync_set_unsynced_reason(struct xb_maps *maps, __u32 reason);
/* Also lowers the watchdog's stale flag at once. */
void xb_sync_heartbeat(struct xb_maps *maps);
/* Records that every XFRM event queued before drained_ns (CLOCK_MONOTONIC)
 * has been read and published. */
void xb_sync_set_drained(struct xb_maps *maps, __u64 drained_ns);
/* The SPD watch (loader/spd_watch.h) on or off. Off also clears the
 * writer count and stamp, before any probe is attached; on leaves what
 * the probes counted since they were attached. */
void xb_sync_set_spd_watch(struct xb_maps *maps, bool on);
/* The writer count, and the last writer's return into *written_ns. */
__u64 xb_sync_spd_writers(const struct xb_maps *maps, __u64 *written_ns);
/* Sets a writer count that is still `stuck` to 0; false when a writer
 * came or went meanwhile. */
bool xb_sync_clear_spd_writers(struct xb_maps *maps, __u64 stuck);
/* pid 0: no daemon. */
void xb_sync_set_daemon(struct xb_maps *maps, __u32 pid, __u64 timeout_ns);
void xb_sync_set_counters(struct xb_maps *maps, __u32 resyncs, __u32 bad_msgs);
/* Cached flow verdicts may no longer hold: routes, rules, addresses,
 * device settings or bypass ports changed (bumps flow_epoch). */
void xb_sync_flows_stale(const struct xb_maps *maps);

#endif
