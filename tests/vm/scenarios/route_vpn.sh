#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Route-based VPN through xfrmbpf's TC steering. Two gateways (gwa, gwb)
# joined by a WAN veth, one LAN behind gwa (lana) and two behind gwb (lanb,
# lanc), each remote LAN reached through its own ESP tunnel: an xfrm
# interface with if_id 10 (lanb) or 20 (lanc), if_id policies out/in/fwd,
# IPv4 inner over IPv4 outer and IPv6 inner over IPv6 outer in each.
#
# Phases, each asserted on the four LAN-to-LAN flows:
#   1. kernel routes into the xfrm interfaces: the tunnels work;
#   2. those routes deleted, gwa's default route points at an upstream
#      router that does not exist: nothing arrives (the kernel has no way);
#   3. xfrmbpf `run -i <gwa LAN NIC>` without --steer: still nothing;
#   4. with --steer: everything arrives, through the xfrm interface the
#      policy's if_id names (its tx counter and the SA counters rise by the
#      flow's packets, the other tunnel's stay put), counted per policy.
# A blackhole route is not used for phase 2: by design the datapath leaves
# blackhole/unreachable destinations to the kernel (bpf/route.bpf.h).
set -u
. "$(dirname "$0")/_lib.sh"
. "$(dirname "$0")/_vpn.sh"
vm_enter "$0" "$@"
require_root "route vpn"
vm_banner "route_vpn"

trap rv_cleanup EXIT

main() {
	local out id f before after n pkts got

	if [ ! -x "$XFRMBPF" ]; then
		tap_skip "route vpn" "$XFRMBPF is not built (make)"
		return 0
	fi
	if ! out=$(rv_setup 2>&1); then
		tap_fail_log "route vpn: gateways, LANs, two if_id tunnels (IPv4+IPv6)" "$out"
		return 1
	fi
	vpn_init || { tap_fail "route vpn: private bpffs"; return 1; }
	tap_ok "route vpn: gwa/gwb, lana/lanb/lanc, tunnels if_id 10 and 20 set up"

	# 1. The tunnels themselves, through the kernel's routes.
	rv_kernel_routes add || { tap_fail "add kernel routes into the tunnels"; return 1; }
	for id in 10 20; do
		for f in 4 6; do
			rv_expect_flow "kernel routes" "$id" "$f"
		done
	done

	# 2. Without them the kernel sends LAN B/C traffic to a dead upstream.
	rv_kernel_routes del || { tap_fail "delete kernel routes into the tunnels"; return 1; }
	rv_expect_all_fail "no route, no xfrmbpf"

	# 3. The datapath attached, steering off.
	if ! vpn_daemon_start "$GWA" -i xbt-lan; then
		tap_fail_log "xfrmbpf run -i xbt-lan (no --steer) syncs in gwa" "$(vpn_log_tail)"
		return 1
	fi
	tap_ok "xfrmbpf run -i xbt-lan (no --steer): synced, $(xbn status -j | jq -c '{policies, sas, xfrm_links}')"
	rv_expect_all_fail "xfrmbpf without --steer"
	expect_eq "without --steer: steered packets" 0 "$(reason_count steered)"
	rv_print_counters "without --steer"
	vpn_daemon_stop
	expect_eq "daemon (no --steer) exits 0 on SIGTERM" 0 "$VPN_DAEMON_RC"

	# 4. Steering on: the only way left to the remote LANs.
	if ! vpn_daemon_start "$GWA" -i xbt-lan --steer; then
		tap_fail_log "xfrmbpf run -i xbt-lan --steer syncs in gwa" "$(vpn_log_tail)"
		return 1
	fi
	tap_ok "xfrmbpf run -i xbt-lan --steer: synced, $(xbn status -j | jq -c '{policies, sas, xfrm_links}')"
	check "xfrmbpf check: mirror equals gwa's kernel" xbn check
	for id in 10 20; do
		for f in 4 6; do
			before=$(policy_packets out "$id" "$LAN4" "${NET4[$id]}")
			[ "$f" = 6 ] && before=$(policy_packets out "$id" "$LAN6" "${NET6[$id]}")
			pkts=$(reason_count steered)
			rv_expect_flow "--steer" "$id" "$f"
			after=$(policy_packets out "$id" "$LAN4" "${NET4[$id]}")
			[ "$f" = 6 ] && after=$(policy_packets out "$id" "$LAN6" "${NET6[$id]}")
			if [ "$before" = none ] || [ "$after" = none ]; then
				tap_fail "--steer: policy -j lists the out policy of $(rv_name_of "$id" "$f")"
			else
				expect_eq "--steer: policy -j packets of the out policy +" $COUNT $((after - before))
			fi
			expect_eq "--steer: reason 'steered' +" $COUNT $(($(reason_count steered) - pkts))
		done
	done

	# UDP: every datagram arrives, IPv4 into lanb, IPv6 into lanc.
	for id in 10 20; do
		f=4
		[ "$id" = 20 ] && f=6
		udp_sink_start "${HOSTNS[$id]}" "$(rv_dst_of "$id" "$f")" 5001 "$VPN_WORK/udp.$id"
		udp_send "$LANA" "$(rv_dst_of "$id" "$f")" 5001 $UDP_COUNT
		sleep 0.5
		udp_sink_stop "$VPN_WORK/udp.$id"
		expect_eq "--steer: UDP datagrams received at ${HOSTNS[$id]#"$P"} over IPv$f" $UDP_COUNT "$UDP_GOT"
	done
	rv_print_counters "with --steer"
	xbn stats -j | jq -e '.interfaces[] | select(.name == "xbt-lan") | .steered > 0' >/dev/null &&
		tap_ok "stats -j: xbt-lan counts steered packets" ||
		tap_fail "stats -j: xbt-lan counts steered packets"

	vpn_daemon_stop
	expect_eq "daemon (--steer) exits 0 on SIGTERM" 0 "$VPN_DAEMON_RC"
	# Detached: the kernel alone again, and it has no way.
	got=$(ping_count "$LANA" "${HOST4[10]}" 2 1)
	expect_eq "after detach: lana -> lanb IPv4 gets no reply" 0 "$got"
	if [ "$TAP_FAILED" -gt 0 ]; then
		echo "# daemon log (last 15 lines):"
		vpn_log_tail 15
	fi
}

main
tap_done
