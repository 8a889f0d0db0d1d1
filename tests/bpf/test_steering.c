// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TC steering (xb_tc_steer): a forwarded packet that an OUT policy with an
 * if_id sends into an xfrm interface is redirected there, forwarded as
 * ip_forward would (TTL - 1, valid checksum), and counted as steered in
 * its device's row; what the kernel must see (TTL 1, above the xfrm MTU,
 * for the gateway itself, an if_id without a device) goes to it with its
 * reason; what is no steering case (steering off, blocked, no if_id, ESP,
 * VLAN tags, fragments, frames for another host) passes untouched and
 * uncounted. An if_id without a device of its own goes to the collect_md
 * device (bpf_redirect_neigh, its if_id handed to the device's egress
 * program) when that program runs there, for IPv4 only and not under a
 * default OUT block; else to the kernel. The egress program (loaded only
 * where bpf_skb_set_xfrm_info exists) takes only the packet handed to it.
 * Cases run through BPF_PROG_TEST_RUN, and once on real devices:
 * the redirect from the Ethernet ingress into an L3 device delivers the
 * bare IP packet. The namespace and the shared setup:
 * tests/lib/fixture.h (xbt-tun stands in for the xfrm interface).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xfrmbpf.skel.h"
#include "xfrmbpf/sad.h"
#include "bpf_harness.h"
#include "fixture.h"
#include "loader/stats.h"

#define STEER_IF_ID	7
#define NODEV_IF_ID	9

/* One run of a TC program on f, received on xbt-fx0; out gets the
 * packet as the program left it. */
static int run_tc(struct bpf_program *prog, struct xbt_frame *f,
		  uint32_t *retval, uint8_t *out, uint32_t *out_len)
{
	struct __sk_buff ctx = { .ifindex = (uint32_t)xbt_fx.if_in,
				 .ingress_ifindex = (uint32_t)xbt_fx.if_in };
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
	POL(.id = 56, .view = XB_VIEW_OUT, .family = 6, MAIN,
	    .verdict = XB_V_REQUIRES_IPSEC, .dst = "2001:db8:4::",
	    .plen_d = 64, .priority = 10, .pos = 7, .if_id = NODEV_IF_ID),
	{ 0 }
};

struct steer_case {
	const char *name;
	struct xbt_pkt_spec pkt;
	uint32_t if_flags;
	int retval;		/* TC_ACT_OK / TC_ACT_REDIRECT */
	int reason;		/* NOTHING_COUNTED: none */
};

static const struct steer_case steer_cases[] = {
	{ "v4 forwarded into the xfrm interface", { TCP4(V4_FWD, 80) },
	  XB_IF_STEER, TC_ACT_REDIRECT, XB_R_STEER },
	{ "v6 forwarded into the xfrm interface", { TCP6(V6_FWD, 80) },
	  XB_IF_STEER, TC_ACT_REDIRECT, XB_R_STEER },
	{ "steering off on this nic", { TCP4(V4_FWD, 80) }, 0, TC_ACT_OK,
	  NOTHING_COUNTED },
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
	  XB_IF_STEER, TC_ACT_OK, NOTHING_COUNTED },
	{ "out policy without if_id: not steered",
	  { TCP4("198.51.100.200", 80) }, XB_IF_STEER, TC_ACT_OK,
	  NOTHING_COUNTED },
	{ "no out policy: not steered", { TCP6("2001:db8:2::9", 80) },
	  XB_IF_STEER, TC_ACT_OK, NOTHING_COUNTED },
	{ "esp is not steered", { ESP4(V4_FWD, 5) }, XB_IF_STEER, TC_ACT_OK,
	  NOTHING_COUNTED },
	{ "in-band vlan tag is not steered", { TCP4(V4_FWD, 80), .vlans = 1 },
	  XB_IF_STEER, TC_ACT_OK, NOTHING_COUNTED },
	{ "fragment is not steered", { TCP4(V4_FWD, 80), .frag = 0x2000 },
	  XB_IF_STEER, TC_ACT_OK, NOTHING_COUNTED },
	{ "frame for another host is not steered", { TCP4(V4_FWD, 80),
	  .other_host = true }, XB_IF_STEER, TC_ACT_OK, NOTHING_COUNTED },
};

