// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The mirror's netlink side (user/netlink/nl.c): how one received datagram
 * is dispatched (crafted datagrams: malformed messages, the end of an
 * answer, errors, replies to older requests), and its requests against the
 * running kernel, in a private network namespace of this process (root
 * only; skipped otherwise): dumps, GETPOLICY by index, and the kernel's
 * dump order.
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
#include <libmnl/libmnl.h>
#include <linux/xfrm.h>
#include "mirror/mirror.h"
#include "netlink/nl.h"
#include "nlbuild.h"

static bool have_netns;
static unsigned char buf[NB_BUF_SIZE] __attribute__((aligned(8)));

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

/* The mirror's copy of the policy of kernel index `index` (no store: it
 * keeps them all), NULL when it has none. */
static const struct xb_mirror_full *by_index(struct xb_mirror *m, __u32 index)
{
	struct xb_mirror_policy *mp = xb_mirror_policy_find(m, index);

	return mp ? xb_mirror_policy_full(m, xb_mirror_policy_id(m, mp)) : NULL;
}

static int count_event(const struct xb_event *ev, void *data)
{
	(void)ev;
	(*(int *)data)++;
	return 0;
}

/* One datagram: good, malformed, good. The bad one is counted and skipped. */
static void test_dispatch_skips_malformed(void **state)
{
	static unsigned char dgram[3 * NB_BUF_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct xb_nl nl = {};
	struct nb_policy p;
	size_t off = 0, len;
	int events = 0;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	nlh = nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p);
	memcpy(dgram, nlh, nlh->nlmsg_len);
	off += NLMSG_ALIGN(nlh->nlmsg_len);
	/* Truncated: the header says NEWPOLICY, the body is 8 bytes. */
	nlh = (struct nlmsghdr *)(dgram + off);
	nlh->nlmsg_len = NLMSG_HDRLEN + 8;
	nlh->nlmsg_type = XFRM_MSG_NEWPOLICY;
	off += NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p);
	len = nlh->nlmsg_len;
	memcpy(dgram + off, nlh, len);
	off += NLMSG_ALIGN(len);
	assert_int_equal(xb_nl_dispatch(&nl, dgram, off, false, 0, count_event, &events), 0);
	assert_int_equal(events, 2);
	assert_int_equal(nl.bad_msgs, 1);
}

/* A length of 2 GiB or more (which libmnl's int compare lets through):
 * the messages before it are dispatched, it and what follows are not, the
 * run ends (a fuzzer found it looping forever). */
static void test_dispatch_huge_length(void **state)
{
	static unsigned char dgram[3 * NB_BUF_SIZE] __attribute__((aligned(8)));
	static const __u32 lens[] = { 0x80000000u, 0xfffffff0u, 0xffffffffu };
	struct nlmsghdr *nlh;
	struct nb_policy p;
	size_t off, i;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct xb_nl nl = {};
		int events = 0;

		/* a good message, then the same with the huge length */
		nlh = nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p);
		off = NLMSG_ALIGN(nlh->nlmsg_len);
		memcpy(dgram, nlh, nlh->nlmsg_len);
		memcpy(dgram + off, nlh, nlh->nlmsg_len);
		((struct nlmsghdr *)(dgram + off))->nlmsg_len = lens[i];
		off *= 2;
		assert_int_equal(xb_nl_dispatch(&nl, dgram, off, false, 0, count_event,
						&events), 0);
		assert_int_equal(events, 1);
		assert_int_equal(nl.bad_msgs, 1);
	}
}

/* Appends nlh to the datagram at off, as a message of request seq. */
static size_t dgram_put(unsigned char *dgram, size_t off, const struct nlmsghdr *nlh,
			__u32 seq)
{
	memcpy(dgram + off, nlh, nlh->nlmsg_len);
	((struct nlmsghdr *)(dgram + off))->nlmsg_seq = seq;
	return off + NLMSG_ALIGN(nlh->nlmsg_len);
}

static struct nlmsghdr *control_msg(void *b, __u16 type, int error)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	struct nlmsgerr *e;

	nlh->nlmsg_type = type;
	if (type == NLMSG_ERROR) {
		e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
		e->error = error;
	} else if (type == NLMSG_DONE) {
		mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	}
	return nlh;
}

/* The answer to request 7: messages of other requests are skipped, DONE
 * or an ACK ends it, an error fails it, an interrupted dump asks for
 * another, and bytes that are no whole message count as malformed. */
