"""Recording-level screening metrics."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from .data import aggregate

# The subsets large enough to score alone; the card's headline is the mean of their MAcc.
SCORED = ("training-a", "training-b", "training-e", "training-f")
# The ways of pooling a recording's windows that selection chooses among (the core's `Aggregation`).
AGGREGATIONS = [{"kind": "mean"}, {"kind": "top_k_mean", "fraction": 0.5}, {"kind": "top_k_mean", "fraction": 0.25}]


def binary_metrics(y: np.ndarray, p: np.ndarray, thr: float) -> dict:
    y = np.asarray(y).astype(int)
    pred = (np.asarray(p) >= thr).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    se = tp / (tp + fn) if tp + fn else float("nan")
    sp = tn / (tn + fp) if tn + fp else float("nan")
    macc = (se + sp) / 2 if tp + fn and tn + fp else float("nan")
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")
    return {"n": int(len(y)), "sensitivity": se, "specificity": sp, "macc": macc, "auc": auc,
            "accuracy": (tp + tn) / max(len(y), 1), "tp": tp, "fn": fn, "fp": fp, "tn": tn}


def screening_threshold(y: np.ndarray, p: np.ndarray, min_se: float = 0.90) -> float:
    """The threshold maximising MAcc subject to sensitivity ≥ min_se (ties: the higher
    threshold). Candidates are midpoints between consecutive distinct probabilities."""
    y = np.asarray(y).astype(int)
    u = np.unique(np.asarray(p, dtype=np.float64))
    cands = np.concatenate([[0.0], (u[:-1] + u[1:]) / 2, [u[-1] + 1e-6]]) if len(u) > 1 else np.array([0.5])
    best, best_thr = -1.0, 0.5
    for t in cands:
        pred = p >= t
        se = (pred & (y == 1)).sum() / max((y == 1).sum(), 1)
        sp = (~pred & (y == 0)).sum() / max((y == 0).sum(), 1)
        if se >= min_se and (se + sp) / 2 >= best:
            best, best_thr = (se + sp) / 2, float(t)
    return best_thr


def roc_points(y: np.ndarray, p: np.ndarray, max_points: int = 120) -> list[dict]:
    fpr, tpr, thr = roc_curve(y, p, drop_intermediate=True)
    idx = np.unique(np.linspace(0, len(fpr) - 1, min(max_points, len(fpr))).round().astype(int))
    return [{"fpr": round(float(fpr[i]), 5), "tpr": round(float(tpr[i]), 5),
             "threshold": round(float(min(thr[i], 1.0)), 6)} for i in idx]


def mean_std(values) -> dict:
    v = np.asarray([x for x in values if x == x], dtype=float)
    if len(v) == 0:
        return {"mean": None, "std": None}
    return {"mean": round(float(v.mean()), 5), "std": round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 5)}


def subset_scores(y: np.ndarray, p: np.ndarray, subs: np.ndarray, thr: float) -> dict:
    """`binary_metrics` of each subset at one (pooled) threshold."""
    return {s: binary_metrics(y[subs == s], p[subs == s], thr) for s in np.unique(subs)}


def mean_scored_macc(per: dict) -> float:
    """Mean MAcc over the `SCORED` subsets present in `per` (NaN-safe)."""
    v = [per[s]["macc"] for s in SCORED if s in per and per[s]["macc"] == per[s]["macc"]]
    return float(np.mean(v)) if v else float("nan")


def aggregation_grid(windows: list[np.ndarray], y: np.ndarray, subs: np.ndarray, min_se: float) -> list[dict]:
    """Each of `AGGREGATIONS` scored on out-of-fold window probabilities (`windows[i]`: recording
    i's), its threshold chosen by the shipped rule (max pooled MAcc at sensitivity ≥ `min_se`):
    the aggregation, threshold, mean of the scored subsets' MAcc, per-subset and pooled metrics
    and the recording probabilities `p`, in the order of `AGGREGATIONS`."""
    grid = []
    for agg in AGGREGATIONS:
        p = np.asarray([aggregate(w, agg) for w in windows])
        thr = screening_threshold(y, p, min_se)
        per = subset_scores(y, p, subs, thr)
        grid.append({"aggregation": agg, "threshold": thr, "mean_subset_macc": mean_scored_macc(per),
                     "per_subset": per, "pooled": binary_metrics(y, p, thr), "p": p})
    return grid


def r5(x):
    return None if x is None or x != x else round(float(x), 5)


def shipped_report(y: np.ndarray, subs: np.ndarray, fold_of: np.ndarray, p: np.ndarray, thr: float) -> dict:
    """The card's `metrics`, `roc`, `confusion` and `weaknesses` for out-of-fold recording
    probabilities `p` at the shipped threshold: one function for a single run (`train.py`) and
    an ensemble of runs (`ensemble_study.py --ship`), so both cards say the same things alike."""
    keys = ("sensitivity", "specificity", "macc", "auc", "accuracy")
    folds = int(fold_of.max()) + 1
    folds_pooled, folds_sub = [], {s: [] for s in sorted(set(subs))}
    for k in range(folds):
        m = fold_of == k
        folds_pooled.append(binary_metrics(y[m], p[m], thr))
        for s in folds_sub:
            folds_sub[s].append(binary_metrics(y[m & (subs == s)], p[m & (subs == s)], thr))
    oof_pooled = binary_metrics(y, p, thr)
    oof_sub = subset_scores(y, p, subs, thr)

    def summary(fold_list, pooled):
        d = {key: mean_std([f[key] for f in fold_list]) for key in keys}
        d["n"] = pooled["n"]
        d["out_of_fold"] = {key: r5(pooled[key]) for key in keys}
        return d

    metrics = {
        "description": (f"{folds}-fold record-wise cross-validation stratified by subset × label; "
                        f"mean ± std over folds at the shipped threshold; out_of_fold = all folds' "
                        f"validation predictions pooled."),
        "pooled": summary(folds_pooled, oof_pooled),
        "per_subset": {s: summary(folds_sub[s], oof_sub[s]) for s in folds_sub},
        "mean_subset_macc": r5(mean_scored_macc(oof_sub)),
        "mean_subset_macc_subsets": list(SCORED),
        "fold_mean_subset_macc": mean_std([mean_scored_macc({s: folds_sub[s][k] for s in folds_sub})
                                           for k in range(folds)]),
    }
    weaknesses = []
    for s in sorted(oof_sub):
        o = oof_sub[s]
        weaknesses.append(f"{s}: out-of-fold sensitivity {o['sensitivity']:.2f}, specificity {o['specificity']:.2f}, "
                          f"MAcc {o['macc']:.2f} (n = {o['n']})"
                          + (" — below the 0.80 target" if s in SCORED and o["macc"] < 0.80 else "")
                          + (" — too small to score reliably" if s not in SCORED else ""))
    return {"metrics": metrics, "roc": roc_points(y, p), "confusion": {k: oof_pooled[k] for k in ("tp", "fn", "fp", "tn")},
            "weaknesses": weaknesses, "pooled": oof_pooled, "per_subset": oof_sub}
