// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The mirror daemon. Follows the XFRM and link multicast groups; each batch
 * of events goes top to bottom: netlink (netlink/nl.h receives and parses)
 * -> mirror (mirror/mirror.h applies) -> publisher (mirror/publish.h feeds
 * the classifier builder, then writes the maps). Re-dumps everything when
 * the kernel reports lost messages (ENOBUFS); beats the heartbeat; on
 * SIGINT/SIGTERM, or when a publication fails, marks the mirror unsynced
 * (the datapath then passes everything) and returns. With interfaces it
 * also attaches the datapath (loader/attach.h) and detaches exactly that
 * at the end. SIGHUP re-reads the options: interfaces are attached and
 * detached, bypass ports and the heartbeat follow, the mirror stays as it
 * is. systemd hears of it all (daemon/sd_notify.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include "daemon/daemon.h"
#include "daemon/encap_watch.h"
#include "daemon/route_watch.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "loader/spread.h"
#include "loader/sync_record.h"
#include "mirror/publish.h"

#define XB_RESYNC_TRIES_WARN	10
/* While over capacity, the kernel's policy count is read at most this
 * often. */
#define XB_CAPACITY_CHECK_NS	(1000ULL * 1000 * 1000)

static int fail(struct xb_daemon *d, enum xb_daemon_failure failure, int err,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	d->failure = failure;
	return err < 0 ? err : -EINVAL;
}

static int apply_event(const struct xb_event *ev, void *data)
{
	struct xb_daemon *d = data;
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
	struct xb_daemon *d = data;
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
static int drain_events(struct xb_daemon *d, bool xfrm, bool links)
{
	int err = xfrm ? xb_nl_drain(&d->nl, false, apply_notification, d) : 0;
	int lerr = links ? xb_nl_drain(&d->nl, true, apply_event, d) : 0;

	if (err == -ENOBUFS || lerr == -ENOBUFS)
		return -ENOBUFS;
	return err ? err : lerr;
}

/*
 * The mirror could not hold a policy (more than --max-policies): it is
 * incomplete, so the datapath must not decide from it. Marks the maps
 * unsynced with the reason, says so once, and keeps running: the SPD is
 * re-dumped once it fits again (check_capacity()).
 */
static void note_capacity(struct xb_daemon *d)
{
	if (!d->mirror.overflow)
		return;
	xb_sync_set_unsynced_reason(&d->maps, XB_UNSYNCED_OVER_CAPACITY);
	xb_sync_set_synced(&d->maps, false);
	if (d->over_capacity)
		return;
	d->over_capacity = true;
	d->capacity_checked_ns = xb_monotonic_ns();
	pr_warn("The kernel SPD holds more policies than --max-policies %u: the mirror is "
		"incomplete and the datapath passes everything until the SPD fits again\n",
		d->mirror.max_policies);
}

/* What a full map's episode waits to see shrink: the mirror's entries. */
static size_t mirror_size(const struct xb_mirror *m)
{
	return m->policies.count + m->sas.count + m->links.count;
}

/*
 * What the daemon does when a publication failed (err) because a map was
 * full: the entries that publication did not write are lost, so the maps
 * stay unsynced (with the map's name for `status`) until they are rebuilt
 * from empty, which check_capacity() tries once the mirror has shrunk
 * below the size that did not fit. Logged once per episode; the daemon
 * keeps running. Any other failure is returned.
 */
static int publish_failed(struct xb_daemon *d, int err)
{
	int map = d->publisher.full_map;

	if (!err || map < 0)
		return err;
	xb_sync_set_unsynced_reason(&d->maps, XB_UNSYNCED_MAP_FULL + map);
	xb_sync_set_synced(&d->maps, false);
	/* Only a failure on complete maps tells what does not fit. */
	if (!d->map_full) {
		d->map_full = true;
		d->map_full_size = mirror_size(&d->mirror);
	}
	if (!d->map_full_warned) {
		d->map_full_warned = true;
		d->capacity_checked_ns = xb_monotonic_ns();
		pr_warn("The map %s is full (%zu policies, %zu SAs, %zu xfrm interfaces)%s: "
			"the datapath passes everything until the mirror shrinks and fits again\n",
			xb_map_names[map], d->mirror.policies.count, d->mirror.sas.count,
			d->mirror.links.count, xb_map_by_capacity(map) ?
			"; --max-policies sizes it" : "");
	}
	return 0;
}

/*
 * Changed policies in one publication past which the daemon gives the
 * heap's free pages back to the kernel. A bulk build (start-up, re-dump)
 * frees what only it needed, the sort's order, the publication's batches,
 * the arrays the builder outgrew by doubling, and glibc keeps those pages
 * resident: 2.1 MB of the daemon's 19 MB at 100k realistic acl policies.
 * An event's publication frees too little to be worth a trim's walk of
 * the heap.
 */
#define TRIM_AFTER_CHANGES	4096

static int publish(struct xb_daemon *d)
{
	size_t changes = d->mirror.dirty_policies.n;
	int err = xb_publish(&d->publisher, &d->mirror);

	if (changes)
		d->changed_ns = xb_monotonic_ns();
	if (changes >= TRIM_AFTER_CHANGES)
		malloc_trim(0);
	return publish_failed(d, err);
}

/* Empty maps, a new classifier builder and an empty mirror: what a dump
 * then fills is complete, whatever an earlier publication lost. */
static int fresh_mirror(struct xb_daemon *d)
{
	struct xb_policy_store store;
	int err;

	xb_mirror_fini(&d->mirror);
	xb_publisher_fini(&d->publisher);
	err = xb_publish_clear(&d->maps);
	if (!err)
		err = xb_publisher_init(&d->publisher, &d->maps);
	if (err)
		return err;
	store = xb_publisher_store(&d->publisher);
	err = xb_mirror_init(&d->mirror, &store, d->maps.max_policies);
	if (!err && d->opts.spread_esp)
		xb_mirror_set_spread(&d->mirror, &d->spread);
	return err;
}

/* Full re-dump into the mirror, repeated until no event was lost meanwhile.
 * After a full map, on empty maps and a new mirror. */
static int resync(struct xb_daemon *d)
{
	int err, tries = 0;

	xb_sync_set_synced(&d->maps, false);
	if (d->map_full) {
		pr_info("Rebuilding the mirror on empty maps\n");
		err = fresh_mirror(d);
		if (err) {
			pr_warn("Couldn't reset the mirror: %s\n", strerror(-err));
			return err;
		}
		d->map_full = false;
	}
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
	note_capacity(d);
	err = publish(d);
	if (err)
		return err;
	xb_sync_set_counters(&d->maps, d->resyncs, d->nl.bad_msgs);
	if (d->mirror.overflow || d->map_full)
		return 0;
	if (d->over_capacity || d->map_full_warned)
		pr_info("The kernel's state fits in the maps again (--max-policies %u)\n",
			d->mirror.max_policies);
	d->over_capacity = false;
	d->map_full_warned = false;
	xb_sync_set_unsynced_reason(&d->maps, XB_UNSYNCED_NONE);
	xb_sync_set_synced(&d->maps, true);
	if (d->opts.spread_esp)
		xb_spread_forget_hints(&d->spread);
	pr_info("Mirror synced: %zu policies, %zu SAs, %zu xfrm interfaces (generation %llu)\n",
		d->mirror.policies.count, d->mirror.sas.count, d->mirror.links.count,
		(unsigned long long)d->maps.sync->generation);
	return 0;
}

static int on_events(struct xb_daemon *d, bool xfrm, bool links)
{
	int err = drain_events(d, xfrm, links);

	if (err == -ENOBUFS) {
		pr_info("Netlink messages lost (ENOBUFS): re-dumping\n");
		d->resyncs++;
		return resync(d);
	}
	if (err)
		return err;
	/* Before the incomplete mirror is published. */
	note_capacity(d);
	err = publish(d);
	xb_sync_set_counters(&d->maps, d->resyncs, d->nl.bad_msgs);
	return err;
}

/*
 * on_events() with the XFRM socket read empty, then the time taken before
 * the reading began goes into the sync record: every SA the kernel
 * installed before it is now in the maps. That is what lets the datapath
 * drop an SPI the maps lack (bpf/spi.bpf.h); the heartbeat calls it too,
 * so the stamp advances on a quiet SAD.
 */
static int on_xfrm_events(struct xb_daemon *d, bool links)
{
	__u64 before = xb_monotonic_ns();
	int err = on_events(d, true, links);

	if (!err)
		xb_sync_set_drained(&d->maps, before);
	return err;
}

/*
 * Over capacity: once the kernel's SPD fits again (policies were deleted),
 * re-dump; after a full map, once the mirror is smaller than when the map
 * was full, rebuild. A dump that fits makes the mirror synced again. At
 * most once a second; when the SPD's count cannot be read, the re-dump
 * tells.
 */
static int check_capacity(struct xb_daemon *d)
{
	__u64 now = xb_monotonic_ns(), count = 0;
	int err;

	if (!(d->over_capacity || d->map_full) ||
	    now - d->capacity_checked_ns < XB_CAPACITY_CHECK_NS)
		return 0;
	d->capacity_checked_ns = now;
	if (d->over_capacity) {
		/* The mirror lacks policies, so its size says nothing: the
		 * kernel's count decides, and a rebuild that finds a map
		 * still full records the size anew. */
		err = xb_nl_spd_count(&d->nl, &count);
		if (err)
			pr_debug("Couldn't read the SPD's policy count: %s\n", strerror(-err));
		else if (count > d->mirror.max_policies)
			return 0;
		pr_debug("The SPD holds %llu policies: re-dumping\n", (unsigned long long)count);
	} else if (mirror_size(&d->mirror) >= d->map_full_size) {
		return 0;
	}
	d->resyncs++;
	return resync(d);
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

static int set_timer(int fd, unsigned int ms)
{
	struct itimerspec its = {
		.it_interval = { ms / 1000, (ms % 1000) * 1000000L },
		.it_value = { ms / 1000, (ms % 1000) * 1000000L },
	};

	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

static int open_timer_fd(unsigned int ms)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd >= 0 && set_timer(fd, ms)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The NAT-T port's sockets, looked at every beat: an IKE daemon may start
 * or stop at any time. Only while every datagram to udp/4500 would be
 * decapsulated (encap_watch.h) is it ESP in UDP to the datapath; when the
 * sockets cannot be listed it is plain UDP, which never drops what the
 * kernel would deliver. */
static void refresh_natt_socket(struct xb_daemon *d)
{
	int bound = xb_udp_port_decapsulated(XB_NATT_UDP_PORT);

	if (bound < 0) {
		if (!d->natt_scan_warned)
			pr_warn("Couldn't list the UDP sockets (%s): udp/%d is taken as plain UDP, "
				"not as ESP in UDP\n", strerror(-bound), XB_NATT_UDP_PORT);
		d->natt_scan_warned = true;
		bound = 0;
	}
	if (bound == d->natt_socket)
		return;
	if (xb_encap_socket_write(&d->maps, XB_NATT_UDP_PORT, bound)) {
		pr_warn("Couldn't update the NAT-T socket entry of xb_bypass: %s\n", strerror(errno));
		return;
	}
	/* the state at start is a detail; a change is news */
	if (d->natt_socket < 0)
		pr_debug("UDP port %d %s\n", XB_NATT_UDP_PORT,
			 bound ? "decapsulates ESP: ESP in UDP to it is checked for a known SPI" :
				 "does not decapsulate ESP for every datagram: it is plain UDP to the datapath");
	else if (bound)
		pr_info("UDP port %d now decapsulates ESP for every datagram: ESP in UDP to it is "
			"checked for a known SPI\n", XB_NATT_UDP_PORT);
	else
		pr_info("UDP port %d no longer decapsulates ESP for every datagram: udp/%d is "
			"plain UDP to the datapath\n", XB_NATT_UDP_PORT, XB_NATT_UDP_PORT);
	d->natt_socket = bound;
}

/* systemd's STATUS= line: sent when it changes, looked at after the first
 * sync, at each beat and after a reload. */
static void update_status(struct xb_daemon *d)
{
	char line[sizeof(d->sd.status)], ifs[160] = "";
	const char *state;
	size_t used = 0;
	int i;

	if (d->maps.sync->synced)
		state = "synced";
	else if (d->over_capacity)
		state = "unsynced (more policies than max-policies)";
	else if (d->map_full)
		state = "unsynced (a map is full)";
	else
		state = "syncing";
	for (i = 0; i < d->dp.n_ifaces && used < sizeof(ifs); i++)
		used += snprintf(ifs + used, sizeof(ifs) - used, "%s%s", i ? " " : "",
				 d->dp.ifaces[i].name);
	snprintf(line, sizeof(line), "Mirror %s, generation %llu: %zu policies, %zu SAs; %s%s",
		 state, (unsigned long long)d->maps.sync->generation, d->mirror.policies.count,
		 d->mirror.sas.count, d->dp.n_ifaces ? "attached: " : "no interface attached",
		 ifs);
	xb_sd_status(&d->sd, line);
}

/*
 * systemd's watchdog is fed by the beat of the event loop: a loop that no
 * longer turns (a re-dump that loses messages every time, a call that
 * blocks) starves it, and systemd restarts the daemon. Unsynced for a
 * reason the daemon knows (over capacity, a full map) is fed: the datapath
 * passes everything as designed, `status` says why, and a restart would
 * not help. Unsynced for no known reason is not.
 */
static bool healthy(const struct xb_daemon *d)
{
	return d->maps.sync->synced || d->over_capacity || d->map_full;
}

/* No policy changed for this long: the SPD is settled enough for a
 * relayout's window. */
#define RELAYOUT_QUIET_NS	(2 * 1000000000ULL)

/*
 * Live adds are placed first come: an SPD loaded while the daemon runs
 * (the daemon started first at boot, an IKE daemon's policies coming and
 * going) ends in a layout a packet's walk pays for (at 100k realistic acl
 * policies added in no order, 46.6 tables a new flow instead of 32.7).
 * Once the builder counts enough drift and the SPD has been quiet, the
 * classifier is laid out anew, in order; the datapath passes what it
 * meets during that window.
 */
static int maybe_relayout(struct xb_daemon *d)
{
	__u64 start = xb_monotonic_ns(), window_ns = 0;
	bool published;
	int err;

	if (!d->maps.sync->synced || start - d->changed_ns < RELAYOUT_QUIET_NS ||
	    !xb_publish_relayout_due(&d->publisher, &d->mirror))
		return 0;
	/* Seconds at 1M policies, as a re-dump: systemd's watchdog interval
	 * starts here. The heartbeat is not beaten meanwhile: events wait in
	 * the socket, and past its timeout the datapath passes everything. */
	xb_sd_watchdog(&d->sd);
	err = xb_publish_relayout(&d->publisher, &d->mirror, &window_ns, &published);
	if (err && !published) {
		/* failed before it changed anything: the layout stays */
		pr_warn("Couldn't lay the classifier out anew: %s\n", strerror(-err));
		return 0;
	}
	if (err)
		return publish_failed(d, err);
	/* the old builder's memory is free now */
	malloc_trim(0);
	pr_info("Classifier laid out anew in the kernel's order, as live adds had drifted it: "
		"%zu policies, %.0f ms, the datapath passing everything for %.0f ms of them\n",
		d->mirror.policies.count, (xb_monotonic_ns() - start) / 1e6, window_ns / 1e6);
	return 0;
}

static int on_heartbeat(struct xb_daemon *d)
{
	__u64 expirations;
	int err;

	if (read(d->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return -errno;
	err = on_xfrm_events(d, false);
	if (err)
		return err;
	xb_sync_heartbeat(&d->maps);
	xb_spd_watch_check(&d->spd_watch, &d->maps);
	refresh_natt_socket(d);
	/* sysctl and MTU changes are followed at the beat */
	if (d->dp.n_ifaces)
		xb_dp_refresh(&d->dp);
	err = check_capacity(d);
	if (!err)
		err = maybe_relayout(d);
	if (err)
		return err;
	update_status(d);
	if (healthy(d))
		xb_sd_watchdog(&d->sd);
	return 0;
}

/* The changes a reload cannot make: said, and the old value kept. */
static void needs_restart(const char *what, const char *old)
{
	pr_warn("Reload: a new %s needs a restart; keeping %s\n", what, old);
}

static bool metrics_differ(const struct xb_metrics_http_opts *a,
			   const struct xb_metrics_http_opts *b)
{
	return a->enabled != b->enabled || a->top_policies != b->top_policies ||
	       (a->enabled && strcmp(a->addr_str, b->addr_str));
}

/* What only a start can set: the old values go into n. */
static void keep_start_settings(struct xb_daemon *d, struct xb_daemon_opts *n,
				const char *pin_dir)
{
	struct xb_daemon_opts *o = &d->opts;
	char old[160];

	if (strcmp(pin_dir, d->pin_dir))
		needs_restart("pin-dir", d->pin_dir);
	if (n->max_policies != o->max_policies) {
		snprintf(old, sizeof(old), "max-policies %u", o->max_policies);
		needs_restart("max-policies", old);
		n->max_policies = o->max_policies;
	}
	if (n->rcvbuf != o->rcvbuf) {
		snprintf(old, sizeof(old), "rcvbuf %d", o->rcvbuf);
		needs_restart("rcvbuf", old);
		n->rcvbuf = o->rcvbuf;
	}
	if (metrics_differ(&n->metrics, &o->metrics)) {
		snprintf(old, sizeof(old), "metrics %s, metrics-top-policies %u",
			 o->metrics.enabled ? o->metrics.addr_str : "off", o->metrics.top_policies);
		needs_restart("metrics or metrics-top-policies", old);
		n->metrics = o->metrics;
	}
	if (n->spread_esp != o->spread_esp ||
	    (n->spread_esp && (n->spread_cpus.n != o->spread_cpus.n ||
			       memcmp(n->spread_cpus.cpus, o->spread_cpus.cpus,
				      o->spread_cpus.n * sizeof(o->spread_cpus.cpus[0]))))) {
		xb_cpu_list_format(&o->spread_cpus, old, sizeof(old));
		needs_restart("spread-esp", o->spread_esp ? old : "no spreading");
		n->spread_esp = o->spread_esp;
		n->spread_cpus = o->spread_cpus;
	}
	/* The datapath object is loaded with or without its TC programs. */
	if (d->dp.skel && n->steer != o->steer) {
		needs_restart("steer", o->steer ? "steer yes" : "steer no");
		n->steer = o->steer;
	}
}

static void reload_heartbeat(struct xb_daemon *d, struct xb_daemon_opts *n)
{
	int err;

	if (n->heartbeat_ms != d->opts.heartbeat_ms) {
		err = set_timer(d->timer_fd, n->heartbeat_ms);
		if (err) {
			pr_err("Couldn't set the heartbeat to %u ms: %s\n", n->heartbeat_ms,
			       strerror(-err));
			n->heartbeat_ms = d->opts.heartbeat_ms;
		} else {
			pr_info("Heartbeat: every %u ms\n", n->heartbeat_ms);
		}
	}
	if (n->heartbeat_timeout_ms != d->opts.heartbeat_timeout_ms) {
		xb_sync_set_daemon(&d->maps, getpid(), n->heartbeat_timeout_ms * 1000000ull);
		pr_info("Heartbeat timeout: %u ms\n", n->heartbeat_timeout_ms);
	}
	xb_sd_init(&d->sd, n->heartbeat_ms);
}

static void reload_bypass(struct xb_daemon *d, struct xb_daemon_opts *n)
{
	int err;

	if (n->n_bypass == d->opts.n_bypass &&
	    !memcmp(n->bypass, d->opts.bypass, n->n_bypass * sizeof(n->bypass[0])))
		return;
	err = xb_bypass_write(&d->maps, n->bypass, n->n_bypass);
	if (err)
		pr_err("Couldn't write the bypass ports: %s\n", strerror(-err));
	else
		pr_info("Bypass ports: %d\n", n->n_bypass);
	/* the write emptied the map, or part of it: the NAT-T entry anew */
	d->natt_socket = -1;
	refresh_natt_socket(d);
}

static bool listed(const struct xb_daemon_opts *n, const char *ifname)
{
	int i;

	for (i = 0; i < n->n_ifaces; i++)
		if (!strcmp(n->ifaces[i], ifname))
			return true;
	return false;
}

static bool attached(const struct xb_datapath *dp, const char *ifname)
{
	int i;

	for (i = 0; i < dp->n_ifaces; i++)
		if (!strcmp(dp->ifaces[i].name, ifname))
			return true;
	return false;
}

/* The datapath object, with spreading as --spread-esp says. */
static int open_datapath(struct xb_daemon *d, bool steer)
{
	int err = xb_dp_open(&d->dp, d->pin_dir, &d->maps, steer);

	if (!err)
		xb_dp_set_spread(&d->dp, d->opts.spread_esp);
	return err;
}

/* Detach what is no longer listed, attach what is new; a device that
 * cannot be attached is said and left out (the next reload tries again). */
static void reload_ifaces(struct xb_daemon *d, struct xb_daemon_opts *n)
{
	int i, err;

	for (i = d->dp.n_ifaces - 1; i >= 0; i--)
		if (!listed(n, d->dp.ifaces[i].name))
			xb_dp_detach(&d->dp, d->dp.ifaces[i].name);
	if (n->mode != d->opts.mode && d->dp.n_ifaces)
		needs_restart("mode for the interfaces attached already",
			      "their mode; new interfaces take the new one");
	for (i = 0; i < n->n_ifaces; i++) {
		if (attached(&d->dp, n->ifaces[i]))
			continue;
		if (!d->dp.skel) {
			err = open_datapath(d, n->steer);
			if (err) {
				pr_err("%s\n", d->dp.err);
				if (d->dp.skel)
					xb_dp_close(&d->dp);
				return;
			}
		}
		err = xb_dp_attach(&d->dp, n->ifaces[i], n->mode);
		if (err)
			pr_err("%s; not attached\n", d->dp.err);
	}
}

/* SIGHUP: the options anew; the mirror, its maps and its sync state stay
 * as they are. A configuration that does not parse changes nothing. */
static void reload(struct xb_daemon *d)
{
	struct xb_daemon_opts n;
	const char *pin_dir = d->pin_dir;
	char err[sizeof(d->err)];

	xb_sd_reloading(&d->sd);
	if (!d->opts.reload.fn) {
		pr_info("Got SIGHUP: there is no config file to re-read (run --config); "
			"nothing changes\n");
	} else if (d->opts.reload.fn(d->opts.reload.ctx, &n, &pin_dir, err, sizeof(err))) {
		pr_err("Couldn't reload: %s; the running configuration stays\n", err);
	} else {
		pr_info("Got SIGHUP: reloading the configuration\n");
		keep_start_settings(d, &n, pin_dir);
		reload_heartbeat(d, &n);
		reload_bypass(d, &n);
		reload_ifaces(d, &n);
		n.reload = d->opts.reload;
		d->opts = n;
		pr_info("Reloaded: %d interface%s attached\n", d->dp.n_ifaces,
			d->dp.n_ifaces == 1 ? "" : "s");
	}
	update_status(d);
	xb_sd_reloaded(&d->sd);
}

static int event_loop(struct xb_daemon *d)
{
	enum { XFRM_EVENTS, LINK_EVENTS, HEARTBEAT, SIGNALS, ROUTES, SPD_WATCH, N_FDS };
	struct pollfd pfd[N_FDS] = {
		[XFRM_EVENTS] = { .fd = xb_nl_event_fd(&d->nl, false), .events = POLLIN },
		[LINK_EVENTS] = { .fd = xb_nl_event_fd(&d->nl, true), .events = POLLIN },
		[HEARTBEAT] = { .fd = d->timer_fd, .events = POLLIN },
		[SIGNALS] = { .fd = d->signal_fd, .events = POLLIN },
		[ROUTES] = { .fd = d->route_fd, .events = POLLIN },
		/* -1 without the watch: poll() passes over it */
		[SPD_WATCH] = { .fd = xb_spd_watch_fd(&d->spd_watch), .events = POLLIN },
	};
	int err = 0;

	while (!err) {
		if (poll(pfd, N_FDS, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[SIGNALS].revents) {
			struct signalfd_siginfo si;

			if (read(d->signal_fd, &si, sizeof(si)) != sizeof(si))
				si.ssi_signo = SIGTERM;
			if (si.ssi_signo != SIGHUP) {
				pr_info("Got signal %u, exiting\n", si.ssi_signo);
				return 0;
			}
			reload(d);
		}
		if (pfd[ROUTES].revents)
			err = xb_route_watch_read(d->route_fd, &d->maps);
		if (!err && (pfd[XFRM_EVENTS].revents || pfd[LINK_EVENTS].revents)) {
			if (pfd[XFRM_EVENTS].revents)
				err = on_xfrm_events(d, pfd[LINK_EVENTS].revents);
			else
				err = on_events(d, false, true);
			/* Deletions may have made the SPD fit again. */
			if (!err)
				err = check_capacity(d);
		}
		/* a writer of the kernel's SPD returned: what it changed is
		 * in the socket now (even when the socket did not poll
		 * readable above), and the stamp of this read lets the
		 * datapath trust the maps again */
		if (!err && pfd[SPD_WATCH].revents) {
			xb_spd_watch_woken(&d->spd_watch);
			err = on_xfrm_events(d, false);
		}
		if (!err && pfd[HEARTBEAT].revents)
			err = on_heartbeat(d);
	}
	return err;
}

/* Bypass ports, then the datapath on every interface. */
static int start_datapath(struct xb_daemon *d)
{
	int i, err;

	err = xb_bypass_write(&d->maps, d->opts.bypass, d->opts.n_bypass);
	if (err)
		return fail(d, XB_DAEMON_FAILED, err, "couldn't write the bypass ports: %s",
			    strerror(-err));
	/* the write emptied the map: the NAT-T socket's entry too */
	d->natt_socket = -1;
	refresh_natt_socket(d);
	if (!d->opts.n_ifaces)
		return 0;
	err = open_datapath(d, d->opts.steer);
	for (i = 0; !err && i < d->opts.n_ifaces; i++)
		err = xb_dp_attach(&d->dp, d->opts.ifaces[i], d->opts.mode);
	if (err)
		return fail(d, err == -ENODEV ? XB_DAEMON_NO_IFACE : XB_DAEMON_FAILED, err,
			    "%s", d->dp.err);
	return 0;
}

/* What a start made, to be removed when it fails. */
struct pins_made {
	bool dir;
	bool pins;
};

/* One daemon per pin directory: the flock, or who holds it. */
static int lock_pin_dir(struct xb_daemon *d, struct pins_made *made)
{
	char sync_pin[PATH_MAX];
	struct xb_maps maps;
	struct xb_sync s;
	unsigned int pid = 0;
	int err;

	/* on a bpffs, and nobody else's (it says why) */
	err = xb_pin_dir_check(d->pin_dir, true);
	if (err)
		return fail(d, XB_DAEMON_ENV, err, "%s", "");
	made->dir = !mkdir(d->pin_dir, 0700);
	if (!made->dir && errno != EEXIST)
		return fail(d, XB_DAEMON_ENV, -errno, "couldn't create %s: %s", d->pin_dir,
			    strerror(errno));
	d->lock_fd = xb_pin_dir_lock(d->pin_dir);
	if (d->lock_fd == -EBUSY) {
		if (!xb_maps_open(&maps, d->pin_dir, false)) {
			if (!xb_maps_read_sync(&maps, &s))
				pid = s.daemon_pid;
			xb_maps_close(&maps);
		}
		return fail(d, XB_DAEMON_ENV, -EBUSY, "xfrmbpf is already running on %s (pid %u)",
			    d->pin_dir, pid);
	}
	if (d->lock_fd < 0)
		return fail(d, XB_DAEMON_ENV, d->lock_fd, "couldn't lock %s: %s", d->pin_dir,
			    strerror(-d->lock_fd));
	/* Under the lock: no sync record, no earlier run's pins. */
	snprintf(sync_pin, sizeof(sync_pin), "%s/%s", d->pin_dir, xb_map_names[XB_MAP_SYNC]);
	made->pins = access(sync_pin, F_OK) && errno == ENOENT;
	return 0;
}

/* --spread-esp: the SAs' CPUs (the previous run's where they are
 * listed, read before the maps are emptied) and a cpumap entry per
 * listed CPU. Without it the cpumap is emptied: nothing is redirected. */
static int start_spread(struct xb_daemon *d)
{
	char list[256], why[sizeof(d->err)];
	int err;

	if (!d->opts.spread_esp) {
		xb_spread_cpus_clear(&d->maps);
		return 0;
	}
	err = xb_spread_init(&d->spread, &d->opts.spread_cpus);
	if (!err)
		err = xb_spread_hints_read(&d->spread, &d->maps);
	if (err)
		return fail(d, XB_DAEMON_FAILED, err, "couldn't set up --spread-esp: %s",
			    strerror(-err));
	err = xb_spread_cpus_set(&d->maps, &d->opts.spread_cpus, why, sizeof(why));
	if (err)
		return fail(d, XB_DAEMON_FAILED, err, "%s", why);
	xb_cpu_list_format(&d->opts.spread_cpus, list, sizeof(list));
	pr_info("Inbound ESP of local SAs is spread over CPUs %s (cpumap xb_spread_cpus)\n",
		list);
	return 0;
}

/*
 * The watch on the kernel's SPD writers (loader/spd_watch.h), once the
 * XFRM socket is open (it loads xfrm_user, whose handlers are watched)
 * and the interfaces are attached.
 * Without it the datapath works as before: a change is trusted from the
 * moment it is published, and for the daemon's event lag (see `make
 * bench`: hundreds of microseconds) a packet can still meet a policy the
 * kernel has already deleted.
 */
static void start_spd_watch(struct xb_daemon *d)
{
	char why[256];

	if (xb_spd_watch_start(&d->spd_watch, &d->maps, d->pin_dir, why, sizeof(why))) {
		pr_warn("SPD watch off (%s): for the daemon's event lag after a change of the "
			"kernel's SPD, the datapath may still drop by the old SPD\n", why);
		return;
	}
	pr_info("SPD watch: kprobes on %u kernel functions that change the SPD\n",
		d->spd_watch.n_funcs);
}

static int start_mirror(struct xb_daemon *d)
{
	int err;

	err = xb_maps_create(d->pin_dir, d->opts.max_policies);
	if (err == -EBUSY)
		return fail(d, XB_DAEMON_ENV, err, "the pinned maps under %s have another size "
			    "than --max-policies %u", d->pin_dir, d->opts.max_policies);
	if (err || xb_maps_open(&d->maps, d->pin_dir, true))
		return fail(d, XB_DAEMON_ENV, -ENOENT, "%s", "");
	xb_sync_set_unsynced_reason(&d->maps, XB_UNSYNCED_NONE);
	/* Until the first dump is published the datapath must not trust the
	 * maps: they may hold a dead daemon's state. */
	xb_sync_set_synced(&d->maps, false);
	/* Nothing read yet: no SPI is known to be unknown. */
	xb_sync_set_drained(&d->maps, 0);
	xb_sync_set_daemon(&d->maps, getpid(), d->opts.heartbeat_timeout_ms * 1000000ull);
	xb_sync_heartbeat(&d->maps);
	err = start_spread(d);
	if (err)
		return err;
	err = fresh_mirror(d);
	if (!err)
		err = xb_nl_open(&d->nl);
	if (!err)
		err = xb_nl_subscribe(&d->nl, d->opts.rcvbuf);
	if (err)
		return fail(d, XB_DAEMON_FAILED, err, "couldn't start the mirror: %s",
			    strerror(-err));
	/* XFRMBPF_REFETCH_POLICIES=1 forces it (tests: no SELinux here). */
	d->refetch_policies = selinux_active() || getenv("XFRMBPF_REFETCH_POLICIES");
	if (d->refetch_policies)
		pr_info("Notified policies are read back in full (security contexts)\n");
	return 0;
}

static int start(struct xb_daemon *d, const char *pin_dir,
		 const struct xb_daemon_opts *opts, struct pins_made *made)
{
	int i, err;

	memset(d, 0, sizeof(*d));
	/* SA messages carry keys through the receive buffers (wiped after
	 * each parse, but a crash may come first): no core dump, and no
	 * ptrace or /proc/PID/mem for other users. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		pr_warn("Couldn't turn core dumps off: %s\n", strerror(errno));
	d->lock_fd = d->signal_fd = d->timer_fd = d->route_fd = -1;
	for (i = 0; i < XB_MAP_COUNT; i++)
		d->maps.fd[i] = -1;
	d->opts = *opts;
	d->pin_dir = pin_dir;
	xb_sd_init(&d->sd, d->opts.heartbeat_ms);
	err = lock_pin_dir(d, made);
	if (!err)
		err = start_mirror(d);
	if (err)
		return err;
	d->signal_fd = open_signal_fd();
	d->timer_fd = open_timer_fd(d->opts.heartbeat_ms);
	if (d->signal_fd < 0 || d->timer_fd < 0)
		return fail(d, XB_DAEMON_FAILED, -errno, "couldn't set up signals and timers: %s",
			    strerror(errno));
	/* Before the datapath: it caches verdicts that follow the routes. */
	d->route_fd = xb_route_watch_open();
	if (d->route_fd < 0)
		return fail(d, XB_DAEMON_FAILED, d->route_fd, "couldn't follow route changes: %s",
			    strerror(-d->route_fd));
	/* After the signal fd: its thread inherits the blocked signals. */
	if (d->opts.metrics.enabled) {
		char why[sizeof(d->err)];

		d->metrics = xb_metrics_http_start(d->pin_dir, &d->opts.metrics, why, sizeof(why));
		if (!d->metrics)
			return fail(d, XB_DAEMON_FAILED, -EADDRNOTAVAIL, "%s", why);
	}
	/* After the signal fd: a SIGTERM during attach waits for the loop,
	 * which detaches. */
	err = start_datapath(d);
	/* Last: a start that fails says so in one line. Nothing is trusted
	 * before the first publication, which comes after. */
	if (!err)
		start_spd_watch(d);
	return err;
}

/* A run that failed to start leaves none of the pins it made (a bad
 * interface, a refused attach): detached, closed and removed while the
 * lock is still held, and the directory too when it made it. */
static void remove_own_pins(struct xb_daemon *d, bool made_dir)
{
	int err;

	if (d->dp.skel)
		xb_dp_close(&d->dp);
	xb_maps_close(&d->maps);
	err = xb_pins_remove(d->pin_dir, made_dir);
	if (err)
		pr_warn("Couldn't remove the pins this run made under %s: %s\n", d->pin_dir,
			strerror(-err));
	else
		pr_info("Removed the pins this run made under %s\n", d->pin_dir);
}

int xb_daemon_start(struct xb_daemon *d, const char *pin_dir,
		    const struct xb_daemon_opts *opts)
{
	struct pins_made made = {};
	int err = start(d, pin_dir, opts, &made);

	if (err && made.pins)
		remove_own_pins(d, made.dir);
	return err;
}

int xb_daemon_run(struct xb_daemon *d)
{
	int err;

	pr_info("xfrmbpf %s: mirroring into %s\n", XB_VERSION, d->pin_dir);
	err = resync(d);
	if (!err) {
		/* The interfaces were attached at start: the service is up,
		 * synced, or unsynced for a reason STATUS= gives. */
		update_status(d);
		xb_sd_ready(&d->sd);
		err = event_loop(d);
	}
	if (err)
		fail(d, XB_DAEMON_FAILED, err, "mirror stopped: %s", strerror(-err));
	return err;
}

void xb_daemon_stop(struct xb_daemon *d)
{
	xb_sd_stopping(&d->sd);
	xb_metrics_http_stop(d->metrics);
	d->metrics = NULL;
	if (d->maps.sync) {
		xb_sync_set_synced(&d->maps, false);
		xb_sync_set_unsynced_reason(&d->maps, XB_UNSYNCED_NONE);
		xb_sync_set_daemon(&d->maps, 0, d->opts.heartbeat_timeout_ms * 1000000ull);
	}
	xb_spd_watch_stop(&d->spd_watch, &d->maps);
	if (d->dp.skel)
		xb_dp_close(&d->dp);
	xb_nl_close(&d->nl);
	xb_mirror_fini(&d->mirror);
	xb_publisher_fini(&d->publisher);
	/* detached: the cpumap's threads have nothing more to do */
	if (d->opts.spread_esp && d->maps.fd[XB_MAP_SPREAD_CPUS] >= 0)
		xb_spread_cpus_clear(&d->maps);
	xb_spread_fini(&d->spread);
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
