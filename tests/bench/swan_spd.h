/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A gateway SPD as strongSwan's charon would install it, for benchmarks:
 * every CHILD_SA (tunnel) t gives three policies, in (i = 3t), fwd (3t + 1)
 * and out (3t + 2), over twelve selector shapes (six IPv4, six IPv6: host
 * and subnet prefixes, protocol wildcards, port and ICMP type selectors).
 * Selectors are unique per direction up to 100k tunnels, so the kernel
 * takes all of them.
 *
 * Priorities follow charon's rule (kernel-netlink's get_priority()): a
 * base per class (shunts before tunnels), minus both prefix lengths, then
 * two flag bits that put port-less and protocol-less selectors behind
 * more specific ones. One tunnel in 20 is a pass shunt (allow, no
 * template), one a drop shunt (block); the others allow with a required
 * ESP tunnel template, so plaintext matching them is dropped on input.
 *
 * Addresses: IPv4 from 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24;
 * IPv6 from 2001:db8::/32.
 */
#ifndef XFRMBPF_BENCH_SWAN_SPD_H
#define XFRMBPF_BENCH_SWAN_SPD_H

#include <stddef.h>
#include "xfrmbpf/spd.h"
#include "spd_gen.h"
#include "flow_decision.h"

#define SWAN_SHAPES	12

/* Policy i: id i, pos i + 1, one template when it is a tunnel's. */
void swan_policy(__u32 i, struct xb_policy *p);

/* The `ip -batch` line ("xfrm policy add ...", with newline) of policy i.
 * Returns the length, or -1 when buf is too small. */
int swan_ip_line(__u32 i, char *buf, size_t len);

/* A plaintext flow inside p's selector, free bits drawn from r. */
void swan_flow_in(const struct xb_policy *p, struct xb_rng *r,
		  struct xb_flow *fl);

/* A flow of family af that no shape aims at (random documentation
 * addresses, UDP with random ports). */
void swan_flow_any(int af, struct xb_rng *r, struct xb_flow *fl);

#endif
