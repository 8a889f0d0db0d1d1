// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Emptying a hash map from userspace (user/lib/map_clear.c): the keys are
 * collected in one walk, then deleted many to a system call, and a key
 * gone between the two (another writer, or the batch stopping at it) is
 * as good as deleted. On a private hash map (needs root).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lib/map_clear.h"

/* More than one batch of deletes (DELETE_BATCH in map_clear.c). */
#define N_KEYS	70000

static int new_map(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xbt_clear", sizeof(__u32),
				sizeof(__u64), N_KEYS, &opts);

	if (fd < 0)
		skip();
	return fd;
}

static void fill(int fd, __u32 n)
{
	__u64 val = 1;
	__u32 k;

	for (k = 0; k < n; k++)
		assert_int_equal(bpf_map_update_elem(fd, &k, &val, BPF_NOEXIST), 0);
}

static bool empty(int fd)
{
	__u32 next;

	return bpf_map_get_next_key(fd, NULL, &next) && errno == ENOENT;
}

/* Every key, across batches, with keys deleted after the walk. */
static void test_delete_collected_keys(void **state)
{
	struct xb_map_keys keys;
	int fd = new_map();
	__u32 k;

	(void)state;
	fill(fd, N_KEYS);
	assert_int_equal(xb_map_keys_collect(fd, sizeof(__u32), &keys), 0);
	assert_int_equal(keys.n, N_KEYS);
	/* gone before the delete: the first, one inside a batch, the last */
	for (k = 0; k < N_KEYS; k += N_KEYS / 7)
		assert_int_equal(bpf_map_delete_elem(fd, &k), 0);
	k = N_KEYS - 1;
	bpf_map_delete_elem(fd, &k);
	assert_int_equal(xb_map_keys_delete(fd, &keys), 0);
	assert_true(empty(fd));
	xb_map_keys_free(&keys);
	assert_null(keys.keys);
	close(fd);
}

static void test_clear(void **state)
{
	int fd = new_map();

	(void)state;
	assert_int_equal(xb_map_clear(fd, sizeof(__u32)), 0);
	assert_true(empty(fd));
	fill(fd, 3000);
	assert_int_equal(xb_map_clear(fd, sizeof(__u32)), 0);
	assert_true(empty(fd));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delete_collected_keys),
		cmocka_unit_test(test_clear),
	};

	return cmocka_run_group_tests_name("map_clear", tests, NULL, NULL);
}
