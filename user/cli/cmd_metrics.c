// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xfrmbpf metrics [--top-policies N] [-o FILE]`: the Prometheus
 * exposition that `run --metrics` serves (daemon/metrics.h), on stdout or
 * into FILE for node_exporter's textfile collector. FILE is replaced at
 * once (a temporary file beside it, then rename()): the collector never
 * reads half of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "cli/show.h"
#include "daemon/metrics.h"

struct metrics_opts {
	unsigned int top_policies;
	const char *output;
};

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* text into path, whole or not at all: "PATH.XXXXXX" (which the textfile
 * collector, reading *.prom, skips), synced, readable by all, renamed. */
static int write_atomically(const char *path, const char *text, size_t len)
{
	size_t n = strlen(path) + sizeof(".XXXXXX");
	char *tmp = malloc(n);
	int fd, err;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, n, "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	err = write_all(fd, text, len);
	if (!err && (fchmod(fd, 0644) || fsync(fd)))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

static int cmd_metrics(void *opts, int argc, char **argv, struct xb_global *g)
{
	const struct metrics_opts *o = opts;
	struct xb_metrics_opts mo = { .top_policies = o->top_policies };
	struct xb_maps maps;
	char *text;
	size_t len;
	int ret, err;

	(void)argc, (void)argv;
	ret = xb_open_maps(g, &maps);
	if (ret)
		return ret;
	err = xb_metrics_render(&maps, &mo, &text, &len);
	xb_maps_close(&maps);
	if (err)
		return xb_error(g, XB_EXIT_FAIL, "couldn't read the maps under %s: %s",
				g->pin_dir, strerror(-err));
	if (o->output) {
		err = write_atomically(o->output, text, len);
		if (err)
			ret = xb_error(g, XB_EXIT_FAIL, "couldn't write %s: %s", o->output,
				       strerror(-err));
	} else if (fwrite(text, 1, len, stdout) != len || fflush(stdout)) {
		ret = xb_error(g, XB_EXIT_FAIL, "couldn't write the metrics: %s", strerror(errno));
	}
	free(text);
	return ret;
}

static const struct xb_option metrics_options[] = {
	{ .name = "top-policies", .kind = XB_OPT_UINT,
	  XB_OPT_AT(struct metrics_opts, top_policies),
	  .min = 0, .max = XB_METRICS_TOP_POLICIES_MAX, .metavar = "N",
	  .expect = "0 to 1000",
	  .help = "per-policy series for the N policies with the most\n"
		  "packets (default 20; 0: none, and no walk of the SPD)" },
	{ .name = "output", .short_name = 'o', .kind = XB_OPT_STRING,
	  XB_OPT_AT(struct metrics_opts, output), .metavar = "FILE",
	  .help = "replace FILE atomically instead of printing (for\n"
		  "node_exporter's textfile collector: FILE.prom)" },
	XB_OPT_HELP,
	{}
};

static const struct metrics_opts metrics_defaults = {
	.top_policies = XB_METRICS_TOP_POLICIES_DEFAULT,
};

const struct xb_cmd xb_cmd_metrics = {
	.name = "metrics",
	.fn = cmd_metrics,
	.summary = "Prometheus metrics (text format), as `run --metrics` serves them",
	.options = metrics_options,
	.opts_size = sizeof(struct metrics_opts),
	.defaults = &metrics_defaults,
	.notes = "The names, labels and their cardinality: README.md, \"Metrics\".\n"
		 "/proc/net/xfrm_stat is read in this network namespace.\n",
};
