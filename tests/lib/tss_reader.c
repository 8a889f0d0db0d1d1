// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The datapath's search, in userspace (tss_reader.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/xfrm.h>
#include "tss_reader.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/reasons.h"
#include "xfrmbpf/sync.h"

void xb_tss_flow_key(struct xb_tss_key *key, __u32 list_idx,
		     const struct xb_shape *shape, const struct xb_flow *fl)
{
	memset(key, 0, sizeof(*key));
	key->proto = fl->proto;
	key->sport = fl->sport;
	key->dport = fl->dport;
	key->saddr = fl->saddr;
	key->daddr = fl->daddr;
	xb_tss_key_mask(key, list_idx, shape);
}

static bool prefix_word_matches(const union xb_addr *a, __be32 rule_word,
				__u32 plen)
{
	__u32 w = xb_tss_prefix_word(plen);

	return !((a->a[w] ^ rule_word) & xb_prefix_word_mask(plen, w));
}

bool xb_tss_rule_matches(const struct xb_tss_rule *r, const struct xb_flow *fl)
{
	if (r->proto && r->proto != fl->proto)
		return false;
	if ((fl->sport ^ r->sport) & r->sport_mask)
		return false;
	if ((fl->dport ^ r->dport) & r->dport_mask)
		return false;
	return prefix_word_matches(&fl->saddr, r->saddr_word, r->prefixlen_s) &&
	       prefix_word_matches(&fl->daddr, r->daddr_word, r->prefixlen_d);
}

/* Keep the best hit; remember when the best priority is shared by hits
 * with different outcomes (the kernel's choice among them is unknown). */
static void result_consider(struct xb_list_result *r, bool *conflict,
			    const struct xb_tss_rule *v)
{
	if (!r->found || v->priority < r->val.priority) {
		r->found = true;
		r->val = *v;
		*conflict = false;
		return;
	}
	if (v->priority != r->val.priority)
		return;
	if (!xb_tss_same_outcome(v, &r->val))
		*conflict = true;
	if (xb_tss_rule_before(v, &r->val))
		r->val = *v;
}

/* One chunk of a bucket's policies in order; false once one cannot beat
 * the best (nor can any after it). */
static bool chunk_scan(struct xb_list_result *r, bool *conflict,
		       const struct xb_tss_val *v, const struct xb_flow *fl)
{
	__u32 j, count = v->count < XB_BUCKET_RULES ? v->count : XB_BUCKET_RULES;

	for (j = 0; j < count; j++) {
		const struct xb_tss_rule *rule = &v->rules[j];

		if (r->found && rule->priority > r->val.priority)
			return false;
		if (xb_tss_rule_matches(rule, fl))
			result_consider(r, conflict, rule);
	}
	return true;
}

/* The bucket at key, chunk after chunk. */
static int bucket_scan(const struct xb_tss_source *src, struct xb_tss_key *key,
		       struct xb_list_result *r, bool *conflict,
		       const struct xb_flow *fl)
{
	__u8 list = key->list;
	struct xb_tss_val v;
	__u32 c;
	int err;

	if (r->found && src->gated && src->gated(src->ctx, key, r->val.priority))
		return 0;
	for (c = 0; c < XB_BUCKET_CHUNKS; c++) {
		key->list = XB_TSS_KEY_CHUNK(list, c);
		err = src->get_entry(src->ctx, key, &v);
		if (err == -ENOENT)
			return 0;
		if (err)
			return err;
		if (v.full) {
			r->full = true;
			return 0;
		}
		if (!chunk_scan(r, conflict, &v, fl) || !v.more ||
		    !xb_tss_ports_hold(&v.later, fl->sport, fl->dport))
			return 0;
	}
	return 0;
}

/* The ids of region k's tables, none when it has no entry. */
static int index_ids(const struct xb_tss_source *src,
		     const struct xb_tss_idx_key *k, struct xb_tss_idx_val *v)
{
	int err = src->get_index(src->ctx, k, v);

	if (err == -ENOENT) {
		memset(v, 0, sizeof(*v));
		return 0;
	}
	return err;
}

/* The flow's candidate tables of an indexed list (include/xfrmbpf/tss.h). */
static int candidates(const struct xb_tss_source *src, __u32 list_idx,
		      const struct xb_shape_list *sl, const struct xb_flow *fl,
		      struct xb_tss_idx_val *cand)
{
	bool v6 = fl->family == AF_INET6;
	struct xb_tss_idx_val ids;
	struct xb_tss_idx_key k;
	__u32 d, j;
	int err;

