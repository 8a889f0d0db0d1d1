// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "loader/sync_record.h"
#include "mirror/policy_rec.h"
#include "mirror/publish.h"
#include "mirror/snapshot.h"
#include "classifier/tss.h"
#include "classifier/tss_filter.h"
#include "lib/map_clear.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/tss.h"

/* A hash map refuses a new key with E2BIG when it holds max_entries. */
static bool map_full_err(int err)
{
	return err == -E2BIG || err == -ENOSPC;
}

static int map_put(struct xb_maps *maps, int map, const void *key, const void *val)
{
	if (bpf_map_update_elem(maps->fd[map], key, val, BPF_ANY)) {
		int err = -errno;

		/* A full map is the daemon's to report, once an episode
		 * (struct xb_publisher's full_map), not once a write. */
		if (map_full_err(err))
			pr_debug("%s is full\n", xb_map_names[map]);
		else
			pr_warn("Couldn't update %s: %s\n", xb_map_names[map], strerror(errno));
		return err;
	}
	return 0;
}

static int map_del(struct xb_maps *maps, int map, const void *key)
{
	if (bpf_map_delete_elem(maps->fd[map], key) && errno != ENOENT) {
		int err = -errno;

		pr_warn("Couldn't delete from %s: %s\n", xb_map_names[map], strerror(errno));
		return err;
	}
	return 0;
}

/*
 * Updates of one map, written BPF_MAP_UPDATE_BATCH at a time: a start-up
 * with 100k policies would otherwise spend most of its time entering the
 * kernel once per element. Everything queued is written before the
 * publication's seq-count window closes (xb_publish), so batching does not
 * change what a packet can observe.
 */
#define BATCH_MAX	1024
/* and at most this many bytes of values: xb_policies' pages are 2 KiB */
#define BATCH_VAL_BYTES	(512 * 1024)

struct batch {
	int map;
	__u32 key_size;
	__u32 val_size;
	__u32 n;
	__u32 max;		/* entries a batch writes */
	__u32 cap;		/* grows to max: an event is small */
	void *keys;
	void *vals;
};

/* The maps of pages of records by mirror id (include/xfrmbpf/spd.h). */
enum page_map {
	PAGES_POLICIES,		/* xb_policies */
	PAGES_SCOPES,		/* xb_scope_pages */
	PAGES_FIRST_TMPLS,	/* xb_tmpl_pages */
	PAGE_MAPS
};

/* Room for a page of any of them. */
union page_buf {
	struct xb_policy_page policies;
	struct xb_scope_page scopes;
	struct xb_tmpl_page tmpls;
};

struct publish_ctx {
	struct xb_maps *maps;
	struct batch pages[PAGE_MAPS];
	struct batch tmpls;
	struct batch tss;
	struct batch tss_pair;
	struct batch stats;
	/* publish_page()'s page and the map's copy of it */
	union page_buf page;
	union page_buf page_cur;
	struct xb_counter *zero;	/* n_cpus zeroed counters */
	int err;			/* first error */
	int full_map;			/* the first map found full, or -1 */
};

/* map_put() that remembers the first map that was full: the daemon
 * survives that one (it fails open until the state fits, see
 * xb_publish()). */
static int ctx_put(struct publish_ctx *c, int map, const void *key, const void *val)
{
	int err = map_put(c->maps, map, key, val);

	if (map_full_err(err) && c->full_map < 0)
		c->full_map = map;
	return err;
}

static void keep_err(int *first, int err)
{
	if (err && !*first)
		*first = err;
}

static void batch_init(struct batch *b, int map, __u32 key_size, __u32 val_size)
{
	memset(b, 0, sizeof(*b));
	b->map = map;
	b->key_size = key_size;
	b->val_size = val_size;
	b->max = BATCH_VAL_BYTES / val_size;
	if (b->max > BATCH_MAX)
		b->max = BATCH_MAX;
	if (!b->max)
		b->max = 1;
}

static void batch_free(struct batch *b)
{
	free(b->keys);
	free(b->vals);
	b->keys = b->vals = NULL;
}

/* What a failed (or unsupported) batch left undone goes element by
 * element, which also names the error of the element that fails. */
