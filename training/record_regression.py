"""Pin the shipped model's behaviour on a fixed slice of the development data.

Why: training scores windows in Python, but users get scores from the Rust core. This script
runs the real CLI (`heartbeat evaluate`) on a fixed, documented slice and stores the result in
the model card. CI re-runs the same evaluation (crates/cli/tests/model_regression.rs) and fails
if the numbers move by more than the stated tolerance: a drift between the features the model
was trained on and the ones the app computes, or a broken model file, cannot land silently.

The slice is every 10th record of each subset's REFERENCE.csv (in file order), so it covers
every site and both labels. It is part of the training data: these numbers check consistency,
they are not an estimate of accuracy (the card's cross-validated metrics are).

Usage: python training/record_regression.py [--data ../shared/data/physionet2016]
"""

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

from heartbeat_training.card import write_card_json  # noqa: E402

CARD = ROOT / "models" / "heartbeat.card.json"
STRIDE = 10
TOLERANCE = 0.02


def slice_records(data: Path) -> list[tuple[str, str, str]]:
    """(subset, record, label) for every STRIDE-th row of each REFERENCE.csv."""
    out = []
    for ref in sorted(data.glob("*/REFERENCE.csv")):
        rows = list(csv.reader(ref.open()))
        out += [(ref.parent.name, r[0], r[1]) for r in rows[::STRIDE] if r]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "physionet2016")
    args = ap.parse_args()
    records = slice_records(args.data)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "heartbeat-cli"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        for subset, record, label in records:
            d = Path(tmp) / subset
            d.mkdir(exist_ok=True)
            (d / f"{record}.flac").symlink_to((args.data / subset / f"{record}.flac").resolve())
            with (d / "REFERENCE.csv").open("a") as f:
                f.write(f"{record},{label}\n")
        result = subprocess.run(
            [str(ROOT / "target" / "release" / "heartbeat"), "evaluate", tmp],
            check=True, capture_output=True, text=True,
        )
    evaluation = json.loads(result.stdout)
    card = json.loads(CARD.read_text())
    card["regression"] = {
        "about": "heartbeat evaluate on every 10th record of each subset (training data: a consistency check, not an accuracy estimate)",
        "records": [f"{s}/{r}" for s, r, _ in records],
        "tolerance": TOLERANCE,
        "overall": evaluation["overall"],
    }
    write_card_json(card, CARD)
    o = evaluation["overall"]
    print(f"regression slice: n={o['n']} MAcc={o['macc']:.3f} AUC={o['auc']:.3f} -> {CARD}")


if __name__ == "__main__":
    main()
