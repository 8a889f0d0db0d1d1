// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The verdict and reason of every kind of packet XDP sees: how it is
 * parsed (IPv4 with options and fragments, IPv6 with extension headers,
 * VLAN tags, ICMP type and code, GRE keys, SCTP, mobility headers), then
 * decided by the SPD (allow, block, requires IPsec; sub before main;
 * priority, then position), by the SAs (ESP, AH and NAT-T with a known or
 * unknown SPI), by the IKE bypass and by the default policies, and when
 * it fails open (unsynced, publishing, device not configured,
 * disable_policy, an overflowed list). Packets that are not IP, cut
 * short or malformed pass, never dropped.
 *
 * Each case is {description, packet, SPD/SA/sync state, expected verdict,
 * reason, policy}, run through BPF_PROG_TEST_RUN on xb_xdp twice: with
 * the classifier filled directly (tests/lib/tss_fill.c, the datapath's
 * semantics alone) and published by the TSS builder (user/classifier/tss.c
 * through tests/lib/tss_sink_maps.c). Last, the program attached to a
 * device decides real traffic as the test runs say. The namespace and
 * the shared setup: tests/lib/fixture.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include "loader/stats.h"
#include "xfrmbpf/sad.h"
#include "xfrmbpf/sync.h"
#include <bpf/libbpf.h>

#include "xfrmbpf.skel.h"
#include "bpf_harness.h"
#include "classifier/tss_filter.h"
#include "fixture.h"

struct verdict_case {
	const char *name;
	struct xbt_pkt_spec pkt;
	const struct xbt_policy *pols;
	const struct xbt_sa *sas;
	unsigned int state;	/* ST_*, | IF_FLAGS(XB_IF_*) */
	int verdict;		/* XDP_PASS / XDP_DROP */
	int reason;		/* XB_R_*, or UNDECIDABLE(cause) */
	uint32_t policy;	/* counted policy, NO_POL for none */
};

/*
 * VLAN devices of the ingress device in its xb_ifaces entry. The host may
 * have no 8021q: the VLAN device is a stand-in, the veth xbt-vl0, which
 * the FIB lookup takes as the input device as it would a VLAN device.
 * An ip rule by iif xbt-vl0 makes 203.0.113.0/24 and 2001:db8:3::/64
 * local for it (table 110), so a tagged frame forwarded on the attached
 * device is delivered locally on the VLAN device.
 */
enum {
	VL_Q100		= 1 << 0,	/* 802.1Q VID 100 -> xbt-vl0 */
	VL_AD100	= 1 << 1,	/* 802.1ad VID 100 -> xbt-vl0 */
	VL_NOPOLICY	= 1 << 2,	/* ... with disable_policy (v4, v6) */
	VL_TC		= 1 << 3,	/* ... with tc filters on its ingress */
	VL_STACKED	= 1 << 4,	/* ... a bridge port or VRF member */
	VL_Q0		= 1 << 5,	/* 802.1Q VID 0 -> xbt-vl0 */
};

static const char *const vlan_setup[] = {
	"ip link add xbt-vl0 type veth peer name xbt-vl1",
	"ip link set xbt-vl0 up",
	"ip link set xbt-vl1 up",
	"ip rule add iif xbt-vl0 lookup 110 pref 100",
	"ip -6 rule add iif xbt-vl0 lookup 110 pref 100",
	"ip route add local 203.0.113.0/24 dev lo table 110",
	"ip -6 route add local 2001:db8:3::/64 dev lo table 110",
};

static int if_vlan;		/* xbt-vl0 */

/* The ingress device's VLAN devices as vl says. */
static void set_vlans(unsigned int vl)
{
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_ifaces);
	uint32_t key = (uint32_t)xbt_fx.if_in, flags = 0;
	struct xb_iface_cfg cfg;

	assert_int_equal(bpf_map_lookup_elem(fd, &key, &cfg), 0);
	if (vl & VL_NOPOLICY)
		flags |= XB_IF_DISABLE_POLICY4 | XB_IF_DISABLE_POLICY6;
	if (vl & VL_TC)
		flags |= XB_IF_TC_INGRESS;
	if (vl & VL_STACKED)
		flags |= XB_IF_STACKED;
	cfg.n_vlans = 0;
	memset(cfg.vlans, 0, sizeof(cfg.vlans));
	if (vl & (VL_Q100 | VL_AD100 | VL_Q0)) {
		assert_true(if_vlan > 0);
		cfg.vlans[0].ifindex = (uint32_t)if_vlan;
		cfg.vlans[0].flags = flags;
		cfg.vlans[0].tag = vl & VL_Q0 ? 0 : vl & VL_AD100 ? 100 | XB_VLAN_TAG_AD : 100;
		cfg.n_vlans = 1;
	}
	assert_int_equal(bpf_map_update_elem(fd, &key, &cfg, BPF_ANY), 0);
}

/* pass_undecidable, counted under cause (XB_U_*) */
#define UNDECIDABLE(cause)	(XB_R_PASS_UNDECIDABLE | (cause) << 8)
#define CASE_REASON(c)		((c)->reason & 0xff)
#define CASE_CAUSE(c)		((c)->reason >> 8)
/* more XB_IF_* flags of the ingress device, beside the ST_* bits */
#define IF_FLAGS(flags)		((flags) << 16)
#define CASE_STATE(c)		((c)->state & 0xffff)
#define CASE_IF_FLAGS(c)	((c)->state >> 16)

/* Sub policies beside main ones, as CONFIG_XFRM_SUB_POLICY has them. */
static const struct xbt_policy pol_sub[] = {
	POL(.id = 2, IN4, MAIN, .verdict = XB_V_REQUIRES_IPSEC,
	    .dst = V4_LOCAL, .plen_d = 32, .priority = 100, .pos = 1),
	POL(.id = 20, IN4, SUB, .verdict = XB_V_ALLOW, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_TCP, PORT(443), .priority = 50,
	    .pos = 2),
	POL(.id = 21, IN4, SUB, .verdict = XB_V_BLOCK, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_TCP, PORT(444), .priority = 500,
	    .pos = 3),
	POL(.id = 22, IN4, MAIN, .verdict = XB_V_ALLOW, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_TCP, PORT(444), .priority = 1,
	    .pos = 4),
	POL(.id = 23, IN4, SUB, .verdict = XB_V_ALLOW, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_TCP, PORT(445), .priority = 50,
	    .pos = 5),
	POL(.id = 24, IN4, MAIN, .verdict = XB_V_ALLOW, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_TCP, PORT(445), .priority = 1,
	    .pos = 6),
	POL(.id = 25, IN4, SUB, .verdict = XB_V_REQUIRES_IPSEC,
	    .dst = V4_LOCAL, .plen_d = 32, .proto = IPPROTO_TCP, PORT(446),
	    .priority = 50, .pos = 7),
	POL(.id = 26, IN4, MAIN, .verdict = XB_V_ALLOW, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_TCP, PORT(446), .priority = 1,
	    .pos = 8),
	POL(.id = 27, IN4, SUB, .verdict = XB_V_ALLOW, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_TCP, PORT(447), .priority = 50,
	    .pos = 9),
	POL(.id = 28, IN4, MAIN, .verdict = XB_V_BLOCK, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_TCP, PORT(447), .priority = 1,
	    .pos = 10),
	/* forwarded: a sub allow brings in the IN main policy */
	POL(.id = 29, FWD4, SUB, .verdict = XB_V_ALLOW, .dst = "203.0.113.0",
	    .plen_d = 24, .proto = IPPROTO_TCP, PORT(8080), .priority = 50,
	    .pos = 11),
	POL(.id = 30, IN4, MAIN, .verdict = XB_V_BLOCK, .dst = "203.0.113.0",
	    .plen_d = 24, .priority = 50, .pos = 12),
	POL(.id = 31, FWD4, MAIN, .verdict = XB_V_ALLOW, .dst = "203.0.113.0",
	    .plen_d = 24, .priority = 1, .pos = 13),
	{ 0 }
};

