/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prometheus metrics: one rendering of the pinned maps (and the kernel's
 * /proc/net/xfrm_stat) in the text exposition format 0.0.4, which both
 * `xfrmbpf metrics` and the daemon's HTTP endpoint (daemon/metrics_http.h)
 * serve. The names, labels and their cardinality are in README.md
 * ("Metrics").
 */
#ifndef XFRMBPF_METRICS_H
#define XFRMBPF_METRICS_H

#include <stddef.h>
#include "loader/maps.h"

#define XB_METRICS_CONTENT_TYPE		"text/plain; version=0.0.4; charset=utf-8"
/* Per-policy series: the N policies with the most packets. */
#define XB_METRICS_TOP_POLICIES_DEFAULT	20
#define XB_METRICS_TOP_POLICIES_MAX	1000

struct xb_metrics_opts {
	/* xfrmbpf_policy_{packets,bytes}_total for the top_policies
	 * policies with the most packets (those with none left out); 0: no
	 * per-policy series, and no walk of the SPD. */
	unsigned int top_policies;
};

/* The exposition of maps, as one string for free() in *text (*len bytes
 * without the NUL). Returns 0 or -errno (then *text is NULL): what a
 * failed read would leave out is never served as zero. */
int xb_metrics_render(const struct xb_maps *maps, const struct xb_metrics_opts *o,
		      char **text, size_t *len);

#endif
