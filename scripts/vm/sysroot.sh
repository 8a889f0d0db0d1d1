#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The kernel lab's second root: a clean Debian 12 (minbase + systemd and the
# few packages a test needs) made with debootstrap from the mirror apt uses
# here, for scenarios that need systemd as PID 1 (`run.sh -S`), e.g. the
# package test tests/vm/scenarios/deb_service.sh. The lab boots it with the
# same kernel and initramfs as the host-root lab: the folder is shared
# read-only over 9p with a RAM overlay on top, so a boot never changes it.
#
# Cached in $XB_VM_SYSROOT_DIR (default /var/cache/xfrmbpf/sysroot), keyed
# by the package list and this script; a second call only refreshes the two
# small lab files (stage-2 init and the test runner unit) from the tree.
#
#   XB_VM_SYSROOT_DIR=DIR  cache directory
#   XB_VM_MIRROR=URL       Debian mirror (default: the first one apt uses)
#   -q                     print nothing when the image is already current
#
# Prints nothing else; the image is $XB_VM_SYSROOT_DIR/current (a folder).
set -euo pipefail

DIR=${XB_VM_SYSROOT_DIR:-/var/cache/xfrmbpf/sysroot}
SUITE=bookworm
QUIET=0
[ "${1:-}" = -q ] && QUIET=1

# systemd as init; iproute2/kmod/procps for the tests; the runtime
# libraries of the package (its shlibs Depends), so `dpkg -i` needs no
# network in the guest.
PKGS=systemd,udev,iproute2,kmod,procps,libbpf1,libxdp1,libmnl0,libjansson4,libmicrohttpd12,libelf1,zlib1g,libsystemd0

say() { [ "$QUIET" -eq 1 ] || echo "vm-sysroot: $*" >&2; }
die() { echo "vm-sysroot: $*" >&2; exit 1; }

mirror() {
	[ -n "${XB_VM_MIRROR:-}" ] && { echo "$XB_VM_MIRROR"; return; }
	local m
	m=$({ sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources
	      awk '$1 == "deb" { print $2 }' /etc/apt/sources.list; } 2>/dev/null |
		awk '!/-security/ { print; exit }')
	echo "${m:-http://deb.debian.org/debian}"
}

