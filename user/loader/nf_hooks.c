// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_hook.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include "lib/log.h"
#include "loader/nf_hooks.h"
#include "netlink/nl_dump.h"

/* How the hooks were found: nfnetlink_hook's listing, or (a kernel
 * without it) the nftables objects and the iptables tables. */
enum nf_path {
	NF_PATH_NONE,
	NF_PATH_HOOK,
	NF_PATH_FALLBACK,
};

/* A debug line naming the path taken, whenever it is not the one taken
 * last time at that place (the daemon asks at every refresh). */
static void log_path(enum nf_path *last, enum nf_path path, const char *where, int err)
{
	if (*last == path)
		return;
	*last = path;
	if (path == NF_PATH_HOOK)
		pr_debug("netfilter hooks at %s: listed by nfnetlink_hook\n", where);
	else
		pr_debug("netfilter hooks at %s: no nfnetlink_hook (%s), read from the nftables "
			 "chains and flowtables%s\n", where, strerror(-err),
			 strcmp(where, "prerouting") ? "" : " and the iptables tables");
}

/* Hook functions that leave a packet's fate and path alone. */
static bool hook_is_tracking(const char *fn)
{
	static const char *const tracking[] = {
		"ipv4_conntrack_in", "ipv4_conntrack_defrag",
		"ipv6_conntrack_in", "ipv6_defrag",
	};
	size_t i;

	for (i = 0; i < sizeof(tracking) / sizeof(tracking[0]); i++)
		if (!strcmp(fn, tracking[i]))
			return true;
	return false;
}

static int on_hook_attr(const struct nlattr *a, void *data)
{
	const char **fn = data;

	if (mnl_attr_get_type(a) == NFNLA_HOOK_FUNCTION_NAME &&
	    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
		*fn = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int on_hook(const struct nlmsghdr *nlh, void *data)
{
	const char *fn = NULL;
	bool *hooked = data;

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), on_hook_attr, &fn);
	/* a hook without a name is counted: it may do anything */
	if (!fn || !hook_is_tracking(fn))
		*hooked = true;
	return MNL_CB_OK;
}

/* The header of an nfnetlink request (subsystem, message, family) in buf;
 * the caller adds attributes. */
static struct nlmsghdr *nfnl_request(char *buf, __u8 subsys, __u8 msg, __u8 family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (__u16)(subsys << 8 | msg);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	return nlh;
}

/* ---- without nfnetlink_hook: nftables base chains and flowtables,
 * iptables tables ---- */

/* NFTA_DEVICE_PREFIX (6.17+): a wildcard device name ("eth*" as "eth"). */
#define XB_NFTA_DEVICE_PREFIX	(NFTA_DEVICE_NAME + 1)

/* What a chain dump is asked: the families (XB_NF_* bits) with a base
 * chain at prerouting, or, given ifname, whether a chain or a flowtable
 * hooks that device's ingress. */
struct chain_scan {
	unsigned int families;
	const char *ifname;
	bool ingress;
};

/* A base chain's or a flowtable's hook: its number and whether ifname is
 * among its devices. */
struct chain_hook {
	__u32 hooknum;
	const char *ifname;
	bool on_dev;
};

/* Does a device name attribute name ifname (exactly, or as a prefix)? The
 * kernel does not always count the NUL in the length. */
static bool names_dev(const struct nlattr *a, const char *ifname, bool prefix)
{
	const char *s = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a), n = strlen(ifname);

	while (len && !s[len - 1])
		len--;
	return prefix ? len <= n && !memcmp(s, ifname, len) : len == n && !memcmp(s, ifname, n);
}

static int on_hook_dev(const struct nlattr *a, void *data)
{
	struct chain_hook *h = data;
	int type = mnl_attr_get_type(a);

	if (h->ifname && (type == NFTA_DEVICE_NAME || type == XB_NFTA_DEVICE_PREFIX) &&
	    !mnl_attr_validate(a, MNL_TYPE_STRING) &&
	    names_dev(a, h->ifname, type == XB_NFTA_DEVICE_PREFIX))
		h->on_dev = true;
	return MNL_CB_OK;
}

