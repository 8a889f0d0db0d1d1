#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Steering through ONE collect_md xfrm interface (`ip link add ... type xfrm
# external`): the route_vpn topology (tunnels if_id 10 and 20 to two remote
# LANs), but gateway A has no per-if_id interface, only xbt-xmd. The kernel
# path first (`encap xfrm if_id N` routes through xbt-xmd carry both
# tunnels), then the kernel routes go and xfrmbpf --steer must deliver
# through xbt-xmd, the if_id set per packet with bpf_skb_set_xfrm_info().
# That kfunc exists from 6.2 on; without it (Debian 12's 6.1) the steering
# half is a TAP skip, decided by looking for the kfunc in the running
# kernel's BTF (vmlinux and the xfrm_interface module), not by version.
set -u
RV_MD=1
RV_PREFIX=xbt-md-
. "$(dirname "$0")/_lib.sh"
. "$(dirname "$0")/_vpn.sh"
vm_enter "$0" "$@"
require_root "collect_md"
vm_banner "collect_md"
trap rv_cleanup EXIT

# The kfunc is BTF-described where it is defined: vmlinux, or the module
# when xfrm_interface is one (Debian's case).
have_kfunc() {
	local btf=/sys/kernel/btf pat="FUNC 'bpf_skb_set_xfrm_info'"

	bpftool btf dump file $btf/vmlinux 2>/dev/null | grep -q "$pat" && return 0
	[ -r $btf/xfrm_interface ] &&
		bpftool -B $btf/vmlinux btf dump file $btf/xfrm_interface 2>/dev/null | grep -q "$pat"
}

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

	if ! have_kfunc; then
		tap_skip "collect_md steering through xbt-xmd" \
			"kernel $(uname -r) has no bpf_skb_set_xfrm_info kfunc (6.2+) in its BTF"
		return 0
	fi
	if ! vpn_daemon_start "$GWA" -i xbt-lan --steer; then
		tap_fail_log "xfrmbpf run -i xbt-lan --steer syncs in gwa" "$(vpn_log_tail)"
		return 1
	fi
	n=$(xbn status -j | jq .xfrm_links)
	tap_ok "xfrmbpf --steer synced, mirrored xfrm links: $n"
	for id in 10 20; do
		for f in 4 6; do
			n=$(reason_count steered)
			rv_expect_flow "--steer via xbt-xmd" "$id" "$f"
			expect_eq "--steer via xbt-xmd: reason 'steered' +" $COUNT \
				$(($(reason_count steered) - n))
		done
	done
	expect_eq "no steer_skip_no_dev (the kfunc set every if_id)" 0 \
		"$(reason_count steer_skip_no_dev)"
	rv_print_counters "with --steer"
	vpn_daemon_stop
	expect_eq "daemon exits 0 on SIGTERM" 0 "$VPN_DAEMON_RC"
}

main
tap_done
