#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Receivers of the packet-shape rounds (shapes.py); each logs
"FAMILY ID WHERE" per shape packet that reached it.

  recvx.py gw LOG READY        in a gw: what the kernel delivers locally
  recvx.py wan IFACE LOG READY in wan: what a gw forwarded out of IFACE

Shape packets cannot all carry a payload trailer (a truncated transport
header has no payload), so they are known by their IP header: an IPv4
packet by its identification field (its source is logged too, the caller
checks it), an IPv6 packet by its source address, whose interface id is
SHAPE_MAGIC6 (16 bits), a host number (16 bits) and the id (32 bits).

gw: raw sockets for every protocol the shapes use (each sees the local
packets of its protocol that pass the IN policy check) and the IKE
sockets of recv.py with their bypass policies. wan: a packet socket on
IFACE; a forwarded fragment is logged as wan/fOFFSET.
"""
import os
import select
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402
import recv  # noqa: E402
import shapes  # noqa: E402

ETH_P_ALL = 3
PACKET_OUTGOING = 4
IPPROTO_ICMPV6 = 58


def ident4(pkt):
    """(id, src, frag offset) of an IPv4 packet, or None."""
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return None
    pid, frag = struct.unpack_from("!HH", pkt, 4)
    return pid, socket.inet_ntoa(pkt[12:16]), (frag & 0x1fff) * 8


def ident6_src(src):
    """The id in an IPv6 shape source (16 bytes), or None."""
    if src[8:10] != shapes.SHAPE_MAGIC6:
        return None
    return struct.unpack_from("!I", src, 12)[0]


def frag6_offset(pkt):
    """Offset of an IPv6 fragment (walking the extension headers), or
    None when the packet carries no fragment header."""
    nh, off = pkt[6], 40
    for _ in range(16):
        if nh in (0, 43, 60) and off + 2 <= len(pkt):
            nh, off = pkt[off], off + (pkt[off + 1] + 1) * 8
        elif nh == 44 and off + 4 <= len(pkt):
            return struct.unpack_from("!H", pkt, off + 2)[0] & 0xfff8
        else:
            return None
    return None


def log_wan(log, frame):
    off = 12
    etype = struct.unpack_from("!H", frame, off)[0]
    while etype in (0x8100, 0x88a8) and off + 6 <= len(frame):
        off += 4
        etype = struct.unpack_from("!H", frame, off)[0]
    pkt = frame[off + 2:]
    if etype == 0x0800:
        t = ident4(pkt)
        if t:
            where = "wan" + ("/f%d" % t[2] if t[2] or pkt[6] & 0x20 else "")
            log.write("4 %d %s %s\n" % (t[0], t[1], where))
    elif etype == 0x86dd and len(pkt) >= 40:
        pid = ident6_src(pkt[8:24])
        if pid is not None:
            fo = frag6_offset(pkt)
            log.write("6 %d - %s\n" % (
                pid, "wan" if fo is None else "wan/f%d" % fo))


def gw_sockets():
    socks = []
    for proto in shapes.RAW_PROTOS4:
        socks.append((socket.socket(socket.AF_INET, socket.SOCK_RAW, proto),
                      "raw4/%d" % proto, 4))
    for proto in shapes.RAW_PROTOS6:
        socks.append((socket.socket(socket.AF_INET6, socket.SOCK_RAW, proto),
                      "raw6/%d" % proto, 6))
    for port in lab.IKE_PORTS:
        for fam in (socket.AF_INET, socket.AF_INET6):
            s, name = recv.ike_socket(fam, port)
            socks.append((s, name, 4 if fam == socket.AF_INET else 6))
    return socks


def main():
    args = sys.argv[1:]
    if args[:1] == ["gw"] and len(args) == 3:
        socks, (logp, ready) = gw_sockets(), args[1:]
    elif args[:1] == ["wan"] and len(args) == 4:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                          socket.htons(ETH_P_ALL))
        s.bind((args[1], 0))
        socks, (logp, ready) = [(s, "wan", 0)], args[2:]
    else:
        print("usage: recvx.py gw LOG READY | wan IFACE LOG READY",
              file=sys.stderr)
        return 2
    for s, _, _ in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    names = {s.fileno(): (s, name, fam) for s, name, fam in socks}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(logp, "w", buffering=1) as log:
        open(ready, "w").close()
        poller = select.poll()
        for fd in names:
            poller.register(fd, select.POLLIN)
        while True:
            for fd, _ in poller.poll():
                s, name, fam = names[fd]
                data, addr = s.recvfrom(65535)
                if name == "wan":
                    if addr[2] != PACKET_OUTGOING:
                        log_wan(log, data)
                elif fam == 4 and name.startswith("raw"):
                    t = ident4(data)
                    if t:
                        log.write("4 %d %s %s\n" % (t[0], t[1], name))
                elif fam == 4:
                    # an IKE socket: only the source; the id is lost,
                    # so the payload carries it (shapes.py: UDP payloads
                    # start with the id)
                    if len(data) >= 4:
                        log.write("4 %d %s %s\n" % (
                            struct.unpack_from("!I", data)[0] & 0xffff,
                            addr[0], name))
                else:
                    src = socket.inet_pton(socket.AF_INET6,
                                           addr[0].split("%")[0])
                    pid = ident6_src(src)
                    if pid is not None:
                        log.write("6 %d - %s\n" % (pid, name))


if __name__ == "__main__":
    sys.exit(main())
