#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Stage 2 of the kernel lab: PID 1 inside the guest, started by the
# initramfs with the host's bash from the shared root. The root is the
# host's, read-only over 9p with a RAM overlay on top, so every write stays
# in guest memory. scripts/vm/run.sh hands over, in the per-run directory
# mounted at /out: cmd (the script to run), env (exports), cwd; it reads
# back rc and dmesg. The console (ttyS0) is the command's stdout/stderr.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LC_ALL=C.UTF-8
# shellcheck source=guest-cmd.sh
. "$(dirname "$0")/guest-cmd.sh"

cmdline_arg() {
	tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"
}

# The power-off runs asynchronously and takes the 9p root away: wait with
# a shell builtin on a FIFO, since nothing can be exec'd from then on.
power_off() {
	dmesg -n 1
	sync
	mkfifo /run/xbvm-idle 2>/dev/null
	echo o >/proc/sysrq-trigger
	read -r -t 10 <>/run/xbvm-idle
}

# The host's /run (daemons' sockets, netns pins) must not show through the
# overlay; the host's /tmp may (scripts handed to run.sh live there), and
# whatever the guest writes there stays in guest RAM.
mount_guest_fs() {
	mount -t tmpfs -o mode=0755 run /run
	mkdir -p /run/netns /run/lock
	mkdir -p /dev/pts /dev/shm
	# devtmpfs lacks the links bash needs for <(...) and >(...).
	ln -sfn /proc/self/fd /dev/fd
	ln -sfn /proc/self/fd/0 /dev/stdin
	ln -sfn /proc/self/fd/1 /dev/stdout
	ln -sfn /proc/self/fd/2 /dev/stderr
	mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t bpf bpf /sys/fs/bpf
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
	mkdir -p /out
	mount -t 9p -o trans=virtio,version=9p2000.L,rw,cache=none,msize=512000 xbout /out
}

# modprobe looks in /lib/modules/$(uname -r): point it at the unpacked
# kernel package in the lab's cache (visible through the shared root).
link_modules() {
	local kdir kver

	kdir=$(cmdline_arg xbvm.kdir)
	kver=$(uname -r)
	mkdir -p /lib/modules
	ln -sfn "$kdir/kroot/lib/modules/$kver" "/lib/modules/$kver"
}

main() {
	local rc

	mount_guest_fs || { echo "xbvm: cannot mount /out"; power_off; }
	link_modules
	hostname xbvm
	ip link set lo up

	echo "=== xbvm: kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s ==="
	xbvm_run_cmd
	rc=$?
	xbvm_report "$rc"
	power_off
}

main
