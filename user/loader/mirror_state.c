// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "classifier/tss.h"
#include "loader/mirror_state.h"
#include "xfrmbpf/datapath.h"

const char *const xb_unsynced_reasons[] = {
	"no_daemon", "heartbeat_stale", "over_capacity", "map_full", "dumping", NULL,
};

const struct xb_iface_flag xb_iface_flags[] = {
	{ XB_IF_GENERIC, "generic_xdp" },
	{ XB_IF_STACKED, "stacked" },
	{ XB_IF_TC_INGRESS, "tc_ingress" },
	{ XB_IF_NF_INGRESS, "netfilter_ingress" },
	{ XB_IF_NF_PREROUTING4, "netfilter_prerouting_ipv4" },
	{ XB_IF_NF_PREROUTING6, "netfilter_prerouting_ipv6" },
	{ XB_IF_DISABLE_POLICY4, "disable_policy_ipv4" },
	{ XB_IF_DISABLE_POLICY6, "disable_policy_ipv6" },
	{}
};

/* Is the daemon that wrote the record still alive? */
static bool daemon_alive(const struct xb_sync *s)
{
	char path[64];
	FILE *f;
	bool alive;

	if (!s->daemon_pid)
		return false;
	snprintf(path, sizeof(path), "/proc/%u/comm", s->daemon_pid);
	f = fopen(path, "r");
	alive = f != NULL;
	if (f)
		fclose(f);
	return alive;
}

/* The map the daemon found full (XB_UNSYNCED_MAP_FULL), or NULL. */
static const char *full_map_name(const struct xb_sync *s)
{
	__u32 map = s->unsynced_reason - XB_UNSYNCED_MAP_FULL;

	return s->unsynced_reason >= XB_UNSYNCED_MAP_FULL && map < XB_MAP_COUNT ?
	       xb_map_names[map] : NULL;
}

/* Why the datapath does not trust the mirror, as a key; NULL when it
 * does. */
static const char *unsynced_reason(const struct xb_sync *s, bool synced, bool alive,
				   bool fresh)
{
	if (synced)
		return NULL;
	if (!alive)
		return "no_daemon";
	if (!fresh || s->heartbeat_stale)
		return "heartbeat_stale";
	if (s->unsynced_reason == XB_UNSYNCED_OVER_CAPACITY)
		return "over_capacity";
	if (full_map_name(s))
		return "map_full";
	return "dumping";
}

void xb_sync_view(const struct xb_sync *s, __u64 now_ns, struct xb_sync_view *v)
{
	bool fresh = false;

	memset(v, 0, sizeof(*v));
	v->daemon_running = daemon_alive(s);
	if (s->heartbeat_ns && now_ns >= s->heartbeat_ns) {
		v->has_heartbeat = true;
		v->heartbeat_age_ns = now_ns - s->heartbeat_ns;
		fresh = v->heartbeat_age_ns <= s->heartbeat_timeout_ns;
	}
	/* As the datapath sees it: a stale heartbeat fails open too. The
	 * watchdog's flag may lag the age by one of its ticks. */
	v->synced = s->synced && v->daemon_running && fresh && !s->heartbeat_stale;
	v->unsynced_reason = unsynced_reason(s, v->synced, v->daemon_running, fresh);
	if (v->unsynced_reason && !strcmp(v->unsynced_reason, "map_full"))
		v->full_map = full_map_name(s);
}

void xb_shape_lists_read(const struct xb_maps *maps,
			 struct xb_shape_list lists[XB_SHAPE_LISTS])
{
	__u32 i;

	for (i = 0; i < XB_SHAPE_LISTS; i++)
		if (bpf_map_lookup_elem(maps->fd[XB_MAP_SHAPE_LISTS], &i, &lists[i]))
			memset(&lists[i], 0, sizeof(lists[i]));
}

void xb_policy_counts(const struct xb_shape_list lists[XB_SHAPE_LISTS],
		      __u64 n[XFRM_POLICY_FWD + 1][XB_FAM_MAX])
{
	unsigned int dir, ptype;
	int view, fam;

	memset(n, 0, sizeof(__u64) * (XFRM_POLICY_FWD + 1) * XB_FAM_MAX);
	for (dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_FWD; dir++) {
		view = xb_tss_dir_view(dir);
		for (ptype = 0; view >= 0 && ptype < XB_PTYPE_MAX; ptype++)
			for (fam = 0; fam < XB_FAM_MAX; fam++)
				n[dir][fam] += lists[XB_SHAPE_LIST_IDX(view, ptype, fam)].n_policies +
					       lists[XB_SHAPE_LIST_IDX(view, ptype, fam)].n_out_of_view;
	}
}
