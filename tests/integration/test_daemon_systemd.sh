#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `xfrmbpf run` as a systemd service, with a real notification socket: a
# python listener bound to an AF_UNIX datagram socket plays systemd
# (NOTIFY_SOCKET). READY=1 comes once the mirror is synced (the listener
# reads `status -j` the moment it arrives); STATUS= says the state;
# WATCHDOG=1 comes at the heartbeat when WATCHDOG_USEC and WATCHDOG_PID
# name this daemon, and not for another pid. --config: the command line
# wins over the file; SIGHUP attaches an interface newly listed and
# detaches one no longer listed without a re-dump (generation and sync go
# on), between RELOADING=1 and READY=1; a broken file on reload is logged
# with FILE:LINE and the daemon keeps running as it was; a broken file at
# start exits 2 with FILE:LINE. JOURNAL_STREAM naming stderr gives "<N>"
# priority prefixes. STOPPING=1 on SIGTERM, which detaches.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/datapath.sh"

xbt_dp_setup systemd
xbt_have_binary systemd || exit 0

xbt_dp_ns PEER systemd-peer
xbt_dp_veth "$XBT_NS" xbt-sd0 "$PEER" xbt-sdp0
xbt_dp_veth "$XBT_NS" xbt-sd1 "$PEER" xbt-sdp1
ip -n "$XBT_NS" addr add 192.0.2.1/24 dev xbt-sd0
ip -n "$XBT_NS" addr add 198.51.100.1/24 dev xbt-sd1
xbt_ns ip -batch - <<'EOF' || xbt_bail "cannot add policies"
xfrm policy add src 192.0.2.0/24 dst 198.51.100.0/24 dir fwd action block priority 10
xfrm policy add src 2001:db8:1::/64 dst 2001:db8:2::/64 dir in priority 20
EOF

SOCK=$XBT_DIR/notify.sock
NLOG=$XBT_DIR/notify.log
CONF=$XBT_DIR/xfrmbpf.conf

# The listener: one line per datagram, "SECONDS MESSAGE" with the message's
# lines joined by '|'. At the first READY=1 it runs `status -j` and writes
# "STATUS_AT_READY synced=<true|false>" before anything else is read.
listener_start() {
	rm -f "$SOCK"
	"$XBT_PYTHON" - "$SOCK" "$NLOG" "$XBT_NS" "$XFRMBPF" "$XBT_PIN" <<'EOF' &
import json, socket, subprocess, sys, time

path, log, ns, xfrmbpf, pin = sys.argv[1:6]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
ready_seen = False
with open(log, "a", buffering=1) as out:
    out.write("LISTENING\n")
    while True:
        msg = s.recv(4096).decode(errors="replace")
        out.write("%.3f %s\n" % (time.monotonic(), msg.strip("\n").replace("\n", "|")))
        if "READY=1" in msg.split("\n") and not ready_seen:
            ready_seen = True
            r = subprocess.run(["ip", "netns", "exec", ns, xfrmbpf, "--pin-dir", pin,
                                "status", "-j"], capture_output=True, text=True)
            try:
                synced = json.loads(r.stdout).get("synced")
            except ValueError:
                synced = None
            out.write("STATUS_AT_READY synced=%s\n" % json.dumps(synced))
EOF
	LISTENER_PID=$!
	xbt_track_pid "$LISTENER_PID"
	wait_for 5 grep -q LISTENING "$NLOG" || xbt_bail "notification listener did not start"
}

# notified PATTERN: a datagram matching PATTERN (extended regexp) arrived.
notified() { grep -qE "^[0-9.]+ (.*\|)?($1)(\||$)" "$NLOG"; }
# count_notified PATTERN
count_notified() { grep -cE "^[0-9.]+ (.*\|)?($1)(\||$)" "$NLOG"; }
RELOADING='RELOADING=1\|MONOTONIC_USEC=[0-9]+'
reloads_above() { [ "$(count_notified "$RELOADING")" -gt "$1" ]; }
not_attached() { [ -z "$(xbt_xdp_prog_of "$XBT_NS" "$1")" ]; }

