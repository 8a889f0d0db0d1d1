#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `run --spread-esp` (issue 15) in a 4-vCPU guest. A sender namespace (snd)
# and a receiver (rcv) over a veth; 64 ESP transport SAs snd -> rcv, one
# per UDP destination port 5000-5063 (replay window 64), plus SAs for
# echo requests and a TCP connection (port 6000, both ways). The sender is
# pinned to CPU 0 (taskset), so all of rcv's ESP arrives on CPU 0 (the
# veth's NAPI runs where the sender queued it).
#
# Where decryption runs is counted by the kernel itself: a kprobe event on
# xfrm_input (its first call per packet: encap_type != -1), one count per
# CPU from the trace buffers' per-CPU statistics; cross-checked with
# xfrmbpf's own packets per target CPU (stats -j: spread_cpus).
#
#   1. xfrmbpf without --spread-esp on rcv's veth (the baseline): paced
#      UDP over the 64 SAs, pings, a TCP transfer; all decrypted on CPU 0;
#      a 8 s blast of UDP for the throughput baseline;
#   2. the same with --spread-esp all: decrypted on all 4 CPUs, max/mean
#      per CPU <= 1.3, each CPU's kernel count equal to xfrmbpf's for it,
#      XfrmInStateSeqError 0, no more lost datagrams or pings and no more
#      TCP retransmissions than the baseline; the blast again (the ratio
#      is printed: relative figures only, the lab is emulated);
#   3. skb (generic) mode with --spread-esp all: not spread (the daemon
#      says so), all delivered as before. Generic XDP can redirect into a
#      cpumap (cpu_map_generic_redirect(), 5.15+) and did on 6.1, but on
#      Debian's 6.12 every such packet reached IP at its Ethernet header
#      (IpInHdrErrors, nothing delivered), so the daemon never asks it to;
#   4. per-CPU SAs (XFRMA_SA_PCPU = 35: Linux 6.13, and Debian's 6.12 has
#      them too), where the kernel's BTF has the attribute: four SAs added
#      over raw netlink (iproute2 6.1 has no pcpu-num) on CPUs 3, 2, 1, 0;
#      each SA's packets are decrypted on its own CPU; otherwise a SKIP.
set -u
# run.sh boots the guest with this many vCPUs (XB_* goes into the guest).
export XB_VM_CPUS=${XB_VM_CPUS:-4}
. "$(dirname "$0")/_lib.sh"
. "$(dirname "$0")/_vpn.sh"
vm_enter "$0" "$@"
require_root "spread esp"
vm_banner "spread_esp"

SND=xbt-sp-snd RCV=xbt-sp-rcv
S4=192.0.2.1 R4=192.0.2.2
NSA=64 PORT0=5000 TCP_PORT=6000
ROUNDS=${XB_SPREAD_ROUNDS:-20}	# paced datagrams per SA
BLAST_S=${XB_SPREAD_BLAST_S:-8}
PINGS=20
TCP_BYTES=$((1024 * 1024))
# Fixed test key: never used outside this lab.
KEY="aead rfc4106(gcm(aes)) 0x2b7e151628aed2a6abf7158809cf4f3c01020304 128"
TR=/sys/kernel/tracing
KP_GROUP=xbtspread
KP_EVENT=$TR/events/$KP_GROUP/xfrm_in
NCPU=$(nproc)
PIDS=()
# Which parts run (all by default): baseline spread skb pcpu.
PHASES=${XB_SPREAD_PHASES:-baseline spread skb pcpu}
want() { [[ " $PHASES " == *" $1 "* ]]; }

cleanup() {
	local p

	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	vpn_fini
	if [ -d "$KP_EVENT" ]; then
		echo 0 >"$KP_EVENT/enable"
		echo "-:$KP_GROUP/xfrm_in" >>"$TR/kprobe_events"
	fi
	ip netns del $SND 2>/dev/null
	ip netns del $RCV 2>/dev/null
}
trap cleanup EXIT

