#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Issue 13, case 10: generic (skb-mode) XDP sees decrypted tunnel traffic
# again. After tunnel-mode ESP the kernel feeds the inner packet back into
# the receive path of the same device (gro_cells / netif_rx), so an
# skb-mode XDP program runs on it a second time; the FWD (or IN) policy
# whose template it has just satisfied must not drop it there. The
# datapath calls "requires IPsec" undecidable on devices in generic mode
# (pass_undecidable, cause generic_xdp) and leaves the verdict to the
# kernel, which knows the packet's secpath.
#
# Real ESP (cbc(aes) + hmac(sha256) over IPv4, rfc4106(gcm(aes)) over
# IPv6) set up with `ip xfrm`, namespaces over veth pairs:
#
#   tunnel:    ha --- gwa ===ESP=== gwb --- hb     xfrmbpf on gwb's WAN veth
#              (FWD + IN policies with templates on both gateways)
#   transport: hs ===ESP=== hr                     xfrmbpf on hr's veth
#              (IN policies with templates on both hosts)
#
# Each topology runs three phases: the kernel alone (the baseline),
# xfrmbpf --mode skb, xfrmbpf --mode native. In each: IPv4 and IPv6 pings
# and an IPv4 TCP transfer get through without loss, exactly as in the
# baseline; every ESP packet the receiver's SAs decrypted passed XDP as
# pass_known_spi; in skb mode every decrypted tunnel-mode inner packet came
# back through XDP and passed as pass_undecidable/generic_xdp (6.1; 6.12
# does not run generic XDP on it again, so none does; transport mode hands
# the decrypted packet to the stack directly, never through the device
# again). Then cleartext that the FWD/IN policy requires to be ESP
# (the sender bypasses its own OUT policy for UDP port $PROBE_PORT) is sent:
# it never arrives; the kernel counts it as XfrmInTmplMismatch (baseline
# and skb mode: XDP passes it as generic_xdp) or XDP drops it first
# (native mode: policy_requires_ipsec, the kernel sees nothing).
# XfrmInNoPols and XfrmInPolBlock stay where they are: a policy exists and
# allows, its template is what the cleartext lacks.
#
# Native XDP on veth (6.1): attaching a program enables the device's NAPI
# (veth_enable_xdp), so frames from the peer run through it without an XDP
# program on the peer and without GRO turned on; the peer loses its GSO
# features while it is attached (veth_fix_features).
set -u
. "$(dirname "$0")/_lib.sh"
. "$(dirname "$0")/_vpn.sh"
vm_enter "$0" "$@"
require_root "generic xdp esp"
vm_banner "generic_xdp_esp"

P=xbt-gx-
HA=${P}ha GWA=${P}gwa GWB=${P}gwb HB=${P}hb HS=${P}hs HR=${P}hr
ALL_NS="$HA $GWA $GWB $HB $HS $HR"
COUNT=5			# pings per family
PROBES=10		# cleartext datagrams per family
PROBE_PORT=9999
TCP_PORT=5001
TCP_BYTES=262144
# Fixed test keys: never used outside this lab.
ESP4="auth-trunc hmac(sha256) 0x2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081920a1b2c3d4e5f6071 128 enc cbc(aes) 0x3c4b5a69788796a5b4c3d2e1f00f1e2d"
ESP6="aead rfc4106(gcm(aes)) 0x9a8b7c6d5e4f30211203f4e5d6c7b8a9c1d2e3f4 128"

# Tunnel: LAN A 198.51.100.0/24, 2001:db8:a::/64 behind gwa; LAN B
# 203.0.113.0/24, 2001:db8:b::/64 behind gwb; WAN 192.0.2.0/24, 2001:db8:f::/64.
LANA4=198.51.100.0/24 LANA6=2001:db8:a::/64 LANB4=203.0.113.0/24 LANB6=2001:db8:b::/64
WA4=192.0.2.1 WB4=192.0.2.2 WA6=2001:db8:f::1 WB6=2001:db8:f::2
HB4=203.0.113.10 HB6=2001:db8:b::10
# Transport: hs and hr on one link.
S4=198.18.0.1 R4=198.18.0.2 S6=2001:db8:7::1 R6=2001:db8:7::2

