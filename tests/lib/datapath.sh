# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Helpers of the datapath integration tests. Source after tap.sh and netns.sh.
#
#   xbt_dp_setup NAME         xbt_setup + cleanup of everything below
#   xbt_dp_ns VAR NAME        one more namespace (xbt-NAME-PID) in $VAR, removed on exit
#   xbt_dp_veth NS1 IF1 NS2 IF2   a veth pair between two namespaces, up
#   xbt_reason NAME           packets counted for one reason (`stats -j`)
#   xbt_xdp_prog_of NS IF     name of the XDP program attached to IF ("" if none)
#   xbt_xdp_ours NS IF        xb_xdp runs on IF (alone, or in libxdp's dispatcher)
#   xbt_foreign_build         tiny foreign XDP and TC programs that count packets
#   xbt_foreign_count MAP     their counter (a pinned array map)
#
# libxdp keeps its dispatcher state on a bpffs; `ip netns exec` hides
# /sys/fs/bpf, so every libxdp user of a test shares the test's own bpffs.

XBT_DP_NS=()
XBT_DP_PY=$TOP/tests/lib/dp_traffic.py

xbt_dp_cleanup() {
	local rc=$? ns

	for ns in "${XBT_DP_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	(exit $rc)
	xbt_cleanup
}

xbt_dp_setup() {
	xbt_setup "$1"
	trap xbt_dp_cleanup EXIT
	export LIBXDP_BPFFS=$XBT_BPFFS
	for tool in clang tc; do
		if ! command -v "$tool" >/dev/null; then
			tap_skip "$1" "$tool not installed"
			exit 0
		fi
	done
}

# xbt_dp_ns VAR NAME: not in a subshell, so that cleanup knows it.
xbt_dp_ns() {
	local ns=xbt-$2-$$

	printf -v "$1" '%s' "$ns"
	ip netns add "$ns" || xbt_bail "cannot create namespace $ns"
	XBT_DP_NS+=("$ns")
	ip -n "$ns" link set lo up
}

xbt_dp_veth() {
	local ns1=$1 if1=$2 ns2=$3 if2=$4

	ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2" ||
		xbt_bail "cannot create veth $if1/$if2"
	ip -n "$ns1" link set "$if1" up
	ip -n "$ns2" link set "$if2" up
}

xbt_reason() {
	xb stats -j 2>/dev/null | jq -r ".reasons.$1.packets"
}

xbt_xdp_prog_of() {
	ip -n "$1" -d -j link show dev "$2" 2>/dev/null |
		jq -r '.[0].xdp.prog.name // .[0].xdp.attached[0].prog.name // ""'
}

xbt_xdp_ours() {
	case $(xbt_xdp_prog_of "$1" "$2") in
	xb_xdp) return 0 ;;
	xdp_dispatcher)
		ip netns exec "$1" xdp-loader status "$2" 2>/dev/null | grep -q ' xb_xdp ' ;;
	*) return 1 ;;
	esac
}

# Foreign programs, built from one source twice: $XBT_DIR/foreign_xdp.o
# (XDP "xbt_fxdp", map xbt_fxdp_cnt) and $XBT_DIR/foreign_tc.o (TC
# "xbt_ftc", map xbt_ftc_cnt). Each adds 1 per packet and passes it on.
xbt_foreign_build() {
	local cflags="-g -O2 -target bpf -I/usr/include/$(uname -m)-linux-gnu"

	cat >"$XBT_DIR/foreign.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} CNT SEC(".maps");

static void count(void)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&CNT, &zero);

	if (v)
		__sync_fetch_and_add(v, 1);
}

#ifdef XBT_XDP
SEC("xdp")
int xbt_fxdp(struct xdp_md *ctx)
{
	count();
	return XDP_PASS;
}
#else
SEC("tc")
int xbt_ftc(struct __sk_buff *skb)
{
	count();
	return TC_ACT_UNSPEC;
}
#endif

char LICENSE[] SEC("license") = "GPL";
EOF
	clang $cflags -DXBT_XDP -DCNT=xbt_fxdp_cnt -c "$XBT_DIR/foreign.bpf.c" \
		-o "$XBT_DIR/foreign_xdp.o" &&
	clang $cflags -DCNT=xbt_ftc_cnt -c "$XBT_DIR/foreign.bpf.c" \
		-o "$XBT_DIR/foreign_tc.o"
}

# xbt_foreign_count MAPNAME: the counter of the loaded foreign program
# (-1 when no such map exists).
xbt_foreign_count() {
	local id

	id=$(bpftool -j map show 2>/dev/null |
		jq -r --arg n "$1" '[.[] | select(.name == $n)] | last | .id // empty')
	[ -n "$id" ] || { echo -1; return; }
	# with BTF a number; without, little-endian bytes as hex strings
	bpftool -j map lookup id "$id" key 0 0 0 0 2>/dev/null | jq -r '.value |
		if type == "array" then
			reverse | map(ltrimstr("0x") | explode |
				map(if . >= 97 then . - 87 elif . >= 65 then . - 55 else . - 48 end) |
				.[0] * 16 + .[1]) | reduce .[] as $b (0; . * 256 + $b)
		else . end'
}
