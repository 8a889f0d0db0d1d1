// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `run --spread-esp`: the CPU list parser (user/cli/cpu_list.c) and the
 * per-SA CPU choice (user/mirror/spread.c), alone and through the mirror:
 * even over the listed CPUs per destination address, stable while a key
 * lives and across a rebuilt mirror, a per-CPU SA on its own CPU.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/in.h>
#include "cli/cpu_list.h"
#include "mirror/mirror.h"
#include "mirror/spread.h"

static struct xb_cpu_list online, list;
static char why[256];

static void set_online(const char *text)
{
	struct xb_cpu_list all = { .n = XB_MAX_SPREAD_CPUS };
	__u32 i;

	for (i = 0; i < all.n; i++)
		all.cpus[i] = i;
	assert_int_equal(xb_cpu_list_parse(text, &all, &online, why, sizeof(why)), 0);
}

static void expect_list(const char *text, const char *want)
{
	char got[256];

	why[0] = '\0';
	assert_int_equal(xb_cpu_list_parse(text, &online, &list, why, sizeof(why)), 0);
	xb_cpu_list_format(&list, got, sizeof(got));
	assert_string_equal(got, want);
}

static void expect_refused(const char *text, const char *want_why)
{
	assert_int_equal(xb_cpu_list_parse(text, &online, &list, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, want_why);
	assert_int_equal(list.n, 0);
}

static void test_cpu_list_parse(void **state)
{
	(void)state;
	set_online("0-7,9");
	expect_list("all", "0-7,9");
	expect_list("0-3,6", "0-3,6");
	expect_list("6,0-3", "0-3,6");
	expect_list("1,1,1-2", "1-2");
	expect_list("9", "9");
	expect_list("0-7", "0-7");
	expect_refused("8", "CPU 8 is not online (online: 0-7,9)");
	expect_refused("0-9", "CPU 8 is not online (online: 0-7,9)");
	expect_refused("3-1", "the range 3-1 goes backwards");
	expect_refused("", "an empty CPU list");
	expect_refused("1,", "'1,' is no CPU list (all, or e.g. 0-3,6)");
	expect_refused(",1", "',1' is no CPU list (all, or e.g. 0-3,6)");
	expect_refused("a", "'a' is no CPU list (all, or e.g. 0-3,6)");
	expect_refused("1-", "'1-' is no CPU list (all, or e.g. 0-3,6)");
	expect_refused("-1", "'-1' is no CPU list (all, or e.g. 0-3,6)");
	expect_refused("1 2", "'1 2' is no CPU list (all, or e.g. 0-3,6)");
	expect_refused("1024", "CPU numbers go up to 1023");
	expect_refused("99999999999999999999", "CPU numbers go up to 1023");
}

static void test_cpus_online(void **state)
{
	struct xb_cpu_list l;

	(void)state;
	assert_int_equal(xb_cpus_online(&l), 0);
	assert_true(l.n >= 1);
	assert_int_equal(l.cpus[0], 0);
}

static struct xb_spi_key key4(const char *daddr, __u32 spi)
{
	struct xb_spi_key k;

	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, daddr, k.daddr.b), 1);
	k.spi = htonl(spi);
	k.proto = IPPROTO_ESP;
	return k;
}

/* Keys per listed CPU of keys[0..n): max and min. */
static void spread_range(const __u32 *cpus, int n, const struct xb_cpu_list *l,
			 __u32 *max, __u32 *min)
{
	__u32 per[XB_MAX_SPREAD_CPUS] = { 0 }, i;
	int k;

	for (k = 0; k < n; k++)
		per[cpus[k]]++;
	*max = 0;
	*min = ~0u;
	for (i = 0; i < l->n; i++) {
		if (per[l->cpus[i]] > *max)
			*max = per[l->cpus[i]];
		if (per[l->cpus[i]] < *min)
			*min = per[l->cpus[i]];
	}
}

