// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The datapath object and its attachment to devices, in order: settings
 * (iface_cfg.c), XDP (xdp.c), TC (tc.c). Good neighbour rules: the XDP program goes
 * through libxdp (a dispatcher shared with other programs when the kernel
 * allows freplace; otherwise libxdp attaches it alone and we refuse to
 * replace anyone else's program); the TC program is one filter with our
 * handle and priority on clsact ingress; we detach only what is ours and
 * delete the clsact qdisc only when we created it and it is empty.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/log.h"
#include "loader/attach.h"
#include "loader/bpffs.h"
#include "loader/iface_cfg.h"
#include "loader/kfunc.h"
#include "loader/md_egress.h"
#include "loader/stats.h"
#include "loader/tc.h"
#include "loader/xdp.h"
#include "xfrmbpf.skel.h"

int xb_dp_configure(struct xfrmbpf *skel, const char *pin_dir)
{
	int bits = xb_flow_cache_fit(skel->maps.xb_flow_cache, skel->maps.xb_flow_tags,
				     pin_dir);

	if (bits < 0)
		return bits;
	/* The policy capacity is the pinned maps' (`run --max-policies`). */
	if (xb_maps_fit_capacity(skel->obj, pin_dir, 0))
		return -EINVAL;
	skel->rodata->xb_flow_cache_bits = (__u32)bits;
	skel->rodata->xb_kernel_sa_lookup = xb_have_kernel_sa_lookup();
	return 0;
}

/* dp->err = "what: strerror(-err)"; returns err. */
static int dp_fail(struct xb_datapath *dp, int err, const char *what)
{
	snprintf(dp->err, sizeof(dp->err), "%s: %s", what, strerror(-err));
	return err;
}

/* Steering through a collect_md device needs bpf_skb_set_xfrm_info (6.2+):
 * without it, its flows go to the kernel, as they do without --steer. */
static bool md_steering_possible(void)
{
	if (xb_have_skb_set_xfrm_info())
		return true;
	pr_info("No bpf_skb_set_xfrm_info in this kernel (6.2+, module xfrm_interface): "
		"a collect_md xfrm device is not steered to, its flows go to the kernel\n");
	return false;
}

int xb_dp_open(struct xb_datapath *dp, const char *pin_dir,
	       const struct xb_maps *maps, bool steer)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_dir);
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts);
	int err;

	memset(dp, 0, sizeof(*dp));
	dp->maps = maps;
	dp->steer = steer;
	xb_libxdp_use_bpffs(pin_dir);
	dp->skel = xfrmbpf__open_opts(&oopts);
	if (!dp->skel)
		return dp_fail(dp, -errno, "Couldn't open the datapath object");
	err = xb_dp_configure(dp->skel, pin_dir);
	if (err)
		return dp_fail(dp, err, "Couldn't size the maps as the pinned ones");
	/* libxdp loads the object on the first attach (as a dispatcher
	 * extension when it can); TC programs only when steering. */
	bpf_program__set_autoload(dp->skel->progs.xb_tc_steer, steer);
	bpf_program__set_autoload(dp->skel->progs.xb_tc_md_egress, steer && md_steering_possible());
	xopts.obj = dp->skel->obj;
	xopts.prog_name = XB_XDP_PROG_NAME;
	dp->xdp = xdp_program__create(&xopts);
	if (!dp->xdp)
		return dp_fail(dp, -errno, "Couldn't prepare the XDP program");
	xdp_program__set_run_prio(dp->xdp, XB_XDP_RUN_PRIO);
	return 0;
}

void xb_dp_set_spread(struct xb_datapath *dp, bool on)
{
	dp->spread = on;
	dp->skel->rodata->xb_spread_on = on;
}

