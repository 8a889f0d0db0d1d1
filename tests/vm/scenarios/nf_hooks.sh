#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Netfilter hooks between XDP and the kernel's XFRM lookup, found the way
# the kernel lists them. user/loader/nf_hooks.c asks nfnetlink_hook
# (NFNL_SUBSYS_HOOK, NFNL_MSG_HOOK_GET: the hooks of one family at
# prerouting, of one device at ingress) and, where the kernel has no
# nfnetlink_hook (EINVAL), reads the nftables chains and flowtables and the
# iptables tables instead. The host kernel has no nfnetlink_hook, so only
# here can the first path run: a lab kernel built with
# CONFIG_NETFILTER_NETLINK_HOOK (as a module: the daemon's first request
# must load it). Debian's 6.1 is built without it; Debian's 6.12 has it
# (docs/kernel-lab.md: how to boot that one). On a kernel without it this
# scenario runs the fallback path, says so with a SKIP line for the
# nfnetlink_hook path, and fails instead when XB_NF_REQUIRE_HOOK=1.
#
# A gateway with xfrmbpf (run -v: the debug line naming the path) on two
# veths, a FWD block policy for UDP to 203.0.113.0/24 and 2001:db8:3::/64,
# which XDP drops (policy_block) while nothing hooks the path. Then, one at
# a time, each removed again:
#   1. an inet table with a prerouting NAT chain (DNAT of the blocked
#      destination to the gateway): both families flagged on every
#      attached device, the flows pass as netfilter_prerouting and the
#      kernel delivers them locally; the table deleted, decided again;
#   2. an ip6 table with a prerouting chain that sets a mark (an ip rule
#      makes marked packets local): only IPv6 flagged;
#   3. iptables (-nft, then -legacy) mangle PREROUTING MARK: IPv4 flagged;
#      a flushed legacy table still hooks (flagged), unloading
#      iptable_mangle removes it;
#   4. a netdev ingress chain on one attached device (rewrites the
#      destination): netfilter_ingress there only; a chain on a device
#      xfrmbpf is not on flags nothing; an inet ingress chain flags its
#      device;
#   5. a flowtable on one attached device: netfilter_ingress there only;
#   6. a stateful input chain: conntrack and defrag at prerouting alone
#      flag nothing.
# Finally: the daemon's log names the path that ran, and only that one.
set -u
. "$(dirname "$0")/_lib.sh"
vm_enter "$0" "$@"
require_root "nf hooks"
vm_banner "nf_hooks"
. "$TOP/tests/lib/netns.sh"
. "$TOP/tests/lib/datapath.sh"

XBT_DAEMON_OPTS=-v
CUR_B= CUR_C= CUR_S=
FLAG_WAIT=15		# s: the daemon reads the hooks at every heartbeat (1 s)
PORT=7777
LINE_HOOK="listed by nfnetlink_hook"
LINE_FALLBACK="no nfnetlink_hook"

xbt_dp_setup nf-hooks
xbt_have_binary nf-hooks || exit 0
command -v nft >/dev/null || { tap_skip "nf hooks" "nft not installed"; exit 0; }

# The path this kernel must take: nfnetlink_hook where it is built in or
# its module can be loaded (not loaded here: the daemon's request must).
HOOK_CFG=$(vm_kconfig NETFILTER_NETLINK_HOOK)
if [ "$HOOK_CFG" = y ] || { [ "$HOOK_CFG" = m ] && modprobe -n -q nfnetlink_hook; }; then
	EXPECT=hook
else
	EXPECT=fallback
fi
echo "# CONFIG_NETFILTER_NETLINK_HOOK=${HOOK_CFG:-unset}: expecting the $EXPECT path"

