#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The manual page, xfrmbpf(8) (docs/xfrmbpf.8.scd): scdoc builds it, man
# renders it without a warning, and it cannot drift from the build: every
# command and every option of the binary's --help (in that command's entry),
# every exit code, every pinned map of bpf/maps.bpf.h (and the exit watch's
# link), every reason and undecidable cause are in it. No network, no root.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/cli_help.sh"

SCD=$TOP/docs/xfrmbpf.8.scd
if ! command -v scdoc >/dev/null; then
	tap_skip man "scdoc not installed (scripts/install-deps.sh)"
	exit 0
fi
if [ ! -x "$XFRMBPF" ]; then
	tap_skip man "no $XFRMBPF (make)"
	exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PAGE=$TMP/xfrmbpf.8

# 1. Build: the same command as `make man`, from the source as it is now.
if err=$(scdoc <"$SCD" 2>&1 >"$PAGE") && [ -s "$PAGE" ]; then
	tap_ok "man: scdoc builds docs/xfrmbpf.8.scd"
else
	tap_fail "man: scdoc builds docs/xfrmbpf.8.scd" "$err"
	exit 1
fi
if [ -f "$TOP/build/man/xfrmbpf.8" ] && [ "$TOP/build/man/xfrmbpf.8" -ot "$SCD" ]; then
	echo "# build/man/xfrmbpf.8 is older than its source: make man"
fi

# 2. Render: man-db (groff -ww underneath) at 80 columns, no warning.
if command -v man >/dev/null; then
	warn=$(MANWIDTH=80 man --warnings -l "$PAGE" 2>&1 >"$TMP/rendered")
	how="man --warnings -l"
elif command -v groff >/dev/null; then
	warn=$(groff -man -Tutf8 -ww -rLL=80n "$PAGE" 2>&1 >"$TMP/rendered")
	how="groff -man -ww"
else
	how=""
fi
if [ -z "$how" ]; then
	tap_skip "man: renders without warnings" "neither man nor groff installed"
elif [ -z "$warn" ] && [ -s "$TMP/rendered" ]; then
	tap_ok "man: renders without warnings ($how, 80 columns)"
else
	tap_fail "man: renders without warnings ($how, 80 columns)" "$(printf '%s\n' "$warn" | head -20)"
fi

