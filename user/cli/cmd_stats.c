// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xfrmbpf stats [-j] [--watch SECONDS]`: the datapath's per-reason and
 * per-interface counters (the rows of xb_stats, user/loader/stats.h), summed
 * over CPUs, each interface also with the reasons it counted, and the
 * flow cache's hits and misses (xb_flow_stats). With --watch, a sample
 * every SECONDS with per-second rates (JSON: one object per line).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <jansson.h>
#include "cli/cli.h"
#include "cli/show.h"
#include "loader/spread.h"
#include "loader/stats.h"
#include "xfrmbpf/reasons.h"

#define MAX_IFACES_SHOWN	XB_MAX_IFACES

struct iface_sample {
	__u32 ifindex;
	struct xb_counter reasons[XB_R_MAX];	/* the device's row */
	struct xb_iface_counters s;
};

struct sample {
	struct xb_counter reasons[XB_R_MAX];
	struct xb_flow_stats flow;
	struct xb_undecidable_stats undecidable;
	struct iface_sample ifaces[MAX_IFACES_SHOWN];
	int n_ifaces;
	/* --spread-esp: redirected packets by target CPU; spread_on[cpu]:
	 * listed (a cpumap entry) now */
	struct xb_counter spread[XB_MAX_SPREAD_CPUS];
	bool spread_on[XB_MAX_SPREAD_CPUS];
	int n_spread;
	double t;		/* CLOCK_MONOTONIC seconds */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The counters of attached device ifindex, from its row. */
static int read_iface(const struct xb_maps *maps, const struct xb_stats *st,
		      __u32 ifindex, struct iface_sample *is)
{
	struct xb_iface_cfg cfg;

	if (bpf_map_lookup_elem(maps->fd[XB_MAP_IFACES], &ifindex, &cfg))
		return -errno;
	if (cfg.stats_slot >= XB_MAX_IFACES)
		return -ERANGE;
	is->ifindex = ifindex;
	xb_stats_row(st, cfg.stats_slot, is->reasons);
	xb_stats_iface(is->reasons, &is->s);
	return 0;
}

static int read_spread(const struct xb_maps *maps, struct sample *s)
{
	struct xb_cpu_list listed;
	__u32 i;
	int n;

	n = xb_spread_stats_read(maps, s->spread, XB_MAX_SPREAD_CPUS);
	if (n < 0)
		return n;
	s->n_spread = n;
	xb_spread_cpus_read(maps, &listed);
	for (i = 0; i < listed.n; i++)
		if (listed.cpus[i] < (__u32)n)
			s->spread_on[listed.cpus[i]] = true;
	return 0;
}

/* A target CPU worth showing: listed now, or counted before. */
static bool spread_shown(const struct sample *s, int cpu)
{
	return s->spread_on[cpu] || s->spread[cpu].packets;
}

static int read_sample(const struct xb_maps *maps, struct sample *s)
{
	__u32 key, next, *prev = NULL;
	struct xb_stats st;
	int err;

	memset(s, 0, sizeof(*s));
	s->t = now_s();
	err = xb_flow_stats_read(maps, &s->flow);
	if (!err)
		err = xb_undecidable_stats_read(maps, &s->undecidable);
	if (err)
		return err;
	err = read_spread(maps, s);
	if (err)
		return err;
	err = xb_stats_read(maps, &st);
	if (err)
		return err;
	xb_stats_totals(&st, s->reasons);
	while (s->n_ifaces < MAX_IFACES_SHOWN &&
	       !bpf_map_get_next_key(maps->fd[XB_MAP_IFACES], prev, &next)) {
		key = next;
		prev = &key;
		if (!read_iface(maps, &st, key, &s->ifaces[s->n_ifaces]))
			s->n_ifaces++;	/* else deleted meanwhile */
	}
	xb_stats_free(&st);
	return 0;
}

static const char *iface_name(__u32 ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%u", ifindex);
	return buf;
}

/* Rate of one counter between two samples; 0 without a previous one. */
static double rate(__u64 now, __u64 before, const struct sample *cur,
		   const struct sample *prev)
{
	if (!prev || cur->t <= prev->t || now < before)
		return 0;
	return (now - before) / (cur->t - prev->t);
}

/* The reasons a device counted, by name: only the non-zero ones. */
static json_t *iface_reasons_json(const struct xb_counter *row)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < XB_R_MAX; i++)
		if (row[i].packets)
			json_object_set_new(o, xb_reason_name(i),
					    json_pack("{s:I, s:I}",
						      "packets", (json_int_t)row[i].packets,
						      "bytes", (json_int_t)row[i].bytes));
	return o;
}

static json_t *flow_json(const struct sample *s, const struct sample *prev)
{
	json_t *o = json_pack("{s:I, s:I}", "hits", (json_int_t)s->flow.hits,
			      "misses", (json_int_t)s->flow.misses);

	if (prev) {
		json_object_set_new(o, "hits_ps", json_real(rate(s->flow.hits,
								 prev->flow.hits, s, prev)));
		json_object_set_new(o, "misses_ps", json_real(rate(s->flow.misses,
								   prev->flow.misses, s, prev)));
	}
	return o;
}

