#!/usr/bin/env bash
# Regenerates the shipped model from the shared data, end to end:
#   1. features, computed by the Rust core (the only feature implementation) with the
#      configuration in training/features.json (the new model's card will carry it);
#   2. 5-fold cross-validated training + the final models on all records (CPU, ~18 min on 2 cores);
#   3. export: models/heartbeat.onnx, models/heartbeat.card.json, models/MODEL_CARD.md and the
#      parity fixtures tests/fixtures/parity/{input,expected}.json;
#   4. the card's regression slice (`heartbeat evaluate` on every 10th record, which CI re-runs).
# Usage (from anywhere): bash training/retrain.sh [DATA_DIR]   (extra train.py flags via TRAIN_ARGS)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data/physionet2016}"
FEATURES=target/features.npz
RUN=target/heartbeat-training
mkdir -p target
cargo run --release -p heartbeat-cli -- features "$DATA" --out "$FEATURES" --config training/features.json
python training/train.py --features "$FEATURES" --out "$RUN" ${TRAIN_ARGS:-}
python training/export.py --run "$RUN" --features "$FEATURES"
python training/record_regression.py --data "$DATA"
