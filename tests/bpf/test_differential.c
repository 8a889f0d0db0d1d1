// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Randomized differential test of the real datapath: random SPDs
 * (tests/lib/spd_gen.c) published by the TSS builder (user/classifier/tss.c) into the
 * loaded skeleton's maps, random packets run through xb_xdp with
 * BPF_PROG_TEST_RUN, and verdict, reason and deciding policy compared with
 * the reference classifier (tests/lib/classify_ref.c) for the direction the
 * packet takes in the test's network namespace. XB_SEED replays a run.
 *
 * The namespace (private, it dies with the process) routes as the
 * fixture tests' (tests/lib/fixture.h) does, plus a route for the rest
 * of the generator's v6 pool, so that every generated destination has
 * a known direction:
 *	xbt-df0 (veth, ingress)	192.0.2.1/24, 2001:db8:1::1/64
 *	xbt-df2 (veth)		198.51.100.1/24, 2001:db8:2::1/64
 *	203.0.113.0/24, 2001:db8:3::/64, 2001:db8::/48 and the default
 *	routes via the peer of xbt-df2 (permanent neighbours), forwarding on.
 * The four addresses above are local (IN); every other unicast address
 * of the pools is forwarded (FWD). Subnet and broadcast addresses of the
 * connected subnets are avoided (their routes are neither).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <linux/xfrm.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xfrmbpf.skel.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf/sync.h"
#include "bpf_harness.h"
#include "classify_ref.h"
#include "lib/pktbuild.h"
#include "spd_gen.h"
#include "ruleset_gen.h"
#include "classifier/tss.h"
#include "tss_reader.h"
#include "tss_sink_maps.h"

#define N_SPDS		1000	/* or XB_DIFF_SPDS */
#define N_PKTS		32	/* per SPD */
#define MAX_POLS	200	/* policies of many shapes per list */
/* Realistic rule sets (ruleset_gen.h): policies per profile and family. */
#define REAL_POLS	10000	/* at most; or XB_DIFF_REAL_POLS */
#define REAL_PKTS	1500
/* Per-policy counters the checks follow. */
#define SEEN_POLS	REAL_POLS
#define MAX_CPUS	4096
#define SHOW_MAX	3	/* mismatches printed in full */

static struct xfrmbpf *skel;
static int if_in;
/* xb_stats row of xbt-df0 */
#define IF_IN_SLOT	0
static const char *skip_why;
static uint64_t generation;

/* ---- environment ---- */

static const char *const net_setup[] = {
	"ip link set lo up",
	"/proc/sys/net/ipv4/ip_forward",
	"/proc/sys/net/ipv6/conf/all/forwarding",
	"ip link add xbt-df0 type veth peer name xbt-df1",
	"ip link add xbt-df2 type veth peer name xbt-df3",
	"ip link set xbt-df0 address 02:00:00:00:00:01",
	"ip link set xbt-df0 up",
	"ip link set xbt-df1 up",
	"ip link set xbt-df2 up",
	"ip link set xbt-df3 up",
	"ip addr add 192.0.2.1/24 dev xbt-df0",
	"ip addr add 2001:db8:1::1/64 dev xbt-df0 nodad",
	"ip addr add 198.51.100.1/24 dev xbt-df2",
	"ip addr add 2001:db8:2::1/64 dev xbt-df2 nodad",
	"ip route add 203.0.113.0/24 via 198.51.100.2",
	"ip -6 route add 2001:db8:3::/64 via 2001:db8:2::2",
	"ip -6 route add 2001:db8::/48 via 2001:db8:2::2",
	/* /8 and /16 selectors reach beyond the pools: routed too */
	"ip route add default via 198.51.100.2",
	"ip -6 route add default via 2001:db8:2::2",
	"ip neigh replace 198.51.100.2 lladdr 02:00:00:00:00:22 "
		"dev xbt-df2 nud permanent",
	"ip -6 neigh replace 2001:db8:2::2 lladdr 02:00:00:00:00:22 "
		"dev xbt-df2 nud permanent",
};

static int make_net(void)
{
	if (xbt_net_enter(net_setup, sizeof(net_setup) / sizeof(net_setup[0]),
			  &skip_why))
		return -1;
	if_in = (int)if_nametoindex("xbt-df0");
	if (!if_in)
		skip_why = "no xbt-df0";
	return if_in ? 0 : -1;
}

