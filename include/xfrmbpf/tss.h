/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The published policy tables of the classifier: user/classifier builds
 * them, the datapath searches them (bpf/search.bpf.h).
 *
 * Each view (see enum xb_view) holds the policies that can decide a packet
 * the datapath sees there, in shape lists by (view, type, family). A list
 * is a tuple-space search over relaxed tuples, as TupleMerge (Daly, Liu,
 * Torng) does it: a table has a mask shape (prefix lengths, proto
 * wildcard, port masks) that is at most as specific as the selectors of
 * the policies it holds, so policies of many distinct shapes share one
 * table and a list needs tens of tables where plain tuple-space search
 * needs one per shape (thousands for firewall-style rule sets). A packet
 * is masked by each table's shape into a key of xb_tss; the bucket found
 * there holds the policies with what it takes to check them in full, up to
 * XB_BUCKET_RULES in the entry of the key, more (up to XB_BUCKET_MAX) in
 * further entries, chunks 1.. of the key (XB_TSS_KEY_CHUNK()). Tables are sorted by the best (lowest) priority they hold,
 * so the search stops as soon as no later table can beat the best match.
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

/* A table of a shape list: its mask shape, which every policy in it
 * refines (the policy's prefixes are at least as long, its port and proto
 * masks keep every bit the table's keep). */
struct xb_shape {
	__u32 best_priority;	/* lowest priority of any policy here */
	__u16 id;		/* table id within its list, part of the key */
	__u8 prefixlen_s;
	__u8 prefixlen_d;
	__be16 sport_mask;
	__be16 dport_mask;
	__u8 proto_mask;	/* 0xff: proto must match; 0: any proto */
	__u8 pad[3];
	/* The prefixes as network-order masks of the address words (0 past
	 * an IPv4 address): the datapath masks a flow with four ANDs a
	 * side, where computing them from the lengths took a branch per
	 * word, mispredicted as the walk goes from table to table. */
	__be32 saddr_mask[4];
	__be32 daddr_mask[4];
};

/*
 * Candidate tables. A flow can only hit a table that holds a key with the
 * flow's source region, one with its destination region and one with its
 * (proto, destination port high byte): xb_tss_index holds, per list,
 * dimension and region, the ids of the tables that have keys there (the
 * mirror keeps it exact: a table's bit is set while it has a bucket
 * there). A table whose shape is coarser than a dimension's region (a
 * prefix shorter than XB_IDX_BITS_V4/_V6, a proto or port wildcard) is
 * "unindexed" in it: a candidate as far as that dimension goes. The
 * candidates of a flow are the AND over the dimensions of (unindexed |
 * the region's ids): ClassBench-like rule sets of 100k policies leave
 * 5-24 of 100-250 tables. The candidates are then walked in the list's
 * priority order, as the plain walk goes, so that the walk still stops
 * at the first table that cannot beat the best found.
 *
 * Measured (tests/bench/bench_classify.c, miss vs miss_indexed): up to
 * ~250 tables the plain walk costs the same or less, as the presence
 * filter makes a table that cannot match cheap and three index lookups
 * that miss the CPU caches are not; a flow that stops at the first
 * tables pays them in full. So only lists of more than XB_IDX_MIN_TABLES
 * tables are published indexed (the builder can lower it:
 * xb_tss_set_index_min(), which the tests do to check the index on
 * small sets).
 */
enum xb_idx_dim {
	XB_IDX_SRC = 0,
	XB_IDX_DST = 1,
	XB_IDX_PORT = 2,
	XB_IDX_DIMS
};

/* Region of an address: its first XB_IDX_BITS_V4 / _V6 bits. */
#define XB_IDX_BITS_V4		16
#define XB_IDX_BITS_V6		48
#define XB_IDX_MIN_TABLES	256
/* Table ids: twice the tables a list holds, as ids of tables deleted in
 * one publication wait for the next (user/classifier/tss.c). */
#define XB_TABLE_IDS		(2 * XB_MAX_TABLES)

