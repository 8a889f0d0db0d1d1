/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Kernel functions the loader looks for in BTF before it loads the
 * datapath. */
#ifndef XFRMBPF_KFUNC_H
#define XFRMBPF_KFUNC_H

#include <stdbool.h>

/* bpf_xdp_get_xfrm_state(): the kernel's inbound SA lookup from XDP. */
bool xb_have_kernel_sa_lookup(void);
/* bpf_skb_set_xfrm_info(): the if_id of a collect_md xfrm device from tc,
 * which steering through that device needs. */
bool xb_have_skb_set_xfrm_info(void);

#endif
