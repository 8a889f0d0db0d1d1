// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `xfrmbpf status`, `policy` and `sa`: the published mirror, read back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/xfrm.h>
#include <net/if.h>
#include <jansson.h>
#include <bpf/bpf.h>
#include "cli/cli.h"
#include "classifier/tss.h"
#include "lib/clock.h"
#include "cli/show.h"
#include "loader/kfunc.h"
#include "loader/mirror_state.h"
#include "mirror/snapshot.h"
#include "netlink/xfrm_names.h"

static const char *const dir_keys[] = {
	[XFRM_POLICY_IN] = "in", [XFRM_POLICY_OUT] = "out", [XFRM_POLICY_FWD] = "fwd",
};

int xb_open_maps(const struct xb_global *g, struct xb_maps *maps)
{
	char why[1024];
	int err = xb_maps_open_checked(maps, g->pin_dir, why, sizeof(why));

	/* not on a bpffs, an unsafe pin dir, pins of another ABI */
	if (err && why[0])
		return xb_error(g, XB_EXIT_ENV, "%s", why);
	if (err == -EPERM || err == -EACCES)
		return xb_error(g, XB_EXIT_ENV, "no permission to open the maps under %s: run as root",
				g->pin_dir);
	if (err)
		return xb_error(g, XB_EXIT_ENV, "no xfrmbpf maps under %s (is `xfrmbpf run` running?)",
				g->pin_dir);
	return 0;
}

static json_t *addr_json(unsigned int family, const union xb_addr *a, int plen)
{
	char buf[XB_ADDR_STRLEN];

	return json_string(xb_addr_str(buf, sizeof(buf), family, a, plen));
}

static json_t *tmpl_json(const struct xb_tmpl *t)
{
	return json_pack("{s:s, s:o, s:o, s:i, s:I, s:I, s:s, s:b, s:i}",
			 "family", xb_family_name(t->family),
			 "src", addr_json(t->family, &t->saddr, -1),
			 "dst", addr_json(t->family, &t->daddr, -1),
			 "proto", t->proto,
			 "spi", (json_int_t)ntohl(t->spi),
			 "reqid", (json_int_t)t->reqid,
			 "mode", xb_mode_name(t->mode),
			 "optional", t->optional,
			 "share", t->share);
}

json_t *xb_policy_json(const struct xb_policy *p, const struct xb_tmpl *tmpls,
		       const struct xb_counter *hits)
{
	const struct xb_selector *s = &p->sel;
	json_t *o, *arr = json_array();
	unsigned int i;

	for (i = 0; i < p->n_tmpls; i++)
		json_array_append_new(arr, tmpl_json(&tmpls[i]));
	o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:i, s:i, s:i, s:i, s:i}",
		      "index", (json_int_t)p->index,
		      "dir", xb_dir_name(p->dir),
		      "ptype", xb_ptype_name(p->type),
		      "action", xb_action_name(p->action),
		      "priority", (json_int_t)p->priority,
		      "family", xb_family_name(s->family),
		      "src", addr_json(s->family, &s->saddr, s->prefixlen_s),
		      "dst", addr_json(s->family, &s->daddr, s->prefixlen_d),
		      "proto", s->proto,
		      "sport", ntohs(s->sport),
		      "sport_mask", ntohs(s->sport_mask),
		      "dport", ntohs(s->dport),
		      "dport_mask", ntohs(s->dport_mask));
	json_object_set_new(o, "ifindex", json_integer(s->ifindex));
	json_object_set_new(o, "mark", json_integer(p->mark_v));
	json_object_set_new(o, "mark_mask", json_integer(p->mark_m));
	json_object_set_new(o, "if_id", json_integer(p->if_id));
	json_object_set_new(o, "flags", json_integer(p->flags));
	json_object_set_new(o, "share", json_integer(p->share));
	json_object_set_new(o, "sec_ctx", json_boolean(p->xb_flags & XB_POL_SEC_CTX));
	json_object_set_new(o, "tmpls", arr);
	json_object_set_new(o, "id", json_integer(p->id));
	json_object_set_new(o, "pos", json_integer(p->pos));
	if (hits) {
		json_object_set_new(o, "packets", json_integer(hits->packets));
		json_object_set_new(o, "bytes", json_integer(hits->bytes));
	}
	return o;
}

