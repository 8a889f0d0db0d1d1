// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "classifier/tss_filter.h"

#define FILTER_BYTES	((size_t)XB_TSS_FILTER_ENTRIES * sizeof(__u64))
#define GATE_BYTES	((size_t)XB_TSS_GATE_ENTRIES * sizeof(struct xb_tss_gate))
#define LIST_WORDS	XB_TSS_FILTER_WORDS
/* Below this many deletions a rebuild is not worth its map walk. */
#define REBUILD_MIN	4096
/* Keys read from xb_tss per batch call during a rebuild. */
#define REBUILD_BATCH	4096

/* No key in any word: every gate at XB_TSS_GATE_NONE. */
static void gate_clear(struct xb_tss_gate *gate)
{
	size_t i;
	__u32 c;

	for (i = 0; i < XB_TSS_GATE_ENTRIES; i++)
		for (c = 0; c < XB_TSS_CLASSES; c++)
			gate[i].priority[c] = XB_TSS_GATE_NONE;
}

void xb_tss_filter_init(struct xb_tss_filter *f, __u64 *words,
			struct xb_tss_gate *gate)
{
	memset(f, 0, sizeof(*f));
	f->words = words;
	f->gate = gate;
	if (words)
		memset(words, 0, FILTER_BYTES);
	if (gate)
		gate_clear(gate);
}

/* The key's bits into words, its gate into gate: the datapath reads both
 * while they change, so each changes by one atomic store. */
static void set_key(__u64 *words, struct xb_tss_gate *gate,
		    const struct xb_tss_key *key, __u32 cls, __u32 key_gate)
{
	__u64 mask;
	__u32 idx = xb_tss_filter_word(key, cls, &mask);
	__u32 *prio = &gate[idx].priority[cls];

	__atomic_fetch_or(&words[idx], mask, __ATOMIC_RELAXED);
	if (key_gate < __atomic_load_n(prio, __ATOMIC_RELAXED))
		__atomic_store_n(prio, key_gate, __ATOMIC_RELAXED);
}

void xb_tss_filter_add(struct xb_tss_filter *f, const struct xb_tss_key *key,
		       __u32 cls, __u32 gate)
{
	if (!f->words || key->list >= XB_SHAPE_LISTS)
		return;
	set_key(f->words, f->gate, key, cls, gate);
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

/* The gate of value val of a key of class cls. */
static __u32 value_gate(const void *val, __u32 cls)
{
	return cls == XB_TSS_CLASS_PAIR ? xb_tss_pair_gate(val) : xb_tss_val_gate(val);
}

/* Every key of the map fd (values of val_size bytes, keys of class cls)
 * in the lists marked in redo, into fresh bitmaps and gates. */
static int collect_keys(int fd, size_t val_size, __u32 cls, const bool *redo,
			__u64 *fresh, struct xb_tss_gate *fresh_gate, __u32 *live)
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
			set_key(fresh, fresh_gate, &keys[i], cls,
				value_gate((char *)vals + i * val_size, cls));
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
	struct xb_tss_gate *fresh_gate;
	__u64 *fresh;
	size_t w;
	int l, err;
	__u32 c;

	if (!f->words)
		return 0;
	for (l = 0; l < XB_SHAPE_LISTS; l++)
		any |= redo[l] = needs_rebuild(f, l);
	if (!any)
		return 0;
	fresh = calloc(XB_TSS_FILTER_ENTRIES, sizeof(*fresh));
	fresh_gate = malloc(GATE_BYTES);
	if (!fresh || !fresh_gate) {
		free(fresh);
		free(fresh_gate);
		return -ENOMEM;
	}
	gate_clear(fresh_gate);
	err = collect_keys(tss_fd, sizeof(struct xb_tss_val), XB_TSS_CLASS_BIG,
			   redo, fresh, fresh_gate, live);
	if (!err && pair_fd >= 0)
		err = collect_keys(pair_fd, sizeof(struct xb_tss_pair_val),
				   XB_TSS_CLASS_PAIR, redo, fresh, fresh_gate, live);
	for (l = 0; !err && l < XB_SHAPE_LISTS; l++) {
		if (!redo[l])
			continue;
		/* word by word: a word is never seen half written */
		for (w = (size_t)l * LIST_WORDS; w < (size_t)(l + 1) * LIST_WORDS; w++) {
			__atomic_store_n(&f->words[w], fresh[w], __ATOMIC_RELAXED);
			for (c = 0; c < XB_TSS_CLASSES; c++)
				__atomic_store_n(&f->gate[w].priority[c],
						 fresh_gate[w].priority[c], __ATOMIC_RELAXED);
		}
		f->live[l] = live[l];
		f->added[l] = 0;
		f->stale[l] = 0;
		f->rebuilds++;
	}
	free(fresh);
	free(fresh_gate);
	return err;
}

int xb_tss_filter_map(struct xb_tss_filter *f, int filter_fd, int gate_fd)
{
	void *words, *gate;
	int err;

	words = mmap(NULL, FILTER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		     filter_fd, 0);
	if (words == MAP_FAILED)
		return -errno;
	gate = mmap(NULL, GATE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		    gate_fd, 0);
	if (gate == MAP_FAILED) {
		err = -errno;
		munmap(words, FILTER_BYTES);
		return err;
	}
	f->words = words;
	f->gate = gate;
	return 0;
}

void xb_tss_filter_unmap(struct xb_tss_filter *f)
{
	if (f->words)
		munmap(f->words, FILTER_BYTES);
	if (f->gate)
		munmap(f->gate, GATE_BYTES);
	f->words = NULL;
	f->gate = NULL;
}
