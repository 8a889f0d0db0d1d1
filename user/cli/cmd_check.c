// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xfrmbpf check`: dump the kernel's SPD, SAD and defaults now and compare
 * them with what the daemon published. The daemon may be publishing the
 * very change being compared, so a drift is confirmed by a few re-reads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/xfrm.h>
#include <jansson.h>
#include "cli/cli.h"
#include "mirror/mirror.h"
#include "netlink/nl.h"
#include "cli/show.h"
#include "mirror/snapshot.h"
#include "netlink/xfrm_names.h"

#define CHECK_TRIES	10
#define CHECK_RETRY_US	200000

struct drift {
	json_t *diffs;		/* array of strings */
};

static void add_diff(struct drift *d, const char *what, json_t *kernel, json_t *mirror)
{
	size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	char *k = kernel ? json_dumps(kernel, flags) : NULL;
	char *m = mirror ? json_dumps(mirror, flags) : NULL;
	char line[4096];

	snprintf(line, sizeof(line), "%s\n  kernel: %s\n  mirror: %s", what,
		 k ? k : "(none)", m ? m : "(none)");
	json_array_append_new(d->diffs, json_string(line));
	free(k);
	free(m);
}

static int apply_event(const struct xb_event *ev, void *data)
{
	return xb_mirror_apply(data, ev);
}

static int dump_kernel(struct xb_mirror *kernel)
{
	struct xb_nl nl;
	int err, tries = 0;

	err = xb_nl_open(&nl);
	if (err)
		return err;
	do {
		xb_mirror_mark_unseen(kernel);
		err = xb_nl_dump(&nl, false, apply_event, kernel);
		if (!err)
			xb_mirror_sweep_unseen(kernel);
	} while (err == -EINTR && ++tries < 5);
	xb_nl_close(&nl);
	return err;
}

/* Policies are equal when every field the kernel has is equal. */
static json_t *policy_cmp_json(const struct xb_policy *p, const struct xb_tmpl *t)
{
	json_t *o = xb_policy_json(p, t, NULL);

	json_object_del(o, "id");
	json_object_del(o, "pos");
	return o;
}

/*
 * One entry as the kernel has it (kj) and as the mirror has it (mj), either
 * NULL when that side has none; differs says whether two present entries
 * differ. Takes the references.
 */
static void compare_entry(struct drift *d, const char *kind, json_t *kj, json_t *mj,
			  bool differs)
{
	char what[64];

	if (!kj)
		snprintf(what, sizeof(what), "%s only in the mirror", kind);
	else if (!mj)
		snprintf(what, sizeof(what), "%s missing from the mirror", kind);
	else
		snprintf(what, sizeof(what), "%s differs", kind);
	if (!kj || !mj || differs)
		add_diff(d, what, kj, mj);
	json_decref(kj);
	json_decref(mj);
}

static json_t *kernel_policy_json(const struct xb_mirror *kernel, __u32 id)
{
	const struct xb_mirror_full *f = xb_mirror_policy_full(kernel, id);

	return policy_cmp_json(&f->pol, f->tmpls);
}

/* Every mirrored entry is looked up in the kernel's and marked seen there;
 * what stays unseen is missing from the mirror. */
static void compare_policies(struct xb_mirror *kernel, const struct xb_snapshot *snap,
			     struct drift *d)
{
	struct xb_mirror_policy *kp;
	json_t *kj, *mj;
	size_t i;
	__u32 id;

	xb_mirror_mark_unseen(kernel);
	for (i = 0; i < snap->n_policies; i++) {
		const struct xb_snap_policy *sp = &snap->policies[i];

		kp = xb_mirror_policy_find(kernel, sp->pol.index);
		if (kp)
			kp->seen = true;
		kj = kp ? kernel_policy_json(kernel, xb_mirror_policy_id(kernel, kp)) : NULL;
		mj = policy_cmp_json(&sp->pol, sp->tmpls);
		compare_entry(d, "policy", kj, mj, kj && !json_equal(kj, mj));
	}
	xb_mirror_for_each_policy(kernel, id)
		if (!kernel->slots[id].seen)
			compare_entry(d, "policy", kernel_policy_json(kernel, id), NULL, true);
}

static void compare_sas(struct xb_mirror *kernel, const struct xb_snapshot *snap,
			struct drift *d)
{
	struct xb_mirror_sa *ks;
	struct xb_hnode *n, *tmp;
	json_t *kj;
	size_t i;

	xb_mirror_mark_unseen(kernel);
	for (i = 0; i < snap->n_sas; i++) {
		const struct xb_snap_sa *ss = &snap->sas[i];

		ks = xb_mirror_sa_find(kernel, &ss->key);
		if (ks)
			ks->seen = true;
		kj = ks ? xb_sa_json(&ks->key, &ks->sa) : NULL;
		compare_entry(d, "SA", kj, xb_sa_json(&ss->key, &ss->sa),
			      ks && memcmp(&ks->sa, &ss->sa, sizeof(ks->sa)));
	}
	xb_htab_for_each(&kernel->sas, n, tmp, i) {
		ks = xb_container_of(n, struct xb_mirror_sa, node);
		if (!ks->seen)
			compare_entry(d, "SA", xb_sa_json(&ks->key, &ks->sa), NULL, true);
	}
}

