#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Fail open, with real traffic between namespaces: a block policy drops
# ping and UDP at XDP (reason counters, `classify`); with the daemon alive
# a deleted policy stops dropping as soon as the event is mirrored; with
# the daemon stopped (SIGSTOP) the stale maps stop dropping within the
# heartbeat timeout; killed (-9), at once (the exit watch); then the
# kernel's own policy check takes over.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/datapath.sh"

TIMEOUT_MS=500

xbt_dp_setup dp-failopen
xbt_have_binary dp-failopen || exit 0
xbt_dp_ns PEER dp-failopen-peer
xbt_dp_veth "$XBT_NS" xbt-gw0 "$PEER" xbt-p0
ip -n "$XBT_NS" addr add 192.0.2.1/24 dev xbt-gw0
ip -n "$PEER" addr add 192.0.2.2/24 dev xbt-p0
# Only the test's own frames reach xbt-gw0 until the NAT-T checks need
# IPv6: the peer's IPv6 (router solicitations, MLD reports, DAD) stays off,
# and neither side's ARP ever probes (permanent neighbours), so that counts
# compared across a quiet stretch move only by what the test did.
ip netns exec "$PEER" sysctl -qw net.ipv6.conf.xbt-p0.disable_ipv6=1
ip -n "$PEER" neigh replace 192.0.2.1 dev xbt-p0 nud permanent \
	lladdr "$(ip -n "$XBT_NS" -j link show dev xbt-gw0 | jq -r '.[0].address')"
ip -n "$XBT_NS" neigh replace 192.0.2.2 dev xbt-gw0 nud permanent \
	lladdr "$(ip -n "$PEER" -j link show dev xbt-p0 | jq -r '.[0].address')"
OUT=$XBT_DIR/out
ERR=$XBT_DIR/err

ICMP_SEL="src 192.0.2.2 dst 192.0.2.1 proto icmp"
UDP_SEL="src 192.0.2.2 dst 192.0.2.1 proto udp dport 7777"
xbt_ns ip xfrm policy add dir in $ICMP_SEL action block priority 10 ||
	xbt_bail "cannot add the ICMP block policy"
xbt_ns ip xfrm policy add dir in $UDP_SEL action block priority 10 ||
	xbt_bail "cannot add the UDP block policy"
xbt_ns ip xfrm policy add dir in src 192.0.2.2 dst 192.0.2.1 proto tcp dport 8443 \
	tmpl src 192.0.2.2 dst 192.0.2.1 proto esp mode transport ||
	xbt_bail "cannot add the policy that requires ESP"
# One flow, two policies of one priority with different actions: the
# kernel's pick between them is not visible over netlink.
xbt_ns ip xfrm policy add dir in src 192.0.2.2 dst 192.0.2.1 proto udp dport 7779 \
	action block priority 20 || xbt_bail "cannot add the tie's block policy"
xbt_ns ip xfrm policy add dir in src 192.0.2.2 dst 192.0.2.1 proto udp sport 5000 \
	action allow priority 20 || xbt_bail "cannot add the tie's allow policy"

# On a failed expect (tests/lib/tap.sh): some context.
expect_context() {
	xb stats -j 2>/dev/null | jq -c '.reasons | with_entries(select(.value.packets > 0))' |
		sed 's/^/#   counters: /'
}

now_ms() { date +%s%3N; }
jq_ok() { jq -e "$@" >/dev/null; }
ping1() { ip netns exec "$PEER" ping -c 1 -W 0.3 192.0.2.1 >/dev/null 2>&1; }
udp3() { ip netns exec "$PEER" python3 "$XBT_DP_PY" send 192.0.2.1 7777 --count 3 >/dev/null; }
reason() { xbt_reason "$1"; }
grew() { [ "$(reason "$1")" -ge $(( $2 + $3 )) ] 2>/dev/null; }

