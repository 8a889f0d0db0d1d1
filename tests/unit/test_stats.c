// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/loader/stats.c on a real per-CPU array shaped as xb_stats (made here,
 * not pinned): the batch read, rows, totals and per-CPU sums, the
 * interface view derived from a row, and the fold of a reused slot's
 * row into the retired row that keeps the totals from going backwards;
 * the flow cache's hits and misses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader/stats.h"

#define ROW	3	/* the slot handed to a new device */

static struct xb_maps maps;
static struct xb_counter *vals;	/* one key's per-CPU values */

/* A value per (key, CPU) that no two cells share. */
static struct xb_counter fill_value(__u32 key, int cpu)
{
	struct xb_counter c = { .packets = key * 1000 + cpu + 1,
				.bytes = (key * 1000 + cpu + 1) * 100 };

	return c;
}

static void put(__u32 key, const struct xb_counter *v)
{
	assert_int_equal(bpf_map_update_elem(maps.fd[XB_MAP_STATS], &key, v, BPF_ANY), 0);
}

static void get(__u32 key, struct xb_counter *v)
{
	assert_int_equal(bpf_map_lookup_elem(maps.fd[XB_MAP_STATS], &key, v), 0);
}

/* Every cell of the rows a test uses gets its own value. */
static void fill(void)
{
	static const __u32 rows[] = { 0, ROW, XB_STATS_ROW_OTHER, XB_STATS_ROW_RETIRED };
	__u32 r, i;
	int c;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (r = 0; r < XB_R_MAX; r++) {
			__u32 key = XB_STATS_KEY(rows[i], r);

			for (c = 0; c < maps.n_cpus; c++)
				vals[c] = fill_value(key, c);
			put(key, vals);
		}
	}
}

static int setup(void **state)
{
	int fd, i;

	(void)state;
	for (i = 0; i < XB_MAP_COUNT; i++)
		maps.fd[i] = -1;
	maps.n_cpus = libbpf_num_possible_cpus();
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xbt_stats", sizeof(__u32),
			    sizeof(struct xb_counter), XB_STATS_ENTRIES, NULL);
	if (fd < 0 || maps.n_cpus < 1) {
		printf("ok - stats # SKIP no per-CPU array: %s\n", strerror(errno));
		return -1;
	}
	maps.fd[XB_MAP_STATS] = fd;
	vals = calloc(maps.n_cpus, sizeof(*vals));
	return vals ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (maps.fd[XB_MAP_STATS] >= 0)
		close(maps.fd[XB_MAP_STATS]);
	free(vals);
	return 0;
}

static void read_totals(struct xb_counter *t)
{
	struct xb_stats st;

	assert_int_equal(xb_stats_read(&maps, &st), 0);
	xb_stats_totals(&st, t);
	xb_stats_free(&st);
}

/* The batch read agrees with what was written, key by key. */
static void test_batch_read_matches_every_key(void **state)
{
	struct xb_counter row[XB_R_MAX], tot[XB_R_MAX];
	__u64 cpu_pk[XB_R_MAX];
	struct xb_stats st;
	__u32 r, key;
	__u64 want;
	int c;

	(void)state;
	fill();
	assert_int_equal(xb_stats_read(&maps, &st), 0);
	xb_stats_row(&st, ROW, row);
	xb_stats_totals(&st, tot);
	xb_stats_cpu_packets(&st, maps.n_cpus - 1, cpu_pk);
	xb_stats_free(&st);
	for (r = 0; r < XB_R_MAX; r++) {
		key = XB_STATS_KEY(ROW, r);
		get(key, vals);
		want = 0;
		for (c = 0; c < maps.n_cpus; c++)
			want += vals[c].packets;
		assert_int_equal(row[r].packets, want);
		assert_int_equal(row[r].bytes, want * 100);
		/* rows 0, ROW, OTHER and RETIRED hold something */
		want = 0;
		for (c = 0; c < maps.n_cpus; c++)
			want += fill_value(XB_STATS_KEY(0, r), c).packets +
				fill_value(XB_STATS_KEY(ROW, r), c).packets +
				fill_value(XB_STATS_KEY(XB_STATS_ROW_OTHER, r), c).packets +
				fill_value(XB_STATS_KEY(XB_STATS_ROW_RETIRED, r), c).packets;
		assert_int_equal(tot[r].packets, want);
		c = maps.n_cpus - 1;
		assert_int_equal(cpu_pk[r],
				 fill_value(XB_STATS_KEY(0, r), c).packets +
				 fill_value(XB_STATS_KEY(ROW, r), c).packets +
				 fill_value(XB_STATS_KEY(XB_STATS_ROW_OTHER, r), c).packets +
				 fill_value(XB_STATS_KEY(XB_STATS_ROW_RETIRED, r), c).packets);
	}
}