	for (j = 0; j < XB_TABLE_ID_WORDS; j++)
		cand->ids[j] = ~0ULL;
	for (d = 0; d < XB_IDX_DIMS; d++) {
		memset(&k, 0, sizeof(k));
		k.list = list_idx;
		k.dim = d;
		if (d == XB_IDX_SRC)
			xb_idx_addr_region(&k, fl->saddr.a[0], fl->saddr.a[1], v6);
		else if (d == XB_IDX_DST)
			xb_idx_addr_region(&k, fl->daddr.a[0], fl->daddr.a[1], v6);
		else
			xb_idx_port_region(&k, fl->proto, fl->dport);
		err = index_ids(src, &k, &ids);
		if (err)
			return err;
		for (j = 0; j < XB_TABLE_ID_WORDS; j++)
			cand->ids[j] &= sl->unindexed[d][j] | ids.ids[j];
	}
	return 0;
}

/* The walk of an indexed list, as bpf/search.bpf.h: the candidate tables
 * in the list's (priority) order, until one cannot beat the best found. */
static int search_candidates(const struct xb_tss_source *src, __u32 list_idx,
			     const struct xb_shape_list *sl,
			     const struct xb_flow *fl, struct xb_list_result *r,
			     bool *conflict)
{
	__u32 pos, id, count = sl->count < XB_MAX_TABLES ? sl->count : XB_MAX_TABLES;
	struct xb_tss_idx_val cand;
	struct xb_tss_key key;
	int err;

	err = candidates(src, list_idx, sl, fl, &cand);
	for (pos = 0; !err && pos < count && !r->full; pos++) {
		const struct xb_shape *s = &sl->shapes[pos];

		id = s->id;
		if (id >= XB_TABLE_IDS || !(cand.ids[id / 64] & 1ULL << (id % 64)))
			continue;
		if (r->found && s->best_priority > r->val.priority)
			break;
		xb_tss_flow_key(&key, list_idx, s, fl);
		err = bucket_scan(src, &key, r, conflict, fl);
	}
	return err;
}

int xb_tss_search_list(const struct xb_tss_source *src, __u32 list_idx,
		       const struct xb_flow *fl, struct xb_list_result *r)
{
	struct xb_shape_list sl;
	struct xb_tss_key key;
	bool conflict = false;
	__u32 i, count;
	int err;

	memset(r, 0, sizeof(*r));
	err = src->get_list(src->ctx, list_idx, &sl);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	if (sl.overflow) {
		r->overflow = true;
		r->undecidable = true;
		return 0;
	}
	if (sl.indexed && src->get_index) {
		err = search_candidates(src, list_idx, &sl, fl, r, &conflict);
		if (err)
			return err;
		goto done;
	}
	count = sl.count < XB_MAX_TABLES ? sl.count : XB_MAX_TABLES;
	for (i = 0; i < count && !r->full; i++) {
		const struct xb_shape *s = &sl.shapes[i];

		if (r->found && s->best_priority > r->val.priority)
			break;
		xb_tss_flow_key(&key, list_idx, s, fl);
		err = bucket_scan(src, &key, r, &conflict, fl);
		if (err)
			return err;
	}
done:
	if (r->full ||
	    (r->found && (conflict || r->val.verdict == XB_V_UNDECIDABLE)))
		r->undecidable = true;
	return 0;
}

static void decide(struct xb_ref_decision *d, __u8 reason, __u32 policy_id)
{
	d->reason = reason;
	d->policy_id = policy_id;
}