json_t *xb_sa_json(const struct xb_sa_key *k, const struct xb_sa *sa)
{
	json_t *o, *encap = json_null();

	if (sa->encap_type)
		encap = json_pack("{s:i, s:i, s:i}", "type", sa->encap_type,
				  "sport", ntohs(sa->encap_sport),
				  "dport", ntohs(sa->encap_dport));
	o = json_pack("{s:s, s:o, s:o, s:i, s:I, s:s, s:I, s:I, s:I, s:I, s:i, s:o}",
		      "family", xb_family_name(k->spi.family),
		      "src", addr_json(k->spi.family, &sa->saddr, -1),
		      "dst", addr_json(k->spi.family, &k->spi.daddr, -1),
		      "proto", k->spi.proto,
		      "spi", (json_int_t)ntohl(k->spi.spi),
		      "mode", xb_mode_name(sa->mode),
		      "reqid", (json_int_t)sa->reqid,
		      "mark", (json_int_t)k->mark_v,
		      "mark_mask", (json_int_t)k->mark_m,
		      "if_id", (json_int_t)sa->if_id,
		      "flags", sa->flags,
		      "encap", encap);
	/* a per-CPU SA (XFRMA_SA_PCPU) */
	if (o && sa->pcpu_num != XB_NO_CPU)
		json_object_set_new(o, "pcpu", json_integer(sa->pcpu_num));
	return o;
}

static void print_json(json_t *o)
{
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
}

static void print_policy_text(const struct xb_snap_policy *sp)
{
	const struct xb_policy *p = &sp->pol;
	const struct xb_selector *s = &p->sel;
	char a[XB_ADDR_STRLEN], b[XB_ADDR_STRLEN];
	unsigned int i;

	printf("src %s dst %s", xb_addr_str(a, sizeof(a), s->family, &s->saddr, s->prefixlen_s),
	       xb_addr_str(b, sizeof(b), s->family, &s->daddr, s->prefixlen_d));
	if (s->proto)
		printf(" proto %u", s->proto);
	if (s->sport_mask)
		printf(" sport %u/0x%x", ntohs(s->sport), ntohs(s->sport_mask));
	if (s->dport_mask)
		printf(" dport %u/0x%x", ntohs(s->dport), ntohs(s->dport_mask));
	if (s->ifindex)
		printf(" dev %d", s->ifindex);
	printf("\n\tdir %s action %s priority %u ptype %s index %u\n", xb_dir_name(p->dir),
	       xb_action_name(p->action), p->priority, xb_ptype_name(p->type), p->index);
	if (p->mark_m)
		printf("\tmark 0x%x/0x%x\n", p->mark_v, p->mark_m);
	if (p->if_id)
		printf("\tif_id 0x%x\n", p->if_id);
	if (p->xb_flags & XB_POL_SEC_CTX)
		printf("\tsecurity context (not mirrored: the datapath passes its packets)\n");
	for (i = 0; i < p->n_tmpls; i++) {
		const struct xb_tmpl *t = &sp->tmpls[i];

		printf("\ttmpl src %s dst %s proto %u spi 0x%08x reqid %u mode %s%s\n",
		       xb_addr_str(a, sizeof(a), t->family, &t->saddr, -1),
		       xb_addr_str(b, sizeof(b), t->family, &t->daddr, -1),
		       t->proto, ntohl(t->spi), t->reqid, xb_mode_name(t->mode),
		       t->optional ? " level use" : "");
	}
	printf("\thits %llu packets %llu bytes\n", (unsigned long long)sp->hits.packets,
	       (unsigned long long)sp->hits.bytes);
}

