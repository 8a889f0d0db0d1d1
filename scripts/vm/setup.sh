#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# One-time setup of the kernel lab: Debian's stock kernel (the one
# linux-image-amd64 points to) unpacked next to its modules, an uncompressed
# vmlinux for a fast PVH boot, and a busybox initramfs that mounts the host's
# root over 9p. Nothing is installed on the host but the lab's tools (QEMU,
# busybox-static, kmod, xz-utils, iputils-ping, jq, ethtool); the kernel package is only
# downloaded and unpacked.
#
# Everything lives in $XB_VM_DIR (by default the series' cache, kernel.sh),
# outside the work tree, and is reused: a second call costs about a second
# (for apt-cache) unless the kernel package (or this script) changed.
#
#   XB_VM_KERNEL=6.1|6.12  which of Debian 12's kernels (kernel.sh; 6.1)
#   XB_VM_DIR=DIR      cache directory
#   XB_VM_KPKG=NAME    kernel package to use instead of the series'
#   XB_VM_UPDATE=1     run apt-get update first (to notice a newer kernel)
#   -q                 print nothing when the cache is already current
#
# Prints the kernel directory ($XB_VM_DIR/current) layout on success:
#   vmlinux | bzImage, initramfs.cpio.gz, kroot/ (lib/modules/KVER), kver
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/kernel.sh"
xbvm_kernel_env || exit 1
VM_DIR=$XB_VM_DIR
QUIET=0
[ "${1:-}" = -q ] && QUIET=1

say() { [ "$QUIET" -eq 1 ] || echo "vm-setup: $*" >&2; }
die() { echo "vm-setup: $*" >&2; exit 1; }

