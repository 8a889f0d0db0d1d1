// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus exposition of the pinned maps. It reads what `status` and
 * `stats` read, through the same readers (loader/mirror_state.h,
 * loader/stats.h), so a scrape and `stats -j` / `status -j` taken at the
 * same moment agree. Every family is written whole (HELP, TYPE, samples)
 * before the next; label values are escaped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/xfrm.h>
#include <net/if.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "classifier/tss.h"
#include "daemon/metrics.h"
#include "lib/clock.h"
#include "loader/mirror_state.h"
#include "loader/stats.h"
#include "netlink/xfrm_names.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf/sad.h"
#include "xfrmbpf/spd.h"

#define XFRM_STAT_PATH	"/proc/net/xfrm_stat"

static const char *const fam_names[XB_FAM_MAX] = {
	[XB_FAM_V4] = "inet", [XB_FAM_V6] = "inet6",
};

/* Short keys of the XB_LIST_UNDEC_* bits, for a label. */
static const struct {
	__u32 bit;
	const char *key;
} list_undec_keys[] = {
	{ XB_LIST_UNDEC_OFFLOAD, "offload" },
	{ XB_LIST_UNDEC_TABLES, "tables" },
	{ XB_LIST_UNDEC_CAPACITY, "capacity" },
};

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

/* name{k1="v1",...} and its value: the labels as (key, value) pairs up to
 * a NULL key. */
static void vsample(FILE *f, const char *name, va_list ap)
{
	const char *k, *sep = "{";

	fputs(name, f);
	while ((k = va_arg(ap, const char *))) {
		fprintf(f, "%s%s=\"", sep, k);
		label_value(f, va_arg(ap, const char *));
		fputc('"', f);
		sep = ",";
	}
	if (*sep == ',')
		fputc('}', f);
}

static void sample(FILE *f, const char *name, __u64 v, ...)
{
	va_list ap;

	va_start(ap, v);
	vsample(f, name, ap);
	va_end(ap);
	fprintf(f, " %llu\n", (unsigned long long)v);
}

static void sample_real(FILE *f, const char *name, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	vsample(f, name, ap);
	va_end(ap);
	fprintf(f, " %.3f\n", v);
}

static void gauge(FILE *f, const char *name, const char *help, __u64 v)
{
	family(f, name, "gauge", help);
	sample(f, name, v, NULL);
}

static void counter(FILE *f, const char *name, const char *help, __u64 v)
{
	family(f, name, "counter", help);
	sample(f, name, v, NULL);
}

static const char *verdict(unsigned int reason)
{
	return xb_reason_drops(reason) ? "drop" : xb_reason_steers(reason) ? "steer" : "pass";
}

static const char *iface_name(__u32 ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%u", ifindex);
	return buf;
}

/*
 * Calls fn for every entry of the hash map fd, in batches: unlike a walk
 * by next key, an entry deleted meanwhile neither restarts nor repeats it.
 */
typedef int (*entry_fn)(const void *key, const void *value, void *ctx);

static int walk_hash(int fd, size_t key_size, size_t value_size, entry_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 cap = 256, count, batch, i;
	char *keys = NULL, *values = NULL;
	void *in = NULL;
	int err = 0, ret;

	for (;;) {
		if (!keys) {
			keys = calloc(cap, key_size);
			values = calloc(cap, value_size);
			if (!keys || !values) {
				err = -ENOMEM;
				break;
			}
		}
		count = cap;
		ret = bpf_map_lookup_batch(fd, in, &batch, keys, values, &count, &opts);
		if (ret && errno == ENOSPC && cap < (1u << 16)) {
			/* a bucket holds more than cap entries */
			free(keys);
			free(values);
			keys = values = NULL;
			cap *= 4;
			continue;
		}
		if (ret && errno != ENOENT) {
			err = -errno;
			break;
		}
		for (i = 0; !err && i < count; i++)
			err = fn(keys + (size_t)i * key_size, values + (size_t)i * value_size, ctx);
		if (ret || err)
			break;	/* ENOENT: that was the last batch */
		in = &batch;
	}
	free(keys);
	free(values);
	return err;
}

