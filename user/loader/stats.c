// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "loader/stats.h"
#include "xfrmbpf/reasons.h"

const char *xb_reason_name(unsigned int reason)
{
#define XB_REASON_NAME(sym, name) [sym] = name,
	static const char *const names[XB_R_MAX] = { XB_REASONS(XB_REASON_NAME) };
#undef XB_REASON_NAME

	return reason < XB_R_MAX ? names[reason] : "unknown";
}

const char *xb_cause_name(unsigned int cause)
{
#define XB_CAUSE_NAME(sym, name) [sym] = name,
	static const char *const names[XB_U_MAX] = { XB_UNDECIDABLE_CAUSES(XB_CAUSE_NAME) };
#undef XB_CAUSE_NAME

	return cause < XB_U_MAX ? names[cause] : "unknown";
}

const char *xb_cause_help(unsigned int cause)
{
	static const char *const help[XB_U_MAX] = {
		[XB_U_OTHER] = "a packet the datapath leaves to the kernel",
		[XB_U_FRAGMENT] = "a fragment: no ports before reassembly",
		[XB_U_NOT_UNICAST] = "a multicast, broadcast, loopback or link-local "
				     "destination, routed as the FIB helper does not describe",
		[XB_U_ROUTE] = "the FIB lookup gave no plain local or forward answer",
		[XB_U_SOURCE_ROUTE] = "an IPv4 source route option or an IPv6 routing "
				      "header with segments left",
		[XB_U_HEADER_CHAIN] = "more IPv6 extension headers than the parser walks",
		[XB_U_GRE] = "GRE whose key the kernel reads otherwise (IPv6, version 1)",
		[XB_U_IPCOMP] = "IPComp, looked up by CPI (not mirrored)",
		[XB_U_LIST] = "the shape list is undecidable as a whole (see `status`)",
		[XB_U_FULL_BUCKET] = "a bucket of the classifier holds more policies than "
				     "it can check",
		[XB_U_SEARCH_STEPS] = "the search ran out of steps",
		[XB_U_TIE] = "policies of the best priority with different outcomes: the "
			     "kernel's pick is not visible over netlink",
		[XB_U_POLICY] = "the best policy has what the datapath does not model "
				"(an interface, a security context, offload)",
		[XB_U_ICMP_ERROR] = "a forwarded ICMP error, which the kernel checks by its "
				    "inner packet",
		[XB_U_TRUNCATED_L4] = "the transport header is cut short inside the IP datagram: "
				      "kernels read its ports (or ICMP type) differently",
		[XB_U_MOBILITY] = "an IPv6 Mobility Header, whose type kernels decode "
				  "differently (older ones only)",
		[XB_U_LINK_LOCAL_SRC] = "an IPv6 link-local source, routed by scope",
		[XB_U_GENERIC_XDP] = "skb-mode XDP sees tunnel-mode ESP again after decryption, "
				     "when its policy's templates are satisfied",
		[XB_U_STACKED_DEV] = "the device is a bridge, bond or team port, in a VRF, or "
				     "has macvlan/ipvlan devices on it: the kernel handles its "
				     "packets as another device's",
		[XB_U_NETFILTER] = "netfilter chains at prerouting (NAT, mangle, raw, filter) "
				   "may rewrite or drop the packet before the XFRM lookup",
		[XB_U_TC_INGRESS] = "tc filters on the device's ingress (not xfrmbpf's) may "
				    "rewrite, redirect, re-mark or drop the packet",
		[XB_U_NF_INGRESS] = "netfilter hooks on the device's ingress (netdev chains, "
				    "flowtables) may rewrite, redirect or drop the packet",
		[XB_U_VLAN] = "a VLAN tag with no VLAN device of the device published (or "
			      "two tags), or a device whose tags may be stripped before XDP "
			      "(rx-vlan offload, a veth peer's tx-vlan offload, skb mode) while "
			      "VLAN devices are on it",
	};

	return cause < XB_U_MAX && help[cause] ? help[cause] : "";
}

static struct xb_counter *cell(const struct xb_stats *s, __u32 key)
{
	return &s->v[(size_t)key * s->n_cpus];
}

/* A per-CPU array: the batch holds every key in order, so the values of
 * key k start at k * n_cpus. */
static int read_all(int fd, int n_cpus, struct xb_counter *v, __u32 *keys)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = 0, batch, count;
	void *in = NULL;
	int err;

	while (done < XB_STATS_ENTRIES) {
		count = XB_STATS_ENTRIES - done;
		err = bpf_map_lookup_batch(fd, in, &batch, keys + done,
					   v + (size_t)done * n_cpus, &count, &opts);
		if (err && errno != ENOENT)
			return -errno;
		done += count;
		if (err)
			break;
		in = &batch;
	}
	return done == XB_STATS_ENTRIES ? 0 : -EIO;
}

int xb_stats_read(const struct xb_maps *maps, struct xb_stats *s)
{
	__u32 *keys = calloc(XB_STATS_ENTRIES, sizeof(*keys));
	int err;

	s->n_cpus = maps->n_cpus;
	s->v = calloc((size_t)XB_STATS_ENTRIES * maps->n_cpus, sizeof(*s->v));
	if (!keys || !s->v) {
		free(keys);
		xb_stats_free(s);
		return -ENOMEM;
	}
	err = read_all(maps->fd[XB_MAP_STATS], maps->n_cpus, s->v, keys);
	free(keys);
	if (err)
		xb_stats_free(s);
	return err;
}