static int batch_flush(struct publish_ctx *c, struct batch *b)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	__u32 count = b->n, i;
	int err = 0;

	if (!b->n)
		return 0;
	if (b->n == 1) {
		b->n = 0;
		return ctx_put(c, b->map, b->keys, b->vals);
	}
	if (bpf_map_update_batch(c->maps->fd[b->map], b->keys, b->vals, &count, &opts)) {
		pr_debug("Batch update of %s stopped at %u of %u (%s): one by one\n",
			 xb_map_names[b->map], count, b->n, strerror(errno));
		if (count > b->n)
			count = 0;
		for (i = count; !err && i < b->n; i++)
			err = ctx_put(c, b->map, (char *)b->keys + i * b->key_size,
				      (char *)b->vals + i * b->val_size);
	}
	b->n = 0;
	return err;
}

static int batch_grow(struct batch *b)
{
	__u32 cap = b->cap ? b->cap * 2 : 8;
	void *k, *v;

	if (cap > b->max)
		cap = b->max;
	k = realloc(b->keys, (size_t)cap * b->key_size);
	if (!k)
		return -ENOMEM;
	b->keys = k;
	v = realloc(b->vals, (size_t)cap * b->val_size);
	if (!v)
		return -ENOMEM;
	b->vals = v;
	b->cap = cap;
	return 0;
}

static int batch_put(struct publish_ctx *c, struct batch *b, const void *key,
		     const void *val)
{
	int err;

	if (b->n == b->cap) {
		err = batch_grow(b);
		if (err)
			return err;
	}
	memcpy((char *)b->keys + b->n * b->key_size, key, b->key_size);
	memcpy((char *)b->vals + b->n * b->val_size, val, b->val_size);
	if (++b->n == b->max)
		return batch_flush(c, b);
	return 0;
}

static int ctx_init(struct publish_ctx *c, struct xb_maps *maps)
{
	memset(c, 0, sizeof(*c));
	c->maps = maps;
	c->full_map = -1;
	batch_init(&c->pages[PAGES_POLICIES], XB_MAP_POLICIES, sizeof(__u32),
		   sizeof(struct xb_policy_page));
	batch_init(&c->pages[PAGES_SCOPES], XB_MAP_SCOPE_PAGES, sizeof(__u32),
		   sizeof(struct xb_scope_page));
	batch_init(&c->pages[PAGES_FIRST_TMPLS], XB_MAP_TMPL_PAGES, sizeof(__u32),
		   sizeof(struct xb_tmpl_page));
	batch_init(&c->tmpls, XB_MAP_TMPLS, sizeof(struct xb_tmpl_key), sizeof(struct xb_tmpl));
	batch_init(&c->tss, XB_MAP_TSS, sizeof(struct xb_tss_key), sizeof(struct xb_tss_val));
	batch_init(&c->tss_pair, XB_MAP_TSS_PAIR, sizeof(struct xb_tss_key),
		   sizeof(struct xb_tss_pair_val));
	batch_init(&c->stats, XB_MAP_POLICY_STATS, sizeof(__u32),
		   maps->n_cpus * sizeof(struct xb_counter));
	c->zero = calloc(maps->n_cpus, sizeof(*c->zero));
	return c->zero ? 0 : -ENOMEM;
}

/* Writes what is still queued; returns the first error of the whole
 * publication. */
static int ctx_finish(struct publish_ctx *c)
{
	enum page_map pm;

	keep_err(&c->err, batch_flush(c, &c->stats));
	for (pm = 0; pm < PAGE_MAPS; pm++)
		keep_err(&c->err, batch_flush(c, &c->pages[pm]));
	keep_err(&c->err, batch_flush(c, &c->tmpls));
	keep_err(&c->err, batch_flush(c, &c->tss));
	keep_err(&c->err, batch_flush(c, &c->tss_pair));
	batch_free(&c->stats);
	for (pm = 0; pm < PAGE_MAPS; pm++)
		batch_free(&c->pages[pm]);
	batch_free(&c->tmpls);
	batch_free(&c->tss);
	batch_free(&c->tss_pair);
	free(c->zero);
	return c->err;
}

/* Templates of policy id after its first (the first is in xb_tmpl_pages):
 * written, and those a previous policy of the slot had deleted. */
