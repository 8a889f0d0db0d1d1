// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attach and detach the datapath. Good neighbour rules: the XDP program goes
 * through libxdp (a dispatcher shared with other programs when the kernel
 * allows freplace; otherwise libxdp attaches it alone and we refuse to
 * replace anyone else's program); the TC program is one filter with our
 * handle and priority on clsact ingress; we detach only what is ours and
 * delete the clsact qdisc only when we created it and it is empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include "loader/attach.h"
#include "loader/sync_record.h"
#include "lib/log.h"
#include "loader/stats.h"
#include "xfrmbpf.skel.h"

#define XB_SYS_BPFFS	"/sys/fs/bpf"

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

void xb_libxdp_use_bpffs(const char *pin_dir)
{
	char parent[PATH_MAX], *slash;

	if (getenv("LIBXDP_BPFFS") || is_bpffs(XB_SYS_BPFFS))
		return;
	snprintf(parent, sizeof(parent), "%s", pin_dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return;
	*slash = '\0';
	if (is_bpffs(parent))
		setenv("LIBXDP_BPFFS", parent, 0);
}

/* libbpf and libxdp narrate every fallback they try (the dispatcher probe
 * fails loudly on kernels that refuse freplace): while attaching, their
 * messages are debug output and we say in one line what happened. */
static libbpf_print_fn_t saved_bpf_print;
static libxdp_print_fn_t saved_xdp_print;

static void lib_vlog(const char *fmt, va_list ap)
{
	/* unbounded: a verifier log is one message */
	if (xb_log_get_level() >= XB_LOG_DEBUG)
		vfprintf(stderr, fmt, ap);
}

static int quiet_bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	lib_vlog(fmt, ap);
	return 0;
}

static int quiet_xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	lib_vlog(fmt, ap);
	return 0;
}

static int quiet_depth;

static void libs_quiet(void)
{
	if (quiet_depth++)
		return;
	saved_bpf_print = libbpf_set_print(quiet_bpf_print);
	saved_xdp_print = libxdp_set_print(quiet_xdp_print);
}

static void libs_loud(void)
{
	if (--quiet_depth)
		return;
	libbpf_set_print(saved_bpf_print);
	libxdp_set_print(saved_xdp_print);
}

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

/* ---- ownership: program name, and the maps it uses ---- */

static __u32 map_id_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* Name of program id, and whether it uses map id want (0: don't care). */
static bool prog_matches(__u32 prog_id, const char *prefix, __u32 want_map)
{
	__u32 map_ids[64], len, i;
	struct bpf_prog_info info = {};
	bool ok = false;
	int fd;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	len = sizeof(info);
	info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		goto out;
	if (strncmp(info.name, prefix, strlen(prefix)))
		goto out;
	if (!want_map) {
		ok = true;
		goto out;
	}
	for (i = 0; i < info.nr_map_ids && i < sizeof(map_ids) / sizeof(map_ids[0]); i++)
		if (map_ids[i] == want_map)
			ok = true;
out:
	close(fd);
	return ok;
}

static __u32 our_map_id(const struct xb_maps *maps)
{
	return maps ? map_id_of(maps->fd[XB_MAP_SYNC]) : 0;
}

struct xdp_program *xb_dp_find_xdp(int ifindex, const struct xb_maps *maps,
				   struct xdp_multiprog **mpp)
{
	struct xdp_program *p = NULL;
	struct xdp_multiprog *mp;
	__u32 want = our_map_id(maps);

	*mpp = NULL;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!mp || libxdp_get_error(mp))
		return NULL;
	*mpp = mp;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && prog_matches(xdp_program__id(p), XB_XDP_PROG_NAME, want))
			return p;
		return NULL;
	}
	while ((p = xdp_multiprog__next_prog(p, mp)))
		if (prog_matches(xdp_program__id(p), XB_XDP_PROG_NAME, want))
			return p;
	return NULL;
}

/* ---- interface settings ---- */

