"""Ensembles of cross-validation runs, studied on their saved window probabilities.

    PYTHONPATH=training python -m experiments.ensemble_study --runs target/cv-s2016 target/cv800-s2016 \
        --out target/ens-s2016.json --label "2 × 1D CNN on 32 log-mel bands 25–400 Hz + 2 × 1D CNN on 48 …"

Scores the mean of the runs' out-of-fold window probabilities as `heartbeat_training.ensemble`
does for the shipped views (aggregation and threshold chosen alike), without shipping anything,
and writes the ensemble's row (for `experiments.results add`). Unlike the shipped ensemble, the
runs may be on different frame hops (`hop_length`) with windows of the same seconds: each window is
matched to the one of its recording that starts nearest in time (`oof.npz` records each run's
`frame_seconds`). Such an ensemble is a study only: the core's views share one STFT, so one hop.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from heartbeat_training.ensemble import ensemble_scores, parse_runs, print_row, summary_row


def nearest_windows(z, first, pair: str) -> np.ndarray:
    """`z`'s window probabilities on `first`'s windows. Runs on the same frame grid have the same
    windows. A run on another frame hop covers the same seconds of each recording, except the
    end-aligned last window, which may start up to a frame earlier or later."""
    if all(np.array_equal(z[k], first[k]) for k in ("window_owner", "window_start")):
        return z["window_p"]
    if "frame_seconds" not in z or "frame_seconds" not in first:
        sys.exit(f"{pair} differ in their windows and do not both say their frame hop: rerun the training")
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


def main(argv=None) -> None:
    args = parse_runs(argv, "python -m experiments.ensemble_study", __doc__, "the row's JSON file")
    _, _, best = ensemble_scores(args.runs, nearest_windows)
    row = summary_row(args.runs, args.label, best,
                      "the runs' cross-validation window probabilities, no retraining (experiments/ensemble_study.py)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(row, indent=1, ensure_ascii=False) + "\n")
    print_row(row, best)


if __name__ == "__main__":
    main()
