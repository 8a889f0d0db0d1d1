/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet parsing shared by the XDP and TC programs. Works on a linear
 * [data, data_end) window, so both contexts can use it.
 *
 * The parser fills the flow exactly as the kernel's XFRM selector sees it
 * (xfrm_flowi_sport/dport over decode_session4/6): TCP, UDP, UDP-Lite and
 * SCTP carry their ports; ICMP and ICMPv6 put type in sport and code in
 * dport; the IPv6 mobility header puts its type in sport; GRE (IPv4) puts
 * the high half of the key in sport and the low half in dport; every other
 * protocol matches with ports 0. Anything it cannot map with certainty ends
 * as "undecidable" so that the packet goes to the kernel.
 */
#ifndef XFRMBPF_PARSE_BPF_H
#define XFRMBPF_PARSE_BPF_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/spd.h"
#include "xfrmbpf/reasons.h"

#ifndef AF_INET
#define AF_INET		2
#endif
#ifndef AF_INET6
#define AF_INET6	10
#endif

#define XB_ETH_P_8021Q		0x8100
#define XB_ETH_P_8021AD		0x88a8
#define XB_MAX_VLAN		2
/* IPv6 extension headers walked before giving up (undecidable). */
#define XB_MAX_EXTHDRS		8
/*
 * The walk also gives up (unparsed: the kernel decides) when the next
 * header would start past this offset in the frame. Chains in real traffic
 * are tens of bytes, while each header may claim up to 2 KiB. The verifier
 * does not need the bound: XB_MAX_EXTHDRS such headers still end far below
 * the 64 KiB packet offset its range checks accept.
 */
#define XB_EXTHDRS_MAX_OFF	0x3ff
/* IPv4 options: at most 40 bytes, one byte at least per entry. */
#define XB_IPOPTS_LEN		40

#define XB_NATT_PORT		4500
#define XB_IPPROTO_MH		135
#define XB_IPV4_SRR		137
#define XB_IPV4_LSRR		131
/* IP_MF | IP_OFFSET (the kernel's net/ip.h): set in any fragment. */
#define XB_IP_MF_OFFSET		0x3fff
#define XB_GRE_CSUM		0x8000
#define XB_GRE_ROUTING		0x4000
#define XB_GRE_KEY		0x2000
#define XB_GRE_VER		0x0007

/* What kind of packet the datapath sees. Its first bytes are the packet's
 * flow key, laid out field for field as struct xb_flow_key (asserted in
 * flow.bpf.h): the flow cache hashes and compares them in place, as a
 * copy of the key would cost the XDP program stack that the 6.1 verifier's
 * 512-byte limit over all its calls does not have. */
struct xb_pkt {
	union xb_addr saddr;
	union xb_addr daddr;
	__be16 sport;		/* as the selector sees it */
	__be16 dport;
	__be32 spi;		/* IPsec packets only, else 0 */
	/* XDP: the device the kernel receives the packet on, the VLAN device
	 * of a tagged frame (vlan_dev: its position in the attached device's
	 * xb_iface_cfg.vlans + 1, 0 for the attached device itself). Set by
	 * xb_xdp_decide(). */
	__u32 ifindex;
	__u16 family;
	__u8 proto;		/* upper-layer protocol */
	__u8 kind;		/* enum xb_pkt_kind */
	/* What input routing reads beside the addresses: the IPv4 TOS (as
	 * a number), the IPv6 traffic class and flow label (network order),
	 * without the ECN bits, which no route or ip rule reads. */
	__be32 flowinfo;
	__u32 key_pad;		/* the key's padding: 0 */
	/* the key ends here */
	__u8 ttl;		/* TTL / hop limit */
	__u8 frag;		/* any fragment (first or not) */
	__u16 l3_off;		/* offset of the IP header in the frame */
	__u16 l3_len;		/* IP total length from the header */
	__u16 vlan;		/* outer VLAN tag: VID | XB_VLAN_TAG_AD */
	__u8 sa_proto;		/* IPsec: ESP or AH (NAT-T: ESP in UDP) */
	__u8 cause;		/* enum xb_undecidable_cause of a parser's
				 * XB_R_PASS_UNDECIDABLE */
	__u8 vlans;		/* VLAN tags in the frame (0, 1) */
	__u8 vlan_dev;
} __attribute__((aligned(8)));	/* the key is read as 64-bit words */

/* ECN: the low two bits of the DS field (INET_ECN_MASK). */
#define XB_IPV4_TOS_ROUTED	0xfc
#define XB_IPV6_FLOWINFO_ROUTED	0x0fcfffff

