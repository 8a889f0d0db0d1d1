#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# What lies between XDP and the kernel's XFRM lookup and changes a
# packet's path, with real traffic: an ip rule by TOS (IPv4) or traffic
# class (IPv6) that makes a forwarded destination local, a bridge port,
# whose frames the kernel bridges without any XFRM lookup, a DNAT rule
# at prerouting that makes a blocked forwarded destination local, a tc
# filter on ingress that redirects a blocked flow out of another device, and
# a netdev-family nftables chain on ingress that rewrites a blocked
# destination to a local one. A FWD block policy covers every flow: the
# datapath must route by TOS as the kernel does, pass everything a bridge
# port receives (stacked_device), pass the family that has netfilter
# chains at prerouting (netfilter_prerouting), and pass everything a device
# with other tc filters (tc_ingress) or netfilter hooks (netfilter_ingress)
# on its ingress receives; once those are gone, it decides again. Our own
# steering filter does not count.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/datapath.sh"

xbt_dp_setup dp-stack
xbt_have_binary dp-stack || exit 0
xbt_dp_ns PEER dp-stack-peer
xbt_dp_ns SINK dp-stack-sink
xbt_dp_ns LEFT dp-stack-left
xbt_dp_ns RIGHT dp-stack-right
xbt_dp_veth "$XBT_NS" xbt-gw0 "$PEER" xbt-p0
xbt_dp_veth "$XBT_NS" xbt-gw1 "$SINK" xbt-s0
xbt_dp_veth "$XBT_NS" xbt-gwl "$LEFT" xbt-l0
xbt_dp_veth "$XBT_NS" xbt-gwr "$RIGHT" xbt-r0
xbt_ns sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$XBT_NS" addr add 192.0.2.1/24 dev xbt-gw0
ip -n "$PEER" addr add 192.0.2.2/24 dev xbt-p0
ip -n "$XBT_NS" addr add 2001:db8:1::1/64 dev xbt-gw0 nodad
ip -n "$PEER" addr add 2001:db8:1::2/64 dev xbt-p0 nodad
ip -n "$XBT_NS" addr add 198.51.100.1/24 dev xbt-gw1
ip -n "$SINK" addr add 198.51.100.2/24 dev xbt-s0
ip -n "$XBT_NS" addr add 2001:db8:2::1/64 dev xbt-gw1 nodad
ip -n "$SINK" addr add 2001:db8:2::2/64 dev xbt-s0 nodad
ip -n "$PEER" route add 203.0.113.0/24 via 192.0.2.1
ip -n "$PEER" route add 2001:db8:3::/64 via 2001:db8:1::1
# main table: 203.0.113.0/24 is forwarded to the sink; TOS 0x10 (traffic
# class 0x10) looks in table 200, where it is local
xbt_ns ip route add 203.0.113.0/24 via 198.51.100.2
xbt_ns ip -6 route add 2001:db8:3::/64 via 2001:db8:2::2
xbt_ns ip rule add tos 0x10 table 200 pref 100
xbt_ns ip -6 rule add tos 0x10 table 200 pref 100
xbt_ns ip route add local 203.0.113.0/24 dev lo table 200
xbt_ns ip -6 route add local 2001:db8:3::/64 dev lo table 200
# a bridge of two ports; the hosts on it talk at layer 2
xbt_ns ip link add xbt-br0 type bridge
xbt_ns ip link set xbt-gwl master xbt-br0
xbt_ns ip link set xbt-gwr master xbt-br0
xbt_ns ip link set xbt-br0 up
ip -n "$LEFT" addr add 203.0.113.10/24 dev xbt-l0
ip -n "$RIGHT" addr add 203.0.113.11/24 dev xbt-r0

xbt_ns ip xfrm policy add dir fwd src 0.0.0.0/0 dst 203.0.113.0/24 proto udp \
	action block priority 10 || xbt_bail "cannot add the IPv4 FWD block policy"