static void render_build(FILE *f)
{
	family(f, "xfrmbpf_build_info", "gauge", "The xfrmbpf version that rendered these metrics.");
	sample(f, "xfrmbpf_build_info", 1, "version", XB_VERSION, "revision", XB_GIT_REV, NULL);
}

static void render_sync(FILE *f, const struct xb_sync *s, __u64 now)
{
	struct xb_sync_view v;
	int i;

	xb_sync_view(s, now, &v);
	gauge(f, "xfrmbpf_synced", "1 when the datapath trusts the mirror (status: synced); "
	      "0: it passes everything.", v.synced);
	family(f, "xfrmbpf_unsynced_reason", "gauge",
	       "1 for why the datapath does not trust the mirror (status: unsynced_reason).");
	for (i = 0; xb_unsynced_reasons[i]; i++)
		sample(f, "xfrmbpf_unsynced_reason", v.unsynced_reason &&
		       !strcmp(v.unsynced_reason, xb_unsynced_reasons[i]),
		       "reason", xb_unsynced_reasons[i], NULL);
	gauge(f, "xfrmbpf_daemon_running", "1 when the daemon that wrote the sync record is alive.",
	      v.daemon_running);
	if (v.has_heartbeat) {
		family(f, "xfrmbpf_heartbeat_age_seconds", "gauge",
		       "Time since the daemon's last heartbeat (absent: never beaten).");
		sample_real(f, "xfrmbpf_heartbeat_age_seconds", v.heartbeat_age_ns / 1e9, NULL);
	}
	family(f, "xfrmbpf_heartbeat_timeout_seconds", "gauge",
	       "A heartbeat older than this makes the datapath pass everything.");
	sample_real(f, "xfrmbpf_heartbeat_timeout_seconds", s->heartbeat_timeout_ns / 1e9, NULL);
	gauge(f, "xfrmbpf_heartbeat_stale", "1 while the datapath's watchdog finds the heartbeat "
	      "stale.", s->heartbeat_stale != 0);
	gauge(f, "xfrmbpf_generation", "Finished publications of the mirror into the maps "
	      "(status: generation).", s->generation);
	gauge(f, "xfrmbpf_flow_epoch", "Changes of routes, rules, addresses and device settings "
	      "that invalidated cached flows (status: flow_epoch).", s->flow_epoch);
	counter(f, "xfrmbpf_resyncs_total", "Full re-dumps of the SPD and SAD (after lost "
		"netlink messages).", s->resyncs);
	counter(f, "xfrmbpf_netlink_bad_messages_total", "Malformed netlink messages skipped.",
		s->nl_bad_msgs);
	gauge(f, "xfrmbpf_shape_overflows", "Shape lists undecidable as a whole "
	      "(status: shape_overflows).", s->shape_overflows);
}

static int count_sa(const void *key, const void *value, void *ctx)
{
	const struct xb_sa_key *k = key;
	__u64 *n = ctx;

	(void)value;
	n[k->spi.family == AF_INET6 ? XB_FAM_V6 : XB_FAM_V4]++;
	return 0;
}

