// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tuple-space search builder (user/classifier/tss.c) against the reference
 * classifier (tests/lib/classify_ref.c): hand-written cases for each kernel
 * rule, then random SPDs and packets (XB_SEED replays), incremental
 * updates against from-scratch builds, and 100k policies for speed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/xfrm.h>
#include <cmocka.h>
#include "classify_ref.h"
#include "spd_gen.h"
#include "ruleset_gen.h"
#include "classifier/tss.h"
#include "tss_mem.h"
#include "tss_reader.h"
#include "tss_sink_maps.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf/sync.h"

#define MAX_POLS 512

static const __u8 accept_all[4] = { XB_DEFAULT_ACCEPT, XB_DEFAULT_ACCEPT,
				    XB_DEFAULT_ACCEPT, XB_DEFAULT_ACCEPT };

/* An SPD, its builder and its published state. */
struct fx {
	struct xb_policy pols[MAX_POLS];
	size_t n;
	struct xb_tss *tss;
	struct xb_tss_mem *mem;
	struct xb_tss_sink sink;
	struct xb_tss_source src;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->tss = xb_tss_new(XB_MAX_POLICIES);
	f->mem = xb_tss_mem_new();
	assert_non_null(f->tss);
	assert_non_null(f->mem);
	xb_tss_mem_sink(f->mem, &f->sink);
	xb_tss_mem_source(f->mem, &f->src);
	return f;
}

static void fx_free(struct fx *f)
{
	xb_tss_free(f->tss);
	xb_tss_mem_free(f->mem);
	free(f);
}

static void fx_flush(struct fx *f)
{
	assert_int_equal(xb_tss_flush(f->tss, &f->sink), 0);
}

static void addr(__u16 family, const char *s, union xb_addr *a)
{
	memset(a, 0, sizeof(*a));
	assert_int_equal(inet_pton(family, s, a->b), 1);
}

/* A policy: ids and pos in order of creation, selector "s/ps -> d/pd". */
static struct xb_policy *pol(struct fx *f, __u8 dir, __u8 type,
			     const char *s, int ps, const char *d, int pd,
			     __u32 prio, __u8 action)
{
	struct xb_policy *p = &f->pols[f->n];
	__u16 family = strchr(s, ':') ? AF_INET6 : AF_INET;

	memset(p, 0, sizeof(*p));
	p->sel.family = family;
	addr(family, s, &p->sel.saddr);
	addr(family, d, &p->sel.daddr);
	p->sel.prefixlen_s = ps;
	p->sel.prefixlen_d = pd;
	p->dir = dir;
	p->type = type;
	p->priority = prio;
	p->action = action;
	p->id = f->n;
	p->pos = f->n + 1;
	f->n++;
	return p;
}

static void fx_publish(struct fx *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		assert_int_equal(xb_tss_add(f->tss, &f->pols[i]), 0);
	fx_flush(f);
}

static struct xb_flow flow(const char *s, const char *d, __u8 proto,
			   __u16 sport, __u16 dport)
{
	struct xb_flow fl;

	memset(&fl, 0, sizeof(fl));
	fl.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	addr(fl.family, s, &fl.saddr);
	addr(fl.family, d, &fl.daddr);
	fl.proto = proto;
	fl.sport = htons(sport);
	fl.dport = htons(dport);
	return fl;
}

/* Both classifiers give reason and policy id. */
static void expect_dflt(struct fx *f, __u8 dir, const struct xb_flow *fl,
			const __u8 dflt[4], __u8 reason, __u32 id)
{
	struct xb_ref_decision r, t;

	xb_ref_classify_input(f->pols, f->n, dir, fl, dflt, &r);
	assert_int_equal(xb_tss_lookup(&f->src, dir, fl, dflt, &t), 0);
	assert_int_equal(r.reason, reason);
	assert_int_equal(r.policy_id, id);
	assert_int_equal(t.reason, reason);
	assert_int_equal(t.policy_id, id);
}

static void expect(struct fx *f, __u8 dir, const struct xb_flow *fl,
		   __u8 reason, __u32 id)
{
	expect_dflt(f, dir, fl, accept_all, reason, id);
}

#define IN	XFRM_POLICY_IN
#define OUT	XFRM_POLICY_OUT
#define FWD	XFRM_POLICY_FWD
#define MAIN	XFRM_POLICY_TYPE_MAIN
#define SUB	XFRM_POLICY_TYPE_SUB
#define ALLOW	XFRM_POLICY_ALLOW
#define BLOCK	XFRM_POLICY_BLOCK
#define NOPOL	XB_NO_POLICY

/* ---- hand-written cases: one kernel rule each ------------------------ */

static void test_selector_match(void **state)
{
	struct fx *f = fx_new();
	struct xb_policy *p;
	struct xb_flow fl;

	(void)state;
	p = pol(f, IN, MAIN, "192.0.2.0", 24, "198.51.100.7", 32, 10, BLOCK);
	p->sel.proto = IPPROTO_UDP;
	p->sel.dport = htons(500);
	p->sel.dport_mask = htons(0xffff);
	p->sel.sport = htons(0x1200);
	p->sel.sport_mask = htons(0xff00);
	/* host bits of the selector are ignored, as in addr4_match() */
	p->sel.saddr.b[3] = 99;
	fx_publish(f);

	fl = flow("192.0.2.200", "198.51.100.7", IPPROTO_UDP, 0x12ab, 500);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 0);
	fl = flow("192.0.2.200", "198.51.100.7", IPPROTO_UDP, 0x13ab, 500);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fl = flow("192.0.2.200", "198.51.100.7", IPPROTO_UDP, 0x12ab, 501);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fl = flow("192.0.3.1", "198.51.100.7", IPPROTO_UDP, 0x12ab, 500);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fl = flow("192.0.2.1", "198.51.100.7", IPPROTO_TCP, 0x12ab, 500);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	/* other directions and families are other lists */
	fl = flow("192.0.2.1", "198.51.100.7", IPPROTO_UDP, 0x12ab, 500);
	expect(f, FWD, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fl = flow("2001:db8::1", "2001:db8::2", IPPROTO_UDP, 0x12ab, 500);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fx_free(f);
}

static void test_proto_any_and_v6_prefix(void **state)
{
	struct fx *f = fx_new();
	struct xb_flow fl;

	(void)state;
	pol(f, IN, MAIN, "2001:db8:1::", 48, "::", 0, 5, BLOCK);
	pol(f, IN, MAIN, "2001:db8:1:8000::", 49, "::", 0, 1, ALLOW);
	fx_publish(f);
	fl = flow("2001:db8:1::5", "2001:db8::1", IPPROTO_ESP, 0, 0);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 0);
	fl = flow("2001:db8:1:8000::5", "2001:db8::1", IPPROTO_TCP, 1, 2);
	expect(f, IN, &fl, XB_R_PASS_POLICY_ALLOW, 1);
	fl = flow("2001:db8:2::5", "2001:db8::1", IPPROTO_TCP, 1, 2);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fx_free(f);
}

/* ICMP type in sport, code in dport, as htons() of the header bytes. */
static void test_icmp_type_code(void **state)
{
	struct fx *f = fx_new();
	struct xb_policy *p;
	struct xb_flow fl;

	(void)state;
	p = pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 10, BLOCK);
	p->sel.proto = IPPROTO_ICMP;
	p->sel.sport = htons(8);
	p->sel.sport_mask = htons(0xffff);
	p->sel.dport = htons(0);
	p->sel.dport_mask = htons(0xffff);
	p = pol(f, IN, MAIN, "::", 0, "::", 0, 10, BLOCK);
	p->sel.proto = IPPROTO_ICMPV6;
	p->sel.sport = htons(128);
	p->sel.sport_mask = htons(0xffff);
	fx_publish(f);

	fl = flow("192.0.2.1", "198.51.100.1", IPPROTO_ICMP, 8, 0);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 0);
	fl = flow("192.0.2.1", "198.51.100.1", IPPROTO_ICMP, 0, 0);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fl = flow("192.0.2.1", "198.51.100.1", IPPROTO_ICMP, 8, 1);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fl = flow("2001:db8::1", "2001:db8::2", IPPROTO_ICMPV6, 128, 7);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 1);
	fl = flow("2001:db8::1", "2001:db8::2", IPPROTO_ICMPV6, 129, 0);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fx_free(f);
}

