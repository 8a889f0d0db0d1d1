#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Every BPF fixture test (build/tests/bpf/test_*, or XB_BPF_TEST_DIR: the datapath programs
# loaded and fed packets through BPF_PROG_TEST_RUN) on the stock kernel of
# the lab, so the 6.1 verifier has to accept what the host's 6.18 accepts.
set -u
. "$(dirname "$0")/_lib.sh"
vm_enter "$0" "$@"
require_root "bpf fixtures"
vm_banner "bpf_fixtures"

export CMOCKA_MESSAGE_OUTPUT=TAP
# bpf_skb_set_xfrm_info is in the xfrm_interface module's BTF where that is a
# module (Debian): loaded, the collect_md egress program loads and its fixture
# runs (6.12); 6.1 has no such kfunc either way.
modprobe -q xfrm_interface 2>/dev/null
kver=$(uname -r)
found=0
for bin in "${XB_BPF_TEST_DIR:-$TOP/build/tests/bpf}"/test_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	found=$((found + 1))
	name=$(basename "$bin")
	start=$(date +%s)
	out=$(timeout -k 5 300 "$bin" 2>&1 </dev/null)
	rc=$?
	echo "# $name took $(($(date +%s) - start)) s"
	# cmocka's TAP lines count as results too (its skips, "not ok N -
	# name # SKIP", relayed as "ok N - name # SKIP"); the rest (libbpf,
	# verifier logs) only in the failure report below.
	out=$(printf '%s\n' "$out" | sed -E 's/^not ok\b(.*# *SKIP)/ok\1/')
	printf '%s\n' "$out" | grep -E '^(not )?ok\b|^#|^[0-9]+\.\.[0-9]+'
	passed=$(printf '%s\n' "$out" | grep -E '^ok\b' | grep -cvE '# *SKIP')
	failed=$(printf '%s\n' "$out" | grep -cE '^not ok\b')
	if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then
		tap_ok "$name on $kver: $passed fixtures pass"
	elif [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]; then
		tap_fail_log "$name on $kver ran no test" "$(printf '%s\n' "$out" | tail -5)"
	else
		tap_fail_log "$name on $kver: exit $rc, $failed failed, $passed passed" \
			"$(printf '%s\n' "$out" | grep -vE '^(not )?ok\b' | tail -15)"
	fi
done
if [ "$found" -eq 0 ]; then
	tap_skip "bpf fixtures on $kver" "no build/tests/bpf/test_* binaries yet (make unit-tests)"
fi
tap_done