cleanup() {
	local ns

	vpn_fini
	for ns in $ALL_NS; do
		ip netns del "$ns" 2>/dev/null
	done
}
trap cleanup EXIT

# gw_batch LOCAL4 PEER4 LOCAL6 PEER6 MYNET4 MYNET6 THEIRNET4 THEIRNET6 TX RX:
# one gateway's SAs (SPI TX/RX + 1 IPv4, + 2 IPv6) and policies: OUT to the
# remote LAN, IN and FWD from it, all with a tunnel-mode template.
gw_batch() {
	local l4=$1 p4=$2 l6=$3 p6=$4 m4=$5 m6=$6 t4=$7 t6=$8 tx=$9 rx=${10} d

	cat <<-EOB
	xfrm state add src $l4 dst $p4 proto esp spi $((tx + 1)) reqid 1 mode tunnel $ESP4
	xfrm state add src $p4 dst $l4 proto esp spi $((rx + 1)) reqid 1 mode tunnel $ESP4
	xfrm state add src $l6 dst $p6 proto esp spi $((tx + 2)) reqid 2 mode tunnel $ESP6
	xfrm state add src $p6 dst $l6 proto esp spi $((rx + 2)) reqid 2 mode tunnel $ESP6
	xfrm policy add src $m4 dst $t4 dir out priority 100 tmpl src $l4 dst $p4 proto esp reqid 1 mode tunnel
	xfrm policy add src $m6 dst $t6 dir out priority 100 tmpl src $l6 dst $p6 proto esp reqid 2 mode tunnel
	EOB
	for d in in fwd; do
		cat <<-EOB
		xfrm policy add src $t4 dst $m4 dir $d priority 100 tmpl src $p4 dst $l4 proto esp reqid 1 mode tunnel
		xfrm policy add src $t6 dst $m6 dir $d priority 100 tmpl src $p6 dst $l6 proto esp reqid 2 mode tunnel
		EOB
	done
}

