# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The kernel-equivalence lab: addresses, the random packet set of a round,
and the frames that carry it.

lan (silent: no address, no IPv6) --veth-- gw (forwarding) --veth-- wan
(silent). The sender in lan writes whole Ethernet frames on its veth, so
any source address can be used and lan never emits ARP, ND or MLD of its
own: every frame gw's XDP program sees on its lan side is a test packet.
Every packet carries MAGIC + tag + id at the end of its payload; the
receivers log (tag, id) of what reached them.
"""
import ipaddress
import random
import socket
import struct

MAGIC = b"XBEQmark"
TRAILER = struct.Struct("!8sII")        # MAGIC, tag, packet id

# Interface names, inside their namespaces.
LAN_IF = "xbt-lan0"
GW_LAN_IF = "xbt-gwl0"
GW_WAN_IF = "xbt-gww0"
WAN_IF = "xbt-wan0"

GW_LOCAL4 = ["192.0.2.1", "198.51.100.1"]
GW_LOCAL6 = ["2001:db8:1::1", "2001:db8:2::1"]
# gw has permanent neighbours for the on-link wan hosts; 203.0.113.0/24
# and 2001:db8:3::/64 are routed via the first of them.
WAN_HOSTS4 = ["198.51.100.%d" % i for i in range(2, 10)]
WAN_HOSTS6 = ["2001:db8:2::%x" % i for i in range(2, 10)]
WAN_ROUTED4 = "203.0.113.0/24"
WAN_ROUTED6 = "2001:db8:3::/64"
LAN_NET4 = "192.0.2.0/24"
LAN_NET6 = "2001:db8:1::/64"

# Port and ICMP pools shared by the packet and the policy generator, so
# that policies hit packets often.
PORTS = [500, 4500, 53, 80, 443, 1024, 1025, 1027, 1031, 4096, 4100,
         8080, 33434, 65535]
IKE_PORTS = [500, 4500]
ICMP4_TYPES = [(8, 0), (0, 0), (3, 0), (3, 1), (3, 3), (11, 0), (13, 0)]
ICMP6_TYPES = [(128, 0), (129, 0), (1, 0), (1, 4), (2, 0), (3, 0),
               (4, 1)]

PROTO_NAMES = {6: "tcp", 17: "udp", 1: "icmp", 58: "ipv6-icmp"}


def lan_src(rng, family):
    """A source in the lan subnets (host part 2..40)."""
    h = rng.randint(2, 40)
    return "192.0.2.%d" % h if family == 4 else "2001:db8:1::%x" % h


def wan_dst(rng, family):
    """A forwarded destination: an on-link wan host or a routed one."""
    if rng.random() < 0.6:
        return rng.choice(WAN_HOSTS4 if family == 4 else WAN_HOSTS6)
    if family == 4:
        return "203.0.113.%d" % rng.randint(1, 254)
    return "2001:db8:3::%x" % rng.randint(1, 0xfff)


def gen_packets(seed, count):
    """The packet set of a round: list of dicts, reproducible from seed."""
    rng = random.Random("pkts-%d" % seed)
    pkts = []
    for pid in range(count):
        family = rng.choice((4, 6))
        local = rng.random() < 0.45
        if local:
            dst = rng.choice(GW_LOCAL4 if family == 4 else GW_LOCAL6)
        else:
            dst = wan_dst(rng, family)
        r = rng.random()
        if r < 0.4:
            proto = 17
        elif r < 0.7:
            proto = 6
        else:
            proto = 1 if family == 4 else 58
        p = {"id": pid, "family": family, "src": lan_src(rng, family),
             "dst": dst, "proto": proto, "local": local}
        if proto in (6, 17):
            # IKE ports a third of the time: the bypass must hold for
            # them and only for them.
            if proto == 17 and rng.random() < 0.3:
                p["dport"] = rng.choice(IKE_PORTS)
                p["sport"] = rng.choice([p["dport"], rng.choice(PORTS)])
            else:
                p["sport"] = rng.choice(PORTS)
                p["dport"] = rng.choice(PORTS)
        else:
            p["type"], p["code"] = rng.choice(
                ICMP4_TYPES if family == 4 else ICMP6_TYPES)
        pkts.append(p)
    return pkts


def describe(p):
    if p["proto"] in (6, 17):
        l4 = "%s %d->%d" % (PROTO_NAMES[p["proto"]], p["sport"], p["dport"])
    else:
        l4 = "%s type %d code %d" % (PROTO_NAMES[p["proto"]], p["type"],
                                     p["code"])
    return "#%d %s %s -> %s %s" % (p["id"], "local" if p["local"] else "fwd",
                                    p["src"], p["dst"], l4)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def pseudo_header(p, length):
    fam = socket.AF_INET if p["family"] == 4 else socket.AF_INET6
    src = socket.inet_pton(fam, p["src"])
    dst = socket.inet_pton(fam, p["dst"])
    if p["family"] == 4:
        return src + dst + struct.pack("!BBH", 0, p["proto"], length)
    return src + dst + struct.pack("!IxxxB", length, p["proto"])


def l4_segment(p, tag):
    """Transport header + payload with a valid checksum."""
    # 24 bytes of filler keep every frame above the Ethernet minimum.
    payload = b"\0" * 24 + TRAILER.pack(MAGIC, tag, p["id"])
    proto = p["proto"]
    if proto == 17:
        hdr = struct.pack("!HHHH", p["sport"], p["dport"], 8 + len(payload), 0)
    elif proto == 6:
        # A SYN: data on a SYN is legal and reaches raw sockets as is.
        hdr = struct.pack("!HHIIBBHHH", p["sport"], p["dport"],
                          0x1000 + p["id"], 0, 5 << 4, 0x02, 8192, 0, 0)
    else:
        # ICMP errors would carry an inner header; the XFRM selector only
        # sees type and code, which is what this test is about.
        hdr = struct.pack("!BBHI", p["type"], p["code"], 0, p["id"])
    seg = hdr + payload
    if proto == 1:
        c = csum(seg)
    else:
        c = csum(pseudo_header(p, len(seg)) + seg)
        if proto == 17 and c == 0:
            c = 0xffff
    off = {17: 6, 6: 16, 1: 2, 58: 2}[proto]
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def ip_packet(p, tag):
    seg = l4_segment(p, tag)
    if p["family"] == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg),
                          p["id"] & 0xffff, 0x4000, 64, p["proto"], 0,
                          socket.inet_aton(p["src"]),
                          socket.inet_aton(p["dst"]))
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        return hdr + seg
    return struct.pack("!IHBB16s16s", 6 << 28, len(seg), p["proto"], 64,
                       socket.inet_pton(socket.AF_INET6, p["src"]),
                       socket.inet_pton(socket.AF_INET6, p["dst"])) + seg


def frame(p, tag, src_mac, dst_mac):
    ethertype = 0x0800 if p["family"] == 4 else 0x86dd
    return dst_mac + src_mac + struct.pack("!H", ethertype) + ip_packet(p, tag)


def find_trailer(data):
    """(tag, id) of a test packet in data, or None."""
    at = data.rfind(MAGIC)
    if at < 0 or at + TRAILER.size > len(data):
        return None
    _, tag, pid = TRAILER.unpack_from(data, at)
    return tag, pid


def in_net(addr, net):
    return ipaddress.ip_address(addr) in ipaddress.ip_network(net)
