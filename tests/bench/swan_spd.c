// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/xfrm.h>
#include "swan_spd.h"

/* charon's priority classes: shunts are installed before tunnels. */
#define SWAN_PRIO_BASE		384
#define SWAN_PRIO_SHUNT		SWAN_PRIO_BASE
#define SWAN_PRIO_TUNNEL	(SWAN_PRIO_BASE << 1)

struct swan_shape {
	__u16 family;
	__u8 plen_s;
	__u8 plen_d;
	__u8 proto;
	__u16 sport_mask;	/* host order; ICMP: type */
	__u16 dport_mask;	/* ICMP: code */
};

static const struct swan_shape shapes[SWAN_SHAPES] = {
	{ AF_INET, 32, 32, 0, 0, 0 },
	{ AF_INET, 32, 32, IPPROTO_TCP, 0, 0xffff },
	{ AF_INET, 32, 24, IPPROTO_UDP, 0, 0xffff },
	{ AF_INET, 28, 32, 0, 0, 0 },
	{ AF_INET, 24, 24, IPPROTO_UDP, 0xffff, 0xffff },
	{ AF_INET, 32, 28, IPPROTO_ICMP, 0xffff, 0xffff },
	{ AF_INET6, 64, 64, 0, 0, 0 },
	{ AF_INET6, 128, 128, 0, 0, 0 },
	{ AF_INET6, 48, 64, IPPROTO_UDP, 0, 0xffff },
	{ AF_INET6, 56, 64, IPPROTO_TCP, 0xffff, 0xffff },
	{ AF_INET6, 64, 128, IPPROTO_ICMPV6, 0xffff, 0xffff },
	{ AF_INET6, 0, 64, 0, 0, 0 },
};

static const __u8 v4_nets[3][3] = { { 192, 0, 2 }, { 198, 51, 100 },
				    { 203, 0, 113 } };

/* Address j (0..767) of the three IPv4 documentation networks. */
static void addr4(__u32 j, union xb_addr *a)
{
	memset(a, 0, sizeof(*a));
	j %= 768;
	memcpy(a->b, v4_nets[j / 256], 3);
	a->b[3] = j % 256;
}

/* /28 number j (0..47) of the IPv4 documentation networks. */
static void net28(__u32 j, union xb_addr *a)
{
	addr4((j % 48) * 16, a);
}

/* 2001:db8:SSKK:KKKK::1, S = side and shape: unique per (shape, side, k)
 * at /48 and longer prefixes when k < 2^24. */
static void addr6(__u32 shape, int side, __u32 k, union xb_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->b[0] = 0x20;
	a->b[1] = 0x01;
	a->b[2] = 0x0d;
	a->b[3] = 0xb8;
	a->b[4] = (side ? 0x80 : 0) | shape;
	a->b[5] = (k >> 16) & 0xff;
	a->b[6] = (k >> 8) & 0xff;
	a->b[7] = k & 0xff;
	a->b[15] = 1;
}

/* Clears the bits beyond plen, as `ip xfrm policy list` prints them. */
static void mask_addr(union xb_addr *a, unsigned int plen)
{
	unsigned int i;

	for (i = plen; i < 128; i++)
		a->b[i / 8] &= ~(0x80 >> (i % 8));
}

/* The selector of tunnel number k within shape s, remote -> local (the
 * view of in and fwd policies). */
