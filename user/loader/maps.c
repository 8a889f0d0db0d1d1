// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/log.h"
#include "loader/bpffs.h"
#include "loader/maps.h"
#include "classifier/tss_filter.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/limits.h"
#include "xfrmbpf_maps.skel.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define XB_MAP_NAME(idx, name)	[XB_MAP_##idx] = #name,
const char *const xb_map_names[XB_MAP_COUNT] = { XB_PINNED_MAPS(XB_MAP_NAME) };
#undef XB_MAP_NAME

static void parent_dir(const char *path, char *out, size_t len)
{
	char *slash;

	snprintf(out, len, "%s", path);
	slash = strrchr(out, '/');
	if (slash && slash != out)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
}

int xb_pin_dir_check(const char *pin_dir, bool may_mount)
{
	char parent[PATH_MAX];

	parent_dir(pin_dir, parent, sizeof(parent));
	if (xb_is_bpffs(parent))
		return 0;
	if (may_mount && !strcmp(pin_dir, XB_PIN_DIR_DEFAULT)) {
		/* As iproute2 and libxdp do: mount the usual bpffs. */
		if (!mount("bpf", parent, "bpf", 0, "mode=0700")) {
			pr_info("Mounted a bpffs at %s\n", parent);
			return 0;
		}
		pr_warn("Couldn't mount a bpffs at %s: %s\n", parent, strerror(errno));
	}
	pr_warn("%s is not on a bpffs; mount one with: mount -t bpf bpf %s\n",
		pin_dir, parent);
	return -ENOENT;
}

/*
 * Arms the heartbeat watchdog (bpf/watchdog.bpf.h) by running its XDP
 * program once on a dummy frame. The timer then lives in the pinned
 * xb_watchdog, beyond this skeleton and this process.
 */
static int arm_watchdog(const struct xfrmbpf_maps *skel)
{
	unsigned char frame[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xb_watchdog_arm), &opts);
	if (err) {
		err = -errno;
		pr_warn("Couldn't arm the heartbeat watchdog: %s\n", strerror(errno));
		return err;
	}
	if (opts.retval != XDP_PASS) {
		pr_warn("Couldn't arm the heartbeat watchdog (bpf_timer refused)\n");
		return -EINVAL;
	}
	return 0;
}

/*
 * Pins the watch on the daemon's exit (bpf/exit_watch.bpf.h) in place of
 * an earlier daemon's. Without it (a kernel that refuses it), a dead
 * daemon is noticed when its heartbeat goes stale.
 */
static void pin_exit_watch(const struct xfrmbpf_maps *skel, const char *pin_dir)
{
	char path[PATH_MAX];
	struct bpf_link *link;

	link = bpf_program__attach_raw_tracepoint(skel->progs.xb_exit_watch,
						  "sched_process_exit");
	if (!link) {
		pr_warn("Couldn't watch for the daemon's exit (%s): a dead daemon is noticed "
			"only when its heartbeat times out\n", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XB_EXIT_WATCH_PIN);
	if ((unlink(path) && errno != ENOENT) || bpf_link__pin(link, path))
		pr_warn("Couldn't pin the watch on the daemon's exit at %s (%s): a dead daemon "
			"is noticed only when its heartbeat times out\n", path, strerror(errno));
	/* pinned, the link outlives this descriptor and this process */
	bpf_link__destroy(link);
}

/* A CPU of a bigger machine gets fewer slots, and also sees fewer of the
 * flows: the NIC spreads them over its queues. */
__u32 xb_flow_cache_bits(int n_cpus)
{
	__u32 bits = XB_FLOW_CACHE_BITS;

	while (bits > XB_FLOW_CACHE_MIN_BITS &&
	       (__u64)n_cpus * sizeof(struct xb_flow_entry) << bits >
	       XB_FLOW_CACHE_BUDGET)
		bits--;
	return bits;
}

/* log2 of the slots of the pinned flow cache, 0 when there is none. */
static int pinned_flow_cache_bits(const char *pin_dir)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), bits;
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", pin_dir,
		 xb_map_names[XB_MAP_FLOW_CACHE]);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	err = err ? -errno : 0;
	close(fd);
	if (err)
		return err;
	for (bits = XB_FLOW_CACHE_MIN_BITS; bits <= XB_FLOW_CACHE_BITS; bits++)
		if (info.max_entries == 1U << bits)
			return (int)bits;
	pr_warn("%s has %u slots, not a power of two from 2^%d to 2^%d "
		"(pins of another version? `xfrmbpf unload --all` removes them)\n",
		path, info.max_entries, XB_FLOW_CACHE_MIN_BITS, XB_FLOW_CACHE_BITS);
	return -EINVAL;
}

