/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The heartbeat watchdog: a BPF timer that compares the daemon's
 * heartbeat with its timeout a few times a second and publishes the
 * answer as xb_sync.heartbeat_stale. The datapath then tests one flag
 * instead of reading a clock for every packet.
 *
 * The timer lives in the pinned map xb_watchdog and holds its program, so
 * it goes on ticking when the daemon is gone (killed, hung), which is the
 * case it exists for. It stops when the map's last pin and descriptor go
 * (`xfrmbpf unload`). Each daemon start arms it again with its own
 * program (xb_watchdog_arm, run once through BPF_PROG_TEST_RUN).
 */
#ifndef XFRMBPF_WATCHDOG_BPF_H
#define XFRMBPF_WATCHDOG_BPF_H

#include <linux/errno.h>
#include <linux/time.h>
#include "maps.bpf.h"

static __always_inline __u64 xb_watchdog_period(__u64 timeout_ns)
{
	__u64 period = timeout_ns / 10;

	if (period < XB_WATCHDOG_MIN_PERIOD_NS)
		return XB_WATCHDOG_MIN_PERIOD_NS;
	if (period > XB_WATCHDOG_MAX_PERIOD_NS)
		return XB_WATCHDOG_MAX_PERIOD_NS;
	return period;
}

/* One look at the heartbeat, then the next tick. The flag is written only
 * when it changes, so the datapath's cache line stays shared. A beat
 * stamped on another CPU may be a little ahead of now: fresh. */
static int xb_watchdog_tick(void *map, __u32 *key, struct xb_watchdog *w)
{
	__u64 timeout = XB_HEARTBEAT_TIMEOUT_MS_DEFAULT * 1000000ULL;
	__u32 zero = 0, stale;
	struct xb_sync *s;
	__u64 now, beat;

	(void)map;
	(void)key;
	s = bpf_map_lookup_elem(&xb_sync, &zero);
	if (s) {
		if (XB_READ_ONCE(s->heartbeat_timeout_ns))
			timeout = XB_READ_ONCE(s->heartbeat_timeout_ns);
		beat = XB_READ_ONCE(s->heartbeat_ns);
		now = bpf_ktime_get_ns();
		stale = now > beat && now - beat > timeout;
		if (XB_READ_ONCE(s->heartbeat_stale) != stale)
			XB_READ_ONCE(s->heartbeat_stale) = stale;
	}
	bpf_timer_start(&w->timer, xb_watchdog_period(timeout), 0);
	return 0;
}

/* Arms the watchdog, or re-arms it with this program's callback (the
 * timer of an earlier daemon is already initialised: -EBUSY). The first
 * tick runs at once. XDP_PASS when armed. */
SEC("xdp")
int xb_watchdog_arm(struct xdp_md *ctx)
{
	struct xb_watchdog *w;
	__u32 zero = 0;
	long err;

	(void)ctx;
	w = bpf_map_lookup_elem(&xb_watchdog, &zero);
	if (!w)
		return XDP_ABORTED;
	err = bpf_timer_init(&w->timer, &xb_watchdog, CLOCK_MONOTONIC);
	if (err && err != -EBUSY)
		return XDP_ABORTED;
	if (bpf_timer_set_callback(&w->timer, xb_watchdog_tick))
		return XDP_ABORTED;
	if (bpf_timer_start(&w->timer, 0, 0))
		return XDP_ABORTED;
	return XDP_PASS;
}

#endif
