// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xfrmbpf classify -i IFACE DESCRIPTION`: build the described packet and
 * run it through a dry-run instance of the datapath on the pinned maps
 * (BPF_PROG_TEST_RUN with ingress_ifindex = IFACE, so the FIB answers for
 * that device). The dry run writes its decision (reason, undecidable
 * cause, policy, flow cache outcome) into a map of its own instead of the
 * counters and never writes the flow cache, so the live datapath's state
 * is left alone. A verdict from the cache names the reason and policy it
 * was cached with: the datapath does not look further.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <jansson.h>
#include "lib/pktbuild.h"
#include "loader/bpffs.h"
#include "loader/attach.h"
#include "cli/cli.h"
#include "cli/show.h"
#include "mirror/snapshot.h"
#include "loader/stats.h"
#include "netlink/xfrm_names.h"
#include "classifier/tss.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf.skel.h"

#define MAX_VLANS	2
#define NATT_PORT	4500

struct pkt_desc {
	int family;
	__u8 proto;
	union xb_addr src, dst;
	__u16 sport, dport;	/* host order */
	bool have_sport, have_dport;
	int icmp_type, icmp_code;
	__u32 spi;
	bool have_spi;
	bool natt;
	unsigned int ttl;
	unsigned int tos;	/* IPv4 TOS / IPv6 traffic class */
	unsigned int len;
	__u16 vlans[MAX_VLANS];
	int n_vlans;
};

/* ---- the description ---- */

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return (errno || *end || !*s || *s == '-' || *out > max) ? -EINVAL : 0;
}

static int parse_ip(const char *s, struct pkt_desc *d, union xb_addr *a)
{
	int family = strchr(s, ':') ? AF_INET6 : AF_INET;

	memset(a, 0, sizeof(*a));
	if (inet_pton(family, s, a) != 1)
		return -EINVAL;
	if (d->family && d->family != family)
		return -EPROTOTYPE;
	d->family = family;
	return 0;
}

/* With ports: ADDR:PORT split at the last colon, or [ADDR]:PORT; an IPv4
 * ADDR alone leaves the port to a default (natt). Without ports: ADDR. */
static int parse_endpoint(const char *s, struct pkt_desc *d, union xb_addr *a,
			  __u16 *port, bool *have_port, bool ports)
{
	char buf[INET6_ADDRSTRLEN + 16], *colon, *addr = buf;
	unsigned long p;
	int err;

	snprintf(buf, sizeof(buf), "%s", s);
	*have_port = false;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close)
			return -EINVAL;
		*close = '\0';
		addr = buf + 1;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (!colon && close[1])
			return -EINVAL;
	} else {
		colon = ports ? strrchr(buf, ':') : NULL;
	}
	if (colon) {
		*colon = '\0';
		if (parse_uint(colon + 1, 65535, &p))
			return -EINVAL;
		*port = p;
		*have_port = true;
	}
	err = parse_ip(addr, d, a);
	return err;
}

static int set_proto(const char *s, struct pkt_desc *d)
{
	static const struct {
		const char *name;
		__u8 proto;
	} names[] = {
		{ "udp", IPPROTO_UDP }, { "tcp", IPPROTO_TCP }, { "sctp", IPPROTO_SCTP },
		{ "icmp", IPPROTO_ICMP }, { "esp", IPPROTO_ESP }, { "ah", IPPROTO_AH },
		{ "natt", IPPROTO_UDP },
	};
	unsigned long n;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i].name)) {
			d->proto = names[i].proto;
			d->natt = !strcmp(s, "natt");
			return 0;
		}
	}
	if (parse_uint(s, 255, &n))
		return -EINVAL;
	d->proto = n;
	return 0;
}

static bool has_ports(const struct pkt_desc *d)
{
	return d->proto == IPPROTO_UDP || d->proto == IPPROTO_TCP || d->proto == IPPROTO_SCTP;
}

