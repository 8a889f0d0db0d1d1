// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What a crashed daemon left attached: found by ownership, removed. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/log.h"
#include "loader/attach.h"
#include "loader/iface_cfg.h"
#include "loader/owner.h"
#include "loader/tc.h"

int xb_dp_unload_iface(int ifindex, const struct xb_maps *maps,
		       struct xb_unload_result *res)
{
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *ours;
	struct xb_iface_cfg cfg = {};
	__u32 key = ifindex;
	int err = 0, e;

	memset(res, 0, sizeof(*res));
	xb_log_libs_quiet();
	ours = xb_dp_find_xdp(ifindex, maps, &mp);
	if (ours) {
		if (xdp_multiprog__is_legacy(mp))
			e = xdp_multiprog__detach(mp);
		else
			e = xdp_program__detach(ours, ifindex, xdp_multiprog__attach_mode(mp), 0);
		if (e)
			err = e;
		else
			res->xdp = true;
	}
	if (mp)
		xdp_multiprog__close(mp);
	xb_log_libs_loud();
	e = xb_tc_detach_ours(ifindex, xb_our_map_id(maps));
	if (!e)
		res->tc = true;
	else if (e != -ENOENT && !err)
		err = e;
	/* A collect_md device's: it is in no xb_ifaces entry, so whether we
	 * created its clsact is not known and the qdisc stays. */
	e = xb_tc_detach_slot(ifindex, BPF_TC_EGRESS, XB_TC_MD_PROG_NAME, xb_our_map_id(maps));
	if (!e)
		res->tc = true;
	else if (e != -ENOENT && !err)
		err = e;
	if (maps && !bpf_map_lookup_elem(maps->fd[XB_MAP_IFACES], &key, &cfg) &&
	    (cfg.flags & XB_IF_OWN_CLSACT) && xb_clsact_empty(ifindex)) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		res->clsact = !bpf_tc_hook_destroy(&hook);
	}
	xb_iface_forget(maps, ifindex);
	return err;
}
