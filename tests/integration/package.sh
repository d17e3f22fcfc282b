#!/usr/bin/env bash
# package.sh - the Debian packages end to end (issue 17; docs/packaging.md),
# TAP-style "ok - " / "not ok - " lines:
#  - builds posmark and posmark-hq with dpkg-buildpackage from a clean copy
#    of the tree (tracked and new files, no build/ or bin/);
#  - lintian: no errors; the file lists (dpkg-deb -c) and conffiles;
#  - man -l of the packaged pages renders without warnings;
#  - installs both with apt-get, checks the users and groups, runs
#    systemd-analyze verify on the installed units;
#  - starts the daemon from the installed files as the unit does (systemd is
#    not PID 1 here: runuser -u posmark with the unit's ExecStart) with the
#    packaged /etc/posmark/posmark.conf, talks to it through the socket as a
#    throwaway user in group posmark (op "status"), and checks a user outside
#    the group is refused;
#  - bash completion of the installed programs;
#  - purges both packages: no packaged file and no /etc/posmark left.
# Cleans up on any exit (trap). Skips (77) unless root with dpkg-buildpackage,
# when posmark is already installed on this machine (it would be purged), and
# in the asan variant (the packages build their own normal variant: once is enough).
# About 1.5 minutes (build ~35 s with parallel=2, lintian ~10 s, apt ~15 s).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
status=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; status=1; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

[ "${POSMARK_VARIANT:-normal}" = normal ] || { echo "# skip: runs in the normal variant only"; exit 77; }
if [ "$(id -u)" -ne 0 ]; then echo "# skip: needs root (installs packages)"; exit 77; fi
for t in dpkg-buildpackage dpkg-deb apt-get lintian help2man dh; do
	command -v "$t" >/dev/null || { echo "# skip: $t is missing (scripts/install-deps.sh)"; exit 77; }
done
for p in posmark posmark-hq; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed'; then
		echo "# skip: package $p is installed on this machine; this test would purge it"; exit 77
	fi
done

