#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The command line: version, help, usage errors (one line, exit 2),
# environment errors (exit 3), a second daemon on the same pins, status with
# and without a daemon, JSON output.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

xbt_setup cli
xbt_have_binary cli || exit 0

OUT=$XBT_DIR/out
ERR=$XBT_DIR/err

# run_xb ARGS...: xfrmbpf in the namespace; sets RC, stdout in $OUT,
# stderr in $ERR.
run_xb() {
	xb "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

show() {
	echo "#   exit $RC; stdout: $(head -c 300 "$OUT" | tr '\n' '|')"
	echo "#   stderr: $(head -c 300 "$ERR" | tr '\n' '|')"
}

# expect_eval NAME TEST-EXPR: TEST-EXPR evaluated after a run_xb.
expect_eval() {
	if eval "$2"; then
		tap_ok "$1"
	else
		tap_fail "$1" "expected: $2"
		show
	fi
}

lines() {
	wc -l <"$1"
}

# usage_error NAME ARGS...: exit 2, exactly one line on stderr, no stdout.
usage_error() {
	local name=$1
	shift
	run_xb "$@"
	expect_eval "$name: exit 2, one line on stderr, nothing on stdout" \
		'[ $RC -eq 2 ] && [ "$(lines "$ERR")" -eq 1 ] && [ ! -s "$OUT" ]'
}

run_xb --version
expect_eval "--version exits 0" '[ $RC -eq 0 ]'
expect_eval "--version names xfrmbpf $(cat "$TOP/VERSION")" \
	"grep -qF 'xfrmbpf $(cat "$TOP/VERSION")' '$OUT'"
expect_eval "--version names the libbpf version" "grep -qE 'libbpf v?[0-9]+\.[0-9]+' '$OUT'"
expect_eval "--version names the libxdp version" "grep -qE 'libxdp v?[0-9]+\.[0-9]+' '$OUT'"

run_xb --help
expect_eval "--help exits 0" '[ $RC -eq 0 ] && [ ! -s "$ERR" ]'
for c in run status policy sa check; do
	expect_eval "--help lists $c" "grep -qE '^ +$c ' '$OUT'"
done
expect_eval "--help documents the exit codes" "grep -q '2 usage' '$OUT'"
for c in run status policy sa check; do
	run_xb "$c" --help
	expect_eval "$c --help: exit 0 with a usage line" \
		"[ \$RC -eq 0 ] && grep -q 'Usage:.* $c' '$OUT'"
done

usage_error "unknown command" frobnicate
usage_error "unknown global option" --frobnicate status
usage_error "unknown command option" status --frobnicate
usage_error "unexpected argument" policy extra
usage_error "bad --rcvbuf value" run --rcvbuf lots
usage_error "bad --heartbeat-ms value" run --heartbeat-ms -5
run_xb
expect_eval "no command: exit 2" '[ $RC -eq 2 ]'

# No daemon has ever run on this pin dir.
run_xb status
expect_eval "status without a daemon: clear message" \
	"grep -qiE 'not (synced|running)|no daemon|no .*maps|run.* running' '$OUT' '$ERR'"
run_xb status -j
expect_eval "status -j without a daemon: JSON, not synced or an error" \
	"jq -e '.synced == false or has(\"error\")' '$OUT' >/dev/null"
run_xb policy -j
expect_eval "policy -j without a daemon: valid JSON" "jq -e . '$OUT' >/dev/null"
run_xb check
expect_eval "check without maps: exit 3 (environment), a message" '[ $RC -eq 3 ] && [ -s "$ERR" ]'

# Environment errors: exit 3.
mkdir -p "$XBT_DIR/notbpffs"
ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$XBT_DIR/notbpffs/xfrmbpf" run \
	>"$OUT" 2>"$ERR" </dev/null &
pid=$!
xbt_track_pid "$pid"
wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
wait "$pid" 2>/dev/null
RC=$?
expect_eval "run with a pin dir outside bpffs: exit 3 with a message" \
	'[ $RC -eq 3 ] && [ -s "$ERR" ]'
ip netns exec "$XBT_NS" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$XFRMBPF" --pin-dir "$XBT_PIN" run >"$OUT" 2>"$ERR" </dev/null &
pid=$!
xbt_track_pid "$pid"
wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
wait "$pid" 2>/dev/null
RC=$?
expect_eval "run as an unprivileged user: exit 3 with a message" \
	'[ $RC -eq 3 ] && [ -s "$ERR" ]'

# With a daemon.
xbt_ns ip xfrm policy add src 192.0.2.0/24 dst 198.51.100.0/24 dir out \
	tmpl src 203.0.113.1 dst 203.0.113.2 proto esp mode tunnel reqid 1
XBT_DAEMON_OPTS=-v xbt_daemon_start
if xbt_daemon_wait_synced 10; then
	tap_ok "daemon synced"
else
	tap_fail "daemon synced"
	exit 1
fi

run_xb status -j
expect_eval "status -j has every documented field" \
	"jq -e 'has(\"synced\") and has(\"generation\") and has(\"heartbeat_age_ms\") and
		has(\"daemon_pid\") and has(\"resyncs\") and has(\"nl_bad_msgs\") and
		has(\"policies\") and has(\"sas\") and has(\"xfrm_links\") and
		(.default | has(\"in\") and has(\"fwd\") and has(\"out\"))' '$OUT' >/dev/null"
expect_eval "status -j: daemon_pid is the daemon ($XBT_DAEMON_PID)" \
	"jq -e '.daemon_pid == $XBT_DAEMON_PID' '$OUT' >/dev/null"
expect_eval "status -j: generation >= 1, 1 policy, fresh heartbeat" \
	"jq -e '.generation >= 1 and .policies == 1 and .heartbeat_age_ms < 3000' '$OUT' >/dev/null"
run_xb status
expect_eval "status (text): exit 0, says synced" \
	"[ \$RC -eq 0 ] && grep -qi 'synced' '$OUT'"
run_xb policy -j
expect_eval "policy -j: a JSON array of 1 policy with its template" \
	"jq -e 'length == 1 and .[0].tmpls[0].reqid == 1 and .[0].tmpls[0].mode == \"tunnel\"' '$OUT' >/dev/null"
expect_eval "policy -j: every documented field" \
	"jq -e '.[0] | ([\"index\", \"dir\", \"ptype\", \"action\", \"priority\", \"family\",
		\"src\", \"dst\", \"proto\", \"sport\", \"sport_mask\", \"dport\", \"dport_mask\",
		\"ifindex\", \"mark\", \"mark_mask\", \"if_id\", \"flags\", \"share\", \"id\", \"pos\",
		\"packets\", \"bytes\", \"tmpls\"] - keys) == [] and
		(.tmpls[0] | ([\"family\", \"src\", \"dst\", \"proto\", \"spi\", \"reqid\", \"mode\",
		\"optional\", \"share\"] - keys) == [])' '$OUT' >/dev/null"
run_xb policy
expect_eval "policy (text): exit 0, shows the selector" \
	"[ \$RC -eq 0 ] && grep -q '192.0.2.0/24' '$OUT'"
run_xb sa -j
expect_eval "sa -j: a JSON array" "jq -e 'type == \"array\"' '$OUT' >/dev/null"
run_xb check
expect_eval "check: exit 0 in sync" '[ $RC -eq 0 ]'
run_xb check -j
expect_eval "check -j: valid JSON" "[ \$RC -eq 0 ] && jq -e . '$OUT' >/dev/null"

# An idle daemon keeps its heartbeat fresh (default beat 1 s, timeout 3 s).
sleep 4
run_xb status -j
expect_eval "idle for 4 s: still synced, heartbeat younger than its timeout" \
	"jq -e '.synced == true and .heartbeat_age_ms < 3000' '$OUT' >/dev/null"
RC=0
ip netns exec "$XBT_NS" env XFRMBPF_PIN_DIR="$XBT_PIN" "$XFRMBPF" status -j >"$OUT" 2>"$ERR" || RC=$?
expect_eval "XFRMBPF_PIN_DIR selects the pin dir" "jq -e '.synced == true' '$OUT' >/dev/null"
RC=0
ip netns exec "$XBT_NS" env XFRMBPF_PIN_DIR="$XBT_DIR/nowhere" "$XFRMBPF" --pin-dir "$XBT_PIN" \
	status -j >"$OUT" 2>"$ERR" || RC=$?
expect_eval "--pin-dir wins over XFRMBPF_PIN_DIR" "jq -e '.synced == true' '$OUT' >/dev/null"

# A second daemon on the same pins must refuse and leave the first alone.
timeout 10 ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$XBT_PIN" run >"$OUT" 2>"$ERR" </dev/null
RC=$?
expect_eval "second run on the same pin dir: exit 3, 'already running'" \
	"[ \$RC -eq 3 ] && grep -qi 'already running' '$ERR'"
expect_eval "  ... on one line" '[ "$(lines "$ERR")" -eq 1 ]'
if kill -0 "$XBT_DAEMON_PID" 2>/dev/null && xbt_synced; then
	tap_ok "first daemon still running and synced"
else
	tap_fail "first daemon still running and synced"
fi
xbt_ns ip xfrm policy add src 192.0.2.1 dst 198.51.100.1 dir in
xbt_expect_converged "first daemon still mirrors"

xbt_daemon_stop INT
RC=$?
expect_eval "daemon exits 0 on SIGINT" '[ $RC -eq 0 ]'
run_xb status -j
expect_eval "status -j after a clean stop: not synced" \
	"jq -e '.synced == false or has(\"error\")' '$OUT' >/dev/null"
run_xb status
expect_eval "status after a clean stop: clear message" \
	"grep -qiE 'not (synced|running)|no daemon|run.* running|stale|stopped' '$OUT' '$ERR'"
xbt_daemon_start --heartbeat-ms 100
if xbt_daemon_wait_synced 10; then
	tap_ok "a new daemon starts after a clean stop"
else
	tap_fail "a new daemon starts after a clean stop"
fi
# --heartbeat-ms 100: the age never gets near the default 1 s beat.
max=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	age=$(xbt_status_field heartbeat_age_ms)
	[ "$age" -gt "$max" ] 2>/dev/null && max=$age
	sleep 0.15
done
expect_eval "--heartbeat-ms 100: heartbeat age stays below 500 ms (max $max)" '[ "$max" -lt 500 ]'
xbt_daemon_stop TERM
tap_done
