// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include "daemon/metrics.h"
#include "daemon/metrics_http.h"
#include "lib/log.h"

/* Scrapes at once, and how long an idle connection is kept. */
#define XB_METRICS_CONNECTIONS	8
#define XB_METRICS_TIMEOUT_S	10

struct xb_metrics_http {
	struct MHD_Daemon *mhd;
	struct xb_maps maps;	/* read-only, this thread's own */
	struct xb_metrics_opts opts;
};

int xb_metrics_parse_addr(const char *arg, struct xb_metrics_http_opts *o)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&o->addr;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&o->addr;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_s, *given = arg;
	bool v6 = *arg == '[';
	size_t host_len;
	char *end;
	long port;

	if (strlen(arg) >= sizeof(o->addr_str))
		return -EINVAL;
	if (v6) {	/* [IPv6]:PORT */
		colon = strstr(arg, "]:");
		if (!colon)
			return -EINVAL;
		host_len = colon - arg - 1;
		port_s = colon + 2;
		arg++;
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			return -EINVAL;
		host_len = colon - arg;
		port_s = colon + 1;
	}
	if (!host_len || host_len >= sizeof(host))
		return -EINVAL;
	memcpy(host, arg, host_len);
	host[host_len] = '\0';
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (errno || *end || end == port_s || port < 1 || port > 65535)
		return -EINVAL;
	memset(&o->addr, 0, sizeof(o->addr));
	if (v6 && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		o->addr_len = sizeof(*in6);
	} else if (!v6 && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		o->addr_len = sizeof(*in4);
	} else {
		return -EINVAL;
	}
	snprintf(o->addr_str, sizeof(o->addr_str), "%s", given);
	o->enabled = true;
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *text, char *owned, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (owned)
		r = MHD_create_response_from_buffer(len, owned, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(strlen(text), (void *)text,
						    MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(owned);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				owned ? XB_METRICS_CONTENT_TYPE : "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct xb_metrics_http *h = cls;
	char *text, msg[128];
	size_t len;
	int err;

	(void)version, (void)upload_data, (void)upload_data_size, (void)con_cls;
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n",
			     NULL, 0);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n", NULL, 0);
	err = xb_metrics_render(&h->maps, &h->opts, &text, &len);
	if (err) {
		pr_warn("Couldn't render the metrics: %s\n", strerror(-err));
		snprintf(msg, sizeof(msg), "couldn't read the maps: %s\n", strerror(-err));
		text = strdup(msg);
		return text ? reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, text, strlen(text)) :
			      MHD_NO;
	}
	return reply(conn, MHD_HTTP_OK, NULL, text, len);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	pr_warn("metrics endpoint: %s\n", msg);
}

/* The listening socket, ours: a precise error when the address is taken
 * or not local, and IPv6 only on an IPv6 address. */
static int listen_on(const struct xb_metrics_http_opts *o)
{
	int fd, one = 1, err;

	fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (o->addr.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (const struct sockaddr *)&o->addr, o->addr_len) ||
	    listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

struct xb_metrics_http *xb_metrics_http_start(const char *pin_dir,
					      const struct xb_metrics_http_opts *o,
					      char *err, size_t err_len)
{
	struct xb_metrics_http *h = calloc(1, sizeof(*h));
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	int fd, e, i;

	if (!h) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	for (i = 0; i < XB_MAP_COUNT; i++)
		h->maps.fd[i] = -1;
	h->opts.top_policies = o->top_policies;
	e = xb_maps_open(&h->maps, pin_dir, false);
	if (e) {
		snprintf(err, err_len, "couldn't open the maps under %s for the metrics: %s",
			 pin_dir, strerror(-e));
		free(h);
		return NULL;
	}
	fd = listen_on(o);
	if (fd < 0) {
		snprintf(err, err_len, "couldn't listen on %s for the metrics: %s", o->addr_str,
			 strerror(-fd));
		goto fail;
	}
	if (o->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* MHD owns fd from now on (MHD_stop_daemon() closes it); when it
	 * fails to start, the daemon exits. */
	/* the logger first: it applies to the options after it */
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)XB_METRICS_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)XB_METRICS_TIMEOUT_S,
				  MHD_OPTION_END);
	if (!h->mhd) {
		snprintf(err, err_len, "couldn't start the metrics endpoint on %s", o->addr_str);
		goto fail;
	}
	pr_info("Metrics at http://%s/metrics\n", o->addr_str);
	return h;
fail:
	xb_maps_close(&h->maps);
	free(h);
	return NULL;
}

void xb_metrics_http_stop(struct xb_metrics_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);
	xb_maps_close(&h->maps);
	free(h);
}