/* One KEYWORD VALUE pair. Returns 0, or a message for the error line. */
static const char *parse_keyword(const char *kw, const char *val, struct pkt_desc *d)
{
	unsigned long v;

	if (!val)
		return "missing value";
	if (!strcmp(kw, "ttl")) {
		if (parse_uint(val, 255, &v))
			return "ttl must be 0..255";
		d->ttl = v;
	} else if (!strcmp(kw, "tos")) {
		/* ip rules and routes by tos: the FIB lookup reads it */
		if (parse_uint(val, 255, &v))
			return "tos must be 0..255";
		d->tos = v;
	} else if (!strcmp(kw, "len")) {
		if (parse_uint(val, 8000, &v))
			return "len must be 0..8000";
		d->len = v;
	} else if (!strcmp(kw, "type") || !strcmp(kw, "code")) {
		if (d->proto != IPPROTO_ICMP)
			return "type and code are for icmp";
		if (parse_uint(val, 255, &v))
			return "type and code must be 0..255";
		*(kw[0] == 't' ? &d->icmp_type : &d->icmp_code) = v;
	} else if (!strcmp(kw, "spi")) {
		if (d->proto != IPPROTO_ESP && d->proto != IPPROTO_AH && !d->natt)
			return "spi is for esp, ah and natt";
		if (parse_uint(val, 0xffffffffUL, &v))
			return "spi must be a 32-bit number";
		d->spi = v;
		d->have_spi = true;
	} else if (!strcmp(kw, "vlan")) {
		if (d->n_vlans >= MAX_VLANS)
			return "at most two vlan tags";
		if (parse_uint(val, 4095, &v))
			return "vlan ID must be 0..4095";
		d->vlans[d->n_vlans++] = v;
	} else {
		return "unknown keyword";
	}
	return NULL;
}

/* Returns NULL, or the error line (with the offending word in *bad). */
static const char *parse_desc(int argc, char **argv, struct pkt_desc *d, const char **bad)
{
	const char *msg;
	int i, err;

	if (argc < 3) {
		*bad = argc ? argv[argc - 1] : "";
		return "a packet is PROTO SRC DST";
	}
	*bad = argv[0];
	if (set_proto(argv[0], d))
		return "unknown protocol";
	for (i = 1; i <= 2; i++) {
		union xb_addr *a = i == 1 ? &d->src : &d->dst;
		__u16 *port = i == 1 ? &d->sport : &d->dport;
		bool *have = i == 1 ? &d->have_sport : &d->have_dport;

		*bad = argv[i];
		err = parse_endpoint(argv[i], d, a, port, have, has_ports(d));
		if (err == -EPROTOTYPE)
			return "source and destination of different families";
		if (err)
			return "not an address (ADDR, ADDR:PORT or [ADDR]:PORT)";
		if (*have && !has_ports(d))
			return "this protocol has no ports";
		if (!*have && has_ports(d) && !d->natt)
			return "udp, tcp and sctp need ADDR:PORT";
	}
	for (i = 3; i < argc; i += 2) {
		*bad = argv[i];
		msg = parse_keyword(argv[i], i + 1 < argc ? argv[i + 1] : NULL, d);
		if (msg)
			return msg;
	}
	if ((d->proto == IPPROTO_ESP || d->proto == IPPROTO_AH || d->natt) && !d->have_spi) {
		*bad = argv[0];
		return "esp, ah and natt need spi N";
	}
	if (d->proto == IPPROTO_ICMP && d->family == AF_INET6)
		d->proto = IPPROTO_ICMPV6;
	if (d->natt) {
		if (!d->have_sport)
			d->sport = NATT_PORT;
		if (!d->have_dport)
			d->dport = NATT_PORT;
	}
	return NULL;
}

/* ---- the frame ---- */

/* The transport header; the payload follows. */
static void push_l4(const struct pkt_desc *d, struct xbt_frame *f)
{
	switch (d->proto) {
	case IPPROTO_UDP:
		xbt_push_udp(f, d->sport, d->dport);
		if (d->natt)
			xbt_push_esp(f, d->spi, 1);	/* spi 0: the non-ESP marker */
		break;
	case IPPROTO_TCP:
		xbt_push_tcp(f, d->sport, d->dport);
		break;
	case IPPROTO_SCTP:
		xbt_push_sctp_vtag(f, d->sport, d->dport, 0);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		xbt_push_icmp_echo(f, d->icmp_type, d->icmp_code, 0, 0);
		break;
	case IPPROTO_ESP:
		xbt_push_esp(f, d->spi, 1);
		break;
	case IPPROTO_AH:
		xbt_push_ah_icv(f, IPPROTO_NONE, d->spi, 0);
		break;
	default:
		break;
	}
}

