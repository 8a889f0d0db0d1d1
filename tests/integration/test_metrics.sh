#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Prometheus metrics: the daemon's `--metrics` endpoint and `xfrmbpf
# metrics`, on a gateway with block, allow and ESP policies, SAs of both
# families and dropped traffic. Each scrape parses with a real parser
# (promtool from Debian's prometheus package when scripts/install-deps.sh
# could unpack it, and python3-prometheus-client), and its values lie
# between `stats -j` read just before and just after it and equal
# `status -j` / `policy -j`. Only GET /metrics answers; the endpoint binds
# only the address given (IPv4 and IPv6), and a slow client blocks neither
# the mirror nor other scrapes. The textfile mode replaces its file at once.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/datapath.sh"

xbt_dp_setup metrics
xbt_have_binary metrics || exit 0
for tool in curl ss; do
	command -v "$tool" >/dev/null || { tap_skip metrics "$tool not installed"; exit 0; }
done
if ! "$XBT_PYTHON" -c 'import prometheus_client.parser' 2>/dev/null; then
	tap_skip metrics "python3-prometheus-client not installed (scripts/install-deps.sh)"
	exit 0
fi
PROMTOOL=$TOP/build/tools/promtool
[ -x "$PROMTOOL" ] || PROMTOOL=$(command -v promtool || true)

xbt_dp_ns PEER metrics-peer
xbt_dp_veth "$XBT_NS" xbt-mgw0 "$PEER" xbt-mp0
ip -n "$XBT_NS" addr add 192.0.2.1/24 dev xbt-mgw0
ip -n "$PEER" addr add 192.0.2.2/24 dev xbt-mp0
ip -n "$XBT_NS" addr add 2001:db8::1/64 dev xbt-mgw0 nodad
ip -n "$PEER" addr add 2001:db8::2/64 dev xbt-mp0 nodad
PORT=9571
URL=http://127.0.0.1:$PORT
M=$XBT_DIR/metrics
CHECK=$XBT_DIR/mcheck.py

pol() { xbt_ns ip xfrm policy add "$@" || xbt_bail "cannot add policy: $*"; }
pol dir in src 192.0.2.2 dst 192.0.2.1 proto icmp action block priority 10
pol dir in src 192.0.2.2 dst 192.0.2.1 proto udp dport 7777 action block priority 10
pol dir in src 192.0.2.2 dst 192.0.2.1 proto tcp dport 8443 priority 10 \
	tmpl src 192.0.2.2 dst 192.0.2.1 proto esp mode transport
pol dir in src 2001:db8::2 dst 2001:db8::1 proto udp dport 9999 action allow priority 20
pol dir out src 192.0.2.1 dst 192.0.2.2 proto udp dport 7000 action allow priority 20
pol dir fwd src 198.51.100.0/24 dst 203.0.113.0/24 action block priority 30
sa() { xbt_ns ip xfrm state add src "$1" dst "$2" proto esp spi "$3" enc cipher_null '' \
	mode transport 2>/dev/null; }
if sa 192.0.2.2 192.0.2.1 0x1001; then
	sa 192.0.2.1 192.0.2.2 0x1002 && sa 2001:db8::2 2001:db8::1 0x1003 ||
		xbt_bail "cannot add the other ESP states"
	SAS="2 1"
else
	tap_skip "SAs by family" "this kernel creates no ESP state (XFRM ESP not built)"
	SAS=
fi

# The checker: parses an exposition with prometheus_client and compares it
# with `stats -j` before/after and `status -j`, `policy -j`.
cat >"$CHECK" <<'EOF'
import json, sys
from prometheus_client.parser import text_string_to_metric_families

def parse(path):
    text = open(path, encoding="utf-8").read()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in out:
                raise SystemExit(f"duplicate series {key}")
            out[key] = s.value
    return out

def get(m, name, **labels):
    return m.get((name, tuple(sorted(labels.items()))))

def series(m, name):
    return {k[1]: v for k, v in m.items() if k[0] == name}

