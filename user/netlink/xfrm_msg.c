// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * NETLINK_XFRM and rtnetlink link messages -> mirror events.
 *
 * Message shapes, as net/xfrm/xfrm_user.c builds them:
 *   NEWPOLICY / UPDPOLICY (notification, dump entry, GETPOLICY reply):
 *	xfrm_userpolicy_info, then XFRMA_TMPL (only if templates),
 *	XFRMA_SEC_CTX (dump and POLEXPIRE only, not in notifications),
 *	XFRMA_POLICY_TYPE (CONFIG_XFRM_SUB_POLICY kernels), XFRMA_MARK (only if
 *	v | m), XFRMA_IF_ID (only if non-zero), XFRMA_OFFLOAD_DEV (6.2+).
 *   DELPOLICY: xfrm_userpolicy_id (dir, and index or selector), the policy in
 *	XFRMA_POLICY, the other attributes at top level as above.
 *   POLEXPIRE: xfrm_user_polexpire (policy + hard), attributes as a dump.
 *   FLUSHPOLICY: no header, XFRMA_POLICY_TYPE on SUB_POLICY kernels.
 *   NEWSA / UPDSA (notification, dump entry): xfrm_usersa_info, then
 *	copy_to_user_state_extra()'s attributes, keys (XFRMA_ALG_*) included.
 *   DELSA: xfrm_usersa_id, the SA in XFRMA_SA, the rest at top level.
 *   EXPIRE: xfrm_user_expire (SA + hard), XFRMA_MARK, XFRMA_IF_ID.
 *   FLUSHSA: xfrm_usersa_flush.
 *   GETDEFAULT (reply and XFRMNLGRP_POLICY notification):
 *	xfrm_userpolicy_default, no attributes.
 * Attributes this file does not know (newer kernels add some) are skipped.
 * Attributes it does use must have exactly the kernel's length (XFRMA_TMPL:
 * a multiple of the template; XFRMA_SEC_CTX: at least its header).
 *
 * Every header and attribute struct is memcpy'd to an aligned local: netlink
 * only guarantees 4-byte alignment and these structs hold 64-bit fields.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>
#include <libmnl/libmnl.h>

#include "xfrmbpf/sync.h"
#include "netlink/xfrm_msg.h"

/* XFRMA_SA_PCPU (Linux 6.13, also in Debian's 6.12: 35, after
 * XFRMA_MTIMER_THRESH 32, XFRMA_SA_DIR 33, XFRMA_NAT_KEEPALIVE_INTERVAL
 * 34): the CPU of a per-CPU SA, a __u32. Debian 12's headers end at
 * XFRMA_MTIMER_THRESH; the attributes are collected up to it whatever
 * the headers know. */
#define XB_XFRMA_SA_PCPU	35
#define XB_XFRMA_MAX	(XFRMA_MAX > XB_XFRMA_SA_PCPU ? XFRMA_MAX : XB_XFRMA_SA_PCPU)

/* Attribute collection over one attribute stream, with the check that
 * libmnl's iterators leave out: they stop silently at the first attribute
 * that does not fit, so trailing bytes must be checked for afterwards. */
struct attr_walk {
	const struct nlattr **tb;
	uint16_t max;
	const char *next;	/* first byte after the last attribute seen */
};

static int attr_collect_cb(const struct nlattr *attr, void *data)
{
	struct attr_walk *w = data;
	uint16_t type = mnl_attr_get_type(attr);

	w->next = (const char *)attr + MNL_ALIGN(attr->nla_len);
	if (type <= w->max)
		w->tb[type] = attr;
	return MNL_CB_OK;
}

/* Copy the hdrlen-byte family header into hdr (NULL: none to keep) and
 * collect the attributes that follow it. */
