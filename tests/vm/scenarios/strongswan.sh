#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Debian's strongSwan, unmodified, in front of xfrmbpf. Two gateways (two
# network namespaces, one charon each, configs in tests/vm/strongswan/)
# bring up one IKEv2 SA (PSK) with two CHILD_SAs: "net", route-based over
# the xfrm interface if_id 42 (if_id_in/if_id_out), and "host", transport
# mode between the gateways, so ESP is required for everything between
# them, IKE included, but for charon's socket bypass policies.
# xfrmbpf runs on gateway B with XDP on its WAN NIC and must:
#   - mirror what charon installed (`check` exits 0, `sa -j` has charon's
#     SPIs, with if_id 42 on the "net" ones);
#   - never drop IKE (UDP 500): the reason counters show pass_bypass and no
#     policy_requires_ipsec while later IKE exchanges run under "host";
#   - follow a forced rekey (`swanctl --rekey --child net`): the new SPIs
#     mirrored, the old ones gone, and no packet of a continuous ping
#     dropped by xfrmbpf (losses are compared with a rekey without it).
# charon's pid file and vici socket are fixed paths under /var/run: each
# charon gets a private /run in the mount namespace `ip netns exec` makes,
# and swanctl joins that namespace (nsenter -m -n) to reach it.
set -u
. "$(dirname "$0")/_lib.sh"
. "$(dirname "$0")/_vpn.sh"

SS_PKGS="strongswan-charon strongswan-swanctl"
CHARON=/usr/lib/ipsec/charon

# On the host, before the VM: the packages the guest runs from the shared
# root (only the daemon and swanctl: the stock plugins cover PSK).
if [ "${XB_VM_GUEST:-0}" != 1 ] && { [ ! -x "$CHARON" ] || ! command -v swanctl >/dev/null; }; then
	[ "$(id -u)" -eq 0 ] || { tap_skip "strongswan" "needs root to install $SS_PKGS"; exit 0; }
	echo "# installing $SS_PKGS on the host"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $SS_PKGS >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $SS_PKGS >/dev/null; } ||
		{ tap_fail "install $SS_PKGS on the host"; exit 1; }
fi
vm_enter "$0" "$@"
require_root "strongswan"
vm_banner "strongswan"

CONF_DIR=$TOP/tests/vm/strongswan
export STRONGSWAN_CONF=$CONF_DIR/strongswan.conf
NA=xbt-ss-a
NB=xbt-ss-b
declare -A CHARON_PID=()
PING_COUNT=60

cleanup() {
	local ns

	for ns in "${!CHARON_PID[@]}"; do
		kill -TERM "${CHARON_PID[$ns]}" 2>/dev/null
		wait "${CHARON_PID[$ns]}" 2>/dev/null
	done
	vpn_fini
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
}
trap cleanup EXIT

# gateway NS WAN4 INNER4 PEER_INNER4: WAN address, xfrm interface (if_id
# 42) with the inner address, route to the peer's inner address.
gateway() {
	ip -n "$1" -batch - <<-EOB
	link set lo up
	addr add $2/24 dev xbt-wan
	link set xbt-wan up
	link add xbt-xi type xfrm dev xbt-wan if_id 42
	link set xbt-xi addrgenmode none
	addr add $3/32 dev xbt-xi
	link set xbt-xi up
	route add $4/32 dev xbt-xi src $3
	EOB
}

setup() {
	modprobe -a esp4 xfrm_interface veth xfrm_user || return 1
	ip netns add "$NA" && ip netns add "$NB" || return 1
	ip link add xbt-wan netns "$NA" type veth peer name xbt-wan netns "$NB" || return 1
	gateway "$NA" 192.0.2.1 198.51.100.1 203.0.113.1 &&
	gateway "$NB" 192.0.2.2 203.0.113.1 198.51.100.1
}

# swan NS ARGS...: swanctl against NS's charon (its mount namespace has the
# vici socket).
swan() {
	local ns=$1
	shift
	nsenter -t "${CHARON_PID[$ns]}" -m -n swanctl "$@"
}

# charon_start NS: charon with a private /run; waits for its vici socket.
charon_start() {
	local ns=$1

	ip netns exec "$ns" sh -c "mount -t tmpfs xbt-ss-run /run && exec $CHARON" \
		>"$VPN_WORK/charon.$ns.log" 2>&1 &
	CHARON_PID[$ns]=$!
	wait_for 30 swan "$ns" --stats
}

# child_spis NS CHILD: "in out" SPIs (hex, as swanctl prints them) of the
# installed CHILD_SAs with this name, one pair per line.
child_spis() {
	swan "$1" --list-sas --noblock 2>/dev/null | awk -v c="$2:" '
		$1 == c { inchild = ($5 == "INSTALLED,"); next }
		inchild && $1 == "in" { i = $2; sub(/,$/, "", i) }
		inchild && $1 == "out" { o = $2; sub(/,$/, "", o); print i, o; inchild = 0 }'
}

