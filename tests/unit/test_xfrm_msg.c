// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/netlink/xfrm_msg.c: kernel-shaped messages (tests/lib/nlbuild)
 * in, mirror events out; malformed messages must give -EINVAL and never a
 * read outside nlmsg_len (each message is parsed from a heap copy of exactly
 * nlmsg_len bytes, so ASan reports any such read); no key byte may ever
 * reach an event.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/udp.h>
#include <libmnl/libmnl.h>
#include <cmocka.h>

#include "xfrmbpf/sync.h"
#include "netlink/xfrm_msg.h"
#include "nlbuild.h"

static union {
	char b[NB_BUF_SIZE];
	uint64_t align;
} buf;

/* Parse from a heap copy of exactly nlmsg_len bytes (at least the length
 * field itself) so that ASan catches any read past the message. */
static int parse_copy(const struct nlmsghdr *nlh, struct xb_event *ev,
		      bool link)
{
	size_t len = nlh->nlmsg_len < 4 ? 4 : nlh->nlmsg_len;
	void *copy = malloc(len);
	int ret;

	assert_non_null(copy);
	memcpy(copy, nlh, len);
	/* Poison the event: the parser must set every byte it hands out. */
	memset(ev, 0xa5, sizeof(*ev));
	ret = link ? xb_parse_link_msg(copy, ev) : xb_parse_xfrm_msg(copy, ev);
	free(copy);
	return ret;
}

static int parse_xfrm(const struct nlmsghdr *nlh, struct xb_event *ev)
{
	return parse_copy(nlh, ev, false);
}

static int parse_link(const struct nlmsghdr *nlh, struct xb_event *ev)
{
	return parse_copy(nlh, ev, true);
}

static void assert_addr(const union xb_addr *a, int family, const char *str)
{
	union xb_addr want;

	memset(&want, 0, sizeof(want));
	assert_int_equal(inet_pton(family, str, &want), 1);
	assert_memory_equal(a, &want, sizeof(want));
}

/* Fill the bytes an IPv4 address does not use: they must not survive. */
static void dirty_v4(xfrm_address_t *a)
{
	memset((char *)a + 4, 0xaa, sizeof(*a) - 4);
}

/* ---------------------------------------------------------------- policies */

static void check_v4_selector(const struct xb_selector *s)
{
	assert_addr(&s->saddr, AF_INET, "192.0.2.0");
	assert_addr(&s->daddr, AF_INET, "198.51.100.0");
	assert_int_equal(s->family, AF_INET);
	assert_int_equal(s->prefixlen_s, 24);
	assert_int_equal(s->prefixlen_d, 24);
}

static void test_policy_new_v4_plain(void **state)
{
	struct nb_policy p;
	struct xb_event ev;
	const struct xb_policy *pol = &ev.policy.pol;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	p.info.sel.proto = IPPROTO_TCP;
	p.info.sel.dport = htons(443);
	p.info.sel.dport_mask = 0xffff;
	p.info.sel.sport = htons(1024);
	p.info.sel.sport_mask = htons(0xfc00);
	p.info.sel.ifindex = 3;
	p.info.sel.user = 1000;
	p.info.flags = XFRM_POLICY_ICMP;
	p.info.share = XFRM_SHARE_UNIQUE;
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.kind, XB_EV_POLICY_UPSERT);
	check_v4_selector(&pol->sel);
	assert_int_equal(pol->sel.proto, IPPROTO_TCP);
	assert_int_equal(pol->sel.dport, htons(443));
	assert_int_equal(pol->sel.dport_mask, 0xffff);
	assert_int_equal(pol->sel.sport, htons(1024));
	assert_int_equal(pol->sel.sport_mask, htons(0xfc00));
	assert_int_equal(pol->sel.ifindex, 3);
	assert_int_equal(pol->sel.user, 1000);
	assert_int_equal(pol->priority, 1000);
	assert_int_equal(pol->index, 0x100 | XFRM_POLICY_OUT);
	assert_int_equal(pol->dir, XFRM_POLICY_OUT);
	assert_int_equal(pol->action, XFRM_POLICY_ALLOW);
	assert_int_equal(pol->flags, XFRM_POLICY_ICMP);
	assert_int_equal(pol->share, XFRM_SHARE_UNIQUE);
	assert_int_equal(pol->type, XFRM_POLICY_TYPE_MAIN);
	assert_int_equal(pol->n_tmpls, 0);
	assert_int_equal(pol->mark_v, 0);
	assert_int_equal(pol->mark_m, 0);
	assert_int_equal(pol->if_id, 0);
	assert_int_equal(pol->xb_flags, 0);
	/* The mirror's own fields are left for the mirror. */
	assert_int_equal(pol->id, 0);
	assert_int_equal(pol->pos, 0);
}

static void test_policy_v4_addr_normalised(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_FWD);
	nb_policy_add_tmpl(&p, false);
	dirty_v4(&p.info.sel.saddr);
	dirty_v4(&p.info.sel.daddr);
	dirty_v4(&p.tmpls[0].saddr);
	dirty_v4(&p.tmpls[0].id.daddr);
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	check_v4_selector(&ev.policy.pol.sel);
	assert_addr(&ev.policy.tmpls[0].daddr, AF_INET, "203.0.113.2");
	assert_addr(&ev.policy.tmpls[0].saddr, AF_INET, "203.0.113.1");
}

static void test_policy_tmpl_family_zero(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	/* Old key managers leave the template family 0; the kernel then uses
	 * the selector's, and so must the normalisation. */
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	nb_policy_add_tmpl(&p, false);
	p.tmpls[0].family = 0;
	dirty_v4(&p.tmpls[0].id.daddr);
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.policy.tmpls[0].family, 0);
	assert_addr(&ev.policy.tmpls[0].daddr, AF_INET, "203.0.113.2");
}

static void test_policy_upd_v6_required_tmpl(void **state)
{
	struct nb_policy p;
	struct xb_event ev;
	const struct xb_tmpl *t = &ev.policy.tmpls[0];

	(void)state;
	nb_policy_init(&p, AF_INET6, XFRM_POLICY_IN);
	nb_policy_add_tmpl(&p, false);
	p.tmpls[0].id.spi = htonl(0x1234);
	p.tmpls[0].share = XFRM_SHARE_USER;
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_UPDPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.kind, XB_EV_POLICY_UPSERT);
	assert_addr(&ev.policy.pol.sel.saddr, AF_INET6, "2001:db8:1::");
	assert_addr(&ev.policy.pol.sel.daddr, AF_INET6, "2001:db8:2::");
	assert_int_equal(ev.policy.pol.sel.prefixlen_d, 64);
	assert_int_equal(ev.policy.pol.dir, XFRM_POLICY_IN);
	assert_int_equal(ev.policy.pol.n_tmpls, 1);
	assert_int_equal(ev.policy.pol.xb_flags, XB_POL_REQUIRES_IPSEC);
	assert_addr(&t->daddr, AF_INET6, "2001:db8::2");
	assert_addr(&t->saddr, AF_INET6, "2001:db8::2:1");
	assert_int_equal(t->spi, htonl(0x1234));
	assert_int_equal(t->reqid, 1);
	assert_int_equal(t->family, AF_INET6);
	assert_int_equal(t->proto, IPPROTO_ESP);
	assert_int_equal(t->mode, XFRM_MODE_TUNNEL);
	assert_int_equal(t->share, XFRM_SHARE_USER);
	assert_int_equal(t->optional, 0);
}

static void test_policy_optional_tmpl(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_IN);
	nb_policy_add_tmpl(&p, true);
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.policy.pol.n_tmpls, 1);
	assert_int_equal(ev.policy.tmpls[0].optional, 1);
	/* Level "use": plaintext passes the kernel's check. */
	assert_int_equal(ev.policy.pol.xb_flags & XB_POL_REQUIRES_IPSEC, 0);
}

