// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The mirror's netlink requests against the running kernel, in a private
 * network namespace of this process (root only; skipped otherwise): dumps,
 * GETPOLICY by index, and the kernel's dump order.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/xfrm.h>
#include "mirror/mirror.h"
#include "netlink/nl.h"

static bool have_netns;

static int setup(void **state)
{
	(void)state;
	/* `ip` children inherit the namespace: nothing to clean up after. */
	have_netns = geteuid() == 0 && !unshare(CLONE_NEWNET);
	return 0;
}

static void sh(const char *cmd)
{
	assert_int_equal(system(cmd), 0);
}

static int apply(const struct xb_event *ev, void *data)
{
	return xb_mirror_apply(data, ev);
}

static struct xb_mirror_policy *by_index(struct xb_mirror *m, __u32 index)
{
	struct xb_hnode *n = xb_htab_find(&m->policies, &index);

	return n ? xb_container_of(n, struct xb_mirror_policy, node) : NULL;
}

static void test_dump_and_get_policy(void **state)
{
	struct xb_mirror m, got;
	struct xb_mirror_policy *a, *b, *c;
	struct xb_nl nl;

	(void)state;
	if (!have_netns) {
		skip();
		return;
	}
	sh("ip xfrm policy add src 192.0.2.0/24 dst 198.51.100.0/24 dir fwd index 0x102 priority 5 action block");
	sh("ip xfrm policy add src 2001:db8::/64 dst 2001:db8:1::/64 dir in index 0x200 priority 5 mark 3 mask 0xf if_id 9 tmpl src 2001:db8::1 dst 2001:db8::2 proto esp mode tunnel");
	sh("ip xfrm policy add src 192.0.2.0/24 dst 203.0.113.0/24 dir out index 0x301 ptype sub priority 5");
	sh("ip xfrm policy setdefault fwd block");
	assert_int_equal(xb_nl_open(&nl), 0);
	assert_int_equal(xb_mirror_init(&m, NULL), 0);
	xb_mirror_mark_unseen(&m);
	assert_int_equal(xb_nl_dump(&nl, false, apply, &m), 0);
	xb_mirror_sweep_unseen(&m);
	assert_int_equal(m.policies.count, 3);
	assert_int_equal(m.default_action[XFRM_POLICY_FWD], 1);
	assert_int_equal(m.default_action[XFRM_POLICY_IN], 0);
	a = by_index(&m, 0x102);
	b = by_index(&m, 0x200);
	c = by_index(&m, 0x301);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	/* Installed a, b, c: the positions follow, whatever the dump order. */
	assert_true(a->full->pol.pos < b->full->pol.pos && b->full->pol.pos < c->full->pol.pos);
	assert_int_equal(b->full->pol.mark_v, 3);
	assert_int_equal(b->full->pol.if_id, 9);
	assert_int_equal(c->full->pol.type, XFRM_POLICY_TYPE_SUB);

	/* GETPOLICY finds each by index, type, mark and if_id. */
	assert_int_equal(xb_mirror_init(&got, NULL), 0);
	assert_int_equal(xb_nl_get_policy(&nl, &b->full->pol, apply, &got), 0);
	assert_int_equal(xb_nl_get_policy(&nl, &c->full->pol, apply, &got), 0);
	assert_int_equal(got.policies.count, 2);
	assert_int_equal(by_index(&got, 0x200)->full->pol.n_tmpls, 1);
	sh("ip xfrm policy delete dir out index 0x301 ptype sub");
	assert_int_equal(xb_nl_get_policy(&nl, &c->full->pol, apply, &got), -ENOENT);
	sh("ip xfrm policy flush; ip xfrm policy flush ptype sub; ip xfrm policy setdefault fwd accept");

	xb_mirror_fini(&got);
	xb_mirror_fini(&m);
	xb_nl_close(&nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_and_get_policy),
	};

	return cmocka_run_group_tests_name("nl", tests, setup, NULL);
}
