/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `run --metrics ADDR:PORT`: the metrics (daemon/metrics.h) over HTTP, by
 * libmicrohttpd in a thread of its own with its own read-only handles on
 * the maps, so a scrape never waits for the mirror nor the mirror for a
 * scrape. GET /metrics only; 404 elsewhere, 405 for other methods.
 */
#ifndef XFRMBPF_METRICS_HTTP_H
#define XFRMBPF_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct xb_metrics_http_opts {
	bool enabled;
	struct sockaddr_storage addr;	/* numeric, as given: only this one */
	socklen_t addr_len;
	char addr_str[64];		/* as given, for messages */
	unsigned int top_policies;	/* struct xb_metrics_opts */
};

/* "127.0.0.1:9571" or "[::1]:9571" into o (enabled). 0 or -EINVAL. */
int xb_metrics_parse_addr(const char *arg, struct xb_metrics_http_opts *o);

struct xb_metrics_http;

/* Bind o's address and serve the maps under pin_dir. NULL on failure,
 * with the reason in err. */
struct xb_metrics_http *xb_metrics_http_start(const char *pin_dir,
					      const struct xb_metrics_http_opts *o,
					      char *err, size_t err_len);
/* Stop serving (waits for a scrape in progress); NULL is fine. */
void xb_metrics_http_stop(struct xb_metrics_http *h);

#endif
