// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Fixture-packet tests of the datapath: each fixture is {description,
 * packet, SPD/SAD/sync state, expected verdict, reason, policy}, run
 * through BPF_PROG_TEST_RUN on the real programs of bpf/xfrmbpf.bpf.c.
 * The table runs twice: with the classifier filled directly
 * (tests/lib/tss_fill.c, the datapath's semantics alone) and published by
 * the TSS builder (user/classifier/tss.c through tests/lib/tss_sink_maps.c).
 *
 * What BPF_PROG_TEST_RUN needs here (worked out on 6.18, all of it
 * available since 5.15, so also on the lab's 6.1):
 *  - bpf_fib_lookup() needs real devices: the test unshares a private
 *    network namespace (it dies with the process: nothing to clean up)
 *    and builds there
 *      xbt-fx0 (veth, ingress, MAC 02:00:00:00:00:01)
 *              192.0.2.1/24, 2001:db8:1::1/64
 *      xbt-fx2 (veth) 198.51.100.1/24, 2001:db8:2::1/64
 *              203.0.113.0/24 via 198.51.100.2, 2001:db8:3::/64 via
 *              2001:db8:2::2 (permanent neighbours), forwarding on
 *      xbt-tun (TUN, L3: ARPHRD_NONE like an xfrm interface), MTU 1400
 *  - XDP runs pass struct xdp_md with ingress_ifindex = xbt-fx0 as
 *    ctx_in (any device of the caller's netns works: the core registers
 *    every rx queue's xdp_rxq); TC runs pass struct __sk_buff with
 *    ifindex = xbt-fx0, and eth_type_trans() then sets pkt_type from the
 *    destination MAC (hence the MAC above).
 *  - Frames shorter than an Ethernet header are refused (-EINVAL).
 *  - A TC test run returns TC_ACT_REDIRECT but redirects nothing; the
 *    redirect into an L3 device is shown on real devices instead
 *    (test_steer_redirect_real: TC attached to xbt-fx0, frame sent from
 *    its peer, bare IP packet read from the TUN fd).
 * Maps are not pinned (pin paths cleared before load). Verifier
 * statistics of each program are printed as TAP comments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/pkt_cls.h>
#include <linux/xfrm.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "xfrmbpf.skel.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf/sad.h"
#include "xfrmbpf/sync.h"
#include "bpf_harness.h"
#include "lib/pktbuild.h"
#include "loader/stats.h"
#include "classifier/tss.h"
#include "tss_fill.h"
#include "tss_sink_maps.h"

#define NO_POL		XB_NO_POLICY
#define TUN_MTU		1400
#define STEER_IF_ID	7
#define NODEV_IF_ID	9
/* Per-CPU map values are read into static arrays of this many entries: a
 * failed assertion longjmps out of the test, so no buffer of a test may
 * need a free(). */
#define MAX_CPUS	4096

/* Fixture state switches. */
enum {
	ST_UNSYNCED	= 1 << 0,	/* synced = 0 */
	ST_STALE	= 1 << 1,	/* the watchdog found the heartbeat stale */
	ST_ODD_SEQ	= 1 << 2,	/* publication under way */
	ST_DEF_BLOCK_IN	= 1 << 3,
	ST_DEF_BLOCK_FWD = 1 << 4,
	ST_DISABLE4	= 1 << 5,	/* disable_policy on the ingress */
	ST_DISABLE6	= 1 << 6,
	ST_NO_IFACE	= 1 << 7,	/* ingress not in xb_ifaces */
	ST_OVERFLOW	= 1 << 8,	/* IN main v4 list overflowed */
};

struct xbt_sa {
	const char *daddr;	/* NULL ends a list */
	uint32_t spi;
	uint8_t proto;
};

struct fixture {
	const char *name;
	struct xbt_pkt_spec pkt;
	const struct xbt_policy *pols;
	const struct xbt_sa *sas;
	unsigned int state;
	int verdict;		/* XDP_PASS / XDP_DROP */
	int reason;
	uint32_t policy;	/* counted policy, NO_POL for none */
};

static struct xfrmbpf *skel;
static int if_in, if_tun;
static const char *skip_why;
static uint64_t generation;
/* xb_stats row of the ingress device: not 0, to see it used */
#define IF_IN_SLOT	5

/* ---- environment ---- */

/* A setup step: a command, or a sysctl file (under /proc/sys) set to 1,
 * written directly so that the lab VM needs no procps. */
static const char *const net_setup[] = {
	"ip link set lo up",
	"/proc/sys/net/ipv4/ip_forward",
	"/proc/sys/net/ipv6/conf/all/forwarding",
	"ip link add xbt-fx0 type veth peer name xbt-fx1",
	"ip link add xbt-fx2 type veth peer name xbt-fx3",
	/* the destination MAC of the test frames (pktbuild.c): PACKET_HOST */
	"ip link set xbt-fx0 address 02:00:00:00:00:01",
	"ip link set xbt-fx0 up",
	"ip link set xbt-fx1 up",
	"ip link set xbt-fx2 up",
	"ip link set xbt-fx3 up",
	"ip addr add 192.0.2.1/24 dev xbt-fx0",
	"ip addr add 2001:db8:1::1/64 dev xbt-fx0 nodad",
	"ip addr add 198.51.100.1/24 dev xbt-fx2",
	"ip addr add 2001:db8:2::1/64 dev xbt-fx2 nodad",
	"ip route add 203.0.113.0/24 via 198.51.100.2",
	"ip -6 route add 2001:db8:3::/64 via 2001:db8:2::2",
	"ip neigh replace 198.51.100.2 lladdr 02:00:00:00:00:22 "
		"dev xbt-fx2 nud permanent",
	"ip -6 neigh replace 2001:db8:2::2 lladdr 02:00:00:00:00:22 "
		"dev xbt-fx2 nud permanent",
};

/* The stand-in xfrm interface: steering tests only (a kernel without
 * TUN still runs the XDP fixtures). */
static const char *const tun_setup[] = {
	/* a modular tun (the lab's Debian kernel) and no /dev/net/tun until
	 * it is loaded; built in or absent, the next command decides */
	"modprobe -q tun || true",
	"ip tuntap add dev xbt-tun mode tun",
	/* no MLD/ND of its own on the device the test reads */
	"/proc/sys/net/ipv6/conf/xbt-tun/disable_ipv6",
	"ip link set xbt-tun mtu 1400 up",
};

static int make_net(void)
{
	size_t i;

	if (xbt_net_enter(net_setup, sizeof(net_setup) / sizeof(net_setup[0]),
			  &skip_why))
		return -1;
	if_in = (int)if_nametoindex("xbt-fx0");
	for (i = 0; i < sizeof(tun_setup) / sizeof(tun_setup[0]); i++)
		if (xbt_sh(tun_setup[i]))
			break;
	if (i == sizeof(tun_setup) / sizeof(tun_setup[0]))
		if_tun = (int)if_nametoindex("xbt-tun");
	if (!if_in)
		skip_why = "no xbt-fx0";
	return if_in ? 0 : -1;
}

/* Verifier statistics (log level 4) of every program, printed as TAP
 * comments: how close each program is to the complexity limit on the
 * kernel under test (the kernel lab runs this binary on 6.1). */
static char verifier_log[3][4096];

static void print_verifier_stats(void)
{
	struct bpf_program *prog;
	int i = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		char *line, *save = NULL;

		if (i >= 3)
			break;
		for (line = strtok_r(verifier_log[i++], "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			if (strstr(line, "processed"))
				printf("# %s: %s\n", bpf_program__name(prog),
				       line);
	}
}

static int load_skel_logged(bool stats)
{
	skel = stats ? xbt_skel_load(verifier_log[0], 3, sizeof(verifier_log[0])) :
		       xbt_skel_load(NULL, 0, 0);
	if (!skel)
		return -1;
	if (stats)
		print_verifier_stats();
	return 0;
}

/* On failure, load again with libbpf's own log so that the verifier's
 * complaint reaches the test log. */
static int load_skel(void)
{
	if (!load_skel_logged(true))
		return 0;
	if (!load_skel_logged(false))
		return 0;
	skip_why = NULL;
	return -1;
}

static int group_teardown(void **state)
{
	(void)state;
	xfrmbpf__destroy(skel);
	return 0;
}

/* ---- map state ---- */

static void set_sync(unsigned int st)
{
	struct xb_sync s = {};
	uint32_t zero = 0;

	s.seq = generation * 2 + ((st & ST_ODD_SEQ) ? 1 : 0);
	s.generation = generation;
	s.synced = (st & ST_UNSYNCED) ? 0 : 1;
	s.heartbeat_timeout_ns = 3000000000ULL;
	s.heartbeat_ns = xbt_now_ns();
	/* The datapath reads only the watchdog's verdict (test_watchdog.c
	 * checks the watchdog): an old beat alone changes nothing here. */
	if (st & ST_STALE) {
		s.heartbeat_ns -= 10000000000ULL;
		s.heartbeat_stale = 1;
	}
	s.default_action[0] = (st & ST_DEF_BLOCK_IN) ? XB_DEFAULT_BLOCK : 0;
	s.default_action[2] = (st & ST_DEF_BLOCK_FWD) ? XB_DEFAULT_BLOCK : 0;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.xb_sync),
					     &zero, &s, BPF_ANY), 0);
}

static void set_iface(unsigned int st, uint32_t flags)
{
	int fd = bpf_map__fd(skel->maps.xb_ifaces);
	struct xb_iface_cfg cfg = { .flags = XB_IF_XDP | flags, .mtu = 1500,
				    .stats_slot = IF_IN_SLOT };
	uint32_t key = (uint32_t)if_in;

	if (st & ST_DISABLE4)
		cfg.flags |= XB_IF_DISABLE_POLICY4;
	if (st & ST_DISABLE6)
		cfg.flags |= XB_IF_DISABLE_POLICY6;
	if (st & ST_NO_IFACE) {
		bpf_map_delete_elem(fd, &key);
		return;
	}
	assert_int_equal(bpf_map_update_elem(fd, &key, &cfg, BPF_ANY), 0);
}

static void set_bypass(void)
{
	struct xb_bypass_key k = { .proto = IPPROTO_UDP };
	int fd = bpf_map__fd(skel->maps.xb_bypass);
	uint8_t one = 1;

	k.port = htons(500);
	assert_int_equal(bpf_map_update_elem(fd, &k, &one, BPF_ANY), 0);
	k.port = htons(4500);
	assert_int_equal(bpf_map_update_elem(fd, &k, &one, BPF_ANY), 0);
}

static void set_sas(const struct xbt_sa *sas)
{
	int fd = bpf_map__fd(skel->maps.xb_spis);
	struct xb_spi_key k, next;
	struct xb_spi_val v = { .n_sas = 1 };

	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		bpf_map_delete_elem(fd, &k);
	}
	for (; sas && sas->daddr; sas++) {
		memset(&k, 0, sizeof(k));
		k.family = strchr(sas->daddr, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(k.family, sas->daddr, k.daddr.b), 1);
		k.spi = htonl(sas->spi);
		k.proto = sas->proto;
		assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
	}
}

