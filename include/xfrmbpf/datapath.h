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
	/* XDP runs in skb (generic) mode, or may: it then sees tunnel-mode
	 * ESP again once decrypted, when the secpath satisfies templates
	 * the datapath cannot check, so "requires IPsec" never drops. */
	XB_IF_GENERIC		= 1 << 5,
	/* The device is a port (bridge, bond, team, VRF) or carries
	 * macvlan/ipvlan devices: its packets are another device's to the
	 * kernel, so the datapath passes them all. */
	XB_IF_STACKED		= 1 << 6,
	/* Netfilter hooks other than conntrack's sit on prerouting (NAT,
	 * mangle, raw or filter chains, user/loader/nf_hooks.h) for IPv4 or
	 * IPv6: they may rewrite or drop a packet before the XFRM lookup, so
	 * the datapath passes that family's packets. Set on every device:
	 * the hooks are the netns'. */
	XB_IF_NF_PREROUTING4	= 1 << 7,
	XB_IF_NF_PREROUTING6	= 1 << 8,
	/* A tc classifier on the device's ingress (clsact or ingress qdisc)
	 * or a tcx ingress program that is not our steering filter
	 * (user/loader/tc_filters.h): it runs after XDP and may rewrite,
	 * redirect, re-mark or drop any packet, so the datapath passes all
	 * of the device's packets. */
	XB_IF_TC_INGRESS	= 1 << 9,
	/* A netfilter hook on the device's ingress (a netdev-family base
	 * chain, an inet-family ingress chain, a flowtable,
	 * user/loader/nf_hooks.h): it runs after tc and before IP receive,
	 * with the same powers, so all of the device's packets pass. */
	XB_IF_NF_INGRESS	= 1 << 10,
	/* The device has VLAN devices on it and VLAN tags may reach the
	 * kernel outside the frame XDP sees (stripped by the NIC, rx-vlan
	 * offload; a veth peer that hands them over as metadata; skb-mode
	 * XDP): an untagged-looking frame may be a VLAN device's, so the
	 * datapath passes all of the device's packets (cause vlan). */
	XB_IF_VLAN_BLIND	= 1 << 11,
	/* More VLAN devices than xb_iface_cfg.vlans holds: the tags of
	 * those left out pass (cause vlan). For `status`; not read by the
	 * datapath. */
	XB_IF_VLANS_TRUNCATED	= 1 << 12,
	/* `run --spread-esp`: known-SPI ESP for this host is redirected to
	 * its SA's CPU (xb_spread_cpus). Native XDP only: a redirect from
	 * generic XDP into a cpumap reaches IP at the Ethernet header on
	 * Linux 6.12 (user/loader/iface_cfg.c). */
	XB_IF_SPREAD		= 1 << 13,
};

/* What of a device's XB_IF_* a VLAN device on it has of its own
 * (xb_iface_vlan.flags): the kernel receives a tagged frame on the VLAN
 * device (vlan_do_receive), which then has its own tc and netfilter
 * ingress, upper devices, disable_policy and input routing. The attached
 * device's tc and netfilter ingress still run first. */
#define XB_IF_VLAN_OWN	(XB_IF_DISABLE_POLICY4 | XB_IF_DISABLE_POLICY6 |	\
			 XB_IF_STACKED | XB_IF_NF_PREROUTING4 |		\
			 XB_IF_NF_PREROUTING6 | XB_IF_TC_INGRESS |		\
			 XB_IF_NF_INGRESS)
/* ... and what of the attached device's applies to its tagged frames as
 * well (its ingress hooks, its XDP mode; stacked: conservatively). */
#define XB_IF_VLAN_PARENT (XB_IF_XDP | XB_IF_STEER | XB_IF_GENERIC |	\
			   XB_IF_STACKED | XB_IF_TC_INGRESS |		\
			   XB_IF_NF_INGRESS | XB_IF_VLAN_BLIND)

/* VLAN devices of one attached device that xb_iface_cfg holds; the tags
 * of others pass (XB_IF_VLANS_TRUNCATED). */
#define XB_MAX_IF_VLANS		32
/* xb_iface_vlan.tag: the VID, with this bit for an 802.1ad (S-)tag. */
#define XB_VLAN_TAG_AD		0x8000
#define XB_VLAN_VID_MASK	0x0fff

/* A VLAN device on an attached device, up, in the same netns: the device
 * the kernel receives frames with its tag on. */
struct xb_iface_vlan {
	__u32 ifindex;		/* the VLAN device: input of the FIB lookup */
	__u32 flags;		/* its own XB_IF_VLAN_OWN settings */
	__u16 tag;		/* VID | XB_VLAN_TAG_AD */
	__u16 pad;
};

