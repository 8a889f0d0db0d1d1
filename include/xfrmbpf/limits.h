/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Sizes shared by the datapath and the mirror. */
#ifndef XFRMBPF_LIMITS_H
#define XFRMBPF_LIMITS_H

#define XB_PIN_DIR_DEFAULT	"/sys/fs/bpf/xfrmbpf"

/* Policies the mirror can hold; one per-policy counter slot each. This
 * is the size compiled into the map definitions (bpf/maps.bpf.h) and what
 * the tests use; `xfrmbpf run --max-policies N` sizes the pinned maps and
 * the mirror at creation instead (user/loader/maps.c), from
 * XB_MAX_POLICIES_DEFAULT up to XB_MAX_POLICIES_LIMIT. */
#define XB_MAX_POLICIES		131072
#define XB_MAX_POLICIES_DEFAULT	1048576
#define XB_MAX_POLICIES_LIMIT	4194304
/* Templates after the first (xb_tmpls) and tuple-space entries for a
 * capacity of n policies: xb_tss holds the buckets of three policies or
 * more, at most n / 3 entries (a bucket of k takes ceil(k / XB_BUCKET_RULES)),
 * xb_tss_pair an entry a bucket of one or two, at most n; each twice
 * that, as a publication writes new entries before it deletes old ones. */
#define XB_TMPLS_ENTRIES(n)	(n)
#define XB_TSS_ENTRIES(n)	(n)
#define XB_TSS_PAIR_ENTRIES(n)	(2 * (n))
/* Templates (xfrm_user_tmpl) per policy, as XFRM_MAX_DEPTH. */
#define XB_MAX_TMPLS		6
/* SA identities the mirror can hold. */
#define XB_MAX_SAS		131072
/* SPIs unknown to the maps whose first sighting is remembered: an SPI
 * evicted is waited for again, never dropped sooner (bpf/spi.bpf.h). */
#define XB_MAX_SPI_SEEN		16384
/* Tables of one shape list (include/xfrmbpf/tss.h). Policies of any
 * number of distinct shapes share tables of relaxed shapes; a list whose
 * policies would need more tables is undecidable (the datapath passes).
 * A packet probes only its candidate tables (xb_tss_index), so the
 * number of tables costs memory, not time: the firewall-style sets of
 * the bench need up to ~360 (tests/lib/ruleset_gen.h). */
#define XB_MAX_TABLES		512
/* Policies in one entry of xb_tss, and entries (chunks) one bucket of a
 * table may span: a crowded key holds up to XB_BUCKET_MAX policies. The
 * builder fills a relaxed table while its buckets have room in one entry,
 * and each further chunk a flow meets is one more hash lookup out of the
 * CPU caches. Eleven is what a 512-byte kmalloc object holds (an element
 * of xb_tss is one, include/xfrmbpf/tss.h): eight a entry (was four) cut
 * the entries a new flow finds at 100k realistic policies by 7-35%, and
 * eleven the tables by 11-28% and the entries by a further 1-16%
 * (bench_classify's table counts and walk lines), for no more memory. */
#define XB_BUCKET_RULES		11
#define XB_BUCKET_CHUNKS	4
#define XB_BUCKET_MAX		(XB_BUCKET_RULES * XB_BUCKET_CHUNKS)
/* Entries of the tuple-space hash: one per (view, shape, masked key). */
#define XB_MAX_TSS_ENTRIES	XB_TSS_ENTRIES(XB_MAX_POLICIES)
#define XB_MAX_TSS_PAIR_ENTRIES	XB_TSS_PAIR_ENTRIES(XB_MAX_POLICIES)
/* Entries of the candidate-table index (xb_tss_index) for a capacity of
 * n policies: at most three per bucket, far fewer in practice, as
 * policies share regions; a list whose entries do not fit is published
 * unindexed (searched in full). */
#define XB_TSS_INDEX_ENTRIES(n)	(n)
#define XB_MAX_TSS_INDEX_ENTRIES XB_TSS_INDEX_ENTRIES(XB_MAX_POLICIES)
/* XFRM interfaces followed over rtnetlink. */
#define XB_MAX_XFRM_LINKS	4096
/* NICs one daemon can attach to. */
#define XB_MAX_IFACES		64
/* IKE and other bypass ports (proto, port) never dropped inbound, and the
 * NAT-T port's encapsulation socket (XB_BYPASS_ENCAP_SOCKET): one entry
 * of xb_bypass is kept for it. */
#define XB_MAX_BYPASS		16
#define XB_MAX_BYPASS_PORTS	(XB_MAX_BYPASS - 1)
/* Slots of the exact-flow cache on each CPU, 90 bytes each (88 and a
 * 2-byte tag): at most 2^16 (5.6 MiB a CPU), fewer where the CPUs' caches
 * together would pass XB_FLOW_CACHE_BUDGET, never fewer than
 * 2^XB_FLOW_CACHE_MIN_BITS (user/loader/maps.c sizes it when it creates
 * the map). In blocks of XB_FLOW_BLOCK slots (struct xb_flow_block) and
 * their tags (struct xb_flow_tags). */
#define XB_FLOW_CACHE_BITS	16
#define XB_FLOW_CACHE_ENTRIES	(1U << XB_FLOW_CACHE_BITS)
#define XB_FLOW_CACHE_MIN_BITS	12
#define XB_FLOW_CACHE_BUDGET	(64ULL << 20)
#define XB_FLOW_BLOCK		32

/* CPUs `run --spread-esp` can redirect inbound ESP to: the entries of
 * xb_spread_cpus (a cpumap, keyed by CPU number) and of
 * xb_spread_stats. CPU numbers at or past it cannot be listed. */
#define XB_MAX_SPREAD_CPUS	1024
/* Frames each CPU's cpumap queue holds (struct bpf_cpumap_val.qsize),
 * as the kernel's xdp_redirect_cpu sample. */
#define XB_SPREAD_QSIZE		2048

#define XB_HEARTBEAT_INTERVAL_MS_DEFAULT	1000
#define XB_HEARTBEAT_TIMEOUT_MS_DEFAULT		3000

#endif
