/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Parsing of NETLINK_XFRM and rtnetlink link messages into mirror events.
 * Pure functions: no sockets, no maps, no global state, so the unit tests
 * feed them crafted and malformed messages.
 *
 * Key material: SA messages carry XFRMA_ALG_* attributes with keys. The
 * parser never copies them; an event holds identities only. The caller
 * wipes the receive buffer after parsing (dispatch_and_wipe() in
 * netlink/nl.c).
 */
#ifndef XFRMBPF_XFRM_MSG_H
#define XFRMBPF_XFRM_MSG_H

#include <stdbool.h>
#include <linux/netlink.h>
#include "xfrmbpf/limits.h"
#include "xfrmbpf/spd.h"
#include "xfrmbpf/sad.h"

enum xb_event_kind {
	XB_EV_IGNORED = 0,	/* valid, but nothing the mirror follows */
	XB_EV_POLICY_UPSERT,	/* NEWPOLICY, UPDPOLICY, dump entry */
	XB_EV_POLICY_DEL,	/* DELPOLICY, POLEXPIRE hard */
	XB_EV_POLICY_FLUSH,	/* FLUSHPOLICY */
	XB_EV_SA_UPSERT,	/* NEWSA, UPDSA, dump entry */
	XB_EV_SA_DEL,		/* DELSA, EXPIRE hard */
	XB_EV_SA_FLUSH,		/* FLUSHSA */
	XB_EV_DEFAULTS,		/* GETDEFAULT reply or notification */
	XB_EV_LINK_UPSERT,	/* RTM_NEWLINK of an xfrm interface */
	XB_EV_LINK_DEL,		/* RTM_DELLINK, or NEWLINK of a non-xfrm link */
};

struct xb_policy_event {
	struct xb_policy pol;		/* id and pos are the mirror's, 0 here */
	struct xb_tmpl tmpls[XB_MAX_TMPLS];	/* pol.n_tmpls of them */
};

struct xb_sa_event {
	struct xb_sa_key key;
	struct xb_sa sa;
};

struct xb_event {
	enum xb_event_kind kind;
	union {
		struct xb_policy_event policy;	/* UPSERT, DEL */
		struct xb_sa_event sa;		/* UPSERT, DEL */
		__u8 flush_policy_type;		/* POLICY_FLUSH: XFRM_POLICY_TYPE_* */
		__u8 flush_sa_proto;		/* SA_FLUSH: IPPROTO_*, 0 = all */
		__u8 default_action[4];		/* DEFAULTS: by XFRM_POLICY_IN/OUT/FWD,
						 * XB_DEFAULT_ACCEPT / BLOCK */
		struct xb_xfrm_link link;	/* LINK_UPSERT; LINK_DEL: ifindex */
	};
};

/*
 * Parse one NETLINK_XFRM message (nlh->nlmsg_len bytes, already checked to
 * fit the buffer). Returns 0 and fills *ev (kind XB_EV_IGNORED for message
 * types the mirror does not follow), or -EINVAL for a truncated or
 * malformed message, which the caller counts and skips.
 */
int xb_parse_xfrm_msg(const struct nlmsghdr *nlh, struct xb_event *ev);

/* Parse one rtnetlink RTM_NEWLINK / RTM_DELLINK message. Same contract. */
int xb_parse_link_msg(const struct nlmsghdr *nlh, struct xb_event *ev);

const char *xb_event_kind_name(enum xb_event_kind kind);

#endif
