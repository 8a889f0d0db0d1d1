/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPsec for this host: does the kernel have an SA with its SPI? Where the
 * kernel can be asked (bpf_xdp_get_xfrm_state(), Linux 6.8+), it is, for
 * every SPI the maps lack: its answer is exact. Elsewhere the maps
 * answer for every SA whose NEWSA the daemon has read, and only for those.
 * An SA installed a moment ago may already carry the peer's first packets
 * while its event still waits in the daemon's socket: in a rekey the peer
 * sends on the new SA one round trip after this host installed it, and a
 * busy daemon can be slower than that. Dropping those packets would lose
 * what the kernel decrypts.
 *
 * So an SPI the maps lack is dropped only once the daemon has read its
 * XFRM socket empty after the SPI's first packet arrived
 * (xb_sync.drained_ns): the kernel installs an SA before any peer can send
 * on it, so by then its event has been read and published, and an SPI
 * still missing is one the kernel does not have. Until then the packet
 * goes to the kernel (pass_spi_pending), and xb_spi_seen remembers when
 * the SPI was first seen. The daemon reads its socket at least at every
 * heartbeat, so the wait is one heartbeat at most.
 */
#ifndef XFRMBPF_SPI_BPF_H
#define XFRMBPF_SPI_BPF_H

#include <stdbool.h>
#include "maps.bpf.h"
#include "parse.bpf.h"
#include "xfrmbpf/reasons.h"

/* The loader sets it where the kernel has bpf_xdp_get_xfrm_state(); clear,
 * the verifier removes the call, so the object loads on 6.1 too (the
 * externs are weak: unresolved there). */
const volatile bool xb_kernel_sa_lookup = false;

/* The kernel's own types: libbpf checks that the kfuncs' prototypes
 * match, and an empty struct matches any struct (a declaration would
 * not). */
struct xfrm_state {
};

struct bpf_xfrm_state_opts {
	__s32 error;
	__s32 netns_id;
	__u32 mark;
	union xb_addr daddr;	/* as xfrm_address_t */
	__be32 spi;
	__u8 proto;
	__u16 family;
};

#define XB_CURRENT_NETNS	(-1)	/* BPF_F_CURRENT_NETNS */

extern struct xfrm_state *
bpf_xdp_get_xfrm_state(struct xdp_md *ctx, struct bpf_xfrm_state_opts *opts,
		       __u32 opts__sz) __ksym __weak;
extern void bpf_xdp_xfrm_state_release(struct xfrm_state *x) __ksym __weak;

/*
 * Does the kernel have an SA for the packet, as xfrm_input() looks it up:
 * in the device's namespace, with the packet's mark, which is 0 here (tc
 * ingress and netfilter, which could set one, make a packet undecidable
 * first). Any SA counts, larval ones too: the kernel then decides.
 */
static __always_inline bool xb_kernel_has_sa(struct xdp_md *ctx,
					     const struct xb_spi_key *k)
{
	struct bpf_xfrm_state_opts opts = {
		.netns_id = XB_CURRENT_NETNS,
		.daddr = k->daddr,
		.spi = k->spi,
		.proto = k->proto,
		.family = k->family,
	};
	struct xfrm_state *x;

	x = bpf_xdp_get_xfrm_state(ctx, &opts, sizeof(opts));
	if (!x)
		return false;
	bpf_xdp_xfrm_state_release(x);
	return true;
}

/* What the kernel's inbound SA lookup keys on, but the mark: (daddr, SPI,
 * proto, family). */
static __always_inline void xb_spi_key_of(const struct xb_pkt *pkt,
					  struct xb_spi_key *k)
{
	k->daddr = pkt->daddr;
	k->spi = pkt->spi;
	k->family = pkt->family;
	k->proto = pkt->sa_proto;
}

/* xb_sync.drained_ns: every SA installed before it is in the maps. */
static __always_inline __u64 xb_spi_drained_ns(void)
{
	__u32 zero = 0;
	struct xb_sync *s = bpf_map_lookup_elem(&xb_sync, &zero);

	return s ? XB_READ_ONCE(s->drained_ns) : 0;
}

/*
 * The verdict on IPsec for this host: pass_known_spi, unknown_spi,
 * pass_spi_kernel (the kernel has an SA the maps do not have yet), or
 * pass_spi_pending while the maps may still lag behind the kernel. The
 * stamp is read before the maps: a publication that completes between the
 * two reads is then seen by the lookup. record: remember a first sighting
 * (not in a dry run, which leaves the datapath's state alone).
 *
 * A call of its own: its locals stay out of the XDP program's frame, to
 * which 6.1's limit of 512 bytes for the stack of a call chain leaves no
 * room (the deepest chain goes through the policy search).
 */
static __noinline int xb_spi_verdict(struct xdp_md *ctx,
				     const struct xb_pkt *pkt, bool record)
{
	struct xb_spi_seen *seen, first;
	struct xb_spi_key k = {};
	__u64 drained_ns = 0;

	xb_spi_key_of(pkt, &k);
	/* only the mirror's own check needs the stamp (the kernel's answer
	 * is exact), and it must be read before the maps are */
	if (!xb_kernel_sa_lookup)
		drained_ns = xb_spi_drained_ns();
	XB_BARRIER();
	if (bpf_map_lookup_elem(&xb_spis, &k))
		return XB_R_PASS_KNOWN_SPI;
	if (xb_kernel_sa_lookup)
		return xb_kernel_has_sa(ctx, &k) ? XB_R_PASS_SPI_KERNEL :
						   XB_R_DROP_UNKNOWN_SPI;
	seen = bpf_map_lookup_elem(&xb_spi_seen, &k);
	if (seen) {
		first.first_ns = seen->first_ns;
	} else {
		/* A daemon's stamp comes before any packet it has not
		 * read about yet: a first sighting waits. */
		first.first_ns = bpf_ktime_get_ns();
		if (record)
			bpf_map_update_elem(&xb_spi_seen, &k, &first, BPF_NOEXIST);
	}
	return first.first_ns < drained_ns ? XB_R_DROP_UNKNOWN_SPI :
					     XB_R_PASS_SPI_PENDING;
}

/* Verdicts that the maps alone decide may be cached; the others change
 * with time or with the kernel's SAD before the maps do. */
static __always_inline bool xb_spi_cacheable(int reason)
{
	if (reason == XB_R_PASS_SPI_PENDING || reason == XB_R_PASS_SPI_KERNEL)
		return false;
	return !(xb_kernel_sa_lookup && reason == XB_R_DROP_UNKNOWN_SPI);
}

#endif
