#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `run --max-policies N`: an SPD larger than the maps fails open, visibly
# (status says why, the daemon keeps running), and the mirror converges
# back once policies are deleted. Pins of another size are re-created when
# no program uses them and refused while one does.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

xbt_setup mirror-capacity
xbt_have_binary mirror-capacity || exit 0

MAX=64

# add_policies FROM TO / del_policies FROM TO: policy i is
# 192.0.2.0/24 -> 198.51.100.i/32 (or 203.0.113.(i-200)) out, v4 and v6 alike.
pol_sel() {
	local i=$1

	if [ $((i % 2)) -eq 0 ]; then
		echo "src 192.0.2.0/24 dst 198.51.100.$((i / 2))/32"
	else
		echo "src 2001:db8:1::/64 dst 2001:db8:2::$((i / 2))/128"
	fi
}
add_policies() {
	local i
	for i in $(seq "$1" "$2"); do
		echo "xfrm policy add $(pol_sel "$i") dir out priority $((100 + i))"
	done | xbt_ns ip -batch -
}
del_policies() {
	local i
	for i in $(seq "$1" "$2"); do
		echo "xfrm policy delete $(pol_sel "$i") dir out"
	done | xbt_ns ip -batch -
}
kernel_count() {
	xbt_ns ip xfrm policy list | grep -c '^src'
}
over_capacity() {
	xb status -j 2>/dev/null |
		jq -e ".synced == false and .over_capacity == true and
		       .unsynced_reason == \"over_capacity\" and .max_policies == $MAX" >/dev/null
}
synced_with() {
	xb status -j 2>/dev/null | jq -e ".synced == true and .policies == $1 and
					    .unsynced_reason == null" >/dev/null
}
alive() {
	kill -0 "$XBT_DAEMON_PID" 2>/dev/null
}
warnings() {
	grep -c "more policies than --max-policies $MAX" "$XBT_LOG"
}

# The veth the datapath is attached to in the last part.
xbt_ns ip link add xbc0 type veth peer name xbc1 || xbt_bail "cannot create a veth"
xbt_ns ip link set xbc0 up
xbt_ns ip link set xbc1 up
xbt_ns ip addr add 192.0.2.1/24 dev xbc0

# (a) live adds past the capacity.
xbt_daemon_start --max-policies "$MAX"
xbt_daemon_wait_synced 10 || { tap_fail "daemon synced"; exit 1; }
tap_ok "daemon synced with --max-policies $MAX"
check "status -j reports max_policies $MAX" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j | jq .max_policies)\" = $MAX ]"
check "xb_policies pinned with $MAX entries" \
	bash -c "bpftool -j map show pinned $XBT_PIN/xb_policies | jq -e '.max_entries == $MAX'"
check "xb_tss pinned with $((2 * MAX)) entries" \
	bash -c "bpftool -j map show pinned $XBT_PIN/xb_tss | jq -e '.max_entries == $((2 * MAX))'"

add_policies 0 79
[ "$(kernel_count)" = 80 ] && tap_ok "kernel holds 80 policies" ||
	tap_fail "kernel holds 80 policies" "kernel has $(kernel_count)"
if wait_for 5 over_capacity; then
	tap_ok "80 live adds: not synced, reason over_capacity"
else
	tap_fail "80 live adds: not synced, reason over_capacity" "$(xb status -j | jq -c .)"
fi
expect "daemon still running over capacity" alive
out=$(xb status)
if grep -q "not synced: the SPD holds more policies than --max-policies $MAX; the datapath passes everything" <<<"$out"; then
	tap_ok "status text names the reason"
else
	tap_fail "status text names the reason" "$(head -1 <<<"$out")"
fi
[ "$(warnings)" = 1 ] && tap_ok "one warning in the daemon log" ||
	tap_fail "one warning in the daemon log" "$(warnings) warnings"
out=$(xb check 2>&1)
rc=$?
[ "$rc" = 1 ] && tap_ok "check: drift while over capacity" ||
	tap_fail "check: drift while over capacity" "exit $rc"
