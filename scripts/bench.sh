#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make bench: xfrmbpf's numbers, measured side by side in one run.
#
#  1. classify  ns per packet of the XDP program (BPF_PROG_TEST_RUN) against
#               SPD size, flow-cache hits and misses, beside the bare-parse
#               floor (build/bench/bench_classify, see its header)
#  2. drop      early drop on a veth pair fed by an XDP live-frame generator:
#               receive-side CPU per packet (the veth's threaded NAPI poller)
#               saturated and paced at one rate every case sustains, packet
#               rate and the XDP program's own run time, for the kernel's
#               own policy drop (FWD block, no xfrmbpf), xfrmbpf's XDP drop
#               (`xfrmbpf run -i`), parse+XDP_DROP and a bare XDP_DROP, at 1
#               and 10,000 policies
#  spd       the same cache-miss cost on realistic rule sets (acl, fw, ipc
#               profiles of tests/lib/ruleset_gen.h, 1..1M policies, each
#               family), with the share of packets decided, the tables
#               the classifier needed and its build time
#               On the same veth, a third case: a realistic rule set of
#               10,000 FWD policies (acl profile, documentation addresses;
#               BENCH_DROP_PROFILE=fw|ipc) and a generator that sends
#               262,144 flows of it,
#               each decided by a block policy, one new flow per frame
#               (more flows than the receiver's flow cache holds)
#  3. control   time to mirror 100k policies at start beside
#               `ip xfrm policy list`, event-to-visible latency with 100k
#               policies, memory per mirrored policy
#  spdctl    the control plane on realistic rule sets: per profile and
#               size (1k, 10k, 100k; 1M of acl unless BENCH_QUICK), half
#               IPv4 half IPv6, the kernel's load time over netlink, `ip
#               xfrm policy list`, the mirror's start-up, memory per
#               policy (maps + daemon RSS; the maps by bpftool's memlock
#               and by the slab they free), `status` time, and at 100k the
#               event-to-visible latency of single changes
#
# Output in build/bench/: results.csv (section,case,family,n_policies,value,
# unit; '#' lines are the environment and notes), results.txt (the table
# printed at the end), classify.png and drop.png (gnuplot), env.txt.
# Ratios are the result; on a shared or virtual machine the absolute numbers
# move with the neighbours (the load average is recorded before and after).
# Needs root, two CPUs, and installs gnuplot-nox and ethtool when missing.
#
# BENCH_QUICK=1: fewer repeats and a 10k control plane, for a smoke run.
# BENCH_SECTIONS="classify drop control": a subset.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/build/bench
XFRMBPF=$TOP/build/xfrmbpf
QUICK=${BENCH_QUICK:-0}
SECTIONS=${BENCH_SECTIONS:-classify spd drop control spdctl}
# BENCH_OUT=DIR: results elsewhere than beside the binaries.
RES=${BENCH_OUT:-$OUT}
CSV=$RES/results.csv
RUN_DIR=/run/xbt/bench-$$
NS_TX=xbt-btx-$$
NS_RX=xbt-brx-$$
NS_CP=xbt-bcp-$$
PIDS=()

SPD_PROFILES="acl fw ipc"
if [ "$QUICK" = 1 ]; then
	SPD_MAX=10000 SPD_GOAL_N=10000
	REPEAT=50000 TRIALS=3 DROP_SECONDS=1 DROP_ROUNDS=1 CP_N=10000 LAT_COUNT=50
	LIST_TRIALS=1 SPDCTL_SIZES="1000 10000" SPDCTL_LAT_N=10000 SPDCTL_1M=
else
	SPD_MAX=1000000 SPD_GOAL_N=100000
	REPEAT=200000 TRIALS=5 DROP_SECONDS=2 DROP_ROUNDS=5 CP_N=100000 LAT_COUNT=200
	LIST_TRIALS=3 SPDCTL_SIZES="1000 10000 100000" SPDCTL_LAT_N=100000
	# 1M policies of the acl profile only: the kernel inserts a policy
	# after a walk of the policies of its bin, and the fw and ipc sets
	# (wildcards) put most policies in few bins, so loading a million of
	# them takes the kernel a quarter of an hour
	SPDCTL_1M=acl
fi
# The realistic drop case: rule set and the flows its generator cycles.
# acl by default; the fw profile confined to the documentation ranges
# (three /24s, ~250 tables at 10k) works too (BENCH_DROP_PROFILE=fw).
DROP_RS_PROFILE=${BENCH_DROP_PROFILE:-acl}
DROP_RS_N=10000
# BENCH_DROP_FLOWS=N: the flows it cycles, 262144 by default, four times
# the flow cache's slots (every frame a miss); fewer than the slots
# measure hits instead. At most bench.bpf.o's bench_flows holds
# (8 * XB_FLOW_CACHE_ENTRIES): bench_txgen refuses more.
DROP_RS_FLOWS=${BENCH_DROP_FLOWS:-262144}
# BENCH_DROP_MPPS=R: the drop section's paced rate. 0.4 Mpps is 70% of
# the kernel case's saturated rate on a 2-vCPU EPYC VM with neighbours at
# its slowest (0.6 Mpps; 0.8-1.7 when quiet): one rate for every run, so
# that runs compare (the wake-ups are amortised over the rate).
DROP_MPPS=${BENCH_DROP_MPPS:-0.4}
DROP_STATS_SECONDS=0.5

log() { printf 'bench: %s\n' "$*" >&2; }
note() { printf '# %s\n' "$*" >> "$CSV"; }
row() { local IFS=,; printf '%s\n' "$*" >> "$CSV"; }

die() {
	log "error: $*"
	exit 1
}

# Kill only what this script started, then remove namespaces and mounts.
cleanup() {
	local pid

	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in "$NS_TX" "$NS_RX" "$NS_CP"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	if mountpoint -q "$RUN_DIR/bpffs" 2>/dev/null; then
		umount "$RUN_DIR/bpffs" || true
	fi
	rm -rf "$RUN_DIR"
}

# Stops one process we started (TERM, then KILL after 5 s).
stop_pid() {
	local pid=$1 i

	if ! kill -TERM "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		forget_pid "$pid"
		return 0
	fi
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	forget_pid "$pid"
}