static int publish_tmpls(struct publish_ctx *c, struct xb_mirror *m, __u32 id)
{
	struct xb_mirror_policy *mp = xb_mirror_policy_by_id(m, id);
	const struct xb_mirror_full *f = xb_mirror_policy_full(m, id);
	struct xb_tmpl_key tk = { .policy_id = id };
	unsigned int had = m->published_tmpls[id];
	unsigned int n;
	int err = 0;

	/* In use, and no copy: published already (a duplicate id). */
	if (mp && !f)
		return 0;
	n = f ? f->pol.n_tmpls : 0;
	for (tk.idx = 1; !err && tk.idx < n; tk.idx++)
		err = batch_put(c, &c->tmpls, &tk, &f->tmpls[tk.idx]);
	for (tk.idx = n > 1 ? n : 1; !err && tk.idx < had; tk.idx++)
		err = map_del(c->maps, XB_MAP_TMPLS, &tk);
	/* On failure the slot may hold up to the larger of both. */
	m->published_tmpls[id] = err && had > n ? had : n;
	return err;
}

/* A page map's record of a policy, from the mirror's copy of it: false
 * when the policy has none there. */
static bool policy_rec(const struct xb_mirror_full *f, void *rec)
{
	xb_policy_rec_of(&f->pol, rec);
	return true;
}

static bool scope_rec(const struct xb_mirror_full *f, void *rec)
{
	return xb_policy_scope_of(&f->pol, rec);
}

static bool first_tmpl_rec(const struct xb_mirror_full *f, void *rec)
{
	if (!f->pol.n_tmpls)
		return false;
	memcpy(rec, &f->tmpls[0], sizeof(f->tmpls[0]));
	return true;
}

static const struct page_kind {
	int map;
	__u32 recs;		/* records a page */
	size_t rec_size;
	bool (*rec_of)(const struct xb_mirror_full *f, void *rec);
} page_kinds[PAGE_MAPS] = {
	[PAGES_POLICIES] = { XB_MAP_POLICIES, XB_POLICY_PAGE_RECS,
			     sizeof(struct xb_policy_rec), policy_rec },
	[PAGES_SCOPES] = { XB_MAP_SCOPE_PAGES, XB_SCOPE_PAGE_RECS,
			   sizeof(struct xb_policy_scope), scope_rec },
	[PAGES_FIRST_TMPLS] = { XB_MAP_TMPL_PAGES, XB_TMPL_PAGE_RECS,
				sizeof(struct xb_tmpl), first_tmpl_rec },
};

static void *page_rec(union page_buf *page, const struct page_kind *k, __u32 slot)
{
	return xb_page_rec(page, slot, k->rec_size);
}

/*
 * Rewrites page `page` of a page map as the mirror has its ids now: the
 * record from the copy of a changed policy, nothing for an id not in use
 * (or a policy without a record there), and for a policy published before
 * (the mirror keeps no copy of it) the record the map holds, read once for
 * the page.
 */
