#!/usr/bin/env bash
# Builds cellar's JupyterLab extension (extension/, styles in style/) into the prebuilt labextension
# dist/labextensions/cellar-jupyterlab/ (package.json + static/remoteEntry.*.js + schemas), with npm only:
# tsc, then @jupyter/builder against @jupyterlab/core-meta's core.package.json. Idempotent: `npm ci` in
# extension/ only when its lockfile changed since the last install, and the build only when a source, the
# lockfile or the output changed (the root build removes dist/, which triggers a rebuild).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=dist/labextensions/cellar-jupyterlab
stamp=extension/dist/.labextension-sha256

for file in style/index.css style/index.js; do
  if [ ! -f "$file" ]; then
    echo "build-extension: $file is missing (extension/package.json names it as the extension's style)" >&2
    exit 1
  fi
done

cd extension
want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat node_modules/.cellar-lock-sha256 2>/dev/null || true)
if [ ! -d node_modules ] || [ "$want" != "$have" ]; then
  echo "build-extension: installing the extension's npm dependencies (npm ci in extension/)…"
  npm ci --no-audit --no-fund
  echo "$want" > node_modules/.cellar-lock-sha256
fi
cd "$root"

# Everything the labextension is built from; untracked files count too.
sources=$(find extension/src extension/schema style -type f 2>/dev/null | LC_ALL=C sort)
hash=$(sha256sum extension/package.json extension/package-lock.json extension/tsconfig.json $sources |
  sha256sum | cut -d' ' -f1)
if [ -f "$out/package.json" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$hash" ]; then
  echo "build-extension: $out is up to date"
  exit 0
fi

echo "build-extension: building $out…"
rm -f "$stamp"
cd extension
node node_modules/typescript/bin/tsc -p tsconfig.json
node node_modules/@jupyter/builder/lib/build-labextension.js \
  --core-package-file node_modules/@jupyterlab/core-meta/core.package.json .
cd "$root"
if ! grep -q '"_build"' "$out/package.json"; then
  echo "build-extension: $out/package.json has no jupyterlab._build entry: the build did not finish" >&2
  exit 1
fi
echo "$hash" > "$stamp"
echo "build-extension: built $out"
