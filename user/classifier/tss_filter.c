// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "classifier/tss_filter.h"

#define FILTER_BYTES	((size_t)XB_TSS_FILTER_ENTRIES * sizeof(__u64))
#define LIST_WORDS	XB_TSS_FILTER_WORDS
/* Below this many deletions a rebuild is not worth its map walk. */
#define REBUILD_MIN	4096
/* Keys read from xb_tss per batch call during a rebuild. */
#define REBUILD_BATCH	4096

void xb_tss_filter_init(struct xb_tss_filter *f, __u64 *words)
{
	memset(f, 0, sizeof(*f));
	f->words = words;
	if (words)
		memset(words, 0, FILTER_BYTES);
}

static void set_bit_of(__u64 *words, const struct xb_tss_key *key, __u32 cls)
{
	__u64 mask;
	__u32 idx = xb_tss_filter_word(key, cls, &mask);

	/* the datapath reads the word while it changes: one atomic store */
	__atomic_fetch_or(&words[idx], mask, __ATOMIC_RELAXED);
}

void xb_tss_filter_add(struct xb_tss_filter *f, const struct xb_tss_key *key,
		       __u32 cls)
{
	if (!f->words || key->list >= XB_SHAPE_LISTS)
		return;
	set_bit_of(f->words, key, cls);
	f->added[key->list]++;
}

void xb_tss_filter_del(struct xb_tss_filter *f, const struct xb_tss_key *key)
{
	if (!f->words || key->list >= XB_SHAPE_LISTS)
		return;
	f->stale[key->list]++;
}

/* Stale bits at least as many as live keys (an estimate from above:
 * updates of a key count as adds). */
static bool needs_rebuild(const struct xb_tss_filter *f, int list)
{
	long long live = (long long)f->live[list] + f->added[list] -
			 f->stale[list];

	return f->stale[list] >= REBUILD_MIN && f->stale[list] >= live;
}

/* Every key of the map fd (values of val_size bytes, keys of class cls)
 * in the lists marked in redo, into fresh bitmaps. */
static int collect_keys(int fd, size_t val_size, __u32 cls, const bool *redo,
			__u64 *fresh, __u32 *live)
{
	struct xb_tss_key *keys = calloc(REBUILD_BATCH, sizeof(*keys));
	void *vals = calloc(REBUILD_BATCH, val_size);
	__u32 in = 0, out = 0, n, i;
	bool first = true, done = false;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!done) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		n = REBUILD_BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					 vals, &n, &opts)) {
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			done = true;	/* n holds the last keys */
		}
		first = false;
		in = out;
		for (i = 0; i < n; i++) {
			__u8 l = keys[i].list;

			if (l >= XB_SHAPE_LISTS || !redo[l])
				continue;
			set_bit_of(fresh, &keys[i], cls);
			live[l]++;
		}
	}
out:
	free(keys);
	free(vals);
	return err;
}

int xb_tss_filter_maintain(struct xb_tss_filter *f, int tss_fd, int pair_fd)
{
	__u32 live[XB_SHAPE_LISTS] = {};
	bool redo[XB_SHAPE_LISTS] = {}, any = false;
	__u64 *fresh;
	size_t w;
	int l, err;

	if (!f->words)
		return 0;
	for (l = 0; l < XB_SHAPE_LISTS; l++)
		any |= redo[l] = needs_rebuild(f, l);
	if (!any)
		return 0;
	fresh = calloc(XB_TSS_FILTER_ENTRIES, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	err = collect_keys(tss_fd, sizeof(struct xb_tss_val), XB_TSS_CLASS_BIG,
			   redo, fresh, live);
	if (!err && pair_fd >= 0)
		err = collect_keys(pair_fd, sizeof(struct xb_tss_pair_val),
				   XB_TSS_CLASS_PAIR, redo, fresh, live);
	for (l = 0; !err && l < XB_SHAPE_LISTS; l++) {
		if (!redo[l])
			continue;
		/* word by word: a word is never seen half written */
		for (w = (size_t)l * LIST_WORDS; w < (size_t)(l + 1) * LIST_WORDS; w++)
			__atomic_store_n(&f->words[w], fresh[w], __ATOMIC_RELAXED);
		f->live[l] = live[l];
		f->added[l] = 0;
		f->stale[l] = 0;
		f->rebuilds++;
	}
	free(fresh);
	return err;
}

__u64 *xb_tss_filter_map(int filter_fd)
{
	void *p = mmap(NULL, FILTER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		       filter_fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

void xb_tss_filter_unmap(__u64 *words)
{
	if (words)
		munmap(words, FILTER_BYTES);
}
