/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small, direct filler of the published classifier (xb_tss and
 * xb_shape_lists) for BPF fixture tests: the policies are given already
 * placed in their view and with their datapath verdict, so a fixture
 * states exactly what the datapath must find. Shapes are grouped and
 * ordered as include/xfrmbpf/tss.h describes.
 */
#ifndef XFRMBPF_TESTS_TSS_FILL_H
#define XFRMBPF_TESTS_TSS_FILL_H

#include <stdint.h>
#include "xfrmbpf/tss.h"
#include "classifier/tss_filter.h"

struct xbt_policy {
	uint32_t id;		/* >= 1; 0 ends a list */
	uint8_t view;		/* XB_VIEW_* */
	uint8_t ptype;		/* XB_PTYPE_SUB / MAIN */
	uint8_t verdict;	/* XB_V_* */
	int family;		/* 4 or 6 */
	const char *src;	/* NULL: any */
	uint8_t plen_s;
	const char *dst;
	uint8_t plen_d;
	uint8_t proto;		/* 0: any */
	uint16_t sport, sport_mask;	/* host order */
	uint16_t dport, dport_mask;
	uint32_t priority;
	uint32_t pos;
	uint32_t if_id;
};

/* Replaces the whole classifier with these policies (id 0 ends the list),
 * and the presence filter when one is given. Returns 0 or -errno. */
int xbt_tss_fill(int tss_fd, int lists_fd, struct xb_tss_filter *filter,
		 const struct xbt_policy *pols);

/* Marks one shape list overflowed. */
int xbt_tss_overflow(int lists_fd, uint32_t list_idx);

#endif
