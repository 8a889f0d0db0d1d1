/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Whether the kernel decapsulates ESP in UDP on the NAT-T port. It does so
 * only in the socket a datagram is delivered to (__udp4_lib_rcv ->
 * udp_queue_rcv_skb -> that socket's encap_rcv), and only if that socket
 * has UDP_ENCAP_ESPINUDP set (an IKE daemon's: charon, pluto). Any other
 * socket on the port, or none, receives such a datagram as plain UDP, so
 * the datapath must not drop it as ESP with an unknown SPI.
 *
 * The XB_BYPASS_ENCAP_SOCKET entry of xb_bypass says "ESP in UDP" for the
 * port as a whole (either family, any local address), so it is set only
 * where that holds for every datagram the kernel could receive there:
 *   - every UDP socket of the netns on the port has UDP_ENCAP_ESPINUDP (a
 *     socket bound to an address or a device, a connected one, a member of
 *     a SO_REUSEPORT group: each wins the lookup for some datagrams);
 *   - IPv4 and IPv6 each have a socket that matches every datagram of the
 *     family (unbound address, no device, not connected; an IPv6 socket
 *     on :: without IPV6_V6ONLY, or on ::ffff:0.0.0.0, serves IPv4 too), so
 *     the lookup never ends without a socket (port unreachable);
 *   - no BPF sk_lookup program is attached to the netns (it may hand the
 *     datagram to any socket).
 * sock_diag lists the sockets (address, device, connected, IPV6_V6ONLY)
 * but not their encapsulation: that is read with getsockopt(UDP_ENCAP) on a
 * duplicate of the socket's fd taken from a process that holds it
 * (daemon/sock_owner.h). Where it cannot be read (no holder in our /proc:
 * a kernel socket, another pid namespace; no ptrace access) the port is
 * not ESP in UDP to the datapath: it never drops on doubt.
 *
 * Read at every heartbeat; the owners are remembered per socket inode, so
 * at steady state a beat costs the dump, one query, and per socket on the
 * port a pidfd_getfd + getsockopt.
 */
#ifndef XFRMBPF_ENCAP_WATCH_H
#define XFRMBPF_ENCAP_WATCH_H

#include <stdbool.h>
#include "loader/maps.h"

/* The NAT-T port (RFC 3948), as the datapath parses it. */
#define XB_NATT_UDP_PORT	4500

/* Does the kernel decapsulate ESP in UDP for every datagram to port, as
 * above, in the current netns? 1 yes, 0 no (the reason is logged when it
 * changes), or -errno if the sockets cannot be listed. */
int xb_udp_port_decapsulated(__u16 port);
/* Writes the XB_BYPASS_ENCAP_SOCKET entry of port as bound says; flows
 * cached under the other answer go stale. Returns 0 or -errno. */
int xb_encap_socket_write(const struct xb_maps *maps, __u16 port, bool bound);

#endif