/* xbt-tun is the xfrm interface of STEER_IF_ID. */
static void set_links(void)
{
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_xfrm_links);
	struct xb_xfrm_link l = { .ifindex = (uint32_t)xbt_fx.if_tun,
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
	struct xbt_counts before;
	struct xbt_frame f;
	uint32_t retval, out_len;

	assert_int_equal(xbt_fx_set_state(pol_steer, NULL, 0, c->if_flags), 0);
	set_links();
	assert_true(xbt_build(&c->pkt, &f) > 0);
	xbt_fx_snap_counts(&before, NO_POL);
	assert_int_equal(run_tc(xbt_fx.skel->progs.xb_tc_steer, &f, &retval,
				out, &out_len), 0);
	if ((int)retval != c->retval)
		fail_msg("%s: retval %u, want %d", c->name, retval, c->retval);
	assert_int_equal(xbt_fx_check_reason_delta(&before, c->reason, 1), 0);
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

/* One case of steer_cases. */
static void test_steer_case(void **state)
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

/* While a writer of the kernel's SPD runs, the OUT policy the maps name
 * may be gone: nothing is steered, nothing counted (XDP counts the
 * packet), and steering resumes once it has returned. */
static void test_spd_changing_not_steered(void **state)
{
	const struct steer_case *c = steer_case_of(XB_R_STEER);
	uint8_t out[XBT_FRAME_MAX];
	struct xbt_counts before;
	struct xbt_frame f;
	uint32_t retval, out_len;

	(void)state;
	assert_int_equal(xbt_fx_set_state(pol_steer, NULL, ST_SPD_CHANGING, c->if_flags), 0);
	set_links();
	assert_true(xbt_build(&c->pkt, &f) > 0);
	xbt_fx_snap_counts(&before, NO_POL);
	assert_int_equal(run_tc(xbt_fx.skel->progs.xb_tc_steer, &f, &retval,
				out, &out_len), 0);
	assert_int_equal(retval, TC_ACT_OK);
	assert_int_equal(xbt_fx_check_reason_delta(&before, NOTHING_COUNTED, 1), 0);
	assert_memory_equal(out, f.data, f.len);
	run_steer_case(c);
}

/* TC counts in the device's row: XB_R_STEER is its "steered", and
 * nothing TC counts is a packet received (XDP counts those). */
static void test_steering_counts_steered_not_received(void **state)
{
	struct xb_iface_counters ia, ib;
	struct xbt_stat_rows a, b;

	(void)state;
	assert_int_equal(xbt_fx_read_stat_rows(&a), 0);
	run_steer_case(steer_case_of(XB_R_STEER));
	run_steer_case(steer_case_of(XB_R_STEER));
	run_steer_case(steer_case_of(XB_R_STEER_SKIP_TTL));
	assert_int_equal(xbt_fx_read_stat_rows(&b), 0);
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

/* ---- the collect_md device (key 0) ---- */

#define MD_V4_DST	"198.51.100.9"	/* policy 52: NODEV_IF_ID */
#define MD_V6_DST	"2001:db8:4::9"	/* policy 56: NODEV_IF_ID */

/* The collect_md device at key 0 (xbt-tun stands in for it), and where
 * the loader says our egress program runs (0: nowhere). */
static void set_md(uint32_t link_ifindex, uint32_t egress_ifindex)
{
	struct xb_xfrm_link l = { .ifindex = link_ifindex, .collect_md = 1 };
	int links_fd = bpf_map__fd(xbt_fx.skel->maps.xb_xfrm_links);
	uint32_t key = 0;

	strcpy(l.name, "xbt-tun");
	if (link_ifindex)
		assert_int_equal(bpf_map_update_elem(links_fd, &key, &l, BPF_ANY), 0);
	else
		bpf_map_delete_elem(links_fd, &key);
	xbt_fx.skel->data_md_egress->xb_md_egress_ifindex = egress_ifindex;
}

static struct xb_md_handoff handoffs[MAX_CPUS];

/* Every CPU's handoff: cleared (write) or read. */
static void handoffs_clear(void)
{
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_md_handoff);
	uint32_t zero = 0;

	memset(handoffs, 0, sizeof(handoffs));
	assert_int_equal(bpf_map_update_elem(fd, &zero, handoffs, BPF_ANY), 0);
}

/* The one pending handoff (the CPU the test ran on), NULL when none. */
static const struct xb_md_handoff *handoff_pending(void)
{
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_md_handoff);
	const struct xb_md_handoff *found = NULL;
	int i, n = xbt_fx_num_cpus();
	uint32_t zero = 0;

	assert_true(n > 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, handoffs), 0);
	for (i = 0; i < n; i++) {
		if (!handoffs[i].pending)
			continue;
		assert_null(found);	/* one packet, one handoff */
		found = &handoffs[i];
	}
	return found;
}

/* One packet to MD_*_DST through xb_tc_steer; the reason it was counted
 * under must be want (XB_R_STEER: redirected, else no handoff). */
static void run_md_case(const struct xbt_pkt_spec *spec, int want, uint8_t *out,
			struct xbt_frame *f)
{
	struct xbt_counts before;
	uint32_t retval, out_len;

