// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>
#include "lib/log.h"
#include "netlink/nl.h"

/* Large enough for any dump skb the kernel builds (32 KiB at most). */
#define XB_NL_BUF_LEN	(64 * 1024)

static struct mnl_socket *open_socket(int bus)
{
	struct mnl_socket *s = mnl_socket_open(bus);

	if (!s)
		return NULL;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(s);
		return NULL;
	}
	return s;
}

int xb_nl_open(struct xb_nl *nl)
{
	memset(nl, 0, sizeof(*nl));
	nl->seq = time(NULL);
	nl->buf_len = XB_NL_BUF_LEN;
	nl->buf = calloc(1, nl->buf_len);
	if (!nl->buf)
		return -ENOMEM;
	nl->xfrm_req = open_socket(NETLINK_XFRM);
	nl->rtnl_req = open_socket(NETLINK_ROUTE);
	if (!nl->xfrm_req || !nl->rtnl_req) {
		int err = -errno;

		pr_warn("Couldn't open netlink sockets: %s\n", strerror(errno));
		xb_nl_close(nl);
		return err ? err : -EIO;
	}
	return 0;
}

static int set_rcvbuf(struct mnl_socket *s, int rcvbuf)
{
	int fd = mnl_socket_get_fd(s);

	if (!rcvbuf)
		return 0;
	/* FORCE lets root go past net.core.rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		return -errno;
	return 0;
}

static int join_groups(struct mnl_socket *s, const unsigned int *groups, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (mnl_socket_setsockopt(s, NETLINK_ADD_MEMBERSHIP, (void *)&groups[i],
					  sizeof(groups[i])) < 0)
			return -errno;
	}
	return 0;
}

int xb_nl_subscribe(struct xb_nl *nl, int rcvbuf)
{
	static const unsigned int xfrm_groups[] = {
		XFRMNLGRP_POLICY, XFRMNLGRP_SA, XFRMNLGRP_EXPIRE,
	};
	static const unsigned int link_groups[] = { RTNLGRP_LINK };
	int err;

	nl->xfrm_events = open_socket(NETLINK_XFRM);
	nl->link_events = open_socket(NETLINK_ROUTE);
	if (!nl->xfrm_events || !nl->link_events)
		return -errno;
	err = join_groups(nl->xfrm_events, xfrm_groups, 3);
	if (!err)
		err = join_groups(nl->link_events, link_groups, 1);
	if (!err)
		err = set_rcvbuf(nl->xfrm_events, rcvbuf);
	if (!err)
		err = set_rcvbuf(nl->link_events, rcvbuf);
	if (err)
		pr_warn("Couldn't subscribe to netlink groups: %s\n", strerror(-err));
	return err;
}

void xb_nl_close(struct xb_nl *nl)
{
	struct mnl_socket **socks[] = {
		&nl->xfrm_events, &nl->link_events, &nl->xfrm_req, &nl->rtnl_req,
	};
	size_t i;

	for (i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		if (*socks[i])
			mnl_socket_close(*socks[i]);
		*socks[i] = NULL;
	}
	if (nl->buf)
		explicit_bzero(nl->buf, nl->buf_len);
	free(nl->buf);
	nl->buf = NULL;
}

int xb_nl_event_fd(const struct xb_nl *nl, bool link_socket)
{
	return mnl_socket_get_fd(link_socket ? nl->link_events : nl->xfrm_events);
}

/* One datagram being dispatched: what the mnl callbacks share. */
struct dispatch {
	struct xb_nl *nl;
	bool rtnl;
	unsigned int seq;		/* 0: any (multicast) */
	xb_event_cb cb;
	void *data;
	const char *parsed_end;		/* end of the last message seen */
	int result;			/* why a callback stopped the run */
};

/*
 * Called for every message. The sequence filter is ours, not mnl's: a
 * reply to an earlier request (left queued by an interrupted dump) is
 * skipped, where mnl_cb_run would fail the whole answer.
 */
static bool dispatch_wants(struct dispatch *d, const struct nlmsghdr *nlh)
{
	d->parsed_end = (const char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len);
	return !d->seq || nlh->nlmsg_seq == d->seq;
}

static int dispatch_stop(struct dispatch *d, int result)
{
	d->result = result;
	return MNL_CB_STOP;
}

/* A data message: parsed into an event for cb, or counted and skipped. */
static int on_data(const struct nlmsghdr *nlh, void *arg)
{
	struct dispatch *d = arg;
	struct xb_event ev;
	int err;

	if (!dispatch_wants(d, nlh))
		return MNL_CB_OK;
	err = d->rtnl ? xb_parse_link_msg(nlh, &ev) : xb_parse_xfrm_msg(nlh, &ev);
	if (err) {
		d->nl->bad_msgs++;
		pr_debug("Skipped malformed netlink message type %u (len %u)\n",
			 nlh->nlmsg_type, nlh->nlmsg_len);
		return MNL_CB_OK;
	}
	err = ev.kind == XB_EV_IGNORED ? 0 : d->cb(&ev, d->data);
	/* The event held identities only, but wipe it like the buffer. */
	explicit_bzero(&ev, sizeof(ev));
	return err ? dispatch_stop(d, err) : MNL_CB_OK;
}

/* NLMSG_ERROR: an ACK (error 0) ends the answer, an error fails it. */
static int on_error(struct dispatch *d, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		d->nl->bad_msgs++;
		return dispatch_stop(d, -EBADMSG);
	}
	return dispatch_stop(d, e->error ? e->error : 1);
}

