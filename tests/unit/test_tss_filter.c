// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The presence filter of the tuple-space search (user/classifier/tss_filter.c): no
 * published key ever has its bit clear (a false negative would make the
 * datapath skip a policy), deletions leave bits until a rebuild, and a
 * rebuild from the xb_tss map leaves exactly the bits of the live keys.
 * The same for the priority gate: never above the best policy of a live
 * key of its word and class (the datapath would skip a policy that wins),
 * exact after adds and after a rebuild, 0 for a full bucket.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include "spd_gen.h"
#include "classifier/tss_filter.h"

#define N_KEYS	12000
#define LIST	5

static __u64 words[XB_TSS_FILTER_ENTRIES];
static struct xb_tss_gate gate[XB_TSS_GATE_ENTRIES];
static struct xb_tss_key keys[N_KEYS];
static struct xb_tss_val vals[N_KEYS];

static void random_key(struct xb_rng *rng, struct xb_tss_key *k, __u8 list)
{
	memset(k, 0, sizeof(*k));
	k->list = list;
	k->proto = (__u8)xb_rng_below(rng, 3) * 6;
	k->shape_id = (__u16)xb_rng_below(rng, XB_MAX_TABLES);
	k->sport = (__be16)xb_rng_next(rng);
	k->dport = (__be16)xb_rng_next(rng);
	k->saddr.a[0] = (__u32)xb_rng_next(rng);
	k->daddr.a[0] = (__u32)xb_rng_next(rng);
	if (list & 1) {		/* an IPv6 list */
		k->saddr.a[3] = (__u32)xb_rng_next(rng);
		k->daddr.a[2] = (__u32)xb_rng_next(rng);
	}
}

static bool bit_set(const struct xb_tss_key *k)
{
	__u64 mask;
	__u32 idx = xb_tss_filter_word(k, XB_TSS_CLASS_BIG, &mask);

	return xb_tss_filter_hit(words[idx], mask);
}

static unsigned long list_bits(__u8 list)
{
	unsigned long n = 0;
	__u32 i;

	for (i = 0; i < XB_TSS_FILTER_WORDS; i++)
		n += (unsigned long)__builtin_popcountll(
			words[list * XB_TSS_FILTER_WORDS + i]);
	return n;
}

/* Bits the keys [from, to) set, counted once each. */
static unsigned long distinct_bits(size_t from, size_t to)
{
	static __u64 seen[XB_TSS_FILTER_ENTRIES];
	unsigned long n = 0;
	__u64 mask;
	__u32 idx;
	size_t i;

	memset(seen, 0, sizeof(seen));
	for (i = from; i < to; i++) {
		idx = xb_tss_filter_word(&keys[i], XB_TSS_CLASS_BIG, &mask);
		n += (unsigned long)__builtin_popcountll(mask & ~seen[idx]);
		seen[idx] |= mask;
	}
	return n;
}

/* A bucket for key i: its best policy's priority, every 97th full. */
static void random_val(struct xb_rng *rng, struct xb_tss_val *v, size_t i)
{
	memset(v, 0, sizeof(*v));
	v->count = 1;
	v->full = i % 97 == 0;
	v->rules[0].priority = (__u32)xb_rng_below(rng, 100000) + 1;
}

/* The gates of list LIST against the keys [from, to), all of class big:
 * exact (each word's the best of its keys', XB_TSS_GATE_NONE for none),
 * or only never above that (gates deleted keys left behind). */
static void check_gates(size_t from, size_t to, bool exact)
{
	static __u32 want[XB_TSS_GATE_ENTRIES];
	__u64 mask;
	__u32 idx;
	size_t i;

	for (i = 0; i < XB_TSS_GATE_ENTRIES; i++)
		want[i] = XB_TSS_GATE_NONE;
	for (i = from; i < to; i++) {
		idx = xb_tss_filter_word(&keys[i], XB_TSS_CLASS_BIG, &mask);
		if (xb_tss_val_gate(&vals[i]) < want[idx])
			want[idx] = xb_tss_val_gate(&vals[i]);
	}
	for (i = (size_t)LIST * XB_TSS_FILTER_WORDS; i < (size_t)(LIST + 1) * XB_TSS_FILTER_WORDS; i++) {
		if (exact)
			assert_int_equal(gate[i].priority[XB_TSS_CLASS_BIG], want[i]);
		else
			assert_true(gate[i].priority[XB_TSS_CLASS_BIG] <= want[i]);
		assert_int_equal(gate[i].priority[XB_TSS_CLASS_PAIR], XB_TSS_GATE_NONE);
	}
}

static int make_tss_map(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);

	return bpf_map_create(BPF_MAP_TYPE_HASH, "xbt_tss", sizeof(struct xb_tss_key),
			      sizeof(struct xb_tss_val), N_KEYS, &opts);
}

