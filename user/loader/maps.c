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
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lib/log.h"
#include "loader/bpffs.h"
#include "loader/maps.h"
#include "classifier/tss_filter.h"
#include "xfrmbpf/abi.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/limits.h"
#include "xfrmbpf_maps.skel.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define XB_MAP_NAME(idx, name)	[XB_MAP_##idx] = #name,
const char *const xb_map_names[XB_MAP_COUNT] = { XB_PINNED_MAPS(XB_MAP_NAME) };
#undef XB_MAP_NAME

/* Our own bpffs is mounted only where it outlives this process and every
 * command sees it: not under `ip netns exec`, whose mounts vanish with
 * it (and which hides the host's /sys/fs/bpf). */
static bool may_mount_sys_bpffs(const char *pin_dir)
{
	char ns[128];

	return !strcmp(pin_dir, XB_PIN_DIR_DEFAULT) && !xb_under_ip_netns_exec(ns, sizeof(ns));
}

int xb_pin_dir_where(const char *pin_dir, bool may_mount, char *why, size_t len)
{
	char parent[PATH_MAX], hint[768];
	int err;

	why[0] = '\0';
	xb_path_parent(pin_dir, parent, sizeof(parent));
	if (pin_dir[0] == '/' && !xb_is_bpffs(parent)) {
		if (may_mount && may_mount_sys_bpffs(pin_dir)) {
			/* As iproute2 and libxdp do: mount the usual bpffs. */
			if (!mount("bpf", parent, "bpf", 0, "mode=0700")) {
				pr_info("Mounted a bpffs at %s\n", parent);
				return xb_pin_dir_safe(pin_dir, why, len);
			}
			pr_warn("Couldn't mount a bpffs at %s: %s\n", parent, strerror(errno));
		}
		if (xb_is_bpffs(pin_dir)) {
			size_t n = strlen(pin_dir);

			while (n > 1 && pin_dir[n - 1] == '/')
				n--;
			snprintf(why, len, "%s is the root of a bpffs, the pins go in a directory "
				 "on it: e.g. --pin-dir %.*s/xfrmbpf", pin_dir, (int)n, pin_dir);
			return -ENOENT;
		}
		xb_bpffs_hint(pin_dir, hint, sizeof(hint));
		snprintf(why, len, "%s is not on a bpffs; %s", pin_dir, hint);
		return -ENOENT;
	}
	err = xb_pin_dir_safe(pin_dir, why, len);
	return err;
}

int xb_pin_dir_check(const char *pin_dir, bool may_mount)
{
	char why[1024];
	int err = xb_pin_dir_where(pin_dir, may_mount, why, sizeof(why));

	if (err)
		pr_warn("%s\n", why);
	return err;
}

/* FNV-1a, a byte at a time. */
static void hash_u32(__u32 *h, __u32 v)
{
	int i;

	for (i = 0; i < 4; i++) {
		*h ^= (v >> (8 * i)) & 0xff;
		*h *= 16777619u;
	}
}

/* The shape of type id: kinds, sizes, offsets, element counts and int
 * encodings, through typedefs and qualifiers; names are left out (a
 * renamed field changes no layout), pointers not followed. */
static void hash_btf_type(__u32 *h, const struct btf *btf, __u32 id, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;
	__u16 i;

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || depth > 16) {
		hash_u32(h, ~0u);
		return;
	}
	hash_u32(h, btf_kind(t));
	if (btf_is_int(t)) {
		hash_u32(h, t->size);
		hash_u32(h, btf_int_encoding(t));
		hash_u32(h, btf_int_bits(t));
		hash_u32(h, btf_int_offset(t));
	} else if (btf_is_any_enum(t)) {
		hash_u32(h, t->size);
	} else if (btf_is_array(t)) {
		hash_u32(h, btf_array(t)->nelems);
		hash_btf_type(h, btf, btf_array(t)->type, depth + 1);
	} else if (btf_is_composite(t)) {
		hash_u32(h, t->size);
		hash_u32(h, btf_vlen(t));
		for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++) {
			hash_u32(h, btf_member_bit_offset(t, i));
			hash_u32(h, btf_member_bitfield_size(t, i));
			hash_btf_type(h, btf, m->type, depth + 1);
		}
	}
}

/* The layout of every pinned map as this binary defines them. Sizes that
 * are set at creation (capacity, flow cache) are left out. */
