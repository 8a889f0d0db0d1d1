#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Packet shapes and gateway environments of the kernel-equivalence lab:
the second generator beside lab.py/spdgen.py, reproducible from a seed.

  shapes.py spd SEED FILE       an SPD (`ip -batch` lines) whose block and
                                requires-IPsec policies cover the shapes'
                                traffic (ports, ICMP type/code, GRE keys)
  shapes.py envs                the environment names, one round each
  shapes.py env NAME up|down    shell lines (run with `sh -e` inside a gw)
                                that set up / take down the environment
  shapes.py base up             what every shape round has (fe80::1 on gw's
                                lan side, the tables of the ip rules)

Packets (gen_packets) are dicts with one or more raw Ethernet frames:
truncated transport headers, Ethernet trailers (sometimes the cut-off
header bytes), IPv4 options, IPv6 extension-header chains, GRE flag
combinations, fragments (sets, halves, reversed, atomic), link-local
sources and destinations, broadcast / multicast / other-host MACs and
addresses, TTL/hop limit 0-2, TOS/traffic class, VLAN and QinQ tags.

A shape packet is known by its IP header (a truncated one has no payload
for a trailer): IPv4 by its identification field, IPv6 by its source,
whose interface id is SHAPE_MAGIC6, a host number and the 32-bit id.
"""
import random
import socket
import struct
import sys

SHAPE_MAGIC6 = b"\x58\x42"
RAW_PROTOS4 = [1, 6, 17, 47, 58, 132, 136, 253, 59]
RAW_PROTOS6 = [1, 6, 17, 47, 58, 132, 136, 253, 59, 135]

GW_MAC = bytes.fromhex("025842000001")      # gw's lan side (both labs)
LAN_MAC = bytes.fromhex("025842000002")
GW_WAN_MAC = "02:58:42:00:00:03"
WAN_MAC = "02:58:42:00:00:04"
OTHER_MAC = bytes.fromhex("025842000099")

PORTS = [53, 80, 443, 500, 4500, 1024, 4096, 8080, 33434]
ICMP4 = [(8, 0), (0, 0), (3, 1), (3, 3), (11, 0), (13, 0)]
ICMP6 = [(128, 0), (129, 0), (1, 4), (2, 0), (4, 1), (135, 0)]
GRE_KEYS = [0x00010002, 0x00000050, 0xdeadbeef, 0]
TOS = [0x10, 0x11, 0x12, 0x13, 0x14, 0x18, 0x1c, 0x04, 0xb8, 0x02, 0x30]

LOCAL4 = ["192.0.2.1", "198.51.100.1"]
LOCAL6 = ["2001:db8:1::1", "2001:db8:2::1"]
FWD4 = ["198.51.100.2", "198.51.100.5", "203.0.113.9", "203.0.113.200"]
FWD6 = ["2001:db8:2::2", "2001:db8:2::5", "2001:db8:3::9", "2001:db8:3::1:0"]
# Local through table 100 when an ip rule sends the packet there (else
# forwarded), 203.0.113.64/26 a blackhole there; the unrouted IPv6 net is
# local through table 102 (suppress round).
RULED4 = ["203.0.113.10", "203.0.113.33", "203.0.113.70"]
RULED6 = ["2001:db8:3::10", "2001:db8:3::21", "2001:db8:4::5"]
VLAN_LOCAL4 = "198.51.100.250"
VLAN_LOCAL6 = "2001:db8:10::1"
BCAST4 = ["192.0.2.255", "255.255.255.255", "198.51.100.255"]
MCAST4 = ["224.0.0.1", "224.0.0.251", "239.1.2.3"]
MCAST6 = ["ff02::1", "ff02::fb", "ff05::1:3", "ff0e::1"]
LL4 = ["169.254.1.1", "169.254.7.7"]
LL6 = ["fe80::1", "fe80::99"]
ODD4 = ["127.0.0.1", "0.0.0.0", "192.0.2.0"]
ODD6 = ["::1", "::"]

PROTO_NAME = {6: "tcp", 17: "udp", 1: "icmp", 58: "ipv6-icmp", 47: "gre",
              132: "sctp", 136: "udplite", 253: "exp253", 59: "none",
              135: "mh"}


# ---------------------------------------------------------------- frames

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def src6(prefix, host, pid):
    base = socket.inet_pton(socket.AF_INET6, prefix)[:8]
    return socket.inet_ntop(socket.AF_INET6, base + SHAPE_MAGIC6 +
                            struct.pack("!HI", host, pid))


def l4_header(p):
    """The whole transport header (+ 16 bytes of payload that start
    with the id) with a valid checksum where the protocol has one."""
    proto, fam = p["proto"], p["family"]
    payload = struct.pack("!I", p["id"]) + bytes(range(12))
    if proto in (17, 136):
        hdr = struct.pack("!HHHH", p["sport"], p["dport"],
                          8 + len(payload) if proto == 17 else 0, 0)
    elif proto == 6:
        hdr = struct.pack("!HHIIBBHHH", p["sport"], p["dport"], p["id"], 0,
                          5 << 4, 0x02, 8192, 0, 0)
    elif proto == 132:
        hdr = struct.pack("!HHII", p["sport"], p["dport"], 0x5842, 0)
    elif proto in (1, 58):
        hdr = struct.pack("!BBHI", p["type"], p["code"], 0, p["id"])
    elif proto == 47:
        f = p["gre_flags"]
        hdr = struct.pack("!HH", f, 0x0800)
        if f & 0x8000 or f & 0x4000:
            hdr += struct.pack("!HH", 0, 0)
        if f & 0x2000:
            hdr += struct.pack("!I", p["key"])
        if f & 0x1000:
            hdr += struct.pack("!I", p["id"])
    elif proto == 135:
        hdr = struct.pack("!BBBBH", 59, 1, p["type"], 0, 0) + bytes(10)
    else:
        hdr = b""
    seg = hdr + payload
    if proto in (6, 17, 136, 58) or (proto == 1 and fam == 6):
        if fam == 4:
            ph = (socket.inet_aton(p["src"]) + socket.inet_aton(p["dst"]) +
                  struct.pack("!BBH", 0, proto, len(seg)))
        else:
            ph = (socket.inet_pton(socket.AF_INET6, p["src"]) +
                  socket.inet_pton(socket.AF_INET6, p["dst"]) +
                  struct.pack("!IxxxB", len(seg), proto))
        c = csum(ph + seg)
    elif proto == 1:
        c = csum(seg)
    else:
        c = None
    if c is not None:
        off = {17: 6, 136: 6, 6: 16, 1: 2, 58: 2}[proto]
        seg = seg[:off] + struct.pack("!H", c) + seg[off + 2:]
    return seg, len(hdr)


def ipv4_options(rng):
    """(bytes padded to 4, description) of an options field."""
    kinds = rng.sample(["nop", "rr", "ts", "ra", "unknown", "lsrr", "ssrr",
                        "eol", "bad-len", "overflow"], rng.randint(1, 2))
    b = b""
    for k in kinds:
        if k == "nop":
            b += b"\x01" * rng.randint(1, 3)
        elif k == "rr":
            b += bytes([7, 7, 4]) + bytes(4)
        elif k == "ts":
            b += bytes([68, 12, 5, 0]) + bytes(8)
        elif k == "ra":
            b += bytes([148, 4, 0, 0])
        elif k == "unknown":
            b += bytes([0x9e, 4, 0xab, 0xcd])
        elif k in ("lsrr", "ssrr"):
            b += bytes([131 if k == "lsrr" else 137, 7, 4]) + \
                socket.inet_aton("203.0.113.9")
        elif k == "eol":
            b += b"\x00"
        elif k == "bad-len":
            b += bytes([7, 1])
        else:
            b += bytes([68, 40, 5, 0])
    b = b[:40]
    b += b"\x00" * (-len(b) % 4)
    return b, "+".join(kinds)


def ipv4_frames(p, rng):
    seg, _ = l4_header(p)
    seg = seg[:p["trunc"]] if p["trunc"] is not None else seg
    opts = p.get("opts", b"")
    ihl = 5 + len(opts) // 4

    def hdr(payload, frag):
        h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, p["tos"],
                        ihl * 4 + len(payload), p["id"] & 0xffff, frag,
                        p["ttl"], p["proto"], 0, socket.inet_aton(p["src"]),
                        socket.inet_aton(p["dst"])) + opts
        c = csum(h) ^ (0x5555 if p.get("bad_csum") else 0)
        return h[:10] + struct.pack("!H", c) + h[12:] + payload

    fr = p.get("frag")
    if not fr:
        return [hdr(seg, 0x4000 if p["df"] else 0)]
    cut = fr["cut"]
    first = hdr(seg[:cut], 0x2000)
    last = hdr(seg[cut:], cut // 8)
    return {"set": [first, last], "reversed": [last, first],
            "first": [first], "last": [last]}[fr["kind"]]


def ext_header(nh, kind, rng):
    if kind in ("hbh", "dst", "bigdst"):
        n = rng.choice([0, 0, 1, 3]) if kind == "dst" else \
            (0 if kind == "hbh" else rng.choice([40, 127]))
        # Pad1 options all through
        return bytes([nh, n]) + bytes(8 * n + 6)
    if kind.startswith("rt"):
        rtype, segleft = {"rt0": (0, 0), "rt2": (2, 0), "rt4": (4, 0),
                          "rt0-left": (0, 1)}[kind]
        addrs = socket.inet_pton(socket.AF_INET6, "2001:db8:3::9")
        return bytes([nh, 2, rtype, segleft]) + bytes(4) + addrs
    if kind == "atomic":
        return struct.pack("!BBHI", nh, 0, 0, rng.getrandbits(32))
    raise ValueError(kind)


def ipv6_frames(p, rng):
    seg, _ = l4_header(p)
    seg = seg[:p["trunc"]] if p["trunc"] is not None else seg
    chain = p.get("chain", [])
    nhs = []
    for i in range(len(chain)):
        nhs.append({"hbh": 0, "dst": 60, "bigdst": 60, "rt0": 43, "rt2": 43,
                    "rt4": 43, "rt0-left": 43, "atomic": 44}[chain[i]])
    exts, nh = b"", p["proto"]
    for kind in reversed(chain):
        exts = ext_header(nh, kind, rng) + exts
        nh = {"hbh": 0, "dst": 60, "bigdst": 60, "atomic": 44}.get(kind, 43)
    first_nh = nh

    def hdr(nexthdr, payload):
        vtf = (6 << 28) | (p["tos"] << 20) | p["flowlabel"]
        return struct.pack("!IHBB16s16s", vtf, len(payload), nexthdr,
                           p["ttl"], socket.inet_pton(socket.AF_INET6,
                                                      p["src"]),
                           socket.inet_pton(socket.AF_INET6, p["dst"])) + \
            payload

    fr = p.get("frag")
    if not fr:
        return [hdr(first_nh, exts + seg)]
    # unfragmentable part: the chain; then the fragment header
    ident = p["id"]
    body = seg
    cut = fr["cut"]
    f1 = struct.pack("!BBHI", p["proto"], 0, 1, ident) + body[:cut]
    f2 = struct.pack("!BBHI", p["proto"], 0, cut, ident) + body[cut:]
    # rewrite the chain's last next-header to 44
    chain_b = b""
    nh = 44
    for kind in reversed(chain):
        chain_b = ext_header(nh, kind, random.Random(ident)) + chain_b
        nh = {"hbh": 0, "dst": 60, "bigdst": 60, "atomic": 44}.get(kind, 43)
    first = hdr(nh, chain_b + f1)
    last = hdr(nh, chain_b + f2)
    return {"set": [first, last], "reversed": [last, first],
            "first": [first], "last": [last]}[fr["kind"]]


def l2(p, ip_frames):
    ethertype = 0x0800 if p["family"] == 4 else 0x86dd
    tags = b""
    for tpid, tci in p.get("vlan", []):
        tags += struct.pack("!HH", tpid, tci)
    trailer = p.get("trailer", b"")
    return [p["dmac"] + LAN_MAC + tags + struct.pack("!H", ethertype) + f +
            trailer for f in ip_frames]


# ---------------------------------------------------------------- packets

def mcast_mac(family, dst):
    a = socket.inet_pton(socket.AF_INET if family == 4 else socket.AF_INET6,
                         dst)
    if family == 4:
        return bytes([1, 0, 0x5e, a[1] & 0x7f, a[2], a[3]])
    return b"\x33\x33" + a[12:]


def pick_dst(rng, fam, env):
    r = rng.random()
    if r < 0.32:
        return "local", rng.choice(LOCAL4 if fam == 4 else LOCAL6)
    if r < 0.62:
        return "fwd", rng.choice(FWD4 if fam == 4 else FWD6)
    if r < 0.77:
        return "ruled", rng.choice(RULED4 if fam == 4 else RULED6)
    if r < 0.80 and env.startswith("vlan"):
        return "vlan", VLAN_LOCAL4 if fam == 4 else VLAN_LOCAL6
    if r < 0.85:
        return "mcast", rng.choice((BCAST4 + MCAST4) if fam == 4 else MCAST6)
    if r < 0.94:
        return "ll", rng.choice(LL4 if fam == 4 else LL6)
    return "odd", rng.choice(ODD4 if fam == 4 else ODD6)


def gen_flow(rng, pid, env):
    """A packet's flow: family, addresses, protocol and the fields that
    stand in for ports."""
    fam = 4 if rng.random() < 0.55 else 6
    kind, dst = pick_dst(rng, fam, env)
    host = rng.randint(2, 9)
    ll_src = rng.random() < 0.08
    if fam == 4:
        src = ("169.254.1.%d" if ll_src else "192.0.2.%d") % host
    else:
        src = src6("fe80::" if ll_src else "2001:db8:1::", host, pid)
    r = rng.random()
    if r < 0.28:
        proto = 17
    elif r < 0.46:
        proto = 6
    elif r < 0.6:
        proto = 1 if fam == 4 else 58
    elif r < 0.74:
        proto = 47
    elif r < 0.79:
        proto = 132
    elif r < 0.84:
        proto = 136
    elif r < 0.89:
        proto = 253
    elif r < 0.93:
        proto = 58 if fam == 4 else 1        # the other family's ICMP
    elif r < 0.97 or fam == 4:
        proto = 59
    else:
        proto = 135
    f = {"family": fam, "src": src, "dst": dst, "dkind": kind,
         "proto": proto}
    if proto in (6, 17, 132, 136):
        f["sport"] = rng.choice(PORTS)
        f["dport"] = rng.choice(PORTS)
    elif proto in (1, 58):
        f["type"], f["code"] = rng.choice(
            ICMP4 if (proto == 1) else ICMP6)
    elif proto == 47:
        f["gre_flags"] = rng.choice([0, 0x2000, 0x2000, 0xa000, 0x3000,
                                     0x6000, 0x2001, 0x2080, 0x1000,
                                     0x0100])
        f["key"] = rng.choice(GRE_KEYS)
    elif proto == 135:
        f["type"] = rng.choice([0, 1, 5])
    return f


FLOW_KEYS = ("family", "src", "dst", "dkind", "proto", "sport", "dport",
             "type", "code", "gre_flags", "key")


def gen_packet(rng, pid, env, twin_of=None):
    """A packet of a new flow, or with twin_of (an earlier IPv4 packet)
    of that packet's flow with its own per-packet fields (DS field, TTL,
    options, truncation, MAC, ...): what the flow cache must not carry
    over from one to the other. IPv6 packets are told apart by their
    source, so only IPv4 flows have twins."""
    if twin_of is None:
        flow = gen_flow(rng, pid, env)
    else:
        flow = {k: twin_of[k] for k in FLOW_KEYS if k in twin_of}
    fam, kind, dst = flow["family"], flow["dkind"], flow["dst"]
    p = {"id": pid, "tos": 0, "flowlabel": 0, "ttl": 64, "trunc": None,
         "df": rng.random() < 0.5, "shape": []}
    p.update(flow)
    if twin_of is not None:
        p["shape"].append("twin-of-%d" % twin_of["id"])
    if "gre_flags" in p:
        p["shape"].append("gre-flags-%04x" % p["gre_flags"])
    if rng.random() < 0.2:
        p["tos"] = rng.choice(TOS)
    elif twin_of is not None and rng.random() < 0.5:
        # what ip rules by tos route differently
        p["tos"] = rng.choice([0] + TOS)
    if p["tos"]:
        p["shape"].append("tos-%02x" % p["tos"])
    if fam == 6 and rng.random() < 0.15:
        p["flowlabel"] = rng.getrandbits(20)
    if rng.random() < 0.1:
        p["ttl"] = rng.choice([0, 1, 2])
        p["shape"].append("ttl-%d" % p["ttl"])
    seg, hlen = l4_header(p)
    if rng.random() < 0.12 and hlen:
        p["trunc"] = rng.randint(0, hlen - 1)
        p["shape"].append("trunc-%d/%d" % (p["trunc"], hlen))
    if rng.random() < 0.15:
        if p["trunc"] is not None and rng.random() < 0.6:
            p["trailer"] = seg[p["trunc"]:p["trunc"] + 20]
            p["shape"].append("trailer-rest")
        else:
            p["trailer"] = bytes(rng.getrandbits(8)
                                 for _ in range(rng.randint(1, 24)))
            p["shape"].append("trailer-%d" % len(p["trailer"]))
    if fam == 4 and rng.random() < 0.12:
        p["opts"], d = ipv4_options(rng)
        p["shape"].append("opts-" + d)
    if fam == 4 and rng.random() < 0.02:
        p["bad_csum"] = True
        p["shape"].append("bad-ip-csum")
    if fam == 6 and rng.random() < 0.18:
        n = rng.choice([1, 1, 2, 3, 5, 9])
        chain = [rng.choice(["dst", "dst", "rt0", "rt2", "rt4", "atomic",
                             "bigdst", "rt0-left", "hbh"])
                 for _ in range(n)]
        if rng.random() < 0.5:
            chain = ["hbh"] + chain[1:]
        # one big header at most: the frame stays within the MTU
        while chain.count("bigdst") > 1:
            chain[chain.index("bigdst")] = "dst"
        p["chain"] = chain
        p["shape"].append("ext-" + "+".join(chain))
    if rng.random() < 0.1 and p["trunc"] is None and len(seg) >= 24:
        cut = rng.choice([8, 16]) if len(seg) > 16 else 8
        p["frag"] = {"kind": rng.choice(["set", "set", "reversed", "first",
                                         "last"]), "cut": cut}
        p["shape"].append("frag-%s-%d" % (p["frag"]["kind"], cut))
    r = rng.random()
    if kind == "mcast" and r < 0.7:
        if dst.startswith("ff") or dst.startswith("22") or \
                dst.startswith("23"):
            p["dmac"] = mcast_mac(fam, dst)
        else:
            p["dmac"] = b"\xff" * 6
    elif r < 0.04:
        p["dmac"] = b"\xff" * 6
        p["shape"].append("bcast-mac")
    elif r < 0.07:
        p["dmac"] = bytes.fromhex("01005e000001") if fam == 4 else \
            bytes.fromhex("333300000001")
        p["shape"].append("mcast-mac")
    elif r < 0.09:
        p["dmac"] = OTHER_MAC
        p["shape"].append("otherhost-mac")
    else:
        p["dmac"] = GW_MAC
    vlan_p = 0.3 if env.startswith("vlan") else 0.08
    if rng.random() < vlan_p:
        p["vlan"] = rng.choice([[(0x8100, 0)], [(0x8100, 10)],
                                [(0x8100, 10)], [(0x8100, 11)],
                                [(0x8100, 0xa000)], [(0x8100, 0xa00a)],
                                [(0x88a8, 10), (0x8100, 20)],
                                [(0x8100, 10), (0x8100, 10)],
                                [(0x8100, 0), (0x8100, 10)]])
        p["shape"].append("vlan-" + "/".join("%04x:%d" % (t, c & 0xfff)
                                              for t, c in p["vlan"]))
    build = ipv4_frames if fam == 4 else ipv6_frames
    p["frames"] = l2(p, build(p, rng))
    return p


TWIN_P = 0.15           # packets of an earlier IPv4 packet's flow


def gen_packets(seed, env, count, id_base):
    rng = random.Random("shapes-%d-%s" % (seed, env))
    pkts = []
    for i in range(count):
        v4 = [q for q in pkts[-64:] if q["family"] == 4]
        twin_of = rng.choice(v4) if v4 and rng.random() < TWIN_P else None
        pkts.append(gen_packet(rng, id_base + i, env, twin_of))
    return pkts


def describe(p):
    if p["proto"] in (6, 17, 132, 136):
        l4 = "%s %d->%d" % (PROTO_NAME[p["proto"]], p["sport"], p["dport"])
    elif p["proto"] in (1, 58):
        l4 = "%s type %d code %d" % (PROTO_NAME[p["proto"]], p["type"],
                                     p["code"])
    elif p["proto"] == 47:
        l4 = "gre key 0x%x" % p["key"]
    else:
        l4 = PROTO_NAME.get(p["proto"], str(p["proto"]))
    return "#%d %s %s -> %s (%s) %s [%s]" % (
        p["id"], "v%d" % p["family"], p["src"], p["dst"], p["dkind"], l4,
        ",".join(p["shape"]) or "plain")


# ---------------------------------------------------------------- SPD

def sel_src(rng, fam):
    r = rng.random()
    if r < 0.5:
        return "0.0.0.0/0" if fam == 4 else "::/0"
    if r < 0.75:
        return "192.0.2.0/24" if fam == 4 else "2001:db8:1::/64"
    if r < 0.9:
        h = rng.randint(2, 9)
        return "192.0.2.%d/32" % h if fam == 4 else \
            "2001:db8:1:0:5842:%x::/96" % h
    return "169.254.0.0/16" if fam == 4 else "fe80::/10"


def sel_dst(rng, fam, direction):
    if rng.random() < 0.5:
        return "0.0.0.0/0" if fam == 4 else "::/0"
    if direction == "in":
        pool = (LOCAL4 + RULED4 + [VLAN_LOCAL4]) if fam == 4 else \
            (LOCAL6 + RULED6 + [VLAN_LOCAL6])
    else:
        pool = (FWD4 + RULED4) if fam == 4 else (FWD6 + RULED6)
    if rng.random() < 0.3:
        return "203.0.113.0/24" if fam == 4 else "2001:db8:3::/64"
    return rng.choice(pool) + ("/32" if fam == 4 else "/128")


def sel_upper(rng, fam):
    r = rng.random()
    if r < 0.3:
        proto = rng.choice(["udp", "tcp", "sctp", "udplite"])
        w = ["proto", proto]
        if proto == "udplite":          # `ip xfrm` takes no ports there
            return "proto udplite"
        if rng.random() < 0.7:
            w += ["dport", str(rng.choice(PORTS))]
        if rng.random() < 0.35:
            w += ["sport", str(rng.choice(PORTS))]
        return " ".join(w)
    if r < 0.5:
        proto = "icmp" if fam == 4 else "ipv6-icmp"
        if rng.random() < 0.2:          # the other family's ICMP
            proto = "ipv6-icmp" if fam == 4 else "icmp"
        t, c = rng.choice(ICMP4 if proto == "icmp" else ICMP6)
        w = ["proto", proto, "type", str(t)]
        if rng.random() < 0.4:
            w += ["code", str(c)]
        return " ".join(w)
    if r < 0.7:
        w = ["proto", "gre"]
        if rng.random() < 0.8:
            w += ["key", str(rng.choice(GRE_KEYS))]
        return " ".join(w)
    if r < 0.8:
        return "proto %d" % rng.choice([253, 59, 132, 136])
    return ""


def gen_spd(seed):
    rng = random.Random("shapes-spd-%d" % seed)
    lines = ["xfrm policy setdefault in %s fwd %s out accept" % (
        "block" if rng.random() < 0.1 else "accept",
        "block" if rng.random() < 0.1 else "accept")]
    for _ in range(rng.randint(30, 50)):
        fam = rng.choice((4, 6))
        direction = "in" if rng.random() < 0.5 else "fwd"
        up = sel_upper(rng, fam)
        w = ["xfrm policy update src", sel_src(rng, fam), "dst",
             sel_dst(rng, fam, direction)]
        if up:
            w.append(up)
        w += ["dir", direction]
        r = rng.random()
        if r < 0.5:
            w += ["priority", str(rng.choice([100, 200, 300])),
                  "action block"]
        elif r < 0.7:
            w += ["priority", str(rng.choice([100, 200, 300])),
                  "tmpl proto esp mode transport level required"]
        elif r < 0.9:
            # holes in the blocks
            w += ["priority", str(rng.choice([10, 50, 150]))]
        else:
            w += ["priority", "20",
                  "tmpl proto esp mode transport level use"]
        lines.append(" ".join(w))
    return lines


# ---------------------------------------------------------------- envs

NFT_NAT = r"""nft -f - <<'EOF'
table inet xbeq {
  chain pre_nat {
    type nat hook prerouting priority dstnat;
    ip daddr 203.0.113.10 dnat ip to 192.0.2.1
    ip6 daddr 2001:db8:3::10 dnat ip6 to 2001:db8:1::1
    ip daddr 192.0.2.1 udp dport 53 dnat ip to 198.51.100.5
    ip6 daddr 2001:db8:1::1 tcp dport 80 dnat ip6 to 2001:db8:2::5
  }
  chain pre_mangle {
    type filter hook prerouting priority mangle;
    meta l4proto tcp meta mark set 0x10
    ip dscp 0x04 meta mark set 0x20
  }
}
EOF"""

BASE_UP = """ip addr add fe80::1/64 dev xbt-gwl0 nodad
ip route add local 203.0.113.0/26 dev lo table 100
ip route add blackhole 203.0.113.64/26 table 100
ip -6 route add local 2001:db8:3::/120 dev lo table 100
ip -6 route add local 2001:db8:4::/64 dev lo table 102
ip route add unreachable default table 101
ip -6 route add unreachable default table 101
ip route add local default dev lo table 102"""


def rules(*specs):
    out = []
    for s in specs:
        out.append("ip rule add " + s)
        out.append("ip -6 rule add " + s)
    return "\n".join(out)


def rules_down(*specs):
    out = []
    for s in specs:
        out.append("ip rule del " + s)
        out.append("ip -6 rule del " + s)
    return "\n".join(out)


ENVS = {
    "plain": ("", ""),
    "nat": (NFT_NAT + "\n" + rules("fwmark 0x10 lookup 100 pref 100"),
            "nft delete table inet xbeq\n" +
            rules_down("fwmark 0x10 lookup 100 pref 100")),
    "tos": (rules("tos 0x10 lookup 100 pref 100",
                  "tos 0x04 lookup 101 pref 101") +
            "\nip route add local 203.0.113.32/27 tos 0x18 dev lo",
            rules_down("tos 0x10 lookup 100 pref 100",
                       "tos 0x04 lookup 101 pref 101") +
            "\nip route del local 203.0.113.32/27 tos 0x18 dev lo"),
    "fwmark": (rules("fwmark 0x10 lookup 101 pref 100",
                     "not fwmark 0x1/0x1 lookup 100 pref 101"),
               rules_down("fwmark 0x10 lookup 101 pref 100",
                          "not fwmark 0x1/0x1 lookup 100 pref 101")),
    "iif": (rules("iif xbt-gwl0 lookup 100 pref 100",
                  "iif xbt-gww0 lookup 101 pref 101",
                  "iif lo lookup 101 pref 102"),
            rules_down("iif xbt-gwl0 lookup 100 pref 100",
                       "iif xbt-gww0 lookup 101 pref 101",
                       "iif lo lookup 101 pref 102")),
    "uidrange": (rules("uidrange 0-0 lookup 100 pref 100",
                       "uidrange 1-65535 lookup 101 pref 101"),
                 rules_down("uidrange 0-0 lookup 100 pref 100",
                            "uidrange 1-65535 lookup 101 pref 101")),
    "suppress": (rules("lookup main suppress_prefixlength 0 pref 100",
                       "lookup 102 pref 101"),
                 rules_down("lookup main suppress_prefixlength 0 pref 100",
                            "lookup 102 pref 101")),
    "bridge": ("""ip link add xbt-gbr0 address 02:58:42:00:00:01 type bridge \