static void test_policy_six_tmpls(void **state)
{
	struct nb_policy p;
	struct xb_event ev;
	int i;

	(void)state;
	nb_policy_init(&p, AF_INET6, XFRM_POLICY_OUT);
	for (i = 0; i < 6; i++)
		nb_policy_add_tmpl(&p, i != 4);
	p.tmpls[2].id.proto = IPPROTO_AH;
	p.tmpls[3].mode = XFRM_MODE_TRANSPORT;
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.policy.pol.n_tmpls, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(ev.policy.tmpls[i].reqid, i + 1);
		assert_int_equal(ev.policy.tmpls[i].optional, i != 4);
	}
	assert_int_equal(ev.policy.tmpls[2].proto, IPPROTO_AH);
	assert_int_equal(ev.policy.tmpls[3].mode, XFRM_MODE_TRANSPORT);
	/* One non-optional template among optional ones is enough. */
	assert_int_equal(ev.policy.pol.xb_flags, XB_POL_REQUIRES_IPSEC);
}

static void test_policy_all_optional_tmpls(void **state)
{
	struct nb_policy p;
	struct xb_event ev;
	int i;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_FWD);
	for (i = 0; i < 3; i++)
		nb_policy_add_tmpl(&p, true);
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.policy.pol.n_tmpls, 3);
	assert_int_equal(ev.policy.pol.xb_flags, 0);
}

static void test_policy_seven_tmpls_einval(void **state)
{
	struct nb_policy p;
	struct xb_event ev;
	int i;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	for (i = 0; i < 7; i++)
		nb_policy_add_tmpl(&p, true);
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), -EINVAL);
}

/* A NEWPOLICY (IPv4, OUT) header followed by one hand-made attribute. */
static struct nlmsghdr *policy_with_attr(unsigned int type, const void *data,
					 size_t len)
{
	struct nb_policy p;
	struct nlmsghdr *nlh;

	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	p.has_type = false;
	nlh = nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p);
	mnl_attr_put(nlh, type, len, data);
	return nlh;
}

static void test_policy_tmpl_bad_len(void **state)
{
	struct xfrm_user_tmpl t[2];
	struct xb_event ev;
	size_t bad[] = { 1, sizeof(t[0]) - 4, sizeof(t[0]) + 4,
			 2 * sizeof(t[0]) - 1 };
	size_t i;

	(void)state;
	memset(t, 0, sizeof(t));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_xfrm(policy_with_attr(XFRMA_TMPL, t,
							     bad[i]), &ev),
				 -EINVAL);
}

static void test_policy_tmpl_empty_attr(void **state)
{
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_xfrm(policy_with_attr(XFRMA_TMPL, NULL, 0), &ev),
			 0);
	assert_int_equal(ev.kind, XB_EV_POLICY_UPSERT);
	assert_int_equal(ev.policy.pol.n_tmpls, 0);
}

static void test_policy_sub_type(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET6, XFRM_POLICY_IN);
	p.type = XFRM_POLICY_TYPE_SUB;
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.policy.pol.type, XFRM_POLICY_TYPE_SUB);
}

static void test_policy_no_type_attr_is_main(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	/* Kernels without CONFIG_XFRM_SUB_POLICY send no XFRMA_POLICY_TYPE. */
	nb_policy_init(&p, AF_INET, XFRM_POLICY_IN);
	p.has_type = false;
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_null(nb_find_attr((struct nlmsghdr *)buf.b, sizeof(p.info),
				 XFRMA_POLICY_TYPE));
	assert_int_equal(ev.policy.pol.type, XFRM_POLICY_TYPE_MAIN);
}

static void test_policy_mark_and_if_id(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	p.mark.v = 0x2a;
	p.mark.m = 0xff;
	p.if_id = 0x77;
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.policy.pol.mark_v, 0x2a);
	assert_int_equal(ev.policy.pol.mark_m, 0xff);
	assert_int_equal(ev.policy.pol.if_id, 0x77);
}

static void test_policy_mark_only_mask(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	/* v = 0 with a mask is a real mark ("mark 0 mask 0xff"). */
	nb_policy_init(&p, AF_INET6, XFRM_POLICY_FWD);
	p.mark.m = 0xffffffff;
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.policy.pol.mark_v, 0);
	assert_int_equal(ev.policy.pol.mark_m, 0xffffffff);
	assert_int_equal(ev.policy.pol.if_id, 0);
}

static void test_policy_sec_ctx(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_IN);
	p.sec_ctx = true;
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.policy.pol.xb_flags, XB_POL_SEC_CTX);
}

static void test_policy_offload(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET6, XFRM_POLICY_IN);
	nb_policy_add_tmpl(&p, false);
	p.offload = true;
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.policy.pol.xb_flags,
			 XB_POL_OFFLOAD | XB_POL_REQUIRES_IPSEC);
}

static void test_policy_dump_entry(void **state)
{
	struct nb_policy p;
	struct nlmsghdr *nlh;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET6, XFRM_POLICY_FWD);
	nb_policy_add_tmpl(&p, false);
	nb_policy_add_tmpl(&p, true);
	p.mark.v = 1;
	p.mark.m = 1;
	p.if_id = 9;
	p.sec_ctx = true;
	nlh = nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p);
	nb_as_dump(nlh);
	assert_int_equal(parse_xfrm(nlh, &ev), 0);
	assert_int_equal(ev.kind, XB_EV_POLICY_UPSERT);
	assert_int_equal(ev.policy.pol.n_tmpls, 2);
	assert_int_equal(ev.policy.pol.if_id, 9);
	assert_int_equal(ev.policy.pol.xb_flags,
			 XB_POL_SEC_CTX | XB_POL_REQUIRES_IPSEC);
}

static void test_policy_block(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_IN);
	p.info.action = XFRM_POLICY_BLOCK;
	p.info.flags = XFRM_POLICY_LOCALOK | XFRM_POLICY_ICMP;
	p.info.priority = 0;
	assert_int_equal(parse_xfrm(nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p),
				    &ev), 0);
	assert_int_equal(ev.policy.pol.action, XFRM_POLICY_BLOCK);
	assert_int_equal(ev.policy.pol.flags,
			 XFRM_POLICY_LOCALOK | XFRM_POLICY_ICMP);
	assert_int_equal(ev.policy.pol.priority, 0);
}

static void test_policy_socket_dir_ignored(void **state)
{
	struct nb_policy p;
	struct xb_event ev;
	__u8 dir;

	(void)state;
	/* Per-socket policies appear in dumps with dir MAX + dir. */
	for (dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_FWD; dir++) {
		nb_policy_init(&p, AF_INET, XFRM_POLICY_MAX + dir);
		assert_int_equal(parse_xfrm(nb_policy_msg(buf.b,
							  XFRM_MSG_NEWPOLICY,
							  &p), &ev), 0);
		assert_int_equal(ev.kind, XB_EV_IGNORED);
	}
}

static void test_policy_unknown_attr_skipped(void **state)
{
	__u32 v = 0xdeadbeef;
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_xfrm(policy_with_attr(XFRMA_MAX + 20, &v,
						     sizeof(v)), &ev), 0);
	assert_int_equal(ev.kind, XB_EV_POLICY_UPSERT);
	assert_int_equal(ev.policy.pol.if_id, 0);
}

