#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `run --max-policies N`: an SPD larger than the maps fails open, visibly
# (status says why, the daemon keeps running, the datapath passes what an
# incomplete mirror would drop), and the mirror converges back once
# policies are deleted. The same for a map that is full (more templates
# than xb_tmpls holds). Pins of another size are re-created when no
# program uses them and refused while one does.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/datapath.sh"

MAX=64

xbt_dp_setup mirror-capacity
xbt_have_binary mirror-capacity || exit 0
xbt_dp_ns PEER mirror-capacity-peer
xbt_dp_veth "$XBT_NS" xbc0 "$PEER" xbc1
ip -n "$XBT_NS" addr add 192.0.2.1/24 dev xbc0
ip -n "$PEER" addr add 192.0.2.2/24 dev xbc1
OUT=$XBT_DIR/out

# The flow the test watches: UDP from the peer to port 7777 on the gateway.
# A block policy for it (priority 100) is mirrored from the start; the
# allow policy that overrides it (priority 10, a wider selector) is added
# past the capacity, so an incomplete mirror would drop the flow.
BLOCK_SEL="src 192.0.2.2/32 dst 192.0.2.1/32 proto udp dport 7777"
ALLOW_SEL="src 192.0.2.2/32 dst 192.0.2.1/32 proto udp"
xbt_ns ip xfrm policy add $BLOCK_SEL dir in action block priority 100 ||
	xbt_bail "cannot add the block policy"

# Filler policy i: out, 192.0.2.0/24 -> 198.51.100.(i/2) or its IPv6 twin.
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
# Policy i with six templates (five entries of xb_tmpls each): fwd,
# 203.0.113.i -> 198.51.100.0/24.
tmpl_sel() {
	echo "src 203.0.113.$1/32 dst 198.51.100.0/24"
}
add_tmpl_policies() {
	local i t tmpls
	for i in $(seq "$1" "$2"); do
		tmpls=
		for t in 1 2 3 4 5 6; do
			tmpls+=" tmpl src 192.0.2.1 dst 192.0.2.$((10 + t)) proto esp mode tunnel reqid $t level use"
		done
		echo "xfrm policy add $(tmpl_sel "$i") dir fwd priority 500$tmpls"
	done | xbt_ns ip -batch -
}
del_tmpl_policies() {
	local i
	for i in $(seq "$1" "$2"); do
		echo "xfrm policy delete $(tmpl_sel "$i") dir fwd"
	done | xbt_ns ip -batch -
}
kernel_count() {
	xbt_ns ip xfrm policy list | grep -c '^src'
}
kernel_has() {
	local want=$1 name=$2 n

	n=$(kernel_count)
	[ "$n" = "$want" ] && tap_ok "$name" || tap_fail "$name" "kernel has $n"
}
over_capacity() {
	xb status -j 2>/dev/null |
		jq -e ".synced == false and .over_capacity == true and
		       .unsynced_reason == \"over_capacity\" and .max_policies == $MAX" >/dev/null
}
map_full() {
	xb status -j 2>/dev/null |
		jq -e ".synced == false and .unsynced_reason == \"map_full\" and
		       .full_map == \"$1\"" >/dev/null
}
synced_with() {
	xb status -j 2>/dev/null | jq -e ".synced == true and .policies == $1 and
					    .unsynced_reason == null" >/dev/null
}
alive() {
	kill -0 "$XBT_DAEMON_PID" 2>/dev/null
}
warnings() {
	grep -c "$1" "$XBT_LOG"
}
one_warning() {
	local n

	n=$(warnings "$1")
	[ "$n" = 1 ] && tap_ok "$2" || tap_fail "$2" "$n warnings"
}
# classify_udp: the loaded XDP program's verdict for the watched flow.
classify_udp() {
	xb -j classify -i xbc0 udp 192.0.2.2:40000 192.0.2.1:7777 >"$OUT" 2>&1
}
classified() {
	classify_udp && jq -e "$1" "$OUT" >/dev/null
}
expect_fail_open() {
	if classified '.verdict == "pass" and .reason == "unsynced_pass"'; then
		tap_ok "$1"
	else
		tap_fail "$1" "$(tr '\n' ' ' <"$OUT")"
	fi
}
# send_udp: three real packets from the peer through the attached veth.
send_udp() {
	ip netns exec "$PEER" python3 "$XBT_DP_PY" send 192.0.2.1 7777 --count 3 >/dev/null
}
reason() {
	xbt_reason "$1"
}

