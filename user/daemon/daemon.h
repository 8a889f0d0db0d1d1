/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The mirror daemon (`xfrmbpf run`): start-up (pin directory lock, maps,
 * netlink, signals, heartbeat timer, route watch, datapath), the first full
 * dump, then the event loop until SIGINT/SIGTERM, and a clean teardown.
 * SIGHUP re-reads the options (struct xb_daemon_reload) and applies what
 * can change while running: interfaces, bypass ports, the heartbeat.
 */
#ifndef XFRMBPF_DAEMON_H
#define XFRMBPF_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include "daemon/metrics_http.h"
#include "daemon/sd_notify.h"
#include "loader/attach.h"
#include "loader/maps.h"
#include "loader/spd_watch.h"
#include "mirror/mirror.h"
#include "mirror/publish.h"
#include "mirror/spread.h"
#include "netlink/nl.h"
#include "xfrmbpf/limits.h"

struct xb_daemon_opts;

/* SIGHUP: the options anew (a config file re-read), into *opts and
 * *pin_dir; on failure -errno, with the reason in err. NULL fn: SIGHUP
 * changes nothing. */
struct xb_daemon_reload {
	int (*fn)(void *ctx, struct xb_daemon_opts *opts, const char **pin_dir, char *err,
		  size_t err_len);
	void *ctx;
};

struct xb_daemon_opts {
	int rcvbuf;
	__u32 max_policies;		/* the maps' and the mirror's capacity */
	unsigned int heartbeat_ms;
	unsigned int heartbeat_timeout_ms;
	const char *ifaces[XB_MAX_IFACES];
	int n_ifaces;
	enum xb_xdp_mode mode;
	bool steer;
	struct xb_bypass_key bypass[XB_MAX_BYPASS];
	int n_bypass;
	struct xb_metrics_http_opts metrics;	/* --metrics */
	/* --spread-esp CPUS: inbound ESP redirected per SA to these */
	bool spread_esp;
	struct xb_cpu_list spread_cpus;
	struct xb_daemon_reload reload;
};

/* What went wrong, for the command line's exit code. */
enum xb_daemon_failure {
	XB_DAEMON_OK = 0,
	XB_DAEMON_ENV,		/* pin directory, lock, maps: the environment */
	XB_DAEMON_NO_IFACE,	/* an -i interface does not exist */
	XB_DAEMON_FAILED,	/* anything else */
};

struct xb_daemon {
	struct xb_daemon_opts opts;
	const char *pin_dir;
	struct xb_maps maps;
	struct xb_mirror mirror;
	struct xb_publisher publisher;
	struct xb_nl nl;
	struct xb_datapath dp;
	struct xb_spread spread;	/* --spread-esp: the SAs' CPUs */
	struct xb_spd_watch spd_watch;	/* the kernel's SPD writers */
	int lock_fd;
	int signal_fd;
	int timer_fd;
	int route_fd;		/* daemon/route_watch.h: invalidates cached flows */
	struct xb_metrics_http *metrics;	/* --metrics: its own thread */
	__u32 resyncs;
	/* The kernel's SPD did not fit in max_policies: unsynced until a
	 * re-dump fits, which is tried when the kernel's count (checked at
	 * most once a second) fits again. */
	bool over_capacity;
	/* A map was full: the maps lack what that publication did not
	 * write, until a rebuild on empty maps (resync()) that fits; tried
	 * once the mirror is smaller than map_full_size, its size when a
	 * map was found full. map_full_warned: this episode was logged. */
	bool map_full;
	bool map_full_warned;
	size_t map_full_size;
	__u64 capacity_checked_ns;
	__u64 changed_ns;	/* the last publication of policy changes */
	/* Policy notifications omit XFRMA_SEC_CTX; with SELinux labelled
	 * IPsec possible, each notified policy is read back in full. */
	bool refetch_policies;
	/* Does a UDP socket hold the NAT-T port (daemon/encap_watch.h)?
	 * -1 before the first look. */
	int natt_socket;
	bool natt_scan_warned;
	struct xb_sd sd;	/* systemd notifications */
	enum xb_daemon_failure failure;
	char err[320];		/* the one line explaining the failure */
};

/* Set up everything the daemon needs. On failure d->failure and d->err say
 * what failed; call xb_daemon_stop() in every case. */
int xb_daemon_start(struct xb_daemon *d, const char *pin_dir,
		    const struct xb_daemon_opts *opts);
/* The first full dump, then events until a signal. 0 after a signal. */
int xb_daemon_run(struct xb_daemon *d);
/* Mark the mirror unsynced, detach, release everything. */
void xb_daemon_stop(struct xb_daemon *d);

#endif
