// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The SPD watch's repair of a writer count that no return will end
 * (user/loader/spd_watch.c, xb_spd_writers_repair()), on a sync record in
 * memory: the probes write it on a kernel with kprobes; here the test
 * plays them. A count is cleared only when two heartbeats in a row found
 * it, and the last return's stamp, unchanged; a writer beginning or
 * ending in between keeps it, or the datapath would trust maps that a
 * running change is about to make stale.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "loader/maps.h"
#include "loader/spd_watch.h"
#include "xfrmbpf/sync.h"

static struct xb_sync record;
static struct xb_maps maps = { .sync = &record };
static struct xb_spd_writers_seen seen;

static int reset(void **state)
{
	(void)state;
	memset(&record, 0, sizeof(record));
	memset(&seen, 0, sizeof(seen));
	return 0;
}

/* A probe's entry, and its return (the stamp before the count, as the
 * return probe writes them). */
static void writer_begins(void)
{
	record.spd_writers++;
}

static void writer_ends(__u64 now_ns)
{
	record.spd_written_ns = now_ns;
	record.spd_writers--;
}

static void test_no_writer_nothing_to_clear(void **state)
{
	(void)state;
	assert_false(xb_spd_writers_repair(&seen, &maps));
	assert_false(xb_spd_writers_repair(&seen, &maps));
	assert_int_equal(record.spd_writers, 0);
}

static void test_stuck_writer_cleared_at_second_check(void **state)
{
	(void)state;
	writer_begins();
	writer_ends(1000);
	writer_begins();	/* never ends: a missed return */
	assert_false(xb_spd_writers_repair(&seen, &maps));
	assert_int_equal(record.spd_writers, 1);
	assert_true(xb_spd_writers_repair(&seen, &maps));
	assert_int_equal(record.spd_writers, 0);
	/* and then nothing more to do */
	assert_false(xb_spd_writers_repair(&seen, &maps));
}

/* A call already running when the probes were attached ends as a writer
 * that never began: the count below zero passes drops until cleared. */
static void test_count_below_zero_cleared(void **state)
{
	(void)state;
	writer_ends(2000);
	assert_int_equal(record.spd_writers, (__u64)-1);
	assert_false(xb_spd_writers_repair(&seen, &maps));
	assert_true(xb_spd_writers_repair(&seen, &maps));
	assert_int_equal(record.spd_writers, 0);
}

/* A long change (a flush of a big SPD) still running while others come
 * and go: each return moves the stamp, so the count stays. */
static void test_returns_between_checks_keep_the_count(void **state)
{
	(void)state;
	writer_begins();	/* the long one */
	assert_false(xb_spd_writers_repair(&seen, &maps));
	writer_begins();
	writer_ends(3000);
	assert_false(xb_spd_writers_repair(&seen, &maps));
	assert_int_equal(record.spd_writers, 1);
	writer_begins();
	writer_ends(4000);
	assert_false(xb_spd_writers_repair(&seen, &maps));
	assert_int_equal(record.spd_writers, 1);
	writer_ends(5000);	/* the long one returns */
	assert_false(xb_spd_writers_repair(&seen, &maps));
	assert_int_equal(record.spd_writers, 0);
}

/* A writer that began since the last check changes the count: kept. */
static void test_new_writer_keeps_the_count(void **state)
{
	(void)state;
	writer_begins();
	assert_false(xb_spd_writers_repair(&seen, &maps));
	writer_begins();
	assert_false(xb_spd_writers_repair(&seen, &maps));
	assert_int_equal(record.spd_writers, 2);
	/* unchanged for a heartbeat now: both are taken as stuck */
	assert_true(xb_spd_writers_repair(&seen, &maps));
	assert_int_equal(record.spd_writers, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_writer_nothing_to_clear, reset),
		cmocka_unit_test_setup(test_stuck_writer_cleared_at_second_check, reset),
		cmocka_unit_test_setup(test_count_below_zero_cleared, reset),
		cmocka_unit_test_setup(test_returns_between_checks_keep_the_count, reset),
		cmocka_unit_test_setup(test_new_writer_keeps_the_count, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
