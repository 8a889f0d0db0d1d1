// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A published tuple-space search in memory (tss_mem.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/hashtab.h"
#include "tss_mem.h"
#include "classifier/tss_index.h"

struct mem_ent {
	struct xb_hnode node;
	struct xb_tss_key key;
	struct xb_tss_val val;
};

struct mem_idx {
	struct xb_hnode node;
	struct xb_tss_idx_key key;
	struct xb_tss_idx_val val;
};

struct xb_tss_mem {
	struct xb_htab ents;
	struct xb_htab index;
	size_t index_limit;	/* entries xb_tss_index may hold, 0: any */
	struct xb_shape_list lists[XB_SHAPE_LISTS];
	struct xb_tss_mem_stats stats;
};

static int mem_put_entry(void *ctx, const struct xb_tss_key *key,
			 const struct xb_tss_val *val)
{
	struct xb_tss_mem *m = ctx;
	struct xb_hnode *n = xb_htab_find(&m->ents, key);
	struct mem_ent *e;
	int err;

	m->stats.puts++;
	if (n) {
		xb_container_of(n, struct mem_ent, node)->val = *val;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->key = *key;
	e->val = *val;
	err = xb_htab_insert(&m->ents, &e->node);
	if (err)
		free(e);
	return err;
}

static int mem_del_entry(void *ctx, const struct xb_tss_key *key)
{
	struct xb_tss_mem *m = ctx;
	struct xb_hnode *n = xb_htab_find(&m->ents, key);

	m->stats.dels++;
	if (!n)
		return -ENOENT;
	xb_htab_remove(&m->ents, n);
	free(xb_container_of(n, struct mem_ent, node));
	return 0;
}

static int mem_put_list(void *ctx, __u32 idx, const struct xb_shape_list *l)
{
	struct xb_tss_mem *m = ctx;

	m->stats.list_puts++;
	if (idx >= XB_SHAPE_LISTS)
		return -E2BIG;
	m->lists[idx] = *l;
	return 0;
}

static int mem_put_index(void *ctx, const struct xb_tss_idx_key *key,
			 const struct xb_tss_idx_val *val)
{
	struct xb_tss_mem *m = ctx;
	struct xb_hnode *n = xb_htab_find(&m->index, key);
	struct mem_idx *e;
	int err;

	if (n) {
		xb_container_of(n, struct mem_idx, node)->val = *val;
		return 0;
	}
	/* as a full BPF hash map answers */
	if (m->index_limit && m->index.count >= m->index_limit)
		return -E2BIG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->key = *key;
	e->val = *val;
	err = xb_htab_insert(&m->index, &e->node);
	if (err)
		free(e);
	return err;
}

static int mem_del_index(void *ctx, const struct xb_tss_idx_key *key)
{
	struct xb_tss_mem *m = ctx;
	struct xb_hnode *n = xb_htab_find(&m->index, key);

	if (!n)
		return -ENOENT;
	xb_htab_remove(&m->index, n);
	free(xb_container_of(n, struct mem_idx, node));
	return 0;
}

static int mem_get_index(void *ctx, const struct xb_tss_idx_key *key,
			 struct xb_tss_idx_val *val)
{
	struct xb_tss_mem *m = ctx;
	struct xb_hnode *n = xb_htab_find(&m->index, key);

	if (!n)
		return -ENOENT;
	*val = xb_container_of(n, struct mem_idx, node)->val;
	return 0;
}

static int mem_get_entry(void *ctx, const struct xb_tss_key *key,
			 struct xb_tss_val *val)
{
	struct xb_tss_mem *m = ctx;
	struct xb_hnode *n = xb_htab_find(&m->ents, key);

	if (!n)
		return -ENOENT;
	*val = xb_container_of(n, struct mem_ent, node)->val;
	return 0;
}

static int mem_get_list(void *ctx, __u32 idx, struct xb_shape_list *l)
{
	struct xb_tss_mem *m = ctx;

	if (idx >= XB_SHAPE_LISTS)
		return -ENOENT;
	*l = m->lists[idx];
	return 0;
}

struct xb_tss_mem *xb_tss_mem_new(void)
{
	struct xb_tss_mem *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (xb_htab_init(&m->ents, offsetof(struct mem_ent, key) -
			 offsetof(struct mem_ent, node),
			 sizeof(struct xb_tss_key)) ||
	    xb_htab_init(&m->index, offsetof(struct mem_idx, key) -
			 offsetof(struct mem_idx, node),
			 sizeof(struct xb_tss_idx_key))) {
		xb_htab_fini(&m->ents);
		free(m);
		return NULL;
	}
	return m;
}

void xb_tss_mem_free(struct xb_tss_mem *m)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	if (!m)
		return;
	xb_htab_for_each(&m->ents, n, tmp, i)
		free(xb_container_of(n, struct mem_ent, node));
	xb_htab_for_each(&m->index, n, tmp, i)
		free(xb_container_of(n, struct mem_idx, node));
	xb_htab_fini(&m->ents);
	xb_htab_fini(&m->index);
	free(m);
}

void xb_tss_mem_sink(struct xb_tss_mem *m, struct xb_tss_sink *sink)
{
	sink->put_entry = mem_put_entry;
	/* every bucket in its xb_tss form */
	sink->put_pair = NULL;
	sink->del_pair = NULL;
	sink->del_entry = mem_del_entry;
	sink->put_list = mem_put_list;
	sink->put_index = mem_put_index;
	sink->del_index = mem_del_index;
	sink->ctx = m;
}