# host_batch DEV ADDR4/LEN ADDR6/LEN [GW4 GW6]
host_batch() {
	cat <<-EOB
	link set lo up
	addr add $2 dev $1
	addr add $3 dev $1 nodad
	link set $1 up
	EOB
	[ $# -gt 3 ] && echo "route add default via $4" && echo "route add default via $5"
	return 0
}

setup_tunnel() {
	local ns

	for ns in $HA $GWA $GWB $HB; do
		ip netns add "$ns" || return 1
	done
	ip link add xbt-h0 netns $HA type veth peer name xbt-lan netns $GWA &&
	ip link add xbt-wan netns $GWA type veth peer name xbt-wan netns $GWB &&
	ip link add xbt-lan netns $GWB type veth peer name xbt-h0 netns $HB || return 1
	{
		host_batch xbt-wan $WA4/24 $WA6/64
		host_batch xbt-lan 198.51.100.1/24 2001:db8:a::1/64 | sed 1d
		echo "route add $LANB4 via $WB4"
		echo "route add $LANB6 via $WB6"
		gw_batch $WA4 $WB4 $WA6 $WB6 $LANA4 $LANA6 $LANB4 $LANB6 0xa000 0xb000
		# gwa sends UDP to PROBE_PORT in the clear: the cleartext probe.
		echo "xfrm policy add src $LANA4 dst $LANB4 proto udp dport $PROBE_PORT dir out priority 10 action allow"
		echo "xfrm policy add src $LANA6 dst $LANB6 proto udp dport $PROBE_PORT dir out priority 10 action allow"
	} | ip -n $GWA -batch - || return 1
	{
		host_batch xbt-wan $WB4/24 $WB6/64
		host_batch xbt-lan 203.0.113.1/24 2001:db8:b::1/64 | sed 1d
		echo "route add $LANA4 via $WA4"
		echo "route add $LANA6 via $WA6"
		gw_batch $WB4 $WA4 $WB6 $WA6 $LANB4 $LANB6 $LANA4 $LANA6 0xb000 0xa000
	} | ip -n $GWB -batch - || return 1
	for ns in $GWA $GWB; do
		ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward &&
			echo 1 >/proc/sys/net/ipv6/conf/all/forwarding' || return 1
	done
	host_batch xbt-h0 198.51.100.10/24 2001:db8:a::10/64 198.51.100.1 2001:db8:a::1 |
		ip -n $HA -batch - &&
	host_batch xbt-h0 $HB4/24 $HB6/64 203.0.113.1 2001:db8:b::1 |
		ip -n $HB -batch - || return 1
	# Neighbours resolved (and the tunnel proven) before anything is counted.
	ip netns exec $HA ping -c1 -W5 $HB4 >/dev/null &&
	ip netns exec $HA ping -c1 -W5 $HB6 >/dev/null
}

# tr_batch LOCAL4 PEER4 LOCAL6 PEER6 TX RX: one host's transport SAs and
# OUT/IN policies (any protocol between the two addresses).
tr_batch() {
	local l4=$1 p4=$2 l6=$3 p6=$4 tx=$5 rx=$6

	cat <<-EOB
	xfrm state add src $l4 dst $p4 proto esp spi $((tx + 1)) reqid 3 mode transport $ESP4
	xfrm state add src $p4 dst $l4 proto esp spi $((rx + 1)) reqid 3 mode transport $ESP4
	xfrm state add src $l6 dst $p6 proto esp spi $((tx + 2)) reqid 4 mode transport $ESP6
	xfrm state add src $p6 dst $l6 proto esp spi $((rx + 2)) reqid 4 mode transport $ESP6
	xfrm policy add src $l4 dst $p4 dir out priority 100 tmpl src $l4 dst $p4 proto esp reqid 3 mode transport
	xfrm policy add src $p4 dst $l4 dir in priority 100 tmpl src $p4 dst $l4 proto esp reqid 3 mode transport
	xfrm policy add src $l6 dst $p6 dir out priority 100 tmpl src $l6 dst $p6 proto esp reqid 4 mode transport
	xfrm policy add src $p6 dst $l6 dir in priority 100 tmpl src $p6 dst $l6 proto esp reqid 4 mode transport
	EOB
}

# The host-to-host policies cover every protocol, IPv6 neighbour discovery
# too: permanent neighbours keep it off the link.
setup_transport() {
	local ms mr

	ip netns add $HS && ip netns add $HR || return 1
	ip link add xbt-t0 netns $HS type veth peer name xbt-t1 netns $HR || return 1
	ms=$(ip -n $HS -j link show dev xbt-t0 | jq -r '.[0].address')
	mr=$(ip -n $HR -j link show dev xbt-t1 | jq -r '.[0].address')
	{
		host_batch xbt-t0 $S4/24 $S6/64
		echo "neigh replace $R4 lladdr $mr dev xbt-t0 nud permanent"
		echo "neigh replace $R6 lladdr $mr dev xbt-t0 nud permanent"
		tr_batch $S4 $R4 $S6 $R6 0xc000 0xd000
		echo "xfrm policy add src $S4 dst $R4 proto udp dport $PROBE_PORT dir out priority 10 action allow"
		echo "xfrm policy add src $S6 dst $R6 proto udp dport $PROBE_PORT dir out priority 10 action allow"
	} | ip -n $HS -batch - || return 1
	{
		host_batch xbt-t1 $R4/24 $R6/64
		echo "neigh replace $S4 lladdr $ms dev xbt-t1 nud permanent"
		echo "neigh replace $S6 lladdr $ms dev xbt-t1 nud permanent"
		tr_batch $R4 $S4 $R6 $S6 0xd000 0xc000
	} | ip -n $HR -batch - || return 1
	ip netns exec $HS ping -c1 -W5 $R4 >/dev/null &&
	ip netns exec $HS ping -c1 -W5 $R6 >/dev/null
}

# Per topology: sender, receiver host, the namespace and device xfrmbpf
# runs on, the receiver's inbound SAs (IPv4, IPv6), whether decrypted
# packets come back through that device.
use_topology() {
	TOPO=$1
	if [ "$TOPO" = tunnel ]; then
		SND=$HA DST_NS=$HB DST4=$HB4 DST6=$HB6 XB_NS=$GWB XB_DEV=xbt-wan
		SA4="$WA4 $WB4 0xa001" SA6="$WA6 $WB6 0xa002" REINJECT=1
	else
		SND=$HS DST_NS=$HR DST4=$R4 DST6=$R6 XB_NS=$HR XB_DEV=xbt-t1
		SA4="$S4 $R4 0xc001" SA6="$S6 $R6 0xc002" REINJECT=0
	fi
}

# Packets the receiver's inbound SAs have decrypted (both families).
# shellcheck disable=SC2086 # SA4/SA6 hold three arguments
sa_in() {
	echo $(($(xfrm_sa_packets $XB_NS $SA4) + $(xfrm_sa_packets $XB_NS $SA6)))
}

# xb_counts: "pass_known_spi generic_xdp policy_requires_ipsec" (0 0 0
# without the daemon).
xb_counts() {
	if [ -z "$VPN_DAEMON" ]; then
		echo "0 0 0"
		return
	fi
	xbn stats -j | jq -r '"\(.reasons.pass_known_spi.packets // 0)" +
		" \(.undecidable_causes.generic_xdp // 0)" +
		" \(.reasons.policy_requires_ipsec.packets // 0)"'
}

# kstats: "XfrmInTmplMismatch XfrmInNoPols XfrmInPolBlock" where xfrmbpf runs.
kstats() {
	ip netns exec $XB_NS awk '$1 == "XfrmInTmplMismatch" { t = $2 }
		$1 == "XfrmInNoPols" { n = $2 } $1 == "XfrmInPolBlock" { b = $2 }
		END { print t + 0, n + 0, b + 0 }' /proc/net/xfrm_stat
}

# tcp_transfer: TCP_BYTES from SND to DST4:TCP_PORT; prints the receiver's
# and the sender's "bytes sha256" (both lines equal when it got through).
tcp_transfer() {
	local dir srv

	dir=$(mktemp -d "$VPN_WORK/tcp.XXXXXX")
	ip netns exec $DST_NS /usr/bin/python3 -c '
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(60)
open(sys.argv[3] + ".ready", "w").close()
c, _ = s.accept()
c.settimeout(60)
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(65536)
    if not b:
        break
    h.update(b)
    n += len(b)
open(sys.argv[3], "w").write("%d %s\n" % (n, h.hexdigest()))
' "$DST4" $TCP_PORT "$dir/rcv" >/dev/null 2>&1 &
	srv=$!
	wait_for 10 test -e "$dir/rcv.ready"
	ip netns exec $SND timeout 90 /usr/bin/python3 -c '
import hashlib, random, socket, sys
data = random.Random(13).randbytes(int(sys.argv[3]))
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
s.recv(1)
print(len(data), hashlib.sha256(data).hexdigest())
' "$DST4" $TCP_PORT $TCP_BYTES 2>&1 | tail -1
	wait "$srv"
	cat "$dir/rcv" 2>/dev/null || echo "receiver got nothing"
}

# traffic PHASE: pings of both families and the TCP transfer, then what
# the receiver decrypted against what XDP counted.
traffic() {
	local ph=$1 s0 s1 x0 x1 got out d t g

	s0=$(sa_in)
	read -r -a x0 <<<"$(xb_counts)"
	got=$(ping_count $SND $DST4 $COUNT 5)
	expect_eq "$ph: IPv4 ping ${SND#"$P"} -> ${DST_NS#"$P"}: replies" $COUNT "$got"
	got=$(ping_count $SND $DST6 $COUNT 5)
	expect_eq "$ph: IPv6 ping ${SND#"$P"} -> ${DST_NS#"$P"}: replies" $COUNT "$got"
	t=$SECONDS
	out=$(tcp_transfer)
	echo "#   $ph: TCP transfer $((SECONDS - t)) s"
	if [ "$(printf '%s\n' "$out" | sort -u | wc -l)" = 1 ] &&
		[ "${out%% *}" = $TCP_BYTES ]; then
		tap_ok "$ph: TCP ${SND#"$P"} -> ${DST_NS#"$P"}: $TCP_BYTES bytes, same sha256"
	else
		tap_fail_log "$ph: TCP ${SND#"$P"} -> ${DST_NS#"$P"}: $TCP_BYTES bytes, same sha256" \
			"sender/receiver: $out"
	fi
	s1=$(sa_in)
	read -r -a x1 <<<"$(xb_counts)"
	d=$((s1 - s0))
	if [ "$d" -ge $((4 * COUNT)) ]; then
		tap_ok "$ph: ${XB_NS#"$P"} decrypted the traffic (inbound SA packets +$d)"
	else
		tap_fail "$ph: ${XB_NS#"$P"} decrypted the traffic" "inbound SA packets +$d"
	fi
	echo "#   $ph: traffic: inbound SAs +$d, xfrmbpf pass_known_spi/generic_xdp/policy_requires_ipsec" \
		"+$((x1[0] - x0[0]))/+$((x1[1] - x0[1]))/+$((x1[2] - x0[2]))"
	[ -n "$VPN_DAEMON" ] || return 0
	expect_eq "$ph: every decrypted ESP packet passed XDP as pass_known_spi (+)" "$d" \
		$((x1[0] - x0[0]))
	if [ "$MODE" = skb ] && [ "$REINJECT" = 1 ]; then
		# 6.1 runs generic XDP again on the re-injected inner packet,
		# 6.12 does not: all of them or none, never some
		g=$((x1[1] - x0[1]))
		if [ "$g" -eq "$d" ]; then
			tap_ok "$ph: every decrypted inner packet came back through XDP: generic_xdp +$g"
		elif [ "$g" -eq 0 ]; then
			tap_ok "$ph: no decrypted inner packet came back through XDP (not run again here)"
		else
			tap_fail "$ph: decrypted inner packets through XDP: all ($d) or none" "generic_xdp +$g"
		fi
	else
		expect_eq "$ph: generic_xdp + (no inner packet through XDP)" 0 $((x1[1] - x0[1]))
	fi
	expect_eq "$ph: policy_requires_ipsec + (nothing of the traffic dropped)" 0 \
		$((x1[2] - x0[2]))
}

# probe PHASE: PROBES cleartext datagrams per family to DST:PROBE_PORT,
# which the FWD/IN policy requires to be ESP.
probe() {
	local ph=$1 k0 k1 x0 x1 n=$((2 * PROBES)) tm want_k want_drop want_gen sink

	sink=$VPN_WORK/probe.$TOPO.$MODE
	udp_sink_start $DST_NS :: $PROBE_PORT "$sink" ||
		{ tap_fail "$ph: UDP sink on ${DST_NS#"$P"}:$PROBE_PORT"; return; }
	read -r -a k0 <<<"$(kstats)"
	read -r -a x0 <<<"$(xb_counts)"
	udp_send $SND $DST4 $PROBE_PORT $PROBES
	udp_send $SND $DST6 $PROBE_PORT $PROBES
	sleep 0.3
	read -r -a k1 <<<"$(kstats)"
	read -r -a x1 <<<"$(xb_counts)"
	udp_sink_stop "$sink"
	tm=$((k1[0] - k0[0]))
	echo "#   $ph: cleartext x$n: XfrmInTmplMismatch/NoPols/PolBlock +$tm/+$((k1[1] - k0[1]))/+$((k1[2] - k0[2]))," \
		"xfrmbpf pass_known_spi/generic_xdp/policy_requires_ipsec" \
		"+$((x1[0] - x0[0]))/+$((x1[1] - x0[1]))/+$((x1[2] - x0[2]))"
	expect_eq "$ph: cleartext UDP x$n to ${DST_NS#"$P"}: datagrams delivered" 0 "${UDP_GOT:-none}"
	case $MODE in
	native) want_k=0 want_drop=$n want_gen=0 ;;
	skb) want_k=$n want_drop=0 want_gen=$n ;;
	*) want_k=$n want_drop=0 want_gen=0 ;;
	esac
	expect_eq "$ph: cleartext: kernel XfrmInTmplMismatch +" $want_k "$tm"
	expect_eq "$ph: cleartext: kernel XfrmInNoPols +" 0 $((k1[1] - k0[1]))
	expect_eq "$ph: cleartext: kernel XfrmInPolBlock +" 0 $((k1[2] - k0[2]))
	[ -n "$VPN_DAEMON" ] || return 0
	expect_eq "$ph: cleartext: xfrmbpf policy_requires_ipsec +" $want_drop $((x1[2] - x0[2]))
	expect_eq "$ph: cleartext: xfrmbpf generic_xdp +" $want_gen $((x1[1] - x0[1]))
}

