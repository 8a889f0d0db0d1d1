#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The flow cache holds each flow's whole XDP verdict, the FIB's answer
# (local delivery or forwarding) included. Routing changes must reach it:
# one flow, with real traffic, through every kind of change the daemon
# follows (address, route, blackhole, policy rule, IPv6 address and
# forwarding), and the
# verdict must follow each: once the daemon has bumped the flow epoch
# (`status -j`), the very next datagram of the flow. IN policy: block; no
# FWD policy. Without the bump a stale verdict lives on (per CPU).
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/datapath.sh"

xbt_dp_setup dp-routes
xbt_have_binary dp-routes || exit 0
xbt_dp_ns PEER dp-routes-peer
xbt_dp_ns SINK dp-routes-sink
xbt_dp_veth "$XBT_NS" xbt-gw0 "$PEER" xbt-p0
xbt_dp_veth "$XBT_NS" xbt-gw1 "$SINK" xbt-s0
ip -n "$XBT_NS" addr add 192.0.2.1/24 dev xbt-gw0
ip -n "$PEER" addr add 192.0.2.2/24 dev xbt-p0
ip -n "$XBT_NS" addr add 198.51.100.1/24 dev xbt-gw1
ip -n "$SINK" addr add 198.51.100.2/24 dev xbt-s0
ip -n "$XBT_NS" addr add 2001:db8:1::1/64 dev xbt-gw0 nodad
ip -n "$PEER" addr add 2001:db8:1::2/64 dev xbt-p0 nodad
ip -n "$XBT_NS" addr add 2001:db8:2::1/64 dev xbt-gw1 nodad
ip -n "$SINK" addr add 2001:db8:2::2/64 dev xbt-s0 nodad
ip -n "$PEER" route add 203.0.113.0/24 via 192.0.2.1
ip -n "$PEER" route add 2001:db8:3::/64 via 2001:db8:1::1
xbt_ns sysctl -qw net.ipv4.ip_forward=1
xbt_ns sysctl -qw net.ipv6.conf.all.forwarding=1
# the flow's destination starts local
xbt_ns ip addr add 203.0.113.7/32 dev lo
xbt_ns ip addr add 2001:db8:3::7/128 dev lo

xbt_ns ip xfrm policy add dir in src 192.0.2.2 dst 203.0.113.7 proto udp \
	action block priority 10 || xbt_bail "cannot add the IPv4 IN block policy"
xbt_ns ip xfrm policy add dir in src 2001:db8:1::2 dst 2001:db8:3::7 proto udp \
	action block priority 10 || xbt_bail "cannot add the IPv6 IN block policy"

expect_context() {
	xb stats -j 2>/dev/null | jq -c '.reasons | with_entries(select(.value.packets > 0))' |
		sed 's/^/#   counters: /'
}

OUT=$XBT_DIR/out
ERR=$XBT_DIR/err
jq_ok() { jq -e "$@" >/dev/null; }
now_ms() { date +%s%3N; }
reason() { xbt_reason "$1"; }
send1() {
	ip netns exec "$PEER" python3 "$XBT_DP_PY" send "$1" 7777 --count 1 --sport 40001 >/dev/null
}

epoch() { xb status -j 2>/dev/null | jq -r '.flow_epoch'; }

