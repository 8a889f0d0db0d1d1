#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Sender of the kernel-equivalence lab (runs in lan).

Sends the packet set of SEED one frame at a time on the lan veth and, per
packet, records what happened to it: the receivers' logs (delivered in gw,
forwarded to wan), the deltas of gw's /proc/PID/net/xfrm_stat and, when
--pin-dir is given, the deltas of xfrmbpf's per-reason counters (read from
the pinned map with the bpf syscall). It waits for one of these to move
before sending the next packet, so every counter delta belongs to one
packet. Writes one JSON document to --out.
"""
import argparse
import ctypes
import errno
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402

NR_BPF = 321                    # x86_64
BPF_OBJ_GET = 7
BPF_MAP_LOOKUP_BATCH = 24
DROP_REASONS = ("unknown_spi", "policy_block", "policy_requires_ipsec",
                "default_block")
WAIT_S = 0.05                   # a packet that moves nothing at all
SETTLE_S = 0.001                # counters of the same packet still moving


class BpfAttrObjGet(ctypes.Structure):
    _fields_ = [("pathname", ctypes.c_uint64), ("bpf_fd", ctypes.c_uint32),
                ("file_flags", ctypes.c_uint32)]


class BpfAttrBatch(ctypes.Structure):
    _fields_ = [("in_batch", ctypes.c_uint64), ("out_batch", ctypes.c_uint64),
                ("keys", ctypes.c_uint64), ("values", ctypes.c_uint64),
                ("count", ctypes.c_uint32), ("map_fd", ctypes.c_uint32),
                ("elem_flags", ctypes.c_uint64), ("flags", ctypes.c_uint64)]


LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    ret = LIBC.syscall(NR_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, "bpf(%d): %s" % (cmd, os.strerror(err)))
    return ret


def possible_cpus():
    with open("/sys/devices/system/cpu/possible") as f:
        text = f.read().strip()
    n = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def reason_names(header):
    """enum xb_reason in order, from the one definition in include/."""
    with open(header) as f:
        return re.findall(r'X\(XB_R_\w+,\s*"(\w+)"\)', f.read())


def stats_rows(reasons_h):
    """Rows of xb_stats: XB_MAX_IFACES devices, others, retired
    (include/xfrmbpf/datapath.h), with XB_MAX_IFACES from limits.h."""
    with open(os.path.join(os.path.dirname(reasons_h), "limits.h")) as f:
        return int(re.search(r"#define XB_MAX_IFACES\s+(\d+)",
                             f.read()).group(1)) + 2


class ReasonCounters:
    """Packets per reason, summed over rows and CPUs, from the pinned
    per-CPU array xb_stats (struct xb_counter {packets, bytes}, key
    row * XB_R_MAX + reason), read in one batch lookup."""

    def __init__(self, pin_dir, names, rows):
        path = ctypes.create_string_buffer(
            os.path.join(pin_dir, "xb_stats").encode())
        attr = BpfAttrObjGet(pathname=ctypes.addressof(path))
        self.fd = bpf(BPF_OBJ_GET, attr)
        self.names = names
        self.ncpu = possible_cpus()
        self.entries = rows * len(names)
        self.val = (ctypes.c_uint64 * (2 * self.ncpu * self.entries))()
        self.keys = (ctypes.c_uint32 * self.entries)()
        self.out_batch = ctypes.c_uint32()

    def read(self):
        attr = BpfAttrBatch(keys=ctypes.addressof(self.keys),
                            values=ctypes.addressof(self.val),
                            out_batch=ctypes.addressof(self.out_batch),
                            count=self.entries, map_fd=self.fd)
        try:
            bpf(BPF_MAP_LOOKUP_BATCH, attr)
        except OSError as e:
            if e.errno != errno.ENOENT:     # ENOENT: the end, all read
                raise
        if attr.count != self.entries:
            raise OSError(errno.EIO, "xb_stats: %d of %d entries"
                          % (attr.count, self.entries))
        packets = self.val[0::2]
        out = dict.fromkeys(self.names, 0)
        n = len(self.names)
        for k in range(self.entries):
            out[self.names[k % n]] += sum(
                packets[k * self.ncpu:(k + 1) * self.ncpu])
        return out


def read_xfrm_stat(path):
    out = {}
    with open(path) as f:
        for line in f:
            name, val = line.split()
            out[name] = int(val)
    return out


def deltas(before, after):
    return {k: after[k] - before.get(k, 0) for k in after
            if after[k] != before.get(k, 0)}


class Logs:
    """Receiver logs, read incrementally: {(tag, id): [where, ...]}."""

    def __init__(self, paths):
        self.files = [open(p) for p in paths]
        self.pending = ["" for _ in paths]
        self.seen = {}

    def poll(self):
        for i, f in enumerate(self.files):
            self.pending[i] += f.read()
            *lines, self.pending[i] = self.pending[i].split("\n")
            for line in lines:
                tag, pid, where = line.split()
                self.seen.setdefault((int(tag), int(pid)), []).append(where)


def mac_of(ifname):
    with open("/sys/class/net/%s/address" % ifname) as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def send_one(sock, frame, key, logs, xstat, counters):
    """Send one frame; return (xfrm_stat deltas, xdp reason deltas)."""
    x0 = read_xfrm_stat(xstat)
    r0 = counters.read() if counters else {}
    sock.send(frame)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        logs.poll()
        if key in logs.seen or read_xfrm_stat(xstat) != x0:
            break
        if counters and any(counters.read()[n] != r0.get(n)
                            for n in DROP_REASONS if n in r0):
            break
    time.sleep(SETTLE_S)
    xd = deltas(x0, read_xfrm_stat(xstat))
    rd = deltas(r0, counters.read()) if counters else {}
    return xd, rd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--tag", type=int, required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--xfrm-stat", required=True,
                    help="/proc/PID/net/xfrm_stat of a process in gw")
    ap.add_argument("--logs", required=True, help="receiver logs, comma")
    ap.add_argument("--pin-dir", help="xfrmbpf pins: per-packet reasons")
    ap.add_argument("--reasons-h", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    counters = None
    if args.pin_dir:
        counters = ReasonCounters(args.pin_dir, reason_names(args.reasons_h),
                                  stats_rows(args.reasons_h))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((lab.LAN_IF, 0))
    src_mac = mac_of(lab.LAN_IF)
    dst_mac = bytes.fromhex(args.dst_mac.replace(":", ""))
    logs = Logs(args.logs.split(","))
    x_start = read_xfrm_stat(args.xfrm_stat)
    results = []
    for p in lab.gen_packets(args.seed, args.count):
        xd, rd = send_one(sock, lab.frame(p, args.tag, src_mac, dst_mac),
                          (args.tag, p["id"]), logs, args.xfrm_stat,
                          counters)
        results.append({"id": p["id"], "xfrm": xd, "xdp": rd})
    time.sleep(0.2)
    logs.poll()
    for r in results:
        r["where"] = sorted(set(logs.seen.get((args.tag, r["id"]), [])))
    doc = {"seed": args.seed, "tag": args.tag, "xdp": counters is not None,
           "xfrm_total": deltas(x_start, read_xfrm_stat(args.xfrm_stat)),
           "packets": results}
    with open(args.out, "w") as f:
        json.dump(doc, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