static void shape_selector(__u32 s, __u32 k, struct xb_selector *sel)
{
	const struct swan_shape *sh = &shapes[s];
	__u16 sport = 0, dport = 0;

	memset(sel, 0, sizeof(*sel));
	sel->family = sh->family;
	sel->prefixlen_s = sh->plen_s;
	sel->prefixlen_d = sh->plen_d;
	sel->proto = sh->proto;
	switch (s) {
	case 0:
	case 1:
		addr4(k, &sel->saddr);
		addr4(k / 768, &sel->daddr);
		dport = (__u16[]){ 22, 80, 443, 3389, 5060, 8080, 25 }[k % 7];
		break;
	case 2:
		addr4(k, &sel->saddr);
		addr4((k / 768 % 3) * 256, &sel->daddr);
		dport = 1000 + k / 2304;
		break;
	case 3:
		net28(k, &sel->saddr);
		addr4(k / 48, &sel->daddr);
		break;
	case 4:
		addr4((k % 3) * 256, &sel->saddr);
		addr4((k / 3 % 3) * 256, &sel->daddr);
		sport = 1024 + (k / 9) % 60000;
		dport = 500 + k / 540000;
		break;
	case 5:
		addr4(k, &sel->saddr);
		net28(k / 768, &sel->daddr);
		sport = (__u16[]){ 8, 0, 3, 11 }[(k / 36864) % 4];
		break;
	default:
		addr6(s, 0, k, &sel->saddr);
		addr6(s, 1, k, &sel->daddr);
		if (s == 8)
			dport = 1000 + k % 60000;
		else if (s == 9) {
			sport = 1024 + k % 50000;
			dport = 443;
		} else if (s == 10)
			sport = 128;
		break;
	}
	mask_addr(&sel->saddr, sel->prefixlen_s);
	mask_addr(&sel->daddr, sel->prefixlen_d);
	sel->sport = htons(sport & sh->sport_mask);
	sel->dport = htons(dport & sh->dport_mask);
	sel->sport_mask = htons(sh->sport_mask);
	sel->dport_mask = htons(sh->dport_mask);
}

static void swap_sides(struct xb_selector *sel)
{
	union xb_addr a = sel->saddr;
	__be16 p = sel->sport, m = sel->sport_mask;
	__u8 l = sel->prefixlen_s;

	sel->saddr = sel->daddr;
	sel->daddr = a;
	sel->prefixlen_s = sel->prefixlen_d;
	sel->prefixlen_d = l;
	/* ICMP type and code are not ports: they stay where they are */
	if (sel->proto == IPPROTO_ICMP || sel->proto == IPPROTO_ICMPV6)
		return;
	sel->sport = sel->dport;
	sel->sport_mask = sel->dport_mask;
	sel->dport = p;
	sel->dport_mask = m;
}

/* charon: base - both prefix lengths, then room for two flags: no ports
 * (+2) and no protocol (+1) sort behind the more specific selectors. */
static __u32 swan_priority(const struct xb_selector *sel, __u32 base)
{
	__u32 prio = base - sel->prefixlen_s - sel->prefixlen_d;

	prio <<= 2;
	prio += (sel->sport_mask || sel->dport_mask) ? 0 : 2;
	prio += sel->proto ? 0 : 1;
	return prio;
}

enum swan_kind { SWAN_TUNNEL, SWAN_PASS, SWAN_DROP };

static enum swan_kind tunnel_kind(__u32 t)
{
	if (t % 20 == 7)
		return SWAN_PASS;
	if (t % 20 == 13)
		return SWAN_DROP;
	return SWAN_TUNNEL;
}

void swan_policy(__u32 i, struct xb_policy *p)
{
	static const __u8 dirs[3] = { XFRM_POLICY_IN, XFRM_POLICY_FWD,
				      XFRM_POLICY_OUT };
	__u32 t = i / 3, s = t % SWAN_SHAPES, k = t / SWAN_SHAPES;
	enum swan_kind kind = tunnel_kind(t);

	memset(p, 0, sizeof(*p));
	shape_selector(s, k, &p->sel);
	p->dir = dirs[i % 3];
	if (p->dir == XFRM_POLICY_OUT)
		swap_sides(&p->sel);
	p->id = i;
	p->pos = i + 1;
	p->index = 8 * (i + 1) + p->dir;
	p->type = XFRM_POLICY_TYPE_MAIN;
	p->action = kind == SWAN_DROP ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
	p->priority = swan_priority(&p->sel, kind == SWAN_TUNNEL ?
				    SWAN_PRIO_TUNNEL : SWAN_PRIO_SHUNT);
	if (kind == SWAN_TUNNEL) {
		p->n_tmpls = 1;
		p->xb_flags = XB_POL_REQUIRES_IPSEC;
	}
}

static const char *dir_name(__u8 dir)
{
	return dir == XFRM_POLICY_IN ? "in" : dir == XFRM_POLICY_OUT ? "out" :
								   "fwd";
}

