/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet builders, for the tests and for `classify`. Two levels: push
 * functions that append one header each to a frame (xbt_push_*), and
 * xbt_build(), which makes a whole frame from a declarative spec so that
 * fixture tables stay readable. Addresses are strings (inet_pton) or, in the
 * *_addr variants, network-order bytes; ports and fields host order.
 */
#ifndef XFRMBPF_LIB_PKTBUILD_H
#define XFRMBPF_LIB_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A jumbo frame: `classify` takes payloads of up to 8000 bytes. */
#define XBT_FRAME_MAX	9000

struct xbt_frame {
	uint8_t data[XBT_FRAME_MAX];
	size_t len;
	int l3_off;		/* -1 until an IP header is pushed */
	int l3_family;
	int udp_off;		/* -1 unless a UDP header is pushed */
	int icmp_off;		/* -1 unless an ICMP header is pushed */
	bool overflow;		/* a push did not fit */
};

void xbt_frame_init(struct xbt_frame *f);
void *xbt_push(struct xbt_frame *f, size_t len);
void xbt_push_eth(struct xbt_frame *f, uint16_t ethertype);
void xbt_push_eth_addr(struct xbt_frame *f, const uint8_t *dst,
		       const uint8_t *src, uint16_t ethertype);
/* Inserts a tag (TPID tpid, VLAN vid) after the MAC addresses; the first
 * call gives the outer tag. */
void xbt_push_vlan(struct xbt_frame *f, uint16_t tpid, uint16_t vid);
/* opts/optlen: IPv4 options, padded with EOL to a multiple of 4. frag:
 * the frag_off field (flags and offset), e.g. 0x2000 = MF. */
int xbt_push_ipv4(struct xbt_frame *f, const char *src, const char *dst,
		  uint8_t proto, uint8_t ttl, const uint8_t *opts,
		  size_t optlen, uint16_t frag);
int xbt_push_ipv6(struct xbt_frame *f, const char *src, const char *dst,
		  uint8_t nexthdr, uint8_t hop_limit);
int xbt_push_ipv4_addr(struct xbt_frame *f, const void *src, const void *dst,
		       uint8_t proto, uint8_t ttl, const uint8_t *opts,
		       size_t optlen, uint16_t frag);
int xbt_push_ipv6_addr(struct xbt_frame *f, const void *src, const void *dst,
		       uint8_t nexthdr, uint8_t hop_limit);
/* The DS field of the last pushed IP header: IPv4 TOS, IPv6 traffic
 * class (DSCP and ECN bits alike). */
void xbt_set_dsfield(struct xbt_frame *f, uint8_t dsfield);
/* Hop-by-hop or destination options (PadN), 8 bytes. */
void xbt_push_ext_opts(struct xbt_frame *f, uint8_t nexthdr);
/* Routing header type 4 (segment routing) with segments_left and one
 * segment. */
void xbt_push_ext_routing(struct xbt_frame *f, uint8_t nexthdr,
			  uint8_t segments_left);
void xbt_push_ext_frag(struct xbt_frame *f, uint8_t nexthdr,
		       uint16_t offset8, bool more);
void xbt_push_tcp(struct xbt_frame *f, uint16_t sport, uint16_t dport);
void xbt_push_udp(struct xbt_frame *f, uint16_t sport, uint16_t dport);
/* Verification tag 0xdeadbeef. */
void xbt_push_sctp(struct xbt_frame *f, uint16_t sport, uint16_t dport);
void xbt_push_sctp_vtag(struct xbt_frame *f, uint16_t sport, uint16_t dport,
			uint32_t vtag);
/* ICMP or ICMPv6, echo id 0x77, sequence 1. xbt_frame_finish() sums it
 * in IPv4; ICMPv6 (pseudo-header) keeps a zero checksum. */
void xbt_push_icmp(struct xbt_frame *f, uint8_t type, uint8_t code);
void xbt_push_icmp_echo(struct xbt_frame *f, uint8_t type, uint8_t code,
			uint16_t id, uint16_t seq);
void xbt_push_esp(struct xbt_frame *f, uint32_t spi, uint32_t seq);
/* 12 bytes of ICV. */
void xbt_push_ah(struct xbt_frame *f, uint8_t nexthdr, uint32_t spi);
/* icv_len: a multiple of 4; sequence number 1. */
void xbt_push_ah_icv(struct xbt_frame *f, uint8_t nexthdr, uint32_t spi,
		     size_t icv_len);
/* GRE version 0; key present when has_key, checksum field when csum. */
void xbt_push_gre(struct xbt_frame *f, bool csum, bool has_key,
		  uint32_t key);
/* IPv6 mobility header of the given type. */
void xbt_push_mh(struct xbt_frame *f, uint8_t type);
void xbt_push_payload(struct xbt_frame *f, size_t len, uint8_t fill);
/* Sets IPv4 total length and checksum, IPv6 payload length, UDP length,
 * ICMPv4 checksum. */
void xbt_frame_finish(struct xbt_frame *f);

/* Transport of a spec'd packet. */
enum xbt_l4 {
	XBT_L4_NONE = 0,	/* proto number only, payload after IP */
	XBT_L4_TCP,
	XBT_L4_UDP,
	XBT_L4_SCTP,
	XBT_L4_ICMP,		/* ICMP or ICMPv6 by family */
	XBT_L4_ESP,
	XBT_L4_AH,		/* AH, then TCP inside */
	XBT_L4_NATT,		/* UDP 4500 -> 4500, then ESP (spi) */
	XBT_L4_IKE,		/* UDP 4500 -> 4500, zero marker, IKE header */
	XBT_L4_KEEPALIVE,	/* UDP 4500 -> 4500, one byte 0xff */
	XBT_L4_GRE,
	XBT_L4_MH,
};

struct xbt_pkt_spec {
	int family;		/* 4 or 6 */
	int vlans;		/* 0, 1 (802.1Q), 2 (802.1ad + 802.1Q) */
	const char *src;
	const char *dst;
	enum xbt_l4 l4;
	uint8_t proto;		/* with XBT_L4_NONE */
	uint16_t sport;		/* ports; ICMP type; MH type */
	uint16_t dport;		/* ports; ICMP code */
	uint32_t spi;		/* ESP, AH, NAT-T; GRE key */
	bool gre_csum;
	uint8_t ttl;		/* 0: 64 */
	uint8_t tos;		/* IPv4 TOS / IPv6 traffic class */
	/* IPv4: bytes of NOP options (multiple of 4); lsrr adds a loose
	 * source route option. frag: frag_off field. */
	uint8_t ip_opts;
	bool lsrr;
	uint16_t frag;
	/* IPv6 extension headers in order: 'h' hop-by-hop, 'd' destination
	 * options, 'r' routing (segments left 0), 'R' routing (segments
	 * left 1), 'f' first fragment, 'F' later fragment. */
	const char *ext;
	size_t payload;		/* bytes after the last header */
	size_t truncate;	/* cut the frame to this length (0: no) */
	bool bad_version;	/* IP version field wrong */
	bool other_host;	/* destination MAC not the test's NIC */
	/* cut_l4: the IP datagram ends l4_keep bytes into the transport
	 * header (its length field says so); the rest stays in the frame as
	 * an Ethernet trailer. */
	bool cut_l4;
	uint8_t l4_keep;
	uint16_t gre_flags;	/* more GRE flag bits (e.g. 0x4000 routing) */
};

/* Builds the frame; returns its length, 0 on a bad spec. */
size_t xbt_build(const struct xbt_pkt_spec *s, struct xbt_frame *f);

#endif