static void iface_mac(const char *ifname, __u8 *mac)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(mac, 0, ETH_ALEN);
	if (fd < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ioctl(fd, SIOCGIFHWADDR, &ifr))
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	close(fd);
}

/* To the device's own address, so that it is the host's packet. */
static void build_frame(const struct pkt_desc *d, const char *ifname, struct xbt_frame *f)
{
	static const __u8 src_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
	__u8 dst_mac[ETH_ALEN];
	int i;

	iface_mac(ifname, dst_mac);
	xbt_frame_init(f);
	xbt_push_eth_addr(f, dst_mac, src_mac, d->family == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	for (i = 0; i < d->n_vlans; i++)
		xbt_push_vlan(f, ETH_P_8021Q, d->vlans[i]);
	if (d->family == AF_INET)
		xbt_push_ipv4_addr(f, d->src.b, d->dst.b, d->proto, d->ttl, NULL, 0,
				   0x4000 /* DF */);
	else
		xbt_push_ipv6_addr(f, d->src.b, d->dst.b, d->proto, d->ttl);
	xbt_set_dsfield(f, (__u8)d->tos);
	push_l4(d, f);
	xbt_push_payload(f, d->len, 0xa5);
	xbt_frame_finish(f);
}

/* ---- running it ---- */

/* What the flow cache did for the packet (xb_trace.flow). */
enum cache_outcome {
	CACHE_NONE,		/* decided before the cache */
	CACHE_HIT,
	CACHE_MISS,
};

struct outcome {
	int action;		/* XDP_* */
	struct xb_trace trace;
};

/*
 * A dry-run instance of the datapath on the pinned maps (xb_dry_run in
 * bpf/xfrmbpf.bpf.c): the same program and maps as the attached one, but
 * its decision goes to its own xb_trace map instead of the counters, and
 * it does not write the flow cache.
 */
static struct xfrmbpf *load_dry_run(const char *pin_dir, int *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_dir);
	struct xfrmbpf *skel = xfrmbpf__open_opts(&oopts);

	if (!skel) {
		*err = -errno;
		return NULL;
	}
	*err = xb_dp_configure(skel, pin_dir);
	if (!*err) {
		skel->rodata->xb_dry_run = true;
		bpf_program__set_autoload(skel->progs.xb_tc_steer, false);
		bpf_program__set_autoload(skel->progs.xb_tc_md_egress, false);
		*err = xfrmbpf__load(skel);
	}
	if (*err) {
		xfrmbpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int run_dry(struct xfrmbpf *skel, int ifindex, const __u8 *frame, size_t len,
		   struct outcome *o)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	__u8 out[XBT_FRAME_MAX + 256];
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = 1,
	);
	__u32 zero = 0;
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xb_xdp), &opts);
	if (err)
		return -errno;
	o->action = opts.retval;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.xb_trace), &zero, &o->trace))
		return -errno;
	return 0;
}

/* ---- output ---- */

static const char *action_name(int action)
{
	switch (action) {
	case XDP_ABORTED:
		return "aborted";
	case XDP_DROP:
		return "drop";
	case XDP_PASS:
		return "pass";
	case XDP_TX:
		return "tx";
	case XDP_REDIRECT:
		return "redirect";
	default:
		return "unknown";
	}
}

static const char *cache_name(unsigned int c)
{
	switch (c) {
	case CACHE_NONE:
		return "none";
	case CACHE_HIT:
		return "hit";
	case CACHE_MISS:
		return "miss";
	default:
		return "unknown";
	}
}

static void print_policy_line(const struct xb_policy *p)
{
	const struct xb_selector *s = &p->sel;
	char a[XB_ADDR_STRLEN], b[XB_ADDR_STRLEN];

	printf("policy   id %u index %u: src %s dst %s", p->id, p->index,
	       xb_addr_str(a, sizeof(a), s->family, &s->saddr, s->prefixlen_s),
	       xb_addr_str(b, sizeof(b), s->family, &s->daddr, s->prefixlen_d));
	if (s->proto)
		printf(" proto %u", s->proto);
	printf(" dir %s action %s priority %u ptype %s\n", xb_dir_name(p->dir),
	       xb_action_name(p->action), p->priority, xb_ptype_name(p->type));
}