int xb_flow_cache_fit(struct bpf_map *map, const char *pin_dir)
{
	int bits, n_cpus, err;

	bits = pinned_flow_cache_bits(pin_dir);
	if (bits < 0)
		return bits;
	if (!bits) {
		n_cpus = libbpf_num_possible_cpus();
		if (n_cpus < 0)
			return n_cpus;
		bits = (int)xb_flow_cache_bits(n_cpus);
	}
	err = bpf_map__set_max_entries(map, 1U << bits);
	return err ? err : bits;
}

/* The maps sized by the policy capacity (`run --max-policies`). */
static const enum xb_map_idx capacity_maps[] = {
	XB_MAP_POLICIES, XB_MAP_TMPLS, XB_MAP_TSS, XB_MAP_TSS_INDEX,
	XB_MAP_POLICY_STATS,
};

bool xb_map_by_capacity(int idx)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(capacity_maps); i++)
		if ((int)capacity_maps[i] == idx)
			return true;
	return false;
}

__u32 xb_capacity_map_entries(int idx, __u32 max_policies)
{
	switch (idx) {
	case XB_MAP_TMPLS:
		return XB_TMPLS_ENTRIES(max_policies);
	case XB_MAP_TSS:
		return XB_TSS_ENTRIES(max_policies);
	case XB_MAP_TSS_INDEX:
		return XB_TSS_INDEX_ENTRIES(max_policies);
	default:
		return max_policies;
	}
}

/* max_entries and id of the pinned map idx: 1, 0 when there is no pin,
 * or a negative errno. */
static int pinned_map_info(const char *pin_dir, int idx, __u32 *entries, __u32 *id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, xb_map_names[idx]);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 1;
	close(fd);
	*entries = info.max_entries;
	if (id)
		*id = info.id;
	return err;
}

/* Does a loaded program (attached, or held by someone) use one of the
 * maps of ids[]? */
static bool maps_in_use(const __u32 *ids, int n)
{
	__u32 prog_id = 0;

	while (!bpf_prog_get_next_id(prog_id, &prog_id)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info), map_ids[64], i;
		int fd = bpf_prog_get_fd_by_id(prog_id), j;
		bool used = false;

		if (fd < 0)
			continue;
		info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
		info.map_ids = (__u64)(unsigned long)map_ids;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			if (info.nr_map_ids > sizeof(map_ids) / sizeof(map_ids[0]))
				info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
			for (i = 0; i < info.nr_map_ids && !used; i++)
				for (j = 0; j < n && !used; j++)
					used = map_ids[i] == ids[j];
		}
		close(fd);
		if (used)
			return true;
	}
	return false;
}

/*
 * Pins of an earlier run sized for another capacity: re-created when no
 * program uses them (their contents are the mirror's, re-published
 * anyway), refused otherwise: an attached datapath would keep the old
 * maps.
 */
static int fit_pinned_capacity(const char *pin_dir, __u32 max_policies)
{
	__u32 ids[ARRAY_SIZE(capacity_maps)], entries, found = 0;
	int i, n = 0, ret;
	bool differ = false;
	char path[PATH_MAX];

	for (i = 0; i < (int)ARRAY_SIZE(capacity_maps); i++) {
		ret = pinned_map_info(pin_dir, capacity_maps[i], &entries, &ids[n]);
		if (ret < 0)
			return ret;
		if (!ret)
			continue;
		n++;
		if (capacity_maps[i] == XB_MAP_POLICIES)
			found = entries;
		if (entries != xb_capacity_map_entries(capacity_maps[i], max_policies))
			differ = true;
	}
	if (!differ)
		return 0;
	if (maps_in_use(ids, n)) {
		pr_warn("The maps under %s are sized for %u policies and a loaded program "
			"uses them: run with --max-policies %u, or detach it first "
			"(`xfrmbpf unload --all`)\n", pin_dir, found, found);
		return -EBUSY;
	}
	pr_info("Re-creating the maps under %s for %u policies (they were sized for %u)\n",
		pin_dir, max_policies, found);
	for (i = 0; i < (int)ARRAY_SIZE(capacity_maps); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, xb_map_names[capacity_maps[i]]);
		if (unlink(path) && errno != ENOENT) {
			ret = -errno;
			pr_warn("Couldn't remove %s: %s\n", path, strerror(errno));
			return ret;
		}
	}
	return 0;
}

int xb_maps_fit_capacity(struct bpf_object *obj, const char *pin_dir, __u32 max_policies)
{
	__u32 entries;
	int i, ret;

	for (i = 0; i < (int)ARRAY_SIZE(capacity_maps); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj,
						xb_map_names[capacity_maps[i]]);

		if (!map)
			continue;
		ret = pin_dir ? pinned_map_info(pin_dir, capacity_maps[i], &entries, NULL) : 0;
		if (ret < 0)
			return ret;
		if (!ret) {
			if (!max_policies)
				continue;	/* as compiled */
			entries = xb_capacity_map_entries(capacity_maps[i], max_policies);
		}
		ret = bpf_map__set_max_entries(map, entries);
		if (ret)
			return ret;
	}
	return 0;
}