/* Priority order across shapes, and ties broken by position. */
static const struct xbt_policy pol_order[] = {
	/* shape (0, 24): best priority 10 from a policy that does not
	 * match; the matching one has 200 */
	POL(.id = 40, IN4, MAIN, .verdict = XB_V_ALLOW, .dst = "192.0.2.0",
	    .plen_d = 24, .priority = 200, .pos = 1),
	POL(.id = 41, IN4, MAIN, .verdict = XB_V_ALLOW, .dst = "192.0.3.0",
	    .plen_d = 24, .priority = 10, .pos = 2),
	/* shape (0, 32): 50 beats 200 although it is searched later */
	POL(.id = 42, IN4, MAIN, .verdict = XB_V_BLOCK, .dst = V4_LOCAL,
	    .plen_d = 32, .priority = 50, .pos = 3),
	/* equal priority 30 in two shapes, different outcomes: the kernel's
	 * choice is not visible (user/classifier/tss.h), undecidable */
	POL(.id = 43, IN4, MAIN, .verdict = XB_V_ALLOW, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_UDP, PORT(7000), .priority = 30,
	    .pos = 9),
	POL(.id = 44, IN4, MAIN, .verdict = XB_V_BLOCK, .dst = "192.0.2.0",
	    .plen_d = 24, .proto = IPPROTO_UDP, .priority = 30, .pos = 4),
	POL(.id = 45, IN6, MAIN, .verdict = XB_V_ALLOW, .dst = V6_LOCAL,
	    .plen_d = 128, .proto = IPPROTO_UDP, PORT(7000), .priority = 30,
	    .pos = 5),
	POL(.id = 46, IN6, MAIN, .verdict = XB_V_BLOCK, .dst = "2001:db8:1::",
	    .plen_d = 48, .proto = IPPROTO_UDP, .priority = 30, .pos = 6),
	/* equal priority, same outcome: decided, by position */
	POL(.id = 47, IN6, MAIN, .verdict = XB_V_BLOCK, .dst = V6_LOCAL,
	    .plen_d = 128, .proto = IPPROTO_UDP, PORT(7001), .priority = 20,
	    .pos = 8),
	POL(.id = 48, IN6, MAIN, .verdict = XB_V_BLOCK, .dst = "2001:db8:1::",
	    .plen_d = 48, .proto = IPPROTO_UDP, PORT(7001), .priority = 20,
	    .pos = 7),
	/* same bucket, equal priority, different outcomes */
	POL(.id = 49, IN4, MAIN, .verdict = XB_V_BLOCK, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_UDP, PORT(7002), .priority = 20,
	    .pos = 10),
	POL(.id = 50, IN4, MAIN, .verdict = XB_V_ALLOW, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_UDP, PORT(7002), .priority = 20,
	    .pos = 11),
	{ 0 }
};

static const struct xbt_policy pol_none[] = { { 0 } };

/* Most cases run on gw_spd and gw_sas (tests/lib/fixture.c): a gateway
 * protecting itself and a subnet behind it. */
