"""Regenerates the shipped model from the shared data, end to end (`bash training/retrain.sh`):

  1. the features of each view, computed by the Rust core (the only feature implementation):
     training/features.json (32 log-mel bands 25–400 Hz) and training/features-800.json (48
     log-mel bands 25–800 Hz), both on 128 ms STFT windows (one STFT in the app);
  2. per view, 5-fold cross-validated training and the final CNNs on all records (CPU; the two
     views train side by side, one thread each: ~35 min on 2 cores);
  3. the views' ensemble, scored on the runs' out-of-fold window probabilities (its aggregation
     and threshold chosen there) and written as one run;
  4. export (int8 weights): models/heartbeat.onnx, models/heartbeat.card.json, models/MODEL_CARD.md
     and the parity fixtures tests/fixtures/parity/{input,expected}.json (from the ensemble's
     stacked features), then the card's regression slice (`heartbeat evaluate` on every 10th
     record, which CI re-runs).

The recipe's numbers are `heartbeat_training.train`'s defaults; the options below shorten a run
(to check the pipeline, e.g. `--epochs 2 --samples-per-epoch 256 --eval-from 1 --eval-every 1`) or
write the model elsewhere (then the regression slice, which scores the bundled model, is skipped).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from . import ensemble, export, regression
from .features import REPO, build_cli, dump

# (name, feature configuration) of each view, in the order of the model's input rows.
VIEWS = (("features", REPO / "training" / "features.json"), ("features-800", REPO / "training" / "features-800.json"))
LABEL = ("2 × 1D CNN on 32 log-mel bands 25–400 Hz + 2 × 1D CNN on 48 log-mel bands 25–800 Hz (band-pass to "
         "800 Hz), 128 ms STFT windows, each pair from seeds 2016, 3016")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="bash training/retrain.sh", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, nargs="?", default=REPO.parent / "shared" / "data" / "physionet2016",
                    help="PhysioNet 2016 in its own layout (default: %(default)s)")
    ap.add_argument("--work", type=Path, default=REPO / "target",
                    help="feature dumps and runs (default: %(default)s): WORK/run-VIEW, WORK/heartbeat-training")
    ap.add_argument("--models", type=Path, default=export.MODELS, help="where the model and its card go")
    ap.add_argument("--parity", type=Path, default=export.PARITY_DIR, help="where the parity fixtures go")
    for flag in ("--epochs", "--samples-per-epoch", "--eval-from", "--eval-every"):
        ap.add_argument(flag, type=int, help="passed to each view's training (default: the recipe's)")
    args = ap.parse_args(argv)
    work = args.work
    short = [x for flag in ("epochs", "samples_per_epoch", "eval_from", "eval_every")
             if (v := getattr(args, flag)) is not None for x in (f"--{flag.replace('_', '-')}", str(v))]

    cli = build_cli()
    for name, config in VIEWS:
        dump(args.data, work / f"{name}.npz", config, cli)
    # One thread per view: two runs on two cores, each reproducible bit for bit.
    runs = [subprocess.Popen([sys.executable, "-m", "heartbeat_training.train", "--features", str(work / f"{name}.npz"),
                              "--out", str(work / f"run-{name}"), "--threads", "1", *short]) for name, _ in VIEWS]
    if any(p.wait() for p in runs):
        sys.exit("training a view failed")
    ship = work / "heartbeat-training"
    ensemble.main(["--runs", *(str(work / f"run-{name}") for name, _ in VIEWS), "--out", str(ship), "--label", LABEL])
    dump(args.data, work / "features-views.npz", ship / "features.json", cli)
    export.main(["--run", str(ship), "--features", str(work / "features-views.npz"), "--int8",
                 "--models", str(args.models), "--parity", str(args.parity)])
    if args.models.resolve() == export.MODELS.resolve():
        regression.main(["--data", str(args.data)])  # rebuilds the CLI, which bundles the new model


if __name__ == "__main__":
    main()