# Drops one exact PID from PIDS (cleanup must not signal a reused PID).
forget_pid() {
	local p keep=()

	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# $1 command, $2 Debian package: installed when missing.
ensure_tool() {
	command -v "$1" >/dev/null && return 0
	log "installing $2"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"$2" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "$2" >/dev/null 2>&1; } ||
		log "warning: $2 not installed"
}

record_env() {
	local cpu

	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	{
		echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "kernel=$(uname -r)"
		echo "cpu=${cpu:-unknown}"
		echo "cpus=$(nproc)"
		echo "git=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
		echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
		echo "quick=$QUICK repeat=$REPEAT trials=$TRIALS"
	} > "$RES/env.txt"
	: > "$CSV"
	while read -r line; do note "$line"; done < "$RES/env.txt"
	row section case family n_policies value unit
}

# ---- 1. classifier ----

bench_classify() {
	log "classify: SPD sizes 1..100k, hits and misses (about a minute)"
	"$OUT/bench_classify" -r "$REPEAT" -t "$TRIALS" -o "$OUT/bench.bpf.o" >> "$CSV" ||
		die "bench_classify failed"
}

# Realistic rule sets: rows "spd-PROFILE,miss|hit|...,FAMILY,N" and the
# builder's time per size; the reasons and shape lists as comments.
bench_spd_profiles() {
	local p

	for p in $SPD_PROFILES; do
		log "spd: $p rule sets, 1..$SPD_MAX policies per family"
		"$OUT/bench_classify" -r "$REPEAT" -t "$TRIALS" -n "$SPD_MAX" -p "$p" \
			-o "$OUT/bench.bpf.o" |
			sed -e "s/^classify,/spd-$p,/" -e "s/^publish,/spd-$p,/" \
			    -e "s/^# /# spd $p: /" >> "$CSV" ||
			die "bench_classify -p $p failed"
	done
}

# ---- 2. early drop on veth ----
#
# Generator: XDP live frames (bench_txgen -x) redirected out of xbt-btx0 on
# GEN_CPU, so they reach xbt-brx0 as XDP frames, as from a NIC. xbt-brx0
# polls in threaded NAPI (GRO on keeps the poller with or without an XDP
# program) pinned to RX_CPU: that thread does all of the receive side's
# work, so its run time over the frames the veth delivered is the receive
# CPU per packet. Each case, in each round, is measured three ways:
#
#  saturated  the generator offers far more than the receiver takes: the
#             rate is the receiver's capacity. Its CPU per packet carries
#             an artefact of the method: the veth ring drops the excess on
#             GEN_CPU, and both CPUs return pages into the test run's page
#             pool under one producer lock (a NIC recycles its pages
#             locally), the more the slower the receiver.
#  paced      the generator offers one rate (DROP_MPPS, about 70% of the
#             kernel case's capacity, the same for every case; checked
#             against the saturated kernel rate) in runs of 192
#             frames: nothing is dropped at the sender (the loss is checked
#             and noted), so the receiver's CPU per packet is its own work,
#             including its wake-ups (at least one per run of frames), as
#             a NIC's interrupts.
#             Generator and poller run SCHED_FIFO here, as a NIC's softirq
#             runs ahead of tasks: a run fills 3/4 of the veth's ring,
#             so a poller or a sender kept waiting by the machine's other
#             work would lose frames or the rate (both sleep between runs).
#             What remains of the method: each run is one test run call with
#             its own page pool, whose ring holds a batch (64) of pages, so
#             the poller frees most pages to the page allocator instead of
#             recycling them.
#  stats      a short paced run with BPF statistics on (bench_txgen -p):
#             the XDP program's own ns per run. Only there: the statistics
#             read the clock twice per run, which the other two would pay.

drop_setup() {
	local pid

	ip netns add "$NS_TX"
	ip netns add "$NS_RX"
	ip link add xbt-btx0 netns "$NS_TX" type veth peer name xbt-brx0 netns "$NS_RX"
	ip -n "$NS_TX" link set lo up
	ip -n "$NS_TX" link set xbt-btx0 up
	ip -n "$NS_RX" link set lo up
	ip -n "$NS_RX" link set xbt-brx0 address 02:00:00:00:00:01 up
	ip -n "$NS_RX" addr add 198.51.100.1/24 dev xbt-brx0
	ip -n "$NS_RX" link add xbt-brx1 type veth peer name xbt-brx2
	ip -n "$NS_RX" link set xbt-brx1 up
	ip -n "$NS_RX" link set xbt-brx2 up
	ip -n "$NS_RX" addr add 192.0.2.1/24 dev xbt-brx1
	ip -n "$NS_RX" route add 203.0.113.0/24 via 192.0.2.2 dev xbt-brx1
	ip -n "$NS_RX" neigh replace 192.0.2.2 lladdr 02:00:00:00:00:22 dev xbt-brx1 nud permanent
	ip netns exec "$NS_RX" sysctl -qw net.ipv4.ip_forward=1
	# charon's priority for a /24 -> /24 drop shunt: (384 - 48) * 4 + 3
	ip -n "$NS_RX" xfrm policy add src 198.51.100.0/24 dst 203.0.113.0/24 \
		dir fwd priority 1347 action block
	ip netns exec "$NS_RX" ethtool -K xbt-brx0 gro on >/dev/null
	ip netns exec "$NS_RX" sh -c 'echo 1 > /sys/class/net/xbt-brx0/threaded' ||
		die "no threaded NAPI on veth"
	pid=$(napi_pid)
	[ -n "$pid" ] || die "no NAPI thread for xbt-brx0"
	pin_napi "$pid"
}

# The poller on RX_CPU. It sleeps when its ring is empty, so its CPU per
# packet includes the wake-ups, amortised over the frames of each poll.
# $2 = fifo: real-time priority for a paced run (never for a saturated
# one, which keeps it busy for the whole run).
pin_napi() {
	taskset -p -c "$RX_CPU" "$1" >/dev/null
	if [ "${2:-}" = fifo ]; then
		chrt -p -f 50 "$1" >/dev/null
	else
		chrt -p -o 0 "$1" >/dev/null
	fi
}

napi_pid() {
	ps -eo pid,comm | awk '$2 ~ /^napi\/xbt-brx0/ { print $1; exit }'
}