static void compare_defaults(const struct xb_mirror *kernel, const struct xb_snapshot *snap,
			     struct drift *d)
{
	static const unsigned int dirs[] = { XFRM_POLICY_IN, XFRM_POLICY_FWD, XFRM_POLICY_OUT };
	size_t i;

	for (i = 0; i < 3; i++) {
		unsigned int dir = dirs[i];
		json_t *k, *m;
		char what[64];

		if (kernel->default_action[dir] == snap->sync.default_action[dir])
			continue;
		k = json_string(xb_default_name(kernel->default_action[dir]));
		m = json_string(xb_default_name(snap->sync.default_action[dir]));

		snprintf(what, sizeof(what), "default policy for %s differs", xb_dir_name(dir));
		add_diff(d, what, k, m);
		json_decref(k);
		json_decref(m);
	}
}

/* One comparison; returns the number of differences or -errno. */
static int check_once(const struct xb_maps *maps, struct drift *d, __u64 *generation)
{
	struct xb_mirror kernel;
	struct xb_snapshot snap;
	int err;

	/* The whole SPD, also when the maps hold fewer (over capacity). */
	err = xb_mirror_init(&kernel, NULL, XB_MAX_POLICIES_LIMIT);
	if (err)
		return err;
	err = xb_snapshot_read(maps, &snap);
	if (!err)
		err = dump_kernel(&kernel);
	if (!err) {
		*generation = snap.sync.generation;
		if (!snap.sync.synced && snap.sync.unsynced_reason == XB_UNSYNCED_OVER_CAPACITY)
			json_array_append_new(d->diffs, json_sprintf("the mirror is not synced "
				"(the SPD holds more policies than --max-policies %u)",
				maps->max_policies));
		else if (!snap.sync.synced && snap.sync.unsynced_reason >= XB_UNSYNCED_MAP_FULL &&
			 snap.sync.unsynced_reason - XB_UNSYNCED_MAP_FULL < XB_MAP_COUNT)
			json_array_append_new(d->diffs, json_sprintf("the mirror is not synced "
				"(the map %s is full)",
				xb_map_names[snap.sync.unsynced_reason - XB_UNSYNCED_MAP_FULL]));
		else if (!snap.sync.synced)
			json_array_append_new(d->diffs, json_string("the mirror is not synced "
				"(daemon starting, re-dumping, or not running)"));
		compare_policies(&kernel, &snap, d);
		compare_sas(&kernel, &snap, d);
		compare_defaults(&kernel, &snap, d);
		err = json_array_size(d->diffs);
	}
	xb_snapshot_free(&snap);
	xb_mirror_fini(&kernel);
	return err;
}

static void print_result(const struct xb_global *g, json_t *diffs)
{
	size_t i;
	json_t *v;

	if (g->json) {
		json_t *o = json_pack("{s:b, s:O}", "in_sync", !json_array_size(diffs),
				      "differences", diffs);

		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		return;
	}
	if (!json_array_size(diffs)) {
		printf("in sync\n");
		return;
	}
	json_array_foreach(diffs, i, v)
		printf("%s\n", json_string_value(v));
	printf("drift: %zu difference(s)\n", json_array_size(diffs));
}

static int cmd_check(void *opts, int argc, char **argv, struct xb_global *g)
{
	struct drift d = {};
	struct xb_maps maps;
	__u64 gen = 0, prev_gen = ~0ull;
	int ret, tries;

	(void)opts, (void)argc, (void)argv;
	if (!xb_have_privileges(g))
		return XB_EXIT_ENV;
	ret = xb_open_maps(g, &maps);
	if (ret)
		return ret;
	for (tries = 0; tries < CHECK_TRIES; tries++) {
		json_decref(d.diffs);
		d.diffs = json_array();
		ret = check_once(&maps, &d, &gen);
		if (ret <= 0)
			break;
		/* A drift seen twice against the same generation is real. */
		if (gen == prev_gen)
			break;
		prev_gen = gen;
		usleep(CHECK_RETRY_US);
	}
	xb_maps_close(&maps);
	if (ret < 0) {
		json_decref(d.diffs);
		return xb_error(g, XB_EXIT_FAIL, "couldn't compare with the kernel: %s",
				strerror(-ret));
	}
	print_result(g, d.diffs);
	json_decref(d.diffs);
	return ret ? XB_EXIT_FAIL : XB_EXIT_OK;
}

const struct xb_cmd xb_cmd_check = {
	.name = "check",
	.fn = cmd_check,
	.summary = "compare the mirror with the kernel now; exit 1 on drift",
	.options = xb_common_options,
};
