// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/hashtab.h"

#define XB_HTAB_MIN_BUCKETS 64
/* Nodes a bucket holds on average before the table doubles. Two, not
 * one: each node keeps its full hash, so a longer chain costs compares of
 * hashes, and the bucket array of the daemon's largest tables (policies
 * by kernel index, the builder's buckets by key), 8 bytes a node at a
 * load of one, was ~10 of the bytes a mirrored policy costs. */
#define XB_HTAB_MAX_LOAD 2

/* 32 bits at a time (keys are addresses and ids, 4 to 40 bytes), mixed
 * murmur3-style, then a final avalanche. */
uint32_t xb_hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t h = 2166136261u ^ (uint32_t)len, w;

	for (; len >= 4; len -= 4, p += 4) {
		memcpy(&w, p, 4);
		w *= 0xcc9e2d51u;
		w = (w << 15) | (w >> 17);
		h ^= w * 0x1b873593u;
		h = ((h << 13) | (h >> 19)) * 5 + 0xe6546b64u;
	}
	while (len--)
		h = (h ^ *p++) * 16777619u;
	h ^= h >> 16;
	h *= 0x7feb352d;
	h ^= h >> 15;
	h *= 0x846ca68b;
	h ^= h >> 16;
	return h;
}

static const void *node_key(const struct xb_htab *h, const struct xb_hnode *n)
{
	return (const char *)n + h->key_off;
}

int xb_htab_init(struct xb_htab *h, size_t key_off, size_t key_len)
{
	memset(h, 0, sizeof(*h));
	h->key_off = key_off;
	h->key_len = key_len;
	h->n_buckets = XB_HTAB_MIN_BUCKETS;
	h->buckets = calloc(h->n_buckets, sizeof(*h->buckets));
	return h->buckets ? 0 : -ENOMEM;
}

void xb_htab_fini(struct xb_htab *h)
{
	free(h->buckets);
	h->buckets = NULL;
	h->n_buckets = 0;
	h->count = 0;
}

void xb_htab_free_all(struct xb_htab *h, size_t node_off)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	if (!h->buckets)
		return;
	xb_htab_for_each(h, n, tmp, i)
		free((char *)n - node_off);
	xb_htab_fini(h);
}

static int htab_grow(struct xb_htab *h)
{
	size_t n = h->n_buckets * 2, i;
	struct xb_hnode **b = calloc(n, sizeof(*b));
	struct xb_hnode *node, *tmp;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < h->n_buckets; i++) {
		for (node = h->buckets[i]; node; node = tmp) {
			tmp = node->next;
			node->next = b[node->hash & (n - 1)];
			b[node->hash & (n - 1)] = node;
		}
	}
	free(h->buckets);
	h->buckets = b;
	h->n_buckets = n;
	return 0;
}

struct xb_hnode *xb_htab_find(const struct xb_htab *h, const void *key)
{
	uint32_t hash = xb_hash_bytes(key, h->key_len);
	struct xb_hnode *n;

	for (n = h->buckets[hash & (h->n_buckets - 1)]; n; n = n->next)
		if (n->hash == hash && !memcmp(node_key(h, n), key, h->key_len))
			return n;
	return NULL;
}

int xb_htab_insert(struct xb_htab *h, struct xb_hnode *node)
{
	size_t b;

	if (h->count >= XB_HTAB_MAX_LOAD * h->n_buckets && htab_grow(h))
		return -ENOMEM;
	node->hash = xb_hash_bytes(node_key(h, node), h->key_len);
	b = node->hash & (h->n_buckets - 1);
	node->next = h->buckets[b];
	h->buckets[b] = node;
	h->count++;
	return 0;
}

void xb_htab_remove(struct xb_htab *h, struct xb_hnode *node)
{
	struct xb_hnode **pp = &h->buckets[node->hash & (h->n_buckets - 1)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == node) {
			*pp = node->next;
			node->next = NULL;
			h->count--;
			return;
		}
	}
}