# More adds while over: still one warning.
add_policies 80 84
sleep 1.5
over_capacity && [ "$(warnings)" = 1 ] && tap_ok "more adds: still over capacity, no new warning" ||
	tap_fail "more adds: still over capacity, no new warning" "$(warnings) warnings"
del_policies 80 84

# (b) back to 40: converges within 5 s.
del_policies 40 79
[ "$(kernel_count)" = 40 ] && tap_ok "kernel back to 40 policies" ||
	tap_fail "kernel back to 40 policies" "kernel has $(kernel_count)"
if wait_for 5 synced_with 40; then
	tap_ok "deleted to 40: synced again within 5 s with 40 policies"
else
	tap_fail "deleted to 40: synced again within 5 s with 40 policies" "$(xb status -j | jq -c .)"
fi
check "xfrmbpf check exits 0" xb check
xbt_expect_converged "mirror equals the kernel (check + oracle)"
expect "daemon still running" alive
xbt_daemon_stop
rc=$?
[ "$rc" = 0 ] && tap_ok "daemon exits 0 on SIGTERM" || tap_fail "daemon exits 0 on SIGTERM" "exit $rc"

# (c) start on an SPD of 100.
add_policies 40 99
[ "$(kernel_count)" = 100 ] && tap_ok "kernel holds 100 policies" ||
	tap_fail "kernel holds 100 policies" "kernel has $(kernel_count)"
: >"$XBT_LOG"
xbt_daemon_start --max-policies "$MAX"
if wait_for 10 over_capacity; then
	tap_ok "started on 100: not synced, reason over_capacity"
else
	tap_fail "started on 100: not synced, reason over_capacity" "$(xb status -j | jq -c .)"
fi
sleep 1
expect "daemon still running after a dump that does not fit" alive
[ "$(warnings)" = 1 ] && tap_ok "one warning in the daemon log" ||
	tap_fail "one warning in the daemon log" "$(warnings) warnings"
del_policies 50 99
if wait_for 5 synced_with 50; then
	tap_ok "deleted to 50: synced again within 5 s with 50 policies"
else
	tap_fail "deleted to 50: synced again within 5 s with 50 policies" "$(xb status -j | jq -c .)"
fi
check "xfrmbpf check exits 0" xb check
xbt_expect_converged "mirror equals the kernel (check + oracle)"
xbt_daemon_stop

# (d) pins of another size: re-created when no program uses them.
xbt_daemon_start --max-policies 128
if xbt_daemon_wait_synced 10; then
	tap_ok "restart with --max-policies 128 on pins of 64: synced"
else
	tap_fail "restart with --max-policies 128 on pins of 64: synced" "$(tail -3 "$XBT_LOG")"
fi
check "xb_policies re-created with 128 entries" \
	bash -c "bpftool -j map show pinned $XBT_PIN/xb_policies | jq -e '.max_entries == 128'"
check "status -j reports max_policies 128" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j | jq .max_policies)\" = 128 ]"
xbt_daemon_stop

# ... and refused while a program uses them: a datapath left attached by a
# daemon killed with SIGKILL.
xbt_daemon_start --max-policies 128 -i xbc0 --mode skb
if xbt_daemon_wait_synced 10; then
	tap_ok "daemon with the datapath on xbc0: synced"
else
	tap_fail "daemon with the datapath on xbc0: synced" "$(tail -3 "$XBT_LOG")"
fi
xbt_daemon_stop KILL
out=$(timeout -k 2 10 ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$XBT_PIN" \
	run --max-policies 64 2>&1 </dev/null)
rc=$?
if [ "$rc" = 3 ] && grep -q -- "--max-policies 128" <<<"$out"; then
	tap_ok "other size while a program uses the pins: refused, naming --max-policies 128"
else
	tap_fail "other size while a program uses the pins: refused, naming --max-policies 128" \
		"exit $rc: $(tr '\n' ' ' <<<"$out")"
fi
check "the refused run left the pins as they were" \
	bash -c "bpftool -j map show pinned $XBT_PIN/xb_policies | jq -e '.max_entries == 128'"
check "unload xbc0 (what the killed daemon left)" xb unload xbc0

tap_done
