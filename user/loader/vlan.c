// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <libmnl/libmnl.h>
#include "loader/vlan.h"
#include "netlink/nl_dump.h"

/* What the dump says about the device and its VLAN devices. */
struct link_scan {
	int ifindex;
	bool found;		/* the device itself */
	bool veth;
	int peer;		/* a veth's peer, 0 when unknown */
	bool peer_elsewhere;	/* in another network namespace */
	/* every VLAN device up on it, before the table is cut to size */
	struct xb_vlan_upper *all;
	int n_all, cap_all;
};

/* The attributes of one RTM_NEWLINK that matter here. */
struct link_attrs {
	const char *name;
	__u32 link;
	bool has_link, link_netnsid;
	const struct nlattr *linkinfo;
	const char *kind;
	const struct nlattr *data;
	__u16 vid;
	__u16 proto;		/* network order */
	bool has_vid;
};

static int on_link_attr(const struct nlattr *a, void *data)
{
	struct link_attrs *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (!mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			l->name = mnl_attr_get_str(a);
		break;
	case IFLA_LINK:
		if (!mnl_attr_validate(a, MNL_TYPE_U32)) {
			l->link = mnl_attr_get_u32(a);
			l->has_link = true;
		}
		break;
	case IFLA_LINK_NETNSID:
		l->link_netnsid = true;
		break;
	case IFLA_LINKINFO:
		if (!mnl_attr_validate(a, MNL_TYPE_NESTED))
			l->linkinfo = a;
		break;
	}
	return MNL_CB_OK;
}

static int on_info_attr(const struct nlattr *a, void *data)
{
	struct link_attrs *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_INFO_KIND:
		if (!mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			l->kind = mnl_attr_get_str(a);
		break;
	case IFLA_INFO_DATA:
		if (!mnl_attr_validate(a, MNL_TYPE_NESTED))
			l->data = a;
		break;
	}
	return MNL_CB_OK;
}

static int on_vlan_attr(const struct nlattr *a, void *data)
{
	struct link_attrs *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_VLAN_ID:
		if (!mnl_attr_validate(a, MNL_TYPE_U16)) {
			l->vid = mnl_attr_get_u16(a);
			l->has_vid = true;
		}
		break;
	case IFLA_VLAN_PROTOCOL:
		if (!mnl_attr_validate(a, MNL_TYPE_U16))
			l->proto = mnl_attr_get_u16(a);
		break;
	}
	return MNL_CB_OK;
}

static bool kind_is(const struct link_attrs *l, const char *want)
{
	return l->kind && !strcmp(l->kind, want);
}

static int on_link(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link_scan *s = data;
	struct link_attrs l = {};
	struct xb_vlan_upper *u;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifi), on_link_attr, &l);
	if (l.linkinfo)
		mnl_attr_parse_nested(l.linkinfo, on_info_attr, &l);
	if (ifi->ifi_index == s->ifindex) {
		s->found = true;
		s->veth = kind_is(&l, "veth");
		s->peer = l.has_link ? (int)l.link : 0;
		s->peer_elsewhere = l.link_netnsid;
		return MNL_CB_OK;
	}
	/* A VLAN device on this device, in this namespace (IFLA_LINK of
	 * another namespace's device comes with IFLA_LINK_NETNSID). Down,
	 * the kernel drops its frames (vlan_do_receive): left out. */
	if (!l.has_link || l.link_netnsid || (int)l.link != s->ifindex ||
	    !kind_is(&l, "vlan") || !l.data || !(ifi->ifi_flags & IFF_UP))
		return MNL_CB_OK;
	mnl_attr_parse_nested(l.data, on_vlan_attr, &l);
	if (!l.has_vid)
		return MNL_CB_OK;
	if (s->n_all == s->cap_all) {
		int cap = s->cap_all ? 2 * s->cap_all : 16;
		void *p = realloc(s->all, (size_t)cap * sizeof(*s->all));

		if (!p)
			return MNL_CB_ERROR;
		s->all = p;
		s->cap_all = cap;
	}
	u = &s->all[s->n_all++];
	memset(u, 0, sizeof(*u));
	u->ifindex = ifi->ifi_index;
	snprintf(u->name, sizeof(u->name), "%s", l.name ? l.name : "?");
	u->tag = (l.vid & XB_VLAN_VID_MASK) |
		 (l.proto == htons(ETH_P_8021AD) ? XB_VLAN_TAG_AD : 0);
	return MNL_CB_OK;
}

/* By VID, then 802.1Q before 802.1ad: priority-tag devices (VID 0) are
 * never the ones cut from a full table. */
static int cmp_upper(const void *a, const void *b)
{
	const struct xb_vlan_upper *x = a, *y = b;
	int kx = (x->tag & XB_VLAN_VID_MASK) << 1 | !!(x->tag & XB_VLAN_TAG_AD);
	int ky = (y->tag & XB_VLAN_VID_MASK) << 1 | !!(y->tag & XB_VLAN_TAG_AD);

	return kx - ky;
}