/* The policy as the mirror would hand it to the TSS builder (user/classifier/tss.c):
 * the fixture's view and verdict become direction, action and flags. */
static void to_xb_policy(const struct xbt_policy *p, struct xb_policy *x)
{
	static const __u8 dirs[XB_VIEW_MAX] = {
		[XB_VIEW_IN] = XFRM_POLICY_IN,
		[XB_VIEW_FWD] = XFRM_POLICY_FWD,
		[XB_VIEW_OUT] = XFRM_POLICY_OUT,
	};
	int af = p->family == 6 ? AF_INET6 : AF_INET;

	memset(x, 0, sizeof(*x));
	x->sel.family = (__u16)af;
	if (p->src)
		inet_pton(af, p->src, x->sel.saddr.b);
	if (p->dst)
		inet_pton(af, p->dst, x->sel.daddr.b);
	x->sel.prefixlen_s = p->plen_s;
	x->sel.prefixlen_d = p->plen_d;
	x->sel.proto = p->proto;
	x->sel.sport = htons(p->sport);
	x->sel.sport_mask = htons(p->sport_mask);
	x->sel.dport = htons(p->dport);
	x->sel.dport_mask = htons(p->dport_mask);
	x->id = p->id;
	x->index = p->id * 8;
	x->priority = p->priority;
	x->pos = p->pos;
	x->if_id = p->if_id;
	x->dir = dirs[p->view];
	x->type = p->ptype == XB_PTYPE_SUB ? XFRM_POLICY_TYPE_SUB :
					     XFRM_POLICY_TYPE_MAIN;
	x->action = p->verdict == XB_V_BLOCK ? XFRM_POLICY_BLOCK :
					       XFRM_POLICY_ALLOW;
	if (p->verdict == XB_V_REQUIRES_IPSEC) {
		x->xb_flags = XB_POL_REQUIRES_IPSEC;
		x->n_tmpls = 1;
	}
	if (p->verdict == XB_V_UNDECIDABLE)
		x->xb_flags = XB_POL_SEC_CTX;
}

/* Publishes through the real builder and the map sink. */
static void publish_with_builder(const struct xbt_policy *pols)
{
	struct xb_tss_maps maps = {
		.tss_fd = bpf_map__fd(skel->maps.xb_tss),
		.lists_fd = bpf_map__fd(skel->maps.xb_shape_lists),
		.filter = xbt_skel_filter(skel),
	};
	struct xb_tss_sink sink;
	struct xb_policy x;
	struct xb_tss *tss;

	assert_non_null(maps.filter);
	tss = xb_tss_new();
	assert_non_null(tss);
	assert_int_equal(xb_tss_maps_clear(&maps), 0);
	for (; pols && pols->id; pols++) {
		to_xb_policy(pols, &x);
		assert_int_equal(xb_tss_add(tss, &x), 0);
	}
	xb_tss_maps_sink(&maps, &sink);
	assert_int_equal(xb_tss_flush(tss, &sink), 0);
	assert_int_equal(xb_tss_filter_maintain(maps.filter, maps.tss_fd), 0);
	xb_tss_free(tss);
}

/* Fixtures run twice: policies filled directly (tss_fill.c: the
 * datapath's semantics alone) and published by the TSS builder. */
static bool use_builder;

/* Every case starts from a new generation: cached flows of earlier cases
 * must not count (that also exercises the cache invalidation). */
static void set_state(const struct xbt_policy *pols, const struct xbt_sa *sas,
		      unsigned int st, uint32_t if_flags)
{
	generation++;
	if (use_builder)
		publish_with_builder(pols);
	else
		assert_int_equal(xbt_tss_fill(bpf_map__fd(skel->maps.xb_tss),
				bpf_map__fd(skel->maps.xb_shape_lists),
				xbt_skel_filter(skel), pols), 0);
	if (st & ST_OVERFLOW)
		assert_int_equal(xbt_tss_overflow(
			bpf_map__fd(skel->maps.xb_shape_lists),
			XB_SHAPE_LIST_IDX(XB_VIEW_IN, XB_PTYPE_MAIN,
					  XB_FAM_V4)), 0);
	set_sas(sas);
	set_iface(st, if_flags);
	set_bypass();
	set_sync(st);
}

/* ---- counters ---- */

/* Possible CPUs: the number of values a per-CPU map lookup writes. */
static int num_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	assert_in_range(n, 1, MAX_CPUS);
	return n;
}

static uint64_t reason_count(int reason)
{
	return xbt_reason_packets(bpf_map__fd(skel->maps.xb_stats),
				  (uint32_t)reason);
}

static uint64_t policy_count(uint32_t id)
{
	return xbt_percpu_packets(bpf_map__fd(skel->maps.xb_policy_stats), id);
}

struct counts {
	uint64_t reason[XB_R_MAX];
	uint64_t policy;
};

static void snap_counts(struct counts *c, uint32_t policy)
{
	int r;

	for (r = 0; r < XB_R_MAX; r++)
		c->reason[r] = reason_count(r);
	c->policy = policy != NO_POL ? policy_count(policy) : 0;
}

/* Exactly one reason counted, the expected one. */
static void check_reason_delta(const struct counts *before, int reason,
			       uint64_t n)
{
	struct counts after;
	int r;

	snap_counts(&after, NO_POL);
	for (r = 0; r < XB_R_MAX; r++) {
		uint64_t want = r == reason ? n : 0;

		if (after.reason[r] - before->reason[r] != want)
			fail_msg("reason %d counted %llu times, want %llu", r,
				 (unsigned long long)(after.reason[r] -
						      before->reason[r]),
				 (unsigned long long)want);
	}
}

/* ---- running ---- */

static int run_xdp(const struct xbt_frame *f, uint32_t *retval)
{
	return xbt_run_xdp(skel, f, if_in, retval);
}

static void run_fixture(const struct fixture *fx)
{
	struct counts before;
	struct xbt_frame f;
	uint32_t retval;

	set_state(fx->pols, fx->sas, fx->state, 0);
	assert_true(xbt_build(&fx->pkt, &f) > 0);
	snap_counts(&before, fx->policy);
	assert_int_equal(run_xdp(&f, &retval), 0);
	if ((int)retval != fx->verdict || reason_count(fx->reason) -
	    before.reason[fx->reason] != 1) {
		int r;

		for (r = 0; r < XB_R_MAX; r++)
			if (reason_count(r) != before.reason[r])
				fprintf(stderr, "#   counted reason %d\n", r);
		fail_msg("%s: verdict %u (want %d), want reason %d",
			 fx->name, retval, fx->verdict, fx->reason);
	}
	check_reason_delta(&before, fx->reason, 1);
	if (fx->policy != NO_POL)
		assert_int_equal(policy_count(fx->policy) - before.policy, 1);
}

/* ---- the fixtures ---- */

#define V4_SRC		"192.0.2.100"
#define V4_LOCAL	"192.0.2.1"
#define V4_FWD		"203.0.113.5"
#define V6_SRC		"2001:db8:1::100"
#define V6_LOCAL	"2001:db8:1::1"
#define V6_FWD		"2001:db8:3::5"

#define POL(...)	{ __VA_ARGS__ }
#define IN4		.view = XB_VIEW_IN, .family = 4
#define FWD4		.view = XB_VIEW_FWD, .family = 4
#define IN6		.view = XB_VIEW_IN, .family = 6
#define FWD6		.view = XB_VIEW_FWD, .family = 6
#define MAIN		.ptype = XB_PTYPE_MAIN
#define SUB		.ptype = XB_PTYPE_SUB
#define PORT(p)		.dport = (p), .dport_mask = 0xffff
#define ICMPT(t, c)	.sport = (t), .sport_mask = 0xffff, \
			.dport = (c), .dport_mask = 0xffff

