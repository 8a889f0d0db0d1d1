#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The SPD watch (bpf/spd_watch.bpf.c, user/loader/spd_watch.c): between a
# change of the kernel's SPD and the daemon reading its event, the maps
# still hold the old SPD. Without the watch, a flow whose block policy was
# just deleted is still dropped at XDP for that lag, though the kernel
# would deliver it. With it, such drops pass (pass_spd_changing) until
# the daemon has read past the change. The host has no kprobes: only here
# can it run.
#
# A gateway with xfrmbpf on xbt-gw0 forwards UDP from a peer to a sink
# (203.0.113.5, which counts what arrives as UdpNoPorts). The daemon is
# frozen (SIGSTOP, with a heartbeat timeout far longer than the test) so
# that its lag lasts as long as the test needs; each change of the
# kernel's SPD made meanwhile must let the flow through at once:
#   1. a FWD block policy deleted (xfrm_get_policy);
#   2. the SPD flushed (xfrm_flush_policy);
#   3. the FWD default turned from block to accept (xfrm_set_default);
#   4. a block policy gone at its hard lifetime (xfrm_policy_timer);
# and, the daemon thawed, the maps decide again: a block dropped at XDP,
# no writer left counted.
set -u
. "$(dirname "$0")/_lib.sh"
vm_enter "$0" "$@"
require_root "spd watch"
vm_banner "spd_watch"
. "$TOP/tests/lib/netns.sh"
. "$TOP/tests/lib/datapath.sh"

PORT=7777
DST=203.0.113.5
SEL="src 0.0.0.0/0 dst 203.0.113.0/24 proto udp"

xbt_dp_setup spd-watch
xbt_have_binary spd-watch || exit 0
# a frozen daemon would not see the SIGTERM of the cleanup
spw_cleanup() {
	local rc=$?

	[ -n "$XBT_DAEMON_PID" ] && kill -CONT "$XBT_DAEMON_PID" 2>/dev/null
	(exit $rc)
	xbt_dp_cleanup
}
trap spw_cleanup EXIT

xbt_dp_ns PEER spw-peer
xbt_dp_ns SINK spw-sink
xbt_dp_veth "$XBT_NS" xbt-gw0 "$PEER" xbt-p0
xbt_dp_veth "$XBT_NS" xbt-gw1 "$SINK" xbt-s0
xbt_ns sysctl -qw net.ipv4.ip_forward=1
ip -n "$XBT_NS" addr add 192.0.2.1/24 dev xbt-gw0
ip -n "$PEER" addr add 192.0.2.2/24 dev xbt-p0
ip -n "$XBT_NS" addr add 198.51.100.1/24 dev xbt-gw1
ip -n "$SINK" addr add 198.51.100.2/24 dev xbt-s0
ip -n "$SINK" addr add "$DST/32" dev xbt-s0
ip -n "$PEER" route add 203.0.113.0/24 via 192.0.2.1
xbt_ns ip route add 203.0.113.0/24 via 198.51.100.2
ip -n "$SINK" route add 192.0.2.0/24 via 198.51.100.1

reason_count() { xb stats -j 2>/dev/null | jq -r --arg r "$1" '.reasons[$r].packets // 0'; }
reaches() { local v; v=$(reason_count "$1") && [ "${v:-0}" -ge "$2" ]; }
sink_got() { ip netns exec "$SINK" nstat -az UdpNoPorts | awk '$1 == "UdpNoPorts" { print $2 }'; }
sink_reaches() { local v; v=$(sink_got) && [ "${v:-0}" -ge "$1" ]; }
status_field() { xb status -j 2>/dev/null | jq -r "$1"; }
status_is() { [ "$(status_field "$1")" = "$2" ]; }
send() { ip netns exec "$PEER" "$XBT_PYTHON" "$XBT_DP_PY" send "$DST" "$PORT" --count 3 >/dev/null; }
kernel_policies() { xbt_ns ip xfrm policy list | grep -c '^src'; }
kernel_has_none() { [ "$(kernel_policies)" = 0 ]; }

# outcome NAME REASON DELIVERED: 3 datagrams from the peer, counted under
# REASON; the sink gets all of them (DELIVERED=1) or none (0).
outcome() {
	local name=$1 reason=$2 want=$3 r0 d0 got

	r0=$(reason_count "$reason")
	d0=$(sink_got)
	send
	if ! wait_for 20 reaches "$reason" $((r0 + 3)); then
		tap_fail "$name" "$reason: $(reason_count "$reason"), want >= $((r0 + 3))"
		return
	fi
	if [ "$want" = 1 ]; then
		wait_for 10 sink_reaches $((d0 + 3))
	else
		sleep 1
	fi
	got=$(( $(sink_got) - d0 ))
	if [ "$want" = 1 ] && [ "$got" -lt 3 ]; then
		tap_fail "$name" "the sink got $got of 3"
	elif [ "$want" = 0 ] && [ "$got" -ne 0 ]; then
		tap_fail "$name" "the sink got $got, want none"
	else
		tap_ok "$name"
	fi
}