xbt_dp_ns PEER nfh-peer
xbt_dp_ns SINK nfh-sink
xbt_dp_veth "$XBT_NS" xbt-gw0 "$PEER" xbt-p0
xbt_dp_veth "$XBT_NS" xbt-gw1 "$SINK" xbt-s0
xbt_dp_veth "$XBT_NS" xbt-gw2 "$SINK" xbt-s2	# xfrmbpf is not on this one
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
xbt_ns ip route add 203.0.113.0/24 via 198.51.100.2
xbt_ns ip -6 route add 2001:db8:3::/64 via 2001:db8:2::2
# marked packets (cases 2 and 3) find the blocked prefixes local
xbt_ns ip rule add fwmark 1 table 201 pref 100
xbt_ns ip -6 rule add fwmark 1 table 201 pref 100
xbt_ns ip route add local 203.0.113.0/24 dev lo table 201
xbt_ns ip -6 route add local 2001:db8:3::/64 dev lo table 201
xbt_ns ip xfrm policy add dir fwd src 0.0.0.0/0 dst 203.0.113.0/24 proto udp \
	action block priority 10 || xbt_bail "cannot add the IPv4 FWD block policy"
xbt_ns ip xfrm policy add dir fwd src ::/0 dst 2001:db8:3::/64 proto udp \
	action block priority 10 || xbt_bail "cannot add the IPv6 FWD block policy"

# Under TCG every xfrmbpf call costs: one `stats -j` or `status -j` per poll.
# counts CAUSE: "POLICY_BLOCK CAUSE_COUNT" from one `stats -j`
counts() {
	xb stats -j 2>/dev/null | jq -r --arg c "$1" \
		'"\(.reasons.policy_block.packets // 0) \(.undecidable_causes[$c] // 0)"'
}
# reached CAUSE N / blocked N: set CUR_B, CUR_C; the count is >= N
reached() { read -r CUR_B CUR_C < <(counts "$1") && [ "${CUR_C:-0}" -ge "$2" ]; }
blocked() { read -r CUR_B CUR_C < <(counts none) && [ "${CUR_B:-0}" -ge "$1" ]; }
no_ports() { xbt_ns nstat -az "$1" | awk -v k="$1" '$1 == k { print $2 }'; }
# at_least FN ARG N: FN ARG prints a number >= N
at_least() { local v; v=$("$1" "$2") && [ "${v:-0}" -ge "$3" ]; }
send() { ip netns exec "$1" "$XBT_PYTHON" "$XBT_DP_PY" send "$2" "$PORT" --count 3 >/dev/null; }
nft_ns() { xbt_ns nft "$@"; }

# nf_states: "GW0|GW1", each "PREROUTING4 PREROUTING6 INGRESS" of
# `status -j` as 0/1
nf_states() {
	xb status -j 2>/dev/null | jq -r '[.interfaces[] | select(.name == "xbt-gw0" or
		.name == "xbt-gw1")] | sort_by(.name) | map([.netfilter_prerouting_ipv4,
		.netfilter_prerouting_ipv6, .netfilter_ingress] | map(if . then 1 else 0 end) |
		join(" ")) | join("|")'
}
both_are() { CUR_S=$(nf_states) && [ "$CUR_S" = "$1|$2" ]; }
# expect_state NAME GW0 GW1: the flags of xbt-gw0 and xbt-gw1 become
# these within FLAG_WAIT s
expect_state() {
	if wait_for "$FLAG_WAIT" both_are "$2" "$3"; then
		tap_ok "$1"
	else
		tap_fail "$1" "xbt-gw0|xbt-gw1 \"$CUR_S\", want \"$2|$3\"" \
			"[prerouting4 prerouting6 ingress]"
	fi
}

# passes_as NAME DST CAUSE [NOPORTS]: 3 datagrams from the peer to DST,
# none dropped at XDP, all passed as pass_undecidable/CAUSE, and (given
# the counter) delivered locally by the kernel.
passes_as() {
	local name=$1 dst=$2 why=$3 np=${4:-} b0 c0 n0=0

	read -r b0 c0 < <(counts "$why")
	[ -n "$np" ] && n0=$(no_ports "$np")
	send "$PEER" "$dst"
	if ! wait_for 10 reached "$why" $((c0 + 3)); then
		tap_fail "$name" "$why: $CUR_C, want >= $((c0 + 3))"
	elif [ "$CUR_B" != "$b0" ]; then
		tap_fail "$name" "policy_block went from $b0 to $CUR_B"
	elif [ -n "$np" ] && ! wait_for 5 at_least no_ports "$np" $((n0 + 3)); then
		tap_fail "$name" "not delivered locally: $np $(no_ports "$np"), want >= $((n0 + 3))"
	else
		tap_ok "$name"
	fi
}