xfrm_blocks() {
	ip netns exec "$NS_RX" awk '/^XfrmInPolBlock/ { print $2 }' /proc/net/xfrm_stat
}

tx_delivered() {
	ip netns exec "$NS_TX" cat /sys/class/net/xbt-btx0/statistics/tx_packets
}

# The XDP program attached to xbt-brx0 (libxdp's dispatcher when there is
# one: its run time includes the program it calls), or nothing.
xdp_prog_id() {
	ip -n "$NS_RX" link show xbt-brx0 | sed -n 's/.*prog\/xdp[a-z]* id \([0-9]*\).*/\1/p'
}

# One generator run, $1 = sat, paced or stats (see above); prints
# "sent delivered rx_ns_per_pkt delivered_mpps sent_mpps loss_pct
# prog_ns_per_run" (prog 0 without statistics).
gen_run() {
	local mode=$1 out wall napi d0 d1 pid prog pns pruns sent secs=$DROP_SECONDS
	local args=() rt=()

	pid=$(napi_pid)
	[ -n "$pid" ] || die "NAPI thread of xbt-brx0 gone"
	if [ "$mode" = sat ]; then
		pin_napi "$pid"
	else
		pin_napi "$pid" fifo
		rt=(chrt -f 50)
		args+=(-r "$DROP_MPPS")
	fi
	if [ "$mode" = stats ]; then
		prog=$(xdp_prog_id)
		[ -n "$prog" ] || die "stats run without an XDP program"
		args+=(-p "$prog")
		secs=$DROP_STATS_SECONDS
	fi
	[ -n "$DROP_FLOWS" ] && args+=(-F "$DROP_FLOWS")
	d0=$(tx_delivered)
	out=$(ip netns exec "$NS_TX" "${rt[@]}" "$OUT/bench_txgen" -x "$OUT/bench.bpf.o" \
		-i xbt-btx0 -s 198.51.100.2 -d 203.0.113.5 -t "$secs" \
		-c "$GEN_CPU" -N "$pid" "${args[@]}") || die "bench_txgen failed"
	d1=$(tx_delivered)
	pin_napi "$pid"
	sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$out")
	wall=$(sed -n 's/.*wall_ns=\([0-9]*\).*/\1/p' <<<"$out")
	napi=$(sed -n 's/.*napi_ns=\([0-9]*\).*/\1/p' <<<"$out")
	pns=$(sed -n 's/.*prog_ns=\([0-9]*\).*/\1/p' <<<"$out")
	pruns=$(sed -n 's/.*prog_runs=\([0-9]*\).*/\1/p' <<<"$out")
	[ $((d1 - d0)) -gt 0 ] || die "no frame reached xbt-brx0"
	awk -v s="$sent" -v d=$((d1 - d0)) -v w="$wall" -v k="$napi" \
		-v p="${pns:-0}" -v r="${pruns:-0}" 'BEGIN {
		printf "%d %d %.1f %.3f %.3f %.2f %.1f\n", s, d, k / d,
			d / w * 1000, s / w * 1000, (s > d ? (s - d) * 100 / s : 0),
			r ? p / r : 0 }'
}

# The paced rate must leave the slowest case (the kernel's) a margin: a
# note and a warning when it is above 70% of that case's best saturated
# rate at n policies.
drop_check_rate() {
	local n=$1 cap

	cap=$(drop_pick -r ${DROP_RATE[${DROP_SET}kernel@$n]})
	awk -v r="$DROP_MPPS" -v c="$cap" 'BEGIN { exit !(r > c * 0.7) }' || return 0
	note "drop N=$n: paced rate $DROP_MPPS Mpps is above 70% of the kernel case's saturated $cap Mpps: set BENCH_DROP_MPPS lower"
	log "warning: paced rate $DROP_MPPS Mpps above 70% of the kernel's $cap Mpps at N=$n"
}

# One generator run of a mode; checks the case's drop counter ($3, a
# command, or "") against the delivered frames and prints gen_run's line.
drop_run() {
	local mode=$1 tag=$2 counter=$3 res got before=0 after=0

	[ -n "$counter" ] && before=$($counter)
	res=$(gen_run "$mode") || exit 1
	got=$(cut -d' ' -f2 <<<"$res")
	[ -n "$counter" ] && after=$($counter)
	if [ -n "$counter" ] && [ $((after - before)) -lt $((got * 95 / 100)) ]; then
		note "drop $tag ($mode): only $((after - before)) of $got frames counted as dropped"
		log "warning: $tag ($mode) dropped $((after - before)) of $got"
	fi
	echo "$res"
}

# One round of a case: saturated, paced, and (with an XDP program) stats;
# keeps the results in DROP_*[case@n], space-separated, one per round.
# $1 case, $2 n_policies, $3 command printing the case's drop counter.
declare -A DROP_CPU DROP_RATE DROP_PROG DROP_PCPU DROP_PSENT DROP_LOSS
# The case set: "" for the one fixed flow, "${DROP_RS_PROFILE}_" for the
# realistic rule set and its flows (DROP_FLOWS, for bench_txgen -F).
DROP_SET=
DROP_FLOWS=
drop_case() {
	local name=$1 n=$2 counter=$3 key=$DROP_SET$1@$2 res sent got cpu rate srate loss prog

	res=$(drop_run sat "$key" "$counter") || exit 1
	read -r sent got cpu rate srate loss prog <<<"$res"
	DROP_CPU[$key]+="$cpu "
	DROP_RATE[$key]+="$rate "
	res=$(drop_run paced "$key" "$counter") || exit 1
	read -r sent got cpu rate srate loss prog <<<"$res"
	DROP_PCPU[$key]+="$cpu "
	DROP_PSENT[$key]+="$srate "
	DROP_LOSS[$key]+="$loss "
	if awk -v l="$loss" 'BEGIN { exit !(l > 1) }'; then
		note "drop $key: paced run lost $loss% of $sent frames at the sender (receiver saturated?)"
		log "warning: $key lost $loss% at $DROP_MPPS Mpps"
	fi
	[ "$name" = kernel ] && return 0
	res=$(drop_run stats "$key" "$counter") || exit 1
	read -r sent got cpu rate srate loss prog <<<"$res"
	DROP_PROG[$key]+="$prog "
}

