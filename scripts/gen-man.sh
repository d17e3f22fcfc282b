#!/usr/bin/env bash
# gen-man.sh - a man page from a program's own --help text (help2man), with
# every subcommand's "PROG SUBCOMMAND --help" appended as a section, and the
# hand-written FILES/ENVIRONMENT/EXIT STATUS/EXAMPLES/SEE ALSO from dist/man/.
#
#   scripts/gen-man.sh PROG SECTION "NAME LINE" INCLUDE.h2m OUT [VERSION]
#
# Subcommands come from "PROG --list-commands" (one per line); a program
# without that option is read from its top-level --help instead: lines of the
# form "  word ..." (two spaces, a lower-case word). A subcommand whose --help
# fails or says nothing is left out. The version is the first number of
# "PROG --version", or VERSION (default 0.0) for a program without it.
set -euo pipefail
[ $# -ge 5 ] || { echo "usage: $0 PROG SECTION NAME INCLUDE OUT [VERSION]" >&2; exit 2; }
prog=$1 section=$2 name=$3 include=$4 out=$5 version=${6:-0.0}
command -v help2man >/dev/null || {
	echo "gen-man.sh: help2man is missing" >&2
	echo "hint: apt-get install help2man (scripts/install-deps.sh)" >&2
	exit 1
}
base=$(basename "$prog")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bash "$(dirname "$0")/list-commands.sh" "$prog" >"$tmp/cmds"

# roff-safe verbatim text: backslashes, leading dots/quotes, minus signs.
roff_verbatim() {
	sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

{
	while read -r cmd; do
		[ -n "$cmd" ] || continue
		if help=$(timeout 10 "$prog" "$cmd" --help </dev/null 2>&1) && [ -n "$help" ] &&
		   ! grep -qiE "unknown (option|command)" <<<"$help"; then
			printf '.SS "%s %s"\n.nf\n' "$base" "$cmd"
			roff_verbatim <<<"$help"
			printf '.fi\n'
		fi
	done <"$tmp/cmds"
} >"$tmp/sections"
inc=(--include="$include")
if [ -s "$tmp/sections" ]; then
	inc+=(--include="$tmp/commands.h2m")
	{
		echo "[COMMANDS]"
		echo "Each command's own help (\\fB$base\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR):"
		cat "$tmp/sections"
	} >"$tmp/commands.h2m"
fi

# The version: the first number in "PROG --version" (its first line may say
# more, e.g. "posmark 0.1.0 (purchase log format v1)"), else VERSION.
if v=$(timeout 10 "$prog" --version </dev/null 2>/dev/null) &&
   v=$(head -n1 <<<"$v" | grep -oE '[0-9]+(\.[0-9]+)+' | head -n1) && [ -n "$v" ]; then
	version=$v
fi
vopt=(--version-string="$version")
# help2man takes a SYNOPSIS only from "Usage:" (capital U): run the program
# through a wrapper of the same name that capitalises a leading "usage:".
mkdir -p "$tmp/bin"
real=$(cd "$(dirname "$prog")" && pwd)/$base
cat >"$tmp/bin/$base" <<WRAP
#!/bin/sh
if [ "\$1" = --help ]; then "$real" --help 2>&1 | sed 's/^usage: /Usage: /'; else exec "$real" "\$@"; fi
WRAP
chmod +x "$tmp/bin/$base"
mkdir -p "$(dirname "$out")"
help2man --no-info --section="$section" --name="$name" "${vopt[@]}" \
	"${inc[@]}" \
	--output="$out" "$tmp/bin/$base"
