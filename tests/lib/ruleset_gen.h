/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Realistic rule sets as XFRM policies, in the manner of ClassBench (Taylor
 * and Turner): firewall, ACL and IP-chain style 5-tuple rules with their
 * published structure (prefix-length pairs concentrated on a few classes,
 * addresses shared and nested between rules, port classes "any", "exact",
 * "well-known", "ephemeral" and arbitrary ranges, a protocol mix), every
 * rule's port ranges expanded into (port, mask) pairs as an XFRM selector
 * needs, one policy per pair. Rule k has priority k + 1 (rule order) and
 * blocks when k is even, allows when it is odd.
 *
 *	struct xb_rs_cfg cfg = { XB_RS_ACL, AF_INET, 10000, XFRM_POLICY_FWD };
 *	n = xb_rs_gen(&rng, &cfg, pols, cap);	// ids 0.., pos 1..
 *	xb_rs_flow(&rng, pols, n, &flow);	// mostly inside a policy
 *
 * Addresses are drawn from the whole space (selectors only: tests and the
 * bench never send them anywhere); doc_only keeps every IPv4 address in
 * the documentation ranges, for rule sets whose flows go on a wire. IPv6
 * rules live under 2001:db8::/32.
 */
#ifndef XFRMBPF_RULESET_GEN_H
#define XFRMBPF_RULESET_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include "xfrmbpf/spd.h"
#include "flow_decision.h"
#include "spd_gen.h"

enum xb_rs_profile {
	XB_RS_ACL,	/* router ACLs: servers (/32 dst), exact service ports */
	XB_RS_FW,	/* firewalls: wildcards on one side, port ranges */
	XB_RS_IPC,	/* IP chains: host pairs, protocol mix */
	XB_RS_PROFILES
};

struct xb_rs_cfg {
	enum xb_rs_profile profile;
	int family;		/* AF_INET or AF_INET6 */
	unsigned int n_policies;
	__u8 dir;		/* XFRM_POLICY_FWD, _IN or _OUT */
	bool doc_only;
};

const char *xb_rs_profile_name(enum xb_rs_profile p);
/* -1 for an unknown name. */
int xb_rs_profile_parse(const char *name);

/* Fills pols[0..n) with n = min(cfg->n_policies, cap) policies, rules in
 * order, a selector the kernel would refuse as a duplicate left out.
 * Returns n. */
size_t xb_rs_gen(struct xb_rng *r, const struct xb_rs_cfg *cfg,
		 struct xb_policy *pols, size_t cap);

/* A flow inside a policy's selector (early rules more often, as traffic
 * concentrates on few rules), one in ten anywhere near the rule set. */
void xb_rs_flow(struct xb_rng *r, const struct xb_policy *pols, size_t n,
		struct xb_flow *fl);

/* Distinct selector shapes (prefix lengths, proto wildcard, port masks). */
size_t xb_rs_shapes(const struct xb_policy *pols, size_t n);

/* The minimal (port, mask) pieces of [lo, hi], host order; returns how
 * many (at most 30). */
unsigned int xb_rs_port_pieces(__u16 lo, __u16 hi, __u16 port[32],
			       __u16 mask[32]);

#endif
