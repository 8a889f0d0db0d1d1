// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A packet generator for the early-drop benchmark: one UDP frame (IPv4 or
 * IPv6) sent from one pinned CPU for a bounded time, in one of two ways:
 *
 *  -x OBJ  XDP live frames (BPF_PROG_TEST_RUN with
 *          BPF_F_TEST_XDP_LIVE_FRAMES running bench_tx of OBJ, which
 *          redirects every frame out of IFACE), the way xdp-trafficgen
 *          works. Out of a veth the frames reach the peer as XDP frames, so
 *          the peer's XDP program runs natively on them, with no skb, as
 *          on a NIC's receive ring; without an XDP program the peer builds
 *          an skb around the frame and hands it to the stack.
 *  default AF_PACKET with the qdisc bypassed, sendmmsg batches. The peer
 *          then gets an skb that veth must copy before XDP can see it.
 *
 * -r MPPS (with -x) offers that rate instead of as much as the receiver
 * takes: runs of -b FRAMES (192 by default) started on an absolute
 * schedule, sleeping in between. Unpaced, the veth ring drops what the
 * receiver cannot take on the generator's CPU, and both CPUs then return
 * pages to the test run's page pool under its producer lock, which a NIC
 * recycling its pages locally never contends for. Paced below the
 * receiver's capacity, nothing is dropped and the receiver's CPU per
 * packet is its own work (with its wake-ups, one or more per run).
 *
 * -F FLOWS (with -x, IPv4) makes every frame the next of the flows in
 * FLOWS, "SADDR DADDR PROTO SPORT DPORT" per line (bench_ruleset -F), in
 * turn: a stream of new flows for the receiver's flow cache.
 *
 * -N PID adds the run time of that task over the run: the receiving
 * veth's threaded NAPI poller, pinned to another CPU, which then holds
 * all of the receive side's work. -p PROG_ID adds the run time and run
 * count of that BPF program over the run (BPF_ENABLE_STATS, on only while
 * this process holds it): the XDP program's own cost on real frames.
 *
 * Prints one line:
 *   sent=N wall_ns=W cpu_ns=C napi_ns=R prog_ns=P prog_runs=K frame=LEN
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/pktbuild.h"
#include "tool.h"
#include "bench_maps.h"

#define BATCH	64
/* Frames per test run call when paced: the longest burst the receiver
 * sees. Three batches, three quarters of the veth's 256-entry ring (whose
 * consumer frees slots in batches, so 256 at once overflows it now and
 * then); fewer would cost more calls, each of which sets up and tears
 * down a page pool. A batch of 192 (one flush, a pool ring that holds
 * every returned page) was tried: the calls then take so long that the
 * sender cannot hold 0.4 Mpps. */
#define PACE_CHUNK	192
#define PACE_MAX_CHUNK	(1 << 16)
/* Runs a paced sender may fall behind (preempted) and still catch up on;
 * further behind, the schedule restarts from now. It catches up at 4/3 of
 * the rate, never back to back: a rate picked at 70% of the slowest
 * receiver's capacity stays below that capacity while catching up. */
#define PACE_MAX_LAG	4
/* -P: the exit status that says live frames are refused */
#define EXIT_NO_LIVE_FRAMES	3

struct gen_opts {
	const char *ifname;
	const char *src;
	const char *dst;
	const char *xdp_obj;
	const char *flows;
	double seconds;
	double mpps;
	unsigned int chunk;
	int cpu;
	int napi_pid;
	__u32 prog_id;
	bool probe;
};

