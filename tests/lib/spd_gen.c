// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/xfrm.h>
#include "spd_gen.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(r, a) ((a)[xb_rng_below((r), ARRAY_SIZE(a))])

/* splitmix64: small, fast, and every seed is a good one. */
__u64 xb_rng_next(struct xb_rng *r)
{
	__u64 z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void xb_rng_seed(struct xb_rng *r, __u64 seed)
{
	r->s = seed;
}

__u32 xb_rng_below(struct xb_rng *r, __u32 n)
{
	return (__u32)(((xb_rng_next(r) >> 32) * (__u64)n) >> 32);
}

bool xb_rng_pct(struct xb_rng *r, unsigned int percent)
{
	return xb_rng_below(r, 100) < percent;
}

__u64 xb_test_seed(const char *name)
{
	const char *env = getenv("XB_SEED");
	struct timespec ts;
	__u64 seed;

	if (env && *env) {
		seed = strtoull(env, NULL, 0);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((__u64)ts.tv_sec << 32) ^ (__u64)ts.tv_nsec ^
		       ((__u64)getpid() << 16);
	}
	printf("# %s: seed=0x%llx (XB_SEED=0x%llx replays)\n", name,
	       (unsigned long long)seed, (unsigned long long)seed);
	fflush(stdout);
	return seed;
}

void xb_spd_cfg_default(struct xb_spd_cfg *cfg)
{
	*cfg = (struct xb_spd_cfg){
		.n_policies = 64,
		.n_shapes = 8,
		.n_priorities = 4,
		.pct_v6 = 50,
		.pct_sub = 20,
		.pct_block = 25,
		.pct_tmpl = 50,
		.pct_required = 50,
		.pct_mark = 15,
		.pct_if_id = 15,
		.pct_ifindex = 3,
		.pct_sec_ctx = 3,
		.pct_offload = 0,
	};
}

void xb_spd_cfg_random(struct xb_rng *r, unsigned int max_policies,
		       struct xb_spd_cfg *cfg)
{
	static const unsigned int v6[] = { 0, 50, 50, 100 };
	static const unsigned int some[] = { 0, 10, 25, 50 };
	static const unsigned int rare[] = { 0, 0, 3, 10 };
	unsigned int roll = xb_rng_below(r, 100);

	xb_spd_cfg_default(cfg);
	cfg->n_policies = 1 + xb_rng_below(r, max_policies);
	if (roll < 70)
		cfg->n_shapes = 1 + xb_rng_below(r, 8);
	else if (roll < 93)
		cfg->n_shapes = 1 + xb_rng_below(r, 24);
	else
		cfg->n_shapes = 40 + xb_rng_below(r, 300);
	cfg->n_priorities = 1 + xb_rng_below(r, 8);
	cfg->pct_v6 = PICK(r, v6);
	cfg->pct_sub = PICK(r, some);
	cfg->pct_block = PICK(r, some);
	cfg->pct_tmpl = PICK(r, some) + 25;
	cfg->pct_required = PICK(r, some) * 2;
	cfg->pct_mark = PICK(r, some);
	cfg->pct_if_id = PICK(r, some);
	cfg->pct_ifindex = PICK(r, rare);
	cfg->pct_sec_ctx = PICK(r, rare);
	cfg->pct_offload = xb_rng_pct(r, 10) ? 3 : 0;
}

/* A mask shape: family, prefix lengths, protocol, port masks. */
struct gen_shape {
	__u16 family;
	__u8 plen_s;
	__u8 plen_d;
	__u8 proto;
	__be16 sport_mask;
	__be16 dport_mask;
};

static bool proto_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

static bool proto_is_icmp(__u8 proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

static __u8 random_proto(struct xb_rng *r, __u16 family)
{
	static const __u8 protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP,
				       IPPROTO_ICMP, IPPROTO_ESP, IPPROTO_GRE };
	__u8 p = PICK(r, protos);

	if (p == IPPROTO_ICMP && family == AF_INET6)
		p = IPPROTO_ICMPV6;
	return p;
}

static void gen_shape(__u64 seed, unsigned int i, unsigned int pct_v6,
		      struct gen_shape *s)
{
	static const __u8 plen4[] = { 0, 8, 16, 24, 25, 28, 32, 32 };
	static const __u8 plen6[] = { 0, 16, 32, 48, 64, 120, 128, 128 };
	static const __u16 pmask[] = { 0, 0, 0xffff, 0xffff, 0xff00, 0xfff0,
				       0x00ff, 0x8000 };
	static const __u16 imask[] = { 0, 0xffff };
	struct xb_rng r;

	xb_rng_seed(&r, seed ^ (0x5bd1e995ull * (i + 1)));
	s->family = xb_rng_pct(&r, pct_v6) ? AF_INET6 : AF_INET;
	s->plen_s = s->family == AF_INET ? PICK(&r, plen4) : PICK(&r, plen6);
	s->plen_d = s->family == AF_INET ? PICK(&r, plen4) : PICK(&r, plen6);
	s->proto = xb_rng_pct(&r, 40) ? 0 : random_proto(&r, s->family);
	if (proto_is_icmp(s->proto)) {
		s->sport_mask = htons(PICK(&r, imask));
		s->dport_mask = htons(PICK(&r, imask));
	} else if (s->proto == 0 || proto_has_ports(s->proto)) {
		s->sport_mask = htons(PICK(&r, pmask));
		s->dport_mask = htons(PICK(&r, pmask));
	} else {
		s->sport_mask = 0;
		s->dport_mask = xb_rng_pct(&r, 10) ? htons(0xffff) : 0;
	}
}

static void random_addr(struct xb_rng *r, __u16 family, union xb_addr *a)
{
	static const __u8 v4net[][3] = { { 192, 0, 2 }, { 198, 51, 100 },
					 { 203, 0, 113 } };
	static const __u8 host[] = { 0, 1, 2, 3, 64, 128, 200, 255 };
	unsigned int n;

	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		n = xb_rng_below(r, ARRAY_SIZE(v4net));
		memcpy(a->b, v4net[n], 3);
		a->b[3] = PICK(r, host);
		return;
	}
	a->b[0] = 0x20;
	a->b[1] = 0x01;
	a->b[2] = 0x0d;
	a->b[3] = 0xb8;
	a->b[5] = xb_rng_below(r, 3);
	a->b[8] = xb_rng_pct(r, 30) ? 0x80 : 0;
	a->b[15] = PICK(r, host);
}

