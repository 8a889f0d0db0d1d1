// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "mirror/policy_rec.h"

void xb_policy_rec_of(const struct xb_policy *pol, struct xb_policy_rec *rec)
{
	const struct xb_selector *sel = &pol->sel;

	memset(rec, 0, sizeof(*rec));
	rec->daddr = sel->daddr;
	rec->saddr = sel->saddr;
	rec->dport = sel->dport;
	rec->dport_mask = sel->dport_mask;
	rec->sport = sel->sport;
	rec->sport_mask = sel->sport_mask;
	rec->index = pol->index;
	rec->priority = pol->priority;
	rec->pos = pol->pos;
	rec->family = sel->family;
	rec->prefixlen_d = sel->prefixlen_d;
	rec->prefixlen_s = sel->prefixlen_s;
	rec->proto = sel->proto;
	rec->dir = pol->dir;
	rec->type = pol->type;
	rec->action = pol->action;
	rec->flags = pol->flags;
	rec->share = pol->share;
	rec->n_tmpls = pol->n_tmpls;
	rec->xb_flags = pol->xb_flags;
}

bool xb_policy_scope_of(const struct xb_policy *pol, struct xb_policy_scope *scope)
{
	scope->ifindex = pol->sel.ifindex;
	scope->user = pol->sel.user;
	scope->mark_v = pol->mark_v;
	scope->mark_m = pol->mark_m;
	scope->if_id = pol->if_id;
	return scope->ifindex || scope->user || scope->mark_v || scope->mark_m ||
	       scope->if_id;
}

void xb_policy_from_rec(__u32 id, const struct xb_policy_rec *rec,
			const struct xb_policy_scope *scope, struct xb_policy *pol)
{
	struct xb_selector *sel = &pol->sel;

	memset(pol, 0, sizeof(*pol));
	sel->daddr = rec->daddr;
	sel->saddr = rec->saddr;
	sel->dport = rec->dport;
	sel->dport_mask = rec->dport_mask;
	sel->sport = rec->sport;
	sel->sport_mask = rec->sport_mask;
	sel->family = rec->family;
	sel->prefixlen_d = rec->prefixlen_d;
	sel->prefixlen_s = rec->prefixlen_s;
	sel->proto = rec->proto;
	pol->id = id;
	pol->index = rec->index;
	pol->priority = rec->priority;
	pol->pos = rec->pos;
	pol->dir = rec->dir;
	pol->type = rec->type;
	pol->action = rec->action;
	pol->flags = rec->flags;
	pol->share = rec->share;
	pol->n_tmpls = rec->n_tmpls;
	pol->xb_flags = rec->xb_flags;
	if (scope) {
		sel->ifindex = scope->ifindex;
		sel->user = scope->user;
		pol->mark_v = scope->mark_v;
		pol->mark_m = scope->mark_m;
		pol->if_id = scope->if_id;
	}
}
