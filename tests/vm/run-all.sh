#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `make vmtest`: every kernel-lab scenario (tests/vm/scenarios/*.sh, not
# the "_" helpers), each in its own VM boot, then a summary. XB_VM_KERNEL
# (scripts/vm/kernel.sh) picks the kernel: 6.1 (default), 6.12, or all,
# which runs everything on each in turn. Logs go to build/vm-logs/KERNEL/.
# Exits 1 if any scenario failed.
#   usage: tests/vm/run-all.sh [PATTERN]   (only scenarios whose name matches)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
export TOP

pattern=${1:-}

[ "$(id -u)" -eq 0 ] || { echo "run-all: the kernel lab needs root" >&2; exit 2; }
. scripts/vm/kernel.sh

# all: each kernel in turn, then the sum of their summaries.
if [ "${XB_VM_KERNEL:-}" = all ]; then
	rc=0 p=0 f=0 s=0 out=$(mktemp)
	trap 'rm -f "$out"' EXIT
	for k in $XB_VM_KERNELS; do
		echo "=== kernel $k"
		XB_VM_KERNEL=$k bash "$0" "$@" | tee "$out"
		[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
		read -r kp kf ks < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/p' "$out")
		p=$((p + ${kp:-0})) f=$((f + ${kf:-1})) s=$((s + ${ks:-0}))
	done
	echo
	echo "kernels $XB_VM_KERNELS: $p passed, $f failed, $s skipped"
	exit $rc
fi
xbvm_kernel_env || exit 2
VM_DIR=$XB_VM_DIR
LOGDIR=$TOP/build/vm-logs/$XB_VM_KERNEL
bash scripts/vm/setup.sh || { echo "run-all: kernel lab setup failed" >&2; exit 1; }
mkdir -p "$LOGDIR"

# A SIGTERM (e.g. from a CI timeout) stops the running VM too.
vm=
trap '[ -n "$vm" ] && kill "$vm"; exit 143' TERM INT

total_p=0 total_f=0 total_s=0 bad=()
summary=()
for script in tests/vm/scenarios/*.sh; do
	name=$(basename "$script" .sh)
	case $name in _*) continue ;; esac
	[ -n "$pattern" ] && [[ $name != *$pattern* ]] && continue
	log=$LOGDIR/$name.log
	echo "=== $name"
	start=$(date +%s)
	# Started on the host: a scenario first prepares what its guest runs
	# from the shared root (strongswan installs charon, deb_service
	# builds the package), then boots its VM (vm_enter, or run.sh -S).
	bash "$script" >"$log" 2>&1 &
	vm=$!
	tail -n +1 -s 0.2 --pid="$vm" -f "$log" &
	wait "$vm"
	rc=$?
	vm=
	wait $!
	p=$(grep -cE '^ok\b' "$log")
	s=$(grep -cE '^ok\b.*# *SKIP' "$log")
	f=$(grep -cE '^not ok\b' "$log")
	p=$((p - s))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
	[ "$f" -gt 0 ] && bad+=("$name")
	summary+=("$(printf '%-16s %4d passed %3d failed %3d skipped  rc %3d  %4ds' \
		"$name" "$p" "$f" "$s" "$rc" $(($(date +%s) - start)))")
done

echo
echo "kernel lab: $(cat "$VM_DIR/current/package") ($(cat "$VM_DIR/current/kver")), logs in $LOGDIR"
printf '%s\n' "${summary[@]}"
echo "${total_p} passed, ${total_f} failed, ${total_s} skipped"
[ ${#bad[@]} -eq 0 ] || { echo "failed: ${bad[*]}"; exit 1; }