/* The SPD by direction and family, the SAD by family, defaults. */
static int render_sizes(FILE *f, const struct xb_maps *maps, const struct xb_sync *s,
			const struct xb_shape_list lists[XB_SHAPE_LISTS])
{
	__u64 pol[XFRM_POLICY_FWD + 1][XB_FAM_MAX], sas[XB_FAM_MAX] = {};
	static const unsigned int dirs[] = { XFRM_POLICY_IN, XFRM_POLICY_FWD, XFRM_POLICY_OUT };
	unsigned int d;
	int fam, err;

	err = walk_hash(maps->fd[XB_MAP_SAS], sizeof(struct xb_sa_key), sizeof(struct xb_sa),
			count_sa, sas);
	if (err)
		return err;
	xb_policy_counts(lists, pol);
	family(f, "xfrmbpf_policies", "gauge",
	       "Mirrored policies by direction and family (status: policies_by_dir).");
	for (d = 0; d < 3; d++)
		for (fam = 0; fam < XB_FAM_MAX; fam++)
			sample(f, "xfrmbpf_policies", pol[dirs[d]][fam], "dir", xb_dir_name(dirs[d]),
			       "family", fam_names[fam], NULL);
	gauge(f, "xfrmbpf_policy_capacity", "Policies the maps hold (run --max-policies).",
	      maps->max_policies);
	family(f, "xfrmbpf_sas", "gauge", "Mirrored SA identities by family (status: sas).");
	for (fam = 0; fam < XB_FAM_MAX; fam++)
		sample(f, "xfrmbpf_sas", sas[fam], "family", fam_names[fam], NULL);
	gauge(f, "xfrmbpf_xfrm_interfaces", "Mirrored XFRM interfaces (status: xfrm_links).",
	      s->n_xfrm_links);
	family(f, "xfrmbpf_default_policy_block", "gauge",
	       "1 when the kernel's default for packets no policy matches is block.");
	for (d = 0; d < 3; d++)
		sample(f, "xfrmbpf_default_policy_block",
		       s->default_action[dirs[d]] == XB_DEFAULT_BLOCK,
		       "dir", xb_dir_name(dirs[d]), NULL);
	return 0;
}

/* The classifier's shape lists that hold policies or are undecidable, as
 * `status` lists them. */
static void render_shape_lists(FILE *f, const struct xb_shape_list lists[XB_SHAPE_LISTS])
{
	static const struct {
		const char *name, *help;
	} fams[] = {
		{ "xfrmbpf_shape_list_policies", "Policies the list's tables hold." },
		{ "xfrmbpf_shape_list_out_of_view_policies",
		  "Policies of the list no packet at XDP matches (mark, if_id)." },
		{ "xfrmbpf_shape_list_tables", "Tables (shapes) the search probes." },
		{ "xfrmbpf_shape_list_buckets", "Buckets of the list's tables." },
		{ "xfrmbpf_shape_list_full_buckets",
		  "Buckets with more policies than the datapath checks: their packets pass." },
		{ "xfrmbpf_shape_list_indexed",
		  "1 when the list has the candidate-table index (status: indexed)." },
		{ "xfrmbpf_shape_list_undecidable",
		  "1 when every packet of the list passes as undecidable (status: undecidable)." },
	};
	char name[32];
	size_t m, k;
	__u32 i;

	for (m = 0; m < sizeof(fams) / sizeof(fams[0]); m++) {
		family(f, fams[m].name, "gauge", fams[m].help);
		for (i = 0; i < XB_SHAPE_LISTS; i++) {
			const struct xb_shape_list *sl = &lists[i];
			__u64 v[] = { sl->n_policies, sl->n_out_of_view, sl->count, sl->n_buckets,
				      sl->n_full_buckets, sl->indexed != 0, sl->undecidable != 0 };

			if (!sl->n_policies && !sl->n_out_of_view && !sl->undecidable)
				continue;
			xb_tss_list_name(i, name, sizeof(name));
			sample(f, fams[m].name, v[m], "list", name, NULL);
		}
	}
	family(f, "xfrmbpf_shape_list_undecidable_reason", "gauge",
	       "1 for why a list is undecidable (status: why).");
	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		if (!lists[i].undecidable)
			continue;
		xb_tss_list_name(i, name, sizeof(name));
		for (k = 0; k < sizeof(list_undec_keys) / sizeof(list_undec_keys[0]); k++)
			sample(f, "xfrmbpf_shape_list_undecidable_reason",
			       (lists[i].undecidable & list_undec_keys[k].bit) != 0,
			       "list", name, "reason", list_undec_keys[k].key, NULL);
	}
}

struct iface {
	__u32 ifindex;
	struct xb_iface_cfg cfg;
	char name[IF_NAMESIZE];
};

struct ifaces {
	struct iface v[XB_MAX_IFACES];
	int n;
};

static int add_iface(const void *key, const void *value, void *ctx)
{
	struct ifaces *ifs = ctx;
	struct iface *i;

	if (ifs->n >= XB_MAX_IFACES)
		return 0;
	i = &ifs->v[ifs->n++];
	i->ifindex = *(const __u32 *)key;
	memcpy(&i->cfg, value, sizeof(i->cfg));
	iface_name(i->ifindex, i->name);
	return 0;
}

