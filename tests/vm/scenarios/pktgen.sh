#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The operators' pktgen scripts (scripts/pktgen/) in the lab: a generator
# namespace (gen) drives the kernel's pktgen through xb_pktgen.sh at a
# gateway namespace (gw) over a veth; gw forwards 198.51.100.0/24 ->
# 203.0.113.0/24 to a sink namespace but has a FWD block policy for it.
#
#   1. no xfrmbpf: the kernel drops every packet pktgen sent (XfrmInPolBlock
#      rises by the count), nothing reaches the sink;
#   2. `xfrmbpf run -i <gw veth>`: XDP drops them: policy_block and the
#      interface's drop counter rise by exactly what pktgen sent, the
#      kernel's XFRM counters stay put; xb_gw_measure.sh, sampling around
#      the run, sees the same traffic (its rates times its window).
# veth refuses pktgen bursts: xb_pktgen.sh falls back to burst 1 itself.
# TCG rates mean nothing: only counters are asserted.
set -u
. "$(dirname "$0")/_lib.sh"
. "$(dirname "$0")/_vpn.sh"
vm_enter "$0" "$@"
require_root "pktgen"
vm_banner "pktgen"

GEN=xbt-pg-gen GW=xbt-pg-gw SINK=xbt-pg-sink
PG_COUNT=${XB_PG_COUNT:-100000}
PGDIR=$TOP/scripts/pktgen
MEASURE_S=20	# xb_gw_measure.sh's window: the whole send fits in it

cleanup() {
	local ns

	vpn_fini
	for ns in $GEN $GW $SINK; do
		ip netns del "$ns" 2>/dev/null
	done
}
trap cleanup EXIT

setup() {
	modprobe -a pktgen veth xfrm_user || return 1
	ip netns add $GEN && ip netns add $GW && ip netns add $SINK || return 1
	ip link add xbt-pg0 netns $GEN type veth peer name xbt-pg1 netns $GW &&
	ip link add xbt-pg2 netns $GW type veth peer name xbt-pg3 netns $SINK || return 1
	ip -n $GEN -batch - <<-EOB || return 1
	link set lo up
	link set xbt-pg0 addrgenmode none
	addr add 198.51.100.2/24 dev xbt-pg0
	link set xbt-pg0 up
	EOB
	ip -n $GW -batch - <<-EOB || return 1
	link set lo up
	link set xbt-pg1 addrgenmode none
	link set xbt-pg2 addrgenmode none
	addr add 198.51.100.1/24 dev xbt-pg1
	addr add 192.0.2.1/24 dev xbt-pg2
	link set xbt-pg1 up
	link set xbt-pg2 up
	route add 203.0.113.0/24 via 192.0.2.2
	xfrm policy add src 198.51.100.0/24 dst 203.0.113.0/24 dir fwd priority 1347 action block
	EOB
	ip -n $SINK -batch - <<-EOB || return 1
	link set lo up
	link set xbt-pg3 addrgenmode none
	addr add 192.0.2.2/24 dev xbt-pg3
	addr add 203.0.113.5/24 dev xbt-pg3
	link set xbt-pg3 up
	EOB
	ip netns exec $GW sysctl -qw net.ipv4.ip_forward=1 || return 1
	# The gateway knows the sink's MAC: no ARP in the way of the count.
	ip netns exec $GW ping -c1 -W2 192.0.2.2 >/dev/null
}

# pg_run LOG: xb_pktgen.sh -x block, PG_COUNT packets, in gen; with
# xb_gw_measure.sh sampling gw around it (its output in LOG.measure).
# Prints pktgen's sent count.
pg_run() {
	local log=$1 mac mpid sofar

	mac=$(ip -n $GW -j link show dev xbt-pg1 | jq -r '.[0].address')
	ip netns exec $GW bash "$PGDIR/xb_gw_measure.sh" -i xbt-pg1 -d $MEASURE_S \
		-P "$VPN_PIN" -l "$2" >"$log.measure" 2>&1 &
	mpid=$!
	# Send only once the sampler has its first sample (it sleeps then).
	wait_for 20 pgrep -P "$mpid" -x sleep
	ip netns exec $GEN bash "$PGDIR/xb_pktgen.sh" -i xbt-pg0 -m "$mac" -x block \
		-n "$PG_COUNT" -d 60 ${XB_PG_ARGS:-} >"$log" 2>&1
	echo "$?" >"$log.rc"
	# pktgen's own account of the device, read before the next reset
	ip netns exec $GEN cat /proc/net/pktgen/xbt-pg0@0 >"$log.dev" 2>&1
	wait "$mpid"
	echo "$?" >"$log.measure.rc"
	# pkts-sofar counts packets the device took; "errors" counts busy
	# retries of packets later sent (veth), so it is not subtracted.
	sofar=$(sed -n 's/.*pkts-sofar: \([0-9]*\).*/\1/p' "$log.dev" | head -1)
	echo "${sofar:-0}"
}

# kstat NAME: one /proc/net/xfrm_stat counter of gw.
kstat() { xfrm_stat $GW "$1"; }

# sink_rx: IP packets the sink received (ARP and the like left out).
sink_rx() {
	ip netns exec $SINK awk '$1 == "Ip:" && $4 ~ /^[0-9]+$/ { print $4 }' /proc/net/snmp
}

