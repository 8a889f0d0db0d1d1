#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Attaching the datapath: XDP in native and skb mode (ip -d link, bpftool
# net), the skb fallback with a warning, usage and attach errors, clean
# detach on SIGTERM, `unload` after kill -9 (one interface, then --all),
# a foreign TC filter on the same clsact ingress and a foreign XDP program
# on the same device, each counting packets before, during and after;
# jumbo frames (MTU 9000, native mode): multi-buffer frames decided.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/datapath.sh"

xbt_dp_setup dp-attach
xbt_have_binary dp-attach || exit 0
command -v xdp-loader >/dev/null || { tap_skip dp-attach "xdp-loader not installed"; exit 0; }
xbt_dp_ns PEER dp-attach-peer
xbt_dp_veth "$XBT_NS" xbt-gw0 "$PEER" xbt-p0
ip -n "$XBT_NS" addr add 192.0.2.1/24 dev xbt-gw0
ip -n "$PEER" addr add 192.0.2.2/24 dev xbt-p0
xbt_foreign_build || xbt_bail "cannot build the foreign programs"
OUT=$XBT_DIR/out
ERR=$XBT_DIR/err

# On a failed expect (tests/lib/tap.sh): some context.
expect_context() {
	echo "#   link: $(ip -n "$XBT_NS" -d link show dev xbt-gw0 2>&1 | tr '\n' ' ' | head -c 400)"
	echo "#   tc: $(xbt_ns tc filter show dev xbt-gw0 ingress 2>&1 | tr '\n' ' ' | head -c 300)"
}

ping_ok() {
	ip netns exec "$PEER" ping -c 2 -i 0.2 -W 1 192.0.2.1 >/dev/null 2>&1
}

# xdp_mode IF: native, skb or none, as `ip -d link` reports it.
xdp_mode() {
	case $(ip -n "$XBT_NS" -j -d link show dev "$1" | jq -r '.[0].xdp.mode // 0') in
	1) echo native ;;
	2) echo skb ;;
	*) echo none ;;
	esac
}

is_mode() { [ "$(xdp_mode "$1")" = "$2" ]; }
prog_is() { [ "$(xbt_xdp_prog_of "$XBT_NS" "$1")" = "$2" ]; }
ours_xdp() { xbt_xdp_ours "$XBT_NS" "$1"; }

# bpftool_xdp IF MODE: bpftool net lists an XDP program on IF in MODE.
bpftool_xdp() {
	xbt_ns bpftool -j net | jq -e --arg d "$1" --arg m "$2" \
		'[.[0].xdp[] | select(.devname == $d and .mode == $m)] | length == 1' >/dev/null
}

no_xdp() { is_mode "$1" none && ! xbt_ns bpftool -j net | jq -e '.[0].xdp | length > 0' >/dev/null; }

ifaces_entries() {
	bpftool -j map dump pinned "$XBT_PIN/xb_ifaces" 2>/dev/null | jq 'length'
}

ifaces_mtu() {
	bpftool -j map dump pinned "$XBT_PIN/xb_ifaces" 2>/dev/null | jq -r '.[0].formatted.value.mtu // .[0].value.mtu'
}

ours_tc() { xbt_ns tc filter show dev xbt-gw0 ingress | grep -q 'handle 0x7862 xb_tc_steer'; }
foreign_tc() { xbt_ns tc filter show dev xbt-gw0 ingress | grep -q 'xbt_ftc'; }
has_clsact() { xbt_ns tc qdisc show dev xbt-gw0 | grep -q clsact; }
iface_rx() { xb stats -j | jq -r '.interfaces[] | select(.name == "xbt-gw0") | .rx_packets'; }
gt() { [ "$1" -gt "$2" ] 2>/dev/null; }

