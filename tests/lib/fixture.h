/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the datapath fixture tests (tests/bpf/test_verdicts.c,
 * test_flow_cache.c, test_counters.c, test_steering.c) share: the network
 * namespace they run in, the datapath object they load, the map state a
 * case starts from (the SPD filled directly or published by the real TSS
 * builder, the SAs, the ingress device, the sync record), one XDP run of a
 * packet, and the counters that tell its verdict and reason.
 *
 * What BPF_PROG_TEST_RUN needs here (worked out on 6.18, all of it
 * available since 5.15, so also on the lab's 6.1):
 *  - bpf_fib_lookup() needs real devices: each test program unshares a
 *    private network namespace (it dies with the process: nothing to
 *    clean up) and builds there
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
 *    (tests/bpf/test_steering.c).
 * Maps are not pinned (pin paths cleared before load). Verifier
 * statistics of each program are printed as TAP comments.
 *
 * The helpers stay free of cmocka (the benchmarks link tests/lib too):
 * they return 0, or -1 after saying on stderr, as a TAP comment, what
 * differed; the tests assert on what they return.
 */
#ifndef XBT_FIXTURE_H
#define XBT_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf/tss.h"
#include "lib/pktbuild.h"
#include "tss_fill.h"

struct xfrmbpf;

/* The addresses of the namespace: a sender on the ingress subnet, the
 * gateway's own address there, and a host behind it (forwarded). */
#define V4_SRC		"192.0.2.100"
#define V4_LOCAL	"192.0.2.1"
#define V4_FWD		"203.0.113.5"
#define V6_SRC		"2001:db8:1::100"
#define V6_LOCAL	"2001:db8:1::1"
#define V6_FWD		"2001:db8:3::5"

/* MTU of xbt-tun, the stand-in xfrm interface. */
#define TUN_MTU		1400
/* xb_stats row of the ingress device: not 0, to see it used. */
#define IF_IN_SLOT	5
/* Per-CPU map values are read into static arrays of this many entries: a
 * failed assertion longjmps out of the test, so no buffer of a test may
 * need a free(). */
#define MAX_CPUS	4096

#define NO_POL		XB_NO_POLICY
/* A case that expects no reason counted at all. */
#define NOTHING_COUNTED	(-1)

#define PASS		XDP_PASS
#define DROP		XDP_DROP

/* Policies of a table (struct xbt_policy, tests/lib/tss_fill.h). */
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

/* Packets of a table (struct xbt_pkt_spec, tests/lib/pktbuild.h). */
#define PKT(...)	{ __VA_ARGS__ }
#define TCP4(d, dp)	.family = 4, .src = V4_SRC, .dst = (d), \
			.l4 = XBT_L4_TCP, .sport = 40000, .dport = (dp)
#define UDP4(d, dp)	.family = 4, .src = V4_SRC, .dst = (d), \
			.l4 = XBT_L4_UDP, .sport = 40000, .dport = (dp)
#define TCP6(d, dp)	.family = 6, .src = V6_SRC, .dst = (d), \
			.l4 = XBT_L4_TCP, .sport = 40000, .dport = (dp)
#define UDP6(d, dp)	.family = 6, .src = V6_SRC, .dst = (d), \
			.l4 = XBT_L4_UDP, .sport = 40000, .dport = (dp)
#define ESP4(d, id)	.family = 4, .src = V4_SRC, .dst = (d), \
			.l4 = XBT_L4_ESP, .spi = (id)
#define ESP6(d, id)	.family = 6, .src = V6_SRC, .dst = (d), \
			.l4 = XBT_L4_ESP, .spi = (id)

/* State switches of a case, beside its SPD and SAs. */
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
	ST_GENERIC	= 1 << 9,	/* XDP in skb (generic) mode */
	ST_STACKED	= 1 << 10,	/* the ingress is another device's port */
	ST_NO_NATT_SOCKET = 1 << 11,	/* no UDP socket holds udp/4500 */
	/* The daemon has not read its XFRM socket since the packet came
	 * (xb_sync.drained_ns = 0); without it, it has read everything. */
	ST_SPI_UNREAD	= 1 << 12,
	ST_DEF_BLOCK_OUT = 1 << 13,
	/* a writer of the kernel's SPD runs (the SPD watch, sync.h) */
	ST_SPD_CHANGING	= 1 << 14,
};

