/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The sync record (xb_sync, a one-entry mmapable array). It is how the
 * mirror tells the datapath whether its state may be trusted.
 *
 * Publication is a sequence count: the mirror makes seq odd, writes its
 * changes to the maps, then makes seq even again and bumps generation.
 * The datapath reads seq before and after its lookups and acts on them
 * only when both reads are the same even value; otherwise the packet goes
 * to the kernel (pass_publishing). A packet therefore never acts on half
 * of an update. Verdicts are cached only when so computed, tagged with
 * their generation: a cached verdict is that of one whole SPD, and may be
 * used while the next publication runs (the packet sees the old SPD).
 */
#ifndef XFRMBPF_SYNC_H
#define XFRMBPF_SYNC_H

#include <linux/bpf.h>
#include <linux/types.h>

/* default_action[] values, as the kernel's XFRM_USERPOLICY_*. */
enum {
	XB_DEFAULT_ACCEPT = 0,
	XB_DEFAULT_BLOCK = 1,
};

struct xb_sync {
	__u64 seq;			/* odd while a publication runs */
	__u64 generation;		/* finished publications */
	__u64 heartbeat_ns;		/* CLOCK_MONOTONIC of the last beat */
	__u64 heartbeat_timeout_ns;	/* older than this: fail open */
	__u64 started_ns;		/* CLOCK_MONOTONIC at daemon start */
	__u32 synced;			/* 1: the maps equal the kernel */
	__u32 daemon_pid;
	__u32 resyncs;			/* full re-dumps (after ENOBUFS) */
	__u32 nl_bad_msgs;		/* malformed messages skipped */
	__u32 n_policies;
	__u32 n_sas;
	__u32 n_xfrm_links;
	__u32 shape_overflows;		/* shape lists undecidable as a whole */
	/* Indexed by XFRM_POLICY_IN/OUT/FWD: the kernel's default for
	 * packets no policy matches (XFRM_MSG_GETDEFAULT). */
	__u8 default_action[4];
	/* Bumped when something the XDP verdict of a cached flow depends on
	 * changes outside a publication: routes, rules and addresses (local
	 * or forwarded), device settings, bypass ports. */
	__u32 flow_epoch;
	/* Set by the watchdog timer (bpf/watchdog.bpf.h) when the heartbeat
	 * is older than its timeout, cleared by it or by the next beat: the
	 * datapath then fails open without reading a clock per packet. */
	__u32 heartbeat_stale;
	/* Why synced is 0, when the daemon knows (XB_UNSYNCED_*). In what
	 * was padding: the record keeps its size. */
	__u32 unsynced_reason;
	/* CLOCK_MONOTONIC taken before the daemon last read its XFRM event
	 * socket empty and published what it read: every SA the kernel
	 * installed before this time is in the maps. The datapath drops an
	 * SPI the maps lack only when its first packet came before this
	 * (bpf/spi.bpf.h). */
	__u64 drained_ns;
	/*
	 * The kernel's own SPD writers, seen by kprobes the daemon attaches
	 * (bpf/spd_watch.bpf.c): the XFRM netlink handlers that change
	 * policies or the defaults, and the policy lifetime timer. Each adds
	 * one to spd_writers on entry; on return it stores spd_written_ns,
	 * then takes its one away. The notification of a change is queued
	 * before its handler returns, so once no writer runs and
	 * spd_written_ns is older than drained_ns, every change the kernel
	 * made is in the maps. Until then the datapath passes what the maps'
	 * SPD would drop (pass_spd_changing): for a moment after a block
	 * policy is deleted, the kernel lets through what the maps still
	 * block. spd_watch is 1 while the kprobes are attached; 0 (a kernel
	 * without kprobes), the maps are trusted as soon as published, and
	 * the daemon's event lag is not covered.
	 */
	__u64 spd_writers;
	__u64 spd_written_ns;
	__u32 spd_watch;
	__u32 spd_watch_pad;
};

/* unsynced_reason values. */
enum {
	XB_UNSYNCED_NONE = 0,		/* synced, or no reason recorded */
	/* The kernel SPD holds more policies than the maps were sized for
	 * (`run --max-policies`): the mirror is incomplete, the datapath
	 * passes everything until the SPD fits again. */
	XB_UNSYNCED_OVER_CAPACITY = 1,
	/* A map refused a new entry because it was full: what it lacks is
	 * lost, so the datapath passes everything until the mirror is
	 * rebuilt on empty maps and fits. XB_UNSYNCED_MAP_FULL + the map's
	 * index in XB_PINNED_MAPS (user/loader/maps.h) names the map. */
	XB_UNSYNCED_MAP_FULL = 0x100,
};

/* Value of xb_watchdog: the timer that checks the heartbeat. */
struct xb_watchdog {
	struct bpf_timer timer;
};

/* How often the watchdog looks: a tenth of the timeout, within bounds,
 * so that a dead daemon is noticed at most 10% after its timeout. */
#define XB_WATCHDOG_MIN_PERIOD_NS	(10ULL * 1000 * 1000)
#define XB_WATCHDOG_MAX_PERIOD_NS	(100ULL * 1000 * 1000)

#endif
