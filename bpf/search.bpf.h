/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The search of one published shape list (include/xfrmbpf/tss.h): each
 * table's shape masks the packet's flow into a key of xb_tss, the policies
 * of the bucket found there are checked in full, and the best policy of
 * all hits wins. Tables are sorted by their best priority, so the walk
 * stops at the first table that cannot beat what was found; a presence
 * filter spares it the keys that are absent, and a priority gate the
 * present ones that cannot beat what was found either.
 *
 * Present keys are looked up best first: a key the filter lets through
 * waits with the bound of its policies' priorities (its gate, or its
 * table's best priority if that is worse), and the walk looks up the
 * waiting key of the best bound before it reads a table whose best
 * priority is worse. The key holding the flow's best match thus tends to
 * come first, and keys that cannot beat it are never looked up: at 100k
 * realistic policies a new flow probed 2.76 keys in the tables' order
 * (acl, IPv4) where 1.23 have a bound no worse than its best match
 * (bench_classify, the walk lines). Any order gives the same result
 * (tests/lib/tss_reader.c walks in the tables' order), a full bucket
 * included (xb_walk_probe()).
 */
#ifndef XFRMBPF_SEARCH_BPF_H
#define XFRMBPF_SEARCH_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"

#define XB_POS_WORDS	(XB_MAX_TABLES / 64)

/* Keys the walk found present and has not looked up yet, at most: a new
 * flow finds 2-4 at 100k realistic policies. With all of them waiting,
 * the walk looks up the best before it reads on. They wait in the order
 * of their bounds, the best last (xb_walk_read()). */
#define XB_WALK_WAITING	8
/* Slot j of the wait list, in bounds for the verifier (j < XB_WALK_WAITING
 * where it is used). */
#define XB_WALK_SLOT(j)	((j) & (XB_WALK_WAITING - 1))
_Static_assert((XB_WALK_WAITING & (XB_WALK_WAITING - 1)) == 0,
	       "XB_WALK_SLOT() masks: a power of 2");

/* A present key waiting to be looked up: no policy of it has a better
 * priority than bound. */
struct xb_walk_key {
	__u32 bound;
	__u32 classes;		/* xb_table_classes() of it */
	__u32 pos;		/* its table */
};

/* The walk's state beyond its stack (6.1 gives all frames 512 bytes
 * together): the candidate tables of an indexed list, by id as the index
 * has them, then by position (priority order); the next table to read;
 * the present keys waiting. */
struct xb_search_cand {
	__u64 ids[XB_TABLE_ID_WORDS];
	__u64 pos[XB_POS_WORDS];
	__u32 sorting;		/* the walk turns ids into positions first */
	__u32 next_id;		/* the next id to turn */
	__u32 next_pos;		/* the next table (position) to read */
	__u32 n_waiting;
	struct xb_walk_key waiting[XB_WALK_WAITING];
};

/* Per CPU: no room on the stack. The program's own, not pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xb_search_cand);
} xb_search_cand SEC(".maps");

/* The best policy of one shape list for one flow. */
struct xb_match {
	__u32 policy_id;
	__u32 priority;
	__u32 pos;
	__u32 if_id;
	__u8 verdict;
	__u8 found;
	/* the best priority is shared by hits with different outcomes: which
	 * one the kernel picks is not visible from netlink (user/classifier/tss.h) */
	__u8 conflict;
	__u8 overflow;
	/* XB_FULL_BUCKET: a bucket with more policies than it holds was hit;
	 * XB_FULL_STEPS: the walk ran out of steps */
	__u8 full;
	__u8 pad[3];
};

enum {
	XB_FULL_BUCKET = 1,
	XB_FULL_STEPS,
};

/* Overflowed list, full bucket, conflicting tie or an undecidable
 * winner. */
static __always_inline bool xb_match_undecidable(const struct xb_match *m)
{
	return m->overflow || m->full ||
	       (m->found && (m->conflict || m->verdict == XB_V_UNDECIDABLE));
}

/* Which of those, for an undecidable match. */
static __always_inline __u8 xb_match_cause(const struct xb_match *m)
{
	if (m->overflow)
		return XB_U_LIST;
	if (m->full)
		return m->full == XB_FULL_STEPS ? XB_U_SEARCH_STEPS :
						  XB_U_FULL_BUCKET;
	if (m->conflict)
		return XB_U_TIE;
	return XB_U_POLICY;
}

/* bpf_loop() context of the search: the flow is copied in, so the
 * callback touches only its own stack and maps. */
struct xb_search_walk {
	union xb_addr saddr;
	union xb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 v6;
	/* where the walk is: table << XB_TSS_CHUNK_BITS | chunk of the
	 * bucket in it (one field: the stack has no room for two) */
	__u16 at;
	__u32 list_idx;
	struct xb_match best;
};

#define XB_TSS_CHUNK_BITS	2	/* XB_BUCKET_CHUNKS == 1 << 2 */
#define XB_WALK_TABLE(w)	((w)->at >> XB_TSS_CHUNK_BITS)
#define XB_WALK_CHUNK(w)	((w)->at & (XB_BUCKET_CHUNKS - 1))
_Static_assert(XB_BUCKET_CHUNKS == 1 << XB_TSS_CHUNK_BITS, "chunk bits");
_Static_assert((XB_MAX_TABLES & (XB_MAX_TABLES - 1)) == 0, "tables: a power of 2");

/* bpf_loop() runs one iteration more, a step that does nothing: it then
 * returns XB_SEARCH_STEPS + 1 (iterations run) only when no step stopped
 * the walk. Counted so, not by the steps: the callback's index would stay
 * live across its calls, a stack slot that 6.1's 512 bytes for the
 * frames together do not have. */
#define XB_SEARCH_LOOPS		(XB_SEARCH_STEPS + 1)
_Static_assert(XB_TABLE_IDS << XB_TSS_CHUNK_BITS <= 0x10000, "walk.at: 16 bits");

/* The flow's address masked by a table's prefix, word by word. */
static __always_inline void xb_mask_addr(union xb_addr *dst,
					 const union xb_addr *src,
					 const __be32 *mask)
{
	dst->a[0] = src->a[0] & mask[0];
	dst->a[1] = src->a[1] & mask[1];
	dst->a[2] = src->a[2] & mask[2];
	dst->a[3] = src->a[3] & mask[3];
}

/* The (priority, pos, id)-least hit wins, as in the tested reader
 * xb_tss_lookup(). */
static __always_inline void xb_match_consider(struct xb_match *m,
					      const struct xb_tss_rule *v)
{
	if (m->found && v->priority > m->priority)
		return;
	if (!m->found || v->priority < m->priority) {
		m->conflict = 0;
	} else {
		if (v->verdict != m->verdict || v->if_id != m->if_id)
			m->conflict = 1;
		if (v->pos > m->pos ||
		    (v->pos == m->pos && v->policy_id >= m->policy_id))
			return;
	}
	m->found = 1;
	m->policy_id = v->policy_id;
	m->priority = v->priority;
	m->pos = v->pos;
	m->if_id = v->if_id;
	m->verdict = v->verdict;
}

/* Word `word` (0..3) of an address, without a variable stack offset. */
static __always_inline __u32 xb_addr_word(const union xb_addr *a, __u32 word)
{
	switch (word & 3) {
	case 0:
		return a->a[0];
	case 1:
		return a->a[1];
	case 2:
		return a->a[2];
	default:
		return a->a[3];
	}
}

/* What the table's key left unchecked of a bucket policy's selector:
 * the last prefix word of each address, ports and proto in full. */
static __always_inline bool xb_rule_matches(const struct xb_search_walk *w,
					    const struct xb_tss_rule *r)
{
	__u32 word;

	if (r->proto && r->proto != w->proto)
		return false;
	if ((w->sport ^ r->sport) & r->sport_mask)
		return false;
	if ((w->dport ^ r->dport) & r->dport_mask)
		return false;
	word = xb_tss_prefix_word(r->prefixlen_s);
	if ((xb_addr_word(&w->saddr, word) ^ r->saddr_word) &
	    xb_prefix_word_mask(r->prefixlen_s, word))
		return false;
	word = xb_tss_prefix_word(r->prefixlen_d);
	return !((xb_addr_word(&w->daddr, word) ^ r->daddr_word) &
		 xb_prefix_word_mask(r->prefixlen_d, word));
}

/* One chunk of a bucket's policies, rules[0..count) of at most max, in
 * their order. Returns 1 when a policy cannot beat the best match (nor
 * can any after it: the walk of the bucket stops), else 0. Equal
 * priority may still win by position, or conflict. */
static __always_inline int xb_chunk_scan(struct xb_search_walk *w,
					 const struct xb_tss_rule *rules,
					 __u32 count, const __u32 max)
{
	__u32 j;

#pragma clang loop unroll(disable)
	for (j = 0; j < max; j++) {
		const struct xb_tss_rule *r = &rules[j];

		if (j >= count)
			break;
		if (w->best.found && r->priority > w->best.priority)
			return 1;
		if (xb_rule_matches(w, r))
			xb_match_consider(&w->best, r);
	}
	return 0;
}

/* The flow's key in table sh, at the walk's chunk of the bucket. */
static __always_inline void xb_table_key(struct xb_tss_key *key,
					 const struct xb_search_walk *w,
					 const struct xb_shape *sh)
{
	key->list = XB_TSS_KEY_CHUNK(w->list_idx, XB_WALK_CHUNK(w));
	key->shape_id = sh->id;
	key->proto = w->proto & sh->proto_mask;
	key->sport = w->sport & sh->sport_mask;
	key->dport = w->dport & sh->dport_mask;
	xb_mask_addr(&key->saddr, &w->saddr, sh->saddr_mask);
	xb_mask_addr(&key->daddr, &w->daddr, sh->daddr_mask);
}

/* The filter word's index in the classes of xb_table_classes(), plus one:
 * 0 where there is none (a further chunk), which no gate closes. */
#define XB_CLASSES_WORD_SHIFT	XB_TSS_CLASSES
#define XB_CLASSES_WORD(c)	((c) >> XB_CLASSES_WORD_SHIFT)
_Static_assert(((__u64)XB_TSS_FILTER_ENTRIES + 1) << XB_CLASSES_WORD_SHIFT <= 0x100000000ULL,
	       "classes: the filter word above the class bits");

/* Where the flow's bucket in table sh may be, as the presence filter
 * tells: bit 1 << XB_TSS_CLASS_BIG for xb_tss, 1 << XB_TSS_CLASS_PAIR for
 * xb_tss_pair, and above them (XB_CLASSES_WORD()) the filter word, for the
 * probe's priority gate; 0 proves it absent, and the walk passes the table
 * by without a probe. In the walk's step itself, not in xb_walk_probe():
 * most tables a flow meets end here (36 of 40 at 100k realistic
 * policies), so this is the walk's most frequent path. The flow is hashed
 * as masked, lane by lane, with no key on the stack (6.1's limit on the
 * frames' stack together). Only for chunk 0: the bitmap knows no others
 * (they are all in xb_tss). */
static __always_inline __u32 xb_table_classes(const struct xb_search_walk *w,
					      const struct xb_shape *sh)
{
	__u64 head, h, *word;
	__u32 idx, classes;

	if (XB_WALK_CHUNK(w))
		return 1U << XB_TSS_CLASS_BIG;
	head = xb_tss_key_head(w->list_idx, w->proto & sh->proto_mask, sh->id,
			       w->sport & sh->sport_mask, w->dport & sh->dport_mask);
	/* An IPv4 table's masks keep only the first word of an address: the
	 * other lanes are 0, in the mirror's hash of its keys as well */
	if (!w->v6)
		h = xb_tss_filter_lanes(head, w->saddr.a[0] & sh->saddr_mask[0], 0,
					w->daddr.a[0] & sh->daddr_mask[0], 0);
	else
		h = xb_tss_filter_lanes(
			head,
			xb_tss_addr_lane(w->saddr.a[0] & sh->saddr_mask[0],
					 w->saddr.a[1] & sh->saddr_mask[1]),
			xb_tss_addr_lane(w->saddr.a[2] & sh->saddr_mask[2],
					 w->saddr.a[3] & sh->saddr_mask[3]),
			xb_tss_addr_lane(w->daddr.a[0] & sh->daddr_mask[0],
					 w->daddr.a[1] & sh->daddr_mask[1]),
			xb_tss_addr_lane(w->daddr.a[2] & sh->daddr_mask[2],
					 w->daddr.a[3] & sh->daddr_mask[3]));
	idx = xb_tss_filter_word_of(w->list_idx, h);
	word = bpf_map_lookup_elem(&xb_tss_filter, &idx);
	if (!word)
		return 1U << XB_TSS_CLASS_BIG | 1U << XB_TSS_CLASS_PAIR;
	/* most keys end here: one bit of each class is enough to show it */
	if (!xb_tss_filter_may_hold(*word, h))
		return 0;
	classes = xb_tss_filter_hit(*word, xb_tss_filter_mask_of(h, XB_TSS_CLASS_BIG));
	classes |= xb_tss_filter_hit(*word, xb_tss_filter_mask_of(h, XB_TSS_CLASS_PAIR)) <<
		   XB_TSS_CLASS_PAIR;
	return classes ? classes | (idx + 1) << XB_CLASSES_WORD_SHIFT : 0;
}

/* Moves the walk on to the next table. */
static __always_inline void xb_walk_next_table(struct xb_search_walk *w)
{
	w->at = (XB_WALK_TABLE(w) + 1) << XB_TSS_CHUNK_BITS;
}

/* Index of the lowest set bit of x != 0 (BPF has no such instruction). */
static __always_inline __u32 xb_ctz64(__u64 x)
{
	__u32 n = 0;

	if (!(x & 0xffffffffULL)) {
		n += 32;
		x >>= 32;
	}
	if (!(x & 0xffff)) {
		n += 16;
		x >>= 16;
	}
	if (!(x & 0xff)) {
		n += 8;
		x >>= 8;
	}
	if (!(x & 0xf)) {
		n += 4;
		x >>= 4;
	}
	if (!(x & 0x3)) {
		n += 2;
		x >>= 2;
	}
	return n + !(x & 1);
}

/* The first set bit of words[0..n) at or after from, limit for none. */
static __always_inline __u32 xb_next_bit(const __u64 *words, __u32 n,
					 __u32 from, __u32 limit)
{
	__u32 j, first = from / 64;
	__u64 bits;

#pragma clang loop unroll(full)
	for (j = 0; j < XB_TABLE_ID_WORDS; j++) {
		if (j >= n)
			break;
		if (j < first)
			continue;
		bits = words[j];
		if (j == first)
			bits &= ~0ULL << (from & 63);
		if (bits)
			return j * 64 + xb_ctz64(bits);
	}
	return limit;
}

/* One candidate id into its position bit; false past the last. */
static __always_inline bool xb_cand_sort_one(struct xb_search_cand *cand,
					     const struct xb_shape_list *list)
{
	__u32 id;
	__u64 pos;

	id = xb_next_bit(cand->ids, XB_TABLE_ID_WORDS, cand->next_id, XB_TABLE_IDS);
	if (id >= XB_TABLE_IDS)
		return false;
	cand->next_id = id + 1;
	pos = list->pos_of_id[id & (XB_TABLE_IDS - 1)];
	asm volatile("" : "+r"(pos));
	/* XB_NO_POS: a table gone since the index named it */
	if (pos < XB_MAX_TABLES)
		cand->pos[pos / 64] |= 1ULL << (pos & 63);
	return true;
}

/* The bound of a present key's policies: the best of the gates of its
 * filter word (include/xfrmbpf/tss.h) for the classes the filter let
 * through, or its table's best priority where that is worse. No policy of
 * the key can beat or tie a match better than it. */
static __always_inline __u32 xb_key_bound(__u32 classes, __u32 table_best)
{
	__u32 idx = XB_CLASSES_WORD(classes) - 1, bound;
	struct xb_tss_gate *gate;

	if (!XB_CLASSES_WORD(classes))
		return table_best;
	gate = bpf_map_lookup_elem(&xb_tss_gate, &idx);
	if (!gate)
		return table_best;
	bound = xb_tss_gate_bound(gate, classes);
	return bound > table_best ? bound : table_best;
}

/*
 * One entry of xb_tss looked up: with take_waiting, chunk 0 of the bucket
 * of the flow in the table of the waiting key of the best bound, which
 * leaves the wait list; else the next chunk of the bucket the walk is in. Moves the
 * walk on to the next chunk when the bucket has one whose policies may
 * still beat the best, else out of the bucket (to chunk 0). Returns 1 on
 * a full bucket (the list is undecidable, the walk stops), else 0: the
 * walk reaches one only when neither the best found nor anything left can
 * beat its table's best priority (its bound: every key of a better bound,
 * every table of a better best priority came first), so one of its
 * unpublished policies may win, whatever the walk meets after it.
 *
 * Global, as xb_decide_policy() is: checked once on its own, instead of
 * for every state of the walk that reaches it (inlined into the walk's
 * callback, the bucket loop multiplied the verifier's work past its
 * limit). One entry per step, not a loop over the chunks, for the same
 * reason.
 */
__noinline int xb_walk_probe(struct xb_search_walk *w, __u32 take_waiting)
{
	struct xb_tss_key key = {};
	struct xb_search_cand *cand;
	struct xb_shape_list *list;
	const struct xb_shape *sh;
	struct xb_tss_pair_val *p;
	__u32 zero = 0, classes;
	struct xb_walk_key *k;
	struct xb_tss_val *v;
	__u32 list_idx;
	__u64 pos;

	if (!w)
		return 0;
	/* a key on the stack: 6.1 takes no argument memory as a map key */
	list_idx = w->list_idx;
	list = bpf_map_lookup_elem(&xb_shape_lists, &list_idx);
	cand = bpf_map_lookup_elem(&xb_search_cand, &zero);
	if (!list || !cand)
		return 0;
	if (take_waiting && cand->n_waiting) {
		cand->n_waiting--;
		k = &cand->waiting[XB_WALK_SLOT(cand->n_waiting)];
		pos = k->pos;
		classes = k->classes;
		w->at = pos << XB_TSS_CHUNK_BITS;
	} else {
		pos = XB_WALK_TABLE(w);
		classes = 1U << XB_TSS_CLASS_BIG;
	}
	/* see xb_walk_table() */
	asm volatile("" : "+r"(pos));
	if (pos >= XB_MAX_TABLES) {
		/* not reached: only tables' positions wait */
		w->best.full = XB_FULL_STEPS;
		return 1;
	}
	sh = &list->shapes[pos];
	xb_table_key(&key, w, sh);
	/* a key is in one map: a pair found is the whole bucket */
	if (classes & 1U << XB_TSS_CLASS_PAIR) {
		p = bpf_map_lookup_elem(&xb_tss_pair, &key);
		if (p) {
			xb_chunk_scan(w, p->rules, p->count, XB_PAIR_RULES);
			xb_walk_next_table(w);
			return 0;
		}
	}
	v = classes & 1U << XB_TSS_CLASS_BIG ? bpf_map_lookup_elem(&xb_tss, &key) : NULL;
	if (v && v->full) {
		w->best.full = XB_FULL_BUCKET;
		return 1;
	}
	if (v && !xb_chunk_scan(w, v->rules, v->count, XB_BUCKET_RULES) && v->more &&
	    XB_WALK_CHUNK(w) + 1 < XB_BUCKET_CHUNKS &&
	    xb_tss_ports_hold(&v->later, w->sport, w->dport)) {
		w->at++;
		return 0;
	}
	xb_walk_next_table(w);
	return 0;
}

/* The table at position pos of the walk's list, or NULL past the last,
 * or where its best priority cannot beat what was found (the walk reads
 * no further). */
static __always_inline const struct xb_shape *
xb_walk_table(const struct xb_search_walk *w, const struct xb_shape_list *list,
	      __u64 pos)
{
	if (pos >= list->count)
		return NULL;
	/* A 64-bit index the compiler cannot see through: the bound check
	 * and the access then use the same register, as the verifier
	 * needs. */
	asm volatile("" : "+r"(pos));
	if (pos >= XB_MAX_TABLES)
		return NULL;
	if (w->best.found && list->shapes[pos].best_priority > w->best.priority)
		return NULL;
	return &list->shapes[pos];
}

/* The position of the next table the walk reads: the next of the list,
 * or of an indexed list's candidates. XB_MAX_TABLES past the last. */
static __always_inline __u64 xb_walk_next_pos(const struct xb_shape_list *list,
					      const struct xb_search_cand *cand)
{
	__u64 pos = cand->next_pos;

	if (!list->indexed)
		return pos;
	/* the bit search's paths end in positions of ranges of their own:
	 * one state for all of them on */
	return xb_next_bit(cand->pos, XB_POS_WORDS, pos, XB_MAX_TABLES) + xb_opaque_zero();
}

/*
 * The walk reads table sh (at position pos): the flow's key in it waits to
 * be looked up if the filter finds it present and its bound can still
 * beat or tie the best. Returns 1 when it waits, else 0.
 *
 * Global, as xb_walk_probe() is: its stack (the hash's lanes, the gate)
 * is not added to the walk's callback's, which has no room for it under
 * 6.1's 512 bytes for the frames together.
 */
__noinline int xb_walk_read(struct xb_search_walk *w, const struct xb_shape *sh,
			    __u32 pos)
{
	__u32 classes, bound, n, i, j, zero = 0;
	struct xb_search_cand *cand;
	struct xb_walk_key *k;

	if (!w || !sh)
		return 0;
	cand = bpf_map_lookup_elem(&xb_search_cand, &zero);
	if (!cand)
		return 0;
	classes = xb_table_classes(w, sh);
	if (!classes)
		return 0;
	bound = xb_key_bound(classes, sh->best_priority);
	if (w->best.found && bound > w->best.priority)
		return 0;
	n = cand->n_waiting;
	if (n >= XB_WALK_WAITING) {
		/* not reached: the walk looks one up when all wait */
		w->best.full = XB_FULL_STEPS;
		return 0;
	}
	/* in order of their bounds, the best last, and of equal bounds the
	 * first read last (it comes first, as the tables' order would have
	 * it): the keys of bounds no worse move up one */
	j = n;
#pragma clang loop unroll(disable)
	for (i = 0; i < XB_WALK_WAITING - 1; i++) {
		if (!j || cand->waiting[XB_WALK_SLOT(j - 1)].bound > bound)
			break;
		cand->waiting[XB_WALK_SLOT(j)] =
			cand->waiting[XB_WALK_SLOT(j - 1)];
		j--;
	}
	k = &cand->waiting[XB_WALK_SLOT(j)];
	k->bound = bound;
	k->classes = classes;
	k->pos = pos;
	cand->n_waiting = n + 1;
	return 1;
}

/*
 * The walk at chunk 0 of no bucket: looks up the waiting key of the best
 * bound if no table left to read can beat it (or all room to wait is
 * taken), else reads the next table (xb_walk_read()). Returns 1 (stop)
 * when no table is left to read and no key waits, or on a full bucket.
 */
static __always_inline long xb_walk_advance(struct xb_search_walk *w,
					    const struct xb_shape_list *list,
					    struct xb_search_cand *cand)
{
	const struct xb_shape *sh;
	__u32 n = cand->n_waiting, bound;
	__u64 pos;

	pos = xb_walk_next_pos(list, cand);
	sh = xb_walk_table(w, list, pos);
	bound = cand->waiting[XB_WALK_SLOT(n - 1)].bound;
	if (n && (!sh || bound < sh->best_priority || n >= XB_WALK_WAITING)) {
		if (w->best.found && bound > w->best.priority) {
			/* nor can any other waiting key beat the best */
			cand->n_waiting = 0;
			return !sh;
		}
		return xb_walk_probe(w, 1) != 0;
	}
	if (!sh)
		return 1;
	cand->next_pos = pos + 1;
	if (xb_walk_read(w, sh, pos))
		return 0;
	/* Most tables end here, the key absent: the next one in the same
	 * step unless the waiting key comes first. Two filter words a step,
	 * whose loads the CPU overlaps, and half the calls: 8-15% less a new
	 * flow at 100k acl and ipc policies, as the walk in the tables' order
	 * measured it (bench_classify, interleaved rounds). */
	pos = xb_walk_next_pos(list, cand);
	sh = xb_walk_table(w, list, pos);
	if (!sh || (n && bound < sh->best_priority))
		return 0;
	cand->next_pos = pos + 1;
	xb_walk_read(w, sh, pos);
	return 0;
}

/*
 * One step of the walk of a list: first, for an indexed list, one
 * candidate id turned into its position bit a step (include/xfrmbpf/tss.h:
 * the walk goes in the order of the tables' best priorities); then the
 * next chunk of the bucket the last step looked up, or xb_walk_advance().
 * Returns 1 (stop) once the walk is over. (The ids are turned here and
 * not by a loop of their own: a nested bpf_loop() frame would pass 6.1's
 * 512-byte stack limit.)
 */
static long xb_search_step(__u32 i, void *data)
{
	struct xb_search_walk *w = data;
	struct xb_search_cand *cand;
	struct xb_shape_list *list;
	__u32 zero = 0;

	if (i >= XB_SEARCH_STEPS)
		return 0;
	list = bpf_map_lookup_elem(&xb_shape_lists, &w->list_idx);
	cand = bpf_map_lookup_elem(&xb_search_cand, &zero);
	if (!list || !cand)
		return 1;
	if (cand->sorting) {
		cand->sorting = xb_cand_sort_one(cand, list);
		return 0;
	}
	if (!XB_WALK_CHUNK(w))
		return xb_walk_advance(w, list, cand);
	return xb_walk_probe(w, 0) != 0;
}

/*
 * The walk's state beyond its stack, set out: nothing waits, the first
 * table is next; for an indexed list, the candidate tables of its flow,
 * by id (the walk sorts them). Returns 1 when the walk has tables to read,
 * else 0 (no candidate: nothing can match). Global, as xb_walk_probe()
 * is: checked once on its own, and its stack (the index key) is not added
 * to the walk's.
 */
__noinline int xb_walk_begin(const struct xb_search_walk *w)
{
	const struct xb_tss_idx_val *src, *dst, *port;
	struct xb_tss_idx_key k = {};
	struct xb_search_cand *cand;
	struct xb_shape_list *list;
	__u32 zero = 0, list_idx, j;
	__u64 any = 0, c;

	if (!w)
		return 0;
	/* a key on the stack: 6.1 takes no argument memory as a map key */
	list_idx = w->list_idx;
	list = bpf_map_lookup_elem(&xb_shape_lists, &list_idx);
	cand = bpf_map_lookup_elem(&xb_search_cand, &zero);
	if (!list || !cand)
		return 0;
	cand->sorting = 0;
	cand->next_pos = 0;
	cand->n_waiting = 0;
	if (!list->indexed)
		return 1;
	k.list = w->list_idx;
	k.dim = XB_IDX_SRC;
	xb_idx_addr_region(&k, w->saddr.a[0], w->saddr.a[1], w->v6);
	src = bpf_map_lookup_elem(&xb_tss_index, &k);
	k.dim = XB_IDX_DST;
	xb_idx_addr_region(&k, w->daddr.a[0], w->daddr.a[1], w->v6);
	dst = bpf_map_lookup_elem(&xb_tss_index, &k);
	k.dim = XB_IDX_PORT;
	xb_idx_port_region(&k, w->proto, w->dport);
	port = bpf_map_lookup_elem(&xb_tss_index, &k);
#pragma clang loop unroll(full)
	for (j = 0; j < XB_TABLE_ID_WORDS; j++) {
		c = list->unindexed[XB_IDX_SRC][j] | (src ? src->ids[j] : 0);
		c &= list->unindexed[XB_IDX_DST][j] | (dst ? dst->ids[j] : 0);
		c &= list->unindexed[XB_IDX_PORT][j] | (port ? port->ids[j] : 0);
		cand->ids[j] = c;
		any |= c;
	}
	if (!any)
		return 0;
	/* the walk goes by priority, as the tables are sorted: it can stop
	 * at the first that cannot beat what was found */
#pragma clang loop unroll(full)
	for (j = 0; j < XB_POS_WORDS; j++)
		cand->pos[j] = 0;
	cand->sorting = 1;
	cand->next_id = 0;
	return 1;
}

/* "Nothing found yet", as values the verifier does not know: the best
 * match is carried across the callback's iterations (xb_opaque_zero). */
static __always_inline void xb_match_opaque(struct xb_match *m)
{
	__u64 z = xb_opaque_zero();

	m->policy_id = z;
	m->priority = z;
	m->pos = z;
	m->if_id = z;
	m->verdict = z;
	m->found = z;
	m->conflict = z;
	m->full = z;
}

/* Best policy of one (view, type, family) shape list. */
static __always_inline void xb_search_list(const struct xb_pkt *pkt,
					   __u32 view, __u32 ptype,
					   struct xb_match *m)
{
	struct xb_search_walk w = {};
	struct xb_shape_list *list;
	bool v6 = pkt->family == AF_INET6;
	long loops = 0;

	__builtin_memset(m, 0, sizeof(*m));
	w.list_idx = XB_SHAPE_LIST_IDX(view, ptype, v6 ? XB_FAM_V6 : XB_FAM_V4);
	list = bpf_map_lookup_elem(&xb_shape_lists, &w.list_idx);
	if (!list)
		return;
	if (list->overflow) {
		m->overflow = 1;
		return;
	}
	/* Nothing to match (a forwarding gateway's sub lists, as a rule):
	 * spared the loop's call, every new flow pays for the lists it
	 * searches. */
	if (!list->count)
		return;
	w.saddr = pkt->saddr;
	w.daddr = pkt->daddr;
	w.sport = pkt->sport;
	w.dport = pkt->dport;
	w.proto = pkt->proto;
	w.v6 = v6;
	xb_match_opaque(&w.best);
	/* the walk's position too: the steps that pass a table on the
	 * filter move it on inline, and a position the verifier knew would
	 * make each iteration of the callback a state of its own */
	w.at = xb_opaque_zero();
	if (xb_walk_begin(&w))
		loops = bpf_loop(XB_SEARCH_LOOPS, xb_search_step, &w, 0);
	/* out of steps before the list is done (or no loop): undecidable */
	if (loops < 0 || loops > XB_SEARCH_STEPS)
		w.best.full = XB_FULL_STEPS;
	*m = w.best;
	m->overflow = 0;
}

#endif
