/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `run --spread-esp`: inbound ESP for this host, once the datapath has
 * passed it as a known SPI (pass_known_spi, decided or cached), is
 * redirected into xb_spread_cpus, a cpumap, to the CPU the daemon chose
 * for its (daddr, SPI, proto) and published in xb_spis (struct
 * xb_spi_val.cpu). That CPU's cpumap thread builds the skb and runs the
 * kernel's receive path, so the SA is decrypted there: many SAs spread
 * over the listed CPUs even when the NIC delivers them all on one, and
 * the packets of one SA never leave their CPU (no reordering within it).
 *
 * Everything that is not spread passes exactly as without the option:
 * an interface without XB_IF_SPREAD (skb-mode XDP, or not attached by a
 * daemon with the option), a key the daemon gave no CPU, a CPU without a cpumap entry
 * (bpf_redirect_map()'s XDP_PASS fallback).
 */
#ifndef XFRMBPF_SPREAD_BPF_H
#define XFRMBPF_SPREAD_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"
#include "spi.bpf.h"

/* Set by the daemon before the program is loaded (`run --spread-esp`);
 * clear, the verifier prunes every branch of this file. */
const volatile bool xb_spread_on = false;

/*
 * The redirect itself. Not inlined: its frame (the packet parsed again,
 * as the entry point keeps none of the decision's state beyond the
 * reason: a cache hit never had it) is its own, beside the XDP entry's,
 * within the 6.1 verifier's 512 bytes over a call chain, and the
 * decision's inlined paths do not grow by it.
 */
static __noinline int xb_spread_redirect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 ifindex = ctx->ingress_ifindex, cpu;
	struct xb_iface_cfg *cfg;
	struct xb_spi_key k = {};
	struct xb_pkt pkt = {};
	struct xb_spi_val *v;
	struct xb_counter *c;
	long act;

	cfg = bpf_map_lookup_elem(&xb_ifaces, &ifindex);
	if (!cfg || !(cfg->flags & XB_IF_SPREAD))
		return XDP_PASS;
	if (xb_parse(ctx, true, data, data_end, data_end - data, &pkt) != XB_PARSE_OK ||
	    pkt.kind != XB_PK_IPSEC)
		return XDP_PASS;
	xb_spi_key_of(&pkt, &k);
	v = bpf_map_lookup_elem(&xb_spis, &k);
	if (!v)
		return XDP_PASS;
	cpu = v->cpu;
	if (cpu >= XB_MAX_SPREAD_CPUS)
		return XDP_PASS;
	act = bpf_redirect_map(&xb_spread_cpus, cpu, XDP_PASS);
	if (act != XDP_REDIRECT)
		return XDP_PASS;
	c = bpf_map_lookup_elem(&xb_spread_stats, &cpu);
	if (c) {
		c->packets++;
		c->bytes += bpf_xdp_get_buff_len(ctx);
	}
	return XDP_REDIRECT;
}

/* The XDP action for a packet the datapath passes as a known SPI. */
static __always_inline int xb_spread(struct xdp_md *ctx)
{
	if (!xb_spread_on)
		return XDP_PASS;
	return xb_spread_redirect(ctx);
}

#endif
