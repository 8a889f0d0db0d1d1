// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Classifier cost against SPD size, through BPF_PROG_TEST_RUN on the real
 * XDP program (bpf/xfrmbpf.bpf.c), in a private network namespace (the
 * FIB lookup needs devices: default routes there make every flow a
 * forwarded one, FWD view, as on a gateway).
 *
 * For each SPD size N (swan_spd.h: charon-like tunnels, twelve shapes) the
 * real builder (user/classifier/tss.c) publishes the policies into the program's
 * maps, and for IPv4 and IPv6 it measures, in ns per packet (median of
 * --trials runs of --repeat packets each, the kernel's own clock):
 *
 *   floor        bench_floor: parsing only
 *   floor_lookup parsing and one per-CPU LRU hash lookup (a hit)
 *   floor_fib    parsing and the datapath's FIB lookup (IN or FWD)
 *   hit          xb_xdp, one flow over and over: flow-cache hits
 *   miss         xb_xdp, distinct flows cycled in order, eight times as
 *                many as the flow cache has slots: a flow's entry is gone
 *                by its next turn (kept with probability e^-8), so every
 *                packet runs the tuple-space search and the cache store
 *   miss_ratio   the miss of N policies over the miss of one policy (N = 1
 *                of the same profile, in a second datapath with maps of
 *                the same size), their trials taken in turn: the median
 *                of the trials' ratios, a ratio of runs milliseconds
 *                apart instead of the two misses' of runs seconds apart,
 *                between which the shared host may have changed pace
 *
 * All of them run behind bench_vary (bench.bpf.c), which writes the flow into
 * the frame and tail-calls the program, so they pay the same overhead;
 * floor_direct and hit_direct are the same without it. Flows are drawn
 * inside the in/fwd policies' selectors (N = 1 has no IPv6 policy: random
 * IPv6 flows there). The reasons the miss runs ended with are printed as
 * comments, so the classification work they did is visible.
 *
 * -a names the order in which the builder takes the policies: rule order
 * (as generated, the best first, which is what the daemon's bulk builds
 * sort them into), or, as a daemon running before the SPD was loaded sees
 * them one live event at a time, reverse or shuffled: how much the
 * first-come placement of live adds costs the walk. -d keeps a rule set's
 * IPv4 addresses in the documentation ranges, as make bench's drop case
 * has it (three /24s: more rules overlap a flow).
 *
 * The maps and the builder are sized for XB_MAX_POLICIES policies, or
 * for -c CAPACITY (the daemon's default is XB_MAX_POLICIES_DEFAULT: its
 * hash tables have eight times the buckets), or for the largest N if more.
 *
 * Output: CSV lines "classify,VARIANT,FAMILY,N,NS" and
 * "publish,METRIC,all,N,VALUE" on stdout, comments start with '#'.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/xfrm.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xfrmbpf.skel.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/limits.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf/sad.h"
#include "xfrmbpf/sync.h"
#include "lib/pktbuild.h"
#include "swan_spd.h"
#include "ruleset_gen.h"
#include "tss_reader.h"
#include "tss_sink_maps.h"
#include "bpf_harness.h"
#include "tool.h"
#include "bench_maps.h"


enum { SLOT_XDP, SLOT_FLOOR, SLOT_FLOOR_LOOKUP, SLOT_FLOOR_FIB, SLOT_MAX };

/* The order in which publish() hands the policies to the builder (-a). */
enum build_order { ORDER_RULE, ORDER_REVERSE, ORDER_SHUFFLED };

static const char *const order_names[] = { "rule", "reverse", "shuffled" };

#define MAX_FLOWS	(8u * XB_FLOW_CACHE_ENTRIES)
#define SEEN_BITS	20
/* Flows whose search is counted (print_walk()). */
#define WALK_FLOWS	2000

struct bench {
	struct xfrmbpf *skel;
	struct bpf_object *obj;
	int vary_fd, floor_fd, xdp_fd;
	int flows_fd, state_fd;
	int ifindex;
	unsigned int repeat, trials;
	__u64 generation;
	struct xb_policy *pols;
	__u32 *perm;		/* order_policies() */
	struct bench_flow *flows;
	struct xb_flow *walk_flows;	/* the first WALK_FLOWS of them */
	__u32 n_walk;
	__u64 *seen;
	int profile;		/* ruleset_gen.h profile, -1: swan_spd.h */
	bool doc_only;		/* -d: IPv4 addresses in the documentation ranges */
	__u32 n_pols;		/* in pols, as generated */
	__u32 max_policies;	/* the maps' and the builder's capacity */
	enum build_order order;	/* in which the builder takes them */
	bool built_indexed[XB_SHAPE_LISTS];	/* set_lists_indexed() */
	bool quiet;		/* publish() prints nothing */
	/* The datapath's presence filter, mapped once: not the harness's
	 * xbt_skel_filter(), whose one mapping, moved from one datapath to
	 * the other, would clear the filter it maps. */
	struct xb_tss_filter filter;
	/* A second datapath, maps of the same size, holding the SPD of one
	 * policy of the same profile: its misses alternate with those of
	 * the SPD measured (bench_family()), so that the ratio of the two
	 * is taken side by side, whatever the shared host does meanwhile. */
	struct bench *one;
};

static const char *const reason_names[] = {
#define XB_REASON_NAME(sym, name) name,
	XB_REASONS(XB_REASON_NAME)
#undef XB_REASON_NAME
};

