/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The exact-flow cache in front of everything the XDP verdict costs
 * beyond parsing: the device settings, the FIB lookup, the SPI or bypass
 * lookups and the tuple-space search. A hit is one hash lookup.
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
#include "classify.bpf.h"

static __always_inline void xb_flow_key(const struct xb_pkt *pkt,
					__u32 ifindex, struct xb_flow_key *k)
{
	k->saddr = pkt->saddr;
	k->daddr = pkt->daddr;
	k->sport = pkt->sport;
	k->dport = pkt->dport;
	k->spi = pkt->kind == XB_PK_IPSEC ? pkt->spi : 0;
	k->ifindex = ifindex;
	k->family = pkt->family;
	k->proto = pkt->proto;
	k->kind = pkt->kind;
}

/* True, with the cached verdict in d and its counter slot, on a hit. */
static __always_inline bool xb_flow_cached(const struct xb_pkt *pkt,
					   __u32 ifindex,
					   const struct xb_sync_snap *snap,
					   struct xb_decision *d,
					   __u32 *stats_slot)
{
	struct xb_flow_key k = {};
	struct xb_flow_val *v;

	xb_flow_key(pkt, ifindex, &k);
	v = bpf_map_lookup_elem(&xb_flow_cache, &k);
	if (!v || v->generation != snap->generation ||
	    v->flow_epoch != snap->flow_epoch)
		return false;
	d->policy_id = v->policy_id;
	d->reason = v->reason;
	d->if_id = 0;
	*stats_slot = v->stats_slot;
	return true;
}

/* The key is built again here rather than kept from the lookup: a key
 * alive across the classification pushes the combined stack of xb_xdp,
 * xb_classify and the bpf_loop callback past 512 bytes on the 6.1
 * verifier ("combined stack size of 3 calls is 544"). */
static __always_inline void xb_flow_store(const struct xb_pkt *pkt,
					  __u32 ifindex,
					  const struct xb_sync_snap *snap,
					  const struct xb_decision *d,
					  __u32 stats_slot)
{
	struct xb_flow_key k = {};
	struct xb_flow_val v = {};

	xb_flow_key(pkt, ifindex, &k);
	v.generation = snap->generation;
	v.flow_epoch = snap->flow_epoch;
	v.policy_id = d->policy_id;
	v.reason = d->reason;
	v.stats_slot = stats_slot;
	bpf_map_update_elem(&xb_flow_cache, &k, &v, BPF_ANY);
}

#endif
