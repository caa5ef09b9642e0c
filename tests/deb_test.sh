#!/usr/bin/env bash
# tests/deb_test.sh DEBDIR - the packages make deb built: where the files
# are, the conffile, the unit verified against the installed tree, and
# that installing them on a host with proftpd leaves proftpd in place.
#
# Nothing is installed: the install is apt-get -s (simulation) against a
# copy of this machine's dpkg status in which vsftpd is replaced by an
# installed proftpd-basic (Provides/Conflicts: ftp-server, as the real
# one).  As a control the same simulation of "install vsftpd" must show
# proftpd-basic removed, which proves the simulation can see a removal.
set -euo pipefail

D=$(cd "${1:?usage: deb_test.sh DEBDIR}" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/ftpath-deb.XXXXXX")
# shellcheck disable=SC2064
trap "rm -rf -- '$T'" EXIT
FAILS=0
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}
ok() { echo "ok:   $*"; }

shopt -s nullglob
refl=("$D"/ftpath-reflector_*.deb)
agent=("$D"/ftpath-agent_*.deb)
((${#refl[@]} == 1 && ${#agent[@]} == 1)) || {
	echo "FAIL: no ftpath-reflector/ftpath-agent .deb in $D (make deb)"
	exit 1
}

# contents
has() { # has DEB PATH
	dpkg-deb -c "$1" | awk '{ print $6 }' | grep -qx "./$2" ||
		fail "$(basename "$1") lacks /$2"
}
for p in usr/sbin/ftpath-reflector usr/bin/ftpath-certs etc/ftpath/reflector.conf \
	lib/systemd/system/ftpath-reflector.service \
	usr/share/man/man8/ftpath-reflector.8.gz usr/share/man/man8/ftpath-certs.8.gz \
	usr/share/man/man5/ftpath-reflector.conf.5.gz; do
	has "${refl[0]}" "$p"
done
for p in usr/bin/ftpath-agent usr/share/man/man8/ftpath-agent.8.gz \
	usr/share/man/man5/ftpath-report.5.gz; do
	has "${agent[0]}" "$p"
done
mkdir "$T/ctl"
dpkg-deb -e "${refl[0]}" "$T/ctl"
grep -qx /etc/ftpath/reflector.conf "$T/ctl/conffiles" ||
	fail "/etc/ftpath/reflector.conf is not a conffile"
tr '\n' ' ' <"$T/ctl/postinst" | grep -q "adduser [^;]*--system[^;]* ftpath" ||
	fail "postinst does not create the ftpath system user"
for f in Depends Recommends Conflicts Breaks Provides Replaces; do
	v=$(dpkg-deb -f "${refl[0]}" "$f" 2>/dev/null; dpkg-deb -f "${agent[0]}" "$f" 2>/dev/null)
	grep -Eq "ftp-server|vsftpd|proftpd|pure-ftpd" <<<"$v" &&
		fail "$f names an FTP server: $v"
done
((FAILS == 0)) && ok "contents, conffile, user, no relation to an FTP server"

# the unit against the installed tree (targets it refers to copied in)
mkdir "$T/root"
dpkg-deb -x "${refl[0]}" "$T/root"
for u in sysinit.target basic.target multi-user.target network-online.target \
	shutdown.target sockets.target paths.target timers.target slices.target \
	system.slice -.slice local-fs.target swap.target; do
	[[ -e /lib/systemd/system/$u ]] && cp "/lib/systemd/system/$u" "$T/root/lib/systemd/system/"
done
# ExecReload's /bin/kill comes from procps (a Depends of the package)
mkdir -p "$T/root/bin"
cp /bin/kill "$T/root/bin/"
if command -v systemd-analyze >/dev/null 2>&1; then
	if out=$(MANPATH=$T/root/usr/share/man systemd-analyze verify --root="$T/root" \
		"$T/root/lib/systemd/system/ftpath-reflector.service" 2>&1); then
		ok "systemd-analyze verify --root (installed tree, man page found)"
	else
		fail "systemd-analyze verify: $out"
	fi
else
	fail "systemd-analyze not installed: the unit was not verified"
fi

# a host with proftpd installed
awk -v RS= -v ORS='\n\n' '!/^Package: vsftpd\n/' /var/lib/dpkg/status >"$T/status"
cat >>"$T/status" <<'STANZA'
Package: proftpd-basic
Status: install ok installed
Priority: optional
Section: net
Maintainer: test
Architecture: all
Version: 1.3.8+dfsg-4+deb12u4
Provides: ftp-server
Conflicts: ftp-server
Description: fake entry: a host with proftpd installed (apt-get -s only)

STANZA
sim() { # sim ARGS: apt-get -s on the proftpd host; no cache written
	apt-get -s -o Dir::State::status="$T/status" -o Dir::Cache::pkgcache= \
		-o Dir::Cache::srcpkgcache= install "$@" 2>&1
}
out=$(sim vsftpd || true)
if grep -q "^Remv proftpd-basic" <<<"$out"; then
	ok "control: simulating vsftpd on the proftpd host removes proftpd-basic"
else
	fail "control: the simulation does not show vsftpd removing proftpd: $out"
fi
out=$(cd "$D" || exit 1; sim "./$(basename "${refl[0]}")" "./$(basename "${agent[0]}")" || true)
if grep -q "^Inst ftpath-reflector" <<<"$out" && ! grep -q "^Remv" <<<"$out"; then
	ok "apt install ./ftpath-reflector_*.deb ./ftpath-agent_*.deb on the proftpd host removes nothing"
else
	fail "installing the packages on the proftpd host: $out"
fi

((FAILS == 0)) || exit 1
echo "deb: all assertions hold"