int xb_dp_attach(struct xb_datapath *dp, const char *ifname, enum xb_xdp_mode mode)
{
	__u32 netns_flags = xb_netns_cfg_flags();
	struct xb_dp_iface *ifc;
	struct xb_iface_cfg cfg;
	int err, i;

	if (dp->n_ifaces >= XB_MAX_IFACES) {
		snprintf(dp->err, sizeof(dp->err), "Couldn't attach to %s: at most %d interfaces",
			 ifname, XB_MAX_IFACES);
		return -E2BIG;
	}
	ifc = &dp->ifaces[dp->n_ifaces];
	memset(ifc, 0, sizeof(*ifc));
	ifc->ifindex = if_nametoindex(ifname);
	snprintf(ifc->name, sizeof(ifc->name), "%s", ifname);
	if (!ifc->ifindex) {
		snprintf(dp->err, sizeof(dp->err), "Couldn't attach to %s: no such interface",
			 ifname);
		return -ENODEV;
	}
	for (i = 0; i < dp->n_ifaces; i++)
		if (dp->ifaces[i].ifindex == ifc->ifindex)
			return 0;	/* -i given twice */
	/* A clsact that a crashed run of ours created is still ours. */
	if (!bpf_map_lookup_elem(dp->maps->fd[XB_MAP_IFACES], &(__u32){ ifc->ifindex }, &cfg) &&
	    (cfg.flags & XB_IF_OWN_CLSACT))
		ifc->clsact_created = true;
	/* Settings first: the program passes packets of unknown devices. */
	err = xb_iface_pick_stats_slot(dp->maps, ifc->ifindex);
	if (err >= 0) {
		ifc->stats_slot = err;
		/* The device's counters start at zero; what the slot's
		 * earlier holder counted stays in the totals. */
		err = xb_stats_retire_row(dp->maps, ifc->stats_slot);
	}
	if (!err) {
		cfg = xb_iface_cfg_current(ifc, false, false, netns_flags);
		err = xb_iface_cfg_write(dp->maps, ifc, &cfg);
	}
	if (err) {
		snprintf(dp->err, sizeof(dp->err), "Couldn't configure %s in xb_ifaces: %s",
			 ifname, strerror(-err));
		return err;
	}
	err = xb_xdp_attach(dp, ifc, mode);
	if (!err && dp->steer)
		err = xb_tc_attach(dp, ifc);
	if (err) {
		xb_xdp_detach(dp, ifc);
		xb_iface_forget(dp->maps, ifc->ifindex);
		return err;
	}
	cfg = xb_iface_cfg_current(ifc, dp->steer, dp->spread, netns_flags);
	xb_iface_cfg_write(dp->maps, ifc, &cfg);
	if (cfg.flags & XB_IF_STACKED)
		xb_iface_log_stacked(ifc->name, cfg.flags);
	if (cfg.flags & (XB_IF_NF_PREROUTING4 | XB_IF_NF_PREROUTING6))
		xb_iface_log_netfilter(ifc->name, cfg.flags);
	if (dp->spread && !(cfg.flags & XB_IF_SPREAD))
		pr_warn("%s: --spread-esp does not redirect from skb-mode XDP (Linux 6.12 "
			"hands such packets to IP at their Ethernet header); its ESP stays on "
			"the CPU it arrives on\n", ifc->name);
	dp->n_ifaces++;
	/* the object is loaded now: the collect_md device can be followed */
	xb_md_egress_sync(dp);
	return 0;
}

static void detach_iface(struct xb_datapath *dp, struct xb_dp_iface *ifc)
{
	xb_xdp_detach(dp, ifc);
	xb_tc_detach(dp, ifc);
	xb_iface_forget(dp->maps, ifc->ifindex);
	pr_info("%s: detached\n", ifc->name);
}

int xb_dp_detach(struct xb_datapath *dp, const char *ifname)
{
	int i;

	for (i = 0; i < dp->n_ifaces; i++) {
		if (strcmp(dp->ifaces[i].name, ifname))
			continue;
		detach_iface(dp, &dp->ifaces[i]);
		memmove(&dp->ifaces[i], &dp->ifaces[i + 1],
			(dp->n_ifaces - i - 1) * sizeof(dp->ifaces[0]));
		dp->n_ifaces--;
		return 0;
	}
	return -ENOENT;
}

void xb_dp_close(struct xb_datapath *dp)
{
	int i;

	if (dp->skel)
		xb_md_egress_detach(dp);
	for (i = dp->n_ifaces - 1; i >= 0; i--)
		detach_iface(dp, &dp->ifaces[i]);
	dp->n_ifaces = 0;
	if (dp->xdp)
		xdp_program__close(dp->xdp);
	dp->xdp = NULL;
	xfrmbpf__destroy(dp->skel);
	dp->skel = NULL;
}
