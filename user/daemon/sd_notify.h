/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's side of systemd's Type=notify protocol, through libsystemd
 * (sd_notify(3)): READY=1 once the first full sync and the initial attach
 * are done, STATUS= when its line changes, WATCHDOG=1 at the heartbeat when
 * the unit has a watchdog, RELOADING=1 and READY=1 around a reload,
 * STOPPING=1 at shutdown. Without NOTIFY_SOCKET every call does nothing.
 */
#ifndef XFRMBPF_SD_NOTIFY_H
#define XFRMBPF_SD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct xb_sd {
	bool ready;		/* READY=1 sent */
	bool failed_logged;
	uint64_t watchdog_usec;	/* WatchdogSec= for this process, or 0 */
	char status[256];	/* the last STATUS= sent */
};

/* Reads whether a watchdog is set for this process (WATCHDOG_USEC and
 * WATCHDOG_PID) and warns when the heartbeat is too slow for it. */
void xb_sd_init(struct xb_sd *sd, unsigned int heartbeat_ms);
/* READY=1, the first time only. */
void xb_sd_ready(struct xb_sd *sd);
/* STATUS=line, when it differs from the last one sent. */
void xb_sd_status(struct xb_sd *sd, const char *line);
/* WATCHDOG=1 when a watchdog is set. */
void xb_sd_watchdog(struct xb_sd *sd);
/* RELOADING=1 with MONOTONIC_USEC= (systemd 253 and later want it). */
void xb_sd_reloading(struct xb_sd *sd);
/* READY=1 after a reload. */
void xb_sd_reloaded(struct xb_sd *sd);
void xb_sd_stopping(struct xb_sd *sd);

#endif
