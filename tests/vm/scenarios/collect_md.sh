#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A collect_md xfrm interface (`ip link add ... type xfrm external`) with
# xfrmbpf --steer: the route_vpn topology (tunnels if_id 10 and 20 to two
# remote LANs), but gateway A has no per-if_id interface, only xbt-xmd.
# The kernel path first (`encap xfrm if_id N` routes through xbt-xmd carry
# both tunnels), then xfrmbpf --steer without those routes.
# Where the kernel has bpf_skb_set_xfrm_info (6.2+; Debian's 6.12, in the
# xfrm_interface module's BTF): IPv4 flows are steered into xbt-xmd
# (bpf_redirect_neigh from tc ingress, the if_id set by our program on
# xbt-xmd's tc egress) and delivered through their tunnel, ESP out on the
# WAN and the replies back, without a tx error of xbt-xmd; IPv6 flows go
# to the kernel (steer_skip_no_dev), lost as without xfrmbpf; a re-created
# xbt-xmd is followed. Without the kfunc (6.1) every flow goes to the
# kernel and none is steered. With the encap routes again, every flow is
# delivered by the kernel (a route with an encap is the kernel's to take).
# SIGTERM removes the egress filter and the clsact qdisc the daemon
# created; after a kill -9, `unload --all` removes the filter.
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

# The kfunc is BTF-described where it is defined: vmlinux, or the module
# when xfrm_interface is one (Debian's case). Decided on the running
# kernel, not by version.
have_kfunc() {
	local btf=/sys/kernel/btf pat="FUNC 'bpf_skb_set_xfrm_info'"

	bpftool btf dump file $btf/vmlinux 2>/dev/null | grep -q "$pat" && return 0
	[ -r $btf/xfrm_interface ] &&
		bpftool -B $btf/vmlinux btf dump file $btf/xfrm_interface 2>/dev/null | grep -q "$pat"
}

# Our program on xbt-xmd's clsact egress.
md_egress_attached() {
	ip netns exec "$GWA" tc filter show dev xbt-xmd egress 2>/dev/null |
		grep -q xb_tc_md_egress
}

# md_phase_no_route STEERS: the flows without the encap routes. STEERS=1:
# IPv4 through xbt-xmd, IPv6 to the kernel; 0: all to the kernel.
md_phase_no_route() {
	local steers=$1 id s n e

	s=$(reason_count steered)
	n=$(reason_count steer_skip_no_dev)
	e=$(xmd_tx_errors)
	if [ "$steers" = 1 ]; then
		for id in 10 20; do
			rv_expect_flow "--steer, no route: steered" "$id" 4
			expect_eq "--steer, no route: $(rv_name_of "$id" 6) gets no reply" 0 \
				"$(ping_count "$LANA" "$(rv_dst_of "$id" 6)" 3 1)"
		done
		expect_eq "--steer, no route: steered +, the echo requests of both tunnels" \
			$((2 * COUNT)) $(($(reason_count steered) - s))
		check "--steer, no route: IPv6 went to the kernel (steer_skip_no_dev grew)" \
			test "$(reason_count steer_skip_no_dev)" -gt "$n"
	else
		rv_expect_all_fail "--steer, no route: the kernel's fate"
		expect_eq "--steer: no packet steered into the collect_md device" 0 \
			"$(reason_count steered)"
		check "--steer: the flows went to the kernel (steer_skip_no_dev grew)" \
			test "$(reason_count steer_skip_no_dev)" -gt "$n"
	fi
	expect_eq "--steer, no route: xbt-xmd counted no tx error" "$e" "$(xmd_tx_errors)"
}

