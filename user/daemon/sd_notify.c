// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* systemd notifications (sd_notify.h). */
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include "daemon/sd_notify.h"
#include "lib/clock.h"
#include "lib/log.h"

/* A notification that cannot be sent costs the service its readiness or
 * its watchdog: say so once, and go on. */
static void sent(struct xb_sd *sd, int ret, const char *what)
{
	if (ret >= 0 || sd->failed_logged)
		return;
	sd->failed_logged = true;
	pr_warn("Couldn't notify systemd (%s): %s\n", what, strerror(-ret));
}

void xb_sd_init(struct xb_sd *sd, unsigned int heartbeat_ms)
{
	uint64_t usec = 0;

	sd->watchdog_usec = sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
	if (!sd->watchdog_usec)
		return;
	/* systemd advises petting at half the period at most. */
	if ((uint64_t)heartbeat_ms * 1000 * 2 > sd->watchdog_usec)
		pr_warn("The heartbeat (%u ms) is longer than half of the systemd watchdog "
			"(WatchdogSec=%llu ms): systemd may take the daemon for hung; lower "
			"heartbeat-ms\n", heartbeat_ms,
			(unsigned long long)(sd->watchdog_usec / 1000));
	else
		pr_debug("systemd watchdog: %llu ms, notified at each heartbeat (%u ms)\n",
			 (unsigned long long)(sd->watchdog_usec / 1000), heartbeat_ms);
}

void xb_sd_ready(struct xb_sd *sd)
{
	if (sd->ready)
		return;
	sd->ready = true;
	sent(sd, sd_notify(0, "READY=1"), "READY=1");
}

void xb_sd_status(struct xb_sd *sd, const char *line)
{
	if (!strcmp(sd->status, line))
		return;
	snprintf(sd->status, sizeof(sd->status), "%s", line);
	sent(sd, sd_notifyf(0, "STATUS=%s", line), "STATUS");
}

void xb_sd_watchdog(struct xb_sd *sd)
{
	if (sd->watchdog_usec)
		sent(sd, sd_notify(0, "WATCHDOG=1"), "WATCHDOG=1");
}

void xb_sd_reloading(struct xb_sd *sd)
{
	sent(sd, sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			    (unsigned long long)(xb_monotonic_ns() / 1000)), "RELOADING=1");
}

void xb_sd_reloaded(struct xb_sd *sd)
{
	sent(sd, sd_notify(0, "READY=1"), "READY=1");
}

void xb_sd_stopping(struct xb_sd *sd)
{
	sent(sd, sd_notify(0, "STOPPING=1"), "STOPPING=1");
}
