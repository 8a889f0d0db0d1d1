#!/bin/bash
# Install every build and test dependency of xfrmbpf from Debian 12's packages,
# only when something is missing, so `make` works on a fresh machine.
set -euo pipefail

pkgs=(
	make gcc clang llvm pkg-config libclang-rt-14-dev
	libbpf-dev libxdp-dev libmnl-dev libjansson-dev libcmocka-dev libelf-dev zlib1g-dev
	libmicrohttpd-dev libsystemd-dev
	bpftool iproute2 xdp-tools
	python3 jq util-linux curl python3-prometheus-client
	iputils-ping kmod xz-utils nftables iptables
	scdoc man-db groff-base bash-completion
	linux-libc-dev libc6-dev
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
install_missing() {
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# promtool (`promtool check metrics`, tests/integration/test_metrics.sh) from
# Debian's prometheus package, unpacked into build/tools: installing that
# package would also install and start a Prometheus server. Optional: the
# test also parses with python3-prometheus-client.
fetch_promtool() {
	local tools tmp
	tools="$(cd "$(dirname "$0")/.." && pwd)/build/tools"
	[ -x "$tools/promtool" ] && return 0
	command -v apt-get >/dev/null || return 0
	tmp=$(mktemp -d)
	if (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1) &&
	   dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root" &&
	   [ -x "$tmp/root/usr/bin/promtool" ]; then
		mkdir -p "$tools"
		cp "$tmp/root/usr/bin/promtool" "$tools/promtool"
	else
		echo "install-deps: couldn't fetch promtool (prometheus package); test_metrics uses the Python parser only" >&2
	fi
	rm -rf "$tmp"
}

install_missing
fetch_promtool