/* Run time of a task in ns (first field of /proc/PID/schedstat). */
static unsigned long long task_runtime(int pid)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *f;

	if (!pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

static int open_socket(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd = socket(AF_PACKET, SOCK_RAW, 0), one = 1;

	if (fd < 0)
		bench_die("socket(AF_PACKET)", errno);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		bench_die(ifname, errno);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		bench_die("bind", errno);
	/* Straight to the driver, as pktgen does: no qdisc in the way. */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		bench_die("PACKET_QDISC_BYPASS", errno);
	return fd;
}

static void parse_opts(int argc, char **argv, struct gen_opts *o)
{
	int opt;

	o->seconds = 3;
	o->cpu = -1;
	o->chunk = PACE_CHUNK;
	while ((opt = getopt(argc, argv, "i:s:d:t:c:x:F:N:p:r:b:P")) != -1) {
		switch (opt) {
		case 'i':
			o->ifname = optarg;
			break;
		case 's':
			o->src = optarg;
			break;
		case 'd':
			o->dst = optarg;
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'c':
			o->cpu = atoi(optarg);
			break;
		case 'x':
			o->xdp_obj = optarg;
			break;
		case 'F':
			o->flows = optarg;
			break;
		case 'N':
			o->napi_pid = atoi(optarg);
			break;
		case 'p':
			o->prog_id = (__u32)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			o->mpps = atof(optarg);
			if (o->mpps <= 0 || o->mpps > 1000)
				goto usage;
			break;
		case 'P':
			o->probe = true;
			break;
		case 'b':
			o->chunk = (unsigned int)strtoul(optarg, NULL, 0);
			if (!o->chunk || o->chunk > PACE_MAX_CHUNK)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (o->ifname && o->src && o->dst && o->seconds > 0 &&
	    o->seconds <= 60 && (!o->mpps || o->xdp_obj) && (!o->flows || o->xdp_obj) &&
	    (!o->probe || o->xdp_obj))
		return;
usage:
	fprintf(stderr, "Usage: %s -i IFACE -s SRC -d DST [-t SECONDS (<= 60)] "
		"[-c CPU] [-x BENCH_BPF_OBJ [-r MPPS [-b FRAMES]] [-F FLOWS]] "
		"[-N NAPI_PID] [-p PROG_ID] [-P]\n"
		"  -P: only check that this kernel sends live frames (exit 0) or "
		"say why not (exit %d)\n", argv[0], EXIT_NO_LIVE_FRAMES);
	exit(2);
}

/* -P: one live frame through bench_tx (fd). Some kernels refuse
 * BPF_F_TEST_XDP_LIVE_FRAMES (EPERM from a hardened build): the bench
 * then has no generator that hands the receiver XDP frames, and says so
 * instead of measuring something else. */
static int probe_live_frames(int fd, const struct xbt_frame *f)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = f->data,
		    .data_size_in = (__u32)f->len,
		    .repeat = 1,
		    .batch_size = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	if (!bpf_prog_test_run_opts(fd, &opts))
		return 0;
	printf("live frames refused: BPF_PROG_TEST_RUN with "
	       "BPF_F_TEST_XDP_LIVE_FRAMES: %s\n", strerror(errno));
	return EXIT_NO_LIVE_FRAMES;
}

/* AF_PACKET: sendmmsg batches of one frame until end; returns frames
 * the device took. */
static unsigned long long send_packet(const struct gen_opts *o,
				      const struct xbt_frame *f,
				      unsigned long long end)
{
	struct mmsghdr msgs[BATCH];
	unsigned long long sent = 0;
	struct iovec iov;
	int fd, i, n;

	fd = open_socket(o->ifname);
	iov.iov_base = (void *)f->data;
	iov.iov_len = f->len;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	do {
		n = sendmmsg(fd, msgs, BATCH, 0);
		if (n < 0 && errno != ENOBUFS && errno != EAGAIN)
			bench_die("sendmmsg", errno);
		if (n > 0)
			sent += (unsigned long long)n;
	} while (bench_clock_ns(CLOCK_MONOTONIC) < end);
	close(fd);
	return sent;
}


/* Fills bench_flows from a flows file; returns how many it holds. */
static __u32 load_flows(struct bpf_object *obj, const char *path)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "bench_flows");
	char s[64], d[64];
	unsigned int proto, sport, dport;
	__u32 n = 0;
	FILE *f;

	if (!map)
		bench_die("bench_flows", ENOENT);
	f = fopen(path, "r");
	if (!f)
		bench_die(path, errno);
	while (n < bpf_map__max_entries(map) &&
	       fscanf(f, "%63s %63s %u %u %u", s, d, &proto, &sport, &dport) == 5) {
		struct bench_flow fl = { .proto = (__u8)proto };
		__be16 p;

		if (inet_pton(AF_INET, s, fl.saddr) != 1 || inet_pton(AF_INET, d, fl.daddr) != 1 ||
		    proto > 255 || sport > 65535 || dport > 65535)
			bench_die(path, EINVAL);
		p = htons((__u16)sport);
		memcpy(fl.l4, &p, 2);
		p = htons((__u16)dport);
		memcpy(fl.l4 + 2, &p, 2);
		if (bpf_map_update_elem(bpf_map__fd(map), &n, &fl, BPF_ANY))
			bench_die("bench_flows", errno);
		n++;
	}
	/* more than the map holds would make a shorter cycle of flows than
	 * the file asks for, and the receiver's cache would hit */
	if (n == bpf_map__max_entries(map) &&
	    fscanf(f, "%63s %63s %u %u %u", s, d, &proto, &sport, &dport) == 5) {
		fprintf(stderr, "bench_txgen: %s holds more flows than bench_flows' %u\n",
			path, n);
		exit(1);
	}
	fclose(f);
	if (!n)
		bench_die(path, ENODATA);
	return n;
}

