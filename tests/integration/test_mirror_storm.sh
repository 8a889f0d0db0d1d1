#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Netlink overflow: a daemon with the smallest receive buffer it accepts,
# stopped while 20,000 policy events arrive in a burst, loses some
# (ENOBUFS), re-dumps, and still converges to exactly the kernel's SPD;
# then a flush takes it back to zero.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

NPOL=${XBT_STORM_POLICIES:-20000}

xbt_setup mirror-storm
xbt_have_binary mirror-storm || exit 0

# Half IPv4 with ports, half IPv6, every direction, a tenth of the IPv6 ones
# sub policies, priorities spread over 0..999.
gen_batch() {
	local i j pr dirs=(in out fwd) protos=(udp tcp tcp) sub=('' '' '' '' '' '' '' '' '' ' ptype sub')

	for ((i = 0; i < NPOL; i++)); do
		pr=$(( (i * 7919) % 1000 ))
		j=$(( i / 2 ))
		if (( i % 2 == 0 )); then
			printf 'xfrm policy add src 192.0.2.%d dst 198.51.100.%d proto %s dport %d dir %s priority %d\n' \
				$((j % 100)) $((j / 100)) "${protos[j % 3]}" $((j % 65535 + 1)) \
				"${dirs[i % 3]}" "$pr"
		else
			printf 'xfrm policy add src 2001:db8:1::%x dst 2001:db8:2::%x dir %s priority %d%s\n' \
				$((j % 100)) $((j / 100)) "${dirs[i % 3]}" "$pr" "${sub[j % 10]}"
		fi
	done
}

count_is() {
	[ "$(xb policy -j | jq length)" = "$1" ] &&
		[ "$(xbt_status_field policies)" = "$1" ]
}

gen_batch >"$XBT_DIR/storm.batch"

xbt_daemon_start --rcvbuf 262144
if xbt_daemon_wait_synced 10; then
	tap_ok "daemon with --rcvbuf 262144 (the floor) synced"
else
	tap_fail "daemon with --rcvbuf 262144 (the floor) synced"
	exit 1
fi
resyncs0=$(xbt_status_field resyncs)

start=$(date +%s%N)
# a daemon that does not read for a while (stopped): the burst overflows
# any buffer
kill -STOP "$XBT_DAEMON_PID"
if xbt_ns ip -batch "$XBT_DIR/storm.batch"; then
	tap_ok "$NPOL policies added with ip -batch"
else
	tap_fail "$NPOL policies added with ip -batch"
fi
kill -CONT "$XBT_DAEMON_PID"
kn=$(xbt_ns ip xfrm policy list | grep -c '^src')
[ "$kn" = "$NPOL" ] && tap_ok "kernel holds $NPOL policies" ||
	tap_fail "kernel holds $NPOL policies" "kernel has $kn"

if wait_for 60 xbt_synced && wait_for 60 count_is "$NPOL"; then
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	tap_ok "mirror holds $NPOL policies and is synced (${ms} ms after the batch began)"
else
	tap_fail "mirror holds $NPOL policies and is synced" \
		"policy -j: $(xb policy -j | jq length), status: $(xb status -j | jq -c '{synced, policies, resyncs}')"
fi
xbt_expect_converged "storm: check and spd_compare equal" 30

resyncs=$(xbt_status_field resyncs)
if [ "$resyncs" -ge 1 ] 2>/dev/null && [ "$resyncs" -gt "$resyncs0" ]; then
	tap_ok "overflow caused a re-dump (resyncs $resyncs0 -> $resyncs)"
else
	tap_fail "overflow caused a re-dump" "resyncs $resyncs0 -> $resyncs"
fi
check "ids unique" bash -c "ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j |
	jq -e '([.[].id] | unique | length) == length'"
check "indexes unique" bash -c "ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j |
	jq -e '([.[].index] | unique | length) == length'"

# `ip xfrm policy flush` flushes only main policies (iproute2 sends the
# kernel's default type); sub policies need their own flush.
start=$(date +%s%N)
xbt_ns ip xfrm policy flush && xbt_ns ip xfrm policy flush ptype sub
if wait_for 60 count_is 0; then
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	tap_ok "flush converged to 0 policies (${ms} ms)"
else
	tap_fail "flush converged to 0 policies" "mirror has $(xb policy -j | jq length)"
fi
xbt_expect_converged "after flush: check and spd_compare equal" 30
if kill -0 "$XBT_DAEMON_PID" 2>/dev/null; then
	tap_ok "daemon still running after the storm"
else
	tap_fail "daemon still running after the storm"
fi

# SIGTERM while the daemon is busy re-dumping must still end it, cleanly.
ip netns exec "$XBT_NS" ip -batch "$XBT_DIR/storm.batch" &
batch=$!
xbt_track_pid "$batch"
wait_for 10 bash -c "ip netns exec $XBT_NS ip xfrm policy count | grep -qv 'IN  0 OUT 0'"
sleep 0.3
start=$(date +%s%N)
xbt_daemon_stop TERM
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$rc" -eq 0 ]; then
	tap_ok "SIGTERM during a storm: exit 0 after ${ms} ms"
else
	tap_fail "SIGTERM during a storm: exit 0 within 5 s" "exit $rc after ${ms} ms (124: had to be killed)"
fi
wait "$batch"
tap_done
