#!/usr/bin/env bash
# Browser benchmark; prints one JSON object on stdout, logs on stderr (README: "Browser benchmark").
#   bash bench/web/run.sh               # everything; builds dist/ first if it is missing
#   bash bench/web/run.sh --model-only  # tract vs onnxruntime-web only (no dist/ needed)
#   bash bench/web/run.sh --app-only    # the built app's timings and sizes only (no cargo)
# Parts:
#   core_pipeline  bench.rs `bench_core_pipeline`: each pipeline stage, wasm-bindgen-test in
#                  headless Chromium (cargo --release)
#   model          bench.rs `bench_model_tract` + ort.mjs: the model alone on tract and on
#                  onnxruntime-web, same tensor (a 30 s recording's windows); the outputs must agree (1e-4)
#   model_profile  bench.rs `bench_model_profile`: tract with a symbolic vs a fixed batch, and
#                  the time of each operator of the plan
#   app            app.mjs: the built app (HEARTBEAT_DIST, default dist/) served under a sub-path
# Exits 1, after printing the JSON, when the engines disagree or the app breaks its DOM contract.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=all
case "${1:-}" in
  "") ;;
  --model-only) mode=model ;;
  --app-only) mode=app ;;
  *) echo "usage: bash bench/web/run.sh [--model-only | --app-only]" >&2; exit 2 ;;
esac

bash scripts/setup.sh >&2
target_dir=${CARGO_TARGET_DIR:-}
source scripts/env.sh
# A caller's shared build cache wins over env.sh's default.
[[ -z $target_dir ]] || export CARGO_TARGET_DIR=$target_dir

if [[ $mode != model && -z ${HEARTBEAT_DIST:-} && ! -f dist/index.html ]]; then
  trunk build --release >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=()
if [[ $mode != app ]]; then
  filter=()
  [[ $mode == model ]] && filter=(bench_model_)
  echo "[bench] cargo test --release --test web_bench (wasm32, headless Chromium)" >&2
  # --nocapture: wasm-bindgen-test shows a passing test's console output only when asked.
  if ! cargo test --offline --release -p heartbeat-web --target wasm32-unknown-unknown --test web_bench \
      -- --nocapture "${filter[@]}" >"$tmp/cargo.log" 2>&1; then
    cat "$tmp/cargo.log" >&2
    exit 1
  fi
  extract() {
    grep -o "$1 .*" "$tmp/cargo.log" | head -n1 | cut -d' ' -f2- >"$2"
    [[ -s $2 ]] || { cat "$tmp/cargo.log" >&2; echo "no $1 line in the output" >&2; exit 1; }
  }
  extract BENCH_MODEL_JSON "$tmp/tract.json"
  args+=(--tract "$tmp/tract.json")
  extract BENCH_PROFILE_JSON "$tmp/profile.json"
  args+=(--profile "$tmp/profile.json")
  if [[ $mode == all ]]; then
    extract BENCH_JSON "$tmp/core.json"
    args+=(--core "$tmp/core.json")
  fi
fi
[[ $mode == model ]] || args+=(--app)
node bench/web/browser.mjs "${args[@]}"