# The least of "$@" (or the greatest with -r).
drop_pick() {
	local order=-g

	[ "$1" = -r ] && { order=-gr; shift; }
	printf '%s\n' "$@" | sort $order | head -1
}

# The median of the numbers on stdin (the lower middle of an even count).
median() {
	sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# The median of "$@".
drop_median() {
	printf '%s\n' "$@" | median
}

# CSV rows of every case at n: the median over the rounds. Not the best
# round: a saturated veth is bistable (a receiver that keeps up leaves no
# excess to drop at the sender, so nothing contends for the page pool's
# lock; one that falls behind makes the contention that keeps it behind),
# and the best round of one case may be in the other state than the best
# of the next.
drop_rows() {
	local n=$1 name key

	for name in kernel xfrmbpf parse_drop bare_xdp_drop; do
		key=$DROP_SET$name@$n
		name=$DROP_SET$name
		row drop "${name}_rx_cpu" v4 "$n" "$(drop_median ${DROP_CPU[$key]})" ns_per_pkt
		row drop "${name}_rx_cpu_paced" v4 "$n" "$(drop_median ${DROP_PCPU[$key]})" ns_per_pkt
		row drop "${name}_rate" v4 "$n" "$(drop_median ${DROP_RATE[$key]})" mpps
		[ "$name" = "${DROP_SET}kernel" ] ||
			row drop "${name}_xdp_prog" v4 "$n" "$(drop_median ${DROP_PROG[$key]})" ns_per_run
		note "drop $name N=$n rounds: saturated rx_cpu ${DROP_CPU[$key]}ns, rate ${DROP_RATE[$key]}Mpps; paced at $DROP_MPPS Mpps: rx_cpu ${DROP_PCPU[$key]}ns, sent ${DROP_PSENT[$key]}Mpps, loss ${DROP_LOSS[$key]}%; xdp prog (stats on) ${DROP_PROG[$key]:-- }ns"
	done
}

have_run_iface() {
	"$XFRMBPF" run --help 2>&1 | grep -q -- '--interface'
}

# The daemon in NS_RX on its own pin dir; XDP attached by `run -i` when it
# can, else by bench_attach on the daemon's maps.
xdp_start() {
	local n=$1 pin=$RUN_DIR/bpffs/drop-$DROP_SET$n

	if have_run_iface; then
		ip netns exec "$NS_RX" "$XFRMBPF" --pin-dir "$pin" run -i xbt-brx0 \
			--mode native > "$RUN_DIR/daemon-drop-$n.log" 2>&1 &
		PIDS+=($!)
		XDP_PIDS=($!)
	else
		ip netns exec "$NS_RX" "$XFRMBPF" --pin-dir "$pin" run \
			> "$RUN_DIR/daemon-drop-$n.log" 2>&1 &
		PIDS+=($!)
		XDP_PIDS=($!)
	fi
	ip netns exec "$NS_RX" "$OUT/bench_ctl" waitsync "$pin" "${XDP_WAIT_N:-$n}" 60 >/dev/null ||
		die "daemon did not sync (log: $RUN_DIR/daemon-drop-$n.log)"
	if ! have_run_iface; then
		ip netns exec "$NS_RX" "$OUT/bench_attach" -i xbt-brx0 -P "$pin" \
			> "$RUN_DIR/attach.out" 2>&1 &
		PIDS+=($!)
		XDP_PIDS+=($!)
		note "drop: XDP attached by bench_attach (no run -i in this build)"
	fi
	for _ in $(seq 50); do
		ip -n "$NS_RX" link show xbt-brx0 | grep -q xdp && break
		sleep 0.1
	done
	ip -n "$NS_RX" link show xbt-brx0 | grep -q xdp || die "XDP not attached"
	XDP_PIN=$pin
}

xdp_stop() {
	local i

	for ((i = ${#XDP_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${XDP_PIDS[$i]}"
	done
	XDP_PIDS=()
}

xdp_drops() {
	ip netns exec "$NS_RX" "$OUT/bench_ctl" drops "$XDP_PIN"
}

# The XDP case's flow cache and undecidable counts, as a note.
xdp_note_stats() {
	local s

	s=$(ip netns exec "$NS_RX" "$XFRMBPF" --pin-dir "$XDP_PIN" stats -j 2>/dev/null |
		jq -c '{flow_cache: .flow_cache, policy_block: .reasons.policy_block.packets,
			pass_undecidable: .reasons.pass_undecidable.packets,
			undecidable_causes: .undecidable_causes}') || return 0
	note "drop ${DROP_SET}xfrmbpf@$1 counters: $s"
}

# A plain program of bench.bpf.o on xbt-brx0 for one run.
bare_case() {
	local prog=$1 name=$2 n=$3 pid

	: > "$RUN_DIR/bare.out"
	ip netns exec "$NS_RX" "$OUT/bench_attach" -i xbt-brx0 -o "$OUT/bench.bpf.o" \
		-p "$prog" > "$RUN_DIR/bare.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	for _ in $(seq 50); do
		grep -q attached "$RUN_DIR/bare.out" 2>/dev/null && break
		sleep 0.1
	done
	grep -q attached "$RUN_DIR/bare.out" || die "$prog not attached"
	drop_case "$name" "$n" ""
	stop_pid "$pid"
}

# Rounds of every case in turn, so that a burst of other work on the
# machine hits one round of each case rather than all runs of one.
drop_round() {
	local n=$1 round

	for ((round = 1; round <= DROP_ROUNDS; round++)); do
		log "drop: $n policies, round $round/$DROP_ROUNDS: kernel, xfrmbpf, parse+drop, bare drop"
		drop_case kernel "$n" xfrm_blocks
		xdp_start "$n"
		drop_case xfrmbpf "$n" xdp_drops
		xdp_note_stats "$n"
		xdp_stop
		bare_case bench_parse_drop parse_drop "$n"
		bare_case bench_drop bare_xdp_drop "$n"
	done
	drop_rows "$n"
	drop_check_rate "$n"
}

bench_drop() {
	GEN_CPU=0
	RX_CPU=$(($(nproc) - 1))
	[ "$RX_CPU" -gt 0 ] || die "drop: needs two CPUs (generator and receiver)"
	drop_setup
	drop_live_frames || return 0
	note "drop: 128-byte UDP/IPv4 frames 198.51.100.2 -> 203.0.113.5 (forwarded; FWD block policy), XDP live-frame generator on CPU $GEN_CPU, threaded NAPI receiver on CPU $RX_CPU, ${DROP_SECONDS}s saturated + ${DROP_SECONDS}s paced + ${DROP_STATS_SECONDS}s stats x $DROP_ROUNDS interleaved rounds per case (median of the rounds)"
	note "drop: paced at $DROP_MPPS Mpps offered (runs of 192 frames) for every case and N"
	drop_round 1
	"$OUT/bench_spd" 10000 1 | ip -n "$NS_RX" -batch - ||
		die "installing 9,999 policies failed"
	drop_round 10000
	drop_realistic
}

# Whether this kernel lets bench_txgen send live frames: some builds
# refuse BPF_F_TEST_XDP_LIVE_FRAMES (EPERM). Without it there is no
# generator that hands the receiver XDP frames as a NIC's ring would, and
# the section is skipped with the reason in the results rather than
# measured another way.
drop_live_frames() {
	local out rc=0

	out=$(ip netns exec "$NS_TX" "$OUT/bench_txgen" -x "$OUT/bench.bpf.o" -P \
		-i xbt-btx0 -s 198.51.100.2 -d 203.0.113.5) || rc=$?
	case $rc in
	0) return 0 ;;
	3)
		log "drop: skipped: $out"
		note "drop: skipped: $out"
		return 1 ;;
	*) die "bench_txgen -P failed" ;;
	esac
}

# The realistic case: the SPD is the rule set alone (the fixed flow's
# block policy goes), the generator cycles flows that its block policies
# decide.
drop_realistic() {
	local out

	ip -n "$NS_RX" xfrm policy flush
	DROP_FLOWS=$RUN_DIR/drop-flows.txt
	out=$(ip netns exec "$NS_RX" "$OUT/bench_ruleset" -p "$DROP_RS_PROFILE" -f 4 \
		-n "$DROP_RS_N" -d -F "$DROP_FLOWS" -k "$DROP_RS_FLOWS") ||
		die "installing the $DROP_RS_PROFILE rule set failed"
	note "drop ${DROP_RS_PROFILE}: $(tr '\n' ' ' <<<"$out")"
	note "drop ${DROP_RS_PROFILE}: 128-byte TCP and UDP/IPv4 frames, each the next of $(wc -l < "$DROP_FLOWS") flows ($(sort -u "$DROP_FLOWS" | wc -l) distinct) that block policies of the rule set decide, between documentation addresses, forwarded by the receiver"
	XDP_WAIT_N=$(sed -n 's/^loaded \([0-9]*\) policies.*/\1/p' <<<"$out")
	DROP_SET=${DROP_RS_PROFILE}_
	drop_round "$DROP_RS_N"
	DROP_SET=
	DROP_FLOWS=
	XDP_WAIT_N=
}

# ---- 3. control plane ----

map_memlock() {
	local pin=$1 f sum=0 v

	for f in "$pin"/xb_*; do
		v=$(bpftool -j map show pinned "$f" 2>/dev/null |
			sed -n 's/.*"bytes_memlock":\([0-9]*\).*/\1/p')
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# "name=bytes ..." of the pinned maps, largest first.
map_memlock_each() {
	local pin=$1 f v

	for f in "$pin"/xb_*; do
		v=$(bpftool -j map show pinned "$f" 2>/dev/null |
			sed -n 's/.*"bytes_memlock":\([0-9]*\).*/\1/p')
		echo "${v:-0} ${f##*/}"
	done | sort -rn | awk '{ printf "%s=%s ", $2, $1 }'
}

# "idle total" jiffies of all CPUs (first line of /proc/stat).
cpu_jiffies() {
	awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $5 + $6, t }' /proc/stat
}

# Event-to-visible latency rows, the SPD holding $2 policies. The tail
# waits for a CPU whenever something else is runnable: the idle share of
# the CPUs during the run is noted to tell a busy machine from a slow
# daemon (over 90% on a quiet machine: the watcher sleeps 2 ms between
# changes).
latency() {
	local pin=$1 n=$2 j0 j1

	j0=($(cpu_jiffies))
	ip netns exec "$NS_CP" "$OUT/bench_ctl" latency "$pin" "$LAT_COUNT" |
		while IFS=, read -r s op q v unit; do
			case $s in
			'#'*) echo "$s" >> "$CSV" ;;
			latency) row control "event_${op}_${q}" all "$n" "$v" "$unit" ;;
			esac
		done
	j1=($(cpu_jiffies))
	note "control: latency at $n policies: CPUs idle" \
		"$(((j1[0] - j0[0]) * 100 / (j1[1] - j0[1] + 1)))% of the run"
}