/* Inbound and outbound keys interleaved (one pair per tunnel, as an IKE
 * daemon installs them): the inbound ones (the host's address) are even
 * over the CPUs by themselves, and every key gets a listed CPU. */
static void test_even_per_destination(void **state)
{
	static __u32 in[64], out[64];
	struct xb_spread s;
	__u32 max, min;
	char peer[32];
	int i;

	(void)state;
	set_online("0-7");
	assert_int_equal(xb_cpu_list_parse("0-3", &online, &list, why, sizeof(why)), 0);
	assert_int_equal(xb_spread_init(&s, &list), 0);
	for (i = 0; i < 64; i++) {
		struct xb_spi_key k = key4("192.0.2.1", 0x1000 + i);

		snprintf(peer, sizeof(peer), "198.51.100.%d", 1 + i % 4);
		in[i] = xb_spread_take(&s, &k, XB_NO_CPU);
		k = key4(peer, 0x2000 + i);
		out[i] = xb_spread_take(&s, &k, XB_NO_CPU);
		assert_true(xb_spread_listed(&s, in[i]));
		assert_true(xb_spread_listed(&s, out[i]));
	}
	spread_range(in, 64, &list, &max, &min);
	assert_int_equal(max, 16);
	assert_int_equal(min, 16);
	/* 5 keys over 4 CPUs: 2 on one, 1 on the others */
	spread_range(in, 5, &list, &max, &min);
	assert_int_equal(max, 2);
	assert_int_equal(min, 1);
	/* a key released frees its CPU for the next: still even */
	for (i = 0; i < 8; i++) {
		struct xb_spi_key k = key4("192.0.2.1", 0x1000 + i);

		xb_spread_release(&s, &k, in[i], false);
	}
	for (i = 0; i < 8; i++) {
		struct xb_spi_key k = key4("192.0.2.1", 0x3000 + i);

		in[i] = xb_spread_take(&s, &k, XB_NO_CPU);
	}
	spread_range(in, 64, &list, &max, &min);
	assert_int_equal(max, 16);
	assert_int_equal(min, 16);
	xb_spread_fini(&s);
}

/* A per-CPU SA's own CPU when listed; otherwise the usual choice. */
static void test_pcpu(void **state)
{
	struct xb_spi_key k1 = key4("192.0.2.1", 1), k2 = key4("192.0.2.1", 2);
	struct xb_spread s;

	(void)state;
	set_online("0-7");
	assert_int_equal(xb_cpu_list_parse("2,4,6", &online, &list, why, sizeof(why)), 0);
	assert_int_equal(xb_spread_init(&s, &list), 0);
	assert_int_equal(xb_spread_take(&s, &k1, 4), 4);
	assert_true(xb_spread_listed(&s, xb_spread_take(&s, &k2, 5)));
	xb_spread_fini(&s);
}

/* Through the mirror: published CPUs stay across updates and a re-dump
 * (mark, apply, sweep), come back on a rebuilt mirror (hints), and a
 * per-CPU SA's key follows its pcpu_num. */
static struct xb_event sa_event(const char *daddr, __u32 spi, __u32 pcpu)
{
	struct xb_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = XB_EV_SA_UPSERT;
	ev.sa.key.spi = key4(daddr, spi);
	ev.sa.sa.reqid = spi;
	ev.sa.sa.pcpu_num = pcpu;
	return ev;
}

static __u32 mirror_cpu(const struct xb_mirror *m, const char *daddr, __u32 spi)
{
	struct xb_spi_key k = key4(daddr, spi);
	struct xb_mirror_spi *ms = xb_mirror_spi_find(m, &k);

	assert_non_null(ms);
	return ms->cpu;
}