/* pass_undecidable by cause: only the non-zero ones. */
static json_t *undecidable_json(const struct sample *s)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < XB_U_MAX; i++)
		if (s->undecidable.packets[i])
			json_object_set_new(o, xb_cause_name(i),
					    json_integer((json_int_t)s->undecidable.packets[i]));
	return o;
}

/* Packets redirected per target CPU (--spread-esp). */
static json_t *spread_json(const struct sample *s, const struct sample *prev)
{
	json_t *a = json_array();
	int cpu;

	for (cpu = 0; cpu < s->n_spread; cpu++) {
		json_t *o;

		if (!spread_shown(s, cpu))
			continue;
		o = json_object();
		json_object_set_new(o, "cpu", json_integer(cpu));
		json_object_set_new(o, "listed", json_boolean(s->spread_on[cpu]));
		json_object_set_new(o, "packets", json_integer((json_int_t)s->spread[cpu].packets));
		json_object_set_new(o, "bytes", json_integer((json_int_t)s->spread[cpu].bytes));
		if (prev)
			json_object_set_new(o, "pps", json_real(rate(s->spread[cpu].packets,
								     prev->spread[cpu].packets,
								     s, prev)));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *sample_json(const struct sample *s, const struct sample *prev)
{
	json_t *o = json_object(), *reasons = json_object(), *ifs = json_array();
	char name[IF_NAMESIZE];
	int i;

	for (i = 0; i < XB_R_MAX; i++) {
		json_t *r = json_pack("{s:I, s:I}", "packets", (json_int_t)s->reasons[i].packets,
				      "bytes", (json_int_t)s->reasons[i].bytes);

		if (prev)
			json_object_set_new(r, "pps", json_real(rate(s->reasons[i].packets,
					    prev->reasons[i].packets, s, prev)));
		json_object_set_new(reasons, xb_reason_name(i), r);
	}
	for (i = 0; i < s->n_ifaces; i++) {
		const struct xb_iface_counters *st = &s->ifaces[i].s;

		json_array_append_new(ifs, json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:o}",
			"ifindex", (int)s->ifaces[i].ifindex,
			"name", iface_name(s->ifaces[i].ifindex, name),
			"rx_packets", (json_int_t)st->rx_packets,
			"passed", (json_int_t)st->passed,
			"dropped", (json_int_t)st->dropped,
			"steered", (json_int_t)st->steered,
			"reasons", iface_reasons_json(s->ifaces[i].reasons)));
	}
	json_object_set_new(o, "reasons", reasons);
	json_object_set_new(o, "undecidable_causes", undecidable_json(s));
	json_object_set_new(o, "interfaces", ifs);
	json_object_set_new(o, "flow_cache", flow_json(s, prev));
	json_object_set_new(o, "spread_cpus", spread_json(s, prev));
	return o;
}

static const struct iface_sample *find_iface(const struct sample *s, __u32 ifindex)
{
	int i;

	for (i = 0; s && i < s->n_ifaces; i++)
		if (s->ifaces[i].ifindex == ifindex)
			return &s->ifaces[i];
	return NULL;
}

/* Under a device's line: its non-zero reasons, "name packets, ...". */
static void print_iface_reasons(const struct xb_counter *row)
{
	const char *sep = "  ";
	int i;

	for (i = 0; i < XB_R_MAX; i++) {
		if (!row[i].packets)
			continue;
		printf("%s%s %llu", sep, xb_reason_name(i), (unsigned long long)row[i].packets);
		sep = ", ";
	}
	if (*sep == ',')
		putchar('\n');
}

static void print_flow(const struct sample *s, const struct sample *prev)
{
	__u64 looked = s->flow.hits + s->flow.misses;

	printf("\nflow cache: %llu hits, %llu misses", (unsigned long long)s->flow.hits,
	       (unsigned long long)s->flow.misses);
	if (looked)
		printf(" (%.1f%% hits)", 100.0 * (double)s->flow.hits / (double)looked);
	if (prev)
		printf(", %.1f hits/s, %.1f misses/s",
		       rate(s->flow.hits, prev->flow.hits, s, prev),
		       rate(s->flow.misses, prev->flow.misses, s, prev));
	putchar('\n');
}

/* "spread-esp: cpu0 12, cpu1 9, ..." when a CPU is listed or counted. */
static void print_spread(const struct sample *s, const struct sample *prev)
{
	const char *sep = "\nspread-esp packets by target CPU: ";
	int cpu;

	for (cpu = 0; cpu < s->n_spread; cpu++) {
		if (!spread_shown(s, cpu))
			continue;
		printf("%scpu%d %llu", sep, cpu, (unsigned long long)s->spread[cpu].packets);
		if (prev)
			printf(" (%.1f/s)", rate(s->spread[cpu].packets, prev->spread[cpu].packets,
						 s, prev));
		sep = ", ";
	}
	if (*sep == ',')
		putchar('\n');
}

