#!/usr/bin/env bash
# Install the Debian packages that the build, the tests and the demo need,
# but only those that are missing.  Idempotent; quiet when nothing is to do.
set -euo pipefail

pkgs=(build-essential clang pkg-config
      libevent-dev libssl-dev libnftnl-dev libmnl-dev libjansson-dev
      libcmocka-dev libnftables-dev libcap-ng-dev
      nftables iproute2 vsftpd curl lftp conntrack nmap openssl procps
      python3 cppcheck faketime)

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run 'make deps' as root, or: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d stops the package scripts from starting vsftpd in this
# (root) namespace: the tests start their own inside namespaces.
prc=/usr/sbin/policy-rc.d
made_prc=0
if [[ ! -e $prc ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$prc" && chmod 755 "$prc" && made_prc=1
fi
trap '[[ $made_prc == 1 ]] && rm -f "$prc"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}"
