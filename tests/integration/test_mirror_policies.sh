#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The SPD mirror follows every kind of `ip xfrm policy` change: after each
# step `xfrmbpf check` and the independent oracle (spd_compare.py, which
# parses `ip -s xfrm policy list`) agree that the mirror equals the kernel.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

xbt_setup mirror-policies
xbt_have_binary mirror-policies || exit 0

# step NAME IP-ARGS...: change the kernel SPD with `ip IP-ARGS`, then expect
# the mirror to converge.
step() {
	local name=$1 out
	shift
	if ! out=$(xbt_ns ip "$@" 2>&1); then
		tap_fail "$name" "ip $* failed: $out"
		return 1
	fi
	xbt_expect_converged "$name"
}

kernel_count() {
	xbt_ns ip xfrm policy list nosock | grep -c '^src'
}

# policy_index SELECTOR-AND-DIR...: the kernel index of one policy.
policy_index() {
	xbt_ns ip -s xfrm policy get "$@" | sed -n 's/.* index \([0-9]*\) .*/\1/p'
}

# A second device so a selector ifindex other than lo's is tested.
xbt_ns ip link add xbt-v0 type veth peer name xbt-v1 || xbt_bail "veth"

# Socket policies (IKE daemons put bypass policies on their sockets) are in
# the kernel's dump but not in the SPD: the mirror must leave them out.
# (ip netns exec directly, not a shell function: $! must be the holder.)
ip netns exec "$XBT_NS" "$XBT_PYTHON" "$SPD_COMPARE" --hold-socket-policy in >/dev/null &
xbt_track_pid $!
wait_for 5 bash -c "ip netns exec $XBT_NS ip xfrm policy list | grep -q socket" ||
	xbt_bail "no socket policy"

xbt_daemon_start
if xbt_daemon_wait_synced 10; then
	tap_ok "daemon synced on an empty SPD"
else
	tap_fail "daemon synced on an empty SPD"
	exit 1
fi
xbt_expect_converged "empty SPD mirrored"
check "status: 0 policies, 0 SAs" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j |
		jq -c '[.policies, .sas]')\" = '[0,0]' ]"
check "sa -j is an empty array" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN sa -j |
		jq -c .)\" = '[]' ]"

P="xfrm policy"
# IPv4: prefixes, protocols, ports, ICMP type/code, GRE key, directions.
step "v4 prefix out" $P add src 192.0.2.0/24 dst 198.51.100.0/24 dir out
step "v4 host bits kept in prefix" $P add src 192.0.2.77/25 dst 198.51.100.9/17 dir in
step "v4 tcp sport+dport, priority" \
	$P add src 192.0.2.1 dst 198.51.100.0/24 proto tcp sport 1024 dport 443 dir in priority 100
step "v4 udp dport only, fwd" \
	$P add src 0.0.0.0/0 dst 198.51.100.0/24 proto udp dport 4500 dir fwd priority 7
step "v4 sctp sport only" \
	$P add src 203.0.113.0/24 dst 198.51.100.0/24 proto sctp sport 9 dir out
step "v4 dccp" $P add src 203.0.113.0/24 dst 198.51.100.0/24 proto dccp dport 33 dir out
step "v4 proto number without ports" \
	$P add src 203.0.113.0/24 dst 198.51.100.0/24 proto 200 dir out
step "icmp type+code, block" \
	$P add src 0.0.0.0/0 dst 192.0.2.0/24 proto icmp type 8 code 0 dir in action block priority 5
step "icmp code only" $P add src 0.0.0.0/0 dst 192.0.2.0/24 proto icmp code 3 dir fwd
# Type 0 (echo reply) and code 0 with full masks: zero here is not "any".
step "icmp type 0 code 0" $P add src 192.0.2.0/24 dst 0.0.0.0/0 proto icmp type 0 code 0 dir out
step "gre key" $P add src 192.0.2.0/24 dst 203.0.113.0/24 proto gre key 65537 dir out


# Port masks other than 0xffff (IKE daemons write port ranges as masks);
# `ip xfrm` cannot set them, the oracle's raw netlink can.
nlstep() {
	local name=$1 out
	if ! out=$(xbt_ns "$XBT_PYTHON" "$SPD_COMPARE" --nl-add-policy "$2" 2>&1); then
		tap_fail "$name" "netlink add failed: $out"
		return 1
	fi
	xbt_expect_converged "$name"
}
nlstep "v4 sport range as mask (1024/0xfc00)" \
	"src=192.0.2.0/24 dst=198.51.100.0/24 proto=6 sport=0x400/0xfc00 dport=443 dir=out priority=30"
