// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include "lib/log.h"
#include "loader/owner.h"
#include "loader/tc.h"
#include "netlink/nl_dump.h"
#include "xfrmbpf.skel.h"

static int filter_count_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWTFILTER)
		(*(int *)data)++;
	return MNL_CB_OK;
}

/* Filters on one clsact hook (RTM_GETTFILTER dump). */
static int count_filters(int ifindex, __u32 parent)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;
	int n = 0, err;

	nlh->nlmsg_type = RTM_GETTFILTER;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	err = xb_nl_dump_once(NETLINK_ROUTE, nlh, filter_count_cb, &n);
	return err ? err : n;
}

bool xb_clsact_empty(int ifindex)
{
	return count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)) == 0 &&
	       count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)) == 0;
}

/* Program id of the filter at our handle/priority on one clsact hook, 0
 * when there is none. */
static __u32 tc_slot_prog(int ifindex, enum bpf_tc_attach_point where)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = XB_TC_HANDLE,
			    .priority = XB_TC_PRIORITY);

	int err;

	/* "no such filter/qdisc" is the usual answer: not worth a warning */
	xb_log_libs_quiet();
	err = bpf_tc_query(&hook, &q);
	xb_log_libs_loud();
	return err ? 0 : q.prog_id;
}

bool xb_tc_slot_is_ours(int ifindex, enum bpf_tc_attach_point where, const char *prefix,
			__u32 want_map)
{
	__u32 id = tc_slot_prog(ifindex, where);

	return id && xb_prog_is_ours(id, prefix, want_map);
}

int xb_tc_detach_slot(int ifindex, enum bpf_tc_attach_point where, const char *prefix,
		      __u32 want_map)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = XB_TC_HANDLE,
			    .priority = XB_TC_PRIORITY);
	__u32 id = tc_slot_prog(ifindex, where);

	if (!id || !xb_prog_is_ours(id, prefix, want_map))
		return -ENOENT;
	return bpf_tc_detach(&hook, &o);
}

int xb_tc_detach_ours(int ifindex, __u32 want_map)
{
	return xb_tc_detach_slot(ifindex, BPF_TC_INGRESS, XB_TC_PROG_PREFIX, want_map);
}

void xb_tc_clsact_delete_if_empty(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	/* INGRESS|EGRESS deletes the qdisc; either alone would flush every
	 * filter on the hook, ours or not. */
	if (xb_clsact_empty(ifindex))
		bpf_tc_hook_destroy(&hook);
}

int xb_tc_attach_slot(struct xb_datapath *dp, const struct xb_tc_slot *slot,
		      bool *clsact_created)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = slot->ifindex,
			    .attach_point = slot->where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = XB_TC_HANDLE,
			    .priority = XB_TC_PRIORITY);
	const char *hook_name = slot->where == BPF_TC_EGRESS ? "TC egress" : "TC";
	__u32 id;
	int err;

	/* EEXIST (someone's clsact) is fine: quiet libbpf's kernel message */
	xb_log_libs_quiet();
	err = bpf_tc_hook_create(&hook);
	xb_log_libs_loud();
	if (!err)
		*clsact_created = true;
	else if (err != -EEXIST)
		goto fail;
	id = tc_slot_prog(slot->ifindex, slot->where);
	if (id) {
		if (!xb_prog_is_ours(id, slot->prefix, xb_our_map_id(dp->maps))) {
			snprintf(dp->err, sizeof(dp->err),
				 "Couldn't attach %s to %s: handle 0x%x priority %u is used by "
				 "another filter (prog id %u)", hook_name, slot->ifname,
				 XB_TC_HANDLE, XB_TC_PRIORITY, id);
			err = -EEXIST;
			goto undo;
		}
		pr_info("%s: replacing the %s filter a previous xfrmbpf left\n", slot->ifname,
			hook_name);
		o.flags = BPF_TC_F_REPLACE;
	}
	o.prog_fd = slot->prog_fd;
	err = bpf_tc_attach(&hook, &o);
	if (err)
		goto fail;
	return 0;
fail:
	snprintf(dp->err, sizeof(dp->err), "Couldn't attach %s to %s: %s", hook_name,
		 slot->ifname, strerror(-err));
undo:
	if (*clsact_created)
		xb_tc_clsact_delete_if_empty(slot->ifindex);
	*clsact_created = false;
	return err;
}

int xb_tc_attach(struct xb_datapath *dp, struct xb_dp_iface *ifc)
{
	const struct xb_tc_slot slot = {
		.ifindex = ifc->ifindex,
		.ifname = ifc->name,
		.where = BPF_TC_INGRESS,
		.prefix = XB_TC_PROG_PREFIX,
		.prog_fd = bpf_program__fd(dp->skel->progs.xb_tc_steer),
	};
	int err;

	err = xb_tc_attach_slot(dp, &slot, &ifc->clsact_created);
	if (!err)
		ifc->tc = true;
	return err;
}

void xb_tc_detach(struct xb_datapath *dp, struct xb_dp_iface *ifc)
{
	int err;

	if (!ifc->tc)
		return;
	err = xb_tc_detach_ours(ifc->ifindex, xb_our_map_id(dp->maps));
	if (err && err != -ENOENT)
		pr_warn("Couldn't detach TC from %s: %s\n", ifc->name, strerror(-err));
	if (ifc->clsact_created)
		xb_tc_clsact_delete_if_empty(ifc->ifindex);
	ifc->tc = false;
}