static int publish_page(struct publish_ctx *c, struct xb_mirror *m, enum page_map pm,
			__u32 page)
{
	const struct page_kind *k = &page_kinds[pm];
	union page_buf *val = &c->page, *cur = &c->page_cur;
	const struct xb_mirror_full *f;
	__u64 present = 0, cur_present = 0;
	bool cur_read = false;
	__u32 slot, id;

	memset(val, 0, sizeof(*val));
	for (slot = 0; slot < k->recs; slot++) {
		id = xb_page_id(page, slot, k->recs);
		if (!xb_mirror_policy_by_id(m, id))
			continue;
		f = xb_mirror_policy_full(m, id);
		if (f) {
			if (k->rec_of(f, page_rec(val, k, slot)))
				present |= 1ULL << slot;
			continue;
		}
		if (!cur_read) {
			if (bpf_map_lookup_elem(c->maps->fd[k->map], &page, cur))
				memset(cur, 0, sizeof(*cur));
			memcpy(&cur_present, cur, sizeof(cur_present));
			cur_read = true;
		}
		if (xb_page_holds(cur_present, slot)) {
			memcpy(page_rec(val, k, slot), page_rec(cur, k, slot), k->rec_size);
			present |= 1ULL << slot;
		}
	}
	if (!present)
		return map_del(c->maps, k->map, &page);
	memcpy(val, &present, sizeof(present));
	return batch_put(c, &c->pages[pm], &page, val);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* The changed policies: their templates past the first, then each page
 * of each page map that holds one of them, once (the ids sorted). */
static int publish_policies(struct publish_ctx *c, struct xb_mirror *m)
{
	__u32 *ids, page, last_page[PAGE_MAPS] = { 0 };
	size_t i, n = m->dirty_policies.n;
	enum page_map pm;
	int err = 0;

	if (!n)
		return 0;
	ids = malloc(n * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	memcpy(ids, xb_vec_at(&m->dirty_policies, 0), n * sizeof(*ids));
	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (i = 0; !err && i < n; i++) {
		if (i && ids[i] == ids[i - 1])
			continue;
		err = publish_tmpls(c, m, ids[i]);
		for (pm = 0; !err && pm < PAGE_MAPS; pm++) {
			page = xb_page_of(ids[i], page_kinds[pm].recs);
			if (!i || page != last_page[pm])
				err = publish_page(c, m, pm, page);
			last_page[pm] = page;
		}
	}
	free(ids);
	return err;
}

/* The store's load() over the maps: how the mirror reads back a policy
 * whose copy it dropped after publishing it. */
static int load_policy(void *ctx, __u32 id, struct xb_policy *pol,
		       struct xb_tmpl *tmpls)
{
	return xb_snapshot_policy(ctx, id, pol, tmpls);
}

/* An empty classifier builder for the maps' capacity. */
static struct xb_tss *new_builder(const struct xb_maps *maps)
{
	struct xb_tss *tss = xb_tss_new(maps->max_policies ? maps->max_policies :
							     XB_MAX_POLICIES);
	const char *min_tables;

	/* XFRMBPF_INDEX_MIN_TABLES=N: index lists of more than N tables
	 * (tests: the candidate index on small rule sets) */
	min_tables = getenv("XFRMBPF_INDEX_MIN_TABLES");
	if (tss && min_tables)
		xb_tss_set_index_min(tss, (__u32)strtoul(min_tables, NULL, 0));
	return tss;
}

int xb_publisher_init(struct xb_publisher *pub, struct xb_maps *maps)
{
	memset(pub, 0, sizeof(*pub));
	pub->maps = maps;
	pub->full_map = -1;
	pub->tss = new_builder(maps);
	return pub->tss ? 0 : -ENOMEM;
}

void xb_publisher_fini(struct xb_publisher *pub)
{
	if (pub->tss)
		xb_tss_free(pub->tss);
	pub->tss = NULL;
}

struct xb_policy_store xb_publisher_store(const struct xb_publisher *pub)
{
	return (struct xb_policy_store){ .load = load_policy, .ctx = pub->maps };
}

static int publish_sa(struct publish_ctx *c, struct xb_mirror *m,
		      const struct xb_sa_key *key)
{
	struct xb_mirror_sa *ms = xb_mirror_sa_find(m, key);

	return ms ? ctx_put(c, XB_MAP_SAS, key, &ms->sa) :
		    map_del(c->maps, XB_MAP_SAS, key);
}

static int publish_spi(struct publish_ctx *c, struct xb_mirror *m,
		       const struct xb_spi_key *key)
{
	struct xb_mirror_spi *s = xb_mirror_spi_find(m, key);
	struct xb_spi_val val;

	if (!s)
		return map_del(c->maps, XB_MAP_SPIS, key);
	val.n_sas = s->n_sas;
	val.cpu = s->cpu;
	return ctx_put(c, XB_MAP_SPIS, key, &val);
}

static int publish_link(struct publish_ctx *c, struct xb_mirror *m, __u32 key)
{
	struct xb_mirror_link *ml = xb_mirror_link_by_key(m, key);

	return ml ? ctx_put(c, XB_MAP_XFRM_LINKS, &key, &ml->link) :
		    map_del(c->maps, XB_MAP_XFRM_LINKS, &key);
}

static int sink_put_entry(void *ctx, const struct xb_tss_key *key,
			  const struct xb_tss_val *val)
{
	struct publish_ctx *c = ctx;

	/* Set before the entry is written: a bit without its key (a gate
	 * too low) only costs the datapath a probe, a key without its bit
	 * (a gate too high) would be missed. */
	if (c->maps->filter)
		xb_tss_filter_add(c->maps->filter, key, XB_TSS_CLASS_BIG,
				  xb_tss_val_gate(val));
	return batch_put(c, &c->tss, key, val);
}

static int sink_put_pair(void *ctx, const struct xb_tss_key *key,
			 const struct xb_tss_pair_val *val)
{
	struct publish_ctx *c = ctx;

	/* as sink_put_entry() */
	if (c->maps->filter)
		xb_tss_filter_add(c->maps->filter, key, XB_TSS_CLASS_PAIR,
				  xb_tss_pair_gate(val));
	return batch_put(c, &c->tss_pair, key, val);
}

static int sink_del_pair(void *ctx, const struct xb_tss_key *key)
{
	struct publish_ctx *c = ctx;

	if (c->maps->filter)
		xb_tss_filter_del(c->maps->filter, key);
	return map_del(c->maps, XB_MAP_TSS_PAIR, key);
}

static int sink_del_entry(void *ctx, const struct xb_tss_key *key)
{
	struct publish_ctx *c = ctx;

	if (c->maps->filter)
		xb_tss_filter_del(c->maps->filter, key);
	return map_del(c->maps, XB_MAP_TSS, key);
}

/* Inside the window, after every xb_tss change: rebuilds the bitmaps of
 * lists with many stale bits. A failure leaves extra bits only. */
static void maintain_filter(struct xb_maps *maps)
{
	int err;

	if (!maps->filter)
		return;
	err = xb_tss_filter_maintain(maps->filter, maps->fd[XB_MAP_TSS],
				     maps->fd[XB_MAP_TSS_PAIR]);
	if (err)
		pr_warn("Couldn't rebuild the xb_tss filter: %s\n", strerror(-err));
}

static int sink_put_list(void *ctx, __u32 idx, const struct xb_shape_list *list)
{
	return ctx_put(ctx, XB_MAP_SHAPE_LISTS, &idx, list);
}

/* Not ctx_put(): a full index is no capacity problem, its list is only
 * searched in full (user/classifier/tss_index.h). */
static int sink_put_index(void *ctx, const struct xb_tss_idx_key *key,
			  const struct xb_tss_idx_val *val)
{
	struct publish_ctx *c = ctx;

	return map_put(c->maps, XB_MAP_TSS_INDEX, key, val);
}

static int sink_del_index(void *ctx, const struct xb_tss_idx_key *key)
{
	struct publish_ctx *c = ctx;

	return map_del(c->maps, XB_MAP_TSS_INDEX, key);
}

static int publish_tss(struct publish_ctx *c, struct xb_tss *tss)
{
	struct xb_tss_sink sink = {
		.put_entry = sink_put_entry,
		.del_entry = sink_del_entry,
		.put_pair = sink_put_pair,
		.del_pair = sink_del_pair,
		.put_list = sink_put_list,
		.put_index = sink_put_index,
		.del_index = sink_del_index,
		.ctx = c,
	};

	return xb_tss_flush(tss, &sink);
}

static int publish_changes(struct xb_publisher *pub, struct xb_mirror *m)
{
	struct xb_maps *maps = pub->maps;
	struct publish_ctx c;
	size_t i;
	int err;

	err = ctx_init(&c, maps);
	/* A reused slot still holds the old policy's counters. */
	for (i = 0; !err && i < m->stats_reset.n; i++)
		err = batch_put(&c, &c.stats, xb_vec_at(&m->stats_reset, i), c.zero);
	if (!err)
		err = publish_policies(&c, m);
	for (i = 0; !err && i < m->dirty_sas.n; i++)
		err = publish_sa(&c, m, xb_vec_at(&m->dirty_sas, i));
	for (i = 0; !err && i < m->dirty_spis.n; i++)
		err = publish_spi(&c, m, xb_vec_at(&m->dirty_spis, i));
	for (i = 0; !err && i < m->dirty_links.n; i++)
		err = publish_link(&c, m, *(__u32 *)xb_vec_at(&m->dirty_links, i));
	if (!err)
		err = publish_tss(&c, pub->tss);
	keep_err(&c.err, err);
	err = ctx_finish(&c);
	pub->full_map = c.full_map;
	maintain_filter(maps);
	if (!err && m->defaults_dirty)
		xb_sync_set_defaults(maps, m->default_action);
	return err;
}

static void publish_counts(struct xb_publisher *pub, const struct xb_mirror *m)
{
	xb_sync_set_counts(pub->maps, m->policies.count, m->sas.count, m->links.count,
			   xb_tss_undecidable_lists(pub->tss));
}

/* A changed policy the mirror still uses, by the kernel's precedence. */
struct build_order {
	__u32 priority;
	__u32 pos;
	__u32 id;
};

static int build_order_cmp(const void *a, const void *b)
{
	const struct build_order *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A policy's place in the kernel's precedence (the mirror keeps no order of
 * its own): from the mirror's copy of a changed policy, else from the
 * builder that holds it (ranked, when not NULL), else from the store;
 * false when unreadable. */
static bool build_order_of(const struct xb_tss *ranked, const struct xb_mirror *m,
			   __u32 id, struct build_order *o)
{
	const struct xb_mirror_full *f = xb_mirror_policy_full(m, id);
	struct xb_tmpl tmpls[XB_MAX_TMPLS];
	struct xb_policy pol;

	o->id = id;
	if (!f && ranked && xb_tss_policy_rank(ranked, id, &o->priority, &o->pos))
		return true;
	if (f)
		pol = f->pol;
	else if (xb_mirror_policy_get(m, id, &pol, tmpls))
		return false;
	o->priority = pol.priority;
	o->pos = pol.pos;
	return true;
}

/* Policy id back into the builder, as the mirror has it now. A policy the
 * builder refuses is left out of the classifier, with a warning. */
static void build_add(struct xb_tss *tss, const struct xb_mirror *m, __u32 id)
{
	struct xb_tmpl tmpls[XB_MAX_TMPLS];
	struct xb_policy pol;

	if (xb_mirror_policy_get(m, id, &pol, tmpls))
		return;		/* no longer in use */
	if (xb_tss_add(tss, &pol))
		pr_warn("Couldn't add policy index %u to the classifier\n", pol.index);
}

/* The policies of order[0..n) into the builder, sorted first. */
static void build_add_sorted(struct xb_tss *tss, const struct xb_mirror *m,
			     struct build_order *order, size_t n)
{
	size_t i;

	qsort(order, n, sizeof(*order), build_order_cmp);
	for (i = 0; i < n; i++)
		/* an id changed twice is listed twice */
		if (!i || order[i].id != order[i - 1].id)
			build_add(tss, m, order[i].id);
}

/*
 * The builder follows the changed policy ids: each leaves it, and those
 * the mirror still uses come back with their current policy, in the
 * kernel's order of precedence (priority, then position). The builder
 * places a policy in the first table that takes it and does not revise
 * placement, so in this order a table is opened by the best policy it
 * will hold and those that join later leave its best priority as it is:
 * the datapath's walk, which stops at the first table whose best cannot
 * beat the match so far, then passes fewer tables. The order matters at
 * start and after a re-dump, which list the newest policy first (the
 * reverse of an SPD loaded in rule order): built so, the realistic acl
 * SPD of 10k policies needed 72 tables instead of 66 and a new flow
 * passed 31.6 instead of 26.3 of them; a flow of make bench's drop case
 * 48.6 instead of 29.5. Without memory for the order, the ids go back as
 * they came.
 */
static void build_classifier(struct xb_tss *tss, const struct xb_mirror *m)
{
	size_t i, n_used = 0, n = m->dirty_policies.n;
	struct build_order *order;
	__u32 id;

	order = n > 1 ? calloc(n, sizeof(*order)) : NULL;
	for (i = 0; i < n; i++) {
		id = *(__u32 *)xb_vec_at(&m->dirty_policies, i);
		xb_tss_del(tss, id);
		if (!order) {
			build_add(tss, m, id);
			continue;
		}
		/* changed: the mirror has its copy */
		if (build_order_of(NULL, m, id, &order[n_used]))
			n_used++;
	}
	if (order)
		build_add_sorted(tss, m, order, n_used);
	free(order);
}

/* A warning when a shape list becomes undecidable, or gets a full
 * bucket: the datapath then passes some of what the SPD would drop. */
static void warn_undecidable(struct xb_publisher *pub)
{
	__u32 i, bit, why, n_full;
	char name[32];

	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		why = xb_tss_list_undecidable(pub->tss, i, &n_full);
		if (why == pub->warned_why[i] && !n_full == !pub->warned_full[i])
			continue;
		xb_tss_list_name(i, name, sizeof(name));
		for (bit = 1; bit <= XB_LIST_UNDEC_CAPACITY; bit <<= 1)
			if ((why & bit) && !(pub->warned_why[i] & bit))
				pr_warn("Shape list %s is undecidable, its packets pass: %s\n",
					name, xb_tss_undecidable_name(bit));
		if (pub->warned_why[i] && !why)
			pr_info("Shape list %s is decidable again\n", name);
		pub->warned_why[i] = why;
		if (n_full && !pub->warned_full[i])
			pr_warn("Shape list %s: %u selectors are shared by more than %u policies; packets matching them pass\n",
				name, n_full, XB_BUCKET_RULES);
		pub->warned_full[i] = n_full != 0;
	}
}

/* A warning when a shape list loses its candidate index (xb_tss_index is
 * full): still exact, but every packet then probes all of its tables. */
static void warn_unindexed(struct xb_publisher *pub)
{
	bool unindexed;
	char name[32];
	__u32 i;

	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		unindexed = xb_tss_list_index_missing(pub->tss, i) != 0;
		if (unindexed == pub->warned_unindexed[i])
			continue;
		xb_tss_list_name(i, name, sizeof(name));
		if (unindexed)
			pr_warn("Shape list %s is searched table after table: xb_tss_index is full (raise --max-policies)\n",
				name);
		else
			pr_info("Shape list %s is indexed again\n", name);
		pub->warned_unindexed[i] = unindexed;
	}
}

/* A map refused an update: the datapath must not trust them. The daemon
 * survives a full map (pub->full_map: it stays unsynced until a rebuild
 * fits) and stops on any other error; either way synced stays 0. */
static void publication_failed(struct xb_publisher *pub)
{
	if (pub->full_map < 0)
		pr_warn("Publication failed: the mirror is marked unsynced and the datapath fails open\n");
	xb_sync_set_synced(pub->maps, false);
}

int xb_publish(struct xb_publisher *pub, struct xb_mirror *m)
{
	__u64 seq;
	int err;

	if (!xb_mirror_has_changes(m))
		return 0;
	build_classifier(pub->tss, m);
	warn_undecidable(pub);
	seq = xb_sync_window_open(pub->maps);
	err = publish_changes(pub, m);
	publish_counts(pub, m);
	xb_sync_window_close(pub->maps, seq);
	warn_unindexed(pub);
	/* Also after a failure: the mirror then compares what the kernel
	 * sends with what the maps really hold, never with a copy whose
	 * write failed. */
	xb_mirror_published(m);
	xb_mirror_clear_changes(m);
	if (err)
		publication_failed(pub);
	return err;
}

static int clear_map(struct xb_maps *maps, int map, size_t key_size)
{
	return xb_map_clear(maps->fd[map], key_size);
}

/* A layout drifts by this many raised tables (xb_tss_raised_tables()),
 * and one policy in RELAYOUT_SHARE of the SPD's, before it is redone. */
#define RELAYOUT_MIN_RAISED	256
#define RELAYOUT_SHARE		16

bool xb_publish_relayout_due(const struct xb_publisher *pub, const struct xb_mirror *m)
{
	__u32 raised = xb_tss_raised_tables(pub->tss);

	return raised >= RELAYOUT_MIN_RAISED && raised >= m->policies.count / RELAYOUT_SHARE;
}

/* Every policy the mirror uses into tss, in the kernel's precedence, which
 * the builder before it (old) knows. */
static int build_all(struct xb_tss *tss, const struct xb_tss *old,
		     const struct xb_mirror *m)
{
	struct build_order *order = calloc(m->policies.count + 1, sizeof(*order));
	size_t n = 0;
	__u32 id;

	if (!order)
		return -ENOMEM;
	xb_mirror_for_each_policy(m, id) {
		if (n == m->policies.count)
			break;
		if (build_order_of(old, m, id, &order[n]))
			n++;
	}
	build_add_sorted(tss, m, order, n);
	free(order);
	return 0;
}

/* The classifier's hash maps, by their keys. */
static const struct {
	int map;
	size_t key_size;
} classifier_maps[] = {
	{ XB_MAP_TSS, sizeof(struct xb_tss_key) },
	{ XB_MAP_TSS_PAIR, sizeof(struct xb_tss_key) },
	{ XB_MAP_TSS_INDEX, sizeof(struct xb_tss_idx_key) },
};
#define N_CLASSIFIER_MAPS	(sizeof(classifier_maps) / sizeof(classifier_maps[0]))

/* Their keys, collected outside the window: walking the maps took most
 * of the time their emptying did (at 100k acl policies 167 of the
 * window's 224 ms, with a delete a call). */
static int classifier_keys(const struct xb_maps *maps, struct xb_map_keys *keys)
{
	size_t i;
	int err = 0;

	memset(keys, 0, N_CLASSIFIER_MAPS * sizeof(*keys));
	for (i = 0; !err && i < N_CLASSIFIER_MAPS; i++)
		err = xb_map_keys_collect(maps->fd[classifier_maps[i].map],
					  classifier_maps[i].key_size, &keys[i]);
	return err;
}

static void classifier_keys_free(struct xb_map_keys *keys)
{
	size_t i;

	for (i = 0; i < N_CLASSIFIER_MAPS; i++)
		xb_map_keys_free(&keys[i]);
}

/* The classifier's maps emptied of keys, lists too; the bitmaps and gates
 * with them. Inside the caller's window. */
static int clear_classifier(struct xb_maps *maps, const struct xb_map_keys *keys)
{
	struct xb_shape_list empty = {};
	__u32 idx;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < N_CLASSIFIER_MAPS; i++)
		err = xb_map_keys_delete(maps->fd[classifier_maps[i].map], &keys[i]);
	for (idx = 0; !err && idx < XB_SHAPE_LISTS; idx++)
		err = map_put(maps, XB_MAP_SHAPE_LISTS, &idx, &empty);
	/* xb_tss is empty now: so are its bitmaps and gates. */
	if (maps->filter)
		xb_tss_filter_init(maps->filter, maps->filter->words, maps->filter->gate);
	return err;
}