	assert_true(xbt_build(spec, f) > 0);
	handoffs_clear();
	xbt_fx_snap_counts(&before, NO_POL);
	assert_int_equal(run_tc(xbt_fx.skel->progs.xb_tc_steer, f, &retval,
				out, &out_len), 0);
	assert_int_equal(retval, want == XB_R_STEER ? TC_ACT_REDIRECT : TC_ACT_OK);
	assert_int_equal(xbt_fx_check_reason_delta(&before, want, 1), 0);
	if (want != XB_R_STEER)
		assert_null(handoff_pending());
}

/* IPv4, if_id without a device, our egress program on the collect_md
 * device: redirected there, its if_id, device, length without Ethernet
 * and header (TTL decremented) handed to the egress program. */
static void test_md_v4_redirected_with_handoff(void **state)
{
	struct xbt_pkt_spec spec = { TCP4(MD_V4_DST, 80) };
	const struct xb_md_handoff *h;
	uint8_t out[XBT_FRAME_MAX];
	struct xbt_frame f;

	(void)state;
	assert_int_equal(xbt_fx_set_state(pol_steer, NULL, 0, XB_IF_STEER), 0);
	set_links();
	set_md((uint32_t)xbt_fx.if_tun, (uint32_t)xbt_fx.if_tun);
	run_md_case(&spec, XB_R_STEER, out, &f);
	h = handoff_pending();
	assert_non_null(h);
	assert_int_equal(h->if_id, NODEV_IF_ID);
	assert_int_equal(h->ingress_ifindex, xbt_fx.if_in);
	assert_int_equal(h->len, f.len - 14);
	assert_int_equal(out[14 + 8], 63);
	assert_memory_equal(h->iph, out + 14, sizeof(h->iph));
	set_md(0, 0);
}

/* What does not go to the collect_md device, counted steer_skip_no_dev. */
static void test_md_not_steered(void **state)
{
	struct xbt_pkt_spec v4 = { TCP4(MD_V4_DST, 80) };
	struct xbt_pkt_spec v6 = { TCP6(MD_V6_DST, 80) };
	uint32_t md = (uint32_t)xbt_fx.if_tun;
	uint8_t out[XBT_FRAME_MAX];
	struct xbt_frame f;

	(void)state;
	assert_int_equal(xbt_fx_set_state(pol_steer, NULL, 0, XB_IF_STEER), 0);
	set_links();
	/* IPv6: no on-link fallback when routed through the device */
	set_md(md, md);
	run_md_case(&v6, XB_R_STEER_SKIP_NO_DEV, out, &f);
	/* our egress program runs on no device (6.1, not attached yet) */
	set_md(md, 0);
	run_md_case(&v4, XB_R_STEER_SKIP_NO_DEV, out, &f);
	/* it runs on another device than the mirrored collect_md one */
	set_md(md, md + 100);
	run_md_case(&v4, XB_R_STEER_SKIP_NO_DEV, out, &f);
	/* no collect_md device mirrored */
	set_md(0, md);
	run_md_case(&v4, XB_R_STEER_SKIP_NO_DEV, out, &f);
	/* default OUT block: routing through the device would drop it */
	assert_int_equal(xbt_fx_set_state(pol_steer, NULL, ST_DEF_BLOCK_OUT,
					  XB_IF_STEER), 0);
	set_links();
	set_md(md, md);
	run_md_case(&v4, XB_R_STEER_SKIP_NO_DEV, out, &f);
	set_md(0, 0);
}

/*
 * xb_tc_md_egress, where its kfunc exists: a packet that is not the one
 * handed over passes untouched and leaves the handoff pending; the one
 * handed over takes it. BPF_PROG_TEST_RUN gives the program an Ethernet
 * frame, so the handoff here copies the frame's first bytes where the
 * device's egress would see the IP header.
 */