# kernel_spis NS: SPIs (decimal) of every ESP SA in NS's kernel, sorted.
kernel_spis() {
	local h

	for h in $(ip -n "$1" xfrm state | sed -n 's/^[[:space:]]*proto esp spi \(0x[0-9a-f]*\).*/\1/p'); do
		echo $((h))
	done | sort -n
}

spis_match() { [ "$(kernel_spis "$NB")" = "$(mirror_spis)" ]; }
old_spi_gone() { ! ip -n "$NB" xfrm state | grep -qi "spi 0x$OLD_IN "; }

mirror_spis() { xbn sa -j | jq -r '.[].spi' | sort -n; }
mirror_has() { xbn sa -j | jq -e --argjson s "$1" 'any(.[]; .spi == $s)' >/dev/null; }
mirror_lacks() { ! mirror_has "$1"; }
mirror_if_id() { xbn sa -j | jq -r --argjson s "$1" '.[] | select(.spi == $s) | .if_id'; }
hex2dec() { echo $((16#$1)); }

drops() {
	xbn stats -j | jq -r '[.reasons | to_entries[] | select(.key | test(
		"unknown_spi|policy_block|policy_requires_ipsec|default_block")) | .value.packets] | add'
}

print_counters() {
	echo "# counters ($1):"
	xbn stats -j | jq -r '"#   reasons: " + ([.reasons | to_entries[] |
		select(.value.packets > 0) | "\(.key)=\(.value.packets)"] | join(" ")),
		(.interfaces[] | "#   iface \(.name): rx \(.rx_packets) passed \(.passed) dropped \(.dropped)")'
	echo "#   charon B: $(child_spis "$NB" net | tr '\n' ' ')(net in/out)," \
		"$(child_spis "$NB" host | tr '\n' ' ')(host in/out)"
	echo "#   kernel B SPIs: $(kernel_spis "$NB" | tr '\n' ' ')"
}

# rekey_under_ping LABEL: a continuous ping over "net" while A forces a
# rekey of "net"; waits until B runs on new SPIs and the old ones are gone
# from B's kernel. Sets OLD_IN OLD_OUT NEW_IN NEW_OUT (hex) and LOST.
rekey_under_ping() {
	local out pid got

	read -r OLD_IN OLD_OUT < <(child_spis "$NB" net)
	ip netns exec "$NA" ping -n -q -c $PING_COUNT -i 0.05 -W 2 203.0.113.1 \
		>"$VPN_WORK/ping.$1" 2>&1 &
	pid=$!
	sleep 1
	if ! out=$(swan "$NA" --rekey --child net 2>&1); then
		tap_fail_log "$1: swanctl --rekey --child net" "$out"
	fi
	wait_for 30 old_spi_gone
	wait "$pid"
	read -r NEW_IN NEW_OUT < <(child_spis "$NB" net)
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$VPN_WORK/ping.$1")
	LOST=$((PING_COUNT - ${got:-0}))
}

