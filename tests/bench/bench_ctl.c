// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Control-plane measurements against a running `xfrmbpf run`:
 *
 *   bench_ctl waitsync PIN_DIR MIN_POLICIES TIMEOUT_S
 *	waits until the mirror is synced with at least MIN_POLICIES
 *	policies; prints "synced_realtime_ns=T" (CLOCK_REALTIME, to subtract
 *	the daemon's start time taken by the caller).
 *
 *   bench_ctl latency PIN_DIR COUNT
 *	COUNT times: adds one FWD block policy over NETLINK_XFRM and spins
 *	on the mmapped sync record until the publication that holds it is
 *	finished (generation moved on and n_policies counts it), then
 *	deletes it the same way. Prints CSV lines
 *	"latency,add|del,p50|p90|p99|max,us".
 *	The time runs from just before the request is sent, so it includes
 *	the kernel's own insertion, the multicast, the daemon's wake-up and
 *	the whole publication. The spin yields the CPU at every turn (see
 *	wait_published): the watcher must not be what delays the daemon.
 *
 *   bench_ctl drops PIN_DIR
 *	prints the packets the datapath dropped so far (every drop reason,
 *	summed over CPUs): how the bench checks that drops were XDP's.
 *
 * Run it in the daemon's network namespace.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>

#include "xfrmbpf/datapath.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf/sync.h"
#include "tool.h"

#define SPIN_LIMIT_NS	2000000000ull

static int open_sync(const char *pin_dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/xb_sync", pin_dir);
	return bpf_obj_get(path);
}

static int cmd_waitsync(const char *pin_dir, unsigned int min_pols,
			double timeout_s)
{
	unsigned long long end = bench_clock_ns(CLOCK_MONOTONIC) +
				 (unsigned long long)(timeout_s * 1e9);
	struct xb_sync s;
	__u32 zero = 0;
	int fd = -1;

	while (bench_clock_ns(CLOCK_MONOTONIC) < end) {
		if (fd < 0)
			fd = open_sync(pin_dir);
		if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &s) &&
		    s.synced && s.generation && s.n_policies >= min_pols) {
			printf("synced_realtime_ns=%llu n_policies=%u\n",
			       bench_clock_ns(CLOCK_REALTIME), s.n_policies);
			return 0;
		}
		usleep(200);
	}
	fprintf(stderr, "bench_ctl: not synced within %.0f s\n", timeout_s);
	return 1;
}

/* The test policy: FWD, block, 2001:db8:f0f0::/128 -> 2001:db8:f1f1::i. */
static void test_selector(unsigned int i, struct xfrm_selector *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:f0f0::1", &sel->saddr);
	inet_pton(AF_INET6, "2001:db8:f1f1::", &sel->daddr);
	sel->daddr.a6[3] = htonl(i + 1);
	sel->prefixlen_s = 128;
	sel->prefixlen_d = 128;
}

static void send_req(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		bench_die("netlink send", errno);
}

static void recv_ack(struct mnl_socket *nl, unsigned int seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

	if (n < 0)
		bench_die("netlink recv", errno);
	if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL,
		       NULL) < 0)
		bench_die("XFRM request", errno);
}

static struct nlmsghdr *policy_msg(char *buf, unsigned int i, bool add,
				   unsigned int seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (add) {
		struct xfrm_userpolicy_info *p;

		nlh->nlmsg_type = XFRM_MSG_NEWPOLICY;
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
		p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
		test_selector(i, &p->sel);
		p->lft.soft_byte_limit = XFRM_INF;
		p->lft.hard_byte_limit = XFRM_INF;
		p->lft.soft_packet_limit = XFRM_INF;
		p->lft.hard_packet_limit = XFRM_INF;
		p->priority = 100;
		p->dir = XFRM_POLICY_FWD;
		p->action = XFRM_POLICY_BLOCK;
	} else {
		struct xfrm_userpolicy_id *id;

		nlh->nlmsg_type = XFRM_MSG_DELPOLICY;
		id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
		test_selector(i, &id->sel);
		id->dir = XFRM_POLICY_FWD;
	}
	return nlh;
}

/*
 * Spins until a publication after generation gen, with n_policies equal to
 * want, is finished; returns when it was seen.
 *
 * The kernel sends the notification from inside our sendmsg() with a "sync"
 * wake-up, the hint that the sender is about to block for its answer as
 * ip(8) and IKE daemons do: the daemon is mostly queued on this CPU (for
 * 54-99% of the events in traces on a 2-vCPU VM). Behind a plain busy loop it
 * then ran at once only when the scheduler preempted the loop for it; for
 * 1-3% of the events it did not, and the daemon waited for the next tick
 * (4 ms at HZ=250) or to be pulled to the other CPU: p99 of 1.6-2.6 ms that
 * were the watcher's own doing. Yielding at every turn hands the CPU over
 * at once, as a blocked sender would, and still looks every microsecond or
 * so while the daemon runs elsewhere.
 */
