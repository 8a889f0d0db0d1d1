// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The candidate-table index of the classifier (tss_index.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/hashtab.h"
#include "classifier/tss_index.h"

/* A table in an entry, and how many of its buckets lie in the region. */
struct idx_table {
	__u16 id;
	__u32 buckets;
};

struct idx_ent {
	struct xb_hnode node;
	struct xb_tss_idx_key key;
	struct idx_table *tables;
	__u32 n;
	__u32 cap;
	bool dirty;
	bool published;
	bool missing;		/* the map lacks what the entry holds */
};

struct xb_tss_index {
	struct xb_htab ents;
	struct idx_ent **dirty;
	__u32 n_dirty;
	__u32 cap_dirty;
	__u32 n_entries[XB_SHAPE_LISTS];	/* entries holding a table */
	__u32 n_missing[XB_SHAPE_LISTS];
};

struct xb_tss_index *xb_tss_index_new(void)
{
	struct xb_tss_index *idx = calloc(1, sizeof(*idx));

	if (idx && xb_htab_init(&idx->ents, offsetof(struct idx_ent, key) -
				offsetof(struct idx_ent, node),
				sizeof(struct xb_tss_idx_key))) {
		free(idx);
		return NULL;
	}
	return idx;
}

static void ent_free(struct idx_ent *e)
{
	free(e->tables);
	free(e);
}

void xb_tss_index_free(struct xb_tss_index *idx)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	if (!idx)
		return;
	xb_htab_for_each(&idx->ents, n, tmp, i)
		ent_free(xb_container_of(n, struct idx_ent, node));
	xb_htab_fini(&idx->ents);
	free(idx->dirty);
	free(idx);
}

__u8 xb_tss_index_dims(__u32 list_idx, const struct xb_shape *sh)
{
	int v6 = list_idx % XB_FAM_MAX == XB_FAM_V6;
	__u8 dims = 0;
	__u32 d;

	for (d = 0; d < XB_IDX_DIMS; d++)
		if (xb_idx_indexes(d, sh->prefixlen_s, sh->prefixlen_d,
				   sh->proto_mask, sh->dport_mask, v6))
			dims |= 1U << d;
	return dims;
}

/* The region of a bucket key in dimension dim. */
static void region_key(const struct xb_tss_key *key, __u32 dim,
		       struct xb_tss_idx_key *k)
{
	int v6 = key->list % XB_FAM_MAX == XB_FAM_V6;

	memset(k, 0, sizeof(*k));
	k->list = key->list;
	k->dim = dim;
	if (dim == XB_IDX_SRC)
		xb_idx_addr_region(k, key->saddr.a[0], key->saddr.a[1], v6);
	else if (dim == XB_IDX_DST)
		xb_idx_addr_region(k, key->daddr.a[0], key->daddr.a[1], v6);
	else
		xb_idx_port_region(k, key->proto, key->dport);
}