static int load_skel(void)
{
	skel = xbt_skel_load(NULL, 0, 0);
	if (!skel)
		return -1;
	return 0;
}

/* ---- map state ---- */

/* A new generation per SPD: flows cached for the last SPD never count. */
static void set_sync(const __u8 dflt[4])
{
	struct xb_sync s = {};
	uint32_t zero = 0;

	generation++;
	s.seq = generation * 2;
	s.generation = generation;
	s.synced = 1;
	s.heartbeat_timeout_ns = 600000000000ULL;
	s.heartbeat_ns = xbt_now_ns();
	memcpy(s.default_action, dflt, sizeof(s.default_action));
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.xb_sync),
					     &zero, &s, BPF_ANY), 0);
}

static void set_iface(void)
{
	struct xb_iface_cfg cfg = { .flags = XB_IF_XDP, .mtu = 1500,
				    .stats_slot = IF_IN_SLOT };
	uint32_t key = (uint32_t)if_in;

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.xb_ifaces),
					     &key, &cfg, BPF_ANY), 0);
}

static struct xb_tss_maps skel_maps(void)
{
	struct xb_tss_maps m = {
		.tss_fd = bpf_map__fd(skel->maps.xb_tss),
		.pair_fd = bpf_map__fd(skel->maps.xb_tss_pair),
		.lists_fd = bpf_map__fd(skel->maps.xb_shape_lists),
		.index_fd = bpf_map__fd(skel->maps.xb_tss_index),
		.filter = xbt_skel_filter(skel),
	};

	assert_non_null(m.filter);
	return m;
}

/* Lists of more than this many tables are indexed in the runs that check
 * the candidate index. */
#define INDEX_MIN_TEST	8

/* Clears the maps and publishes the SPD through the real builder, with
 * the candidate index on lists of more than index_min tables. Not in one
 * flush: a third of the policies go and come back in two more, so that
 * buckets move between xb_tss and xb_tss_pair (three policies and two)
 * and keys leave stale filter bits, as a daemon's changes do. */
static void publish(const struct xb_policy *pols, size_t n, __u32 index_min)
{
	struct xb_tss_maps maps = skel_maps();
	struct xb_tss_sink sink;
	struct xb_tss *tss;
	size_t i;

	tss = xb_tss_new(XB_MAX_POLICIES);
	assert_non_null(tss);
	xb_tss_set_index_min(tss, index_min);
	assert_int_equal(xb_tss_maps_clear(&maps), 0);
	xb_tss_maps_sink(&maps, &sink);
	for (i = 0; i < n; i++)
		assert_int_equal(xb_tss_add(tss, &pols[i]), 0);
	assert_int_equal(xb_tss_flush(tss, &sink), 0);
	for (i = 1; i < n; i += 3)
		assert_int_equal(xb_tss_del(tss, pols[i].id), 0);
	assert_int_equal(xb_tss_flush(tss, &sink), 0);
	for (i = 1; i < n; i += 3)
		assert_int_equal(xb_tss_add(tss, &pols[i]), 0);
	assert_int_equal(xb_tss_flush(tss, &sink), 0);
	assert_int_equal(xb_tss_filter_maintain(maps.filter, maps.tss_fd, maps.pair_fd), 0);
	xb_tss_free(tss);
}

/* ---- counters ---- */

/* Every run is on xbt-df0, so its row of xb_stats holds every count:
 * one lookup per check, as the test reads counters per packet. */
static uint64_t reason_count(int reason)
{
	return xbt_percpu_packets(bpf_map__fd(skel->maps.xb_stats),
				  XB_STATS_KEY(IF_IN_SLOT, (uint32_t)reason));
}

static uint64_t policy_count(uint32_t id)
{
	return xbt_percpu_packets(bpf_map__fd(skel->maps.xb_policy_stats), id);
}

/* Reason and policy counters as last seen: one run moves one reason and
 * at most one policy, so only the expected ones are read per packet and
 * the rest only to explain a mismatch. */
static uint64_t seen_reason[XB_R_MAX];
static uint64_t seen_policy[SEEN_POLS];

