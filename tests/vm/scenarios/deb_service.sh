#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The Debian package (make deb) on a clean Debian 12 root with systemd as
# PID 1 (scripts/vm/sysroot.sh, booted by `run.sh -S` from the host part
# below): dpkg -i; the service is
# enabled and reaches active (Type=notify: only after READY=1, i.e. after
# the first full sync) mirror-only, with a STATUS= text and a watchdog it
# keeps petting; an interface added to /etc/xfrmbpf/xfrmbpf.conf gets XDP at
# `systemctl reload` (same PID); restart; kill -9 (systemd restarts it);
# stop detaches; reinstall and an upgrade keep the edited conffile without
# a prompt; purge leaves no /etc/xfrmbpf, no pin directory, no XDP program,
# no unit. Started on the host, it builds the package (make deb) first.
set -u
. "$(dirname "$0")/_lib.sh"

if [ "${XB_VM_GUEST:-0}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || { tap_skip "deb_service" "needs root"; exit 0; }
	make -s -C "$TOP" deb >&2 || { tap_fail "make deb"; exit 1; }
	exec bash "$TOP/scripts/vm/run.sh" -S -- bash "$(readlink -f "$0")" "$@"
fi
if [ "${XB_VM_SYSTEMD:-0}" != 1 ]; then
	tap_fail "deb_service: needs the systemd image (scripts/vm/run.sh -S)"
	exit 1
fi
vm_banner "deb_service"

CONF=/etc/xfrmbpf/xfrmbpf.conf
PIN=/sys/fs/bpf/xfrmbpf
UNIT=xfrmbpf.service
DEV=xbt-d0
deb=$(ls "$TOP"/build/deb/xfrmbpf_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { tap_fail "a package in build/deb (make deb)"; exit 1; }
echo "# package $(basename "$deb"), systemd $(systemctl --version | awk 'NR == 1 { print $2 }')"
cp "$deb" /root/ && deb=/root/$(basename "$deb")

prop() { systemctl show -p "$1" --value "$UNIT"; }
is_active() { [ "$(prop ActiveState)" = active ]; }
is_inactive() { [ "$(prop ActiveState)" = inactive ]; }
# Our XDP program on DEV: xb_xdp, or libxdp's dispatcher (nothing else loads
# XDP in this VM).
has_xdp() { ip -d link show dev "$1" | grep -qE 'prog/xdp id [0-9]+ name (xb_xdp|xdp_dispatcher)'; }
no_xdp() { ! ip -d link show dev "$1" | grep -q 'prog/xdp'; }
any_xdp() { ip -d link show | grep -q 'prog/xdp'; }
journal() {
	echo "#   --- journalctl -u $UNIT (last 25) ---"
	journalctl -u "$UNIT" -n 25 --no-pager -o short-monotonic 2>&1 | sed 's/^/#   /'
	echo "#   --- systemctl status ---"
	systemctl status --no-pager "$UNIT" 2>&1 | head -15 | sed 's/^/#   /'
}
expect_context() { journal; }
# wait_active: the service reaches active (READY=1 came) within 90 s (5 s
# once it failed to: the rest then fails fast instead of timing out).
W=90
wait_active() { wait_for "$W" is_active || { W=5; return 1; }; }
wait_restarted() { # PID NRESTARTS: a new main PID, NRestarts grown
	[ "$(prop NRestarts)" -gt "$2" ] && is_active && [ "$(prop MainPID)" != "$1" ] &&
		[ "$(prop MainPID)" != 0 ]
}

# ---- install ----
out=$(dpkg -i "$deb" 2>&1)
if [ $? -eq 0 ]; then tap_ok "dpkg -i $(basename "$deb")"; else tap_fail_log "dpkg -i" "$out"; exit 1; fi
expect "the unit is enabled" [ "$(systemctl is-enabled "$UNIT")" = enabled ]
expect "the conffile is registered" eval "dpkg-query -W -f='\${Conffiles}' xfrmbpf | grep -q $CONF"
expect "the sample config enables no interface" eval "! grep -q '^[[:space:]]*interface' $CONF"
expect "the service reaches active (READY=1 after the first sync)" wait_active
expect "type notify, main PID set" eval '[ "$(prop Type)" = notify ] && [ "$(prop MainPID)" -gt 0 ]'
status=$(prop StatusText)
expect "STATUS= text set ($status)" [ -n "$status" ]
expect "the mirror runs: xfrmbpf status" eval "xfrmbpf status >/dev/null"
expect "the sandboxed service watches the kernel's SPD (kprobes through its syscall filter)" \
	eval 'xfrmbpf status | grep -q "^SPD changes: seen as they happen"'
expect "maps pinned under $PIN" eval "ls $PIN | grep -q ."
expect "mirror only: no XDP on any device" eval "! any_xdp"
expect "watchdog configured (WatchdogUSec=$(prop WatchdogUSec))" [ "$(prop WatchdogUSec)" != 0 ]
pid=$(prop MainPID)
sleep 12
expect "the watchdog is fed: still active after 12 s, same PID, no restart" \
	eval '[ "$(prop MainPID)" = "$pid" ] && is_active && [ "$(prop NRestarts)" = 0 ]'
expect "bash completion installed" [ -f /usr/share/bash-completion/completions/xfrmbpf ]
expect "man page installed" [ -f /usr/share/man/man8/xfrmbpf.8.gz ]
out=$(systemd-analyze verify --man=no "$UNIT" 2>&1)
if [ -z "$out" ]; then tap_ok "systemd-analyze verify --man=no: clean (no man in the image)"; else tap_fail_log "systemd-analyze verify" "$out"; fi
echo "# $(systemd-analyze security "$UNIT" 2>/dev/null | tail -1)"
# CAP_NET_ADMIN 12, CAP_SYS_PTRACE 19, CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39
capbnd() { awk '/^CapBnd/ { print $2 }' "/proc/$(prop MainPID)/status"; }
expect "bounding set: BPF NET_ADMIN SYS_ADMIN PERFMON SYS_PTRACE ($(capbnd))" \
	[ "$(capbnd)" = 000000c000281000 ]

# ---- reload: attach an interface ----
ip link add "$DEV" type veth peer name xbt-d1
ip link set "$DEV" up && ip link set xbt-d1 up
echo "interface = $DEV" >>"$CONF"
pid=$(prop MainPID)
out=$(systemctl reload "$UNIT" 2>&1)
if [ $? -eq 0 ]; then tap_ok "systemctl reload"; else tap_fail_log "systemctl reload" "$out"; fi
expect "reload: XDP on $DEV" wait_for "$((W / 3))" has_xdp "$DEV"
expect "reload: same main PID, active" eval '[ "$(prop MainPID)" = "$pid" ] && wait_active'

# ---- restart ----
out=$(systemctl restart "$UNIT" 2>&1)
if [ $? -eq 0 ]; then tap_ok "systemctl restart"; else tap_fail_log "systemctl restart" "$out"; fi
expect "restart: new main PID, active" eval '[ "$(prop MainPID)" != "$pid" ] && wait_active'
expect "restart: XDP on $DEV" wait_for "$((W / 3))" has_xdp "$DEV"

# ---- kill -9: systemd restarts it ----
pid=$(prop MainPID)
n=$(prop NRestarts)
kill -9 "$pid"
expect "kill -9: restarted by systemd (NRestarts $n -> more), active" wait_for "$W" wait_restarted "$pid" "$n"
expect "kill -9: XDP on $DEV again" wait_for "$((W / 3))" has_xdp "$DEV"

# ---- stop ----
out=$(systemctl stop "$UNIT" 2>&1)
if [ $? -eq 0 ]; then tap_ok "systemctl stop"; else tap_fail_log "systemctl stop" "$out"; fi
expect "stop: inactive, result success (exit 0 on SIGTERM)" \
	eval 'is_inactive && [ "$(prop Result)" = success ]'
expect "stop: no XDP left on $DEV" no_xdp "$DEV"

# ---- reinstall and upgrade ----
systemctl start "$UNIT"
wait_active
out=$(dpkg -i "$deb" 2>&1)
if [ $? -eq 0 ]; then tap_ok "reinstall: dpkg -i again"; else tap_fail_log "reinstall" "$out"; fi
expect "reinstall: active again" wait_active
up=/root/up
rm -rf "$up" && dpkg-deb -R "$deb" "$up"
ver=$(sed -n 's/^Version: //p' "$up/DEBIAN/control")
sed -i "s/^Version: .*/Version: $ver+1/" "$up/DEBIAN/control"
dpkg-deb -b "$up" /root/xfrmbpf_up.deb >/dev/null
pid=$(prop MainPID)
out=$(dpkg -i /root/xfrmbpf_up.deb 2>&1)
if [ $? -eq 0 ]; then tap_ok "upgrade $ver -> $ver+1: dpkg -i"; else tap_fail_log "upgrade" "$out"; fi
expect "upgrade: version $ver+1 installed" [ "$(dpkg-query -W -f='${Version}' xfrmbpf)" = "$ver+1" ]
expect "upgrade: service restarted and active" eval '[ "$(prop MainPID)" != "$pid" ] && wait_active'
expect "upgrade: the edited conffile kept (no prompt)" grep -q "^interface = $DEV" "$CONF"
expect "upgrade: XDP on $DEV" wait_for "$((W / 3))" has_xdp "$DEV"

# ---- purge ----
out=$(dpkg --purge xfrmbpf 2>&1)
if [ $? -eq 0 ]; then tap_ok "dpkg --purge"; else tap_fail_log "dpkg --purge" "$out"; fi
expect "purge: package gone" eval "! dpkg-query -W -f='\${Status}' xfrmbpf 2>/dev/null | grep -q installed"
expect "purge: no /etc/xfrmbpf" [ ! -e /etc/xfrmbpf ]
expect "purge: no $PIN" [ ! -e "$PIN" ]
expect "purge: no XDP on any device" eval "! any_xdp"
expect "purge: no xfrmbpf process" eval "! pgrep -x xfrmbpf"
expect "purge: no unit, no enablement link" eval \
	"! systemctl cat $UNIT >/dev/null 2>&1 && [ ! -e /etc/systemd/system/multi-user.target.wants/$UNIT ]"
ip link del "$DEV" 2>/dev/null
tap_done
