#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ESP by SPI at XDP, against real ESP SAs. A sender namespace (snd) and a
# receiver (rcv) over a veth; an ESP transport SA snd -> rcv per family
# carries the echo requests (policies on ICMP echo requests only, so raw
# ESP that the test crafts leaves snd as it is).
#
#   1. no xfrmbpf: pings go through the SAs; crafted ESP with a SPI rcv has
#      no SA for raises rcv's XfrmInNoStates by what was sent (the kernel
#      drops it);
#   2. `xfrmbpf run -i <rcv veth>` in rcv: pings still go through, counted
#      pass_known_spi; the same crafted ESP is dropped at XDP: unknown_spi
#      rises by what was sent and XfrmInNoStates does not move (on kernels
#      without bpf_xdp_get_xfrm_state, once the SPI's first packet has
#      passed as pending and the daemon has read its events since);
#   3. an SA with that SPI added live: its packets are passed
#      (pass_known_spi); deleted: dropped again (unknown_spi).
# IPv4 and IPv6; NAT-T (ESP in UDP 4500) with an unknown SPI too.
set -u
. "$(dirname "$0")/_lib.sh"
. "$(dirname "$0")/_vpn.sh"
vm_enter "$0" "$@"
require_root "esp spi"
vm_banner "esp_spi"

SND=xbt-es-snd RCV=xbt-es-rcv
S4=192.0.2.1 R4=192.0.2.2 S6=2001:db8:e::1 R6=2001:db8:e::2
N=20		# crafted packets per burst
PINGS=5
# Fixed test keys: never used outside this lab.
ESP4="auth-trunc hmac(sha256) 0x4e1f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081920a1b2c3d4e 128 enc cbc(aes) 0x0f1e2d3c4b5a69788796a5b4c3d2e1f0"
ESP6="aead rfc4106(gcm(aes)) 0x1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d 128"
declare -A SPI=([4]=0x1004 [6]=0x1006)		# the known SAs
declare -A LIVE=([4]=0xdead0004 [6]=0xdead0006)	# no SA, then live, then gone
declare -A SRC=([4]=$S4 [6]=$S6) DST=([4]=$R4 [6]=$R6) KEY=([4]=$ESP4 [6]=$ESP6)

cleanup() {
	vpn_fini
	ip netns del $SND 2>/dev/null
	ip netns del $RCV 2>/dev/null
}
trap cleanup EXIT

# sa_batch F: `ip -batch` lines of the known SA and the echo-request
# policy of family F (the same on both sides but the policy direction).
sa_batch() {
	local f=$1 dir=$2 icmp=icmp type=8

	[ "$f" = 6 ] && icmp=ipv6-icmp type=128
	echo "xfrm state add src ${SRC[$f]} dst ${DST[$f]} proto esp spi ${SPI[$f]} reqid $f mode transport ${KEY[$f]}"
	echo "xfrm policy add src ${SRC[$f]} dst ${DST[$f]} proto $icmp type $type dir $dir tmpl src ${SRC[$f]} dst ${DST[$f]} proto esp reqid $f mode transport"
}

setup() {
	modprobe -a esp4 esp6 veth xfrm_user || return 1
	ip netns add $SND && ip netns add $RCV || return 1
	ip link add xbt-es0 netns $SND type veth peer name xbt-es1 netns $RCV || return 1
	{
		echo "link set lo up"
		echo "addr add $S4/24 dev xbt-es0"
		echo "addr add $S6/64 dev xbt-es0 nodad"
		echo "link set xbt-es0 up"
		sa_batch 4 out
		sa_batch 6 out
	} | ip -n $SND -batch - || return 1
	{
		echo "link set lo up"
		echo "addr add $R4/24 dev xbt-es1"
		echo "addr add $R6/64 dev xbt-es1 nodad"
		echo "link set xbt-es1 up"
		sa_batch 4 in
		sa_batch 6 in
	} | ip -n $RCV -batch - || return 1
	# Neighbours resolved before anything is counted.
	ip netns exec $SND ping -c1 -W2 $R4 >/dev/null &&
	ip netns exec $SND ping -6 -c1 -W2 $R6 >/dev/null
}

# esp_send NS DST SPI COUNT [UDPPORT]: COUNT ESP packets with this SPI
# (sequence numbers 1..COUNT, 64 bytes of junk) from a raw socket, or with
# UDPPORT in UDP datagrams to that port (NAT-T encapsulation).
esp_send() {
	ip netns exec "$1" /usr/bin/python3 -c '
import os, socket, struct, sys, time
dst, spi, n = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3])
port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
if port:
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", 4500))
else:
    s = socket.socket(fam, socket.SOCK_RAW, 50)