# The lab's files inside the image, rewritten at every call (cheap).
install_lab_files() {
	local root=$1

	mkdir -p "$root/usr/local/lib/xbvm"
	# Stage 2: started by the initramfs (xbvm.init=) as PID 1 with bash;
	# mounts what the test needs, then becomes systemd.
	cat >"$root/usr/local/lib/xbvm/init" <<'INIT'
#!/bin/bash
# Stage 2 of the systemd lab (scripts/vm/sysroot.sh): the host's root
# read-only at /host, the per-run directory at /out, the host's kernel
# modules and the project tree ($TOP) where the test expects them; then
# systemd as PID 1 runs xbvm-test.service.
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"; }
mkdir -p /host /out
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 xbhost /host || echo "xbvm: no /host"
mount -t 9p -o trans=virtio,version=9p2000.L,rw,cache=none,msize=512000 xbout /out || echo "xbvm: no /out"
kver=$(uname -r)
mkdir -p /lib/modules
ln -sfn "/host$(arg xbvm.kdir)/kroot/lib/modules/$kver" "/lib/modules/$kver"
top=$(sed -n 's/^export TOP=//p' /out/env 2>/dev/null | head -1)
eval "top=$top"
if [ -n "$top" ] && [ -d "/host$top" ]; then
	mkdir -p "$top" && mount --bind "/host$top" "$top"
fi
echo "=== xbvm: kernel $kver, systemd image, up $(cut -d' ' -f1 /proc/uptime) s ==="
exec /lib/systemd/systemd
INIT
	# The test runner: once the system is up, runs /out/cmd like
	# guest-init.sh does, writes the exit status and powers off at once.
	cat >"$root/usr/local/lib/xbvm/run-cmd" <<'RUN'
#!/bin/bash
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LC_ALL=C.UTF-8
echo "=== xbvm: system up ($(systemctl is-system-running 2>&1)), $(cut -d' ' -f1 /proc/uptime) s ==="
# The runner shared with guest-init.sh, from the project tree the stage-2
# init mounted at $TOP.
top=$(sed -n 's/^export TOP=//p' /out/env 2>/dev/null | head -1)
eval "top=$top"
if [ -n "$top" ] && . "$top/scripts/vm/guest-cmd.sh"; then
	export XB_VM_SYSTEMD=1
	xbvm_run_cmd
	rc=$?
	journalctl -b --no-pager >/out/journal 2>/dev/null
	xbvm_report "$rc"
else
	echo "xbvm: no project tree at '$top'"
	echo 99 >/out/rc
fi
dmesg -n 1
sync
echo o >/proc/sysrq-trigger
sleep 10
RUN
	chmod 0755 "$root/usr/local/lib/xbvm/init" "$root/usr/local/lib/xbvm/run-cmd"
	cat >"$root/etc/systemd/system/xbvm-test.service" <<'UNIT'
[Unit]
Description=kernel lab: run the test command (/out/cmd)
After=multi-user.target

[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=/usr/local/lib/xbvm/run-cmd
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no

[Install]
WantedBy=multi-user.target
UNIT
	# The console is the test's output: no [ OK ]/[FAILED] lines there.
	mkdir -p "$root/etc/systemd/system.conf.d"
	printf '[Manager]\nShowStatus=no\n' >"$root/etc/systemd/system.conf.d/xbvm.conf"
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
	ln -sfn /etc/systemd/system/xbvm-test.service \
		"$root/etc/systemd/system/multi-user.target.wants/xbvm-test.service"
}

# Units a test VM has no use for (no login, no timers, no network config).
trim_image() {
	local root=$1 u

	for u in getty@.service serial-getty@.service getty.target \
		systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer \
		dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
		systemd-networkd-wait-online.service systemd-firstboot.service; do
		ln -sfn /dev/null "$root/etc/systemd/system/$u"
	done
	echo xbvm >"$root/etc/hostname"
	: >"$root/etc/fstab"
	rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*_Packages 2>/dev/null || true
}

main() {
	local key name start

	[ "$(id -u)" -eq 0 ] || die "needs root"
	command -v debootstrap >/dev/null || {
		say "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends debootstrap >/dev/null; } || die "cannot install debootstrap"
	}
	mkdir -p "$DIR/images"
	exec 9>"$DIR/lock"
	flock 9
	key=$(printf '%s %s %s' "$SUITE" "$PKGS" "$(sed '/^install_lab_files/,/^}/d' "$0")" | sha256sum | cut -c1-12)
	name=$SUITE-$key
	if [ ! -e "$DIR/images/$name/.complete" ]; then
		start=$(date +%s)
		QUIET=0
		say "debootstrap $SUITE (minbase + $PKGS) from $(mirror) into $DIR/images/$name"
		rm -rf "$DIR/images/$name"
		debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$DIR/images/$name" "$(mirror)" \
			>"$DIR/debootstrap.log" 2>&1 || { tail -20 "$DIR/debootstrap.log" >&2; die "debootstrap failed (log: $DIR/debootstrap.log)"; }
		trim_image "$DIR/images/$name"
		touch "$DIR/images/$name/.complete"
		say "image ready in $(($(date +%s) - start)) s, $(du -sh "$DIR/images/$name" | cut -f1)"
		for d in "$DIR"/images/*; do
			[ "$(basename "$d")" = "$name" ] || rm -rf "$d"
		done
	fi
	install_lab_files "$DIR/images/$name"
	ln -sfn "images/$name" "$DIR/current.new"
	mv -T "$DIR/current.new" "$DIR/current"
	say "image $DIR/current -> images/$name"
}

main "$@"
