# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Network-namespace helpers for the integration tests. Source after tap.sh.
#
#   xbt_setup NAME      namespace xbt-NAME-PID, a private bpffs, cleanup trap
#   xbt_ns CMD...       run CMD inside the namespace
#   xb ARGS...          run xfrmbpf inside the namespace on the test's pin dir
#   xbt_daemon_start [RUN-ARGS...] / xbt_daemon_wait_synced S / xbt_daemon_stop
#   xbt_converged       mirror equals the kernel (xfrmbpf check + spd_compare.py)
#
# The bpffs lives under /run/xbt, not /sys/fs/bpf: `ip netns exec` remounts
# /sys in its own mount namespace, so a bpffs below /sys would not be the
# same for every command of a test.

XBT_RUN_ROOT=${XBT_RUN_ROOT:-/run/xbt}
SPD_COMPARE=${SPD_COMPARE:-$TOP/tests/integration/spd_compare.py}
# Port masks are not in the text of `ip xfrm`: the oracle reads them from
# its own netlink dump (and checks the port values against the text).
XBT_COMPARE_ARGS=${XBT_COMPARE_ARGS:---nl-ports}
# The distribution's interpreter: a version-manager shim in PATH can cost a
# second per start, and the oracle runs after every step.
if [ -z "${XBT_PYTHON:-}" ]; then
	XBT_PYTHON=/usr/bin/python3
	[ -x "$XBT_PYTHON" ] || XBT_PYTHON=python3
fi
XBT_NS=
XBT_DIR=
XBT_BPFFS=
XBT_PIN=
XBT_LOG=
XBT_DAEMON_PID=
XBT_DAEMON_OPTS=${XBT_DAEMON_OPTS:-}
XBT_PIDS=()
XBT_EXTRA_NS=()

# xbt_setup NAME: everything a test needs; skips the whole test when the
# machine cannot run it.
xbt_setup() {
	local name=$1

	require_root "$name"
	for tool in ip jq "$XBT_PYTHON" bpftool; do
		if ! command -v "$tool" >/dev/null; then
			tap_skip "$name" "$tool not installed"
			exit 0
		fi
	done
	XBT_NS=xbt-$name-$$
	XBT_DIR=$XBT_RUN_ROOT/$name-$$
	XBT_BPFFS=$XBT_DIR/bpffs
	XBT_PIN=$XBT_BPFFS/xfrmbpf
	XBT_LOG=$XBT_DIR/daemon.log
	trap xbt_cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$XBT_BPFFS" || xbt_bail "cannot create $XBT_BPFFS"
	mount -t bpf xbt-bpffs "$XBT_BPFFS" || xbt_bail "cannot mount bpffs at $XBT_BPFFS"
	ip netns add "$XBT_NS" || xbt_bail "cannot create namespace $XBT_NS"
	ip -n "$XBT_NS" link set lo up
}

# xbt_bail MSG: a setup failure is a failed test, not a silent pass.
xbt_bail() {
	tap_fail "setup" "$1"
	exit 1
}

# xbt_add_ns SUFFIX: one more namespace, xbt-NAME-SUFFIX-PID, deleted on
# cleanup; its name in XBT_NS2.
xbt_add_ns() {
	XBT_NS2=${XBT_NS%-*}-$1-$$
	ip netns add "$XBT_NS2" || xbt_bail "cannot create namespace $XBT_NS2"
	XBT_EXTRA_NS+=("$XBT_NS2")
}

xbt_ns() {
	ip netns exec "$XBT_NS" "$@"
}

xb() {
	ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$XBT_PIN" "$@"
}

# xbt_track_pid PID: kill PID on cleanup (for background jobs a test starts).
# Start such jobs as `ip netns exec NS CMD &`, not through a shell function:
# a function in the background is a subshell, and killing it would leave
# CMD running.
xbt_track_pid() {
	XBT_PIDS+=("$1")
}

