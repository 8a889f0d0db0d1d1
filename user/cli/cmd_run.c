// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xfrmbpf run`: the options of the mirror daemon (daemon/daemon.h), which
 * runs until SIGINT/SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "cli/cli.h"
#include "daemon/daemon.h"
#include "xfrmbpf/limits.h"

#define XB_RCVBUF_DEFAULT	(8 * 1024 * 1024)

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

static int add_bypass(struct xb_daemon_opts *o, const struct xb_bypass_key *k)
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

static int parse_number_opt(struct xb_global *g, int opt, struct xb_daemon_opts *o)
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

static int parse_datapath_opt(struct xb_global *g, int opt, struct xb_daemon_opts *o)
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

static int parse_run_opts(int argc, char **argv, struct xb_global *g, struct xb_daemon_opts *o)
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

int cmd_run(int argc, char **argv, struct xb_global *g)
{
	static const int exit_codes[] = {
		[XB_DAEMON_OK] = XB_EXIT_OK,
		[XB_DAEMON_ENV] = XB_EXIT_ENV,
		[XB_DAEMON_NO_IFACE] = XB_EXIT_USAGE,
		[XB_DAEMON_FAILED] = XB_EXIT_FAIL,
	};
	struct xb_daemon_opts opts = {};
	struct xb_daemon d;
	int ret;

	ret = parse_run_opts(argc, argv, g, &opts);
	if (ret >= 0)
		return ret;
	if (!xb_have_privileges(g))
		return XB_EXIT_ENV;
	if (!xb_daemon_start(&d, g->pin_dir, &opts))
		xb_daemon_run(&d);
	xb_daemon_stop(&d);
	ret = exit_codes[d.failure];
	/* Messages of the maps and the pin directory were printed already. */
	if (ret != XB_EXIT_OK && d.err[0])
		return xb_error(g, ret, "%s", d.err);
	return ret;
}
