#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Traffic helpers of the datapath tests.

  dp_traffic.py tun-reader IFNAME LOG
      Create the L3 TUN device IFNAME (no packet info header) and log one
      line per packet read from it: family, TTL/hop limit, IPv4 header
      checksum, protocol, destination, length. Writes "ready" first.
  dp_traffic.py send DST PORT [--count N] [--ttl T] [--size BYTES]
      Send N UDP datagrams of BYTES payload with TTL/hop limit T and the
      DF bit set (IPv4), 10 ms apart. Send errors are counted, not fatal.
      --sport P sends from UDP port P (one flow across calls).
"""
import argparse
import fcntl
import ipaddress
import os
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IP_MTU_DISCOVER = 10
IP_PMTUDISC_DO = 2


def ipv4_checksum_ok(hdr):
    total = 0
    for i in range(0, len(hdr), 2):
        total += (hdr[i] << 8) | hdr[i + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def describe(pkt):
    version = pkt[0] >> 4
    if version == 4 and len(pkt) >= 20:
        ihl = (pkt[0] & 0xF) * 4
        ok = "ok" if ipv4_checksum_ok(pkt[:ihl]) else "bad"
        dst = socket.inet_ntop(socket.AF_INET, pkt[16:20])
        return f"v4 ttl={pkt[8]} csum={ok} proto={pkt[9]} dst={dst} len={len(pkt)}"
    if version == 6 and len(pkt) >= 40:
        dst = socket.inet_ntop(socket.AF_INET6, pkt[24:40])
        return f"v6 ttl={pkt[7]} csum=ok proto={pkt[6]} dst={dst} len={len(pkt)}"
    return f"other len={len(pkt)}"


def tun_reader(ifname, log):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH", ifname.encode(), IFF_TUN | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(log, "w", buffering=1) as out:
        out.write("ready\n")
        while True:
            out.write(describe(os.read(fd, 65535)) + "\n")


def send(dst, port, count, ttl, size, sport, tos):
    family = socket.AF_INET6 if ipaddress.ip_address(dst).version == 6 else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    if sport:
        # the same flow from one call to the next (flow cache tests)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", sport))
    if family == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    else:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, tos)
    errors = 0
    for _ in range(count):
        try:
            s.sendto(b"x" * size, (dst, port))
        except OSError:
            errors += 1
        time.sleep(0.01)
    print(f"sent {count - errors} errors {errors}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("tun-reader")
    r.add_argument("ifname")
    r.add_argument("log")
    s = sub.add_parser("send")
    s.add_argument("dst")
    s.add_argument("port", type=int)
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--ttl", type=int, default=64)
    s.add_argument("--size", type=int, default=32)
    s.add_argument("--sport", type=int, default=0)
    s.add_argument("--tos", type=lambda v: int(v, 0), default=0,
                   help="IPv4 TOS or IPv6 traffic class")
    a = p.parse_args()
    if a.cmd == "tun-reader":
        tun_reader(a.ifname, a.log)
    else:
        send(a.dst, a.port, a.count, a.ttl, a.size, a.sport, a.tos)


if __name__ == "__main__":
    main()
