#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Kernel equivalence of the datapath: a lan - gw - wan namespace lab, random
# SPDs installed with `ip xfrm` in gw, the same packets sent from lan twice,
# without and with `xfrmbpf run -i <gw's lan veth>`. Every packet the kernel
# alone delivers (to gw) or forwards (to wan) must arrive with xfrmbpf too,
# and every packet xfrmbpf drops must be one the kernel drops (no arrival,
# an XfrmIn* counter of gw moved for it). tests/integration/equiv/ holds the
# generators, the sender, the receivers and the comparison.
#
#   EQUIV_SEED=N     base seed (round r uses N + r - 1; printed, replayable)
#   EQUIV_ROUNDS=N   random rounds after the empty-SPD baseline (default 6)
#   EQUIV_PACKETS=N  packets per round (default 300)
#   EQUIV_REALISTIC=N  policies of the last round's realistic rule set
#                    (tests/lib/ruleset_gen.h through bench_ruleset: fw
#                    profile FWD and acl profile IN over IPv4, ipc profile
#                    FWD over IPv6, documentation addresses; default 10000,
#                    0 for none)
#   XB_EQUIV_SEED=N  alias of EQUIV_SEED (wins over it)
#   EQUIV_SHAPES_PACKETS=N  packets per environment of the packet-shape
#                    rounds (equiv/shapes.py; default 1300, 0 for none)
#
# The packet-shape rounds: a twin gw (K, the kernel alone) beside gw (X,
# xfrmbpf attached all along), both fed the same frames from lan at once
# (shapes_run.py). Odd shapes (truncated L4, trailers, IPv4 options, IPv6
# extension-header chains, GRE flags, fragments, link-local, broadcast and
# multicast, TTL 0-2, VLAN) against an SPD of blocks that would decide
# them, one round per environment set up identically in both gws (nft
# DNAT/mangle at prerouting, ip rules by tos, fwmark, iif, uidrange and
# suppress_prefixlength over local route tables, a bridge port, a VLAN
# device with its own ip rule or disable_policy).
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

EQ=$TOP/tests/integration/equiv
SEED=${XB_EQUIV_SEED:-${EQUIV_SEED:-$(( $(date +%s) % 1000000 ))}}
ROUNDS=${EQUIV_ROUNDS:-6}
PACKETS=${EQUIV_PACKETS:-300}
REALISTIC=${EQUIV_REALISTIC:-10000}
RULESET=$TOP/build/bench/bench_ruleset
SHAPES_PACKETS=${EQUIV_SHAPES_PACKETS:-1300}

xbt_setup eq-gw
# The interpreter itself, not a version-manager shim: it starts many times.
PY=$(python3 -c 'import sys; print(sys.executable)') || xbt_bail "python3 does not run"
GW=$XBT_NS
LAN=xbt-eq-lan-$$
WAN=xbt-eq-wan-$$
GWK=xbt-eq-gwk-$$
RECV_PIDS=()

eq_cleanup() {
	local rc=$? pid

	for pid in "${RECV_PIDS[@]}"; do
		xbt_kill_pid "$pid"
	done
	ip netns del "$LAN" 2>/dev/null
	ip netns del "$WAN" 2>/dev/null
	ip netns del "$GWK" 2>/dev/null
	(exit "$rc")
	xbt_cleanup
}
trap eq_cleanup EXIT

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# A namespace that never talks on its own: no IPv6 (no DAD, RS or MLD),
# no IPv4 address, so the only frames on gw's lan side are test packets.
silent_ns() {
	local ns=$1 dev=$2

	in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 "net.ipv6.conf.$dev.disable_ipv6=1" &&
	ip -n "$ns" link set lo up && ip -n "$ns" link set "$dev" up
}