/* Steps of one list's walk in the datapath: a table read (or a candidate
 * id turned into its position) each, a present key looked up, and the
 * further chunks of the crowded buckets it meets: the longest walk of an
 * unindexed list (every table present, every bucket in all its chunks).
 * Past them the list is undecidable (search_steps). */
#define XB_SEARCH_STEPS		(XB_MAX_TABLES * (XB_BUCKET_CHUNKS + 1))
#define XB_TABLE_ID_WORDS	(XB_TABLE_IDS / 64)
#define XB_NO_POS		0xffff

/* The high byte of a network-order port, and a network-order word in
 * host order: the builder and the datapath compute regions alike. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define XB_IDX_PORT_HI		0x00ff
#define xb_idx_ntohl(x)		__builtin_bswap32(x)
#define xb_tss_ntohs(x)		__builtin_bswap16(x)
#else
#define XB_IDX_PORT_HI		0xff00
#define xb_idx_ntohl(x)		(x)
#define xb_tss_ntohs(x)		(x)
#endif

/* Network-order mask of 32-bit word `word` (0..3) of a prefix of plen
 * bits (a byte swap turns host order into network order and back). */
static inline __u32 xb_prefix_word_mask(__u32 plen, __u32 word)
{
	__u32 lo = word * 32;

	if (plen <= lo)
		return 0;
	if (plen >= lo + 32)
		return 0xffffffff;
	return xb_idx_ntohl(~0U << (32 - (plen - lo)));
}

/* A table's prefix lengths, and the masks the datapath applies. */
static inline void xb_shape_set_prefixes(struct xb_shape *sh, __u8 plen_s,
					 __u8 plen_d)
{
	__u32 w;

	sh->prefixlen_s = plen_s;
	sh->prefixlen_d = plen_d;
	for (w = 0; w < 4; w++) {
		sh->saddr_mask[w] = xb_prefix_word_mask(plen_s, w);
		sh->daddr_mask[w] = xb_prefix_word_mask(plen_d, w);
	}
}

/* Key of xb_tss_index. */
struct xb_tss_idx_key {
	__u8 list;		/* XB_SHAPE_LIST_IDX() */
	__u8 dim;		/* enum xb_idx_dim */
	__u16 pad;
	__u32 region_hi;	/* xb_idx_region(), high and low half */
	__u32 region_lo;
};

/* Value of xb_tss_index: table ids, bit i of word i / 64. */
struct xb_tss_idx_val {
	__u64 ids[XB_TABLE_ID_WORDS];
};

/* Whether dimension dim indexes a table of this shape. */
static inline int xb_idx_indexes(__u32 dim, __u8 prefixlen_s, __u8 prefixlen_d,
				 __u8 proto_mask, __be16 dport_mask, int v6)
{
	__u32 bits = v6 ? XB_IDX_BITS_V6 : XB_IDX_BITS_V4;

	switch (dim) {
	case XB_IDX_SRC:
		return prefixlen_s >= bits;
	case XB_IDX_DST:
		return prefixlen_d >= bits;
	default:
		/* the high byte of the port, whatever the byte order */
		return proto_mask == 0xff &&
		       (dport_mask & XB_IDX_PORT_HI) == XB_IDX_PORT_HI;
	}
}

/* The region of a network-order address a (first words) in dim's key. */
static inline void xb_idx_addr_region(struct xb_tss_idx_key *k, __be32 w0,
				      __be32 w1, int v6)
{
	__u32 a0 = xb_idx_ntohl(w0), a1 = xb_idx_ntohl(w1);

	if (v6) {
		k->region_hi = a0;
		k->region_lo = a1 >> 16;
	} else {
		k->region_hi = a0 >> 16;
		k->region_lo = 0;
	}
}

/* The region of (proto, dport) in the port dimension. */
static inline void xb_idx_port_region(struct xb_tss_idx_key *k, __u8 proto,
				      __be16 dport)
{
	k->region_hi = proto;
	k->region_lo = (__u32)(dport & XB_IDX_PORT_HI);
}