static int layout_hash(__u32 *out)
{
	static __u32 cached;
	static bool have;
	struct xfrmbpf_maps *skel;
	const struct btf *btf;
	__u32 h = 2166136261u;
	int i;

	if (have) {
		*out = cached;
		return 0;
	}
	skel = xfrmbpf_maps__open();
	if (!skel)
		return -errno;
	btf = bpf_object__btf(skel->obj);
	for (i = 0; i < XB_MAP_COUNT; i++) {
		const struct bpf_map *map = bpf_object__find_map_by_name(skel->obj,
									 xb_map_names[i]);
		const char *c;

		if (i == XB_MAP_ABI)
			continue;
		for (c = xb_map_names[i]; *c; c++)
			hash_u32(&h, (unsigned char)*c);
		if (!map) {
			hash_u32(&h, ~0u);
			continue;
		}
		hash_u32(&h, bpf_map__type(map));
		hash_u32(&h, bpf_map__key_size(map));
		hash_u32(&h, bpf_map__value_size(map));
		hash_u32(&h, bpf_map__map_flags(map));
		if (!xb_map_by_capacity(i) && i != XB_MAP_FLOW_CACHE && i != XB_MAP_FLOW_TAGS &&
		    i != XB_MAP_SPREAD_CPUS && i != XB_MAP_SPREAD_STATS)
			hash_u32(&h, bpf_map__max_entries(map));
		if (btf) {
			hash_btf_type(&h, btf, bpf_map__btf_key_type_id(map), 0);
			hash_btf_type(&h, btf, bpf_map__btf_value_type_id(map), 0);
		}
	}
	xfrmbpf_maps__destroy(skel);
	cached = h;
	have = true;
	*out = h;
	return 0;
}

int xb_abi_ours(struct xb_abi_stamp *stamp)
{
	memset(stamp, 0, sizeof(*stamp));
	stamp->magic = XB_ABI_MAGIC;
	stamp->version = XB_ABI_VERSION;
	return layout_hash(&stamp->layout);
}

/* The stamp in the map fd: 0, or -EPROTO when it is no stamp of ours
 * (another map named xb_abi, or never written). */
static int read_stamp(int fd, struct xb_abi_stamp *stamp)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), key = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	/* Read only what fits: the size is checked before the lookup. */
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(key) ||
	    info.value_size != sizeof(*stamp))
		return -EPROTO;
	if (bpf_map_lookup_elem(fd, &key, stamp))
		return -errno;
	if (!stamp->magic && !stamp->version && !stamp->layout)
		return -ENODATA;	/* created, the daemon gone before stamping */
	return stamp->magic == XB_ABI_MAGIC ? 0 : -EPROTO;
}

static bool pinned(const char *pin_dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	return !access(path, F_OK);
}

int xb_abi_check(const char *pin_dir, char *why, size_t len)
{
	struct xb_abi_stamp ours, theirs;
	char path[PATH_MAX];
	int fd, err;

	why[0] = '\0';
	err = xb_abi_ours(&ours);
	if (err) {
		snprintf(why, len, "couldn't open the maps object: %s", strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, xb_map_names[XB_MAP_ABI]);
	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT) {
		/* Only the sync record tells a whole older set from pins
		 * nobody would take for ours. */
		if (!pinned(pin_dir, xb_map_names[XB_MAP_SYNC]))
			return -ENOENT;
		snprintf(why, len, "the pins under %s carry no ABI stamp (an older xfrmbpf made "
			 "them), this xfrmbpf uses ABI %u.%08x: stop the daemon using them and "
			 "remove them with `xfrmbpf --pin-dir %s unload --all`", pin_dir,
			 ours.version, ours.layout, pin_dir);
		return -EPROTO;
	}
	if (fd < 0) {
		err = -errno;
		snprintf(why, len, "couldn't open %s: %s", path, strerror(errno));
		return err;
	}
	err = read_stamp(fd, &theirs);
	close(fd);
	if (err == -ENODATA)
		return -ENOENT;
	if (err == -EPROTO) {
		snprintf(why, len, "%s is no xfrmbpf ABI stamp: the pins under %s are not ours "
			 "(left alone); use another --pin-dir", path, pin_dir);
		return err;
	}
	if (err) {
		snprintf(why, len, "couldn't read %s: %s", path, strerror(-err));
		return err;
	}
	if (theirs.version != ours.version || theirs.layout != ours.layout) {
		snprintf(why, len, "the pins under %s are of xfrmbpf ABI %u.%08x, this xfrmbpf "
			 "uses ABI %u.%08x: stop the daemon using them and remove them with "
			 "`xfrmbpf --pin-dir %s unload --all` (a daemon of this version then "
			 "makes new ones)", pin_dir, theirs.version, theirs.layout, ours.version,
			 ours.layout, pin_dir);
		return -EPROTO;
	}
	return 0;
}