# A new xbt-xmd (another ifindex): the daemon moves its egress program
# there at a heartbeat, and IPv4 is steered through it again.
md_phase_recreated() {
	local s

	ip -n "$GWA" link del xbt-xmd &&
	ip -n "$GWA" link add xbt-xmd type xfrm external &&
	ip -n "$GWA" link set xbt-xmd addrgenmode none &&
	ip -n "$GWA" link set xbt-xmd up || { tap_fail "re-create xbt-xmd"; return 1; }
	if ! wait_for 10 md_egress_attached; then
		tap_fail_log "re-created xbt-xmd: the egress program follows it" "$(vpn_log_tail)"
		return 1
	fi
	tap_ok "re-created xbt-xmd: the egress program follows it"
	s=$(reason_count steered)
	rv_expect_flow "re-created xbt-xmd" 10 4
	expect_eq "re-created xbt-xmd: steered +" "$COUNT" $(($(reason_count steered) - s))
}

# After a kill -9 our filter stays on xbt-xmd: `unload --all` removes it.
md_phase_unload() {
	if ! vpn_daemon_start "$GWA" -i xbt-lan --steer; then
		tap_fail_log "xfrmbpf --steer started again" "$(vpn_log_tail)"
		return 1
	fi
	check "started again: xb_tc_md_egress on xbt-xmd" wait_for 5 md_egress_attached
	kill -KILL "$VPN_DAEMON"
	wait "$VPN_DAEMON" 2>/dev/null
	VPN_DAEMON=
	check "kill -9: the egress filter stays behind" md_egress_attached
	check "unload --all exits 0" xbn unload --all
	check "unload --all: no program left on xbt-xmd's egress" \
		bash -c "! ip netns exec $GWA tc filter show dev xbt-xmd egress | grep -q xb_tc"
}

main() {
	local out id f s e steers=0

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

	if have_kfunc; then
		steers=1
		tap_ok "kernel $(uname -r) has bpf_skb_set_xfrm_info: IPv4 is steered into xbt-xmd"
	else
		tap_ok "kernel $(uname -r) has no bpf_skb_set_xfrm_info: nothing is steered into xbt-xmd"
	fi
	if ! vpn_daemon_start "$GWA" -i xbt-lan --steer; then
		tap_fail_log "xfrmbpf run -i xbt-lan --steer syncs in gwa" "$(vpn_log_tail)"
		return 1
	fi
	tap_ok "xfrmbpf --steer synced, mirrored xfrm links: $(xbn status -j | jq .xfrm_links)"
	if [ "$steers" = 1 ]; then
		# the daemon follows the mirrored device at its heartbeat (1 s)
		check "--steer: xb_tc_md_egress on xbt-xmd's clsact egress" \
			wait_for 5 md_egress_attached
	else
		check "--steer: no program on xbt-xmd's egress" \
			bash -c "! ip netns exec $GWA tc filter show dev xbt-xmd egress | grep -q xb_tc"
	fi

	md_phase_no_route "$steers"
	[ "$steers" = 1 ] && md_phase_recreated

	# the encap routes again: every flow delivered by the kernel. None is
	# steered: bpf_fib_lookup() does not resolve a route with an encap
	# (BPF_FIB_LKUP_RET_UNSUPP_LWT), so the route the admin set decides.
	rv_kernel_routes add || { tap_fail "encap xfrm routes again"; return 1; }
	s=$(reason_count steered)
	e=$(xmd_tx_errors)
	for id in 10 20; do
		for f in 4 6; do
			rv_expect_flow "--steer beside encap xfrm routes" "$id" "$f"
		done
	done
	expect_eq "--steer beside the routes: nothing steered" 0 \
		$(($(reason_count steered) - s))
	expect_eq "--steer beside the routes: xbt-xmd counted no tx error" "$e" \
		"$(xmd_tx_errors)"
	rv_print_counters "with --steer"
	vpn_daemon_stop
	expect_eq "daemon exits 0 on SIGTERM" 0 "$VPN_DAEMON_RC"
	check "after SIGTERM: no program on xbt-xmd's egress" \
		bash -c "! ip netns exec $GWA tc filter show dev xbt-xmd egress | grep -q xb_tc"
	check "after SIGTERM: no clsact qdisc left on xbt-xmd (ours, emptied)" \
		bash -c "! ip netns exec $GWA tc qdisc show dev xbt-xmd | grep -q clsact"
	[ "$steers" = 1 ] && md_phase_unload
}

main
tap_done
