/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The TC programs: one filter with our handle and priority on clsact
 * ingress of each steering NIC (xb_tc_steer), and one on clsact egress of
 * the collect_md xfrm device (xb_tc_md_egress, user/loader/md_egress.c).
 * We detach only a filter that is ours and delete the clsact qdisc only
 * when we created it and nothing else is on it.
 */
#ifndef XFRMBPF_TC_H
#define XFRMBPF_TC_H

#include <stdbool.h>
#include <bpf/libbpf.h>
#include "loader/attach.h"

/* Where one of our filters goes. */
struct xb_tc_slot {
	int ifindex;
	const char *ifname;		/* for messages */
	enum bpf_tc_attach_point where;	/* BPF_TC_INGRESS or BPF_TC_EGRESS */
	const char *prefix;		/* name prefix of our program there */
	int prog_fd;
};

/* Our filter on the slot (replacing one a previous xfrmbpf left there,
 * never another program's); *clsact_created is set when the clsact qdisc
 * was created for it. On failure dp->err says why. */
int xb_tc_attach_slot(struct xb_datapath *dp, const struct xb_tc_slot *slot,
		      bool *clsact_created);
/* Our filter on the hook where of ifindex (named prefix*, using map
 * want_map, 0: any instance's) removed; -ENOENT when there is none. */
int xb_tc_detach_slot(int ifindex, enum bpf_tc_attach_point where, const char *prefix,
		      __u32 want_map);
/* Our program (named prefix*, using map want_map) is the filter on the
 * hook where of ifindex. */
bool xb_tc_slot_is_ours(int ifindex, enum bpf_tc_attach_point where, const char *prefix,
			__u32 want_map);
/* The clsact qdisc of ifindex deleted when no filter is left on it. */
void xb_tc_clsact_delete_if_empty(int ifindex);

/* xb_tc_steer on the ingress of an attached NIC. */
int xb_tc_attach(struct xb_datapath *dp, struct xb_dp_iface *ifc);
void xb_tc_detach(struct xb_datapath *dp, struct xb_dp_iface *ifc);
/* Our steering filter on the ingress of ifindex (using map want_map, 0:
 * any instance's); -ENOENT when there is none. */
int xb_tc_detach_ours(int ifindex, __u32 want_map);
/* No filter at all on either clsact hook of ifindex. */
bool xb_clsact_empty(int ifindex);

#endif
