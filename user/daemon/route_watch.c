// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "loader/sync_record.h"
#include "lib/log.h"
#include "daemon/route_watch.h"

/*
 * What bpf_fib_lookup() answers for a flow changes with routes (any
 * table), rules, local addresses (their local routes), the state of
 * devices (IPv4 drops the routes of a downed device without telling) and
 * forwarding (netconf). The messages themselves do not matter: any of
 * them invalidates the cache, so a burst costs one bump.
 */
static const unsigned int watched_groups[] = {
	RTNLGRP_LINK,
	RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
	RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
	RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE,
	RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF,
};

int xb_route_watch_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	size_t i;
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	for (i = 0; i < sizeof(watched_groups) / sizeof(watched_groups[0]); i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
			       &watched_groups[i], sizeof(watched_groups[i])))
			goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int xb_route_watch_read(int fd, const struct xb_maps *maps)
{
	char buf[8192];
	bool changed = false;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0 || (n < 0 && errno == ENOBUFS)) {
			changed = true;	/* lost messages were changes too */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (changed)
		xb_sync_flows_stale(maps);
	if (n < 0 && errno != EAGAIN) {
		pr_warn("Route watch: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}