# measure_col LOG N: column N of xb_gw_measure.sh's data line (-1 when
# it printed none: never equal to a packet count).
measure_col() {
	local v

	v=$(tail -1 "$1.measure" | cut -d, -f"$2")
	[[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo -1
}

# expect_measure PHASE LOG RX XDROPS KDROPS: xb_gw_measure.sh's rates
# times its window are these packet counts (the send fits in the window).
expect_measure() {
	local got

	got="$(($(measure_col "$2" 2) * MEASURE_S)) $(($(measure_col "$2" 3) * MEASURE_S))"
	got="$got $(($(measure_col "$2" 4) * MEASURE_S))"
	expect_eq "$1: xb_gw_measure.sh rx, xfrmbpf drops, kernel drops (rate x ${MEASURE_S}s)" \
		"$3 $4 $5" "$got"
}

report_run() {
	local log=$1
	echo "# xb_pktgen.sh (rc $(cat "$log.rc")):"
	sed 's/^/#   /' "$log"
	echo "# pktgen device: $(grep -E 'pkts-sofar|Result' "$log.dev" | tr -s ' \n' ' ')"
	echo "# xb_gw_measure.sh (rc $(cat "$log.measure.rc")):"
	sed 's/^/#   /' "$log.measure"
}

main() {
	local out sent k0 k1 s0 s1 r0 r1 pb0 pb1 d0 d1 log

	if [ ! -x "$XFRMBPF" ]; then
		tap_skip "pktgen" "$XFRMBPF is not built (make)"
		return 0
	fi
	if ! out=$(setup 2>&1); then
		tap_fail_log "pktgen: gen -> gw -> sink namespaces, FWD block policy" "$out"
		return 1
	fi
	vpn_init || { tap_fail "pktgen: private bpffs"; return 1; }
	tap_ok "pktgen: gen/gw/sink set up, FWD block 198.51.100.0/24 -> 203.0.113.0/24 on gw"

	# 1. The kernel's own drop.
	log=$VPN_WORK/kernel
	k0=$(kstat XfrmInPolBlock) s0=$(sink_rx) r0=$(link_stat $GW xbt-pg1 rx packets)
	sent=$(pg_run "$log" kernel)
	k1=$(kstat XfrmInPolBlock) s1=$(sink_rx) r1=$(link_stat $GW xbt-pg1 rx packets)
	report_run "$log"
	expect_eq "kernel: xb_pktgen.sh exits 0" 0 "$(cat "$log.rc")"
	expect_eq "kernel: pktgen sent the bounded count" "$PG_COUNT" "$sent"
	expect_eq "kernel: gw veth rx packets + = sent" "$sent" $((r1 - r0))
	expect_eq "kernel: XfrmInPolBlock + = sent" "$sent" $((k1 - k0))
	expect_eq "kernel: sink IP InReceives +" 0 $((s1 - s0))
	expect_eq "kernel: xb_gw_measure.sh exits 0" 0 "$(cat "$log.measure.rc")"
	expect_measure kernel "$log" "$sent" 0 "$sent"

	# 2. xfrmbpf at XDP.
	if ! vpn_daemon_start $GW -i xbt-pg1; then
		tap_fail_log "xfrmbpf run -i xbt-pg1 syncs in gw" "$(vpn_log_tail)"
		return 1
	fi
	tap_ok "xfrmbpf run -i xbt-pg1: synced, $(xbn status -j | jq -c '{policies, sas}')"
	log=$VPN_WORK/xfrmbpf
	k0=$(kstat XfrmInPolBlock) s0=$(sink_rx) r0=$(link_stat $GW xbt-pg1 rx packets)
	pb0=$(reason_count policy_block)
	d0=$(xbn stats -j | jq -r '[.interfaces[] | select(.name == "xbt-pg1") | .dropped] | add // 0')
	sent=$(pg_run "$log" xfrmbpf)
	k1=$(kstat XfrmInPolBlock) s1=$(sink_rx) r1=$(link_stat $GW xbt-pg1 rx packets)
	pb1=$(reason_count policy_block)
	d1=$(xbn stats -j | jq -r '[.interfaces[] | select(.name == "xbt-pg1") | .dropped] | add // 0')
	report_run "$log"
	expect_eq "xfrmbpf: xb_pktgen.sh exits 0" 0 "$(cat "$log.rc")"
	expect_eq "xfrmbpf: pktgen sent the bounded count" "$PG_COUNT" "$sent"
	expect_eq "xfrmbpf: policy_block + = sent" "$sent" $((pb1 - pb0))
	expect_eq "xfrmbpf: interface xbt-pg1 dropped + = sent" "$sent" $((d1 - d0))
	expect_eq "xfrmbpf: XfrmInPolBlock +" 0 $((k1 - k0))
	expect_eq "xfrmbpf: sink IP InReceives +" 0 $((s1 - s0))
	expect_eq "xfrmbpf: xb_gw_measure.sh exits 0" 0 "$(cat "$log.measure.rc")"
	expect_measure xfrmbpf "$log" "$sent" "$sent" 0
	echo "# counters: pktgen sent $sent, gw rx +$((r1 - r0)), policy_block +$((pb1 - pb0))," \
		"iface dropped +$((d1 - d0)), XfrmInPolBlock +$((k1 - k0)), sink rx +$((s1 - s0))"
	xbn stats -j | jq -r '"#   reasons: " + ([.reasons | to_entries[] |
		select(.value.packets > 0) | "\(.key)=\(.value.packets)"] | join(" "))'
}

main
tap_done
