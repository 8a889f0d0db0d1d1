/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Follows what the cached XDP verdicts depend on besides the mirrored
 * state: routes, policy rules, addresses, devices and the forwarding
 * settings. Any such change makes every cached flow stale.
 */
#ifndef XFRMBPF_ROUTE_WATCH_H
#define XFRMBPF_ROUTE_WATCH_H

#include "loader/maps.h"

/* A NETLINK_ROUTE socket on the route, rule, address, link and netconf
 * groups of the current netns; returns its fd (non-blocking) or -errno. */
int xb_route_watch_open(void);
/* Drain the socket; if anything arrived (or was lost), bump the flow
 * epoch. Returns 0 or -errno. */
int xb_route_watch_read(int fd, const struct xb_maps *maps);

#endif