# dropped NAME DST: 3 datagrams from the peer to DST, dropped at XDP by
# the FWD block (decided).
dropped() {
	local b0 c0

	read -r b0 c0 < <(counts none)
	send "$PEER" "$2"
	if wait_for 10 blocked $((b0 + 3)); then
		tap_ok "$1"
	else
		tap_fail "$1" "policy_block $CUR_B, want >= $((b0 + 3))"
	fi
}

xbt_daemon_start -i xbt-gw0 -i xbt-gw1
xbt_daemon_wait_synced 60 || xbt_bail "the daemon did not sync within 60 s"
tap_ok "daemon synced on xbt-gw0 and xbt-gw1"
expect_state "nothing hooked at start" "0 0 0" "0 0 0"
dropped "baseline: IPv4 to the blocked prefix dropped at XDP (policy_block)" 203.0.113.5
dropped "baseline: IPv6 to the blocked prefix dropped at XDP (policy_block)" 2001:db8:3::5
if [ "$EXPECT" = hook ]; then
	expect "the daemon's request loaded the nfnetlink_hook module" \
		eval '[ "$HOOK_CFG" = y ] || vm_module_loaded nfnetlink_hook'
fi

# ---- 1. inet prerouting NAT ----
nft_ns -f - <<EOF || xbt_bail "cannot add the inet NAT table"
table inet xbt_nat {
	chain pre {
		type nat hook prerouting priority -100;
		ip daddr 203.0.113.5 udp dport $PORT dnat ip to 192.0.2.1
		ip6 daddr 2001:db8:3::5 udp dport $PORT dnat ip6 to 2001:db8:1::1
	}
}
EOF
expect_state "1. inet DNAT at prerouting: both families flagged on both devices" "1 1 0" "1 1 0"
passes_as "1. IPv4 DNAT of a FWD-blocked flow: passed as netfilter_prerouting, delivered" \
	203.0.113.5 netfilter_prerouting UdpNoPorts
passes_as "1. IPv6 DNAT of a FWD-blocked flow: passed as netfilter_prerouting, delivered" \
	2001:db8:3::5 netfilter_prerouting Udp6NoPorts
if [ "$EXPECT" = hook ]; then
	# the kernel's own listing, as `nft list hooks` prints it
	expect "1. nft list hooks shows prerouting hooks in ip and ip6" eval \
		'nft_ns list hooks ip | grep -q "hook prerouting" &&
		 nft_ns list hooks ip6 | grep -q "hook prerouting"'
fi
nft_ns delete table inet xbt_nat
expect_state "1. table deleted: decided again after a refresh" "0 0 0" "0 0 0"
dropped "1. ... IPv4 dropped at XDP again" 203.0.113.5
dropped "1. ... IPv6 dropped at XDP again" 2001:db8:3::5

# ---- 2. ip6-only prerouting ----
nft_ns -f - <<EOF || xbt_bail "cannot add the ip6 table"
table ip6 xbt_six {
	chain pre {
		type filter hook prerouting priority 0;
		ip6 daddr 2001:db8:3::5 udp dport $PORT meta mark set 1
	}
}
EOF
expect_state "2. ip6 prerouting chain: only IPv6 flagged" "0 1 0" "0 1 0"
dropped "2. IPv4 still decided (policy_block)" 203.0.113.5
passes_as "2. IPv6 marked to local: passed as netfilter_prerouting, delivered" \
	2001:db8:3::5 netfilter_prerouting Udp6NoPorts
nft_ns delete table ip6 xbt_six
expect_state "2. table deleted: decided again" "0 0 0" "0 0 0"
dropped "2. ... IPv6 dropped at XDP again" 2001:db8:3::5

