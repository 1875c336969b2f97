#!/usr/bin/env bash
# The main job: installs what it needs, builds cellar, then trains the course's ElasticNet on seeded
# synthetic driver data on the embedded store (./.cellar), logs the run, registers the model and prints
# the metrics and the run id. Idempotent: running it again adds one more run and model version.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent build
node bin/cellar.cjs init . >/dev/null
node bin/cellar.cjs --store . demo "$@"
