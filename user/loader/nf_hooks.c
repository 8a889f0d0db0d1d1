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
#include "loader/nf_hooks.h"
#include "netlink/nl_dump.h"

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

/* One nfnetlink dump request (subsystem, message, family, and a u32
 * attribute when attr is not 0), its messages to cb. 0 or -errno. */
static int nfnl_dump(__u8 subsys, __u8 msg, __u8 family, __u16 attr, __u32 attr_be,
		     mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (__u16)(subsys << 8 | msg);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	if (attr)
		mnl_attr_put_u32(nlh, attr, attr_be);
	return xb_nl_dump_once(NETLINK_NETFILTER, nlh, cb, data);
}

/* ---- without nfnetlink_hook: nftables base chains, iptables tables ---- */

/* The families (XB_NF_* bits) with a base chain at prerouting. */
struct chain_scan {
	unsigned int families;
};

static int on_chain_hook_attr(const struct nlattr *a, void *data)
{
	__u32 *hooknum = data;

	if (mnl_attr_get_type(a) == NFTA_HOOK_HOOKNUM && !mnl_attr_validate(a, MNL_TYPE_U32))
		*hooknum = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

static int on_chain_attr(const struct nlattr *a, void *data)
{
	__u32 *hooknum = data;

	if (mnl_attr_get_type(a) == NFTA_CHAIN_HOOK && !mnl_attr_validate(a, MNL_TYPE_NESTED))
		mnl_attr_parse_nested(a, on_chain_hook_attr, hooknum);
	return MNL_CB_OK;
}

/* A base chain at prerouting of ip, ip6 or inet (both). */
static int on_chain(const struct nlmsghdr *nlh, void *data)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct chain_scan *scan = data;
	__u32 hooknum = ~0U;

	mnl_attr_parse(nlh, sizeof(*g), on_chain_attr, &hooknum);
	if (hooknum != NF_INET_PRE_ROUTING)
		return MNL_CB_OK;
	if (g->nfgen_family == NFPROTO_IPV4 || g->nfgen_family == NFPROTO_INET)
		scan->families |= XB_NF_IPV4;
	if (g->nfgen_family == NFPROTO_IPV6 || g->nfgen_family == NFPROTO_INET)
		scan->families |= XB_NF_IPV6;
	return MNL_CB_OK;
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

	err = nfnl_dump(NFNL_SUBSYS_NFTABLES, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, 0, 0,
			on_chain, &scan);
	if (err && err != -EINVAL)	/* EINVAL: no nf_tables */
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
	bool hooked = false;
	int err;

	err = nfnl_dump(NFNL_SUBSYS_HOOK, NFNL_MSG_HOOK_GET, nfproto, NFNLA_HOOK_HOOKNUM,
			htonl(NF_INET_PRE_ROUTING), on_hook, &hooked);
	return err ? err : hooked;
}

int xb_nf_prerouting_families(void)
{
	int v4, v6;

	v4 = prerouting_hooks(NFPROTO_IPV4);
	/* EINVAL: no nfnetlink_hook (before 5.14, or not built): every
	 * hook is a chain of nftables or a table of iptables */
	if (v4 == -EINVAL)
		return prerouting_chains();
	v6 = v4 < 0 ? v4 : prerouting_hooks(NFPROTO_IPV6);
	if (v6 < 0)
		return v6;
	return (v4 ? XB_NF_IPV4 : 0) | (v6 ? XB_NF_IPV6 : 0);
}