static int msg_attrs(const struct nlmsghdr *nlh, void *hdr, size_t hdrlen,
		     const struct nlattr **tb, uint16_t max)
{
	const char *start = mnl_nlmsg_get_payload_offset(nlh, hdrlen);
	const char *end = (const char *)nlh + nlh->nlmsg_len;
	struct attr_walk w = { .tb = tb, .max = max, .next = start };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (nlh->nlmsg_len < NLMSG_HDRLEN + hdrlen)
		return -EINVAL;
	if (hdr)
		memcpy(hdr, mnl_nlmsg_get_payload(nlh), hdrlen);
	if (start >= end)
		return 0;
	/* libmnl walks up to the aligned end; the kernel always aligns a
	 * message that carries attributes (nlmsg_end()), so an unaligned one
	 * is malformed, and refusing it keeps every read inside nlmsg_len. */
	if (nlh->nlmsg_len != MNL_ALIGN(nlh->nlmsg_len))
		return -EINVAL;
	mnl_attr_parse(nlh, hdrlen, attr_collect_cb, &w);
	return w.next < end ? -EINVAL : 0;
}

/* Collect the attributes nested in nest (already checked to fit). */
static int nested_attrs(const struct nlattr *nest, const struct nlattr **tb,
			uint16_t max)
{
	const char *start = mnl_attr_get_payload(nest);
	const char *end = start + mnl_attr_get_payload_len(nest);
	struct attr_walk w = { .tb = tb, .max = max, .next = start };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -EINVAL;
	mnl_attr_parse_nested(nest, attr_collect_cb, &w);
	return w.next < end ? -EINVAL : 0;
}

/* Copy an optional fixed-size attribute; absent leaves *dst untouched. */
static int attr_copy(const struct nlattr *attr, void *dst, size_t len)
{
	if (!attr)
		return 0;
	if (mnl_attr_validate2(attr, MNL_TYPE_UNSPEC, len) < 0)
		return -EINVAL;
	memcpy(dst, mnl_attr_get_payload(attr), len);
	return 0;
}

static int attr_u32(const struct nlattr *attr, __u32 *v)
{
	if (!attr)
		return 0;
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return -EINVAL;
	*v = mnl_attr_get_u32(attr);
	return 0;
}

/* Bytes of an address that a family uses. An unknown family keeps all 16:
 * the kernel rejects such policies and SAs, so this is never hit by a
 * well-formed message, and keeping them hides nothing. */
static size_t family_addr_len(__u16 family)
{
	return family == AF_INET ? 4 : 16;
}

static void addr_from_user(union xb_addr *dst, const xfrm_address_t *src,
			   __u16 family)
{
	size_t n = family_addr_len(family);

	memset(dst, 0, sizeof(*dst));
	memcpy(dst->b, src, n);
}

static void sel_from_user(struct xb_selector *s, const struct xfrm_selector *u)
{
	memset(s, 0, sizeof(*s));
	addr_from_user(&s->daddr, &u->daddr, u->family);
	addr_from_user(&s->saddr, &u->saddr, u->family);
	s->dport = u->dport;
	s->dport_mask = u->dport_mask;
	s->sport = u->sport;
	s->sport_mask = u->sport_mask;
	s->family = u->family;
	s->prefixlen_d = u->prefixlen_d;
	s->prefixlen_s = u->prefixlen_s;
	s->proto = u->proto;
	s->ifindex = u->ifindex;
	s->user = u->user;
}

static void policy_from_user(struct xb_policy *pol,
			     const struct xfrm_userpolicy_info *u)
{
	sel_from_user(&pol->sel, &u->sel);
	pol->index = u->index;
	pol->priority = u->priority;
	pol->dir = u->dir;
	pol->action = u->action;
	pol->flags = u->flags;
	pol->share = u->share;
}

static void tmpl_from_user(struct xb_tmpl *t, const struct xfrm_user_tmpl *u,
			   __u16 sel_family)
{
	/* The kernel fills a zero template family with the selector's. */
	__u16 family = u->family ? u->family : sel_family;

	memset(t, 0, sizeof(*t));
	addr_from_user(&t->daddr, &u->id.daddr, family);
	addr_from_user(&t->saddr, &u->saddr, family);
	t->spi = u->id.spi;
	t->reqid = u->reqid;
	t->family = u->family;
	t->proto = u->id.proto;
	t->mode = u->mode;
	t->share = u->share;
	t->optional = u->optional;
}

