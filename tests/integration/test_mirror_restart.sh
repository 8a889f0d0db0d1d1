#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A daemon killed with SIGKILL leaves its pins behind; the kernel SPD
# changes while nobody mirrors it; a new daemon on the same pins converges
# with no stale and no duplicate entry.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

xbt_setup mirror-restart
xbt_have_binary mirror-restart || exit 0

batch() {
	xbt_ns ip -batch -
}

pins() {
	(cd "$XBT_PIN" 2>/dev/null && find . | sort)
}

mirror_ids() {
	xb policy -j | jq -c '[.[].id] | sort'
}

xbt_daemon_start
xbt_daemon_wait_synced 10 || { tap_fail "daemon synced"; exit 1; }
tap_ok "daemon synced"

# 60 policies: 0..59; v4 and v6; some with templates, some sub.
for i in $(seq 0 59); do
	case $((i % 4)) in
	0) echo "xfrm policy add src 192.0.2.$i dst 198.51.100.0/24 dir out priority $i" ;;
	1) echo "xfrm policy add src 2001:db8:1::$i dst 2001:db8:2::/64 proto tcp dport $((1000 + i)) dir in priority $i" ;;
	2) echo "xfrm policy add src 192.0.2.$i dst 203.0.113.0/24 dir fwd tmpl src 198.51.100.1 dst 198.51.100.2 proto esp mode tunnel reqid $i" ;;
	3) echo "xfrm policy add src 192.0.2.$i dst 203.0.113.$i dir out ptype sub priority $i" ;;
	esac
done | batch
xbt_expect_converged "60 policies mirrored"
pins_before=$(pins)
if [ -n "$pins_before" ] && [ "$(echo "$pins_before" | wc -l)" -gt 1 ]; then
	tap_ok "maps pinned under the pin dir ($(echo "$pins_before" | grep -c xb_) pins)"
else
	tap_fail "maps pinned under the pin dir" "pin dir: $pins_before"
fi
ids_before=$(mirror_ids)

# A daemon that is alive but not beating (SIGSTOP) is as stale as a dead
# one: the datapath fails open after the heartbeat timeout (3 s), and
# status must say so too.
kill -STOP "$XBT_DAEMON_PID"
sleep 3.5
st=$(xb status -j)
kill -CONT "$XBT_DAEMON_PID"
if jq -e '.synced == false' <<<"$st" >/dev/null; then
	tap_ok "status: not synced while the daemon is stopped past the heartbeat timeout"
else
	tap_fail "status: not synced while the daemon is stopped past the heartbeat timeout" \
		"$(jq -c '{synced, heartbeat_age_ms, heartbeat_timeout_ms}' <<<"$st")"
fi
if wait_for 5 xbt_synced; then
	tap_ok "synced again after SIGCONT"
else
	tap_fail "synced again after SIGCONT"
fi

xbt_daemon_stop KILL
tap_ok "daemon killed with SIGKILL"
pins_after=$(pins)
if [ "$pins_before" = "$pins_after" ]; then
	tap_ok "pins survive SIGKILL"
else
	tap_fail "pins survive SIGKILL" "$(diff <(echo "$pins_before") <(echo "$pins_after") | tr '\n' ' ')"
fi
check "bpftool reads xb_policies after the kill" \
	bpftool map show pinned "$XBT_PIN/xb_policies"
check "policy -j still reads the last published SPD (60)" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j | jq length)\" = 60 ]"

# Heartbeat timeout is 3 s by default: afterwards status must not claim sync.
if wait_for 6 bash -c "ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j |
		jq -e '.synced == false'"; then
	tap_ok "status: not synced once the killed daemon's heartbeat is stale"
else
	tap_fail "status: not synced once the killed daemon's heartbeat is stale" \
		"$(xb status -j 2>&1 | jq -c '{synced, heartbeat_age_ms, daemon_pid}' 2>&1)"
fi

