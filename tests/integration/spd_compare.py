#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Independent oracle for the SPD mirror.

Parses the text of `ip -s xfrm policy list` and `ip xfrm policy getdefault`
(iproute2 6.1 has no JSON for xfrm) and compares it field by field with
`xfrmbpf policy -j` and the "default" object of `xfrmbpf status -j`. Shares
no code with xfrmbpf. Prints a readable diff; exit 0 equal, 1 different,
2 usage or parse error.

Runs the commands itself in the current network namespace, or reads saved
outputs (--kernel-text, --kernel-default, --mirror-json, --mirror-status).
"""

import argparse
import ipaddress
import json
import os
import socket
import struct
import subprocess
import sys

DIRS = ("in", "out", "fwd")
SHARES = {"any": 0, "session": 1, "user": 2, "unique": 3}
# iproute2's names for template protocols (ip/ipxfrm.c).
XFRM_PROTOS = {"esp": 50, "ah": 51, "comp": 108, "route2": 43, "hao": 60}
XFRM_MODES = ("transport", "tunnel", "ro", "in_trigger", "beet")
# Protocols whose selector ports carry ICMP type/code (iproute2 prints
# "type N code N"), and GRE whose two ports are one 32-bit key.
TYPE_CODE_PROTOS = (1, 58, 135)
GRE = 47
# Fields compared for every policy and every template.
POLICY_FIELDS = ("dir", "ptype", "action", "priority", "family", "src", "dst",
                 "proto", "sport", "sport_mask", "dport", "dport_mask",
                 "ifindex", "mark", "mark_mask", "if_id", "flags", "share")
TMPL_FIELDS = ("family", "src", "dst", "proto", "spi", "reqid", "mode",
               "optional", "share")


class ParseError(Exception):
    pass


def proto_number(name):
    if name.isdigit():
        return int(name)
    try:
        return socket.getprotobyname(name)
    except OSError:
        raise ParseError("unknown protocol name %r" % name) from None


def ifindex_of(name):
    # iproute2 prints "ifN" for an index it cannot name.
    if name.startswith("if") and name[2:].isdigit():
        return int(name[2:])
    try:
        return socket.if_nametoindex(name)
    except OSError:
        raise ParseError("unknown device %r" % name) from None


def family_of(addr):
    return "inet6" if ":" in addr else "inet"


def pairs(tokens, line):
    if len(tokens) % 2:
        raise ParseError("odd number of words in %r" % line)
    return zip(tokens[0::2], tokens[1::2])


def parse_selector(line, pol):
    """src A/P dst B/P [proto P] [sport N] [dport N] [type N] [code N]
    [key N] [dev D] [uid N]"""
    words = line.split()
    ports = {}
    for key, val in pairs(words, line):
        if key in ("src", "dst"):
            pol[key] = val
            pol["family"] = family_of(val)
        elif key == "proto":
            pol["proto"] = proto_number(val)
        elif key in ("sport", "dport", "type", "code", "key"):
            ports[key] = int(val, 0)
        elif key == "dev":
            pol["ifindex"] = ifindex_of(val)
        elif key == "uid":
            pol["user"] = int(val)
        else:
            raise ParseError("unknown selector word %r in %r" % (key, line))
    # iproute2 only prints a port whose mask is non-zero, and `ip xfrm`
    # only ever sets a full 0xffff mask.
    if "key" in ports:
        ports["sport"] = ports["key"] >> 16
        ports["dport"] = ports["key"] & 0xffff
    elif pol["proto"] in TYPE_CODE_PROTOS:
        if "type" in ports:
            ports["sport"] = ports["type"]
        if "code" in ports:
            ports["dport"] = ports["code"]
    for p in ("sport", "dport"):
        if p in ports:
            pol[p] = ports[p]
            pol[p + "_mask"] = 0xffff


def parse_policy_line(line, pol):
    """dir D action A index N priority P ptype T share S flag F... (0xHEX)"""
    head, sep, tail = line.partition(" flag ")
    if not sep:
        raise ParseError("no flag field (was `ip -s` used?) in %r" % line)
    # iproute2 prints the flag byte as eight binary digits behind "0x":
    # localok|icmp (3) is "(0x00000011)".
    flags = tail.split()[-1]
    if not (flags.startswith("(0x") and flags.endswith(")")
            and len(flags) == 12 and set(flags[3:-1]) <= set("01")):
        raise ParseError("bad flag field in %r" % line)
    pol["flags"] = int(flags[3:-1], 2)
    words = head.split()
    if words[0] == "socket":
        # A per-socket policy (IKE bypass): never in the SPD, so never
        # mirrored; the dump lists it as "socket DIR".
        pol["socket"] = True
        words[0] = "dir"
    for key, val in pairs(words, line):
        if key == "dir":
            pol["dir"] = val
        elif key == "action":
            pol["action"] = val
        elif key in ("index", "priority"):
            pol[key] = int(val, 0)
        elif key == "ptype":
            pol["ptype"] = val
        elif key == "share":
            pol["share"] = SHARES.get(val, -1)
        else:
            raise ParseError("unknown policy word %r in %r" % (key, line))
    if pol["dir"] not in DIRS:
        raise ParseError("unknown dir in %r" % line)


def parse_tmpl_proto(line, tmpl):
    """proto esp spi 0x00000000(0) reqid 7(0x00000007) mode tunnel"""
    for key, val in pairs(line.split(), line):
        if key == "proto":
            if val not in XFRM_PROTOS:
                raise ParseError("unknown template proto %r" % val)
            tmpl["proto"] = XFRM_PROTOS[val]
        elif key == "spi":
            tmpl["spi"] = int(val.split("(")[0], 16)
        elif key == "reqid":
            tmpl["reqid"] = int(val.split("(")[0])
        elif key == "mode":
            tmpl["mode"] = val
        else:
            raise ParseError("unknown template word %r in %r" % (key, line))


def parse_tmpl_level(line, tmpl):
    """level required|use share S"""
    words = line.split()
    for key, val in pairs(words, line):
        if key == "level":
            tmpl["optional"] = val == "use"
        elif key == "share":
            tmpl["share"] = SHARES.get(val, -1)
        else:
            raise ParseError("unknown template word %r in %r" % (key, line))


def new_policy():
    return {"proto": 0, "sport": 0, "sport_mask": 0, "dport": 0,
            "dport_mask": 0, "ifindex": 0, "mark": 0, "mark_mask": 0,
            "if_id": 0, "action": "allow", "tmpls": []}


def parse_policies(text):
    """The policies of `ip -s xfrm policy list` as dicts shaped like the
    objects of `xfrmbpf policy -j`."""
    policies = []
    pol = tmpl = None
    in_lifetime = False
    for line in text.splitlines():
        if not line.strip():
            continue
        body = line.strip()
        depth = len(line) - len(line.lstrip("\t"))
        if depth == 0:
            if not body.startswith("src "):
                raise ParseError("unexpected line %r" % line)
            pol = new_policy()
            tmpl = None
            policies.append(pol)
            parse_selector(body, pol)
            continue
        if pol is None:
            raise ParseError("indented line before any policy: %r" % line)
        word = body.split()[0]
        if line.startswith("\t ") and in_lifetime:
            continue
        in_lifetime = depth == 1 and word == "lifetime"
        if depth == 1 and word in ("dir", "socket"):
            parse_policy_line(body, pol)
        elif depth == 1 and word == "mark":
            v, m = body.split()[1].split("/")
            pol["mark"], pol["mark_mask"] = int(v, 16), int(m, 16)
        elif depth == 1 and word == "if_id":
            pol["if_id"] = int(body.split()[1], 16)
        elif depth == 1 and word == "tmpl":
            words = body.split()
            tmpl = {"src": words[2], "dst": words[4],
                    "family": family_of(words[4])}
            if words[1] != "src" or words[3] != "dst":
                raise ParseError("bad template line %r" % line)
            pol["tmpls"].append(tmpl)
        elif depth == 1 and word == "lifetime":
            continue
        elif depth == 1 and word in ("security", "crypto"):
            # Not compared field by field: recorded so the diff shows it.
            pol.setdefault("unparsed", []).append(body)
        elif depth == 2 and tmpl is not None and word == "proto":
            parse_tmpl_proto(body, tmpl)
        elif depth == 2 and tmpl is not None and word == "level":
            parse_tmpl_level(body, tmpl)
        elif depth == 2 and word == "enc-mask":
            continue
        else:
            raise ParseError("unknown line %r" % line)
    for pol in policies:
        for key in ("dir", "index", "priority", "ptype", "flags", "share"):
            if key not in pol:
                raise ParseError("policy without %s: %r" % (key, pol))
    return policies


def parse_defaults(text):
    """ Default policies:\n in:  accept\n fwd: accept\n out: accept"""
    defaults = {}
    for line in text.splitlines():
        words = line.replace(":", " ").split()
        if len(words) == 2 and words[0] in DIRS:
            defaults[words[0]] = words[1]
    if sorted(defaults) != sorted(DIRS):
        raise ParseError("cannot parse getdefault output %r" % text)
    return defaults


SA_FIELDS = ("family", "src", "dst", "proto", "spi", "mode", "reqid",
             "mark", "mark_mask", "if_id", "encap")
ENCAP_TYPES = {"espinudp-nonike": 1, "espinudp": 2, "espintcp": 7}


def parse_states(text):
    """The SAs of `ip xfrm state list nokeys`, shaped like `xfrmbpf sa -j`
    (identity only: algorithm and key lines are skipped)."""
    sas = []
    sa = None
    for line in text.splitlines():
        if not line.strip():
            continue
        words = line.split()
        if not line.startswith("\t"):
            if words[0] != "src" or words[2] != "dst":
                raise ParseError("unexpected state line %r" % line)
            sa = {"src": words[1], "dst": words[3],
                  "family": family_of(words[3]), "mark": 0, "mark_mask": 0,
                  "if_id": 0, "encap": None}
            sas.append(sa)
        elif sa is None:
            raise ParseError("indented line before any SA: %r" % line)
        elif words[0] == "proto":
            opts = dict(zip(words[0::2], words[1::2]))
            sa["proto"] = XFRM_PROTOS[opts["proto"]]
            sa["spi"] = int(opts["spi"], 16)
            sa["reqid"] = int(opts["reqid"].split("(")[0])
            sa["mode"] = opts["mode"]
        elif words[0] == "mark":
            v, m = words[1].split("/")
            sa["mark"], sa["mark_mask"] = int(v, 16), int(m, 16)
        elif words[0] == "if_id":
            sa["if_id"] = int(words[1], 16)
        elif words[0] == "encap":
            opts = dict(zip(words[1::2], words[2::2]))
            sa["encap"] = {"type": ENCAP_TYPES.get(opts["type"], opts["type"]),
                           "sport": int(opts["sport"]),
                           "dport": int(opts["dport"])}
    for sa in sas:
        if "spi" not in sa:
            raise ParseError("SA without a proto line: %r" % sa)
    return sas


def compare_sas(kernel, mirror):
    def key(sa):
        return (norm_addr(sa.get("dst", ""), False), sa.get("proto"),
                sa.get("spi"), sa.get("mark"), sa.get("mark_mask"))

    def name(sa):
        return "SA %s -> %s proto %s spi 0x%x" % (
            sa.get("src"), sa.get("dst"), sa.get("proto"), sa.get("spi", 0))

    out = []
    kmap = {key(sa): sa for sa in kernel}
    mmap = {}
    for sa in mirror:
        if key(sa) in mmap:
            out.append("duplicate in mirror: %s" % name(sa))
        mmap[key(sa)] = sa
    for k in sorted(kmap.keys() - mmap.keys(), key=str):
        out.append("missing in mirror: %s" % name(kmap[k]))
    for k in sorted(mmap.keys() - kmap.keys(), key=str):
        out.append("extra in mirror (stale): %s" % name(mmap[k]))
    for k in sorted(kmap.keys() & mmap.keys(), key=str):
        ks, ms = kmap[k], mmap[k]
        for field in SA_FIELDS:
            kv, mv = ks.get(field), ms.get(field, "(no such field)")
            if field in ("src", "dst") and isinstance(mv, str):
                kv, mv = norm_addr(kv, False), norm_addr(mv, False)
            if field == "encap" and isinstance(mv, dict) and kv:
                mv = {f: mv.get(f) for f in kv}
            if kv != mv:
                out.append("%s: %s: kernel %r, mirror %r"
                           % (name(ks), field, ks.get(field), ms.get(field)))
    return out


def norm_addr(addr, with_prefix):
    """An address as (version, packed address, prefix length): the kernel
    keeps host bits of a prefix, so they must be equal too."""
    try:
        if with_prefix:
            iface = ipaddress.ip_interface(addr)
            return (iface.version, iface.ip.packed,
                    iface.network.prefixlen)
        return ipaddress.ip_address(addr).packed
    except ValueError:
        return ("unparsable", addr)


def norm_value(field, val, is_tmpl=False):
    if field in ("src", "dst") and isinstance(val, str):
        return norm_addr(val, not is_tmpl)
    return val


def key_of(pol):
    return (pol.get("dir"), pol.get("ptype"), pol.get("index"))


def describe(pol):
    return "dir %s ptype %s index %s (%s -> %s)" % (
        pol.get("dir"), pol.get("ptype"), pol.get("index"),
        pol.get("src"), pol.get("dst"))


def compare_policy(kern, mirr, out):
    diffs = []
    for field in POLICY_FIELDS:
        if field not in mirr:
            diffs.append("  %s: kernel %r, mirror has no such field"
                         % (field, kern.get(field)))
        elif norm_value(field, kern[field]) != norm_value(field, mirr[field]):
            diffs.append("  %s: kernel %r, mirror %r"
                         % (field, kern[field], mirr[field]))
    if "user" in mirr and mirr["user"] != kern.get("user"):
        diffs.append("  user: kernel %r, mirror %r"
                     % (kern.get("user"), mirr["user"]))
    ktm, mtm = kern["tmpls"], mirr.get("tmpls")
    if not isinstance(mtm, list) or len(ktm) != len(mtm):
        diffs.append("  tmpls: kernel has %d, mirror %r"
                     % (len(ktm), mtm if not isinstance(mtm, list)
                        else "has %d" % len(mtm)))
    else:
        for i, (kt, mt) in enumerate(zip(ktm, mtm)):
            for field in TMPL_FIELDS:
                if field not in kt:
                    diffs.append("  tmpls[%d].%s: not parsed from the "
                                 "kernel text" % (i, field))
                elif field not in mt:
                    diffs.append("  tmpls[%d].%s: kernel %r, mirror has "
                                 "no such field" % (i, field, kt[field]))
                elif (norm_value(field, kt[field], True)
                      != norm_value(field, mt[field], True)):
                    diffs.append("  tmpls[%d].%s: kernel %r, mirror %r"
                                 % (i, field, kt[field], mt[field]))
    if kern.get("unparsed"):
        diffs.append("  kernel lines not mirrored by the oracle: %r"
                     % kern["unparsed"])
    if diffs:
        out.append("policy %s differs:" % describe(kern))
        out.extend(diffs)


def compare(kernel, mirror, kdefault, mdefault):
    """A list of diff lines; empty when mirror equals kernel."""
    out = []
    kmap = {}
    kernel = [pol for pol in kernel if not pol.get("socket")]
    for pol in kernel:
        if key_of(pol) in kmap:
            out.append("kernel text lists %s twice" % describe(pol))
        kmap[key_of(pol)] = pol
    mmap = {}
    for pol in mirror:
        if key_of(pol) in mmap:
            out.append("duplicate in mirror: %s" % describe(pol))
        mmap[key_of(pol)] = pol
    for key in sorted(kmap.keys() - mmap.keys(), key=str):
        out.append("missing in mirror: %s" % describe(kmap[key]))
    for key in sorted(mmap.keys() - kmap.keys(), key=str):
        out.append("extra in mirror (stale): %s" % describe(mmap[key]))
    for key in sorted(kmap.keys() & mmap.keys(), key=str):
        compare_policy(kmap[key], mmap[key], out)
    ids = [p["id"] for p in mirror if "id" in p]
    if len(set(ids)) != len(ids):
        out.append("mirror ids are not unique (%d ids, %d distinct)"
                   % (len(ids), len(set(ids))))
    if kdefault is not None:
        if not isinstance(mdefault, dict):
            out.append("default: kernel %r, mirror status has %r"
                       % (kdefault, mdefault))
        else:
            for d in DIRS:
                if kdefault[d] != mdefault.get(d):
                    out.append("default %s: kernel %s, mirror %s"
                               % (d, kdefault[d], mdefault.get(d)))
    if len(kernel) != len(mirror):
        out.append("count: kernel %d policies, mirror %d"
                   % (len(kernel), len(mirror)))
    return out


# --- Raw NETLINK_XFRM, for what the text of `ip xfrm` cannot carry: port
# masks other than 0xffff (IKE daemons express port ranges as masks).
# Layouts from <linux/xfrm.h>, x86_64/any LP64: xfrm_userpolicy_info is 168
# bytes, its selector 56.
NETLINK_XFRM = 6
XFRM_MSG_NEWPOLICY = 19
XFRM_MSG_GETPOLICY = 21
XFRMA_POLICY_TYPE = 16
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
XFRM_INF = (1 << 64) - 1
POLICY_INFO = struct.Struct("=16s16sHHHHHBBBxxxiI8Q4QIIBBBBxxxx")
PTYPES = ("main", "sub")


def nl_socket():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_XFRM)
    sock.bind((0, 0))
    return sock


def nl_messages(sock):
    """Yield (type, body) of every message until DONE or an error."""
    while True:
        data = sock.recv(1 << 20)
        off = 0
        while off + 16 <= len(data):
            length, mtype, _, _, _ = struct.unpack_from("=IHHII", data, off)
            if length < 16:
                raise ParseError("netlink: bad message length")
            body = data[off + 16:off + length]
            off += (length + 3) & ~3
            if mtype == NLMSG_DONE:
                return
            if mtype == NLMSG_ERROR:
                err = struct.unpack_from("=i", body)[0]
                if err:
                    raise ParseError("netlink: %s" % os.strerror(-err))
                return
            yield mtype, body


def nl_attrs(buf):
    off = 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            break
        yield atype & 0x3fff, buf[off + 4:off + alen]
        off += (alen + 3) & ~3


def nl_dump_ports():
    """{(dir, ptype, index): (sport, sport_mask, dport, dport_mask)} in host
    order, from an XFRM_MSG_GETPOLICY dump."""
    sock = nl_socket()
    sock.send(struct.pack("=IHHII", 16, XFRM_MSG_GETPOLICY,
                          NLM_F_REQUEST | NLM_F_DUMP, 1, 0))
    ports = {}
    for _, body in nl_messages(sock):
        f = POLICY_INFO.unpack_from(body)
        dport, dmask, sport, smask = (socket.ntohs(x) for x in f[2:6])
        index, dirn = f[25], f[26]
        ptype = "main"
        for atype, payload in nl_attrs(body[(POLICY_INFO.size + 3) & ~3:]):
            if atype == XFRMA_POLICY_TYPE:
                ptype = PTYPES[payload[0]] if payload[0] < 2 else "?"
        if dirn < len(DIRS):  # not a socket policy (dir + 3)
            ports[(DIRS[dirn], ptype, index)] = (sport, smask, dport, dmask)
    sock.close()
    return ports


def apply_nl_ports(kernel):
    ports = nl_dump_ports()
    for pol in kernel:
        if pol.get("socket"):
            continue
        got = ports.get(key_of(pol))
        if got is None:
            raise ParseError("netlink dump lacks %s" % describe(pol))
        for name in ("sport", "dport"):
            if pol[name + "_mask"] and pol[name] != got[("sport", "dport").index(name) * 2]:
                raise ParseError("text and netlink disagree on %s of %s"
                                 % (name, describe(pol)))
        (pol["sport"], pol["sport_mask"], pol["dport"],
         pol["dport_mask"]) = got


def hold_socket_policy(direction):
    """Put an allow-all (IKE bypass style) policy on a UDP socket and keep
    it until killed: socket policies are in the kernel's dump, not in the
    SPD, and must not be mirrored."""
    import time
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    info = POLICY_INFO.pack(
        b"\0" * 16, b"\0" * 16, 0, 0, 0, 0, socket.AF_INET, 0, 0, 0, 0, 0,
        XFRM_INF, XFRM_INF, XFRM_INF, XFRM_INF, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, DIRS.index(direction), 0, 0, 0)
    ip_xfrm_policy = 17
    sock.setsockopt(socket.IPPROTO_IP, ip_xfrm_policy, info)
    print("holding a socket policy, dir %s" % direction, flush=True)
    while True:
        time.sleep(3600)


def parse_port(text):
    val, _, mask = text.partition("/")
    return int(val, 0), int(mask, 0) if mask else 0xffff


def nl_add_policy(spec):
    """Add one policy from "src=A/P dst=B/P proto=N sport=V/M dport=V/M
    dir=D priority=N action=allow|block"; only what `ip xfrm` cannot do."""
    opts = dict(word.split("=", 1) for word in spec.split())
    src = ipaddress.ip_interface(opts["src"])
    dst = ipaddress.ip_interface(opts["dst"])
    if src.version != dst.version:
        raise ParseError("src and dst families differ")
    fam = socket.AF_INET if src.version == 4 else socket.AF_INET6
    sport, smask = parse_port(opts.get("sport", "0/0"))
    dport, dmask = parse_port(opts.get("dport", "0/0"))
    info = POLICY_INFO.pack(
        dst.ip.packed.ljust(16, b"\0"), src.ip.packed.ljust(16, b"\0"),
        socket.htons(dport), socket.htons(dmask),
        socket.htons(sport), socket.htons(smask), fam,
        dst.network.prefixlen, src.network.prefixlen,
        int(opts.get("proto", "0")), 0, 0,
        XFRM_INF, XFRM_INF, XFRM_INF, XFRM_INF, 0, 0, 0, 0,
        0, 0, 0, 0,
        int(opts.get("priority", "0")), 0, DIRS.index(opts["dir"]),
        1 if opts.get("action") == "block" else 0, 0, 0)
    flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
    msg = struct.pack("=IHHII", 16 + len(info), XFRM_MSG_NEWPOLICY, flags,
                      1, 0) + info
    sock = nl_socket()
    sock.send(msg)
    for _ in nl_messages(sock):
        pass
    sock.close()


