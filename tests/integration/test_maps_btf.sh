#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Every map the mirror pins is inspectable with bpftool: `map show` works,
# keys and values carry BTF (the named structs of bpf/maps.bpf.h), and dumps
# print field names, not only hex bytes.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

xbt_setup maps-btf
xbt_have_binary maps-btf || exit 0

# "map key-type value-type" for every map defined in bpf/maps.bpf.h.
declared_maps() {
	awk '
		/__type\(key,/   { k = $0; sub(/.*__type\(key, */, "", k); sub(/\).*/, "", k) }
		/__type\(value,/ { v = $0; sub(/.*__type\(value, */, "", v); sub(/\).*/, "", v) }
		/^} *[a-z_0-9]+ SEC\("\.maps"\)/ {
			n = $0; sub(/^} */, "", n); sub(/ .*/, "", n)
			gsub(/ /, "_", k); gsub(/ /, "_", v)
			print n, k, v; k = v = ""
		}' "$TOP/bpf/maps.bpf.h"
}

xbt_ns ip -batch - <<'EOF'
xfrm policy add src 192.0.2.0/24 dst 198.51.100.0/24 proto tcp dport 443 dir out priority 1234 tmpl src 203.0.113.1 dst 203.0.113.2 proto esp mode tunnel reqid 77 tmpl src 203.0.113.1 dst 203.0.113.2 proto ah mode tunnel reqid 78
xfrm policy add src 2001:db8:1::/64 dst 2001:db8:2::/64 dir in priority 5 action block
xfrm policy add src 0.0.0.0/0 dst 192.0.2.0/24 proto icmp type 8 dir fwd ptype sub mark 7 mask 0xff
EOF
xbt_daemon_start
xbt_daemon_wait_synced 10 || { tap_fail "daemon synced"; exit 1; }
xbt_expect_converged "3 policies mirrored"

mapfile -t decl < <(declared_maps)
if [ "${#decl[@]}" -ge 10 ]; then
	tap_ok "maps.bpf.h declares ${#decl[@]} maps"
else
	tap_fail "maps.bpf.h declares ${#decl[@]} maps" "parser found too few"
fi

# Every declared map is pinned; every pin is a map bpftool can show.
for d in "${decl[@]}"; do
	read -r name _ _ <<<"$d"
	if [ -e "$XBT_PIN/$name" ]; then
		tap_ok "$name pinned"
	else
		tap_fail "$name pinned" "no $XBT_PIN/$name"
	fi
