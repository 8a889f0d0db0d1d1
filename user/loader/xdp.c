// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/log.h"
#include "loader/owner.h"
#include "loader/xdp.h"

static const char *xdp_err_str(int err, char *buf, size_t len)
{
	if (libxdp_strerror(err, buf, len))
		snprintf(buf, len, "%s", strerror(-err));
	return buf;
}

static const char *mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "unspecified";
	}
}

struct xdp_program *xb_dp_find_xdp(int ifindex, const struct xb_maps *maps,
				   struct xdp_multiprog **mpp)
{
	struct xdp_program *p = NULL;
	struct xdp_multiprog *mp;
	__u32 want = xb_our_map_id(maps);

	*mpp = NULL;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!mp || libxdp_get_error(mp))
		return NULL;
	*mpp = mp;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && xb_prog_is_ours(xdp_program__id(p), XB_XDP_PROG_NAME, want))
			return p;
		return NULL;
	}
	while ((p = xdp_multiprog__next_prog(p, mp)))
		if (xb_prog_is_ours(xdp_program__id(p), XB_XDP_PROG_NAME, want))
			return p;
	return NULL;
}

/* Clear the way: our own program left by a crashed daemon is removed; a
 * foreign program attached without a dispatcher is never replaced. */
static int xdp_prepare(struct xb_datapath *dp, struct xb_dp_iface *ifc,
		       enum xdp_attach_mode *existing)
{
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *ours, *main_prog;
	char buf[128];
	int err = 0;

	*existing = XDP_MODE_UNSPEC;
	ours = xb_dp_find_xdp(ifc->ifindex, dp->maps, &mp);
	if (!mp)
		return 0;
	if (ours) {
		pr_info("%s: removing the XDP program a previous xfrmbpf left\n", ifc->name);
		if (xdp_multiprog__is_legacy(mp))
			err = xdp_multiprog__detach(mp);
		else
			err = xdp_program__detach(ours, ifc->ifindex,
						  xdp_multiprog__attach_mode(mp), 0);
		xdp_multiprog__close(mp);
		if (err)
			snprintf(dp->err, sizeof(dp->err),
				 "Couldn't remove a stale xfrmbpf XDP program from %s: %s",
				 ifc->name, xdp_err_str(err, buf, sizeof(buf)));
		return err ? err : xdp_prepare(dp, ifc, existing);
	}
	main_prog = xdp_multiprog__main_prog(mp);
	if (xdp_multiprog__is_legacy(mp) && main_prog) {
		snprintf(dp->err, sizeof(dp->err),
			 "Couldn't attach XDP to %s: program '%s' (id %u) is attached without "
			 "the libxdp dispatcher; xfrmbpf does not replace it", ifc->name,
			 xdp_program__name(main_prog), xdp_program__id(main_prog));
		err = -EBUSY;
	} else if (main_prog) {
		*existing = xdp_multiprog__attach_mode(mp);
	}
	xdp_multiprog__close(mp);
	return err;
}

int xb_xdp_attach(struct xb_datapath *dp, struct xb_dp_iface *ifc,
		      enum xb_xdp_mode want)
{
	enum xdp_attach_mode existing, mode;
	struct xdp_multiprog *mp;
	char buf[128];
	int err, native_err = 0;

	err = xdp_prepare(dp, ifc, &existing);
	if (err)
		return err;
	if (want == XB_XDP_MODE_SKB || (want == XB_XDP_MODE_AUTO && existing == XDP_MODE_SKB))
		mode = XDP_MODE_SKB;
	else
		mode = XDP_MODE_NATIVE;
	/* Multi-buffer aware (BPF_F_XDP_HAS_FRAGS), so that devices whose MTU
	 * takes more than one buffer (jumbo frames) accept the program and
	 * libxdp builds a frags-aware dispatcher. The object's xdp.frags
	 * section sets the flag only when libbpf loads it, after libxdp has
	 * read the program's flags: set it on the program before the first
	 * attach loads it. */
	if (!xdp_program__xdp_frags_support(dp->xdp)) {
		err = xdp_program__set_xdp_frags_support(dp->xdp, true);
		if (err)
			pr_warn("%s: couldn't mark the XDP program multi-buffer aware (%s); "
				"devices with jumbo MTUs may refuse it\n", ifc->name,
				xdp_err_str(err, buf, sizeof(buf)));
	}
	xb_log_libs_quiet();
	err = xdp_program__attach(dp->xdp, ifc->ifindex, mode, 0);
	if (err && want == XB_XDP_MODE_AUTO && mode == XDP_MODE_NATIVE) {
		native_err = err;
		mode = XDP_MODE_SKB;
		err = xdp_program__attach(dp->xdp, ifc->ifindex, mode, 0);
	}
	xb_log_libs_loud();
	if (err) {
		snprintf(dp->err, sizeof(dp->err), "Couldn't attach XDP to %s: %s", ifc->name,
			 xdp_err_str(err, buf, sizeof(buf)));
		return err;
	}
	if (native_err)
		pr_warn("%s: native XDP refused (%s); attached in skb (generic) mode\n",
			ifc->name, xdp_err_str(native_err, buf, sizeof(buf)));
	ifc->xdp = true;
	ifc->mode = mode;
	mp = xdp_multiprog__get_from_ifindex(ifc->ifindex);
	if (mp && !libxdp_get_error(mp)) {
		ifc->legacy = xdp_multiprog__is_legacy(mp);
		xdp_multiprog__close(mp);
	}
	pr_info("%s: XDP attached in %s mode%s\n", ifc->name, mode_name(mode),
		ifc->legacy ? " without the libxdp dispatcher (not usable here): "
			      "no other XDP program can share this device" : " (libxdp dispatcher)");
	return 0;
}

void xb_xdp_detach(struct xb_datapath *dp, struct xb_dp_iface *ifc)
{
	char buf[128];
	int err;

	if (!ifc->xdp)
		return;
	xb_log_libs_quiet();
	err = xdp_program__detach(dp->xdp, ifc->ifindex, ifc->mode, 0);
	xb_log_libs_loud();
	if (err)
		pr_warn("Couldn't detach XDP from %s: %s\n", ifc->name,
			xdp_err_str(err, buf, sizeof(buf)));
	ifc->xdp = false;
}