freeze() { kill -STOP "$XBT_DAEMON_PID"; }
thaw() { kill -CONT "$XBT_DAEMON_PID"; }
# mirrored N: the daemon has published N policies
mirrored() { wait_for 30 status_is .policies "$1"; }

# a heartbeat of 10 s: the maps are trusted again within it only because
# the watch wakes the daemon (5.)
xbt_daemon_start -i xbt-gw0 --heartbeat-ms 10000 --heartbeat-timeout-ms 120000
xbt_daemon_wait_synced 60 || xbt_bail "the daemon did not sync within 60 s"
tap_ok "daemon synced on xbt-gw0"
expect "the daemon watches the kernel's SPD writers (kprobes)" \
	grep -q "SPD watch: kprobes on" "$XBT_LOG"
expect "status -j: spd_watch true" status_is .spd_watch true
expect "status names how SPD changes are seen" \
	eval 'xb status | grep -q "SPD changes: seen as they happen"'

xbt_ns ip xfrm policy add dir fwd $SEL action block priority 10 ||
	xbt_bail "cannot add the FWD block policy"
mirrored 1 || xbt_bail "the block policy was not mirrored"
outcome "baseline: a FWD block policy drops at XDP" policy_block 0
outcome "... from the flow cache too" policy_block 0

# ---- 1. delete ----
freeze
xbt_ns ip xfrm policy delete dir fwd $SEL
outcome "1. block deleted, its event unread: passes (pass_spd_changing), delivered" \
	pass_spd_changing 1
expect "1. the writer returned (spd_writers 0)" status_is .spd_writers 0
thaw
mirrored 0 || tap_fail "1. the daemon read the delete" "policies $(status_field .policies)"
outcome "1. read: no policy, delivered" pass_no_policy 1

# ---- the watch does not keep passing ----
xbt_ns ip xfrm policy add dir fwd $SEL action block priority 10
mirrored 1
outcome "block added again and read: dropped at XDP" policy_block 0

# ---- 2. flush ----
freeze
xbt_ns ip xfrm policy flush
outcome "2. SPD flushed, unread: passes (pass_spd_changing), delivered" pass_spd_changing 1
thaw
mirrored 0 || tap_fail "2. the daemon read the flush" "policies $(status_field .policies)"

# ---- 3. default policy ----
xbt_ns ip xfrm policy setdefault fwd block ||
	xbt_bail "cannot set the FWD default policy"
wait_for 30 status_is .default.fwd block || tap_fail "3. FWD default block mirrored" \
	"default fwd $(status_field .default.fwd)"
outcome "3. FWD default block drops at XDP" default_block 0
freeze
xbt_ns ip xfrm policy setdefault fwd accept
outcome "3. default back to accept, unread: passes (pass_spd_changing), delivered" \
	pass_spd_changing 1
thaw
wait_for 30 status_is .default.fwd accept || tap_fail "3. the daemon read the default" \
	"default fwd $(status_field .default.fwd)"

# ---- 4. hard lifetime ----
xbt_ns ip xfrm policy add dir fwd $SEL action block priority 10 limit time-hard 6
mirrored 1
freeze
if wait_for 30 kernel_has_none; then
	outcome "4. block expired (hard lifetime), unread: passes (pass_spd_changing), delivered" \
		pass_spd_changing 1
else
	tap_fail "4. the kernel expires the policy" "$(kernel_policies) policies left"
fi
thaw
mirrored 0 || tap_fail "4. the daemon read the expiry" "policies $(status_field .policies)"

# ---- 5. a writer that changes nothing wakes the daemon ----
xbt_ns ip xfrm policy add dir fwd $SEL action block priority 10
mirrored 1
xbt_ns ip xfrm policy delete dir fwd src 0.0.0.0/0 dst 192.0.2.0/24 2>/dev/null &&
	xbt_bail "deleted a policy that does not exist"
if wait_for 5 status_is .spd_changing false; then
	tap_ok "5. a refused delete (no event): trusted again within 5 s (heartbeat 10 s)"
else
	tap_fail "5. a refused delete (no event): trusted again within 5 s (heartbeat 10 s)" \
		"spd_changing $(status_field .spd_changing)"
fi
outcome "5. ... the block drops at XDP" policy_block 0
xbt_ns ip xfrm policy flush
mirrored 0

# ---- after ----
xbt_ns ip xfrm policy add dir fwd $SEL action block priority 10
mirrored 1
outcome "thawed, read: the block drops at XDP again" policy_block 0
expect "no writer left counted (spd_writers 0)" status_is .spd_writers 0
expect "no stuck writer count had to be cleared" \
	eval '! grep -q "cleared a writer count" "$XBT_LOG"'
if xbt_daemon_stop; then
	tap_ok "the daemon stopped cleanly"
else
	tap_fail "the daemon stopped cleanly" "exit code $?"
fi
tap_done