/* DONE ends the answer; NOOP, OVERRUN and the reserved types carry
 * nothing for the mirror. */
static int on_control(const struct nlmsghdr *nlh, void *arg)
{
	struct dispatch *d = arg;

	if (!dispatch_wants(d, nlh))
		return MNL_CB_OK;
	if (nlh->nlmsg_type == NLMSG_ERROR)
		return on_error(d, nlh);
	if (nlh->nlmsg_type == NLMSG_DONE)
		return dispatch_stop(d, 1);
	return MNL_CB_OK;
}

/* Every control type has a callback: dispatch_wants() sees each message.
 * Not const: mnl_cb_run2() takes a plain pointer. */
static mnl_cb_t control_cbs[NLMSG_MIN_TYPE] = {
	[0 ... NLMSG_MIN_TYPE - 1] = on_control,
};

/* NLMSG_OK() as the kernel has it, on unsigned lengths: mnl_nlmsg_ok()
 * compares nlmsg_len as an int, so a length of 2 GiB or more passes it and
 * mnl_nlmsg_next() then steps backwards (an endless loop, or reads out of
 * the buffer). */
static bool nlmsg_ok(const struct nlmsghdr *nlh, size_t left)
{
	return left >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= left;
}

/* The bytes at the start of buf that are whole messages; what follows the
 * first bad length is not parsed. */
static size_t whole_messages(const void *buf, size_t len)
{
	const char *p = buf;
	size_t off = 0, step;

	while (off < len && nlmsg_ok((const struct nlmsghdr *)(p + off), len - off)) {
		step = NLMSG_ALIGN(((const struct nlmsghdr *)(p + off))->nlmsg_len);
		off += step < len - off ? step : len - off;
	}
	return off;
}

int xb_nl_dispatch(struct xb_nl *nl, const void *buf, size_t len, bool rtnl,
		   unsigned int seq, xb_event_cb cb, void *data)
{
	struct dispatch d = {
		.nl = nl, .rtnl = rtnl, .seq = seq, .cb = cb, .data = data,
		.parsed_end = buf,
	};
	size_t whole = whole_messages(buf, len);
	int ret;

	if (whole < len)
		nl->bad_msgs++;
	ret = mnl_cb_run2(buf, whole, 0, 0, on_data, &d, control_cbs, NLMSG_MIN_TYPE);

	/* Our callbacks only stop; an error is mnl's own: NLM_F_DUMP_INTR,
	 * the kernel's dump was inconsistent. */
	if (ret == MNL_CB_ERROR)
		return -errno;
	if (ret == MNL_CB_STOP)
		return d.result;
	/* Bytes after the last whole message: a malformed one. */
	if (whole == len && d.parsed_end < (const char *)buf + len)
		nl->bad_msgs++;
	return 0;
}

/* Every receive buffer goes through here: SA messages carry keys, so the
 * bytes are wiped as soon as they are parsed. */
