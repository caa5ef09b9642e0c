#!/usr/bin/env bash
# tests/deps_test.sh - scripts/deps.sh and the Makefile never remove a
# package and never install one from make / make install.
#
# apt-get and dpkg-query are replaced by fakes on PATH: nothing is
# installed or removed on this machine.  The fake apt-get answers
# "apt-get -s install" as it would on a host with proftpd installed
# (vsftpd conflicts with it) and records every call.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/ftpath-deps.XXXXXX")
# shellcheck disable=SC2064
trap "rm -rf -- '$T'" EXIT
FAILS=0
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}
ok() { echo "ok:   $*"; }

mkdir "$T/bin"
cat >"$T/bin/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$FAKE_LOG"
case " $* " in
*" -s "*)
	for p; do
		[ "$p" = vsftpd ] && echo "Remv proftpd-basic [1.3.8+dfsg-4+deb12u4]"
	done
	echo "Inst something (1.0 Debian:12)"
	;;
esac
exit 0
EOF
cat >"$T/bin/dpkg-query" <<'EOF'
#!/bin/sh
# every package missing except those named in FAKE_INSTALLED
for p; do :; done
case " $FAKE_INSTALLED " in
*" $p "*) printf 'install ok installed' ;;
*) exit 1 ;;
esac
EOF
chmod 755 "$T/bin/apt-get" "$T/bin/dpkg-query"
export FAKE_LOG=$T/apt.log FAKE_INSTALLED=""
: >"$FAKE_LOG"

# 1. test tools on a proftpd host: refused, nothing installed
rc=0
out=$(PATH=$T/bin:$PATH "$REPO/scripts/deps.sh" test 2>&1) || rc=$?
if [[ $(id -u) -ne 0 ]]; then
	if ((rc != 0)) && grep -q "missing Debian packages" <<<"$out"; then
		ok "not root: deps.sh test names the packages, installs nothing"
	else
		fail "not root: deps.sh test: rc $rc: $out"
	fi
else
	((rc != 0)) || fail "deps.sh test succeeded although apt would remove proftpd-basic"
	grep -q "REMOVE: proftpd-basic" <<<"$out" ||
		fail "deps.sh test does not name the package it would remove: $out"
	if grep -q "install -y" "$FAKE_LOG"; then
		fail "deps.sh ran apt-get install -y after a simulation that removes a package"
	else
		ok "deps.sh test refuses (apt would remove proftpd-basic), nothing installed"
	fi
fi

# 2. build dependencies alone: no vsftpd, no removal, installed
: >"$FAKE_LOG"
rc=0
out=$(PATH=$T/bin:$PATH "$REPO/scripts/deps.sh" build 2>&1) || rc=$?
if [[ $(id -u) -eq 0 ]]; then
	((rc == 0)) || fail "deps.sh build failed: $out"
	grep -q "install -y.*libnftnl-dev" "$FAKE_LOG" ||
		fail "deps.sh build did not install the -dev packages"
	! grep -Eq "vsftpd|curl|nmap|clang" "$FAKE_LOG" ||
		fail "deps.sh build asked for test tools: $(cat "$FAKE_LOG")"
	((rc == 0)) && ok "deps.sh build installs build dependencies only"
fi
for p in vsftpd curl nmap lftp faketime; do
	"$REPO/scripts/deps.sh" --list build | grep -qx "$p" &&
		fail "$p is listed as a build dependency"
done

# 3. make, make programs and make install never install packages
for goal in all programs install; do
	if make -C "$REPO" -n "$goal" 2>/dev/null | grep -Eq "deps\.sh (build|test|deb)|apt-get"; then
		fail "make $goal would install packages"
	else
		ok "make $goal installs no package"
	fi
done

# 4. a missing -dev package is one message naming it, before any compiler
rc=0
out=$(make -C "$REPO" --no-print-directory BUILD="$T/build" \
	PKGS="libnftnl no_such_module_ftpath" programs 2>&1) || rc=$?
if ((rc != 0)) && grep -q "missing pkg-config modules: no_such_module_ftpath" <<<"$out" &&
	! grep -q "error:" <<<"$out"; then
	ok "make without a -dev package: one clear message, no compiler run"
else
	fail "make with a missing module: rc $rc: $out"
fi

# 5. debian/control's Build-Depends are the build group (and cmocka for
# the package's unit tests), no more and no less
want=$("$REPO/scripts/deps.sh" --list build | grep -vx build-essential | sort)
have=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$REPO/debian/control" |
	sed 's/^Build-Depends://' | tr ',' '\n' | sed 's/[(<].*//; s/^ *//; s/ *$//' |
	grep -v -e '^$' -e '^[A-Z]' -e '^debhelper-compat' -e '^libcmocka-dev' | sort)
if [[ $want == "$have" ]]; then
	ok "debian/control Build-Depends = scripts/deps.sh build"
else
	fail "debian/control Build-Depends differ from scripts/deps.sh build:"$'\n'"$(diff <(echo "$want") <(echo "$have") || true)"
fi

((FAILS == 0)) || exit 1
echo "deps: all assertions hold"