def run(cmd):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, check=False)
    if res.returncode != 0:
        raise ParseError("%s exited %d: %s" % (" ".join(cmd), res.returncode,
                                               res.stderr.strip()))
    return res.stdout


def read(path):
    with open(path) as f:
        return f.read()


def load_json(text, what):
    try:
        return json.loads(text)
    except ValueError as e:
        raise ParseError("%s is not valid JSON: %s" % (what, e)) from None


def main_sa(args, xb):
    ktext = (read(args.kernel_state_text) if args.kernel_state_text
             else run(["ip", "xfrm", "state", "list", "nokeys"]))
    kernel = parse_states(ktext)
    if args.dump_kernel:
        print(json.dumps(kernel, indent=1))
        return 0
    mirror = load_json(read(args.mirror_sa_json) if args.mirror_sa_json
                       else run(xb + ["sa", "-j"]), "xfrmbpf sa -j")
    if not isinstance(mirror, list):
        raise ParseError("xfrmbpf sa -j is not a JSON array")
    diff = compare_sas(kernel, mirror)
    if diff:
        print("\n".join(diff))
        print("spd_compare: mirrored SAs differ from the kernel (%d in the "
              "kernel, %d in the mirror)" % (len(kernel), len(mirror)))
        return 1
    print("spd_compare: equal (%d SAs)" % len(kernel))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--xfrmbpf", default="xfrmbpf", help="xfrmbpf binary")
    ap.add_argument("--pin-dir", help="passed to xfrmbpf --pin-dir")
    ap.add_argument("--kernel-text", help="saved `ip -s xfrm policy list`")
    ap.add_argument("--kernel-default", help="saved `ip xfrm policy getdefault`")
    ap.add_argument("--mirror-json", help="saved `xfrmbpf policy -j`")
    ap.add_argument("--mirror-status", help="saved `xfrmbpf status -j`")
    ap.add_argument("--no-default", action="store_true",
                    help="do not compare the default policies")
    ap.add_argument("--nl-ports", action="store_true",
                    help="take port values and masks from a raw netlink "
                    "dump (the text shows no masks)")
    ap.add_argument("--nl-add-policy", metavar="SPEC",
                    help="add a policy with raw netlink (port masks): "
                    "'src=A/P dst=B/P proto=N sport=V/M dport=V/M dir=D "
                    "priority=N action=allow|block', then exit")
    ap.add_argument("--hold-socket-policy", metavar="DIR",
                    choices=("in", "out"),
                    help="keep a socket policy until killed (test helper)")
    ap.add_argument("--sa", action="store_true",
                    help="compare the SAD (`ip xfrm state list nokeys`) "
                    "with `xfrmbpf sa -j` instead of the SPD")
    ap.add_argument("--kernel-state-text",
                    help="saved `ip xfrm state list nokeys`")
    ap.add_argument("--mirror-sa-json", help="saved `xfrmbpf sa -j`")
    ap.add_argument("--dump-kernel", action="store_true",
                    help="print the parsed kernel SPD as JSON and exit")
    args = ap.parse_args()

    xb = [args.xfrmbpf] + (["--pin-dir", args.pin_dir] if args.pin_dir else [])
    try:
        if args.hold_socket_policy:
            hold_socket_policy(args.hold_socket_policy)
        if args.nl_add_policy:
            nl_add_policy(args.nl_add_policy)
            return 0
        if args.sa:
            return main_sa(args, xb)
        ktext = (read(args.kernel_text) if args.kernel_text
                 else run(["ip", "-s", "xfrm", "policy", "list"]))
        kernel = parse_policies(ktext)
        if args.nl_ports:
            apply_nl_ports(kernel)
        if args.dump_kernel:
            print(json.dumps(kernel, indent=1))
            return 0
        kdefault = mdefault = None
        if not args.no_default:
            kdefault = parse_defaults(
                read(args.kernel_default) if args.kernel_default
                else run(["ip", "xfrm", "policy", "getdefault"]))
            status = load_json(read(args.mirror_status) if args.mirror_status
                               else run(xb + ["status", "-j"]),
                               "xfrmbpf status -j")
            mdefault = status.get("default") if isinstance(status, dict) \
                else None
        mirror = load_json(read(args.mirror_json) if args.mirror_json
                           else run(xb + ["policy", "-j"]),
                           "xfrmbpf policy -j")
        if not isinstance(mirror, list):
            raise ParseError("xfrmbpf policy -j is not a JSON array")
    except (ParseError, OSError, KeyError, ValueError) as e:
        print("spd_compare: %s" % e, file=sys.stderr)
        return 2

    diff = compare(kernel, mirror, kdefault, mdefault)
    if diff:
        print("\n".join(diff))
        print("spd_compare: mirror differs from the kernel (%d policies in "
              "the kernel, %d in the mirror)" % (len(kernel), len(mirror)))
        return 1
    print("spd_compare: equal (%d policies%s)"
          % (len(kernel), "" if args.no_default else ", defaults"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
