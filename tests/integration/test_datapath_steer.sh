#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# TC steering (--steer): forwarded flows whose OUT policy names an if_id are
# redirected into the device of that if_id with the TTL / hop limit
# decremented (IPv4 checksum still valid); TTL 1, packets above the
# device's MTU and packets for the gateway itself go to the kernel.
#
# There are no xfrm interfaces on the test host, and the mirror follows only
# those; an L3 TUN device read by a small process stands in for one, and the
# test writes its xb_xfrm_links entry (if_id -> TUN) with bpftool, which is
# the entry the mirror writes for a real xfrm interface.
#
#   client (198.51.100.2, 2001:db8:c::2) -- gw -- far (192.0.2.2, 2001:db8:f::2)
#   gw routes 203.0.113.0/24 and 2001:db8:e::/64 to far; OUT policies for
#   them name if_id 0x42 = the TUN; 203.0.113.1 is the gateway's own.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/datapath.sh"

IF_ID=0x42
TUN=xbt-tun0
TUN_MTU=1400

xbt_dp_setup dp-steer
xbt_have_binary dp-steer || exit 0
[ -c /dev/net/tun ] || { tap_skip dp-steer "no /dev/net/tun"; exit 0; }
xbt_dp_ns CLI dp-steer-cli
xbt_dp_ns FAR dp-steer-far
xbt_dp_veth "$CLI" xbt-c0 "$XBT_NS" xbt-gw0
xbt_dp_veth "$XBT_NS" xbt-gw1 "$FAR" xbt-f0
GW=$XBT_NS
ip -n "$CLI" addr add 198.51.100.2/24 dev xbt-c0
ip -n "$CLI" addr add 2001:db8:c::2/64 dev xbt-c0 nodad
ip -n "$CLI" route add default via 198.51.100.1
ip -n "$CLI" -6 route add default via 2001:db8:c::1
ip -n "$GW" addr add 198.51.100.1/24 dev xbt-gw0
ip -n "$GW" addr add 2001:db8:c::1/64 dev xbt-gw0 nodad
ip -n "$GW" addr add 192.0.2.1/24 dev xbt-gw1
ip -n "$GW" addr add 2001:db8:f::1/64 dev xbt-gw1 nodad
ip -n "$GW" addr add 203.0.113.1/32 dev lo
ip -n "$GW" route add 203.0.113.0/24 via 192.0.2.2
ip -n "$GW" -6 route add 2001:db8:e::/64 via 2001:db8:f::2
ip -n "$FAR" addr add 192.0.2.2/24 dev xbt-f0
ip -n "$FAR" addr add 2001:db8:f::2/64 dev xbt-f0 nodad
ip -n "$FAR" route add 198.51.100.0/24 via 192.0.2.1
ip -n "$FAR" -6 route add 2001:db8:c::/64 via 2001:db8:f::1
xbt_ns sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
	xbt_bail "cannot enable forwarding"
xbt_ns ip xfrm policy add dir out src 198.51.100.0/24 dst 203.0.113.0/24 if_id $IF_ID ||
	xbt_bail "cannot add the IPv4 OUT policy"
xbt_ns ip xfrm policy add dir out src 2001:db8:c::/64 dst 2001:db8:e::/64 if_id $IF_ID ||
	xbt_bail "cannot add the IPv6 OUT policy"

# The stand-in xfrm interface and its reader.
TUNLOG=$XBT_DIR/tun.log
# `ip netns exec` execs in place: $! is the reader itself
ip netns exec "$GW" python3 "$XBT_DP_PY" tun-reader "$TUN" "$TUNLOG" 2>"$XBT_DIR/tun.err" &
xbt_track_pid $!
wait_for 20 grep -q ready "$TUNLOG" ||
	xbt_bail "the TUN reader did not start: $(head -c 300 "$XBT_DIR/tun.err" | tr '\n' ' ')"
ip -n "$GW" link set "$TUN" mtu $TUN_MTU up || xbt_bail "cannot bring $TUN up"

# On a failed expect (tests/lib/tap.sh): some context.
expect_context() {
	xb stats -j 2>/dev/null | jq -c '.reasons | with_entries(select(.value.packets > 0))' |
		sed 's/^/#   counters: /'
	tail -5 "$TUNLOG" | sed 's/^/#   tun: /'
}