/* The lowest priority wins, across shapes and whatever the order. */
static void test_lowest_priority_wins(void **state)
{
	struct fx *f = fx_new();
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);

	(void)state;
	pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 100, ALLOW);
	pol(f, IN, MAIN, "192.0.2.5", 32, "198.51.100.5", 32, 10, BLOCK);
	pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 5, ALLOW)->sel.proto =
		IPPROTO_UDP;
	fx_publish(f);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 1);
	fl.proto = IPPROTO_UDP;
	expect(f, IN, &fl, XB_R_PASS_POLICY_ALLOW, 2);
	fx_free(f);

	f = fx_new();
	fl.proto = IPPROTO_TCP;
	pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 1, ALLOW);
	pol(f, IN, MAIN, "192.0.2.5", 32, "198.51.100.5", 32, 10, BLOCK);
	fx_publish(f);
	expect(f, IN, &fl, XB_R_PASS_POLICY_ALLOW, 0);
	fx_free(f);
}

/* Equal priority: the same outcome is certain (lower pos is reported);
 * different outcomes are undecidable, across shapes or in one bucket. */
static void test_priority_ties(void **state)
{
	struct fx *f = fx_new();
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	struct xb_policy *p;

	(void)state;
	pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 7, BLOCK)->pos = 9;
	pol(f, IN, MAIN, "0.0.0.0", 0, "198.51.100.0", 24, 7, BLOCK)->pos = 3;
	fx_publish(f);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 1);
	fx_free(f);

	f = fx_new();
	pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 7, BLOCK);
	pol(f, IN, MAIN, "0.0.0.0", 0, "198.51.100.0", 24, 7, ALLOW);
	pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 8, BLOCK);
	fx_publish(f);
	expect(f, IN, &fl, XB_R_PASS_UNDECIDABLE, NOPOL);
	fx_free(f);

	/* same selector, masks differ: one bucket, published undecidable */
	f = fx_new();
	p = pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 7, BLOCK);
	p->mark_m = 0xff;
	p = pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 7, ALLOW);
	p->mark_m = 0xffff;
	fx_publish(f);
	assert_int_equal(xb_tss_mem_count(f->mem), 1);
	expect(f, IN, &fl, XB_R_PASS_UNDECIDABLE, NOPOL);
	/* a better policy elsewhere still decides */
	pol(f, IN, MAIN, "192.0.2.5", 32, "0.0.0.0", 0, 6, ALLOW);
	assert_int_equal(xb_tss_add(f->tss, &f->pols[2]), 0);
	fx_flush(f);
	expect(f, IN, &fl, XB_R_PASS_POLICY_ALLOW, 2);
	fx_free(f);
}

/* Mark: (0 & m) == v, v not masked by the kernel; if_id 0 on a NIC. */
static void test_mark_and_if_id(void **state)
{
	struct fx *f = fx_new();
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	struct xb_ref_decision d;
	struct xb_ref_steer r, t;
	struct xb_policy *p;

	(void)state;
	p = pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 1, BLOCK);
	p->mark_v = 1;
	p->mark_m = 0xff;
	p = pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 2, BLOCK);
	p->mark_v = 5;
	p->mark_m = 0;
	p = pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 3, BLOCK);
	p->if_id = 7;
	p = pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 4, ALLOW);
	p->mark_v = 0;
	p->mark_m = 0xff;
	p = pol(f, OUT, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 4, ALLOW);
	p->if_id = 7;
	p->mark_m = 0xf0;
	fx_publish(f);
	expect(f, IN, &fl, XB_R_PASS_POLICY_ALLOW, 3);
	/* the reference itself follows the flow's mark and if_id */
	fl.mark = 1;
	xb_ref_classify_input(f->pols, f->n, IN, &fl, accept_all, &d);
	assert_int_equal(d.reason, XB_R_DROP_POLICY_BLOCK);
	assert_int_equal(d.policy_id, 0);
	fl.mark = 0;
	fl.if_id = 7;
	xb_ref_classify_input(f->pols, f->n, IN, &fl, accept_all, &d);
	assert_int_equal(d.reason, XB_R_DROP_POLICY_BLOCK);
	assert_int_equal(d.policy_id, 2);
	fl.if_id = 0;

	xb_ref_steer(f->pols, f->n, &fl, &r);
	assert_int_equal(xb_tss_lookup_steer(&f->src, &fl, &t), 0);
	assert_true(r.found && t.found);
	assert_false(r.undecidable || t.undecidable);
	assert_int_equal(r.policy_id, 4);
	assert_int_equal(t.policy_id, 4);
	assert_int_equal(r.if_id, 7);
	assert_int_equal(t.if_id, 7);
	fx_free(f);
}

/* Sub before main; a sub that allows brings in the main IN policy, also
 * for FWD (__xfrm_policy_check looks main up with XFRM_POLICY_IN). */
static void test_sub_and_main(void **state)
{
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	struct fx *f = fx_new();

	(void)state;
	pol(f, IN, SUB, "0.0.0.0", 0, "0.0.0.0", 0, 50, ALLOW);
	pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 1, BLOCK);
	pol(f, FWD, SUB, "0.0.0.0", 0, "0.0.0.0", 0, 50, ALLOW);
	pol(f, FWD, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 1, BLOCK);
	fx_publish(f);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 1);
	expect(f, FWD, &fl, XB_R_DROP_POLICY_BLOCK, 1);
	fx_free(f);

	f = fx_new();
	pol(f, FWD, SUB, "0.0.0.0", 0, "0.0.0.0", 0, 50, ALLOW);
	pol(f, FWD, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 1, BLOCK);
	fx_publish(f);
	expect(f, FWD, &fl, XB_R_PASS_POLICY_ALLOW, 0);
	fx_free(f);

	f = fx_new();
	pol(f, IN, SUB, "0.0.0.0", 0, "0.0.0.0", 0, 50, BLOCK);
	pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 1, ALLOW);
	pol(f, FWD, SUB, "0.0.0.0", 0, "0.0.0.0", 0, 50, ALLOW)->xb_flags =
		XB_POL_REQUIRES_IPSEC;
	fx_publish(f);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 0);
	expect(f, FWD, &fl, XB_R_DROP_REQUIRES_IPSEC, 2);
	fx_free(f);

	f = fx_new();
	pol(f, IN, SUB, "0.0.0.0", 0, "0.0.0.0", 0, 50, ALLOW);
	pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 1, ALLOW)->xb_flags =
		XB_POL_REQUIRES_IPSEC;
	fx_publish(f);
	expect(f, IN, &fl, XB_R_DROP_REQUIRES_IPSEC, 1);
	expect(f, FWD, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fx_free(f);
}

/* Plaintext meets templates: only optional ones pass (xfrm_policy_ok). */
static void test_requires_ipsec(void **state)
{
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	struct fx *f = fx_new();
	struct xb_policy *p;

	(void)state;
	p = pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 1, ALLOW);
	p->n_tmpls = 2;
	p->xb_flags = XB_POL_REQUIRES_IPSEC;
	p = pol(f, FWD, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 1, ALLOW);
	p->n_tmpls = 2;
	fx_publish(f);
	expect(f, IN, &fl, XB_R_DROP_REQUIRES_IPSEC, 0);
	expect(f, FWD, &fl, XB_R_PASS_POLICY_ALLOW, 1);
	fx_free(f);
}

static void test_default_and_icmp_error(void **state)
{
	static const __u8 block[4] = { XB_DEFAULT_BLOCK, XB_DEFAULT_ACCEPT,
				       XB_DEFAULT_BLOCK, 0 };
	struct fx *f = fx_new();
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);

	(void)state;
	pol(f, IN, MAIN, "203.0.113.0", 24, "0.0.0.0", 0, 1, ALLOW);
	fx_publish(f);
	expect_dflt(f, IN, &fl, block, XB_R_DROP_DEFAULT_BLOCK, NOPOL);
	expect_dflt(f, FWD, &fl, block, XB_R_DROP_DEFAULT_BLOCK, NOPOL);
	expect_dflt(f, IN, &fl, accept_all, XB_R_PASS_NO_POLICY, NOPOL);
	/* FWD of an ICMP error: the kernel may look up its inner flow */
	fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_ICMP, 3, 1);
	expect_dflt(f, FWD, &fl, block, XB_R_PASS_UNDECIDABLE, NOPOL);
	expect_dflt(f, IN, &fl, block, XB_R_DROP_DEFAULT_BLOCK, NOPOL);
	fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_ICMP, 8, 0);
	expect_dflt(f, FWD, &fl, block, XB_R_DROP_DEFAULT_BLOCK, NOPOL);
	fl = flow("2001:db8::5", "2001:db8::6", IPPROTO_ICMPV6, 2, 0);
	expect_dflt(f, FWD, &fl, accept_all, XB_R_PASS_UNDECIDABLE, NOPOL);
	fx_free(f);
}