def main():
    mode = sys.argv[1]
    m = parse(sys.argv[2])
    if mode == "parse":
        return 0
    if mode == "policies":		# how many per-policy series
        print(len(series(m, "xfrmbpf_policy_packets_total")))
        return 0
    if mode == "value":		# one sample: NAME [k=v ...]
        v = get(m, sys.argv[3], **dict(a.split("=", 1) for a in sys.argv[4:]))
        print("absent" if v is None else int(v))
        return 0
    before, after, status, policies = (json.load(open(p)) for p in sys.argv[3:7])
    bad = []

    def between(what, lo, v, hi):
        if v is None or not (lo <= v <= hi):
            bad.append(f"{what}: {v} not in [{lo}, {hi}]")

    def equal(what, v, want):
        if v != want:
            bad.append(f"{what}: {v}, want {want}")

    for r, c in after["reasons"].items():
        for unit in ("packets", "bytes"):
            between(f"{unit} {r}", before["reasons"][r][unit],
                    get(m, f"xfrmbpf_{unit}_total", reason=r,
                        verdict=("drop" if r in ("unknown_spi", "policy_block",
                                                 "policy_requires_ipsec", "default_block")
                                 else "steer" if r.startswith("steer") else "pass")),
                    c[unit])
    for cause, v in series(m, "xfrmbpf_undecidable_packets_total").items():
        name = dict(cause)["cause"]
        between(f"undecidable {name}", before["undecidable_causes"].get(name, 0), v,
                after["undecidable_causes"].get(name, 0))
    for k in ("hits", "misses"):
        between(f"flow cache {k}", before["flow_cache"][k],
                get(m, f"xfrmbpf_flow_cache_{k}_total"), after["flow_cache"][k])
    b_ifs = {i["name"]: i for i in before["interfaces"]}
    for i in after["interfaces"]:
        n, b = i["name"], b_ifs[i["name"]]
        for k, metric in (("rx_packets", "received"), ("passed", "passed"),
                          ("dropped", "dropped"), ("steered", "steered")):
            between(f"{n} {k}", b[k], get(m, f"xfrmbpf_interface_{metric}_packets_total",
                                          interface=n), i[k])
        for r, c in i["reasons"].items():
            v = [v for l, v in series(m, "xfrmbpf_interface_packets_total").items()
                 if dict(l)["interface"] == n and dict(l)["reason"] == r]
            between(f"{n} {r}", b["reasons"].get(r, {}).get("packets", 0),
                    v[0] if v else None, c["packets"])
    equal("synced", get(m, "xfrmbpf_synced"), 1.0 if status["synced"] else 0.0)
    equal("generation", get(m, "xfrmbpf_generation"), status["generation"])
    equal("resyncs", get(m, "xfrmbpf_resyncs_total"), status["resyncs"])
    equal("bad netlink", get(m, "xfrmbpf_netlink_bad_messages_total"), status["nl_bad_msgs"])
    equal("capacity", get(m, "xfrmbpf_policy_capacity"), status["max_policies"])
    equal("xfrm links", get(m, "xfrmbpf_xfrm_interfaces"), status["xfrm_links"])
    for d, fams in status["policies_by_dir"].items():
        for fam, n in fams.items():
            equal(f"policies {d} {fam}", get(m, "xfrmbpf_policies", dir=d, family=fam), n)
    equal("SAs", sum(series(m, "xfrmbpf_sas").values()), status["sas"])
    for d, a in status["default"].items():
        equal(f"default {d}", get(m, "xfrmbpf_default_policy_block", dir=d),
              1.0 if a == "block" else 0.0)
    for sl in status["shape_lists"]:
        for k, metric in (("policies", "policies"), ("out_of_view", "out_of_view_policies"),
                          ("tables", "tables"), ("buckets", "buckets"),
                          ("full_buckets", "full_buckets"), ("indexed", "indexed"),
                          ("undecidable", "undecidable")):
            equal(f"list {sl['list']} {k}",
                  get(m, f"xfrmbpf_shape_list_{metric}", list=sl["list"]), float(sl[k]))
    flags = series(m, "xfrmbpf_interface_flag")
    for i in status["interfaces"]:
        for labels, v in flags.items():
            l = dict(labels)
            if l["interface"] == i["name"]:
                equal(f"{i['name']} flag {l['flag']}", v, 1.0 if i.get(l["flag"]) else 0.0)
        for flag in ("generic_xdp", "stacked", "tc_ingress", "netfilter_ingress",
                     "netfilter_prerouting_ipv4", "netfilter_prerouting_ipv6",
                     "disable_policy_ipv4", "disable_policy_ipv6"):
            if get(m, "xfrmbpf_interface_flag", interface=i["name"], flag=flag) is None:
                bad.append(f"{i['name']} flag {flag} missing")
    age = get(m, "xfrmbpf_heartbeat_age_seconds")
    if age is None or age * 1000 > status["heartbeat_timeout_ms"]:
        bad.append(f"heartbeat age {age}")
    hits = sorted((p for p in policies if p["packets"]), key=lambda p: -p["packets"])
    top = series(m, "xfrmbpf_policy_packets_total")
    equal("per-policy series", len(top), min(len(hits), int(get(m, "xfrmbpf_policy_top_series"))))
    for p in hits[:len(top)]:
        labels = dict(index=str(p["index"]), dir=p["dir"], action=p["action"])
        equal(f"policy {p['index']} packets",
              get(m, "xfrmbpf_policy_packets_total", **labels), p["packets"])
        equal(f"policy {p['index']} bytes", get(m, "xfrmbpf_policy_bytes_total", **labels),
              p["bytes"])
    try:
        for line in open("/proc/net/xfrm_stat"):
            stat, v = line.split()
            if get(m, "xfrmbpf_kernel_xfrm_errors_total", stat=stat) is None:
                bad.append(f"kernel {stat} missing")
    except FileNotFoundError:
        pass
    for b in bad:
        print(b)
    return 1 if bad else 0

