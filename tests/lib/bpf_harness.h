/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the BPF_PROG_TEST_RUN tests (tests/bpf/) share: a private network
 * namespace with the devices and routes their FIB lookups need, the
 * datapath object loaded with private (unpinned) maps, and one run of
 * the XDP program on a frame.
 */
#ifndef XBT_BPF_HARNESS_H
#define XBT_BPF_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/pktbuild.h"

struct xfrmbpf;

/* One setup line: a /proc/sys path is set to 1, anything else runs in
 * the shell with its output discarded. Returns 0 on success. */
int xbt_sh(const char *cmd);

/* Unshares a network namespace and runs every setup line in it. On
 * failure returns -1 and says why in *why (a reason to skip). */
int xbt_net_enter(const char *const *cmds, size_t n, const char **why);

/* Loads use the kernel's SA lookup where the kernel has it, as the daemon
 * does (default); false: never, as on kernels before 6.8. */
extern bool xbt_kernel_sa_lookup;

/* Opens and loads the datapath object with private maps. logs: when not NULL, n_logs
 * buffers of log_size bytes that receive the verifier statistics (log
 * level 4) of the first n_logs programs. NULL on failure (errno set). */
struct xfrmbpf *xbt_skel_load(char *logs, int n_logs, size_t log_size);
/* The same with the policy-sized maps made for max_policies (as `run
 * --max-policies` does; 0: as compiled). */
struct xfrmbpf *xbt_skel_load_sized(char *logs, int n_logs, size_t log_size,
				    __u32 max_policies);

/* The datapath's `run --spread-esp` switch (xb_spread_on) of the
 * objects loaded from now on; false unless a test sets it. */
extern bool xbt_skel_spread_on;

/* Whether the objects loaded from now on have their TC programs
 * (xb_tc_steer, xb_tc_md_egress) too, as the daemon's with steering;
 * false unless a test sets it: only the steering fixtures run them, and
 * their verification is most of a load's time (under the kernel lab's
 * emulated CPUs ~60% of each load of the fixtures). */
extern bool xbt_skel_tc;

/* The presence filter of the skeleton's xb_tss_filter map, mapped once
 * and cleared (user/classifier/tss_filter.h); NULL if it cannot be mapped. */
struct xb_tss_filter *xbt_skel_filter(const struct xfrmbpf *skel);

/* CLOCK_MONOTONIC in ns, as the daemon stamps its heartbeat. */
uint64_t xbt_now_ns(void);

/* Packets of a per-CPU struct xb_counter, summed over the CPUs; 0 when
 * the key has no entry. */
uint64_t xbt_percpu_packets(int map_fd, uint32_t key);

/* Packets of a reason in xb_stats (stats_fd), every row and CPU. */
uint64_t xbt_reason_packets(int stats_fd, uint32_t reason);

/* One run of xb_xdp on frame f received on ifindex. */
int xbt_run_xdp(const struct xfrmbpf *skel, const struct xbt_frame *f,
		int ifindex, uint32_t *retval);

#endif
