// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Realistic rule sets as XFRM policies (ruleset_gen.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/xfrm.h>
#include "ruleset_gen.h"

/* A weighted choice: the weights of a table add up to anything. */
struct weighted {
	unsigned int weight;
	int a, b;
};

/* (src len, dst len) classes of IPv4 rules. ClassBench's seeds put most
 * ACL rules on a host or small net on the destination side with a
 * wildcard or a net on the source; firewalls wildcard one side and use
 * short prefixes; IP chains are mostly host pairs. */
static const struct weighted acl_lens[] = {
	{ 20, 0, 32 }, { 10, 32, 32 }, { 10, 24, 32 }, { 8, 16, 32 },
	{ 5, 8, 32 }, { 8, 0, 24 }, { 5, 24, 24 }, { 6, 28, 32 },
	{ 3, 29, 32 }, { 3, 30, 32 }, { 2, 0, 0 }, { 5, 16, 24 },
	{ 3, 32, 0 }, { 4, 19, 32 }, { 3, 21, 32 }, { 3, 27, 32 },
	{ 2, 26, 32 }, { 2, 23, 30 }, { 2, 22, 28 }, { 0, 0, 0 },
};
static const struct weighted fw_lens[] = {
	{ 5, 0, 0 }, { 4, 0, 8 }, { 6, 0, 16 }, { 8, 0, 24 }, { 6, 0, 32 },
	{ 4, 8, 0 }, { 6, 16, 0 }, { 8, 24, 0 }, { 6, 32, 0 }, { 4, 16, 16 },
	{ 5, 24, 24 }, { 3, 8, 16 }, { 4, 16, 24 }, { 5, 24, 32 },
	{ 4, 32, 32 }, { 3, 20, 0 }, { 3, 0, 20 }, { 2, 12, 24 },
	{ 2, 22, 32 }, { 2, 0, 27 }, { 0, 0, 0 },
};
static const struct weighted ipc_lens[] = {
	{ 25, 32, 32 }, { 8, 24, 32 }, { 8, 32, 24 }, { 10, 0, 32 },
	{ 10, 32, 0 }, { 5, 16, 16 }, { 8, 24, 24 }, { 3, 0, 0 },
	{ 3, 8, 0 }, { 3, 0, 8 }, { 4, 28, 28 }, { 3, 30, 30 },
	{ 2, 29, 32 }, { 2, 32, 26 }, { 0, 0, 0 },
};

/* Protocols (0: any). */
static const struct weighted acl_protos[] = {
	{ 70, IPPROTO_TCP, 0 }, { 20, IPPROTO_UDP, 0 }, { 5, IPPROTO_ICMP, 0 },
	{ 5, 0, 0 }, { 0, 0, 0 },
};
static const struct weighted fw_protos[] = {
	{ 45, IPPROTO_TCP, 0 }, { 30, IPPROTO_UDP, 0 }, { 20, 0, 0 },
	{ 3, IPPROTO_ICMP, 0 }, { 2, IPPROTO_GRE, 0 }, { 0, 0, 0 },
};
static const struct weighted ipc_protos[] = {
	{ 40, IPPROTO_TCP, 0 }, { 30, IPPROTO_UDP, 0 }, { 10, IPPROTO_ICMP, 0 },
	{ 10, 0, 0 }, { 5, IPPROTO_GRE, 0 }, { 5, IPPROTO_ESP, 0 }, { 0, 0, 0 },
};

/* Port classes of one side. */
enum port_class { P_ANY, P_EXACT, P_LOW, P_HIGH, P_RANGE };

static const struct weighted acl_sports[] = {
	{ 90, P_ANY, 0 }, { 2, P_EXACT, 0 }, { 8, P_HIGH, 0 }, { 0, 0, 0 },
};
static const struct weighted acl_dports[] = {
	{ 45, P_EXACT, 0 }, { 20, P_ANY, 0 }, { 10, P_HIGH, 0 }, { 5, P_LOW, 0 },
	{ 20, P_RANGE, 0 }, { 0, 0, 0 },
};
static const struct weighted fw_sports[] = {
	{ 70, P_ANY, 0 }, { 20, P_HIGH, 0 }, { 5, P_EXACT, 0 }, { 5, P_RANGE, 0 }, { 0, 0, 0 },
};
static const struct weighted fw_dports[] = {
	{ 30, P_ANY, 0 }, { 30, P_EXACT, 0 }, { 15, P_HIGH, 0 }, { 25, P_RANGE, 0 },
	{ 0, 0, 0 },
};
static const struct weighted ipc_sports[] = {
	{ 85, P_ANY, 0 }, { 10, P_EXACT, 0 }, { 5, P_RANGE, 0 }, { 0, 0, 0 },
};
static const struct weighted ipc_dports[] = {
	{ 40, P_ANY, 0 }, { 50, P_EXACT, 0 }, { 10, P_RANGE, 0 }, { 0, 0, 0 },
};

