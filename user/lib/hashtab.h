/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A chained hash table over fixed-size keys, with intrusive nodes: the
 * mirror's policies, SAs and links each embed a struct xb_hnode.
 */
#ifndef XFRMBPF_HASHTAB_H
#define XFRMBPF_HASHTAB_H

#include <stddef.h>
#include <stdint.h>

struct xb_hnode {
	struct xb_hnode *next;
	uint32_t hash;
};

struct xb_htab {
	struct xb_hnode **buckets;
	size_t n_buckets;	/* power of two */
	size_t count;
	size_t key_off;		/* key offset from the node */
	size_t key_len;
};

int xb_htab_init(struct xb_htab *h, size_t key_off, size_t key_len);
void xb_htab_fini(struct xb_htab *h);
/* xb_htab_fini() after free() of every node's allocation, of which the
 * node is the member at node_off. */
void xb_htab_free_all(struct xb_htab *h, size_t node_off);
uint32_t xb_hash_bytes(const void *data, size_t len);
struct xb_hnode *xb_htab_find(const struct xb_htab *h, const void *key);
/* The node's key must not already be in the table. */
int xb_htab_insert(struct xb_htab *h, struct xb_hnode *node);
void xb_htab_remove(struct xb_htab *h, struct xb_hnode *node);

/* Iterate safely against removal of the current node. */
#define xb_htab_for_each(h, node, tmp, i)					\
	for ((i) = 0; (i) < (h)->n_buckets; (i)++)				\
		for ((node) = (h)->buckets ? (h)->buckets[i] : NULL;		\
		     (node) && ((tmp) = (node)->next, 1); (node) = (tmp))

#define xb_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
