// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark programs (make bench), beside the real datapath:
 *
 * bench_floor: parse the frame as the datapath does (bpf/parse.bpf.h),
 *   nothing else: the floor of any classification.
 * bench_floor_lookup: the floor plus one lookup in a per-CPU LRU hash
 *   keyed by the flow (struct xb_flow_key): the reference of the cache-hit
 *   goal, "floor + one hash lookup" (the flow cache itself is an array,
 *   whose hit costs less: struct xb_flow_entry).
 * bench_floor_fib: the floor plus the datapath's FIB lookup (IN or FWD):
 *   what every plaintext packet pays before its policy.
 * bench_drop: XDP_DROP, nothing else: the floor of an early drop.
 * bench_parse_drop: parse as the datapath does, then XDP_DROP: the floor
 *   of an early drop that has to read the headers.
 * bench_vary: writes flow n of bench_flows into the frame (addresses,
 *   protocol, first four L4 bytes), then tail-calls slot
 *   bench_state.target of bench_progs. With one flow every run sees the
 *   same packet (flow-cache hits); with more distinct flows than the flow
 *   cache holds, cycled in order, every packet misses the cache and is
 *   classified (BPF_PROG_TEST_RUN repeats one frame, so the variation has
 *   to happen in the program). Every variant measured through it pays the
 *   same rewrite and tail call.
 * bench_tx: redirects the frame to ifindex bench_state.target: run with
 *   BPF_F_TEST_XDP_LIVE_FRAMES it is a packet generator (bench_txgen -x)
 *   whose frames reach a veth peer as XDP frames, as from a NIC's ring.
 *   With more than one flow in bench_flows (bench_txgen -F), each frame
 *   is the next flow, IPv4 only, header checksum made good: a stream of
 *   new flows for the receiver.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/limits.h"
#include "parse.bpf.h"
#include "route.bpf.h"
#include "bench_maps.h"

#define BENCH_MAX_FLOWS	(8 * XB_FLOW_CACHE_ENTRIES)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BENCH_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct bench_flow);
} bench_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_state);
} bench_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} bench_progs SEC(".maps");

/* A per-CPU LRU hash keyed by the flow, for bench_floor_lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, XB_FLOW_CACHE_ENTRIES);
	__type(key, struct xb_flow_key);
	__type(value, struct xb_flow_val);
} bench_cache SEC(".maps");

/* Every program here is multi-buffer aware, as xb_xdp is (SEC
 * "xdp.frags"): a tail call between frags and plain programs is refused. */

/* The datapath's parser on the whole frame: true when it can go on. */
static __always_inline bool bench_parse(struct xdp_md *ctx, struct xb_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	return xb_parse(ctx, true, data, data_end, data_end - data, pkt) ==
	       XB_PARSE_OK;
}

SEC("xdp.frags")
int bench_floor(struct xdp_md *ctx)
{
	struct xb_pkt pkt = {};

	if (!bench_parse(ctx, &pkt))
		return XDP_ABORTED;
	return XDP_PASS;
}

SEC("xdp.frags")
int bench_floor_lookup(struct xdp_md *ctx)
{
	struct xb_flow_val val = {}, *v;
	struct xb_flow_key k = {};
	struct xb_pkt pkt = {};

	if (!bench_parse(ctx, &pkt))
		return XDP_ABORTED;
	k.saddr = pkt.saddr;
	k.daddr = pkt.daddr;
	k.sport = pkt.sport;
	k.dport = pkt.dport;
	k.proto = pkt.proto;
	k.family = pkt.family;
	v = bpf_map_lookup_elem(&bench_cache, &k);
	/* The first run fills the entry; every later one is a hit. */
	if (!v)
		bpf_map_update_elem(&bench_cache, &k, &val, BPF_ANY);
	return XDP_PASS;
}

SEC("xdp.frags")
int bench_floor_fib(struct xdp_md *ctx)
{
	struct xb_pkt pkt = {};

	if (!bench_parse(ctx, &pkt))
		return XDP_ABORTED;
	if (xb_route(ctx, &pkt, ctx->ingress_ifindex) == XB_RT_UNKNOWN)
		return XDP_ABORTED;
	return XDP_PASS;
}

SEC("xdp.frags")
int bench_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

SEC("xdp.frags")
int bench_parse_drop(struct xdp_md *ctx)
{
	struct xb_pkt pkt = {};

	if (!bench_parse(ctx, &pkt))
		return XDP_PASS;
	return XDP_DROP;
}

/* Frames are Ethernet without VLAN tags, IP without options or extension
 * headers: the bench builds them so. */
static __always_inline int bench_write(void *data, void *data_end,
				       const struct bench_flow *f)
{
	struct ethhdr *eth = data;
	__u8 *l4;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		l4 = (__u8 *)(iph + 1);
		if ((void *)(l4 + 4) > data_end)
			return -1;
		__builtin_memcpy(&iph->saddr, f->saddr, 4);
		__builtin_memcpy(&iph->daddr, f->daddr, 4);
		iph->protocol = f->proto;
	} else {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		l4 = (__u8 *)(ip6h + 1);
		if ((void *)(l4 + 4) > data_end)
			return -1;
		__builtin_memcpy(&ip6h->saddr, f->saddr, 16);
		__builtin_memcpy(&ip6h->daddr, f->daddr, 16);
		ip6h->nexthdr = f->proto;
	}
	__builtin_memcpy(l4, f->l4, 4);
	return 0;
}

SEC("xdp.frags")
int bench_vary(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bench_state *st;
	struct bench_flow *f;
	__u32 zero = 0, idx;

	st = bpf_map_lookup_elem(&bench_state, &zero);
	if (!st || !st->n_flows)
		return XDP_ABORTED;
	idx = st->next;
	st->next = idx + 1 >= st->n_flows ? 0 : idx + 1;
	f = bpf_map_lookup_elem(&bench_flows, &idx);
	if (!f || bench_write(data, data_end, f))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &bench_progs, st->target);
	return XDP_ABORTED;
}

/* The IPv4 header checksum of a frame bench_write() rewrote (no
 * options: the bench builds its frames so). */
static __always_inline int bench_ipv4_csum(void *data, void *data_end)
{
	struct iphdr *iph = data + sizeof(struct ethhdr);
	__u16 *w = (__u16 *)iph;
	__u32 sum = 0;
	int i;

	if ((void *)(iph + 1) > data_end)
		return -1;
	iph->check = 0;
#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	iph->check = (__u16)~sum;
	return 0;
}

SEC("xdp.frags")
int bench_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bench_state *st;
	struct bench_flow *f;
	__u32 zero = 0, idx;

	st = bpf_map_lookup_elem(&bench_state, &zero);
	if (!st)
		return XDP_ABORTED;
	if (st->n_flows > 1) {
		idx = st->next;
		st->next = idx + 1 >= st->n_flows ? 0 : idx + 1;
		f = bpf_map_lookup_elem(&bench_flows, &idx);
		if (!f || bench_write(data, data_end, f) ||
		    bench_ipv4_csum(data, data_end))
			return XDP_ABORTED;
	}
	return bpf_redirect(st->target, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