# start_daemon WATCHDOG_PID_MODE RUN-ARGS...: the daemon with NOTIFY_SOCKET
# and WATCHDOG_USEC=500000; WATCHDOG_PID is the daemon's own pid ("self",
# through a shell that execs into it) or 1 ("other").
start_daemon() {
	local mode=$1

	shift
	echo "=== xfrmbpf run $* ($(date -u +%T.%N))" >>"$XBT_LOG"
	# shellcheck disable=SC2016
	NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=500000 XB_WD_MODE=$mode \
		bash -c 'if [ "$XB_WD_MODE" = self ]; then export WATCHDOG_PID=$$; else export WATCHDOG_PID=1; fi
			 unset XB_WD_MODE; exec "$@"' _ \
		ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$XBT_PIN" run "$@" \
		</dev/null >>"$XBT_LOG" 2>&1 &
	XBT_DAEMON_PID=$!
}

# --- config errors at start: exit 2 with FILE:LINE ---------------------------
# config_refused NAME CONTENT MESSAGE: `run --config` of a file holding
# CONTENT (printf format) exits 2 with MESSAGE in its output.
config_refused() {
	local out rc

	# shellcheck disable=SC2059  # CONTENT is the format
	printf "$2" >"$CONF"
	out=$(xb run --config "$CONF" 2>&1); rc=$?
	if [ "$rc" -eq 2 ] && [[ $out == *"$3"* ]]; then
		tap_ok "$1"
	else
		tap_fail "$1" "rc $rc: $out"
	fi
}
config_refused "config: an unknown key exits 2 with FILE:LINE" \
	'# comment\n\ninterface = xbt-sd0\nflavour = strong\n' "$CONF:4: unknown key 'flavour'"
config_refused "config: a bad value exits 2 with FILE:LINE and the command line's check" \
	'interface = xbt-sd0\n  mode = turbo  \n' "$CONF:2: invalid mode 'turbo' (native or skb)"
config_refused "config: a flag takes yes or no" \
	'steer = perhaps\n' "$CONF:1: invalid steer 'perhaps' (yes or no)"
out=$(xb run --config "$XBT_DIR/missing.conf" 2>&1); rc=$?
if [ "$rc" -eq 2 ] && [[ $out == *"$XBT_DIR/missing.conf: couldn't read it"* ]]; then
	tap_ok "config: an unreadable file exits 2 naming it"
else
	tap_fail "config: an unreadable file exits 2 naming it" "rc $rc: $out"
fi
if [ ! -e "$XBT_PIN/xb_sync" ]; then
	tap_ok "config errors: nothing pinned"
else
	tap_fail "config errors: nothing pinned" "$(ls "$XBT_PIN")"
fi

# --- start: READY=1 after the sync, STATUS=, WATCHDOG=1 ----------------------
# heartbeat-ms in the file (900) loses to the command line's 200: the
# watchdog is fed every 200 ms. heartbeat-timeout-ms (2500) comes from the file.
cat >"$CONF" <<'EOF'
# xfrmbpf test configuration
interface = xbt-sd0   # the first port
heartbeat-ms = 900
heartbeat-timeout-ms = 2500
no-default-bypass = no
EOF
listener_start
start_daemon self --config "$CONF" --heartbeat-ms 200
if wait_for 10 notified 'READY=1'; then
	tap_ok "READY=1 sent"
else
	tap_fail "READY=1 sent" "$(tail -5 "$NLOG")"
fi
wait_for 5 grep -q STATUS_AT_READY "$NLOG"
if grep -q 'STATUS_AT_READY synced=true' "$NLOG"; then
	tap_ok "status -j says synced when READY=1 arrives"
else
	tap_fail "status -j says synced when READY=1 arrives" "$(grep STATUS_AT_READY "$NLOG")"
fi
if xbt_xdp_ours "$XBT_NS" xbt-sd0; then
	tap_ok "the config file's interface is attached (xb_xdp on xbt-sd0)"
else
	tap_fail "the config file's interface is attached" "$(xbt_xdp_prog_of "$XBT_NS" xbt-sd0)"