static void test_filter_sets_bits_and_rebuilds_after_deletions(void **state)
{
	struct xb_tss_filter f;
	struct xb_rng rng;
	size_t i, keep = N_KEYS / 3;
	int fd;

	(void)state;
	fd = make_tss_map();
	if (fd < 0)
		skip();
	xb_rng_seed(&rng, xb_test_seed("tss_filter"));
	xb_tss_filter_init(&f, words, gate);
	for (i = 0; i < N_KEYS; i++) {
		random_key(&rng, &keys[i], LIST);
		random_val(&rng, &vals[i], i);
		assert_int_equal(bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY), 0);
		xb_tss_filter_add(&f, &keys[i], XB_TSS_CLASS_BIG, xb_tss_val_gate(&vals[i]));
	}
	for (i = 0; i < N_KEYS; i++)
		assert_true(bit_set(&keys[i]));
	assert_int_equal(list_bits(LIST), distinct_bits(0, N_KEYS));
	check_gates(0, N_KEYS, true);
	/* the other lists are untouched */
	assert_int_equal(list_bits(LIST - 1) + list_bits(LIST + 1), 0);
	assert_int_equal(gate[LIST * XB_TSS_FILTER_WORDS - 1].priority[XB_TSS_CLASS_BIG],
			 XB_TSS_GATE_NONE);
	assert_int_equal(gate[(LIST + 1) * XB_TSS_FILTER_WORDS].priority[XB_TSS_CLASS_BIG],
			 XB_TSS_GATE_NONE);


	/* a few deletions: bits stay, no rebuild yet */
	for (i = N_KEYS - 100; i < N_KEYS; i++) {
		assert_int_equal(bpf_map_delete_elem(fd, &keys[i]), 0);
		xb_tss_filter_del(&f, &keys[i]);
	}
	assert_int_equal(xb_tss_filter_maintain(&f, fd, -1), 0);
	assert_int_equal(f.rebuilds, 0);
	assert_int_equal(list_bits(LIST), distinct_bits(0, N_KEYS));
	check_gates(0, N_KEYS - 100, false);

	/* most of them: the list is rebuilt from the map */
	for (i = keep; i < N_KEYS - 100; i++) {
		assert_int_equal(bpf_map_delete_elem(fd, &keys[i]), 0);
		xb_tss_filter_del(&f, &keys[i]);
	}
	assert_int_equal(xb_tss_filter_maintain(&f, fd, -1), 0);
	assert_int_equal(f.rebuilds, 1);
	for (i = 0; i < keep; i++)
		assert_true(bit_set(&keys[i]));
	assert_int_equal(list_bits(LIST), distinct_bits(0, keep));
	assert_int_equal(f.live[LIST], keep);
	check_gates(0, keep, true);

	/* nothing more to do */
	assert_int_equal(xb_tss_filter_maintain(&f, fd, -1), 0);
	assert_int_equal(f.rebuilds, 1);
	close(fd);
}

/* A word's gate of a class goes down with a better policy of its key and
 * stays with a worse one; a full bucket's is 0, a pair's its first
 * policy's; the other class keeps its own. */
static void test_gate_follows_best_priority(void **state)
{
	struct xb_tss_pair_val pair = { .count = 1 };
	struct xb_tss_val full = { .count = 1, .full = 1 };
	struct xb_tss_filter f;
	struct xb_tss_gate *g;
	struct xb_tss_key k;
	struct xb_rng rng;
	__u64 mask;

	(void)state;
	xb_rng_seed(&rng, xb_test_seed("tss_gate"));
	xb_tss_filter_init(&f, words, gate);
	random_key(&rng, &k, LIST);
	g = &gate[xb_tss_filter_word(&k, XB_TSS_CLASS_BIG, &mask)];
	assert_int_equal(g->priority[XB_TSS_CLASS_BIG], XB_TSS_GATE_NONE);
	xb_tss_filter_add(&f, &k, XB_TSS_CLASS_BIG, 50);
	assert_int_equal(g->priority[XB_TSS_CLASS_BIG], 50);
	xb_tss_filter_add(&f, &k, XB_TSS_CLASS_BIG, 70);
	assert_int_equal(g->priority[XB_TSS_CLASS_BIG], 50);
	pair.rules[0].priority = 20;
	xb_tss_filter_add(&f, &k, XB_TSS_CLASS_PAIR, xb_tss_pair_gate(&pair));
	assert_int_equal(g->priority[XB_TSS_CLASS_PAIR], 20);
	assert_int_equal(g->priority[XB_TSS_CLASS_BIG], 50);
	full.rules[0].priority = 90;
	xb_tss_filter_add(&f, &k, XB_TSS_CLASS_BIG, xb_tss_val_gate(&full));
	assert_int_equal(g->priority[XB_TSS_CLASS_BIG], 0);
	/* only that word */
	assert_int_equal(gate[(g - gate) ^ 1].priority[XB_TSS_CLASS_BIG], XB_TSS_GATE_NONE);
}

