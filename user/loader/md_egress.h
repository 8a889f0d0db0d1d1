/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xb_tc_md_egress on clsact egress of the collect_md xfrm device: the half
 * of steering that sets the if_id of the packets steered into that device
 * (bpf/md_egress.bpf.h). It follows the device the mirror knows (key 0 of
 * xb_xfrm_links), which may appear after the datapath started or be
 * re-created with another ifindex, and tells the ingress program where it
 * runs (xb_md_egress_ifindex): only then is the device a steering target.
 */
#ifndef XFRMBPF_MD_EGRESS_H
#define XFRMBPF_MD_EGRESS_H

struct xb_datapath;

/* Attach to the current collect_md device, moving from a previous one or
 * detaching when there is none; re-attach when our filter went missing.
 * Nothing when the program is not loaded (no --steer, or a kernel without
 * bpf_skb_set_xfrm_info). */
void xb_md_egress_sync(struct xb_datapath *dp);
/* The device stops being a target, then our filter goes (and the clsact
 * qdisc when we created it and it is empty). */
void xb_md_egress_detach(struct xb_datapath *dp);

#endif
