// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xfrmbpf run`: the options of the mirror daemon (daemon/daemon.h), which
 * runs until SIGINT/SIGTERM; from the command line and a config file
 * (--config, cli/config_file.h), which SIGHUP reads again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "cli/cli.h"
#include "cli/config_file.h"
#include "cli/cpu_list.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "xfrmbpf/limits.h"

#define XB_RCVBUF_DEFAULT	(8 * 1024 * 1024)
/*
 * The least --rcvbuf: a policy notification takes about 1.25 KiB of the
 * receive buffer (its skb's truesize, one template), an SA's about 2 KiB,
 * and the kernel allows twice the value set. 256 KiB hold a burst of a few
 * hundred notifications, the policies and SAs of dozens of tunnels set up
 * at once; below that an ordinary burst overruns the buffer, and each
 * overrun costs a full re-dump (ENOBUFS).
 */
#define XB_RCVBUF_MIN		(256 * 1024)

/* The daemon's options, whether the IKE ports are added to theirs, and
 * the config file. */
struct run_opts {
	struct xb_daemon_opts daemon;
	bool no_default_bypass;
	const char *config;
};

/* What reading the config file again takes. */
struct run_config {
	struct run_opts cli;		/* as the command line left them */
	unsigned long long given;	/* options the command line gave */
	const struct xb_global *g;
	/* cur holds the strings of the running options; prev those of the
	 * options before, which the daemon may still read during a reload. */
	struct xb_config cur, prev;
};

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
	k->kind = XB_BYPASS_PORT;
	k->port = htons(port);
	return 0;
}

static int add_bypass(struct xb_daemon_opts *o, const struct xb_bypass_key *k)
{
	int i;

	for (i = 0; i < o->n_bypass; i++)
		if (o->bypass[i].proto == k->proto && o->bypass[i].port == k->port)
			return 0;
	if (o->n_bypass >= XB_MAX_BYPASS_PORTS)
		return -E2BIG;
	o->bypass[o->n_bypass++] = *k;
	return 0;
}

/* --bypass-port P/N, repeatable. */
static int parse_bypass_opt(const char *arg, void *opts, char *why, size_t why_len)
{
	struct run_opts *o = opts;
	struct xb_bypass_key k;

	if (parse_bypass(arg, &k))
		return -EINVAL;
	if (add_bypass(&o->daemon, &k)) {
		snprintf(why, why_len, "at most %d bypass ports", XB_MAX_BYPASS_PORTS);
		return -E2BIG;
	}
	return 0;
}

/* --metrics ADDR:PORT */
static int parse_metrics_opt(const char *arg, void *opts, char *why, size_t why_len)
{
	struct run_opts *o = opts;

	(void)why, (void)why_len;
	return xb_metrics_parse_addr(arg, &o->daemon.metrics);
}

/* --spread-esp CPUS: "all" or a list of online CPUs. */
static int parse_spread_opt(const char *arg, void *opts, char *why, size_t why_len)
{
	static struct xb_cpu_list online;
	struct run_opts *o = opts;
	int err = xb_cpus_online(&online);

	if (err) {
		snprintf(why, why_len, "couldn't read the online CPUs: %s", strerror(-err));
		return err;
	}
	err = xb_cpu_list_parse(arg, &online, &o->daemon.spread_cpus, why, why_len);
	if (err)
		return err;
	o->daemon.spread_esp = true;
	return 0;
}

/* What one option cannot say alone; adds the IKE ports. 0, or -EINVAL
 * with the message in why. */
static int check_run_opts(struct run_opts *o, char *why, size_t len)
{
	static const char *const ike[] = { "udp/500", "udp/4500" };
	struct xb_daemon_opts *d = &o->daemon;
	struct xb_bypass_key k;
	int i;

	if (d->heartbeat_timeout_ms <= d->heartbeat_ms) {
		snprintf(why, len, "--heartbeat-timeout-ms must exceed --heartbeat-ms");
		return -EINVAL;
	}
	/* In a config file they may wait for the interfaces of a reload. */
	if (!d->n_ifaces && (d->steer || d->mode) && !o->config) {
		snprintf(why, len, "--steer and --mode need -i IFACE");
		return -EINVAL;
	}
	for (i = 0; !o->no_default_bypass && i < 2; i++) {
		if (parse_bypass(ike[i], &k) || add_bypass(d, &k)) {
			snprintf(why, len, "at most %d bypass ports", XB_MAX_BYPASS_PORTS);
			return -EINVAL;
		}
	}
	return 0;
}

/* The command line's options, then the file's where the command line gave
 * none (lists take both), into *o; cf holds the file's strings. The
 * file's pin-dir applies unless --pin-dir or XFRMBPF_PIN_DIR gave one. */
