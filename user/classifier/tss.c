// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Classifier builder: views, tables and buckets of the mirrored policies,
 * kept incrementally, published as changes.
 *
 * Where a policy goes (TupleMerge's relaxed tuples, with a collision limit
 * of XB_BUCKET_MAX): a table's shape may be coarser than the selectors
 * it holds, so that the many shapes of a firewall-style rule set (a port
 * range alone expands into up to 30 (port, mask) pairs, a rule with ranges
 * on both sides into their cross product, prefix lengths spread over
 * 0..32) share few tables. The candidate tables of a policy, from the most
 * relaxed (candidate_tables()):
 *   - prefix lengths rounded down to RELAX_V4 / RELAX_V6 bits, port masks
 *     other than "exact port" widened to "any";
 *   - the same with port masks relaxed to their high byte;
 *   - the same with one side's port mask exact (for cross products);
 *   - exact prefix lengths with high-byte port masks;
 *   - its exact shape.
 * The policy goes into the first existing candidate whose bucket for it
 * has room in one entry (XB_BUCKET_RULES), else into the most specific
 * existing table that covers its selector with room in one entry (any
 * coarser shape, not only the candidates: TupleMerge's placement), else
 * into a crowded bucket (up to XB_BUCKET_MAX, published in chunks) of an
 * existing relaxed candidate, else into the first candidate table that can
 * be created, else into its exact shape's table, which moves relaxed
 * policies out of a bucket past XB_BUCKET_MAX (make_room()). What stays
 * beyond has equal selectors: the bucket is published "full"
 * (undecidable). Placement is not revised otherwise: adds and deletes stay
 * local, at the cost of tables that a rebuild from scratch might not need
 * (the daemon rebuilds when live adds drifted it, mirror/publish.h).
 *
 * What the kernel does, and why the published state looks as it does
 * (net/xfrm/xfrm_policy.c, read for Linux 6.1 and 6.18):
 *
 * - xfrm_policy_match(): a policy matches when pol->family == flow family,
 *   pol->if_id == flow if_id, (flowi_mark & mark.m) == mark.v (mark.v is
 *   NOT masked: xfrm_mark_get() copies it as given, so v & ~m != 0 never
 *   matches), pol->type is the type looked up, and xfrm_selector_match()
 *   (__xfrm4/6_selector_match: addresses under prefixlen_d/_s, ports
 *   !((flow ^ sel) & mask), proto equal or sel proto 0, sel ifindex equal
 *   to flowi_oif or 0), then security_xfrm_policy_lookup() for sec ctx.
 *   Plaintext at XDP has mark 0 and if_id 0, so the IN and FWD views hold
 *   policies with mark.v == 0 and if_id 0; OUT holds mark.v == 0, any
 *   if_id.
 * - xfrm_policy_lookup(): type SUB first (CONFIG_XFRM_SUB_POLICY), MAIN
 *   when no sub matched. xfrm_policy_lookup_bytype(): the first match in
 *   the exact hash chain (policy_hash_direct; both prefixes at the hash
 *   thresholds, /32 /32 and /128 /128 by default), then
 *   xfrm_policy_eval_candidates() over four inexact lists (both, saddr,
 *   daddr, any). Every chain is sorted by priority (xfrm_policy_insert_list
 *   puts a policy behind all of priority <= its own), so the lowest
 *   priority always wins.
 * - Equal priority: within one chain the first in chain order wins; across
 *   lists __xfrm_policy_eval_candidates() keeps the one with the lower
 *   pos. Chain order and pos mostly agree with insertion order, but not
 *   always: an update that keeps the selector replaces the old policy at
 *   its chain place (xfrm_policy_insert_list stops at delpol), while pos
 *   is renumbered. 6.1 numbers pos by rank in the per-direction inexact
 *   list (xfrm_policy_insert_inexact_list; policies of the exact chain
 *   keep pos 0); 6.12+ gives every newly linked policy the next pos
 *   (xfrm_gen_pos in __xfrm_policy_link), so an update becomes "newest"
 *   by pos yet keeps its chain place. Whether two policies share a chain
 *   also depends on the hash thresholds (XFRMA_SPD_IPV4_HTHRESH). The
 *   mirror cannot see all that, so the tie is only certain when every
 *   best-priority match leads to the same outcome: otherwise the result is
 *   undecidable. (priority, pos, id) still picks the reported policy.
 * - Packet-offload policies (xdo.type == XFRM_DEV_OFFLOAD_PACKET, 6.2+) go
 *   to the head of their chain whatever their priority: a matching one
 *   wins outright, and a non-matching one with a higher priority stops the
 *   walk of an inexact chain early (the "pol->priority > priority" break),
 *   hiding policies behind it. One in a (dir, type, family) with if_id 0
 *   (any if_id for OUT) therefore makes that whole list undecidable,
 *   whatever its mark.
 * - __xfrm_policy_check() for plaintext (no secpath): no policy -> the
 *   default (XFRM_USERPOLICY_BLOCK drops); a policy that is not ALLOW ->
 *   drop; a sub policy that allows -> main looked up too, with
 *   XFRM_POLICY_IN even for FWD, and a non-ALLOW main drops; then
 *   xfrm_policy_ok() per template: an optional one (any mode) passes with
 *   an empty secpath, a non-optional one fails (XfrmInTmplMismatch). More
 *   than XFRM_MAX_DEPTH - 1 templates in total drops (XfrmInBufferError):
 *   we may pass those, which is safe. For FWD with no policy, newer
 *   kernels (6.18, not 6.1) look the ICMP error's inner flow up
 *   (xfrm_in_fwd_icmp).
 * - Selector ifindex (flowi_oif is the route's device, unknown at XDP),
 *   sec ctx (LSM decides, may also fail the lookup), offload: the
 *   policy's verdict is XB_V_UNDECIDABLE.
 * - The dump (xfrm_policy_walk) lists policy_all from its head, and
 *   __xfrm_policy_link adds at the head: newest first.
 */
#include <errno.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/xfrm.h>
#include "lib/hashtab.h"
#include "lib/idchain.h"
#include "classifier/tss.h"
#include "classifier/tss_index.h"

/* Relaxed prefix lengths are multiples of these; RELAX_V6 divides 32, so
 * a relaxed prefix stays within the word of the exact one's last bit
 * (struct xb_tss_rule). IPv6 was relaxed by 16 bits: at 100k realistic
 * policies that crowded its buckets, and a new flow of the ipc profile
 * read 12.2 bucket entries (6.2 of them further chunks) where with 8 it
 * reads 4.7 (0.2), from 91 tables instead of 105; the fw profile at 1M
 * needs 302 tables instead of 330 (bench_classify's walk lines). */
#define RELAX_V4	8
#define RELAX_V6	8

struct pol_ent;

/* Min-heap of a table's buckets by their best policy (priority, pos, id),
 * indexed for removal (bucket.hidx): the table's best priority. One entry
 * a key, not a policy: a bucket's order is that of its first policy. */
struct pheap {
	const struct xb_tss *tss;	/* whose bucket_pool it indexes */
	__u32 *buckets;
	__u32 n;		/* non-empty buckets of the table */
	__u32 cap;
};

struct table_key {
	__u8 list;
	__u8 prefixlen_s;
	__u8 prefixlen_d;
	__u8 proto_mask;
	__be16 sport_mask;
	__be16 dport_mask;
};

struct table {
	struct xb_hnode node;
	struct table_key key;
	__u16 id;
	__u32 slot;		/* index in its list's table array */
	struct pheap pols;	/* all policies of the table */
};

/* Distinct selector shapes of a list, counted for status. */
struct shape_count {
	struct xb_hnode node;
	struct table_key key;
	__u32 n;
};

/* The policies sharing one key of a table, sorted by (priority, pos, id).
 * At most XB_BUCKET_MAX but in exact-shape tables; published in chunks of
 * XB_BUCKET_RULES. Buckets live in struct xb_tss.bucket_pool and never
 * move: a policy names its bucket by index, and the index of buckets by
 * key chains them by index (bucket_find()). */
struct bucket {
	struct xb_tss_key key;	/* its table: key.shape_id (table_of()) */
	/* Its policies' ids (bucket_ids()): most buckets of a realistic
	 * rule set hold one, kept in `one`, which spares them an allocation
	 * of their own; more are in an array of bucket_cap(n). */
	union {
		__u32 one;
		__u32 *ids;
	};
	__u32 n;
	__u32 chain;		/* next bucket of its key's chain, or of the
				 * free ones; NO_BUCKET ends either */
	__u32 hidx;		/* in its table's heap, while it holds any */
	bool dirty;
	__u8 pub_chunks;	/* entries of it in xb_tss */
	bool pub_pair;		/* its entry in xb_tss_pair */
	__u8 idx_dims;		/* index dimensions it is in (tss_index.h) */
};
/* One per key, in the pool: a malloc'ed bucket with a hash node took an
 * 80-byte chunk and a pointer in the table of keys. */
_Static_assert(sizeof(struct bucket) <= 64, "struct bucket grew: one per key");

#define NO_BUCKET	XB_IDCHAIN_END
/* The index by key starts with 1024 heads (4 KiB). */
#define BUCKET_HEADS_MIN_BITS	10

/* What the search needs of a policy, nothing more: the mirror keeps the
 * policy itself. Indexed by policy id (struct xb_tss.pols), one for each
 * id the mirror may hand out: kept small (44 bytes). */
struct pol_ent {
	struct xb_tss_rule rule;	/* what its bucket publishes */
	__u32 bucket;		/* in struct xb_tss.bucket_pool, NO_BUCKET
				 * when in no table */
	__s8 list;		/* its shape list, -1 when in no view */
	__s8 taint_list;	/* list it makes undecidable, or -1 */
	__s8 skipped_list;	/* its list when out of view, or -1 */
	bool present : 1;
	bool untabled : 1;	/* no table could take it: list undecidable */
	bool unplaced : 1;	/* out of memory placing it: the same */
	bool shape_counted : 1;	/* in its exact shape's count (rule_shape()) */
};
_Static_assert(sizeof(struct pol_ent) <= 44, "struct pol_ent grew: one per policy id");

struct id_stack {
	__u16 *v;
	__u32 n;
	__u32 cap;
};

struct list_state {
	struct table **tables;
	/* The same by id: a bucket's table is by_id[key.shape_id] */
	struct table *by_id[XB_TABLE_IDS];
	__u32 n;
	__u32 cap;
	__u32 n_offload;
	__u32 n_untabled;
	__u32 n_unplaced;
	__u32 n_out_of_view;
	__u32 n_policies;
	__u32 n_shapes;
	__u32 n_buckets;
	__u32 n_full;
	bool dirty;
	bool published;
	bool index_wanted;	/* its index entries are written */
	/* Its buckets are counted in the index (index_track()): from the
	 * first flush at which it is big enough to be searched through it,
	 * as the bookkeeping costs ~24 bytes a policy that lists of fewer
	 * tables never use. */
	bool index_tracked;
	struct xb_shape_list pub;
	__u32 next_id;
	struct id_stack free_ids;	/* reusable now */
	struct id_stack pend_ids;	/* reusable after the next flush */
};

struct xb_tss {
	/* max_policies entries, by policy id. One allocation that the
	 * kernel backs with pages only where ids are in use. */
	struct pol_ent *pols;
	__u32 max_policies;
	struct xb_htab tables;
	struct xb_htab shapes;
	/* Buckets: at most one a policy but for emptied ones that wait for
	 * the flush (pool_size of them). One allocation that the kernel
	 * backs with pages as they are first used; freed buckets are
	 * chained from free_bucket for reuse. */
	struct bucket *bucket_pool;
	__u32 pool_size;
	__u32 buckets_used;	/* high-water mark in the pool */
	__u32 free_bucket;
	/* The buckets by key: chains through bucket.chain
	 * (lib/idchain.h). */
	struct xb_idchain buckets;
	struct list_state lists[XB_SHAPE_LISTS];
	struct bucket **dirty;
	__u32 n_dirty;
	__u32 cap_dirty;
	struct xb_tss_index *index;
	__u32 index_min_tables;	/* lists above it are published indexed */
	__u32 n_raised;		/* xb_tss_raised_tables() */
};

static int grow_array(void **arr, __u32 *cap, __u32 need, size_t elem)
{
	__u32 ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 4;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* ---- order of policies ------------------------------------------------ */

bool xb_tss_rule_before(const struct xb_tss_rule *a, const struct xb_tss_rule *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	if (a->pos != b->pos)
		return a->pos < b->pos;
	return a->policy_id < b->policy_id;
}

bool xb_tss_same_outcome(const struct xb_tss_rule *a, const struct xb_tss_rule *b)
{
	return a->verdict == b->verdict && a->if_id == b->if_id;
}

static bool pe_before(const struct pol_ent *a, const struct pol_ent *b)
{
	return xb_tss_rule_before(&a->rule, &b->rule);
}

/* ---- buckets ------------------------------------------------------------ */

/* The array a bucket of n policies has: none while one fits in the
 * bucket, else the power of two at or above n. Derived, not stored: the
 * array is resized whenever n crosses one (bucket_insert(),
 * bucket_remove()). */
static __u32 bucket_cap(__u32 n)
{
	return n < 2 ? 0 : 1U << (32 - __builtin_clz(n - 1));
}

static struct bucket *bucket_at(const struct xb_tss *tss, __u32 idx)
{
	return idx == NO_BUCKET ? NULL : &tss->bucket_pool[idx];
}

static __u32 bucket_idx(const struct xb_tss *tss, const struct bucket *b)
{
	return (__u32)(b - tss->bucket_pool);
}

static __u32 *bucket_ids(struct bucket *b)
{
	return bucket_cap(b->n) ? b->ids : &b->one;
}

/* Its i-th policy, of tss's. */
static struct pol_ent *bucket_pol(const struct xb_tss *tss, const struct bucket *b, __u32 i)
{
	return &tss->pols[bucket_cap(b->n) ? b->ids[i] : b->one];
}

/* ---- a table's buckets by their best policy ---------------------------- */

static struct bucket *heap_at(const struct pheap *h, __u32 i)
{
	return &h->tss->bucket_pool[h->buckets[i]];
}

/* The table's best policy. */
static struct pol_ent *heap_top(const struct pheap *h)
{
	return bucket_pol(h->tss, heap_at(h, 0), 0);
}

static bool heap_before(const struct pheap *h, const struct bucket *a, const struct bucket *b)
{
	return pe_before(bucket_pol(h->tss, a, 0), bucket_pol(h->tss, b, 0));
}

static void heap_set(struct pheap *h, __u32 i, struct bucket *b)
{
	h->buckets[i] = bucket_idx(h->tss, b);
	b->hidx = i;
}

static void heap_up(struct pheap *h, __u32 i)
{
	struct bucket *b = heap_at(h, i);

	while (i > 0) {
		__u32 parent = (i - 1) / 2;

		if (!heap_before(h, b, heap_at(h, parent)))
			break;
		heap_set(h, i, heap_at(h, parent));
		i = parent;
	}
	heap_set(h, i, b);
}

static void heap_down(struct pheap *h, __u32 i)
{
	struct bucket *b = heap_at(h, i);

	for (;;) {
		__u32 c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && heap_before(h, heap_at(h, c + 1), heap_at(h, c)))
			c++;
		if (!heap_before(h, heap_at(h, c), b))
			break;
		heap_set(h, i, heap_at(h, c));
		i = c;
	}
	heap_set(h, i, b);
}

static int heap_reserve(struct pheap *h)
{
	return grow_array((void **)&h->buckets, &h->cap, h->n + 1, sizeof(*h->buckets));
}

/* Capacity must have been reserved. */
static void heap_push(struct pheap *h, struct bucket *b)
{
	heap_set(h, h->n++, b);
	heap_up(h, h->n - 1);
}

static void heap_remove(struct pheap *h, struct bucket *b)
{
	__u32 i = b->hidx;
	struct bucket *last = heap_at(h, --h->n);

	if (i == h->n)
		return;
	heap_set(h, i, last);
	heap_up(h, i);
	heap_down(h, last->hidx);
}

/* ---- policies, views, lists ------------------------------------------ */

static __u8 policy_verdict(const struct xb_policy *p)
{
	if (p->sel.ifindex || (p->xb_flags & (XB_POL_SEC_CTX | XB_POL_OFFLOAD)))
		return XB_V_UNDECIDABLE;
	if (p->action != XFRM_POLICY_ALLOW)
		return XB_V_BLOCK;
	if (p->xb_flags & XB_POL_REQUIRES_IPSEC)
		return XB_V_REQUIRES_IPSEC;
	return XB_V_ALLOW;
}

int xb_tss_dir_view(__u8 dir)
{
	switch (dir) {
	case XFRM_POLICY_IN:
		return XB_VIEW_IN;
	case XFRM_POLICY_FWD:
		return XB_VIEW_FWD;
	case XFRM_POLICY_OUT:
		return XB_VIEW_OUT;
	}
	return -1;
}

int xb_tss_family_idx(__u16 family)
{
	if (family == AF_INET)
		return XB_FAM_V4;
	if (family == AF_INET6)
		return XB_FAM_V6;
	return -1;
}

/* Shape list of a policy's (dir, type, family), -1 for none. */
static int policy_list(const struct xb_policy *p)
{
	int view = xb_tss_dir_view(p->dir);
	int fam = xb_tss_family_idx(p->sel.family);
	int ptype = p->type == XFRM_POLICY_TYPE_SUB ? XB_PTYPE_SUB : XB_PTYPE_MAIN;

	if (view < 0 || fam < 0)
		return -1;
	return XB_SHAPE_LIST_IDX(view, ptype, fam);
}

/* Can it match plaintext with mark 0 (and if_id 0 outside OUT)? */
static bool policy_in_view(const struct xb_policy *p)
{
	if (p->mark_v != 0)
		return false;
	return p->dir == XFRM_POLICY_OUT || p->if_id == 0;
}

static bool policy_taints(const struct xb_policy *p)
{
	return (p->xb_flags & XB_POL_OFFLOAD) &&
	       (p->dir == XFRM_POLICY_OUT || p->if_id == 0);
}

static int policy_check(const struct xb_tss *tss, const struct xb_policy *p)
{
	unsigned int max = p->sel.family == AF_INET6 ? 128 : 32;

	if (p->id >= tss->max_policies)
		return -EINVAL;
	if (p->type != XFRM_POLICY_TYPE_MAIN && p->type != XFRM_POLICY_TYPE_SUB)
		return -EINVAL;
	if (p->sel.prefixlen_s > max || p->sel.prefixlen_d > max)
		return -EINVAL;
	return 0;
}

/* The bucket entry of a policy: its order, outcome and what the table's
 * key leaves unchecked of its selector. */
static void policy_rule(const struct xb_policy *p, struct xb_tss_rule *r)
{
	const struct xb_selector *sel = &p->sel;

	memset(r, 0, sizeof(*r));
	r->policy_id = p->id;
	r->priority = p->priority;
	r->pos = p->pos;
	r->if_id = p->if_id;
	r->verdict = policy_verdict(p);
	r->saddr_word = sel->saddr.a[xb_tss_prefix_word(sel->prefixlen_s)];
	r->daddr_word = sel->daddr.a[xb_tss_prefix_word(sel->prefixlen_d)];
	r->sport = sel->sport & sel->sport_mask;
	r->sport_mask = sel->sport_mask;
	r->dport = sel->dport & sel->dport_mask;
	r->dport_mask = sel->dport_mask;
	r->prefixlen_s = sel->prefixlen_s;
	r->prefixlen_d = sel->prefixlen_d;
	r->proto = sel->proto;
}

/* In place: the address masked by one of a shape's prefix masks (0 past
 * an IPv4 address, include/xfrmbpf/tss.h), as the datapath masks it. */
static void mask_addr(union xb_addr *a, const __be32 *mask)
{
	__u32 w;

	for (w = 0; w < 4; w++)
		a->a[w] &= mask[w];
}

void xb_tss_key_mask(struct xb_tss_key *key, __u32 list_idx,
		     const struct xb_shape *shape)
{
	key->list = list_idx;
	key->shape_id = shape->id;
	key->proto &= shape->proto_mask;
	key->sport &= shape->sport_mask;
	key->dport &= shape->dport_mask;
	mask_addr(&key->saddr, shape->saddr_mask);
	mask_addr(&key->daddr, shape->daddr_mask);
}

/* A policy's exact shape, from its rule (which keeps the selector's
 * prefix lengths, proto and port masks). */
static void rule_shape(const struct xb_tss_rule *r, int list, struct table_key *tk)
{
	memset(tk, 0, sizeof(*tk));
	tk->list = list;
	tk->prefixlen_s = r->prefixlen_s;
	tk->prefixlen_d = r->prefixlen_d;
	tk->proto_mask = r->proto ? 0xff : 0;
	tk->sport_mask = r->sport_mask;
	tk->dport_mask = r->dport_mask;
}

/* Port masks relaxed to "any", or to the high byte when they keep all of
 * it: the pieces of a range (0xfc00, 0xff80, ...) share a table, and
 * pieces above one byte still spread over buckets by their high byte. */
static __be16 relax_port_any(__be16 mask)
{
	return mask == 0xffff ? mask : 0;
}

static __be16 relax_port_byte(__be16 mask)
{
	__be16 high = htons(0xff00);

	if (mask == 0xffff)
		return mask;
	return (mask & high) == high ? high : 0;
}

#define N_CANDIDATES	6

/* The table shapes a policy of list `list` may go to, most preferred
 * first (see the top of the file); returns how many, duplicates left out. */
static unsigned int candidate_tables(const struct xb_tss_rule *r, int list,
				     struct table_key out[N_CANDIDATES])
{
	unsigned int relax = list % XB_FAM_MAX == XB_FAM_V6 ? RELAX_V6 : RELAX_V4;
	struct table_key exact, c[N_CANDIDATES];
	unsigned int n = 0, i, j;

	rule_shape(r, list, &exact);
	/* relaxed prefixes, ports "any" (an exact port stays) */
	c[0] = exact;
	c[0].prefixlen_s -= c[0].prefixlen_s % relax;
	c[0].prefixlen_d -= c[0].prefixlen_d % relax;
	c[0].sport_mask = relax_port_any(exact.sport_mask);
	c[0].dport_mask = relax_port_any(exact.dport_mask);
	/* ports by their high byte */
	c[1] = c[0];
	c[1].sport_mask = relax_port_byte(exact.sport_mask);
	c[1].dport_mask = relax_port_byte(exact.dport_mask);
	/* one side's port mask exact: a rule with ranges on both sides
	 * expands into their cross product, whose pieces share the other
	 * side's mask */
	c[2] = c[0];
	c[2].dport_mask = exact.dport_mask;
	c[3] = c[0];
	c[3].sport_mask = exact.sport_mask;
	c[4] = exact;
	c[4].sport_mask = c[1].sport_mask;
	c[4].dport_mask = c[1].dport_mask;
	c[5] = exact;
	for (i = 0; i < N_CANDIDATES; i++) {
		for (j = 0; j < n; j++)
			if (!memcmp(&out[j], &c[i], sizeof(c[i])))
				break;
		if (j == n)
			out[n++] = c[i];
	}
	/* the exact shape last, whatever came before */
	for (j = 0; j < n - 1; j++) {
		if (!memcmp(&out[j], &exact, sizeof(exact))) {
			memmove(&out[j], &out[j + 1], (n - 1 - j) * sizeof(out[j]));
			out[n - 1] = exact;
			break;
		}
	}
	return n;
}

/* The published form of a table; best_priority is left to the caller. */
static void table_describe(const struct table *t, struct xb_shape *out)
{
	memset(out, 0, sizeof(*out));
	out->id = t->id;
	xb_shape_set_prefixes(out, t->key.prefixlen_s, t->key.prefixlen_d);
	out->proto_mask = t->key.proto_mask;
	out->sport_mask = t->key.sport_mask;
	out->dport_mask = t->key.dport_mask;
}

/* The bucket of a policy's selector in a table. */
static void selector_key(struct xb_tss_key *key, const struct table *t,
			 const struct xb_selector *sel)
{
	struct xb_shape shape;

	memset(key, 0, sizeof(*key));
	key->proto = sel->proto;
	key->sport = sel->sport;
	key->dport = sel->dport;
	key->saddr = sel->saddr;
	key->daddr = sel->daddr;
	table_describe(t, &shape);
	xb_tss_key_mask(key, t->key.list, &shape);
}

static void list_mark_dirty(struct xb_tss *tss, int list)
{
	tss->lists[list].dirty = true;
}

static int id_push(struct id_stack *s, __u16 id)
{
	int err = grow_array((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v));

	if (!err)
		s->v[s->n++] = id;
	return err;
}

static int list_alloc_id(struct list_state *ls, __u16 *id)
{
	if (ls->free_ids.n) {
		*id = ls->free_ids.v[--ls->free_ids.n];
		return 0;
	}
	/* ids are bits of xb_tss_index values */
	if (ls->next_id >= XB_TABLE_IDS)
		return -ENOSPC;
	*id = ls->next_id++;
	return 0;
}

static struct table *table_find(struct xb_tss *tss, const struct table_key *tk)
{
	struct xb_hnode *n = xb_htab_find(&tss->tables, tk);

	return n ? xb_container_of(n, struct table, node) : NULL;
}

/* NULL when the list has XB_MAX_TABLES tables, or out of memory. */
static struct table *table_new(struct xb_tss *tss, const struct table_key *tk)
{
	struct list_state *ls = &tss->lists[tk->list];
	struct table *t;

	if (ls->n >= XB_MAX_TABLES ||
	    grow_array((void **)&ls->tables, &ls->cap, ls->n + 1,
		       sizeof(*ls->tables)))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->key = *tk;
	t->pols.tss = tss;
	if (list_alloc_id(ls, &t->id) || xb_htab_insert(&tss->tables, &t->node)) {
		free(t);
		return NULL;
	}
	t->slot = ls->n;
	ls->tables[ls->n++] = t;
	ls->by_id[t->id] = t;
	list_mark_dirty(tss, tk->list);
	return t;
}

/* Its buckets are empty and wait for the flush; the id waits too, so no
 * new table reuses it while stale buckets of this one are published. */
static void table_put(struct xb_tss *tss, struct table *t)
{
	struct list_state *ls = &tss->lists[t->key.list];
	struct table *last;

	if (t->pols.n)
		return;
	last = ls->tables[--ls->n];
	last->slot = t->slot;
	ls->tables[t->slot] = last;
	ls->by_id[t->id] = NULL;
	/* On ENOMEM the id is lost, which is harmless. */
	(void)id_push(&ls->pend_ids, t->id);
	xb_htab_remove(&tss->tables, &t->node);
	list_mark_dirty(tss, t->key.list);
	free(t->pols.buckets);
	free(t);
}

static int bucket_mark_dirty(struct xb_tss *tss, struct bucket *b)
{
	int err;

	if (b->dirty)
		return 0;
	err = grow_array((void **)&tss->dirty, &tss->cap_dirty,
			 tss->n_dirty + 1, sizeof(*tss->dirty));
	if (err)
		return err;
	b->dirty = true;
	tss->dirty[tss->n_dirty++] = b;
	return 0;
}

/* ---- buckets by key ---------------------------------------------------- */

/* The pool as lib/idchain.h sees it: linked through chain, hashed by
 * key. */
static __u32 *pool_link(void *ctx, __u32 idx)
{
	return &((struct xb_tss *)ctx)->bucket_pool[idx].chain;
}

static __u32 key_hash(const struct xb_tss_key *key)
{
	return xb_hash_bytes(key, sizeof(*key));
}

static __u32 pool_hash(void *ctx, __u32 idx)
{
	return key_hash(&((struct xb_tss *)ctx)->bucket_pool[idx].key);
}

static struct xb_idchain_elems pool_elems(struct xb_tss *tss)
{
	return (struct xb_idchain_elems){ pool_link, pool_hash, tss };
}

/* Every bucket in the index by key; the body must not remove b. */
#define for_each_bucket(tss, b, head)					\
	for ((head) = 0; (head) < 1U << (tss)->buckets.bits; (head)++)	\
		for ((b) = bucket_at(tss, (tss)->buckets.heads[head]); (b); \
		     (b) = bucket_at(tss, (b)->chain))

static struct bucket *bucket_find(const struct xb_tss *tss,
				  const struct xb_tss_key *key)
{
	struct bucket *b;

	for (b = bucket_at(tss, *xb_idchain_head(&tss->buckets, key_hash(key))); b;
	     b = bucket_at(tss, b->chain))
		if (!memcmp(&b->key, key, sizeof(*key)))
			return b;
	return NULL;
}

/* A zeroed bucket for key from the pool, in the index; NULL when the pool
 * is used up. */
static struct bucket *bucket_alloc(struct xb_tss *tss, const struct xb_tss_key *key)
{
	struct xb_idchain_elems e = pool_elems(tss);
	struct bucket *b;

	if (tss->free_bucket != NO_BUCKET) {
		b = bucket_at(tss, tss->free_bucket);
		tss->free_bucket = b->chain;
	} else if (tss->buckets_used < tss->pool_size) {
		b = &tss->bucket_pool[tss->buckets_used++];
	} else {
		return NULL;
	}
	memset(b, 0, sizeof(*b));
	b->key = *key;
	/* without more heads the chains only grow longer */
	(void)xb_idchain_grow(&tss->buckets, &e);
	xb_idchain_link(&tss->buckets, &e, bucket_idx(tss, b));
	return b;
}

/* Out of the index, its array freed, back to the pool. */
static void bucket_release(struct xb_tss *tss, struct bucket *b)
{
	struct xb_idchain_elems e = pool_elems(tss);
	__u32 idx = bucket_idx(tss, b);

	xb_idchain_unlink(&tss->buckets, &e, idx);
	if (bucket_cap(b->n))
		free(b->ids);
	b->n = 0;
	b->chain = tss->free_bucket;
	tss->free_bucket = idx;
}

static struct bucket *bucket_new(struct xb_tss *tss, const struct table *t,
				 const struct xb_tss_key *key)
{
	struct bucket *b = bucket_alloc(tss, key);
	struct xb_shape shape;

	if (!b)
		return NULL;
	if (tss->lists[key->list].index_tracked) {
		table_describe(t, &shape);
		b->idx_dims = xb_tss_index_dims(key->list, &shape);
	}
	if (xb_tss_index_ref(tss->index, key, b->idx_dims)) {
		bucket_release(tss, b);
		return NULL;
	}
	if (bucket_mark_dirty(tss, b)) {
		xb_tss_index_unref(tss->index, key, b->idx_dims);
		bucket_release(tss, b);
		return NULL;
	}
	tss->lists[key->list].n_buckets++;
	return b;
}

/* The table a bucket's key is in, NULL once the table is gone (its
 * emptied buckets wait for the flush). */
static struct table *table_of(const struct xb_tss *tss, const struct bucket *b)
{
	return tss->lists[b->key.list].by_id[b->key.shape_id];
}

/* Into its place by (priority, pos, id); -ENOMEM (nothing changed) when
 * the array cannot grow. */
static int bucket_insert(const struct xb_tss *tss, struct bucket *b, struct pol_ent *pe)
{
	__u32 cap = bucket_cap(b->n), grown = bucket_cap(b->n + 1), i;
	__u32 *ids;

	if (grown != cap) {
		ids = realloc(cap ? b->ids : NULL, grown * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		if (!cap)
			ids[0] = b->one;
		b->ids = ids;
	}
	ids = grown ? b->ids : &b->one;
	i = b->n++;
	while (i > 0 && pe_before(pe, &tss->pols[ids[i - 1]])) {
		ids[i] = ids[i - 1];
		i--;
	}
	ids[i] = pe->rule.policy_id;
	return 0;
}

static void bucket_remove(struct bucket *b, const struct pol_ent *pe)
{
	__u32 *ids = bucket_ids(b), *shrunk;
	__u32 i = 0, cap = bucket_cap(b->n);

	while (i < b->n && ids[i] != pe->rule.policy_id)
		i++;
	if (i == b->n)
		return;
	memmove(&ids[i], &ids[i + 1], (b->n - i - 1) * sizeof(*ids));
	b->n--;
	if (bucket_cap(b->n) == cap)
		return;
	if (b->n == 1) {
		b->one = ids[0];
		free(ids);
		return;
	}
	/* A failed shrink keeps the larger array, which serves as well. */
	shrunk = realloc(ids, bucket_cap(b->n) * sizeof(*ids));
	if (shrunk)
		b->ids = shrunk;
}

static int shape_count_get(struct xb_tss *tss, const struct table_key *tk,
			   struct pol_ent *pe)
{
	struct xb_hnode *n = xb_htab_find(&tss->shapes, tk);
	struct shape_count *sc;

	if (n) {
		sc = xb_container_of(n, struct shape_count, node);
	} else {
		sc = calloc(1, sizeof(*sc));
		if (!sc)
			return -ENOMEM;
		sc->key = *tk;
		if (xb_htab_insert(&tss->shapes, &sc->node)) {
			free(sc);
			return -ENOMEM;
		}
		tss->lists[tk->list].n_shapes++;
		list_mark_dirty(tss, tk->list);
	}
	sc->n++;
	pe->shape_counted = true;
	return 0;
}

static void shape_count_put(struct xb_tss *tss, struct pol_ent *pe)
{
	struct shape_count *sc;
	struct table_key tk;
	struct xb_hnode *n;

	if (!pe->shape_counted)
		return;
	pe->shape_counted = false;
	rule_shape(&pe->rule, pe->list, &tk);
	n = xb_htab_find(&tss->shapes, &tk);
	sc = n ? xb_container_of(n, struct shape_count, node) : NULL;
	if (!sc || --sc->n)
		return;
	tss->lists[sc->key.list].n_shapes--;
	list_mark_dirty(tss, sc->key.list);
	xb_htab_remove(&tss->shapes, &sc->node);
	free(sc);
}

/* Puts pe into table t, bucket b (NULL: a new one for key). */
static int policy_place(struct xb_tss *tss, struct pol_ent *pe,
			struct table *t, struct bucket *b,
			const struct xb_tss_key *key)
{
	struct list_state *ls = &tss->lists[t->key.list];
	bool was_full, raises;

	if (!b)
		b = bucket_new(tss, t, key);
	if (!b || heap_reserve(&t->pols) || bucket_mark_dirty(tss, b))
		return -ENOMEM;	/* an empty bucket goes at the next flush */
	was_full = b->n > XB_BUCKET_MAX;
	raises = t->pols.n && pe->rule.priority < heap_top(&t->pols)->rule.priority;
	if (bucket_insert(tss, b, pe))
		return -ENOMEM;
	if (raises)
		tss->n_raised++;
	/* the bucket's order is its first policy's */
	if (b->n == 1)
		heap_push(&t->pols, b);
	else if (bucket_pol(tss, b, 0) == pe)
		heap_up(&t->pols, b->hidx);
	if (!was_full && b->n > XB_BUCKET_MAX)
		ls->n_full++;
	if (heap_top(&t->pols) == pe)
		list_mark_dirty(tss, t->key.list);
	pe->bucket = bucket_idx(tss, b);
	return 0;
}

static void policy_detach(struct xb_tss *tss, struct pol_ent *pe)
{
	struct list_state *ls = &tss->lists[pe->list];
	struct bucket *b = bucket_at(tss, pe->bucket);
	struct table *t = table_of(tss, b);
	bool was_best = heap_top(&t->pols) == pe;
	bool was_first = bucket_pol(tss, b, 0) == pe;

	if (b->n == XB_BUCKET_MAX + 1)
		ls->n_full--;
	bucket_remove(b, pe);
	/* Already in the dirty array when it got this policy, or marked
	 * since; a failure here only leaves it for a later flush. */
	bucket_mark_dirty(tss, b);
	if (!b->n)
		heap_remove(&t->pols, b);
	else if (was_first)
		heap_down(&t->pols, b->hidx);
	if (was_best)
		list_mark_dirty(tss, t->key.list);
	/* an emptied bucket outlives its table until the flush */
	if (!t->pols.n)
		table_put(tss, t);
	pe->bucket = NO_BUCKET;
}

/* The selector of a placed policy, from its bucket's key and its rule:
 * the key keeps every address word before the one that holds the last
 * prefix bit (a relaxed prefix stays within that word), the rule holds
 * that word. */
static void placed_selector(const struct xb_tss *tss, const struct pol_ent *pe,
			    struct xb_selector *sel)
{
	const struct xb_tss_rule *r = &pe->rule;
	const struct xb_tss_key *key = &bucket_at(tss, pe->bucket)->key;

	memset(sel, 0, sizeof(*sel));
	sel->family = key->list % XB_FAM_MAX == XB_FAM_V6 ? AF_INET6 : AF_INET;
	sel->saddr = key->saddr;
	sel->daddr = key->daddr;
	sel->saddr.a[xb_tss_prefix_word(r->prefixlen_s)] = r->saddr_word;
	sel->daddr.a[xb_tss_prefix_word(r->prefixlen_d)] = r->daddr_word;
	sel->prefixlen_s = r->prefixlen_s;
	sel->prefixlen_d = r->prefixlen_d;
	sel->proto = r->proto;
	sel->sport = r->sport;
	sel->sport_mask = r->sport_mask;
	sel->dport = r->dport;
	sel->dport_mask = r->dport_mask;
}

/* How far moving policies out of the way may cascade. */
#define MAX_EVICT_DEPTH	4

static int policy_attach(struct xb_tss *tss, struct pol_ent *pe,
			 const struct xb_selector *sel, int list,
			 unsigned int depth);

/*
 * A policy had to go into its exact shape's bucket, which was full: move
 * out the policies that were only put there relaxed (their own shape is
 * more specific), each to its next candidate, until the bucket holds no
 * more than it publishes. What stays beyond is policies of this very
 * shape and key: equal selectors, a full bucket.
 */
static void make_room(struct xb_tss *tss, struct table *t, struct bucket *b,
		      unsigned int depth)
{
	struct xb_selector sel;
	struct table_key exact;
	struct pol_ent *r;
	__u32 i = 0;

	while (b->n > XB_BUCKET_MAX && i < b->n && depth < MAX_EVICT_DEPTH) {
		r = bucket_pol(tss, b, i);
		rule_shape(&r->rule, r->list, &exact);
		if (!memcmp(&exact, &t->key, sizeof(t->key))) {
			i++;
			continue;
		}
		placed_selector(tss, r, &sel);
		policy_detach(tss, r);
		if (policy_attach(tss, r, &sel, t->key.list, depth + 1)) {
			r->unplaced = true;
			tss->lists[t->key.list].n_unplaced++;
			list_mark_dirty(tss, t->key.list);
		}
	}
}

/* The candidate tables that exist, and the policy's bucket in each. */
struct placement {
	unsigned int n;
	struct table_key cand[N_CANDIDATES];
	struct table *t[N_CANDIDATES];
	struct bucket *b[N_CANDIDATES];
	struct xb_tss_key key[N_CANDIDATES];
};

/* The first existing candidate (from the most relaxed) whose bucket for
 * the policy holds fewer than room policies, or -1; last: whether the
 * exact shape (the last candidate) counts. */
static int find_room(const struct placement *pl, __u32 room, bool last)
{
	unsigned int i, n = last ? pl->n : pl->n - 1;

	for (i = 0; i < n; i++)
		if (pl->t[i] && (!pl->b[i] || pl->b[i]->n < room))
			return i;
	return -1;
}

/* Whether a table of shape tk may hold a policy of exact shape exact: its
 * masks keep no bit the selector's leave out, and an address's bits the
 * key leaves unchecked lie in the one word the rule keeps
 * (struct xb_tss_rule). */
static bool table_covers(const struct table_key *tk, const struct table_key *exact)
{
	if (tk->prefixlen_s > exact->prefixlen_s || tk->prefixlen_d > exact->prefixlen_d)
		return false;
	if (tk->prefixlen_s < 32 * xb_tss_prefix_word(exact->prefixlen_s) ||
	    tk->prefixlen_d < 32 * xb_tss_prefix_word(exact->prefixlen_d))
		return false;
	return (tk->proto_mask & ~exact->proto_mask) == 0 &&
	       (tk->sport_mask & ~exact->sport_mask) == 0 &&
	       (tk->dport_mask & ~exact->dport_mask) == 0;
}

/* How much of a flow a table's key keeps. */
static unsigned int table_bits(const struct table_key *tk)
{
	return tk->prefixlen_s + tk->prefixlen_d + (tk->proto_mask ? 8 : 0) +
	       __builtin_popcount(tk->sport_mask) + __builtin_popcount(tk->dport_mask);
}

/* The most specific existing table of the list that covers the policy
 * and whose bucket for it has room in one entry, or NULL (TupleMerge's
 * placement: any coarser table will do, not only the candidates). */
static struct table *find_covering(struct xb_tss *tss, const struct pol_ent *pe,
				   const struct xb_selector *sel, int list,
				   struct xb_tss_key *key, struct bucket **bucket)
{
	const struct list_state *ls = &tss->lists[list];
	struct table *t, *best = NULL;
	struct table_key exact;
	unsigned int i, bits, best_bits = 0;
	struct xb_tss_key k;
	struct bucket *b;

	rule_shape(&pe->rule, list, &exact);
	for (i = 0; i < ls->n; i++) {
		t = ls->tables[i];
		bits = table_bits(&t->key);
		if ((best && bits <= best_bits) || !table_covers(&t->key, &exact))
			continue;
		selector_key(&k, t, sel);
		b = bucket_find(tss, &k);
		if (b && b->n >= XB_BUCKET_RULES)
			continue;
		best = t;
		best_bits = bits;
		*key = k;
		*bucket = b;
	}
	return best;
}

/*
 * Where a policy goes, in this order: a bucket of an existing candidate
 * table with room in one entry (XB_BUCKET_RULES); a bucket of the most
 * specific existing table that covers it, with the same room
 * (find_covering()); a crowded bucket (up to XB_BUCKET_MAX, more entries
 * to probe) of an existing relaxed table; the first candidate table that
 * can be created; the exact shape's table, full or not, which then makes
 * room. Fewer tables first: each one costs every packet a probe, a
 * crowded bucket only those that hit it.
 */
static int policy_attach(struct xb_tss *tss, struct pol_ent *pe,
			 const struct xb_selector *sel, int list,
			 unsigned int depth)
{
	struct bucket *covering_bucket;
	struct xb_tss_key covering_key;
	struct placement pl;
	unsigned int i;
	struct table *t;
	int at, err;

	pl.n = candidate_tables(&pe->rule, list, pl.cand);
	for (i = 0; i < pl.n; i++) {
		pl.t[i] = table_find(tss, &pl.cand[i]);
		pl.b[i] = NULL;
		if (!pl.t[i])
			continue;
		selector_key(&pl.key[i], pl.t[i], sel);
		pl.b[i] = bucket_find(tss, &pl.key[i]);
	}
	at = find_room(&pl, XB_BUCKET_RULES, true);
	if (at < 0) {
		t = find_covering(tss, pe, sel, list, &covering_key, &covering_bucket);
		if (t)
			return policy_place(tss, pe, t, covering_bucket, &covering_key);
		at = find_room(&pl, XB_BUCKET_MAX, false);
	}
	if (at >= 0)
		return policy_place(tss, pe, pl.t[at], pl.b[at], &pl.key[at]);
	for (i = 0; i < pl.n; i++) {
		if (pl.t[i])
			continue;
		t = table_new(tss, &pl.cand[i]);
		if (!t)
			continue;
		selector_key(&pl.key[i], t, sel);
		if (policy_place(tss, pe, t, NULL, &pl.key[i])) {
			table_put(tss, t);
			return -ENOMEM;
		}
		return 0;
	}
	i = pl.n - 1;
	if (!pl.t[i]) {
		/* Every candidate is full but the exact one, which cannot be
		 * created: the list is full of tables. */
		pe->untabled = true;
		tss->lists[list].n_untabled++;
		list_mark_dirty(tss, list);
		return 0;
	}
	err = policy_place(tss, pe, pl.t[i], pl.b[i], &pl.key[i]);
	if (!err && pl.b[i])
		make_room(tss, pl.t[i], pl.b[i], depth);
	return err;
}

static struct pol_ent *policy_find(const struct xb_tss *tss, __u32 id)
{
	if (id >= tss->max_policies || !tss->pols[id].present)
		return NULL;
	return &tss->pols[id];
}

int xb_tss_add(struct xb_tss *tss, const struct xb_policy *pol)
{
	int list = policy_list(pol), err;
	struct table_key exact;
	struct pol_ent *pe;

	err = policy_check(tss, pol);
	if (err)
		return err;
	if (policy_find(tss, pol->id))
		return -EEXIST;
	pe = &tss->pols[pol->id];
	memset(pe, 0, sizeof(*pe));
	policy_rule(pol, &pe->rule);
	pe->bucket = NO_BUCKET;
	pe->list = -1;
	pe->taint_list = -1;
	pe->skipped_list = -1;
	if (list >= 0 && !policy_in_view(pol)) {
		pe->skipped_list = list;
		tss->lists[list].n_out_of_view++;
		list_mark_dirty(tss, list);
	}
	if (list >= 0 && policy_in_view(pol)) {
		rule_shape(&pe->rule, list, &exact);
		pe->list = list;
		err = shape_count_get(tss, &exact, pe);
		if (!err)
			err = policy_attach(tss, pe, &pol->sel, list, 0);
		if (err) {
			/* Left out, the list would decide without it: its
			 * packets pass until the policy goes. */
			pe->unplaced = true;
			tss->lists[list].n_unplaced++;
		}
		tss->lists[list].n_policies++;
		list_mark_dirty(tss, list);
	}
	pe->present = true;
	if (list >= 0 && policy_taints(pol)) {
		pe->taint_list = list;
		tss->lists[list].n_offload++;
		list_mark_dirty(tss, list);
	}
	return 0;
}

int xb_tss_del(struct xb_tss *tss, __u32 policy_id)
{
	struct pol_ent *pe = policy_find(tss, policy_id);

	if (!pe)
		return -ENOENT;
	if (pe->bucket != NO_BUCKET)
		policy_detach(tss, pe);
	if (pe->untabled)
		tss->lists[pe->list].n_untabled--;
	if (pe->unplaced)
		tss->lists[pe->list].n_unplaced--;
	if (pe->list >= 0) {
		tss->lists[pe->list].n_policies--;
		list_mark_dirty(tss, pe->list);
		shape_count_put(tss, pe);
	}
	if (pe->taint_list >= 0) {
		tss->lists[pe->taint_list].n_offload--;
		list_mark_dirty(tss, pe->taint_list);
	}
	if (pe->skipped_list >= 0) {
		tss->lists[pe->skipped_list].n_out_of_view--;
		list_mark_dirty(tss, pe->skipped_list);
	}
	pe->present = false;
	return 0;
}

/* ---- publication ------------------------------------------------------ */

/* Entries a bucket is published in: one when full (it only says so). */
static __u32 bucket_chunks(const struct bucket *b)
{
	if (b->n > XB_BUCKET_MAX)
		return 1;
	return (b->n + XB_BUCKET_RULES - 1) / XB_BUCKET_RULES;
}

static void bucket_chunk_value(const struct xb_tss *tss, const struct bucket *b,
			       __u32 chunk, struct xb_tss_val *v)
{
	__u32 i, first = chunk * XB_BUCKET_RULES, n_chunks = bucket_chunks(b);

	memset(v, 0, sizeof(*v));
	if (b->n > XB_BUCKET_MAX) {
		v->full = 1;
		return;
	}
	v->count = b->n - first < XB_BUCKET_RULES ? b->n - first : XB_BUCKET_RULES;
	v->more = chunk + 1 < n_chunks;
	for (i = 0; i < v->count; i++)
		v->rules[i] = bucket_pol(tss, b, first + i)->rule;
	if (!v->more)
		return;
	xb_tss_ports_empty(&v->later);
	for (i = first + v->count; i < b->n; i++)
		xb_tss_ports_add(&v->later, &bucket_pol(tss, b, i)->rule);
}

static void chunk_key(const struct bucket *b, __u32 chunk, struct xb_tss_key *key)
{
	*key = b->key;
	key->list = XB_TSS_KEY_CHUNK(b->key.list, chunk);
}

/* Chunks from `from` on that were published and are no longer. */
static int unpublish_chunks(struct bucket *b, __u32 from,
			    const struct xb_tss_sink *sink)
{
	struct xb_tss_key key;
	int first = 0, err;

	for (; b->pub_chunks > from; b->pub_chunks--) {
		chunk_key(b, b->pub_chunks - 1, &key);
		err = sink->del_entry(sink->ctx, &key);
		if (err && !first)
			first = err;
	}
	return first;
}

static int table_cmp(const void *a, const void *b)
{
	const struct table *x = *(struct table *const *)a;
	const struct table *y = *(struct table *const *)b;

	if (pe_before(heap_top(&x->pols), heap_top(&y->pols)))
		return -1;
	if (pe_before(heap_top(&y->pols), heap_top(&x->pols)))
		return 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static __u32 list_undecidable(const struct list_state *ls)
{
	__u32 why = 0;

	if (ls->n_offload)
		why |= XB_LIST_UNDEC_OFFLOAD;
	if (ls->n_untabled)
		why |= XB_LIST_UNDEC_TABLES;
	if (ls->n_unplaced)
		why |= XB_LIST_UNDEC_CAPACITY;
	return why;
}

/* Whether list list_idx is published indexed: big enough, and every
 * index entry of it written. */
static bool list_indexed(const struct xb_tss *tss, __u32 list_idx,
			 bool sink_indexes)
{
	return sink_indexes && tss->lists[list_idx].n > tss->index_min_tables &&
	       tss->lists[list_idx].index_tracked &&
	       !xb_tss_index_missing(tss->index, list_idx);
}

/* What the walk over candidates needs: where each table id is, and the
 * ids each index dimension leaves to every flow. */
static void list_build_index(__u32 list_idx, struct xb_shape_list *out)
{
	__u32 i, d;
	__u8 dims;

	for (i = 0; i < XB_TABLE_IDS; i++)
		out->pos_of_id[i] = XB_NO_POS;
	for (i = 0; i < out->count; i++) {
		const struct xb_shape *sh = &out->shapes[i];

		out->pos_of_id[sh->id] = i;
		dims = xb_tss_index_dims(list_idx, sh);
		for (d = 0; d < XB_IDX_DIMS; d++)
			if (!(dims & 1U << d))
				out->unindexed[d][sh->id / 64] |= 1ULL << (sh->id % 64);
	}
}

static void list_build(const struct xb_tss *tss, __u32 list_idx,
		       bool sink_indexes, struct xb_shape_list *out)
{
	const struct list_state *ls = &tss->lists[list_idx];
	struct table *sorted[XB_MAX_TABLES];
	__u32 i;

	memset(out, 0, sizeof(*out));
	out->undecidable = list_undecidable(ls);
	out->overflow = out->undecidable != 0;
	out->n_policies = ls->n_policies;
	out->n_shapes = ls->n_shapes;
	out->n_buckets = ls->n_buckets;
	out->n_full_buckets = ls->n_full;
	out->n_out_of_view = ls->n_out_of_view;
	out->n_index_entries = xb_tss_index_entries(tss->index, list_idx);
	if (out->overflow || !ls->n)
		return;
	memcpy(sorted, ls->tables, ls->n * sizeof(*sorted));
	qsort(sorted, ls->n, sizeof(*sorted), table_cmp);
	out->count = ls->n;
	for (i = 0; i < ls->n; i++) {
		struct xb_shape *s = &out->shapes[i];
		const struct table *t = sorted[i];

		table_describe(t, s);
		s->best_priority = heap_top(&t->pols)->rule.priority;
	}
	out->indexed = list_indexed(tss, list_idx, sink_indexes);
	list_build_index(list_idx, out);
}

static void keep_err(int *first, int err)
{
	if (err && !*first)
		*first = err;
}

/* Its entry in xb_tss_pair, if it was published there and is no longer. */
static int unpublish_pair(struct bucket *b, const struct xb_tss_sink *sink)
{
	struct xb_tss_key key;

	if (!b->pub_pair)
		return 0;
	b->pub_pair = false;
	chunk_key(b, 0, &key);
	return sink->del_pair(sink->ctx, &key);
}

/* A bucket of at most XB_PAIR_RULES policies goes to xb_tss_pair, where
 * the sink has one. */
static bool bucket_is_pair(const struct bucket *b, const struct xb_tss_sink *sink)
{
	return b->n <= XB_PAIR_RULES && sink->put_pair && sink->del_pair;
}

static int put_pair(const struct xb_tss *tss, struct bucket *b,
		    const struct xb_tss_sink *sink)
{
	struct xb_tss_pair_val val;
	struct xb_tss_key key;
	__u32 i;

	memset(&val, 0, sizeof(val));
	val.count = b->n;
	for (i = 0; i < b->n; i++)
		val.rules[i] = bucket_pol(tss, b, i)->rule;
	chunk_key(b, 0, &key);
	b->pub_pair = true;
	return sink->put_pair(sink->ctx, &key, &val);
}

/* The changed buckets, each in its map and out of the other. Later chunks
 * first, so that the datapath never follows "more" into a chunk not yet
 * written. */
static int flush_puts(struct xb_tss *tss, const struct xb_tss_sink *sink)
{
	struct xb_tss_key key;
	struct xb_tss_val val;
	int first = 0;
	__u32 i, c, n;

	for (i = 0; i < tss->n_dirty; i++) {
		struct bucket *b = tss->dirty[i];

		if (!b->n)
			continue;
		if (bucket_is_pair(b, sink)) {
			keep_err(&first, put_pair(tss, b, sink));
			keep_err(&first, unpublish_chunks(b, 0, sink));
			continue;
		}
		n = bucket_chunks(b);
		for (c = n; c-- > 0;) {
			bucket_chunk_value(tss, b, c, &val);
			chunk_key(b, c, &key);
			keep_err(&first, sink->put_entry(sink->ctx, &key, &val));
		}
		keep_err(&first, unpublish_chunks(b, n, sink));
		if (b->pub_chunks < n)
			b->pub_chunks = n;
		keep_err(&first, unpublish_pair(b, sink));
	}
	return first;
}

static bool sink_indexes(const struct xb_tss_sink *sink)
{
	return sink->put_index && sink->del_index;
}

static int flush_lists(struct xb_tss *tss, const struct xb_tss_sink *sink)
{
	struct xb_shape_list sl;
	int first = 0;
	__u32 i;

	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		struct list_state *ls = &tss->lists[i];

		/* an index entry written or lost since changes the list */
		if (ls->published && ls->pub.count &&
		    ls->pub.indexed != list_indexed(tss, i, sink_indexes(sink)))
			ls->dirty = true;
		if (!ls->dirty)
			continue;
		ls->dirty = false;
		list_build(tss, i, sink_indexes(sink), &sl);
		if (ls->published && !memcmp(&sl, &ls->pub, sizeof(sl)))
			continue;
		keep_err(&first, sink->put_list(sink->ctx, i, &sl));
		ls->pub = sl;
		ls->published = true;
	}
	return first;
}

#define DIRTY_KEEP	4096

static int flush_dels(struct xb_tss *tss, const struct xb_tss_sink *sink)
{
	int first = 0;
	__u32 i;

	for (i = 0; i < tss->n_dirty; i++) {
		struct bucket *b = tss->dirty[i];

		b->dirty = false;
		if (b->n)
			continue;
		keep_err(&first, unpublish_chunks(b, 0, sink));
		keep_err(&first, unpublish_pair(b, sink));
		xb_tss_index_unref(tss->index, &b->key, b->idx_dims);
		tss->lists[b->key.list].n_buckets--;
		bucket_release(tss, b);
	}
	tss->n_dirty = 0;
	/* A full dump made it large: give it back. */
	if (tss->cap_dirty > DIRTY_KEEP) {
		free(tss->dirty);
		tss->dirty = NULL;
		tss->cap_dirty = 0;
	}
	return first;
}

/* Deleted tables' buckets are gone now: their ids may be reused. */
static void release_pending_ids(struct xb_tss *tss)
{
	__u32 i;

	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		struct list_state *ls = &tss->lists[i];

		while (ls->pend_ids.n &&
		       !id_push(&ls->free_ids, ls->pend_ids.v[ls->pend_ids.n - 1]))
			ls->pend_ids.n--;
	}
}

/* Counts every bucket of list list_idx in the index, once; on failure
 * (out of memory) takes back what it counted: the list then stays
 * unindexed, searched in full, and the next flush tries again. */
static int index_track(struct xb_tss *tss, __u32 list_idx)
{
	struct list_state *ls = &tss->lists[list_idx];
	struct xb_shape shape;
	struct bucket *b;
	struct table *t;
	__u32 head;
	int err = 0;

	for_each_bucket(tss, b, head) {
		t = b->key.list == list_idx ? table_of(tss, b) : NULL;
		if (!t || !b->n)
			continue;	/* another list's, or going at this flush */
		table_describe(t, &shape);
		b->idx_dims = xb_tss_index_dims(list_idx, &shape);
		err = xb_tss_index_ref(tss->index, &b->key, b->idx_dims);
		if (err) {
			b->idx_dims = 0;
			break;
		}
	}
	if (!err) {
		ls->index_tracked = true;
		return 0;
	}
	for_each_bucket(tss, b, head) {
		if (b->key.list != list_idx || !b->idx_dims)
			continue;
		xb_tss_index_unref(tss->index, &b->key, b->idx_dims);
		b->idx_dims = 0;
	}
	return err;
}

/* The lists whose index entries are written: those searched through it
 * (more than index_min_tables tables). A list that comes to be has its
 * buckets counted (index_track()) and all of its entries written now. */
static void index_wanted(struct xb_tss *tss, bool wanted[XB_SHAPE_LISTS])
{
	__u32 i;

	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		struct list_state *ls = &tss->lists[i];

		wanted[i] = ls->n > tss->index_min_tables;
		if (wanted[i] && !ls->index_tracked && index_track(tss, i))
			wanted[i] = false;
		if (wanted[i] && !ls->index_wanted)
			xb_tss_index_dirty_list(tss->index, i);
		ls->index_wanted = wanted[i];
	}
}

/* The buckets this flush deletes leave their regions now, before the
 * lists are built: a list's count of index entries is then the one that
 * stays (the entries themselves go after the buckets, in the last pass). */
static void unref_empty_buckets(struct xb_tss *tss)
{
	__u32 i;

	for (i = 0; i < tss->n_dirty; i++) {
		struct bucket *b = tss->dirty[i];

		if (b->n || !b->idx_dims)
			continue;
		xb_tss_index_unref(tss->index, &b->key, b->idx_dims);
		b->idx_dims = 0;
	}
}

int xb_tss_flush(struct xb_tss *tss, const struct xb_tss_sink *sink)
{
	bool wanted[XB_SHAPE_LISTS];
	int first = 0;

	/* index entries that gain tables before the buckets they lead to,
	 * those that lose them after (tss_index.h) */
	index_wanted(tss, wanted);
	xb_tss_index_flush(tss->index, sink, false, wanted);
	keep_err(&first, flush_puts(tss, sink));
	unref_empty_buckets(tss);
	keep_err(&first, flush_lists(tss, sink));
	keep_err(&first, flush_dels(tss, sink));
	xb_tss_index_flush(tss->index, sink, true, wanted);
	release_pending_ids(tss);
	return first;
}

void xb_tss_forget_published(struct xb_tss *tss)
{
	struct bucket *b;
	__u32 head;
	size_t i;

	for_each_bucket(tss, b, head) {
		b->pub_chunks = 0;
		b->pub_pair = false;
		bucket_mark_dirty(tss, b);
	}
	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		tss->lists[i].published = false;
		tss->lists[i].dirty = true;
	}
	xb_tss_index_forget_published(tss->index);
}