for i in range(1, n + 1):
    s.sendto(struct.pack("!II", spi, i) + os.urandom(64), (dst, port))
    time.sleep(0.005)
' "$2" "$3" "$4" ${5:+"$5"}
}

kstat() { xfrm_stat $RCV "$1"; }

# sa_in F: packets rcv's known SA of family F has decrypted.
sa_in() { xfrm_sa_packets $RCV "${SRC[$1]}" "${DST[$1]}" "${SPI[$1]}"; }

mirror_has() { xbn sa -j | jq -e --argjson s "$(($1))" 'any(.[]; .spi == $s)' >/dev/null; }
mirror_lacks() { ! mirror_has "$1"; }

ping_f() {
	if [ "$1" = 6 ]; then ping_count $SND "${DST[6]}" $PINGS; else ping_count $SND "${DST[4]}" $PINGS; fi
}

# expect_ping PHASE F: PINGS replies, PINGS packets decrypted by the SA,
# and with the daemon PINGS more pass_known_spi.
expect_ping() {
	local f=$2 a0 a1 p0 p1 got

	a0=$(sa_in "$f")
	[ -n "$VPN_DAEMON" ] && p0=$(reason_count pass_known_spi)
	got=$(ping_f "$f")
	a1=$(sa_in "$f")
	expect_eq "$1: IPv$f ping through SA spi ${SPI[$f]}: replies" $PINGS "$got"
	expect_eq "$1: IPv$f SA spi ${SPI[$f]} decrypted packets +" $PINGS $((a1 - a0))
	if [ -n "$VPN_DAEMON" ]; then
		p1=$(reason_count pass_known_spi)
		expect_eq "$1: IPv$f pass_known_spi +" $PINGS $((p1 - p0))
	fi
}

# burst F SPI [PORT]: send N crafted packets; sets D_NOSTATES, D_UNKNOWN,
# D_KNOWN (deltas; the last two only with the daemon).
burst() {
	local f=$1 k0 k1 u0 u1 p0 p1

	k0=$(kstat XfrmInNoStates)
	if [ -n "$VPN_DAEMON" ]; then
		u0=$(reason_count unknown_spi) p0=$(reason_count pass_known_spi)
	fi
	esp_send $SND "${DST[$f]}" "$2" $N ${3:+"$3"}
	sleep 0.3
	k1=$(kstat XfrmInNoStates)
	D_NOSTATES=$((k1 - k0)) D_UNKNOWN='' D_KNOWN=''
	if [ -n "$VPN_DAEMON" ]; then
		u1=$(reason_count unknown_spi) p1=$(reason_count pass_known_spi)
		D_UNKNOWN=$((u1 - u0)) D_KNOWN=$((p1 - p0))
	fi
}

# An SPI the mirror lacks is judged by the kernel's own SA lookup where the
# kernel has bpf_xdp_get_xfrm_state() (6.8+: dropped from its first
# packet); elsewhere its first packet passes (pass_spi_pending) until the
# daemon has read its events past it, at most a heartbeat later.
# spi_prime F SPI [PORT]: there, one packet of that SPI, then until the
# daemon's next read; it must pass as pending, to the kernel.
events_read_since() {
	local age now_ms
	age=$(xbn status -j | jq '.events_read_age_ms // 1e9')
	now_ms=$(( $(date +%s%N) / 1000000 ))
	[ $((now_ms - $1)) -gt $((age + 1)) ]
}
spi_prime() {
	local t0_ms k0 q0

	[ "$(xbn status -j | jq -r .spi_check)" = kernel ] && return 0
	k0=$(kstat XfrmInNoStates) q0=$(reason_count pass_spi_pending)
	t0_ms=$(( $(date +%s%N) / 1000000 ))
	esp_send $SND "${DST[$1]}" "$2" 1 ${3:+"$3"}
	if wait_for 5 events_read_since "$t0_ms"; then
		tap_ok "spi check mirror: the daemon read its events after spi $2's first packet"
	else
		tap_fail "spi check mirror: the daemon read its events within 5 s of spi $2's first packet"
	fi
	expect_eq "spi check mirror: IPv$1 spi $2's first packet: pass_spi_pending +" 1 \
		$(( $(reason_count pass_spi_pending) - q0 ))
	[ -z "${3:-}" ] && expect_eq "spi check mirror: ... the kernel dropped it (XfrmInNoStates +)" 1 \
		$(( $(kstat XfrmInNoStates) - k0 ))
}

