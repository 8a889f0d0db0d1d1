#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# VLAN devices on an attached device (the host kernel has no 8021q: only
# the lab can build them). The kernel receives a tagged frame on the VLAN
# device of its tag (vlan_do_receive): that device's ip rules by iif, its
# disable_policy, its routes apply, and a tag with no VLAN device is
# dropped (PACKET_OTHERHOST). The datapath must decide such frames as the
# kernel does, or pass them.
#
#   gw:   xbt-vg0 (xfrmbpf, native XDP)   <- xbt-vc0 (same namespace: the
#         raw-frame sender, its tx-vlan offload off, so that every tag is
#         in the frame XDP sees; the daemon reads it)
#           xbt-vg0.10  192.0.2.1/25          a normal VLAN
#           xbt-vg0.20  192.0.2.129/25        ip rule iif -> table 120,
#                                              203.0.113.0/24 local there
#           xbt-vg0.30  (no address)           disable_policy=1
#         xbt-vw0 198.51.100.1/24 -> sink (203.0.113.0/24 via 198.51.100.2)
#   sink: xbt-vs0 198.51.100.2/24, 203.0.113.5/32 on lo
#
# SPD: FWD block 192.0.2.0/24 -> 203.0.113.0/24. Every case sends the same
# frames (UDP to 203.0.113.5:9000) first to the kernel alone, then with
# xfrmbpf attached, and compares where they arrived (the sink behind the
# gateway, or the gateway itself), then checks the datapath's counters:
#   VLAN 10: forwarded, blocked: never arrives; policy_block at XDP
#   VLAN 20: the iif rule makes it local: arrives at the gateway
#            (pass_no_policy; the attached device's FIB would forward it
#            into the block)
#   VLAN 30: disable_policy on the VLAN device: forwarded to the sink
#            (pass_disable_policy)
#   VLAN 99: no VLAN device: the kernel drops it; pass_undecidable/vlan
#   untagged: forwarded, blocked; policy_block at XDP
# Then with the sender's tx-vlan offload on (tags may come beside the
# frame) the device is VLAN-blind: everything passes (vlan), until it is
# off again.
set -u
. "$(dirname "$0")/_lib.sh"
. "$(dirname "$0")/_vpn.sh"
vm_enter "$0" "$@"
require_root "vlan"
vm_banner "vlan"

GW=xbt-vl-gw SINK=xbt-vl-sink
N=10
PORT=9000
DST=203.0.113.5

cleanup() {
	vpn_fini
	ip netns del "$GW" 2>/dev/null
	ip netns del "$SINK" 2>/dev/null
}
trap cleanup EXIT

if ! modprobe -q 8021q 2>/dev/null && [ ! -d /sys/module/8021q ]; then
	tap_skip "vlan" "no 8021q in this kernel"
	exit 0
fi
modprobe -q veth 2>/dev/null

setup() {
	ip netns add "$GW" && ip netns add "$SINK" || return 1
	ip -n "$GW" link set lo up && ip -n "$SINK" link set lo up &&
	ip -n "$GW" link add xbt-vg0 type veth peer name xbt-vc0 &&
	ip -n "$GW" link add xbt-vw0 type veth peer name xbt-vs0 netns "$SINK" &&
	ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 &&
	ip netns exec "$GW" sysctl -qw net.ipv6.conf.xbt-vc0.disable_ipv6=1 &&
	ip netns exec "$GW" ethtool -K xbt-vc0 txvlan off tx-vlan-stag-hw-insert off \
		>/dev/null &&
	ip -n "$GW" link set xbt-vg0 up && ip -n "$GW" link set xbt-vc0 up &&
	ip -n "$GW" link add link xbt-vg0 name xbt-vg0.10 type vlan id 10 &&
	ip -n "$GW" link add link xbt-vg0 name xbt-vg0.20 type vlan id 20 &&
	ip -n "$GW" link add link xbt-vg0 name xbt-vg0.30 type vlan id 30 &&
	ip -n "$GW" addr add 192.0.2.1/25 dev xbt-vg0.10 &&
	ip -n "$GW" addr add 192.0.2.129/25 dev xbt-vg0.20 &&
	ip netns exec "$GW" sysctl -qw net.ipv4.conf.xbt-vg0/30.disable_policy=1 &&
	ip -n "$GW" link set xbt-vg0.10 up && ip -n "$GW" link set xbt-vg0.20 up &&
	ip -n "$GW" link set xbt-vg0.30 up &&
	ip -n "$GW" rule add iif xbt-vg0.20 lookup 120 pref 100 &&
	ip -n "$GW" route add local 203.0.113.0/24 dev lo table 120 &&
	ip -n "$GW" addr add 198.51.100.1/24 dev xbt-vw0 && ip -n "$GW" link set xbt-vw0 up &&
	ip -n "$GW" route add 203.0.113.0/24 via 198.51.100.2 &&
	ip -n "$SINK" addr add 198.51.100.2/24 dev xbt-vs0 && ip -n "$SINK" link set xbt-vs0 up &&
	ip -n "$SINK" addr add "$DST/32" dev lo &&
	ip -n "$GW" xfrm policy add dir fwd src 192.0.2.0/24 dst 203.0.113.0/24 action block
}

