"""Quality-aware window pooling, studied on a cross-validation run's saved window probabilities.

    PYTHONPATH=training python -m experiments.pooling_study --run target/cv-s2016 --features target/features.npz --out target/pooling-s2016

The shipped model pools a recording's windows by the mean of its most abnormal quarter. A noisy
recording's worst windows may be knocks or rubbing rather than a murmur, so this asks whether
weighting windows by how clearly a heartbeat is heard in them, or dropping the most abnormal
one, ranks and classifies recordings better. It retrains nothing: every rule pools the same
out-of-fold window probabilities (`heartbeat_training.train` saves them in `oof.npz`), and the threshold is
re-chosen per rule by the shipped rule (max pooled MAcc at sensitivity ≥ 0.90), as the card's
aggregation rows are. Each rule's result is written as a `cv_summary.json`-style file that
`experiments.results add` records.

Window quality comes from the window's own log-mel frames, the model's input, so the core could
compute it exactly as here:
* periodicity: peak normalised autocorrelation of the window's loudness envelope (mean over mel
  bands, in dB) at lags of one beat between 40 and 200 bpm;
* artefact level: how far the envelope's peak rises above its median (dB), against the
  recording's median window.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from heartbeat_training.data import aggregate, load_features
from heartbeat_training.metrics import (SCORED, binary_metrics, mean_scored_macc,
                                        screening_threshold, subset_scores)

FRACTION = 0.25  # the shipped aggregation's share of windows
ARTEFACT_DB = 6.0  # an envelope peak this many dB above the recording's usual one weighs 1/e


def window_quality(frames: np.ndarray, frame_rate: float) -> tuple[float, float]:
    """(periodicity in 0–1, envelope peak above median in dB) of one window [frames, n_mels]."""
    e = frames.mean(axis=1)
    e = e - e.mean()
    ac = np.correlate(e, e, "full")[len(e) - 1:]
    ac = ac / (ac[0] + 1e-9)
    lo, hi = int(frame_rate * 60 / 200), int(frame_rate * 60 / 40)
    return float(ac[lo:hi + 1].max()), float(e.max() - np.median(e))


def weighted_top(p: np.ndarray, w: np.ndarray) -> float:
    """Weighted mean of the most abnormal windows that hold `FRACTION` of the total weight (the
    shipped top-k mean when all weights are equal and k · n is whole)."""
    order = np.argsort(-p, kind="stable")
    p, w = p[order], w[order]
    keep = np.cumsum(w) - w < FRACTION * w.sum()
    return float((p[keep] * w[keep]).sum() / w[keep].sum())


def shipped(p: np.ndarray) -> float:
    return aggregate(p, {"kind": "top_k_mean", "fraction": FRACTION})


# (name, description, pooling of one recording's window probabilities given their quality); the
# name is the summary's file name and, as snake case, its aggregation kind
RULES = [
    ("shipped", "top 25 % (shipped)", lambda p, per, spike: shipped(p)),
    ("periodicity-weighted", "periodicity-weighted top 25 %",
     lambda p, per, spike: weighted_top(p, np.clip(per, 0.01, 1.0))),
    ("artefact-weighted", "artefact-down-weighted top 25 %",
     lambda p, per, spike: weighted_top(p, np.exp(-np.maximum(spike - np.median(spike), 0.0) / ARTEFACT_DB))),
    ("top-k-without-max", "top 25 % without the most abnormal window",
     lambda p, per, spike: shipped(np.sort(p)[:-1]) if len(p) > 2 else shipped(p)),
]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True, help="heartbeat_training.train output with oof.npz and cv_summary.json")
    ap.add_argument("--features", type=Path, required=True, help="the feature dump the run trained on")
    ap.add_argument("--out", type=Path, required=True, help="folder for one summary JSON per rule")
    ap.add_argument("--label", default=None, help="the run's description in the rows' names")
    args = ap.parse_args(argv)

    z = np.load(args.run / "oof.npz")
    if "window_p" not in z.files:
        sys.exit(f"{args.run / 'oof.npz'} has no window probabilities: rerun the training, which saves them")
    run = json.loads((args.run / "cv_summary.json").read_text())
    dump = load_features(args.features)
    cfg = dump.config
    frame_rate = cfg["sample_rate"] / cfg["hop_length"]
    row = {r: i for i, r in enumerate(dump.records)}
    records, y, subs = [str(r) for r in z["records"]], z["labels"], z["subsets"]
    wp, owner, start = z["window_p"], z["window_owner"], z["window_start"]

    # The trainer stores windows record by record, so each record's windows are one run of `owner`.
    groups = np.split(np.arange(len(wp)), np.flatnonzero(np.diff(owner)) + 1)
    quality = np.zeros((len(wp), 2))
    for rec, g in zip(records, groups):
        frames = dump.frames(row[rec])
        for w in g:
            quality[w] = window_quality(frames[start[w]:start[w] + dump.window], frame_rate)

    args.out.mkdir(parents=True, exist_ok=True)
    label = args.label or run["name"]
    for slug, rule, pool in RULES:
        p = np.asarray([pool(wp[g], *quality[g].T) for g in groups])
        thr = screening_threshold(y, p, 0.90)
        per = subset_scores(y, p, subs, thr)
        pooled = binary_metrics(y, p, thr)
        mean_sub = mean_scored_macc(per)
        print(f"{rule:42s} mean subset MAcc {mean_sub:.4f} pooled MAcc {pooled['macc']:.4f} "
              f"AUC {pooled['auc']:.4f} Se {pooled['sensitivity']:.3f} | a b e f MAcc "
              + " ".join(f"{per[s]['macc']:.3f}" for s in SCORED)
              + " | AUC " + " ".join(f"{per[s]['auc']:.3f}" for s in SCORED))
        if slug == "shipped":
            reference = f"{100 * mean_sub:.1f} % / {100 * pooled['macc']:.1f} % / {100 * pooled['auc']:.1f} %"
            continue  # the run's own row already reports the shipped pooling
        summary = {
            "name": f"{label}; windows pooled by {rule}",
            "mean_subset_macc": round(mean_sub, 5), "pooled_macc": round(pooled["macc"], 5),
            "pooled_auc": round(pooled["auc"], 5), "epoch": run["epoch"],
            "aggregation": {"kind": slug.replace("-", "_"), "fraction": FRACTION},
            "threshold": round(thr, 5),
            "per_subset_macc": {s: round(m["macc"], 5) for s, m in per.items()},
            "per_subset_auc": {s: round(m["auc"], 5) for s, m in per.items()},
            "note": (f"same CV window probabilities as that run (pooled by the shipped top 25 %: {reference}), "
                     f"threshold re-chosen; experiments/pooling_study.py"),
        }
        (args.out / f"{slug}.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