/* Why a shape list is undecidable (xb_shape_list.undecidable, bits). */
enum xb_list_undecidable {
	XB_LIST_UNDEC_OFFLOAD = 1 << 0,	/* a packet-offload policy in the list */
	XB_LIST_UNDEC_TABLES = 1 << 1,	/* a policy found no table (more than
					 * XB_MAX_TABLES would be needed) */
	XB_LIST_UNDEC_CAPACITY = 1 << 2, /* the builder or the maps could not
					  * take a policy (memory, map size) */
};

/* Value of xb_shape_lists (array, XB_SHAPE_LISTS entries). */
struct xb_shape_list {
	__u32 count;		/* tables */
	__u32 overflow;		/* 1: undecidable, see undecidable */
	/* For status, not read by the datapath. */
	__u32 undecidable;	/* enum xb_list_undecidable bits */
	__u32 n_policies;	/* policies in the list */
	__u32 n_shapes;		/* distinct selector shapes among them */
	__u32 n_buckets;
	__u32 n_full_buckets;	/* more policies share a key than a bucket
				 * holds: packets hitting it pass */
	__u32 n_out_of_view;	/* policies of the list's (view, type,
				 * family) that no packet seen at XDP
				 * matches (a mark, an if_id): not in it */
	/* Read by the datapath: 1 when xb_tss_index covers every table of
	 * the list (the walk then probes only a flow's candidates, see
	 * below), 0 when every table must be probed in order. */
	__u32 indexed;
	__u32 n_index_entries;	/* for status: the list's regions, written
				 * to xb_tss_index while it is indexed */
	struct xb_shape shapes[XB_MAX_TABLES];
	/* Position in shapes[] of table id i, XB_NO_POS for none. */
	__u16 pos_of_id[XB_TABLE_IDS];
	/* Per index dimension, the table ids that dimension does not index
	 * (their shape leaves it too coarse): candidates for every flow. */
	__u64 unindexed[XB_IDX_DIMS][XB_TABLE_ID_WORDS];
};