# moved E0: the daemon bumped the flow epoch past E0 within 2 s.
moved() {
	local i

	for i in $(seq 40); do
		[ "$(epoch)" -gt "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# became DST REASON: once the epoch moved, the very next datagram of the
# flow gets the new verdict (whichever CPU's cache it meets).
became() {
	local c0

	c0=$(reason "$2")
	send1 "$1"
	[ "$(reason "$2")" -gt "$c0" ]
}

# steady DST REASON: three more datagrams, all counted as REASON.
steady() {
	local c0

	c0=$(reason "$2")
	send1 "$1"; send1 "$1"; send1 "$1"
	[ "$(reason "$2")" -ge $(( c0 + 3 )) ]
}

# Packets the flow cache answered, on all CPUs.
cache_hits() { xb stats -j 2>/dev/null | jq '.flow_cache.hits'; }

# cached DST: three more datagrams of the flow, and the flow cache answers
# at least one of them. A flow epoch bump meanwhile (the namespace is
# young: IPv6 link-local addresses finish DAD) rightly invalidates the
# cache, so such a round is tried again, up to five times; a round
# without a bump and without a hit fails at once.
cached() {
	local i e0 h0

	for i in 1 2 3 4 5; do
		e0=$(epoch)
		h0=$(cache_hits)
		send1 "$1"; send1 "$1"; send1 "$1"
		[ "$(cache_hits)" -gt "$h0" ] && return 0
		[ "$(epoch)" -eq "$e0" ] && return 1
	done
	return 1
}

xbt_daemon_start -i xbt-gw0
expect "daemon synced with two IN block policies" xbt_daemon_wait_synced 10

expect "local destination: dropped by the IN block policy" became 203.0.113.7 policy_block
expect "... and so are the next three" steady 203.0.113.7 policy_block
expect "... answered from the flow cache" cached 203.0.113.7

e0=$(epoch)
xbt_ns ip addr del 203.0.113.7/32 dev lo
xbt_ns ip route add 203.0.113.0/24 via 198.51.100.2
expect "address removed, route added: forwarded, no FWD policy, passed" eval 'moved "$e0" && became 203.0.113.7 pass_no_policy'
expect "... steadily" steady 203.0.113.7 pass_no_policy

e0=$(epoch)
xbt_ns ip route replace blackhole 203.0.113.0/24
expect "route replaced by a blackhole: left to the kernel" eval 'moved "$e0" && became 203.0.113.7 pass_undecidable'

e0=$(epoch)
xbt_ns ip route add local 203.0.113.7 dev lo table 100
xbt_ns ip rule add to 203.0.113.7 lookup 100 pref 100
expect "a policy rule makes it local again: IN block drops" eval 'moved "$e0" && became 203.0.113.7 policy_block'
e0=$(epoch)
xbt_ns ip rule del to 203.0.113.7 lookup 100 pref 100
expect "rule deleted: the blackhole again" eval 'moved "$e0" && became 203.0.113.7 pass_undecidable'

# An ip rule by tos: one flow's datagrams take the blackhole or the local
# table by their DS field, so the flow cache must not answer one with the
# other's verdict (0x30 matches tos 0x10: rules compare its bits 2-4).
send_tos() {
	ip netns exec "$PEER" python3 "$XBT_DP_PY" send 203.0.113.7 7777 --count 1 \
		--sport 40001 --tos "$1" >/dev/null
}
# tos_became TOS REASON: the flow's next datagram of DS field TOS is REASON.
tos_became() {
	local c0

	c0=$(reason "$2")
	send_tos "$1"
	[ "$(reason "$2")" -gt "$c0" ]
}
e0=$(epoch)
xbt_ns ip rule add tos 0x10 lookup 100 pref 100
expect "a rule by tos 0x10: a datagram of tos 0x30 is local, the IN block drops" \
	eval 'moved "$e0" && tos_became 0x30 policy_block'
expect "... the same flow at tos 0 takes the blackhole, not the cached drop" \
	tos_became 0 pass_undecidable
expect "... at tos 0x31 (ECN bits differ): local again" tos_became 0x31 policy_block
xb -j classify -i xbt-gw0 udp 192.0.2.2:40001 203.0.113.7:7777 tos 0x30 >"$OUT" 2>"$ERR"
expect "classify ... tos 0x30: drop, policy_block" jq_ok '.reason == "policy_block"' "$OUT"
xb -j classify -i xbt-gw0 udp 192.0.2.2:40001 203.0.113.7:7777 tos 0x14 >"$OUT" 2>"$ERR"
expect "classify ... tos 0x14: the blackhole, pass_undecidable" \
	jq_ok '.reason == "pass_undecidable"' "$OUT"
xb classify -i xbt-gw0 udp 192.0.2.2:40001 203.0.113.7:7777 tos 256 >"$OUT" 2>"$ERR"
expect "classify ... tos 256: refused" grep -q "tos must be 0..255" "$ERR"
e0=$(epoch)
xbt_ns ip rule del tos 0x10 lookup 100 pref 100
expect "rule by tos deleted: tos 0x30 takes the blackhole" \
	eval 'moved "$e0" && tos_became 0x30 pass_undecidable'

expect "IPv6 local destination: dropped by the IN block policy" became 2001:db8:3::7 policy_block
e0=$(epoch)
xbt_ns ip addr del 2001:db8:3::7/128 dev lo
xbt_ns ip -6 route add 2001:db8:3::/64 via 2001:db8:2::2
expect "IPv6 address removed, route added: forwarded and passed" eval 'moved "$e0" && became 2001:db8:3::7 pass_no_policy'

# without forwarding the kernel can only deliver locally: the IN check
# (bpf/route.bpf.h, FWD_DISABLED)
e0=$(epoch)
xbt_ns sysctl -qw net.ipv6.conf.all.forwarding=0
expect "IPv6 forwarding off (netconf): the IN block policy again" eval 'moved "$e0" && became 2001:db8:3::7 policy_block'

tap_done