main() {
	local out f

	if [ ! -x "$XFRMBPF" ]; then
		tap_skip "esp spi" "$XFRMBPF is not built (make)"
		return 0
	fi
	if ! out=$(setup 2>&1); then
		tap_fail_log "esp spi: snd/rcv, ESP transport SAs IPv4 and IPv6" "$out"
		return 1
	fi
	vpn_init || { tap_fail "esp spi: private bpffs"; return 1; }
	tap_ok "esp spi: snd -> rcv ESP SAs spi ${SPI[4]} (IPv4), ${SPI[6]} (IPv6)"

	# 1. The kernel alone.
	for f in 4 6; do
		expect_ping "kernel" "$f"
		burst "$f" "${LIVE[$f]}"
		expect_eq "kernel: IPv$f ESP spi ${LIVE[$f]} (no SA) x$N: XfrmInNoStates +" $N "$D_NOSTATES"
	done

	# 2. xfrmbpf on rcv's veth.
	if ! vpn_daemon_start $RCV -i xbt-es1; then
		tap_fail_log "xfrmbpf run -i xbt-es1 syncs in rcv" "$(vpn_log_tail)"
		return 1
	fi
	tap_ok "xfrmbpf run -i xbt-es1: synced, $(xbn status -j | jq -c '{policies, sas, spi_check}')"
	for f in 4 6; do
		expect_ping "xfrmbpf" "$f"
		spi_prime "$f" "${LIVE[$f]}"
		burst "$f" "${LIVE[$f]}"
		expect_eq "xfrmbpf: IPv$f ESP spi ${LIVE[$f]} (no SA) x$N: unknown_spi +" $N "$D_UNKNOWN"
		expect_eq "xfrmbpf: IPv$f ... XfrmInNoStates + (dropped before the kernel)" 0 "$D_NOSTATES"
		expect_eq "xfrmbpf: IPv$f ... pass_known_spi +" 0 "$D_KNOWN"
	done

	# 3. SAs added and deleted live.
	for f in 4 6; do
		# shellcheck disable=SC2086 # KEY holds several arguments
		out=$(ip -n $RCV xfrm state add src "${SRC[$f]}" dst "${DST[$f]}" proto esp \
			spi "${LIVE[$f]}" reqid 9$f mode transport ${KEY[$f]} 2>&1) ||
			{ tap_fail_log "add SA spi ${LIVE[$f]}" "$out"; continue; }
		if wait_for 10 mirror_has "${LIVE[$f]}"; then
			tap_ok "live add: SA spi ${LIVE[$f]} (IPv$f) mirrored"
		else
			tap_fail "live add: SA spi ${LIVE[$f]} (IPv$f) mirrored within 10 s"
		fi
		burst "$f" "${LIVE[$f]}"
		expect_eq "live add: IPv$f spi ${LIVE[$f]} x$N: pass_known_spi +" $N "$D_KNOWN"
		expect_eq "live add: IPv$f spi ${LIVE[$f]}: unknown_spi +" 0 "$D_UNKNOWN"
		expect_eq "live add: IPv$f spi ${LIVE[$f]}: XfrmInNoStates + (the kernel has the SA)" 0 "$D_NOSTATES"

		ip -n $RCV xfrm state delete src "${SRC[$f]}" dst "${DST[$f]}" proto esp spi "${LIVE[$f]}"
		if wait_for 10 mirror_lacks "${LIVE[$f]}"; then
			tap_ok "live delete: SA spi ${LIVE[$f]} (IPv$f) left the mirror"
		else
			tap_fail "live delete: SA spi ${LIVE[$f]} (IPv$f) left the mirror within 10 s"
		fi
		burst "$f" "${LIVE[$f]}"
		expect_eq "live delete: IPv$f spi ${LIVE[$f]} x$N: unknown_spi +" $N "$D_UNKNOWN"
		expect_eq "live delete: IPv$f spi ${LIVE[$f]}: pass_known_spi +" 0 "$D_KNOWN"
		expect_eq "live delete: IPv$f spi ${LIVE[$f]}: XfrmInNoStates +" 0 "$D_NOSTATES"
	done

	nat_t

	echo "# counters:"
	xbn stats -j | jq -r '"#   reasons: " + ([.reasons | to_entries[] |
		select(.value.packets > 0) | "\(.key)=\(.value.packets)"] | join(" ")),
		(.interfaces[] | "#   iface \(.name): rx \(.rx_packets) passed \(.passed) dropped \(.dropped)")'
	echo "#   rcv xfrm_stat: $(ip netns exec $RCV awk '$2 > 0 { printf "%s=%s ", $1, $2 }' /proc/net/xfrm_stat)"
	echo "#   rcv SA spi ${SPI[4]} in: $(sa_in 4) packets, spi ${SPI[6]} in: $(sa_in 6) packets"
}

