// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Tuple-space search builder: views, shapes and buckets of the mirrored
 * policies, kept incrementally, published as changes.
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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/xfrm.h>
#include "lib/hashtab.h"
#include "classifier/tss.h"

/* Which heap a policy's index is for. */
enum { HEAP_BUCKET = 0, HEAP_SHAPE = 1 };

struct pol_ent;

/* Min-heap of policies by (priority, pos, id), indexed for removal. Most
 * buckets hold one policy: up to one, it lives in the heap itself, without
 * an allocation of its own (cap <= 1); beyond, in arr. */
struct pheap {
	union {
		struct pol_ent *one;
		struct pol_ent **arr;
	} u;
	__u32 n;
	__u32 cap;
};

struct shape_key {
	__u8 list;
	__u8 prefixlen_s;
	__u8 prefixlen_d;
	__u8 proto_mask;
	__be16 sport_mask;
	__be16 dport_mask;
};

struct shape {
	struct xb_hnode node;
	struct shape_key key;
	__u16 id;
	__u32 slot;		/* index in its list's shape array */
	struct pheap pols;	/* all policies of the shape */
};

/* 100k policies make about as many buckets: every byte counts. What was
 * published is remembered as the winner's generation and the verdict
 * (the rest of the value follows from the winner, see bucket_value()). */
struct bucket {
	struct xb_hnode node;
	struct xb_tss_key key;
	struct pheap pols;
	__u32 pub_gen;		/* 0: matches no policy */
	__u8 pub_verdict;
	bool dirty;
	bool published;
};

/* Buckets come from chunks (no allocator header per bucket); freed ones
 * are kept for reuse, linked through node.next. */
#define BUCKET_CHUNK	1024

struct bucket_chunk {
	struct bucket_chunk *next;
	__u32 used;
	struct bucket b[BUCKET_CHUNK];
};

/* What the search needs of a policy, nothing more: the mirror keeps the
 * policy itself. Indexed by policy id (struct xb_tss.pols); 56 bytes. */
struct pol_ent {
	struct xb_tss_val val;	/* what its bucket publishes when it wins */
	__u32 gen;		/* this add's xb_tss.gen: unique per add */
	__u32 hidx[2];
	bool present;
	__s8 taint_list;	/* list it makes undecidable, or -1 */
	struct shape *shape;	/* NULL when in no view */
	struct bucket *bucket;
};

struct id_stack {
	__u16 *v;
	__u32 n;
	__u32 cap;
};

struct list_state {
	struct shape **shapes;
	__u32 n;
	__u32 cap;
	__u32 n_offload;
	bool dirty;
	bool published;
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
	struct xb_htab shapes;
	struct xb_htab buckets;
	struct list_state lists[XB_SHAPE_LISTS];
	struct bucket **dirty;
	__u32 n_dirty;
	__u32 cap_dirty;
	__u32 gen;		/* of the last add */
	struct bucket_chunk *chunks;
	struct bucket *free_buckets;
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

/* ---- policy heap ---------------------------------------------------- */

bool xb_tss_val_before(const struct xb_tss_val *a, const struct xb_tss_val *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	if (a->pos != b->pos)
		return a->pos < b->pos;
	return a->policy_id < b->policy_id;
}

bool xb_tss_same_outcome(const struct xb_tss_val *a, const struct xb_tss_val *b)
{
	return a->verdict == b->verdict && a->if_id == b->if_id;
}

static bool pe_before(const struct pol_ent *a, const struct pol_ent *b)
{
	return xb_tss_val_before(&a->val, &b->val);
}

/* The heap's array: the inline slot until a second policy comes. */
static struct pol_ent **hv(struct pheap *h)
{
	return h->cap > 1 ? h->u.arr : &h->u.one;
}

static struct pol_ent *heap_top(const struct pheap *h)
{
	return h->cap > 1 ? h->u.arr[0] : h->u.one;
}

static void heap_set(struct pheap *h, int w, __u32 i, struct pol_ent *pe)
{
	hv(h)[i] = pe;
	pe->hidx[w] = i;
}

static void heap_up(struct pheap *h, int w, __u32 i)
{
	struct pol_ent *pe = hv(h)[i];

	while (i > 0) {
		__u32 parent = (i - 1) / 2;

		if (!pe_before(pe, hv(h)[parent]))
			break;
		heap_set(h, w, i, hv(h)[parent]);
		i = parent;
	}
	heap_set(h, w, i, pe);
}

static void heap_down(struct pheap *h, int w, __u32 i)
{
	struct pol_ent *pe = hv(h)[i];

	for (;;) {
		__u32 c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && pe_before(hv(h)[c + 1], hv(h)[c]))
			c++;
		if (!pe_before(hv(h)[c], pe))
			break;
		heap_set(h, w, i, hv(h)[c]);
		i = c;
	}
	heap_set(h, w, i, pe);
}

