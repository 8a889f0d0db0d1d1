// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <arpa/inet.h>
#include <linux/xfrm.h>
#include "netlink/xfrm_names.h"
#include "xfrmbpf/sync.h"

const char *xb_dir_name(unsigned int dir)
{
	switch (dir) {
	case XFRM_POLICY_IN: return "in";
	case XFRM_POLICY_OUT: return "out";
	case XFRM_POLICY_FWD: return "fwd";
	}
	return "unknown";
}

const char *xb_ptype_name(unsigned int type)
{
	return type == XFRM_POLICY_TYPE_SUB ? "sub" :
	       type == XFRM_POLICY_TYPE_MAIN ? "main" : "unknown";
}

const char *xb_action_name(unsigned int action)
{
	return action == XFRM_POLICY_BLOCK ? "block" : "allow";
}

const char *xb_mode_name(unsigned int mode)
{
	switch (mode) {
	case XFRM_MODE_TRANSPORT: return "transport";
	case XFRM_MODE_TUNNEL: return "tunnel";
	case XFRM_MODE_ROUTEOPTIMIZATION: return "ro";
	case XFRM_MODE_IN_TRIGGER: return "in_trigger";
	case XFRM_MODE_BEET: return "beet";
	}
	return "unknown";
}

const char *xb_family_name(unsigned int family)
{
	return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "unspec";
}

const char *xb_default_name(unsigned int action)
{
	return action == XB_DEFAULT_BLOCK ? "block" : "accept";
}

char *xb_addr_str(char *buf, size_t len, unsigned int family,
		  const union xb_addr *addr, int prefixlen)
{
	char a[INET6_ADDRSTRLEN];
	int af = family == AF_INET6 ? AF_INET6 : AF_INET;

	if (!inet_ntop(af, addr->b, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (prefixlen >= 0)
		snprintf(buf, len, "%s/%d", a, prefixlen);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}