# ---- (a) live adds past the capacity ----
xbt_daemon_start --max-policies "$MAX" -i xbc0 --mode skb
xbt_daemon_wait_synced 10 || { tap_fail "daemon synced"; exit 1; }
tap_ok "daemon synced with --max-policies $MAX, the datapath on xbc0"
check "status -j reports max_policies $MAX" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j | jq .max_policies)\" = $MAX ]"
check "xb_policy_stats pinned with $MAX entries, xb_policies, xb_scope_pages and xb_tmpl_pages with their pages of 30, 47 and 41" \
	bash -c "bpftool -j map show pinned $XBT_PIN/xb_policy_stats | jq -e '.max_entries == $MAX' &&
		 bpftool -j map show pinned $XBT_PIN/xb_policies |
		 jq -e '.max_entries == ((($MAX + 29) / 30) | floor)' &&
		 bpftool -j map show pinned $XBT_PIN/xb_scope_pages |
		 jq -e '.max_entries == ((($MAX + 46) / 47) | floor)' &&
		 bpftool -j map show pinned $XBT_PIN/xb_tmpl_pages |
		 jq -e '.max_entries == ((($MAX + 40) / 41) | floor)'"
check "xb_tss pinned with $MAX entries, xb_tss_pair with $((2 * MAX))" \
	bash -c "bpftool -j map show pinned $XBT_PIN/xb_tss | jq -e '.max_entries == $MAX' &&
		 bpftool -j map show pinned $XBT_PIN/xb_tss_pair | jq -e '.max_entries == $((2 * MAX))'"
if classified '.verdict == "drop" and .reason == "policy_block"'; then
	tap_ok "synced: the block policy drops the watched flow"
else
	tap_fail "synced: the block policy drops the watched flow" "$(tr '\n' ' ' <"$OUT")"
fi

add_policies 0 79
xbt_ns ip xfrm policy add $ALLOW_SEL dir in action allow priority 10 ||
	tap_fail "add the allow policy past the capacity"
kernel_has 82 "kernel holds 82 policies (the allow one past the capacity)"
if wait_for 5 over_capacity; then
	tap_ok "82 live adds: not synced, reason over_capacity"
else
	tap_fail "82 live adds: not synced, reason over_capacity" "$(xb status -j | jq -c .)"
fi
expect "daemon still running over capacity" alive
out=$(xb status)
if grep -q "not synced: the SPD holds more policies than --max-policies $MAX; the datapath passes everything" <<<"$out"; then
	tap_ok "status text names the reason"
else
	tap_fail "status text names the reason" "$(head -1 <<<"$out")"
fi
one_warning "more policies than --max-policies $MAX" "one warning in the daemon log"
expect_fail_open "classify: the flow the unmirrored allow policy admits passes (unsynced_pass)"
p0=$(reason unsynced_pass)
b0=$(reason policy_block)
send_udp
expect "3 real packets: unsynced_pass grew by 3 or more" \
	eval '[ "$(reason unsynced_pass)" -ge $((p0 + 3)) ]'
expect "... and policy_block did not grow" eval '[ "$(reason policy_block)" = "$b0" ]'
out=$(xb check 2>&1)
rc=$?
[ "$rc" = 1 ] && tap_ok "check: drift while over capacity" ||
	tap_fail "check: drift while over capacity" "exit $rc"
# More adds while over: still one warning.
add_policies 80 84
sleep 1.5
over_capacity && [ "$(warnings "more policies than --max-policies $MAX")" = 1 ] &&
	tap_ok "more adds: still over capacity, no new warning" ||
	tap_fail "more adds: still over capacity, no new warning"
del_policies 80 84

# ---- (c) back under the capacity: converges within 5 s ----
del_policies 40 79
kernel_has 42 "kernel back to 42 policies"
if wait_for 5 synced_with 42; then
	tap_ok "deleted to 42: synced again within 5 s with 42 policies"