/* A gateway protecting itself and a subnet behind it. */
static const struct xbt_policy pol_std[] = {
	POL(.id = 1, IN4, MAIN, .verdict = XB_V_ALLOW, .dst = V4_LOCAL,
	    .plen_d = 32, .proto = IPPROTO_TCP, PORT(22), .priority = 10,
	    .pos = 1),
	POL(.id = 2, IN4, MAIN, .verdict = XB_V_REQUIRES_IPSEC,
	    .dst = V4_LOCAL, .plen_d = 32, .priority = 100, .pos = 2),
	POL(.id = 3, IN4, MAIN, .verdict = XB_V_BLOCK, .src = "192.0.2.66",
	    .plen_s = 32, .priority = 5, .pos = 3),
	POL(.id = 4, FWD4, MAIN, .verdict = XB_V_REQUIRES_IPSEC,
	    .dst = "203.0.113.0", .plen_d = 24, .priority = 100, .pos = 4),
	POL(.id = 5, FWD4, MAIN, .verdict = XB_V_ALLOW, .dst = "203.0.113.0",
	    .plen_d = 24, .proto = IPPROTO_TCP, PORT(80), .priority = 50,
	    .pos = 5),
	POL(.id = 6, FWD4, MAIN, .verdict = XB_V_BLOCK, .dst = "203.0.113.7",
	    .plen_d = 32, .priority = 40, .pos = 6),
	POL(.id = 7, IN4, MAIN, .verdict = XB_V_ALLOW, .proto = IPPROTO_ICMP,
	    ICMPT(8, 0), .priority = 20, .pos = 7),
	POL(.id = 8, IN4, MAIN, .verdict = XB_V_ALLOW, .proto = IPPROTO_SCTP,
	    PORT(9899), .priority = 20, .pos = 8),
	/* GRE key 0x00010002: sport 1, dport 2 */
	POL(.id = 9, IN4, MAIN, .verdict = XB_V_BLOCK, .proto = IPPROTO_GRE,
	    .sport = 1, .sport_mask = 0xffff, PORT(2), .priority = 20,
	    .pos = 9),
	POL(.id = 10, IN6, MAIN, .verdict = XB_V_REQUIRES_IPSEC,
	    .dst = V6_LOCAL, .plen_d = 128, .priority = 100, .pos = 10),
	POL(.id = 11, IN6, MAIN, .verdict = XB_V_ALLOW, .dst = V6_LOCAL,
	    .plen_d = 128, .proto = IPPROTO_TCP, PORT(22), .priority = 10,
	    .pos = 11),
	POL(.id = 12, IN6, MAIN, .verdict = XB_V_ALLOW,
	    .proto = IPPROTO_ICMPV6, ICMPT(128, 0), .priority = 20,
	    .pos = 12),
	POL(.id = 13, FWD6, MAIN, .verdict = XB_V_BLOCK,
	    .dst = "2001:db8:3::", .plen_d = 64, .priority = 100, .pos = 13),
	POL(.id = 14, FWD6, MAIN, .verdict = XB_V_ALLOW,
	    .dst = "2001:db8:3::", .plen_d = 64, .proto = IPPROTO_UDP,
	    PORT(53), .priority = 50, .pos = 14),
	POL(.id = 15, IN6, MAIN, .verdict = XB_V_BLOCK, .proto = 135,
	    .sport = 5, .sport_mask = 0xffff, .priority = 20, .pos = 15),
	POL(.id = 16, IN4, MAIN, .verdict = XB_V_BLOCK, .proto = IPPROTO_ICMP,
	    ICMPT(13, 0), .priority = 20, .pos = 16),
	POL(.id = 17, IN6, MAIN, .verdict = XB_V_UNDECIDABLE,
	    .src = "2001:db8:1::66", .plen_s = 128, .priority = 5, .pos = 17),
	POL(.id = 18, FWD4, MAIN, .verdict = XB_V_ALLOW, .proto = IPPROTO_ESP,
	    .dst = "203.0.113.0", .plen_d = 24, .priority = 50, .pos = 18),
	{ 0 }
};

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

static const struct xbt_sa sas_std[] = {
	{ V4_LOCAL, 0x1000, IPPROTO_ESP },
	{ V4_LOCAL, 0x2000, IPPROTO_AH },
	{ V6_LOCAL, 0x3000, IPPROTO_ESP },
	{ V6_LOCAL, 0x4000, IPPROTO_AH },
	{ NULL, 0, 0 }
};

#define PKT(...)	{ __VA_ARGS__ }
#define TCP4(d, dp)	.family = 4, .src = V4_SRC, .dst = (d), \
			.l4 = XBT_L4_TCP, .sport = 40000, .dport = (dp)
#define UDP4(d, dp)	.family = 4, .src = V4_SRC, .dst = (d), \
			.l4 = XBT_L4_UDP, .sport = 40000, .dport = (dp)
#define TCP6(d, dp)	.family = 6, .src = V6_SRC, .dst = (d), \
			.l4 = XBT_L4_TCP, .sport = 40000, .dport = (dp)
#define UDP6(d, dp)	.family = 6, .src = V6_SRC, .dst = (d), \
			.l4 = XBT_L4_UDP, .sport = 40000, .dport = (dp)
#define PASS		XDP_PASS
#define DROP		XDP_DROP

