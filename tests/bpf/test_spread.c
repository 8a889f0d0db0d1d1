// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `run --spread-esp` at XDP (bpf/spread.bpf.h), through BPF_PROG_TEST_RUN,
 * which returns the program's action (a test run redirects nothing):
 * without the switch a known SPI passes as before; with it, known-SPI ESP
 * and NAT-T ESP for this host is XDP_REDIRECT to the CPU its xb_spis
 * entry names, decided or from the flow cache, counted per target CPU in
 * xb_spread_stats; unknown SPIs still drop, plaintext is unchanged, and a
 * key without a CPU, a CPU without a cpumap entry, or a device without
 * XB_IF_SPREAD pass. The namespace and the shared setup:
 * tests/lib/fixture.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xfrmbpf.skel.h"
#include "bpf_harness.h"
#include "fixture.h"
#include "xfrmbpf/sad.h"

/* Two CPUs the tests redirect to, when the machine has them. */
static uint32_t cpu_a, cpu_b;

/* Give the SA (daddr, spi, ESP) of gw_sas the target cpu. */
static void sa_cpu(const char *daddr, uint32_t spi, uint32_t cpu)
{
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_spis);
	struct xb_spi_val v = { .n_sas = 1, .cpu = cpu };
	struct xb_spi_key k = {};

	k.family = strchr(daddr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(k.family, daddr, k.daddr.b), 1);
	k.spi = htonl(spi);
	k.proto = IPPROTO_ESP;
	assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_EXIST), 0);
}

/* A cpumap entry for cpu (a kernel thread on it), or none. */
static void cpumap_entry(uint32_t cpu, bool present)
{
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_spread_cpus);
	struct bpf_cpumap_val v = { .qsize = XB_SPREAD_QSIZE };

	if (present)
		assert_int_equal(bpf_map_update_elem(fd, &cpu, &v, BPF_ANY), 0);
	else
		bpf_map_delete_elem(fd, &cpu);
}

static uint64_t spread_packets(uint32_t cpu)
{
	return xbt_percpu_packets(bpf_map__fd(xbt_fx.skel->maps.xb_spread_stats), cpu);
}

/* Run spec: verdict and reason as xbt_fx_expect() checks them. */
static void expect(const struct xbt_pkt_spec *spec, uint32_t verdict, int reason)
{
	struct xbt_frame f;

	assert_true(xbt_build(spec, &f) > 0);
	assert_int_equal(xbt_fx_expect(&f, verdict, reason, NO_POL), 0);
}

static const struct xbt_pkt_spec esp4_known = { ESP4(V4_LOCAL, 0x1000), .payload = 32 };
static const struct xbt_pkt_spec esp6_known = { ESP6(V6_LOCAL, 0x3000), .payload = 32 };
static const struct xbt_pkt_spec esp4_unknown = { ESP4(V4_LOCAL, 0x1001), .payload = 32 };
static const struct xbt_pkt_spec natt4_known = {
	.family = 4, .src = V4_SRC, .dst = V4_LOCAL, .l4 = XBT_L4_NATT,
	.spi = 0x1000, .payload = 32 };
static const struct xbt_pkt_spec tcp4_allowed = { TCP4(V4_LOCAL, 22) };
static const struct xbt_pkt_spec tcp4_blocked = { TCP4(V4_LOCAL, 23) };

/* Without --spread-esp: a known SPI passes, even with a CPU published
 * and the device marked (what a daemon with the option left behind). */
static void test_off_passes(void **state)
{
	(void)state;
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, XB_IF_SPREAD), 0);
	sa_cpu(V4_LOCAL, 0x1000, cpu_a);
	cpumap_entry(cpu_a, true);
	expect(&esp4_known, PASS, XB_R_PASS_KNOWN_SPI);
	expect(&esp4_known, PASS, XB_R_PASS_KNOWN_SPI);	/* cached */
	expect(&esp4_unknown, DROP, XB_R_DROP_UNKNOWN_SPI);
	assert_int_equal(spread_packets(cpu_a), 0);
	cpumap_entry(cpu_a, false);
}