# sa_lines DIR: `ip -batch` lines of every SA and policy, the policies in
# direction DIR for snd -> rcv traffic (out on snd, in on rcv) and the
# other way for TCP's replies.
sa_lines() {
	local dir=$1 back i spi

	[ "$dir" = out ] && back=in || back=out
	for ((i = 0; i < NSA; i++)); do
		spi=$((0x10000 + i))
		echo "xfrm state add src $S4 dst $R4 proto esp spi $spi reqid $((100 + i)) mode transport replay-window 64 $KEY"
		echo "xfrm policy add src $S4/32 dst $R4/32 proto udp dport $((PORT0 + i)) dir $dir tmpl src $S4 dst $R4 proto esp reqid $((100 + i)) mode transport"
	done
	echo "xfrm state add src $S4 dst $R4 proto esp spi 0x20000 reqid 90 mode transport replay-window 64 $KEY"
	echo "xfrm state add src $R4 dst $S4 proto esp spi 0x20001 reqid 91 mode transport replay-window 64 $KEY"
	echo "xfrm policy add src $S4/32 dst $R4/32 proto tcp dport $TCP_PORT dir $dir tmpl src $S4 dst $R4 proto esp reqid 90 mode transport"
	echo "xfrm policy add src $R4/32 dst $S4/32 proto tcp sport $TCP_PORT dir $back tmpl src $R4 dst $S4 proto esp reqid 91 mode transport"
	echo "xfrm state add src $S4 dst $R4 proto esp spi 0x30000 reqid 92 mode transport replay-window 64 $KEY"
	echo "xfrm policy add src $S4/32 dst $R4/32 proto icmp type 8 dir $dir tmpl src $S4 dst $R4 proto esp reqid 92 mode transport"
}

setup() {
	modprobe -a esp4 veth xfrm_user || return 1
	ip netns add $SND && ip netns add $RCV || return 1
	ip link add xbt-sp0 netns $SND type veth peer name xbt-sp1 netns $RCV || return 1
	{
		echo "link set lo up"
		echo "addr add $S4/24 dev xbt-sp0"
		echo "link set xbt-sp0 up"
		sa_lines out
	} | ip -n $SND -batch - || return 1
	{
		echo "link set lo up"
		echo "addr add $R4/24 dev xbt-sp1"
		echo "link set xbt-sp1 up"
		sa_lines in
	} | ip -n $RCV -batch - || return 1
	ip netns exec $SND ping -c1 -W2 $R4 >/dev/null
}

# The kprobe event on xfrm_input's first call per packet (encap_type is
# -1 when it resumes after asynchronous crypto).
kprobe_setup() {
	[ -w "$TR/kprobe_events" ] || return 1
	echo "p:$KP_GROUP/xfrm_in xfrm_input encap=%cx:s32" >>"$TR/kprobe_events" || return 1
	echo 'encap != -1' >"$KP_EVENT/filter" || return 1
	echo 4096 >"$TR/buffer_size_kb"
	echo 1 >"$KP_EVENT/enable"
}

kprobe_reset() {
	echo 0 >"$TR/tracing_on"
	: >"$TR/trace"
	echo 1 >"$TR/tracing_on"
}

# kprobe_counts: "n0 n1 n2 n3": xfrm_input calls per CPU since the reset
# (entries kept plus those overwritten).
kprobe_counts() {
	local c out=()

	for ((c = 0; c < NCPU; c++)); do
		out+=("$(awk '/^entries:/ { e = $2 } /^overrun:/ { o = $2 } END { print e + o }' \
			"$TR/per_cpu/cpu$c/stats")")
	done
	echo "${out[*]}"
}

# xb_target_counts: "n0 n1 n2 n3": xfrmbpf's packets per target CPU.
xb_target_counts() {
	local c j out=()

	j=$(xbn stats -j)
	for ((c = 0; c < NCPU; c++)); do
		out+=("$(jq -r --argjson c "$c" '[.spread_cpus[] | select(.cpu == $c) | .packets]
			| add // 0' <<<"$j")")
	done
	echo "${out[*]}"
}

# sub_counts "A..." "B...": per-CPU B - A.
sub_counts() {
	local a=($1) b=($2) c out=()

	for ((c = 0; c < NCPU; c++)); do
		out+=($((b[c] - a[c])))
	done
	echo "${out[*]}"
}

# max_over_mean "n0 n1 ...": max/mean with two decimals (0 for no packets).
max_over_mean() {
	echo "$1" | awk '{ m = 0; s = 0; for (i = 1; i <= NF; i++) { s += $i; if ($i > m) m = $i }
		if (s == 0) print "0.00"; else printf "%.2f\n", m * NF / s }'
}

