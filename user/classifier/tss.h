/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Userspace side of the tuple-space search (include/xfrmbpf/tss.h): keeps,
 * for every view, the shapes and buckets of the mirrored policies, and
 * emits the map changes that make the published xb_tss / xb_shape_lists
 * equal to it. Incremental: adding or deleting one policy touches only its
 * buckets and, when the shape order changes, its shape list.
 *
 * It also holds the reader's side: xb_tss_lookup() searches a published
 * state exactly as the datapath must (the tests check it against the
 * reference classifier, classify_ref.h), and an in-memory published state
 * (struct xb_tss_mem) for tests and offline use.
 *
 * What the datapath must do, besides the plain search (kernel functions in
 * net/xfrm/xfrm_policy.c, checked against Linux 6.1 and 6.18):
 *  - Equal priorities: the kernel's tie-break (pos, hash-chain order) is not
 *    fully visible from netlink (see tss.c), so two matches of the best
 *    priority with different outcomes (verdict, or if_id in the OUT view)
 *    make the list's result undecidable. A bucket holding such a tie is
 *    published with verdict XB_V_UNDECIDABLE.
 *  - A matching sub policy that allows makes __xfrm_policy_check() look up
 *    the main policy too, and always in direction XFRM_POLICY_IN, also for
 *    forwarded packets: use the IN view's main list.
 *  - FWD, no policy at all, ICMP error (v4 type 3/11, v6 type 1/2/3): newer
 *    kernels (xfrm_in_fwd_icmp) look the policy up for the inner packet:
 *    undecidable.
 *  - xb_shape_list.overflow == 1 (too many shapes, or a packet-offload
 *    policy in the list): the list is undecidable.
 */
#ifndef XFRMBPF_TSS_BUILD_H
#define XFRMBPF_TSS_BUILD_H

#include <stdbool.h>
#include "xfrmbpf/spd.h"
#include "xfrmbpf/tss.h"

struct xb_tss;

/* Where changes go: the BPF maps in production, memory in tests. */
struct xb_tss_sink {
	int (*put_entry)(void *ctx, const struct xb_tss_key *key,
			 const struct xb_tss_val *val);
	int (*del_entry)(void *ctx, const struct xb_tss_key *key);
	int (*put_list)(void *ctx, __u32 list_idx,
			const struct xb_shape_list *list);
	void *ctx;
};

struct xb_tss *xb_tss_new(void);
void xb_tss_free(struct xb_tss *tss);

/* pol->id (below XB_MAX_POLICIES) and pol->pos must be set (the mirror
 * assigns them). What the search needs is copied; the policy is identified
 * by pol->id afterwards. Returns -EEXIST for a known id, -EINVAL for an id
 * out of range or a selector the kernel would refuse. */
int xb_tss_add(struct xb_tss *tss, const struct xb_policy *pol);
int xb_tss_del(struct xb_tss *tss, __u32 policy_id);

/*
 * Send every change since the last flush to the sink: new and changed
 * buckets, then changed shape lists, then deleted buckets. A failed sink
 * call does not stop the flush; the first error is returned, and the
 * published state is then unknown: clear the maps, call
 * xb_tss_forget_published() and flush again.
 */
int xb_tss_flush(struct xb_tss *tss, const struct xb_tss_sink *sink);

/* Treat the published state as empty: the next flush writes everything. */
void xb_tss_forget_published(struct xb_tss *tss);

/* Number of shape lists that overflowed XB_MAX_SHAPES. */
unsigned int xb_tss_overflows(const struct xb_tss *tss);
/* Number of shape lists made undecidable by packet-offload policies. */
unsigned int xb_tss_offload_lists(const struct xb_tss *tss);

/* --- Reading a published state ------------------------------------- */

/* A plaintext flow as the kernel's selector sees it (decode_session, then
 * xfrm_flowi_sport/dport): addresses and ports in network order, IPv4 in
 * a[0]. Ports for TCP, UDP, UDP-Lite, SCTP only; ICMP/ICMPv6: htons(type)
 * in sport, htons(code) in dport; GRE: the key's high/low 16 bits; MH: the
 * type in sport; every other protocol (DCCP and ESP included): 0, 0. */
