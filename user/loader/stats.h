/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The datapath's counters: xb_stats read back from the kernel (one row
 * of per-reason counters per attached interface, one for other devices,
 * one for retired slots; include/xfrmbpf/datapath.h), and what `stats`,
 * `classify` and the attach code make of them.
 */
#ifndef XFRMBPF_STATS_H
#define XFRMBPF_STATS_H

#include "loader/maps.h"
#include "xfrmbpf/datapath.h"

/* A copy of xb_stats, as the kernel lays it out: per key, one counter
 * per possible CPU. */
struct xb_stats {
	int n_cpus;
	struct xb_counter *v;	/* XB_STATS_ENTRIES * n_cpus */
};

/* An interface's counters, derived from its row. */
struct xb_iface_counters {
	__u64 rx_packets;	/* every packet XDP saw */
	__u64 passed;
	__u64 dropped;
	__u64 steered;		/* redirected by TC steering */
};

/* The name `stats` and `classify` print for a reason (XB_REASONS);
 * "unknown" outside them. */
const char *xb_reason_name(unsigned int reason);
/* The name of an undecidable cause (XB_UNDECIDABLE_CAUSES), and a line
 * saying what it means. */
const char *xb_cause_name(unsigned int cause);
const char *xb_cause_help(unsigned int cause);
/* Read all of xb_stats; free with xb_stats_free(). */
int xb_stats_read(const struct xb_maps *maps, struct xb_stats *s);
void xb_stats_free(struct xb_stats *s);
/* One row, per reason, summed over CPUs. */
void xb_stats_row(const struct xb_stats *s, __u32 row, struct xb_counter *out);
/* Per reason, summed over every row and CPU. */
void xb_stats_totals(const struct xb_stats *s, struct xb_counter *out);
/* One CPU's packets per reason, over every row. */
void xb_stats_cpu_packets(const struct xb_stats *s, int cpu, __u64 *out);
/* The interface view of a row (XB_R_MAX counters). */
void xb_stats_iface(const struct xb_counter *row, struct xb_iface_counters *out);
/* xb_flow_stats summed over CPUs. */
int xb_flow_stats_read(const struct xb_maps *maps, struct xb_flow_stats *out);
/* xb_undecidable_stats summed over CPUs. */
int xb_undecidable_stats_read(const struct xb_maps *maps, struct xb_undecidable_stats *out);
/* Hand row to a new device: its counts move into XB_STATS_ROW_RETIRED
 * (per CPU), then it starts at zero. */
int xb_stats_retire_row(const struct xb_maps *maps, __u32 row);

/* Packets and bytes redirected to each target CPU, summed over the CPUs
 * that redirected them: out[cpu] for cpu < n (at most the map's size,
 * xb_spread_map_entries()). Returns how many were read, or -errno. */
int xb_spread_stats_read(const struct xb_maps *maps, struct xb_counter *out, __u32 n);

#endif
