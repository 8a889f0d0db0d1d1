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

/* Does btf (vmlinux, or a module's split on it) define kfunc name? */
static bool btf_has_func(const struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/*
 * bpf_skb_set_xfrm_info (Linux 6.2+) is defined by the xfrm_interface
 * code: in vmlinux when that is built in, else in the module's BTF, which
 * exists only while the module is loaded (any xfrm interface loads it).
 * Not cached: a later datapath may find the module loaded.
 */
bool xb_have_skb_set_xfrm_info(void)
{
	static const char kfunc[] = "bpf_skb_set_xfrm_info";
	struct btf *vmlinux, *module = NULL;
	bool found;

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return false;
	found = btf_has_func(vmlinux, kfunc);
	if (!found) {
		module = btf__parse_split("/sys/kernel/btf/xfrm_interface", vmlinux);
		found = btf_has_func(module, kfunc);
	}
	btf__free(module);
	btf__free(vmlinux);
	return found;
}