# run_fg ARGS...: `xfrmbpf run` in the foreground, expected to fail fast.
run_fg() {
	timeout 10 ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$XBT_PIN" run "$@" \
		>"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

one_line_err() { [ "$(wc -l <"$ERR")" -eq 1 ] && grep -q "$1" "$ERR"; }

# ---- native and skb mode, clean detach on SIGTERM ----
for mode in native skb; do
	bmode=$([ $mode = native ] && echo driver || echo generic)
	xbt_daemon_start -i xbt-gw0 --mode $mode
	expect "--mode $mode: daemon synced" xbt_daemon_wait_synced 30
	expect "--mode $mode: ip -d link shows XDP in $mode mode, xb_xdp runs" \
		eval "is_mode xbt-gw0 $mode && ours_xdp xbt-gw0"
	expect "--mode $mode: bpftool net lists it ($bmode)" bpftool_xdp xbt-gw0 $bmode
	expect "--mode $mode: xb_ifaces has the interface" [ "$(ifaces_entries)" = 1 ]
	expect "--mode $mode: traffic passes" ping_ok
	expect "--mode $mode: per-interface counters count it" gt "$(iface_rx)" 0
	if [ $mode = native ]; then
		ip -n "$XBT_NS" link set xbt-gw0 mtu 1400
		expect "an MTU change reaches xb_ifaces at a heartbeat" \
			wait_for 3 eval '[ "$(ifaces_mtu)" = 1400 ]'
		ip -n "$XBT_NS" link set xbt-gw0 mtu 1500
	fi
	xbt_daemon_stop TERM
	expect "--mode $mode: SIGTERM: exit 0" [ $? -eq 0 ]
	expect "--mode $mode: SIGTERM detached XDP (ip -d link, bpftool net)" no_xdp xbt-gw0
	expect "--mode $mode: SIGTERM emptied xb_ifaces" [ "$(ifaces_entries)" = 0 ]
done

# ---- automatic fallback: lo has no native XDP ----
xbt_daemon_start -i lo
expect "lo: daemon synced" xbt_daemon_wait_synced 30
expect "lo: native refused, attached in skb mode" eval "is_mode lo skb && ours_xdp lo"
expect "lo: the fallback is logged as a warning" grep -q "lo: native XDP refused" "$XBT_LOG"
xbt_daemon_stop TERM
expect "lo: detached on SIGTERM" no_xdp lo

run_fg -i lo --mode native
expect "--mode native on lo: exit 1, one line 'Couldn't attach XDP to lo'" \
	eval '[ $RC -eq 1 ] && one_line_err "Couldn.t attach XDP to lo: "'
expect "--mode native on lo: nothing left attached" no_xdp lo
run_fg -i xbt-nosuch0
expect "unknown interface: exit 2, one line" \
	eval '[ $RC -eq 2 ] && one_line_err "xbt-nosuch0"'
run_fg --steer
expect "--steer without -i: exit 2, one line" eval '[ $RC -eq 2 ] && one_line_err "need -i"'
run_fg -i xbt-gw0 --bypass-port udp/0
expect "bad --bypass-port: exit 2, one line" eval '[ $RC -eq 2 ] && one_line_err "bypass-port"'

# ---- a foreign TC filter on the same clsact ingress ----
xbt_ns tc qdisc add dev xbt-gw0 clsact
xbt_ns tc filter add dev xbt-gw0 ingress prio 10 handle 1 bpf da \
	obj "$XBT_DIR/foreign_tc.o" sec tc || xbt_bail "cannot attach the foreign TC filter"
c0=$(xbt_foreign_count xbt_ftc_cnt)
ping_ok
c1=$(xbt_foreign_count xbt_ftc_cnt)
expect "foreign TC filter counts before xfrmbpf ($c0 -> $c1)" gt "$c1" "$c0"
xbt_daemon_start -i xbt-gw0 --steer
expect "--steer: daemon synced" xbt_daemon_wait_synced 30
expect "--steer: our filter (handle 0x7862, prio 30818) next to the foreign one" \
	eval "ours_tc && foreign_tc"
ping_ok
c2=$(xbt_foreign_count xbt_ftc_cnt)
expect "foreign TC filter counts while xfrmbpf is attached ($c1 -> $c2)" gt "$c2" "$c1"
xb unload xbt-gw0 >"$OUT" 2>"$ERR"
RC=$?
expect "unload while the daemon runs: exit 3, one line, nothing removed" \
	eval '[ $RC -eq 3 ] && [ "$(wc -l <"$ERR")" -eq 1 ] && ours_tc && ours_xdp xbt-gw0'

# ---- kill -9 leaves everything attached; unload removes only ours ----
kill -KILL "$XBT_DAEMON_PID"
wait "$XBT_DAEMON_PID" 2>/dev/null
XBT_DAEMON_PID=
expect "kill -9: XDP and TC stay attached" eval "ours_xdp xbt-gw0 && ours_tc"
xb unload xbt-gw0 >"$OUT" 2>"$ERR"
RC=$?
expect "unload xbt-gw0: exit 0" [ $RC -eq 0 ]
expect "unload xbt-gw0: XDP gone" no_xdp xbt-gw0
expect "unload xbt-gw0: our TC filter gone, the foreign one stays" \
	eval "! ours_tc && foreign_tc && has_clsact"
ping_ok
c3=$(xbt_foreign_count xbt_ftc_cnt)
expect "foreign TC filter counts after xfrmbpf left ($c2 -> $c3)" gt "$c3" "$c2"
xbt_ns tc qdisc del dev xbt-gw0 clsact

# ---- clsact created by us: removed by unload --all and by SIGTERM ----
xbt_daemon_start -i xbt-gw0 --steer
expect "--steer on a bare device: synced, clsact created" \
	eval "xbt_daemon_wait_synced 30 && has_clsact && ours_tc"
kill -KILL "$XBT_DAEMON_PID"
wait "$XBT_DAEMON_PID" 2>/dev/null
XBT_DAEMON_PID=
xb unload --all >"$OUT" 2>"$ERR"
RC=$?
expect "unload --all: exit 0" [ $RC -eq 0 ]
expect "unload --all: XDP, TC filter and our clsact gone" \
	eval "no_xdp xbt-gw0 && ! ours_tc && ! has_clsact"
expect "unload --all: pinned maps and pin dir removed" [ ! -e "$XBT_PIN" ]
xbt_daemon_start -i xbt-gw0 --steer
expect "--steer again after unload --all: synced" xbt_daemon_wait_synced 30
xbt_daemon_stop TERM
expect "SIGTERM: our clsact removed with our filter" eval "! has_clsact && no_xdp xbt-gw0"

# ---- restart after kill -9: the new daemon takes over what the old left ----
xbt_daemon_start -i xbt-gw0 --steer
expect "--steer, then kill -9" eval "xbt_daemon_wait_synced 30 && has_clsact"
kill -KILL "$XBT_DAEMON_PID"
wait "$XBT_DAEMON_PID" 2>/dev/null
XBT_DAEMON_PID=
xbt_daemon_start -i xbt-gw0 --steer
expect "restart: synced, the stale XDP program and TC filter replaced" \
	eval 'xbt_daemon_wait_synced 30 && grep -q "removing the XDP program a previous" "$XBT_LOG" &&
	      grep -q "replacing the TC filter a previous" "$XBT_LOG" && ours_tc &&
	      [ "$(xbt_ns tc filter show dev xbt-gw0 ingress | grep -c "handle 0x7862")" -eq 1 ]'
xbt_daemon_stop TERM
expect "restart, SIGTERM: everything gone, the crashed run's clsact too" \
	eval "no_xdp xbt-gw0 && ! ours_tc && ! has_clsact"

# ---- a foreign XDP program on the same device ----
xbt_ns xdp-loader load -m skb xbt-gw0 "$XBT_DIR/foreign_xdp.o" >/dev/null 2>&1 ||
	xbt_bail "xdp-loader could not load the foreign XDP program"
f0=$(xbt_foreign_count xbt_fxdp_cnt)
ping_ok
f1=$(xbt_foreign_count xbt_fxdp_cnt)
expect "foreign XDP program counts before xfrmbpf ($f0 -> $f1)" gt "$f1" "$f0"
if prog_is xbt-gw0 xdp_dispatcher; then
	xbt_daemon_start -i xbt-gw0
	expect "dispatcher: daemon synced next to the foreign program" xbt_daemon_wait_synced 30
	expect "dispatcher: xdp-loader status lists both programs" \
		eval "xbt_ns xdp-loader status xbt-gw0 | grep -q xb_xdp && \
		      xbt_ns xdp-loader status xbt-gw0 | grep -q xbt_fxdp"
	ping_ok
	f2=$(xbt_foreign_count xbt_fxdp_cnt)
	expect "dispatcher: foreign program counts while xfrmbpf runs ($f1 -> $f2)" gt "$f2" "$f1"
	expect "dispatcher: xfrmbpf counts the same traffic" gt "$(iface_rx)" 0
	xbt_daemon_stop TERM
	expect "dispatcher: SIGTERM removed only xb_xdp" \
		eval "! xbt_ns xdp-loader status xbt-gw0 | grep -q xb_xdp && \
		      xbt_ns xdp-loader status xbt-gw0 | grep -q xbt_fxdp"
else
	tap_skip "dispatcher: xfrmbpf and a foreign program share the device" \
		"this kernel refuses freplace programs, so libxdp attaches one program per device"
	run_fg -i xbt-gw0
	expect "no dispatcher: xfrmbpf refuses to replace the foreign program (exit 1, one line)" \
		eval '[ $RC -eq 1 ] && one_line_err "xbt_fxdp.*does not replace"'
	expect "no dispatcher: the foreign program stays attached" prog_is xbt-gw0 xbt_fxdp
	f2=$(xbt_foreign_count xbt_fxdp_cnt)
fi
ping_ok
f3=$(xbt_foreign_count xbt_fxdp_cnt)
expect "foreign XDP program counts after xfrmbpf ($f2 -> $f3)" gt "$f3" "$f2"
xbt_ns xdp-loader unload xbt-gw0 --all >/dev/null 2>&1

# ---- jumbo frames: MTU 9000, native mode, multi-buffer frames decided ----
# An 8000-byte UDP datagram is more than one page: veth hands XDP a
# multi-buffer frame, and only a frags-aware program may attach at all.
xbt_dp_ns SINK dp-attach-sink
xbt_dp_veth "$XBT_NS" xbt-gw1 "$SINK" xbt-s0
ip -n "$XBT_NS" addr add 198.51.100.1/24 dev xbt-gw1
ip -n "$SINK" addr add 198.51.100.2/24 dev xbt-s0
ip -n "$SINK" route add default via 198.51.100.1
ip -n "$PEER" route add 198.51.100.0/24 via 192.0.2.1
xbt_ns sysctl -qw net.ipv4.ip_forward=1
ip -n "$XBT_NS" link set xbt-gw0 mtu 9000
ip -n "$PEER" link set xbt-p0 mtu 9000
ip -n "$XBT_NS" link set xbt-gw1 mtu 9000
ip -n "$SINK" link set xbt-s0 mtu 9000
xbt_ns ip xfrm policy add dir fwd src 192.0.2.2 dst 198.51.100.2 proto udp dport 9 \
	action block priority 10 || xbt_bail "cannot add the FWD block policy"
xbt_ns ip xfrm policy add dir fwd src 192.0.2.2 dst 198.51.100.2 proto udp dport 7000 \
	priority 10 || xbt_bail "cannot add the FWD allow policy"
JLOG=$XBT_DIR/jumbo.log
# the sink logs "PORT LENGTH" for each datagram it receives
ip netns exec "$SINK" python3 -c '
import select, socket, sys
out = open(sys.argv[1], "w", buffering=1)
socks = []
for port in (9, 7000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.51.100.2", port))
    socks.append(s)
out.write("ready\n")
while True:
    for s in select.select(socks, [], [])[0]:
        data = s.recv(65535)
        out.write("%d %d\n" % (s.getsockname()[1], len(data)))
' "$JLOG" &
xbt_track_pid $!
wait_for 5 grep -q ready "$JLOG" || xbt_bail "the jumbo sink did not start"
jsend() {
	ip netns exec "$PEER" python3 "$XBT_DP_PY" send 198.51.100.2 "$1" --count "$2" \
		--size 8000 --sport 40002 >/dev/null
}
xbt_daemon_start -i xbt-gw0 --mode native
expect "MTU 9000: daemon synced, attached" xbt_daemon_wait_synced 30
jblock0=$(xbt_reason policy_block)
jbytes0=$(xb stats -j | jq -r '.reasons.policy_block.bytes')
jallow0=$(xbt_reason pass_policy_allow)
expect "MTU 9000: XDP in native mode, xb_xdp runs" eval "is_mode xbt-gw0 native && ours_xdp xbt-gw0"
jsend 9 3
expect "MTU 9000: three 8000-byte datagrams to a FWD-blocked port dropped as policy_block" \
	wait_for 3 eval '[ $(( $(xbt_reason policy_block) - jblock0 )) -eq 3 ]'
expect "MTU 9000: none of them reached the sink" eval '! grep -q "^9 " "$JLOG"'
# 8000 bytes of UDP payload each, more than one buffer: the whole frame
expect "MTU 9000: their bytes counted in full (3 x 8042)" \
	eval '[ $(( $(xb stats -j | jq -r .reasons.policy_block.bytes) - jbytes0 )) -eq $((3 * 8042)) ]'
jsend 7000 1
expect "MTU 9000: an 8000-byte datagram to an allowed port arrives whole" \
	wait_for 3 grep -qx "7000 8000" "$JLOG"
expect "MTU 9000: ... decided at XDP (pass_policy_allow)" \
	eval '[ $(( $(xbt_reason pass_policy_allow) - jallow0 )) -eq 1 ]'
xbt_daemon_stop TERM
expect "MTU 9000: SIGTERM detached XDP" no_xdp xbt-gw0
ip -n "$XBT_NS" link set xbt-gw0 mtu 1500
ip -n "$PEER" link set xbt-p0 mtu 1500

tap_done
