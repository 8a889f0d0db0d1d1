/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The SPD watch (bpf/spd_watch.bpf.c): kprobes on the kernel's SPD
 * writers, so that the datapath passes what the maps would drop while
 * the kernel's SPD may be ahead of them (include/xfrmbpf/sync.h). The
 * daemon starts it once its XFRM socket is open (which loads xfrm_user,
 * whose handlers it probes) and checks it at every heartbeat.
 */
#ifndef XFRMBPF_SPD_WATCH_H
#define XFRMBPF_SPD_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct spd_watch;
struct bpf_link;
struct ring_buffer;
struct xb_maps;

#define XB_SPD_WATCH_MAX_LINKS	32

/* The writer count and the last return's stamp at the last check. */
struct xb_spd_writers_seen {
	__u64 writers;
	__u64 written_ns;
};

struct xb_spd_watch {
	struct spd_watch *skel;
	struct bpf_link *links[XB_SPD_WATCH_MAX_LINKS];
	struct ring_buffer *wake;	/* a writer returned */
	unsigned int n_links;
	unsigned int n_funcs;		/* kernel functions watched */
	struct xb_spd_writers_seen seen;
};

/* Attaches to every SPD writer the kernel has, then turns the watch on in
 * the sync record. Returns 0, or -errno with why filled when a writer
 * the mirror follows cannot be watched (the watch stays off). */
int xb_spd_watch_start(struct xb_spd_watch *w, struct xb_maps *maps, const char *pin_dir,
		       char *why, size_t len);
/* The descriptor that polls readable when a writer has returned, -1
 * without the watch; xb_spd_watch_woken() empties it. The daemon then
 * reads its XFRM socket, whose stamp (drained_ns) lets the datapath
 * trust the maps again. */
int xb_spd_watch_fd(const struct xb_spd_watch *w);
void xb_spd_watch_woken(struct xb_spd_watch *w);
/* A writer counted but never ended (one already running when the watch
 * was attached, or a missed return probe) would keep the datapath
 * passing: a count unchanged, with no writer returning, since the last
 * check (a heartbeat ago) is cleared. */
void xb_spd_watch_check(struct xb_spd_watch *w, struct xb_maps *maps);
/* That check on the sync record alone: true when it cleared a count. */
bool xb_spd_writers_repair(struct xb_spd_writers_seen *seen, struct xb_maps *maps);
/* Turns the watch off in the sync record, then detaches. */
void xb_spd_watch_stop(struct xb_spd_watch *w, struct xb_maps *maps);

#endif
