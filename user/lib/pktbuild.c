// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Packet builders (see pktbuild.h). */
#include "lib/pktbuild.h"

#include <arpa/inet.h>
#include <string.h>
#include <netinet/in.h>

#define ETH_HLEN_	14
#define IPPROTO_MH_	135
#define NATT_PORT	4500

void xbt_frame_init(struct xbt_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->l3_off = -1;
	f->udp_off = -1;
	f->icmp_off = -1;
}

void *xbt_push(struct xbt_frame *f, size_t len)
{
	void *p;

	if (f->len + len > sizeof(f->data)) {
		f->overflow = true;
		return NULL;
	}
	p = f->data + f->len;
	memset(p, 0, len);
	f->len += len;
	return p;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The destination is 02:00:00:00:00:01: tests give their ingress NIC
 * that address, so frames arrive as PACKET_HOST. */
void xbt_push_eth(struct xbt_frame *f, uint16_t ethertype)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x02 };

	xbt_push_eth_addr(f, dst, src, ethertype);
}

void xbt_push_eth_addr(struct xbt_frame *f, const uint8_t *dst,
		       const uint8_t *src, uint16_t ethertype)
{
	uint8_t *p = xbt_push(f, ETH_HLEN_);

	if (!p)
		return;
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	put16(p + 12, ethertype);
}

void xbt_push_vlan(struct xbt_frame *f, uint16_t tpid, uint16_t vid)
{
	size_t at = 12, tags = 0;
	uint8_t *p;

	/* after the tags already there */
	while (at + 4 <= f->len && (get16(f->data + at) == 0x8100 ||
				    get16(f->data + at) == 0x88a8) &&
	       tags < 2) {
		at += 4;
		tags++;
	}
	if (!xbt_push(f, 4))
		return;
	p = f->data + at;
	memmove(p + 4, p, f->len - 4 - at);
	put16(p, tpid);
	put16(p + 2, vid & 0xfff);
}

static void mark_l3(struct xbt_frame *f, size_t hdr_len, int family)
{
	f->l3_off = (int)(f->len - hdr_len);
	f->l3_family = family;
}

int xbt_push_ipv4(struct xbt_frame *f, const char *src, const char *dst,
		  uint8_t proto, uint8_t ttl, const uint8_t *opts,
		  size_t optlen, uint16_t frag)
{
	uint8_t s[4], d[4];

	if (inet_pton(AF_INET, src, s) != 1 || inet_pton(AF_INET, dst, d) != 1)
		return -1;
	return xbt_push_ipv4_addr(f, s, d, proto, ttl, opts, optlen, frag);
}

int xbt_push_ipv4_addr(struct xbt_frame *f, const void *src, const void *dst,
		       uint8_t proto, uint8_t ttl, const uint8_t *opts,
		       size_t optlen, uint16_t frag)
{
	size_t olen = (optlen + 3) & ~(size_t)3;
	uint8_t *p;

	if (olen > 40)
		return -1;
	p = xbt_push(f, 20 + olen);
	if (!p)
		return -1;
	p[0] = 0x40 | (uint8_t)((20 + olen) / 4);
	put16(p + 6, frag);
	p[8] = ttl;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	if (optlen)
		memcpy(p + 20, opts, optlen);
	mark_l3(f, 20 + olen, 4);
	return 0;
}

int xbt_push_ipv6(struct xbt_frame *f, const char *src, const char *dst,
		  uint8_t nexthdr, uint8_t hop_limit)
{
	uint8_t s[16], d[16];

	if (inet_pton(AF_INET6, src, s) != 1 || inet_pton(AF_INET6, dst, d) != 1)
		return -1;
	return xbt_push_ipv6_addr(f, s, d, nexthdr, hop_limit);
}

int xbt_push_ipv6_addr(struct xbt_frame *f, const void *src, const void *dst,
		       uint8_t nexthdr, uint8_t hop_limit)
{
	uint8_t *p = xbt_push(f, 40);

	if (!p)
		return -1;
	p[0] = 0x60;
	p[6] = nexthdr;
	p[7] = hop_limit;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	mark_l3(f, 40, 6);
	return 0;
}

void xbt_set_dsfield(struct xbt_frame *f, uint8_t dsfield)
{
	uint8_t *p;

	if (f->l3_off < 0)
		return;
	p = f->data + f->l3_off;
	if (f->l3_family == 4) {
		p[1] = dsfield;
	} else {
		/* version (4 bits), traffic class (8), flow label (20) */
		p[0] = (uint8_t)((p[0] & 0xf0) | dsfield >> 4);
		p[1] = (uint8_t)((p[1] & 0x0f) | (dsfield & 0x0f) << 4);
	}
}