static const char *const net_setup[] = {
	"ip link set lo up",
	"sysctl -qw net.ipv4.ip_forward=1",
	"sysctl -qw net.ipv6.conf.all.forwarding=1",
	"ip link add xbt-bc0 type veth peer name xbt-bc1",
	"ip link add xbt-bc2 type veth peer name xbt-bc3",
	"ip link set xbt-bc0 address 02:00:00:00:00:01 up",
	"ip link set xbt-bc1 up",
	"ip link set xbt-bc2 up",
	"ip link set xbt-bc3 up",
	"ip addr add 192.0.2.1/24 dev xbt-bc0",
	"ip addr add 2001:db8:ffff::1/64 dev xbt-bc0 nodad",
	"ip addr add 198.51.100.1/24 dev xbt-bc2",
	"ip addr add 2001:db8:fffe::1/64 dev xbt-bc2 nodad",
	"ip route add default via 198.51.100.2",
	"ip -6 route add default via 2001:db8:fffe::2",
	"ip neigh replace 198.51.100.2 lladdr 02:00:00:00:00:22 dev xbt-bc2 "
		"nud permanent",
	"ip -6 neigh replace 2001:db8:fffe::2 lladdr 02:00:00:00:00:22 "
		"dev xbt-bc2 nud permanent",
};

/* A private namespace dies with the process: nothing to clean up. */
static void make_net(struct bench *b)
{
	const char *why = NULL;

	if (xbt_net_enter(net_setup, sizeof(net_setup) / sizeof(net_setup[0]), &why))
		bench_die(why, EIO);
	b->ifindex = (int)if_nametoindex("xbt-bc0");
	if (!b->ifindex)
		bench_die("xbt-bc0", ENODEV);
}

static void load_datapath(struct bench *b)
{
	/* maps for the largest SPD of the run, as `run --max-policies` */
	b->skel = xbt_skel_load_sized(NULL, 0, 0, b->max_policies);
	if (!b->skel)
		bench_die("load xfrmbpf", errno);
	b->xdp_fd = bpf_program__fd(b->skel->progs.xb_xdp);
	if (xb_tss_filter_map(&b->filter, bpf_map__fd(b->skel->maps.xb_tss_filter),
			      bpf_map__fd(b->skel->maps.xb_tss_gate)))
		bench_die("map xb_tss_filter", errno);
	xb_tss_filter_init(&b->filter, b->filter.words, b->filter.gate);
}

static int prog_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	if (!p)
		bench_die(name, ENOENT);
	return bpf_program__fd(p);
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m)
		bench_die(name, ENOENT);
	return bpf_map__fd(m);
}

static void load_bench(struct bench *b, const char *path)
{
	int slots[SLOT_MAX], progs_fd;
	__u32 i;

	b->obj = bpf_object__open_file(path, NULL);
	if (!b->obj)
		bench_die(path, errno);
	if (bpf_object__load(b->obj))
		bench_die("load bench.bpf.o", errno);
	b->vary_fd = prog_fd(b->obj, "bench_vary");
	b->floor_fd = prog_fd(b->obj, "bench_floor");
	b->flows_fd = map_fd(b->obj, "bench_flows");
	b->state_fd = map_fd(b->obj, "bench_state");
	progs_fd = map_fd(b->obj, "bench_progs");
	slots[SLOT_XDP] = b->xdp_fd;
	slots[SLOT_FLOOR] = b->floor_fd;
	slots[SLOT_FLOOR_LOOKUP] = prog_fd(b->obj, "bench_floor_lookup");
	slots[SLOT_FLOOR_FIB] = prog_fd(b->obj, "bench_floor_fib");
	for (i = 0; i < SLOT_MAX; i++)
		if (bpf_map_update_elem(progs_fd, &i, &slots[i], BPF_ANY))
			bench_die("bench_progs", errno);
}

/* A fresh generation with a trusted, synced mirror: the heartbeat timeout
 * is long because nothing beats during the bench (the check still runs). */
static void set_sync(struct bench *b)
{
	struct xb_sync s = {};
	__u32 zero = 0;

	b->generation++;
	s.seq = b->generation * 2;
	s.generation = b->generation;
	s.synced = 1;
	s.heartbeat_ns = xbt_now_ns();
	s.heartbeat_timeout_ns = 3600ull * 1000000000ull;
	/* every SA is mirrored: an SPI the maps lack is one the kernel lacks */
	s.drained_ns = UINT64_MAX;
	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.xb_sync), &zero, &s,
				BPF_ANY))
		bench_die("xb_sync", errno);
}

/* The attached-interface entry and the IKE bypass ports, as `run` would
 * publish them. */
static void set_iface(struct bench *b)
{
	struct xb_iface_cfg cfg = { .flags = XB_IF_XDP, .mtu = 1500 };
	struct xb_bypass_key k = { .proto = IPPROTO_UDP };
	__u32 key = (__u32)b->ifindex;
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.xb_ifaces), &key,
				&cfg, BPF_ANY))
		bench_die("xb_ifaces", errno);
	k.port = htons(500);
	bpf_map_update_elem(bpf_map__fd(b->skel->maps.xb_bypass), &k, &one, 0);
	k.port = htons(4500);
	bpf_map_update_elem(bpf_map__fd(b->skel->maps.xb_bypass), &k, &one, 0);
}

/* The published shape lists that hold policies: sizes, tables and the
 * candidate index, as comments. */
static void print_lists(int lists_fd, __u32 n)
{
	struct xb_shape_list sl;
	char name[32];
	__u32 i;

	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		if (bpf_map_lookup_elem(lists_fd, &i, &sl) || !sl.n_policies)
			continue;
		xb_tss_list_name(i, name, sizeof(name));
		printf("# N=%u %s: %u policies, %u shapes, %u tables, %u buckets, "
		       "%s (%u index entries)%s\n",
		       n, name, sl.n_policies, sl.n_shapes, sl.count, sl.n_buckets,
		       sl.indexed ? "indexed" : "not indexed", sl.n_index_entries,
		       sl.undecidable ? ", undecidable" : "");
	}
}

