/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Whether a UDP socket holds the NAT-T port, where the kernel decapsulates
 * ESP in UDP (the IKE daemon's socket, with UDP_ENCAP_ESPINUDP). Without
 * one, udp/4500 is plain UDP to the kernel, so the datapath must not drop
 * it as ESP with an unknown SPI. Kept in xb_bypass as an
 * XB_BYPASS_ENCAP_SOCKET entry, read at every heartbeat.
 *
 * sock_diag does not tell a socket's encapsulation type: any UDP socket on
 * the port counts, as on a gateway that port is the IKE daemon's.
 */
#ifndef XFRMBPF_ENCAP_WATCH_H
#define XFRMBPF_ENCAP_WATCH_H

#include <stdbool.h>
#include "loader/maps.h"

/* The NAT-T port (RFC 3948), as the datapath parses it. */
#define XB_NATT_UDP_PORT	4500

/* Does a UDP socket (IPv4 or IPv6) of the current netns hold port? 1 yes,
 * 0 no, or -errno. */
int xb_udp_port_bound(__u16 port);
/* Writes the XB_BYPASS_ENCAP_SOCKET entry of port as bound says; flows
 * cached under the other answer go stale. Returns 0 or -errno. */
int xb_encap_socket_write(const struct xb_maps *maps, __u16 port, bool bound);

#endif
