#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The SAD mirror follows `ip xfrm state` changes, with whichever XFRM
# protocol this kernel can create states for (ESP with null algorithms,
# AH, IPComp). A kernel with none of them (no esp4/ah4/ipcomp types, as on
# the development host) skips the test; the kernel lab runs it.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

xbt_setup mirror-sas
xbt_have_binary mirror-sas || exit 0

# The algorithm words `ip xfrm state add` needs for each protocol.
declare -A ALG=(
	[esp]="enc cipher_null ''"
	[ah]="auth digest_null ''"
	[comp]="comp deflate ''"
)

# state_add PROTO SRC DST SPI ARGS...: add one state with PROTO's algorithm.
state_add() {
	local proto=$1 src=$2 dst=$3 spi=$4
	shift 4
	eval "ip netns exec $XBT_NS ip xfrm state add src $src dst $dst proto $proto \
		spi $spi ${ALG[$proto]} $*"
}

proto=
for p in esp ah comp; do
	if state_add "$p" 192.0.2.1 192.0.2.2 0x1000 mode transport 2>/dev/null; then
		proto=$p
		break
	fi
done
if [ -z "$proto" ]; then
	tap_skip "SA mirror" "this kernel creates no ESP, AH or IPComp state (XFRM types not built)"
	exit 0
fi
tap_ok "this kernel creates $proto states"

sa_converged() {
	xb check >/dev/null 2>&1 && xbt_spd_compare --sa >/dev/null 2>&1
}

# sa_step NAME CMD...: run CMD, then expect the SA mirror to converge.
sa_step() {
	local name=$1 out
	shift
	if ! out=$("$@" 2>&1); then
		tap_fail "$name" "$* failed: $out"
		return 1
	fi
	if wait_for 5 sa_converged; then
		tap_ok "$name"
	else
		tap_fail "$name" "SA mirror did not converge within 5s"
		xbt_spd_compare --sa 2>&1 | head -20 | sed 's/^/#     /'
	fi
}

xbt_daemon_start
xbt_daemon_wait_synced 10 || { tap_fail "daemon synced"; exit 1; }
tap_ok "daemon synced with one SA in the SAD"
sa_step "initial dump has the SA" true

spi=$([ "$proto" = comp ] && echo 0x2000 || echo 0x20000)
sa_step "v4 tunnel SA with reqid" state_add "$proto" 192.0.2.1 198.51.100.1 "$spi" mode tunnel reqid 7
sa_step "v6 transport SA" state_add "$proto" 2001:db8::1 2001:db8::2 0x3000 mode transport reqid 8
sa_step "SA with mark and if_id" \
	state_add "$proto" 192.0.2.1 198.51.100.2 0x3001 mode tunnel mark 0x10 mask 0xff if_id 9
sa_step "same SPI and daddr, other mark" \
	state_add "$proto" 192.0.2.1 198.51.100.2 0x3001 mode tunnel mark 0x20 mask 0xff
if [ "$proto" = esp ]; then
	sa_step "NAT-T SA (espinudp 4500)" \
		state_add esp 192.0.2.1 198.51.100.3 0x3002 mode tunnel encap espinudp 4500 4500 0.0.0.0
fi
sa_step "update reqid" eval "ip netns exec $XBT_NS ip xfrm state update src 192.0.2.1 \
	dst 198.51.100.1 proto $proto spi $spi ${ALG[$proto]} mode tunnel reqid 17"
sa_step "delete one" ip netns exec "$XBT_NS" ip xfrm state delete dst 2001:db8::2 proto "$proto" spi 0x3000
check "status sas equals the kernel's count" bash -c \
	"[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j | jq .sas)\" = \
		\"\$(ip netns exec $XBT_NS ip xfrm state list | grep -c '^src')\" ]"
check "no key material in sa -j" bash -c \
	"! ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN sa -j | grep -qiE 'key|cipher_null|digest_null|deflate'"
sa_step "flush" ip netns exec "$XBT_NS" ip xfrm state flush
check "sa -j empty after flush" bash -c \
	"[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN sa -j | jq length)\" = 0 ]"
xbt_daemon_stop
tap_done