static void print_sa_text(const struct xb_snap_sa *ss)
{
	const struct xb_sa_key *k = &ss->key;
	char a[XB_ADDR_STRLEN], b[XB_ADDR_STRLEN];

	printf("src %s dst %s\n\tproto %u spi 0x%08x reqid %u mode %s\n",
	       xb_addr_str(a, sizeof(a), k->spi.family, &ss->sa.saddr, -1),
	       xb_addr_str(b, sizeof(b), k->spi.family, &k->spi.daddr, -1),
	       k->spi.proto, ntohl(k->spi.spi), ss->sa.reqid, xb_mode_name(ss->sa.mode));
	if (k->mark_m)
		printf("\tmark 0x%x/0x%x\n", k->mark_v, k->mark_m);
	if (ss->sa.if_id)
		printf("\tif_id 0x%x\n", ss->sa.if_id);
	if (ss->sa.encap_type)
		printf("\tencap type %u sport %u dport %u\n", ss->sa.encap_type,
		       ntohs(ss->sa.encap_sport), ntohs(ss->sa.encap_dport));
	if (ss->sa.pcpu_num != XB_NO_CPU)
		printf("\tpcpu %u\n", ss->sa.pcpu_num);
}

static int read_snapshot(const struct xb_global *g, struct xb_maps *maps,
			 struct xb_snapshot *snap)
{
	int err = xb_open_maps(g, maps);

	if (err)
		return err;
	err = xb_snapshot_read(maps, snap);
	if (err) {
		xb_maps_close(maps);
		return xb_error(g, XB_EXIT_FAIL, "couldn't read the maps under %s: %s",
				g->pin_dir, strerror(-err));
	}
	return 0;
}

/* How one listing command prints a row of the snapshot, text or JSON. */
struct listing {
	size_t (*rows)(const struct xb_snapshot *snap);
	void (*print_text)(const struct xb_snapshot *snap, size_t row);
	json_t *(*to_json)(const struct xb_snapshot *snap, size_t row);
};

static size_t policy_rows(const struct xb_snapshot *snap)
{
	return snap->n_policies;
}

static void policy_text(const struct xb_snapshot *snap, size_t row)
{
	print_policy_text(&snap->policies[row]);
}

static json_t *policy_json(const struct xb_snapshot *snap, size_t row)
{
	const struct xb_snap_policy *sp = &snap->policies[row];

	return xb_policy_json(&sp->pol, sp->tmpls, &sp->hits);
}

static size_t sa_rows(const struct xb_snapshot *snap)
{
	return snap->n_sas;
}

static void sa_text(const struct xb_snapshot *snap, size_t row)
{
	print_sa_text(&snap->sas[row]);
}

static json_t *sa_json(const struct xb_snapshot *snap, size_t row)
{
	return xb_sa_json(&snap->sas[row].key, &snap->sas[row].sa);
}

static void print_listing(const struct xb_global *g, const struct listing *l,
			  const struct xb_snapshot *snap)
{
	size_t i, n = l->rows(snap);
	json_t *arr;

	if (!g->json) {
		for (i = 0; i < n; i++)
			l->print_text(snap, i);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, l->to_json(snap, i));
	print_json(arr);
}

static int run_listing(struct xb_global *g, const struct listing *l)
{
	struct xb_snapshot snap;
	struct xb_maps maps;
	int ret;

	ret = read_snapshot(g, &maps, &snap);
	if (ret)
		return ret;
	print_listing(g, l, &snap);
	xb_snapshot_free(&snap);
	xb_maps_close(&maps);
	return XB_EXIT_OK;
}

static int cmd_policy(void *opts, int argc, char **argv, struct xb_global *g)
{
	static const struct listing l = { policy_rows, policy_text, policy_json };

	(void)opts, (void)argc, (void)argv;
	return run_listing(g, &l);
}