/* Value of xb_ifaces, keyed by ifindex (__u32). */
struct xb_iface_cfg {
	__u32 flags;
	__u32 mtu;
	/* This interface's row of xb_stats (below): an array row costs
	 * the datapath no hash lookup per packet. */
	__u32 stats_slot;
	/* The device's VLAN devices, vlans[0 .. n_vlans - 1], by tag
	 * (user/loader/vlan.h): one update of the entry replaces them with
	 * the device's flags, so a packet sees one or the other. */
	__u32 n_vlans;
	struct xb_iface_vlan vlans[XB_MAX_IF_VLANS];
};

/* Key of xb_bypass: traffic to this local port is never dropped inbound. */
struct xb_bypass_key {
	__u8 proto;		/* IPPROTO_UDP / IPPROTO_TCP */
	__u8 kind;		/* XB_BYPASS_* */
	__be16 port;
};

/* xb_bypass_key.kind */
enum {
	/* a local port never dropped inbound (IKE, `--bypass-port`) */
	XB_BYPASS_PORT = 0,
	/* a UDP socket holds this port (the NAT-T port, 4500): the kernel
	 * decapsulates ESP in UDP there, so an unknown SPI is dropped. With
	 * no socket it is plain UDP to the kernel (port unreachable, or an
	 * IN policy), and to the datapath. The daemon keeps it current. */
	XB_BYPASS_ENCAP_SOCKET = 1,
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
 * interface's counters are its row (user/loader/stats.h derives rx, passed,
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
 * A flow as the exact-flow cache xb_flow_cache knows it: everything the
 * XDP verdict depends on that comes with the packet. The rest (SPD, SAs,
 * defaults, routes, device settings, bypass ports) is covered by the
 * generation and flow epoch the verdict was computed under. 56 bytes, no
 * implicit padding: it is hashed and compared as seven 64-bit words
 * (xb_flow_words).
 */
struct xb_flow_key {
	union xb_addr saddr;
	union xb_addr daddr;
	__be16 sport;
	__be16 dport;
	__be32 spi;		/* IPsec packets: the SPI looked up */
	__u32 ifindex;		/* ingress device as the kernel has it (the
				 * VLAN device of a tagged frame): route and
				 * settings */
	__u16 family;
	__u8 proto;
	__u8 kind;		/* enum xb_pkt_kind */
	/* The DS field, and for IPv6 the flow label, without the ECN bits:
	 * ip rules and routes by tos, dscp or flowlabel make the route (IN
	 * or FWD) depend on them; no kernel routes by ECN (struct xb_pkt). */
	__be32 flowinfo;
	__u32 pad;
} __attribute__((aligned(8)));

/* The XDP verdict of a cached flow, valid only while xb_sync's generation
 * and flow_epoch are the ones it was computed in. */
struct xb_flow_val {
	__u64 generation;
	__u32 flow_epoch;
	__u32 policy_id;	/* XB_NO_POLICY when none matched */
	__u8 reason;		/* enum xb_reason */
	__u8 stats_slot;	/* xb_iface_cfg.stats_slot of the ingress */
	__u8 cause;		/* enum xb_undecidable_cause, when undecidable */
	__u8 pad;
};

#define XB_NO_POLICY	0xffffffffu

/*
 * A slot of the flow cache, a per-CPU array of 2^bits slots (limits.h): a
 * flow lives in the slot its hash picks (direct-mapped, like Open
 * vSwitch's exact-match cache), and a newer flow of the same slot replaces
 * it. A hit costs a hash, an array access and a compare instead of a hash
 * table's bucket walk, and a store never allocates or evicts.
 *
 * check is xb_flow_check() of the rest, written last: a packet that
 * interrupts a store on the same CPU (a softirq over a test run, a task
 * preempting another's) could otherwise leave one flow's key beside
 * another's verdict. An entry whose check does not match is a miss.
 */
struct xb_flow_entry {
	struct xb_flow_key key;
	struct xb_flow_val val;
	__u64 check;
};

/*
 * Value of xb_flow_cache: XB_FLOW_BLOCK slots, slot s in entry
 * s / XB_FLOW_BLOCK. Blocks, because a per-CPU array finds an entry's
 * memory through an array of one pointer an entry: with an entry a slot,
 * that array is 512 KiB read at random, and it missed the CPU's caches as
 * often as the slot itself did (two misses in a row for every new flow,
 * the costliest instructions of the program); with blocks of 32 it is
 * 16 KiB.
 */
struct xb_flow_block {
	struct xb_flow_entry slot[XB_FLOW_BLOCK];
};

/*
 * Value of xb_flow_tags, beside xb_flow_cache: the tag (xb_flow_tag()) of
 * the key stored in each slot of a block, written after the slot. A
 * packet reads its slot's tag first, and the slot only when the tag is its
 * key's: a new flow, which finds another flow's entry in its slot or
 * none, reads 2 bytes of a CPU's 128 KiB of tags instead of 88 of its
 * megabytes of entries, until its verdict is stored. A
 * tag only says where not to look: the entry is still compared whole, and
 * a tag left stale (a store cut short) costs a miss, never a wrong
 * verdict.
 */
struct xb_flow_tags {
	__u16 tag[XB_FLOW_BLOCK];
};
_Static_assert((1U << XB_FLOW_CACHE_MIN_BITS) % XB_FLOW_BLOCK == 0,
	       "every flow cache size is whole blocks");

/* A flow key as words; may_alias: the key is written field by field. */
typedef __u64 __attribute__((__may_alias__)) xb_flow_word;
#define XB_FLOW_WORDS	(sizeof(struct xb_flow_key) / sizeof(__u64))

static inline const xb_flow_word *xb_flow_words(const struct xb_flow_key *k)
{
	return (const xb_flow_word *)k;
}

/* Value of xb_flow_stats (a per-CPU array of one): how often a packet
 * that looked in the flow cache found its verdict there. A miss (absent,
 * another flow in the slot, or stale) goes on to the full decision. */
struct xb_flow_stats {
	__u64 hits;
	__u64 misses;
};

/* The flow's slot hash: multiply-xor of the key's seven words. */
static inline __u64 xb_flow_hash(const struct xb_flow_key *k)
{
	const xb_flow_word *w = xb_flow_words(k);
	__u64 h;

	h = w[0] * 0x9e3779b97f4a7c15ULL;
	h ^= w[1] * 0xc2b2ae3d27d4eb4fULL;
	h ^= w[2] * 0x165667b19e3779f9ULL;
	h ^= w[3] * 0xd6e8feb86659fd93ULL;
	h ^= w[4] * 0x94d049bb133111ebULL;
	h ^= w[5] * 0xbf58476d1ce4e5b9ULL;
	h ^= w[6] * 0xd1b54a32d192ed03ULL;
	h ^= h >> 29;
	return h * 0x9e3779b97f4a7c15ULL;
}

/* The slot of a hash in a cache of 2^bits slots. */
static inline __u32 xb_flow_slot(__u64 hash, __u32 bits)
{
	return (__u32)(hash >> (64 - bits));
}

/* The tag of a key of hash `hash` in xb_flow_tags: bits the slot (the top
 * XB_FLOW_CACHE_BITS at most) does not use. */
static inline __u16 xb_flow_tag(__u64 hash)
{
	return (__u16)(hash >> 32);
}

/* What xb_flow_entry.check holds for a key of hash `hash` and a verdict. */
static inline __u64 xb_flow_check(__u64 hash, __u64 generation,
				  __u32 flow_epoch, __u32 policy_id,
				  __u8 reason, __u8 cause, __u8 stats_slot)
{
	__u64 c;

	c = hash ^ generation * 0xc2b2ae3d27d4eb4fULL;
	c ^= ((__u64)flow_epoch << 32 | policy_id) * 0x165667b19e3779f9ULL;
	c ^= ((__u64)cause << 16 | (__u64)reason << 8 | stats_slot) *
	     0xd6e8feb86659fd93ULL;
	return c ^ (c >> 31);
}

/* Value of xb_trace, the one-entry array of a dry-run instance of the
 * datapath (`xfrmbpf classify`): the decision on the last packet it ran. */
struct xb_trace {
	__u32 policy_id;	/* XB_NO_POLICY when none decided */
	__u8 reason;		/* enum xb_reason */
	__u8 cause;		/* enum xb_undecidable_cause, when undecidable */
	__u8 flow;		/* 0 decided before the flow cache, 1 hit, 2 miss */
	__u8 pad;
};

/*
 * Value of xb_md_handoff, a one-entry per-CPU array of the datapath object
 * (not pinned): tc ingress steering leaves it for the collect_md device's
 * tc egress program (bpf/md_egress.bpf.h). The redirect runs on the same
 * CPU right after the ingress program returns, so the packet it describes
 * is the next one that CPU sends through the device; the header copy tells
 * it from any other (the kernel's own) that might come first.
 */
struct xb_md_handoff {
	__u32 pending;		/* 1 from the redirect until the egress took it */
	__u32 if_id;		/* of the flow's OUT policy */
	__u32 ingress_ifindex;	/* skb->ingress_ifindex at egress */
	__u32 len;		/* skb->len without the Ethernet header */
	__u32 iph[5];		/* its IPv4 header (no options), TTL decremented */
	/* a per-CPU value is copied out in 8-byte steps: the array of them
	 * that userspace reads must have the same stride */
	__u32 pad;
};

#endif
