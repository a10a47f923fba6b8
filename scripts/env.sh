# Sourced by the other scripts: tool paths and the environment the builds expect.
# shellcheck shell=bash
HEARTBEAT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Builds are cached under target/ unless the caller chose another directory.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HEARTBEAT_ROOT/target}"
# Where scripts/setup.sh installs Trunk and wasm-bindgen-cli: inside the build cache.
export HEARTBEAT_TOOLS="$CARGO_TARGET_DIR/tools"
# wasm-opt 132 from npm must win over any other wasm-opt (Debian's 108 breaks the app).
export PATH="$HEARTBEAT_ROOT/node_modules/.bin:$HEARTBEAT_TOOLS/bin:$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