static void test_md_egress_takes_only_its_packet(void **state)
{
	struct xbt_pkt_spec spec = { TCP4(MD_V4_DST, 80) };
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_md_handoff);
	uint8_t out[XBT_FRAME_MAX];
	uint32_t retval, out_len, zero = 0;
	struct xbt_frame f;
	int i, taken, n = xbt_fx_num_cpus();

	(void)state;
	assert_true(n > 0);
	assert_true(xbt_build(&spec, &f) > 0);
	memset(handoffs, 0, sizeof(handoffs));
	for (i = 0; i < n; i++) {
		handoffs[i].pending = 1;
		handoffs[i].if_id = NODEV_IF_ID;
		handoffs[i].ingress_ifindex = (uint32_t)xbt_fx.if_in;
		handoffs[i].len = (uint32_t)f.len;
		memcpy(handoffs[i].iph, f.data, sizeof(handoffs[i].iph));
		handoffs[i].iph[4] ^= 1;	/* another packet's header */
	}
	assert_int_equal(bpf_map_update_elem(fd, &zero, handoffs, BPF_ANY), 0);
	assert_int_equal(run_tc(xbt_fx.skel->progs.xb_tc_md_egress, &f, &retval,
				out, &out_len), 0);
	assert_int_equal(retval, TC_ACT_OK);
	assert_int_equal(out_len, f.len);
	assert_memory_equal(out, f.data, f.len);
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, handoffs), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(handoffs[i].pending, 1);

	for (i = 0; i < n; i++)
		handoffs[i].iph[4] ^= 1;
	assert_int_equal(bpf_map_update_elem(fd, &zero, handoffs, BPF_ANY), 0);
	assert_int_equal(run_tc(xbt_fx.skel->progs.xb_tc_md_egress, &f, &retval,
				out, &out_len), 0);
	assert_int_equal(retval, TC_ACT_OK);
	/* taken on the CPU the program ran on, and only there */
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, handoffs), 0);
	for (i = 0, taken = 0; i < n; i++)
		taken += !handoffs[i].pending;
	assert_int_equal(taken, 1);
	handoffs_clear();
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
static void test_steer_redirect_delivers_bare_ip(void **state)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = xbt_fx.if_in,
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
	assert_int_equal(xbt_fx_set_state(pol_steer, NULL, 0, XB_IF_STEER), 0);
	set_links();
	tun = open_tun("xbt-tun");
	assert_true(tun >= 0);
	err = bpf_tc_hook_create(&hook);
	assert_true(!err || err == -EEXIST);
	opts.prog_fd = bpf_program__fd(xbt_fx.skel->progs.xb_tc_steer);
	assert_int_equal(bpf_tc_attach(&hook, &opts), 0);

	assert_true(xbt_build(&ok, &f) > 0);
	/* The device gets its qdisc when the carrier change that attaching
	 * caused has gone through linkwatch (up to a second later); until
	 * then it drops what it is given: resend until it works. */
	n = -1;
	for (tries = 0; n < 0 && tries < 20; tries++) {
		assert_int_equal(xbt_fx_send_frame(&f), 0);
		n = read_tun(tun, buf, sizeof(buf), 250);
	}
	assert_int_equal(n, (ssize_t)(f.len - 14));
	assert_int_equal(buf[0], 0x45);
	assert_int_equal(buf[8], 63);			/* TTL - 1 */
	assert_int_equal(csum_fold(buf, 20), 0);	/* checksum fixed */
	assert_memory_equal(buf + 20, f.data + 14 + 20, f.len - 14 - 20);

	/* TTL 1: left to the kernel, nothing reaches the device */
	skipped = xbt_fx_reason_count(XB_R_STEER_SKIP_TTL);
	assert_true(xbt_build(&ttl1, &f) > 0);
	assert_int_equal(xbt_fx_send_frame(&f), 0);
	assert_true(read_tun(tun, buf, sizeof(buf), 300) < 0);
	assert_int_equal(xbt_fx_reason_count(XB_R_STEER_SKIP_TTL) - skipped, 1);

	opts.flags = opts.prog_fd = opts.prog_id = 0;
	assert_int_equal(bpf_tc_detach(&hook, &opts), 0);
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
	close(tun);
}

#define N_STEER	(sizeof(steer_cases) / sizeof(steer_cases[0]))

int main(void)
{
	static struct CMUnitTest tests[N_STEER + 6];
	size_t i, n = 0;
	int status;

	xbt_skel_tc = true;
	if (xbt_fx_start("bpf steering", &status))
		return status;
	if (xbt_fx.if_tun) {
		for (i = 0; i < N_STEER; i++) {
			tests[n].name = steer_cases[i].name;
			tests[n].test_func = test_steer_case;
			tests[n].initial_state = (void *)&steer_cases[i];
			n++;
		}
		tests[n++] = (struct CMUnitTest)
			cmocka_unit_test(test_steering_counts_steered_not_received);
		tests[n++] = (struct CMUnitTest)
			cmocka_unit_test(test_spd_changing_not_steered);
		tests[n++] = (struct CMUnitTest)
			cmocka_unit_test(test_steer_redirect_delivers_bare_ip);
		tests[n++] = (struct CMUnitTest)
			cmocka_unit_test(test_md_v4_redirected_with_handoff);
		tests[n++] = (struct CMUnitTest)
			cmocka_unit_test(test_md_not_steered);
	} else {
		printf("ok - tc steering # SKIP no TUN device "
		       "(stand-in for the xfrm interface)\n");
	}
	if (bpf_program__fd(xbt_fx.skel->progs.xb_tc_md_egress) >= 0)
		tests[n++] = (struct CMUnitTest)
			cmocka_unit_test(test_md_egress_takes_only_its_packet);
	else
		printf("ok - collect_md egress program # SKIP no "
		       "bpf_skb_set_xfrm_info in this kernel (6.2+, xfrm_interface)\n");
	return _cmocka_run_group_tests("bpf_steering", tests, n, NULL,
				       xbt_fx_teardown);
}