nlstep "v6 dport mask only (0x1000/0xf000), block" \
	"src=2001:db8::/32 dst=2001:db8:1::5/128 proto=17 dport=0x1000/0xf000 dir=fwd priority=31 action=block"
check "policy -j shows sport_mask 0xfc00 in host order" \
	bash -c "ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j |
		jq -e 'any(.[]; .sport == 1024 and .sport_mask == 64512 and .dport == 443 and .dport_mask == 65535)'"

# IPv6.
step "v6 prefixes" $P add src 2001:db8:1::/48 dst 2001:db8:2::/64 dir out
step "v6 tcp ports fwd" \
	$P add src 2001:db8:1::/48 dst 2001:db8:2::1 proto tcp sport 22 dport 2222 dir fwd priority 3
step "icmpv6 type (neighbour solicitation)" \
	$P add src ::/0 dst ::/0 proto ipv6-icmp type 135 dir in priority 1
step "icmpv6 type+code block" \
	$P add src ::/0 dst 2001:db8::/32 proto ipv6-icmp type 128 code 0 dir in action block
step "mobility header type" \
	$P add src 2001:db8:5::/64 dst 2001:db8:6::/64 proto mobility-header type 5 dir out

# Marks, if_id, selector device, flags, share.
step "mark with mask" \
	$P add src 192.0.2.0/24 dst 198.51.100.0/24 dir out mark 0x10 mask 0xff
step "same selector, other mark" \
	$P add src 192.0.2.0/24 dst 198.51.100.0/24 dir out mark 0x20 mask 0xff priority 9
step "mark without mask (full mask)" \
	$P add src 192.0.2.0/24 dst 198.51.100.0/24 dir in mark 7
step "if_id" $P add src 0.0.0.0/0 dst 203.0.113.0/24 dir out if_id 42
step "if_id v6" $P add src ::/0 dst 2001:db8:7::/64 dir out if_id 0xffff priority 2
step "selector dev lo" $P add src 192.0.2.5 dst 0.0.0.0/0 dev lo proto udp sport 500 dir in
step "selector dev veth" $P add src 192.0.2.6 dst 0.0.0.0/0 dev xbt-v0 dir in
step "flags localok icmp" $P add src 192.0.2.7 dst 0.0.0.0/0 dir out flag localok icmp
step "big priority" $P add src 192.0.2.8 dst 198.51.100.8 dir out priority 4294967295

# Templates.
step "tmpl esp tunnel required" \
	$P add src 192.0.2.0/24 dst 203.0.113.128/25 dir out priority 20 \
	tmpl src 198.51.100.1 dst 198.51.100.2 proto esp mode tunnel reqid 1 level required
step "tmpl ah transport use, spi" \
	$P add src 192.0.2.9 dst 203.0.113.9 dir in \
	tmpl proto ah spi 0x1234 mode transport reqid 9 level use
step "tmpl optional tunnel (in)" \
	$P add src 203.0.113.0/24 dst 192.0.2.0/24 dir in \
	tmpl src 198.51.100.2 dst 198.51.100.1 proto esp mode tunnel reqid 2 level use
step "three templates" \
	$P add src 192.0.2.10 dst 203.0.113.10 proto tcp dport 80 dir out \
	tmpl src 198.51.100.1 dst 198.51.100.2 proto comp spi 0x100 mode tunnel \
	tmpl proto esp mode transport reqid 3 \
	tmpl proto ah mode transport reqid 4 level required
step "tmpl v6 beet" \
	$P add src 2001:db8:a::/64 dst 2001:db8:b::/64 dir fwd \
	tmpl src 2001:db8::1 dst 2001:db8::2 proto esp mode beet reqid 5
step "tmpl v4 in v6 tunnel" \
	$P add src 192.0.2.11 dst 203.0.113.11 dir out \
	tmpl src 2001:db8::1 dst 2001:db8::2 proto esp mode tunnel reqid 6

step "six templates (XFRM_MAX_DEPTH)" \
	$P add src 2001:db8::1 dst 2001:db8::2 dir out \
	tmpl src 2001:db8::a dst 2001:db8::b proto comp mode tunnel \
	tmpl proto esp mode transport tmpl proto ah mode transport \
	tmpl proto esp mode transport reqid 4 tmpl proto ah mode transport reqid 5 \
	tmpl proto esp mode transport reqid 6

