#!/usr/bin/env bash
# layout.sh - the module boundaries of docs/layout.md (ARCHITECTURE.md's table), checked
# on the source tree and the two programs (TAP-style "ok" / "not ok" lines):
#  - every #include "mod/..." in a module's .c/.h files names its own module
#    or one the table lets it use (common: libc only; terminal: all but hq);
#  - private headers (*_int.h, drivers/drv_backend.h, hq/hq_vault.h) are included only inside
#    their module and by tests/;
#  - each library module has exactly one public header, <mod>/<mod>.h
#    (common/ is a set of small public headers; terminal/ is the program and
#    may split its headers by reader; hq/ may also have hq_int.h, the card
#    vault's private hq_vault.h and hq_pages.h, the console's page-data
#    contract between its data and web layers);
#  - bin/posmark does not link libpq; bin/posmark-hq (the front program, docs/hq.md) links
#    neither libpq nor GnuTLS; posmark-hq-main (the full program beside it) links libpq.
# Environment: POSMARK, POSMARK_HQ (set by tests/run.sh), LAYOUT_ROOT (the
# tree to check; default: this checkout).
set -u
cd "$(dirname "$0")/../.."
ROOT=${LAYOUT_ROOT:-$PWD}
P=${POSMARK:-$PWD/bin/posmark}
PHQ=${POSMARK_HQ:-$PWD/bin/posmark-hq}
status=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; status=1; }

MODULES="common drivers loyalty offers mining wire hostsync hq terminal"
declare -A USES=(
	[common]=""
	[drivers]="common"
	[loyalty]="common"
	[offers]="common"
	[mining]="common"
	[wire]="common"
	[hostsync]="common wire"
	[hq]="common wire mining offers"
	[terminal]="common drivers loyalty offers mining wire hostsync"
)

# "file:line:module/header" for every #include "module/..." in the files given.
includes() {
	grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[a-z_]+/[^"]+"' "$@" 2>/dev/null |
		sed -E 's/^([^:]+):([0-9]+):.*"([^"]+)".*/\1:\2:\3/'
}

is_module() { case " $MODULES " in *" $1 "*) return 0 ;; esac; return 1; }

# 1. Who may include whom.
for m in $MODULES; do
	[ -d "$ROOT/$m" ] || continue
	files=$(find "$ROOT/$m" -maxdepth 1 -name '*.[ch]' | sort)
	[ -n "$files" ] || continue
	bad=()
	while IFS=: read -r file line hdr; do
		[ -n "$hdr" ] || continue
		dep=${hdr%%/*}
		is_module "$dep" || continue
		[ "$dep" = "$m" ] && continue
		case " ${USES[$m]} " in *" $dep "*) continue ;; esac
		bad+=("${file#"$ROOT"/}:$line includes \"$hdr\" ($m may use: ${USES[$m]:-libc only})")
	done < <(includes $files)
	if [ ${#bad[@]} -eq 0 ]; then
		ok "$m/ includes only ${USES[$m]:-libc}${USES[$m]:+ (and itself)}"
	else
		not_ok "$m/ includes a module it may not use"
		printf '#   %s\n' "${bad[@]}"
	fi
done

# 2. Private headers stay in their module (tests/ may include them).
private_files=$(cd "$ROOT" && find . -path ./build -prune -o -path ./tests -prune -o \
	-name '*.[ch]' -print | sed 's|^\./||' | sort)
bad=()
while IFS=: read -r file line hdr; do
	[ -n "$hdr" ] || continue
	case "$hdr" in
	*_int.h | drivers/drv_backend.h | hq/hq_vault.h) ;;
	*) continue ;;
	esac
	owner=${hdr%%/*}
	[ "${file%%/*}" = "$owner" ] && continue
	bad+=("$file:$line includes the private \"$hdr\" of $owner/")
done < <(cd "$ROOT" && includes $private_files)
if [ ${#bad[@]} -eq 0 ]; then
	ok "private headers (*_int.h, drivers/drv_backend.h, hq/hq_vault.h) are included only in their module and tests/"
else
	not_ok "a private header is included outside its module"
	printf '#   %s\n' "${bad[@]}"
fi

# 3. One public header per library module.
for m in drivers loyalty offers mining wire hostsync hq; do
	[ -d "$ROOT/$m" ] || continue
	public=()
	for h in "$ROOT/$m"/*.h; do
		[ -e "$h" ] || continue
		b=$(basename "$h")
		case "$b" in *_int.h) continue ;; esac
		[ "$m/$b" = drivers/drv_backend.h ] || [ "$m/$b" = hq/hq_vault.h ] && continue
		[ "$m/$b" = hq/hq_pages.h ] && continue   # the console's page-data contract (docs/console.md)
		public+=("$b")
	done
	if [ ${#public[@]} -eq 1 ] && [ "${public[0]}" = "$m.h" ]; then
		ok "$m/ has one public header, $m/$m.h"
	else
		not_ok "$m/ should have one public header $m/$m.h, has: ${public[*]:-none}"
	fi
done

# 4. The till does not link libpq; HQ does.
if [ ! -x "$P" ]; then
	not_ok "bin/posmark not built ($P)"
elif ldd "$P" | grep -q 'libpq\.so'; then
	not_ok "bin/posmark links libpq"
	ldd "$P" | grep libpq | sed 's/^/#   /'
else
	ok "bin/posmark does not link libpq"
fi
PHQM=$(dirname "$PHQ")/posmark-hq-main
if [ ! -x "$PHQ" ]; then
	not_ok "bin/posmark-hq not built ($PHQ)"
elif ldd "$PHQ" | grep -qE 'lib(pq|gnutls|microhttpd|krb5|ldap)'; then
	not_ok "bin/posmark-hq (the front) links libpq, libmicrohttpd or what they pull"
	ldd "$PHQ" | grep -E 'lib(pq|gnutls|microhttpd|krb5|ldap)' | sed 's/^/#   /'
else
	ok "bin/posmark-hq (the front) links neither libpq nor GnuTLS"
fi
if [ ! -x "$PHQM" ]; then
	not_ok "posmark-hq-main not built ($PHQM)"
elif ldd "$PHQM" | grep -q 'libpq\.so'; then
	ok "posmark-hq-main links libpq"
else
	not_ok "posmark-hq-main does not link libpq"
fi
exit $status