static __be16 random_port(struct xb_rng *r)
{
	static const __u16 ports[] = { 1, 22, 53, 80, 443, 500, 4500, 0x1234,
				       0xff00, 0x0080 };

	return htons(xb_rng_pct(r, 80) ? PICK(r, ports) :
		     (__u16)xb_rng_below(r, 65536));
}

static void random_icmp(struct xb_rng *r, __u16 family, __be16 *type,
			__be16 *code)
{
	static const __u8 t4[] = { 0, 3, 8, 11 };
	static const __u8 t6[] = { 1, 2, 3, 128, 129 };
	static const __u8 codes[] = { 0, 1, 3 };

	*type = htons(family == AF_INET ? PICK(r, t4) : PICK(r, t6));
	*code = htons(PICK(r, codes));
}

static void gen_marks(struct xb_rng *r, struct xb_policy *p)
{
	static const __u32 mv[][2] = { { 0, 0xff }, { 1, 0xff }, { 5, 0 },
				       { 0x10, 0xf0 }, { 0, 0xffffffff } };
	unsigned int i = xb_rng_below(r, ARRAY_SIZE(mv));

	p->mark_v = mv[i][0];
	p->mark_m = mv[i][1];
}

static void gen_action(struct xb_rng *r, const struct xb_spd_cfg *cfg,
		       struct xb_policy *p)
{
	p->action = xb_rng_pct(r, cfg->pct_block) ? XFRM_POLICY_BLOCK :
						    XFRM_POLICY_ALLOW;
	if (p->action == XFRM_POLICY_ALLOW && xb_rng_pct(r, cfg->pct_tmpl)) {
		p->n_tmpls = 1 + xb_rng_below(r, 3);
		if (xb_rng_pct(r, cfg->pct_required))
			p->xb_flags |= XB_POL_REQUIRES_IPSEC;
	}
	if (xb_rng_pct(r, cfg->pct_sec_ctx))
		p->xb_flags |= XB_POL_SEC_CTX;
	if (xb_rng_pct(r, cfg->pct_offload))
		p->xb_flags |= XB_POL_OFFLOAD;
}

void xb_spd_gen_policy(struct xb_rng *r, const struct xb_spd_cfg *cfg,
		       __u64 seed_shapes, struct xb_policy *p)
{
	static const __u32 prios[] = { 0, 1, 10, 100, 1000, 2000, 100000,
				       0x7fffffff };
	static const __u8 dirs[] = { XFRM_POLICY_IN, XFRM_POLICY_OUT,
				     XFRM_POLICY_FWD };
	unsigned int np = cfg->n_priorities ? cfg->n_priorities : 1;
	struct gen_shape s;

	memset(p, 0, sizeof(*p));
	gen_shape(seed_shapes, xb_rng_below(r, cfg->n_shapes ? cfg->n_shapes : 1),
		  cfg->pct_v6, &s);
	p->sel.family = s.family;
	p->sel.prefixlen_s = s.plen_s;
	p->sel.prefixlen_d = s.plen_d;
	random_addr(r, s.family, &p->sel.saddr);
	random_addr(r, s.family, &p->sel.daddr);
	p->sel.proto = s.proto;
	p->sel.sport_mask = s.sport_mask;
	p->sel.dport_mask = s.dport_mask;
	if (proto_is_icmp(s.proto)) {
		random_icmp(r, s.family, &p->sel.sport, &p->sel.dport);
	} else {
		p->sel.sport = random_port(r);
		p->sel.dport = random_port(r);
	}
	if (xb_rng_pct(r, cfg->pct_ifindex))
		p->sel.ifindex = 2 + xb_rng_below(r, 3);
	p->dir = PICK(r, dirs);
	p->type = xb_rng_pct(r, cfg->pct_sub) ? XFRM_POLICY_TYPE_SUB :
						XFRM_POLICY_TYPE_MAIN;
	p->priority = prios[xb_rng_below(r, np < ARRAY_SIZE(prios) ? np :
							ARRAY_SIZE(prios))];
	if (xb_rng_pct(r, cfg->pct_mark))
		gen_marks(r, p);
	if (xb_rng_pct(r, cfg->pct_if_id))
		p->if_id = 1 + xb_rng_below(r, 3);
	gen_action(r, cfg, p);
}

