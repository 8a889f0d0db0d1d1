/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Datapath configuration and counters, as pinned map keys and values. */
#ifndef XFRMBPF_DATAPATH_H
#define XFRMBPF_DATAPATH_H

#include <linux/types.h>
#include "limits.h"
#include "reasons.h"
#include "spd.h"

/* xb_iface_cfg.flags */
enum {
	XB_IF_XDP		= 1 << 0,	/* XDP program attached */
	XB_IF_STEER		= 1 << 1,	/* TC steering enabled */
	XB_IF_DISABLE_POLICY4	= 1 << 2,	/* net.ipv4.conf.DEV.disable_policy */
	XB_IF_DISABLE_POLICY6	= 1 << 3,	/* net.ipv6.conf.DEV.disable_policy */
	/* The daemon created the clsact qdisc: `unload` may delete it once
	 * nothing else is on it. Not read by the datapath. */
	XB_IF_OWN_CLSACT	= 1 << 4,
};

/* Value of xb_ifaces, keyed by ifindex (__u32). */
struct xb_iface_cfg {
	__u32 flags;
	__u32 mtu;
	/* This interface's row of xb_stats (below): an array row costs
	 * the datapath no hash lookup per packet. */
	__u32 stats_slot;
};

/* Key of xb_bypass: traffic to this local port is never dropped inbound. */
struct xb_bypass_key {
	__u8 proto;		/* IPPROTO_UDP / IPPROTO_TCP */
	__u8 pad;
	__be16 port;
};

/* Per-CPU counter: xb_stats (by XB_STATS_KEY()), xb_policy_stats (by
 * policy id). */
struct xb_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * xb_stats is one per-CPU array of struct xb_counter in rows of XB_R_MAX,
 * one counter per reason, so that a packet costs one lookup for its
 * reason and its device. Per-reason totals are the sum of all rows; an
 * interface's counters are its row (user/stats.h derives rx, passed,
 * dropped and steered from it).
 *
 * Rows 0 .. XB_MAX_IFACES - 1: xb_iface_cfg.stats_slot of an attached
 * device. XB_STATS_ROW_OTHER: packets of devices without a slot.
 * XB_STATS_ROW_RETIRED: what earlier holders of a reused slot counted,
 * folded in by userspace when the slot changes hands so that the totals
 * never go backwards; the datapath never writes it.
 */
#define XB_STATS_ROW_OTHER	XB_MAX_IFACES
#define XB_STATS_ROW_RETIRED	(XB_MAX_IFACES + 1)
#define XB_STATS_ROWS		(XB_MAX_IFACES + 2)
#define XB_STATS_ENTRIES	(XB_STATS_ROWS * XB_R_MAX)
#define XB_STATS_KEY(row, reason)	((row) * XB_R_MAX + (reason))

/* What a parsed packet is to the datapath (xb_flow_key.kind). */
enum xb_pkt_kind {
	XB_PK_PLAIN = 0,	/* policy lookup */
	XB_PK_IPSEC,		/* ESP, AH or NAT-T ESP: SPI lookup when local,
				 * plaintext (proto 50/51/UDP) in transit */
};

/*
 * Key of the per-CPU LRU exact-flow cache xb_flow_cache: everything the
 * XDP verdict depends on that comes with the packet. The rest (SPD, SAs,
 * defaults, routes, device settings, bypass ports) is covered by the
 * generation and flow epoch the value was computed under.
 */
struct xb_flow_key {
	union xb_addr saddr;
	union xb_addr daddr;
	__be16 sport;
	__be16 dport;
	__be32 spi;		/* IPsec packets: the SPI looked up */
	__u32 ifindex;		/* ingress device: route and settings */
	__u16 family;
	__u8 proto;
	__u8 kind;		/* enum xb_pkt_kind */
};

/* Value of xb_flow_cache: the XDP verdict of the flow, valid only while
 * xb_sync's generation and flow_epoch are the ones it was computed in. */
struct xb_flow_val {
	__u64 generation;
	__u32 flow_epoch;
	__u32 policy_id;	/* XB_NO_POLICY when none matched */
	__u8 reason;		/* enum xb_reason */
	__u8 stats_slot;	/* xb_iface_cfg.stats_slot of the ingress */
	__u8 pad[2];
};

#define XB_NO_POLICY	0xffffffffu

#endif
