#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (Jupyter for headless notebook runs, chromium for
# browser tests, peers for benchmarks). Idempotent: a second run only checks with dpkg and exits.
# Run as root on Debian 12 (CI runs it from .ci/run). Extend SYSTEM_PACKAGES below.
set -euo pipefail

SYSTEM_PACKAGES=(
  python3-jupyter-server
  python3-jupyterlab-server
  python3-nbclient
  jupyter-nbconvert
  python3-ipykernel
  jupyter-client
  jupyter-core
  python3-nbformat
  chromium
  python3-sklearn
  python3-pandas
  postgresql
  redis-server
  wrk
  prometheus
  python3-fastapi
  python3-uvicorn
  python3-scipy
)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  # dpkg -s succeeds for removed-but-configured packages too, so check the status line.
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-system: all ${#SYSTEM_PACKAGES[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system: missing packages: ${missing[*]}" >&2
  echo "install-system: run this script as root (e.g. sudo bash scripts/install-system.sh)" >&2
  exit 1
fi

echo "install-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-system: done"
