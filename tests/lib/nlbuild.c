// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Kernel-shaped netlink messages for tests. The order of attributes follows
 * xfrm_notify_policy(), dump_one_policy(), build_polexpire(),
 * xfrm_notify_sa() / copy_to_user_state_extra(), build_expire() and
 * rtnl_fill_ifinfo() + xfrmi_fill_info().
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "nlbuild.h"

static const char sec_ctx_str[] = "system_u:object_r:ipsec_spd_t:s0";

void nb_addr(xfrm_address_t *a, int family, const char *str)
{
	memset(a, 0, sizeof(*a));
	inet_pton(family, str, a);
}

static void lft_infinite(struct xfrm_lifetime_cfg *lft)
{
	lft->soft_byte_limit = XFRM_INF;
	lft->hard_byte_limit = XFRM_INF;
	lft->soft_packet_limit = XFRM_INF;
	lft->hard_packet_limit = XFRM_INF;
}

static void sel_init(struct xfrm_selector *sel, int family)
{
	bool v4 = family == AF_INET;

	nb_addr(&sel->saddr, family, v4 ? "192.0.2.0" : "2001:db8:1::");
	nb_addr(&sel->daddr, family, v4 ? "198.51.100.0" : "2001:db8:2::");
	sel->prefixlen_s = v4 ? 24 : 64;
	sel->prefixlen_d = v4 ? 24 : 64;
	sel->family = family;
}

void nb_policy_init(struct nb_policy *p, int family, __u8 dir)
{
	memset(p, 0, sizeof(*p));
	sel_init(&p->info.sel, family);
	lft_infinite(&p->info.lft);
	p->info.priority = 1000;
	/* The kernel keeps the direction in the low bits of the index. */
	p->info.index = 0x100 | dir;
	p->info.dir = dir;
	p->info.action = XFRM_POLICY_ALLOW;
	p->info.share = XFRM_SHARE_ANY;
	p->has_type = true;
	p->type = XFRM_POLICY_TYPE_MAIN;
}

void nb_policy_add_tmpl(struct nb_policy *p, bool optional)
{
	struct xfrm_user_tmpl *t = &p->tmpls[p->n_tmpls++];
	int family = p->info.sel.family;
	bool v4 = family == AF_INET;

	memset(t, 0, sizeof(*t));
	nb_addr(&t->id.daddr, family, v4 ? "203.0.113.2" : "2001:db8::2");
	nb_addr(&t->saddr, family, v4 ? "203.0.113.1" : "2001:db8::2:1");
	t->id.proto = IPPROTO_ESP;
	t->family = family;
	t->reqid = p->n_tmpls;
	t->mode = XFRM_MODE_TUNNEL;
	t->optional = optional;
	t->aalgos = ~0U;
	t->ealgos = ~0U;
	t->calgos = ~0U;
}

void nb_sa_init(struct nb_sa *s, int family, __u32 spi_host)
{
	bool v4 = family == AF_INET;

	memset(s, 0, sizeof(*s));
	sel_init(&s->info.sel, family);
	nb_addr(&s->info.id.daddr, family, v4 ? "203.0.113.2" : "2001:db8::2");
	nb_addr(&s->info.saddr, family, v4 ? "203.0.113.1" : "2001:db8::2:1");
	s->info.id.spi = htonl(spi_host);
	s->info.id.proto = IPPROTO_ESP;
	lft_infinite(&s->info.lft);
	s->info.reqid = 7;
	s->info.family = family;
	s->info.mode = XFRM_MODE_TUNNEL;
	s->info.replay_window = 32;
	s->info.flags = XFRM_STATE_NOECN;
}

static struct nlmsghdr *msg_start(void *buf, __u16 type)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, NB_BUF_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	return nlh;
}

static void *msg_header(struct nlmsghdr *nlh, const void *hdr, size_t len)
{
	void *p = mnl_nlmsg_put_extra_header(nlh, len);

	memcpy(p, hdr, len);
	return p;
}

