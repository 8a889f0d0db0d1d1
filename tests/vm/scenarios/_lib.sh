# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
# Sourced by every kernel-lab scenario (tests/vm/scenarios/*.sh; files
# starting with "_" are not scenarios). A scenario runs inside the guest;
# started on the host, it boots a VM and runs itself there.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
# shellcheck source=../../lib/tap.sh
. "$TOP/tests/lib/tap.sh"

# vm_enter "$0" "$@": on the host, re-run the calling scenario in a VM and
# exit with its status; in the guest, return.
vm_enter() {
	local script
	[ "${XB_VM_GUEST:-0}" = 1 ] && return 0
	script=$(readlink -f "$1")
	shift
	export TOP
	exec bash "$TOP/scripts/vm/run.sh" bash "$script" "$@"
}

# Print the guest kernel once per scenario: results depend on it.
vm_banner() {
	echo "# $1 on $(uname -r) ($(uname -v | cut -c1-60))"
}

# xfrm_sa_packets NS SRC DST SPI: packets the SA has processed, from the
# "lifetime current" block of `ip -s xfrm state`.
xfrm_sa_packets() {
	ip -n "$1" -s xfrm state get src "$2" dst "$3" proto esp spi "$4" 2>/dev/null |
		sed -n 's/^[[:space:]]*[0-9]*(bytes), \([0-9]*\)(packets).*/\1/p' | head -1
}

# xfrm_stat NS NAME: one counter of /proc/net/xfrm_stat in namespace NS.
xfrm_stat() {
	ip netns exec "$1" awk -v n="$2" '$1 == n { print $2 }' /proc/net/xfrm_stat
}

# link_stat NS DEV rx|tx packets|errors: interface counter.
link_stat() {
	ip -n "$1" -s -j link show dev "$2" | jq -r ".[0].stats64.$3.$4"
}

# tap_fail_log NAME TEXT: a failure with TEXT (any number of lines) as TAP
# comments, so no line of it can pass for a result.
tap_fail_log() {
	tap_fail "$1"
	printf '%s\n' "$2" | head -40 | sed 's/^/#   /'
}

# expect_eq NAME WANT GOT: one TAP line comparing two numbers.
expect_eq() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1 ($3)"
	else
		tap_fail "$1" "want $2, got ${3:-nothing}"
	fi
}

# vm_kconfig NAME: the guest kernel's CONFIG_NAME (y, m, or nothing), from
# the config file of the lab's unpacked kernel package (/lib/modules/KVER
# points into it).
vm_kconfig() {
	local kver mods

	kver=$(uname -r)
	mods=$(readlink -f "/lib/modules/$kver") || return 0
	sed -n "s/^CONFIG_$1=//p" "${mods%/lib/modules/$kver}/boot/config-$kver" 2>/dev/null
}

# vm_module_loaded NAME: the module is loaded now (not built in).
vm_module_loaded() {
	grep -q "^$1 " /proc/modules
}