static const struct verdict_case verdict_cases[] = {
	/* IPv4 verdicts */
	{ "v4 local tcp/22 allowed", PKT(TCP4(V4_LOCAL, 22)), gw_spd,
	  gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 1 },
	{ "v4 local tcp/23 requires ipsec", PKT(TCP4(V4_LOCAL, 23)), gw_spd,
	  gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "v4 local from blocked source", PKT(.family = 4, .src = "192.0.2.66",
	  .dst = V4_LOCAL, .l4 = XBT_L4_TCP, .sport = 1, .dport = 22),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_POLICY_BLOCK, 3 },
	{ "v4 other local address, no policy",
	  PKT(TCP4("198.51.100.1", 23)), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_NO_POLICY, NO_POL },
	{ "v4 forwarded tcp/80 allowed", PKT(TCP4(V4_FWD, 80)), gw_spd,
	  gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 5 },
	{ "v4 forwarded udp requires ipsec", PKT(UDP4(V4_FWD, 53)), gw_spd,
	  gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 4 },
	{ "v4 forwarded to blocked host", PKT(TCP4("203.0.113.7", 80)),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_POLICY_BLOCK, 6 },
	{ "v4 forwarded without policy", PKT(TCP4("198.51.100.9", 80)),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_NO_POLICY, NO_POL },
	{ "v4 local policy does not apply to forwarding",
	  PKT(TCP4("198.51.100.9", 23)), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_NO_POLICY, NO_POL },
	/* ICMP type/code in the selector ports */
	{ "v4 icmp echo request allowed", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 8, .dport = 0),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 7 },
	{ "v4 icmp timestamp blocked", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 13, .dport = 0),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_POLICY_BLOCK, 16 },
	{ "v4 icmp echo with code 1 falls to requires", PKT(.family = 4,
	  .src = V4_SRC, .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 8,
	  .dport = 1), gw_spd, gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC,
	  2 },
	{ "v4 sctp port allowed", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_SCTP, .sport = 1, .dport = 9899),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 8 },
	{ "v4 gre key as ports blocked", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_GRE, .spi = 0x00010002), gw_spd,
	  gw_sas, 0, DROP, XB_R_DROP_POLICY_BLOCK, 9 },
	{ "v4 gre key after checksum blocked", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_GRE, .spi = 0x00010002,
	  .gre_csum = true), gw_spd, gw_sas, 0, DROP,
	  XB_R_DROP_POLICY_BLOCK, 9 },
	{ "v4 gre routing bit: the kernel reads no key, undecidable",
	  PKT(.family = 4, .src = V4_SRC, .dst = V4_LOCAL, .l4 = XBT_L4_GRE,
	  .spi = 0x00010002, .gre_flags = 0x4000), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_GRE), NO_POL },
	{ "v4 gre key past the datagram undecidable", PKT(.family = 4,
	  .src = V4_SRC, .dst = V4_LOCAL, .l4 = XBT_L4_GRE, .spi = 0x00010002,
	  .cut_l4 = true, .l4_keep = 6), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_TRUNCATED_L4), NO_POL },
	{ "v4 gre other key requires", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_GRE, .spi = 0x00010003), gw_spd,
	  gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	/* IPv4 options and fragments */
	{ "v4 with nop options", PKT(TCP4(V4_LOCAL, 22), .ip_opts = 8),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 1 },
	{ "v4 with options, blocked", PKT(TCP4(V4_LOCAL, 23), .ip_opts = 40),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "v4 loose source route undecidable", PKT(TCP4(V4_LOCAL, 23),
	  .lsrr = true), gw_spd, gw_sas, 0, PASS, UNDECIDABLE(XB_U_SOURCE_ROUTE),
	  NO_POL },
	{ "v4 first fragment undecidable", PKT(TCP4(V4_LOCAL, 23),
	  .frag = 0x2000), gw_spd, gw_sas, 0, PASS, UNDECIDABLE(XB_U_FRAGMENT),
	  NO_POL },
	{ "v4 later fragment undecidable", PKT(TCP4(V4_LOCAL, 23),
	  .frag = 0x0010), gw_spd, gw_sas, 0, PASS, UNDECIDABLE(XB_U_FRAGMENT),
	  NO_POL },
	{ "v4 DF is not a fragment", PKT(TCP4(V4_LOCAL, 23), .frag = 0x4000),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	/* VLAN: a tagged frame is its VLAN device's (vlan_do_receive), or
	 * the kernel's to drop or hand elsewhere when there is none; more
	 * with VLAN devices in vlan_cases */
	{ "v4 vlan tag without a VLAN device undecidable",
	  PKT(TCP4(V4_LOCAL, 23), .vlans = 1), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_VLAN), NO_POL },
	{ "v6 vlan tag without a VLAN device undecidable",
	  PKT(TCP6(V6_FWD, 80), .vlans = 1), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_VLAN), NO_POL },
	/* IPv6 verdicts and extension headers */
	{ "v6 local tcp/22 allowed", PKT(TCP6(V6_LOCAL, 22)), gw_spd,
	  gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 11 },
	{ "v6 local tcp/23 requires ipsec", PKT(TCP6(V6_LOCAL, 23)), gw_spd,
	  gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 10 },
	{ "v6 forwarded udp/53 allowed", PKT(UDP6(V6_FWD, 53)), gw_spd,
	  gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 14 },
	{ "v6 forwarded tcp blocked", PKT(TCP6(V6_FWD, 80)), gw_spd, gw_sas,
	  0, DROP, XB_R_DROP_POLICY_BLOCK, 13 },
	{ "v6 forwarded without policy", PKT(TCP6("2001:db8:2::9", 80)),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_NO_POLICY, NO_POL },
	{ "v6 icmpv6 echo request allowed", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_ICMP, .sport = 128, .dport = 0),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 12 },
	{ "v6 icmpv6 echo reply requires", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_ICMP, .sport = 129, .dport = 0),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 10 },
	/* older kernels match the MH type of policy 15, current ones see 0 */
	{ "v6 mobility header undecidable", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_MH, .sport = 5), gw_spd, gw_sas, 0,
	  PASS, UNDECIDABLE(XB_U_MOBILITY), NO_POL },
	/* a link-local source is routed by scope */
	{ "v6 link-local source undecidable", PKT(.family = 6,
	  .src = "fe80::1", .dst = V6_LOCAL, .l4 = XBT_L4_TCP, .sport = 1,
	  .dport = 23), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_LINK_LOCAL_SRC), NO_POL },
	/* transport headers cut short by the IP length, the rest of them in
	 * an Ethernet trailer: the kernel trims before it reads */
	{ "v4 tcp ports past the datagram undecidable", PKT(TCP4(V4_LOCAL, 23),
	  .cut_l4 = true, .l4_keep = 3), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_TRUNCATED_L4), NO_POL },
	{ "v4 udp with no transport byte in the datagram undecidable",
	  PKT(UDP4(V4_LOCAL, 9), .cut_l4 = true), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_TRUNCATED_L4), NO_POL },
	{ "v6 tcp ports past the datagram undecidable", PKT(TCP6(V6_LOCAL, 23),
	  .cut_l4 = true, .l4_keep = 2), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_TRUNCATED_L4), NO_POL },
	{ "v4 tcp whole ports, trailer after: decided",
	  PKT(TCP4(V4_LOCAL, 23), .cut_l4 = true, .l4_keep = 4), gw_spd,
	  gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "v4 icmp of 4 bytes undecidable", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 13, .cut_l4 = true,
	  .l4_keep = 4), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_TRUNCATED_L4), NO_POL },
	{ "v6 icmpv6 of 7 bytes undecidable", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_ICMP, .sport = 129, .cut_l4 = true,
	  .l4_keep = 7), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_TRUNCATED_L4), NO_POL },
	{ "v4 esp spi past the datagram undecidable",
	  PKT(ESP4(V4_LOCAL, 0x1001), .payload = 32, .cut_l4 = true,
	  .l4_keep = 6), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_TRUNCATED_L4), NO_POL },
	{ "v4 nat-t spi in the trailer is plain udp/4500 (ike bypass)",
	  PKT(.family = 4, .src = V4_SRC, .dst = V4_LOCAL, .l4 = XBT_L4_NATT,
	  .spi = 0x1001, .payload = 32, .cut_l4 = true, .l4_keep = 10),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_BYPASS, NO_POL },
	{ "v6 hop-by-hop + dest opts", PKT(TCP6(V6_LOCAL, 22), .ext = "hd"),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 11 },
	{ "v6 hop-by-hop, routing (0 left), dest opts",
	  PKT(TCP6(V6_LOCAL, 23), .ext = "hrd"), gw_spd, gw_sas, 0, DROP,
	  XB_R_DROP_REQUIRES_IPSEC, 10 },
	{ "v6 routing with segments left undecidable",
	  PKT(TCP6(V6_LOCAL, 23), .ext = "R"), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_SOURCE_ROUTE), NO_POL },
	{ "v6 first fragment undecidable", PKT(TCP6(V6_LOCAL, 23),
	  .ext = "hf"), gw_spd, gw_sas, 0, PASS, UNDECIDABLE(XB_U_FRAGMENT),
	  NO_POL },
	{ "v6 later fragment undecidable", PKT(TCP6(V6_LOCAL, 23),
	  .ext = "F"), gw_spd, gw_sas, 0, PASS, UNDECIDABLE(XB_U_FRAGMENT),
	  NO_POL },
	{ "v6 too many extension headers undecidable",
	  PKT(TCP6(V6_LOCAL, 23), .ext = "dddddddd"), gw_spd, gw_sas, 0,
	  PASS, UNDECIDABLE(XB_U_HEADER_CHAIN), NO_POL },
	{ "v6 policy marked undecidable", PKT(.family = 6,
	  .src = "2001:db8:1::66", .dst = V6_LOCAL, .l4 = XBT_L4_TCP,
	  .sport = 1, .dport = 23), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_POLICY), NO_POL },
	{ "v6 multicast undecidable", PKT(UDP6("ff02::1", 9)), gw_spd,
	  gw_sas, 0, PASS, UNDECIDABLE(XB_U_NOT_UNICAST), NO_POL },
	{ "v6 link-local destination undecidable", PKT(UDP6("fe80::1", 9)),
	  gw_spd, gw_sas, 0, PASS, UNDECIDABLE(XB_U_NOT_UNICAST), NO_POL },
	{ "v4 broadcast undecidable", PKT(UDP4("255.255.255.255", 9)),
	  gw_spd, gw_sas, 0, PASS, UNDECIDABLE(XB_U_NOT_UNICAST), NO_POL },
	/* ESP, AH, NAT-T */
	{ "v4 esp known spi", PKT(ESP4(V4_LOCAL, 0x1000), .payload = 32),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v4 esp unknown spi", PKT(ESP4(V4_LOCAL, 0x1001), .payload = 32),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 esp spi of an AH SA", PKT(ESP4(V4_LOCAL, 0x2000), .payload = 32),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 esp known spi other local address",
	  PKT(ESP4("198.51.100.1", 0x1000), .payload = 32), gw_spd, gw_sas, 0,
	  DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 esp in transit is plaintext to FWD", PKT(ESP4(V4_FWD, 0x9999),
	  .payload = 32), gw_spd, gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW,
	  18 },
	{ "v4 ah known spi", PKT(.family = 4, .src = V4_SRC, .dst = V4_LOCAL,
	  .l4 = XBT_L4_AH, .spi = 0x2000, .dport = 23), gw_spd, gw_sas, 0,
	  PASS, XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v4 ah unknown spi", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_AH, .spi = 0x2001, .dport = 23),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 nat-t esp known spi", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_NATT, .spi = 0x1000, .payload = 32),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v4 nat-t esp unknown spi", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_NATT, .spi = 0x1002, .payload = 32),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	/* no socket decapsulates ESP in UDP: plain udp/4500 to the kernel */
	{ "v4 nat-t unknown spi, no socket on 4500: plain udp (bypass)",
	  PKT(.family = 4, .src = V4_SRC, .dst = V4_LOCAL, .l4 = XBT_L4_NATT,
	  .spi = 0x1002, .payload = 32), gw_spd, gw_sas, ST_NO_NATT_SOCKET,
	  PASS, XB_R_PASS_BYPASS, NO_POL },
	{ "v4 nat-t ike (zero marker) bypassed", PKT(.family = 4,
	  .src = V4_SRC, .dst = V4_LOCAL, .l4 = XBT_L4_IKE), gw_spd,
	  gw_sas, 0, PASS, XB_R_PASS_BYPASS, NO_POL },
	{ "v4 nat-t keepalive bypassed", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_KEEPALIVE), gw_spd, gw_sas, 0,
	  PASS, XB_R_PASS_BYPASS, NO_POL },
	{ "v4 ike udp/500 bypassed", PKT(UDP4(V4_LOCAL, 500), .payload = 28),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_BYPASS, NO_POL },
	{ "v4 udp/501 not bypassed", PKT(UDP4(V4_LOCAL, 501)), gw_spd,
	  gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "v4 forwarded udp/500 not bypassed", PKT(UDP4(V4_FWD, 500)),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 4 },
	{ "v6 esp known spi", PKT(ESP6(V6_LOCAL, 0x3000), .payload = 32),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v6 esp unknown spi", PKT(ESP6(V6_LOCAL, 0x3001), .payload = 32),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v6 esp after dest opts unknown spi",
	  PKT(ESP6(V6_LOCAL, 0x3001), .ext = "hd", .payload = 32), gw_spd,
	  gw_sas, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v6 ah known spi", PKT(.family = 6, .src = V6_SRC, .dst = V6_LOCAL,
	  .l4 = XBT_L4_AH, .spi = 0x4000, .dport = 23), gw_spd, gw_sas, 0,
	  PASS, XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v6 ah unknown spi", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_AH, .spi = 0x4001, .dport = 23),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v6 nat-t esp unknown spi", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_NATT, .spi = 0x3002, .payload = 32),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v6 nat-t ike bypassed", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_IKE), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_BYPASS, NO_POL },
	{ "v6 esp fragment undecidable", PKT(ESP6(V6_LOCAL, 0x3001), .ext = "f",
	  .payload = 32), gw_spd, gw_sas, 0, PASS, UNDECIDABLE(XB_U_FRAGMENT),
	  NO_POL },
	/* fail open */
	{ "unsynced passes", PKT(TCP4(V4_LOCAL, 23)), gw_spd, gw_sas,
	  ST_UNSYNCED, PASS, XB_R_PASS_UNSYNCED, NO_POL },
	{ "unsynced passes unknown spi",
	  PKT(ESP4(V4_LOCAL, 0x1001), .payload = 32), gw_spd, gw_sas,
	  ST_UNSYNCED, PASS, XB_R_PASS_UNSYNCED, NO_POL },
	{ "stale heartbeat passes", PKT(TCP6(V6_LOCAL, 23)), gw_spd,
	  gw_sas, ST_STALE, PASS, XB_R_PASS_UNSYNCED, NO_POL },
	{ "odd seq (publishing) passes", PKT(TCP4(V4_LOCAL, 23)), gw_spd,
	  gw_sas, ST_ODD_SEQ, PASS, XB_R_PASS_PUBLISHING, NO_POL },
	{ "odd seq passes unknown spi",
	  PKT(ESP6(V6_LOCAL, 0x3001), .payload = 32), gw_spd, gw_sas,
	  ST_ODD_SEQ, PASS, XB_R_PASS_PUBLISHING, NO_POL },
	{ "interface not configured passes", PKT(TCP4(V4_LOCAL, 23)),
	  gw_spd, gw_sas, ST_NO_IFACE, PASS, XB_R_PASS_NO_IFACE, NO_POL },
	{ "v4 disable_policy passes", PKT(TCP4(V4_LOCAL, 23)), gw_spd,
	  gw_sas, ST_DISABLE4, PASS, XB_R_PASS_DISABLED_DEV, NO_POL },
	{ "v4 disable_policy still drops unknown spi",
	  PKT(ESP4(V4_LOCAL, 0x1001), .payload = 32), gw_spd, gw_sas,
	  ST_DISABLE4, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v6 disable_policy4 does not cover v6", PKT(TCP6(V6_LOCAL, 23)),
	  gw_spd, gw_sas, ST_DISABLE4, DROP, XB_R_DROP_REQUIRES_IPSEC, 10 },
	{ "v6 disable_policy passes", PKT(TCP6(V6_LOCAL, 23)), gw_spd,
	  gw_sas, ST_DISABLE6, PASS, XB_R_PASS_DISABLED_DEV, NO_POL },
	/* skb-mode XDP sees tunnel-mode ESP again after decryption, when the
	 * secpath satisfies the templates */
	{ "generic xdp: requires ipsec undecidable", PKT(TCP4(V4_LOCAL, 23)),
	  gw_spd, gw_sas, ST_GENERIC, PASS, UNDECIDABLE(XB_U_GENERIC_XDP),
	  NO_POL },
	{ "generic xdp: a block still drops", PKT(TCP4("203.0.113.7", 80)),
	  gw_spd, gw_sas, ST_GENERIC, DROP, XB_R_DROP_POLICY_BLOCK, 6 },
	{ "generic xdp: unknown spi still drops", PKT(ESP4(V4_LOCAL, 0x1001),
	  .payload = 32), gw_spd, gw_sas, ST_GENERIC, DROP,
	  XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "stacked device: a block passes", PKT(TCP4("203.0.113.7", 80)),
	  gw_spd, gw_sas, ST_STACKED, PASS, UNDECIDABLE(XB_U_STACKED_DEV),
	  NO_POL },
	/* what runs between XDP and the XFRM lookup: tc filters and
	 * netfilter hooks on the device's ingress (all its packets pass),
	 * netfilter chains at prerouting (their family's packets pass); the
	 * cause is the first of them in the kernel's order */
	{ "tc filter on ingress: a block passes", PKT(TCP4("203.0.113.7", 80)),
	  gw_spd, gw_sas, IF_FLAGS(XB_IF_TC_INGRESS), PASS,
	  UNDECIDABLE(XB_U_TC_INGRESS), NO_POL },
	{ "tc filter on ingress: an unknown spi passes",
	  PKT(ESP4(V4_LOCAL, 0x1001), .payload = 32), gw_spd, gw_sas,
	  IF_FLAGS(XB_IF_TC_INGRESS), PASS, UNDECIDABLE(XB_U_TC_INGRESS),
	  NO_POL },
	{ "netfilter ingress hook: requires ipsec passes",
	  PKT(TCP6(V6_LOCAL, 23)), gw_spd, gw_sas, IF_FLAGS(XB_IF_NF_INGRESS),
	  PASS, UNDECIDABLE(XB_U_NF_INGRESS), NO_POL },
	{ "tc before netfilter ingress before a stacked device",
	  PKT(TCP4("203.0.113.7", 80)), gw_spd, gw_sas, ST_STACKED |
	  IF_FLAGS(XB_IF_TC_INGRESS | XB_IF_NF_INGRESS | XB_IF_NF_PREROUTING4),
	  PASS, UNDECIDABLE(XB_U_TC_INGRESS), NO_POL },
	{ "netfilter ingress before prerouting", PKT(TCP4("203.0.113.7", 80)),
	  gw_spd, gw_sas, IF_FLAGS(XB_IF_NF_INGRESS | XB_IF_NF_PREROUTING4),
	  PASS, UNDECIDABLE(XB_U_NF_INGRESS), NO_POL },
	{ "netfilter prerouting v4: a block passes",
	  PKT(TCP4("203.0.113.7", 80)), gw_spd, gw_sas,
	  IF_FLAGS(XB_IF_NF_PREROUTING4), PASS, UNDECIDABLE(XB_U_NETFILTER),
	  NO_POL },
	{ "netfilter prerouting v4: v6 still decided", PKT(TCP6(V6_LOCAL, 23)),
	  gw_spd, gw_sas, IF_FLAGS(XB_IF_NF_PREROUTING4), DROP,
	  XB_R_DROP_REQUIRES_IPSEC, 10 },
	{ "shape list overflow undecidable", PKT(TCP4(V4_LOCAL, 23)), gw_spd,
	  gw_sas, ST_OVERFLOW, PASS, UNDECIDABLE(XB_U_LIST), NO_POL },
	{ "overflow of another list does not matter", PKT(TCP6(V6_LOCAL, 23)),
	  gw_spd, gw_sas, ST_OVERFLOW, DROP, XB_R_DROP_REQUIRES_IPSEC, 10 },
	/* default policies */
	{ "v4 default block in", PKT(TCP4(V4_LOCAL, 23)), pol_none, gw_sas,
	  ST_DEF_BLOCK_IN, DROP, XB_R_DROP_DEFAULT_BLOCK, NO_POL },
	{ "v6 default block in", PKT(TCP6(V6_LOCAL, 23)), pol_none, gw_sas,
	  ST_DEF_BLOCK_IN, DROP, XB_R_DROP_DEFAULT_BLOCK, NO_POL },
	{ "default block in, forwarded passes", PKT(TCP4(V4_FWD, 23)),
	  pol_none, gw_sas, ST_DEF_BLOCK_IN, PASS, XB_R_PASS_NO_POLICY,
	  NO_POL },
	{ "v4 default block fwd", PKT(TCP4(V4_FWD, 23)), pol_none, gw_sas,
	  ST_DEF_BLOCK_FWD, DROP, XB_R_DROP_DEFAULT_BLOCK, NO_POL },
	{ "v6 default block fwd", PKT(TCP6(V6_FWD, 23)), pol_none, gw_sas,
	  ST_DEF_BLOCK_FWD, DROP, XB_R_DROP_DEFAULT_BLOCK, NO_POL },
	{ "default block with matching allow", PKT(TCP4(V4_LOCAL, 22)),
	  gw_spd, gw_sas, ST_DEF_BLOCK_IN, PASS, XB_R_PASS_POLICY_ALLOW,
	  1 },
	{ "v4 forwarded icmp error without policy: undecidable",
	  PKT(.family = 4, .src = V4_SRC, .dst = "198.51.100.9",
	  .l4 = XBT_L4_ICMP, .sport = 3, .dport = 1), pol_none, gw_sas,
	  ST_DEF_BLOCK_FWD, PASS, UNDECIDABLE(XB_U_ICMP_ERROR), NO_POL },
	{ "v6 forwarded icmpv6 error without policy: undecidable",
	  PKT(.family = 6, .src = V6_SRC, .dst = V6_FWD, .l4 = XBT_L4_ICMP,
	  .sport = 1, .dport = 4), pol_none, gw_sas, ST_DEF_BLOCK_FWD, PASS,
	  UNDECIDABLE(XB_U_ICMP_ERROR), NO_POL },
	{ "v4 forwarded icmp echo default block", PKT(.family = 4,
	  .src = V4_SRC, .dst = "198.51.100.9", .l4 = XBT_L4_ICMP, .sport = 8),
	  pol_none, gw_sas, ST_DEF_BLOCK_FWD, DROP, XB_R_DROP_DEFAULT_BLOCK,
	  NO_POL },
	{ "v4 local icmp error default block", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 3, .dport = 1),
	  pol_none, gw_sas, ST_DEF_BLOCK_IN, DROP, XB_R_DROP_DEFAULT_BLOCK,
	  NO_POL },
	{ "default block in, ike still bypassed", PKT(UDP4(V4_LOCAL, 500)),
	  pol_none, gw_sas, ST_DEF_BLOCK_IN, PASS, XB_R_PASS_BYPASS, NO_POL },
	/* sub before main */
	{ "sub allow, main requires -> requires", PKT(TCP4(V4_LOCAL, 443)),
	  pol_sub, NULL, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "sub block beats a better main allow", PKT(TCP4(V4_LOCAL, 444)),
	  pol_sub, NULL, 0, DROP, XB_R_DROP_POLICY_BLOCK, 21 },
	{ "sub allow, main allow -> allow", PKT(TCP4(V4_LOCAL, 445)), pol_sub,
	  NULL, 0, PASS, XB_R_PASS_POLICY_ALLOW, 23 },
	{ "sub requires, main allow -> requires", PKT(TCP4(V4_LOCAL, 446)),
	  pol_sub, NULL, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 25 },
	{ "sub allow, main block -> block", PKT(TCP4(V4_LOCAL, 447)),
	  pol_sub, NULL, 0, DROP, XB_R_DROP_POLICY_BLOCK, 28 },
	{ "no sub match: main decides", PKT(TCP4(V4_LOCAL, 448)), pol_sub,
	  NULL, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "fwd sub allow brings in the IN main block",
	  PKT(TCP4(V4_FWD, 8080)), pol_sub, NULL, 0, DROP,
	  XB_R_DROP_POLICY_BLOCK, 30 },
	{ "fwd without sub match: fwd main allows", PKT(TCP4(V4_FWD, 8081)),
	  pol_sub, NULL, 0, PASS, XB_R_PASS_POLICY_ALLOW, 31 },
	/* search order */
	{ "later shape with better priority wins", PKT(TCP4(V4_LOCAL, 9)),
	  pol_order, NULL, 0, DROP, XB_R_DROP_POLICY_BLOCK, 42 },
	{ "v4 tie across shapes, different outcomes: undecidable",
	  PKT(UDP4(V4_LOCAL, 7000)), pol_order, NULL, 0, PASS,
	  UNDECIDABLE(XB_U_TIE), NO_POL },
	{ "v6 tie across shapes, different outcomes: undecidable",
	  PKT(UDP6(V6_LOCAL, 7000)), pol_order, NULL, 0, PASS,
	  UNDECIDABLE(XB_U_TIE), NO_POL },
	{ "v6 tie, same outcome: lower position decides",
	  PKT(UDP6(V6_LOCAL, 7001)), pol_order, NULL, 0, DROP,
	  XB_R_DROP_POLICY_BLOCK, 48 },
	{ "v4 tie in one bucket, different outcomes: undecidable",
	  PKT(UDP4(V4_LOCAL, 7002)), pol_order, NULL, 0, PASS,
	  UNDECIDABLE(XB_U_TIE), NO_POL },
	/* not IP, truncated, malformed: pass, never drop */
	{ "v4 truncated in tcp header", PKT(TCP4(V4_LOCAL, 23),
	  .truncate = 14 + 20 + 3), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_UNPARSED, NO_POL },
	{ "v4 truncated ip header", PKT(TCP4(V4_LOCAL, 23), .truncate = 30),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_UNPARSED, NO_POL },
	{ "v4 total length beyond frame", PKT(TCP4(V4_LOCAL, 23),
	  .payload = 100, .truncate = 14 + 40 + 50), gw_spd, gw_sas, 0,
	  PASS, XB_R_PASS_UNPARSED, NO_POL },
	{ "v4 bad version", PKT(TCP4(V4_LOCAL, 23), .bad_version = true),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_UNPARSED, NO_POL },
	{ "v6 truncated in ext header", PKT(TCP6(V6_LOCAL, 23), .ext = "hd",
	  .truncate = 14 + 40 + 8 + 1), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_UNPARSED, NO_POL },
	{ "v6 truncated header", PKT(TCP6(V6_LOCAL, 23), .truncate = 14 + 39),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_UNPARSED, NO_POL },
	{ "v4 esp truncated spi", PKT(ESP4(V4_LOCAL, 0x1001),
	  .truncate = 14 + 20 + 3), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_UNPARSED, NO_POL },
	{ "vlan tag cut short", PKT(TCP4(V4_LOCAL, 23), .vlans = 2,
	  .truncate = 14 + 2), gw_spd, gw_sas, 0, PASS, XB_R_PASS_UNPARSED,
	  NO_POL },
	{ "v4 icmp cut before code", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 13,
	  .truncate = 14 + 20 + 1), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_UNPARSED, NO_POL },
	/* jumbo frames: 9000 bytes, more than a page, so the test run builds
	 * a multi-buffer frame (the headers in the first buffer, the rest in
	 * frags); decided as the small ones are */
	{ "v4 9000-byte frame forwarded to blocked host",
	  PKT(UDP4("203.0.113.7", 80), .payload = 9000 - 14 - 20 - 8),
	  gw_spd, gw_sas, 0, DROP, XB_R_DROP_POLICY_BLOCK, 6 },
	{ "v4 9000-byte frame forwarded tcp/80 allowed",
	  PKT(TCP4(V4_FWD, 80), .payload = 9000 - 14 - 20 - 20), gw_spd,
	  gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 5 },
	{ "v4 9000-byte frame local tcp/23 requires ipsec",
	  PKT(TCP4(V4_LOCAL, 23), .payload = 9000 - 14 - 20 - 20), gw_spd,
	  gw_sas, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "v4 9000-byte esp unknown spi", PKT(ESP4(V4_LOCAL, 0x1001),
	  .payload = 9000 - 14 - 20 - 8), gw_spd, gw_sas, 0, DROP,
	  XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 9000-byte esp known spi", PKT(ESP4(V4_LOCAL, 0x1000),
	  .payload = 9000 - 14 - 20 - 8), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v6 9000-byte frame forwarded to blocked subnet",
	  PKT(UDP6(V6_FWD, 54), .payload = 9000 - 14 - 40 - 8), gw_spd,
	  gw_sas, 0, DROP, XB_R_DROP_POLICY_BLOCK, 13 },
	{ "v6 9000-byte frame forwarded udp/53 allowed",
	  PKT(UDP6(V6_FWD, 53), .payload = 9000 - 14 - 40 - 8), gw_spd,
	  gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 14 },
	{ "v6 9000-byte esp unknown spi", PKT(ESP6(V6_LOCAL, 0x3001),
	  .payload = 9000 - 14 - 40 - 8), gw_spd, gw_sas, 0, DROP,
	  XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 9000-byte frame, ip length beyond it", PKT(UDP4("203.0.113.7",
	  80), .payload = 9000 - 14 - 20 - 8, .truncate = 8999), gw_spd,
	  gw_sas, 0, PASS, XB_R_PASS_UNPARSED, NO_POL },
};

