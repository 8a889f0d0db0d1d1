// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
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

int xb_snapshot_policy(const struct xb_maps *maps, __u32 id, struct xb_policy *pol,
		       struct xb_tmpl *tmpls)
{
	struct xb_tmpl_key tk = { .policy_id = id };
	struct xb_policy_rec rec;

	if (bpf_map_lookup_elem(maps->fd[XB_MAP_POLICIES], &id, &rec))
		return -errno;
	*pol = rec.pol;
	if (pol->n_tmpls > XB_MAX_TMPLS)
		pol->n_tmpls = XB_MAX_TMPLS;
	if (pol->n_tmpls)
		tmpls[0] = rec.tmpl;
	for (tk.idx = 1; tk.idx < pol->n_tmpls; tk.idx++)
		if (bpf_map_lookup_elem(maps->fd[XB_MAP_TMPLS], &tk, &tmpls[tk.idx]))
			memset(&tmpls[tk.idx], 0, sizeof(tmpls[tk.idx]));
	return 0;
}

/* Calls fn(key, ctx) for every key of a hash map. */
static int for_each_key(int fd, size_t key_size, int (*fn)(const void *key, void *ctx),
			void *ctx)
{
	unsigned char key[64], next[64];
	void *prev = NULL;
	int err;

	if (key_size > sizeof(key))
		return -E2BIG;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		err = fn(key, ctx);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

struct read_ctx {
	const struct xb_maps *maps;
	struct xb_snapshot *snap;
	size_t cap;
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

static int read_policy(const void *key, void *data)
{
	struct read_ctx *c = data;
	struct xb_snapshot *s = c->snap;
	struct xb_snap_policy *sp;

	s->policies = grow(s->policies, s->n_policies, &c->cap, sizeof(*sp));
	if (!s->policies)
		return -ENOMEM;
	sp = &s->policies[s->n_policies];
	memset(sp, 0, sizeof(*sp));
	/* Deleted meanwhile: the seq check catches it. */
	if (xb_snapshot_policy(c->maps, *(const __u32 *)key, &sp->pol, sp->tmpls))
		return 0;
	percpu_counter_sum(c->maps, XB_MAP_POLICY_STATS, &sp->pol.id, &sp->hits);
	s->n_policies++;
	return 0;
}

static int read_sa(const void *key, void *data)
{
	struct read_ctx *c = data;
	struct xb_snapshot *s = c->snap;
	struct xb_snap_sa *ss;

	s->sas = grow(s->sas, s->n_sas, &c->cap, sizeof(*ss));
	if (!s->sas)
		return -ENOMEM;
	ss = &s->sas[s->n_sas];
	memcpy(&ss->key, key, sizeof(ss->key));
	if (bpf_map_lookup_elem(c->maps->fd[XB_MAP_SAS], key, &ss->sa))
		return 0;
	s->n_sas++;
	return 0;
}

static int read_link(const void *key, void *data)
{
	struct read_ctx *c = data;
	struct xb_snapshot *s = c->snap;

	s->links = grow(s->links, s->n_links, &c->cap, sizeof(*s->links));
	if (!s->links)
		return -ENOMEM;
	if (bpf_map_lookup_elem(c->maps->fd[XB_MAP_XFRM_LINKS], key, &s->links[s->n_links]))
		return 0;
	s->n_links++;
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

	err = for_each_key(maps->fd[XB_MAP_POLICIES], sizeof(__u32), read_policy, &c);
	c.cap = 0;
	if (!err)
		err = for_each_key(maps->fd[XB_MAP_SAS], sizeof(struct xb_sa_key), read_sa, &c);
	c.cap = 0;
	if (!err)
		err = for_each_key(maps->fd[XB_MAP_XFRM_LINKS], sizeof(__u32), read_link, &c);
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