static void test_policy_attr_bad_len(void **state)
{
	char data[64];
	struct xb_event ev;
	const struct {
		unsigned int type;
		size_t len;
	} bad[] = {
		{ XFRMA_MARK, sizeof(struct xfrm_mark) - 4 },
		{ XFRMA_MARK, sizeof(struct xfrm_mark) + 4 },
		{ XFRMA_IF_ID, 2 },
		{ XFRMA_IF_ID, 8 },
		{ XFRMA_POLICY_TYPE, sizeof(struct xfrm_userpolicy_type) - 2 },
		{ XFRMA_POLICY_TYPE, sizeof(struct xfrm_userpolicy_type) + 2 },
		{ XFRMA_SEC_CTX, sizeof(struct xfrm_user_sec_ctx) - 2 },
		{ XFRMA_OFFLOAD_DEV, sizeof(struct xfrm_user_offload) - 4 },
		{ XFRMA_OFFLOAD_DEV, sizeof(struct xfrm_user_offload) + 4 },
	};
	size_t i;

	(void)state;
	memset(data, 0, sizeof(data));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_xfrm(policy_with_attr(bad[i].type, data,
							     bad[i].len), &ev),
				 -EINVAL);
}

static void check_full_policy(const struct xb_event *ev, __u32 index,
			      __u8 dir)
{
	assert_int_equal(ev->kind, XB_EV_POLICY_DEL);
	assert_int_equal(ev->policy.pol.index, index);
	assert_int_equal(ev->policy.pol.dir, dir);
	assert_int_equal(ev->policy.pol.priority, 1000);
	assert_int_equal(ev->policy.pol.action, XFRM_POLICY_ALLOW);
	assert_int_equal(ev->policy.pol.n_tmpls, 1);
	assert_int_equal(ev->policy.pol.xb_flags, XB_POL_REQUIRES_IPSEC);
}

static void test_delpolicy_byid_v4(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	nb_policy_add_tmpl(&p, false);
	p.type = XFRM_POLICY_TYPE_SUB;
	p.mark.v = 5;
	p.mark.m = 0xf;
	p.if_id = 3;
	assert_int_equal(parse_xfrm(nb_delpolicy_msg(buf.b, &p, true, true),
				    &ev), 0);
	check_full_policy(&ev, 0x100 | XFRM_POLICY_OUT, XFRM_POLICY_OUT);
	check_v4_selector(&ev.policy.pol.sel);
	assert_int_equal(ev.policy.pol.type, XFRM_POLICY_TYPE_SUB);
	assert_int_equal(ev.policy.pol.mark_v, 5);
	assert_int_equal(ev.policy.pol.mark_m, 0xf);
	assert_int_equal(ev.policy.pol.if_id, 3);
}

static void test_delpolicy_bysel_v6(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	/* Deleted by selector: the id has no index, XFRMA_POLICY has it. */
	nb_policy_init(&p, AF_INET6, XFRM_POLICY_FWD);
	nb_policy_add_tmpl(&p, false);
	assert_int_equal(parse_xfrm(nb_delpolicy_msg(buf.b, &p, false, true),
				    &ev), 0);
	check_full_policy(&ev, 0x100 | XFRM_POLICY_FWD, XFRM_POLICY_FWD);
	assert_addr(&ev.policy.pol.sel.daddr, AF_INET6, "2001:db8:2::");
	assert_int_equal(ev.policy.pol.type, XFRM_POLICY_TYPE_MAIN);
}

static void test_delpolicy_no_policy_attr_byid(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_IN);
	p.type = XFRM_POLICY_TYPE_SUB;
	p.if_id = 11;
	assert_int_equal(parse_xfrm(nb_delpolicy_msg(buf.b, &p, true, false),
				    &ev), 0);
	assert_int_equal(ev.kind, XB_EV_POLICY_DEL);
	assert_int_equal(ev.policy.pol.index, 0x100 | XFRM_POLICY_IN);
	assert_int_equal(ev.policy.pol.dir, XFRM_POLICY_IN);
	assert_int_equal(ev.policy.pol.type, XFRM_POLICY_TYPE_SUB);
	assert_int_equal(ev.policy.pol.if_id, 11);
}

static void test_delpolicy_no_policy_attr_bysel(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	dirty_v4(&p.info.sel.saddr);
	assert_int_equal(parse_xfrm(nb_delpolicy_msg(buf.b, &p, false, false),
				    &ev), 0);
	assert_int_equal(ev.kind, XB_EV_POLICY_DEL);
	assert_int_equal(ev.policy.pol.index, 0);
	assert_int_equal(ev.policy.pol.dir, XFRM_POLICY_OUT);
	assert_int_equal(ev.policy.pol.type, XFRM_POLICY_TYPE_MAIN);
	check_v4_selector(&ev.policy.pol.sel);
}

static void test_delpolicy_policy_attr_bad_len(void **state)
{
	struct xfrm_userpolicy_info info[2];
	struct xfrm_userpolicy_id id;
	struct nlmsghdr *nlh;
	struct xb_event ev;
	size_t bad[] = { sizeof(info[0]) - 4, sizeof(info[0]) + 4, 0 };
	size_t i;

	(void)state;
	memset(info, 0, sizeof(info));
	memset(&id, 0, sizeof(id));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf.b, 0, sizeof(buf.b));
		nlh = mnl_nlmsg_put_header(buf.b);
		nlh->nlmsg_type = XFRM_MSG_DELPOLICY;
		memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(id)), &id,
		       sizeof(id));
		mnl_attr_put(nlh, XFRMA_POLICY, bad[i], info);
		assert_int_equal(parse_xfrm(nlh, &ev), -EINVAL);
	}
}

static void test_polexpire_hard(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET6, XFRM_POLICY_OUT);
	nb_policy_add_tmpl(&p, false);
	p.mark.v = 0x10;
	p.mark.m = 0xf0;
	assert_int_equal(parse_xfrm(nb_polexpire_msg(buf.b, &p, true), &ev), 0);
	check_full_policy(&ev, 0x100 | XFRM_POLICY_OUT, XFRM_POLICY_OUT);
	assert_int_equal(ev.policy.pol.mark_v, 0x10);
	assert_int_equal(ev.policy.pol.mark_m, 0xf0);
}

static void test_polexpire_soft(void **state)
{
	struct nb_policy p;
	struct xb_event ev;

	(void)state;
	nb_policy_init(&p, AF_INET, XFRM_POLICY_IN);
	assert_int_equal(parse_xfrm(nb_polexpire_msg(buf.b, &p, false), &ev),
			 0);
	assert_int_equal(ev.kind, XB_EV_IGNORED);
}

static void test_flushpolicy(void **state)
{
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_xfrm(nb_flushpolicy_msg(buf.b, false, 0), &ev),
			 0);
	assert_int_equal(ev.kind, XB_EV_POLICY_FLUSH);
	assert_int_equal(ev.flush_policy_type, XFRM_POLICY_TYPE_MAIN);
	assert_int_equal(parse_xfrm(nb_flushpolicy_msg(buf.b, true,
						       XFRM_POLICY_TYPE_MAIN),
				    &ev), 0);
	assert_int_equal(ev.flush_policy_type, XFRM_POLICY_TYPE_MAIN);
	assert_int_equal(parse_xfrm(nb_flushpolicy_msg(buf.b, true,
						       XFRM_POLICY_TYPE_SUB),
				    &ev), 0);
	assert_int_equal(ev.kind, XB_EV_POLICY_FLUSH);
	assert_int_equal(ev.flush_policy_type, XFRM_POLICY_TYPE_SUB);
}

static void test_flushpolicy_type_bad_len(void **state)
{
	struct nlmsghdr *nlh;
	struct xb_event ev;
	__u32 v = XFRM_POLICY_TYPE_SUB;

	(void)state;
	memset(buf.b, 0, sizeof(buf.b));
	nlh = mnl_nlmsg_put_header(buf.b);
	nlh->nlmsg_type = XFRM_MSG_FLUSHPOLICY;
	mnl_attr_put(nlh, XFRMA_POLICY_TYPE, sizeof(v), &v);
	assert_int_equal(parse_xfrm(nlh, &ev), -EINVAL);
}

/* --------------------------------------------------------------------- SAs */

