#!/usr/bin/env bash
# The main job: installs what it needs, builds cellar and the JupyterLab extension (no-ops when nothing
# changed), then runs the course's whole workflow on the embedded store (./.cellar) with `cellar demo`:
# data, features, point-in-time training set, tracked training, registry, pipeline export and one run, online
# store, serving, monitoring. Idempotent: a second run reuses the data, definitions and pipeline version.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent build
node bin/cellar.cjs init . >/dev/null
node bin/cellar.cjs --store . demo "$@"