static int write_stamp(const struct xfrmbpf_maps *skel)
{
	struct xb_abi_stamp stamp;
	__u32 key = 0;
	int err = xb_abi_ours(&stamp);

	if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.xb_abi), &key, &stamp, BPF_ANY))
		err = -errno;
	if (err)
		pr_warn("Couldn't write the ABI stamp: %s\n", strerror(-err));
	return err;
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
	       (__u64)n_cpus * (sizeof(struct xb_flow_block) + sizeof(struct xb_flow_tags)) *
	       ((1U << bits) / XB_FLOW_BLOCK) >
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
		if ((__u64)info.max_entries * XB_FLOW_BLOCK == 1U << bits)
			return (int)bits;
	pr_warn("%s has %u blocks of %u slots, not a power of two from 2^%d to 2^%d "
		"(pins of another version? `xfrmbpf unload --all` removes them)\n",
		path, info.max_entries, XB_FLOW_BLOCK, XB_FLOW_CACHE_MIN_BITS,
		XB_FLOW_CACHE_BITS);
	return -EINVAL;
}

int xb_flow_cache_fit(struct bpf_map *cache, struct bpf_map *tags,
		      const char *pin_dir)
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
	err = bpf_map__set_max_entries(cache, (1U << bits) / XB_FLOW_BLOCK);
	if (!err)
		err = bpf_map__set_max_entries(tags, (1U << bits) / XB_FLOW_BLOCK);
	return err ? err : bits;
}

/* The maps sized by the policy capacity (`run --max-policies`). */
static const enum xb_map_idx capacity_maps[] = {
	XB_MAP_POLICIES, XB_MAP_SCOPE_PAGES, XB_MAP_TMPL_PAGES, XB_MAP_TMPLS, XB_MAP_TSS, XB_MAP_TSS_PAIR,
	XB_MAP_TSS_INDEX, XB_MAP_POLICY_STATS,
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
	case XB_MAP_POLICIES:
		return XB_POLICY_PAGES(max_policies);
	case XB_MAP_SCOPE_PAGES:
		return XB_SCOPE_PAGES(max_policies);
	case XB_MAP_TMPL_PAGES:
		return XB_TMPL_PAGES(max_policies);
	case XB_MAP_TMPLS:
		return XB_TMPLS_ENTRIES(max_policies);
	case XB_MAP_TSS:
		return XB_TSS_ENTRIES(max_policies);
	case XB_MAP_TSS_PAIR:
		return XB_TSS_PAIR_ENTRIES(max_policies);
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
		if (capacity_maps[i] == XB_MAP_POLICY_STATS)
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

__u32 xb_spread_map_entries(void)
{
	int n = libbpf_num_possible_cpus();

	if (n < 1)
		return 1;
	return n > XB_MAX_SPREAD_CPUS ? XB_MAX_SPREAD_CPUS : (__u32)n;
}

/* The spread maps for the possible CPUs: the same size in every object
 * that loads on the pins, and never past NR_CPUS (the cpumap's limit). */
static int spread_maps_fit(struct bpf_object *obj)
{
	static const char *const names[] = { "xb_spread_cpus", "xb_spread_stats" };
	int i, ret;

	for (i = 0; i < (int)ARRAY_SIZE(names); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, names[i]);

		if (!map)
			continue;
		ret = bpf_map__set_max_entries(map, xb_spread_map_entries());
		if (ret)
			return ret;
	}
	return 0;
}

int xb_maps_fit_capacity(struct bpf_object *obj, const char *pin_dir, __u32 max_policies)
{
	__u32 entries;
	int i, ret;

	ret = spread_maps_fit(obj);
	if (ret)
		return ret;

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
	char why[512];
	int err;

	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_warn("Couldn't create %s: %s\n", pin_dir, strerror(errno));
		return err;
	}
	/* Pins of another ABI are never reused nor re-created here: an
	 * attached datapath of that version may still read them. A
	 * directory with some of our names but no sync record (a creation
	 * cut short) is taken as it is, where libbpf finds it fits. */
	err = xb_abi_check(pin_dir, why, sizeof(why));
	if (err && err != -ENOENT) {
		pr_warn("%s\n", why);
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
	err = xb_flow_cache_fit(skel->maps.xb_flow_cache, skel->maps.xb_flow_tags, pin_dir);
	if (err >= 0)
		err = xb_maps_fit_capacity(skel->obj, pin_dir, max_policies);
	err = err < 0 ? err : xfrmbpf_maps__load(skel);
	if (err)
		pr_warn("Couldn't create or reuse the maps under %s: %s "
			"(pins of another version? `xfrmbpf unload --all` removes them)\n",
			pin_dir, strerror(-err));
	else
		err = write_stamp(skel);
	if (!err)
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
	int err;

	if (!f)
		return -ENOMEM;
	err = xb_tss_filter_map(f, maps->fd[XB_MAP_TSS_FILTER],
				maps->fd[XB_MAP_TSS_GATE]);
	if (err) {
		pr_warn("Couldn't map xb_tss_filter and xb_tss_gate: %s\n", strerror(-err));
		free(f);
		return err;
	}
	maps->filter = f;
	return 0;
}

