#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Random SPD of one kernel-equivalence round, reproducible from its seed.

  spdgen.py SEED PREFIX   writes PREFIX.batch (for `ip -batch`: defaults
                          and `xfrm policy update` lines), PREFIX.nl
                          (policies with port masks, which `ip xfrm`
                          cannot express, one spd_compare.py
                          --nl-add-policy spec per line) and PREFIX.sysctl
                          (disable_policy of gw's lan veth, for sysctl -w);
                          prints a summary

Selectors are drawn from the same pools as the packets (lab.py) so that
policies hit: blocks, allows, allows with a required ESP template
("requires IPsec"), optional templates, priorities with ties, IN/FWD/OUT,
sub policies, marks and if_ids (which plaintext at XDP never carries, except
a mark whose value is 0 under its mask), selector devices, default
policies.
"""
import ipaddress
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402

PRIORITIES = [0, 0, 10, 100, 100, 1000, 2000, 2000, 65535]
MARKS = ["mark 0x10 mask 0xff", "mark 0 mask 0xff", "mark 0x100 mask 0xff",
         "mark 1"]
DEVS = [lab.GW_LAN_IF, lab.GW_WAN_IF, "lo"]
# (value, mask) of masked ports: ranges as IKE daemons write them.
PORT_MASKS = [(1024, 0xfc00), (4096, 0xfff0), (0, 0xfe00), (4500, 0xfffe),
              (32768, 0x8000), (80, 0xfff0)]


def prefix(addr, plen):
    net = ipaddress.ip_network("%s/%d" % (addr, plen), strict=False)
    return str(net)


def any_addr(family):
    return "0.0.0.0/0" if family == 4 else "::/0"


def host_plen(family):
    return 32 if family == 4 else 128


def gen_src(rng, family):
    r = rng.random()
    if r < 0.3:
        return any_addr(family)
    a = lab.lan_src(rng, family)
    if r < 0.6:
        plens = [24, 25, 26, 27, 28, 30] if family == 4 else \
            [64, 120, 122, 124, 126]
        return prefix(a, rng.choice(plens))
    return prefix(a, host_plen(family))


def gen_dst(rng, family, direction):
    r = rng.random()
    if r < 0.25:
        return any_addr(family)
    if direction == "in" and rng.random() < 0.8:
        a = rng.choice(lab.GW_LOCAL4 if family == 4 else lab.GW_LOCAL6)
        plen = host_plen(family) if r < 0.7 else \
            (24 if family == 4 else 64)
        return prefix(a, plen)
    a = lab.wan_dst(rng, family)
    if r < 0.5:
        return prefix(a, host_plen(family))
    plens = [16, 24, 25, 28] if family == 4 else [48, 64, 116, 120]
    return prefix(a, rng.choice(plens))


def gen_upspec(rng, family):
    r = rng.random()
    if r < 0.4:
        return ""
    if r < 0.85:
        words = ["proto", "udp" if r < 0.65 else "tcp"]
        for name in ("sport", "dport"):
            if rng.random() < 0.45:
                words += [name, str(rng.choice(lab.PORTS))]
        return " ".join(words)
    words = ["proto", "icmp" if family == 4 else "ipv6-icmp"]
    t, c = rng.choice(lab.ICMP4_TYPES if family == 4 else lab.ICMP6_TYPES)
    if rng.random() < 0.6:
        words += ["type", str(t)]
    if rng.random() < 0.3:
        words += ["code", str(c)]
    return " ".join(words)


def gen_tmpl(rng, family, optional, direction):
    level = "use" if optional else "required"
    # The kernel refuses optional tunnel-mode templates on OUT policies.
    if rng.random() < 0.5 or (optional and direction == "out"):
        return "tmpl proto esp mode transport reqid %d level %s" % (
            rng.randint(1, 9), level)
    if family == 4:
        src, dst = "198.51.100.1", "198.51.100.200"
    else:
        src, dst = "2001:db8:2::1", "2001:db8:2::c8"
    return "tmpl src %s dst %s proto esp mode tunnel reqid %d level %s" % (
        src, dst, rng.randint(1, 9), level)


def gen_policy(rng):
    r = rng.random()
    direction = "in" if r < 0.4 else ("fwd" if r < 0.85 else "out")
    family = rng.choice((4, 6))
    words = ["xfrm policy update src", gen_src(rng, family),
             "dst", gen_dst(rng, family, direction)]
    if rng.random() < 0.05:
        words += ["dev", rng.choice(DEVS)]
    up = gen_upspec(rng, family)
    if up:
        words.append(up)
    words += ["dir", direction]
    if rng.random() < 0.12:
        words += ["ptype", "sub"]
    if rng.random() < 0.1:
        words.append(rng.choice(MARKS))
    if rng.random() < 0.08:
        words += ["if_id", "7"]
    words += ["priority", str(rng.choice(PRIORITIES + [rng.randint(0, 3000)]))]
    r = rng.random()
    if r < 0.25:
        words += ["action", "block"]
    elif r < 0.55:
        words.append(gen_tmpl(rng, family, False, direction))
        if rng.random() < 0.2:
            words.append(gen_tmpl(rng, family, True, direction))
    elif r < 0.7:
        words.append(gen_tmpl(rng, family, True, direction))
    return " ".join(words)


def gen_masked(rng):
    family = rng.choice((4, 6))
    direction = rng.choice(("in", "fwd"))
    src = gen_src(rng, family)
    dst = gen_dst(rng, family, direction)
    v, m = rng.choice(PORT_MASKS)
    spec = ["src=%s" % src, "dst=%s" % dst,
            "proto=%d" % rng.choice((6, 17)),
            "%s=0x%x/0x%x" % (rng.choice(("sport", "dport")), v, m),
            "dir=%s" % direction,
            "priority=%d" % rng.choice(PRIORITIES),
            "action=%s" % rng.choice(("allow", "block"))]
    return " ".join(spec)


def masked_identity(spec):
    """What the kernel tells two policies apart by: all but priority and
    action (xfrm_policy_insert_list()). A second spec of the same identity
    would be refused (EEXIST: they are added with NLM_F_EXCL)."""
    return tuple(w for w in spec.split()
                 if not w.startswith(("priority=", "action=")))


def distinct(specs):
    """specs without those whose identity came before."""
    seen = set()
    out = []
    for spec in specs:
        if masked_identity(spec) not in seen:
            seen.add(masked_identity(spec))
            out.append(spec)
    return out


def gen_defaults(rng):
    return "xfrm policy setdefault in %s fwd %s out %s" % (
        "block" if rng.random() < 0.2 else "accept",
        "block" if rng.random() < 0.2 else "accept",
        "block" if rng.random() < 0.08 else "accept")


def gen_sysctls(seed):
    """disable_policy on gw's veths (a separate generator: adding it kept
    older seeds' SPDs). The lan side is where packets arrive; the wan side
    is where forwarded ones leave, and IPv6 takes the flag from the
    route's device."""
    rng = random.Random("sysctl-%d" % seed)
    return ["net.ipv%d.conf.%s.disable_policy=%d" % (
        v, dev, 1 if rng.random() < 0.15 else 0)
        for dev in (lab.GW_LAN_IF, lab.GW_WAN_IF) for v in (4, 6)]


def main():
    if len(sys.argv) != 3:
        print("usage: spdgen.py SEED PREFIX", file=sys.stderr)
        return 2
    seed = int(sys.argv[1])
    rng = random.Random("spd-%d" % seed)
    lines = [gen_defaults(rng)]
    lines += [gen_policy(rng) for _ in range(rng.randint(5, 40))]
    masked = distinct([gen_masked(rng) for _ in range(rng.randint(0, 3))])
    with open(sys.argv[2] + ".batch", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(sys.argv[2] + ".nl", "w") as f:
        f.write("".join(m + "\n" for m in masked))
    sysctls = gen_sysctls(seed)
    with open(sys.argv[2] + ".sysctl", "w") as f:
        f.write("".join(c + "\n" for c in sysctls))
    pols = lines[1:]
    feats = ["%d %s" % (sum(1 for p in pols if w in p), n) for w, n in (
        ("dir in", "in"), ("dir fwd", "fwd"), ("dir out", "out"),
        ("action block", "block"), ("level required", "required tmpl"),
        ("level use", "optional tmpl"), ("ptype sub", "sub"),
        (" mark ", "mark"), ("if_id", "if_id"), (" dev ", "dev"))]
    print("%d policies (%s), %d with port masks, %s, disable_policy "
          "lan v4 %s v6 %s, wan v4 %s v6 %s" % (
              len(pols), ", ".join(feats), len(masked),
              lines[0][len("xfrm policy "):],
              *(c[-1] for c in sysctls)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
