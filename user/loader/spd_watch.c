// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "spd_watch.skel.h"
#include "lib/log.h"
#include "loader/maps.h"
#include "loader/spd_watch.h"
#include "loader/sync_record.h"

/*
 * The kernel functions that change the SPD of a namespace and queue the
 * notification the daemon reads before they return. The XFRM netlink
 * handlers run under the namespace's xfrm_cfg_mutex and are called
 * through xfrm_user's dispatch table, so none is inlined. PF_KEY's (racoon
 * and other IKE daemons of its kind) are watched where af_key is loaded
 * when the daemon starts; loaded later, its changes are covered as
 * without the watch, by the maps' publication alone.
 */
static const struct {
	const char *func;
	const char *module;	/* watched only where it is loaded */
} spd_writers[] = {
	{ "xfrm_add_policy", NULL },	/* XFRM_MSG_NEWPOLICY, UPDPOLICY */
	{ "xfrm_get_policy", NULL },	/* DELPOLICY (and GETPOLICY) */
	{ "xfrm_flush_policy", NULL },	/* FLUSHPOLICY */
	{ "xfrm_add_pol_expire", NULL },	/* POLEXPIRE from userspace: a hard one deletes */
	{ "xfrm_set_default", NULL },	/* SETDEFAULT */
	{ "xfrm_policy_timer", NULL },	/* a policy's lifetime: a hard expiry deletes */
	{ "pfkey_spdadd", "af_key" },	/* SADB_X_SPDADD, SPDUPDATE */
	{ "pfkey_spddelete", "af_key" },
	{ "pfkey_spdget", "af_key" },	/* SADB_X_SPDDELETE2 */
	{ "pfkey_spdflush", "af_key" },
};

_Static_assert(2 * sizeof(spd_writers) / sizeof(spd_writers[0]) <= XB_SPD_WATCH_MAX_LINKS,
	       "links: two per writer");

/* Kprobes as libbpf creates them: the perf PMU, else tracefs's
 * kprobe_events (where tracefs is mounted). Asked first, so that a
 * kernel without them gets one line instead of libbpf's errors. */
static bool have_kprobes(void)
{
	static const char *const paths[] = {
		"/sys/bus/event_source/devices/kprobe/type",
		"/sys/kernel/tracing/kprobe_events",
		"/sys/kernel/debug/tracing/kprobe_events",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!access(paths[i], F_OK))
			return true;
	return false;
}

/* The records say nothing but "a writer returned". */
static int ignore_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

static bool module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return !access(path, F_OK);
}

static void detach_all(struct xb_spd_watch *w)
{
	while (w->n_links)
		bpf_link__destroy(w->links[--w->n_links]);
	w->n_funcs = 0;
}

/* The return first: a call already running when the entry probe comes
 * then ends as a writer that never began, which the count shows as
 * running (not as gone) until xb_spd_watch_check() clears it. */
static int attach_writer(struct xb_spd_watch *w, const char *func)
{
	struct bpf_link *end, *begin;
	int err;

	end = bpf_program__attach_kprobe(w->skel->progs.xb_spd_write_end, true, func);
	if (!end)
		return -errno;
	begin = bpf_program__attach_kprobe(w->skel->progs.xb_spd_write_begin, false, func);
	if (!begin) {
		err = -errno;
		bpf_link__destroy(end);
		return err;
	}
	w->links[w->n_links++] = end;
	w->links[w->n_links++] = begin;
	w->n_funcs++;
	return 0;
}

int xb_spd_watch_start(struct xb_spd_watch *w, struct xb_maps *maps, const char *pin_dir,
		       char *why, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	size_t i;
	int err;

	memset(w, 0, sizeof(*w));
	xb_sync_set_spd_watch(maps, false);
	if (!have_kprobes()) {
		snprintf(why, len, "this kernel has no kprobes");
		return -EOPNOTSUPP;
	}
	w->skel = spd_watch__open_opts(&opts);
	if (!w->skel) {
		err = -errno;
		snprintf(why, len, "couldn't open the watch's object: %s", strerror(-err));
		return err;
	}
	err = spd_watch__load(w->skel);
	if (err) {
		snprintf(why, len, "couldn't load the kprobes: %s", strerror(-err));
		goto fail;
	}
	for (i = 0; i < sizeof(spd_writers) / sizeof(spd_writers[0]); i++) {
		if (spd_writers[i].module && !module_loaded(spd_writers[i].module))
			continue;
		err = attach_writer(w, spd_writers[i].func);
		if (err) {
			snprintf(why, len, "couldn't attach a kprobe to %s: %s",
				 spd_writers[i].func, strerror(-err));
			goto fail;
		}
	}
	w->wake = ring_buffer__new(bpf_map__fd(w->skel->maps.xb_spd_wake), ignore_record,
				   NULL, NULL);
	if (!w->wake) {
		err = -errno;
		snprintf(why, len, "couldn't read its ring buffer: %s", strerror(-err));
		goto fail;
	}
	xb_sync_set_spd_watch(maps, true);
	return 0;
fail:
	detach_all(w);
	spd_watch__destroy(w->skel);
	w->skel = NULL;
	return err;
}

int xb_spd_watch_fd(const struct xb_spd_watch *w)
{
	return w->wake ? ring_buffer__epoll_fd(w->wake) : -1;
}

void xb_spd_watch_woken(struct xb_spd_watch *w)
{
	if (w->wake)
		ring_buffer__consume(w->wake);
}

bool xb_spd_writers_repair(struct xb_spd_writers_seen *seen, struct xb_maps *maps)
{
	__u64 writers, written_ns;
	bool cleared = false;

	writers = xb_sync_spd_writers(maps, &written_ns);
	/* the compare-and-swap: a writer that began or ended since the
	 * read keeps its count */
	if (writers && writers == seen->writers && written_ns == seen->written_ns &&
	    xb_sync_clear_spd_writers(maps, writers)) {
		pr_warn("SPD watch: cleared a writer count of %lld that no return followed\n",
			(long long)writers);
		writers = 0;
		cleared = true;
	}
	seen->writers = writers;
	seen->written_ns = written_ns;
	return cleared;
}

void xb_spd_watch_check(struct xb_spd_watch *w, struct xb_maps *maps)
{
	if (w->skel)
		xb_spd_writers_repair(&w->seen, maps);
}

void xb_spd_watch_stop(struct xb_spd_watch *w, struct xb_maps *maps)
{
	if (!w->skel)
		return;
	if (maps->sync)
		xb_sync_set_spd_watch(maps, false);
	detach_all(w);
	ring_buffer__free(w->wake);
	w->wake = NULL;
	spd_watch__destroy(w->skel);
	w->skel = NULL;
}