static void test_mirror_stable(void **state)
{
	static __u32 before[32];
	struct xb_mirror m;
	struct xb_spread s;
	struct xb_event ev;
	__u32 max, min, cpus[32];
	int i;

	(void)state;
	set_online("0-7");
	assert_int_equal(xb_cpu_list_parse("0-3", &online, &list, why, sizeof(why)), 0);
	assert_int_equal(xb_spread_init(&s, &list), 0);
	assert_int_equal(xb_mirror_init(&m, NULL, 1024), 0);
	xb_mirror_set_spread(&m, &s);
	for (i = 0; i < 32; i++) {
		ev = sa_event("192.0.2.1", 0x100 + i, XB_NO_CPU);
		assert_int_equal(xb_mirror_apply(&m, &ev), 0);
		before[i] = mirror_cpu(&m, "192.0.2.1", 0x100 + i);
	}
	spread_range(before, 32, &list, &max, &min);
	assert_int_equal(max, 8);
	assert_int_equal(min, 8);
	/* an update of an SA (same key, new reqid) and a re-dump keep them */
	ev = sa_event("192.0.2.1", 0x100, XB_NO_CPU);
	ev.sa.sa.reqid = 77;
	assert_int_equal(xb_mirror_apply(&m, &ev), 0);
	xb_mirror_mark_unseen(&m);
	for (i = 31; i >= 0; i--) {
		ev = sa_event("192.0.2.1", 0x100 + i, XB_NO_CPU);
		assert_int_equal(xb_mirror_apply(&m, &ev), 0);
	}
	xb_mirror_sweep_unseen(&m);
	for (i = 0; i < 32; i++)
		assert_int_equal(mirror_cpu(&m, "192.0.2.1", 0x100 + i), before[i]);
	/* a rebuilt mirror (map full, resync) gives them back in any order */
	xb_mirror_fini(&m);
	assert_int_equal(xb_mirror_init(&m, NULL, 1024), 0);
	xb_mirror_set_spread(&m, &s);
	for (i = 31; i >= 0; i--) {
		ev = sa_event("192.0.2.1", 0x100 + i, XB_NO_CPU);
		assert_int_equal(xb_mirror_apply(&m, &ev), 0);
	}
	for (i = 0; i < 32; i++)
		cpus[i] = mirror_cpu(&m, "192.0.2.1", 0x100 + i);
	assert_memory_equal(cpus, before, sizeof(cpus));
	xb_spread_forget_hints(&s);
	/* a per-CPU SA on its CPU, and following it when it changes */
	ev = sa_event("192.0.2.1", 0x900, 3);
	assert_int_equal(xb_mirror_apply(&m, &ev), 0);
	assert_int_equal(mirror_cpu(&m, "192.0.2.1", 0x900), 3);
	ev = sa_event("192.0.2.1", 0x900, 1);
	assert_int_equal(xb_mirror_apply(&m, &ev), 0);
	assert_int_equal(mirror_cpu(&m, "192.0.2.1", 0x900), 1);
	/* not listed: the usual choice */
	ev = sa_event("192.0.2.1", 0x901, 6);
	assert_int_equal(xb_mirror_apply(&m, &ev), 0);
	assert_true(xb_spread_listed(&s, mirror_cpu(&m, "192.0.2.1", 0x901)));
	xb_mirror_fini(&m);
	xb_spread_fini(&s);
}

/* Without a spread the mirror gives no CPU. */
static void test_mirror_without_spread(void **state)
{
	struct xb_event ev = sa_event("192.0.2.1", 0x100, 2);
	struct xb_mirror m;

	(void)state;
	assert_int_equal(xb_mirror_init(&m, NULL, 1024), 0);
	assert_int_equal(xb_mirror_apply(&m, &ev), 0);
	assert_int_equal(mirror_cpu(&m, "192.0.2.1", 0x100), XB_NO_CPU);
	xb_mirror_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_list_parse),
		cmocka_unit_test(test_cpus_online),
		cmocka_unit_test(test_even_per_destination),
		cmocka_unit_test(test_pcpu),
		cmocka_unit_test(test_mirror_stable),
		cmocka_unit_test(test_mirror_without_spread),
	};

	return cmocka_run_group_tests_name("spread", tests, NULL, NULL);
}
