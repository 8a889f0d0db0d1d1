// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/clock.h"
#include "loader/sync_record.h"

#define SYNC_STORE(maps, field, val) \
	__atomic_store_n(&(maps)->sync->field, (val), __ATOMIC_SEQ_CST)
#define SYNC_LOAD(maps, field) \
	__atomic_load_n(&(maps)->sync->field, __ATOMIC_SEQ_CST)

__u64 xb_sync_window_open(struct xb_maps *maps)
{
	__u64 seq = SYNC_LOAD(maps, seq);

	/* Odd: readers that overlap this window pass their packets. */
	SYNC_STORE(maps, seq, seq | 1);
	return seq;
}

void xb_sync_window_close(struct xb_maps *maps, __u64 seq)
{
	SYNC_STORE(maps, generation, SYNC_LOAD(maps, generation) + 1);
	SYNC_STORE(maps, seq, (seq | 1) + 1);
}

void xb_sync_set_defaults(struct xb_maps *maps, const __u8 default_action[4])
{
	size_t i;

	for (i = 0; i < sizeof(maps->sync->default_action); i++)
		SYNC_STORE(maps, default_action[i], default_action[i]);
}

void xb_sync_set_counts(struct xb_maps *maps, __u32 n_policies, __u32 n_sas,
			__u32 n_xfrm_links, __u32 shape_overflows)
{
	SYNC_STORE(maps, n_policies, n_policies);
	SYNC_STORE(maps, n_sas, n_sas);
	SYNC_STORE(maps, n_xfrm_links, n_xfrm_links);
	SYNC_STORE(maps, shape_overflows, shape_overflows);
}

void xb_sync_set_synced(struct xb_maps *maps, bool synced)
{
	SYNC_STORE(maps, synced, synced ? 1 : 0);
}

void xb_sync_set_unsynced_reason(struct xb_maps *maps, __u32 reason)
{
	SYNC_STORE(maps, unsynced_reason, reason);
}

void xb_sync_set_spd_watch(struct xb_maps *maps, bool on)
{
	if (on) {
		SYNC_STORE(maps, spd_watch, 1);
		return;
	}
	SYNC_STORE(maps, spd_watch, 0);
	SYNC_STORE(maps, spd_writers, 0);
	SYNC_STORE(maps, spd_written_ns, 0);
}

__u64 xb_sync_spd_writers(const struct xb_maps *maps, __u64 *written_ns)
{
	__u64 writers = SYNC_LOAD(maps, spd_writers);

	*written_ns = SYNC_LOAD(maps, spd_written_ns);
	return writers;
}

bool xb_sync_clear_spd_writers(struct xb_maps *maps, __u64 stuck)
{
	return __atomic_compare_exchange_n(&maps->sync->spd_writers, &stuck, 0, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

void xb_sync_set_drained(struct xb_maps *maps, __u64 drained_ns)
{
	SYNC_STORE(maps, drained_ns, drained_ns);
}

/* Lowering the watchdog's flag here (it would at its next tick) lets the
 * datapath trust the maps again at once after a start or a stall longer
 * than the timeout. */
void xb_sync_heartbeat(struct xb_maps *maps)
{
	SYNC_STORE(maps, heartbeat_ns, xb_monotonic_ns());
	if (maps->sync->heartbeat_stale)
		SYNC_STORE(maps, heartbeat_stale, 0);
}

void xb_sync_set_daemon(struct xb_maps *maps, __u32 pid, __u64 timeout_ns)
{
	SYNC_STORE(maps, daemon_pid, pid);
	SYNC_STORE(maps, heartbeat_timeout_ns, timeout_ns);
	if (pid)
		SYNC_STORE(maps, started_ns, xb_monotonic_ns());
}

void xb_sync_set_counters(struct xb_maps *maps, __u32 resyncs, __u32 bad_msgs)
{
	SYNC_STORE(maps, resyncs, resyncs);
	SYNC_STORE(maps, nl_bad_msgs, bad_msgs);
}

void xb_sync_flows_stale(const struct xb_maps *maps)
{
	if (maps && maps->sync)
		__atomic_fetch_add(&maps->sync->flow_epoch, 1, __ATOMIC_SEQ_CST);
}
