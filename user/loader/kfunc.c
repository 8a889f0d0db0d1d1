// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/btf.h>
#include "loader/kfunc.h"

/* bpf_skb_set_xfrm_info() exists (6.2+ with xfrm interfaces built in). */
static bool btf_has_func(const struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/*
 * bpf_skb_set_xfrm_info (6.2+) is registered by xfrm_interface, built in
 * (vmlinux BTF) or a module (its own BTF, split from vmlinux's); libbpf
 * resolves kfuncs in both.
 */
bool xb_have_xfrm_info_kfunc(void)
{
	static const char *const kfunc = "bpf_skb_set_xfrm_info";
	struct btf *vmlinux = btf__load_vmlinux_btf(), *mod;
	bool found;

	if (!vmlinux)
		return false;
	found = btf_has_func(vmlinux, kfunc);
	if (!found) {
		mod = btf__load_module_btf("xfrm_interface", vmlinux);
		found = btf_has_func(mod, kfunc);
		btf__free(mod);
	}
	btf__free(vmlinux);
	return found;
}
