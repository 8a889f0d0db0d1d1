/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The classifier builder: turns the mirrored policies into the tables the
 * datapath searches (include/xfrmbpf/tss.h). It keeps, for every view, the
 * tables and buckets of the policies, and emits the map changes that make
 * the published xb_tss / xb_shape_lists equal to it. Incremental: adding
 * or deleting one policy touches only its bucket and, when the table order
 * changes, its shape list.
 *
 * Only the building is here. The datapath's search lives in bpf/; its
 * userspace replica, which the tests check against the reference
 * classifier, is in tests/lib/tss_reader.h.
 *
 * What the datapath must do, besides the plain search (kernel functions in
 * net/xfrm/xfrm_policy.c, checked against Linux 6.1 and 6.18):
 *  - Equal priorities: the kernel's tie-break (pos, hash-chain order) is not
 *    fully visible from netlink (see tss.c), so two matches of the best
 *    priority with different outcomes (verdict, or if_id in the OUT view)
 *    make the list's result undecidable.
 *  - A matching sub policy that allows makes __xfrm_policy_check() look up
 *    the main policy too, and always in direction XFRM_POLICY_IN, also for
 *    forwarded packets: use the IN view's main list.
 *  - FWD, no policy at all, ICMP error (v4 type 3/11, v6 type 1/2/3): newer
 *    kernels (xfrm_in_fwd_icmp) look the policy up for the inner packet:
 *    undecidable.
 *  - xb_shape_list.overflow == 1 (a packet-offload policy in the list, a
 *    policy no table could take, see .undecidable): the list is
 *    undecidable; so is a hit on a bucket published full.
 */
#ifndef XFRMBPF_TSS_BUILD_H
#define XFRMBPF_TSS_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include "xfrmbpf/spd.h"
#include "xfrmbpf/tss.h"

struct xb_tss;

/* Where changes go: the BPF maps in production, memory in tests. */
struct xb_tss_sink {
	int (*put_entry)(void *ctx, const struct xb_tss_key *key,
			 const struct xb_tss_val *val);
	int (*del_entry)(void *ctx, const struct xb_tss_key *key);
	/* xb_tss_pair: buckets of at most XB_PAIR_RULES policies; a sink
	 * without them gets every bucket through put_entry. */
	int (*put_pair)(void *ctx, const struct xb_tss_key *key,
			const struct xb_tss_pair_val *val);
	int (*del_pair)(void *ctx, const struct xb_tss_key *key);
	int (*put_list)(void *ctx, __u32 list_idx,
			const struct xb_shape_list *list);
	/* xb_tss_index; a sink without them publishes every list
	 * unindexed (searched table after table). */
	int (*put_index)(void *ctx, const struct xb_tss_idx_key *key,
			 const struct xb_tss_idx_val *val);
	int (*del_index)(void *ctx, const struct xb_tss_idx_key *key);
	void *ctx;
};

/* Policy ids are below max_policies (the mirror's capacity). */
struct xb_tss *xb_tss_new(__u32 max_policies);
void xb_tss_free(struct xb_tss *tss);

/* pol->id (below max_policies) and pol->pos must be set (the mirror
 * assigns them). What the search needs is copied; the policy is identified
 * by pol->id afterwards. Returns -EEXIST for a known id, -EINVAL for an id
 * out of range or a selector the kernel would refuse. A policy that cannot
 * be placed for want of memory is still taken: its list is published
 * undecidable (XB_LIST_UNDEC_CAPACITY) until it is deleted. */
int xb_tss_add(struct xb_tss *tss, const struct xb_policy *pol);
int xb_tss_del(struct xb_tss *tss, __u32 policy_id);

/*
 * Send every change since the last flush to the sink: index entries that
 * gained tables, new and changed buckets, then changed shape lists, then
 * deleted buckets and the index entries that lost tables. A failed sink
 * call does not stop the flush; the first error is returned, and the
 * published state is then unknown: clear the maps, call
 * xb_tss_forget_published() and flush again.
 */
