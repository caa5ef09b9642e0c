#!/usr/bin/env bash
# tests/install_test.sh - make install into a scratch PREFIX: the files
# land where the man pages and the unit say, the unit carries this
# PREFIX's paths, and systemd-analyze verifies it (PID 1 need not be
# systemd: verify and security --offline read files only).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/ftpath-install.XXXXXX")
# shellcheck disable=SC2064
trap "rm -rf -- '$T'" EXIT
FAILS=0
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

P=$T/usr
make -C "$REPO" -s --no-print-directory install PREFIX="$P" >/dev/null
for f in bin/ftpath-agent bin/ftpath-certs sbin/ftpath-reflector \
	share/ftpath/reflector.conf.example \
	share/man/man5/ftpath-reflector.conf.5 share/man/man5/ftpath-report.5 \
	share/man/man8/ftpath-agent.8 share/man/man8/ftpath-reflector.8 \
	share/man/man8/ftpath-certs.8 lib/systemd/system/ftpath-reflector.service; do
	[[ -f $P/$f ]] || fail "make install did not install $f"
done
u=$P/lib/systemd/system/ftpath-reflector.service
grep -q "^ExecStartPre=$P/sbin/ftpath-reflector .* -n$" "$u" ||
	fail "the unit's ExecStartPre does not run $P/sbin/ftpath-reflector -n"
grep -q "^ExecStart=$P/sbin/ftpath-reflector " "$u" ||
	fail "the unit's ExecStart is not $P/sbin/ftpath-reflector"
! grep -q '@[A-Z]*@' "$u" || fail "unsubstituted placeholder in the unit"
# readiness and reload as ftpath-reflector(8) says: sd_notify, SIGHUP
grep -q '^Type=notify$' "$u" || fail "the unit is not Type=notify"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$u" ||
	fail "the unit's ExecReload does not send SIGHUP"

if command -v systemd-analyze >/dev/null 2>&1; then
	# MANPATH: Documentation=man:ftpath-reflector(8) must resolve too
	if out=$(MANPATH=$P/share/man systemd-analyze verify "$u" 2>&1); then
		echo "ok:   systemd-analyze verify: clean"
	else
		fail "systemd-analyze verify: $out"
	fi
	score=$(systemd-analyze security --offline=yes "$u" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [[ -n $score ]] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
		echo "ok:   systemd-analyze security: exposure $score (<= 2.0)"
	else
		fail "systemd-analyze security: exposure '${score:-?}' (want <= 2.0)"
	fi
else
	echo "SKIP: systemd-analyze not installed: the unit was not verified"
	fail "unit not verified"
fi
make -C "$REPO" -s --no-print-directory uninstall PREFIX="$P" >/dev/null
left=$(find "$P" -type f | sed "s|^$P/||")
[[ -z $left ]] || fail "make uninstall left: $left"

((FAILS == 0)) || exit 1
echo "install: all assertions hold"