/* Selector ifindex, sec ctx: undecidable when they would win. */
static void test_undecidable_policies(void **state)
{
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	struct fx *f = fx_new();

	(void)state;
	pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 5, BLOCK)->sel.ifindex = 3;
	pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 9, ALLOW);
	pol(f, FWD, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 5, BLOCK)->xb_flags =
		XB_POL_SEC_CTX;
	pol(f, FWD, MAIN, "192.0.2.0", 25, "0.0.0.0", 0, 4, BLOCK);
	fx_publish(f);
	expect(f, IN, &fl, XB_R_PASS_UNDECIDABLE, NOPOL);
	expect(f, FWD, &fl, XB_R_DROP_POLICY_BLOCK, 3);
	fl = flow("198.51.100.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	expect(f, IN, &fl, XB_R_PASS_POLICY_ALLOW, 1);
	fx_free(f);
}

/* A packet-offload policy makes its whole list undecidable, even for
 * flows it does not match; other lists are unaffected. */
static void test_offload_taints_list(void **state)
{
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	struct xb_flow fl6 = flow("2001:db8::1", "2001:db8::2", IPPROTO_TCP, 1, 2);
	struct fx *f = fx_new();
	struct xb_ref_decision d;
	struct xb_shape_list sl;
	struct xb_policy *p;

	(void)state;
	pol(f, IN, MAIN, "0.0.0.0", 0, "0.0.0.0", 0, 5, BLOCK);
	pol(f, IN, MAIN, "::", 0, "::", 0, 5, BLOCK);
	p = pol(f, IN, MAIN, "203.0.113.0", 24, "0.0.0.0", 0, 50, ALLOW);
	p->xb_flags = XB_POL_OFFLOAD;
	p->mark_v = 3;		/* out of the view, still in the kernel's chains */
	p->mark_m = 0xff;
	fx_publish(f);
	assert_int_equal(xb_tss_undecidable_lists(f->tss), 1);
	xb_tss_list_stats(f->tss, XB_SHAPE_LIST_IDX(XB_VIEW_IN, XB_PTYPE_MAIN,
						    XB_FAM_V4), &sl);
	assert_int_equal(sl.undecidable, XB_LIST_UNDEC_OFFLOAD);
	expect(f, IN, &fl, XB_R_PASS_UNDECIDABLE, NOPOL);
	assert_int_equal(xb_tss_lookup(&f->src, IN, &fl, accept_all, &d), 0);
	assert_int_equal(d.overflow, 1);
	expect(f, IN, &fl6, XB_R_DROP_POLICY_BLOCK, 1);
	assert_int_equal(xb_tss_del(f->tss, 2), 0);
	f->n = 2;
	fx_flush(f);
	assert_int_equal(xb_tss_undecidable_lists(f->tss), 0);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 0);
	fx_free(f);
}

/* The sink sees only changes. */
static void test_flush_only_changes(void **state)
{
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	struct xb_tss_mem_stats s0, s1;
	struct fx *f = fx_new();
	struct xb_policy *a, *b, b2;

	(void)state;
	a = pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 1, BLOCK);
	a->mark_m = 0xff;
	b = pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 5, ALLOW);
	b->mark_m = 0xffff;
	pol(f, OUT, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 5, ALLOW);
	fx_publish(f);
	assert_int_equal(xb_tss_mem_count(f->mem), 2);

	xb_tss_mem_get_stats(f->mem, &s0);
	fx_flush(f);
	xb_tss_mem_get_stats(f->mem, &s1);
	assert_memory_equal(&s0, &s1, sizeof(s0));

	/* a loser of its bucket changes: the bucket is rewritten, the list
	 * (its table's best priority) is not */
	b2 = *b;
	b2.priority = 6;
	assert_int_equal(xb_tss_del(f->tss, b->id), 0);
	assert_int_equal(xb_tss_add(f->tss, &b2), 0);
	*b = b2;
	fx_flush(f);
	xb_tss_mem_get_stats(f->mem, &s1);
	assert_int_equal(s1.puts - s0.puts, 1);
	assert_int_equal(s1.list_puts - s0.list_puts, 0);
	s0 = s1;

	/* the winner goes: one put, one list */
	assert_int_equal(xb_tss_del(f->tss, a->id), 0);
	a->mark_v = 1;	/* out of every view, for the reference */
	fx_flush(f);
	xb_tss_mem_get_stats(f->mem, &s1);
	assert_int_equal(s1.puts - s0.puts, 1);
	assert_int_equal(s1.dels - s0.dels, 0);
	assert_int_equal(s1.list_puts - s0.list_puts, 1);
	expect(f, IN, &fl, XB_R_PASS_POLICY_ALLOW, 1);

	/* the last of the shape goes: one delete, one list */
	s0 = s1;
	assert_int_equal(xb_tss_del(f->tss, b->id), 0);
	b->mark_v = 1;
	fx_flush(f);
	xb_tss_mem_get_stats(f->mem, &s1);
	assert_int_equal(s1.puts - s0.puts, 0);
	assert_int_equal(s1.dels - s0.dels, 1);
	assert_int_equal(s1.list_puts - s0.list_puts, 1);
	assert_int_equal(xb_tss_mem_count(f->mem), 1);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);

	assert_int_equal(xb_tss_del(f->tss, 77), -ENOENT);
	assert_int_equal(xb_tss_add(f->tss, &f->pols[2]), -EEXIST);
	fx_free(f);
}

/* ---- randomized differential test ------------------------------------ */

struct diff_stats {
	unsigned long compared;
	unsigned long decided[XB_R_MAX];
	unsigned long overflow_pass;
	unsigned long mismatches;
	unsigned long steer_found;
	unsigned long steer_undecidable;
};

static void dump_mismatch(const char *what, const struct xb_policy *pols,
			  size_t n, const struct xb_flow *fl, unsigned int a,
			  __u32 aid, unsigned int b, __u32 bid)
{
	char s[64], d[64];
	size_t i;

	inet_ntop(fl->family, fl->saddr.b, s, sizeof(s));
	inet_ntop(fl->family, fl->daddr.b, d, sizeof(d));
	printf("# MISMATCH %s: flow %s -> %s proto %u sport %04x dport %04x: "
	       "ref %u/%u tss %u/%u\n", what, s, d, fl->proto, ntohs(fl->sport),
	       ntohs(fl->dport), a, aid, b, bid);
	for (i = 0; i < n; i++)
		xb_spd_dump_policy(&pols[i]);
}

static void compare_input(const struct xb_policy *pols, size_t n,
			  const struct xb_tss_source *src, __u8 dir,
			  const struct xb_flow *fl, const __u8 dflt[4],
			  struct diff_stats *st)
{
	struct xb_ref_decision r, t;

	xb_ref_classify_input(pols, n, dir, fl, dflt, &r);
	assert_int_equal(xb_tss_lookup(src, dir, fl, dflt, &t), 0);
	st->compared++;
	if (r.reason == t.reason && r.policy_id == t.policy_id) {
		st->decided[r.reason]++;
		return;
	}
	/* capacity, not semantics: an overflowed list passes to the kernel */
	if (t.reason == XB_R_PASS_UNDECIDABLE && t.overflow) {
		st->overflow_pass++;
		return;
	}
	if (st->mismatches++ < 3)
		dump_mismatch(dir == XFRM_POLICY_IN ? "in" : "fwd", pols, n, fl,
			      r.reason, r.policy_id, t.reason, t.policy_id);
}

static void compare_steer(const struct xb_policy *pols, size_t n,
			  const struct xb_tss_source *src,
			  const struct xb_flow *fl, struct diff_stats *st)
{
	struct xb_ref_steer r, t;

	xb_ref_steer(pols, n, fl, &r);
	assert_int_equal(xb_tss_lookup_steer(src, fl, &t), 0);
	st->compared++;
	if (r.undecidable == t.undecidable && r.found == t.found &&
	    r.policy_id == t.policy_id && r.if_id == t.if_id &&
	    r.verdict == t.verdict) {
		st->steer_found += r.found && !r.undecidable;
		st->steer_undecidable += r.undecidable;
		return;
	}
	if (t.undecidable && t.overflow) {
		st->overflow_pass++;
		return;
	}
	if (st->mismatches++ < 3)
		dump_mismatch("out", pols, n, fl, r.undecidable * 100 + r.found,
			      r.policy_id, t.undecidable * 100 + t.found,
			      t.policy_id);
}

static void random_defaults(struct xb_rng *rng, __u8 dflt[4])
{
	int i;

	for (i = 0; i < 4; i++)
		dflt[i] = xb_rng_pct(rng, 30) ? XB_DEFAULT_BLOCK : XB_DEFAULT_ACCEPT;
}

/* Every kind of flow of one SPD through both classifiers. */
static void compare_many(struct xb_rng *rng, const struct xb_policy *pols,
			 size_t n, const struct xb_tss_source *src,
			 unsigned int n_flows, struct diff_stats *st)
{
	struct xb_flow fl;
	__u8 dflt[4];
	unsigned int k;

	random_defaults(rng, dflt);
	for (k = 0; k < n_flows; k++) {
		xb_spd_gen_flow(rng, pols, n, &fl);
		compare_input(pols, n, src, XFRM_POLICY_IN, &fl, dflt, st);
		compare_input(pols, n, src, XFRM_POLICY_FWD, &fl, dflt, st);
		compare_steer(pols, n, src, &fl, st);
	}
}