/* Cases with VLAN devices on the ingress device (VL_*). */
struct vlan_case {
	struct verdict_case c;
	unsigned int vlan;
};

static const struct vlan_case vlan_cases[] = {
	{ { "v4 vlan tag of a VLAN device decided as its",
	  PKT(TCP4(V4_LOCAL, 23), .vlans = 1), gw_spd, gw_sas, 0, DROP,
	  XB_R_DROP_REQUIRES_IPSEC, 2 }, VL_Q100 },
	{ { "v4 vlan tag: a forwarded block is local on the VLAN device",
	  PKT(TCP4("203.0.113.7", 80), .vlans = 1), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_NO_POLICY, NO_POL }, VL_Q100 },
	{ { "v4 vlan tag: the VLAN device's ip rule by iif makes it local",
	  PKT(UDP4(V4_FWD, 53), .vlans = 1), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_NO_POLICY, NO_POL }, VL_Q100 },
	{ { "v4 untagged, same flow: forwarded and blocked",
	  PKT(TCP4("203.0.113.7", 80)), gw_spd, gw_sas, 0, DROP,
	  XB_R_DROP_POLICY_BLOCK, 6 }, VL_Q100 },
	{ { "v4 vlan tag: the VLAN device's disable_policy",
	  PKT(TCP4(V4_LOCAL, 23), .vlans = 1), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_DISABLED_DEV, NO_POL }, VL_Q100 | VL_NOPOLICY },
	{ { "v4 vlan tag: the attached device's disable_policy is not its",
	  PKT(TCP4(V4_LOCAL, 23), .vlans = 1), gw_spd, gw_sas, ST_DISABLE4,
	  DROP, XB_R_DROP_REQUIRES_IPSEC, 2 }, VL_Q100 },
	{ { "v4 untagged on a device whose VLAN device has disable_policy",
	  PKT(TCP4(V4_LOCAL, 23)), gw_spd, gw_sas, 0, DROP,
	  XB_R_DROP_REQUIRES_IPSEC, 2 }, VL_Q100 | VL_NOPOLICY },
	{ { "v4 vlan tag: tc filters on the VLAN device's ingress",
	  PKT(TCP4(V4_LOCAL, 23), .vlans = 1), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_TC_INGRESS), NO_POL }, VL_Q100 | VL_TC },
	{ { "v4 vlan tag: tc filters on the attached device's ingress",
	  PKT(TCP4(V4_LOCAL, 23), .vlans = 1), gw_spd, gw_sas,
	  IF_FLAGS(XB_IF_TC_INGRESS), PASS, UNDECIDABLE(XB_U_TC_INGRESS),
	  NO_POL }, VL_Q100 },
	{ { "v4 vlan tag: the VLAN device is a bridge port or VRF member",
	  PKT(TCP4(V4_LOCAL, 23), .vlans = 1), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_STACKED_DEV), NO_POL }, VL_Q100 | VL_STACKED },
	{ { "v4 802.1Q tag, only an 802.1ad VLAN device of that VID",
	  PKT(TCP4(V4_LOCAL, 23), .vlans = 1), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_VLAN), NO_POL }, VL_AD100 },
	{ { "v4 two vlan tags (QinQ) undecidable",
	  PKT(TCP4(V4_LOCAL, 23), .vlans = 2), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_VLAN), NO_POL }, VL_Q100 | VL_AD100 },
	{ { "v6 two vlan tags (QinQ) undecidable",
	  PKT(TCP6(V6_LOCAL, 23), .vlans = 2), gw_spd, gw_sas, 0, PASS,
	  UNDECIDABLE(XB_U_VLAN), NO_POL }, VL_AD100 },
	{ { "v6 one vlan tag allowed", PKT(TCP6(V6_LOCAL, 22), .vlans = 1),
	  gw_spd, gw_sas, 0, PASS, XB_R_PASS_POLICY_ALLOW, 11 }, VL_Q100 },
	{ { "v6 vlan tag: forwarded block, local on the VLAN device",
	  PKT(TCP6(V6_FWD, 80), .vlans = 1), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_NO_POLICY, NO_POL }, VL_Q100 },
	{ { "v6 vlan tag: the VLAN device's disable_policy",
	  PKT(TCP6(V6_LOCAL, 23), .vlans = 1), gw_spd, gw_sas, 0, PASS,
	  XB_R_PASS_DISABLED_DEV, NO_POL }, VL_Q100 | VL_NOPOLICY },
	{ { "v4 untagged on a device with hidden vlan tags",
	  PKT(TCP4(V4_LOCAL, 23)), gw_spd, gw_sas,
	  IF_FLAGS(XB_IF_VLAN_BLIND), PASS, UNDECIDABLE(XB_U_VLAN), NO_POL }, VL_Q100 },
	{ { "v4 vlan tag on a device with hidden vlan tags",
	  PKT(TCP4(V4_LOCAL, 23), .vlans = 1), gw_spd, gw_sas,
	  IF_FLAGS(XB_IF_VLAN_BLIND), PASS, UNDECIDABLE(XB_U_VLAN), NO_POL }, VL_Q100 },
};

