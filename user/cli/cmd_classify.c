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
#include <getopt.h>
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
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf.h>
#include <jansson.h>
#include "loader/attach.h"
#include "cli/cli.h"
#include "cli/show.h"
#include "mirror/snapshot.h"
#include "loader/stats.h"
#include "netlink/xfrm_names.h"
#include "xfrmbpf/reasons.h"

#define XB_REASON_NAME(sym, name) [sym] = name,
static const char *const reason_names[XB_R_MAX] = { XB_REASONS(XB_REASON_NAME) };
#undef XB_REASON_NAME

#define FRAME_MAX	9000
#define MAX_VLANS	2
#define RUN_TRIES	5
#define NATT_PORT	4500

#define CLASSIFY_HELP \
	"Packet description: PROTO SRC DST [KEYWORD VALUE ...]\n" \
	"  udp|tcp|sctp ADDR:PORT ADDR:PORT    split at the last colon: 2001:db8::1:5 is\n" \
	"                                      port 5 of 2001:db8::1; or [ADDR]:PORT\n" \
	"  icmp ADDR ADDR [type N] [code N]    ICMPv6 when the addresses are IPv6\n" \
	"  esp|ah ADDR ADDR spi N\n" \
	"  natt ADDR[:PORT] ADDR[:PORT] spi N  ESP in UDP (ports default to 4500, IPv6\n" \
	"                                      as [ADDR]; spi 0 is the non-ESP marker)\n" \
	"  NUMBER ADDR ADDR                    any other IP protocol, no ports\n" \
	"Keywords: ttl N (default 64), len N (payload bytes, default 32), vlan ID\n" \
	"  (up to two, outer first; same as --vlan).\n" \
	"Example: classify -i eth0 udp 192.0.2.1:1234 198.51.100.2:80 ttl 5\n" \
	"Prints the XDP verdict, the reason (as in `stats`) and the policy that\n" \
	"decided, if one did. The test packet is counted like a real one.\n"

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

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __u32 csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* The transport header and payload at p; returns their length. */
static size_t build_l4(const struct pkt_desc *d, __u8 *p)
{
	size_t hl = 0, n;

	switch (d->proto) {
	case IPPROTO_UDP:
		hl = 8;
		put16(p, d->sport);
		put16(p + 2, d->dport);
		if (d->natt) {
			put32(p + 8, d->spi);	/* 0: non-ESP marker */
			put32(p + 12, 1);
			hl += 8;
		}
		break;
	case IPPROTO_TCP:
		hl = 20;
		put16(p, d->sport);
		put16(p + 2, d->dport);
		p[12] = 5 << 4;
		p[13] = 0x02;		/* SYN */
		put16(p + 14, 65535);
		break;
	case IPPROTO_SCTP:
		hl = 12;
		put16(p, d->sport);
		put16(p + 2, d->dport);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hl = 8;
		p[0] = d->icmp_type;
		p[1] = d->icmp_code;
		break;
	case IPPROTO_ESP:
		hl = 8;
		put32(p, d->spi);
		put32(p + 4, 1);
		break;
	case IPPROTO_AH:
		hl = 12;
		p[0] = IPPROTO_NONE;
		p[1] = 1;		/* (12 + 0 ICV) / 4 - 2 */
		put32(p + 4, d->spi);
		put32(p + 8, 1);
		break;
	default:
		break;
	}
	n = hl + d->len;
	memset(p + hl, 0xa5, d->len);
	if (d->proto == IPPROTO_UDP)
		put16(p + 4, n);
	if (d->proto == IPPROTO_ICMP)
		put16(p + 2, csum_fold(csum_add(0, p, n)));
	return n;
}

/* Headers are built in aligned locals: in the frame they follow 14 or 18
 * bytes of Ethernet and VLAN headers. */
