"""Pins the shipped model's behaviour on a fixed slice of the development data.

    python -m heartbeat_training.regression [--data ../shared/data/physionet2016]

Why: training scores windows in Python, but users get scores from the Rust core. This runs the
real CLI (`heartbeat evaluate`, rebuilt so it bundles the new model) on a fixed, documented slice
and stores the result in the model card. CI re-runs the same evaluation
(crates/cli/tests/model_regression.rs) and fails if the numbers move by more than the stated
tolerance: a drift between the features the model was trained on and the ones the app computes,
or a broken model file, cannot land silently.

The slice is every 10th record of each subset's REFERENCE.csv (in file order), so it covers
every site and both labels. It is part of the training data: these numbers check consistency,
they are not an estimate of accuracy (the card's cross-validated metrics are).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .card import write_card_json
from .datasets import physionet
from .features import REPO, build_cli, evaluate

CARD = REPO / "models" / "heartbeat.card.json"
STRIDE = 10
TOLERANCE = 0.02


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m heartbeat_training.regression", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "physionet2016")
    args = ap.parse_args(argv)
    records = physionet(args.data, every=STRIDE)
    evaluation = json.loads(evaluate(records, build_cli()))
    card = json.loads(CARD.read_text())
    card["regression"] = {
        "about": "heartbeat evaluate on every 10th record of each subset (training data: a consistency check, not an accuracy estimate)",
        "records": [f"{r.subset}/{r.record}" for r in records],
        "tolerance": TOLERANCE,
        "overall": evaluation["overall"],
    }
    write_card_json(card, CARD)
    o = evaluation["overall"]
    print(f"regression slice: n={o['n']} MAcc={o['macc']:.3f} AUC={o['auc']:.3f} -> {CARD}")


if __name__ == "__main__":
    main()