/*
 * When plaintext passes a policy with templates: __xfrm_policy_check() in
 * net/xfrm/xfrm_policy.c, for IN (local delivery) and FWD. A packet that was
 * not decrypted has an empty sec_path. For an ALLOW policy the kernel walks
 * the templates of the matching policies (sub, then main) from the last one
 * with xfrm_policy_ok(): with an empty sec_path that returns "ok" for an
 * optional template ("level use", transport or tunnel mode) and -1 for a
 * non-optional one, and -1 rejects the packet (XfrmInTmplMismatch);
 * secpath_has_nontransport() finds nothing to object to afterwards. So
 * plaintext passes exactly when every template is optional or there is no
 * template at all; a single non-optional template rejects it, which is what
 * XB_POL_REQUIRES_IPSEC records. Two exceptions the flag does not cover: a
 * BLOCK policy rejects whatever its templates say, and recent kernels accept
 * plaintext under a packet-offloaded policy (the NIC checked it; hence
 * XB_POL_OFFLOAD, which the datapath does not decide).
 */
static int policy_tmpls(struct xb_policy_event *pe, const struct nlattr *attr)
{
	struct xfrm_user_tmpl ut;
	const char *p;
	size_t len, n, i;

	if (!attr)
		return 0;
	len = mnl_attr_get_payload_len(attr);
	n = len / sizeof(ut);
	if (len % sizeof(ut) || n > XB_MAX_TMPLS)
		return -EINVAL;
	p = mnl_attr_get_payload(attr);
	for (i = 0; i < n; i++) {
		memcpy(&ut, p + i * sizeof(ut), sizeof(ut));
		tmpl_from_user(&pe->tmpls[i], &ut, pe->pol.sel.family);
		if (!ut.optional)
			pe->pol.xb_flags |= XB_POL_REQUIRES_IPSEC;
	}
	pe->pol.n_tmpls = (__u8)n;
	return 0;
}

/*
 * Presence is all that matters: the datapath decides neither a policy an LSM
 * context guards nor an offloaded one. Their contents are not read, only
 * checked to be at least the struct the kernel puts there.
 */
static int policy_flags(struct xb_policy_event *pe, const struct nlattr **tb)
{
	const struct nlattr *ctx = tb[XFRMA_SEC_CTX];
	const struct nlattr *dev = tb[XFRMA_OFFLOAD_DEV];

	if (ctx && mnl_attr_get_payload_len(ctx) <
		   sizeof(struct xfrm_user_sec_ctx))
		return -EINVAL;
	if (dev && mnl_attr_validate2(dev, MNL_TYPE_UNSPEC,
				      sizeof(struct xfrm_user_offload)) < 0)
		return -EINVAL;
	if (ctx)
		pe->pol.xb_flags |= XB_POL_SEC_CTX;
	if (dev)
		pe->pol.xb_flags |= XB_POL_OFFLOAD;
	return 0;
}

/* The attributes a policy carries next to its xfrm_userpolicy_info. */
static int policy_attrs(struct xb_policy_event *pe, const struct nlattr **tb)
{
	/* Absent type: main (kernels without CONFIG_XFRM_SUB_POLICY). */
	struct xfrm_userpolicy_type upt = { .type = XFRM_POLICY_TYPE_MAIN };
	struct xfrm_mark mark = { 0, 0 };
	int err;

	err = attr_copy(tb[XFRMA_POLICY_TYPE], &upt, sizeof(upt));
	if (!err)
		err = attr_copy(tb[XFRMA_MARK], &mark, sizeof(mark));
	if (!err)
		err = attr_u32(tb[XFRMA_IF_ID], &pe->pol.if_id);
	if (!err)
		err = policy_tmpls(pe, tb[XFRMA_TMPL]);
	if (err)
		return err;
	pe->pol.type = upt.type;
	pe->pol.mark_v = mark.v;
	pe->pol.mark_m = mark.m;
	return policy_flags(pe, tb);
}

/* Socket policies (setsockopt IP_XFRM_POLICY) show up in SPD dumps with
 * dir XFRM_POLICY_MAX + dir. They apply to one socket only and are not the
 * mirror's to follow. */
static enum xb_event_kind policy_kind(const struct xb_policy_event *pe,
				      enum xb_event_kind kind)
{
	return pe->pol.dir >= XFRM_POLICY_MAX ? XB_EV_IGNORED : kind;
}

