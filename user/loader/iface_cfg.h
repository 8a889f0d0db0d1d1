/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The settings of an attached device in xb_ifaces: its counter slot, the
 * disable_policy sysctls and the MTU (re-read at every heartbeat), the
 * steering flags. Every change makes the cached flow verdicts stale.
 */
#ifndef XFRMBPF_IFACE_CFG_H
#define XFRMBPF_IFACE_CFG_H

#include "loader/attach.h"

/* The settings of the network namespace that go into every device's
 * flags (netfilter hooks at prerouting), read once for all of them. */
__u32 xb_netns_cfg_flags(void);
/* The settings of ifc as the kernel has them now, with netns_flags. */
struct xb_iface_cfg xb_iface_cfg_current(struct xb_dp_iface *ifc, bool steer, bool spread,
					 __u32 netns_flags);
int xb_iface_cfg_write(const struct xb_maps *maps, struct xb_dp_iface *ifc,
		       const struct xb_iface_cfg *cfg);
/* The lowest counter slot no other device in xb_ifaces uses, or -ENOSPC. */
int xb_iface_pick_stats_slot(const struct xb_maps *maps, __u32 ifindex);
void xb_iface_forget(const struct xb_maps *maps, int ifindex);

/* Logs what XB_IF_STACKED in flags means for the device's packets. */
void xb_iface_log_stacked(const char *ifname, __u32 flags);
/* Logs what XB_IF_NF_PREROUTING* in flags mean for the device's packets. */
void xb_iface_log_netfilter(const char *ifname, __u32 flags);

#endif
