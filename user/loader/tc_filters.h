/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Other tc classifiers on a device's ingress: filters on its clsact or
 * ingress qdisc (u32, flower, matchall, bpf, ... with actions such as
 * pedit, skbedit, mirred, nat or drop) and tcx ingress programs. They run
 * between XDP and the kernel's XFRM lookup and may rewrite, redirect,
 * re-mark or drop any packet. Our own steering filter (user/loader/tc.h:
 * our priority and handle, a program of ours) is not one of them.
 */
#ifndef XFRMBPF_TC_FILTERS_H
#define XFRMBPF_TC_FILTERS_H

#include <stdbool.h>
#include <linux/types.h>

/* 1 when ifindex has an ingress classifier that is not ours, 0 when not,
 * or -errno. ours_attached: our steering filter is on the device (only
 * then is a filter at our priority and handle ours); our_map: the map id
 * its program uses (xb_our_map_id(), 0: any xfrmbpf instance's). */
int xb_tc_ingress_others(int ifindex, bool ours_attached, __u32 our_map);

#endif
