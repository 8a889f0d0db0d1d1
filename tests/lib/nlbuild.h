/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Builders of the netlink messages the kernel sends to the mirror, in the
 * kernel's shapes (net/xfrm/xfrm_user.c, net/core/rtnetlink.c with
 * xfrmi_fill_info()): same header struct, same attributes in the same order,
 * optional attributes present exactly when the kernel would put them.
 * Each builder writes one message at the start of buf (NB_BUF_SIZE bytes,
 * 8-byte aligned) and returns it.
 */
#ifndef XFRMBPF_TESTS_NLBUILD_H
#define XFRMBPF_TESTS_NLBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#define NB_BUF_SIZE	8192

/* 6.10+ kernels append XFRMA_SA_DIR (a u8) to SA messages; older headers
 * do not name it, so it is the "attribute from a newer kernel". */
#define NB_XFRMA_SA_DIR	33

/* Room for more templates than the kernel allows, to build bad messages. */
#define NB_MAX_TMPLS	8	/* > the kernel's XFRM_MAX_DEPTH (6) */

struct nb_policy {
	struct xfrm_userpolicy_info info;
	struct xfrm_user_tmpl tmpls[NB_MAX_TMPLS];
	unsigned int n_tmpls;	/* XFRMA_TMPL only if non-zero */
	bool has_type;		/* XFRMA_POLICY_TYPE: CONFIG_XFRM_SUB_POLICY */
	__u8 type;		/* XFRM_POLICY_TYPE_MAIN / SUB */
	struct xfrm_mark mark;	/* XFRMA_MARK only if v | m */
	__u32 if_id;		/* XFRMA_IF_ID only if non-zero */
	bool sec_ctx;		/* XFRMA_SEC_CTX: dumps and POLEXPIRE only */
	bool offload;		/* XFRMA_OFFLOAD_DEV */
};

struct nb_sa {
	struct xfrm_usersa_info info;
	struct xfrm_mark mark;	/* XFRMA_MARK only if v | m */
	__u32 if_id;		/* XFRMA_IF_ID only if non-zero */
	bool encap;		/* XFRMA_ENCAP */
	struct xfrm_encap_tmpl encap_tmpl;
	/* Key bytes put into the algorithm attributes chosen below. */
	const unsigned char *key;
	unsigned int key_len;
	bool crypt;		/* XFRMA_ALG_CRYPT cbc(aes) */
	bool auth;		/* XFRMA_ALG_AUTH + XFRMA_ALG_AUTH_TRUNC */
	bool aead;		/* XFRMA_ALG_AEAD rfc4106(gcm(aes)) */
	__u8 sa_dir;		/* NB_XFRMA_SA_DIR if non-zero */
};

struct nb_link {
	int ifindex;
	const char *name;
	const char *kind;	/* NULL: no IFLA_LINKINFO (a physical NIC) */
	bool has_data;		/* IFLA_INFO_DATA */
	__u32 link;		/* IFLA_XFRM_LINK */
	__u32 if_id;		/* IFLA_XFRM_IF_ID */
	bool collect_md;	/* IFLA_XFRM_COLLECT_METADATA */
	bool nest_flag;		/* set NLA_F_NESTED on the nests */
};

/* Addresses from the documentation ranges: IPv4 192.0.2.0/24 ->
 * 198.51.100.0/24 (tunnel 203.0.113.1 -> 203.0.113.2), IPv6 2001:db8:1::/64
 * -> 2001:db8:2::/64 (tunnel 2001:db8::1 -> 2001:db8::2). */
void nb_addr(xfrm_address_t *a, int family, const char *str);
void nb_policy_init(struct nb_policy *p, int family, __u8 dir);
/* Appends an ESP tunnel template; optional = "level use". */
void nb_policy_add_tmpl(struct nb_policy *p, bool optional);
void nb_sa_init(struct nb_sa *s, int family, __u32 spi_host);

/* NEWPOLICY / UPDPOLICY notification, and (type NEWPOLICY) a dump entry. */
struct nlmsghdr *nb_policy_msg(void *buf, __u16 type, const struct nb_policy *p);
/* DELPOLICY notification: by index or by selector; with_policy false
 * leaves XFRMA_POLICY out (not a kernel shape: tests the fallback). */
struct nlmsghdr *nb_delpolicy_msg(void *buf, const struct nb_policy *p,
				  bool byid, bool with_policy);
struct nlmsghdr *nb_polexpire_msg(void *buf, const struct nb_policy *p,
				  bool hard);
struct nlmsghdr *nb_flushpolicy_msg(void *buf, bool has_type, __u8 type);

/* NEWSA / UPDSA notification, and (type NEWSA) a dump entry. */
struct nlmsghdr *nb_sa_msg(void *buf, __u16 type, const struct nb_sa *s);
/* DELSA: xfrm_usersa_id, the SA in XFRMA_SA, the rest (keys too) at top. */
struct nlmsghdr *nb_delsa_msg(void *buf, const struct nb_sa *s, bool with_sa);
/* EXPIRE: the kernel sends no keys; set s->key to add them anyway. */
struct nlmsghdr *nb_expire_msg(void *buf, const struct nb_sa *s, bool hard);
struct nlmsghdr *nb_flushsa_msg(void *buf, __u8 proto);
/* GETDEFAULT reply / notification, values XFRM_USERPOLICY_*. */
struct nlmsghdr *nb_getdefault_msg(void *buf, __u8 in, __u8 fwd, __u8 out);

/* RTM_NEWLINK / RTM_DELLINK as rtnl_fill_ifinfo() builds them. */
struct nlmsghdr *nb_link_msg(void *buf, __u16 type, const struct nb_link *l);

/* Turn a message into a dump entry (NLM_F_MULTI, the requester's seq). */
void nb_as_dump(struct nlmsghdr *nlh);
/* First top-level attribute of type after a hdrlen-byte header, or NULL. */
struct nlattr *nb_find_attr(struct nlmsghdr *nlh, size_t hdrlen,
			    unsigned int type);

#endif
