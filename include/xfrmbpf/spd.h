/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The mirrored SPD: policies and their templates as pinned map values.
 * Field meanings follow struct xfrm_userpolicy_info / xfrm_user_tmpl; all
 * addresses and ports are in network byte order, IPv4 in a[0].
 */
#ifndef XFRMBPF_SPD_H
#define XFRMBPF_SPD_H

#include <linux/types.h>

union xb_addr {
	__u32 a[4];
	__u8 b[16];
};

struct xb_selector {
	union xb_addr daddr;
	union xb_addr saddr;
	__be16 dport;
	__be16 dport_mask;
	__be16 sport;		/* ICMP: type */
	__be16 sport_mask;
	__u16 family;		/* AF_INET, AF_INET6, 0 = any */
	__u8 prefixlen_d;
	__u8 prefixlen_s;
	__u8 proto;		/* 0 = any */
	__u8 pad[3];
	__s32 ifindex;		/* 0 = any */
	__u32 user;
};

/* xb_policy.xb_flags: what the mirror derived or cannot mirror. */
enum {
	/* A non-optional template: plaintext matching it is rejected by the
	 * kernel on input (XfrmInTmplMismatch). */
	XB_POL_REQUIRES_IPSEC	= 1 << 0,
	/* XFRMA_SEC_CTX present: an LSM decides; the datapath cannot. */
	XB_POL_SEC_CTX		= 1 << 1,
	/* Offloaded policy (XFRMA_OFFLOAD_DEV). */
	XB_POL_OFFLOAD		= 1 << 2,
};

/* A mirrored policy (in xb_policies as struct xb_policy_rec.pol). */
struct xb_policy {
	struct xb_selector sel;
	__u32 id;		/* mirror's slot: per-policy counter index */
	__u32 index;		/* kernel policy index (unique per netns) */
	__u32 priority;		/* lower wins */
	__u32 pos;		/* insertion order: the kernel's tie-break */
	__u32 mark_v;
	__u32 mark_m;
	__u32 if_id;
	__u8 dir;		/* XFRM_POLICY_IN / OUT / FWD */
	__u8 type;		/* XFRM_POLICY_TYPE_MAIN / SUB */
	__u8 action;		/* XFRM_POLICY_ALLOW / BLOCK */
	__u8 flags;		/* XFRM_POLICY_LOCALOK / ICMP */
	__u8 share;
	__u8 n_tmpls;
	__u8 xb_flags;		/* XB_POL_* */
	__u8 pad;
};

/* Key of the pinned map xb_tmpls: the templates after a policy's first
 * (idx >= 1; the first is xb_policy_rec.tmpl). */
struct xb_tmpl_key {
	__u32 policy_id;
	__u32 idx;		/* order as in XFRMA_TMPL */
};

/* Value of xb_tmpls: a template's identity (no algorithms, no keys). */
struct xb_tmpl {
	union xb_addr daddr;
	union xb_addr saddr;
	__be32 spi;
	__u32 reqid;
	__u16 family;
	__u8 proto;		/* IPPROTO_ESP / AH / COMP */
	__u8 mode;		/* XFRM_MODE_* */
	__u8 share;
	__u8 optional;		/* "level use" */
	__u8 pad[2];
};

/*
 * A mirrored policy and its first template, valid when pol.n_tmpls > 0
 * (zero otherwise). Most policies have one template; keeping it here
 * instead of in xb_tmpls saves a hash element per policy.
 */
struct xb_policy_rec {
	struct xb_policy pol;
	struct xb_tmpl tmpl;
};

/*
 * Value of the pinned map xb_policies, keyed by page: the records of ids
 * page * XB_POLICY_PAGE_RECS .. + XB_POLICY_PAGE_RECS - 1, a bit of
 * present each. Not one element per policy: a hash element carries 64
 * bytes of the kernel's own (struct htab_elem, the llist node of its
 * allocator) and is allocated from the kmalloc size classes, so a
 * 140-byte record took a 256-byte object. Fourteen records and this
 * header fill a 2048-byte one: 146 bytes a policy while pages are full,
 * and the mirror hands out ids from the lowest free one.
 */
#define XB_POLICY_PAGE_RECS	14

struct xb_policy_page {
	__u16 present;		/* bit i: rec[i] holds a policy */
	__u16 pad[3];
	struct xb_policy_rec rec[XB_POLICY_PAGE_RECS];
};

/* Pages of xb_policies for n policy ids. */
#define XB_POLICY_PAGES(n)	(((n) + XB_POLICY_PAGE_RECS - 1) / XB_POLICY_PAGE_RECS)

static inline __u32 xb_policy_page_of(__u32 id)
{
	return id / XB_POLICY_PAGE_RECS;
}

static inline __u32 xb_policy_page_slot(__u32 id)
{
	return id % XB_POLICY_PAGE_RECS;
}

/* The id of slot `slot` of page `page`. */
static inline __u32 xb_policy_page_id(__u32 page, __u32 slot)
{
	return page * XB_POLICY_PAGE_RECS + slot;
}

/* Whether slot `slot` of a page holds a policy. */
static inline int xb_policy_page_holds(const struct xb_policy_page *p, __u32 slot)
{
	return p->present >> slot & 1;
}

#endif