rss_kb() {
	awk '/^VmRSS/ { print $2 }' "/proc/$1/status"
}

# kB of unreclaimable slab: where the hash maps' elements are allocated,
# each rounded up to its kmalloc size class (bpftool's memlock counts
# the element's own size).
slab_kb() {
	awk '/^SUnreclaim:/ { print $2 }' /proc/meminfo
}

# The ids of the maps pinned under $1.
pinned_map_ids() {
	local f

	for f in "$1"/xb_*; do
		bpftool -j map show pinned "$f" 2>/dev/null | jq -r '.id // empty'
	done
}

# slab_kb once the maps of ids $@ are gone (freed by a work item after
# their last pin and fd) and the slab has stopped shrinking (their
# elements go back after an RCU grace period).
slab_settled_kb() {
	local prev cur i id steady=0

	for ((i = 0; i < 120; i++)); do
		for id in "$@"; do
			bpftool map show id "$id" >/dev/null 2>&1 && break
			id=
		done
		[ -z "${id:-}" ] && break
		sleep 0.25
	done
	prev=$(slab_kb)
	for ((i = 0; i < 60 && steady < 3; i++)); do
		sleep 0.5
		cur=$(slab_kb)
		if [ $((prev - cur)) -lt 256 ]; then
			steady=$((steady + 1))
		else
			steady=0
		fi
		prev=$cur
	done
	echo "$prev"
}

