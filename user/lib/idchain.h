/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Chains of u32 indices over elements that live in an array: a head per
 * hash slot, and in each element the index of the next one of its chain.
 * Four bytes a head and a link, where struct xb_htab costs each element a
 * node (a pointer and a hash) and each bucket a pointer: for what there is
 * one of per policy (the mirror's slots, the classifier's buckets).
 *
 * The owner keeps the links and the keys: it tells where an element's
 * link is and what its hash is (struct xb_idchain_elems), and walks a
 * chain itself from xb_idchain_head() to compare keys.
 */
#ifndef XFRMBPF_IDCHAIN_H
#define XFRMBPF_IDCHAIN_H

#include <stddef.h>
#include <linux/types.h>

#define XB_IDCHAIN_END	0xffffffffU

struct xb_idchain {
	__u32 *heads;		/* first index of each chain, or XB_IDCHAIN_END */
	__u32 bits;		/* log2 of the heads */
	size_t count;		/* elements linked */
};

struct xb_idchain_elems {
	/* where element idx keeps the index of the next of its chain */
	__u32 *(*link)(void *ctx, __u32 idx);
	/* its hash: any 32 bits, the head is picked by a multiplicative
	 * hash of them */
	__u32 (*hash)(void *ctx, __u32 idx);
	void *ctx;
};

/* 1 << bits empty heads (bits >= 1); -ENOMEM. */
int xb_idchain_init(struct xb_idchain *c, __u32 bits);
void xb_idchain_fini(struct xb_idchain *c);

/* The head of the chain of the elements of hash `hash`. */
static inline __u32 *xb_idchain_head(const struct xb_idchain *c, __u32 hash)
{
	return &c->heads[(hash * 0x9e3779b1U) >> (32 - c->bits)];
}

/* Twice the heads once the chains hold two elements a head on average,
 * relinking every element; -ENOMEM leaves them as they were (longer
 * chains, still correct). */
int xb_idchain_grow(struct xb_idchain *c, const struct xb_idchain_elems *e);
/* Element idx at the front of its chain. */
void xb_idchain_link(struct xb_idchain *c, const struct xb_idchain_elems *e, __u32 idx);
/* Element idx out of its chain; nothing when it is in none. */
void xb_idchain_unlink(struct xb_idchain *c, const struct xb_idchain_elems *e, __u32 idx);

#endif
