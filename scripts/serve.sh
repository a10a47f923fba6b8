#!/usr/bin/env bash
# Builds the app and serves it at http://127.0.0.1:8080 (rebuilds on change).
#   bash scripts/serve.sh            # release build, as shipped
#   bash scripts/serve.sh --dev      # debug build: faster to compile, much slower to analyse
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
release=(--release)
[[ ${1:-} == --dev ]] && release=()
echo "[serve] http://127.0.0.1:8080/"
exec trunk serve "${release[@]}" --address 127.0.0.1 --port 8080