# xdp_mode_of NS DEV: what the kernel reports attached on DEV.
xdp_mode_of() {
	ip -n "$1" -d link show dev "$2" | grep -oE '\b(xdpgeneric|xdpdrv|xdpoffload|xdpmulti|xdp)\b' |
		head -1
}

# phase TOPO MODE: MODE is kernel (no xfrmbpf), skb or native.
phase() {
	local ph=$1/$2 st want t0=$SECONDS

	use_topology "$1"
	MODE=$2
	if [ "$MODE" != kernel ]; then
		rm -rf "$VPN_PIN" && mkdir -p "$VPN_PIN"
		if ! vpn_daemon_start $XB_NS -i $XB_DEV --mode "$MODE"; then
			tap_fail_log "$ph: xfrmbpf run -i $XB_DEV --mode $MODE syncs in ${XB_NS#"$P"}" \
				"$(vpn_log_tail)"
			return 1
		fi
		st=$(xbn status -j)
		want=true
		[ "$MODE" = native ] && want=false
		if [ "$(jq -r --arg d $XB_DEV '.interfaces[] | select(.name == $d) | .generic_xdp' \
			<<<"$st")" = $want ]; then
			tap_ok "$ph: xfrmbpf on ${XB_NS#"$P"}/$XB_DEV synced, $(jq -c '{policies, sas}' <<<"$st"), generic_xdp $want, kernel shows $(xdp_mode_of $XB_NS $XB_DEV)"
		else
			tap_fail_log "$ph: xfrmbpf on $XB_DEV attached in $MODE mode (generic_xdp $want)" \
				"$(jq -c .interfaces <<<"$st")
$(ip -n $XB_NS -d link show dev $XB_DEV)
$(vpn_log_tail)"
		fi
	fi
	traffic "$ph"
	probe "$ph"
	if [ "$MODE" != kernel ]; then
		[ -n "${V:-}" ] && xbn stats | sed 's/^/#   /'
		vpn_daemon_stop
		expect_eq "$ph: daemon exits 0 on SIGTERM" 0 "$VPN_DAEMON_RC"
		[ -z "$(xdp_mode_of $XB_NS $XB_DEV)" ] ||
			tap_fail "$ph: XDP detached from $XB_DEV on exit"
	fi
	echo "#   $ph: $((SECONDS - t0)) s"
}

