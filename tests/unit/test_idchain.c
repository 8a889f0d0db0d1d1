// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Chains of u32 indices (user/lib/idchain.c), which the mirror's
 * policies by index and the classifier's buckets are found through:
 * random links, unlinks (of linked elements and of elements in no chain)
 * and growths against a plain record of which elements are linked. After
 * each step every linked element is on the chain of its own head, once,
 * no other element is on any chain, and the count is theirs. Keys are
 * drawn from a small range, so that chains hold equal hashes too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>
#include "lib/idchain.h"
#include "spd_gen.h"

#define N_ELEMS		4096
#define N_STEPS		40000

struct elem {
	__u32 next;
	__u32 key;
};

static struct elem elems[N_ELEMS];
static bool linked[N_ELEMS];

static __u32 *elem_link(void *ctx, __u32 idx)
{
	return &((struct elem *)ctx)[idx].next;
}

static __u32 elem_hash(void *ctx, __u32 idx)
{
	return ((struct elem *)ctx)[idx].key;
}

static const struct xb_idchain_elems ops = {
	.link = elem_link,
	.hash = elem_hash,
	.ctx = elems,
};

/* Every chain, walked from every head: each element on it is linked, on
 * the chain of its own head and seen once; all linked ones are seen. */
static void check_chains(const struct xb_idchain *c)
{
	static bool seen[N_ELEMS];
	__u32 h, idx, n_heads = 1U << c->bits;
	size_t n_seen = 0, n_linked = 0;

	memset(seen, 0, sizeof(seen));
	for (h = 0; h < n_heads; h++)
		for (idx = c->heads[h]; idx != XB_IDCHAIN_END; idx = elems[idx].next) {
			assert_true(idx < N_ELEMS);
			assert_true(linked[idx]);
			assert_false(seen[idx]);
			assert_ptr_equal(xb_idchain_head(c, elems[idx].key), &c->heads[h]);
			seen[idx] = true;
			n_seen++;
		}
	for (idx = 0; idx < N_ELEMS; idx++)
		n_linked += linked[idx];
	assert_int_equal(n_seen, n_linked);
	assert_int_equal(c->count, n_linked);
}

static void test_chains_against_a_record(void **state)
{
	struct xb_rng rng;
	struct xb_idchain c;
	__u32 bits0 = 2, idx, step;

	(void)state;
	xb_rng_seed(&rng, xb_test_seed("idchain"));
	for (idx = 0; idx < N_ELEMS; idx++)
		elems[idx] = (struct elem){ .next = XB_IDCHAIN_END,
					    .key = (__u32)(xb_rng_next(&rng) % 1024) };
	memset(linked, 0, sizeof(linked));
	assert_int_equal(xb_idchain_init(&c, bits0), 0);
	for (step = 0; step < N_STEPS; step++) {
		idx = (__u32)(xb_rng_next(&rng) % N_ELEMS);
		if (!linked[idx] && xb_rng_next(&rng) % 4) {
			/* as the owners do: room first, then the link */
			assert_int_equal(xb_idchain_grow(&c, &ops), 0);
			xb_idchain_link(&c, &ops, idx);
			linked[idx] = true;
		} else {
			/* an element in no chain is left alone */
			xb_idchain_unlink(&c, &ops, idx);
			linked[idx] = false;
		}
		if (step % 997 == 0)
			check_chains(&c);
	}
	check_chains(&c);
	/* grown as it filled: fewer than two elements a head before each
	 * link */
	assert_true(c.bits > bits0);
	assert_true(c.count <= 2UL << c.bits);
	for (idx = 0; idx < N_ELEMS; idx++) {
		xb_idchain_unlink(&c, &ops, idx);
		linked[idx] = false;
	}
	check_chains(&c);
	assert_int_equal(c.count, 0);
	xb_idchain_fini(&c);
	assert_null(c.heads);
}

/* Growing relinks: every element is found through the new heads. */
static void test_grow_relinks_every_element(void **state)
{
	struct xb_idchain c;
	__u32 idx, n = 64;

	(void)state;
	memset(linked, 0, sizeof(linked));
	assert_int_equal(xb_idchain_init(&c, 1), 0);
	for (idx = 0; idx < n; idx++) {
		elems[idx] = (struct elem){ .next = XB_IDCHAIN_END, .key = idx * 7 };
		xb_idchain_link(&c, &ops, idx);
		linked[idx] = true;
	}
	/* 64 elements on 2 heads: doubled once a call while there are two
	 * or more a head, up to 64 heads */
	assert_int_equal(c.bits, 1);
	while (c.count >= 2UL << c.bits)
		assert_int_equal(xb_idchain_grow(&c, &ops), 0);
	assert_int_equal(c.bits, 6);
	check_chains(&c);
	/* nothing to do below two a head */
	assert_int_equal(xb_idchain_grow(&c, &ops), 0);
	assert_int_equal(c.bits, 6);
	xb_idchain_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chains_against_a_record),
		cmocka_unit_test(test_grow_relinks_every_element),
	};

	return cmocka_run_group_tests_name("idchain", tests, NULL, NULL);
}