/* clear_classifier() with its keys walked now. Inside the caller's
 * window. */
static int empty_classifier(struct xb_maps *maps)
{
	struct xb_map_keys keys[N_CLASSIFIER_MAPS];
	int err = classifier_keys(maps, keys);

	if (!err)
		err = clear_classifier(maps, keys);
	classifier_keys_free(keys);
	return err;
}

int xb_publish_relayout(struct xb_publisher *pub, const struct xb_mirror *m,
			__u64 *window_ns, bool *published)
{
	struct xb_map_keys old_keys[N_CLASSIFIER_MAPS];
	struct xb_maps *maps = pub->maps;
	struct xb_tss *fresh = new_builder(maps);
	struct publish_ctx c;
	__u64 seq;
	int err;

	*published = false;
	/* the slow parts before the window: the datapath passes all it
	 * meets while the window is open */
	err = fresh ? classifier_keys(maps, old_keys) : -ENOMEM;
	if (!err)
		err = build_all(fresh, pub->tss, m);
	if (err) {
		if (fresh) {
			classifier_keys_free(old_keys);
			xb_tss_free(fresh);
		}
		return err;
	}
	xb_tss_free(pub->tss);
	pub->tss = fresh;
	*published = true;
	seq = xb_sync_window_open(maps);
	*window_ns = xb_monotonic_ns();
	err = clear_classifier(maps, old_keys);
	classifier_keys_free(old_keys);
	keep_err(&err, ctx_init(&c, maps));
	if (!err)
		keep_err(&c.err, publish_tss(&c, fresh));
	keep_err(&err, ctx_finish(&c));
	pub->full_map = c.full_map;
	maintain_filter(maps);
	publish_counts(pub, m);
	xb_sync_window_close(maps, seq);
	*window_ns = xb_monotonic_ns() - *window_ns;
	warn_undecidable(pub);
	warn_unindexed(pub);
	if (err)
		publication_failed(pub);
	return err;
}