static void check_sa_key_v4(const struct xb_sa_key *k, __u32 spi)
{
	assert_addr(&k->spi.daddr, AF_INET, "203.0.113.2");
	assert_int_equal(k->spi.spi, htonl(spi));
	assert_int_equal(k->spi.proto, IPPROTO_ESP);
	assert_int_equal(k->spi.family, AF_INET);
	assert_int_equal(k->spi.pad, 0);
}

static void check_sa_key_v6(const struct xb_sa_key *k, __u32 spi)
{
	assert_addr(&k->spi.daddr, AF_INET6, "2001:db8::2");
	assert_int_equal(k->spi.spi, htonl(spi));
	assert_int_equal(k->spi.proto, IPPROTO_ESP);
	assert_int_equal(k->spi.family, AF_INET6);
}

static void test_sa_new_v4(void **state)
{
	struct nb_sa s;
	struct xb_event ev;

	(void)state;
	nb_sa_init(&s, AF_INET, 0xc0010001);
	dirty_v4(&s.info.id.daddr);
	dirty_v4(&s.info.saddr);
	assert_int_equal(parse_xfrm(nb_sa_msg(buf.b, XFRM_MSG_NEWSA, &s), &ev),
			 0);
	assert_int_equal(ev.kind, XB_EV_SA_UPSERT);
	check_sa_key_v4(&ev.sa.key, 0xc0010001);
	assert_int_equal(ev.sa.key.mark_v, 0);
	assert_int_equal(ev.sa.key.mark_m, 0);
	assert_addr(&ev.sa.sa.saddr, AF_INET, "203.0.113.1");
	assert_int_equal(ev.sa.sa.reqid, 7);
	assert_int_equal(ev.sa.sa.if_id, 0);
	assert_int_equal(ev.sa.sa.mode, XFRM_MODE_TUNNEL);
	assert_int_equal(ev.sa.sa.flags, XFRM_STATE_NOECN);
	assert_int_equal(ev.sa.sa.encap_type, 0);
	assert_int_equal(ev.sa.sa.encap_sport, 0);
	assert_int_equal(ev.sa.sa.encap_dport, 0);
}

static void test_sa_upd_v6_mark_if_id_encap(void **state)
{
	struct nb_sa s;
	struct xb_event ev;

	(void)state;
	nb_sa_init(&s, AF_INET6, 0x1000);
	s.info.mode = XFRM_MODE_TRANSPORT;
	s.info.flags = XFRM_STATE_AF_UNSPEC | XFRM_STATE_ESN;
	s.mark.v = 0x100;
	s.mark.m = 0xf00;
	s.if_id = 42;
	s.encap = true;
	s.encap_tmpl.encap_type = UDP_ENCAP_ESPINUDP;
	s.encap_tmpl.encap_sport = htons(4500);
	s.encap_tmpl.encap_dport = htons(4501);
	assert_int_equal(parse_xfrm(nb_sa_msg(buf.b, XFRM_MSG_UPDSA, &s), &ev),
			 0);
	assert_int_equal(ev.kind, XB_EV_SA_UPSERT);
	check_sa_key_v6(&ev.sa.key, 0x1000);
	assert_int_equal(ev.sa.key.mark_v, 0x100);
	assert_int_equal(ev.sa.key.mark_m, 0xf00);
	assert_addr(&ev.sa.sa.saddr, AF_INET6, "2001:db8::2:1");
	assert_int_equal(ev.sa.sa.if_id, 42);
	assert_int_equal(ev.sa.sa.mode, XFRM_MODE_TRANSPORT);
	assert_int_equal(ev.sa.sa.flags, XFRM_STATE_AF_UNSPEC | XFRM_STATE_ESN);
	assert_int_equal(ev.sa.sa.encap_type, UDP_ENCAP_ESPINUDP);
	assert_int_equal(ev.sa.sa.encap_sport, htons(4500));
	assert_int_equal(ev.sa.sa.encap_dport, htons(4501));
}

static void test_sa_dump_entry(void **state)
{
	struct nlmsghdr *nlh;
	struct nb_sa s;
	struct xb_event ev;

	(void)state;
	nb_sa_init(&s, AF_INET, 0x2000);
	s.info.id.proto = IPPROTO_AH;
	nlh = nb_sa_msg(buf.b, XFRM_MSG_NEWSA, &s);
	nb_as_dump(nlh);
	assert_int_equal(parse_xfrm(nlh, &ev), 0);
	assert_int_equal(ev.kind, XB_EV_SA_UPSERT);
	assert_int_equal(ev.sa.key.spi.proto, IPPROTO_AH);
}

static void test_sa_newer_kernel_attr(void **state)
{
	struct nb_sa s;
	struct xb_event ev;

	(void)state;
	nb_sa_init(&s, AF_INET6, 0x3000);
	s.sa_dir = 1;
	s.if_id = 5;
	assert_int_equal(parse_xfrm(nb_sa_msg(buf.b, XFRM_MSG_NEWSA, &s), &ev),
			 0);
	assert_int_equal(ev.kind, XB_EV_SA_UPSERT);
	assert_int_equal(ev.sa.sa.if_id, 5);
}

/* A NEWSA (IPv4) header followed by one hand-made attribute. */
static struct nlmsghdr *sa_with_attr(unsigned int type, const void *data,
				     size_t len)
{
	struct nlmsghdr *nlh;
	struct nb_sa s;

	nb_sa_init(&s, AF_INET, 0x4000);
	nlh = nb_sa_msg(buf.b, XFRM_MSG_NEWSA, &s);
	mnl_attr_put(nlh, type, len, data);
	return nlh;
}

/* XFRMA_SA_PCPU (35, Linux 6.13 and Debian's 6.12): a per-CPU SA's CPU,
 * mirrored with the SA; without it XB_NO_CPU, also beside the u32
 * attributes numbered before it (XFRMA_MTIMER_THRESH 32, XFRMA_SA_DIR 33,
 * XFRMA_NAT_KEEPALIVE_INTERVAL 34). A wrong length is malformed. */
static void test_sa_pcpu(void **state)
{
	__u32 cpu = 3;
	__u16 half = 3;
	struct xb_event ev;
	unsigned int other;

	(void)state;
	assert_int_equal(parse_xfrm(sa_with_attr(35, &cpu, sizeof(cpu)), &ev), 0);
	assert_int_equal(ev.kind, XB_EV_SA_UPSERT);
	assert_int_equal(ev.sa.sa.pcpu_num, 3);
	for (other = 31; other <= 34; other++) {
		assert_int_equal(parse_xfrm(sa_with_attr(other, &cpu, sizeof(cpu)), &ev), 0);
		assert_int_equal(ev.sa.sa.pcpu_num, XB_NO_CPU);
	}
	assert_int_equal(parse_xfrm(sa_with_attr(35, &half, sizeof(half)), &ev), -EINVAL);
}

static void test_sa_attr_bad_len(void **state)
{
	char data[64];
	struct xb_event ev;
	const struct {
		unsigned int type;
		size_t len;
	} bad[] = {
		{ XFRMA_MARK, 4 },
		{ XFRMA_MARK, 12 },
		{ XFRMA_IF_ID, 1 },
		{ XFRMA_IF_ID, 6 },
		{ XFRMA_ENCAP, sizeof(struct xfrm_encap_tmpl) - 16 },
		{ XFRMA_ENCAP, sizeof(struct xfrm_encap_tmpl) + 4 },
		{ XFRMA_ENCAP, 0 },
	};
	size_t i;

	(void)state;
	memset(data, 0, sizeof(data));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_xfrm(sa_with_attr(bad[i].type, data,
							 bad[i].len), &ev),
				 -EINVAL);
}

