// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A published tuple-space search in memory (tss_mem.h). */
#include <errno.h>
#include <stdlib.h>
#include "lib/hashtab.h"
#include "tss_mem.h"

struct mem_ent {
	struct xb_hnode node;
	struct xb_tss_key key;
	struct xb_tss_val val;
};

struct xb_tss_mem {
	struct xb_htab ents;
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

	if (m && xb_htab_init(&m->ents, offsetof(struct mem_ent, key) -
			      offsetof(struct mem_ent, node),
			      sizeof(struct xb_tss_key))) {
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
	xb_htab_fini(&m->ents);
	free(m);
}

void xb_tss_mem_sink(struct xb_tss_mem *m, struct xb_tss_sink *sink)
{
	sink->put_entry = mem_put_entry;
	sink->del_entry = mem_del_entry;
	sink->put_list = mem_put_list;
	sink->ctx = m;
}

void xb_tss_mem_source(struct xb_tss_mem *m, struct xb_tss_source *src)
{
	src->get_entry = mem_get_entry;
	src->get_list = mem_get_list;
	src->ctx = m;
}

size_t xb_tss_mem_count(const struct xb_tss_mem *m)
{
	return m->ents.count;
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
