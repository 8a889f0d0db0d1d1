#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The daemon as a target: anyone may send to its netlink sockets, so only
# the kernel's messages count (a forged flush of the SPD from a local
# process changes nothing); and its memory holds SA keys, so a crash
# writes no core file (not dumpable).
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

xbt_setup daemon-hardening
xbt_have_binary daemon-hardening || exit 0

xbt_ns ip -batch - <<'EOF'
xfrm policy add src 192.0.2.0/24 dst 198.51.100.0/24 dir fwd action block priority 10
xfrm policy add src 2001:db8:1::/64 dst 2001:db8:2::/64 dir in priority 20
EOF
xbt_daemon_start
xbt_daemon_wait_synced 10 || { tap_fail "daemon synced"; exit 1; }
xbt_expect_converged "2 policies mirrored"

# --- forged netlink messages -----------------------------------------------
# Sends a flush of every policy and every SA to each NETLINK_XFRM and
# NETLINK_ROUTE socket of the daemon, from a port that is not the
# kernel's; prints how many sockets it reached.
forge_flush() {
	xbt_ns "$XBT_PYTHON" - "$XBT_DAEMON_PID" <<'EOF'
import os, socket, struct, sys

pid = sys.argv[1]
inodes = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        link = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
ports = []
with open("/proc/net/netlink") as f:
    next(f)
    for line in f:
        col = line.split()
        if col[9] in inodes and col[1] in ("0", "6"):
            ports.append((int(col[1]), int(col[2])))
XFRM_MSG_FLUSHSA, XFRM_MSG_FLUSHPOLICY, RTM_DELLINK = 0x1c, 0x1d, 17
sent = 0
for proto, port in ports:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
    s.bind((0, 0))
    if proto == 6:
        msgs = [struct.pack("=IHHII", 16, XFRM_MSG_FLUSHPOLICY, 0, 0, 0),
                # struct xfrm_usersa_flush: proto 0 (all), padded
                struct.pack("=IHHIIB3x", 20, XFRM_MSG_FLUSHSA, 0, 0, 0, 0)]
    else:
        # struct ifinfomsg of ifindex 1
        msgs = [struct.pack("=IHHIIBxHiII", 32, RTM_DELLINK, 0, 0, 0, 0, 0, 1, 0, 0)]
    for m in msgs:
        s.sendto(m, (port, 0))
        sent += 1
    s.close()
print(sent)
EOF
}

bad_before=$(xbt_status_field nl_bad_msgs)
sent=$(forge_flush)
if [ "${sent:-0}" -ge 2 ]; then
	tap_ok "forged flushes sent to the daemon's netlink sockets ($sent messages)"
else
	tap_fail "forged flushes sent to the daemon's netlink sockets" "sent: ${sent:-none}"
fi
sleep 0.5
# Counted as they are read: at once on the event sockets, at the next
# request on the request sockets.
bad_after=$(xbt_status_field nl_bad_msgs)
if [ "$bad_after" -gt "$bad_before" ] 2>/dev/null; then
	tap_ok "forged messages counted and dropped (nl_bad_msgs $bad_before -> $bad_after of $sent sent)"
else
	tap_fail "forged messages counted and dropped" \
		"nl_bad_msgs $bad_before -> $bad_after, $sent sent"
fi
if kill -0 "$XBT_DAEMON_PID" 2>/dev/null && xbt_synced; then
	tap_ok "daemon alive and synced after the forged messages"
else
	tap_fail "daemon alive and synced after the forged messages"
fi
xbt_expect_converged "mirror still equals the kernel (the forged flush did nothing)"
n=$(xb policy -j | jq length)
if [ "$n" = 2 ]; then
	tap_ok "both policies still mirrored"
else
	tap_fail "both policies still mirrored" "xfrmbpf policy lists $n"
fi

# the kernel's own flush still works
xbt_ns ip xfrm policy flush
xbt_expect_converged "a real flush by the kernel is mirrored"

xbt_daemon_stop
rc=$?
[ "$rc" -eq 0 ] && tap_ok "daemon exited cleanly" || tap_fail "daemon exited cleanly" "rc $rc"

# --- no core file ----------------------------------------------------------
# SA keys pass through the daemon's buffers: a crash must not write them
# to disk (PR_SET_DUMPABLE 0). With core_pattern "core[...]" a core file
# lands in the process's working directory; a control process shows that
# this machine writes one.
cores() {
	find "$1" -mindepth 1 -maxdepth 1 -name 'core*' | wc -l
}

if [[ $(cat /proc/sys/kernel/core_pattern) == core* ]] &&
   [ "$(ulimit -Hc)" = unlimited ]; then
	ulimit -c unlimited
	mkdir -p "$XBT_DIR/crash-control" "$XBT_DIR/crash-daemon"
	(cd "$XBT_DIR/crash-control" && exec sleep 30) &
	control=$!
	xbt_track_pid "$control"
	sleep 0.2
	kill -ABRT "$control"
	wait "$control" 2>/dev/null
	if [ "$(cores "$XBT_DIR/crash-control")" -ge 1 ]; then
		tap_ok "control: a crashing process leaves a core file here"
		cd "$XBT_DIR/crash-daemon" || exit 1
		xbt_daemon_start
		cd - >/dev/null || exit 1
		if xbt_daemon_wait_synced 10; then
			kill -ABRT "$XBT_DAEMON_PID"
			wait "$XBT_DAEMON_PID" 2>/dev/null
			XBT_DAEMON_PID=
			if [ "$(cores "$XBT_DIR/crash-daemon")" -eq 0 ]; then
				tap_ok "a crashing daemon leaves no core file (not dumpable)"
			else
				tap_fail "a crashing daemon leaves no core file (not dumpable)" \
					"$(ls "$XBT_DIR/crash-daemon")"
			fi
		else
			tap_fail "daemon synced for the crash test"
		fi
	else
		tap_skip "a crashing daemon leaves no core file" "no core file for the control process"
	fi
	rm -f "$XBT_DIR"/crash-*/core*
	ulimit -c 0
else
	tap_skip "a crashing daemon leaves no core file" \
		"core_pattern is not a plain file name (or core size is limited)"
fi
tap_done