/* copy_to_user_tmpl(): one attribute holding the whole array. */
static void put_tmpls(struct nlmsghdr *nlh, const struct nb_policy *p)
{
	if (p->n_tmpls)
		mnl_attr_put(nlh, XFRMA_TMPL,
			     p->n_tmpls * sizeof(struct xfrm_user_tmpl),
			     p->tmpls);
}

/* copy_sec_ctx(): xfrm_user_sec_ctx followed by the context string. */
static void put_sec_ctx(struct nlmsghdr *nlh)
{
	char data[sizeof(struct xfrm_user_sec_ctx) + sizeof(sec_ctx_str)];
	struct xfrm_user_sec_ctx uctx = {
		.len = sizeof(data),
		.exttype = XFRMA_SEC_CTX,
		.ctx_alg = XFRM_SC_ALG_SELINUX,
		.ctx_doi = XFRM_SC_DOI_LSM,
		.ctx_len = sizeof(sec_ctx_str),
	};

	memcpy(data, &uctx, sizeof(uctx));
	memcpy(data + sizeof(uctx), sec_ctx_str, sizeof(sec_ctx_str));
	mnl_attr_put(nlh, XFRMA_SEC_CTX, sizeof(data), data);
}

static void put_mark(struct nlmsghdr *nlh, const struct xfrm_mark *m)
{
	if (m->v | m->m)
		mnl_attr_put(nlh, XFRMA_MARK, sizeof(*m), m);
}

static void put_if_id(struct nlmsghdr *nlh, __u32 if_id)
{
	if (if_id)
		mnl_attr_put_u32(nlh, XFRMA_IF_ID, if_id);
}

static void put_offload(struct nlmsghdr *nlh, bool offload)
{
	struct xfrm_user_offload xuo = { .ifindex = 2, .flags = 0 };

	if (offload)
		mnl_attr_put(nlh, XFRMA_OFFLOAD_DEV, sizeof(xuo), &xuo);
}

/* The policy attributes after the header. sec_ctx is dump/expire only. */
static void put_policy_attrs(struct nlmsghdr *nlh, const struct nb_policy *p,
			     bool with_sec_ctx)
{
	struct xfrm_userpolicy_type upt;

	put_tmpls(nlh, p);
	if (with_sec_ctx && p->sec_ctx)
		put_sec_ctx(nlh);
	if (p->has_type) {
		memset(&upt, 0, sizeof(upt));
		upt.type = p->type;
		mnl_attr_put(nlh, XFRMA_POLICY_TYPE, sizeof(upt), &upt);
	}
	put_mark(nlh, &p->mark);
	put_if_id(nlh, p->if_id);
	put_offload(nlh, p->offload);
}

struct nlmsghdr *nb_policy_msg(void *buf, __u16 type, const struct nb_policy *p)
{
	struct nlmsghdr *nlh = msg_start(buf, type);

	msg_header(nlh, &p->info, sizeof(p->info));
	/* Notifications leave the security context out; a dump has it. */
	put_policy_attrs(nlh, p, true);
	return nlh;
}

struct nlmsghdr *nb_delpolicy_msg(void *buf, const struct nb_policy *p,
				  bool byid, bool with_policy)
{
	struct nlmsghdr *nlh = msg_start(buf, XFRM_MSG_DELPOLICY);
	struct xfrm_userpolicy_id id;

	memset(&id, 0, sizeof(id));
	id.dir = p->info.dir;
	if (byid)
		id.index = p->info.index;
	else
		id.sel = p->info.sel;
	msg_header(nlh, &id, sizeof(id));
	if (with_policy)
		mnl_attr_put(nlh, XFRMA_POLICY, sizeof(p->info), &p->info);
	put_policy_attrs(nlh, p, false);
	return nlh;
}