static size_t build_ip(const struct pkt_desc *d, __u8 *p, size_t l4_len)
{
	if (d->family == AF_INET) {
		struct iphdr ip = {};

		ip.version = 4;
		ip.ihl = 5;
		ip.tot_len = htons(sizeof(ip) + l4_len);
		ip.frag_off = htons(0x4000);	/* DF */
		ip.ttl = d->ttl;
		ip.protocol = d->proto;
		ip.saddr = d->src.a[0];
		ip.daddr = d->dst.a[0];
		ip.check = htons(csum_fold(csum_add(0, &ip, sizeof(ip))));
		memcpy(p, &ip, sizeof(ip));
		return sizeof(ip);
	} else {
		struct ipv6hdr ip6 = {};

		ip6.version = 6;
		ip6.payload_len = htons(l4_len);
		ip6.nexthdr = d->proto;
		ip6.hop_limit = d->ttl;
		memcpy(&ip6.saddr, d->src.b, 16);
		memcpy(&ip6.daddr, d->dst.b, 16);
		memcpy(p, &ip6, sizeof(ip6));
		return sizeof(ip6);
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

static size_t build_frame(const struct pkt_desc *d, const char *ifname, __u8 *f)
{
	static const __u8 src_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
	size_t off = 2 * ETH_ALEN, ip_off, ip_len, l4_len;
	__u8 l4[FRAME_MAX];
	int i;

	iface_mac(ifname, f);
	memcpy(f + ETH_ALEN, src_mac, ETH_ALEN);
	for (i = 0; i < d->n_vlans; i++) {
		put16(f + off, ETH_P_8021Q);
		put16(f + off + 2, d->vlans[i]);
		off += 4;
	}
	put16(f + off, d->family == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	ip_off = off + 2;
	memset(l4, 0, sizeof(l4));
	l4_len = build_l4(d, l4);
	ip_len = build_ip(d, f + ip_off, l4_len);
	memcpy(f + ip_off + ip_len, l4, l4_len);
	return ip_off + ip_len + l4_len;
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
	__u8 out[FRAME_MAX + 256];
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
	const char *reason = o->reason >= 0 ? reason_names[o->reason] : "unknown";

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

static int parse_opts(int argc, char **argv, struct xb_global *g, const char **ifname,
		      struct pkt_desc *d)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "vlan", required_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *msg;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+i:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			*ifname = optarg;
			break;
		case 'v':
			msg = parse_keyword("vlan", optarg, d);
			if (msg)
				return xb_usage_error(g, "classify", "%s: '%s'", msg, optarg);
			break;
		case 'j':
			g->json = true;
			break;
		case 'h':
			printf("Usage: %s classify %s\n%s", g->prog,
			       xb_find_command("classify")->usage, CLASSIFY_HELP);
			return XB_EXIT_OK;
		default:
			return xb_usage_error(g, "classify", "unknown option '%s'",
					      argv[optind - 1]);
		}
	}
	if (!*ifname)
		return xb_usage_error(g, "classify", "-i IFACE is required");
	return -1;
}

int cmd_classify(int argc, char **argv, struct xb_global *g)
{
	struct pkt_desc d = { .ttl = 64, .len = 32 };
	struct counters before = {}, after = {};
	struct xdp_multiprog *mp = NULL;
	struct outcome o = { .reason = -1, .policy = -1, .cache = CACHE_UNKNOWN };
	struct xdp_program *prog;
	struct xb_tmpl tmpls[XB_MAX_TMPLS];
	struct xb_policy pol;
	struct xb_maps maps;
	const char *ifname = NULL, *msg, *bad;
	__u8 frame[FRAME_MAX];
	size_t len;
	int ret, ifindex, err;

	ret = parse_opts(argc, argv, g, &ifname, &d);
	if (ret >= 0)
		return ret;
	msg = parse_desc(argc - optind, argv + optind, &d, &bad);
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
	len = build_frame(&d, ifname, frame);
	err = list_policy_ids(&maps, &before);
	if (!err)
		err = share_ids(&before, &after);
	if (!err)
		err = classify(&maps, prog, ifindex, frame, len, &before, &after, &o);
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