static void snap_all(void)
{
	int r;

	for (r = 0; r < XB_R_MAX; r++)
		seen_reason[r] = reason_count(r);
	for (r = 0; r < SEEN_POLS; r++)
		seen_policy[r] = policy_count((uint32_t)r);
}

/* What the run counted: its reason and policy (NO_POLICY if none). */
static void find_counted(int *reason, uint32_t *policy)
{
	int r;

	*reason = -1;
	*policy = XB_NO_POLICY;
	for (r = 0; r < XB_R_MAX; r++)
		if (reason_count(r) != seen_reason[r])
			*reason = r;
	for (r = 0; r < SEEN_POLS; r++)
		if (policy_count((uint32_t)r) != seen_policy[r])
			*policy = (uint32_t)r;
}

/* ---- packets ---- */

static bool is_local(const struct xb_flow *fl)
{
	const __u8 *b = fl->daddr.b;
	static const __u8 l6[2][16] = {
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1 },
	};

	if (fl->family == AF_INET)
		return b[3] == 1 && ((b[0] == 192 && b[1] == 0 && b[2] == 2) ||
				     (b[0] == 198 && b[1] == 51 && b[2] == 100));
	return !memcmp(b, l6[0], 16) || !memcmp(b, l6[1], 16);
}

static void set_local(struct xb_rng *rng, struct xb_flow *fl)
{
	static const __u8 l4[2][4] = { { 192, 0, 2, 1 }, { 198, 51, 100, 1 } };
	unsigned int k = xb_rng_below(rng, 2);

	memset(&fl->daddr, 0, sizeof(fl->daddr));
	if (fl->family == AF_INET) {
		memcpy(fl->daddr.b, l4[k], 4);
		return;
	}
	fl->daddr.b[0] = 0x20;
	fl->daddr.b[1] = 0x01;
	fl->daddr.b[2] = 0x0d;
	fl->daddr.b[3] = 0xb8;
	fl->daddr.b[5] = (__u8)(k + 1);
	fl->daddr.b[15] = 1;
}

/* Subnet (v6: subnet-router anycast) and broadcast addresses of the
 * connected subnets are not plain unicast: moved to host 2. */
static void avoid_special(struct xb_flow *fl)
{
	__u8 *b = fl->daddr.b;
	static const __u8 zero[8];

	if (fl->family == AF_INET) {
		if (!(b[0] == 203 && b[1] == 0 && b[2] == 113) &&
		    (b[3] == 0 || b[3] == 255))
			b[3] = 2;
		return;
	}
	if (!memcmp(b + 8, zero, 8))
		b[15] = 2;
}

/*
 * A random flow for the SPD and the direction it takes here. A quarter
 * are sent to a local address, so that IN is as well covered as FWD. ESP
 * for this host is an SPI lookup, not a policy check: it is forwarded.
 */
static __u8 gen_packet(struct xb_rng *rng, const struct xb_policy *pols,
		       size_t n, bool realistic, struct xb_flow *fl)
{
	if (realistic)
		xb_rs_flow(rng, pols, n, fl);
	else
		xb_spd_gen_flow(rng, pols, n, fl);
	if (xb_rng_pct(rng, 25))
		set_local(rng, fl);
	avoid_special(fl);
	if (fl->proto == IPPROTO_ESP && is_local(fl))
		fl->daddr.b[fl->family == AF_INET ? 3 : 15] = 7;
	return is_local(fl) ? XFRM_POLICY_IN : XFRM_POLICY_FWD;
}

static void build_frame(const struct xb_flow *fl, struct xbt_frame *f)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	struct xbt_pkt_spec spec = {
		.family = fl->family == AF_INET ? 4 : 6,
		.src = s,
		.dst = d,
		.sport = ntohs(fl->sport),
		.dport = ntohs(fl->dport),
	};

	inet_ntop(fl->family, fl->saddr.b, s, sizeof(s));
	inet_ntop(fl->family, fl->daddr.b, d, sizeof(d));
	switch (fl->proto) {
	case IPPROTO_TCP:
		spec.l4 = XBT_L4_TCP;
		break;
	case IPPROTO_UDP:
		spec.l4 = XBT_L4_UDP;
		break;
	case IPPROTO_SCTP:
		spec.l4 = XBT_L4_SCTP;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		spec.l4 = XBT_L4_ICMP;
		break;
	case IPPROTO_ESP:
		spec.l4 = XBT_L4_ESP;
		spec.spi = 0x1000;
		break;
	case IPPROTO_GRE:
		/* keyless, as the generator's GRE flows are */
		spec.l4 = XBT_L4_GRE;
		break;
	default:
		spec.l4 = XBT_L4_NONE;
		spec.proto = fl->proto;
		spec.payload = 8;
		break;
	}
	assert_true(xbt_build(&spec, f) > 0);
}

