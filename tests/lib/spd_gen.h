/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Seedable random SPDs and packets for differential tests of the
 * classifier (reference vs tuple-space search vs BPF datapath).
 *
 *	struct xb_rng rng;
 *	struct xb_spd_cfg cfg;
 *	xb_rng_seed(&rng, xb_test_seed("my_test"));	// prints the seed
 *	xb_spd_cfg_random(&rng, &cfg);			// or _default + edits
 *	n = xb_spd_gen(&rng, &cfg, pols, cap);		// ids 0.., pos 1..
 *	xb_spd_gen_flow(&rng, pols, n, &flow);		// biased to hit them
 *
 * Replay a run with XB_SEED=<seed printed>. Policies are valid as the
 * kernel would accept them; flows are plaintext as decode_session gives
 * them (struct xb_flow, mark 0, if_id 0): TCP/UDP/SCTP ports, ICMP and
 * ICMPv6 type/code in sport/dport, 0 for protocols without ports (GRE
 * flows are keyless).
 * Addresses come from the documentation ranges (192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), so prefixes overlap.
 */
#ifndef XFRMBPF_SPD_GEN_H
#define XFRMBPF_SPD_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include "xfrmbpf/spd.h"
#include "flow_decision.h"

struct xb_rng {
	__u64 s;
};

void xb_rng_seed(struct xb_rng *r, __u64 seed);
__u64 xb_rng_next(struct xb_rng *r);
/* Uniform in [0, n), n > 0. */
__u32 xb_rng_below(struct xb_rng *r, __u32 n);
bool xb_rng_pct(struct xb_rng *r, unsigned int percent);

/* XB_SEED from the environment (decimal or 0x hex), else a fresh seed;
 * prints "# <name>: seed=<seed> (XB_SEED=<seed> replays)" to stdout. */
__u64 xb_test_seed(const char *name);

struct xb_spd_cfg {
	unsigned int n_policies;
	unsigned int n_shapes;		/* selector shapes to draw from, >= 1 */
	unsigned int n_priorities;	/* distinct priorities: fewer -> ties */
	unsigned int pct_v6;
	unsigned int pct_sub;		/* XFRM_POLICY_TYPE_SUB */
	unsigned int pct_block;		/* action block */
	unsigned int pct_tmpl;		/* allow with templates */
	unsigned int pct_required;	/* of those: a non-optional one */
	unsigned int pct_mark;		/* a mark (some never match mark 0) */
	unsigned int pct_if_id;		/* if_id != 0 */
	unsigned int pct_ifindex;	/* selector ifindex != 0 */
	unsigned int pct_sec_ctx;	/* XB_POL_SEC_CTX */
	unsigned int pct_offload;	/* XB_POL_OFFLOAD */
};

/* 64 policies, 8 shapes, 4 priorities, moderate feature rates. */
void xb_spd_cfg_default(struct xb_spd_cfg *cfg);
/* Knobs drawn at random (1..max_policies policies), so a series of SPDs
 * covers dense ties, many shapes (overflow), rare and common features. */
void xb_spd_cfg_random(struct xb_rng *r, unsigned int max_policies,
		       struct xb_spd_cfg *cfg);

/* Fills pols[0..n) with n = min(cfg->n_policies, cap); id = index,
 * pos = index + 1 (insertion order). Returns n. */
size_t xb_spd_gen(struct xb_rng *r, const struct xb_spd_cfg *cfg,
		  struct xb_policy *pols, size_t cap);

/* One random policy of the same style (id and pos left 0). The shape
 * palette is drawn from seed_shapes so that successive calls share it. */
void xb_spd_gen_policy(struct xb_rng *r, const struct xb_spd_cfg *cfg,
		       __u64 seed_shapes, struct xb_policy *pol);

/* A flow: mostly inside a random policy's selector (bits outside the
 * prefixes and port masks random), sometimes anywhere in the pools. */
void xb_spd_gen_flow(struct xb_rng *r, const struct xb_policy *pols, size_t n,
		     struct xb_flow *fl);

/* One policy on one "#   " TAP comment line, for mismatch reports. */
void xb_spd_dump_policy(const struct xb_policy *p);

#endif
