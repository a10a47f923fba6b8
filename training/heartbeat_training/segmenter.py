"""The heart-cycle segmenter's parameters (`models/segmenter.json`), learnt from annotated
recordings in CirCor layout.

The Rust core computes the frames (`heartbeat segment-features`), decodes the HSMM and scores it
(`heartbeat segment-eval`); this module only fits the two things the core reads:

* the emission model, P(state | frame), a small dense network (or a softmax regression with no
  hidden layer) on the core's stacked frames, with the training frames' state priors;
* the duration model: the mean and spread of S1, systole and S2 and the spread of diastole as
  linear functions of the recording's heart cycle (its median annotated S1-to-S1 interval).

numpy and scikit-learn only: no PyTorch, so CI can run the tests of this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STATES = ("S1", "systole", "S2", "diastole")


def _strs(a: np.ndarray) -> list[str]:
    return [x.decode() if isinstance(x, bytes) else str(x) for x in np.asarray(a).reshape(-1)]


@dataclass
class SegmenterDump:
    """`heartbeat segment-features` output."""

    inputs: np.ndarray  # float32 [frames, width]: each frame's stacked emission input
    states: np.ndarray  # int8 [frames]: 0..3 as STATES, -1 not annotated
    offsets: np.ndarray  # int64 [n + 1]
    records: list[str]
    patients: list[str]
    frames: dict  # the core's FrameConfig

    def rows(self, records: np.ndarray) -> np.ndarray:
        """Frame indices of the given recordings (indices into `records`)."""
        return np.concatenate([np.arange(self.offsets[i], self.offsets[i + 1]) for i in records])


def load_dump(path: str | Path) -> SegmenterDump:
    d = np.load(path)
    return SegmenterDump(inputs=d["inputs"], states=d["states"], offsets=d["offsets"],
                         records=_strs(d["records"]), patients=_strs(d["patients"]),
                         frames=json.loads(_strs(d["frames"])[0]))


def read_annotation(path: str | Path) -> list[tuple[float, float, int]]:
    """A CirCor `.tsv`: (start_s, end_s, state 1..4) per annotated row; 0 (not annotated) left out."""
    rows = []
    for line in Path(path).read_text().splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        state = int(float(fields[2]))
        if state:
            rows.append((float(fields[0]), float(fields[1]), state))
    return rows


def annotated_cycle(rows: list[tuple[float, float, int]]) -> float | None:
    """The median annotated S1-to-S1 interval (s), as the core's `annotated_rate` takes it."""
    onsets = [a for a, _, s in rows if s == 1]
    if len(onsets) < 3:
        return None
    return float(np.median(np.diff(onsets)))


def fit_durations(annotations: list[list[tuple[float, float, int]]]) -> dict:
    """The core's `Durations` from annotated recordings. Only runs with an annotated neighbour on
    both sides count: the first and last annotated runs may be cut short."""
    by_state: dict[int, list[tuple[float, float]]] = {k: [] for k in range(1, 5)}
    for rows in annotations:
        cycle = annotated_cycle(rows)
        if cycle is None:
            continue
        for i in range(1, len(rows) - 1):
            a, b, s = rows[i]
            if rows[i - 1][1] == a and rows[i + 1][0] == b:
                by_state[s].append((cycle, b - a))

    def linear(x: np.ndarray, y: np.ndarray) -> dict:
        slope, intercept = np.polyfit(x, y, 1)
        return {"intercept_s": float(intercept), "slope": float(slope)}

    def duration(s: int) -> tuple[dict, np.ndarray]:
        """The state's mean and spread, linear in the cycle; and the mean at each run's cycle.
        The spread is fitted to |residual| · sqrt(pi/2), a normal's sd from its absolute value."""
        d = np.array(by_state[s])
        mean = linear(d[:, 0], d[:, 1])
        at = mean["intercept_s"] + mean["slope"] * d[:, 0]
        return {"mean": mean, "sd": linear(d[:, 0], np.abs(d[:, 1] - at) * np.sqrt(np.pi / 2))}, at

    (s1, _), (systole, _), (s2, _) = duration(1), duration(2), duration(3)
    dia = np.array(by_state[4])
    at = lambda d, c: d["mean"]["intercept_s"] + d["mean"]["slope"] * c  # noqa: E731
    left = dia[:, 0] - at(s1, dia[:, 0]) - at(systole, dia[:, 0]) - at(s2, dia[:, 0])
    return {"s1": s1, "systole": systole, "s2": s2,
            "diastole_sd": linear(dia[:, 0], np.abs(dia[:, 1] - left) * np.sqrt(np.pi / 2))}


def fit_emission(x: np.ndarray, y: np.ndarray, hidden: int, seed: int, max_frames: int) -> dict:
    """The core's `Emission`: a softmax regression (`hidden` = 0) or one ReLU hidden layer,
    fitted on at most `max_frames` annotated frames drawn at random."""
    keep = np.flatnonzero(y >= 0)
    rng = np.random.default_rng(seed)
    if len(keep) > max_frames:
        keep = np.sort(rng.choice(keep, max_frames, replace=False))
    x, y = x[keep].astype(np.float64), y[keep].astype(int)
    priors = np.bincount(y, minlength=4) / len(y)
    if hidden:
        from sklearn.neural_network import MLPClassifier
        clf = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=1e-4, batch_size=1024,
                            learning_rate_init=2e-3, max_iter=40, early_stopping=True,
                            n_iter_no_change=4, random_state=seed).fit(x, y)
        layers = [
            {"weights": clf.coefs_[0].T.tolist(), "bias": clf.intercepts_[0].tolist(), "activation": "relu"},
            {"weights": clf.coefs_[1].T.tolist(), "bias": clf.intercepts_[1].tolist(), "activation": "softmax"},
        ]
    else:
        from sklearn.linear_model import LogisticRegression
        clf = LogisticRegression(C=1.0, max_iter=300).fit(x, y)
        layers = [{"weights": clf.coef_.tolist(), "bias": clf.intercept_.tolist(), "activation": "softmax"}]
    assert list(clf.classes_) == [0, 1, 2, 3], clf.classes_
    return {"layers": layers, "priors": priors.tolist()}


def fit(dump: SegmenterDump, records: np.ndarray, data_dir: str | Path, *, hidden: int,
        seed: int, max_frames: int, version: str, band_hz: tuple[float, float]) -> dict:
    """Parameters for the core, fitted on the given recordings (indices into `dump.records`)."""
    rows = dump.rows(records)
    annotations = [read_annotation(Path(data_dir) / f"{dump.records[i]}.tsv") for i in records]
    return {
        "name": "heartbeat-segmenter",
        "version": version,
        "band_hz": list(band_hz),
        "frames": dump.frames,
        "emission": fit_emission(dump.inputs[rows], dump.states[rows], hidden, seed, max_frames),
        "durations": fit_durations(annotations),
    }


def patient_folds(patients: list[str], k: int, seed: int) -> list[np.ndarray]:
    """k folds of recording indices, every patient's recordings in one fold."""
    ids = sorted(set(patients))
    rng = np.random.default_rng(seed)
    rng.shuffle(ids)
    fold_of = {p: i % k for i, p in enumerate(ids)}
    return [np.array([i for i, p in enumerate(patients) if fold_of[p] == f]) for f in range(k)]