static bool read_flag(const char *fmt, const char *ifname)
{
	char path[128], buf[16] = "";
	int fd;

	snprintf(path, sizeof(path), fmt, ifname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;	/* no IPv6 on the device: nothing to disable */
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(fd);
	return atoi(buf) != 0;
}

static __u32 read_mtu(const char *ifname)
{
	struct ifreq ifr = {};
	__u32 mtu = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ioctl(fd, SIOCGIFMTU, &ifr))
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

/*
 * IPv6 takes disable_policy from the device of the route a packet takes
 * (the device holding the local address, or the egress device: the
 * fib6_info's dst_nopolicy), which XDP cannot know before routing. Any
 * device with it set makes every IPv6 packet pass.
 */
static bool any_ipv6_disable_policy(void)
{
	DIR *d = opendir("/proc/sys/net/ipv6/conf");
	struct dirent *e;
	bool any = false;

	if (!d)
		return false;
	while (!any && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "default"))
			continue;
		any = read_flag("/proc/sys/net/ipv6/conf/%s/disable_policy", e->d_name);
	}
	closedir(d);
	return any;
}

/* The settings as the kernel has them now; the name follows renames. */
static struct xb_iface_cfg current_cfg(struct xb_dp_iface *ifc, bool steer)
{
	struct xb_iface_cfg cfg = {};

	if_indextoname(ifc->ifindex, ifc->name);
	cfg.flags = XB_IF_XDP;
	cfg.stats_slot = ifc->stats_slot;
	if (steer && ifc->tc)
		cfg.flags |= XB_IF_STEER;
	if (ifc->clsact_created)
		cfg.flags |= XB_IF_OWN_CLSACT;
	/* IPv4: the ingress device's setting or "all" (IN_DEV_ORCONF). */
	if (read_flag("/proc/sys/net/ipv4/conf/%s/disable_policy", ifc->name) ||
	    read_flag("/proc/sys/net/ipv4/conf/%s/disable_policy", "all"))
		cfg.flags |= XB_IF_DISABLE_POLICY4;
	if (any_ipv6_disable_policy())
		cfg.flags |= XB_IF_DISABLE_POLICY6;
	cfg.mtu = read_mtu(ifc->name);
	return cfg;
}

/* The flow cache holds verdicts computed with the old settings. */
static int write_cfg(const struct xb_maps *maps, struct xb_dp_iface *ifc,
		     const struct xb_iface_cfg *cfg)
{
	__u32 key = ifc->ifindex;

	if (bpf_map_update_elem(maps->fd[XB_MAP_IFACES], &key, cfg, BPF_ANY))
		return -errno;
	ifc->cfg = *cfg;
	xb_sync_flows_stale(maps);
	return 0;
}

/* The lowest counter slot no other device in xb_ifaces uses (a device
 * of a crashed run included: `unload` still finds it there). */
static int pick_stats_slot(const struct xb_maps *maps, __u32 ifindex)
{
	bool used[XB_MAX_IFACES] = {};
	int fd = maps->fd[XB_MAP_IFACES], i;
	struct xb_iface_cfg cfg;
	__u32 key, next, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (key != ifindex && !bpf_map_lookup_elem(fd, &key, &cfg) &&
		    cfg.stats_slot < XB_MAX_IFACES)
			used[cfg.stats_slot] = true;
	}
	for (i = 0; i < XB_MAX_IFACES; i++)
		if (!used[i])
			return i;
	return -ENOSPC;
}

static void forget_iface(const struct xb_maps *maps, int ifindex)
{
	__u32 key = ifindex;

	if (!maps)
		return;
	bpf_map_delete_elem(maps->fd[XB_MAP_IFACES], &key);
	xb_sync_flows_stale(maps);
}

void xb_dp_refresh(struct xb_datapath *dp)
{
	struct xb_iface_cfg cfg;
	int i;

	for (i = 0; i < dp->n_ifaces; i++) {
		struct xb_dp_iface *ifc = &dp->ifaces[i];

		cfg = current_cfg(ifc, dp->steer);
		if (cfg.flags == ifc->cfg.flags && cfg.mtu == ifc->cfg.mtu)
			continue;
		if (write_cfg(dp->maps, ifc, &cfg))
			pr_warn("Couldn't update the settings of %s\n", ifc->name);
		else
			pr_info("%s: disable_policy ipv4 %d ipv6 %d, mtu %u\n", ifc->name,
				!!(cfg.flags & XB_IF_DISABLE_POLICY4),
				!!(cfg.flags & XB_IF_DISABLE_POLICY6), cfg.mtu);
	}
}