# ---- 3. iptables mangle PREROUTING MARK ----
MARK_RULE=(-t mangle -A PREROUTING -d 203.0.113.5 -p udp --dport "$PORT" -j MARK --set-mark 1)
if ! command -v iptables-nft >/dev/null; then
	tap_skip "3. iptables-nft mangle MARK" "iptables not installed"
elif ! xbt_ns iptables-nft "${MARK_RULE[@]}"; then
	tap_fail "3. iptables-nft mangle MARK" "cannot add the rule"
else
	expect_state "3. iptables-nft mangle PREROUTING MARK: IPv4 flagged" "1 0 0" "1 0 0"
	passes_as "3. iptables-nft: IPv4 marked to local passed as netfilter_prerouting, delivered" \
		203.0.113.5 netfilter_prerouting UdpNoPorts
	nft_ns delete table ip mangle
	expect_state "3. iptables-nft table deleted: decided again" "0 0 0" "0 0 0"
fi
if ! command -v iptables-legacy >/dev/null; then
	tap_skip "3. iptables-legacy mangle MARK" "iptables not installed"
elif ! xbt_ns iptables-legacy "${MARK_RULE[@]}"; then
	tap_fail "3. iptables-legacy mangle MARK" "cannot add the rule"
else
	expect_state "3. iptables-legacy mangle PREROUTING MARK: IPv4 flagged" "1 0 0" "1 0 0"
	passes_as "3. iptables-legacy: IPv4 marked to local passed as netfilter_prerouting, delivered" \
		203.0.113.5 netfilter_prerouting UdpNoPorts
	dropped "3. ... IPv6 still decided (policy_block)" 2001:db8:3::5
	xbt_ns iptables-legacy -t mangle -F PREROUTING
	# an empty legacy table stays on its hooks: still flagged, rightly
	sleep 3
	expect_state "3. legacy table flushed: still hooked, still flagged" "1 0 0" "1 0 0"
	if rmmod iptable_mangle 2>/dev/null; then
		expect_state "3. iptable_mangle unloaded: decided again" "0 0 0" "0 0 0"
		dropped "3. ... IPv4 dropped at XDP again" 203.0.113.5
	else
		tap_skip "3. iptable_mangle unloaded" "rmmod iptable_mangle failed ($(grep '^iptable_mangle ' /proc/modules))"
	fi
fi

# ---- 4. ingress chains ----
nft_ns -f - <<EOF || xbt_bail "cannot add the netdev chain"
table netdev xbt_in {
	chain in {
		type filter hook ingress device "xbt-gw0" priority 0;
		ip daddr 203.0.113.5 udp dport $PORT ip daddr set 192.0.2.1
	}
}
EOF
expect_state "4. netdev ingress chain on xbt-gw0: netfilter_ingress there only" "0 0 1" "0 0 0"
passes_as "4. IPv4 rewritten at ingress: passed as netfilter_ingress, delivered" \
	203.0.113.5 netfilter_ingress UdpNoPorts
passes_as "4. IPv6 on that device passes too (the device is undecidable)" \
	2001:db8:3::5 netfilter_ingress
if [ "$EXPECT" = hook ]; then
	expect "4. nft list hooks shows the chain on xbt-gw0's ingress" eval \
		'nft_ns list hooks netdev device xbt-gw0 | grep -q "hook ingress"'
fi
nft_ns delete table netdev xbt_in
expect_state "4. table deleted: decided again" "0 0 0" "0 0 0"
nft_ns add table netdev xbt_oth &&
nft_ns add chain netdev xbt_oth in '{ type filter hook ingress device "xbt-gw2" priority 0; }' ||
	xbt_bail "cannot add the netdev chain on xbt-gw2"
sleep 3
expect_state "4. netdev chain on xbt-gw2 (not attached): no attached device flagged" \
	"0 0 0" "0 0 0"
nft_ns -f - <<EOF || xbt_bail "cannot add the inet ingress chain"
table inet xbt_ii {
	chain in {
		type filter hook ingress device "xbt-gw1" priority 0;
	}
}
EOF
expect_state "4. inet ingress chain on xbt-gw1: netfilter_ingress there only" "0 0 0" "0 0 1"
dropped "4. ... xbt-gw0 still decided (policy_block)" 203.0.113.5
nft_ns delete table inet xbt_ii
nft_ns delete table netdev xbt_oth
expect_state "4. tables deleted: decided again" "0 0 0" "0 0 0"