/* The SPD of size n: charon-like tunnels of both families, or a rule set
 * of profile b->profile and family af. Returns how many policies. */
static __u32 make_spd(struct bench *b, __u32 n, int af)
{
	struct xb_rs_cfg cfg = { b->profile, af, n, XFRM_POLICY_FWD, b->doc_only };
	struct xb_rng rng;
	__u32 i;

	if (b->profile < 0) {
		for (i = 0; i < n; i++)
			swan_policy(i, &b->pols[i]);
		return n;
	}
	xb_rng_seed(&rng, 0x5e7000ull + n);
	return (__u32)xb_rs_gen(&rng, &cfg, b->pols, n);
}

/* Which lists the builder indexed (all of more than a few tables, for
 * the bench), from the published lists. */
static void record_indexed(struct bench *b)
{
	int fd = bpf_map__fd(b->skel->maps.xb_shape_lists);
	struct xb_shape_list sl;
	__u32 i;

	for (i = 0; i < XB_SHAPE_LISTS; i++)
		b->built_indexed[i] = !bpf_map_lookup_elem(fd, &i, &sl) && sl.indexed;
}

/* Publishes every list as the daemon would (indexed above
 * XB_IDX_MIN_TABLES tables), or, forced, every list the builder indexed:
 * the same index, searched or not. Returns whether forcing changes any
 * list. */
static bool set_lists_indexed(struct bench *b, bool forced)
{
	int fd = bpf_map__fd(b->skel->maps.xb_shape_lists);
	struct xb_shape_list sl;
	bool changes = false, by_default;
	__u32 i, on;

	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		if (!b->built_indexed[i] || bpf_map_lookup_elem(fd, &i, &sl))
			continue;
		by_default = sl.count > XB_IDX_MIN_TABLES;
		on = forced || by_default;
		changes |= on && !by_default;
		if (sl.indexed == on)
			continue;
		sl.indexed = on;
		if (bpf_map_update_elem(fd, &i, &sl, BPF_ANY))
			bench_die("xb_shape_lists", errno);
	}
	return changes;
}

/* b->perm: the indexes of b->pols in the order b->order names. */
static void order_policies(struct bench *b)
{
	struct xb_rng rng;
	__u32 i, j, t;

	for (i = 0; i < b->n_pols; i++)
		b->perm[i] = b->order == ORDER_REVERSE ? b->n_pols - 1 - i : i;
	if (b->order != ORDER_SHUFFLED)
		return;
	xb_rng_seed(&rng, 0x0dd5ull + b->n_pols);
	for (i = b->n_pols; i > 1; i--) {
		j = xb_rng_below(&rng, i);
		t = b->perm[i - 1];
		b->perm[i - 1] = b->perm[j];
		b->perm[j] = t;
	}
}

/* Publishes the SPD of size n with the real builder; prints its cost. */
static void publish(struct bench *b, __u32 n, int af)
{
	struct xb_tss_maps maps = {
		.tss_fd = bpf_map__fd(b->skel->maps.xb_tss),
		.pair_fd = bpf_map__fd(b->skel->maps.xb_tss_pair),
		.lists_fd = bpf_map__fd(b->skel->maps.xb_shape_lists),
		.index_fd = bpf_map__fd(b->skel->maps.xb_tss_index),
		.filter = &b->filter,
	};
	struct xb_tss_sink sink;
	struct xb_tss *tss = xb_tss_new(b->max_policies);
	const struct xb_policy *pol;
	__u64 t0, t1;
	__u32 i;
	int err;

	if (!tss)
		bench_die("xb_tss_new", ENOMEM);
	/* an index for every list of more than a few tables, so that
	 * bench_family() can compare; published as the daemon would */
	xb_tss_set_index_min(tss, 8);
	if ((err = xb_tss_maps_clear(&maps)))
		bench_die("clear classifier maps", -err);
	b->n_pols = make_spd(b, n, af);
	order_policies(b);
	t0 = xbt_now_ns();
	for (i = 0; i < b->n_pols; i++) {
		pol = &b->pols[b->perm[i]];
		if ((err = xb_tss_add(tss, pol))) {
			fprintf(stderr, "bench_classify: policy %u of %u: id %u type %u "
				"prefixes %u/%u\n", i, b->n_pols, pol->id, pol->type,
				pol->sel.prefixlen_s, pol->sel.prefixlen_d);
			bench_die("xb_tss_add", -err);
		}
	}
	xb_tss_maps_sink(&maps, &sink);
	if ((err = xb_tss_flush(tss, &sink)))
		bench_die("xb_tss_flush", -err);
	if ((err = xb_tss_filter_maintain(maps.filter, maps.tss_fd, maps.pair_fd)))
		bench_die("xb_tss_filter_maintain", -err);
	t1 = xbt_now_ns();
	if (xb_tss_undecidable_lists(tss))
		printf("# N=%u: %u shape lists undecidable\n", n,
		       xb_tss_undecidable_lists(tss));
	record_indexed(b);
	set_lists_indexed(b, false);
	if (!b->quiet) {
		print_lists(maps.lists_fd, n);
		printf("publish,build_and_flush,%s,%u,%.1f,ms\n",
		       b->profile < 0 ? "all" : af == AF_INET ? "v4" : "v6", n,
		       (t1 - t0) / 1e6);
	}
	xb_tss_free(tss);
	set_sync(b);
}