static void print_stats(const char *name, const struct diff_stats *st)
{
	printf("# %s: %lu comparisons, %lu mismatches, %lu overflow passes; "
	       "allow %lu block %lu requires %lu default_block %lu "
	       "no_policy %lu undecidable %lu; steer found %lu undecidable %lu\n",
	       name, st->compared, st->mismatches, st->overflow_pass,
	       st->decided[XB_R_PASS_POLICY_ALLOW],
	       st->decided[XB_R_DROP_POLICY_BLOCK],
	       st->decided[XB_R_DROP_REQUIRES_IPSEC],
	       st->decided[XB_R_DROP_DEFAULT_BLOCK],
	       st->decided[XB_R_PASS_NO_POLICY],
	       st->decided[XB_R_PASS_UNDECIDABLE], st->steer_found,
	       st->steer_undecidable);
}

static void test_random_differential(void **state)
{
	struct xb_rng rng;
	struct diff_stats st = { 0 };
	struct xb_spd_cfg cfg;
	unsigned int spd;
	struct fx *f;
	size_t i;

	(void)state;
	xb_rng_seed(&rng, xb_test_seed("random_differential"));
	for (spd = 0; spd < 1500; spd++) {
		f = fx_new();
		xb_spd_cfg_random(&rng, 60, &cfg);
		f->n = xb_spd_gen(&rng, &cfg, f->pols, MAX_POLS);
		for (i = 0; i < f->n; i++)
			assert_int_equal(xb_tss_add(f->tss, &f->pols[i]), 0);
		fx_flush(f);
		compare_many(&rng, f->pols, f->n, &f->src, 60, &st);
		fx_free(f);
	}
	print_stats("random_differential", &st);
	assert_int_equal(st.mismatches, 0);
	/* the test has teeth: every outcome occurred */
	assert_true(st.decided[XB_R_PASS_POLICY_ALLOW] > 100);
	assert_true(st.decided[XB_R_DROP_POLICY_BLOCK] > 100);
	assert_true(st.decided[XB_R_DROP_REQUIRES_IPSEC] > 100);
	assert_true(st.decided[XB_R_DROP_DEFAULT_BLOCK] > 100);
	assert_true(st.decided[XB_R_PASS_UNDECIDABLE] > 100);
	assert_true(st.steer_found > 100);
}

#define V4_IN_MAIN	XB_SHAPE_LIST_IDX(XB_VIEW_IN, XB_PTYPE_MAIN, XB_FAM_V4)

/* Hundreds of distinct shapes (every prefix pair, port-range pieces) share
 * few tables, and every flow is decided. */
static void test_many_shapes(void **state)
{
	struct diff_stats st = { 0 };
	struct xb_shape_list sl;
	struct fx *f = fx_new();
	struct xb_policy *p;
	struct xb_rng rng;
	int s, d;

	(void)state;
	xb_rng_seed(&rng, 7);
	for (s = 0; s <= 32; s += 2) {
		for (d = 0; d <= 32; d += 3) {
			p = pol(f, IN, MAIN, "192.0.2.0", s, "198.51.100.0", d,
				(s * 33 + d) % 97, (s + d) % 2 ? BLOCK : ALLOW);
			/* addresses of a rule set's many hosts and nets */
			p->sel.saddr.a[0] = (__u32)xb_rng_next(&rng);
			p->sel.daddr.a[0] = (__u32)xb_rng_next(&rng);
			p->sel.proto = IPPROTO_TCP;
			p->sel.dport = htons(1024 << (s % 6));
			p->sel.dport_mask = htons((__u16)(0xffffU << (10 + s % 6)));
		}
	}
	fx_publish(f);
	xb_tss_list_stats(f->tss, V4_IN_MAIN, &sl);
	printf("# many_shapes: %u policies, %u shapes, %u tables, %u buckets\n",
	       sl.n_policies, sl.n_shapes, sl.count, sl.n_buckets);
	assert_int_equal(sl.n_policies, f->n);
	assert_true(sl.n_shapes > 100);
	assert_true(sl.count < sl.n_shapes / 4);
	assert_int_equal(sl.undecidable, 0);
	assert_int_equal(xb_tss_undecidable_lists(f->tss), 0);
	compare_many(&rng, f->pols, f->n, &f->src, 2000, &st);
	assert_int_equal(st.mismatches, 0);
	assert_int_equal(st.overflow_pass, 0);
	fx_free(f);
}

#define V6_IN_MAIN	XB_SHAPE_LIST_IDX(XB_VIEW_IN, XB_PTYPE_MAIN, XB_FAM_V6)

/* A policy none of whose relaxed shapes has a table goes into a coarser
 * table that covers it, where the rule's last prefix word completes the
 * match; for IPv6 only if the table keeps every word before that one,
 * else a flow differing there would match it. */
static void test_covering_table(void **state)
{
	struct xb_shape_list sl;
	struct fx *f = fx_new();
	struct xb_flow fl;

	(void)state;
	pol(f, IN, MAIN, "192.0.2.0", 16, "198.51.100.0", 16, 10, BLOCK);
	pol(f, IN, MAIN, "192.0.2.64", 26, "198.51.100.128", 26, 5, ALLOW);
	pol(f, IN, MAIN, "2001::", 16, "2001::", 16, 10, BLOCK);
	pol(f, IN, MAIN, "2001:db8:1:2::", 64, "2001:db8:3:4::", 64, 5, ALLOW);
	fx_publish(f);
	xb_tss_list_stats(f->tss, V4_IN_MAIN, &sl);
	assert_int_equal(sl.count, 1);		/* /26 /26 in the /16 /16 table */
	xb_tss_list_stats(f->tss, V6_IN_MAIN, &sl);
	assert_int_equal(sl.count, 2);		/* /64's word 1 past a /16 */

	fl = flow("192.0.2.70", "198.51.100.130", IPPROTO_UDP, 1, 2);
	expect(f, IN, &fl, XB_R_PASS_POLICY_ALLOW, 1);
	/* the same key of the /16 table, outside the /26 */
	fl = flow("192.0.2.7", "198.51.100.130", IPPROTO_UDP, 1, 2);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 0);
	fl = flow("2001:db8:1:2::1", "2001:db8:3:4::1", IPPROTO_UDP, 1, 2);
	expect(f, IN, &fl, XB_R_PASS_POLICY_ALLOW, 3);
	/* word 1 as the /64's, word 0 not */
	fl = flow("2001:db9:1:2::1", "2001:db8:3:4::1", IPPROTO_UDP, 1, 2);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 2);
	fx_free(f);
}

/* The chunks of the one crowded key of test_later_chunk_ports(). */
struct chunks_seen {
	unsigned int n;
	bool more[XB_BUCKET_CHUNKS];
	struct xb_tss_ports later[XB_BUCKET_CHUNKS];
};

static int note_chunk(void *arg, const struct xb_tss_key *key,
		      const struct xb_tss_val *val)
{
	struct chunks_seen *s = arg;
	unsigned int c = key->list >> XB_TSS_CHUNK_SHIFT;

	if (c < XB_BUCKET_CHUNKS) {
		s->n++;
		s->more[c] = val->more;
		s->later[c] = val->later;
	}
	return 0;
}

/* A crowded key's chunks carry the ports of the rules after them: here
 * the 30 destination port blocks of one address pair (the pieces of a
 * range), 11 a chunk. A flow outside them leaves the bucket after the
 * first chunk, one in the last chunk still finds its policy. */
static void test_later_chunk_ports(void **state)
{
	struct chunks_seen seen = {};
	struct xb_shape_list sl;
	struct fx *f = fx_new();
	struct xb_policy *p;
	struct xb_flow fl;
	unsigned int i;

	(void)state;
	for (i = 0; i < 30; i++) {
		p = pol(f, IN, MAIN, "192.0.2.0", 24, "198.51.100.0", 24, 100 + i, BLOCK);
		p->sel.proto = IPPROTO_UDP;
		p->sel.dport = htons(1024 + 16 * i);
		p->sel.dport_mask = htons(0xfff0);
	}
	fx_publish(f);
	xb_tss_list_stats(f->tss, V4_IN_MAIN, &sl);
	assert_int_equal(sl.count, 1);		/* one table, one key */
	assert_int_equal(xb_tss_mem_for_each(f->mem, note_chunk, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_true(seen.more[0] && seen.more[1] && !seen.more[2]);
	assert_int_equal(seen.later[0].dport_lo, 1024 + 16 * 11);
	assert_int_equal(seen.later[0].dport_hi, 1024 + 16 * 30 - 1);
	assert_int_equal(seen.later[1].dport_lo, 1024 + 16 * 22);
	assert_int_equal(seen.later[1].dport_hi, 1024 + 16 * 30 - 1);
	assert_int_equal(seen.later[0].sport_lo, 0);
	assert_int_equal(seen.later[0].sport_hi, 0xffff);

	fl = flow("192.0.2.1", "198.51.100.1", IPPROTO_UDP, 7, 1024 + 16 * 29 + 3);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 29);
	fl = flow("192.0.2.1", "198.51.100.1", IPPROTO_UDP, 7, 1024 + 16 * 5 + 3);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 5);
	fl = flow("192.0.2.1", "198.51.100.1", IPPROTO_UDP, 7, 5000);
	expect(f, IN, &fl, XB_R_PASS_NO_POLICY, NOPOL);
	fx_free(f);
}

