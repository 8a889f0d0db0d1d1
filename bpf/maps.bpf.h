/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every pinned map of xfrmbpf, defined once. The mirror creates and pins
 * them (xfrmbpf_maps.bpf.c); the datapath programs include this header and
 * libbpf reuses the pins (LIBBPF_PIN_BY_NAME, same pin_root_path), so both
 * share one set of maps. Keys and values are the named structs of
 * include/xfrmbpf/, so bpftool prints field names.
 */
#ifndef XFRMBPF_MAPS_BPF_H
#define XFRMBPF_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xfrmbpf/limits.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf/spd.h"
#include "xfrmbpf/sad.h"
#include "xfrmbpf/sync.h"
#include "xfrmbpf/tss.h"
#include "xfrmbpf/datapath.h"
#include "sync_map.bpf.h"

/* The maps sized by the policy capacity (xb_policies, xb_scope_pages,
 * xb_tmpl_pages, xb_tmpls, xb_tss, xb_tss_pair, xb_policy_stats) are
 * compiled with XB_MAX_POLICIES; the daemon creates them with `run
 * --max-policies` (user/loader/maps.c) and the datapath takes the pinned
 * sizes. */

/* Mirrored policies in pages of mirror ids (include/xfrmbpf/spd.h), for
 * inspection and `xfrmbpf check`; the datapath does not read them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_POLICY_PAGES(XB_MAX_POLICIES));
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct xb_policy_page);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_policies SEC(".maps");

/* Their scopes, where they have one (include/xfrmbpf/spd.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_SCOPE_PAGES(XB_MAX_POLICIES));
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct xb_scope_page);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_scope_pages SEC(".maps");

/* Their first templates, in pages of their own (include/xfrmbpf/spd.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_TMPL_PAGES(XB_MAX_POLICIES));
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct xb_tmpl_page);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_tmpl_pages SEC(".maps");

/* Templates of the mirrored policies after their first, (policy id,
 * position). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_TMPLS_ENTRIES(XB_MAX_POLICIES));
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xb_tmpl_key);
	__type(value, struct xb_tmpl);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_tmpls SEC(".maps");

/* Mirrored SA identities. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_MAX_SAS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xb_sa_key);
	__type(value, struct xb_sa);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_sas SEC(".maps");

/* (daddr, SPI, proto) known to at least one SA: the unknown_spi test. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_MAX_SAS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xb_spi_key);
	__type(value, struct xb_spi_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_spis SEC(".maps");

/* First sighting of SPIs the maps lack (bpf/spi.bpf.h). LRU: a flood of
 * random SPIs evicts old entries, and an evicted SPI only waits again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XB_MAX_SPI_SEEN);
	__type(key, struct xb_spi_key);
	__type(value, struct xb_spi_seen);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_spi_seen SEC(".maps");

/* XFRM interfaces by if_id; key 0 is the collect_md device. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_MAX_XFRM_LINKS);
	__type(key, __u32);
	__type(value, struct xb_xfrm_link);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_xfrm_links SEC(".maps");

/* Tuple-space search: shape lists by XB_SHAPE_LIST_IDX(). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XB_SHAPE_LISTS);
	__type(key, __u32);
	__type(value, struct xb_shape_list);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_shape_lists SEC(".maps");

/* Tuple-space search: masked 5-tuple -> winning policy. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_MAX_TSS_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xb_tss_key);
	__type(value, struct xb_tss_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_tss SEC(".maps");

/* The same for buckets of at most XB_PAIR_RULES policies (tss.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_MAX_TSS_PAIR_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xb_tss_key);
	__type(value, struct xb_tss_pair_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_tss_pair SEC(".maps");

/* Tuple-space search: candidate tables by region (include/xfrmbpf/tss.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_MAX_TSS_INDEX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xb_tss_idx_key);
	__type(value, struct xb_tss_idx_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_tss_index SEC(".maps");

/* Tuple-space search: presence bitmaps of the xb_tss keys, per list
 * (include/xfrmbpf/tss.h). Mmapable: the mirror sets bits with stores. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XB_TSS_FILTER_ENTRIES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_tss_filter SEC(".maps");

/* Its priority gate: per filter word and class of key, a priority no
 * worse than the best policy of the keys there (include/xfrmbpf/tss.h).
 * Mmapable, as the filter. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XB_TSS_GATE_ENTRIES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xb_tss_gate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_tss_gate SEC(".maps");

/* Attached interfaces and their settings, by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct xb_iface_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_ifaces SEC(".maps");

/* Local ports never dropped inbound (IKE: udp/500, udp/4500). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XB_MAX_BYPASS);
	__type(key, struct xb_bypass_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_bypass SEC(".maps");

/* Counters per (row, reason), by XB_STATS_KEY(): a row per attached
 * interface, one for other devices, one for retired slots
 * (include/xfrmbpf/datapath.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XB_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct xb_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_stats SEC(".maps");

/* Per-policy counters by policy id; the mirror zeroes a slot on reuse. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XB_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct xb_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_policy_stats SEC(".maps");

/* Exact-flow cache in front of the tuple-space search, by block of slots
 * (xb_flow_slot() / XB_FLOW_BLOCK). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XB_FLOW_CACHE_ENTRIES / XB_FLOW_BLOCK);
	__type(key, __u32);
	__type(value, struct xb_flow_block);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_flow_cache SEC(".maps");

/* The tags of xb_flow_cache's slots, by block; sized with it by the
 * loader. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XB_FLOW_CACHE_ENTRIES / XB_FLOW_BLOCK);
	__type(key, __u32);
	__type(value, struct xb_flow_tags);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_flow_tags SEC(".maps");

/* Flow cache hits and misses. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xb_flow_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_flow_stats SEC(".maps");

/* Undecidable packets by cause (include/xfrmbpf/reasons.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xb_undecidable_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_undecidable_stats SEC(".maps");

/* `run --spread-esp`: the CPUs inbound ESP is redirected to, by CPU
 * number (struct bpf_cpumap_val: queue size; each entry has a kernel
 * thread on its CPU). The daemon fills the listed CPUs' entries and
 * empties them all when it stops (user/loader/spread.c). Both spread
 * maps are sized at creation for the possible CPUs, at most
 * XB_MAX_SPREAD_CPUS (xb_spread_maps_fit(), user/loader/maps.c): a
 * cpumap larger than the kernel's NR_CPUS is refused. */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_spread_cpus SEC(".maps");

/* Packets redirected to each target CPU, by its number (per-CPU: the
 * CPU that redirected them). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xb_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_spread_stats SEC(".maps");

/* The heartbeat watchdog's timer (bpf/watchdog.bpf.h). Pinned: the pin
 * keeps the timer running after the daemon is gone, which is when it is
 * needed. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xb_watchdog);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_watchdog SEC(".maps");

/* The ABI stamp of the pins (include/xfrmbpf/abi.h), written by the mirror
 * when it creates or reuses them; never read by the datapath. */
#include "xfrmbpf/abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xb_abi_stamp);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_abi SEC(".maps");

#endif
