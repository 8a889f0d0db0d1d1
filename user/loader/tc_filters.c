// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include "loader/attach.h"
#include "loader/owner.h"
#include "loader/tc_filters.h"
#include "netlink/nl_dump.h"

/* enum bpf_attach_type's BPF_TCX_INGRESS (6.6+), newer than some uapi
 * headers; older kernels answer a query for it with EINVAL. */
#define XB_BPF_TCX_INGRESS	46

struct filter_scan {
	bool ours_attached;
	__u32 our_map;
	bool others;
};

/* What one RTM_NEWTFILTER says about its filter. */
struct filter_attrs {
	const char *kind;
	__u32 chain;
	const struct nlattr *options;	/* nested, by kind */
	__u32 prog_id;			/* a bpf filter's program */
};

static int on_bpf_option(const struct nlattr *a, void *data)
{
	struct filter_attrs *f = data;

	if (mnl_attr_get_type(a) == TCA_BPF_ID && !mnl_attr_validate(a, MNL_TYPE_U32))
		f->prog_id = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int on_filter_attr(const struct nlattr *a, void *data)
{
	struct filter_attrs *f = data;

	switch (mnl_attr_get_type(a)) {
	case TCA_KIND:
		if (!mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			f->kind = mnl_attr_get_str(a);
		break;
	case TCA_CHAIN:
		if (!mnl_attr_validate(a, MNL_TYPE_U32))
			f->chain = mnl_attr_get_u32(a);
		break;
	case TCA_OPTIONS:
		if (!mnl_attr_validate(a, MNL_TYPE_NESTED))
			f->options = a;
		break;
	}
	return MNL_CB_OK;
}

/*
 * Ours: while our filter is attached, the bpf classifier at our priority
 * in chain 0 -- its own record (handle 0, which the dump sends before its
 * filters) and the filter at our handle whose program is ours.
 */
static bool filter_is_ours(const struct tcmsg *t, struct filter_attrs *f,
			   const struct filter_scan *scan)
{
	if (!scan->ours_attached || TC_H_MAJ(t->tcm_info) >> 16 != XB_TC_PRIORITY ||
	    f->chain || !f->kind || strcmp(f->kind, "bpf"))
		return false;
	if (!t->tcm_handle)
		return true;
	if (t->tcm_handle != XB_TC_HANDLE || !f->options)
		return false;
	mnl_attr_parse_nested(f->options, on_bpf_option, f);
	return f->prog_id && xb_prog_is_ours(f->prog_id, XB_TC_PROG_PREFIX, scan->our_map);
}

static int on_filter(const struct nlmsghdr *nlh, void *data)
{
	struct filter_scan *scan = data;
	struct filter_attrs f = {};
	const struct tcmsg *t;

	if (scan->others || nlh->nlmsg_type != RTM_NEWTFILTER ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*t))
		return MNL_CB_OK;
	t = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*t), on_filter_attr, &f);
	if (!filter_is_ours(t, &f, scan))
		scan->others = true;
	return MNL_CB_OK;
}

/* Every chain of the ingress block: one dump answers for a clsact and an
 * ingress qdisc alike (both are ffff:, and the ingress qdisc takes any
 * minor); no such qdisc, no messages. */
static int scan_ingress_filters(int ifindex, struct filter_scan *scan)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *t;

	nlh->nlmsg_type = RTM_GETTFILTER;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
	return xb_nl_dump_once(NETLINK_ROUTE, nlh, on_filter, scan);
}

/* Programs on the device's tcx ingress: none of them is ours (our filter
 * is a cls_bpf one). 0 on kernels without tcx. */
static int tcx_ingress_progs(int ifindex)
{
	__u32 count = 0;
	int err;

	err = bpf_prog_query(ifindex, (enum bpf_attach_type)XB_BPF_TCX_INGRESS, 0, NULL, NULL,
			     &count);
	if (err)
		return err == -EINVAL ? 0 : err;
	return (int)count;
}

int xb_tc_ingress_others(int ifindex, bool ours_attached, __u32 our_map)
{
	struct filter_scan scan = { .ours_attached = ours_attached, .our_map = our_map };
	int err;

	err = scan_ingress_filters(ifindex, &scan);
	if (err)
		return err;
	if (scan.others)
		return 1;
	err = tcx_ingress_progs(ifindex);
	return err < 0 ? err : err > 0;
}