/* The parsers return this, or the reason to pass the packet with. */
#define XB_PARSE_OK	XB_R_NONE

/* A parser's "the kernel decides", with what it could not follow. */
static __always_inline int xb_parse_undecidable(struct xb_pkt *pkt, __u8 cause)
{
	pkt->cause = cause;
	return XB_R_PASS_UNDECIDABLE;
}

/*
 * Ethernet and up to two VLAN tags. The outer tag goes into pkt (the
 * kernel receives the frame on the VLAN device of that tag: the caller
 * decides it as that device's). Two tags (QinQ) are not modelled: the
 * inner one is the outer VLAN device's to untag, and a VLAN device on a
 * VLAN device, a bridge or a priority tag may take it; undecidable.
 */
static __always_inline int xb_parse_l2(void *data, void *data_end,
				       __u16 *proto, __u16 *off,
				       struct xb_pkt *pkt)
{
	struct ethhdr *eth = data;
	__u16 h_proto, o = sizeof(*eth);
	int i;

	if ((void *)(eth + 1) > data_end)
		return XB_R_PASS_UNPARSED;
	h_proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < XB_MAX_VLAN; i++) {
		__be16 *tag = data + o;

		if (h_proto != bpf_htons(XB_ETH_P_8021Q) &&
		    h_proto != bpf_htons(XB_ETH_P_8021AD))
			break;
		if ((void *)(tag + 2) > data_end)
			return XB_R_PASS_UNPARSED;
		if (i == 0)
			pkt->vlan = (bpf_ntohs(tag[0]) & XB_VLAN_VID_MASK) |
				    (h_proto == bpf_htons(XB_ETH_P_8021AD) ?
				     XB_VLAN_TAG_AD : 0);
		h_proto = tag[1];
		o += 4;
	}
	*proto = h_proto;
	*off = o;
	if (o == sizeof(*eth) + 4)
		pkt->vlans = 1;
	else if (o > sizeof(*eth) + 4 &&
		 (h_proto == bpf_htons(ETH_P_IP) || h_proto == bpf_htons(ETH_P_IPV6)))
		return xb_parse_undecidable(pkt, XB_U_VLAN);
	return XB_PARSE_OK;
}

/*
 * Ports or their XFRM stand-ins for a non-fragment transport header at
 * l4, of which len bytes are inside the IP datagram (the rest of the frame
 * is a trailer, which the kernel trims before it looks). Returns
 * XB_PARSE_OK, or a reason when the header is cut short: past the frame,
 * unparsed; past the datagram, undecidable, as kernels then read the
 * ports (or the ICMP type, for which newer ones want the whole 8-byte
 * header) differently.
 */
static __always_inline int xb_parse_l4(void *l4, void *data_end, __u32 len,
				       struct xb_pkt *pkt)
{
	__u8 *b = l4;

	switch (pkt->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
		if (len < 4)
			return xb_parse_undecidable(pkt, XB_U_TRUNCATED_L4);
		if ((void *)(b + 4) > data_end)
			return XB_R_PASS_UNPARSED;
		pkt->sport = *(__be16 *)b;
		pkt->dport = *(__be16 *)(b + 2);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* ICMP in IPv6 (or ICMPv6 in IPv4) is not the family's ICMP:
		 * the kernel keeps ports 0. */
		if (pkt->proto != (pkt->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6))
			break;
		if (len < 8)
			return xb_parse_undecidable(pkt, XB_U_TRUNCATED_L4);
		if ((void *)(b + 2) > data_end)
			return XB_R_PASS_UNPARSED;
		pkt->sport = bpf_htons(b[0]);	/* type */
		pkt->dport = bpf_htons(b[1]);	/* code */
		break;
	case XB_IPPROTO_MH:
		/* Older kernels match a policy's MH type, current ones (flow
		 * dissection) see type 0. */
		if (pkt->family == AF_INET6)
			return xb_parse_undecidable(pkt, XB_U_MOBILITY);
		break;
	case IPPROTO_GRE: {
		__u16 flags;

		/* Older kernels decode the GRE key only for IPv4 and only
		 * version 0 is unambiguous across kernel versions. */
		if (pkt->family != AF_INET)
			return xb_parse_undecidable(pkt, XB_U_GRE);
		if (len < 4)
			return xb_parse_undecidable(pkt, XB_U_TRUNCATED_L4);
		if ((void *)(b + 4) > data_end)
			return XB_R_PASS_UNPARSED;
		flags = bpf_ntohs(*(__be16 *)b);
		/* with the routing bit the kernel does not read the key */
		if (flags & (XB_GRE_VER | XB_GRE_ROUTING))
			return xb_parse_undecidable(pkt, XB_U_GRE);
		if (flags & XB_GRE_KEY) {
			__u32 koff = (flags & XB_GRE_CSUM) ? 8 : 4;
			__u8 *key = b + koff;

			if (len < koff + 4)
				return xb_parse_undecidable(pkt, XB_U_TRUNCATED_L4);
			if ((void *)(key + 4) > data_end)
				return XB_R_PASS_UNPARSED;
			pkt->sport = *(__be16 *)key;
			pkt->dport = *(__be16 *)(key + 2);
		}
		break;
	}
	case IPPROTO_COMP:
		/* IPComp is looked up by CPI in the SAD; not mirrored. */
		return xb_parse_undecidable(pkt, XB_U_IPCOMP);
	default:
		break;
	}
	return XB_PARSE_OK;
}