static int load_tx_prog(const char *path, __u32 ifindex, const char *flows)
{
	struct bench_state st = { .n_flows = 1, .target = ifindex };
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;
	__u32 zero = 0;

	obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj))
		bench_die(path, errno);
	prog = bpf_object__find_program_by_name(obj, "bench_tx");
	map = bpf_object__find_map_by_name(obj, "bench_state");
	if (!prog || !map)
		bench_die("bench_tx", errno);
	if (flows)
		st.n_flows = load_flows(obj, flows);
	if (bpf_map_update_elem(bpf_map__fd(map), &zero, &st, BPF_ANY))
		bench_die("bench_state", errno);
	return bpf_program__fd(prog);
}

/*
 * Each test run call with a repeat adds its program to the kernel's XDP
 * dispatcher and removes it at the end, rewriting the dispatcher's code
 * (text poking, IPIs to every CPU, the receiver's too): about 0.4 ms of
 * CPU a call here, which would cap a paced sender's rate. A program
 * already in the dispatcher is only counted, so a paced sender keeps
 * bench_tx attached (generic XDP on this namespace's lo, which carries no
 * traffic) through a link that ends with this process. The unpaced sender
 * does not: its calls are long, and it stays as earlier results had it.
 */
static void hold_in_dispatcher(int prog_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_SKB_MODE);
	int lo = (int)if_nametoindex("lo");

	if (!lo || bpf_link_create(prog_fd, lo, BPF_XDP, &opts) < 0)
		fprintf(stderr, "bench_txgen: warning: bench_tx not held on lo "
			"(%s): every test run rewrites the XDP dispatcher\n",
			strerror(errno));
}

/* XDP live frames in runs of 64k through bench_tx (fd); returns frames
 * sent. */
static unsigned long long send_xdp(int fd, const struct xbt_frame *f,
				   unsigned long long end)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = f->data,
		    .data_size_in = (__u32)f->len,
		    .repeat = 1 << 16,
		    .batch_size = BATCH,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	unsigned long long sent = 0;

	do {
		if (bpf_prog_test_run_opts(fd, &opts))
			bench_die("BPF_PROG_TEST_RUN (live frames)", errno);
		sent += opts.repeat;
	} while (bench_clock_ns(CLOCK_MONOTONIC) < end);
	return sent;
}

