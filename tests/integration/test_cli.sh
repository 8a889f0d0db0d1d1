#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The command line: version, help, usage errors (one line, exit 2),
# environment errors (exit 3), a second daemon on the same pins, status with
# and without a daemon, JSON output; pin directories another user could have
# made or swapped, the bpffs mount hints (also under `ip netns exec`), the
# ABI stamp of the pins, `unload --all` leaving what is not ours, a failed
# run leaving no pins, and the heartbeat age while a big SPD is read.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

xbt_setup cli
xbt_have_binary cli || exit 0

OUT=$XBT_DIR/out
ERR=$XBT_DIR/err

# run_xb ARGS...: xfrmbpf in the namespace; sets RC, stdout in $OUT,
# stderr in $ERR. A `run` that should have been refused but starts is
# stopped by the timeout.
run_xb() {
	timeout -k 2 30 ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$XBT_PIN" "$@" \
		>"$OUT" 2>"$ERR" </dev/null
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

# An option without its value says so, also when the next option would be
# taken for it.
usage_error "--pin-dir without a value" --pin-dir
expect_eval "  ... 'option --pin-dir needs a value'" "grep -qF 'option --pin-dir needs a value' '$ERR'"
usage_error "--pin-dir followed by another option" --pin-dir --json status
expect_eval "  ... 'option --pin-dir needs a value'" "grep -qF 'option --pin-dir needs a value' '$ERR'"
usage_error "run --rcvbuf without a value" run --rcvbuf
expect_eval "  ... 'option --rcvbuf needs a value'" "grep -qF 'option --rcvbuf needs a value' '$ERR'"
usage_error "run -i without a value" run -i
expect_eval "  ... 'option --interface needs a value'" "grep -qF 'option --interface needs a value' '$ERR'"
# A receive buffer that overruns in any burst (each overrun: a full re-dump).
usage_error "run --rcvbuf 4096 (below the 256 KiB floor)" run --rcvbuf 4096
expect_eval "  ... names the floor" "grep -qF 262144 '$ERR'"
usage_error "run --rcvbuf 262143" run --rcvbuf 262143

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

# run_pin DIR ARGS...: xfrmbpf --pin-dir DIR ARGS... in the namespace; RC,
# $OUT, $ERR. A daemon that starts after all is stopped by the timeout.
run_pin() {
	local dir=$1
	shift
	timeout -k 2 10 ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$dir" "$@" \
		>"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# Pin directories another user could have made first, or could swap.
mkdir "$XBT_BPFFS/theirs" && chown 65534:65534 "$XBT_BPFFS/theirs"
run_pin "$XBT_BPFFS/theirs" status
expect_eval "pin dir owned by another user: status refuses (exit 3), names the owner" \
	"[ \$RC -eq 3 ] && grep -q 'owned by uid 65534, not root' '$ERR'"
run_pin "$XBT_BPFFS/theirs" run
expect_eval "  ... run refuses too (exit 3) and pins nothing there" \
	"[ \$RC -eq 3 ] && grep -q 'owned by uid 65534' '$ERR' &&
	 [ -z \"\$(ls -A '$XBT_BPFFS/theirs')\" ]"
mkdir -m 0777 "$XBT_BPFFS/open" && chmod 0777 "$XBT_BPFFS/open"
run_pin "$XBT_BPFFS/open" status
expect_eval "pin dir of mode 0777: refused (exit 3), 'writable by group or others'" \
	"[ \$RC -eq 3 ] && grep -q 'mode 0777, writable by group or others' '$ERR'"
run_pin "$XBT_BPFFS/open" run
expect_eval "  ... run refuses too" "[ \$RC -eq 3 ] && grep -q 'writable' '$ERR'"
run_pin "$XBT_BPFFS/open/xfrmbpf" status
expect_eval "pin dir below a directory others can write (not sticky): refused, names it" \
	"[ \$RC -eq 3 ] && grep -q \"$XBT_BPFFS/open has mode 0777\" '$ERR'"
mkdir "$XBT_BPFFS/sticky" && chmod 1777 "$XBT_BPFFS/sticky"
run_pin "$XBT_BPFFS/sticky/xfrmbpf" status
expect_eval "pin dir below a sticky directory (as a bpffs root is): accepted (no maps yet)" \
	"[ \$RC -eq 3 ] && ! grep -q refusing '$ERR' && grep -q 'no xfrmbpf maps' '$ERR'"
run_pin relative/xfrmbpf status
expect_eval "a relative pin dir: refused" "[ \$RC -eq 3 ] && grep -q 'absolute path' '$ERR'"

# Where to mount a bpffs: never over /, /run or /tmp (they hold other
# files), always with mode=0700.
hint_run=/run/xbt-hint-$$
run_pin "$hint_run" status
expect_eval "--pin-dir $hint_run: the hint mounts on $hint_run itself, mode=0700" \
	"[ \$RC -eq 3 ] && grep -qF 'mount -t bpf -o mode=0700 bpf $hint_run\`' '$ERR' &&
	 grep -qF -- '--pin-dir $hint_run/xfrmbpf' '$ERR'"
expect_eval "  ... and never over /run" "! grep -qE 'bpf /run( |\`|$)' '$ERR'"
run_pin /tmp/x status
expect_eval "--pin-dir /tmp/x: the hint mounts on /tmp/x, not over /tmp or /" \
	"grep -qF 'mount -t bpf -o mode=0700 bpf /tmp/x\`' '$ERR' &&
	 ! grep -qE 'bpf /tmp( |\`|$)|bpf /( |\`|$)' '$ERR'"
run_pin /tmp status
expect_eval "--pin-dir /tmp: the hint proposes a dedicated bpffs, never /" \
	"grep -qF 'mount -t bpf -o mode=0700 bpf /run/xfrmbpf/bpffs' '$ERR' &&
	 ! grep -qE 'bpf /( |\`|$)' '$ERR'"
run_pin "$XBT_DIR/fresh/xfrmbpf" status
expect_eval "--pin-dir below a directory yet to make: the hint mounts on that directory" \
	"grep -qF 'mkdir -p $XBT_DIR/fresh && mount -t bpf -o mode=0700 bpf $XBT_DIR/fresh' '$ERR'"
run_pin "$XBT_BPFFS/" status
expect_eval "--pin-dir the bpffs's root itself: says to pin below it" \
	"[ \$RC -eq 3 ] && grep -qF -- '--pin-dir $XBT_BPFFS/xfrmbpf' '$ERR'"
# `ip netns exec` mounts a fresh sysfs on /sys: /sys/fs/bpf is no bpffs
# there, and a bpffs mounted in it would vanish with the command.
expect_eval "/sys/fs/bpf under ip netns exec is not the host's bpffs (as the hint says)" \
	"[ \"\$(ip netns exec '$XBT_NS' stat -f -c %T /sys/fs/bpf)\" != bpf_fs ]"
ip netns exec "$XBT_NS" "$XFRMBPF" status >"$OUT" 2>"$ERR" </dev/null
RC=$?
expect_eval "default pin dir under ip netns exec: status says how to reach the pins" \
	"[ \$RC -eq 3 ] && grep -qF 'ip netns exec $XBT_NS' '$ERR' &&
	 grep -qF -- '--pin-dir /run/xfrmbpf/bpffs/$XBT_NS' '$ERR'"
timeout -k 2 10 ip netns exec "$XBT_NS" "$XFRMBPF" run >"$OUT" 2>"$ERR" </dev/null
RC=$?
expect_eval "  ... run refuses (exit 3) instead of pinning on a bpffs that vanishes with it" \
	"[ \$RC -eq 3 ] && grep -qF 'ip netns exec $XBT_NS' '$ERR'"

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
# The daemon reads its events at every heartbeat (1 s here).
expect_eval "status -j: the SPI check, and the daemon read its XFRM events within 3 s" \
	"jq -e '(.spi_check == \"kernel\" or .spi_check == \"mirror\") and
		.events_read_age_ms < 3000' '$OUT' >/dev/null"
# The SPD watch needs kprobes; the daemon says why it runs without.
if [ -e /sys/bus/event_source/devices/kprobe/type ]; then
	expect_eval "status -j: the SPD watch runs (kprobes), no change unread" \
		"jq -e '.spd_watch == true and .spd_writers == 0 and .spd_changing == false' '$OUT' >/dev/null"
else
	expect_eval "status -j: no SPD watch without kprobes, and the daemon says why" \
		"jq -e '.spd_watch == false and .spd_changing == false' '$OUT' >/dev/null &&
		 grep -q 'SPD watch off (this kernel has no kprobes)' '$XBT_LOG'"
fi
run_xb status
expect_eval "status (text): exit 0, says synced" \
	"[ \$RC -eq 0 ] && grep -qi 'synced' '$OUT'"
expect_eval "status (text): how an unknown SPI is judged" "grep -q '^unknown SPI: dropped' '$OUT'"
expect_eval "status (text): how SPD changes are seen" "grep -q '^SPD changes: seen' '$OUT'"
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

# The ABI stamp: written by the daemon, refused by every command when it
# is another, named with both versions and how to clear the pins.
stamp=$(bpftool -j map dump pinned "$XBT_PIN/xb_abi" 2>/dev/null | jq -c '.[0].formatted.value')
expect_eval "xb_abi holds the stamp (magic XBAB, version 1, a layout hash)" \
	"[ -n '$stamp' ] && jq -e '.magic == 1480737090 and .version >= 1 and .layout != 0' <<<'$stamp' >/dev/null"
ours="$(jq -r .version <<<"$stamp").$(printf %08x "$(jq -r .layout <<<"$stamp")")"
# A stamp of ABI 99, layout 0x04030201: "XBAB" little-endian.
bpftool map update pinned "$XBT_PIN/xb_abi" key 0 0 0 0 \
	value 0x42 0x41 0x42 0x58 99 0 0 0 1 2 3 4 0 0 0 0
for c in status policy sa check stats; do
	run_xb "$c"
	expect_eval "stamp of another ABI: $c refuses (exit 3), names ABI 99.04030201 and $ours" \
		"[ \$RC -eq 3 ] && grep -qF 'ABI 99.04030201' '$ERR' && grep -qF 'ABI $ours' '$ERR' &&
		 grep -qF 'unload --all' '$ERR'"
done
run_xb status -j
expect_eval "  ... status -j: the same as a JSON error" \
	"[ \$RC -eq 3 ] && jq -e '.error | contains(\"ABI 99.04030201\")' '$OUT' >/dev/null"
run_pin "$XBT_PIN" run
expect_eval "  ... run refuses (exit 3) and leaves the pins as they were" \
	"[ \$RC -eq 3 ] && grep -qF 'ABI 99.04030201' '$ERR' && [ -e '$XBT_PIN/xb_policies' ]"
# Pins without a stamp: an xfrmbpf older than the stamp.
rm "$XBT_PIN/xb_abi"
run_xb status
expect_eval "pins without a stamp beside xb_sync: refused, 'no ABI stamp'" \
	"[ \$RC -eq 3 ] && grep -qF 'no ABI stamp' '$ERR' && grep -qF 'unload --all' '$ERR'"

# unload --all removes what is ours and nothing else: another tool's
# directory and symbolic link (a bpffs holds no regular files), a map of
# another name, a map pinned under one of our names.
mkdir "$XBT_PIN/other-tool"
ln -s other-tool "$XBT_PIN/notes"
bpftool map create "$XBT_PIN/xbt_foreign" type array key 4 value 4 entries 1 name xbt_foreign
rm -f "$XBT_PIN/xb_exit_watch"
bpftool map create "$XBT_PIN/xb_exit_watch" type array key 4 value 4 entries 1 name xbt_impostor
run_xb unload --all
expect_eval "unload --all: exit 0, our pins gone" \
	"[ \$RC -eq 0 ] && [ ! -e '$XBT_PIN/xb_sync' ] && [ ! -e '$XBT_PIN/xb_policies' ] &&
	 [ ! -e '$XBT_PIN/xb_watchdog' ]"
expect_eval "  ... a foreign directory, link, pin and a map under our name left alone" \
	"[ -d '$XBT_PIN/other-tool' ] && [ -L '$XBT_PIN/notes' ] && [ -e '$XBT_PIN/xbt_foreign' ] &&
	 [ -e '$XBT_PIN/xb_exit_watch' ]"
rm -f "$XBT_PIN/notes" "$XBT_PIN/xbt_foreign" "$XBT_PIN/xb_exit_watch"
rmdir "$XBT_PIN/other-tool" "$XBT_PIN"

# A run that fails to start leaves none of the pins it made.
run_pin "$XBT_BPFFS/failed" run -i xbt-nosuchdev
expect_eval "run -i on a missing interface: fails (exit 2)" "[ \$RC -eq 2 ]"
expect_eval "  ... and leaves no pin dir behind" "[ ! -e '$XBT_BPFFS/failed' ]"
xbt_ns ip link add xbt-dummy0 type dummy
xbt_ns ip link set xbt-dummy0 up
run_pin "$XBT_BPFFS/failed" run -i xbt-dummy0 -i xbt-nosuchdev
expect_eval "an attach that succeeds, then one that fails: exit 2, no pins left" \
	"[ \$RC -eq 2 ] && [ ! -e '$XBT_BPFFS/failed' ]"
expect_eval "  ... and the first interface detached again" \
	"! ip -n '$XBT_NS' link show xbt-dummy0 | grep -q xdp"
mkdir -m 0700 "$XBT_BPFFS/empty"
run_pin "$XBT_BPFFS/empty" run -i xbt-nosuchdev
expect_eval "a failed run in an empty directory it did not make: the directory stays, empty" \
	"[ \$RC -eq 2 ] && [ -d '$XBT_BPFFS/empty' ] && [ -z \"\$(ls -A '$XBT_BPFFS/empty')\" ]"
# The pins of an earlier run are not the failed run's to remove.
xbt_daemon_start
xbt_daemon_wait_synced 10 || tap_fail "daemon synced again"
xbt_daemon_stop TERM
run_pin "$XBT_PIN" run -i xbt-nosuchdev
expect_eval "a failed run on an earlier run's pins leaves them" \
	"[ \$RC -eq 2 ] && [ -e '$XBT_PIN/xb_sync' ] && [ -e '$XBT_PIN/xb_abi' ]"

# The heartbeat's age is that of one read of the sync record, not taken
# after reading a big SPD: with 20,000 policies, a 100 ms beat and a 500 ms
# timeout, a live daemon's status is synced and its age below the timeout.
for ((i = 0; i < 20000; i++)); do
	printf 'xfrm policy add src 10.%d.%d.0/24 dst 198.51.100.0/24 dir in priority %d\n' \
		$((i / 250)) $((i % 250)) $((i % 1000))
done >"$XBT_DIR/big.batch"
xbt_ns ip -batch "$XBT_DIR/big.batch"
xbt_daemon_start --heartbeat-ms 100 --heartbeat-timeout-ms 500
if xbt_daemon_wait_synced 60; then
	bad=
	for i in 1 2 3 4 5; do
		run_xb status -j
		jq -e '.synced == true and .policies >= 20000 and .heartbeat_age_ms < 500' \
			"$OUT" >/dev/null || bad="$bad $(jq -c '{synced, heartbeat_age_ms}' "$OUT")"
		run_xb status
		grep -q '^sync: *synced' "$OUT" || bad="$bad text:$(head -1 "$OUT")"
	done
	expect_eval "20,000 policies, 500 ms timeout: status synced, heartbeat age < 500 ms (5 reads)" \
		'[ -z "$bad" ]'
else
	tap_fail "daemon with 20,000 policies synced"
fi
xbt_daemon_stop TERM
tap_done