# until_ok LIMIT_MS CMD...: poll CMD; prints the elapsed ms, fails after LIMIT.
until_ok() {
	local limit=$1 start

	shift
	start=$(now_ms)
	while ! "$@"; do
		if [ $(( $(now_ms) - start )) -gt "$limit" ]; then
			echo "timeout"
			return 1
		fi
		sleep 0.05
	done
	echo $(( $(now_ms) - start ))
}

xbt_daemon_start -i xbt-gw0 --heartbeat-ms 100 --heartbeat-timeout-ms $TIMEOUT_MS
expect "daemon synced with two block policies and one that requires ESP" xbt_daemon_wait_synced 10

# ---- the block policies drop at XDP ----
b0=$(reason policy_block)
expect "ping is dropped" eval '! ip netns exec "$PEER" ping -c 3 -i 0.2 -W 1 192.0.2.1 >/dev/null 2>&1'
expect "... at XDP: policy_block grew by 3 or more" grew policy_block "$b0" 3
b1=$(reason policy_block)
udp3
expect "UDP to port 7777 is dropped at XDP: policy_block grew by 3" grew policy_block "$b1" 3

xb classify -i xbt-gw0 icmp 192.0.2.2 192.0.2.1 type 8 >"$OUT" 2>"$ERR"
expect "classify icmp echo: drop, policy_block, the IN block policy" \
	eval 'grep -q "^verdict  drop" "$OUT" && grep -q "^reason   policy_block" "$OUT" &&
	      grep -q "^policy .*proto 1 dir in action block priority 10" "$OUT"'
xb -j classify -i xbt-gw0 udp 192.0.2.2:40000 192.0.2.1:7777 >"$OUT" 2>"$ERR"
expect "classify -j udp to 7777: drop by the UDP block policy" \
	jq_ok '.verdict == "drop" and .reason == "policy_block" and .policy.proto == 17 and
	       .policy.dport == 7777' "$OUT"
xb -j classify -i xbt-gw0 udp 192.0.2.2:40000 192.0.2.1:7778 >"$OUT" 2>"$ERR"
expect "classify -j udp to 7778: pass, no policy" \
	jq_ok '.verdict == "pass" and .reason == "pass_no_policy" and .policy == null' "$OUT"
xb -j classify -i xbt-gw0 tcp 192.0.2.2:40000 192.0.2.1:8443 >"$OUT" 2>"$ERR"
expect "classify -j plaintext tcp to 8443: drop, policy_requires_ipsec, its ESP template" \
	jq_ok '.verdict == "drop" and .reason == "policy_requires_ipsec" and
	       (.policy.tmpls | length) == 1 and .policy.tmpls[0].proto == 50' "$OUT"
# An SPI never seen: where the kernel can be asked (6.8+) its answer drops
# it at once; elsewhere its first packet waits for the daemon's next read.
SPI_CHECK=$(xb -j status 2>/dev/null | jq -r .spi_check)
case $SPI_CHECK in
kernel)	NEW_SPI_REASON=unknown_spi NEW_SPI_VERDICT=drop ;;
*)	NEW_SPI_REASON=pass_spi_pending NEW_SPI_VERDICT=pass ;;
esac
xb -j classify -i xbt-gw0 esp 192.0.2.2 192.0.2.1 spi 0x1000 >"$OUT" 2>"$ERR"
expect "classify -j ESP with an SPI no SA has, never seen (spi check: $SPI_CHECK): $NEW_SPI_VERDICT, $NEW_SPI_REASON" \
	jq_ok ".verdict == \"$NEW_SPI_VERDICT\" and .reason == \"$NEW_SPI_REASON\"" "$OUT"