/* Well-known service ports, as exact matches concentrate on them. */
static const __u16 services[] = {
	20, 21, 22, 23, 25, 53, 67, 69, 80, 110, 123, 137, 143, 161, 179,
	389, 443, 445, 465, 500, 514, 587, 636, 993, 995, 1194, 1433, 1521,
	1723, 3306, 3389, 4500, 5060, 5432, 8080, 8443,
};

struct profile {
	const char *name;
	const struct weighted *lens, *protos, *sports, *dports;
};

static const struct profile profiles[XB_RS_PROFILES] = {
	[XB_RS_ACL] = { "acl", acl_lens, acl_protos, acl_sports, acl_dports },
	[XB_RS_FW] = { "fw", fw_lens, fw_protos, fw_sports, fw_dports },
	[XB_RS_IPC] = { "ipc", ipc_lens, ipc_protos, ipc_sports, ipc_dports },
};

/* Base addresses rules share (and nest under, at different lengths):
 * one for every eight rules, as a larger rule set covers more hosts and
 * networks, within these bounds. */
#define POOL_MIN	1024
#define POOL_MAX	(1U << 17)

struct gen {
	struct xb_rng *r;
	const struct xb_rs_cfg *cfg;
	const struct profile *prof;
	union xb_addr *pool;
	__u32 pool_size;
	__u64 *seen;		/* selector hashes, open addressing */
	size_t seen_mask;
};

const char *xb_rs_profile_name(enum xb_rs_profile p)
{
	return p < XB_RS_PROFILES ? profiles[p].name : "?";
}

int xb_rs_profile_parse(const char *name)
{
	int i;

	for (i = 0; i < XB_RS_PROFILES; i++)
		if (!strcmp(name, profiles[i].name))
			return i;
	return -1;
}

static const struct weighted *pick(struct xb_rng *r, const struct weighted *t)
{
	unsigned int total = 0, x;
	const struct weighted *w;

	for (w = t; w->weight; w++)
		total += w->weight;
	x = xb_rng_below(r, total);
	for (w = t; x >= w->weight; w++)
		x -= w->weight;
	return w;
}

/* Skewed toward small indexes: a few addresses are in many rules. */
static __u32 skewed_below(struct xb_rng *r, __u32 n)
{
	return xb_rng_below(r, xb_rng_below(r, n) + 1);
}

static const __u8 doc_nets[3][3] = {
	{ 192, 0, 2 }, { 198, 51, 100 }, { 203, 0, 113 },
};

static void pool_fill(struct gen *g)
{
	unsigned int i;

	for (i = 0; i < g->pool_size; i++) {
		union xb_addr *a = &g->pool[i];

		memset(a, 0, sizeof(*a));
		if (g->cfg->family == AF_INET6) {
			a->a[0] = htonl(0x20010db8);
			a->a[1] = (__u32)xb_rng_next(g->r);
			a->a[2] = (__u32)xb_rng_next(g->r);
			a->a[3] = (__u32)xb_rng_next(g->r);
		} else if (g->cfg->doc_only) {
			memcpy(a->b, doc_nets[xb_rng_below(g->r, 3)], 3);
			a->b[3] = (__u8)xb_rng_next(g->r);
		} else {
			/* unicast networks: no 0/8, loopback, multicast or
			 * class E, which the datapath leaves to the kernel */
			do {
				a->a[0] = (__u32)xb_rng_next(g->r);
			} while (a->b[0] == 0 || a->b[0] == 127 || a->b[0] >= 224);
		}
	}
}

/* An IPv4 class length as IPv6: site prefixes /32../56, hosts /128. */
static __u8 family_len(int family, int len4)
{
	if (family != AF_INET6 || len4 == 0)
		return len4;
	if (len4 == 32)
		return 128;
	return 32 + len4;
}

unsigned int xb_rs_port_pieces(__u16 lo, __u16 hi, __u16 port[32],
			       __u16 mask[32])
{
	unsigned int n = 0, bits;
	__u32 p = lo;

	while (p <= hi) {
		/* the largest aligned block at p that stays within hi */
		bits = p ? __builtin_ctz(p) : 16;
		while (bits && p + (1U << bits) - 1 > hi)
			bits--;
		port[n] = (__u16)p;
		mask[n] = (__u16)~((1U << bits) - 1);
		n++;
		p += 1U << bits;
	}
	return n;
}