static void to_bench_flow(const struct xb_flow *fl, struct bench_flow *f)
{
	size_t alen = fl->family == AF_INET ? 4 : 16;

	memset(f, 0, sizeof(*f));
	memcpy(f->saddr, fl->saddr.b, alen);
	memcpy(f->daddr, fl->daddr.b, alen);
	f->proto = fl->proto;
	if (fl->proto == IPPROTO_ICMP || fl->proto == IPPROTO_ICMPV6) {
		f->l4[0] = ntohs(fl->sport) & 0xff;
		f->l4[1] = ntohs(fl->dport) & 0xff;
	} else {
		memcpy(f->l4, &fl->sport, 2);
		memcpy(f->l4 + 2, &fl->dport, 2);
	}
}

/* FNV-1a: the duplicate filter only needs a spread. */
static __u64 flow_hash(const struct bench_flow *f)
{
	const __u8 *p = (const __u8 *)f;
	__u64 h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < sizeof(*f); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h | 1;
}

static bool seen_insert(__u64 *seen, __u64 h)
{
	__u64 mask = (1ull << SEEN_BITS) - 1, i = h & mask;

	while (seen[i]) {
		if (seen[i] == h)
			return false;
		i = (i + 1) & mask;
	}
	seen[i] = h;
	return true;
}

/* Up to MAX_FLOWS distinct flows of family af inside the in/fwd policies
 * among 0..n-1 (or anywhere when there is none). Returns how many. */
static __u32 make_flows(struct bench *b, __u32 n, int af)
{
	__u32 *cand = malloc(sizeof(*cand) * (n ? n : 1)), nc = 0, nf = 0, i;
	unsigned long tries = 0;
	struct xb_flow fl;
	struct xb_rng rng;

	if (!cand)
		bench_die("malloc", ENOMEM);
	for (i = 0; i < n; i++)
		if (b->pols[i].sel.family == af &&
		    b->pols[i].dir != XFRM_POLICY_OUT)
			cand[nc++] = i;
	memset(b->seen, 0, sizeof(__u64) << SEEN_BITS);
	xb_rng_seed(&rng, 0x5eed0000ull + n * 2 + (af == AF_INET6));
	while (nf < MAX_FLOWS && tries++ < 8ul * MAX_FLOWS) {
		if (b->profile >= 0)
			xb_rs_flow(&rng, b->pols, n, &fl);
		else if (nc)
			swan_flow_in(&b->pols[cand[xb_rng_below(&rng, nc)]],
				     &rng, &fl);
		else
			swan_flow_any(af, &rng, &fl);
		to_bench_flow(&fl, &b->flows[nf]);
		if (!seen_insert(b->seen, flow_hash(&b->flows[nf])))
			continue;
		if (nf < WALK_FLOWS)
			b->walk_flows[nf] = fl;
		nf++;
	}
	b->n_walk = nf < WALK_FLOWS ? nf : WALK_FLOWS;
	free(cand);
	for (i = 0; i < nf; i++)
		if (bpf_map_update_elem(b->flows_fd, &i, &b->flows[i], BPF_ANY))
			bench_die("bench_flows", errno);
	return nf;
}

static void build_frame(int af, struct xbt_frame *f)
{
	struct xbt_pkt_spec s = {
		.family = af == AF_INET ? 4 : 6,
		.src = af == AF_INET ? "198.51.100.7" : "2001:db8:fffe::7",
		.dst = af == AF_INET ? "203.0.113.7" : "2001:db8:1::7",
		.l4 = XBT_L4_UDP,
		.sport = 1024,
		.dport = 1025,
		.payload = 18,
	};

	if (!xbt_build(&s, f))
		bench_die("xbt_build", EINVAL);
}

/* The frame with flow f written in, as bench_vary does it. */
static void frame_with_flow(const struct xbt_frame *tmpl, int af,
			    const struct bench_flow *fl, struct xbt_frame *f)
{
	size_t l3 = ETH_HLEN, l4;

	*f = *tmpl;
	if (af == AF_INET) {
		struct iphdr *iph = (void *)(f->data + l3);

		memcpy(&iph->saddr, fl->saddr, 4);
		memcpy(&iph->daddr, fl->daddr, 4);
		iph->protocol = fl->proto;
		l4 = l3 + sizeof(*iph);
	} else {
		struct ipv6hdr *ip6h = (void *)(f->data + l3);

		memcpy(&ip6h->saddr, fl->saddr, 16);
		memcpy(&ip6h->daddr, fl->daddr, 16);
		ip6h->nexthdr = fl->proto;
		l4 = l3 + sizeof(*ip6h);
	}
	memcpy(f->data + l4, fl->l4, 4);
}

static __u32 run_verdict(struct bench *b, int fd, const struct xbt_frame *f,
			 __u32 *retval);

static __u32 run(struct bench *b, int fd, const struct xbt_frame *f)
{
	__u32 retval;

	return run_verdict(b, fd, f, &retval);
}

/* One run of --repeat packets: its duration, and the program's verdict. */
static __u32 run_verdict(struct bench *b, int fd, const struct xbt_frame *f,
			 __u32 *retval)
{
	struct xdp_md ctx = { .data_end = (__u32)f->len,
			      .ingress_ifindex = (__u32)b->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = f->data,
		    .data_size_in = (__u32)f->len,
		    .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx),
		    .repeat = b->repeat);

	if (bpf_prog_test_run_opts(fd, &opts))
		bench_die("BPF_PROG_TEST_RUN", errno);
	if (opts.retval == XDP_ABORTED)
		bench_die("bench program aborted", EINVAL);
	*retval = opts.retval;
	return opts.duration;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void set_state(struct bench *b, __u32 n_flows, __u32 target)
{
	struct bench_state st = { .n_flows = n_flows, .target = target };
	__u32 zero = 0;

	if (bpf_map_update_elem(b->state_fd, &zero, &st, BPF_ANY))
		bench_die("bench_state", errno);
}