static const struct fixture fixtures[] = {
	/* IPv4 verdicts */
	{ "v4 local tcp/22 allowed", PKT(TCP4(V4_LOCAL, 22)), pol_std,
	  sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW, 1 },
	{ "v4 local tcp/23 requires ipsec", PKT(TCP4(V4_LOCAL, 23)), pol_std,
	  sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "v4 local from blocked source", PKT(.family = 4, .src = "192.0.2.66",
	  .dst = V4_LOCAL, .l4 = XBT_L4_TCP, .sport = 1, .dport = 22),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_POLICY_BLOCK, 3 },
	{ "v4 other local address, no policy",
	  PKT(TCP4("198.51.100.1", 23)), pol_std, sas_std, 0, PASS,
	  XB_R_PASS_NO_POLICY, NO_POL },
	{ "v4 forwarded tcp/80 allowed", PKT(TCP4(V4_FWD, 80)), pol_std,
	  sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW, 5 },
	{ "v4 forwarded udp requires ipsec", PKT(UDP4(V4_FWD, 53)), pol_std,
	  sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 4 },
	{ "v4 forwarded to blocked host", PKT(TCP4("203.0.113.7", 80)),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_POLICY_BLOCK, 6 },
	{ "v4 forwarded without policy", PKT(TCP4("198.51.100.9", 80)),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_NO_POLICY, NO_POL },
	{ "v4 local policy does not apply to forwarding",
	  PKT(TCP4("198.51.100.9", 23)), pol_std, sas_std, 0, PASS,
	  XB_R_PASS_NO_POLICY, NO_POL },
	/* ICMP type/code in the selector ports */
	{ "v4 icmp echo request allowed", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 8, .dport = 0),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW, 7 },
	{ "v4 icmp timestamp blocked", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 13, .dport = 0),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_POLICY_BLOCK, 16 },
	{ "v4 icmp echo with code 1 falls to requires", PKT(.family = 4,
	  .src = V4_SRC, .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 8,
	  .dport = 1), pol_std, sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC,
	  2 },
	{ "v4 sctp port allowed", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_SCTP, .sport = 1, .dport = 9899),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW, 8 },
	{ "v4 gre key as ports blocked", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_GRE, .spi = 0x00010002), pol_std,
	  sas_std, 0, DROP, XB_R_DROP_POLICY_BLOCK, 9 },
	{ "v4 gre key after checksum blocked", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_GRE, .spi = 0x00010002,
	  .gre_csum = true), pol_std, sas_std, 0, DROP,
	  XB_R_DROP_POLICY_BLOCK, 9 },
	{ "v4 gre other key requires", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_GRE, .spi = 0x00010003), pol_std,
	  sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	/* IPv4 options and fragments */
	{ "v4 with nop options", PKT(TCP4(V4_LOCAL, 22), .ip_opts = 8),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW, 1 },
	{ "v4 with options, blocked", PKT(TCP4(V4_LOCAL, 23), .ip_opts = 40),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "v4 loose source route undecidable", PKT(TCP4(V4_LOCAL, 23),
	  .lsrr = true), pol_std, sas_std, 0, PASS, XB_R_PASS_UNDECIDABLE,
	  NO_POL },
	{ "v4 first fragment undecidable", PKT(TCP4(V4_LOCAL, 23),
	  .frag = 0x2000), pol_std, sas_std, 0, PASS, XB_R_PASS_UNDECIDABLE,
	  NO_POL },
	{ "v4 later fragment undecidable", PKT(TCP4(V4_LOCAL, 23),
	  .frag = 0x0010), pol_std, sas_std, 0, PASS, XB_R_PASS_UNDECIDABLE,
	  NO_POL },
	{ "v4 DF is not a fragment", PKT(TCP4(V4_LOCAL, 23), .frag = 0x4000),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	/* VLAN */
	{ "v4 one vlan tag", PKT(TCP4(V4_LOCAL, 23), .vlans = 1), pol_std,
	  sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "v4 two vlan tags", PKT(TCP4(V4_LOCAL, 23), .vlans = 2), pol_std,
	  sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "v6 two vlan tags", PKT(TCP6(V6_LOCAL, 23), .vlans = 2), pol_std,
	  sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 10 },
	{ "v6 one vlan tag allowed", PKT(TCP6(V6_LOCAL, 22), .vlans = 1),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW, 11 },
	/* IPv6 verdicts and extension headers */
	{ "v6 local tcp/22 allowed", PKT(TCP6(V6_LOCAL, 22)), pol_std,
	  sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW, 11 },
	{ "v6 local tcp/23 requires ipsec", PKT(TCP6(V6_LOCAL, 23)), pol_std,
	  sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 10 },
	{ "v6 forwarded udp/53 allowed", PKT(UDP6(V6_FWD, 53)), pol_std,
	  sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW, 14 },
	{ "v6 forwarded tcp blocked", PKT(TCP6(V6_FWD, 80)), pol_std, sas_std,
	  0, DROP, XB_R_DROP_POLICY_BLOCK, 13 },
	{ "v6 forwarded without policy", PKT(TCP6("2001:db8:2::9", 80)),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_NO_POLICY, NO_POL },
	{ "v6 icmpv6 echo request allowed", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_ICMP, .sport = 128, .dport = 0),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW, 12 },
	{ "v6 icmpv6 echo reply requires", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_ICMP, .sport = 129, .dport = 0),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 10 },
	{ "v6 mobility header type in sport", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_MH, .sport = 5), pol_std, sas_std, 0,
	  DROP, XB_R_DROP_POLICY_BLOCK, 15 },
	{ "v6 hop-by-hop + dest opts", PKT(TCP6(V6_LOCAL, 22), .ext = "hd"),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW, 11 },
	{ "v6 hop-by-hop, routing (0 left), dest opts",
	  PKT(TCP6(V6_LOCAL, 23), .ext = "hrd"), pol_std, sas_std, 0, DROP,
	  XB_R_DROP_REQUIRES_IPSEC, 10 },
	{ "v6 routing with segments left undecidable",
	  PKT(TCP6(V6_LOCAL, 23), .ext = "R"), pol_std, sas_std, 0, PASS,
	  XB_R_PASS_UNDECIDABLE, NO_POL },
	{ "v6 first fragment undecidable", PKT(TCP6(V6_LOCAL, 23),
	  .ext = "hf"), pol_std, sas_std, 0, PASS, XB_R_PASS_UNDECIDABLE,
	  NO_POL },
	{ "v6 later fragment undecidable", PKT(TCP6(V6_LOCAL, 23),
	  .ext = "F"), pol_std, sas_std, 0, PASS, XB_R_PASS_UNDECIDABLE,
	  NO_POL },
	{ "v6 too many extension headers undecidable",
	  PKT(TCP6(V6_LOCAL, 23), .ext = "dddddddd"), pol_std, sas_std, 0,
	  PASS, XB_R_PASS_UNDECIDABLE, NO_POL },
	{ "v6 policy marked undecidable", PKT(.family = 6,
	  .src = "2001:db8:1::66", .dst = V6_LOCAL, .l4 = XBT_L4_TCP,
	  .sport = 1, .dport = 23), pol_std, sas_std, 0, PASS,
	  XB_R_PASS_UNDECIDABLE, NO_POL },
	{ "v6 multicast undecidable", PKT(UDP6("ff02::1", 9)), pol_std,
	  sas_std, 0, PASS, XB_R_PASS_UNDECIDABLE, NO_POL },
	{ "v6 link-local destination undecidable", PKT(UDP6("fe80::1", 9)),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_UNDECIDABLE, NO_POL },
	{ "v4 broadcast undecidable", PKT(UDP4("255.255.255.255", 9)),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_UNDECIDABLE, NO_POL },
	/* ESP, AH, NAT-T */
	{ "v4 esp known spi", PKT(.family = 4, .src = V4_SRC, .dst = V4_LOCAL,
	  .l4 = XBT_L4_ESP, .spi = 0x1000, .payload = 32), pol_std, sas_std,
	  0, PASS, XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v4 esp unknown spi", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ESP, .spi = 0x1001, .payload = 32),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 esp spi of an AH SA", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ESP, .spi = 0x2000, .payload = 32),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 esp known spi other local address", PKT(.family = 4,
	  .src = V4_SRC, .dst = "198.51.100.1", .l4 = XBT_L4_ESP,
	  .spi = 0x1000, .payload = 32), pol_std, sas_std, 0, DROP,
	  XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 esp in transit is plaintext to FWD", PKT(.family = 4,
	  .src = V4_SRC, .dst = V4_FWD, .l4 = XBT_L4_ESP, .spi = 0x9999,
	  .payload = 32), pol_std, sas_std, 0, PASS, XB_R_PASS_POLICY_ALLOW,
	  18 },
	{ "v4 ah known spi", PKT(.family = 4, .src = V4_SRC, .dst = V4_LOCAL,
	  .l4 = XBT_L4_AH, .spi = 0x2000, .dport = 23), pol_std, sas_std, 0,
	  PASS, XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v4 ah unknown spi", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_AH, .spi = 0x2001, .dport = 23),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 nat-t esp known spi", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_NATT, .spi = 0x1000, .payload = 32),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v4 nat-t esp unknown spi", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_NATT, .spi = 0x1002, .payload = 32),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v4 nat-t ike (zero marker) bypassed", PKT(.family = 4,
	  .src = V4_SRC, .dst = V4_LOCAL, .l4 = XBT_L4_IKE), pol_std,
	  sas_std, 0, PASS, XB_R_PASS_BYPASS, NO_POL },
	{ "v4 nat-t keepalive bypassed", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_KEEPALIVE), pol_std, sas_std, 0,
	  PASS, XB_R_PASS_BYPASS, NO_POL },
	{ "v4 ike udp/500 bypassed", PKT(UDP4(V4_LOCAL, 500), .payload = 28),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_BYPASS, NO_POL },
	{ "v4 udp/501 not bypassed", PKT(UDP4(V4_LOCAL, 501)), pol_std,
	  sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 2 },
	{ "v4 forwarded udp/500 not bypassed", PKT(UDP4(V4_FWD, 500)),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_REQUIRES_IPSEC, 4 },
	{ "v6 esp known spi", PKT(.family = 6, .src = V6_SRC, .dst = V6_LOCAL,
	  .l4 = XBT_L4_ESP, .spi = 0x3000, .payload = 32), pol_std, sas_std,
	  0, PASS, XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v6 esp unknown spi", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_ESP, .spi = 0x3001, .payload = 32),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v6 esp after dest opts unknown spi", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_ESP, .spi = 0x3001, .ext = "hd",
	  .payload = 32), pol_std, sas_std, 0, DROP, XB_R_DROP_UNKNOWN_SPI,
	  NO_POL },
	{ "v6 ah known spi", PKT(.family = 6, .src = V6_SRC, .dst = V6_LOCAL,
	  .l4 = XBT_L4_AH, .spi = 0x4000, .dport = 23), pol_std, sas_std, 0,
	  PASS, XB_R_PASS_KNOWN_SPI, NO_POL },
	{ "v6 ah unknown spi", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_AH, .spi = 0x4001, .dport = 23),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v6 nat-t esp unknown spi", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_NATT, .spi = 0x3002, .payload = 32),
	  pol_std, sas_std, 0, DROP, XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v6 nat-t ike bypassed", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_IKE), pol_std, sas_std, 0, PASS,
	  XB_R_PASS_BYPASS, NO_POL },
	{ "v6 esp fragment undecidable", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_ESP, .spi = 0x3001, .ext = "f",
	  .payload = 32), pol_std, sas_std, 0, PASS, XB_R_PASS_UNDECIDABLE,
	  NO_POL },
	/* fail open */
	{ "unsynced passes", PKT(TCP4(V4_LOCAL, 23)), pol_std, sas_std,
	  ST_UNSYNCED, PASS, XB_R_PASS_UNSYNCED, NO_POL },
	{ "unsynced passes unknown spi", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ESP, .spi = 0x1001, .payload = 32),
	  pol_std, sas_std, ST_UNSYNCED, PASS, XB_R_PASS_UNSYNCED, NO_POL },
	{ "stale heartbeat passes", PKT(TCP6(V6_LOCAL, 23)), pol_std,
	  sas_std, ST_STALE, PASS, XB_R_PASS_UNSYNCED, NO_POL },
	{ "odd seq (publishing) passes", PKT(TCP4(V4_LOCAL, 23)), pol_std,
	  sas_std, ST_ODD_SEQ, PASS, XB_R_PASS_PUBLISHING, NO_POL },
	{ "odd seq passes unknown spi", PKT(.family = 6, .src = V6_SRC,
	  .dst = V6_LOCAL, .l4 = XBT_L4_ESP, .spi = 0x3001, .payload = 32),
	  pol_std, sas_std, ST_ODD_SEQ, PASS, XB_R_PASS_PUBLISHING, NO_POL },
	{ "interface not configured passes", PKT(TCP4(V4_LOCAL, 23)),
	  pol_std, sas_std, ST_NO_IFACE, PASS, XB_R_PASS_NO_IFACE, NO_POL },
	{ "v4 disable_policy passes", PKT(TCP4(V4_LOCAL, 23)), pol_std,
	  sas_std, ST_DISABLE4, PASS, XB_R_PASS_DISABLED_DEV, NO_POL },
	{ "v4 disable_policy still drops unknown spi", PKT(.family = 4,
	  .src = V4_SRC, .dst = V4_LOCAL, .l4 = XBT_L4_ESP, .spi = 0x1001,
	  .payload = 32), pol_std, sas_std, ST_DISABLE4, DROP,
	  XB_R_DROP_UNKNOWN_SPI, NO_POL },
	{ "v6 disable_policy4 does not cover v6", PKT(TCP6(V6_LOCAL, 23)),
	  pol_std, sas_std, ST_DISABLE4, DROP, XB_R_DROP_REQUIRES_IPSEC, 10 },
	{ "v6 disable_policy passes", PKT(TCP6(V6_LOCAL, 23)), pol_std,
	  sas_std, ST_DISABLE6, PASS, XB_R_PASS_DISABLED_DEV, NO_POL },
	{ "shape list overflow undecidable", PKT(TCP4(V4_LOCAL, 23)), pol_std,
	  sas_std, ST_OVERFLOW, PASS, XB_R_PASS_UNDECIDABLE, NO_POL },
	{ "overflow of another list does not matter", PKT(TCP6(V6_LOCAL, 23)),
	  pol_std, sas_std, ST_OVERFLOW, DROP, XB_R_DROP_REQUIRES_IPSEC, 10 },
	/* default policies */
	{ "v4 default block in", PKT(TCP4(V4_LOCAL, 23)), pol_none, sas_std,
	  ST_DEF_BLOCK_IN, DROP, XB_R_DROP_DEFAULT_BLOCK, NO_POL },
	{ "v6 default block in", PKT(TCP6(V6_LOCAL, 23)), pol_none, sas_std,
	  ST_DEF_BLOCK_IN, DROP, XB_R_DROP_DEFAULT_BLOCK, NO_POL },
	{ "default block in, forwarded passes", PKT(TCP4(V4_FWD, 23)),
	  pol_none, sas_std, ST_DEF_BLOCK_IN, PASS, XB_R_PASS_NO_POLICY,
	  NO_POL },
	{ "v4 default block fwd", PKT(TCP4(V4_FWD, 23)), pol_none, sas_std,
	  ST_DEF_BLOCK_FWD, DROP, XB_R_DROP_DEFAULT_BLOCK, NO_POL },
	{ "v6 default block fwd", PKT(TCP6(V6_FWD, 23)), pol_none, sas_std,
	  ST_DEF_BLOCK_FWD, DROP, XB_R_DROP_DEFAULT_BLOCK, NO_POL },
	{ "default block with matching allow", PKT(TCP4(V4_LOCAL, 22)),
	  pol_std, sas_std, ST_DEF_BLOCK_IN, PASS, XB_R_PASS_POLICY_ALLOW,
	  1 },
	{ "v4 forwarded icmp error without policy: undecidable",
	  PKT(.family = 4, .src = V4_SRC, .dst = "198.51.100.9",
	  .l4 = XBT_L4_ICMP, .sport = 3, .dport = 1), pol_none, sas_std,
	  ST_DEF_BLOCK_FWD, PASS, XB_R_PASS_UNDECIDABLE, NO_POL },
	{ "v6 forwarded icmpv6 error without policy: undecidable",
	  PKT(.family = 6, .src = V6_SRC, .dst = V6_FWD, .l4 = XBT_L4_ICMP,
	  .sport = 1, .dport = 4), pol_none, sas_std, ST_DEF_BLOCK_FWD, PASS,
	  XB_R_PASS_UNDECIDABLE, NO_POL },
	{ "v4 forwarded icmp echo default block", PKT(.family = 4,
	  .src = V4_SRC, .dst = "198.51.100.9", .l4 = XBT_L4_ICMP, .sport = 8),
	  pol_none, sas_std, ST_DEF_BLOCK_FWD, DROP, XB_R_DROP_DEFAULT_BLOCK,
	  NO_POL },
	{ "v4 local icmp error default block", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 3, .dport = 1),
	  pol_none, sas_std, ST_DEF_BLOCK_IN, DROP, XB_R_DROP_DEFAULT_BLOCK,
	  NO_POL },
	{ "default block in, ike still bypassed", PKT(UDP4(V4_LOCAL, 500)),
	  pol_none, sas_std, ST_DEF_BLOCK_IN, PASS, XB_R_PASS_BYPASS, NO_POL },
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
	  XB_R_PASS_UNDECIDABLE, NO_POL },
	{ "v6 tie across shapes, different outcomes: undecidable",
	  PKT(UDP6(V6_LOCAL, 7000)), pol_order, NULL, 0, PASS,
	  XB_R_PASS_UNDECIDABLE, NO_POL },
	{ "v6 tie, same outcome: lower position decides",
	  PKT(UDP6(V6_LOCAL, 7001)), pol_order, NULL, 0, DROP,
	  XB_R_DROP_POLICY_BLOCK, 48 },
	{ "v4 tie in one bucket, different outcomes: undecidable",
	  PKT(UDP4(V4_LOCAL, 7002)), pol_order, NULL, 0, PASS,
	  XB_R_PASS_UNDECIDABLE, NO_POL },
	/* not IP, truncated, malformed: pass, never drop */
	{ "v4 truncated in tcp header", PKT(TCP4(V4_LOCAL, 23),
	  .truncate = 14 + 20 + 3), pol_std, sas_std, 0, PASS,
	  XB_R_PASS_UNPARSED, NO_POL },
	{ "v4 truncated ip header", PKT(TCP4(V4_LOCAL, 23), .truncate = 30),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_UNPARSED, NO_POL },
	{ "v4 total length beyond frame", PKT(TCP4(V4_LOCAL, 23),
	  .payload = 100, .truncate = 14 + 40 + 50), pol_std, sas_std, 0,
	  PASS, XB_R_PASS_UNPARSED, NO_POL },
	{ "v4 bad version", PKT(TCP4(V4_LOCAL, 23), .bad_version = true),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_UNPARSED, NO_POL },
	{ "v6 truncated in ext header", PKT(TCP6(V6_LOCAL, 23), .ext = "hd",
	  .truncate = 14 + 40 + 8 + 1), pol_std, sas_std, 0, PASS,
	  XB_R_PASS_UNPARSED, NO_POL },
	{ "v6 truncated header", PKT(TCP6(V6_LOCAL, 23), .truncate = 14 + 39),
	  pol_std, sas_std, 0, PASS, XB_R_PASS_UNPARSED, NO_POL },
	{ "v4 esp truncated spi", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ESP, .spi = 0x1001,
	  .truncate = 14 + 20 + 3), pol_std, sas_std, 0, PASS,
	  XB_R_PASS_UNPARSED, NO_POL },
	{ "vlan tag cut short", PKT(TCP4(V4_LOCAL, 23), .vlans = 2,
	  .truncate = 14 + 2), pol_std, sas_std, 0, PASS, XB_R_PASS_UNPARSED,
	  NO_POL },
	{ "v4 icmp cut before code", PKT(.family = 4, .src = V4_SRC,
	  .dst = V4_LOCAL, .l4 = XBT_L4_ICMP, .sport = 13,
	  .truncate = 14 + 20 + 1), pol_std, sas_std, 0, PASS,
	  XB_R_PASS_UNPARSED, NO_POL },
};

