// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "mirror/policy_rec.h"
#include "mirror/snapshot.h"

#define SNAPSHOT_TRIES 20

/* Sum a per-CPU counter slot. */
static int percpu_counter_sum(const struct xb_maps *maps, int map, const void *key,
			      struct xb_counter *sum)
{
	struct xb_counter *v;
	int i, err;

	memset(sum, 0, sizeof(*sum));
	v = xb_maps_lookup_percpu(maps, map, key, sizeof(*v), &err);
	for (i = 0; v && i < maps->n_cpus; i++) {
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
	}
	free(v);
	return err;
}

/* The page of a map of records beside xb_policies (xb_scope_pages,
 * xb_tmpl_pages) a reader read last: the ids of a policy page are
 * consecutive, so mostly on one page of these. */
struct side_page_cache {
	int map;
	__u32 recs;		/* records a page */
	__u32 rec_size;
	__u32 page;
	bool read;
	union {
		__u64 present;
		struct xb_scope_page scopes;
		struct xb_tmpl_page tmpls;
	} val;
};

#define SIDE_PAGES(map_idx, recs_per_page, rec_type) \
	((struct side_page_cache){ .map = (map_idx), .recs = (recs_per_page), \
				   .rec_size = sizeof(rec_type) })

/* Where a policy's records beside its own are. */
struct side_pages {
	struct side_page_cache scopes;
	struct side_page_cache first_tmpls;
};

static void side_pages_init(struct side_pages *sp)
{
	sp->scopes = SIDE_PAGES(XB_MAP_SCOPE_PAGES, XB_SCOPE_PAGE_RECS,
				struct xb_policy_scope);
	sp->first_tmpls = SIDE_PAGES(XB_MAP_TMPL_PAGES, XB_TMPL_PAGE_RECS, struct xb_tmpl);
}

/* The record of id in its page, NULL when the page does not hold one. */
static const void *side_rec(const struct xb_maps *maps, struct side_page_cache *pc,
			    __u32 id)
{
	__u32 page = xb_page_of(id, pc->recs), slot = xb_page_slot(id, pc->recs);

	if (!pc->read || pc->page != page) {
		if (bpf_map_lookup_elem(maps->fd[pc->map], &page, &pc->val))
			memset(&pc->val, 0, sizeof(pc->val));
		pc->page = page;
		pc->read = true;
	}
	if (!xb_page_holds(pc->val.present, slot))
		return NULL;
	return xb_page_rec(&pc->val, slot, pc->rec_size);
}

/* A published policy and its templates: its scope from its page of
 * xb_scope_pages, the first template from its page of xb_tmpl_pages, the
 * others from xb_tmpls. */
static void policy_from_rec(const struct xb_maps *maps, struct side_pages *sp,
			    __u32 id, const struct xb_policy_rec *rec, struct xb_policy *pol,
			    struct xb_tmpl *tmpls)
{
	struct xb_tmpl_key tk = { .policy_id = id };
	const struct xb_tmpl *first;

	xb_policy_from_rec(id, rec, side_rec(maps, &sp->scopes, id), pol);
	if (pol->n_tmpls > XB_MAX_TMPLS)
		pol->n_tmpls = XB_MAX_TMPLS;
	if (pol->n_tmpls) {
		first = side_rec(maps, &sp->first_tmpls, id);
		if (first)
			tmpls[0] = *first;
		else
			memset(&tmpls[0], 0, sizeof(tmpls[0]));
	}
	for (tk.idx = 1; tk.idx < pol->n_tmpls; tk.idx++)
		if (bpf_map_lookup_elem(maps->fd[XB_MAP_TMPLS], &tk, &tmpls[tk.idx]))
			memset(&tmpls[tk.idx], 0, sizeof(tmpls[tk.idx]));
}

int xb_snapshot_policy(const struct xb_maps *maps, __u32 id, struct xb_policy *pol,
		       struct xb_tmpl *tmpls)
{
	__u32 page = xb_page_of(id, XB_POLICY_PAGE_RECS);
	__u32 slot = xb_page_slot(id, XB_POLICY_PAGE_RECS);
	struct xb_policy_page val;
	struct side_pages sp;