static int cmd_sa(void *opts, int argc, char **argv, struct xb_global *g)
{
	static const struct listing l = { sa_rows, sa_text, sa_json };

	(void)opts, (void)argc, (void)argv;
	return run_listing(g, &l);
}

const struct xb_cmd xb_cmd_policy = {
	.name = "policy",
	.fn = cmd_policy,
	.summary = "the mirrored SPD with per-policy packets/bytes",
	.options = xb_common_options,
};

const struct xb_cmd xb_cmd_sa = {
	.name = "sa",
	.fn = cmd_sa,
	.summary = "the mirrored SA identities (never keys)",
	.options = xb_common_options,
};

/* Policies per direction and family (loader/mirror_state.h). */
static json_t *counts_json(const struct xb_shape_list lists[XB_SHAPE_LISTS])
{
	__u64 n[XFRM_POLICY_FWD + 1][XB_FAM_MAX];
	json_t *by = json_object();
	unsigned int dir;

	xb_policy_counts(lists, n);
	for (dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_FWD; dir++)
		json_object_set_new(by, dir_keys[dir], json_pack("{s:I, s:I}",
			"inet", (json_int_t)n[dir][XB_FAM_V4], "inet6", (json_int_t)n[dir][XB_FAM_V6]));
	return by;
}

/* From one read of the sync record and the shape lists: cheap at any SPD
 * size, and the heartbeat's age is that of the record just read. */
static json_t *status_json(const struct xb_maps *maps, const struct xb_sync *s,
			   const struct xb_shape_list lists[XB_SHAPE_LISTS])
{
	struct xb_sync_view v;
	const char *reason;
	json_t *o, *age = json_null();

	xb_sync_view(s, xb_monotonic_ns(), &v);
	if (v.has_heartbeat)
		age = json_integer(v.heartbeat_age_ns / 1000000);
	reason = v.unsynced_reason;
	o = json_pack("{s:b, s:b, s:b, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		      "synced", v.synced,
		      "daemon_running", v.daemon_running,
		      "heartbeat_stale", s->heartbeat_stale != 0,
		      "generation", (json_int_t)s->generation,
		      "flow_epoch", (json_int_t)s->flow_epoch,
		      "heartbeat_age_ms", age,
		      "heartbeat_timeout_ms", (json_int_t)(s->heartbeat_timeout_ns / 1000000),
		      "daemon_pid", (json_int_t)s->daemon_pid,
		      "resyncs", (json_int_t)s->resyncs,
		      "nl_bad_msgs", (json_int_t)s->nl_bad_msgs,
		      "policies", (json_int_t)s->n_policies,
		      "sas", (json_int_t)s->n_sas,
		      "xfrm_links", (json_int_t)s->n_xfrm_links,
		      "shape_overflows", (json_int_t)s->shape_overflows);
	/* How the datapath judges an SPI the maps lack (bpf/spi.bpf.h). */
	json_object_set_new(o, "spi_check",
			    json_string(xb_have_kernel_sa_lookup() ? "kernel" : "mirror"));
	json_object_set_new(o, "events_read_age_ms", s->drained_ns ?
			    json_integer((json_int_t)((xb_monotonic_ns() - s->drained_ns) /
						      1000000)) : json_null());
	/* Is a change of the kernel's SPD seen before its event is read
	 * (include/xfrmbpf/sync.h)? */
	json_object_set_new(o, "spd_watch", json_boolean(s->spd_watch));
	json_object_set_new(o, "spd_writers", json_integer((json_int_t)s->spd_writers));
	/* as bpf/sync.bpf.h judges it: the SPD's drops pass meanwhile */
	json_object_set_new(o, "spd_changing", json_boolean(s->spd_watch &&
			    (s->spd_writers || s->spd_written_ns >= s->drained_ns)));
	json_object_set_new(o, "default", json_pack("{s:s, s:s, s:s}",
		"in", xb_default_name(s->default_action[XFRM_POLICY_IN]),
		"fwd", xb_default_name(s->default_action[XFRM_POLICY_FWD]),
		"out", xb_default_name(s->default_action[XFRM_POLICY_OUT])));
	json_object_set_new(o, "policies_by_dir", counts_json(lists));
	json_object_set_new(o, "max_policies", json_integer(maps->max_policies));
	json_object_set_new(o, "over_capacity", json_boolean(reason && !strcmp(reason, "over_capacity")));
	json_object_set_new(o, "unsynced_reason", reason ? json_string(reason) : json_null());
	json_object_set_new(o, "full_map", v.full_map ? json_string(v.full_map) : json_null());
	return o;
}