static void run_case_vlan(const struct verdict_case *c, unsigned int vlan,
			  bool use_builder)
{
	struct xbt_frame f;
	uint64_t cause0;
	int err;

	xbt_fx.use_builder = use_builder;
	err = xbt_fx_set_state(c->pols, c->sas, CASE_STATE(c), CASE_IF_FLAGS(c));
	xbt_fx.use_builder = false;
	assert_int_equal(err, 0);
	if (vlan)
		set_vlans(vlan);
	assert_true(xbt_build(&c->pkt, &f) > 0);
	cause0 = xbt_fx_cause_count(CASE_CAUSE(c));
	if (xbt_fx_expect(&f, (uint32_t)c->verdict, CASE_REASON(c), c->policy))
		fail_msg("%s: want verdict %d, reason %d, policy %u", c->name,
			 c->verdict, CASE_REASON(c), c->policy);
	if (CASE_REASON(c) == XB_R_PASS_UNDECIDABLE &&
	    xbt_fx_cause_count(CASE_CAUSE(c)) - cause0 != 1)
		fail_msg("%s: want undecidable cause %s counted once", c->name,
			 xb_cause_name(CASE_CAUSE(c)));
}

static void run_case(const struct verdict_case *c, bool use_builder)
{
	run_case_vlan(c, 0, use_builder);
}