done
for pin in "$XBT_PIN"/*; do
	[ -e "$pin" ] || { tap_fail "pin dir has pins" "$XBT_PIN is empty"; break; }
	# the one pin that is no map: the watch on the daemon's exit
	if [ "$(basename "$pin")" = xb_exit_watch ]; then
		check "bpftool link show pinned xb_exit_watch: a raw tracepoint link" \
			eval "bpftool -j link show pinned '$pin' | jq -e '.type == \"raw_tracepoint\"' >/dev/null"
		continue
	fi
	check "bpftool map show pinned $(basename "$pin")" bpftool map show pinned "$pin"
done

# btf_has ID TYPE: the map's BTF object defines TYPE ("struct xb_policy"
# -> STRUCT 'xb_policy'; scalar typedefs are not checked).
btf_has() {
	local id=$1 type=$2

	case $type in
	struct_*) bpftool btf dump id "$id" | grep -q "STRUCT '${type#struct_}'" ;;
	*) return 0 ;;
	esac
}

# dump_map PIN: entries as JSON; the big arrays only their key 0 (a full
# dump of 131072 per-CPU slots would take too long to be useful).
dump_map() {
	local pin=$1 info max type

	info=$(bpftool -j map show pinned "$pin")
	max=$(jq .max_entries <<<"$info")
	type=$(jq -r .type <<<"$info")
	if [[ $type == *array* ]] && [ "$max" -gt 64 ]; then
		bpftool -j map lookup pinned "$pin" key 0 0 0 0 | jq -c '[.]'
	else
		bpftool -j map dump pinned "$pin"
	fi
}

for d in "${decl[@]}"; do
	read -r name ktype vtype <<<"$d"
	pin=$XBT_PIN/$name
	[ -e "$pin" ] || continue
	# A cpumap (xb_spread_cpus) has no BTF: libbpf creates it without, the
	# kernel takes none for the type (its value is the kernel's own struct
	# bpf_cpumap_val); a CPU not listed is an ENOENT in a dump.
	if [ "$(bpftool -j map show pinned "$pin" | jq -r .type)" = cpumap ]; then
		echo "# $name is a cpumap: no BTF for its type, not checked"
		continue
	fi
	btf_id=$(bpftool -j map show pinned "$pin" | jq '.btf_id // 0')
	if [ "$btf_id" -gt 0 ] && btf_has "$btf_id" "$ktype" && btf_has "$btf_id" "$vtype"; then
		tap_ok "$name has BTF ($ktype -> $vtype)"
	else
		tap_fail "$name has BTF ($ktype -> $vtype)" "btf_id $btf_id"
	fi
	dump=$(dump_map "$pin")
	n=$(jq length <<<"$dump")
	if [ "$n" = 0 ]; then
		echo "# $name is empty: field names checked through BTF only"
		continue
	fi
	# Every entry formatted; struct keys and values as JSON objects.
	if jq -e --arg k "$ktype" --arg v "$vtype" '
		all(.[]; has("formatted") and
			(if ($k | startswith("struct_")) then (.formatted.key | type) == "object" else true end) and
			(if ($v | startswith("struct_")) then
				((.formatted.value // .formatted.values[0].value) | type) == "object"
			 else true end))' <<<"$dump" >/dev/null; then
		tap_ok "$name: bpftool -j dump has formatted named fields ($n entries)"
	else
		tap_fail "$name: bpftool -j dump has formatted named fields" "$(head -c 300 <<<"$dump")"
	fi
done

P=$XBT_PIN
# The records present in the pages of xb_policies, xb_scope_pages and
# xb_tmpl_pages (include/xfrmbpf/spd.h), each with the id its page and
# slot give.
page_recs() {
	printf '[.[].formatted | .key as $page | .value.present as $p | .value.%s |
		to_entries[] | select(($p / pow(2; .key) | floor) %% 2 == 1) |
		.value + {page_id: ($page * %d + .key)}]' "$1" "$2"
}
RECS=$(page_recs rec 30)
SCOPE_RECS=$(page_recs scope 47)
TMPL_RECS=$(page_recs tmpl 41)
check "xb_policies: one page, three records present" \
	bash -c "bpftool -j map dump pinned $P/xb_policies |
		jq -e 'length == 1 and .[0].formatted.key == 0 and .[0].formatted.value.present == 7'"
check "xb_policies: the priorities 1234, 5 and 0 by name" \
	bash -c "bpftool -j map dump pinned $P/xb_policies |
		jq -e '$RECS | [.[].priority] | sort == [0, 5, 1234]'"
check "xb_policies: the selector's fields by name (prefixlen_d 24, proto 6)" \
	bash -c "bpftool -j map dump pinned $P/xb_policies |
		jq -e '$RECS | any(.[]; .prefixlen_d == 24 and .proto == 6)'"
check "xb_scope_pages: one scope, mark 7 / 0xff by name, in the slot of the sub policy's id" \
	bash -c "s=\$(bpftool -j map dump pinned $P/xb_scope_pages |
		jq -e '$SCOPE_RECS | select(length == 1) | .[0] |
			select(.mark_v == 7 and .mark_m == 255 and .if_id == 0) | .page_id') &&
		bpftool -j map dump pinned $P/xb_policies |
		jq -e --argjson s \"\$s\" '$RECS | any(.[]; .page_id == \$s and .type == 1)'"
check "xb_tmpl_pages: one template, the first (reqid 77) of the policy with 2 templates" \
	bash -c "t=\$(bpftool -j map dump pinned $P/xb_tmpl_pages |
		jq -e '$TMPL_RECS | select(length == 1) | .[0] | select(.reqid == 77) | .page_id') &&
		bpftool -j map dump pinned $P/xb_policies |
		jq -e --argjson t \"\$t\" '$RECS | any(.[]; .page_id == \$t and .n_tmpls == 2)'"
check "xb_tmpls: the second template, reqid 78 by name, keyed by policy_id" \
	bash -c "bpftool -j map dump pinned $P/xb_tmpls |
		jq -e 'length == 1 and .[0].formatted.value.reqid == 78 and .[0].formatted.key.idx == 1 and (.[0].formatted.key | has(\"policy_id\"))'"
check "xb_sync: synced 1, n_policies 3, daemon_pid of the daemon" \
	bash -c "bpftool -j map dump pinned $P/xb_sync |
		jq -e '.[0].formatted.value | .synced == 1 and .n_policies == 3 and .daemon_pid == $XBT_DAEMON_PID'"
check "plain bpftool map dump prints field names" \
	bash -c "bpftool map dump pinned $P/xb_policies | grep -q '\"priority\": 1234'"

xbt_daemon_stop
tap_done