/* Under pass_undecidable: its non-zero causes, "  cause packets, ...". */
static void print_undecidable(const struct sample *s)
{
	const char *sep = "  (";
	int i;

	for (i = 0; i < XB_U_MAX; i++) {
		if (!s->undecidable.packets[i])
			continue;
		printf("%s%s %llu", sep, xb_cause_name(i),
		       (unsigned long long)s->undecidable.packets[i]);
		sep = ", ";
	}
	if (*sep == ',')
		printf(")\n");
}

static void print_text(const struct sample *s, const struct sample *prev)
{
	char name[IF_NAMESIZE];
	int i;

	printf("%-24s %14s %16s%s\n", "reason", "packets", "bytes", prev ? "      pkts/s" : "");
	for (i = 0; i < XB_R_MAX; i++) {
		printf("%-24s %14llu %16llu", xb_reason_name(i),
		       (unsigned long long)s->reasons[i].packets,
		       (unsigned long long)s->reasons[i].bytes);
		if (prev)
			printf(" %12.1f", rate(s->reasons[i].packets, prev->reasons[i].packets,
						s, prev));
		putchar('\n');
		if (i == XB_R_PASS_UNDECIDABLE)
			print_undecidable(s);
	}
	printf("\n%-16s %12s %12s %12s %12s%s\n", "interface", "rx_packets", "passed",
	       "dropped", "steered", prev ? "      rx/s" : "");
	for (i = 0; i < s->n_ifaces; i++) {
		const struct iface_sample *is = &s->ifaces[i], *p = find_iface(prev, is->ifindex);

		printf("%-16s %12llu %12llu %12llu %12llu", iface_name(is->ifindex, name),
		       (unsigned long long)is->s.rx_packets, (unsigned long long)is->s.passed,
		       (unsigned long long)is->s.dropped, (unsigned long long)is->s.steered);
		if (prev)
			printf(" %10.1f", p ? rate(is->s.rx_packets, p->s.rx_packets, s, prev) : 0);
		putchar('\n');
		print_iface_reasons(is->reasons);
	}
	print_flow(s, prev);
	print_spread(s, prev);
}

static void print_sample(const struct xb_global *g, const struct sample *s,
			 const struct sample *prev, bool watch)
{
	json_t *o;

	if (!g->json) {
		if (watch) {
			time_t t = time(NULL);
			char when[32];

			strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
			printf("--- %s\n", when);
		}
		print_text(s, prev);
		if (watch)
			putchar('\n');
		fflush(stdout);
		return;
	}
	o = sample_json(s, prev);
	/* --watch: JSON lines, one sample per line */
	json_dumpf(o, stdout, watch ? JSON_COMPACT : JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	fflush(stdout);
	json_decref(o);
}

struct stats_opts {
	unsigned int watch;	/* seconds between samples; 0: one sample */
};

static int cmd_stats(void *opts, int argc, char **argv, struct xb_global *g)
{
	unsigned int watch = ((struct stats_opts *)opts)->watch;
	struct sample *cur, *prev, *tmp;
	struct xb_maps maps;
	int ret, err;
	bool first = true;

	(void)argc, (void)argv;
	ret = xb_open_maps(g, &maps);
	if (ret)
		return ret;
	cur = calloc(1, sizeof(*cur));
	prev = calloc(1, sizeof(*prev));
	if (!cur || !prev) {
		ret = xb_error(g, XB_EXIT_FAIL, "out of memory");
		goto out;
	}
	for (;;) {
		err = read_sample(&maps, cur);
		if (err) {
			ret = xb_error(g, XB_EXIT_FAIL, "couldn't read the counters: %s",
				       strerror(-err));
			break;
		}
		print_sample(g, cur, first ? NULL : prev, watch);
		if (!watch)
			break;
		first = false;
		tmp = prev;
		prev = cur;
		cur = tmp;
		sleep(watch);
	}
out:
	free(cur);
	free(prev);
	xb_maps_close(&maps);
	return ret;
}

static const struct xb_option stats_options[] = {
	XB_OPT_JSON,
	{ .name = "watch", .kind = XB_OPT_UINT, XB_OPT_AT(struct stats_opts, watch),
	  .min = 1, .max = 86400, .metavar = "SECONDS", .expect = "seconds, 1 to 86400",
	  .help = "a sample every SECONDS with per-second rates, until\n"
		  "interrupted (with -j: one JSON object per line)" },
	XB_OPT_HELP,
	{}
};

const struct xb_cmd xb_cmd_stats = {
	.name = "stats",
	.fn = cmd_stats,
	.summary = "per-reason and per-interface datapath counters",
	.options = stats_options,
	.opts_size = sizeof(struct stats_opts),
	.notes = "Packets and bytes per reason and per interface, summed over CPUs;\n"
		 "pass_undecidable also by cause (what the kernel would see that the\n"
		 "datapath cannot), as `classify` names it.\n",
};
