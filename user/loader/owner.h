/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which programs are ours: by name prefix, and (given our maps) by using our
 * xb_sync, so that two xfrmbpf instances on other pin directories, or any
 * other program, are never taken for ours.
 */
#ifndef XFRMBPF_OWNER_H
#define XFRMBPF_OWNER_H

#include <stdbool.h>
#include <xdp/libxdp.h>
#include "loader/maps.h"

/* The map id of our xb_sync, 0 without maps (then any instance counts). */
__u32 xb_our_map_id(const struct xb_maps *maps);
/* Program prog_id is named prefix* and uses map want_map (0: any). */
bool xb_prog_is_ours(__u32 prog_id, const char *prefix, __u32 want_map);

#endif
