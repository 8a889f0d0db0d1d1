/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's death, noticed as it happens: a program on the
 * sched_process_exit tracepoint that clears xb_sync.synced when the
 * process that wrote daemon_pid exits, for whatever reason (kill -9, a
 * crash, the OOM killer). The datapath then passes everything at once
 * instead of after the heartbeat's timeout, which stays for a daemon that
 * hangs. Its link is pinned beside the maps (XB_EXIT_WATCH_PIN), so it
 * outlives the daemon; each daemon start pins its own.
 *
 * daemon_pid is the daemon's pid as its own pid namespace sees it, the
 * tracepoint gives the initial namespace's: in another pid namespace the
 * watch never fires and the heartbeat alone judges.
 */
#ifndef XFRMBPF_EXIT_WATCH_BPF_H
#define XFRMBPF_EXIT_WATCH_BPF_H

#include "maps.bpf.h"

SEC("raw_tracepoint/sched_process_exit")
int xb_exit_watch(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, zero = 0;
	struct xb_sync *s;

	(void)ctx;
	/* the process's main thread: the last to go, or the one kill -9
	 * takes with the others */
	if (tgid != (__u32)id)
		return 0;
	s = bpf_map_lookup_elem(&xb_sync, &zero);
	if (s && XB_READ_ONCE(s->daemon_pid) == tgid && XB_READ_ONCE(s->synced))
		XB_READ_ONCE(s->synced) = 0;
	return 0;
}

#endif