# send_frames VID|none COUNT: UDP to $DST:$PORT from 192.0.2.100, as raw
# Ethernet frames out of xbt-vc0 (a tag of VID when given).
send_frames() {
	ip netns exec "$GW" /usr/bin/python3 - "$1" "$2" "$DST" "$PORT" <<'EOF'
import socket, struct, sys
vid, count, dst, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
mac = bytes.fromhex(open("/sys/class/net/xbt-vg0/address").read().strip().replace(":", ""))
src_mac = bytes.fromhex(open("/sys/class/net/xbt-vc0/address").read().strip().replace(":", ""))
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("xbt-vc0", 0))
for i in range(count):
    payload = b"xbt vlan %d" % i
    udp = struct.pack("!HHHH", 40000 + i, port, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                     socket.inet_aton("192.0.2.100"), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    tag = b"" if vid == "none" else struct.pack("!HH", 0x8100, int(vid))
    s.send(mac + src_mac + tag + struct.pack("!H", 0x0800) + ip + udp)
EOF
}

# gw_counters: the gateway's IP and UDP receive counters that tell where a
# frame passed at XDP could have gone (one line, name=value).
gw_counters() {
	ip netns exec "$GW" awk '
		/^(Ip|Udp):/ { if (!($1 in head)) { head[$1] = $0; next }
			split(head[$1], h); for (i = 2; i <= NF; i++) v[$1 h[i]] = $i }
		END { n = split("Ip:InReceives Ip:InAddrErrors Ip:InDiscards Ip:InDelivers " \
			"Ip:ForwDatagrams Ip:OutNoRoutes Udp:InDatagrams Udp:NoPorts " \
			"Udp:InErrors Udp:RcvbufErrors", k, " ")
			for (i = 1; i <= n; i++) printf "%s=%s ", k[i], v[k[i]]; print "" }' \
		/proc/net/snmp
}

# arrived_as_wanted: the sinks of arrivals() (its fs, fg and want) have
# counted what they should so far.
arrived_as_wanted() {
	[ "$(udp_sink_now "$fs") $(udp_sink_now "$fg")" = "$want" ]
}

# arrivals VID "SINK GW": where the frames of one case arrived ("SINK GW"),
# given where they should. Frames that should not arrive get 0.5 s to do
# so anyway; those that should are waited for up to 10 s, and a shortfall
# is shown with the gateway's counters and link statistics.
arrivals() {
	local vid=$1 want=$2 fs=$VPN_WORK/sink.$1 fg=$VPN_WORK/gw.$1 ns ng pid_s pid_g c0 t0

	udp_sink_start "$SINK" "$DST" "$PORT" "$fs" || return 1
	pid_s=$UDP_SINK
	udp_sink_start "$GW" 0.0.0.0 "$PORT" "$fg" || return 1
	pid_g=$UDP_SINK
	rm -f "$fs.now" "$fg.now"
	c0=$(gw_counters)
	t0=$(date +%s%N)
	send_frames "$vid" "$N"
	sleep 0.5
	if ! arrived_as_wanted; then
		wait_for 10 arrived_as_wanted &&
			echo "# VLAN $vid: the last frame arrived after" \
				"$(( ($(date +%s%N) - t0) / 1000000 )) ms" >&2
	fi
	UDP_SINK=$pid_s udp_sink_stop "$fs"
	ns=$UDP_GOT
	UDP_SINK=$pid_g udp_sink_stop "$fg"
	ng=$UDP_GOT
	UDP_SINK=
	if [ "${ns:-?} ${ng:-?}" != "$want" ]; then
		echo "# VLAN $vid: got '${ns:-?} ${ng:-?}', want '$want'" >&2
		echo "# gateway before: $c0" >&2
		echo "# gateway after:  $(gw_counters)" >&2
		ip -n "$GW" -s link show dev xbt-vg0 | sed 's/^/# /' >&2
		ip -n "$GW" -s link show dev "xbt-vg0.$vid" 2>/dev/null | sed 's/^/# /' >&2
	fi
	echo "${ns:-?} ${ng:-?}"
}