/* The attributes every policy message may carry, then its kind. */
static int policy_event(struct xb_event *ev, const struct nlattr **tb,
			enum xb_event_kind kind)
{
	int err = policy_attrs(&ev->policy, tb);

	if (!err)
		ev->kind = policy_kind(&ev->policy, kind);
	return err;
}

/* Valid, but nothing the mirror follows (e.g. a soft expiry). */
static void event_ignore(struct xb_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = XB_EV_IGNORED;
}

/* A soft expiry only warns the key manager, so only a hard one (the kernel
 * has deleted the entry) becomes the event err says was parsed. */
static int expire_event(struct xb_event *ev, int err, __u8 hard)
{
	if (!err && !hard)
		event_ignore(ev);
	return err;
}

/* Each message's family header, copied out of the message to be aligned. */
union xfrm_msg_hdr {
	struct xfrm_userpolicy_info policy;
	struct xfrm_userpolicy_id policy_id;
	struct xfrm_user_polexpire polexpire;
	struct xfrm_usersa_info sa;
	struct xfrm_usersa_id sa_id;
	struct xfrm_user_expire expire;
	struct xfrm_usersa_flush flush_sa;
	struct xfrm_userpolicy_default defaults;
};

static int parse_policy(const union xfrm_msg_hdr *h, const struct nlattr **tb,
			struct xb_event *ev)
{
	policy_from_user(&ev->policy.pol, &h->policy);
	return policy_event(ev, tb, XB_EV_POLICY_UPSERT);
}

/*
 * DELPOLICY and DELSA may carry the whole entry in an attribute next to
 * their id (XFRMA_POLICY, XFRMA_SA). Returns 1 with its copy in entry, 0
 * when there is none, or -EINVAL when it is not the kernel's struct.
 */
static int attr_entry(const struct nlattr *attr, union xfrm_msg_hdr *entry,
		      size_t len)
{
	int err;

	if (!attr)
		return 0;
	err = attr_copy(attr, entry, len);
	return err ? err : 1;
}

/* Only what the id names: the index for a delete by index, the selector
 * for a delete by selector. */
static void policy_from_id(struct xb_policy *pol,
			   const struct xfrm_userpolicy_id *id)
{
	sel_from_user(&pol->sel, &id->sel);
	pol->index = id->index;
	pol->dir = id->dir;
}

static int parse_delpolicy(const union xfrm_msg_hdr *h,
			   const struct nlattr **tb, struct xb_event *ev)
{
	union xfrm_msg_hdr entry;
	int found = attr_entry(tb[XFRMA_POLICY], &entry, sizeof(entry.policy));

	if (found < 0)
		return found;
	if (found)
		policy_from_user(&ev->policy.pol, &entry.policy);
	else
		policy_from_id(&ev->policy.pol, &h->policy_id);
	return policy_event(ev, tb, XB_EV_POLICY_DEL);
}

/* Hard: xfrm_policy_timer(), xfrm_add_pol_expire() delete the policy. */
static int parse_polexpire(const union xfrm_msg_hdr *h,
			   const struct nlattr **tb, struct xb_event *ev)
{
	policy_from_user(&ev->policy.pol, &h->polexpire.pol);
	return expire_event(ev, policy_event(ev, tb, XB_EV_POLICY_DEL),
			    h->polexpire.hard);
}

static int parse_flushpolicy(const union xfrm_msg_hdr *h,
			     const struct nlattr **tb, struct xb_event *ev)
{
	struct xfrm_userpolicy_type upt = { .type = XFRM_POLICY_TYPE_MAIN };
	int err = attr_copy(tb[XFRMA_POLICY_TYPE], &upt, sizeof(upt));

	(void)h;	/* FLUSHPOLICY has no header */
	if (err)
		return err;
	ev->kind = XB_EV_POLICY_FLUSH;
	ev->flush_policy_type = upt.type;
	return 0;
}

static void sa_key_from_user(struct xb_sa_key *key, const xfrm_address_t *daddr,
			     __be32 spi, __u8 proto, __u16 family)
{
	memset(key, 0, sizeof(*key));
	addr_from_user(&key->spi.daddr, daddr, family);
	key->spi.spi = spi;
	key->spi.proto = proto;
	key->spi.family = family;
}