static int on_chain_hook_attr(const struct nlattr *a, void *data)
{
	struct chain_hook *h = data;

	switch (mnl_attr_get_type(a)) {
	case NFTA_HOOK_HOOKNUM:
		if (!mnl_attr_validate(a, MNL_TYPE_U32))
			h->hooknum = ntohl(mnl_attr_get_u32(a));
		break;
	case NFTA_HOOK_DEV:
		if (h->ifname && !mnl_attr_validate(a, MNL_TYPE_STRING) &&
		    names_dev(a, h->ifname, false))
			h->on_dev = true;
		break;
	case NFTA_HOOK_DEVS:
		if (!mnl_attr_validate(a, MNL_TYPE_NESTED))
			mnl_attr_parse_nested(a, on_hook_dev, h);
		break;
	}
	return MNL_CB_OK;
}

static int on_chain_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NFTA_CHAIN_HOOK && !mnl_attr_validate(a, MNL_TYPE_NESTED))
		mnl_attr_parse_nested(a, on_chain_hook_attr, data);
	return MNL_CB_OK;
}

/* A base chain at prerouting of ip, ip6 or inet (both); given ifname, an
 * ingress chain of netdev or inet on that device. */
static int on_chain(const struct nlmsghdr *nlh, void *data)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct chain_scan *scan = data;
	struct chain_hook hook = { .hooknum = ~0U, .ifname = scan->ifname };

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*g), on_chain_attr, &hook);
	if (scan->ifname) {
		if (hook.on_dev &&
		    ((g->nfgen_family == NFPROTO_NETDEV && hook.hooknum == NF_NETDEV_INGRESS) ||
		     (g->nfgen_family == NFPROTO_INET && hook.hooknum == NF_INET_INGRESS)))
			scan->ingress = true;
		return MNL_CB_OK;
	}
	if (hook.hooknum != NF_INET_PRE_ROUTING)
		return MNL_CB_OK;
	if (g->nfgen_family == NFPROTO_IPV4 || g->nfgen_family == NFPROTO_INET)
		scan->families |= XB_NF_IPV4;
	if (g->nfgen_family == NFPROTO_IPV6 || g->nfgen_family == NFPROTO_INET)
		scan->families |= XB_NF_IPV6;
	return MNL_CB_OK;
}

static int on_flowtable_hook_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NFTA_FLOWTABLE_HOOK_DEVS &&
	    !mnl_attr_validate(a, MNL_TYPE_NESTED))
		mnl_attr_parse_nested(a, on_hook_dev, data);
	return MNL_CB_OK;
}

static int on_flowtable_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NFTA_FLOWTABLE_HOOK && !mnl_attr_validate(a, MNL_TYPE_NESTED))
		mnl_attr_parse_nested(a, on_flowtable_hook_attr, data);
	return MNL_CB_OK;
}

/* A flowtable (its hook is always ingress) on scan->ifname. */
static int on_flowtable(const struct nlmsghdr *nlh, void *data)
{
	struct chain_scan *scan = data;
	struct chain_hook hook = { .ifname = scan->ifname };

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), on_flowtable_attr, &hook);
	if (hook.on_dev)
		scan->ingress = true;
	return MNL_CB_OK;
}

/* One nftables dump of every family's objects of one kind (NFT_MSG_GET*).
 * EINVAL: a kernel without nf_tables, which has none. */
static int nft_dump(__u8 msg, mnl_cb_t cb, struct chain_scan *scan)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, msg, NFPROTO_UNSPEC);
	int err = xb_nl_dump_once(NETLINK_NETFILTER, nlh, cb, scan);

	return err == -EINVAL ? 0 : err;
}