int xb_bypass_write(const struct xb_maps *maps, const struct xb_bypass_key *keys, int n)
{
	struct xb_bypass_key k, next;
	__u8 one = 1;
	int fd = maps->fd[XB_MAP_BYPASS], i;

	/* Delete first: a stale entry would keep a port open. */
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		if (bpf_map_delete_elem(fd, &k))
			return -errno;
	}
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &keys[i], &one, BPF_ANY))
			return -errno;
	xb_sync_flows_stale(maps);
	return 0;
}

/* ---- TC ---- */

static int filter_count_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWTFILTER)
		(*(int *)data)++;
	return MNL_CB_OK;
}

/* Filters on one clsact hook (RTM_GETTFILTER dump). */
static int count_filters(int ifindex, __u32 parent)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	unsigned int seq = time(NULL), portid;
	int n = 0, ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	while ((ret = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, ret, seq, portid, filter_count_cb, &n);
		if (ret <= MNL_CB_STOP)
			break;
	}
	ret = ret < 0 ? -errno : n;
out:
	mnl_socket_close(nl);
	return ret;
}

static bool clsact_empty(int ifindex)
{
	return count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)) == 0 &&
	       count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)) == 0;
}

/* Program id of the filter at our handle/priority, 0 when there is none. */
static __u32 tc_slot_prog(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = XB_TC_HANDLE,
			    .priority = XB_TC_PRIORITY);

	int err;

	/* "no such filter/qdisc" is the usual answer: not worth a warning */
	libs_quiet();
	err = bpf_tc_query(&hook, &q);
	libs_loud();
	return err ? 0 : q.prog_id;
}

static int tc_detach_ours(int ifindex, __u32 want_map)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = XB_TC_HANDLE,
			    .priority = XB_TC_PRIORITY);
	__u32 id = tc_slot_prog(ifindex);

	if (!id || !prog_matches(id, XB_TC_PROG_PREFIX, want_map))
		return -ENOENT;
	return bpf_tc_detach(&hook, &o);
}

static void clsact_delete_if_empty(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	/* INGRESS|EGRESS deletes the qdisc; either alone would flush every
	 * filter on the hook, ours or not. */
	if (clsact_empty(ifindex))
		bpf_tc_hook_destroy(&hook);
}

static int tc_prog_fd(struct xb_datapath *dp)
{
	int fd = bpf_program__fd(dp->skel->progs.xb_tc_steer_md);

	return fd >= 0 ? fd : bpf_program__fd(dp->skel->progs.xb_tc_steer);
}

static int attach_tc(struct xb_datapath *dp, struct xb_dp_iface *ifc)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = XB_TC_HANDLE,
			    .priority = XB_TC_PRIORITY);
	__u32 id;
	int err;

	/* EEXIST (someone's clsact) is fine: quiet libbpf's kernel message */
	libs_quiet();
	err = bpf_tc_hook_create(&hook);
	libs_loud();
	if (!err)
		ifc->clsact_created = true;
	else if (err != -EEXIST)
		goto fail;
	id = tc_slot_prog(ifc->ifindex);
	if (id) {
		if (!prog_matches(id, XB_TC_PROG_PREFIX, our_map_id(dp->maps))) {
			snprintf(dp->err, sizeof(dp->err),
				 "Couldn't attach TC to %s: handle 0x%x priority %u is used by "
				 "another filter (prog id %u)", ifc->name, XB_TC_HANDLE,
				 XB_TC_PRIORITY, id);
			err = -EEXIST;
			goto undo;
		}
		pr_info("%s: replacing the TC filter a previous xfrmbpf left\n", ifc->name);
		o.flags = BPF_TC_F_REPLACE;
	}
	o.prog_fd = tc_prog_fd(dp);
	err = bpf_tc_attach(&hook, &o);
	if (err)
		goto fail;
	ifc->tc = true;
	return 0;