/* Per reason over every row (attached devices, others, retired), as
 * `stats` sums them. */
static void render_reasons(FILE *f, const struct xb_stats *st)
{
	struct xb_counter tot[XB_R_MAX];
	unsigned int r;

	xb_stats_totals(st, tot);
	family(f, "xfrmbpf_packets_total", "counter",
	       "Packets by the datapath's reason (stats: reasons), every device.");
	for (r = 0; r < XB_R_MAX; r++)
		sample(f, "xfrmbpf_packets_total", tot[r].packets, "reason", xb_reason_name(r),
		       "verdict", verdict(r), NULL);
	family(f, "xfrmbpf_bytes_total", "counter",
	       "Bytes by the datapath's reason (stats: reasons), every device.");
	for (r = 0; r < XB_R_MAX; r++)
		sample(f, "xfrmbpf_bytes_total", tot[r].bytes, "reason", xb_reason_name(r),
		       "verdict", verdict(r), NULL);
}

/* Per attached interface: its row by reason, the `stats` summary, and
 * its flags as `status` names them. */
static void render_ifaces(FILE *f, const struct xb_stats *st, const struct ifaces *ifs)
{
	static const char *const summary[] = {
		"xfrmbpf_interface_received_packets_total",
		"xfrmbpf_interface_passed_packets_total",
		"xfrmbpf_interface_dropped_packets_total",
		"xfrmbpf_interface_steered_packets_total",
	};
	static const char *const summary_help[] = {
		"Packets XDP saw on the interface (stats: rx_packets).",
		"Packets XDP passed on the interface (stats: passed).",
		"Packets XDP dropped on the interface (stats: dropped).",
		"Packets TC steering redirected on the interface (stats: steered).",
	};
	struct xb_counter (*rows)[XB_R_MAX] = calloc(ifs->n ? ifs->n : 1, sizeof(*rows));
	struct xb_iface_counters c;
	unsigned int r, m;
	int i, k;

	if (!rows)
		return;
	for (i = 0; i < ifs->n; i++)
		if (ifs->v[i].cfg.stats_slot < XB_MAX_IFACES)
			xb_stats_row(st, ifs->v[i].cfg.stats_slot, rows[i]);
	family(f, "xfrmbpf_interface_packets_total", "counter",
	       "Packets by reason on an attached interface.");
	for (i = 0; i < ifs->n; i++)
		for (r = 0; r < XB_R_MAX; r++)
			sample(f, "xfrmbpf_interface_packets_total", rows[i][r].packets,
			       "interface", ifs->v[i].name, "reason", xb_reason_name(r),
			       "verdict", verdict(r), NULL);
	family(f, "xfrmbpf_interface_bytes_total", "counter",
	       "Bytes by reason on an attached interface.");
	for (i = 0; i < ifs->n; i++)
		for (r = 0; r < XB_R_MAX; r++)
			sample(f, "xfrmbpf_interface_bytes_total", rows[i][r].bytes,
			       "interface", ifs->v[i].name, "reason", xb_reason_name(r),
			       "verdict", verdict(r), NULL);
	for (m = 0; m < sizeof(summary) / sizeof(summary[0]); m++) {
		family(f, summary[m], "counter", summary_help[m]);
		for (i = 0; i < ifs->n; i++) {
			__u64 v;

			xb_stats_iface(rows[i], &c);
			v = m == 0 ? c.rx_packets : m == 1 ? c.passed : m == 2 ? c.dropped : c.steered;
			sample(f, summary[m], v, "interface", ifs->v[i].name, NULL);
		}
	}
	family(f, "xfrmbpf_interface_flag", "gauge", "1 when an attached interface has the flag "
	       "(status: interfaces); most make its packets pass as undecidable.");
	for (i = 0; i < ifs->n; i++)
		for (k = 0; xb_iface_flags[k].name; k++)
			sample(f, "xfrmbpf_interface_flag",
			       (ifs->v[i].cfg.flags & xb_iface_flags[k].mask) != 0,
			       "interface", ifs->v[i].name, "flag", xb_iface_flags[k].name, NULL);
	free(rows);
}