struct nlmsghdr *nb_polexpire_msg(void *buf, const struct nb_policy *p,
				  bool hard)
{
	struct nlmsghdr *nlh = msg_start(buf, XFRM_MSG_POLEXPIRE);
	struct xfrm_user_polexpire upe;

	memset(&upe, 0, sizeof(upe));
	upe.pol = p->info;
	upe.hard = hard;
	msg_header(nlh, &upe, sizeof(upe));
	put_policy_attrs(nlh, p, true);
	return nlh;
}

struct nlmsghdr *nb_flushpolicy_msg(void *buf, bool has_type, __u8 type)
{
	struct nlmsghdr *nlh = msg_start(buf, XFRM_MSG_FLUSHPOLICY);
	struct xfrm_userpolicy_type upt;

	if (has_type) {
		memset(&upt, 0, sizeof(upt));
		upt.type = type;
		mnl_attr_put(nlh, XFRMA_POLICY_TYPE, sizeof(upt), &upt);
	}
	return nlh;
}

/* An xfrm_algo-shaped attribute: name[64], key length in bits, then the
 * extra u32 of auth_trunc / aead when extra is set, then the key. */
static void put_alg(struct nlmsghdr *nlh, unsigned int type, const char *name,
		    const struct nb_sa *s, bool extra, __u32 extra_val)
{
	char data[64 + 8 + 256];
	size_t off = 64;
	__u32 bits = s->key_len * 8;

	memset(data, 0, sizeof(data));
	strncpy(data, name, 63);
	memcpy(data + off, &bits, 4);
	off += 4;
	if (extra) {
		memcpy(data + off, &extra_val, 4);
		off += 4;
	}
	memcpy(data + off, s->key, s->key_len);
	mnl_attr_put(nlh, type, off + s->key_len, data);
}

static void put_keys(struct nlmsghdr *nlh, const struct nb_sa *s)
{
	if (!s->key)
		return;
	if (s->aead)
		put_alg(nlh, XFRMA_ALG_AEAD, "rfc4106(gcm(aes))", s, true, 128);
	if (s->auth) {
		put_alg(nlh, XFRMA_ALG_AUTH, "hmac(sha256)", s, false, 0);
		put_alg(nlh, XFRMA_ALG_AUTH_TRUNC, "hmac(sha256)", s, true, 128);
	}
	if (s->crypt)
		put_alg(nlh, XFRMA_ALG_CRYPT, "cbc(aes)", s, false, 0);
}

/* copy_to_user_state_extra(): lastused, algorithms, encap, mark, replay
 * state, if_id, then what newer kernels append. */
static void put_sa_attrs(struct nlmsghdr *nlh, const struct nb_sa *s)
{
	struct xfrm_replay_state replay = { .oseq = 1, .seq = 2, .bitmap = 3 };

	mnl_attr_put_u64(nlh, XFRMA_LASTUSED, 1700000000ULL);
	put_keys(nlh, s);
	if (s->encap)
		mnl_attr_put(nlh, XFRMA_ENCAP, sizeof(s->encap_tmpl),
			     &s->encap_tmpl);
	put_mark(nlh, &s->mark);
	mnl_attr_put(nlh, XFRMA_REPLAY_VAL, sizeof(replay), &replay);
	put_if_id(nlh, s->if_id);
	if (s->sa_dir)
		mnl_attr_put_u8(nlh, NB_XFRMA_SA_DIR, s->sa_dir);
}

struct nlmsghdr *nb_sa_msg(void *buf, __u16 type, const struct nb_sa *s)
{
	struct nlmsghdr *nlh = msg_start(buf, type);

	msg_header(nlh, &s->info, sizeof(s->info));
	put_sa_attrs(nlh, s);
	return nlh;
}

struct nlmsghdr *nb_delsa_msg(void *buf, const struct nb_sa *s, bool with_sa)
{
	struct nlmsghdr *nlh = msg_start(buf, XFRM_MSG_DELSA);
	struct xfrm_usersa_id id;

