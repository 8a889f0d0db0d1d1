// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "tss_sink_maps.h"
#include "lib/map_clear.h"

static int put_entry(void *ctx, const struct xb_tss_key *key,
		     const struct xb_tss_val *val)
{
	struct xb_tss_maps *m = ctx;

	if (m->filter)
		xb_tss_filter_add(m->filter, key, XB_TSS_CLASS_BIG,
				  xb_tss_val_gate(val));
	return bpf_map_update_elem(m->tss_fd, key, val, BPF_ANY) ? -errno : 0;
}

static int put_pair(void *ctx, const struct xb_tss_key *key,
		    const struct xb_tss_pair_val *val)
{
	struct xb_tss_maps *m = ctx;

	if (m->filter)
		xb_tss_filter_add(m->filter, key, XB_TSS_CLASS_PAIR,
				  xb_tss_pair_gate(val));
	return bpf_map_update_elem(m->pair_fd, key, val, BPF_ANY) ? -errno : 0;
}

static int del_pair(void *ctx, const struct xb_tss_key *key)
{
	struct xb_tss_maps *m = ctx;

	if (m->filter)
		xb_tss_filter_del(m->filter, key);
	return bpf_map_delete_elem(m->pair_fd, key) ? -errno : 0;
}

static int del_entry(void *ctx, const struct xb_tss_key *key)
{
	struct xb_tss_maps *m = ctx;

	if (m->filter)
		xb_tss_filter_del(m->filter, key);
	return bpf_map_delete_elem(m->tss_fd, key) ? -errno : 0;
}

static int put_list(void *ctx, __u32 idx, const struct xb_shape_list *list)
{
	struct xb_tss_maps *m = ctx;

	return bpf_map_update_elem(m->lists_fd, &idx, list, BPF_ANY) ? -errno : 0;
}

static int put_index(void *ctx, const struct xb_tss_idx_key *key,
		     const struct xb_tss_idx_val *val)
{
	struct xb_tss_maps *m = ctx;

	return bpf_map_update_elem(m->index_fd, key, val, BPF_ANY) ? -errno : 0;
}

static int del_index(void *ctx, const struct xb_tss_idx_key *key)
{
	struct xb_tss_maps *m = ctx;

	return bpf_map_delete_elem(m->index_fd, key) ? -errno : 0;
}

static int get_index(void *ctx, const struct xb_tss_idx_key *key,
		     struct xb_tss_idx_val *val)
{
	struct xb_tss_maps *m = ctx;

	return bpf_map_lookup_elem(m->index_fd, key, val) ? -errno : 0;
}

/* An entry of xb_tss_pair reads as the one-chunk xb_tss entry it stands
 * for: a key is in one of the two maps. */
static int get_entry(void *ctx, const struct xb_tss_key *key,
		     struct xb_tss_val *val)
{
	struct xb_tss_maps *m = ctx;
	struct xb_tss_pair_val pair;
	__u32 i;

	if (m->pair_fd > 0 && !bpf_map_lookup_elem(m->pair_fd, key, &pair)) {
		memset(val, 0, sizeof(*val));
		val->count = pair.count;
		for (i = 0; i < pair.count && i < XB_PAIR_RULES; i++)
			val->rules[i] = pair.rules[i];
		return 0;
	}
	return bpf_map_lookup_elem(m->tss_fd, key, val) ? -errno : 0;
}

static int get_list(void *ctx, __u32 idx, struct xb_shape_list *list)
{
	struct xb_tss_maps *m = ctx;

	return bpf_map_lookup_elem(m->lists_fd, &idx, list) ? -errno : 0;
}

void xb_tss_maps_sink(struct xb_tss_maps *maps, struct xb_tss_sink *sink)
{
	sink->put_entry = put_entry;
	sink->del_entry = del_entry;
	sink->put_pair = maps->pair_fd > 0 ? put_pair : NULL;
	sink->del_pair = maps->pair_fd > 0 ? del_pair : NULL;
	sink->put_list = put_list;
	sink->put_index = maps->index_fd > 0 ? put_index : NULL;
	sink->del_index = maps->index_fd > 0 ? del_index : NULL;
	sink->ctx = maps;
}