json_t *xb_list_why_json(__u32 undecidable)
{
	json_t *why = json_array();
	__u32 bit;

	for (bit = 1; bit <= XB_LIST_UNDEC_CAPACITY; bit <<= 1)
		if (undecidable & bit)
			json_array_append_new(why, json_string(xb_tss_undecidable_name(bit)));
	return why;
}

/* The classifier's shape lists that hold policies or are undecidable:
 * sizes, and why the datapath passes what it cannot decide. */
static json_t *shape_lists_json(const struct xb_shape_list lists[XB_SHAPE_LISTS])
{
	json_t *arr = json_array();
	char name[32];
	__u32 i;

	for (i = 0; i < XB_SHAPE_LISTS; i++) {
		struct xb_shape_list sl = lists[i];

		if (!sl.n_policies && !sl.n_out_of_view && !sl.undecidable)
			continue;
		xb_tss_list_name(i, name, sizeof(name));
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:b, s:o}",
			"list", name,
			"policies", (json_int_t)sl.n_policies,
			"out_of_view", (json_int_t)sl.n_out_of_view,
			"shapes", (json_int_t)sl.n_shapes,
			"tables", (json_int_t)sl.count,
			"buckets", (json_int_t)sl.n_buckets,
			"full_buckets", (json_int_t)sl.n_full_buckets,
			/* candidate tables by region (include/xfrmbpf/tss.h) */
			"indexed", sl.indexed != 0,
			"index_entries", (json_int_t)sl.n_index_entries,
			"undecidable", sl.undecidable != 0,
			"why", xb_list_why_json(sl.undecidable)));
	}
	return arr;
}

static void print_shape_lists_text(json_t *lists)
{
	json_t *l, *why;
	size_t i, j;

	if (!json_array_size(lists))
		return;
	printf("classifier:\n");
	json_array_foreach(lists, i, l) {
		printf("  %-15s %lld policies, %lld shapes in %lld tables, %lld buckets",
		       json_string_value(json_object_get(l, "list")),
		       json_integer_value(json_object_get(l, "policies")),
		       json_integer_value(json_object_get(l, "shapes")),
		       json_integer_value(json_object_get(l, "tables")),
		       json_integer_value(json_object_get(l, "buckets")));
		if (json_integer_value(json_object_get(l, "full_buckets")))
			printf(", %lld full (their packets pass)",
			       json_integer_value(json_object_get(l, "full_buckets")));
		if (json_is_true(json_object_get(l, "indexed")))
			printf(", indexed (%lld regions)",
			       json_integer_value(json_object_get(l, "index_entries")));
		else if (json_integer_value(json_object_get(l, "tables")) > XB_IDX_MIN_TABLES)
			printf(", not indexed: every table probed (xb_tss_index is full)");
		if (json_integer_value(json_object_get(l, "out_of_view")))
			printf(", %lld more no packet at XDP matches (mark, if_id)",
			       json_integer_value(json_object_get(l, "out_of_view")));
		printf("\n");
		json_array_foreach(json_object_get(l, "why"), j, why)
			printf("    undecidable, every packet of the list passes: %s\n",
			       json_string_value(why));
	}
}

/* An attached device's VLAN devices, whose tagged frames the datapath
 * decides as theirs, and whether it can see the tags at all. */
