#!/usr/bin/env bash
# Times the core pipeline in headless Chromium (bench.rs, release build) and prints one JSON
# object with the timings and the size of the shipped wasm (dist/, raw and gzip -9).
#   bash bench/web/run.sh            # builds dist/ first if it is missing
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh >&2
source scripts/env.sh

[[ -f dist/index.html ]] || trunk build --release >&2

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --nocapture: wasm-bindgen-test shows a passing test's console output only when asked.
if ! cargo test --release -p heartbeat-web --target wasm32-unknown-unknown --test web_bench -- --nocapture >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
bench=$(grep -o 'BENCH_JSON .*' "$log" | head -n1 | cut -d' ' -f2-)
[[ -n $bench ]] || { cat "$log" >&2; echo "no BENCH_JSON line in the output" >&2; exit 1; }

wasm=$(ls dist/*_bg.wasm)
BENCH="$bench" WASM="$wasm" RAW=$(stat -c %s "$wasm") GZ=$(gzip -9 -c "$wasm" | wc -c) node -e '
  const out = JSON.parse(process.env.BENCH);
  out.dist_wasm = { file: process.env.WASM, bytes: +process.env.RAW, gzip9_bytes: +process.env.GZ };
  console.log(JSON.stringify(out, null, 2));
'
