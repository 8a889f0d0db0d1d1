#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The kernel-lab subset of `make test`: ONE boot of each of Debian 12's
# kernels (scripts/vm/kernel.sh: the stock 6.1 and 6.12; XB_VM_KERNEL=6.1
# or 6.12 boots only that one) runs the esp_tunnel, sa_mirror and
# bpf_fixtures scenarios in sequence. The kernels boot side by side, one
# VM each, and their TAP lines are relayed once both are done. The first
# run on a machine installs QEMU and downloads the kernels
# (scripts/vm/setup.sh); later runs reuse them. The datapath differential
# of bpf_fixtures runs at a fifth of its size here (200 random SPDs,
# realistic sets of 2,000 policies: each profile and family still, 0
# mismatches required): at full size it took 131 of bpf_fixtures' 228 s
# on 6.1; `make vmtest` runs it whole.
#   XB_VM_TIMEOUT   seconds before a VM counts as hung (default 720)
# A guest that stops before its first scenario starts (the emulated
# kernel panicked while booting, before anything of ours ran in it) is
# booted once more, right away, and says so; a failure once the
# scenarios run is never retried.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
cd "$TOP" || exit 1

SCENARIOS="esp_tunnel sa_mirror bpf_fixtures"
. scripts/vm/kernel.sh
case ${XB_VM_KERNEL:-all} in
all)	KERNELS=$XB_VM_KERNELS ;;
*)	KERNELS=$XB_VM_KERNEL ;;
esac
# ~5.5 min for both side by side on a 2-CPU machine (2026-12-06); TCG
# slows down with the host's load, and tests/run.sh gives a test 900 s.
VM_TIMEOUT=${XB_VM_TIMEOUT:-720}

require_root "kernel lab smoke"
if [ "$(uname -m)" != x86_64 ]; then
	tap_skip "kernel lab smoke" "needs an x86_64 host"
	exit 0
fi

guest_cmd='rc=0
for s in '"$SCENARIOS"'; do
	echo "# --- scenario $s"
	XB_DIFF_SPDS=200 XB_DIFF_REAL_POLS=2000 bash tests/vm/scenarios/$s.sh || rc=1
done
exit $rc'

work=$(mktemp -d /tmp/xbt-vm-smoke.XXXXXX)
declare -A vm=()
stop_vms() {
	local k

	for k in "${!vm[@]}"; do
		kill "${vm[$k]}" 2>/dev/null
	done
}
trap 'rm -rf "$work"' EXIT
# A runner that gives up on us sends SIGTERM: pass it on to the VMs.
trap 'stop_vms; exit 143' TERM INT
export TOP

# Boots kernel $1's VM, its output in $work/$1.log; a second boot when
# the first stopped before the first scenario (status 125 and no
# scenario line), with the first boot's output before it as comments.
boot_vm() {
	local k=$1 vrc

	XB_VM_KERNEL=$k XB_VM_TIMEOUT=$VM_TIMEOUT \
		bash scripts/vm/run.sh -- bash -c "$guest_cmd" >"$work/$k.log" 2>&1
	vrc=$?
	if [ "$vrc" -ne 125 ] || grep -q '^# --- scenario' "$work/$k.log"; then
		return "$vrc"
	fi
	{
		echo "# the $k guest stopped before its first scenario (boot failure or panic); booted again. The first boot's end:"
		tail -40 "$work/$k.log" | sed 's/^/#   /'
	} >"$work/$k.first"
	XB_VM_KERNEL=$k XB_VM_TIMEOUT=$VM_TIMEOUT \
		bash scripts/vm/run.sh -- bash -c "$guest_cmd" >"$work/$k.log" 2>&1
}

# Set-up one kernel after the other (apt's lock), then boot them all.
for k in $KERNELS; do
	if ! out=$(XB_VM_KERNEL=$k xbvm_kernel_env 2>&1); then
		tap_fail "kernel lab smoke: kernel '$k'" "$out"
		continue
	fi
	if ! out=$(XB_VM_KERNEL=$k bash scripts/vm/setup.sh 2>&1); then
		tap_fail "kernel lab setup for $k (QEMU, Debian kernel, initramfs)"
		printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'
		continue
	fi
	printf '%s\n' "$out" | sed 's/^/# /'
	(
		XB_VM_KERNEL=$k xbvm_kernel_env >/dev/null 2>&1
		tap_ok "kernel lab ready: $(cat "$XB_VM_DIR/current/package") ($(cat "$XB_VM_DIR/current/kver"))"
	) >"$work/$k.ready"
	boot_vm "$k" &
	vm[$k]=$!
done

rc=0
for k in $KERNELS; do
	[ -n "${vm[$k]:-}" ] || { rc=1; continue; }
	wait "${vm[$k]}"
	vrc=$?
	unset "vm[$k]"
	cat "$work/$k.ready" "$work/$k.first" "$work/$k.log" 2>/dev/null
	kver=$(sed -n 's/^=== xbvm: kernel \([^,]*\),.*/\1/p' "$work/$k.log" | head -1)
	case $vrc in
	0)	tap_ok "one boot ran $SCENARIOS on guest kernel ${kver:-?} ($k)" ;;
	123)	tap_fail "the guest kernel $k logged no BUG/WARNING/Oops" ;;
	124)	tap_fail "the $k VM finished within $VM_TIMEOUT s (it hung)" ;;
	125)	tap_fail "the $k VM booted and returned a status (boot failure or panic)" ;;
	*)	grep -qE '^not ok\b' "$work/$k.log" ||
			tap_fail "smoke scenarios on $k exited $vrc without a failed test" ;;
	esac
	[ "$vrc" -eq 0 ] || rc=1
done
exit $rc
