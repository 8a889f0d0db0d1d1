// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "lib/log.h"
#include "loader/iface_cfg.h"
#include "loader/md_egress.h"
#include "loader/nf_hooks.h"
#include "loader/sync_record.h"
#include "loader/tc_filters.h"
#include "loader/vlan.h"

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

/* Does the upper device upper take frames off its lower device before the
 * lower's protocol handlers see them (macvlan, ipvlan and their taps)? */
static bool upper_takes_frames(const char *upper)
{
	char path[PATH_MAX], line[128];
	bool takes = false;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/uevent", upper);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!takes && fgets(line, sizeof(line), f))
		takes = !strcmp(line, "DEVTYPE=macvlan\n") || !strcmp(line, "DEVTYPE=ipvlan\n") ||
			!strcmp(line, "DEVTYPE=macvtap\n") || !strcmp(line, "DEVTYPE=ipvtap\n");
	fclose(f);
	return takes;
}

/*
 * Is the device stacked under another one that receives its packets: a
 * port of a bridge, bond or team, a VRF member (a "master"), or the lower
 * device of a macvlan or ipvlan device (an "upper_*" that takes frames)?
 * The kernel then routes and checks policy with the other device as the
 * input (or bridges without any), which the datapath cannot follow.
 */
static bool iface_stacked(const char *ifname)
{
	char path[PATH_MAX];
	struct dirent *e;
	bool stacked;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", ifname);
	if (!access(path, F_OK))
		return true;
	snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
	d = opendir(path);
	if (!d)
		return false;
	stacked = false;
	while (!stacked && (e = readdir(d)))
		stacked = !strncmp(e->d_name, "upper_", 6) && upper_takes_frames(e->d_name + 6);
	closedir(d);
	return stacked;
}

/* Netfilter hooks on prerouting, as XB_IF_NF_PREROUTING* flags. Without
 * netfilter there are none; a kernel that cannot list them is taken as
 * having none, with a warning (once). */
__u32 xb_netns_cfg_flags(void)
{
	static bool warned;
	int families = xb_nf_prerouting_families();

	if (families == -EPROTONOSUPPORT)
		return 0;
	if (families < 0) {
		if (!warned)
			pr_warn("Couldn't list the netfilter hooks (%s): NAT or mangle rules at "
				"prerouting are not taken into account\n", strerror(-families));
		warned = true;
		return 0;
	}
	return (families & XB_NF_IPV4 ? XB_IF_NF_PREROUTING4 : 0) |
	       (families & XB_NF_IPV6 ? XB_IF_NF_PREROUTING6 : 0);
}

/* Netfilter hooks on the device's ingress. A kernel that cannot list them
 * is taken as having none, with a warning (once), as at prerouting. */
static bool nf_ingress_hooked(const char *ifname)
{
	static bool warned;
	int hooked = xb_nf_ingress_hooked(ifname);

	if (hooked >= 0)
		return hooked;
	if (!warned)
		pr_warn("Couldn't list the netfilter hooks at the ingress of %s (%s): netdev "
			"chains are not taken into account\n", ifname, strerror(-hooked));
	warned = true;
	return false;
}

/*
 * tc classifiers on the device's ingress other than our steering filter.
 * Any xfrmbpf program at our priority and handle is ours while ifc->tc:
 * xb_tc_attach() lets no other instance's program take that slot. Filters
 * that cannot be read are taken as there: the device's packets pass.
 */
static bool tc_ingress_others(const struct xb_dp_iface *ifc)
{
	static bool warned;
	int others = xb_tc_ingress_others(ifc->ifindex, ifc->tc, 0);

	if (others >= 0)
		return others;
	if (!warned)
		pr_warn("Couldn't list the tc filters on the ingress of %s (%s): its packets "
			"pass\n", ifc->name, strerror(-others));
	warned = true;
	return true;
}

/* IPv4 disable_policy: the device's setting or "all" (IN_DEV_ORCONF). */
static bool disable_policy4(const char *ifname)
{
	return read_flag("/proc/sys/net/ipv4/conf/%s/disable_policy", ifname) ||
	       read_flag("/proc/sys/net/ipv4/conf/%s/disable_policy", "all");
}