static int load_options(const struct run_config *rc, struct run_opts *o, struct xb_config *cf,
			const char **pin_dir, char *err, size_t len)
{
	*o = rc->cli;
	if (xb_config_load(cf, rc->cli.config, &xb_cmd_run, o, rc->given, err, len))
		return -EINVAL;
	*pin_dir = rc->g->pin_dir_given || !cf->pin_dir ? rc->g->pin_dir : cf->pin_dir;
	return 0;
}

/* SIGHUP (struct xb_daemon_reload). */
static int reload_config(void *ctx, struct xb_daemon_opts *opts, const char **pin_dir,
			 char *err, size_t len)
{
	struct run_config *rc = ctx;
	struct xb_config cf;
	struct run_opts o;

	if (load_options(rc, &o, &cf, pin_dir, err, len) || check_run_opts(&o, err, len)) {
		xb_config_free(&cf);
		return -EINVAL;
	}
	xb_config_free(&rc->prev);
	rc->prev = rc->cur;
	rc->cur = cf;
	*opts = o.daemon;
	return 0;
}

static int cmd_run(void *opts, int argc, char **argv, struct xb_global *g)
{
	static const int exit_codes[] = {
		[XB_DAEMON_OK] = XB_EXIT_OK,
		[XB_DAEMON_ENV] = XB_EXIT_ENV,
		[XB_DAEMON_NO_IFACE] = XB_EXIT_USAGE,
		[XB_DAEMON_FAILED] = XB_EXIT_FAIL,
	};
	struct run_opts *o = opts;
	struct run_config rc = { .cli = *o, .given = g->given, .g = g };
	const char *pin_dir = g->pin_dir;
	struct xb_daemon d;
	char why[320];
	int ret;

	(void)argc, (void)argv;
	if (o->config) {
		if (load_options(&rc, o, &rc.cur, &pin_dir, why, sizeof(why))) {
			ret = xb_error(g, XB_EXIT_USAGE, "%s", why);
			goto out;
		}
		o->daemon.reload = (struct xb_daemon_reload){ .fn = reload_config, .ctx = &rc };
	}
	if (check_run_opts(o, why, sizeof(why))) {
		ret = xb_usage_error(g, "run", "%s", why);
		goto out;
	}
	ret = XB_EXIT_ENV;
	if (!xb_have_privileges(g))
		goto out;
	if (!xb_daemon_start(&d, pin_dir, &o->daemon))
		xb_daemon_run(&d);
	xb_daemon_stop(&d);
	ret = exit_codes[d.failure];
	/* Messages of the maps and the pin directory were printed already. */
	if (ret != XB_EXIT_OK && d.err[0])
		ret = xb_error(g, ret, "%s", d.err);
out:
	xb_config_free(&rc.cur);
	xb_config_free(&rc.prev);
	return ret;
}

static const struct xb_opt_choice xdp_modes[] = {
	{ "native", XB_XDP_MODE_NATIVE },
	{ "skb", XB_XDP_MODE_SKB },
	{}
};