void xbt_push_ext_opts(struct xbt_frame *f, uint8_t nexthdr)
{
	uint8_t *p = xbt_push(f, 8);

	if (!p)
		return;
	p[0] = nexthdr;
	p[1] = 0;
	p[2] = 1;	/* PadN */
	p[3] = 4;
}

void xbt_push_ext_routing(struct xbt_frame *f, uint8_t nexthdr,
			  uint8_t segments_left)
{
	uint8_t *p = xbt_push(f, 24);

	if (!p)
		return;
	p[0] = nexthdr;
	p[1] = 2;	/* (24 - 8) / 8 */
	p[2] = 4;	/* segment routing */
	p[3] = segments_left;
	inet_pton(AF_INET6, "2001:db8:ff::1", p + 8);
}

void xbt_push_ext_frag(struct xbt_frame *f, uint8_t nexthdr,
		       uint16_t offset8, bool more)
{
	uint8_t *p = xbt_push(f, 8);

	if (!p)
		return;
	p[0] = nexthdr;
	put16(p + 2, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	put32(p + 4, 0x1234);
}

/* A transport header of len bytes that starts with the two ports. */
static uint8_t *push_ports(struct xbt_frame *f, size_t len, uint16_t sport,
			   uint16_t dport)
{
	uint8_t *p = xbt_push(f, len);

	if (p) {
		put16(p, sport);
		put16(p + 2, dport);
	}
	return p;
}

void xbt_push_tcp(struct xbt_frame *f, uint16_t sport, uint16_t dport)
{
	uint8_t *p = push_ports(f, 20, sport, dport);

	if (!p)
		return;
	p[12] = 5 << 4;
	p[13] = 0x02;	/* SYN */
	put16(p + 14, 65535);
}

void xbt_push_udp(struct xbt_frame *f, uint16_t sport, uint16_t dport)
{
	if (push_ports(f, 8, sport, dport))
		f->udp_off = (int)(f->len - 8);
}

void xbt_push_sctp(struct xbt_frame *f, uint16_t sport, uint16_t dport)
{
	xbt_push_sctp_vtag(f, sport, dport, 0xdeadbeef);
}

void xbt_push_sctp_vtag(struct xbt_frame *f, uint16_t sport, uint16_t dport,
			uint32_t vtag)
{
	uint8_t *p = push_ports(f, 12, sport, dport);

	if (p)
		put32(p + 4, vtag);
}

void xbt_push_icmp(struct xbt_frame *f, uint8_t type, uint8_t code)
{
	xbt_push_icmp_echo(f, type, code, 0x77, 1);
}

void xbt_push_icmp_echo(struct xbt_frame *f, uint8_t type, uint8_t code,
			uint16_t id, uint16_t seq)
{
	uint8_t *p = xbt_push(f, 8);

	if (!p)
		return;
	p[0] = type;
	p[1] = code;
	put16(p + 4, id);
	put16(p + 6, seq);
	f->icmp_off = (int)(f->len - 8);
}

void xbt_push_esp(struct xbt_frame *f, uint32_t spi, uint32_t seq)
{
	uint8_t *p = xbt_push(f, 8);

	if (!p)
		return;
	put32(p, spi);
	put32(p + 4, seq);
}

void xbt_push_ah(struct xbt_frame *f, uint8_t nexthdr, uint32_t spi)
{
	xbt_push_ah_icv(f, nexthdr, spi, 12);
}

void xbt_push_ah_icv(struct xbt_frame *f, uint8_t nexthdr, uint32_t spi,
		     size_t icv_len)
{
	uint8_t *p = xbt_push(f, 12 + icv_len);

	if (!p)
		return;
	p[0] = nexthdr;
	p[1] = (uint8_t)((12 + icv_len) / 4 - 2);	/* in 32-bit words, minus 2 */
	put32(p + 4, spi);
	put32(p + 8, 1);
}

void xbt_push_gre(struct xbt_frame *f, bool csum, bool has_key, uint32_t key)
{
	size_t len = 4 + (csum ? 4 : 0) + (has_key ? 4 : 0);
	uint8_t *p = xbt_push(f, len);

	if (!p)
		return;
	put16(p, (uint16_t)((csum ? 0x8000 : 0) | (has_key ? 0x2000 : 0)));
	put16(p + 2, 0x0800);
	if (has_key)
		put32(p + len - 4, key);
}

void xbt_push_mh(struct xbt_frame *f, uint8_t type)
{
	uint8_t *p = xbt_push(f, 8);

	if (!p)
		return;
	p[0] = 59;	/* no next header */
	p[1] = 0;
	p[2] = type;
}

void xbt_push_payload(struct xbt_frame *f, size_t len, uint8_t fill)
{
	uint8_t *p = xbt_push(f, len);

	if (p)
		memset(p, fill, len);
}

/* The Internet checksum (RFC 1071); an odd last byte is padded with 0. */
static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void xbt_frame_finish(struct xbt_frame *f)
{
	uint8_t *ip;

	if (f->l3_off < 0)
		return;
	ip = f->data + f->l3_off;
	if (f->l3_family == 4) {
		size_t hlen = (size_t)(ip[0] & 0xf) * 4;

		put16(ip + 2, (uint16_t)(f->len - (size_t)f->l3_off));
		put16(ip + 10, 0);
		put16(ip + 10, ip_csum(ip, hlen));
	} else {
		put16(ip + 4, (uint16_t)(f->len - (size_t)f->l3_off - 40));
	}
	if (f->udp_off >= 0)
		put16(f->data + f->udp_off + 4,
		      (uint16_t)(f->len - (size_t)f->udp_off));
	/* ICMPv6 sums a pseudo-header too: left at zero. */
	if (f->icmp_off >= 0 && f->l3_family == 4 && ip[9] == IPPROTO_ICMP) {
		uint8_t *icmp = f->data + f->icmp_off;

		put16(icmp + 2, 0);
		put16(icmp + 2, ip_csum(icmp, f->len - (size_t)f->icmp_off));
	}
}

/* IP protocol number of the first header after IP for a spec. */
static uint8_t spec_proto(const struct xbt_pkt_spec *s)
{
	switch (s->l4) {
	case XBT_L4_TCP:
		return IPPROTO_TCP;
	case XBT_L4_UDP:
	case XBT_L4_NATT:
	case XBT_L4_IKE:
	case XBT_L4_KEEPALIVE:
		return IPPROTO_UDP;
	case XBT_L4_SCTP:
		return IPPROTO_SCTP;
	case XBT_L4_ICMP:
		return s->family == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	case XBT_L4_ESP:
		return IPPROTO_ESP;
	case XBT_L4_AH:
		return IPPROTO_AH;
	case XBT_L4_GRE:
		return IPPROTO_GRE;
	case XBT_L4_MH:
		return IPPROTO_MH_;
	default:
		return s->proto;
	}
}

/* IPv6 extension header code of a spec letter. */
static uint8_t ext_code(char c)
{
	switch (c) {
	case 'h':
		return IPPROTO_HOPOPTS;
	case 'd':
		return IPPROTO_DSTOPTS;
	case 'r':
	case 'R':
		return IPPROTO_ROUTING;
	default:
		return IPPROTO_FRAGMENT;
	}
}

static void push_ext(struct xbt_frame *f, char c, uint8_t next)
{
	switch (c) {
	case 'h':
	case 'd':
		xbt_push_ext_opts(f, next);
		break;
	case 'r':
		xbt_push_ext_routing(f, next, 0);
		break;
	case 'R':
		xbt_push_ext_routing(f, next, 1);
		break;
	case 'f':
		xbt_push_ext_frag(f, next, 0, true);
		break;
	default:
		xbt_push_ext_frag(f, next, 8, false);
		break;
	}
}

static int push_l3(const struct xbt_pkt_spec *s, struct xbt_frame *f)
{
	uint8_t ttl = s->ttl ? s->ttl : 64;
	uint8_t proto = spec_proto(s);
	uint8_t opts[40];
	size_t optlen = 0, i, n;

	if (s->family == 4) {
		if (s->lsrr) {
			/* LSRR, length 7, pointer 4, one hop; then NOP */
			static const uint8_t lsrr[8] = { 131, 7, 4, 198, 51,
							 100, 9, 1 };

			memcpy(opts, lsrr, sizeof(lsrr));
			optlen = sizeof(lsrr);
		}
		if (optlen + s->ip_opts > sizeof(opts))
			return -1;
		memset(opts + optlen, 1, s->ip_opts);	/* NOP */
		optlen += s->ip_opts;
		if (xbt_push_ipv4(f, s->src, s->dst, proto, ttl, opts, optlen,
				  s->frag))
			return -1;
		xbt_set_dsfield(f, s->tos);
		return 0;
	}
	n = s->ext ? strlen(s->ext) : 0;
	if (xbt_push_ipv6(f, s->src, s->dst, n ? ext_code(s->ext[0]) : proto,
			  ttl))
		return -1;
	xbt_set_dsfield(f, s->tos);
	for (i = 0; i < n; i++)
		push_ext(f, s->ext[i], i + 1 < n ? ext_code(s->ext[i + 1]) :
						   proto);
	return 0;
}

static void push_l4(const struct xbt_pkt_spec *s, struct xbt_frame *f)
{
	switch (s->l4) {
	case XBT_L4_TCP:
		xbt_push_tcp(f, s->sport, s->dport);
		break;
	case XBT_L4_UDP:
		xbt_push_udp(f, s->sport, s->dport);
		break;
	case XBT_L4_SCTP:
		xbt_push_sctp(f, s->sport, s->dport);
		break;
	case XBT_L4_ICMP:
		xbt_push_icmp(f, (uint8_t)s->sport, (uint8_t)s->dport);
		break;
	case XBT_L4_ESP:
		xbt_push_esp(f, s->spi, 1);
		break;
	case XBT_L4_AH:
		xbt_push_ah(f, IPPROTO_TCP, s->spi);
		xbt_push_tcp(f, s->sport, s->dport);
		break;
	case XBT_L4_NATT:
		xbt_push_udp(f, NATT_PORT, NATT_PORT);
		xbt_push_esp(f, s->spi, 1);
		break;
	case XBT_L4_IKE:
		xbt_push_udp(f, NATT_PORT, NATT_PORT);
		xbt_push_payload(f, 4, 0);	/* non-ESP marker */
		xbt_push_payload(f, 28, 0x11);	/* IKE header */
		break;
	case XBT_L4_KEEPALIVE:
		xbt_push_udp(f, NATT_PORT, NATT_PORT);
		xbt_push_payload(f, 1, 0xff);
		break;
	case XBT_L4_GRE:
		xbt_push_gre(f, s->gre_csum, s->spi != 0, s->spi);
		break;
	case XBT_L4_MH:
		xbt_push_mh(f, (uint8_t)s->sport);
		break;
	default:
		break;
	}
}

/* The IP length fields as if the datagram ended keep bytes after l4_off;
 * the frame keeps the rest as a trailer. */
static void cut_datagram(struct xbt_frame *f, size_t l4_off, size_t keep)
{
	uint8_t *ip = f->data + f->l3_off;
	size_t end = l4_off + keep;

	if (f->l3_family == 4) {
		size_t hlen = (size_t)(ip[0] & 0xf) * 4;

		put16(ip + 2, (uint16_t)(end - (size_t)f->l3_off));
		put16(ip + 10, 0);
		put16(ip + 10, ip_csum(ip, hlen));
	} else {
		put16(ip + 4, (uint16_t)(end - (size_t)f->l3_off - 40));
	}
}

size_t xbt_build(const struct xbt_pkt_spec *s, struct xbt_frame *f)
{
	size_t l4_off;
	int i;

	xbt_frame_init(f);
	if (s->family != 4 && s->family != 6)
		return 0;
	xbt_push_eth(f, s->family == 4 ? 0x0800 : 0x86dd);
	if (s->vlans >= 1)
		xbt_push_vlan(f, s->vlans == 2 ? 0x88a8 : 0x8100, 100);
	for (i = 1; i < s->vlans; i++)
		xbt_push_vlan(f, 0x8100, (uint16_t)(200 + i));
	if (push_l3(s, f))
		return 0;
	l4_off = f->len;
	push_l4(s, f);
	if (s->gre_flags && s->l4 == XBT_L4_GRE && l4_off < f->len)
		f->data[l4_off] |= (uint8_t)(s->gre_flags >> 8);
	xbt_push_payload(f, s->payload, 0x5a);
	xbt_frame_finish(f);
	if (s->cut_l4)
		cut_datagram(f, l4_off, s->l4_keep);
	if (s->bad_version)
		f->data[f->l3_off] = (uint8_t)((f->data[f->l3_off] & 0x0f) |
					       0x50);
	if (s->other_host)
		f->data[5] = 0x99;
	if (s->truncate && s->truncate < f->len)
		f->len = s->truncate;
	return f->overflow ? 0 : f->len;
}