struct xb_flow {
	union xb_addr saddr;
	union xb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u16 family;		/* AF_INET / AF_INET6 */
	__u8 proto;
	__u8 pad;
	__u32 mark;		/* 0 for plaintext at XDP */
	__u32 if_id;		/* 0 for plaintext on a NIC */
};

/* Plaintext input decision (IN, FWD). */
struct xb_decision {
	__u8 reason;		/* enum xb_reason */
	__u8 overflow;		/* a consulted list was overflowed */
	__u8 pad[2];
	__u32 policy_id;	/* deciding policy, XB_NO_POLICY when none */
};

/* Steering: the best OUT policy for mark 0, any if_id. */
struct xb_steer {
	bool undecidable;
	bool found;
	__u8 verdict;		/* enum xb_verdict of the policy */
	__u8 overflow;
	__u32 policy_id;	/* XB_NO_POLICY when not found */
	__u32 if_id;
};

/* The best bucket hit of one shape list for one flow. */
struct xb_list_result {
	bool found;
	bool undecidable;	/* overflow, conflicting tie, undecidable verdict */
	bool overflow;
	struct xb_tss_val val;	/* the (priority, pos, id)-least hit */
};

/* Read access to a published state (maps, or struct xb_tss_mem). Both
 * return 0, or -ENOENT for a missing entry. */
struct xb_tss_source {
	int (*get_entry)(void *ctx, const struct xb_tss_key *key,
			 struct xb_tss_val *val);
	int (*get_list)(void *ctx, __u32 list_idx, struct xb_shape_list *list);
	void *ctx;
};

/* The datapath's search of one list: shapes in order, stop when a shape's
 * best priority is above the best found. */
int xb_tss_search_list(const struct xb_tss_source *src, __u32 list_idx,
		       const struct xb_flow *fl, struct xb_list_result *res);

/* Plaintext arriving on a NIC (mark 0, if_id 0), dir XFRM_POLICY_IN or
 * XFRM_POLICY_FWD; default_action[] indexed by dir (XB_DEFAULT_*). */
int xb_tss_lookup(const struct xb_tss_source *src, __u8 dir,
		  const struct xb_flow *fl, const __u8 default_action[4],
		  struct xb_decision *d);

/* OUT steering: sub before main, mark 0, any if_id. */
int xb_tss_lookup_steer(const struct xb_tss_source *src,
			const struct xb_flow *fl, struct xb_steer *s);

/* Masks a flow into the key of one shape: what the datapath looks up. */
void xb_tss_flow_key(struct xb_tss_key *key, __u32 list_idx,
		     const struct xb_shape *shape, const struct xb_flow *fl);

/* --- In-memory published state --------------------------------------- */

struct xb_tss_mem;

struct xb_tss_mem_stats {
	unsigned long puts;
	unsigned long dels;
	unsigned long list_puts;
};

struct xb_tss_mem *xb_tss_mem_new(void);
void xb_tss_mem_free(struct xb_tss_mem *mem);
/* A sink that writes into mem (del of a missing key fails with -ENOENT,
 * as on a BPF hash map) and a source that reads it. */
void xb_tss_mem_sink(struct xb_tss_mem *mem, struct xb_tss_sink *sink);
void xb_tss_mem_source(struct xb_tss_mem *mem, struct xb_tss_source *src);
size_t xb_tss_mem_count(const struct xb_tss_mem *mem);
void xb_tss_mem_get_stats(const struct xb_tss_mem *mem,
			  struct xb_tss_mem_stats *stats);
/* Calls fn for every entry (any order); stops at a non-zero return. */
int xb_tss_mem_for_each(const struct xb_tss_mem *mem,
			int (*fn)(void *arg, const struct xb_tss_key *key,
				  const struct xb_tss_val *val),
			void *arg);

#endif
