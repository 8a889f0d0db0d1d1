# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Sourced in the guest by both of the lab's runners: guest-init.sh (PID 1
# over the host's root) and the systemd image's test service (run-cmd,
# scripts/vm/sysroot.sh). They run the command scripts/vm/run.sh left in
# /out and hand back, in /out, how it went: rc, dmesg, kernel-trouble.

# xbvm_run_cmd: /out/cmd with the exports of /out/env, from /out/cwd, its
# output on the console; returns its exit status (99: no command).
xbvm_run_cmd() {
	local rc

	if [ ! -f /out/cmd ]; then
		echo "xbvm: no /out/cmd"
		return 99
	fi
	# shellcheck disable=SC1091
	[ -f /out/env ] && . /out/env
	export XB_VM_GUEST=1
	cd "$(cat /out/cwd 2>/dev/null || echo /)" 2>/dev/null || cd /
	bash /out/cmd </dev/null 2>&1
	rc=$?
	cd /
	return $rc
}

# Kernel trouble that a passing command must not hide: dmesg into /out,
# its warnings on the console; returns 1 when there were any.
xbvm_report_kernel_trouble() {
	local pat='BUG:|WARNING:|Oops|general protection fault|Call Trace:|list_del corruption|UBSAN:|KASAN:'

	dmesg >/out/dmesg 2>/dev/null
	grep -qE "$pat" /out/dmesg || return 0
	echo "=== xbvm: kernel warnings in dmesg ==="
	grep -E -A8 "$pat" /out/dmesg | head -60
	return 1
}

# xbvm_report RC: the exit status and the kernel's state, for run.sh.
xbvm_report() {
	xbvm_report_kernel_trouble || echo kernel-trouble >/out/kernel-trouble
	echo "$1" >/out/rc
	echo "=== xbvm: rc=$1, up $(cut -d' ' -f1 /proc/uptime) s ==="
}
