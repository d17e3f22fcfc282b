# bash completion for posmark and posmark-hq (installed under both names in
# share/bash-completion/completions). The words come from the programs
# themselves, so they never drift from the code: subcommands from
# "PROG --list-commands" (or, without that option, the command lines of
# "PROG --help"), each subcommand's options from "PROG SUBCOMMAND --help"
# (or, when that fails, the options its line in "PROG --help" names).

_posmark_commands()
{
	local prog=$1 out
	out=$("$prog" --list-commands 2>/dev/null) && [[ -n $out && $out != *[!a-z0-9_$'\n'-]* ]] && {
		printf '%s\n' "$out"
		return
	}
	"$prog" --help 2>&1 | sed -n 's/^  \([a-z][a-z0-9_-]*\)\([ 	].*\)\{0,1\}$/\1/p' | awk '!seen[$0]++'
}

_posmark_options()
{
	local prog=$1 cmd=$2 out
	if ! out=$("$prog" "$cmd" --help 2>&1) || [[ $out == *"unknown option"* ]]; then
		out=$("$prog" --help 2>&1 | grep -E "^  $cmd( |\$)")
	fi
	printf '%s\n' "$out" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
	printf '%s\n' --help
}

_posmark()
{
	local cur prev prog cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	prog=${COMP_WORDS[0]}
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} != -* ]] && { cmd=${COMP_WORDS[i]}; break; }
	done
	case $prev in
	--config|--scans|--input|--png|--key|--credential-file|--ca-file|--output)
		COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
	--data)
		COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
	--socket)
		COMPREPLY=($(compgen -f -- "${cur:-/run/posmark/}")); compopt -o filenames 2>/dev/null; return ;;
	--targeted|--luhn)
		COMPREPLY=($(compgen -W "yes no" -- "$cur")); return ;;
	esac
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$(_posmark_commands "$prog") --help --version" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_posmark_options "$prog" "$cmd")" -- "$cur"))
		return
	fi
	case $prog:$cmd in
	*:card) [[ $prev == card ]] && COMPREPLY=($(compgen -W "show consent erase" -- "$cur")) ;;
	posmark:rules) [[ $prev == rules ]] && COMPREPLY=($(compgen -W "check load" -- "$cur")) ;;
	posmark-hq:rules) [[ $prev == rules ]] && COMPREPLY=($(compgen -W "keygen publish" -- "$cur")) ;;
	*:catalog) [[ $prev == catalog ]] && COMPREPLY=($(compgen -W "import" -- "$cur")) ;;
	*:report) [[ $prev == report ]] && COMPREPLY=($(compgen -W "sales-by-day campaigns" -- "$cur")) ;;
	*:store) [[ $prev == store ]] && COMPREPLY=($(compgen -W "add" -- "$cur")) ;;
	esac
	if [[ ${#COMPREPLY[@]} -eq 0 ]]; then
		COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null
	fi
}
complete -F _posmark posmark posmark-hq