xb -j classify -i xbt-gw0 udp 192.0.2.2:500 192.0.2.1:500 >"$OUT" 2>"$ERR"
expect "classify -j udp to 500 (IKE): pass_bypass" jq_ok '.reason == "pass_bypass"' "$OUT"
# classify runs a dry-run copy of the datapath: the same new flow twice
# misses the flow cache both times, and no counter moves.
counts() { xb stats -j 2>/dev/null | jq -c '[.reasons[].packets, .flow_cache.hits, .flow_cache.misses]'; }
c0=$(counts)
xb -j classify -i xbt-gw0 udp 192.0.2.2:40123 192.0.2.1:7777 >"$OUT" 2>"$ERR"
xb classify -i xbt-gw0 udp 192.0.2.2:40123 192.0.2.1:7777 >"$OUT.2" 2>"$ERR"
expect "classify -j a new flow: the flow cache misses, the policy decides" \
	jq_ok '.flow_cache == "miss" and .reason == "policy_block" and .policy.dport == 7777' "$OUT"
expect "... the same flow again: still a miss (classify does not fill the cache)" \
	eval 'grep -q "^cache    miss" "$OUT.2" && grep -q "^reason   policy_block" "$OUT.2"'
expect "... and the counters did not move" [ "$(counts)" = "$c0" ]
rm -f "$OUT.2"
xb -j classify -i xbt-gw0 udp 192.0.2.2:5000 192.0.2.1:7779 >"$OUT" 2>"$ERR"
expect "classify -j a tie of block and allow at one priority: pass_undecidable, priority_tie" \
	jq_ok '.verdict == "pass" and .reason == "pass_undecidable" and
	       .undecidable_cause == "priority_tie"' "$OUT"
xb classify -i xbt-gw0 udp 192.0.2.2:5000 224.0.0.9:7779 >"$OUT" 2>"$ERR"
expect "classify a multicast destination: the cause line names not_unicast" \
	grep -q "^cause    not_unicast: " "$OUT"
xb classify -i xbt-gw0 udp 192.0.2.2 192.0.2.1:7777 >"$OUT" 2>"$ERR"
RC=$?
expect "classify with a bad description: exit 2, one line" \
	eval '[ $RC -eq 2 ] && [ "$(wc -l <"$ERR")" -eq 1 ] && [ ! -s "$OUT" ]'

# ---- ESP in UDP is ESP only where a socket decapsulates udp/4500 ----
# dp_traffic's payload ("xxxx...") reads as ESP in UDP with SPI 0x78787878,
# which no SA has. The kernel decapsulates it only in the socket the lookup
# delivers it to, and only if that socket has UDP_ENCAP_ESPINUDP (as an IKE
# daemon's): with no socket on 4500 it answers port unreachable, a plain
# socket receives it. XDP may drop it as an unknown SPI only where every
# datagram to the port would meet an encapsulating socket (the entry is one
# for the port: both families, every local address).
ip netns exec "$PEER" sysctl -qw net.ipv6.conf.xbt-p0.disable_ipv6=0
ip -n "$XBT_NS" addr add 2001:db8:1::1/64 dev xbt-gw0 nodad
ip -n "$PEER" addr add 2001:db8:1::2/64 dev xbt-p0 nodad
natt3() { ip netns exec "$PEER" python3 "$XBT_DP_PY" send 192.0.2.1 4500 --count 3 >/dev/null; }
natt3_6() { ip netns exec "$PEER" python3 "$XBT_DP_PY" send 2001:db8:1::1 4500 --count 3 >/dev/null; }
no_ports() { ip netns exec "$XBT_NS" nstat -az UdpNoPorts | awk '$1 == "UdpNoPorts" { print $2 }'; }
s0=$(reason unknown_spi)
n0=$(no_ports)
natt3
natt3_6
expect "udp/4500 with no socket there: not dropped as an unknown SPI (IPv4, IPv6)" \
	[ "$(reason unknown_spi)" -eq "$s0" ]
expect "... the kernel answered port unreachable (UdpNoPorts +3)" [ "$(no_ports)" -ge $((n0 + 3)) ]

