#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runs every test suite of xfrmbpf and ends with one line
# "N passed, N failed, N skipped"; exits 1 on any failure.
#   unit:        build/tests/unit/test_*   (cmocka, ASan/UBSan)
#   bpf:         build/tests/bpf/test_*    (BPF_PROG_TEST_RUN fixtures)
#   fuzz:        tests/fuzz/test_*.sh       (libFuzzer, 30 s each)
#   integration: tests/integration/test_*.sh (netns, host kernel)
#   vm:          tests/vm/smoke.sh          (kernel lab smoke subset)
# TESTS="pattern" runs only test files whose path matches the pattern.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
LOGDIR=$TOP/build/test-logs
mkdir -p "$LOGDIR"
export TOP XFRMBPF=$TOP/build/xfrmbpf
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 skipped=0
failures=()

run_one() {
	local file=$1 log rc p f s start
	log=$LOGDIR/$(echo "${file#"$TOP"/}" | tr '/' '_').log
	start=$(date +%s)
	if [[ $file == *.sh ]]; then
		timeout --foreground -k 10 "${TEST_TIMEOUT:-900}" bash "$file" >"$log" 2>&1 </dev/null
	else
		timeout --foreground -k 10 "${TEST_TIMEOUT:-900}" "$file" >"$log" 2>&1 </dev/null
	fi
	rc=$?
	# TAP: "ok N - name", "not ok N - name", "ok N - name # SKIP why";
	# cmocka writes its skips as "not ok N - name # SKIP".
	s=$(grep -cE '^(not )?ok\b.*# *SKIP' "$log")
	p=$(grep -E '^ok\b' "$log" | grep -cvE '# *SKIP')
	f=$(grep -E '^not ok\b' "$log" | grep -cvE '# *SKIP')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - ${file#"$TOP"/} exited $rc" >>"$log"
		f=1
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	printf '%-52s %4d passed %3d failed %3d skipped  %3ds\n' "${file#"$TOP"/}" "$p" "$f" "$s" $(( $(date +%s) - start ))
	if [ "$f" -gt 0 ]; then
		failures+=("$file")
		grep -E -A6 '^not ok\b' "$log" | head -60 | sed 's/^/    /'
		echo "    (log: $log)"
	fi
}

files=()
for f in build/tests/unit/test_* build/tests/bpf/test_* tests/fuzz/test_*.sh \
	tests/integration/test_*.sh tests/vm/smoke.sh; do
	[ -e "$f" ] || continue
	[[ $f == *.c ]] && continue
	if [ -n "${TESTS:-}" ] && [[ $f != *${TESTS}* ]]; then continue; fi
	files+=("$TOP/$f")
done

echo "xfrmbpf tests on $(uname -r), $(date -u +%FT%TZ)"
for f in "${files[@]}"; do
	run_one "$f"
done

if [ "$(id -u)" -eq 0 ] && [ -z "${TESTS:-}" ]; then
	left=$(ip netns list 2>/dev/null | grep -c '^xbt-' || true)
	if [ "$left" -gt 0 ]; then
		echo "not ok - tests left $left xbt-* network namespaces behind"
		failed=$((failed + 1))
	fi
fi

echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
