"""Ensembles of cross-validation runs, studied on their saved window probabilities.

    python training/ensemble_study.py --runs target/cv-s2016 target/cv800-s2016 --out target/ens-s2016.json \
        --label "2 × 1D CNN on 32 log-mel bands 25–400 Hz + 2 × 1D CNN on 48 bands 25–800 Hz, seeds 2016, 3016"

Runs made with the same split (`--fold-seed`) and windows of the same seconds (`window_frames`
and `window_hop_frames` times the frame hop; runs on different hops are matched window by window)
hold, for every window of every recording, probabilities from CNNs that never saw that
recording. Their mean is what a model made of all those CNNs would output in that
cross-validation, so an ensemble of runs trained on different views of the recording (other bands,
another filter bank) is scored without retraining. As in `train.py`, the aggregation is chosen
among the shipped candidates on the mean per-subset MAcc and the threshold by the shipped rule
(max pooled MAcc at sensitivity ≥ 0.90); each run contributes its own selected epoch. The result
is one `cv_summary.json`-style row that `export.py --update-card --tried …` lists in the card.

With `--ship DIR`, runs trained on different feature views (each a full `train.py` run, with its
`final_model.pt` and `results.json`) become one shippable model: DIR gets the `final_model.pt` of
every view, a `results.json` whose metrics are this ensemble's, for `export.py --run DIR`, and
the ensemble's `features.json` (for the parity fixtures' `heartbeat features` dump).
Its feature configuration is the first run's with the others as `extra_views`, so the core
computes every view and stacks their bands in the model's input, in the order of `--runs`.
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
                                        shipped_report, subset_scores)
from train import AGGREGATIONS  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=Path, nargs="+", required=True,
                    help="train.py output folders (oof.npz, cv_summary.json), all on the same split")
    ap.add_argument("--out", type=Path, required=True, help="the row's JSON file")
    ap.add_argument("--label", required=True, help="what the ensemble is, for the row's name")
    ap.add_argument("--ship", type=Path, default=None,
                    help="also write the ensemble as a shippable run (final_model.pt, results.json) here")
    args = ap.parse_args(argv)
    if len(args.runs) < 2:
        ap.error("an ensemble needs at least two runs")

    first, wp = mean_window_p(args.runs)
    y, subs = first["labels"], first["subsets"]
    grid = aggregation_grid(first, wp)
    mean_sub, agg, thr, per, pooled, p = max(grid, key=lambda g: g[0])
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
    if args.ship:
        ship(args.runs, args.ship, summary, shipped_report(y, subs, first["fold"], p, thr), grid, thr)
    print(f"{summary['name']}\n  mean subset MAcc {mean_sub:.4f} pooled MAcc {pooled['macc']:.4f} "
          f"AUC {pooled['auc']:.4f} Se {pooled['sensitivity']:.3f} aggregation {agg} | a b e f MAcc "
          + " ".join(f"{per[s]['macc']:.3f}" for s in ("training-a", "training-b", "training-e", "training-f")))


def mean_window_p(runs: list[Path]) -> tuple[np.lib.npyio.NpzFile, np.ndarray]:
    """The first run's `oof.npz` and the mean of every run's out-of-fold window probabilities on
    its windows."""
    oofs = [np.load(r / "oof.npz") for r in runs]
    first = oofs[0]
    wps = [first["window_p"]]
    for r, z in zip(runs[1:], oofs[1:]):
        # Same recordings in the same order, same folds: else the mean mixes windows that do
        # not belong together, or a CNN that trained on the recording it scores.
        for key in ("records", "fold"):
            if not np.array_equal(z[key], first[key]):
                sys.exit(f"{r} and {runs[0]} differ in {key}: not the same split")
        wps.append(aligned_windows(z, first, f"{r} and {runs[0]}"))
    return first, np.mean(wps, axis=0)


def aggregation_grid(first, wp: np.ndarray) -> list[tuple]:
    """(mean subset MAcc, aggregation, threshold, per-subset and pooled metrics, recording
    probabilities) of each shipped aggregation of the window probabilities `wp`, its threshold
    chosen by the shipped rule."""
    y, subs, owner = first["labels"], first["subsets"], first["window_owner"]
    groups = np.split(np.arange(len(wp)), np.flatnonzero(np.diff(owner)) + 1)
    grid = []
    for agg in AGGREGATIONS:
        p = np.asarray([aggregate(wp[g], agg) for g in groups])
        thr = screening_threshold(y, p, 0.90)
        per = subset_scores(y, p, subs, thr)
        grid.append((mean_scored_macc(per), agg, thr, per, binary_metrics(y, p, thr), p))
    return grid


def ensemble_scores(runs: list[Path]) -> tuple[np.lib.npyio.NpzFile, np.ndarray, dict]:
    """The first run's `oof.npz`, the ensemble's out-of-fold recording probabilities and their
    aggregation, chosen as `main` chooses it (for other studies of the same ensemble)."""
    first, wp = mean_window_p(runs)
    _, agg, _, _, _, p = max(aggregation_grid(first, wp), key=lambda g: g[0])
    return first, p, agg


def aligned_windows(z, first, pair: str) -> np.ndarray:
    """`z`'s window probabilities on `first`'s windows. Runs on the same frame grid have the same
    windows. A run on another frame hop (its `frame_seconds`) covers the same seconds of each
    recording, except the end-aligned last window, which may start up to a frame earlier or
    later: each window is matched to the one of its recording that starts nearest in time."""
    if all(np.array_equal(z[k], first[k]) for k in ("window_owner", "window_start")):
        return z["window_p"]
    if "frame_seconds" not in z or "frame_seconds" not in first:
        sys.exit(f"{pair} differ in their windows and do not both say their frame hop: rerun train.py")
    at, at_first = z["window_start"] * z["frame_seconds"], first["window_start"] * first["frame_seconds"]
    out = np.empty(len(at_first))
    for j in np.unique(first["window_owner"]):
        mine, theirs = np.flatnonzero(first["window_owner"] == j), np.flatnonzero(z["window_owner"] == j)
        nearest = np.abs(at_first[mine, None] - at[None, theirs]).argmin(axis=1)
        gap = np.abs(at_first[mine] - at[theirs[nearest]]).max()
        if gap > max(z["frame_seconds"], first["frame_seconds"]) + 1e-9:
            sys.exit(f"{pair}: windows of record {first['records'][j]} start {gap:.3f} s apart: not the same window grid")
        out[mine] = z["window_p"][theirs[nearest]]
    return out


# What must agree between views for their frames to line up window by window.
SHARED = ("sample_rate", "n_fft", "win_length", "hop_length", "normalization", "window_frames", "window_hop_frames")
# What a view may change: `View` in crates/core/src/config.rs.
VIEW_KEYS = ("band_low_hz", "band_high_hz", "n_mels", "fmin", "fmax", "filter_bank")


def ship(runs: list[Path], out: Path, summary: dict, report: dict, grid: list, thr: float) -> None:
    """Writes `out/final_model.pt` (every run's final CNNs, as views) and `out/results.json`."""
    import torch

    results = [json.loads((r / "results.json").read_text()) for r in runs]
    first = results[0]["features"]
    extra = []
    for r, res in zip(runs[1:], results[1:]):
        f = res["features"]
        if any(f[k] != first[k] for k in SHARED) or f.get("extra_views"):
            sys.exit(f"{r}'s features differ from {runs[0]}'s in more than the band and bank: "
                     f"views must share {', '.join(SHARED)}")
        # As the core writes a view: the mel bank is the default and goes unnamed, so the
        # card's configuration reads back from `heartbeat features` unchanged.
        extra.append({k: f[k] for k in VIEW_KEYS if k in f and f[k] != "mel"})
    features = {**first, "extra_views": extra}
    ckpts = [torch.load(r / "final_model.pt", map_location="cpu", weights_only=True) for r in runs]
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"views": ckpts}, out / "final_model.pt")

    training = dict(results[0]["training"])
    n_cnns = sum(len(c["state_dicts"]) for c in ckpts)
    training.update({
        "shipped": (f"{n_cnns} CNNs, {len(runs)} views × {len(ckpts[0]['state_dicts'])} seeds: each view's CNNs trained "
                    f"on all records for that view's CV-chosen epoch count; every CNN's window probability "
                    f"averaged, as in cross-validation"),
        "epochs": [res["training"]["epochs"] for res in results],
        "selection": ("each view's epoch count by its own run's mean over a, b, e, f of out-of-fold MAcc; then "
                      "the ensemble's aggregation by the same mean"),
        "tried": [summary] + [t for res in results for t in res["training"]["tried"][:1]]
                 + [{"name": f"aggregation {json.dumps(agg)} (the ensemble)", "mean_subset_macc": round(m, 5),
                     "pooled_macc": round(pooled["macc"], 5), "pooled_auc": round(pooled["auc"], 5),
                     "note": "same CV predictions, threshold re-chosen"} for m, agg, _, _, pooled, _ in grid],
        "wall_seconds": sum(res["training"]["wall_seconds"] for res in results),
    })
    history = [{**h, "view": v} for v, res in enumerate(results) for h in res["history"]]
    doc = {
        "features": features,
        "threshold": round(float(thr), 6),
        "aggregation": summary["aggregation"],
        "training": training,
        "metrics": report["metrics"],
        "roc": report["roc"],
        "confusion": report["confusion"],
        "history": history,
        "weaknesses": report["weaknesses"],
    }
    (out / "results.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    # For `heartbeat features --config`: the dump of all views stacked, as the model reads them.
    (out / "features.json").write_text(json.dumps(features, indent=1) + "\n")
    print(f"wrote {out / 'final_model.pt'} ({n_cnns} CNNs), {out / 'results.json'} and {out / 'features.json'}")


if __name__ == "__main__":
    main()
