#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The SAD mirror against real ESP SAs (the host kernel has no ESP): the
# daemon (`xfrmbpf run`) syncs, SAs of every shape we mirror (IPv4, IPv6,
# with mark, with if_id, NAT-T espinudp) show up in `xfrmbpf sa -j` with
# the kernel's fields, `xfrmbpf check` agrees, a deleted SA disappears, and
# no key byte reaches a pinned map, the daemon's log or the daemon's memory
# (invariant 4). Runs in the guest's own network namespace: the VM is ours.
set -u
. "$(dirname "$0")/_lib.sh"
vm_enter "$0" "$@"
require_root "sa mirror"
vm_banner "sa_mirror"

BPFFS=/sys/fs/bpf/xbt-vm
PIN=$BPFFS/xfrmbpf
WORK=
DAEMON=
DAEMON_RC=
# Distinctive test keys: every 4-byte window is searched for below.
ENC=0x3f5c2a7e91d46b08e2a7c3195b0df468
AUTH=0x8d1e6a4f2c97b3050e7da1c4f68b293a7451ce0b9d362fa8c15e7043b9d2f61e
AEAD=0x6c0a94e3d7218f5bb4c62e19f0735ad8e4b1907c
KEYS="${ENC#0x} ${AUTH#0x} ${AEAD#0x}"

# The SAs: "ip xfrm state" arguments, and what `sa -j` must say about them.
SA_ARGS=(
	"src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x1001 reqid 11 mode tunnel
	 auth-trunc hmac(sha256) $AUTH 128 enc cbc(aes) $ENC"
	"src 2001:db8:1::10 dst 2001:db8:1::20 proto esp spi 0x1002 reqid 12 mode transport
	 aead rfc4106(gcm(aes)) $AEAD 128"
	"src 198.51.100.10 dst 198.51.100.20 proto esp spi 0x1003 reqid 13 mode tunnel
	 mark 0x2a mask 0xff auth-trunc hmac(sha256) $AUTH 128 enc cbc(aes) $ENC"
	"src 203.0.113.10 dst 203.0.113.20 proto esp spi 0x1004 reqid 14 mode tunnel
	 if_id 9 auth-trunc hmac(sha256) $AUTH 128 enc cbc(aes) $ENC"
	"src 192.0.2.30 dst 192.0.2.40 proto esp spi 0x1005 reqid 15 mode tunnel
	 encap espinudp 4600 4500 0.0.0.0 aead rfc4106(gcm(aes)) $AEAD 128"
)
SA_WANT=(
	'{"family":"inet","src":"192.0.2.10","dst":"192.0.2.20","proto":50,"spi":4097,
	  "mode":"tunnel","reqid":11,"mark":0,"mark_mask":0,"if_id":0,"encap":null}'
	'{"family":"inet6","src":"2001:db8:1::10","dst":"2001:db8:1::20","proto":50,"spi":4098,
	  "mode":"transport","reqid":12,"mark":0,"mark_mask":0,"if_id":0,"encap":null}'
	'{"family":"inet","src":"198.51.100.10","dst":"198.51.100.20","proto":50,"spi":4099,
	  "mode":"tunnel","reqid":13,"mark":42,"mark_mask":255,"if_id":0,"encap":null}'
	'{"family":"inet","src":"203.0.113.10","dst":"203.0.113.20","proto":50,"spi":4100,
	  "mode":"tunnel","reqid":14,"mark":0,"mark_mask":0,"if_id":9,"encap":null}'
	'{"family":"inet","src":"192.0.2.30","dst":"192.0.2.40","proto":50,"spi":4101,
	  "mode":"tunnel","reqid":15,"mark":0,"mark_mask":0,"if_id":0,
	  "encap":{"type":2,"sport":4600,"dport":4500}}'
)