static void heap_free(struct pheap *h)
{
	if (h->cap > 1)
		free(h->u.arr);
}

static int heap_reserve(struct pheap *h)
{
	struct pol_ent **arr;

	if (h->cap > 1)
		return grow_array((void **)&h->u.arr, &h->cap, h->n + 1,
				  sizeof(*h->u.arr));
	if (!h->n)
		return 0;
	arr = malloc(4 * sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	arr[0] = h->u.one;
	h->u.arr = arr;
	h->cap = 4;
	return 0;
}

/* Capacity must have been reserved. */
static void heap_push(struct pheap *h, int w, struct pol_ent *pe)
{
	hv(h)[h->n] = pe;
	pe->hidx[w] = h->n;
	h->n++;
	heap_up(h, w, h->n - 1);
}

static void heap_remove(struct pheap *h, int w, struct pol_ent *pe)
{
	__u32 i = pe->hidx[w];
	struct pol_ent *last = hv(h)[--h->n];

	if (i == h->n)
		return;
	heap_set(h, w, i, last);
	heap_up(h, w, i);
	heap_down(h, w, last->hidx[w]);
}

/* Equal-priority entries form a subtree at the root: walk only that. */
static bool heap_tie_conflict(struct pheap *h, __u32 i,
			      const struct pol_ent *w)
{
	if (i >= h->n || hv(h)[i]->val.priority != w->val.priority)
		return false;
	if (!xb_tss_same_outcome(&hv(h)[i]->val, &w->val))
		return true;
	return heap_tie_conflict(h, 2 * i + 1, w) ||
	       heap_tie_conflict(h, 2 * i + 2, w);
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

/* In place: the bytes of the family beyond plen are cleared, and so is
 * what lies past an IPv4 address. */
static void mask_addr(union xb_addr *a, unsigned int plen, __u16 family)
{
	unsigned int nbytes = family == AF_INET6 ? 16 : 4, i, bits;

	for (i = 0; i < sizeof(a->b); i++) {
		bits = i < nbytes ? (plen >= 8 ? 8 : plen) : 0;
		a->b[i] &= (__u8)(0xff00 >> bits);
		plen -= bits;
	}
}

void xb_tss_key_mask(struct xb_tss_key *key, __u32 list_idx,
		     const struct xb_shape *shape, __u16 family)
{
	key->list = list_idx;
	key->shape_id = shape->id;
	key->proto &= shape->proto_mask;
	key->sport &= shape->sport_mask;
	key->dport &= shape->dport_mask;
	mask_addr(&key->saddr, shape->prefixlen_s, family);
	mask_addr(&key->daddr, shape->prefixlen_d, family);
}

static void policy_shape_key(const struct xb_policy *p, int list,
			     struct shape_key *sk)
{
	memset(sk, 0, sizeof(*sk));
	sk->list = list;
	sk->prefixlen_s = p->sel.prefixlen_s;
	sk->prefixlen_d = p->sel.prefixlen_d;
	sk->proto_mask = p->sel.proto ? 0xff : 0;
	sk->sport_mask = p->sel.sport_mask;
	sk->dport_mask = p->sel.dport_mask;
}

/* The published form of a shape; best_priority is left to the caller. */
static void shape_describe(const struct shape *sh, struct xb_shape *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sh->id;
	out->prefixlen_s = sh->key.prefixlen_s;
	out->prefixlen_d = sh->key.prefixlen_d;
	out->proto_mask = sh->key.proto_mask;
	out->sport_mask = sh->key.sport_mask;
	out->dport_mask = sh->key.dport_mask;
}

/* The bucket of a policy's selector in its shape. */
static void selector_key(struct xb_tss_key *key, const struct shape *sh,
			 const struct xb_selector *sel)
{
	struct xb_shape shape;

	memset(key, 0, sizeof(*key));
	key->proto = sel->proto;
	key->sport = sel->sport;
	key->dport = sel->dport;
	key->saddr = sel->saddr;
	key->daddr = sel->daddr;
	shape_describe(sh, &shape);
	xb_tss_key_mask(key, sh->key.list, &shape, sel->family);
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
	if (ls->next_id > 0xffff)
		return -ENOSPC;
	*id = ls->next_id++;
	return 0;
}

static struct shape *shape_get(struct xb_tss *tss, const struct shape_key *sk)
{
	struct list_state *ls = &tss->lists[sk->list];
	struct xb_hnode *n = xb_htab_find(&tss->shapes, sk);
	struct shape *sh;

	if (n)
		return xb_container_of(n, struct shape, node);
	if (grow_array((void **)&ls->shapes, &ls->cap, ls->n + 1,
		       sizeof(*ls->shapes)))
		return NULL;
	sh = calloc(1, sizeof(*sh));
	if (!sh)
		return NULL;
	sh->key = *sk;
	if (list_alloc_id(ls, &sh->id) || xb_htab_insert(&tss->shapes, &sh->node)) {
		free(sh);
		return NULL;
	}
	sh->slot = ls->n;
	ls->shapes[ls->n++] = sh;
	list_mark_dirty(tss, sk->list);
	return sh;
}

/* Its buckets are empty and wait for the flush; the id waits too, so no
 * new shape reuses it while stale buckets of this one are published. */
static void shape_put(struct xb_tss *tss, struct shape *sh)
{
	struct list_state *ls = &tss->lists[sh->key.list];
	struct shape *last;

	if (sh->pols.n)
		return;
	last = ls->shapes[--ls->n];
	last->slot = sh->slot;
	ls->shapes[sh->slot] = last;
	/* On ENOMEM the id is lost, which is harmless. */
	(void)id_push(&ls->pend_ids, sh->id);
	xb_htab_remove(&tss->shapes, &sh->node);
	list_mark_dirty(tss, sh->key.list);
	heap_free(&sh->pols);
	free(sh);
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

static struct bucket *bucket_alloc(struct xb_tss *tss)
{
	struct bucket_chunk *c = tss->chunks;
	struct bucket *b = tss->free_buckets;

	if (b) {
		tss->free_buckets = b->node.next ?
			xb_container_of(b->node.next, struct bucket, node) : NULL;
	} else {
		if (!c || c->used == BUCKET_CHUNK) {
			c = malloc(sizeof(*c));
			if (!c)
				return NULL;
			c->next = tss->chunks;
			c->used = 0;
			tss->chunks = c;
		}
		b = &c->b[c->used++];
	}
	memset(b, 0, sizeof(*b));
	return b;
}

static void bucket_release(struct xb_tss *tss, struct bucket *b)
{
	heap_free(&b->pols);
	b->node.next = tss->free_buckets ? &tss->free_buckets->node : NULL;
	tss->free_buckets = b;
}

static struct bucket *bucket_get(struct xb_tss *tss,
				 const struct xb_tss_key *key)
{
	struct xb_hnode *n = xb_htab_find(&tss->buckets, key);
	struct bucket *b;

	if (n)
		return xb_container_of(n, struct bucket, node);
	b = bucket_alloc(tss);
	if (!b)
		return NULL;
	b->key = *key;
	if (bucket_mark_dirty(tss, b) || xb_htab_insert(&tss->buckets, &b->node)) {
		if (b->dirty)
			tss->n_dirty--;
		bucket_release(tss, b);
		return NULL;
	}
	return b;
}

static int policy_attach(struct xb_tss *tss, struct pol_ent *pe,
			 const struct xb_policy *p, int list)
{
	struct shape_key sk;
	struct xb_tss_key key;
	struct shape *sh;
	struct bucket *b;

	policy_shape_key(p, list, &sk);
	sh = shape_get(tss, &sk);
	if (!sh)
		return -ENOMEM;
	selector_key(&key, sh, &p->sel);
	b = bucket_get(tss, &key);
	if (!b || heap_reserve(&sh->pols) || heap_reserve(&b->pols) ||
	    bucket_mark_dirty(tss, b)) {
		/* A new empty bucket is freed by the next flush. */
		shape_put(tss, sh);	/* frees it only when empty */
		return -ENOMEM;
	}
	heap_push(&sh->pols, HEAP_SHAPE, pe);
	heap_push(&b->pols, HEAP_BUCKET, pe);
	if (heap_top(&sh->pols) == pe)
		list_mark_dirty(tss, list);
	pe->shape = sh;
	pe->bucket = b;
	return 0;
}

static void policy_detach(struct xb_tss *tss, struct pol_ent *pe)
{
	struct shape *sh = pe->shape;
	bool was_best = heap_top(&sh->pols) == pe;

	heap_remove(&pe->bucket->pols, HEAP_BUCKET, pe);
	/* Already in the dirty array when it got this policy, or marked
	 * since; a failure here only leaves it for a later flush. */
	bucket_mark_dirty(tss, pe->bucket);
	heap_remove(&sh->pols, HEAP_SHAPE, pe);
	if (was_best)
		list_mark_dirty(tss, sh->key.list);
	if (!sh->pols.n)
		shape_put(tss, sh);
	pe->shape = NULL;
	pe->bucket = NULL;
}

/* After 2^32 adds the generations start over: a published value could
 * then seem current when it is not, so none is trusted any more (0). */
static __u32 next_gen(struct xb_tss *tss)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	if (++tss->gen)
		return tss->gen;
	xb_htab_for_each(&tss->buckets, n, tmp, i)
		xb_container_of(n, struct bucket, node)->pub_gen = 0;
	return tss->gen = 1;
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
	struct pol_ent *pe;

	err = policy_check(tss, pol);
	if (err)
		return err;
	if (policy_find(tss, pol->id))
		return -EEXIST;
	pe = &tss->pols[pol->id];
	memset(pe, 0, sizeof(*pe));
	pe->val.policy_id = pol->id;
	pe->val.priority = pol->priority;
	pe->val.pos = pol->pos;
	pe->val.if_id = pol->if_id;
	pe->val.verdict = policy_verdict(pol);
	pe->gen = next_gen(tss);
	pe->taint_list = -1;
	if (list >= 0 && policy_in_view(pol)) {
		err = policy_attach(tss, pe, pol, list);
		if (err)
			return err;
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
	if (pe->shape)
		policy_detach(tss, pe);
	if (pe->taint_list >= 0) {
		tss->lists[pe->taint_list].n_offload--;
		list_mark_dirty(tss, pe->taint_list);
	}
	pe->present = false;
	return 0;
}

/* ---- publication ------------------------------------------------------ */

/* Everything but the verdict is the winner's, and a winner never changes
 * under its generation: (gen, verdict) identifies the value. */
static void bucket_value(struct bucket *b, struct xb_tss_val *v)
{
	const struct pol_ent *w = heap_top(&b->pols);

	*v = w->val;
	if (heap_tie_conflict(&b->pols, 0, w))
		v->verdict = XB_V_UNDECIDABLE;
}

static int shape_cmp(const void *a, const void *b)
{
	const struct shape *x = *(struct shape *const *)a;
	const struct shape *y = *(struct shape *const *)b;

	if (pe_before(heap_top(&x->pols), heap_top(&y->pols)))
		return -1;
	if (pe_before(heap_top(&y->pols), heap_top(&x->pols)))
		return 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void list_build(struct list_state *ls, struct xb_shape_list *out)
{
	struct shape *sorted[XB_MAX_SHAPES];
	__u32 i;

	memset(out, 0, sizeof(*out));
	if (ls->n > XB_MAX_SHAPES || ls->n_offload) {
		out->overflow = 1;
		return;
	}
	if (!ls->n)
		return;
	memcpy(sorted, ls->shapes, ls->n * sizeof(*sorted));
	qsort(sorted, ls->n, sizeof(*sorted), shape_cmp);
	out->count = ls->n;
	for (i = 0; i < ls->n; i++) {
		struct xb_shape *s = &out->shapes[i];
		const struct shape *sh = sorted[i];

		shape_describe(sh, s);
		s->best_priority = heap_top(&sh->pols)->val.priority;
	}
}

static void keep_err(int *first, int err)
{
	if (err && !*first)
		*first = err;
}

static int flush_puts(struct xb_tss *tss, const struct xb_tss_sink *sink)
{
	struct xb_tss_val val;
	int first = 0;
	__u32 i, gen;

	for (i = 0; i < tss->n_dirty; i++) {
		struct bucket *b = tss->dirty[i];

		if (!b->pols.n)
			continue;
		bucket_value(b, &val);
		gen = heap_top(&b->pols)->gen;
		if (b->published && b->pub_gen == gen && b->pub_verdict == val.verdict)
			continue;
		keep_err(&first, sink->put_entry(sink->ctx, &b->key, &val));
		b->pub_gen = gen;
		b->pub_verdict = val.verdict;
		b->published = true;
	}
	return first;
}

static int flush_lists(struct xb_tss *tss, const struct xb_tss_sink *sink)
{
	struct xb_shape_list sl;
	int first = 0;
	__u32 i;

	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		struct list_state *ls = &tss->lists[i];

		if (!ls->dirty)
			continue;
		ls->dirty = false;
		list_build(ls, &sl);
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
		if (b->pols.n)
			continue;
		if (b->published)
			keep_err(&first, sink->del_entry(sink->ctx, &b->key));
		xb_htab_remove(&tss->buckets, &b->node);
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

/* Deleted shapes' buckets are gone now: their ids may be reused. */
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

int xb_tss_flush(struct xb_tss *tss, const struct xb_tss_sink *sink)
{
	int first = 0;

	keep_err(&first, flush_puts(tss, sink));
	keep_err(&first, flush_lists(tss, sink));
	keep_err(&first, flush_dels(tss, sink));
	release_pending_ids(tss);
	return first;
}

void xb_tss_forget_published(struct xb_tss *tss)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	xb_htab_for_each(&tss->buckets, n, tmp, i) {
		struct bucket *b = xb_container_of(n, struct bucket, node);

		b->published = false;
		bucket_mark_dirty(tss, b);
	}
	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		tss->lists[i].published = false;
		tss->lists[i].dirty = true;
	}
}

unsigned int xb_tss_overflows(const struct xb_tss *tss)
{
	unsigned int i, n = 0;

	for (i = 0; i < XB_SHAPE_LISTS; i++)
		n += tss->lists[i].n > XB_MAX_SHAPES;
	return n;
}

unsigned int xb_tss_offload_lists(const struct xb_tss *tss)
{
	unsigned int i, n = 0;

	for (i = 0; i < XB_SHAPE_LISTS; i++)
		n += tss->lists[i].n_offload > 0;
	return n;
}

struct xb_tss *xb_tss_new(__u32 max_policies)
{
	struct xb_tss *tss = calloc(1, sizeof(*tss));
	unsigned int i;

	if (!tss)
		return NULL;
	tss->max_policies = max_policies;
	tss->pols = calloc(max_policies, sizeof(*tss->pols));
	if (!tss->pols ||
	    xb_htab_init(&tss->shapes, offsetof(struct shape, key) -
			 offsetof(struct shape, node), sizeof(struct shape_key)) ||
	    xb_htab_init(&tss->buckets, offsetof(struct bucket, key) -
			 offsetof(struct bucket, node), sizeof(struct xb_tss_key))) {
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
	if (tss->shapes.buckets) {
		xb_htab_for_each(&tss->shapes, n, tmp, i) {
			struct shape *sh = xb_container_of(n, struct shape, node);

			heap_free(&sh->pols);
			free(sh);
		}
	}
	if (tss->buckets.buckets) {
		xb_htab_for_each(&tss->buckets, n, tmp, i) {
			struct bucket *b = xb_container_of(n, struct bucket, node);

			heap_free(&b->pols);
		}
	}
	while (tss->chunks) {
		struct bucket_chunk *c = tss->chunks;

		tss->chunks = c->next;
		free(c);
	}
	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		free(tss->lists[i].shapes);
		free(tss->lists[i].free_ids.v);
		free(tss->lists[i].pend_ids.v);
	}
	free(tss->pols);
	xb_htab_fini(&tss->shapes);
	xb_htab_fini(&tss->buckets);
	free(tss->dirty);
	free(tss);
}