/* Median over the trials, in ns per packet. */
static __u32 measure(struct bench *b, int fd, const struct xbt_frame *f)
{
	__u32 d[64], i, n = b->trials < 64 ? b->trials : 64;

	/* warm-up: caches, the flow cache, branch state */
	run(b, fd, f);
	for (i = 0; i < n; i++)
		d[i] = run(b, fd, f);
	qsort(d, n, sizeof(d[0]), cmp_u32);
	return d[n / 2];
}


/* Packets per reason, every row of xb_stats. */
static void reason_counts(struct bench *b, __u64 *out)
{
	int fd = bpf_map__fd(b->skel->maps.xb_stats);
	__u32 r;

	for (r = 0; r < XB_R_MAX; r++)
		out[r] = xbt_reason_packets(fd, r);
}

static void print_reasons(const char *fam, __u32 n, const __u64 *before,
			  const __u64 *after)
{
	__u64 total = 0;
	__u32 r;

	for (r = 0; r < XB_R_MAX; r++)
		total += after[r] - before[r];
	if (!total)
		return;
	printf("# miss %s N=%u reasons:", fam, n);
	for (r = 0; r < XB_R_MAX; r++)
		if (after[r] != before[r])
			printf(" %s %.1f%%", reason_names[r],
			       100.0 * (after[r] - before[r]) / total);
	printf("\n");
}

static void print_ns(const char *variant, const char *fam, __u32 n, __u32 ns)
{
	printf("classify,%s,%s,%u,%u,ns\n", variant, fam, n, ns);
}

/* First chunks found a flow, kept for walk_best_first(): more than any
 * realistic walk finds (2.3-4.1 at 100k policies). */
#define WALK_KEYS	64

/* The published maps read back, each entry looked up counted. */
/* The keys of the entries the walks found present, one per probe, to tell
 * the probes of keys many flows read (cached whatever the SPD's size) from
 * the others (hot_probes()). */
struct probe_log {
	struct xb_tss_key *keys;
	size_t n, cap;
};

static void probe_log_add(struct probe_log *l, const struct xb_tss_key *key)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->keys = realloc(l->keys, l->cap * sizeof(*l->keys));
		if (!l->keys)
			bench_die("probe log", ENOMEM);
	}
	l->keys[l->n++] = *key;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xb_tss_key));
}

/* Of the probes logged, those of keys that at least min_flows probes
 * read. Sorts the log. */
static size_t hot_probes(struct probe_log *l, size_t min_flows)
{
	size_t i = 0, j, hot = 0;

	qsort(l->keys, l->n, sizeof(*l->keys), key_cmp);
	while (i < l->n) {
		for (j = i + 1; j < l->n && !key_cmp(&l->keys[i], &l->keys[j]); j++)
			;
		if (j - i >= min_flows)
			hot += j - i;
		i = j;
	}
	return hot;
}

struct walk_count {
	struct xb_tss_source maps;
	const struct xb_flow *flow;
	int filter_fd;
	unsigned long looked_up, present, further_chunks, matching, filter_passed;
	unsigned long gated;
	/* This flow's first chunks found, and the best priority that
	 * matched: what a best-first walk would have had to look up
	 * (walk_best_first()). */
	struct xb_tss_key found_keys[WALK_KEYS];
	__u32 n_found_keys;
	__u32 best_priority;
	bool matched;
	unsigned long best_first;
	/* Every present entry found, and those a best-first walk needs. */
	struct probe_log present_log, needed_log;
};

/* Whether the datapath's presence filter lets key through (an absent key
 * that passes costs a hash lookup all the same). */
static bool filter_passes(int filter_fd, const struct xb_tss_key *key)
{
	__u64 big, pair, word;
	__u32 idx = xb_tss_filter_word(key, XB_TSS_CLASS_BIG, &big);

	xb_tss_filter_word(key, XB_TSS_CLASS_PAIR, &pair);
	return bpf_map_lookup_elem(filter_fd, &idx, &word) || xb_tss_filter_hit(word, big) ||
	       xb_tss_filter_hit(word, pair);
}

static int walk_get_entry(void *ctx, const struct xb_tss_key *key, struct xb_tss_val *val)
{
	struct walk_count *c = ctx;
	int err = c->maps.get_entry(c->maps.ctx, key, val);
	__u32 j;

	c->looked_up++;
	if (err == -ENOENT && !(key->list >> XB_TSS_CHUNK_SHIFT) &&
	    filter_passes(c->filter_fd, key))
		c->filter_passed++;
	if (err)
		return err;
	c->present++;
	probe_log_add(&c->present_log, key);
	if (key->list >> XB_TSS_CHUNK_SHIFT) {
		c->further_chunks++;
		c->best_first++;
		probe_log_add(&c->needed_log, key);
	} else if (c->n_found_keys < WALK_KEYS)
		c->found_keys[c->n_found_keys++] = *key;
	for (j = 0; j < val->count && j < XB_BUCKET_RULES; j++) {
		const struct xb_tss_rule *r = &val->rules[j];

		if (xb_tss_rule_matches(r, c->flow)) {
			c->matching++;
			if (!c->matched || r->priority < c->best_priority)
				c->best_priority = r->priority;
			c->matched = true;
			break;
		}
	}
	return 0;
}

static int walk_get_list(void *ctx, __u32 list_idx, struct xb_shape_list *list)
{
	struct walk_count *c = ctx;

	return c->maps.get_list(c->maps.ctx, list_idx, list);
}

/* A present key the priority gate spares: never looked up. */
static bool walk_gated(void *ctx, const struct xb_tss_key *key, __u32 priority)
{
	struct walk_count *c = ctx;
	bool gated = c->maps.gated && c->maps.gated(c->maps.ctx, key, priority);

	c->gated += gated;
	return gated;
}

