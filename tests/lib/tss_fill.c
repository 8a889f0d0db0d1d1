// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Direct filler of xb_tss / xb_shape_lists for fixtures (tss_fill.h). */
#include "tss_fill.h"
#include "classifier/tss.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

static uint32_t list_of(const struct xbt_policy *p)
{
	return XB_SHAPE_LIST_IDX(p->view, p->ptype,
				 p->family == 6 ? XB_FAM_V6 : XB_FAM_V4);
}

static int same_shape(const struct xb_shape *s, const struct xbt_policy *p)
{
	return s->prefixlen_s == p->plen_s && s->prefixlen_d == p->plen_d &&
	       s->sport_mask == htons(p->sport_mask) &&
	       s->dport_mask == htons(p->dport_mask) &&
	       s->proto_mask == (p->proto ? 0xff : 0);
}

static int af_of(const struct xbt_policy *p)
{
	return p->family == 6 ? AF_INET6 : AF_INET;
}

/* NULL: any (zero, which every mask keeps). */
static void parse_addr(union xb_addr *a, const struct xbt_policy *p,
		       const char *str)
{
	memset(a, 0, sizeof(*a));
	if (str)
		inet_pton(af_of(p), str, a->b);
}

static int clear_tss(int tss_fd)
{
	struct xb_tss_key key, next;

	while (!bpf_map_get_next_key(tss_fd, NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(tss_fd, &key))
			return -errno;
	}
	return 0;
}

static int cmp_shape(const void *a, const void *b)
{
	const struct xb_shape *x = a, *y = b;

	if (x->best_priority != y->best_priority)
		return x->best_priority < y->best_priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Finds or adds p's shape in its list; NULL when the list is full. */
static const struct xb_shape *shape_of(struct xb_shape_list *l,
				       const struct xbt_policy *p)
{
	struct xb_shape *s;
	uint32_t i;

	for (i = 0; i < l->count; i++) {
		s = &l->shapes[i];
		if (same_shape(s, p)) {
			if (p->priority < s->best_priority)
				s->best_priority = p->priority;
			return s;
		}
	}
	if (l->count == XB_MAX_TABLES) {
		l->overflow = 1;
		return NULL;
	}
	s = &l->shapes[l->count];
	s->id = (uint16_t)l->count;
	s->best_priority = p->priority;
	xb_shape_set_prefixes(s, p->plen_s, p->plen_d);
	s->sport_mask = htons(p->sport_mask);
	s->dport_mask = htons(p->dport_mask);
	s->proto_mask = p->proto ? 0xff : 0;
	l->count++;
	return s;
}

static void addr_word(__be32 *word, const union xb_addr *a, uint8_t plen)
{
	*word = a->a[xb_tss_prefix_word(plen)];
}

/* Adds p to its bucket, in (priority, pos, id) order within its chunk
 * (fixtures list a bucket's policies in order), a chunk after the last
 * when that one has no room, as user/classifier/tss.c publishes them. */
static int put_entry(int tss_fd, const struct xbt_policy *p, uint32_t list,
		     const struct xb_shape *shape)
{
	struct xb_tss_rule rule = {
		.policy_id = p->id,
		.priority = p->priority,
		.pos = p->pos,
		.if_id = p->if_id,
		.sport = htons(p->sport & p->sport_mask),
		.sport_mask = htons(p->sport_mask),
		.dport = htons(p->dport & p->dport_mask),
		.dport_mask = htons(p->dport_mask),
		.prefixlen_s = p->plen_s,
		.prefixlen_d = p->plen_d,
		.proto = p->proto,
		.verdict = p->verdict,
	};
	struct xb_tss_key key = {};
	struct xb_tss_val val = {};
	union xb_addr a;
	uint32_t i, c;

	parse_addr(&a, p, p->src);
	addr_word(&rule.saddr_word, &a, p->plen_s);
	key.saddr = a;
	parse_addr(&a, p, p->dst);
	addr_word(&rule.daddr_word, &a, p->plen_d);
	key.daddr = a;
	key.proto = p->proto;
	key.sport = htons(p->sport);
	key.dport = htons(p->dport);
	xb_tss_key_mask(&key, list, shape);
	/* the first chunk with room; a fixture's policies come in order.
	 * The full chunks before it hold the rule among their later ones. */
	for (c = 0; c < XB_BUCKET_CHUNKS; c++) {
		key.list = XB_TSS_KEY_CHUNK(list, c);
		memset(&val, 0, sizeof(val));
		if (bpf_map_lookup_elem(tss_fd, &key, &val) ||
		    val.count < XB_BUCKET_RULES)
			break;
		if (!val.more) {
			val.more = 1;
			xb_tss_ports_empty(&val.later);
		}
		xb_tss_ports_add(&val.later, &rule);
		if (bpf_map_update_elem(tss_fd, &key, &val, BPF_ANY))
			return -errno;
	}
	if (c == XB_BUCKET_CHUNKS)
		return -ENOSPC;
	i = val.count++;
	while (i > 0 && xb_tss_rule_before(&rule, &val.rules[i - 1])) {
		val.rules[i] = val.rules[i - 1];
		i--;
	}
	val.rules[i] = rule;
	return bpf_map_update_elem(tss_fd, &key, &val, BPF_ANY) ? -errno : 0;
}

/* The presence filter and its gates from scratch: every key now in
 * xb_tss. */
static int fill_filter(int tss_fd, struct xb_tss_filter *filter)
{
	struct xb_tss_key key, next;
	struct xb_tss_val val;
	void *prev = NULL;

	xb_tss_filter_init(filter, filter->words, filter->gate);
	while (!bpf_map_get_next_key(tss_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(tss_fd, &key, &val))
			return -errno;
		xb_tss_filter_add(filter, &key, XB_TSS_CLASS_BIG, xb_tss_val_gate(&val));
	}
	return errno == ENOENT ? 0 : -errno;
}

int xbt_tss_fill(int tss_fd, int lists_fd, struct xb_tss_filter *filter,
		 const struct xbt_policy *pols)
{
	struct xb_shape_list *lists;
	const struct xb_shape *shape;
	const struct xbt_policy *p;
	uint32_t i;
	int ret;

	lists = calloc(XB_SHAPE_LISTS, sizeof(*lists));
	if (!lists)
		return -ENOMEM;
	ret = clear_tss(tss_fd);
	for (p = pols; !ret && p && p->id; p++) {
		shape = shape_of(&lists[list_of(p)], p);
		if (shape)
			ret = put_entry(tss_fd, p, list_of(p), shape);
	}
	for (i = 0; !ret && i < XB_SHAPE_LISTS; i++) {
		qsort(lists[i].shapes, lists[i].count, sizeof(struct xb_shape),
		      cmp_shape);
		if (bpf_map_update_elem(lists_fd, &i, &lists[i], BPF_ANY))
			ret = -errno;
	}
	free(lists);
	if (!ret && filter)
		ret = fill_filter(tss_fd, filter);
	return ret;
}

int xbt_tss_overflow(int lists_fd, uint32_t list_idx)
{
	struct xb_shape_list l;

	if (bpf_map_lookup_elem(lists_fd, &list_idx, &l))
		return -errno;
	l.overflow = 1;
	if (bpf_map_update_elem(lists_fd, &list_idx, &l, BPF_ANY))
		return -errno;
	return 0;
}