/* Shape i of test_table_limit's 648: IPv6 prefixes of multiples of 16
 * bits, proto and ports "any" or "exact", none relaxed further. */
static void limit_shape(unsigned int i, struct xb_selector *sel)
{
	sel->prefixlen_s = 16 * (i % 9);
	sel->prefixlen_d = 16 * (i / 9 % 9);
	sel->proto = i / 81 % 2 ? IPPROTO_TCP : 0;
	sel->sport_mask = i / 162 % 2 ? 0xffff : 0;
	sel->dport_mask = i / 324 % 2 ? 0xffff : 0;
}

/* How many bits of a flow shape i keeps. */
static unsigned int limit_shape_bits(unsigned int i)
{
	struct xb_selector sel;

	limit_shape(i, &sel);
	return sel.prefixlen_s + sel.prefixlen_d + (sel.proto ? 8 : 0) +
	       (sel.sport_mask ? 16 : 0) + (sel.dport_mask ? 16 : 0);
}

static int by_bits_desc(const void *a, const void *b)
{
	unsigned int x = limit_shape_bits(*(const unsigned int *)a);
	unsigned int y = limit_shape_bits(*(const unsigned int *)b);

	return x < y ? 1 : x > y ? -1 : 0;
}

/* A list that would need more than XB_MAX_TABLES tables is undecidable,
 * and decidable again once the policy that did not fit goes. The shapes
 * come from the most specific to the coarsest, so no table already there
 * covers the next one (a covering table keeps no more of a flow than the
 * shape, and so at most as many bits): each needs a table of its own. */
static void test_table_limit(void **state)
{
	struct xb_flow fl = flow("2001:db8::5", "2001:db8::6", IPPROTO_TCP, 1, 2);
	struct xb_shape_list sl = {};
	struct fx *f = fx_new();
	struct xb_ref_decision d;
	struct xb_policy p = {
		.sel = { .family = AF_INET6 },
		.dir = IN, .type = MAIN, .priority = 100, .action = BLOCK,
	};
	__u32 v6_in_main = XB_SHAPE_LIST_IDX(XB_VIEW_IN, XB_PTYPE_MAIN, XB_FAM_V6);
	unsigned int order[648];
	__u32 shape;

	(void)state;
	for (shape = 0; shape < 648; shape++)
		order[shape] = shape;
	qsort(order, 648, sizeof(order[0]), by_bits_desc);
	for (shape = 0; shape < 648 && !sl.undecidable; shape++) {
		limit_shape(order[shape], &p.sel);
		p.id++;
		p.pos++;
		assert_int_equal(xb_tss_add(f->tss, &p), 0);
		fx_flush(f);
		xb_tss_list_stats(f->tss, v6_in_main, &sl);
	}
	assert_int_equal(shape, XB_MAX_TABLES + 1);
	assert_int_equal(sl.undecidable, XB_LIST_UNDEC_TABLES);
	assert_int_equal(sl.count, 0);	/* an undecidable list has none */
	assert_int_equal(xb_tss_undecidable_lists(f->tss), 1);
	assert_int_equal(xb_tss_lookup(&f->src, IN, &fl, accept_all, &d), 0);
	assert_int_equal(d.reason, XB_R_PASS_UNDECIDABLE);
	assert_int_equal(d.overflow, 1);
	assert_int_equal(xb_tss_del(f->tss, p.id), 0);
	fx_flush(f);
	xb_tss_list_stats(f->tss, v6_in_main, &sl);
	assert_int_equal(sl.undecidable, 0);
	assert_int_equal(sl.count, XB_MAX_TABLES);
	assert_int_equal(xb_tss_undecidable_lists(f->tss), 0);
	fx_free(f);
}

/* More policies with one selector than a bucket holds: the bucket is
 * published full and a packet that hits it passes; one fewer decides. */
static void test_full_bucket(void **state)
{
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	struct xb_flow other = flow("203.0.113.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	struct xb_shape_list sl;
	struct fx *f = fx_new();
	struct xb_ref_decision d;
	struct xb_policy *p;
	int i;

	(void)state;
	for (i = 0; i <= XB_BUCKET_MAX; i++) {
		p = pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 10 + i, BLOCK);
		/* the same selector is allowed again under another mark mask */
		p->mark_m = i;
	}
	pol(f, IN, MAIN, "203.0.113.0", 24, "0.0.0.0", 0, 1, ALLOW);
	fx_publish(f);
	xb_tss_list_stats(f->tss, V4_IN_MAIN, &sl);
	assert_int_equal(sl.n_full_buckets, 1);
	assert_int_equal(sl.undecidable, 0);
	assert_int_equal(xb_tss_lookup(&f->src, IN, &fl, accept_all, &d), 0);
	assert_int_equal(d.reason, XB_R_PASS_UNDECIDABLE);
	assert_int_equal(d.overflow, 1);
	expect(f, IN, &other, XB_R_PASS_POLICY_ALLOW, XB_BUCKET_MAX + 1);
	assert_int_equal(xb_tss_del(f->tss, 0), 0);
	f->pols[0].mark_v = 1;	/* out of every view, for the reference */
	fx_flush(f);
	xb_tss_list_stats(f->tss, V4_IN_MAIN, &sl);
	assert_int_equal(sl.n_full_buckets, 0);
	expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 1);
	fx_free(f);
}

/* One bucket grows past the powers of two its array takes and shrinks
 * back through them to its single policy kept in the bucket itself, as
 * policies of one selector come and go: the best one left always wins.
 * The last to go is the worse of the last two, whose copy stays behind
 * the one kept. */
static void test_bucket_grows_and_shrinks(void **state)
{
	static const int leave[] = { 4, 0, 8, 2, 1, 6, 3, 7 };
	struct xb_flow fl = flow("192.0.2.5", "198.51.100.5", IPPROTO_TCP, 1, 2);
	struct fx *f = fx_new();
	struct xb_policy *p;
	size_t i;
	int best;

	(void)state;
	for (i = 0; i < 9; i++) {
		p = pol(f, IN, MAIN, "192.0.2.0", 24, "0.0.0.0", 0, 10 + i,
			i % 2 ? ALLOW : BLOCK);
		p->mark_m = i;	/* the same selector again, another mark mask */
		assert_int_equal(xb_tss_add(f->tss, p), 0);
		fx_flush(f);
		expect(f, IN, &fl, XB_R_DROP_POLICY_BLOCK, 0);
	}
	for (i = 0; i < sizeof(leave) / sizeof(leave[0]); i++) {
		assert_int_equal(xb_tss_del(f->tss, leave[i]), 0);
		f->pols[leave[i]].mark_v = 1;	/* out of every view, for the reference */
		fx_flush(f);
		for (best = 0; f->pols[best].mark_v; best++)
			;
		expect(f, IN, &fl, best % 2 ? XB_R_PASS_POLICY_ALLOW : XB_R_DROP_POLICY_BLOCK,
		       best);
	}
	fx_free(f);
}

/* Lists of more than this many tables are indexed where a test checks
 * the candidate index (the daemon's default is XB_IDX_MIN_TABLES). */
#define INDEX_MIN_TEST	8

/* The published candidate index holds exactly the regions of the
 * published buckets: none missing (a wrong miss), none stale. */
static void check_index_exact(const struct xb_tss_mem *mem)
{
	unsigned long missing, stale;

	assert_int_equal(xb_tss_mem_check_index(mem, &missing, &stale), 0);
	assert_int_equal(missing, 0);
	assert_int_equal(stale, 0);
}

/* Realistic rule sets (ruleset_gen.h), every profile and family, 10k
 * policies with hundreds to thousands of shapes in one list: every flow
 * decided as the reference decides (no structural pass), also after half
 * of the policies went one by one. */
