#!/usr/bin/env bash
# The whole test suite: installs what it needs (apt packages for Jupyter/tslab, Chromium, sklearn, …; npm
# dependencies), builds, then lint, typecheck and every jest test (TZ=UTC). Ends with one summary line
# "jest: N passed, N failed[, N skipped]". Extra arguments go to jest (e.g. a test path).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system.sh
bash scripts/ensure-deps.sh
npm run --silent build
bash scripts/build-extension.sh
bash scripts/build-e2e-app.sh
echo "== lint"; npm run --silent lint
echo "== typecheck"; npm run --silent typecheck
echo "== jest"
report=$(mktemp)
status=0
TZ=UTC NODE_OPTIONS=--no-warnings npx jest --ci --json --outputFile="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (r.numFailedTestSuites > 0 && r.numFailedTests === 0) console.log(`(${r.numFailedTestSuites} test file(s) failed to run)`);
' "$report" || true
rm -f "$report"
exit "$status"
