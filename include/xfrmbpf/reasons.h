/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Why the datapath passed, dropped or steered a packet. Defined once, here,
 * for BPF and userspace; XB_REASONS() also gives userspace the names that
 * `xfrmbpf stats` prints. New reasons go at the end: the values index the
 * pinned counter maps, and scripts/pktgen/xb_gw_measure.sh names the drop
 * reasons by value.
 */
#ifndef XFRMBPF_REASONS_H
#define XFRMBPF_REASONS_H

#include <linux/types.h>

#define XB_REASONS(X)							\
	X(XB_R_PASS_NO_POLICY,		"pass_no_policy")		\
	X(XB_R_PASS_POLICY_ALLOW,	"pass_policy_allow")		\
	X(XB_R_PASS_KNOWN_SPI,		"pass_known_spi")		\
	X(XB_R_PASS_BYPASS,		"pass_bypass")			\
	X(XB_R_PASS_UNSYNCED,		"unsynced_pass")		\
	X(XB_R_PASS_PUBLISHING,		"pass_publishing")		\
	X(XB_R_PASS_UNDECIDABLE,	"pass_undecidable")		\
	X(XB_R_PASS_UNPARSED,		"pass_unparsed")		\
	X(XB_R_PASS_NOT_IP,		"pass_not_ip")			\
	X(XB_R_PASS_DISABLED_DEV,	"pass_disable_policy")		\
	X(XB_R_DROP_UNKNOWN_SPI,	"unknown_spi")			\
	X(XB_R_DROP_POLICY_BLOCK,	"policy_block")			\
	X(XB_R_DROP_REQUIRES_IPSEC,	"policy_requires_ipsec")	\
	X(XB_R_DROP_DEFAULT_BLOCK,	"default_block")		\
	X(XB_R_STEER,			"steered")			\
	X(XB_R_STEER_SKIP_TTL,		"steer_skip_ttl")		\
	X(XB_R_STEER_SKIP_MTU,		"steer_skip_mtu")		\
	X(XB_R_STEER_SKIP_LOCAL,	"steer_skip_local")		\
	X(XB_R_STEER_SKIP_NO_DEV,	"steer_skip_no_dev")		\
	X(XB_R_PASS_NO_IFACE,		"pass_unknown_iface")		\
	X(XB_R_PASS_SPI_PENDING,	"pass_spi_pending")		\
	X(XB_R_PASS_SPI_KERNEL,		"pass_spi_kernel")		\
	X(XB_R_PASS_SPD_CHANGING,	"pass_spd_changing")

#define XB_REASON_ENUM(sym, name) sym,
enum xb_reason {
	XB_REASONS(XB_REASON_ENUM)
	XB_R_MAX
};
#undef XB_REASON_ENUM

/*
 * What made a packet pass_undecidable: the part of the kernel's path the
 * datapath cannot see as the kernel does. Counted per CPU in
 * xb_undecidable_stats (struct xb_undecidable_stats) beside the reason;
 * `xfrmbpf stats` and `classify` print the names. New causes go at the
 * end, as reasons do.
 */
#define XB_UNDECIDABLE_CAUSES(X)					\
	X(XB_U_OTHER,		"other")				\
	X(XB_U_FRAGMENT,	"fragment")				\
	X(XB_U_NOT_UNICAST,	"not_unicast")				\
	X(XB_U_ROUTE,		"route")				\
	X(XB_U_SOURCE_ROUTE,	"source_route")				\
	X(XB_U_HEADER_CHAIN,	"ipv6_header_chain")			\
	X(XB_U_GRE,		"gre_key")				\
	X(XB_U_IPCOMP,		"ipcomp")				\
	X(XB_U_LIST,		"shape_list")				\
	X(XB_U_FULL_BUCKET,	"full_bucket")				\
	X(XB_U_SEARCH_STEPS,	"search_steps")				\
	X(XB_U_TIE,		"priority_tie")				\
	X(XB_U_POLICY,		"policy_selector")			\
	X(XB_U_ICMP_ERROR,	"forwarded_icmp_error")			\
	X(XB_U_TRUNCATED_L4,	"truncated_transport")			\
	X(XB_U_MOBILITY,	"mobility_header")			\
	X(XB_U_LINK_LOCAL_SRC,	"link_local_source")			\
	X(XB_U_GENERIC_XDP,	"generic_xdp")				\
	X(XB_U_STACKED_DEV,	"stacked_device")				\
	X(XB_U_NETFILTER,	"netfilter_prerouting")			\
	X(XB_U_TC_INGRESS,	"tc_ingress")				\
	X(XB_U_NF_INGRESS,	"netfilter_ingress")			\
	X(XB_U_VLAN,		"vlan")

#define XB_CAUSE_ENUM(sym, name) sym,
enum xb_undecidable_cause {
	XB_UNDECIDABLE_CAUSES(XB_CAUSE_ENUM)
	XB_U_MAX
};
#undef XB_CAUSE_ENUM

/* Value of xb_undecidable_stats (a per-CPU array of one): packets passed
 * as undecidable, by cause. */
struct xb_undecidable_stats {
	__u64 packets[XB_U_MAX];
};

/* No verdict yet: what a step of the datapath returns when the next one
 * decides (the packet parsed, the mirror trusted, a flow that steering
 * leaves alone). Not a reason, so never counted: outside [0, XB_R_MAX). */
#define XB_R_NONE	0xff

/* The reasons that drop the packet: the datapath's verdict and the
 * "dropped" of an interface in userspace are both this list. */
static inline int xb_reason_drops(unsigned int reason)
{
	return reason == XB_R_DROP_UNKNOWN_SPI ||
	       reason == XB_R_DROP_POLICY_BLOCK ||
	       reason == XB_R_DROP_REQUIRES_IPSEC ||
	       reason == XB_R_DROP_DEFAULT_BLOCK;
}

/* The drops the SPD decides (its policies and defaults): while the
 * kernel's SPD may be ahead of the maps they pass (pass_spd_changing,
 * include/xfrmbpf/sync.h). */
static inline int xb_reason_spd_drop(unsigned int reason)
{
	return reason == XB_R_DROP_POLICY_BLOCK ||
	       reason == XB_R_DROP_REQUIRES_IPSEC ||
	       reason == XB_R_DROP_DEFAULT_BLOCK;
}

/* The reasons TC steering counts; XDP counts every other one, once per
 * packet it sees. */
static inline int xb_reason_steers(unsigned int reason)
{
	return reason == XB_R_STEER ||
	       reason == XB_R_STEER_SKIP_TTL ||
	       reason == XB_R_STEER_SKIP_MTU ||
	       reason == XB_R_STEER_SKIP_LOCAL ||
	       reason == XB_R_STEER_SKIP_NO_DEV;
}

#endif
