# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Sourced by the kernel lab's scripts: which of Debian 12's kernels a run
# boots. XB_VM_KERNEL names a series (default 6.1):
#   6.1    the stock kernel, what linux-image-amd64 depends on, cached in
#          /var/cache/xfrmbpf/vmtest
#   6.12   the newest linux-image-6.12.*+deb12-amd64 (bookworm's security
#          updates carry it), cached in /var/cache/xfrmbpf/vmtest-6.12
# Each series keeps a cache of its own, so that switching never replaces
# the other's kernel. XB_VM_DIR and XB_VM_KPKG, when set, still win.

XB_VM_KERNELS="6.1 6.12"

# The newest package of a series' versioned kernel images, from apt's lists.
xbvm_series_pkg() {
	apt-cache pkgnames "linux-image-$1." 2>/dev/null |
		grep -E "^linux-image-${1//./\\.}\.[0-9]+\+deb12-amd64$" | sort -V | tail -n 1
}

# Exports XB_VM_KERNEL, XB_VM_DIR and (6.12) XB_VM_KPKG for the series.
# Returns 1, saying why, for an unknown series or one apt does not know.
xbvm_kernel_env() {
	local series=${XB_VM_KERNEL:-6.1} pkg

	case $series in
	6.1)
		export XB_VM_DIR=${XB_VM_DIR:-/var/cache/xfrmbpf/vmtest}
		;;
	6.12)
		export XB_VM_DIR=${XB_VM_DIR:-/var/cache/xfrmbpf/vmtest-6.12}
		if [ -z "${XB_VM_KPKG:-}" ]; then
			pkg=$(xbvm_series_pkg "$series")
			if [ -z "$pkg" ]; then
				echo "kernel lab: apt knows no linux-image-$series.*+deb12-amd64" \
					"(is bookworm-security in its sources? apt-get update)" >&2
				return 1
			fi
			export XB_VM_KPKG=$pkg
		fi
		;;
	*)
		echo "kernel lab: unknown kernel '$series' (one of: $XB_VM_KERNELS, or all)" >&2
		return 1
		;;
	esac
	export XB_VM_KERNEL=$series
}
