// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "log.h"
#include "publish.h"
#include "tss.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/tss.h"

__u64 xb_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The sync record is shared with running BPF programs: single aligned
 * stores, ordered. */
#define SYNC_STORE(maps, field, val) \
	__atomic_store_n(&(maps)->sync->field, (val), __ATOMIC_SEQ_CST)
#define SYNC_LOAD(maps, field) \
	__atomic_load_n(&(maps)->sync->field, __ATOMIC_SEQ_CST)

static int map_put(struct xb_maps *maps, int map, const void *key, const void *val)
{
	if (bpf_map_update_elem(maps->fd[map], key, val, BPF_ANY)) {
		int err = -errno;

		pr_warn("Couldn't update %s: %s\n", xb_map_names[map], strerror(errno));
		return err;
	}
	return 0;
}

static int map_del(struct xb_maps *maps, int map, const void *key)
{
	if (bpf_map_delete_elem(maps->fd[map], key) && errno != ENOENT) {
		int err = -errno;

		pr_warn("Couldn't delete from %s: %s\n", xb_map_names[map], strerror(errno));
		return err;
	}
	return 0;
}

static int publish_policy(struct xb_maps *maps, struct xb_mirror *m, __u32 id)
{
	struct xb_mirror_policy *mp = xb_mirror_policy_by_id(m, id);
	struct xb_tmpl_key tk = { .policy_id = id };
	unsigned int n = mp ? mp->pol.n_tmpls : 0;
	int err = 0;

	if (mp)
		err = map_put(maps, XB_MAP_POLICIES, &id, &mp->pol);
	else
		err = map_del(maps, XB_MAP_POLICIES, &id);
	for (tk.idx = 0; !err && tk.idx < n; tk.idx++)
		err = map_put(maps, XB_MAP_TMPLS, &tk, &mp->tmpls[tk.idx]);
	/* Drop templates a previous version of this slot had. */
	for (tk.idx = n; !err && tk.idx < XB_MAX_TMPLS; tk.idx++)
		err = map_del(maps, XB_MAP_TMPLS, &tk);
	if (mp && !err)
		mp->published_tmpls = n;
	return err;
}

static int reset_policy_stats(struct xb_maps *maps, __u32 id)
{
	struct xb_counter *zero = calloc(maps->n_cpus, sizeof(*zero));
	int err;

	if (!zero)
		return -ENOMEM;
	err = map_put(maps, XB_MAP_POLICY_STATS, &id, zero);
	free(zero);
	return err;
}

static int publish_sa(struct xb_maps *maps, struct xb_mirror *m,
		      const struct xb_sa_key *key)
{
	struct xb_mirror_sa *ms = xb_mirror_sa_find(m, key);

	return ms ? map_put(maps, XB_MAP_SAS, key, &ms->sa) :
		    map_del(maps, XB_MAP_SAS, key);
}

static int publish_spi(struct xb_maps *maps, struct xb_mirror *m,
		       const struct xb_spi_key *key)
{
	struct xb_mirror_spi *s = xb_mirror_spi_find(m, key);
	struct xb_spi_val val;

	if (!s)
		return map_del(maps, XB_MAP_SPIS, key);
	val.n_sas = s->n_sas;
	return map_put(maps, XB_MAP_SPIS, key, &val);
}

static int publish_link(struct xb_maps *maps, struct xb_mirror *m, __u32 key)
{
	struct xb_mirror_link *ml = xb_mirror_link_by_key(m, key);

	return ml ? map_put(maps, XB_MAP_XFRM_LINKS, &key, &ml->link) :
		    map_del(maps, XB_MAP_XFRM_LINKS, &key);
}

static int sink_put_entry(void *ctx, const struct xb_tss_key *key,
			  const struct xb_tss_val *val)
{
	return map_put(ctx, XB_MAP_TSS, key, val);
}

static int sink_del_entry(void *ctx, const struct xb_tss_key *key)
{
	return map_del(ctx, XB_MAP_TSS, key);
}

static int sink_put_list(void *ctx, __u32 idx, const struct xb_shape_list *list)
{
	return map_put(ctx, XB_MAP_SHAPE_LISTS, &idx, list);
}

static int publish_tss(struct xb_maps *maps, struct xb_mirror *m)
{
	struct xb_tss_sink sink = {
		.put_entry = sink_put_entry,
		.del_entry = sink_del_entry,
		.put_list = sink_put_list,
		.ctx = maps,
	};

	if (!m->tss)
		return 0;
	return xb_tss_flush(m->tss, &sink);
}