# cpus_used "n0 n1 ...": CPUs with a count.
cpus_used() {
	echo "$1" | awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i > 0) n++; print n }'
}

# receiver_start FILE: a UDP receiver in rcv on the 64 ports, any CPU;
# on SIGTERM it writes the datagrams it got to FILE.
RECV_PID=
receiver_start() {
	ip netns exec $RCV /usr/bin/python3 -c '
import select, signal, socket, sys
addr, port0, n, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((addr, port0 + i))
    s.setblocking(False)
    socks.append(s)
got = 0
def done(*_):
    open(out, "w").write("%d\n" % got)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
open(out + ".ready", "w").close()
while True:
    for s in select.select(socks, [], [], 1)[0]:
        while True:
            try:
                s.recv(2048)
            except BlockingIOError:
                break
            got += 1
' "$R4" "$PORT0" "$NSA" "$1" &
	RECV_PID=$!
	PIDS+=("$RECV_PID")
	wait_for 10 test -e "$1.ready"
}

receiver_stop() {
	kill -TERM "$RECV_PID" 2>/dev/null
	wait "$RECV_PID" 2>/dev/null
	RECV_PID=
	RECV_GOT=$(cat "$1" 2>/dev/null)
	rm -f "$1" "$1.ready"
}

# send_udp MODE ARG: from snd, pinned to CPU 0: "paced ROUNDS" sends ROUNDS
# datagrams to each of the 64 ports (round-robin, 0.5 ms apart); "blast
# SECONDS" sends as fast as it can for that long. Prints what it sent.
send_udp() {
	ip netns exec $SND taskset -c 0 /usr/bin/python3 -c '
import socket, sys, time
dst, port0, n, mode, arg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"x" * 256
sent = 0
if mode == "paced":
    for r in range(int(arg)):
        for i in range(n):
            s.sendto(payload, (dst, port0 + i))
            sent += 1
            time.sleep(0.0005)
else:
    end = time.time() + arg
    while time.time() < end:
        for i in range(n):
            try:
                s.sendto(payload, (dst, port0 + i))
                sent += 1
            except OSError:
                pass
print(sent)
' "$R4" "$PORT0" "$NSA" "$1" "$2"
}

# tcp_transfer: TCP_BYTES from snd (pinned to CPU 0) to rcv over the
# port-6000 SAs; prints snd's TcpRetransSegs during it.
tcp_transfer() {
	local r0 r1 srv

	ip netns exec $RCV /usr/bin/python3 -c '
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(1); l.settimeout(30)
n = 0
try:
    c, _ = l.accept(); c.settimeout(30)
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
except OSError:
    pass
print(n)
' "$R4" "$TCP_PORT" >"$VPN_WORK/tcp.out" &
	srv=$!
	PIDS+=("$srv")
	sleep 0.5
	r0=$(ip netns exec $SND nstat -az TcpRetransSegs | awk '$1 == "TcpRetransSegs" { print $2 }')
	ip netns exec $SND taskset -c 0 /usr/bin/python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
    s.sendall(b"y" * int(sys.argv[3])); s.close()
except OSError as e:
    print("# tcp client: %s" % e)
' "$R4" "$TCP_PORT" "$TCP_BYTES"
	wait "$srv"
	r1=$(ip netns exec $SND nstat -az TcpRetransSegs | awk '$1 == "TcpRetransSegs" { print $2 }')
	TCP_GOT=$(cat "$VPN_WORK/tcp.out")
	TCP_RETRANS=$((r1 - r0))
}

