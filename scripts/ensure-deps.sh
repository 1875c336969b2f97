#!/usr/bin/env bash
# Installs the npm dependencies with `npm ci` when package-lock.json changed since the last install in this
# checkout (idempotent: a second run with an unchanged lockfile does nothing), then makes sure polars' native
# binary is there (npm skips it on Node 20: see scripts/ensure-polars-binary.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat node_modules/.cellar-lock-sha256 2>/dev/null || true)
if [ ! -d node_modules ] || [ "$want" != "$have" ]; then
  echo "cellar: installing npm dependencies (npm ci; better-sqlite3 compiles from source, a few minutes)…"
  npm ci --no-audit --no-fund
  echo "$want" > node_modules/.cellar-lock-sha256
fi
node scripts/ensure-polars-binary.mjs