# Starts the daemon in NS_CP on a fresh pin dir; prints its start time
# (CLOCK_REALTIME ns) and sets CP_PID.
cp_start() {
	local pin=$1

	rm -rf "$pin"
	CP_T0=$(date +%s%N)
	ip netns exec "$NS_CP" "$XFRMBPF" --pin-dir "$pin" run \
		> "$RUN_DIR/daemon-cp.log" 2>&1 &
	CP_PID=$!
	PIDS+=("$CP_PID")
}

# ms from CP_T0 until the mirror is synced with $2 policies.
cp_wait_ms() {
	local pin=$1 n=$2 out t1

	out=$(ip netns exec "$NS_CP" "$OUT/bench_ctl" waitsync "$pin" "$n" 300) ||
		die "daemon did not sync (log: $RUN_DIR/daemon-cp.log)"
	t1=$(sed -n 's/.*synced_realtime_ns=\([0-9]*\).*/\1/p' <<<"$out")
	echo $(((t1 - CP_T0) / 1000000))
}

bench_control() {
	local pin=$RUN_DIR/bpffs/cp n=$CP_N i t mem0 rss0 mem1 rss1 lists=() syncs=()
	local daemon_pid_rss

	ip netns add "$NS_CP"
	ip -n "$NS_CP" link set lo up

	log "control: empty SPD baseline (start-up, memory, event latency)"
	cp_start "$pin"
	row control initial_sync all 0 "$(cp_wait_ms "$pin" 0)" ms
	mem0=$(map_memlock "$pin")
	rss0=$(rss_kb "$CP_PID")
	latency "$pin" 0
	stop_pid "$CP_PID"

	log "control: installing $n policies"
	"$OUT/bench_spd" "$n" > "$RUN_DIR/spd.batch"
	t=$(date +%s%N)
	ip -n "$NS_CP" -batch "$RUN_DIR/spd.batch" || die "installing $n policies failed"
	row control ip_batch_install all "$n" $((($(date +%s%N) - t) / 1000000)) ms
	for ((i = 0; i < LIST_TRIALS; i++)); do
		t=$(date +%s%N)
		ip -n "$NS_CP" xfrm policy list > /dev/null
		lists+=($((($(date +%s%N) - t) / 1000000)))
	done
	row control ip_xfrm_policy_list all "$n" "$(printf '%s\n' "${lists[@]}" | median)" ms

	log "control: mirror start-up with $n policies ($LIST_TRIALS cold starts)"
	for ((i = 0; i < LIST_TRIALS; i++)); do
		cp_start "$pin"
		syncs+=("$(cp_wait_ms "$pin" "$n")")
		[ "$i" -lt $((LIST_TRIALS - 1)) ] && stop_pid "$CP_PID"
	done
	row control initial_sync all "$n" "$(printf '%s\n' "${syncs[@]}" | median)" ms
	mem1=$(map_memlock "$pin")
	rss1=$(rss_kb "$CP_PID")
	row control map_memlock_delta all "$n" $((mem1 - mem0)) bytes
	row control daemon_rss_delta all "$n" $(((rss1 - rss0) * 1024)) bytes
	row control bytes_per_policy all "$n" \
		$(((mem1 - mem0 + (rss1 - rss0) * 1024) / n)) bytes
	note "control: map memlock empty=$mem0 B full=$mem1 B; daemon RSS empty=${rss0} kB full=${rss1} kB"

	note "control: map memlock by map at $n: $(map_memlock_each "$pin")"
	log "control: event-to-visible latency, $LAT_COUNT adds and deletes"
	latency "$pin" "$n"
	stop_pid "$CP_PID"
	ip -n "$NS_CP" xfrm policy flush
}

# ---- control plane on realistic rule sets ----

# Loads profile $1 with $2 policies into NS_CP, half IPv4 and half IPv6;
# prints "policies_loaded kernel_ms".
spdctl_load() {
	local p=$1 n=$2 f out loaded=0 ms=0

	for f in 4 6; do
		out=$(ip netns exec "$NS_CP" "$OUT/bench_ruleset" -p "$p" -f "$f" -n $((n / 2))) ||
			die "loading the $p rule set ($n policies) failed"
		read -r l s < <(sed -n 's/^loaded \([0-9]*\) policies in \([0-9.]*\) s.*/\1 \2/p' <<<"$out")
		loaded=$((loaded + l))
		ms=$(awk -v a="$ms" -v s="$s" 'BEGIN { printf "%.0f", a + s * 1000 }')
	done
	echo "$loaded $ms"
}

# Event-to-visible latency rows of section $1 at $2 policies.
spdctl_latency() {
	local sec=$1 n=$2

	ip netns exec "$NS_CP" "$OUT/bench_ctl" latency "$RUN_DIR/bpffs/spdctl" "$LAT_COUNT" |
		while IFS=, read -r s op q v unit; do
			[ "$s" = latency ] && row "$sec" "event_${op}_${q}" mixed "$n" "$v" "$unit"
		done
}