/*
 * The false-positive rate at the load of a list of 100k realistic
 * policies (~40k keys, 4% of its bits): three bits a key let ~0.27% of
 * absent keys through where one bit let ~3.7% (each a hash lookup the
 * datapath makes for nothing). Fresh random keys are absent but for a
 * 2^-64 chance.
 */
#define FP_KEYS		40000
#define FP_PROBES	200000

static void test_filter_false_positives_are_rare(void **state)
{
	static struct xb_tss_key added[FP_KEYS];
	struct xb_tss_filter f;
	struct xb_tss_key probe;
	struct xb_rng rng;
	unsigned long passed = 0;
	size_t i;

	(void)state;
	xb_rng_seed(&rng, xb_test_seed("tss_filter_fp"));
	xb_tss_filter_init(&f, words, gate);
	for (i = 0; i < FP_KEYS; i++) {
		random_key(&rng, &added[i], LIST);
		xb_tss_filter_add(&f, &added[i], XB_TSS_CLASS_BIG, 0);
	}
	for (i = 0; i < FP_KEYS; i++)
		assert_true(bit_set(&added[i]));
	for (i = 0; i < FP_PROBES; i++) {
		random_key(&rng, &probe, LIST);
		passed += bit_set(&probe);
	}
	print_message("false positives: %lu of %u absent keys\n", passed, FP_PROBES);
	assert_true(passed * 1000 < (unsigned long)FP_PROBES * 5);
	/* keys of the other lists pass only through their own bitmaps */
	for (i = 0, passed = 0; i < FP_PROBES; i++) {
		random_key(&rng, &probe, LIST + 1);
		passed += bit_set(&probe);
	}
	assert_int_equal(passed, 0);
}

/*
 * xb_tss_filter_may_hold(), the datapath's first test of a key: false only
 * where neither class's mask is all in the word (else a published key
 * would be skipped), on words of every density; and on a loaded filter it
 * turns most absent keys away on its own (the reason it exists).
 */
static void test_may_hold_only_rules_out_absent_keys(void **state)
{
	unsigned long may = 0, absent = 0;
	struct xb_tss_filter f;
	struct xb_tss_key probe;
	struct xb_rng rng;
	__u64 word, h;
	bool held;
	size_t i;

	(void)state;
	xb_rng_seed(&rng, xb_test_seed("tss_filter_may_hold"));
	for (i = 0; i < FP_PROBES; i++) {
		/* densities from 1/2 down to 1/64 */
		word = xb_rng_next(&rng);
		word &= i % 2 ? xb_rng_next(&rng) : ~0ULL;
		word &= i % 3 ? xb_rng_next(&rng) : ~0ULL;
		word &= i % 5 ? xb_rng_next(&rng) & xb_rng_next(&rng) : ~0ULL;
		h = xb_rng_next(&rng);
		held = xb_tss_filter_hit(word, xb_tss_filter_mask_of(h, XB_TSS_CLASS_BIG)) ||
		       xb_tss_filter_hit(word, xb_tss_filter_mask_of(h, XB_TSS_CLASS_PAIR));
		if (held)
			assert_true(xb_tss_filter_may_hold(word, h));
	}
	assert_false(xb_tss_filter_may_hold(0, xb_rng_next(&rng)));

	xb_tss_filter_init(&f, words, gate);
	for (i = 0; i < N_KEYS; i++) {
		random_key(&rng, &keys[i], LIST);
		xb_tss_filter_add(&f, &keys[i], i % 2 ? XB_TSS_CLASS_PAIR : XB_TSS_CLASS_BIG, 0);
	}
	for (i = 0; i < N_KEYS; i++) {
		h = xb_tss_filter_hash(&keys[i]);
		assert_true(xb_tss_filter_may_hold(words[xb_tss_filter_word_of(LIST, h)], h));
	}
	for (i = 0; i < FP_PROBES; i++) {
		random_key(&rng, &probe, LIST);
		h = xb_tss_filter_hash(&probe);
		word = words[xb_tss_filter_word_of(LIST, h)];
		may += xb_tss_filter_may_hold(word, h);
		absent += !xb_tss_filter_hit(word, xb_tss_filter_mask_of(h, XB_TSS_CLASS_BIG)) &&
			  !xb_tss_filter_hit(word, xb_tss_filter_mask_of(h, XB_TSS_CLASS_PAIR));
	}
	print_message("may hold: %lu of %u absent keys (%lu the masks turn away)\n",
		      may, FP_PROBES, absent);
	assert_true(may * 10 < (unsigned long)FP_PROBES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_sets_bits_and_rebuilds_after_deletions),
		cmocka_unit_test(test_gate_follows_best_priority),
		cmocka_unit_test(test_filter_false_positives_are_rare),
		cmocka_unit_test(test_may_hold_only_rules_out_absent_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