t0=$(date +%s)
work=$(mktemp -d /tmp/posmark-package.XXXXXX)
chmod 0755 "$work"
tuser=pmpkg$$ nuser=pmout$$
daemon_pid=
had_user_posmark=$(getent passwd posmark >/dev/null && echo 1)
had_user_hq=$(getent passwd posmark-hq >/dev/null && echo 1)
had_state=$([ -e /var/lib/posmark ] && echo 1)
had_run=$([ -e /run/posmark ] && echo 1)
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	userdel "$tuser" 2>/dev/null
	userdel "$nuser" 2>/dev/null
	if dpkg-query -W -f='${Status}' posmark posmark-hq 2>/dev/null | grep -q 'installed\|config-files'; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq posmark posmark-hq >/dev/null 2>&1
	fi
	[ -z "$had_state" ] && rm -rf /var/lib/posmark
	[ -z "$had_run" ] && rm -rf /run/posmark
	[ -z "$had_user_posmark" ] && { userdel posmark 2>/dev/null; groupdel posmark 2>/dev/null; }
	[ -z "$had_user_hq" ] && { userdel posmark-hq 2>/dev/null; groupdel posmark-hq 2>/dev/null; }
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- build from a clean copy -------------------------------------------------
src=$work/posmark
mkdir -p "$src"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$ROOT" ls-files -z -c -o --exclude-standard | grep -zvE '^(build|bin)/' |
		(cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$src"
else
	tar -C "$ROOT" --exclude=./build --exclude=./bin -cf - . | tar -xf - -C "$src"
fi
check "build dependencies present (dpkg-checkbuilddeps)" bash -c "cd '$src' && dpkg-checkbuilddeps"
tb=$(date +%s)
if (cd "$src" && DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b ($(( $(date +%s) - tb )) s)"
else
	not_ok "dpkg-buildpackage -us -uc -b"; tail -n 40 "$work/build.log" | sed 's/^/# /'
	exit 1
fi
deb=$(ls "$work"/posmark_*.deb) hqdeb=$(ls "$work"/posmark-hq_*.deb) changes=$(ls "$work"/*.changes)

# ---- lintian -----------------------------------------------------------------
lintian --allow-root --info "$changes" >"$work/lintian.log" 2>&1
sed 's/^/# lintian: /' "$work/lintian.log"
check "lintian: no errors" bash -c "! grep -q '^E: ' '$work/lintian.log'"
check "lintian: no warnings" bash -c "! grep -q '^W: ' '$work/lintian.log'"

# ---- file lists ---------------------------------------------------------------
files_of() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' | sort; }
files_of "$deb" >"$work/posmark.files"
files_of "$hqdeb" >"$work/posmark-hq.files"
{
	printf '%s\n' /etc/posmark/posmark.conf /lib/systemd/system/posmark.service \
		/lib/udev/rules.d/60-posmark.rules /usr/bin/posmark /usr/lib/sysusers.d/posmark.conf \
		/usr/share/bash-completion/completions/posmark /usr/share/man/man1/posmark.1.gz \
		/usr/share/doc/posmark/README.md /usr/share/doc/posmark/changelog.gz \
		/usr/share/doc/posmark/copyright /usr/share/doc/posmark/examples/posmark.conf
	for f in "$src"/docs/*.md; do
		[ "$(basename "$f")" = hq.md ] || echo "/usr/share/doc/posmark/$(basename "$f")"
	done
	for f in "$src"/docs/examples/*; do echo "/usr/share/doc/posmark/examples/$(basename "$f")"; done
} | sort >"$work/posmark.want"
printf '%s\n' /etc/default/posmark-hq /etc/posmark/hq.conf /lib/systemd/system/posmark-hq.service \
	/usr/bin/posmark-hq /usr/libexec/posmark-hq/posmark-hq-main /usr/lib/sysusers.d/posmark-hq.conf \
	/usr/share/bash-completion/completions/posmark-hq /usr/share/man/man8/posmark-hq.8.gz \
	/usr/share/doc/posmark-hq/changelog.gz /usr/share/doc/posmark-hq/copyright \
	/usr/share/doc/posmark-hq/hq.md /usr/share/doc/posmark-hq/examples/hq.conf \
	/usr/share/doc/posmark-hq/examples/posmark-hq.default | sort >"$work/posmark-hq.want"
for p in posmark posmark-hq; do
	sed "s/^/# $p: /" "$work/$p.files"
	if diff -u "$work/$p.want" "$work/$p.files" >"$work/$p.diff"; then
		ok "$p: file list ($(wc -l <"$work/$p.files") files)"
	else
		not_ok "$p: file list"; sed 's/^/# /' "$work/$p.diff"
	fi
done
# make install PREFIX=/usr installs what the packages hold (but dh's changelog and copyright)
make -s -C "$src" install PREFIX=/usr DESTDIR="$work/di" >"$work/install.log" 2>&1
(cd "$work/di" && find . -type f | sed 's|^\.||' | sort) >"$work/di.list"
sort "$work/posmark.files" "$work/posmark-hq.files" | grep -vE '/(changelog\.gz|copyright)$' >"$work/pkg.list"
check "make install PREFIX=/usr DESTDIR=... installs the packages' files" diff -u "$work/pkg.list" "$work/di.list"
make -s -C "$src" uninstall PREFIX=/usr DESTDIR="$work/di" >>"$work/install.log" 2>&1
check "make uninstall removes them all" bash -c "[ -z \"\$(find '$work/di' -type f)\" ]"
check "posmark: conffile /etc/posmark/posmark.conf" \
	bash -c "dpkg-deb -f '$deb' >/dev/null && dpkg-deb --ctrl-tarfile '$deb' | tar -xOf - ./conffiles | grep -qx /etc/posmark/posmark.conf"
check "posmark-hq: conffiles /etc/posmark/hq.conf, /etc/default/posmark-hq" \
	bash -c "dpkg-deb --ctrl-tarfile '$hqdeb' | tar -xOf - ./conffiles | sort | tr '\n' ' ' | grep -qx '/etc/default/posmark-hq /etc/posmark/hq.conf '"
check "posmark: Depends from shlibs (liblmdb0, no libpq)" \
	bash -c "dpkg-deb -f '$deb' Depends | grep -q liblmdb0 && ! dpkg-deb -f '$deb' Depends | grep -q libpq"
check "posmark-hq: Depends from shlibs (libpq5)" bash -c "dpkg-deb -f '$hqdeb' Depends | grep -q libpq5"
mkdir -p "$work/x"
dpkg-deb -x "$deb" "$work/x"
dpkg-deb -x "$hqdeb" "$work/x"
check "posmark.conf as shipped sets no option (every line a comment or a section)" \
	bash -c "! grep -vE '^[[:space:]]*([#;].*|\[[a-z]+\])?[[:space:]]*$' '$work/x/etc/posmark/posmark.conf'"
check "hq.conf as shipped sets no option" \
	bash -c "! grep -vE '^[[:space:]]*([#;].*|\[[a-z]+\])?[[:space:]]*$' '$work/x/etc/posmark/hq.conf'"
for opt in store.data store.id store.name store.address store.terminal store.currency store.receipt_footer \
	devices.scanner devices.printer devices.printer_profile devices.receipt_columns \
	daemon.socket daemon.socket_group hq.url hq.store_credential offers.coupon_key; do
	grep -q "^#${opt#*.} =" "$work/x/etc/posmark/posmark.conf" || not_ok "posmark.conf lists $opt"
done
ok "posmark.conf lists the options (store, devices, daemon.socket, socket_group, hq, offers)"

# ---- man pages ------------------------------------------------------------------
for m in usr/share/man/man1/posmark.1.gz usr/share/man/man8/posmark-hq.8.gz; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$work/x/$m" 2>&1 >/dev/null)
	[ -z "$w" ] && ok "man -l $(basename "$m"): no warnings" || { not_ok "man -l $(basename "$m")"; echo "$w" | sed 's/^/# /'; }
done
check "posmark(1) has FILES, ENVIRONMENT, EXIT STATUS, EXAMPLES and each command" bash -c \
	"t=\$(man -l '$work/x/usr/share/man/man1/posmark.1.gz' 2>/dev/null); for s in FILES ENVIRONMENT 'EXIT STATUS' EXAMPLES 'SEE ALSO' 'posmark daemon' 'posmark status'; do grep -q \"\$s\" <<<\"\$t\" || exit 1; done"

# ---- install --------------------------------------------------------------------
if (cd "$work" && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$(basename "$deb")" "./$(basename "$hqdeb")") >"$work/apt.log" 2>&1; then
	ok "apt-get install ./posmark_*.deb ./posmark-hq_*.deb"
else
	not_ok "apt-get install"; tail -n 20 "$work/apt.log" | sed 's/^/# /'; exit 1
fi
sort -u "$work/posmark.files" "$work/posmark-hq.files" >"$work/installed.list"
check "user posmark (home /var/lib/posmark) and group posmark" \
	bash -c "getent passwd posmark | grep -q ':/var/lib/posmark:' && getent group posmark >/dev/null"
check "user and group posmark-hq" bash -c "getent passwd posmark-hq >/dev/null && getent group posmark-hq >/dev/null"
check "man posmark and man posmark-hq find the installed pages" \
	bash -c "man -w posmark | grep -q /usr/share/man/man1/posmark.1.gz && man -w 8 posmark-hq | grep -q posmark-hq.8.gz"
for m in /usr/share/man/man1/posmark.1.gz /usr/share/man/man8/posmark-hq.8.gz; do
	w=$(LC_ALL=C.UTF-8 man --warnings -l "$m" 2>&1 >/dev/null)
	[ -z "$w" ] && ok "man -l $m (installed): no warnings" || { not_ok "man -l $m"; echo "$w" | sed 's/^/# /'; }
done
if command -v systemd-analyze >/dev/null; then
	for u in posmark posmark-hq; do
		if v=$(systemd-analyze verify "/lib/systemd/system/$u.service" 2>&1) && [ -z "$v" ]; then
			ok "systemd-analyze verify $u.service"
		else
			not_ok "systemd-analyze verify $u.service"; echo "$v" | sed 's/^/# /'
		fi
	done
else
	echo "# systemd-analyze is missing: units not verified"
fi
check "posmark.service: Type=notify, User=posmark, StateDirectory, RuntimeDirectory, man:posmark(1)" bash -c \
	"u=/lib/systemd/system/posmark.service; grep -qx Type=notify \$u && grep -qx User=posmark \$u && grep -qx StateDirectory=posmark \$u && grep -qx RuntimeDirectory=posmark \$u && grep -q 'Documentation=man:posmark(1)' \$u && grep -q '^ExecStart=/usr/bin/posmark daemon' \$u"
check "posmark-hq.service: Type=notify, EnvironmentFile, man:posmark-hq(8)" bash -c \
	"u=/lib/systemd/system/posmark-hq.service; grep -qx Type=notify \$u && grep -qx EnvironmentFile=-/etc/default/posmark-hq \$u && grep -q 'Documentation=man:posmark-hq(8)' \$u && grep -q '^ExecStart=/usr/bin/posmark-hq serve' \$u"
if command -v udevadm >/dev/null; then
	# udevadm test reads every rules file and names each line it cannot use
	# (an invalid key, an unknown group); ours must have none.
	dev=$(ls -d /sys/class/mem/null /sys/class/tty/tty0 2>/dev/null | head -n1)
	u=$(udevadm test "$dev" 2>&1 | grep -E '60-posmark\.rules(:|$)')
	if grep -qE 'Reading rules file: .*/udev/rules\.d/60-posmark\.rules$' <<<"$u" &&
	   ! grep -q '60-posmark\.rules:[0-9]' <<<"$u"; then
		ok "udev reads 60-posmark.rules without complaint (udevadm test)"
	else
		not_ok "udev rule 60-posmark.rules"; echo "$u" | sed 's/^/# /'
	fi
else
	echo "# udevadm is missing (package udev): the udev rule is not parsed"
fi

# ---- the daemon from the installed files, as the unit runs it --------------------
# What systemd would do: StateDirectory=posmark, RuntimeDirectory=posmark (0750).
install -d -m 0750 -o posmark -g posmark /var/lib/posmark /run/posmark
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/posmark.service)
# Until the program reads /etc/posmark/posmark.conf by default, name it.
if ! /usr/bin/posmark daemon --help 2>&1 | grep -q /etc/posmark/posmark.conf; then
	exec_start="$exec_start --config /etc/posmark/posmark.conf"
fi
echo "# starting: runuser -u posmark -- $exec_start"
# shellcheck disable=SC2086
runuser -u posmark -- $exec_start >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [ -S /run/posmark/posmark.sock ] && break; sleep 0.1; done
check "daemon listens on /run/posmark/posmark.sock" test -S /run/posmark/posmark.sock
check "socket is mode 0660, group posmark" bash -c \
	"[ \"\$(stat -c '%a %G' /run/posmark/posmark.sock)\" = '660 posmark' ]"
useradd -M -N -s /usr/sbin/nologin -G posmark "$tuser"
useradd -M -N -s /usr/sbin/nologin "$nuser"
cat >"$work/status.py" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect("/run/posmark/posmark.sock")
f = s.makefile("rwb")
f.write(b'{"op":"status","id":7}\n'); f.flush()
r = json.loads(f.readline())
print(json.dumps(r)[:300])
sys.exit(0 if r.get("ok") is True and r.get("id") == 7 else 1)
PY
chmod 0644 "$work/status.py"
if out=$(runuser -u "$tuser" -- python3 "$work/status.py" 2>&1); then
	ok "a user in group posmark gets status through the socket"
else
	not_ok "status through the socket as a member of group posmark"
fi
echo "# $out"
check "a user outside group posmark is refused" bash -c "! runuser -u '$nuser' -- python3 '$work/status.py' >/dev/null 2>&1"
check "posmark status as a member of group posmark" runuser -u "$tuser" -- /usr/bin/posmark status --socket /run/posmark/posmark.sock
check "the daemon writes its log to /var/lib/posmark as user posmark" bash -c \
	"[ \"\$(stat -c %U /var/lib/posmark/data.mdb 2>/dev/null || find /var/lib/posmark -mindepth 1 -maxdepth 1 -printf '%u\n' | head -n1)\" = posmark ]"
# runuser forks: signal the daemon itself, runuser passes on its exit status.
child=$(pgrep -P "$daemon_pid" | head -n1)
kill -TERM "${child:-$daemon_pid}"
wait "$daemon_pid"; rc=$?
daemon_pid=
check "daemon stops on SIGTERM with status 0" test "$rc" -eq 0
sed 's/^/# daemon: /' "$work/daemon.log" | tail -n 10

# ---- posmark-hq: the front and its full program (docs/hq.md, "The front program") -------
check "posmark-hq (the front) runs the installed full program: --version" bash -c \
	"/usr/bin/posmark-hq --version | grep -q '^posmark-hq [0-9]'"
check "/usr/bin/posmark-hq links no libpq; /usr/libexec/posmark-hq/posmark-hq-main does" bash -c \
	"! ldd /usr/bin/posmark-hq | grep -q libpq && ldd /usr/libexec/posmark-hq/posmark-hq-main | grep -q libpq"

# ---- the card key file's default with the packaged hq.conf (docs/privacy.md, "At HQ") ----
hqkey() { env -u POSMARK_HQ_CONFIG -u POSMARK_HQ_CARD_KEY -u POSMARK_HQ_DB POSMARK_DEBUG=3 "$@" 2>&1; }
check "packaged: the card key file defaults to the state directory, /var/lib/posmark-hq/hq-card.key" bash -c \
	"$(declare -f hqkey); hqkey /usr/bin/posmark-hq migrate | grep -q 'card key file: /var/lib/posmark-hq/hq-card.key$'"
if [ ! -e /etc/posmark/hq-card.key ]; then
	touch /etc/posmark/hq-card.key
	check "packaged: a key at the old default (/etc/posmark/hq-card.key) stays in use; serve says so once" bash -c \
		"$(declare -f hqkey); hqkey /usr/bin/posmark-hq migrate | grep -q 'card key file: /etc/posmark/hq-card.key$' &&
		 [ \"\$(hqkey /usr/bin/posmark-hq serve --listen 127.0.0.1:1 | grep -c 'using /etc/posmark/hq-card.key, the old default place')\" = 1 ]"
	rm -f /etc/posmark/hq-card.key
fi

# ---- bash completion ---------------------------------------------------------------
comp() { bash -c 'source /usr/share/bash-completion/completions/'"$1"'; COMP_WORDS=('"$2"'); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _posmark; echo "${COMPREPLY[*]}"'; }
check "completion: posmark da -> daemon" test "$(comp posmark "posmark da")" = daemon
check "completion: posmark daemon --so -> --socket" test "$(comp posmark "posmark daemon --so")" = --socket
check "completion: posmark-hq serve --l -> --listen" test "$(comp posmark-hq "posmark-hq serve --l")" = --listen

# ---- purge ----------------------------------------------------------------------
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq posmark posmark-hq >"$work/purge.log" 2>&1; then
	ok "apt-get purge posmark posmark-hq"
else
	not_ok "apt-get purge"; tail -n 20 "$work/purge.log" | sed 's/^/# /'
fi
left=$(while read -r f; do if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done <"$work/installed.list")
[ -z "$left" ] && ok "no packaged file left after purge" || { not_ok "files left after purge"; echo "$left" | sed 's/^/# /'; }
check "no /etc/posmark and no /etc/default/posmark-hq after purge" bash -c "[ ! -e /etc/posmark ] && [ ! -e /etc/default/posmark-hq ]"
check "dpkg knows neither package after purge" bash -c "! dpkg-query -W posmark posmark-hq >/dev/null 2>&1"
echo "# /var/lib/posmark (the purchase log) is kept by purge by design; this test removes it"
echo "# package.sh took $(( $(date +%s) - t0 )) s"
exit $status
