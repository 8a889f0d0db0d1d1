#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The bash completion (scripts/completion/xfrmbpf, installed by the Debian
# package) cannot drift from the binary: completing after `xfrmbpf` offers
# every command of --help, after `xfrmbpf --` every global option, after
# `xfrmbpf CMD --` every long option of `CMD --help`; interfaces and fixed
# values complete too. Runs the completion function as bash-completion
# would call it. No network, no root.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/cli_help.sh"

COMP=$TOP/scripts/completion/xfrmbpf
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
if [ ! -r "$BASH_COMPLETION" ]; then
	tap_skip completion "bash-completion not installed (scripts/install-deps.sh)"
	exit 0
fi
if [ ! -x "$XFRMBPF" ]; then
	tap_skip completion "no $XFRMBPF (make)"
	exit 0
fi

# complete WORD...: what the completion offers for the last WORD of
# `xfrmbpf WORD...` (an empty last word: a new one), one per line.
complete() {
	bash -c '
		source "$1" && source "$2" || exit 1
		shift 2
		COMP_WORDS=(xfrmbpf "$@")
		COMP_CWORD=$#
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		_xfrmbpf xfrmbpf "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$BASH_COMPLETION" "$COMP" "$@"
}

# offers "NAME" WANTED COMPLETION...: every word of WANTED (one per line)
# is among the offers for COMPLETION.
offers() {
	local name=$1 wanted=$2 got missing

	shift 2
	got=$(complete "$@")
	missing=$(comm -23 <(sort -u <<<"$wanted") <(sort -u <<<"$got") | tr '\n' ' ')
	if [ -n "$wanted" ] && [ -z "$missing" ]; then
		tap_ok "$name"
	else
		tap_fail "$name" "missing: ${missing:-(nothing wanted)}; offered: $(tr '\n' ' ' <<<"$got")"
	fi
}

# The long options (and short ones) of a --help text.
option_words() { help_options | tr ' ' '\n' | grep -v '^$'; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$XFRMBPF" --help >"$TMP/help" 2>&1
cmds=$(help_commands <"$TMP/help")
offers "completion: every command of --help after xfrmbpf" "$cmds" ""
offers "completion: every global long option after xfrmbpf --" \
	"$(option_words <"$TMP/help" | grep -- '^--')" --
for c in $cmds; do
	offers "completion: every long option of $c --help after xfrmbpf $c --" \
		"$("$XFRMBPF" "$c" --help 2>&1 | option_words | grep -- '^--')" "$c" --
done
offers "completion: run -i offers the interfaces (lo)" lo run -i ""
offers "completion: run --mode offers native and skb" "$(printf 'native\nskb')" run --mode ""
offers "completion: classify offers the protocols first" \
	"$(printf 'udp\ntcp\nicmp\nesp\nnatt')" classify -i lo ""
offers "completion: classify offers the keywords after the addresses" \
	"$(printf 'ttl\ntos\nlen\nvlan')" classify -i lo udp 192.0.2.1:1 192.0.2.2:2 ""

tap_done
