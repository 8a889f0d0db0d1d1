/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A published tuple-space search held in memory: a sink the builder
 * flushes into (user/classifier/tss.h) and a source the reader searches
 * (tss_reader.h), for tests that need no BPF maps.
 */
#ifndef XFRMBPF_TESTS_TSS_MEM_H
#define XFRMBPF_TESTS_TSS_MEM_H

#include <stddef.h>
#include "classifier/tss.h"
#include "tss_reader.h"

struct xb_tss_mem;

struct xb_tss_mem_stats {
	unsigned long puts;
	unsigned long dels;
	unsigned long list_puts;
};

struct xb_tss_mem *xb_tss_mem_new(void);
void xb_tss_mem_free(struct xb_tss_mem *mem);
/* A sink that writes into mem (del of a missing key fails with -ENOENT,
 * as on a BPF hash map) and a source that reads it. */
void xb_tss_mem_sink(struct xb_tss_mem *mem, struct xb_tss_sink *sink);
void xb_tss_mem_source(struct xb_tss_mem *mem, struct xb_tss_source *src);
size_t xb_tss_mem_count(const struct xb_tss_mem *mem);
/* Entries of xb_tss_index, and how many it may hold (0: any; past it a
 * new key fails with -E2BIG, as a full BPF hash map does). */
size_t xb_tss_mem_index_count(const struct xb_tss_mem *mem);
void xb_tss_mem_set_index_limit(struct xb_tss_mem *mem, size_t limit);
void xb_tss_mem_get_stats(const struct xb_tss_mem *mem,
			  struct xb_tss_mem_stats *stats);
/* Compares the published xb_tss_index with one built from scratch from
 * the published buckets and lists: bits an indexed list needs and lacks
 * (a wrong miss in the datapath), and bits no bucket calls for (a wasted
 * probe). Returns 0 or -errno. */
int xb_tss_mem_check_index(const struct xb_tss_mem *mem, unsigned long *missing,
			   unsigned long *stale);
/* Calls fn for every entry (any order); stops at a non-zero return. */
int xb_tss_mem_for_each(const struct xb_tss_mem *mem,
			int (*fn)(void *arg, const struct xb_tss_key *key,
				  const struct xb_tss_val *val),
			void *arg);

#endif