xbt_ns ip xfrm policy add dir fwd src ::/0 dst 2001:db8:3::/64 proto udp \
	action block priority 10 || xbt_bail "cannot add the IPv6 FWD block policy"

reason() { xbt_reason "$1"; }
cause() { xb stats -j 2>/dev/null | jq -r ".undecidable_causes.$1 // 0"; }
no_ports() { ip netns exec "$XBT_NS" nstat -az "$1" | awk -v k="$1" '$1 == k { print $2 }'; }
send() { ip netns exec "$1" python3 "$XBT_DP_PY" send "${@:2}" >/dev/null; }

xbt_daemon_start -i xbt-gw0 -i xbt-gwl
expect "daemon synced, attached to the routed port and the bridge port" xbt_daemon_wait_synced 10

# ---- ip rules by TOS ----
b0=$(reason policy_block)
send "$PEER" 203.0.113.5 7777 --count 3
expect "TOS 0: forwarded, dropped at XDP by the FWD block (policy_block +3)" \
	[ "$(reason policy_block)" -ge $((b0 + 3)) ]
b0=$(reason policy_block)
p0=$(reason pass_no_policy)
n0=$(no_ports UdpNoPorts)
send "$PEER" 203.0.113.5 7777 --count 3 --tos 16
expect "TOS 0x10: local by the rule, passed without a policy (pass_no_policy +3)" \
	[ "$(reason pass_no_policy)" -ge $((p0 + 3)) ]
expect "... none dropped at XDP" [ "$(reason policy_block)" -eq "$b0" ]
expect "... and the kernel delivered them locally (UdpNoPorts +3)" \
	[ "$(no_ports UdpNoPorts)" -ge $((n0 + 3)) ]
b0=$(reason policy_block)
p0=$(reason pass_no_policy)
n0=$(no_ports Udp6NoPorts)
send "$PEER" 2001:db8:3::5 7777 --count 3 --tos 16
expect "IPv6 traffic class 0x10: local by the rule, passed (pass_no_policy +3)" \
	[ "$(reason pass_no_policy)" -ge $((p0 + 3)) ]
expect "... none dropped at XDP, the kernel delivered them (Udp6NoPorts +3)" \
	[ "$(reason policy_block)" -eq "$b0" ] && [ "$(no_ports Udp6NoPorts)" -ge $((n0 + 3)) ]
b0=$(reason policy_block)
send "$PEER" 2001:db8:3::5 7777 --count 3
expect "IPv6 traffic class 0: forwarded, dropped by the FWD block" \
	[ "$(reason policy_block)" -ge $((b0 + 3)) ]

# ---- a bridge port ----
rx() { ip netns exec "$RIGHT" cat /sys/class/net/xbt-r0/statistics/rx_packets; }
ip netns exec "$LEFT" ping -c 1 -W 1 203.0.113.11 >/dev/null 2>&1	# neighbours
b0=$(reason policy_block)
s0=$(cause stacked_device)
r0=$(rx)
send "$LEFT" 203.0.113.11 7777 --count 3
expect "bridged UDP under the FWD block: none dropped at XDP" [ "$(reason policy_block)" -eq "$b0" ]
expect "... passed as stacked_device (+3)" [ "$(cause stacked_device)" -ge $((s0 + 3)) ]
expect "... and bridged to the other port (+3 frames)" [ "$(rx)" -ge $((r0 + 3)) ]
expect "status -j: the bridge port is stacked, the routed one is not" \
	eval 'xb status -j | jq -e "[.interfaces[] | select(.stacked) | .name] == [\"xbt-gwl\"]" >/dev/null'
expect "daemon log names the stacked device" grep -q "xbt-gwl is a bridge, bond or team port" \
	"$XBT_LOG"

# ---- DNAT at prerouting ----
nf_on() {
	xb status -j | jq -e '.interfaces[] | select(.name == "xbt-gw0") |
		.netfilter_prerouting_ipv4 and (.netfilter_prerouting_ipv6 | not)' >/dev/null
}
nf_off() {
	xb status -j | jq -e '.interfaces[] | select(.name == "xbt-gw0") |
		(.netfilter_prerouting_ipv4 | not)' >/dev/null
}
if ! command -v nft >/dev/null; then
	tap_skip "DNAT at prerouting" "nft not installed (scripts/install-deps.sh installs nftables)"
