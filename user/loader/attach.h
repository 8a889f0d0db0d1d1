/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Attaching the datapath: the XDP program through libxdp (dispatcher when
 * the kernel allows it, else as the device's only program), the TC steering
 * program on clsact ingress with our own handle and priority, and the
 * per-interface settings in xb_ifaces. Also finds and removes what a
 * crashed daemon left behind (`xfrmbpf unload`).
 */
#ifndef XFRMBPF_ATTACH_H
#define XFRMBPF_ATTACH_H

#include <stdbool.h>
#include <net/if.h>
#include <xdp/libxdp.h>
#include "loader/maps.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/limits.h"

/* Our TC filters (clsact ingress of NICs, egress of the collect_md
 * device): "xb". */
#define XB_TC_HANDLE		0x7862
#define XB_TC_PRIORITY		0x7862
/* Where the XDP program runs in a libxdp dispatcher (lower runs first):
 * early drops save the programs after it the work. */
#define XB_XDP_RUN_PRIO		20
#define XB_XDP_PROG_NAME	"xb_xdp"
#define XB_TC_PROG_PREFIX	"xb_tc_steer"
/* 15 characters: the kernel keeps the whole name */
#define XB_TC_MD_PROG_NAME	"xb_tc_md_egress"

enum xb_xdp_mode {
	XB_XDP_MODE_AUTO = 0,	/* native, else skb with a warning */
	XB_XDP_MODE_NATIVE,
	XB_XDP_MODE_SKB,
};

struct xb_dp_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	struct xb_iface_cfg cfg;	/* as last written to xb_ifaces */
	__u32 stats_slot;		/* its row of xb_stats */
	enum xdp_attach_mode mode;	/* as attached */
	bool legacy;			/* no dispatcher: the only XDP program */
	bool xdp;
	bool tc;
	bool clsact_created;
};

/* xb_tc_md_egress on the collect_md device (user/loader/md_egress.h). */
struct xb_md_egress {
	int ifindex;		/* attached there and steered to; 0: nowhere */
	char name[IF_NAMESIZE];
	bool clsact_created;
	int failed_ifindex;	/* last device it failed on: said once */
};

struct xfrmbpf;

struct xb_datapath {
	struct xfrmbpf *skel;
	struct xdp_program *xdp;
	const struct xb_maps *maps;
	struct xb_dp_iface ifaces[XB_MAX_IFACES];
	int n_ifaces;
	struct xb_md_egress md;
	bool steer;
	bool spread;		/* --spread-esp (xb_dp_set_spread()) */
	char err[256];		/* the one line explaining the last failure */
};


/* Prepares an opened datapath object for this host before it is loaded on
 * the pins under pin_dir: its flow cache and policy-capacity maps sized as
 * the pinned ones (or the flow cache that will be created), and the
 * kernel's SA lookup used where the kernel has it. */
int xb_dp_configure(struct xfrmbpf *skel, const char *pin_dir);

/* Open the datapath object; its maps are the pins under pin_dir. */
int xb_dp_open(struct xb_datapath *dp, const char *pin_dir,
	       const struct xb_maps *maps, bool steer);
/* `run --spread-esp`: load the XDP program with spreading on, and mark
 * the devices it can redirect from (XB_IF_SPREAD). Before the first
 * attach, which loads the program. */
void xb_dp_set_spread(struct xb_datapath *dp, bool on);
/* Attach to ifname; on failure dp->err says why. */
int xb_dp_attach(struct xb_datapath *dp, const char *ifname,
		 enum xb_xdp_mode mode);
/* Detach from ifname (as attached under that name) what xb_dp_close()
 * would; the others stay. -ENOENT when it is not attached. */
int xb_dp_detach(struct xb_datapath *dp, const char *ifname);
/* Re-read disable_policy and the MTU of every attached interface, and
 * follow the collect_md device with the egress program. */
void xb_dp_refresh(struct xb_datapath *dp);
/* Detach exactly what was attached, then free the object. */
void xb_dp_close(struct xb_datapath *dp);

/* Replace xb_bypass with these (proto, port) pairs. */
int xb_bypass_write(const struct xb_maps *maps, const struct xb_bypass_key *keys,
		    int n);

/* Our XDP program on ifindex (attached by any xfrmbpf), or NULL. maps may
 * be NULL; with maps, only a program that uses them counts as ours. The
 * caller closes *mp. */
struct xdp_program *xb_dp_find_xdp(int ifindex, const struct xb_maps *maps,
				   struct xdp_multiprog **mp);

/* What `unload` removed from one interface. */
struct xb_unload_result {
	bool xdp;
	bool tc;
	bool clsact;
};

/* Remove our XDP program and TC filters (ingress; egress, where ifindex
 * is a collect_md device) from ifindex, and the clsact qdisc when flags
 * say we created it and nothing else is on it. */
int xb_dp_unload_iface(int ifindex, const struct xb_maps *maps,
		       struct xb_unload_result *res);

#endif
