#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# An SPD loaded while the daemon runs reaches it as live events, here the
# worst policy first (bench_ruleset -r -w, a realistic acl rule set). Live
# adds are placed first come, which drifts the classifier's layout; once
# the SPD is quiet the daemon lays it out anew in the kernel's order of
# precedence, once, and says so. The mirror equals the kernel throughout,
# and the published list then holds every policy, decidable.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"

RULESET=$TOP/build/bench/bench_ruleset
N=3000

xbt_setup mirror-relayout
xbt_have_binary mirror-relayout || exit 0
[ -x "$RULESET" ] || xbt_bail "$RULESET is not built (make build/bench/bench_ruleset)"

relayouts() {
	grep -c "Classifier laid out anew" "$XBT_LOG"
}

# fwd_list FIELD: a field of the FWD main IPv4 shape list in `status -j`.
fwd_list() {
	xb status -j | jq -r ".shape_lists[] | select(.list == \"fwd main inet\") | .$1"
}

xbt_daemon_start
xbt_daemon_wait_synced 10 || xbt_bail "the daemon did not sync on an empty SPD"

# In parts of PART rules, the last part first and each part last rule
# first, every part mirrored before the next: one publication each, as a
# daemon sees an SPD that grows while it runs.
PART=100
loaded=0
for ((from = N - PART; from >= 0; from -= PART)); do
	out=$(xbt_ns "$RULESET" -p acl -f 4 -n "$N" -d -r -w "$from:$PART" -s 7 2>&1) ||
		xbt_bail "cannot load rules $from..: $out"
	loaded=$((loaded + $(sed -n 's/^loaded \([0-9]*\) policies.*/\1/p' <<<"$out")))
	wait_for 10 bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j |
		jq -r .policies)\" = $loaded ]" || xbt_bail "the mirror did not take rules $from.."
done
echo "# loaded $loaded policies in $((N / PART)) parts, the last rule first"
[ "$loaded" -gt 1000 ] || xbt_bail "the rule set has too few policies"

if wait_for 20 bash -c "grep -q 'Classifier laid out anew' '$XBT_LOG'"; then
	tap_ok "the daemon lays the classifier out anew once the SPD is quiet"
	grep "Classifier laid out anew" "$XBT_LOG" | sed 's/^/#   /'
else
	tap_fail "the daemon lays the classifier out anew once the SPD is quiet" \
		"no relayout logged within 20 s"
fi
xbt_expect_converged "the mirror equals the kernel after the relayout" 10
check "status: the fwd main inet list holds all $loaded policies, decidable" \
	bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j |
		jq -c '.shape_lists[] | select(.list == \"fwd main inet\") |
		[.policies, .undecidable]')\" = '[$loaded,false]' ]"
check "status: synced" bash -c "[ \"\$(ip netns exec $XBT_NS $XFRMBPF --pin-dir $XBT_PIN status -j |
		jq -r .synced)\" = true ]"

# A few live changes after it leave the layout as it is: no second one.
xbt_ns ip xfrm policy add src 192.0.2.0/24 dst 198.51.100.0/24 dir fwd action block \
	priority 1 || xbt_bail "cannot add a policy"
xbt_expect_converged "a live add after the relayout is mirrored"
sleep 3
expect "one relayout, not one per beat" [ "$(relayouts)" -eq 1 ]
tap_done
