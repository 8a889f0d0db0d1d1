# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shell test helpers. Every test prints TAP lines that tests/run.sh counts:
#   ok - NAME / not ok - NAME / ok - NAME # SKIP REASON
# Source this from a test script; call tap_done at the end.

TAP_FAILED=0
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
XFRMBPF=${XFRMBPF:-$TOP/build/xfrmbpf}

tap_ok()   { echo "ok - $1"; }
tap_fail() { echo "not ok - $1"; shift; [ $# -gt 0 ] && echo "#   $*"; TAP_FAILED=$((TAP_FAILED + 1)); }
tap_skip() { echo "ok - $1 # SKIP $2"; }

# check NAME CMD...: one test that passes when CMD exits 0.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$name"
	else
		tap_fail "$name" "command failed: $*"
		printf '%s\n' "$out" | head -40 | sed 's/^/#   /'
	fi
}

# expect NAME CMD...: one test that passes when CMD succeeds; on failure a
# test can add context by defining expect_context.
expect() {
	local name=$1

	shift
	if "$@"; then
		tap_ok "$name"
	else
		tap_fail "$name" "failed: $*"
		if declare -F expect_context >/dev/null; then
			expect_context
		fi
	fi
}

# wait_for TIMEOUT_S CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

tap_done() { [ "$TAP_FAILED" -eq 0 ]; }

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		tap_skip "$1" "needs root"
		exit 0
	fi
}
