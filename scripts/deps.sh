#!/usr/bin/env bash
# scripts/deps.sh [--list] GROUP... - the Debian packages ftpath needs, by
# purpose, so that building never drags in the test tools.
#
#   build  compiler, pkg-config and the -dev packages of the libraries
#          (what debian/control's Build-Depends names); for a source build
#   test   what make check and make demo run: clang, cmocka, the namespace
#          tools, a real vsftpd and FTP clients, mandoc, ...
#   deb    what make deb needs to build and check the packages
#   check  install nothing: say which pkg-config modules are missing and
#          which -dev packages provide them (make runs this before
#          compiling; exit 1 when something is missing)
#
# Without --list, missing packages of the groups are installed (root) or
# named (not root).  Idempotent; quiet when nothing is to do.
#
# Never at the cost of an installed package: vsftpd (a test tool)
# conflicts with every other ftp-server package, and the host we run on
# may be the very FTP server ftpath is meant to diagnose.  apt-get -s
# runs first, and if the installation would remove anything we refuse.
set -euo pipefail

BUILD_PKGS=(build-essential pkg-config
	libevent-dev libssl-dev libnftnl-dev libmnl-dev libjansson-dev
	libnftables-dev)
TEST_PKGS=(clang libcmocka-dev
	nftables iproute2 vsftpd curl lftp conntrack nmap openssl procps
	python3 cppcheck faketime mandoc systemd python3-junitparser chromium
	prometheus time)
DEB_PKGS=(debhelper dpkg-dev fakeroot lintian)

# pkg-config module -> the Debian package that provides it (Makefile PKGS
# and TEST_PKGS).
declare -A PC_DEB=(
	[libevent]=libevent-dev [libevent_openssl]=libevent-dev
	[openssl]=libssl-dev [libnftnl]=libnftnl-dev [libmnl]=libmnl-dev
	[libnftables]=libnftables-dev [jansson]=libjansson-dev
	[cmocka]=libcmocka-dev
)

PROG=deps
die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

# check MODULE...: name what a build would miss, before the compiler
# does it in a hundred lines.
cmd_check() {
	local m pc=${PKG_CONFIG:-pkg-config}
	local -a miss=() debs=()
	command -v "${CC:-cc}" >/dev/null 2>&1 ||
		debs+=(build-essential)
	if ! command -v "$pc" >/dev/null 2>&1; then
		die "$pc not found; install the build dependencies:" \
			"scripts/deps.sh build (as root), or apt-get install" \
			"${BUILD_PKGS[*]}"
	fi
	for m in "$@"; do
		"$pc" --exists "$m" 2>/dev/null && continue
		miss+=("$m")
		case " ${debs[*]} " in
		*" ${PC_DEB[$m]:-?} "*) ;;
		*) debs+=("${PC_DEB[$m]:-"(unknown package for $m)"}") ;;
		esac
	done
	((${#miss[@]} == 0 && ${#debs[@]} == 0)) && return 0
	{
		((${#miss[@]})) && echo "$PROG: missing pkg-config modules: ${miss[*]}"
		echo "$PROG: missing Debian packages: ${debs[*]}"
		echo "$PROG: install them: scripts/deps.sh build (as root; make check" \
			"and make demo also need: scripts/deps.sh test), or:" \
			"apt-get install ${debs[*]}"
	} >&2
	return 1
}

missing_of() {
	local p status
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[[ $status == "install ok installed" ]] || printf '%s\n' "$p"
	done
}

# Refuse an installation that would remove a package (apt resolves a
# Conflicts: by removing the other side without asking under -y).
check_no_removal() {
	local sim rm
	if ! sim=$(apt-get -s install --no-install-recommends "$@" 2>&1); then
		printf '%s\n' "$sim" >&2
		die "apt-get cannot install: $*"
	fi
	rm=$(awk '$1 == "Remv" { print $2 }' <<<"$sim" | sort -u | tr '\n' ' ')
	if [[ -n $rm ]]; then
		echo "$PROG: refusing to install ${*}: apt would REMOVE: $rm" >&2
		case " $* " in
		*" vsftpd "*)
			echo "$PROG: (vsftpd, a test tool, conflicts with other FTP" \
				"servers: run make check and make demo on a test" \
				"machine, not on a production FTP host)" >&2
			;;
		esac
		exit 1
	fi
}

install_pkgs() {
	local prc=/usr/sbin/policy-rc.d made_prc=0
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	check_no_removal "$@"
	echo "$PROG: installing $*"
	# policy-rc.d stops the package scripts from starting vsftpd in this
	# (root) namespace: the tests start their own inside namespaces.
	if [[ " $* " == *" vsftpd "* && ! -e $prc ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$prc" && chmod 755 "$prc" && made_prc=1
	fi
	# shellcheck disable=SC2064
	trap "[[ $made_prc == 1 ]] && rm -f '$prc'" EXIT
	apt-get install -y -qq --no-install-recommends "$@"
}

main() {
	local list=0 g
	local -a want=() missing=()
	if [[ ${1:-} == check ]]; then
		shift
		cmd_check "$@"
		return
	fi
	[[ ${1:-} == --list ]] && { list=1; shift; }
	(($#)) || die "usage: scripts/deps.sh [--list] build|test|deb... | check MODULE..."
	for g in "$@"; do
		case $g in
		build) want+=("${BUILD_PKGS[@]}") ;;
		test) want+=("${TEST_PKGS[@]}") ;;
		deb) want+=("${DEB_PKGS[@]}") ;;
		*) die "unknown group '$g' (build, test, deb, check)" ;;
		esac
	done
	if ((list)); then
		printf '%s\n' "${want[@]}"
		return
	fi
	mapfile -t missing < <(missing_of "${want[@]}")
	((${#missing[@]} == 0)) && return 0
	if [[ $(id -u) -ne 0 ]]; then
		echo "$PROG: missing Debian packages: ${missing[*]}" >&2
		die "run 'scripts/deps.sh $*' as root, or: apt-get install ${missing[*]}"
	fi
	install_pkgs "${missing[@]}"
}

# sourced (tests): functions only
[[ ${BASH_SOURCE[0]} != "$0" ]] || main "$@"