bool xb_tss_policy_rank(const struct xb_tss *tss, __u32 policy_id,
			__u32 *priority, __u32 *pos)
{
	const struct pol_ent *pe = policy_find(tss, policy_id);

	if (!pe)
		return false;
	*priority = pe->rule.priority;
	*pos = pe->rule.pos;
	return true;
}

__u32 xb_tss_raised_tables(const struct xb_tss *tss)
{
	return tss->n_raised;
}

unsigned int xb_tss_undecidable_lists(const struct xb_tss *tss)
{
	unsigned int i, n = 0;

	for (i = 0; i < XB_SHAPE_LISTS; i++)
		n += list_undecidable(&tss->lists[i]) != 0;
	return n;
}

__u32 xb_tss_list_undecidable(const struct xb_tss *tss, __u32 list_idx,
			      __u32 *n_full_buckets)
{
	*n_full_buckets = tss->lists[list_idx].n_full;
	return list_undecidable(&tss->lists[list_idx]);
}

void xb_tss_set_index_min(struct xb_tss *tss, __u32 min_tables)
{
	__u32 i;

	tss->index_min_tables = min_tables;
	for (i = 0; i < XB_SHAPE_LISTS; i++)
		list_mark_dirty(tss, i);
}

__u32 xb_tss_list_index_missing(const struct xb_tss *tss, __u32 list_idx)
{
	return tss->lists[list_idx].n > tss->index_min_tables ?
	       xb_tss_index_missing(tss->index, list_idx) : 0;
}

