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

/* A mirrored policy (published as struct xb_policy_rec and, where it has
 * one, struct xb_policy_scope). */
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
 * (idx >= 1; the first is in xb_tmpl_pages). */
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

/* The memory of an element of a (BPF_F_NO_PREALLOC) hash map: the
 * kernel's 56 bytes (struct htab_elem and the llist node of its
 * allocator), the key and the value, each rounded up to 8 bytes; kmalloc
 * rounds the whole up to its size class. */
#define XB_HTAB_ELEM_BYTES(key, val) \
	(56 + (((key) + 7) & ~7UL) + (((val) + 7) & ~7UL))

/*
 * Pages: the pinned maps xb_policies, xb_scope_pages and xb_tmpl_pages
 * hold one record per mirror id, in pages of ids keyed by page: page p
 * holds ids p * RECS .. p * RECS + RECS - 1 (RECS records a page, per
 * map), the record of id in rec[id % RECS] while bit id % RECS of present is set.
 * Not one element per record: each element carries 56 bytes of the
 * kernel's own and is allocated from the kmalloc size classes, so a
 * 140-byte record took a 256-byte object. A page fills a 2048-byte
 * (xb_scope_pages: 1024-byte) object, and the mirror hands out ids from
 * the lowest free one, so that pages fill.
 */

static inline __u32 xb_page_of(__u32 id, __u32 recs)
{
	return id / recs;
}

static inline __u32 xb_page_slot(__u32 id, __u32 recs)
{
	return id % recs;
}

/* The id of slot `slot` of page `page`. */
static inline __u32 xb_page_id(__u32 page, __u32 slot, __u32 recs)
{
	return page * recs + slot;
}

/* Whether a page's present bits have slot `slot`. */
static inline int xb_page_holds(__u64 present, __u32 slot)
{
	return present >> slot & 1;
}

/* Record `slot` of a page of rec_size-byte records: every page is its
 * present bits, then its records (asserted below for each kind). */
static inline void *xb_page_rec(void *page, __u32 slot, __u32 rec_size)
{
	return (char *)page + sizeof(__u64) + slot * rec_size;
}

/*
 * A policy as xb_policies holds it: struct xb_policy without what its
 * page and slot give (the id) and without its scope (struct
 * xb_policy_scope, in xb_scope_pages where a policy has one). 64 bytes
 * instead of 92: thirty to a 2048-byte page instead of 21.
 */
struct xb_policy_rec {
	union xb_addr daddr;	/* the selector's, as in struct xb_selector */
	union xb_addr saddr;
	__be16 dport;
	__be16 dport_mask;
	__be16 sport;
	__be16 sport_mask;
	__u32 index;
	__u32 priority;
	__u32 pos;
	__u16 family;
	__u8 prefixlen_d;
	__u8 prefixlen_s;
	__u8 proto;
	__u8 dir;
	__u8 type;
	__u8 action;
	__u8 flags;
	__u8 share;
	__u8 n_tmpls;
	__u8 xb_flags;
};
_Static_assert(sizeof(struct xb_policy_rec) == 64, "struct xb_policy_rec: no padding");

/*
 * What narrows the packets a policy applies to beyond addresses, ports
 * and protocol: the selector's device and user, the mark and the if_id.
 * Most SPDs leave them all 0 (firewall-like rule sets always, an IKE
 * daemon's policies where it uses marks or XFRM interfaces), so they are
 * not in every record: a policy with any of them set has one in
 * xb_scope_pages, a policy without has none.
 */
struct xb_policy_scope {
	__s32 ifindex;
	__u32 user;
	__u32 mark_v;
	__u32 mark_m;
	__u32 if_id;
};

/* Value of xb_policies: 30 policies, 66 bytes each while pages are full. */
#define XB_POLICY_PAGE_RECS	30

struct xb_policy_page {
	__u64 present;
	struct xb_policy_rec rec[XB_POLICY_PAGE_RECS];
};
_Static_assert(XB_HTAB_ELEM_BYTES(sizeof(__u32), sizeof(struct xb_policy_page)) <= 2048,
	       "a page of xb_policies fills a 2048-byte object");

/* Value of xb_scope_pages: the scopes of 47 policies (22 bytes each), of
 * those that have one. */
#define XB_SCOPE_PAGE_RECS	47

struct xb_scope_page {
	__u64 present;
	struct xb_policy_scope scope[XB_SCOPE_PAGE_RECS];
};
_Static_assert(XB_HTAB_ELEM_BYTES(sizeof(__u32), sizeof(struct xb_scope_page)) <= 1024,
	       "a page of xb_scope_pages fills a 1024-byte object");

/*
 * Value of xb_tmpl_pages: the first template of 41 policies (50 bytes
 * each), of those that have one (xb_policy.n_tmpls > 0; the others are in
 * xb_tmpls). Not in the policy's record: firewall-like SPDs have no
 * templates, and would pay for one in every record (a third of it).
 */
#define XB_TMPL_PAGE_RECS	41

struct xb_tmpl_page {
	__u64 present;
	struct xb_tmpl tmpl[XB_TMPL_PAGE_RECS];
};
_Static_assert(XB_HTAB_ELEM_BYTES(sizeof(__u32), sizeof(struct xb_tmpl_page)) <= 2048,
	       "a page of xb_tmpl_pages fills a 2048-byte object");
_Static_assert(__builtin_offsetof(struct xb_policy_page, rec) == sizeof(__u64) &&
	       __builtin_offsetof(struct xb_scope_page, scope) == sizeof(__u64) &&
	       __builtin_offsetof(struct xb_tmpl_page, tmpl) == sizeof(__u64),
	       "a page is its present bits, then its records (xb_page_rec())");
_Static_assert(XB_POLICY_PAGE_RECS <= 64 && XB_SCOPE_PAGE_RECS <= 64 &&
	       XB_TMPL_PAGE_RECS <= 64, "present: 64 bits");

/* Pages of xb_policies, xb_scope_pages and xb_tmpl_pages for n policy
 * ids. */
#define XB_POLICY_PAGES(n)	(((n) + XB_POLICY_PAGE_RECS - 1) / XB_POLICY_PAGE_RECS)
#define XB_SCOPE_PAGES(n)	(((n) + XB_SCOPE_PAGE_RECS - 1) / XB_SCOPE_PAGE_RECS)
#define XB_TMPL_PAGES(n)	(((n) + XB_TMPL_PAGE_RECS - 1) / XB_TMPL_PAGE_RECS)

#endif
