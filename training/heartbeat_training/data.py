"""Loading the Rust core's feature dump (`heartbeat features DIR --out FILE.npz`) and cutting
windows exactly as the core does (crates/core/src/windows.rs)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .card import input_bands


def _strs(a: np.ndarray) -> list[str]:
    return [x.decode() if isinstance(x, bytes) else str(x) for x in np.asarray(a).reshape(-1)]


@dataclass
class FeatureDump:
    features: np.ndarray  # float32 [total_frames, n_mels]
    offsets: np.ndarray  # int64 [n+1]
    labels: np.ndarray  # int8 [n], 1 abnormal
    records: list[str]
    subsets: list[str]
    config: dict
    # "record: reason" for each recording the core refused when dumping (too short, silent, ...)
    refused: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.records)

    def frames(self, i: int) -> np.ndarray:
        return self.features[self.offsets[i]:self.offsets[i + 1]]

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def n_mels(self) -> int:
        """Rows per frame: the bands of every view (`extra_views` stack below the first's)."""
        return input_bands(self.config)

    @property
    def window(self) -> int:
        return int(self.config["window_frames"])

    @property
    def hop(self) -> int:
        return int(self.config["window_hop_frames"])


def load_features(path: str | Path) -> FeatureDump:
    try:
        z = np.load(path, allow_pickle=False)
        cfg_raw = z["config"]
    except ValueError:  # object arrays: fall back (the file is ours, produced by the Rust CLI)
        z = np.load(path, allow_pickle=True)
        cfg_raw = z["config"]
    config = json.loads(_strs(cfg_raw)[0])
    d = FeatureDump(
        features=np.ascontiguousarray(z["features"], dtype=np.float32),
        offsets=np.asarray(z["offsets"], dtype=np.int64),
        labels=np.asarray(z["labels"]).astype(np.int64),
        records=_strs(z["records"]),
        subsets=[s if s.startswith("training-") else f"training-{s}" for s in _strs(z["subsets"])],
        config=config,
        refused=_strs(z["refused"]) if "refused" in z.files else [],
    )
    n = len(d.records)
    if d.offsets.shape != (n + 1,) or d.labels.shape != (n,) or len(d.subsets) != n:
        raise ValueError(f"inconsistent npz: {n} records, offsets {d.offsets.shape}, labels {d.labels.shape}")
    if d.features.ndim != 2 or d.features.shape[1] != d.n_mels or d.offsets[-1] != d.features.shape[0]:
        raise ValueError(f"features {d.features.shape} do not match n_mels {d.n_mels} / offsets")
    if not set(np.unique(d.labels)) <= {0, 1}:
        raise ValueError("labels must be 0/1")
    return d


def window_starts(n_frames: int, window: int, hop: int) -> list[int]:
    """Same as the Rust core's `windows::starts`: a regular stride plus one window aligned to
    the end; empty when the recording is shorter than one window."""
    if n_frames < window or window == 0 or hop == 0:
        return []
    s = list(range(0, n_frames - window + 1, hop))
    if s[-1] + window < n_frames:
        s.append(n_frames - window)
    return s


def windows_of(frames: np.ndarray, window: int, hop: int) -> np.ndarray:
    """All of a recording's evaluation windows as [n, 1, n_mels, window]."""
    starts = window_starts(len(frames), window, hop)
    return np.stack([frames[s:s + window].T for s in starts])[:, None].astype(np.float32)


def aggregate(p: np.ndarray, agg: dict) -> float:
    """The card's aggregation, computed as the Rust core's `Aggregation::combine` does
    (k = ceil(f32(fraction) * f32(n)) clamped to 1..=n)."""
    p = np.asarray(p, dtype=np.float32)
    if agg["kind"] == "mean":
        return float(p.mean())
    if agg["kind"] == "top_k_mean":
        f = np.float32(min(max(agg["fraction"], 0.0), 1.0))
        k = int(math.ceil(float(np.float32(f * np.float32(len(p))))))
        k = min(max(k, 1), len(p))
        return float(np.sort(p)[::-1][:k].mean())
    raise ValueError(f"unknown aggregation {agg}")


def make_synthetic(path: str | Path, n_per_group: int = 12, seed: int = 0) -> None:
    """A small npz with the Rust dump's layout, for developing before the real one exists.
    Abnormal records carry a faint periodic high-band burst so there is something to learn."""
    from .card import DEFAULT_FEATURES

    rng = np.random.default_rng(seed)
    cfg = dict(DEFAULT_FEATURES)
    feats, offsets, labels, records, subsets = [], [0], [], [], []
    for sub in "abcdef":
        for lab in (0, 1):
            for j in range(n_per_group):
                t = int(rng.integers(200, 1500))
                x = rng.standard_normal((t, cfg["n_mels"])).astype(np.float32)
                if lab:
                    period = int(rng.integers(30, 60))
                    x[::period, 16:] += 1.5
                feats.append(x)
                offsets.append(offsets[-1] + t)
                labels.append(lab)
                records.append(f"{sub}{len(records):04d}")
                subsets.append(f"training-{sub}")
    np.savez(
        path,
        features=np.concatenate(feats),
        offsets=np.asarray(offsets, dtype=np.int64),
        labels=np.asarray(labels, dtype=np.int8),
        records=np.asarray(records),
        subsets=np.asarray(subsets),
        config=np.asarray([json.dumps(cfg)]),
    )
