/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `run --spread-esp CPUS`: the CPU each (daddr, SPI, proto) of the SAD
 * gets, which the publisher writes into xb_spis (struct xb_spi_val.cpu)
 * and the datapath redirects its inbound ESP to (bpf/spread.bpf.h).
 *
 * Chosen here, not by a hash in BPF, so that the spread is even: a new
 * key takes the listed CPU that holds the fewest keys of its destination
 * address, ties broken by the fewest keys in all, then round-robin. Per
 * destination, since only the SAs to the host's own addresses carry
 * inbound ESP: counted together with the outbound SAs (to the peers'
 * addresses) they could all land on half of the CPUs. A per-CPU SA
 * (XFRMA_SA_PCPU) takes its own CPU when it is listed.
 *
 * A key keeps its CPU while it exists (the mirror holds it in struct
 * xb_mirror_spi): re-publications and re-dumps do not move it. Across a
 * rebuilt mirror or a restarted daemon, hints (the CPUs the keys had)
 * give a key the same CPU again when it comes back.
 */
#ifndef XFRMBPF_SPREAD_H
#define XFRMBPF_SPREAD_H

#include <stdbool.h>
#include "lib/hashtab.h"
#include "loader/maps.h"
#include "loader/spread.h"
#include "xfrmbpf/limits.h"
#include "xfrmbpf/sad.h"

struct xb_spread {
	__u32 n;			/* listed CPUs */
	__u32 cpus[XB_MAX_SPREAD_CPUS];	/* their numbers, ascending */
	__u32 load[XB_MAX_SPREAD_CPUS];	/* keys per listed CPU, by position */
	struct xb_htab dests;		/* keys per listed CPU, per daddr */
	struct xb_htab hints;		/* CPUs keys had, by key */
	__u32 next;			/* round-robin among ties */
};

int xb_spread_init(struct xb_spread *s, const struct xb_cpu_list *cpus);
void xb_spread_fini(struct xb_spread *s);

/* The CPU for a new key: pcpu (the SA's XFRMA_SA_PCPU, or XB_NO_CPU)
 * when it is listed, else the key's hint when that CPU is listed, else
 * the least loaded as above. XB_NO_CPU only without memory. */
__u32 xb_spread_take(struct xb_spread *s, const struct xb_spi_key *key, __u32 pcpu);
/* The key is gone (cpu: what xb_spread_take() gave it); remember: keep
 * it as a hint for the key's return (a mirror rebuilt). */
void xb_spread_release(struct xb_spread *s, const struct xb_spi_key *key, __u32 cpu,
		       bool remember);
/* A hint: the key had this CPU (read back from the pinned xb_spis at
 * start). */
int xb_spread_hint(struct xb_spread *s, const struct xb_spi_key *key, __u32 cpu);
/* Drop the hints no key came back for (after a full dump). */
void xb_spread_forget_hints(struct xb_spread *s);
/* Hints from the CPUs the keys of the pinned xb_spis have (the run
 * before this one), read before the maps are emptied. */
int xb_spread_hints_read(struct xb_spread *s, const struct xb_maps *maps);
/* Is cpu one of the listed CPUs? */
bool xb_spread_listed(const struct xb_spread *s, __u32 cpu);

#endif