sys.exit(main())
EOF
mcheck() { ip netns exec "$XBT_NS" "$XBT_PYTHON" "$CHECK" "$@"; }
parses() {
	mcheck parse "$1" || return 1
	[ -z "$PROMTOOL" ] || "$PROMTOOL" check metrics <"$1"
}
scrape() { xbt_ns curl -sS --max-time 5 "$@"; }
http_code() { scrape -o /dev/null -w '%{http_code}' "$@"; }
jq_ok() { jq -e "$@" >/dev/null; }

# compare METRICS-FILE CMD...: CMD writes the exposition into METRICS-FILE
# between two reads of `stats -j`; then status and policy.
compare() {
	local file=$1

	shift
	xb stats -j >"$XBT_DIR/before.json"
	"$@" || return 1
	xb stats -j >"$XBT_DIR/after.json"
	xb status -j >"$XBT_DIR/status.json"
	xb policy -j >"$XBT_DIR/policy.json"
	mcheck compare "$file" "$XBT_DIR/before.json" "$XBT_DIR/after.json" \
		"$XBT_DIR/status.json" "$XBT_DIR/policy.json"
}

expect_context() {
	[ -s "$M" ] && head -n 3 "$M" | sed 's/^/#   metrics: /'
	[ -s "$XBT_DIR/err" ] && sed 's/^/#   stderr: /' "$XBT_DIR/err"
}

xbt_daemon_start -i xbt-mgw0 --metrics 127.0.0.1:$PORT
expect "daemon with --metrics 127.0.0.1:$PORT synced" xbt_daemon_wait_synced 10
expect "... listening on 127.0.0.1:$PORT and nothing else of ours" \
	eval '[ "$(xbt_ns ss -Hltn "sport = :$PORT" | awk "{print \$4}")" = "127.0.0.1:$PORT" ]'

# drops by two block policies, ESP-required plaintext, an unknown SPI
ip netns exec "$PEER" ping -c 3 -i 0.2 -W 1 192.0.2.1 >/dev/null 2>&1
ip netns exec "$PEER" "$XBT_PYTHON" "$XBT_DP_PY" send 192.0.2.1 7777 --count 5 >/dev/null
expect "traffic dropped at XDP (policy_block >= 8)" \
	eval '[ "$(xbt_reason policy_block)" -ge 8 ] 2>/dev/null'

code=$(scrape -D "$XBT_DIR/headers" -o "$M" -w '%{http_code}' "$URL/metrics")
expect "GET /metrics: 200" [ "$code" = 200 ]
expect "... Content-Type: text/plain; version=0.0.4; charset=utf-8" \
	grep -qix 'content-type: text/plain; version=0.0.4; charset=utf-8.' "$XBT_DIR/headers"
expect "... parses (python prometheus_client${PROMTOOL:+, promtool check metrics})" parses "$M"
if [ -z "$PROMTOOL" ]; then
	tap_skip "promtool check metrics" "promtool not available (scripts/install-deps.sh unpacks it)"