# natt_listen SOCK...: a process (NATT_SOCK_PID) that holds UDP sockets on
# 4500, each SOCK as FAMILY/ADDRESS/UDP_ENCAP (FAMILY 4, 6 = IPv6 without
# IPV6_V6ONLY, 6only), SO_REUSEADDR on all; it logs one line per datagram
# it receives to $NATT_RCVD.
NATT_RCVD=$XBT_DIR/natt-received
natt_listen() {
	: >"$NATT_RCVD"
	ip netns exec "$XBT_NS" python3 -c 'import select, socket, sys, time
out = open(sys.argv[1], "w", buffering=1)
socks = []
for spec in sys.argv[2:]:
    fam, addr, encap = spec.split("/")
    s = socket.socket(socket.AF_INET if fam == "4" else socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam != "4":
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, fam == "6only")
    if int(encap):
        s.setsockopt(socket.IPPROTO_UDP, 100, int(encap))  # UDP_ENCAP
    s.bind((addr, 4500))
    socks.append(s)
out.write("ready\n")
end = time.time() + 120
while time.time() < end:
    for s in select.select(socks, [], [], 1)[0]:
        data, peer = s.recvfrom(2048)
        out.write("%s %s\n" % (peer[0], data[:4].hex()))
' "$NATT_RCVD" "$@" &
	NATT_SOCK_PID=$!
	xbt_track_pid "$NATT_SOCK_PID"
	until_ok 3000 grep -q ready "$NATT_RCVD" >/dev/null
}
# received ADDR_PREFIX: datagrams with a non-zero SPI the listener got from it
received() { grep -c "^$1.* 78787878$" "$NATT_RCVD"; }
natt_dropped() { s0=$(reason unknown_spi); natt3; [ "$(reason unknown_spi)" -ge $((s0 + 3)) ]; }
natt_dropped6() { s0=$(reason unknown_spi); natt3_6; [ "$(reason unknown_spi)" -ge $((s0 + 3)) ]; }
natt_plain() { s0=$(reason unknown_spi); natt3; [ "$(reason unknown_spi)" -eq "$s0" ]; }
# beats: a few heartbeats (100 ms), for what must not change
beats() { sleep 0.5; }

# a plain socket (no UDP_ENCAP), as in the kernel-equivalence lab's shape rounds
natt_listen 4/0.0.0.0/0 6only/::/0
beats
s0=$(reason unknown_spi)
natt3
natt3_6
expect "plain UDP sockets on 4500: ESP-like datagrams not dropped as an unknown SPI" \
	[ "$(reason unknown_spi)" -eq "$s0" ]
ms=$(until_ok 2000 eval '[ "$(received 192.0.2.2)" -eq 3 ] && [ "$(received 2001:db8:1::2)" -eq 3 ]')
expect "... the kernel delivered them to the sockets (3 IPv4, 3 IPv6)" [ "$ms" != timeout ]
xbt_kill_pid "$NATT_SOCK_PID"

# UDP_ENCAP_ESPINUDP on IPv4 and IPv6 sockets, as charon sets it
natt_listen 4/0.0.0.0/2 6only/::/2
ms=$(until_ok 2000 natt_dropped)
expect "encapsulating sockets on 4500 (an IKE daemon's): ESP in UDP with an unknown SPI dropped after ${ms} ms" \
	[ "$ms" != timeout ]
ms=$(until_ok 2000 natt_dropped6)
expect "... IPv6 too" [ "$ms" != timeout ]
xb -j classify -i xbt-gw0 natt 192.0.2.2 192.0.2.1 spi 0x78787878 >"$OUT" 2>"$ERR"
expect "... classify of that SPI says unknown_spi" jq_ok '.reason == "unknown_spi"' "$OUT"
xb -j classify -i xbt-gw0 natt 192.0.2.2 192.0.2.1 spi 0x1000 >"$OUT" 2>"$ERR"
expect "... of an SPI never seen: $NEW_SPI_REASON" jq_ok ".reason == \"$NEW_SPI_REASON\"" "$OUT"
expect "... none reached the sockets" [ "$(received '')" -eq 0 ]
xbt_kill_pid "$NATT_SOCK_PID"
ms=$(until_ok 2000 natt_plain)
expect "sockets closed: plain udp/4500 again after ${ms} ms" [ "$ms" != timeout ]