static void test_verdict_of_filled_spd(void **state)
{
	run_case(*state, false);
}

static void test_verdict_of_published_spd(void **state)
{
	run_case(*state, true);
}

static void test_vlan_verdict_of_filled_spd(void **state)
{
	const struct vlan_case *v = *state;

	run_case_vlan(&v->c, v->vlan, false);
}

static void test_vlan_verdict_of_published_spd(void **state)
{
	const struct vlan_case *v = *state;

	run_case_vlan(&v->c, v->vlan, true);
}

/* ---- beyond the table ---- */

/* The daemon's stamp, as on_xfrm_events() writes it. */
static void set_drained(uint64_t drained_ns)
{
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_sync);
	struct xb_sync s;
	uint32_t zero = 0;

	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &s), 0);
	s.drained_ns = drained_ns;
	assert_int_equal(bpf_map_update_elem(fd, &zero, &s, BPF_ANY), 0);
}

static void expect_spi(uint32_t spi, uint32_t verdict, int reason)
{
	struct xbt_pkt_spec spec = { ESP4(V4_LOCAL, spi), .payload = 32 };
	struct xbt_frame f;

	assert_true(xbt_build(&spec, &f) > 0);
	if (xbt_fx_expect(&f, verdict, reason, NO_POL))
		fail_msg("spi 0x%x: want verdict %u, reason %s", spi, verdict,
			 xb_reason_name(reason));
}

/*
 * An SPI the maps lack waits, passing, until the daemon has read its XFRM
 * socket after the SPI's first packet; a read that began before it does
 * not count. Each packet decides anew: a pending verdict is never cached,
 * or the drop would wait for the next publication.
 */
static void test_unknown_spi_waits_for_the_daemon(void **state)
{
	struct xfrmbpf *with_lookup = xbt_fx.skel;
	uint32_t key_spi = 0x1005;
	struct xb_spi_key k = {};
	uint64_t before;
	int seen_fd;

	(void)state;
	/* the fallback of kernels without bpf_xdp_get_xfrm_state() */
	xbt_kernel_sa_lookup = false;
	xbt_fx.skel = xbt_skel_load(NULL, 0, 0);
	xbt_kernel_sa_lookup = true;
	assert_non_null(xbt_fx.skel);
	seen_fd = bpf_map__fd(xbt_fx.skel->maps.xb_spi_seen);
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, ST_SPI_UNREAD, 0), 0);
	before = xbt_now_ns();
	expect_spi(key_spi, XDP_PASS, XB_R_PASS_SPI_PENDING);
	expect_spi(key_spi, XDP_PASS, XB_R_PASS_SPI_PENDING);
	k.family = AF_INET;
	k.proto = IPPROTO_ESP;
	k.spi = htonl(key_spi);
	assert_int_equal(inet_pton(AF_INET, V4_LOCAL, &k.daddr), 1);
	assert_int_equal(bpf_map_lookup_elem(seen_fd, &k, &(struct xb_spi_seen){}), 0);
	set_drained(before);
	expect_spi(key_spi, XDP_PASS, XB_R_PASS_SPI_PENDING);
	set_drained(xbt_now_ns());
	expect_spi(key_spi, XDP_DROP, XB_R_DROP_UNKNOWN_SPI);
	expect_spi(key_spi, XDP_DROP, XB_R_DROP_UNKNOWN_SPI);
	/* another SPI first seen after that read waits for the next */
	expect_spi(key_spi + 1, XDP_PASS, XB_R_PASS_SPI_PENDING);
	/* a known SPI never waits */
	expect_spi(0x1000, XDP_PASS, XB_R_PASS_KNOWN_SPI);
	xfrmbpf__destroy(xbt_fx.skel);
	xbt_fx.skel = with_lookup;
}

#define skip_because(why)					\
	do {							\
		printf("# skipped: %s\n", (why));		\
		skip();						\
	} while (0)

/* ip xfrm in the test's namespace; 0 on success. */
static int sa_cmd(const char *verb)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip xfrm state %s src " V4_SRC " dst " V4_LOCAL
		 " proto esp spi 0x1007%s 2>/dev/null", verb,
		 strcmp(verb, "add") ? "" :
		 " mode transport enc 'cbc(aes)' 0x000102030405060708090a0b0c0d0e0f"
		 " auth 'hmac(sha256)' 0x000102030405060708090a0b0c0d0e0f");
	return system(cmd);
}

/*
 * Where the kernel can be asked (6.8+), an SPI the maps lack is dropped at
 * once if the kernel has no SA for it either, and passes if it has one the
 * maps do not show yet; neither answer is cached, so the next packet asks
 * again. The kernel's SA needs ESP, which the lab's kernels have.
 */
static void test_unknown_spi_asks_the_kernel(void **state)
{
	(void)state;
	if (!xbt_fx.skel->rodata->xb_kernel_sa_lookup)
		skip_because("this kernel has no bpf_xdp_get_xfrm_state()");
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, ST_SPI_UNREAD, 0), 0);
	expect_spi(0x1007, XDP_DROP, XB_R_DROP_UNKNOWN_SPI);
	if (sa_cmd("add"))
		skip_because("this kernel cannot hold an ESP SA");
	expect_spi(0x1007, XDP_PASS, XB_R_PASS_SPI_KERNEL);
	expect_spi(0x1007, XDP_PASS, XB_R_PASS_SPI_KERNEL);
	assert_int_equal(sa_cmd("delete"), 0);
	expect_spi(0x1007, XDP_DROP, XB_R_DROP_UNKNOWN_SPI);
}

/* The SPD watch's fields, as its kprobes (writers, written_ns) and the
 * daemon (on, drained_ns) write them. */
static void set_spd_watch(uint32_t on, uint64_t writers, uint64_t written_ns,
			  uint64_t drained_ns)
{
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_sync);
	struct xb_sync s;
	uint32_t zero = 0;

	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &s), 0);
	s.spd_watch = on;
	s.spd_writers = writers;
	s.spd_written_ns = written_ns;
	s.drained_ns = drained_ns;
	assert_int_equal(bpf_map_update_elem(fd, &zero, &s, BPF_ANY), 0);
}

static void expect_pkt(const struct xbt_pkt_spec *spec, uint32_t verdict, int reason,
		       uint32_t policy_id)
{
	struct xbt_frame f;

	assert_true(xbt_build(spec, &f) > 0);
	if (xbt_fx_expect(&f, verdict, reason, policy_id))
		fail_msg("%s:%u: want verdict %u, reason %s", spec->dst, ntohs(spec->dport),
			 verdict, xb_reason_name(reason));
}

/*
 * While the kernel's SPD may hold a change the maps do not (a writer runs,
 * or the last returned after the daemon last began to read its events),
 * every drop the SPD decides passes, cached verdicts too; passes and SPI
 * verdicts stay as they are. Once the daemon has read past the change,
 * the maps decide again, from the same cache. Without the watch the
 * fields are not looked at.
 */