cleanup() {
	local i

	[ -n "$DAEMON" ] && stop_daemon
	for i in "${!SA_ARGS[@]}"; do
		# shellcheck disable=SC2046
		ip xfrm state delete $(sa_id "$i") 2>/dev/null
	done
	rm -rf "$PIN"
	umount "$BPFFS" 2>/dev/null
	rmdir "$BPFFS" 2>/dev/null
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT

xb() { "$XFRMBPF" --pin-dir "$PIN" "$@"; }

# stop_daemon: SIGTERM, SIGKILL 10 s later if it is still there; its exit
# status in DAEMON_RC (137: it ignored SIGTERM). Not in a subshell: only
# this shell can wait for its child.
stop_daemon() {
	local watchdog

	kill -TERM "$DAEMON" 2>/dev/null
	(sleep 10 && kill -KILL "$DAEMON" 2>/dev/null) &
	watchdog=$!
	wait "$DAEMON" 2>/dev/null
	DAEMON_RC=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	DAEMON=
}

# The "ID" part of SA i (what `ip xfrm state delete` takes).
sa_id() {
	# shellcheck disable=SC2086
	set -- ${SA_ARGS[$1]}
	local id=("$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8")
	while [ $# -gt 0 ]; do
		[ "$1" = mark ] && id+=(mark "$2" mask "$4")
		shift
	done
	echo "${id[@]}"
}

synced() { xb status -j | jq -e '.synced == true' >/dev/null; }

# sa_listed SPI: `sa -j` has an SA with this SPI.
sa_listed() { xb sa -j | jq -e --argjson s "$1" 'any(.[]; .spi == $s)' >/dev/null; }
sa_gone() { ! sa_listed "$1"; }

# expect_sa I: exactly one mirrored SA has SA i's SPI and destination,
# and every field in SA_WANT[i] has the wanted value.
expect_sa() {
	local want=${SA_WANT[$1]} got

	got=$(xb sa -j | jq -c --argjson w "$want" \
		'[.[] | select(.spi == $w.spi and .dst == $w.dst)]')
	if jq -e --argjson w "$want" 'length == 1 and
		(.[0] as $a | $w | to_entries | all(.value == $a[.key]))' <<<"$got" >/dev/null; then
		tap_ok "sa -j: $(jq -r '"\(.family) \(.src)>\(.dst) spi \(.spi) mode \(.mode)" +
			(if .mark != 0 then " mark \(.mark)/\(.mark_mask)" else "" end) +
			(if .if_id != 0 then " if_id \(.if_id)" else "" end) +
			(if .encap != null then " encap \(.encap.type) \(.encap.sport)>\(.encap.dport)" else "" end)' \
			<<<"$want")"
	else
		tap_fail "sa -j lists SA spi $(jq .spi <<<"$want") as the kernel has it" \
			"want $(jq -c . <<<"$want"); got $got"
	fi
}

# Every 4-byte window of every key, in key order and reversed, as lower-case
# hex: a stored key shows at least one of them whatever its layout.
key_windows() {
	local k r i

	for k in $KEYS; do
		r=$(echo "$k" | sed 's/../& /g' | tr ' ' '\n' | tac | tr -d '\n')
		for i in $(seq 0 2 $((${#k} - 8))); do
			echo "${k:$i:8}"
			echo "${r:$i:8}"
		done
	done
}

# Text -> one stream of hex digits: "0x3f 0x5c", "3f:5c", "3F5C" all become
# "3f5c", so a key printed in any of those forms matches a window.
hex_stream() {
	tr 'A-F' 'a-f' | sed 's/0x//g' | tr -cd '0-9a-f'
}

# leak_scan FILE...: the key windows found in the files (read as text).
leak_scan() {
	cat "$@" | hex_stream | grep -o -F -f "$WORK/windows" | sort -u | head -5
}

# raw_scan FILE...: the key windows found in maps' raw bytes as
# tests/lib/map_hex.py writes them (lines of bare hex: grep them as they
# are, no rewrite of megabytes of zeros).
raw_scan() {
	cat "$@" | grep -o -F -f "$WORK/windows" | sort -u | head -5
}

# leak_check NAME SCANNER FILE...: one test, no key window in the files.
leak_check() {
	local name=$1 scanner=$2 hits
	shift 2
	hits=$("$scanner" "$@")
	if [ -z "$hits" ]; then
		tap_ok "$name"
	else
		tap_fail "$name" "key bytes found: ${hits//$'\n'/ }"
	fi
}

# The detectors must find a key when there is one, or their passes mean
# nothing: a planted key in the forms bpftool and a logger would print it,
# and a process that holds a key in its heap.
leak_self_test() {
	local k=${ENC#0x} spaced holder out

	spaced=$(echo "$k" | sed 's/../0x& /g')
	printf 'value: [%s]\n' "$spaced" >"$WORK/planted.txt"
	echo "$k" | sed 's/../& /g' | tr ' ' '\n' | tac | tr -d '\n' >"$WORK/planted-rev.txt"
	if [ -n "$(leak_scan "$WORK/planted.txt")" ] && [ -n "$(leak_scan "$WORK/planted-rev.txt")" ]; then
		tap_ok "leak detectors find a planted key (spaced 0x bytes, reversed hex)"
	else
		tap_fail "leak detector finds a planted key"
	fi
	perl -e '$k = pack("H*", $ARGV[0]) x 2; sleep 30' "$k" &
	holder=$!
	sleep 0.5
	if out=$(memory_leak_check "$holder" 2>&1); then
		tap_fail_log "memory scanner finds a key held by a process" "$out"
	else
		tap_ok "memory scanner finds a key held by a process ($(echo "$out" | wc -l) hits)"
	fi
	kill "$holder"
	wait "$holder" 2>/dev/null
}

# The raw-bytes reader finds a key planted in a map of our own.
map_scan_self_test() {
	local m=$BPFFS/xbt_planted

	# shellcheck disable=SC2046 # one word per byte
	if ! bpftool map create "$m" type array key 4 value 16 entries 2 name xbt_planted ||
		! bpftool map update pinned "$m" key 1 0 0 0 value \
			$(echo "${ENC#0x}" | sed 's/../0x& /g'); then
		tap_fail "plant a key in a map of our own"
	else
		# as dump_maps() reads the pins: into a directory
		mkdir -p "$WORK/planted"
		python3 "$TOP/tests/lib/map_hex.py" --out-dir "$WORK/planted" "$m" \
			2>"$WORK/planted/err"
		if [ -n "$(raw_scan "$WORK/planted/map.1.hex")" ]; then
			tap_ok "the map reader finds a key planted in a map"
		else
			tap_fail_log "the map reader finds a key planted in a map" \
				"$(cat "$WORK/planted/err" "$WORK/planted/map.1.hex" 2>&1)"
		fi
	fi
	rm -f "$m"
}

# Every pinned map's raw bytes (every key and value, whatever BTF says
# about them; tests/lib/map_hex.py, one run for all pins) and, when small
# enough to rewrite, bpftool's text dump too. Prints "MAPS ENTRIES";
# per-map lines on stderr.
dump_maps() {
	local f i=0 n=0 name e total=0 size
	local -a pins

	mapfile -t pins < <(find "$PIN" -type f | sort)
	python3 "$TOP/tests/lib/map_hex.py" --out-dir "$WORK" "${pins[@]}" 2>"$WORK/err"
	while read -r name e; do
		f=${pins[$i]:-}
		[ "$name" = "${f##*/}" ] || break
		i=$((i + 1))
		if [ "$e" = "not a map" ]; then
			rm -f "$WORK/map.$i.hex"
			continue
		fi
		n=$((n + 1))
		size=$(stat -c %s "$WORK/map.$i.hex")
		[ "$size" -lt 300000 ] &&
			bpftool map dump pinned "$f" >"$WORK/map.$i.txt" 2>&1
		if [[ $e =~ ^[0-9]+$ ]]; then
			total=$((total + e))
			echo "#   ${f#"$PIN"/}: $e entries, $size bytes of hex" >&2
		else
			echo "#   ${f#"$PIN"/}: ${e:-no answer}" >&2
		fi
	done <"$WORK/err"
	if [ "$i" -ne "${#pins[@]}" ]; then
		# not one line a pin, in their order: the reader failed
		sed 's/^/#   /' "$WORK/err" >&2
		echo "0 0"
		return
	fi
	echo "$n $total"
}

# memory_leak_check PID: no 8-byte key window in the daemon's writable
# memory (heap, stack, data): receive buffers must be wiped after parsing.
memory_leak_check() {
	local wins

	wins=$(for k in $KEYS; do
		r=$(echo "$k" | sed 's/../& /g' | tr ' ' '\n' | tac | tr -d '\n')
		for i in $(seq 0 8 $((${#k} - 16))); do echo "${k:$i:16} ${r:$i:16}"; done
	done)
	# shellcheck disable=SC2086
	perl -e '
		my $pid = shift;
		my @hex = @ARGV;
		my @bin = map { pack("H*", $_) } @hex;
		my $hits = 0;
		open(my $maps, "<", "/proc/$pid/maps") or die "maps: $!\n";
		open(my $mem, "<:raw", "/proc/$pid/mem") or die "mem: $!\n";
		while (<$maps>) {
			my ($s, $e, $perm, $path) =
				/^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/ or next;
			next unless $perm =~ /^rw/;
			next if $path =~ /^\[(vvar|vsyscall|vdso)\]/;
			sysseek($mem, hex($s), 0) or next;
			my $buf = "";
			sysread($mem, $buf, hex($e) - hex($s)) or next;
			for my $i (0 .. $#bin) {
				next if index($buf, $bin[$i]) < 0;
				print "$hex[$i] in ", ($path || "anon"), " at $s\n";
				$hits++;
			}
		}
		exit($hits ? 1 : 0);' "$1" $wins
}

main() {
	local i out n total

	if [ ! -x "$XFRMBPF" ]; then
		tap_skip "sa mirror" "$XFRMBPF is not built (make)"
		return 0
	fi
	WORK=$(mktemp -d /tmp/xbt-sa.XXXXXX)
	key_windows >"$WORK/windows"
	leak_self_test
	modprobe -a esp4 esp6 xfrm_user
	mkdir -p "$BPFFS"
	mount -t bpf xbt-vm "$BPFFS" && mkdir -p "$PIN" || {
		tap_fail "mount a bpffs at $BPFFS"
		return 1
	}
	map_scan_self_test

	# Not through xb(): $! must be the daemon itself, not a subshell.
	# A small capacity: the scan below dumps every pinned map whole, and
	# per-policy arrays of the default million entries would fill the
	# VM's /tmp; where keys could leak does not depend on the capacity.
	"$XFRMBPF" --pin-dir "$PIN" run --max-policies 4096 \
		>"$WORK/daemon.out" 2>"$WORK/daemon.log" &
	DAEMON=$!
	if wait_for 20 synced; then
		tap_ok "daemon synced: $(xb status -j | jq -c '{generation, resyncs, sas, policies}')"
	else
		tap_fail_log "daemon reports synced within 20 s" "$(xb status -j 2>&1; tail -5 "$WORK/daemon.log")"
		return 1
	fi

	for i in "${!SA_ARGS[@]}"; do
		# shellcheck disable=SC2086
		out=$(ip xfrm state add ${SA_ARGS[$i]} 2>&1) || {
			tap_fail_log "ip xfrm state add SA $i" "$out"
			return 1
		}
	done
	tap_ok "added ${#SA_ARGS[@]} ESP SAs (kernel SAD count $(ip xfrm state count | awk '{ print $NF }'))"

	if wait_for 10 sa_listed 4101 && wait_for 5 sa_listed 4097; then
		tap_ok "the mirror lists the new SAs"
	else
		tap_fail_log "the mirror lists the new SAs within 10 s" "$(xb sa -j 2>&1 | head -20)"
	fi
	for i in "${!SA_WANT[@]}"; do
		expect_sa "$i"
	done
	expect_eq "status -j counts the SAs" "${#SA_ARGS[@]}" "$(xb status -j | jq .sas)"
	check "xfrmbpf check: mirror equals the kernel with ${#SA_ARGS[@]} SAs" xb check

	# shellcheck disable=SC2046
	ip xfrm state delete $(sa_id 2)
	if wait_for 10 sa_gone 4099; then
		tap_ok "deleted SA (spi 0x1003, mark 0x2a/0xff) left the mirror"
	else
		tap_fail_log "deleted SA (spi 0x1003) left the mirror within 10 s" "$(xb sa -j 2>&1)"
	fi
	expect_eq "status -j counts the SAs after the delete" $((${#SA_ARGS[@]} - 1)) \
		"$(xb status -j | jq .sas)"
	check "xfrmbpf check: mirror equals the kernel after the delete" xb check

	echo "# at ${SECONDS} s: dumping the maps"
	read -r n total < <(dump_maps)
	echo "# at ${SECONDS} s: dumped"
	if [ "$n" -gt 0 ]; then
		tap_ok "read $n pinned maps ($total entries)"
	else
		tap_fail_log "pinned maps under $PIN" "$(find "$PIN" 2>&1 | head)"
	fi
	leak_check "no key bytes in the raw key/value bytes of any map" \
		raw_scan /dev/null "$WORK"/map.*.hex
	leak_check "no key bytes in bpftool's text dumps (any hex form)" \
		leak_scan /dev/null "$WORK"/map.*.txt
	echo "# at ${SECONDS} s: scanned"

	if out=$(memory_leak_check "$DAEMON" 2>&1); then
		tap_ok "no key bytes in the daemon's memory"
	else
		tap_fail_log "no key bytes in the daemon's memory (buffers wiped)" "$out"
	fi

	echo "# at ${SECONDS} s: the daemon's memory scanned"
	stop_daemon
	expect_eq "daemon exits 0 on SIGTERM" 0 "$DAEMON_RC"
	leak_check "no key bytes in the daemon's log ($(wc -l <"$WORK/daemon.log") lines)" \
		leak_scan "$WORK/daemon.log" "$WORK/daemon.out"
	if [ "$TAP_FAILED" -gt 0 ]; then
		echo "# daemon log (last 20 lines):"
		tail -20 "$WORK/daemon.log" | sed 's/^/#   /'
	fi
}

main
tap_done