int xb_tss_flush(struct xb_tss *tss, const struct xb_tss_sink *sink);

/* Treat the published state as empty: the next flush writes everything. */
void xb_tss_forget_published(struct xb_tss *tss);

/* Number of shape lists that are undecidable as a whole. */
unsigned int xb_tss_undecidable_lists(const struct xb_tss *tss);
/* The shape list list_idx as the next flush would publish it: tables,
 * sizes, and why it is undecidable, if it is. */
void xb_tss_list_stats(const struct xb_tss *tss, __u32 list_idx,
		       struct xb_shape_list *out);

/* Why shape list list_idx is undecidable (XB_LIST_UNDEC_* bits, 0: it is
 * not) and how many of its buckets are full: cheap, for every change. */
__u32 xb_tss_list_undecidable(const struct xb_tss *tss, __u32 list_idx,
			      __u32 *n_full_buckets);
/* Lists of more than min_tables tables are published indexed (default
 * XB_IDX_MIN_TABLES, include/xfrmbpf/tss.h); tests lower it to check the
 * index on small sets, the bench to compare. Takes effect at the next
 * flush. */
void xb_tss_set_index_min(struct xb_tss *tss, __u32 min_tables);
/* Placements since the builder was made that gave a table already open a
 * better best priority: none when policies come in the kernel's order of
 * precedence (a bulk build sorts them so), one for most live adds of a
 * better policy than those before it. The walk passes every table whose
 * best could beat the match so far, and placement is never revised: at
 * 100k realistic acl policies added in no order a new flow passed 46.6
 * tables instead of 32.7. A count of what a rebuild in order would undo
 * (xb_publish_relayout()). */
__u32 xb_tss_raised_tables(const struct xb_tss *tss);

/* The priority and position of a policy the builder holds (false when
 * it holds none of that id): what orders it among the others. */
bool xb_tss_policy_rank(const struct xb_tss *tss, __u32 policy_id,
			__u32 *priority, __u32 *pos);
/* Index entries of shape list list_idx that could not be written (the
 * xb_tss_index map is full): while there are any, the list is published
 * unindexed and every packet probes all its tables. */
__u32 xb_tss_list_index_missing(const struct xb_tss *tss, __u32 list_idx);
/* "fwd main inet": the (view, type, family) of shape list list_idx. */
void xb_tss_list_name(__u32 list_idx, char *buf, size_t len);
/* What one XB_LIST_UNDEC_* bit means, for logs and status. */
const char *xb_tss_undecidable_name(__u32 bit);

/* --- What the datapath's search shares with the builder ------------- */

/* XB_VIEW_* of a policy direction (XFRM_POLICY_IN/FWD/OUT), -1 for none. */
int xb_tss_dir_view(__u8 dir);
/* XB_FAM_* of an address family (AF_INET/AF_INET6), -1 for none. */
int xb_tss_family_idx(__u16 family);

/* Which of two policies wins where both match: the lower priority, then
 * the lower pos, then the lower id. Buckets, shape lists and the search
 * keep this order. */
bool xb_tss_rule_before(const struct xb_tss_rule *a, const struct xb_tss_rule *b);
/* Two policies lead to the same result (verdict, if_id). When policies of
 * the best priority do not, the kernel's choice among them is unknown. */
bool xb_tss_same_outcome(const struct xb_tss_rule *a, const struct xb_tss_rule *b);

/* The bucket key of a 5-tuple under one table of list list_idx: on entry
 * key's proto, ports and addresses hold the tuple (network order); they
 * are masked by the shape (its prefix masks, xb_shape_set_prefixes()),
 * and list and shape_id set. The builder files a policy's selector under
 * this key and the datapath looks a packet up with it, so both mask with
 * the same published masks. */
void xb_tss_key_mask(struct xb_tss_key *key, __u32 list_idx,
		     const struct xb_shape *shape);

#endif