static void port_range(struct gen *g, const struct weighted *classes,
		       __u16 *lo, __u16 *hi)
{
	__u32 a, w;

	switch (pick(g->r, classes)->a) {
	case P_EXACT:
		*lo = *hi = xb_rng_pct(g->r, 80) ?
			services[skewed_below(g->r, sizeof(services) / sizeof(services[0]))] :
			(__u16)xb_rng_next(g->r);
		return;
	case P_LOW:
		*lo = 0;
		*hi = 1023;
		return;
	case P_HIGH:
		*lo = 1024;
		*hi = 65535;
		return;
	case P_RANGE:
		a = xb_rng_below(g->r, 65536);
		w = 1 + xb_rng_below(g->r, xb_rng_pct(g->r, 70) ? 64 : 8192);
		*lo = (__u16)a;
		*hi = (__u16)(a + w > 65535 ? 65535 : a + w);
		return;
	default:
		*lo = 0;
		*hi = 65535;
	}
}

static __u64 selector_hash(const struct xb_selector *s)
{
	const unsigned char *p = (const unsigned char *)s;
	__u64 h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < sizeof(*s); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h | 1;	/* 0 marks an empty slot */
}

/* False when an equal selector was seen before. */
static bool seen_insert(struct gen *g, const struct xb_selector *s)
{
	__u64 h = selector_hash(s);
	size_t i = h & g->seen_mask;

	while (g->seen[i]) {
		if (g->seen[i] == h)
			return false;
		i = (i + 1) & g->seen_mask;
	}
	g->seen[i] = h;
	return true;
}

static void prefix(struct gen *g, union xb_addr *a, __u8 *plen, int len4)
{
	unsigned int i, bits;

	*plen = family_len(g->cfg->family, len4);
	*a = g->pool[skewed_below(g->r, g->pool_size)];
	bits = *plen;
	for (i = 0; i < 16; i++) {
		a->b[i] &= (__u8)(0xff00 >> (bits >= 8 ? 8 : bits));
		bits -= bits >= 8 ? 8 : bits;
	}
}

/* One rule, expanded; returns the policies added to pols[n..cap). */
static size_t gen_rule(struct gen *g, __u32 rule, struct xb_policy *pols,
		       size_t n, size_t cap)
{
	__u16 sport[32], smask[32], dport[32], dmask[32];
	const struct weighted *lens = pick(g->r, g->prof->lens);
	unsigned int ns = 1, nd = 1, i, j;
	struct xb_policy p = {};
	__u16 lo, hi;
	size_t added = 0;

	p.sel.family = g->cfg->family;
	prefix(g, &p.sel.saddr, &p.sel.prefixlen_s, lens->a);
	prefix(g, &p.sel.daddr, &p.sel.prefixlen_d, lens->b);
	p.sel.proto = pick(g->r, g->prof->protos)->a;
	if (g->cfg->family == AF_INET6 && p.sel.proto == IPPROTO_ICMP)
		p.sel.proto = IPPROTO_ICMPV6;
	sport[0] = smask[0] = dport[0] = dmask[0] = 0;
	if (p.sel.proto == IPPROTO_TCP || p.sel.proto == IPPROTO_UDP) {
		port_range(g, g->prof->sports, &lo, &hi);
		ns = xb_rs_port_pieces(lo, hi, sport, smask);
		port_range(g, g->prof->dports, &lo, &hi);
		nd = xb_rs_port_pieces(lo, hi, dport, dmask);
	}
	p.dir = g->cfg->dir;
	p.type = XFRM_POLICY_TYPE_MAIN;
	p.priority = rule + 1;
	p.action = rule % 2 ? XFRM_POLICY_ALLOW : XFRM_POLICY_BLOCK;
	for (i = 0; i < ns; i++) {
		for (j = 0; j < nd && n + added < cap; j++) {
			p.sel.sport = htons(sport[i]);
			p.sel.sport_mask = htons(smask[i]);
			p.sel.dport = htons(dport[j]);
			p.sel.dport_mask = htons(dmask[j]);
			if (!seen_insert(g, &p.sel))
				continue;
			p.id = n + added;
			p.pos = n + added + 1;
			pols[n + added++] = p;
		}
	}
	return added;
}

size_t xb_rs_gen(struct xb_rng *r, const struct xb_rs_cfg *cfg,
		 struct xb_policy *pols, size_t cap)
{
	struct gen g = { .r = r, .cfg = cfg, .prof = &profiles[cfg->profile] };
	size_t n = 0, want = cfg->n_policies < cap ? cfg->n_policies : cap;
	size_t slots = 64;
	__u32 rule;

