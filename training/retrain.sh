#!/usr/bin/env bash
# Regenerates the shipped model from the shared data, end to end: features of both views (the
# Rust core), 5-fold CV and final CNNs per view, their ensemble, export, parity fixtures and the
# card's regression slice. ~35 min on 2 cores. `bash training/retrain.sh --help` for the options.
# Usage (from anywhere): bash training/retrain.sh [DATA_DIR] [options]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/training${PYTHONPATH:+:$PYTHONPATH}"
exec python -m heartbeat_training.retrain "$@"