/* rx counts what XDP saw (not the steer reasons), dropped the drop
 * reasons, passed the rest, steered XB_R_STEER. */
static void test_iface_view(void **state)
{
	struct xb_counter row[XB_R_MAX] = {};
	struct xb_iface_counters v;

	(void)state;
	row[XB_R_PASS_NO_POLICY].packets = 5;
	row[XB_R_PASS_UNSYNCED].packets = 7;
	row[XB_R_DROP_UNKNOWN_SPI].packets = 11;
	row[XB_R_DROP_DEFAULT_BLOCK].packets = 13;
	row[XB_R_STEER].packets = 17;
	row[XB_R_STEER_SKIP_MTU].packets = 19;
	xb_stats_iface(row, &v);
	assert_int_equal(v.rx_packets, 5 + 7 + 11 + 13);
	assert_int_equal(v.dropped, 11 + 13);
	assert_int_equal(v.passed, 5 + 7);
	assert_int_equal(v.steered, 17);
}

/* Handing ROW to a new device: ROW reads zero, RETIRED holds what it
 * had plus ROW's counts CPU by CPU, nothing else moves, and the totals
 * per reason stay exactly where they were. */
static void test_retire_row(void **state)
{
	struct xb_counter before[XB_R_MAX], after[XB_R_MAX];
	__u32 r, key, rkey;
	int c;

	(void)state;
	fill();
	read_totals(before);
	assert_int_equal(xb_stats_retire_row(&maps, ROW), 0);
	read_totals(after);
	assert_memory_equal(before, after, sizeof(before));
	for (r = 0; r < XB_R_MAX; r++) {
		key = XB_STATS_KEY(ROW, r);
		rkey = XB_STATS_KEY(XB_STATS_ROW_RETIRED, r);
		get(key, vals);
		for (c = 0; c < maps.n_cpus; c++) {
			assert_int_equal(vals[c].packets, 0);
			assert_int_equal(vals[c].bytes, 0);
		}
		get(rkey, vals);
		for (c = 0; c < maps.n_cpus; c++) {
			assert_int_equal(vals[c].packets, fill_value(key, c).packets +
					 fill_value(rkey, c).packets);
			assert_int_equal(vals[c].bytes, fill_value(key, c).bytes +
					 fill_value(rkey, c).bytes);
		}
		key = XB_STATS_KEY(0, r);
		get(key, vals);
		for (c = 0; c < maps.n_cpus; c++)
			assert_int_equal(vals[c].packets, fill_value(key, c).packets);
	}
	/* again: an empty row moves nothing */
	assert_int_equal(xb_stats_retire_row(&maps, ROW), 0);
	read_totals(after);
	assert_memory_equal(before, after, sizeof(before));
}

/* Only a device's row is ever handed over. */
static void test_retire_only_slots(void **state)
{
	(void)state;
	assert_int_equal(xb_stats_retire_row(&maps, XB_STATS_ROW_OTHER), -EINVAL);
	assert_int_equal(xb_stats_retire_row(&maps, XB_STATS_ROW_RETIRED), -EINVAL);
}

/* The flow cache's hits and misses, summed over every CPU. */
static void test_flow_stats_summed_over_cpus(void **state)
{
	struct xb_flow_stats *v, sum;
	__u32 zero = 0;
	int fd, c;

	(void)state;
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xbt_flow_stats", sizeof(__u32),
			    sizeof(struct xb_flow_stats), 1, NULL);
	assert_true(fd >= 0);
	v = calloc(maps.n_cpus, sizeof(*v));
	assert_non_null(v);
	for (c = 0; c < maps.n_cpus; c++) {
		v[c].hits = 1000u * (c + 1);
		v[c].misses = c + 1;
	}
	assert_int_equal(bpf_map_update_elem(fd, &zero, v, BPF_ANY), 0);
	maps.fd[XB_MAP_FLOW_STATS] = fd;
	assert_int_equal(xb_flow_stats_read(&maps, &sum), 0);
	assert_int_equal(sum.hits, 1000u * maps.n_cpus * (maps.n_cpus + 1) / 2);
	assert_int_equal(sum.misses, maps.n_cpus * (maps.n_cpus + 1) / 2);
	maps.fd[XB_MAP_FLOW_STATS] = -1;
	close(fd);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_read_matches_every_key),
		cmocka_unit_test(test_iface_view),
		cmocka_unit_test(test_retire_row),
		cmocka_unit_test(test_retire_only_slots),
		cmocka_unit_test(test_flow_stats_summed_over_cpus),
	};

	if (setup(NULL)) {
		teardown(NULL);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, teardown);
}
