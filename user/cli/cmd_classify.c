// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xfrmbpf classify -i IFACE DESCRIPTION`: build the described packet and
 * run the XDP program attached to IFACE on it (BPF_PROG_TEST_RUN with
 * ingress_ifindex = IFACE, so the FIB answers for that device). The verdict
 * is the program's return value; the reason, the deciding policy and
 * whether the flow cache answered are the counters that the run moved (a
 * verdict from the cache names the reason and policy it was cached with:
 * the datapath does not look further). The run is pinned to one CPU and only
 * that CPU's slot of the per-CPU counters is compared, so traffic on other
 * CPUs does not disturb it; a sample that moved more than one reason (a
 * real packet on the same CPU) is retried. The test packet is counted like
 * a real one, and its verdict is cached like a real one's.
 */
#include <errno.h>
#include <sched.h>
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
#include "xfrmbpf/reasons.h"

#define MAX_VLANS	2
#define RUN_TRIES	5
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
	push_l4(d, f);
	xbt_push_payload(f, d->len, 0xa5);
	xbt_frame_finish(f);
}

/* ---- running it ---- */

struct counters {
	struct xb_flow_stats flow;	/* this CPU's flow cache hits, misses */
	__u64 *reasons;		/* this CPU's packets per reason */
	__u32 *ids;		/* policy ids present */
	__u64 *hits;		/* this CPU's packets per policy */
	size_t n_ids;
};

static int read_cpu_slot(const struct xb_maps *maps, int map, __u32 key, int cpu,
			 __u64 *packets)
{
	struct xb_counter *v;
	int err;

	v = xb_maps_lookup_percpu(maps, map, &key, sizeof(*v), &err);
	if (v)
		*packets = v[cpu].packets;
	free(v);
	return err;
}

static int list_policy_ids(const struct xb_maps *maps, struct counters *c)
{
	__u32 key, next, *prev = NULL;
	size_t cap = 0;

	while (!bpf_map_get_next_key(maps->fd[XB_MAP_POLICIES], prev, &next)) {
		if (c->n_ids == cap) {
			__u32 *ids = realloc(c->ids, (cap = cap ? 2 * cap : 64) * sizeof(*ids));

			if (!ids)
				return -ENOMEM;
			c->ids = ids;
		}
		c->ids[c->n_ids++] = next;
		key = next;
		prev = &key;
	}
	c->hits = calloc(c->n_ids + 1, sizeof(*c->hits));
	c->reasons = calloc(XB_R_MAX, sizeof(*c->reasons));
	return c->hits && c->reasons ? 0 : -ENOMEM;
}

/* after compares the same policies as before. */
static int share_ids(const struct counters *before, struct counters *after)
{
	after->ids = before->ids;
	after->n_ids = before->n_ids;
	after->hits = calloc(after->n_ids + 1, sizeof(*after->hits));
	after->reasons = calloc(XB_R_MAX, sizeof(*after->reasons));
	return after->hits && after->reasons ? 0 : -ENOMEM;
}

static int read_counters(const struct xb_maps *maps, int cpu, struct counters *c)
{
	struct xb_stats st;
	size_t i;
	int err;

	err = xb_flow_stats_cpu(maps, cpu, &c->flow);
	if (err)
		return err;
	err = xb_stats_read(maps, &st);
	if (err)
		return err;
	xb_stats_cpu_packets(&st, cpu, c->reasons);
	xb_stats_free(&st);
	for (i = 0; i < c->n_ids; i++)
		if (read_cpu_slot(maps, XB_MAP_POLICY_STATS, c->ids[i], cpu, &c->hits[i]))
			c->hits[i] = 0;
	return 0;
}

/* What the flow cache did for the packet. */
enum cache_outcome {
	CACHE_UNKNOWN = -1,	/* other packets moved the counters */
	CACHE_NONE,		/* decided before the cache */
	CACHE_HIT,
	CACHE_MISS,
};

struct outcome {
	int action;		/* XDP_* */
	int reason;		/* -1: could not tell */
	long policy;		/* index into ids, -1: none */
	enum cache_outcome cache;
};

/* The one reason and the one policy whose counters moved by one. */
static void diff_counters(const struct counters *a, const struct counters *b,
			  struct outcome *o)
{
	int moved = 0, i;
	size_t j;

	__u64 hits = b->flow.hits - a->flow.hits;
	__u64 misses = b->flow.misses - a->flow.misses;