# phase NAME: paced UDP, pings and TCP with whatever runs on rcv now;
# sets P_SENT P_GOT P_CPUS (kernel, per CPU) P_XB (xfrmbpf per target CPU,
# empty without the daemon) P_PING P_RETRANS P_SEQERR.
phase() {
	local xb0 xb1 out=$VPN_WORK/recv.out seq0

	seq0=$(xfrm_stat $RCV XfrmInStateSeqError)
	xb0=$(xb_target_counts)
	receiver_start "$out" || return 1
	kprobe_reset
	P_SENT=$(send_udp paced "$ROUNDS")
	sleep 1
	P_CPUS=$(kprobe_counts)
	xb1=$(xb_target_counts)
	receiver_stop "$out"
	P_GOT=$RECV_GOT
	P_XB=$(sub_counts "$xb0" "$xb1")
	P_PING=$(ip netns exec $SND taskset -c 0 ping -n -q -c $PINGS -i 0.05 -W 2 $R4 |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')
	echo "# $1: UDP sent $P_SENT, received $P_GOT; pings $P_PING/$PINGS"
	tcp_transfer
	P_RETRANS=$TCP_RETRANS
	P_SEQERR=$(($(xfrm_stat $RCV XfrmInStateSeqError) - seq0))
	echo "# $1: sent $P_SENT, received $P_GOT; xfrm_input per CPU: $P_CPUS" \
		"(max/mean $(max_over_mean "$P_CPUS")); xfrmbpf per target CPU: $P_XB;" \
		"pings $P_PING/$PINGS; TCP $TCP_GOT bytes, $P_RETRANS retransmissions;" \
		"XfrmInStateSeqError +$P_SEQERR"
}

# cpu_busy: "b0 b1 ...": busy jiffies per CPU so far (/proc/stat: all
# but idle and iowait).
cpu_busy() {
	awk '/^cpu[0-9]/ { printf "%s ", $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# blast NAME: BLAST_S seconds of UDP as fast as the pinned sender goes;
# B_DECRYPTED: packets xfrm_input took (all CPUs), B_GOT: delivered;
# also the guest's busy CPU time per CPU meanwhile (what the emulated
# CPUs were given: under TCG the host's scheduler decides it).
blast() {
	local out=$VPN_WORK/recv.out sent c b0 b1 busy

	receiver_start "$out" || return 1
	kprobe_reset
	b0=$(cpu_busy)
	sent=$(send_udp blast "$BLAST_S")
	sleep 1
	b1=$(cpu_busy)
	c=$(kprobe_counts)
	receiver_stop "$out"
	busy=$(sub_counts "$b0" "$b1")
	B_GOT=$RECV_GOT
	B_DECRYPTED=$(echo "$c" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }')
	echo "# $1 blast ${BLAST_S}s: sent $sent, decrypted $B_DECRYPTED" \
		"($(awk -v n="$B_DECRYPTED" -v t="$BLAST_S" 'BEGIN { printf "%.0f", n / t }')/s)," \
		"received $B_GOT; xfrm_input per CPU: $c; busy CPU time per CPU (1/100 s): $busy" \
		"($(echo "$busy" | awk -v n="$B_DECRYPTED" '{ s = 0; for (i = 1; i <= NF; i++) s += $i
			if (n) printf "%.1f", s * 10000 / n; else print "-" }') us of guest CPU per packet)"
}

daemon_start() {
	local what=$1

	shift
	# a loaded host may take the emulated guest past vpn_daemon_start's 30 s
	if ! vpn_daemon_start $RCV -i xbt-sp1 --heartbeat-timeout-ms 30000 "$@" &&
		! { [ -n "$VPN_DAEMON" ] && wait_for 90 vpn_synced; }; then
		tap_fail_log "$what: xfrmbpf run -i xbt-sp1 $* syncs" "$(vpn_log_tail)"
		return 1
	fi
	tap_ok "$what: xfrmbpf run -i xbt-sp1 $*: synced, $(xbn status -j | jq -c '{sas}')"
}

# The xdp tracepoints of redirect errors and cpumap drops, while skb mode
# runs (the kprobe's buffer is shared: its per-CPU counts are read first).
xdp_trace_on() {
	local e

	for e in xdp_redirect_map_err xdp_redirect_err xdp_exception; do
		[ -d "$TR/events/xdp/$e" ] && echo 1 >"$TR/events/xdp/$e/enable"
	done
}

xdp_trace_report() {
	local e

	for e in xdp_redirect_map_err xdp_redirect_err xdp_exception; do
		[ -d "$TR/events/xdp/$e" ] && echo 0 >"$TR/events/xdp/$e/enable"
	done
	echo "# xdp errors seen: $(grep -cE 'xdp_redirect(_map)?_err|xdp_exception' "$TR/trace")"
	grep -E 'xdp_redirect(_map)?_err|xdp_exception' "$TR/trace" | head -3 | sed 's/^/#   /'
	echo "# rcv: $(ip netns exec $RCV nstat -az 2>/dev/null | awk '$2 > 0 && $1 ~ /Discard|Drop|Err|Retrans|Csum/ { printf "%s=%s ", $1, $2 }')"
	echo "# rcv xfrm_stat: $(ip netns exec $RCV awk '$2 > 0 { printf "%s=%s ", $1, $2 }' /proc/net/xfrm_stat)"
}

main() {
	local out base_sent base_got base_ping base_retrans base_dec spread_dec ratio mm i
	local listed pcpu_why

	if [ ! -x "$XFRMBPF" ]; then
		tap_skip "spread esp" "$XFRMBPF is not built (make)"
		return 0
	fi
	if [ "$NCPU" -lt 4 ]; then
		tap_fail "spread esp: the guest has $NCPU CPUs, 4 wanted (XB_VM_CPUS)"
		return 1
	fi
	if ! out=$(setup 2>&1); then
		tap_fail_log "spread esp: snd/rcv, $NSA ESP SAs" "$out"
		return 1
	fi
	vpn_init || { tap_fail "spread esp: private bpffs"; return 1; }
	if ! kprobe_setup; then
		tap_fail "spread esp: kprobe event on xfrm_input ($TR)"
		return 1
	fi
	tap_ok "spread esp: snd -> rcv, $((NSA + 3)) inbound ESP SAs, $NCPU CPUs, kprobe on xfrm_input"

	# a baseline of no loss when it is not run
	base_sent=0 base_got=0 base_ping=$PINGS base_retrans=0 base_dec=0

	# 1. baseline: xfrmbpf without spreading
	if want baseline; then
		daemon_start "baseline" || return 1
		phase "baseline" || { tap_fail "baseline: traffic"; return 1; }
		base_sent=$P_SENT base_got=$P_GOT base_ping=$P_PING base_retrans=$P_RETRANS
		expect_eq "baseline: decrypted on one CPU" 1 "$(cpus_used "$P_CPUS")"
		expect_eq "baseline: nothing redirected" 0 "$(echo $P_XB | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }')"
		expect_eq "baseline: XfrmInStateSeqError +" 0 "$P_SEQERR"
		blast "baseline"
		base_dec=$B_DECRYPTED
		vpn_daemon_stop
	fi

	# 2. --spread-esp all
	if want spread; then
		daemon_start "spread" --spread-esp all || return 1
		listed=$(xbn stats -j | jq -c '[.spread_cpus[] | select(.listed) | .cpu]')
		expect_eq "spread: cpumap CPUs (stats -j spread_cpus)" "[0,1,2,3]" "$listed"
		phase "spread" || { tap_fail "spread: traffic"; return 1; }
		expect_eq "spread: decrypted on every CPU" "$NCPU" "$(cpus_used "$P_CPUS")"
		mm=$(max_over_mean "$P_CPUS")
		if awk -v m="$mm" 'BEGIN { exit !(m > 0 && m <= 1.3) }'; then
			tap_ok "spread: max/mean of xfrm_input per CPU $mm <= 1.3 ($P_CPUS)"
		else
			tap_fail "spread: max/mean of xfrm_input per CPU <= 1.3" "got $mm ($P_CPUS)"
		fi
		# the paced UDP only: both counts are read before the pings and TCP
		i=$(echo "$P_XB" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }')
		expect_eq "spread: xfrmbpf redirected every datagram" "$P_SENT" "$i"
		expect_eq "spread: XfrmInStateSeqError +" 0 "$P_SEQERR"
		expect_eq "spread: datagrams lost (baseline $((base_sent - base_got)))" \
			"$((base_sent - base_got))" "$((P_SENT - P_GOT))"
		expect_eq "spread: pings (baseline $base_ping/$PINGS)" "$base_ping" "$P_PING"
		if [ "$P_RETRANS" -le "$base_retrans" ]; then
			tap_ok "spread: TCP retransmissions $P_RETRANS <= baseline $base_retrans"
		else
			tap_fail "spread: TCP retransmissions" "$P_RETRANS > baseline $base_retrans"
		fi
		expect_eq "spread: TCP bytes delivered" "$TCP_BYTES" "$TCP_GOT"
		# kernel cross-check: the UDP phase's xfrm_input per CPU is what
		# xfrmbpf sent there (read before the pings and TCP)
		spread_check_cross
		blast "spread"
		spread_dec=$B_DECRYPTED
		ratio=$(awk -v a="$spread_dec" -v b="$base_dec" 'BEGIN { if (b) printf "%.2f", a / b; else print "n/a" }')
		echo "# throughput, one tunnel of $NSA SAs, sender pinned to CPU 0: $spread_dec decrypted" \
			"in ${BLAST_S}s with --spread-esp, $base_dec without: ratio $ratio (TCG, relative only)"
		tap_ok "spread: throughput ratio with/without --spread-esp $ratio ($spread_dec / $base_dec in ${BLAST_S}s)"
		echo "# counters:"
		xbn stats | sed -n '/spread-esp/,$p' | sed 's/^/#   /'
		vpn_daemon_stop
	fi

	# 3. generic XDP
	if want skb; then
		daemon_start "skb mode" --mode skb --spread-esp all || return 1
		if grep -q "does not redirect from skb-mode XDP" "$VPN_LOG"; then
			tap_ok "skb mode: the daemon says it does not spread there"
		else
			tap_fail_log "skb mode: the daemon says it does not spread there" "$(vpn_log_tail)"
		fi
		xdp_trace_on
		phase "skb mode" || { tap_fail "skb mode: traffic"; return 1; }
		expect_eq "skb mode: nothing redirected" 0 \
			"$(echo $P_XB | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }')"
		expect_eq "skb mode: datagrams lost" "$((base_sent - base_got))" "$((P_SENT - P_GOT))"
		expect_eq "skb mode: pings" "$base_ping" "$P_PING"
		expect_eq "skb mode: XfrmInStateSeqError +" 0 "$P_SEQERR"
		expect_eq "skb mode: TCP bytes delivered" "$TCP_BYTES" "$TCP_GOT"
		xdp_trace_report
		vpn_daemon_stop
	fi

	# 4. per-CPU SAs
	if want pcpu; then
		if bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null |
			grep -q "'XFRMA_SA_PCPU' val=35"; then
			pcpu_sas
		else
			tap_skip "per-CPU SAs: each SA's packets on its CPU" \
				"$(uname -r) has no per-CPU SAs (no XFRMA_SA_PCPU in its BTF; Linux 6.13+)"
		fi
	fi
}

# sa_add_pcpu SPI REQID PCPU: in rcv, the ESP transport SA snd -> rcv with
# that SPI as a per-CPU SA (XFRMA_SA_PCPU = 35), over raw NETLINK_XFRM:
# iproute2 6.1 has no pcpu-num.
sa_add_pcpu() {
	ip netns exec $RCV /usr/bin/python3 -c '
import socket, struct, sys
src, dst, spi, reqid, pcpu = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), int(sys.argv[4]), int(sys.argv[5])
key = bytes.fromhex(sys.argv[6])
def addr(a):
    return socket.inet_pton(socket.AF_INET, a) + bytes(12)
INF = (1 << 64) - 1
sel = bytes(56)
info = sel + addr(dst) + struct.pack("=IB3x", socket.htonl(spi), socket.IPPROTO_ESP)
info += addr(src) + struct.pack("=8Q", INF, INF, INF, INF, 0, 0, 0, 0) + bytes(32) + bytes(12)
info += struct.pack("=IIHBBB", 0, reqid, socket.AF_INET, 0, 64, 0)
info += bytes(224 - len(info))
def attr(t, data):
    a = struct.pack("=HH", 4 + len(data), t) + data
    return a + bytes((4 - len(a) % 4) % 4)
aead = b"rfc4106(gcm(aes))".ljust(64, b"\0") + struct.pack("=II", len(key) * 8, 128) + key
# XFRMA_SA_DIR (33) = XFRM_SA_DIR_IN: the kernel takes a pCPU SA only with it
body = info + attr(18, aead) + attr(33, struct.pack("=B", 1)) + attr(35, struct.pack("=I", pcpu))
XFRM_MSG_NEWSA = 0x10
msg = struct.pack("=IHHII", 16 + len(body), XFRM_MSG_NEWSA, 1 | 4 | 0x400 | 0x200, 1, 0) + body
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 6)
s.setsockopt(270, 11, 1)  # SOL_NETLINK, NETLINK_EXT_ACK: the reason
s.send(msg)
r = s.recv(65536)
err = struct.unpack("=i", r[16:20])[0]
if err:
    why, off = "", 20 + len(msg)
    while off + 4 <= len(r):
        alen, atype = struct.unpack("=HH", r[off:off + 4])
        if alen < 4:
            break
        if atype == 1:  # NLMSGERR_ATTR_MSG
            why = r[off + 4:off + alen].rstrip(b"\0").decode()
        off += (alen + 3) & ~3
    print("NEWSA: error %d %s" % (err, why))
    sys.exit(1)
