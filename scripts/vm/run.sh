#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Boots one kernel-lab VM (Debian's stock kernel under QEMU, see setup.sh),
# runs COMMAND [ARG...] in it as root with the host's root filesystem
# visible read-only (writes land in guest RAM), prints the guest console and
# exits with the command's exit status.
#
#   usage: run.sh [-t SECONDS] [-k] [-S] [--] COMMAND [ARG...]
#          run.sh tests/vm/scenarios/esp_tunnel.sh   (a script runs with bash)
#
#   -t SECONDS   kill the VM after this long (default $XB_VM_TIMEOUT or 600)
#   -k           keep the per-run directory (console, dmesg) and print its path
#   -S           boot the clean Debian 12 image with systemd as PID 1
#                (scripts/vm/sysroot.sh) instead of the host's root; the
#                command runs as a service once the system is up, the
#                host's root is at /host and $TOP at its own path; the
#                guest's journal is left in the run directory (with -k)
#
# Environment: XB_VM_KERNEL (6.1 or 6.12, scripts/vm/kernel.sh), XB_VM_DIR
# (cache, by default the kernel's), XB_VM_MEM (1G), XB_VM_CPUS (2),
# XB_VM_APPEND (extra kernel arguments), XB_VM_ENV (names of extra
# variables to pass in). TOP, XFRMBPF, V, XB_*, CMOCKA_*, ASAN_OPTIONS and
# UBSAN_OPTIONS are passed in as they are.
#
# Exit status: the command's; 124 when the VM timed out (hang), 125 when no
# status came back (boot failure or kernel panic), 123 when the command
# passed but the kernel logged a BUG/WARNING/Oops.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/kernel.sh"
xbvm_kernel_env || exit 2
VM_DIR=$XB_VM_DIR
TIMEOUT=${XB_VM_TIMEOUT:-600}
KEEP=0
SYSTEMD=0
RUN_DIR=
QEMU_PID=

usage() {
	sed -n 's/^#   usage: //p; s/^#          /         /p' "$0" >&2
	exit 2
}

cleanup() {
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill "$QEMU_PID" 2>/dev/null
		wait "$QEMU_PID" 2>/dev/null
	fi
	if [ -n "$RUN_DIR" ] && [ "$KEEP" -eq 0 ]; then
		rm -rf "$RUN_DIR"
	fi
}

# The guest gets these variables as they are on the host.
write_env() {
	local v

	for v in $(compgen -e | grep -E '^(TOP|XFRMBPF|V|XB_.*|CMOCKA_.*|ASAN_OPTIONS|UBSAN_OPTIONS)$') \
		${XB_VM_ENV:-}; do
		[ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
	done
}

# The command as a bash script; a plain script file is run with bash.
write_cmd() {
	if [ -f "$1" ] && [ ! -x "$1" ]; then
		set -- bash "$@"
	fi
	printf '%q ' "$@"
	echo
}

boot() {
	local kdir=$1 kernel qrc root=/ init=$HERE/guest-init.sh host=()

	kernel=$kdir/vmlinux
	[ -f "$kernel" ] || kernel=$kdir/bzImage
	if [ "$SYSTEMD" -eq 1 ]; then
		root=$(readlink -f "${XB_VM_SYSROOT_DIR:-/var/cache/xfrmbpf/sysroot}/current")
		init=/usr/local/lib/xbvm/init
		host=(-virtfs local,path=/,mount_tag=xbhost,security_model=none,readonly=on,multidevs=remap)
	fi
	# The console goes to a file that the host follows: QEMU then never
	# blocks on our stdout and needs no terminal.
	timeout -k 5 "$TIMEOUT" qemu-system-x86_64 \
		-machine q35,accel=tcg -cpu max -smp "${XB_VM_CPUS:-2}" -m "${XB_VM_MEM:-1G}" \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-serial "file:$RUN_DIR/console" \
		-kernel "$kernel" -initrd "$kdir/initramfs.cpio.gz" \
		-append "console=ttyS0 quiet loglevel=4 panic=-1 mitigations=off xbvm.init=$init xbvm.kdir=$kdir ${XB_VM_APPEND:-}" \
		-virtfs local,path="$root",mount_tag=xbroot,security_model=none,readonly=on,multidevs=remap \
		"${host[@]}" \
		-virtfs local,path="$RUN_DIR",mount_tag=xbout,security_model=none,multidevs=remap \
		</dev/null >"$RUN_DIR/qemu.log" 2>&1 &
	QEMU_PID=$!
	# In the background too: bash runs a trap (SIGTERM from a test runner)
	# only once the foreground job ends, and `wait` ends at once.
	tail -n +1 -s 0.2 --pid="$QEMU_PID" -f "$RUN_DIR/console" 2>/dev/null | tr -d '\r' |
		grep --line-buffered -vE '^\[ *[0-9.]+\] (sysrq: Power Off|reboot: Power down)$' &
	wait "$QEMU_PID"
	qrc=$?
	wait $!
	return "$qrc"
}

main() {
	local opt kdir qrc rc

	while getopts t:kSh opt; do
		case $opt in
		t) TIMEOUT=$OPTARG ;;
		k) KEEP=1 ;;
		S) SYSTEMD=1 ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	[ "$(id -u)" -eq 0 ] || { echo "vm-run: needs root" >&2; exit 2; }

	bash "$HERE/setup.sh" -q || exit 125
	if [ "$SYSTEMD" -eq 1 ]; then
		bash "$HERE/sysroot.sh" -q || exit 125
	fi
	kdir=$(readlink -f "$VM_DIR/current")

	trap cleanup EXIT
	trap 'exit 130' INT TERM
	RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xbvm-run.XXXXXX")
	write_env >"$RUN_DIR/env"
	write_cmd "$@" >"$RUN_DIR/cmd"
	pwd >"$RUN_DIR/cwd"
	touch "$RUN_DIR/console"

	boot "$kdir"
	qrc=$?
	QEMU_PID=
	[ "$KEEP" -eq 1 ] && echo "vm-run: run directory $RUN_DIR" >&2
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		echo "vm-run: the VM timed out after ${TIMEOUT}s" >&2
		return 124
	fi
	if [ ! -s "$RUN_DIR/rc" ]; then
		echo "vm-run: no exit status from the guest (boot failure or panic, qemu rc=$qrc)" >&2
		sed 's/^/vm-run: qemu: /' "$RUN_DIR/qemu.log" >&2
		return 125
	fi
	rc=$(cat "$RUN_DIR/rc")
	if [ "$rc" -eq 0 ] && [ -e "$RUN_DIR/kernel-trouble" ]; then
		echo "vm-run: the command passed but the kernel complained (see above)" >&2
		return 123
	fi
	return "$rc"
}

main "$@"