fail:
	snprintf(dp->err, sizeof(dp->err), "Couldn't attach TC to %s: %s", ifc->name,
		 strerror(-err));
undo:
	if (ifc->clsact_created)
		clsact_delete_if_empty(ifc->ifindex);
	ifc->clsact_created = false;
	return err;
}

static void detach_tc(struct xb_datapath *dp, struct xb_dp_iface *ifc)
{
	int err;

	if (!ifc->tc)
		return;
	err = tc_detach_ours(ifc->ifindex, our_map_id(dp->maps));
	if (err && err != -ENOENT)
		pr_warn("Couldn't detach TC from %s: %s\n", ifc->name, strerror(-err));
	if (ifc->clsact_created)
		clsact_delete_if_empty(ifc->ifindex);
	ifc->tc = false;
}

/* ---- XDP ---- */

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

static int attach_xdp(struct xb_datapath *dp, struct xb_dp_iface *ifc,
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
	libs_quiet();
	err = xdp_program__attach(dp->xdp, ifc->ifindex, mode, 0);
	if (err && want == XB_XDP_MODE_AUTO && mode == XDP_MODE_NATIVE) {
		native_err = err;
		mode = XDP_MODE_SKB;
		err = xdp_program__attach(dp->xdp, ifc->ifindex, mode, 0);
	}
	libs_loud();
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

static void detach_xdp(struct xb_datapath *dp, struct xb_dp_iface *ifc)
{
	char buf[128];
	int err;

	if (!ifc->xdp)
		return;
	libs_quiet();
	err = xdp_program__detach(dp->xdp, ifc->ifindex, ifc->mode, 0);
	libs_loud();
	if (err)
		pr_warn("Couldn't detach XDP from %s: %s\n", ifc->name,
			xdp_err_str(err, buf, sizeof(buf)));
	ifc->xdp = false;
}

/* ---- the datapath object ---- */

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
static bool have_xfrm_info_kfunc(void)
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

int xb_dp_fit_flow_cache(struct xfrmbpf *skel, const char *pin_dir)
{
	int bits = xb_flow_cache_fit(skel->maps.xb_flow_cache, pin_dir);

	if (bits < 0)
		return bits;
	skel->rodata->xb_flow_cache_bits = (__u32)bits;
	return 0;
}

int xb_dp_open(struct xb_datapath *dp, const char *pin_dir,
	       const struct xb_maps *maps, bool steer)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_dir);
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts);
	int err;

	memset(dp, 0, sizeof(*dp));
	dp->maps = maps;
	dp->steer = steer;
	xb_libxdp_use_bpffs(pin_dir);
	dp->skel = xfrmbpf__open_opts(&oopts);
	if (!dp->skel) {
		err = -errno;
		snprintf(dp->err, sizeof(dp->err), "Couldn't open the datapath object: %s",
			 strerror(errno));
		return err;
	}
	err = xb_dp_fit_flow_cache(dp->skel, pin_dir);
	if (err) {
		snprintf(dp->err, sizeof(dp->err), "Couldn't size the flow cache: %s",
			 strerror(-err));
		return err;
	}
	/* libxdp loads the object on the first attach (as a dispatcher
	 * extension when it can); TC programs only when steering. */
	bpf_program__set_autoload(dp->skel->progs.xb_tc_steer, steer);
	bpf_program__set_autoload(dp->skel->progs.xb_tc_steer_md,
				  steer && have_xfrm_info_kfunc());
	xopts.obj = dp->skel->obj;
	xopts.prog_name = XB_XDP_PROG_NAME;
	dp->xdp = xdp_program__create(&xopts);
	if (!dp->xdp) {
		err = -errno;
		snprintf(dp->err, sizeof(dp->err), "Couldn't prepare the XDP program: %s",
			 strerror(errno));
		return err;
	}
	xdp_program__set_run_prio(dp->xdp, XB_XDP_RUN_PRIO);
	return 0;
}