# Change the SPD while no daemon runs: add 10, delete 10, re-prioritise 10,
# change templates of 5, and flip a default.
{
	for i in $(seq 60 69); do
		echo "xfrm policy add src 192.0.2.$i dst 198.51.100.0/24 dir in priority $i"
	done
	for i in $(seq 0 4 39); do
		echo "xfrm policy delete src 192.0.2.$i dst 198.51.100.0/24 dir out"
	done
	for i in $(seq 1 4 39); do
		echo "xfrm policy update src 2001:db8:1::$i dst 2001:db8:2::/64 proto tcp dport $((1000 + i)) dir in priority $((500 + i))"
	done
	for i in $(seq 2 4 19); do
		echo "xfrm policy update src 192.0.2.$i dst 203.0.113.0/24 dir fwd tmpl src 198.51.100.1 dst 198.51.100.3 proto esp mode tunnel reqid $((100 + i))"
	done
	echo "xfrm policy setdefault fwd block"
} | batch
kn=$(xbt_ns ip xfrm policy list | grep -c '^src')
[ "$kn" = 60 ] && tap_ok "kernel SPD changed (60 policies, other content)" ||
	tap_fail "kernel SPD changed" "kernel has $kn policies, expected 60"

out=$(xb check 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && grep -q "policy missing from the mirror" <<<"$out" &&
   grep -q "policy only in the mirror" <<<"$out"; then
	tap_ok "check reports drift while no daemon runs"
else
	tap_fail "check reports drift while no daemon runs" "exit $rc: $(echo "$out" | head -3)"
fi

xbt_daemon_start
if xbt_daemon_wait_synced 10; then
	tap_ok "restarted daemon synced on the old pins"
else
	tap_fail "restarted daemon synced on the old pins"
fi
xbt_expect_converged "restart: check and spd_compare equal"
check "restart: 60 policies in policy -j and status" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j | jq length)\" = 60 ] &&
		[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j | jq .policies)\" = 60 ]"
check "restart: ids unique" \
	bash -c "ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j |
		jq -e '([.[].id] | unique | length) == length'"
check "restart: no stale index (every mirrored index is in the kernel)" \
	bash -c "diff <(ip netns exec $XBT_NS ip -s xfrm policy list | sed -n 's/.* index \([0-9]*\) .*/\1/p' | sort -n) \
		<(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j | jq '.[].index' | sort -n)"
check "restart: default fwd block mirrored" \
	bash -c "ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j | jq -e '.default.fwd == \"block\"'"
echo "# ids before kill: $(echo "$ids_before" | cut -c1-80)..."
echo "# ids after restart: $(mirror_ids | cut -c1-80)..."

# SIGKILL in the middle of a burst, restart, converge.
# (printf, not $(...): a fork per line costs seconds on a loaded machine.)
for ((i = 0; i < 2000; i++)); do
	printf 'xfrm policy add src 2001:db8:3::%x dst 2001:db8:4::/64 dir out priority %d\n' \
		"$i" $((i % 50))
done >"$XBT_DIR/burst.batch"
ip netns exec "$XBT_NS" ip -batch "$XBT_DIR/burst.batch" &
burst=$!
xbt_track_pid "$burst"
sleep 0.05
xbt_daemon_stop KILL
wait "$burst"
xbt_ns ip xfrm policy delete src 192.0.2.61 dst 198.51.100.0/24 dir in
xbt_daemon_start
if xbt_daemon_wait_synced 20; then
	tap_ok "daemon killed mid-burst restarts and syncs"
else
	tap_fail "daemon killed mid-burst restarts and syncs"
fi
xbt_expect_converged "mid-burst kill: check and spd_compare equal (2059 policies)" 20

xbt_daemon_stop TERM
rc=$?
[ "$rc" -eq 0 ] && tap_ok "daemon exits 0 on SIGTERM" || tap_fail "daemon exits 0 on SIGTERM" "exit $rc"
tap_done