static void iface_vlans_json(json_t *ifc, const struct xb_iface_cfg *cfg)
{
	json_t *vlans = json_array();
	char name[IF_NAMESIZE];
	__u32 i;

	for (i = 0; i < cfg->n_vlans && i < XB_MAX_IF_VLANS; i++) {
		const struct xb_iface_vlan *v = &cfg->vlans[i];

		if (!if_indextoname(v->ifindex, name))
			snprintf(name, sizeof(name), "if%u", v->ifindex);
		json_array_append_new(vlans, json_pack("{s:s, s:I, s:i, s:s, s:b, s:b, s:b, s:b, "
						       "s:b, s:b}",
			"name", name, "ifindex", (json_int_t)v->ifindex,
			"vid", v->tag & XB_VLAN_VID_MASK,
			"protocol", v->tag & XB_VLAN_TAG_AD ? "802.1ad" : "802.1Q",
			"stacked", (v->flags & XB_IF_STACKED) != 0,
			"tc_ingress", (v->flags & XB_IF_TC_INGRESS) != 0,
			"netfilter_ingress", (v->flags & XB_IF_NF_INGRESS) != 0,
			"disable_policy_ipv4", (v->flags & XB_IF_DISABLE_POLICY4) != 0,
			"disable_policy_ipv6", (v->flags & XB_IF_DISABLE_POLICY6) != 0,
			"netfilter_prerouting", (v->flags & (XB_IF_NF_PREROUTING4 |
							     XB_IF_NF_PREROUTING6)) != 0));
	}
	json_object_set_new(ifc, "vlans", vlans);
	json_object_set_new(ifc, "vlans_truncated",
			    json_boolean(cfg->flags & XB_IF_VLANS_TRUNCATED));
	json_object_set_new(ifc, "vlan_blind", json_boolean(cfg->flags & XB_IF_VLAN_BLIND));
}

/* The VLAN part of an interface's line. */
static void print_iface_vlans_text(json_t *i)
{
	json_t *vlans = json_object_get(i, "vlans"), *v;
	size_t k;

	if (json_is_true(json_object_get(i, "vlan_blind")))
		printf(", VLAN devices and tags that may be stripped before XDP (all its "
		       "packets pass: vlan)");
	json_array_foreach(vlans, k, v) {
		printf("%s%s (%s %lld", k ? ", " : ", VLAN devices ",
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "protocol")),
		       json_integer_value(json_object_get(v, "vid")));
		if (json_is_true(json_object_get(v, "stacked")))
			printf(", stacked");
		if (json_is_true(json_object_get(v, "tc_ingress")))
			printf(", tc filters");
		if (json_is_true(json_object_get(v, "netfilter_ingress")))
			printf(", netfilter ingress");
		if (json_is_true(json_object_get(v, "disable_policy_ipv4")) ||
		    json_is_true(json_object_get(v, "disable_policy_ipv6")))
			printf(", disable_policy");
		printf(")");
	}
	if (json_array_size(vlans))
		printf(": their tags decided as theirs");
	if (json_is_true(json_object_get(i, "vlans_truncated")))
		printf(", more VLAN devices than %d (their tags pass: vlan)", XB_MAX_IF_VLANS);
}

