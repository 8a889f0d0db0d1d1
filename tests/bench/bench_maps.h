/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Values of bench.bpf.c's maps, shared with the tools that fill them
 * (bench_classify, bench_txgen).
 */
#ifndef XFRMBPF_BENCH_MAPS_H
#define XFRMBPF_BENCH_MAPS_H

#include <linux/types.h>

/* One flow as bench_vary and bench_tx write it into a frame. */
struct bench_flow {
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u8 l4[4];		/* ports, or ICMP type and code */
	__u8 proto;
	__u8 pad[3];
};

struct bench_state {
	__u32 n_flows;		/* flows in use, >= 1 */
	__u32 next;		/* next flow to write */
	__u32 target;		/* bench_vary: bench_progs slot; bench_tx: ifindex */
	__u32 pad;
};

#endif