# xbt_kill_pid PID: TERM, then KILL after 3 s. Only PIDs this shell started.
xbt_kill_pid() {
	local pid=$1 i

	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

xbt_cleanup() {
	local rc=$? pid ns

	trap - EXIT INT TERM
	if [ -n "$XBT_DAEMON_PID" ]; then
		xbt_kill_pid "$XBT_DAEMON_PID"
		XBT_DAEMON_PID=
	fi
	for pid in "${XBT_PIDS[@]}"; do
		xbt_kill_pid "$pid"
	done
	if { [ "$TAP_FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; } && [ -s "$XBT_LOG" ]; then
		echo "# last lines of the daemon log ($XBT_LOG):"
		tail -n 30 "$XBT_LOG" | sed 's/^/#   /'
	fi
	for ns in "${XBT_EXTRA_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$XBT_NS" ] && ip netns del "$XBT_NS" 2>/dev/null
	if [ -n "$XBT_BPFFS" ] && mountpoint -q "$XBT_BPFFS"; then
		umount "$XBT_BPFFS" || umount -l "$XBT_BPFFS"
	fi
	[ -n "$XBT_DIR" ] && rm -rf "$XBT_DIR"
	rmdir "$XBT_RUN_ROOT" 2>/dev/null
	[ "$TAP_FAILED" -eq 0 ] && exit "$rc"
	exit 1
}

# xbt_have_binary: false (and a SKIP line) when build/xfrmbpf is missing.
xbt_have_binary() {
	if [ ! -x "$XFRMBPF" ]; then
		tap_skip "$1" "$XFRMBPF not built (run make)"
		return 1
	fi
}

# xbt_daemon_start [RUN-ARGS...]: `xfrmbpf [$XBT_DAEMON_OPTS] run` in the
# namespace, in the background, stderr appended to $XBT_LOG. `ip netns exec` execs in place,
# so $! is the daemon itself.
xbt_daemon_start() {
	echo "=== xfrmbpf run $* ($(date -u +%T.%N))" >>"$XBT_LOG"
	ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$XBT_PIN" $XBT_DAEMON_OPTS run "$@" \
		</dev/null >>"$XBT_LOG" 2>&1 &
	XBT_DAEMON_PID=$!
}

xbt_synced() {
	xb status -j 2>/dev/null | jq -e '.synced == true' >/dev/null
}

# xbt_daemon_wait_synced TIMEOUT_S: the daemon is alive and reports synced.
xbt_daemon_wait_synced() {
	local deadline=$(( $(date +%s) + $1 ))

	while [ "$(date +%s)" -lt "$deadline" ]; do
		kill -0 "$XBT_DAEMON_PID" 2>/dev/null || return 1
		xbt_synced && return 0
		sleep 0.1
	done
	return 1
}

# xbt_daemon_stop [SIGNAL]: signal the daemon, wait for it, return its exit
# code (124 when it did not exit within 5 s and had to be killed).
xbt_daemon_stop() {
	local sig=${1:-TERM} pid=$XBT_DAEMON_PID i rc

	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		XBT_DAEMON_PID=
		return 124
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	XBT_DAEMON_PID=
	return $rc
}

# xbt_spd_compare [ARGS...]: the independent oracle, run in the namespace.
xbt_spd_compare() {
	ip netns exec "$XBT_NS" "$XBT_PYTHON" "$SPD_COMPARE" \
		--xfrmbpf "$XFRMBPF" --pin-dir "$XBT_PIN" $XBT_COMPARE_ARGS "$@"
}

# xbt_converged: the daemon's own check and the oracle both say "equal".
xbt_converged() {
	xb check >/dev/null 2>&1 && xbt_spd_compare >/dev/null 2>&1
}

# xbt_expect_converged NAME [TIMEOUT_S]: one TAP line; on failure the
# outputs of check and spd_compare as comments.
xbt_expect_converged() {
	local name=$1 timeout=${2:-5}

	# After a few failures the rest usually fail the same way: keep the
	# whole test within the runner's time budget.
	[ "$TAP_FAILED" -ge 3 ] && timeout=1

	if wait_for "$timeout" xbt_converged; then
		tap_ok "$name"
		return 0
	fi
	tap_fail "$name" "mirror did not converge within ${timeout}s"
	echo "#   xfrmbpf check (exit $(xb check >/dev/null 2>&1; echo $?)):"
	xb check 2>&1 | head -20 | sed 's/^/#     /'
	echo "#   spd_compare.py:"
	xbt_spd_compare 2>&1 | head -30 | sed 's/^/#     /'
	return 1
}

# xbt_status_field FIELD: one field of `status -j` (jq path without the dot).
xbt_status_field() {
	xb status -j 2>/dev/null | jq -r ".$1"
}
