/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Kernel features the loader probes in BTF before loading programs. */
#ifndef XFRMBPF_KFUNC_H
#define XFRMBPF_KFUNC_H

#include <stdbool.h>

bool xb_have_xfrm_info_kfunc(void);

#endif
