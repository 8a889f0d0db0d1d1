/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The XDP program through libxdp: in a dispatcher shared with other
 * programs when the kernel allows freplace, otherwise attached alone; a
 * foreign program attached without a dispatcher is never replaced.
 */
#ifndef XFRMBPF_XDP_H
#define XFRMBPF_XDP_H

#include "loader/attach.h"

int xb_xdp_attach(struct xb_datapath *dp, struct xb_dp_iface *ifc, enum xb_xdp_mode want);
void xb_xdp_detach(struct xb_datapath *dp, struct xb_dp_iface *ifc);

#endif