	o->reason = -1;
	o->policy = -1;
	if (hits + misses > 1)
		o->cache = CACHE_UNKNOWN;
	else
		o->cache = hits ? CACHE_HIT : misses ? CACHE_MISS : CACHE_NONE;
	for (i = 0; i < XB_R_MAX; i++) {
		if (b->reasons[i] == a->reasons[i])
			continue;
		moved++;
		o->reason = b->reasons[i] - a->reasons[i] == 1 ? i : -1;
	}
	if (moved != 1)
		o->reason = -1;
	for (j = 0; j < a->n_ids; j++) {
		if (b->hits[j] == a->hits[j])
			continue;
		o->policy = o->policy == -1 && b->hits[j] - a->hits[j] == 1 ? (long)j : -2;
	}
}

static int pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return -errno;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return cpu;
}

static int run_once(struct xdp_program *prog, int ifindex, const __u8 *frame, size_t len,
		    int *action)
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
	int err = xdp_program__test_run(prog, &opts, 0);

	if (err)
		return err;
	*action = opts.retval;
	return 0;
}

static int classify(const struct xb_maps *maps, struct xdp_program *prog, int ifindex,
		    const __u8 *frame, size_t len, struct counters *before,
		    struct counters *after, struct outcome *o)
{
	int cpu, tries, err;

	cpu = pin_cpu();
	if (cpu < 0)
		return cpu;
	for (tries = 0; tries < RUN_TRIES; tries++) {
		err = read_counters(maps, cpu, before);
		if (!err)
			err = run_once(prog, ifindex, frame, len, &o->action);
		if (!err)
			err = read_counters(maps, cpu, after);
		if (err)
			return err;
		diff_counters(before, after, o);
		if (o->reason >= 0 && o->policy != -2 && o->cache != CACHE_UNKNOWN)
			return 0;
	}
	return 0;		/* reason stays unknown (-1) */
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

static const char *cache_name(enum cache_outcome c)
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

static void print_outcome(const struct xb_global *g, const struct outcome *o,
			  const struct xb_policy *pol, const struct xb_tmpl *tmpls,
			  const char *ifname)
{
	const char *reason = xb_reason_name(o->reason);

	if (g->json) {
		json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s}", "interface", ifname,
				      "verdict", action_name(o->action), "xdp_action", o->action,
				      "reason", reason, "flow_cache", cache_name(o->cache));

		json_object_set_new(j, "policy", pol ? xb_policy_json(pol, tmpls, NULL) :
						      json_null());
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
		return;
	}
	printf("verdict  %s\n", action_name(o->action));
	printf("reason   %s%s\n", reason, o->reason >= 0 ? "" :
	       " (other packets moved the counters on every try)");
	printf("cache    %s\n", o->cache == CACHE_HIT ? "hit (the flow's cached verdict)" :
	       o->cache == CACHE_MISS ? "miss (classified, and cached when it could be)" :
	       o->cache == CACHE_NONE ? "none (decided before the flow cache)" : "unknown");
	if (pol)
		print_policy_line(pol);
	else
		printf("policy   none\n");
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
	struct counters before = {}, after = {};
	struct xdp_multiprog *mp = NULL;
	struct outcome o = { .reason = -1, .policy = -1, .cache = CACHE_UNKNOWN };
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
	build_frame(d, ifname, &frame);
	err = list_policy_ids(&maps, &before);
	if (!err)
		err = share_ids(&before, &after);
	if (!err)
		err = classify(&maps, prog, ifindex, frame.data, frame.len, &before, &after, &o);
	if (err) {
		ret = xb_error(g, XB_EXIT_FAIL, "couldn't run the XDP program of %s: %s", ifname,
			       strerror(-err));
		goto out;
	}
	ret = XB_EXIT_OK;
	if (o.policy >= 0 && !xb_snapshot_policy(&maps, before.ids[o.policy], &pol, tmpls))
		print_outcome(g, &o, &pol, tmpls, ifname);
	else
		print_outcome(g, &o, NULL, NULL, ifname);
out:
	free(before.ids);
	free(before.hits);
	free(before.reasons);
	free(after.hits);
	free(after.reasons);
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
		"Keywords: ttl N (default 64), len N (payload bytes, default 32), vlan ID\n"
		"  (up to two, outer first; same as --vlan).\n"
		"Example: classify -i eth0 udp 192.0.2.1:1234 198.51.100.2:80 ttl 5\n"
		"Prints the XDP verdict, the reason (as in `stats`) and the policy that\n"
		"decided, if one did. The test packet is counted like a real one.\n",
};
