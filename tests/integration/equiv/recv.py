#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Receivers of the kernel-equivalence lab; each logs "TAG ID WHERE" per
test packet that reached it.

  recv.py gw LOG READY   in gw: what the kernel delivers locally
  recv.py wan LOG READY  in wan: what gw forwarded

gw: raw sockets for TCP, UDP, ICMP and ICMPv6 see every local packet that
passes the IN policy check (raw_rcv/rawv6_rcv check it per socket), and
UDP sockets on the IKE ports carry bypass socket policies, as an IKE
daemon's do: the kernel delivers IKE to them whatever the SPD says.
wan: a packet socket on the wan veth sees every frame gw sent there.
READY is created once every socket is open.
"""
import os
import select
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402

IP_XFRM_POLICY = 17
IPV6_XFRM_POLICY = 35
XFRM_INF = (1 << 64) - 1
ETH_P_ALL = 3
PACKET_OUTGOING = 4


def bypass_policy(family, direction):
    """struct xfrm_userpolicy_info: selector "any", action allow, no
    template: a socket bypass policy."""
    sel = struct.pack("=16s16sHHHHHBBB3xiI", b"", b"", 0, 0, 0, 0, family,
                      0, 0, 0, 0, 0)
    lft = struct.pack("=8Q", XFRM_INF, XFRM_INF, XFRM_INF, XFRM_INF,
                      0, 0, 0, 0)
    cur = struct.pack("=4Q", 0, 0, 0, 0)
    tail = struct.pack("=IIBBBB4x", 0, 0, direction, 0, 0, 0)
    return sel + lft + cur + tail


def ike_socket(family, port):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        level, opt = socket.IPPROTO_IPV6, IPV6_XFRM_POLICY
    else:
        level, opt = socket.IPPROTO_IP, IP_XFRM_POLICY
    for direction in (0, 1):        # XFRM_POLICY_IN, XFRM_POLICY_OUT
        s.setsockopt(level, opt, bypass_policy(family, direction))
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    return s, "ike%d/%d" % (6 if family == socket.AF_INET6 else 4, port)


def gw_sockets():
    socks = []
    for proto in (socket.IPPROTO_TCP, socket.IPPROTO_UDP, socket.IPPROTO_ICMP):
        socks.append((socket.socket(socket.AF_INET, socket.SOCK_RAW, proto),
                      "raw4/%d" % proto))
    for proto in (socket.IPPROTO_TCP, socket.IPPROTO_UDP,
                  socket.IPPROTO_ICMPV6):
        socks.append((socket.socket(socket.AF_INET6, socket.SOCK_RAW, proto),
                      "raw6/%d" % proto))
    for port in lab.IKE_PORTS:
        socks.append(ike_socket(socket.AF_INET, port))
        socks.append(ike_socket(socket.AF_INET6, port))
    return socks


def wan_sockets():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.bind((lab.WAN_IF, 0))
    return [(s, "wan")]


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("gw", "wan"):
        print("usage: recv.py gw|wan LOG READY", file=sys.stderr)
        return 2
    socks = gw_sockets() if sys.argv[1] == "gw" else wan_sockets()
    for s, _ in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    names = {s.fileno(): (s, name) for s, name in socks}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(sys.argv[2], "w", buffering=1) as log:
        open(sys.argv[3], "w").close()
        poller = select.poll()
        for fd in names:
            poller.register(fd, select.POLLIN)
        while True:
            for fd, _ in poller.poll():
                s, name = names[fd]
                data, addr = s.recvfrom(65535)
                if name == "wan" and addr[2] == PACKET_OUTGOING:
                    continue
                t = lab.find_trailer(data)
                if t:
                    log.write("%d %d %s\n" % (t[0], t[1], name))


if __name__ == "__main__":
    sys.exit(main())