forward_delay 0 stp_state 0
ip addr del 192.0.2.1/24 dev xbt-gwl0
ip addr del 2001:db8:1::1/64 dev xbt-gwl0
ip addr del fe80::1/64 dev xbt-gwl0
ip link set xbt-gwl0 master xbt-gbr0
ip addr add 192.0.2.1/24 dev xbt-gbr0
ip addr add 2001:db8:1::1/64 dev xbt-gbr0 nodad
ip addr add fe80::1/64 dev xbt-gbr0 nodad
ip link set xbt-gbr0 up""",
               """ip link set xbt-gwl0 nomaster
ip link del xbt-gbr0
ip addr add 192.0.2.1/24 dev xbt-gwl0
ip addr add 2001:db8:1::1/64 dev xbt-gwl0 nodad
ip addr add fe80::1/64 dev xbt-gwl0 nodad"""),
    # the kernel routes frames of VLAN 10 with the VLAN device as input
    "vlan-iif": ("""ip link add link xbt-gwl0 name xbt-gwl0.10 type vlan id 10
ip addr add 198.51.100.250/32 dev xbt-gwl0.10
ip addr add 2001:db8:10::1/64 dev xbt-gwl0.10 nodad
ip link set xbt-gwl0.10 up
""" + rules("iif xbt-gwl0.10 lookup 100 pref 100"),
                 rules_down("iif xbt-gwl0.10 lookup 100 pref 100") +
                 "\nip link del xbt-gwl0.10"),
    # ... and with the VLAN device's disable_policy (IPv4: per device)
    "vlan-nopolicy": ("""ip link add link xbt-gwl0 name xbt-gwl0.10 type vlan id 10
ip addr add 198.51.100.250/32 dev xbt-gwl0.10
sysctl -qw net.ipv4.conf.xbt-gwl0/10.disable_policy=1
ip link set xbt-gwl0.10 up""", "ip link del xbt-gwl0.10"),
}


def main():
    a = sys.argv[1:]
    if a[:1] == ["spd"] and len(a) == 3:
        lines = gen_spd(int(a[1]))
        with open(a[2], "w") as f:
            f.write("\n".join(lines) + "\n")
        print("%d policies (%d block, %d required tmpl), %s" % (
            len(lines) - 1, sum("block" in x for x in lines[1:]),
            sum("required" in x for x in lines[1:]),
            lines[0][len("xfrm policy "):]))
        return 0
    if a == ["envs"]:
        print(" ".join(ENVS))
        return 0
    if a == ["base", "up"]:
        print(BASE_UP)
        return 0
    if a[:1] == ["env"] and len(a) == 3 and a[1] in ENVS and \
            a[2] in ("up", "down"):
        print(ENVS[a[1]][0 if a[2] == "up" else 1])
        return 0
    print("usage: shapes.py spd SEED FILE | envs | env NAME up|down | "
          "base up", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