static void test_fixture(void **state)
{
	use_builder = false;
	run_fixture(*state);
}

static void test_fixture_builder(void **state)
{
	use_builder = true;
	run_fixture(*state);
	use_builder = false;
}

/* ---- beyond the table ---- */

static void test_not_ip(void **state)
{
	struct counts before;
	struct xbt_frame f;
	uint32_t retval;

	(void)state;
	set_state(pol_std, sas_std, ST_DEF_BLOCK_IN, 0);
	xbt_frame_init(&f);
	xbt_push_eth(&f, 0x0806);		/* ARP */
	xbt_push_payload(&f, 28, 0);
	snap_counts(&before, NO_POL);
	assert_int_equal(run_xdp(&f, &retval), 0);
	assert_int_equal(retval, XDP_PASS);
	check_reason_delta(&before, XB_R_PASS_NOT_IP, 1);

	/* an Ethernet header saying IPv4 and nothing after it (test runs
	 * refuse frames shorter than an Ethernet header: -EINVAL) */
	xbt_frame_init(&f);
	xbt_push_eth(&f, 0x0800);
	snap_counts(&before, NO_POL);
	assert_int_equal(run_xdp(&f, &retval), 0);
	assert_int_equal(retval, XDP_PASS);
	check_reason_delta(&before, XB_R_PASS_UNPARSED, 1);
}

/* Every truncation of valid packets passes and is never dropped. */
static void test_every_truncation_passes(void **state)
{
	static const struct xbt_pkt_spec specs[] = {
		{ TCP4(V4_LOCAL, 23), .vlans = 2, .ip_opts = 4 },
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
	set_state(pol_std, sas_std, 0, 0);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		full = xbt_build(&specs[i], &f);
		assert_true(full > 0);
		/* BPF_PROG_TEST_RUN wants at least an Ethernet header */
		for (len = 14; len < full; len++) {
			f.len = len;
			assert_int_equal(run_xdp(&f, &retval), 0);
			if (retval != XDP_PASS)
				fail_msg("spec %zu cut to %zu: verdict %u", i,
					 len, retval);
			runs++;
		}
		/* and the whole packet is dropped */
		f.len = full;
		assert_int_equal(run_xdp(&f, &retval), 0);
		assert_int_equal(retval, XDP_DROP);
	}
	printf("# %zu truncated packets passed\n", runs);
}

/* One run of f: its verdict, counted once under reason. */
static void run_expect(const struct xbt_frame *f, uint32_t verdict, int reason)
{
	struct counts before;
	uint32_t retval;

	snap_counts(&before, NO_POL);
	assert_int_equal(run_xdp(f, &retval), 0);
	assert_int_equal(retval, verdict);
	check_reason_delta(&before, reason, 1);
}

/* The key the datapath builds for a TCP/IPv4 packet from V4_SRC port
 * 40000 on the input device. */
static void flow_key_tcp4(struct xb_flow_key *k, const char *dst, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	k->family = AF_INET;
	inet_pton(AF_INET, V4_SRC, k->saddr.b);
	inet_pton(AF_INET, dst, k->daddr.b);
	k->sport = htons(40000);
	k->dport = htons(dport);
	k->proto = IPPROTO_TCP;
	k->kind = XB_PK_PLAIN;
	k->ifindex = (uint32_t)if_in;
}

/* The flow cache slot of k, in the cache as the program was loaded. */
static __u32 flow_slot(const struct xb_flow_key *k)
{
	return xb_flow_slot(xb_flow_hash(k), skel->rodata->xb_flow_cache_bits);
}

/* Every CPU's entry of the flow cache slot, as the datapath would
 * write it (a matching check). */
static void flow_cache_put(int fd, __u32 slot, struct xb_flow_entry *ents,
			   int n)
{
	int i;

	for (i = 0; i < n; i++)
		ents[i].check = xb_flow_check(xb_flow_hash(&ents[i].key),
					      ents[i].val.generation,
					      ents[i].val.flow_epoch,
					      ents[i].val.policy_id,
					      ents[i].val.reason,
					      ents[i].val.stats_slot);
	assert_int_equal(bpf_map_update_elem(fd, &slot, ents, BPF_ANY), 0);
}

/* How many CPUs hold key k, of the current generation, in its slot;
 * ents gets every CPU's entry. */
static int flow_cache_holds(int fd, const struct xb_flow_key *k,
			    struct xb_flow_entry *ents, int n)
{
	__u32 slot = flow_slot(k);
	int i, found = 0;

	assert_int_equal(bpf_map_lookup_elem(fd, &slot, ents), 0);
	for (i = 0; i < n; i++)
		if (!memcmp(&ents[i].key, k, sizeof(*k)) &&
		    ents[i].val.generation == generation)
			found++;
	return found;
}

/* xb_flow_stats summed over CPUs. */
static struct xb_flow_stats flow_stats(void)
{
	static struct xb_flow_stats v[MAX_CPUS];
	struct xb_flow_stats sum = {};
	__u32 zero = 0;
	int i;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.xb_flow_stats),
					     &zero, v), 0);
	for (i = 0; i < num_cpus(); i++) {
		sum.hits += v[i].hits;
		sum.misses += v[i].misses;
	}
	return sum;
}

