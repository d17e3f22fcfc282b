#!/usr/bin/env bash
# Install the Debian 12 packages posmark builds, tests and demos with,
# only those missing (the last line: building and checking the Debian
# packages, tests/integration/package.sh; the last: the console's browser test,
# tests/integration/console.sh, with playwright-core from npm). Run as root (CI and the
# README's commands are).
set -euo pipefail
pkgs=(build-essential pkg-config clang libclang-rt-14-dev
      liblmdb-dev lmdb-utils libusb-1.0-0-dev libcurl4-openssl-dev zlib1g-dev
      libjansson-dev libsodium-dev libmicrohttpd-dev libpq-dev postgresql
      libpng-dev libcairo2-dev libzint-dev
      libcmocka-dev umockdev libumockdev-dev zbar-tools socat
      libsqlite3-dev sqlite3 weka default-jre-headless python3 curl procps openssl
      debhelper dpkg-dev fakeroot lintian help2man man-db systemd udev bash-completion
      chromium)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm by command, not by package: a machine with another Node.js build (e.g.
# NodeSource's nodejs, which carries npm and conflicts with Debian's npm package) keeps it
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "posmark: these packages are missing and installing them needs root: ${missing[*]}" >&2
		echo "hint: run this command as root (or with sudo)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
