// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The SPD watch: kprobes on the kernel functions that change the SPD and
 * queue its notification before they return (user/loader/spd_watch.c
 * lists them), so that the datapath knows when the kernel's SPD may be
 * ahead of the maps (include/xfrmbpf/sync.h, spd_writers). The daemon
 * attaches one program at each function's entry and one at its return;
 * they only count and stamp.
 */
#include "sync_map.bpf.h"

/* Wakes the daemon: it reads its XFRM socket at once when a writer
 * returns, so the datapath trusts the maps again after the daemon's
 * wake-up, not a heartbeat, also for a writer that changed nothing (a
 * refused add) or changed another namespace's SPD. The records carry
 * nothing; a full ring already has the daemon woken. Its own, not
 * pinned: each daemon has one. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} xb_spd_wake SEC(".maps");

SEC("kprobe")
int xb_spd_write_begin(void *ctx)
{
	struct xb_sync *s;
	__u32 zero = 0;

	(void)ctx;
	s = bpf_map_lookup_elem(&xb_sync, &zero);
	if (s)
		__sync_fetch_and_add(&s->spd_writers, 1);
	return 0;
}

/* The stamp first: a datapath that sees the writer gone then sees it. */
SEC("kretprobe")
int xb_spd_write_end(void *ctx)
{
	struct xb_sync *s;
	__u32 zero = 0;

	(void)ctx;
	s = bpf_map_lookup_elem(&xb_sync, &zero);
	if (!s)
		return 0;
	XB_READ_ONCE(s->spd_written_ns) = bpf_ktime_get_ns();
	__sync_fetch_and_add(&s->spd_writers, -1);
	bpf_ringbuf_output(&xb_spd_wake, &zero, sizeof(zero), 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