/* The attached devices, and what makes the datapath pass their packets. */
static json_t *interfaces_json(const struct xb_maps *maps)
{
	json_t *arr = json_array();
	struct xb_iface_cfg cfg;
	__u32 key, next, *prev = NULL;
	char name[IF_NAMESIZE];

	while (!bpf_map_get_next_key(maps->fd[XB_MAP_IFACES], prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(maps->fd[XB_MAP_IFACES], &key, &cfg))
			continue;
		if (!if_indextoname(key, name))
			snprintf(name, sizeof(name), "if%u", key);
		json_array_append_new(arr, json_pack("{s:s, s:I, s:b, s:b, s:b, s:b, s:b, s:b, "
						     "s:b, s:b}",
			"name", name, "ifindex", (json_int_t)key,
			"generic_xdp", (cfg.flags & XB_IF_GENERIC) != 0,
			"stacked", (cfg.flags & XB_IF_STACKED) != 0,
			"tc_ingress", (cfg.flags & XB_IF_TC_INGRESS) != 0,
			"netfilter_ingress", (cfg.flags & XB_IF_NF_INGRESS) != 0,
			"netfilter_prerouting_ipv4", (cfg.flags & XB_IF_NF_PREROUTING4) != 0,
			"netfilter_prerouting_ipv6", (cfg.flags & XB_IF_NF_PREROUTING6) != 0,
			"disable_policy_ipv4", (cfg.flags & XB_IF_DISABLE_POLICY4) != 0,
			"disable_policy_ipv6", (cfg.flags & XB_IF_DISABLE_POLICY6) != 0));
		iface_vlans_json(json_array_get(arr, json_array_size(arr) - 1), &cfg);
	}
	return arr;
}

static void print_interfaces_text(json_t *ifs)
{
	json_t *i;
	size_t k;

	json_array_foreach(ifs, k, i) {
		printf("%-12s %s", k ? "" : "interfaces:",
		       json_string_value(json_object_get(i, "name")));
		if (json_is_true(json_object_get(i, "generic_xdp")))
			printf(", skb-mode XDP (\"requires IPsec\" passes: generic_xdp)");
		if (json_is_true(json_object_get(i, "stacked")))
			printf(", stacked under another device (all its packets pass: "
			       "stacked_device)");
		if (json_is_true(json_object_get(i, "tc_ingress")))
			printf(", tc filters on ingress (all its packets pass: tc_ingress)");
		if (json_is_true(json_object_get(i, "netfilter_ingress")))
			printf(", netfilter hooks on ingress (all its packets pass: "
			       "netfilter_ingress)");
		if (json_is_true(json_object_get(i, "netfilter_prerouting_ipv4")) ||
		    json_is_true(json_object_get(i, "netfilter_prerouting_ipv6")))
			printf(", netfilter chains at prerouting (their family passes: "
			       "netfilter_prerouting)");
		if (json_is_true(json_object_get(i, "disable_policy_ipv4")) ||
		    json_is_true(json_object_get(i, "disable_policy_ipv6")))
			printf(", disable_policy");
		print_iface_vlans_text(i);
		putchar('\n');
	}
}