# ---- 5. a flowtable ----
nft_ns -f - <<EOF || xbt_bail "cannot add the flowtable"
table inet xbt_ft {
	flowtable ft {
		hook ingress priority 0;
		devices = { "xbt-gw0" };
	}
	chain fw {
		type filter hook forward priority 0;
		meta l4proto { tcp, udp } flow add @ft
	}
}
EOF
expect_state "5. flowtable on xbt-gw0: netfilter_ingress there only" "0 0 1" "0 0 0"
passes_as "5. IPv4 on that device: passed as netfilter_ingress" 203.0.113.5 netfilter_ingress
if [ "$EXPECT" = hook ]; then
	expect "5. nft list hooks shows the flowtable on xbt-gw0's ingress" eval \
		'nft_ns list hooks netdev device xbt-gw0 | grep -q "hook ingress"'
fi
nft_ns delete table inet xbt_ft
expect_state "5. flowtable deleted: decided again" "0 0 0" "0 0 0"
dropped "5. ... IPv4 dropped at XDP again" 203.0.113.5

# ---- 6. connection tracking alone ----
# A stateful input chain: conntrack and defrag hook prerouting in both
# families, which changes no packet's fate: nothing flagged.
nft_ns -f - <<EOF || xbt_bail "cannot add the conntrack table"
table inet xbt_ct {
	chain in {
		type filter hook input priority 0;
		ct state established,related accept
	}
}
EOF
if [ "$EXPECT" = hook ]; then
	pre_hooks() { nft_ns list hooks "$1" | sed -n '/hook prerouting/,/}/p'; }
	expect "6. nft list hooks shows conntrack and defrag at prerouting in ip and ip6" eval \
		'pre_hooks ip | grep -q ipv4_conntrack_in && pre_hooks ip | grep -q ipv4_conntrack_defrag &&
		 pre_hooks ip6 | grep -q ipv6_conntrack_in && pre_hooks ip6 | grep -q ipv6_defrag'
fi
sleep 3
expect_state "6. conntrack and defrag alone at prerouting: nothing flagged" "0 0 0" "0 0 0"
dropped "6. ... IPv4 decided (policy_block)" 203.0.113.5
dropped "6. ... IPv6 decided (policy_block)" 2001:db8:3::5
nft_ns delete table inet xbt_ct

# ---- the path that ran ----
expect "daemon stopped cleanly" xbt_daemon_stop
log_has() { grep -q "netfilter hooks at $1: $2" "$XBT_LOG"; }
if [ "$EXPECT" = hook ]; then
	expect "path: prerouting hooks listed by nfnetlink_hook (daemon log)" log_has prerouting "$LINE_HOOK"
	expect "path: ingress hooks listed by nfnetlink_hook (daemon log)" log_has ingress "$LINE_HOOK"
	expect "path: the fallback never ran" eval '! grep -q "$LINE_FALLBACK" "$XBT_LOG"'
else
	expect "path: prerouting from the nftables chains and iptables tables (daemon log)" \
		log_has prerouting "$LINE_FALLBACK"
	expect "path: ingress from the nftables chains and flowtables (daemon log)" \
		log_has ingress "$LINE_FALLBACK"
	expect "path: nfnetlink_hook never answered" eval '! grep -q "$LINE_HOOK" "$XBT_LOG"'
	if [ "${XB_NF_REQUIRE_HOOK:-0}" = 1 ]; then
		tap_fail "nfnetlink_hook path" "$(uname -r) has no nfnetlink_hook" \
			"(CONFIG_NETFILTER_NETLINK_HOOK=${HOOK_CFG:-unset})"
	else
		tap_skip "nfnetlink_hook path" "$(uname -r) is built without \
CONFIG_NETFILTER_NETLINK_HOOK (docs/kernel-lab.md: a lab kernel that has it)"
	fi
fi
grep "netfilter hooks at" "$XBT_LOG" | sed 's/^/# daemon: /'
tap_done