static int dispatch_and_wipe(struct xb_nl *nl, void *buf, size_t len, bool rtnl,
			     unsigned int seq, xb_event_cb cb, void *data)
{
	int ret = xb_nl_dispatch(nl, buf, len, rtnl, seq, cb, data);

	explicit_bzero(buf, len);
	return ret;
}

/* Did the message come from the kernel, whole? Anyone may send to a
 * netlink socket's port; only the kernel's replies and events count. */
static bool from_kernel(struct xb_nl *nl, const struct sockaddr_nl *from,
			const struct msghdr *msg, void *buf, size_t n)
{
	if (from->nl_pid == 0 && msg->msg_namelen == sizeof(*from) &&
	    !(msg->msg_flags & MSG_TRUNC))
		return true;
	nl->bad_msgs++;
	explicit_bzero(buf, n);
	return false;
}

/* One datagram from the kernel on s (others are counted and dropped). */
static ssize_t recv_kernel(struct xb_nl *nl, struct mnl_socket *s, void *buf, size_t len)
{
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { buf, len };
		struct msghdr msg = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t n = recvmsg(mnl_socket_get_fd(s), &msg, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || from_kernel(nl, &from, &msg, buf, (size_t)n))
			return n;
	}
}

/* Receive and dispatch until the answer to request seq is complete. */
static int recv_answer(struct xb_nl *nl, struct mnl_socket *s, bool rtnl,
		       unsigned int seq, xb_event_cb cb, void *data)
{
	int ret;

	do {
		ssize_t n = recv_kernel(nl, s, nl->buf, nl->buf_len);

		if (n < 0)
			return -errno;
		ret = dispatch_and_wipe(nl, nl->buf, n, rtnl, seq, cb, data);
	} while (ret == 0);
	return ret < 0 ? ret : 0;
}

/*
 * A non-dump request is answered by one message or an error. Its own
 * buffer: it may be sent from a callback while nl->buf is being parsed.
 */
static int recv_reply(struct xb_nl *nl, struct mnl_socket *s, unsigned int seq,
		      xb_event_cb cb, void *data)
{
	unsigned char reply[8192] __attribute__((aligned(8)));
	ssize_t n = recv_kernel(nl, s, reply, sizeof(reply));
	int ret;

	if (n < 0)
		return -errno;
	ret = dispatch_and_wipe(nl, reply, n, false, seq, cb, data);
	return ret < 0 ? ret : 0;
}

static int request(struct xb_nl *nl, struct mnl_socket *s, bool rtnl, __u16 type,
		   __u16 flags, const void *payload, size_t payload_len,
		   xb_event_cb cb, void *data)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	if (payload_len)
		memcpy(mnl_nlmsg_put_extra_header(nlh, payload_len), payload, payload_len);
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return recv_answer(nl, s, rtnl, nl->seq, cb, data);
}

