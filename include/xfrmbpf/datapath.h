/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Datapath configuration and counters, as pinned map keys and values. */
#ifndef XFRMBPF_DATAPATH_H
#define XFRMBPF_DATAPATH_H

#include <linux/types.h>
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
	/* Index of this interface's counters in xb_iface_stats: an array
	 * slot costs the datapath no hash lookup per packet. */
	__u32 stats_slot;
};

/* Key of xb_bypass: traffic to this local port is never dropped inbound. */
struct xb_bypass_key {
	__u8 proto;		/* IPPROTO_UDP / IPPROTO_TCP */
	__u8 pad;
	__be16 port;
};

/* Per-CPU counter: xb_reason_stats (by enum xb_reason), xb_policy_stats
 * (by policy id), xb_iface_stats (by ifindex). */
struct xb_counter {
	__u64 packets;
	__u64 bytes;
};

/* Per-interface counters: value of the per-CPU array xb_iface_stats,
 * indexed by xb_iface_cfg.stats_slot. */
struct xb_iface_stats {
	__u64 rx_packets;
	__u64 passed;
	__u64 dropped;
	__u64 steered;
};

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