void xb_tss_list_stats(const struct xb_tss *tss, __u32 list_idx,
		       struct xb_shape_list *out)
{
	/* as a sink that writes the index (the daemon's) would get it */
	list_build(tss, list_idx, true, out);
}

void xb_tss_list_name(__u32 list_idx, char *buf, size_t len)
{
	static const char *const views[XB_VIEW_MAX] = { "in", "fwd", "out" };
	__u32 fam = list_idx % XB_FAM_MAX;
	__u32 ptype = list_idx / XB_FAM_MAX % XB_PTYPE_MAX;
	__u32 view = list_idx / XB_FAM_MAX / XB_PTYPE_MAX;

	snprintf(buf, len, "%s %s %s", view < XB_VIEW_MAX ? views[view] : "?",
		 ptype == XB_PTYPE_SUB ? "sub" : "main",
		 fam == XB_FAM_V6 ? "inet6" : "inet");
}

const char *xb_tss_undecidable_name(__u32 bit)
{
	switch (bit) {
	case XB_LIST_UNDEC_OFFLOAD:
		return "a packet-offload policy (the kernel checks it first)";
	case XB_LIST_UNDEC_TABLES:
		return "more tables needed than a list holds";
	case XB_LIST_UNDEC_CAPACITY:
		return "a policy could not be stored (memory or map capacity)";
	}
	return "unknown";
}