static int walk_get_index(void *ctx, const struct xb_tss_idx_key *key,
			  struct xb_tss_idx_val *val)
{
	struct walk_count *c = ctx;

	return c->maps.get_index(c->maps.ctx, key, val);
}

/*
 * Of the first chunks the walk found for a flow, those whose priority gate
 * is no worse than the best policy the flow matched (plus the further
 * chunks, all counted): the probes a walk would need if it looked the
 * present keys up in the order of their gates instead of the tables' (a
 * probe that can beat or tie the best cannot be spared in any order). The
 * walk reads each key's filter word before it probes: the gates come at
 * the price of that word's neighbour in xb_tss_gate. A bound to weigh
 * such a walk by, not a walk.
 */
static void walk_best_first(struct walk_count *c)
{
	__u32 k;

	for (k = 0; k < c->n_found_keys; k++) {
		if (c->matched && c->maps.gated &&
		    c->maps.gated(c->maps.ctx, &c->found_keys[k], c->best_priority))
			continue;
		c->best_first++;
		probe_log_add(&c->needed_log, &c->found_keys[k]);
	}
}

/*
 * What the search does for a new flow, counted by the tested reader
 * (tests/lib/tss_reader.h) on the published maps, as the daemon publishes
 * them: the entries it looks up (a table, or a further chunk of a crowded
 * bucket, each; the datapath first skips most absent ones on its presence
 * bitmap), those present (each a hash lookup whose bucket and element the
 * datapath reads, out of the CPU caches at large sizes: what a miss costs
 * grows with them), the further chunks among them, and those that hold a
 * policy matching the flow in full; and the present keys the priority
 * gate spares (not looked up, not counted above: they cannot beat the
 * match the walk has).
 */
/*
 * The present entries split by how many of the flows read them: an entry
 * read by at least one flow in a hundred (every packet a new flow) is read
 * again before the CPU caches let it go, whatever the SPD's size; the
 * others are what a new flow pays in misses at large sizes, and what
 * grows from one policy to 100k. Counted for the walk in the tables'
 * order (present) and for the entries a best-first walk needs.
 */
static void print_hot_cold(struct walk_count *c, const char *fam, __u32 n, __u32 n_flows)
{
	size_t min_flows = n_flows / 100 > 2 ? n_flows / 100 : 2;
	size_t hot_present = hot_probes(&c->present_log, min_flows);
	size_t hot_needed = hot_probes(&c->needed_log, min_flows);

	printf("# %s N=%u walk, by how many flows read an entry: of the %.2f present, "
	       "%.2f of entries at least 1%% of the flows read (cached), %.2f of others; "
	       "of the %.2f a best-first walk needs, %.2f / %.2f\n", fam, n,
	       (double)c->present_log.n / n_flows, (double)hot_present / n_flows,
	       (double)(c->present_log.n - hot_present) / n_flows,
	       (double)c->needed_log.n / n_flows, (double)hot_needed / n_flows,
	       (double)(c->needed_log.n - hot_needed) / n_flows);
	free(c->present_log.keys);
	free(c->needed_log.keys);
}

static void print_walk(struct bench *b, const char *fam, __u32 n)
{
	struct xb_tss_maps maps = {
		.tss_fd = bpf_map__fd(b->skel->maps.xb_tss),
		.pair_fd = bpf_map__fd(b->skel->maps.xb_tss_pair),
		.lists_fd = bpf_map__fd(b->skel->maps.xb_shape_lists),
		.index_fd = bpf_map__fd(b->skel->maps.xb_tss_index),
		.filter = &b->filter,
	};
	static const __u8 accept_all[4];
	struct walk_count c = { .filter_fd = bpf_map__fd(b->skel->maps.xb_tss_filter) };
	struct xb_tss_source src = {
		.get_entry = walk_get_entry,
		.get_list = walk_get_list,
		.get_index = walk_get_index,
		.gated = walk_gated,
		.ctx = &c,
	};
	struct xb_ref_decision d;
	__u32 i;

	if (!b->n_walk)
		return;
	xb_tss_maps_source(&maps, &c.maps);
	for (i = 0; i < b->n_walk; i++) {
		c.flow = &b->walk_flows[i];
		c.n_found_keys = 0;
		c.matched = false;
		if (xb_tss_lookup(&src, XFRM_POLICY_FWD, c.flow, accept_all, &d))
			bench_die("xb_tss_lookup", EIO);
		walk_best_first(&c);
	}
	printf("# %s N=%u walk of a new flow (%u flows): %.1f entries looked up, "
	       "%.2f present, %.2f of them further chunks, %.2f with a policy "
	       "that matches in full; %.2f absent that the presence filter "
	       "passes; %.2f present that the priority gate spares\n", fam, n,
	       b->n_walk, (double)c.looked_up / b->n_walk, (double)c.present / b->n_walk,
	       (double)c.further_chunks / b->n_walk, (double)c.matching / b->n_walk,
	       (double)c.filter_passed / b->n_walk, (double)c.gated / b->n_walk);
	printf("# %s N=%u walk, best first: %.2f entries present with a gate no worse "
	       "than the flow's best match (of the %.2f the walk found)\n", fam, n,
	       (double)c.best_first / b->n_walk, (double)c.present / b->n_walk);
	print_hot_cold(&c, fam, n, b->n_walk);
}

/* The same measure, of the SPD of b and of its one-policy counterpart
 * b->one, trial by trial in turn: the median of the ratios of the
 * trials' misses, beside the medians of either. */