int xb_dp_attach(struct xb_datapath *dp, const char *ifname, enum xb_xdp_mode mode)
{
	struct xb_dp_iface *ifc;
	struct xb_iface_cfg cfg;
	int err, i;

	if (dp->n_ifaces >= XB_MAX_IFACES) {
		snprintf(dp->err, sizeof(dp->err), "Couldn't attach to %s: at most %d interfaces",
			 ifname, XB_MAX_IFACES);
		return -E2BIG;
	}
	ifc = &dp->ifaces[dp->n_ifaces];
	memset(ifc, 0, sizeof(*ifc));
	ifc->ifindex = if_nametoindex(ifname);
	snprintf(ifc->name, sizeof(ifc->name), "%s", ifname);
	if (!ifc->ifindex) {
		snprintf(dp->err, sizeof(dp->err), "Couldn't attach to %s: no such interface",
			 ifname);
		return -ENODEV;
	}
	for (i = 0; i < dp->n_ifaces; i++)
		if (dp->ifaces[i].ifindex == ifc->ifindex)
			return 0;	/* -i given twice */
	/* A clsact that a crashed run of ours created is still ours. */
	if (!bpf_map_lookup_elem(dp->maps->fd[XB_MAP_IFACES], &(__u32){ ifc->ifindex }, &cfg) &&
	    (cfg.flags & XB_IF_OWN_CLSACT))
		ifc->clsact_created = true;
	/* Settings first: the program passes packets of unknown devices. */
	err = pick_stats_slot(dp->maps, ifc->ifindex);
	if (err >= 0) {
		ifc->stats_slot = err;
		/* The device's counters start at zero; what the slot's
		 * earlier holder counted stays in the totals. */
		err = xb_stats_retire_row(dp->maps, ifc->stats_slot);
	}
	if (!err) {
		cfg = current_cfg(ifc, false);
		err = write_cfg(dp->maps, ifc, &cfg);
	}
	if (err) {
		snprintf(dp->err, sizeof(dp->err), "Couldn't configure %s in xb_ifaces: %s",
			 ifname, strerror(-err));
		return err;
	}
	err = attach_xdp(dp, ifc, mode);
	if (!err && dp->steer)
		err = attach_tc(dp, ifc);
	if (err) {
		detach_xdp(dp, ifc);
		forget_iface(dp->maps, ifc->ifindex);
		return err;
	}
	cfg = current_cfg(ifc, dp->steer);
	write_cfg(dp->maps, ifc, &cfg);
	dp->n_ifaces++;
	return 0;
}

void xb_dp_close(struct xb_datapath *dp)
{
	int i;

	for (i = dp->n_ifaces - 1; i >= 0; i--) {
		struct xb_dp_iface *ifc = &dp->ifaces[i];

		detach_xdp(dp, ifc);
		detach_tc(dp, ifc);
		forget_iface(dp->maps, ifc->ifindex);
		pr_info("%s: detached\n", ifc->name);
	}
	dp->n_ifaces = 0;
	if (dp->xdp)
		xdp_program__close(dp->xdp);
	dp->xdp = NULL;
	xfrmbpf__destroy(dp->skel);
	dp->skel = NULL;
}

/* ---- unload ---- */

int xb_dp_unload_iface(int ifindex, const struct xb_maps *maps,
		       struct xb_unload_result *res)
{
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *ours;
	struct xb_iface_cfg cfg = {};
	__u32 key = ifindex;
	int err = 0, e;

	memset(res, 0, sizeof(*res));
	libs_quiet();
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
	libs_loud();
	e = tc_detach_ours(ifindex, our_map_id(maps));
	if (!e)
		res->tc = true;
	else if (e != -ENOENT && !err)
		err = e;
	if (maps && !bpf_map_lookup_elem(maps->fd[XB_MAP_IFACES], &key, &cfg) &&
	    (cfg.flags & XB_IF_OWN_CLSACT) && clsact_empty(ifindex)) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		res->clsact = !bpf_tc_hook_destroy(&hook);
	}
	forget_iface(maps, ifindex);
	return err;
}
