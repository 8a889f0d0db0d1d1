// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/btf.h>
#include "loader/kfunc.h"

/*
 * bpf_xdp_get_xfrm_state (Linux 6.8+) is built with XFRM itself
 * (net/xfrm/xfrm_state_bpf.c), so vmlinux BTF has it or nothing does.
 * The answer cannot change while the system runs: looked up once.
 */
bool xb_have_kernel_sa_lookup(void)
{
	static int found = -1;
	struct btf *vmlinux;

	if (found >= 0)
		return found;
	vmlinux = btf__load_vmlinux_btf();
	found = vmlinux && btf__find_by_name_kind(vmlinux, "bpf_xdp_get_xfrm_state",
						  BTF_KIND_FUNC) > 0;
	btf__free(vmlinux);
	return found;
}