static void miss_ratio(struct bench *b, __u32 n, int af, __u32 nf,
		       const struct xbt_frame *tmpl)
{
	const char *fam = af == AF_INET ? "v4" : "v6";
	__u32 ns_one[64], ns_n[64], i, trials = b->trials < 64 ? b->trials : 64;
	struct bench *one = b->one;
	double ratio[64];

	publish(one, 1, af);
	set_state(one, make_flows(one, one->n_pols, af), SLOT_XDP);
	set_state(b, nf, SLOT_XDP);
	for (i = 0; i < trials; i++) {
		/* each after a warm-up run: the other SPD's run has just
		 * taken the caches */
		run(one, one->vary_fd, tmpl);
		ns_one[i] = run(one, one->vary_fd, tmpl);
		run(b, b->vary_fd, tmpl);
		ns_n[i] = run(b, b->vary_fd, tmpl);
		ratio[i] = (double)ns_n[i] / (ns_one[i] ? ns_one[i] : 1);
	}
	qsort(ratio, trials, sizeof(ratio[0]), cmp_double);
	qsort(ns_one, trials, sizeof(ns_one[0]), cmp_u32);
	qsort(ns_n, trials, sizeof(ns_n[0]), cmp_u32);
	printf("classify,miss_ratio,%s,%u,%.2f,x\n", fam, n, ratio[trials / 2]);
	printf("# %s N=%u: miss side by side with one policy's, %u alternating "
	       "trials: %u ns vs %u ns (medians), ratio median %.2f, range "
	       "%.2f-%.2f\n", fam, n, trials, ns_n[trials / 2],
	       ns_one[trials / 2], ratio[trials / 2], ratio[0], ratio[trials - 1]);
}

static void bench_family(struct bench *b, __u32 n, int af)
{
	const char *fam = af == AF_INET ? "v4" : "v6";
	__u64 before[XB_R_MAX], after[XB_R_MAX];
	struct xbt_frame tmpl, f0;
	__u32 nf, ns;

	build_frame(af, &tmpl);
	nf = make_flows(b, b->n_pols, af);
	if (nf < 2 * XB_FLOW_CACHE_ENTRIES)
		printf("# %s N=%u: only %u distinct flows: some \"misses\" "
		       "may hit\n", fam, n, nf);
	frame_with_flow(&tmpl, af, &b->flows[0], &f0);

	set_state(b, 1, SLOT_FLOOR);
	print_ns("floor", fam, n, measure(b, b->vary_fd, &tmpl));
	set_state(b, 1, SLOT_FLOOR_LOOKUP);
	print_ns("floor_lookup", fam, n, measure(b, b->vary_fd, &tmpl));
	set_state(b, 1, SLOT_FLOOR_FIB);
	print_ns("floor_fib", fam, n, measure(b, b->vary_fd, &tmpl));
	set_state(b, 1, SLOT_XDP);
	print_ns("hit", fam, n, measure(b, b->vary_fd, &tmpl));
	print_ns("floor_direct", fam, n, measure(b, b->floor_fd, &f0));
	print_ns("hit_direct", fam, n, measure(b, b->xdp_fd, &f0));

	set_state(b, nf, SLOT_XDP);
	reason_counts(b, before);
	ns = measure(b, b->vary_fd, &tmpl);
	reason_counts(b, after);
	print_ns("miss", fam, n, ns);
	print_reasons(fam, n, before, after);
	if (b->one && n > 1)
		miss_ratio(b, n, af, nf, &tmpl);
	/* the same lists through the candidate index where the daemon would
	 * search them table after table, for comparison */
	if (set_lists_indexed(b, true)) {
		set_state(b, nf, SLOT_XDP);
		print_ns("miss_indexed", fam, n, measure(b, b->vary_fd, &tmpl));
	}
	set_lists_indexed(b, false);
	print_walk(b, fam, n);
	fflush(stdout);
}

/* measure(), after a run that must end in verdict. */
static __u32 measure_verdict(struct bench *b, int fd, const struct xbt_frame *f,
			     __u32 verdict, const char *variant)
{
	__u32 retval;

	run_verdict(b, fd, f, &retval);
	if (retval != verdict)
		bench_die(variant, EINVAL);
	return measure(b, fd, f);
}

/* ESP from the LAN to this host's 192.0.2.1 with SPI spi. */
static void build_esp_frame(__u32 spi, struct xbt_frame *f)
{
	struct xbt_pkt_spec s = {
		.family = 4, .src = "192.0.2.7", .dst = "192.0.2.1",
		.l4 = XBT_L4_ESP, .spi = spi, .payload = 32,
	};

	if (!xbt_build(&s, f))
		bench_die("xbt_build", EINVAL);
}

/*
 * ESP to this host, one frame over and over, straight into xb_xdp (no
 * policy involved: N is 0 in the output). An SPI no SA has: with the
 * kernel's SA lookup (6.8+) every packet asks the kernel and nothing is
 * cached, since a cached drop could outlive an SA the mirror has not read
 * yet; with the mirror's check (before 6.8, here a second instance without
 * the lookup) the drop is cached once the daemon has read past the SPI's
 * first packet, so the runs are cache hits. A known SPI, cached, beside.
 */
