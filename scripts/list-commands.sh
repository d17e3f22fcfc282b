#!/usr/bin/env bash
# list-commands.sh PROG - the subcommands of a posmark program, one per line,
# from "PROG --list-commands", or (a program without that option) from the
# command lines of its top-level --help: "  word ..." (two spaces, a word).
# Used by scripts/gen-man.sh and scripts/gen-completion.sh.
set -u
prog=$1
if out=$(timeout 10 "$prog" --list-commands </dev/null 2>/dev/null) &&
   [ -n "$out" ] && ! grep -qvE '^[a-z][a-z0-9_-]*$' <<<"$out"; then
	printf '%s\n' "$out"
	exit 0
fi
timeout 10 "$prog" --help </dev/null 2>&1 |
	sed -n 's/^  \([a-z][a-z0-9_-]*\)\([ 	].*\)\{0,1\}$/\1/p' | awk '!seen[$0]++'
