#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A collect_md xfrm interface (`ip link add ... type xfrm external`) with
# xfrmbpf --steer: the route_vpn topology (tunnels if_id 10 and 20 to two
# remote LANs), but gateway A has no per-if_id interface, only xbt-xmd.
# The kernel path first (`encap xfrm if_id N` routes through xbt-xmd carry
# both tunnels). Then xfrmbpf --steer: a collect_md device is no steering
# target (it transmits only a routed packet, bpf/steer.bpf.h), so every
# flow goes to the kernel, counted as steer_skip_no_dev, and meets the
# fate it has without xfrmbpf: lost without the encap routes, delivered
# with them; none is redirected, none is a tx error of xbt-xmd.
set -u
RV_MD=1
RV_PREFIX=xbt-md-
. "$(dirname "$0")/_lib.sh"
. "$(dirname "$0")/_vpn.sh"
vm_enter "$0" "$@"
require_root "collect_md"
vm_banner "collect_md"
trap rv_cleanup EXIT

xmd_tx_errors() { link_stat "$GWA" xbt-xmd tx errors; }

main() {
	local out id f n

	if ! out=$(rv_setup 2>&1); then
		tap_fail_log "collect_md: gateways, LANs, external xfrm device, tunnels 10 and 20" "$out"
		return 1
	fi
	vpn_init || { tap_fail "collect_md: private bpffs"; return 1; }
	check "xbt-xmd is a collect_md (external) xfrm device" \
		bash -c "ip -n $GWA -d link show xbt-xmd | grep -qw external"
	tap_ok "collect_md: gwa has only xbt-xmd for tunnels if_id 10 and 20"

	# The kernel path: one device, the if_id from the route's encap.
	rv_kernel_routes add || { tap_fail "encap xfrm if_id routes via xbt-xmd"; return 1; }
	for id in 10 20; do
		for f in 4 6; do
			rv_expect_flow "encap xfrm routes" "$id" "$f"
		done
	done
	rv_kernel_routes del || { tap_fail "delete the encap xfrm routes"; return 1; }
	rv_expect_all_fail "no route, no xfrmbpf"

	if ! vpn_daemon_start "$GWA" -i xbt-lan --steer; then
		tap_fail_log "xfrmbpf run -i xbt-lan --steer syncs in gwa" "$(vpn_log_tail)"
		return 1
	fi
	n=$(xbn status -j | jq .xfrm_links)
	tap_ok "xfrmbpf --steer synced, mirrored xfrm links: $n"

	# no route: lost as without xfrmbpf, and not by a redirect
	n=$(reason_count steer_skip_no_dev)
	e=$(xmd_tx_errors)
	rv_expect_all_fail "--steer, no route: the kernel's fate"
	expect_eq "--steer: no packet steered into the collect_md device" 0 \
		"$(reason_count steered)"
	expect_eq "--steer: xbt-xmd counted no tx error" "$e" "$(xmd_tx_errors)"
	check "--steer: the flows went to the kernel (steer_skip_no_dev grew)" \
		test "$(reason_count steer_skip_no_dev)" -gt "$n"

	# the encap routes again: delivered by the kernel, xfrmbpf attached
	rv_kernel_routes add || { tap_fail "encap xfrm routes again"; return 1; }
	for id in 10 20; do
		for f in 4 6; do
			rv_expect_flow "--steer beside encap xfrm routes" "$id" "$f"
		done
	done
	expect_eq "--steer beside the routes: still nothing steered" 0 \
		"$(reason_count steered)"
	expect_eq "--steer beside the routes: xbt-xmd counted no tx error" "$e" \
		"$(xmd_tx_errors)"
	rv_print_counters "with --steer"
	vpn_daemon_stop
	expect_eq "daemon exits 0 on SIGTERM" 0 "$VPN_DAEMON_RC"
}

main
tap_done
