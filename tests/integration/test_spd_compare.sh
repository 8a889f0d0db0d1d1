#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The oracle itself: spd_compare.py must call a mirror equal to the kernel
# equal, and notice every single-field difference. Needs no xfrmbpf: the
# "mirror" is the oracle's own parse of real `ip` output, then mutated.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

xbt_setup spd-compare

P="xfrm policy"
xbt_ns ip -batch - <<'EOF' || xbt_bail "ip -batch"
xfrm policy add src 192.0.2.0/24 dst 198.51.100.0/24 proto tcp sport 1024 dport 443 dir out priority 10 mark 0x10 mask 0xff if_id 5 flag localok icmp tmpl src 203.0.113.1 dst 203.0.113.2 proto esp mode tunnel reqid 7 tmpl proto comp spi 0x100 mode transport level use
xfrm policy add src 2001:db8::5/64 dst 2001:db8:1::/48 proto ipv6-icmp type 135 code 0 dir in action block ptype sub
xfrm policy add src 192.0.2.1 dst 0.0.0.0/0 dev lo proto gre key 65537 dir fwd
xfrm policy setdefault fwd block
EOF
K=$XBT_DIR/kernel.txt
KD=$XBT_DIR/default.txt
M=$XBT_DIR/mirror.json
S=$XBT_DIR/status.json
xbt_ns ip -s xfrm policy list >"$K"
xbt_ns ip xfrm policy getdefault >"$KD"
# The mirror's fields the kernel has no text for: ids.
xbt_ns "$XBT_PYTHON" "$SPD_COMPARE" --kernel-text "$K" --dump-kernel |
	jq '[to_entries[] | .value + {id: .key}]' >"$M"
echo '{"default": {"in": "accept", "fwd": "block", "out": "accept"}}' >"$S"

cmp() {
	xbt_ns "$XBT_PYTHON" "$SPD_COMPARE" --kernel-text "$K" --kernel-default "$KD" \
		--mirror-status "$S" "$@"
}

check "parse: 3 policies" bash -c "[ \"\$(ip netns exec $XBT_NS $XBT_PYTHON $SPD_COMPARE \
	--kernel-text $K --dump-kernel | jq length)\" = 3 ]"
check "parse: flags localok|icmp = 3, mark, if_id, 2 templates" \
	jq -e 'any(.[]; .flags == 3 and .mark == 16 and .mark_mask == 255 and .if_id == 5 and
		(.tmpls | length) == 2 and .tmpls[1].spi == 256 and .tmpls[1].optional and
		.tmpls[0].mode == "tunnel" and .tmpls[0].reqid == 7)' "$M"
check "parse: ICMPv6 type 135 code 0 -> sport 135, dport 0, full masks" \
	jq -e 'any(.[]; .proto == 58 and .sport == 135 and .dport == 0 and
		.sport_mask == 65535 and .dport_mask == 65535 and .ptype == "sub")' "$M"
check "parse: GRE key 65537 -> sport 1, dport 1; dev lo -> ifindex 1" \
	jq -e 'any(.[]; .proto == 47 and .sport == 1 and .dport == 1 and .ifindex == 1)' "$M"
check "equal mirror: exit 0" cmp --mirror-json "$M"

# mutate NAME JQ-EXPR PATTERN: the mutated mirror differs, exit 1, and the
# diff mentions PATTERN.
mutate() {
	local name=$1 out rc

	jq "$2" "$M" >"$XBT_DIR/mut.json"
	out=$(cmp --mirror-json "$XBT_DIR/mut.json" 2>&1)
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q -- "$3" <<<"$out"; then
		tap_ok "detects $name"
	else
		tap_fail "detects $name" "exit $rc: $out"
	fi
}
mutate "a priority" '.[0].priority += 1' 'priority: kernel'
mutate "a port mask" '.[0].sport_mask = 64512' 'sport_mask'
mutate "host bits of a prefix" '(.[] | select(.family == "inet6")).src = "2001:db8::/64"' 'src: kernel'
mutate "a template field" '(.[] | select(.tmpls | length == 2)).tmpls[1].optional = false' 'tmpls\[1\].optional'
mutate "a missing template" '(.[] | select(.tmpls | length == 2)).tmpls |= .[:1]' 'tmpls: kernel has 2'
mutate "a missing policy" 'del(.[0])' 'missing in mirror'
mutate "a stale policy" '. + [.[0] + {index: 99999, id: 77}]' 'extra in mirror'
mutate "a duplicate" '. + [.[0] + {id: 77}]' 'duplicate in mirror'
mutate "duplicate ids" '.[1].id = .[0].id' 'ids are not unique'
mutate "the action" '.[0].action = "block"' 'action: kernel'
mutate "the ptype" '(.[] | select(.ptype == "sub")).ptype = "main"' 'missing in mirror'
mutate "a missing field" 'del(.[0].if_id)' 'no such field'
echo '{"default": {"in": "accept", "fwd": "accept", "out": "accept"}}' >"$S"
mutate "a default policy" '.' 'default fwd: kernel block, mirror accept'
tap_done