static void decide_one(struct xb_ref_decision *d, const struct xb_tss_rule *v)
{
	switch (v->verdict) {
	case XB_V_ALLOW:
		decide(d, XB_R_PASS_POLICY_ALLOW, v->policy_id);
		break;
	case XB_V_BLOCK:
		decide(d, XB_R_DROP_POLICY_BLOCK, v->policy_id);
		break;
	case XB_V_REQUIRES_IPSEC:
		decide(d, XB_R_DROP_REQUIRES_IPSEC, v->policy_id);
		break;
	default:
		decide(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
		break;
	}
}

static bool flow_icmp_error(const struct xb_flow *fl)
{
	__u16 type = ntohs(fl->sport);

	if (fl->family == AF_INET && fl->proto == IPPROTO_ICMP)
		return type == 3 || type == 11;
	if (fl->family == AF_INET6 && fl->proto == IPPROTO_ICMPV6)
		return type >= 1 && type <= 3;
	return false;
}

static int search(const struct xb_tss_source *src, int view, int ptype,
		  const struct xb_flow *fl, struct xb_list_result *r,
		  struct xb_ref_decision *d)
{
	int err = xb_tss_search_list(src, XB_SHAPE_LIST_IDX(view, ptype,
					xb_tss_family_idx(fl->family)), fl, r);

	/* limits of the structure, not the kernel's semantics */
	if (r->overflow || r->full)
		d->overflow = 1;
	return err;
}

/* A sub policy allowed: __xfrm_policy_check() adds the IN main policy. */
static int decide_sub_allow(const struct xb_tss_source *src,
			    const struct xb_flow *fl,
			    const struct xb_list_result *sub,
			    struct xb_ref_decision *d)
{
	struct xb_list_result m;
	int err;

	err = search(src, XB_VIEW_IN, XB_PTYPE_MAIN, fl, &m, d);
	if (err)
		return err;
	if (m.undecidable)
		decide(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
	else if (!m.found)
		decide_one(d, &sub->val);
	else if (m.val.verdict == XB_V_BLOCK)
		decide(d, XB_R_DROP_POLICY_BLOCK, m.val.policy_id);
	else if (sub->val.verdict == XB_V_REQUIRES_IPSEC)
		decide(d, XB_R_DROP_REQUIRES_IPSEC, sub->val.policy_id);
	else if (m.val.verdict == XB_V_REQUIRES_IPSEC)
		decide(d, XB_R_DROP_REQUIRES_IPSEC, m.val.policy_id);
	else
		decide(d, XB_R_PASS_POLICY_ALLOW, sub->val.policy_id);
	return 0;
}

int xb_tss_lookup(const struct xb_tss_source *src, __u8 dir,
		  const struct xb_flow *fl, const __u8 default_action[4],
		  struct xb_ref_decision *d)
{
	int view = xb_tss_dir_view(dir);
	struct xb_list_result r;
	int err;

	memset(d, 0, sizeof(*d));
	if ((view != XB_VIEW_IN && view != XB_VIEW_FWD) ||
	    xb_tss_family_idx(fl->family) < 0)
		return -EINVAL;
	err = search(src, view, XB_PTYPE_SUB, fl, &r, d);
	if (err)
		return err;
	if (r.undecidable) {
		decide(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
		return 0;
	}
	if (r.found) {
		if (r.val.verdict == XB_V_BLOCK) {
			decide_one(d, &r.val);
			return 0;
		}
		return decide_sub_allow(src, fl, &r, d);
	}
	err = search(src, view, XB_PTYPE_MAIN, fl, &r, d);
	if (err)
		return err;
	if (r.undecidable)
		decide(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
	else if (r.found)
		decide_one(d, &r.val);
	else if (dir == XFRM_POLICY_FWD && flow_icmp_error(fl))
		decide(d, XB_R_PASS_UNDECIDABLE, XB_NO_POLICY);
	else if (default_action[dir] == XB_DEFAULT_BLOCK)
		decide(d, XB_R_DROP_DEFAULT_BLOCK, XB_NO_POLICY);
	else
		decide(d, XB_R_PASS_NO_POLICY, XB_NO_POLICY);
	return 0;
}

int xb_tss_lookup_steer(const struct xb_tss_source *src,
			const struct xb_flow *fl, struct xb_ref_steer *s)
{
	struct xb_ref_decision d = {};
	struct xb_list_result r;
	int ptype, err;

	memset(s, 0, sizeof(*s));
	s->policy_id = XB_NO_POLICY;
	if (xb_tss_family_idx(fl->family) < 0)
		return -EINVAL;
	for (ptype = XB_PTYPE_SUB; ptype < XB_PTYPE_MAX; ptype++) {
		err = search(src, XB_VIEW_OUT, ptype, fl, &r, &d);
		if (err)
			return err;
		s->overflow |= d.overflow;
		if (r.undecidable) {
			s->undecidable = true;
			return 0;
		}
		if (r.found) {
			s->found = true;
			s->policy_id = r.val.policy_id;
			s->if_id = r.val.if_id;
			s->verdict = r.val.verdict;
			return 0;
		}
	}
	return 0;
}
