#!/usr/bin/env bash
# scripts/manlint.sh BUILD PAGE... - the man pages are lint-clean and
# document every option the programs' --help lists.
#
# mandoc -Tlint at every level (style included).  One message is judged
# here instead: "referenced manual not found" depends on which manuals
# this machine has installed (nft(8), openssl(1)), and mandoc looks for
# ours in the system database, not among the pages it is given; so a
# reference to an ftpath page must name one of PAGE, and other ones are
# not judged.
set -euo pipefail

BUILD=${1:?usage: manlint.sh BUILD PAGE...}
shift
FAILS=0
fail() {
	echo "manlint: $*" >&2
	FAILS=$((FAILS + 1))
}

command -v mandoc >/dev/null 2>&1 ||
	{ echo "manlint: mandoc not installed (scripts/deps.sh test)" >&2; exit 1; }

out=$(mandoc -Tlint "$@" 2>&1 || true)
rest=$(grep -v -e 'STYLE: referenced manual not found' \
	-e 'outdated mandoc.db' <<<"$out" || true)
[[ -z $rest ]] || fail "mandoc -Tlint:"$'\n'"$rest"

# every .Xr ftpath-* N names a page we ship
declare -A have=()
for p in "$@"; do have[$(basename "$p")]=1; done
while read -r name sec; do
	[[ -n ${have[$name.$sec]:-} ]] || fail "Xr $name $sec: no such page in deploy/man"
done < <(grep -h '^\.Xr ftpath' "$@" | awk '{ print $2, $3 }' | sort -u)

# the sections every page has
for page in "$@"; do
	for sec in NAME SYNOPSIS DESCRIPTION OPTIONS FILES "EXIT STATUS" EXAMPLES; do
		grep -qx "\.Sh $sec" "$page" || fail "$(basename "$page"): no $sec section"
	done
done

# OPTIONS match --help: every long option the program lists appears in
# its page (rendered, so "Fl \-cert" counts as --cert)
help_opts() {
	"$@" 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u
}
for page in "$@"; do
	case $(basename "$page") in
	ftpath-agent.8) prog=("$BUILD/ftpath-agent" check --help) ;;
	ftpath-reflector.8) prog=("$BUILD/ftpath-reflector" --help) ;;
	ftpath-certs.8) prog=("$(dirname "$page")/../ftpath-certs" --help) ;;
	*) continue ;;
	esac
	if [[ ! -x ${prog[0]} ]]; then
		fail "${prog[0]} not built (make programs)"
		continue
	fi
	text=$(mandoc -Tascii "$page" 2>/dev/null | sed 's/.\x08//g')
	for o in $(help_opts "${prog[@]}"); do
		grep -qF -- "$o" <<<"$text" ||
			fail "$(basename "$page"): $o (in ${prog[0]##*/} --help) is not documented"
	done
done

((FAILS == 0)) || exit 1
echo "manlint: $# pages clean, options match --help"
