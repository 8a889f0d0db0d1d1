/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The TC steering program: one filter with our handle and priority on
 * clsact ingress. We detach only a filter that is ours and delete the
 * clsact qdisc only when we created it and nothing else is on it.
 */
#ifndef XFRMBPF_TC_H
#define XFRMBPF_TC_H

#include <stdbool.h>
#include "loader/attach.h"

int xb_tc_attach(struct xb_datapath *dp, struct xb_dp_iface *ifc);
void xb_tc_detach(struct xb_datapath *dp, struct xb_dp_iface *ifc);
/* Our filter on ifindex (using map want_map, 0: any instance's); -ENOENT
 * when there is none. */
int xb_tc_detach_ours(int ifindex, __u32 want_map);
/* No filter at all on either clsact hook of ifindex. */
bool xb_clsact_empty(int ifindex);

#endif