/* An inbound SA, as xb_spis knows it. */
struct xbt_sa {
	const char *daddr;	/* NULL ends a list */
	uint32_t spi;
	uint8_t proto;
};

/* A gateway protecting itself and a subnet behind it, and its SAs
 * (ESP and AH, to each local address). */
extern const struct xbt_policy gw_spd[];
extern const struct xbt_sa gw_sas[];

/* The loaded datapath and the namespace's devices. */
struct xbt_fx {
	struct xfrmbpf *skel;
	int if_in;		/* xbt-fx0: test frames arrive here */
	int if_tun;		/* xbt-tun; 0 on a kernel without TUN */
	uint64_t generation;	/* of the SPD the last case published */
	bool use_builder;	/* publish through the TSS builder */
};

extern struct xbt_fx xbt_fx;

/* Builds the namespace and loads the datapath. Returns 0 when the tests
 * can run; otherwise it has printed a TAP line for suite (a skip, or the
 * failed load) and *status is what main() returns. */
int xbt_fx_start(const char *suite, int *status);

/* Loads the datapath again (fresh maps), e.g. after xbt_skel_spread_on
 * changed. Returns 0, or -1 when it does not load. */
int xbt_fx_reload(void);

/* A cmocka group teardown: unloads the datapath. */
int xbt_fx_teardown(void **state);

/* The sync record of the current generation, with st's sync switches. */
int xbt_fx_set_sync(unsigned int st);

/*
 * The state a case starts from: a new generation (cached flows of earlier
 * cases must not count, which also exercises the cache invalidation), the
 * SPD pols (filled directly, or published by the TSS builder when
 * xbt_fx.use_builder), the SAs, the ingress device with if_flags, the IKE
 * bypass ports and the sync record, with st's switches.
 */
int xbt_fx_set_state(const struct xbt_policy *pols, const struct xbt_sa *sas,
		     unsigned int st, uint32_t if_flags);

/* Possible CPUs (the values a per-CPU lookup writes), or -1 beyond
 * MAX_CPUS. */
int xbt_fx_num_cpus(void);

/* Packets counted under reason, or for policy id, over every CPU. */
uint64_t xbt_fx_reason_count(int reason);
uint64_t xbt_fx_policy_count(uint32_t id);
/* pass_undecidable packets of one cause (xb_undecidable_stats). */
uint64_t xbt_fx_cause_count(int cause);

/* Every reason's packets, and one policy's (NO_POL: none). */
struct xbt_counts {
	uint64_t reason[XB_R_MAX];
	uint64_t policy;
};

void xbt_fx_snap_counts(struct xbt_counts *c, uint32_t policy);

/* Since before, reason (NOTHING_COUNTED: none) was counted n times and no
 * other reason at all. */
int xbt_fx_check_reason_delta(const struct xbt_counts *before, int reason,
			      uint64_t n);

/* One run of xb_xdp on f, received on xbt-fx0. */
int xbt_fx_run_xdp(const struct xbt_frame *f, uint32_t *retval);

/* One run of f: verdict, reason counted once and nothing else, and the
 * policy counted once unless NO_POL. */
int xbt_fx_expect(const struct xbt_frame *f, uint32_t verdict, int reason,
		  uint32_t policy);

/* The rows of xb_stats a test looks at, read as user/loader/stats.c reads
 * them (one batch), the totals checked against a lookup per key. */
struct xbt_stat_rows {
	struct xb_counter in[XB_R_MAX];		/* row of xbt-fx0 */
	struct xb_counter other[XB_R_MAX];	/* devices without a slot */
	struct xb_counter total[XB_R_MAX];
};

int xbt_fx_read_stat_rows(struct xbt_stat_rows *s);

/* Sends f out of xbt-fx1, so that it enters xbt-fx0 (veth peers). */
int xbt_fx_send_frame(const struct xbt_frame *f);

#endif