static void print_status_text(json_t *o)
{
	json_t *by = json_object_get(o, "policies_by_dir"), *def = json_object_get(o, "default");
	json_t *age = json_object_get(o, "heartbeat_age_ms");
	const char *dir;
	json_t *v;

	const char *reason = json_string_value(json_object_get(o, "unsynced_reason"));
	json_int_t max = json_integer_value(json_object_get(o, "max_policies"));

	if (!reason)
		printf("sync:        synced\n");
	else if (!strcmp(reason, "over_capacity"))
		printf("sync:        not synced: the SPD holds more policies than --max-policies "
		       "%lld; the datapath passes everything\n", max);
	else if (!strcmp(reason, "map_full"))
		printf("sync:        not synced: the map %s is full; the datapath passes everything\n",
		       json_string_value(json_object_get(o, "full_map")));
	else if (!strcmp(reason, "no_daemon"))
		printf("sync:        not synced (no daemon running: the datapath passes everything)\n");
	else if (!strcmp(reason, "heartbeat_stale"))
		printf("sync:        not synced (heartbeat stale: the datapath passes everything)\n");
	else
		printf("sync:        not synced (re-dumping: the datapath passes everything)\n");
	printf("daemon:      pid %lld%s\n", json_integer_value(json_object_get(o, "daemon_pid")),
	       json_is_true(json_object_get(o, "daemon_running")) ? "" : " (not running)");
	printf("generation:  %lld\n", json_integer_value(json_object_get(o, "generation")));
	printf("flow epoch:  %lld (routes, rules, addresses, device settings)\n",
	       json_integer_value(json_object_get(o, "flow_epoch")));
	if (json_is_integer(age))
		printf("heartbeat:   %lld ms ago (timeout %lld ms)%s\n", json_integer_value(age),
		       json_integer_value(json_object_get(o, "heartbeat_timeout_ms")),
		       json_is_true(json_object_get(o, "heartbeat_stale")) ?
		       ", stale to the datapath's watchdog" : "");
	else
		printf("heartbeat:   never\n");
	if (!strcmp(json_string_value(json_object_get(o, "spi_check")), "kernel"))
		printf("unknown SPI: dropped unless the kernel has the SA (bpf_xdp_get_xfrm_state)\n");
	else if (json_is_integer(json_object_get(o, "events_read_age_ms")))
		printf("unknown SPI: dropped once the events are read past its first packet "
		       "(read %lld ms ago)\n",
		       json_integer_value(json_object_get(o, "events_read_age_ms")));
	else
		printf("unknown SPI: passed until the daemon has read its events\n");
	if (json_is_true(json_object_get(o, "spd_watch")))
		printf("SPD changes: seen as they happen (kprobes): drops pass until the "
		       "change is read%s\n", json_is_true(json_object_get(o, "spd_changing")) ?
		       " (one is being read now)" : "");
	else
		printf("SPD changes: seen when the daemon reads them (no SPD watch)\n");
	printf("resyncs:     %lld\n", json_integer_value(json_object_get(o, "resyncs")));
	printf("bad netlink: %lld\n", json_integer_value(json_object_get(o, "nl_bad_msgs")));
	printf("policies:    %lld (at most %lld)\n", json_integer_value(json_object_get(o, "policies")),
	       max);
	json_object_foreach(by, dir, v)
		printf("  %-4s inet %lld, inet6 %lld\n", dir,
		       json_integer_value(json_object_get(v, "inet")),
		       json_integer_value(json_object_get(v, "inet6")));
	printf("SAs:         %lld\n", json_integer_value(json_object_get(o, "sas")));
	printf("xfrm links:  %lld\n", json_integer_value(json_object_get(o, "xfrm_links")));
	printf("defaults:    in %s, fwd %s, out %s\n",
	       json_string_value(json_object_get(def, "in")),
	       json_string_value(json_object_get(def, "fwd")),
	       json_string_value(json_object_get(def, "out")));
	print_interfaces_text(json_object_get(o, "interfaces"));
	print_shape_lists_text(json_object_get(o, "shape_lists"));
}

static int cmd_status(void *opts, int argc, char **argv, struct xb_global *g)
{
	struct xb_shape_list lists[XB_SHAPE_LISTS];
	struct xb_sync sync;
	struct xb_maps maps;
	json_t *o;
	int ret, err;

	(void)opts, (void)argc, (void)argv;
	ret = xb_open_maps(g, &maps);
	if (ret)
		return ret;
	err = xb_maps_read_sync(&maps, &sync);
	if (err) {
		xb_maps_close(&maps);
		return xb_error(g, XB_EXIT_FAIL, "couldn't read the sync record under %s: %s",
				g->pin_dir, strerror(-err));
	}
	xb_shape_lists_read(&maps, lists);
	o = status_json(&maps, &sync, lists);
	json_object_set_new(o, "shape_lists", shape_lists_json(lists));
	json_object_set_new(o, "interfaces", interfaces_json(&maps));
	if (g->json) {
		print_json(o);
	} else {
		print_status_text(o);
		json_decref(o);
	}
	xb_maps_close(&maps);
	return XB_EXIT_OK;
}

const struct xb_cmd xb_cmd_status = {
	.name = "status",
	.fn = cmd_status,
	.summary = "sync state, generation, heartbeat age, counts",
	.options = xb_common_options,
};
