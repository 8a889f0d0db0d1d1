// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <linux/xfrm.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xfrmbpf.skel.h"
#include "xfrmbpf/sad.h"
#include "xfrmbpf/sync.h"
#include "bpf_harness.h"
#include "fixture.h"
#include "loader/stats.h"
#include "classifier/tss.h"
#include "tss_sink_maps.h"

struct xbt_fx xbt_fx;

/* Says what differed, as a TAP comment, and fails. */
static int fx_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- the namespace ---- */

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

static int make_net(const char **skip_why)
{
	size_t i;

	if (xbt_net_enter(net_setup, ARRAY_LEN(net_setup), skip_why))
		return -1;
	xbt_fx.if_in = (int)if_nametoindex("xbt-fx0");
	for (i = 0; i < ARRAY_LEN(tun_setup); i++)
		if (xbt_sh(tun_setup[i]))
			break;
	if (i == ARRAY_LEN(tun_setup))
		xbt_fx.if_tun = (int)if_nametoindex("xbt-tun");
	if (!xbt_fx.if_in) {
		*skip_why = "no xbt-fx0";
		return -1;
	}
	return 0;
}

/* ---- the datapath object ---- */

/* Verifier statistics (log level 4) of every program, printed as TAP
 * comments: how close each program is to the complexity limit on the
 * kernel under test (the kernel lab runs the fixtures on 6.1). */
static char verifier_log[3][65536];

static void print_verifier_stats(void)
{
	struct bpf_program *prog;
	int i = 0;

	bpf_object__for_each_program(prog, xbt_fx.skel->obj) {
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
	xbt_fx.skel = stats ? xbt_skel_load(verifier_log[0], 3,
					    sizeof(verifier_log[0])) :
			      xbt_skel_load(NULL, 0, 0);
	if (!xbt_fx.skel)
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
	return load_skel_logged(false);
}

int xbt_fx_start(const char *suite, int *status)
{
	const char *skip_why = NULL;

	/* cmocka reports a skipped test as "not ok": skips are printed
	 * here, in the runner's "ok - NAME # SKIP" form, instead */
	if (make_net(&skip_why)) {
		printf("ok - %s # SKIP %s\n", suite, skip_why);
		*status = 0;
		return -1;
	}
	if (load_skel()) {
		printf("not ok - load the datapath object\n");
		*status = 1;
		return -1;
	}
	return 0;
}

int xbt_fx_reload(void)
{
	xfrmbpf__destroy(xbt_fx.skel);
	xbt_fx.skel = NULL;
	return load_skel();
}

int xbt_fx_teardown(void **state)
{
	(void)state;
	xfrmbpf__destroy(xbt_fx.skel);
	xbt_fx.skel = NULL;
	return 0;
}

/* ---- map state ---- */

int xbt_fx_set_sync(unsigned int st)
{
	struct xb_sync s = {};
	uint32_t zero = 0;

	s.seq = xbt_fx.generation * 2 + ((st & ST_ODD_SEQ) ? 1 : 0);
	s.generation = xbt_fx.generation;
	s.synced = (st & ST_UNSYNCED) ? 0 : 1;
	s.heartbeat_timeout_ns = 3000000000ULL;
	s.heartbeat_ns = xbt_now_ns();
	/* The datapath reads only the watchdog's verdict (test_watchdog.c
	 * checks the watchdog): an old beat alone changes nothing here. */
	if (st & ST_STALE) {
		s.heartbeat_ns -= 10000000000ULL;
		s.heartbeat_stale = 1;
	}
	s.drained_ns = (st & ST_SPI_UNREAD) ? 0 : UINT64_MAX;
	if (st & ST_SPD_CHANGING) {
		s.spd_watch = 1;
		s.spd_writers = 1;
	}
	s.default_action[0] = (st & ST_DEF_BLOCK_IN) ? XB_DEFAULT_BLOCK : 0;
	s.default_action[1] = (st & ST_DEF_BLOCK_OUT) ? XB_DEFAULT_BLOCK : 0;
	s.default_action[2] = (st & ST_DEF_BLOCK_FWD) ? XB_DEFAULT_BLOCK : 0;
	if (bpf_map_update_elem(bpf_map__fd(xbt_fx.skel->maps.xb_sync), &zero,
				&s, BPF_ANY))
		return fx_fail("cannot write xb_sync");
	return 0;
}

static int set_iface(unsigned int st, uint32_t flags)
{
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_ifaces);
	struct xb_iface_cfg cfg = { .flags = XB_IF_XDP | flags, .mtu = 1500,
				    .stats_slot = IF_IN_SLOT };
	uint32_t key = (uint32_t)xbt_fx.if_in;

	if (st & ST_DISABLE4)
		cfg.flags |= XB_IF_DISABLE_POLICY4;
	if (st & ST_DISABLE6)
		cfg.flags |= XB_IF_DISABLE_POLICY6;
	if (st & ST_GENERIC)
		cfg.flags |= XB_IF_GENERIC;
	if (st & ST_STACKED)
		cfg.flags |= XB_IF_STACKED;
	if (st & ST_NO_IFACE) {
		bpf_map_delete_elem(fd, &key);
		return 0;
	}
	if (bpf_map_update_elem(fd, &key, &cfg, BPF_ANY))
		return fx_fail("cannot write xb_ifaces");
	return 0;
}

