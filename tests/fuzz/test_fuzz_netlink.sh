#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The netlink parsers under libFuzzer for a bounded time (FUZZ_SECONDS,
# default 30; `make fuzz` runs 600 s), starting from the regression
# inputs in tests/fuzz/corpus/ (a 2 GiB nlmsg_len looped the dispatcher).
# A finding fails the test and leaves its input in build/test-logs/.
source "$(dirname "$0")/../lib/tap.sh"

FUZZER=$TOP/build/tests/fuzz/fuzz_netlink
SECONDS_MAX=${FUZZ_SECONDS:-30}
if [ ! -x "$FUZZER" ]; then
	tap_skip "netlink fuzzing" "$FUZZER is not built (make fuzz-build; needs clang's libFuzzer)"
	tap_done
	exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$TOP/build/test-logs"
cp "$TOP"/tests/fuzz/corpus/* "$WORK/" 2>/dev/null
log=$WORK/fuzz.log
if "$FUZZER" -max_total_time="$SECONDS_MAX" -max_len=4096 -timeout=5 \
	-artifact_prefix="$TOP/build/test-logs/fuzz_netlink-" "$WORK" >"$log" 2>&1; then
	tap_ok "netlink parsers fuzzed for ${SECONDS_MAX} s: $(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log") runs, no finding"
else
	tap_fail "netlink parsers fuzzed for ${SECONDS_MAX} s: no finding" \
		"$(grep -E 'ERROR|SUMMARY|artifact' "$log" | head -5)"
fi
tap_done
