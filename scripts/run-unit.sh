#!/usr/bin/env bash
# Run every cmocka suite given, report totals, fail if any suite fails.
set -uo pipefail
failed=0
for t in "$@"; do
	if ! "$t"; then
		echo "unit: FAILED: $t" >&2
		failed=$((failed + 1))
	fi
done
echo "unit: $(($# - failed)) passed, $failed failed"
exit $((failed > 0))
