/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The VLAN devices of an attached device, as the kernel receives tagged
 * frames on them (vlan_do_receive): their tags and ifindexes from an
 * rtnetlink link dump (IFLA_LINK, IFLA_LINKINFO kind "vlan",
 * IFLA_VLAN_ID, IFLA_VLAN_PROTOCOL), and whether XDP on the device can
 * see every tag in the frame at all (rx-vlan offload strips them; a veth
 * gets them from its peer as metadata when the peer's tx-vlan offload is
 * on; an skb-mode program may be given skbs that carry them beside the
 * frame). iface_cfg.c turns this into xb_iface_cfg.vlans and
 * XB_IF_VLAN_BLIND at attach and every heartbeat.
 */
#ifndef XFRMBPF_VLAN_H
#define XFRMBPF_VLAN_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>
#include "xfrmbpf/datapath.h"

/* One VLAN device on the device, up, in this network namespace. */
struct xb_vlan_upper {
	int ifindex;
	char name[IF_NAMESIZE];
	__u16 tag;		/* VID | XB_VLAN_TAG_AD */
};

struct xb_vlan_info {
	/* By VID (a priority-tag device, VID 0, first): at most
	 * XB_MAX_IF_VLANS of them. */
	struct xb_vlan_upper uppers[XB_MAX_IF_VLANS];
	int n;
	int n_up;		/* VLAN devices up on it, beyond the table too */
	/* Tags may reach the kernel outside the frame XDP sees while VLAN
	 * devices are up on it; why, for the log. */
	bool blind;
	const char *blind_why;
};

/* Reads the VLAN devices on ifindex; generic: its XDP program runs (or
 * may run) in skb mode. Returns 0, or -errno when the links could not be
 * read (then *vi says blind when that cannot be ruled out). */
int xb_vlan_read(int ifindex, bool generic, struct xb_vlan_info *vi);

#endif
