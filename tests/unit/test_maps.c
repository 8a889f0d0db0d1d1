// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow cache's size (user/loader/maps.c): per CPU, within a budget for all
 * CPUs; a new pin directory gets the size for this machine, an existing
 * cache keeps its own, and a cache of a size no xfrmbpf makes is refused.
 * On a private bpffs mounted for the test.
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader/maps.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/limits.h"
#include "xfrmbpf_maps.skel.h"

static char mnt[] = "/run/xbt/maps-XXXXXX";
static char pin_dir[sizeof(mnt) + 16];
static char cache_pin[sizeof(pin_dir) + 32];

static int setup(void **state)
{
	(void)state;
	mkdir("/run/xbt", 0755);
	if (!mkdtemp(mnt))
		return -1;
	if (mount("xbt-bpffs", mnt, "bpf", 0, NULL)) {
		rmdir(mnt);
		return -1;
	}
	snprintf(pin_dir, sizeof(pin_dir), "%s/xfrmbpf", mnt);
	snprintf(cache_pin, sizeof(cache_pin), "%s/xb_flow_cache", pin_dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	umount2(mnt, MNT_DETACH);
	return rmdir(mnt);
}

/* Pins nothing but a flow cache of `blocks` blocks, as a stale version's
 * daemon or another tool could have left it. */
static void pin_cache(__u32 blocks)
{
	int fd;

	xb_pin_dir_remove(pin_dir);
	assert_int_equal(mkdir(pin_dir, 0700), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, NULL, sizeof(__u32),
			    sizeof(struct xb_flow_block), blocks, NULL);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_pin(fd, cache_pin), 0);
	close(fd);
}

static __u32 pinned_slots(void)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(cache_pin);

	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd);
	return info.max_entries * XB_FLOW_BLOCK;
}

/* Full size up to the budget, then halved per doubling of the CPUs,
 * never below the floor. */
static void test_bits_for_cpus(void **state)
{
	(void)state;
	assert_int_equal(xb_flow_cache_bits(1), XB_FLOW_CACHE_BITS);
	assert_int_equal(xb_flow_cache_bits(2), XB_FLOW_CACHE_BITS);
	/* 11 x 90 B x 64k = 61.9 MiB, 12 x: 67.5 MiB */
	assert_int_equal(xb_flow_cache_bits(11), XB_FLOW_CACHE_BITS);
	assert_int_equal(xb_flow_cache_bits(12), XB_FLOW_CACHE_BITS - 1);
	assert_int_equal(xb_flow_cache_bits(64), 13);
	assert_int_equal(xb_flow_cache_bits(128), XB_FLOW_CACHE_MIN_BITS);
	assert_int_equal(xb_flow_cache_bits(4096), XB_FLOW_CACHE_MIN_BITS);
}

static __u32 pinned_entries(const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[sizeof(pin_dir) + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd);
	return info.max_entries;
}

/* A new pin directory: the size for this machine's CPUs. */
static void test_create_sized(void **state)
{
	int n = libbpf_num_possible_cpus();

	(void)state;
	xb_pin_dir_remove(pin_dir);
	assert_int_equal(xb_maps_create(pin_dir, XB_MAX_POLICIES), 0);
	assert_int_equal(pinned_slots(), 1U << xb_flow_cache_bits(n));
	assert_int_equal(pinned_entries("xb_flow_tags"),
			 (1U << xb_flow_cache_bits(n)) / XB_FLOW_BLOCK);
	/* and again, on its own pins */
	assert_int_equal(xb_maps_create(pin_dir, XB_MAX_POLICIES), 0);
	assert_int_equal(pinned_slots(), 1U << xb_flow_cache_bits(n));
	assert_int_equal(xb_pin_dir_remove(pin_dir), 0);
}

/* An existing cache keeps its size: the maps are made around it, and an
 * object to be loaded on them is fitted to it. */