static int mark_dirty(struct xb_tss_index *idx, struct idx_ent *e)
{
	if (e->dirty)
		return 0;
	if (idx->n_dirty == idx->cap_dirty) {
		__u32 cap = idx->cap_dirty ? 2 * idx->cap_dirty : 64;
		struct idx_ent **d = realloc(idx->dirty, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		idx->dirty = d;
		idx->cap_dirty = cap;
	}
	e->dirty = true;
	idx->dirty[idx->n_dirty++] = e;
	return 0;
}

static struct idx_ent *ent_get(struct xb_tss_index *idx,
			       const struct xb_tss_idx_key *k)
{
	struct xb_hnode *n = xb_htab_find(&idx->ents, k);
	struct idx_ent *e;

	if (n)
		return xb_container_of(n, struct idx_ent, node);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = *k;
	if (xb_htab_insert(&idx->ents, &e->node)) {
		free(e);
		return NULL;
	}
	return e;
}

static struct idx_table *ent_table(struct idx_ent *e, __u16 id)
{
	__u32 i;

	for (i = 0; i < e->n; i++)
		if (e->tables[i].id == id)
			return &e->tables[i];
	return NULL;
}

/* Adds a bucket of table id to the entry; a new table dirties it. */
static int ent_ref(struct xb_tss_index *idx, struct idx_ent *e, __u16 id)
{
	struct idx_table *t = ent_table(e, id);

	if (t) {
		t->buckets++;
		return 0;
	}
	if (e->n == e->cap) {
		__u32 cap = e->cap ? 2 * e->cap : 2;
		struct idx_table *v = realloc(e->tables, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->tables = v;
		e->cap = cap;
	}
	/* dirty first: a table that could not be published must not be
	 * counted as held */
	if (mark_dirty(idx, e))
		return -ENOMEM;
	e->tables[e->n].id = id;
	e->tables[e->n].buckets = 1;
	if (!e->n++)
		idx->n_entries[e->key.list]++;
	return 0;
}

/* Drops a bucket of table id; the last one dirties the entry. */
static void ent_unref(struct xb_tss_index *idx, struct idx_ent *e, __u16 id)
{
	struct idx_table *t = ent_table(e, id);

	if (!t || --t->buckets)
		return;
	*t = e->tables[--e->n];
	if (!e->n)
		idx->n_entries[e->key.list]--;
	/* On ENOMEM the bit stays published: a stale bit costs a probe. */
	(void)mark_dirty(idx, e);
}

void xb_tss_index_unref(struct xb_tss_index *idx, const struct xb_tss_key *key,
			__u8 dims)
{
	struct xb_tss_idx_key k;
	struct xb_hnode *n;
	__u32 d;

	for (d = 0; d < XB_IDX_DIMS; d++) {
		if (!(dims & 1U << d))
			continue;
		region_key(key, d, &k);
		n = xb_htab_find(&idx->ents, &k);
		if (n)
			ent_unref(idx, xb_container_of(n, struct idx_ent, node),
				  key->shape_id);
	}
}

int xb_tss_index_ref(struct xb_tss_index *idx, const struct xb_tss_key *key,
		     __u8 dims)
{
	struct xb_tss_idx_key k;
	struct idx_ent *e;
	__u32 d;

	for (d = 0; d < XB_IDX_DIMS; d++) {
		if (!(dims & 1U << d))
			continue;
		region_key(key, d, &k);
		e = ent_get(idx, &k);
		if (!e || ent_ref(idx, e, key->shape_id)) {
			/* an empty new entry goes at the next flush */
			if (e)
				(void)mark_dirty(idx, e);
			xb_tss_index_unref(idx, key, dims & ((1U << d) - 1));
			return -ENOMEM;
		}
	}
	return 0;
}

static void ent_value(const struct idx_ent *e, struct xb_tss_idx_val *v)
{
	__u32 i, id;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < e->n; i++) {
		id = e->tables[i].id;
		v->ids[id / 64] |= 1ULL << (id % 64);
	}
}

static void set_missing(struct xb_tss_index *idx, struct idx_ent *e, bool missing)
{
	if (e->missing == missing)
		return;
	e->missing = missing;
	if (missing)
		idx->n_missing[e->key.list]++;
	else
		idx->n_missing[e->key.list]--;
}

/* Writes one entry, or deletes it when it holds no table; false when it
 * is to be written again. */
static bool ent_publish(struct xb_tss_index *idx, struct idx_ent *e,
			const struct xb_tss_sink *sink, bool removals)
{
	struct xb_tss_idx_val v;
	int err = 0;

	if (!e->n) {
		if (e->published)
			err = sink->del_index(sink->ctx, &e->key);
		if (err && err != -ENOENT)
			return false;	/* the bits stay, stale */
		set_missing(idx, e, false);
		xb_htab_remove(&idx->ents, &e->node);
		ent_free(e);
		return true;
	}
	ent_value(e, &v);
	if (!sink->put_index(sink->ctx, &e->key, &v)) {
		e->published = true;
		set_missing(idx, e, false);
		return true;
	}
	/* A failed addition leaves the list without its bits: it goes
	 * unindexed. A failed removal only leaves stale bits. */
	if (!removals)
		set_missing(idx, e, true);
	return false;
}

void xb_tss_index_flush(struct xb_tss_index *idx, const struct xb_tss_sink *sink,
			bool removals, const bool wanted[XB_SHAPE_LISTS])
{
	__u32 i, kept = 0;

	if (!sink->put_index || !sink->del_index)
		return;
	for (i = 0; i < idx->n_dirty; i++) {
		struct idx_ent *e = idx->dirty[i];

		e->dirty = false;
		/* a list searched without its index needs none published;
		 * xb_tss_index_dirty_list() brings it when it is wanted */
		if (!wanted[e->key.list] && !e->published) {
			set_missing(idx, e, false);
			if (!e->n) {
				xb_htab_remove(&idx->ents, &e->node);
				ent_free(e);
			}
			continue;
		}
		if (!ent_publish(idx, e, sink, removals)) {
			e->dirty = true;
			idx->dirty[kept++] = e;
		}
	}
	idx->n_dirty = kept;
}

void xb_tss_index_dirty_list(struct xb_tss_index *idx, __u32 list_idx)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	xb_htab_for_each(&idx->ents, n, tmp, i) {
		struct idx_ent *e = xb_container_of(n, struct idx_ent, node);

		/* on ENOMEM the entry is missing: its list stays unindexed */
		if (e->key.list == list_idx && mark_dirty(idx, e))
			set_missing(idx, e, true);
	}
}

__u32 xb_tss_index_missing(const struct xb_tss_index *idx, __u32 list_idx)
{
	return idx->n_missing[list_idx];
}

__u32 xb_tss_index_entries(const struct xb_tss_index *idx, __u32 list_idx)
{
	return idx->n_entries[list_idx];
}

void xb_tss_index_forget_published(struct xb_tss_index *idx)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	xb_htab_for_each(&idx->ents, n, tmp, i) {
		struct idx_ent *e = xb_container_of(n, struct idx_ent, node);

		e->published = false;
		/* on ENOMEM the entry is missing: its list goes unindexed */
		if (mark_dirty(idx, e))
			set_missing(idx, e, true);
	}
}