/* ESP, AH and ESP in UDP/4500 (non-ESP marker zero = IKE, a one-byte
 * 0xff is a keepalive: both stay plaintext UDP, as in the kernel's
 * xfrm4_udp_encap_rcv which wants more than an ESP header's 8 bytes).
 * len: the bytes from l4 to the end of the IP datagram. */
static __always_inline int xb_parse_ipsec(void *l4, void *data_end, __u32 len,
					  struct xb_pkt *pkt)
{
	__u8 *b = l4;

	if (pkt->proto == IPPROTO_ESP) {
		/* the kernel wants the whole ESP header (SPI, sequence) */
		if (len < 8)
			return xb_parse_undecidable(pkt, XB_U_TRUNCATED_L4);
		if ((void *)(b + 4) > data_end)
			return XB_R_PASS_UNPARSED;
		pkt->spi = *(__be32 *)b;
		pkt->sa_proto = IPPROTO_ESP;
		pkt->kind = XB_PK_IPSEC;
	} else if (pkt->proto == IPPROTO_AH) {
		if (len < 12)
			return xb_parse_undecidable(pkt, XB_U_TRUNCATED_L4);
		if ((void *)(b + 8) > data_end)
			return XB_R_PASS_UNPARSED;
		pkt->spi = *(__be32 *)(b + 4);
		pkt->sa_proto = IPPROTO_AH;
		pkt->kind = XB_PK_IPSEC;
	} else if (pkt->proto == IPPROTO_UDP &&
		   pkt->dport == bpf_htons(XB_NATT_PORT)) {
		__u16 ulen;

		if ((void *)(b + 8) > data_end)
			return XB_R_PASS_UNPARSED;
		ulen = bpf_ntohs(*(__be16 *)(b + 4));
		/* UDP header + ESP header (SPI, seq) + at least one byte, all
		 * inside the datagram (a trailer is trimmed) */
		if (ulen <= 8 + 8 || len <= 8 + 8 || (void *)(b + 12) > data_end)
			return XB_PARSE_OK;
		if (*(__be32 *)(b + 8) == 0)
			return XB_PARSE_OK;
		pkt->spi = *(__be32 *)(b + 8);
		pkt->sa_proto = IPPROTO_ESP;
		pkt->kind = XB_PK_IPSEC;
	}
	return XB_PARSE_OK;
}

/*
 * Zero at run time, an unknown scalar to the verifier (it does not track
 * division). Verifiers before 6.7 (Debian's 6.1) check a bpf_loop()
 * callback once, from the state of its first call: a value that the
 * callback carries from one iteration to the next and that is a known
 * constant at the first call has the branches on its later values taken
 * for dead code, and the kernel hard-wires them away. Loop state starts
 * from this instead, so that every branch is verified and kept.
 */
static __always_inline __u64 xb_opaque_zero(void)
{
	__u64 z = 0;

	asm volatile("%0 /= 1" : "+r"(z));
	return z;
}

/* bpf_loop() context of the IPv4 option scan: the options are copied to
 * the stack first, so one verification of the callback covers all. */
/* Room for any load size the verifier may assume (see xb_scan_ipopts). */
#define XB_IPOPTS_BUF		64

struct xb_opt_walk {
	__u8 buf[XB_IPOPTS_BUF];
	__u32 off;
	__u32 end;
	int ret;
};