	while (slots < 2 * want)
		slots *= 2;
	g.pool_size = want / 8 < POOL_MIN ? POOL_MIN :
		      want / 8 > POOL_MAX ? POOL_MAX : want / 8;
	g.seen = calloc(slots, sizeof(*g.seen));
	g.pool = calloc(g.pool_size, sizeof(*g.pool));
	if (!g.seen || !g.pool) {
		free(g.seen);
		free(g.pool);
		return 0;
	}
	g.seen_mask = slots - 1;
	pool_fill(&g);
	for (rule = 0; n < want && rule < 8 * want + 64; rule++)
		n += gen_rule(&g, rule, pols, n, want);
	free(g.seen);
	free(g.pool);
	return n;
}

static void addr_inside(struct xb_rng *r, union xb_addr *a,
			const union xb_addr *net, unsigned int plen, int family)
{
	unsigned int i, nbytes = family == AF_INET6 ? 16 : 4, bits;
	__u8 keep;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < nbytes; i++) {
		bits = plen >= 8 ? 8 : plen;
		keep = (__u8)(0xff00 >> bits);
		a->b[i] = (net->b[i] & keep) | ((__u8)xb_rng_next(r) & ~keep);
		plen -= bits;
	}
}

static __be16 port_inside(struct xb_rng *r, __be16 port, __be16 mask)
{
	return (port & mask) | ((__be16)xb_rng_next(r) & ~mask);
}

/* Outside the unicast space (0/8, loopback, multicast, class E) the
 * datapath leaves packets to the kernel: keep flows in it. */
static void unicast_v4(union xb_addr *a)
{
	if (a->b[0] == 0 || a->b[0] == 127 || a->b[0] >= 224)
		a->b[0] = 1 + a->b[0] % 126;
}

void xb_rs_flow(struct xb_rng *r, const struct xb_policy *pols, size_t n,
		struct xb_flow *fl)
{
	static const __u8 any_protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_GRE };
	const struct xb_policy *p = &pols[skewed_below(r, n)];
	const struct xb_selector *s = &p->sel;
	bool anywhere = xb_rng_pct(r, 10);

	memset(fl, 0, sizeof(*fl));
	fl->family = s->family;
	addr_inside(r, &fl->saddr, &s->saddr, anywhere ? 0 : s->prefixlen_s,
		    s->family);
	addr_inside(r, &fl->daddr, &s->daddr, anywhere ? 0 : s->prefixlen_d,
		    s->family);
	if (anywhere) {
		/* near the rule set: the same networks, other hosts */
		fl->saddr.a[0] = s->saddr.a[0];
		if (s->family == AF_INET6)
			fl->daddr.a[0] = s->daddr.a[0];
	}
	if (s->family == AF_INET) {
		unicast_v4(&fl->saddr);
		unicast_v4(&fl->daddr);
	} else {
		/* where the rule set lives, also under a /0 */
		fl->saddr.a[0] = htonl(0x20010db8);
		fl->daddr.a[0] = htonl(0x20010db8);
	}
	fl->proto = s->proto ? s->proto : any_protos[xb_rng_below(r, 3)];
	if (fl->proto == IPPROTO_TCP || fl->proto == IPPROTO_UDP) {
		fl->sport = port_inside(r, s->sport, anywhere ? 0 : s->sport_mask);
		fl->dport = port_inside(r, s->dport, anywhere ? 0 : s->dport_mask);
	} else if (fl->proto == IPPROTO_ICMP || fl->proto == IPPROTO_ICMPV6) {
		/* echo request / reply: not an error the kernel treats apart */
		fl->sport = htons(xb_rng_pct(r, 50) ? 8 : 0);
		if (fl->proto == IPPROTO_ICMPV6)
			fl->sport = htons(xb_rng_pct(r, 50) ? 128 : 129);
	}
}

size_t xb_rs_shapes(const struct xb_policy *pols, size_t n)
{
	__u64 *seen, h;
	size_t slots = 64, count = 0, i, k;

	while (slots < 2 * n)
		slots *= 2;
	seen = calloc(slots, sizeof(*seen));
	if (!seen)
		return 0;
	for (i = 0; i < n; i++) {
		const struct xb_selector *s = &pols[i].sel;

		h = ((__u64)s->prefixlen_s << 48 | (__u64)s->prefixlen_d << 40 |
		     (__u64)!!s->proto << 32 | (__u64)s->sport_mask << 16 |
		     s->dport_mask) * 0x9e3779b97f4a7c15ULL | 1;
		for (k = h & (slots - 1); seen[k] && seen[k] != h;
		     k = (k + 1) & (slots - 1))
			;
		if (!seen[k]) {
			seen[k] = h;
			count++;
		}
	}
	free(seen);
	return count;
}