static bool undecidable(const struct outcome *o)
{
	return o->trace.reason == XB_R_PASS_UNDECIDABLE;
}

/* The undecidable shape lists of a family, as `status` names them. */
static json_t *undecidable_lists_json(const struct xb_maps *maps, int family)
{
	json_t *arr = json_array();
	struct xb_shape_list sl;
	char name[32];
	__u32 i;

	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		if ((int)(i % XB_FAM_MAX) != (family == AF_INET6 ? XB_FAM_V6 : XB_FAM_V4) ||
		    bpf_map_lookup_elem(maps->fd[XB_MAP_SHAPE_LISTS], &i, &sl) ||
		    !sl.overflow)
			continue;
		xb_tss_list_name(i, name, sizeof(name));
		json_array_append_new(arr, json_pack("{s:s, s:o}", "list", name,
						     "why", xb_list_why_json(sl.undecidable)));
	}
	return arr;
}

static void print_outcome(const struct xb_global *g, const struct xb_maps *maps,
			  int family, const struct outcome *o, const struct xb_policy *pol,
			  const struct xb_tmpl *tmpls, const char *ifname)
{
	const char *reason = xb_reason_name(o->trace.reason);
	unsigned int cause = o->trace.cause;
	json_t *lists = NULL, *l;
	size_t i;

	if (undecidable(o) && cause == XB_U_LIST)
		lists = undecidable_lists_json(maps, family);
	if (g->json) {
		json_t *j = json_pack("{s:s, s:s, s:i, s:s}", "interface", ifname,
				      "verdict", action_name(o->action), "xdp_action", o->action,
				      "reason", reason);

		json_object_set_new(j, "undecidable_cause", undecidable(o) ?
				    json_string(xb_cause_name(cause)) : json_null());
		if (lists)
			json_object_set_new(j, "undecidable_lists", json_incref(lists));
		json_object_set_new(j, "flow_cache", json_string(cache_name(o->trace.flow)));
		json_object_set_new(j, "policy", pol ? xb_policy_json(pol, tmpls, NULL) :
						      json_null());
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
		json_decref(lists);
		return;
	}
	printf("verdict  %s\n", action_name(o->action));
	printf("reason   %s\n", reason);
	if (undecidable(o))
		printf("cause    %s: %s\n", xb_cause_name(cause), xb_cause_help(cause));
	json_array_foreach(lists, i, l) {
		json_t *why = json_object_get(l, "why"), *w;
		size_t k;

		printf("list     %s:", json_string_value(json_object_get(l, "list")));
		json_array_foreach(why, k, w)
			printf("%s %s", k ? "," : "", json_string_value(w));
		putchar('\n');
	}
	printf("cache    %s\n", o->trace.flow == CACHE_HIT ? "hit (the flow's cached verdict)" :
	       o->trace.flow == CACHE_MISS ? "miss (classified)" :
	       "none (decided before the flow cache)");
	if (pol)
		print_policy_line(pol);
	else
		printf("policy   none\n");
	json_decref(lists);
}

/* The options, and the packet description that follows them. */
struct classify_opts {
	const char *ifname;
	struct pkt_desc desc;	/* --vlan tags go in first */
};

/* --vlan ID: as the description's "vlan ID". */
static int parse_vlan_opt(const char *arg, void *opts, char *why, size_t why_len)
{
	struct classify_opts *o = opts;
	const char *msg = parse_keyword("vlan", arg, &o->desc);

	if (!msg)
		return 0;
	snprintf(why, why_len, "%s: '%s'", msg, arg);
	return -EINVAL;
}

