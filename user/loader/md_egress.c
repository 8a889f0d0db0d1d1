// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xfrmbpf/sad.h"
#include "lib/log.h"
#include "loader/attach.h"
#include "loader/md_egress.h"
#include "loader/owner.h"
#include "loader/tc.h"
#include "xfrmbpf.skel.h"

/* The collect_md device as mirrored (ifindex, its name in *name), 0 when
 * there is none. */
static int mirrored_md_device(const struct xb_datapath *dp, char name[IF_NAMESIZE])
{
	struct xb_xfrm_link link = {};
	__u32 key = 0;

	if (bpf_map_lookup_elem(dp->maps->fd[XB_MAP_XFRM_LINKS], &key, &link) ||
	    !link.collect_md || !link.ifindex)
		return 0;
	snprintf(name, IF_NAMESIZE, "%.*s", (int)sizeof(link.name), link.name);
	return (int)link.ifindex;
}

/*
 * What the ingress program reads as the device it may steer to. Through
 * the map, not skel->data_md_egress: libxdp loads the object with
 * bpf_object__load(), which leaves the skeleton's pointer on its private
 * copy of the section.
 */
static int write_md_target(const struct xb_datapath *dp, __u32 ifindex)
{
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(dp->skel->maps.data_md_egress), &zero,
				   &ifindex, BPF_ANY);
}

static bool prog_loaded(const struct xb_datapath *dp)
{
	return dp->skel && bpf_program__fd(dp->skel->progs.xb_tc_md_egress) >= 0;
}

void xb_md_egress_detach(struct xb_datapath *dp)
{
	struct xb_md_egress *md = &dp->md;
	int err;

	if (!md->ifindex)
		return;
	/* first: a packet steered there now would find no egress program */
	if (write_md_target(dp, 0))
		pr_warn("Couldn't stop steering into %s: %s\n", md->name, strerror(errno));
	err = xb_tc_detach_slot(md->ifindex, BPF_TC_EGRESS, XB_TC_MD_PROG_NAME,
				xb_our_map_id(dp->maps));
	/* -ENOENT/-ENODEV: the device, and our filter with it, is gone */
	if (err && err != -ENOENT && err != -ENODEV)
		pr_warn("Couldn't detach TC egress from %s: %s\n", md->name, strerror(-err));
	if (md->clsact_created)
		xb_tc_clsact_delete_if_empty(md->ifindex);
	pr_info("%s: collect_md device no longer steered to\n", md->name);
	memset(md, 0, sizeof(*md));
}

/* Attach to ifindex and make it the target; said once per device when it
 * fails. */
static void attach_md(struct xb_datapath *dp, int ifindex, const char *name)
{
	struct xb_md_egress *md = &dp->md;
	const struct xb_tc_slot slot = {
		.ifindex = ifindex,
		.ifname = name,
		.where = BPF_TC_EGRESS,
		.prefix = XB_TC_MD_PROG_NAME,
		.prog_fd = bpf_program__fd(dp->skel->progs.xb_tc_md_egress),
	};
	bool clsact_created = false;

	if (xb_tc_attach_slot(dp, &slot, &clsact_created)) {
		if (md->failed_ifindex != ifindex)
			pr_warn("%s; its flows go to the kernel\n", dp->err);
		md->failed_ifindex = ifindex;
		return;
	}
	md->ifindex = ifindex;
	md->clsact_created = clsact_created;
	snprintf(md->name, sizeof(md->name), "%s", name);
	/* only now: the program that sets the if_id runs there */
	if (write_md_target(dp, (__u32)ifindex)) {
		pr_warn("Couldn't steer into %s: %s\n", name, strerror(errno));
		xb_md_egress_detach(dp);	/* the next sync tries again */
		return;
	}
	md->failed_ifindex = 0;
	pr_info("%s: collect_md device, IPv4 flows of if_ids without an interface of "
		"their own are steered into it\n", name);
}

void xb_md_egress_sync(struct xb_datapath *dp)
{
	char name[IF_NAMESIZE] = "";
	int want;

	if (!prog_loaded(dp))
		return;
	want = mirrored_md_device(dp, name);
	if (want && want == dp->md.ifindex &&
	    xb_tc_slot_is_ours(want, BPF_TC_EGRESS, XB_TC_MD_PROG_NAME,
			       xb_our_map_id(dp->maps)))
		return;
	if (dp->md.ifindex)
		xb_md_egress_detach(dp);
	if (want)
		attach_md(dp, want, name);
}