else
	tap_fail "deleted to 42: synced again within 5 s with 42 policies" "$(xb status -j | jq -c .)"
fi
check "xfrmbpf check exits 0" xb check
xbt_expect_converged "mirror equals the kernel (check + oracle)"
if classified '.verdict == "pass" and .reason != "unsynced_pass"'; then
	tap_ok "synced again: the datapath decides the flow itself (the allow policy)"
else
	tap_fail "synced again: the datapath decides the flow itself (the allow policy)" \
		"$(tr '\n' ' ' <"$OUT")"
fi
expect "daemon still running" alive

# ---- a full map: six templates a policy overflow xb_tmpls ($MAX entries) ----
del_policies 0 39
add_tmpl_policies 1 20
kernel_has 22 "kernel holds 22 policies, 100 templates past the first"
if wait_for 5 map_full xb_tmpls; then
	tap_ok "xb_tmpls full: not synced, reason map_full, full_map xb_tmpls"
else
	tap_fail "xb_tmpls full: not synced, reason map_full, full_map xb_tmpls" \
		"$(xb status -j | jq -c .)"
fi
expect "daemon still running with a full map" alive
if xb status | grep -q "not synced: the map xb_tmpls is full; the datapath passes everything"; then
	tap_ok "status text names the full map"
else
	tap_fail "status text names the full map" "$(xb status | head -1)"
fi
one_warning "The map xb_tmpls is full" "one warning for the full map"
expect_fail_open "classify with a full map: unsynced_pass"
del_tmpl_policies 10 20
kernel_has 11 "kernel back to 11 policies, 45 templates past the first"
if wait_for 5 synced_with 11; then
	tap_ok "rebuilt within 5 s: synced with 11 policies"
else
	tap_fail "rebuilt within 5 s: synced with 11 policies" "$(xb status -j | jq -c .)"
fi
check "xfrmbpf check exits 0 after the rebuild" xb check
xbt_expect_converged "mirror equals the kernel after the rebuild (check + oracle)"
del_tmpl_policies 1 9
xbt_daemon_stop
rc=$?
[ "$rc" = 0 ] && tap_ok "daemon exits 0 on SIGTERM" || tap_fail "daemon exits 0 on SIGTERM" "exit $rc"

# ---- (b) start on an SPD of 102 ----
add_policies 0 99
kernel_has 102 "kernel holds 102 policies"
: >"$XBT_LOG"
xbt_daemon_start --max-policies "$MAX" -i xbc0 --mode skb
if wait_for 10 over_capacity; then
	tap_ok "started on 102: not synced, reason over_capacity"
else
	tap_fail "started on 102: not synced, reason over_capacity" "$(xb status -j | jq -c .)"
fi
sleep 1
expect "daemon still running after a dump that does not fit" alive
one_warning "more policies than --max-policies $MAX" "one warning in the daemon log"
expect_fail_open "classify after a dump that does not fit: unsynced_pass"
del_policies 50 99
if wait_for 5 synced_with 52; then
	tap_ok "deleted to 52: synced again within 5 s with 52 policies"
else
	tap_fail "deleted to 52: synced again within 5 s with 52 policies" "$(xb status -j | jq -c .)"
fi
check "xfrmbpf check exits 0" xb check
xbt_expect_converged "mirror equals the kernel (check + oracle)"
xbt_daemon_stop

# ---- (d) pins of another size: re-created when no program uses them ----
xbt_daemon_start --max-policies 128
if xbt_daemon_wait_synced 10; then
	tap_ok "restart with --max-policies 128 on pins of 64: synced"
else
	tap_fail "restart with --max-policies 128 on pins of 64: synced" "$(tail -3 "$XBT_LOG")"
fi
check "xb_policy_stats re-created with 128 entries" \
	bash -c "bpftool -j map show pinned $XBT_PIN/xb_policy_stats | jq -e '.max_entries == 128'"
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
	bash -c "bpftool -j map show pinned $XBT_PIN/xb_policy_stats | jq -e '.max_entries == 128'"
check "unload xbc0 (what the killed daemon left)" xb unload xbc0

tap_done