lab_setup() {
	local wanmac h

	ip netns add "$LAN" && ip netns add "$WAN" || return 1
	ip -n "$GW" link add xbt-gwl0 type veth peer name xbt-lan0 netns "$LAN" &&
	ip -n "$GW" link add xbt-gww0 type veth peer name xbt-wan0 netns "$WAN" || return 1
	silent_ns "$LAN" xbt-lan0 && silent_ns "$WAN" xbt-wan0 || return 1
	in_ns "$GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 || return 1
	ip -n "$GW" addr add 192.0.2.1/24 dev xbt-gwl0 &&
	ip -n "$GW" addr add 2001:db8:1::1/64 dev xbt-gwl0 nodad &&
	ip -n "$GW" addr add 198.51.100.1/24 dev xbt-gww0 &&
	ip -n "$GW" addr add 2001:db8:2::1/64 dev xbt-gww0 nodad &&
	ip -n "$GW" link set xbt-gwl0 up && ip -n "$GW" link set xbt-gww0 up || return 1
	# wan has no addresses: gw reaches its hosts through permanent
	# neighbours, the packet socket in wan sees the frames.
	wanmac=$(in_ns "$WAN" cat /sys/class/net/xbt-wan0/address) || return 1
	for h in $("$PY" -c "import sys; sys.path.insert(0, '$EQ'); import lab
print(' '.join(lab.WAN_HOSTS4 + lab.WAN_HOSTS6))"); do
		ip -n "$GW" neigh replace "$h" lladdr "$wanmac" dev xbt-gww0 nud permanent ||
			return 1
	done
	ip -n "$GW" route add 203.0.113.0/24 via 198.51.100.2 &&
	ip -n "$GW" -6 route add 2001:db8:3::/64 via 2001:db8:2::2
}

# start_receiver NS gw|wan: a receiver in NS, its log in $XBT_DIR.
start_receiver() {
	local ns=$1 kind=$2

	# ip netns exec execs in place: $! is the receiver, in NS (gw's
	# xfrm_stat is read through /proc/$!/net).
	ip netns exec "$ns" "$PY" "$EQ/recv.py" "$kind" "$XBT_DIR/recv-$kind.log" \
		"$XBT_DIR/recv-$kind.ready" </dev/null 2>>"$XBT_DIR/recv-$kind.err" &
	RECV_PIDS+=("$!")
	wait_for 5 test -e "$XBT_DIR/recv-$kind.ready"
}

# send_run TAG OUT [PIN]: the packet set of $round_seed from lan.
send_run() {
	in_ns "$LAN" "$PY" "$EQ/send.py" --seed "$round_seed" --count "$PACKETS" \
		--tag "$1" --dst-mac "$GW_MAC" --xfrm-stat "/proc/${RECV_PIDS[0]}/net/xfrm_stat" \
		--logs "$XBT_DIR/recv-gw.log,$XBT_DIR/recv-wan.log" \
		--reasons-h "$TOP/include/xfrmbpf/reasons.h" --out "$2" ${3:+--pin-dir "$3"}
}

xdp_attached() {
	ip -n "$GW" link show xbt-gwl0 | grep -q 'prog/xdp'
}

# install_spd SEED: flush gw's SPD, then the round's SPD (none for "empty").
install_spd() {
	local seed=$1 spec

	ip -n "$GW" xfrm policy flush && ip -n "$GW" xfrm policy flush ptype sub &&
	ip -n "$GW" xfrm policy setdefault in accept fwd accept out accept &&
	in_ns "$GW" sysctl -qw net.ipv4.conf.xbt-gwl0.disable_policy=0 \
		net.ipv6.conf.xbt-gwl0.disable_policy=0 net.ipv4.conf.xbt-gww0.disable_policy=0 \
		net.ipv6.conf.xbt-gww0.disable_policy=0 || return 1
	[ "$seed" = empty ] && { echo "empty SPD"; return 0; }
	[ "${seed%%-*}" = realistic ] && { install_realistic "${seed#realistic-}"; return; }
	"$PY" "$EQ/spdgen.py" "$seed" "$XBT_DIR/spd" || return 1
	ip -n "$GW" -batch "$XBT_DIR/spd.batch" || return 1
	in_ns "$GW" sysctl -qw $(cat "$XBT_DIR/spd.sysctl") || return 1
	while read -r spec; do
		in_ns "$GW" "$PY" "$SPD_COMPARE" --nl-add-policy "$spec" || return 1
	done <"$XBT_DIR/spd.nl"
}

# install_realistic SEED: a realistic rule set of REALISTIC policies in
# gw's flushed SPD: 40% fw FWD IPv4, 20% acl IN IPv4, 40% ipc FWD IPv6.
install_realistic() {
	local seed=$1 out

	: >"$XBT_DIR/spd.batch"; : >"$XBT_DIR/spd.nl"; : >"$XBT_DIR/spd.sysctl"
	out=$(in_ns "$GW" "$RULESET" -p fw -f 4 -n $((REALISTIC * 2 / 5)) -d -s "$seed" &&
	      in_ns "$GW" "$RULESET" -p acl -f 4 -n $((REALISTIC / 5)) -d -i -s "$seed" &&
	      in_ns "$GW" "$RULESET" -p ipc -f 6 -n $((REALISTIC * 2 / 5)) -s "$seed") ||
		{ echo "$out"; return 1; }
	echo "realistic rule sets:" $(grep -v '^#' <<<"$out" | cut -d' ' -f2)
}

# check_indexed: every shape list of more than 8 tables is searched
# through its candidate index (XFRMBPF_INDEX_MIN_TABLES=8: the packets then
# test the index).
check_indexed() {
	local out

	if out=$(xb status -j | "$PY" -c '
import json, sys
lists = json.load(sys.stdin)["shape_lists"]
big = [l for l in lists if l["tables"] > 8]
bad = [l["list"] for l in big if not l["indexed"]]
for l in big:
    print("#   %s: %d tables, %d index entries, indexed %s" %
          (l["list"], l["tables"], l["index_entries"], l["indexed"]))
sys.exit(1 if bad or not big else 0)'); then
		tap_ok "$name: the big shape lists are indexed"
	else
		tap_fail "$name: the big shape lists are indexed" "$out"
	fi
	echo "$out"
}

# with_half TAG OUT: the same packets with xfrmbpf attached to gw's lan veth.
with_half() {
	local tag=$1 out=$2 rc=0

	# the realistic lists go through the candidate index, which the
	# daemon uses by default only on lists of more than 256 tables
	[[ $name == realistic* ]] && export XFRMBPF_INDEX_MIN_TABLES=8
	xbt_daemon_start -i xbt-gwl0
	unset XFRMBPF_INDEX_MIN_TABLES
	if ! xbt_daemon_wait_synced 10 || ! xdp_attached; then
		echo "xfrmbpf did not attach and sync"
		xbt_daemon_stop
		return 1
	fi
	# A mirror that differs from the kernel is a failure of its own; the
	# packets still go, to show what the difference does to them.
	if ! wait_for 5 xbt_converged; then
		tap_fail "$name (seed $round_seed): mirror equals the kernel before sending" \
			"xfrmbpf check / spd_compare disagree:"
		{ xb check; xbt_spd_compare; } 2>&1 | grep -v '^  ' | head -10 | sed 's/^/#     /'
	fi
	[[ $name == realistic* ]] && check_indexed
	xb stats -j >"$out.stats-before" || rc=1
	send_run "$tag" "$out" "$XBT_PIN" || rc=1
	xb stats -j >"$out.stats-after" || rc=1
	if ! xbt_daemon_stop; then
		echo "xfrmbpf run did not exit cleanly"
		rc=1
	fi
	if xdp_attached; then
		echo "XDP program still attached after the daemon exited"
		rc=1
	fi
	return $rc
}

# run_round NUM NAME SEED: one round; TAP lines and the per-round numbers.
run_round() {
	local num=$1 name=$2 seed=$3 out rc

	round_seed=${seed/empty/$SEED}
	round_seed=${round_seed#realistic-}
	if ! out=$(install_spd "$seed" 2>&1); then
		tap_fail "$name (seed $round_seed): SPD installed" "$out"
		return
	fi
	echo "# $name: seed $seed, $out," \
		"$(ip -n "$GW" xfrm policy list nosock | grep -c '^src') policies in the kernel"
	tag=$((tag + 2))
	if ! out=$(send_run "$tag" "$XBT_DIR/without.json" 2>&1); then
		tap_fail "$name: packets sent without xfrmbpf" "$out"
		return
	fi
	if [ "$HAVE_RUN_I" != 1 ]; then
		"$PY" -c "
import json, sys
d = json.load(open('$XBT_DIR/without.json'))
n = sum(1 for p in d['packets'] if p['where'])
print('#   without xfrmbpf: %d/%d delivered, gw xfrm_stat %s' % (n, len(d['packets']), d['xfrm_total']))"
		return
	fi
	if ! with_half $((tag + 1)) "$XBT_DIR/with.json" >"$XBT_DIR/with.out" 2>&1; then
		tap_fail "$name (seed $round_seed): packets sent with xfrmbpf"
		cat "$XBT_DIR/with.out"
		return
	fi
	cat "$XBT_DIR/with.out"
	out=$("$PY" "$EQ/compare.py" "$num" "$XBT_DIR/without.json" \
		"$XBT_DIR/with.json" "$PACKETS" "$XBT_DIR/with.json.stats-before" \
		"$XBT_DIR/with.json.stats-after")
	rc=$?
	echo "$out"
	if [ $rc -eq 0 ]; then
		tap_ok "$name (seed $round_seed): kernel-equivalent"
	else
		tap_fail "$name (seed $round_seed): kernel-equivalent" \
			"replay: EQUIV_SEED=$SEED EQUIV_ROUNDS=$num $0" \
			"(rounds share gw and the pins; this round alone: EQUIV_SEED=$round_seed EQUIV_ROUNDS=1)"
		mkdir -p "$TOP/build/test-logs"
		cp "$XBT_DIR/spd.batch" "$TOP/build/test-logs/equiv-$round_seed.batch"
		cp "$XBT_DIR/spd.nl" "$TOP/build/test-logs/equiv-$round_seed.nl"
		cp "$XBT_DIR/spd.sysctl" "$TOP/build/test-logs/equiv-$round_seed.sysctl"
		echo "#   its SPD: build/test-logs/equiv-$round_seed.{batch,nl,sysctl}"
	fi
}

# --- packet-shape rounds --------------------------------------------------

# twin_gw NS: gw's addresses, routes and permanent wan neighbours in NS
# (the kernel twin K), with the fixed MACs of both twins (shapes.py).
twin_gw() {
	local ns=$1 h

	ip -n "$ns" link set xbt-gwl0 address 02:58:42:00:00:01 &&
	ip -n "$ns" link set xbt-gww0 address 02:58:42:00:00:03 || return 1
	if [ "$ns" != "$GW" ]; then
		in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
			net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 &&
		ip -n "$ns" addr add 192.0.2.1/24 dev xbt-gwl0 &&
		ip -n "$ns" addr add 2001:db8:1::1/64 dev xbt-gwl0 nodad &&
		ip -n "$ns" addr add 198.51.100.1/24 dev xbt-gww0 &&
		ip -n "$ns" addr add 2001:db8:2::1/64 dev xbt-gww0 nodad &&
		ip -n "$ns" link set lo up && ip -n "$ns" link set xbt-gwl0 up &&
		ip -n "$ns" link set xbt-gww0 up || return 1
	fi
	for h in $("$PY" -c "import sys; sys.path.insert(0, '$EQ'); import lab
print(' '.join(lab.WAN_HOSTS4 + lab.WAN_HOSTS6))"); do
		ip -n "$ns" neigh replace "$h" lladdr 02:58:42:00:00:04 dev xbt-gww0 \
			nud permanent || return 1
	done
	if [ "$ns" != "$GW" ]; then
		ip -n "$ns" route add 203.0.113.0/24 via 198.51.100.2 &&
		ip -n "$ns" -6 route add 2001:db8:3::/64 via 2001:db8:2::2 || return 1
	fi
	"$PY" "$EQ/shapes.py" base up | in_ns "$ns" sh -e
}

twin_setup() {
	local d

	ip netns add "$GWK" && ip -n "$GWK" link set lo up &&
	ip -n "$GWK" link add xbt-gwl0 type veth peer name xbt-lan1 netns "$LAN" &&
	ip -n "$GWK" link add xbt-gww0 type veth peer name xbt-wan1 netns "$WAN" || return 1
	for d in xbt-lan0 xbt-lan1; do
		in_ns "$LAN" sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1" &&
		ip -n "$LAN" link set "$d" address 02:58:42:00:00:02 &&
		ip -n "$LAN" link set "$d" up || return 1
	done
	for d in xbt-wan0 xbt-wan1; do
		in_ns "$WAN" sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1" &&
		ip -n "$WAN" link set "$d" address 02:58:42:00:00:04 &&
		ip -n "$WAN" link set "$d" up || return 1
	done
	twin_gw "$GW" && twin_gw "$GWK"
}

# both CMD...: the same command in X's gw and in K's.
both() {
	in_ns "$GW" "$@" && in_ns "$GWK" "$@"
}

# both_sh: stdin as `sh -e` in both gws.
both_sh() {
	local script
	script=$(cat)
	[ -z "$script" ] && return 0
	in_ns "$GW" sh -ec "$script" && in_ns "$GWK" sh -ec "$script"
}

shape_spd() {
	local ns

	for ns in "$GW" "$GWK"; do
		ip -n "$ns" xfrm policy flush && ip -n "$ns" xfrm policy flush ptype sub &&
		ip -n "$ns" -batch "$XBT_DIR/shapes.spd" || return 1
	done
}

# X's lan veth as the daemon reports it is what ENV makes it.
shape_flags_are() {
	local env=$1 nf=false st=false

	[ "$env" = nat ] && nf=true
	[ "$env" = bridge ] && st=true
	xb status -j 2>/dev/null | jq -e --argjson nf "$nf" --argjson st "$st" \
		'[.interfaces[] | select(.name == "xbt-gwl0")][0] |
		 .netfilter_prerouting_ipv4 == $nf and .netfilter_prerouting_ipv6 == $nf and
		 .stacked == $st'
}

start_recvx() {
	local ns=$1 tag=$2
	shift 2

	ip netns exec "$ns" "$PY" "$EQ/recvx.py" "$@" "$XBT_DIR/$tag.log" \
		"$XBT_DIR/$tag.ready" </dev/null 2>>"$XBT_DIR/$tag.err" &
	RECV_PIDS+=("$!")
	wait_for 5 test -e "$XBT_DIR/$tag.ready"
}

shape_rounds() {
	local envs env i=0 seed out rc start=$SECONDS pid total=0 fails=0

	# the trailer receivers hold the IKE ports: the shape receivers' now
	for pid in "${RECV_PIDS[@]}"; do
		xbt_kill_pid "$pid"
	done
	RECV_PIDS=()
	if ! out=$(twin_setup 2>&1); then
		tap_fail "shapes: twin labs set up" "$out"
		return
	fi
	start_recvx "$GW" shx-gw gw && start_recvx "$GWK" shk-gw gw &&
	start_recvx "$WAN" shx-wan wan xbt-wan0 && start_recvx "$WAN" shk-wan wan xbt-wan1 ||
		{ tap_fail "shapes: receivers started"; return; }
	install_spd empty >/dev/null && both sysctl -qw \
		net.ipv4.conf.xbt-gwl0.disable_policy=0 net.ipv6.conf.xbt-gwl0.disable_policy=0 ||
		{ tap_fail "shapes: SPD reset"; return; }
	xbt_daemon_start -i xbt-gwl0
	if ! xbt_daemon_wait_synced 10 || ! xdp_attached; then
		tap_fail "shapes: xfrmbpf attached and synced"
		xbt_daemon_stop
		return
	fi
	envs=$("$PY" "$EQ/shapes.py" envs)
	echo "# shapes: seed $SEED (XB_EQUIV_SEED=$SEED replays), $SHAPES_PACKETS packets" \
		"per environment: $envs"
	for env in $envs; do
		seed=$((SEED + i))
		if [ "${env#vlan}" != "$env" ] && ! ip -n "$GW" link add link xbt-gwl0 \
			name xbt-vprobe type vlan id 4000 2>/dev/null; then
			tap_skip "shapes $env" "this kernel has no VLAN devices (CONFIG_VLAN_8021Q)"
			i=$((i + 1))
			continue
		fi
		ip -n "$GW" link del xbt-vprobe 2>/dev/null
		if ! out=$("$PY" "$EQ/shapes.py" spd "$seed" "$XBT_DIR/shapes.spd" 2>&1) ||
			! shape_spd 2>&1 || ! "$PY" "$EQ/shapes.py" env "$env" up | both_sh 2>&1; then
			tap_fail "shapes $env (seed $seed): environment and SPD set up" "$out"
			"$PY" "$EQ/shapes.py" env "$env" down | both_sh >/dev/null 2>&1
			i=$((i + 1))
			continue
		fi
		echo "# shapes $env: $out"
		if ! wait_for 5 shape_flags_are "$env" || ! wait_for 5 xbt_converged; then
			tap_fail "shapes $env (seed $seed): xfrmbpf follows the environment" \
				"status: $(xb status -j | jq -c '.interfaces')"
		fi
		out=$(in_ns "$LAN" "$PY" "$EQ/shapes_run.py" --seed "$seed" --env "$env" \
			--count "$SHAPES_PACKETS" --id-base $((i * SHAPES_PACKETS)) \
			--lan-x xbt-lan0 --lan-k xbt-lan1 \
			--logs-x "$XBT_DIR/shx-gw.log,$XBT_DIR/shx-wan.log" \
			--logs-k "$XBT_DIR/shk-gw.log,$XBT_DIR/shk-wan.log" \
			--xstat-x "/proc/${RECV_PIDS[0]}/net/xfrm_stat" \
			--xstat-k "/proc/${RECV_PIDS[1]}/net/xfrm_stat" \
			--pin-dir "$XBT_PIN" --reasons-h "$TOP/include/xfrmbpf/reasons.h" \
			--spd "$XBT_DIR/shapes.spd" 2>&1)
		rc=$?
		echo "$out"
		total=$((total + SHAPES_PACKETS))
		if [ $rc -eq 0 ]; then
			tap_ok "shapes $env (seed $seed): kernel-equivalent"
		else
			fails=$((fails + 1))
			tap_fail "shapes $env (seed $seed): kernel-equivalent" \
				"replay: XB_EQUIV_SEED=$SEED EQUIV_ROUNDS=0 EQUIV_REALISTIC=0 $0"
		fi
		if ! out=$("$PY" "$EQ/shapes.py" env "$env" down | both_sh 2>&1); then
			tap_fail "shapes $env: environment taken down" "$out"
			break
		fi
		i=$((i + 1))
	done
	xbt_daemon_stop || tap_fail "shapes: xfrmbpf run exited cleanly"
	echo "# shapes: $total packets in $((SECONDS - start)) s, seed $SEED," \
		"$fails environment(s) with differences"
}

lab_setup || xbt_bail "lab setup failed"
GW_MAC=$(in_ns "$GW" cat /sys/class/net/xbt-gwl0/address)
start_receiver "$GW" gw || xbt_bail "receiver in gw did not start"
start_receiver "$WAN" wan || xbt_bail "receiver in wan did not start"

HAVE_RUN_I=0
if [ -x "$XFRMBPF" ] && "$XFRMBPF" run --help 2>&1 | grep -q -- '-i'; then
	HAVE_RUN_I=1
fi

# Baseline: an empty SPD delivers and forwards every packet; this proves
# the lab (routes, neighbours, receivers) before any policy is judged.
tag=0
round_seed=$SEED
install_spd empty >/dev/null || xbt_bail "cannot reset gw's SPD"
if send_run 1000 "$XBT_DIR/base.json" &&
	"$PY" -c "
import json, sys
d = json.load(open('$XBT_DIR/base.json'))
bad = [p['id'] for p in d['packets'] if not p['where']]
print('#   empty SPD: %d/%d packets arrived' % (len(d['packets']) - len(bad), len(d['packets'])))
sys.exit(1 if bad else 0)"; then
	tap_ok "lab: with an empty SPD every packet is delivered or forwarded"
else
	tap_fail "lab: with an empty SPD every packet is delivered or forwarded"
	exit 1
fi

if [ "$HAVE_RUN_I" != 1 ]; then
	tap_skip "kernel equivalence with xfrmbpf attached" "this build has no 'xfrmbpf run -i'"
fi
echo "# base seed $SEED, $ROUNDS rounds, $PACKETS packets each"
run_round 0 "baseline (empty SPD)" empty
for r in $(seq 1 "$ROUNDS"); do
	run_round "$r" "round $r" $((SEED + r - 1))
done
if [ "$REALISTIC" -gt 0 ]; then
	run_round $((ROUNDS + 1)) "realistic $REALISTIC-policy rule sets" "realistic-$SEED"
fi
[ "$HAVE_RUN_I" = 1 ] && [ "$SHAPES_PACKETS" -gt 0 ] && shape_rounds
tap_skip "ESP/AH with an unknown SPI dropped as the kernel does" \
	"this kernel has no ESP: no SA can be installed, so no SPI can be known or unknown to it"
tap_done