static void test_reuse_pinned_size(void **state)
{
	struct xfrmbpf_maps *skel;
	__u32 slots = 1U << (XB_FLOW_CACHE_MIN_BITS + 1);

	(void)state;
	pin_cache(slots / XB_FLOW_BLOCK);
	assert_int_equal(xb_maps_create(pin_dir, XB_MAX_POLICIES), 0);
	assert_int_equal(pinned_slots(), slots);
	assert_int_equal(pinned_entries("xb_flow_tags"), slots / XB_FLOW_BLOCK);

	skel = xfrmbpf_maps__open();
	assert_non_null(skel);
	assert_int_equal(xb_flow_cache_fit(skel->maps.xb_flow_cache, skel->maps.xb_flow_tags,
					   pin_dir), XB_FLOW_CACHE_MIN_BITS + 1);
	assert_int_equal(bpf_map__max_entries(skel->maps.xb_flow_cache), slots / XB_FLOW_BLOCK);
	assert_int_equal(bpf_map__max_entries(skel->maps.xb_flow_tags), slots / XB_FLOW_BLOCK);
	xfrmbpf_maps__destroy(skel);
	assert_int_equal(xb_pin_dir_remove(pin_dir), 0);
}

/* A size that is not a power of two in range: refused, not misread. */
static void test_reject_other_size(void **state)
{
	struct xfrmbpf_maps *skel;

	(void)state;
	pin_cache(1000);	/* 32,000 slots */
	skel = xfrmbpf_maps__open();
	assert_non_null(skel);
	assert_int_equal(xb_flow_cache_fit(skel->maps.xb_flow_cache, skel->maps.xb_flow_tags,
					   pin_dir), -EINVAL);
	xfrmbpf_maps__destroy(skel);
	assert_int_not_equal(xb_maps_create(pin_dir, XB_MAX_POLICIES), 0);
	pin_cache((1U << (XB_FLOW_CACHE_BITS + 1)) / XB_FLOW_BLOCK);
	assert_int_not_equal(xb_maps_create(pin_dir, XB_MAX_POLICIES), 0);
	assert_int_equal(xb_pin_dir_remove(pin_dir), 0);
}

/* `run --max-policies`: the capacity maps are created at that size, kept
 * when it stays, re-created (no program uses them here) when it changes;
 * xb_maps_open() reports it and an object to be loaded is fitted to it. */
static void test_capacity(void **state)
{
	struct xfrmbpf_maps *skel;
	struct xb_maps maps;

	(void)state;
	xb_pin_dir_remove(pin_dir);
	assert_int_equal(xb_maps_create(pin_dir, 1024), 0);
	/* pages of 30 policies, of 47 scopes, of 41 first templates */
	assert_int_equal(pinned_entries("xb_policies"), 35);
	assert_int_equal(pinned_entries("xb_scope_pages"), 22);
	assert_int_equal(pinned_entries("xb_tmpl_pages"), 25);
	assert_int_equal(pinned_entries("xb_tmpls"), 1024);
	assert_int_equal(pinned_entries("xb_tss"), 1024);
	assert_int_equal(pinned_entries("xb_tss_pair"), 2048);
	assert_int_equal(pinned_entries("xb_policy_stats"), 1024);
	assert_int_equal(xb_maps_create(pin_dir, 1024), 0);
	assert_int_equal(xb_maps_create(pin_dir, 4096), 0);
	assert_int_equal(pinned_entries("xb_policies"), 137);
	assert_int_equal(pinned_entries("xb_scope_pages"), 88);
	assert_int_equal(pinned_entries("xb_tmpl_pages"), 100);
	assert_int_equal(pinned_entries("xb_tss"), 4096);
	assert_int_equal(pinned_entries("xb_tss_pair"), 8192);
	assert_int_equal(pinned_entries("xb_policy_stats"), 4096);
	assert_int_equal(xb_maps_open(&maps, pin_dir, false), 0);
	assert_int_equal(maps.max_policies, 4096);
	xb_maps_close(&maps);

	skel = xfrmbpf_maps__open();
	assert_non_null(skel);
	assert_int_equal(xb_maps_fit_capacity(skel->obj, pin_dir, 0), 0);
	assert_int_equal(bpf_map__max_entries(skel->maps.xb_policies), 137);
	assert_int_equal(bpf_map__max_entries(skel->maps.xb_scope_pages), 88);
	assert_int_equal(bpf_map__max_entries(skel->maps.xb_tmpl_pages), 100);
	assert_int_equal(bpf_map__max_entries(skel->maps.xb_tss), 4096);
	assert_int_equal(bpf_map__max_entries(skel->maps.xb_tss_pair), 8192);
	xfrmbpf_maps__destroy(skel);
	assert_int_equal(xb_pin_dir_remove(pin_dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bits_for_cpus),
		cmocka_unit_test(test_create_sized),
		cmocka_unit_test(test_reuse_pinned_size),
		cmocka_unit_test(test_reject_other_size),
		cmocka_unit_test(test_capacity),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
