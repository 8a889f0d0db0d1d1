/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The sync record's map alone (include/xfrmbpf/sync.h), for the objects
 * that need no other map: the SPD watch (spd_watch.bpf.c) shares it with
 * the datapath through the same pin, as maps.bpf.h does for the rest.
 */
#ifndef XFRMBPF_SYNC_MAP_BPF_H
#define XFRMBPF_SYNC_MAP_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xfrmbpf/sync.h"

/* A field another CPU (or the mirror, through mmap) may change. */
#define XB_READ_ONCE(x)	(*(volatile typeof(x) *)&(x))
/* Keeps the compiler from moving memory accesses across it. */
#define XB_BARRIER()	asm volatile("" ::: "memory")

/* Sync record: publication seq count, heartbeat, defaults. Mmapable so
 * the mirror updates fields with single stores. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xb_sync);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xb_sync SEC(".maps");

#endif
