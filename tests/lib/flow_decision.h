/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A plaintext flow, and what the test-side classifiers answer for it: the
 * reference classifier (classify_ref.h) from the kernel's rules, the TSS
 * reader (tss_reader.h) from a published tuple-space search. Tests compare
 * the two, and both with the datapath, whose own decision
 * (bpf/classify.bpf.h) has another layout.
 */
#ifndef XFRMBPF_TESTS_FLOW_DECISION_H
#define XFRMBPF_TESTS_FLOW_DECISION_H

#include <stdbool.h>
#include <linux/types.h>
#include "xfrmbpf/spd.h"
#include "xfrmbpf/tss.h"

/* A plaintext flow as the kernel's selector sees it (decode_session, then
 * xfrm_flowi_sport/dport): addresses and ports in network order, IPv4 in
 * a[0]. Ports for TCP, UDP, UDP-Lite, SCTP only; ICMP/ICMPv6: htons(type)
 * in sport, htons(code) in dport; GRE: the key's high/low 16 bits; MH: the
 * type in sport; every other protocol (DCCP and ESP included): 0, 0. */
struct xb_flow {
	union xb_addr saddr;
	union xb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u16 family;		/* AF_INET / AF_INET6 */
	__u8 proto;
	__u8 pad;
	__u32 mark;		/* 0 for plaintext at XDP */
	__u32 if_id;		/* 0 for plaintext on a NIC */
};

/* Plaintext input decision (IN, FWD). */
struct xb_ref_decision {
	__u8 reason;		/* enum xb_reason */
	__u8 overflow;		/* a consulted list was overflowed */
	__u8 pad[2];
	__u32 policy_id;	/* deciding policy, XB_NO_POLICY when none */
};

/* Steering: the best OUT policy for mark 0, any if_id. */
struct xb_ref_steer {
	bool undecidable;
	bool found;
	__u8 verdict;		/* enum xb_verdict of the policy */
	__u8 overflow;
	__u32 policy_id;	/* XB_NO_POLICY when not found */
	__u32 if_id;
};

#endif
