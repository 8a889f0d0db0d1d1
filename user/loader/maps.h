/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The pinned maps under the pin directory: creating them (the maps-only
 * skeleton), opening them by path, the bpffs checks and the instance lock.
 */
#ifndef XFRMBPF_MAPS_H
#define XFRMBPF_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include "xfrmbpf/sync.h"

/* Every pinned map, once: X(index suffix, pin name). The BPF objects
 * define them (bpf/maps.bpf.h); this is the order of struct xb_maps.fd,
 * and an index names a full map in xb_sync (append only). xb_abi, the
 * ABI stamp, is checked before any other is opened. */
#define XB_PINNED_MAPS(X)			\
	X(SYNC, xb_sync)			\
	X(POLICIES, xb_policies)		\
	X(TMPLS, xb_tmpls)			\
	X(SAS, xb_sas)				\
	X(SPIS, xb_spis)			\
	X(XFRM_LINKS, xb_xfrm_links)		\
	X(SHAPE_LISTS, xb_shape_lists)		\
	X(TSS, xb_tss)				\
	X(TSS_INDEX, xb_tss_index)		\
	X(IFACES, xb_ifaces)			\
	X(BYPASS, xb_bypass)			\
	X(STATS, xb_stats)			\
	X(POLICY_STATS, xb_policy_stats)	\
	X(FLOW_CACHE, xb_flow_cache)		\
	X(FLOW_STATS, xb_flow_stats)		\
	X(UNDECIDABLE_STATS, xb_undecidable_stats) \
	X(TSS_FILTER, xb_tss_filter)		\
	X(WATCHDOG, xb_watchdog)		\
	X(SPI_SEEN, xb_spi_seen)		\
	X(SPREAD_CPUS, xb_spread_cpus)		\
	X(SPREAD_STATS, xb_spread_stats)	\
	X(TSS_PAIR, xb_tss_pair)		\
	X(TMPL_PAGES, xb_tmpl_pages)		\
	X(TSS_GATE, xb_tss_gate)		\
	X(SCOPE_PAGES, xb_scope_pages)		\
	X(FLOW_TAGS, xb_flow_tags)		\
	X(ABI, xb_abi)

/* The pinned link of the watch on the daemon's exit (bpf/exit_watch.bpf.h),
 * beside the maps. */
#define XB_EXIT_WATCH_PIN	"xb_exit_watch"

#define XB_MAP_ENUM(idx, name)	XB_MAP_##idx,
enum xb_map_idx {
	XB_PINNED_MAPS(XB_MAP_ENUM)
	XB_MAP_COUNT
};
#undef XB_MAP_ENUM

struct xb_tss_filter;

struct xb_maps {
	int fd[XB_MAP_COUNT];
	struct xb_sync *sync;	/* mmapped xb_sync, writable maps only */
	/* The mmapped xb_tss_filter and its bookkeeping, writable maps
	 * only (user/classifier/tss_filter.h). */
	struct xb_tss_filter *filter;
	int n_cpus;
	/* Policies the maps hold: xb_policy_stats' size (`run --max-policies`). */
	__u32 max_policies;
};

extern const char *const xb_map_names[XB_MAP_COUNT];

struct bpf_map;
struct bpf_object;

/* log2 of the flow cache's slots per CPU for n_cpus CPUs: the most that
 * keeps all the CPUs' caches within XB_FLOW_CACHE_BUDGET. */
__u32 xb_flow_cache_bits(int n_cpus);

/* Sizes the flow cache's definition in an object about to be loaded on
 * pin_dir's maps, and its tags' (xb_flow_tags) to match: as the pinned
 * cache when there is one, else from the number of possible CPUs
 * (limits.h). Returns log2 of its slots, or a negative errno. */
int xb_flow_cache_fit(struct bpf_map *cache, struct bpf_map *tags,
		      const char *pin_dir);

/* Is pin_dir a place for our pins: an absolute path whose parent is a
 * bpffs (may_mount: /sys/fs/bpf mounted when it is the default location,
 * nothing is mounted there and this is not `ip netns exec`), and safe
 * (xb_pin_dir_safe(), loader/bpffs.h)? 0, or a negative errno with why,
 * one line that says what to do. */