cause_count() {
	xbn stats -j | jq -r --arg c "$1" '.undecidable_causes[$c] // 0'
}

# one_case NAME VID WANT_REASON [CAUSE]: the frames arrive where they did
# without xfrmbpf, and were counted under the reason (and cause).
one_case() {
	local name=$1 vid=$2 reason=$3 cause=${4:-} r0 c0 got

	r0=$(reason_count "$reason")
	[ -n "$cause" ] && c0=$(cause_count "$cause")
	got=$(arrivals "$vid" "${BASE[$vid]}")
	echo "# $name: counters now $(xbn stats -j | jq -c '[(.reasons |
		map_values(.packets) | with_entries(select(.value > 0))), .undecidable_causes]')"
	expect_eq "$name: arrivals (sink gateway) as without xfrmbpf" "'${BASE[$vid]}'" "'$got'"
	expect_eq "$name: $reason at XDP" "$N" $(($(reason_count "$reason") - r0))
	[ -n "$cause" ] &&
		expect_eq "$name: cause $cause" "$N" $(($(cause_count "$cause") - c0))
}

if ! out=$(setup 2>&1); then
	tap_fail_log "vlan: topology" "$out"
	exit 1
fi
vpn_init || { tap_fail "vlan: work directory and bpffs"; exit 1; }

# The kernel alone: where each case's frames end up.
declare -A BASE WANT=([10]="0 0" [20]="0 $N" [30]="$N 0" [99]="0 0" [none]="0 0")
for vid in 10 20 30 99 none; do
	BASE[$vid]=$(arrivals "$vid" "${WANT[$vid]}")
	expect_eq "kernel alone, VLAN $vid: arrivals (sink gateway)" "'${WANT[$vid]}'" \
		"'${BASE[$vid]}'"
done

# A slow (emulated, shared) guest can miss the default 3 s heartbeat
# timeout, and the datapath then passes everything (unsynced_pass).
if ! vpn_daemon_start "$GW" -i xbt-vg0 --mode native --heartbeat-timeout-ms 30000; then
	tap_fail "xfrmbpf attached to xbt-vg0 and synced"
	vpn_log_tail 30
	exit 1
fi
tap_ok "xfrmbpf attached to xbt-vg0 and synced"

st=$(xbn status -j | jq -c '.interfaces[] | select(.name == "xbt-vg0")')
if echo "$st" | jq -e '.vlan_blind == false and
		([.vlans[] | "\(.name)/\(.vid)/\(.protocol)/\(.disable_policy_ipv4)"] | sort) ==
		["xbt-vg0.10/10/802.1Q/false", "xbt-vg0.20/20/802.1Q/false",
		 "xbt-vg0.30/30/802.1Q/true"]' >/dev/null; then
	tap_ok "status lists the VLAN devices, not blind"
else
	tap_fail_log "status lists the VLAN devices, not blind" "$st"
fi

one_case "VLAN 10 forwarded into a FWD block" 10 policy_block
one_case "VLAN 20 local by its ip rule (iif)" 20 pass_no_policy
one_case "VLAN 30 with disable_policy" 30 pass_disable_policy
one_case "VLAN 99 without a VLAN device" 99 pass_undecidable vlan
one_case "untagged forwarded into a FWD block" none policy_block

# Tags that may come beside the frame: the device passes everything.
ip netns exec "$GW" ethtool -K xbt-vc0 txvlan on >/dev/null
if wait_for 10 eval "xbn status -j | jq -e '.interfaces[0].vlan_blind == true'"; then
	tap_ok "the sender's tx-vlan offload on: xbt-vg0 is VLAN-blind"
	one_case "blind: VLAN 20 still local" 20 pass_undecidable vlan
	one_case "blind: untagged passes to the kernel's block" none pass_undecidable vlan
else
	tap_fail "the sender's tx-vlan offload on: xbt-vg0 is VLAN-blind"
fi
ip netns exec "$GW" ethtool -K xbt-vc0 txvlan off >/dev/null
if wait_for 10 eval "xbn status -j | jq -e '.interfaces[0].vlan_blind == false'"; then
	tap_ok "tx-vlan offload off again: decided again"
	one_case "VLAN 10 blocked again" 10 policy_block
else
	tap_fail "tx-vlan offload off again: decided again"
fi

if ! grep -q "VLAN devices xbt-vg0.10 (802.1Q 10)" "$VPN_LOG"; then
	tap_fail "the daemon logs the VLAN devices"
	vpn_log_tail 20
else
	tap_ok "the daemon logs the VLAN devices"
fi
vpn_daemon_stop
expect_eq "daemon exits cleanly" 0 "$VPN_DAEMON_RC"
tap_done