	if (bpf_map_lookup_elem(maps->fd[XB_MAP_POLICIES], &page, &val))
		return -errno;
	if (!xb_page_holds(val.present, slot))
		return -ENOENT;
	side_pages_init(&sp);
	policy_from_rec(maps, &sp, id, &val.rec[slot], pol, tmpls);
	return 0;
}

typedef int (*entry_fn)(const void *key, const void *value, void *ctx);

/* Room for a key, and for the kernel's batch position (a bucket index
 * for hash maps, a key for arrays). */
#define MAX_KEY_SIZE		64
#define BATCH_ENTRIES		256

/* Not in the uapi errno.h: the kernel's "no batch ops for this map type". */
#ifndef ENOTSUPP
#define ENOTSUPP		524
#endif

struct batch_buf {
	void *keys;
	void *values;
	__u32 entries;
};

static int batch_buf_size(struct batch_buf *b, __u32 entries, size_t key_size,
			  size_t value_size)
{
	void *keys = realloc(b->keys, entries * key_size);
	void *values;

	if (!keys)
		return -ENOMEM;
	b->keys = keys;
	values = realloc(b->values, entries * value_size);
	if (!values)
		return -ENOMEM;
	b->values = values;
	b->entries = entries;
	return 0;
}

/*
 * Calls fn(key, value, ctx) for every entry of a hash map, a batch of
 * entries per syscall. -EOPNOTSUPP when the kernel refuses the batch
 * before anything was read (no batch ops, or none for this map type).
 */
static int for_each_entry_batched(int fd, size_t key_size, size_t value_size,
				  entry_fn fn, void *ctx)
{
	unsigned char in[MAX_KEY_SIZE], out[MAX_KEY_SIZE];
	struct batch_buf b = {};
	bool first = true, done = false;
	__u32 n, i;
	int err;

	err = batch_buf_size(&b, BATCH_ENTRIES, key_size, value_size);
	while (!err && !done) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		n = b.entries;
		err = bpf_map_lookup_batch(fd, first ? NULL : in, out, b.keys,
					   b.values, &n, &opts);
		if (err == -ENOSPC && !n) {
			/* One hash bucket holds more entries than a batch. */
			err = batch_buf_size(&b, b.entries * 2, key_size, value_size);
			continue;
		}
		if (first && (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP)) {
			err = -EOPNOTSUPP;
			break;
		}
		/* The end of the map: n holds its last entries. */
		done = err == -ENOENT || (!err && !n);
		if (err && err != -ENOENT)
			break;
		err = 0;
		first = false;
		memcpy(in, out, sizeof(in));
		for (i = 0; !err && i < n; i++)
			err = fn((char *)b.keys + i * key_size,
				 (char *)b.values + i * value_size, ctx);
	}
	free(b.keys);
	free(b.values);
	return err;
}

/* The same, a key and a lookup per entry, for kernels without batch ops. */
static int for_each_entry_single(int fd, size_t key_size, size_t value_size,
				 entry_fn fn, void *ctx)
{
	unsigned char key[MAX_KEY_SIZE], next[MAX_KEY_SIZE];
	void *prev = NULL, *value;
	int err = 0;

	value = malloc(value_size);
	if (!value)
		return -ENOMEM;
	while (!err && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		/* Deleted meanwhile: the seq check catches it. */
		if (bpf_map_lookup_elem(fd, key, value))
			continue;
		err = fn(key, value, ctx);
	}
	if (!err && errno != ENOENT)
		err = -errno;
	free(value);
	return err;
}

/* Calls fn(key, value, ctx) for every entry of a hash map. */
static int for_each_entry(int fd, size_t key_size, size_t value_size, entry_fn fn,
			  void *ctx)
{
	int err;

	if (key_size > MAX_KEY_SIZE)
		return -E2BIG;
	err = for_each_entry_batched(fd, key_size, value_size, fn, ctx);
	if (err == -EOPNOTSUPP)
		err = for_each_entry_single(fd, key_size, value_size, fn, ctx);
	return err;
}

struct read_ctx {
	const struct xb_maps *maps;
	struct xb_snapshot *snap;
	size_t cap;
	struct side_pages side;
};

static void *grow(void *arr, size_t n, size_t *cap, size_t elem)
{
	void *p;

	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(arr, *cap * elem);
	if (!p)
		free(arr);
	return p;
}

