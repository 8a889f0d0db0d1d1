// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xfrmbpf run`: the mirror daemon. Follows the XFRM and link multicast
 * groups, applies each batch of events to the mirror and publishes it;
 * re-dumps everything when the kernel reports lost messages (ENOBUFS); beats
 * the heartbeat; on SIGINT/SIGTERM marks the mirror unsynced (the datapath
 * then passes everything) and exits. With -i it also attaches the datapath
 * (user/attach.c) and detaches exactly that on exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include "attach.h"
#include "cli.h"
#include "log.h"
#include "maps.h"
#include "mirror.h"
#include "nl.h"
#include "publish.h"
#include "route_watch.h"
#include "xfrmbpf/limits.h"

#define XB_RCVBUF_DEFAULT	(8 * 1024 * 1024)
#define XB_RESYNC_TRIES_WARN	10

struct run_opts {
	int rcvbuf;
	unsigned int heartbeat_ms;
	unsigned int heartbeat_timeout_ms;
	const char *ifaces[XB_MAX_IFACES];
	int n_ifaces;
	enum xb_xdp_mode mode;
	bool steer;
	struct xb_bypass_key bypass[XB_MAX_BYPASS];
	int n_bypass;
};

#define RUN_HELP \
	"  -i, --interface IFACE  attach the datapath to IFACE (repeatable); without -i\n" \
	"                         only the mirror runs\n" \
	"  --mode native|skb      XDP mode; default: native, falling back to skb\n" \
	"                         (generic) with a warning when the driver refuses\n" \
	"  --steer                also attach TC steering into XFRM interfaces\n" \
	"  --bypass-port P/N      never drop inbound traffic to local port N of protocol\n" \
	"                         P (udp or tcp); repeatable, added to the defaults\n" \
	"                         udp/500 and udp/4500 (IKE, NAT-T)\n" \
	"  --no-default-bypass    do not add udp/500 and udp/4500\n" \
	"  --rcvbuf BYTES         netlink receive buffer (default 8 MiB)\n" \
	"  --heartbeat-ms MS      heartbeat period; disable_policy and the MTU of\n" \
	"                         the interfaces are re-read at each beat (default 1000)\n" \
	"  --heartbeat-timeout-ms the datapath passes everything once the daemon has\n" \
	"                         not beaten for this long (default 3000)\n"

struct daemon {
	struct run_opts opts;
	struct xb_maps maps;
	struct xb_mirror mirror;
	struct xb_nl nl;
	struct xb_datapath dp;
	int lock_fd;
	int signal_fd;
	int timer_fd;
	int route_fd;		/* route_watch.h: invalidates cached flows */
	__u32 resyncs;
	/* Policy notifications omit XFRMA_SEC_CTX; with SELinux labelled
	 * IPsec possible, each notified policy is read back in full. */
	bool refetch_policies;
};

static int apply_event(const struct xb_event *ev, void *data)
{
	struct daemon *d = data;
	int err = xb_mirror_apply(&d->mirror, ev);

	/* A policy the mirror could not hold makes it incomplete: fail open
	 * rather than decide without it. */
	if (err)
		pr_warn("Couldn't mirror a %s event: %s\n", xb_event_kind_name(ev->kind),
			strerror(-err));
	return 0;
}

static int apply_notification(const struct xb_event *ev, void *data)
{
	struct daemon *d = data;
	int err;

	if (!d->refetch_policies || ev->kind != XB_EV_POLICY_UPSERT)
		return apply_event(ev, data);
	err = xb_nl_get_policy(&d->nl, &ev->policy.pol, apply_event, d);
	if (err == -ENOENT)
		return 0;	/* deleted since: its DELPOLICY follows */
	if (err) {
		pr_debug("Couldn't read policy %u back: %s\n", ev->policy.pol.index,
			 strerror(-err));
		return apply_event(ev, data);
	}
	return 0;
}