/* --spread-esp: packets redirected per target CPU, for the CPUs that
 * counted any (at most the possible CPUs: bounded by the machine). */
static int render_spread(FILE *f, const struct xb_maps *maps)
{
	struct xb_counter *c = calloc(XB_MAX_SPREAD_CPUS, sizeof(*c));
	char cpu_s[16];
	int n, cpu;

	if (!c)
		return -ENOMEM;
	n = xb_spread_stats_read(maps, c, XB_MAX_SPREAD_CPUS);
	if (n < 0) {
		free(c);
		return n;
	}
	family(f, "xfrmbpf_spread_packets_total", "counter",
	       "Inbound ESP redirected to a CPU by --spread-esp, by target CPU "
	       "(stats: spread_cpus).");
	for (cpu = 0; cpu < n; cpu++) {
		if (!c[cpu].packets)
			continue;
		snprintf(cpu_s, sizeof(cpu_s), "%d", cpu);
		sample(f, "xfrmbpf_spread_packets_total", c[cpu].packets, "cpu", cpu_s, NULL);
	}
	free(c);
	return 0;
}

static int render_counters(FILE *f, const struct xb_maps *maps)
{
	struct xb_undecidable_stats und;
	struct xb_flow_stats flow;
	struct xb_stats st;
	struct ifaces *ifs;
	int err, c;

	err = xb_flow_stats_read(maps, &flow);
	if (!err)
		err = xb_undecidable_stats_read(maps, &und);
	if (err)
		return err;
	ifs = calloc(1, sizeof(*ifs));
	if (!ifs)
		return -ENOMEM;
	err = walk_hash(maps->fd[XB_MAP_IFACES], sizeof(__u32), sizeof(struct xb_iface_cfg),
			add_iface, ifs);
	if (!err)
		err = xb_stats_read(maps, &st);
	if (err) {
		free(ifs);
		return err;
	}
	render_reasons(f, &st);
	family(f, "xfrmbpf_undecidable_packets_total", "counter",
	       "Packets passed as undecidable, by cause (stats: undecidable_causes).");
	for (c = 0; c < XB_U_MAX; c++)
		sample(f, "xfrmbpf_undecidable_packets_total", und.packets[c],
		       "cause", xb_cause_name(c), NULL);
	counter(f, "xfrmbpf_flow_cache_hits_total", "Packets decided by the flow cache.",
		flow.hits);
	counter(f, "xfrmbpf_flow_cache_misses_total", "Packets the flow cache did not decide.",
		flow.misses);
	render_ifaces(f, &st, ifs);
	xb_stats_free(&st);
	free(ifs);
	return render_spread(f, maps);
}

struct top_policy {
	__u32 id;
	struct xb_policy_rec rec;	/* its labels: index, dir, action */
	struct xb_counter hits;
};

struct top {
	const struct xb_maps *maps;
	struct top_policy *v;	/* by packets, most first */
	unsigned int n, cap;
};

/* Keep the policy if it is among the cap with the most packets. */
static int consider_policy(struct top *t, __u32 id, const struct xb_policy_rec *rec)
{
	struct xb_counter *pc, sum = {};
	unsigned int i, at;
	int err, c;

	pc = xb_maps_lookup_percpu(t->maps, XB_MAP_POLICY_STATS, &id, sizeof(*pc), &err);
	if (!pc)
		return err == -ENOENT ? 0 : err;
	for (c = 0; c < t->maps->n_cpus; c++) {
		sum.packets += pc[c].packets;
		sum.bytes += pc[c].bytes;
	}
	free(pc);
	if (!sum.packets || (t->n == t->cap && sum.packets <= t->v[t->n - 1].hits.packets))
		return 0;
	for (at = 0; at < t->n && t->v[at].hits.packets >= sum.packets; at++)
		;
	if (t->n < t->cap)
		t->n++;
	for (i = t->n - 1; i > at; i--)
		t->v[i] = t->v[i - 1];
	t->v[at].id = id;
	t->v[at].rec = *rec;
	t->v[at].hits = sum;
	return 0;
}