static int cmd_classify(void *opts, int argc, char **argv, struct xb_global *g)
{
	struct classify_opts *co = opts;
	const char *ifname = co->ifname, *msg, *bad;
	struct pkt_desc *d = &co->desc;
	struct xdp_multiprog *mp = NULL;
	struct xfrmbpf *skel = NULL;
	struct outcome o = {};
	struct xdp_program *prog;
	struct xb_tmpl tmpls[XB_MAX_TMPLS];
	struct xb_policy pol;
	struct xb_maps maps;
	struct xbt_frame frame;
	int ret, ifindex, err;

	msg = parse_desc(argc, argv, d, &bad);
	if (msg)
		return xb_error(g, XB_EXIT_USAGE, "bad packet description at '%s': %s", bad, msg);
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return xb_error(g, XB_EXIT_USAGE, "no interface '%s'", ifname);
	if (!xb_have_privileges(g))
		return XB_EXIT_ENV;
	ret = xb_open_maps(g, &maps);
	if (ret)
		return ret;
	xb_libxdp_use_bpffs(g->pin_dir);
	prog = xb_dp_find_xdp(ifindex, &maps, &mp);
	if (!prog) {
		ret = xb_error(g, XB_EXIT_ENV, "no xfrmbpf XDP program on %s (is `xfrmbpf run -i %s` "
			       "running?)", ifname, ifname);
		goto out;
	}
	skel = load_dry_run(g->pin_dir, &err);
	if (!skel) {
		ret = xb_error(g, XB_EXIT_FAIL, "couldn't load the datapath on the pinned maps: %s",
			       strerror(-err));
		goto out;
	}
	build_frame(d, ifname, &frame);
	err = run_dry(skel, ifindex, frame.data, frame.len, &o);
	if (err) {
		ret = xb_error(g, XB_EXIT_FAIL, "couldn't run the XDP program of %s: %s", ifname,
			       strerror(-err));
		goto out;
	}
	ret = XB_EXIT_OK;
	if (o.trace.policy_id != XB_NO_POLICY &&
	    !xb_snapshot_policy(&maps, o.trace.policy_id, &pol, tmpls))
		print_outcome(g, &maps, d->family, &o, &pol, tmpls, ifname);
	else
		print_outcome(g, &maps, d->family, &o, NULL, NULL, ifname);
out:
	xfrmbpf__destroy(skel);
	if (mp)
		xdp_multiprog__close(mp);
	xb_maps_close(&maps);
	return ret;
}

static const struct xb_option classify_options[] = {
	XB_OPT_JSON,
	{ .name = "interface", .short_name = 'i', .kind = XB_OPT_STRING, .required = true,
	  XB_OPT_AT(struct classify_opts, ifname), .metavar = "IFACE",
	  .help = "run the XDP program attached to IFACE" },
	{ .name = "vlan", .kind = XB_OPT_CUSTOM, .parse = parse_vlan_opt, .repeat = true,
	  .metavar = "ID", .help = "a VLAN tag (up to two, outer first)" },
	XB_OPT_HELP,
	{}
};

static const struct classify_opts classify_defaults = {
	.desc = { .ttl = 64, .len = 32 },
};

const struct xb_cmd xb_cmd_classify = {
	.name = "classify",
	.fn = cmd_classify,
	.summary = "what the attached datapath does with a described packet",
	.options = classify_options,
	.opts_size = sizeof(struct classify_opts),
	.defaults = &classify_defaults,
	.args = "PROTO SRC DST [KEYWORD VALUE ...]",
	.max_args = -1,
	.notes =
		"Packet description: PROTO SRC DST [KEYWORD VALUE ...]\n"
		"  udp|tcp|sctp ADDR:PORT ADDR:PORT    split at the last colon: 2001:db8::1:5 is\n"
		"                                      port 5 of 2001:db8::1; or [ADDR]:PORT\n"
		"  icmp ADDR ADDR [type N] [code N]    ICMPv6 when the addresses are IPv6\n"
		"  esp|ah ADDR ADDR spi N\n"
		"  natt ADDR[:PORT] ADDR[:PORT] spi N  ESP in UDP (ports default to 4500, IPv6\n"
		"                                      as [ADDR]; spi 0 is the non-ESP marker)\n"
		"  NUMBER ADDR ADDR                    any other IP protocol, no ports\n"
		"Keywords: ttl N (default 64), tos N (IPv4 TOS or IPv6 traffic class,\n"
		"  default 0), len N (payload bytes, default 32), vlan ID\n"
		"  (up to two, outer first; same as --vlan).\n"
		"Example: classify -i eth0 udp 192.0.2.1:1234 198.51.100.2:80 ttl 5\n"
		"Prints the XDP verdict, the reason (as in `stats`), for pass_undecidable\n"
		"its cause, and the policy that decided, if one did. The packet runs through\n"
		"a dry-run copy of the datapath on the same maps: it reads the flow cache\n"
		"but neither counts nor caches the test packet.\n",
};