/*
 * The active state of the named ethtool features of ifname (ETHTOOL_
 * GFEATURES by ETH_SS_FEATURES names: the bit numbers are not ABI). A
 * name the kernel does not list is off. Returns 0 or -errno.
 */
static int dev_features(const char *ifname, const char *const names[], int n,
			bool *on)
{
	struct {
		struct ethtool_sset_info hdr;
		__u32 count;
	} sset = { .hdr = { .cmd = ETHTOOL_GSSET_INFO,
			    .sset_mask = 1ULL << ETH_SS_FEATURES } };
	struct ethtool_gstrings *strs = NULL;
	struct ethtool_gfeatures *gf = NULL;
	struct ifreq ifr = {};
	__u32 count, blocks, i;
	int fd, j, err = 0;

	memset(on, 0, (size_t)n * sizeof(*on));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&sset;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	count = sset.hdr.sset_mask ? sset.count : 0;
	blocks = (count + 31) / 32;
	strs = calloc(1, sizeof(*strs) + (size_t)count * ETH_GSTRING_LEN);
	gf = calloc(1, sizeof(*gf) + blocks * sizeof(gf->features[0]));
	if (!strs || !gf) {
		err = -ENOMEM;
		goto out;
	}
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_FEATURES;
	strs->len = count;
	ifr.ifr_data = (void *)strs;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = blocks;
	ifr.ifr_data = (void *)gf;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < count && i < strs->len; i++) {
		const char *name = (const char *)strs->data + (size_t)i * ETH_GSTRING_LEN;

		for (j = 0; j < n; j++)
			if (!strncmp(name, names[j], ETH_GSTRING_LEN))
				on[j] = gf->features[i / 32].active & (1u << (i % 32));
	}
out:
	free(strs);
	free(gf);
	close(fd);
	return err;
}

/* Does any of the named features of ifindex hold (or can't it be read)? */
static bool any_feature(int ifindex, const char *const names[2])
{
	char name[IF_NAMESIZE];
	bool on[2];

	if (!if_indextoname((unsigned int)ifindex, name) ||
	    dev_features(name, names, 2, on))
		return true;
	return on[0] || on[1];
}

/*
 * Can a frame reach the kernel with a tag that XDP did not see in it,
 * while VLAN devices take such frames? A NIC with rx-vlan offload strips
 * tags into its descriptors (bpf_xdp_metadata_rx_vlan_tag, 6.8+, is the
 * only way to see them there). A veth passes the skb of its peer's
 * transmit on, tag in skb->vlan_tci unless the peer's tx-vlan offload is
 * off, when the kernel puts it into the frame before the transmit
 * (validate_xmit_vlan): the peer must be readable, in this namespace. An
 * skb-mode program may be given skbs with the tag outside the frame by
 * anything that injects them (tc or bpf redirects to ingress).
 */
static const char *tags_hidden(const struct link_scan *s, bool generic)
{
	static const char *const rx[2] = { "rx-vlan-hw-parse", "rx-vlan-stag-hw-parse" };
	static const char *const tx[2] = { "tx-vlan-hw-insert", "tx-vlan-stag-hw-insert" };

	if (generic)
		return "skb-mode XDP may be given frames whose tag the skb carries beside them";
	if (s->veth) {
		if (!s->peer || s->peer_elsewhere)
			return "a veth whose peer is in another network namespace: whether the "
			       "peer hands tags over beside the frame (tx-vlan offload) cannot "
			       "be read";
		if (any_feature(s->peer, tx))
			return "the veth peer hands tags over beside the frame (tx-vlan-offload "
			       "or tx-vlan-stag-hw-insert on the peer)";
		return NULL;
	}
	if (any_feature(s->ifindex, rx))
		return "the NIC strips tags before XDP (rx-vlan-offload or "
		       "rx-vlan-stag-hw-parse on)";
	return NULL;
}

int xb_vlan_read(int ifindex, bool generic, struct xb_vlan_info *vi)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct link_scan s = { .ifindex = ifindex };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int err, i;

	memset(vi, 0, sizeof(*vi));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	err = xb_nl_dump_once(NETLINK_ROUTE, nlh, on_link, &s);
	if (err || !s.found) {
		free(s.all);
		/* Not knowing the VLAN devices, the tags may be theirs. */
		vi->blind = true;
		vi->blind_why = "its VLAN devices could not be read";
		return err ? err : -ENODEV;
	}
	qsort(s.all, (size_t)s.n_all, sizeof(*s.all), cmp_upper);
	vi->n_up = s.n_all;
	for (i = 0; i < s.n_all && i < XB_MAX_IF_VLANS; i++)
		vi->uppers[i] = s.all[i];
	vi->n = i;
	free(s.all);
	if (vi->n_up) {
		vi->blind_why = tags_hidden(&s, generic);
		vi->blind = vi->blind_why != NULL;
	}
	return 0;
}
