#!/usr/bin/env bash
# Installs what building and testing HeartBeat needs, and only what is missing, so it is cheap
# to run before every build. Versions are exact: Trunk, wasm-bindgen and binaryen must agree.
#   bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130  # must equal the `wasm-bindgen = "=…"` pin in Cargo.toml

say() { printf '[setup] %s\n' "$*"; }

# Trunk and wasm-bindgen-cli are built into target/tools, not ~/.cargo: CI caches target/, so
# the ~20 minutes of building them are paid once, not on every run. A matching version already
# on PATH (an earlier install in ~/.cargo/bin, say) is used as it is. `cargo clean` removes them.
source scripts/env.sh

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! trunk --version 2>/dev/null | grep -q "trunk $TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (takes ~8 min)"
  # Trunk's manifest builds its release with fat LTO and one codegen unit, single-threaded work
  # that buys nothing for a build tool. Cargo's defaults install it in 482 s instead of 594 s
  # (2 cores, one cold build each); the binary built this way built and passed the e2e tests.
  env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --root "$HEARTBEAT_TOOLS" trunk --version "=$TRUNK_VERSION" --locked
fi

# Trunk would download wasm-bindgen itself; the build runs offline, so it must be installed.
# No --locked: the crate's own lock file pins dependencies that no longer build.
if ! wasm-bindgen --version 2>/dev/null | grep -q "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes ~15 min)"
  env -u CARGO_TARGET_DIR cargo install --root "$HEARTBEAT_TOOLS" wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
fi

# Headless Chromium for the browser tests, the tools that turn the data set's FLAC into WAV, and
# poppler's PDF tools, which read the printed report back (tests/e2e/print.test.mjs).
missing=()
for pair in chromium:chromium chromedriver:chromium-driver sox:sox ffmpeg:ffmpeg flac:flac \
            pdftotext:poppler-utils; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  sudo_=()
  [[ $(id -u) -eq 0 ]] || sudo_=(sudo)
  "${sudo_[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_[@]}" apt-get install -y -qq "${missing[@]}"
fi

# playwright-core (drives Debian's Chromium; never `playwright install`), binaryen's wasm-opt
# (Debian's binaryen 108 breaks the app) and onnxruntime-web (bench/web's reference engine), all
# pinned in package-lock.json.
if [[ ! -x node_modules/.bin/wasm-opt || ! -d node_modules/playwright-core ||
      ! -f node_modules/onnxruntime-web/dist/ort.wasm.min.mjs ]] ||
   ! node_modules/.bin/wasm-opt --version | grep -q 'version 132'; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# training/'s tests and lint, which need no PyTorch (CI never trains): pinned, installed only when
# missing (pip contacts no index when every pin is already satisfied).
if ! python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r training/requirements-ci.txt; then
  say "could not install training/requirements-ci.txt with pip"
  exit 1
fi

say "ready"
