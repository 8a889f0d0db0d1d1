#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The kernel-lab subset of `make test`: ONE boot of one of Debian 12's
# kernels (XB_VM_KERNEL, scripts/vm/kernel.sh; the stock 6.1) runs the esp_tunnel, sa_mirror and bpf_fixtures scenarios in
# sequence and relays their TAP lines. The first run on a machine installs
# QEMU and downloads the kernel (scripts/vm/setup.sh); later runs reuse it.
#   XB_VM_TIMEOUT   seconds before the VM counts as hung (default 720)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
cd "$TOP" || exit 1

SCENARIOS="esp_tunnel sa_mirror bpf_fixtures"
. scripts/vm/kernel.sh
if ! xbvm_kernel_env 2>/dev/null; then
	tap_fail "kernel lab smoke: kernel '${XB_VM_KERNEL:-}'" "$(xbvm_kernel_env 2>&1)"
	exit 1
fi
VM_DIR=$XB_VM_DIR
# ~2 min on an idle 2-CPU machine; TCG slows down with the host's load,
# and tests/run.sh gives a test 600 s.
VM_TIMEOUT=${XB_VM_TIMEOUT:-720}

require_root "kernel lab smoke"
if [ "$(uname -m)" != x86_64 ]; then
	tap_skip "kernel lab smoke" "needs an x86_64 host"
	exit 0
fi

if ! out=$(bash scripts/vm/setup.sh 2>&1); then
	tap_fail "kernel lab setup (QEMU, Debian kernel, initramfs)"
	printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'
	exit 1
fi
printf '%s\n' "$out" | sed 's/^/# /'
tap_ok "kernel lab ready: $(cat "$VM_DIR/current/package") ($(cat "$VM_DIR/current/kver"))"

guest_cmd='rc=0
for s in '"$SCENARIOS"'; do
	echo "# --- scenario $s"
	bash tests/vm/scenarios/$s.sh || rc=1
done
exit $rc'

log=$(mktemp /tmp/xbt-vm-smoke.XXXXXX)
vm=
trap 'rm -f "$log"' EXIT
# A runner that gives up on us sends SIGTERM: pass it on to the VM.
trap '[ -n "$vm" ] && kill "$vm"; exit 143' TERM INT
export TOP
XB_VM_TIMEOUT=$VM_TIMEOUT bash scripts/vm/run.sh -- bash -c "$guest_cmd" >"$log" 2>&1 &
vm=$!
tail -n +1 -s 0.2 --pid="$vm" -f "$log" &
wait "$vm"
rc=$?
vm=
wait $!

kver=$(sed -n 's/^=== xbvm: kernel \([^,]*\),.*/\1/p' "$log" | head -1)
case $rc in
0)	tap_ok "one boot ran $SCENARIOS on guest kernel ${kver:-?}" ;;
123)	tap_fail "the guest kernel logged no BUG/WARNING/Oops" ;;
124)	tap_fail "the VM finished within $VM_TIMEOUT s (it hung)" ;;
125)	tap_fail "the VM booted and returned a status (boot failure or panic)" ;;
*)	grep -qE '^not ok\b' "$log" || tap_fail "smoke scenarios exited $rc without a failed test" ;;
esac
[ "$rc" -eq 0 ]
