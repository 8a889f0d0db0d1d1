/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A policy as the pinned maps hold it (include/xfrmbpf/spd.h): its record
 * in xb_policies and, where it has one, its scope in xb_scope_pages. The
 * publisher writes them, the readers of the maps put the policy together
 * again.
 */
#ifndef XFRMBPF_POLICY_REC_H
#define XFRMBPF_POLICY_REC_H

#include <stdbool.h>
#include "xfrmbpf/spd.h"

/* The record of pol (all of it but the id and the scope). */
void xb_policy_rec_of(const struct xb_policy *pol, struct xb_policy_rec *rec);
/* The scope of pol; false when it has none (all of it 0), which
 * xb_scope_pages then does not hold. */
bool xb_policy_scope_of(const struct xb_policy *pol, struct xb_policy_scope *scope);
/* Policy id from its record and its scope (NULL: it has none). */
void xb_policy_from_rec(__u32 id, const struct xb_policy_rec *rec,
			const struct xb_policy_scope *scope, struct xb_policy *pol);

#endif