/* IKE (udp/500) and NAT-T (udp/4500) go to the kernel undecided; an IKE
 * daemon's socket holds udp/4500 (ESP in UDP is decapsulated there)
 * unless ST_NO_NATT_SOCKET. */
static int set_bypass(unsigned int st)
{
	static const uint16_t ports[] = { 500, 4500 };
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_bypass);
	struct xb_bypass_key k = { .proto = IPPROTO_UDP };
	uint8_t one = 1;
	size_t i;

	for (i = 0; i < ARRAY_LEN(ports); i++) {
		k.port = htons(ports[i]);
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY))
			return fx_fail("cannot write xb_bypass");
	}
	k.kind = XB_BYPASS_ENCAP_SOCKET;
	k.port = htons(4500);
	if (st & ST_NO_NATT_SOCKET)
		bpf_map_delete_elem(fd, &k);
	else if (bpf_map_update_elem(fd, &k, &one, BPF_ANY))
		return fx_fail("cannot write xb_bypass");
	return 0;
}

static int set_sas(const struct xbt_sa *sas)
{
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_spis);
	struct xb_spi_key k, next;
	struct xb_spi_val v = { .n_sas = 1, .cpu = XB_NO_CPU };

	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		bpf_map_delete_elem(fd, &k);
	}
	for (; sas && sas->daddr; sas++) {
		memset(&k, 0, sizeof(k));
		k.family = strchr(sas->daddr, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(k.family, sas->daddr, k.daddr.b) != 1)
			return fx_fail("bad SA address %s", sas->daddr);
		k.spi = htonl(sas->spi);
		k.proto = sas->proto;
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return fx_fail("cannot write xb_spis");
	}
	return 0;
}

/* The policy as the mirror would hand it to the TSS builder
 * (user/classifier/tss.c): the fixture's view and verdict become
 * direction, action and flags. */
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
static int publish_with_builder(const struct xbt_policy *pols)
{
	struct xb_tss_maps maps = {
		.tss_fd = bpf_map__fd(xbt_fx.skel->maps.xb_tss),
		.pair_fd = bpf_map__fd(xbt_fx.skel->maps.xb_tss_pair),
		.lists_fd = bpf_map__fd(xbt_fx.skel->maps.xb_shape_lists),
		.index_fd = bpf_map__fd(xbt_fx.skel->maps.xb_tss_index),
		.filter = xbt_skel_filter(xbt_fx.skel),
	};
	struct xb_tss_sink sink;
	struct xb_policy x;
	struct xb_tss *tss;
	int err = -1;

	if (!maps.filter)
		return fx_fail("cannot map the presence filter");
	tss = xb_tss_new(XB_MAX_POLICIES);
	if (!tss)
		return fx_fail("cannot make a TSS builder");
	if (xb_tss_maps_clear(&maps)) {
		fx_fail("cannot clear the classifier maps");
		goto out;
	}
	for (; pols && pols->id; pols++) {
		to_xb_policy(pols, &x);
		if (xb_tss_add(tss, &x)) {
			fx_fail("the builder refused policy %u", pols->id);
			goto out;
		}
	}
	xb_tss_maps_sink(&maps, &sink);
	if (xb_tss_flush(tss, &sink)) {
		fx_fail("the builder's flush failed");
		goto out;
	}
	if (xb_tss_filter_maintain(maps.filter, maps.tss_fd, maps.pair_fd)) {
		fx_fail("cannot maintain the presence filter");
		goto out;
	}
	err = 0;
out:
	xb_tss_free(tss);
	return err;
}

static int publish_spd(const struct xbt_policy *pols)
{
	if (xbt_fx.use_builder)
		return publish_with_builder(pols);
	if (xbt_tss_fill(bpf_map__fd(xbt_fx.skel->maps.xb_tss),
			 bpf_map__fd(xbt_fx.skel->maps.xb_shape_lists),
			 xbt_skel_filter(xbt_fx.skel), pols))
		return fx_fail("cannot fill the classifier");
	return 0;
}

int xbt_fx_set_state(const struct xbt_policy *pols, const struct xbt_sa *sas,
		     unsigned int st, uint32_t if_flags)
{
	xbt_fx.generation++;
	if (publish_spd(pols))
		return -1;
	if ((st & ST_OVERFLOW) &&
	    xbt_tss_overflow(bpf_map__fd(xbt_fx.skel->maps.xb_shape_lists),
			     XB_SHAPE_LIST_IDX(XB_VIEW_IN, XB_PTYPE_MAIN,
					       XB_FAM_V4)))
		return fx_fail("cannot overflow the IN main v4 list");
	if (set_sas(sas) || set_iface(st, if_flags) || set_bypass(st))
		return -1;
	return xbt_fx_set_sync(st);
}

/* ---- counters ---- */

int xbt_fx_num_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	if (n < 1 || n > MAX_CPUS)
		return fx_fail("%d possible CPUs (1 to %d supported)", n,
			       MAX_CPUS);
	return n;
}