/*
 * A VLAN device's own settings (XB_IF_VLAN_OWN): the kernel receives its
 * tagged frames on it, through its own tc and netfilter ingress, its
 * upper devices (bridge, VRF, macvlan: stacked), prerouting and its
 * disable_policy. Filters that cannot be read count as there.
 */
static __u32 vlan_dev_flags(const struct xb_vlan_upper *u, __u32 netns_flags, bool v6_off)
{
	__u32 flags = netns_flags & (XB_IF_NF_PREROUTING4 | XB_IF_NF_PREROUTING6);

	if (iface_stacked(u->name))
		flags |= XB_IF_STACKED;
	if (xb_tc_ingress_others(u->ifindex, false, 0))
		flags |= XB_IF_TC_INGRESS;
	if (nf_ingress_hooked(u->name))
		flags |= XB_IF_NF_INGRESS;
	if (disable_policy4(u->name))
		flags |= XB_IF_DISABLE_POLICY4;
	if (v6_off)
		flags |= XB_IF_DISABLE_POLICY6;
	return flags;
}

/*
 * The device's VLAN devices into cfg->vlans, and XB_IF_VLAN_BLIND when
 * XDP cannot tell their frames from the device's own (user/loader/vlan.h).
 * *why: what makes it blind, for the log.
 */
static void vlans_current(const struct xb_dp_iface *ifc, struct xb_iface_cfg *cfg,
			  __u32 netns_flags, bool v6_off, const char **why)
{
	struct xb_vlan_info vi;
	int i;

	xb_vlan_read(ifc->ifindex, cfg->flags & XB_IF_GENERIC, &vi);
	*why = vi.blind_why;
	if (vi.blind)
		cfg->flags |= XB_IF_VLAN_BLIND;
	if (vi.n_up > vi.n)
		cfg->flags |= XB_IF_VLANS_TRUNCATED;
	for (i = 0; i < vi.n; i++) {
		cfg->vlans[i].ifindex = (__u32)vi.uppers[i].ifindex;
		cfg->vlans[i].tag = vi.uppers[i].tag;
		cfg->vlans[i].flags = vlan_dev_flags(&vi.uppers[i], netns_flags, v6_off);
	}
	cfg->n_vlans = (__u32)vi.n;
}

/* Why the last xb_iface_cfg_current() of a device made it VLAN-blind, for
 * the log of the write that follows (attach, heartbeat: one at a time). */
static const char *last_vlan_blind_why;

/* The settings as the kernel has them now; the name follows renames. */
struct xb_iface_cfg xb_iface_cfg_current(struct xb_dp_iface *ifc, bool steer, bool spread,
					 __u32 netns_flags)
{
	struct xb_iface_cfg cfg;
	bool v6_off;

	/* whole, padding included: refreshes compare it with memcmp() */
	memset(&cfg, 0, sizeof(cfg));

	if_indextoname(ifc->ifindex, ifc->name);
	cfg.flags = XB_IF_XDP | netns_flags;
	cfg.stats_slot = ifc->stats_slot;
	if (steer && ifc->tc)
		cfg.flags |= XB_IF_STEER;
	if (ifc->clsact_created)
		cfg.flags |= XB_IF_OWN_CLSACT;
	/* before the attach the mode is not known: as if generic */
	if (!ifc->xdp || ifc->mode == XDP_MODE_SKB)
		cfg.flags |= XB_IF_GENERIC;
	/* Native XDP only. Generic XDP queues the skb itself into the
	 * cpumap (cpu_map_generic_redirect(), 5.15+), which works on 6.1,
	 * but Debian's 6.12 delivers every such packet to IP at its
	 * Ethernet header (IpInHdrErrors; the spread_esp scenario). */
	if (spread && ifc->xdp && ifc->mode != XDP_MODE_SKB)
		cfg.flags |= XB_IF_SPREAD;
	if (iface_stacked(ifc->name))
		cfg.flags |= XB_IF_STACKED;
	if (tc_ingress_others(ifc))
		cfg.flags |= XB_IF_TC_INGRESS;
	if (nf_ingress_hooked(ifc->name))
		cfg.flags |= XB_IF_NF_INGRESS;
	if (disable_policy4(ifc->name))
		cfg.flags |= XB_IF_DISABLE_POLICY4;
	v6_off = any_ipv6_disable_policy();
	if (v6_off)
		cfg.flags |= XB_IF_DISABLE_POLICY6;
	cfg.mtu = read_mtu(ifc->name);
	vlans_current(ifc, &cfg, netns_flags, v6_off, &last_vlan_blind_why);
	return cfg;
}