# Host tools the lab needs; QEMU is large, so it is installed here rather than
# by scripts/install-deps.sh for every build.
install_tools() {
	local need=()

	command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
	# The initramfs needs the static build: it runs before any library.
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
		need+=(busybox-static)
	command -v modprobe >/dev/null && command -v depmod >/dev/null || need+=(kmod)
	command -v xz >/dev/null || need+=(xz-utils)
	command -v ping >/dev/null || need+=(iputils-ping)
	command -v jq >/dev/null || need+=(jq)
	# the vlan scenario turns the veth's VLAN offloads off and on
	command -v ethtool >/dev/null || need+=(ethtool)
	[ ${#need[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing ${need[*]}; run as root"
	say "installing ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${need[@]}" >/dev/null
}

# The versioned image package linux-image-amd64 depends on today.
kernel_pkg() {
	if [ -n "${XB_VM_KPKG:-}" ]; then
		echo "$XB_VM_KPKG"
		return
	fi
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

pkg_version() {
	apt-cache show --no-all-versions "$1" 2>/dev/null | awk '$1 == "Version:" { print $2; exit }'
}

# Offset of every xz stream header in a bzImage: the payload is one of them.
xz_offsets() {
	LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | cut -d: -f1
}

# Uncompressed vmlinux (ELF with a PVH note) boots ~3 s faster than the
# bzImage under TCG because QEMU skips the real-mode decompressor.
extract_vmlinux() {
	local bz=$1 out=$2 off

	for off in $(xz_offsets "$bz"); do
		# xz stops at the end of its stream; trailing bytes are ignored.
		tail -c +$((off + 1)) "$bz" | xz -dc --single-stream >"$out" 2>/dev/null || true
		if [ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
			return 0
		fi
	done
	rm -f "$out"
	return 1
}

# Modules (with dependencies, in load order) the initramfs needs to reach
# the host's root: virtio transport, 9p and overlayfs.
initramfs_modules() {
	local kroot=$1 kver=$2 m

	for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -d "$kroot" -S "$kver" --show-depends "$m" |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}

write_init() {
	cat >"$1" <<'EOF'
#!/bin/busybox sh
# Stage 1 (initramfs): load the 9p and overlay modules, mount the host's
# root read-only with a RAM overlay on top, and hand over to stage 2
# (scripts/vm/guest-init.sh from the host tree, named on the command line).
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "xbvm-init: $*"; echo o >/proc/sysrq-trigger; sleep 5; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
	insmod "/modules/$m" || echo "xbvm-init: insmod $m failed"
done </modules/order
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose xbroot /lower ||
	fail "cannot mount the host root over 9p"
mount -t tmpfs -o mode=0755 xbrw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work xbroot /root ||
	fail "cannot mount the overlay"
for d in proc sys dev; do
	mount --move "/$d" "/root/$d"
done
stage2=$(tr ' ' '\n' </root/proc/cmdline | sed -n 's/^xbvm\.init=//p')
[ -n "$stage2" ] || fail "no xbvm.init= on the kernel command line"
exec switch_root /root /bin/bash "$stage2"
EOF
	chmod 0755 "$1"
}

build_initramfs() {
	local kroot=$1 kver=$2 out=$3 w ko

	w=$(mktemp -d)
	mkdir -p "$w"/{bin,proc,sys,dev,lower,rw,root,modules}
	cp /bin/busybox "$w/bin/busybox"
	initramfs_modules "$kroot" "$kver" | while read -r ko; do
		cp "$ko" "$w/modules/"
		basename "$ko" >>"$w/modules/order"
	done
	[ -s "$w/modules/order" ] || { rm -rf "$w"; die "no modules found for the initramfs"; }
	write_init "$w/init"
	(cd "$w" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$out"
	rm -rf "$w"
}

# Download (never install) the kernel package, falling back to a fresh
# package list when the mirror no longer has the version ours names.
download_deb() {
	local pkg=$1 ver=$2 debdir=$3 f

	for f in "$debdir/${pkg}_"*.deb; do
		[ -e "$f" ] || continue
		[ "$(dpkg-deb -f "$f" Version)" = "$ver" ] && return 0
		rm -f "$f"
	done
	(cd "$debdir" && apt-get download -q "$pkg=$ver" 2>&1 |
		grep -v 'unsandboxed' >&2) || true
	ls "$debdir/${pkg}_"*.deb >/dev/null 2>&1
}

build_kernel_dir() {
	local pkg=$1 ver=$2 dir=$3 deb kver

	deb=$(ls "$VM_DIR/deb/${pkg}_"*.deb | head -1)
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	dpkg-deb -x "$deb" "$dir.tmp/kroot"
	kver=$(ls "$dir.tmp/kroot/lib/modules")
	[ -n "$kver" ] || die "no lib/modules in $deb"
	depmod -b "$dir.tmp/kroot" "$kver"
	if ! extract_vmlinux "$dir.tmp/kroot/boot/vmlinuz-$kver" "$dir.tmp/vmlinux"; then
		say "no vmlinux in the bzImage; booting the compressed kernel (slower)"
		cp "$dir.tmp/kroot/boot/vmlinuz-$kver" "$dir.tmp/bzImage"
	fi
	build_initramfs "$dir.tmp/kroot" "$kver" "$dir.tmp/initramfs.cpio.gz"
	echo "$kver" >"$dir.tmp/kver"
	printf '%s %s\n' "$pkg" "$ver" >"$dir.tmp/package"
	mv "$dir.tmp" "$dir"
}

# Point "current" at the new kernel atomically. A VM started a moment ago
# may still read the previous kernel's modules over 9p, so the old trees
# are only marked retired, and deleted once retired for an hour.
switch_current() {
	local name=$1 pkg=$2 d

	rm -f "$VM_DIR/kernels/$name/retired"
	ln -sfn "kernels/$name" "$VM_DIR/current.new"
	mv -T "$VM_DIR/current.new" "$VM_DIR/current"
	for d in "$VM_DIR"/kernels/*; do
		[ "$(basename "$d")" = "$name" ] && continue
		if [ ! -e "$d/retired" ]; then
			touch "$d/retired"
		elif [ -n "$(find "$d/retired" -mmin +60)" ]; then
			rm -rf "$d"
		fi
	done
	find "$VM_DIR/deb" -name '*.deb' ! -name "${pkg}_*" -delete 2>/dev/null || true
}

main() {
	local pkg ver name self_id

	[ "$(uname -m)" = x86_64 ] || die "the kernel lab needs an x86_64 host"
	[ "${XB_VM_UPDATE:-0}" = 1 ] && apt-get update -qq
	install_tools
	mkdir -p "$VM_DIR/kernels" "$VM_DIR/deb"
	exec 9>"$VM_DIR/lock"
	flock 9

	pkg=$(kernel_pkg)
	ver=
	[ -n "$pkg" ] && ver=$(pkg_version "$pkg")
	if [ -z "$ver" ]; then
		if [ -e "$VM_DIR/current/kver" ] && [ "${XB_VM_UPDATE:-0}" != 1 ]; then
			say "no package information; using the cached kernel"
			return 0
		fi
		apt-get update -qq
		pkg=$(kernel_pkg)
		[ -n "$pkg" ] && ver=$(pkg_version "$pkg")
		[ -n "$ver" ] || die "cannot resolve the kernel package (linux-image-amd64)"
	fi
	# The cache key covers this script too: a changed initramfs gets rebuilt.
	self_id=$(sha256sum "$0" | cut -c1-12)
	name="${pkg}_${ver//[:~]/_}+$self_id"

	if [ -e "$VM_DIR/kernels/$name/kver" ]; then
		switch_current "$name" "$pkg"
		say "kernel $(cat "$VM_DIR/current/kver") ($pkg $ver) is current"
		return 0
	fi

	say "preparing $pkg $ver"
	if ! download_deb "$pkg" "$ver" "$VM_DIR/deb"; then
		apt-get update -qq
		pkg=$(kernel_pkg)
		ver=$(pkg_version "$pkg")
		name="${pkg}_${ver//[:~]/_}+$self_id"
		download_deb "$pkg" "$ver" "$VM_DIR/deb" || die "cannot download $pkg $ver"
	fi
	build_kernel_dir "$pkg" "$ver" "$VM_DIR/kernels/$name"
	switch_current "$name" "$pkg"
	QUIET=0
	say "kernel $(cat "$VM_DIR/current/kver") ready in $VM_DIR/current" \
		"($(ls "$VM_DIR/current" | tr '\n' ' '))"
}

main "$@"