static long xb_opt_step(__u32 i, void *data)
{
	struct xb_opt_walk *w = data;
	__u64 off = w->off, next;
	__u8 type, len;

	(void)i;
	/* opaque copies: the bound checks and accesses share a register */
	asm volatile("" : "+r"(off));
	if (off >= w->end || off >= XB_IPOPTS_LEN) {
		w->ret = XB_PARSE_OK;
		return 1;
	}
	type = w->buf[off];
	if (type == 0) {		/* end of options */
		w->ret = XB_PARSE_OK;
		return 1;
	}
	if (type == 1) {		/* no-op */
		w->off = off + 1;
		return 0;
	}
	next = off + 1;
	asm volatile("" : "+r"(next));
	if (next >= w->end || next >= XB_IPOPTS_LEN) {
		w->ret = XB_R_PASS_UNPARSED;
		return 1;
	}
	len = w->buf[next];
	if (len < 2) {
		w->ret = XB_R_PASS_UNPARSED;
		return 1;
	}
	if (type == XB_IPV4_SRR || type == XB_IPV4_LSRR) {
		w->ret = XB_R_PASS_UNDECIDABLE;
		return 1;
	}
	w->off = off + len;
	return 0;
}

/* IPv4 options: a source route changes the destination the kernel routes
 * by, so such packets are undecidable. Malformed options: the kernel
 * drops them itself, we pass. */
static __always_inline int xb_scan_ipopts(void *ctx, bool xdp, __u32 off,
					  __u32 len)
{
	struct xb_opt_walk w = {};
	__u64 n = len;
	long err;

	if (n == 0 || n > XB_IPOPTS_LEN)
		return XB_R_PASS_UNPARSED;
	/*
	 * The helpers need a size proven non-zero. Older verifiers (6.1) lose
	 * the range of the check above once clang rewrites it; a mask and an
	 * increment give [1, XB_IPOPTS_BUF] in the register the helper gets.
	 * The barrier keeps clang from folding them away; n is unchanged.
	 */
	asm volatile("" : "+r"(n));
	n = ((n - 1) & (XB_IPOPTS_BUF - 1)) + 1;
	if (xdp)
		err = bpf_xdp_load_bytes(ctx, off, w.buf, n);
	else
		err = bpf_skb_load_bytes(ctx, off, w.buf, n);
	if (err)
		return XB_R_PASS_UNPARSED;
	w.end = len;
	w.ret = XB_PARSE_OK;
	w.off = xb_opaque_zero();
	bpf_loop(XB_IPOPTS_LEN, xb_opt_step, &w, 0);
	return w.ret;
}

/*
 * Does the IP datagram end (end bytes into the frame) past the frame?
 * frame_len: XDP passes the first buffer's length, which is the frame's
 * unless it is a multi-buffer one (xdp.frags: jumbo MTUs), whose whole
 * length the helper gives; asked only then, as it costs a call (and the
 * verifier's stack budget if its result had to live on).
 */
static __always_inline bool xb_past_frame(void *ctx, bool xdp, __u32 end,
					  __u32 frame_len)
{
	if (end <= frame_len)
		return false;
	return !xdp || end > (__u32)bpf_xdp_get_buff_len(ctx);
}

static __always_inline int xb_parse_ipv4(void *ctx, bool xdp, void *data,
					 void *data_end, __u32 frame_len,
					 __u16 off, struct xb_pkt *pkt)
{
	struct iphdr *iph = data + off;
	__u16 hlen, tot;
	int ret;

	if ((void *)(iph + 1) > data_end)
		return XB_R_PASS_UNPARSED;
	if (iph->version != 4 || iph->ihl < 5)
		return XB_R_PASS_UNPARSED;
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || xb_past_frame(ctx, xdp, off + tot, frame_len))
		return XB_R_PASS_UNPARSED;

	pkt->family = AF_INET;
	pkt->saddr.a[0] = iph->saddr;
	pkt->daddr.a[0] = iph->daddr;
	pkt->proto = iph->protocol;
	pkt->ttl = iph->ttl;
	pkt->flowinfo = iph->tos & XB_IPV4_TOS_ROUTED;
	pkt->l3_off = off;
	pkt->l3_len = tot;
	if (iph->frag_off & bpf_htons(XB_IP_MF_OFFSET)) {
		pkt->frag = 1;
		return XB_PARSE_OK;
	}
	if (hlen > sizeof(*iph)) {
		ret = xb_scan_ipopts(ctx, xdp, off + sizeof(*iph),
				     hlen - sizeof(*iph));
		if (ret == XB_R_PASS_UNDECIDABLE)
			pkt->cause = XB_U_SOURCE_ROUTE;
		if (ret != XB_PARSE_OK)
			return ret;
	}
	/* No bound to add: at most two VLAN tags, Ethernet and 60 bytes of
	 * header (ihl has 4 bits), a range clang and the verifier both see. */
	off += hlen;
	ret = xb_parse_l4(data + off, data_end, tot - hlen, pkt);
	if (ret != XB_PARSE_OK)
		return ret;
	return xb_parse_ipsec(data + off, data_end, tot - hlen, pkt);
}

