/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The tuple-space search published into real BPF maps, for tests and
 * benchmarks that run the datapath (BPF_PROG_TEST_RUN) on what the
 * builder produced:
 *
 *	struct xb_tss_maps maps = { .tss_fd = bpf_map__fd(skel->maps.xb_tss),
 *				    .pair_fd = bpf_map__fd(skel->maps.xb_tss_pair),
 *				    .lists_fd = bpf_map__fd(skel->maps.xb_shape_lists),
 *				    .index_fd = bpf_map__fd(skel->maps.xb_tss_index) };
 *	struct xb_tss_sink sink;
 *	xb_tss_maps_sink(&maps, &sink);
 *	xb_tss_flush(tss, &sink);	// bpf_map_update_elem / _delete_elem
 *
 * xb_tss_maps_source() reads the maps back (bpf_map_lookup_elem), so
 * xb_tss_lookup() can run on them too. xb_tss_maps_create() makes private
 * maps of the pinned maps' types and sizes when no skeleton is at hand.
 */
#ifndef XFRMBPF_TSS_SINK_MAPS_H
#define XFRMBPF_TSS_SINK_MAPS_H

#include "classifier/tss.h"
#include "tss_reader.h"
#include "classifier/tss_filter.h"

struct xb_tss_maps {
	int tss_fd;		/* xb_tss: struct xb_tss_key -> struct xb_tss_val */
	/* xb_tss_pair, or 0: every bucket goes to xb_tss */
	int pair_fd;
	int lists_fd;		/* xb_shape_lists: __u32 -> struct xb_shape_list */
	/* xb_tss_index, or 0 (left out of an initializer): no index, every
	 * list is published unindexed */
	int index_fd;
	/* the presence filter the sink keeps (user/classifier/tss_filter.h), or NULL:
	 * a datapath that has one needs it filled */
	struct xb_tss_filter *filter;
	bool owned;		/* created by xb_tss_maps_create() */
};

void xb_tss_maps_sink(struct xb_tss_maps *maps, struct xb_tss_sink *sink);
void xb_tss_maps_source(struct xb_tss_maps *maps, struct xb_tss_source *src);

/* Returns 0 or -errno (e.g. -EPERM without CAP_BPF). */
int xb_tss_maps_create(struct xb_tss_maps *maps);
/* Closes the fds only when created here. */
void xb_tss_maps_close(struct xb_tss_maps *maps);

/* Deletes every xb_tss (xb_tss_pair, xb_tss_index) entry and zeroes every list (before a republish
 * after a failed flush: see xb_tss_forget_published()). */
int xb_tss_maps_clear(struct xb_tss_maps *maps);

#endif