bench_spdctl() {
	local pin=$RUN_DIR/bpffs/spdctl p n loaded kms t mem0 rss0 mem1 rss1 sec slab1 slab0 ids

	ip netns list | grep -qw "$NS_CP" || {
		ip netns add "$NS_CP"
		ip -n "$NS_CP" link set lo up
	}
	ip -n "$NS_CP" xfrm policy flush
	cp_start "$pin"
	cp_wait_ms "$pin" 0 > /dev/null
	mem0=$(map_memlock "$pin")
	rss0=$(rss_kb "$CP_PID")
	stop_pid "$CP_PID"
	note "spdctl: empty SPD: map memlock $mem0 B, daemon RSS $rss0 kB; the maps are sized for the default --max-policies"
	for p in $SPD_PROFILES; do
		sec=spdctl-$p
		for n in $SPDCTL_SIZES $([ "$p" = "$SPDCTL_1M" ] && echo 1000000); do
			log "spdctl: $p rule set, $n policies (half IPv4, half IPv6)"
			read -r loaded kms < <(spdctl_load "$p" "$n")
			row "$sec" kernel_load mixed "$n" "$kms" ms
			t=$(date +%s%N)
			ip -n "$NS_CP" xfrm policy list > /dev/null
			row "$sec" ip_xfrm_policy_list mixed "$n" $((($(date +%s%N) - t) / 1000000)) ms
			cp_start "$pin"
			row "$sec" initial_sync mixed "$n" "$(cp_wait_ms "$pin" "$loaded")" ms
			mem1=$(map_memlock "$pin")
			rss1=$(rss_kb "$CP_PID")
			row "$sec" bytes_per_policy mixed "$n" \
				$(((mem1 - mem0 + (rss1 - rss0) * 1024) / loaded)) bytes
			note "spdctl $p N=$n: $loaded policies; map memlock +$((mem1 - mem0)) B, daemon RSS +$((rss1 - rss0)) kB"
			t=$(date +%s%N)
			ip netns exec "$NS_CP" "$XFRMBPF" --pin-dir "$pin" status -j > "$RUN_DIR/status.json"
			row "$sec" status mixed "$n" $((($(date +%s%N) - t) / 1000000)) ms
			note "spdctl $p N=$n classifier: $(jq -c '[.shape_lists[] | {list, policies, shapes, tables, undecidable}]' "$RUN_DIR/status.json")"
			[ "$n" = "$SPDCTL_LAT_N" ] && spdctl_latency "$sec" "$n"
			# What the maps really take: the slab their elements
			# free when the daemon and the pins are gone.
			ids=$(pinned_map_ids "$pin")
			slab1=$(slab_kb)
			stop_pid "$CP_PID"
			rm -rf "$pin"
			slab0=$(slab_settled_kb $ids)
			row "$sec" slab_bytes_per_policy mixed "$n" \
				$(((slab1 - slab0) * 1024 / loaded)) bytes
			row "$sec" real_bytes_per_policy mixed "$n" \
				$((((slab1 - slab0) + (rss1 - rss0)) * 1024 / loaded)) bytes
			note "spdctl $p N=$n: slab freed with the maps $((slab1 - slab0)) kB (memlock said +$(((mem1 - mem0) / 1024)) kB)"
			ip -n "$NS_CP" xfrm policy flush
		done
	done
}

# ---- report ----

val() {
	awk -F, -v s="$1" -v c="$2" -v f="$3" -v n="$4" \
		'$1 == s && $2 == c && $3 == f && $4 == n { print $5; exit }' "$CSV"
}

# ratio NAME A B GOAL: prints A/B against the goal.
goal() {
	local name=$1 a=$2 b=$3 limit=$4

	if [ -z "$a" ] || [ -z "$b" ]; then
		printf '  %-58s %s\n' "$name" "not measured"
		return
	fi
	awk -v n="$name" -v a="$a" -v b="$b" -v g="$limit" 'BEGIN {
		r = b > 0 ? a / b : 0
		printf "  %-58s %6.2fx  (goal <= %.2fx: %s)\n", n, r, g,
			r <= g ? "met" : sprintf("missed by %.0f%%", (r / g - 1) * 100)
	}'
}

# The drop section's paced rate, from its note.
drop_paced_mpps() {
	sed -n 's/^# drop: paced at \([0-9.]*\) Mpps.*/\1/p' "$CSV" | head -1
}

# Drop goals at n for the receive CPU rows *_$2, labelled $3, of the case
# set $4 (DROP_SET) against the kernel with goal $5.
drop_goals() {
	local n=$1 m=$2 label=$3 set=${4:-} kgoal=${5:-0.6} k x b p

	k=$(val drop "${set}kernel_$m" v4 "$n")
	x=$(val drop "${set}xfrmbpf_$m" v4 "$n")
	b=$(val drop "${set}bare_xdp_drop_$m" v4 "$n")
	p=$(val drop "${set}parse_drop_$m" v4 "$n")
	[ -n "$x" ] && [ -n "$b" ] &&
		echo "  drop ${set}N=$n receive CPU, $label: xfrmbpf $x ns, parse+drop $p ns, bare XDP_DROP $b ns, kernel $k ns"
	goal "drop ${set}N=$n $label: xfrmbpf / parse+XDP_DROP (info)" "$x" "$p" 1.15
	goal "drop ${set}N=$n $label: xfrmbpf / bare XDP_DROP" "$x" "$b" 1.15
	goal "drop ${set}N=$n $label: xfrmbpf / kernel policy drop" "$x" "$k" "$kgoal"
}

# A line for each size at which most of a profile's packets passed as
# undecidable: its miss figure is then the cost of passing, not of deciding.
spd_undecided() {
	sed -n "s/^# spd $1: miss $2 N=\([0-9]*\) reasons:.*pass_undecidable \([0-9.]*\)%.*/\1 \2/p" "$CSV" |
		while read -r n pct; do
			awk -v p="$pct" 'BEGIN { exit !(p > 50) }' &&
				echo "  spd $1 $2 N=$n: $pct% of packets undecidable (a list past its tables): its miss figure measures passing"
		done
}

