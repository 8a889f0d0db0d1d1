#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `make deb`: the Debian 12 package, built from a copy of the tree (the
# files git knows, tracked or not ignored) under build/deb/, so the working
# tree gets no debian/xfrmbpf/, debian/files or build stamps; then lintian,
# which fails the build on any error. Result: build/deb/xfrmbpf_VERSION_amd64.deb
# (and build/deb/lintian.txt).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/build/deb
cd "$TOP"

die() { echo "deb: $*" >&2; exit 1; }

# The packaging tools: installed here rather than by scripts/install-deps.sh,
# as only `make deb` (and `make vmtest`, which installs the package) needs
# them. dh_bash-completion comes with bash-completion.
install_tools() {
	local need=() p

	for p in debhelper dpkg-dev fakeroot lintian bash-completion; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
	done
	[ ${#need[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing ${need[*]}; run as root (or: sudo apt-get install ${need[*]})"
	echo "deb: installing ${need[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${need[@]}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${need[@]}" >/dev/null; } ||
		die "cannot install ${need[*]}"
}

install_tools
version=$(cat VERSION)
chver=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ "$chver" = "$version" ] ||
	die "debian/changelog is at $chver, VERSION at $version: add a changelog entry (dch -v $version)"

src=$OUT/src/xfrmbpf-$version
rm -rf "$OUT"
mkdir -p "$src"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		grep -zv '^build/' | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf - | tar -C "$src" -xf -
	XB_GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
else
	tar -C "$TOP" --exclude=./build --exclude=./.git -cf - . | tar -C "$src" -xf -
	XB_GIT_REV=unknown
fi
export XB_GIT_REV

echo "deb: building xfrmbpf $version in $src" >&2
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 ||
	{ tail -40 "$OUT/build.log" >&2; die "dpkg-buildpackage failed (log: $OUT/build.log)"; }
mv "$OUT"/src/xfrmbpf*_"$version"_* "$OUT"/
rm -rf "$OUT/src"

changes=$(ls "$OUT"/xfrmbpf_"$version"_*.changes)
rc=0
lintian --fail-on error --display-info --pedantic "$changes" >"$OUT/lintian.txt" 2>&1 || rc=$?
sed 's/^/lintian: /' "$OUT/lintian.txt" >&2
[ "$rc" -eq 0 ] || die "lintian reports errors (build/deb/lintian.txt)"
echo "deb: $OUT/xfrmbpf_${version}_amd64.deb (lintian: $(grep -c '^E:' "$OUT/lintian.txt") errors," \
	"$(grep -c '^W:' "$OUT/lintian.txt") warnings)" >&2
