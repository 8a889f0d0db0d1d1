/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The published policy tables of a tuple-space search: user/classifier
 * builds them, the datapath searches them (bpf/search.bpf.h).
 *
 * Each view (see enum xb_view) holds the policies that can decide a packet
 * the datapath sees there. Policies are grouped by mask shape (prefix
 * lengths, proto wildcard, port masks); each shape is one exact-match
 * lookup of the packet's masked 5-tuple in xb_tss. Shape lists are sorted
 * by the best (lowest) priority in the shape, so the search stops as soon
 * as no later shape can beat the best match found.
 */
#ifndef XFRMBPF_TSS_H
#define XFRMBPF_TSS_H

#include <linux/types.h>
#include "limits.h"
#include "spd.h"

/*
 * Views. Plaintext on a physical NIC has mark 0 and if_id 0, so the IN and
 * FWD views hold only policies with if_id 0 whose mark matches 0 (the
 * kernel tests (mark & m) == v, v unmasked: so v == 0). The OUT view, used
 * for steering forwarded flows, holds OUT policies whose mark matches 0,
 * whatever their if_id.
 */
enum xb_view {
	XB_VIEW_IN = 0,
	XB_VIEW_FWD = 1,
	XB_VIEW_OUT = 2,
	XB_VIEW_MAX
};

/* Sub policies are looked up before main ones, as the kernel does. */
enum xb_ptype_order {
	XB_PTYPE_SUB = 0,
	XB_PTYPE_MAIN = 1,
	XB_PTYPE_MAX
};

enum xb_family_idx {
	XB_FAM_V4 = 0,
	XB_FAM_V6 = 1,
	XB_FAM_MAX
};

#define XB_SHAPE_LISTS		(XB_VIEW_MAX * XB_PTYPE_MAX * XB_FAM_MAX)
#define XB_SHAPE_LIST_IDX(view, ptype, fam) \
	(((view) * XB_PTYPE_MAX + (ptype)) * XB_FAM_MAX + (fam))

struct xb_shape {
	__u32 best_priority;	/* lowest priority of any policy here */
	__u16 id;		/* shape id within its list, part of the key */
	__u8 prefixlen_s;
	__u8 prefixlen_d;
	__be16 sport_mask;
	__be16 dport_mask;
	__u8 proto_mask;	/* 0xff: proto must match; 0: any proto */
	__u8 pad[3];
};

/* Value of xb_shape_lists (array, XB_SHAPE_LISTS entries). */
struct xb_shape_list {
	__u32 count;
	__u32 overflow;		/* 1: undecidable (more shapes than fit, or
				 * a packet-offload policy in the list) */
	struct xb_shape shapes[XB_MAX_SHAPES];
};

/* Key of xb_tss: a packet's 5-tuple masked by one shape. */
struct xb_tss_key {
	__u8 list;		/* XB_SHAPE_LIST_IDX() */
	__u8 proto;
	__u16 shape_id;
	__be16 sport;
	__be16 dport;
	union xb_addr saddr;
	union xb_addr daddr;
};

/* xb_tss_val.verdict */
enum xb_verdict {
	XB_V_ALLOW = 0,		/* allow, no mandatory IPsec for plaintext */
	XB_V_BLOCK = 1,		/* action block */
	XB_V_REQUIRES_IPSEC = 2, /* allow with a non-optional template */
	XB_V_UNDECIDABLE = 3,	/* the kernel may decide otherwise: pass
				 * (also: a tie of the best priority with
				 * different outcomes in this bucket) */
};

/* Value of xb_tss: the policy that wins among those sharing the key, by
 * (priority, pos). Across shapes the datapath keeps the same order, and a
 * hit of the best priority whose verdict or if_id differs from the best's
 * makes the list undecidable: the kernel's tie-break is not visible from
 * netlink (user/classifier/tss.c explains). */
struct xb_tss_val {
	__u32 policy_id;
	__u32 priority;
	__u32 pos;
	__u32 if_id;
	__u8 verdict;		/* enum xb_verdict */
	__u8 pad[3];
};

/*
 * Presence filter in front of the tuple-space hash: per shape list a
 * bitmap of 2^XB_TSS_FILTER_BITS bits (array xb_tss_filter of __u64
 * words, list-major). Every published xb_tss key has its bit set, so a
 * clear bit proves the key absent and the probe is skipped: the bitmaps
 * (128 KiB a list) stay in the CPU caches where the hash table (one cache
 * miss for its bucket, one for its element) cannot. Bits of deleted keys
 * may stay set until the list is rebuilt: a false positive only costs the
 * probe it would have cost anyway.
 */
#define XB_TSS_FILTER_BITS	20
#define XB_TSS_FILTER_WORDS	(1U << (XB_TSS_FILTER_BITS - 6))	/* a list */
#define XB_TSS_FILTER_ENTRIES	(XB_SHAPE_LISTS * XB_TSS_FILTER_WORDS)

/* The key's bit within its list: a multiply-xor hash of the key as five
 * 64-bit lanes (the same in BPF and in the mirror). */
static inline __u32 xb_tss_filter_bit(const struct xb_tss_key *k)
{
	__u64 h;

	h = ((__u64)k->list | (__u64)k->proto << 8 | (__u64)k->shape_id << 16 |
	     (__u64)k->sport << 32 | (__u64)k->dport << 48) * 0x9e3779b97f4a7c15ULL;
	h ^= ((__u64)k->saddr.a[0] | (__u64)k->saddr.a[1] << 32) * 0xc2b2ae3d27d4eb4fULL;
	h ^= ((__u64)k->saddr.a[2] | (__u64)k->saddr.a[3] << 32) * 0x165667b19e3779f9ULL;
	h ^= ((__u64)k->daddr.a[0] | (__u64)k->daddr.a[1] << 32) * 0xd6e8feb86659fd93ULL;
	h ^= ((__u64)k->daddr.a[2] | (__u64)k->daddr.a[3] << 32) * 0x94d049bb133111ebULL;
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (__u32)(h >> (64 - XB_TSS_FILTER_BITS));
}

/* Where the key's bit is: word index in xb_tss_filter, and its mask. */
static inline __u32 xb_tss_filter_word(const struct xb_tss_key *k, __u64 *mask)
{
	__u32 bit = xb_tss_filter_bit(k);

	*mask = 1ULL << (bit & 63);
	return (__u32)k->list * XB_TSS_FILTER_WORDS + (bit >> 6);
}

#endif