static void test_delsa_v4(void **state)
{
	struct nb_sa s;
	struct xb_event ev;

	(void)state;
	nb_sa_init(&s, AF_INET, 0x5000);
	s.mark.v = 3;
	s.mark.m = 3;
	s.if_id = 8;
	assert_int_equal(parse_xfrm(nb_delsa_msg(buf.b, &s, true), &ev), 0);
	assert_int_equal(ev.kind, XB_EV_SA_DEL);
	check_sa_key_v4(&ev.sa.key, 0x5000);
	assert_int_equal(ev.sa.key.mark_v, 3);
	assert_int_equal(ev.sa.key.mark_m, 3);
	assert_int_equal(ev.sa.sa.reqid, 7);
	assert_int_equal(ev.sa.sa.if_id, 8);
	assert_addr(&ev.sa.sa.saddr, AF_INET, "203.0.113.1");
}

static void test_delsa_v6_without_sa_attr(void **state)
{
	struct nb_sa s;
	struct xb_event ev;

	(void)state;
	nb_sa_init(&s, AF_INET6, 0x6000);
	s.mark.v = 0xaa;
	s.mark.m = 0xff;
	assert_int_equal(parse_xfrm(nb_delsa_msg(buf.b, &s, false), &ev), 0);
	assert_int_equal(ev.kind, XB_EV_SA_DEL);
	check_sa_key_v6(&ev.sa.key, 0x6000);
	assert_int_equal(ev.sa.key.mark_v, 0xaa);
	assert_int_equal(ev.sa.key.mark_m, 0xff);
	assert_int_equal(ev.sa.sa.reqid, 0);
}

static void test_delsa_sa_attr_bad_len(void **state)
{
	struct xfrm_usersa_info info[2];
	struct xfrm_usersa_id id;
	struct nlmsghdr *nlh;
	struct xb_event ev;
	size_t bad[] = { sizeof(info[0]) - 8, sizeof(info[0]) + 8, 4 };
	size_t i;

	(void)state;
	memset(info, 0, sizeof(info));
	memset(&id, 0, sizeof(id));
	id.family = AF_INET;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf.b, 0, sizeof(buf.b));
		nlh = mnl_nlmsg_put_header(buf.b);
		nlh->nlmsg_type = XFRM_MSG_DELSA;
		memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(id)), &id,
		       sizeof(id));
		mnl_attr_put(nlh, XFRMA_SA, bad[i], info);
		assert_int_equal(parse_xfrm(nlh, &ev), -EINVAL);
	}
}

static void test_expire_hard(void **state)
{
	struct nb_sa s;
	struct xb_event ev;

	(void)state;
	nb_sa_init(&s, AF_INET6, 0x7000);
	s.mark.v = 1;
	s.mark.m = 0xffffffff;
	s.if_id = 2;
	assert_int_equal(parse_xfrm(nb_expire_msg(buf.b, &s, true), &ev), 0);
	assert_int_equal(ev.kind, XB_EV_SA_DEL);
	check_sa_key_v6(&ev.sa.key, 0x7000);
	assert_int_equal(ev.sa.key.mark_v, 1);
	assert_int_equal(ev.sa.key.mark_m, 0xffffffff);
	assert_int_equal(ev.sa.sa.if_id, 2);
}

static void test_expire_soft(void **state)
{
	struct nb_sa s;
	struct xb_event ev;

	(void)state;
	nb_sa_init(&s, AF_INET, 0x7001);
	assert_int_equal(parse_xfrm(nb_expire_msg(buf.b, &s, false), &ev), 0);
	assert_int_equal(ev.kind, XB_EV_IGNORED);
}

static void test_flushsa(void **state)
{
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_xfrm(nb_flushsa_msg(buf.b, IPPROTO_ESP), &ev), 0);
	assert_int_equal(ev.kind, XB_EV_SA_FLUSH);
	assert_int_equal(ev.flush_sa_proto, IPPROTO_ESP);
	assert_int_equal(parse_xfrm(nb_flushsa_msg(buf.b, 0), &ev), 0);
	assert_int_equal(ev.kind, XB_EV_SA_FLUSH);
	assert_int_equal(ev.flush_sa_proto, 0);
}

/* -------------------------------------------------------------------- keys */

#define KEY_LEN 36
#define KEY_RUN 4

static unsigned char key[KEY_LEN];

static void key_init(void)
{
	unsigned int i;

	/* Bytes no address, SPI or flag of these tests contains in a row. */
	for (i = 0; i < KEY_LEN; i++)
		key[i] = 0xe3 ^ (unsigned char)(i * 29 + 0x11);
}

/* Does any KEY_RUN-byte run of the key appear in mem? */
static bool has_key_run(const void *mem, size_t len)
{
	unsigned int i;

	for (i = 0; i + KEY_RUN <= KEY_LEN; i++)
		if (memmem(mem, len, key + i, KEY_RUN))
			return true;
	return false;
}

static void check_no_key(const struct nlmsghdr *nlh, enum xb_event_kind kind)
{
	struct xb_event ev;

	/* The message does carry the key: the detector can see it. */
	assert_true(has_key_run(nlh, nlh->nlmsg_len));
	assert_int_equal(parse_xfrm(nlh, &ev), 0);
	assert_int_equal(ev.kind, kind);
	assert_false(has_key_run(&ev, sizeof(ev)));
}

static void key_sa(struct nb_sa *s, int family, bool aead)
{
	nb_sa_init(s, family, 0x8000);
	s->key = key;
	s->key_len = KEY_LEN;
	s->aead = aead;
	s->crypt = !aead;
	s->auth = !aead;
	s->mark.v = 1;
	s->mark.m = 1;
	s->if_id = 4;
	s->encap = true;
	s->encap_tmpl.encap_type = UDP_ENCAP_ESPINUDP;
}

static void test_keys_never_in_event(void **state)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct nlmsghdr *nlh;
	struct nb_sa s;
	unsigned int f, aead;

	(void)state;
	key_init();
	for (f = 0; f < 2; f++) {
		for (aead = 0; aead < 2; aead++) {
			key_sa(&s, families[f], aead);
			check_no_key(nb_sa_msg(buf.b, XFRM_MSG_NEWSA, &s),
				     XB_EV_SA_UPSERT);
			check_no_key(nb_sa_msg(buf.b, XFRM_MSG_UPDSA, &s),
				     XB_EV_SA_UPSERT);
			nlh = nb_sa_msg(buf.b, XFRM_MSG_NEWSA, &s);
			nb_as_dump(nlh);
			check_no_key(nlh, XB_EV_SA_UPSERT);
			check_no_key(nb_delsa_msg(buf.b, &s, true),
				     XB_EV_SA_DEL);
			check_no_key(nb_delsa_msg(buf.b, &s, false),
				     XB_EV_SA_DEL);
			check_no_key(nb_expire_msg(buf.b, &s, true),
				     XB_EV_SA_DEL);
			check_no_key(nb_expire_msg(buf.b, &s, false),
				     XB_EV_IGNORED);
		}
	}
}

static void test_key_detector_works(void **state)
{
	struct xb_event ev;
	struct nb_sa s;

	(void)state;
	key_init();
	key_sa(&s, AF_INET, false);
	assert_int_equal(parse_xfrm(nb_sa_msg(buf.b, XFRM_MSG_NEWSA, &s), &ev),
			 0);
	assert_false(has_key_run(&ev, sizeof(ev)));
	/* A key run planted anywhere in the event is found. */
	memcpy((char *)&ev + sizeof(ev) - KEY_RUN, key + 10, KEY_RUN);
	assert_true(has_key_run(&ev, sizeof(ev)));
}

/* ---------------------------------------------------------------- defaults */