fi
fams=(xfrmbpf_build_info xfrmbpf_synced xfrmbpf_unsynced_reason xfrmbpf_daemon_running
      xfrmbpf_heartbeat_age_seconds xfrmbpf_generation xfrmbpf_resyncs_total
      xfrmbpf_policies xfrmbpf_sas xfrmbpf_packets_total xfrmbpf_bytes_total
      xfrmbpf_undecidable_packets_total xfrmbpf_flow_cache_hits_total
      xfrmbpf_flow_cache_misses_total xfrmbpf_interface_packets_total
      xfrmbpf_interface_dropped_packets_total xfrmbpf_interface_flag
      xfrmbpf_shape_list_policies xfrmbpf_shape_list_indexed xfrmbpf_shape_list_undecidable
      xfrmbpf_policy_packets_total xfrmbpf_policy_bytes_total)
missing=()
for f in "${fams[@]}"; do
	grep -q "^# TYPE $f " "$M" || missing+=("$f")
done
expect "... has every expected family${missing:+ (missing: ${missing[*]})}" [ ${#missing[@]} -eq 0 ]
if [ -r /proc/net/xfrm_stat ]; then
	expect "... and the kernel's /proc/net/xfrm_stat beside them" \
		grep -q '^xfrmbpf_kernel_xfrm_errors_total{stat="XfrmInNoStates"}' "$M"
else
	tap_skip "kernel xfrm_stat" "no /proc/net/xfrm_stat (CONFIG_XFRM_STATISTICS)"
fi
expect "... drop counter equals stats -j: policy_block $(mcheck value "$M" xfrmbpf_packets_total \
	reason=policy_block verdict=drop)" \
	eval '[ "$(mcheck value "$M" xfrmbpf_packets_total reason=policy_block verdict=drop)" = \
	        "$(xbt_reason policy_block)" ]'
expect "... per-policy series: both block policies with their packets" \
	eval '[ "$(mcheck policies "$M")" = 2 ]'
if [ -n "$SAS" ]; then
	expect "... SAs by family: inet 2, inet6 1" \
		eval '[ "$(mcheck value "$M" xfrmbpf_sas family=inet) $(mcheck value "$M" xfrmbpf_sas family=inet6)" = "$SAS" ]'
fi
expect "a scrape agrees with stats -j (between reads before and after), status -j, policy -j" \
	compare "$M" scrape -o "$M" "$URL/metrics"

expect "GET / : 404" [ "$(http_code "$URL/")" = 404 ]
expect "GET /metrics/x : 404" [ "$(http_code "$URL/metrics/x")" = 404 ]
expect "GET /metricsx : 404" [ "$(http_code "$URL/metricsx")" = 404 ]
expect "POST /metrics: 405" [ "$(http_code -X POST -d x "$URL/metrics")" = 405 ]
expect "not served on the interface address 192.0.2.1:$PORT" \
	eval '! scrape -o /dev/null "http://192.0.2.1:$PORT/metrics" 2>/dev/null'

# A client that connects and sends half a request blocks neither the
# mirror nor another scrape (libmicrohttpd's own thread).
ip netns exec "$XBT_NS" "$XBT_PYTHON" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
time.sleep(30)' "$PORT" &
SLOW=$!
xbt_track_pid "$SLOW"
sleep 0.3
n0=$(xb status -j | jq .policies)
pol dir in src 192.0.2.2 dst 192.0.2.1 proto udp dport 7001 action block priority 40
expect "with a slow client connected, the mirror follows a new policy" \
	wait_for 5 eval '[ "$(xb status -j | jq .policies)" -gt "$n0" ]'
expect "... and another scrape answers, with the new count" \
	eval 'scrape -o "$M" "$URL/metrics" && grep -q "^xfrmbpf_policies{dir=\"in\",family=\"inet\"} 4$" "$M"'
xbt_kill_pid "$SLOW"

# ---- xfrmbpf metrics ----
expect "xfrmbpf metrics prints an exposition that parses" \
	eval 'xb metrics >"$M" 2>"$XBT_DIR/err" && parses "$M"'
expect "... and agrees with stats -j, status -j, policy -j" compare "$M" eval 'xb metrics >"$M"'
expect "--top-policies 1: one per-policy series, the policy with most packets" \
	eval 'xb metrics --top-policies 1 >"$M" && [ "$(mcheck policies "$M")" = 1 ] &&
	      compare "$M" eval "xb metrics --top-policies 1 >\"$M\""'
expect "--top-policies 0: none" \
	eval 'xb metrics --top-policies 0 >"$M" && [ "$(mcheck policies "$M")" = 0 ] && parses "$M"'
xb metrics --top-policies 1001 >/dev/null 2>"$XBT_DIR/err"
expect "--top-policies 1001: usage error (exit 2)" [ $? -eq 2 ]

# ---- textfile mode: replaced at once ----
TF=$XBT_DIR/textfile/xfrmbpf.prom
mkdir -p "$XBT_DIR/textfile"
expect "metrics -o FILE writes a file that parses, mode 0644, no temporary left" \
	eval 'xb metrics -o "$TF" 2>"$XBT_DIR/err" && parses "$TF" &&
	      [ "$(stat -c %a "$TF")" = 644 ] && [ "$(ls "$XBT_DIR/textfile" | wc -l)" = 1 ]'
# a second link keeps the first file's inode from being reused
ln "$TF" "$XBT_DIR/first.prom"
ino0=$(stat -c %i "$TF")
# A writer rewrites it 40 times while a reader reads it: every read whole.
( for i in $(seq 40); do xb metrics -o "$TF" || exit 1; done ) &
WRITER=$!
torn=0 reads=0
while kill -0 "$WRITER" 2>/dev/null; do
	# one read: the first family first, the last one last
	text=$(cat "$TF") || continue
	reads=$((reads + 1))
	[[ $text == "# HELP xfrmbpf_build_info "* ]] &&
		[[ $text == *$'\n'xfrmbpf_kernel_xfrm_errors_total* || ! -r /proc/net/xfrm_stat ]] &&
		[[ $text == *$'\n'"# TYPE xfrmbpf_policy_bytes_total counter"* ]] ||
		torn=$((torn + 1))
done
wait "$WRITER"
wrc=$?
expect "... rewritten 40 times under a reader: $reads reads, none torn" \
	eval '[ $wrc -eq 0 ] && [ $torn -eq 0 ] && [ $reads -gt 0 ]'
expect "... replaced by rename (new inode), no temporary left" \
	eval '[ "$(stat -c %i "$TF")" != "$ino0" ] && [ "$(ls "$XBT_DIR/textfile" | wc -l)" = 1 ]'
xb metrics -o "$XBT_DIR/nodir/x.prom" >/dev/null 2>"$XBT_DIR/err"
rc=$?
expect "metrics -o into a missing directory: exit 1, says why" \
	eval '[ $rc -eq 1 ] && grep -q "couldn.t write .*nodir/x.prom" "$XBT_DIR/err"'

# ---- IPv6, and what --metrics refuses ----
expect "daemon stops cleanly" xbt_daemon_stop
expect "... and the endpoint is gone" \
	eval '! scrape -o /dev/null "$URL/metrics" 2>/dev/null'
xbt_daemon_start -i xbt-mgw0 --metrics "[::1]:$PORT"
expect "daemon with --metrics [::1]:$PORT synced" xbt_daemon_wait_synced 10
expect "... GET http://[::1]:$PORT/metrics parses" \
	eval 'scrape -g -o "$M" "http://[::1]:$PORT/metrics" && parses "$M"'
expect "... listening on [::1]:$PORT only (not on IPv4)" \
	eval '[ "$(xbt_ns ss -Hltn "sport = :$PORT" | awk "{print \$4}")" = "[::1]:$PORT" ] &&
	      ! scrape -o /dev/null "$URL/metrics" 2>/dev/null'
# another process holds a port: the daemon says so and exits 1
ip netns exec "$XBT_NS" "$XBT_PYTHON" -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 9572)); s.listen(); time.sleep(30)' &
HOLDER=$!
xbt_track_pid "$HOLDER"
wait_for 3 eval 'xbt_ns ss -Hltn "sport = :9572" | grep -q 9572'
expect "daemon stops cleanly" xbt_daemon_stop
xb run --metrics 127.0.0.1:9572 >/dev/null 2>"$XBT_DIR/err"
rc=$?
expect "run --metrics on a port in use: exit 1, 'couldn't listen on 127.0.0.1:9572'" \
	eval '[ $rc -eq 1 ] && grep -q "couldn.t listen on 127.0.0.1:9572.*in use" "$XBT_DIR/err"'
xbt_kill_pid "$HOLDER"
for bad in localhost:9571 127.0.0.1 127.0.0.1:0 127.0.0.1:70000 '::1:9571' '[127.0.0.1]:9571'; do
	xb run --metrics "$bad" >/dev/null 2>"$XBT_DIR/err"
	rc=$?
	expect "run --metrics '$bad': usage error (exit 2)" \
		eval '[ $rc -eq 2 ] && grep -q -- "--metrics" "$XBT_DIR/err"'
done

tap_done
