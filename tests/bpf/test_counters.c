// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The counters of the XDP program, as `xfrmbpf stats` reads them
 * (user/loader/stats.c): every packet counts once, under its reason, in
 * the row of the device it arrived on (its rx, passed and dropped
 * packets and bytes) or in the row of devices without a slot, and under
 * the policy that decided it; every reason's total is the sum of its
 * rows. Runs through BPF_PROG_TEST_RUN; the namespace and the shared
 * setup: tests/lib/fixture.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xfrmbpf.skel.h"
#include "bpf_harness.h"
#include "fixture.h"
#include "loader/stats.h"

/* Bytes counted for policy id, over every CPU. */
static uint64_t policy_bytes(uint32_t id)
{
	static struct xb_counter pc[MAX_CPUS];
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_policy_stats);
	int n = xbt_fx_num_cpus(), i;
	uint64_t sum = 0;

	assert_true(n > 0);
	memset(pc, 0, (size_t)n * sizeof(*pc));
	bpf_map_lookup_elem(fd, &id, pc);
	for (i = 0; i < n; i++)
		sum += pc[i].bytes;
	return sum;
}

/*
 * One lookup counts reason and device: the device's row gives its
 * rx/passed/dropped and bytes, a device without a slot counts in the
 * row of others, and every reason's total grew by what the rows grew.
 */
static void test_lookup_counts_reason_device_and_policy(void **state)
{
	struct xbt_pkt_spec spec = { TCP4(V4_LOCAL, 23), .payload = 100 };
	const uint64_t len = 14 + 20 + 20 + 100;
	int other = (int)if_nametoindex("xbt-fx2");
	struct xb_iface_counters ia, ib;
	struct xbt_stat_rows a, b;
	uint64_t pol0;
	uint32_t retval;
	struct xbt_frame f;
	int r;

	(void)state;
	assert_true(other > 0);
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, 0), 0);
	assert_int_equal(xbt_fx_read_stat_rows(&a), 0);
	pol0 = policy_bytes(2);
	assert_true(xbt_build(&spec, &f) > 0);
	assert_int_equal(xbt_fx_run_xdp(&f, &retval), 0);
	assert_int_equal(retval, XDP_DROP);
	assert_int_equal(xbt_fx_run_xdp(&f, &retval), 0);
	spec.dport = 22;
	assert_true(xbt_build(&spec, &f) > 0);
	assert_int_equal(xbt_fx_run_xdp(&f, &retval), 0);
	assert_int_equal(retval, XDP_PASS);
	assert_int_equal(xbt_run_xdp(xbt_fx.skel, &f, other, &retval), 0);
	assert_int_equal(retval, XDP_PASS);
	assert_int_equal(xbt_fx_read_stat_rows(&b), 0);

	xb_stats_iface(a.in, &ia);
	xb_stats_iface(b.in, &ib);
	assert_int_equal(ib.rx_packets - ia.rx_packets, 3);
	assert_int_equal(ib.dropped - ia.dropped, 2);
	assert_int_equal(ib.passed - ia.passed, 1);
	assert_int_equal(ib.steered - ia.steered, 0);
	assert_int_equal(b.in[XB_R_DROP_REQUIRES_IPSEC].bytes -
			 a.in[XB_R_DROP_REQUIRES_IPSEC].bytes, 2 * len);
	assert_int_equal(b.in[XB_R_PASS_POLICY_ALLOW].bytes -
			 a.in[XB_R_PASS_POLICY_ALLOW].bytes, len);
	assert_int_equal(policy_bytes(2) - pol0, 2 * len);
	for (r = 0; r < XB_R_MAX; r++) {
		uint64_t in = b.in[r].packets - a.in[r].packets;
		uint64_t oth = b.other[r].packets - a.other[r].packets;

		assert_int_equal(oth, r == XB_R_PASS_NO_IFACE ? 1 : 0);
		assert_int_equal(b.total[r].packets - a.total[r].packets, in + oth);
		assert_int_equal(b.total[r].bytes - a.total[r].bytes,
				 b.in[r].bytes - a.in[r].bytes +
				 b.other[r].bytes - a.other[r].bytes);
	}
	assert_int_equal(b.other[XB_R_PASS_NO_IFACE].bytes -
			 a.other[XB_R_PASS_NO_IFACE].bytes, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_counts_reason_device_and_policy),
	};
	int status;

	if (xbt_fx_start("bpf counters", &status))
		return status;
	return cmocka_run_group_tests_name("bpf_counters", tests, NULL,
					   xbt_fx_teardown);
}