/* Only SELinux implements the XFRM security hooks. */
static bool selinux_active(void)
{
	char buf[256] = "";
	int fd = open("/proc/self/attr/selinux/current", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && buf[0] != '\0';
}

static int ignore_event(const struct xb_event *ev, void *data)
{
	(void)ev;
	(void)data;
	return 0;
}

/* Reads the XFRM and/or the link socket empty; a socket poll() did not
 * flag is left for the next turn (one receive call less per event). */
static int drain_events(struct daemon *d, bool xfrm, bool links)
{
	int err = xfrm ? xb_nl_drain(&d->nl, false, apply_notification, d) : 0;
	int lerr = links ? xb_nl_drain(&d->nl, true, apply_event, d) : 0;

	if (err == -ENOBUFS || lerr == -ENOBUFS)
		return -ENOBUFS;
	return err ? err : lerr;
}

/* Full re-dump into the mirror, repeated until no event was lost meanwhile. */
static int resync(struct daemon *d)
{
	int err, tries = 0;

	xb_publish_synced(&d->maps, false);
	for (;;) {
		/* What is queued is older than the dump that follows. */
		do {
			err = xb_nl_drain(&d->nl, false, ignore_event, NULL);
		} while (err == -ENOBUFS);
		xb_mirror_mark_unseen(&d->mirror);
		err = xb_nl_dump(&d->nl, true, apply_event, d);
		if (err == -EINTR)
			continue;
		if (err) {
			pr_warn("Couldn't dump the kernel's XFRM state: %s\n", strerror(-err));
			return err;
		}
		xb_mirror_sweep_unseen(&d->mirror);
		/* Events that raced with the dump are newer: apply them. */
		err = drain_events(d, true, true);
		if (err != -ENOBUFS)
			break;
		if (++tries == XB_RESYNC_TRIES_WARN)
			pr_warn("Still losing netlink messages while re-dumping; "
				"consider a larger --rcvbuf\n");
		d->resyncs++;
	}
	if (err)
		return err;
	err = xb_publish(&d->maps, &d->mirror);
	if (err)
		return err;
	xb_publish_counters(&d->maps, d->resyncs, d->nl.bad_msgs);
	xb_publish_synced(&d->maps, !d->mirror.overflow);
	pr_info("Mirror synced: %zu policies, %zu SAs, %zu xfrm interfaces (generation %llu)\n",
		d->mirror.policies.count, d->mirror.sas.count, d->mirror.links.count,
		(unsigned long long)d->maps.sync->generation);
	return 0;
}

static int on_events(struct daemon *d, bool xfrm, bool links)
{
	int err = drain_events(d, xfrm, links);

	if (err == -ENOBUFS) {
		pr_info("Netlink messages lost (ENOBUFS): re-dumping\n");
		d->resyncs++;
		return resync(d);
	}
	if (err)
		return err;
	err = xb_publish(&d->maps, &d->mirror);
	xb_publish_counters(&d->maps, d->resyncs, d->nl.bad_msgs);
	return err;
}

static int open_signal_fd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

static int open_timer_fd(unsigned int ms)
{
	struct itimerspec its = {
		.it_interval = { ms / 1000, (ms % 1000) * 1000000L },
		.it_value = { ms / 1000, (ms % 1000) * 1000000L },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int event_loop(struct daemon *d)
{
	struct pollfd pfd[5] = {
		{ .fd = xb_nl_event_fd(&d->nl, false), .events = POLLIN },
		{ .fd = xb_nl_event_fd(&d->nl, true), .events = POLLIN },
		{ .fd = d->timer_fd, .events = POLLIN },
		{ .fd = d->signal_fd, .events = POLLIN },
		{ .fd = d->route_fd, .events = POLLIN },
	};
	int err;

	for (;;) {
		if (poll(pfd, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[3].revents) {
			struct signalfd_siginfo si;

			if (read(d->signal_fd, &si, sizeof(si)) == sizeof(si))
				pr_info("Got signal %u, exiting\n", si.ssi_signo);
			return 0;
		}
		if (pfd[4].revents) {
			err = xb_route_watch_read(d->route_fd, &d->maps);
			if (err)
				return err;
		}
		if (pfd[0].revents || pfd[1].revents) {
			err = on_events(d, pfd[0].revents, pfd[1].revents);
			if (err)
				return err;
		}
		if (pfd[2].revents) {
			__u64 expirations;

			if (read(d->timer_fd, &expirations, sizeof(expirations)) < 0 &&
			    errno != EAGAIN)
				return -errno;
			xb_publish_heartbeat(&d->maps);
			/* sysctl and MTU changes are followed at the beat */
			if (d->dp.n_ifaces)
				xb_dp_refresh(&d->dp);
		}
	}
}

/* "udp/500", "tcp/179": one bypass entry. */
static int parse_bypass(const char *arg, struct xb_bypass_key *k)
{
	char *end;
	long port;

	if (!strncmp(arg, "udp/", 4))
		k->proto = IPPROTO_UDP;
	else if (!strncmp(arg, "tcp/", 4))
		k->proto = IPPROTO_TCP;
	else
		return -EINVAL;
	errno = 0;
	port = strtol(arg + 4, &end, 10);
	if (errno || *end || end == arg + 4 || port < 1 || port > 65535)
		return -EINVAL;
	k->pad = 0;
	k->port = htons(port);
	return 0;
}

static int add_bypass(struct run_opts *o, const struct xb_bypass_key *k)
{
	int i;

	for (i = 0; i < o->n_bypass; i++)
		if (o->bypass[i].proto == k->proto && o->bypass[i].port == k->port)
			return 0;
	if (o->n_bypass >= XB_MAX_BYPASS)
		return -E2BIG;
	o->bypass[o->n_bypass++] = *k;
	return 0;
}

static int parse_number_opt(struct xb_global *g, int opt, struct run_opts *o)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(optarg, &end, 0);
	if (errno || *end || v <= 0 || v > (1L << 30))
		return xb_usage_error(g, "run", "invalid value '%s' for --%s", optarg,
				      opt == 'r' ? "rcvbuf" : opt == 'b' ? "heartbeat-ms" :
				      "heartbeat-timeout-ms");
	if (opt == 'r')
		o->rcvbuf = v;
	else if (opt == 'b')
		o->heartbeat_ms = v;
	else
		o->heartbeat_timeout_ms = v;
	return -1;
}

static int parse_datapath_opt(struct xb_global *g, int opt, struct run_opts *o)
{
	struct xb_bypass_key k;

	switch (opt) {
	case 'i':
		if (o->n_ifaces >= XB_MAX_IFACES)
			return xb_usage_error(g, "run", "at most %d interfaces", XB_MAX_IFACES);
		o->ifaces[o->n_ifaces++] = optarg;
		return -1;
	case 'm':
		if (!strcmp(optarg, "native"))
			o->mode = XB_XDP_MODE_NATIVE;
		else if (!strcmp(optarg, "skb"))
			o->mode = XB_XDP_MODE_SKB;
		else
			return xb_usage_error(g, "run", "invalid --mode '%s' (native or skb)",
					      optarg);
		return -1;
	case 's':
		o->steer = true;
		return -1;
	case 'P':
		if (parse_bypass(optarg, &k))
			return xb_usage_error(g, "run", "invalid --bypass-port '%s' "
					      "(udp/PORT or tcp/PORT)", optarg);
		if (add_bypass(o, &k))
			return xb_usage_error(g, "run", "at most %d bypass ports", XB_MAX_BYPASS);
		return -1;
	}
	return -1;
}

static int parse_run_opts(int argc, char **argv, struct xb_global *g, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "rcvbuf", required_argument, NULL, 'r' },
		{ "heartbeat-ms", required_argument, NULL, 'b' },
		{ "heartbeat-timeout-ms", required_argument, NULL, 't' },
		{ "interface", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "steer", no_argument, NULL, 's' },
		{ "bypass-port", required_argument, NULL, 'P' },
		{ "no-default-bypass", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static const char *const ike[] = { "udp/500", "udp/4500" };
	struct xb_bypass_key k;
	bool defaults = true;
	int opt, ret, i;

	o->rcvbuf = XB_RCVBUF_DEFAULT;
	o->heartbeat_ms = XB_HEARTBEAT_INTERVAL_MS_DEFAULT;
	o->heartbeat_timeout_ms = XB_HEARTBEAT_TIMEOUT_MS_DEFAULT;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+i:jh", opts, NULL)) != -1) {
		ret = -1;
		switch (opt) {
		case 'r':
		case 'b':
		case 't':
			ret = parse_number_opt(g, opt, o);
			break;
		case 'i':
		case 'm':
		case 's':
		case 'P':
			ret = parse_datapath_opt(g, opt, o);
			break;
		case 'N':
			defaults = false;
			break;
		case 'j':
			g->json = true;
			break;
		case 'h':
			printf("Usage: %s run %s\n%s", g->prog, xb_find_command("run")->usage,
			       RUN_HELP);
			return XB_EXIT_OK;
		default:
			return xb_usage_error(g, "run", "unknown option '%s'", argv[optind - 1]);
		}
		if (ret >= 0)
			return ret;
	}
	if (optind < argc)
		return xb_usage_error(g, "run", "unexpected argument '%s'", argv[optind]);
	if (o->heartbeat_timeout_ms <= o->heartbeat_ms)
		return xb_usage_error(g, "run", "--heartbeat-timeout-ms must exceed --heartbeat-ms");
	if (!o->n_ifaces && (o->steer || o->mode))
		return xb_usage_error(g, "run", "--steer and --mode need -i IFACE");
	for (i = 0; defaults && i < 2; i++)
		if (parse_bypass(ike[i], &k) || add_bypass(o, &k))
			return xb_usage_error(g, "run", "at most %d bypass ports", XB_MAX_BYPASS);
	return -1;
}

/* Bypass ports, then the datapath on every -i interface. */
static int setup_datapath(struct daemon *d, struct xb_global *g)
{
	int i, err;

	err = xb_bypass_write(&d->maps, d->opts.bypass, d->opts.n_bypass);
	if (err)
		return xb_error(g, XB_EXIT_FAIL, "couldn't write the bypass ports: %s",
				strerror(-err));
	if (!d->opts.n_ifaces)
		return XB_EXIT_OK;
	err = xb_dp_open(&d->dp, g->pin_dir, &d->maps, d->opts.steer);
	for (i = 0; !err && i < d->opts.n_ifaces; i++)
		err = xb_dp_attach(&d->dp, d->opts.ifaces[i], d->opts.mode);
	if (err)
		return xb_error(g, err == -ENODEV ? XB_EXIT_USAGE : XB_EXIT_FAIL, "%s",
				d->dp.err);
	return XB_EXIT_OK;
}

static int setup(struct daemon *d, struct xb_global *g)
{
	struct xb_sync s;
	int err;

	if (!xb_have_privileges(g))
		return XB_EXIT_ENV;
	if (xb_pin_dir_check(g->pin_dir, true))
		return XB_EXIT_ENV;
	if (mkdir(g->pin_dir, 0700) && errno != EEXIST)
		return xb_error(g, XB_EXIT_ENV, "couldn't create %s: %s", g->pin_dir,
				strerror(errno));
	d->lock_fd = xb_pin_dir_lock(g->pin_dir);
	if (d->lock_fd == -EBUSY) {
		struct xb_maps maps;
		unsigned int pid = 0;

		if (!xb_maps_open(&maps, g->pin_dir, false)) {
			if (!xb_maps_read_sync(&maps, &s))
				pid = s.daemon_pid;
			xb_maps_close(&maps);
		}
		return xb_error(g, XB_EXIT_ENV, "xfrmbpf is already running on %s (pid %u)",
				g->pin_dir, pid);
	}
	if (d->lock_fd < 0)
		return xb_error(g, XB_EXIT_ENV, "couldn't lock %s: %s", g->pin_dir,
				strerror(-d->lock_fd));
	if (xb_maps_create(g->pin_dir) || xb_maps_open(&d->maps, g->pin_dir, true))
		return XB_EXIT_ENV;
	/* Until the first dump is published the datapath must not trust the
	 * maps: they may hold a dead daemon's state. */
	xb_publish_synced(&d->maps, false);
	xb_publish_daemon(&d->maps, getpid(), d->opts.heartbeat_timeout_ms * 1000000ull);
	xb_publish_heartbeat(&d->maps);
	err = xb_publish_clear(&d->maps);
	if (!err)
		err = xb_mirror_init(&d->mirror, true);
	if (!err)
		err = xb_nl_open(&d->nl);
	if (!err)
		err = xb_nl_subscribe(&d->nl, d->opts.rcvbuf);
	if (err)
		return xb_error(g, XB_EXIT_FAIL, "couldn't start the mirror: %s", strerror(-err));
	/* XFRMBPF_REFETCH_POLICIES=1 forces it (tests: no SELinux here). */
	d->refetch_policies = selinux_active() || getenv("XFRMBPF_REFETCH_POLICIES");
	if (d->refetch_policies)
		pr_info("Notified policies are read back in full (security contexts)\n");
	d->signal_fd = open_signal_fd();
	d->timer_fd = open_timer_fd(d->opts.heartbeat_ms);
	if (d->signal_fd < 0 || d->timer_fd < 0)
		return xb_error(g, XB_EXIT_FAIL, "couldn't set up signals and timers: %s",
				strerror(errno));
	/* Before the datapath: it caches verdicts that follow the routes. */
	d->route_fd = xb_route_watch_open();
	if (d->route_fd < 0)
		return xb_error(g, XB_EXIT_FAIL, "couldn't follow route changes: %s",
				strerror(-d->route_fd));
	/* After the signal fd: a SIGTERM during attach waits for the loop,
	 * which detaches. */
	return setup_datapath(d, g);
}

static void teardown(struct daemon *d)
{
	if (d->maps.sync) {
		xb_publish_synced(&d->maps, false);
		xb_publish_daemon(&d->maps, 0, d->opts.heartbeat_timeout_ms * 1000000ull);
	}
	if (d->dp.skel)
		xb_dp_close(&d->dp);
	xb_nl_close(&d->nl);
	xb_mirror_fini(&d->mirror);
	xb_maps_close(&d->maps);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->route_fd >= 0)
		close(d->route_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
}

int cmd_run(int argc, char **argv, struct xb_global *g)
{
	struct daemon d = { .lock_fd = -1, .signal_fd = -1, .timer_fd = -1,
			  .route_fd = -1 };
	int ret, err;

	for (ret = 0; ret < XB_MAP_COUNT; ret++)
		d.maps.fd[ret] = -1;
	ret = parse_run_opts(argc, argv, g, &d.opts);
	if (ret >= 0)
		return ret;
	ret = setup(&d, g);
	if (ret == XB_EXIT_OK) {
		pr_info("xfrmbpf %s: mirroring into %s\n", XB_VERSION, g->pin_dir);
		err = resync(&d);
		if (!err)
			err = event_loop(&d);
		if (err)
			ret = xb_error(g, XB_EXIT_FAIL, "mirror stopped: %s", strerror(-err));
	}
	teardown(&d);
	return ret;
}