/* One run of f, which the flow cache answers (hit) or not. */
static void run_expect_cache(const struct xbt_frame *f, uint32_t verdict,
			     int reason, bool hit)
{
	struct xb_flow_stats before = flow_stats(), after;

	run_expect(f, verdict, reason);
	after = flow_stats();
	assert_int_equal(after.hits - before.hits, hit);
	assert_int_equal(after.misses - before.misses, !hit);
}

/* The flow cache answers for its flow and generation only. */
static void test_flow_cache(void **state)
{
	struct xbt_pkt_spec spec = { TCP4(V4_LOCAL, 23) };
	int fd = bpf_map__fd(skel->maps.xb_flow_cache);
	static struct xb_flow_entry ents[MAX_CPUS];
	struct xb_flow_key k, other;
	struct xbt_frame f;
	uint32_t retval;
	int n = num_cpus(), i;
	__u32 slot;

	(void)state;
	set_state(pol_std, sas_std, 0, 0);
	assert_true(xbt_build(&spec, &f) > 0);
	assert_int_equal(run_xdp(&f, &retval), 0);
	assert_int_equal(retval, XDP_DROP);

	/* the first packet stored its result for this generation, in the
	 * slot of its key on the CPU it ran on */
	flow_key_tcp4(&k, V4_LOCAL, 23);
	slot = flow_slot(&k);
	assert_int_equal(flow_cache_holds(fd, &k, ents, n), 1);
	for (i = 0; i < n; i++) {
		if (ents[i].val.generation != generation)
			continue;
		assert_int_equal(ents[i].val.reason, XB_R_DROP_REQUIRES_IPSEC);
		assert_int_equal(ents[i].val.policy_id, 2);
		assert_int_equal(ents[i].val.flow_epoch, 0);
		assert_int_equal(ents[i].val.stats_slot, IF_IN_SLOT);
		assert_true(ents[i].check ==
			    xb_flow_check(xb_flow_hash(&k), generation, 0, 2,
					  XB_R_DROP_REQUIRES_IPSEC, IF_IN_SLOT));
	}

	/* a current entry is believed: make it say "allow" */
	for (i = 0; i < n; i++) {
		ents[i].key = k;
		ents[i].val.generation = generation;
		ents[i].val.flow_epoch = 0;
		ents[i].val.reason = XB_R_PASS_POLICY_ALLOW;
		ents[i].val.policy_id = 1;
		ents[i].val.stats_slot = IF_IN_SLOT;
	}
	flow_cache_put(fd, slot, ents, n);
	run_expect_cache(&f, XDP_PASS, XB_R_PASS_POLICY_ALLOW, true);

	/* also while a publication runs: it is the verdict of the whole
	 * SPD of its generation (the packet sees the old SPD) */
	set_sync(ST_ODD_SEQ);
	run_expect_cache(&f, XDP_PASS, XB_R_PASS_POLICY_ALLOW, true);
	/* a flow without a cached verdict waits for the publication */
	spec.dport = 24;
	assert_true(xbt_build(&spec, &f) > 0);
	run_expect_cache(&f, XDP_PASS, XB_R_PASS_PUBLISHING, false);
	spec.dport = 23;
	assert_true(xbt_build(&spec, &f) > 0);
	set_sync(0);

	/* not an entry whose check does not match its contents: a store
	 * interrupted by another on the same CPU */
	for (i = 0; i < n; i++)
		ents[i].val.policy_id = 3;
	assert_int_equal(bpf_map_update_elem(fd, &slot, ents, BPF_ANY), 0);
	run_expect_cache(&f, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC, false);

	/* nor the verdict of another flow in the slot */
	flow_key_tcp4(&other, V4_LOCAL, 24);
	for (i = 0; i < n; i++) {
		ents[i].key = other;
		ents[i].val.policy_id = 1;
	}
	flow_cache_put(fd, slot, ents, n);
	run_expect(&f, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC);

	/* nor an entry of another flow epoch (routes or settings changed
	 * since) */
	for (i = 0; i < n; i++) {
		ents[i].key = k;
		ents[i].val.flow_epoch = 1;
	}
	flow_cache_put(fd, slot, ents, n);
	run_expect(&f, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC);

	/* nor one of an older generation */
	for (i = 0; i < n; i++) {
		ents[i].val.generation = generation - 1;
		ents[i].val.flow_epoch = 0;
	}
	flow_cache_put(fd, slot, ents, n);
	run_expect(&f, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC);
}

/* Two flows of one slot: the newer replaces the older, which is then
 * classified again, not answered with the other's verdict. The runs stay
 * on one CPU, so that they meet one CPU's cache. */
static void test_flow_cache_shared_slot(void **state)
{
	struct xbt_pkt_spec spec = { TCP4(V4_LOCAL, 23) };
	int fd = bpf_map__fd(skel->maps.xb_flow_cache);
	static struct xb_flow_entry ents[MAX_CPUS];
	struct xbt_frame blocked, allowed;
	struct xb_flow_key kb, ka;
	char src[INET_ADDRSTRLEN];
	cpu_set_t all, one;
	__u32 slot, port;
	int n = num_cpus();

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	set_state(pol_std, sas_std, 0, 0);
	/* V4_LOCAL port 22 is allowed (policy 1), 23 blocked: find an
	 * allowed flow (other source ports) in the blocked one's slot */
	flow_key_tcp4(&kb, V4_LOCAL, 23);
	slot = flow_slot(&kb);
	flow_key_tcp4(&ka, V4_LOCAL, 22);
	for (port = 1; port <= 0xffff * 16; port++) {
		ka.sport = htons((uint16_t)port);
		ka.saddr.b[3] = (uint8_t)(100 + (port >> 16));
		if (flow_slot(&ka) == slot)
			break;
	}
	assert_true(port <= 0xffff * 16);
	assert_true(xbt_build(&spec, &blocked) > 0);
	spec.dport = 22;
	spec.sport = ntohs(ka.sport);
	spec.src = inet_ntop(AF_INET, ka.saddr.b, src, sizeof(src));
	assert_true(xbt_build(&spec, &allowed) > 0);

	run_expect_cache(&blocked, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC, false);
	assert_int_equal(flow_cache_holds(fd, &kb, ents, n), 1);
	run_expect_cache(&allowed, XDP_PASS, XB_R_PASS_POLICY_ALLOW, false);
	assert_int_equal(flow_cache_holds(fd, &ka, ents, n), 1);
	assert_int_equal(flow_cache_holds(fd, &kb, ents, n), 0);
	run_expect_cache(&blocked, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC, false);
	assert_int_equal(flow_cache_holds(fd, &kb, ents, n), 1);
	run_expect_cache(&allowed, XDP_PASS, XB_R_PASS_POLICY_ALLOW, false);
	run_expect_cache(&allowed, XDP_PASS, XB_R_PASS_POLICY_ALLOW, true);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
}

/* The rows of xb_stats a test looks at, read as user/loader/stats.c reads them
 * (one batch), the totals checked against a lookup per key. */
struct stat_rows {
	struct xb_counter in[XB_R_MAX];		/* row of xbt-fx0 */
	struct xb_counter other[XB_R_MAX];	/* devices without a slot */
	struct xb_counter total[XB_R_MAX];
};

static void read_stat_rows(struct stat_rows *s)
{
	struct xb_maps maps = { .n_cpus = num_cpus() };
	struct xb_stats st;
	int r;

	maps.fd[XB_MAP_STATS] = bpf_map__fd(skel->maps.xb_stats);
	assert_int_equal(xb_stats_read(&maps, &st), 0);
	xb_stats_row(&st, IF_IN_SLOT, s->in);
	xb_stats_row(&st, XB_STATS_ROW_OTHER, s->other);
	xb_stats_totals(&st, s->total);
	xb_stats_free(&st);
	for (r = 0; r < XB_R_MAX; r++)
		assert_int_equal(s->total[r].packets, reason_count(r));
}

static uint64_t policy_bytes(uint32_t id)
{
	static struct xb_counter pc[MAX_CPUS];
	int n = num_cpus(), i;
	uint64_t sum = 0;

	memset(pc, 0, (size_t)n * sizeof(*pc));
	bpf_map_lookup_elem(bpf_map__fd(skel->maps.xb_policy_stats), &id, pc);
	for (i = 0; i < n; i++)
		sum += pc[i].bytes;
	return sum;
}

/*
 * One lookup counts reason and device: the device's row gives its
 * rx/passed/dropped and bytes, a device without a slot counts in the
 * row of others, and every reason's total grew by what the rows grew.
 */
static void test_counters(void **state)
{
	struct xbt_pkt_spec spec = { TCP4(V4_LOCAL, 23), .payload = 100 };
	const uint64_t len = 14 + 20 + 20 + 100;
	int other = (int)if_nametoindex("xbt-fx2");
	struct xb_iface_counters ia, ib;
	struct stat_rows a, b;
	uint64_t pol0;
	uint32_t retval;
	struct xbt_frame f;
	int r;

	(void)state;
	assert_true(other > 0);
	set_state(pol_std, sas_std, 0, 0);
	read_stat_rows(&a);
	pol0 = policy_bytes(2);
	assert_true(xbt_build(&spec, &f) > 0);
	assert_int_equal(run_xdp(&f, &retval), 0);
	assert_int_equal(retval, XDP_DROP);
	assert_int_equal(run_xdp(&f, &retval), 0);
	spec.dport = 22;
	assert_true(xbt_build(&spec, &f) > 0);
	assert_int_equal(run_xdp(&f, &retval), 0);
	assert_int_equal(retval, XDP_PASS);
	assert_int_equal(xbt_run_xdp(skel, &f, other, &retval), 0);
	assert_int_equal(retval, XDP_PASS);
	read_stat_rows(&b);

	xb_stats_iface(a.in, &ia);
	xb_stats_iface(b.in, &ib);
	assert_int_equal(ib.rx_packets - ia.rx_packets, 3);
	assert_int_equal(ib.dropped - ia.dropped, 2);
	assert_int_equal(ib.passed - ia.passed, 1);
	assert_int_equal(ib.steered - ia.steered, 0);
	assert_int_equal(b.in[XB_R_DROP_REQUIRES_IPSEC].bytes -
			 a.in[XB_R_DROP_REQUIRES_IPSEC].bytes, 2 * len);
	assert_int_equal(b.in[XB_R_PASS_POLICY_ALLOW].bytes -
			 a.in[XB_R_PASS_POLICY_ALLOW].bytes, len);
	assert_int_equal(policy_bytes(2) - pol0, 2 * len);
	for (r = 0; r < XB_R_MAX; r++) {
		uint64_t in = b.in[r].packets - a.in[r].packets;
		uint64_t oth = b.other[r].packets - a.other[r].packets;

		assert_int_equal(oth, r == XB_R_PASS_NO_IFACE ? 1 : 0);
		assert_int_equal(b.total[r].packets - a.total[r].packets, in + oth);
		assert_int_equal(b.total[r].bytes - a.total[r].bytes,
				 b.in[r].bytes - a.in[r].bytes +
				 b.other[r].bytes - a.other[r].bytes);
	}
	assert_int_equal(b.other[XB_R_PASS_NO_IFACE].bytes -
			 a.other[XB_R_PASS_NO_IFACE].bytes, len);
}