struct xb_tss *xb_tss_new(__u32 max_policies)
{
	struct xb_tss *tss = calloc(1, sizeof(*tss));
	unsigned int i;

	if (!tss)
		return NULL;
	tss->max_policies = max_policies;
	tss->index_min_tables = XB_IDX_MIN_TABLES;
	tss->pols = calloc(max_policies, sizeof(*tss->pols));
	/* emptied buckets are freed at the flush; if more wait than
	 * there are policies, a policy that finds no bucket is unplaced */
	tss->pool_size = max_policies < NO_BUCKET / 2 ? max_policies * 2 : NO_BUCKET - 1;
	tss->bucket_pool = calloc(tss->pool_size, sizeof(*tss->bucket_pool));
	tss->free_bucket = NO_BUCKET;
	tss->index = xb_tss_index_new();
	if (!tss->pols || !tss->bucket_pool || !tss->index ||
	    xb_idchain_init(&tss->buckets, BUCKET_HEADS_MIN_BITS) ||
	    xb_htab_init(&tss->tables, offsetof(struct table, key) -
			 offsetof(struct table, node), sizeof(struct table_key)) ||
	    xb_htab_init(&tss->shapes, offsetof(struct shape_count, key) -
			 offsetof(struct shape_count, node), sizeof(struct table_key))) {
		xb_tss_free(tss);
		return NULL;
	}
	/* Every list is published once, so the maps start out defined. */
	for (i = 0; i < XB_SHAPE_LISTS; i++)
		tss->lists[i].dirty = true;
	return tss;
}

void xb_tss_free(struct xb_tss *tss)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	if (!tss)
		return;
	if (tss->tables.buckets) {
		xb_htab_for_each(&tss->tables, n, tmp, i) {
			struct table *t = xb_container_of(n, struct table, node);

			free(t->pols.buckets);
			free(t);
		}
	}
	if (tss->shapes.buckets) {
		xb_htab_for_each(&tss->shapes, n, tmp, i)
			free(xb_container_of(n, struct shape_count, node));
	}
	if (tss->bucket_pool) {
		for (i = 0; i < tss->buckets_used; i++)
			if (bucket_cap(tss->bucket_pool[i].n))
				free(tss->bucket_pool[i].ids);
	}
	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		free(tss->lists[i].tables);
		free(tss->lists[i].free_ids.v);
		free(tss->lists[i].pend_ids.v);
	}
	free(tss->pols);
	xb_tss_index_free(tss->index);
	xb_htab_fini(&tss->tables);
	xb_htab_fini(&tss->shapes);
	free(tss->bucket_pool);
	xb_idchain_fini(&tss->buckets);
	free(tss->dirty);
	free(tss);
}
