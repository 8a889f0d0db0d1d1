// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xfrmbpf.skel.h"
#include "xfrmbpf/datapath.h"
#include "bpf_harness.h"
#include "classifier/tss_filter.h"
#include "loader/kfunc.h"
#include "loader/maps.h"

int xbt_sh(const char *cmd)
{
	char buf[512];
	FILE *f;
	int err;

	if (!strncmp(cmd, "/proc/sys/", 10)) {
		f = fopen(cmd, "w");
		if (!f)
			return -1;
		err = fputs("1\n", f) < 0;
		return fclose(f) || err ? -1 : 0;
	}
	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	return system(buf);
}

int xbt_net_enter(const char *const *cmds, size_t n, const char **why)
{
	size_t i;

	if (geteuid() != 0) {
		*why = "needs root";
		return -1;
	}
	if (unshare(CLONE_NEWNET)) {
		*why = "cannot unshare a network namespace";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (xbt_sh(cmds[i])) {
			fprintf(stderr, "# setup failed: %s\n", cmds[i]);
			*why = "network setup failed";
			return -1;
		}
	}
	return 0;
}

bool xbt_kernel_sa_lookup = true;

struct xfrmbpf *xbt_skel_load(char *logs, int n_logs, size_t log_size)
{
	return xbt_skel_load_sized(logs, n_logs, log_size, 0);
}

bool xbt_skel_spread_on;
bool xbt_skel_tc;

struct xfrmbpf *xbt_skel_load_sized(char *logs, int n_logs, size_t log_size,
				    __u32 max_policies)
{
	struct bpf_program *prog;
	struct xfrmbpf *skel;
	struct bpf_map *map;
	int i = 0, err;

	skel = xfrmbpf__open();
	if (!skel)
		return NULL;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	skel->rodata->xb_kernel_sa_lookup = xbt_kernel_sa_lookup &&
					    xb_have_kernel_sa_lookup();
	bpf_program__set_autoload(skel->progs.xb_tc_steer, xbt_skel_tc);
	/* as the daemon does: its kfunc is 6.2+ and may be a module's */
	bpf_program__set_autoload(skel->progs.xb_tc_md_egress,
				  xbt_skel_tc && xb_have_skb_set_xfrm_info());
	bpf_object__for_each_program(prog, skel->obj) {
		if (!logs || i >= n_logs)
			break;
		bpf_program__set_log_buf(prog, logs + (size_t)i++ * log_size,
					 log_size);
		bpf_program__set_log_level(prog, 4);
	}
	if (xb_maps_fit_capacity(skel->obj, NULL, max_policies)) {
		xfrmbpf__destroy(skel);
		errno = EINVAL;
		return NULL;
	}
	skel->rodata->xb_spread_on = xbt_skel_spread_on;
	if (xfrmbpf__load(skel)) {
		err = errno;
		fprintf(stderr, "# load failed: %s\n", strerror(err));
		xfrmbpf__destroy(skel);
		errno = err;
		return NULL;
	}
	return skel;
}

struct xb_tss_filter *xbt_skel_filter(const struct xfrmbpf *skel)
{
	static struct xb_tss_filter filter;
	static __u32 mapped_id;
	int fd = bpf_map__fd(skel->maps.xb_tss_filter);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	/* by id: a skeleton loaded again may get the same fd number */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return NULL;
	if (info.id != mapped_id) {
		xb_tss_filter_unmap(&filter);
		mapped_id = 0;
		if (xb_tss_filter_map(&filter, fd, bpf_map__fd(skel->maps.xb_tss_gate)))
			return NULL;
		xb_tss_filter_init(&filter, filter.words, filter.gate);
		mapped_id = info.id;
	}
	return &filter;
}

uint64_t xbt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t xbt_percpu_packets(int map_fd, uint32_t key)
{
	int n = libbpf_num_possible_cpus(), i;
	struct xb_counter *v;
	uint64_t sum = 0;

	if (n < 1)
		return 0;
	v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return 0;
	if (!bpf_map_lookup_elem(map_fd, &key, v))
		for (i = 0; i < n; i++)
			sum += v[i].packets;
	free(v);
	return sum;
}

uint64_t xbt_reason_packets(int stats_fd, uint32_t reason)
{
	uint64_t sum = 0;
	uint32_t row;

	for (row = 0; row < XB_STATS_ROWS; row++)
		sum += xbt_percpu_packets(stats_fd, XB_STATS_KEY(row, reason));
	return sum;
}

int xbt_run_xdp(const struct xfrmbpf *skel, const struct xbt_frame *f,
		int ifindex, uint32_t *retval)
{
	struct xdp_md ctx = { .data_end = (uint32_t)f->len,
			      .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = f->data,
		    .data_size_in = (uint32_t)f->len,
		    .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx),
		    .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xb_xdp),
				     &opts);
	*retval = opts.retval;
	return err;
}