/* ---- TC steering ---- */

static int run_tc(struct bpf_program *prog, struct xbt_frame *f,
		  uint32_t *retval, uint8_t *out, uint32_t *out_len)
{
	struct __sk_buff ctx = { .ifindex = (uint32_t)if_in };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = f->data,
		    .data_size_in = (uint32_t)f->len,
		    .data_out = out,
		    .data_size_out = XBT_FRAME_MAX,
		    .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx),
		    .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	*retval = opts.retval;
	*out_len = opts.data_size_out;
	return err;
}

static const struct xbt_policy pol_steer[] = {
	POL(.id = 50, .view = XB_VIEW_OUT, .family = 4, MAIN,
	    .verdict = XB_V_REQUIRES_IPSEC, .dst = "203.0.113.0", .plen_d = 24,
	    .priority = 10, .pos = 1, .if_id = STEER_IF_ID),
	POL(.id = 51, .view = XB_VIEW_OUT, .family = 4, MAIN,
	    .verdict = XB_V_REQUIRES_IPSEC, .dst = "192.0.2.0", .plen_d = 24,
	    .priority = 10, .pos = 2, .if_id = STEER_IF_ID),
	POL(.id = 52, .view = XB_VIEW_OUT, .family = 4, MAIN,
	    .verdict = XB_V_REQUIRES_IPSEC, .dst = "198.51.100.0",
	    .plen_d = 24, .priority = 10, .pos = 3, .if_id = NODEV_IF_ID),
	POL(.id = 53, .view = XB_VIEW_FWD, .family = 4, MAIN,
	    .verdict = XB_V_BLOCK, .dst = "203.0.113.7", .plen_d = 32,
	    .priority = 10, .pos = 4),
	POL(.id = 54, .view = XB_VIEW_OUT, .family = 6, MAIN,
	    .verdict = XB_V_REQUIRES_IPSEC, .dst = "2001:db8:3::",
	    .plen_d = 64, .priority = 10, .pos = 5, .if_id = STEER_IF_ID),
	POL(.id = 55, .view = XB_VIEW_OUT, .family = 4, MAIN,
	    .verdict = XB_V_REQUIRES_IPSEC, .dst = "198.51.100.128",
	    .plen_d = 25, .priority = 5, .pos = 6),
	{ 0 }
};

struct steer_case {
	const char *name;
	struct xbt_pkt_spec pkt;
	uint32_t if_flags;
	int retval;		/* TC_ACT_OK / TC_ACT_REDIRECT */
	int reason;		/* XB_R_MAX: nothing counted */
};

static const struct steer_case steer_cases[] = {
	{ "v4 forwarded into the xfrm interface", { TCP4(V4_FWD, 80) },
	  XB_IF_STEER, TC_ACT_REDIRECT, XB_R_STEER },
	{ "v6 forwarded into the xfrm interface", { TCP6(V6_FWD, 80) },
	  XB_IF_STEER, TC_ACT_REDIRECT, XB_R_STEER },
	{ "steering off on this nic", { TCP4(V4_FWD, 80) }, 0, TC_ACT_OK,
	  XB_R_MAX },
	{ "v4 ttl 1 goes to the kernel", { TCP4(V4_FWD, 80), .ttl = 1 },
	  XB_IF_STEER, TC_ACT_OK, XB_R_STEER_SKIP_TTL },
	{ "v6 hop limit 1 goes to the kernel", { TCP6(V6_FWD, 80), .ttl = 1 },
	  XB_IF_STEER, TC_ACT_OK, XB_R_STEER_SKIP_TTL },
	{ "above the xfrm mtu goes to the kernel", { TCP4(V4_FWD, 80),
	  .payload = TUN_MTU }, XB_IF_STEER, TC_ACT_OK, XB_R_STEER_SKIP_MTU },
	{ "exactly the xfrm mtu is steered", { TCP4(V4_FWD, 80),
	  .payload = TUN_MTU - 40 }, XB_IF_STEER, TC_ACT_REDIRECT,
	  XB_R_STEER },
	{ "for the gateway itself goes to the kernel", { TCP4(V4_LOCAL, 80) },
	  XB_IF_STEER, TC_ACT_OK, XB_R_STEER_SKIP_LOCAL },
	{ "if_id without a device", { TCP4("198.51.100.9", 80) }, XB_IF_STEER,
	  TC_ACT_OK, XB_R_STEER_SKIP_NO_DEV },
	{ "fwd policy blocks: not steered", { TCP4("203.0.113.7", 80) },
	  XB_IF_STEER, TC_ACT_OK, XB_R_MAX },
	{ "out policy without if_id: not steered",
	  { TCP4("198.51.100.200", 80) }, XB_IF_STEER, TC_ACT_OK, XB_R_MAX },
	{ "no out policy: not steered", { TCP6("2001:db8:2::9", 80) },
	  XB_IF_STEER, TC_ACT_OK, XB_R_MAX },
	{ "esp is not steered", { .family = 4, .src = V4_SRC, .dst = V4_FWD,
	  .l4 = XBT_L4_ESP, .spi = 5 }, XB_IF_STEER, TC_ACT_OK, XB_R_MAX },
	{ "in-band vlan tag is not steered", { TCP4(V4_FWD, 80), .vlans = 1 },
	  XB_IF_STEER, TC_ACT_OK, XB_R_MAX },
	{ "fragment is not steered", { TCP4(V4_FWD, 80), .frag = 0x2000 },
	  XB_IF_STEER, TC_ACT_OK, XB_R_MAX },
	{ "frame for another host is not steered", { TCP4(V4_FWD, 80),
	  .other_host = true }, XB_IF_STEER, TC_ACT_OK, XB_R_MAX },
};

static void set_links(void)
{
	int fd = bpf_map__fd(skel->maps.xb_xfrm_links);
	struct xb_xfrm_link l = { .ifindex = (uint32_t)if_tun,
				  .if_id = STEER_IF_ID };
	uint32_t key = STEER_IF_ID;

	strcpy(l.name, "xbt-tun");
	assert_int_equal(bpf_map_update_elem(fd, &key, &l, BPF_ANY), 0);
}

