/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* JSON forms of mirrored objects, shared by the show commands and check. */
#ifndef XFRMBPF_SHOW_H
#define XFRMBPF_SHOW_H

#include <jansson.h>
#include "cli/cli.h"
#include "loader/maps.h"
#include "xfrmbpf/datapath.h"
#include "xfrmbpf/sad.h"
#include "xfrmbpf/spd.h"

json_t *xb_policy_json(const struct xb_policy *p, const struct xb_tmpl *tmpls,
		       const struct xb_counter *hits);
json_t *xb_sa_json(const struct xb_sa_key *key, const struct xb_sa *sa);
/* Why a shape list is undecidable: the names of its XB_LIST_UNDEC_* bits. */
json_t *xb_list_why_json(__u32 undecidable);
/* Open the pinned maps read-only, or print why not and return an exit code. */
int xb_open_maps(const struct xb_global *g, struct xb_maps *maps);

#endif