main() {
	local out b_bypass b_req spi n

	if [ ! -x "$XFRMBPF" ]; then
		tap_skip "strongswan" "$XFRMBPF is not built (make)"
		return 0
	fi
	if [ ! -x "$CHARON" ]; then
		tap_skip "strongswan" "$CHARON missing ($SS_PKGS)"
		return 0
	fi
	if ! out=$(setup 2>&1); then
		tap_fail_log "strongswan: gateways, veth, xfrm interfaces" "$out"
		return 1
	fi
	vpn_init || { tap_fail "strongswan: private bpffs"; return 1; }

	# xfrmbpf first: every IKE packet B receives crosses its XDP program.
	if vpn_daemon_start "$NB" -i xbt-wan; then
		tap_ok "xfrmbpf run -i xbt-wan in gateway B: synced before IKE starts"
	else
		tap_fail_log "xfrmbpf run -i xbt-wan in gateway B syncs" "$(vpn_log_tail 5)"
		# The mirror alone still answers for the SPD/SAD half.
		vpn_daemon_start "$NB" || { tap_fail "xfrmbpf run (mirror only) syncs"; return 1; }
		echo "# continuing with the mirror only (no XDP)"
	fi

	for ns in "$NA" "$NB"; do
		if ! charon_start "$ns"; then
			tap_fail_log "charon starts in $ns" "$(tail -20 "$VPN_WORK/charon.$ns.log")"
			return 1
		fi
	done
	tap_ok "charon $(dpkg-query -W -f '${Version}' strongswan-charon 2>/dev/null) up in both namespaces, private vici sockets"
	for ns in "$NA" "$NB"; do
		side=${ns##*-}
		check "swanctl --load-all --file swanctl-$side.conf in $ns" \
			swan "$ns" --load-all --file "$CONF_DIR/swanctl-$side.conf"
	done
	check "A initiates CHILD_SA net (IKEv2 PSK, if_id 42)" swan "$NA" --initiate --child net --timeout 60
	check "A initiates CHILD_SA host (transport, ESP required between the gateways)" \
		swan "$NA" --initiate --child host --timeout 60

	n=$(ping_count "$NA" 203.0.113.1 5 3)
	expect_eq "ping through the route-based tunnel (xbt-xi, if_id 42)" 5 "$n"
	n=$(ping_count "$NA" 192.0.2.2 5 3)
	expect_eq "ping between the gateways (ESP transport)" 5 "$n"

	# The mirror holds exactly what charon installed.
	wait_for 10 spis_match
	expect_eq "sa -j lists the SPIs of B's kernel ($(kernel_spis "$NB" | wc -l) SAs)" \
		"$(kernel_spis "$NB" | tr '\n' ' ')" "$(mirror_spis | tr '\n' ' ')"
	read -r spi _ < <(child_spis "$NB" net)
	if [ -n "${spi:-}" ] && mirror_has "$(hex2dec "$spi")"; then
		tap_ok "sa -j has charon's inbound SPI of net (0x$spi)"
		expect_eq "sa -j: SA 0x$spi has if_id 42" 42 "$(mirror_if_id "$(hex2dec "$spi")")"
	else
		tap_fail "sa -j has charon's inbound SPI of net" "swanctl says '${spi:-none}'"
	fi
	n=$(xbn policy -j | jq '[.[] | select(.if_id == 42)] | length')
	expect_eq "policy -j: net's policies with if_id 42 (in, out, fwd)" 3 "$n"
	check "xfrmbpf check: mirror equals the kernel after charon's installs" xbn check

	print_counters "established"
	b_bypass=$(reason_count pass_bypass)
	b_req=$(reason_count policy_requires_ipsec)
	rekey_under_ping "rekey with xfrmbpf"
	if [ -n "${NEW_IN:-}" ] && [ "$NEW_IN" != "$OLD_IN" ]; then
		tap_ok "rekey: net's inbound SPI 0x$OLD_IN -> 0x$NEW_IN"
	else
		tap_fail "rekey: net has a new inbound SPI" "old ${OLD_IN:-none}, now ${NEW_IN:-none}"
	fi
	if wait_for 10 mirror_has "$(hex2dec "${NEW_IN:-0}")"; then
		tap_ok "rekey: sa -j lists the new SPI 0x$NEW_IN"
	else
		tap_fail "rekey: sa -j lists the new SPI 0x${NEW_IN:-}"
	fi
	if wait_for 10 mirror_lacks "$(hex2dec "${OLD_IN:-0}")" &&
		wait_for 5 mirror_lacks "$(hex2dec "${OLD_OUT:-0}")"; then
		tap_ok "rekey: the old SPIs 0x$OLD_IN/0x$OLD_OUT left the mirror"
	else
		tap_fail "rekey: the old SPIs left the mirror" "$(mirror_spis | tr '\n' ' ')"
	fi
	check "xfrmbpf check after the rekey" xbn check
	echo "# rekey with xfrmbpf: $LOST of $PING_COUNT pings lost"
	# Without this the drop counts below would hold vacuously.
	n=$(reason_count pass_known_spi)
	if [ "$n" -gt 0 ]; then
		tap_ok "XDP on B's WAN NIC saw the ESP (pass_known_spi $n)"
	else
		tap_fail "XDP on B's WAN NIC saw the ESP (pass_known_spi)" "0: the datapath was not in the path"
	fi
	expect_eq "rekey with xfrmbpf: packets xfrmbpf dropped (unknown_spi, policy/default drops)" 0 "$(drops)"
	if [ "$(reason_count pass_bypass)" -gt "$b_bypass" ]; then
		tap_ok "IKE under the host policy passed as pass_bypass (+$(($(reason_count pass_bypass) - b_bypass)))"
	else
		tap_fail "IKE under the host policy passed as pass_bypass" "pass_bypass stayed at $b_bypass"
	fi
	expect_eq "IKE never counted as policy_requires_ipsec" "$b_req" "$(reason_count policy_requires_ipsec)"
	print_counters "after the rekey"
	LOST_WITH=$LOST

	vpn_daemon_stop
	expect_eq "xfrmbpf exits 0 on SIGTERM" 0 "$VPN_DAEMON_RC"
	rekey_under_ping "rekey without xfrmbpf"
	echo "# rekey without xfrmbpf: $LOST of $PING_COUNT pings lost"
	if [ "$LOST_WITH" -le "$LOST" ]; then
		tap_ok "rekey loses no more pings with xfrmbpf ($LOST_WITH) than without ($LOST)"
	else
		tap_fail "rekey loses no more pings with xfrmbpf ($LOST_WITH) than without ($LOST)"
	fi
	if [ "$TAP_FAILED" -gt 0 ]; then
		vpn_log_tail 15
		tail -15 "$VPN_WORK/charon.$NB.log" | sed 's/^/#   charon B: /'
	fi
}

main
tap_done
