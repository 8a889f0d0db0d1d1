/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The mirrored SAD: SA identities only. No algorithm, no key, no replay
 * state ever reaches these structs.
 */
#ifndef XFRMBPF_SAD_H
#define XFRMBPF_SAD_H

#include <linux/types.h>
#include "spd.h"

/* Key of xb_spis, the datapath's "does any SA have this SPI" map. The kernel
 * looks an inbound SA up by (mark, daddr, spi, proto, family). */
struct xb_spi_key {
	union xb_addr daddr;
	__be32 spi;
	__u16 family;
	__u8 proto;
	__u8 pad;
};

/* No CPU: xb_spi_val.cpu when ESP of the key is not spread (`run`
 * without --spread-esp), xb_sa.pcpu_num of an SA that is not per-CPU. */
#define XB_NO_CPU	0xffffffffU

/* Value of xb_spis: how many SAs (differing in mark) share the key, and
 * with `run --spread-esp` the CPU their inbound ESP is redirected to
 * (an index of xb_spread_cpus), chosen per key by the daemon
 * (user/mirror/spread.h); XB_NO_CPU: not spread. */
struct xb_spi_val {
	__u32 n_sas;
	__u32 cpu;
};

/* Value of xb_spi_seen: when the datapath first saw IPsec with an SPI the
 * maps lack (bpf_ktime_get_ns(), i.e. CLOCK_MONOTONIC). */
struct xb_spi_seen {
	__u64 first_ns;
};

/* Key of xb_sas: what makes an SA unique in the kernel's SAD. */
struct xb_sa_key {
	struct xb_spi_key spi;
	__u32 mark_v;
	__u32 mark_m;
};

/* Value of xb_sas. */
struct xb_sa {
	union xb_addr saddr;
	__u32 reqid;
	__u32 if_id;
	__u8 mode;		/* XFRM_MODE_* */
	__u8 flags;		/* XFRM_STATE_* */
	__u16 encap_type;	/* 0 or UDP_ENCAP_ESPINUDP */
	__be16 encap_sport;
	__be16 encap_dport;
	/* XFRMA_SA_PCPU (Linux 6.13+): the CPU of a per-CPU SA, else
	 * XB_NO_CPU. */
	__u32 pcpu_num;
};

/* Key 0 of xb_xfrm_links is the collect_md ("external") device. */
struct xb_xfrm_link {
	__u32 ifindex;
	__u32 link_ifindex;	/* underlying device, IFLA_XFRM_LINK */
	__u32 if_id;
	__u8 collect_md;
	__u8 pad[3];
	char name[16];
};

#endif