/* IPv4 header checksum over the header: 0 when valid. */
static uint16_t csum_fold(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void run_steer_case(const struct steer_case *c)
{
	uint8_t out[XBT_FRAME_MAX];
	struct counts before;
	struct xbt_frame f;
	uint32_t retval, out_len;
	int r;

	set_state(pol_steer, NULL, 0, c->if_flags);
	set_links();
	assert_true(xbt_build(&c->pkt, &f) > 0);
	snap_counts(&before, NO_POL);
	assert_int_equal(run_tc(skel->progs.xb_tc_steer, &f, &retval, out,
				&out_len), 0);
	if ((int)retval != c->retval)
		fail_msg("%s: retval %u, want %d", c->name, retval, c->retval);
	if (c->reason == XB_R_MAX) {
		for (r = 0; r < XB_R_MAX; r++)
			assert_int_equal(reason_count(r), before.reason[r]);
	} else {
		check_reason_delta(&before, c->reason, 1);
	}
	if (c->retval != TC_ACT_REDIRECT) {
		assert_int_equal(out_len, f.len);
		assert_memory_equal(out, f.data, f.len);
		return;
	}
	/* forwarded as ip_forward would: TTL - 1, valid checksum */
	assert_int_equal(out_len, f.len);
	if (c->pkt.family == 4) {
		assert_int_equal(out[14 + 8], 63);
		assert_int_equal(csum_fold(out + 14, 20), 0);
	} else {
		assert_int_equal(out[14 + 7], 63);
	}
}

static void test_steer(void **state)
{
	run_steer_case(*state);
}

static const struct steer_case *steer_case_of(int reason)
{
	size_t i;

	for (i = 0; i < sizeof(steer_cases) / sizeof(steer_cases[0]); i++)
		if (steer_cases[i].reason == reason)
			return &steer_cases[i];
	fail_msg("no steer case counts reason %d", reason);
	return NULL;
}

/* TC counts in the device's row: XB_R_STEER is its "steered", and
 * nothing TC counts is a packet received (XDP counts those). */
static void test_steer_counters(void **state)
{
	struct xb_iface_counters ia, ib;
	struct stat_rows a, b;

	(void)state;
	read_stat_rows(&a);
	run_steer_case(steer_case_of(XB_R_STEER));
	run_steer_case(steer_case_of(XB_R_STEER));
	run_steer_case(steer_case_of(XB_R_STEER_SKIP_TTL));
	read_stat_rows(&b);
	xb_stats_iface(a.in, &ia);
	xb_stats_iface(b.in, &ib);
	assert_int_equal(ib.steered - ia.steered, 2);
	assert_int_equal(ib.rx_packets - ia.rx_packets, 0);
	assert_int_equal(b.in[XB_R_STEER_SKIP_TTL].packets -
			 a.in[XB_R_STEER_SKIP_TTL].packets, 1);
	assert_int_equal(b.total[XB_R_STEER].packets -
			 a.total[XB_R_STEER].packets, 2);
	assert_memory_equal(a.other, b.other, sizeof(a.other));
}

/* Without the kfunc the collect_md program is simply not loaded; the
 * rest of the object loads (this is what keeps 6.1 working). */
static void test_steer_md_optional(void **state)
{
	bool has = xbt_have_kfunc("bpf_skb_set_xfrm_info");

	(void)state;
	assert_true(bpf_program__fd(skel->progs.xb_xdp) >= 0);
	assert_true(bpf_program__fd(skel->progs.xb_tc_steer) >= 0);
	if (has)
		assert_true(bpf_program__fd(skel->progs.xb_tc_steer_md) >= 0);
	else
		assert_true(bpf_program__fd(skel->progs.xb_tc_steer_md) < 0);
}

/* md steering on kernels with the kfunc: an if_id without a device of
 * its own goes to the collect_md device at key 0. */
static void test_steer_md(void **state)
{
	struct xb_xfrm_link l = { .ifindex = (uint32_t)if_tun,
				  .collect_md = 1 };
	struct xbt_pkt_spec spec = { TCP4("198.51.100.9", 80) };
	uint8_t out[XBT_FRAME_MAX];
	struct counts before;
	struct xbt_frame f;
	uint32_t retval, out_len, key = 0;

	(void)state;
	set_state(pol_steer, NULL, 0, XB_IF_STEER);
	set_links();
	assert_int_equal(bpf_map_update_elem(
		bpf_map__fd(skel->maps.xb_xfrm_links), &key, &l, BPF_ANY), 0);
	assert_true(xbt_build(&spec, &f) > 0);
	snap_counts(&before, NO_POL);
	assert_int_equal(run_tc(skel->progs.xb_tc_steer_md, &f, &retval, out,
				&out_len), 0);
	assert_int_equal(retval, TC_ACT_REDIRECT);
	check_reason_delta(&before, XB_R_STEER, 1);
	bpf_map_delete_elem(bpf_map__fd(skel->maps.xb_xfrm_links), &key);
}

/* ---- the redirect itself, on real devices ---- */

/* Attaches to the persistent TUN device (IFF_NO_PI, as ip tuntap makes
 * it); its carrier is up while the fd is open. */
static int open_tun(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends a frame out of xbt-fx1, so it enters xbt-fx0 (veth peers). */
static void send_frame(const struct xbt_frame *f)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = (int)if_nametoindex("xbt-fx1"),
		.sll_halen = 6,
	};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, f->data, f->len, 0,
				(struct sockaddr *)&sll, sizeof(sll)),
			 (ssize_t)f->len);
	close(fd);
}

/* Reads the next IPv4 packet the TUN device transmitted, waiting up to
 * ms for each. */
static ssize_t read_tun(int fd, uint8_t *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	do {
		if (poll(&p, 1, ms) != 1)
			return -1;
		n = read(fd, buf, len);
	} while (n > 0 && (buf[0] >> 4) != 4);
	return n;
}

/*
 * What BPF_PROG_TEST_RUN cannot show: that bpf_redirect() from the
 * Ethernet ingress into an L3 device (ARPHRD_NONE, as xfrm interfaces
 * are) delivers the bare IP packet, TTL decremented, checksum valid. The
 * TC program is attached on xbt-fx0 ingress; xbt-tun stands in for the
 * xfrm interface.
 */
static void test_steer_redirect_real(void **state)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = if_in,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	struct xbt_pkt_spec ok = { TCP4(V4_FWD, 80), .payload = 64 };
	struct xbt_pkt_spec ttl1 = { TCP4(V4_FWD, 80), .ttl = 1 };
	struct xbt_frame f;
	uint8_t buf[XBT_FRAME_MAX];
	uint64_t skipped;
	ssize_t n;
	int tun, err, tries;

	(void)state;
	set_state(pol_steer, NULL, 0, XB_IF_STEER);
	set_links();
	tun = open_tun("xbt-tun");
	assert_true(tun >= 0);
	err = bpf_tc_hook_create(&hook);
	assert_true(!err || err == -EEXIST);
	opts.prog_fd = bpf_program__fd(skel->progs.xb_tc_steer);
	assert_int_equal(bpf_tc_attach(&hook, &opts), 0);

	assert_true(xbt_build(&ok, &f) > 0);
	/* The device gets its qdisc when the carrier change that attaching
	 * caused has gone through linkwatch (up to a second later); until
	 * then it drops what it is given: resend until it works. */
	n = -1;
	for (tries = 0; n < 0 && tries < 20; tries++) {
		send_frame(&f);
		n = read_tun(tun, buf, sizeof(buf), 250);
	}
	assert_int_equal(n, (ssize_t)(f.len - 14));
	assert_int_equal(buf[0], 0x45);
	assert_int_equal(buf[8], 63);			/* TTL - 1 */
	assert_int_equal(csum_fold(buf, 20), 0);	/* checksum fixed */
	assert_memory_equal(buf + 20, f.data + 14 + 20, f.len - 14 - 20);

	/* TTL 1: left to the kernel, nothing reaches the device */
	skipped = reason_count(XB_R_STEER_SKIP_TTL);
	assert_true(xbt_build(&ttl1, &f) > 0);
	send_frame(&f);
	assert_true(read_tun(tun, buf, sizeof(buf), 300) < 0);
	assert_int_equal(reason_count(XB_R_STEER_SKIP_TTL) - skipped, 1);

	opts.flags = opts.prog_fd = opts.prog_id = 0;
	assert_int_equal(bpf_tc_detach(&hook, &opts), 0);
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
	close(tun);
}

/* The XDP program attached (native mode on the veth) decides real
 * traffic as the test runs say: a blocked flow is dropped before the
 * stack, an allowed one reaches it. */
static void test_xdp_real(void **state)
{
	struct xbt_pkt_spec drop = { TCP4(V4_LOCAL, 23) };
	struct xbt_pkt_spec pass = { TCP4(V4_LOCAL, 22) };
	uint64_t dropped, allowed;
	struct xbt_frame f;
	int i;

	(void)state;
	set_state(pol_std, sas_std, 0, 0);
	assert_int_equal(bpf_xdp_attach(if_in,
					bpf_program__fd(skel->progs.xb_xdp),
					XDP_FLAGS_DRV_MODE, NULL), 0);
	dropped = reason_count(XB_R_DROP_REQUIRES_IPSEC);
	allowed = reason_count(XB_R_PASS_POLICY_ALLOW);
	assert_true(xbt_build(&drop, &f) > 0);
	for (i = 0; i < 3; i++)
		send_frame(&f);
	assert_true(xbt_build(&pass, &f) > 0);
	send_frame(&f);
	/* veth delivers in NAPI context: give it a moment */
	for (i = 0; i < 100; i++) {
		if (reason_count(XB_R_DROP_REQUIRES_IPSEC) - dropped == 3 &&
		    reason_count(XB_R_PASS_POLICY_ALLOW) - allowed == 1)
			break;
		usleep(10000);
	}
	bpf_xdp_detach(if_in, XDP_FLAGS_DRV_MODE, NULL);
	assert_int_equal(reason_count(XB_R_DROP_REQUIRES_IPSEC) - dropped, 3);
	assert_int_equal(reason_count(XB_R_PASS_POLICY_ALLOW) - allowed, 1);
}

#define N_FIX	(sizeof(fixtures) / sizeof(fixtures[0]))
#define N_STEER	(sizeof(steer_cases) / sizeof(steer_cases[0]))

int main(void)
{
	static struct CMUnitTest tests[2 * N_FIX + N_STEER + 9];
	static char names[N_FIX][160];
	size_t i, n = 0;

	/* cmocka reports a skipped test as "not ok": skips are printed
	 * here, in the runner's "ok - NAME # SKIP" form, instead */
	if (make_net() || load_skel()) {
		if (!skip_why) {
			printf("not ok - load the datapath object\n");
			return 1;
		}
		printf("ok - bpf fixtures # SKIP %s\n", skip_why);
		return 0;
	}
	for (i = 0; i < N_FIX; i++) {
		tests[n].name = fixtures[i].name;
		tests[n].test_func = test_fixture;
		tests[n].initial_state = (void *)&fixtures[i];
		n++;
	}
	for (i = 0; i < N_FIX; i++) {
		snprintf(names[i], sizeof(names[i]), "builder: %s",
			 fixtures[i].name);
		tests[n].name = names[i];
		tests[n].test_func = test_fixture_builder;
		tests[n].initial_state = (void *)&fixtures[i];
		n++;
	}
	for (i = 0; if_tun && i < N_STEER; i++) {
		tests[n].name = steer_cases[i].name;
		tests[n].test_func = test_steer;
		tests[n].initial_state = (void *)&steer_cases[i];
		n++;
	}
	if (if_tun)
		tests[n++] = (struct CMUnitTest)
			cmocka_unit_test(test_steer_counters);
	if (!if_tun)
		printf("ok - tc steering # SKIP no TUN device "
		       "(stand-in for the xfrm interface)\n");
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_not_ip);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_every_truncation_passes);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_flow_cache);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_flow_cache_shared_slot);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_counters);
	tests[n++] = (struct CMUnitTest)
		cmocka_unit_test(test_steer_md_optional);
	if (if_tun)
		tests[n++] = (struct CMUnitTest)
			cmocka_unit_test(test_steer_redirect_real);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_xdp_real);
	if (if_tun && bpf_program__fd(skel->progs.xb_tc_steer_md) >= 0)
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_steer_md);
	else if (if_tun)
		printf("ok - collect_md steering # SKIP "
		       "no bpf_skb_set_xfrm_info in this kernel\n");
	return _cmocka_run_group_tests("bpf_fixtures", tests, n, NULL,
				       group_teardown);
}