int xb_maps_create(const char *pin_dir, __u32 max_policies)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct xfrmbpf_maps *skel;
	int err;

	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_warn("Couldn't create %s: %s\n", pin_dir, strerror(errno));
		return err;
	}
	err = fit_pinned_capacity(pin_dir, max_policies);
	if (err)
		return err;
	skel = xfrmbpf_maps__open_opts(&opts);
	if (!skel) {
		err = -errno;
		pr_warn("Couldn't open the maps object: %s\n", strerror(errno));
		return err;
	}
	err = xb_flow_cache_fit(skel->maps.xb_flow_cache, pin_dir);
	if (err >= 0)
		err = xb_maps_fit_capacity(skel->obj, pin_dir, max_policies);
	err = err < 0 ? err : xfrmbpf_maps__load(skel);
	if (err)
		pr_warn("Couldn't create or reuse the maps under %s: %s "
			"(pins of another version? `xfrmbpf unload --all` removes them)\n",
			pin_dir, strerror(-err));
	else
		err = arm_watchdog(skel);
	if (!err)
		pin_exit_watch(skel, pin_dir);
	/* The pins keep the maps (and the watchdog's timer its program);
	 * the skeleton is not needed any more. */
	xfrmbpf_maps__destroy(skel);
	return err;
}

static int open_filter(struct xb_maps *maps)
{
	struct xb_tss_filter *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->words = xb_tss_filter_map(maps->fd[XB_MAP_TSS_FILTER]);
	if (!f->words) {
		int err = -errno;

		pr_warn("Couldn't map xb_tss_filter: %s\n", strerror(errno));
		free(f);
		return err;
	}
	maps->filter = f;
	return 0;
}

int xb_maps_open(struct xb_maps *maps, const char *pin_dir, bool writable)
{
	char path[PATH_MAX];
	int i, err;

	for (i = 0; i < XB_MAP_COUNT; i++)
		maps->fd[i] = -1;
	maps->sync = NULL;
	maps->filter = NULL;
	maps->n_cpus = libbpf_num_possible_cpus();
	if (maps->n_cpus < 0)
		return maps->n_cpus;
	for (i = 0; i < XB_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, xb_map_names[i]);
		maps->fd[i] = bpf_obj_get(path);
		if (maps->fd[i] < 0) {
			err = -errno;
			pr_debug("Couldn't open %s: %s\n", path, strerror(errno));
			xb_maps_close(maps);
			return err;
		}
	}
	{
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(maps->fd[XB_MAP_POLICIES], &info, &len)) {
			err = -errno;
			xb_maps_close(maps);
			return err;
		}
		maps->max_policies = info.max_entries;
	}
	if (writable) {
		void *p = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
			       MAP_SHARED, maps->fd[XB_MAP_SYNC], 0);

		if (p == MAP_FAILED) {
			err = -errno;
			pr_warn("Couldn't map the sync record: %s\n", strerror(errno));
			xb_maps_close(maps);
			return err;
		}
		maps->sync = p;
		err = open_filter(maps);
		if (err) {
			xb_maps_close(maps);
			return err;
		}
	}
	return 0;
}

void xb_maps_close(struct xb_maps *maps)
{
	int i;

	if (maps->sync)
		munmap(maps->sync, sysconf(_SC_PAGESIZE));
	maps->sync = NULL;
	if (maps->filter) {
		xb_tss_filter_unmap(maps->filter->words);
		free(maps->filter);
		maps->filter = NULL;
	}
	for (i = 0; i < XB_MAP_COUNT; i++) {
		if (maps->fd[i] >= 0)
			close(maps->fd[i]);
		maps->fd[i] = -1;
	}
}

int xb_maps_read_sync(const struct xb_maps *maps, struct xb_sync *out)
{
	__u32 key = 0;

	if (bpf_map_lookup_elem(maps->fd[XB_MAP_SYNC], &key, out))
		return -errno;
	return 0;
}

void *xb_maps_lookup_percpu(const struct xb_maps *maps, int map, const void *key,
			    size_t value_size, int *err)
{
	void *v = calloc(maps->n_cpus, value_size);

	*err = 0;
	if (!v) {
		*err = -ENOMEM;
		return NULL;
	}
	if (bpf_map_lookup_elem(maps->fd[map], key, v)) {
		*err = -errno;
		free(v);
		return NULL;
	}
	return v;
}

int xb_pin_dir_lock(const char *pin_dir)
{
	int fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return err;
	}
	return fd;
}

int xb_pin_dir_remove(const char *pin_dir)
{
	char path[PATH_MAX];
	int i, err = 0;

	for (i = 0; i < XB_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, xb_map_names[i]);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XB_EXIT_WATCH_PIN);
	if (unlink(path) && errno != ENOENT)
		err = -errno;
	if (rmdir(pin_dir) && errno != ENOENT && errno != ENOTEMPTY)
		err = -errno;
	return err;
}