	memset(&id, 0, sizeof(id));
	id.daddr = s->info.id.daddr;
	id.spi = s->info.id.spi;
	id.family = s->info.family;
	id.proto = s->info.id.proto;
	msg_header(nlh, &id, sizeof(id));
	if (with_sa)
		mnl_attr_put(nlh, XFRMA_SA, sizeof(s->info), &s->info);
	put_sa_attrs(nlh, s);
	return nlh;
}

struct nlmsghdr *nb_expire_msg(void *buf, const struct nb_sa *s, bool hard)
{
	struct nlmsghdr *nlh = msg_start(buf, XFRM_MSG_EXPIRE);
	struct xfrm_user_expire ue;

	memset(&ue, 0, sizeof(ue));
	ue.state = s->info;
	ue.hard = hard;
	msg_header(nlh, &ue, sizeof(ue));
	put_mark(nlh, &s->mark);
	put_if_id(nlh, s->if_id);
	put_keys(nlh, s);
	return nlh;
}

struct nlmsghdr *nb_flushsa_msg(void *buf, __u8 proto)
{
	struct nlmsghdr *nlh = msg_start(buf, XFRM_MSG_FLUSHSA);
	struct xfrm_usersa_flush f = { .proto = proto };

	msg_header(nlh, &f, sizeof(f));
	return nlh;
}

struct nlmsghdr *nb_getdefault_msg(void *buf, __u8 in, __u8 fwd, __u8 out)
{
	struct nlmsghdr *nlh = msg_start(buf, XFRM_MSG_GETDEFAULT);
	struct xfrm_userpolicy_default d = { .in = in, .fwd = fwd, .out = out };

	msg_header(nlh, &d, sizeof(d));
	return nlh;
}

static struct nlattr *nest_start(struct nlmsghdr *nlh, unsigned int type,
				 bool flag)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	if (flag)
		nest->nla_type |= NLA_F_NESTED;
	return nest;
}

/* rtnl_link_fill(): kind, then the driver's data (xfrmi_fill_info()). */
static void put_linkinfo(struct nlmsghdr *nlh, const struct nb_link *l)
{
	struct nlattr *info, *data;

	info = nest_start(nlh, IFLA_LINKINFO, l->nest_flag);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, l->kind);
	if (l->has_data) {
		data = nest_start(nlh, IFLA_INFO_DATA, l->nest_flag);
		mnl_attr_put_u32(nlh, IFLA_XFRM_LINK, l->link);
		mnl_attr_put_u32(nlh, IFLA_XFRM_IF_ID, l->if_id);
		if (l->collect_md)
			mnl_attr_put(nlh, IFLA_XFRM_COLLECT_METADATA, 0, NULL);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, info);
}

struct nlmsghdr *nb_link_msg(void *buf, __u16 type, const struct nb_link *l)
{
	struct nlmsghdr *nlh = msg_start(buf, type);
	struct ifinfomsg ifi;

	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_family = AF_UNSPEC;
	ifi.ifi_type = l->kind ? ARPHRD_NONE : ARPHRD_ETHER;
	ifi.ifi_index = l->ifindex;
	ifi.ifi_flags = IFF_UP | IFF_RUNNING;
	msg_header(nlh, &ifi, sizeof(ifi));
	if (l->name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, l->name);
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, 1000);
	mnl_attr_put_u8(nlh, IFLA_OPERSTATE, 6);	/* IF_OPER_UP */
	mnl_attr_put_u32(nlh, IFLA_MTU, 1400);
	if (l->link)
		mnl_attr_put_u32(nlh, IFLA_LINK, l->link);
	if (l->kind)
		put_linkinfo(nlh, l);
	return nlh;
}

void nb_as_dump(struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_MULTI;
	nlh->nlmsg_seq = 42;
	nlh->nlmsg_pid = 4242;
}

struct nlattr *nb_find_attr(struct nlmsghdr *nlh, size_t hdrlen,
			    unsigned int type)
{
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, hdrlen) {
		if (mnl_attr_get_type(attr) == type)
			return attr;
	}
	return NULL;
}