static void sa_from_user(struct xb_sa_event *se,
			 const struct xfrm_usersa_info *u)
{
	sa_key_from_user(&se->key, &u->id.daddr, u->id.spi, u->id.proto,
			 u->family);
	memset(&se->sa, 0, sizeof(se->sa));
	addr_from_user(&se->sa.saddr, &u->saddr, u->family);
	se->sa.reqid = u->reqid;
	se->sa.mode = u->mode;
	se->sa.flags = u->flags;
	se->sa.pcpu_num = XB_NO_CPU;
}

/*
 * The attributes an SA carries next to its header that the mirror uses.
 * Only these are ever read: XFRMA_ALG_* (keys) and everything else stay in
 * the receive buffer.
 */
static int sa_attrs(struct xb_sa_event *se, const struct nlattr **tb)
{
	struct xfrm_mark mark = { 0, 0 };
	struct xfrm_encap_tmpl encap;
	int err;

	memset(&encap, 0, sizeof(encap));
	err = attr_copy(tb[XFRMA_MARK], &mark, sizeof(mark));
	if (!err)
		err = attr_u32(tb[XFRMA_IF_ID], &se->sa.if_id);
	if (!err)
		err = attr_copy(tb[XFRMA_ENCAP], &encap, sizeof(encap));
	if (!err)
		err = attr_u32(tb[XB_XFRMA_SA_PCPU], &se->sa.pcpu_num);
	if (err)
		return err;
	se->sa.encap_type = encap.encap_type;
	se->sa.encap_sport = encap.encap_sport;
	se->sa.encap_dport = encap.encap_dport;
	se->key.mark_v = mark.v;
	se->key.mark_m = mark.m;
	return 0;
}

/* Only what sa_attrs() reads: the table holds no pointer to a key. */
static void sa_attr_table(const struct nlattr **all, const struct nlattr **tb)
{
	memset(tb, 0, (XB_XFRMA_MAX + 1) * sizeof(*tb));
	tb[XFRMA_MARK] = all[XFRMA_MARK];
	tb[XFRMA_IF_ID] = all[XFRMA_IF_ID];
	tb[XFRMA_ENCAP] = all[XFRMA_ENCAP];
	tb[XB_XFRMA_SA_PCPU] = all[XB_XFRMA_SA_PCPU];
}

/* The attributes every SA message may carry, then its kind. all holds
 * every attribute of the message, keys included; sa_attrs() and what it
 * calls get only the table without them. */
static int sa_event(struct xb_event *ev, const struct nlattr **all,
		    enum xb_event_kind kind)
{
	const struct nlattr *tb[XB_XFRMA_MAX + 1];
	int err;

	sa_attr_table(all, tb);
	err = sa_attrs(&ev->sa, tb);
	if (!err)
		ev->kind = kind;
	return err;
}

static int parse_sa(const union xfrm_msg_hdr *h, const struct nlattr **tb,
		    struct xb_event *ev)
{
	sa_from_user(&ev->sa, &h->sa);
	return sa_event(ev, tb, XB_EV_SA_UPSERT);
}

static int parse_delsa(const union xfrm_msg_hdr *h, const struct nlattr **tb,
		       struct xb_event *ev)
{
	const struct xfrm_usersa_id *id = &h->sa_id;
	union xfrm_msg_hdr entry;
	int found = attr_entry(tb[XFRMA_SA], &entry, sizeof(entry.sa));

	if (found < 0)
		return found;
	if (found)
		sa_from_user(&ev->sa, &entry.sa);
	/* The id is the kernel's lookup key (xfrm_user_state_lookup()). */
	sa_key_from_user(&ev->sa.key, &id->daddr, id->spi, id->proto, id->family);
	return sa_event(ev, tb, XB_EV_SA_DEL);
}

/* Hard: the kernel has deleted the SA and sends no DELSA
 * (xfrm_timer_proc()). Soft: the key manager should rekey. */
static int parse_expire(const union xfrm_msg_hdr *h, const struct nlattr **tb,
			struct xb_event *ev)
{
	sa_from_user(&ev->sa, &h->expire.state);
	return expire_event(ev, sa_event(ev, tb, XB_EV_SA_DEL), h->expire.hard);
}