static void test_dispatch_answer(void **state)
{
	static unsigned char dgram[6 * NB_BUF_SIZE] __attribute__((aligned(8)));
	struct xb_nl nl = {};
	struct nb_policy p;
	size_t off;
	int events;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);

	events = 0;
	off = dgram_put(dgram, 0, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), 6);
	off = dgram_put(dgram, off, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), 7);
	off = dgram_put(dgram, off, control_msg(buf, NLMSG_DONE, 0), 6);
	off = dgram_put(dgram, off, control_msg(buf, NLMSG_NOOP, 0), 7);
	off = dgram_put(dgram, off, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), 7);
	off = dgram_put(dgram, off, control_msg(buf, NLMSG_DONE, 0), 7);
	off = dgram_put(dgram, off, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), 7);
	assert_int_equal(xb_nl_dispatch(&nl, dgram, off, false, 7, count_event, &events), 1);
	assert_int_equal(events, 2);

	events = 0;
	off = dgram_put(dgram, 0, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), 7);
	off = dgram_put(dgram, off, control_msg(buf, NLMSG_ERROR, -EPERM), 7);
	off = dgram_put(dgram, off, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), 7);
	assert_int_equal(xb_nl_dispatch(&nl, dgram, off, false, 7, count_event, &events),
			 -EPERM);
	assert_int_equal(events, 1);

	off = dgram_put(dgram, 0, control_msg(buf, NLMSG_ERROR, 0), 7);
	assert_int_equal(xb_nl_dispatch(&nl, dgram, off, false, 7, count_event, &events), 1);

	/* An error message too short for its struct nlmsgerr. */
	control_msg(buf, NLMSG_ERROR, -EPERM)->nlmsg_len = NLMSG_HDRLEN + 4;
	off = dgram_put(dgram, 0, (struct nlmsghdr *)buf, 7);
	assert_int_equal(xb_nl_dispatch(&nl, dgram, off, false, 7, count_event, &events),
			 -EBADMSG);
	assert_int_equal(nl.bad_msgs, 1);

	events = 0;
	off = dgram_put(dgram, 0, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), 7);
	((struct nlmsghdr *)dgram)->nlmsg_flags |= NLM_F_DUMP_INTR;
	assert_int_equal(xb_nl_dispatch(&nl, dgram, off, false, 7, count_event, &events),
			 -EINTR);
	assert_int_equal(events, 0);

	/* Multicast (any sequence): the datagram ends in half a header. */
	off = dgram_put(dgram, 0, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), 0);
	memset(dgram + off, 0xab, 8);
	assert_int_equal(xb_nl_dispatch(&nl, dgram, off + 8, false, 0, count_event, &events),
			 0);
	assert_int_equal(events, 1);
	assert_int_equal(nl.bad_msgs, 2);
}

static void test_dump_and_get_policy(void **state)
{
	struct xb_mirror m, got;
	const struct xb_mirror_full *a, *b, *c;
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
	assert_int_equal(xb_mirror_init(&m, NULL, 0), 0);
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
	assert_true(a->pol.pos < b->pol.pos && b->pol.pos < c->pol.pos);
	assert_int_equal(b->pol.mark_v, 3);
	assert_int_equal(b->pol.if_id, 9);
	assert_int_equal(c->pol.type, XFRM_POLICY_TYPE_SUB);

	/* GETPOLICY finds each by index, type, mark and if_id. */
	assert_int_equal(xb_mirror_init(&got, NULL, 0), 0);
	assert_int_equal(xb_nl_get_policy(&nl, &b->pol, apply, &got), 0);
	assert_int_equal(xb_nl_get_policy(&nl, &c->pol, apply, &got), 0);
	assert_int_equal(got.policies.count, 2);
	assert_int_equal(by_index(&got, 0x200)->pol.n_tmpls, 1);
	sh("ip xfrm policy delete dir out index 0x301 ptype sub");
	assert_int_equal(xb_nl_get_policy(&nl, &c->pol, apply, &got), -ENOENT);
	sh("ip xfrm policy flush; ip xfrm policy flush ptype sub; ip xfrm policy setdefault fwd accept");

	xb_mirror_fini(&got);
	xb_mirror_fini(&m);
	xb_nl_close(&nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch_skips_malformed),
		cmocka_unit_test(test_dispatch_huge_length),
		cmocka_unit_test(test_dispatch_answer),
		cmocka_unit_test(test_dump_and_get_policy),
	};

	return cmocka_run_group_tests_name("nl", tests, setup, NULL);
}
