#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""One packet-shape round of the kernel-equivalence lab (runs in lan).

Two identical gateways hang off lan: X (xfrmbpf attached to its lan
veth) and K (the kernel alone). Every frame of the round's packets
(shapes.py) is written on both lan veths, then each packet's fate is read
from the receivers of its lab (recvx.py: delivered to which gw socket,
forwarded to wan, which fragment). A packet whose fate with xfrmbpf is not
its fate without is a difference: printed with the environment, both
fates and every frame in hex, then replayed alone into both labs for the
xfrmbpf reason and the kernel's xfrm_stat counters that moved for it.
Also a difference: xfrmbpf's counters did not count one verdict per frame.
Exit 1 on any difference.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes  # noqa: E402
from send import (DROP_REASONS, ReasonCounters, deltas,  # noqa: E402
                  read_xfrm_stat, reason_names, stats_rows)
import socket  # noqa: E402

BURST = 40              # frames per lab between two short pauses
PAUSE_S = 0.002
QUIET_S = 0.4           # the logs stopped growing: the round is over
MAX_WAIT_S = 4.0
REPLAYS = 12            # differences replayed one by one


class Log:
    """A receiver log, read from the start: {(family, id): [(src, where)]}"""

    def __init__(self, path):
        self.f = open(path)
        self.pending = ""
        self.seen = {}
        self.lines = 0

    def poll(self):
        self.pending += self.f.read()
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            fam, pid, src, where = line.split()
            self.seen.setdefault((int(fam), int(pid)), []).append(
                (src, where))
        self.lines += len(lines)
        return len(lines)


def fate(p, logs):
    key = (p["family"], p["id"] & 0xffff if p["family"] == 4 else p["id"])
    out = set()
    for log in logs:
        for src, where in log.seen.get(key, []):
            if p["family"] == 6 or src == p["src"]:
                out.add(where)
    return sorted(out)


def fmt(f):
    return ",".join(f) or "dropped"


def wait_quiet(logs):
    deadline = time.monotonic() + MAX_WAIT_S
    last = time.monotonic()
    while time.monotonic() < deadline:
        if sum(log.poll() for log in logs):
            last = time.monotonic()
        elif time.monotonic() - last > QUIET_S:
            return
        time.sleep(0.02)


def open_sock(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    return s


def send_frames(socks, frames):
    n = 0
    for f in frames:
        for s in socks:
            s.send(f)
        n += 1
        if n % BURST == 0:
            time.sleep(PAUSE_S)


def replay(p, sx, sk, logs_x, logs_k, counters, xstat_x, xstat_k):
    """Both labs once more, this packet alone: what moved for it."""
    r0 = counters.read()
    x0, k0 = read_xfrm_stat(xstat_x), read_xfrm_stat(xstat_k)
    for f in p["frames"]:
        sk.send(f)
        sx.send(f)
    time.sleep(0.15)
    for log in logs_x + logs_k:
        log.poll()
    return (deltas(r0, counters.read()), deltas(x0, read_xfrm_stat(xstat_x)),
            deltas(k0, read_xfrm_stat(xstat_k)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--env", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--id-base", type=int, required=True)
    ap.add_argument("--lan-x", required=True, help="lan veth to gw X")
    ap.add_argument("--lan-k", required=True, help="lan veth to gw K")
    ap.add_argument("--logs-x", required=True, help="X's receiver logs")
    ap.add_argument("--logs-k", required=True, help="K's receiver logs")
    ap.add_argument("--xstat-x", required=True)
    ap.add_argument("--xstat-k", required=True)
    ap.add_argument("--pin-dir", required=True)
    ap.add_argument("--reasons-h", required=True)
    ap.add_argument("--spd", help="the round's SPD, printed with a diff")
    a = ap.parse_args()

    pkts = shapes.gen_packets(a.seed, a.env, a.count, a.id_base)
    counters = ReasonCounters(a.pin_dir, reason_names(a.reasons_h),
                              stats_rows(a.reasons_h))
    sx, sk = open_sock(a.lan_x), open_sock(a.lan_k)
    logs_x = [Log(p) for p in a.logs_x.split(",")]
    logs_k = [Log(p) for p in a.logs_k.split(",")]
    r0 = counters.read()
    x0, k0 = read_xfrm_stat(a.xstat_x), read_xfrm_stat(a.xstat_k)
    frames = [f for p in pkts for f in p["frames"]]
    t0 = time.monotonic()
    send_frames((sk, sx), frames)
    t_send = time.monotonic() - t0
    wait_quiet(logs_x + logs_k)
    r1 = counters.read()
    xd, kd = deltas(x0, read_xfrm_stat(a.xstat_x)), \
        deltas(k0, read_xfrm_stat(a.xstat_k))
    rd = deltas(r0, r1)

    diffs = []
    n_local = n_fwd = n_drop = 0
    for p in pkts:
        fx, fk = fate(p, logs_x), fate(p, logs_k)
        if not fk:
            n_drop += 1
        elif any(w.startswith("wan") for w in fk):
            n_fwd += 1
        else:
            n_local += 1
        if fx != fk:
            diffs.append((p, fx, fk))
    verdicts = sum(rd.values())
    print("# shapes %s (seed %d): %d packets, %d frames per lab sent in "
          "%.2fs; kernel: %d delivered, %d forwarded, %d dropped; "
          "xfrmbpf verdicts %d: %s" % (
              a.env, a.seed, len(pkts), len(frames), t_send, n_local, n_fwd,
              n_drop, verdicts, " ".join(
                  "%s=%d" % kv for kv in sorted(rd.items()))))
    print("#   xfrm_stat K: %s" % (" ".join(
        "%s=%d" % kv for kv in sorted(kd.items())) or "-"))
    print("#   xfrm_stat X: %s" % (" ".join(
        "%s=%d" % kv for kv in sorted(xd.items())) or "-"))
    bad = 0
    if verdicts != len(frames):
        print("#   DIFF counters: %d xfrmbpf verdicts for %d frames" % (
            verdicts, len(frames)))
        bad += 1
    spd = ""
    if diffs and a.spd:
        with open(a.spd) as f:
            spd = f.read()
    for i, (p, fx, fk) in enumerate(diffs):
        print("#   DIFF env %s %s: kernel %s, xfrmbpf %s" % (
            a.env, shapes.describe(p), fmt(fk), fmt(fx)))
        for j, fr in enumerate(p["frames"]):
            print("#     frame %d: %s" % (j, fr.hex()))
        if i < REPLAYS:
            xdp, xs, ks = replay(p, sx, sk, logs_x, logs_k, counters,
                                 a.xstat_x, a.xstat_k)
            print("#     replayed alone: xfrmbpf %s (drops: %s), "
                  "xfrm_stat X %s, K %s; now kernel %s, xfrmbpf %s" % (
                      " ".join("%s=%d" % kv for kv in sorted(xdp.items())),
                      ",".join(n for n in DROP_REASONS if xdp.get(n))
                      or "none",
                      " ".join("%s=%d" % kv for kv in sorted(xs.items()))
                      or "-",
                      " ".join("%s=%d" % kv for kv in sorted(ks.items()))
                      or "-", fmt(fate(p, logs_k)), fmt(fate(p, logs_x))))
    if diffs and spd:
        print("#   the round's SPD:")
        for line in spd.splitlines():
            print("#     " + line)
    bad += len(diffs)
    print("#   differences: %d" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