fi
# STATUS= before READY=1 in the same datagram or earlier, then unchanged
if notified 'STATUS=Mirror synced, generation [0-9]+: 2 policies, 0 SAs; attached: xbt-sd0'; then
	tap_ok "STATUS= says synced, generation, 2 policies, 0 SAs, attached xbt-sd0"
else
	tap_fail "STATUS= says synced, generation, policies, SAs, interfaces" "$(grep STATUS= "$NLOG")"
fi
if [ "$(xbt_status_field heartbeat_timeout_ms)" = 2500 ]; then
	tap_ok "heartbeat-timeout-ms from the file (2500)"
else
	tap_fail "heartbeat-timeout-ms from the file (2500)" "$(xbt_status_field heartbeat_timeout_ms)"
fi

n0=$(count_notified 'WATCHDOG=1')
s0=$(count_notified 'STATUS=.*')
sleep 2
n1=$(count_notified 'WATCHDOG=1')
s1=$(count_notified 'STATUS=.*')
# at 200 ms: about 10 in 2 s (the file's 900 ms would give 2 or 3)
if [ $((n1 - n0)) -ge 7 ] && [ $((n1 - n0)) -le 13 ]; then
	tap_ok "WATCHDOG=1 at the command line's heartbeat (200 ms): $((n1 - n0)) in 2 s"
else
	tap_fail "WATCHDOG=1 at the command line's heartbeat (200 ms)" "$((n1 - n0)) in 2 s"
fi
gap=$(grep -E '^[0-9.]+ WATCHDOG=1$' "$NLOG" | tail -8 |
	awk 'NR > 1 { d = $1 - p; if (d > m) m = d } { p = $1 } END { printf "%d", m * 1000 }')
if [ "${gap:-9999}" -lt 450 ]; then
	tap_ok "WATCHDOG=1 never more than 450 ms apart (longest gap ${gap} ms, WatchdogSec 500 ms)"
else
	tap_fail "WATCHDOG=1 never more than 450 ms apart" "longest gap ${gap} ms"
fi
if [ "$s1" -eq "$s0" ] && [ "$s0" -ge 1 ]; then
	tap_ok "STATUS= only when it changes (none over $((n1 - n0)) beats of an idle mirror)"
else
	tap_fail "STATUS= only when it changes" "$s0 -> $s1 STATUS= lines: $(grep STATUS= "$NLOG" | tail -3)"
fi

# --- SIGHUP: attach and detach without a re-dump ----------------------------
gen0=$(xbt_status_field generation)
resyncs0=$(xbt_status_field resyncs)
cat >"$CONF" <<'EOF'
interface = xbt-sd0
interface = xbt-sd1
heartbeat-ms = 900
heartbeat-timeout-ms = 2500
EOF
r0=$(count_notified "$RELOADING")
kill -HUP "$XBT_DAEMON_PID"
if wait_for 10 xbt_xdp_ours "$XBT_NS" xbt-sd1; then
	tap_ok "reload: the newly listed xbt-sd1 is attached (xb_xdp)"
else
	tap_fail "reload: the newly listed xbt-sd1 is attached" "$(xbt_xdp_prog_of "$XBT_NS" xbt-sd1)"
fi
wait_for 5 notified 'STATUS=.*attached: xbt-sd0 xbt-sd1'
wait_for 5 reloads_above "$r0"
if [ "$(count_notified "$RELOADING")" -eq $((r0 + 1)) ] &&
   grep -E '^[0-9.]+ ' "$NLOG" | sed -n '/RELOADING=1/,$p' | grep -qE ' (.*\|)?READY=1(\||$)'; then
	tap_ok "reload: RELOADING=1 with MONOTONIC_USEC=, then READY=1"
else
	tap_fail "reload: RELOADING=1 with MONOTONIC_USEC=, then READY=1" "$(tail -6 "$NLOG")"
fi
if notified 'STATUS=Mirror synced, .*attached: xbt-sd0 xbt-sd1'; then
	tap_ok "reload: STATUS= lists both interfaces"
else
	tap_fail "reload: STATUS= lists both interfaces" "$(grep STATUS= "$NLOG" | tail -3)"
