#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The lab carries real ESP through xfrm interfaces: two namespaces joined
# by a veth pair, a route-based tunnel (xfrm interface with if_id 7, if_id
# policies) with ESP SAs over IPv4 (cbc(aes)+hmac(sha256)) and over IPv6
# (rfc4106(gcm(aes))). Pings of the inner addresses must all come back, and
# the SA and interface counters must show exactly those packets. Removing
# the inbound SA must stop the replies (the kernel counts XfrmInNoStates).
set -u
. "$(dirname "$0")/_lib.sh"
vm_enter "$0" "$@"
require_root "esp tunnel"
vm_banner "esp_tunnel"

NA=xbt-esp-a
NB=xbt-esp-b
IFID=7
COUNT=5
# Fixed test keys: never used outside this lab.
ENC4=0x0f1e2d3c4b5a69788796a5b4c3d2e1f0
AUTH4=0x00112233445566778899aabbccddeeff0123456789abcdef0011223344556677
AEAD6=0xa0b1c2d3e4f5061728394a5b6c7d8e9fa1b2c3d4

cleanup() {
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
}
trap cleanup EXIT

# side NS OUT4 PEER4 OUT6 PEER6 IN4 PEERIN4 IN6 PEERIN6 SPI_TX SPI_RX
# One end, as an `ip -batch` (every exec is slow under TCG): underlay
# addresses, xfrm interface, SAs both ways (SPI+1 IPv4, SPI+2 IPv6), and
# policies with if_id 7, so they match only traffic inside the xfrm
# interface, never the ESP packets on the veth.
side() {
	local ns=$1 o4=$2 p4=$3 o6=$4 p6=$5 i4=$6 pi4=$7 i6=$8 pi6=$9 tx=${10} rx=${11}
	local dev=xbt-v${ns##*-} esp4="auth-trunc hmac(sha256) $AUTH4 128 enc cbc(aes) $ENC4"
	local esp6="aead rfc4106(gcm(aes)) $AEAD6 128"

	ip -n "$ns" -batch - <<-EOB
	link set lo up
	addr add $o4/24 dev $dev
	addr add $o6/64 dev $dev nodad
	link set $dev up
	link add xbt-xi type xfrm dev $dev if_id $IFID
	link set xbt-xi addrgenmode none
	addr add $i4/32 dev xbt-xi
	addr add $i6/128 dev xbt-xi nodad
	link set xbt-xi up
	route add $pi4/32 dev xbt-xi src $i4
	route add $pi6/128 dev xbt-xi src $i6
	xfrm state add src $o4 dst $p4 proto esp spi $((tx + 1)) reqid 1 mode tunnel if_id $IFID $esp4
	xfrm state add src $p4 dst $o4 proto esp spi $((rx + 1)) reqid 1 mode tunnel if_id $IFID $esp4
	xfrm state add src $o6 dst $p6 proto esp spi $((tx + 2)) reqid 2 mode tunnel if_id $IFID $esp6
	xfrm state add src $p6 dst $o6 proto esp spi $((rx + 2)) reqid 2 mode tunnel if_id $IFID $esp6
	xfrm policy add src $i4/32 dst $pi4/32 dir out if_id $IFID tmpl src $o4 dst $p4 proto esp reqid 1 mode tunnel
	xfrm policy add src $pi4/32 dst $i4/32 dir in if_id $IFID tmpl src $p4 dst $o4 proto esp reqid 1 mode tunnel
	xfrm policy add src $i6/128 dst $pi6/128 dir out if_id $IFID tmpl src $o6 dst $p6 proto esp reqid 2 mode tunnel
	xfrm policy add src $pi6/128 dst $i6/128 dir in if_id $IFID tmpl src $p6 dst $o6 proto esp reqid 2 mode tunnel
	EOB
}

setup() {
	modprobe -a esp4 esp6 xfrm_interface veth xfrm_user || return 1
	ip netns add "$NA" && ip netns add "$NB" || return 1
	ip link add xbt-va netns "$NA" type veth peer name xbt-vb netns "$NB" || return 1
	side "$NA" 192.0.2.1 192.0.2.2 2001:db8:1::1 2001:db8:1::2 \
		198.51.100.1 203.0.113.1 2001:db8:a::1 2001:db8:b::1 0xa000 0xb000 &&
	side "$NB" 192.0.2.2 192.0.2.1 2001:db8:1::2 2001:db8:1::1 \
		203.0.113.1 198.51.100.1 2001:db8:b::1 2001:db8:a::1 0xb000 0xa000
}

# ping_ok NAME NS DST: COUNT echo requests, every one answered.
ping_ok() {
	local out got

	out=$(ip netns exec "$2" ping -n -c "$COUNT" -i 0.2 -W 5 "$3" 2>&1)
	got=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	if [ "${got:-0}" = "$COUNT" ]; then
		tap_ok "$1: $got/$COUNT replies through the tunnel"
	else
		tap_fail_log "$1: ${got:-0}/$COUNT replies" "$(printf '%s\n' "$out" | tail -3)"
	fi
}

if ! setup_out=$(setup 2>&1); then
	tap_fail_log "esp tunnel: set up namespaces, xfrm interfaces, SAs and policies" "$setup_out"
	exit 1
fi
tap_ok "esp tunnel: esp4, esp6, xfrm_interface loaded; tunnel set up"
check "xfrm interface has if_id $IFID" \
	bash -c "ip -n $NA -d link show xbt-xi | grep -q 'if_id 0x$(printf %x $IFID)'"

ping_ok "IPv4 inner over esp4" "$NA" 203.0.113.1
ping_ok "IPv6 inner over esp6" "$NA" 2001:db8:b::1

# Every echo request left A through A's tx SA and entered B through the
# same SA on B; every reply took the reverse SA.
expect_eq "esp4 SA 192.0.2.1>192.0.2.2 spi 0xa001 packets at sender" "$COUNT" \
	"$(xfrm_sa_packets "$NA" 192.0.2.1 192.0.2.2 0xa001)"
expect_eq "esp4 SA 192.0.2.1>192.0.2.2 spi 0xa001 packets at receiver" "$COUNT" \
	"$(xfrm_sa_packets "$NB" 192.0.2.1 192.0.2.2 0xa001)"
expect_eq "esp4 SA 192.0.2.2>192.0.2.1 spi 0xb001 replies received by A" "$COUNT" \
	"$(xfrm_sa_packets "$NA" 192.0.2.2 192.0.2.1 0xb001)"
expect_eq "esp6 SA 2001:db8:1::1>2001:db8:1::2 spi 0xa002 packets at sender" "$COUNT" \
	"$(xfrm_sa_packets "$NA" 2001:db8:1::1 2001:db8:1::2 0xa002)"
expect_eq "esp6 SA 2001:db8:1::1>2001:db8:1::2 spi 0xa002 packets at receiver" "$COUNT" \
	"$(xfrm_sa_packets "$NB" 2001:db8:1::1 2001:db8:1::2 0xa002)"
expect_eq "esp6 SA 2001:db8:1::2>2001:db8:1::1 spi 0xb002 replies received by A" "$COUNT" \
	"$(xfrm_sa_packets "$NA" 2001:db8:1::2 2001:db8:1::1 0xb002)"
expect_eq "xfrm interface on B received the requests (rx packets)" $((2 * COUNT)) \
	"$(link_stat "$NB" xbt-xi rx packets)"
expect_eq "xfrm interface on A received the replies (rx packets)" $((2 * COUNT)) \
	"$(link_stat "$NA" xbt-xi rx packets)"
expect_eq "no ESP integrity failures on B (XfrmInStateProtoError)" 0 \
	"$(xfrm_stat "$NB" XfrmInStateProtoError)"

# Without A's inbound IPv4 SA the replies must die in the kernel.
before=$(xfrm_stat "$NA" XfrmInNoStates)
ip -n "$NA" xfrm state delete src 192.0.2.2 dst 192.0.2.1 proto esp spi 0xb001
if ip netns exec "$NA" ping -n -c 2 -i 0.2 -W 2 203.0.113.1 >/dev/null 2>&1; then
	tap_fail "IPv4 ping fails once A's inbound SA is gone" "replies still arrive"
else
	tap_ok "IPv4 ping fails once A's inbound SA is gone"
fi
after=$(xfrm_stat "$NA" XfrmInNoStates)
if [ $((after - before)) -ge 2 ]; then
	tap_ok "XfrmInNoStates counted the orphaned replies (+$((after - before)))"
else
	tap_fail "XfrmInNoStates counted the orphaned replies" "before $before, after $after"
fi

tap_done