report() {
	local t=$RES/results.txt f hit floor lookup

	{
		echo "xfrmbpf benchmarks ($(sed -n 's/^date=//p' "$RES/env.txt"))"
		sed 's/^/  /' "$RES/env.txt"
		echo "  loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
		echo
		printf '%-9s %-28s %-4s %8s %12s %s\n' section case fam N value unit
		grep -v '^#' "$CSV" | tail -n +2 |
			awk -F, '{ printf "%-9s %-28s %-4s %8s %12s %s\n", $1, $2, $3, $4, $5, $6 }'
		echo
		grep '^# miss\|^# v[46] N=.*side by side\|^# drop\|^# control\|^# latency\|^# spd .*\(reasons\|fwd main\|side by side\)\|^# spdctl' "$CSV" || true
		echo
		echo "Goals (ratios measured in this run):"
		for f in v4 v6; do
			goal "classify $f: cache miss at 100k / at 1 policy, side by side" \
				"$(val classify miss_ratio $f 100000)" 1 1.3
			goal "classify $f: cache miss at 100k / at 1 policy, apart (info)" \
				"$(val classify miss $f 100000)" "$(val classify miss $f 1)" 1.3
			goal "classify $f: cache miss at 100k / at 100 (info: 12 shapes at both)" \
				"$(val classify miss $f 100000)" "$(val classify miss $f 100)" 1.3
			hit=$(val classify hit $f 100000)
			lookup=$(val classify floor_lookup $f 100000)
			goal "classify $f: cache hit / (floor + one hash lookup)" "$hit" "$lookup" 1.2
			goal "classify $f: cache hit / (floor + FIB lookup) (info)" "$hit" \
				"$(val classify floor_fib $f 100000)" 1.2
		done
		for p in $SPD_PROFILES; do
			for f in v4 v6; do
				spd_undecided "$p" "$f"
				goal "spd $p $f: cache miss at $SPD_GOAL_N / at 1 policy, side by side" \
					"$(val "spd-$p" miss_ratio $f "$SPD_GOAL_N")" 1 2
				goal "spd $p $f: cache miss at $SPD_GOAL_N / at 1 policy, apart (info)" \
					"$(val "spd-$p" miss $f "$SPD_GOAL_N")" "$(val "spd-$p" miss $f 1)" 2
				goal "spd $p $f: cache miss at $SPD_MAX / at 1 policy, side by side (info)" \
					"$(val "spd-$p" miss_ratio $f "$SPD_MAX")" 1 2
			done
		done
		for n in 1 10000; do
			drop_goals "$n" rx_cpu saturated
			drop_goals "$n" rx_cpu_paced "paced at $(drop_paced_mpps) Mpps"
			goal "drop N=$n: xfrmbpf / bare XDP_DROP (XDP program time, info)" \
				"$(val drop xfrmbpf_xdp_prog v4 $n)" "$(val drop bare_xdp_drop_xdp_prog v4 $n)" 1.15
		done
		# realistic rule set, new flows: the goal is 0.35x the kernel
		drop_goals "$DROP_RS_N" rx_cpu saturated "${DROP_RS_PROFILE}_" 0.35
		drop_goals "$DROP_RS_N" rx_cpu_paced "paced at $(drop_paced_mpps) Mpps" \
			"${DROP_RS_PROFILE}_" 0.35
		goal "control: initial mirror / ip xfrm policy list ($CP_N)" \
			"$(val control initial_sync all "$CP_N")" \
			"$(val control ip_xfrm_policy_list all "$CP_N")" 2
		goal "control: event latency p99 (add) / 1 ms" \
			"$(val control event_add_p99 all "$CP_N")" 1000 1
		goal "control: event latency p99 (del) / 1 ms" \
			"$(val control event_del_p99 all "$CP_N")" 1000 1
		goal "control: bytes per mirrored policy / 256" \
			"$(val control bytes_per_policy all "$CP_N")" 256 1
		local big
		for p in $SPD_PROFILES; do
			big=${SPDCTL_SIZES##* }
			[ "$p" = "$SPDCTL_1M" ] && big=1000000
			goal "spdctl $p: initial mirror / ip xfrm policy list ($big)" \
				"$(val "spdctl-$p" initial_sync mixed "$big")" \
				"$(val "spdctl-$p" ip_xfrm_policy_list mixed "$big")" 2
			goal "spdctl $p: event latency p99 (add) / 1 ms ($SPDCTL_LAT_N)" \
				"$(val "spdctl-$p" event_add_p99 mixed "$SPDCTL_LAT_N")" 1000 1
			goal "spdctl $p: event latency p99 (del) / 1 ms ($SPDCTL_LAT_N)" \
				"$(val "spdctl-$p" event_del_p99 mixed "$SPDCTL_LAT_N")" 1000 1
			goal "spdctl $p: bytes per mirrored policy / 256 ($big)" \
				"$(val "spdctl-$p" bytes_per_policy mixed "$big")" 256 1
			goal "spdctl $p: bytes per mirrored policy, maps by slab / 256 ($big)" \
				"$(val "spdctl-$p" real_bytes_per_policy mixed "$big")" 256 1
		done
	} > "$t"
	cat "$t"
}

plot() {
	command -v gnuplot >/dev/null || return 0
	local v c f

	for c in floor floor_lookup floor_fib hit miss; do
		for f in v4 v6; do
			awk -F, -v c="$c" -v f="$f" '$1 == "classify" && $2 == c && $3 == f {
				print $4, $5 }' "$CSV" > "$RES/classify-$c-$f.dat"
		done
	done
	# "case@N saturated paced" (- where a run of an older script has none)
	awk -F, '$1 == "drop" && $2 ~ /_rx_cpu(_paced)?$/ {
		paced = sub(/_rx_cpu_paced$/, "", $2); sub(/_rx_cpu$/, "", $2)
		k = $2 "@" $4; if (!(k in seen)) { seen[k]; order[++n] = k }
		if (paced) pac[k] = $5; else sat[k] = $5 }
		END { for (i = 1; i <= n; i++) { k = order[i]
			print k, (k in sat) ? sat[k] : "-", (k in pac) ? pac[k] : "-" } }' \
		"$CSV" > "$RES/drop.dat"
	gnuplot -e "dir='$RES'" -e "drop_paced='$(drop_paced_mpps)'" \
		-e "has_classify=$([ -s "$RES/classify-miss-v4.dat" ] && echo 1 || echo 0)" \
		-e "has_drop=$([ -s "$RES/drop.dat" ] && echo 1 || echo 0)" -e "title_env='$(uname -r), $(sed -n 's/^cpu=//p' "$RES/env.txt" | tr -d "'")'" \
		"$TOP/scripts/bench.gnuplot" 2>>"$RES/gnuplot.log" ||
		log "warning: gnuplot failed (see $RES/gnuplot.log)"
}

main() {
	[ "$(id -u)" = 0 ] || die "run as root (namespaces, BPF, XDP)"
	for b in bench_classify bench_txgen bench_attach bench_ctl bench_spd bench.bpf.o; do
		[ -e "$OUT/$b" ] || die "$OUT/$b missing: run 'make bench'"
	done
	[ -x "$XFRMBPF" ] || die "$XFRMBPF missing: run 'make'"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$RUN_DIR/bpffs" "$RES"
	mount -t bpf xbt-bench-bpffs "$RUN_DIR/bpffs" || die "cannot mount a bpffs"
	ensure_tool gnuplot gnuplot-nox
	ensure_tool ethtool ethtool
	record_env
	for s in $SECTIONS; do
		case $s in
		classify) bench_classify ;;
		spd) bench_spd_profiles ;;
		spdctl) bench_spdctl ;;
		drop) bench_drop ;;
		control) bench_control ;;
		*) die "unknown section $s" ;;
		esac
	done
	note "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
	report
	plot
	log "results in $RES: results.csv results.txt classify.png drop.png env.txt"
}

main "$@"