int xb_maps_open(struct xb_maps *maps, const char *pin_dir, bool writable)
{
	char path[PATH_MAX], why[512];
	int i, err;

	for (i = 0; i < XB_MAP_COUNT; i++)
		maps->fd[i] = -1;
	maps->sync = NULL;
	maps->filter = NULL;
	maps->n_cpus = libbpf_num_possible_cpus();
	if (maps->n_cpus < 0)
		return maps->n_cpus;
	/* Maps of another layout are never read (nor written). */
	err = xb_abi_check(pin_dir, why, sizeof(why));
	if (err) {
		if (err != -ENOENT)
			pr_debug("%s\n", why);
		return err;
	}
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

		/* a counter slot per policy id */
		if (bpf_obj_get_info_by_fd(maps->fd[XB_MAP_POLICY_STATS], &info, &len)) {
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
		xb_tss_filter_unmap(maps->filter);
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
	return xb_pins_remove(pin_dir, true);
}

int xb_pins_remove(const char *pin_dir, bool and_dir)
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
	if (and_dir && rmdir(pin_dir) && errno != ENOENT && errno != ENOTEMPTY)
		err = -errno;
	return err;
}

/* What the BPF object behind fd is: "map", "link", "prog" (from its
 * fdinfo), or NULL. */
static const char *bpf_fd_kind(int fd)
{
	char path[64], line[128];
	const char *kind = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	while (!kind && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "map_type:", 9))
			kind = "map";
		else if (!strncmp(line, "link_type:", 10))
			kind = "link";
		else if (!strncmp(line, "prog_type:", 10))
			kind = "prog";
	}
	fclose(f);
	return kind;
}

/* Is the pin at path, of our name `name`, the object we pin there: a map
 * the kernel names so (its first BPF_OBJ_NAME_LEN - 1 characters), or
 * the exit watch's raw tracepoint link? */
static bool pin_is_ours(const char *path, const char *name)
{
	int fd = bpf_obj_get(path);
	const char *kind;
	bool ours = false;

	if (fd < 0)
		return false;
	kind = bpf_fd_kind(fd);
	if (!strcmp(name, XB_EXIT_WATCH_PIN)) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		ours = kind && !strcmp(kind, "link") &&
		       !bpf_obj_get_info_by_fd(fd, &info, &len) &&
		       info.type == BPF_LINK_TYPE_RAW_TRACEPOINT;
	} else if (kind && !strcmp(kind, "map")) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		size_t want = strlen(name) < BPF_OBJ_NAME_LEN - 1 ? strlen(name) :
				BPF_OBJ_NAME_LEN - 1;

		ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
		       strlen(info.name) == want && !strncmp(info.name, name, want);
	}
	close(fd);
	return ours;
}

int xb_pin_dir_remove_ours(const char *pin_dir, int *kept)
{
	char path[PATH_MAX];
	int i, err = 0;

	_Static_assert(XB_MAP_ABI == XB_MAP_COUNT - 1, "xb_abi is the last pinned map");
	*kept = 0;
	/* The exit watch first, the stamp (the last map) last. */
	for (i = -1; i < XB_MAP_COUNT; i++) {
		const char *name = i < 0 ? XB_EXIT_WATCH_PIN : xb_map_names[i];

		snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
		if (access(path, F_OK))
			continue;
		if (!pin_is_ours(path, name)) {
			pr_warn("%s is not a pin of ours: left in place\n", path);
			(*kept)++;
			continue;
		}
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	if (rmdir(pin_dir) && errno != ENOENT && errno != ENOTEMPTY)
		err = -errno;
	return err;
}

int xb_maps_open_checked(struct xb_maps *maps, const char *pin_dir, char *why, size_t len)
{
	int err;

	for (err = 0; err < XB_MAP_COUNT; err++)
		maps->fd[err] = -1;
	maps->sync = NULL;
	maps->filter = NULL;
	err = xb_pin_dir_where(pin_dir, false, why, len);
	if (err)
		return err;
	err = xb_maps_open(maps, pin_dir, false);
	if (err == -EPROTO || (err && err != -ENOENT && err != -EPERM && err != -EACCES))
		if (xb_abi_check(pin_dir, why, len) != -EPROTO)
			snprintf(why, len, "couldn't open the maps under %s: %s", pin_dir,
				 strerror(-err));
	return err;
}
