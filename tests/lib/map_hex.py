#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The raw bytes of pinned BPF maps, for the kernel lab's key-leak scan.

  map_hex.py [--out-dir DIR] PIN...
      For each pinned map, its keys' and values' bytes (a per-CPU map's
      value of every possible CPU in turn) as lines of lower-case hex
      without separators: a line per batch of keys and one of values
      where the map has batch lookups, else a line per entry, key then
      value. On stderr one line per pin, "NAME ENTRIES", "NAME not a
      map" (a pinned program or link), or "NAME unreadable: WHY" for a
      map that has no entries to read (a ring buffer) or refuses lookups
      from userspace. With --out-dir, the N-th PIN's lines go to
      DIR/map.N.hex (from 1) instead of stdout: one interpreter for all
      the maps (its start-up took ~2 s a map under the lab's emulated CPU).

The maps are read with the bpf() syscall, whole maps in batches where the
map type has batch lookups, one key at a time where it has not: bpftool's
JSON of the same bytes is seven times their size, and under the lab's
emulated CPU it took 82 s to write and 79 s to scan for the datapath's
flow cache and presence filter (a few MB of raw bytes).
"""
import ctypes
import os
import platform
import struct
import sys

# bpf(2)'s number: the generic table (arm64, riscv64) or the arch's own.
NR_BPF_BY_MACHINE = {
    "x86_64": 321,
    "aarch64": 280,
    "riscv64": 280,
    "ppc64le": 361,
    "s390x": 351,
}
NR_BPF = NR_BPF_BY_MACHINE.get(platform.machine())
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_GET_NEXT_KEY = 4
BPF_OBJ_GET = 7
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_MAP_LOOKUP_BATCH = 24
# BPF_MAP_TYPE_PERCPU_HASH, _PERCPU_ARRAY, _LRU_PERCPU_HASH,
# _PERCPU_CGROUP_STORAGE: a value per possible CPU, each 8-byte aligned
PERCPU_TYPES = {5, 6, 10, 21}
ATTR_SIZE = 128
BATCH = 4096

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class BpfError(OSError):
    """A failed bpf(); attr holds what the kernel wrote back."""

    def __init__(self, err, attr):
        # 524: the kernel's ENOTSUPP, which libc has no name for
        super().__init__(err, "not supported" if err == 524 else os.strerror(err))
        self.attr = attr


def bpf(cmd, attr):
    """bpf(cmd, attr): the attribute buffer afterwards (the kernel writes
    some fields back); BpfError on failure."""
    buf = ctypes.create_string_buffer(attr, ATTR_SIZE)
    ret = libc.syscall(ctypes.c_long(NR_BPF), ctypes.c_int(cmd), buf,
                       ctypes.c_uint(ATTR_SIZE))
    if ret < 0:
        raise BpfError(ctypes.get_errno(), buf.raw)
    return ret, buf.raw


def addr(buf):
    return ctypes.addressof(buf) if buf is not None else 0


def possible_cpus():
    n = 0
    with open("/sys/devices/system/cpu/possible") as f:
        for part in f.read().strip().split(","):
            lo, _, hi = part.partition("-")
            n += int(hi or lo) - int(lo) + 1
    return n


class NotAMap(Exception):
    pass


def open_map(path):
    """(fd, key size, value size per entry); NotAMap for a pinned
    program or link."""
    name = ctypes.create_string_buffer(path.encode())
    fd, _ = bpf(BPF_OBJ_GET, struct.pack("=QII", addr(name), 0, 0))
    with open(f"/proc/self/fdinfo/{fd}") as f:
        if "\nmap_type:" not in f.read():
            os.close(fd)
            raise NotAMap()
    info = ctypes.create_string_buffer(256)
    bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("=IIQ", fd, len(info), addr(info)))
    mtype, _, key_size, value_size = struct.unpack_from("=4I", info.raw)
    if mtype in PERCPU_TYPES:
        value_size = (value_size + 7) // 8 * 8 * possible_cpus()
    return fd, key_size, value_size


def batches(fd, key_size, value_size):
    """Every entry, by BPF_MAP_LOOKUP_BATCH, as (count, keys' bytes,
    values' bytes) per batch; OSError when the map type has none (before
    any batch is returned)."""
    token = max(key_size, 8)
    in_batch = None
    out_batch = ctypes.create_string_buffer(token)
    keys = ctypes.create_string_buffer(BATCH * key_size)
    values = ctypes.create_string_buffer(BATCH * value_size)
    while True:
        attr = struct.pack("=QQQQIIQQ", addr(in_batch), addr(out_batch), addr(keys),
                           addr(values), BATCH, fd, 0, 0)
        try:
            _, back = bpf(BPF_MAP_LOOKUP_BATCH, attr)
            done = False
        except BpfError as e:
            if e.errno != 2:		# ENOENT: the last batch
                raise
            back, done = e.attr, True
        count = struct.unpack_from("=I", back, 32)[0]
        if count:
            yield count, keys.raw[:count * key_size], values.raw[:count * value_size]
        if done:
            return
        in_batch = ctypes.create_string_buffer(out_batch.raw, token)


def entries_by_key(fd, key_size, value_size):
    """Every (key, value), one BPF_MAP_GET_NEXT_KEY and lookup each."""
    key = None
    next_key = ctypes.create_string_buffer(key_size)
    value = ctypes.create_string_buffer(value_size)
    while True:
        try:
            bpf(BPF_MAP_GET_NEXT_KEY, struct.pack("=IIQQ", fd, 0, addr(key), addr(next_key)))
        except OSError as e:
            if e.errno == 2:
                return
            raise
        key = ctypes.create_string_buffer(next_key.raw, key_size)
        try:
            bpf(BPF_MAP_LOOKUP_ELEM, struct.pack("=IIQQQ", fd, 0, addr(key), addr(value), 0))
        except OSError as e:
            if e.errno == 2:		# deleted meanwhile
                continue
            raise
        yield key.raw, value.raw


def dump(path, out):
    name = os.path.basename(path)
    try:
        fd, key_size, value_size = open_map(path)
    except NotAMap:
        print(f"{name} not a map", file=sys.stderr)
        return
    except OSError as e:
        print(f"{name} unreadable: {e.strerror}", file=sys.stderr)
        return
    n = 0
    try:
        try:
            # a batch as two lines, its keys and its values: a window
            # across two entries could only make a scan fail, never pass
            for count, keys, values in batches(fd, key_size, value_size):
                out.write(keys.hex() + "\n" + values.hex() + "\n")
                n += count
        except OSError:
            if n:
                raise
            for k, v in entries_by_key(fd, key_size, value_size):
                out.write(k.hex() + v.hex() + "\n")
                n += 1
    except OSError as e:
        print(f"{name} unreadable: {e.strerror}", file=sys.stderr)
        return
    finally:
        os.close(fd)
    print(f"{name} {n}", file=sys.stderr)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if NR_BPF is None:
        sys.exit("map_hex.py: bpf(2)'s syscall number on %s is not known here"
                 % platform.machine())
    args = sys.argv[1:]
    if args[0] == "--out-dir":
        if len(args) < 3:
            sys.exit(__doc__)
        for i, path in enumerate(args[2:], 1):
            with open(os.path.join(args[1], f"map.{i}.hex"), "w") as out:
                dump(path, out)
        return
    for path in args:
        dump(path, sys.stdout)


if __name__ == "__main__":
    main()