size_t xb_spd_gen(struct xb_rng *r, const struct xb_spd_cfg *cfg,
		  struct xb_policy *pols, size_t cap)
{
	__u64 seed_shapes = xb_rng_next(r);
	size_t n = cfg->n_policies < cap ? cfg->n_policies : cap, i;

	for (i = 0; i < n; i++) {
		xb_spd_gen_policy(r, cfg, seed_shapes, &pols[i]);
		pols[i].id = i;
		pols[i].index = 8 * (i + 1) + pols[i].dir;
		pols[i].pos = i + 1;
	}
	return n;
}

/* The first plen bits from sel, the rest from a pool address. */
static void addr_inside(struct xb_rng *r, __u16 family,
			const union xb_addr *sel, unsigned int plen,
			union xb_addr *out)
{
	unsigned int i;

	random_addr(r, family, out);
	for (i = 0; i < plen; i++) {
		__u8 bit = 0x80 >> (i % 8);

		out->b[i / 8] = (out->b[i / 8] & ~bit) | (sel->b[i / 8] & bit);
	}
}

static __be16 port_inside(struct xb_rng *r, __be16 sel, __be16 mask)
{
	return (sel & mask) | (random_port(r) & ~mask);
}

static void ports_inside(struct xb_rng *r, const struct xb_policy *p,
			 struct xb_flow *fl)
{
	__be16 type, code;

	if (proto_has_ports(fl->proto)) {
		fl->sport = port_inside(r, p->sel.sport, p->sel.sport_mask);
		fl->dport = port_inside(r, p->sel.dport, p->sel.dport_mask);
	} else if (proto_is_icmp(fl->proto)) {
		random_icmp(r, fl->family, &type, &code);
		/* type and code are one byte each, as in the header */
		fl->sport = htons(ntohs((p->sel.sport & p->sel.sport_mask) |
					(type & ~p->sel.sport_mask)) & 0xff);
		fl->dport = htons(ntohs((p->sel.dport & p->sel.dport_mask) |
					(code & ~p->sel.dport_mask)) & 0xff);
	}
}

static void flow_anywhere(struct xb_rng *r, struct xb_flow *fl)
{
	fl->family = xb_rng_pct(r, 50) ? AF_INET6 : AF_INET;
	random_addr(r, fl->family, &fl->saddr);
	random_addr(r, fl->family, &fl->daddr);
	fl->proto = random_proto(r, fl->family);
	if (proto_has_ports(fl->proto)) {
		fl->sport = random_port(r);
		fl->dport = random_port(r);
	} else if (proto_is_icmp(fl->proto)) {
		random_icmp(r, fl->family, &fl->sport, &fl->dport);
	}
}

void xb_spd_gen_flow(struct xb_rng *r, const struct xb_policy *pols, size_t n,
		     struct xb_flow *fl)
{
	const struct xb_policy *p;

	memset(fl, 0, sizeof(*fl));
	if (!n || xb_rng_pct(r, 15)) {
		flow_anywhere(r, fl);
		return;
	}
	p = &pols[xb_rng_below(r, n)];
	fl->family = p->sel.family;
	addr_inside(r, fl->family, &p->sel.saddr, p->sel.prefixlen_s, &fl->saddr);
	addr_inside(r, fl->family, &p->sel.daddr, p->sel.prefixlen_d, &fl->daddr);
	fl->proto = p->sel.proto ? p->sel.proto : random_proto(r, fl->family);
	ports_inside(r, p, fl);
}

void xb_spd_dump_policy(const struct xb_policy *p)
{
	char s[64], d[64];

	inet_ntop(p->sel.family, p->sel.saddr.b, s, sizeof(s));
	inet_ntop(p->sel.family, p->sel.daddr.b, d, sizeof(d));
	printf("#   id %u dir %u type %u %s/%u -> %s/%u proto %u sport %04x/%04x "
	       "dport %04x/%04x prio %u pos %u mark %x/%x if_id %u action %u "
	       "tmpls %u flags %x ifindex %d\n", p->id, p->dir, p->type, s,
	       p->sel.prefixlen_s, d, p->sel.prefixlen_d, p->sel.proto,
	       ntohs(p->sel.sport), ntohs(p->sel.sport_mask),
	       ntohs(p->sel.dport), ntohs(p->sel.dport_mask), p->priority,
	       p->pos, p->mark_v, p->mark_m, p->if_id, p->action, p->n_tmpls,
	       p->xb_flags, p->sel.ifindex);
}