static void sleep_until(unsigned long long ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* XDP live frames at o->mpps: run k of o->chunk frames starts at
 * t0 + k * period, so a late wake-up shortens the next waits instead of
 * lowering the rate. Returns frames sent. */
static unsigned long long send_xdp_paced(int fd, const struct xbt_frame *f,
					 const struct gen_opts *o,
					 unsigned long long t0,
					 unsigned long long end)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = f->data,
		    .data_size_in = (__u32)f->len,
		    .repeat = o->chunk,
		    .batch_size = BATCH,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	unsigned long long period = (unsigned long long)(o->chunk * 1e3 / o->mpps);
	unsigned long long sent = 0, due = t0, now, start, last = 0;
	unsigned long long runs = 0, restarts = 0;

	/* The default 50 us of timer slack is a quarter of a run at 1 Mpps. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	for (; due < end; due += period, runs++) {
		now = bench_clock_ns(CLOCK_MONOTONIC);
		if (now > due + PACE_MAX_LAG * period) {
			due = now;
			restarts++;
		}
		start = last + period * 3 / 4;
		if (start < due)
			start = due;
		if (now < start)
			sleep_until(start);
		last = now > start ? now : start;
		if (bpf_prog_test_run_opts(fd, &opts))
			bench_die("BPF_PROG_TEST_RUN (live frames)", errno);
		sent += opts.repeat;
	}
	if (restarts)
		fprintf(stderr, "bench_txgen: schedule restarted %llu times in "
			"%llu runs (sender fell behind)\n", restarts, runs);
	return sent;
}

/* Run time and count of a program so far (0 without stats). */
static void prog_stats(int fd, unsigned long long *ns, unsigned long long *n)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	*ns = *n = 0;
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	*ns = info.run_time_ns;
	*n = info.run_cnt;
}

int main(int argc, char **argv)
{
	struct xbt_frame f;
	struct xbt_pkt_spec s = { .l4 = XBT_L4_UDP, .sport = 1234,
				  .dport = 5678, .payload = 86 };
	unsigned long long sent, t0, t1, c0, c1, k0, k1, p0, p1, n0, n1, end;
	struct gen_opts o = {};
	int stats_fd = -1, prog_fd = -1, tx_fd = -1;

	parse_opts(argc, argv, &o);
	s.family = strchr(o.dst, ':') ? 6 : 4;
	s.src = o.src;
	s.dst = o.dst;
	if (!xbt_build(&s, &f)) {
		fprintf(stderr, "bench_txgen: bad addresses\n");
		return 2;
	}
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			bench_die("sched_setaffinity", errno);
	}
	if (o.xdp_obj) {
		__u32 ifindex = if_nametoindex(o.ifname);

		if (!ifindex)
			bench_die(o.ifname, errno);
		libbpf_set_print(NULL);
		tx_fd = load_tx_prog(o.xdp_obj, ifindex, o.flows);
		if (o.probe)
			return probe_live_frames(tx_fd, &f);
		if (o.mpps > 0)
			hold_in_dispatcher(tx_fd);
	}
	if (o.prog_id) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		prog_fd = bpf_prog_get_fd_by_id(o.prog_id);
		if (stats_fd < 0 || prog_fd < 0)
			bench_die("program statistics", errno);
	}
	prog_stats(prog_fd, &p0, &n0);
	k0 = task_runtime(o.napi_pid);
	c0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	t0 = bench_clock_ns(CLOCK_MONOTONIC);
	end = t0 + (unsigned long long)(o.seconds * 1e9);
	if (tx_fd < 0)
		sent = send_packet(&o, &f, end);
	else if (o.mpps > 0)
		sent = send_xdp_paced(tx_fd, &f, &o, t0, end);
	else
		sent = send_xdp(tx_fd, &f, end);
	t1 = bench_clock_ns(CLOCK_MONOTONIC);
	c1 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	k1 = task_runtime(o.napi_pid);
	prog_stats(prog_fd, &p1, &n1);
	printf("sent=%llu wall_ns=%llu cpu_ns=%llu napi_ns=%llu prog_ns=%llu "
	       "prog_runs=%llu frame=%zu\n", sent, t1 - t0, c1 - c0, k1 - k0,
	       p1 - p0, n1 - n0, f.len);
	if (prog_fd >= 0)
		close(prog_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	return 0;
}
