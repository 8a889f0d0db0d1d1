#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The generator side of an xfrmbpf gateway test: drives the kernel's pktgen
# (CONFIG_NET_PKTGEN, /proc/net/pktgen) on a host whose NIC is cabled to
# the gateway's. See scripts/pktgen/README.md.
#
#   xb_pktgen.sh -i DEV -m GW_MAC [-x SCENARIO] [options]
#
# Scenarios (-x) preset addresses and ports; options given after them win:
#   block   one forwarded flow that the gateway's FWD block policy drops
#           (198.51.100.2 -> 203.0.113.5 udp 1234 -> 5678; IPv6 with -6:
#           2001:db8:1::2 -> 2001:db8:3::5)
#   flows   the same destination from random sources in 198.51.100.0/24 and
#           random source ports: tens of thousands of flows, so the
#           flow cache misses and the tuple-space search runs
#   ike     UDP 500 to the gateway itself (-D its address): the IKE bypass;
#           xfrmbpf must pass all of it
#
# Options:
#   -i DEV        transmitting NIC (required)
#   -m MAC        the gateway NIC's MAC (required)
#   -x SCENARIO   block | flows | ike (default block)
#   -6            IPv6
#   -S ADDR[-ADDR] source address or range
#   -D ADDR[-ADDR] destination address or range
#   -p PORT[-PORT] destination UDP port(s)
#   -P PORT[-PORT] source UDP port(s)
#   -s BYTES      frame size without FCS (default 64)
#   -t THREADS    pktgen threads, one per CPU from CPU 0 (default 1); give
#                 the NIC as many TX queues
#   -d SECONDS    run time (default 30); -n COUNT stops each thread earlier
#   -b BURST      packets per xmit_more burst (default 32)
# Prints the per-thread pktgen results and the total rate at the end.
set -euo pipefail

PG=/proc/net/pktgen
DEV= GW_MAC= SCEN=block IP6= SRC= DST= DPORT= SPORT= SIZE=64 THREADS=1
SECONDS_RUN=30 COUNT=0 BURST=32 RND_SRC=

usage() {
	sed -n '4,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
	exit 2
}

err() {
	echo "xb_pktgen: $*" >&2
	exit 1
}

# pgset FILE CMD: one pktgen command; pktgen reports errors in the file.
pgset() {
	local file=$1 cmd=$2

	echo "$cmd" > "$file" || err "pktgen refused '$cmd' ($file)"
	if [ "$file" != "$PG/pgctrl" ] && ! grep -q '^Result: OK' "$file"; then
		err "pktgen refused '$cmd': $(grep '^Result:' "$file")"
	fi
}

# range VALUE: prints "min max" of "a" or "a-b" (addresses never hold '-').
range() {
	if [[ $1 == *-* ]]; then
		echo "${1%%-*} ${1#*-}"
	else
		echo "$1 $1"
	fi
}

preset() {
	case $SCEN in
	block)
		[ -n "$IP6" ] && SRC=${SRC:-2001:db8:1::2} DST=${DST:-2001:db8:3::5}
		SRC=${SRC:-198.51.100.2} DST=${DST:-203.0.113.5}
		SPORT=${SPORT:-1234} DPORT=${DPORT:-5678}
		;;
	flows)
		[ -n "$IP6" ] && SRC=${SRC:-2001:db8:1::1-2001:db8:1::ffff} \
			DST=${DST:-2001:db8:3::5}
		SRC=${SRC:-198.51.100.2-198.51.100.254} DST=${DST:-203.0.113.5}
		SPORT=${SPORT:-1024-65535} DPORT=${DPORT:-5678}
		RND_SRC=1
		;;
	ike)
		[ -n "$DST" ] || err "-x ike needs -D GATEWAY_ADDRESS"
		[ -n "$IP6" ] && SRC=${SRC:-2001:db8:1::2}
		SRC=${SRC:-198.51.100.2}
		SPORT=${SPORT:-500} DPORT=${DPORT:-500}
		;;
	*)
		err "unknown scenario '$SCEN'"
		;;
	esac
}