le32() {
	printf '%02x %02x %02x %02x' $(( $1 & 255 )) $(( ($1 >> 8) & 255 )) \
		$(( ($1 >> 16) & 255 )) $(( ($1 >> 24) & 255 ))
}

# struct xb_xfrm_link { ifindex, link_ifindex, if_id, collect_md, pad[3], name[16] }
write_link() {
	local ifindex name hex

	ifindex=$(xbt_ns cat /sys/class/net/$TUN/ifindex)
	name=$(printf '%s' "$TUN" | od -An -tx1 | tr -s ' \n' ' ')
	hex="$(le32 "$ifindex") $(le32 0) $(le32 $IF_ID) 00 00 00 00 $name"
	hex="$hex$(printf ' 00%.0s' $(seq $(( 16 - ${#TUN} ))))"
	bpftool map update pinned "$XBT_PIN/xb_xfrm_links" key hex $(le32 $IF_ID) \
		value hex $hex
}

tun_count() { grep -c "^$1 " "$TUNLOG"; }
reason() { xbt_reason "$1"; }
steered_on_gw0() {
	xb stats -j | jq -r '.interfaces[] | select(.name == "xbt-gw0") | .steered'
}
send() { ip netns exec "$CLI" python3 "$XBT_DP_PY" send "$@" >/dev/null; }

# sent_expect NAME REASON TUN_FAMILY TUN_DELTA SEND-ARGS...: send, then the
# reason grew by the packets sent and the TUN saw TUN_DELTA more packets.
sent_expect() {
	local name=$1 why=$2 fam=$3 tdelta=$4 r0 t0 count

	shift 4
	count=$(echo "$*" | sed -n 's/.*--count \([0-9]*\).*/\1/p')
	r0=$(reason "$why")
	t0=$(tun_count "$fam")
	send "$@"
	sleep 0.3
	expect "$name: $why +$count" wait_for 3 eval "[ \$(reason $why) -ge $(( r0 + count )) ]"
	expect "$name: $tdelta more on the TUN" \
		wait_for 3 eval "[ \$(tun_count $fam) -eq $(( t0 + tdelta )) ]"
}

xbt_daemon_start -i xbt-gw0 --steer
expect "daemon synced with --steer" xbt_daemon_wait_synced 10
expect "xb_xfrm_links entry for if_id $IF_ID -> $TUN written" write_link

s0=$(steered_on_gw0)
sent_expect "IPv4 forwarded, policy names if_id" steered v4 5 \
	203.0.113.5 9 --count 5 --ttl 64
expect "IPv4 steered packets arrive with TTL 63 and a valid header checksum" \
	eval '[ "$(grep -c "^v4 ttl=63 csum=ok proto=17 dst=203.0.113.5 " "$TUNLOG")" -eq 5 ]'
expect "per-interface counter: xbt-gw0 steered 5" [ "$(steered_on_gw0)" -eq $(( s0 + 5 )) ]
sent_expect "IPv6 forwarded, policy names if_id" steered v6 5 \
	2001:db8:e::5 9 --count 5 --ttl 64
expect "IPv6 steered packets arrive with hop limit 63" \
	eval '[ "$(grep -c "^v6 ttl=63 .*dst=2001:db8:e::5 " "$TUNLOG")" -eq 5 ]'
sent_expect "TTL 1" steer_skip_ttl v4 0 203.0.113.5 9 --count 3 --ttl 1
sent_expect "hop limit 1" steer_skip_ttl v6 0 2001:db8:e::5 9 --count 3 --ttl 1
sent_expect "above the TUN's MTU ($TUN_MTU)" steer_skip_mtu v4 0 \
	203.0.113.5 9 --count 3 --size $TUN_MTU
sent_expect "for the gateway itself (203.0.113.1)" steer_skip_local v4 0 \
	203.0.113.1 9 --count 3
bpftool map delete pinned "$XBT_PIN/xb_xfrm_links" key hex $(le32 $IF_ID)
sent_expect "if_id without a device" steer_skip_no_dev v4 0 203.0.113.5 9 --count 3

xbt_daemon_stop TERM
expect "SIGTERM: TC filter and clsact removed" \
	eval '! xbt_ns tc qdisc show dev xbt-gw0 | grep -q clsact'

tap_done
