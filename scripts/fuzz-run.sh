#!/usr/bin/env bash
# scripts/fuzz-run.sh DIR [libFuzzer options...] - run every libFuzzer
# target DIR/fuzz_* from its seed corpus tests/fuzz/corpus/<target>/.
#
# New inputs go to a temporary directory (the committed seeds stay as they
# are), crash artifacts to DIR/../artifacts/.  Default options:
# -runs=20000 (make check's short run); e.g. -max_total_time=300 for a
# long one.  FUZZ_TIMEOUT (seconds) bounds each target: by default 600,
# or -max_total_time plus 120 when that is given.
# Prints one line per target (executions, exec/s, coverage) and fails if
# any target crashed or did not finish.
set -uo pipefail

DIR=${1:?usage: fuzz-run.sh DIR [libFuzzer options...]}
shift
OPTS=("$@")
((${#OPTS[@]})) || OPTS=(-runs=20000)
LIMIT=600
for o in "${OPTS[@]}"; do
	[[ $o =~ ^-max_total_time=([0-9]+)$ ]] && LIMIT=$((BASH_REMATCH[1] + 120))
done
LIMIT=${FUZZ_TIMEOUT:-$LIMIT}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ART=$(cd "$DIR/.." && pwd)/artifacts
mkdir -p "$ART"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ftpath-fuzz.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failed=0
n=0
for bin in "$DIR"/fuzz_*; do
	[[ -x $bin ]] || continue
	name=${bin##*/}
	seeds=$HERE/tests/fuzz/corpus/$name
	mkdir -p "$TMP/$name"
	corpus=("$TMP/$name")
	[[ -d $seeds ]] && corpus+=("$seeds")
	log=$TMP/$name.log
	rc=0
	timeout -k 5 "$LIMIT" "$bin" "${OPTS[@]}" \
		-print_final_stats=1 -artifact_prefix="$ART/$name-" \
		"${corpus[@]}" >"$log" 2>&1 || rc=$?
	n=$((n + 1))
	runs=$(awk -F: '/^stat::number_of_executed_units/ { gsub(/ /, "", $NF); print $NF }' "$log")
	eps=$(awk -F: '/^stat::average_exec_per_sec/ { gsub(/ /, "", $NF); print $NF }' "$log")
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 | awk '{ print $2 }')
	if ((rc == 0)); then
		echo "fuzz: $name: ok, ${runs:-?} executions, ${eps:-?} exec/s, cov ${cov:-?}"
	else
		failed=$((failed + 1))
		why="exit $rc"
		((rc == 124)) && why="still running after $LIMIT s, stopped"
		echo "fuzz: $name: FAILED ($why), ${runs:-?} executions, cov ${cov:-?}; artifacts in $ART" >&2
		grep -E 'ERROR|SUMMARY|runtime error|deadly signal' "$log" | head -n 8 >&2
	fi
done
((n > 0)) || { echo "fuzz: no target in $DIR (make fuzz)" >&2; exit 1; }
echo "fuzz: $((n - failed)) passed, $failed failed"
exit $((failed > 0))