static void bench_esp(struct bench *b)
{
	struct xb_spi_key k = { .spi = htonl(0x5000), .family = AF_INET,
				.proto = IPPROTO_ESP };
	struct xb_spi_val one = { .n_sas = 1 };
	struct xfrmbpf *with_lookup = b->skel;
	struct xbt_frame known, unknown;

	build_esp_frame(0x5000, &known);
	build_esp_frame(0x5001, &unknown);
	inet_pton(AF_INET, "192.0.2.1", &k.daddr);
	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.xb_spis), &k, &one, BPF_ANY))
		bench_die("xb_spis", errno);
	set_sync(b);
	print_ns("esp_known_direct", "v4", 0,
		 measure_verdict(b, b->xdp_fd, &known, XDP_PASS, "esp_known_direct"));
	if (b->skel->rodata->xb_kernel_sa_lookup)
		print_ns("esp_unknown_kernel_direct", "v4", 0,
			 measure_verdict(b, b->xdp_fd, &unknown, XDP_DROP,
					 "esp_unknown_kernel_direct"));
	else
		printf("# esp_unknown_kernel_direct: this kernel has no "
		       "bpf_xdp_get_xfrm_state()\n");
	xbt_kernel_sa_lookup = false;
	b->skel = xbt_skel_load_sized(NULL, 0, 0, b->max_policies);
	xbt_kernel_sa_lookup = true;
	if (!b->skel)
		bench_die("load xfrmbpf without the kernel's SA lookup", errno);
	set_sync(b);
	set_iface(b);
	print_ns("esp_unknown_mirror_direct", "v4", 0,
		 measure_verdict(b, bpf_program__fd(b->skel->progs.xb_xdp), &unknown,
				 XDP_DROP, "esp_unknown_mirror_direct"));
	xfrmbpf__destroy(b->skel);
	b->skel = with_lookup;
	bpf_map_delete_elem(bpf_map__fd(b->skel->maps.xb_spis), &k);
	fflush(stdout);
}

/* The buffers of a bench of SPDs of up to max_n policies. */
static void bench_alloc(struct bench *b, __u32 max_n)
{
	b->pols = calloc(max_n ? max_n : 1, sizeof(*b->pols));
	b->perm = calloc(max_n ? max_n : 1, sizeof(*b->perm));
	b->flows = calloc(MAX_FLOWS, sizeof(*b->flows));
	b->walk_flows = calloc(WALK_FLOWS, sizeof(*b->walk_flows));
	b->seen = calloc(1, sizeof(__u64) << SEEN_BITS);
	if (!b->pols || !b->perm || !b->flows || !b->walk_flows || !b->seen)
		bench_die("calloc", ENOMEM);
}

/* Its datapath, bench program and buffers: what load_datapath(),
 * load_bench() and bench_alloc() made. */
static void bench_release(struct bench *b)
{
	xb_tss_filter_unmap(&b->filter);
	bpf_object__close(b->obj);
	xfrmbpf__destroy(b->skel);
	free(b->pols);
	free(b->perm);
	free(b->flows);
	free(b->walk_flows);
	free(b->seen);
}

/* b->one: a datapath and a bench program of their own, maps of the same
 * size as b's, for miss_ratio(). */
static void bench_one_new(struct bench *b, const char *obj)
{
	struct bench *one = calloc(1, sizeof(*one));

	if (!one)
		bench_die("calloc", ENOMEM);
	one->repeat = b->repeat;
	one->trials = b->trials;
	one->profile = b->profile;
	one->ifindex = b->ifindex;
	one->max_policies = b->max_policies;
	one->quiet = true;
	bench_alloc(one, 1);
	load_datapath(one);
	load_bench(one, obj);
	set_iface(one);
	b->one = one;
}

static void usage(const char *prog)
{
	fprintf(stderr, "Usage: %s [-r REPEAT] [-t TRIALS] [-n MAX_N] "
		"[-c CAPACITY] [-p acl|fw|ipc] [-a rule|reverse|shuffled] [-d] "
		"[-o BENCH_BPF_OBJ]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	static const __u32 sizes[] = { 1, 100, 1000, 10000, 100000, 1000000 };
	struct bench b = { .repeat = 200000, .trials = 5, .profile = -1 };
	char obj[PATH_MAX], self[PATH_MAX];
	__u32 max_n = 100000, capacity = XB_MAX_POLICIES;
	size_t i;
	int opt;

	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(obj, sizeof(obj), "%s/bench.bpf.o", dirname(self));
	while ((opt = getopt(argc, argv, "r:t:n:c:o:p:a:dh")) != -1) {
		switch (opt) {
		case 'r':
			b.repeat = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			b.trials = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			max_n = (__u32)strtoul(optarg, NULL, 0);
			break;
		case 'c':
			capacity = (__u32)strtoul(optarg, NULL, 0);
			break;
		case 'o':
			snprintf(obj, sizeof(obj), "%s", optarg);
			break;
		case 'p':
			b.profile = xb_rs_profile_parse(optarg);
			if (b.profile < 0)
				usage(argv[0]);
			break;
		case 'd':
			b.doc_only = true;
			break;
		case 'a':
			for (i = 0; i < sizeof(order_names) / sizeof(order_names[0]); i++)
				if (!strcmp(optarg, order_names[i]))
					break;
			if (i == sizeof(order_names) / sizeof(order_names[0]))
				usage(argv[0]);
			b.order = (enum build_order)i;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!b.repeat || !b.trials)
		usage(argv[0]);
	libbpf_set_print(NULL);
	bench_alloc(&b, max_n);
	make_net(&b);
	b.max_policies = max_n > capacity ? max_n : capacity;
	load_datapath(&b);
	load_bench(&b, obj);
	set_iface(&b);
	if (max_n > 1)
		bench_one_new(&b, obj);
	printf("# classify: repeat=%u trials=%u (median), ns per packet; built in %s order\n",
	       b.repeat, b.trials, order_names[b.order]);
	bench_esp(&b);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] > max_n)
			break;
		publish(&b, sizes[i], AF_INET);
		bench_family(&b, sizes[i], AF_INET);
		/* a rule set is of one family: the other's of the same size */
		if (b.profile >= 0)
			publish(&b, sizes[i], AF_INET6);
		bench_family(&b, sizes[i], AF_INET6);
	}
	if (b.one) {
		bench_release(b.one);
		free(b.one);
	}
	bench_release(&b);
	return 0;
}