int xb_publish_clear(struct xb_maps *maps)
{
	static const struct {
		int map;
		size_t key_size;
	} state_maps[] = {
		{ XB_MAP_POLICIES, sizeof(__u32) },
		{ XB_MAP_SCOPE_PAGES, sizeof(__u32) },
		{ XB_MAP_TMPL_PAGES, sizeof(__u32) },
		{ XB_MAP_TMPLS, sizeof(struct xb_tmpl_key) },
		{ XB_MAP_SAS, sizeof(struct xb_sa_key) },
		{ XB_MAP_SPIS, sizeof(struct xb_spi_key) },
		{ XB_MAP_XFRM_LINKS, sizeof(__u32) },
	};
	static const __u8 accept_all[4] = { XB_DEFAULT_ACCEPT, XB_DEFAULT_ACCEPT,
					    XB_DEFAULT_ACCEPT, XB_DEFAULT_ACCEPT };
	__u64 seq = xb_sync_window_open(maps);
	size_t i;
	int err = 0;

	for (i = 0; !err && i < sizeof(state_maps) / sizeof(state_maps[0]); i++)
		err = clear_map(maps, state_maps[i].map, state_maps[i].key_size);
	if (!err)
		err = empty_classifier(maps);
	/* A fresh mirror starts from "accept" and publishes only what
	 * differs: the record must start there too. */
	xb_sync_set_defaults(maps, accept_all);
	xb_sync_window_close(maps, seq);
	if (err)
		pr_warn("Couldn't clear the pinned maps: %s\n", strerror(-err));
	return err;
}
