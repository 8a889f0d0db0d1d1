// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xfrmbpf run`: the mirror daemon. Follows the XFRM and link multicast
 * groups, applies each batch of events to the mirror and publishes it;
 * re-dumps everything when the kernel reports lost messages (ENOBUFS); beats
 * the heartbeat; on SIGINT/SIGTERM marks the mirror unsynced (the datapath
 * then passes everything) and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include "cli.h"
#include "log.h"
#include "maps.h"
#include "mirror.h"
#include "nl.h"
#include "publish.h"
#include "xfrmbpf/limits.h"

#define XB_RCVBUF_DEFAULT	(8 * 1024 * 1024)
#define XB_RESYNC_TRIES_WARN	10

struct run_opts {
	int rcvbuf;
	unsigned int heartbeat_ms;
	unsigned int heartbeat_timeout_ms;
};

struct daemon {
	struct run_opts opts;
	struct xb_maps maps;
	struct xb_mirror mirror;
	struct xb_nl nl;
	int lock_fd;
	int signal_fd;
	int timer_fd;
	__u32 resyncs;
	bool need_resync;
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

static int ignore_event(const struct xb_event *ev, void *data)
{
	(void)ev;
	(void)data;
	return 0;
}

static int drain_events(struct daemon *d)
{
	int err = xb_nl_drain(&d->nl, false, apply_event, d);
	int lerr = xb_nl_drain(&d->nl, true, apply_event, d);

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
		err = drain_events(d);
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

static int on_events(struct daemon *d)
{
	int err = drain_events(d);

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
	struct pollfd pfd[4] = {
		{ .fd = xb_nl_event_fd(&d->nl, false), .events = POLLIN },
		{ .fd = xb_nl_event_fd(&d->nl, true), .events = POLLIN },
		{ .fd = d->timer_fd, .events = POLLIN },
		{ .fd = d->signal_fd, .events = POLLIN },
	};
	int err;

	for (;;) {
		if (poll(pfd, 4, -1) < 0) {
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
		if (pfd[0].revents || pfd[1].revents) {
			err = on_events(d);
			if (err)
				return err;
		}
		if (pfd[2].revents) {
			__u64 expirations;

			if (read(d->timer_fd, &expirations, sizeof(expirations)) < 0 &&
			    errno != EAGAIN)
				return -errno;
			xb_publish_heartbeat(&d->maps);
		}
	}
}

static int parse_run_opts(int argc, char **argv, struct xb_global *g, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "rcvbuf", required_argument, NULL, 'r' },
		{ "heartbeat-ms", required_argument, NULL, 'b' },
		{ "heartbeat-timeout-ms", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char *end;
	long v;
	int opt;

	o->rcvbuf = XB_RCVBUF_DEFAULT;
	o->heartbeat_ms = XB_HEARTBEAT_INTERVAL_MS_DEFAULT;
	o->heartbeat_timeout_ms = XB_HEARTBEAT_TIMEOUT_MS_DEFAULT;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
		case 'b':
		case 't':
			errno = 0;
			v = strtol(optarg, &end, 0);
			if (errno || *end || v <= 0 || v > (1L << 30))
				return xb_usage_error(g, "run", "invalid value '%s' for --%s",
						      optarg, opt == 'r' ? "rcvbuf" :
						      opt == 'b' ? "heartbeat-ms" :
						      "heartbeat-timeout-ms");
			if (opt == 'r')
				o->rcvbuf = v;
			else if (opt == 'b')
				o->heartbeat_ms = v;
			else
				o->heartbeat_timeout_ms = v;
			break;
		case 'j':
			g->json = true;
			break;
		case 'h':
			printf("Usage: %s run [--rcvbuf BYTES] [--heartbeat-ms MS] "
			       "[--heartbeat-timeout-ms MS]\n", g->prog);
			return XB_EXIT_OK;
		default:
			return xb_usage_error(g, "run", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return xb_usage_error(g, "run", "unexpected argument '%s'", argv[optind]);
	if (o->heartbeat_timeout_ms <= o->heartbeat_ms)
		return xb_usage_error(g, "run", "--heartbeat-timeout-ms must exceed --heartbeat-ms");
	return -1;
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
	d->signal_fd = open_signal_fd();
	d->timer_fd = open_timer_fd(d->opts.heartbeat_ms);
	if (d->signal_fd < 0 || d->timer_fd < 0)
		return xb_error(g, XB_EXIT_FAIL, "couldn't set up signals and timers: %s",
				strerror(errno));
	return XB_EXIT_OK;
}

static void teardown(struct daemon *d)
{
	if (d->maps.sync) {
		xb_publish_synced(&d->maps, false);
		xb_publish_daemon(&d->maps, 0, d->opts.heartbeat_timeout_ms * 1000000ull);
	}
	xb_nl_close(&d->nl);
	xb_mirror_fini(&d->mirror);
	xb_maps_close(&d->maps);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
}

int cmd_run(int argc, char **argv, struct xb_global *g)
{
	struct daemon d = { .lock_fd = -1, .signal_fd = -1, .timer_fd = -1 };
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