/* Walks hop-by-hop, routing, destination options and fragment headers.
 * A routing header with segments left redirects the packet: undecidable. */
static __always_inline int xb_parse_ipv6(void *ctx, bool xdp, void *data,
					 void *data_end, __u32 frame_len,
					 __u16 off, struct xb_pkt *pkt)
{
	struct ipv6hdr *ip6h = data + off;
	__u32 l4_len;
	__u8 nexthdr;
	int i, ret;

	if ((void *)(ip6h + 1) > data_end)
		return XB_R_PASS_UNPARSED;
	if (ip6h->version != 6)
		return XB_R_PASS_UNPARSED;
	if (xb_past_frame(ctx, xdp, off + sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len),
			  frame_len))
		return XB_R_PASS_UNPARSED;

	pkt->family = AF_INET6;
	__builtin_memcpy(pkt->saddr.b, &ip6h->saddr, 16);
	__builtin_memcpy(pkt->daddr.b, &ip6h->daddr, 16);
	pkt->ttl = ip6h->hop_limit;
	pkt->flowinfo = *(__be32 *)ip6h & bpf_htonl(XB_IPV6_FLOWINFO_ROUTED);
	pkt->l3_off = off;
	pkt->l3_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	nexthdr = ip6h->nexthdr;
	off += sizeof(*ip6h);

	for (i = 0; i < XB_MAX_EXTHDRS; i++) {
		__u8 *h;

		if (off > XB_EXTHDRS_MAX_OFF)
			return XB_R_PASS_UNPARSED;
		h = data + off;
		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_DSTOPTS:
			if ((void *)(h + 2) > data_end)
				return XB_R_PASS_UNPARSED;
			nexthdr = h[0];
			off += (h[1] + 1) * 8;
			continue;
		case IPPROTO_ROUTING:
			if ((void *)(h + 4) > data_end)
				return XB_R_PASS_UNPARSED;
			if (h[3] != 0)		/* segments left */
				return xb_parse_undecidable(pkt, XB_U_SOURCE_ROUTE);
			nexthdr = h[0];
			off += (h[1] + 1) * 8;
			continue;
		case IPPROTO_FRAGMENT:
			if ((void *)(h + 8) > data_end)
				return XB_R_PASS_UNPARSED;
			pkt->frag = 1;
			pkt->proto = h[0];
			return XB_PARSE_OK;
		default:
			break;
		}
		pkt->proto = nexthdr;
		/* extension headers past the payload: the kernel drops */
		if (off > pkt->l3_off + pkt->l3_len)
			return XB_R_PASS_UNPARSED;
		l4_len = pkt->l3_off + pkt->l3_len - off;
		ret = xb_parse_l4(h, data_end, l4_len, pkt);
		if (ret != XB_PARSE_OK)
			return ret;
		return xb_parse_ipsec(h, data_end, l4_len, pkt);
	}
	return xb_parse_undecidable(pkt, XB_U_HEADER_CHAIN);
}

/* Returns XB_PARSE_OK or the reason to pass the packet with. frame_len is
 * the whole frame (an skb may hold less than that in [data, data_end));
 * XDP may pass [data, data_end)'s length, which in a multi-buffer frame is
 * the first buffer's (xb_past_frame() asks for the rest). Headers are read
 * from [data, data_end): one past the first buffer passes unparsed (the
 * kernel decides), as in a cut frame. ctx is the xdp_md (xdp) or the
 * __sk_buff, for the helpers. */
static __always_inline int xb_parse(void *ctx, bool xdp, void *data,
				    void *data_end, __u32 frame_len,
				    struct xb_pkt *pkt)
{
	__u16 h_proto, off;
	int ret;

	ret = xb_parse_l2(data, data_end, &h_proto, &off, pkt);
	if (ret != XB_PARSE_OK)
		return ret;
	if (h_proto == bpf_htons(ETH_P_IP))
		return xb_parse_ipv4(ctx, xdp, data, data_end, frame_len, off,
				     pkt);
	if (h_proto == bpf_htons(ETH_P_IPV6))
		return xb_parse_ipv6(ctx, xdp, data, data_end, frame_len, off,
				     pkt);
	return XB_R_PASS_NOT_IP;
}

#endif
