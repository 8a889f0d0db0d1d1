# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Sourced by tests that hold something against the binary's --help (the
# man page, the bash completion), so that neither can drift from it.

# The commands of `xfrmbpf --help` (on stdin), one per line.
help_commands() {
	awk '/^Commands:/{on = 1; next} on && /^  [a-z]/{print $1} on && /^$/{on = 0}'
}

# The options of one --help text (on stdin): "-x --name" or "--name", one
# per line.
help_options() {
	awk '/^Options:/{on = 1; next} on && /^$/{on = 0}
	     on && /^  +-/ {
		s = ""; l = $0
		if (match(l, /^ +-[A-Za-z], /)) { s = substr(l, RSTART, RLENGTH); gsub(/[ ,]/, "", s) }
		if (match(l, /--[a-z][a-z-]*/)) print s, substr(l, RSTART, RLENGTH)
	     }'
}
