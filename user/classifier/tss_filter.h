/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The presence filter of the published tuple-space search and its priority
 * gate (see include/xfrmbpf/tss.h), written straight into the mmapped
 * xb_tss_filter and xb_tss_gate maps inside a publication: a key's bits
 * are set, and its word's gate lowered to the key's, when the key is
 * published.
 * A deleted key leaves its bits (other keys may share them); a list whose
 * stale bits have come to outnumber its live keys is rebuilt from the
 * keys in xb_tss, so that the false positives stay few and the cost of a
 * rebuild stays in proportion to the deletions that called for it.
 */
#ifndef XFRMBPF_TSS_FILTER_H
#define XFRMBPF_TSS_FILTER_H

#include <linux/types.h>
#include "xfrmbpf/tss.h"

struct xb_tss_filter {
	__u64 *words;			/* XB_TSS_FILTER_ENTRIES, mmapped */
	struct xb_tss_gate *gate;	/* XB_TSS_GATE_ENTRIES, mmapped */
	__u32 added[XB_SHAPE_LISTS];	/* puts since the last rebuild */
	__u32 stale[XB_SHAPE_LISTS];	/* deletions since then */
	__u32 live[XB_SHAPE_LISTS];	/* keys at the last rebuild */
	__u32 rebuilds;
};

/* words, gate: the mapped filter and gate (both or neither); cleared here
 * (no bits, no key). */
void xb_tss_filter_init(struct xb_tss_filter *f, __u64 *words,
			struct xb_tss_gate *gate);
/* A key published in the map of class cls (enum xb_tss_class), with the
 * gate of its value (xb_tss_val_gate(), xb_tss_pair_gate()). */
void xb_tss_filter_add(struct xb_tss_filter *f, const struct xb_tss_key *key,
		       __u32 cls, __u32 gate);
void xb_tss_filter_del(struct xb_tss_filter *f, const struct xb_tss_key *key);
/* Rebuilds the lists that need it from the keys of the maps xb_tss
 * (tss_fd) and xb_tss_pair (pair_fd, -1 for none). Call inside the
 * publication that made the deletions. Returns 0 or -errno (the filter
 * then errs on the side of set bits only). */
int xb_tss_filter_maintain(struct xb_tss_filter *f, int tss_fd, int pair_fd);

/* Maps the filter and gate maps (created BPF_F_MMAPABLE) into f for
 * writing, without clearing them; 0 or -errno. xb_tss_filter_unmap()
 * undoes it. */
int xb_tss_filter_map(struct xb_tss_filter *f, int filter_fd, int gate_fd);
void xb_tss_filter_unmap(struct xb_tss_filter *f);

#endif