/* Legacy iptables: a nat, mangle or raw table has prerouting hooks. */
static bool legacy_tables(__u8 nfproto)
{
	const char *path = nfproto == NFPROTO_IPV4 ? "/proc/net/ip_tables_names" :
						     "/proc/net/ip6_tables_names";
	char name[64];
	bool hooked = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	while (!hooked && fscanf(f, "%63s", name) == 1)
		hooked = strcmp(name, "filter") && strcmp(name, "security");
	fclose(f);
	return hooked;
}

/* Both families from one dump of every nftables chain. */
static int prerouting_chains(void)
{
	struct chain_scan scan = {};
	int err;

	err = nft_dump(NFT_MSG_GETCHAIN, on_chain, &scan);
	if (err)
		return err;
	if (legacy_tables(NFPROTO_IPV4))
		scan.families |= XB_NF_IPV4;
	if (legacy_tables(NFPROTO_IPV6))
		scan.families |= XB_NF_IPV6;
	return (int)scan.families;
}

/* nfnetlink_hook's list of one family's prerouting hooks: 1 when more
 * than tracking is there, 0 when not, or -errno. */
static int prerouting_hooks(__u8 nfproto)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfnl_request(buf, NFNL_SUBSYS_HOOK, NFNL_MSG_HOOK_GET, nfproto);
	bool hooked = false;
	int err;

	mnl_attr_put_u32(nlh, NFNLA_HOOK_HOOKNUM, htonl(NF_INET_PRE_ROUTING));
	err = xb_nl_dump_once(NETLINK_NETFILTER, nlh, on_hook, &hooked);
	return err ? err : hooked;
}

int xb_nf_prerouting_families(void)
{
	static enum nf_path last;
	int v4, v6;

	v4 = prerouting_hooks(NFPROTO_IPV4);
	/* EINVAL: no nfnetlink_hook (before 5.14, or not built): every
	 * hook is a chain of nftables or a table of iptables */
	if (v4 == -EINVAL) {
		log_path(&last, NF_PATH_FALLBACK, "prerouting", v4);
		return prerouting_chains();
	}
	if (v4 >= 0)
		log_path(&last, NF_PATH_HOOK, "prerouting", 0);
	v6 = v4 < 0 ? v4 : prerouting_hooks(NFPROTO_IPV6);
	if (v6 < 0)
		return v6;
	return (v4 ? XB_NF_IPV4 : 0) | (v6 ? XB_NF_IPV6 : 0);
}

/* ---- the ingress of one device ---- */

static int on_any_hook(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	*(bool *)data = true;
	return MNL_CB_OK;
}

/* Without nfnetlink_hook, the nftables objects that hook a device's
 * ingress: netdev and inet ingress chains, flowtables. */
static int ingress_chains(const char *ifname)
{
	struct chain_scan scan = { .ifname = ifname };
	int err;

	err = nft_dump(NFT_MSG_GETCHAIN, on_chain, &scan);
	if (!err && !scan.ingress)
		err = nft_dump(NFT_MSG_GETFLOWTABLE, on_flowtable, &scan);
	return err ? err : scan.ingress;
}

int xb_nf_ingress_hooked(const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfnl_request(buf, NFNL_SUBSYS_HOOK, NFNL_MSG_HOOK_GET,
					    NFPROTO_NETDEV);
	static enum nf_path last;
	bool hooked = false;
	int err;

	mnl_attr_put_u32(nlh, NFNLA_HOOK_HOOKNUM, htonl(NF_NETDEV_INGRESS));
	mnl_attr_put_strz(nlh, NFNLA_HOOK_DEV, ifname);
	/* every hook there counts: no tracking runs at ingress */
	err = xb_nl_dump_once(NETLINK_NETFILTER, nlh, on_any_hook, &hooked);
	if (err == -EINVAL) {
		log_path(&last, NF_PATH_FALLBACK, "ingress", err);
		return ingress_chains(ifname);
	}
	if (!err)
		log_path(&last, NF_PATH_HOOK, "ingress", 0);
	/* EPROTONOSUPPORT: no netfilter, or no ingress hooks in it */
	if (err == -EPROTONOSUPPORT)
		return 0;
	return err ? err : hooked;
}