static void test_getdefault(void **state)
{
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_xfrm(nb_getdefault_msg(buf.b,
						      XFRM_USERPOLICY_ACCEPT,
						      XFRM_USERPOLICY_ACCEPT,
						      XFRM_USERPOLICY_ACCEPT),
				    &ev), 0);
	assert_int_equal(ev.kind, XB_EV_DEFAULTS);
	assert_int_equal(ev.default_action[XFRM_POLICY_IN], XB_DEFAULT_ACCEPT);
	assert_int_equal(ev.default_action[XFRM_POLICY_OUT], XB_DEFAULT_ACCEPT);
	assert_int_equal(ev.default_action[XFRM_POLICY_FWD], XB_DEFAULT_ACCEPT);
	assert_int_equal(ev.default_action[3], 0);

	/* in, fwd, out in the struct; IN, OUT, FWD in the array. */
	assert_int_equal(parse_xfrm(nb_getdefault_msg(buf.b,
						      XFRM_USERPOLICY_BLOCK,
						      XFRM_USERPOLICY_ACCEPT,
						      XFRM_USERPOLICY_BLOCK),
				    &ev), 0);
	assert_int_equal(ev.default_action[XFRM_POLICY_IN], XB_DEFAULT_BLOCK);
	assert_int_equal(ev.default_action[XFRM_POLICY_FWD], XB_DEFAULT_ACCEPT);
	assert_int_equal(ev.default_action[XFRM_POLICY_OUT], XB_DEFAULT_BLOCK);

	assert_int_equal(parse_xfrm(nb_getdefault_msg(buf.b,
						      XFRM_USERPOLICY_UNSPEC,
						      XFRM_USERPOLICY_BLOCK, 7),
				    &ev), 0);
	assert_int_equal(ev.default_action[XFRM_POLICY_IN], XB_DEFAULT_ACCEPT);
	assert_int_equal(ev.default_action[XFRM_POLICY_FWD], XB_DEFAULT_BLOCK);
	assert_int_equal(ev.default_action[XFRM_POLICY_OUT], XB_DEFAULT_ACCEPT);
}

/* ------------------------------------------------------------------- links */

static void test_link_new_xfrm(void **state)
{
	struct nb_link l = {
		.ifindex = 12, .name = "xfrm0", .kind = "xfrm",
		.has_data = true, .link = 2, .if_id = 0x42,
	};
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_link(nb_link_msg(buf.b, RTM_NEWLINK, &l), &ev),
			 0);
	assert_int_equal(ev.kind, XB_EV_LINK_UPSERT);
	assert_int_equal(ev.link.ifindex, 12);
	assert_int_equal(ev.link.link_ifindex, 2);
	assert_int_equal(ev.link.if_id, 0x42);
	assert_int_equal(ev.link.collect_md, 0);
	assert_string_equal(ev.link.name, "xfrm0");
}

static void test_link_new_xfrm_collect_md(void **state)
{
	struct nb_link l = {
		.ifindex = 13, .name = "xfrm-external-1", .kind = "xfrm",
		.has_data = true, .collect_md = true, .nest_flag = true,
	};
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_link(nb_link_msg(buf.b, RTM_NEWLINK, &l), &ev),
			 0);
	assert_int_equal(ev.kind, XB_EV_LINK_UPSERT);
	assert_int_equal(ev.link.ifindex, 13);
	assert_int_equal(ev.link.collect_md, 1);
	assert_int_equal(ev.link.if_id, 0);
	/* 15 characters: the longest name that fits IFNAMSIZ. */
	assert_string_equal(ev.link.name, "xfrm-external-1");
}

static void test_link_new_xfrm_no_data(void **state)
{
	struct nb_link l = { .ifindex = 14, .name = "ipsec1", .kind = "xfrm" };
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_link(nb_link_msg(buf.b, RTM_NEWLINK, &l), &ev),
			 0);
	assert_int_equal(ev.kind, XB_EV_LINK_UPSERT);
	assert_int_equal(ev.link.ifindex, 14);
	assert_int_equal(ev.link.if_id, 0);
	assert_string_equal(ev.link.name, "ipsec1");
}

static void test_link_new_other_kinds(void **state)
{
	struct nb_link veth = { .ifindex = 20, .name = "xbt-veth0",
				.kind = "veth" };
	struct nb_link nic = { .ifindex = 2, .name = "eth0" };
	struct nb_link xfrmx = { .ifindex = 21, .name = "x", .kind = "xfrmx" };
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_link(nb_link_msg(buf.b, RTM_NEWLINK, &veth),
				    &ev), 0);
	assert_int_equal(ev.kind, XB_EV_LINK_DEL);
	assert_int_equal(ev.link.ifindex, 20);
	assert_int_equal(parse_link(nb_link_msg(buf.b, RTM_NEWLINK, &nic),
				    &ev), 0);
	assert_int_equal(ev.kind, XB_EV_LINK_DEL);
	assert_int_equal(ev.link.ifindex, 2);
	assert_int_equal(parse_link(nb_link_msg(buf.b, RTM_NEWLINK, &xfrmx),
				    &ev), 0);
	assert_int_equal(ev.kind, XB_EV_LINK_DEL);
}

static void test_link_del(void **state)
{
	struct nb_link l = { .ifindex = 12, .name = "xfrm0", .kind = "xfrm",
			     .has_data = true, .if_id = 1 };
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_link(nb_link_msg(buf.b, RTM_DELLINK, &l), &ev),
			 0);
	assert_int_equal(ev.kind, XB_EV_LINK_DEL);
	assert_int_equal(ev.link.ifindex, 12);
}

static void test_link_other_rtm_ignored(void **state)
{
	struct nlmsghdr *nlh;
	struct xb_event ev;

	(void)state;
	memset(buf.b, 0, sizeof(buf.b));
	nlh = mnl_nlmsg_put_header(buf.b);
	nlh->nlmsg_type = RTM_NEWADDR;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifaddrmsg));
	assert_int_equal(parse_link(nlh, &ev), 0);
	assert_int_equal(ev.kind, XB_EV_IGNORED);
}

/* An RTM_NEWLINK (ifindex 30) with hand-made attributes: name (raw bytes),
 * then IFLA_LINKINFO with a raw kind and raw IFLA_INFO_DATA payload. */
struct raw_link {
	const void *name;
	size_t name_len;
	const void *kind;
	size_t kind_len;
	const void *data;	/* IFLA_INFO_DATA payload, if data_len */
	size_t data_len;
	int ifindex;
};