static int parse_flushsa(const union xfrm_msg_hdr *h, const struct nlattr **tb,
			 struct xb_event *ev)
{
	(void)tb;	/* FLUSHSA has no attributes the mirror uses */
	ev->kind = XB_EV_SA_FLUSH;
	ev->flush_sa_proto = h->flush_sa.proto;
	return 0;
}

static __u8 default_from_user(__u8 v)
{
	return v == XFRM_USERPOLICY_BLOCK ? XB_DEFAULT_BLOCK : XB_DEFAULT_ACCEPT;
}

static int parse_getdefault(const union xfrm_msg_hdr *h,
			    const struct nlattr **tb, struct xb_event *ev)
{
	(void)tb;	/* GETDEFAULT has no attributes */
	ev->kind = XB_EV_DEFAULTS;
	ev->default_action[XFRM_POLICY_IN] = default_from_user(h->defaults.in);
	ev->default_action[XFRM_POLICY_OUT] = default_from_user(h->defaults.out);
	ev->default_action[XFRM_POLICY_FWD] = default_from_user(h->defaults.fwd);
	return 0;
}

/*
 * What each followed message type carries before its attributes, and how it
 * becomes an event: the shape of xfrm_msg_min[] and xfrm_dispatch[] in
 * net/xfrm/xfrm_user.c. A type without a row is not followed.
 */
struct xfrm_msg_type {
	size_t hdrlen;
	int (*parse)(const union xfrm_msg_hdr *h, const struct nlattr **tb,
		     struct xb_event *ev);
};

#define XMSG(type, hdr, fn) \
	[XFRM_MSG_##type - XFRM_MSG_BASE] = { sizeof(hdr), fn }

static const struct xfrm_msg_type xfrm_msg_types[] = {
	XMSG(NEWPOLICY, struct xfrm_userpolicy_info, parse_policy),
	XMSG(UPDPOLICY, struct xfrm_userpolicy_info, parse_policy),
	XMSG(DELPOLICY, struct xfrm_userpolicy_id, parse_delpolicy),
	XMSG(POLEXPIRE, struct xfrm_user_polexpire, parse_polexpire),
	[XFRM_MSG_FLUSHPOLICY - XFRM_MSG_BASE] = { 0, parse_flushpolicy },
	XMSG(NEWSA, struct xfrm_usersa_info, parse_sa),
	XMSG(UPDSA, struct xfrm_usersa_info, parse_sa),
	XMSG(DELSA, struct xfrm_usersa_id, parse_delsa),
	XMSG(EXPIRE, struct xfrm_user_expire, parse_expire),
	XMSG(FLUSHSA, struct xfrm_usersa_flush, parse_flushsa),
	XMSG(GETDEFAULT, struct xfrm_userpolicy_default, parse_getdefault),
};

#define XMSG_ROWS (sizeof(xfrm_msg_types) / sizeof(xfrm_msg_types[0]))

static const struct xfrm_msg_type *xfrm_msg_type(__u16 type)
{
	const struct xfrm_msg_type *t;
	size_t i = (size_t)type - XFRM_MSG_BASE;

	if (type < XFRM_MSG_BASE || i >= XMSG_ROWS)
		return NULL;
	t = &xfrm_msg_types[i];
	return t->parse ? t : NULL;
}

int xb_parse_xfrm_msg(const struct nlmsghdr *nlh, struct xb_event *ev)
{
	const struct nlattr *tb[XB_XFRMA_MAX + 1];
	const struct xfrm_msg_type *t;
	union xfrm_msg_hdr hdr;
	int err;

	memset(ev, 0, sizeof(*ev));
	if (nlh->nlmsg_len < NLMSG_HDRLEN)
		return -EINVAL;
	t = xfrm_msg_type(nlh->nlmsg_type);
	if (!t) {
		ev->kind = XB_EV_IGNORED;
		return 0;
	}
	err = msg_attrs(nlh, &hdr, t->hdrlen, tb, XB_XFRMA_MAX);
	if (err)
		return err;
	return t->parse(&hdr, tb, ev);
}

/* IFLA_INFO_DATA of an xfrm interface (xfrmi_fill_info()). */
static int link_xfrm_data(struct xb_xfrm_link *l, const struct nlattr *data)
{
	const struct nlattr *tb[IFLA_XFRM_MAX + 1];
	int err;

	err = nested_attrs(data, tb, IFLA_XFRM_MAX);
	if (!err)
		err = attr_u32(tb[IFLA_XFRM_LINK], &l->link_ifindex);
	if (!err)
		err = attr_u32(tb[IFLA_XFRM_IF_ID], &l->if_id);
	if (err)
		return err;
	if (tb[IFLA_XFRM_COLLECT_METADATA]) {
		if (mnl_attr_validate(tb[IFLA_XFRM_COLLECT_METADATA],
				      MNL_TYPE_FLAG) < 0)
			return -EINVAL;
		l->collect_md = 1;
	}
	return 0;
}

/* IFLA_LINKINFO: sets *is_xfrm and, for an xfrm interface, its data. */
static int link_info(struct xb_xfrm_link *l, const struct nlattr *linkinfo,
		     bool *is_xfrm)
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1];
	const struct nlattr *kind;
	int err;

	*is_xfrm = false;
	if (!linkinfo)
		return 0;
	err = nested_attrs(linkinfo, tb, IFLA_INFO_MAX);
	if (err)
		return err;
	kind = tb[IFLA_INFO_KIND];
	if (!kind)
		return 0;
	if (mnl_attr_validate(kind, MNL_TYPE_NUL_STRING) < 0)
		return -EINVAL;
	*is_xfrm = !strcmp(mnl_attr_get_str(kind), "xfrm");
	if (!*is_xfrm || !tb[IFLA_INFO_DATA])
		return 0;
	return link_xfrm_data(l, tb[IFLA_INFO_DATA]);
}