config_device() {
	local f=$1 min max

	pgset "$f" "count $COUNT"
	pgset "$f" "clone_skb 0"
	# Devices without IFF_TX_SKB_SHARING (veth, most virtual devices)
	# refuse a burst > 1 with ENOTSUPP: send one packet per xmit there.
	if [ "$BURST" -gt 1 ] && ! echo "burst $BURST" > "$f" 2>/dev/null; then
		echo "xb_pktgen: $DEV refuses 'burst $BURST' (no shared skbs): burst 1" >&2
		BURST=1
	fi
	pgset "$f" "burst $BURST"
	pgset "$f" "pkt_size $SIZE"
	pgset "$f" "delay 0"
	pgset "$f" "dst_mac $GW_MAC"
	read -r min max <<<"$(range "$SRC")"
	if [ -n "$IP6" ]; then
		pgset "$f" "src6 $min"
		[ "$min" = "$max" ] || { pgset "$f" "src6_min $min"; pgset "$f" "src6_max $max"; }
		read -r min max <<<"$(range "$DST")"
		pgset "$f" "dst6 $min"
		[ "$min" = "$max" ] || { pgset "$f" "dst6_min $min"; pgset "$f" "dst6_max $max"; }
	else
		pgset "$f" "src_min $min"
		pgset "$f" "src_max $max"
		read -r min max <<<"$(range "$DST")"
		pgset "$f" "dst_min $min"
		pgset "$f" "dst_max $max"
	fi
	read -r min max <<<"$(range "$SPORT")"
	pgset "$f" "udp_src_min $min"
	pgset "$f" "udp_src_max $max"
	read -r min max <<<"$(range "$DPORT")"
	pgset "$f" "udp_dst_min $min"
	pgset "$f" "udp_dst_max $max"
	if [ -n "$RND_SRC" ]; then
		pgset "$f" "flag IPSRC_RND"
		pgset "$f" "flag UDPSRC_RND"
	fi
	pgset "$f" "flag NO_TIMESTAMP"
}

stop() {
	echo stop > "$PG/pgctrl" 2>/dev/null || true
}

main() {
	local opt t f total=0 pps

	while getopts "i:m:x:6S:D:p:P:s:t:d:n:b:h" opt; do
		case $opt in
		i) DEV=$OPTARG ;;
		m) GW_MAC=$OPTARG ;;
		x) SCEN=$OPTARG ;;
		6) IP6=1 ;;
		S) SRC=$OPTARG ;;
		D) DST=$OPTARG ;;
		p) DPORT=$OPTARG ;;
		P) SPORT=$OPTARG ;;
		s) SIZE=$OPTARG ;;
		t) THREADS=$OPTARG ;;
		d) SECONDS_RUN=$OPTARG ;;
		n) COUNT=$OPTARG ;;
		b) BURST=$OPTARG ;;
		*) usage ;;
		esac
	done
	[ -n "$DEV" ] && [ -n "$GW_MAC" ] || usage
	[ "$(id -u)" = 0 ] || err "run as root"
	[ -d "$PG" ] || modprobe pktgen 2>/dev/null || true
	[ -d "$PG" ] || err "no $PG: the kernel needs CONFIG_NET_PKTGEN (modprobe pktgen)"
	[ -e "/sys/class/net/$DEV" ] || err "no device $DEV"
	[ "$THREADS" -le "$(nproc)" ] || err "-t $THREADS: only $(nproc) CPUs"
	preset

	trap stop EXIT
	trap 'exit 130' INT TERM
	pgset "$PG/pgctrl" reset
	for ((t = 0; t < THREADS; t++)); do
		pgset "$PG/kpktgend_$t" rem_device_all
		pgset "$PG/kpktgend_$t" "add_device $DEV@$t"
		f=$PG/$DEV@$t
		config_device "$f"
		pgset "$f" "queue_map_min $t"
		pgset "$f" "queue_map_max $t"
	done
	echo "xb_pktgen: $SCEN, $THREADS thread(s), ${SIZE}-byte frames, ${SECONDS_RUN}s on $DEV -> $GW_MAC" >&2
	# pgctrl start blocks until the threads finish: bound it with timeout.
	timeout -s INT "$SECONDS_RUN" sh -c "echo start > $PG/pgctrl" || true
	stop
	for ((t = 0; t < THREADS; t++)); do
		f=$PG/$DEV@$t
		echo "thread $t: $(grep -A2 '^Result:' "$f" | tr -s ' \n' ' ')"
		pps=$(sed -n 's/.* \([0-9]*\)pps.*/\1/p' "$f" | head -1)
		total=$((total + ${pps:-0}))
	done
	echo "total: $total pps"
}

main "$@"