static void test_realistic_profiles(void **state)
{
	static const int families[] = { AF_INET, AF_INET6 };
	const unsigned int n_pols = 10000;
	struct xb_policy *pols = calloc(n_pols, sizeof(*pols));
	struct xb_rng rng;
	unsigned int prof, fam, k;
	size_t n, i;

	(void)state;
	assert_non_null(pols);
	xb_rng_seed(&rng, xb_test_seed("realistic_profiles"));
	for (prof = 0; prof < XB_RS_PROFILES; prof++) {
		for (fam = 0; fam < 2; fam++) {
			struct xb_rs_cfg cfg = { prof, families[fam], n_pols,
						 XFRM_POLICY_FWD, false };
			struct diff_stats st = { 0 };
			struct xb_tss_source src;
			struct xb_tss_sink sink;
			struct xb_shape_list sl;
			struct xb_tss_mem *mem;
			struct xb_tss *tss;
			struct xb_flow fl;

			n = xb_rs_gen(&rng, &cfg, pols, n_pols);
			tss = xb_tss_new(XB_MAX_POLICIES);
			mem = xb_tss_mem_new();
			assert_non_null(tss);
			assert_non_null(mem);
			xb_tss_set_index_min(tss, INDEX_MIN_TEST);
			xb_tss_mem_sink(mem, &sink);
			xb_tss_mem_source(mem, &src);
			for (i = 0; i < n; i++)
				assert_int_equal(xb_tss_add(tss, &pols[i]), 0);
			assert_int_equal(xb_tss_flush(tss, &sink), 0);
			xb_tss_list_stats(tss, XB_SHAPE_LIST_IDX(XB_VIEW_FWD,
					  XB_PTYPE_MAIN, fam ? XB_FAM_V6 : XB_FAM_V4), &sl);
			printf("# %s inet%s: %zu policies, %u shapes, %u tables, "
			       "%u buckets, %u full, %u index entries\n",
			       xb_rs_profile_name(prof), fam ? "6" : "", n,
			       sl.n_shapes, sl.count, sl.n_buckets,
			       sl.n_full_buckets, sl.n_index_entries);
			assert_true(sl.n_shapes > 32);
			assert_true(sl.indexed || sl.undecidable);
			check_index_exact(mem);
			for (k = 0; k < 1500; k++) {
				xb_rs_flow(&rng, pols, n, &fl);
				compare_input(pols, n, &src, XFRM_POLICY_FWD, &fl,
					      accept_all, &st);
			}
			/* half of them go, one change at a time */
			for (i = 0; i < n / 2; i++) {
				assert_int_equal(xb_tss_del(tss, pols[n - 1 - i].id), 0);
				if (i % 97 == 0)
					assert_int_equal(xb_tss_flush(tss, &sink), 0);
			}
			assert_int_equal(xb_tss_flush(tss, &sink), 0);
			check_index_exact(mem);
			for (k = 0; k < 1500; k++) {
				xb_rs_flow(&rng, pols, n - n / 2, &fl);
				compare_input(pols, n - n / 2, &src, XFRM_POLICY_FWD,
					      &fl, accept_all, &st);
			}
			print_stats(xb_rs_profile_name(prof), &st);
			assert_int_equal(st.mismatches, 0);
			/* a seed may need more tables than a list holds: its
			 * packets pass, visibly; the profiles fit with room */
			assert_true(st.overflow_pass * 50 <= st.compared ||
				    sl.undecidable == XB_LIST_UNDEC_TABLES);
			/* decided by policies (one may take them all: flows
			 * favour the first rules) */
			assert_true(st.decided[XB_R_DROP_POLICY_BLOCK] +
				    st.decided[XB_R_PASS_POLICY_ALLOW] > 100 ||
				    sl.undecidable);
			xb_tss_free(tss);
			xb_tss_mem_free(mem);
		}
	}
	free(pols);
}

/* ---- incremental updates against the reference ----------------------- */

/* The live set of an incremental run, by id. */
struct live {
	struct xb_policy pols[MAX_POLS];
	bool used[MAX_POLS];
	__u32 next_pos;
};

static size_t live_collect(const struct live *lv, struct xb_policy *out)
{
	size_t i, n = 0;

	for (i = 0; i < MAX_POLS; i++)
		if (lv->used[i])
			out[n++] = lv->pols[i];
	return n;
}

/* One mirror event: add, delete, or update (delete + add, same id; the
 * pos stays when the priority does, as the mirror assigns it). */
static void random_op(struct xb_rng *rng, struct fx *f, struct live *lv,
		      const struct xb_spd_cfg *cfg, __u64 shapes)
{
	__u32 id = xb_rng_below(rng, 64 + xb_rng_below(rng, MAX_POLS - 64));
	struct xb_policy p;

	if (!lv->used[id]) {
		xb_spd_gen_policy(rng, cfg, shapes, &p);
		p.id = id;
		p.pos = ++lv->next_pos;
		assert_int_equal(xb_tss_add(f->tss, &p), 0);
		lv->pols[id] = p;
		lv->used[id] = true;
		return;
	}
	assert_int_equal(xb_tss_del(f->tss, id), 0);
	if (xb_rng_pct(rng, 50)) {
		lv->used[id] = false;
		return;
	}
	p = lv->pols[id];
	if (xb_rng_pct(rng, 50)) {
		p.priority = xb_rng_below(rng, 4);
		p.pos = ++lv->next_pos;
	}
	p.action = xb_rng_pct(rng, 50) ? ALLOW : BLOCK;
	assert_int_equal(xb_tss_add(f->tss, &p), 0);
	lv->pols[id] = p;
}

static void test_random_incremental(void **state)
{
	struct diff_stats st = { 0 };
	struct xb_tss_mem_stats s0, s1;
	struct xb_spd_cfg cfg;
	struct xb_rng rng;
	unsigned int round, op;
	struct live *lv;
	struct fx *f, *g;
	__u64 shapes;
	size_t i;

	(void)state;
	xb_rng_seed(&rng, xb_test_seed("random_incremental"));
	lv = malloc(sizeof(*lv));
	assert_non_null(lv);
	for (round = 0; round < 60; round++) {
		memset(lv, 0, sizeof(*lv));
		xb_spd_cfg_random(&rng, 200, &cfg);
		shapes = xb_rng_next(&rng);
		f = fx_new();
		for (op = 0; op < 1500; op++) {
			random_op(&rng, f, lv, &cfg, shapes);
			if (xb_rng_pct(&rng, 10))
				fx_flush(f);
			if (op % 500 != 499)
				continue;
			fx_flush(f);
			f->n = live_collect(lv, f->pols);
			compare_many(&rng, f->pols, f->n, &f->src, 40, &st);
		}
		fx_flush(f);
		/* a flush with nothing changed publishes nothing */
		xb_tss_mem_get_stats(f->mem, &s0);
		fx_flush(f);
		xb_tss_mem_get_stats(f->mem, &s1);
		assert_memory_equal(&s0, &s1, sizeof(s0));

		/* placement depends on history, what is decided does not */
		g = fx_new();
		g->n = live_collect(lv, g->pols);
		for (i = 0; i < g->n; i++)
			assert_int_equal(xb_tss_add(g->tss, &g->pols[i]), 0);
		fx_flush(g);
		f->n = live_collect(lv, f->pols);
		compare_many(&rng, f->pols, f->n, &f->src, 40, &st);
		compare_many(&rng, g->pols, g->n, &g->src, 40, &st);
		assert_int_equal(xb_tss_undecidable_lists(f->tss),
				 xb_tss_undecidable_lists(g->tss));
		/* all deleted: nothing stays published */
		for (i = 0; i < MAX_POLS; i++)
			if (lv->used[i])
				assert_int_equal(xb_tss_del(f->tss, i), 0);
		fx_flush(f);
		assert_int_equal(xb_tss_mem_count(f->mem), 0);
		fx_free(g);
		fx_free(f);
	}
	free(lv);
	print_stats("random_incremental", &st);
	assert_int_equal(st.mismatches, 0);
}