# one IPv6 socket without IPV6_V6ONLY decapsulates IPv4 as well
natt_listen 6/::/2
ms=$(until_ok 2000 natt_dropped)
expect "one dual-stack encapsulating socket: IPv4 ESP in UDP dropped after ${ms} ms" [ "$ms" != timeout ]
xbt_kill_pid "$NATT_SOCK_PID"
ms=$(until_ok 2000 natt_plain)
expect "... closed: plain again after ${ms} ms" [ "$ms" != timeout ]

# An encapsulating IPv4 socket alone: IPv6 datagrams to 4500 meet no
# socket, and the entry cannot say "IPv4 only", so neither is dropped.
natt_listen 4/0.0.0.0/2
beats
s0=$(reason unknown_spi)
natt3
natt3_6
expect "an encapsulating IPv4 socket only: not dropped at XDP (IPv6 is plain UDP there)" \
	[ "$(reason unknown_spi)" -eq "$s0" ]
xbt_kill_pid "$NATT_SOCK_PID"

# A plain socket bound to the address wins the lookup over the wildcard
# encapsulating ones (__udp4_lib_lookup: bound address first).
natt_listen 4/0.0.0.0/2 6only/::/2 4/192.0.2.1/0
beats
s0=$(reason unknown_spi)
natt3
expect "a plain socket on 192.0.2.1:4500 beside encapsulating wildcard ones: not dropped" \
	[ "$(reason unknown_spi)" -eq "$s0" ]
ms=$(until_ok 2000 eval '[ "$(received 192.0.2.2)" -eq 3 ]')
expect "... the kernel delivered them to it" [ "$ms" != timeout ]
xbt_kill_pid "$NATT_SOCK_PID"

# ---- disable_policy on the device is followed at the next heartbeat ----
xbt_ns sysctl -qw net.ipv4.conf.xbt-gw0.disable_policy=1
d0=$(reason pass_disable_policy)
ms=$(until_ok 2000 ping1)
expect "disable_policy=1: ping passes after ${ms} ms (heartbeat 100 ms)" [ "$ms" != timeout ]
expect "... counted as pass_disable_policy" grew pass_disable_policy "$d0" 1
xbt_ns sysctl -qw net.ipv4.conf.xbt-gw0.disable_policy=0
ms=$(until_ok 2000 eval '! ping1')
expect "disable_policy=0: ping dropped again after ${ms} ms" [ "$ms" != timeout ]

# ---- stats ----
xb stats >"$OUT" 2>"$ERR"
expect "stats (text): one row per reason and the interface" \
	eval '[ "$(grep -cE "^(pass_|unsynced_pass|unknown_spi|policy_|default_block|steer)" "$OUT")" -eq 23 ] &&
	      grep -qE "^xbt-gw0 +[0-9]+ +[0-9]+ +[1-9][0-9]* +0$" "$OUT"'
xb -j stats >"$OUT" 2>"$ERR"
expect "stats -j: 23 reasons, xbt-gw0 with rx = passed + dropped" \
	jq_ok '(.reasons | length) == 23 and (.interfaces[] | select(.name == "xbt-gw0") |
	       .rx_packets == .passed + .dropped and .dropped > 0)' "$OUT"