int xb_nl_get_policy(struct xb_nl *nl, const struct xb_policy *pol, xb_event_cb cb,
		      void *data)
{
	struct xfrm_userpolicy_type type = { .type = pol->type };
	struct xfrm_mark mark = { .v = pol->mark_v, .m = pol->mark_m };
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct xfrm_userpolicy_id *id;
	struct nlmsghdr *nlh;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = XFRM_MSG_GETPOLICY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++nl->seq;
	id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
	id->index = pol->index;
	id->dir = pol->dir;
	/* xfrm_policy_byid() matches type, mark and if_id too. */
	mnl_attr_put(nlh, XFRMA_POLICY_TYPE, sizeof(type), &type);
	if (mark.v || mark.m)
		mnl_attr_put(nlh, XFRMA_MARK, sizeof(mark), &mark);
	if (pol->if_id)
		mnl_attr_put_u32(nlh, XFRMA_IF_ID, pol->if_id);
	if (mnl_socket_sendto(nl->xfrm_req, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return recv_reply(nl, nl->xfrm_req, nl->seq, cb, data);
}

static int dump_defaults(struct xb_nl *nl, xb_event_cb cb, void *data)
{
	struct xfrm_userpolicy_default def = {};
	struct xb_event ev = { .kind = XB_EV_DEFAULTS };
	int err;

	/* The ACK after the reply ends the answer. */
	err = request(nl, nl->xfrm_req, false, XFRM_MSG_GETDEFAULT, NLM_F_ACK, &def,
		      sizeof(def), cb, data);
	if (err == -EOPNOTSUPP || err == -EINVAL) {
		/* Kernels before 5.16 have no default policies: accept. */
		pr_debug("No XFRM default policies on this kernel\n");
		return cb(&ev, data);
	}
	return err;
}

/* XFRMA_SPD_INFO of a NEWSPDINFO reply: the main and sub policies per
 * direction (socket policies are counted apart and never dumped). */
static int spd_info_attr(const struct nlattr *attr, void *data)
{
	const struct xfrmu_spdinfo *si;

	if (mnl_attr_get_type(attr) != XFRMA_SPD_INFO)
		return MNL_CB_OK;
	if (mnl_attr_get_payload_len(attr) < sizeof(*si))
		return MNL_CB_ERROR;
	si = mnl_attr_get_payload(attr);
	*(__u64 *)data = (__u64)si->incnt + si->outcnt + si->fwdcnt;
	return MNL_CB_OK;
}

int xb_nl_spd_count(struct xb_nl *nl, __u64 *count)
{
	unsigned char reply[1024] __attribute__((aligned(8)));
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	__u64 n = ~0ULL;

	nlh->nlmsg_type = XFRM_MSG_GETSPDINFO;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++nl->seq;
	*(__u32 *)mnl_nlmsg_put_extra_header(nlh, sizeof(__u32)) = 0;
	if (mnl_socket_sendto(nl->xfrm_req, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv_kernel(nl, nl->xfrm_req, reply, sizeof(reply));
		const struct nlmsghdr *r = (const struct nlmsghdr *)reply;
		int left;

		if (len < 0)
			return -errno;
		left = (int)whole_messages(reply, (size_t)len);
		for (; mnl_nlmsg_ok(r, left); r = mnl_nlmsg_next(r, &left)) {
			if (r->nlmsg_seq != nl->seq)
				continue;	/* left over from an earlier request */
			if (r->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(r);

				return r->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)) && e->error ?
				       e->error : -EBADMSG;
			}
			if (r->nlmsg_type != XFRM_MSG_NEWSPDINFO)
				continue;
			if (mnl_attr_parse(r, sizeof(__u32), spd_info_attr, &n) < 0 ||
			    n == ~0ULL) {
				nl->bad_msgs++;
				return -EBADMSG;
			}
			*count = n;
			return 0;
		}
	}
}

int xb_nl_dump(struct xb_nl *nl, bool links, xb_event_cb cb, void *data)
{
	struct ifinfomsg ifm = { .ifi_family = AF_UNSPEC };
	int err;

	err = request(nl, nl->xfrm_req, false, XFRM_MSG_GETPOLICY, NLM_F_DUMP,
		      NULL, 0, cb, data);
	if (!err)
		/* No body: the kernel reads a dump's body as filter
		 * attributes (an xfrm_usersa_id there is "24 bytes
		 * leftover after parsing attributes"). */
		err = request(nl, nl->xfrm_req, false, XFRM_MSG_GETSA, NLM_F_DUMP,
			      NULL, 0, cb, data);
	if (!err)
		err = dump_defaults(nl, cb, data);
	if (!err && links)
		err = request(nl, nl->rtnl_req, true, RTM_GETLINK, NLM_F_DUMP,
			      &ifm, sizeof(ifm), cb, data);
	return err;
}

int xb_nl_drain(struct xb_nl *nl, bool link_socket, xb_event_cb cb, void *data)
{
	struct mnl_socket *s = link_socket ? nl->link_events : nl->xfrm_events;
	int fd = mnl_socket_get_fd(s), err, lost = 0;

	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { nl->buf, nl->buf_len };
		struct msghdr msg = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				lost = 1;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		/* Only the kernel speaks on these groups. */
		if (!from_kernel(nl, &from, &msg, nl->buf, (size_t)n))
			continue;
		err = dispatch_and_wipe(nl, nl->buf, n, link_socket, 0, cb, data);
		if (err < 0)
			return err;
	}
	return lost ? -ENOBUFS : 0;
}
