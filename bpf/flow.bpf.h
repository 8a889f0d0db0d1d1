/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The exact-flow cache in front of everything the XDP verdict costs
 * beyond parsing: the device settings, the FIB lookup, the SPI or bypass
 * lookups and the tuple-space search. A hit is a hash, a tag, one array
 * access and a compare (struct xb_flow_entry says why not a hash map,
 * struct xb_flow_block why blocks, struct xb_flow_tags why tags).
 *
 * An entry holds the final verdict of its flow on its ingress device. It
 * is valid while xb_sync's generation (bumped by every publication of the
 * SPD, the SAs or the defaults) and flow_epoch (bumped by the daemon when
 * routes, rules, addresses, device settings or bypass ports change) are
 * the ones it was computed under. The caller stores a result only when
 * the whole computation ran inside one publication (xb_sync_end()).
 */
#ifndef XFRMBPF_FLOW_BPF_H
#define XFRMBPF_FLOW_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"
#include "sync.bpf.h"
#include "decision.bpf.h"

/* log2 of xb_flow_cache's slots: the loader sets it to fit the pinned
 * map, whose size depends on the number of CPUs (user/loader/maps.c). */
const volatile __u32 xb_flow_cache_bits = XB_FLOW_CACHE_BITS;

/* struct xb_pkt begins with the flow key (parse.bpf.h). */
#define XB_KEY_AT(field)						\
	_Static_assert(__builtin_offsetof(struct xb_pkt, field) ==	\
		       __builtin_offsetof(struct xb_flow_key, field),	\
		       "struct xb_pkt: " #field " is not where the flow key has it")
XB_KEY_AT(saddr);
XB_KEY_AT(daddr);
XB_KEY_AT(sport);
XB_KEY_AT(dport);
XB_KEY_AT(spi);
XB_KEY_AT(ifindex);
XB_KEY_AT(family);
XB_KEY_AT(proto);
XB_KEY_AT(kind);
XB_KEY_AT(flowinfo);
_Static_assert(__builtin_offsetof(struct xb_pkt, key_pad) ==
	       __builtin_offsetof(struct xb_flow_key, pad) &&
	       __builtin_offsetof(struct xb_pkt, ttl) ==
	       sizeof(struct xb_flow_key),
	       "struct xb_pkt does not begin with the flow key");

/* The packet's flow key, in place: read only as words (xb_flow_words(),
 * may_alias) or copied with memcpy. */
static __always_inline const struct xb_flow_key *
xb_pkt_flow_key(const struct xb_pkt *pkt)
{
	return (const struct xb_flow_key *)pkt;
}

/* The block of the packet's slot, the one its key hashes to (*hash):
 * its number (*block) and the slot's place in it (*i). */
static __always_inline void xb_flow_place(const struct xb_pkt *pkt, __u64 *hash,
					  __u32 *block, __u32 *i)
{
	__u32 slot;

	*hash = xb_flow_hash(xb_pkt_flow_key(pkt));
	slot = xb_flow_slot(*hash, xb_flow_cache_bits);
	*block = slot / XB_FLOW_BLOCK;
	*i = slot % XB_FLOW_BLOCK;
}

static __always_inline bool xb_flow_key_equal(const struct xb_flow_key *a,
					      const struct xb_flow_key *b)
{
	const xb_flow_word *x = xb_flow_words(a), *y = xb_flow_words(b);
	__u64 diff = 0;
	unsigned int i;

#pragma unroll
	for (i = 0; i < XB_FLOW_WORDS; i++)
		diff |= x[i] ^ y[i];
	return !diff;
}

/* True, with the cached verdict in d and its counter slot, on a hit;
 * d->flow says which it was. */
static __always_inline bool xb_flow_cached(const struct xb_pkt *pkt,
					   const struct xb_sync_snap *snap,
					   struct xb_decision *d,
					   __u32 *stats_slot)
{
	struct xb_flow_tags *tags;
	struct xb_flow_block *b;
	struct xb_flow_entry *e;
	__u8 reason, cause, counter_slot;
	__u32 policy_id, block, i;
	__u64 hash;

	d->flow = XB_FLOW_MISS;
	xb_flow_place(pkt, &hash, &block, &i);
	tags = bpf_map_lookup_elem(&xb_flow_tags, &block);
	if (!tags || tags->tag[i] != xb_flow_tag(hash))
		return false;
	b = bpf_map_lookup_elem(&xb_flow_cache, &block);
	if (!b)
		return false;
	e = &b->slot[i];
	if (!xb_flow_key_equal(&e->key, xb_pkt_flow_key(pkt)))
		return false;
	/* The verdict as read once: the check covers exactly these. */
	policy_id = e->val.policy_id;
	reason = e->val.reason;
	cause = e->val.cause;
	counter_slot = e->val.stats_slot;
	if (e->val.generation != snap->generation ||
	    e->val.flow_epoch != snap->flow_epoch ||
	    e->check != xb_flow_check(hash, snap->generation, snap->flow_epoch,
				      policy_id, reason, cause, counter_slot))
		return false;
	d->flow = XB_FLOW_HIT;
	d->policy_id = policy_id;
	d->reason = reason;
	d->cause = cause;
	d->if_id = 0;
	*stats_slot = counter_slot;
	return true;
}

/* A packet's cache outcome into xb_flow_stats. */
static __always_inline void xb_flow_count(__u8 outcome)
{
	struct xb_flow_stats *fs;
	__u32 zero = 0;

	if (outcome == XB_FLOW_NOT_LOOKED)
		return;
	fs = bpf_map_lookup_elem(&xb_flow_stats, &zero);
	if (!fs)
		return;
	if (outcome == XB_FLOW_HIT)
		fs->hits++;
	else
		fs->misses++;
}

static __always_inline void xb_flow_store(const struct xb_pkt *pkt,
					  const struct xb_sync_snap *snap,
					  const struct xb_decision *d,
					  __u32 stats_slot)
{
	struct xb_flow_tags *tags;
	struct xb_flow_block *b;
	struct xb_flow_entry *e;
	__u32 block, i;
	__u64 hash;

	xb_flow_place(pkt, &hash, &block, &i);
	b = bpf_map_lookup_elem(&xb_flow_cache, &block);
	tags = bpf_map_lookup_elem(&xb_flow_tags, &block);
	if (!b || !tags)
		return;
	e = &b->slot[i];
	__builtin_memcpy(&e->key, xb_pkt_flow_key(pkt), sizeof(e->key));
	e->val.generation = snap->generation;
	e->val.flow_epoch = snap->flow_epoch;
	e->val.policy_id = d->policy_id;
	e->val.reason = d->reason;
	e->val.cause = d->cause;
	e->val.stats_slot = stats_slot;
	/* Last: until it is written the entry is a miss (see
	 * struct xb_flow_entry). */
	XB_BARRIER();
	e->check = xb_flow_check(hash, snap->generation, snap->flow_epoch,
				 d->policy_id, d->reason, d->cause, stats_slot);
	tags->tag[i] = xb_flow_tag(hash);
}

#endif