# NAT-T: an espinudp SA, then ESP in UDP 4500 with a SPI no SA has. The
# kernel decapsulates it only in the socket the lookup delivers it to, and
# only if that socket has UDP_ENCAP_ESPINUDP (as an IKE daemon's): without
# a socket it is plain UDP (port unreachable), a plain socket receives it,
# and XDP must not drop it; with encapsulating sockets for both families,
# XDP drops it as the kernel would (XfrmInNoStates).
#
# natt_sockets ENCAP: a process in rcv holding udp/4500 on IPv4 and IPv6
# (IPV6_V6ONLY, as charon's), UDP_ENCAP set to ENCAP unless 0; its pid in
# NATT_PID, what it received (one line per datagram) in $NATT_RCVD.
natt_sockets() {
	NATT_RCVD=${VPN_WORK:-/tmp}/natt-received
	: >"$NATT_RCVD"
	ip netns exec $RCV /usr/bin/python3 -c 'import select, socket, sys, time
out = open(sys.argv[2], "w", buffering=1)
socks = []
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    if int(sys.argv[1]):
        s.setsockopt(socket.IPPROTO_UDP, 100, int(sys.argv[1]))  # UDP_ENCAP
    s.bind((addr, 4500))
    socks.append(s)
end = time.time() + 60
while time.time() < end:
    for s in select.select(socks, [], [], 1)[0]:
        out.write("%s\n" % s.recvfrom(2048)[1][0])
' "$1" "$NATT_RCVD" &
	NATT_PID=$!
}
natt_stop() {
	kill "$NATT_PID" 2>/dev/null
	wait "$NATT_PID" 2>/dev/null
}

nat_t() {
	local out i

	# shellcheck disable=SC2086 # KEY holds several arguments
	out=$(ip -n $RCV xfrm state add src $S4 dst $R4 proto esp spi 0x4500 reqid 45 \
		mode tunnel encap espinudp 4500 4500 0.0.0.0 ${KEY[4]} 2>&1) ||
		{ tap_fail_log "NAT-T: add espinudp SA" "$out"; return; }
	if ! wait_for 10 mirror_has 0x4500; then
		tap_fail "NAT-T: espinudp SA spi 0x4500 mirrored within 10 s"
		return
	fi
	tap_ok "NAT-T: espinudp SA spi 0x4500 mirrored"
	burst 4 0xdead4500 4500
	expect_eq "NAT-T, no socket on 4500: plain UDP, unknown_spi +" 0 "$D_UNKNOWN"
	expect_eq "NAT-T, no socket on 4500: ... XfrmInNoStates +" 0 "$D_NOSTATES"

	# plain sockets: the kernel delivers ESP in UDP to them as UDP
	natt_sockets 0
	sleep 2
	for f in 4 6; do
		burst $f 0xdead4500 4500
		expect_eq "NAT-T, plain IPv$f socket on 4500: unknown_spi +" 0 "$D_UNKNOWN"
		expect_eq "NAT-T, plain IPv$f socket on 4500: ... XfrmInNoStates +" 0 "$D_NOSTATES"
	done
	sleep 0.5
	expect_eq "NAT-T, plain sockets on 4500: ... datagrams they received" $((2 * N)) \
		"$(wc -l <"$NATT_RCVD")"
	natt_stop

	# UDP_ENCAP (100) = UDP_ENCAP_ESPINUDP (2), as charon sets it
	natt_sockets 2
	for i in $(seq 30); do
		burst 4 0xdead4500 4500
		[ "$D_UNKNOWN" = "$N" ] && break
		sleep 0.2
	done
	expect_eq "NAT-T, encapsulating sockets on 4500: unknown_spi +" $N "$D_UNKNOWN"
	expect_eq "NAT-T: ... pass_known_spi +" 0 "$D_KNOWN"
	spi_prime 6 0xdead4500 4500
	burst 6 0xdead4500 4500
	expect_eq "NAT-T, encapsulating sockets on 4500: IPv6 unknown_spi +" $N "$D_UNKNOWN"
	expect_eq "NAT-T, encapsulating sockets: ... received none" 0 "$(wc -l <"$NATT_RCVD")"
	natt_stop
	# without xfrmbpf's drop the kernel would have counted them: checked
	# with the sockets gone, xfrmbpf is plain again within a beat
	for i in $(seq 30); do
		burst 4 0xdead4500 4500
		[ "$D_UNKNOWN" = 0 ] && break
		sleep 0.2
	done
	expect_eq "NAT-T, encapsulating sockets closed: unknown_spi +" 0 "$D_UNKNOWN"
}

main
tap_done