# The roff without font changes and escapes, so names read as typed.
norm() { sed -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\-/-/g' -e 's/\\(em/--/g'; }
# section NAME: the roff lines of one .SH section.
section() { awk -v s=".SH $1" '/^\.SH /{on = ($0 == s); next} on' "$PAGE"; }

section COMMANDS >"$TMP/commands.roff"
section "GLOBAL OPTIONS" | norm >"$TMP/global"
section "EXIT STATUS" | norm >"$TMP/exit"
section FILES >"$TMP/files.roff"
section METRICS | norm >"$TMP/metrics"

# Split COMMANDS into one file per entry: an entry starts at a term at the
# outer level (the line before its ".RS"), named by its first bold word.
mkdir -p "$TMP/cmd"
awk -v dir="$TMP/cmd" '
	{ line[NR] = $0 }
	END {
		depth = 0; out = ""
		for (i = 1; i <= NR; i++) {
			l = line[i]
			if (depth == 0 && line[i + 1] ~ /^\.RS/ && l ~ /^\\fB[a-z]+\\fR/) {
				name = l; sub(/^\\fB/, "", name); sub(/\\fR.*/, "", name)
				out = dir "/" name
			}
			if (l ~ /^\.RS/) depth++
			if (l ~ /^\.RE/ && depth > 0) depth--
			if (out != "") print l > out
		}
	}' "$TMP/commands.roff"
for f in "$TMP"/cmd/*; do norm <"$f" >"$f.txt"; done

# 3. Every command of `xfrmbpf --help`, as an entry of COMMANDS.
"$XFRMBPF" --help >"$TMP/help" 2>&1
cmds=$(help_commands <"$TMP/help")
if [ -z "$cmds" ]; then
	tap_fail "man: xfrmbpf --help lists commands" "$(head -5 "$TMP/help")"
fi
missing=()
for c in $cmds; do
	[ -s "$TMP/cmd/$c.txt" ] || missing+=("$c")
done
if [ ${#missing[@]} -eq 0 ] && [ -n "$cmds" ]; then
	tap_ok "man: an entry in COMMANDS for each of the $(echo $cmds | wc -w) commands of --help"
else
	tap_fail "man: an entry in COMMANDS for each command of --help" "missing: ${missing[*]}"
fi

# has FILE WORD: WORD is in FILE as a word of its own.
has() { grep -qE -- "(^|[^A-Za-z0-9_-])$2([^A-Za-z0-9_-]|\$)" "$1"; }

# 4. The global options, in GLOBAL OPTIONS.
missing=()
while read -r short long; do
	[ -z "$long" ] && { long=$short; short=""; }
	has "$TMP/global" "$long" || missing+=("$long")
	[ -n "$short" ] && { has "$TMP/global" "$short" || missing+=("$short"); }
done < <(help_options <"$TMP/help")
if [ ${#missing[@]} -eq 0 ]; then
	tap_ok "man: every global option of --help in GLOBAL OPTIONS"
else
	tap_fail "man: every global option of --help in GLOBAL OPTIONS" "missing: ${missing[*]}"
fi

# 5. Each command's options in its own entry; -j and -h, which every command
# takes, may be said once in GLOBAL OPTIONS instead.
for c in $cmds; do
	missing=() n=0
	entry=$TMP/cmd/$c.txt
	[ -s "$entry" ] || entry=/dev/null
	"$XFRMBPF" "$c" --help >"$TMP/help.$c" 2>&1
	while read -r short long; do
		[ -z "$long" ] && { long=$short; short=""; }
		n=$((n + 1))
		where=$entry
		case $long in --json|--help) has "$entry" "$long" || where=$TMP/global ;; esac
		has "$where" "$long" || missing+=("$long")
		[ -n "$short" ] && { has "$where" "$short" || missing+=("$short"); }
	done < <(help_options <"$TMP/help.$c")
	if [ "$n" -gt 0 ] && [ ${#missing[@]} -eq 0 ]; then
		tap_ok "man: the $n options of $c --help in its entry"
	else
		tap_fail "man: the options of $c --help in its entry" "missing: ${missing[*]:-no options read from $c --help}"
	fi
done

# 6. Every numeric default of the --help texts is in the page with its number
# ("default 1000"; "default 8 MiB" is said in bytes, so units are left out).
norm <"$PAGE" | grep -v '^\.' | tr -s '\n' ' ' >"$TMP/flat"
missing=()
for d in $(cat "$TMP"/help* | grep -oE 'default [0-9]+\b( [KMG]iB)?' | grep -vE 'iB$' |
	   awk '{print $2}' | sort -u); do
	grep -qE "default $d\b" "$TMP/flat" || missing+=("default $d")
done
if [ ${#missing[@]} -eq 0 ]; then
	tap_ok "man: every numeric default of the --help texts"
else
	tap_fail "man: every numeric default of the --help texts" "missing: ${missing[*]}"
fi

# 7. Every exit code of --help in EXIT STATUS.
codes=$(sed -n '/^Exit codes:/,/^$/p' "$TMP/help" | grep -oE '(^|[ :,]) ?[0-9] [a-z]' | grep -oE '[0-9]')
missing=()
for code in $codes; do
	grep -qx "$code" "$TMP/exit" || missing+=("$code")
done
if [ -n "$codes" ] && [ ${#missing[@]} -eq 0 ]; then
	tap_ok "man: exit codes $(echo $codes) in EXIT STATUS"
else
	tap_fail "man: every exit code of --help in EXIT STATUS" "codes: $(echo $codes); missing: ${missing[*]}"
fi

# 8. Every pinned map of bpf/maps.bpf.h and the exit watch's link, as a term
# of FILES.
maps=$(grep -oE '^\} *xb_[a-z0-9_]+ +SEC\("\.maps"\)' "$TOP/bpf/maps.bpf.h" | grep -oE 'xb_[a-z0-9_]+')
link=$(sed -n 's/^#define XB_EXIT_WATCH_PIN[[:space:]]*"\(.*\)"/\1/p' "$TOP/user/loader/maps.h")
missing=()
for m in $maps $link; do
	grep -qF "\\fB$m\\fR" "$TMP/files.roff" || missing+=("$m")
done
if [ "$(echo $maps | wc -w)" -ge 10 ] && [ ${#missing[@]} -eq 0 ]; then
	tap_ok "man: the $(echo $maps | wc -w) maps of bpf/maps.bpf.h and $link in FILES"
else
	tap_fail "man: every map of bpf/maps.bpf.h in FILES" "maps read: $(echo $maps | wc -w); missing: ${missing[*]}"
fi

# 9. Every reason and undecidable cause (include/xfrmbpf/reasons.h), the
# labels of the metrics, in METRICS.
names=$(grep -oE '^[[:space:]]*X\(XB_[RU]_[A-Z0-9_]+,[[:space:]]*"[a-z0-9_]+"\)' \
	"$TOP/include/xfrmbpf/reasons.h" | grep -oE '"[a-z0-9_]+"' | tr -d '"')
missing=()
for r in $names; do
	has "$TMP/metrics" "$r" || missing+=("$r")
done
if [ "$(echo $names | wc -w)" -ge 20 ] && [ ${#missing[@]} -eq 0 ]; then
	tap_ok "man: the $(echo $names | wc -w) reasons and undecidable causes in METRICS"
else
	tap_fail "man: every reason and cause of reasons.h in METRICS" "read: $(echo $names | wc -w); missing: ${missing[*]}"
fi

# 10. The sections a reader looks for, and XFRMBPF_PIN_DIR.
missing=()
for s in NAME SYNOPSIS DESCRIPTION "GLOBAL OPTIONS" COMMANDS "EXIT STATUS" ENVIRONMENT FILES METRICS \
	EXAMPLES "SEE ALSO"; do
	grep -qx "\.SH $s" "$PAGE" || missing+=("$s")
done
section ENVIRONMENT | norm | grep -qx 'XFRMBPF_PIN_DIR' || missing+=("ENVIRONMENT: XFRMBPF_PIN_DIR")
for s in 'ip-xfrm(8)' 'bpftool(8)' 'xdp-loader(8)'; do
	section "SEE ALSO" | norm | grep -qF "$s" || missing+=("SEE ALSO: $s")
done
if [ ${#missing[@]} -eq 0 ]; then
	tap_ok "man: every section, XFRMBPF_PIN_DIR, SEE ALSO"
else
	tap_fail "man: every section, XFRMBPF_PIN_DIR, SEE ALSO" "missing: ${missing[*]}"
fi

tap_done
