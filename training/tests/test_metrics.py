"""The training metrics against reference implementations written out longhand."""

import itertools

import numpy as np
import pytest
from heartbeat_training.metrics import binary_metrics, mean_scored_macc, screening_threshold


def reference_auc(y, p):
    """The chance a random abnormal recording scores above a random normal one, ties half."""
    pos = [pi for yi, pi in zip(y, p, strict=True) if yi == 1]
    neg = [pi for yi, pi in zip(y, p, strict=True) if yi == 0]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


@pytest.fixture
def scored():
    rng = np.random.default_rng(7)
    y = (rng.random(300) < 0.35).astype(int)
    p = np.round(np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1), 2)  # rounded: many ties
    return y, p


def test_binary_metrics_match_their_definitions(scored):
    y, p = scored
    m = binary_metrics(y, p, 0.5)
    pred = p >= 0.5
    se = (pred & (y == 1)).sum() / (y == 1).sum()
    sp = (~pred & (y == 0)).sum() / (y == 0).sum()
    assert m["sensitivity"] == pytest.approx(se)
    assert m["specificity"] == pytest.approx(sp)
    assert m["macc"] == pytest.approx((se + sp) / 2)
    assert m["accuracy"] == pytest.approx((pred == (y == 1)).mean())
    assert m["auc"] == pytest.approx(reference_auc(y, p))
    assert m["tp"] + m["fn"] + m["fp"] + m["tn"] == len(y)


def test_one_class_has_no_auc_or_macc():
    m = binary_metrics(np.zeros(5, int), np.linspace(0, 1, 5), 0.5)
    assert np.isnan(m["auc"]) and np.isnan(m["macc"]) and np.isnan(m["sensitivity"])


def test_the_screening_threshold_is_the_best_macc_with_enough_sensitivity(scored):
    y, p = scored
    thr = screening_threshold(y, p, min_se=0.9)
    chosen = binary_metrics(y, p, thr)
    assert chosen["sensitivity"] >= 0.9
    # No threshold anywhere does better under the same constraint (brute force on a fine grid
    # and every probability, which covers every distinct decision).
    for t in np.concatenate([np.linspace(0, 1.01, 1011), np.unique(p)]):
        m = binary_metrics(y, p, t)
        if m["sensitivity"] >= 0.9:
            assert m["macc"] <= chosen["macc"] + 1e-12, t


def test_the_headline_is_the_mean_over_the_scored_subsets():
    per = {"training-a": {"macc": 0.8}, "training-b": {"macc": 0.6}, "training-c": {"macc": 0.1},
           "training-e": {"macc": 0.9}, "training-f": {"macc": 0.7}}
    assert mean_scored_macc(per) == pytest.approx((0.8 + 0.6 + 0.9 + 0.7) / 4)


def test_the_aggregation_grid_scores_each_candidate_by_the_shipped_rule(scored):
    from heartbeat_training.data import aggregate
    from heartbeat_training.metrics import AGGREGATIONS, aggregation_grid

    y, p = scored
    rng = np.random.default_rng(3)
    windows = [np.clip(pi + rng.normal(0, 0.1, 4), 0, 1) for pi in p]
    subs = np.asarray(["training-a", "training-e"] * (len(y) // 2))
    grid = aggregation_grid(windows, y, subs, 0.9)
    assert [g["aggregation"] for g in grid] == AGGREGATIONS
    for g in grid:
        np.testing.assert_array_equal(g["p"], [aggregate(w, g["aggregation"]) for w in windows])
        assert g["threshold"] == screening_threshold(y, g["p"], 0.9)
        assert g["mean_subset_macc"] == mean_scored_macc(g["per_subset"])
