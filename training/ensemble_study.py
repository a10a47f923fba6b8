"""Ensembles of cross-validation runs, studied on their saved window probabilities.

    python training/ensemble_study.py --runs target/cv-s2016 target/cv800-s2016 --out target/ens-s2016.json \
        --label "2 × 1D CNN on 32 log-mel bands 25–400 Hz + 2 × 1D CNN on 48 bands 25–800 Hz, seeds 2016, 3016"

Runs made with the same split (`--fold-seed`) and window grid (`window_frames`,
`window_hop_frames`) hold, for every window of every recording, probabilities from CNNs that never
saw that recording. Their mean is what a model made of all those CNNs would output in that
cross-validation, so an ensemble of runs trained on different views of the recording (other bands,
another filter bank) is scored without retraining. As in `train.py`, the aggregation is chosen
among the shipped candidates on the mean per-subset MAcc and the threshold by the shipped rule
(max pooled MAcc at sensitivity ≥ 0.90); each run contributes its own selected epoch. The result
is one `cv_summary.json`-style row that `export.py --update-card --tried …` lists in the card.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from heartbeat_training.data import aggregate  # noqa: E402
from heartbeat_training.metrics import (binary_metrics, mean_scored_macc, screening_threshold,  # noqa: E402
                                        subset_scores)
from train import AGGREGATIONS  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=Path, nargs="+", required=True,
                    help="train.py output folders (oof.npz, cv_summary.json), all on the same split")
    ap.add_argument("--out", type=Path, required=True, help="the row's JSON file")
    ap.add_argument("--label", required=True, help="what the ensemble is, for the row's name")
    args = ap.parse_args(argv)
    if len(args.runs) < 2:
        ap.error("an ensemble needs at least two runs")

    oofs = [np.load(r / "oof.npz") for r in args.runs]
    first = oofs[0]
    for r, z in zip(args.runs[1:], oofs[1:]):
        # Same recordings in the same order, same windows, same folds: else the mean mixes
        # windows that do not belong together, or a CNN that trained on the recording it scores.
        for key in ("records", "fold", "window_owner", "window_start"):
            if not np.array_equal(z[key], first[key]):
                sys.exit(f"{r} and {args.runs[0]} differ in {key}: not the same split and window grid")
    wp = np.mean([z["window_p"] for z in oofs], axis=0)
    y, subs, owner = first["labels"], first["subsets"], first["window_owner"]
    groups = np.split(np.arange(len(wp)), np.flatnonzero(np.diff(owner)) + 1)

    grid = []
    for agg in AGGREGATIONS:
        p = np.asarray([aggregate(wp[g], agg) for g in groups])
        thr = screening_threshold(y, p, 0.90)
        per = subset_scores(y, p, subs, thr)
        grid.append((mean_scored_macc(per), agg, thr, per, binary_metrics(y, p, thr)))
    mean_sub, agg, thr, per, pooled = max(grid, key=lambda g: g[0])
    runs = [json.loads((r / "cv_summary.json").read_text()) for r in args.runs]
    summary = {
        "name": f"ensemble: {args.label} (their window probabilities averaged)",
        "mean_subset_macc": round(mean_sub, 5), "pooled_macc": round(pooled["macc"], 5),
        "pooled_auc": round(pooled["auc"], 5), "epoch": [r["epoch"] for r in runs],
        "aggregation": agg, "threshold": round(thr, 5),
        "per_subset_macc": {s: round(m["macc"], 5) for s, m in per.items()},
        "per_subset_auc": {s: round(m["auc"], 5) for s, m in per.items()},
        "note": (f"sensitivity {pooled['sensitivity']:.3f}; the runs' cross-validation window probabilities, "
                 f"no retraining (training/ensemble_study.py): "
                 + "; ".join(f"{r['mean_subset_macc']:.3f} / {r['pooled_macc']:.3f} / {r['pooled_auc']:.3f} alone"
                             for r in runs)),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    print(f"{summary['name']}\n  mean subset MAcc {mean_sub:.4f} pooled MAcc {pooled['macc']:.4f} "
          f"AUC {pooled['auc']:.4f} Se {pooled['sensitivity']:.3f} aggregation {agg} | a b e f MAcc "
          + " ".join(f"{per[s]['macc']:.3f}" for s in ("training-a", "training-b", "training-e", "training-f")))


if __name__ == "__main__":
    main()