static unsigned long long wait_published(volatile struct xb_sync *s, __u64 gen,
					 __u32 want, unsigned long long t0)
{
	unsigned long long t;

	for (;;) {
		t = bench_clock_ns(CLOCK_MONOTONIC);
		if (s->generation != gen && !(s->seq & 1) &&
		    s->n_policies == want)
			return t;
		if (t - t0 > SPIN_LIMIT_NS)
			bench_die("change not published within 2 s", ETIMEDOUT);
		sched_yield();
	}
}

/* Sends one change and returns ns until the mirror published it. */
static unsigned long long one_change(struct mnl_socket *nl,
				     volatile struct xb_sync *s,
				     unsigned int i, bool add,
				     unsigned int seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = policy_msg(buf, i, add, seq);
	__u32 want = s->n_policies + (add ? 1 : -1);
	__u64 gen = s->generation;
	unsigned long long t0, t;

	t0 = bench_clock_ns(CLOCK_MONOTONIC);
	send_req(nl, nlh);
	t = wait_published(s, gen, want, t0);
	recv_ack(nl, seq);
	return t - t0;
}

static int cmp_ull(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a;
	unsigned long long y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

static void print_stats(const char *op, unsigned long long *v, unsigned int n)
{
	static const struct { const char *name; double q; } qs[] = {
		{ "p50", 0.50 }, { "p90", 0.90 }, { "p99", 0.99 },
		{ "max", 1.0 },
	};
	size_t i;

	qsort(v, n, sizeof(*v), cmp_ull);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		unsigned int k = (unsigned int)(qs[i].q * (n - 1) + 0.5);

		printf("latency,%s,%s,%.1f,us\n", op, qs[i].name, v[k] / 1e3);
	}
}

static int cmd_latency(const char *pin_dir, unsigned int count)
{
	unsigned long long *add = calloc(count, sizeof(*add));
	unsigned long long *del = calloc(count, sizeof(*del));
	struct timespec pause = { 0, 2000000 };
	volatile struct xb_sync *s;
	struct mnl_socket *nl;
	unsigned int i;
	int fd;

	if (!add || !del || !count)
		bench_die("count", EINVAL);
	fd = open_sync(pin_dir);
	if (fd < 0)
		bench_die("open xb_sync", errno);
	s = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED,
		 fd, 0);
	if (s == MAP_FAILED)
		bench_die("mmap xb_sync", errno);
	nl = mnl_socket_open(NETLINK_XFRM);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		bench_die("NETLINK_XFRM", errno);
	for (i = 0; i < count; i++) {
		add[i] = one_change(nl, s, i, true, 2 * i + 1);
		nanosleep(&pause, NULL);
		del[i] = one_change(nl, s, i, false, 2 * i + 2);
		nanosleep(&pause, NULL);
	}
	printf("# latency: %u adds and %u deletes, SPD holds %u policies\n",
	       count, count, s->n_policies);
	print_stats("add", add, count);
	print_stats("del", del, count);
	mnl_socket_close(nl);
	return 0;
}

/* Packets the datapath dropped: the drop reasons of every xb_stats row. */
static int cmd_drops(const char *pin_dir)
{
	int ncpu = libbpf_num_possible_cpus(), fd, c;
	unsigned long long sum = 0;
	struct xb_counter *v;
	char path[512];
	__u32 key;

	snprintf(path, sizeof(path), "%s/xb_stats", pin_dir);
	fd = bpf_obj_get(path);
	v = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*v));
	if (fd < 0 || !v)
		bench_die(path, errno);
	for (key = 0; key < XB_STATS_ENTRIES; key++) {
		if (!xb_reason_drops(key % XB_R_MAX) ||
		    bpf_map_lookup_elem(fd, &key, v))
			continue;
		for (c = 0; c < ncpu; c++)
			sum += v[c].packets;
	}
	printf("%llu\n", sum);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "drops"))
		return cmd_drops(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "waitsync"))
		return cmd_waitsync(argv[2], (unsigned int)atoi(argv[3]),
				    atof(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "latency"))
		return cmd_latency(argv[2], (unsigned int)atoi(argv[3]));
	fprintf(stderr, "Usage: %s waitsync PIN_DIR MIN_POLICIES TIMEOUT_S\n"
		"       %s latency PIN_DIR COUNT\n"
		"       %s drops PIN_DIR\n", argv[0], argv[0], argv[0]);
	return 2;
}