static int run_xdp(const struct xbt_frame *f, uint32_t *retval)
{
	return xbt_run_xdp(skel, f, if_in, retval);
}

/* ---- comparison ---- */

struct stats {
	unsigned long spds, policies, packets, runs;
	unsigned long dir[3];
	unsigned long decided[XB_R_MAX];
	unsigned long overflow_pass;
	unsigned long parser_pass;	/* runs left to the kernel by design */
	unsigned long mismatches;
};

static void dump_mismatch(unsigned int spd, const struct xb_policy *pols,
			  size_t n, const __u8 dflt[4], __u8 dir,
			  const struct xb_flow *fl, const struct xb_ref_decision *r,
			  uint32_t verdict, int reason, uint32_t policy)
{
	char s[64], d[64];
	size_t i;

	inet_ntop(fl->family, fl->saddr.b, s, sizeof(s));
	inet_ntop(fl->family, fl->daddr.b, d, sizeof(d));
	printf("# MISMATCH spd %u %s: %s -> %s proto %u sport %u dport %u: "
	       "ref reason %u policy %d, datapath verdict %u reason %d "
	       "policy %d; defaults in %u fwd %u; %zu policies:\n", spd,
	       dir == XFRM_POLICY_IN ? "in" : "fwd", s, d, fl->proto,
	       ntohs(fl->sport), ntohs(fl->dport), r->reason,
	       (int)r->policy_id, verdict, reason, (int)policy, dflt[0],
	       dflt[2], n);
	for (i = 0; i < n; i++)
		xb_spd_dump_policy(&pols[i]);
}

/*
 * One run of the packet, checked against the reference r; lookup is the
 * builder's own view of the published maps (for the overflow flag: an
 * overflowed or offload-tainted list passes to the kernel by design).
 */
static bool run_one(const struct xbt_frame *f, const struct xb_flow *fl,
		    const struct xb_ref_decision *r,
		    const struct xb_ref_decision *lookup, uint32_t *verdict,
		    int *reason, uint32_t *policy, struct stats *st)
{
	struct xb_ref_decision want = *r;
	uint32_t retval;

	if (r->reason != lookup->reason && lookup->overflow &&
	    lookup->reason == XB_R_PASS_UNDECIDABLE) {
		want = *lookup;
		st->overflow_pass++;
	}
	/* GRE over IPv6: kernels differ on decoding its key (parse.bpf.h),
	 * the datapath leaves it to the kernel whatever the SPD says */
	if (fl->proto == IPPROTO_GRE && fl->family == AF_INET6) {
		want.reason = XB_R_PASS_UNDECIDABLE;
		want.policy_id = XB_NO_POLICY;
		st->parser_pass++;
	}
	assert_int_equal(run_xdp(f, &retval), 0);
	st->runs++;
	*verdict = retval;
	*reason = want.reason;
	*policy = want.policy_id;
	if (retval != (xb_reason_drops(want.reason) ? XDP_DROP : XDP_PASS) ||
	    reason_count(want.reason) != seen_reason[want.reason] + 1)
		goto bad;
	if (want.policy_id != XB_NO_POLICY &&
	    policy_count(want.policy_id) != seen_policy[want.policy_id] + 1)
		goto bad;
	seen_reason[want.reason]++;
	if (want.policy_id != XB_NO_POLICY)
		seen_policy[want.policy_id]++;
	st->decided[want.reason]++;
	return true;
bad:
	find_counted(reason, policy);
	snap_all();
	return false;
}

static void random_defaults(struct xb_rng *rng, __u8 dflt[4])
{
	int i;

	for (i = 0; i < 4; i++)
		dflt[i] = xb_rng_pct(rng, 30) ? XB_DEFAULT_BLOCK :
						XB_DEFAULT_ACCEPT;
}