main() {
	local out t0 topo mode

	if [ ! -x "$XFRMBPF" ]; then
		tap_skip "generic xdp esp" "$XFRMBPF is not built (make)"
		return 0
	fi
	t0=$(date +%s)
	modprobe -a esp4 esp6 veth xfrm_user || { tap_fail "modprobe esp4 esp6 veth xfrm_user"; return 1; }
	if ! out=$(setup_tunnel 2>&1); then
		tap_fail_log "tunnel: ha - gwa =ESP= gwb - hb with FWD/IN policies, first pings" "$out"
		return 1
	fi
	tap_ok "tunnel: ha - gwa =ESP= gwb - hb (tunnel-mode SAs, OUT/IN/FWD policies), pings through"
	if ! out=$(setup_transport 2>&1); then
		tap_fail_log "transport: hs =ESP= hr with IN policies, first pings" "$out"
		return 1
	fi
	tap_ok "transport: hs =ESP= hr (transport-mode SAs, OUT/IN policies), pings through"
	vpn_init || { tap_fail "private bpffs"; return 1; }
	lsmod | grep -q '^esp[46]_offload' && echo "# note: ESP GRO offload modules are loaded"

	for topo in tunnel transport; do
		for mode in kernel skb native; do
			phase $topo $mode || return 1
		done
	done
	echo "# generic_xdp_esp: $(($(date +%s) - t0)) s in the guest"
}

main
tap_done
