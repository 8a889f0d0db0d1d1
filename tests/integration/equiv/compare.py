#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Compares the two halves of a kernel-equivalence round.

  compare.py ROUND WITHOUT.json WITH.json COUNT [STATS-BEFORE STATS-AFTER]

Differences (exit 1):
  lost       the kernel alone delivered or forwarded it, with xfrmbpf it
             did not arrive
  bad-drop   xfrmbpf dropped it, the kernel alone did not drop it (it
             arrived, or no XfrmIn* counter moved for it)
  gained     it arrived with xfrmbpf, not without (the lab is not
             deterministic: the comparison means nothing)
  unseen     xfrmbpf's counters did not count exactly one verdict for it
             (per-packet attribution broken: the comparison means nothing)
  stats      `xfrmbpf stats -j` (deltas over the run) disagrees with the
             per-packet reads of the same counters
Notes (printed, not failures): an xfrmbpf drop reason whose kernel counter
is not the expected one.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402
from send import DROP_REASONS  # noqa: E402

# The kernel counter each xfrmbpf drop reason stands for.
EXPECTED = {"policy_block": "XfrmInPolBlock",
            "policy_requires_ipsec": "XfrmInTmplMismatch",
            "default_block": "XfrmInNoPols",
            "unknown_spi": "XfrmInNoStates"}


def load(path):
    with open(path) as f:
        doc = json.load(f)
    return doc, {r["id"]: r for r in doc["packets"]}


def xdp_drop(rec):
    got = [n for n in DROP_REASONS if rec["xdp"].get(n)]
    return got[0] if got else None


def kernel_in_counters(rec):
    return sorted(k for k in rec["xfrm"] if k.startswith("XfrmIn"))


def fmt_counts(d):
    return " ".join("%s=%d" % kv for kv in sorted(d.items())) or "-"


def compare(pkts, wo, wi):
    diffs, notes = [], []
    for p in pkts:
        a, b = wo[p["id"]], wi[p["id"]]
        drop = xdp_drop(b)
        seen = sum(b["xdp"].values())
        kin = kernel_in_counters(a)
        line = "%s: without %s %s, with %s %s, xdp %s" % (
            lab.describe(p), ",".join(a["where"]) or "dropped",
            fmt_counts(a["xfrm"]), ",".join(b["where"]) or "dropped",
            fmt_counts(b["xfrm"]), fmt_counts(b["xdp"]))
        kinds = []
        if seen != 1:
            kinds.append("unseen")
        if a["where"] and not b["where"]:
            kinds.append("lost")
        if b["where"] and not a["where"]:
            kinds.append("gained")
        if drop and (a["where"] or not kin):
            kinds.append("bad-drop")
        elif drop and EXPECTED[drop] not in kin:
            notes.append("reason %s, kernel %s: %s" % (
                drop, ",".join(kin), line))
        if kinds:
            diffs.append("%s %s" % ("+".join(kinds), line))
    return diffs, notes


def stats_packets(path):
    with open(path) as f:
        doc = json.load(f)
    return {n: v["packets"] for n, v in doc["reasons"].items()}


def check_stats(before, after, wi):
    """`xfrmbpf stats -j` over the run must count exactly the drops the
    per-packet reads attributed, and one verdict per packet."""
    b, a = stats_packets(before), stats_packets(after)
    diffs = []
    for n in DROP_REASONS:
        per_pkt = sum(1 for r in wi.values() if r["xdp"].get(n))
        if a[n] - b[n] != per_pkt:
            diffs.append("stats %s: xfrmbpf stats -j counted %d, the "
                         "per-packet reads %d" % (n, a[n] - b[n], per_pkt))
    total = sum(a.values()) - sum(b.values())
    if total != len(wi):
        diffs.append("stats: %d verdicts for %d packets" % (total, len(wi)))
    return diffs


def summary(rnd, pkts, wo_doc, wo, wi_doc, wi):
    n_local = sum(1 for p in pkts if p["local"])
    drops = {}
    for r in wi.values():
        d = xdp_drop(r)
        if d:
            drops[d] = drops.get(d, 0) + 1
    # What the kernel dropped and xfrmbpf left to it, by the counter that
    # moved: passes are never wrong, but they show what is not decided.
    k_only = {}
    for p in pkts:
        if not wo[p["id"]]["where"] and not xdp_drop(wi[p["id"]]):
            why = ",".join(sorted(wo[p["id"]]["xfrm"])) or "no-counter"
            k_only[why] = k_only.get(why, 0) + 1
    print("# round %d seed %d: %d packets (%d local, %d forwarded); "
          "delivered without %d, with %d; xfrmbpf drops: %s; "
          "kernel-only drops %d (%s)" % (
              rnd, wo_doc["seed"], len(pkts), n_local, len(pkts) - n_local,
              sum(1 for r in wo.values() if r["where"]),
              sum(1 for r in wi.values() if r["where"]),
              " ".join("%s=%d" % (n, drops.get(n, 0)) for n in DROP_REASONS),
              sum(k_only.values()), fmt_counts(k_only)))
    # IKE the SPD refuses (the raw sockets lost it) that the kernel still
    # delivered to the IKE sockets through their bypass policies.
    ike = sum(1 for r in wo.values() if r["where"]
              and all(w.startswith("ike") for w in r["where"]))
    ike_with = sum(1 for r in wi.values() if r["where"]
                   and all(w.startswith("ike") for w in r["where"]))
    print("#   IKE delivered only through socket bypass policies: without %d,"
          " with %d" % (ike, ike_with))
    print("#   gw xfrm_stat without: %s" % fmt_counts(wo_doc["xfrm_total"]))
    print("#   gw xfrm_stat with:    %s" % fmt_counts(wi_doc["xfrm_total"]))


def main():
    if len(sys.argv) not in (5, 7):
        print("usage: compare.py ROUND WITHOUT.json WITH.json COUNT "
              "[STATS-BEFORE STATS-AFTER]", file=sys.stderr)
        return 2
    rnd = int(sys.argv[1])
    wo_doc, wo = load(sys.argv[2])
    wi_doc, wi = load(sys.argv[3])
    pkts = lab.gen_packets(wo_doc["seed"], int(sys.argv[4]))
    summary(rnd, pkts, wo_doc, wo, wi_doc, wi)
    diffs, notes = compare(pkts, wo, wi)
    if len(sys.argv) == 7:
        diffs += check_stats(sys.argv[5], sys.argv[6], wi)
    for n in notes:
        print("#   note: " + n)
    if os.environ.get("EQUIV_VERBOSE"):
        for p in pkts:
            a, b = wo[p["id"]], wi[p["id"]]
            if not a["where"] and not xdp_drop(b):
                print("#   kernel-only drop %s: kernel %s, xdp %s" % (
                    lab.describe(p), fmt_counts(a["xfrm"]),
                    fmt_counts(b["xdp"])))
    for d in diffs:
        print("#   DIFF " + d)
    print("#   differences: %d" % len(diffs))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