static int publish_changes(struct xb_maps *maps, struct xb_mirror *m)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < m->stats_reset.n; i++)
		err = reset_policy_stats(maps, *(__u32 *)xb_vec_at(&m->stats_reset, i));
	for (i = 0; !err && i < m->dirty_policies.n; i++)
		err = publish_policy(maps, m, *(__u32 *)xb_vec_at(&m->dirty_policies, i));
	for (i = 0; !err && i < m->dirty_sas.n; i++)
		err = publish_sa(maps, m, xb_vec_at(&m->dirty_sas, i));
	for (i = 0; !err && i < m->dirty_spis.n; i++)
		err = publish_spi(maps, m, xb_vec_at(&m->dirty_spis, i));
	for (i = 0; !err && i < m->dirty_links.n; i++)
		err = publish_link(maps, m, *(__u32 *)xb_vec_at(&m->dirty_links, i));
	if (!err)
		err = publish_tss(maps, m);
	if (!err && m->defaults_dirty) {
		for (i = 0; i < sizeof(m->default_action); i++)
			SYNC_STORE(maps, default_action[i], m->default_action[i]);
	}
	return err;
}

static void publish_counts(struct xb_maps *maps, const struct xb_mirror *m)
{
	SYNC_STORE(maps, n_policies, (__u32)m->policies.count);
	SYNC_STORE(maps, n_sas, (__u32)m->sas.count);
	SYNC_STORE(maps, n_xfrm_links, (__u32)m->links.count);
	SYNC_STORE(maps, shape_overflows, m->tss ? xb_tss_overflows(m->tss) : 0);
}

int xb_publish(struct xb_maps *maps, struct xb_mirror *m)
{
	__u64 seq = SYNC_LOAD(maps, seq);
	int err;

	if (!xb_mirror_has_changes(m))
		return 0;
	/* Odd: readers that overlap this window pass their packets. */
	SYNC_STORE(maps, seq, seq | 1);
	err = publish_changes(maps, m);
	publish_counts(maps, m);
	SYNC_STORE(maps, generation, SYNC_LOAD(maps, generation) + 1);
	SYNC_STORE(maps, seq, (seq | 1) + 1);
	xb_mirror_clear_changes(m);
	if (err) {
		/* A map refused an update: the datapath must not trust it. */
		pr_warn("Publication failed; failing open until the next re-dump\n");
		xb_publish_synced(maps, false);
	}
	return err;
}

static int clear_map(struct xb_maps *maps, int map, size_t key_size)
{
	unsigned char key[64], next[64];
	int fd = maps->fd[map];

	if (key_size > sizeof(key))
		return -E2BIG;
	/* Always restart from the first key: we delete as we go. */
	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	}
	return 0;
}

int xb_publish_clear(struct xb_maps *maps)
{
	static const struct {
		int map;
		size_t key_size;
	} state_maps[] = {
		{ XB_MAP_POLICIES, sizeof(__u32) },
		{ XB_MAP_TMPLS, sizeof(struct xb_tmpl_key) },
		{ XB_MAP_SAS, sizeof(struct xb_sa_key) },
		{ XB_MAP_SPIS, sizeof(struct xb_spi_key) },
		{ XB_MAP_XFRM_LINKS, sizeof(__u32) },
		{ XB_MAP_TSS, sizeof(struct xb_tss_key) },
	};
	struct xb_shape_list empty = {};
	__u64 seq = SYNC_LOAD(maps, seq);
	size_t i;
	__u32 idx;
	int err = 0;

	SYNC_STORE(maps, seq, seq | 1);
	for (i = 0; !err && i < sizeof(state_maps) / sizeof(state_maps[0]); i++)
		err = clear_map(maps, state_maps[i].map, state_maps[i].key_size);
	for (idx = 0; !err && idx < XB_SHAPE_LISTS; idx++)
		err = map_put(maps, XB_MAP_SHAPE_LISTS, &idx, &empty);
	/* A fresh mirror starts from "accept" and publishes only what
	 * differs: the record must start there too. */
	for (i = 0; i < sizeof(maps->sync->default_action); i++)
		SYNC_STORE(maps, default_action[i], XB_DEFAULT_ACCEPT);
	SYNC_STORE(maps, generation, SYNC_LOAD(maps, generation) + 1);
	SYNC_STORE(maps, seq, (seq | 1) + 1);
	if (err)
		pr_warn("Couldn't clear the pinned maps: %s\n", strerror(-err));
	return err;
}

void xb_publish_synced(struct xb_maps *maps, bool synced)
{
	SYNC_STORE(maps, synced, synced ? 1 : 0);
}

void xb_publish_heartbeat(struct xb_maps *maps)
{
	SYNC_STORE(maps, heartbeat_ns, xb_monotonic_ns());
}

void xb_publish_daemon(struct xb_maps *maps, __u32 pid, __u64 timeout_ns)
{
	SYNC_STORE(maps, daemon_pid, pid);
	SYNC_STORE(maps, heartbeat_timeout_ns, timeout_ns);
	if (pid)
		SYNC_STORE(maps, started_ns, xb_monotonic_ns());
}

void xb_publish_counters(struct xb_maps *maps, __u32 resyncs, __u32 bad_msgs)
{
	SYNC_STORE(maps, resyncs, resyncs);
	SYNC_STORE(maps, nl_bad_msgs, bad_msgs);
}