fi
gen1=$(xbt_status_field generation)
if xbt_synced && [ "$gen1" -ge "$gen0" ] && [ "$(xbt_status_field resyncs)" = "$resyncs0" ] &&
   [ "$(grep -c 'Mirror synced' "$XBT_LOG")" -eq 1 ]; then
	tap_ok "reload: still synced, generation $gen0 -> $gen1, no re-dump"
else
	tap_fail "reload: still synced, generation kept, no re-dump" \
		"synced $(xbt_status_field synced), generation $gen0 -> $gen1, resyncs $resyncs0 -> $(xbt_status_field resyncs), $(grep -c 'Mirror synced' "$XBT_LOG") syncs logged"
fi
xbt_expect_converged "reload: the mirror still equals the kernel"

# max-policies cannot change while running: warned, kept
cat >"$CONF" <<'EOF'
interface = xbt-sd0
heartbeat-ms = 900
heartbeat-timeout-ms = 2500
max-policies = 4096
EOF
kill -HUP "$XBT_DAEMON_PID"
if wait_for 10 not_attached xbt-sd1; then
	tap_ok "reload: xbt-sd1, no longer listed, is detached"
else
	tap_fail "reload: xbt-sd1, no longer listed, is detached" "$(xbt_xdp_prog_of "$XBT_NS" xbt-sd1)"
fi
if xbt_xdp_ours "$XBT_NS" xbt-sd0; then
	tap_ok "reload: xbt-sd0, still listed, stays attached"
else
	tap_fail "reload: xbt-sd0, still listed, stays attached"
fi
wait_for 5 grep -q 'max-policies needs a restart' "$XBT_LOG"
if grep -q 'max-policies needs a restart; keeping max-policies 1048576' "$XBT_LOG"; then
	tap_ok "reload: a new max-policies is a warning (needs a restart), the old value kept"
else
	tap_fail "reload: a new max-policies is a warning (needs a restart)" "$(grep -i restart "$XBT_LOG")"
fi
if xbt_synced && [ "$(xbt_status_field resyncs)" = "$resyncs0" ]; then
	tap_ok "reload: still synced after detaching, no re-dump"
else
	tap_fail "reload: still synced after detaching, no re-dump"
fi

# a broken file on reload: logged with FILE:LINE, nothing changes (the bad
# value is one the command line overrides: checked all the same)
printf 'interface = xbt-sd0\ninterface = xbt-sd1\nheartbeat-ms = fast\n' >"$CONF"
r0=$(count_notified "$RELOADING")
kill -HUP "$XBT_DAEMON_PID"
wait_for 5 grep -q "$CONF:3:" "$XBT_LOG"
if grep -q "Couldn't reload: $CONF:3: invalid value 'fast' for heartbeat-ms" "$XBT_LOG"; then
	tap_ok "reload: a broken file is logged with FILE:LINE"
else
	tap_fail "reload: a broken file is logged with FILE:LINE" "$(tail -3 "$XBT_LOG")"
fi
wait_for 5 reloads_above "$r0"
sleep 0.5
if kill -0 "$XBT_DAEMON_PID" 2>/dev/null && xbt_synced && xbt_xdp_ours "$XBT_NS" xbt-sd0 &&
   ! xbt_xdp_ours "$XBT_NS" xbt-sd1; then
	tap_ok "reload: after a broken file the daemon runs on, as it was"
else
	tap_fail "reload: after a broken file the daemon runs on, as it was"
fi
if grep -E '^[0-9.]+ ' "$NLOG" | awk '/RELOADING=1/ { n++; r = 0 } n && / (.*\|)?READY=1(\||$)/ { r = 1 } END { exit !(n >= 3 && r) }'; then
	tap_ok "reload: READY=1 after each RELOADING=1, the failed one too"
else
	tap_fail "reload: READY=1 after each RELOADING=1" "$(tail -5 "$NLOG")"
fi

# --- stop ---------------------------------------------------------------------
xbt_daemon_stop
rc=$?
if [ "$rc" -eq 0 ] && notified 'STOPPING=1'; then
	tap_ok "SIGTERM: STOPPING=1, exit 0"
