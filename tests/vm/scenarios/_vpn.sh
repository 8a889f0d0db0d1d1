# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Sourced by the VPN scenarios of the kernel lab (route_vpn, strongswan,
# collect_md), after _lib.sh: the xfrmbpf daemon inside a namespace, pinned
# under a bpffs of our own, and traffic counted at the far end.
#
# The daemon runs under `nsenter --net`, not `ip netns exec`: the latter
# remounts /sys, which would hide the bpffs pins from the CLI calls.

VPN_BPFFS=/run/xbt-vpn-bpf
VPN_PIN=$VPN_BPFFS/xfrmbpf
VPN_NS=			# namespace the daemon runs in
VPN_DAEMON=		# its PID (ours: started by this shell)
VPN_DAEMON_RC=
VPN_LOG=
VPN_WORK=

# vpn_init: a work directory and a private bpffs for the pins.
vpn_init() {
	VPN_WORK=$(mktemp -d /tmp/xbt-vpn.XXXXXX) || return 1
	mkdir -p "$VPN_BPFFS" || return 1
	mountpoint -q "$VPN_BPFFS" || mount -t bpf xbt-vpn "$VPN_BPFFS" || return 1
	mkdir -p "$VPN_PIN"
}

# vpn_fini: stop the daemon, drop the pins, the bpffs and the work dir.
vpn_fini() {
	[ -n "$VPN_DAEMON" ] && vpn_daemon_stop
	[ -n "$UDP_SINK" ] && kill "$UDP_SINK" 2>/dev/null
	rm -rf "$VPN_PIN"
	umount "$VPN_BPFFS" 2>/dev/null
	rmdir "$VPN_BPFFS" 2>/dev/null
	[ -n "$VPN_WORK" ] && rm -rf "$VPN_WORK"
	VPN_WORK=
}

# in_ns NS CMD...: CMD in NS's network namespace, the rest of the
# system (mounts, /sys) as it is.
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# xbn ARGS...: the CLI in the daemon's namespace with our pins.
xbn() { in_ns "$VPN_NS" "$XFRMBPF" --pin-dir "$VPN_PIN" "$@"; }

vpn_synced() { xbn status -j | jq -e '.synced == true' >/dev/null; }

# vpn_daemon_start NS ARGS...: `xfrmbpf run ARGS` in NS until synced.
# Returns 1 (log in $VPN_LOG) when it does not sync within 30 s.
vpn_daemon_start() {
	VPN_NS=$1
	shift
	VPN_LOG=$VPN_WORK/daemon.$(date +%s%N).log
	# $! must be the daemon: nsenter execs it.
	nsenter --net="/run/netns/$VPN_NS" "$XFRMBPF" --pin-dir "$VPN_PIN" run "$@" \
		>"$VPN_LOG" 2>&1 &
	VPN_DAEMON=$!
	wait_for 30 vpn_synced && return 0
	kill -0 "$VPN_DAEMON" 2>/dev/null || { wait "$VPN_DAEMON"; VPN_DAEMON=; }
	return 1
}

# vpn_daemon_stop: SIGTERM (SIGKILL after 10 s); exit status in
# VPN_DAEMON_RC. In this shell: only the parent can wait for the daemon.
vpn_daemon_stop() {
	local watchdog

	kill -TERM "$VPN_DAEMON" 2>/dev/null
	(sleep 10 && kill -KILL "$VPN_DAEMON" 2>/dev/null) &
	watchdog=$!
	wait "$VPN_DAEMON" 2>/dev/null
	VPN_DAEMON_RC=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	VPN_DAEMON=
}

# vpn_log_tail: the daemon's last log lines as TAP comments.
vpn_log_tail() {
	[ -n "$VPN_LOG" ] && [ -f "$VPN_LOG" ] && tail -"${1:-15}" "$VPN_LOG" | sed 's/^/#   log: /'
}

# reason_count NAME: packets counted under one datapath reason.
reason_count() {
	xbn stats -j | jq -r --arg r "$1" '.reasons[$r].packets // 0'
}