else
	xbt_ns nft add table ip xbt_nat &&
	xbt_ns nft add chain ip xbt_nat pre '{ type nat hook prerouting priority -100; }' &&
	xbt_ns nft add rule ip xbt_nat pre ip daddr 203.0.113.5 udp dport 7777 \
		dnat to 192.0.2.1 || xbt_bail "cannot add the DNAT rule"
	expect "status: IPv4 chains at prerouting seen within 2 s" wait_for 2 nf_on
	b0=$(reason policy_block)
	c0=$(cause netfilter_prerouting)
	n0=$(no_ports UdpNoPorts)
	send "$PEER" 203.0.113.5 7777 --count 3
	expect "DNAT of a FWD-blocked destination to a local one: none dropped at XDP" \
		[ "$(reason policy_block)" -eq "$b0" ]
	expect "... passed as netfilter_prerouting (+3)" [ "$(cause netfilter_prerouting)" -ge $((c0 + 3)) ]
	expect "... and the kernel delivered them locally (UdpNoPorts +3)" \
		[ "$(no_ports UdpNoPorts)" -ge $((n0 + 3)) ]
	b0=$(reason policy_block)
	send "$PEER" 2001:db8:3::5 7777 --count 3
	expect "... IPv6, with no chain of its own, is still decided (policy_block +3)" \
		[ "$(reason policy_block)" -ge $((b0 + 3)) ]
	xbt_ns nft delete table ip xbt_nat
	expect "table deleted: IPv4 decided again within 2 s" wait_for 2 nf_off
fi

# ---- a tc filter on ingress ----
# jq -e on the attached device's entry in `status -j`
iface_is() { xb status -j | jq -e ".interfaces[] | select(.name == \"$1\") | $2" >/dev/null; }
sink_rx() { ip netns exec "$SINK" cat /sys/class/net/xbt-s0/statistics/rx_packets; }
expect "status: no tc filter or netfilter hook on the ingress of xbt-gw0 at start" \
	iface_is xbt-gw0 '(.tc_ingress | not) and (.netfilter_ingress | not)'
xbt_ns tc qdisc add dev xbt-gw0 clsact &&
xbt_ns tc filter add dev xbt-gw0 ingress pref 10 protocol ip u32 \
	match ip dst 203.0.113.5/32 action mirred egress redirect dev xbt-gw1 ||
	xbt_bail "cannot add the tc filter"
expect "status: the u32 filter on ingress seen within 2 s" wait_for 2 iface_is xbt-gw0 .tc_ingress
expect "... on that device only" iface_is xbt-gwl '.tc_ingress | not'
b0=$(reason policy_block)
c0=$(cause tc_ingress)
r0=$(sink_rx)
send "$PEER" 203.0.113.5 7777 --count 3
expect "tc redirect of a FWD-blocked flow: none dropped at XDP" [ "$(reason policy_block)" -eq "$b0" ]
expect "... passed as tc_ingress (+3)" [ "$(cause tc_ingress)" -ge $((c0 + 3)) ]
expect "... and redirected by tc out to the sink (+3 frames)" [ "$(sink_rx)" -ge $((r0 + 3)) ]
b0=$(reason policy_block)
c0=$(cause tc_ingress)
send "$PEER" 2001:db8:3::5 7777 --count 3
expect "... IPv6, which the filter does not match, passes too: the device is undecidable" \
	[ "$(reason policy_block)" -eq "$b0" ] && [ "$(cause tc_ingress)" -ge $((c0 + 3)) ]
expect "status text names the tc filters" eval 'xb status | grep -q "tc filters on ingress"'
expect "daemon log names the device" grep -q "xbt-gw0: tc filters on ingress" "$XBT_LOG"
xbt_ns tc filter del dev xbt-gw0 ingress pref 10
expect "filter deleted (the empty clsact stays): decided again within 2 s" \
	wait_for 2 iface_is xbt-gw0 '.tc_ingress | not'