else
	tap_fail "SIGTERM: STOPPING=1, exit 0" "rc $rc"
fi
if not_attached xbt-sd0; then
	tap_ok "SIGTERM: xbt-sd0 detached"
else
	tap_fail "SIGTERM: xbt-sd0 detached" "$(xbt_xdp_prog_of "$XBT_NS" xbt-sd0)"
fi

# --- a watchdog for another pid: no WATCHDOG=1; no config: SIGHUP is a no-op --
kill "$LISTENER_PID" 2>/dev/null
wait "$LISTENER_PID" 2>/dev/null
: >"$NLOG"
listener_start
start_daemon other
wait_for 10 notified 'READY=1' || tap_fail "READY=1 without a config" "$(tail -3 "$NLOG")"
kill -HUP "$XBT_DAEMON_PID"
sleep 1.5
if [ "$(count_notified 'WATCHDOG=1')" -eq 0 ]; then
	tap_ok "WATCHDOG_PID of another process: no WATCHDOG=1"
else
	tap_fail "WATCHDOG_PID of another process: no WATCHDOG=1" "$(count_notified 'WATCHDOG=1') sent"
fi
if kill -0 "$XBT_DAEMON_PID" 2>/dev/null && xbt_synced &&
   grep -q 'no config file to re-read' "$XBT_LOG"; then
	tap_ok "without --config SIGHUP is a logged no-op (the daemon runs on, synced)"
else
	tap_fail "without --config SIGHUP is a logged no-op" "$(tail -3 "$XBT_LOG")"
fi
xbt_daemon_stop

# --- journald: "<N>" prefixes when stderr is the journal ----------------------
JLOG=$XBT_DIR/journal.log
: >"$JLOG"
jstream=$(stat -c '%d:%i' "$JLOG")
JOURNAL_STREAM=$jstream ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$XBT_PIN" run -i xbt-sd0 \
	</dev/null 2>>"$JLOG" &
XBT_DAEMON_PID=$!
xbt_daemon_wait_synced 10 || tap_fail "daemon synced (journal)"
xbt_daemon_stop
if [ -s "$JLOG" ] && ! grep -qvE '^<[3-7]>' "$JLOG" && grep -qE '^<6>Mirror synced' "$JLOG" &&
   grep -qE '^<6>xbt-sd0: detached' "$JLOG"; then
	tap_ok "JOURNAL_STREAM of stderr: every line starts with its priority (<6> info)"
else
	tap_fail "JOURNAL_STREAM of stderr: every line starts with its priority" "$(head -5 "$JLOG")"
fi
if ! grep -qE '[0-9]{2}:[0-9]{2}:[0-9]{2}|^<[0-9]>\[' "$JLOG"; then
	tap_ok "JOURNAL_STREAM: no timestamps of our own"
else
	tap_fail "JOURNAL_STREAM: no timestamps of our own" "$(grep -E '[0-9]{2}:[0-9]{2}' "$JLOG" | head -3)"
fi
printf 'colour = blue\n' >"$CONF"
: >"$JLOG"
JOURNAL_STREAM=$jstream "$XFRMBPF" --pin-dir "$XBT_PIN" run --config "$CONF" 2>>"$JLOG"
if grep -qxF "<3>xfrmbpf: $CONF:1: unknown key 'colour'" "$JLOG"; then
	tap_ok "JOURNAL_STREAM: an error is <3>"
else
	tap_fail "JOURNAL_STREAM: an error is <3>" "$(cat "$JLOG")"
fi
: >"$JLOG"
JOURNAL_STREAM=0:1 "$XFRMBPF" --pin-dir "$XBT_PIN" run --config "$CONF" 2>>"$JLOG"
if grep -qxF "xfrmbpf: $CONF:1: unknown key 'colour'" "$JLOG"; then
	tap_ok "JOURNAL_STREAM of another file: plain lines"
else
	tap_fail "JOURNAL_STREAM of another file: plain lines" "$(cat "$JLOG")"
fi
tap_done
