"""The views' ensemble: runs of `heartbeat_training.train` on different feature views of the same
recordings become one shippable run.

    python -m heartbeat_training.ensemble --runs target/run-features target/run-features-800 \
        --out target/heartbeat-training --label "…"

The runs share the split (`--fold-seed`) and the window grid (the core's views share one STFT),
so for every window of every recording they hold probabilities from CNNs that never saw that
recording; their mean is what the model made of all those CNNs outputs in that cross-validation.
As in `train`, the aggregation is chosen among the shipped candidates on the mean per-subset
MAcc and the threshold by the shipped rule (max pooled MAcc at sensitivity ≥ 0.90); each run keeps
its own selected epoch.

OUT gets every view's `final_model.pt` (one checkpoint per view), a `results.json` whose metrics
are the ensemble's (for `heartbeat_training.export --run OUT`), the ensemble's row
(`cv_summary.json`) and its `features.json`: the first run's configuration with the others as
`extra_views`, so the core computes every view and stacks their bands in the model's input, in the
order of `--runs` (dump it with `heartbeat features --config OUT/features.json`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .metrics import aggregation_grid, shipped_report

# What must agree between views for their frames to line up window by window.
SHARED = ("sample_rate", "n_fft", "win_length", "hop_length", "normalization", "window_frames", "window_hop_frames")
# What a view may change: `View` in crates/core/src/config.rs.
VIEW_KEYS = ("band_low_hz", "band_high_hz", "n_mels", "fmin", "fmax", "filter_bank")


def same_windows(z, first, pair: str) -> np.ndarray:
    """`z`'s window probabilities, which must be on `first`'s windows."""
    if not all(np.array_equal(z[k], first[k]) for k in ("window_owner", "window_start")):
        sys.exit(f"{pair} differ in their windows: not views of one STFT")
    return z["window_p"]


def mean_window_p(runs: list[Path], align=same_windows) -> tuple[np.lib.npyio.NpzFile, np.ndarray]:
    """The first run's `oof.npz` and the mean of every run's out-of-fold window probabilities on
    its windows (`align(z, first, pair)` gives a run's on the first's)."""
    oofs = [np.load(r / "oof.npz") for r in runs]
    first = oofs[0]
    wps = [first["window_p"]]
    for r, z in zip(runs[1:], oofs[1:]):
        # Same recordings in the same order, same folds: else the mean mixes windows that do
        # not belong together, or a CNN that trained on the recording it scores.
        for key in ("records", "fold"):
            if not np.array_equal(z[key], first[key]):
                sys.exit(f"{r} and {runs[0]} differ in {key}: not the same split")
        wps.append(align(z, first, f"{r} and {runs[0]}"))
    return first, np.mean(wps, axis=0)


def ensemble_grid(first, wp: np.ndarray) -> list[dict]:
    """`metrics.aggregation_grid` of the window probabilities `wp` on `first`'s recordings."""
    owner = first["window_owner"]
    groups = np.split(np.arange(len(wp)), np.flatnonzero(np.diff(owner)) + 1)
    return aggregation_grid([wp[g] for g in groups], first["labels"], first["subsets"], 0.90)


def ensemble_scores(runs: list[Path], align=same_windows) -> tuple[np.lib.npyio.NpzFile, list[dict], dict]:
    """The first run's `oof.npz`, the aggregation grid and its best entry (the ensemble's)."""
    first, wp = mean_window_p(runs, align)
    grid = ensemble_grid(first, wp)
    return first, grid, max(grid, key=lambda g: g["mean_subset_macc"])


def summary_row(runs: list[Path], label: str, best: dict, note: str) -> dict:
    """The ensemble's row, as `train` writes a run's `cv_summary.json`."""
    summaries = [json.loads((r / "cv_summary.json").read_text()) for r in runs]
    pooled, per = best["pooled"], best["per_subset"]
    return {
        "name": f"ensemble: {label} (their window probabilities averaged)",
        "mean_subset_macc": round(best["mean_subset_macc"], 5), "pooled_macc": round(pooled["macc"], 5),
        "pooled_auc": round(pooled["auc"], 5), "epoch": [s["epoch"] for s in summaries],
        "aggregation": best["aggregation"], "threshold": round(best["threshold"], 5),
        "per_subset_macc": {s: round(m["macc"], 5) for s, m in per.items()},
        "per_subset_auc": {s: round(m["auc"], 5) for s, m in per.items()},
        "note": (f"sensitivity {pooled['sensitivity']:.3f}; {note}: "
                 + "; ".join(f"{s['mean_subset_macc']:.3f} / {s['pooled_macc']:.3f} / {s['pooled_auc']:.3f} alone"
                             for s in summaries)),
    }