# The kernel tells policies apart by if_id too: same selector, two if_ids.
step "same selector, if_id 1" $P add src 198.51.100.0/24 dst 203.0.113.0/24 dir out if_id 1
step "same selector, if_id 2" $P add src 198.51.100.0/24 dst 203.0.113.0/24 dir out if_id 2 priority 4
step "delete the if_id 2 twin" $P delete src 198.51.100.0/24 dst 203.0.113.0/24 dir out if_id 2

# Another namespace's SPD is not ours.
xbt_add_ns other
ip -n "$XBT_NS2" xfrm policy add src 192.0.2.99 dst 203.0.113.99 dir out
xbt_expect_converged "a policy in another namespace is not mirrored"

# Sub policies.
step "sub policy out" $P add src 192.0.2.0/24 dst 198.51.100.0/24 dir out ptype sub priority 1
step "sub policy in v6" $P add src ::/0 dst 2001:db8:9::/64 dir in ptype sub action block
step "sub policy fwd, same selector as main" \
	$P add src 0.0.0.0/0 dst 198.51.100.0/24 proto udp dport 4500 dir fwd ptype sub

# A socket policy appearing later sends no event and changes nothing.
ip netns exec "$XBT_NS" "$XBT_PYTHON" "$SPD_COMPARE" --hold-socket-policy out >/dev/null &
xbt_track_pid $!
wait_for 5 bash -c "[ \$(ip netns exec $XBT_NS ip xfrm policy list | grep -c socket) = 2 ]"
xbt_expect_converged "socket policies are not mirrored"
check "no socket policy in policy -j" \
	bash -c "ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j |
		jq -e 'all(.[]; .dir == \"in\" or .dir == \"out\" or .dir == \"fwd\")'"

# Lifetimes: a hard expiry deletes the policy with only a POLEXPIRE event
# (no DELPOLICY); a soft one only notifies.
step "policy with time-soft 1 and time-hard 2" \
	$P add src 192.0.2.20 dst 203.0.113.20 dir out limit time-soft 1 limit time-hard 2
sleep 1.5
xbt_expect_converged "soft expiry keeps the policy"
if wait_for 6 bash -c "! ip netns exec $XBT_NS ip xfrm policy list src 192.0.2.20/32 | grep -q src"; then
	xbt_expect_converged "hard expiry (POLEXPIRE) removes the policy"
else
	tap_fail "hard expiry (POLEXPIRE) removes the policy" "the kernel kept it"
fi

# Explicit index (the low 3 bits must be the direction).
step "explicit index" $P add src 192.0.2.12 dst 203.0.113.12 dir fwd index 4002

# Update: an existing policy (same selector, dir, mark) is replaced in place.
step "update priority" \
	$P update src 192.0.2.1 dst 198.51.100.0/24 proto tcp sport 1024 dport 443 dir in priority 50
step "update action" $P update src 192.0.2.0/24 dst 198.51.100.0/24 dir out action block
step "update of the marked twin only" \
	$P update src 192.0.2.0/24 dst 198.51.100.0/24 dir out mark 0x20 mask 0xff priority 99
step "update templates" \
	$P update src 192.0.2.0/24 dst 203.0.113.128/25 dir out priority 20 \
	tmpl src 198.51.100.1 dst 198.51.100.3 proto esp mode tunnel reqid 11 \
	tmpl proto comp mode transport
step "update removes templates" $P update src 192.0.2.9 dst 203.0.113.9 dir in
step "update that adds" $P update src 192.0.2.13 dst 203.0.113.13 dir out priority 13
step "update sub policy" \
	$P update src 192.0.2.0/24 dst 198.51.100.0/24 dir out ptype sub priority 2 action block