/* With it: the SA's CPU, decided and cached, counted per target CPU. */
static void test_known_spi_redirected_to_its_cpu(void **state)
{
	uint64_t a0, b0;

	(void)state;
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, XB_IF_SPREAD), 0);
	sa_cpu(V4_LOCAL, 0x1000, cpu_a);
	sa_cpu(V6_LOCAL, 0x3000, cpu_b);
	cpumap_entry(cpu_a, true);
	cpumap_entry(cpu_b, true);
	a0 = spread_packets(cpu_a);
	b0 = spread_packets(cpu_b);
	expect(&esp4_known, XDP_REDIRECT, XB_R_PASS_KNOWN_SPI);
	expect(&esp4_known, XDP_REDIRECT, XB_R_PASS_KNOWN_SPI);	/* cached */
	expect(&natt4_known, XDP_REDIRECT, XB_R_PASS_KNOWN_SPI);
	expect(&esp6_known, XDP_REDIRECT, XB_R_PASS_KNOWN_SPI);
	if (cpu_a != cpu_b) {
		assert_int_equal(spread_packets(cpu_a) - a0, 3);
		assert_int_equal(spread_packets(cpu_b) - b0, 1);
	} else {
		assert_int_equal(spread_packets(cpu_a) - a0, 4);
	}
}

/* Unknown SPIs drop before any redirect; plaintext is decided as ever. */
static void test_others_unchanged(void **state)
{
	uint64_t a0;

	(void)state;
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, XB_IF_SPREAD), 0);
	sa_cpu(V4_LOCAL, 0x1000, cpu_a);
	cpumap_entry(cpu_a, true);
	a0 = spread_packets(cpu_a);
	expect(&esp4_unknown, DROP, XB_R_DROP_UNKNOWN_SPI);
	expect(&esp4_unknown, DROP, XB_R_DROP_UNKNOWN_SPI);
	expect(&tcp4_allowed, PASS, XB_R_PASS_POLICY_ALLOW);
	expect(&tcp4_blocked, DROP, XB_R_DROP_REQUIRES_IPSEC);
	assert_int_equal(spread_packets(cpu_a), a0);
}

/* What is not spread passes as without the option. */
static void test_not_spread_passes(void **state)
{
	uint64_t a0;

	(void)state;
	/* the device is not marked (skb mode where generic XDP cannot) */
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, 0), 0);
	sa_cpu(V4_LOCAL, 0x1000, cpu_a);
	cpumap_entry(cpu_a, true);
	a0 = spread_packets(cpu_a);
	expect(&esp4_known, PASS, XB_R_PASS_KNOWN_SPI);
	/* the key has no CPU */
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, XB_IF_SPREAD), 0);
	expect(&esp4_known, PASS, XB_R_PASS_KNOWN_SPI);
	/* a CPU past the map */
	sa_cpu(V4_LOCAL, 0x1000, XB_MAX_SPREAD_CPUS);
	expect(&esp4_known, PASS, XB_R_PASS_KNOWN_SPI);
	/* the CPU has no cpumap entry: bpf_redirect_map()'s fallback */
	sa_cpu(V4_LOCAL, 0x1000, cpu_a);
	cpumap_entry(cpu_a, false);
	expect(&esp4_known, PASS, XB_R_PASS_KNOWN_SPI);
	assert_int_equal(spread_packets(cpu_a), a0);
	/* and with it again, redirected */
	cpumap_entry(cpu_a, true);
	expect(&esp4_known, XDP_REDIRECT, XB_R_PASS_KNOWN_SPI);
	assert_int_equal(spread_packets(cpu_a) - a0, 1);
}

int main(void)
{
	const struct CMUnitTest off[] = {
		cmocka_unit_test(test_off_passes),
	};
	const struct CMUnitTest on[] = {
		cmocka_unit_test(test_known_spi_redirected_to_its_cpu),
		cmocka_unit_test(test_others_unchanged),
		cmocka_unit_test(test_not_spread_passes),
	};
	int status, n;

	if (xbt_fx_start("bpf spread", &status))
		return status;
	n = libbpf_num_possible_cpus();
	cpu_a = 0;
	cpu_b = n > 1 ? 1 : 0;
	status = cmocka_run_group_tests_name("bpf_spread_off", off, NULL, NULL);
	xbt_skel_spread_on = true;
	if (xbt_fx_reload()) {
		printf("not ok - load the datapath object with xb_spread_on\n");
		return 1;
	}
	return status | cmocka_run_group_tests_name("bpf_spread_on", on, NULL,
						    xbt_fx_teardown);
}
