#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `make demo`: xfrmbpf on a lab of network namespaces (lan - gateway - wan).
# The gateway gets a sample SPD with `ip xfrm`; the daemon mirrors it into
# pinned maps; the demo shows the mirror and a live change, then attaches the
# datapath, sends traffic from generators in the namespaces, and shows early
# drops per reason and per policy, a flow steered into a stand-in XFRM
# interface, and the maps as bpftool prints them. Everything it creates is
# removed on exit.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
XFRMBPF=$TOP/build/xfrmbpf
ID=$$
GW=xbt-demo-gw-$ID
LAN=xbt-demo-lan-$ID
WAN=xbt-demo-wan-$ID
RUN=/run/xbt-demo-$ID
PIN=$RUN/bpffs/xfrmbpf
DAEMON_PID=
TUN_PID=
PY=/usr/bin/python3

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (sudo make demo)" >&2; exit 3; }
[ -x "$XFRMBPF" ] || { echo "demo: build first (make)" >&2; exit 1; }

cleanup() {
	set +e
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	[ -n "$TUN_PID" ] && kill "$TUN_PID" 2>/dev/null && wait "$TUN_PID" 2>/dev/null
	for ns in "$LAN" "$GW" "$WAN"; do ip netns del "$ns" 2>/dev/null; done
	umount "$RUN/bpffs" 2>/dev/null
	rm -rf "$RUN"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
x() { ip netns exec "$GW" "$XFRMBPF" --pin-dir "$PIN" "$@"; }

say "Lab: $LAN (192.0.2.0/24, 2001:db8:1::/64) - $GW - $WAN (198.51.100.0/24, 2001:db8:2::/64)"
for ns in "$LAN" "$GW" "$WAN"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$GW" link add lan0 type veth peer name eth0 netns "$LAN"
ip -n "$GW" link add wan0 type veth peer name eth0 netns "$WAN"
ip -n "$GW" addr add 192.0.2.1/24 dev lan0
ip -n "$GW" addr add 198.51.100.1/24 dev wan0
ip -n "$GW" addr add 2001:db8:1::1/64 dev lan0 nodad
ip -n "$GW" addr add 2001:db8:2::1/64 dev wan0 nodad
ip -n "$LAN" addr add 192.0.2.10/24 dev eth0
ip -n "$LAN" addr add 2001:db8:1::10/64 dev eth0 nodad
ip -n "$WAN" addr add 198.51.100.10/24 dev eth0
ip -n "$WAN" addr add 2001:db8:2::10/64 dev eth0 nodad
for ns in "$LAN" "$GW" "$WAN"; do
	for l in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
		ip -n "$ns" link set "$l" up
	done
done
ip -n "$LAN" route add default via 192.0.2.1
ip -n "$LAN" -6 route add default via 2001:db8:1::1
ip -n "$WAN" route add default via 198.51.100.1
ip -n "$WAN" -6 route add default via 2001:db8:2::1
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

say "A bpffs for the pins (ip netns exec remounts /sys, so it lives under $RUN)"
mkdir -p "$RUN/bpffs"
mount -t bpf bpf "$RUN/bpffs"

say "Sample SPD on the gateway (what an IKE daemon would install)"
set -x
# Site-to-site: LAN <-> remote LAN through ESP tunnels, IPv4 and IPv6.
ip -n "$GW" xfrm policy add src 192.0.2.0/24 dst 203.0.113.0/24 dir out priority 375423 \
	tmpl src 198.51.100.1 dst 198.51.100.2 proto esp reqid 1 mode tunnel
ip -n "$GW" xfrm policy add src 203.0.113.0/24 dst 192.0.2.0/24 dir fwd priority 375423 \
	tmpl src 198.51.100.2 dst 198.51.100.1 proto esp reqid 1 mode tunnel
ip -n "$GW" xfrm policy add src 2001:db8:3::/64 dst 2001:db8:1::/64 dir fwd priority 375423 \
	tmpl src 2001:db8:2::2 dst 2001:db8:2::1 proto esp reqid 2 mode tunnel
# Telnet from the WAN is blocked outright; a sub policy blocks one host.
ip -n "$GW" xfrm policy add src 0.0.0.0/0 dst 192.0.2.0/24 proto tcp dport 23 dir fwd \
	priority 100 action block
ip -n "$GW" xfrm policy add src 198.51.100.66/32 dst 0.0.0.0/0 dir in ptype sub \
	priority 10 action block
# A route-based tunnel (xfrm interface if_id 7) for a third site.
ip -n "$GW" xfrm policy add src 192.0.2.0/24 dst 2001:db8:4::/64 dir out priority 200 if_id 7 \
	tmpl proto esp mode tunnel 2>/dev/null || \
ip -n "$GW" xfrm policy add src 2001:db8:1::/64 dst 2001:db8:4::/64 dir out priority 200 if_id 7 \
	tmpl src 2001:db8:2::1 dst 2001:db8:2::4 proto esp mode tunnel
ip -n "$GW" xfrm policy setdefault fwd accept in accept out accept
set +x

say "xfrmbpf run: the mirror daemon in the gateway namespace"
ip netns exec "$GW" "$XFRMBPF" --pin-dir "$PIN" run 2>"$RUN/daemon.log" &
DAEMON_PID=$!
for _ in $(seq 50); do
	x status -j 2>/dev/null | grep -q '"synced": true' && break
	sleep 0.1
done
cat "$RUN/daemon.log"

say "xfrmbpf status"
x status
say "xfrmbpf policy (the mirrored SPD)"
x policy
say "xfrmbpf check (mirror vs kernel, now)"
x check

say "A live change: delete the telnet block, add an IPv6 block"
set -x
ip -n "$GW" xfrm policy delete src 0.0.0.0/0 dst 192.0.2.0/24 proto tcp dport 23 dir fwd
ip -n "$GW" xfrm policy add src 2001:db8:2::66/128 dst ::/0 dir in priority 20 action block
set +x
sleep 0.3
x policy | grep -E '^src|dir'
x check

say "The pinned maps, as bpftool prints them (field names from BTF)"
ls "$PIN"
bpftool map dump pinned "$PIN/xb_policies" | head -40 || true

say "The datapath: xfrmbpf run -i lan0 -i wan0 --steer (XDP through libxdp, TC on clsact)"
kill "$DAEMON_PID"; wait "$DAEMON_PID" || true
# A TUN device stands in for an XFRM interface with if_id 7 (this kernel may
# have no xfrm interfaces); the entry the mirror writes for a real one is
# written by hand below.
ip netns exec "$GW" "$PY" "$TOP/tests/lib/dp_traffic.py" tun-reader xfrm7 "$RUN/tun.log" \
	2>"$RUN/tun.err" &
TUN_PID=$!
for _ in $(seq 50); do grep -q ready "$RUN/tun.log" 2>/dev/null && break; sleep 0.1; done
ip netns exec "$GW" sysctl -qw net.ipv6.conf.xfrm7.disable_ipv6=1   # no MLD noise
ip -n "$GW" link set xfrm7 up
ip -n "$GW" xfrm policy add src 192.0.2.0/24 dst 203.0.113.128/25 dir out priority 100 if_id 7 \
	tmpl src 198.51.100.1 dst 198.51.100.7 proto esp mode tunnel
ip -n "$GW" route add 203.0.113.0/24 via 198.51.100.10
ip -n "$WAN" addr add 198.51.100.66/24 dev eth0
ip -n "$WAN" addr add 203.0.113.5/32 dev eth0
ip -n "$LAN" neigh show >/dev/null
ip netns exec "$GW" "$XFRMBPF" --pin-dir "$PIN" run -i lan0 -i wan0 --steer \
	--heartbeat-timeout-ms 3000 2>"$RUN/daemon.log" &
DAEMON_PID=$!
for _ in $(seq 100); do
	x status -j 2>/dev/null | grep -q '"synced": true' && break
	sleep 0.1
done
cat "$RUN/daemon.log"
tun_ifindex=$(ip netns exec "$GW" cat /sys/class/net/xfrm7/ifindex)
le32() { printf '%02x %02x %02x %02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
bpftool map update pinned "$PIN/xb_xfrm_links" key hex $(le32 7) value hex \
	$(le32 "$tun_ifindex") $(le32 0) $(le32 7) 00 00 00 00 $(printf '%.0s00 ' $(seq 16))

say "Traffic: a generator in each namespace (UDP, 20 datagrams per flow)"
send() { # NS SRC DST PORT
	ip netns exec "$1" "$PY" - "$2" "$3" "$4" <<'PYEOF'
import socket, sys, time
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for i in range(20):
    try:
        s.sendto(b"xfrmbpf demo %d" % i, (dst, port))
    except OSError:
        pass
    time.sleep(0.005)
PYEOF
}
set -x
send "$LAN" 192.0.2.10 198.51.100.10 5000        # LAN -> WAN, no policy: forwarded
send "$WAN" 198.51.100.66 198.51.100.1 5001      # blocked host (sub policy, in): policy_block
send "$WAN" 203.0.113.5 192.0.2.10 5002          # plaintext where ESP is required: policy_requires_ipsec
send "$WAN" 198.51.100.66 198.51.100.1 500       # IKE from the blocked host: bypass, never dropped
send "$LAN" 192.0.2.10 203.0.113.200 5003        # if_id 7 policy: steered into xfrm7
set +x
sleep 0.5

say "xfrmbpf stats: counters per reason and per interface"
x stats
say "Per-policy hits (xfrmbpf policy)"
x policy | grep -E '^src|dir|hits'
say "What arrived on the stand-in XFRM interface (TTL decremented by the gateway)"
grep -m3 'dst=203.0.113.200' "$RUN/tun.log" || true
echo "... $(grep -c 'dst=203.0.113.200' "$RUN/tun.log") packets for 203.0.113.200"
say "xfrmbpf classify: what the loaded program does with one packet"
x classify -i wan0 udp 203.0.113.5:1234 192.0.2.10:80
say "bpftool map dump of the counters that moved (key = row * XB_R_MAX + reason; per CPU, named fields)"
bpftool -j map dump pinned "$PIN/xb_stats" |
	jq -c '.[].formatted | select([.values[].value.packets] | add > 0)' | head -24 || true

say "Stopping the daemon (SIGTERM): the datapath would fail open from here"
kill "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=
tail -2 "$RUN/daemon.log"
x status | head -2