/* The same published state through real BPF maps. */
static void test_maps_sink(void **state)
{
	struct xb_tss_maps maps = {};
	struct xb_tss_source msrc;
	struct xb_tss_sink msink;
	struct xb_ref_decision a, b;
	struct xb_spd_cfg cfg;
	struct xb_flow fl;
	struct xb_rng rng;
	struct fx *f;
	unsigned int k;
	size_t i;
	int err;

	(void)state;
	err = xb_tss_maps_create(&maps);
	if (err) {
		printf("# maps_sink: cannot create BPF maps (%s)\n", strerror(-err));
		skip();
	}
	xb_rng_seed(&rng, xb_test_seed("maps_sink"));
	xb_spd_cfg_default(&cfg);
	cfg.n_policies = 300;
	f = fx_new();
	f->n = xb_spd_gen(&rng, &cfg, f->pols, MAX_POLS);
	for (i = 0; i < f->n; i++)
		assert_int_equal(xb_tss_add(f->tss, &f->pols[i]), 0);
	fx_flush(f);
	xb_tss_maps_sink(&maps, &msink);
	xb_tss_maps_source(&maps, &msrc);
	xb_tss_forget_published(f->tss);
	assert_int_equal(xb_tss_flush(f->tss, &msink), 0);
	for (k = 0; k < 2000; k++) {
		xb_spd_gen_flow(&rng, f->pols, f->n, &fl);
		assert_int_equal(xb_tss_lookup(&f->src, IN, &fl, accept_all, &a), 0);
		assert_int_equal(xb_tss_lookup(&msrc, IN, &fl, accept_all, &b), 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	/* deletes reach the map: delete everything, the map empties */
	for (i = 0; i < f->n; i++)
		assert_int_equal(xb_tss_del(f->tss, f->pols[i].id), 0);
	assert_int_equal(xb_tss_flush(f->tss, &msink), 0);
	assert_int_equal(xb_tss_maps_clear(&maps), 0);
	fx_free(f);
	xb_tss_maps_close(&maps);
}

/* A sink that fails every few calls, in front of a memory state. */
struct flaky {
	struct xb_tss_sink inner;
	unsigned int calls;
};

static int flaky_fail(struct flaky *fk)
{
	return ++fk->calls % 7 == 0 ? -EIO : 0;
}

static int flaky_put(void *ctx, const struct xb_tss_key *key,
		     const struct xb_tss_val *val)
{
	struct flaky *fk = ctx;

	return flaky_fail(fk) ?: fk->inner.put_entry(fk->inner.ctx, key, val);
}

static int flaky_del(void *ctx, const struct xb_tss_key *key)
{
	struct flaky *fk = ctx;

	return flaky_fail(fk) ?: fk->inner.del_entry(fk->inner.ctx, key);
}

static int flaky_list(void *ctx, __u32 idx, const struct xb_shape_list *l)
{
	struct flaky *fk = ctx;

	return flaky_fail(fk) ?: fk->inner.put_list(fk->inner.ctx, idx, l);
}

static int flaky_put_index(void *ctx, const struct xb_tss_idx_key *key,
			   const struct xb_tss_idx_val *val)
{
	struct flaky *fk = ctx;

	return flaky_fail(fk) ?: fk->inner.put_index(fk->inner.ctx, key, val);
}

static int flaky_del_index(void *ctx, const struct xb_tss_idx_key *key)
{
	struct flaky *fk = ctx;

	return flaky_fail(fk) ?: fk->inner.del_index(fk->inner.ctx, key);
}

/* Shape list idx as published into mem. */
static struct xb_shape_list mem_list(struct xb_tss_mem *mem, __u32 idx)
{
	struct xb_shape_list sl;
	struct xb_tss_source src;

	xb_tss_mem_source(mem, &src);
	assert_int_equal(src.get_list(src.ctx, idx, &sl), 0);
	return sl;
}

/* A realistic rule set added to a builder (not flushed yet) that
 * publishes into memory. */
struct rs_fx {
	struct xb_policy *pols;
	size_t n;
	struct xb_tss *tss;
	struct xb_tss_mem *mem;
	struct xb_tss_sink sink;
	struct xb_tss_source src;
};

/* cfg's rule set from the seed of test `name`, lists of more than
 * index_min tables indexed. */
static void rs_fx_build(struct rs_fx *f, struct xb_rng *rng, const char *name,
			const struct xb_rs_cfg *cfg, __u32 index_min)
{
	size_t i;

	f->pols = calloc(cfg->n_policies, sizeof(*f->pols));
	assert_non_null(f->pols);
	xb_rng_seed(rng, xb_test_seed(name));
	f->n = xb_rs_gen(rng, cfg, f->pols, cfg->n_policies);
	f->tss = xb_tss_new(XB_MAX_POLICIES);
	f->mem = xb_tss_mem_new();
	assert_non_null(f->tss);
	assert_non_null(f->mem);
	xb_tss_set_index_min(f->tss, index_min);
	xb_tss_mem_sink(f->mem, &f->sink);
	xb_tss_mem_source(f->mem, &f->src);
	for (i = 0; i < f->n; i++)
		assert_int_equal(xb_tss_add(f->tss, &f->pols[i]), 0);
}

static void rs_fx_free(struct rs_fx *f)
{
	xb_tss_free(f->tss);
	xb_tss_mem_free(f->mem);
	free(f->pols);
}

/* The firewall profile confined to the documentation ranges (as the
 * drop bench sends it on a wire): its addresses collide in every relaxed
 * table, so it needs more tables than any other set (about 250 at 10k);
 * it must still fit and be decided in full. */
static void test_dense_firewall(void **state)
{
	const struct xb_rs_cfg cfg = { XB_RS_FW, AF_INET, 10000, XFRM_POLICY_FWD, true };
	struct diff_stats st = { 0 };
	struct xb_shape_list sl;
	struct xb_flow fl;
	struct xb_rng rng;
	struct rs_fx f;
	unsigned int k;

	(void)state;
	rs_fx_build(&f, &rng, "dense_firewall", &cfg, INDEX_MIN_TEST);
	assert_int_equal(xb_tss_flush(f.tss, &f.sink), 0);
	sl = mem_list(f.mem, XB_SHAPE_LIST_IDX(XB_VIEW_FWD, XB_PTYPE_MAIN, XB_FAM_V4));
	printf("# dense_firewall: %zu policies, %u shapes, %u tables, %u index entries\n",
	       f.n, sl.n_shapes, sl.count, sl.n_index_entries);
	assert_int_equal(sl.undecidable, 0);
	assert_int_equal(sl.indexed, 1);
	check_index_exact(f.mem);
	for (k = 0; k < 3000; k++) {
		xb_rs_flow(&rng, f.pols, f.n, &fl);
		compare_input(f.pols, f.n, &f.src, XFRM_POLICY_FWD, &fl, accept_all, &st);
	}
	print_stats("dense_firewall", &st);
	assert_int_equal(st.mismatches, 0);
	assert_int_equal(st.overflow_pass, 0);
	rs_fx_free(&f);
}

/* An index that does not fit its map: the list is published unindexed
 * and still decides as the reference does; once the entries fit, the
 * next flush writes them and the list is indexed again. */
static void test_index_capacity(void **state)
{
	const __u32 list = XB_SHAPE_LIST_IDX(XB_VIEW_FWD, XB_PTYPE_MAIN, XB_FAM_V4);
	const struct xb_rs_cfg cfg = { XB_RS_ACL, AF_INET, 5000, XFRM_POLICY_FWD, false };
	struct diff_stats st = { 0 };
	struct xb_shape_list sl;
	struct xb_flow fl;
	struct xb_rng rng;
	struct rs_fx f;
	unsigned int k;

	(void)state;
	rs_fx_build(&f, &rng, "index_capacity", &cfg, INDEX_MIN_TEST);
	xb_tss_mem_set_index_limit(f.mem, 50);
	/* a full index is no error: the list is searched in full */
	assert_int_equal(xb_tss_flush(f.tss, &f.sink), 0);
	assert_int_equal(mem_list(f.mem, list).indexed, 0);
	assert_true(mem_list(f.mem, list).count > INDEX_MIN_TEST);
	assert_int_equal(xb_tss_mem_index_count(f.mem), 50);
	for (k = 0; k < 2000; k++) {
		xb_rs_flow(&rng, f.pols, f.n, &fl);
		compare_input(f.pols, f.n, &f.src, XFRM_POLICY_FWD, &fl, accept_all, &st);
	}
	/* room again: the entries left out are written, the list indexed */
	xb_tss_mem_set_index_limit(f.mem, 0);
	assert_int_equal(xb_tss_del(f.tss, f.pols[f.n - 1].id), 0);
	assert_int_equal(xb_tss_flush(f.tss, &f.sink), 0);
	sl = mem_list(f.mem, list);
	assert_int_equal(sl.indexed, 1);
	assert_int_equal(sl.n_index_entries, xb_tss_mem_index_count(f.mem));
	check_index_exact(f.mem);
	for (k = 0; k < 2000; k++) {
		xb_rs_flow(&rng, f.pols, f.n - 1, &fl);
		compare_input(f.pols, f.n - 1, &f.src, XFRM_POLICY_FWD, &fl, accept_all, &st);
	}
	print_stats("index_capacity", &st);
	assert_int_equal(st.mismatches, 0);
	rs_fx_free(&f);
}

/* Index entries are written only for the lists searched through the
 * index: none while a list is below the threshold, all of them (exact)
 * at the flush after it comes above it. */
static void test_index_only_when_searched(void **state)
{
	const __u32 list = XB_SHAPE_LIST_IDX(XB_VIEW_FWD, XB_PTYPE_MAIN, XB_FAM_V4);
	const struct xb_rs_cfg cfg = { XB_RS_ACL, AF_INET, 3000, XFRM_POLICY_FWD, false };
	struct xb_rng rng;
	struct rs_fx f;
	size_t i;

	(void)state;
	rs_fx_build(&f, &rng, "index_only_when_searched", &cfg, XB_IDX_MIN_TABLES);
	assert_int_equal(xb_tss_flush(f.tss, &f.sink), 0);
	assert_true(mem_list(f.mem, list).count <= XB_IDX_MIN_TABLES);
	assert_int_equal(mem_list(f.mem, list).indexed, 0);
	assert_int_equal(xb_tss_mem_index_count(f.mem), 0);
	assert_int_equal(mem_list(f.mem, list).n_index_entries, 0);
	/* The buckets are counted when the list comes above: also with
	 * buckets emptied in the same flush. */
	for (i = 0; i < f.n; i += 7)
		assert_int_equal(xb_tss_del(f.tss, f.pols[i].id), 0);
	xb_tss_set_index_min(f.tss, INDEX_MIN_TEST);
	assert_int_equal(xb_tss_flush(f.tss, &f.sink), 0);
	assert_int_equal(mem_list(f.mem, list).indexed, 1);
	assert_true(xb_tss_mem_index_count(f.mem) > 0);
	check_index_exact(f.mem);
	/* and followed after that */
	for (i = 0; i < f.n; i += 7)
		assert_int_equal(xb_tss_add(f.tss, &f.pols[i]), 0);
	for (i = 3; i < f.n; i += 5)
		assert_int_equal(xb_tss_del(f.tss, f.pols[i].id), 0);
	assert_int_equal(xb_tss_flush(f.tss, &f.sink), 0);
	assert_int_equal(mem_list(f.mem, list).indexed, 1);
	check_index_exact(f.mem);
	rs_fx_free(&f);
}

/* After a failed flush: forget, clear, flush again gives a whole state. */
static void test_flush_error_recovery(void **state)
{
	struct xb_tss_sink sink = {
		.put_entry = flaky_put, .del_entry = flaky_del,
		.put_list = flaky_list, .put_index = flaky_put_index,
		.del_index = flaky_del_index,
	};
	struct diff_stats st = { 0 };
	struct xb_spd_cfg cfg;
	struct xb_rng rng;
	struct flaky fk;
	struct fx *f, *g;
	size_t i;

	(void)state;
	xb_rng_seed(&rng, xb_test_seed("flush_error_recovery"));
	xb_spd_cfg_default(&cfg);
	cfg.n_policies = 200;
	f = fx_new();
	g = fx_new();
	f->n = xb_spd_gen(&rng, &cfg, f->pols, MAX_POLS);
	memcpy(g->pols, f->pols, sizeof(f->pols));
	g->n = f->n;
	fk.inner = f->sink;
	fk.calls = 0;
	sink.ctx = &fk;
	for (i = 0; i < f->n; i++)
		assert_int_equal(xb_tss_add(f->tss, &f->pols[i]), 0);
	assert_int_equal(xb_tss_flush(f->tss, &sink), -EIO);
	for (i = 0; i < f->n; i += 2)
		assert_int_equal(xb_tss_del(f->tss, f->pols[i].id), 0);
	xb_tss_mem_free(f->mem);
	f->mem = xb_tss_mem_new();
	assert_non_null(f->mem);
	xb_tss_mem_sink(f->mem, &f->sink);
	xb_tss_mem_source(f->mem, &f->src);
	xb_tss_forget_published(f->tss);
	fx_flush(f);

	/* what is published decides as the reference does on what is left */
	for (i = 1; i < g->n; i += 2)
		f->pols[i / 2] = g->pols[i];
	f->n = g->n / 2;
	compare_many(&rng, f->pols, f->n, &f->src, 400, &st);
	assert_int_equal(st.mismatches, 0);
	assert_true(st.compared > 0);
	fx_free(f);
	fx_free(g);
}

/* ---- scale ------------------------------------------------------------ */

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A gateway's SPD: one /32 or /128 pair per tunnel, three directions. */
static void scale_policy(struct xb_rng *rng, __u32 i, struct xb_policy *p)
{
	static const __u8 dirs[] = { IN, OUT, FWD };

	memset(p, 0, sizeof(*p));
	p->id = i;
	p->pos = i + 1;
	p->dir = dirs[i % 3];
	p->priority = 1000 + xb_rng_below(rng, 4);
	p->action = ALLOW;
	p->n_tmpls = 1;
	p->xb_flags = XB_POL_REQUIRES_IPSEC;
	if (i % 2) {
		p->sel.family = AF_INET;
		p->sel.prefixlen_s = p->sel.prefixlen_d = 32;
		p->sel.saddr.b[0] = 198;
		p->sel.saddr.b[1] = 51;
		p->sel.saddr.b[2] = 100;
		p->sel.saddr.b[3] = i & 0xff;
		p->sel.daddr.b[0] = 203;
		p->sel.daddr.b[1] = 0;
		p->sel.daddr.b[2] = 113;
		p->sel.daddr.b[3] = (i >> 8) & 0xff;
	} else {
		p->sel.family = AF_INET6;
		p->sel.prefixlen_s = p->sel.prefixlen_d = 128;
		p->sel.saddr.b[0] = 0x20;
		p->sel.saddr.b[1] = 0x01;
		p->sel.saddr.b[2] = 0x0d;
		p->sel.saddr.b[3] = 0xb8;
		p->sel.daddr = p->sel.saddr;
		memcpy(&p->sel.saddr.b[12], &i, 4);
		p->sel.daddr.b[15] = 1;
	}
	/* a few broader policies, as a gateway also has */
	if (i % 97 == 0) {
		p->sel.prefixlen_s = p->sel.family == AF_INET ? 24 : 64;
		p->priority = 5000;
		p->action = BLOCK;
	}
}

static void test_scale_100k(void **state)
{
	const __u32 n = 100000;
	struct xb_policy *pols = calloc(n, sizeof(*pols));
	struct fx *f = fx_new();
	struct diff_stats st = { 0 };
	double t_add, t_flush, t_del;
	struct timespec t0;
	struct xb_rng rng;
	__u32 i;

	(void)state;
	assert_non_null(pols);
	xb_rng_seed(&rng, 1);
	for (i = 0; i < n; i++)
		scale_policy(&rng, i, &pols[i]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		assert_int_equal(xb_tss_add(f->tss, &pols[i]), 0);
	t_add = ms_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fx_flush(f);
	t_flush = ms_since(&t0);
	printf("# scale: add %u policies %.1f ms (%.2f us each), first flush "
	       "%.1f ms, %zu entries\n", n, t_add, t_add * 1e3 / n, t_flush,
	       xb_tss_mem_count(f->mem));
	compare_many(&rng, pols, n, &f->src, 20, &st);
	assert_int_equal(st.mismatches, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		assert_int_equal(xb_tss_del(f->tss, i), 0);
		if (i % 1000 == 999)
			fx_flush(f);
	}
	fx_flush(f);
	t_del = ms_since(&t0);
	printf("# scale: delete %u policies with a flush every 1000: %.1f ms\n",
	       n, t_del);
	assert_int_equal(xb_tss_mem_count(f->mem), 0);
	fx_free(f);
	free(pols);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selector_match),
		cmocka_unit_test(test_proto_any_and_v6_prefix),
		cmocka_unit_test(test_icmp_type_code),
		cmocka_unit_test(test_lowest_priority_wins),
		cmocka_unit_test(test_priority_ties),
		cmocka_unit_test(test_mark_and_if_id),
		cmocka_unit_test(test_sub_and_main),
		cmocka_unit_test(test_requires_ipsec),
		cmocka_unit_test(test_default_and_icmp_error),
		cmocka_unit_test(test_undecidable_policies),
		cmocka_unit_test(test_offload_taints_list),
		cmocka_unit_test(test_many_shapes),
		cmocka_unit_test(test_covering_table),
		cmocka_unit_test(test_later_chunk_ports),
		cmocka_unit_test(test_table_limit),
		cmocka_unit_test(test_full_bucket),
		cmocka_unit_test(test_bucket_grows_and_shrinks),
		cmocka_unit_test(test_realistic_profiles),
		cmocka_unit_test(test_flush_only_changes),
		cmocka_unit_test(test_random_differential),
		cmocka_unit_test(test_random_incremental),
		cmocka_unit_test(test_maps_sink),
		cmocka_unit_test(test_flush_error_recovery),
		cmocka_unit_test(test_index_capacity),
		cmocka_unit_test(test_dense_firewall),
		cmocka_unit_test(test_index_only_when_searched),
		cmocka_unit_test(test_scale_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