void xb_tss_mem_source(struct xb_tss_mem *m, struct xb_tss_source *src)
{
	src->get_entry = mem_get_entry;
	src->get_list = mem_get_list;
	src->get_index = mem_get_index;
	src->gated = NULL;
	src->ctx = m;
}

size_t xb_tss_mem_count(const struct xb_tss_mem *m)
{
	return m->ents.count;
}

size_t xb_tss_mem_index_count(const struct xb_tss_mem *m)
{
	return m->index.count;
}

void xb_tss_mem_set_index_limit(struct xb_tss_mem *m, size_t limit)
{
	m->index_limit = limit;
}

void xb_tss_mem_get_stats(const struct xb_tss_mem *m,
			  struct xb_tss_mem_stats *stats)
{
	*stats = m->stats;
}

int xb_tss_mem_for_each(const struct xb_tss_mem *m,
			int (*fn)(void *arg, const struct xb_tss_key *key,
				  const struct xb_tss_val *val),
			void *arg)
{
	struct xb_hnode *n, *tmp;
	size_t i;
	int err;

	xb_htab_for_each(&m->ents, n, tmp, i) {
		struct mem_ent *e = xb_container_of(n, struct mem_ent, node);

		err = fn(arg, &e->key, &e->val);
		if (err)
			return err;
	}
	return 0;
}

/* Adds the regions of one published bucket (chunk 0) to the index built
 * from scratch in arg. */
static int expect_bucket(void *arg, const struct xb_tss_key *key,
			 const struct xb_tss_val *val)
{
	struct xb_tss_mem *want = arg;
	const struct xb_shape_list *l;
	struct xb_tss_idx_val v;
	struct xb_tss_idx_key k;
	__u32 d, pos, id = key->shape_id;
	struct xb_hnode *n;
	__u8 dims;
	int err;

	(void)val;
	if (key->list >= XB_SHAPE_LISTS || id >= XB_TABLE_IDS)
		return 0;	/* a further chunk: the same regions */
	l = &want->lists[key->list];
	pos = l->pos_of_id[id];
	if (pos >= XB_MAX_TABLES)
		return -EINVAL;	/* a bucket of no published table */
	dims = xb_tss_index_dims(key->list, &l->shapes[pos]);
	for (d = 0; d < XB_IDX_DIMS; d++) {
		if (!(dims & 1U << d))
			continue;
		memset(&k, 0, sizeof(k));
		k.list = key->list;
		k.dim = d;
		if (d == XB_IDX_SRC)
			xb_idx_addr_region(&k, key->saddr.a[0], key->saddr.a[1],
					   key->list % XB_FAM_MAX == XB_FAM_V6);
		else if (d == XB_IDX_DST)
			xb_idx_addr_region(&k, key->daddr.a[0], key->daddr.a[1],
					   key->list % XB_FAM_MAX == XB_FAM_V6);
		else
			xb_idx_port_region(&k, key->proto, key->dport);
		n = xb_htab_find(&want->index, &k);
		memset(&v, 0, sizeof(v));
		if (n)
			v = xb_container_of(n, struct mem_idx, node)->val;
		v.ids[id / 64] |= 1ULL << (id % 64);
		err = mem_put_index(want, &k, &v);
		if (err)
			return err;
	}
	return 0;
}

static unsigned int popcount_val(const struct xb_tss_idx_val *v)
{
	unsigned int j, n = 0;

	for (j = 0; j < XB_TABLE_ID_WORDS; j++)
		n += __builtin_popcountll(v->ids[j]);
	return n;
}

int xb_tss_mem_check_index(const struct xb_tss_mem *m, unsigned long *missing,
			   unsigned long *stale)
{
	struct xb_tss_mem *want = xb_tss_mem_new();
	struct xb_tss_idx_val none = { { 0 } }, diff;
	struct xb_hnode *n, *tmp, *o;
	unsigned int j;
	size_t i;
	int err;

	*missing = *stale = 0;
	if (!want)
		return -ENOMEM;
	memcpy(want->lists, m->lists, sizeof(m->lists));
	err = xb_tss_mem_for_each(m, expect_bucket, want);
	/* expected bits the published index lacks, for indexed lists */
	xb_htab_for_each(&want->index, n, tmp, i) {
		const struct mem_idx *e = xb_container_of(n, struct mem_idx, node);
		const struct xb_tss_idx_val *have = &none;

		if (err || !m->lists[e->key.list].indexed)
			continue;
		o = xb_htab_find(&m->index, &e->key);
		if (o)
			have = &xb_container_of(o, struct mem_idx, node)->val;
		for (j = 0; j < XB_TABLE_ID_WORDS; j++)
			diff.ids[j] = e->val.ids[j] & ~have->ids[j];
		*missing += popcount_val(&diff);
	}
	/* published bits no bucket calls for */
	xb_htab_for_each(&m->index, n, tmp, i) {
		const struct mem_idx *e = xb_container_of(n, struct mem_idx, node);
		const struct xb_tss_idx_val *need = &none;

		if (err)
			break;
		o = xb_htab_find(&want->index, &e->key);
		if (o)
			need = &xb_container_of(o, struct mem_idx, node)->val;
		for (j = 0; j < XB_TABLE_ID_WORDS; j++)
			diff.ids[j] = e->val.ids[j] & ~need->ids[j];
		*stale += popcount_val(&diff);
	}
	xb_tss_mem_free(want);
	return err;
}