# policy_packets DIR IF_ID SRC DST: the datapath's packet count of the
# mirrored policy with this direction, if_id and selector.
policy_packets() {
	xbn policy -j | jq -r --arg d "$1" --argjson i "$2" --arg s "$3" --arg t "$4" \
		'[.[] | select(.dir == $d and .if_id == $i and .src == $s and .dst == $t)
		  | .packets // 0] | add // "none"'
}

# ping_count NS DST COUNT [WAIT]: echo replies received.
ping_count() {
	local got

	got=$(ip netns exec "$1" ping -n -q -c "$3" -i 0.2 -W "${4:-2}" "$2" 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')
	echo "${got:-0}"
}

# udp_sink_start NS ADDR PORT FILE: a receiver in NS that writes the
# number of datagrams it got to FILE when it gets SIGTERM (or after 60 s),
# and to FILE.now after each one (replaced whole: never read half-written);
# FILE.ready exists once it listens. Its PID in UDP_SINK (call it directly,
# not in $(...): only this shell can wait for it).
UDP_SINK=
udp_sink_start() {
	ip netns exec "$1" /usr/bin/python3 -c '
import os, signal, socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
n = 0
def done(*_):
    open(sys.argv[3], "w").write("%d\n" % n)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
signal.alarm(60)
signal.signal(signal.SIGALRM, done)
open(sys.argv[3] + ".ready", "w").close()
while True:
    s.recv(2048)
    n += 1
    open(sys.argv[3] + ".tmp", "w").write("%d\n" % n)
    os.replace(sys.argv[3] + ".tmp", sys.argv[3] + ".now")
' "$2" "$3" "$4" >/dev/null 2>&1 &
	UDP_SINK=$!
	wait_for 10 test -e "$4.ready"
}

# udp_sink_now FILE: what the sink of FILE has counted so far.
udp_sink_now() {
	local n
	n=$(cat "$1.now" 2>/dev/null)
	echo "${n:-0}"
}

# udp_send NS DST PORT COUNT: COUNT datagrams, 20 ms apart (bash /dev/udp).
udp_send() {
	ip netns exec "$1" bash -c '
for i in $(seq "$3"); do
	echo "xbt datagram $i" >"/dev/udp/$1/$2" 2>/dev/null
	sleep 0.02
done' _ "$2" "$3" "$4"
}

# udp_sink_stop FILE: stop the sink; what it counted in UDP_GOT.
udp_sink_stop() {
	kill -TERM "$UDP_SINK" 2>/dev/null
	wait "$UDP_SINK" 2>/dev/null
	UDP_SINK=
	UDP_GOT=$(cat "$1" 2>/dev/null)
}

# ---- route-based topology (route_vpn, collect_md) ----
# gwa (LAN lana behind xbt-lan) and gwb (LANs lanb, lanc) over the WAN veth
# xbt-wan; tunnel if_id 10 to lanb, if_id 20 to lanc, IPv4-in-IPv4 and
# IPv6-in-IPv6 ESP in each. gwb always has one xfrm interface per if_id;
# gwa too, or with RV_MD=1 one collect_md device xbt-xmd for both.
RV_MD=${RV_MD:-0}
P=${RV_PREFIX:-xbt-rv-}
GWA=${P}gwa GWB=${P}gwb LANA=${P}lana LANB=${P}lanb LANC=${P}lanc
NSES="$GWA $GWB $LANA $LANB $LANC"
COUNT=5
UDP_COUNT=20
# Fixed test keys: never used outside this lab.
ENC=0x5a1e2d3c4b5a69788796a5b4c3d2e1f0
AUTH=0x10112233445566778899aabbccddeeff0123456789abcdef0011223344556677
AEAD=0xb0b1c2d3e4f5061728394a5b6c7d8e9fa1b2c3d4
ESP4="auth-trunc hmac(sha256) $AUTH 128 enc cbc(aes) $ENC"
ESP6="aead rfc4106(gcm(aes)) $AEAD 128"

# Per tunnel (if_id): remote LAN prefixes and the far host in it.
declare -A NET4=([10]=203.0.113.0/26 [20]=203.0.113.64/26)
declare -A NET6=([10]=2001:db8:b::/64 [20]=2001:db8:c::/64)
declare -A HOST4=([10]=203.0.113.10 [20]=203.0.113.74)
declare -A HOST6=([10]=2001:db8:b::10 [20]=2001:db8:c::10)
declare -A HOSTNS=([10]=$LANB [20]=$LANC)
LAN4=198.51.100.0/26
LAN6=2001:db8:a::/64
WA4=192.0.2.1 WB4=192.0.2.2 WA6=2001:db8:f::1 WB6=2001:db8:f::2


# rv_tunnel_batch IFID LOCAL4 PEER4 LOCAL6 PEER6 MYNET4 MYNET6 THEIRNET4
#   THEIRNET6 TXBASE RXBASE: `ip -batch` lines of one gateway's side of one
# tunnel: xfrm interface, SAs (SPI base+1 IPv4, +2 IPv6) and policies.
rv_tunnel_batch() {
	local id=$1 l4=$2 p4=$3 l6=$4 p6=$5 m4=$6 m6=$7 t4=$8 t6=$9 tx=${10} rx=${11}
	local xi=xbt-xi$id r4=$((id + 1)) r6=$((id + 2)) d

	[ "${RV_NODEV:-0}" = 1 ] || cat <<-EOB
	link add $xi type xfrm dev xbt-wan if_id $id
	link set $xi addrgenmode none
	link set $xi up
	EOB
	cat <<-EOB
	xfrm state add src $l4 dst $p4 proto esp spi $((tx + 1)) reqid $r4 mode tunnel if_id $id $ESP4
	xfrm state add src $p4 dst $l4 proto esp spi $((rx + 1)) reqid $r4 mode tunnel if_id $id $ESP4
	xfrm state add src $l6 dst $p6 proto esp spi $((tx + 2)) reqid $r6 mode tunnel if_id $id $ESP6
	xfrm state add src $p6 dst $l6 proto esp spi $((rx + 2)) reqid $r6 mode tunnel if_id $id $ESP6
	xfrm policy add src $m4 dst $t4 dir out if_id $id tmpl src $l4 dst $p4 proto esp reqid $r4 mode tunnel
	xfrm policy add src $m6 dst $t6 dir out if_id $id tmpl src $l6 dst $p6 proto esp reqid $r6 mode tunnel
	EOB
	for d in in fwd; do
		cat <<-EOB
		xfrm policy add src $t4 dst $m4 dir $d if_id $id tmpl src $p4 dst $l4 proto esp reqid $r4 mode tunnel
		xfrm policy add src $t6 dst $m6 dir $d if_id $id tmpl src $p6 dst $l6 proto esp reqid $r6 mode tunnel
		EOB
	done
}

# rv_host NS ADDR4/LEN GW4 ADDR6/LEN GW6: a LAN host on its xbt-h0.
rv_host() {
	ip -n "$1" -batch - <<-EOB
	link set lo up
	addr add $2 dev xbt-h0
	addr add $4 dev xbt-h0 nodad
	link set xbt-h0 up
	route add default via $3
	route add default via $5
	EOB
}

rv_forwarding() {
	ip netns exec "$1" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward &&
		echo 1 >/proc/sys/net/ipv6/conf/all/forwarding'
}

# rv_dev ID: gwa's device that carries tunnel ID.
rv_dev() { if [ "$RV_MD" = 1 ]; then echo xbt-xmd; else echo "xbt-xi$1"; fi; }

rv_cleanup() {
	local ns

	vpn_fini
	for ns in $NSES; do
		ip netns del "$ns" 2>/dev/null
	done
}

rv_setup() {
	local ns id

	modprobe -a esp4 esp6 xfrm_interface veth xfrm_user || return 1
	for ns in $NSES; do
		ip netns add "$ns" || return 1
	done
	rv_forwarding "$GWA" && rv_forwarding "$GWB" || return 1
	ip link add xbt-wan netns "$GWA" type veth peer name xbt-wan netns "$GWB" &&
	ip link add xbt-lan netns "$GWA" type veth peer name xbt-h0 netns "$LANA" &&
	ip link add xbt-lanb netns "$GWB" type veth peer name xbt-h0 netns "$LANB" &&
	ip link add xbt-lanc netns "$GWB" type veth peer name xbt-h0 netns "$LANC" || return 1

	{
		cat <<-EOB
		link set lo up
		addr add $WA4/24 dev xbt-wan
		addr add $WA6/64 dev xbt-wan nodad
		link set xbt-wan up
		addr add 198.51.100.1/26 dev xbt-lan
		addr add 2001:db8:a::1/64 dev xbt-lan nodad
		link set xbt-lan up
		route add default via 192.0.2.254
		route add default via 2001:db8:f::fe
		EOB
		[ "$RV_MD" = 1 ] && echo "link add xbt-xmd type xfrm external" &&
			echo "link set xbt-xmd addrgenmode none" && echo "link set xbt-xmd up"
		for id in 10 20; do
			RV_NODEV=$RV_MD rv_tunnel_batch "$id" $WA4 $WB4 $WA6 $WB6 $LAN4 $LAN6 \
				"${NET4[$id]}" "${NET6[$id]}" $((0xa000 + id * 16)) $((0xb000 + id * 16))
		done
	} | ip -n "$GWA" -batch - || return 1

	# gwb answers each remote LAN through its own tunnel: source routing.
	{
		cat <<-EOB
		link set lo up
		addr add $WB4/24 dev xbt-wan
		addr add $WB6/64 dev xbt-wan nodad
		link set xbt-wan up
		addr add 203.0.113.1/26 dev xbt-lanb
		addr add 2001:db8:b::1/64 dev xbt-lanb nodad
		link set xbt-lanb up
		addr add 203.0.113.65/26 dev xbt-lanc
		addr add 2001:db8:c::1/64 dev xbt-lanc nodad
		link set xbt-lanc up
		EOB
		for id in 10 20; do
			rv_tunnel_batch "$id" $WB4 $WA4 $WB6 $WA6 "${NET4[$id]}" "${NET6[$id]}" \
				$LAN4 $LAN6 $((0xb000 + id * 16)) $((0xa000 + id * 16))
			cat <<-EOB
			rule add from ${NET4[$id]} table $id pref $id
			route add $LAN4 dev xbt-xi$id table $id
			route add $LAN6 dev xbt-xi$id table $id
			EOB
		done
	} | ip -n "$GWB" -batch - || return 1
	for id in 10 20; do
		ip -n "$GWB" -6 rule add from "${NET6[$id]}" table "$id" pref "$id" || return 1
	done

	rv_host "$LANA" 198.51.100.10/26 198.51.100.1 2001:db8:a::10/64 2001:db8:a::1 &&
	rv_host "$LANB" 203.0.113.10/26 203.0.113.1 2001:db8:b::10/64 2001:db8:b::1 &&
	rv_host "$LANC" 203.0.113.74/26 203.0.113.65 2001:db8:c::10/64 2001:db8:c::1
}

# rv_kernel_routes add|del: gwa's routes of the remote LANs into the tunnels.
rv_kernel_routes() {
	local id

	for id in 10 20; do
		if [ "$RV_MD" = 1 ]; then
			# "dev" before "encap": iproute2 6.1 fails (ENODEV) the other way round
			echo "route $1 ${NET4[$id]} dev xbt-xmd encap xfrm if_id $id"
			echo "route $1 ${NET6[$id]} dev xbt-xmd encap xfrm if_id $id"
		else
			echo "route $1 ${NET4[$id]} dev xbt-xi$id"
			echo "route $1 ${NET6[$id]} dev xbt-xi$id"
		fi
	done | ip -n "$GWA" -batch -
}

# Counters of one flow (tunnel ID, family 4|6), as "xi_tx sa_out sa_in".
rv_flow_counters() {
	local id=$1 f=$2 k=$(($2 == 4 ? 1 : 2))
	local tx=$((0xa000 + $1 * 16 + k)) rx=$((0xb000 + $1 * 16 + k))
	local l=$WA4 p=$WB4

	[ "$f" = 6 ] && l=$WA6 p=$WB6
	echo "$(link_stat "$GWA" "$(rv_dev "$id")" tx packets)" \
		"$(xfrm_sa_packets "$GWA" "$l" "$p" "$tx")" \
		"$(xfrm_sa_packets "$GWA" "$p" "$l" "$rx")"
}

rv_dst_of() { if [ "$2" = 4 ]; then echo "${HOST4[$1]}"; else echo "${HOST6[$1]}"; fi; }
rv_name_of() { echo "lana -> ${HOSTNS[$1]#"$P"} IPv$2 (if_id $1)"; }

# rv_expect_all_fail PHASE: no flow gets a single reply.
rv_expect_all_fail() {
	local id f got

	for id in 10 20; do
		for f in 4 6; do
			got=$(ping_count "$LANA" "$(rv_dst_of $id $f)" 3 1)
			expect_eq "$1: $(rv_name_of $id $f) gets no reply" 0 "$got"
		done
	done
}

# rv_expect_flow PHASE ID F: COUNT replies, and exactly those packets in this
# tunnel's xfrm interface and SAs; none in the other tunnel's interface.
rv_expect_flow() {
	local phase=$1 id=$2 f=$3 other=$((30 - $2)) b a ob oa got

	read -r -a b <<<"$(rv_flow_counters "$id" "$f")"
	ob=$(link_stat "$GWA" "$(rv_dev "$other")" tx packets)
	got=$(ping_count "$LANA" "$(rv_dst_of "$id" "$f")" $COUNT 3)
	read -r -a a <<<"$(rv_flow_counters "$id" "$f")"
	oa=$(link_stat "$GWA" "$(rv_dev "$other")" tx packets)
	expect_eq "$phase: $(rv_name_of "$id" "$f"): replies" $COUNT "$got"
	expect_eq "$phase: $(rv_dev "$id") tx packets +" $COUNT $((a[0] - b[0]))
	expect_eq "$phase: outbound SA packets +" $COUNT $((a[1] - b[1]))
	expect_eq "$phase: inbound SA packets + (replies)" $COUNT $((a[2] - b[2]))
	[ "$RV_MD" = 1 ] ||
		expect_eq "$phase: the other tunnel (xbt-xi$other) tx packets +" 0 $((oa - ob))
}

rv_print_counters() {
	local id f c

	echo "# counters ($1):"
	for id in 10 20; do
		[ "$RV_MD" = 1 ] && [ "$id" = 20 ] && break
		echo "#   gwa $(rv_dev $id): tx $(link_stat "$GWA" "$(rv_dev $id)" tx packets)" \
			"rx $(link_stat "$GWA" "$(rv_dev $id)" rx packets)" \
			"tx_errors $(link_stat "$GWA" "$(rv_dev $id)" tx errors)"
	done
	for id in 10 20; do
		for f in 4 6; do
			read -r -a c <<<"$(rv_flow_counters "$id" "$f")"
			echo "#   gwa tunnel if_id $id IPv$f SAs: out ${c[1]} packets, in ${c[2]} packets"
		done
	done
	if [ -n "$VPN_DAEMON" ]; then
		xbn stats -j | jq -r '"#   reasons: " + ([.reasons | to_entries[] |
			select(.value.packets > 0) | "\(.key)=\(.value.packets)"] | join(" ")),
			(.interfaces[] | "#   iface \(.name): rx \(.rx_packets) passed \(.passed) dropped \(.dropped) steered \(.steered)")'
		xbn policy -j | jq -r '.[] | select(.dir == "out") |
			"#   policy out if_id \(.if_id) \(.src) > \(.dst): \(.packets // 0) packets \(.bytes // 0) bytes"'
	fi
}