/* consider_policy() for the policies of a page of xb_policies. */
static int consider_page(const void *key, const void *value, void *ctx)
{
	const struct xb_policy_page *page = value;
	__u32 slot;
	int err = 0;

	for (slot = 0; !err && slot < XB_POLICY_PAGE_RECS; slot++)
		if (xb_page_holds(page->present, slot))
			err = consider_policy(ctx, xb_page_id(*(const __u32 *)key, slot,
							      XB_POLICY_PAGE_RECS),
					      &page->rec[slot]);
	return err;
}

/* The policies with the most packets: one walk of xb_policies' pages, one
 * counter lookup per policy. */
static int render_top_policies(FILE *f, const struct xb_maps *maps, unsigned int n)
{
	struct top t = { .maps = maps, .cap = n };
	char index[16];
	unsigned int i, m;
	int err;

	family(f, "xfrmbpf_policy_top_series", "gauge",
	       "How many policies at most have per-policy series (the ones with most packets).");
	sample(f, "xfrmbpf_policy_top_series", n, NULL);
	if (!n)
		return 0;
	t.v = calloc(n, sizeof(*t.v));
	if (!t.v)
		return -ENOMEM;
	err = walk_hash(maps->fd[XB_MAP_POLICIES], sizeof(__u32), sizeof(struct xb_policy_page),
			consider_page, &t);
	for (m = 0; !err && m < 2; m++) {
		const char *name = m ? "xfrmbpf_policy_bytes_total" : "xfrmbpf_policy_packets_total";

		family(f, name, "counter", m ? "Bytes of the policies with the most packets "
		       "(policy: bytes), by kernel policy index." :
		       "Packets of the policies with the most packets (policy: packets), by "
		       "kernel policy index.");
		for (i = 0; i < t.n; i++) {
			snprintf(index, sizeof(index), "%u", t.v[i].rec.index);
			sample(f, name, m ? t.v[i].hits.bytes : t.v[i].hits.packets,
			       "index", index, "dir", xb_dir_name(t.v[i].rec.dir),
			       "action", xb_action_name(t.v[i].rec.action), NULL);
		}
	}
	free(t.v);
	return err;
}

/* The kernel's own XFRM error counters (CONFIG_XFRM_STATISTICS) of this
 * network namespace: what the kernel still drops, late. */
static void render_kernel(FILE *f)
{
	FILE *in = fopen(XFRM_STAT_PATH, "re");
	unsigned long long v;
	char line[128], stat[64];
	bool first = true;

	if (!in)
		return;
	while (fgets(line, sizeof(line), in)) {
		if (sscanf(line, "%63s %llu", stat, &v) != 2)
			continue;
		if (first)
			family(f, "xfrmbpf_kernel_xfrm_errors_total", "counter",
			       "The kernel's XFRM error counters (" XFRM_STAT_PATH "), by name.");
		first = false;
		sample(f, "xfrmbpf_kernel_xfrm_errors_total", v, "stat", stat, NULL);
	}
	fclose(in);
}

int xb_metrics_render(const struct xb_maps *maps, const struct xb_metrics_opts *o,
		      char **text, size_t *len)
{
	struct xb_shape_list lists[XB_SHAPE_LISTS];
	struct xb_sync sync;
	FILE *f;
	int err;

	*text = NULL;
	*len = 0;
	err = xb_maps_read_sync(maps, &sync);
	if (err)
		return err;
	f = open_memstream(text, len);
	if (!f)
		return -errno;
	xb_shape_lists_read(maps, lists);
	render_build(f);
	render_sync(f, &sync, xb_monotonic_ns());
	err = render_sizes(f, maps, &sync, lists);
	if (!err) {
		render_shape_lists(f, lists);
		err = render_counters(f, maps);
	}
	if (!err)
		err = render_top_policies(f, maps, o->top_policies);
	if (!err)
		render_kernel(f);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(*text);
		*text = NULL;
		*len = 0;
	}
	return err;
}