static int upspec(const struct xb_selector *sel, char *buf, size_t len)
{
	int n = 0;

	buf[0] = 0;
	if (!sel->proto)
		return 0;
	n = snprintf(buf, len, " proto %u", sel->proto);
	if (sel->proto == IPPROTO_ICMP || sel->proto == IPPROTO_ICMPV6)
		return n + snprintf(buf + n, len - n, " type %u code %u",
				    ntohs(sel->sport), ntohs(sel->dport));
	if (sel->sport_mask)
		n += snprintf(buf + n, len - n, " sport %u", ntohs(sel->sport));
	if (sel->dport_mask)
		n += snprintf(buf + n, len - n, " dport %u", ntohs(sel->dport));
	return n;
}

int swan_ip_line(__u32 i, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], up[64], tmpl[160] = "";
	struct xb_policy p;
	int af, n;

	swan_policy(i, &p);
	af = p.sel.family;
	inet_ntop(af, p.sel.saddr.b, s, sizeof(s));
	inet_ntop(af, p.sel.daddr.b, d, sizeof(d));
	upspec(&p.sel, up, sizeof(up));
	if (p.n_tmpls) {
		const char *l = af == AF_INET ? "203.0.113.1" : "2001:db8::1";
		const char *r = af == AF_INET ? "203.0.113.2" : "2001:db8::2";
		bool out = p.dir == XFRM_POLICY_OUT;

		snprintf(tmpl, sizeof(tmpl),
			 " tmpl src %s dst %s proto esp reqid %u mode tunnel "
			 "level required", out ? l : r, out ? r : l, i / 3 + 1);
	}
	n = snprintf(buf, len,
		     "xfrm policy add src %s/%u dst %s/%u%s dir %s priority %u "
		     "action %s%s\n", s, p.sel.prefixlen_s, d,
		     p.sel.prefixlen_d, up, dir_name(p.dir), p.priority,
		     p.action == XFRM_POLICY_BLOCK ? "block" : "allow", tmpl);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* Bits of sel beyond plen, from a random address of the same pool. */
static void addr_inside(struct xb_rng *r, int af, const union xb_addr *sel,
			unsigned int plen, union xb_addr *out)
{
	unsigned int i;

	if (af == AF_INET) {
		addr4(xb_rng_below(r, 768), out);
	} else {
		for (i = 0; i < 4; i++)
			out->a[i] = (__u32)xb_rng_next(r);
		out->a[0] = htonl(0x20010db8);
	}
	for (i = 0; i < plen; i++) {
		__u8 bit = 0x80 >> (i % 8);

		out->b[i / 8] = (out->b[i / 8] & ~bit) | (sel->b[i / 8] & bit);
	}
}

static __be16 port_inside(struct xb_rng *r, __be16 sel, __be16 mask)
{
	return (sel & mask) | ((__be16)xb_rng_next(r) & ~mask);
}

void swan_flow_in(const struct xb_policy *p, struct xb_rng *r,
		  struct xb_flow *fl)
{
	const struct xb_selector *sel = &p->sel;

	memset(fl, 0, sizeof(*fl));
	fl->family = sel->family;
	addr_inside(r, sel->family, &sel->saddr, sel->prefixlen_s, &fl->saddr);
	addr_inside(r, sel->family, &sel->daddr, sel->prefixlen_d, &fl->daddr);
	fl->proto = sel->proto ? sel->proto :
		    (xb_rng_pct(r, 50) ? IPPROTO_TCP : IPPROTO_UDP);
	if (fl->proto == IPPROTO_ICMP || fl->proto == IPPROTO_ICMPV6) {
		/* one byte each in the header */
		fl->sport = htons(ntohs(port_inside(r, sel->sport,
						    sel->sport_mask)) & 0xff);
		fl->dport = htons(ntohs(port_inside(r, sel->dport,
						    sel->dport_mask)) & 0xff);
		return;
	}
	fl->sport = port_inside(r, sel->sport, sel->sport_mask);
	fl->dport = port_inside(r, sel->dport, sel->dport_mask);
}

void swan_flow_any(int af, struct xb_rng *r, struct xb_flow *fl)
{
	union xb_addr none = {};

	memset(fl, 0, sizeof(*fl));
	fl->family = af;
	addr_inside(r, af, &none, 0, &fl->saddr);
	addr_inside(r, af, &none, 0, &fl->daddr);
	fl->proto = IPPROTO_UDP;
	fl->sport = (__be16)xb_rng_next(r);
	fl->dport = (__be16)xb_rng_next(r);
}
