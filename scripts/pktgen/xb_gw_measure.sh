#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The gateway side of a pktgen test: samples for a while what arrived on a
# NIC, who dropped it and what it cost in CPU. Run it on the gateway while
# xb_pktgen.sh sends. See scripts/pktgen/README.md.
#
#   xb_gw_measure.sh -i DEV [-d SECONDS] [-P PIN_DIR] [-l LABEL]
#
# Prints one line per run (and appends it to xb_gw_measure.csv with -o):
#   label, rx pps at the NIC, xfrmbpf drops/s (every drop reason), kernel
#   XFRM policy drops/s (XfrmInPolBlock + XfrmInTmplMismatch + XfrmFwdHdrError),
#   CPU busy % over all CPUs, ns of CPU per received packet.
# The CPU figure counts every CPU (user, system, irq, softirq): keep the
# gateway otherwise idle, and compare runs (kernel drop, xfrmbpf, bare
# XDP_DROP) rather than absolute values.
set -euo pipefail

DEV= SECS=10 PIN=/sys/fs/bpf/xfrmbpf LABEL=run OUT=
# enum xb_reason values of the drop reasons (include/xfrmbpf/reasons.h):
# unknown_spi, policy_block, policy_requires_ipsec, default_block.
DROP_REASONS="10 11 12 13"
# Rows of xb_stats (include/xfrmbpf/datapath.h): XB_MAX_IFACES devices,
# others, retired; a row holds one counter per reason.
STATS_ROWS=66

err() {
	echo "xb_gw_measure: $*" >&2
	exit 1
}

# Busy and total jiffies over all CPUs.
cpu_jiffies() {
	awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8; total = busy + $5 + $6 + $9;
		print busy, total }' /proc/stat
}

kernel_drops() {
	awk '/^(XfrmInPolBlock|XfrmInTmplMismatch|XfrmFwdHdrError)/ { s += $2 }
		END { print s + 0 }' /proc/net/xfrm_stat
}

xfrmbpf_drops() {
	[ -e "$PIN/xb_stats" ] || { echo 0; return; }
	# every row's drop reasons: key % reasons-per-row is the reason
	bpftool -j map dump pinned "$PIN/xb_stats" 2>/dev/null |
		jq --argjson rows "$STATS_ROWS" --argjson drops "[${DROP_REASONS// /,}]" '
			(length / $rows) as $per
			| [.[].formatted | select((.key % $per) as $r | $drops | index($r))
			   | .values[].value.packets] | add // 0' 2>/dev/null || echo 0
}

rx_packets() {
	cat "/sys/class/net/$DEV/statistics/rx_packets"
}

main() {
	local opt r0 r1 x0 x1 k0 k1 b0 t0 b1 t1 line hz

	while getopts "i:d:P:l:o:h" opt; do
		case $opt in
		i) DEV=$OPTARG ;;
		d) SECS=$OPTARG ;;
		P) PIN=$OPTARG ;;
		l) LABEL=$OPTARG ;;
		o) OUT=$OPTARG ;;
		*) sed -n '4,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2 ;;
		esac
	done
	[ -n "$DEV" ] || err "-i DEV is required"
	[ -e "/sys/class/net/$DEV" ] || err "no device $DEV"
	command -v jq >/dev/null || err "needs jq"
	hz=$(getconf CLK_TCK)

	r0=$(rx_packets) x0=$(xfrmbpf_drops) k0=$(kernel_drops)
	read -r b0 t0 < <(cpu_jiffies)
	sleep "$SECS"
	r1=$(rx_packets) x1=$(xfrmbpf_drops) k1=$(kernel_drops)
	read -r b1 t1 < <(cpu_jiffies)

	line=$(awk -v l="$LABEL" -v s="$SECS" -v r=$((r1 - r0)) -v x=$((x1 - x0)) \
		-v k=$((k1 - k0)) -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN {
		# parenthesised: a bare ">" in printf arguments is a redirection
		ns = r > 0 ? b / hz * 1e9 / r : 0
		printf "%s,%.0f,%.0f,%.0f,%.1f,%.1f", l, r / s, x / s, k / s,
			(t > 0 ? 100 * b / t : 0), ns }')
	echo "label,rx_pps,xfrmbpf_drops_per_s,kernel_drops_per_s,cpu_busy_pct,cpu_ns_per_rx_pkt"
	echo "$line"
	[ -z "$OUT" ] || echo "$line" >> "$OUT"
}

main "$@"