n=$(kernel_count)
check "status policies equals kernel count ($n)" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j | jq .policies)\" = $n ]"
# status counts from the classifier's lists; policy -j lists every policy
check "status policies_by_dir equals the mirrored policies per direction and family" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j |
		jq -c '.policies_by_dir')\" = \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j |
		jq -c 'def n(d; f): [.[] | select(.dir == d and .family == f)] | length;
		       {in: {inet: n(\"in\"; \"inet\"), inet6: n(\"in\"; \"inet6\")},
		        out: {inet: n(\"out\"; \"inet\"), inet6: n(\"out\"; \"inet6\")},
		        fwd: {inet: n(\"fwd\"; \"inet\"), inet6: n(\"fwd\"; \"inet6\")}}')\" ]"

# Default policies.
step "setdefault in block fwd block out accept" $P setdefault in block fwd block out accept
step "setdefault out block" $P setdefault out block
step "setdefault all accept" $P setdefault in accept fwd accept out accept

# Delete.
step "delete by selector" $P delete src 192.0.2.77/25 dst 198.51.100.9/17 dir in
step "delete one of two marked twins" \
	$P delete src 192.0.2.0/24 dst 198.51.100.0/24 dir out mark 0x10 mask 0xff
idx=$(policy_index src 192.0.2.10 dst 203.0.113.10 proto tcp dport 80 dir out)
if [ -n "$idx" ]; then
	step "delete by index ($idx)" $P delete index "$idx" dir out
else
	tap_fail "delete by index" "could not read the index of a policy"
fi
step "delete explicit index" $P delete index 4002 dir fwd
step "delete sub policy" $P delete src ::/0 dst 2001:db8:9::/64 dir in ptype sub
step "deleteall dir in (per-policy deletes)" $P deleteall dir in

# Drift detection: with the daemon stopped, check and the oracle see drift.
kill -STOP "$XBT_DAEMON_PID"
xbt_ns ip $P add src 192.0.2.14 dst 203.0.113.14 dir out
out=$(xb check 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && [ -n "$out" ]; then
	tap_ok "check exits 1 with a diff while the daemon is stopped"
else
	tap_fail "check exits 1 with a diff while the daemon is stopped" "exit $rc, output: $out"
fi
xbt_spd_compare >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then
	tap_ok "spd_compare detects the drift"
else
	tap_fail "spd_compare detects the drift" "exit $rc"
fi
kill -CONT "$XBT_DAEMON_PID"
xbt_expect_converged "converges after SIGCONT"

# Flush.
nsub=$(xbt_ns ip xfrm policy list nosock ptype sub | grep -c '^src')
nmain=$(xbt_ns ip xfrm policy list nosock ptype main | grep -c '^src')
if [ "$nsub" -gt 0 ] && [ "$nmain" -gt 0 ]; then
	tap_ok "sub ($nsub) and main ($nmain) policies present before flush"
else
	tap_fail "sub ($nsub) and main ($nmain) policies present before flush"
fi
step "flush ptype sub" $P flush ptype sub
check "flush ptype sub keeps main policies" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j |
		jq '[.[] | select(.ptype == \"main\")] | length')\" = $nmain ]"
step "flush" $P flush
check "empty after flush" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN policy -j | jq length)\" = 0 ] &&
		[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j | jq .policies)\" = 0 ]"
step "add after flush" $P add src 192.0.2.15 dst 203.0.113.15 dir out

# Churn through the event path: 20 rounds of add, update and delete of the
# same 50 selectors in one burst; the last round stays.
resyncs0=$(xbt_status_field resyncs)
for r in $(seq 0 19); do
	for i in $(seq 0 49); do
		echo "xfrm policy add src 192.0.2.$i dst 198.51.100.$r proto udp dport $((5000 + i)) dir out priority $r"
	done
	for i in $(seq 0 2 49); do
		echo "xfrm policy update src 192.0.2.$i dst 198.51.100.$r proto udp dport $((5000 + i)) dir out priority $((100 + r)) tmpl src 203.0.113.1 dst 203.0.113.2 proto esp mode tunnel reqid $r"
	done
	[ "$r" -eq 19 ] && break
	for i in $(seq 0 49); do
		echo "xfrm policy delete src 192.0.2.$i dst 198.51.100.$r proto udp dport $((5000 + i)) dir out"
	done
done >"$XBT_DIR/churn.batch"
step "churn: $(wc -l <"$XBT_DIR/churn.batch") changes in one burst" -batch "$XBT_DIR/churn.batch"
echo "# churn: resyncs $resyncs0 -> $(xbt_status_field resyncs) (0 more: every event applied one by one)"

xbt_daemon_stop TERM
rc=$?
if [ "$rc" -eq 0 ]; then
	tap_ok "daemon exits 0 on SIGTERM"
else
	tap_fail "daemon exits 0 on SIGTERM" "exit $rc"
fi
tap_done
