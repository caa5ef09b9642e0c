#!/usr/bin/env bash
# scripts/mkdeb.sh OUTDIR - build the Debian packages (make deb) and run
# lintian on them.
#
# dpkg-buildpackage writes its results into the parent of the source
# tree; so the build runs on a copy of the tree under OUTDIR (tracked and
# new files, not build/), which is removed afterwards: OUTDIR keeps only
# the .deb, .changes, .buildinfo files and lintian.txt.
set -euo pipefail

OUT=${1:?usage: mkdeb.sh OUTDIR}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)
SRC=$OUT/ftpath-$VERSION

rm -rf -- "$OUT"
mkdir -p "$SRC"
OUT=$(cd "$OUT" && pwd)
SRC=$OUT/ftpath-$VERSION
trap 'rm -rf -- "$SRC"' EXIT
if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$REPO" && git ls-files -co --exclude-standard -z |
		grep -zv '^build/' | xargs -0 tar -cf - --no-recursion) |
		tar -xf - -C "$SRC"
else
	tar -C "$REPO" --exclude=./build -cf - . | tar -xf - -C "$SRC"
fi

echo "deb: dpkg-buildpackage -us -uc -b in $SRC"
(cd "$SRC" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 || {
	tail -n 40 "$OUT/build.log" >&2
	echo "deb: dpkg-buildpackage failed (log: $OUT/build.log)" >&2
	exit 1
}
ls "$OUT"/*.deb

rc=0
lintian --fail-on error --display-info "$OUT"/*.changes >"$OUT/lintian.txt" 2>&1 || rc=$?
if [[ -s $OUT/lintian.txt ]]; then
	sed 's/^/lintian: /' "$OUT/lintian.txt"
fi
echo "deb: lintian: $(grep -c '^E:' "$OUT/lintian.txt" || true) errors," \
	"$(grep -c '^W:' "$OUT/lintian.txt" || true) warnings," \
	"$(grep -c '^I:' "$OUT/lintian.txt" || true) info"
exit "$rc"
