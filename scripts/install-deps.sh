#!/bin/bash
# Install every build and test dependency of xfrmbpf from Debian 12's packages,
# only when something is missing, so `make` works on a fresh machine.
set -euo pipefail

pkgs=(
	make gcc clang llvm pkg-config libclang-rt-14-dev
	libbpf-dev libxdp-dev libmnl-dev libjansson-dev libcmocka-dev libelf-dev zlib1g-dev
	bpftool iproute2 xdp-tools
	python3 jq util-linux
	iputils-ping kmod xz-utils nftables
	linux-libc-dev libc6-dev
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