b0=$(reason policy_block)
send "$PEER" 203.0.113.5 7777 --count 3
expect "... the FWD block drops at XDP again (policy_block +3)" \
	[ "$(reason policy_block)" -ge $((b0 + 3)) ]

# ---- a netdev chain on ingress ----
if ! command -v nft >/dev/null; then
	tap_skip "netdev chain on ingress" "nft not installed (scripts/install-deps.sh installs nftables)"
else
	xbt_ns nft add table netdev xbt_in &&
	xbt_ns nft add chain netdev xbt_in in \
		'{ type filter hook ingress device xbt-gw0 priority 0; }' &&
	xbt_ns nft add rule netdev xbt_in in ip daddr 203.0.113.5 udp dport 7777 \
		ip daddr set 192.0.2.1 || xbt_bail "cannot add the netdev chain"
	expect "status: the netdev chain on ingress seen within 2 s" \
		wait_for 2 iface_is xbt-gw0 .netfilter_ingress
	expect "... on that device only, and not as prerouting" \
		eval 'xb status -j | jq -e "([.interfaces[] | select(.netfilter_ingress) | .name]
			== [\"xbt-gw0\"]) and ([.interfaces[] |
			select(.netfilter_prerouting_ipv4 or .netfilter_prerouting_ipv6)] == [])" >/dev/null'
	b0=$(reason policy_block)
	c0=$(cause netfilter_ingress)
	n0=$(no_ports UdpNoPorts)
	send "$PEER" 203.0.113.5 7777 --count 3
	expect "netdev rewrite of a FWD-blocked destination to a local one: none dropped at XDP" \
		[ "$(reason policy_block)" -eq "$b0" ]
	expect "... passed as netfilter_ingress (+3)" \
		[ "$(cause netfilter_ingress)" -ge $((c0 + 3)) ]
	expect "... and the kernel delivered them locally (UdpNoPorts +3)" \
		[ "$(no_ports UdpNoPorts)" -ge $((n0 + 3)) ]
	expect "status text names the netfilter hooks" \
		eval 'xb status | grep -q "netfilter hooks on ingress"'
	xbt_ns nft delete table netdev xbt_in
	expect "table deleted: decided again within 2 s" \
		wait_for 2 iface_is xbt-gw0 '.netfilter_ingress | not'
	b0=$(reason policy_block)
	send "$PEER" 203.0.113.5 7777 --count 3
	expect "... the FWD block drops at XDP again (policy_block +3)" \
		[ "$(reason policy_block)" -ge $((b0 + 3)) ]
fi
xbt_daemon_stop

# ---- our own steering filter does not count ----
xbt_daemon_start -i xbt-gw0 --steer
expect "daemon with steering synced" xbt_daemon_wait_synced 10
expect "our TC filter is on the ingress of xbt-gw0" \
	eval 'xbt_ns tc filter show dev xbt-gw0 ingress | grep -q xb_tc_steer'
expect "... and the device is still decided (no tc_ingress)" iface_is xbt-gw0 '.tc_ingress | not'
b0=$(reason policy_block)
send "$PEER" 203.0.113.5 7777 --count 3
expect "... the FWD block drops at XDP (policy_block +3)" [ "$(reason policy_block)" -ge $((b0 + 3)) ]
xbt_ns tc filter add dev xbt-gw0 ingress pref 10 protocol ip u32 match u32 0 0 \
	action mirred egress mirror dev xbt-gw1 || xbt_bail "cannot add the tc filter"
expect "a filter beside ours makes it undecidable within 2 s" wait_for 2 iface_is xbt-gw0 .tc_ingress
xbt_ns tc filter del dev xbt-gw0 ingress pref 10
expect "... and decided again once it is gone" wait_for 2 iface_is xbt-gw0 '.tc_ingress | not'
xbt_daemon_stop
tap_done