/* What a change of the device's VLAN devices, or of XB_IF_VLAN_BLIND,
 * means for its packets. */
static void log_vlans(const struct xb_dp_iface *ifc, const struct xb_iface_cfg *old,
		      const struct xb_iface_cfg *cfg)
{
	/* What was logged of XB_IF_VLAN_BLIND, by counter slot: 0 nothing
	 * yet, 1 not blind, 2 blind. Before the attach the XDP mode is not
	 * known (taken as skb mode, hence blind): not logged. */
	static __u8 blind_logged[XB_MAX_IFACES];
	const char *ifname = ifc->name;
	__u8 *logged = ifc->stats_slot < XB_MAX_IFACES ? &blind_logged[ifc->stats_slot] : NULL;
	char list[512] = "";
	size_t len = 0;
	__u32 i;

	if (logged && !ifc->xdp) {
		*logged = 0;
	} else if (logged && *logged != ((cfg->flags & XB_IF_VLAN_BLIND) ? 2 : 1)) {
		if (cfg->flags & XB_IF_VLAN_BLIND)
			pr_warn("%s has VLAN devices and %s: XDP cannot tell their frames from "
				"the device's own, so the datapath passes all of the device's "
				"packets (pass_undecidable, vlan)\n", ifname,
				last_vlan_blind_why ? last_vlan_blind_why : "its tags may be hidden");
		else if (*logged == 2)
			pr_info("%s: every VLAN tag is in the frames XDP sees again: decided "
				"again\n", ifname);
		*logged = (cfg->flags & XB_IF_VLAN_BLIND) ? 2 : 1;
	}
	if (old->n_vlans == cfg->n_vlans &&
	    !memcmp(old->vlans, cfg->vlans, cfg->n_vlans * sizeof(cfg->vlans[0])))
		return;
	for (i = 0; i < cfg->n_vlans && len < sizeof(list) - 1; i++) {
		char name[IF_NAMESIZE];
		int w;

		if (!if_indextoname(cfg->vlans[i].ifindex, name))
			snprintf(name, sizeof(name), "if%u", cfg->vlans[i].ifindex);
		w = snprintf(list + len, sizeof(list) - len, "%s%s (%s %u)", i ? ", " : "",
			     name, cfg->vlans[i].tag & XB_VLAN_TAG_AD ? "802.1ad" : "802.1Q",
			     cfg->vlans[i].tag & XB_VLAN_VID_MASK);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	if (len >= sizeof(list))
		len = sizeof(list) - 1;
	if (cfg->n_vlans)
		pr_info("%s: VLAN devices %s: their tagged frames are decided as theirs, "
			"other tags pass (pass_undecidable, vlan)\n", ifname, list);
	else
		pr_info("%s: no VLAN device on it: its tagged frames pass (pass_undecidable, "
			"vlan)\n", ifname);
	if (cfg->flags & XB_IF_VLANS_TRUNCATED)
		pr_warn("%s: more than %d VLAN devices on it: the tags of those after the "
			"first %d (by VID) pass (pass_undecidable, vlan)\n", ifname,
			XB_MAX_IF_VLANS, XB_MAX_IF_VLANS);
}

/* What a change of XB_IF_TC_INGRESS or XB_IF_NF_INGRESS means for the
 * device's packets: logged where every attach and refresh writes. */
static void log_ingress_hooks(const char *ifname, __u32 old_flags, __u32 flags)
{
	__u32 changed = old_flags ^ flags;

	if ((changed & XB_IF_TC_INGRESS) && (flags & XB_IF_TC_INGRESS))
		pr_warn("%s: tc filters on ingress (not xfrmbpf's) may rewrite, redirect, re-mark "
			"or drop packets before the XFRM lookup: the datapath passes all of the "
			"device's packets (pass_undecidable, tc_ingress)\n", ifname);
	else if (changed & XB_IF_TC_INGRESS)
		pr_info("%s: no tc filter on ingress any more: decided again\n", ifname);
	if ((changed & XB_IF_NF_INGRESS) && (flags & XB_IF_NF_INGRESS))
		pr_warn("%s: netfilter hooks on ingress (netdev chains, flowtables) may rewrite, "
			"redirect or drop packets before the XFRM lookup: the datapath passes all "
			"of the device's packets (pass_undecidable, netfilter_ingress)\n", ifname);
	else if (changed & XB_IF_NF_INGRESS)
		pr_info("%s: no netfilter hook on ingress any more: decided again\n", ifname);
}

/* The flow cache holds verdicts computed with the old settings. */
int xb_iface_cfg_write(const struct xb_maps *maps, struct xb_dp_iface *ifc,
		     const struct xb_iface_cfg *cfg)
{
	__u32 key = ifc->ifindex;

	if (bpf_map_update_elem(maps->fd[XB_MAP_IFACES], &key, cfg, BPF_ANY))
		return -errno;
	log_ingress_hooks(ifc->name, ifc->cfg.flags, cfg->flags);
	log_vlans(ifc, &ifc->cfg, cfg);
	ifc->cfg = *cfg;
	xb_sync_flows_stale(maps);
	return 0;
}

/* The lowest counter slot no other device in xb_ifaces uses (a device
 * of a crashed run included: `unload` still finds it there). */
int xb_iface_pick_stats_slot(const struct xb_maps *maps, __u32 ifindex)
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

void xb_iface_forget(const struct xb_maps *maps, int ifindex)
{
	__u32 key = ifindex;

	if (!maps)
		return;
	bpf_map_delete_elem(maps->fd[XB_MAP_IFACES], &key);
	xb_sync_flows_stale(maps);
}

void xb_iface_log_stacked(const char *ifname, __u32 flags)
{
	if (flags & XB_IF_STACKED)
		pr_warn("%s is a bridge, bond or team port, a VRF member or under a macvlan or "
			"ipvlan device: the kernel handles its packets as another device's, so "
			"the datapath passes them all (pass_undecidable, stacked_device)\n", ifname);
	else
		pr_info("%s is no longer stacked under another device: decided again\n", ifname);
}

void xb_iface_log_netfilter(const char *ifname, __u32 flags)
{
	if (flags & (XB_IF_NF_PREROUTING4 | XB_IF_NF_PREROUTING6))
		pr_warn("%s: netfilter chains at prerouting (IPv4 %s, IPv6 %s) may rewrite or drop "
			"packets before the XFRM lookup: the datapath passes those families' packets "
			"(pass_undecidable, netfilter_prerouting)\n", ifname,
			flags & XB_IF_NF_PREROUTING4 ? "yes" : "no",
			flags & XB_IF_NF_PREROUTING6 ? "yes" : "no");
	else
		pr_info("%s: no netfilter chain at prerouting any more: decided again\n", ifname);
}

void xb_dp_refresh(struct xb_datapath *dp)
{
	__u32 netns_flags = xb_netns_cfg_flags();
	struct xb_iface_cfg cfg;
	int i;

	for (i = 0; i < dp->n_ifaces; i++) {
		struct xb_dp_iface *ifc = &dp->ifaces[i];
		__u32 ifc_old_flags = ifc->cfg.flags;

		cfg = xb_iface_cfg_current(ifc, dp->steer, dp->spread, netns_flags);
		/* flags, MTU and VLAN devices (xb_iface_cfg_current() zeroes
		 * the whole value first) */
		if (!memcmp(&cfg, &ifc->cfg, sizeof(cfg)))
			continue;
		if (xb_iface_cfg_write(dp->maps, ifc, &cfg)) {
			pr_warn("Couldn't update the settings of %s\n", ifc->name);
			continue;
		}
		pr_info("%s: disable_policy ipv4 %d ipv6 %d, mtu %u\n", ifc->name,
			!!(cfg.flags & XB_IF_DISABLE_POLICY4),
			!!(cfg.flags & XB_IF_DISABLE_POLICY6), cfg.mtu);
		if ((cfg.flags ^ ifc_old_flags) & XB_IF_STACKED)
			xb_iface_log_stacked(ifc->name, cfg.flags);
		if ((cfg.flags ^ ifc_old_flags) & (XB_IF_NF_PREROUTING4 | XB_IF_NF_PREROUTING6))
			xb_iface_log_netfilter(ifc->name, cfg.flags);
	}
	xb_md_egress_sync(dp);
}
