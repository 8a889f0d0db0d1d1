// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The heartbeat watchdog (bpf/watchdog.bpf.h) on the running kernel: the
 * maps object loaded with private maps, its timer armed as the daemon arms
 * it, and the heartbeat moved by hand. The timer must raise
 * xb_sync.heartbeat_stale once the beat is older than its timeout (not
 * before), lower it when a beat comes back, and keep ticking when armed a
 * second time (a daemon restart).
 *
 * The waits poll the flag with a bound far above the watchdog's period;
 * the lower bound (not stale before the timeout) is what the datapath's
 * correctness needs, and it holds on any machine.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xfrmbpf_maps.skel.h"
#include "xfrmbpf/sync.h"
#include "bpf_harness.h"

#define MS		1000000ULL
#define TIMEOUT_MS	200

static struct xfrmbpf_maps *skel;
static volatile struct xb_sync *sync_rec;

static int setup(void **state)
{
	struct bpf_map *map;

	(void)state;
	skel = xfrmbpf_maps__open();
	if (!skel)
		return -1;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	if (xfrmbpf_maps__load(skel))
		return -1;
	sync_rec = mmap(NULL, sizeof(struct xb_sync), PROT_READ | PROT_WRITE,
			MAP_SHARED, bpf_map__fd(skel->maps.xb_sync), 0);
	return sync_rec == MAP_FAILED ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (sync_rec && sync_rec != MAP_FAILED)
		munmap((void *)sync_rec, sizeof(struct xb_sync));
	/* The last descriptor: the kernel cancels the timer. */
	xfrmbpf_maps__destroy(skel);
	return 0;
}

/* One run of xb_watchdog_arm, as xb_maps_create() does it. */
static uint32_t arm(void)
{
	unsigned char frame[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(
		bpf_program__fd(skel->progs.xb_watchdog_arm), &opts), 0);
	return opts.retval;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Polls until heartbeat_stale == want; the ms it took, or -1 past max_ms. */
static long wait_flag(uint32_t want, unsigned int max_ms)
{
	uint64_t t0 = xbt_now_ns();

	while (sync_rec->heartbeat_stale != want) {
		if (xbt_now_ns() - t0 > max_ms * MS)
			return -1;
		sleep_ms(2);
	}
	return (long)((xbt_now_ns() - t0) / MS);
}

static void beat(int64_t offset_ns)
{
	sync_rec->heartbeat_ns = xbt_now_ns() + offset_ns;
}

/* Armed with a fresh beat: the first tick runs at once and lowers a flag
 * left raised (by a dead daemon's watchdog, say). */
static void test_arm_fresh(void **state)
{
	(void)state;
	sync_rec->heartbeat_timeout_ns = TIMEOUT_MS * MS;
	sync_rec->heartbeat_stale = 1;
	beat(0);
	assert_int_equal(arm(), XDP_PASS);
	assert_true(wait_flag(0, 1000) >= 0);
}

/* No beat: stale once the timeout has passed, never before it. */
static void test_goes_stale(void **state)
{
	uint64_t t0, waited;

	(void)state;
	beat(0);
	t0 = sync_rec->heartbeat_ns;
	assert_true(wait_flag(1, 5 * TIMEOUT_MS) >= 0);
	waited = xbt_now_ns() - t0;
	print_message("# stale after %llu ms (timeout %d ms)\n",
		      (unsigned long long)(waited / MS), TIMEOUT_MS);
	assert_true(waited > TIMEOUT_MS * MS);
}

/* A beat again: the next tick lowers the flag. */
static void test_recovers(void **state)
{
	(void)state;
	assert_int_equal(sync_rec->heartbeat_stale, 1);
	beat(0);
	assert_true(wait_flag(0, 1000) >= 0);
}

/* A beat stamped on a CPU a little ahead of this one is fresh. */
static void test_beat_ahead(void **state)
{
	(void)state;
	beat(5 * MS);
	sleep_ms(3 * 20);
	assert_int_equal(sync_rec->heartbeat_stale, 0);
}

/* Never beaten (0): stale at the first look. */
static void test_never_beaten(void **state)
{
	(void)state;
	sync_rec->heartbeat_ns = 0;
	assert_true(wait_flag(1, 1000) >= 0);
	beat(0);
	assert_true(wait_flag(0, 1000) >= 0);
}

/* Timeout 0 (a daemon that never said): the default of 3 s applies. */
static void test_default_timeout(void **state)
{
	(void)state;
	sync_rec->heartbeat_timeout_ns = 0;
	beat(-1000 * (int64_t)MS);
	sleep_ms(300);
	assert_int_equal(sync_rec->heartbeat_stale, 0);
	beat(-4000 * (int64_t)MS);
	assert_true(wait_flag(1, 1000) >= 0);
	sync_rec->heartbeat_timeout_ns = TIMEOUT_MS * MS;
	beat(0);
	assert_true(wait_flag(0, 1000) >= 0);
}

/* Armed again over a running timer (a daemon restart): accepted, and the
 * timer still ticks. */
static void test_rearm(void **state)
{
	(void)state;
	assert_int_equal(arm(), XDP_PASS);
	assert_int_equal(arm(), XDP_PASS);
	beat(0);
	assert_true(wait_flag(1, 5 * TIMEOUT_MS) >= 0);
	beat(0);
	assert_true(wait_flag(0, 1000) >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arm_fresh),
		cmocka_unit_test(test_goes_stale),
		cmocka_unit_test(test_recovers),
		cmocka_unit_test(test_beat_ahead),
		cmocka_unit_test(test_never_beaten),
		cmocka_unit_test(test_default_timeout),
		cmocka_unit_test(test_rearm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