timeout 2.5 ip netns exec "$XBT_NS" "$XFRMBPF" --pin-dir "$XBT_PIN" -j stats --watch 1 >"$OUT" 2>"$ERR"
expect "stats -j --watch 1: one JSON object per second, rates from the second on" \
	eval '[ "$(wc -l <"$OUT")" -ge 2 ] && head -1 "$OUT" | jq_ok ".reasons.policy_block.pps == null" &&
	      sed -n 2p "$OUT" | jq_ok ".reasons.policy_block.pps >= 0"'
xb stats --watch 0 >"$OUT" 2>"$ERR"
RC=$?
expect "stats --watch 0: exit 2, one line" eval '[ $RC -eq 2 ] && [ "$(wc -l <"$ERR")" -eq 1 ]'

# ---- daemon alive: the drop stops when the deletion is mirrored ----
p0=$(reason pass_no_policy)
xbt_ns ip xfrm policy delete dir in $ICMP_SEL
ms=$(until_ok 2000 ping1)
expect "daemon alive: ping passes ${ms} ms after the deletion (limit 2000)" [ "$ms" != timeout ]
expect "... counted as pass_no_policy" grew pass_no_policy "$p0" 1
xbt_ns ip xfrm policy add dir in $ICMP_SEL action block priority 10
ms=$(until_ok 2000 eval '! ping1')
expect "daemon alive: a re-added block drops again after ${ms} ms" [ "$ms" != timeout ]

# ---- daemon stopped (SIGSTOP): the heartbeat times out ----
kill -STOP "$XBT_DAEMON_PID"
u0=$(reason unsynced_pass)
xbt_ns ip xfrm policy delete dir in $ICMP_SEL
ms=$(until_ok $(( TIMEOUT_MS + 1000 )) ping1)
expect "SIGSTOP: ping passes ${ms} ms after the deletion (heartbeat timeout $TIMEOUT_MS ms)" \
	[ "$ms" != timeout ]
expect "... counted as unsynced_pass" grew unsynced_pass "$u0" 1
kill -CONT "$XBT_DAEMON_PID"
expect "SIGCONT: the daemon beats and is synced again" xbt_daemon_wait_synced 5
xbt_ns ip xfrm policy add dir in $ICMP_SEL action block priority 10
ms=$(until_ok 2000 eval '! ping1')
expect "... and a re-added block drops again after ${ms} ms" [ "$ms" != timeout ]

# ---- daemon killed: noticed as it exits, not after the heartbeat ----
expect "the watch on the daemon's exit is pinned" test -e "$XBT_PIN/xb_exit_watch"
kill -KILL "$XBT_DAEMON_PID"
wait "$XBT_DAEMON_PID" 2>/dev/null
XBT_DAEMON_PID=
xbt_ns ip xfrm policy delete dir in $ICMP_SEL
sleep 0.01
u0=$(reason unsynced_pass)
b0=$(reason policy_block)
expect "kill -9: the first ping 10 ms after the kill passes (heartbeat timeout $TIMEOUT_MS ms)" \
	ping1
expect "... counted as unsynced_pass, not dropped" \
	eval 'grew unsynced_pass "$u0" 1 && [ "$(reason policy_block)" -eq "$b0" ]'
expect "kill -9: XDP stays attached" \
	xbt_xdp_ours "$XBT_NS" xbt-gw0
expect "status: not synced, no daemon" \
	eval 'xb status -j | jq -e ".synced == false and .unsynced_reason == \"no_daemon\"" >/dev/null'
b2=$(reason policy_block)
u1=$(reason unsynced_pass)
udp3
expect "daemon dead: UDP to 7777 passes XDP (unsynced_pass +3), the kernel decides" \
	eval 'grew unsynced_pass "$u1" 3 && [ "$(reason policy_block)" -eq "$b2" ]'

xb unload --all >/dev/null 2>&1
expect "unload --all after the crash: no program, no pin, not the exit watch's either" \
	eval '[ -z "$(xbt_xdp_prog_of "$XBT_NS" xbt-gw0)" ] && [ ! -e "$XBT_PIN" ]'

tap_done