static const struct xb_option run_options[] = {
	XB_OPT_JSON,
	{ .name = "config", .kind = XB_OPT_STRING,
	  XB_OPT_AT(struct run_opts, config), .metavar = "FILE",
	  .help = "options also from FILE ('key = value' lines, e.g.\n"
		  "/etc/xfrmbpf/xfrmbpf.conf); the command line wins;\n"
		  "SIGHUP reads FILE again" },
	{ .name = "interface", .short_name = 'i', .kind = XB_OPT_STRINGS,
	  XB_OPT_AT(struct run_opts, daemon.ifaces),
	  XB_OPT_COUNT_AT(struct run_opts, daemon.n_ifaces),
	  .max = XB_MAX_IFACES, .items = "interfaces", .metavar = "IFACE",
	  .help = "attach the datapath to IFACE (repeatable); without -i\n"
		  "only the mirror runs" },
	{ .name = "mode", .kind = XB_OPT_ENUM, XB_OPT_AT(struct run_opts, daemon.mode),
	  .choices = xdp_modes,
	  .help = "XDP mode; default: native, falling back to skb\n"
		  "(generic) with a warning when the driver refuses" },
	{ .name = "steer", .kind = XB_OPT_FLAG, XB_OPT_AT(struct run_opts, daemon.steer),
	  .help = "also attach TC steering into XFRM interfaces" },
	{ .name = "bypass-port", .kind = XB_OPT_CUSTOM, .parse = parse_bypass_opt,
	  .repeat = true, .metavar = "PROTO/PORT", .expect = "udp/PORT or tcp/PORT",
	  .help = "never drop inbound traffic to local port PORT of\n"
		  "protocol PROTO (udp or tcp); repeatable, added to the\n"
		  "defaults udp/500 and udp/4500 (IKE, NAT-T)" },
	{ .name = "no-default-bypass", .kind = XB_OPT_FLAG,
	  XB_OPT_AT(struct run_opts, no_default_bypass),
	  .help = "do not add udp/500 and udp/4500" },
	{ .name = "rcvbuf", .kind = XB_OPT_UINT, XB_OPT_AT(struct run_opts, daemon.rcvbuf),
	  .min = XB_RCVBUF_MIN, .max = 1UL << 30, .metavar = "BYTES",
	  .expect = "262144 (256 KiB) to 1073741824 bytes",
	  .help = "netlink receive buffer (default 8 MiB, at least 256 KiB:\n"
		  "a smaller one overruns in a burst of events, and each\n"
		  "overrun costs a full re-dump)" },
	{ .name = "max-policies", .kind = XB_OPT_UINT,
	  XB_OPT_AT(struct run_opts, daemon.max_policies),
	  .min = 1, .max = XB_MAX_POLICIES_LIMIT, .metavar = "N",
	  .help = "policies the maps and the mirror hold (default 1048576);\n"
		  "the maps are sized at creation. With more in the SPD\n"
		  "the mirror is unsynced and the datapath passes everything" },
	{ .name = "heartbeat-ms", .kind = XB_OPT_UINT,
	  XB_OPT_AT(struct run_opts, daemon.heartbeat_ms),
	  .min = 1, .max = 1UL << 30, .metavar = "MS",
	  .help = "heartbeat period; disable_policy and the MTU of the\n"
		  "interfaces are re-read at each beat (default 1000)" },
	{ .name = "heartbeat-timeout-ms", .kind = XB_OPT_UINT,
	  XB_OPT_AT(struct run_opts, daemon.heartbeat_timeout_ms),
	  .min = 1, .max = 1UL << 30, .metavar = "MS",
	  .help = "the datapath passes everything once the daemon has\n"
		  "not beaten for this long (default 3000)" },
	{ .name = "spread-esp", .kind = XB_OPT_CUSTOM, .parse = parse_spread_opt,
	  .metavar = "CPUS", .expect = "all, or online CPUs such as 0-3,6",
	  .help = "redirect inbound ESP of local SAs at XDP to a CPU\n"
		  "chosen per SA among CPUS (all, or e.g. 0-3,6)" },
	{ .name = "metrics", .kind = XB_OPT_CUSTOM, .parse = parse_metrics_opt,
	  .metavar = "ADDR:PORT", .expect = "IPV4:PORT or [IPV6]:PORT, numeric",
	  .help = "serve Prometheus metrics at http://ADDR:PORT/metrics,\n"
		  "bound to that address only (e.g. 127.0.0.1:9571)" },
	{ .name = "metrics-top-policies", .kind = XB_OPT_UINT,
	  XB_OPT_AT(struct run_opts, daemon.metrics.top_policies),
	  .min = 0, .max = XB_METRICS_TOP_POLICIES_MAX, .metavar = "N", .expect = "0 to 1000",
	  .help = "per-policy series for the N policies with the most\n"
		  "packets (default 20; 0: none)" },
	XB_OPT_HELP,
	{}
};

#define RUN_NOTES							\
	"With --config FILE the options come from FILE too: one 'key = value'\n" \
	"per line, the keys the long options above (and pin-dir), flags as\n" \
	"yes or no, '#' comments. The command line wins over the file;\n" \
	"interfaces and bypass ports are taken from both. SIGHUP reads FILE\n" \
	"again: interfaces are attached and detached, bypass ports and the\n" \
	"heartbeat follow, the mirror stays synced; what needs a restart is\n" \
	"logged. Under systemd (Type=notify) the daemon reports READY=1 after\n" \
	"its first sync, its state in STATUS=, and feeds WatchdogSec= at each\n" \
	"heartbeat.\n"

static const struct run_opts run_defaults = {
	.daemon = {
		.rcvbuf = XB_RCVBUF_DEFAULT,
		.max_policies = XB_MAX_POLICIES_DEFAULT,
		.heartbeat_ms = XB_HEARTBEAT_INTERVAL_MS_DEFAULT,
		.heartbeat_timeout_ms = XB_HEARTBEAT_TIMEOUT_MS_DEFAULT,
		.metrics = { .top_policies = XB_METRICS_TOP_POLICIES_DEFAULT },
	},
};

const struct xb_cmd xb_cmd_run = {
	.name = "run",
	.fn = cmd_run,
	.summary = "mirror the kernel SPD/SAD; with -i also attach the datapath (daemon)",
	.options = run_options,
	.opts_size = sizeof(struct run_opts),
	.defaults = &run_defaults,
	.notes = RUN_NOTES,
};