/* One SPD: publish, then every packet twice (classifier, then the flow
 * cache the first run filled). */
static void run_packets(struct xb_rng *rng, unsigned int spd,
			const struct xb_policy *pols, size_t n,
			const __u8 dflt[4], unsigned int n_pkts,
			bool realistic, struct stats *st);

static void run_spd(struct xb_rng *rng, unsigned int spd,
		    struct xb_policy *pols, struct stats *st)
{
	struct xb_spd_cfg cfg;
	__u8 dflt[4];
	size_t n;

	xb_spd_cfg_random(rng, MAX_POLS, &cfg);
	n = xb_spd_gen(rng, &cfg, pols, MAX_POLS);
	random_defaults(rng, dflt);
	run_packets(rng, spd, pols, n, dflt, N_PKTS, false, st);
}

/* Publishes pols and sends n_pkts packets, each twice (classifier, then
 * the flow cache the first run filled), against the reference. */
static void run_packets(struct xb_rng *rng, unsigned int spd,
			const struct xb_policy *pols, size_t n,
			const __u8 dflt[4], unsigned int n_pkts,
			bool realistic, struct stats *st)
{
	struct xb_tss_maps maps = skel_maps();
	struct xb_tss_source src;
	struct xb_ref_decision r, t;
	struct xbt_frame f;
	struct xb_flow fl;
	uint32_t verdict, policy;
	unsigned int k, pass;
	__u8 dir;
	int reason;

	/* realistic sets and every other random one through the candidate
	 * index (lists of more than a few tables), the rest as the daemon
	 * publishes them by default */
	publish(pols, n, realistic || (spd & 1) ? INDEX_MIN_TEST : XB_IDX_MIN_TABLES);
	set_sync(dflt);
	xb_tss_maps_source(&maps, &src);
	st->spds++;
	st->policies += n;
	for (k = 0; k < n_pkts; k++) {
		dir = gen_packet(rng, pols, n, realistic, &fl);
		xb_ref_classify_input(pols, n, dir, &fl, dflt, &r);
		assert_int_equal(xb_tss_lookup(&src, dir, &fl, dflt, &t), 0);
		build_frame(&fl, &f);
		st->packets++;
		st->dir[dir]++;
		for (pass = 0; pass < 2; pass++) {
			if (run_one(&f, &fl, &r, &t, &verdict, &reason, &policy, st))
				continue;
			if (st->mismatches++ < SHOW_MAX)
				dump_mismatch(spd, pols, n, dflt, dir, &fl, &r,
					      verdict, reason, policy);
		}
	}
}

/* A size of the test: the environment's NAME, clamped to [lo, hi], or
 * dflt. The kernel lab's smoke runs fewer (tests/vm/smoke.sh). */
static unsigned long test_size(const char *name, unsigned long dflt,
			       unsigned long lo, unsigned long hi)
{
	const char *env = getenv(name);
	unsigned long n = env ? strtoul(env, NULL, 10) : dflt;

	return n < lo ? lo : n > hi ? hi : n;
}