int xb_pin_dir_where(const char *pin_dir, bool may_mount, char *why, size_t len);
/* The same, why printed as a warning. */
int xb_pin_dir_check(const char *pin_dir, bool may_mount);

struct xb_abi_stamp;
/* This binary's ABI stamp (include/xfrmbpf/abi.h). */
int xb_abi_ours(struct xb_abi_stamp *stamp);
/* The pins' stamp against ours: 0 when equal; -ENOENT when there is none
 * and no sync record either (no pins, or a creation cut short); -EPROTO
 * when it differs, is missing beside a sync record (an older xfrmbpf) or
 * is no stamp of ours; why says which and how to clear them. */
int xb_abi_check(const char *pin_dir, char *why, size_t len);
/* Is map idx sized by the policy capacity (`run --max-policies`)? */
bool xb_map_by_capacity(int idx);
/* Entries of the capacity-sized map idx (the pages of xb_policies,
 * xb_scope_pages and xb_tmpl_pages, xb_tmpls, xb_tss, xb_tss_pair,
 * xb_policy_stats) for max_policies policies. */
__u32 xb_capacity_map_entries(int idx, __u32 max_policies);
/* Entries of xb_spread_cpus and xb_spread_stats: the possible CPUs, at
 * most XB_MAX_SPREAD_CPUS. */
__u32 xb_spread_map_entries(void);
/* Size the capacity-sized maps of obj (and the spread maps, by the
 * possible CPUs), about to be loaded on pin_dir's
 * maps: as the pinned ones where there are pins, else for max_policies
 * (0: as compiled). pin_dir NULL: no pins. */
int xb_maps_fit_capacity(struct bpf_object *obj, const char *pin_dir, __u32 max_policies);
/* Create (or reuse) every pinned map under pin_dir, the capacity-sized
 * ones for max_policies policies, and arm the heartbeat watchdog's timer
 * (or re-arm it with this version's program). Pins sized for another
 * capacity are re-created when no loaded program uses them; -EBUSY (with
 * a message naming --max-policies) when one does. */
int xb_maps_create(const char *pin_dir, __u32 max_policies);
/* Open every pinned map, after checking their ABI stamp (-EPROTO, see
 * xb_abi_check()). writable: also mmap the sync record and the presence
 * filter (left as it is: xb_publish_clear() empties it). */
int xb_maps_open(struct xb_maps *maps, const char *pin_dir, bool writable);
/* For the commands: xb_pin_dir_where() (no mount), then xb_maps_open()
 * read-only. On error why says what is wrong when more than "no maps"
 * (-ENOENT, why empty) or a permission (-EPERM/-EACCES) is. */
int xb_maps_open_checked(struct xb_maps *maps, const char *pin_dir, char *why, size_t len);
void xb_maps_close(struct xb_maps *maps);
/* Read the sync record (through the map, consistent copy). */
int xb_maps_read_sync(const struct xb_maps *maps, struct xb_sync *out);
/* Every CPU's value of key in the per-CPU map `map`: maps->n_cpus values
 * of value_size bytes, for free(). NULL with *err set (-errno) when the
 * lookup fails. */
void *xb_maps_lookup_percpu(const struct xb_maps *maps, int map, const void *key,
			    size_t value_size, int *err);

/* flock() on the pin directory: one daemon per pin directory. Returns the
 * lock fd, or -EBUSY when another process holds it. */
int xb_pin_dir_lock(const char *pin_dir);
/* Remove every pin of our names under pin_dir, then the directory when
 * that leaves it empty. */
int xb_pin_dir_remove(const char *pin_dir);
/* The same; and_dir false: the directory stays. */
int xb_pins_remove(const char *pin_dir, bool and_dir);
/* `unload --all`: the same, but only pins that are ours: all our names
 * when the directory holds our ABI stamp (any version); without one, only
 * those that are maps of our kernel name or our exit watch's link (an
 * xfrmbpf older than the stamp). Nothing else in the directory is
 * touched. *kept: how many of our names were left, not being ours. */
int xb_pin_dir_remove_ours(const char *pin_dir, int *kept);

#endif