static void test_spd_change_passes_its_drops(void **state)
{
	struct xbt_pkt_spec blocked = { TCP4("203.0.113.7", 80) };
	struct xbt_pkt_spec protect = { TCP4(V4_LOCAL, 23) };
	struct xbt_pkt_spec allowed = { TCP4(V4_LOCAL, 22) };
	uint64_t now;
	int i;

	(void)state;
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, 0), 0);
	now = xbt_now_ns();
	set_spd_watch(1, 0, now - 1000, now);
	for (i = 0; i < 2; i++) {	/* decided, then from the cache */
		expect_pkt(&blocked, XDP_DROP, XB_R_DROP_POLICY_BLOCK, 6);
		expect_pkt(&protect, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC, 2);
	}
	/* a writer runs */
	set_spd_watch(1, 1, now - 1000, now);
	expect_pkt(&blocked, XDP_PASS, XB_R_PASS_SPD_CHANGING, NO_POL);
	expect_pkt(&protect, XDP_PASS, XB_R_PASS_SPD_CHANGING, NO_POL);
	expect_pkt(&allowed, XDP_PASS, XB_R_PASS_POLICY_ALLOW, 1);
	if (xbt_fx.skel->rodata->xb_kernel_sa_lookup)
		expect_spi(0x1005, XDP_DROP, XB_R_DROP_UNKNOWN_SPI);
	/* a count the kprobes left below zero is as much a writer */
	set_spd_watch(1, UINT64_MAX, now - 1000, now);
	expect_pkt(&blocked, XDP_PASS, XB_R_PASS_SPD_CHANGING, NO_POL);
	/* the writer returned after the daemon began its last read ... */
	set_spd_watch(1, 0, now, now);
	expect_pkt(&blocked, XDP_PASS, XB_R_PASS_SPD_CHANGING, NO_POL);
	expect_pkt(&protect, XDP_PASS, XB_R_PASS_SPD_CHANGING, NO_POL);
	/* ... which a later read covers */
	set_spd_watch(1, 0, now, now + 1);
	expect_pkt(&blocked, XDP_DROP, XB_R_DROP_POLICY_BLOCK, 6);
	expect_pkt(&protect, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC, 2);
	/* no watch: the maps decide whatever the fields hold */
	set_spd_watch(0, 1, now + 5, now);
	expect_pkt(&blocked, XDP_DROP, XB_R_DROP_POLICY_BLOCK, 6);
	/* the default policy is the SPD's too */
	assert_int_equal(xbt_fx_set_state(pol_none, gw_sas, ST_DEF_BLOCK_IN, 0), 0);
	set_spd_watch(1, 1, now, now + 1);
	expect_pkt(&protect, XDP_PASS, XB_R_PASS_SPD_CHANGING, NO_POL);
	set_spd_watch(1, 0, now, now + 1);
	expect_pkt(&protect, XDP_DROP, XB_R_DROP_DEFAULT_BLOCK, NO_POL);
}

/* A frame that is not IP passes as such; one that says IPv4 and holds
 * nothing after the Ethernet header passes unparsed (test runs refuse
 * frames shorter than an Ethernet header: -EINVAL). */
static void test_not_ip_and_empty_ip_pass(void **state)
{
	struct xbt_frame f;

	(void)state;
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, ST_DEF_BLOCK_IN, 0),
			 0);
	xbt_frame_init(&f);
	xbt_push_eth(&f, 0x0806);		/* ARP */
	xbt_push_payload(&f, 28, 0);
	assert_int_equal(xbt_fx_expect(&f, XDP_PASS, XB_R_PASS_NOT_IP, NO_POL),
			 0);

	xbt_frame_init(&f);
	xbt_push_eth(&f, 0x0800);
	assert_int_equal(xbt_fx_expect(&f, XDP_PASS, XB_R_PASS_UNPARSED,
				       NO_POL), 0);
}

/* A priority tag (VID 0): with no VLAN device of VID 0 the kernel clears
 * it and receives the frame on the attached device, as if untagged; with
 * one, on that device. */
static void test_vlan_priority_tag(void **state)
{
	struct xbt_pkt_spec fwd = { TCP4("203.0.113.7", 80) };
	struct xbt_frame f;

	(void)state;
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, 0), 0);
	assert_true(xbt_build(&fwd, &f) > 0);
	xbt_push_vlan(&f, 0x8100, 0);
	assert_int_equal(xbt_fx_expect(&f, XDP_DROP, XB_R_DROP_POLICY_BLOCK, 6), 0);
	xbt_frame_init(&f);
	assert_true(xbt_build(&fwd, &f) > 0);
	xbt_push_vlan(&f, 0x88a8, 0);
	assert_int_equal(xbt_fx_expect(&f, XDP_DROP, XB_R_DROP_POLICY_BLOCK, 6), 0);
	/* a VLAN device of VID 0: its ip rule makes it local */
	set_vlans(VL_Q0);
	xbt_frame_init(&f);
	assert_true(xbt_build(&fwd, &f) > 0);
	xbt_push_vlan(&f, 0x8100, 0);
	assert_int_equal(xbt_fx_expect(&f, XDP_PASS, XB_R_PASS_NO_POLICY, NO_POL), 0);
	/* ... and a VID without one still passes */
	xbt_frame_init(&f);
	assert_true(xbt_build(&fwd, &f) > 0);
	xbt_push_vlan(&f, 0x8100, 7);
	assert_int_equal(xbt_fx_expect(&f, XDP_PASS, XB_R_PASS_UNDECIDABLE, NO_POL), 0);
}

/* The flow cache keeps a tagged frame's verdict apart from the untagged
 * frame of the same flow: the key has the VLAN device. */
static void test_vlan_flow_cache_apart(void **state)
{
	struct xbt_pkt_spec tagged = { TCP4("203.0.113.7", 80), .vlans = 1 };
	struct xbt_pkt_spec plain = { TCP4("203.0.113.7", 80) };
	struct xbt_frame ft, fp;
	int i;

	(void)state;
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, 0), 0);
	set_vlans(VL_Q100);
	assert_true(xbt_build(&tagged, &ft) > 0);
	assert_true(xbt_build(&plain, &fp) > 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(xbt_fx_expect(&ft, XDP_PASS, XB_R_PASS_NO_POLICY,
					       NO_POL), 0);
		assert_int_equal(xbt_fx_expect(&fp, XDP_DROP, XB_R_DROP_POLICY_BLOCK,
					       6), 0);
	}
}

/* Every truncation of valid packets passes and is never dropped. */
static void test_every_truncation_passes(void **state)
{
	static const struct xbt_pkt_spec specs[] = {
		{ TCP4(V4_LOCAL, 23), .vlans = 1, .ip_opts = 4 },
		{ TCP6(V6_LOCAL, 23), .vlans = 1, .ext = "hrd" },
		{ .family = 4, .src = V4_SRC, .dst = V4_LOCAL,
		  .l4 = XBT_L4_NATT, .spi = 0x1001, .payload = 16 },
		{ .family = 6, .src = V6_SRC, .dst = V6_LOCAL,
		  .l4 = XBT_L4_AH, .spi = 0x4001 },
	};
	struct xbt_frame f;
	uint32_t retval;
	size_t i, len, full, runs = 0;

	(void)state;
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, 0), 0);
	set_vlans(VL_Q100);	/* the tagged spec is its VLAN device's */
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		full = xbt_build(&specs[i], &f);
		assert_true(full > 0);
		/* BPF_PROG_TEST_RUN wants at least an Ethernet header */
		for (len = 14; len < full; len++) {
			f.len = len;
			assert_int_equal(xbt_fx_run_xdp(&f, &retval), 0);
			if (retval != XDP_PASS)
				fail_msg("spec %zu cut to %zu: verdict %u", i,
					 len, retval);
			runs++;
		}
		/* and the whole packet is dropped */
		f.len = full;
		assert_int_equal(xbt_fx_run_xdp(&f, &retval), 0);
		assert_int_equal(retval, XDP_DROP);
	}
	printf("# %zu truncated packets passed\n", runs);
}

/* The XDP program attached (native mode on the veth) decides real
 * traffic as the test runs say: a blocked flow is dropped before the
 * stack, an allowed one reaches it. */
static void test_attached_xdp_decides_real_traffic(void **state)
{
	struct xbt_pkt_spec drop = { TCP4(V4_LOCAL, 23) };
	struct xbt_pkt_spec pass = { TCP4(V4_LOCAL, 22) };
	uint64_t dropped, allowed;
	struct xbt_frame f;
	int i;

	(void)state;
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, 0), 0);
	assert_int_equal(bpf_xdp_attach(xbt_fx.if_in,
					bpf_program__fd(xbt_fx.skel->progs.xb_xdp),
					XDP_FLAGS_DRV_MODE, NULL), 0);
	dropped = xbt_fx_reason_count(XB_R_DROP_REQUIRES_IPSEC);
	allowed = xbt_fx_reason_count(XB_R_PASS_POLICY_ALLOW);
	assert_true(xbt_build(&drop, &f) > 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(xbt_fx_send_frame(&f), 0);
	assert_true(xbt_build(&pass, &f) > 0);
	assert_int_equal(xbt_fx_send_frame(&f), 0);
	/* veth delivers in NAPI context: give it a moment */
	for (i = 0; i < 100; i++) {
		if (xbt_fx_reason_count(XB_R_DROP_REQUIRES_IPSEC) - dropped == 3 &&
		    xbt_fx_reason_count(XB_R_PASS_POLICY_ALLOW) - allowed == 1)
			break;
		usleep(10000);
	}
	bpf_xdp_detach(xbt_fx.if_in, XDP_FLAGS_DRV_MODE, NULL);
	assert_int_equal(xbt_fx_reason_count(XB_R_DROP_REQUIRES_IPSEC) - dropped,
			 3);
	assert_int_equal(xbt_fx_reason_count(XB_R_PASS_POLICY_ALLOW) - allowed,
			 1);
}