' "$S4" "$R4" "$1" "$2" "$3" 2b7e151628aed2a6abf7158809cf4f3c01020304
}

# send_port PORT COUNT: COUNT datagrams from snd (pinned to CPU 0) to one
# port, 1 ms apart.
send_port() {
	ip netns exec $SND taskset -c 0 /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"z" * 128, (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.001)
' "$R4" "$1" "$2"
}

# Four per-CPU SAs on rcv (UDP ports 7000-7003, CPUs 3, 2, 1, 0: not the
# order the least-loaded choice would take), with --spread-esp all: each
# SA's packets are decrypted on its own CPU, and the mirror shows it.
pcpu_sas() {
	local j spi cpu out counts want c n=40 got

	for ((j = 0; j < 4; j++)); do
		spi=$((0x40000 + j)) cpu=$((3 - j))
		out=$(sa_add_pcpu $spi $((200 + j)) $cpu 2>&1) ||
			{ tap_fail_log "per-CPU SAs: add SA spi $spi pcpu $cpu (netlink)" "$out"; return; }
		ip -n $RCV xfrm policy add src $S4/32 dst $R4/32 proto udp dport $((7000 + j)) dir in \
			tmpl src $S4 dst $R4 proto esp reqid $((200 + j)) mode transport
		# shellcheck disable=SC2086 # KEY holds several arguments
		ip -n $SND xfrm state add src $S4 dst $R4 proto esp spi $spi reqid $((200 + j)) \
			mode transport $KEY
		ip -n $SND xfrm policy add src $S4/32 dst $R4/32 proto udp dport $((7000 + j)) dir out \
			tmpl src $S4 dst $R4 proto esp reqid $((200 + j)) mode transport
	done
	tap_ok "per-CPU SAs: 4 SAs with XFRMA_SA_PCPU 3, 2, 1, 0 added over netlink ($(ip -n $RCV xfrm state list spi 0x40000 | grep -o 'pcpu-num [0-9]*' || echo "this ip does not print it"))"
	daemon_start "per-CPU SAs" --spread-esp all || return
	got=$(xbn sa -j | jq -c '[.[] | select(.spi >= 262144 and .spi < 262148) | {spi, pcpu}] | sort_by(.spi) | map(.pcpu)')
	expect_eq "per-CPU SAs: mirrored with their CPU (sa -j pcpu)" "[3,2,1,0]" "$got"
	for ((j = 0; j < 4; j++)); do
		cpu=$((3 - j))
		kprobe_reset
		send_port $((7000 + j)) $n
		sleep 1
		counts=$(kprobe_counts)
		want=
		for ((c = 0; c < NCPU; c++)); do
			[ $c = $cpu ] && want+="$n " || want+="0 "
		done
		expect_eq "per-CPU SAs: SA spi $((0x40000 + j)) (pcpu $cpu): xfrm_input per CPU" \
			"${want% }" "$counts"
	done
	echo "# rcv xfrm_stat: $(ip netns exec $RCV awk '$2 > 0 { printf "%s=%s ", $1, $2 }' /proc/net/xfrm_stat)"
	vpn_daemon_stop
}

# spread_check_cross: per CPU, the kernel's xfrm_input count of the paced
# UDP equals the datagrams xfrmbpf redirected there.
spread_check_cross() {
	local k=($P_CPUS) x=($P_XB) c bad=

	for ((c = 0; c < NCPU; c++)); do
		[ "${x[c]}" = "${k[c]}" ] || bad+=" cpu$c: xfrmbpf ${x[c]}, kernel ${k[c]};"
	done
	if [ -z "$bad" ]; then
		tap_ok "spread: each CPU decrypted what xfrmbpf sent it (kernel $P_CPUS, xfrmbpf $P_XB)"
	else
		tap_fail "spread: each CPU decrypted what xfrmbpf sent it" "$bad"
	fi
}

main
tap_done
