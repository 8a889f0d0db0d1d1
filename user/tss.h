/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Userspace side of the tuple-space search (include/xfrmbpf/tss.h): keeps,
 * for every view, the shapes and buckets of the mirrored policies, and
 * emits the map changes that make the published xb_tss / xb_shape_lists
 * equal to it. Incremental: adding or deleting one policy touches only its
 * buckets and, when the shape order changes, its shape list.
 */
#ifndef XFRMBPF_TSS_BUILD_H
#define XFRMBPF_TSS_BUILD_H

#include <stdbool.h>
#include "xfrmbpf/spd.h"
#include "xfrmbpf/tss.h"

struct xb_tss;

/* Where changes go: the BPF maps in production, memory in tests. */
struct xb_tss_sink {
	int (*put_entry)(void *ctx, const struct xb_tss_key *key,
			 const struct xb_tss_val *val);
	int (*del_entry)(void *ctx, const struct xb_tss_key *key);
	int (*put_list)(void *ctx, __u32 list_idx,
			const struct xb_shape_list *list);
	void *ctx;
};

struct xb_tss *xb_tss_new(void);
void xb_tss_free(struct xb_tss *tss);

/* pol->id and pol->pos must be set (the mirror assigns them). The policy is
 * copied; it is identified by pol->id afterwards. */
int xb_tss_add(struct xb_tss *tss, const struct xb_policy *pol);
int xb_tss_del(struct xb_tss *tss, __u32 policy_id);

/* Send every change since the last flush to the sink. */
int xb_tss_flush(struct xb_tss *tss, const struct xb_tss_sink *sink);

/* Number of shape lists that overflowed XB_MAX_SHAPES. */
unsigned int xb_tss_overflows(const struct xb_tss *tss);

#endif