uint64_t xbt_fx_reason_count(int reason)
{
	return xbt_reason_packets(bpf_map__fd(xbt_fx.skel->maps.xb_stats),
				  (uint32_t)reason);
}

uint64_t xbt_fx_cause_count(int cause)
{
	struct xb_maps maps = { .n_cpus = xbt_fx_num_cpus() };
	struct xb_undecidable_stats u;

	maps.fd[XB_MAP_UNDECIDABLE_STATS] =
		bpf_map__fd(xbt_fx.skel->maps.xb_undecidable_stats);
	if (maps.n_cpus < 1 || xb_undecidable_stats_read(&maps, &u) ||
	    cause < 0 || cause >= XB_U_MAX)
		return 0;
	return u.packets[cause];
}

uint64_t xbt_fx_policy_count(uint32_t id)
{
	return xbt_percpu_packets(bpf_map__fd(xbt_fx.skel->maps.xb_policy_stats),
				  id);
}

void xbt_fx_snap_counts(struct xbt_counts *c, uint32_t policy)
{
	int r;

	for (r = 0; r < XB_R_MAX; r++)
		c->reason[r] = xbt_fx_reason_count(r);
	c->policy = policy != NO_POL ? xbt_fx_policy_count(policy) : 0;
}

int xbt_fx_check_reason_delta(const struct xbt_counts *before, int reason,
			      uint64_t n)
{
	struct xbt_counts after;
	int r, err = 0;

	xbt_fx_snap_counts(&after, NO_POL);
	for (r = 0; r < XB_R_MAX; r++) {
		uint64_t want = r == reason ? n : 0;
		uint64_t got = after.reason[r] - before->reason[r];

		if (got != want)
			err = fx_fail("reason %d counted %llu times, want %llu",
				      r, (unsigned long long)got,
				      (unsigned long long)want);
	}
	return err;
}

/* ---- running ---- */

int xbt_fx_run_xdp(const struct xbt_frame *f, uint32_t *retval)
{
	if (xbt_run_xdp(xbt_fx.skel, f, xbt_fx.if_in, retval))
		return fx_fail("the XDP test run failed");
	return 0;
}

int xbt_fx_expect(const struct xbt_frame *f, uint32_t verdict, int reason,
		  uint32_t policy)
{
	struct xbt_counts before;
	uint32_t retval;
	int err = 0;

	xbt_fx_snap_counts(&before, policy);
	if (xbt_fx_run_xdp(f, &retval))
		return -1;
	if (retval != verdict)
		err = fx_fail("verdict %u, want %u", retval, verdict);
	if (xbt_fx_check_reason_delta(&before, reason, 1))
		err = fx_fail("want reason %d counted once", reason);
	if (policy != NO_POL &&
	    xbt_fx_policy_count(policy) - before.policy != 1)
		err = fx_fail("policy %u counted %llu times, want 1", policy,
			      (unsigned long long)(xbt_fx_policy_count(policy) -
						   before.policy));
	return err;
}

int xbt_fx_read_stat_rows(struct xbt_stat_rows *s)
{
	struct xb_maps maps = { .n_cpus = xbt_fx_num_cpus() };
	struct xb_stats st;
	int r;

	if (maps.n_cpus < 0)
		return -1;
	maps.fd[XB_MAP_STATS] = bpf_map__fd(xbt_fx.skel->maps.xb_stats);
	if (xb_stats_read(&maps, &st))
		return fx_fail("cannot read xb_stats");
	xb_stats_row(&st, IF_IN_SLOT, s->in);
	xb_stats_row(&st, XB_STATS_ROW_OTHER, s->other);
	xb_stats_totals(&st, s->total);
	xb_stats_free(&st);
	for (r = 0; r < XB_R_MAX; r++)
		if (s->total[r].packets != xbt_fx_reason_count(r))
			return fx_fail("reason %d: the batch read %llu packets, "
				       "the lookups %llu", r,
				       (unsigned long long)s->total[r].packets,
				       (unsigned long long)xbt_fx_reason_count(r));
	return 0;
}

int xbt_fx_send_frame(const struct xbt_frame *f)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = (int)if_nametoindex("xbt-fx1"),
		.sll_halen = 6,
	};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ssize_t sent;

	if (fd < 0)
		return fx_fail("no packet socket");
	sent = sendto(fd, f->data, f->len, 0, (struct sockaddr *)&sll,
		      sizeof(sll));
	close(fd);
	if (sent != (ssize_t)f->len)
		return fx_fail("sent %zd bytes of %zu", sent, f->len);
	return 0;
}

/* ---- the gateway every feature's tests start from ---- */

const struct xbt_policy gw_spd[] = {
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

const struct xbt_sa gw_sas[] = {
	{ V4_LOCAL, 0x1000, IPPROTO_ESP },
	{ V4_LOCAL, 0x2000, IPPROTO_AH },
	{ V6_LOCAL, 0x3000, IPPROTO_ESP },
	{ V6_LOCAL, 0x4000, IPPROTO_AH },
	{ NULL, 0, 0 }
};