/* As bpf/search.bpf.h's xb_key_bound() > priority, on the mapped filter, for a key
 * the filter lets through (one it proves absent is looked up, and not
 * found: the reader's walk then counts what it did before the gate). */
static bool gated(void *ctx, const struct xb_tss_key *key, __u32 priority)
{
	const struct xb_tss_filter *f = ((struct xb_tss_maps *)ctx)->filter;
	__u64 h = xb_tss_filter_hash(key);
	__u32 idx = xb_tss_filter_word_of(key->list, h), cls, classes = 0;

	for (cls = 0; cls < XB_TSS_CLASSES; cls++)
		if (xb_tss_filter_hit(f->words[idx], xb_tss_filter_mask_of(h, cls)))
			classes |= 1U << cls;
	return classes && xb_tss_gate_bound(&f->gate[idx], classes) > priority;
}

void xb_tss_maps_source(struct xb_tss_maps *maps, struct xb_tss_source *src)
{
	src->get_entry = get_entry;
	src->get_list = get_list;
	src->get_index = maps->index_fd > 0 ? get_index : NULL;
	src->gated = maps->filter ? gated : NULL;
	src->ctx = maps;
}

int xb_tss_maps_create(struct xb_tss_maps *maps)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);

	maps->owned = true;
	maps->lists_fd = -1;
	maps->index_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xb_tss_index",
					sizeof(struct xb_tss_idx_key),
					sizeof(struct xb_tss_idx_val),
					XB_MAX_TSS_INDEX_ENTRIES, &opts);
	if (maps->index_fd < 0)
		return -errno;
	maps->tss_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xb_tss",
				      sizeof(struct xb_tss_key),
				      sizeof(struct xb_tss_val),
				      XB_MAX_TSS_ENTRIES, &opts);
	if (maps->tss_fd < 0) {
		int err = -errno;

		close(maps->index_fd);
		maps->index_fd = -1;
		return err;
	}
	maps->lists_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xb_shape_lists",
					sizeof(__u32),
					sizeof(struct xb_shape_list),
					XB_SHAPE_LISTS, NULL);
	if (maps->lists_fd < 0) {
		int err = -errno;

		close(maps->tss_fd);
		close(maps->index_fd);
		maps->tss_fd = maps->index_fd = -1;
		return err;
	}
	return 0;
}

void xb_tss_maps_close(struct xb_tss_maps *maps)
{
	if (!maps->owned)
		return;
	if (maps->tss_fd >= 0)
		close(maps->tss_fd);
	if (maps->lists_fd >= 0)
		close(maps->lists_fd);
	if (maps->index_fd > 0)
		close(maps->index_fd);
	maps->tss_fd = maps->lists_fd = maps->index_fd = -1;
}

int xb_tss_maps_clear(struct xb_tss_maps *maps)
{
	struct xb_shape_list empty;
	__u32 i;
	int err;

	memset(&empty, 0, sizeof(empty));
	err = xb_map_clear(maps->tss_fd, sizeof(struct xb_tss_key));
	if (!err && maps->pair_fd > 0)
		err = xb_map_clear(maps->pair_fd, sizeof(struct xb_tss_key));
	if (!err && maps->index_fd > 0)
		err = xb_map_clear(maps->index_fd, sizeof(struct xb_tss_idx_key));
	if (err)
		return err;
	for (i = 0; i < XB_SHAPE_LISTS; i++)
		if (bpf_map_update_elem(maps->lists_fd, &i, &empty, BPF_ANY))
			return -errno;
	if (maps->filter)
		xb_tss_filter_init(maps->filter, maps->filter->words,
				   maps->filter->gate);
	return 0;
}
