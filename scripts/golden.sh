#!/usr/bin/env bash
# scripts/golden.sh [BUILD] - rewrite the classifier's golden renderings
# (tests/unit/golden/*.txt, *.json) from its fixtures.  Review the diff
# before committing: a change there is a change of what users see.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
make --no-print-directory -s "$BUILD/tests/test_classify"
mkdir -p tests/unit/golden
FTPATH_GOLDEN_WRITE=1 "$BUILD/tests/test_classify" >/dev/null
git status --short tests/unit/golden || true
