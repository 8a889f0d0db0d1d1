/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One dump request on a socket of its own, for the occasional reads of
 * kernel state beside the mirror's sockets (tc filters, sockets,
 * netfilter hooks).
 */
#ifndef XFRMBPF_NL_DUMP_H
#define XFRMBPF_NL_DUMP_H

#include <libmnl/libmnl.h>

/* Sends req (NLM_F_REQUEST | NLM_F_DUMP and the sequence number are set
 * here) on a new NETLINK_<bus> socket and runs cb on every message of the
 * answer until it ends. Returns 0, or -errno (an NLMSG_ERROR's error). */
int xb_nl_dump_once(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data);

#endif
