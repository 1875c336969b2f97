#!/usr/bin/env bash
# Builds the test-only JupyterLab frontend of the browser tests (tests/e2e/app: JupyterLab's core packages
# pinned to one release, bundled with rspack) into tests/e2e/app/build/. Idempotent: `npm ci` there only when
# its lockfile changed since the last install, and the build only when a source or the lockfile changed.
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e/app"

want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat node_modules/.cellar-lock-sha256 2>/dev/null || true)
if [ ! -d node_modules ] || [ "$want" != "$have" ]; then
  echo "build-e2e-app: installing the test JupyterLab's npm dependencies (npm ci in tests/e2e/app/)…"
  npm ci --no-audit --no-fund
  echo "$want" > node_modules/.cellar-lock-sha256
fi

stamp=build/.build-sha256
hash=$(sha256sum package.json package-lock.json build.js rspack.config.js $(find src -type f | LC_ALL=C sort) |
  sha256sum | cut -d' ' -f1)
if [ -f build/templates/index.html ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$hash" ]; then
  echo "build-e2e-app: tests/e2e/app/build is up to date"
  exit 0
fi
echo "build-e2e-app: building the test JupyterLab frontend…"
rm -f "$stamp"
node build.js
echo "$hash" > "$stamp"