int xb_flow_stats_read(const struct xb_maps *maps, struct xb_flow_stats *out)
{
	struct xb_flow_stats *v;
	__u32 zero = 0;
	int i, err;

	memset(out, 0, sizeof(*out));
	v = xb_maps_lookup_percpu(maps, XB_MAP_FLOW_STATS, &zero, sizeof(*v), &err);
	for (i = 0; v && i < maps->n_cpus; i++) {
		out->hits += v[i].hits;
		out->misses += v[i].misses;
	}
	free(v);
	return err;
}

int xb_undecidable_stats_read(const struct xb_maps *maps, struct xb_undecidable_stats *out)
{
	struct xb_undecidable_stats *v;
	__u32 zero = 0;
	int i, c, err;

	memset(out, 0, sizeof(*out));
	v = xb_maps_lookup_percpu(maps, XB_MAP_UNDECIDABLE_STATS, &zero, sizeof(*v), &err);
	for (i = 0; v && i < maps->n_cpus; i++)
		for (c = 0; c < XB_U_MAX; c++)
			out->packets[c] += v[i].packets[c];
	free(v);
	return err;
}

void xb_stats_free(struct xb_stats *s)
{
	free(s->v);
	s->v = NULL;
}

void xb_stats_row(const struct xb_stats *s, __u32 row, struct xb_counter *out)
{
	const struct xb_counter *c;
	__u32 r;
	int i;

	for (r = 0; r < XB_R_MAX; r++) {
		c = cell(s, XB_STATS_KEY(row, r));
		out[r].packets = 0;
		out[r].bytes = 0;
		for (i = 0; i < s->n_cpus; i++) {
			out[r].packets += c[i].packets;
			out[r].bytes += c[i].bytes;
		}
	}
}

void xb_stats_totals(const struct xb_stats *s, struct xb_counter *out)
{
	struct xb_counter row[XB_R_MAX];
	__u32 n, r;

	memset(out, 0, XB_R_MAX * sizeof(*out));
	for (n = 0; n < XB_STATS_ROWS; n++) {
		xb_stats_row(s, n, row);
		for (r = 0; r < XB_R_MAX; r++) {
			out[r].packets += row[r].packets;
			out[r].bytes += row[r].bytes;
		}
	}
}

void xb_stats_cpu_packets(const struct xb_stats *s, int cpu, __u64 *out)
{
	__u32 n, r;

	for (r = 0; r < XB_R_MAX; r++) {
		out[r] = 0;
		for (n = 0; n < XB_STATS_ROWS; n++)
			out[r] += cell(s, XB_STATS_KEY(n, r))[cpu].packets;
	}
}

void xb_stats_iface(const struct xb_counter *row, struct xb_iface_counters *out)
{
	__u32 r;

	memset(out, 0, sizeof(*out));
	for (r = 0; r < XB_R_MAX; r++) {
		if (xb_reason_steers(r))
			continue;
		out->rx_packets += row[r].packets;
		if (xb_reason_drops(r))
			out->dropped += row[r].packets;
	}
	out->passed = out->rx_packets - out->dropped;
	out->steered = row[XB_R_STEER].packets;
}

/*
 * One reason of row into the retired row: retired first, then the row
 * zeroed, so a reader sees a packet counted twice for an instant rather
 * than missing. The device that held the slot has left xb_ifaces (or is
 * being attached again), so hardly a packet is counted in between.
 */
static int retire_cell(int fd, int n_cpus, __u32 row, __u32 reason,
		       struct xb_counter *from, struct xb_counter *into)
{
	__u32 key = XB_STATS_KEY(row, reason);
	__u32 rkey = XB_STATS_KEY(XB_STATS_ROW_RETIRED, reason);
	bool moved = false;
	int i;

	if (bpf_map_lookup_elem(fd, &key, from) || bpf_map_lookup_elem(fd, &rkey, into))
		return -errno;
	for (i = 0; i < n_cpus; i++) {
		moved |= from[i].packets || from[i].bytes;
		into[i].packets += from[i].packets;
		into[i].bytes += from[i].bytes;
	}
	if (!moved)
		return 0;
	if (bpf_map_update_elem(fd, &rkey, into, BPF_ANY))
		return -errno;
	memset(from, 0, n_cpus * sizeof(*from));
	if (bpf_map_update_elem(fd, &key, from, BPF_ANY))
		return -errno;
	return 0;
}

int xb_stats_retire_row(const struct xb_maps *maps, __u32 row)
{
	struct xb_counter *from, *into;
	int err = 0;
	__u32 r;

	if (row >= XB_MAX_IFACES)
		return -EINVAL;
	from = calloc(maps->n_cpus, sizeof(*from));
	into = calloc(maps->n_cpus, sizeof(*into));
	if (!from || !into)
		err = -ENOMEM;
	for (r = 0; !err && r < XB_R_MAX; r++)
		err = retire_cell(maps->fd[XB_MAP_STATS], maps->n_cpus, row, r, from, into);
	free(from);
	free(into);
	return err;
}

int xb_spread_stats_read(const struct xb_maps *maps, struct xb_counter *out, __u32 n)
{
	__u32 cpu, entries = xb_spread_map_entries();
	int err = 0, i;

	if (n > entries)
		n = entries;
	for (cpu = 0; cpu < n; cpu++) {
		struct xb_counter *v = xb_maps_lookup_percpu(maps, XB_MAP_SPREAD_STATS, &cpu,
							     sizeof(*v), &err);

		if (!v)
			return err;
		memset(&out[cpu], 0, sizeof(out[cpu]));
		for (i = 0; i < maps->n_cpus; i++) {
			out[cpu].packets += v[i].packets;
			out[cpu].bytes += v[i].bytes;
		}
		free(v);
	}
	return (int)n;
}