/* Key of xb_tss: a packet's 5-tuple masked by one shape. */
struct xb_tss_key {
	__u8 list;		/* XB_SHAPE_LIST_IDX(), and the chunk above
				 * (XB_TSS_KEY_CHUNK) */
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

/*
 * One policy of a bucket, with what the table's key does not check: the
 * selector is matched in full against the packet. A table's prefix is
 * shorter than its policies' only within the 32-bit word that holds
 * their last prefix bit, (prefixlen - 1) / 32 (user/classifier/tss.c
 * keeps it so): the address bits the key leaves unchecked lie in that one
 * word.
 */
struct xb_tss_rule {
	__u32 policy_id;
	__u32 priority;
	__u32 pos;
	__u32 if_id;
	__be32 saddr_word;	/* that word of the selector's address */
	__be32 daddr_word;
	__be16 sport;
	__be16 sport_mask;
	__be16 dport;
	__be16 dport_mask;
	__u8 prefixlen_s;
	__u8 prefixlen_d;
	__u8 proto;		/* 0: any */
	__u8 verdict;		/* enum xb_verdict */
};

/* xb_tss_key.list of chunk `chunk` of a bucket of list `list`. */
#define XB_TSS_CHUNK_SHIFT	4
#define XB_TSS_KEY_CHUNK(list, chunk)	((list) | (chunk) << XB_TSS_CHUNK_SHIFT)

/* The 32-bit word of an address that holds bit plen - 1 of a prefix. */
static inline __u32 xb_tss_prefix_word(__u32 plen)
{
	return plen ? (plen - 1) / 32 : 0;
}

/*
 * The ports that the rules of a bucket's later chunks match, host order:
 * the lowest and the highest source and destination port of any of them.
 * A flow outside either range matches none of them, and the walk leaves
 * the bucket without reading on. The chunks of a crowded key are mostly
 * the pieces of one rule's port ranges (a range is expanded into
 * (port, mask) blocks, two ranges into their product: same priority,
 * same addresses), and a flow that reads on has matched none of those in
 * the chunk before: at 100k ipc policies a new flow read 1.38 further
 * chunks, 0.06 of them with a match; with these ranges 1.04.
 */
struct xb_tss_ports {
	__u16 sport_lo;
	__u16 sport_hi;
	__u16 dport_lo;
	__u16 dport_hi;
};

/*
 * Value of xb_tss: the policies whose selectors the table's mask maps to
 * this key, sorted by (priority, pos, id), the order in which they win.
 * Across rules and tables the datapath keeps that order, and a hit of the
 * best priority whose verdict or if_id differs from the best's makes the
 * list undecidable: the kernel's tie-break is not visible from netlink
 * (user/classifier/tss.c explains).
 */
struct xb_tss_val {
	__u8 count;		/* rules in this chunk */
	__u8 full;		/* (chunk 0) more policies share the key than
				 * XB_BUCKET_MAX: a packet that hits it passes */
	__u8 more;		/* the next chunk holds the following rules */
	__u8 pad;
	struct xb_tss_ports later;	/* when more: of every later chunk */
	struct xb_tss_rule rules[XB_BUCKET_RULES];
};

_Static_assert(XB_HTAB_ELEM_BYTES(sizeof(struct xb_tss_key), sizeof(struct xb_tss_val)) <= 512,
	       "an element of xb_tss fills a 512-byte object: XB_BUCKET_RULES too big");

/* No port yet: any rule added widens it. */
static inline void xb_tss_ports_empty(struct xb_tss_ports *p)
{
	p->sport_lo = p->dport_lo = 0xffff;
	p->sport_hi = p->dport_hi = 0;
}

/* Widens [*lo, *hi] to the ports of the network-order block port/mask. */
static inline void xb_tss_port_range_add(__u16 *lo, __u16 *hi, __be16 port, __be16 mask)
{
	__u16 m = xb_tss_ntohs(mask), first = xb_tss_ntohs(port) & m, last = first | (__u16)~m;

	if (first < *lo)
		*lo = first;
	if (last > *hi)
		*hi = last;
}

/* Widens p to the ports rule r matches. */
static inline void xb_tss_ports_add(struct xb_tss_ports *p, const struct xb_tss_rule *r)
{
	xb_tss_port_range_add(&p->sport_lo, &p->sport_hi, r->sport, r->sport_mask);
	xb_tss_port_range_add(&p->dport_lo, &p->dport_hi, r->dport, r->dport_mask);
}

/* Whether a flow's network-order ports lie within p: else no rule of it
 * can match the flow. */
static inline int xb_tss_ports_hold(const struct xb_tss_ports *p, __be16 sport, __be16 dport)
{
	__u16 s = xb_tss_ntohs(sport), d = xb_tss_ntohs(dport);

	return s >= p->sport_lo && s <= p->sport_hi && d >= p->dport_lo && d <= p->dport_hi;
}

/*
 * Value of xb_tss_pair: the first (only) chunk of a bucket of at most
 * XB_PAIR_RULES policies. Most buckets of realistic rule sets hold one
 * policy (two thirds at acl 100k, 89% for ipc), and an xb_tss element,
 * sized for XB_BUCKET_RULES, is a 512-byte kmalloc object; this one is a
 * 192-byte one. The presence filter tells the two apart (the key's bits
 * of its class, below), so a flow probes one map, not both.
 */
#define XB_PAIR_RULES		2

struct xb_tss_pair_val {
	__u8 count;		/* rules, 1..XB_PAIR_RULES */
	__u8 pad[3];
	struct xb_tss_rule rules[XB_PAIR_RULES];
};

/* Which map a chunk-0 key is published in. */
enum xb_tss_class {
	XB_TSS_CLASS_BIG = 0,	/* xb_tss */
	XB_TSS_CLASS_PAIR = 1,	/* xb_tss_pair */
	XB_TSS_CLASSES
};

/*
 * Presence filter in front of the tuple-space hash: per shape list a
 * blocked Bloom filter of 2^XB_TSS_FILTER_BITS bits (array xb_tss_filter
 * of __u64 words, list-major) in which a key sets XB_TSS_FILTER_KEY_BITS
 * bits of one word, bits of its class (enum xb_tss_class): a chunk-0 key
 * of xb_tss sets other bits of that word than one of xb_tss_pair. Every
 * published key has its bits set, so a clear one proves the key absent
 * from that map and its probe is skipped: the bitmaps
 * (128 KiB a list) stay in the CPU caches where the hash table (one cache
 * miss for its bucket, one for its element) cannot. Bits of deleted keys
 * may stay set until the list is rebuilt: a false positive only costs the
 * probe it would have cost anyway.
 *
 * Three bits a key, not one: at 100k realistic policies a list holds ~40k
 * keys (4% of its bits), and a new flow that meets ~36 absent keys let
 * 0.9-1.6 of them through with one bit a key, each a hash lookup out of
 * the caches (tests/bench/bench_classify.c, the walk lines). With three
 * bits in one word, the same one memory access, the rate falls from ~4%
 * to ~0.2% at that load and stays no worse than one bit up to ~20%.
 */
#define XB_TSS_FILTER_BITS	20
#define XB_TSS_FILTER_WORDS	(1U << (XB_TSS_FILTER_BITS - 6))	/* a list */
#define XB_TSS_FILTER_ENTRIES	(XB_SHAPE_LISTS * XB_TSS_FILTER_WORDS)
#define XB_TSS_FILTER_KEY_BITS	3

/* A multiply-xor hash of a key as five 64-bit lanes (the same in BPF and
 * in the mirror): its head (list, proto, shape id, ports) and its source
 * and destination address words two by two. In lanes so that the
 * datapath can hash a flow masked by a table without building the key on
 * its stack (6.1 allows 512 bytes for all frames together). */
static inline __u64 xb_tss_filter_lanes(__u64 head, __u64 saddr01, __u64 saddr23,
					__u64 daddr01, __u64 daddr23)
{
	__u64 h;

	h = head * 0x9e3779b97f4a7c15ULL;
	h ^= saddr01 * 0xc2b2ae3d27d4eb4fULL;
	h ^= saddr23 * 0x165667b19e3779f9ULL;
	h ^= daddr01 * 0xd6e8feb86659fd93ULL;
	h ^= daddr23 * 0x94d049bb133111ebULL;
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h;
}

static inline __u64 xb_tss_key_head(__u8 list, __u8 proto, __u16 shape_id,
				    __be16 sport, __be16 dport)
{
	return (__u64)list | (__u64)proto << 8 | (__u64)shape_id << 16 |
	       (__u64)sport << 32 | (__u64)dport << 48;
}

/* Two address words as one lane. */
static inline __u64 xb_tss_addr_lane(__u32 lo, __u32 hi)
{
	return (__u64)lo | (__u64)hi << 32;
}

static inline __u64 xb_tss_filter_hash(const struct xb_tss_key *k)
{
	return xb_tss_filter_lanes(
		xb_tss_key_head(k->list, k->proto, k->shape_id, k->sport, k->dport),
		xb_tss_addr_lane(k->saddr.a[0], k->saddr.a[1]),
		xb_tss_addr_lane(k->saddr.a[2], k->saddr.a[3]),
		xb_tss_addr_lane(k->daddr.a[0], k->daddr.a[1]),
		xb_tss_addr_lane(k->daddr.a[2], k->daddr.a[3]));
}

/* Where the bits of the key of hash h in list `list` are: the word's
 * index in xb_tss_filter (from the hash's top bits). The same word for
 * either class of key. */
static inline __u32 xb_tss_filter_word_of(__u32 list, __u64 h)
{
	__u32 word = (__u32)(h >> (64 - (XB_TSS_FILTER_BITS - 6)));

	return (list & ((1U << XB_TSS_CHUNK_SHIFT) - 1)) * XB_TSS_FILTER_WORDS + word;
}

/* Bit k (0..XB_TSS_FILTER_KEY_BITS - 1) of a key of class cls in its
 * word: a bit position from a 6-bit field of the hash below the word's,
 * other fields for each class (two positions may coincide). */
static inline __u64 xb_tss_filter_bit(__u64 h, __u32 cls, __u32 k)
{
	__u32 at = cls == XB_TSS_CLASS_PAIR ? 14 : 32;

	return 1ULL << ((h >> (at + 6 * k)) & 63);
}

/* The key's bits in its word, for a key of class cls. */
static inline __u64 xb_tss_filter_mask_of(__u64 h, __u32 cls)
{
	_Static_assert(XB_TSS_FILTER_KEY_BITS == 3, "three positions here");
	return xb_tss_filter_bit(h, cls, 0) | xb_tss_filter_bit(h, cls, 1) |
	       xb_tss_filter_bit(h, cls, 2);
}

/* Whether a filter word may hold the key of hash h in either class, from
 * the first bit of each: false proves both absent, as the whole masks
 * would, with a third of the work. The datapath asks this first: most
 * keys a flow meets are absent. */
static inline int xb_tss_filter_may_hold(__u64 word, __u64 h)
{
	return !!(word & (xb_tss_filter_bit(h, XB_TSS_CLASS_BIG, 0) |
			  xb_tss_filter_bit(h, XB_TSS_CLASS_PAIR, 0)));
}

static inline __u32 xb_tss_filter_word(const struct xb_tss_key *k, __u32 cls,
				       __u64 *mask)
{
	__u64 h = xb_tss_filter_hash(k);

	*mask = xb_tss_filter_mask_of(h, cls);
	return xb_tss_filter_word_of(k->list, h);
}

/* Whether a filter word holds all of a key's bits (the mask from
 * xb_tss_filter_word()). */
static inline int xb_tss_filter_hit(__u64 word, __u64 mask)
{
	return (word & mask) == mask;
}

/*
 * Priority gate beside the presence filter: per filter word and class of
 * key, a priority no worse than the best policy of any chunk-0 key of that
 * class whose bits are in that word (array xb_tss_gate, the filter's
 * index; XB_TSS_GATE_NONE where there is no such key, 0 for a full bucket,
 * which must always be looked at). Once the walk has found a match, a
 * present key whose gates (of the classes the filter lets through) are
 * worse than it holds no policy that can win or tie, and its probe, the walk's
 * costliest step (a hash table bucket and an element out of the CPU
 * caches), is skipped. Most probes come after the first match: at 10k
 * realistic acl policies, a flow of make bench's drop case made 7.6, 6.0
 * of them after a match and 3.0 in buckets whose best policy could not
 * beat it.
 *
 * The mirror lowers a word's gate before a key's better policy is
 * published and leaves it where a key loses its best (a gate that is too
 * low only costs the probe); the filter's rebuild recomputes it.
 */
#define XB_TSS_GATE_ENTRIES	XB_TSS_FILTER_ENTRIES
#define XB_TSS_GATE_NONE	0xffffffffU

/* Value of xb_tss_gate. Both classes in one element: an array's elements
 * are 8-byte aligned, mmapped too, so one __u32 would take as much. */
struct xb_tss_gate {
	__u32 priority[XB_TSS_CLASSES];
};

/* The best of a word's gates over the classes of key in classes (bit
 * 1 << cls for each): no policy of a key of those classes whose bits are
 * in the word is better. XB_TSS_GATE_NONE for none. */
static inline __u32 xb_tss_gate_bound(const struct xb_tss_gate *g, __u32 classes)
{
	__u32 bound = XB_TSS_GATE_NONE;

	if (classes & 1U << XB_TSS_CLASS_BIG)
		bound = g->priority[XB_TSS_CLASS_BIG];
	if ((classes & 1U << XB_TSS_CLASS_PAIR) && g->priority[XB_TSS_CLASS_PAIR] < bound)
		bound = g->priority[XB_TSS_CLASS_PAIR];
	return bound;
}

/* The gate of a chunk-0 entry of xb_tss: its best policy's priority, 0
 * when the bucket is full (not all its policies are published). */
static inline __u32 xb_tss_val_gate(const struct xb_tss_val *v)
{
	return v->full || !v->count ? 0 : v->rules[0].priority;
}

/* The gate of an entry of xb_tss_pair. */
static inline __u32 xb_tss_pair_gate(const struct xb_tss_pair_val *v)
{
	return v->count ? v->rules[0].priority : 0;
}

#endif