static struct nlmsghdr *raw_link_msg(const struct raw_link *r)
{
	struct nlattr *info, *data;
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	memset(buf.b, 0, sizeof(buf.b));
	nlh = mnl_nlmsg_put_header(buf.b);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = r->ifindex ? r->ifindex : 30;
	if (r->name)
		mnl_attr_put(nlh, IFLA_IFNAME, r->name_len, r->name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put(nlh, IFLA_INFO_KIND, r->kind_len, r->kind);
	if (r->data_len) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		memcpy(mnl_nlmsg_get_payload_tail(nlh), r->data, r->data_len);
		nlh->nlmsg_len += MNL_ALIGN(r->data_len);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

static void test_link_malformed(void **state)
{
	/* IFLA_XFRM_IF_ID as a u16; the flag with a payload; a truncated
	 * nested attribute (nla_len 12 of 8 bytes); a 2-byte stub. */
	static const __u8 if_id_u16[] = { 6, 0, IFLA_XFRM_IF_ID, 0, 1, 0, 0, 0 };
	static const __u8 flag_payload[] = {
		8, 0, IFLA_XFRM_COLLECT_METADATA, 0, 1, 0, 0, 0 };
	static const __u8 truncated[] = { 12, 0, IFLA_XFRM_LINK, 0, 1, 0, 0, 0 };
	static const __u8 stub[] = { 2, 0, 0, 0 };
	static const char long_name[] = "this-name-is-too-long";
	struct raw_link cases[] = {
		{ .name = "xfrm0", .name_len = 5, .kind = "xfrm", .kind_len = 5 },
		{ .name = long_name, .name_len = sizeof(long_name),
		  .kind = "xfrm", .kind_len = 5 },
		{ .name = "x", .name_len = 2, .kind = "xfrm", .kind_len = 4 },
		{ .name = "x", .name_len = 2, .kind = "xfrm", .kind_len = 5,
		  .data = if_id_u16, .data_len = sizeof(if_id_u16) },
		{ .name = "x", .name_len = 2, .kind = "xfrm", .kind_len = 5,
		  .data = flag_payload, .data_len = sizeof(flag_payload) },
		{ .name = "x", .name_len = 2, .kind = "xfrm", .kind_len = 5,
		  .data = truncated, .data_len = sizeof(truncated) },
		{ .name = "x", .name_len = 2, .kind = "xfrm", .kind_len = 5,
		  .data = stub, .data_len = sizeof(stub) },
		{ .name = "x", .name_len = 2, .kind = "xfrm", .kind_len = 5,
		  .ifindex = -1 },
	};
	struct xb_event ev;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(parse_link(raw_link_msg(&cases[i]), &ev),
				 -EINVAL);
	/* The same builder with good bytes does parse: the cases above fail
	 * for their one defect. */
	cases[0].name_len = 6;
	assert_int_equal(parse_link(raw_link_msg(&cases[0]), &ev), 0);
	assert_int_equal(ev.kind, XB_EV_LINK_UPSERT);
	assert_string_equal(ev.link.name, "xfrm0");
}

static void test_link_bad_ifindex_zero(void **state)
{
	struct nb_link l = { .ifindex = 0, .name = "xfrm0", .kind = "xfrm" };
	struct xb_event ev;

	(void)state;
	assert_int_equal(parse_link(nb_link_msg(buf.b, RTM_NEWLINK, &l), &ev),
			 -EINVAL);
}

/* -------------------------------------------------- malformed, any message */

static struct nlmsghdr *sample_msg(unsigned int which, size_t *hdrlen,
				   bool *link)
{
	static struct nb_link lk = { .ifindex = 5, .name = "xfrm5",
				     .kind = "xfrm", .has_data = true,
				     .if_id = 5 };
	struct nb_policy p;
	struct nb_sa s;

	nb_policy_init(&p, AF_INET6, XFRM_POLICY_OUT);
	nb_policy_add_tmpl(&p, false);
	p.if_id = 1;
	nb_sa_init(&s, AF_INET, 0x9000);
	s.if_id = 1;
	*link = false;
	switch (which) {
	case 0:
		*hdrlen = sizeof(struct xfrm_userpolicy_info);
		return nb_policy_msg(buf.b, XFRM_MSG_NEWPOLICY, &p);
	case 1:
		*hdrlen = sizeof(struct xfrm_userpolicy_info);
		return nb_policy_msg(buf.b, XFRM_MSG_UPDPOLICY, &p);
	case 2:
		*hdrlen = sizeof(struct xfrm_userpolicy_id);
		return nb_delpolicy_msg(buf.b, &p, true, true);
	case 3:
		*hdrlen = sizeof(struct xfrm_user_polexpire);
		return nb_polexpire_msg(buf.b, &p, true);
	case 4:
		*hdrlen = sizeof(struct xfrm_usersa_info);
		return nb_sa_msg(buf.b, XFRM_MSG_NEWSA, &s);
	case 5:
		*hdrlen = sizeof(struct xfrm_usersa_info);
		return nb_sa_msg(buf.b, XFRM_MSG_UPDSA, &s);
	case 6:
		*hdrlen = sizeof(struct xfrm_usersa_id);
		return nb_delsa_msg(buf.b, &s, true);
	case 7:
		*hdrlen = sizeof(struct xfrm_user_expire);
		return nb_expire_msg(buf.b, &s, true);
	case 8:
		*hdrlen = sizeof(struct xfrm_usersa_flush);
		return nb_flushsa_msg(buf.b, IPPROTO_ESP);
	case 9:
		*hdrlen = sizeof(struct xfrm_userpolicy_default);
		return nb_getdefault_msg(buf.b, 1, 1, 1);
	case 10:
		*hdrlen = 0;
		return nb_flushpolicy_msg(buf.b, true, XFRM_POLICY_TYPE_SUB);
	default:
		*hdrlen = sizeof(struct ifinfomsg);
		*link = true;
		return nb_link_msg(buf.b, RTM_NEWLINK, &lk);
	}
}

#define N_SAMPLES 12

static int parse_any(const struct nlmsghdr *nlh, struct xb_event *ev,
		     bool link)
{
	return link ? parse_link(nlh, ev) : parse_xfrm(nlh, ev);
}

static void test_samples_parse(void **state)
{
	struct nlmsghdr *nlh;
	struct xb_event ev;
	size_t hdrlen;
	unsigned int i;
	bool link;

	(void)state;
	for (i = 0; i < N_SAMPLES; i++) {
		nlh = sample_msg(i, &hdrlen, &link);
		assert_int_equal(parse_any(nlh, &ev, link), 0);
		assert_int_not_equal(ev.kind, XB_EV_IGNORED);
	}
}

static void test_truncated_headers(void **state)
{
	struct nlmsghdr *nlh;
	struct xb_event ev;
	size_t hdrlen;
	unsigned int i;
	bool link;

	(void)state;
	for (i = 0; i < N_SAMPLES; i++) {
		nlh = sample_msg(i, &hdrlen, &link);
		if (hdrlen) {
			nlh->nlmsg_len = NLMSG_HDRLEN + hdrlen - 1;
			assert_int_equal(parse_any(nlh, &ev, link), -EINVAL);
		}
		nlh->nlmsg_len = NLMSG_HDRLEN - 1;
		assert_int_equal(parse_any(nlh, &ev, link), -EINVAL);
		nlh->nlmsg_len = 4;
		assert_int_equal(parse_any(nlh, &ev, link), -EINVAL);
	}
}

static void test_header_only_messages(void **state)
{
	struct nlmsghdr *nlh;
	struct xb_event ev;
	size_t hdrlen;
	unsigned int i;
	bool link;

	(void)state;
	/* Exactly the header, attributes cut away: still a valid message. */
	for (i = 0; i < N_SAMPLES; i++) {
		nlh = sample_msg(i, &hdrlen, &link);
		nlh->nlmsg_len = NLMSG_HDRLEN + MNL_ALIGN(hdrlen);
		assert_int_equal(parse_any(nlh, &ev, link), 0);
		nlh->nlmsg_len = NLMSG_HDRLEN + hdrlen;
		assert_int_equal(parse_any(nlh, &ev, link), 0);
	}
}

static void test_truncated_last_attr(void **state)
{
	struct nlmsghdr *nlh;
	struct nlattr *attr, *last;
	struct xb_event ev;
	size_t hdrlen;
	unsigned int i;
	bool link;

	(void)state;
	for (i = 0; i < N_SAMPLES; i++) {
		nlh = sample_msg(i, &hdrlen, &link);
		last = NULL;
		mnl_attr_for_each(attr, nlh, hdrlen)
			last = attr;
		if (!last)
			continue;
		/* Claims 4 bytes more than the message has. */
		last->nla_len += 4;
		assert_int_equal(parse_any(nlh, &ev, link), -EINVAL);
		/* Too short to be an attribute at all. */
		last->nla_len = 2;
		assert_int_equal(parse_any(nlh, &ev, link), -EINVAL);
	}
}

static void test_cut_inside_attr(void **state)
{
	struct nlmsghdr *nlh;
	struct xb_event ev;
	size_t hdrlen, full;
	unsigned int i;
	bool link;

	(void)state;
	/* Cut the message at every 4-byte step inside its attributes. */
	for (i = 0; i < N_SAMPLES; i++) {
		nlh = sample_msg(i, &hdrlen, &link);
		full = nlh->nlmsg_len;
		for (nlh->nlmsg_len = NLMSG_HDRLEN + MNL_ALIGN(hdrlen) + 4;
		     nlh->nlmsg_len < full; nlh->nlmsg_len += 4) {
			struct nlattr *attr;
			bool boundary = false;

			mnl_attr_for_each(attr, nlh, hdrlen)
				boundary = (char *)attr + MNL_ALIGN(attr->nla_len)
					   == (char *)nlh + nlh->nlmsg_len;
			/* A cut exactly after an attribute is a valid,
			 * shorter message; anything else must fail. */
			if (!boundary)
				assert_int_equal(parse_any(nlh, &ev, link),
						 -EINVAL);
		}
	}
}

static void test_nlmsg_len_beyond_data(void **state)
{
	static const __u8 fill[] = { 0x00, 0xff, 0x04 };
	struct nlmsghdr *nlh;
	struct xb_event ev;
	size_t hdrlen, len;
	unsigned int i, f;
	bool link;

	(void)state;
	/* nlmsg_len says more than the message holds: what follows the real
	 * content is not a valid attribute stream. */
	for (i = 0; i < N_SAMPLES; i++) {
		for (f = 0; f < sizeof(fill); f++) {
			nlh = sample_msg(i, &hdrlen, &link);
			len = MNL_ALIGN(nlh->nlmsg_len);
			memset(buf.b + len, fill[f], 64);
			nlh->nlmsg_len = len + 64;
			assert_int_equal(parse_any(nlh, &ev, link), -EINVAL);
			nlh->nlmsg_len = len + 3;
			assert_int_equal(parse_any(nlh, &ev, link), -EINVAL);
		}
	}
}

static void test_unaligned_len_with_attrs(void **state)
{
	static const __u8 empty_attr[] = { 4, 0, XFRMA_TMPL, 0 };
	struct nlmsghdr *nlh;
	struct xb_event ev;
	struct nb_sa s;
	size_t len;

	(void)state;
	nb_sa_init(&s, AF_INET, 0xa000);
	nlh = nb_sa_msg(buf.b, XFRM_MSG_NEWSA, &s);
	len = nlh->nlmsg_len;
	memcpy(buf.b + len, empty_attr, sizeof(empty_attr));
	/* The whole empty attribute is in: fine (and skipped for an SA). */
	nlh->nlmsg_len = len + 4;
	assert_int_equal(parse_xfrm(nlh, &ev), 0);
	/* Half of its header is in: libmnl walks to the aligned end and would
	 * read the type past nlmsg_len, so the parser must refuse first. */
	nlh->nlmsg_len = len + 2;
	assert_int_equal(parse_xfrm(nlh, &ev), -EINVAL);

	/* A last attribute without its padding: the kernel never sends one. */
	s.sa_dir = 1;
	nlh = nb_sa_msg(buf.b, XFRM_MSG_NEWSA, &s);
	nlh->nlmsg_len -= 3;
	assert_int_equal(parse_xfrm(nlh, &ev), -EINVAL);
}

static void test_unknown_xfrm_types_ignored(void **state)
{
	static const __u16 types[] = {
		XFRM_MSG_NEWAE, XFRM_MSG_ACQUIRE, XFRM_MSG_REPORT,
		XFRM_MSG_MAPPING, XFRM_MSG_MIGRATE, XFRM_MSG_NEWSADINFO,
		XFRM_MSG_NEWSPDINFO, XFRM_MSG_GETSA, XFRM_MSG_MAX + 5,
		NLMSG_DONE, NLMSG_NOOP,
	};
	struct nlmsghdr *nlh;
	struct xb_event ev;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(buf.b, 0, sizeof(buf.b));
		nlh = mnl_nlmsg_put_header(buf.b);
		nlh->nlmsg_type = types[i];
		mnl_nlmsg_put_extra_header(nlh, 8);
		assert_int_equal(parse_xfrm(nlh, &ev), 0);
		assert_int_equal(ev.kind, XB_EV_IGNORED);
	}
}

static void test_event_kind_names(void **state)
{
	const char *names[XB_EV_LINK_DEL + 1];
	int i, j;

	(void)state;
	for (i = XB_EV_IGNORED; i <= XB_EV_LINK_DEL; i++) {
		names[i] = xb_event_kind_name(i);
		assert_non_null(names[i]);
		assert_string_not_equal(names[i], "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
	}
	assert_string_equal(xb_event_kind_name(XB_EV_SA_DEL), "sa_del");
	assert_string_equal(xb_event_kind_name((enum xb_event_kind)99),
			    "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_new_v4_plain),
		cmocka_unit_test(test_policy_v4_addr_normalised),
		cmocka_unit_test(test_policy_tmpl_family_zero),
		cmocka_unit_test(test_policy_upd_v6_required_tmpl),
		cmocka_unit_test(test_policy_optional_tmpl),
		cmocka_unit_test(test_policy_six_tmpls),
		cmocka_unit_test(test_policy_all_optional_tmpls),
		cmocka_unit_test(test_policy_seven_tmpls_einval),
		cmocka_unit_test(test_policy_tmpl_bad_len),
		cmocka_unit_test(test_policy_tmpl_empty_attr),
		cmocka_unit_test(test_policy_sub_type),
		cmocka_unit_test(test_policy_no_type_attr_is_main),
		cmocka_unit_test(test_policy_mark_and_if_id),
		cmocka_unit_test(test_policy_mark_only_mask),
		cmocka_unit_test(test_policy_sec_ctx),
		cmocka_unit_test(test_policy_offload),
		cmocka_unit_test(test_policy_dump_entry),
		cmocka_unit_test(test_policy_block),
		cmocka_unit_test(test_policy_socket_dir_ignored),
		cmocka_unit_test(test_policy_unknown_attr_skipped),
		cmocka_unit_test(test_policy_attr_bad_len),
		cmocka_unit_test(test_delpolicy_byid_v4),
		cmocka_unit_test(test_delpolicy_bysel_v6),
		cmocka_unit_test(test_delpolicy_no_policy_attr_byid),
		cmocka_unit_test(test_delpolicy_no_policy_attr_bysel),
		cmocka_unit_test(test_delpolicy_policy_attr_bad_len),
		cmocka_unit_test(test_polexpire_hard),
		cmocka_unit_test(test_polexpire_soft),
		cmocka_unit_test(test_flushpolicy),
		cmocka_unit_test(test_flushpolicy_type_bad_len),
		cmocka_unit_test(test_sa_new_v4),
		cmocka_unit_test(test_sa_upd_v6_mark_if_id_encap),
		cmocka_unit_test(test_sa_dump_entry),
		cmocka_unit_test(test_sa_newer_kernel_attr),
		cmocka_unit_test(test_sa_pcpu),
		cmocka_unit_test(test_sa_attr_bad_len),
		cmocka_unit_test(test_delsa_v4),
		cmocka_unit_test(test_delsa_v6_without_sa_attr),
		cmocka_unit_test(test_delsa_sa_attr_bad_len),
		cmocka_unit_test(test_expire_hard),
		cmocka_unit_test(test_expire_soft),
		cmocka_unit_test(test_flushsa),
		cmocka_unit_test(test_keys_never_in_event),
		cmocka_unit_test(test_key_detector_works),
		cmocka_unit_test(test_getdefault),
		cmocka_unit_test(test_link_new_xfrm),
		cmocka_unit_test(test_link_new_xfrm_collect_md),
		cmocka_unit_test(test_link_new_xfrm_no_data),
		cmocka_unit_test(test_link_new_other_kinds),
		cmocka_unit_test(test_link_del),
		cmocka_unit_test(test_link_other_rtm_ignored),
		cmocka_unit_test(test_link_malformed),
		cmocka_unit_test(test_link_bad_ifindex_zero),
		cmocka_unit_test(test_samples_parse),
		cmocka_unit_test(test_truncated_headers),
		cmocka_unit_test(test_header_only_messages),
		cmocka_unit_test(test_truncated_last_attr),
		cmocka_unit_test(test_cut_inside_attr),
		cmocka_unit_test(test_nlmsg_len_beyond_data),
		cmocka_unit_test(test_unaligned_len_with_attrs),
		cmocka_unit_test(test_unknown_xfrm_types_ignored),
		cmocka_unit_test(test_event_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