static int link_name(struct xb_xfrm_link *l, const struct nlattr *attr)
{
	if (!attr)
		return 0;
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0 ||
	    mnl_attr_get_payload_len(attr) > sizeof(l->name))
		return -EINVAL;
	/* Validated: NUL-terminated and at most sizeof(name) bytes. */
	memcpy(l->name, mnl_attr_get_payload(attr),
	       mnl_attr_get_payload_len(attr));
	return 0;
}

int xb_parse_link_msg(const struct nlmsghdr *nlh, struct xb_event *ev)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg ifi;
	bool is_xfrm;
	int err;

	memset(ev, 0, sizeof(*ev));
	if (nlh->nlmsg_len < NLMSG_HDRLEN)
		return -EINVAL;
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) {
		ev->kind = XB_EV_IGNORED;
		return 0;
	}

	err = msg_attrs(nlh, &ifi, sizeof(ifi), tb, IFLA_MAX);
	if (err)
		return err;
	if (ifi.ifi_index <= 0)
		return -EINVAL;
	err = link_name(&ev->link, tb[IFLA_IFNAME]);
	if (!err)
		err = link_info(&ev->link, tb[IFLA_LINKINFO], &is_xfrm);
	if (err)
		return err;
	ev->link.ifindex = ifi.ifi_index;

	/* A NEWLINK of another kind also deletes: an ifindex the mirror
	 * holds as an xfrm interface can only have been reused. */
	if (nlh->nlmsg_type == RTM_NEWLINK && is_xfrm) {
		ev->kind = XB_EV_LINK_UPSERT;
		return 0;
	}
	memset(&ev->link, 0, sizeof(ev->link));
	ev->link.ifindex = ifi.ifi_index;
	ev->kind = XB_EV_LINK_DEL;
	return 0;
}

const char *xb_event_kind_name(enum xb_event_kind kind)
{
	switch (kind) {
	case XB_EV_IGNORED:
		return "ignored";
	case XB_EV_POLICY_UPSERT:
		return "policy_upsert";
	case XB_EV_POLICY_DEL:
		return "policy_del";
	case XB_EV_POLICY_FLUSH:
		return "policy_flush";
	case XB_EV_SA_UPSERT:
		return "sa_upsert";
	case XB_EV_SA_DEL:
		return "sa_del";
	case XB_EV_SA_FLUSH:
		return "sa_flush";
	case XB_EV_DEFAULTS:
		return "defaults";
	case XB_EV_LINK_UPSERT:
		return "link_upsert";
	case XB_EV_LINK_DEL:
		return "link_del";
	}
	return "unknown";
}
