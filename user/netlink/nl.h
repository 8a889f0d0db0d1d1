/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Netlink sockets of the mirror: the XFRM and rtnetlink multicast groups it
 * follows, and the request socket it dumps the SPD, the SAD, the default
 * policies and the links with. Every receive buffer is wiped after its
 * messages are parsed: SA messages carry keys.
 */
#ifndef XFRMBPF_NL_H
#define XFRMBPF_NL_H

#include <stdbool.h>
#include <stddef.h>
#include "netlink/xfrm_msg.h"

struct mnl_socket;

typedef int (*xb_event_cb)(const struct xb_event *ev, void *data);

struct xb_nl {
	struct mnl_socket *xfrm_events;
	struct mnl_socket *link_events;
	struct mnl_socket *xfrm_req;
	struct mnl_socket *rtnl_req;
	unsigned int seq;
	unsigned char *buf;
	size_t buf_len;
	unsigned long bad_msgs;		/* malformed messages skipped */
};

/* Request sockets only (enough for `xfrmbpf check`). */
int xb_nl_open(struct xb_nl *nl);
/* Also subscribe to the XFRM policy/SA/expire and link groups, with a
 * receive buffer of rcvbuf bytes (0: the kernel's default). */
int xb_nl_subscribe(struct xb_nl *nl, int rcvbuf);
void xb_nl_close(struct xb_nl *nl);

/* Dump policies, SAs, default policies and (with links) the xfrm
 * interfaces, calling cb for each event. -EINTR: the kernel flagged the
 * dump inconsistent; dump again. */
int xb_nl_dump(struct xb_nl *nl, bool links, xb_event_cb cb, void *data);

/* Ask the kernel for one policy (by index, dir, type, mark, if_id) and
 * pass the answer to cb: policy notifications leave XFRMA_SEC_CTX out,
 * GETPOLICY answers carry it. -ENOENT when it is gone already. */
int xb_nl_get_policy(struct xb_nl *nl, const struct xb_policy *pol, xb_event_cb cb,
		     void *data);

/* How many policies the kernel's SPD holds (XFRM_MSG_GETSPDINFO): what a
 * dump lists, main and sub, every direction. */
int xb_nl_spd_count(struct xb_nl *nl, __u64 *count);

/* Read every queued multicast message without blocking. Returns 0, or
 * -ENOBUFS when messages were lost (the caller must re-dump). */
int xb_nl_drain(struct xb_nl *nl, bool link_socket, xb_event_cb cb, void *data);

int xb_nl_event_fd(const struct xb_nl *nl, bool link_socket);

/* Parse and dispatch every message of one received datagram; exposed for
 * the unit tests. Returns 1 at NLMSG_DONE, 0 to read on, <0 on error. */
int xb_nl_dispatch(struct xb_nl *nl, const void *buf, size_t len, bool rtnl,
		   unsigned int seq, xb_event_cb cb, void *data);

#endif