#define N_CASES	(sizeof(verdict_cases) / sizeof(verdict_cases[0]))
#define N_VLAN_CASES	(sizeof(vlan_cases) / sizeof(vlan_cases[0]))

/*
 * The walk of a list has XB_SEARCH_STEPS steps: a table read, a present
 * key looked up, or a further chunk of its bucket each: a list that needs
 * more is undecidable (search_steps). The longest walk: every table holds the
 * flow's bucket in all its chunks, and every policy matches at one
 * priority, so neither a table's best priority nor a policy's stops it.
 * One entry fewer than the steps is decided; as many as the steps is
 * not (the walk cannot tell its last step from one that would need
 * more).
 */
#define WALK_TABLES	XB_MAX_TABLES
#define WALK_MAX	(WALK_TABLES * XB_BUCKET_MAX)

static struct xbt_policy walk_pols[WALK_MAX + 1];

/* FWD IPv6 blocks of the flow V6_SRC -> V6_FWD, a table each prefix pair,
 * XB_BUCKET_MAX a table, less `fewer` in the last one. */
static void fill_longest_walk(uint32_t fewer)
{
	uint32_t t, j, n = 0;

	memset(walk_pols, 0, sizeof(walk_pols));
	for (t = 0; t < WALK_TABLES; t++) {
		for (j = 0; j < XB_BUCKET_MAX; j++) {
			if (t == WALK_TABLES - 1 && j + fewer >= XB_BUCKET_MAX)
				break;
			walk_pols[n] = (struct xbt_policy)POL(.id = n + 1, FWD6,
				MAIN, .verdict = XB_V_BLOCK, .src = V6_SRC,
				.plen_s = (uint8_t)(t % 32), .dst = V6_FWD,
				.plen_d = (uint8_t)(t / 32), .priority = 100,
				.pos = n + 1);
			n++;
		}
	}
}

static void test_walk_past_its_steps_passes(void **state)
{
	struct xbt_pkt_spec flow = { TCP6(V6_FWD, 80) };
	uint64_t cause0;

	(void)state;
	_Static_assert(WALK_TABLES * (1 + XB_BUCKET_CHUNKS) == XB_SEARCH_STEPS,
		       "the longest walk is as long as the steps");
	/* one chunk fewer: the walk ends within its steps */
	fill_longest_walk(XB_BUCKET_RULES);
	assert_int_equal(xbt_fx_set_state(walk_pols, gw_sas, 0, 0), 0);
	expect_pkt(&flow, XDP_DROP, XB_R_DROP_POLICY_BLOCK, 1);
	fill_longest_walk(0);
	assert_int_equal(xbt_fx_set_state(walk_pols, gw_sas, 0, 0), 0);
	cause0 = xbt_fx_cause_count(XB_U_SEARCH_STEPS);
	expect_pkt(&flow, XDP_PASS, XB_R_PASS_UNDECIDABLE, NO_POL);
	assert_int_equal(xbt_fx_cause_count(XB_U_SEARCH_STEPS) - cause0, 1);
}

/*
 * The walk trusts the priority gate (include/xfrmbpf/tss.h): a key whose
 * gate is worse than the match found is not looked up, so the mirror must
 * never set one above a key's best policy. Checked by lying: with every
 * gate claiming "nothing here beats a match", the better policy of a
 * table searched later (42, the pol_order case above) is not seen, and
 * the first match (40, allow) stands.
 */
static void test_gate_skips_what_cannot_win(void **state)
{
	struct xbt_pkt_spec flow = { TCP4(V4_LOCAL, 9) };
	struct xbt_pkt_spec other = { TCP4(V4_LOCAL, 10) };
	struct xb_tss_filter *f;
	__u32 i, c;

	(void)state;
	assert_int_equal(xbt_fx_set_state(pol_order, NULL, 0, 0), 0);
	expect_pkt(&flow, XDP_DROP, XB_R_DROP_POLICY_BLOCK, 42);
	f = xbt_skel_filter(xbt_fx.skel);
	assert_non_null(f);
	for (i = 0; i < XB_TSS_GATE_ENTRIES; i++)
		for (c = 0; c < XB_TSS_CLASSES; c++)
			f->gate[i].priority[c] = XB_TSS_GATE_NONE;
	/* another flow: the first one's verdict is cached */
	expect_pkt(&other, XDP_PASS, XB_R_PASS_POLICY_ALLOW, 40);
}

/*
 * More policies of one selector than a bucket holds: the bucket is
 * published full, and a flow that reaches it passes (one of its
 * unpublished policies may win); a better policy of another table wins
 * outright, the full bucket, whose bound is its table's best priority,
 * never probed. Through the builder, which publishes full buckets.
 */
#define FULL_POLS	(XB_BUCKET_MAX + 1)

static struct xbt_policy full_pols[FULL_POLS + 2];

/* FULL_POLS FWD IPv4 blocks of V4_SRC/24 -> any at priorities 10 up, and
 * an allow of the flow V4_SRC -> V4_FWD tcp at priority `better` (0:
 * none). */
static void fill_full_bucket(uint32_t better)
{
	uint32_t j;

	memset(full_pols, 0, sizeof(full_pols));
	for (j = 0; j < FULL_POLS; j++)
		full_pols[j] = (struct xbt_policy)POL(.id = j + 1, FWD4, MAIN,
			.verdict = XB_V_BLOCK, .src = V4_SRC, .plen_s = 24,
			.priority = 10 + j, .pos = j + 1);
	if (better)
		full_pols[j] = (struct xbt_policy)POL(.id = j + 1, FWD4, MAIN,
			.verdict = XB_V_ALLOW, .src = V4_SRC, .plen_s = 32,
			.dst = V4_FWD, .plen_d = 32, .proto = IPPROTO_TCP,
			.priority = better, .pos = j + 1);
}

static void test_full_bucket_passes_unless_beaten(void **state)
{
	struct xbt_pkt_spec flow = { TCP4(V4_FWD, 80) };
	struct xbt_pkt_spec other = { TCP4(V4_FWD, 81) };
	uint64_t cause0;
	int err;

	(void)state;
	fill_full_bucket(0);
	xbt_fx.use_builder = true;
	err = xbt_fx_set_state(full_pols, NULL, 0, 0);
	xbt_fx.use_builder = false;
	assert_int_equal(err, 0);
	cause0 = xbt_fx_cause_count(XB_U_FULL_BUCKET);
	expect_pkt(&flow, XDP_PASS, XB_R_PASS_UNDECIDABLE, NO_POL);
	assert_int_equal(xbt_fx_cause_count(XB_U_FULL_BUCKET) - cause0, 1);
	fill_full_bucket(1);
	xbt_fx.use_builder = true;
	err = xbt_fx_set_state(full_pols, NULL, 0, 0);
	xbt_fx.use_builder = false;
	assert_int_equal(err, 0);
	expect_pkt(&other, XDP_PASS, XB_R_PASS_POLICY_ALLOW, FULL_POLS + 1);
}

int main(void)
{
	static struct CMUnitTest tests[2 * N_CASES + 2 * N_VLAN_CASES + 11];
	static char names[N_CASES + N_VLAN_CASES][160];
	size_t i, n = 0;
	int status;

	if (xbt_fx_start("bpf verdicts", &status))
		return status;
	for (i = 0; i < sizeof(vlan_setup) / sizeof(vlan_setup[0]); i++)
		if (xbt_sh(vlan_setup[i]))
			break;
	if_vlan = (int)if_nametoindex("xbt-vl0");
	for (i = 0; i < N_CASES; i++) {
		tests[n].name = verdict_cases[i].name;
		tests[n].test_func = test_verdict_of_filled_spd;
		tests[n].initial_state = (void *)&verdict_cases[i];
		n++;
	}
	for (i = 0; i < N_CASES; i++) {
		snprintf(names[i], sizeof(names[i]), "builder: %s",
			 verdict_cases[i].name);
		tests[n].name = names[i];
		tests[n].test_func = test_verdict_of_published_spd;
		tests[n].initial_state = (void *)&verdict_cases[i];
		n++;
	}
	for (i = 0; i < N_VLAN_CASES; i++) {
		tests[n].name = vlan_cases[i].c.name;
		tests[n].test_func = test_vlan_verdict_of_filled_spd;
		tests[n].initial_state = (void *)&vlan_cases[i];
		n++;
	}
	for (i = 0; i < N_VLAN_CASES; i++) {
		snprintf(names[N_CASES + i], sizeof(names[0]), "builder: %s",
			 vlan_cases[i].c.name);
		tests[n].name = names[N_CASES + i];
		tests[n].test_func = test_vlan_verdict_of_published_spd;
		tests[n].initial_state = (void *)&vlan_cases[i];
		n++;
	}
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_not_ip_and_empty_ip_pass);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_vlan_priority_tag);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_vlan_flow_cache_apart);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_every_truncation_passes);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_attached_xdp_decides_real_traffic);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_unknown_spi_waits_for_the_daemon);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_unknown_spi_asks_the_kernel);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_spd_change_passes_its_drops);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_walk_past_its_steps_passes);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_gate_skips_what_cannot_win);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_full_bucket_passes_unless_beaten);
	return _cmocka_run_group_tests("bpf_verdicts", tests, n, NULL,
				       xbt_fx_teardown);
}
