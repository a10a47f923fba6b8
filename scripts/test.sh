#!/usr/bin/env bash
# Everything CI checks, in order, stopping at the first failure:
# formatting, lints (native and wasm32), native tests, training/'s Python lint and tests (no
# PyTorch), browser tests (wasm-bindgen-test in headless Chromium), the release build and
# end-to-end tests against it. The model regression check is a native test
# (crates/cli/tests/model_regression.rs).
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
printf '<== setup: %d s\n' "$SECONDS"
source scripts/env.sh
export CI="${CI:-true}"  # quieter cargo and trunk output; tests that need data fail, not skip
export CARGO_TERM_PROGRESS_WHEN=never

# Each step prints its wall time, so a slow CI run shows where the time went.
step_name=""
step() {
  [[ -z $step_name ]] || printf '<== %s: %d s\n' "$step_name" $((SECONDS - step_start))
  step_name="$*"
  step_start=$SECONDS
  printf '\n==> %s\n' "$step_name"
}

step "cargo fmt --check"
cargo fmt --all --check

step "clippy (native, whole workspace)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "clippy (wasm32: the page, the analysis worker, their browser tests and the web bench)"
cargo clippy -p heartbeat-web -p heartbeat-worker --target wasm32-unknown-unknown --lib --bins --tests --quiet -- -D warnings
cargo clippy -p heartbeat-web --target wasm32-unknown-unknown --test web_bench --quiet -- -D warnings

step "native tests"
cargo test --workspace --quiet

step "training: lint (ruff) and tests (pytest, no PyTorch)"
python3 -m ruff check training
python3 -m pytest -q training/tests

step "browser tests (wasm-bindgen-test, headless Chromium)"
# No --quiet: cargo would pass it on to wasm-bindgen-test-runner, which rejects it.
cargo test -p heartbeat-web -p heartbeat-worker --target wasm32-unknown-unknown

step "release build (trunk build --release → dist/)"
trunk build --release

step "end-to-end tests (node --test, headless Chromium)"
node --test tests/e2e/

step "all checks passed"  # also prints the last step's time