static void test_random_datapath(void **state)
{
	static struct xb_policy pols[MAX_POLS];
	/* at least 100: every outcome still occurs */
	unsigned long n_spds = test_size("XB_DIFF_SPDS", N_SPDS, 100, ~0UL);
	struct stats st = { 0 };
	struct timespec t0, t1;
	struct xb_rng rng;
	unsigned int spd;

	(void)state;
	xb_rng_seed(&rng, xb_test_seed("datapath_differential"));
	set_iface();
	snap_all();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (spd = 0; spd < n_spds; spd++)
		run_spd(&rng, spd, pols, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# datapath_differential: %lu SPDs (%lu policies), %lu packets "
	       "(in %lu, fwd %lu), %lu runs, %lu mismatches, %lu overflow "
	       "passes, %lu v6 gre passes; allow %lu block %lu requires %lu default_block %lu "
	       "no_policy %lu undecidable %lu; %.1f s\n", st.spds, st.policies,
	       st.packets, st.dir[XFRM_POLICY_IN], st.dir[XFRM_POLICY_FWD],
	       st.runs, st.mismatches, st.overflow_pass, st.parser_pass,
	       st.decided[XB_R_PASS_POLICY_ALLOW],
	       st.decided[XB_R_DROP_POLICY_BLOCK],
	       st.decided[XB_R_DROP_REQUIRES_IPSEC],
	       st.decided[XB_R_DROP_DEFAULT_BLOCK],
	       st.decided[XB_R_PASS_NO_POLICY],
	       st.decided[XB_R_PASS_UNDECIDABLE],
	       (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	assert_int_equal(st.mismatches, 0);
	/* the test has teeth: every outcome occurred, both directions (at
	 * 1000 SPDs: 7-8k IN, 2-27k of each outcome) */
	assert_true(st.dir[XFRM_POLICY_IN] > n_spds);
	assert_true(st.dir[XFRM_POLICY_FWD] > n_spds);
	assert_true(st.decided[XB_R_PASS_POLICY_ALLOW] > n_spds / 10);
	assert_true(st.decided[XB_R_DROP_POLICY_BLOCK] > n_spds / 10);
	assert_true(st.decided[XB_R_DROP_REQUIRES_IPSEC] > n_spds / 10);
	assert_true(st.decided[XB_R_DROP_DEFAULT_BLOCK] > n_spds / 10);
	assert_true(st.decided[XB_R_PASS_NO_POLICY] > n_spds / 10);
	assert_true(st.decided[XB_R_PASS_UNDECIDABLE] > n_spds / 10);
}

/* Realistic rule sets, every profile and family: the datapath against
 * the reference, packets mostly inside the rules. */
static void test_realistic_datapath(void **state)
{
	static const int families[] = { AF_INET, AF_INET6 };
	static const __u8 accept_all[4];
	unsigned long n_pols = test_size("XB_DIFF_REAL_POLS", REAL_POLS, 1000,
					 REAL_POLS);
	struct xb_policy *pols = calloc(n_pols, sizeof(*pols));
	struct xb_rng rng;
	unsigned int prof, fam;

	(void)state;
	assert_non_null(pols);
	xb_rng_seed(&rng, xb_test_seed("realistic_datapath"));
	set_iface();
	for (prof = 0; prof < XB_RS_PROFILES; prof++) {
		for (fam = 0; fam < 2; fam++) {
			struct xb_rs_cfg cfg = { prof, families[fam], (unsigned int)n_pols,
						 XFRM_POLICY_FWD, false };
			struct stats st = { 0 };
			size_t n = xb_rs_gen(&rng, &cfg, pols, n_pols);

			snap_all();
			run_packets(&rng, prof, pols, n, accept_all, REAL_PKTS,
				    true, &st);
			printf("# realistic %s inet%s: %zu policies, %lu runs, %lu "
			       "mismatches, %lu undecided (structure), %lu v6 gre; "
			       "allow %lu block %lu no_policy %lu undecidable %lu\n",
			       xb_rs_profile_name(prof), fam ? "6" : "", n,
			       st.runs, st.mismatches, st.overflow_pass,
			       st.parser_pass, st.decided[XB_R_PASS_POLICY_ALLOW],
			       st.decided[XB_R_DROP_POLICY_BLOCK],
			       st.decided[XB_R_PASS_NO_POLICY],
			       st.decided[XB_R_PASS_UNDECIDABLE]);
			assert_int_equal(st.mismatches, 0);
			/* nearly every packet decided (a seed may give a list
			 * whose walk runs out of steps: it passes, visibly) */
			assert_true(st.overflow_pass * 50 <= st.runs);
			/* decided by policies (one may take them all: flows
			 * favour the first rules) */
			assert_true(st.decided[XB_R_DROP_POLICY_BLOCK] +
				    st.decided[XB_R_PASS_POLICY_ALLOW] > 100);
		}
	}
	free(pols);
}

static int group_teardown(void **state)
{
	(void)state;
	xfrmbpf__destroy(skel);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_datapath),
		cmocka_unit_test(test_realistic_datapath),
	};

	/* cmocka reports a skip as "not ok": print the runner's form */
	if (make_net() || load_skel()) {
		if (!skip_why) {
			printf("not ok - load the datapath object\n");
			return 1;
		}
		printf("ok - datapath differential # SKIP %s\n", skip_why);
		return 0;
	}
	return cmocka_run_group_tests_name("bpf_differential", tests, NULL,
					   group_teardown);
}
