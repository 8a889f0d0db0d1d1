/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The candidate-table index of the published tuple-space search
 * (xb_tss_index, include/xfrmbpf/tss.h), kept by the classifier builder:
 * per (list, dimension, region) the table ids that have a bucket there,
 * each with the number of its buckets, so that a bit goes when the last
 * bucket of its table leaves the region.
 *
 * The builder refs a bucket's regions when the bucket is created and
 * unrefs them when it is freed. A publication writes the entries that
 * gained tables before any bucket (xb_tss_index_flush(.., false)) and
 * those that lost tables after the buckets are deleted (.., true): a
 * stale bit only costs a probe, a missing one would hide a bucket. An
 * entry that could not be written (the map is full) counts as missing
 * until it is: its list is then published unindexed, searched in full.
 * Only the lists that will be searched through the index (more than
 * XB_IDX_MIN_TABLES tables) have their entries written.
 */
#ifndef XFRMBPF_TSS_INDEX_H
#define XFRMBPF_TSS_INDEX_H

#include <stdbool.h>
#include "classifier/tss.h"

struct xb_tss_index;

struct xb_tss_index *xb_tss_index_new(void);
void xb_tss_index_free(struct xb_tss_index *idx);

/* The dimensions (bits, 1 << XB_IDX_*) that index a table of shape sh
 * in list list_idx. */
__u8 xb_tss_index_dims(__u32 list_idx, const struct xb_shape *sh);

/* A bucket at key (chunk 0) of a table indexed in dims: refs or unrefs
 * its table id in each dimension's region. Ref returns 0 or -ENOMEM
 * (nothing is then held). */
int xb_tss_index_ref(struct xb_tss_index *idx, const struct xb_tss_key *key,
		     __u8 dims);
void xb_tss_index_unref(struct xb_tss_index *idx, const struct xb_tss_key *key,
			__u8 dims);

/*
 * Writes the entries changed since they were last written (empty ones are
 * deleted) through sink->put_index / del_index. removals: the pass after
 * the buckets were deleted. A failed write is retried at the next flush,
 * and is no error of the publication: until then a failed addition makes
 * its entry missing (xb_tss_index_missing(): the list goes unindexed), a
 * failed removal leaves stale bits, which cost probes only.
 */
void xb_tss_index_flush(struct xb_tss_index *idx, const struct xb_tss_sink *sink,
			bool removals, const bool wanted[XB_SHAPE_LISTS]);
/* Entries of lists that are not wanted (searched without the index) are
 * kept, not written: when list_idx becomes wanted, this makes all of its
 * entries due at the next flush. */
void xb_tss_index_dirty_list(struct xb_tss_index *idx, __u32 list_idx);
/* Entries of list list_idx that the published index lacks. */
__u32 xb_tss_index_missing(const struct xb_tss_index *idx, __u32 list_idx);
/* Entries of list list_idx that hold a table (those left empty go at
 * the next flush). */
__u32 xb_tss_index_entries(const struct xb_tss_index *idx, __u32 list_idx);
/* The published index is gone: every entry is written again. */
void xb_tss_index_forget_published(struct xb_tss_index *idx);

#endif