def print_row(row: dict, best: dict) -> None:
    pooled, per = best["pooled"], best["per_subset"]
    print(f"{row['name']}\n  mean subset MAcc {best['mean_subset_macc']:.4f} pooled MAcc {pooled['macc']:.4f} "
          f"AUC {pooled['auc']:.4f} Se {pooled['sensitivity']:.3f} aggregation {best['aggregation']} | a b e f MAcc "
          + " ".join(f"{per[s]['macc']:.3f}" for s in ("training-a", "training-b", "training-e", "training-f")))


def ship(runs: list[Path], out: Path, summary: dict, first, grid: list[dict], best: dict) -> None:
    """Writes `out/final_model.pt` (every run's final CNNs, as views), `out/results.json` and
    `out/features.json`."""
    import torch

    results = [json.loads((r / "results.json").read_text()) for r in runs]
    base = results[0]["features"]
    extra = []
    for r, res in zip(runs[1:], results[1:]):
        f = res["features"]
        if any(f[k] != base[k] for k in SHARED) or f.get("extra_views"):
            sys.exit(f"{r}'s features differ from {runs[0]}'s in more than the band and bank: "
                     f"views must share {', '.join(SHARED)}")
        # As the core writes a view: the mel bank is the default and goes unnamed, so the
        # card's configuration reads back from `heartbeat features` unchanged.
        extra.append({k: f[k] for k in VIEW_KEYS if k in f and f[k] != "mel"})
    features = {**base, "extra_views": extra}
    ckpts = [torch.load(r / "final_model.pt", map_location="cpu", weights_only=True) for r in runs]
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"views": ckpts}, out / "final_model.pt")

    thr = best["threshold"]
    report = shipped_report(first["labels"], first["subsets"], first["fold"], best["p"], thr)
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
                 + [{"name": f"aggregation {json.dumps(g['aggregation'])} (the ensemble)",
                     "mean_subset_macc": round(g["mean_subset_macc"], 5), "pooled_macc": round(g["pooled"]["macc"], 5),
                     "pooled_auc": round(g["pooled"]["auc"], 5), "note": "same CV predictions, threshold re-chosen"}
                    for g in grid],
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
    (out / "cv_summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    # For `heartbeat features --config`: the dump of all views stacked, as the model reads them.
    (out / "features.json").write_text(json.dumps(features, indent=1) + "\n")
    print(f"wrote {out / 'final_model.pt'} ({n_cnns} CNNs), {out / 'results.json'} and {out / 'features.json'}")


def parse_runs(argv, prog: str, doc: str, out_help: str) -> argparse.Namespace:
    """--runs (two or more), --out and --label, for this module and the studies of ensembles."""
    ap = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=Path, nargs="+", required=True,
                    help="train output folders (oof.npz, cv_summary.json, …), all on the same split")
    ap.add_argument("--out", type=Path, required=True, help=out_help)
    ap.add_argument("--label", required=True, help="what the ensemble is, for its row's name")
    args = ap.parse_args(argv)
    if len(args.runs) < 2:
        ap.error("an ensemble needs at least two runs")
    return args


def main(argv=None) -> None:
    args = parse_runs(argv, "python -m heartbeat_training.ensemble", __doc__, "the shippable run's folder")
    first, grid, best = ensemble_scores(args.runs)
    summary = summary_row(args.runs, args.label, best,
                          "the runs' cross-validation window probabilities, no retraining (heartbeat_training.ensemble)")
    ship(args.runs, args.out, summary, first, grid, best)
    print_row(summary, best)


if __name__ == "__main__":
    main()
