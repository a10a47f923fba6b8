#!/usr/bin/env bash
# Regenerates the shipped model from the shared data, end to end:
#   1. features of each view, computed by the Rust core (the only feature implementation):
#      training/features.json (32 log-mel bands 25–400 Hz) and training/features-800.json
#      (48 log-mel bands 25–800 Hz), both on 128 ms STFT windows (one STFT in the app);
#   2. per view, 5-fold cross-validated training + the final models on all records (CPU; the two
#      views train side by side, one thread each, ~35 min on 2 cores);
#   3. the ensemble of both views, scored on the runs' out-of-fold window probabilities
#      (its aggregation and threshold chosen there) and written as one run;
#   4. export (int8 weights): models/heartbeat.onnx, models/heartbeat.card.json,
#      models/MODEL_CARD.md and the parity fixtures tests/fixtures/parity/{input,expected}.json
#      (from the ensemble's stacked features), then the card's regression slice
#      (`heartbeat evaluate` on every 10th record, which CI re-runs).
# Usage (from anywhere): bash training/retrain.sh [DATA_DIR]   (extra train.py flags via TRAIN_ARGS)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data/physionet2016}"
SHIP=target/heartbeat-training
mkdir -p target
cargo build --release -p heartbeat-cli
for view in features features-800; do
  ./target/release/heartbeat features "$DATA" --out "target/$view.npz" --config "training/$view.json"
done
python training/train.py --features target/features.npz --out target/run-features --threads 1 ${TRAIN_ARGS:-} &
first=$!
python training/train.py --features target/features-800.npz --out target/run-features-800 --threads 1 ${TRAIN_ARGS:-} &
wait "$first"
wait $!
python training/ensemble_study.py --runs target/run-features target/run-features-800 \
  --out target/ensemble-row.json --ship "$SHIP" \
  --label "2 × 1D CNN on 32 log-mel bands 25–400 Hz + 2 × 1D CNN on 48 log-mel bands 25–800 Hz (band-pass to 800 Hz), 128 ms STFT windows, each pair from seeds 2016, 3016"
./target/release/heartbeat features "$DATA" --out target/features-views.npz --config "$SHIP/features.json"
python training/export.py --run "$SHIP" --features target/features-views.npz --int8
python training/record_regression.py --data "$DATA"   # rebuilds the CLI, which bundles the new model