/* A new zeroed row at the end of the array arr of n rows (growing it),
 * or NULL when out of memory. */
#define push_row(arr, n, cap)							\
	(((arr) = grow((arr), (n), (cap), sizeof(*(arr)))) ?			\
	 memset(&(arr)[(n)++], 0, sizeof(*(arr))) : NULL)

/* The policies of a page of xb_policies. */
static int read_policy_page(const void *key, const void *value, void *data)
{
	const struct xb_policy_page *page = value;
	struct read_ctx *c = data;
	struct xb_snapshot *s = c->snap;
	struct xb_snap_policy *sp;
	__u32 slot, id;

	for (slot = 0; slot < XB_POLICY_PAGE_RECS; slot++) {
		if (!xb_page_holds(page->present, slot))
			continue;
		sp = push_row(s->policies, s->n_policies, &c->cap);
		if (!sp)
			return -ENOMEM;
		id = xb_page_id(*(const __u32 *)key, slot, XB_POLICY_PAGE_RECS);
		policy_from_rec(c->maps, &c->side, id, &page->rec[slot], &sp->pol,
				sp->tmpls);
		percpu_counter_sum(c->maps, XB_MAP_POLICY_STATS, &id, &sp->hits);
	}
	return 0;
}

static int read_sa(const void *key, const void *value, void *data)
{
	struct read_ctx *c = data;
	struct xb_snap_sa *ss = push_row(c->snap->sas, c->snap->n_sas, &c->cap);

	if (!ss)
		return -ENOMEM;
	memcpy(&ss->key, key, sizeof(ss->key));
	memcpy(&ss->sa, value, sizeof(ss->sa));
	return 0;
}

/* The value is the whole link. */
static int read_link(const void *key, const void *value, void *data)
{
	struct read_ctx *c = data;
	struct xb_xfrm_link *l = push_row(c->snap->links, c->snap->n_links, &c->cap);

	(void)key;
	if (!l)
		return -ENOMEM;
	memcpy(l, value, sizeof(*l));
	return 0;
}

static int policy_order(const void *a, const void *b)
{
	const struct xb_policy *x = &((const struct xb_snap_policy *)a)->pol;
	const struct xb_policy *y = &((const struct xb_snap_policy *)b)->pol;

	if (x->dir != y->dir)
		return x->dir - y->dir;
	if (x->type != y->type)
		return y->type - x->type;	/* sub before main */
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int read_once(const struct xb_maps *maps, struct xb_snapshot *snap)
{
	struct read_ctx c = { .maps = maps, .snap = snap };
	int err;

	side_pages_init(&c.side);
	err = for_each_entry(maps->fd[XB_MAP_POLICIES], sizeof(__u32),
			     sizeof(struct xb_policy_page), read_policy_page, &c);
	c.cap = 0;
	if (!err)
		err = for_each_entry(maps->fd[XB_MAP_SAS], sizeof(struct xb_sa_key),
				     sizeof(struct xb_sa), read_sa, &c);
	c.cap = 0;
	if (!err)
		err = for_each_entry(maps->fd[XB_MAP_XFRM_LINKS], sizeof(__u32),
				     sizeof(struct xb_xfrm_link), read_link, &c);
	return err;
}

int xb_snapshot_read(const struct xb_maps *maps, struct xb_snapshot *snap)
{
	struct xb_sync after;
	int tries, err;

	memset(snap, 0, sizeof(*snap));
	for (tries = 0; tries < SNAPSHOT_TRIES; tries++) {
		err = xb_maps_read_sync(maps, &snap->sync);
		if (!err)
			err = read_once(maps, snap);
		if (!err)
			err = xb_maps_read_sync(maps, &after);
		if (err)
			return err;
		snap->consistent = !(after.seq & 1) && after.seq == snap->sync.seq;
		if (snap->consistent)
			break;
		xb_snapshot_free(snap);
	}
	qsort(snap->policies, snap->n_policies, sizeof(*snap->policies), policy_order);
	return 0;
}

void xb_snapshot_free(struct xb_snapshot *snap)
{
	free(snap->policies);
	free(snap->sas);
	free(snap->links);
	snap->policies = NULL;
	snap->sas = NULL;
	snap->links = NULL;
	snap->n_policies = snap->n_sas = snap->n_links = 0;
}
